/*
 * sc_tail.h - the tail of the domains' durations: a fixed-size log-linear
 * histogram (issue 15: the scan summary reports p50/p99), so its memory is
 * bounded whatever the number of domains.  Pure, no allocation.
 *
 * Values (milliseconds) below SC_TAIL_EXACT are counted exactly; above,
 * each power of two is split into SC_TAIL_SUB buckets of equal width, so a
 * quantile is at most 1/SC_TAIL_SUB (6.25%) above the true value, never
 * below it.  Values above UINT32_MAX ms count as UINT32_MAX.  The struct
 * is plain data: copy it, zero it to empty it, add two with
 * sc_tail_merge() (shards, threads).
 */
#ifndef SC_TAIL_H
#define SC_TAIL_H

#include <stdint.h>

#define SC_TAIL_SUB 16u                    /* buckets per power of two */
#define SC_TAIL_EXACT (2u * SC_TAIL_SUB)   /* 0 .. 31 ms: one bucket each */
/* The exact ones, then 16 per power of two from 2^5 to 2^31. */
#define SC_TAIL_BUCKETS (SC_TAIL_EXACT + (32u - 5u) * SC_TAIL_SUB)

struct sc_tail {
	uint64_t n;                        /* values added */
	uint64_t max_ms;                   /* the largest, exact */
	uint64_t bucket[SC_TAIL_BUCKETS];
};

/* Count one duration of ms milliseconds. */
void sc_tail_add(struct sc_tail *t, uint64_t ms);
/* dst += src. */
void sc_tail_merge(struct sc_tail *dst, const struct sc_tail *src);
/*
 * The q-quantile (0 < q <= 1) in ms: the upper end of the bucket that
 * holds the ceil(q * n)-th smallest value, but no more than max_ms; so
 * q = 1 gives max_ms exactly.  0 when nothing was added or q is outside
 * (0, 1].
 */
uint64_t sc_tail_quantile(const struct sc_tail *t, double q);

#endif /* SC_TAIL_H */
