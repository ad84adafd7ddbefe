/*
 * test_an_generate.c - the generated TXT record (RFC 8461 §3.1) and policy
 * body (RFC 8461 §3.2), checked byte for byte and by parsing them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_generate.h"
#include "an_policy.h"
#include "an_sts_record.h"
#include "st_error.h"

#define NOW 1795587480 /* 2026-11-25 06:18:00 UTC */
#define NOW_ID "20261125T061800"
#define POLICY_BUF 8192
#define MAX_MX 6 /* five names and the NULL */

/* The size of a string literal's bytes without its NUL. */
#define LIT_LEN(s) (sizeof(s) - 1)

static const char *const two_mx[] = { "mx1.example.com",
				      "*.mail.example.net" };

#define TWO_MX_POLICY                                                       \
	"version: STSv1\n"                                                  \
	"mode: enforce\n"                                                   \
	"mx: mx1.example.com\n"                                             \
	"mx: *.mail.example.net\n"                                          \
	"max_age: 604800\n"

#define TWO_MX_TXT "v=STSv1; id=" NOW_ID ";"

static size_t count_mx(const char *const *mx)
{
	size_t n = 0;

	while (mx[n] != NULL)
		n++;
	return n;
}

/* Generate and compare both outputs with the expected strings whole. */
static void expect_output(const struct an_gen_request *req, const char *txt,
			  const char *policy)
{
	char t[AN_GEN_TXT_MAX], p[POLICY_BUF];
	size_t plen = 12345;

	assert_int_equal(an_generate(req, t, sizeof(t), p, sizeof(p), &plen),
			 ST_OK);
	assert_string_equal(t, txt);
	assert_string_equal(p, policy);
	assert_int_equal(plen, strlen(policy));
}

static int gen_err(const struct an_gen_request *req)
{
	char t[AN_GEN_TXT_MAX], p[POLICY_BUF];
	size_t plen = 12345;
	int ret;

	memset(t, 'x', sizeof(t));
	memset(p, 'x', sizeof(p));
	ret = an_generate(req, t, sizeof(t), p, sizeof(p), &plen);
	if (ret != ST_OK) {
		/* A failure leaves empty strings, not half an output. */
		assert_string_equal(t, "");
		assert_string_equal(p, "");
		assert_int_equal(plen, 0);
	}
	return ret;
}

/* RFC 8461 §3.1/§3.2: the exact bytes for a fixed time and request. */
static void test_fixed_now(void **state)
{
	struct an_gen_request req = {
		.mx = two_mx, .n_mx = 2, .mode = AN_MODE_ENFORCE,
		.max_age = 604800, .now = NOW,
	};

	(void)state;
	expect_output(&req, TWO_MX_TXT, TWO_MX_POLICY);
	assert_int_equal(LIT_LEN(TWO_MX_TXT), 28);
	assert_int_equal(LIT_LEN(TWO_MX_POLICY), 88);
}

/* RFC 8461 §3.1: the id is 15 letters and digits; the epoch and the last
 * second of year 9999 are the ends of the supported range. */
static void test_id_range(void **state)
{
	struct an_gen_request req = {
		.mx = two_mx, .n_mx = 1, .mode = AN_MODE_TESTING,
		.max_age = 86400, .now = 0,
	};
	const char *pol = "version: STSv1\nmode: testing\n"
			  "mx: mx1.example.com\nmax_age: 86400\n";

	(void)state;
	expect_output(&req, "v=STSv1; id=19700101T000000;", pol);
	req.now = (time_t)253402300799;
	expect_output(&req, "v=STSv1; id=99991231T235959;", pol);
	/* Year 10000 would make a 16-character id: refused, not guessed. */
	req.now = (time_t)253402300800;
	assert_int_equal(gen_err(&req), ST_ERANGE);
	/* Year 999 and BC years: %Y would drop a digit or add a '-'. */
	req.now = (time_t)-30610224001;
	assert_int_equal(gen_err(&req), ST_ERANGE);
	req.now = (time_t)-30610224000;
	expect_output(&req, "v=STSv1; id=10000101T000000;", pol);
}

/* RFC 4343 §3 / RFC 8461 §4.1: names are case-insensitive and a trailing
 * dot changes nothing, so the generator writes the canonical form. */
