/*
 * test_an_mx.c - MX pattern matching (RFC 8461 §4.1) and pattern syntax
 * (RFC 8461 §3.2), one table row per rule or edge case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "an_mx.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Long names built from literals so sizeof gives their exact length. */
#define L10 "abcdefghij"
#define L61 L10 L10 L10 L10 L10 L10 "a"
#define L62 L61 "b"
#define L63 L62 "c"
#define L64 L63 "d"
/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes; one more is 254. */
#define N253 L63 "." L63 "." L63 "." L61
#define N254 L63 "." L63 "." L63 "." L62
/* "*." + 251 = 253 bytes. */
#define W253 "*." L63 "." L63 "." L63 "." L59
#define L59 L10 L10 L10 L10 L10 "abcdefghi"

/* ---- an_mx_match ------------------------------------------------------ */

struct match_row {
	const char *pattern;
	size_t plen;
	const char *host;
	size_t hlen;
	bool expected;
};

/* Lengths come from sizeof, so a literal with an embedded NUL is passed
 * whole. */
#define M(p, h, e) { p, sizeof(p) - 1, h, sizeof(h) - 1, e }
#define ML(p, pl, h, hl, e) { p, pl, h, hl, e }

static const struct match_row match_rows[] = {
	/* RFC 8461 §4.1: an exact pattern matches the identical name */
	M("mx1.example.com", "mx1.example.com", true),
	M("mx1.example.com", "mx2.example.com", false),
	/* RFC 8461 §4.1 + RFC 4343 §3: case-insensitive, both directions */
	M("MX1.Example.COM", "mx1.example.com", true),
	M("mx1.example.com", "MX1.EXAMPLE.COM", true),
	/* RFC 1034 §3.1: one trailing dot (FQDN form) is ignored */
	M("mx1.example.com", "mx1.example.com.", true),
	M("mx1.example.com.", "mx1.example.com", true),
	M("mx1.example.com.", "MX1.example.com.", true),
	/* only one trailing dot is stripped */
	M("mx1.example.com", "mx1.example.com..", false),
	M("mx1.example.com..", "mx1.example.com", false),
	/* RFC 8461 §4.1: "*." matches exactly one leftmost label */
	M("*.example.com", "mx1.example.com", true),
	M("*.example.com", "example.com", false),
	M("*.example.com", "a.b.example.com", false),
	M("*.example.com", ".example.com", false),
	M("*.example.com", "mx1.EXAMPLE.com.", true),
	M("*.EXAMPLE.COM.", "mx1.example.com", true),
	M("*.example.com", "mx1example.com", false),
	M("*.example.com", "mx1.example.com.evil", false),
	M("*.example.com", "mx1.example.org", false),
	/* matching does not validate syntax: any one non-empty label */
	M("*.example.com", "_x.example.com", true),
	/* RFC 8461 §4.1: wildcard over a single-label parent */
	M("*.com", "example.com", true),
	M("*.com", "a.example.com", false),
	M("*.com", "com", false),
	/* RFC 8461 §4.1: a bare "*" or "*." is a wildcard over nothing */
	M("*", "a", false),
	M("*", "*", false),
	M("*.", "a.", false),
	M("*.", "*.", false),
	M("*", "a..", false),
	M("*.", "a..", false),
	/* a '*' not forming the leftmost label is no wildcard */
	M("mail*.example.com", "mail1.example.com", false),
	M("a.*.example.com", "a.b.example.com", false),
	/* header: an empty host or pattern never matches */
	M("", "", false),
	M("", "mx1.example.com", false),
	M("mx1.example.com", "", false),
	M(".", ".", false),
	M("*.example.com", ".", false),
	/* RFC 8461 §4.1: whole-name comparison, never suffix/prefix */
	M("mail.example.com", "mail.example.co", false),
	M("mail.example.com", "ail.example.com", false),
	M("example.com", "mail.example.com", false),
	M("mx1.example.com.evil", "mx1.example.com", false),
	/* lengths, not NULs, bound the strings */
	M("a\0b.example", "a\0b.example", true),
	M("a\0b.example", "a\0c.example", false),
	M("mx1.example.com", "mx1.example.com\0", false),
	ML("mx1.example.comXYZ", 15, "mx1.example.com", 15, true),
	ML("mx1.example.com", 15, "mx1.example.comXYZ", 18, false),
	ML("*.example.com", 13, "mx1.example.com.evil", 15, true),
	/* ASCII fold only: bytes next to A-Z and bytes >= 0x80 are exact */
	M("a@b.example", "a`b.example", false),
	M("a[b.example", "a{b.example", false),
	M("b\xc3\xbc" "cher.example", "B\xc3\xbc" "CHER.example", true),
	M("b\xc3\x9c" "cher.example", "b\xc3\xbc" "cher.example", false),
	M("\xc4.example", "\xe4.example", false),
	M("*.example", "\xc3\xbc.example", true),
};

