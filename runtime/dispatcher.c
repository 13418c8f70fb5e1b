/*
 * dispatcher.c - the loop that decides which kernel runs next: its inbox,
 * its turns, the thread or manual-mode caller that runs them, and its stats.
 *
 * Each turn: take the jobs submitted since the last turn; poll every job's
 * oldest op in flight for progress and completion; then launch while the
 * window has room.  What to launch, and what the polls teach, is
 * dispatch-decisions.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch-decisions.h"
#include "dispatcher.h"
#include "job.h"
#include "list.h"
#include "log.h"
#include "model.h"
#include "policy.h"
#include "runtime-state.h"
#include "util.h"

/* Set while this thread runs the dispatcher (its thread, or a manual-mode
 * caller inside paella_runtime_run_until() and the like): callbacks run
 * then, and must not wait for the dispatcher. */
static __thread bool running_here;

bool
paella__dispatcher_on_this_thread(void)
{
	return running_here;
}

/* ---- the inbox --------------------------------------------------------------- */

static bool
inbox_has_jobs(struct paella__dispatcher_inbox *in)
{
	return __atomic_load_n(&in->has_jobs, __ATOMIC_ACQUIRE) != 0;
}

/* Moves the submitted jobs to @into; whether there were any. */
static bool
take_incoming(struct paella__dispatcher_inbox *in, struct paella__list *into)
{
	paella__list_init(into);
	/* The spinning dispatcher checks without the lock first. */
	if (!inbox_has_jobs(in))
		return false;
	pthread_mutex_lock(&in->lock);
	paella__list_splice(into, &in->jobs);
	__atomic_store_n(&in->has_jobs, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&in->lock);
	return !paella__list_empty(into);
}

enum paella_status
paella__dispatcher_submit(struct paella__dispatcher *d, struct paella_job *job)
{
	struct paella__dispatcher_inbox *in = &d->inbox;

	pthread_mutex_lock(&in->lock);
	if (!in->accepting) {
		pthread_mutex_unlock(&in->lock);
		return paella__error_set(PAELLA_STATUS_SHUT_DOWN,
			"the runtime is shutting down: no job is accepted after "
			"paella_runtime_shutdown() or paella_runtime_destroy()");
	}
	job->times.submitted_ns = d->bops->now_ns(d->b);
	job->sched.seq = in->next_seq++;
	job->sched.deadline_ns = job->sched.deadline_ns != 0
					 ? job->times.submitted_ns + job->sched.deadline_ns
					 : UINT64_MAX;
	__atomic_add_fetch(&job->model->jobs_live, 1, __ATOMIC_ACQ_REL);
	paella__list_append(&in->jobs, &job->link);
	__atomic_store_n(&in->has_jobs, 1, __ATOMIC_RELEASE);
	if (in->sleeping)
		pthread_cond_signal(&in->wake);
	pthread_mutex_unlock(&in->lock);
	return PAELLA_STATUS_OK;
}

bool
paella__dispatcher_accepting(struct paella__dispatcher *d)
{
	bool accepting;

	pthread_mutex_lock(&d->inbox.lock);
	accepting = d->inbox.accepting;
	pthread_mutex_unlock(&d->inbox.lock);
	return accepting;
}

void
paella__dispatcher_stop(struct paella__dispatcher *d)
{
	pthread_mutex_lock(&d->inbox.lock);
	d->inbox.accepting = false;
	d->inbox.stopping = true;
	pthread_cond_signal(&d->inbox.wake);
	pthread_mutex_unlock(&d->inbox.lock);
}

void
paella__dispatcher_set_extra_poll(struct paella__dispatcher *d,
				  bool (*poll)(struct paella_runtime *rt))
{
	d->extra_poll = poll;
}

