/*
 * test_sc_scan_opts.c - the options of scan and check are declared once
 * (scanner/sc_scan_opts.c): for every row, the generated --help says the
 * row's default and range, a parse without the option yields that default
 * (and so does every layer below that uses the value), and a value outside
 * the range is refused with exit 2 and a message naming the option and the
 * range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <getopt.h>

#include "ft_fetch.h"
#include "ft_smtp.h"
#include "rs_resolver.h"
#include "sc_cli.h"
#include "sc_scan_opts.h"

#define ARGV_MAX 8

/* Parse argv (NULL-terminated) as `stsmap scan` or `check` with stderr
 * sent to a file; *err gets what was written (static buffer). */
static int parse(enum sc_opts_for which, const char **args,
		 struct sc_scan_opts *o, const char **err)
{
	static char buf[4096];
	char *argv[ARGV_MAX + 1];
	FILE *tmp = tmpfile();
	int argc = 0, saved, ret;
	size_t n;

	assert_non_null(tmp);
	for (; args[argc] != NULL; argc++) {
		assert_true(argc < ARGV_MAX);
		argv[argc] = (char *)args[argc];
	}
	argv[argc] = NULL;
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	optind = 0; /* getopt_long starts afresh on argv */
	ret = sc_scan_opts_parse(argc, argv, which, o);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	*err = buf;
	return ret;
}

_Static_assert(offsetof(struct sc_scan_opts, cfg) == 0, "cfg first");

static unsigned scope_of(enum sc_opts_for which)
{
	return which == SC_OPTS_CHECK ? SC_FOR_CHECK : SC_FOR_SCAN;
}

static const char *cmd_of(enum sc_opts_for which)
{
	return which == SC_OPTS_CHECK ? "check" : "scan";
}

/* The rows themselves: names and ids once, defaults within the range, the
 * range within the field. */
static void test_rows(void **state)
{
	size_t n;
	const struct sc_scan_opt *r = sc_scan_opt_rows(&n);

	(void)state;
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(r[i].help);
		assert_true(r[i].scope != 0);
		for (size_t j = i + 1; j < n; j++) {
			assert_string_not_equal(r[i].name, r[j].name);
			assert_int_not_equal(r[i].id, r[j].id);
		}
		if (r[i].kind != SC_OPT_UINT)
			continue;
		assert_true(r[i].size == 2 || r[i].size == 4);
		assert_true(r[i].min <= r[i].def && r[i].def <= r[i].max);
		assert_true(r[i].max <= (r[i].size == 2 ? 65535ull
							: 4294967295ull));
	}
}

/* The help line of every row says its default, its unit and its range. */
static void help_shows(enum sc_opts_for which)
{
	size_t n, len = 0;
	const struct sc_scan_opt *r = sc_scan_opt_rows(&n);
	char *text = NULL;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	sc_scan_opts_usage(out, which);
	fclose(out);
	for (size_t i = 0; i < n; i++) {
		char head[64], want[128], *line;

		snprintf(head, sizeof(head), "\n  --%s%s%s ", r[i].name,
			 r[i].arg != NULL ? " " : "",
			 r[i].arg != NULL ? r[i].arg : "");
		line = strstr(text, head);
		if (!(r[i].scope & scope_of(which))) {
			assert_null(line);
			continue;
		}
		if (line == NULL)
			fail_msg("%s --help has no line for --%s", cmd_of(which),
				 r[i].name);
		*strchr(line + 1, '\n') = '\0';
		want[0] = '\0';
		if (r[i].kind == SC_OPT_UINT)
			snprintf(want, sizeof(want), "(default %llu%s%s, %llu "
				 "to %llu)", r[i].def, r[i].unit ? " " : "",
				 r[i].unit ? r[i].unit : "", r[i].min,
				 r[i].max);
		else if (r[i].def_str != NULL || r[i].def_text != NULL)
			snprintf(want, sizeof(want), "(default %s)",
				 r[i].def_str ? r[i].def_str : r[i].def_text);
		if (strstr(line, want) == NULL)
			fail_msg("--%s: help line '%s' lacks '%s'", r[i].name,
				 line + 1, want);
		*strchr(line + 1, '\0') = '\n';
	}
	free(text);
}

