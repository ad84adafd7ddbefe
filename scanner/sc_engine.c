/*
 * sc_engine.c - the scan engine: owns the resolver, the fetcher and the
 * prober on one event_base, pulls domains from the source while there is
 * room (back-pressure), and hands every completed domain's record to the
 * sink.
 *
 * Refill: one persistent event, activated whenever a slot frees up, reads
 * at most SC_REFILL_BATCH items per run so a fast source cannot starve the
 * sockets.  A source with nothing yet (SC_SOURCE_WAIT) is asked again when
 * it calls sc_engine_source_ready().  Completed domains go back to a small
 * spare list, arena and all, so a steady scan allocates almost nothing per
 * domain.
 *
 * Retries (sc_internal.h): a domain that met a fault goes back into one of
 * the retry FIFOs (one per attempt number, so each is in due order); the
 * refill takes due retries before new input, and a timer wakes it for the
 * earliest one not yet due.
 *
 * Retry passes: a domain that came out `undetermined` with a DNS lookup
 * timed out (the domain's own servers silent, by the upstream's health
 * monitor, or a burst of loss) is not handed to the sink but held, as a
 * struct sc_retry, on pass_held.  Once the source is done and nothing is
 * in flight or waiting for a fault retry, the held names become the next
 * pass (pass_queue), due cfg.retry_pass_backoff_s later, and start from
 * scratch.  Memory stays bounded whatever the input's size: the held and
 * queued names together are at most pass_cap() (SC_PASS_HELD_PER_INFLIGHT
 * per --inflight slot); at the cap, new input waits, and the held names
 * become a pass at once, before the source is done (an early pass: the
 * same backoff, the same rules).  A name is handed to the sink once: from the pass in which it
 * got a verdict other than undetermined, or from the last pass
 * (cfg.retry_passes), whatever it got.  A run stopped before then stores
 * nothing of the held names: a resumed scan measures them again.
 *
 * Lists (common/st_list.h): the domains in flight (a set, c.inflight
 * long), the spare domains (a free list, at most SC_SPARE_MAX) and the
 * retry FIFOs.  The engine owns every element on them.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_classify.h"
#include "sc_health.h"
#include "sc_internal.h"
#include "st_error.h"

#define SC_REFILL_BATCH 256
#define SC_SPARE_MAX 256

uint64_t sc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sc_config_default(struct sc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->qps = RS_DEFAULT_QPS;
	cfg->dns_timeout_ms = RS_DEFAULT_TIMEOUT_MS;
	cfg->dns_retries = RS_DEFAULT_RETRIES;
	cfg->dns_inflight = 0; /* 3 x inflight */
	cfg->inflight = SC_DEFAULT_INFLIGHT;
	cfg->https_max = FT_DEFAULT_MAX_TRANSFERS;
	cfg->https_connect_ms = FT_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->https_timeout_ms = FT_DEFAULT_TOTAL_TIMEOUT_MS;
	cfg->smtp_max = FT_SMTP_DEFAULT_MAX_PROBES;
	cfg->smtp_timeout_ms = FT_SMTP_DEFAULT_TIMEOUT_MS;
	cfg->https_per_ip = FT_DEFAULT_PER_IP_MAX;
	cfg->https_per_ip_rate = FT_DEFAULT_PER_IP_RATE;
	cfg->smtp_per_ip = FT_SMTP_DEFAULT_PER_IP_MAX;
	cfg->smtp_per_ip_rate = FT_SMTP_DEFAULT_PER_IP_RATE;
	cfg->smtp_port = FT_SMTP_DEFAULT_PORT;
	cfg->https_port = SC_DEFAULT_HTTPS_PORT;
	cfg->retry_max = SC_DEFAULT_RETRY_MAX;
	cfg->retry_backoff_ms = SC_DEFAULT_RETRY_BACKOFF_MS;
	cfg->retry_passes = SC_DEFAULT_RETRY_PASSES;
	cfg->retry_pass_backoff_s = SC_DEFAULT_RETRY_PASS_BACKOFF_S;
	cfg->upstream_wait_s = SC_DEFAULT_UPSTREAM_WAIT_S;
}

unsigned sc_config_dns_inflight(const struct sc_config *cfg)
{
	uint64_t n = 3ull * cfg->inflight;

	if (cfg->dns_inflight != 0)
		return cfg->dns_inflight;
	return n > SC_DNS_INFLIGHT_MAX ? SC_DNS_INFLIGHT_MAX : (unsigned)n;
}

