/*
 * test_an_findings.c - the finding table (DESIGN §4) and finding lists.
 *
 * The table is the single place a code's name lives and names are stored in
 * results, so these tests pin its shape: one row per enum value, in order,
 * names unique and prefixed by their layer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "an_findings.h"
#include "st_error.h"

static const enum an_layer all_layers[] = {
	AN_LAYER_INPUT,       AN_LAYER_STS_RECORD, AN_LAYER_POLICY_HOST,
	AN_LAYER_HTTP,        AN_LAYER_POLICY,     AN_LAYER_CONSISTENCY,
	AN_LAYER_MX_TLS,      AN_LAYER_TLSRPT,     AN_LAYER_LONGITUDINAL,
};

#define N_LAYERS (sizeof(all_layers) / sizeof(all_layers[0]))

/* Every code has its own row, at its own index. */
static void test_table_rows(void **state)
{
	(void)state;
	for (int i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *info = an_code_info((enum an_code)i);

		assert_non_null(info);
		assert_int_equal(info->code, i);
		assert_non_null(info->name);
		assert_non_null(info->description);
		assert_non_null(info->rfc);
		assert_true(info->rfc[0] != '\0');
		assert_true(info->severity == AN_SEV_INFO ||
			    info->severity == AN_SEV_WARN ||
			    info->severity == AN_SEV_ERROR);
	}
	assert_null(an_code_info(AN_F_COUNT));
	assert_null(an_code_info((enum an_code)(AN_F_COUNT + 100)));
	assert_null(an_code_info((enum an_code)-1));
}

/* Names are "<layer>.<rest>": lower-case letters, digits and '-', the layer
 * part equal to the row's layer name. */
static void test_table_names(void **state)
{
	(void)state;
	for (int i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *info = an_code_info((enum an_code)i);
		const char *name = info->name;
		const char *layer = an_layer_name(info->layer);
		const char *dot = strchr(name, '.');
		size_t llen = strlen(layer);

		if (dot == NULL || (size_t)(dot - name) != llen ||
		    strncmp(name, layer, llen) != 0 || dot[1] == '\0')
			fail_msg("code %d: name \"%s\" is not \"%s.<something>\"",
				 i, name, layer);
		for (const char *p = dot + 1; *p != '\0'; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			      *p == '-'))
				fail_msg("code %d: name \"%s\" has '%c'", i, name, *p);
		}
		assert_true(dot[strlen(dot) - 1] != '-');
	}
}

static void test_table_names_unique(void **state)
{
	(void)state;
	for (int i = 0; i < AN_F_COUNT; i++) {
		const char *a = an_code_info((enum an_code)i)->name;

		for (int j = 0; j < i; j++) {
			if (strcmp(a, an_code_info((enum an_code)j)->name) == 0)
				fail_msg("codes %d and %d share the name \"%s\"",
					 j, i, a);
		}
	}
}

/* One line, no trailing period (an_findings.h). */
static void test_table_descriptions(void **state)
{
	(void)state;
	for (int i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *info = an_code_info((enum an_code)i);
		size_t len = strlen(info->description);

		if (len == 0 || info->description[len - 1] == '.' ||
		    strchr(info->description, '\n') != NULL)
			fail_msg("code %s: description \"%s\"", info->name,
				 info->description);
	}
}

static void test_code_from_name(void **state)
{
	enum an_code code;

	(void)state;
	for (int i = 0; i < AN_F_COUNT; i++) {
		code = AN_F_COUNT;
		assert_int_equal(an_code_from_name(an_code_info((enum an_code)i)->name,
						   &code), ST_OK);
		assert_int_equal(code, i);
	}
	assert_int_equal(an_code_from_name("policy.max-age-invalid", &code), ST_OK);
	assert_int_equal(code, AN_F_POLICY_MAX_AGE_INVALID);
	/* RFC 8461 §3.1 / RFC 8460 §3: a record discarded among several
	 * changes nothing for senders, so it is a warning, not an error. */
	assert_int_equal(an_code_from_name("sts-record.discarded", &code), ST_OK);
	assert_int_equal(code, AN_F_STS_DISCARDED);
	assert_int_equal(an_code_info(code)->severity, AN_SEV_WARN);
	assert_int_equal(an_code_info(code)->layer, AN_LAYER_STS_RECORD);
	assert_int_equal(an_code_from_name("tlsrpt.discarded", &code), ST_OK);
	assert_int_equal(code, AN_F_TLSRPT_DISCARDED);
	assert_int_equal(an_code_info(code)->severity, AN_SEV_WARN);
	assert_int_equal(an_code_info(code)->layer, AN_LAYER_TLSRPT);

	code = AN_F_STS_NONE;
	assert_int_equal(an_code_from_name("policy.no-such-code", &code), ST_ENOENT);
	assert_int_equal(an_code_from_name("", &code), ST_ENOENT);
	assert_int_equal(an_code_from_name("policy", &code), ST_ENOENT);
	assert_int_equal(an_code_from_name("policy.empty ", &code), ST_ENOENT);
	assert_int_equal(an_code_from_name("sts-record.non", &code), ST_ENOENT);
	assert_int_equal(an_code_from_name("sts-record.none.x", &code), ST_ENOENT);
	assert_int_equal(code, AN_F_STS_NONE);
}

