/*
 * sc_cmd_export.c - `stsmap export`: every record of a scan, streamed from
 * one read snapshot (flat memory whatever the scan's size) into a writer
 * of analysis/an_export.h chosen by --format; --registry DIR writes the
 * registry's mail-merge CSV and one directory of files per broken domain.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "an_classify.h"
#include "an_export.h"
#include "an_findings.h"
#include "an_record.h"
#include "ds_input.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_export_groups.h"
#include "sc_groups.h"
#include "sc_out.h"
#include "st_error.h"

#define OUT_BUF (1u << 20)
#define REG_CSV "registry.csv"

enum { EX_DB = 1, EX_SCAN, EX_FORMAT, EX_OUT, EX_FINDING, EX_VERDICT,
       EX_TLD, EX_BODIES, EX_REGISTRY, EX_NOW, EX_GROUPS, EX_BY_GROUP };

static const struct sc_opt export_opts[] = {
	{ "db", "FILE", EX_DB, "result store (stsmap.lmdb)" },
	{ "scan", "ID", EX_SCAN, "scan to export (default: the latest)" },
	{ "format", "F", EX_FORMAT, "jsonl (default), csv or registry" },
	{ "output", "FILE", EX_OUT, "write here instead of stdout" },
	{ "finding", "CODE", EX_FINDING, "only domains with this finding" },
	{ "verdict", "V", EX_VERDICT, "only domains with this verdict" },
	{ "tld", "T", EX_TLD, "only domains under this TLD" },
	{ "bodies", NULL, EX_BODIES, "jsonl: include each policy body" },
	{ "registry", "DIR", EX_REGISTRY, "registry mode: DIR/" REG_CSV
					  " and DIR/DOMAIN/{mta-sts,README}"
					  ".txt per domain needing a fix" },
	{ "groups", "FILE", EX_GROUPS, "domain,group CSV (registrars, "
				       "resellers) for --by-group" },
	{ "by-group", NULL, EX_BY_GROUP, "with --registry: one folder per "
					 "group (DIR/groups.csv lists them)" },
	{ "now", "UNIXTIME", EX_NOW, "time the ids of suggested fixes "
				     "derive from (default: now)" },
	SC_OPT_END,
};

struct export_ctx {
	struct ds_reader *r;
	struct an_export *x;
	struct an_export_filter f;
	bool bodies;
	const char *dir;      /* --registry */
	struct sc_xgroups *xg; /* --by-group, else NULL */
	struct an_groups *groups; /* --groups, else NULL */
	uint64_t bad;
	bool out_reported;    /* an output failure was named on stderr */
	char tld[DS_NAME_MAX + 1]; /* --tld, normalised */
};

struct export_args {
	const char *db, *outpath, *format, *dir, *groups;
	unsigned long long id, now;
	bool now_set, by_group;
};

static int one(const char *domain, size_t domain_len, const uint8_t *data,
	       size_t len, void *arg)
{
	struct export_ctx *c = arg;
	const uint8_t *body = NULL;
	size_t body_len = 0;
	struct an_record rec;

	(void)domain;
	(void)domain_len;
	if (an_record_decode(data, len, &rec) != ST_OK) {
		c->bad++;
		return 0;
	}
	if (!an_export_selected(&c->f, &rec))
		return 0;
	if (c->bodies && rec.have_body &&
	    ds_reader_body(c->r, rec.body_hash, &body, &body_len) != ST_OK)
		body = NULL;
	if (c->xg != NULL)
		return sc_xgroups_record(c->xg, &rec);
	return an_export_record(c->x, &rec, body, body_len);
}

/* The registry writer's file callback: DIR/relpath, with its directory. */
static int write_file(void *arg, const char *relpath, const char *data,
		      size_t len)
{
	struct export_ctx *c = arg;

	return sc_export_write_file(c->dir, relpath, data, len,
				    &c->out_reported);
}

/*
 * --tld as stored names spell it: "TEST", ".test", "test." and a U-label
 * all become the lower-case A-label, as opt-out entries do
 * (ds_suffix_normalise()).
 */
