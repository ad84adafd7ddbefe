/*
 * sc_domain.c - the per-domain state machine (DESIGN §2 steps 2-6).
 *
 *   NEW ──► DNS ──► PH_ADDR ──► FETCH ──► PROBE ──► DONE
 *            │         │          │         ▲        ▲
 *            └─────────┴──────────┴─────────┘        │
 *            (no valid record: no fetch;             │
 *             no address: no fetch;                  │
 *             no --probe-mx, or no MX host: no probe)│
 *   any state but NEW ───────────────────────────────┘ (a fault, a stop)
 *
 * Each state has an entry handler (enter[], indexed by state) that submits
 * the state's work and counts it in d->pending.  Each callback stores
 * what it learnt (copied into the domain's arena) and, when it was the
 * last one, calls sc_domain_advance(), which picks the next state
 * (next_state()) and enters it through set_state(), the one place a
 * state changes; it refuses a transition sc_state_legal() does not allow.
 * Nothing here blocks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "an_sts_record.h"
#include "sc_health.h"
#include "sc_internal.h"
#include "st_error.h"

/* Issue 15's budget is 4 KiB per domain in flight, all in: this struct,
 * its arena's first chunk, its DNS questions.  Keep the struct small:
 * arrays go to the arena, sized by need (sc_internal.h). */
_Static_assert(sizeof(struct sc_domain) <= 512,
	       "struct sc_domain grew: put the new array in the arena");

const char *sc_state_name(enum sc_state s)
{
	static const char *const names[SC_S_COUNT] = {
		[SC_S_NEW] = "new",     [SC_S_DNS] = "dns",
		[SC_S_PH_ADDR] = "ph-addr", [SC_S_FETCH] = "fetch",
		[SC_S_PROBE] = "probe", [SC_S_DONE] = "done",
	};

	return (unsigned)s < SC_S_COUNT ? names[s] : "?";
}

/* The legal transitions: the diagram above (and in sc_internal.h). */
static const bool legal[SC_S_COUNT][SC_S_COUNT] = {
	[SC_S_NEW] = { [SC_S_DNS] = true },
	[SC_S_DNS] = { [SC_S_PH_ADDR] = true, [SC_S_PROBE] = true,
		       [SC_S_DONE] = true },
	[SC_S_PH_ADDR] = { [SC_S_FETCH] = true, [SC_S_PROBE] = true,
			   [SC_S_DONE] = true },
	[SC_S_FETCH] = { [SC_S_PROBE] = true, [SC_S_DONE] = true },
	[SC_S_PROBE] = { [SC_S_DONE] = true },
	[SC_S_DONE] = { 0 },
};

bool sc_state_legal(enum sc_state from, enum sc_state to)
{
	return (unsigned)from < SC_S_COUNT && (unsigned)to < SC_S_COUNT &&
	       legal[from][to];
}

/*
 * The one place d's state changes.  Returns the state d is now in: s, or,
 * if going to s is not legal (a bug in this file, never the domain's
 * doing), SC_S_DONE with a local fault, so that the domain is logged,
 * retried and never stored on the strength of a confused machine.
 */
static enum sc_state set_state(struct sc_domain *d, enum sc_state s)
{
	if (!sc_state_legal(d->state, s)) {
		ST_ERR(d->e->cfg.log, "scan", "%s: illegal transition %s -> %s",
		       d->name, sc_state_name(d->state), sc_state_name(s));
		sc_domain_fault(d, SC_FAULT_LOCAL,
				"internal error: transition %s -> %s",
				sc_state_name(d->state), sc_state_name(s));
		s = SC_S_DONE;
	}
	ST_DEBUG(d->e->cfg.log, "scan", "%s: %s -> %s", d->name,
		 sc_state_name(d->state), sc_state_name(s));
	d->state = s;
	return s;
}

void sc_domain_fault(struct sc_domain *d, enum sc_fault f, const char *fmt,
		     ...)
{
	char why[160];
	va_list ap;

	if (f <= SC_FAULT_NONE || f >= SC_FAULT_COUNT)
		f = SC_FAULT_LOCAL;
	d->e->c.faults[f]++;
	if (d->fault != SC_FAULT_NONE)
		return; /* the first one says why */
	d->fault = f;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The fault may be a full arena: the log then says less. */
	d->fault_detail = st_arena_strdup(&d->arena, why);
	if (d->fault_detail == NULL)
		d->fault_detail = "(detail lost: arena full)";
	ST_DEBUG(d->e->cfg.log, "scan", "%s: %s fault: %s", d->name,
		 sc_fault_name(f), d->fault_detail);
}

