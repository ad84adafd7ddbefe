/*
 * test_nm_flow.c - the UDP flow table: lookup, capacity, idle expiry,
 * and that a flow with queued packets is never expired.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nm_flow.h"
#include "st_error.h"

#define SEC 1000000000ull

static uint64_t key(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	sin.sin_port = htons(port);
	return nm_flow_key(&sin);
}

/* Address and port both count: the 4-tuple's client half. */
static void test_key(void **state)
{
	(void)state;
	assert_true(key("127.0.0.1", 5000) != key("127.0.0.1", 5001));
	assert_true(key("127.0.0.1", 5000) != key("127.0.0.2", 5000));
	assert_int_equal(key("127.0.0.1", 5000), key("127.0.0.1", 5000));
}

static void test_find_add_remove(void **state)
{
	struct nm_flowtab t;
	struct nm_flow f[3];

	(void)state;
	assert_int_equal(nm_flowtab_init(&t, 8, 30 * SEC), 0);
	assert_null(nm_flowtab_find(&t, key("127.0.0.1", 1), 0));
	assert_int_equal(nm_flowtab_add(&t, &f[0], key("127.0.0.1", 1), 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &f[1], key("127.0.0.1", 2), 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &f[2], key("127.0.0.1", 1), 0),
			 ST_EEXIST);
	assert_ptr_equal(nm_flowtab_find(&t, key("127.0.0.1", 1), 5), &f[0]);
	assert_ptr_equal(nm_flowtab_find(&t, key("127.0.0.1", 2), 5), &f[1]);
	assert_int_equal(f[0].last_ns, 5); /* touched */
	nm_flowtab_remove(&t, &f[0]);
	nm_flowtab_remove(&t, &f[0]); /* twice: a no-op */
	assert_null(nm_flowtab_find(&t, key("127.0.0.1", 1), 6));
	assert_int_equal(t.count, 1);
	nm_flowtab_fini(&t);
	assert_int_equal(nm_flowtab_init(&t, 0, SEC), ST_EINVAL);
}

/* Many flows in a small table of buckets: every one found again. */
static void test_many(void **state)
{
	enum { N = 5000 };
	static struct nm_flow f[N];
	struct nm_flowtab t;

	(void)state;
	assert_int_equal(nm_flowtab_init(&t, N, SEC), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(nm_flowtab_add(&t, &f[i],
						key("127.0.0.1", (uint16_t)(i + 1)), 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &f[0], key("127.0.0.2", 1), 0),
			 ST_ESPACE); /* full */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(nm_flowtab_find(&t, key("127.0.0.1",
							 (uint16_t)(i + 1)), 1),
				 &f[i]);
	nm_flowtab_fini(&t);
}

/* Idle flows expire oldest first; a used one is spared; a flow with refs
 * (packets queued that point at it) is never expired. */
static void test_expire(void **state)
{
	struct nm_flowtab t;
	struct nm_flow a, b, c;

	(void)state;
	assert_int_equal(nm_flowtab_init(&t, 4, 10 * SEC), 0);
	assert_int_equal(nm_flowtab_add(&t, &a, 1, 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &b, 2, 1 * SEC), 0);
	assert_int_equal(nm_flowtab_add(&t, &c, 3, 2 * SEC), 0);
	assert_null(nm_flowtab_expire(&t, 9 * SEC)); /* none idle yet */
	assert_non_null(nm_flowtab_find(&t, 1, 9 * SEC)); /* a used again */
	b.refs = 1;
	/* At 12 s: b is idle but busy (touched, kept); c is idle and goes;
	 * a was used at 9 s and stays. */
	assert_ptr_equal(nm_flowtab_expire(&t, 12 * SEC), &c);
	assert_null(nm_flowtab_expire(&t, 12 * SEC));
	assert_int_equal(t.count, 2);
	assert_ptr_equal(nm_flowtab_find(&t, 2, 12 * SEC), &b);
	b.refs = 0;
	assert_ptr_equal(nm_flowtab_expire(&t, 30 * SEC), &a);
	assert_ptr_equal(nm_flowtab_expire(&t, 30 * SEC), &b);
	assert_null(nm_flowtab_expire(&t, 30 * SEC));
	assert_int_equal(t.count, 0);
	nm_flowtab_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_find_add_remove),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_expire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