static void test_lowercase_trailing_dot(void **state)
{
	static const char *const mx[] = { "MX1.Example.COM.",
					   "*.MAIL.example.NET.", "Mx-2.ex.org" };
	struct an_gen_request req = {
		.mx = mx, .n_mx = 3, .mode = AN_MODE_ENFORCE,
		.max_age = 604800, .now = NOW,
	};

	(void)state;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: enforce\n"
		      "mx: mx1.example.com\nmx: *.mail.example.net\n"
		      "mx: mx-2.ex.org\nmax_age: 604800\n");
	/* The caller's strings are not modified. */
	assert_string_equal(mx[0], "MX1.Example.COM.");
}

/* RFC 8461 §3.2: repeated mx lines add nothing; first occurrence order. */
static void test_duplicates(void **state)
{
	static const char *const mx[] = {
		"mx2.example.com", "mx1.example.com", "MX2.example.com.",
		"mx1.EXAMPLE.com", "*.example.com", "*.Example.Com.",
		"mx2.example.com",
	};
	struct an_gen_request req = {
		.mx = mx, .n_mx = 7, .mode = AN_MODE_TESTING,
		.max_age = 86400, .now = NOW,
	};

	(void)state;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: testing\n"
		      "mx: mx2.example.com\nmx: mx1.example.com\n"
		      "mx: *.example.com\nmax_age: 86400\n");
}

/* RFC 8461 §3.2/§4.1: "*." as the whole leftmost label is a pattern. */
static void test_wildcard(void **state)
{
	static const char *const mx[] = { "*.mail.example.net" };
	struct an_gen_request req = {
		.mx = mx, .n_mx = 1, .mode = AN_MODE_ENFORCE,
		.max_age = 31557600, .now = NOW,
	};

	(void)state;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: enforce\n"
		      "mx: *.mail.example.net\nmax_age: 31557600\n");
}

/* RFC 8461 §3.2: mode none needs no mx; given names are still written. */
static void test_mode_none(void **state)
{
	static const char *const mx[] = { "MX.example.com." };
	struct an_gen_request req = {
		.mx = NULL, .n_mx = 0, .mode = AN_MODE_NONE,
		.max_age = 86400, .now = NOW,
	};

	(void)state;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: none\nmax_age: 86400\n");
	req.mx = mx;
	req.n_mx = 1;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: none\nmx: mx.example.com\n"
		      "max_age: 86400\n");
	/* An empty but non-NULL list is fine too. */
	req.n_mx = 0;
	expect_output(&req, TWO_MX_TXT,
		      "version: STSv1\nmode: none\nmax_age: 86400\n");
}

struct bad_row {
	const char *name;
	enum an_mode mode;
	uint64_t max_age;
	const char *mx[3]; /* NULL-terminated */
	int ret;
};

static const struct bad_row bad_rows[] = {
	/* §3.2: mode is "enforce" / "testing" / "none" */
	{ "mode 99", (enum an_mode)99, 86400, { "mx.example.com" }, ST_EINVAL },
	/* §3.2: there is no "unset" mode to publish */
	{ "mode unset", AN_MODE_UNSET, 86400, { "mx.example.com" }, ST_EINVAL },
	/* §3.2: max_age 0 would expire the policy at once */
	{ "max_age 0", AN_MODE_ENFORCE, 0, { "mx.example.com" }, ST_EINVAL },
	/* §3.2: max_age at most 31557600 */
	{ "max_age 31557601", AN_MODE_ENFORCE, 31557601, { "mx.example.com" },
	  ST_EINVAL },
	/* §3.2: max_age far past 10 digits */
	{ "max_age huge", AN_MODE_TESTING, UINT64_MAX, { "mx.example.com" },
	  ST_EINVAL },
	/* §3.2: enforce needs at least one mx */
	{ "enforce no mx", AN_MODE_ENFORCE, 86400, { NULL }, ST_EINVAL },
	/* §3.2: testing needs at least one mx */
	{ "testing no mx", AN_MODE_TESTING, 86400, { NULL }, ST_EINVAL },
	/* §3.2: mx is a host name, not an address */
	{ "ip address", AN_MODE_ENFORCE, 86400, { "192.0.2.1" }, ST_EINVAL },
	/* §3.2: the wildcard is only the whole leftmost label */
	{ "double wildcard", AN_MODE_ENFORCE, 86400, { "*.*.example.com" },
	  ST_EINVAL },
	/* §3.2 (RFC 5321 Domain): no '_' in a host name */
	{ "underscore", AN_MODE_ENFORCE, 86400, { "exa_mple.com" }, ST_EINVAL },
	/* §3.2: a bad name anywhere in the list fails the request */
	{ "second bad", AN_MODE_ENFORCE, 86400,
	  { "mx.example.com", "mx..example.com" }, ST_EINVAL },
	/* §3.2: mode none still needs valid names when it has names */
	{ "none bad name", AN_MODE_NONE, 86400, { "[192.0.2.1]" }, ST_EINVAL },
	/* §3.2: an empty name is no name */
	{ "empty name", AN_MODE_ENFORCE, 86400, { "" }, ST_EINVAL },
	/* §3.2: a lone dot is the root, not a mail host */
	{ "lone dot", AN_MODE_ENFORCE, 86400, { "." }, ST_EINVAL },
	/* §3.2: two trailing dots are an empty label */
	{ "two dots", AN_MODE_ENFORCE, 86400, { "mx.example.com.." },
	  ST_EINVAL },
};

