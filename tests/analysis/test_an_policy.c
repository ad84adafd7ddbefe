/*
 * test_an_policy.c - the policy body (RFC 8461 §3.2), row by row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "an_policy.h"
#include "st_error.h"

#define MAX_CODES 8 /* room for 4 codes and the padding of CODES() */
#define NO_CODE AN_F_COUNT
#define CODES(...) { __VA_ARGS__, NO_CODE, NO_CODE, NO_CODE, NO_CODE }
#define NONE CODES(NO_CODE)
#define ANY_AGE UINT64_MAX

struct row {
	const char *name;
	const char *body;
	bool usable;
	enum an_mode mode;
	uint64_t max_age;  /* ANY_AGE: not checked */
	size_t n_mx;
	enum an_code want[MAX_CODES];
	enum an_code unwant[MAX_CODES];
};

#define OK_HEAD "version: STSv1\nmode: enforce\n"

static const struct row rows[] = {
	/* §3.2: the example of the RFC */
	{ "canonical",
	  "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
	  "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
	  true, AN_MODE_ENFORCE, 604800, 3, NONE,
	  CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_UNKNOWN_KEY) },
	/* §3.2: sts-policy-term = LF / CRLF */
	{ "CRLF",
	  "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\n"
	  "max_age: 86400\r\n",
	  true, AN_MODE_TESTING, 86400, 1, CODES(AN_F_POLICY_MODE_TESTING),
	  CODES(AN_F_POLICY_SYNTAX) },
	/* §3.2: the final terminator is optional */
	{ "no final LF", OK_HEAD "mx: a.example\nmax_age: 86400", true,
	  AN_MODE_ENFORCE, 86400, 1, NONE, CODES(AN_F_POLICY_SYNTAX) },
	/* §3.2: keys may come in any order */
	{ "any order",
	  "max_age: 86400\nmx: a.example\nmode: enforce\nversion: STSv1\n",
	  true, AN_MODE_ENFORCE, 86400, 1, NONE, NONE },
	/* §3.2: ":" *WSP - no space is fine, tabs are fine */
	{ "no space, tab",
	  "version:STSv1\nmode:\tenforce\nmx:a.example\nmax_age:86400\n", true,
	  AN_MODE_ENFORCE, 86400, 1, NONE, NONE },
	/* §3.2: *WSP after a field before the terminator */
	{ "trailing WSP", "version: STSv1 \nmode: enforce\t\nmx: a.example  \n"
	  "max_age: 86400 \n", true, AN_MODE_ENFORCE, 86400, 1, NONE,
	  CODES(AN_F_POLICY_SYNTAX) },
	/* §3.2: mode none needs no mx */
	{ "mode none", "version: STSv1\nmode: none\nmax_age: 86400\n", true,
	  AN_MODE_NONE, 86400, 0, CODES(AN_F_POLICY_MODE_NONE),
	  CODES(AN_F_POLICY_MX_MISSING) },
	/* §3.2: mx required unless mode is none */
	{ "enforce no mx", OK_HEAD "max_age: 86400\n", false, AN_MODE_ENFORCE,
	  86400, 0, CODES(AN_F_POLICY_MX_MISSING), NONE },
	/* §3.2: values are case-sensitive: "Enforce" is not a mode */
	{ "mode Enforce",
	  "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 86400\n",
	  false, AN_MODE_UNSET, 86400, 1, CODES(AN_F_POLICY_MODE_INVALID),
	  NONE },
	/* §3.2: unknown mode */
	{ "mode strict",
	  "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 86400\n",
	  false, AN_MODE_UNSET, 86400, 1, CODES(AN_F_POLICY_MODE_INVALID),
	  NONE },
	/* §3.2: keys are case-sensitive: "Mode" is an unknown key, so mode is
	 * missing */
	{ "key Mode",
	  "version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 86400\n",
	  false, AN_MODE_UNSET, 86400, 1,
	  CODES(AN_F_POLICY_UNKNOWN_KEY, AN_F_POLICY_MODE_MISSING), NONE },
	/* §3.2: "If any non-repeated field -- i.e., all fields excepting
	 * "mx" -- is duplicated, all entries except for the first SHALL be
	 * ignored.": a warning, the first mode applies */
	{ "duplicate mode",
	  "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n",
	  true, AN_MODE_TESTING, 86400, 1,
	  CODES(AN_F_POLICY_DUPLICATE_KEY), NONE },
	/* §3.2: "... all entries except for the first SHALL be ignored.":
	 * the first max_age applies */
	{ "duplicate max_age",
	  OK_HEAD "mx: a.example\nmax_age: 86400\nmax_age: 604800\n", true,
	  AN_MODE_ENFORCE, 86400, 1, CODES(AN_F_POLICY_DUPLICATE_KEY), NONE },
	/* §3.2: "... all entries except for the first SHALL be ignored.":
	 * a second version line, even a wrong one, is ignored unchecked */
	{ "duplicate version",
	  "version: STSv1\nversion: STSv2\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", true, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_DUPLICATE_KEY),
	  CODES(AN_F_POLICY_VERSION_INVALID) },
	/* §3.2: "... all entries except for the first SHALL be ignored.":
	 * an invalid first mode counts; the valid second one is ignored */
	{ "duplicate mode, first invalid",
	  "version: STSv1\nmode: enforcing\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_UNSET, 86400, 1,
	  CODES(AN_F_POLICY_MODE_INVALID, AN_F_POLICY_DUPLICATE_KEY), NONE },
	/* §3.2: "... all entries except for the first SHALL be ignored.":
	 * a valid first max_age counts; the invalid second one is ignored */
	{ "duplicate max_age, second invalid",
	  OK_HEAD "mx: a.example\nmax_age: 86400\nmax_age: 1w\n", true,
	  AN_MODE_ENFORCE, 86400, 1, CODES(AN_F_POLICY_DUPLICATE_KEY),
	  CODES(AN_F_POLICY_MAX_AGE_INVALID) },
	/* §3.2: "... all entries except for the first SHALL be ignored.":
	 * a too large first max_age counts although a later one is fine */
	{ "duplicate max_age, first too large",
	  OK_HEAD "mx: a.example\nmax_age: 31557601\nmax_age: 86400\n",
	  false, AN_MODE_ENFORCE, 31557601, 1,
	  CODES(AN_F_POLICY_MAX_AGE_TOO_LARGE, AN_F_POLICY_DUPLICATE_KEY),
	  NONE },
	/* §3.2: "all fields excepting "mx"": an extension field is a
	 * non-repeated field too; its repeat is ignored (and its value,
	 * even an empty one, not checked) */
	{ "duplicate extension",
	  OK_HEAD "mx: a.example\nmax_age: 86400\ncontact: a@b.example\n"
	  "contact:\n", true, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_DUPLICATE_KEY, AN_F_POLICY_UNKNOWN_KEY),
	  CODES(AN_F_POLICY_SYNTAX) },
	/* §3.2: names are case-sensitive, so "Mode" repeats no field of
	 * "mode" */
	{ "mode and Mode",
	  OK_HEAD "Mode: testing\nmx: a.example\nmax_age: 86400\n", true,
	  AN_MODE_ENFORCE, 86400, 1, CODES(AN_F_POLICY_UNKNOWN_KEY),
	  CODES(AN_F_POLICY_DUPLICATE_KEY) },
	/* §3.2: several mx lines are not duplicates */
	{ "many mx", OK_HEAD "mx: a.example\nmx: b.example\nmx: c.example\n"
	  "max_age: 86400\n", true, AN_MODE_ENFORCE, 86400, 3, NONE,
	  CODES(AN_F_POLICY_DUPLICATE_KEY) },
	/* §3.2: version must be STSv1 */
	{ "version STSv2", "version: STSv2\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_VERSION_INVALID),
	  CODES(AN_F_POLICY_VERSION_MISSING) },
	/* §3.2: version is required */
	{ "no version", "mode: enforce\nmx: a.example\nmax_age: 86400\n",
	  false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_VERSION_MISSING), NONE },
	/* §3.2: version value case-sensitive */
	{ "version stsv1", "version: stsv1\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_VERSION_INVALID), NONE },
	/* §3.2: max_age is required */
	{ "no max_age", OK_HEAD "mx: a.example\n", false, AN_MODE_ENFORCE,
	  ANY_AGE, 1, CODES(AN_F_POLICY_MAX_AGE_MISSING), NONE },
	/* §3.2: max_age = 1*10(DIGIT): "86_400" is not digits */
	{ "max_age 86_400", OK_HEAD "mx: a.example\nmax_age: 86_400\n", false,
	  AN_MODE_ENFORCE, ANY_AGE, 1, CODES(AN_F_POLICY_MAX_AGE_INVALID),
	  CODES(AN_F_POLICY_MAX_AGE_MISSING) },
	/* §3.2: no sign */
	{ "max_age +86400", OK_HEAD "mx: a.example\nmax_age: +86400\n", false,
	  AN_MODE_ENFORCE, ANY_AGE, 1, CODES(AN_F_POLICY_MAX_AGE_INVALID),
	  NONE },
	/* §3.2: negative */
	{ "max_age -1", OK_HEAD "mx: a.example\nmax_age: -1\n", false,
	  AN_MODE_ENFORCE, ANY_AGE, 1, CODES(AN_F_POLICY_MAX_AGE_INVALID),
	  NONE },
	/* §3.2: empty */
	{ "max_age empty", OK_HEAD "mx: a.example\nmax_age:\n", false,
	  AN_MODE_ENFORCE, ANY_AGE, 1, CODES(AN_F_POLICY_MAX_AGE_INVALID),
	  NONE },
	/* §3.2: at most 31557600 */
	{ "max_age 31557600", OK_HEAD "mx: a.example\nmax_age: 31557600\n",
	  true, AN_MODE_ENFORCE, 31557600, 1, NONE,
	  CODES(AN_F_POLICY_MAX_AGE_TOO_LARGE) },
	{ "max_age 31557601", OK_HEAD "mx: a.example\nmax_age: 31557601\n",
	  false, AN_MODE_ENFORCE, 31557601, 1,
	  CODES(AN_F_POLICY_MAX_AGE_TOO_LARGE), NONE },
	/* §3.2: ten digits parse, eleven do not */
	{ "max_age 10 digits", OK_HEAD "mx: a.example\nmax_age: 9999999999\n",
	  false, AN_MODE_ENFORCE, 9999999999ull, 1,
	  CODES(AN_F_POLICY_MAX_AGE_TOO_LARGE), NONE },
	{ "max_age 11 digits", OK_HEAD "mx: a.example\nmax_age: 00000086400\n",
	  false, AN_MODE_ENFORCE, ANY_AGE, 1,
	  CODES(AN_F_POLICY_MAX_AGE_INVALID), NONE },
	/* §3.2: leading zeros are digits */
	{ "max_age 0086400", OK_HEAD "mx: a.example\nmax_age: 0086400\n", true,
	  AN_MODE_ENFORCE, 86400, 1, NONE, NONE },
	/* §3.2 (SHOULD be weeks): under a day is a warning, still usable */
	{ "max_age 3600", OK_HEAD "mx: a.example\nmax_age: 3600\n", true,
	  AN_MODE_ENFORCE, 3600, 1, CODES(AN_F_POLICY_MAX_AGE_SHORT), NONE },
	{ "max_age 0", OK_HEAD "mx: a.example\nmax_age: 0\n", true,
	  AN_MODE_ENFORCE, 0, 1, CODES(AN_F_POLICY_MAX_AGE_SHORT), NONE },
	/* §3.2: "*." only as the whole leftmost label */
	{ "mx *.*.", OK_HEAD "mx: *.*.example.com\nmax_age: 86400\n", false,
	  AN_MODE_ENFORCE, 86400, 0,
	  CODES(AN_F_POLICY_MX_INVALID, AN_F_POLICY_MX_MISSING), NONE },
	{ "mx partial wildcard", OK_HEAD "mx: mx*.example.com\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_MX_INVALID), CODES(AN_F_POLICY_MX_MISSING) },
	/* §3.2: mx is a host name, never an IP literal */
	{ "mx IP", OK_HEAD "mx: 192.0.2.1\nmax_age: 86400\n", false,
	  AN_MODE_ENFORCE, 86400, 0, CODES(AN_F_POLICY_MX_INVALID), NONE },
	{ "mx [IP]", OK_HEAD "mx: [192.0.2.1]\nmax_age: 86400\n", false,
	  AN_MODE_ENFORCE, 86400, 0, CODES(AN_F_POLICY_MX_INVALID), NONE },
	/* §3.2: A-labels only */
	{ "mx U-label", OK_HEAD "mx: b\xc3\xbc" "cher.example\nmax_age: 86400\n",
	  false, AN_MODE_ENFORCE, 86400, 0,
	  CODES(AN_F_POLICY_MX_INVALID, AN_F_POLICY_NON_ASCII), NONE },
	{ "mx A-label", OK_HEAD "mx: xn--bcher-kva.example\nmax_age: 86400\n",
	  true, AN_MODE_ENFORCE, 86400, 1, NONE, NONE },
	/* §3.2: empty label */
	{ "mx empty label", OK_HEAD "mx: mx..example\nmax_age: 86400\n",
	  false, AN_MODE_ENFORCE, 86400, 0, CODES(AN_F_POLICY_MX_INVALID),
	  NONE },
	/* §3.2: trailing dot warned, kept without the dot */
	{ "mx trailing dot", OK_HEAD "mx: mx.example.\nmax_age: 86400\n",
	  true, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_MX_TRAILING_DOT), NONE },
	/* §3.2: unknown keys are extensions: info, still usable */
	{ "extension", OK_HEAD "mx: a.example\nmax_age: 86400\nfoo_bar: baz\n",
	  true, AN_MODE_ENFORCE, 86400, 1, CODES(AN_F_POLICY_UNKNOWN_KEY),
	  NONE },
	/* §3.2: extension values may be UTF-8 */
	{ "extension utf8", OK_HEAD "mx: a.example\nmax_age: 86400\n"
	  "note: caf\xc3\xa9 ok\n", true, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_UNKNOWN_KEY), CODES(AN_F_POLICY_NON_ASCII) },
	/* §3.2: ... but valid UTF-8 */
	{ "extension bad utf8", OK_HEAD "mx: a.example\nmax_age: 86400\n"
	  "note: caf\xe9\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_NON_ASCII), NONE },
	/* §3.2: non-ASCII in a key */
	{ "non-ascii key", OK_HEAD "mx: a.example\nmax_age: 86400\n"
	  "m\xc3\xa9: x\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_NON_ASCII), NONE },
	/* §3.2: a BOM is not part of the grammar */
	{ "BOM", "\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_BOM), CODES(AN_F_POLICY_VERSION_MISSING) },
	/* §3.2: bare CR is neither LF nor CRLF */
	{ "bare CR", "version: STSv1\rmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_UNSET, 86400, 1,
	  CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_VERSION_MISSING,
		AN_F_POLICY_MODE_MISSING), NONE },
	/* §3.2: a CR at the very end is not a CRLF either */
	{ "final bare CR", OK_HEAD "mx: a.example\nmax_age: 86400\r", false,
	  AN_MODE_ENFORCE, ANY_AGE, 1,
	  CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_MAX_AGE_MISSING), NONE },
	/* §3.2: CR-only line endings lose everything */
	{ "CR only", "version: STSv1\rmode: enforce\rmx: a.example\r"
	  "max_age: 86400\r", false, AN_MODE_UNSET, ANY_AGE, 0,
	  CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_MODE_MISSING), NONE },
	/* §3.2: a line without ':' */
	{ "no colon", OK_HEAD "mx a.example\nmax_age: 86400\n", false,
	  AN_MODE_ENFORCE, 86400, 0, CODES(AN_F_POLICY_SYNTAX), NONE },
	/* §3.2: key with a space before ':' is not a key */
	{ "space before colon", "version: STSv1\nmode : enforce\nmx: a.example\n"
	  "max_age: 86400\n", false, AN_MODE_UNSET, 86400, 1,
	  CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_MODE_MISSING), NONE },
	/* §3.2: blank lines are outside the grammar: warned only */
	{ "blank line", "version: STSv1\n\nmode: enforce\nmx: a.example\n"
	  "max_age: 86400\n\n", true, AN_MODE_ENFORCE, 86400, 1,
	  CODES(AN_F_POLICY_SYNTAX), NONE },
	/* §3.2: an empty body has nothing */
	{ "empty", "", false, AN_MODE_UNSET, ANY_AGE, 0,
	  CODES(AN_F_POLICY_EMPTY), NONE },
	/* §3.2: a HTML page served as the policy */
	{ "html", "<html><body>Not here</body></html>\n", false, AN_MODE_UNSET,
	  ANY_AGE, 0, CODES(AN_F_POLICY_SYNTAX, AN_F_POLICY_VERSION_MISSING),
	  NONE },
	/* §3.2: everything wrong at once: every problem reported */
	{ "all wrong", "version: STSv2\nmode: Enforce\nmax_age: 1d\n"
	  "mx: 10.0.0.1\n", false, AN_MODE_UNSET, ANY_AGE, 0,
	  CODES(AN_F_POLICY_VERSION_INVALID, AN_F_POLICY_MODE_INVALID,
		AN_F_POLICY_MAX_AGE_INVALID, AN_F_POLICY_MX_INVALID),
	  NONE },
};

