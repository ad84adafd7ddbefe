/*
 * test_sc_polite.c - politeness per destination address (DESIGN §8,
 * fetch/ft_polite.h, the tenant sharing of scanner/sc_mxprobe.c), driven
 * in-process through the engine: many MX names and many policy hosts on
 * one address (the tenant pattern), served by the scripted peers of
 * sc_testpeer.h on 127.0.0.1, which count the connections open at once.
 *
 *   - the connections open at once to the address never exceed
 *     --smtp-per-ip / --https-per-ip, whatever the number of names;
 *   - new SMTP connections respect --smtp-per-ip-rate;
 *   - a wildcard certificate covering every name (RFC 8461 §4.1, RFC
 *     6125 §6.4.3) means one probe for the address, lent to every name,
 *     and --probe-every-mx probes each name (still under the cap);
 *   - a certificate covering none of the names lends nothing: each name
 *     is probed and judged on its own (name mismatch);
 *   - a probe timeout our own held-up loop caused is a local fault,
 *     retried, never stored as mx-tls.unreachable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sc_testutil.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define N_DOM 16

/* d<i>.test: MX t<i>.mx.tenant.test (no _mta-sts record, so straight to
 * the probe), every tenant on 127.0.0.1; or, with sts, an STS record and
 * mta-sts.d<i>.test on 127.0.0.1 too. */
struct world {
	char names[N_DOM][32];
	const char *input[N_DOM];
	char rr_mx[N_DOM][64], n_dom[N_DOM][32], n_mx[N_DOM][48],
		n_sts[N_DOM][48], n_ph[N_DOM][48];
	struct tz_row zone[4 * N_DOM + 1];
};

static void world_make(struct world *w, bool sts)
{
	size_t z = 0;

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < N_DOM; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "d%d.test", i);
		w->input[i] = w->names[i];
		snprintf(w->n_dom[i], sizeof(w->n_dom[i]), "d%d.test", i);
		snprintf(w->n_mx[i], sizeof(w->n_mx[i]), "t%d.mx.tenant.test", i);
		snprintf(w->rr_mx[i], sizeof(w->rr_mx[i]),
			 "@ 300 IN MX 10 t%d.mx.tenant.test.", i);
		w->zone[z++] = (struct tz_row){ w->n_dom[i], TZ_MX,
						{ w->rr_mx[i] } };
		w->zone[z++] = (struct tz_row){ w->n_mx[i], TZ_A,
						{ "@ 300 IN A 127.0.0.1" } };
		if (!sts)
			continue;
		snprintf(w->n_sts[i], sizeof(w->n_sts[i]), "_mta-sts.d%d.test", i);
		snprintf(w->n_ph[i], sizeof(w->n_ph[i]), "mta-sts.d%d.test", i);
		w->zone[z++] = (struct tz_row){ w->n_sts[i], TZ_TXT,
			{ "@ 300 IN TXT \"v=STSv1; id=1\"" } };
		w->zone[z++] = (struct tz_row){ w->n_ph[i], TZ_A,
						{ "@ 300 IN A 127.0.0.1" } };
	}
	w->zone[z] = (struct tz_row){ NULL, 0, { NULL } };
}

static size_t probes_with(const struct te *t, uint8_t status)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_probes; i++)
		n += t->probes[i].status == status;
	return n;
}

/* The cap holds with 16 names on one address and a certificate that
 * covers none of them (nothing to lend: 16 probes).  The last row, no
 * cap, is the control. */
