/*
 * test_an_json.c - analysis/an_json: JSON strings are valid UTF-8 JSON
 * whatever bytes come in (RFC 8259 §7 escapes, RFC 3629 UTF-8), and a
 * record's object carries its fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "an_classify.h"
#include "an_json.h"
#include "an_record.h"

static char *str_json(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	an_json_strn(f, s, len);
	fclose(f);
	return buf;
}

static void test_strings(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} rows[] = {
		{ "", 0, "\"\"" },
		{ "v=STSv1; id=1", 13, "\"v=STSv1; id=1\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },               /* §7 */
		{ "l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		{ "b\xc3\xbc" "cher", 7, "\"b\xc3\xbc" "cher\"" },  /* valid */
		{ "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"" },          /* U+20AC */
		{ "\xf0\x9f\x94\x92", 4, "\"\xf0\x9f\x94\x92\"" },  /* 4 bytes */
		{ "\xff", 1, "\"\xef\xbf\xbd\"" },                  /* never valid */
		{ "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },  /* overlong */
		{ "\xed\xa0\x80", 3,                                 /* surrogate */
		  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xf4\x90\x80\x80", 4,                             /* > U+10FFFF */
		  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "a\xc3", 2, "\"a\xef\xbf\xbd\"" },                /* cut short */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = str_json(rows[i].in, rows[i].len);

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got %s want %s", i, got, rows[i].want);
		free(got);
	}
	{
		char *got = str_json(NULL, 0);

		assert_string_equal(got, "null");
		free(got);
	}
}

static void test_record(void **state)
{
	struct an_record r;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	(void)state;
	an_record_init(&r);
	r.domain = "example.test";
	r.verdict = AN_V_ENFORCE_OK;
	r.sts_dns = AN_DNS_NOERROR;
	r.sts_txt[0] = (struct an_bytes){ (const uint8_t *)"v=STSv1; id=1",
					  13 };
	r.n_sts_txt = r.n_sts_txt_total = 1;
	r.mx[0] = (struct an_record_mx){ "mx1.example.test", 10, true };
	r.n_mx = r.n_mx_total = 1;
	r.mode = AN_MODE_ENFORCE;
	r.have_max_age = true;
	r.max_age = 604800;
	r.findings[0] = (struct an_record_finding){ "tlsrpt.none", 1,
						    "no \"record\"" };
	r.n_findings = r.n_findings_total = 1;
	f = open_memstream(&buf, &n);
	assert_non_null(f);
	an_record_json(f, &r, (const uint8_t *)"version: STSv1\n", 15);
	fclose(f);
	assert_non_null(strstr(buf, "\"domain\":\"example.test\""));
	assert_non_null(strstr(buf, "\"verdict\":\"enforce-ok\""));
	assert_non_null(strstr(buf, "\"mode\":\"enforce\""));
	assert_non_null(strstr(buf, "\"max_age\":604800"));
	assert_non_null(strstr(buf, "{\"host\":\"mx1.example.test\",\"pref\":10,"
				    "\"covered\":true}"));
	assert_non_null(strstr(buf, "\"detail\":\"no \\\"record\\\"\""));
	assert_non_null(strstr(buf, "\"policy_body\":\"version: STSv1\\n\""));
	assert_non_null(strstr(buf, "\"body_sha256\":null"));
	assert_null(strchr(buf, '\n'));
	free(buf);
}

/* docs/record.schema.json enumerates the fetch statuses by name: it must
 * list exactly the rows of ST_FETCH_OUTCOMES (st_outcome.h) that
 * an_fetch_status_name() writes, in order, so a new outcome cannot reach
 * the JSON without reaching the schema. */
static void test_schema_fetch_names(void **state)
{
	static char text[64 * 1024];
	const char *p, *end;
	size_t n, i = 0;
	FILE *fp = fopen(STSMAP_SCHEMA, "rb");

	(void)state;
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	assert_true(n > 0 && n < sizeof(text) - 1);
	text[n] = '\0';
	p = strstr(text, "\"fetch\": { \"enum\": [");
	assert_non_null(p);
	end = strchr(p, ']');
	assert_non_null(end);
	for (p = strchr(p, '[') + 1; p < end; i++) {
		const char *q = strchr(p, '"'), *e;

		if (q == NULL || q > end)
			break;
		e = strchr(q + 1, '"');
		assert_non_null(e);
		assert_true(i < AN_FETCH_COUNT);
		if (strlen(an_fetch_status_name((unsigned)i)) !=
			    (size_t)(e - q - 1) ||
		    strncmp(q + 1, an_fetch_status_name((unsigned)i),
			    (size_t)(e - q - 1)) != 0)
			fail_msg("schema fetch enum [%zu] is %.*s, the code "
				 "writes %s", i, (int)(e - q - 1), q + 1,
				 an_fetch_status_name((unsigned)i));
		p = e + 1;
	}
	assert_int_equal(i, AN_FETCH_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_schema_fetch_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