static void test_bad_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		const struct bad_row *r = &bad_rows[i];
		struct an_gen_request req = {
			.mx = r->mx, .n_mx = count_mx(r->mx), .mode = r->mode,
			.max_age = r->max_age, .now = NOW,
		};

		print_message("row %zu: %s\n", i, r->name);
		assert_int_equal(gen_err(&req), r->ret);
	}
}

static void test_bad_args(void **state)
{
	static const char *const with_null[] = { "mx.example.com", NULL };
	struct an_gen_request req = {
		.mx = two_mx, .n_mx = 1, .mode = AN_MODE_ENFORCE,
		.max_age = 86400, .now = NOW,
	};
	char t[AN_GEN_TXT_MAX], p[256];
	size_t plen;

	(void)state;
	assert_int_equal(an_generate(NULL, t, sizeof(t), p, sizeof(p), &plen),
			 ST_EINVAL);
	assert_int_equal(an_generate(&req, NULL, sizeof(t), p, sizeof(p),
				     &plen), ST_EINVAL);
	assert_int_equal(an_generate(&req, t, sizeof(t), NULL, sizeof(p),
				     &plen), ST_EINVAL);
	assert_int_equal(an_generate(&req, t, sizeof(t), p, sizeof(p), NULL),
			 ST_EINVAL);
	/* mx may be NULL only when there are no names. */
	req.mx = NULL;
	assert_int_equal(gen_err(&req), ST_EINVAL);
	req.mode = AN_MODE_NONE;
	assert_int_equal(gen_err(&req), ST_EINVAL);
	/* A NULL entry inside the list. */
	req.mx = with_null;
	req.n_mx = 2;
	assert_int_equal(gen_err(&req), ST_EINVAL);
}

/* AN_POLICY_MX_MAX distinct names are the most a parser keeps. */
static void test_too_many(void **state)
{
	char names[AN_POLICY_MX_MAX + 2][32];
	const char *mx[AN_POLICY_MX_MAX + 2];
	struct an_gen_request req = {
		.mx = mx, .mode = AN_MODE_ENFORCE, .max_age = 86400, .now = NOW,
	};
	char t[AN_GEN_TXT_MAX], p[POLICY_BUF];
	size_t plen;

	(void)state;
	for (size_t i = 0; i < AN_POLICY_MX_MAX + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "mx%zu.example.com", i);
		mx[i] = names[i];
	}
	/* 64 distinct: fine. */
	req.n_mx = AN_POLICY_MX_MAX;
	assert_int_equal(an_generate(&req, t, sizeof(t), p, sizeof(p), &plen),
			 ST_OK);
	/* 65 distinct: out of range. */
	req.n_mx = AN_POLICY_MX_MAX + 1;
	assert_int_equal(gen_err(&req), ST_ERANGE);
	/* 65 entries but 64 distinct: the duplicate does not count. */
	mx[AN_POLICY_MX_MAX] = "MX0.example.com.";
	assert_int_equal(an_generate(&req, t, sizeof(t), p, sizeof(p), &plen),
			 ST_OK);
	/* 65 distinct and a bad name after them: the bad name is reported. */
	mx[AN_POLICY_MX_MAX] = names[AN_POLICY_MX_MAX];
	mx[AN_POLICY_MX_MAX + 1] = "exa_mple.com";
	req.n_mx = AN_POLICY_MX_MAX + 2;
	assert_int_equal(gen_err(&req), ST_EINVAL);
}

