/*
 * job.h - one request: a run of a model's steps for one input.  Private.
 *
 * The fields above "dispatcher's" are set at submit and read-only after,
 * or are the completion state that clients read; the rest belong to the
 * thread running the dispatcher.  A job has two references, the client's
 * handle and the runtime's while it is live; it is freed when both are
 * gone, so a handle outlives its runtime.
 */
#ifndef PAELLA_JOB_H
#define PAELLA_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "model.h"
#include "policy.h"

enum paella__job_state {
	PAELLA__JOB_QUEUED,
	PAELLA__JOB_ACTIVE,
	PAELLA__JOB_DONE,
};

/* A launch or copy of a job in flight, in its stream's order. */
struct paella__op {
	struct paella__bop *bop;
	struct paella__step *step;
	/* Model steps the op covers: 1, or a graph's run of kernels. */
	unsigned nsteps;
	struct paella__op *next;
	uint64_t issued_ns;
	/* Its progress was seen before its completion. */
	bool progress_seen;
};

struct paella_job {
	struct paella_runtime *rt;
	struct paella_model *model;
	const void *input;
	void *output;
	paella_job_callback callback;
	void *user_data;
	/* The runtime runs in manual mode: waiting runs the dispatcher. */
	bool manual;
	/* The submitter holds a handle (paella_job_submit()'s @out was not
	 * NULL): paella_job_release() is theirs to call, once. */
	bool has_handle;

	/* Atomics. */
	unsigned refs;
	/* Set, with release order, once status and times are final. */
	unsigned done;
	unsigned waiters;

	enum paella_status status;
	struct paella_job_times times;
	/* Waiters sleep on these; held only to sleep and to wake them. */
	pthread_mutex_t lock;
	pthread_cond_t cond;

	/* ---- dispatcher's ---- */
	/* Incoming list, then a parked list while waiting for a resource. */
	struct paella__list link;
	/* Among the jobs with ops in flight. */
	struct paella__list running_link;
	/* Among every live job, for re-estimating. */
	struct paella__list live_link;
	struct paella__sched_entity sched;
	enum paella__job_state state;
	bool in_policy;
	/* A step failed: no more is issued; the job ends when its ops drain. */
	bool failed;
	/* First step not issued yet. */
	unsigned next_step;
	unsigned kernels_in_flight;
	unsigned stream;
	struct paella__bufset *bufset;
	struct paella__op *ops_head;
	struct paella__op *ops_tail;
	/* When the job's previous op was seen complete: the earliest a later
	 * op on its stream can have started. */
	uint64_t last_done_ns;

	/* ---- direct mode's (direct.c): non-NULL stream for a direct job,
	 * which is in the runtime's direct_jobs list (by `link`) while its
	 * ops run; the last op says when all are done. */
	struct paella_stream *direct_stream;
	struct paella__bop **direct_ops;
	/* direct_untracked[i]: op i has no completion of its own. */
	bool *direct_untracked;
	unsigned ndirect_ops;
};

/* Allocates a job with both references; free with paella__job_unref(). */
struct paella_job *
paella__job_new(void);

/* paella__job_new() with what @desc asks for (buffers, callback, user
 * data, deadline) and its model and runtime: the job both submit calls
 * make from a checked desc (paella__job_check_desc()). */
struct paella_job *
paella__job_from_desc(struct paella_model *model, const struct paella_job_desc *desc);

void
paella__job_unref(struct paella_job *job);

/* The start of both submit calls: clears *@out (when given), then checks
 * @desc's pointers and sizes against @model's (and the model finalized);
 * @what names the caller in messages. */
enum paella_status
paella__job_check_desc(const struct paella_model *model, const struct paella_job_desc *desc,
		       struct paella_job **out, const char *what);

/* Publishes @status and wakes waiters: the dispatcher's last word on it. */
void
paella__job_complete(struct paella_job *job, enum paella_status status,
		     uint64_t now_ns);

#endif /* PAELLA_JOB_H */
