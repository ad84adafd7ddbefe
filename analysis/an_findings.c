#include "an_findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "st_error.h"

#define R8461 "RFC 8461"
#define R8460 "RFC 8460"

#define ROW(c, n, s, l, d, r) [c] = { c, n, AN_SEV_##s, AN_LAYER_##l, d, r }

/* One row per finding: the single place a code's name and meaning live. */
static const struct an_code_info code_table[AN_F_COUNT] = {
	ROW(AN_F_INPUT_BAD_SYNTAX, "input.bad-syntax", ERROR, INPUT,
	    "input line is not a valid domain name", "RFC 1035 §2.3.1"),
	ROW(AN_F_INPUT_EXCLUDED, "input.excluded", INFO, INPUT,
	    "domain is on the opt-out exclusion list", "-"),

	ROW(AN_F_STS_NONE, "sts-record.none", INFO, STS_RECORD,
	    "no v=STSv1 TXT record at _mta-sts", R8461 " §3.1"),
	ROW(AN_F_STS_DNS_FAILURE, "sts-record.dns-failure", ERROR, STS_RECORD,
	    "the _mta-sts TXT lookup failed (SERVFAIL, REFUSED or timeout)",
	    R8461 " §3.1"),
	ROW(AN_F_STS_MULTIPLE, "sts-record.multiple", ERROR, STS_RECORD,
	    "more than one v=STSv1 record: senders assume no policy",
	    R8461 " §3.1"),
	ROW(AN_F_STS_VERSION, "sts-record.version", ERROR, STS_RECORD,
	    "record looks like MTA-STS but is not v=STSv1 (typo or case)",
	    R8461 " §3.1"),
	ROW(AN_F_STS_ID_MISSING, "sts-record.id-missing", ERROR, STS_RECORD,
	    "record has no id field", R8461 " §3.1"),
	ROW(AN_F_STS_ID_INVALID, "sts-record.id-invalid", ERROR, STS_RECORD,
	    "id is not 1 to 32 letters and digits", R8461 " §3.1"),
	ROW(AN_F_STS_ID_DUPLICATE, "sts-record.id-duplicate", WARN, STS_RECORD,
	    "id given more than once; senders may pick either", R8461 " §3.1"),
	ROW(AN_F_STS_SYNTAX, "sts-record.syntax", ERROR, STS_RECORD,
	    "record does not follow the sts-text-record grammar", R8461 " §3.1"),
	ROW(AN_F_STS_WS_BEFORE_DELIM, "sts-record.ws-before-delim", WARN,
	    STS_RECORD,
	    "whitespace before ';': valid by the ABNF, rejected by senders "
	    "that require the record to begin with \"v=STSv1;\"",
	    R8461 " §3.1, errata 6285"),
	ROW(AN_F_STS_EXTENSION, "sts-record.extension", INFO, STS_RECORD,
	    "unknown extension field (ignored by senders)", R8461 " §3.1"),
	ROW(AN_F_STS_OTHER_TXT, "sts-record.other-txt", WARN, STS_RECORD,
	    "non-STS TXT record at _mta-sts (e.g. a wildcard SPF)",
	    R8461 " §3.1"),
	ROW(AN_F_STS_CNAME, "sts-record.cname", INFO, STS_RECORD,
	    "_mta-sts name is reached through a CNAME", R8461 " §3.1"),

	ROW(AN_F_PH_NO_ADDRESS, "policy-host.no-address", ERROR, POLICY_HOST,
	    "mta-sts host has no A/AAAA record", R8461 " §3.3"),
	ROW(AN_F_PH_DANGLING_CNAME, "policy-host.dangling-cname", ERROR,
	    POLICY_HOST,
	    "mta-sts host is a CNAME to a name that does not exist "
	    "(takeover risk)", R8461 " §3.3"),
	ROW(AN_F_PH_DNS_FAILURE, "policy-host.dns-failure", ERROR, POLICY_HOST,
	    "mta-sts host address lookup failed", R8461 " §3.3"),
	ROW(AN_F_PH_NON_PUBLIC, "policy-host.non-public", ERROR, POLICY_HOST,
	    "mta-sts host resolves only to non-public addresses", "RFC 6890"),
	ROW(AN_F_PH_CONNECT_REFUSED, "policy-host.connect-refused", ERROR,
	    POLICY_HOST, "connection to port 443 refused", R8461 " §3.3"),
	ROW(AN_F_PH_CONNECT_TIMEOUT, "policy-host.connect-timeout", ERROR,
	    POLICY_HOST, "connection to port 443 timed out", R8461 " §3.3"),
	ROW(AN_F_PH_TLS_HANDSHAKE, "policy-host.tls-handshake", ERROR,
	    POLICY_HOST, "TLS handshake failed", R8461 " §3.3"),
	ROW(AN_F_PH_CERT_EXPIRED, "policy-host.cert-expired", ERROR,
	    POLICY_HOST, "certificate has expired", "RFC 5280 §4.1.2.5"),
	ROW(AN_F_PH_CERT_NOT_YET_VALID, "policy-host.cert-not-yet-valid",
	    ERROR, POLICY_HOST, "certificate is not yet valid",
	    "RFC 5280 §4.1.2.5"),
	ROW(AN_F_PH_CERT_NAME_MISMATCH, "policy-host.cert-name-mismatch",
	    ERROR, POLICY_HOST, "certificate does not name the mta-sts host",
	    "RFC 6125 §6"),
	ROW(AN_F_PH_CERT_SELF_SIGNED, "policy-host.cert-self-signed", ERROR,
	    POLICY_HOST, "certificate is self-signed", R8461 " §3.3"),
	ROW(AN_F_PH_CERT_UNTRUSTED, "policy-host.cert-untrusted", ERROR,
	    POLICY_HOST,
	    "certificate chain does not lead to a trusted root "
	    "(unknown issuer or missing intermediate)", R8461 " §3.3"),
	ROW(AN_F_PH_CERT_EXPIRING, "policy-host.cert-expiring", WARN,
	    POLICY_HOST, "certificate expires within 14 days",
	    "RFC 5280 §4.1.2.5"),

	ROW(AN_F_HTTP_REDIRECT, "http.redirect", ERROR, HTTP,
	    "policy URL answers with a redirect, which senders must not "
	    "follow", R8461 " §3.3"),
	ROW(AN_F_HTTP_NOT_FOUND, "http.not-found", ERROR, HTTP,
	    "policy URL answers 404", R8461 " §3.3"),
	ROW(AN_F_HTTP_STATUS, "http.status", ERROR, HTTP,
	    "policy URL answers a status other than 200", R8461 " §3.3"),
	ROW(AN_F_HTTP_CONTENT_TYPE, "http.content-type", ERROR, HTTP,
	    "Content-Type is not text/plain", R8461 " §3.2"),
	ROW(AN_F_HTTP_TOO_LARGE, "http.too-large", ERROR, HTTP,
	    "policy body exceeds 64 KiB", R8461 " §3.3"),
	ROW(AN_F_HTTP_TIMEOUT, "http.timeout", ERROR, HTTP,
	    "policy fetch did not complete in time", R8461 " §3.3"),
	ROW(AN_F_HTTP_TRANSFER, "http.transfer", ERROR, HTTP,
	    "HTTP transfer failed (protocol error, connection reset, or a "
	    "body shorter than its Content-Length, RFC 7230 §3.3.3)",
	    R8461 " §3.3"),

	ROW(AN_F_POLICY_EMPTY, "policy.empty", ERROR, POLICY,
	    "policy body is empty", R8461 " §3.2"),
	ROW(AN_F_POLICY_SYNTAX, "policy.syntax", ERROR, POLICY,
	    "line does not follow the policy grammar", R8461 " §3.2"),
	ROW(AN_F_POLICY_VERSION_MISSING, "policy.version-missing", ERROR,
	    POLICY, "no version field", R8461 " §3.2"),
	ROW(AN_F_POLICY_VERSION_INVALID, "policy.version-invalid", ERROR,
	    POLICY, "version is not STSv1", R8461 " §3.2"),
	ROW(AN_F_POLICY_MODE_MISSING, "policy.mode-missing", ERROR, POLICY,
	    "no mode field", R8461 " §3.2"),
	ROW(AN_F_POLICY_MODE_INVALID, "policy.mode-invalid", ERROR, POLICY,
	    "mode is not enforce, testing or none (values are "
	    "case-sensitive)", R8461 " §3.2"),
	ROW(AN_F_POLICY_MAX_AGE_MISSING, "policy.max-age-missing", ERROR,
	    POLICY, "no max_age field", R8461 " §3.2"),
	ROW(AN_F_POLICY_MAX_AGE_INVALID, "policy.max-age-invalid", ERROR,
	    POLICY, "max_age is not 1 to 10 digits", R8461 " §3.2"),
	ROW(AN_F_POLICY_MAX_AGE_TOO_LARGE, "policy.max-age-too-large", ERROR,
	    POLICY, "max_age is over 31557600 seconds", R8461 " §3.2"),
	ROW(AN_F_POLICY_MAX_AGE_SHORT, "policy.max-age-short", WARN, POLICY,
	    "max_age is under 86400 seconds (one day)", R8461 " §3.2"),
	ROW(AN_F_POLICY_MX_MISSING, "policy.mx-missing", ERROR, POLICY,
	    "no mx field while mode is not none", R8461 " §3.2"),
	ROW(AN_F_POLICY_MX_INVALID, "policy.mx-invalid", ERROR, POLICY,
	    "mx pattern is not a host name or *.host name", R8461 " §3.2"),
	ROW(AN_F_POLICY_MX_TRAILING_DOT, "policy.mx-trailing-dot", WARN, POLICY,
	    "mx pattern ends with a dot", R8461 " §3.2"),
	ROW(AN_F_POLICY_DUPLICATE_KEY, "policy.duplicate-key", ERROR, POLICY,
	    "version, mode or max_age given more than once", R8461 " §3.2"),
	ROW(AN_F_POLICY_BOM, "policy.bom", ERROR, POLICY,
	    "body starts with a byte order mark", R8461 " §3.2"),
	ROW(AN_F_POLICY_NON_ASCII, "policy.non-ascii", ERROR, POLICY,
	    "non-ASCII or invalid UTF-8 bytes where the grammar forbids them",
	    R8461 " §3.2"),
	ROW(AN_F_POLICY_UNKNOWN_KEY, "policy.unknown-key", INFO, POLICY,
	    "unknown key (an extension, ignored by senders)", R8461 " §3.2"),
	ROW(AN_F_POLICY_MODE_TESTING, "policy.mode-testing", INFO, POLICY,
	    "mode is testing: failures are reported, mail still flows",
	    R8461 " §5"),
	ROW(AN_F_POLICY_MODE_NONE, "policy.mode-none", INFO, POLICY,
	    "mode is none: the policy is being withdrawn", R8461 " §5"),

	ROW(AN_F_CONS_MX_NOT_COVERED, "consistency.mx-not-covered", ERROR,
	    CONSISTENCY, "a DNS MX host matches no policy mx pattern",
	    R8461 " §4.1"),
	ROW(AN_F_CONS_NO_MX_COVERED, "consistency.no-mx-covered", ERROR,
	    CONSISTENCY,
	    "no DNS MX host matches the policy: enforced mail bounces",
	    R8461 " §4.1"),
	ROW(AN_F_CONS_PATTERN_UNUSED, "consistency.pattern-unused", INFO,
	    CONSISTENCY, "a policy mx pattern matches no DNS MX host",
	    R8461 " §4.1"),
	ROW(AN_F_CONS_NULL_MX, "consistency.null-mx", WARN, CONSISTENCY,
	    "domain publishes a null MX (accepts no mail) and a policy",
	    "RFC 7505"),
	ROW(AN_F_CONS_NO_MX, "consistency.no-mx", WARN, CONSISTENCY,
	    "domain has a policy but no MX records", R8461 " §4.1"),
	ROW(AN_F_CONS_MX_DNS_FAILURE, "consistency.mx-dns-failure", ERROR,
	    CONSISTENCY, "the MX lookup failed, coverage is unknown",
	    "RFC 5321 §5.1"),

	ROW(AN_F_MXTLS_UNREACHABLE, "mx-tls.unreachable", WARN, MX_TLS,
	    "MX host did not answer on port 25", "RFC 5321 §5.1"),
	ROW(AN_F_MXTLS_NO_STARTTLS, "mx-tls.no-starttls", ERROR, MX_TLS,
	    "MX host does not offer STARTTLS", "RFC 3207"),
	ROW(AN_F_MXTLS_HANDSHAKE, "mx-tls.handshake", ERROR, MX_TLS,
	    "STARTTLS handshake failed", R8461 " §4.2"),
	ROW(AN_F_MXTLS_OLD_TLS, "mx-tls.old-tls", WARN, MX_TLS,
	    "MX host negotiated TLS below 1.2", R8461 " §4.2"),
	ROW(AN_F_MXTLS_CERT_INVALID, "mx-tls.cert-invalid", ERROR, MX_TLS,
	    "MX certificate chain is not valid (expired, untrusted, "
	    "self-signed)", R8461 " §4.2"),
	ROW(AN_F_MXTLS_NAME_MISMATCH, "mx-tls.name-mismatch", ERROR, MX_TLS,
	    "MX certificate does not name the MX host", R8461 " §4.2"),
	ROW(AN_F_MXTLS_DANE, "mx-tls.dane", INFO, MX_TLS,
	    "MX host publishes TLSA records (DANE)", "RFC 7672"),
	ROW(AN_F_MXTLS_DNSSEC, "mx-tls.dnssec", INFO, MX_TLS,
	    "MX host's TLSA records are DNSSEC-validated", "RFC 7672"),

	ROW(AN_F_TLSRPT_NONE, "tlsrpt.none", WARN, TLSRPT,
	    "no TLS-RPT record while MTA-STS is deployed", R8460 " §3"),
	ROW(AN_F_TLSRPT_DNS_FAILURE, "tlsrpt.dns-failure", WARN, TLSRPT,
	    "the _smtp._tls TXT lookup failed", R8460 " §3"),
	ROW(AN_F_TLSRPT_MULTIPLE, "tlsrpt.multiple", ERROR, TLSRPT,
	    "more than one v=TLSRPTv1 record: senders assume none",
	    R8460 " §3"),
	ROW(AN_F_TLSRPT_VERSION, "tlsrpt.version", ERROR, TLSRPT,
	    "record looks like TLS-RPT but is not v=TLSRPTv1", R8460 " §3"),
	ROW(AN_F_TLSRPT_SYNTAX, "tlsrpt.syntax", ERROR, TLSRPT,
	    "record does not follow the tlsrpt-record grammar", R8460 " §3"),
	ROW(AN_F_TLSRPT_RUA_MISSING, "tlsrpt.rua-missing", ERROR, TLSRPT,
	    "record has no rua field", R8460 " §3"),
	ROW(AN_F_TLSRPT_RUA_INVALID, "tlsrpt.rua-invalid", ERROR, TLSRPT,
	    "rua URI is not a valid mailto: or https: URI", R8460 " §3"),

	ROW(AN_F_LONG_BODY_CHANGED_SAME_ID, "longitudinal.body-changed-same-id",
	    ERROR, LONGITUDINAL,
	    "policy body changed but the TXT id did not: senders keep the "
	    "stale policy", R8461 " §3.1"),
	ROW(AN_F_LONG_ID_CHANGED_SAME_BODY, "longitudinal.id-changed-same-body",
	    INFO, LONGITUDINAL, "TXT id changed with an unchanged policy body",
	    R8461 " §3.1"),
	ROW(AN_F_LONG_MODE_CHANGED, "longitudinal.mode-changed", INFO,
	    LONGITUDINAL, "policy mode changed between scans", R8461 " §5"),
	ROW(AN_F_LONG_WITHDRAWN, "longitudinal.withdrawn", WARN, LONGITUDINAL,
	    "policy withdrawn without first publishing mode none",
	    R8461 " §6"),
};

