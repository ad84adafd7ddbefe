/*
 * an_findings.h - the finding taxonomy (DESIGN §4) and per-domain finding lists.
 *
 * Every finding stsmap can report has one row in the table behind
 * an_code_info(): a stable code string ("policy.max-age-invalid"), a default
 * severity, the layer, a one-line description and the RFC reference.  Codes
 * are stored by name in results, so the enum order may change but a code
 * string never does once released.
 *
 * A struct an_findings is a fixed-capacity list filled by the parsers and the
 * classifier.  It owns no heap memory; it can be copied and dropped freely.
 */
#ifndef AN_FINDINGS_H
#define AN_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum an_severity {
	AN_SEV_INFO = 0,
	AN_SEV_WARN = 1,
	AN_SEV_ERROR = 2,
};

enum an_layer {
	AN_LAYER_INPUT,
	AN_LAYER_STS_RECORD,
	AN_LAYER_POLICY_HOST,
	AN_LAYER_HTTP,
	AN_LAYER_POLICY,
	AN_LAYER_CONSISTENCY,
	AN_LAYER_MX_TLS,
	AN_LAYER_TLSRPT,
	AN_LAYER_LONGITUDINAL,
};

/* Keep in step with the table in an_findings.c (a test checks they agree). */
enum an_code {
	/* input */
	AN_F_INPUT_BAD_SYNTAX,
	AN_F_INPUT_EXCLUDED,
	/* sts-record: the _mta-sts TXT RRset, RFC 8461 §3.1 */
	AN_F_STS_NONE,
	AN_F_STS_DNS_FAILURE,
	AN_F_STS_MULTIPLE,
	AN_F_STS_DISCARDED,
	AN_F_STS_VERSION,
	AN_F_STS_ID_MISSING,
	AN_F_STS_ID_INVALID,
	AN_F_STS_ID_DUPLICATE,
	AN_F_STS_SYNTAX,
	AN_F_STS_WS_BEFORE_DELIM,
	AN_F_STS_EXTENSION,
	AN_F_STS_OTHER_TXT,
	AN_F_STS_CNAME,
	/* policy-host: reaching https://mta-sts.D/ */
	AN_F_PH_NO_ADDRESS,
	AN_F_PH_DANGLING_CNAME,
	AN_F_PH_DNS_FAILURE,
	AN_F_PH_NON_PUBLIC,
	AN_F_PH_CONNECT_REFUSED,
	AN_F_PH_CONNECT_TIMEOUT,
	AN_F_PH_TLS_HANDSHAKE,
	AN_F_PH_CERT_EXPIRED,
	AN_F_PH_CERT_NOT_YET_VALID,
	AN_F_PH_CERT_NAME_MISMATCH,
	AN_F_PH_CERT_SELF_SIGNED,
	AN_F_PH_CERT_UNTRUSTED,
	AN_F_PH_CERT_EXPIRING,
	/* http: the response, RFC 8461 §3.3 */
	AN_F_HTTP_REDIRECT,
	AN_F_HTTP_NOT_FOUND,
	AN_F_HTTP_STATUS,
	AN_F_HTTP_CONTENT_TYPE,
	AN_F_HTTP_TOO_LARGE,
	AN_F_HTTP_TIMEOUT,
	AN_F_HTTP_TRANSFER,
	/* policy: the body, RFC 8461 §3.2 */
	AN_F_POLICY_EMPTY,
	AN_F_POLICY_SYNTAX,
	AN_F_POLICY_VERSION_MISSING,
	AN_F_POLICY_VERSION_INVALID,
	AN_F_POLICY_MODE_MISSING,
	AN_F_POLICY_MODE_INVALID,
	AN_F_POLICY_MAX_AGE_MISSING,
	AN_F_POLICY_MAX_AGE_INVALID,
	AN_F_POLICY_MAX_AGE_TOO_LARGE,
	AN_F_POLICY_MAX_AGE_SHORT,
	AN_F_POLICY_MX_MISSING,
	AN_F_POLICY_MX_INVALID,
	AN_F_POLICY_MX_TRAILING_DOT,
	AN_F_POLICY_DUPLICATE_KEY,
	AN_F_POLICY_BOM,
	AN_F_POLICY_NON_ASCII,
	AN_F_POLICY_UNKNOWN_KEY,
	AN_F_POLICY_MODE_TESTING,
	AN_F_POLICY_MODE_NONE,
	/* consistency: policy against DNS MX, RFC 8461 §4.1 */
	AN_F_CONS_MX_NOT_COVERED,
	AN_F_CONS_NO_MX_COVERED,
	AN_F_CONS_PATTERN_UNUSED,
	AN_F_CONS_NULL_MX,
	AN_F_CONS_NO_MX,
	AN_F_CONS_MX_DNS_FAILURE,
	/* mx-tls: STARTTLS probes, RFC 8461 §4.2 */
	AN_F_MXTLS_UNREACHABLE,
	AN_F_MXTLS_NO_STARTTLS,
	AN_F_MXTLS_HANDSHAKE,
	AN_F_MXTLS_OLD_TLS,
	AN_F_MXTLS_CERT_INVALID,
	AN_F_MXTLS_NAME_MISMATCH,
	AN_F_MXTLS_DANE,
	AN_F_MXTLS_DNSSEC,
	/* tlsrpt: the _smtp._tls TXT RRset, RFC 8460 §3 */
	AN_F_TLSRPT_NONE,
	AN_F_TLSRPT_DNS_FAILURE,
	AN_F_TLSRPT_MULTIPLE,
	AN_F_TLSRPT_DISCARDED,
	AN_F_TLSRPT_VERSION,
	AN_F_TLSRPT_SYNTAX,
	AN_F_TLSRPT_RUA_MISSING,
	AN_F_TLSRPT_RUA_INVALID,
	/* longitudinal: scan against scan */
	AN_F_LONG_BODY_CHANGED_SAME_ID,
	AN_F_LONG_ID_CHANGED_SAME_BODY,
	AN_F_LONG_MODE_CHANGED,
	AN_F_LONG_WITHDRAWN,

