/*
 * test_st_error.c - common/: the error enum's strings and the logger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "st_error.h"
#include "st_log.h"

/* st_error.h: every code has its own non-empty text; unknown values share
 * one generic text, distinct from all of them. */
static void test_strerror(void **state)
{
	const char *generic = st_strerror(ST_EUNKNOWN - 1);

	(void)state;
	assert_non_null(generic);
	assert_true(generic[0] != '\0');
	assert_string_equal(st_strerror(1), generic);
	assert_string_equal(st_strerror(-1000), generic);
	assert_string_equal(st_strerror(0x7fffffff), generic);

	for (int e = ST_OK; e >= ST_EUNKNOWN; e--) {
		const char *s = st_strerror(e);

		assert_non_null(s);
		if (s[0] == '\0')
			fail_msg("st_strerror(%d) is empty", e);
		if (strcmp(s, generic) == 0)
			fail_msg("st_strerror(%d) is the generic \"%s\"", e, s);
		for (int o = ST_OK; o > e; o--) {
			if (strcmp(s, st_strerror(o)) == 0)
				fail_msg("st_strerror(%d) == st_strerror(%d): \"%s\"",
					 e, o, s);
		}
	}
	/* The pointer is static: the same text on every call. */
	assert_ptr_equal(st_strerror(ST_EINVAL), st_strerror(ST_EINVAL));
}

/* st_error.h: 0 is success, failures negative and dense down to the last. */
static void test_error_values(void **state)
{
	(void)state;
	assert_int_equal(ST_OK, 0);
	assert_true(ST_ENOMEM < 0);
	assert_true(ST_EUNKNOWN < ST_ESPACE);
}

static void test_level_parse(void **state)
{
	static const struct {
		const char *name;
		enum st_log_level level;
	} good[] = {
		{ "none", ST_LOG_NONE }, { "error", ST_LOG_ERR },
		{ "warn", ST_LOG_WARN }, { "info", ST_LOG_INFO },
		{ "debug", ST_LOG_DEBUG },
	};
	static const char *const bad[] = {
		"", "verbose", "warning", "err", "debug ", "infos", "3",
	};
	enum st_log_level level;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		level = (enum st_log_level)99;
		assert_int_equal(st_log_level_parse(good[i].name, &level), ST_OK);
		assert_int_equal(level, good[i].level);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		level = ST_LOG_WARN;
		if (st_log_level_parse(bad[i], &level) != ST_EINVAL)
			fail_msg("\"%s\" parsed as a level", bad[i]);
		assert_int_equal(level, ST_LOG_WARN);
	}
}

/* Read everything written to f so far, as a NUL-terminated string. */
static size_t slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	assert_int_equal(fflush(f), 0);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	return n;
}

/* "YYYY-MM-DDTHH:MM:SSZ " */
static void assert_stamp(const char *line)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], shape[i]);
	}
}

/* st_log.h: filtered-out levels write nothing and evaluate no argument. */
static void test_log_filter(void **state)
{
	struct st_log lg;
	char buf[512];
	int counter = 0;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	st_log_init(&lg, ST_LOG_INFO, f);

	ST_DEBUG(&lg, "test", "debug %d", ++counter);
	assert_int_equal(counter, 0);
	assert_int_equal(slurp(f, buf, sizeof(buf)), 0);

	ST_INFO(&lg, "scan", "hello %d", ++counter);
	assert_int_equal(counter, 1);
	ST_WARN(&lg, "fetch", "careful %s", "now");
	ST_ERR(&lg, NULL, "broken %d", ++counter);
	assert_int_equal(counter, 2);
	ST_DEBUG(&lg, "test", "again %d", ++counter);
	assert_int_equal(counter, 2);

	assert_true(slurp(f, buf, sizeof(buf)) > 0);
	{
		const char *l1 = buf;
		const char *l2 = strchr(l1, '\n') + 1;
		const char *l3 = strchr(l2, '\n') + 1;

		assert_stamp(l1);
		assert_memory_equal(l1 + 21, "info [scan] hello 1\n", 20);
		assert_stamp(l2);
		assert_memory_equal(l2 + 21, "warn [fetch] careful now\n", 25);
		assert_stamp(l3);
		assert_memory_equal(l3 + 21, "error [-] broken 2\n", 19);
		assert_string_equal(l3 + 40, "");
	}
	assert_null(strstr(buf, "debug"));
	assert_null(strstr(buf, "again"));
	fclose(f);
}

/* Level none drops everything, even errors; a NULL logger is a no-op. */
static void test_log_none(void **state)
{
	struct st_log lg;
	const struct st_log *nolog = NULL;
	char buf[64];
	int counter = 0;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	st_log_init(&lg, ST_LOG_NONE, f);
	ST_ERR(&lg, "x", "%d", ++counter);
	ST_INFO(nolog, "x", "%d", ++counter);
	assert_int_equal(counter, 0);
	assert_int_equal(slurp(f, buf, sizeof(buf)), 0);

	st_log_init(&lg, ST_LOG_DEBUG, f);
	ST_DEBUG(&lg, "x", "%d", ++counter);
	assert_int_equal(counter, 1);
	assert_true(slurp(f, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, " debug [x] 1\n"));
	fclose(f);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_error_values),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_log_filter),
		cmocka_unit_test(test_log_none),
	};

	return cmocka_run_group_tests_name("st_error", tests, NULL, NULL);
}
