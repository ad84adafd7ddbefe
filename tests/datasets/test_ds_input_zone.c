/*
 * test_ds_input_zone.c - zone files as RFC 1035 §5 and BIND read them
 * (datasets/ds_input_zone.c, through the ds_input API).  One row per rule,
 * with the sentence it comes from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ds_input.h"
#include "st_error.h"

#define MAX_WANT 6

struct want {
	uint64_t line;
	const char *domain; /* a delegation, or NULL for a bad line */
	const char *why;    /* the reason of a bad line */
};

struct zone_case {
	const char *rule;   /* the RFC sentence or BIND behaviour */
	const char *text;
	struct want w[MAX_WANT];
	size_t nw;
	uint64_t lines;
};

#define SOA "@ IN SOA ns hostmaster 1 7200 3600 1209600 300\n"

static const struct zone_case cases[] = {
	{ "RFC 1035 §5.1: <domain-name> [<TTL>] [<class>] <type> <RDATA> and "
	  "<domain-name> [<class>] [<TTL>] <type> <RDATA>",
	  "$ORIGIN example.\n" SOA
	  "a IN 7200 NS ns.a\n"
	  "b 7200 IN NS ns.b\n"
	  "c in 1h NS ns.c\n"
	  "\tIN 300 NS ns2.c\n",
	  { { 3, "a.example", NULL }, { 4, "b.example", NULL },
	    { 5, "c.example", NULL } }, 3, 6 },
	{ "RFC 1035 §5.1: parentheses group data that crosses a line "
	  "boundary; an unclosed '(' is refused at its line, the indented "
	  "lines it swallowed are lost, reading resumes at the next record",
	  "$ORIGIN example.\n" SOA
	  "c IN TXT ( \"x\"\n"
	  "\t\"more\"\n"
	  "\n"
	  "d NS ns\n"
	  "e NS ns\n",
	  { { 3, NULL, "unclosed '('" },
	    { 4, NULL, "lost: continues the unclosed '(' of line 3" },
	    { 6, "d.example", NULL }, { 7, "e.example", NULL } }, 4, 7 },
	{ "RFC 1035 §5.1: parentheses do not nest; a '(' inside an open one "
	  "ends the broken record",
	  "$ORIGIN example.\n" SOA
	  "a NS ( ns\n"
	  "b TXT ( \"x\" )\n"
	  "c NS ns\n",
	  { { 3, NULL, "unclosed '(' ('(' inside parentheses)" },
	    { 5, "c.example", NULL } }, 2, 5 },
	{ "RFC 1035 §5.1: a ')' closes a '('",
	  "$ORIGIN example.\n" SOA
	  "a NS ns )\n"
	  "b NS ns\n",
	  { { 3, NULL, "')' without '('" }, { 4, "b.example", NULL } },
	  2, 4 },
	{ "RFC 1035 §5.2: a master file holds one zone; BIND ignores "
	  "out-of-zone data",
	  "$ORIGIN example.\n" SOA
	  "other.org. NS ns.x.\n"
	  "sub NS ns\n"
	  "$ORIGIN org.\n"
	  "x NS ns.x.\n",
	  { { 3, NULL, "outside the zone example." },
	    { 4, "sub.example", NULL },
	    { 6, NULL, "outside the zone example." } }, 3, 6 },
	{ "RFC 1035 §5.1: $ORIGIN sets the origin; without an SOA the zone "
	  "is the $ORIGIN in force at the first NS",
	  "$ORIGIN com.\n"
	  "example NS ns.\n"
	  "example.org. NS ns.\n",
	  { { 2, "example.com", NULL }, { 3, NULL, "outside the zone com." } },
	  2, 3 },
	{ "RFC 1035 §5.2: exactly one SOA RR should be present at the top of "
	  "the zone: an NS record before it is the apex's, not a delegation",
	  "example.com. NS ns1.example.com.\n"
	  "example.com. NS ns2.example.com.\n"
	  "example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5\n"
	  "sub.example.com. NS x.\n",
	  { { 4, "sub.example.com", NULL } }, 1, 4 },
	{ "RFC 1035 §5.2: the SOA names the zone; an NS record before it of "
	  "another owner in the zone is a delegation",
	  "a.example.com. NS ns.\n"
	  "example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5\n"
	  "example.com. NS ns.\n",
	  { { 1, "a.example.com", NULL } }, 1, 3 },
	{ "RFC 1035 §5.2 (the SOA names the zone), in line order: a bad line "
	  "or another owner before the SOA ends the holding of the first NS "
	  "owner, which is then a delegation",
	  "example.com. NS ns.\n"
	  "$FOO\n"
	  "example.org. NS ns.\n"
	  "example.com. SOA ns.example.com. h.example.com. 1 2 3 4 5\n",
	  { { 1, "example.com", NULL }, { 2, NULL, "unknown $ directive" },
	    { 3, "example.org", NULL } },
	  3, 4 },
	{ "RFC 1035 §5.1: a relative $ORIGIN is relative to the current one",
	  "$ORIGIN example.\n" SOA
	  "$ORIGIN sub\n"
	  "x NS ns\n",
	  { { 4, "x.sub.example", NULL } }, 1, 4 },
	{ "BIND: $GENERATE is a BIND extension; not expanded, refused",
	  "$ORIGIN example.\n"
	  "$GENERATE 1-3 host$ NS ns.example.\n"
	  "z NS ns\n",
	  { { 2, NULL, "$GENERATE refused (a BIND extension, not expanded)" },
	    { 3, "z.example", NULL } }, 2, 3 },
	{ "RFC 1035 §5.1: $INCLUDE would read another file: refused",
	  "$ORIGIN example.\n"
	  "$INCLUDE /etc/passwd\n"
	  "z NS ns\n",
	  { { 2, NULL, "$INCLUDE refused" }, { 3, "z.example", NULL } },
	  2, 3 },
	{ "RFC 1035 §5.1: the control entries are $ORIGIN and $INCLUDE "
	  "($TTL: RFC 2308 §4); others are refused",
	  "$ORIGIN example.\n"
	  "$FOO bar\n"
	  "$TTL abc\n"
	  "$TTL 1h\n"
	  "z NS ns\n",
	  { { 2, NULL, "unknown $ directive" }, { 3, NULL, "bad $TTL value" },
	    { 5, "z.example", NULL } }, 3, 5 },
};

