/*
 * rs_testutil.c - the scaffolding of the resolver's cmocka tests: the test
 * context, the askers and their callback, the loop drivers and the checks.
 * The contract is in rs_testutil.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "rs_resolver.h"
#include "rs_responder.h"
#include "rs_testutil.h"
#include "st_error.h"

static void on_result(const struct rs_result *res, void *arg)
{
	struct asker *a = arg;
	struct tctx *t = a->t;
	size_t n;

	t->n_cb++;
	if (t->in_submit)
		a->in_submit = true;
	if (++a->calls > 1)
		return;
	a->t_done_us = rsp_now_us();
	a->status = res->status;
	snprintf(a->qname, sizeof(a->qname), "%s",
		 res->qname != NULL ? res->qname : "<NULL>");
	a->qtype = res->qtype;
	a->rcode = res->rcode;
	a->nodata = res->nodata;
	a->ad = res->ad;
	a->ra = res->ra;
	a->aa = res->aa;
	a->has_referral_zone = res->referral_zone != NULL;
	if (res->referral_zone != NULL)
		snprintf(a->referral_zone, sizeof(a->referral_zone), "%s",
			 res->referral_zone);
	a->truncated = res->truncated;
	a->n_cname = res->n_cname;
	n = res->n_cname < RS_CNAME_MAX ? res->n_cname : RS_CNAME_MAX;
	for (size_t i = 0; i < n && res->cname_chain != NULL; i++)
		a->cname[i] = strdup(res->cname_chain[i]);
	a->min_ttl = res->min_ttl;
	a->upstream = res->upstream;
	a->attempts = res->attempts;
	a->latency_us = res->latency_us;
	a->local_errno = res->local_errno;
	a->nul_ok = true;
	if (res->n_rrs > 0 && res->rrs != NULL)
		a->rrs = calloc(res->n_rrs, sizeof(*a->rrs));
	if (a->rrs != NULL)
		a->n_rrs = res->n_rrs;
	for (size_t i = 0; i < a->n_rrs; i++) {
		const struct rs_rr *rr = &res->rrs[i];

		a->rrs[i].ttl = rr->ttl;
		a->rrs[i].type = rr->type;
		a->rrs[i].pref = rr->pref;
		a->rrs[i].len = rr->len;
		a->rrs[i].data = malloc(rr->len + 1);
		if (a->rrs[i].data != NULL && rr->data != NULL) {
			memcpy(a->rrs[i].data, rr->data, rr->len);
			a->rrs[i].data[rr->len] = '\0';
		}
		if (rr->data == NULL || rr->data[rr->len] != '\0')
			a->nul_ok = false;
	}
	if (a->follow != NULL)
		a->follow_ret = ask(t, a->follow, a->follow_name, RS_TYPE_A, 0);
}

/* rs_submit() for a, noting whether the callback ran inside it. */
int ask(struct tctx *t, struct asker *a, const char *name, uint16_t type,
	unsigned flags)
{
	bool outer = t->in_submit;
	int ret;

	t->in_submit = true;
	ret = rs_submit(t->r, name, type, flags, on_result, a);
	t->in_submit = outer;
	return ret;
}

void ask_ok(struct tctx *t, struct asker *a, const char *name,
	    uint16_t type)
{
	assert_int_equal(ask(t, a, name, type, 0), ST_OK);
}

struct asker *askers_new(struct tctx *t, size_t n)
{
	assert_null(t->askers);
	t->askers = calloc(n, sizeof(*t->askers));
	assert_non_null(t->askers);
	t->n_askers = n;
	for (size_t i = 0; i < n; i++)
		t->askers[i].t = t;
	return t->askers;
}

void askers_free(struct tctx *t)
{
	for (size_t i = 0; i < t->n_askers; i++) {
		struct asker *a = &t->askers[i];
		size_t n = a->n_cname < RS_CNAME_MAX ? a->n_cname
						     : RS_CNAME_MAX;

		for (size_t j = 0; j < n; j++)
			free(a->cname[j]);
		for (size_t j = 0; j < a->n_rrs; j++)
			free(a->rrs[j].data);
		free(a->rrs);
	}
	free(t->askers);
	t->askers = NULL;
	t->n_askers = 0;
}

/* ---- driving the loop ------------------------------------------------- */

bool cb_at_least(const struct tctx *t, size_t n)
{
	return t->n_cb >= n;
}

bool queries_at_least(const struct tctx *t, size_t n)
{
	return t->rsp[0].n_q >= n;
}

bool answers_at_least(const struct tctx *t, size_t n)
{
	return t->rsp[0].n_answers >= n;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tctx *t = arg;

	(void)fd;
	(void)what;
	t->deadline_hit = true;
	event_base_loopbreak(t->base);
}

/* Run the loop until done(t, n) or ms have passed; true if done.  With no
 * done function, simply run for ms. */