static void test_smtp_cap_many_names(void **state)
{
	static const char *const cert[] = { "mx.other.test" };
	static const unsigned caps[] = { 1, 2, 3, 0 };
	static struct world w;

	(void)state;
	world_make(&w, false);
	for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
		struct te *t = NULL;

		assert_int_equal(te_new(w.zone, cert, 1, &t), ST_OK);
		t->cfg.probe_mx = true;
		t->cfg.smtp_per_ip = caps[i];
		t->cfg.smtp_per_ip_rate = 0;
		t->smtp.greet_delay_ms = 20; /* so that probes overlap */
		assert_int_equal(te_run(t, w.input, N_DOM), ST_OK);
		assert_int_equal(t->run_ret, ST_OK);
		assert_false(t->deadline_hit);
		if (caps[i] == 0) {
			/* the control: without a cap they do overlap, so the
			 * rows above could have seen an excess */
			assert_true(t->smtp.open_peak > 3);
		} else if (t->smtp.open_peak > caps[i] ||
			   t->smtp.accepted != N_DOM)
			fail_msg("cap %u: %u open at once, %u accepted",
				 caps[i], t->smtp.open_peak, t->smtp.accepted);
		assert_int_equal(t->n_recs, N_DOM);
		/* RFC 8461 §4.1: the name is checked per name */
		assert_int_equal(probes_with(t, AN_PROBE_NAME_MISMATCH), N_DOM);
		assert_int_equal(t->c.faults[SC_FAULT_LOCAL], 0);
		te_free(t);
	}
}

/* --smtp-per-ip-rate 20: 8 names, one token at first, then one new
 * connection every 50 ms: at least 7 * 50 ms from the first connection
 * to the last. */
static void test_smtp_rate(void **state)
{
	static const char *const cert[] = { "mx.other.test" };
	static struct world w;
	struct te *t = NULL;
	uint64_t t0;

	(void)state;
	world_make(&w, false);
	assert_int_equal(te_new(w.zone, cert, 1, &t), ST_OK);
	t->cfg.probe_mx = true;
	t->cfg.smtp_per_ip = 0;
	t->cfg.smtp_per_ip_rate = 20;
	t0 = sc_now_us();
	assert_int_equal(te_run(t, w.input, 8), ST_OK);
	assert_int_equal(t->run_ret, ST_OK);
	assert_int_equal(t->smtp.accepted, 8);
	assert_true(sc_now_us() - t0 >= 349000u);
	assert_int_equal(t->n_recs, 8);
	te_free(t);
}

/* The tenant pattern: one wildcard certificate covers every name; one
 * probe is lent to all 16 (each judged OK), with no connection of its
 * own.  --probe-every-mx: 16 probes, under the cap. */
static void test_tenant_shared(void **state)
{
	static const char *const cert[] = { "*.mx.tenant.test" };
	static struct world w;

	(void)state;
	world_make(&w, false);
	for (int every = 0; every < 2; every++) {
		struct te *t = NULL;

		assert_int_equal(te_new(w.zone, cert, 1, &t), ST_OK);
		t->cfg.probe_mx = true;
		t->cfg.probe_every_mx = every;
		t->smtp.greet_delay_ms = 20;
		t->cfg.smtp_per_ip = 2;
		t->cfg.smtp_per_ip_rate = 0;
		assert_int_equal(te_run(t, w.input, N_DOM), ST_OK);
		assert_int_equal(t->run_ret, ST_OK);
		if (t->smtp.accepted != (every ? N_DOM : 1) ||
		    t->smtp.open_peak > 2)
			fail_msg("every %d: %u accepted, %u at once", every,
				 t->smtp.accepted, t->smtp.open_peak);
		assert_int_equal(t->n_probes, N_DOM);
		assert_int_equal(probes_with(t, AN_PROBE_OK), N_DOM);
		assert_int_equal(t->n_recs, N_DOM);
		for (int i = 0; i < N_DOM; i++) {
			const struct te_rec *r = te_rec(t, w.names[i]);

			assert_non_null(r);
			assert_null(strstr(r->findings, "mx-tls."));
		}
		te_free(t);
	}
}

/* The wildcard covers one label only (RFC 6125 §6.4.3): a name two
 * labels below it is not lent the probe, it is probed and mismatches. */
static void test_tenant_wildcard_one_label(void **state)
{
	static const char *const cert[] = { "*.tenant.test" };
	static struct world w;
	struct te *t = NULL;

	(void)state;
	world_make(&w, false);
	assert_int_equal(te_new(w.zone, cert, 1, &t), ST_OK);
	t->cfg.probe_mx = true;
	t->cfg.smtp_per_ip = 2;
	t->cfg.smtp_per_ip_rate = 0;
	assert_int_equal(te_run(t, w.input, 4), ST_OK);
	assert_int_equal(t->smtp.accepted, 4);
	assert_int_equal(probes_with(t, AN_PROBE_NAME_MISMATCH), 4);
	te_free(t);
}

