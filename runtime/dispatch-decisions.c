/*
 * dispatch-decisions.c - which kernel the dispatcher launches next, and
 * what it learns from those in flight (dispatch-decisions.h).
 *
 * While the kernels in flight still need fewer than the launch window of
 * GPU waves for their remaining blocks, ask the policy for the best
 * candidate and launch that job's next kernel on the job's stream.  So the
 * hardware queue holds at most about one wave beyond what runs, and the
 * policy, not the order of arrival at the hardware, decides what runs next.
 *
 * A job whose current kernel is still in flight stays a candidate (up to
 * max_kernels_in_flight_per_job kernels): when the policy picks it anyway,
 * its next kernel goes onto its stream early and starts as soon as the
 * current one ends, hiding the launch's latency.
 *
 * Copies use no SM: they are issued as soon as the step before them is,
 * and never wait for the window.
 *
 * Where the model captured a run of its kernels as one graph (model.c,
 * graph_chunk_ns), the run goes out as one op: one launch call, one
 * completion, one decision; all its kernels' blocks count against the
 * window until it is seen done.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch-decisions.h"
#include "job.h"
#include "list.h"
#include "log.h"
#include "model.h"
#include "util.h"

static void
stat_max(struct paella__dispatcher *d, double *field, double v)
{
	if (v > *field)
		__atomic_store(field, &v, __ATOMIC_RELAXED);
}

/* ---- small helpers ----------------------------------------------------- */

static struct paella_job *
job_of(struct paella__sched_entity *e)
{
	return PAELLA__CONTAINER_OF(e, struct paella_job, sched);
}

static bool
next_is_kernel(const struct paella_job *job)
{
	const struct paella_model *m = job->model;

	return job->next_step < m->nsteps && m->steps[job->next_step].kind == PAELLA__STEP_KERNEL;
}

static void
set_time(uint64_t *field, uint64_t ns)
{
	__atomic_store_n(field, ns, __ATOMIC_RELAXED);
}


/* ---- the candidate set ------------------------------------------------- */

static void abandon(struct paella__dispatcher *d, struct paella_job *job,
		    enum paella_status status, uint64_t now);
static void fail(struct paella__dispatcher *d, struct paella_job *job,
		 enum paella_status status);

static void
candidate_add(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	enum paella_status st;

	PAELLA__ASSERT(!job->in_policy && !job->failed);
	st = d->policy->ops->insert(d->policy, &job->sched);
	if (st != PAELLA_STATUS_OK) {
		paella__log_error("job of model %s: no memory to queue it", job->model->name);
		if (job->state == PAELLA__JOB_QUEUED)
			abandon(d, job, st, now);
		else
			fail(d, job, st); /* ends once its ops drain */
		return;
	}
	job->in_policy = true;
}

static void
candidate_remove(struct paella__dispatcher *d, struct paella_job *job)
{
	if (!job->in_policy)
		return;
	d->policy->ops->remove(d->policy, &job->sched);
	job->in_policy = false;
}

/* Jobs parked for a resource that just came free compete again. */
static void
unpark(struct paella__dispatcher *d, struct paella__list *parked, uint64_t now)
{
	struct paella__list *node, *tmp;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, parked) {
		struct paella_job *job = PAELLA__CONTAINER_OF(node, struct paella_job, link);

		paella__list_unlink(node);
		candidate_add(d, job, now);
	}
}

/* ---- job lifecycle ------------------------------------------------------ */

void
paella__dispatch_admit(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	job->state = PAELLA__JOB_QUEUED;
	paella__list_append(&d->live, &job->live_link);
	d->jobs_live++;
	job->sched.remaining_ns = job->model->suffix_ns[0];
	job->sched.estimated = true;
	job->sched.served_mark_ns = d->gpu_ns;
	job->sched.group = &job->model->sched_group;
	candidate_add(d, job, now);
}

static void
retire(struct paella__dispatcher *d, struct paella_job *job, enum paella_status status,
       uint64_t now)
{
	paella__list_unlink(&job->live_link);
	job->state = PAELLA__JOB_DONE;
	d->jobs_live--;
	PAELLA__STAT_ADD(d, jobs_completed, 1);
	__atomic_sub_fetch(&job->model->jobs_live, 1, __ATOMIC_ACQ_REL);
	/* Callback, waiters, and the runtime's reference: the job is not
	 * ours after this. */
	paella__job_complete(job, status, now);
}

