/*
 * policy.h - the choice of which job's kernel runs next.  Private.
 *
 * The dispatcher keeps in a policy the jobs that could launch a kernel now
 * (candidates) and asks it for the best one each time the GPU has room.
 * A policy sees a job only as its sched entity: the keys below, which the
 * dispatcher maintains, and a heap node or two of its own.
 *
 *	policy->ops->insert(policy, &job->sched);   job became a candidate
 *	best = policy->ops->peek(policy, &clock);   the one to launch next
 *	policy->ops->served(policy, best, &clock);  it launched a kernel (keys changed)
 *	policy->ops->remove(policy, &job->sched);   it is no longer a candidate
 *
 * All calls come from the thread running the dispatcher.
 */
#ifndef PAELLA_POLICY_H
#define PAELLA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "paella/paella.h"

/* The jobs of one model, as FAIR counts waiting: per model, as the
 * original's deficit counters, so that a model served all the time is owed
 * nothing however many of its jobs queue.  Lives in the model. */
struct paella__sched_group {
	/* The dispatcher's GPU-time clock when a job of the group last
	 * launched a kernel, or when the group last started waiting. */
	uint64_t served_mark_ns;
	/* The deficit knob's counter (policy-fair.c): kernels owed to the
	 * group's model; kept while the model has no job. */
	double deficit;
	/* The policy's own: its candidates, and its place among groups. */
	struct paella__heap members;
	struct paella__heap_node node;
};

struct paella__sched_entity {
	/* Submission order: the tie-breaker of every policy. */
	uint64_t seq;
	/* Estimated GPU time of the job's kernels not launched yet. */
	uint64_t remaining_ns;
	/* Absolute, on the runtime's clock; UINT64_MAX for none. */
	uint64_t deadline_ns;
	/* The dispatcher's GPU-time clock when the job arrived or last
	 * launched a kernel. */
	uint64_t served_mark_ns;
	/* Its model's group. */
	struct paella__sched_group *group;
	/* Whether remaining_ns comes from a profile: SRPT never orders jobs
	 * on a guess, so a job without one must not reach it. */
	bool estimated;
	/* The policy's own. */
	struct paella__heap_node node;
	struct paella__heap_node aux_node;
};

/* Where the dispatcher stands. */
struct paella__sched_clock {
	uint64_t now_ns;
	/* Estimated GPU time of every kernel launched so far. */
	uint64_t gpu_ns;
};

struct paella__policy_params {
	uint64_t fair_threshold_ns;
	/* > 0: FAIR uses the deficit knob instead of fair_threshold_ns. */
	double fair_deficit_threshold;
};

struct paella__policy;

struct paella__policy_ops {
	const char *name;
	void (*destroy)(struct paella__policy *p);
	/* PAELLA_STATUS_NO_MEMORY when it cannot hold one more. */
	enum paella_status (*insert)(struct paella__policy *p,
				     struct paella__sched_entity *e);
	void (*remove)(struct paella__policy *p, struct paella__sched_entity *e);
	/* @e launched a kernel: its remaining time and mark changed; @clock
	 * is after the launch. */
	void (*served)(struct paella__policy *p, struct paella__sched_entity *e,
		       const struct paella__sched_clock *clock);
	/* Estimates changed: every candidate's remaining time may have. */
	void (*rekey)(struct paella__policy *p);
	/* The candidate to launch next, or NULL when there is none. */
	struct paella__sched_entity *(*peek)(struct paella__policy *p,
					     const struct paella__sched_clock *clock);
};

/* The table of policy @name_ whose functions are @prefix_destroy,
 * @prefix_insert and so on: every policy has each of them, so the list is
 * kept here, beside the struct, and a policy that lacks one does not build. */
#define PAELLA__POLICY_OPS(name_, prefix) { \
	.name = (name_), \
	.destroy = prefix##_destroy, \
	.insert = prefix##_insert, \
	.remove = prefix##_remove, \
	.served = prefix##_served, \
	.rekey = prefix##_rekey, \
	.peek = prefix##_peek, \
}

struct paella__policy {
	const struct paella__policy_ops *ops;
};

enum paella_status
paella__policy_create(enum paella_policy kind, const struct paella__policy_params *params,
		      struct paella__policy **out);

/* The constructors of policy-*.c, all of one type. */
typedef enum paella_status paella__policy_create_fn(const struct paella__policy_params *params,
						    struct paella__policy **out);

paella__policy_create_fn paella__policy_fifo_create;
paella__policy_create_fn paella__policy_srpt_create;
paella__policy_create_fn paella__policy_fair_create;
paella__policy_create_fn paella__policy_edf_create;

/* SRPT's order (remaining time, then submission), which FAIR shares: of
 * two entities, and of two heap nodes linked by their node member. */
bool
paella__srpt_before(const struct paella__sched_entity *x, const struct paella__sched_entity *y);
bool
paella__srpt_less(const struct paella__heap_node *a, const struct paella__heap_node *b);

/* A policy that keeps one heap ordered by @less: FIFO, SRPT and EDF are
 * this with their own order (policy-heap.c). */
enum paella_status
paella__policy_heap_create(const char *name, paella__heap_less less,
			   struct paella__policy **out);

#define PAELLA__ENTITY_OF(heap_node, member) \
	((struct paella__sched_entity *)(void *)((char *)(heap_node) - \
		offsetof(struct paella__sched_entity, member)))

#endif /* PAELLA_POLICY_H */