/* RS_ERROR is the resolver's own failure (no socket, no memory), not an
 * answer about the name: a fault, never a DNS finding. */
static void dns_fault(struct sc_domain *d, const struct rs_result *res)
{
	sc_health_note(d->e->health, d, res);
	if (res->status == RS_ERROR)
		sc_domain_fault(d, SC_FAULT_LOCAL, "DNS %s type %u: %s",
				res->qname != NULL ? res->qname : "?",
				(unsigned)res->qtype,
				res->local_errno != 0
					? strerror(res->local_errno)
					: "resolver error");
}

/* A callback came in: returns true when the domain should move on. */
static bool arrived(struct sc_domain *d)
{
	d->pending--;
	return d->pending == 0;
}

static void submit(struct sc_domain *d, const char *name, uint16_t type,
		   unsigned flags, rs_callback cb)
{
	int ret;

	d->pending++;
	ret = rs_submit(d->e->rs, name, type, flags, cb, d);
	if (ret != ST_OK) {
		/* No callback will come: count the lookup as failed now. */
		struct rs_result res = { .status = RS_ERROR, .qname = name,
					 .qtype = type, .rcode = -1 };

		sc_domain_fault(d, SC_FAULT_LOCAL, "DNS %s: %s", name,
				st_strerror(ret));
		cb(&res, d);
	}
}

/* --- step 2: the three lookups --- */

/* Does a TXT RR look like the record asked for ("v=STS...", "v=TLSRPT..."
 * in any case, typos included)?  Those are kept first. */
static bool txt_like(const struct rs_rr *rr, const char *prefix)
{
	size_t n = strlen(prefix);

	return rr->len >= n && strncasecmp((const char *)rr->data, prefix, n) == 0;
}

/*
 * Keep at most SC_TXT_MAX TXT RRs of an answer and count them all.  The
 * RRs that look like the record asked for are kept first (an RRset has no
 * order, RFC 2181 §5): among 500 SPF-like records a second "v=STSv1;"
 * record must still be seen, or the verdict would miss RFC 8461 §3.1's
 * "If the number of resulting records is not one".
 */
static void keep_txt(struct sc_domain *d, const struct rs_result *res,
		     struct sc_txt_answer *a, const char *prefix)
{
	dns_fault(d, res);
	a->st = sc_dns_status(res);
	a->why = sc_dns_why(d, res);
	a->ad = res->ad;
	a->cname = res->n_cname > 0;
	a->total = 0;
	a->n = 0;
	for (size_t i = 0; i < res->n_rrs; i++)
		a->total += res->rrs[i].type == RS_TYPE_TXT;
	if (a->total > 0) {
		a->rr = st_arena_alloc(&d->arena, sizeof(a->rr[0]) *
					(a->total < SC_TXT_MAX ? a->total
							       : SC_TXT_MAX));
		if (a->rr == NULL) {
			sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
			a->total = 0;
			return;
		}
	}
	a->total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < res->n_rrs; i++) {
			const struct rs_rr *rr = &res->rrs[i];
			char *copy;

			if (rr->type != RS_TYPE_TXT ||
			    txt_like(rr, prefix) != (pass == 0))
				continue;
			a->total++;
			if (a->n >= SC_TXT_MAX)
				continue;
			copy = st_arena_strndup(&d->arena,
						(const char *)rr->data, rr->len);
			if (copy == NULL) {
				sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
				continue;
			}
			a->rr[a->n++] = (struct an_bytes){
				(const uint8_t *)copy, rr->len };
		}
	}
}

static void on_sts(const struct rs_result *res, void *arg)
{
	struct sc_domain *d = arg;

	keep_txt(d, res, &d->sts, "v=sts");
	if (arrived(d))
		sc_domain_advance(d);
}

static void on_tlsrpt(const struct rs_result *res, void *arg)
{
	struct sc_domain *d = arg;

	keep_txt(d, res, &d->tlsrpt, "v=tlsrpt");
	if (arrived(d))
		sc_domain_advance(d);
}