/* A job that never got a stream ends with @status. */
static void
abandon(struct paella__dispatcher *d, struct paella_job *job, enum paella_status status,
	uint64_t now)
{
	PAELLA__ASSERT(job->state == PAELLA__JOB_QUEUED);
	candidate_remove(d, job);
	if (paella__list_linked(&job->link))
		paella__list_unlink(&job->link);
	retire(d, job, status, now);
}

/* A job that holds a stream and a buffer set, with nothing in flight. */
static void
finish(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	struct paella_model *m = job->model;
	struct paella__bufset *set = job->bufset;

	PAELLA__ASSERT(job->ops_head == NULL && job->kernels_in_flight == 0);
	PAELLA__ASSERT(!paella__list_linked(&job->running_link));
	candidate_remove(d, job);

	d->free_streams[d->nfree_streams++] = job->stream;
	unpark(d, &d->stream_wait, now);
	set->next_free = m->free_sets;
	m->free_sets = set;
	job->bufset = NULL;
	unpark(d, &m->parked, now);

	retire(d, job, job->failed ? job->status : PAELLA_STATUS_OK, now);
}

/* A step failed: issue nothing more; the job ends once its ops drain. */
static void
fail(struct paella__dispatcher *d, struct paella_job *job, enum paella_status status)
{
	paella__log_error("job of model %s failed at step %u: %s",
			  job->model->name, job->next_step, paella_status_str(status));
	job->failed = true;
	job->status = status;
	candidate_remove(d, job);
}

static void
push_op(struct paella__dispatcher *d, struct paella_job *job, struct paella__step *step,
	unsigned nsteps, struct paella__bop *bop, uint64_t now)
{
	struct paella__op *op;

	/* Spare ops link through next, which a live op uses for its job's. */
	PAELLA__FREE_POP(d->free_ops, op, next);
	if (op == NULL)
		op = malloc(sizeof(*op));
	if (op == NULL)
		PAELLA__BUG("no memory to track an op already issued to the GPU");
	/* Whole, so that a recycled op keeps nothing of its last use. */
	*op = (struct paella__op){ .bop = bop, .step = step, .nsteps = nsteps, .issued_ns = now };
	if (job->ops_tail != NULL) {
		job->ops_tail->next = op;
	} else {
		job->ops_head = op;
		paella__list_append(&d->running, &job->running_link);
	}
	job->ops_tail = op;
	d->ops_in_flight++;
}

/* Issues the copies from the job's next step up to its next kernel. */
static void
issue_copies(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	struct paella_model *m = job->model;

	while (job->next_step < m->nsteps && !next_is_kernel(job)) {
		struct paella__step *step = &m->steps[job->next_step];
		uint64_t dptr = job->bufset->base + m->buffers[step->buffer].set_offset +
				step->buffer_offset;
		bool in = step->kind == PAELLA__STEP_COPY_IN;
		void *host = in ? (void *)((const char *)job->input + step->host_offset)
				: (void *)((char *)job->output + step->host_offset);
		struct paella__bop *bop;
		enum paella_status st;

		st = d->bops->copy(d->b, job->stream,
				   in ? PAELLA__COPY_TO_DEVICE : PAELLA__COPY_TO_HOST,
				   dptr, host, step->bytes, &bop);
		if (st != PAELLA_STATUS_OK) {
			fail(d, job, st);
			return;
		}
		push_op(d, job, step, 1, bop, now);
		PAELLA__STAT_ADD(d, copies_issued, 1);
		job->next_step++;
	}
}

/* Gives a queued job a stream and a buffer set, or parks it until one is
 * free.  Returns whether it can launch. */
static bool
start(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	struct paella_model *m = job->model;
	struct paella__bufset *set = m->free_sets;

	if (d->nfree_streams == 0 || set == NULL) {
		candidate_remove(d, job);
		paella__list_append(set == NULL ? &m->parked : &d->stream_wait, &job->link);
		return false;
	}
	m->free_sets = set->next_free;
	job->bufset = set;
	job->stream = d->free_streams[--d->nfree_streams];
	job->state = PAELLA__JOB_ACTIVE;
	job->last_done_ns = now;
	set_time(&job->times.first_launch_ns, now);
	issue_copies(d, job, now);
	return !job->failed;
}

