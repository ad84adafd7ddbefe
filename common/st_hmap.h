/*
 * st_hmap.h - a string-keyed hash map (open addressing, linear probing,
 * backward-shift deletion) for the scanner's in-memory tables: names in
 * flight, the MX probe cache.
 *
 * Keys are borrowed: the map stores the key pointer given to st_hmap_put()
 * and never copies or frees it, so the key must live as long as its entry
 * (typically it points into the value).  Values are opaque pointers, not
 * owned.  The table doubles when it is 3/4 full and never shrinks.
 * Not thread safe; no global state.
 */
#ifndef ST_HMAP_H
#define ST_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct st_hmap_slot {
	const char *key; /* NULL: empty */
	uint64_t hash;
	void *value;
};

struct st_hmap {
	struct st_hmap_slot *slot;
	size_t cap;  /* power of two, or 0 before the first put */
	size_t n;
};

/* FNV-1a 64 of the bytes of s (also ds_shard_of's hash). */
uint64_t st_hash_str(const char *s);

void st_hmap_init(struct st_hmap *m);
/* Free the table (not the keys or values). */
void st_hmap_free(struct st_hmap *m);

/* The value for key, or NULL. */
void *st_hmap_get(const struct st_hmap *m, const char *key);

/* Insert or replace.  ST_OK, ST_ENOMEM (the map is unchanged). */
int st_hmap_put(struct st_hmap *m, const char *key, void *value);

/* Remove key; returns its value or NULL if absent. */
void *st_hmap_del(struct st_hmap *m, const char *key);

/* Remove every entry (keeps the table). */
void st_hmap_clear(struct st_hmap *m);

/* Iterate: for (i = 0; (i = st_hmap_next(m, i, &k, &v)) != 0;) visits every
 * entry once if the map is not modified meanwhile; returns 0 at the end. */
size_t st_hmap_next(const struct st_hmap *m, size_t i, const char **key,
		    void **value);

#endif /* ST_HMAP_H */
