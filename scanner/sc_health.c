/*
 * sc_health.c - the upstream's health: the start-up canary and the
 * monitor that keeps an upstream's failure from becoming a domain's
 * finding (see sc_health.h for the rules).
 *
 * Monitor states: OK (a timeout is believed when the upstream answered
 * something while the lookup's last attempt was on the wire) and DOWN
 * (every timeout is the upstream's; the engine is paused; the canary is
 * asked again every reprobe_ms, doubling).
 */
#include "sc_health.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_internal.h"
#include "st_error.h"

#define LOG_COMP "upstream"

/* --- the start-up check --- */

struct sc_upstream_checker {
	struct event_base *base;
	struct rs_resolver *rs[RS_MAX_UPSTREAMS];
	struct sc_upstream_probe *p;   /* during run */
	size_t n, done;
	bool used;
};

struct probe_ctx {
	struct sc_upstream_checker *ck;
	size_t i;
};

static void on_startup_canary(const struct rs_result *res, void *arg)
{
	struct sc_upstream_checker *ck = ((struct probe_ctx *)arg)->ck;
	struct sc_upstream_probe *p = &ck->p[((struct probe_ctx *)arg)->i];

	p->status = res->status;
	p->rcode = res->rcode;
	p->ra = res->ra;
	p->latency_ms = res->latency_us / 1000u;
	if (res->referral_zone != NULL)
		snprintf(p->referral_zone, sizeof(p->referral_zone), "%s",
			 res->referral_zone);
	/* The resolvers' sockets stay armed: the loop ends here. */
	if (++ck->done == ck->n)
		event_base_loopbreak(ck->base);
}

void sc_upstream_checker_free(struct sc_upstream_checker *ck)
{
	if (ck == NULL)
		return;
	for (size_t i = 0; i < ck->n; i++)
		rs_resolver_free(ck->rs[i]);
	if (ck->base != NULL)
		event_base_free(ck->base);
	free(ck);
}

int sc_upstream_checker_new(const struct sc_config *cfg,
			    struct sc_upstream_checker **out)
{
	struct sc_upstream_checker *ck = calloc(1, sizeof(*ck));
	size_t n = cfg->n_resolvers > 0 ? cfg->n_resolvers : 1;
	int ret = ST_OK;

	*out = NULL;
	if (ck == NULL || (ck->base = event_base_new()) == NULL) {
		sc_upstream_checker_free(ck);
		return ST_ENOMEM;
	}
	for (size_t i = 0; i < n && i < RS_MAX_UPSTREAMS && ret == ST_OK;
	     i++) {
		struct rs_config rc;

		rs_config_default(&rc);
		/* None given: one resolver on resolv.conf's servers. */
		rc.upstreams[0] = cfg->n_resolvers > 0 ? cfg->resolvers[i]
						       : NULL;
		rc.n_upstreams = cfg->n_resolvers > 0 ? 1 : 0;
		rc.timeout_ms = cfg->dns_timeout_ms;
		rc.retries = cfg->dns_retries;
		rc.n_sockets = 1;
		rc.log = cfg->log;
		ret = rs_resolver_new(ck->base, &rc, &ck->rs[i]);
		if (ret == ST_OK)
			ck->n++;
	}
	if (ret != ST_OK) {
		sc_upstream_checker_free(ck);
		return ret;
	}
	*out = ck;
	return ST_OK;
}

int sc_upstream_checker_run(struct sc_upstream_checker *ck,
			    const struct sc_config *cfg,
			    struct sc_upstream_probe probes[RS_MAX_UPSTREAMS],
			    size_t *n)
{
	struct probe_ctx ctx[RS_MAX_UPSTREAMS];
	int ret = ST_OK;

	*n = 0;
	if (ck->used)
		return ST_EINVAL;
	ck->used = true;
	ck->p = probes;
	for (size_t i = 0; i < ck->n && ret == ST_OK; i++) {
		memset(&probes[i], 0, sizeof(probes[i]));
		snprintf(probes[i].addr, sizeof(probes[i].addr), "%s",
			 cfg->n_resolvers > 0 ? cfg->resolvers[i]
					      : "resolv.conf");
		probes[i].rcode = -1;
		ctx[i] = (struct probe_ctx){ ck, i };
		ret = rs_submit(ck->rs[i], SC_CANARY_NAME, SC_CANARY_TYPE, 0,
				on_startup_canary, &ctx[i]);
	}
	if (ret == ST_OK && event_base_dispatch(ck->base) < 0)
		ret = ST_EUNKNOWN;
	if (ret == ST_OK && ck->done != ck->n)
		ret = ST_EUNKNOWN;
	if (ret == ST_OK)
		*n = ck->n;
	/* A question left (an error above) must not call into ctx later. */
	for (size_t i = 0; i < ck->n; i++) {
		rs_resolver_free(ck->rs[i]);
		ck->rs[i] = NULL;
	}
	ck->n = 0;
	return ret;
}