static void
launch(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	struct paella_model *m = job->model;
	unsigned index = job->next_step;
	struct paella__step *step = &m->steps[index];
	/* A run of kernels captured as one graph goes out as one op. */
	unsigned run = m->run_len != NULL && m->run_len[index] > 1 ? m->run_len[index] : 1;
	struct paella__sched_clock clock;
	struct paella__bop *bop;
	enum paella_status st;
	bool early = job->kernels_in_flight > 0;
	double load_before = d->load;
	uint64_t gpu_before = d->gpu_ns;

	PAELLA__ASSERT(step->kind == PAELLA__STEP_KERNEL);
	if (run > 1) {
		st = d->bops->graph_launch(d->b, job->bufset->graphs[index], job->stream, &bop);
	} else {
		struct paella__launch_desc desc;

		paella__step_launch_desc(step, job->bufset->params[index], job->stream,
					 PAELLA__WANT_PROGRESS, &desc);
		desc.completion_kernel = step->estimate_ns >= d->completion_kernel_ns;
		/* A later step (a kernel or an output copy, each signalled in
		 * its turn) ends the job, not this one. */
		desc.completion_hint = index + 1 < m->nsteps;
		st = d->bops->launch(d->b, &desc, &bop);
	}
	if (st != PAELLA_STATUS_OK) {
		fail(d, job, st);
		return;
	}
	push_op(d, job, step, run, bop, now);
	job->kernels_in_flight++;
	job->next_step += run;
	/* A run is committed to the hardware queue whole: all its kernels'
	 * blocks count against the window. */
	for (unsigned i = 0; i < run; i++) {
		d->load += (double)step[i].nblocks * step[i].wave_per_block;
		d->gpu_ns += __atomic_load_n(&step[i].estimate_ns, __ATOMIC_RELAXED);
	}
	PAELLA__STAT_ADD(d, kernels_launched, run);
	if (early)
		PAELLA__STAT_ADD(d, early_launches, 1);
	if (load_before < d->window)
		stat_max(d, &d->stats.max_load_at_launch, load_before);
	if (d->trace != NULL) {
		struct paella__trace_launch t = { job, index, now, gpu_before, load_before, early };

		d->trace(d->trace_data, &t);
	}

	issue_copies(d, job, now);
	if (job->failed)
		return;
	job->sched.remaining_ns = m->suffix_ns[job->next_step];
	job->sched.served_mark_ns = d->gpu_ns;
	/* Served first even when it leaves: its model was served. */
	clock.now_ns = now;
	clock.gpu_ns = d->gpu_ns;
	d->policy->ops->served(d->policy, &job->sched, &clock);
	if (!next_is_kernel(job) || job->kernels_in_flight >= d->max_kernels_per_job)
		candidate_remove(d, job);
}

/* ---- estimates ----------------------------------------------------------- */

/*
 * Folds a kernel's observed duration into its step's estimate (moving
 * average, weight 1/4).  Observed: from when it could start (issued, and
 * its stream's previous op seen done) to when it was seen done, so it
 * includes launch and notification latency, which a job pays too.  A graph
 * run is seen as a whole: its time is shared among its kernels in
 * proportion to their estimates.
 */
static void
refine_step(struct paella__dispatcher *d, struct paella_model *m, struct paella__step *step,
	    uint64_t seen)
{
	uint64_t est = __atomic_load_n(&step->estimate_ns, __ATOMIC_RELAXED);
	uint64_t used = step->estimate_used_ns;
	uint64_t diff;

	est = est - est / 4 + seen / 4;
	if (est == 0)
		est = 1;
	__atomic_store_n(&step->estimate_ns, est, __ATOMIC_RELAXED);
	/* Re-sorting every job is O(jobs): only when the estimate moved by
	 * more than 1/16 since the sums were made. */
	diff = est > used ? est - used : used - est;
	if (diff > used / 16 && !m->suffix_stale) {
		m->suffix_stale = true;
		paella__list_append(&d->stale_models, &m->stale_link);
	}
}

static void
refine(struct paella__dispatcher *d, struct paella_job *job, struct paella__op *op, uint64_t now)
{
	uint64_t start = op->issued_ns > job->last_done_ns ? op->issued_ns : job->last_done_ns;
	uint64_t seen = now > start ? now - start : 0;
	uint64_t total = 0;

	if (op->nsteps == 1) {
		refine_step(d, job->model, op->step, seen);
		return;
	}
	for (unsigned i = 0; i < op->nsteps; i++)
		total += __atomic_load_n(&op->step[i].estimate_ns, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < op->nsteps; i++) {
		uint64_t est = __atomic_load_n(&op->step[i].estimate_ns, __ATOMIC_RELAXED);

		refine_step(d, job->model, &op->step[i],
			    total > 0 ? (uint64_t)((double)seen * (double)est / (double)total)
				      : seen / op->nsteps);
	}
}