const char *sc_fault_name(enum sc_fault f)
{
	switch (f) {
	case SC_FAULT_NONE: return "none";
	case SC_FAULT_LOCAL: return "local";
	case SC_FAULT_UPSTREAM: return "upstream";
	case SC_FAULT_COUNT: break;
	}
	return "unknown";
}

static uint64_t fds_needed(const struct sc_config *cfg, unsigned https,
			   unsigned smtp)
{
	struct rs_config rc;
	size_t ups = cfg->n_resolvers > 0 ? cfg->n_resolvers : 3;

	rs_config_default(&rc);
	return SC_FD_RESERVE + 2u * (uint64_t)rc.n_sockets + ups +
	       3u * (uint64_t)https + (cfg->probe_mx ? (uint64_t)smtp : 0u);
}

int sc_config_fit_fds(struct sc_config *cfg, uint64_t limit,
		      struct sc_fd_budget *b)
{
	uint64_t fixed, room, want;

	memset(b, 0, sizeof(*b));
	b->limit = limit;
	b->https_asked = cfg->https_max;
	b->smtp_asked = cfg->smtp_max;
	b->need_asked = fds_needed(cfg, cfg->https_max, cfg->smtp_max);
	b->need = b->need_asked;
	if (b->need <= limit)
		return ST_OK;
	fixed = fds_needed(cfg, 0, 0);
	if (fds_needed(cfg, 1, 1) > limit) {
		b->need = fds_needed(cfg, 1, 1);
		return ST_ERANGE;
	}
	/* Share what is left in proportion to what was asked. */
	room = limit - fixed;
	want = 3u * (uint64_t)cfg->https_max +
	       (cfg->probe_mx ? (uint64_t)cfg->smtp_max : 0u);
	cfg->https_max = (unsigned)((uint64_t)cfg->https_max * room / want);
	if (cfg->https_max == 0)
		cfg->https_max = 1;
	/* Leave at least one probe its socket. */
	while (cfg->probe_mx && cfg->https_max > 1 &&
	       3u * (uint64_t)cfg->https_max >= room)
		cfg->https_max--;
	if (cfg->probe_mx) {
		uint64_t left = room - 3u * (uint64_t)cfg->https_max;
		uint64_t s = (uint64_t)cfg->smtp_max * room / want;

		cfg->smtp_max = (unsigned)(s < 1 ? 1 : s > left ? left : s);
	}
	b->lowered = true;
	b->need = fds_needed(cfg, cfg->https_max, cfg->smtp_max);
	return ST_OK;
}

static void refill(evutil_socket_t fd, short what, void *arg);

/* Is there anything left to start, now or later? */
static bool work_left(const struct sc_engine *e)
{
	return !e->source_done || e->c.retry_queued > 0 ||
	       e->n_pass_held > 0 || e->n_pass_queue > 0;
}

static void kick(struct sc_engine *e)
{
	if (work_left(e) && !e->stopping)
		event_active(e->refill, EV_TIMEOUT, 0);
}

/* The loop is over when nothing is in flight and nothing is left. */
static void maybe_done(struct sc_engine *e)
{
	if (e->c.inflight == 0 && (!work_left(e) || e->stopping))
		event_base_loopbreak(e->base);
}

static void retry_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kick(arg);
}

/* Wake the refill at `at_us` (monotonic), unless it is woken earlier. */
static void wake_at(struct sc_engine *e, uint64_t at_us)
{
	uint64_t now = sc_now_us();
	uint64_t d = at_us > now ? at_us - now : 0;
	struct timeval tv = { (time_t)(d / 1000000u),
			      (suseconds_t)(d % 1000000u) };

	if (evtimer_pending(e->retry_timer, NULL))
		evtimer_del(e->retry_timer);
	if (evtimer_add(e->retry_timer, &tv) != 0) {
		ST_ERR(e->cfg.log, "scan", "cannot arm the retry timer");
		e->error = ST_EUNKNOWN;
		sc_engine_stop(e);
	}
}

