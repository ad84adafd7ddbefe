/*
 * test_sc_tarpit.c - a tarpit never holds the scan (issue 15 section 6):
 * while one domain waits on an MX host that greets only after a long
 * delay, the engine keeps reading its input and the other domains
 * complete, each in its own time, long before the tarpit's probe times
 * out.
 *
 * In-process (sc_testutil.h): 200 domains, 10 in flight.  The first one's
 * MX host, mx.tarpit.test, is an SMTP peer on 127.0.0.2 that accepts at
 * once and says its 220 only after TARPIT_MS, longer than the probe's
 * whole timeout (cfg.smtp_timeout_ms); the 199 others each name their own
 * MX host (mxN.fast.test, so 199 real probes, none shared through the
 * probe cache) on the fast peer at 127.0.0.1, same port.  No domain has an
 * _mta-sts record: DNS, then the probes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_classify.h"
#include "sc_testutil.h"
#include "st_error.h"

#define N_DOMAINS 200
#define INFLIGHT 10
#define SMTP_TIMEOUT_MS 3000 /* the probe's whole budget */
#define TARPIT_MS 6000       /* the tarpit's greeting: never in time */
#define CLOCK_SLACK_MS 100   /* see the last assertion */
#define FAST_DONE_MS 2000    /* the 199 others are all done before */

struct world {
	char names[N_DOMAINS][32];
	char mx[N_DOMAINS][64];       /* the MX rows' RR text */
	char host[N_DOMAINS][32];     /* the MX hosts */
	const char *input[N_DOMAINS];
	struct tz_row zone[2 * N_DOMAINS + 1];
	uint64_t t0_us;
	uint64_t sunk_us[N_DOMAINS];  /* when each record reached the sink,
				       * in input order; 0: never */
	uint64_t tarpit_sunk_us;
	size_t pulled_before_tarpit;  /* names read while the tarpit waited */
};

static void build(struct world *w)
{
	size_t z = 0;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < N_DOMAINS; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "d%zu.test", i);
		if (i == 0)
			snprintf(w->host[i], sizeof(w->host[i]),
				 "mx.tarpit.test");
		else
			snprintf(w->host[i], sizeof(w->host[i]),
				 "mx%zu.fast.test", i);
		snprintf(w->mx[i], sizeof(w->mx[i]), "@ 300 IN MX 10 %s.",
			 w->host[i]);
		w->input[i] = w->names[i];
		w->zone[z++] = (struct tz_row){ w->names[i], TZ_MX,
						{ w->mx[i] } };
		w->zone[z++] = (struct tz_row){
			w->host[i], TZ_A,
			{ i == 0 ? "@ 300 IN A 127.0.0.2"
				 : "@ 300 IN A 127.0.0.1" } };
	}
	w->zone[z] = (struct tz_row){ NULL, 0, { NULL } };
}

/* After each record: when it came, and how far the input was read. */
static void on_sink(struct te *t)
{
	struct world *w = t->arg;
	const struct te_rec *r = &t->recs[t->n_recs - 1];
	unsigned i;

	if (sscanf(r->name, "d%u.test", &i) != 1 || i >= N_DOMAINS)
		return;
	w->sunk_us[i] = sc_now_us() - w->t0_us;
	if (i == 0) {
		w->tarpit_sunk_us = w->sunk_us[i];
		w->pulled_before_tarpit = t->next;
	}
}

static void test_tarpit_holds_nothing(void **state)
{
	static const char *const certs[] = { "mx.tarpit.test", "*.fast.test" };
	static struct world w; /* 40 KiB: not on the stack */
	struct tp_peer tarpit;
	struct te *t = NULL;
	uint64_t last_fast = 0;
	const struct te_rec *r;

	(void)state;
	build(&w);
	assert_int_equal(te_new(w.zone, certs, 2, &t), ST_OK);
	memset(&tarpit, 0, sizeof(tarpit));
	tarpit.greet_delay_ms = TARPIT_MS;
	assert_int_equal(tp_peer_start_at(&tarpit, t->base, TP_SMTP,
					  t->certs.ctx, 0x7f000002u,
					  t->smtp.port),
			 ST_OK);
	t->cfg.probe_mx = true;
	t->cfg.inflight = INFLIGHT;
	t->cfg.smtp_timeout_ms = SMTP_TIMEOUT_MS;
	/* one real probe per host, as many at once as the slots allow: the
	 * per-address caps and the probe lent per address are other tests'
	 * subject (test_sc_polite) */
	t->cfg.probe_every_mx = true;
	t->cfg.smtp_per_ip = 0;
	t->cfg.smtp_per_ip_rate = 0;
	t->on_sink = on_sink;
	t->arg = &w;
	w.t0_us = sc_now_us();
	assert_int_equal(te_run(t, w.input, N_DOMAINS), ST_OK);
	assert_false(t->deadline_hit);
	assert_int_equal(t->run_ret, ST_OK);

	/* Every domain was stored, the tarpitted one too, and it was the
	 * tarpit that held its probe: connected at once, never greeted in
	 * time. */
	assert_int_equal(t->n_recs, N_DOMAINS);
	assert_int_equal(tarpit.accepted, 1);
	assert_int_equal(tarpit.greeted_late, 0);
	assert_int_equal(te_probe_count(t, "mx.tarpit.test"), 1);
	assert_int_equal(te_probe(t, "mx.tarpit.test")->status,
			 AN_PROBE_UNREACHABLE);
	r = te_rec(t, "d0.test");
	assert_non_null(r);
	/* ... its wait was the probe's timeout, not less. */
	assert_true(w.tarpit_sunk_us >= (uint64_t)SMTP_TIMEOUT_MS * 1000u);

	/* While it waited, the whole input was read and every other
	 * domain completed: its slot was the only one held. */
	assert_int_equal(w.pulled_before_tarpit, N_DOMAINS);
	for (size_t i = 1; i < N_DOMAINS; i++) {
		if (w.sunk_us[i] == 0)
			fail_msg("%s never stored", w.names[i]);
		if (w.sunk_us[i] > last_fast)
			last_fast = w.sunk_us[i];
	}
	print_message("199 others done after %llu ms, the tarpitted domain "
		      "after %llu ms\n", (unsigned long long)(last_fast / 1000),
		      (unsigned long long)(w.tarpit_sunk_us / 1000));
	assert_true(last_fast < (uint64_t)FAST_DONE_MS * 1000u);
	assert_true(last_fast < w.tarpit_sunk_us);
	/* 199 real probes to the fast peer, one per host (no sharing). */
	assert_int_equal(t->smtp.accepted, N_DOMAINS - 1);
	/* The tail the summary reports: p99 fast, the maximum the tarpit. */
	assert_int_equal(t->c.duration.n, N_DOMAINS);
	assert_true(sc_tail_quantile(&t->c.duration, 0.99) <
		    (uint64_t)FAST_DONE_MS);
	/* libevent arms the probe's timer from the loop's clock as cached at
	 * the start of the callback, and the domain's start is read a little
	 * later in the same callback: on a loaded machine the timer may end
	 * the probe up to that callback's length before SMTP_TIMEOUT_MS has
	 * passed on the domain's own clock. */
	assert_true(t->c.duration.max_ms + CLOCK_SLACK_MS >= SMTP_TIMEOUT_MS);
	tp_peer_stop(&tarpit);
	te_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tarpit_holds_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