static bool has_nul(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static void test_match_table(void **state)
{
	const struct match_row *r;
	bool got;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(match_rows); i++) {
		r = &match_rows[i];
		got = an_mx_match(r->pattern, r->plen, r->host, r->hlen);
		if (got != r->expected)
			fail_msg("row %zu: match(\"%.*s\", \"%.*s\") = %d", i,
				 (int)r->plen, r->pattern, (int)r->hlen,
				 r->host, got);
		/* the NUL-terminated form agrees whenever it can express
		 * the row */
		if (has_nul(r->pattern, r->plen) || has_nul(r->host, r->hlen) ||
		    strlen(r->pattern) != r->plen ||
		    strlen(r->host) != r->hlen)
			continue;
		got = an_mx_match_str(r->pattern, r->host);
		if (got != r->expected)
			fail_msg("row %zu: match_str(\"%s\", \"%s\") = %d", i,
				 r->pattern, r->host, got);
	}
	assert_true(ARRAY_LEN(match_rows) >= 30);
}

static void test_match_null(void **state)
{
	(void)state;
	assert_false(an_mx_match(NULL, 0, "a.example", 9));
	assert_false(an_mx_match("a.example", 9, NULL, 0));
	assert_false(an_mx_match_str(NULL, "a.example"));
	assert_false(an_mx_match_str("a.example", NULL));
	assert_true(an_mx_match_str("a.example", "A.EXAMPLE."));
}

/* ---- an_mx_pattern_valid ---------------------------------------------- */

struct syntax_row {
	const char *name;
	size_t len;
	bool valid;
	bool trailing;
	const char *why;	/* expected reason when !valid */
};

#define OK(n) { n, sizeof(n) - 1, true, false, NULL }
#define OKDOT(n) { n, sizeof(n) - 1, true, true, NULL }
#define BAD(n, w) { n, sizeof(n) - 1, false, false, w }
#define BADDOT(n, w) { n, sizeof(n) - 1, false, true, w }

#define WHY_WILD "wildcard not the whole leftmost label"
#define WHY_IP "IP literal, not a host name"
#define WHY_EMPTYL "empty label"
#define WHY_CHAR "invalid character"
#define WHY_TLD "top-level label is all digits"

static const struct syntax_row syntax_rows[] = {
	/* RFC 8461 §3.2 mx = host name (RFC 5321 §4.1.2 Domain) */
	OK("mx1.example.com"),
	OK("MX1.EXAMPLE.COM"),
	OK("mx-1.example.com"),
	/* RFC 1123 §2.1: a label may start with a digit */
	OK("123.example.com"),
	/* RFC 8461 §3.2: "*." as the whole leftmost label */
	OK("*.example.com"),
	OK("*.com"),
	/* one trailing dot is accepted and reported */
	OKDOT("mx1.example.com."),
	OKDOT("*.example.com."),
	/* RFC 5321 §4.1.2: a single-label Domain is syntactically fine */
	OK("localhost"),
	/* RFC 5890 §2.3.2.1: A-labels are LDH */
	OK("xn--bcher-kva.example"),
	/* RFC 8461 §3.2/§4.1: '*' only as the whole leftmost label */
	BAD("*.*.example.com", WHY_WILD),
	BAD("mail.*.example.com", WHY_WILD),
	BAD("a.*.example.com", WHY_WILD),
	BAD("*mail.example.com", WHY_WILD),
	BAD("*example.com", WHY_WILD),
	BAD("mail*.example.com", WHY_WILD),
	BAD("**.example.com", WHY_WILD),
	BAD("*", "wildcard without a domain"),
	BADDOT("*.", "wildcard without a domain"),
	/* RFC 8461 §3.2: host names, never address literals */
	BAD("192.0.2.1", WHY_IP),
	BADDOT("192.0.2.1.", WHY_IP),
	BAD("[192.0.2.1]", WHY_IP),
	BAD("[IPv6:2001:db8::1]", WHY_IP),
	BAD("2001:db8::1", WHY_CHAR),
	/* RFC 5321 §4.1.2: LDH only; '_' is not a host name character */
	BAD("exa_mple.com", "underscore not allowed in a host name"),
	BAD("_mta-sts.example.com", "underscore not allowed in a host name"),
	BAD("mx 1.example.com", WHY_CHAR),
	BAD("mx1.example.com\0evil", WHY_CHAR),
	/* RFC 5321 §4.1.2 Ldh-str: no leading or trailing hyphen */
	BAD("-mx.example.com", "label starts with a hyphen"),
	BAD("mx-.example.com", "label ends with a hyphen"),
	/* RFC 1035 §2.3.4: labels 1 to 63 bytes */
	OK(L63 ".example.com"),
	BAD(L64 ".example.com", "label longer than 63 bytes"),
	/* RFC 1035 §2.3.4: at most 253 bytes without the trailing dot */
	OK(N253),
	OKDOT(N253 "."),
	OK(W253),
	BAD(N254, "name longer than 253 bytes"),
	BADDOT(N254 ".", "name longer than 253 bytes"),
	/* empty labels */
	BAD("mx..example.com", WHY_EMPTYL),
	BAD(".example.com", WHY_EMPTYL),
	BADDOT("mx1.example.com..", WHY_EMPTYL),
	BADDOT(".", "lone dot, no host name"),
	BADDOT("..", WHY_EMPTYL),
	BAD("", "empty"),
	/* header: no U-labels; raw UTF-8 is not an A-label */
	BAD("b\xc3\xbc" "cher.example", "non-ASCII (U-label?)"),
	/* RFC 3696 §2: a TLD is never all-numeric */
	BAD("mx1.example.123", WHY_TLD),
	BAD("123", WHY_TLD),
	BAD("1.2.3.4.5", WHY_TLD),
	BAD("*.0.2.1", WHY_TLD),
};

