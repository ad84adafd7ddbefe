/*
 * test_sc_engine.c - the scan engine (sc_engine.h), in-process: its fault
 * handling (a domain that met a fault is retried after a backoff and,
 * when it keeps failing, given up as unmeasured - never handed to the
 * sink; a fetch that met EMFILE is retried and stored once, from the
 * retry); the retry passes (a domain undetermined by a DNS timeout is
 * measured again at the end and stored once, with its attempts); a stop
 * mid-scan hands nothing more to the sink; a pause holds
 * new domains back, at the start and mid-scan; back-pressure (never more
 * than cfg.inflight domains in flight); and the descriptor budget fits
 * the options to the limit (sc_config_fit_fds()).
 *
 * The newer tests use sc_testutil.h: a scripted zone and the HTTPS peer
 * of sc_testpeer.h on loopback.
 *
 * DNS comes from the in-process responder of the resolver's tests
 * (tests/resolver/rs_responder.h) on 127.0.0.1, answering NXDOMAIN, so a
 * domain completes after its three lookups with verdict no-policy and no
 * fetch.  A local fault is provoked without touching the machine: a name
 * of 250 bytes is a valid domain, but "_mta-sts." + it is longer than a
 * DNS name may be, so rs_submit() refuses the question (ST_EINVAL): a
 * failure on our side, exactly like a socket that cannot be opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <sys/socket.h>

#include "rs_responder.h"
#include "sc_engine.h"
#include "sc_testutil.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
	struct event_base *base;
	struct responder rsp;
	const char *names[4];
	size_t n_names, next;
	unsigned sunk;
	enum an_verdict verdict;
	uint64_t t_first_sink_us;
	const char *const *rrs; /* NULL: NXDOMAIN to every question */
	size_t n_sts_kept, n_sts_total;
};

static int source(void *arg, struct sc_item *it)
{
	struct ctx *c = arg;

	if (c->next == c->n_names)
		return 0;
	it->domain = c->names[c->next++];
	it->rank = c->next;
	return 1;
}

static int sink(void *arg, const struct sc_done *done)
{
	struct ctx *c = arg;

	if (c->sunk++ == 0)
		c->t_first_sink_us = sc_now_us();
	c->verdict = (enum an_verdict)done->rec->verdict;
	c->n_sts_kept = done->rec->n_sts_txt;
	c->n_sts_total = done->rec->n_sts_txt_total;
	return ST_OK;
}

/* Run the engine over c->names; counters in *out. */
static void run(struct ctx *c, unsigned retry_max, unsigned backoff_ms,
		unsigned pause_ms, struct sc_counters *out)
{
	struct sc_config cfg;
	struct sc_engine *e = NULL;

	c->base = event_base_new();
	assert_non_null(c->base);
	memset(&c->rsp, 0, sizeof(c->rsp));
	assert_int_equal(rsp_start(&c->rsp, c->base, AF_INET), 0);
	c->rsp.beh.mode = RSP_ANSWER;
	c->rsp.beh.rcode = 3; /* NXDOMAIN */
	c->rsp.beh.rrs[0] = NULL;
	for (size_t i = 0; c->rrs != NULL && c->rrs[i] != NULL; i++) {
		c->rsp.beh.rcode = 0;
		c->rsp.beh.rrs[i] = c->rrs[i];
		c->rsp.beh.rrs[i + 1] = NULL;
	}
	sc_config_default(&cfg);
	cfg.resolvers[0] = c->rsp.addr;
	cfg.n_resolvers = 1;
	cfg.dns_timeout_ms = 500;
	cfg.retry_max = retry_max;
	cfg.retry_backoff_ms = backoff_ms;
	cfg.inflight = 4;
	assert_int_equal(sc_engine_new(c->base, &cfg, &e), ST_OK);
	sc_engine_set_source(e, source, c);
	sc_engine_set_sink(e, sink, c);
	if (pause_ms > 0)
		sc_engine_pause(e, pause_ms);
	assert_int_equal(sc_engine_run(e), ST_OK);
	sc_engine_counters(e, out);
	sc_engine_free(e);
	rsp_stop(&c->rsp);
	event_base_free(c->base);
}

