/*
 * test_rs_pace_hook.c - the pacing window (rs_pace.h) as the resolver
 * applies it, against the in-process responder: a burst of timeouts (or
 * SERVFAIL) halves the upstream's window once, and from then on the
 * responder never holds more of our first attempts than the window; with
 * pacing off (rs_config.pace false) the same scene puts the whole
 * max_inflight on the wire and counts no backoff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timeouts_halve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_servfail_halves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pace_off, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