static void on_mx(const struct rs_result *res, void *arg)
{
	struct sc_domain *d = arg;

	dns_fault(d, res);
	d->mx_st = sc_dns_status(res);
	d->mx_why = sc_dns_why(d, res);
	d->mx_ad = res->ad;
	for (size_t i = 0; i < res->n_rrs; i++)
		d->n_mx_total += res->rrs[i].type == RS_TYPE_MX;
	if (d->n_mx_total > 0) {
		d->mx = st_arena_alloc(&d->arena, sizeof(d->mx[0]) *
				       (d->n_mx_total < SC_MX_MAX
						? d->n_mx_total : SC_MX_MAX));
		if (d->mx == NULL) {
			sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
			d->n_mx_total = 0;
			if (arrived(d))
				sc_domain_advance(d);
			return;
		}
	}
	d->n_mx_total = 0;
	for (size_t i = 0; i < res->n_rrs; i++) {
		const struct rs_rr *rr = &res->rrs[i];
		char *name;

		if (rr->type != RS_TYPE_MX)
			continue;
		d->n_mx_total++;
		if (d->n_mx >= SC_MX_MAX)
			continue;
		name = st_arena_strdup(&d->arena, (const char *)rr->data);
		if (name == NULL) {
			sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
			continue;
		}
		d->mx[d->n_mx++] = (struct an_mx_host){ name, rr->pref };
	}
	if (arrived(d))
		sc_domain_advance(d);
}

/* prefix + name into q (cap bytes), cut as snprintf would: the name is
 * normalised (at most 253 bytes) and q has room, so nothing is cut in
 * practice.  Without snprintf's format parsing, which was most of this
 * step's own cost. */
static const char *prefixed(char *q, size_t cap, const char *prefix,
			    size_t plen, const char *name)
{
	size_t n = strnlen(name, cap - 1 - plen);

	memcpy(q, prefix, plen);
	memcpy(q + plen, name, n);
	q[plen + n] = '\0';
	return q;
}

static void enter_dns(struct sc_domain *d)
{
	static const char sts[] = "_mta-sts.", rpt[] = "_smtp._tls.";
	char q[300];

	submit(d, prefixed(q, sizeof(q), sts, sizeof(sts) - 1, d->name),
	       RS_TYPE_TXT, RS_FLAG_AD, on_sts);
	submit(d, d->name, RS_TYPE_MX, RS_FLAG_AD, on_mx);
	submit(d, prefixed(q, sizeof(q), rpt, sizeof(rpt) - 1, d->name),
	       RS_TYPE_TXT, 0, on_tlsrpt);
}

/* --- step 3: the policy host's addresses --- */

static void keep_addrs(struct sc_domain *d, const struct rs_result *res,
		       enum an_dns_status *st)
{
	union sc_addr *grown = NULL;

	dns_fault(d, res);
	*st = sc_dns_status(res);
	if (d->fetch.detail == NULL)
		d->fetch.detail = sc_dns_why(d, res);
	if (res->n_cname > 0 && d->ph_cname == NULL)
		d->ph_cname = st_arena_strdup(&d->arena, res->cname_chain[0]);
	if (res->n_cname > 0 && res->status == RS_ANSWERED &&
	    res->rcode == RS_RCODE_NXDOMAIN)
		d->ph_dangling = true;
	for (size_t i = 0; i < res->n_rrs && d->n_addrs < SC_ADDR_MAX; i++) {
		struct sockaddr_storage ss;

		if (!sc_rr_sockaddr(&res->rrs[i], &ss))
			continue;
		/* The A and the AAAA answer each come once: room for all
		 * this one can add, at the first address it has. */
		if (grown == NULL) {
			size_t room = d->n_addrs + (res->n_rrs - i);

			if (room > SC_ADDR_MAX)
				room = SC_ADDR_MAX;
			grown = st_arena_alloc(&d->arena,
					       room * sizeof(grown[0]));
			if (grown == NULL) {
				sc_domain_fault(d, SC_FAULT_LOCAL,
						"arena full");
				return;
			}
			if (d->n_addrs > 0)
				memcpy(grown, d->addrs,
				       d->n_addrs * sizeof(grown[0]));
			d->addrs = grown;
		}
		memset(&d->addrs[d->n_addrs], 0, sizeof(d->addrs[0]));
		memcpy(&d->addrs[d->n_addrs], &ss,
		       ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in));
		d->n_addrs++;
	}
}

static void on_ph_a(const struct rs_result *res, void *arg)
{
	struct sc_domain *d = arg;

	keep_addrs(d, res, &d->a_st);
	if (arrived(d))
		sc_domain_advance(d);
}

static void on_ph_aaaa(const struct rs_result *res, void *arg)
{
	struct sc_domain *d = arg;

	keep_addrs(d, res, &d->aaaa_st);
	if (arrived(d))
		sc_domain_advance(d);
}

