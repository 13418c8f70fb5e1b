/*
 * list.h - intrusive doubly linked lists, as libuv's queue.h: a node lives
 * inside the object it links, so linking allocates nothing.  Private.  And
 * free lists (PAELLA__FREE_*), singly linked the same way.
 *
 * A list is a head node linked to itself when empty:
 *	struct paella__list jobs;
 *	paella__list_init(&jobs);
 *	paella__list_append(&jobs, &job->link);
 *	PAELLA__LIST_FOREACH_SAFE(node, tmp, &jobs) { ... paella__list_unlink(node); }
 */
#ifndef PAELLA_LIST_H
#define PAELLA_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct paella__list {
	struct paella__list *prev;
	struct paella__list *next;
};

#define PAELLA__CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void
paella__list_init(struct paella__list *head)
{
	head->prev = head;
	head->next = head;
}

static inline bool
paella__list_empty(const struct paella__list *head)
{
	return head->next == head;
}

/* Whether @node is linked into some list; nodes are initialised unlinked
 * (paella__list_init on the node) and unlinking leaves them so. */
static inline bool
paella__list_linked(const struct paella__list *node)
{
	return node->next != node;
}

static inline void
paella__list_append(struct paella__list *head, struct paella__list *node)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

static inline void
paella__list_unlink(struct paella__list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	paella__list_init(node);
}

static inline struct paella__list *
paella__list_first(const struct paella__list *head)
{
	return paella__list_empty(head) ? NULL : head->next;
}

/* Moves every node of @from to the end of @to; @from ends empty. */
static inline void
paella__list_splice(struct paella__list *to, struct paella__list *from)
{
	if (paella__list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	paella__list_init(from);
}

#define PAELLA__LIST_FOREACH_SAFE(node, tmp, head) \
	for ((node) = (head)->next, (tmp) = (node)->next; (node) != (head); \
	     (node) = (tmp), (tmp) = (node)->next)

/*
 * Free lists: spare objects kept for reuse, so that hot paths allocate only
 * while a pool grows.  @head is a pointer to the object type, NULL when
 * empty; the objects link through their pointer member @link.
 *	PAELLA__FREE_PUSH(c->free_ops, op, next_free);
 *	PAELLA__FREE_POP(c->free_ops, op, next_free);     // op NULL when empty
 *	PAELLA__FREE_DRAIN(c->free_ops, next_free, free); // at destroy
 */
#define PAELLA__FREE_PUSH(head, obj, link) \
	do { \
		(obj)->link = (head); \
		(head) = (obj); \
	} while (0)

#define PAELLA__FREE_POP(head, obj, link) \
	do { \
		(obj) = (head); \
		if ((obj) != NULL) \
			(head) = (obj)->link; \
	} while (0)

#define PAELLA__FREE_DRAIN(head, link, destroy) \
	do { \
		while ((head) != NULL) { \
			__typeof__(head) paella__spare_ = (head); \
			(head) = paella__spare_->link; \
			destroy(paella__spare_); \
		} \
	} while (0)

#endif /* PAELLA_LIST_H */
