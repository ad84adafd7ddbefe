/*
 * test_sc_tail.c - the duration histogram's quantiles (scanner/sc_tail.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sc_tail.h"

static void test_empty(void **state)
{
	struct sc_tail t;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(sc_tail_quantile(&t, 0.5), 0);
	assert_int_equal(sc_tail_quantile(&t, 1.0), 0);
}

/* Below SC_TAIL_EXACT every value has its own bucket: exact quantiles. */
static void test_exact_small(void **state)
{
	struct sc_tail t;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (uint64_t v = 1; v <= 20; v++)
		sc_tail_add(&t, v);
	assert_int_equal(t.n, 20);
	assert_int_equal(sc_tail_quantile(&t, 0.5), 10);  /* 10th of 20 */
	assert_int_equal(sc_tail_quantile(&t, 0.95), 19); /* 19th */
	assert_int_equal(sc_tail_quantile(&t, 1.0), 20);
	assert_int_equal(sc_tail_quantile(&t, 0.0), 0);   /* outside (0,1] */
	assert_int_equal(sc_tail_quantile(&t, 1.5), 0);
}

/*
 * 1 .. 10000 ms, one each: the q-quantile is q * 10000; the histogram may
 * say at most 1/16 more, never less, and the maximum exactly.
 */
static void test_bounded_error(void **state)
{
	static const double qs[] = { 0.01, 0.25, 0.5, 0.9, 0.99, 0.999 };
	struct sc_tail t;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (uint64_t v = 1; v <= 10000; v++)
		sc_tail_add(&t, v);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t want = (uint64_t)(qs[i] * 10000 + 0.5);
		uint64_t got = sc_tail_quantile(&t, qs[i]);

		if (got < want || got > want + want / SC_TAIL_SUB)
			fail_msg("q %.3f: %llu, want %llu .. %llu", qs[i],
				 (unsigned long long)got,
				 (unsigned long long)want,
				 (unsigned long long)(want + want / SC_TAIL_SUB));
	}
	assert_int_equal(sc_tail_quantile(&t, 1.0), 10000);
	assert_int_equal(t.max_ms, 10000);
}

/* The tail the summary is for: 990 fast domains and 10 held by a 30 s
 * tarpit.  p50 stays fast, p99 is the fast ones' top, max the tarpit;
 * one more slow domain moves p99 to the tarpit. */
static void test_tarpit_tail(void **state)
{
	struct sc_tail t;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 990; i++)
		sc_tail_add(&t, 100);
	for (int i = 0; i < 10; i++)
		sc_tail_add(&t, 30000);
	assert_in_range(sc_tail_quantile(&t, 0.5), 100, 103);
	assert_in_range(sc_tail_quantile(&t, 0.99), 100, 103);
	assert_int_equal(sc_tail_quantile(&t, 1.0), 30000);
	sc_tail_add(&t, 30000);
	assert_in_range(sc_tail_quantile(&t, 0.99), 30000, 30000);
}

/* Huge values are clamped to the last bucket, not out of bounds; merge
 * adds counts and keeps the larger maximum. */
static void test_huge_and_merge(void **state)
{
	struct sc_tail a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	sc_tail_add(&a, UINT64_MAX);
	sc_tail_add(&a, (uint64_t)UINT32_MAX + 5);
	assert_int_equal(a.bucket[SC_TAIL_BUCKETS - 1], 2);
	sc_tail_add(&b, 7);
	sc_tail_add(&b, 7);
	sc_tail_merge(&b, &a);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.max_ms, UINT64_MAX);
	assert_int_equal(sc_tail_quantile(&b, 0.5), 7);
	assert_true(sc_tail_quantile(&b, 0.75) >= UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_bounded_error),
		cmocka_unit_test(test_tarpit_tail),
		cmocka_unit_test(test_huge_and_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