/* Returns whether ops are in flight after the turn. */
static bool
turn(struct paella__dispatcher *d)
{
	struct paella__list incoming, *node, *tmp;
	uint64_t now = d->bops->now_ns(d->b);
	double load = 0.0;

	PAELLA__STAT_ADD(d, dispatcher_iterations, 1);
	if (take_incoming(&d->inbox, &incoming)) {
		PAELLA__LIST_FOREACH_SAFE(node, tmp, &incoming) {
			struct paella_job *job = PAELLA__CONTAINER_OF(node, struct paella_job, link);

			paella__list_unlink(node);
			paella__dispatch_admit(d, job, now);
		}
	}
	PAELLA__LIST_FOREACH_SAFE(node, tmp, &d->running)
		load += paella__dispatch_poll(d, PAELLA__CONTAINER_OF(node, struct paella_job,
								       running_link), now);
	d->load = load;
	paella__dispatch_refresh_estimates(d);
	paella__dispatch_launch_while_room(d, now);
	/* With nothing in flight every candidate had room: a job left now
	 * would wait forever. */
	if (d->ops_in_flight == 0 && d->jobs_live != 0)
		PAELLA__BUG("%llu jobs live with nothing in flight",
			    (unsigned long long)d->jobs_live);
	return d->ops_in_flight > 0;
}

/* ---- running it ----------------------------------------------------------- */

/*
 * Turns timed for dispatcher_busy_ns: one in TURN_SAMPLE, chosen at random,
 * scaled up.  Two clock reads cost about what an idle turn does, so timing
 * every one would distort what it measures; a fixed stride would alias with
 * the simulator's periodic events.
 */
#define TURN_SAMPLE 8u

static bool
timed_turn(struct paella__dispatcher *d)
{
	uint64_t t0;
	bool in_flight;

	d->sample_rng ^= d->sample_rng << 13;
	d->sample_rng ^= d->sample_rng >> 7;
	d->sample_rng ^= d->sample_rng << 17;
	if (d->sample_rng % TURN_SAMPLE != 0)
		return turn(d);
	t0 = paella__monotonic_ns();
	in_flight = turn(d);
	PAELLA__STAT_ADD(d, dispatcher_busy_ns, TURN_SAMPLE * (paella__monotonic_ns() - t0));
	return in_flight;
}

/*
 * The dispatcher thread.
 *
 * Lock ordering: there is none to get wrong, because no code path holds
 * two locks at once.  This thread owns, without a lock, every job once
 * taken from the incoming list (its ops, stream, buffer set, policy
 * entry), the models' free buffer sets and parked lists, the policy and
 * the backend's launch state.  It takes the inbox's lock only to take
 * incoming jobs and to sleep; a job's lock only to wake its waiters, with
 * no other lock held; the backend's locks (the notify pool's) are leaves.
 * Callbacks run with no lock held, so they may submit.
 */
void *
paella__dispatcher_thread(void *dispatcher)
{
	struct paella__dispatcher *d = dispatcher;
	struct paella__dispatcher_inbox *in = &d->inbox;
	enum paella_status st = d->bops->bind_thread(d->b);

	if (st != PAELLA_STATUS_OK)
		PAELLA__BUG("the dispatcher thread cannot use the GPU: %s", paella__error_last());
	running_here = true;
	for (;;) {
		bool stop;

		if (timed_turn(d)) {
			d->bops->advance(d->b, UINT64_MAX);
			continue;
		}
		pthread_mutex_lock(&in->lock);
		while (!__atomic_load_n(&in->has_jobs, __ATOMIC_RELAXED) && !in->stopping) {
			in->sleeping = true;
			pthread_cond_wait(&in->wake, &in->lock);
			in->sleeping = false;
		}
		stop = in->stopping && !__atomic_load_n(&in->has_jobs, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&in->lock);
		if (stop)
			break;
	}
	return NULL;
}

