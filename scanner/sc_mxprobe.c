/*
 * sc_mxprobe.c - MX hosts are probed once per scan and shared (DESIGN §2
 * step 6): the first domain that names a host creates its cache entry and
 * starts the lookups (A, AAAA, and TLSA with --dane) and then the STARTTLS
 * probe; later domains wait on the entry or, once it is done, copy its
 * result at once.  Completed entries are kept, oldest evicted first beyond
 * SC_MXCACHE_MAX, so memory stays bounded on inputs with millions of
 * per-domain MX hosts while shared provider hosts stay cached.
 *
 * The cache knows no domain: whoever needs a host's probe hands over a
 * struct sc_mxwaiter (sc_internal.h), whose callback is called once with
 * the result.  The waiters of an entry and the completed entries (oldest
 * first, for eviction) are st_lists; the hash map owns the entries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_health.h"
#include "sc_internal.h"
#include "st_error.h"

/* Tell w about h (done, or faulted). */
static void notify(struct sc_mxwaiter *w, const struct sc_mxhost *h)
{
	struct sc_mxresult res = {
		.host = h->name,
		.fault = h->fault,
		.detail = h->detail,
		.rec = h->fault == SC_FAULT_NONE ? &h->rec : NULL,
	};

	w->fn(w, &res);
}

/* Tell every waiter of h, each unlinked first (its callback may end the
 * requester, and with it the waiter). */
static void notify_all(struct sc_mxhost *h)
{
	for (struct st_link *k; (k = st_list_pop_front(&h->waiters)) != NULL;)
		notify(ST_CONTAINER(k, struct sc_mxwaiter, link), h);
}

static void evict_oldest(struct sc_engine *e)
{
	struct st_link *k = st_list_pop_front(&e->mx_done);
	struct sc_mxhost *h;

	if (k == NULL)
		return;
	h = ST_CONTAINER(k, struct sc_mxhost, done_link);
	st_hmap_del(&e->mxcache, h->name);
	e->n_mx_done--;
	free(h);
}

static void mx_fault(struct sc_mxhost *h, const char *why)
{
	if (h->fault != SC_FAULT_NONE)
		return;
	h->fault = SC_FAULT_LOCAL;
	snprintf(h->detail, sizeof(h->detail), "%s", why);
}

/* The probe of h met a fault: it tells nothing about the host.  Not
 * cached, not handed to the probe sink; the waiting domains get the fault
 * (and are retried, which probes the host again). */
static void mx_faulted(struct sc_engine *e, struct sc_mxhost *h)
{
	st_hmap_del(&e->mxcache, h->name);
	notify_all(h);
	free(h);
}

/* The probe of h is complete: store it, tell every waiting domain. */
static void mx_done(struct sc_engine *e, struct sc_mxhost *h)
{
	struct st_link *oldest;

	if (h->fault != SC_FAULT_NONE) {
		mx_faulted(e, h);
		return;
	}

	h->st = SC_MX_DONE;
	h->rec.time = e->cfg.now != 0 ? (int64_t)e->cfg.now
				       : (int64_t)time(NULL);
	h->rec.duration_ms = (uint32_t)((sc_now_us() - h->t0_us) / 1000);
	h->rec.tlsa = h->tlsa;
	h->rec.tlsa_secure = h->tlsa_secure;
	e->c.probes++;
	if (e->probe_sink != NULL && !e->stopping) {
		int ret = e->probe_sink(e->probe_sink_arg, &h->rec);

		if (ret < 0 && e->error == ST_OK) {
			e->error = ret;
			sc_engine_stop(e);
		}
	}
	/* Newest at the back; evict from the front, never h itself. */
	st_list_push_back(&e->mx_done, &h->done_link);
	e->n_mx_done++;
	while (e->n_mx_done > SC_MXCACHE_MAX &&
	       (oldest = st_list_first(&e->mx_done)) != &h->done_link)
		evict_oldest(e);
	notify_all(h);
}