int sc_upstream_check(const struct sc_config *cfg,
		      struct sc_upstream_probe probes[RS_MAX_UPSTREAMS],
		      size_t *n)
{
	struct sc_upstream_checker *ck = NULL;
	int ret = sc_upstream_checker_new(cfg, &ck);

	*n = 0;
	if (ret == ST_OK)
		ret = sc_upstream_checker_run(ck, cfg, probes, n);
	sc_upstream_checker_free(ck);
	return ret;
}

const char *sc_upstream_problem(const struct sc_upstream_probe *p,
				bool authoritative, char *buf, size_t len)
{
	if (p->status != RS_ANSWERED && p->status != RS_REFERRAL) {
		snprintf(buf, len, "%s does not answer DNS (%s to the canary "
			 "question \". NS\"): is a resolver running there?",
			 p->addr, rs_status_name(p->status));
		return buf;
	}
	if (authoritative)
		return NULL; /* alive is all an authoritative server must be */
	if (p->status == RS_REFERRAL || !p->ra) {
		snprintf(buf, len, "%s does not recurse (%s%s%s to \". NS\" "
			 "asked with RD): every name below a zone it serves "
			 "would get a referral, not an answer.  Give a "
			 "recursive resolver, or --upstream-authoritative if "
			 "it is authoritative for every name of the input",
			 p->addr, p->status == RS_REFERRAL ? "a referral"
							   : "RA clear",
			 p->status == RS_REFERRAL ? ", RA " : ", ",
			 p->status == RS_REFERRAL ? (p->ra ? "set" : "clear")
						  : rs_rcode_name(p->rcode));
		return buf;
	}
	if (p->rcode == RS_RCODE_REFUSED) {
		snprintf(buf, len, "%s refuses our questions (REFUSED to "
			 "\". NS\"): is this host allowed to use it?", p->addr);
		return buf;
	}
	return NULL;
}

int sc_upstream_gate(struct sc_upstream_checker *ck,
		     const struct sc_config *cfg, const char *cmd)
{
	struct sc_upstream_probe p[RS_MAX_UPSTREAMS];
	char why[512];
	size_t n = 0;
	int ret, bad = 0;

	ret = ck != NULL ? sc_upstream_checker_run(ck, cfg, p, &n)
			 : sc_upstream_check(cfg, p, &n);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap %s: cannot ask the upstream: %s (check "
			"--resolver)\n", cmd, st_strerror(ret));
		return ST_EDNS;
	}
	for (size_t i = 0; i < n; i++) {
		if (sc_upstream_problem(&p[i], cfg->upstream_authoritative, why,
					sizeof(why)) == NULL)
			continue;
		fprintf(stderr, "stsmap %s: UPSTREAM UNUSABLE: %s\n", cmd, why);
		bad++;
	}
	if (bad == 0)
		return ST_OK;
	fprintf(stderr, "stsmap %s: not scanning: through such an upstream "
		"every domain would be measured wrong\n", cmd);
	return ST_EDNS;
}

/* --- the monitor --- */

enum h_state { H_OK = 0, H_DOWN };

struct sc_health {
	struct sc_engine *e;
	struct rs_resolver *rs;      /* the canary's own: one socket */
	enum h_state state;
	uint64_t last_good_us;       /* latest answer from the upstream */
	uint64_t down_since_us;
	uint64_t up_since_us;        /* the last recovery (0: none) */
	unsigned reprobe_ms;
	bool canary_inflight;
	bool stopped;                /* the monitor stopped the scan */
	uint64_t left;               /* in flight + waiting, at the stop */
	char why[160];               /* why the upstream was judged down */
	bool window[SC_HEALTH_WINDOW]; /* true: that domain had a timeout */
	size_t win_n, win_next;
	struct event *idle_timer, *probe_timer;
	struct sc_health_stats st;
};

static const char *upstream_text(const struct sc_health *h)
{
	const struct sc_config *cfg = &h->e->cfg;

	return cfg->n_resolvers > 0 ? cfg->resolvers[0] : "resolv.conf";
}

/* Any response but SERVFAIL shows the upstream answering (a referral
 * too: it is a response, only not an answer). */
static bool good_answer(const struct rs_result *res)
{
	return (res->status == RS_ANSWERED || res->status == RS_REFERRAL) &&
	       res->rcode != RS_RCODE_SERVFAIL;
}

