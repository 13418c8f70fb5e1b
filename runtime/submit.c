/*
 * submit.c - jobs in and out of the dispatcher: paella_job_submit() puts a
 * job in the dispatcher's inbox; paella_job_wait() waits for one, running
 * the dispatcher itself in manual mode.  (job.c has the job object, which
 * the dispatcher and direct mode complete.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatcher.h"
#include "job.h"
#include "log.h"
#include "runtime-state.h"
#include "util.h"

/* Polls of `done` before a waiter sleeps: a few microseconds. */
#define WAIT_SPINS 2000

PAELLA_EXPORT enum paella_status
paella_job_submit(struct paella_model *model, const struct paella_job_desc *desc,
		  struct paella_job **out)
{
	struct paella_runtime *rt;
	struct paella_job *job;
	enum paella_status st;

	st = paella__job_check_desc(model, desc, out, "paella_job_submit");
	if (st != PAELLA_STATUS_OK)
		return st;

	rt = model->rt;
	job = paella__job_from_desc(model, desc);
	if (job == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "paella_job_submit: out of memory");
	job->manual = rt->config.dispatch_mode == PAELLA_DISPATCH_MANUAL;
	job->has_handle = out != NULL;
	if (out == NULL)
		job->refs = 1;
	__atomic_add_fetch(&rt->jobs_submitted, 1, __ATOMIC_RELAXED);
	st = paella__dispatcher_submit(rt->dispatcher, job);
	if (st != PAELLA_STATUS_OK) {
		__atomic_sub_fetch(&rt->jobs_submitted, 1, __ATOMIC_RELAXED);
		job->refs = 1;
		paella__job_unref(job);
		return st;
	}

	if (out != NULL)
		*out = job;
	return PAELLA_STATUS_OK;
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
	/* Past the clock's end, a timeout is as good as none. */
	if (timeout_ns >= 0 &&
	    paella__add_overflows(rt->backend->ops->now_ns(rt->backend), (uint64_t)timeout_ns,
				      &until))
		until = UINT64_MAX;
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
	if (paella__dispatcher_on_this_thread())
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_wait: called from a job's callback, on the dispatcher's "
			"thread, for a job not done: it would wait for itself (poll instead)");
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