static void on_probe(const struct ft_smtp_result *res, void *arg)
{
	struct sc_mxhost *h = arg;

	h->pending--;
	/* Our own failure (no socket, no memory): not the host's. */
	if (res->status == FT_SMTP_LOCAL_ERROR) {
		char why[128];

		snprintf(why, sizeof(why), "probe: %s",
			 res->error != NULL ? res->error : "local error");
		mx_fault(h, why);
		return;
	}
	h->rec.status = sc_probe_status(res);
	h->rec.tls_version = (uint16_t)res->tls_version;
	h->rec.verify_error = res->verify_error;
	h->rec.name_match = res->name_match;
	h->rec.cert_not_after = res->cert_known ? res->cert_not_after : 0;
	if (res->peer_ip != NULL) {
		snprintf(h->addr, sizeof(h->addr), "%s", res->peer_ip);
		h->rec.addr = h->addr;
	}
	if (res->cert_known && res->cert_issuer != NULL) {
		snprintf(h->issuer, sizeof(h->issuer), "%s", res->cert_issuer);
		h->rec.cert_issuer = h->issuer;
	}
	if (h->rec.status != AN_PROBE_OK) {
		snprintf(h->detail, sizeof(h->detail), "%s%s%s",
			 ft_smtp_status_name(res->status),
			 res->verify_error > 0 ? ": " : "",
			 res->verify_error > 0 && res->verify_error_str != NULL
				 ? res->verify_error_str : "");
		h->rec.detail = h->detail;
	}
}

static void mx_probe_done(const struct ft_smtp_result *res, void *arg);

/* Every lookup of h is in: probe, or conclude it is unreachable. */
static void mx_resolved(struct sc_engine *e, struct sc_mxhost *h)
{
	const struct sockaddr *sa[SC_ADDR_MAX];
	int ret;

	if (h->fault != SC_FAULT_NONE) {
		mx_done(e, h);
		return;
	}
	if (h->n_addrs == 0 || e->stopping) {
		h->rec.status = AN_PROBE_UNREACHABLE;
		snprintf(h->detail, sizeof(h->detail), "no address (A %s)",
			 h->a_st == AN_DNS_NXDOMAIN ? "NXDOMAIN"
			 : h->a_st == AN_DNS_NODATA ? "NODATA"
						    : "lookup failed");
		h->rec.detail = h->detail;
		mx_done(e, h);
		return;
	}
	for (size_t i = 0; i < h->n_addrs; i++)
		sa[i] = (const struct sockaddr *)&h->addrs[i];
	h->st = SC_MX_PROBING;
	h->pending = 1;
	ret = ft_probe_smtp(e->pr, h->name, sa, h->n_addrs, mx_probe_done, h);
	if (ret != ST_OK) {
		char why[96];

		h->pending = 0;
		snprintf(why, sizeof(why), "probe not started: %s",
			 st_strerror(ret));
		mx_fault(h, why);
		mx_done(e, h);
	}
}

static void mx_probe_done(const struct ft_smtp_result *res, void *arg)
{
	struct sc_mxhost *h = arg;
	struct sc_engine *e = h->e;

	on_probe(res, h);
	mx_done(e, h);
}

static void mx_lookup_done(struct sc_mxhost *h)
{
	struct sc_engine *e = h->e;

	h->pending--;
	if (h->pending == 0)
		mx_resolved(e, h);
}

static void on_mx_addr(const struct rs_result *res, void *arg)
{
	struct sc_mxhost *h = arg;
	enum an_dns_status st = sc_dns_status(res);

	sc_health_note(h->e->health, NULL, res); /* evidence only */
	if (res->status == RS_ERROR) {
		char why[96];

		snprintf(why, sizeof(why), "DNS %s: %s",
			 res->qtype == RS_TYPE_A ? "A" : "AAAA",
			 res->local_errno != 0 ? strerror(res->local_errno)
					       : "resolver error");
		mx_fault(h, why);
	}
	if (res->qtype == RS_TYPE_A)
		h->a_st = st;
	else
		h->aaaa_st = st;
	for (size_t i = 0; i < res->n_rrs && h->n_addrs < SC_ADDR_MAX; i++) {
		if (sc_rr_sockaddr(&res->rrs[i], &h->addrs[h->n_addrs]))
			h->n_addrs++;
	}
	mx_lookup_done(h);
}

