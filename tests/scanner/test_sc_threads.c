/*
 * test_sc_threads.c - --threads (scanner/sc_threads.c): the per-scan caps
 * shared out among the workers, how many workers a scan can use, and the
 * pool's life without a network (start, end of input, stop, join).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sc_threads.h"
#include "st_error.h"

/* Shares add up to the cap, differ by at most one, and a qps of 0 (no
 * cap) stays 0 for every worker: per scan, never per thread. */
static const struct {
	unsigned cap, n;
} split_rows[] = {
	{ 500, 1 }, { 500, 2 }, { 500, 3 }, { 7, 4 }, { 4, 4 }, { 1, 1 },
	{ 1000000, 64 }, { 0, 4 }, { 65, 64 },
};

static void test_split(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(split_rows) / sizeof(split_rows[0]); r++) {
		struct sc_config all, one;
		unsigned n = split_rows[r].n, cap = split_rows[r].cap;
		unsigned long long sum_q = 0, sum_i = 0, sum_d = 0, sum_h = 0,
				   sum_s = 0, sum_p = 0;
		unsigned lo = ~0u, hi = 0;

		sc_config_default(&all);
		all.qps = cap;
		all.inflight = cap;
		all.dns_inflight = cap;
		all.https_max = cap;
		all.smtp_max = cap;
		all.https_per_ip = all.smtp_per_ip = cap;
		all.https_per_ip_rate = all.smtp_per_ip_rate = cap;
		for (unsigned i = 0; i < n; i++) {
			sc_threads_split(&all, n, i, &one);
			sum_q += one.qps;
			sum_i += one.inflight;
			sum_d += one.dns_inflight;
			sum_h += one.https_max;
			sum_s += one.smtp_max;
			sum_p += one.https_per_ip + one.smtp_per_ip +
				 one.https_per_ip_rate + one.smtp_per_ip_rate;
			lo = one.inflight < lo ? one.inflight : lo;
			hi = one.inflight > hi ? one.inflight : hi;
			/* everything else is the scan's */
			assert_int_equal(one.dns_timeout_ms, all.dns_timeout_ms);
			assert_int_equal(one.retry_max, all.retry_max);
			if (cap == 0)
				assert_int_equal(one.qps, 0);
		}
		assert_int_equal(sum_q, cap);
		assert_int_equal(sum_i, cap);
		assert_int_equal(sum_d, cap);
		assert_int_equal(sum_h, cap);
		assert_int_equal(sum_s, cap);
		assert_int_equal(sum_p, 4ull * cap);
		assert_true(hi - lo <= 1);
	}
}

/* No worker gets a share of 0 (0 would mean "no cap" for qps, and an
 * engine refuses an inflight of 0): the count is lowered instead. */
static void test_fit(void **state)
{
	struct sc_config c;

	(void)state;
	sc_config_default(&c);
	c.qps = 0;
	c.inflight = c.dns_inflight = c.https_max = c.smtp_max = 100000;
	c.https_per_ip = c.https_per_ip_rate = 0; /* 0: no per-address cap */
	c.smtp_per_ip = c.smtp_per_ip_rate = 0;
	assert_int_equal(sc_threads_fit(4, &c), 4);
	assert_int_equal(sc_threads_fit(SC_THREADS_MAX + 5, &c), SC_THREADS_MAX);
	assert_true(sc_threads_fit(0, &c) == sc_threads_online());
	c.qps = 2;
	assert_int_equal(sc_threads_fit(4, &c), 2);
	c.qps = 0;
	c.inflight = 3;
	assert_int_equal(sc_threads_fit(8, &c), 3);
	c.inflight = 100;
	c.https_max = 1;
	assert_int_equal(sc_threads_fit(8, &c), 1);
	c.https_max = 100;
	c.probe_mx = true;
	c.smtp_max = 2;
	assert_int_equal(sc_threads_fit(8, &c), 2);
	c.probe_mx = false; /* smtp_max does not count without probes */
	assert_int_equal(sc_threads_fit(8, &c), 8);
	/* the per-address caps are per scan: a provider counts our
	 * connections, whatever thread opens them */
	c.https_per_ip = 3;
	assert_int_equal(sc_threads_fit(8, &c), 3);
	c.https_per_ip = 0;
	c.https_per_ip_rate = 5;
	assert_int_equal(sc_threads_fit(8, &c), 5);
	c.https_per_ip_rate = 0;
	c.smtp_per_ip = 2;
	c.smtp_per_ip_rate = 1;
	assert_int_equal(sc_threads_fit(8, &c), 8); /* no probes */
	c.probe_mx = true;
	c.smtp_max = 100;
	assert_int_equal(sc_threads_fit(8, &c), 1);
	c.smtp_per_ip_rate = 0;
	assert_int_equal(sc_threads_fit(8, &c), 2);
	assert_true(sc_threads_online() >= 1);
}

struct pool_run {
	struct event_base *base;
	struct sc_pool *p;
	bool stop;      /* stop instead of ending the input */
	unsigned calls;
};

static void on_ready(void *arg)
{
	struct pool_run *r = arg;

	r->calls++;
	if (sc_pool_finished(r->p))
		event_base_loopbreak(r->base);
}

