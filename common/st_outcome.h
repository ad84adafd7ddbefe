/*
 * st_outcome.h - every transport outcome, defined once.
 *
 * A policy fetch and an MX probe end in one of a fixed set of outcomes.
 * fetch/ reports them (enum ft_status, enum ft_smtp_status), analysis/
 * stores and judges them (enum an_fetch_status; the findings), scanner/
 * maps one to the other.  Each outcome is one row below; every layer
 * expands the rows with column macros of its own and picks the columns it
 * needs, so the enums, the name tables and the mappings are generated and
 * cannot drift apart.  fetch/ reads only the identifier, the source and
 * the name: the finding column means something to analysis/ only, and
 * fetch/ stays RFC-agnostic.
 *
 * ST_FETCH_OUTCOMES(X): X(ID, name, src, finding), one row per outcome of
 * the policy-host step (DESIGN §2 steps 3 and 4), in the order of the
 * number the record codec stores (analysis/an_record.c): rows are only
 * ever appended, never reordered or removed.
 *   ID       FT_<ID> in fetch/ (for the rows fetch/ reports),
 *            AN_FETCH_<ID> in analysis/ (for the rows it stores).
 *   name     stable text: logs, JSON, the record schema.
 *   src      who establishes the outcome:
 *              NONE   nobody: no fetch was made (analysis/ only);
 *              DNS    the scanner, from the policy host's address lookup
 *                     before any connection (analysis/ only);
 *              OK     fetch/: a complete HTTP response, judged by its
 *                     status and body rather than by the outcome;
 *              FAIL   fetch/: the host failed the transfer;
 *              LOCAL  fetch/: not an observation of the host (our own
 *                     fault, or the fetch was cancelled): never stored,
 *                     never a finding; the scanner counts it as a local
 *                     error (fetch/ only).
 *   finding  for DNS and FAIL rows, the finding analysis/ reports: AN_F_
 *            <finding> (an_findings.def); NONE elsewhere (never
 *            pasted: the filters drop those rows first).
 *
 * Adding an outcome touches this table (one row), the fetch/ code that
 * detects it, and analysis/an_findings.def if it needs a finding of its
 * own (see tests/analysis/test_an_classify.c for the generated mappings).
 *
 * ST_SMTP_OUTCOMES(X): X(ID, name, src, probe), one row per outcome of
 * an MX STARTTLS probe (DESIGN §2 step 6), in enum ft_smtp_status order
 * (append only: the values may be stored).
 *   ID       FT_SMTP_<ID> in fetch/.
 *   name     stable text (logs, details).
 *   src      TLS    the handshake finished: the certificate decides, probe
 *                   is the status when it passes (scanner/sc_record.c);
 *            FAIL   the host failed the probe: probe is the status;
 *            LOCAL  not an observation of the host (our own fault, or the
 *                   probe was cancelled): the scanner counts it as a local
 *                   error and stores nothing; probe is what the mapping
 *                   answers if asked anyway.
 *   probe    the AN_PROBE_<probe> (an_classify.h) the scanner hands to
 *            analysis/.
 *
 * Pure preprocessor data: no code, no state.
 */
#ifndef ST_OUTCOME_H
#define ST_OUTCOME_H

/* clang-format off */
#define ST_FETCH_OUTCOMES(X) \
	/* no fetch was made */ \
	X(NOT_ATTEMPTED, "not-attempted", NONE, NONE) \
	/* a complete HTTP response: see its status */ \
	X(DONE, "done", OK, NONE) \
	/* mta-sts.D: NXDOMAIN or NODATA */ \
	X(NO_ADDRESS, "no-address", DNS, PH_NO_ADDRESS) \
	/* CNAME to a name that does not exist */ \
	X(DANGLING_CNAME, "dangling-cname", DNS, PH_DANGLING_CNAME) \
	/* SERVFAIL, REFUSED, timeout */ \
	X(DNS_FAILURE, "dns-failure", DNS, PH_DNS_FAILURE) \
	/* the guard denied every address */ \
	X(NON_PUBLIC, "non-public", FAIL, PH_NON_PUBLIC) \
	/* no address accepted TCP */ \
	X(CONNECT_REFUSED, "connect-refused", FAIL, PH_CONNECT_REFUSED) \
	/* TCP connect not done in time */ \
	X(CONNECT_TIMEOUT, "connect-timeout", FAIL, PH_CONNECT_TIMEOUT) \
	/* failed, not for the certificate */ \
	X(TLS_HANDSHAKE, "tls-handshake", FAIL, PH_TLS_HANDSHAKE) \
	/* X509_V_ERR_CERT_HAS_EXPIRED */ \
	X(CERT_EXPIRED, "cert-expired", FAIL, PH_CERT_EXPIRED) \
	/* X509_V_ERR_CERT_NOT_YET_VALID */ \
	X(CERT_NOT_YET_VALID, "cert-not-yet-valid", FAIL, PH_CERT_NOT_YET_VALID) \
	/* chain fine, host not named */ \
	X(CERT_NAME_MISMATCH, "cert-name-mismatch", FAIL, PH_CERT_NAME_MISMATCH) \
	/* DEPTH_ZERO_, SELF_SIGNED_IN_CHAIN */ \
	X(CERT_SELF_SIGNED, "cert-self-signed", FAIL, PH_CERT_SELF_SIGNED) \
	/* no path to a root, other errors */ \
	X(CERT_UNTRUSTED, "cert-untrusted", FAIL, PH_CERT_UNTRUSTED) \
	/* connected, response not in time */ \
	X(TIMEOUT, "timeout", FAIL, HTTP_TIMEOUT) \
	/* body passed the cap; stopped */ \
	X(TOO_LARGE, "too-large", FAIL, HTTP_TOO_LARGE) \
	/* other HTTP/transport failure */ \
	X(TRANSFER, "transfer", FAIL, HTTP_TRANSFER) \
	/* the fetcher was freed first */ \
	X(CANCELLED, "cancelled", LOCAL, NONE) \
	/* ours: descriptors, memory, CA file */ \
	X(LOCAL_ERROR, "local-error", LOCAL, NONE)

