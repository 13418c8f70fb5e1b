/*
 * heap.c - the indexed binary min-heap behind the policies.
 */
#include <stdlib.h>

#include "heap.h"
#include "util.h"

void
paella__heap_init(struct paella__heap *heap, paella__heap_less less)
{
	heap->nodes = NULL;
	heap->size = 0;
	heap->capacity = 0;
	heap->less = less;
}

void
paella__heap_fini(struct paella__heap *heap)
{
	for (unsigned i = 0; i < heap->size; i++)
		heap->nodes[i]->index = PAELLA__HEAP_NONE;
	free(heap->nodes);
	heap->nodes = NULL;
	heap->size = 0;
	heap->capacity = 0;
}

static void
place(struct paella__heap *heap, unsigned i, struct paella__heap_node *node)
{
	heap->nodes[i] = node;
	node->index = i;
}

static void
sift_up(struct paella__heap *heap, unsigned i)
{
	struct paella__heap_node *node = heap->nodes[i];

	while (i > 0) {
		unsigned parent = (i - 1) / 2;

		if (!heap->less(node, heap->nodes[parent]))
			break;
		place(heap, i, heap->nodes[parent]);
		i = parent;
	}
	place(heap, i, node);
}

static void
sift_down(struct paella__heap *heap, unsigned i)
{
	struct paella__heap_node *node = heap->nodes[i];

	for (;;) {
		unsigned child = 2 * i + 1;

		if (child >= heap->size)
			break;
		if (child + 1 < heap->size &&
		    heap->less(heap->nodes[child + 1], heap->nodes[child]))
			child++;
		if (!heap->less(heap->nodes[child], node))
			break;
		place(heap, i, heap->nodes[child]);
		i = child;
	}
	place(heap, i, node);
}

enum paella_status
paella__heap_insert(struct paella__heap *heap, struct paella__heap_node *node)
{
	PAELLA__ASSERT(node->index == PAELLA__HEAP_NONE);
	if (heap->size == heap->capacity) {
		unsigned cap = heap->capacity ? heap->capacity * 2 : 64;
		struct paella__heap_node **nodes = realloc(heap->nodes, cap * sizeof(*nodes));

		if (nodes == NULL)
			return PAELLA_STATUS_NO_MEMORY;
		heap->nodes = nodes;
		heap->capacity = cap;
	}
	place(heap, heap->size++, node);
	sift_up(heap, node->index);
	return PAELLA_STATUS_OK;
}

void
paella__heap_remove(struct paella__heap *heap, struct paella__heap_node *node)
{
	unsigned i = node->index;
	struct paella__heap_node *last;

	PAELLA__ASSERT(i < heap->size && heap->nodes[i] == node);
	node->index = PAELLA__HEAP_NONE;
	last = heap->nodes[--heap->size];
	if (last == node)
		return;
	place(heap, i, last);
	paella__heap_update(heap, last);
}

void
paella__heap_update(struct paella__heap *heap, struct paella__heap_node *node)
{
	unsigned i = node->index;

	PAELLA__ASSERT(i < heap->size && heap->nodes[i] == node);
	if (i > 0 && heap->less(node, heap->nodes[(i - 1) / 2]))
		sift_up(heap, i);
	else
		sift_down(heap, i);
}

void
paella__heap_rebuild(struct paella__heap *heap)
{
	for (unsigned i = heap->size / 2; i-- > 0;)
		sift_down(heap, i);
}
