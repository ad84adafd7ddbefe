/*
 * test_sc_domain.c - the per-domain state machine (scanner/sc_domain.c),
 * driven in-process: the engine library against a scripted zone (the
 * resolver tests' responder), an HTTPS policy host and an SMTP MX host on
 * 127.0.0.1 (sc_testpeer.h).  Each row is one path through the machine,
 * read back from the engine's own transition log, and checked against
 * what the peers saw and what the record says.
 *
 * White-box for the transition table: built with SC_ENGINE_BUILD to
 * reach sc_state_legal() in the engine's private header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sc_internal.h"
#include "sc_testutil.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define STS_OK "@ 300 IN TXT \"v=STSv1; id=20261207\""
#define MX_SHARED "@ 300 IN MX 10 mx.shared.test."
#define LOOPBACK "@ 300 IN A 127.0.0.1"

/* RFC 8461 §3.2: "version: STSv1", "mode", "max_age", "mx" lines. */
static const char policy[] = "version: STSv1\r\nmode: enforce\r\n"
			     "mx: mx.shared.test\r\nmax_age: 86400\r\n";

static const struct tz_row zone[] = {
	/* everything: record, policy host, MX host */
	{ "_mta-sts.full.test", TZ_TXT, { STS_OK } },
	{ "full.test", TZ_MX, { MX_SHARED } },
	{ "mta-sts.full.test", TZ_A, { LOOPBACK } },
	{ "mx.shared.test", TZ_A, { LOOPBACK } },
	/* no _mta-sts record (NXDOMAIN), an MX */
	{ "norec.test", TZ_MX, { MX_SHARED } },
	/* a record, but a null MX (RFC 7505): nothing to probe */
	{ "_mta-sts.nullmx.test", TZ_TXT, { STS_OK } },
	{ "nullmx.test", TZ_MX, { "@ 300 IN MX 0 ." } },
	{ "mta-sts.nullmx.test", TZ_A, { LOOPBACK } },
	/* a record, no policy host (mta-sts.noaddr.test NXDOMAIN) */
	{ "_mta-sts.noaddr.test", TZ_TXT, { STS_OK } },
	{ "noaddr.test", TZ_MX, { MX_SHARED } },
	/* RFC 8461 §3.1: a record that is not "v=STSv1" is no record */
	{ "_mta-sts.badrec.test", TZ_TXT, { "@ 300 IN TXT \"v=STSv2; id=1\"" } },
	{ "badrec.test", TZ_MX, { MX_SHARED } },
	{ "mta-sts.badrec.test", TZ_A, { LOOPBACK } },
	{ NULL, 0, { NULL } },
};

static const char *const cert_names[] = {
	"mta-sts.full.test", "mta-sts.nullmx.test", "mta-sts.badrec.test",
	"mx.shared.test",
};

/* --- the legal-transition table --- */

static enum sc_state state_by_name(const char *name)
{
	for (int s = 0; s < SC_S_COUNT; s++) {
		if (strcmp(sc_state_name((enum sc_state)s), name) == 0)
			return (enum sc_state)s;
	}
	return SC_S_COUNT;
}

static void test_legal_table(void **state)
{
	/* Every legal transition; all other pairs are illegal. */
	static const struct {
		enum sc_state from, to;
		const char *why;
	} legal[] = {
		{ SC_S_NEW, SC_S_DNS, "a domain starts with its lookups" },
		{ SC_S_DNS, SC_S_PH_ADDR, "one valid record: the policy host" },
		{ SC_S_DNS, SC_S_PROBE, "no record, --probe-mx" },
		{ SC_S_DNS, SC_S_DONE, "no record; a fault; a stop" },
		{ SC_S_PH_ADDR, SC_S_FETCH, "an address: fetch" },
		{ SC_S_PH_ADDR, SC_S_PROBE, "no address, --probe-mx" },
		{ SC_S_PH_ADDR, SC_S_DONE, "no address; a fault; a stop" },
		{ SC_S_FETCH, SC_S_PROBE, "fetched, --probe-mx" },
		{ SC_S_FETCH, SC_S_DONE, "fetched; a fault; a stop" },
		{ SC_S_PROBE, SC_S_DONE, "probed" },
	};

	(void)state;
	for (int f = 0; f < SC_S_COUNT; f++) {
		for (int t = 0; t < SC_S_COUNT; t++) {
			bool want = false;

			for (size_t i = 0; i < ARRAY_LEN(legal); i++)
				want |= legal[i].from == (enum sc_state)f &&
					legal[i].to == (enum sc_state)t;
			if (sc_state_legal((enum sc_state)f,
					   (enum sc_state)t) != want)
				fail_msg("%s -> %s: legal %d, want %d",
					 sc_state_name((enum sc_state)f),
					 sc_state_name((enum sc_state)t),
					 !want, want);
		}
	}
	/* Nothing leaves DONE (the domain is released), nothing enters
	 * NEW, and no state outside the enum is legal. */
	assert_false(sc_state_legal(SC_S_DONE, SC_S_DNS));
	assert_false(sc_state_legal(SC_S_PROBE, SC_S_NEW));
	assert_false(sc_state_legal(SC_S_DNS, SC_S_COUNT));
	assert_false(sc_state_legal(SC_S_COUNT, SC_S_DONE));
	assert_false(sc_state_legal((enum sc_state)-1, SC_S_DNS));
	assert_string_equal(sc_state_name(SC_S_COUNT), "?");
	for (int s = 0; s < SC_S_COUNT; s++)
		assert_int_equal(state_by_name(sc_state_name((enum sc_state)s)),
				 s);
}

