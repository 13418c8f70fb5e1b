/*
 * policy-fifo.c - jobs in order of submission: a job's every kernel goes
 * before any kernel of a job submitted after it.
 */
#include "policy.h"

static bool
fifo_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	return PAELLA__ENTITY_OF(a, node)->seq < PAELLA__ENTITY_OF(b, node)->seq;
}

enum paella_status
paella__policy_fifo_create(const struct paella__policy_params *params,
			   struct paella__policy **out)
{
	return paella__policy_heap_create("fifo", fifo_less, out);
}
