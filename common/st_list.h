/*
 * st_list.h - an intrusive, circular, doubly linked list: the one list of
 * the code base (in-flight sets, FIFO queues, free lists).
 *
 * A list is a sentinel struct st_list; an element embeds a struct st_link
 * and is found back from it with ST_CONTAINER(link, type, member).  The
 * list owns nothing: linking and unlinking never allocate or free, so the
 * element's owner decides its lifetime, and must unlink it before freeing
 * it.  Every operation is O(1) except st_list_len().  An element is on at
 * most one list per embedded link; st_link_linked() tells whether it is on
 * one.  Not thread safe; no global state.
 *
 *   queue (FIFO):   st_list_push_back()  + st_list_pop_front()
 *   set (any order removal): st_list_push_front() + st_list_remove()
 *   free list:      st_list_push_front() + st_list_pop_front()
 */
#ifndef ST_LIST_H
#define ST_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct st_link {
	struct st_link *prev, *next; /* both NULL: on no list */
};

struct st_list {
	struct st_link head; /* sentinel: head.next is the first element */
};

/* The struct of type `type` whose member `member` is *link. */
#define ST_CONTAINER(link, type, member) \
	((type *)(void *)((char *)(link) - offsetof(type, member)))

/* for (link = first; link != &list->head; link = next), safe against the
 * removal of `it` inside the body (the next link is read first). */
#define ST_LIST_FOREACH(it, nx, list)                                  \
	for ((it) = (list)->head.next, (nx) = (it)->next;              \
	     (it) != &(list)->head; (it) = (nx), (nx) = (it)->next)

static inline void st_list_init(struct st_list *l)
{
	l->head.prev = l->head.next = &l->head;
}

static inline void st_link_init(struct st_link *k)
{
	k->prev = k->next = NULL;
}

static inline bool st_link_linked(const struct st_link *k)
{
	return k->next != NULL;
}

static inline bool st_list_empty(const struct st_list *l)
{
	return l->head.next == &l->head;
}

static inline void st_list_insert_(struct st_link *k, struct st_link *prev,
				   struct st_link *next)
{
	k->prev = prev;
	k->next = next;
	prev->next = k;
	next->prev = k;
}

/* k must be on no list. */
static inline void st_list_push_front(struct st_list *l, struct st_link *k)
{
	st_list_insert_(k, &l->head, l->head.next);
}

/* k must be on no list. */
static inline void st_list_push_back(struct st_list *l, struct st_link *k)
{
	st_list_insert_(k, l->head.prev, &l->head);
}

/* Unlink k from whatever list it is on (a no-op if it is on none). */
static inline void st_list_remove(struct st_link *k)
{
	if (k->next == NULL)
		return;
	k->prev->next = k->next;
	k->next->prev = k->prev;
	k->prev = k->next = NULL;
}

/* The first link, or NULL if the list is empty. */
static inline struct st_link *st_list_first(const struct st_list *l)
{
	return st_list_empty(l) ? NULL : l->head.next;
}

/* Unlink and return the first link, or NULL if the list is empty. */
static inline struct st_link *st_list_pop_front(struct st_list *l)
{
	struct st_link *k = st_list_first(l);

	if (k != NULL)
		st_list_remove(k);
	return k;
}

/* The number of elements (walks the list). */
static inline size_t st_list_len(const struct st_list *l)
{
	size_t n = 0;

	for (const struct st_link *k = l->head.next; k != &l->head; k = k->next)
		n++;
	return n;
}

#endif /* ST_LIST_H */
