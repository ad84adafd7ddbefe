#include "an_classify.h"

#include <string.h>

#include "an_mx.h"
#include "an_text.h"
#include "st_error.h"

#define EXPIRY_WARN_SECONDS (14 * 86400)

static const char *const verdict_names[AN_V_COUNT] = {
	[AN_V_NO_POLICY] = "no-policy",
	[AN_V_POLICY_INVALID] = "policy-invalid",
	[AN_V_NONE_MODE] = "none-mode",
	[AN_V_TESTING] = "testing",
	[AN_V_ENFORCE_OK] = "enforce-ok",
	[AN_V_ENFORCE_MX_MISMATCH] = "enforce-mx-mismatch",
	[AN_V_ENFORCE_DELIVERY_FAILURE] = "enforce-delivery-failure",
	[AN_V_UNDETERMINED] = "undetermined",
};

const char *an_verdict_name(enum an_verdict v)
{
	if ((unsigned)v >= AN_V_COUNT)
		return "unknown";
	return verdict_names[v];
}

int an_verdict_from_name(const char *name, enum an_verdict *v)
{
	for (size_t i = 0; i < AN_V_COUNT; i++) {
		if (strcmp(verdict_names[i], name) == 0) {
			*v = (enum an_verdict)i;
			return ST_OK;
		}
	}
	return ST_ENOENT;
}

static const char *dns_name(enum an_dns_status st)
{
	switch (st) {
	case AN_DNS_NOT_ASKED: return "not asked";
	case AN_DNS_NOERROR: return "NOERROR";
	case AN_DNS_NODATA: return "NODATA";
	case AN_DNS_NXDOMAIN: return "NXDOMAIN";
	case AN_DNS_SERVFAIL: return "SERVFAIL";
	case AN_DNS_REFUSED: return "REFUSED";
	case AN_DNS_TIMEOUT: return "timeout";
	case AN_DNS_OTHER: return "other error";
	}
	return "unknown";
}

/* SERVFAIL, REFUSED, timeout and the rest: the name's state is unknown,
 * which is not the same as NXDOMAIN or NODATA. */
static bool dns_failed(enum an_dns_status st)
{
	return st == AN_DNS_SERVFAIL || st == AN_DNS_REFUSED ||
	       st == AN_DNS_TIMEOUT || st == AN_DNS_OTHER;
}

static int classify_sts(const struct an_observation *obs,
			struct an_classification *out)
{
	struct an_findings *f = &out->findings;
	int ret;

	if (obs->sts_dns == AN_DNS_NOERROR)
		ret = an_sts_record_parse_total(obs->sts_txt, obs->n_sts_txt,
						obs->n_sts_txt_total,
						&out->record, f);
	else
		ret = an_sts_record_parse(NULL, 0, &out->record, f);
	if (ret != ST_OK)
		return ret;
	if (obs->sts_cname)
		an_findings_add(f, AN_F_STS_CNAME, NULL);
	if (dns_failed(obs->sts_dns))
		an_findings_add(f, AN_F_STS_DNS_FAILURE, "_mta-sts.%s TXT: %s",
				obs->domain != NULL ? obs->domain : "",
				obs->sts_dns_why != NULL ? obs->sts_dns_why
							 : dns_name(obs->sts_dns));
	else if (out->record.status == AN_STS_ABSENT &&
		 obs->sts_dns != AN_DNS_NOT_ASKED)
		an_findings_add(f, AN_F_STS_NONE, "%s", dns_name(obs->sts_dns));
	return ST_OK;
}

static int classify_tlsrpt(const struct an_observation *obs,
			   struct an_classification *out)
{
	struct an_findings *f = &out->findings;
	int ret;