/* Workers with nothing to do end when told the input is over, or when
 * stopped; either way every thread is joined and nothing is left. */
static void pool_life(bool stop)
{
	struct pool_run r = { 0 };
	struct sc_config c;
	struct sc_counters cnt;
	struct st_list msgs;
	double sum = -1, max = -1;

	sc_config_default(&c);
	c.resolvers[0] = "127.0.0.1:9"; /* never asked: no domain */
	c.n_resolvers = 1;
	r.base = event_base_new();
	assert_non_null(r.base);
	assert_int_equal(sc_pool_new(r.base, &c, 3, on_ready, &r, &r.p), ST_OK);
	if (stop)
		sc_pool_stop(r.p);
	else
		sc_pool_input_done(r.p);
	assert_int_equal(event_base_dispatch(r.base), 0);
	assert_true(sc_pool_finished(r.p));
	assert_true(r.calls > 0);
	assert_int_equal(sc_pool_error(r.p), ST_OK);
	st_list_init(&msgs);
	assert_int_equal(sc_pool_take(r.p, &msgs), 0);
	sc_pool_counters(r.p, &cnt);
	assert_int_equal(cnt.started, 0);
	assert_int_equal(cnt.completed, 0);
	sc_pool_cpu(r.p, &sum, &max);
	assert_true(sum >= 0 && max >= 0 && max <= sum);
	if (!stop) {
		struct sc_item it = { "a.example", 1 };

		/* After the end of input nothing more is taken. */
		assert_int_equal(sc_pool_push(r.p, &it), ST_EINVAL);
	}
	sc_pool_free(r.p);
	event_base_free(r.base);
}

/* Connections the scan gets with n workers in limit descriptors. */
static uint64_t conns(const struct sc_config *c, uint64_t limit, unsigned n)
{
	struct sc_config x = *c;
	struct sc_fd_budget b;

	if (sc_threads_fit_fds(&x, limit, n, &b) != ST_OK)
		return 0;
	return (uint64_t)x.https_max + (x.probe_mx ? x.smtp_max : 0u);
}

/* The thread count against the descriptor limit: fewer threads only where
 * that gives the scan its connections; a high limit that lowers the caps
 * whatever the count keeps every thread (the caps are per scan). */
static void test_fit_limit(void **state)
{
	struct sc_config c;
	uint64_t one, two;

	(void)state;
	sc_config_default(&c);
	c.inflight = c.https_max = c.smtp_max = 20000;
	c.probe_mx = true;
	/* A limit far above the need: every thread. */
	assert_int_equal(sc_threads_fit_limit(&c, 1000000, 2), 2);
	/* 20000 descriptors for 20000 fetches and probes: lowered with one
	 * thread or two; two keep nearly all the connections, so two. */
	one = conns(&c, 20000, 1);
	two = conns(&c, 20000, 2);
	assert_true(one > 0 && two > 0 && two * 10 >= one * 9);
	assert_int_equal(sc_threads_fit_limit(&c, 20000, 2), 2);
	/* ulimit -n 64 with the default caps: two engines' own descriptors
	 * leave the scan far fewer connections than one engine: one. */
	sc_config_default(&c);
	c.probe_mx = true;
	one = conns(&c, 64, 1);
	two = conns(&c, 64, 2);
	assert_true(one > 0 && two * 10 < one * 9);
	assert_int_equal(sc_threads_fit_limit(&c, 64, 2), 1);
	/* Fits as asked with one thread, not with two: one, caps kept. */
	sc_config_default(&c);
	c.https_max = 100;
	c.probe_mx = false;
	{
		struct sc_config x = c;
		struct sc_fd_budget b;
		uint64_t need1;

		assert_int_equal(sc_threads_fit_fds(&x, 1000000, 1, &b), ST_OK);
		need1 = b.need;
		assert_int_equal(sc_threads_fit_limit(&c, need1, 2), 1);
		assert_int_equal(sc_threads_fit_limit(&c, need1 * 2, 2), 2);
	}
	/* Not even one fits: 1, and the caller reports it. */
	assert_int_equal(sc_threads_fit_limit(&c, 8, 4), 1);
	assert_int_equal(sc_threads_fit_limit(&c, 1000000, 1), 1);
}

static void test_pool_end_of_input(void **state)
{
	(void)state;
	pool_life(false);
}

static void test_pool_stop(void **state)
{
	(void)state;
	pool_life(true);
}

static void test_pool_bad_args(void **state)
{
	struct sc_config c;
	struct sc_pool *p = NULL;
	struct event_base *b = event_base_new();

	(void)state;
	sc_config_default(&c);
	assert_int_equal(sc_pool_new(b, &c, 0, on_ready, NULL, &p), ST_EINVAL);
	assert_int_equal(sc_pool_new(b, &c, SC_THREADS_MAX + 1, on_ready, NULL,
				     &p), ST_EINVAL);
	assert_int_equal(sc_pool_new(NULL, &c, 1, on_ready, NULL, &p), ST_EINVAL);
	assert_null(p);
	sc_pool_free(NULL);
	event_base_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_fit_limit),
		cmocka_unit_test(test_pool_end_of_input),
		cmocka_unit_test(test_pool_stop),
		cmocka_unit_test(test_pool_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