/* Every transition the engine logged during t's run is legal. */
static void assert_log_legal(const struct te *t)
{
	const char *p = t->log;
	size_t n = 0;

	while (p != NULL && (p = strstr(p, "[scan] ")) != NULL) {
		char from[16], to[16];
		const char *colon = strstr(p, ": ");
		const char *eol = strchr(p, '\n');

		if (colon != NULL && eol != NULL && colon < eol &&
		    sscanf(colon + 2, "%15[a-z-] -> %15[a-z-]", from, to) == 2 &&
		    (size_t)(eol - colon - 2) ==
			    strlen(from) + 4 + strlen(to)) {
			n++;
			if (!sc_state_legal(state_by_name(from),
					    state_by_name(to)))
				fail_msg("illegal transition logged: %.*s",
					 (int)(eol - p), p);
		}
		p = eol;
	}
	assert_true(n > 0);
	assert_null(strstr(t->log, "illegal transition"));
}

/* --- each path through the machine --- */

static void test_paths(void **state)
{
	static const struct {
		const char *what;
		const char *name;
		bool probe_mx;
		const char *path;
		int fetch_status;     /* enum an_fetch_status */
		unsigned fetches;     /* the HTTPS peer's requests */
		unsigned probes;      /* the SMTP peer's handshakes */
		int verdict;          /* enum an_verdict, or -1: any */
	} rows[] = {
		/* RFC 8461 §3.3: a valid record, then "fetch the policy"
		 * over HTTPS from mta-sts.D; §4: MX hosts by STARTTLS. */
		{ "all the way", "full.test", true,
		  "new dns ph-addr fetch probe done", AN_FETCH_DONE, 1, 1,
		  AN_V_ENFORCE_OK },
		{ "no --probe-mx: no probe", "full.test", false,
		  "new dns ph-addr fetch done", AN_FETCH_DONE, 1, 0,
		  AN_V_ENFORCE_OK },
		/* RFC 8461 §3.1: no record, no policy: nothing to fetch */
		{ "no record: no fetch, probes", "norec.test", true,
		  "new dns probe done", AN_FETCH_NOT_ATTEMPTED, 0, 1,
		  AN_V_NO_POLICY },
		{ "no record, no --probe-mx", "norec.test", false,
		  "new dns done", AN_FETCH_NOT_ATTEMPTED, 0, 0,
		  AN_V_NO_POLICY },
		/* RFC 8461 §3.1: "v=STSv2" is not a record of this version */
		{ "invalid record: no fetch", "badrec.test", false,
		  "new dns done", AN_FETCH_NOT_ATTEMPTED, 0, 0, -1 },
		/* RFC 7505 §3: a null MX "0 ." names no host to probe */
		{ "null MX: no probe", "nullmx.test", true,
		  "new dns ph-addr fetch done", AN_FETCH_DONE, 1, 0, -1 },
		/* RFC 8461 §3.3: mta-sts.D has no address: no fetch */
		{ "no policy host address: no fetch", "noaddr.test", true,
		  "new dns ph-addr probe done", AN_FETCH_NO_ADDRESS, 0, 1,
		  -1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const char *names[] = { rows[i].name };
		const struct te_rec *r;
		struct te *t = NULL;
		char path[256];

		assert_int_equal(te_new(zone, cert_names, ARRAY_LEN(cert_names),
					&t), ST_OK);
		t->https.body = policy;
		t->cfg.probe_mx = rows[i].probe_mx;
		assert_int_equal(te_run(t, names, 1), ST_OK);
		te_path(t, rows[i].name, path, sizeof(path));
		r = te_rec(t, rows[i].name);
		if (t->run_ret != ST_OK || t->deadline_hit || r == NULL ||
		    strcmp(path, rows[i].path) != 0 ||
		    r->fetch_status != rows[i].fetch_status ||
		    t->https.requests != rows[i].fetches ||
		    t->smtp.handshakes != rows[i].probes ||
		    (rows[i].verdict >= 0 && r->verdict != rows[i].verdict))
			fail_msg("%s: ret %d deadline %d path \"%s\" fetch %d "
				 "requests %u handshakes %u verdict %d [%s]",
				 rows[i].what, t->run_ret, t->deadline_hit,
				 path, r != NULL ? r->fetch_status : -1,
				 t->https.requests, t->smtp.handshakes,
				 r != NULL ? r->verdict : -1,
				 r != NULL ? r->findings : "");
		if (rows[i].fetch_status == AN_FETCH_DONE)
			assert_int_equal(r->http_status, 200);
		if (rows[i].probes > 0) {
			const struct te_probe *p = te_probe(t, "mx.shared.test");

			assert_non_null(p);
			assert_int_equal(p->status, AN_PROBE_OK);
		}
		assert_int_equal(t->c.completed, 1);
		assert_int_equal(t->c.retries, 0);
		assert_int_equal(t->c.faults[SC_FAULT_LOCAL], 0);
		assert_int_equal(t->https.errors + t->smtp.errors, 0);
		assert_int_equal(t->rsp.errors, 0);
		assert_log_legal(t);
		te_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legal_table),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
