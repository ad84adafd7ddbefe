/*
 * an_classify.h - from the observed pieces of one domain to its findings and
 * its sender verdict: what an RFC 8461 sender would do with mail to it today.
 *
 * Pure: the scanner (or a test table) fills struct an_observation with what
 * DNS, the policy fetch and the MX probes returned; an_classify() runs the
 * parsers and the MX matcher over it and decides.  Nothing here does I/O.
 */
#ifndef AN_CLASSIFY_H
#define AN_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "an_findings.h"
#include "an_policy.h"
#include "an_sts_record.h"
#include "an_tlsrpt.h"
#include "an_types.h"
#include "st_outcome.h"

/* Outcome of one DNS lookup, as the classifier needs it. */
enum an_dns_status {
	AN_DNS_NOT_ASKED = 0,
	AN_DNS_NOERROR,  /* answer with data of the asked type */
	AN_DNS_NODATA,   /* NOERROR, no data of the asked type */
	AN_DNS_NXDOMAIN,
	AN_DNS_SERVFAIL,
	AN_DNS_REFUSED,
	AN_DNS_TIMEOUT,
	AN_DNS_OTHER,    /* any other rcode, or a malformed answer */
};

/*
 * Outcome of the policy-host step, up to a complete HTTP response: the
 * rows of ST_FETCH_OUTCOMES (st_outcome.h) that are observations (sources
 * NONE, DNS, OK, FAIL), in table order, which is the number the record
 * stores (AN_FETCH_NOT_ATTEMPTED 0, AN_FETCH_DONE 1, ..., AN_FETCH_TRANSFER
 * 16; never renumbered).  Each row's comment says what it means, its
 * finding column which finding an_classify() reports for it.
 */
#define AN_FETCH_ROW_(id, name, src, finding) ST_IF_##src##_AN(AN_FETCH_##id,)
enum an_fetch_status {
	ST_FETCH_OUTCOMES(AN_FETCH_ROW_)
	AN_FETCH_COUNT /* not a status */
};
#undef AN_FETCH_ROW_

struct an_fetch {
	enum an_fetch_status status;
	int http_status;           /* when DONE */
	const char *location;      /* Location of a 3xx, or NULL */
	const char *content_type;  /* as sent, or NULL if absent */
	struct an_bytes body;      /* when DONE */
	int64_t cert_not_after;    /* leaf expiry (Unix time), 0 if unknown */
	const char *detail;        /* transport error text, or NULL */
};

struct an_mx_host {
	const char *name;   /* as in DNS, may end with '.' */
	uint16_t preference;
};

enum an_probe_status {
	AN_PROBE_NOT_PROBED = 0,
	AN_PROBE_OK,               /* STARTTLS, valid chain, name matches */
	AN_PROBE_UNREACHABLE,      /* no address, refused, timeout, a greeting
				    * that never finished or was not SMTP:
				    * the session never reached STARTTLS */
	AN_PROBE_NO_STARTTLS,
	AN_PROBE_HANDSHAKE,        /* STARTTLS offered, handshake failed */
	AN_PROBE_CERT_INVALID,     /* chain invalid (expired, untrusted, ...) */
	AN_PROBE_NAME_MISMATCH,    /* chain valid, name does not match */
};

struct an_probe {
	const char *host;          /* MX name this result is for */
	enum an_probe_status status;
	int tls_version;           /* e.g. 0x0303 for TLS 1.2; 0 unknown */
	bool tlsa;                 /* TLSA records at _25._tcp.host */
	bool tlsa_secure;          /* ... validated (AD bit) */
	const char *detail;        /* e.g. the X509 verify error, or NULL */
};

struct an_observation {
	const char *domain;        /* normalised A-label name */
	time_t now;                /* scan time, for certificate checks */

	enum an_dns_status sts_dns;
	/* Why a failed lookup failed, where its status does not say it (a
	 * referral from a server that does not recurse), or NULL: the
	 * finding's detail then names the status. */
	const char *sts_dns_why, *mx_dns_why, *tlsrpt_dns_why;
	const struct an_bytes *sts_txt; /* joined TXT RRs, n_sts_txt of them */
	size_t n_sts_txt;
	size_t n_sts_txt_total;    /* TXT RRs in the answer; 0: n_sts_txt */
	bool sts_cname;            /* _mta-sts reached through a CNAME */

	enum an_dns_status mx_dns;
	const struct an_mx_host *mx;
	size_t n_mx;

