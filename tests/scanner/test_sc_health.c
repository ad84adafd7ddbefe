/*
 * test_sc_health.c - the upstream's health (scanner/sc_health.h): what the
 * start-up canary's answer says about an upstream, and the monitor in the
 * engine - a SERVFAIL is the domain's; a timeout while the upstream
 * answered nothing is not: a silent upstream pauses the scan, its domains
 * are retried, never stored; it stops the scan after upstream_wait_s; an
 * upstream that comes back resumes it.
 *
 * DNS comes from the resolver tests' in-process responder on 127.0.0.1,
 * whose behaviour a timer on the same base changes mid-run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>
#include <sys/socket.h>

#include "rs_responder.h"
#include "sc_engine.h"
#include "st_error.h"

/* --- the canary's answer, judged (sc_upstream_problem) --- */

static void test_problem(void **state)
{
	static const struct {
		const char *what;
		enum rs_status status;
		int rcode;
		bool ra, authoritative;
		const char *problem; /* a word of the message, or NULL */
	} rows[] = {
		{ "no response", RS_TIMEOUT, -1, false, false, "does not answer" },
		{ "no response, even for an authoritative one", RS_TIMEOUT, -1,
		  false, true, "does not answer" },
		{ "a recursive resolver: NOERROR, RA set", RS_ANSWERED, 0, true,
		  false, NULL },
		/* The test world's Unbound: its root is a stub to NSD, which
		 * refuses it; alive and recursing all the same. */
		{ "SERVFAIL with RA set", RS_ANSWERED, 2, true, false, NULL },
		/* RFC 1035 §4.1.1: RA "denotes whether recursive query
		 * support is available in the name server" */
		{ "NSD: REFUSED, RA clear", RS_ANSWERED, 5, false, false,
		  "does not recurse" },
		{ "NSD with --upstream-authoritative", RS_ANSWERED, 5, false,
		  true, NULL },
		/* RFC 1034 §4.3.1: a referral, not an answer */
		{ "a referral to the canary", RS_REFERRAL, 0, false, false,
		  "does not recurse" },
		{ "a referral, RA set", RS_REFERRAL, 0, true, false,
		  "does not recurse" },
		{ "a referral with --upstream-authoritative", RS_REFERRAL, 0,
		  false, true, NULL },
		{ "a recursive resolver refusing us", RS_ANSWERED, 5, true,
		  false, "refuses" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sc_upstream_probe p = { .addr = "192.0.2.53" };
		char buf[512];
		const char *got;

		p.status = rows[i].status;
		p.rcode = rows[i].rcode;
		p.ra = rows[i].ra;
		got = sc_upstream_problem(&p, rows[i].authoritative, buf,
					  sizeof(buf));
		if ((got == NULL) != (rows[i].problem == NULL) ||
		    (got != NULL && (strstr(got, rows[i].problem) == NULL ||
				     strstr(got, "192.0.2.53") == NULL)))
			fail_msg("%s: got \"%s\"", rows[i].what,
				 got != NULL ? got : "(none)");
	}
}

/* --- the monitor in the engine --- */

#define MAX_NAMES 32

struct ctx {
	struct event_base *base;
	struct responder rsp;
	const char *names[MAX_NAMES];
	size_t n_names, next;
	unsigned sunk;
	enum an_verdict verdict[MAX_NAMES];
	bool got[MAX_NAMES];
	/* at flip_ms, the responder starts answering flip_rcode */
	unsigned flip_ms;
	int flip_rcode;
	const char *silent_suffix; /* names the responder never answers */
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

	c->sunk++;
	for (size_t i = 0; i < c->n_names; i++) {
		if (strcmp(c->names[i], done->rec->domain) == 0) {
			c->got[i] = true;
			c->verdict[i] = (enum an_verdict)done->rec->verdict;
		}
	}
	return ST_OK;
}

static void flip(evutil_socket_t fd, short what, void *arg)
{
	struct ctx *c = arg;

	(void)fd;
	(void)what;
	c->rsp.beh.mode = RSP_ANSWER;
	c->rsp.beh.rcode = c->flip_rcode;
}

struct outcome {
	int ret;
	struct sc_counters k;
	struct sc_health_stats h;
	bool stopped;
	char why[768];
};

/* Run the engine over c->names with the responder in mode/rcode at the
 * start (and flipped at c->flip_ms, if set). */
static void run(struct ctx *c, enum rsp_mode mode, int rcode,
		unsigned wait_s, struct outcome *out)
{
	struct sc_config cfg;
	struct sc_engine *e = NULL;
	struct event *ev = NULL;

	c->base = event_base_new();
	assert_non_null(c->base);
	memset(&c->rsp, 0, sizeof(c->rsp));
	assert_int_equal(rsp_start(&c->rsp, c->base, AF_INET), 0);
	c->rsp.beh.mode = mode;
	c->rsp.beh.rcode = rcode;
	c->rsp.beh.rrs[0] = NULL;
	c->rsp.beh.silent_suffix = c->silent_suffix;
	if (c->flip_ms > 0) {
		struct timeval tv = { 0, (suseconds_t)c->flip_ms * 1000 };

		ev = evtimer_new(c->base, flip, c);
		assert_non_null(ev);
		evtimer_add(ev, &tv);
	}
	sc_config_default(&cfg);
	cfg.resolvers[0] = c->rsp.addr;
	cfg.n_resolvers = 1;
	cfg.dns_timeout_ms = 100;
	cfg.dns_retries = 0;
	cfg.retry_backoff_ms = 20;
	cfg.upstream_wait_s = wait_s;
	cfg.inflight = 2;
	assert_int_equal(sc_engine_new(c->base, &cfg, &e), ST_OK);
	sc_engine_set_source(e, source, c);
	sc_engine_set_sink(e, sink, c);
	out->ret = sc_engine_run(e);
	sc_engine_counters(e, &out->k);
	sc_engine_health_stats(e, &out->h);
	out->stopped = sc_engine_stop_reason(e, out->why, sizeof(out->why));
	sc_engine_free(e);
	if (ev != NULL)
		event_free(ev);
	rsp_stop(&c->rsp);
	event_base_free(c->base);
}

/* SERVFAIL is an answer: the upstream is there and says the name's
 * servers failed.  Stored undetermined at once, no fault, no retry, no
 * outage. */
static void test_servfail_believed(void **state)
{
	struct ctx c = { .names = { "a.test", "b.test" }, .n_names = 2 };
	struct outcome o;

	(void)state;
	run(&c, RSP_ANSWER, 2, 5, &o);
	assert_int_equal(o.ret, ST_OK);
	assert_int_equal(c.sunk, 2);
	assert_int_equal(c.verdict[0], AN_V_UNDETERMINED);
	assert_int_equal(c.verdict[1], AN_V_UNDETERMINED);
	assert_int_equal(o.h.outages, 0);
	assert_int_equal(o.h.unvouched, 0);
	assert_int_equal(o.k.faults[SC_FAULT_UPSTREAM], 0);
	assert_int_equal(o.k.retries, 0);
	assert_false(o.stopped);
}

/* Nothing answers, ever: no domain reaches the sink (none is stored
 * undetermined), the upstream is judged down, and after upstream_wait_s
 * the run stops with ST_EDNS and a message naming the upstream. */
static void test_dead_upstream_stops(void **state)
{
	struct ctx c = { .names = { "a.test", "b.test", "c.test" },
			 .n_names = 3 };
	struct outcome o;

	(void)state;
	run(&c, RSP_SILENT, 0, 1, &o);
	assert_int_equal(o.ret, ST_EDNS);
	assert_int_equal(c.sunk, 0);
	assert_int_equal(o.k.completed, 0);
	assert_int_equal(o.k.verdicts[AN_V_UNDETERMINED], 0);
	assert_true(o.k.faults[SC_FAULT_UPSTREAM] >= 2);
	assert_true(o.h.unvouched >= 1);
	assert_int_equal(o.k.unmeasured, 0); /* waiting, not given up */
	assert_int_equal(o.h.outages, 1);
	assert_true(o.stopped);
	assert_non_null(strstr(o.why, "has not answered for 1 s"));
	assert_non_null(strstr(o.why, "the upstream 127.0.0.1:"));
}

/* Silent at first, answering NXDOMAIN from 400 ms on: the domains that
 * failed are retried after the upstream is back, and all end no-policy;
 * none is stored undetermined. */
static void test_upstream_back(void **state)
{
	struct ctx c = { .names = { "a.test", "b.test", "c.test" },
			 .n_names = 3, .flip_ms = 400, .flip_rcode = 3 };
	struct outcome o;

	(void)state;
	run(&c, RSP_SILENT, 0, 20, &o);
	assert_int_equal(o.ret, ST_OK);
	assert_int_equal(c.sunk, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.verdict[i], AN_V_NO_POLICY);
	assert_int_equal(o.k.verdicts[AN_V_UNDETERMINED], 0);
	assert_int_equal(o.h.outages, 1);
	assert_true(o.k.faults[SC_FAULT_UPSTREAM] >= 1);
	assert_true(o.k.retries >= 1);
	assert_int_equal(o.k.unmeasured, 0);
	assert_false(o.stopped);
}

/* An upstream that answers the canary and some names but drops most
 * others (overloaded): timeouts in more than half of the last domains
 * (SC_HEALTH_MIN at least) pause the scan as an outage, even though each
 * timeout, one by one, had answers around it (without the rule there is
 * no outage: the canary always answers).  The answered domains are stored
 * no-policy; the dropped ones are stored (undetermined: the known gap
 * before the window fills, sc_health.h) or retried and given up
 * unmeasured. */
static void test_overload_rate(void **state)
{
	static char names[24][32];
	struct ctx c = { .n_names = 24, .silent_suffix = ".drop.test" };
	struct outcome o;
	unsigned ok_sunk = 0;

	(void)state;
	for (size_t i = 0; i < 24; i++) {
		snprintf(names[i], sizeof(names[i]), i % 4 == 0 ? "ok%zu.test"
							      : "d%zu.drop.test",
			 i);
		c.names[i] = names[i];
	}
	run(&c, RSP_ANSWER, 3, 30, &o);
	assert_int_equal(o.ret, ST_OK);
	assert_true(o.h.outages >= 1);
	for (size_t i = 0; i < 24; i += 4) {
		assert_true(c.got[i]);
		assert_int_equal(c.verdict[i], AN_V_NO_POLICY);
		ok_sunk++;
	}
	assert_int_equal(ok_sunk, 6);
	assert_int_equal(c.sunk + o.k.unmeasured, 24);
	assert_true(o.k.unmeasured > 0);
	assert_true(o.k.faults[SC_FAULT_UPSTREAM] > 0);
	assert_false(o.stopped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_servfail_believed),
		cmocka_unit_test(test_dead_upstream_stops),
		cmocka_unit_test(test_upstream_back),
		cmocka_unit_test(test_overload_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