static void idle_cb(evutil_socket_t fd, short what, void *arg);
static void probe_cb(evutil_socket_t fd, short what, void *arg);

int sc_health_new(struct sc_engine *e, struct sc_health **out)
{
	struct sc_health *h = calloc(1, sizeof(*h));
	struct timeval idle = { 0, SC_HEALTH_IDLE_MS * 1000 };
	struct rs_config rc;
	int ret;

	*out = NULL;
	if (h == NULL)
		return ST_ENOMEM;
	h->e = e;
	h->reprobe_ms = SC_HEALTH_REPROBE_MS;
	h->idle_timer = event_new(e->base, -1, EV_PERSIST, idle_cb, h);
	h->probe_timer = evtimer_new(e->base, probe_cb, h);
	if (h->idle_timer == NULL || h->probe_timer == NULL ||
	    event_add(h->idle_timer, &idle) != 0) {
		sc_health_free(h);
		return ST_ENOMEM;
	}
	rs_config_default(&rc);
	for (size_t i = 0; i < e->cfg.n_resolvers; i++)
		rc.upstreams[i] = e->cfg.resolvers[i];
	rc.n_upstreams = e->cfg.n_resolvers;
	rc.timeout_ms = e->cfg.dns_timeout_ms;
	rc.retries = e->cfg.dns_retries;
	rc.n_sockets = 1;
	rc.log = e->cfg.log;
	ret = rs_resolver_new(e->base, &rc, &h->rs);
	if (ret != ST_OK) {
		sc_health_free(h);
		return ret;
	}
	*out = h;
	return ST_OK;
}

void sc_health_free(struct sc_health *h)
{
	if (h == NULL)
		return;
	rs_resolver_free(h->rs); /* the canary's callback sees CANCELLED */
	if (h->idle_timer != NULL)
		event_free(h->idle_timer);
	if (h->probe_timer != NULL)
		event_free(h->probe_timer);
	free(h);
}

static void arm(struct event *ev, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000u),
			      (suseconds_t)(ms % 1000u) * 1000 };

	evtimer_add(ev, &tv);
}

static void push_outcome(struct sc_health *h, bool timed_out)
{
	h->window[h->win_next] = timed_out;
	h->win_next = (h->win_next + 1) % SC_HEALTH_WINDOW;
	if (h->win_n < SC_HEALTH_WINDOW)
		h->win_n++;
}

static size_t window_timeouts(const struct sc_health *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->win_n; i++)
		n += h->window[i];
	return n;
}

/* d goes back to the engine as the upstream's fault: retried. */
static void fault_one(struct sc_health *h, struct sc_domain *d,
		      const char *why)
{
	h->st.upstream_faults++;
	sc_domain_fault(d, SC_FAULT_UPSTREAM, "upstream %s: %s",
			upstream_text(h), why);
}

static void ask_canary(struct sc_health *h);

static void go_down(struct sc_health *h, const char *why)
{
	struct sc_engine *e = h->e;

	if (h->state == H_DOWN)
		return;
	h->state = H_DOWN;
	h->st.outages++;
	h->down_since_us = sc_now_us();
	/* Outages in quick succession (an overloaded upstream) wait longer
	 * each time; after a quiet minute, the first wait again. */
	if (h->down_since_us - h->up_since_us > 60000000u)
		h->reprobe_ms = SC_HEALTH_REPROBE_MS;
	snprintf(h->why, sizeof(h->why), "%s", why);
	ST_WARN(e->cfg.log, LOG_COMP, "the upstream %s looks down or "
		"overloaded: %s; pausing the scan, the domains it failed will "
		"be retried", upstream_text(h), h->why);
	/* New work waits until the canary answers (sc_engine_resume) or the
	 * scan gives up. */
	sc_engine_pause(e, e->cfg.upstream_wait_s * 1000u + 60000u);
	arm(h->probe_timer, h->reprobe_ms);
}

static void on_canary(const struct rs_result *res, void *arg)
{
	struct sc_health *h = arg;
	struct sc_engine *e = h->e;

	h->canary_inflight = false;
	if (res->status == RS_CANCELLED)
		return;
	if (res->status != RS_ANSWERED && res->status != RS_REFERRAL) {
		char why[96];

		if (h->state == H_DOWN) {
			arm(h->probe_timer, h->reprobe_ms);
			return;
		}
		snprintf(why, sizeof(why), "no answer to the canary question "
			 "\". NS\" (%s)", rs_status_name(res->status));
		go_down(h, why);
		return;
	}
	h->last_good_us = sc_now_us();
	if (h->state == H_DOWN) {
		ST_WARN(e->cfg.log, LOG_COMP, "the upstream %s answers again "
			"after %.1f s; resuming", upstream_text(h),
			(double)(h->last_good_us - h->down_since_us) / 1e6);
		h->state = H_OK;
		h->up_since_us = h->last_good_us;
		h->win_n = h->win_next = 0;
		evtimer_del(h->probe_timer);
		sc_engine_resume(e);
	}
}