bool run_loop(struct tctx *t, done_fn done, size_t n, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	struct event *ev = evtimer_new(t->base, deadline_cb, t);
	bool ok;

	assert_non_null(ev);
	t->deadline_hit = false;
	assert_int_equal(evtimer_add(ev, &tv), 0);
	while (!t->deadline_hit && (done == NULL || !done(t, n)))
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(ev);
	ok = done == NULL || done(t, n);
	assert_int_equal(t->rsp[0].errors, 0);
	assert_int_equal(t->rsp[1].errors, 0);
	return ok;
}

void run_until_cb(struct tctx *t, size_t n, unsigned ms)
{
	if (!run_loop(t, cb_at_least, n, ms))
		fail_msg("deadline: %zu of %zu callbacks after %u ms", t->n_cb,
			 n, ms);
}

void run_for(struct tctx *t, unsigned ms)
{
	(void)run_loop(t, NULL, 0, ms);
}

void new_resolver(struct tctx *t)
{
	int ret;

	rs_resolver_free(t->r);
	t->r = NULL;
	ret = rs_resolver_new(t->base, &t->cfg, &t->r);
	if (ret != ST_OK)
		fail_msg("rs_resolver_new: %s", st_strerror(ret));
	assert_non_null(t->r);
}

struct rs_stats get_stats(const struct tctx *t)
{
	struct rs_stats st;

	memset(&st, 0xa5, sizeof(st));
	rs_resolver_stats(t->r, &st);
	return st;
}

uint64_t total_drops(const struct rs_stats *st)
{
	return st->drop_source + st->drop_id + st->drop_question +
	       st->drop_malformed;
}

static void check_one(const char *what, uint64_t got, uint64_t want,
		      const char *file, int line)
{
	if (want == ANY || got == want)
		return;
	print_error("stats %s is %llu, want %llu\n", what,
		    (unsigned long long)got, (unsigned long long)want);
	_fail(file, line);
}

void check_stats_at(const struct tctx *t, size_t up,
		    const struct want_stats *w, const char *file, int line)
{
	struct rs_stats st = get_stats(t);
	const struct rs_upstream_stats *u = &st.upstream[up];

#define CK(f, got) check_one(#f, (got), w->f, file, line)
	CK(submitted, st.submitted);
	CK(coalesced, st.coalesced);
	CK(completed, st.completed);
	CK(timeouts, st.timeouts);
	CK(drop_source, st.drop_source);
	CK(drop_id, st.drop_id);
	CK(drop_question, st.drop_question);
	CK(drop_malformed, st.drop_malformed);
	CK(inflight, st.inflight);
	CK(queued, st.queued);
	CK(up_sent, u->sent);
	CK(up_answered, u->answered);
	CK(up_timeouts, u->timeouts);
	CK(up_servfail, u->servfail);
	CK(up_dropped, u->dropped);
	CK(up_tcp, u->tcp);
#undef CK
}

void assert_rr(const struct got_rr *rr, uint16_t type, uint32_t ttl,
	       const void *data, size_t len)
{
	assert_int_equal(rr->type, type);
	assert_int_equal(rr->ttl, ttl);
	assert_int_equal(rr->len, len);
	assert_non_null(rr->data);
	assert_memory_equal(rr->data, data, len);
}

const struct got_rr *find_rr(const struct asker *a, const void *data,
			     size_t len)
{
	for (size_t i = 0; i < a->n_rrs; i++)
		if (a->rrs[i].len == len && a->rrs[i].data != NULL &&
		    memcmp(a->rrs[i].data, data, len) == 0)
			return &a->rrs[i];
	return NULL;
}

/* One callback, RS_ANSWERED, from upstream 0 at the first attempt. */
void assert_answered_once(const struct asker *a)
{
	assert_int_equal(a->calls, 1);
	assert_false(a->in_submit);
	assert_int_equal(a->status, RS_ANSWERED);
	assert_int_equal(a->upstream, 0);
	assert_int_equal(a->attempts, 1);
	assert_true(a->nul_ok);
}

int setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->base = event_base_new();
	if (t->base == NULL ||
	    rsp_start(&t->rsp[0], t->base, AF_INET) != ST_OK) {
		if (t->base != NULL)
			event_base_free(t->base);
		free(t);
		return -1;
	}
	rs_config_default(&t->cfg);
	t->cfg.upstreams[0] = t->rsp[0].addr;
	t->cfg.n_upstreams = 1;
	*state = t;
	return 0;
}

int teardown(void **state)
{
	struct tctx *t = *state;

	/* The resolver first: its RS_CANCELLED callbacks write to askers. */
	rs_resolver_free(t->r);
	rsp_stop(&t->rsp[0]);
	rsp_stop(&t->rsp[1]);
	askers_free(t);
	event_base_free(t->base);
	free(t);
	return 0;
}
