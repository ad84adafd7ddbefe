/*
 * test_st_hmap.c - common/st_hmap: put, get, replace, delete with backward
 * shift (checked against a model after every operation), growth, clear,
 * iteration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "st_error.h"
#include "st_hmap.h"

#define N 5000

static void test_fnv1a(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values (the empty string is the offset basis). */
	assert_true(st_hash_str("") == 14695981039346656037ull);
	assert_true(st_hash_str("a") == 0xaf63dc4c8601ec8cull);
	assert_true(st_hash_str("foobar") == 0x85944171f73967e8ull);
}

static void test_put_get_replace(void **state)
{
	struct st_hmap m;
	int a = 1, b = 2;

	(void)state;
	st_hmap_init(&m);
	assert_null(st_hmap_get(&m, "x"));
	assert_null(st_hmap_del(&m, "x"));
	assert_int_equal(st_hmap_put(&m, "x", &a), ST_OK);
	assert_ptr_equal(st_hmap_get(&m, "x"), &a);
	assert_int_equal(st_hmap_put(&m, "x", &b), ST_OK);
	assert_ptr_equal(st_hmap_get(&m, "x"), &b);
	assert_int_equal(m.n, 1);
	assert_null(st_hmap_get(&m, "y"));
	assert_ptr_equal(st_hmap_del(&m, "x"), &b);
	assert_int_equal(m.n, 0);
	assert_null(st_hmap_get(&m, "x"));
	st_hmap_free(&m);
}

/* Random puts and deletes against a presence array: every key is found
 * exactly when the model says it is present, through many resizes and
 * deletions in the middle of probe runs. */
static void test_model(void **state)
{
	static char keys[N][16];
	static int present[N];
	struct st_hmap m;
	uint32_t rnd = 12345;

	(void)state;
	st_hmap_init(&m);
	memset(present, 0, sizeof(present));
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "d%07d.test", i);
	for (int step = 0; step < 60000; step++) {
		int k;

		rnd = rnd * 1103515245u + 12345u;
		k = (int)((rnd >> 8) % N);
		if ((rnd >> 4) % 3 != 0) {
			assert_int_equal(st_hmap_put(&m, keys[k], keys[k]),
					 ST_OK);
			present[k] = 1;
		} else {
			void *v = st_hmap_del(&m, keys[k]);

			assert_true((v != NULL) == (present[k] != 0));
			present[k] = 0;
		}
		if (step % 5000 == 0) {
			size_t n = 0;

			for (int i = 0; i < N; i++) {
				void *v = st_hmap_get(&m, keys[i]);

				assert_true((v != NULL) == (present[i] != 0));
				n += present[i] != 0;
			}
			assert_int_equal(m.n, n);
		}
	}
	st_hmap_free(&m);
}

static void test_iterate_clear(void **state)
{
	static char keys[300][16];
	struct st_hmap m;
	const char *k;
	void *v;
	size_t seen = 0;

	(void)state;
	st_hmap_init(&m);
	for (int i = 0; i < 300; i++) {
		snprintf(keys[i], sizeof(keys[i]), "mx%d.prov", i);
		assert_int_equal(st_hmap_put(&m, keys[i], keys[i]), ST_OK);
	}
	for (size_t i = 0; (i = st_hmap_next(&m, i, &k, &v)) != 0;) {
		assert_ptr_equal(k, v);
		seen++;
	}
	assert_int_equal(seen, 300);
	st_hmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_null(st_hmap_get(&m, "mx1.prov"));
	assert_int_equal(st_hmap_next(&m, 0, &k, &v), 0);
	st_hmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv1a),
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_iterate_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