	enum an_dns_status tlsrpt_dns;
	const struct an_bytes *tlsrpt_txt;
	size_t n_tlsrpt_txt;
	size_t n_tlsrpt_txt_total; /* TXT RRs in the answer; 0: n_tlsrpt_txt */

	struct an_fetch fetch;

	const struct an_probe *probes; /* zero or more, matched to MX by host */
	size_t n_probes;
};

enum an_verdict {
	AN_V_NO_POLICY = 0,            /* no STS record */
	AN_V_POLICY_INVALID,           /* announced, unusable: opportunistic TLS */
	AN_V_NONE_MODE,                /* usable policy in mode none */
	AN_V_TESTING,                  /* usable policy in mode testing */
	AN_V_ENFORCE_OK,               /* enforce, every MX usable */
	AN_V_ENFORCE_MX_MISMATCH,      /* enforce, some MX would be refused */
	AN_V_ENFORCE_DELIVERY_FAILURE, /* enforce, no MX would accept mail */
	AN_V_UNDETERMINED,             /* a lookup or probe the verdict needs
					* failed */
	AN_V_COUNT
};

#define AN_CLASSIFY_MX_MAX 32 /* MX hosts judged; more are counted */

struct an_classification {
	enum an_verdict verdict;
	struct an_sts_record record;
	struct an_tlsrpt tlsrpt;
	bool have_policy;          /* the fetch returned a body that was parsed */
	struct an_policy policy;   /* valid while observation's body lives */
	size_t n_mx;               /* hosts judged: MX exchanges other than
				    * null MX, or 1 for the implicit MX */
	size_t n_mx_covered;       /* matched by a pattern of the parsed
				    * policy (have_policy), applied or not */
	size_t n_mx_usable;        /* under an applied policy (testing or
				    * enforce): covered and passed the probe
				    * (or not probed); 0 otherwise */
	size_t n_mx_unreached;     /* under an applied policy: covered, but
				    * the probe never reached STARTTLS */
	bool mx_covered[AN_CLASSIFY_MX_MAX]; /* [i] for obs->mx[i] (false for
					      * a null MX), or [0] for the
					      * implicit MX: matched by a
					      * pattern of the parsed body,
					      * whether a sender applies the
					      * policy or not */
	struct an_findings findings;
};

/*
 * Classify one domain.  obs and everything it points to are only read, but
 * out->policy refers into obs->fetch.body (see an_policy.h).  Every finding
 * goes into out->findings; the verdict follows these rules:
 *  - STS lookup SERVFAIL/REFUSED/timeout: UNDETERMINED;
 *  - no candidate record: NO_POLICY;
 *  - several candidates, an invalid record, a failed fetch, a non-200 or
 *    non-text/plain response, or an unusable policy: POLICY_INVALID;
 *  - mode none: NONE_MODE; testing: TESTING;
 *  - enforce: with the MX lookup failed, UNDETERMINED; otherwise each MX
 *    host (the domain itself when there is no MX, RFC 5321 §5.1 implicit MX;
 *    none for a null MX) is refused if no pattern covers it or a probe
 *    shows no STARTTLS or a failed handshake or certificate (RFC 8461
 *    §4.2, §5: "MUST NOT deliver the message to hosts that fail MX
 *    matching or certificate validation or that do not support
 *    STARTTLS"), unreached if covered but its probe never got to STARTTLS
 *    (AN_PROBE_UNREACHABLE: no connection, no complete greeting, not
 *    SMTP), and usable otherwise.  Without an unreached host: all usable
 *    ENFORCE_OK, some ENFORCE_MX_MISMATCH, none ENFORCE_DELIVERY_FAILURE.
 *    With one: ENFORCE_MX_MISMATCH if some host is usable and some
 *    refused, else UNDETERMINED (what the unreached hosts would do
 *    decides it, and nobody could ask them).
 *  - testing and none do not depend on probes: a testing sender delivers
 *    whatever the probe shows (RFC 8461 §5: "in any case, messages may be
 *    delivered as though there were no MTA-STS validation failure").
 * Returns ST_OK or ST_EINVAL.
 */
int an_classify(const struct an_observation *obs,
		struct an_classification *out);

const char *an_verdict_name(enum an_verdict v); /* "enforce-ok", ... */
int an_verdict_from_name(const char *name, enum an_verdict *v);

#endif /* AN_CLASSIFY_H */
