/*
 * ds_world_catalog.c - the scenarios of the synthetic test world.
 *
 * One row per way a domain can be set up.  The expected findings and
 * verdict of each row are written from the rules (an_classify.h, the RFC
 * sections cited in an_findings.c), not by running the classifier: a test
 * that compares a scan with this table checks both.
 *
 * Conventions that hold for every row unless it says otherwise:
 *  - a domain announcing MTA-STS also publishes a valid TLS-RPT record, so
 *    tlsrpt.none appears only where a row is about TLS-RPT;
 *  - "findings" lists every error and warn code exactly (each code once,
 *    even when reported for several MX hosts); "info" the info codes;
 *  - the policy host of a row whose record is unusable is still served
 *    with a valid policy, so --fetch-all adds no error there;
 *  - "probe": codes added by --probe-mx; a domain without MX also gets
 *    mx-tls.unreachable there (its implicit MX is D, A 127.5.0.1, refused);
 *  - "covered": where given, the MX hosts the served body's patterns
 *    match (a body parsed, applied by senders or not), the rest do not;
 *  - weights are domains per million in a bulk world: about 99 % without
 *    a policy, about 1 % announcing one, two thirds of those usable.
 */
#include <stddef.h>

#include "ds_world.h"

#define STS_OK "v=STSv1; id={id}"
#define RPT_OK "v=TLSRPTv1; rua=mailto:tlsrpt@{d}"
#define SERVED .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_SERVED

#define POL_HEAD "version: STSv1\nmode: enforce\n"
#define POL_MX_P "mx: mx1.{p}\nmx: mx2.{p}\n"
#define POL_MX_OWN "mx: mx1.{d}\nmx: mx2.{d}\n"
#define POL_AGE "max_age: 604800\n"
#define POL_ENF_P POL_HEAD POL_MX_P POL_AGE
#define POL_ENF_OWN POL_HEAD POL_MX_OWN POL_AGE

#define INVALID "policy-invalid"
#define ENF_OK "enforce-ok"