static const char *long_name(void)
{
	/* 4 labels of 61 + ".test": 249 bytes, a valid name; with the
	 * "_mta-sts." prefix, 258: too long for DNS (RFC 1035 §2.3.4). */
	static char name[256];

	if (name[0] == '\0') {
		size_t n = 0;

		for (int l = 0; l < 4; l++) {
			memset(name + n, 'a' + l, 61);
			n += 61;
			name[n++] = '.';
		}
		memcpy(name + n, "test", 5);
	}
	return name;
}

/* Control: a domain without faults goes to the sink once, no retry. */
static void test_no_fault(void **state)
{
	struct ctx c = { .names = { "nx.test" }, .n_names = 1 };
	struct sc_counters k;

	(void)state;
	run(&c, 2, 20, 0, &k);
	assert_int_equal(c.sunk, 1);
	assert_int_equal(c.verdict, AN_V_NO_POLICY);
	assert_int_equal(k.completed, 1);
	assert_int_equal(k.retries, 0);
	assert_int_equal(k.unmeasured, 0);
	assert_int_equal(k.faults[SC_FAULT_LOCAL], 0);
	assert_int_equal(k.local_errors, 0);
}

/*
 * RFC 8461 §3.1: "If the number of resulting records is not one ...
 * senders MUST assume the recipient domain does not have an available
 * MTA-STS Policy".  The scanner keeps 16 TXT RRs of an answer; with 17
 * SPF-like records before two v=STSv1 records, both STS records must be
 * among those kept (an RRset has no order), so the domain is
 * policy-invalid (sts-record.multiple), not no-policy.
 */
static void test_txt_kept_first(void **state)
{
	static const char *rrs[20];
	struct ctx c = { .names = { "many.test" }, .n_names = 1, .rrs = rrs };
	struct sc_counters k;
	size_t n = 0;

	(void)state;
	for (; n < 17; n++)
		rrs[n] = "@ 300 IN TXT \"v=spf1 -all\"";
	rrs[n++] = "@ 300 IN TXT \"v=STSv1; id=1\"";
	rrs[n++] = "@ 300 IN TXT \"v=STSv1; id=2\"";
	rrs[n] = NULL;
	run(&c, 2, 20, 0, &k);
	assert_int_equal(c.sunk, 1);
	assert_int_equal(c.n_sts_total, 19);
	assert_int_equal(c.n_sts_kept, 16);
	assert_int_equal(c.verdict, AN_V_POLICY_INVALID);
}

/* A domain that meets a local fault on every attempt: retry_max retries,
 * each after its backoff (20, 40 ms), then given up: never in the sink,
 * counted unmeasured.  The other domain is not held up by it. */
static void test_fault_given_up(void **state)
{
	struct ctx c = { .n_names = 2 };
	struct sc_counters k;
	uint64_t t0;

	(void)state;
	c.names[0] = long_name();
	c.names[1] = "nx.test";
	t0 = sc_now_us();
	run(&c, 2, 20, 0, &k);
	assert_int_equal(c.sunk, 1); /* nx.test only */
	assert_int_equal(k.completed, 1);
	assert_int_equal(k.started, 4); /* nx.test, then 1 + 2 of the other */
	assert_int_equal(k.retries, 2);
	assert_int_equal(k.unmeasured, 1);
	assert_int_equal(k.retry_queued, 0);
	assert_true(k.faults[SC_FAULT_LOCAL] >= 3);
	assert_int_equal(k.local_errors, k.faults[SC_FAULT_LOCAL]);
	assert_int_equal(k.faults[SC_FAULT_UPSTREAM], 0);
	assert_int_equal(k.verdicts[AN_V_UNDETERMINED], 0);
	assert_true(sc_now_us() - t0 >= 60000); /* 20 + 40 ms of backoff */
}

/* retry_max 0: given up at once. */
static void test_no_retries(void **state)
{
	struct ctx c = { .n_names = 1 };
	struct sc_counters k;

	(void)state;
	c.names[0] = long_name();
	run(&c, 0, 20, 0, &k);
	assert_int_equal(c.sunk, 0);
	assert_int_equal(k.retries, 0);
	assert_int_equal(k.unmeasured, 1);
}

