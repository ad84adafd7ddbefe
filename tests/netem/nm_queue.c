/*
 * nm_queue.c - delay queues, shaping draws, the random source.
 */
#include "nm_queue.h"

#include <math.h>
#include <stdlib.h>

#include "st_error.h"

#define NM_NS_PER_MS 1000000.0
#define NM_MAX_MS 60000.0

void nm_rng_seed(struct nm_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t nm_rng_next(struct nm_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static bool ms_ok(double v)
{
	return isfinite(v) && v >= 0.0 && v <= NM_MAX_MS;
}

int nm_shape_set(struct nm_shape *sh, double delay_ms, double jitter_ms,
		 double loss_pct, double rto_ms)
{
	if (!ms_ok(delay_ms) || !ms_ok(jitter_ms) || !ms_ok(rto_ms))
		return ST_ERANGE;
	if (jitter_ms > delay_ms)
		return ST_ERANGE;
	if (!isfinite(loss_pct) || loss_pct < 0.0 || loss_pct > 100.0)
		return ST_ERANGE;
	sh->delay_ns = (uint64_t)llround(delay_ms * NM_NS_PER_MS);
	sh->jitter_ns = (uint64_t)llround(jitter_ms * NM_NS_PER_MS);
	sh->rto_ns = (uint64_t)llround(rto_ms * NM_NS_PER_MS);
	sh->loss = loss_pct / 100.0;
	return 0;
}

uint64_t nm_shape_delay(const struct nm_shape *sh, struct nm_rng *r)
{
	uint64_t span, d;

	if (sh->jitter_ns == 0)
		return sh->delay_ns;
	span = 2 * sh->jitter_ns + 1;
	/* delay - jitter + [0, 2 jitter]; nm_shape_set() keeps jitter <=
	 * delay, so this never goes below zero. */
	d = sh->delay_ns - sh->jitter_ns + nm_rng_next(r) % span;
	return d;
}

bool nm_shape_lost(const struct nm_shape *sh, struct nm_rng *r)
{
	double u;

	if (sh->loss <= 0.0)
		return false;
	/* 53 random bits: a uniform double in [0, 1). */
	u = (double)(nm_rng_next(r) >> 11) * 0x1.0p-53;
	return u < sh->loss;
}

struct nm_item *nm_item_new(size_t len)
{
	struct nm_item *it;

	if (len > UINT32_MAX)
		return NULL;
	it = malloc(sizeof(*it) + len);
	if (it == NULL)
		return NULL;
	st_link_init(&it->link);
	it->due_ns = 0;
	it->owner = NULL;
	it->len = (uint32_t)len;
	it->flags = 0;
	return it;
}

void nm_dq_init(struct nm_dq *q, size_t max_bytes)
{
	st_list_init(&q->items);
	q->last_due_ns = 0;
	q->bytes = 0;
	q->count = 0;
	q->max_bytes = max_bytes;
}

int nm_dq_push(struct nm_dq *q, struct nm_item *it, uint64_t now_ns,
	       uint64_t delay_ns)
{
	size_t sz = sizeof(*it) + it->len;
	uint64_t due = now_ns + delay_ns;

	if (q->max_bytes != 0 && q->bytes + sz > q->max_bytes)
		return ST_ESPACE;
	/* FIFO: never before the item ahead (see the header). */
	if (q->count > 0 && due < q->last_due_ns)
		due = q->last_due_ns;
	it->due_ns = due;
	q->last_due_ns = due;
	q->bytes += sz;
	q->count++;
	st_list_push_back(&q->items, &it->link);
	return 0;
}

struct nm_item *nm_dq_head(const struct nm_dq *q)
{
	struct st_link *k = st_list_first(&q->items);

	return k == NULL ? NULL : ST_CONTAINER(k, struct nm_item, link);
}

struct nm_item *nm_dq_pop_due(struct nm_dq *q, uint64_t until_ns)
{
	struct nm_item *it = nm_dq_head(q);

	if (it == NULL || it->due_ns > until_ns)
		return NULL;
	st_list_remove(&it->link);
	q->bytes -= sizeof(*it) + it->len;
	q->count--;
	return it;
}

void nm_dq_clear(struct nm_dq *q)
{
	struct nm_item *it;

	for (it = nm_dq_pop_due(q, UINT64_MAX); it != NULL;
	     it = nm_dq_pop_due(q, UINT64_MAX))
		free(it);
}

int nm_group_by_owner(struct nm_item **items, int n)
{
	/* Open addressing over the owner pointers, twice the items' room;
	 * each owner's items chained through next[] from its slot. */
	enum { SLOTS = 2 * NM_GROUP_MAX };
	struct {
		void *owner;
		bool used;
		short head, tail;
	} slot[SLOTS];
	short next[NM_GROUP_MAX], order[NM_GROUP_MAX];
	struct nm_item *copy[NM_GROUP_MAX];
	int nowners = 0, k = 0;

	if (n < 0 || n > NM_GROUP_MAX)
		return ST_ERANGE;
	for (int i = 0; i < SLOTS; i++)
		slot[i].used = false;
	for (int i = 0; i < n; i++) {
		uintptr_t h = (uintptr_t)items[i]->owner;
		size_t j = (size_t)((h >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 55) &
			   (SLOTS - 1);

		while (slot[j].used && slot[j].owner != items[i]->owner)
			j = (j + 1) & (SLOTS - 1);
		next[i] = -1;
		copy[i] = items[i];
		if (!slot[j].used) {
			slot[j].used = true;
			slot[j].owner = items[i]->owner;
			slot[j].head = slot[j].tail = (short)i;
			order[nowners++] = (short)j;
		} else {
			next[slot[j].tail] = (short)i;
			slot[j].tail = (short)i;
		}
	}
	for (int g = 0; g < nowners; g++)
		for (int i = slot[order[g]].head; i >= 0; i = next[i])
			items[k++] = copy[i];
	return 0;
}
