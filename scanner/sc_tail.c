/*
 * sc_tail.c - log-linear histogram of durations (sc_tail.h).
 */
#include "sc_tail.h"

#include <math.h>

/* Bucket of v: v itself below SC_TAIL_EXACT; else, for 2^k <= v < 2^(k+1)
 * (k >= 5), the (v >> (k - 4)) - 16'th of the 16 buckets of that power. */
static unsigned bucket_of(uint64_t v)
{
	unsigned k = 0;

	if (v > UINT32_MAX)
		v = UINT32_MAX;
	if (v < SC_TAIL_EXACT)
		return (unsigned)v;
	for (uint64_t x = v; x > 1; x >>= 1)
		k++;
	return SC_TAIL_EXACT + (k - 5u) * SC_TAIL_SUB +
	       (unsigned)((v >> (k - 4u)) - SC_TAIL_SUB);
}

/* The largest value bucket b holds. */
static uint64_t bucket_top(unsigned b)
{
	unsigned k, sub;

	if (b < SC_TAIL_EXACT)
		return b;
	k = 5u + (b - SC_TAIL_EXACT) / SC_TAIL_SUB;
	sub = (b - SC_TAIL_EXACT) % SC_TAIL_SUB;
	return (((uint64_t)SC_TAIL_SUB + sub + 1u) << (k - 4u)) - 1u;
}

void sc_tail_add(struct sc_tail *t, uint64_t ms)
{
	t->bucket[bucket_of(ms)]++;
	t->n++;
	if (ms > t->max_ms)
		t->max_ms = ms;
}

void sc_tail_merge(struct sc_tail *dst, const struct sc_tail *src)
{
	for (unsigned b = 0; b < SC_TAIL_BUCKETS; b++)
		dst->bucket[b] += src->bucket[b];
	dst->n += src->n;
	if (src->max_ms > dst->max_ms)
		dst->max_ms = src->max_ms;
}

uint64_t sc_tail_quantile(const struct sc_tail *t, double q)
{
	uint64_t rank, seen = 0;

	if (t->n == 0 || !(q > 0) || q > 1)
		return 0;
	/* the 1e-9: 0.99 * 100 must be rank 99, not 100 by a rounding */
	rank = (uint64_t)ceil(q * (double)t->n - 1e-9);
	if (rank == 0)
		rank = 1;
	for (unsigned b = 0; b < SC_TAIL_BUCKETS; b++) {
		seen += t->bucket[b];
		if (seen >= rank) {
			uint64_t top = bucket_top(b);

			return top < t->max_ms ? top : t->max_ms;
		}
	}
	return t->max_ms;
}
