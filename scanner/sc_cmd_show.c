/*
 * sc_cmd_show.c - `stsmap show DOMAIN` (a stored record, readably or as
 * JSON) and `stsmap check DOMAIN` (one domain scanned now, with the fix).
 */
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_fix.h"
#include "an_generate.h"
#include "an_json.h"
#include "an_record.h"
#include "ds_input.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_health.h"
#include "sc_scan.h"
#include "sc_scan_opts.h"
#include "st_error.h"

static void print_time(FILE *out, const char *label, int64_t t)
{
	char buf[32] = "unknown";
	struct tm tm;
	time_t tt = (time_t)t;

	if (t != 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
	fprintf(out, "  %-14s %s\n", label, buf);
}

static void print_txt(FILE *out, const char *label, const struct an_bytes *rr,
		      size_t n, size_t total)
{
	if (n == 0)
		fprintf(out, "  %-14s (none)\n", label);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-14s ", i == 0 ? label : "");
		an_json_strn(out, (const char *)rr[i].data, rr[i].len);
		fputc('\n', out);
	}
	if (total > n)
		fprintf(out, "  %-14s (%zu more not kept)\n", "", total - n);
}

/* The record in a form a person reads at a terminal. */
static void print_record(FILE *out, const struct an_record *r)
{
	fprintf(out, "%s: %s\n", r->domain,
		r->verdict < AN_V_COUNT
			? an_verdict_name((enum an_verdict)r->verdict)
			: "unknown");
	fprintf(out, "\nDNS\n  %-14s %s%s%s\n", "_mta-sts TXT",
		an_dns_status_name(r->sts_dns), r->sts_cname ? ", via CNAME" : "",
		r->sts_ad ? ", DNSSEC (AD)" : "");
	print_txt(out, "", r->sts_txt, r->n_sts_txt, r->n_sts_txt_total);
	fprintf(out, "  %-14s %s\n", "MX", an_dns_status_name(r->mx_dns));
	for (size_t i = 0; i < r->n_mx; i++)
		fprintf(out, "  %-14s %u %s%s\n", "", r->mx[i].pref,
			r->mx[i].name[0] != '\0' ? r->mx[i].name : ". (null MX)",
			r->mode != 0 ? (r->mx[i].covered ? "  covered"
							 : "  NOT covered")
				     : "");
	fprintf(out, "  %-14s %s\n", "TLS-RPT TXT",
		an_dns_status_name(r->tlsrpt_dns));
	print_txt(out, "", r->tlsrpt_txt, r->n_tlsrpt_txt,
		  r->n_tlsrpt_txt_total);
	fprintf(out, "\nPolicy\n  %-14s %s", "fetch",
		an_fetch_status_name(r->fetch_status));
	if (r->http_status != 0)
		fprintf(out, ", HTTP %u", r->http_status);
	if (r->content_type != NULL)
		fprintf(out, ", %s", r->content_type);
	if (r->ph_addr != NULL)
		fprintf(out, " (%s, %u ms)", r->ph_addr, r->fetch_ms);
	fputc('\n', out);
	if (r->location != NULL)
		fprintf(out, "  %-14s %s\n", "location", r->location);
	if (r->ph_cname != NULL)
		fprintf(out, "  %-14s %s\n", "host CNAME", r->ph_cname);
	if (r->cert_not_after != 0)
		print_time(out, "cert expires", r->cert_not_after);
	if (r->sts_id != NULL)
		fprintf(out, "  %-14s %s\n", "id", r->sts_id);
	if (r->mode != 0) {
		fprintf(out, "  %-14s %s%s\n", "mode",
			an_mode_name((enum an_mode)r->mode),
			r->policy_usable ? "" : " (policy unusable)");
		if (r->have_max_age)
			fprintf(out, "  %-14s %" PRIu64 "\n", "max_age",
				r->max_age);
		for (size_t i = 0; i < r->n_patterns; i++)
			fprintf(out, "  %-14s %s\n", i == 0 ? "mx" : "",
				r->patterns[i]);
	}
	fprintf(out, "\nFindings (%zu)\n", r->n_findings_total);
	for (size_t i = 0; i < r->n_findings; i++)
		fprintf(out, "  %-5s %-32s %s\n",
			an_severity_name((enum an_severity)r->findings[i].severity),
			r->findings[i].code, r->findings[i].detail != NULL
						     ? r->findings[i].detail : "");
	print_time(out, "\nscanned", r->time);
}