/* Exact sizes: 28 bytes of TXT and 88 of policy, each plus its NUL. */
static void test_space(void **state)
{
	struct an_gen_request req = {
		.mx = two_mx, .n_mx = 2, .mode = AN_MODE_ENFORCE,
		.max_age = 604800, .now = NOW,
	};
	const size_t tneed = LIT_LEN(TWO_MX_TXT) + 1;
	const size_t pneed = LIT_LEN(TWO_MX_POLICY) + 1;
	char t[AN_GEN_TXT_MAX], p[POLICY_BUF];
	size_t plen = 7;

	(void)state;
	assert_int_equal(tneed, 29);
	assert_int_equal(pneed, 89);
	assert_int_equal(an_generate(&req, t, tneed - 1, p, sizeof(p), &plen),
			 ST_ESPACE);
	assert_string_equal(t, "");
	assert_string_equal(p, "");
	assert_int_equal(plen, 0);
	assert_int_equal(an_generate(&req, t, tneed, p, sizeof(p), &plen),
			 ST_OK);
	assert_string_equal(t, TWO_MX_TXT);
	assert_int_equal(an_generate(&req, t, sizeof(t), p, pneed - 1, &plen),
			 ST_ESPACE);
	assert_string_equal(t, "");
	assert_string_equal(p, "");
	assert_int_equal(plen, 0);
	assert_int_equal(an_generate(&req, t, sizeof(t), p, pneed, &plen),
			 ST_OK);
	assert_string_equal(p, TWO_MX_POLICY);
	assert_int_equal(plen, pneed - 1);
	/* Zero-sized buffers are too small, and never written. */
	t[0] = 'x';
	p[0] = 'y';
	assert_int_equal(an_generate(&req, t, 0, p, 0, &plen), ST_ESPACE);
	assert_int_equal(t[0], 'x');
	assert_int_equal(p[0], 'y');
	/* Cut inside an mx line and inside the last line. */
	assert_int_equal(an_generate(&req, t, sizeof(t), p, 40, &plen),
			 ST_ESPACE);
	assert_int_equal(an_generate(&req, t, sizeof(t), p, 80, &plen),
			 ST_ESPACE);
}

struct rt_row {
	const char *name;
	enum an_mode mode;
	uint64_t max_age;
	time_t now;
	const char *id;
	const char *mx[MAX_MX];   /* the request, NULL-terminated */
	const char *want[MAX_MX]; /* the patterns expected back */
};

static const struct rt_row rt_rows[] = {
	/* §3.2: enforce, one host, the recommended week or more */
	{ "enforce 1", AN_MODE_ENFORCE, 604800, NOW, NOW_ID,
	  { "mx.example.com" }, { "mx.example.com" } },
	/* §3.2: max_age at its upper bound, 31557600 */
	{ "max_age max", AN_MODE_ENFORCE, 31557600, 1700000000,
	  "20231114T221320", { "mx1.example.com", "mx2.example.com" },
	  { "mx1.example.com", "mx2.example.com" } },
	/* §3.2: one day, the shortest stsmap does not warn about */
	{ "max_age 86400", AN_MODE_TESTING, 86400, 2147483647,
	  "20380119T031407", { "mail.example.org" }, { "mail.example.org" } },
	/* §3.2: an hour is valid, but warned as short */
	{ "max_age 3600", AN_MODE_ENFORCE, 3600, 4102444800,
	  "21000101T000000", { "*.example.com", "backup.example.net",
	  "mx.example.org" },
	  { "*.example.com", "backup.example.net", "mx.example.org" } },
	/* §3.2: one second, the smallest valid max_age */
	{ "max_age 1", AN_MODE_TESTING, 1, 951782400, "20000229T000000",
	  { "a.example.com" }, { "a.example.com" } },
	/* §3.2: one second under a day */
	{ "max_age 86399", AN_MODE_NONE, 86399, 1234567890, "20090213T233130",
	  { NULL }, { NULL } },
	/* §3.2: mode none, no mx at all */
	{ "none no mx", AN_MODE_NONE, 86400, 0, "19700101T000000", { NULL },
	  { NULL } },
	/* §3.2: mode none keeps the names it was given */
	{ "none with mx", AN_MODE_NONE, 1209600, 1609459199,
	  "20201231T235959", { "MX.Example.com.", "*.backup.example.com" },
	  { "mx.example.com", "*.backup.example.com" } },
	/* §3.2: five names, mixed wildcards */
	{ "enforce 5", AN_MODE_ENFORCE, 1209600, 1000000000,
	  "20010909T014640", { "mx1.example.com", "mx2.example.com",
	  "*.mx.example.net", "relay.example.org", "xn--bcher-kva.example" },
	  { "mx1.example.com", "mx2.example.com", "*.mx.example.net",
	    "relay.example.org", "xn--bcher-kva.example" } },
	/* §3.2 + RFC 4343: five inputs, case and dot duplicates, three left */
	{ "dedup 5", AN_MODE_TESTING, 604800, 1451606400, "20160101T000000",
	  { "MX1.example.com", "mx1.example.com.", "*.Example.com",
	    "*.example.COM.", "mx3.example.com" },
	  { "mx1.example.com", "*.example.com", "mx3.example.com" } },
	/* §4.1: a wildcard and a host it covers are different patterns */
	{ "wildcard and host", AN_MODE_ENFORCE, 86400, NOW, NOW_ID,
	  { "*.example.com", "mx.example.com" },
	  { "*.example.com", "mx.example.com" } },
	/* §3.2 (RFC 5321 Domain): 63-byte label, digits, hyphens */
	{ "long label", AN_MODE_TESTING, 31557600, NOW, NOW_ID,
	  { "a23456789012345678901234567890123456789012345678901234567890123"
	    ".example.com", "1-2.3com.example" },
	  { "a23456789012345678901234567890123456789012345678901234567890123"
	    ".example.com", "1-2.3com.example" } },
	/* §3.2: single-label host name under mode enforce */
	{ "single label", AN_MODE_ENFORCE, 2592000, NOW, NOW_ID,
	  { "LOCALHOST." }, { "localhost" } },
	/* §3.1: the last second a 15-character id can express */
	{ "year 9999", AN_MODE_TESTING, 3600, (time_t)253402300799,
	  "99991231T235959", { "mx.example.com" }, { "mx.example.com" } },
};

