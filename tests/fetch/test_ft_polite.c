/*
 * test_ft_polite.c - fetch/ft_polite: the per-address caps on a real
 * libevent loop.  Many waiters on one address (the tenant pattern: many
 * names, one address) never hold more than the cap at once, are granted
 * in the order they asked, and new grants respect the rate; other
 * addresses do not wait for a busy one; a waiter that gives up is never
 * called; idle entries are forgotten once their bucket is full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ft_polite.h"
#include "st_error.h"

#define N_CONN 60

/* One simulated connection: granted, held for hold_ms, released. */
struct conn {
	struct ft_polite_waiter w;
	struct event *ev;
	struct world *wd;
	int id;
	int addr;                 /* index into world.addrs */
	uint64_t t_grant_us;
};

struct world {
	struct event_base *base;
	struct ft_polite *p;
	struct sockaddr_in addrs[2];
	unsigned hold_ms;
	unsigned active[2], peak[2];
	int order[N_CONN];        /* ids in grant order */
	int n_granted;
	int n_released;
	struct conn c[N_CONN];
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void hold_done(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->wd->active[c->addr]--;
	c->wd->n_released++;
	ft_polite_release(c->wd->p, &c->w);
}

static void granted(struct conn *c)
{
	struct world *wd = c->wd;
	struct timeval tv = { 0, (suseconds_t)wd->hold_ms * 1000 };

	assert_true(c->w.granted);
	c->t_grant_us = mono_us();
	wd->order[wd->n_granted++] = c->id;
	if (++wd->active[c->addr] > wd->peak[c->addr])
		wd->peak[c->addr] = wd->active[c->addr];
	assert_int_equal(evtimer_add(c->ev, &tv), 0);
}

static void on_grant(struct ft_polite_waiter *w)
{
	granted(w->arg);
}

static void world_init(struct world *wd, const struct ft_polite_config *cfg,
		       unsigned hold_ms)
{
	memset(wd, 0, sizeof(*wd));
	wd->base = event_base_new();
	assert_non_null(wd->base);
	assert_int_equal(ft_polite_new(wd->base, cfg, &wd->p), ST_OK);
	for (int i = 0; i < 2; i++) {
		wd->addrs[i].sin_family = AF_INET;
		wd->addrs[i].sin_port = htons((uint16_t)(25 + i)); /* ignored */
	}
	assert_int_equal(inet_pton(AF_INET, "127.6.0.1", &wd->addrs[0].sin_addr), 1);
	assert_int_equal(inet_pton(AF_INET, "127.6.0.2", &wd->addrs[1].sin_addr), 1);
	wd->hold_ms = hold_ms;
	for (int i = 0; i < N_CONN; i++) {
		wd->c[i].wd = wd;
		wd->c[i].id = i;
		wd->c[i].ev = evtimer_new(wd->base, hold_done, &wd->c[i]);
		assert_non_null(wd->c[i].ev);
		wd->c[i].w.fn = on_grant;
		wd->c[i].w.arg = &wd->c[i];
	}
}

static void world_free(struct world *wd)
{
	for (int i = 0; i < N_CONN; i++)
		event_free(wd->c[i].ev);
	ft_polite_free(wd->p);
	event_base_free(wd->base);
}

/* Ask for connection i to its address; a grant at once is handled here. */
static void ask(struct world *wd, int i)
{
	struct conn *c = &wd->c[i];
	int r = ft_polite_acquire(wd->p, (const struct sockaddr *)&wd->addrs[c->addr],
				  &c->w);

	assert_true(r == 0 || r == 1);
	if (r == 1)
		granted(c);
}

/* The tenant pattern: 60 connections for one address, cap 2 at once, no
 * rate: never more than 2 granted, all granted, in the order asked. */
static void test_cap_never_exceeded_fifo(void **state)
{
	struct ft_polite_config cfg = { .max_conns = 2 };
	static struct world wd;

	(void)state;
	world_init(&wd, &cfg, 2);
	for (int i = 0; i < N_CONN; i++)
		ask(&wd, i);
	assert_int_equal(wd.n_granted, 2);   /* the rest wait */
	assert_true(event_base_dispatch(wd.base) >= 0);
	assert_int_equal(wd.n_granted, N_CONN);
	assert_int_equal(wd.n_released, N_CONN);
	assert_int_equal(wd.peak[0], 2);
	for (int i = 0; i < N_CONN; i++)
		assert_int_equal(wd.order[i], i);
	{
		struct ft_polite_stats st;

		ft_polite_stats(wd.p, &st);
		assert_int_equal(st.peak, 2);
		assert_int_equal(st.granted, N_CONN);
		assert_int_equal(st.waited, N_CONN - 2);
		assert_int_equal(st.waiting, 0);
	}
	world_free(&wd);
}

/* Rate 50/s, burst 2, no concurrency cap: the first 2 at once, then one
 * every 20 ms; in any window of T ms at most 2 + T/20 grants. */
static void test_rate_respected(void **state)
{
	struct ft_polite_config cfg = { .rate = 50, .burst = 2 };
	static struct world wd;
	const int n = 20;
	uint64_t t0;

	(void)state;
	world_init(&wd, &cfg, 0);
	t0 = mono_us();
	for (int i = 0; i < n; i++)
		ask(&wd, i);
	assert_int_equal(wd.n_granted, 2);
	assert_true(event_base_dispatch(wd.base) >= 0);
	assert_int_equal(wd.n_granted, n);
	/* 18 tokens at 20 ms each: at least 360 ms (less 1 ms of rounding) */
	assert_true(wd.c[n - 1].t_grant_us - t0 >= 359000u);
	/* A bucket of 2 at 50/s: between grants j and i at most 1 saved
	 * token plus 50/s of new ones, so t[i] - t[j] >= (i - j - 1) * 20 ms
	 * (less 1 ms of rounding); a late timer lets two come closer, never
	 * more than the bucket holds in any window. */
	for (int i = 0; i < n; i++) {
		assert_int_equal(wd.order[i], i);
		for (int j = 0; j < i; j++) {
			uint64_t d = wd.c[i].t_grant_us - wd.c[j].t_grant_us;
			uint64_t min = (uint64_t)(i - j - 1) * 20000u;

			if (d + 1000u < min)
				fail_msg("grants %d and %d %llu us apart, under %llu",
					 j, i, (unsigned long long)d,
					 (unsigned long long)min);
		}
	}
	world_free(&wd);
}

/* A full address does not hold up another one. */
static void test_addresses_independent(void **state)
{
	struct ft_polite_config cfg = { .max_conns = 1, .rate = 1, .burst = 1 };
	static struct world wd;

	(void)state;
	world_init(&wd, &cfg, 1);
	wd.c[1].addr = 0;
	wd.c[2].addr = 1;
	ask(&wd, 0);
	ask(&wd, 1);  /* waits: cap and bucket of 127.6.0.1 are empty */
	ask(&wd, 2);  /* 127.6.0.2: at once */
	assert_int_equal(wd.n_granted, 2);
	assert_int_equal(wd.order[1], 2);
	assert_false(wd.c[1].w.granted);
	/* c[1] gives up: never called, holds nothing */
	ft_polite_release(wd.p, &wd.c[1].w);
	assert_null(wd.c[1].w.a);
	assert_true(event_base_dispatch(wd.base) >= 0);
	assert_int_equal(wd.n_granted, 2);
	ft_polite_release(wd.p, &wd.c[1].w); /* twice: a no-op */
	world_free(&wd);
}

/* Without caps every request is granted at once and holds nothing. */
static void test_disabled(void **state)
{
	struct ft_polite_config cfg = { 0 };
	static struct world wd;

	(void)state;
	world_init(&wd, &cfg, 0);
	assert_false(ft_polite_enabled(wd.p));
	for (int i = 0; i < N_CONN; i++)
		ask(&wd, i);
	assert_int_equal(wd.n_granted, N_CONN);
	assert_true(event_base_dispatch(wd.base) >= 0);
	world_free(&wd);
}

/* Idle entries go once their bucket is full again: memory follows the
 * addresses in use, not every address ever seen. */
static void test_idle_forgotten(void **state)
{
	struct ft_polite_config cfg = { .max_conns = 2 };
	static struct world wd;
	struct ft_polite_stats st;

	(void)state;
	world_init(&wd, &cfg, 0);
	wd.c[1].addr = 1;
	ask(&wd, 0);
	ask(&wd, 1);
	assert_true(event_base_dispatch(wd.base) >= 0);
	ft_polite_stats(wd.p, &st);
	assert_int_equal(st.addrs, 2);
	ask(&wd, 2);  /* sweeps both idle ones, then adds 127.6.0.1 again */
	ft_polite_stats(wd.p, &st);
	assert_int_equal(st.addrs, 1);
	assert_true(event_base_dispatch(wd.base) >= 0);
	world_free(&wd);
}

static void test_bad_arguments(void **state)
{
	struct ft_polite_config cfg = { .rate = 5, .burst = 0 };
	struct event_base *base = event_base_new();
	struct ft_polite *p = NULL;

	(void)state;
	assert_int_equal(ft_polite_new(base, &cfg, &p), ST_EINVAL);
	assert_int_equal(ft_polite_new(NULL, &cfg, &p), ST_EINVAL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_never_exceeded_fifo),
		cmocka_unit_test(test_rate_respected),
		cmocka_unit_test(test_addresses_independent),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_idle_forgotten),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