/* --- show --- */

enum { SH_DB = 1, SH_SCAN, SH_JSON, SH_INPUT_ERRORS };
static const struct sc_opt show_opts[] = {
	{ "db", "FILE", SH_DB, "result store (stsmap.lmdb)" },
	{ "scan", "ID", SH_SCAN, "scan to read (default: the latest)" },
	{ "json", NULL, SH_JSON, "print the record as one JSON object" },
	{ "input-errors", NULL, SH_INPUT_ERRORS, "list the scan's refused "
	  "input lines (no DOMAIN): input, line, reason, text" },
	SC_OPT_END,
};

/* One refused input line: "input 0 line 5: empty label: \"bad..name\"",
 * or a JSON object a line. */
static int print_input_error(uint32_t input, uint64_t line, const char *raw,
			     const char *why, void *arg)
{
	const bool *json = arg;

	if (*json) {
		printf("{\"input\":%u,\"line\":%" PRIu64 ",\"why\":", input,
		       line);
		an_json_str(stdout, why);
		fputs(",\"raw\":", stdout);
		an_json_str(stdout, raw);
		fputs("}\n", stdout);
	} else {
		printf("input %u line %" PRIu64 ": %s: ", input, line, why);
		an_json_str(stdout, raw); /* quoted, control bytes escaped */
		fputc('\n', stdout);
	}
	return 0;
}

static int show_one(struct ds_reader *r, uint32_t scan, const char *name,
		    bool json)
{
	const uint8_t *data = NULL, *body = NULL;
	size_t len = 0, body_len = 0;
	struct an_record rec;
	int ret;

	ret = ds_reader_result(r, scan, name, &data, &len);
	if (ret == ST_ENOENT) {
		fprintf(stderr, "stsmap show: %s is not in scan %u\n", name,
			scan);
		return 1;
	}
	if (ret == ST_OK)
		ret = an_record_decode(data, len, &rec);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap show: %s: %s\n", name, st_strerror(ret));
		return 1;
	}
	if (rec.have_body &&
	    ds_reader_body(r, rec.body_hash, &body, &body_len) != ST_OK)
		body = NULL;
	if (json) {
		an_record_json(stdout, &rec, body, body_len);
		fputc('\n', stdout);
		return 0;
	}
	print_record(stdout, &rec);
	if (body != NULL) {
		fputs("\nPolicy body\n", stdout);
		an_json_strn(stdout, (const char *)body, body_len);
		fputc('\n', stdout);
	}
	return 0;
}

int sc_cmd_show(int argc, char **argv)
{
	static const char synopsis[] = "show [--db FILE] [--scan ID] [--json] "
				       "DOMAIN | --input-errors";
	static const char summary[] = "Print the stored result of DOMAIN.";
	const char *db = "stsmap.lmdb", *arg;
	struct ds_store_opts so;
	char why[DS_STORE_WHY_MAX];
	struct ds_store *s = NULL;
	struct ds_reader *r = NULL;
	struct ds_scan_info info;
	unsigned long long id = 0;
	char name[DS_NAME_MAX + 1];
	bool json = false, input_errors = false;
	int c, ret, rc = 1;

	while ((c = sc_opt_next(argc, argv, show_opts, &arg)) != -1) {
		if (c == SH_DB)
			db = arg;
		else if (c == SH_JSON)
			json = true;
		else if (c == SH_INPUT_ERRORS)
			input_errors = true;
		else if (c == SH_SCAN && sc_opt_u64(arg, UINT32_MAX, &id) == 0)
			continue;
		else if (c == SC_OPT_HELP) {
			sc_opt_usage(stdout, synopsis, summary, show_opts);
			return 0;
		} else {
			sc_opt_usage(stderr, synopsis, summary, show_opts);
			return 2;
		}
	}
	if (optind + (input_errors ? 0 : 1) != argc) {
		sc_opt_usage(stderr, synopsis, summary, show_opts);
		return 2;
	}
	if (!input_errors &&
	    ds_name_normalise(argv[optind], strlen(argv[optind]), name,
			      NULL) != ST_OK) {
		fprintf(stderr, "stsmap show: '%s' is not a domain name\n",
			argv[optind]);
		return 2;
	}
	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(db, &so, &s, why, sizeof(why));
	if (ret != ST_OK && why[0] != '\0') {
		fprintf(stderr, "stsmap show: %s: %s\n", db, why);
		return 1;
	}
	if (ret == ST_OK)
		ret = ds_reader_open(s, &r);
	if (ret == ST_OK)
		ret = id != 0 ? ds_reader_scan(r, (uint32_t)id, &info)
			      : ds_reader_scan_latest(r, &info);
	if (ret != ST_OK)
		fprintf(stderr, "stsmap show: %s: %s\n", db,
			ret == ST_ENOENT ? "no such store or scan"
					 : st_strerror(ret));
	else if (input_errors)
		rc = ds_reader_input_errors(r, info.id, print_input_error,
					    &json) == ST_OK ? 0 : 1;
	else
		rc = show_one(r, info.id, name, json);
	ds_reader_close(r);
	ds_store_close(s);
	return rc;
}