static uint64_t backoff_us(const struct sc_engine *e, unsigned attempt)
{
	unsigned shift = attempt > 1 ? attempt - 1 : 0;
	uint64_t ms = (uint64_t)e->cfg.retry_backoff_ms << (shift < 16 ? shift
								       : 16);

	if (ms > SC_RETRY_BACKOFF_CAP_MS)
		ms = SC_RETRY_BACKOFF_CAP_MS;
	return ms * 1000u;
}

/* A retry entry for d's name, its next start counted in tries. */
static struct sc_retry *retry_new(const struct sc_domain *d)
{
	struct sc_retry *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", d->name);
	r->rank = d->rank;
	r->pass = d->pass;
	r->tries = d->tries < UINT8_MAX ? (uint8_t)(d->tries + 1) : UINT8_MAX;
	return r;
}

int sc_retry_push(struct sc_engine *e, const struct sc_domain *d,
		  unsigned attempt)
{
	struct sc_retry *r;

	if (attempt == 0 || attempt > SC_RETRY_MAX_LIMIT)
		return ST_EINVAL;
	r = retry_new(d);
	if (r == NULL)
		return ST_ENOMEM;
	r->attempt = attempt;
	r->due_us = sc_now_us() + backoff_us(e, attempt);
	st_list_push_back(&e->retry[attempt], &r->link);
	e->c.retry_queued++;
	return ST_OK;
}

/* The queued retry due first (NULL if none), and its FIFO. */
static struct sc_retry *retry_first(struct sc_engine *e, unsigned *fifo)
{
	struct sc_retry *best = NULL;

	for (unsigned i = 1; i <= SC_RETRY_MAX_LIMIT; i++) {
		struct st_link *k = st_list_first(&e->retry[i]);
		struct sc_retry *r;

		if (k == NULL)
			continue;
		r = ST_CONTAINER(k, struct sc_retry, link);
		if (best == NULL || r->due_us < best->due_us) {
			best = r;
			*fifo = i;
		}
	}
	return best;
}

static void retry_pop(struct sc_engine *e, unsigned fifo)
{
	struct st_link *k = st_list_pop_front(&e->retry[fifo]);

	if (k == NULL)
		return;
	e->c.retry_queued--;
	free(ST_CONTAINER(k, struct sc_retry, link));
}

static void free_list(struct st_list *l)
{
	for (struct st_link *k; (k = st_list_pop_front(l)) != NULL;)
		free(ST_CONTAINER(k, struct sc_retry, link));
}

static void retry_free_all(struct sc_engine *e)
{
	for (unsigned i = 1; i <= SC_RETRY_MAX_LIMIT; i++) {
		while (!st_list_empty(&e->retry[i]))
			retry_pop(e, i);
	}
	free_list(&e->pass_held);
	free_list(&e->pass_queue);
	e->n_pass_held = e->n_pass_queue = 0;
}

void sc_engine_pause(struct sc_engine *e, unsigned ms)
{
	uint64_t until = sc_now_us() + (uint64_t)ms * 1000u;

	if (until > e->pause_until_us)
		e->pause_until_us = until;
	wake_at(e, e->pause_until_us);
}

bool sc_engine_stop_reason(const struct sc_engine *e, char *buf, size_t len)
{
	return sc_health_stop_report(e->health, buf, len);
}

void sc_engine_health_stats(const struct sc_engine *e,
			    struct sc_health_stats *out)
{
	sc_health_stats(e->health, out);
}

void sc_engine_resume(struct sc_engine *e)
{
	e->pause_until_us = 0;
	kick(e);
}