static int norm_tld(const char *arg, char out[DS_NAME_MAX + 1])
{
	const char *t = arg[0] == '.' ? arg + 1 : arg;
	size_t n = strlen(t);

	if (n > 0 && t[n - 1] == '.')
		n--;
	if (n == 0 || memchr(t, '.', n) != NULL)
		return ST_EINVAL; /* one label */
	return ds_suffix_normalise(t, n, out, NULL);
}

static int parse_args(int argc, char **argv, struct export_args *a,
		      struct export_ctx *c)
{
	static const char synopsis[] = "export [--db FILE] [--scan ID] "
				       "[--format jsonl|csv|registry] "
				       "[--registry DIR [--by-group --groups FILE]] "
				       "[filters]";
	static const char summary[] = "Write one line or row per domain of a "
				      "scan.";
	const char *arg;
	enum an_verdict v;
	enum an_code code;
	int opt;

	while ((opt = sc_opt_next(argc, argv, export_opts, &arg)) != -1) {
		switch (opt) {
		case EX_DB: a->db = arg; break;
		case EX_OUT: a->outpath = arg; break;
		case EX_FORMAT: a->format = arg; break;
		case EX_TLD:
			if (norm_tld(arg, c->tld) != ST_OK) {
				fprintf(stderr, "stsmap export: --tld '%s' is "
						"not a top-level domain\n", arg);
				return 2;
			}
			c->f.tld = c->tld;
			break;
		case EX_BODIES: c->bodies = true; break;
		case EX_REGISTRY: a->dir = arg; break;
		case EX_GROUPS: a->groups = arg; break;
		case EX_BY_GROUP: a->by_group = true; break;
		case EX_FINDING:
			if (an_code_from_name(arg, &code) != ST_OK) {
				fprintf(stderr, "stsmap export: unknown "
						"finding code %s\n", arg);
				return 2;
			}
			c->f.finding = arg;
			break;
		case EX_SCAN:
		case EX_NOW:
			if (sc_opt_u64(arg, opt == EX_SCAN ? UINT32_MAX
							  : 253402300799ull,
				       opt == EX_SCAN ? &a->id : &a->now) !=
			    ST_OK) {
				fprintf(stderr, "stsmap export: bad --%s\n",
					opt == EX_SCAN ? "scan" : "now");
				return 2;
			}
			a->now_set |= opt == EX_NOW;
			break;
		case EX_VERDICT:
			if (an_verdict_from_name(arg, &v) != ST_OK) {
				fprintf(stderr, "stsmap export: unknown "
						"verdict %s\n", arg);
				return 2;
			}
			c->f.verdict = (int)v;
			break;
		case SC_OPT_HELP:
			sc_opt_usage(stdout, synopsis, summary, export_opts);
			return 1;
		default:
			sc_opt_usage(stderr, synopsis, summary, export_opts);
			return 2;
		}
	}
	if (optind != argc) {
		sc_opt_usage(stderr, synopsis, summary, export_opts);
		return 2;
	}
	if ((a->by_group || a->groups != NULL) &&
	    (a->dir == NULL || !a->by_group || a->groups == NULL)) {
		fprintf(stderr, "stsmap export: --by-group and --groups go "
				"together, with --registry DIR\n");
		return 2;
	}
	if (a->dir != NULL) {
		if ((a->format != NULL && strcmp(a->format, "registry") != 0) ||
		    a->outpath != NULL) {
			fprintf(stderr, "stsmap export: --registry writes "
					"DIR/" REG_CSV "; no --format or "
					"--output with it\n");
			return 2;
		}
		a->format = "registry";
	}
	if (a->format == NULL)
		a->format = "jsonl";
	if (an_export_format_find(a->format) == NULL) {
		fprintf(stderr, "stsmap export: unknown format %s (jsonl, csv, "
				"registry)\n", a->format);
		return 2;
	}
	return 0;
}

/* Open the output: stdout, --output FILE, or DIR/registry.csv.  path
 * keeps the name sc_out refers to. */
static int open_out(const struct export_args *a, struct sc_out *out,
		    char path[4096])
{
	const char *name = a->outpath;

	if (a->dir != NULL) {
		if (mkdir(a->dir, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "stsmap export: cannot create %s: %s\n",
				a->dir, strerror(errno));
			return ST_EIO;
		}
		if (a->by_group)
			return ST_OK; /* each group has its registry.csv */
		if ((size_t)snprintf(path, 4096, "%s/%s", a->dir, REG_CSV) >=
		    4096)
			return ST_ERANGE;
		name = path;
	}
	if (sc_out_open(out, "export", name) != ST_OK)
		return ST_EIO;
	setvbuf(out->fp, NULL, _IOFBF, OUT_BUF);
	return ST_OK;
}