static void run_row(const struct row *r)
{
	struct an_policy pol;
	struct an_findings f;
	size_t len = strlen(r->body);
	/* A heap copy of exactly len bytes: ASan catches any over-read. */
	uint8_t *body = test_malloc(len + 1);

	memcpy(body, r->body, len);
	an_findings_init(&f);
	assert_int_equal(an_policy_parse(body, len, &pol, &f), ST_OK);
	if (pol.usable != r->usable)
		fail_msg("%s: usable %d, want %d (first finding: %s)", r->name,
			 pol.usable, r->usable,
			 f.n > 0 ? an_code_info(f.item[0].code)->name : "-");
	if (pol.mode != r->mode)
		fail_msg("%s: mode %s, want %s", r->name, an_mode_name(pol.mode),
			 an_mode_name(r->mode));
	if (r->max_age != ANY_AGE) {
		assert_true(pol.has_max_age);
		assert_int_equal(pol.max_age, r->max_age);
	}
	if (pol.n_mx != r->n_mx)
		fail_msg("%s: %zu mx, want %zu", r->name, pol.n_mx, r->n_mx);
	for (size_t i = 0; i < MAX_CODES && r->want[i] != NO_CODE; i++) {
		if (!an_findings_has(&f, r->want[i]))
			fail_msg("%s: missing %s", r->name,
				 an_code_info(r->want[i])->name);
	}
	for (size_t i = 0; i < MAX_CODES && r->unwant[i] != NO_CODE; i++) {
		if (an_findings_has(&f, r->unwant[i]))
			fail_msg("%s: unexpected %s", r->name,
				 an_code_info(r->unwant[i])->name);
	}
	/* usable means exactly: no error-severity finding. */
	assert_int_equal(pol.usable, an_findings_count_sev(&f, AN_SEV_ERROR) == 0);
	test_free(body);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

/* Patterns are slices of the body, without their trailing dot. */
static void test_mx_slices(void **state)
{
	static const char body[] = OK_HEAD "mx: MX1.Example.com.\n"
				   "mx: *.example.net\nmax_age: 86400\n";
	struct an_policy pol;
	struct an_findings f;
	char out[256];

	(void)state;
	an_findings_init(&f);
	an_policy_parse((const uint8_t *)body, sizeof(body) - 1, &pol, &f);
	assert_int_equal(pol.n_mx, 2);
	assert_int_equal(an_policy_mx_string(&pol, (const uint8_t *)body, 0, out,
					     sizeof(out)), ST_OK);
	assert_string_equal(out, "MX1.Example.com");
	assert_false(pol.mx[0].wildcard);
	an_policy_mx_string(&pol, (const uint8_t *)body, 1, out, sizeof(out));
	assert_string_equal(out, "*.example.net");
	assert_true(pol.mx[1].wildcard);
	assert_int_equal(an_policy_mx_string(&pol, (const uint8_t *)body, 2, out,
					     sizeof(out)), ST_EINVAL);
	assert_int_equal(an_policy_mx_string(&pol, (const uint8_t *)body, 1, out,
					     5), ST_ESPACE);
}

/* RFC 8461 §3.3: a body over 64 KiB is refused unparsed; exactly 64 KiB is
 * parsed. */
static void test_size_cap(void **state)
{
	const size_t cap = AN_POLICY_BODY_MAX;
	uint8_t *body = test_malloc(cap + 1);
	const char head[] = OK_HEAD "mx: a.example\nmax_age: 86400\n";
	struct an_policy pol;
	struct an_findings f;

	(void)state;
	memcpy(body, head, sizeof(head) - 1);
	/* Pad with an extension line up to the size wanted. */
	memcpy(body + sizeof(head) - 1, "pad: ", 5);
	memset(body + sizeof(head) - 1 + 5, 'x', cap + 1 - (sizeof(head) - 1 + 5));

	an_findings_init(&f);
	assert_int_equal(an_policy_parse(body, cap + 1, &pol, &f), ST_OK);
	assert_false(pol.usable);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.item[0].code, AN_F_HTTP_TOO_LARGE);

	an_findings_init(&f);
	assert_int_equal(an_policy_parse(body, cap, &pol, &f), ST_OK);
	assert_true(pol.usable);
	assert_int_equal(pol.n_mx, 1);
	test_free(body);
}