static int make_workers(struct sc_engine *e)
{
	const struct sc_config *cfg = &e->cfg;
	struct rs_config rc;
	struct ft_config fc;
	struct ft_smtp_config sc;
	int ret;

	rs_config_default(&rc);
	for (size_t i = 0; i < cfg->n_resolvers; i++)
		rc.upstreams[i] = cfg->resolvers[i];
	rc.n_upstreams = cfg->n_resolvers;
	rc.qps = cfg->qps;
	rc.timeout_ms = cfg->dns_timeout_ms;
	rc.retries = cfg->dns_retries;
	rc.max_inflight = sc_config_dns_inflight(cfg);
	rc.pace = !cfg->dns_no_pace;
	rc.log = cfg->log;
	ret = rs_resolver_new(e->base, &rc, &e->rs);
	if (ret != ST_OK)
		return ret;
	ft_config_default(&fc);
	fc.max_transfers = cfg->https_max;
	fc.connect_timeout_ms = cfg->https_connect_ms;
	fc.total_timeout_ms = cfg->https_timeout_ms;
	fc.ca_file = cfg->ca_file;
	fc.user_agent = cfg->user_agent;
	fc.contact_url = cfg->contact_url;
	fc.allow_private = cfg->allow_private;
	fc.per_ip_max = cfg->https_per_ip;
	fc.per_ip_rate = cfg->https_per_ip_rate;
	fc.log = cfg->log;
	ret = ft_fetcher_new(e->base, &fc, &e->ft);
	if (ret != ST_OK)
		return ret;
	if (!cfg->probe_mx)
		return ST_OK;
	ft_smtp_config_default(&sc);
	sc.max_probes = cfg->smtp_max;
	sc.timeout_ms = cfg->smtp_timeout_ms;
	if (sc.connect_timeout_ms > sc.timeout_ms)
		sc.connect_timeout_ms = sc.timeout_ms;
	sc.port = cfg->smtp_port;
	sc.ehlo_name = cfg->ehlo_name;
	sc.ca_file = cfg->ca_file;
	sc.allow_private = cfg->allow_private;
	sc.per_ip_max = cfg->smtp_per_ip;
	sc.per_ip_rate = cfg->smtp_per_ip_rate;
	sc.log = cfg->log;
	return ft_prober_new(e->base, &sc, &e->pr);
}

int sc_engine_new(struct event_base *base, const struct sc_config *cfg,
		  struct sc_engine **out)
{
	struct sc_engine *e;
	int ret;

	if (base == NULL || cfg == NULL || out == NULL || cfg->inflight == 0 ||
	    cfg->n_resolvers > SC_MAX_RESOLVERS ||
	    cfg->retry_max > SC_RETRY_MAX_LIMIT ||
	    cfg->retry_passes > SC_RETRY_PASSES_MAX)
		return ST_EINVAL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ST_ENOMEM;
	e->base = base;
	e->cfg = *cfg;
	st_list_init(&e->inflight);
	st_list_init(&e->spare);
	for (size_t i = 0; i <= SC_RETRY_MAX_LIMIT; i++)
		st_list_init(&e->retry[i]);
	st_list_init(&e->pass_held);
	st_list_init(&e->pass_queue);
	sc_mxcache_init(e);
	e->refill = event_new(base, -1, 0, refill, e);
	e->retry_timer = evtimer_new(base, retry_wake, e);
	e->cls = malloc(sizeof(*e->cls));
	if (e->refill == NULL || e->retry_timer == NULL || e->cls == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	ret = make_workers(e);
	if (ret == ST_OK)
		ret = sc_health_new(e, &e->health);
	if (ret != ST_OK)
		goto fail;
	*out = e;
	return ST_OK;
fail:
	sc_engine_free(e);
	return ret;
}

void sc_engine_set_source(struct sc_engine *e, sc_source_fn fn, void *arg)
{
	e->source = fn;
	e->source_arg = arg;
}

void sc_engine_set_sink(struct sc_engine *e, sc_sink_fn fn, void *arg)
{
	e->sink = fn;
	e->sink_arg = arg;
}

void sc_engine_set_probe_sink(struct sc_engine *e, sc_probe_sink_fn fn,
			      void *arg)
{
	e->probe_sink = fn;
	e->probe_sink_arg = arg;
}

static struct sc_domain *domain_get(struct sc_engine *e)
{
	struct st_link *k = st_list_pop_front(&e->spare);
	struct sc_domain *d;
	struct st_arena keep;

