/*
 * sc_record.c - from what the wire said to what analysis/ reads: status
 * mappings at the fetch/resolver edge, the observation handed to
 * an_classify(), and the stored record.
 */
#include <netinet/in.h>
#include <openssl/x509_vfy.h>
#include <string.h>
#include <time.h>

#include "an_policy.h"
#include "sc_internal.h"

enum an_dns_status sc_dns_status(const struct rs_result *res)
{
	switch (res->status) {
	case RS_ANSWERED:
		break;
	case RS_TIMEOUT:
		return AN_DNS_TIMEOUT;
	case RS_REFERRAL:
		/* Not an answer (RFC 1034 §4.3.1): the name's data is
		 * unknown, a failed lookup, never NODATA. */
		return AN_DNS_OTHER;
	default:
		return AN_DNS_OTHER;
	}
	switch (res->rcode) {
	case RS_RCODE_NOERROR:
		return res->nodata || res->n_rrs == 0 ? AN_DNS_NODATA
						      : AN_DNS_NOERROR;
	case RS_RCODE_NXDOMAIN:
		return AN_DNS_NXDOMAIN;
	case RS_RCODE_SERVFAIL:
		return AN_DNS_SERVFAIL;
	case RS_RCODE_REFUSED:
		return AN_DNS_REFUSED;
	default:
		return AN_DNS_OTHER;
	}
}

const char *sc_dns_why(struct sc_domain *d, const struct rs_result *res)
{
	char buf[400];

	if (res->status != RS_REFERRAL)
		return NULL;
	snprintf(buf, sizeof(buf), "referral to %s: %s",
		 res->referral_zone != NULL && res->referral_zone[0] != '\0'
			 ? res->referral_zone : "the root",
		 d->e->cfg.upstream_authoritative
			 ? "delegated below the server asked, which does not "
			   "recurse"
			 : "the upstream does not recurse");
	return st_arena_strdup(&d->arena, buf);
}

bool sc_rr_sockaddr(const struct rs_rr *rr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (rr->type == RS_TYPE_A && rr->len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, rr->data, 4);
		return true;
	}
	if (rr->type == RS_TYPE_AAAA && rr->len == 16) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, rr->data, 16);
		return true;
	}
	return false;
}

/* fetch/ reports what happened; analysis/ names the same outcomes: both
 * enums are rows of ST_FETCH_OUTCOMES (st_outcome.h), so the mapping is
 * one to one by row.  Our own failures (source LOCAL) are not
 * observations of the host: they map to NOT_ATTEMPTED and are counted as
 * local errors. */
enum an_fetch_status sc_fetch_status(enum ft_status st)
{
#define FETCH_MAP_ROW(id, name, src, finding) \
	ST_IF_##src##_BOTH([FT_##id] = AN_FETCH_##id,) \
	ST_IF_##src##_LOCAL([FT_##id] = AN_FETCH_NOT_ATTEMPTED,)
	static const enum an_fetch_status map[FT_STATUS_COUNT] = {
		ST_FETCH_OUTCOMES(FETCH_MAP_ROW)
	};
#undef FETCH_MAP_ROW

	if ((unsigned)st >= FT_STATUS_COUNT)
		return AN_FETCH_NOT_ATTEMPTED;
	return map[st];
}

/* The probe column of ST_SMTP_OUTCOMES; after a finished handshake (the
 * TLS row) the certificate decides. */
enum an_probe_status sc_probe_status(const struct ft_smtp_result *r)
{
#define PROBE_MAP_ROW(id, name, src, probe) [FT_SMTP_##id] = AN_PROBE_##probe,
	static const enum an_probe_status map[FT_SMTP_STATUS_COUNT] = {
		ST_SMTP_OUTCOMES(PROBE_MAP_ROW)
	};
#undef PROBE_MAP_ROW

