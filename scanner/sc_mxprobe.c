/*
 * sc_mxprobe.c - MX hosts are probed once per scan and shared (DESIGN §2
 * step 6): the first domain that names a host creates its cache entry and
 * starts the lookups (A, AAAA, and TLSA with --dane) and then the STARTTLS
 * probe; later domains wait on the entry or, once it is done, copy its
 * result at once.  Completed entries are kept, oldest evicted first beyond
 * SC_MXCACHE_MAX, so memory stays bounded on inputs with millions of
 * per-domain MX hosts while shared provider hosts stay cached.
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

static void copy_probe(struct sc_domain *d, size_t slot,
		       const struct sc_mxhost *h)
{
	struct an_probe *p = &d->probes[slot];

	p->status = h->rec.status;
	p->tls_version = h->rec.tls_version;
	p->tlsa = h->rec.tlsa;
	p->tlsa_secure = h->rec.tlsa_secure;
	p->detail = st_arena_strdup(&d->arena, h->rec.detail);
}

static void evict_oldest(struct sc_engine *e)
{
	struct sc_mxhost *h = e->done_oldest;

	if (h == NULL)
		return;
	e->done_oldest = h->older;
	if (e->done_oldest == NULL)
		e->done_newest = NULL;
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
	struct sc_mxwaiter *w = h->waiters;
	size_t n = h->n_waiters;

	st_hmap_del(&e->mxcache, h->name);
	h->waiters = NULL;
	for (size_t i = 0; i < n; i++) {
		struct sc_domain *d = w[i].d;

		sc_domain_fault(d, h->fault, "MX %s: %s", h->name, h->detail);
		d->pending--;
		if (d->pending == 0)
			sc_domain_advance(d);
	}
	free(w);
	free(h);
}

/* The probe of h is complete: store it, tell every waiting domain. */
static void mx_done(struct sc_engine *e, struct sc_mxhost *h)
{
	struct sc_mxwaiter *w = h->waiters;
	size_t n = h->n_waiters;

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
	h->waiters = NULL;
	h->n_waiters = h->cap_waiters = 0;
	e->c.probes++;
	if (e->probe_sink != NULL && !e->stopping) {
		int ret = e->probe_sink(e->probe_sink_arg, &h->rec);

		if (ret < 0 && e->error == ST_OK) {
			e->error = ret;
			sc_engine_stop(e);
		}
	}
	/* Newest at the head of the FIFO; evict from the tail. */
	h->older = NULL;
	if (e->done_newest != NULL)
		e->done_newest->older = h;
	e->done_newest = h;
	if (e->done_oldest == NULL)
		e->done_oldest = h;
	e->n_mx_done++;
	while (e->n_mx_done > SC_MXCACHE_MAX && e->done_oldest != h)
		evict_oldest(e);
	for (size_t i = 0; i < n; i++) {
		struct sc_domain *d = w[i].d;

		copy_probe(d, w[i].slot, h);
		d->pending--;
		if (d->pending == 0)
			sc_domain_advance(d);
	}
	free(w);
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

static int add_waiter(struct sc_mxhost *h, struct sc_domain *d, size_t slot)
{
	if (h->n_waiters == h->cap_waiters) {
		size_t ncap = h->cap_waiters == 0 ? 4 : h->cap_waiters * 2;
		struct sc_mxwaiter *nw = realloc(h->waiters,
						 ncap * sizeof(*nw));

		if (nw == NULL)
			return ST_ENOMEM;
		h->waiters = nw;
		h->cap_waiters = ncap;
	}
	h->waiters[h->n_waiters++] = (struct sc_mxwaiter){ d, slot };
	return ST_OK;
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
	an_probe_record_init(&h->rec);
	h->rec.host = h->name;
	h->e = e;
	h->rec.verify_error = -1;
	h->st = SC_MX_RESOLVING;
	h->t0_us = sc_now_us();
	return h;
}

void sc_mx_request(struct sc_engine *e, struct sc_domain *d, size_t slot,
		   const char *host)
{
	char key[254], q[300];
	struct sc_mxhost *h;
	size_t i;

	d->probes[slot] = (struct an_probe){ .host = host,
					     .status = AN_PROBE_NOT_PROBED };
	for (i = 0; host[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = (char)tolower((unsigned char)host[i]);
	key[i] = '\0';
	h = st_hmap_get(&e->mxcache, key);
	if (h != NULL && h->st == SC_MX_DONE) {
		copy_probe(d, slot, h);
		return;
	}
	if (h == NULL) {
		h = mx_new(e, key);
		if (h == NULL)
			goto fail;
		if (add_waiter(h, d, slot) != ST_OK) {
			st_hmap_del(&e->mxcache, h->name);
			free(h);
			goto fail;
		}
		d->pending++;
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
	if (add_waiter(h, d, slot) != ST_OK)
		goto fail;
	d->pending++;
	return;
fail:
	sc_domain_fault(d, SC_FAULT_LOCAL, "MX %s: out of memory", host);
}

void sc_mxcache_free(struct sc_engine *e)
{
	const char *k;
	void *v;

	for (size_t i = 0; (i = st_hmap_next(&e->mxcache, i, &k, &v)) != 0;) {
		struct sc_mxhost *h = v;

		free(h->waiters);
		free(h);
	}
	st_hmap_free(&e->mxcache);
	e->done_newest = e->done_oldest = NULL;
	e->n_mx_done = 0;
}