static int run(const struct export_args *a, struct export_ctx *c,
	       struct an_export_stats *st, char *why, size_t why_len)
{
	struct an_export_opts eo = { 0 };
	struct ds_store_opts so;
	struct ds_store *s = NULL;
	struct ds_scan_info info;
	struct sc_out out = { 0 };
	char path[4096];
	int ret, cret;

	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(a->db, &so, &s, why, why_len);
	if (ret == ST_OK)
		ret = ds_reader_open(s, &c->r);
	if (ret == ST_OK)
		ret = a->id != 0 ? ds_reader_scan(c->r, (uint32_t)a->id, &info)
				 : ds_reader_scan_latest(c->r, &info);
	if (ret == ST_OK && info.state != DS_SCAN_FINISHED)
		fprintf(stderr, "stsmap export: scan %u is not finished\n",
			info.id);
	if (ret == ST_OK) {
		ret = open_out(a, &out, path);
		c->out_reported = ret == ST_EIO;
	}
	if (ret == ST_OK && a->by_group) {
		ret = sc_xgroups_new(a->dir, c->groups,
				     a->now_set ? (time_t)a->now : time(NULL),
				     &c->xg);
	} else if (ret == ST_OK) {
		eo.out = out.fp;
		eo.now = a->now_set ? (time_t)a->now : time(NULL);
		eo.file = a->dir != NULL ? write_file : NULL;
		eo.file_arg = c;
		ret = an_export_open(a->format, &eo, &c->x);
	}
	if (ret == ST_OK)
		ret = ds_reader_results(c->r, info.id, one, c);
	if (c->x != NULL)
		an_export_get_stats(c->x, st);
	cret = a->by_group
		? sc_xgroups_finish(c->xg, a->db, info.id, st, &c->out_reported)
		: an_export_close(c->x);
	c->xg = NULL;
	if (ret == ST_OK)
		ret = cret;
	/* A failed write is the output's, named there, not the store's. */
	if (out.fp != NULL && sc_out_close(&out, "export") != ST_OK) {
		c->out_reported = true;
		ret = ST_EIO;
	}
	ds_reader_close(c->r);
	ds_store_close(s);
	return ret;
}

int sc_cmd_export(int argc, char **argv)
{
	char why[DS_STORE_WHY_MAX] = "";
	struct export_args a = { .db = "stsmap.lmdb" };
	struct export_ctx c = { .f = { .verdict = -1 } };
	struct an_export_stats st = { 0 };
	int ret;

	ret = parse_args(argc, argv, &a, &c);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	c.dir = a.dir;
	if (a.groups != NULL) {
		ret = sc_groups_load("export", a.groups, &c.groups);
		if (ret != ST_OK)
			return ret == ST_EPARSE ? 2 : 1;
	}
	ret = run(&a, &c, &st, why, sizeof(why));
	an_groups_free(c.groups);
	if (ret != ST_OK && c.out_reported)
		return 1;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap export: %s: %s\n", a.db,
			why[0] != '\0' ? why : ret == ST_ENOENT ?
			"no such store or scan" : st_strerror(ret));
		return 1;
	}
	if (c.bad > 0)
		fprintf(stderr, "stsmap export: %llu records could not be "
				"decoded\n", (unsigned long long)c.bad);
	if (a.dir != NULL && a.by_group)
		fprintf(stderr, "stsmap export: %llu domains need a fix (%llu "
				"with a corrected policy) in %s, by group "
				"(%s/groups.csv); %llu files\n",
			(unsigned long long)st.rows,
			(unsigned long long)st.fixes, a.dir, a.dir,
			(unsigned long long)st.files);
	else if (a.dir != NULL)
		fprintf(stderr, "stsmap export: %llu domains need a fix (%llu "
				"with a corrected policy) in %s/" REG_CSV
				"; %llu files\n",
			(unsigned long long)st.rows,
			(unsigned long long)st.fixes, a.dir,
			(unsigned long long)st.files);
	return 0;
}