	if ((unsigned)r->status >= FT_SMTP_STATUS_COUNT)
		return AN_PROBE_UNREACHABLE;
	if (r->status != FT_SMTP_TLS)
		/* Garbage, a greeting never finished, a refusing 554: the
		 * session never got to STARTTLS, so nothing RFC 8461 §4.2
		 * judges was seen (an_classify.h: unreached, not refused). */
		return map[r->status];
	if (r->verify_error == X509_V_OK)
		return r->name_match ? map[r->status] : AN_PROBE_NAME_MISMATCH;
	if (r->verify_error == X509_V_ERR_HOSTNAME_MISMATCH)
		return AN_PROBE_NAME_MISMATCH;
	return AN_PROBE_CERT_INVALID;
}

void sc_keep_cert_names(struct sc_domain *d, const struct ft_result *res)
{
	d->n_cert_names = 0;
	d->n_cert_names_total = res->cert_known ? res->n_cert_names : 0;
	if (d->n_cert_names_total == 0)
		return;
	d->cert_names = st_arena_alloc(&d->arena, sizeof(d->cert_names[0]) *
				       (d->n_cert_names_total <
							AN_RECORD_CERT_NAMES_MAX
						? d->n_cert_names_total
						: AN_RECORD_CERT_NAMES_MAX));
	if (d->cert_names == NULL) {
		sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
		return;
	}
	for (size_t i = 0; i < d->n_cert_names_total &&
			   i < AN_RECORD_CERT_NAMES_MAX; i++) {
		char *s = st_arena_strdup(&d->arena, res->cert_names[i]);

		if (s == NULL) {
			sc_domain_fault(d, SC_FAULT_LOCAL, "arena full");
			return;
		}
		/* Server-controlled text: a dNSName is IA5String (RFC 5280
		 * §4.2.1.6), so nothing printable is lost, and reports can
		 * never carry control bytes. */
		for (char *p = s; *p != '\0'; p++)
			if (*p < 0x21 || *p > 0x7e)
				*p = '?';
		d->cert_names[d->n_cert_names++] = s;
	}
}

void sc_observation(struct sc_domain *d, struct an_observation *obs)
{
	memset(obs, 0, sizeof(*obs));
	obs->domain = d->name;
	obs->now = d->e->cfg.now != 0 ? d->e->cfg.now : time(NULL);
	obs->sts_dns = d->sts.st;
	obs->sts_dns_why = d->sts.why;
	obs->mx_dns_why = d->mx_why;
	obs->tlsrpt_dns_why = d->tlsrpt.why;
	obs->sts_txt = d->sts.rr;
	obs->n_sts_txt = d->sts.n;
	obs->n_sts_txt_total = d->sts.total;
	obs->sts_cname = d->sts.cname;
	obs->mx_dns = d->mx_st;
	obs->mx = d->mx;
	obs->n_mx = d->n_mx;
	obs->tlsrpt_dns = d->tlsrpt.st;
	obs->tlsrpt_txt = d->tlsrpt.rr;
	obs->n_tlsrpt_txt = d->tlsrpt.n;
	obs->n_tlsrpt_txt_total = d->tlsrpt.total;
	obs->fetch = d->fetch;
	obs->probes = d->probes;
	obs->n_probes = d->n_probes;
}

static void fill_dns(struct sc_domain *d, struct an_record *rec)
{
	rec->sts_dns = (uint8_t)d->sts.st;
	rec->mx_dns = (uint8_t)d->mx_st;
	rec->tlsrpt_dns = (uint8_t)d->tlsrpt.st;
	rec->sts_cname = d->sts.cname;
	rec->sts_ad = d->sts.ad;
	rec->mx_ad = d->mx_ad;
	rec->n_sts_txt = d->sts.n;
	rec->n_sts_txt_total = d->sts.total;
	if (d->sts.n > 0)
		memcpy(rec->sts_txt, d->sts.rr,
		       d->sts.n * sizeof(d->sts.rr[0]));
	rec->n_tlsrpt_txt = d->tlsrpt.n;
	rec->n_tlsrpt_txt_total = d->tlsrpt.total;
	if (d->tlsrpt.n > 0)
		memcpy(rec->tlsrpt_txt, d->tlsrpt.rr,
		       d->tlsrpt.n * sizeof(d->tlsrpt.rr[0]));
	rec->n_mx = d->n_mx;
	rec->n_mx_total = d->n_mx_total;
	for (size_t i = 0; i < d->n_mx; i++)
		rec->mx[i] = (struct an_record_mx){ d->mx[i].name,
						    d->mx[i].preference,
						    false };
}