const struct an_code_info *an_code_info(enum an_code code)
{
	if ((unsigned)code >= AN_F_COUNT)
		return NULL;
	return &code_table[code];
}

int an_code_from_name(const char *name, enum an_code *code)
{
	for (size_t i = 0; i < AN_F_COUNT; i++) {
		if (code_table[i].name != NULL &&
		    strcmp(code_table[i].name, name) == 0) {
			*code = (enum an_code)i;
			return ST_OK;
		}
	}
	return ST_ENOENT;
}

const char *an_severity_name(enum an_severity sev)
{
	switch (sev) {
	case AN_SEV_INFO: return "info";
	case AN_SEV_WARN: return "warn";
	case AN_SEV_ERROR: return "error";
	}
	return "unknown";
}

const char *an_layer_name(enum an_layer layer)
{
	switch (layer) {
	case AN_LAYER_INPUT: return "input";
	case AN_LAYER_STS_RECORD: return "sts-record";
	case AN_LAYER_POLICY_HOST: return "policy-host";
	case AN_LAYER_HTTP: return "http";
	case AN_LAYER_POLICY: return "policy";
	case AN_LAYER_CONSISTENCY: return "consistency";
	case AN_LAYER_MX_TLS: return "mx-tls";
	case AN_LAYER_TLSRPT: return "tlsrpt";
	case AN_LAYER_LONGITUDINAL: return "longitudinal";
	}
	return "unknown";
}

