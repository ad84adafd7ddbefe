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
 *
 * The tenant pattern (DESIGN §8): a provider puts thousands of tenants'
 * MX names on a handful of addresses, behind one certificate whose names
 * cover them all (a wildcard).  Probing each name would open thousands of
 * connections to those addresses for one answer.  So the probe is shared
 * per address too, where the certificate allows it (docs/
 * rfc-ambiguities.md, "One probe per address"): a struct sc_mxaddr per
 * address remembers the last completed STARTTLS handshake there (its
 * certificate's names, chain verdict, TLS version), and a host whose
 * first address is busy with another name's probe waits for it.  A name
 * the certificate seen there covers (RFC 8461 §4.1: "the certificate
 * presented ... MUST match the MX hostname", wildcards as in RFC 6125
 * §6.4.3, leftmost label only) gets that result, with name_match true,
 * and no connection; any other name is probed itself (and, once the
 * address's certificate is known, without waiting).  Only a completed
 * handshake is lent: the outcome of a probe that failed or was refused
 * may be the moment's (a busy server), so each name tries itself then.
 * --probe-every-mx turns sharing off.  Address entries are kept, oldest
 * evicted first, up to SC_MXADDR_MAX.
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

/* ---- one probe per address (the tenant pattern) ---- */

#define SC_MXADDR_MAX 4096           /* addresses remembered */
#define SC_MXADDR_NAMES_MAX 4096     /* bytes of certificate names kept */

struct sc_mxaddr {
	char key[64];                   /* the address, text form */
	struct sc_mxhost *leader;       /* probing it now, or NULL */
	struct st_list waiting;         /* struct sc_mxhost, addr_link */
	struct st_link lru;             /* on sc_engine.mxaddr_lru */
	/* the last completed handshake there, if have */
	bool have;
	int tls_version, verify_error;
	int64_t cert_not_after;
	char verify_str[128], issuer[256];
	char names[SC_MXADDR_NAMES_MAX]; /* dNSNames, each NUL-ended */
	size_t names_len;
};

static bool label_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * Does certificate name pat cover host?  RFC 6125 §6.4.3 as RFC 8461 §4.1
 * uses it: equal ignoring case, or "*." + a suffix where host is one more
 * label (non-empty) in front of that suffix.  Stricter than a verifier
 * may be, never looser: no partial-label wildcard ("f*.example.com"), and
 * the suffix must have two labels (as OpenSSL's X509_check_host asks), so
 * every name covered here is one the probe's own check would match.
 */
static bool cert_name_covers(const char *pat, const char *host)
{
	size_t lp = strlen(pat), lh = strlen(host);
	const char *dot;

	if (pat[0] != '*')
		return lp == lh && label_eq(pat, host, lh);
	if (lp < 3 || pat[1] != '.' || strchr(pat + 2, '.') == NULL ||
	    strchr(pat + 2, '*') != NULL)
		return false;
	dot = strchr(host, '.');
	if (dot == NULL || dot == host)
		return false;
	return strlen(dot + 1) == lp - 2 && label_eq(dot + 1, pat + 2, lp - 2);
}

static bool addr_covers(const struct sc_mxaddr *a, const char *host)
{
	for (size_t i = 0; i < a->names_len; i += strlen(a->names + i) + 1)
		if (cert_name_covers(a->names + i, host))
			return true;
	return false;
}

static void mxaddr_evict_oldest(struct sc_engine *e)
{
	struct st_link *k;

	for (k = e->mxaddr_lru.head.next; k != &e->mxaddr_lru.head; k = k->next) {
		struct sc_mxaddr *a = ST_CONTAINER(k, struct sc_mxaddr, lru);

		if (a->leader != NULL || !st_list_empty(&a->waiting))
			continue; /* busy: not evicted */
		st_list_remove(&a->lru);
		st_hmap_del(&e->mxaddrs, a->key);
		e->n_mxaddrs--;
		free(a);
		return;
	}
}

/* The entry of h's first address (the one the prober connects to
 * first), made if there is none; NULL without memory (then h is simply
 * probed). */
static struct sc_mxaddr *mxaddr_of(struct sc_engine *e,
				   const struct sc_mxhost *h)
{
	char key[64];
	const struct sockaddr_storage *ss = &h->addrs[0];
	const void *src = ss->ss_family == AF_INET6
		? (const void *)&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr
		: (const void *)&((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	struct sc_mxaddr *a;

	if (inet_ntop(ss->ss_family, src, key, sizeof(key)) == NULL)
		return NULL;
	a = st_hmap_get(&e->mxaddrs, key);
	if (a != NULL) {
		st_list_remove(&a->lru);
		st_list_push_back(&e->mxaddr_lru, &a->lru);
		return a;
	}
	if (e->n_mxaddrs >= SC_MXADDR_MAX)
		mxaddr_evict_oldest(e);
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	memcpy(a->key, key, strlen(key) + 1);
	if (st_hmap_put(&e->mxaddrs, a->key, a) != ST_OK) {
		free(a);
		return NULL;
	}
	st_list_init(&a->waiting);
	st_list_push_back(&e->mxaddr_lru, &a->lru);
	e->n_mxaddrs++;
	return a;
}

/* The leader's probe res completed at a: keep it if it can be lent (a
 * completed handshake at a itself, its certificate's names known). */
static void mxaddr_keep(struct sc_mxaddr *a, const struct ft_smtp_result *res)
{
	size_t len = 0;

	if (res->status != FT_SMTP_TLS || !res->cert_known ||
	    res->peer_ip == NULL || strcmp(res->peer_ip, a->key) != 0)
		return;
	for (size_t i = 0; i < res->n_cert_names; i++) {
		size_t n = strlen(res->cert_names[i]) + 1;

		if (len + n > sizeof(a->names))
			break; /* fewer names: fewer names covered, never more */
		memcpy(a->names + len, res->cert_names[i], n);
		len += n;
	}
	a->names_len = len;
	a->tls_version = res->tls_version;
	a->verify_error = res->verify_error;
	a->cert_not_after = res->cert_not_after;
	snprintf(a->verify_str, sizeof(a->verify_str), "%s",
		 res->verify_error_str != NULL ? res->verify_error_str : "");
	snprintf(a->issuer, sizeof(a->issuer), "%s",
		 res->cert_issuer != NULL ? res->cert_issuer : "");
	a->have = true;
}

static void on_probe(const struct ft_smtp_result *res, void *arg);
static void mx_done(struct sc_engine *e, struct sc_mxhost *h);
static void mx_probe_start(struct sc_engine *e, struct sc_mxhost *h);

/* h gets a's handshake: the same certificate, chain verdict and TLS
 * version, and the name check for h's own name, which addr_covers()
 * passed. */
static void mxaddr_lend(struct sc_engine *e, struct sc_mxaddr *a,
			struct sc_mxhost *h)
{
	const char *names[1] = { NULL };
	struct ft_smtp_result r = {
		.status = FT_SMTP_TLS,
		.host = h->name,
		.peer_ip = a->key,
		.starttls_offered = true,
		.tls_version = a->tls_version,
		.cert_known = true,
		.cert_names = names,
		.cert_issuer = a->issuer[0] != '\0' ? a->issuer : NULL,
		.cert_not_after = a->cert_not_after,
		.name_match = true,
		.verify_error = a->verify_error,
		.verify_error_str = a->verify_str[0] != '\0' ? a->verify_str
							      : NULL,
	};

	h->lent = true;
	h->pending = 1;
	on_probe(&r, h);
	mx_done(e, h);
}

/* h has its addresses: lend it a probe of its first address, wait for
 * the one running there, or probe it. */
static void mx_probe_or_share(struct sc_engine *e, struct sc_mxhost *h)
{
	struct sc_mxaddr *a;

	if (e->cfg.probe_every_mx || (a = mxaddr_of(e, h)) == NULL) {
		mx_probe_start(e, h);
		return;
	}
	if (a->leader != NULL) {
		h->st = SC_MX_PROBING;
		st_list_push_back(&a->waiting, &h->addr_link);
		return;
	}
	if (a->have && addr_covers(a, h->name)) {
		mxaddr_lend(e, a, h);
		return;
	}
	if (!a->have) { /* the first there: the others wait for it */
		a->leader = h;
		h->leads = a;
	}
	mx_probe_start(e, h);
}

/* h, the leader at its address, is done (res: its probe, or NULL if it
 * met a fault): keep what can be lent, then each waiter there is lent it
 * or probed itself (under the address's caps, ft_polite.h). */
static void mxaddr_leader_done(struct sc_engine *e, struct sc_mxhost *h,
			       const struct ft_smtp_result *res)
{
	struct sc_mxaddr *a = h->leads;
	struct st_link *k;

	if (a == NULL)
		return;
	h->leads = NULL;
	a->leader = NULL;
	if (res != NULL && h->fault == SC_FAULT_NONE)
		mxaddr_keep(a, res);
	while ((k = st_list_pop_front(&a->waiting)) != NULL) {
		struct sc_mxhost *w = ST_CONTAINER(k, struct sc_mxhost,
						   addr_link);

		if (a->have && addr_covers(a, w->name) && !e->stopping)
			mxaddr_lend(e, a, w);
		else
			mx_probe_start(e, w);
	}
}

static void mx_probe_done(const struct ft_smtp_result *res, void *arg);

/* Every lookup of h is in: probe, or conclude it is unreachable. */
static void mx_resolved(struct sc_engine *e, struct sc_mxhost *h)
{
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
	mx_probe_or_share(e, h);
}

/* Start h's own STARTTLS probe. */
static void mx_probe_start(struct sc_engine *e, struct sc_mxhost *h)
{
	const struct sockaddr *sa[SC_ADDR_MAX];
	int ret;

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
		mxaddr_leader_done(e, h, NULL);
		mx_done(e, h);
	}
}

static void mx_probe_done(const struct ft_smtp_result *res, void *arg)
{
	struct sc_mxhost *h = arg;
	struct sc_engine *e = h->e;

	on_probe(res, h);
	mxaddr_leader_done(e, h, res);
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
	st_hmap_init(&e->mxaddrs);
	st_list_init(&e->mxaddr_lru);
	e->n_mxaddrs = 0;
}

void sc_mxcache_free(struct sc_engine *e)
{
	const char *k;
	void *v;

	/* The address entries first: their lists link hosts. */
	for (size_t i = 0; (i = st_hmap_next(&e->mxaddrs, i, &k, &v)) != 0;) {
		struct sc_mxaddr *a = v;

		while (st_list_pop_front(&a->waiting) != NULL)
			; /* hosts, freed below */
		free(a);
	}
	st_hmap_free(&e->mxaddrs);
	st_list_init(&e->mxaddr_lru);
	e->n_mxaddrs = 0;

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