/* A pause holds the first domain back. */
static void test_pause(void **state)
{
	struct ctx c = { .names = { "nx.test" }, .n_names = 1 };
	struct sc_counters k;
	uint64_t t0 = sc_now_us();

	(void)state;
	run(&c, 2, 20, 200, &k);
	assert_int_equal(c.sunk, 1);
	assert_true(c.t_first_sink_us - t0 >= 200000);
}

/* The descriptor budget (sc_scan.h): 32 reserved + 16 UDP + 1 TCP per
 * resolver + 3 per fetch + 1 per probe. */
static void test_fit_fds(void **state)
{
	static const struct {
		const char *what;
		uint64_t limit;
		unsigned https, smtp;
		bool probe;
		int ret;
		unsigned https_out, smtp_out;
		bool lowered;
	} rows[] = {
		{ "fits: nothing changes", 1024, 128, 64, true, ST_OK, 128, 64,
		  false },
		{ "fits exactly", 32 + 16 + 1 + 3 * 128 + 64, 128, 64, true,
		  ST_OK, 128, 64, false },
		{ "one short: lowered", 32 + 16 + 1 + 3 * 128 + 63, 128, 64,
		  true, ST_OK, 127, 63, true },
		{ "ulimit -n 64: 15 left, 4 fetches and 2 probes", 64, 128, 64,
		  true, ST_OK, 4, 2, true },
		{ "without probes the fetches take it all", 64, 128, 64, false,
		  ST_OK, 5, 64, true },
		{ "just one of each", 32 + 16 + 1 + 3 + 1, 128, 64, true,
		  ST_OK, 1, 1, true },
		{ "not even one of each: refused", 32 + 16 + 1 + 3, 128, 64,
		  true, ST_ERANGE, 128, 64, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sc_config cfg;
		struct sc_fd_budget b;
		int ret;

		sc_config_default(&cfg);
		cfg.resolvers[0] = "127.0.0.1";
		cfg.n_resolvers = 1;
		cfg.https_max = rows[i].https;
		cfg.smtp_max = rows[i].smtp;
		cfg.probe_mx = rows[i].probe;
		ret = sc_config_fit_fds(&cfg, rows[i].limit, &b);
		if (ret != rows[i].ret || cfg.https_max != rows[i].https_out ||
		    cfg.smtp_max != rows[i].smtp_out ||
		    b.lowered != rows[i].lowered)
			fail_msg("%s: ret %d https %u smtp %u lowered %d", rows[i].what,
				 ret, cfg.https_max, cfg.smtp_max, b.lowered);
		if (ret == ST_OK && b.need > rows[i].limit)
			fail_msg("%s: needs %llu of %llu", rows[i].what,
				 (unsigned long long)b.need,
				 (unsigned long long)rows[i].limit);
	}
}

/* --- in-process, with the scripted zone and the HTTPS peer --- */

#define STS_OK "@ 300 IN TXT \"v=STSv1; id=20261207\""

/* RFC 8461 §3.2 */
static const char policy[] = "version: STSv1\r\nmode: testing\r\n"
			     "mx: mx.full.test\r\nmax_age: 86400\r\n";

static const struct tz_row zone[] = {
	{ "_mta-sts.full.test", TZ_TXT, { STS_OK } },
	{ "full.test", TZ_MX, { "@ 300 IN MX 10 mx.full.test." } },
	{ "mta-sts.full.test", TZ_A, { "@ 300 IN A 127.0.0.1" } },
	{ NULL, 0, { NULL } }, /* every other name: NXDOMAIN */
};

static const char *const cert_names[] = { "mta-sts.full.test" };

static struct te *te_make(void)
{
	struct te *t = NULL;

	assert_int_equal(te_new(zone, cert_names, ARRAY_LEN(cert_names), &t),
			 ST_OK);
	t->https.body = policy;
	return t;
}

/* Stop once the HTTPS peer holds full.test's request. */
static void stop_when_fetching(struct te *t)
{
	if (t->https.requests > 0)
		sc_engine_stop(t->e);
}

/* sc_engine_stop() mid-scan: the domain in flight (its fetch held by the
 * peer) is abandoned, not handed to the sink, neither at the stop nor
 * when sc_engine_free() cancels its fetch; what completed before stays. */
static void test_stop_mid_scan(void **state)
{
	const char *names[] = { "nx1.test", "full.test" };
	struct te *t = te_make();
	char path[256];

	(void)state;
	t->https.hold = true;
	t->cfg.inflight = 1;
	t->on_tick = stop_when_fetching;
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	assert_int_equal(t->run_ret, ST_OK);
	assert_false(t->deadline_hit);
	assert_int_equal(t->https.requests, 1);
	assert_int_equal(t->n_recs, 1);
	assert_non_null(te_rec(t, "nx1.test"));
	assert_null(te_rec(t, "full.test"));
	assert_int_equal(t->c.completed, 1);
	assert_int_equal(t->c.retries, 0);
	/* the fetch was cancelled by sc_engine_free(): fetch -> done */
	te_path(t, "full.test", path, sizeof(path));
	assert_string_equal(path, "new dns ph-addr fetch done");
	te_free(t);
}

struct pause_ctx {
	uint64_t t_paused_us;
};

static void pause_after_first(struct te *t)
{
	struct pause_ctx *p = t->arg;

	if (t->n_recs == 1) {
		p->t_paused_us = sc_now_us();
		sc_engine_pause(t->e, 200);
	}
}

/* sc_engine_pause() mid-scan (sc_health.c does it for a silent
 * upstream): no new domain for 200 ms, then the scan goes on. */
static void test_pause_mid_scan(void **state)
{
	const char *names[] = { "nx1.test", "nx2.test" };
	struct pause_ctx p = { 0 };
	struct te *t = te_make();

	(void)state;
	t->cfg.inflight = 1;
	t->arg = &p;
	t->on_sink = pause_after_first;
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	assert_int_equal(t->run_ret, ST_OK);
	assert_int_equal(t->n_recs, 2);
	assert_true(p.t_paused_us > 0);
	assert_true(t->t_pull_us[1] >= p.t_paused_us + 200000);
	te_free(t);
}

/* Back-pressure (sc_engine.h): never more than cfg.inflight domains in
 * flight, whatever the input size; answers 30 ms late keep them
 * overlapping. */
static void test_back_pressure(void **state)
{
	static char buf[20][32];
	const char *names[20];
	struct te *t = te_make();

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		snprintf(buf[i], sizeof(buf[i]), "nx%zu.test", i);
		names[i] = buf[i];
	}
	t->cfg.inflight = 3;
	t->dns_delay_ms = 30;
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	assert_int_equal(t->run_ret, ST_OK);
	assert_int_equal(t->n_recs, 20);
	assert_int_equal(t->c.completed, 20);
	assert_int_equal(t->c.inflight_peak, 3); /* reached, never passed */
	/* a new name is taken only while fewer than 3 are in flight */
	assert_true(t->inflight_at_pull_max <= 2);
	assert_true(t->rsp.max_outstanding <= 3 * 3); /* 3 lookups each */
	assert_int_equal(t->c.inflight, 0);
	te_free(t);
}