static void test_syntax_table(void **state)
{
	const struct syntax_row *r;
	const char *why;
	bool got, dot;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(syntax_rows); i++) {
		r = &syntax_rows[i];
		dot = !r->trailing;	/* must be overwritten */
		why = "unset";
		got = an_mx_pattern_valid(r->name, r->len, &dot, &why);
		if (got != r->valid)
			fail_msg("row %zu: valid(\"%.*s\") = %d (%s)", i,
				 (int)r->len, r->name, got,
				 why != NULL ? why : "-");
		if (dot != r->trailing)
			fail_msg("row %zu: trailing_dot(\"%.*s\") = %d", i,
				 (int)r->len, r->name, dot);
		if (!r->valid) {
			assert_non_null(why);
			if (strcmp(why, r->why) != 0)
				fail_msg("row %zu: why(\"%.*s\") = \"%s\", "
					 "want \"%s\"", i, (int)r->len,
					 r->name, why, r->why);
		}
	}
	assert_true(ARRAY_LEN(syntax_rows) >= 30);
}

static void test_syntax_optional_outputs(void **state)
{
	(void)state;
	/* header: trailing_dot and why may be NULL */
	assert_true(an_mx_pattern_valid("mx.example.com.", 15, NULL, NULL));
	assert_false(an_mx_pattern_valid("mx..example.com", 15, NULL, NULL));
	assert_false(an_mx_pattern_valid(NULL, 0, NULL, NULL));
	/* the length bounds the name: trailing garbage is not read */
	assert_true(an_mx_pattern_valid("mx1.example.com_X", 15, NULL, NULL));
}

/* ---- an_mx_coverage --------------------------------------------------- */

static const char *const cov_hosts[] = {
	"mx1.example.com",
	"MX2.Example.NET.",
	"mx.other.org",
};

static void test_coverage_basic(void **state)
{
	/* RFC 8461 §4.1: hosts 0 and 1 are covered, host 2 is not */
	static const char *const pats[] = { "*.example.com",
					    "mx2.example.net" };
	bool covered[3] = { false, false, true };
	bool used[2] = { false, false };
	size_t n;

	(void)state;
	n = an_mx_coverage(pats, 2, cov_hosts, 3, covered, used);
	assert_int_equal(n, 2);
	assert_true(covered[0]);
	assert_true(covered[1]);
	assert_false(covered[2]);
	assert_true(used[0]);
	assert_true(used[1]);
}

static void test_coverage_unused_pattern(void **state)
{
	/* one pattern matches nothing; one host is matched by both */
	static const char *const pats[] = { "mail.unused.org",
					    "mx1.example.com",
					    "*.example.com" };
	bool covered[3] = { true, true, true };
	bool used[3] = { true, true, true };
	size_t n;

	(void)state;
	n = an_mx_coverage(pats, 3, cov_hosts, 3, covered, used);
	assert_int_equal(n, 1);
	assert_true(covered[0]);
	assert_false(covered[1]);
	assert_false(covered[2]);
	assert_false(used[0]);
	assert_true(used[1]);
	assert_true(used[2]);
}

static void test_coverage_null_used(void **state)
{
	static const char *const pats[] = { "*.example.com",
					    "mx2.example.net" };
	bool covered[3] = { false, false, true };
	size_t n;

	(void)state;
	n = an_mx_coverage(pats, 2, cov_hosts, 3, covered, NULL);
	assert_int_equal(n, 2);
	assert_true(covered[0]);
	assert_true(covered[1]);
	assert_false(covered[2]);
}

static void test_coverage_no_patterns(void **state)
{
	bool covered[3] = { true, true, true };
	size_t n;

	(void)state;
	n = an_mx_coverage(NULL, 0, cov_hosts, 3, covered, NULL);
	assert_int_equal(n, 0);
	assert_false(covered[0]);
	assert_false(covered[1]);
	assert_false(covered[2]);
}

static void test_coverage_no_hosts(void **state)
{
	static const char *const pats[] = { "*.example.com",
					    "mx2.example.net" };
	bool used[2] = { true, true };
	size_t n;

	(void)state;
	n = an_mx_coverage(pats, 2, NULL, 0, NULL, used);
	assert_int_equal(n, 0);
	assert_false(used[0]);
	assert_false(used[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_null),
		cmocka_unit_test(test_syntax_table),
		cmocka_unit_test(test_syntax_optional_outputs),
		cmocka_unit_test(test_coverage_basic),
		cmocka_unit_test(test_coverage_unused_pattern),
		cmocka_unit_test(test_coverage_null_used),
		cmocka_unit_test(test_coverage_no_patterns),
		cmocka_unit_test(test_coverage_no_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