	if (obs->tlsrpt_dns == AN_DNS_NOERROR)
		ret = an_tlsrpt_parse_total(obs->tlsrpt_txt,
					    obs->n_tlsrpt_txt,
					    obs->n_tlsrpt_txt_total,
					    &out->tlsrpt, f);
	else
		ret = an_tlsrpt_parse(NULL, 0, &out->tlsrpt, f);
	if (ret != ST_OK)
		return ret;
	if (dns_failed(obs->tlsrpt_dns))
		an_findings_add(f, AN_F_TLSRPT_DNS_FAILURE, "%s",
				obs->tlsrpt_dns_why != NULL
					? obs->tlsrpt_dns_why
					: dns_name(obs->tlsrpt_dns));
	else if (obs->tlsrpt_dns != AN_DNS_NOT_ASKED &&
		 out->tlsrpt.status == AN_TLSRPT_ABSENT &&
		 out->record.candidates > 0)
		an_findings_add(f, AN_F_TLSRPT_NONE, NULL);
	return ST_OK;
}

/* RFC 8461 §3.2: the media type must be text/plain; parameters such as
 * charset are allowed and ignored.  Type and subtype are case-insensitive
 * (RFC 9110 §8.3.1). */
static bool content_type_ok(const char *ct)
{
	static const char want[] = "text/plain";

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (!an_prefix_nocase((const uint8_t *)ct, strlen(ct), want))
		return false;
	ct += sizeof(want) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* The finding column of ST_FETCH_OUTCOMES (st_outcome.h): each failed
 * fetch is reported as the finding its row names. */
static enum an_code fetch_code(enum an_fetch_status st)
{
#define FETCH_CODE_ROW(id, name, src, finding) \
	ST_IF_##src##_FINDING(case AN_FETCH_##id: return AN_F_##finding;)
	switch (st) {
		ST_FETCH_OUTCOMES(FETCH_CODE_ROW)
	default:
		break;
	}
#undef FETCH_CODE_ROW
	return AN_F_HTTP_TRANSFER;
}

/* Findings for the fetch and the body; true if a sender would get a usable
 * policy from it. */
static bool classify_fetch(const struct an_observation *obs,
			   struct an_classification *out)
{
	const struct an_fetch *fe = &obs->fetch;
	struct an_findings *f = &out->findings;
	bool ok = true;

	if (fe->status == AN_FETCH_NOT_ATTEMPTED)
		return false;
	if (fe->status != AN_FETCH_DONE) {
		an_findings_add(f, fetch_code(fe->status), "%s",
				fe->detail != NULL ? fe->detail : "");
		return false;
	}
	if (fe->cert_not_after != 0 &&
	    fe->cert_not_after - (int64_t)obs->now < EXPIRY_WARN_SECONDS)
		an_findings_add(f, AN_F_PH_CERT_EXPIRING,
				"certificate expires in %lld s",
				(long long)(fe->cert_not_after - (int64_t)obs->now));
	if (fe->http_status >= 300 && fe->http_status < 400) {
		an_findings_add(f, AN_F_HTTP_REDIRECT, "HTTP %d to %s",
				fe->http_status,
				fe->location != NULL ? fe->location : "(none)");
		return false;
	}
	if (fe->http_status == 404) {
		an_findings_add(f, AN_F_HTTP_NOT_FOUND, "HTTP 404");
		return false;
	}
	if (fe->http_status != 200) {
		an_findings_add(f, AN_F_HTTP_STATUS, "HTTP %d", fe->http_status);
		return false;
	}
	if (!content_type_ok(fe->content_type)) {
		an_findings_add(f, AN_F_HTTP_CONTENT_TYPE, "Content-Type: %s",
				fe->content_type != NULL ? fe->content_type
							 : "(absent)");
		ok = false;
	}
	/* Parse the body even when the type is wrong: its problems are part
	 * of what the operator must fix. */
	an_policy_parse(fe->body.data, fe->body.len, &out->policy, f);
	out->have_policy = true;
	return ok && out->policy.usable;
}

static const struct an_probe *find_probe(const struct an_observation *obs,
					 const char *host)
{
	for (size_t i = 0; i < obs->n_probes; i++) {
		if (obs->probes[i].host != NULL &&
		    an_mx_host_eq(obs->probes[i].host, host))
			return &obs->probes[i];
	}
	return NULL;
}

/* What a probe says about an MX host to a sender enforcing the policy. */
enum probe_judgment {
	PJ_PASS,     /* not probed, or STARTTLS with a valid certificate */
	PJ_REFUSED,  /* RFC 8461 §5 enforce: "MUST NOT deliver" to it */
	PJ_UNKNOWN,  /* the session never reached STARTTLS */
};

/*
 * Findings for one probe, and its judgment.  RFC 8461 §5: ""enforce": In
 * this mode, Sending MTAs MUST NOT deliver the message to hosts that fail
 * MX matching or certificate validation (§4.2) or that do not support
 * STARTTLS.": such a host is refused.  A host the probe could not
 * talk to (no connection, a greeting that never finished, garbage instead
 * of SMTP: AN_PROBE_UNREACHABLE) got no further than any sender would,
 * policy or not: RFC 5321 §4.5.4.1 has the sender retry later, and the
 * policy decides nothing about it.  It is neither usable nor refused, so
 * whether the policy lets mail through to it is not known.
 */
static enum probe_judgment judge_probe(const struct an_probe *pr,
				       struct an_findings *f)
{
	const char *d = pr->detail != NULL ? pr->detail : "";

	if (pr->tls_version != 0 && pr->tls_version < 0x0303)
		an_findings_add(f, AN_F_MXTLS_OLD_TLS, "%s: version 0x%04x",
				pr->host, (unsigned)pr->tls_version);
	if (pr->tlsa)
		an_findings_add(f, AN_F_MXTLS_DANE, "%s", pr->host);
	if (pr->tlsa && pr->tlsa_secure)
		an_findings_add(f, AN_F_MXTLS_DNSSEC, "%s", pr->host);
	switch (pr->status) {
	case AN_PROBE_NOT_PROBED:
	case AN_PROBE_OK:
		return PJ_PASS;
	case AN_PROBE_UNREACHABLE:
		an_findings_add(f, AN_F_MXTLS_UNREACHABLE, "%s %s", pr->host, d);
		return PJ_UNKNOWN;
	case AN_PROBE_NO_STARTTLS:
		an_findings_add(f, AN_F_MXTLS_NO_STARTTLS, "%s", pr->host);
		return PJ_REFUSED;
	case AN_PROBE_HANDSHAKE:
		an_findings_add(f, AN_F_MXTLS_HANDSHAKE, "%s %s", pr->host, d);
		return PJ_REFUSED;
	case AN_PROBE_CERT_INVALID:
		an_findings_add(f, AN_F_MXTLS_CERT_INVALID, "%s %s", pr->host, d);
		return PJ_REFUSED;
	case AN_PROBE_NAME_MISMATCH:
		an_findings_add(f, AN_F_MXTLS_NAME_MISMATCH, "%s %s", pr->host, d);
		return PJ_REFUSED;
	}
	return PJ_PASS;
}

/* RFC 7505: an MX whose exchange is the root ("." or "") says "no mail". */
static bool is_root(const char *name)
{
	return name[0] == '\0' || strcmp(name, ".") == 0;
}

/* Which hosts a sender would try (RFC 5321 §5.1): the MX exchanges except
 * null MX entries, or the domain itself (implicit MX) when the name exists
 * but has no MX; none when the domain does not exist or the lookup failed.
 * Returns how many; *implicit is set for the implicit MX. */
static size_t mx_hosts(const struct an_observation *obs, bool *implicit,
		       size_t *n_root)
{
	size_t n = 0;

	*implicit = false;
	*n_root = 0;
	if (obs->mx_dns == AN_DNS_NOERROR && obs->n_mx > 0) {
		for (size_t i = 0; i < obs->n_mx; i++) {
			if (is_root(obs->mx[i].name))
				(*n_root)++;
			else
				n++;
		}
		return n;
	}
	if ((obs->mx_dns == AN_DNS_NODATA || obs->mx_dns == AN_DNS_NOERROR) &&
	    obs->domain != NULL) {
		*implicit = true;
		return 1;
	}
	return 0;
}

/*
 * Judge one host; i indexes mx_covered.  Coverage is computed whenever a
 * body was parsed (the host matches a pattern of the fetched policy), even
 * if a sender would not apply that policy; usable and unreached count only
 * under an applied policy (with_policy), for the verdict.
 */
static void judge_host(const struct an_observation *obs,
		       struct an_classification *out, const char *host,
		       size_t i, bool with_policy)
{
	const struct an_policy *pol = &out->policy;
	const uint8_t *body = obs->fetch.body.data;
	const struct an_probe *pr = find_probe(obs, host);
	enum probe_judgment pj;
	bool covered = false;

	for (size_t j = 0; out->have_policy && j < pol->n_mx && !covered; j++)
		covered = an_mx_match((const char *)body + pol->mx[j].off,
				      pol->mx[j].len, host, strlen(host));
	pj = pr != NULL ? judge_probe(pr, &out->findings) : PJ_PASS;
	if (i < AN_CLASSIFY_MX_MAX)
		out->mx_covered[i] = covered;
	out->n_mx++;
	if (covered)
		out->n_mx_covered++;
	if (with_policy && covered && pj == PJ_PASS)
		out->n_mx_usable++;
	if (with_policy && covered && pj == PJ_UNKNOWN)
		out->n_mx_unreached++;
	if (with_policy && !covered)
		an_findings_add_sev(&out->findings, AN_F_CONS_MX_NOT_COVERED,
				    pol->mode == AN_MODE_ENFORCE ? AN_SEV_ERROR
								 : AN_SEV_WARN,
				    "%s", host);
}

static bool pattern_used(const struct an_observation *obs,
			 const struct an_mx_pattern *p, bool implicit)
{
	const char *pat = (const char *)obs->fetch.body.data + p->off;

	if (implicit)
		return an_mx_match(pat, p->len, obs->domain, strlen(obs->domain));
	for (size_t i = 0; i < obs->n_mx; i++) {
		const char *host = obs->mx[i].name;

		if (!is_root(host) && an_mx_match(pat, p->len, host, strlen(host)))
			return true;
	}
	return false;
}

/* Judge every MX host against the policy and the probes. */
static void classify_mx(const struct an_observation *obs,
			struct an_classification *out, bool with_policy)
{
	const struct an_policy *pol = &out->policy;
	struct an_findings *f = &out->findings;
	bool implicit;
	size_t n_root, n_hosts = mx_hosts(obs, &implicit, &n_root);

	if (implicit) {
		judge_host(obs, out, obs->domain, 0, with_policy);
	} else if (n_hosts > 0) {
		for (size_t i = 0; i < obs->n_mx; i++) {
			if (!is_root(obs->mx[i].name))
				judge_host(obs, out, obs->mx[i].name, i,
					   with_policy);
		}
	}
	if (!with_policy)
		return;
	if (n_root > 0 && n_hosts == 0)
		an_findings_add(f, AN_F_CONS_NULL_MX, "the domain accepts no mail");
	else if (n_root > 0)
		an_findings_add(f, AN_F_CONS_NULL_MX,
				"null MX alongside %zu other MX record(s), "
				"which RFC 7505 section 3 forbids", n_hosts);
	if (implicit)
		an_findings_add(f, AN_F_CONS_NO_MX,
				"%s: the domain itself is the implicit MX",
				dns_name(obs->mx_dns));
	else if (obs->mx_dns == AN_DNS_NXDOMAIN)
		an_findings_add(f, AN_F_CONS_NO_MX,
				"NXDOMAIN: the domain does not exist");
	if (dns_failed(obs->mx_dns))
		an_findings_add(f, AN_F_CONS_MX_DNS_FAILURE, "%s",
				obs->mx_dns_why != NULL ? obs->mx_dns_why
							: dns_name(obs->mx_dns));
	for (size_t j = 0; j < pol->n_mx; j++) {
		if (!pattern_used(obs, &pol->mx[j], implicit))
			an_findings_add(f, AN_F_CONS_PATTERN_UNUSED, "%.*s",
					(int)pol->mx[j].len,
					(const char *)obs->fetch.body.data +
						pol->mx[j].off);
	}
	if (pol->mode == AN_MODE_ENFORCE && n_hosts > 0 && out->n_mx_covered == 0)
		an_findings_add(f, AN_F_CONS_NO_MX_COVERED, "%zu MX host(s)",
				n_hosts);
}

/*
 * The enforce verdict from the judged hosts.  A host is usable (covered,
 * probe passed or not made), refused (not covered, RFC 8461 §4.1, or
 * failed by a probe, §4.2 and §5) or unreached (covered, but the probe never got
 * to STARTTLS).  Unreached hosts could go either way, so the verdict is
 * UNDETERMINED unless the other hosts decide it: a usable and a refused
 * host make ENFORCE_MX_MISMATCH whatever the unreached ones would do.
 */
static enum an_verdict enforce_verdict(const struct an_observation *obs,
				       const struct an_classification *out)
{
	size_t refused = out->n_mx - out->n_mx_usable - out->n_mx_unreached;

	if (dns_failed(obs->mx_dns) || obs->mx_dns == AN_DNS_NOT_ASKED)
		return AN_V_UNDETERMINED;
	if (out->n_mx_unreached > 0)
		return out->n_mx_usable > 0 && refused > 0
			       ? AN_V_ENFORCE_MX_MISMATCH
			       : AN_V_UNDETERMINED;
	if (out->n_mx_usable == 0)
		return AN_V_ENFORCE_DELIVERY_FAILURE;
	if (out->n_mx_usable < out->n_mx)
		return AN_V_ENFORCE_MX_MISMATCH;
	return AN_V_ENFORCE_OK;
}

int an_classify(const struct an_observation *obs, struct an_classification *out)
{
	bool usable;
	int ret;

	if (obs == NULL || out == NULL || (obs->n_mx > 0 && obs->mx == NULL) ||
	    (obs->n_probes > 0 && obs->probes == NULL) ||
	    (obs->n_sts_txt > 0 && obs->sts_txt == NULL) ||
	    (obs->n_tlsrpt_txt > 0 && obs->tlsrpt_txt == NULL) ||
	    (obs->fetch.body.len > 0 && obs->fetch.body.data == NULL))
		return ST_EINVAL;
	for (size_t i = 0; i < obs->n_mx; i++) {
		if (obs->mx[i].name == NULL)
			return ST_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	an_findings_init(&out->findings);

	ret = classify_sts(obs, out);
	if (ret == ST_OK)
		ret = classify_tlsrpt(obs, out);
	if (ret != ST_OK)
		return ret;
	/* With --fetch-all a fetch may exist without a record: its findings
	 * are reported, but only a valid record makes a policy count. */
	usable = classify_fetch(obs, out);

	if (dns_failed(obs->sts_dns) || obs->sts_dns == AN_DNS_NOT_ASKED)
		out->verdict = AN_V_UNDETERMINED;
	else if (out->record.status == AN_STS_ABSENT)
		out->verdict = AN_V_NO_POLICY;
	else if (out->record.status != AN_STS_VALID)
		out->verdict = AN_V_POLICY_INVALID;
	else if (obs->fetch.status == AN_FETCH_NOT_ATTEMPTED)
		out->verdict = AN_V_UNDETERMINED;
	else if (!usable)
		out->verdict = AN_V_POLICY_INVALID;
	else if (out->policy.mode == AN_MODE_NONE)
		out->verdict = AN_V_NONE_MODE;
	else if (out->policy.mode == AN_MODE_TESTING)
		out->verdict = AN_V_TESTING;
	else
		out->verdict = AN_V_ENFORCE_OK; /* refined below */

	usable = out->verdict == AN_V_TESTING || out->verdict == AN_V_ENFORCE_OK;
	classify_mx(obs, out, usable);
	if (out->verdict == AN_V_ENFORCE_OK)
		out->verdict = enforce_verdict(obs, out);
	return ST_OK;
}
