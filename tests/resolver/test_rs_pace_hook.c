/*
 * test_rs_pace_hook.c - the pacing window (rs_pace.h) as the resolver
 * applies it, against the in-process responder: a burst of timeouts (or
 * SERVFAIL) halves the upstream's window once, and from then on the
 * responder never holds more of our first attempts than the window; with
 * pacing off (rs_config.pace false) the same scene puts the whole
 * max_inflight on the wire and counts no backoff.  And the timeout learnt
 * from the answers (struct rs_rto) as the resolver applies it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "rs_pace.h"
#include "rs_testutil.h"
#include "st_error.h"

#define CEILING 64u
#define BURST 32u

/* A burst of BURST questions the responder treats as beh says, then
 * CEILING questions answered after 100 ms: how many of those the
 * responder held at once, and the stats after. */
static size_t scene(struct tctx *t, bool pace, bool servfail,
		    struct rs_stats *st)
{
	struct asker *a = askers_new(t, BURST + CEILING);
	char name[64];

	t->cfg.max_inflight = CEILING;
	t->cfg.timeout_ms = 300;
	t->cfg.retries = 0;
	t->cfg.pace = pace;
	new_resolver(t);
	if (servfail) {
		t->rsp[0].beh.rcode = 2;
		t->rsp[0].beh.rrs[0] = NULL;
	} else {
		t->rsp[0].beh.mode = RSP_SILENT;
	}
	for (unsigned i = 0; i < BURST; i++) {
		snprintf(name, sizeof(name), "b%02u.example.com", i);
		ask_ok(t, &a[i], name, RS_TYPE_A);
	}
	run_until_cb(t, BURST, 3000);
	t->rsp[0].beh.mode = RSP_ANSWER;
	t->rsp[0].beh.rcode = 0;
	t->rsp[0].beh.rrs[0] = RSP_DEFAULT_RR;
	t->rsp[0].beh.delay_ms = 100;
	rsp_reset_log(&t->rsp[0]);
	for (unsigned i = 0; i < CEILING; i++) {
		snprintf(name, sizeof(name), "s%02u.example.com", i);
		ask_ok(t, &a[BURST + i], name, RS_TYPE_A);
	}
	run_until_cb(t, BURST + CEILING, 5000);
	for (unsigned i = 0; i < CEILING; i++)
		assert_int_equal(a[BURST + i].status, RS_ANSWERED);
	*st = get_stats(t);
	return t->rsp[0].max_outstanding;
}

static void test_timeouts_halve(void **state)
{
	struct rs_stats st;
	size_t held = scene(*state, true, false, &st);

	print_message("  paced: held %zu at most, window %u (low %u), %llu "
		      "backoffs\n", held, st.upstream[0].pace_window,
		      st.upstream[0].pace_window_low,
		      (unsigned long long)st.upstream[0].pace_backoffs);
	/* RFC 6582 §3.2: one reduction per window of data. */
	assert_int_equal(st.upstream[0].pace_backoffs, 1);
	assert_int_equal(st.upstream[0].pace_window_low, CEILING / 2);
	assert_true(held <= CEILING / 2);
	assert_true(held >= CEILING / 2 - 1);
}

static void test_servfail_halves(void **state)
{
	struct rs_stats st;
	size_t held = scene(*state, true, true, &st);

	assert_int_equal(st.upstream[0].pace_backoffs, 1);
	assert_true(held <= CEILING / 2);
}

static void test_pace_off(void **state)
{
	struct rs_stats st;
	size_t held = scene(*state, false, false, &st);

	assert_int_equal(st.upstream[0].pace_backoffs, 0);
	assert_int_equal(held, CEILING);
}

/*
 * The retransmission timeout is learnt from the upstream's answers (RFC
 * 6298 §2, struct rs_rto): after answers within 20 ms, a lost question
 * is asked again after RS_RTO_FLOOR_MS, not after the configured 400 ms;
 * the last attempt still waits the configured timeout's doubling (800
 * ms), so an answer 300 ms late is taken, not turned into a timeout.
 */
static void test_rto_learnt(void **state)
{
	struct tctx *t = *state;
	struct asker *a = askers_new(t, 22);
	struct rs_stats st;
	char name[64];
	uint64_t gap_us;

	t->cfg.timeout_ms = 400;
	t->cfg.retries = 1;
	new_resolver(t);
	t->rsp[0].beh.delay_ms = 20;
	for (unsigned i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%02u.example.com", i);
		ask_ok(t, &a[i], name, RS_TYPE_A);
	}
	run_until_cb(t, 20, 3000);
	st = get_stats(t);
	assert_int_equal(st.upstream[0].rto_ms, RS_RTO_FLOOR_MS);

	/* "RFC 6298 §2.3: RTO <- SRTT + max (G, K*RTTVAR)": lost once. */
	rsp_reset_log(&t->rsp[0]);
	t->rsp[0].beh.silent_suffix = "lost.example.com";
	ask_ok(t, &a[20], "lost.example.com", RS_TYPE_A);
	run_until_cb(t, 21, 3000);
	assert_int_equal(a[20].status, RS_TIMEOUT);
	assert_int_equal(t->rsp[0].n_q, 2);
	gap_us = t->rsp[0].q[1].t_us - t->rsp[0].q[0].t_us;
	print_message("  asked again after %llu ms\n",
		      (unsigned long long)(gap_us / 1000));
	assert_true(gap_us >= (RS_RTO_FLOOR_MS - 5) * 1000u);
	assert_true(gap_us < 250000u);

	/* The last attempt keeps the configured patience. */
	t->rsp[0].beh.silent_suffix = NULL;
	t->rsp[0].beh.delay_ms = 300;
	ask_ok(t, &a[21], "slow.example.com", RS_TYPE_A);
	run_until_cb(t, 22, 3000);
	assert_int_equal(a[21].status, RS_ANSWERED);
	assert_int_equal(a[21].attempts, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timeouts_halve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_servfail_halves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pace_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rto_learnt, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
