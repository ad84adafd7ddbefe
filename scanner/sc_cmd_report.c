/*
 * sc_cmd_report.c - `stsmap report`: statistics of one scan (text, JSON or
 * HTML), computed from one read snapshot of the store while a scan may
 * still be writing (analysis/an_report.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an_report.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_groups.h"
#include "sc_out.h"
#include "st_error.h"

enum { RP_DB = 1, RP_SCAN, RP_FORMAT, RP_OUT, RP_TOP, RP_GROUPS };

static const struct sc_opt report_opts[] = {
	{ "db", "FILE", RP_DB, "result store (default stsmap.lmdb)" },
	{ "scan", "ID", RP_SCAN, "scan to report on (default: the latest)" },
	{ "format", "F", RP_FORMAT, "text (default), json or html" },
	{ "output", "FILE", RP_OUT, "write here instead of stdout (also -o)" },
	{ "top", "N", RP_TOP, "rows per breakdown table (default 20)" },
	{ "groups", "FILE", RP_GROUPS, "domain,group CSV: add a \"By group\" "
	  "table (registrars, resellers)" },
	SC_OPT_END,
};

struct report_args {
	const char *db, *outpath, *groups;
	const struct an_report_writer *w;
	struct an_report_opts ro;
	bool out_reported; /* an output failure was named on stderr */
};

/* -o FILE and -oFILE are spelt --output: the option table has long names
 * only.  args is argc + 1 pointers; "--output=" strings go to buf. */
static int short_o(int argc, char **argv, char **args, char *buf, size_t cap)
{
	size_t used = 0;

	for (int i = 0; i < argc; i++) {
		args[i] = argv[i];
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-o") == 0) {
			args[i] = "--output";
		} else if (strncmp(argv[i], "-o", 2) == 0) {
			int n = snprintf(buf + used, cap - used, "--output=%s",
					 argv[i] + 2);

			if (n < 0 || (size_t)n >= cap - used)
				return ST_ETOOBIG;
			args[i] = buf + used;
			used += (size_t)n + 1;
		}
	}
	for (int i = 0; i < argc; i++) {
		if (args[i] == NULL)
			args[i] = argv[i]; /* after "--" */
	}
	args[argc] = NULL;
	return ST_OK;
}

static int parse(int argc, char **argv, struct report_args *a)
{
	static const char synopsis[] = "report [--db FILE] [--scan ID] "
		"[--format text|json|html] [-o FILE] [--groups FILE]";
	static const char summary[] = "Aggregate statistics of one scan: "
		"adoption, verdicts, modes, max_age,\nfindings, TLS-RPT, DANE, "
		"rank tiers, TLDs, MX and policy host providers, and groups.";
	unsigned long long v;
	const char *arg;
	int c;

	while ((c = sc_opt_next(argc, argv, report_opts, &arg)) != -1) {
		switch (c) {
		case RP_DB: a->db = arg; break;
		case RP_OUT: a->outpath = arg; break;
		case RP_GROUPS: a->groups = arg; break;
		case RP_SCAN:
			if (sc_opt_u64(arg, UINT32_MAX, &v) != ST_OK || v == 0) {
				fprintf(stderr, "stsmap report: bad --scan\n");
				return 2;
			}
			a->ro.scan = (uint32_t)v;
			break;
		case RP_TOP:
			if (sc_opt_u64(arg, AN_REPORT_TOP_MAX, &v) != ST_OK ||
			    v == 0) {
				fprintf(stderr, "stsmap report: --top must be 1 "
						"to %d\n", AN_REPORT_TOP_MAX);
				return 2;
			}
			a->ro.top = (size_t)v;
			break;
		case RP_FORMAT:
			a->w = an_report_writer(arg);
			if (a->w != NULL)
				break;
			fprintf(stderr, "stsmap report: unknown format %s "
					"(text, json or html)\n", arg);
			return 2;
		case SC_OPT_HELP:
			sc_opt_usage(stdout, synopsis, summary, report_opts);
			return 0;
		default:
			sc_opt_usage(stderr, synopsis, summary, report_opts);
			return 2;
		}
	}
	if (optind != argc) {
		sc_opt_usage(stderr, synopsis, summary, report_opts);
		return 2;
	}
	return -1;
}

/* Build and write the report; ST_* on failure. */
static int run(struct report_args *a, char *why, size_t why_len)
{
	struct ds_store_opts so;
	struct ds_store *s = NULL;
	struct ds_reader *r = NULL;
	struct an_report *rep = NULL;
	struct sc_out out = { 0 };
	int ret;

	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(a->db, &so, &s, why, why_len);
	if (ret == ST_OK)
		ret = ds_reader_open(s, &r);
	if (ret == ST_OK)
		ret = an_report_build(r, &a->ro, &rep);
	if (ret != ST_OK)
		goto cleanup;
	ret = sc_out_open(&out, "report", a->outpath);
	if (ret != ST_OK) {
		a->out_reported = true;
		goto cleanup;
	}
	ret = a->w->write(out.fp, rep);
	/* A failed write is the output's, named there, not the store's. */
	if (sc_out_close(&out, "report") != ST_OK) {
		a->out_reported = true;
		ret = ST_EIO;
	}
	if (rep->undecodable > 0)
		fprintf(stderr, "stsmap report: %llu records could not be "
				"decoded\n", (unsigned long long)rep->undecodable);
cleanup:
	an_report_free(rep);
	ds_reader_close(r);
	ds_store_close(s);
	return ret;
}

int sc_cmd_report(int argc, char **argv)
{
	char why[DS_STORE_WHY_MAX] = "";
	struct report_args a = { .db = "stsmap.lmdb" };
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	char buf[4096];
	struct an_groups *groups = NULL;
	int ret;

	if (args == NULL || short_o(argc, argv, args, buf, sizeof(buf)) !=
			    ST_OK) {
		fprintf(stderr, "stsmap report: arguments too long\n");
		free(args);
		return 2;
	}
	a.w = an_report_writer("text");
	a.ro.version = STSMAP_VERSION;
	ret = parse(argc, args, &a);
	if (ret >= 0) {
		free(args);
		return ret;
	}
	if (a.groups != NULL) {
		ret = sc_groups_load("report", a.groups, &groups);
		if (ret != ST_OK) {
			free(args);
			return ret == ST_EPARSE ? 2 : 1;
		}
		a.ro.groups = groups;
	}
	ret = run(&a, why, sizeof(why));
	an_groups_free(groups);
	free(args);
	if (ret != ST_OK && a.out_reported)
		return 1;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap report: %s: %s\n",
			ret == ST_EIO && a.outpath != NULL ? a.outpath : a.db,
			why[0] != '\0' ? why : ret == ST_ENOENT ?
			"no such store or scan" : st_strerror(ret));
		return 1;
	}
	return 0;
}