/* More patterns than kept are counted, not lost silently. */
static void test_mx_overflow(void **state)
{
	char *body = test_malloc(8192);
	size_t len = 0;
	struct an_policy pol;
	struct an_findings f;

	(void)state;
	len += (size_t)sprintf(body + len, OK_HEAD "max_age: 86400\n");
	for (int i = 0; i < AN_POLICY_MX_MAX + 3; i++)
		len += (size_t)sprintf(body + len, "mx: mx%d.example\n", i);
	an_findings_init(&f);
	an_policy_parse((const uint8_t *)body, len, &pol, &f);
	assert_true(pol.usable);
	assert_int_equal(pol.n_mx, AN_POLICY_MX_MAX);
	assert_int_equal(pol.n_mx_dropped, 3);
	test_free(body);
}

/* Every prefix of a valid body parses without reading past its end. */
static void test_every_prefix(void **state)
{
	const char *src = "version: STSv1\r\nmode: enforce\r\nmx: *.a.example\r\n"
			  "max_age: 604800\r\n";
	size_t n = strlen(src);
	/* Usable from "max_age: 6" on (shorter ages only warn), except when
	 * the body ends in a bare CR. */
	size_t first = (size_t)(strstr(src, "max_age: ") - src) + 10;

	(void)state;
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = test_malloc(len + 1);
		struct an_policy pol;
		struct an_findings f;

		memcpy(copy, src, len);
		an_findings_init(&f);
		assert_int_equal(an_policy_parse(copy, len, &pol, &f), ST_OK);
		assert_int_equal(pol.usable, len >= first && len != n - 1);
		test_free(copy);
	}
}

