/*
 * test_nm_flow.c - the UDP flow table: lookup, capacity, idle expiry,
 * and that a flow with queued packets is never expired.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nm_flow.h"
#include "st_error.h"

#define SEC 1000000000ull

/* The key of IP (either family) and port; the caller's static buffer. */
static const struct nm_flow_key *key(const char *ip, uint16_t port)
{
	static struct nm_flow_key keys[8];
	static unsigned next;
	struct nm_flow_key *k = &keys[next++ % 8];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (strchr(ip, ':') != NULL) {
		sin6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_port = htons(port);
		assert_true(nm_flow_key((struct sockaddr *)&sin6, sizeof(sin6), k));
	} else {
		sin.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
		sin.sin_port = htons(port);
		assert_true(nm_flow_key((struct sockaddr *)&sin, sizeof(sin), k));
	}
	return k;
}

static bool same(const struct nm_flow_key *a, const struct nm_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Address and port both count: the 4-tuple's client half, of either
 * family; the families never share a key. */
static void test_key(void **state)
{
	static const char *const ips[] = {
		"127.0.0.1", "127.0.0.2", "::1", "fd53:7473::2:1",
		"fd53:7473::102:1", "fd53:7473:0:1::2:1", "fd54:7473::2:1",
		/* the IPv4-mapped form of 127.0.0.1 (RFC 4291 §2.5.5.2), and
		 * 127.0.0.1's bits as an IPv6 address: other clients */
		"::ffff:127.0.0.1", "::127.0.0.1",
	};
	enum { N = sizeof(ips) / sizeof(ips[0]) };
	struct nm_flow_key k;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_true(same(key(ips[i], 5000), key(ips[i], 5000)));
		assert_false(same(key(ips[i], 5000), key(ips[i], 5001)));
		for (size_t j = 0; j < N; j++)
			if (i != j)
				assert_false(same(key(ips[i], 5000),
						  key(ips[j], 5000)));
	}
	/* A length that is not the family's, or another family: no key. */
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	assert_false(nm_flow_key((struct sockaddr *)&sin, sizeof(sin6), &k));
	assert_false(nm_flow_key((struct sockaddr *)&sin6, sizeof(sin), &k));
	sin.sin_family = AF_UNIX;
	assert_false(nm_flow_key((struct sockaddr *)&sin, sizeof(sin), &k));
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

/* The i-th of the many flows: the first half IPv4, the second IPv6, on
 * the same ports, so only the family and address tell them apart. */
static const struct nm_flow_key *many_key(int i, int n)
{
	return i < n / 2 ? key("127.0.0.1", (uint16_t)(i + 1)) :
			   key("fd53:7473::2:1", (uint16_t)(i - n / 2 + 1));
}

/* Many flows in a small table of buckets: every one found again, and
 * spread over the buckets (no chain much longer than the load). */
static void test_many(void **state)
{
	enum { N = 5000 };
	static struct nm_flow f[N];
	struct nm_flowtab t;
	size_t longest = 0;

	(void)state;
	assert_int_equal(nm_flowtab_init(&t, N, SEC), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(nm_flowtab_add(&t, &f[i], many_key(i, N), 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &f[0], key("127.0.0.2", 1), 0),
			 ST_ESPACE); /* full */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(nm_flowtab_find(&t, many_key(i, N), 1), &f[i]);
	for (size_t b = 0; b <= t.mask; b++) {
		size_t len = 0;
		struct st_link *it, *nx;

		ST_LIST_FOREACH(it, nx, &t.buckets[b])
			len++;
		if (len > longest)
			longest = len;
	}
	/* 5,000 keys in 8,192 buckets: a chain of 8 would be a poor hash
	 * (a good one gives 5 or 6 at most here). */
	if (longest >= 8)
		fail_msg("longest bucket chain %zu", longest);
	nm_flowtab_fini(&t);
}

/* Idle flows expire oldest first; a used one is spared; a flow with refs
 * (packets queued that point at it) is never expired. */
static void test_expire(void **state)
{
	struct nm_flowtab t;
	struct nm_flow a, b, c;
	struct nm_flow_key k1 = nm_flow_key_num(1), k2 = nm_flow_key_num(2),
			   k3 = nm_flow_key_num(3);

	(void)state;
	assert_int_equal(nm_flowtab_init(&t, 4, 10 * SEC), 0);
	assert_int_equal(nm_flowtab_add(&t, &a, &k1, 0), 0);
	assert_int_equal(nm_flowtab_add(&t, &b, &k2, 1 * SEC), 0);
	assert_int_equal(nm_flowtab_add(&t, &c, &k3, 2 * SEC), 0);
	assert_null(nm_flowtab_expire(&t, 9 * SEC)); /* none idle yet */
	assert_non_null(nm_flowtab_find(&t, &k1, 9 * SEC)); /* a used again */
	b.refs = 1;
	/* At 12 s: b is idle but busy (touched, kept); c is idle and goes;
	 * a was used at 9 s and stays. */
	assert_ptr_equal(nm_flowtab_expire(&t, 12 * SEC), &c);
	assert_null(nm_flowtab_expire(&t, 12 * SEC));
	assert_int_equal(t.count, 2);
	assert_ptr_equal(nm_flowtab_find(&t, &k2, 12 * SEC), &b);
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