static void run_case(const struct zone_case *c)
{
	struct ds_input *in = NULL;
	struct ds_input_item it;
	size_t n = 0;
	int ret;

	print_message("case: %s\n", c->rule);
	assert_int_equal(ds_input_open_memory(c->text, strlen(c->text),
					      DS_FMT_ZONE, &in), ST_OK);
	while ((ret = ds_input_next(in, &it)) == 1) {
		assert_true(n < c->nw);
		assert_int_equal(it.line, c->w[n].line);
		if (c->w[n].domain != NULL) {
			assert_int_equal(it.error, ST_OK);
			assert_string_equal(it.domain, c->w[n].domain);
		} else {
			assert_int_equal(it.error, ST_EPARSE);
			assert_string_equal(it.why, c->w[n].why);
		}
		n++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(n, c->nw);
	assert_int_equal(ds_input_lines(in), c->lines);
	ds_input_close(in);
}

static void test_zone_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* The case from the field: one unclosed '(' before 1,000 delegations
 * costs one bad line, not the 1,000 records after it. */
static void test_zone_unclosed_1000(void **state)
{
	size_t cap = 64 * 1024, n = 0, good = 0, bad = 0;
	char *text = malloc(cap);
	struct ds_input *in = NULL;
	struct ds_input_item it;
	int ret;

	(void)state;
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n,
			      "$ORIGIN example.\n" SOA "bad TXT ( \"x\"\n");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, cap - n, "d%d NS ns\n", i);
	assert_true(n < cap);
	assert_int_equal(ds_input_open_memory(text, n, DS_FMT_ZONE, &in),
			 ST_OK);
	while ((ret = ds_input_next(in, &it)) == 1) {
		if (it.error != ST_OK) {
			assert_int_equal(it.line, 3);
			assert_string_equal(it.why, "unclosed '('");
			bad++;
			continue;
		}
		assert_int_equal(it.line, 4 + good);
		good++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(bad, 1);
	assert_int_equal(good, 1000);
	assert_int_equal(ds_input_lines(in), 1003);
	ds_input_close(in);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_cases),
		cmocka_unit_test(test_zone_unclosed_1000),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
