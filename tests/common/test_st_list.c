/*
 * test_st_list.c - common/st_list: FIFO order, removal from any place,
 * removal while iterating, the linked flag, container_of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "st_list.h"

struct item {
	int v;
	struct st_link link;
};

static int value(const struct st_link *k)
{
	return ST_CONTAINER(k, struct item, link)->v;
}

static void test_fifo(void **state)
{
	struct st_list l;
	struct item it[5];

	(void)state;
	st_list_init(&l);
	assert_true(st_list_empty(&l));
	assert_null(st_list_pop_front(&l));
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		st_link_init(&it[i].link);
		assert_false(st_link_linked(&it[i].link));
		st_list_push_back(&l, &it[i].link);
		assert_true(st_link_linked(&it[i].link));
	}
	assert_int_equal(st_list_len(&l), 5);
	for (int i = 0; i < 5; i++) {
		struct st_link *k = st_list_pop_front(&l);

		assert_non_null(k);
		assert_int_equal(value(k), i);
		assert_false(st_link_linked(k));
	}
	assert_true(st_list_empty(&l));
}

static void test_stack_and_remove(void **state)
{
	struct st_list l;
	struct item it[4];
	const int want[] = { 3, 1, 0 };
	size_t n = 0;
	struct st_link *k, *nx;

	(void)state;
	st_list_init(&l);
	for (int i = 0; i < 4; i++) {
		it[i].v = i;
		st_link_init(&it[i].link);
		st_list_push_front(&l, &it[i].link);
	}
	st_list_remove(&it[2].link);          /* from the middle */
	st_list_remove(&it[2].link);          /* twice: a no-op */
	assert_false(st_link_linked(&it[2].link));
	ST_LIST_FOREACH(k, nx, &l)
		assert_int_equal(value(k), want[n++]);
	assert_int_equal(n, 3);
	assert_int_equal(value(st_list_first(&l)), 3);
}

static void test_remove_while_iterating(void **state)
{
	struct st_list l;
	struct item it[6];
	struct st_link *k, *nx;

	(void)state;
	st_list_init(&l);
	for (int i = 0; i < 6; i++) {
		it[i].v = i;
		st_link_init(&it[i].link);
		st_list_push_back(&l, &it[i].link);
	}
	ST_LIST_FOREACH(k, nx, &l)
		if (value(k) % 2 == 0)
			st_list_remove(k);
	assert_int_equal(st_list_len(&l), 3);
	assert_int_equal(value(st_list_pop_front(&l)), 1);
	assert_int_equal(value(st_list_pop_front(&l)), 3);
	assert_int_equal(value(st_list_pop_front(&l)), 5);
	assert_true(st_list_empty(&l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_stack_and_remove),
		cmocka_unit_test(test_remove_while_iterating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
