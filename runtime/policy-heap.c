/*
 * policy-heap.c - a policy that is one ordered heap of candidates, which
 * FIFO, SRPT and EDF are with their own orders; and the choice of policy.
 */
#include <stdlib.h>

#include "log.h"
#include "policy.h"
#include "util.h"

struct heap_policy {
	struct paella__policy base;
	struct paella__heap heap;
};

static struct heap_policy *
to_hp(struct paella__policy *p)
{
	return (struct heap_policy *)p;
}

static void
hp_destroy(struct paella__policy *p)
{
	if (p == NULL)
		return;
	paella__heap_fini(&to_hp(p)->heap);
	free((void *)p->ops);
	free(p);
}

static enum paella_status
hp_insert(struct paella__policy *p, struct paella__sched_entity *e)
{
	return paella__heap_insert(&to_hp(p)->heap, &e->node);
}

static void
hp_remove(struct paella__policy *p, struct paella__sched_entity *e)
{
	paella__heap_remove(&to_hp(p)->heap, &e->node);
}

static void
hp_served(struct paella__policy *p, struct paella__sched_entity *e,
	  const struct paella__sched_clock *clock)
{
	paella__heap_update(&to_hp(p)->heap, &e->node);
}

static void
hp_rekey(struct paella__policy *p)
{
	paella__heap_rebuild(&to_hp(p)->heap);
}

static struct paella__sched_entity *
hp_peek(struct paella__policy *p, const struct paella__sched_clock *clock)
{
	struct paella__heap_node *top = paella__heap_top(&to_hp(p)->heap);

	return top ? PAELLA__ENTITY_OF(top, node) : NULL;
}

enum paella_status
paella__policy_heap_create(const char *name, paella__heap_less less,
			   struct paella__policy **out)
{
	struct heap_policy *hp = calloc(1, sizeof(*hp));
	struct paella__policy_ops *ops = calloc(1, sizeof(*ops));

	*out = NULL;
	if (hp == NULL || ops == NULL) {
		free(hp);
		free(ops);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "policy: out of memory");
	}
	/* A table per instance, for the name; the functions are shared. */
	*ops = (struct paella__policy_ops)PAELLA__POLICY_OPS(name, hp);
	hp->base.ops = ops;
	paella__heap_init(&hp->heap, less);
	*out = &hp->base;
	return PAELLA_STATUS_OK;
}