#define ST_SMTP_OUTCOMES(X) \
	/* handshake done: see the certificate */ \
	X(TLS, "tls", TLS, OK) \
	/* the guard denied every address */ \
	X(NON_PUBLIC, "non-public", FAIL, UNREACHABLE) \
	/* no address accepted TCP */ \
	X(CONNECT_REFUSED, "connect-refused", FAIL, UNREACHABLE) \
	/* TCP connect not done in time */ \
	X(CONNECT_TIMEOUT, "connect-timeout", FAIL, UNREACHABLE) \
	/* no 220 (554, garbage, closed) */ \
	X(BAD_GREETING, "bad-greeting", FAIL, UNREACHABLE) \
	/* EHLO not answered 250 */ \
	X(EHLO_FAILED, "ehlo-failed", FAIL, UNREACHABLE) \
	/* STARTTLS not offered */ \
	X(NO_STARTTLS, "no-starttls", FAIL, NO_STARTTLS) \
	/* offered, not answered 220 */ \
	X(STARTTLS_REFUSED, "starttls-refused", FAIL, NO_STARTTLS) \
	/* the handshake failed */ \
	X(TLS_HANDSHAKE, "tls-handshake", FAIL, HANDSHAKE) \
	/* connected; deadline passed */ \
	X(TIMEOUT, "timeout", FAIL, UNREACHABLE) \
	/* line too long, bad reply syntax */ \
	X(PROTOCOL, "protocol", FAIL, UNREACHABLE) \
	/* the prober was freed first */ \
	X(CANCELLED, "cancelled", LOCAL, UNREACHABLE) \
	/* ours: memory, socket */ \
	X(LOCAL_ERROR, "local-error", LOCAL, UNREACHABLE)
/* clang-format on */

/*
 * Row filters: ST_IF_<src>_<layer>(...) expands to its arguments when
 * the layer has rows of that source, to nothing otherwise.  FT: the
 * outcomes fetch/ reports; AN: the outcomes analysis/ stores; FINDING:
 * the outcomes with a finding.
 */
#define ST_IF_NONE_FT(...)
#define ST_IF_DNS_FT(...)
#define ST_IF_OK_FT(...) __VA_ARGS__
#define ST_IF_FAIL_FT(...) __VA_ARGS__
#define ST_IF_LOCAL_FT(...) __VA_ARGS__

#define ST_IF_NONE_AN(...) __VA_ARGS__
#define ST_IF_DNS_AN(...) __VA_ARGS__
#define ST_IF_OK_AN(...) __VA_ARGS__
#define ST_IF_FAIL_AN(...) __VA_ARGS__
#define ST_IF_LOCAL_AN(...)

#define ST_IF_NONE_FINDING(...)
#define ST_IF_DNS_FINDING(...) __VA_ARGS__
#define ST_IF_OK_FINDING(...)
#define ST_IF_FAIL_FINDING(...) __VA_ARGS__
#define ST_IF_LOCAL_FINDING(...)

/* Rows reported by fetch/ and stored by analysis/ (OK, FAIL): the ones the
 * scanner passes on one to one. */
#define ST_IF_NONE_BOTH(...)
#define ST_IF_DNS_BOTH(...)
#define ST_IF_OK_BOTH(...) __VA_ARGS__
#define ST_IF_FAIL_BOTH(...) __VA_ARGS__
#define ST_IF_LOCAL_BOTH(...)

/* Rows fetch/ reports that are not observations (LOCAL). */
#define ST_IF_NONE_LOCAL(...)
#define ST_IF_DNS_LOCAL(...)
#define ST_IF_OK_LOCAL(...)
#define ST_IF_FAIL_LOCAL(...)
#define ST_IF_LOCAL_LOCAL(...) __VA_ARGS__

#endif /* ST_OUTCOME_H */