void
paella__dispatch_refresh_estimates(struct paella__dispatcher *d)
{
	struct paella__list *node, *tmp;

	if (paella__list_empty(&d->stale_models))
		return;
	PAELLA__LIST_FOREACH_SAFE(node, tmp, &d->stale_models) {
		struct paella_model *m = PAELLA__CONTAINER_OF(node, struct paella_model, stale_link);

		paella__list_unlink(node);
		paella__model_update_suffix(m);
		m->suffix_stale = false;
	}
	PAELLA__LIST_FOREACH_SAFE(node, tmp, &d->live) {
		struct paella_job *job = PAELLA__CONTAINER_OF(node, struct paella_job, live_link);

		job->sched.remaining_ns = job->model->suffix_ns[job->next_step];
	}
	d->policy->ops->rekey(d->policy);
}

/* ---- polling and launching ------------------------------------------------ */

static void
op_done(struct paella__dispatcher *d, struct paella_job *job, struct paella__op *op,
	uint64_t now)
{
	job->ops_head = op->next;
	if (job->ops_head == NULL)
		job->ops_tail = NULL;
	d->bops->release(d->b, op->bop);
	d->ops_in_flight--;
	if (op->step->kind == PAELLA__STEP_KERNEL) {
		job->kernels_in_flight--;
		if (op->progress_seen)
			PAELLA__STAT_ADD(d, kernels_progress_seen, 1);
		refine(d, job, op, now);
		if (!job->failed && !job->in_policy && next_is_kernel(job) &&
		    job->kernels_in_flight < d->max_kernels_per_job)
			candidate_add(d, job, now);
	}
	job->last_done_ns = now;
	PAELLA__FREE_PUSH(d->free_ops, op, next);
}

double
paella__dispatch_poll(struct paella__dispatcher *d, struct paella_job *job, uint64_t now)
{
	struct paella__op *op;
	uint64_t progress = 0;
	double load = 0.0;

	while ((op = job->ops_head) != NULL) {
		if (!d->bops->poll(d->b, op->bop, &progress))
			break;
		op_done(d, job, op, now);
	}
	if (job->ops_head == NULL) {
		paella__list_unlink(&job->running_link);
		if (job->failed || job->next_step == job->model->nsteps)
			finish(d, job, now);
		return 0.0;
	}
	for (op = job->ops_head; op != NULL; op = op->next) {
		const struct paella__step *step = op->step;
		uint64_t left;

		if (step->kind != PAELLA__STEP_KERNEL)
			continue;
		if (op->nsteps > 1) {
			/* A graph run: all of it until it is seen done. */
			for (unsigned i = 0; i < op->nsteps; i++)
				load += (double)step[i].nblocks * step[i].wave_per_block;
			continue;
		}
		left = step->nblocks;
		if (op == job->ops_head && progress < left)
			left -= progress;
		if (op == job->ops_head && progress > 0)
			op->progress_seen = true;
		load += (double)left * step->wave_per_block;
	}
	return load;
}

/* A job alone has no other to keep the window's room for: it may go past
 * it, up to its kernels-in-flight allowance (the policy drops it as a
 * candidate there, which ends the loop below). */
static bool
room_for(const struct paella__dispatcher *d)
{
	return d->load < d->window || (d->lone_past_window && d->jobs_live == 1);
}

void
paella__dispatch_launch_while_room(struct paella__dispatcher *d, uint64_t now)
{
	struct paella__sched_clock clock;

	while (room_for(d)) {
		struct paella__sched_entity *e;
		struct paella_job *job;

		clock.now_ns = now;
		clock.gpu_ns = d->gpu_ns;
		e = d->policy->ops->peek(d->policy, &clock);
		if (e == NULL)
			break;
		job = job_of(e);
		if (job->state != PAELLA__JOB_QUEUED || start(d, job, now))
			launch(d, job, now);
		/* A job that failed with nothing in flight would never be
		 * polled again. */
		if (job->failed && job->ops_head == NULL)
			finish(d, job, now);
	}
}
