/*
 * job.c - submitting jobs and learning that they completed.
 *
 * Completion reaches a client without a system call on the fast path: the
 * dispatcher publishes the status and sets `done` (release); poll reads it
 * (acquire).  A waiter spins briefly, then sleeps on the job's condition
 * variable; the dispatcher takes the job's lock to wake it only when a
 * waiter announced itself, so a job nobody sleeps on costs no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher.h"
#include "job.h"
#include "log.h"
#include "runtime.h"
#include "util.h"

/* Polls of `done` before a waiter sleeps: a few microseconds. */
#define WAIT_SPINS 2000

static pthread_once_t condattr_once = PTHREAD_ONCE_INIT;
static pthread_condattr_t monotonic_condattr;

static void
condattr_init(void)
{
	pthread_condattr_init(&monotonic_condattr);
	pthread_condattr_setclock(&monotonic_condattr, CLOCK_MONOTONIC);
}

struct paella_job *
paella__job_new(void)
{
	struct paella_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	pthread_once(&condattr_once, condattr_init);
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, &monotonic_condattr);
	job->refs = 2;
	paella__list_init(&job->link);
	paella__list_init(&job->running_link);
	paella__list_init(&job->live_link);
	paella__heap_node_init(&job->sched.node);
	paella__heap_node_init(&job->sched.aux_node);
	return job;
}

void
paella__job_unref(struct paella_job *job)
{
	if (__atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

void
paella__job_complete(struct paella_job *job, enum paella_status status, uint64_t now_ns)
{
	job->status = status;
	__atomic_store_n(&job->times.completed_ns, now_ns, __ATOMIC_RELAXED);
	/* Before `done`: a waiter returns after the callback ran. */
	if (job->callback != NULL)
		job->callback(job, status, job->user_data);
	/* Sequentially consistent, against the waiter's increment of
	 * `waiters` and load of `done`: one of the two sees the other. */
	__atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&job->waiters, __ATOMIC_SEQ_CST) != 0) {
		pthread_mutex_lock(&job->lock);
		pthread_cond_broadcast(&job->cond);
		pthread_mutex_unlock(&job->lock);
	}
	paella__job_unref(job);
}

static enum paella_status
check_size(const struct paella_model *m, const char *what, const void *ptr,
	   size_t given, size_t wanted)
{
	if (given != wanted)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s takes %zu bytes of %s, the job gives %zu: pass exactly "
			"the size of the model's %s copies", m->name, wanted, what, given, what);
	if (given != 0 && ptr == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: the job's %s is NULL", m->name, what);
	return PAELLA_STATUS_OK;
}

enum paella_status
paella__job_check_desc(const struct paella_model *model, const struct paella_job_desc *desc,
		       const char *what)
{
	enum paella_status st;

	if (model == NULL || desc == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: %s is NULL", what, model == NULL ? "the model" : "the desc");
	if (!model->finalized)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s is not finalized: call paella_model_finalize() before "
			"submitting jobs", model->name);
	st = check_size(model, "input", desc->input, desc->input_bytes, model->input_bytes);
	if (st == PAELLA_STATUS_OK)
		st = check_size(model, "output", desc->output, desc->output_bytes,
				model->output_bytes);
	return st;
}

PAELLA_EXPORT enum paella_status
paella_job_submit(struct paella_model *model, const struct paella_job_desc *desc,
		  struct paella_job **out)
{
	struct paella_runtime *rt;
	struct paella_job *job;
	enum paella_status st;
	uint64_t now;

	if (out != NULL)
		*out = NULL;
	st = paella__job_check_desc(model, desc, "paella_job_submit");
	if (st != PAELLA_STATUS_OK)
		return st;

	rt = model->rt;
	job = paella__job_new();
	if (job == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "paella_job_submit: out of memory");
	job->rt = rt;
	job->model = model;
	job->input = desc->input;
	job->output = desc->output;
	job->callback = desc->callback;
	job->user_data = desc->user_data;
	job->manual = rt->config.dispatch_mode == PAELLA_DISPATCH_MANUAL;
	if (out == NULL)
		job->refs = 1;