static void test_help_scan(void **state)
{
	(void)state;
	help_shows(SC_OPTS_SCAN);
}

static void test_help_check(void **state)
{
	(void)state;
	help_shows(SC_OPTS_CHECK);
}

/* Without options every row's default is what the parse yields, and what
 * the engine's own default is for the fields of struct sc_config. */
static void test_parsed_defaults(void **state)
{
	static const char *args[] = { "scan", "x.txt", NULL };
	struct sc_scan_opts o, eng;
	size_t n;
	const struct sc_scan_opt *r = sc_scan_opt_rows(&n);
	const char *err;

	(void)state;
	assert_int_equal(parse(SC_OPTS_SCAN, args, &o, &err), 0);
	memset(&eng, 0, sizeof(eng));
	sc_config_default(&eng.cfg);
	for (size_t i = 0; i < n; i++) {
		/* cfg is the first member: offsets below its size are its. */
		bool in_cfg = r[i].off < sizeof(struct sc_config);

		if (r[i].kind == SC_OPT_UINT) {
			if (sc_scan_opt_uint(&o, &r[i]) != r[i].def)
				fail_msg("--%s: parsed %llu, row says %llu",
					 r[i].name, sc_scan_opt_uint(&o, &r[i]),
					 r[i].def);
			if (in_cfg && sc_scan_opt_uint(&eng, &r[i]) != r[i].def)
				fail_msg("--%s: sc_config_default() says %llu, "
					 "row says %llu", r[i].name,
					 sc_scan_opt_uint(&eng, &r[i]),
					 r[i].def);
		} else if (r[i].kind == SC_OPT_STR) {
			const char *v;

			memcpy(&v, (const char *)&o + r[i].off, sizeof(v));
			if (r[i].def_str == NULL)
				assert_null(v);
			else
				assert_string_equal(v, r[i].def_str);
		} else if (r[i].kind == SC_OPT_FLAG) {
			bool v;

			memcpy(&v, (const char *)&o + r[i].off, sizeof(v));
			assert_false(v);
		}
	}
	assert_int_equal(o.format, DS_FMT_AUTO);
	assert_int_equal(o.log.level, ST_LOG_WARN);
	assert_int_equal(o.shard_n, 1);
}

/* The layers below use the value the option hands them: their own
 * defaults are the same names, so a library user and `stsmap scan` agree
 * (the --https-timeout of the help was once 30 s and ft_fetch.h's 60 s). */
static void test_lower_defaults(void **state)
{
	static const char *args[] = { "scan", "x.txt", NULL };
	struct sc_scan_opts o;
	struct rs_config rc;
	struct ft_config fc;
	struct ft_smtp_config sm;
	const char *err;

	(void)state;
	assert_int_equal(parse(SC_OPTS_SCAN, args, &o, &err), 0);
	rs_config_default(&rc);
	ft_config_default(&fc);
	ft_smtp_config_default(&sm);
	assert_int_equal(o.cfg.qps, rc.qps);
	assert_int_equal(o.cfg.dns_timeout_ms, rc.timeout_ms);
	assert_int_equal(o.cfg.dns_retries, rc.retries);
	/* --dns-inflight 0 follows --inflight (below) */
	assert_int_equal(o.cfg.dns_inflight, 0);
	assert_int_equal(o.cfg.https_max, fc.max_transfers);
	assert_int_equal(o.cfg.https_connect_ms, fc.connect_timeout_ms);
	assert_int_equal(o.cfg.https_timeout_ms, fc.total_timeout_ms);
	assert_int_equal(o.cfg.smtp_max, sm.max_probes);
	assert_int_equal(o.cfg.smtp_timeout_ms, sm.timeout_ms);
	assert_int_equal(o.cfg.smtp_port, sm.port);
	assert_string_equal(o.cfg.ehlo_name, FT_SMTP_DEFAULT_EHLO);
	/* the per-IP caps: the option table's defaults are the fetcher's
	 * and the prober's, and sc_config_default()'s */
	assert_int_equal(o.cfg.https_per_ip, fc.per_ip_max);
	assert_int_equal(o.cfg.https_per_ip_rate, fc.per_ip_rate);
	assert_int_equal(o.cfg.smtp_per_ip, sm.per_ip_max);
	assert_int_equal(o.cfg.smtp_per_ip_rate, sm.per_ip_rate);
	assert_false(o.cfg.probe_every_mx);
}

