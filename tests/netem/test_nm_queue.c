/*
 * test_nm_queue.c - the emulator's delay queue, delay and loss draws.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nm_queue.h"
#include "st_error.h"

#define MS 1000000u

static struct nm_item *item(uint32_t tag)
{
	struct nm_item *it = nm_item_new(sizeof(tag));

	assert_non_null(it);
	*(uint32_t *)(void *)it->data = tag;
	return it;
}

static uint32_t tag_of(const struct nm_item *it)
{
	return *(const uint32_t *)(const void *)it->data;
}

/* Items come out in the order they went in, each at now + its delay. */
static void test_fifo_due(void **state)
{
	struct nm_dq q;
	struct nm_item *it;

	(void)state;
	nm_dq_init(&q, 0);
	assert_int_equal(nm_dq_push(&q, item(1), 1000, 25 * MS), 0);
	assert_int_equal(nm_dq_push(&q, item(2), 2000, 25 * MS), 0);
	assert_int_equal(q.count, 2);
	assert_null(nm_dq_pop_due(&q, 1000 + 25 * MS - 1)); /* not yet */
	it = nm_dq_pop_due(&q, 1000 + 25 * MS);
	assert_non_null(it);
	assert_int_equal(tag_of(it), 1);
	assert_int_equal(it->due_ns, 1000 + 25 * MS);
	free(it);
	assert_null(nm_dq_pop_due(&q, 1999 + 25 * MS));
	it = nm_dq_pop_due(&q, UINT64_MAX);
	assert_int_equal(tag_of(it), 2);
	free(it);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
	assert_null(nm_dq_head(&q));
}

/* A shorter delay behind a longer one waits for it: no reordering, and
 * the head is always the next due (what makes the queue O(1)). */
static void test_clamp_no_reorder(void **state)
{
	static const struct {
		uint64_t now, delay, want_due;
	} rows[] = {
		{0, 30 * MS, 30 * MS},
		{1 * MS, 20 * MS, 30 * MS}, /* would be 21 ms: clamped */
		{2 * MS, 29 * MS, 31 * MS},
		{40 * MS, 0, 40 * MS},
	};
	struct nm_dq q;

	(void)state;
	nm_dq_init(&q, 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(nm_dq_push(&q, item((uint32_t)i), rows[i].now,
					    rows[i].delay), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nm_item *it = nm_dq_pop_due(&q, UINT64_MAX);

		assert_non_null(it);
		assert_int_equal(tag_of(it), i);
		assert_int_equal(it->due_ns, rows[i].want_due);
		free(it);
	}
}

/* The byte cap refuses an item, which stays the caller's. */
static void test_cap(void **state)
{
	size_t one = sizeof(struct nm_item) + sizeof(uint32_t);
	struct nm_dq q;
	struct nm_item *extra = item(9);

	(void)state;
	nm_dq_init(&q, 2 * one);
	assert_int_equal(nm_dq_push(&q, item(1), 0, 0), 0);
	assert_int_equal(nm_dq_push(&q, item(2), 0, 0), 0);
	assert_int_equal(nm_dq_push(&q, extra, 0, 0), ST_ESPACE);
	assert_int_equal(q.count, 2);
	free(extra);
	nm_dq_clear(&q);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
}

static void test_shape_ranges(void **state)
{
	static const struct {
		double delay, jitter, loss, rto;
		int want;
	} rows[] = {
		{25, 5, 0.5, 200, 0},
		{0, 0, 0, 0, 0},
		{60000, 60000, 100, 60000, 0},
		{-1, 0, 0, 200, ST_ERANGE},
		{10, 11, 0, 200, ST_ERANGE}, /* jitter above delay */
		{10, 0, 100.01, 200, ST_ERANGE},
		{60001, 0, 0, 200, ST_ERANGE},
		{10, 0, 0, 1.0 / 0.0, ST_ERANGE},
	};
	struct nm_shape sh;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(nm_shape_set(&sh, rows[i].delay, rows[i].jitter,
					      rows[i].loss, rows[i].rto),
				 rows[i].want);
	assert_int_equal(nm_shape_set(&sh, 25, 2.5, 1, 200), 0);
	assert_int_equal(sh.delay_ns, 25 * MS);
	assert_int_equal(sh.jitter_ns, 2500000);
	assert_int_equal(sh.rto_ns, 200 * MS);
}

/* Jitter stays within delay +/- jitter, covers both ends, mean = delay. */
static void test_jitter(void **state)
{
	struct nm_shape sh;
	struct nm_rng r;
	uint64_t lo = UINT64_MAX, hi = 0;
	double sum = 0;
	const int n = 200000;

	(void)state;
	assert_int_equal(nm_shape_set(&sh, 25, 5, 0, 200), 0);
	nm_rng_seed(&r, 42);
	for (int i = 0; i < n; i++) {
		uint64_t d = nm_shape_delay(&sh, &r);

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += (double)d;
	}
	assert_true(lo >= 20 * MS && lo < 20 * MS + MS / 10);
	assert_true(hi <= 30 * MS && hi > 30 * MS - MS / 10);
	assert_true(sum / n > 24.95 * MS && sum / n < 25.05 * MS);
	assert_int_equal(nm_shape_set(&sh, 25, 0, 0, 200), 0);
	assert_int_equal(nm_shape_delay(&sh, &r), 25 * MS);
}

/* Loss hits the configured share of packets (within 5 sigma). */
static void test_loss_rate(void **state)
{
	static const double pcts[] = {0, 0.5, 5, 50, 100};
	struct nm_shape sh;
	struct nm_rng r;
	const int n = 200000;

	(void)state;
	nm_rng_seed(&r, 7);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double p = pcts[i] / 100, sigma;
		int lost = 0;

		assert_int_equal(nm_shape_set(&sh, 0, 0, pcts[i], 200), 0);
		for (int k = 0; k < n; k++)
			lost += nm_shape_lost(&sh, &r);
		sigma = sqrt(n * p * (1 - p));
		assert_true(lost >= n * p - 5 * sigma - 0.5);
		assert_true(lost <= n * p + 5 * sigma + 0.5);
	}
}

