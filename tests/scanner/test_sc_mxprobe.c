/*
 * test_sc_mxprobe.c - the MX probe cache (scanner/sc_mxprobe.c), driven
 * in-process: DESIGN §2 step 6, "each distinct MX host is probed once per
 * scan (shared by all domains that use it)", whether the second domain
 * asks while the probe is still in flight (it waits, by callback) or
 * after it completed (the cached result); and a probe that met a local
 * fault (every descriptor taken: EMFILE) is neither cached nor handed to
 * the probe sink, and its domain is retried, never stored on it.
 *
 * The zone is scripted (the resolver tests' responder), the MX host is
 * the SMTP peer of sc_testpeer.h on 127.0.0.1, which counts connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sc_testutil.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MX_SHARED "@ 300 IN MX 10 mx.shared.test."

/* No _mta-sts record: the domains go from their lookups to the probes. */
static const struct tz_row zone[] = {
	{ "a.test", TZ_MX, { MX_SHARED } },
	{ "b.test", TZ_MX, { MX_SHARED } },
	/* the same host, spelt in upper case: one host (RFC 4343) */
	{ "c.test", TZ_MX, { "@ 300 IN MX 10 MX.Shared.Test." } },
	{ "mx.shared.test", TZ_A, { "@ 300 IN A 127.0.0.1" } },
	{ NULL, 0, { NULL } },
};

static const char *const cert_names[] = { "mx.shared.test" };

static void test_shared(void **state)
{
	static const struct {
		const char *what;
		unsigned inflight;
		unsigned dns_delay_ms;
	} rows[] = {
		/* All three ask while the first probe is in flight: two
		 * wait on the entry and are told by its callback. */
		{ "waiting on the probe in flight", 8, 20 },
		/* One domain at a time: the later ones find it cached. */
		{ "the cached result", 1, 0 },
	};
	const char *names[] = { "a.test", "b.test", "c.test" };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct te *t = NULL;

		assert_int_equal(te_new(zone, cert_names, 1, &t), ST_OK);
		t->cfg.probe_mx = true;
		t->cfg.inflight = rows[i].inflight;
		t->dns_delay_ms = rows[i].dns_delay_ms;
		assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
		if (t->run_ret != ST_OK || t->n_recs != 3 ||
		    t->smtp.accepted != 1 || t->c.probes != 1 ||
		    te_probe_count(t, "mx.shared.test") != 1)
			fail_msg("%s: ret %d records %zu connections %u "
				 "probes %llu probe records %zu", rows[i].what,
				 t->run_ret, t->n_recs, t->smtp.accepted,
				 (unsigned long long)t->c.probes,
				 te_probe_count(t, "mx.shared.test"));
		assert_int_equal(t->smtp.handshakes, 1);
		assert_int_equal(te_probe(t, "mx.shared.test")->status,
				 AN_PROBE_OK);
		if (rows[i].inflight > 1)
			assert_true(t->c.inflight_peak >= 2);
		for (size_t k = 0; k < ARRAY_LEN(names); k++) {
			const struct te_rec *r = te_rec(t, names[k]);

			assert_non_null(r);
			/* RFC 8460 §3: no _smtp._tls record; nothing about
			 * the MX host's TLS, which is fine. */
			assert_null(strstr(r->findings, "mx-tls."));
		}
		assert_int_equal(t->c.faults[SC_FAULT_LOCAL], 0);
		te_free(t);
	}
}

/* --- a probe that met EMFILE --- */

struct emfile_out {
	size_t n_recs;
	char findings[512];
	size_t n_probe_records;
	uint8_t probe_status;
	uint64_t retries, faults_local, unmeasured, probes;
	unsigned accepted;
	bool filled, probe_fault_logged;
};

struct emfile_ctx {
	struct te_fill fill;
	bool filled, released;
};

/* Before the first domain: every descriptor taken.  The resolver's
 * sockets are open already, so the lookups go through; the probe's
 * connection is the first new descriptor, and fails with EMFILE. */
static void fill_on_pull(struct te *t)
{
	struct emfile_ctx *x = t->arg;

	if (x->filled)
		return;
	x->filled = true;
	te_fill(&x->fill);
}