/* Found by fuzzing: a flood of blank lines is one warning, and cannot push
 * the real errors out of the findings list. */
static void test_blank_flood(void **state)
{
	char body[600];
	size_t len = 0;
	struct an_policy pol;
	struct an_findings f;
	size_t syntax = 0;

	(void)state;
	len += (size_t)sprintf(body + len, "mode: enforce\nmx: a.example\n");
	memset(body + len, '\n', 200);
	len += 200;
	len += (size_t)sprintf(body + len, "max_age: 86400\n");
	an_findings_init(&f);
	an_policy_parse((const uint8_t *)body, len, &pol, &f);
	assert_false(pol.usable);
	assert_true(an_findings_has(&f, AN_F_POLICY_VERSION_MISSING));
	for (size_t i = 0; i < f.n; i++)
		syntax += f.item[i].code == AN_F_POLICY_SYNTAX;
	assert_int_equal(syntax, 1);
	assert_int_equal(f.dropped, 0);
}

static void test_bad_args(void **state)
{
	struct an_policy pol;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_policy_parse(NULL, 3, &pol, &f), ST_EINVAL);
	assert_int_equal(an_policy_parse((const uint8_t *)"x", 1, NULL, &f),
			 ST_EINVAL);
	assert_int_equal(an_policy_parse((const uint8_t *)"x", 1, &pol, NULL),
			 ST_EINVAL);
	assert_int_equal(an_policy_parse(NULL, 0, &pol, &f), ST_OK);
	assert_true(an_findings_has(&f, AN_F_POLICY_EMPTY));
}

