/*
 * test_an_groups.c - analysis/an_groups: the groups CSV (RFC 4180 cells,
 * header, comments, CRLF), name normalisation, one group per domain, and
 * a clear reason for every bad line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_groups.h"
#include "st_error.h"

struct row {
	const char *line;
	uint64_t lineno;
	int ret;
	const char *domain;  /* looked up afterwards (ST_OK rows) */
	const char *group;   /* expected group, NULL: not listed */
	const char *why;     /* substring of the reason (ST_EPARSE rows) */
};

static const struct row rows[] = {
	{ "domain,group", 1, ST_OK, "domain", NULL, NULL },  /* header */
	{ "Example.COM.,Registrar A\r\n", 2, ST_OK, "example.com",
	  "Registrar A", NULL },
	{ "example.org,\"Example, Inc.\"", 3, ST_OK, "example.org",
	  "Example, Inc.", NULL },
	{ "q.test,\"say \"\"hi\"\"\"", 4, ST_OK, "q.test", "say \"hi\"", NULL },
	{ "  spaced.test ,  Registrar B  ", 5, ST_OK, "spaced.test",
	  "Registrar B", NULL },
	{ "b\xc3\xbc" "cher.test,Registrar A", 6, ST_OK, "xn--bcher-kva.test",
	  "Registrar A", NULL },
	{ "# a comment", 7, ST_OK, NULL, NULL, NULL },
	{ "", 8, ST_OK, NULL, NULL, NULL },
	{ "example.com,Registrar A", 9, ST_OK, "example.com", "Registrar A",
	  NULL },                                    /* the same pair again */
	{ "example.com,Registrar B", 10, ST_EPARSE, "example.com",
	  "Registrar A", "already in group \"Registrar A\"" },
	{ "domain,group", 11, ST_EPARSE, NULL, NULL, "bad domain" },
	{ "lonely.test", 12, ST_EPARSE, "lonely.test", NULL, "no group" },
	{ "a.test,b,c", 13, ST_EPARSE, "a.test", NULL, "more than two" },
	{ "a.test,", 14, ST_EPARSE, "a.test", NULL, "empty group" },
	{ "a.test,\"open", 15, ST_EPARSE, "a.test", NULL, "unterminated" },
	{ "a.test,\"x\"y", 16, ST_EPARSE, "a.test", NULL, "after a quoted" },
	{ "a.test,x\"y", 17, ST_EPARSE, "a.test", NULL, "quote inside" },
	{ "a.test,bad\xff", 18, ST_EPARSE, "a.test", NULL, "UTF-8" },
	{ "a.test,tab\x01", 19, ST_EPARSE, "a.test", NULL, "control" },
	{ "a.test,\xc0\xaf", 20, ST_EPARSE, "a.test", NULL, "UTF-8" },
	{ "a.test,\xe2\x82", 21, ST_EPARSE, "a.test", NULL, "UTF-8" },
	{ "a..test,R", 22, ST_EPARSE, NULL, NULL, "bad domain" },
	{ "a.test,\"" "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789" "0123456789\"", 23,
	  ST_EPARSE, "a.test", NULL, "longer than 128" },
};

static void test_rows(void **state)
{
	struct an_groups *g;
	char why[256];

	(void)state;
	assert_int_equal(an_groups_new(&g), ST_OK);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int ret = an_groups_line(g, r->line, strlen(r->line),
					 r->lineno, why, sizeof(why));

		if (ret != r->ret)
			fail_msg("row %zu (%s): %d, want %d (%s)", i, r->line,
				 ret, r->ret, why);
		if (r->why != NULL && strstr(why, r->why) == NULL)
			fail_msg("row %zu: reason \"%s\" lacks \"%s\"", i, why,
				 r->why);
		if (r->ret == ST_OK && r->why == NULL)
			assert_string_equal(why, "");
		if (r->domain != NULL) {
			const char *got = an_groups_of(g, r->domain);

			if (r->group == NULL)
				assert_null(got);
			else if (got == NULL || strcmp(got, r->group) != 0)
				fail_msg("row %zu: %s in %s, want %s", i,
					 r->domain, got ? got : "(null)",
					 r->group);
		}
	}
	assert_int_equal(an_groups_domains(g), 5);
	assert_int_equal(an_groups_labels(g), 4);
	an_groups_free(g);
}

/* Each label is stored once, however many domains it has. */
static void test_labels_shared(void **state)
{
	struct an_groups *g;
	char line[64];

	(void)state;
	assert_int_equal(an_groups_new(&g), ST_OK);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "d%d.test,R%d", i, i % 3);

		assert_int_equal(an_groups_line(g, line, (size_t)n,
						(uint64_t)i + 1, NULL, 0),
				 ST_OK);
	}
	assert_int_equal(an_groups_domains(g), 1000);
	assert_int_equal(an_groups_labels(g), 3);
	assert_ptr_equal(an_groups_of(g, "d0.test"), an_groups_of(g, "d3.test"));
	assert_string_equal(an_groups_of(g, "d5.test"), "R2");
	assert_null(an_groups_of(g, "d1000.test"));
	an_groups_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_labels_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
