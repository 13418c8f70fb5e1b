/*
 * policy.c - the one place that knows every policy: makes the one a
 * runtime's config names.
 */
#include "log.h"
#include "policy.h"

enum paella_status
paella__policy_create(enum paella_policy kind, const struct paella__policy_params *params,
		      struct paella__policy **out)
{
	switch (kind) {
	case PAELLA_POLICY_SRPT:
		return paella__policy_srpt_create(params, out);
	case PAELLA_POLICY_FIFO:
		return paella__policy_fifo_create(params, out);
	case PAELLA_POLICY_FAIR:
		return paella__policy_fair_create(params, out);
	case PAELLA_POLICY_EDF:
		return paella__policy_edf_create(params, out);
	}
	*out = NULL;
	return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
		"policy %d is not one of PAELLA_POLICY_SRPT, _FIFO, _FAIR, _EDF", (int)kind);
}
