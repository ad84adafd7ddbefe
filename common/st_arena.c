/*
 * st_arena.c - chunked bump allocator.
 */
#include "st_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "st_list.h"

#define CHUNK_MIN 4096u
#define ALIGN (_Alignof(max_align_t))

/* The first chunk is the arena's own (a->head, kept by a reset) and owns
 * the list of the later ones, oldest first.  The list's sentinel lives in
 * that chunk, not in struct st_arena, so an arena may be moved by value
 * (the engine keeps a domain's arena across a memset of the domain). */
struct st_arena_chunk {
	struct st_link link;  /* on the first chunk's more, if a later one */
	struct st_list more;  /* the first chunk: the later chunks */
	size_t size;  /* bytes of data[] */
	size_t off;   /* next free byte */
	max_align_t data[];
};

void st_arena_init(struct st_arena *a, size_t cap)
{
	st_arena_init_sized(a, cap, CHUNK_MIN);
}

void st_arena_init_sized(struct st_arena *a, size_t cap, size_t chunk)
{
	a->head = NULL;
	a->used = 0;
	a->cap = cap;
	a->chunk = chunk > 0 ? chunk : CHUNK_MIN;
}

/* The chunk allocations come from: the newest. */
static struct st_arena_chunk *newest(const struct st_arena *a)
{
	if (a->head == NULL || st_list_empty(&a->head->more))
		return a->head;
	return ST_CONTAINER(a->head->more.head.prev, struct st_arena_chunk,
			    link);
}

void *st_arena_alloc(struct st_arena *a, size_t n)
{
	struct st_arena_chunk *c = newest(a);
	size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
	void *p;

	if (n == 0)
		need = ALIGN;
	if (need < n || need > a->cap - a->used)
		return NULL;
	if (c == NULL || c->size - c->off < need) {
		size_t size = need > a->chunk ? need : a->chunk;

		if (c != NULL && c->size * 2 > size && c->size * 2 <= 65536)
			size = c->size * 2;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		st_link_init(&c->link);
		c->size = size;
		c->off = 0;
		if (a->head == NULL) {
			st_list_init(&c->more);
			a->head = c;
		} else {
			st_list_push_back(&a->head->more, &c->link);
		}
	}
	p = (char *)c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

size_t st_arena_footprint(const struct st_arena *a)
{
	struct st_link *it, *nx;
	size_t n;

	if (a->head == NULL)
		return 0;
	n = a->head->size;
	ST_LIST_FOREACH(it, nx, &a->head->more)
		n += ST_CONTAINER(it, struct st_arena_chunk, link)->size;
	return n;
}

void *st_arena_calloc(struct st_arena *a, size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	p = st_arena_alloc(a, count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

char *st_arena_strndup(struct st_arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = st_arena_alloc(a, len + 1);
	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *st_arena_strdup(struct st_arena *a, const char *s)
{
	return s != NULL ? st_arena_strndup(a, s, strlen(s)) : NULL;
}

void st_arena_reset(struct st_arena *a)
{
	a->used = 0;
	if (a->head == NULL)
		return;
	while (!st_list_empty(&a->head->more))
		free(ST_CONTAINER(st_list_pop_front(&a->head->more),
				  struct st_arena_chunk, link));
	a->head->off = 0;
}

void st_arena_free(struct st_arena *a)
{
	st_arena_reset(a);
	free(a->head);
	a->head = NULL;
}
