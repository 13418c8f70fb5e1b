/*
 * dispatch-decisions.h - the dispatcher's state, shared by its loop
 * (dispatcher.c: the inbox, the turns, the thread, the stats) and its
 * launch decisions (dispatch-decisions.c: candidates, the load window,
 * launches, polling, estimates).  Private to those two files.
 *
 * Each turn the loop admits what the inbox brought, polls every running
 * job, refreshes the estimates that moved, then launches while the window
 * has room:
 *	paella__dispatch_admit(d, job, now);          each new job
 *	d->load = sum of paella__dispatch_poll(d, job, now);
 *	paella__dispatch_refresh_estimates(d);
 *	paella__dispatch_launch_while_room(d, now);
 * All of it on the thread running the dispatcher.
 */
#ifndef PAELLA_DISPATCH_DECISIONS_H
#define PAELLA_DISPATCH_DECISIONS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "dispatch-trace.h"
#include "list.h"
#include "policy.h"

/*
 * The inbox: jobs submitted from any thread wait here until the dispatcher
 * takes them.  `lock` guards the list and the flags; `wake` signals the
 * sleeping dispatcher thread.
 */
struct paella__dispatcher_inbox {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct paella__list jobs;
	/* Read without the lock by the spinning dispatcher (atomic). */
	unsigned has_jobs;
	bool accepting;
	bool stopping;
	bool sleeping;
	uint64_t next_seq;
};

struct paella__dispatcher {
	struct paella_runtime *rt;
	struct paella__dispatcher_inbox inbox;
	/* Manual mode: polled on every turn (direct mode's jobs); returns
	 * whether any of its work is in flight. */
	bool (*extra_poll)(struct paella_runtime *rt);
	struct paella__backend *b;
	const struct paella__backend_ops *bops;
	struct paella__policy *policy;
	double window;
	unsigned max_kernels_per_job;
	/* paella_config.lone_job_past_window. */
	bool lone_past_window;
	/* Kernels launched alone with at least this estimate signal their
	 * completion by completion kernel (paella_config). */
	uint64_t completion_kernel_ns;

	/* Jobs with ops in flight: the only ones a turn polls. */
	struct paella__list running;
	/* Every job taken in and not completed. */
	struct paella__list live;
	/* Jobs waiting for a stream. */
	struct paella__list stream_wait;
	/* Models whose estimates moved enough to re-sort their jobs. */
	struct paella__list stale_models;
	unsigned *free_streams;
	unsigned nfree_streams;
	struct paella__op *free_ops;

	uint64_t jobs_live;
	uint64_t ops_in_flight;
	/* Estimated GPU time of every kernel launched: the policies' clock
	 * for fairness. */
	uint64_t gpu_ns;
	/* Waves the kernels in flight need, as of this turn. */
	double load;
	/* xorshift64 state choosing which turns to time. */
	uint64_t sample_rng;

	/* Written only by the thread running the dispatcher, with relaxed atomic
	 * stores (PAELLA__STAT_ADD); read by any thread. */
	struct paella_runtime_stats stats;

	paella__trace_fn trace;
	void *trace_data;
};

/* One writer, many readers: a plain read of our own counter, an atomic
 * store so that readers never see a torn value. */
#define PAELLA__STAT_ADD(d, field, n) \
	__atomic_store_n(&(d)->stats.field, (d)->stats.field + (n), __ATOMIC_RELAXED)

/* Takes @job, just out of the inbox, in as a candidate. */
void
paella__dispatch_admit(struct paella__dispatcher *d, struct paella_job *job, uint64_t now);

/* Polls @job's ops in stream order, ends it when it is done; returns the
 * waves its kernels in flight still need. */
double
paella__dispatch_poll(struct paella__dispatcher *d, struct paella_job *job, uint64_t now);

/* Re-sorts the candidates of the models whose estimates moved enough. */
void
paella__dispatch_refresh_estimates(struct paella__dispatcher *d);

/* While the kernels in flight need less than the window (or, with
 * lone_past_window, while only one job is live), launches the next step of
 * the candidate the policy prefers. */
void
paella__dispatch_launch_while_room(struct paella__dispatcher *d, uint64_t now);

#endif /* PAELLA_DISPATCH_DECISIONS_H */
