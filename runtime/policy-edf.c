/*
 * policy-edf.c - earliest deadline first.  Jobs submitted without a
 * deadline come after every job with one, in submission order.
 */
#include "policy.h"

static bool
edf_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	const struct paella__sched_entity *x = PAELLA__ENTITY_OF(a, node);
	const struct paella__sched_entity *y = PAELLA__ENTITY_OF(b, node);

	if (x->deadline_ns != y->deadline_ns)
		return x->deadline_ns < y->deadline_ns;
	return x->seq < y->seq;
}

enum paella_status
paella__policy_edf_create(const struct paella__policy_params *params,
			  struct paella__policy **out)
{
	return paella__policy_heap_create("edf", edf_less, out);
}