/* Line numbers in details point at the offending line. */
static void test_line_numbers(void **state)
{
	static const char body[] = "version: STSv1\nmode: enforce\n"
				   "mx: a.example\nmax_age: abc\n";
	struct an_policy pol;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	an_policy_parse((const uint8_t *)body, sizeof(body) - 1, &pol, &f);
	assert_int_equal(f.n, 1); /* invalid, and so not also missing */
	assert_int_equal(f.item[0].code, AN_F_POLICY_MAX_AGE_INVALID);
	assert_non_null(strstr(f.item[0].detail, "line 4"));
	assert_non_null(strstr(f.item[0].detail, "\"abc\""));
}

/* RFC 8461 §3.2: "all entries except for the first SHALL be ignored": one
 * warning per ignored line, naming it (number and text) and the line that
 * counts. */
static void test_duplicate_details(void **state)
{
	static const char body[] = "version: STSv1\nmode: enforce\n"
				   "mx: a.example\nmode: testing\n"
				   "max_age: 86400\nmode: none\n";
	struct an_policy pol;
	struct an_findings f;
	size_t dup = 0;

	(void)state;
	an_findings_init(&f);
	an_policy_parse((const uint8_t *)body, sizeof(body) - 1, &pol, &f);
	assert_true(pol.usable);
	assert_int_equal(pol.mode, AN_MODE_ENFORCE);
	for (size_t i = 0; i < f.n; i++) {
		if (f.item[i].code != AN_F_POLICY_DUPLICATE_KEY)
			continue;
		assert_int_equal(f.item[i].severity, AN_SEV_WARN);
		assert_non_null(strstr(f.item[i].detail, "line 2"));
		assert_non_null(strstr(f.item[i].detail,
				       dup == 0 ? "line 4: \"mode: testing\""
						: "line 6: \"mode: none\""));
		dup++;
	}
	assert_int_equal(dup, 2);
	assert_false(an_findings_has(&f, AN_F_POLICY_MODE_TESTING));
	assert_false(an_findings_has(&f, AN_F_POLICY_MODE_NONE));
}

static void test_mode_names(void **state)
{
	(void)state;
	assert_string_equal(an_mode_name(AN_MODE_ENFORCE), "enforce");
	assert_string_equal(an_mode_name(AN_MODE_TESTING), "testing");
	assert_string_equal(an_mode_name(AN_MODE_NONE), "none");
	assert_string_equal(an_mode_name(AN_MODE_UNSET), "unset");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_mx_slices),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_mx_overflow),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_blank_flood),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_duplicate_details),
		cmocka_unit_test(test_mode_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
