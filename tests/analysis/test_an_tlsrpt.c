/* test_an_tlsrpt.c - tests for analysis/an_tlsrpt.c (RFC 8460 §3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_tlsrpt.h"
#include "st_error.h"

#define MAX_RR 4
#define MAX_CODES 7
#define END AN_F_COUNT /* ends a code list */
#define CODES(...) { __VA_ARGS__, END }
#define NO_CODES { END }

/* Every tlsrpt finding a clean record must not carry. */
#define CLEAN CODES(AN_F_TLSRPT_SYNTAX, AN_F_TLSRPT_RUA_MISSING, \
		    AN_F_TLSRPT_RUA_INVALID, AN_F_TLSRPT_MULTIPLE, \
		    AN_F_TLSRPT_VERSION, AN_F_TLSRPT_DISCARDED)

#define V "v=TLSRPTv1"
#define M "mailto:tlsrpt@example.com"
#define X10 "aaaaaaaaaa"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define U1 ",mailto:r@example.com"
#define U10 U1 U1 U1 U1 U1 U1 U1 U1 U1 U1
#define NUL_URI V "; rua=mailto:a@exa\0mple.com"
#define NUL_EXT V "; rua=" M "; x=a\0b"

struct row {
	const char *name;
	const char *txt[MAX_RR + 1]; /* NULL-terminated */
	size_t len[MAX_RR];          /* explicit length, 0: strlen */
	enum an_tlsrpt_status status;
	size_t n_rua;
	enum an_code has[MAX_CODES];  /* must be present, END-terminated */
	enum an_code lacks[MAX_CODES]; /* must be absent, END-terminated */
};