/* --- a fetch that met EMFILE, in a forked child --- */

struct fetch_emfile_out {
	size_t n_recs;
	uint8_t fetch_status, verdict;
	uint16_t http_status;
	uint64_t retries, faults_local, unmeasured;
	unsigned accepted, answered;
	bool filled, fault_logged;
	char path[256];
};

struct fill_ctx {
	struct te_fill fill;
	bool filled, released;
};

/* The lookups go through the resolver's open sockets; curl's connection
 * is the first new descriptor. */
static void fill_on_pull(struct te *t)
{
	struct fill_ctx *x = t->arg;

	if (!x->filled) {
		x->filled = true;
		te_fill(&x->fill);
	}
}

static void release_on_fault(struct te *t)
{
	struct fill_ctx *x = t->arg;
	struct sc_counters c;

	sc_engine_counters(t->e, &c);
	if (!x->released && c.faults[SC_FAULT_LOCAL] > 0) {
		x->released = true;
		te_unfill(&x->fill);
	}
}

static int fetch_emfile_child(void *arg, void *out)
{
	struct fetch_emfile_out *o = out;
	const char *names[] = { "full.test" };
	struct fill_ctx x = { .filled = false };
	struct te *t = NULL;
	int ret;

	(void)arg;
	memset(o, 0, sizeof(*o));
	ret = te_new(zone, cert_names, ARRAY_LEN(cert_names), &t);
	if (ret != ST_OK)
		return ret;
	t->https.body = policy;
	t->arg = &x;
	t->on_pull = fill_on_pull;
	t->on_tick = release_on_fault;
	ret = te_run(t, names, 1);
	te_unfill(&x.fill);
	if (ret == ST_OK) {
		o->n_recs = t->n_recs;
		if (t->n_recs > 0) {
			o->fetch_status = t->recs[0].fetch_status;
			o->http_status = t->recs[0].http_status;
			o->verdict = t->recs[0].verdict;
		}
		o->retries = t->c.retries;
		o->faults_local = t->c.faults[SC_FAULT_LOCAL];
		o->unmeasured = t->c.unmeasured;
		o->accepted = t->https.accepted;
		o->answered = t->https.answered;
		o->filled = x.fill.full;
		o->fault_logged = t->log != NULL &&
				  strstr(t->log, "local fault: fetch "
						 "mta-sts.full.test") != NULL;
		te_path(t, "full.test", o->path, sizeof(o->path));
	}
	te_free(t);
	return ret;
}