static void enter_ph_addr(struct sc_domain *d)
{
	size_t len = strlen(d->name);
	char *ph = st_arena_alloc(&d->arena, sizeof("mta-sts.") + len);

	if (ph == NULL) {
		sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
		return;
	}
	memcpy(ph, "mta-sts.", sizeof("mta-sts.") - 1);
	memcpy(ph + sizeof("mta-sts.") - 1, d->name, len + 1);
	d->ph_name = ph;
	submit(d, d->ph_name, RS_TYPE_A, 0, on_ph_a);
	submit(d, d->ph_name, RS_TYPE_AAAA, 0, on_ph_aaaa);
}

static bool dns_failed(enum an_dns_status st)
{
	return st == AN_DNS_SERVFAIL || st == AN_DNS_REFUSED ||
	       st == AN_DNS_TIMEOUT || st == AN_DNS_OTHER;
}

/* --- step 4: the fetch --- */

static void on_fetch(const struct ft_result *res, void *arg)
{
	struct sc_domain *d = arg;
	struct st_arena *a = &d->arena;
	struct an_fetch *f = &d->fetch;

	f->status = sc_fetch_status(res->status);
	f->http_status = res->http_status;
	f->location = st_arena_strdup(a, res->location);
	f->content_type = st_arena_strdup(a, res->content_type);
	f->cert_not_after = res->cert_known ? res->cert_not_after : 0;
	f->detail = st_arena_strdup(a, res->error);
	if (res->body != NULL && res->body_len > 0) {
		char *body = st_arena_strndup(a, (const char *)res->body,
					      res->body_len);

		if (body != NULL)
			f->body = (struct an_bytes){ (const uint8_t *)body,
						     res->body_len };
		else
			sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
	}
	d->ph_addr = st_arena_strdup(a, res->peer_ip);
	d->cert_issuer = res->cert_known ? st_arena_strdup(a, res->cert_issuer)
					 : NULL;
	sc_keep_cert_names(d, res);
	d->fetch_ms = (uint32_t)(res->total_us / 1000);
	d->e->c.fetches++;
	if (res->status == FT_DONE && res->http_status == 200)
		d->e->c.fetch_ok++;
	/* Our own failure (descriptors, memory, the CA file): nothing was
	 * learnt about the policy host. */
	if (res->status == FT_LOCAL_ERROR)
		sc_domain_fault(d, SC_FAULT_LOCAL, "fetch %s: %s", d->ph_name,
				res->error != NULL ? res->error
						   : "local error");
	if (arrived(d))
		sc_domain_advance(d);
}

static void enter_fetch(struct sc_domain *d)
{
	const struct sockaddr *sa[SC_ADDR_MAX];
	int ret;

	for (size_t i = 0; i < d->n_addrs; i++)
		sa[i] = &d->addrs[i].sa;
	d->pending++;
	/* A retry may find the connection of an earlier attempt kept: a
	 * fresh one shows the certificate (its expiry, its issuer) again. */
	ret = ft_fetch_policy_ex(d->e->ft, d->ph_name, sa, d->n_addrs,
				 d->e->cfg.https_port,
				 d->attempt > 0 ? FT_FETCH_FRESH : 0u,
				 on_fetch, d);
	if (ret != ST_OK) {
		d->pending--;
		d->fetch.status = AN_FETCH_NOT_ATTEMPTED;
		d->fetch.detail = st_strerror(ret);
		sc_domain_fault(d, SC_FAULT_LOCAL, "fetch not started: %s",
				st_strerror(ret));
	}
}

/* The policy host has no address: record why there is no fetch. */
static void no_fetch(struct sc_domain *d)
{
	if (d->ph_dangling)
		d->fetch.status = AN_FETCH_DANGLING_CNAME;
	else if (dns_failed(d->a_st) || dns_failed(d->aaaa_st))
		d->fetch.status = AN_FETCH_DNS_FAILURE;
	else
		d->fetch.status = AN_FETCH_NO_ADDRESS;
}

/* --- step 6: probes --- */

/* The probe of one of d's MX hosts is in (the cache's callback, maybe
 * from within sc_mx_request()). */
static void on_probe(struct sc_mxwaiter *w, const struct sc_mxresult *res)
{
	struct sc_domain *d = w->ctx;
	struct an_probe *p = &d->probes[w - d->mxwait];

	if (res->fault != SC_FAULT_NONE) {
		sc_domain_fault(d, res->fault, "MX %s: %s", res->host,
				res->detail);
	} else {
		p->status = res->rec->status;
		p->tls_version = res->rec->tls_version;
		p->tlsa = res->rec->tlsa;
		p->tlsa_secure = res->rec->tlsa_secure;
		p->detail = st_arena_strdup(&d->arena, res->rec->detail);
	}
	if (arrived(d))
		sc_domain_advance(d);
}