static void test_severity_and_layer_names(void **state)
{
	(void)state;
	assert_string_equal(an_severity_name(AN_SEV_INFO), "info");
	assert_string_equal(an_severity_name(AN_SEV_WARN), "warn");
	assert_string_equal(an_severity_name(AN_SEV_ERROR), "error");
	assert_non_null(an_severity_name((enum an_severity)42));

	assert_string_equal(an_layer_name(AN_LAYER_INPUT), "input");
	assert_string_equal(an_layer_name(AN_LAYER_STS_RECORD), "sts-record");
	assert_string_equal(an_layer_name(AN_LAYER_POLICY_HOST), "policy-host");
	assert_string_equal(an_layer_name(AN_LAYER_HTTP), "http");
	assert_string_equal(an_layer_name(AN_LAYER_POLICY), "policy");
	assert_string_equal(an_layer_name(AN_LAYER_CONSISTENCY), "consistency");
	assert_string_equal(an_layer_name(AN_LAYER_MX_TLS), "mx-tls");
	assert_string_equal(an_layer_name(AN_LAYER_TLSRPT), "tlsrpt");
	assert_string_equal(an_layer_name(AN_LAYER_LONGITUDINAL), "longitudinal");
	assert_non_null(an_layer_name((enum an_layer)42));
	for (size_t i = 0; i < N_LAYERS; i++) {
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(an_layer_name(all_layers[i]),
						an_layer_name(all_layers[j]));
	}
}

/* DESIGN §4: every layer has at least one code. */
static void test_every_layer_used(void **state)
{
	(void)state;
	for (size_t l = 0; l < N_LAYERS; l++) {
		bool used = false;

		for (int i = 0; i < AN_F_COUNT && !used; i++)
			used = an_code_info((enum an_code)i)->layer == all_layers[l];
		if (!used)
			fail_msg("layer %s has no code", an_layer_name(all_layers[l]));
	}
}

static void test_add_default_severity(void **state)
{
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.dropped, 0);
	an_findings_add(&f, AN_F_POLICY_MAX_AGE_SHORT, "max_age %d", 3600);
	an_findings_add(&f, AN_F_STS_NONE, NULL);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.item[0].code, AN_F_POLICY_MAX_AGE_SHORT);
	assert_int_equal(f.item[0].severity,
			 an_code_info(AN_F_POLICY_MAX_AGE_SHORT)->severity);
	assert_string_equal(f.item[0].detail, "max_age 3600");
	assert_int_equal(f.item[1].severity, an_code_info(AN_F_STS_NONE)->severity);
	assert_string_equal(f.item[1].detail, ""); /* NULL format: no detail */

	an_findings_init(&f);
	assert_int_equal(f.n, 0);
	assert_false(an_findings_has(&f, AN_F_STS_NONE));
}

/* an_findings.h: details are cut to AN_DETAIL_MAX-1 bytes. */
static void test_add_truncates(void **state)
{
	char longs[3 * AN_DETAIL_MAX];
	struct an_findings f;

	(void)state;
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	an_findings_init(&f);
	an_findings_add(&f, AN_F_HTTP_TRANSFER, "%s", longs);
	assert_int_equal(strlen(f.item[0].detail), AN_DETAIL_MAX - 1);
	assert_int_equal(f.item[0].detail[AN_DETAIL_MAX - 2], 'a');

	/* Exactly AN_DETAIL_MAX-1 bytes fit whole. */
	longs[AN_DETAIL_MAX - 1] = '\0';
	an_findings_add(&f, AN_F_HTTP_TRANSFER, "%s", longs);
	assert_string_equal(f.item[1].detail, longs);

	an_findings_add_sev(&f, AN_F_HTTP_TRANSFER, AN_SEV_WARN, "%s%s", longs,
			    "tail");
	assert_int_equal(strlen(f.item[2].detail), AN_DETAIL_MAX - 1);
}

/* an_findings.h: every byte outside 0x20-0x7e becomes '?'. */
static void test_add_sanitises(void **state)
{
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	an_findings_add(&f, AN_F_POLICY_SYNTAX, "%s",
			"a\tb\nc\rd\x01" "e\x1b[31mf\x7fg\x80h\xc3\xa9i\xff j~");
	assert_string_equal(f.item[0].detail, "a?b?c?d?e?[31mf?g?h??i? j~");
	for (const char *p = f.item[0].detail; *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);

	an_findings_add_sev(&f, AN_F_POLICY_SYNTAX, AN_SEV_WARN, "x%cy", '\n');
	assert_string_equal(f.item[1].detail, "x?y");
}