/* DESIGN §4: a failure of the scanning machine is "counted, retried ...
 * never stored as a finding".  EMFILE on the policy fetch: nothing
 * stored from that attempt (not a connect failure of the host); the
 * retry fetches and stores the true result, once. */
static void test_fetch_emfile(void **state)
{
	struct fetch_emfile_out o;

	(void)state;
	assert_int_equal(te_fork(fetch_emfile_child, NULL, &o, sizeof(o)),
			 ST_OK);
	assert_true(o.filled);
	assert_true(o.fault_logged);
	assert_true(o.faults_local >= 1);
	assert_int_equal(o.retries, 1);
	assert_int_equal(o.unmeasured, 0);
	assert_int_equal(o.n_recs, 1);
	assert_int_equal(o.fetch_status, AN_FETCH_DONE);
	assert_int_equal(o.http_status, 200);
	assert_int_equal(o.verdict, AN_V_TESTING);
	assert_int_equal(o.accepted, 1); /* only the retry connected */
	assert_int_equal(o.answered, 1);
	assert_string_equal(o.path, "new dns ph-addr fetch done | "
				    "new dns ph-addr fetch done");
}

/* --- retry passes: undetermined after a DNS timeout, measured again --- */

/* full.test with its _mta-sts TXT dropped drop_first times; one DNS
 * attempt per lookup (the MX and TLS-RPT answers, in the same 200 ms,
 * show the upstream alive: the timeout is the domain's own), passes
 * retry passes backoff_s apart.  Elapsed run time in *ms. */
static struct te *run_dropped(unsigned drop_first, unsigned passes,
			      unsigned backoff_s, uint64_t *ms)
{
	const char *names[] = { "full.test", "nx1.test" };
	struct te *t = te_make();
	uint64_t t0;

	t->drop_name = "_mta-sts.full.test";
	t->drop_first = drop_first;
	t->cfg.dns_retries = 0;
	t->cfg.dns_timeout_ms = 200;
	/* The other answers come 50 ms into the attempt, well inside it
	 * whatever the timer's lateness, so the monitor sees them. */
	t->dns_delay_ms = 50;
	t->cfg.retry_passes = passes;
	t->cfg.retry_pass_backoff_s = backoff_s;
	t0 = sc_now_us();
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	*ms = (sc_now_us() - t0) / 1000;
	assert_false(t->deadline_hit);
	assert_int_equal(t->run_ret, ST_OK);
	return t;
}

