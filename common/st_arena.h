/*
 * st_arena.h - a bump allocator released in one call: the per-domain
 * memory of the scanner (STYLE: one arena per domain in flight).
 *
 * Memory comes from malloc'ed chunks; st_arena_reset() frees every chunk
 * but the first (kept for the next domain), st_arena_free() all of them.
 * The arena has a cap: an allocation that would take it past cap bytes
 * fails, so a hostile server cannot make one domain eat the machine.
 * Pointers returned stay valid until the next reset or free.  The struct
 * may be moved by value (a copy is the same arena; use only one of them
 * afterwards): nothing points back into it.
 */
#ifndef ST_ARENA_H
#define ST_ARENA_H

#include <stddef.h>

struct st_arena_chunk;

struct st_arena {
	struct st_arena_chunk *head; /* the first chunk (kept by a reset),
				      * which lists the later ones */
	size_t used;                 /* bytes handed out (with padding) */
	size_t cap;                  /* most bytes handed out at once */
	size_t chunk;                /* the smallest chunk malloc'ed */
};

/* Set up an empty arena limited to cap bytes, whose chunks are at least
 * 4 KiB. */
void st_arena_init(struct st_arena *a, size_t cap);
/* The same with chunks of at least `chunk` bytes (0: 4 KiB): the first
 * one (kept by a reset) is that small, later ones double.  For many
 * small arenas alive at once (the scanner's domains in flight). */
void st_arena_init_sized(struct st_arena *a, size_t cap, size_t chunk);

/* n bytes aligned for any type, or NULL (no memory, or over the cap). */
void *st_arena_alloc(struct st_arena *a, size_t n);
/* Zeroed. */
void *st_arena_calloc(struct st_arena *a, size_t count, size_t size);
/* A NUL-terminated copy of s[0..len) (s may hold any byte), or NULL. */
char *st_arena_strndup(struct st_arena *a, const char *s, size_t len);
/* st_arena_strndup(a, s, strlen(s)); NULL s gives NULL. */
char *st_arena_strdup(struct st_arena *a, const char *s);

/* Bytes of chunk data malloc'ed now (what the arena costs, beside the
 * struct and malloc's own headers). */
size_t st_arena_footprint(const struct st_arena *a);

/* Release everything but the first chunk. */
void st_arena_reset(struct st_arena *a);
void st_arena_free(struct st_arena *a);

#endif /* ST_ARENA_H */