/* Every field the parsers report must match the request. */
static void check_round_trip(const struct rt_row *r, const char *t,
			     const char *p, size_t plen)
{
	struct an_bytes rr = { (const uint8_t *)t, strlen(t) };
	struct an_sts_record rec;
	struct an_policy pol;
	struct an_findings f;
	size_t nwant = count_mx(r->want);
	char pat[256];

	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse(&rr, 1, &rec, &f), ST_OK);
	assert_int_equal(rec.status, AN_STS_VALID);
	assert_int_equal(rec.candidates, 1);
	assert_int_equal(rec.other, 0);
	assert_int_equal(rec.extensions, 0);
	assert_string_equal(rec.id, r->id);
	assert_int_equal(f.n, 0);

	an_findings_init(&f);
	assert_int_equal(an_policy_parse((const uint8_t *)p, plen, &pol, &f),
			 ST_OK);
	assert_true(pol.usable);
	assert_true(pol.has_version);
	assert_int_equal(pol.mode, r->mode);
	assert_true(pol.has_max_age);
	assert_int_equal(pol.max_age, r->max_age);
	assert_int_equal(pol.n_mx, nwant);
	assert_int_equal(pol.n_mx_dropped, 0);
	assert_int_equal(pol.n_extensions, 0);
	for (size_t i = 0; i < nwant; i++) {
		assert_int_equal(an_policy_mx_string(&pol, (const uint8_t *)p,
						     i, pat, sizeof(pat)),
				 ST_OK);
		assert_string_equal(pat, r->want[i]);
		assert_int_equal(pol.mx[i].wildcard,
				 strncmp(r->want[i], "*.", 2) == 0);
	}
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_ERROR), 0);
	assert_int_equal(an_findings_has(&f, AN_F_POLICY_MAX_AGE_SHORT),
			 r->max_age < AN_POLICY_MAX_AGE_MIN_OK);
	assert_int_equal(an_findings_has(&f, AN_F_POLICY_MODE_TESTING),
			 r->mode == AN_MODE_TESTING);
	assert_int_equal(an_findings_has(&f, AN_F_POLICY_MODE_NONE),
			 r->mode == AN_MODE_NONE);
	assert_int_equal(f.n, (size_t)(r->max_age < AN_POLICY_MAX_AGE_MIN_OK) +
			      (size_t)(r->mode != AN_MODE_ENFORCE));
}

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rt_rows) / sizeof(rt_rows[0]); i++) {
		const struct rt_row *r = &rt_rows[i];
		struct an_gen_request req = {
			.mx = r->mx, .n_mx = count_mx(r->mx), .mode = r->mode,
			.max_age = r->max_age, .now = r->now,
		};
		char t[AN_GEN_TXT_MAX], p[POLICY_BUF];
		size_t plen = 0;

		print_message("row %zu: %s\n", i, r->name);
		assert_int_equal(an_generate(&req, t, sizeof(t), p, sizeof(p),
					     &plen), ST_OK);
		assert_int_equal(plen, strlen(p));
		/* LF only: no CR anywhere, and the body ends with LF. */
		assert_null(strchr(p, '\r'));
		assert_int_equal(p[plen - 1], '\n');
		check_round_trip(r, t, p, plen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_now),
		cmocka_unit_test(test_id_range),
		cmocka_unit_test(test_lowercase_trailing_dot),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_mode_none),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_space),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
