/*
 * sc_cmd_diff.c - `stsmap diff`: compare two scans, of one store or of two,
 * through analysis/an_diff.h.
 *
 * The join: the store walks a scan sorted by domain through a callback
 * (ds_reader_results); it has no cursor to advance two walks in step, so
 * the join is two sorted passes with point lookups instead of one merge:
 *   1. walk A; look each domain up in B: changed, or removed;
 *   2. walk B; domains not found in A are the added ones.
 * Each lookup is one B-tree descent in a read snapshot; nothing is kept
 * between domains, so memory stays flat whatever the scans' sizes.  The
 * output lists pass 1's domains in order, then the added ones in order.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an_diff.h"
#include "an_record.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_out.h"
#include "st_error.h"

#define DIFF_NEXT_DEFAULT 30
#define DIFF_NEXT_MAX 36500

enum { DF_DB = 1, DF_DB_B, DF_FORMAT, DF_OUT, DF_NEXT };

static const struct sc_opt diff_opts[] = {
	{ "db", "FILE", DF_DB, "result store of scan A, and of B unless "
			       "--db-b (stsmap.lmdb)" },
	{ "db-b", "FILE", DF_DB_B, "result store of scan B" },
	{ "format", "F", DF_FORMAT, "text (default) or json" },
	{ "output", "FILE", DF_OUT, "write here instead of stdout" },
	{ "next", "DAYS", DF_NEXT, "days until the next scan: certificates "
				   "expiring sooner are listed (30)" },
	SC_OPT_END,
};

struct diff_args {
	const char *db, *db_b, *format, *outpath;
	unsigned long long next;
	unsigned long long id[2]; /* 0: choose */
	int n_ids;
};

struct diff_ctx {
	struct ds_reader *ra, *rb;
	uint32_t a, b;
	struct an_diff *d;
	uint64_t bad;
	bool out_reported; /* an output failure was named on stderr */
};

/* The two latest scans of a store, for `stsmap diff` without ids. */
struct latest2 {
	uint32_t id[2]; /* [0] the older */
	int n;
};

static int collect(const struct ds_scan_info *info, void *arg)
{
	struct latest2 *l = arg;

	l->id[0] = l->id[1];
	l->id[1] = info->id;
	l->n++;
	return 0;
}

/* Copy a store key (not NUL-terminated) into a name buffer. */
/* Pass 1: every domain of A, with its record in B if any. */
static int pass_a(const char *domain, size_t domain_len, const uint8_t *data,
		  size_t len, void *arg)
{
	struct diff_ctx *c = arg;
	char name[DS_STORE_NAME_MAX + 1];
	struct an_record ra, rb;
	const uint8_t *bd = NULL;
	size_t bl = 0;
	bool have_b = false;
	int ret;

	if (!ds_store_key_name(domain, domain_len, name) ||
	    an_record_decode(data, len, &ra) != ST_OK) {
		c->bad++;
		return 0;
	}
	ret = ds_reader_result(c->rb, c->b, name, &bd, &bl);
	if (ret == ST_OK) {
		have_b = an_record_decode(bd, bl, &rb) == ST_OK;
		if (!have_b) {
			c->bad++;
			return 0; /* unknown, not "removed" */
		}
	} else if (ret != ST_ENOENT) {
		return ret;
	}
	return an_diff_pair(c->d, &ra, have_b ? &rb : NULL);
}

/* Pass 2: the domains of B that A lacks. */
static int pass_b(const char *domain, size_t domain_len, const uint8_t *data,
		  size_t len, void *arg)
{
	struct diff_ctx *c = arg;
	char name[DS_STORE_NAME_MAX + 1];
	const uint8_t *ad = NULL;
	size_t al = 0;
	struct an_record rb;
	int ret;

	if (!ds_store_key_name(domain, domain_len, name)) {
		c->bad++;
		return 0;
	}
	ret = ds_reader_result(c->ra, c->a, name, &ad, &al);
	if (ret == ST_OK)
		return 0; /* seen in pass 1 */
	if (ret != ST_ENOENT)
		return ret;
	if (an_record_decode(data, len, &rb) != ST_OK) {
		c->bad++;
		return 0;
	}
	return an_diff_pair(c->d, NULL, &rb);
}

static int parse_args(int argc, char **argv, struct diff_args *a)
{
	static const char synopsis[] = "diff [--db FILE] [--db-b FILE] "
				       "[--format text|json] [--next DAYS] "
				       "[SCAN_A SCAN_B]";
	static const char summary[] =
		"Compare two scans: adoption, withdrawal, mode changes, policy "
		"bodies changed\nwithout a new id, certificates expiring "
		"before the next scan.  Without scan\nids: the two latest "
		"scans of --db, or the latest of --db and of --db-b.";
	const char *arg;
	int c;

	while ((c = sc_opt_next(argc, argv, diff_opts, &arg)) != -1) {
		switch (c) {
		case DF_DB: a->db = arg; break;
		case DF_DB_B: a->db_b = arg; break;
		case DF_FORMAT: a->format = arg; break;
		case DF_OUT: a->outpath = arg; break;
		case DF_NEXT:
			if (sc_opt_u64(arg, DIFF_NEXT_MAX, &a->next) != ST_OK) {
				fprintf(stderr, "stsmap diff: --next must be 0 "
						"to %d days\n", DIFF_NEXT_MAX);
				return 2;
			}
			break;
		case SC_OPT_HELP:
			sc_opt_usage(stdout, synopsis, summary, diff_opts);
			return 1;
		default:
			sc_opt_usage(stderr, synopsis, summary, diff_opts);
			return 2;
		}
	}
	for (; optind < argc && a->n_ids < 2; optind++) {
		if (sc_opt_u64(argv[optind], UINT32_MAX,
			       &a->id[a->n_ids]) != ST_OK ||
		    a->id[a->n_ids] == 0) {
			fprintf(stderr, "stsmap diff: bad scan id '%s'\n",
				argv[optind]);
			return 2;
		}
		a->n_ids++;
	}
	if (optind != argc || a->n_ids == 1) {
		sc_opt_usage(stderr, synopsis, summary, diff_opts);
		return 2;
	}
	if (!an_diff_format_known(a->format)) {
		fprintf(stderr, "stsmap diff: unknown format %s (text, json)\n",
			a->format);
		return 2;
	}
	return 0;
}