/* The same seed gives the same draws: a run can be repeated. */
static void test_seeded(void **state)
{
	struct nm_rng a, b;

	(void)state;
	nm_rng_seed(&a, 99);
	nm_rng_seed(&b, 99);
	for (int i = 0; i < 100; i++)
		assert_int_equal(nm_rng_next(&a), nm_rng_next(&b));
}

/* Grouping by owner: each owner's items adjacent, the owners in the order
 * of their first item, each owner's items in their order; every item
 * exactly once. */
static void test_group_by_owner(void **state)
{
	static const struct {
		const char *owners; /* one letter an item, '.' a NULL owner */
		const char *want;
	} rows[] = {
		{"", ""},
		{"a", "a"},
		{"aaaa", "aaaa"},
		{"abab", "aabb"},
		{"abcabcabc", "aaabbbccc"},
		{"abacbca", "aaabbcc"},
		{"a.b.a", "aa..b"}, /* NULL is an owner like any */
		{"dcba", "dcba"},
	};
	static char owners[26];
	struct nm_item *items[NM_GROUP_MAX];

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		int n = (int)strlen(rows[r].owners);
		uint32_t last[27];

		for (int i = 0; i < n; i++) {
			char c = rows[r].owners[i];

			items[i] = item((uint32_t)i);
			items[i]->owner = c == '.' ? NULL : &owners[c - 'a'];
		}
		assert_int_equal(nm_group_by_owner(items, n), 0);
		for (int i = 0; i < 27; i++)
			last[i] = UINT32_MAX;
		for (int i = 0; i < n; i++) {
			char *o = items[i]->owner;
			int slot = o == NULL ? 26 : (int)(o - owners);
			char got = o == NULL ? '.' : (char)('a' + slot);

			if (got != rows[r].want[i])
				fail_msg("row %zu (%s): item %d has owner %c, want %c",
					 r, rows[r].owners, i, got, rows[r].want[i]);
			/* in their order within the owner */
			if (last[slot] != UINT32_MAX)
				assert_true(tag_of(items[i]) > last[slot]);
			last[slot] = tag_of(items[i]);
		}
		for (int i = 0; i < n; i++)
			free(items[i]);
	}
}

/* The most items, every one its own owner (no two in one sendmmsg) and
 * then all one owner; out of range refused, items untouched. */
static void test_group_full(void **state)
{
	static char owners[NM_GROUP_MAX];
	struct nm_item *items[NM_GROUP_MAX], *saved[NM_GROUP_MAX];

	(void)state;
	for (int i = 0; i < NM_GROUP_MAX; i++) {
		items[i] = item((uint32_t)i);
		/* reversed: hash order must not matter */
		items[i]->owner = &owners[NM_GROUP_MAX - 1 - i];
		saved[i] = items[i];
	}
	assert_int_equal(nm_group_by_owner(items, NM_GROUP_MAX), 0);
	assert_memory_equal(items, saved, sizeof(items));
	/* two owners alternating, the whole batch */
	for (int i = 0; i < NM_GROUP_MAX; i++)
		items[i]->owner = &owners[i % 2];
	assert_int_equal(nm_group_by_owner(items, NM_GROUP_MAX), 0);
	for (int i = 0; i < NM_GROUP_MAX; i++) {
		assert_ptr_equal(items[i]->owner, &owners[i < NM_GROUP_MAX / 2 ? 0 : 1]);
		assert_int_equal(tag_of(items[i]),
				 i < NM_GROUP_MAX / 2 ? 2 * i : 2 * (i - NM_GROUP_MAX / 2) + 1);
	}
	assert_int_equal(nm_group_by_owner(items, NM_GROUP_MAX + 1), ST_ERANGE);
	assert_int_equal(nm_group_by_owner(items, -1), ST_ERANGE);
	for (int i = 0; i < NM_GROUP_MAX; i++)
		free(items[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_due),
		cmocka_unit_test(test_clamp_no_reorder),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_shape_ranges),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_seeded),
		cmocka_unit_test(test_group_by_owner),
		cmocka_unit_test(test_group_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