static const struct ds_scenario scenarios[] = {
	/* --- no policy: the bulk of any real zone --- */
	{ .name = "no-policy-provider-mx", .verdict = "no-policy",
	  .findings = "", .info = "sts-record.none", .mx = DS_MX_PROVIDER,
	  .weight = 830000 },
	{ .name = "no-policy-own-mx", .verdict = "no-policy", .findings = "",
	  .info = "sts-record.none", .mx = DS_MX_OWN, .weight = 100000 },
	{ .name = "no-policy-null-mx", .verdict = "no-policy", .findings = "",
	  .info = "sts-record.none", .mx = DS_MX_NULL, .weight = 10000 },
	{ .name = "no-policy-no-mx", .verdict = "no-policy", .findings = "",
	  .info = "sts-record.none", .mx = DS_MX_NONE, .weight = 17000 },
	/* RFC 8460 without RFC 8461: no finding (tlsrpt.none needs a
	 * v=STSv1 candidate). */
	{ .name = "no-policy-tlsrpt", .verdict = "no-policy", .findings = "",
	  .info = "sts-record.none", .tlsrpt = RPT_OK, .weight = 30000 },

	/* --- sts-record: RFC 8461 §3.1 --- */
	/* Not a candidate: discarded, so no policy at all. */
	{ .name = "sts-version-typo", .verdict = "no-policy",
	  .findings = "sts-record.version", .info = "sts-record.none",
	  .sts = "v=STSv2; id={id}", .tlsrpt = RPT_OK, .ph = DS_PH_SERVED,
	  .body = POL_ENF_P, .weight = 60 },
	/* broken.<tld> is delegated to a name server that does not answer:
	 * every lookup under it fails. */
	{ .name = "sts-dns-failure", .verdict = "undetermined",
	  .findings = "sts-record.dns-failure tlsrpt.dns-failure", .info = "",
	  .sts_how = DS_STS_BROKEN, .weight = 60 },
	/* The domain is delegated to the world's NSD, which does not serve
	 * it: through Unbound a SERVFAIL; asking NSD directly (with
	 * --upstream-authoritative) a referral, which is not NODATA
	 * (RFC 1034 §4.3.1): undetermined either way, never no-policy. */
	{ .name = "sts-lame-delegation", .verdict = "undetermined",
	  .findings = "sts-record.dns-failure tlsrpt.dns-failure", .info = "",
	  .sts_how = DS_STS_DELEGATED, .weight = 20 },
	{ .name = "sts-multiple", .verdict = INVALID,
	  .findings = "sts-record.multiple", .info = "",
	  .sts = "v=STSv1; id={id}\nv=STSv1; id={id}b", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 80 },
	{ .name = "sts-id-missing", .verdict = INVALID,
	  .findings = "sts-record.id-missing", .info = "", .sts = "v=STSv1;",
	  .tlsrpt = RPT_OK, .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 60 },
	{ .name = "sts-id-invalid", .verdict = INVALID,
	  .findings = "sts-record.id-invalid", .info = "",
	  .sts = "v=STSv1; id=2024-01-01", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 60 },
	{ .name = "sts-syntax", .verdict = INVALID,
	  .findings = "sts-record.syntax", .info = "",
	  .sts = "v=STSv1; id={id}; enforce", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 60 },
	/* Errata 6285: valid ABNF, a warning. */
	{ .name = "sts-ws-before-delim", .verdict = ENF_OK,
	  .findings = "sts-record.ws-before-delim", .info = "",
	  .sts = "v=STSv1 ; id={id}", .tlsrpt = RPT_OK, .ph = DS_PH_SERVED,
	  .body = POL_ENF_P, .weight = 40 },
	{ .name = "sts-extension", .verdict = ENF_OK, .findings = "",
	  .info = "sts-record.extension", .sts = "v=STSv1; id={id}; ext=1",
	  .tlsrpt = RPT_OK, .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 40 },
	/* Two TXT RRs at one name: an SPF record beside the STS one. */
	{ .name = "sts-other-txt", .verdict = ENF_OK,
	  .findings = "sts-record.other-txt", .info = "",
	  .sts = "v=spf1 -all\nv=STSv1; id={id}", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 60 },
	/* RFC 8461 §3.1: "If multiple TXT records for "_mta-sts" are
	 * returned by the resolver, records that do not begin with
	 * "v=STSv1;" are discarded": the bare version is, and the verdict
	 * follows the valid record. */
	{ .name = "sts-discarded-bare", .verdict = ENF_OK,
	  .findings = "sts-record.discarded", .info = "",
	  .sts = "v=STSv1\nv=STSv1; id={id}", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 20 },
	/* The same for prose after the version. */
	{ .name = "sts-discarded-prose", .verdict = ENF_OK,
	  .findings = "sts-record.discarded", .info = "",
	  .sts = "v=STSv1 is not a policy\nv=STSv1; id={id}",
	  .tlsrpt = RPT_OK, .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 10 },
	/* Errata 6285 applies to a lone record only: beside an SPF record
	 * "v=STSv1 ;" is discarded and none is left ("If the number of
	 * resulting records is not one ... senders MUST assume the
	 * recipient domain does not have an available MTA-STS Policy"). */
	{ .name = "sts-discarded-ws", .verdict = "no-policy",
	  .findings = "sts-record.discarded sts-record.other-txt",
	  .info = "sts-record.none", .sts = "v=spf1 -all\nv=STSv1 ; id={id}",
	  .tlsrpt = RPT_OK, .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 10 },
	/* "or if the resulting record is syntactically invalid": trailing
	 * WSP without a ';' after it is outside sts-text-record. */
	{ .name = "sts-trailing-space", .verdict = INVALID,
	  .findings = "sts-record.syntax", .info = "",
	  .sts = "v=STSv1; id={id} ", .tlsrpt = RPT_OK, .ph = DS_PH_SERVED,
	  .body = POL_ENF_P, .weight = 20 },
	/* One RR of two character-strings, joined without separator. */
	{ .name = "sts-multi-string", .verdict = ENF_OK, .findings = "",
	  .info = "", .sts = "v=STSv1; |id={id}", .tlsrpt = RPT_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 60 },
	/* _mta-sts.D is a CNAME to stsN.hosting.<tld>, which holds the TXT. */
	{ .name = "sts-cname", .verdict = ENF_OK, .findings = "",
	  .info = "sts-record.cname", .sts = STS_OK, .sts_how = DS_STS_CNAME,
	  .tlsrpt = RPT_OK, .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 60 },

	/* --- usable policies --- */
	{ .name = "enforce-ok", .verdict = ENF_OK, .findings = "", .info = "",
	  SERVED, .body = POL_ENF_P, .weight = 3900 },
	{ .name = "enforce-ok-own-mx", .verdict = ENF_OK, .findings = "",
	  .info = "", SERVED, .mx = DS_MX_OWN, .body = POL_ENF_OWN,
	  .weight = 800 },
	{ .name = "enforce-ok-wildcard", .verdict = ENF_OK, .findings = "",
	  .info = "", SERVED, .mx = DS_MX_OWN,
	  .body = POL_HEAD "mx: *.{d}\n" POL_AGE, .weight = 400 },
	{ .name = "testing-ok", .verdict = "testing", .findings = "",
	  .info = "policy.mode-testing", SERVED,
	  .body = "version: STSv1\nmode: testing\n" POL_MX_P "max_age: 86400\n",
	  .weight = 1100 },
	/* RFC 8461 §3.2: mx may be absent in mode none. */
	{ .name = "none-mode", .verdict = "none-mode", .findings = "",
	  .info = "policy.mode-none", SERVED,
	  .body = "version: STSv1\nmode: none\nmax_age: 86400\n", .weight = 250 },
	{ .name = "policy-crlf", .verdict = ENF_OK, .findings = "", .info = "",
	  SERVED,
	  .body = "version: STSv1\r\nmode: enforce\r\nmx: mx1.{p}\r\n"
		  "mx: mx2.{p}\r\nmax_age: 604800\r\n", .weight = 100 },
	/* RFC 8461 §3.2: media type parameters are ignored. */
	{ .name = "http-charset", .verdict = ENF_OK, .findings = "",
	  .info = "", SERVED, .body = POL_ENF_P,
	  .content_type = "text/plain; charset=utf-8", .weight = 100 },

	/* --- policy-host: reaching https://mta-sts.D/, RFC 8461 §3.3 --- */
	{ .name = "ph-no-address", .verdict = INVALID,
	  .findings = "policy-host.no-address", .info = "", .sts = STS_OK,
	  .tlsrpt = RPT_OK, .ph = DS_PH_NONE, .weight = 60 },
	{ .name = "ph-dangling-cname", .verdict = INVALID,
	  .findings = "policy-host.dangling-cname", .info = "", .sts = STS_OK,
	  .tlsrpt = RPT_OK, .ph = DS_PH_DANGLING, .weight = 60 },
	{ .name = "ph-cname", .verdict = ENF_OK, .findings = "", .info = "",
	  .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_CNAME,
	  .body = POL_ENF_P, .weight = 100 },
	{ .name = "ph-refused", .verdict = INVALID,
	  .findings = "policy-host.connect-refused", .info = "",
	  .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_REFUSED, .covered = "",
	  .weight = 60 },
	/* Connected, then silence: the fetch's deadline passes. */
	{ .name = "ph-hang", .verdict = INVALID, .findings = "http.timeout",
	  .info = "", .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_HANG,
	  .weight = 30 },
	{ .name = "ph-tls-handshake", .verdict = INVALID,
	  .findings = "policy-host.tls-handshake", .info = "", .sts = STS_OK,
	  .tlsrpt = RPT_OK, .ph = DS_PH_PLAIN, .weight = 40 },
	{ .name = "cert-expired", .verdict = INVALID,
	  .findings = "policy-host.cert-expired", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_EXPIRED, .weight = 150 },
	{ .name = "cert-not-yet-valid", .verdict = INVALID,
	  .findings = "policy-host.cert-not-yet-valid", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_NOT_YET_VALID, .weight = 30 },
	{ .name = "cert-wrong-name", .verdict = INVALID,
	  .findings = "policy-host.cert-name-mismatch", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_WRONG_NAME, .weight = 150 },
	{ .name = "cert-self-signed", .verdict = INVALID,
	  .findings = "policy-host.cert-self-signed", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_SELF_SIGNED, .weight = 60 },
	{ .name = "cert-untrusted", .verdict = INVALID,
	  .findings = "policy-host.cert-untrusted", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_UNTRUSTED, .weight = 40 },
	{ .name = "cert-missing-intermediate", .verdict = INVALID,
	  .findings = "policy-host.cert-untrusted", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_MISSING_INTER, .weight = 60 },
	{ .name = "cert-expiring", .verdict = ENF_OK,
	  .findings = "policy-host.cert-expiring", .info = "", SERVED,
	  .body = POL_ENF_P, .cert = DS_CERT_EXPIRING, .weight = 60 },

	/* --- http: the response, RFC 8461 §3.3 --- */
	{ .name = "http-redirect", .verdict = INVALID,
	  .findings = "http.redirect", .info = "", SERVED,
	  .http = DS_HTTP_REDIRECT, .weight = 80 },
	{ .name = "http-404", .verdict = INVALID, .findings = "http.not-found",
	  .info = "", SERVED, .http = DS_HTTP_404, .weight = 200 },
	{ .name = "http-500", .verdict = INVALID, .findings = "http.status",
	  .info = "", SERVED, .http = DS_HTTP_500, .weight = 40 },
	/* The body is still parsed (and is valid): its patterns cover both
	 * MX hosts, although no sender applies it. */
	{ .name = "http-text-html", .verdict = INVALID,
	  .findings = "http.content-type", .info = "", SERVED,
	  .body = POL_ENF_P, .content_type = "text/html",
	  .covered = "mx1.{p} mx2.{p}", .weight = 100 },
	{ .name = "http-too-large", .verdict = INVALID,
	  .findings = "http.too-large", .info = "", SERVED, .body = POL_ENF_P,
	  .http = DS_HTTP_BIG, .weight = 20 },
	{ .name = "http-slow", .verdict = INVALID, .findings = "http.timeout",
	  .info = "", SERVED, .body = POL_ENF_P, .http = DS_HTTP_SLOW,
	  .weight = 20 },

	/* --- policy: the body, RFC 8461 §3.2 --- */
	{ .name = "policy-bom", .verdict = INVALID, .findings = "policy.bom",
	  .info = "", SERVED, .body = "\xef\xbb\xbf" POL_ENF_P, .weight = 40 },
	/* RFC 8461 §3.2: "If any non-repeated field -- i.e., all fields
	 * excepting "mx" -- is duplicated, all entries except for the first
	 * SHALL be ignored.": enforce, then testing, is enforce. */
	{ .name = "policy-duplicate-key", .verdict = ENF_OK,
	  .findings = "policy.duplicate-key", .info = "", SERVED,
	  .body = POL_HEAD "mode: testing\n" POL_MX_P POL_AGE,
	  .covered = "mx1.{p} mx2.{p}", .weight = 40 },
	/* The first entry counts even when it is invalid. */
	{ .name = "policy-duplicate-first-invalid", .verdict = INVALID,
	  .findings = "policy.duplicate-key policy.mode-invalid", .info = "",
	  SERVED, .body = "version: STSv1\nmode: enforcing\nmode: enforce\n"
	  POL_MX_P POL_AGE, .covered = "mx1.{p} mx2.{p}", .weight = 10 },
	/* ... and a later invalid entry is ignored unchecked. */
	{ .name = "policy-duplicate-max-age", .verdict = ENF_OK,
	  .findings = "policy.duplicate-key", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P POL_AGE "max_age: 1w\n", .weight = 10 },
	{ .name = "policy-max-age-invalid", .verdict = INVALID,
	  .findings = "policy.max-age-invalid", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "max_age: 1w\n", .weight = 40 },
	{ .name = "policy-max-age-too-large", .verdict = INVALID,
	  .findings = "policy.max-age-too-large", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "max_age: 31557601\n", .weight = 40 },
	{ .name = "policy-max-age-short", .verdict = ENF_OK,
	  .findings = "policy.max-age-short", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "max_age: 3600\n", .weight = 80 },
	{ .name = "policy-max-age-missing", .verdict = INVALID,
	  .findings = "policy.max-age-missing", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P, .weight = 40 },
	{ .name = "policy-version-missing", .verdict = INVALID,
	  .findings = "policy.version-missing", .info = "", SERVED,
	  .body = "mode: enforce\n" POL_MX_P POL_AGE, .weight = 40 },
	{ .name = "policy-version-invalid", .verdict = INVALID,
	  .findings = "policy.version-invalid", .info = "", SERVED,
	  .body = "version: STSv2\nmode: enforce\n" POL_MX_P POL_AGE,
	  .weight = 30 },
	/* Without a mode, a missing mx is not reported (mode unknown). */
	{ .name = "policy-mode-missing", .verdict = INVALID,
	  .findings = "policy.mode-missing", .info = "", SERVED,
	  .body = "version: STSv1\n" POL_MX_P POL_AGE, .weight = 30 },
	{ .name = "policy-mode-invalid", .verdict = INVALID,
	  .findings = "policy.mode-invalid", .info = "", SERVED,
	  .body = "version: STSv1\nmode: enforcing\n" POL_MX_P POL_AGE,
	  .weight = 30 },
	/* Values are case-sensitive. */
	{ .name = "policy-mode-case", .verdict = INVALID,
	  .findings = "policy.mode-invalid", .info = "", SERVED,
	  .body = "version: STSv1\nmode: Enforce\n" POL_MX_P POL_AGE,
	  .weight = 30 },
	{ .name = "policy-mx-missing", .verdict = INVALID,
	  .findings = "policy.mx-missing", .info = "", SERVED,
	  .body = POL_HEAD POL_AGE, .weight = 40 },
	{ .name = "policy-mx-ip-literal", .verdict = INVALID,
	  .findings = "policy.mx-invalid", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "mx: 192.0.2.25\n" POL_AGE, .weight = 30 },
	/* A U-label: non-ASCII in an mx value, and not a valid pattern. */
	{ .name = "policy-mx-ulabel", .verdict = INVALID,
	  .findings = "policy.mx-invalid policy.non-ascii", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "mx: m\xc3\xa4il.{d}\n" POL_AGE,
	  .weight = 20 },
	{ .name = "policy-mx-bad-wildcard", .verdict = INVALID,
	  .findings = "policy.mx-invalid", .info = "", SERVED,
	  .body = POL_HEAD POL_MX_P "mx: mail.*.{d}\n" POL_AGE, .weight = 30 },
	{ .name = "policy-mx-trailing-dot", .verdict = ENF_OK,
	  .findings = "policy.mx-trailing-dot", .info = "", SERVED,
	  .body = POL_HEAD "mx: mx1.{p}.\nmx: mx2.{p}.\n" POL_AGE,
	  .weight = 40 },
	{ .name = "policy-unknown-key", .verdict = ENF_OK, .findings = "",
	  .info = "policy.unknown-key", SERVED,
	  .body = POL_ENF_P "contact: postmaster@{d}\n", .weight = 30 },
	/* A bare CR makes line 2 (the mode) a syntax error. */
	{ .name = "policy-bare-cr", .verdict = INVALID,
	  .findings = "policy.mode-missing policy.syntax", .info = "", SERVED,
	  .body = "version: STSv1\nmode: enforce\rmx: x\n" POL_MX_P POL_AGE,
	  .weight = 20 },
	{ .name = "policy-empty", .verdict = INVALID,
	  .findings = "policy.empty", .info = "", SERVED, .body = "",
	  .weight = 40 },
	/* A blank line is outside the grammar but harmless: a warning. */
	{ .name = "policy-blank-line", .verdict = ENF_OK,
	  .findings = "policy.syntax", .info = "", SERVED,
	  .body = "version: STSv1\n\nmode: enforce\n" POL_MX_P POL_AGE,
	  .weight = 40 },

	/* --- consistency: policy against DNS MX, RFC 8461 §4.1 --- */
	{ .name = "enforce-mx-not-covered", .verdict = "enforce-mx-mismatch",
	  .findings = "consistency.mx-not-covered", .info = "", SERVED,
	  .mx = DS_MX_OWN, .body = POL_HEAD "mx: mx1.{d}\n" POL_AGE,
	  .covered = "mx1.{d}", .weight = 150 },
	{ .name = "enforce-no-mx-covered",
	  .verdict = "enforce-delivery-failure",
	  .findings = "consistency.mx-not-covered consistency.no-mx-covered",
	  .info = "consistency.pattern-unused", SERVED,
	  .body = POL_HEAD "mx: mail.{d}\n" POL_AGE, .weight = 150 },
	{ .name = "testing-mx-not-covered", .verdict = "testing",
	  .findings = "consistency.mx-not-covered",
	  .info = "policy.mode-testing", SERVED, .mx = DS_MX_OWN,
	  .body = "version: STSv1\nmode: testing\nmx: mx1.{d}\n" POL_AGE,
	  .weight = 100 },
	/* "*.D" covers exactly one label: not mx.eu.D. */
	{ .name = "enforce-wildcard-one-label",
	  .verdict = "enforce-delivery-failure",
	  .findings = "consistency.mx-not-covered consistency.no-mx-covered",
	  .info = "consistency.pattern-unused", SERVED, .mx = DS_MX_OWN_DEEP,
	  .body = POL_HEAD "mx: *.{d}\n" POL_AGE, .weight = 40 },
	/* RFC 7505: no host to deliver to, whatever the policy says. */
	{ .name = "null-mx-policy", .verdict = "enforce-delivery-failure",
	  .findings = "consistency.null-mx",
	  .info = "consistency.pattern-unused", SERVED, .mx = DS_MX_NULL,
	  .body = POL_HEAD "mx: mail.{d}\n" POL_AGE, .weight = 30 },
	/* RFC 5321 §5.1: the implicit MX is D itself, which the policy
	 * covers.  Probed, D (A 127.5.0.1) refuses the connection: RFC 8461
	 * §5 gives the policy nothing to refuse (no STARTTLS was reached),
	 * the host may be fine for a sender later (RFC 5321 §4.5.4.1), so
	 * the enforce verdict is undetermined. */
	{ .name = "no-mx-policy", .verdict = ENF_OK,
	  .findings = "consistency.no-mx", .info = "", SERVED, .mx = DS_MX_NONE,
	  .body = POL_HEAD "mx: {d}\n" POL_AGE,
	  .verdict_probe = "undetermined", .weight = 30 },
	/* The same under testing: senders deliver whatever the probe shows
	 * (RFC 8461 §5), the verdict stays testing. */
	{ .name = "no-mx-testing", .verdict = "testing",
	  .findings = "consistency.no-mx", .info = "policy.mode-testing",
	  SERVED, .mx = DS_MX_NONE,
	  .body = "version: STSv1\nmode: testing\nmx: {d}\n" POL_AGE,
	  .weight = 10 },
	{ .name = "enforce-pattern-unused", .verdict = ENF_OK, .findings = "",
	  .info = "consistency.pattern-unused", SERVED, .mx = DS_MX_OWN,
	  .body = POL_HEAD POL_MX_OWN "mx: backup.{d}\n" POL_AGE,
	  .weight = 60 },

	/* --- tlsrpt: RFC 8460 §3 --- */
	{ .name = "tlsrpt-missing", .verdict = ENF_OK,
	  .findings = "tlsrpt.none", .info = "", .sts = STS_OK,
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 600 },
	{ .name = "tlsrpt-multiple", .verdict = ENF_OK,
	  .findings = "tlsrpt.multiple", .info = "", .sts = STS_OK,
	  .tlsrpt = RPT_OK "\nv=TLSRPTv1; rua=mailto:reports@{d}",
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 40 },
	{ .name = "tlsrpt-bad-rua", .verdict = ENF_OK,
	  .findings = "tlsrpt.rua-invalid", .info = "", .sts = STS_OK,
	  .tlsrpt = "v=TLSRPTv1; rua=http://reports.{d}/tlsrpt",
	  .ph = DS_PH_SERVED, .body = POL_ENF_P, .weight = 40 },
	/* RFC 8460 §3: "records that do not begin with "v=TLSRPTv1;" are
	 * discarded" among several: the bare version is. */
	{ .name = "tlsrpt-discarded", .verdict = ENF_OK,
	  .findings = "tlsrpt.discarded", .info = "", .sts = STS_OK,
	  .tlsrpt = "v=TLSRPTv1\n" RPT_OK, .ph = DS_PH_SERVED,
	  .body = POL_ENF_P, .weight = 10 },
	/* RFC 8460 §3: trailing WSP without ';' is outside tlsrpt-record,
	 * so there is no usable TLS-RPT record (an error; the MTA-STS
	 * verdict does not depend on it). */
	{ .name = "tlsrpt-trailing-space", .verdict = ENF_OK,
	  .findings = "tlsrpt.syntax", .info = "", .sts = STS_OK,
	  .tlsrpt = RPT_OK " ", .ph = DS_PH_SERVED, .body = POL_ENF_P,
	  .weight = 10 },
	/* Not a candidate, so also no TLS-RPT at all. */
	{ .name = "tlsrpt-version", .verdict = ENF_OK,
	  .findings = "tlsrpt.none tlsrpt.version", .info = "", .sts = STS_OK,
	  .tlsrpt = "v=TLSRPTv2; rua=mailto:tlsrpt@{d}", .ph = DS_PH_SERVED,
	  .body = POL_ENF_P, .weight = 30 },

	/* --- mx-tls: only with --probe-mx, RFC 8461 §4.2 --- */
	{ .name = "mx-no-starttls", .verdict = ENF_OK, .findings = "",
	  .info = "", .probe = "mx-tls.no-starttls",
	  .verdict_probe = "enforce-delivery-failure", SERVED,
	  .mx = DS_MX_NOSTARTTLS, .body = POL_HEAD "mx: mx-nostarttls.{t}\n"
	  POL_AGE, .weight = 30 },
	{ .name = "mx-wrong-name", .verdict = ENF_OK, .findings = "",
	  .info = "", .probe = "mx-tls.name-mismatch",
	  .verdict_probe = "enforce-delivery-failure", SERVED,
	  .mx = DS_MX_WRONGNAME, .body = POL_HEAD "mx: mx-wrongname.{t}\n"
	  POL_AGE, .weight = 30 },
	{ .name = "mx-expired", .verdict = ENF_OK, .findings = "", .info = "",
	  .probe = "mx-tls.cert-invalid",
	  .verdict_probe = "enforce-delivery-failure", SERVED,
	  .mx = DS_MX_EXPIRED, .body = POL_HEAD "mx: mx-expired.{t}\n" POL_AGE,
	  .weight = 30 },

	/* --- server behaviours: only with --behave (ds_world_behave.c).
	 * Each row's truth is what a compliant scan concludes: one that
	 * stays within the hosts' rate and connection limits and waits
	 * for a greeting within its default timeouts (30 s).  Keep these
	 * rows last: ds_world_scenarios() leaves out the last N_BEHAVE. */
	/* The tenant pattern: each tenant's own MX name,
	 * t<N>.mx.bigmail.<tld>, on one of four addresses whose smtpd
	 * throttles each client (anvil), a wildcard certificate for them
	 * all; the policy host at the rate-limited provider. */
	{ .name = "behave-tenant", .verdict = ENF_OK, .findings = "",
	  .info = "", .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_PROVIDER,
	  .mx = DS_MX_TENANT, .body = POL_HEAD "mx: *.mx.bigmail.{t}\n"
	  POL_AGE, .weight = 5000, .copies = 24 },
	{ .name = "behave-tenant-no-policy", .verdict = "no-policy",
	  .findings = "", .info = "sts-record.none", .mx = DS_MX_TENANT,
	  .weight = 30000 },
	/* The greeting comes after a pause well within any timeout (RFC
	 * 5321 §4.5.3.2.1: a client waits 5 minutes for it). */
	{ .name = "behave-slow-greeting", .verdict = ENF_OK, .findings = "",
	  .info = "", SERVED, .mx = DS_MX_SLOWGREET,
	  .body = POL_HEAD "mx: mx-slowgreet.{t}\n" POL_AGE, .weight = 100 },
	/* IPv6 only: the policy host has an AAAA record and no A. */
	{ .name = "behave-ipv6-policy", .verdict = ENF_OK, .findings = "",
	  .info = "", .sts = STS_OK, .tlsrpt = RPT_OK, .ph = DS_PH_V6,
	  .body = POL_ENF_P, .weight = 500 },
	/* ... and the MX host. */
	{ .name = "behave-ipv6-mx", .verdict = ENF_OK, .findings = "",
	  .info = "", SERVED, .mx = DS_MX_V6,
	  .body = POL_HEAD "mx: mx-v6.{t}\n" POL_AGE, .weight = 500 },
};

#define N_ROWS (sizeof(scenarios) / sizeof(scenarios[0]))
#define N_BEHAVE 5

const struct ds_scenario *ds_world_scenarios(size_t *n)
{
	*n = N_ROWS - N_BEHAVE;
	return scenarios;
}

const struct ds_scenario *ds_world_scenarios_behave(size_t *n)
{
	*n = N_ROWS;
	return scenarios;
}
