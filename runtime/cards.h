/*
 * cards.h - the GPUs the simulator knows by name.  Private.
 */
#ifndef PAELLA_CARDS_H
#define PAELLA_CARDS_H

#include <stdint.h>

#include "occupancy.h"

struct paella__card {
	const char *name;
	unsigned sm_count;
	struct paella__sm_limits sm;
	uint64_t memory_bytes;
};

/* The card called @name (case-insensitive), or NULL. */
const struct paella__card *
paella__card_find(const char *name);

/* "H100, H200, A100, L4": for the message that rejects an unknown name. */
const char *
paella__card_names(void);

#endif /* PAELLA_CARDS_H */