void an_findings_init(struct an_findings *f)
{
	f->n = 0;
	f->dropped = 0;
}

static void add_va(struct an_findings *f, enum an_code code,
		   enum an_severity sev, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void add_va(struct an_findings *f, enum an_code code,
		   enum an_severity sev, const char *fmt, va_list ap)
{
	struct an_finding *it;

	if (f->n >= AN_FINDINGS_MAX) {
		/* Full: a finding displaces the latest less severe one, so a
		 * flood of warnings can never hide an error. */
		size_t i = f->n;

		f->dropped++;
		while (i > 0 && f->item[i - 1].severity >= sev)
			i--;
		if (i == 0)
			return;
		it = &f->item[i - 1];
	} else {
		it = &f->item[f->n++];
	}
	it->code = code;
	it->severity = sev;
	it->detail[0] = '\0';
	if (fmt != NULL)
		vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	/* Details quote server-controlled bytes: keep them printable. */
	for (char *p = it->detail; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e)
			*p = '?';
	}
}

void an_findings_add(struct an_findings *f, enum an_code code,
		     const char *fmt, ...)
{
	const struct an_code_info *info = an_code_info(code);
	va_list ap;

	va_start(ap, fmt);
	add_va(f, code, info != NULL ? info->severity : AN_SEV_ERROR, fmt, ap);
	va_end(ap);
}

void an_findings_add_sev(struct an_findings *f, enum an_code code,
			 enum an_severity sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_va(f, code, sev, fmt, ap);
	va_end(ap);
}

bool an_findings_has(const struct an_findings *f, enum an_code code)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->item[i].code == code)
			return true;
	}
	return false;
}

size_t an_findings_count_sev(const struct an_findings *f, enum an_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (f->item[i].severity >= sev)
			n++;
	}
	return n;
}
