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

#include "job.h"
#include "log.h"
#include "util.h"

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

struct paella_job *
paella__job_from_desc(struct paella_model *model, const struct paella_job_desc *desc)
{
	struct paella_job *job = paella__job_new();

	if (job == NULL)
		return NULL;
	job->rt = model->rt;
	job->model = model;
	job->input = desc->input;
	job->output = desc->output;
	job->callback = desc->callback;
	job->user_data = desc->user_data;
	job->sched.deadline_ns = desc->deadline_ns;
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
		       struct paella_job **out, const char *what)
{
	enum paella_status st;

	if (out != NULL)
		*out = NULL;
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
paella_job_poll(struct paella_job *job)
{
	if (job == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, "paella_job_poll: job is NULL");
	if (!__atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
		return PAELLA_STATUS_BUSY;
	return job->status;
}

PAELLA_EXPORT enum paella_status
paella_job_times(struct paella_job *job, struct paella_job_times *out)
{
	PAELLA__OUT_ARGS_OR_RETURN(job, "job", out);
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
	if (job == NULL)
		return;
	/* Submitted without a handle, the job is the runtime's alone: only a
	 * callback can see it, and releasing it there would free it under the
	 * dispatcher. */
	if (!job->has_handle) {
		paella__log_error("paella_job_release: the job was submitted without a handle "
				  "(out = NULL): nothing to release");
		return;
	}
	paella__job_unref(job);
}