/* 16 policy hosts on one address: at most --https-per-ip fetches there
 * at once, every policy fetched; no cap (the control) overlaps more. */
static void test_https_cap_many_names(void **state)
{
	static const char *cert[N_DOM];
	static struct world w;
	static const unsigned caps[] = { 1, 3, 0 };

	(void)state;
	world_make(&w, true);
	for (int i = 0; i < N_DOM; i++)
		cert[i] = w.n_ph[i];
	for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
		struct te *t = NULL;

		assert_int_equal(te_new(w.zone, cert, N_DOM, &t), ST_OK);
		t->https.body = "version: STSv1\r\nmode: testing\r\n"
				"mx: *.mx.tenant.test\r\nmax_age: 86400\r\n";
		t->cfg.https_per_ip = caps[i];
		t->cfg.https_per_ip_rate = 0;
		assert_int_equal(te_run(t, w.input, N_DOM), ST_OK);
		assert_int_equal(t->run_ret, ST_OK);
		if (caps[i] == 0) /* the control, as for SMTP */
			assert_true(t->https.open_peak > 3);
		else if (t->https.open_peak > caps[i] ||
		    t->https.answered != N_DOM)
			fail_msg("cap %u: %u open at once, %u answered",
				 caps[i], t->https.open_peak,
				 t->https.answered);
		assert_int_equal(t->n_recs, N_DOM);
		for (int k = 0; k < N_DOM; k++) {
			const struct te_rec *r = te_rec(t, w.names[k]);

			assert_non_null(r);
			assert_int_equal(r->fetch_status, AN_FETCH_DONE);
			assert_int_equal(r->verdict, AN_V_TESTING);
		}
		te_free(t);
	}
}

/* Once the MX host accepted the first probe, hold the loop for 1 s (a
 * machine too busy to run it), once. */
static void hold_once(struct te *t)
{
	bool *held = t->arg;

	if (!*held && t->smtp.accepted > 0) {
		*held = true;
		usleep(1000 * 1000);
	}
}

/* The peer greets after 100 ms, well inside the 400 ms probe timeout;
 * with the loop held for 1 s, the deadline fires 600 ms late, beside the
 * greeting.  DESIGN §4: "a local fault is never stored as a finding":
 * the domain is retried and its record says what the host does (OK).
 * Without the hold (the control), no fault and one connection. */
static void test_probe_timeout_under_our_load(void **state)
{
	static const char *const cert[] = { "*.mx.tenant.test" };
	static struct world w;

	(void)state;
	world_make(&w, false);
	for (int hold = 0; hold < 2; hold++) {
		struct te *t = NULL;
		bool held = false;
		const struct te_rec *r;

		assert_int_equal(te_new(w.zone, cert, 1, &t), ST_OK);
		t->cfg.probe_mx = true;
		t->cfg.smtp_timeout_ms = 400;
		t->cfg.retry_backoff_ms = 10;
		t->smtp.greet_delay_ms = 100;
		t->arg = &held;
		if (hold)
			t->on_tick = hold_once;
		assert_int_equal(te_run(t, w.input, 1), ST_OK);
		assert_int_equal(t->run_ret, ST_OK);
		r = te_rec(t, w.names[0]);
		assert_non_null(r);
		assert_null(strstr(r->findings, "mx-tls.unreachable"));
		assert_int_equal(te_probe(t, "t0.mx.tenant.test")->status,
				 AN_PROBE_OK);
		assert_int_equal(te_probe_count(t, "t0.mx.tenant.test"), 1);
		if (hold) {
			assert_true(held);
			assert_true(t->c.faults[SC_FAULT_LOCAL] >= 1);
			assert_true(t->c.retries >= 1);
			assert_int_equal(t->smtp.accepted, 2);
		} else {
			assert_int_equal(t->c.faults[SC_FAULT_LOCAL], 0);
			assert_int_equal(t->smtp.accepted, 1);
		}
		te_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_cap_many_names),
		cmocka_unit_test(test_smtp_rate),
		cmocka_unit_test(test_tenant_shared),
		cmocka_unit_test(test_tenant_wildcard_one_label),
		cmocka_unit_test(test_https_cap_many_names),
		cmocka_unit_test(test_probe_timeout_under_our_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
