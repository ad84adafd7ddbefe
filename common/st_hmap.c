/*
 * st_hmap.c - string-keyed open-addressing hash map.
 */
#include "st_hmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "st_error.h"

uint64_t st_hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void st_hmap_init(struct st_hmap *m)
{
	m->slot = NULL;
	m->cap = 0;
	m->n = 0;
}

void st_hmap_free(struct st_hmap *m)
{
	free(m->slot);
	st_hmap_init(m);
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t find(const struct st_hmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;

	while (m->slot[i].key != NULL &&
	       (m->slot[i].hash != h || strcmp(m->slot[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

void *st_hmap_get(const struct st_hmap *m, const char *key)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	i = find(m, key, st_hash_str(key));
	return m->slot[i].key != NULL ? m->slot[i].value : NULL;
}

static int grow(struct st_hmap *m)
{
	size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
	struct st_hmap_slot *old = m->slot, *ns;
	size_t ocap = m->cap;

	ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return ST_ENOMEM;
	m->slot = ns;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].key != NULL)
			ns[find(m, old[i].key, old[i].hash)] = old[i];
	}
	free(old);
	return ST_OK;
}

int st_hmap_put(struct st_hmap *m, const char *key, void *value)
{
	uint64_t h = st_hash_str(key);
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3) {
		int ret = grow(m);

		if (ret != ST_OK)
			return ret;
	}
	i = find(m, key, h);
	if (m->slot[i].key == NULL)
		m->n++;
	m->slot[i] = (struct st_hmap_slot){ key, h, value };
	return ST_OK;
}

void *st_hmap_del(struct st_hmap *m, const char *key)
{
	size_t mask, i, j;
	void *value;

	if (m->n == 0)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, st_hash_str(key));
	if (m->slot[i].key == NULL)
		return NULL;
	value = m->slot[i].value;
	/* Backward shift: move later members of the run into the hole when
	 * their home slot does not lie cyclically in (hole, them]. */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (m->slot[j].key == NULL)
			break;
		home = (size_t)m->slot[j].hash & mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->slot[i] = m->slot[j];
		i = j;
	}
	m->slot[i] = (struct st_hmap_slot){ NULL, 0, NULL };
	m->n--;
	return value;
}

void st_hmap_clear(struct st_hmap *m)
{
	if (m->slot != NULL)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

size_t st_hmap_next(const struct st_hmap *m, size_t i, const char **key,
		    void **value)
{
	for (; i < m->cap; i++) {
		if (m->slot[i].key != NULL) {
			*key = m->slot[i].key;
			*value = m->slot[i].value;
			return i + 1;
		}
	}
	return 0;
}