static void ask_canary(struct sc_health *h)
{
	if (h->canary_inflight)
		return;
	h->st.canaries++;
	if (rs_submit(h->rs, SC_CANARY_NAME, SC_CANARY_TYPE, 0, on_canary,
		      h) == ST_OK)
		h->canary_inflight = true;
}

/* Questions on the wire and nothing heard for a while: is the upstream
 * there?  The answer is the evidence a timeout waits for (a lone domain
 * whose own servers are dead, at the end of a scan, has no neighbours to
 * show the upstream alive). */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sc_health *h = arg;
	struct sc_engine *e = h->e;

	(void)fd;
	(void)what;
	if (h->state == H_OK && e->rs != NULL &&
	    rs_resolver_pending(e->rs) > 0 &&
	    sc_now_us() - h->last_good_us >= SC_HEALTH_IDLE_MS * 1000u)
		ask_canary(h);
}

static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sc_health *h = arg;
	struct sc_engine *e = h->e;
	uint64_t down_us = sc_now_us() - h->down_since_us;

	(void)fd;
	(void)what;
	if (h->state != H_DOWN)
		return;
	if (down_us >= (uint64_t)e->cfg.upstream_wait_s * 1000000u) {
		h->stopped = true;
		h->left = e->c.inflight + e->c.retry_queued;
		if (e->error == ST_OK)
			e->error = ST_EDNS;
		sc_engine_stop(e);
		return;
	}
	if (h->reprobe_ms < SC_HEALTH_REPROBE_CAP_MS)
		h->reprobe_ms *= 2;
	ask_canary(h);
}

void sc_health_note(struct sc_health *h, struct sc_domain *d,
		    const struct rs_result *res)
{
	uint64_t now = sc_now_us(), last_us, start;
	unsigned shift;

	if (h == NULL)
		return;
	if (good_answer(res)) {
		h->last_good_us = now;
		return;
	}
	if (res->status != RS_TIMEOUT || d == NULL)
		return;
	d->dns_timeout = true;
	/* Did anything answer while the last attempt was on the wire?  The
	 * resolver says how long it was out, from its send, so an answer
	 * just after the send counts even when our timer fired late (a busy
	 * loop); without that, timeout << (attempts - 1), its doubling. */
	if (res->last_wait_us > 0) {
		last_us = res->last_wait_us;
	} else {
		shift = res->attempts > 1 ? res->attempts - 1 : 0;
		last_us = ((uint64_t)h->e->cfg.dns_timeout_ms
			   << (shift < 10 ? shift : 10)) * 1000u;
	}
	start = now > last_us ? now - last_us : 0;
	if (h->last_good_us <= start)
		d->dns_unvouched = true;
}

void sc_health_judge(struct sc_health *h, struct sc_domain *d)
{
	if (h == NULL)
		return;
	/* The rate counts timeouts only: a SERVFAIL is an answer, the
	 * upstream is there (a domain's dead servers look like that). */
	push_outcome(h, d->dns_timeout);
	if (!d->dns_timeout)
		return;
	if (h->state == H_DOWN) {
		fault_one(h, d, h->why);
		return;
	}
	if (h->win_n >= SC_HEALTH_MIN && 2 * window_timeouts(h) > h->win_n) {
		char why[96];

		snprintf(why, sizeof(why), "lookups of %zu of the last %zu "
			 "domains timed out", window_timeouts(h), h->win_n);
		go_down(h, why);
		fault_one(h, d, why);
		return; /* the probe timer asks the canary */
	}
	if (!d->dns_unvouched)
		return; /* the upstream answered meanwhile: d's own failure */
	h->st.unvouched++;
	fault_one(h, d, "no answer from it while the lookup was on the wire");
	ask_canary(h);
}

bool sc_health_stop_report(const struct sc_health *h, char *buf, size_t len)
{
	if (h == NULL || !h->stopped)
		return false;
	snprintf(buf, len, "the upstream %s has not answered for %u s (%s): "
		 "scan stopped; %" PRIu64 " domains in flight or waiting for a "
		 "retry were not measured, nor was the rest of the input "
		 "read; run the same command again once the upstream answers "
		 "to resume",
		 upstream_text(h), h->e->cfg.upstream_wait_s, h->why, h->left);
	return true;
}

void sc_health_stats(const struct sc_health *h, struct sc_health_stats *out)
{
	if (h == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = h->st;
}