/* an_findings.h: a full list counts what did not fit, and keeps errors. */
static void test_overflow_counts_dropped(void **state)
{
	struct an_findings f;
	char want[32];

	(void)state;
	an_findings_init(&f);
	for (int i = 0; i < AN_FINDINGS_MAX; i++)
		an_findings_add(&f, AN_F_POLICY_UNKNOWN_KEY, "key %d", i);
	assert_int_equal(f.n, AN_FINDINGS_MAX);
	assert_int_equal(f.dropped, 0);
	for (int i = 0; i < 5; i++)
		an_findings_add(&f, AN_F_STS_NONE, NULL);
	/* Equal severity never displaces: the five info findings are lost. */
	assert_int_equal(f.dropped, 5);
	assert_false(an_findings_has(&f, AN_F_STS_NONE));
	/* An error displaces the latest less severe finding. */
	an_findings_add_sev(&f, AN_F_STS_MULTIPLE, AN_SEV_ERROR, "err");
	assert_int_equal(f.n, AN_FINDINGS_MAX);
	assert_int_equal(f.dropped, 6);
	assert_int_equal(f.item[AN_FINDINGS_MAX - 1].code, AN_F_STS_MULTIPLE);
	assert_int_equal(f.item[AN_FINDINGS_MAX - 1].severity, AN_SEV_ERROR);
	snprintf(want, sizeof(want), "key %d", AN_FINDINGS_MAX - 2);
	assert_string_equal(f.item[AN_FINDINGS_MAX - 2].detail, want);
	/* A list full of errors keeps them all: a warning is dropped. */
	for (int i = 0; i < AN_FINDINGS_MAX; i++)
		an_findings_add_sev(&f, AN_F_STS_SYNTAX, AN_SEV_ERROR, NULL);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_ERROR), AN_FINDINGS_MAX);
	an_findings_add(&f, AN_F_TLSRPT_NONE, NULL);
	assert_false(an_findings_has(&f, AN_F_TLSRPT_NONE));
}

static void test_has_and_count_sev(void **state)
{
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_INFO), 0);
	an_findings_add(&f, AN_F_POLICY_UNKNOWN_KEY, NULL);   /* info */
	an_findings_add(&f, AN_F_POLICY_MAX_AGE_SHORT, NULL); /* warn */
	an_findings_add(&f, AN_F_TLSRPT_NONE, NULL);          /* warn */
	an_findings_add(&f, AN_F_HTTP_NOT_FOUND, NULL);       /* error */
	assert_int_equal(an_code_info(AN_F_POLICY_UNKNOWN_KEY)->severity, AN_SEV_INFO);
	assert_int_equal(an_code_info(AN_F_POLICY_MAX_AGE_SHORT)->severity, AN_SEV_WARN);
	assert_int_equal(an_code_info(AN_F_TLSRPT_NONE)->severity, AN_SEV_WARN);
	assert_int_equal(an_code_info(AN_F_HTTP_NOT_FOUND)->severity, AN_SEV_ERROR);

	assert_int_equal(an_findings_count_sev(&f, AN_SEV_INFO), 4);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_WARN), 3);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_ERROR), 1);
	assert_true(an_findings_has(&f, AN_F_POLICY_UNKNOWN_KEY));
	assert_true(an_findings_has(&f, AN_F_HTTP_NOT_FOUND));
	assert_false(an_findings_has(&f, AN_F_HTTP_STATUS));
	/* Code 0 is a real code, not "empty". */
	assert_false(an_findings_has(&f, AN_F_INPUT_BAD_SYNTAX));
}

/* an_findings_add_sev: the instance severity wins over the default. */
static void test_add_sev_overrides(void **state)
{
	struct an_findings f;

	(void)state;
	an_findings_init(&f);
	assert_int_equal(an_code_info(AN_F_CONS_MX_NOT_COVERED)->severity,
			 AN_SEV_ERROR);
	an_findings_add_sev(&f, AN_F_CONS_MX_NOT_COVERED, AN_SEV_WARN, "%s",
			    "mx2.example.com");
	an_findings_add_sev(&f, AN_F_POLICY_UNKNOWN_KEY, AN_SEV_ERROR, NULL);
	assert_int_equal(f.item[0].severity, AN_SEV_WARN);
	assert_string_equal(f.item[0].detail, "mx2.example.com");
	assert_int_equal(f.item[1].severity, AN_SEV_ERROR);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_ERROR), 1);
	assert_int_equal(an_findings_count_sev(&f, AN_SEV_WARN), 2);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_table_names),
		cmocka_unit_test(test_table_names_unique),
		cmocka_unit_test(test_table_descriptions),
		cmocka_unit_test(test_code_from_name),
		cmocka_unit_test(test_severity_and_layer_names),
		cmocka_unit_test(test_every_layer_used),
		cmocka_unit_test(test_add_default_severity),
		cmocka_unit_test(test_add_truncates),
		cmocka_unit_test(test_add_sanitises),
		cmocka_unit_test(test_overflow_counts_dropped),
		cmocka_unit_test(test_has_and_count_sev),
		cmocka_unit_test(test_add_sev_overrides),
	};

	return cmocka_run_group_tests_name("an_findings", tests, NULL, NULL);
}