	if (k != NULL) {
		d = ST_CONTAINER(k, struct sc_domain, link);
		e->n_spare--;
		keep = d->arena;
		st_arena_reset(&keep);
		memset(d, 0, sizeof(*d));
		d->arena = keep;
	} else {
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			return NULL;
		st_arena_init_sized(&d->arena, SC_ARENA_CAP, SC_DOMAIN_CHUNK);
	}
	d->e = e;
	return d;
}

static void domain_put(struct sc_engine *e, struct sc_domain *d)
{
	st_list_remove(&d->link);
	e->c.inflight--;
	if (e->n_spare < SC_SPARE_MAX) {
		st_list_push_front(&e->spare, &d->link);
		e->n_spare++;
	} else {
		st_arena_free(&d->arena);
		free(d);
	}
}

/* The most names held for a retry pass or queued in one (above). */
static size_t pass_cap(const struct sc_engine *e)
{
	size_t cap = (size_t)e->cfg.inflight * SC_PASS_HELD_PER_INFLIGHT;

	return cap > SC_PASS_HELD_MIN ? cap : SC_PASS_HELD_MIN;
}

static bool pass_full(const struct sc_engine *e)
{
	return e->n_pass_held + e->n_pass_queue >= pass_cap(e);
}

/* Hold d for the next retry pass instead of storing it?  (Above,
 * "Retry passes".)  A name that cannot be held (no memory) is stored as
 * it is. */
static bool pass_hold(struct sc_engine *e, const struct sc_domain *d,
		      enum an_verdict v)
{
	struct sc_retry *r;

