/*
 * test_an_sts_record.c - the _mta-sts TXT RRset (RFC 8461 §3.1), row by row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "an_sts_record.h"
#include "st_error.h"

#define MAX_RR 4
#define MAX_CODES 8 /* room for 4 codes and the padding of CODES() */
#define NO_CODE AN_F_COUNT

struct row {
	const char *name;
	const char *rr[MAX_RR]; /* NULL-terminated */
	enum an_sts_status status;
	const char *id;         /* expected id when VALID */
	enum an_code want[MAX_CODES];   /* must be present */
	enum an_code unwant[MAX_CODES]; /* must be absent */
};

/* Rows fill unused code slots with NO_CODE through this macro. */
#define CODES(...) { __VA_ARGS__, NO_CODE, NO_CODE, NO_CODE, NO_CODE }
#define NONE CODES(NO_CODE)

static const struct row rows[] = {
	/* §3.1: the canonical form */
	{ "minimal", { "v=STSv1; id=20160831085700Z;" }, AN_STS_VALID,
	  "20160831085700Z", NONE, CODES(AN_F_STS_SYNTAX) },
	/* §3.1: the trailing delimiter is optional */
	{ "no trailing ;", { "v=STSv1; id=abc123" }, AN_STS_VALID, "abc123",
	  NONE, CODES(AN_F_STS_SYNTAX) },
	/* §3.1: sts-field-delim = *WSP ";" *WSP: no space needed */
	{ "no spaces", { "v=STSv1;id=1" }, AN_STS_VALID, "1", NONE, NONE },
	/* §3.1: tabs are WSP */
	{ "tab after ;", { "v=STSv1;\tid=1;\t" }, AN_STS_VALID, "1", NONE,
	  NONE },
	/* §3.1: 32 characters is the longest id */
	{ "id 32 chars", { "v=STSv1; id=abcdefghijklmnopqrstuvwxyz012345" },
	  AN_STS_VALID, "abcdefghijklmnopqrstuvwxyz012345", NONE, NONE },
	/* §3.1: 33 characters is too long */
	{ "id 33 chars", { "v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456" },
	  AN_STS_INVALID, NULL, CODES(AN_F_STS_ID_INVALID), NONE },
	/* §3.1: id is ALPHA / DIGIT only */
	{ "id with dash", { "v=STSv1; id=2019-01-01" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_INVALID), NONE },
	/* §3.1: id must have at least one character */
	{ "id empty", { "v=STSv1; id=;" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_INVALID), NONE },
	/* §3.1: id is required */
	{ "no id", { "v=STSv1;" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_MISSING), NONE },
	/* §3.1: version alone */
	{ "version alone", { "v=STSv1" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_MISSING), NONE },
	/* §3.1 + errata 6285: "v=STSv1 ;" is ABNF-valid, warned, no id */
	{ "v=STSv1 ;", { "v=STSv1 ;" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_WS_BEFORE_DELIM, AN_F_STS_ID_MISSING), NONE },
	/* §3.1 + errata 6285: whitespace before ';' is kept valid */
	{ "ws before ; valid", { "v=STSv1 ; id=42 ;" }, AN_STS_VALID, "42",
	  CODES(AN_F_STS_WS_BEFORE_DELIM), CODES(AN_F_STS_SYNTAX) },
	/* §3.1: sts-version is case-sensitive and exact: v=STSv10 is
	 * discarded, so the domain has no record */
	{ "v=STSv10", { "v=STSv10; id=1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_VERSION), NONE },
	/* §3.1: %s"v=STSv1" - lower case is not the version */
	{ "lower-case version", { "v=stsv1; id=1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_VERSION), NONE },
	/* §3.1: unknown version */
	{ "STSv2", { "v=STSv2; id=1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_VERSION), NONE },
	/* §3.1: a record must begin with the version */
	{ "id first", { "id=1; v=STSv1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_OTHER_TXT), NONE },
	/* §3.1: records not beginning with v=STSv1 are discarded */
	{ "STS among SPF", { "v=spf1 -all", "v=STSv1; id=7", "v=spf1 a -all" },
	  AN_STS_VALID, "7", CODES(AN_F_STS_OTHER_TXT), NONE },
	/* §3.1: two STS records among SPF: senders assume no policy */
	{ "two STS among SPF",
	  { "v=spf1 -all", "v=STSv1; id=1", "v=STSv1; id=2", "v=spf1 ~all" },
	  AN_STS_MULTIPLE, NULL, CODES(AN_F_STS_MULTIPLE, AN_F_STS_OTHER_TXT),
	  NONE },
	/* §3.1: two identical records are still two */
	{ "two identical", { "v=STSv1; id=1", "v=STSv1; id=1" },
	  AN_STS_MULTIPLE, NULL, CODES(AN_F_STS_MULTIPLE), NONE },
	/* §3.1: an invalid record still counts as a candidate */
	{ "valid + invalid", { "v=STSv1; id=1", "v=STSv1; id=" },
	  AN_STS_MULTIPLE, NULL, CODES(AN_F_STS_MULTIPLE), NONE },
	/* §3.1: no TXT at all */
	{ "empty RRset", { NULL }, AN_STS_ABSENT, NULL, NONE,
	  CODES(AN_F_STS_OTHER_TXT, AN_F_STS_VERSION) },
	/* §3.1: only non-STS records (wildcard SPF) */
	{ "only SPF", { "v=spf1 include:_spf.example.net -all" },
	  AN_STS_ABSENT, NULL, CODES(AN_F_STS_OTHER_TXT), NONE },
	/* §3.1: unknown extensions are allowed and ignored */
	{ "extension", { "v=STSv1; id=5; ext_1.x-y=val!ue;" }, AN_STS_VALID,
	  "5", CODES(AN_F_STS_EXTENSION), CODES(AN_F_STS_SYNTAX) },
	/* §3.1: %s"id=" is case-sensitive: "ID=" is an extension */
	{ "ID upper", { "v=STSv1; ID=5" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_MISSING, AN_F_STS_EXTENSION), NONE },
	/* §3.1: sts-ext-value excludes '=' */
	{ "ext value with =", { "v=STSv1; id=1; a=b=c" }, AN_STS_INVALID,
	  NULL, CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-name starts with ALPHA / DIGIT */
	{ "ext name _", { "v=STSv1; id=1; _x=1" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-name is at most 32 characters */
	{ "ext name 33",
	  { "v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz0123456=1" },
	  AN_STS_INVALID, NULL, CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: field without '=' */
	{ "field no =", { "v=STSv1; id=1; junk" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: the version token ends at ';' or WSP: "v=STSv1," is not
	 * v=STSv1, so the record is discarded and named as a typo */
	{ "comma delimiter", { "v=STSv1, id=1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_VERSION), NONE },
	/* §3.1: ',' inside the record is not a delimiter either */
	{ "comma later", { "v=STSv1; id=1, x=2" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_INVALID), NONE },
	/* §3.1: a space alone is not a delimiter */
	{ "space delimiter", { "v=STSv1 id=1" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: empty field between delimiters */
	{ "double ;", { "v=STSv1;; id=1" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: id given twice: first kept, warned */
	{ "two ids", { "v=STSv1; id=1; id=2" }, AN_STS_VALID, "1",
	  CODES(AN_F_STS_ID_DUPLICATE), NONE },
	/* §3.1: "if the resulting record is syntactically invalid, senders
	 * MUST assume the recipient domain does not have an available MTA-STS
	 * Policy": WSP is part of sts-field-delim only with its ';', so
	 * trailing WSP alone is outside the grammar - invalid, not a warning */
	{ "trailing space", { "v=STSv1; id=abc " }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: the same for a trailing tab (WSP = SP / HTAB) */
	{ "trailing tab", { "v=STSv1; id=1\t" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: [sts-field-delim] = *WSP ";" *WSP, so WSP after the final
	 * ';' is inside the grammar */
	{ "ws after final ;", { "v=STSv1; id=1;  " }, AN_STS_VALID, "1", NONE,
	  CODES(AN_F_STS_SYNTAX) },
	/* §3.1: WSP before a later ';' is plain sts-field-delim: valid, and
	 * the errata 6285 warning is only about the version's ';' */
	{ "ws before later ;", { "v=STSv1; id=1 ;" }, AN_STS_VALID, "1", NONE,
	  CODES(AN_F_STS_SYNTAX, AN_F_STS_WS_BEFORE_DELIM) },
	/* §3.1: at most one trailing delimiter: ";;" at the end is an empty
	 * sts-field */
	{ "double trailing ;", { "v=STSv1; id=1;;" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: "; ;" at the end: two delimiters, still no field between */
	{ "; ; at end", { "v=STSv1; id=1; ;" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: version, delimiter, WSP and nothing else: no sts-id */
	{ "v=STSv1; + space", { "v=STSv1; " }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_ID_MISSING), NONE },
	/* §3.1: sts-ext-name may be 32 characters */
	{ "ext name 32",
	  { "v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz012345=1" },
	  AN_STS_VALID, "1", CODES(AN_F_STS_EXTENSION),
	  CODES(AN_F_STS_SYNTAX) },
	/* §3.1: sts-ext-name allows only ALPHA / DIGIT / "_" / "-" / "." */
	{ "ext name +", { "v=STSv1; id=1; a+b=1" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-extension needs a name before '=' */
	{ "ext name empty", { "v=STSv1; id=1; =x" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-value = 1*(...): at least one character */
	{ "ext value empty", { "v=STSv1; id=1; a=" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-value excludes SP: "a=b c" needs a ';' before c */
	{ "ext value space", { "v=STSv1; id=1; a=b c" }, AN_STS_INVALID, NULL,
	  CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-value stops at %x7E: DEL is outside */
	{ "ext value DEL", { "v=STSv1; id=1; a=b\x7f" }, AN_STS_INVALID,
	  NULL, CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: sts-ext-value's edges %x21 and %x7E are inside */
	{ "ext value ! ~", { "v=STSv1; id=1; a=!~" }, AN_STS_VALID, "1",
	  CODES(AN_F_STS_EXTENSION), CODES(AN_F_STS_SYNTAX) },
	/* §3.1: the record must begin with sts-version: no leading WSP */
	{ "leading space", { " v=STSv1; id=1" }, AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_OTHER_TXT), NONE },
	/* §3.1: "If multiple TXT records for "_mta-sts" are returned by the
	 * resolver, records that do not begin with "v=STSv1;" are
	 * discarded": v=STSv1 alone beside a valid record is discarded, and
	 * the verdict follows the valid one */
	{ "bare version + valid", { "v=STSv1", "v=STSv1; id=1" },
	  AN_STS_VALID, "1", CODES(AN_F_STS_DISCARDED),
	  CODES(AN_F_STS_MULTIPLE, AN_F_STS_ID_MISSING) },
	/* §3.1: the same for prose after the version */
	{ "prose + valid", { "v=STSv1 is not a policy", "v=STSv1; id=2" },
	  AN_STS_VALID, "2", CODES(AN_F_STS_DISCARDED),
	  CODES(AN_F_STS_MULTIPLE, AN_F_STS_SYNTAX) },
	/* §3.1: among several records "v=STSv1 ;" does not begin with
	 * "v=STSv1;" (errata 6285 applies to a lone record only) */
	{ "ws before ; + valid", { "v=STSv1 ; id=x", "v=STSv1;id=3" },
	  AN_STS_VALID, "3", CODES(AN_F_STS_DISCARDED),
	  CODES(AN_F_STS_MULTIPLE, AN_F_STS_WS_BEFORE_DELIM) },
	/* §3.1: "If the number of resulting records is not one": a
	 * discarded record beside SPF leaves none, so no policy */
	{ "ws before ; + SPF", { "v=spf1 -all", "v=STSv1 ; id=1" },
	  AN_STS_ABSENT, NULL,
	  CODES(AN_F_STS_DISCARDED, AN_F_STS_OTHER_TXT),
	  CODES(AN_F_STS_WS_BEFORE_DELIM) },
	/* §3.1: discarding does not rescue two records that do count */
	{ "two exact + bare", { "v=STSv1; id=1", "v=STSv1", "v=STSv1;id=2" },
	  AN_STS_MULTIPLE, NULL,
	  CODES(AN_F_STS_MULTIPLE, AN_F_STS_DISCARDED), NONE },
	/* §3.1: the one record left must itself be syntactically valid */
	{ "SPF + trailing space", { "v=spf1 -all", "v=STSv1; id=1 " },
	  AN_STS_INVALID, NULL, CODES(AN_F_STS_SYNTAX, AN_F_STS_OTHER_TXT),
	  CODES(AN_F_STS_DISCARDED) },
	/* §3.1: non-ASCII bytes in an extension value */
	{ "non-ascii ext", { "v=STSv1; id=1; n=\xc3\xa9" }, AN_STS_INVALID,
	  NULL, CODES(AN_F_STS_SYNTAX), NONE },
	/* §3.1: the id of a typo'd record is not used, the valid one is */
	{ "typo + valid", { "v=STSv10; id=1", "v=STSv1; id=2" }, AN_STS_VALID,
	  "2", CODES(AN_F_STS_VERSION), CODES(AN_F_STS_MULTIPLE) },
};

static bool has_code(const struct an_findings *f, enum an_code c)
{
	return an_findings_has(f, c);
}

static void run_row(const struct row *r)
{
	struct an_bytes rr[MAX_RR];
	struct an_sts_record rec;
	struct an_findings f;
	size_t n = 0;

	while (n < MAX_RR && r->rr[n] != NULL) {
		rr[n].data = (const uint8_t *)r->rr[n];
		rr[n].len = strlen(r->rr[n]);
		n++;
	}
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse(rr, n, &rec, &f), ST_OK);
	if (rec.status != r->status)
		fail_msg("%s: status %s, want %s", r->name,
			 an_sts_status_name(rec.status),
			 an_sts_status_name(r->status));
	if (r->status == AN_STS_VALID)
		assert_string_equal(rec.id, r->id);
	else
		assert_string_equal(rec.id, "");
	for (size_t i = 0; i < MAX_CODES && r->want[i] != NO_CODE; i++) {
		if (!has_code(&f, r->want[i]))
			fail_msg("%s: missing %s", r->name,
				 an_code_info(r->want[i])->name);
	}
	for (size_t i = 0; i < MAX_CODES && r->unwant[i] != NO_CODE; i++) {
		if (has_code(&f, r->unwant[i]))
			fail_msg("%s: unexpected %s", r->name,
				 an_code_info(r->unwant[i])->name);
	}
	/* Every finding raised here belongs to the sts-record layer. */
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(an_code_info(f.item[i].code)->layer,
				 AN_LAYER_STS_RECORD);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

/* TXT data may contain NUL bytes: the length, not strlen, bounds it. */
static void test_embedded_nul(void **state)
{
	static const uint8_t txt[] = "v=STSv1; id=1\0; id=2";
	struct an_bytes rr = { txt, sizeof(txt) - 1 };
	struct an_sts_record rec;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse(&rr, 1, &rec, &f), ST_OK);
	assert_int_equal(rec.status, AN_STS_INVALID);
	assert_true(an_findings_has(&f, AN_F_STS_ID_INVALID));
}

/* The parser reads exactly len bytes: a record cut short is not read
 * beyond its end (ASan checks the heap copy). */
static void test_exact_length(void **state)
{
	const char *src = "v=STSv1; id=1234";
	struct an_sts_record rec;
	struct an_findings f;

	(void)state;
	for (size_t len = 0; len <= strlen(src); len++) {
		uint8_t *copy = test_malloc(len + 1);
		struct an_bytes rr = { copy, len };

		memcpy(copy, src, len);
		an_findings_init(&f);
		assert_int_equal(an_sts_record_parse(&rr, 1, &rec, &f), ST_OK);
		/* Valid once "id=" has at least one digit. */
		assert_int_equal(rec.status, len >= 13 ? AN_STS_VALID
				 : len >= 7 ? AN_STS_INVALID : AN_STS_ABSENT);
		test_free(copy);
	}
}

static void test_bad_args(void **state)
{
	struct an_sts_record rec;
	struct an_findings f;
	struct an_bytes bad = { NULL, 3 };

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse(NULL, 1, &rec, &f), ST_EINVAL);
	assert_int_equal(an_sts_record_parse(NULL, 0, NULL, &f), ST_EINVAL);
	assert_int_equal(an_sts_record_parse(NULL, 0, &rec, NULL), ST_EINVAL);
	assert_int_equal(an_sts_record_parse(&bad, 1, &rec, &f), ST_EINVAL);
	assert_int_equal(an_sts_record_parse(NULL, 0, &rec, &f), ST_OK);
	assert_int_equal(rec.status, AN_STS_ABSENT);
}

/* Details quote server text, but never control bytes. */
static void test_detail_sanitised(void **state)
{
	static const uint8_t txt[] = "v=STSv1; id=\x1b[31mred\n";
	struct an_bytes rr = { txt, sizeof(txt) - 1 };
	struct an_sts_record rec;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	an_sts_record_parse(&rr, 1, &rec, &f);
	assert_true(f.n > 0);
	for (size_t i = 0; i < f.n; i++) {
		for (const char *p = f.item[i].detail; *p != '\0'; p++)
			assert_true(*p >= 0x20 && *p <= 0x7e);
	}
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

/* Counts are true counts: with 500 records at the name of which the
 * scanner kept 16, the detail may not say "16 records" as if that were
 * all of them. */
static void test_true_counts(void **state)
{
	static const char one[] = "v=STSv1; id=1";
	struct an_bytes rr[16];
	struct an_sts_record rec;
	struct an_findings f;
	const struct an_finding *it;

	(void)state;
	for (size_t i = 0; i < 16; i++)
		rr[i] = (struct an_bytes){ (const uint8_t *)one,
					   sizeof(one) - 1 };
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(rr, 16, 500, &rec, &f),
			 ST_OK);
	assert_int_equal(rec.status, AN_STS_MULTIPLE);
	assert_int_equal(rec.total, 500);
	it = find_code(&f, AN_F_STS_MULTIPLE);
	assert_non_null(it);
	assert_string_equal(it->detail, "at least 16 of 500 TXT records "
			    "begin with \"v=STSv1;\" (first 16 examined)");

	/* All examined: the count is exact. */
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(rr, 16, 16, &rec, &f),
			 ST_OK);
	it = find_code(&f, AN_F_STS_MULTIPLE);
	assert_non_null(it);
	assert_string_equal(it->detail,
			    "16 records begin with \"v=STSv1;\"");

	/* A total under n is n: never fewer than were seen. */
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(rr, 3, 0, &rec, &f), ST_OK);
	assert_int_equal(rec.total, 3);
	assert_string_equal(find_code(&f, AN_F_STS_MULTIPLE)->detail,
			    "3 records begin with \"v=STSv1;\"");
}

/* Non-STS records are counted as "among the first N examined" when the
 * RRset was cut. */
static void test_true_counts_other(void **state)
{
	static const char spf[] = "v=spf1 -all";
	static const char sts[] = "v=STSv1; id=9";
	struct an_bytes rr[16];
	struct an_sts_record rec;
	struct an_findings f;

	(void)state;
	rr[0] = (struct an_bytes){ (const uint8_t *)sts, sizeof(sts) - 1 };
	for (size_t i = 1; i < 16; i++)
		rr[i] = (struct an_bytes){ (const uint8_t *)spf,
					   sizeof(spf) - 1 };
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(rr, 16, 40, &rec, &f),
			 ST_OK);
	assert_int_equal(rec.status, AN_STS_VALID);
	assert_int_equal(rec.other, 15);
	assert_string_equal(find_code(&f, AN_F_STS_OTHER_TXT)->detail,
			    "15 non-STS TXT record(s) among the first 16 "
			    "examined; 40 TXT records at the name");
}

/* RFC 8461 §3.1: "If multiple TXT records for "_mta-sts" are returned by
 * the resolver": the rule follows the records returned, not the ones
 * kept, so one kept record of two returned is judged as one of several. */
static void test_several_by_total(void **state)
{
	static const char ws[] = "v=STSv1 ; id=1";
	struct an_bytes rr = { (const uint8_t *)ws, sizeof(ws) - 1 };
	struct an_sts_record rec;
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(&rr, 1, 1, &rec, &f), ST_OK);
	assert_int_equal(rec.status, AN_STS_VALID);
	an_findings_init(&f);
	assert_int_equal(an_sts_record_parse_total(&rr, 1, 2, &rec, &f), ST_OK);
	assert_int_equal(rec.status, AN_STS_ABSENT);
	assert_int_equal(rec.discarded, 1);
	assert_non_null(strstr(find_code(&f, AN_F_STS_DISCARDED)->detail,
			       "v=STSv1 ; id=1"));
	assert_int_equal(find_code(&f, AN_F_STS_DISCARDED)->severity,
			 AN_SEV_WARN);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(an_sts_status_name(AN_STS_ABSENT), "absent");
	assert_string_equal(an_sts_status_name(AN_STS_VALID), "valid");
	assert_string_equal(an_sts_status_name(AN_STS_MULTIPLE), "multiple");
	assert_string_equal(an_sts_status_name(AN_STS_INVALID), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_exact_length),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_detail_sanitised),
		cmocka_unit_test(test_true_counts),
		cmocka_unit_test(test_true_counts_other),
		cmocka_unit_test(test_several_by_total),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