/* A domain whose _mta-sts lookup times out on the main pass and is
 * answered on the retry pass is stored once, from the pass, with the
 * verdict its answers give (testing: RFC 8461 §5, "mode: testing") and
 * attempts 2; the pass waited its backoff; a domain that never timed out
 * is stored at once with attempts 1. */
static void test_pass_recovers(void **state)
{
	uint64_t ms;
	struct te *t = run_dropped(1, 1, 1, &ms);
	const struct te_rec *r = te_rec(t, "full.test");

	(void)state;
	assert_int_equal(t->dropped, 1);
	assert_int_equal(t->n_recs, 2);
	assert_non_null(r);
	assert_int_equal(r->verdict, AN_V_TESTING);
	assert_int_equal(r->attempts, 2);
	assert_int_equal(te_rec(t, "nx1.test")->attempts, 1);
	assert_int_equal(t->c.passes, 1);
	assert_int_equal(t->c.pass_retries, 1);
	assert_int_equal(t->c.pass_recovered, 1);
	assert_int_equal(t->c.pass_held, 0);
	assert_int_equal(t->c.unmeasured, 0);
	assert_int_equal(t->c.retries, 0); /* no fault retry */
	assert_true(ms >= 1000); /* --retry-backoff 1 */
	te_free(t);
}

/* A domain that always times out: asked once per pass (passes + 1
 * times), stored once, undetermined, with attempts = passes + 1, the
 * timeout kept as the domain's finding (AN_DNS_TIMEOUT). */
static void test_pass_always_times_out(void **state)
{
	uint64_t ms;
	struct te *t = run_dropped(UINT_MAX, 2, 0, &ms);
	const struct te_rec *r = te_rec(t, "full.test");

	(void)state;
	assert_int_equal(t->dropped, 3);
	assert_int_equal(t->n_recs, 2);
	assert_non_null(r);
	assert_int_equal(r->verdict, AN_V_UNDETERMINED);
	assert_int_equal(r->sts_dns, AN_DNS_TIMEOUT);
	assert_int_equal(r->attempts, 3);
	assert_int_equal(t->c.passes, 2);
	assert_int_equal(t->c.pass_retries, 2);
	assert_int_equal(t->c.pass_recovered, 0);
	assert_int_equal(t->c.verdicts[AN_V_UNDETERMINED], 1);
	assert_int_equal(t->c.retries, 0); /* no fault retry */
	te_free(t);
}

/* te.on_tick: hold the loop up for 80 ms once, 190 ms into the run, just
 * before the 200 ms timeout of a lookup sent at its start is due. */
static void stall_once(struct te *t)
{
	uint64_t *t0 = t->arg;

	if (*t0 == 0 || sc_now_us() - *t0 < 190000u)
		return;
	*t0 = 0;
	usleep(80000);
}

/* The monitor believes a domain's own timeout when the upstream answered
 * while the lookup was on the wire (sc_health.c).  The other lookups'
 * answers come at once, right after the send; the loop is then held up,
 * so the timeout fires 70 ms late.  The answers still fall in the time
 * the lookup was out: the timeout is the domain's, held for the retry
 * pass, never a fault of ours.  The old window (the configured timeout
 * back from the late timer) missed them: a fault retry and an unvouched
 * timeout. */
static void test_vouch_late_timer(void **state)
{
	const char *names[] = { "full.test" };
	struct te *t = te_make();
	uint64_t t0;

	(void)state;
	t->drop_name = "_mta-sts.full.test";
	t->drop_first = 1;
	t->cfg.dns_retries = 0;
	t->cfg.dns_timeout_ms = 200;
	t->dns_delay_ms = 0;
	t->cfg.retry_passes = 1;
	t->cfg.retry_pass_backoff_s = 0;
	t0 = sc_now_us();
	t->arg = &t0;
	t->on_tick = stall_once;
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	assert_false(t->deadline_hit);
	assert_int_equal(t0, 0); /* the stall happened */
	assert_int_equal(t->dropped, 1);
	assert_int_equal(t->c.retries, 0);
	assert_int_equal(t->c.pass_retries, 1);
	assert_int_equal(te_rec(t, "full.test")->attempts, 2);
	assert_int_equal(te_rec(t, "full.test")->verdict, AN_V_TESTING);
	te_free(t);
}