/* Once the fault was counted, give the descriptors back: the retry,
 * 50 ms later, finds them free. */
static void release_on_fault(struct te *t)
{
	struct emfile_ctx *x = t->arg;
	struct sc_counters c;

	sc_engine_counters(t->e, &c);
	if (!x->released && c.faults[SC_FAULT_LOCAL] > 0) {
		x->released = true;
		te_unfill(&x->fill);
	}
}

/* arg: how many of a.test, b.test to scan at once (1 or 2). */
static int emfile_child(void *arg, void *out)
{
	struct emfile_out *o = out;
	const char *names[] = { "a.test", "b.test" };
	size_t n = *(const size_t *)arg;
	struct emfile_ctx x = { .filled = false };
	struct te *t = NULL;
	int ret;

	memset(o, 0, sizeof(*o));
	ret = te_new(zone, cert_names, 1, &t);
	if (ret != ST_OK)
		return ret;
	t->cfg.probe_mx = true;
	t->arg = &x;
	t->on_pull = fill_on_pull;
	t->on_tick = release_on_fault;
	t->dns_delay_ms = 20; /* both ask while the probe is in flight */
	ret = te_run(t, names, n);
	te_unfill(&x.fill);
	if (ret == ST_OK) {
		o->n_recs = t->n_recs;
		if (t->n_recs > 0)
			snprintf(o->findings, sizeof(o->findings), "%s",
				 t->recs[0].findings);
		o->n_probe_records = te_probe_count(t, "mx.shared.test");
		o->probe_status = t->n_probes > 0 ? t->probes[0].status : 0;
		o->retries = t->c.retries;
		o->faults_local = t->c.faults[SC_FAULT_LOCAL];
		o->unmeasured = t->c.unmeasured;
		o->probes = t->c.probes;
		o->accepted = t->smtp.accepted;
		o->filled = x.fill.full || x.released;
		o->probe_fault_logged =
			t->log != NULL &&
			strstr(t->log, "local fault: MX mx.shared.test: probe")
				!= NULL;
	}
	te_free(t);
	return ret;
}

/* DESIGN §4: a failure of the scanning machine is "counted, retried ...
 * never stored as a finding".  The first probe fails on EMFILE: no
 * probe record, no record for a.test; the retry probes the host again
 * (the faulted entry was not cached) and stores the true result. */
static void test_probe_emfile(void **state)
{
	struct emfile_out o;
	size_t n = 1;

	(void)state;
	assert_int_equal(te_fork(emfile_child, &n, &o, sizeof(o)), ST_OK);
	assert_true(o.filled);
	assert_true(o.probe_fault_logged);
	assert_true(o.faults_local >= 1);
	assert_int_equal(o.retries, 1);
	assert_int_equal(o.unmeasured, 0);
	assert_int_equal(o.n_recs, 1);           /* stored once, after */
	assert_int_equal(o.n_probe_records, 1);  /* the retry's probe only */
	assert_int_equal(o.probe_status, AN_PROBE_OK);
	assert_int_equal(o.probes, 1);
	assert_int_equal(o.accepted, 1);
	assert_null(strstr(o.findings, "mx-tls.unreachable"));
}

/* Two domains wait on the probe that meets EMFILE: the entry's callback
 * tells both of the fault, both are retried, and the host is probed
 * once more, for both. */
static void test_probe_emfile_two_waiters(void **state)
{
	struct emfile_out o;
	size_t n = 2;

	(void)state;
	assert_int_equal(te_fork(emfile_child, &n, &o, sizeof(o)), ST_OK);
	assert_true(o.filled);
	assert_true(o.probe_fault_logged);
	assert_int_equal(o.retries, 2);
	assert_int_equal(o.unmeasured, 0);
	assert_int_equal(o.n_recs, 2);
	assert_int_equal(o.n_probe_records, 1);
	assert_int_equal(o.probe_status, AN_PROBE_OK);
	assert_int_equal(o.probes, 1);
	assert_int_equal(o.accepted, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_probe_emfile),
		cmocka_unit_test(test_probe_emfile_two_waiters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