static const struct row rows[] = {
	/* RFC 8460 §3: the simplest valid record, one mailto: URI */
	{ "valid-mailto", { V "; rua=" M }, { 0 }, AN_TLSRPT_VALID, 1,
	  NO_CODES, CLEAN },
	/* RFC 8460 §3: https: reporting URI */
	{ "valid-https", { V ";rua=https://reports.example.com/v1/tlsrpt" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: both schemes in one rua list */
	{ "valid-both", { V "; rua=" M ",https://r.example.net/tlsrpt" },
	  { 0 }, AN_TLSRPT_VALID, 2, NO_CODES, CLEAN },
	/* RFC 8460 §3: *WSP "," *WSP between URIs */
	{ "wsp-around-commas",
	  { V "; rua=mailto:a@example.com , mailto:b@example.org\t,\t"
	      "https://x.example/" },
	  { 0 }, AN_TLSRPT_VALID, 3, NO_CODES, CLEAN },
	/* RFC 8460 §3: [field-delim] after the last field */
	{ "trailing-semicolon", { V "; rua=" M ";" }, { 0 }, AN_TLSRPT_VALID,
	  1, NO_CODES, CLEAN },
	/* RFC 8460 §3: field-delim = *WSP ";" *WSP, also at the end */
	{ "trailing-delim-wsp", { V ";rua=" M " ;  " }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: WSP on both sides of ';' */
	{ "wsp-around-semicolon", { V " ;\trua=" M }, { 0 }, AN_TLSRPT_VALID,
	  1, NO_CODES, CLEAN },
	/* RFC 8460 §3: tlsrpt-extension after rua is ignored */
	{ "extension-after-rua", { V "; rua=" M "; ext.v-1_x=some:value" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: tlsrpt-extension before rua is ignored */
	{ "extension-before-rua", { V "; foo=bar; rua=https://example.com/r" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: the rua field is required */
	{ "no-rua", { V "; foo=bar" }, { 0 }, AN_TLSRPT_INVALID, 0,
	  CODES(AN_F_TLSRPT_RUA_MISSING), CODES(AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: %s"rua=" is case-sensitive; RUA= is an extension */
	{ "rua-uppercase-name", { V "; RUA=" M }, { 0 }, AN_TLSRPT_INVALID, 0,
	  CODES(AN_F_TLSRPT_RUA_MISSING), CODES(AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: tlsrpt-rua needs at least one tlsrpt-uri */
	{ "empty-rua", { V "; rua=" }, { 0 }, AN_TLSRPT_INVALID, 0,
	  CODES(AN_F_TLSRPT_RUA_INVALID), CODES(AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: only mailto: and https: are reporting schemes */
	{ "http-scheme", { V "; rua=http://example.com/r" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID),
	  CODES(AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: ftp: is not a reporting scheme either */
	{ "ftp-scheme", { V "; rua=ftp://example.com/r" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 8460 §3, RFC 6068 §2: "mailto" needs its ':' */
	{ "mailto-no-colon", { V "; rua=mailto//a@example.com" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 6068 §2: mailto: needs local "@" domain */
	{ "mailto-no-at", { V "; rua=mailto:tlsrpt.example.com" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 6068 §2: the local part may not be empty */
	{ "mailto-empty-local", { V "; rua=mailto:@example.com" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 6068 §2: the domain may not be empty */
	{ "mailto-empty-domain", { V "; rua=mailto:a@" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 3986 §3.2.2: https: needs a host */
	{ "https-no-host", { V "; rua=https:///r" }, { 0 }, AN_TLSRPT_INVALID,
	  0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 3986 §3.1: schemes are case-insensitive */
	{ "mailto-uppercase", { V "; rua=MAILTO:a@example.com" }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 3986 §3.1, §3.2.2: scheme and host in any case */
	{ "https-uppercase", { V "; rua=HTTPS://Example.COM/x" }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: more than one record means no TLS-RPT */
	{ "two-records", { V "; rua=" M, V "; rua=mailto:b@example.com" },
	  { 0 }, AN_TLSRPT_MULTIPLE, 0, CODES(AN_F_TLSRPT_MULTIPLE),
	  CODES(AN_F_TLSRPT_SYNTAX, AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: duplicates count, even a broken one */
	{ "two-records-one-broken", { V "; rua=" M, V ";;" }, { 0 },
	  AN_TLSRPT_MULTIPLE, 0, CODES(AN_F_TLSRPT_MULTIPLE),
	  CODES(AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: other TXT records at the name are discarded */
	{ "among-spf", { "v=spf1 -all", V "; rua=" M, "site-verification=x" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: "v=TLSRPTv10" is not the version */
	{ "version-v10", { V "0; rua=" M }, { 0 }, AN_TLSRPT_ABSENT, 0,
	  CODES(AN_F_TLSRPT_VERSION), CODES(AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: %s"v=TLSRPTv1" is case-sensitive */
	{ "version-lowercase", { "v=tlsrptv1; rua=" M }, { 0 },
	  AN_TLSRPT_ABSENT, 0, CODES(AN_F_TLSRPT_VERSION), NO_CODES },
	/* RFC 8460 §3: the version needs a field-delim after it */
	{ "version-no-delim", { V "rua=" M }, { 0 }, AN_TLSRPT_ABSENT, 0,
	  CODES(AN_F_TLSRPT_VERSION), NO_CODES },
	/* RFC 8460 §3: a bad version beside a good record is still reported */
	{ "version-bad-and-good", { "V=TLSRPTv1; rua=" M, V "; rua=" M },
	  { 0 }, AN_TLSRPT_VALID, 1, CODES(AN_F_TLSRPT_VERSION),
	  CODES(AN_F_TLSRPT_MULTIPLE, AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: records must begin with the version; no finding */
	{ "leading-space", { " " V "; rua=" M }, { 0 }, AN_TLSRPT_ABSENT, 0,
	  NO_CODES, CLEAN },
	/* RFC 8460 §3: an empty RRset */
	{ "no-records", { NULL }, { 0 }, AN_TLSRPT_ABSENT, 0, NO_CODES,
	  CLEAN },
	/* RFC 8460 §3: 1*(field-delim tlsrpt-field); rua required */
	{ "version-alone", { V }, { 0 }, AN_TLSRPT_INVALID, 0,
	  CODES(AN_F_TLSRPT_RUA_MISSING), CODES(AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: ";;" is an empty tlsrpt-field */
	{ "empty-field", { V ";;rua=" M }, { 0 }, AN_TLSRPT_INVALID, 1,
	  CODES(AN_F_TLSRPT_SYNTAX), CODES(AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: only one trailing field-delim */
	{ "double-trailing-delim", { V "; rua=" M ";;" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: every field is name "=" value */
	{ "field-without-eq", { V "; rua=" M "; foo" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: version and first field need a ';' between them */
	{ "missing-delim-after-version", { V " rua=" M }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX),
	  CODES(AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: ext-value is ASCII only */
	{ "non-ascii", { V "; rua=" M "; x=caf\xc3\xa9" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: a NUL byte inside a URI */
	{ "nul-in-uri", { NUL_URI }, { sizeof(NUL_URI) - 1 },
	  AN_TLSRPT_INVALID, 0,
	  CODES(AN_F_TLSRPT_SYNTAX, AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 8460 §3: a NUL byte inside an extension value */
	{ "nul-in-ext", { NUL_EXT }, { sizeof(NUL_EXT) - 1 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX),
	  CODES(AN_F_TLSRPT_RUA_INVALID) },
	/* RFC 8460 §3: control characters are excluded from ext-value */
	{ "control-byte", { V "; rua=" M "; x=a\x01" "b" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-name starts with ALPHA / DIGIT */
	{ "ext-name-underscore", { V "; rua=" M "; _x=1" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-name is at most 32 characters */
	{ "ext-name-33",
	  { V "; rua=" M "; a23456789012345678901234567890123=1" },
	  { 0 }, AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-name of exactly 32 characters is fine */
	{ "ext-name-32",
	  { V "; rua=" M "; a234567890123456789012345678901.=1" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: ext-value excludes "=" */
	{ "ext-value-eq", { V "; rua=" M "; x=a=b" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-value excludes SP */
	{ "ext-value-space", { V "; rua=" M "; x=a b" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-value is 1*(...) */
	{ "ext-value-empty", { V "; rua=" M "; x=" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3 (header contract): a second rua is a warning */
	{ "rua-repeated", { V "; rua=" M "; rua=https://example.com/r" },
	  { 0 }, AN_TLSRPT_VALID, 2, CODES(AN_F_TLSRPT_SYNTAX),
	  CODES(AN_F_TLSRPT_RUA_INVALID) },
	/* RFC 8460 §3: no WSP between "rua=" and the first URI */
	{ "wsp-after-rua-eq", { V "; rua= " M }, { 0 }, AN_TLSRPT_INVALID, 1,
	  CODES(AN_F_TLSRPT_SYNTAX), CODES(AN_F_TLSRPT_RUA_INVALID) },
	/* RFC 8460 §3: trailing WSP without ';' is not a field-delim, so the
	 * record is outside the grammar: invalid, not a warning */
	{ "trailing-wsp", { V "; rua=" M " " }, { 0 }, AN_TLSRPT_INVALID, 1,
	  CODES(AN_F_TLSRPT_SYNTAX), CODES(AN_F_TLSRPT_RUA_INVALID) },
	/* RFC 8460 §3: the same for a trailing tab after an extension */
	{ "trailing-tab", { V "; rua=" M "; x=1\t" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-value excludes SP */
	{ "ext-value-space", { V "; rua=" M "; x=a b" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: ext-name is ALPHA / DIGIT / "_" / "-" / "." only */
	{ "ext-name-plus", { V "; rua=" M "; a+b=1" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_SYNTAX), NO_CODES },
	/* RFC 8460 §3: "If multiple TXT records for "_smtp._tls" are
	 * returned by the resolver, records that do not begin with
	 * "v=TLSRPTv1;" are discarded": the bare version beside a valid
	 * record is discarded, the valid one counts */
	{ "discard-bare-version", { V, V "; rua=" M }, { 0 },
	  AN_TLSRPT_VALID, 1, CODES(AN_F_TLSRPT_DISCARDED),
	  CODES(AN_F_TLSRPT_MULTIPLE, AN_F_TLSRPT_RUA_MISSING) },
	/* RFC 8460 §3: among several, "v=TLSRPTv1 ;" does not begin with
	 * "v=TLSRPTv1;" either */
	{ "discard-ws-before-semi", { V " ; rua=mailto:b@example.com",
				      V ";rua=" M }, { 0 },
	  AN_TLSRPT_VALID, 1, CODES(AN_F_TLSRPT_DISCARDED),
	  CODES(AN_F_TLSRPT_MULTIPLE, AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: nor does prose after the version */
	{ "discard-prose", { V " is not a record", V "; rua=" M }, { 0 },
	  AN_TLSRPT_VALID, 1, CODES(AN_F_TLSRPT_DISCARDED),
	  CODES(AN_F_TLSRPT_MULTIPLE, AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: "If the number of resulting records is not one,
	 * senders MUST assume the recipient domain does not implement
	 * TLSRPT": a discarded record beside SPF leaves none */
	{ "discard-leaves-none", { "v=spf1 -all", V " ; rua=" M }, { 0 },
	  AN_TLSRPT_ABSENT, 0, CODES(AN_F_TLSRPT_DISCARDED),
	  CODES(AN_F_TLSRPT_MULTIPLE, AN_F_TLSRPT_SYNTAX) },
	/* RFC 8460 §3: a lone "v=TLSRPTv1 ;" record is read by the ABNF */
	{ "lone-ws-before-semi", { V " ; rua=" M }, { 0 }, AN_TLSRPT_VALID, 1,
	  NO_CODES, CLEAN },
	/* RFC 8460 §3: commas inside a URI are %-encoded */
	{ "pct-2c", { V "; rua=mailto:tls%2Creports@example.com" }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 3986 §2.1: a broken %-escape */
	{ "bad-pct", { V "; rua=mailto:a%2@example.com" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 8460 §3: an empty URI between commas */
	{ "empty-uri-middle", { V "; rua=" M ",,https://example.com/" },
	  { 0 }, AN_TLSRPT_INVALID, 2, CODES(AN_F_TLSRPT_RUA_INVALID),
	  NO_CODES },
	/* RFC 8460 §3: a trailing comma leaves an empty URI */
	{ "trailing-comma", { V "; rua=" M "," }, { 0 }, AN_TLSRPT_INVALID,
	  1, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 8460 §3: one bad URI spoils the record, good ones still count */
	{ "one-good-one-bad", { V "; rua=" M ",http://example.com/" }, { 0 },
	  AN_TLSRPT_INVALID, 1, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 8460 §3: a space inside a URI */
	{ "space-in-uri", { V "; rua=" M " extra" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 3986 §3.2.3, §3.3, §3.4: port, path and query */
	{ "https-port-path",
	  { V "; rua=https://reports.example.com:8443/tlsrpt/v1?d=ex.com" },
	  { 0 }, AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 3986 §3.2.3: six port digits */
	{ "https-port-too-long", { V "; rua=https://example.com:123456/" },
	  { 0 }, AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID),
	  NO_CODES },
	/* RFC 3986 §3.2.2: IPv6 literal in brackets */
	{ "https-ipv6", { V "; rua=https://[2001:db8::1]/tlsrpt" }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 3986 §3.2.2: not an IPv6 address */
	{ "https-bad-ipv6", { V "; rua=https://[2001:db8::g]/" }, { 0 },
	  AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID), NO_CODES },
	/* RFC 3986 §3.2.2: IPv4 literal */
	{ "https-ipv4", { V "; rua=https://192.0.2.1/r" }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: no length limit on a URI; 300-byte path */
	{ "uri-300", { V "; rua=https://example.com/" X100 X100 X100 }, { 0 },
	  AN_TLSRPT_VALID, 1, NO_CODES, CLEAN },
	/* RFC 8460 §3: a long bad URI is quoted, cut, in the detail */
	{ "bad-uri-300", { V "; rua=http://example.com/" X100 X100 X100 },
	  { 0 }, AN_TLSRPT_INVALID, 0, CODES(AN_F_TLSRPT_RUA_INVALID),
	  NO_CODES },
	/* RFC 8460 §3: n_rua counts every URI, however many */
	{ "forty-uris",
	  { V "; rua=mailto:r@example.com" U10 U10 U10 U1 U1 U1 U1 U1 U1 U1 U1
	    U1 },
	  { 0 }, AN_TLSRPT_VALID, 40, NO_CODES, CLEAN },
};

static void load(const struct row *r, struct an_bytes *rr, size_t *n)
{
	*n = 0;
	while (*n < MAX_RR && r->txt[*n] != NULL) {
		rr[*n].data = (const uint8_t *)r->txt[*n];
		rr[*n].len = r->len[*n] != 0 ? r->len[*n] : strlen(r->txt[*n]);
		(*n)++;
	}
}

static void check_row(const struct row *r)
{
	struct an_bytes rr[MAX_RR];
	struct an_tlsrpt rpt;
	struct an_findings f;
	size_t n;

	load(r, rr, &n);
	an_findings_init(&f);
	assert_int_equal(an_tlsrpt_parse(rr, n, &rpt, &f), ST_OK);
	if (rpt.status != r->status || rpt.n_rua != r->n_rua)
		print_error("row %s: status %s n_rua %zu\n", r->name,
			    an_tlsrpt_status_name(rpt.status), rpt.n_rua);
	assert_int_equal(rpt.status, r->status);
	assert_int_equal(rpt.n_rua, r->n_rua);
	assert_int_equal(rpt.n_mailto + rpt.n_https, rpt.n_rua);
	for (size_t i = 0; i < MAX_CODES && r->has[i] != END; i++) {
		if (!an_findings_has(&f, r->has[i]))
			print_error("row %s: missing %s\n", r->name,
				    an_code_info(r->has[i])->name);
		assert_true(an_findings_has(&f, r->has[i]));
	}
	for (size_t i = 0; i < MAX_CODES && r->lacks[i] != END; i++) {
		if (an_findings_has(&f, r->lacks[i]))
			print_error("row %s: unexpected %s\n", r->name,
				    an_code_info(r->lacks[i])->name);
		assert_false(an_findings_has(&f, r->lacks[i]));
	}
	/* RFC 8460 §3: the findings this parser emits are all tlsrpt.* */
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(an_code_info(f.item[i].code)->layer,
				 AN_LAYER_TLSRPT);
	assert_int_equal(f.dropped, 0);
}

static void test_table(void **state)
{
	(void)state;
	assert_true(sizeof(rows) / sizeof(rows[0]) >= 35);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* Details quote server bytes: they must stay printable and bounded. */
static void test_details_printable(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct an_bytes rr[MAX_RR];
		struct an_tlsrpt rpt;
		struct an_findings f;
		size_t n;

		load(&rows[i], rr, &n);
		an_findings_init(&f);
		assert_int_equal(an_tlsrpt_parse(rr, n, &rpt, &f), ST_OK);
		for (size_t j = 0; j < f.n; j++) {
			const char *d = f.item[j].detail;
			size_t len = strnlen(d, AN_DETAIL_MAX);

			assert_true(len > 0 && len < AN_DETAIL_MAX);
			for (size_t k = 0; k < len; k++)
				assert_true(d[k] >= 0x20 && d[k] <= 0x7e);
		}
	}
}

static void parse1(const char *s, size_t len, struct an_tlsrpt *rpt,
		   struct an_findings *f)
{
	struct an_bytes rr = { (const uint8_t *)s, len };

	an_findings_init(f);
	assert_int_equal(an_tlsrpt_parse(&rr, 1, rpt, f), ST_OK);
}

static const struct an_finding *find_code(const struct an_findings *f,
					  enum an_code code)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->item[i].code == code)
			return &f->item[i];
	}
	return NULL;
}

/* Header contract: several rua fields are accepted, flagged as a warning. */
static void test_rua_repeated_is_warning(void **state)
{
	static const char s[] = V "; rua=" M "; rua=" M;
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	assert_int_equal(rpt.status, AN_TLSRPT_VALID);
	assert_int_equal(rpt.n_mailto, 2);
	it = find_code(&f, AN_F_TLSRPT_SYNTAX);
	assert_non_null(it);
	assert_int_equal(it->severity, AN_SEV_WARN);
	assert_non_null(strstr(it->detail, "rua"));
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_ERROR), 0);
}

/* RFC 8460 §3: records that do not begin with "v=TLSRPTv1;" are discarded
 * among several, one finding each, and the one left counts. */
static void test_discard_detail(void **state)
{
	struct an_bytes rr[3] = {
		{ (const uint8_t *)V, 10 },
		{ (const uint8_t *)V ";rua=" M, 40 },
		{ (const uint8_t *)V " ", 11 },
	};
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_tlsrpt_parse(rr, 3, &rpt, &f), ST_OK);
	assert_int_equal(rpt.status, AN_TLSRPT_VALID);
	assert_int_equal(rpt.candidates, 1);
	assert_int_equal(rpt.discarded, 2);
	assert_int_equal(f.n, 2);
	it = find_code(&f, AN_F_TLSRPT_DISCARDED);
	assert_non_null(it);
	assert_int_equal(it->severity, AN_SEV_WARN);
	assert_non_null(strstr(it->detail, "\"v=TLSRPTv1\" discarded"));
}

/* RFC 8460 §3: the multiple finding gives the true count, "at least" when
 * the scanner kept only the first records of the RRset. */
static void test_multiple_detail(void **state)
{
	struct an_bytes rr[3] = {
		{ (const uint8_t *)V ";", 11 },
		{ (const uint8_t *)V ";rua=" M, 40 },
		{ (const uint8_t *)V "; x", 13 },
	};
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_tlsrpt_parse(rr, 3, &rpt, &f), ST_OK);
	assert_int_equal(rpt.status, AN_TLSRPT_MULTIPLE);
	assert_int_equal(rpt.candidates, 3);
	it = find_code(&f, AN_F_TLSRPT_MULTIPLE);
	assert_non_null(it);
	assert_string_equal(it->detail,
			    "3 records begin with \"v=TLSRPTv1;\"");
	assert_int_equal(f.n, 1);

	an_findings_init(&f);
	assert_int_equal(an_tlsrpt_parse_total(rr, 3, 500, &rpt, &f), ST_OK);
	assert_int_equal(rpt.status, AN_TLSRPT_MULTIPLE);
	assert_int_equal(rpt.total, 500);
	assert_string_equal(find_code(&f, AN_F_TLSRPT_MULTIPLE)->detail,
			    "at least 3 of 500 TXT records begin with "
			    "\"v=TLSRPTv1;\" (first 3 examined)");

	/* One record kept of two returned: judged as one of several. */
	an_findings_init(&f);
	rr[0] = (struct an_bytes){ (const uint8_t *)V " ;rua=" M, 41 };
	assert_int_equal(an_tlsrpt_parse_total(rr, 1, 2, &rpt, &f), ST_OK);
	assert_int_equal(rpt.status, AN_TLSRPT_ABSENT);
	assert_true(an_findings_has(&f, AN_F_TLSRPT_DISCARDED));
}

/* RFC 8460 §3: the version finding quotes the start of the record. */
static void test_version_detail(void **state)
{
	static const char s[] = "v=TLSRPTv2; rua=" M;
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	assert_int_equal(rpt.status, AN_TLSRPT_ABSENT);
	assert_int_equal(rpt.candidates, 0);
	it = find_code(&f, AN_F_TLSRPT_VERSION);
	assert_non_null(it);
	assert_non_null(strstr(it->detail, "v=TLSRPTv2"));
}

/* RFC 8460 §3: an invalid URI is quoted, and a long one cut. */
static void test_rua_invalid_detail(void **state)
{
	static const char s[] = V "; rua=http://example.com/" X100 X100 X100;
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	it = find_code(&f, AN_F_TLSRPT_RUA_INVALID);
	assert_non_null(it);
	assert_non_null(strstr(it->detail, "\"http://example.com/aaa"));
	assert_non_null(strstr(it->detail, "..."));
	assert_true(strlen(it->detail) < AN_DETAIL_MAX);
}

/* RFC 8460 §3: every problem is reported, not only the first. */
static void test_every_problem_reported(void **state)
{
	static const char s[] = V ";; _x=1; rua=http://a.example/,"
				"mailto:b@example.com; y=a=b; z";
	struct an_tlsrpt rpt;
	struct an_findings f;
	size_t syntax = 0;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	assert_int_equal(rpt.status, AN_TLSRPT_INVALID);
	assert_int_equal(rpt.n_rua, 1);
	for (size_t i = 0; i < f.n; i++)
		syntax += f.item[i].code == AN_F_TLSRPT_SYNTAX;
	assert_int_equal(syntax, 4); /* ";;", "_x", "a=b", "z" */
	assert_true(an_findings_has(&f, AN_F_TLSRPT_RUA_INVALID));
}

/* RFC 8460 §3: a syntax detail names the offset of the problem. */
static void test_syntax_detail_offset(void **state)
{
	static const char s[] = V "; rua=" M ";;";
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	it = find_code(&f, AN_F_TLSRPT_SYNTAX);
	assert_non_null(it);
	assert_non_null(strstr(it->detail, "offset 42"));
}

/* RFC 8460 §3: NUL and non-ASCII bytes are named with their offset. */
static void test_nul_detail(void **state)
{
	static const char s[] = NUL_EXT;
	struct an_tlsrpt rpt;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	it = find_code(&f, AN_F_TLSRPT_SYNTAX);
	assert_non_null(it);
	assert_non_null(strstr(it->detail, "NUL"));
	assert_non_null(strstr(it->detail, "offset 46"));
	/* Reported once, not again as a bad ext-value byte. */
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_INFO), 1);
}

/* RFC 8460 §3: a control byte in a field name is one problem, one finding. */
static void test_raw_byte_in_name(void **state)
{
	static const char s[] = V "; rua=" M "; x\x01y=1";
	struct an_tlsrpt rpt;
	struct an_findings f;

	(void)state;
	parse1(s, sizeof(s) - 1, &rpt, &f);
	assert_int_equal(rpt.status, AN_TLSRPT_INVALID);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.item[0].code, AN_F_TLSRPT_SYNTAX);
	assert_non_null(strstr(f.item[0].detail, "control byte 0x01"));
}

/* Findings are appended, never reset; the result is always filled. */
static void test_appends_and_fills(void **state)
{
	static const char s[] = V "; rua=" M;
	struct an_bytes rr = { (const uint8_t *)s, sizeof(s) - 1 };
	struct an_tlsrpt rpt;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	an_findings_add(&f, AN_F_STS_NONE, "earlier");
	memset(&rpt, 0xa5, sizeof(rpt));
	assert_int_equal(an_tlsrpt_parse(&rr, 1, &rpt, &f), ST_OK);
	assert_int_equal(f.n, 1);
	assert_int_equal(rpt.status, AN_TLSRPT_VALID);
	assert_int_equal(rpt.candidates, 1);
	assert_int_equal(rpt.n_mailto, 1);
	assert_int_equal(rpt.n_https, 0);
	memset(&rpt, 0xa5, sizeof(rpt));
	assert_int_equal(an_tlsrpt_parse(NULL, 0, &rpt, &f), ST_OK);
	assert_int_equal(rpt.status, AN_TLSRPT_ABSENT);
	assert_int_equal(rpt.n_rua, 0);
}

static void test_einval(void **state)
{
	struct an_bytes rr = { (const uint8_t *)V, 10 };
	struct an_bytes null_rr = { NULL, 3 };
	struct an_tlsrpt rpt;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_tlsrpt_parse(&rr, 1, NULL, &f), ST_EINVAL);
	memset(&rpt, 0xa5, sizeof(rpt));
	assert_int_equal(an_tlsrpt_parse(&rr, 1, &rpt, NULL), ST_EINVAL);
	assert_int_equal(rpt.status, AN_TLSRPT_ABSENT);
	assert_int_equal(rpt.candidates, 0);
	assert_int_equal(an_tlsrpt_parse(NULL, 1, &rpt, &f), ST_EINVAL);
	assert_int_equal(an_tlsrpt_parse(&null_rr, 1, &rpt, &f), ST_EINVAL);
	assert_int_equal(f.n, 0);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(an_tlsrpt_status_name(AN_TLSRPT_ABSENT), "absent");
	assert_string_equal(an_tlsrpt_status_name(AN_TLSRPT_VALID), "valid");
	assert_string_equal(an_tlsrpt_status_name(AN_TLSRPT_MULTIPLE),
			    "multiple");
	assert_string_equal(an_tlsrpt_status_name(AN_TLSRPT_INVALID),
			    "invalid");
	assert_string_equal(an_tlsrpt_status_name((enum an_tlsrpt_status)99),
			    "unknown");
}

struct uri_row {
	const char *uri; /* RFC reference in the comment of each row */
	bool valid;
	enum an_rua_scheme scheme;
};

#define OK(u, sch) { u, true, AN_RUA_##sch }
#define BAD(u) { u, false, AN_RUA_MAILTO }

static const struct uri_row uri_rows[] = {
	OK("mailto:a@example.com", MAILTO), /* RFC 6068 §2 */
	OK("MailTo:a@example.com", MAILTO), /* RFC 3986 §3.1 */
	OK("mailto:a.b+c@mx-1.example", MAILTO), /* RFC 6068 §2 */
	OK("mailto:a%40b@example.com", MAILTO), /* RFC 6068 §2 */
	OK("mailto:a@localhost", MAILTO), /* RFC 1123 §2.1 */
	/* RFC 1035 §2.3.4: labels of 63 octets or less */
	OK("mailto:a@" X10 X10 X10 X10 X10 X10 "aaa.example", MAILTO),
	BAD("mailto:a@" X10 X10 X10 X10 X10 X10 "aaaa.example"),
	BAD("mailto:a%4@example.com"), /* RFC 3986 §2.1 */
	BAD("mailto:a%4g@example.com"), /* RFC 3986 §2.1 */
	BAD("mailto:a b@example.com"), /* RFC 6068 §2 */
	BAD("mailto:a@b@example.com"), /* RFC 6068 §2 */
	BAD("mailto:a@example..com"), /* RFC 1035 §2.3.1 */
	BAD("mailto:a@-example.com"), /* RFC 1123 §2.1 */
	BAD("mailto:a@example-.com"), /* RFC 1123 §2.1 */
	BAD("mailto:a@example.com."), /* RFC 5321 §4.1.2 */
	BAD("mailto:a@exa_mple.com"), /* RFC 1123 §2.1 */
	/* RFC 6068 §2: hfields are legal in mailto:, not taken in a rua */
	BAD("mailto:a@example.com?subject=x"),
	BAD("mailto:"), /* RFC 6068 §2 */
	BAD("mailto"), /* RFC 3986 §3.1 */
	OK("https://example.com", HTTPS), /* RFC 3986 §3.2 */
	OK("https://example.com/", HTTPS), /* RFC 3986 §3.3 */
	OK("https://example.com:443", HTTPS), /* RFC 3986 §3.2.3 */
	OK("https://example.com:65535/", HTTPS), /* RFC 3986 §3.2.3 */
	BAD("https://example.com:65536/"), /* RFC 793 §3.1 */
	BAD("https://example.com:/"), /* RFC 3986 §3.2.3: 1-5 digits */
	OK("https://example.com?q=1&r=%2C", HTTPS), /* RFC 3986 §3.4 */
	OK("https://example.com/a@b:c/~d!$'()*+=", HTTPS), /* RFC 3986 §3.3 */
	BAD("https://example.com/a#frag"), /* RFC 3986 §3.5: not taken */
	BAD("https://example.com/a%zz"), /* RFC 3986 §2.1 */
	OK("https://[::1]:8443/r", HTTPS), /* RFC 3986 §3.2.2 */
	OK("https://[::ffff:192.0.2.1]/", HTTPS), /* RFC 4291 §2.5.5 */
	BAD("https://[::1"), /* RFC 3986 §3.2.2 */
	BAD("https://[]/"), /* RFC 3986 §3.2.2 */
	BAD("https://[1::2::3]/"), /* RFC 4291 §2.2 */
	BAD("https://[fe80::1%25eth0]/"), /* RFC 6874 §2: not taken */
	BAD("https://[::1]x/"), /* RFC 3986 §3.2 */
	BAD("https://user@example.com/"), /* RFC 3986 §3.2.1: not taken */
	BAD("https://"), /* RFC 3986 §3.2.2 */
	BAD("https:example.com"), /* RFC 3986 §3.2: needs "//" */
	BAD("http://example.com/"), /* RFC 8460 §3 */
	BAD("ftp://example.com/"), /* RFC 8460 §3 */
	BAD(""), /* RFC 3986 §3 */
};

static void test_uri_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(uri_rows) / sizeof(uri_rows[0]); i++) {
		const struct uri_row *r = &uri_rows[i];
		enum an_rua_scheme sch = (enum an_rua_scheme)-1;
		bool ok = an_tlsrpt_uri_valid(r->uri, strlen(r->uri), &sch);

		if (ok != r->valid)
			print_error("uri %s: got %d\n", r->uri, ok);
		assert_int_equal(ok, r->valid);
		if (r->valid)
			assert_int_equal(sch, r->scheme);
		else
			assert_int_equal(sch, (enum an_rua_scheme)-1);
	}
}

/* The validator reads only len bytes: no NUL terminator is needed, and an
 * embedded NUL is just an invalid byte. */
static void test_uri_bounds(void **state)
{
	static const char nul[] = "mailto:a@exa\0mple.com";
	static const char v6[] = "https://[::1\0]/";
	enum an_rua_scheme sch;

	(void)state;
	assert_true(an_tlsrpt_uri_valid("mailto:a@example.comXXXX", 20, &sch));
	assert_false(an_tlsrpt_uri_valid("mailto:a@example.com", 9, &sch));
	assert_false(an_tlsrpt_uri_valid(nul, sizeof(nul) - 1, &sch));
	assert_false(an_tlsrpt_uri_valid(v6, sizeof(v6) - 1, &sch));
	assert_false(an_tlsrpt_uri_valid("https://a.example/%2", 20, &sch));
	assert_false(an_tlsrpt_uri_valid(NULL, 0, &sch));
	assert_true(an_tlsrpt_uri_valid("https://a.example", 17, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_details_printable),
		cmocka_unit_test(test_rua_repeated_is_warning),
		cmocka_unit_test(test_discard_detail),
		cmocka_unit_test(test_multiple_detail),
		cmocka_unit_test(test_version_detail),
		cmocka_unit_test(test_rua_invalid_detail),
		cmocka_unit_test(test_every_problem_reported),
		cmocka_unit_test(test_syntax_detail_offset),
		cmocka_unit_test(test_nul_detail),
		cmocka_unit_test(test_raw_byte_in_name),
		cmocka_unit_test(test_appends_and_fills),
		cmocka_unit_test(test_einval),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_uri_valid),
		cmocka_unit_test(test_uri_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
