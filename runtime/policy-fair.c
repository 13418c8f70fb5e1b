/*
 * policy-fair.c - SRPT with a fairness knob.  Under plain SRPT a long job
 * waits as long as shorter ones keep coming.  Here a model whose jobs have
 * waited while other models were given more than the threshold of GPU time
 * goes first: its shortest job launches one kernel, and the model waits its
 * turn again.
 *
 * Waiting is counted in GPU time (the estimated durations of the kernels
 * launched meanwhile), not wall time: a model is owed nothing for time the
 * GPU spent idle or on the model itself.  And it is counted per model, as
 * the original's deficit counters were: counted per job, every job of an
 * overloaded short model would soon count as starved too, and the knob would
 * turn into round-robin over the whole backlog.
 *
 * With a deficit threshold (paella_config.fair_deficit_threshold) the knob
 * is the original's instead, counted in kernels: each kernel dispatched
 * adds 1/(models with candidates) to each such model's counter and takes 1
 * from its own model's; once the largest counter reaches the threshold,
 * that model's shortest job goes first.  A small threshold approaches
 * round-robin among models, a large one plain SRPT.
 */
#include <stdlib.h>

#include "log.h"
#include "policy.h"
#include "util.h"

struct fair {
	struct paella__policy base;
	uint64_t threshold_ns;
	double deficit_threshold;
	/* Every candidate by remaining time. */
	struct paella__heap by_remaining;
	/* Groups with candidates, the longest waiting first. */
	struct paella__heap groups;
};

static struct fair *
to_fair(struct paella__policy *p)
{
	return (struct fair *)p;
}

/* A model's own candidates, in SRPT's order. */
static bool
member_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	return paella__srpt_before(PAELLA__ENTITY_OF(a, aux_node), PAELLA__ENTITY_OF(b, aux_node));
}

static struct paella__sched_group *
group_of(const struct paella__heap_node *n)
{
	return (struct paella__sched_group *)(void *)((char *)n -
		offsetof(struct paella__sched_group, node));
}

static bool
group_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	const struct paella__sched_group *x = group_of(a);
	const struct paella__sched_group *y = group_of(b);

	if (x->served_mark_ns != y->served_mark_ns)
		return x->served_mark_ns < y->served_mark_ns;
	/* Any fixed order: the groups' addresses do not change during a
	 * run, and runs of one program are laid out alike. */
	return x < y;
}

static void
fair_destroy(struct paella__policy *p)
{
	struct fair *f = to_fair(p);

	if (f == NULL)
		return;
	paella__heap_fini(&f->by_remaining);
	paella__heap_fini(&f->groups);
	free(f);
}

static enum paella_status
fair_insert(struct paella__policy *p, struct paella__sched_entity *e)
{
	struct fair *f = to_fair(p);
	struct paella__sched_group *g = e->group;
	enum paella_status st;

	PAELLA__ASSERT(g != NULL);
	if (g->members.less == NULL)
		paella__heap_init(&g->members, member_less);
	st = paella__heap_insert(&f->by_remaining, &e->node);
	if (st != PAELLA_STATUS_OK)
		return st;
	st = paella__heap_insert(&g->members, &e->aux_node);
	if (st != PAELLA_STATUS_OK)
		goto err_remaining;
	if (g->members.size == 1) {
		/* The group starts waiting: not before its new job's mark,
		 * so that a model idle for long is not owed that time. */
		if (e->served_mark_ns > g->served_mark_ns)
			g->served_mark_ns = e->served_mark_ns;
		paella__heap_node_init(&g->node);
		st = paella__heap_insert(&f->groups, &g->node);
		if (st != PAELLA_STATUS_OK)
			goto err_member;
	}
	return PAELLA_STATUS_OK;
err_member:
	paella__heap_remove(&g->members, &e->aux_node);
err_remaining:
	paella__heap_remove(&f->by_remaining, &e->node);
	return st;
}

static void
fair_remove(struct paella__policy *p, struct paella__sched_entity *e)
{
	struct fair *f = to_fair(p);
	struct paella__sched_group *g = e->group;

	paella__heap_remove(&f->by_remaining, &e->node);
	paella__heap_remove(&g->members, &e->aux_node);
	if (g->members.size == 0)
		paella__heap_remove(&f->groups, &g->node);
}

static void
fair_served(struct paella__policy *p, struct paella__sched_entity *e,
	    const struct paella__sched_clock *clock)
{
	struct fair *f = to_fair(p);
	struct paella__sched_group *g = e->group;

	paella__heap_update(&f->by_remaining, &e->node);
	paella__heap_update(&g->members, &e->aux_node);
	g->served_mark_ns = clock->gpu_ns;
	paella__heap_update(&f->groups, &g->node);
	if (f->deficit_threshold > 0.0 && f->groups.size > 0) {
		double share = 1.0 / (double)f->groups.size;

		for (unsigned i = 0; i < f->groups.size; i++)
			group_of(f->groups.nodes[i])->deficit += share;
		g->deficit -= 1.0;
	}
}

/* The model owed the most kernels, if it is owed the threshold. */
static struct paella__sched_group *
most_owed(const struct fair *f)
{
	struct paella__sched_group *best = NULL;

	for (unsigned i = 0; i < f->groups.size; i++) {
		struct paella__sched_group *g = group_of(f->groups.nodes[i]);

		if (best == NULL || g->deficit > best->deficit)
			best = g;
	}
	return best != NULL && best->deficit >= f->deficit_threshold ? best : NULL;
}

static void
fair_rekey(struct paella__policy *p)
{
	struct fair *f = to_fair(p);

	paella__heap_rebuild(&f->by_remaining);
	for (unsigned i = 0; i < f->groups.size; i++)
		paella__heap_rebuild(&group_of(f->groups.nodes[i])->members);
}

static struct paella__sched_entity *
fair_peek(struct paella__policy *p, const struct paella__sched_clock *clock)
{
	struct fair *f = to_fair(p);
	struct paella__heap_node *oldest = paella__heap_top(&f->groups);
	struct paella__sched_group *g;

	if (oldest == NULL)
		return NULL;
	if (f->deficit_threshold > 0.0) {
		g = most_owed(f);
		if (g != NULL)
			return PAELLA__ENTITY_OF(paella__heap_top(&g->members), aux_node);
		return PAELLA__ENTITY_OF(paella__heap_top(&f->by_remaining), node);
	}
	g = group_of(oldest);
	if (clock->gpu_ns - g->served_mark_ns > f->threshold_ns)
		return PAELLA__ENTITY_OF(paella__heap_top(&g->members), aux_node);
	return PAELLA__ENTITY_OF(paella__heap_top(&f->by_remaining), node);
}

static const struct paella__policy_ops fair_ops = PAELLA__POLICY_OPS("fair", fair);

enum paella_status
paella__policy_fair_create(const struct paella__policy_params *params,
			   struct paella__policy **out)
{
	struct fair *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "policy: out of memory");
	f->base.ops = &fair_ops;
	f->threshold_ns = params->fair_threshold_ns;
	f->deficit_threshold = params->fair_deficit_threshold;
	paella__heap_init(&f->by_remaining, paella__srpt_less);
	paella__heap_init(&f->groups, group_less);
	*out = &f->base;
	return PAELLA_STATUS_OK;
}