static enum paella_status
run_loop(struct paella__dispatcher *d, uint64_t until_ns, struct paella_job *job,
	 bool until_idle)
{
	for (;;) {
		bool in_flight = timed_turn(d);

		/* Manual mode drives direct jobs too (direct.c). */
		if (d->extra_poll != NULL && d->extra_poll(d->rt))
			in_flight = true;
		if (job != NULL && __atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
			return PAELLA_STATUS_OK;
		if (!in_flight && until_idle && !inbox_has_jobs(&d->inbox))
			return PAELLA_STATUS_OK;
		if (d->bops->now_ns(d->b) >= until_ns)
			return job != NULL ? PAELLA_STATUS_TIMEOUT : PAELLA_STATUS_OK;
		if (!in_flight && inbox_has_jobs(&d->inbox))
			continue;
		if (!in_flight && job != NULL)
			PAELLA__BUG("waiting for a job that is neither done nor in flight");
		d->bops->advance(d->b, until_ns);
	}
}

enum paella_status
paella__dispatcher_run(struct paella__dispatcher *d, uint64_t until_ns,
		       struct paella_job *job, bool until_idle)
{
	enum paella_status st = d->bops->bind_thread(d->b);

	if (st != PAELLA_STATUS_OK)
		return st;
	running_here = true;
	st = run_loop(d, until_ns, job, until_idle);
	running_here = false;
	return st;
}

/* ---- setup ----------------------------------------------------------------- */

enum paella_status
paella__dispatcher_create(struct paella_runtime *rt, struct paella__dispatcher **out)
{
	struct paella__policy_params pp = { rt->config.fair_threshold_ns,
					    rt->config.fair_deficit_threshold };
	struct paella__dispatcher *d;
	enum paella_status st;

	*out = NULL;
	PAELLA__NEW_OR_RETURN(d, "dispatcher: out of memory");
	d->rt = rt;
	pthread_mutex_init(&d->inbox.lock, NULL);
	pthread_cond_init(&d->inbox.wake, NULL);
	paella__list_init(&d->inbox.jobs);
	d->inbox.accepting = true;
	d->b = rt->backend;
	d->bops = rt->backend->ops;
	d->window = rt->config.launch_window_waves;
	d->completion_kernel_ns = rt->config.completion_kernel_ns;
	d->max_kernels_per_job = rt->config.max_kernels_in_flight_per_job;
	d->lone_past_window = rt->config.lone_job_past_window;
	d->sample_rng = UINT64_C(0x9e3779b97f4a7c15);
	paella__list_init(&d->running);
	paella__list_init(&d->live);
	paella__list_init(&d->stream_wait);
	paella__list_init(&d->stale_models);
	d->free_streams = calloc(rt->backend->nstreams, sizeof(*d->free_streams));
	if (d->free_streams == NULL) {
		paella__dispatcher_destroy(d);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "dispatcher: out of memory");
	}
	/* Handed out from the end: stream 0 first. */
	for (unsigned i = 0; i < rt->backend->nstreams; i++)
		d->free_streams[i] = rt->backend->nstreams - 1 - i;
	d->nfree_streams = rt->backend->nstreams;
	st = paella__policy_create(rt->config.policy, &pp, &d->policy);
	if (st != PAELLA_STATUS_OK) {
		paella__dispatcher_destroy(d);
		return st;
	}
	*out = d;
	return PAELLA_STATUS_OK;
}

void
paella__dispatcher_destroy(struct paella__dispatcher *d)
{
	if (d == NULL)
		return;
	if (d->jobs_live != 0)
		PAELLA__BUG("dispatcher destroyed with %llu jobs live",
			    (unsigned long long)d->jobs_live);
	PAELLA__FREE_DRAIN(d->free_ops, next, free);
	/* NULL when creation failed before the policy was made. */
	if (d->policy != NULL)
		d->policy->ops->destroy(d->policy);
	free(d->free_streams);
	pthread_cond_destroy(&d->inbox.wake);
	pthread_mutex_destroy(&d->inbox.lock);
	free(d);
}

void
paella__dispatcher_stats(struct paella__dispatcher *d, struct paella_runtime_stats *out)
{
	out->jobs_completed = __atomic_load_n(&d->stats.jobs_completed, __ATOMIC_RELAXED);
	out->kernels_launched = __atomic_load_n(&d->stats.kernels_launched, __ATOMIC_RELAXED);
	out->early_launches = __atomic_load_n(&d->stats.early_launches, __ATOMIC_RELAXED);
	out->copies_issued = __atomic_load_n(&d->stats.copies_issued, __ATOMIC_RELAXED);
	out->dispatcher_iterations =
		__atomic_load_n(&d->stats.dispatcher_iterations, __ATOMIC_RELAXED);
	out->dispatcher_busy_ns = __atomic_load_n(&d->stats.dispatcher_busy_ns, __ATOMIC_RELAXED);
	__atomic_load(&d->stats.max_load_at_launch, &out->max_load_at_launch, __ATOMIC_RELAXED);
	out->kernels_progress_seen =
		__atomic_load_n(&d->stats.kernels_progress_seen, __ATOMIC_RELAXED);
}

void
paella__dispatcher_set_trace(struct paella__dispatcher *d, paella__trace_fn fn, void *data)
{
	d->trace = fn;
	d->trace_data = data;
}
