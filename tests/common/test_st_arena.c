/*
 * test_st_arena.c - common/st_arena: alignment, the cap, big allocations,
 * reset keeping one chunk, strndup with any byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "st_arena.h"

static void test_align_and_content(void **state)
{
	struct st_arena a;

	(void)state;
	st_arena_init(&a, 1 << 20);
	for (size_t n = 0; n < 100; n++) {
		uint8_t *p = st_arena_alloc(&a, n);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, (int)n, n);
	}
	st_arena_free(&a);
}

static void test_cap(void **state)
{
	struct st_arena a;

	(void)state;
	st_arena_init(&a, 10000);
	assert_non_null(st_arena_alloc(&a, 6000));
	assert_null(st_arena_alloc(&a, 6000));  /* over the cap */
	assert_non_null(st_arena_alloc(&a, 3000));
	assert_null(st_arena_alloc(&a, SIZE_MAX)); /* no overflow */
	assert_null(st_arena_calloc(&a, SIZE_MAX / 2, 4));
	st_arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_non_null(st_arena_alloc(&a, 9000)); /* room again */
	st_arena_free(&a);
}

static void test_big_and_reset(void **state)
{
	struct st_arena a;
	char *big;

	(void)state;
	st_arena_init(&a, 1 << 20);
	big = st_arena_alloc(&a, 200000); /* larger than any chunk */
	assert_non_null(big);
	memset(big, 'x', 200000);
	for (int i = 0; i < 1000; i++)
		assert_non_null(st_arena_alloc(&a, 100));
	st_arena_reset(&a);
	assert_non_null(a.head);
	st_arena_free(&a);
	assert_null(a.head);
}

static void test_strdup(void **state)
{
	static const char bin[] = { 'a', '\0', (char)0xff, 'b' };
	struct st_arena a;
	char *s;

	(void)state;
	st_arena_init(&a, 4096);
	s = st_arena_strndup(&a, bin, sizeof(bin));
	assert_non_null(s);
	assert_memory_equal(s, bin, sizeof(bin));
	assert_int_equal(s[sizeof(bin)], '\0');
	assert_string_equal(st_arena_strdup(&a, "mta-sts"), "mta-sts");
	assert_null(st_arena_strdup(&a, NULL));
	st_arena_free(&a);
}

/* st_arena.h: the struct may be moved by value.  The engine keeps a
 * domain's arena across a memset of the domain (keep = d->arena; reset;
 * memset; d->arena = keep): the copy must reset, allocate and free as the
 * original would have. */
static void test_move_by_value(void **state)
{
	struct st_arena a, moved;

	(void)state;
	st_arena_init(&a, 1 << 20);
	for (int i = 0; i < 8; i++) /* several chunks */
		assert_non_null(st_arena_alloc(&a, 3000));
	moved = a;
	memset(&a, 0xa5, sizeof(a));
	st_arena_reset(&moved);
	assert_int_equal(moved.used, 0);
	assert_non_null(moved.head);
	a = moved;
	for (int i = 0; i < 8; i++)
		memset(st_arena_alloc(&a, 3000), 0x5a, 3000);
	st_arena_free(&a);
	assert_null(a.head);
}

/* A sized arena starts with a chunk that small and doubles from there;
 * a reset keeps only the first (the scanner's domains: 1 KiB each in
 * flight instead of 4). */
static void test_sized_chunks(void **state)
{
	struct st_arena a, d;

	(void)state;
	st_arena_init(&d, 1 << 20);
	assert_non_null(st_arena_alloc(&d, 100));
	assert_int_equal(st_arena_footprint(&d), 4096);
	st_arena_free(&d);
	assert_int_equal(st_arena_footprint(&d), 0);

	st_arena_init_sized(&a, 1 << 20, 1024);
	assert_int_equal(st_arena_footprint(&a), 0);
	assert_non_null(st_arena_alloc(&a, 100));
	assert_int_equal(st_arena_footprint(&a), 1024);
	assert_non_null(st_arena_alloc(&a, 1000)); /* does not fit: 2 KiB */
	assert_int_equal(st_arena_footprint(&a), 1024 + 2048);
	assert_non_null(st_arena_alloc(&a, 5000)); /* bigger than double */
	assert_true(st_arena_footprint(&a) >= 1024 + 2048 + 5000);
	st_arena_reset(&a);
	assert_int_equal(st_arena_footprint(&a), 1024);
	st_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align_and_content),
		cmocka_unit_test(test_sized_chunks),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_big_and_reset),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_move_by_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
