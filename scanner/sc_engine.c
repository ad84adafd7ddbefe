/*
 * sc_engine.c - the scan engine: owns the resolver, the fetcher and the
 * prober on one event_base, pulls domains from the source while there is
 * room (back-pressure), and hands every completed domain's record to the
 * sink.
 *
 * Refill: one persistent event, activated whenever a slot frees up, reads
 * at most SC_REFILL_BATCH items per run so a fast source cannot starve the
 * sockets.  A source with nothing yet (SC_SOURCE_WAIT) is asked again when
 * it calls sc_engine_source_ready().  Completed domains go back to a small spare list, arena and
 * all, so a steady scan allocates almost nothing per domain.
 */
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_classify.h"
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
	cfg->qps = 0;
	cfg->dns_timeout_ms = 2000;
	cfg->dns_retries = 2;
	cfg->dns_inflight = 1000;
	cfg->inflight = 500;
	cfg->https_max = 128;
	cfg->https_connect_ms = 10000;
	cfg->https_timeout_ms = 30000;
	cfg->smtp_max = 64;
	cfg->smtp_timeout_ms = 30000;
	cfg->smtp_port = 25;
	cfg->https_port = 443;
}

static void refill(evutil_socket_t fd, short what, void *arg);

static void kick(struct sc_engine *e)
{
	if (!e->source_done && !e->stopping)
		event_active(e->refill, EV_TIMEOUT, 0);
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
	rc.max_inflight = cfg->dns_inflight;
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
	sc.log = cfg->log;
	return ft_prober_new(e->base, &sc, &e->pr);
}

int sc_engine_new(struct event_base *base, const struct sc_config *cfg,
		  struct sc_engine **out)
{
	struct sc_engine *e;
	int ret;

	if (base == NULL || cfg == NULL || out == NULL || cfg->inflight == 0 ||
	    cfg->n_resolvers > SC_MAX_RESOLVERS)
		return ST_EINVAL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ST_ENOMEM;
	e->base = base;
	e->cfg = *cfg;
	st_hmap_init(&e->mxcache);
	e->refill = event_new(base, -1, 0, refill, e);
	if (e->refill == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	ret = make_workers(e);
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
	struct sc_domain *d = e->spare;
	struct st_arena keep;

	if (d != NULL) {
		e->spare = d->next;
		e->n_spare--;
		keep = d->arena;
		st_arena_reset(&keep);
		memset(d, 0, sizeof(*d));
		d->arena = keep;
	} else {
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			return NULL;
		st_arena_init(&d->arena, SC_ARENA_CAP);
	}
	d->e = e;
	return d;
}

static void domain_put(struct sc_engine *e, struct sc_domain *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		e->inflight = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	e->c.inflight--;
	if (e->n_spare < SC_SPARE_MAX) {
		d->next = e->spare;
		e->spare = d;
		e->n_spare++;
	} else {
		st_arena_free(&d->arena);
		free(d);
	}
}

/* Classify d and hand its record to the sink. */
static int deliver(struct sc_engine *e, struct sc_domain *d)
{
	struct an_classification *cls;
	struct an_observation obs;
	struct an_record rec;
	uint8_t hash[AN_RECORD_HASH_LEN];
	const uint8_t *hp = NULL;
	struct sc_done done;
	int ret;

	cls = st_arena_alloc(&d->arena, sizeof(*cls));
	if (cls == NULL) {
		e->c.local_errors++;
		return ST_OK; /* the domain is lost, counted; the scan goes on */
	}
	sc_observation(d, &obs);
	ret = an_classify(&obs, cls);
	if (ret != ST_OK) {
		e->c.local_errors++;
		return ST_OK;
	}
	if (d->fetch.body.data != NULL) {
		unsigned int hl = 0;

		if (EVP_Digest(d->fetch.body.data, d->fetch.body.len, hash, &hl,
			       EVP_sha256(), NULL) == 1 &&
		    hl == sizeof(hash))
			hp = hash;
	}
	sc_record_fill(d, cls, hp, &rec);
	e->c.completed++;
	if (cls->verdict < AN_V_COUNT)
		e->c.verdicts[cls->verdict]++;
	if (e->sink == NULL)
		return ST_OK;
	done = (struct sc_done){ &rec, cls, hp != NULL ? d->fetch.body.data
						       : NULL,
				 hp != NULL ? d->fetch.body.len : 0 };
	return e->sink(e->sink_arg, &done);
}

void sc_domain_finished(struct sc_domain *d)
{
	struct sc_engine *e = d->e;

	if (!e->stopping) {
		int ret = deliver(e, d);

		if (ret < 0) {
			if (e->error == ST_OK)
				e->error = ret;
			sc_engine_stop(e);
		}
	}
	domain_put(e, d);
	if (e->c.inflight == 0 && (e->source_done || e->stopping))
		event_base_loopbreak(e->base);
	else
		kick(e);
}

static void start_one(struct sc_engine *e, const struct sc_item *it)
{
	struct sc_domain *d = domain_get(e);

	if (d == NULL) {
		e->c.local_errors++;
		return;
	}
	snprintf(d->name, sizeof(d->name), "%s", it->domain);
	d->rank = it->rank;
	d->t0_us = sc_now_us();
	d->next = e->inflight;
	if (e->inflight != NULL)
		e->inflight->prev = d;
	e->inflight = d;
	e->c.inflight++;
	if (e->c.inflight > e->c.inflight_peak)
		e->c.inflight_peak = e->c.inflight;
	e->c.started++;
	sc_domain_start(d);
}

static void refill(evutil_socket_t fd, short what, void *arg)
{
	struct sc_engine *e = arg;
	unsigned n = 0;

	(void)fd;
	(void)what;
	while (!e->source_done && !e->stopping &&
	       e->c.inflight < e->cfg.inflight && n < SC_REFILL_BATCH) {
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
			return; /* sc_engine_source_ready() kicks again */
		start_one(e, &it);
		n++;
	}
	if (e->c.inflight == 0 && (e->source_done || e->stopping))
		event_base_loopbreak(e->base);
	else if (n == SC_REFILL_BATCH && e->c.inflight < e->cfg.inflight)
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
	if (e->rs != NULL) {
		rs_resolver_stats(e->rs, &rs);
		for (size_t i = 0; i < rs.n_upstreams; i++)
			out->dns_sent += rs.upstream[i].sent;
		out->dns_timeouts = rs.timeouts;
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
	/* Cancellations complete every domain and probe in flight. */
	rs_resolver_free(e->rs);
	e->rs = NULL;
	ft_fetcher_free(e->ft);
	e->ft = NULL;
	ft_prober_free(e->pr);
	e->pr = NULL;
	while (e->inflight != NULL) /* none should be left; be safe */
		domain_put(e, e->inflight);
	while (e->spare != NULL) {
		struct sc_domain *d = e->spare;

		e->spare = d->next;
		st_arena_free(&d->arena);
		free(d);
	}
	sc_mxcache_free(e);
	if (e->refill != NULL)
		event_free(e->refill);
	free(e);
}
