/*
 * heap.h - an indexed binary min-heap of intrusive nodes.  Private.
 *
 * Each node records its position, so a node whose key changed is moved with
 * paella__heap_update() and any node removed in O(log n): the policies keep
 * their candidate jobs in these, keyed by remaining time, deadline or
 * arrival.  The order is the caller's @less; ties must be broken by the
 * caller (by arrival number) for runs to be deterministic.
 */
#ifndef PAELLA_HEAP_H
#define PAELLA_HEAP_H

#include <stdbool.h>

#include "paella/paella.h"

#define PAELLA__HEAP_NONE (~0u)

struct paella__heap_node {
	/* Position in the heap's array; PAELLA__HEAP_NONE when not in it. */
	unsigned index;
};

typedef bool (*paella__heap_less)(const struct paella__heap_node *a,
				  const struct paella__heap_node *b);

struct paella__heap {
	struct paella__heap_node **nodes;
	unsigned size;
	unsigned capacity;
	paella__heap_less less;
};

void
paella__heap_init(struct paella__heap *heap, paella__heap_less less);

void
paella__heap_fini(struct paella__heap *heap);

static inline void
paella__heap_node_init(struct paella__heap_node *node)
{
	node->index = PAELLA__HEAP_NONE;
}

static inline bool
paella__heap_contains(const struct paella__heap_node *node)
{
	return node->index != PAELLA__HEAP_NONE;
}

/* PAELLA_STATUS_NO_MEMORY when the array cannot grow. */
enum paella_status
paella__heap_insert(struct paella__heap *heap, struct paella__heap_node *node);

void
paella__heap_remove(struct paella__heap *heap, struct paella__heap_node *node);

/* After @node's key changed, in either direction. */
void
paella__heap_update(struct paella__heap *heap, struct paella__heap_node *node);

/* After many keys changed at once: restores the order in O(n). */
void
paella__heap_rebuild(struct paella__heap *heap);

static inline struct paella__heap_node *
paella__heap_top(const struct paella__heap *heap)
{
	return heap->size > 0 ? heap->nodes[0] : NULL;
}

#endif /* PAELLA_HEAP_H */