/* Every third input name: its _mta-sts TXT is silent the first time. */
static bool drop_third(const char *qname)
{
	unsigned i;

	return sscanf(qname, "_mta-sts.b%u.test", &i) == 1 && i % 3 == 0;
}

/* Memory stays bounded when many domains time out (sc_engine.c, "Retry
 * passes"): 240 names at --inflight 4, 80 of them silent once; the held
 * names never exceed pass_cap() (64 here) by more than what was in
 * flight, the pass begins early, before the input's end, and every name
 * is still stored once, the 80 from the pass (NXDOMAIN: no policy),
 * attempts 2.  The old engine held all 80 until the input was done. */
static void test_pass_bounded(void **state)
{
	static char buf[240][32];
	const char *names[240];
	struct te *t = te_make();

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		snprintf(buf[i], sizeof(buf[i]), "b%zu.test", i);
		names[i] = buf[i];
	}
	t->drop_once = drop_third;
	t->cfg.inflight = 4;
	t->cfg.dns_retries = 0;
	t->cfg.dns_timeout_ms = 200;
	t->dns_delay_ms = 20;
	t->cfg.retry_passes = 1;
	t->cfg.retry_pass_backoff_s = 0;
	assert_int_equal(te_run(t, names, ARRAY_LEN(names)), ST_OK);
	assert_false(t->deadline_hit);
	assert_int_equal(t->run_ret, ST_OK);
	assert_int_equal(t->n_recs, ARRAY_LEN(names));
	/* A loaded machine can stall this process past a timeout with no
	 * answer heard meanwhile: the monitor then rightly calls it our
	 * fault, and the domain takes a fault retry instead (any domain). */
	assert_true(t->c.pass_retries + t->c.retries >= 80);
	assert_true(t->c.pass_retries >= 80 - t->c.retries);
	assert_int_equal(t->c.pass_recovered, t->c.pass_retries);
	assert_true(t->c.passes_early >= 1);
	assert_true(t->c.pass_held_peak <= SC_PASS_HELD_MIN + 4);
	assert_true(t->c.pass_held_peak >= SC_PASS_HELD_MIN);
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const struct te_rec *r = te_rec(t, names[i]);

		assert_non_null(r);
		assert_true(r->attempts >= (i % 3 == 0 ? 2u : 1u));
		assert_true(r->attempts <= 1 + t->c.retries + (i % 3 == 0));
		assert_int_not_equal(r->verdict, AN_V_UNDETERMINED);
	}
	te_free(t);
}

/* --retry-passes 0: the old behaviour, stored undetermined at once. */
static void test_no_pass(void **state)
{
	uint64_t ms;
	struct te *t = run_dropped(1, 0, 0, &ms);
	const struct te_rec *r = te_rec(t, "full.test");

	(void)state;
	assert_int_equal(t->dropped, 1);
	assert_non_null(r);
	assert_int_equal(r->verdict, AN_V_UNDETERMINED);
	assert_int_equal(r->attempts, 1);
	assert_int_equal(t->c.passes, 0);
	te_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_fds),
		cmocka_unit_test(test_no_fault),
		cmocka_unit_test(test_txt_kept_first),
		cmocka_unit_test(test_fault_given_up),
		cmocka_unit_test(test_no_retries),
		cmocka_unit_test(test_pause),
		cmocka_unit_test(test_stop_mid_scan),
		cmocka_unit_test(test_pause_mid_scan),
		cmocka_unit_test(test_back_pressure),
		cmocka_unit_test(test_fetch_emfile),
		cmocka_unit_test(test_pass_recovers),
		cmocka_unit_test(test_pass_always_times_out),
		cmocka_unit_test(test_no_pass),
		cmocka_unit_test(test_pass_bounded),
		cmocka_unit_test(test_vouch_late_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