/* One value of --name: refused (2, the option and the range named) or
 * taken (0, stored). */
static void try_value(enum sc_opts_for which, const struct sc_scan_opt *r,
		      const char *v, bool ok)
{
	char opt[64], want[128];
	const char *args[] = { cmd_of(which), opt, v,
			       which == SC_OPTS_CHECK ? "a.test" : "x.txt",
			       NULL };
	struct sc_scan_opts o;
	const char *err;
	int ret;

	snprintf(opt, sizeof(opt), "--%s", r->name);
	ret = parse(which, args, &o, &err);
	if (ok) {
		if (ret != 0)
			fail_msg("%s %s %s: %d (%s)", args[0], opt, v, ret, err);
		assert_int_equal(sc_scan_opt_uint(&o, r), strtoull(v, NULL, 10));
		return;
	}
	snprintf(want, sizeof(want), "--%s must be a number from %llu to %llu",
		 r->name, r->min, r->max);
	if (ret != 2 || strstr(err, want) == NULL)
		fail_msg("%s %s %s: %d, '%s' (want 2, '%s')", args[0], opt, v,
			 ret, err, want);
}

static void ranges(enum sc_opts_for which)
{
	size_t n;
	const struct sc_scan_opt *r = sc_scan_opt_rows(&n);

	for (size_t i = 0; i < n; i++) {
		char v[32];

		if (r[i].kind != SC_OPT_UINT || !(r[i].scope & scope_of(which)))
			continue;
		snprintf(v, sizeof(v), "%llu", r[i].min);
		try_value(which, &r[i], v, true);
		snprintf(v, sizeof(v), "%llu", r[i].max);
		try_value(which, &r[i], v, true);
		snprintf(v, sizeof(v), "%llu", r[i].max + 1);
		try_value(which, &r[i], v, false);
		if (r[i].min > 0) {
			snprintf(v, sizeof(v), "%llu", r[i].min - 1);
			try_value(which, &r[i], v, false);
		}
		try_value(which, &r[i], "-1", false);
		try_value(which, &r[i], "12x", false);
		try_value(which, &r[i], "", false);
	}
}

static void test_ranges_scan(void **state)
{
	(void)state;
	ranges(SC_OPTS_SCAN);
}

static void test_ranges_check(void **state)
{
	(void)state;
	ranges(SC_OPTS_CHECK);
}

/* An option of scan only is unknown to check: a usage error. */
static void test_scope(void **state)
{
	static const char *args[] = { "check", "--batch", "5", "a.test", NULL };
	struct sc_scan_opts o;
	const char *err;

	(void)state;
	assert_int_equal(parse(SC_OPTS_CHECK, args, &o, &err), 2);
	assert_non_null(strstr(err, "usage: stsmap check"));
}

/* --dns-inflight unset: three questions per domain in flight (each
 * domain's three lookups at once), so the default never holds a domain
 * back whatever --inflight is (a fixed 1,000 once capped a scan at 1,000 /
 * RTT questions/s); given, it is kept. */
static void test_dns_inflight_follows(void **state)
{
	static struct {
		const char *args[5];
		unsigned want;
	} rows[] = {
		{ { "scan", "x.txt", NULL }, 3 * SC_DEFAULT_INFLIGHT },
		{ { "scan", "--inflight", "20000", "x.txt", NULL }, 60000 },
		{ { "scan", "--inflight", "1000000", "x.txt", NULL }, 300000 },
		{ { "scan", "--dns-inflight", "700", "x.txt", NULL }, 700 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sc_scan_opts o;
		const char *err;

		assert_int_equal(parse(SC_OPTS_SCAN, rows[i].args, &o, &err), 0);
		assert_int_equal(sc_config_dns_inflight(&o.cfg), rows[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_help_scan),
		cmocka_unit_test(test_help_check),
		cmocka_unit_test(test_parsed_defaults),
		cmocka_unit_test(test_lower_defaults),
		cmocka_unit_test(test_dns_inflight_follows),
		cmocka_unit_test(test_ranges_scan),
		cmocka_unit_test(test_ranges_check),
		cmocka_unit_test(test_scope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