	pthread_mutex_lock(&rt->submit_lock);
	if (!rt->accepting) {
		pthread_mutex_unlock(&rt->submit_lock);
		job->refs = 1;
		paella__job_unref(job);
		return paella__error_set(PAELLA_STATUS_SHUT_DOWN,
			"the runtime is shutting down: no job is accepted after "
			"paella_runtime_shutdown() or paella_runtime_destroy()");
	}
	now = rt->backend->ops->now_ns(rt->backend);
	job->times.submitted_ns = now;
	job->sched.seq = rt->next_seq++;
	job->sched.deadline_ns = desc->deadline_ns != 0 ? now + desc->deadline_ns : UINT64_MAX;
	__atomic_add_fetch(&model->jobs_live, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&rt->jobs_submitted, 1, __ATOMIC_RELAXED);
	paella__list_append(&rt->incoming, &job->link);
	__atomic_store_n(&rt->has_incoming, 1, __ATOMIC_RELEASE);
	if (rt->sleeping)
		pthread_cond_signal(&rt->wake);
	pthread_mutex_unlock(&rt->submit_lock);

	if (out != NULL)
		*out = job;
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_job_poll(struct paella_job *job)
{
	if (job == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, "paella_job_poll: job is NULL");
	if (!__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return PAELLA_STATUS_BUSY;
	return job->status;
}

static void
deadline_after(struct timespec *ts, int64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ns / 1000000000;
	ts->tv_nsec += ns % 1000000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static enum paella_status
wait_manual(struct paella_job *job, int64_t timeout_ns)
{
	struct paella_runtime *rt = job->rt;
	uint64_t until = UINT64_MAX;
	enum paella_status st;

	pthread_mutex_lock(&rt->run_lock);
	if (timeout_ns >= 0)
		until = rt->backend->ops->now_ns(rt->backend) + (uint64_t)timeout_ns;
	st = paella__dispatcher_run(rt->dispatcher, until, job, false);
	pthread_mutex_unlock(&rt->run_lock);
	if (st != PAELLA_STATUS_OK)
		return st;
	return job->status;
}

PAELLA_EXPORT enum paella_status
paella_job_wait(struct paella_job *job, int64_t timeout_ns)
{
	struct timespec ts;
	bool done;

	if (job == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, "paella_job_wait: job is NULL");
	if (__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return job->status;
	if (timeout_ns == 0)
		return PAELLA_STATUS_TIMEOUT;
	/* Not done, so the runtime is alive; only manual mode touches it. */
	if (job->manual)
		return wait_manual(job, timeout_ns);

	for (int i = 0; i < WAIT_SPINS; i++) {
		if (__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
			return job->status;
		paella__cpu_relax();
	}
	if (timeout_ns > 0)
		deadline_after(&ts, timeout_ns);
	pthread_mutex_lock(&job->lock);
	__atomic_add_fetch(&job->waiters, 1, __ATOMIC_SEQ_CST);
	while (!(done = __atomic_load_n(&job->done, __ATOMIC_SEQ_CST))) {
		if (timeout_ns < 0)
			pthread_cond_wait(&job->cond, &job->lock);
		else if (pthread_cond_timedwait(&job->cond, &job->lock, &ts) == ETIMEDOUT)
			break;
	}
	__atomic_sub_fetch(&job->waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&job->lock);
	if (!done && !__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return PAELLA_STATUS_TIMEOUT;
	return job->status;
}

PAELLA_EXPORT enum paella_status
paella_job_times(struct paella_job *job, struct paella_job_times *out)
{
	if (job == NULL || out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_times: %s is NULL", job == NULL ? "job" : "out");
	out->submitted_ns = __atomic_load_n(&job->times.submitted_ns, __ATOMIC_RELAXED);
	out->first_launch_ns = __atomic_load_n(&job->times.first_launch_ns, __ATOMIC_RELAXED);
	out->completed_ns = __atomic_load_n(&job->times.completed_ns, __ATOMIC_RELAXED);
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT void *
paella_job_user_data(struct paella_job *job)
{
	return job != NULL ? job->user_data : NULL;
}

PAELLA_EXPORT void
paella_job_release(struct paella_job *job)
{
	if (job != NULL)
		paella__job_unref(job);
}