static void request_probe(struct sc_domain *d, const char *host)
{
	size_t slot = d->n_probes++;
	struct sc_mxwaiter *w = &d->mxwait[slot];

	d->probes[slot] = (struct an_probe){ .host = host,
					     .status = AN_PROBE_NOT_PROBED };
	w->fn = on_probe;
	w->ctx = d;
	d->pending++;
	sc_mx_request(d->e, host, w);
}

/* Is there an MX host to probe?  RFC 5321 §5.1: with no MX records
 * (NODATA) the domain itself is the MX; a null MX (RFC 7505) is none. */
static bool probe_wanted(const struct sc_domain *d)
{
	if (!d->e->cfg.probe_mx)
		return false;
	if (d->mx_st == AN_DNS_NODATA)
		return true;
	if (d->mx_st != AN_DNS_NOERROR)
		return false;
	for (size_t i = 0; i < d->n_mx; i++) {
		if (d->mx[i].name[0] != '\0')
			return true;
	}
	return false;
}

static void enter_probe(struct sc_domain *d)
{
	size_t n = 0;

	/* One probe per MX host (the domain itself under NODATA): the
	 * arrays sized by need, never SC_MX_MAX of each. */
	if (d->mx_st == AN_DNS_NODATA)
		n = 1;
	else
		for (size_t i = 0; i < d->n_mx; i++)
			n += d->mx[i].name[0] != '\0';
	d->probes = st_arena_calloc(&d->arena, n, sizeof(d->probes[0]));
	d->mxwait = st_arena_calloc(&d->arena, n, sizeof(d->mxwait[0]));
	if (d->probes == NULL || d->mxwait == NULL) {
		sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
		return;
	}
	if (d->mx_st == AN_DNS_NODATA) {
		request_probe(d, d->name);
		return;
	}
	for (size_t i = 0; i < d->n_mx; i++) {
		if (d->mx[i].name[0] != '\0')
			request_probe(d, d->mx[i].name);
	}
}

/* Does the STS RRset hold exactly one valid record (worth a fetch)? */
static bool sts_valid(const struct sc_domain *d)
{
	struct an_sts_record rec;
	struct an_findings f;

	an_findings_init(&f);
	if (an_sts_record_parse_total(d->sts.rr, d->sts.n, d->sts.total, &rec,
				      &f) != ST_OK)
		return false;
	return rec.status == AN_STS_VALID;
}

static void enter_done(struct sc_domain *d)
{
	sc_domain_finished(d); /* d is released */
}

/* The entry handler of each state: submits the state's work (counted in
 * d->pending).  NEW is never entered. */
static void (*const enter[SC_S_COUNT])(struct sc_domain *d) = {
	[SC_S_NEW] = NULL,
	[SC_S_DNS] = enter_dns,
	[SC_S_PH_ADDR] = enter_ph_addr,
	[SC_S_FETCH] = enter_fetch,
	[SC_S_PROBE] = enter_probe,
	[SC_S_DONE] = enter_done,
};

/* Where d goes once the work of its current state is all in. */
static enum sc_state next_state(struct sc_domain *d)
{
	const struct sc_engine *e = d->e;

	/* A fault: whatever comes next could not be trusted either; the
	 * domain is retried from the start. */
	if (e->stopping || d->fault != SC_FAULT_NONE)
		return SC_S_DONE;
	switch (d->state) {
	case SC_S_NEW:
		return SC_S_DNS;
	case SC_S_DNS:
		if ((d->sts.st == AN_DNS_NOERROR && sts_valid(d)) ||
		    e->cfg.fetch_all)
			return SC_S_PH_ADDR;
		break;
	case SC_S_PH_ADDR:
		if (d->n_addrs > 0)
			return SC_S_FETCH;
		no_fetch(d);
		break;
	case SC_S_FETCH:
		break;
	case SC_S_PROBE:
	case SC_S_DONE:
	case SC_S_COUNT:
		return SC_S_DONE;
	}
	/* Leaving DNS, PH_ADDR or FETCH: probes, or done. */
	return probe_wanted(d) ? SC_S_PROBE : SC_S_DONE;
}

void sc_domain_start(struct sc_domain *d)
{
	d->state = SC_S_NEW;
	sc_domain_advance(d);
}

void sc_domain_advance(struct sc_domain *d)
{
	while (d->state != SC_S_DONE && d->pending == 0) {
		enum sc_state s = set_state(d, next_state(d));

		if (s == SC_S_DONE) {
			enter[s](d); /* d is released */
			return;
		}
		/* Held while the handler submits, so that a callback made
		 * from within a submission does not move d on under it. */
		d->pending++;
		enter[s](d);
		d->pending--;
	}
}