static void fill_policy(struct sc_domain *d,
			const struct an_classification *cls,
			struct an_record *rec)
{
	const struct an_policy *pol = &cls->policy;
	const uint8_t *body = d->fetch.body.data;

	if (cls->record.status == AN_STS_VALID)
		rec->sts_id = cls->record.id;
	if (!cls->have_policy)
		return;
	rec->mode = (uint8_t)pol->mode;
	rec->policy_usable = pol->usable;
	rec->have_max_age = pol->has_max_age;
	rec->max_age = pol->max_age;
	rec->n_patterns_total = pol->n_mx + pol->n_mx_dropped;
	for (size_t i = 0; i < pol->n_mx && rec->n_patterns <
					    AN_RECORD_PATTERNS_MAX; i++) {
		char tmp[256];
		char *s;

		if (an_policy_mx_string(pol, body, i, tmp, sizeof(tmp)) != 0)
			continue;
		s = st_arena_strdup(&d->arena, tmp);
		if (s != NULL)
			rec->patterns[rec->n_patterns++] = s;
	}
}

void sc_record_fill(struct sc_domain *d, const struct an_classification *cls,
		    struct an_record *rec)
{
	an_record_init(rec);
	rec->domain = d->name;
	rec->rank = d->rank;
	rec->time = d->e->cfg.now != 0 ? (int64_t)d->e->cfg.now
					: (int64_t)time(NULL);
	rec->duration_ms = (uint32_t)((sc_now_us() - d->t0_us) / 1000);
	rec->attempts = (unsigned)d->tries + 1u;
	fill_dns(d, rec);
	for (size_t i = 0; i < d->n_mx && i < AN_CLASSIFY_MX_MAX; i++)
		rec->mx[i].covered = cls->mx_covered[i];
	rec->ph_cname = d->ph_cname;
	rec->ph_addr = d->ph_addr;
	rec->fetch_status = (uint8_t)d->fetch.status;
	rec->http_status = (uint16_t)d->fetch.http_status;
	rec->location = d->fetch.location;
	rec->content_type = d->fetch.content_type;
	if (d->fetch.body.data != NULL) {
		/* body_hash stays zero: the store computes it when it keeps
		 * the body (ds_store_put_body()). */
		rec->have_body = true;
		rec->body_len = (uint32_t)d->fetch.body.len;
	}
	rec->cert_not_after = d->fetch.cert_not_after;
	rec->cert_issuer = d->cert_issuer;
	if (d->n_cert_names > 0)
		memcpy(rec->cert_names, d->cert_names,
		       d->n_cert_names * sizeof(d->cert_names[0]));
	rec->n_cert_names = d->n_cert_names;
	rec->n_cert_names_total = d->n_cert_names_total;
	rec->fetch_ms = d->fetch_ms;
	fill_policy(d, cls, rec);
	rec->tlsrpt_valid = cls->tlsrpt.status == AN_TLSRPT_VALID;
	rec->verdict = (uint8_t)cls->verdict;
	rec->n_mx_judged = cls->n_mx;
	rec->n_mx_covered = cls->n_mx_covered;
	rec->n_mx_usable = cls->n_mx_usable;
	rec->n_findings_total = cls->findings.n + cls->findings.dropped;
	for (size_t i = 0; i < cls->findings.n; i++) {
		const struct an_finding *f = &cls->findings.item[i];

		rec->findings[i] = (struct an_record_finding){
			an_code_info(f->code)->name, (uint8_t)f->severity,
			f->detail };
	}
	rec->n_findings = cls->findings.n;
}