	AN_F_COUNT
};

struct an_code_info {
	enum an_code code;
	const char *name;        /* stable, e.g. "policy.max-age-invalid" */
	enum an_severity severity; /* default; an instance may differ */
	enum an_layer layer;
	const char *description; /* one line, no trailing period */
	const char *rfc;         /* e.g. "RFC 8461 §3.2" */
};

/* The table row for code, or NULL if code is out of range.  Static data. */
const struct an_code_info *an_code_info(enum an_code code);

/* Look a code up by its stable name; ST_ENOENT if unknown. */
int an_code_from_name(const char *name, enum an_code *code);

const char *an_severity_name(enum an_severity sev); /* "info"/"warn"/"error" */
const char *an_layer_name(enum an_layer layer);     /* "sts-record", ... */

#define AN_DETAIL_MAX 128 /* bytes, NUL included; longer details are cut */
#define AN_FINDINGS_MAX 48

struct an_finding {
	enum an_code code;
	enum an_severity severity;
	char detail[AN_DETAIL_MAX]; /* printable ASCII only (see an_findings_add) */
};

struct an_findings {
	size_t n;
	size_t dropped; /* findings that did not fit; reported, never silent */
	struct an_finding item[AN_FINDINGS_MAX];
};

void an_findings_init(struct an_findings *f);

/* Append a finding with the code's default severity.  The formatted detail
 * is cut to AN_DETAIL_MAX-1 bytes and every byte outside 0x20-0x7e is
 * replaced by '?', so server-controlled text can never inject control
 * characters into reports.  When the list is full, f->dropped is counted
 * and the new finding replaces the latest one of lower severity, if any:
 * errors are never lost to a flood of warnings. */
void an_findings_add(struct an_findings *f, enum an_code code,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As an_findings_add, with an explicit severity (e.g. an uncovered MX host is
 * an error under enforce and a warning under testing). */
void an_findings_add_sev(struct an_findings *f, enum an_code code,
			 enum an_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* True if code is in the list. */
bool an_findings_has(const struct an_findings *f, enum an_code code);

/* Number of findings of at least severity sev. */
size_t an_findings_count_sev(const struct an_findings *f, enum an_severity sev);

#endif /* AN_FINDINGS_H */