/* --- check --- */

struct check_ctx {
	const char *name;
	bool given, json;
	int verdict;
};

static int check_source(void *arg, struct sc_item *item)
{
	struct check_ctx *c = arg;

	if (c->given)
		return 0;
	c->given = true;
	item->domain = c->name;
	return 1;
}

/* A corrected TXT record and policy for a domain whose setup is broken,
 * built by the generator from the domain's real MX set (an_fix.h). */
static void print_fix(const struct an_record *r)
{
	char txt[AN_GEN_TXT_MAX], *policy, *save = NULL;
	size_t plen = 0;

	policy = malloc(AN_POLICY_BODY_MAX);
	if (policy == NULL)
		return;
	if (an_fix_build(r, time(NULL), txt, sizeof(txt), policy,
			 AN_POLICY_BODY_MAX, &plen) == ST_OK) {
		printf("\nSuggested fix (from the domain's MX records)\n"
		       "  TXT _mta-sts.%s:\n    %s\n"
		       "  https://mta-sts.%s/.well-known/mta-sts.txt "
		       "(200, text/plain):\n", r->domain, txt, r->domain);
		for (char *line = strtok_r(policy, "\r\n", &save);
		     line != NULL; line = strtok_r(NULL, "\r\n", &save))
			printf("    %s\n", line);
	}
	free(policy);
}

static int check_sink(void *arg, const struct sc_done *done)
{
	struct check_ctx *c = arg;

	c->verdict = done->rec->verdict;
	if (c->json) {
		struct an_record rec = *done->rec;
		int ret = ST_OK;

		/* body_sha256: the key the store would keep the body under */
		if (rec.have_body && done->body != NULL)
			ret = ds_store_body_hash(done->body, done->body_len,
						 rec.body_hash);
		if (ret != ST_OK)
			return ret;
		an_record_json(stdout, &rec, done->body, done->body_len);
		fputc('\n', stdout);
		return ST_OK;
	}
	print_record(stdout, done->rec);
	if (an_fix_needed(done->rec))
		print_fix(done->rec);
	return ST_OK;
}

int sc_cmd_check(int argc, char **argv)
{
	struct sc_scan_opts o;
	struct check_ctx c = { 0 };
	struct sc_engine *e = NULL;
	struct event_base *base = NULL;
	char name[DS_NAME_MAX + 1];
	const char *why = NULL;
	int ret;

	ret = sc_scan_opts_parse(argc, argv, SC_OPTS_CHECK, &o);
	if (ret != 0)
		return ret == 1 ? 0 : 2;
	if (o.n_inputs != 1 ||
	    ds_name_normalise(o.inputs[0], strlen(o.inputs[0]), name, &why) !=
		    ST_OK) {
		fprintf(stderr, "stsmap check: give one domain name%s%s\n",
			why != NULL ? ": " : "", why != NULL ? why : "");
		return 2;
	}
	o.cfg.inflight = 1;
	c.name = name;
	c.json = o.json;
	c.verdict = -1;
	/* A dead or non-recursive upstream is said at once, not after the
	 * monitor's wait (sc_health.h). */
	if (sc_upstream_gate(NULL, &o.cfg, "check") != ST_OK)
		return 1;
	base = event_base_new();
	if (base == NULL)
		return 1;
	ret = sc_engine_new(base, &o.cfg, &e);
	if (ret == ST_OK) {
		sc_engine_set_source(e, check_source, &c);
		sc_engine_set_sink(e, check_sink, &c);
		ret = sc_engine_run(e);
	}
	if (ret != ST_OK)
		fprintf(stderr, "stsmap check: %s\n", st_strerror(ret));
	sc_engine_free(e);
	event_base_free(base);
	return ret == ST_OK && c.verdict >= 0 ? 0 : 1;
}
