/*
 * policy-srpt.c - shortest remaining processing time first: the job whose
 * kernels not launched yet add up to the least estimated GPU time goes
 * next, so short requests are not stuck behind long ones.  Paella's
 * default, as in the original.
 *
 * Estimates come from each kernel's profile at model finalize, refined as
 * launches complete (the dispatcher keeps remaining_ns); a job without an
 * estimate is a bug, never a guess (the original served unknown models
 * first).
 */
#include "policy.h"
#include "util.h"

bool
paella__srpt_before(const struct paella__sched_entity *x, const struct paella__sched_entity *y)
{
	if (x->remaining_ns != y->remaining_ns)
		return x->remaining_ns < y->remaining_ns;
	return x->seq < y->seq;
}

bool
paella__srpt_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	const struct paella__sched_entity *x = PAELLA__ENTITY_OF(a, node);
	const struct paella__sched_entity *y = PAELLA__ENTITY_OF(b, node);

	PAELLA__ASSERT(x->estimated && y->estimated);
	return paella__srpt_before(x, y);
}

enum paella_status
paella__policy_srpt_create(const struct paella__policy_params *params,
			   struct paella__policy **out)
{
	return paella__policy_heap_create("srpt", paella__srpt_less, out);
}