static void on_tlsa(const struct rs_result *res, void *arg)
{
	struct sc_mxhost *h = arg;

	if (res->status == RS_ERROR)
		mx_fault(h, "DNS TLSA: resolver error");
	for (size_t i = 0; i < res->n_rrs; i++) {
		if (res->rrs[i].type == RS_TYPE_TLSA)
			h->tlsa = true;
	}
	h->tlsa_secure = h->tlsa && res->ad;
	mx_lookup_done(h);
}

static void lookup(struct sc_engine *e, struct sc_mxhost *h,
		   const char *name, uint16_t type, unsigned flags,
		   rs_callback cb)
{
	int ret;

	h->pending++;
	ret = rs_submit(e->rs, name, type, flags, cb, h);
	if (ret != ST_OK) {
		char why[96];

		snprintf(why, sizeof(why), "DNS %s: %s", name,
			 st_strerror(ret));
		mx_fault(h, why);
		h->pending--;
	}
}

static struct sc_mxhost *mx_new(struct sc_engine *e, const char *host)
{
	struct sc_mxhost *h = calloc(1, sizeof(*h));
	size_t i;

	if (h == NULL)
		return NULL;
	for (i = 0; host[i] != '\0' && i < sizeof(h->name) - 1; i++)
		h->name[i] = (char)tolower((unsigned char)host[i]);
	h->name[i] = '\0';
	if (st_hmap_put(&e->mxcache, h->name, h) != ST_OK) {
		free(h);
		return NULL;
	}
	st_list_init(&h->waiters);
	an_probe_record_init(&h->rec);
	h->rec.host = h->name;
	h->e = e;
	h->rec.verify_error = -1;
	h->st = SC_MX_RESOLVING;
	h->t0_us = sc_now_us();
	return h;
}

void sc_mx_request(struct sc_engine *e, const char *host,
		   struct sc_mxwaiter *w)
{
	char key[254], q[300];
	struct sc_mxresult res;
	struct sc_mxhost *h;
	size_t i;

	st_link_init(&w->link);
	for (i = 0; host[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = (char)tolower((unsigned char)host[i]);
	key[i] = '\0';
	h = st_hmap_get(&e->mxcache, key);
	if (h != NULL && h->st == SC_MX_DONE) {
		notify(w, h);
		return;
	}
	if (h == NULL) {
		h = mx_new(e, key);
		if (h == NULL)
			goto fail;
		st_list_push_back(&h->waiters, &w->link);
		h->pending = 1; /* held while submitting */
		lookup(e, h, h->name, RS_TYPE_A, 0, on_mx_addr);
		lookup(e, h, h->name, RS_TYPE_AAAA, 0, on_mx_addr);
		if (e->cfg.dane) {
			snprintf(q, sizeof(q), "_25._tcp.%s", h->name);
			lookup(e, h, q, RS_TYPE_TLSA, RS_FLAG_AD, on_tlsa);
		}
		/* Lookups answer from the loop, never from rs_submit(), so
		 * the entry is still resolving here. */
		h->pending--;
		if (h->pending == 0)
			mx_resolved(e, h);
		return;
	}
	st_list_push_back(&h->waiters, &w->link);
	return;
fail:
	res = (struct sc_mxresult){ .host = key, .fault = SC_FAULT_LOCAL,
				    .detail = "out of memory" };
	w->fn(w, &res);
}

void sc_mxcache_init(struct sc_engine *e)
{
	st_hmap_init(&e->mxcache);
	st_list_init(&e->mx_done);
	e->n_mx_done = 0;
}

void sc_mxcache_free(struct sc_engine *e)
{
	const char *k;
	void *v;

	for (size_t i = 0; (i = st_hmap_next(&e->mxcache, i, &k, &v)) != 0;) {
		struct sc_mxhost *h = v;

		while (st_list_pop_front(&h->waiters) != NULL)
			; /* the requesters own them */
		st_list_remove(&h->done_link);
		free(h);
	}
	st_hmap_free(&e->mxcache);
	st_list_init(&e->mx_done);
	e->n_mx_done = 0;
}