/* Resolve the scan ids and fill the header descriptions. */
static int pick_scans(const struct diff_args *a, struct diff_ctx *c,
		      struct ds_scan_info info[2])
{
	struct latest2 l = { { 0, 0 }, 0 };
	int ret;

	if (a->n_ids == 2) {
		c->a = (uint32_t)a->id[0];
		c->b = (uint32_t)a->id[1];
	} else if (a->db_b != NULL) {
		ret = ds_reader_scan_latest(c->ra, &info[0]);
		if (ret == ST_OK)
			ret = ds_reader_scan_latest(c->rb, &info[1]);
		if (ret != ST_OK)
			return ret;
		c->a = info[0].id;
		c->b = info[1].id;
	} else {
		ret = ds_reader_scans(c->ra, collect, &l);
		if (ret != ST_OK)
			return ret;
		if (l.n < 2) {
			fprintf(stderr, "stsmap diff: %s holds %d scan%s; give "
					"two ids or --db-b\n", a->db, l.n,
				l.n == 1 ? "" : "s");
			return ST_ENOENT;
		}
		c->a = l.id[0];
		c->b = l.id[1];
	}
	ret = ds_reader_scan(c->ra, c->a, &info[0]);
	if (ret == ST_OK)
		ret = ds_reader_scan(c->rb, c->b, &info[1]);
	return ret;
}

static void describe(const struct ds_scan_info *info, const char *store,
		     struct an_diff_scan *s)
{
	s->store = store;
	s->id = info->id;
	s->label = info->label;
	s->started = info->started;
	s->finished = info->state == DS_SCAN_FINISHED ? info->finished : 0;
	s->n_results = info->n_results;
}

static int run(const struct diff_args *a, struct diff_ctx *c, char *why,
	       size_t why_len)
{
	struct ds_store *sa = NULL, *sb = NULL;
	struct ds_store_opts so;
	struct ds_scan_info info[2];
	struct an_diff_scan desc[2];
	struct an_diff_opts o = { .next_days = (uint32_t)a->next };
	struct sc_out out = { 0 };
	int ret, cret;

	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(a->db, &so, &sa, why, why_len);
	if (ret == ST_OK)
		ret = ds_reader_open(sa, &c->ra);
	if (ret == ST_OK && a->db_b != NULL) {
		ret = ds_store_open_why(a->db_b, &so, &sb, why, why_len);
		if (ret == ST_OK)
			ret = ds_reader_open(sb, &c->rb);
	} else {
		c->rb = c->ra;
	}
	if (ret == ST_OK)
		ret = pick_scans(a, c, info);
	if (ret == ST_OK) {
		ret = sc_out_open(&out, "diff", a->outpath);
		c->out_reported = ret != ST_OK;
		o.out = out.fp;
	}
	if (ret == ST_OK) {
		describe(&info[0], a->db, &desc[0]);
		describe(&info[1], a->db_b != NULL ? a->db_b : a->db, &desc[1]);
		ret = an_diff_open(a->format, &o, &desc[0], &desc[1], &c->d);
	}
	if (ret == ST_OK)
		ret = ds_reader_results(c->ra, c->a, pass_a, c);
	if (ret == ST_OK)
		ret = ds_reader_results(c->rb, c->b, pass_b, c);
	cret = an_diff_close(c->d);
	if (ret == ST_OK)
		ret = cret;
	/* A failed write is the output's, named there, not the store's. */
	if (out.fp != NULL && sc_out_close(&out, "diff") != ST_OK) {
		c->out_reported = true;
		ret = ST_EIO;
	}
	if (c->rb != c->ra)
		ds_reader_close(c->rb);
	ds_reader_close(c->ra);
	ds_store_close(sb);
	ds_store_close(sa);
	return ret;
}

int sc_cmd_diff(int argc, char **argv)
{
	char why[DS_STORE_WHY_MAX] = "";
	struct diff_args a = { .db = "stsmap.lmdb", .format = "text",
			       .next = DIFF_NEXT_DEFAULT };
	struct diff_ctx c = { 0 };
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	ret = run(&a, &c, why, sizeof(why));
	if (ret != ST_OK && c.out_reported)
		return 1;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap diff: %s\n",
			why[0] != '\0' ? why : ret == ST_ENOENT ?
			"no such store or scan" : st_strerror(ret));
		return 1;
	}
	if (c.bad > 0)
		fprintf(stderr, "stsmap diff: %" PRIu64 " records could not be "
				"decoded and were left out\n", c.bad);
	return 0;
}