	if (v != AN_V_UNDETERMINED || !d->dns_timeout ||
	    d->pass >= e->cfg.retry_passes)
		return false;
	r = retry_new(d);
	if (r == NULL)
		return false;
	r->pass = (uint8_t)(d->pass + 1);
	st_list_push_back(&e->pass_held, &r->link);
	e->n_pass_held++;
	if (e->n_pass_held + e->n_pass_queue > e->c.pass_held_peak)
		e->c.pass_held_peak = e->n_pass_held + e->n_pass_queue;
	ST_DEBUG(e->cfg.log, "scan", "%s: undetermined after a timeout, held "
		 "for retry pass %u", d->name, r->pass);
	return true;
}

/* Classify d and hand its record to the sink. */
static int deliver(struct sc_engine *e, struct sc_domain *d)
{
	struct an_classification *cls = e->cls; /* valid until we return */
	struct an_observation obs;
	struct an_record rec;
	struct sc_done done;
	int ret;

	sc_observation(d, &obs);
	ret = an_classify(&obs, cls);
	if (ret != ST_OK) {
		sc_domain_fault(d, SC_FAULT_LOCAL, "classify: %s",
				st_strerror(ret));
		return ST_OK;
	}
	if (pass_hold(e, d, cls->verdict))
		return ST_OK;
	sc_record_fill(d, cls, &rec); /* the store hashes the body */
	e->c.completed++;
	sc_tail_add(&e->c.duration, rec.duration_ms);
	if (d->pass > 0 && cls->verdict != AN_V_UNDETERMINED)
		e->c.pass_recovered++;
	if (cls->verdict < AN_V_COUNT)
		e->c.verdicts[cls->verdict]++;
	if (e->sink == NULL)
		return ST_OK;
	done = (struct sc_done){ &rec, cls, d->fetch.body.data,
				 d->fetch.body.len };
	return e->sink(e->sink_arg, &done);
}

/* d met a fault: retry it later, or give it up after retry_max. */
static void requeue(struct sc_engine *e, struct sc_domain *d)
{
	unsigned next = d->attempt + 1;

	if (next <= e->cfg.retry_max &&
	    sc_retry_push(e, d, next) == ST_OK) {
		ST_DEBUG(e->cfg.log, "scan", "%s: %s fault (%s), retry %u",
			 d->name, sc_fault_name(d->fault), d->fault_detail,
			 next);
		return;
	}
	e->c.unmeasured++;
	ST_WARN(e->cfg.log, "scan", "%s: not measured after %u attempts: %s "
		"fault (%s)", d->name, d->attempt + 1, sc_fault_name(d->fault),
		d->fault_detail);
}

void sc_domain_finished(struct sc_domain *d)
{
	struct sc_engine *e = d->e;

	/* A timeout is the domain's only if the upstream was seen to answer
	 * meanwhile; else the monitor makes it an upstream fault. */
	if (!e->stopping && d->fault == SC_FAULT_NONE)
		sc_health_judge(e->health, d);
	if (!e->stopping && d->fault == SC_FAULT_NONE) {
		int ret = deliver(e, d);

		if (ret < 0) {
			if (e->error == ST_OK)
				e->error = ret;
			sc_engine_stop(e);
		}
	}
	if (!e->stopping && d->fault != SC_FAULT_NONE)
		requeue(e, d);
	domain_put(e, d);
	maybe_done(e);
	kick(e);
}

/* Start it (attempt 0: from the source, k: its k-th retry).  false if
 * no domain could be allocated: the caller keeps the item. */
static bool start_one(struct sc_engine *e, const struct sc_item *it,
		      unsigned attempt, const struct sc_retry *from)
{
	struct sc_domain *d = domain_get(e);

	if (d == NULL)
		return false;
	d->name = st_arena_strdup(&d->arena, it->domain);
	if (d->name == NULL) {
		st_list_push_front(&e->inflight, &d->link);
		e->c.inflight++;
		domain_put(e, d);
		return false;
	}
	d->rank = it->rank;
	d->attempt = attempt;
	if (from != NULL) {
		d->pass = from->pass;
		d->tries = from->tries;
	}
	if (attempt > 0)
		e->c.retries++;
	d->t0_us = sc_now_us();
	st_list_push_front(&e->inflight, &d->link);
	e->c.inflight++;
	if (e->c.inflight > e->c.inflight_peak)
		e->c.inflight_peak = e->c.inflight;
	e->c.started++;
	sc_domain_start(d);
	return true;
}

/* Start the retries that are due, while there is room; arm the timer for
 * the first one that is not.  Returns how many were started. */
static unsigned start_retries(struct sc_engine *e, unsigned budget)
{
	unsigned n = 0, fifo = 0;
	struct sc_retry *r;

	while (n < budget && !e->stopping && e->c.inflight < e->cfg.inflight &&
	       (r = retry_first(e, &fifo)) != NULL) {
		struct sc_item it = { r->name, r->rank };

		if (r->due_us > sc_now_us()) {
			wake_at(e, r->due_us);
			break;
		}
		if (!start_one(e, &it, r->attempt, r)) {
			wake_at(e, sc_now_us() + backoff_us(e, 1));
			break; /* no memory now: keep it queued */
		}
		retry_pop(e, fifo);
		n++;
	}
	return n;
}

/* Start new input while there is room, and neither the retry queue nor
 * the retry pass is full (back-pressure when faults or timeouts pile up). */
static unsigned start_new(struct sc_engine *e, unsigned budget)
{
	unsigned n = 0;

	while (n < budget && !e->source_done && !e->stopping &&
	       e->c.inflight < e->cfg.inflight &&
	       e->c.retry_queued < e->cfg.inflight && !pass_full(e)) {
		struct sc_item it = { 0 };
		int ret = e->source(e->source_arg, &it);

		if (ret < 0) {
			e->error = ret;
			sc_engine_stop(e);
			break;
		}
		if (ret == 0) {
			e->source_done = true;
			break;
		}
		if (ret == SC_SOURCE_WAIT)
			break; /* sc_engine_source_ready() kicks again */
		if (!start_one(e, &it, 0, NULL)) {
			/* The name is lost to this run: never measured. */
			e->c.faults[SC_FAULT_LOCAL]++;
			e->c.unmeasured++;
			ST_WARN(e->cfg.log, "scan", "%s: not measured: out of "
				"memory", it.domain);
		}
		n++;
	}
	return n;
}

/* The held names become the next pass, due after its backoff. */
static void pass_begin(struct sc_engine *e)
{
	for (struct st_link *k; (k = st_list_pop_front(&e->pass_held)) != NULL;)
		st_list_push_back(&e->pass_queue, k);
	e->n_pass_queue = e->n_pass_held;
	e->n_pass_held = 0;
	e->c.passes++;
	e->pass_due_us = sc_now_us() +
			 (uint64_t)e->cfg.retry_pass_backoff_s * 1000000u;
	ST_INFO(e->cfg.log, "scan", "retry pass %" PRIu64 ": %zu domains "
		"undetermined after a timeout, again in %u s", e->c.passes,
		e->n_pass_queue, e->cfg.retry_pass_backoff_s);
}

/* The retry passes (above): begin the next one when everything else is
 * done, or at once when the held names reach pass_cap(), then start its
 * names once it is due, while there is room. */
static unsigned start_pass(struct sc_engine *e, unsigned budget)
{
	unsigned n = 0;

	if (e->stopping)
		return 0;
	if (e->n_pass_queue == 0) {
		if (e->n_pass_held == 0)
			return 0;
		if (!pass_full(e) && (!e->source_done || e->c.inflight > 0 ||
				      e->c.retry_queued > 0))
			return 0;
		if (!e->source_done)
			e->c.passes_early++;
		pass_begin(e);
	}
	if (sc_now_us() < e->pass_due_us) {
		wake_at(e, e->pass_due_us);
		return 0;
	}
	while (n < budget && e->n_pass_queue > 0 &&
	       e->c.inflight < e->cfg.inflight) {
		struct sc_retry *r = ST_CONTAINER(st_list_first(&e->pass_queue),
						  struct sc_retry, link);
		struct sc_item it = { r->name, r->rank };

		if (!start_one(e, &it, 0, r)) {
			wake_at(e, sc_now_us() + backoff_us(e, 1));
			break; /* no memory now: keep it queued */
		}
		st_list_remove(&r->link);
		e->n_pass_queue--;
		e->c.pass_retries++;
		free(r);
		n++;
	}
	return n;
}

static void refill(evutil_socket_t fd, short what, void *arg)
{
	struct sc_engine *e = arg;
	unsigned n = 0;

	(void)fd;
	(void)what;
	if (sc_now_us() < e->pause_until_us) {
		wake_at(e, e->pause_until_us);
		maybe_done(e);
		return;
	}
	n += start_retries(e, SC_REFILL_BATCH);
	n += start_new(e, SC_REFILL_BATCH - n);
	n += start_pass(e, SC_REFILL_BATCH - n);
	maybe_done(e);
	if (n == SC_REFILL_BATCH && e->c.inflight < e->cfg.inflight)
		kick(e); /* more room: go on after the sockets had a turn */
}

int sc_engine_run(struct sc_engine *e)
{
	if (e->source == NULL)
		return ST_EINVAL;
	kick(e);
	if (event_base_dispatch(e->base) < 0 && e->error == ST_OK)
		e->error = ST_EUNKNOWN;
	return e->error;
}

void sc_engine_source_ready(struct sc_engine *e)
{
	kick(e);
}

void sc_engine_stop(struct sc_engine *e)
{
	e->stopping = true;
	event_base_loopbreak(e->base);
}

void sc_engine_counters(const struct sc_engine *e, struct sc_counters *out)
{
	struct rs_stats rs;
	struct ft_stats fs;

	*out = e->c;
	out->pass_held = e->n_pass_held + e->n_pass_queue;
	out->local_errors = e->c.faults[SC_FAULT_LOCAL];
	if (e->rs != NULL) {
		rs_resolver_stats(e->rs, &rs);
		for (size_t i = 0; i < rs.n_upstreams; i++)
			out->dns_sent += rs.upstream[i].sent;
		out->dns_timeouts = rs.timeouts;
		for (size_t i = 0; i < rs.n_upstreams; i++) {
			const struct rs_upstream_stats *u = &rs.upstream[i];

			if (i == 0 || u->pace_window < out->dns_window)
				out->dns_window = u->pace_window;
			if (i == 0 || u->pace_window_low < out->dns_window_low)
				out->dns_window_low = u->pace_window_low;
			out->dns_backoffs += u->pace_backoffs;
			out->dns_delay_cuts += u->pace_delay_cuts;
		}
	}
	if (e->ft != NULL) {
		ft_fetcher_stats(e->ft, &fs);
		out->https_inflight = fs.inflight;
	}
}

void sc_engine_free(struct sc_engine *e)
{
	if (e == NULL)
		return;
	e->stopping = true;
	sc_health_free(e->health);
	e->health = NULL;
	/* Cancellations complete every domain and probe in flight. */
	rs_resolver_free(e->rs);
	e->rs = NULL;
	ft_fetcher_free(e->ft);
	e->ft = NULL;
	ft_prober_free(e->pr);
	e->pr = NULL;
	/* None should be left in flight; be safe. */
	for (struct st_link *k; (k = st_list_first(&e->inflight)) != NULL;)
		domain_put(e, ST_CONTAINER(k, struct sc_domain, link));
	for (struct st_link *k; (k = st_list_pop_front(&e->spare)) != NULL;) {
		struct sc_domain *d = ST_CONTAINER(k, struct sc_domain, link);

		st_arena_free(&d->arena);
		free(d);
	}
	e->n_spare = 0;
	sc_mxcache_free(e);
	retry_free_all(e);
	free(e->cls);
	if (e->refill != NULL)
		event_free(e->refill);
	if (e->retry_timer != NULL)
		event_free(e->retry_timer);
	free(e);
}
