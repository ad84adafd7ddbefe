/*
 * sc_cmd_show.c - `stsmap show DOMAIN`: a stored record, readably or as
 * JSON, or a scan's refused input lines; and the readable form of a
 * record, which `stsmap check` prints too (sc_cmd_check.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_json.h"
#include "an_record.h"
#include "ds_input.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_engine.h"
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
void sc_print_record(FILE *out, const struct an_record *r)
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
	for (size_t i = 0; i < r->n_cert_names; i++)
		fprintf(out, "  %-14s %s\n", i == 0 ? "cert names" : "",
			r->cert_names[i]);
	if (r->n_cert_names_total > r->n_cert_names)
		fprintf(out, "  %-14s (%zu more)\n", "",
			r->n_cert_names_total - r->n_cert_names);
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
	if (r->attempts > 1)
		fprintf(out, "  %-14s %u (retried: a local fault, or "
			"undetermined after a DNS timeout)\n", "attempts",
			r->attempts);
}

/* --- show --- */

enum { SH_DB = 1, SH_SCAN, SH_JSON, SH_INPUT_ERRORS };
static const struct sc_opt show_opts[] = {
	{ "db", "FILE", SH_DB, "result store (" SC_DEFAULT_DB ")" },
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
	sc_print_record(stdout, &rec);
	if (body != NULL) {
		fputs("\nPolicy body\n", stdout);
		an_json_strn(stdout, (const char *)body, body_len);
		fputc('\n', stdout);
	}
	return 0;
}

struct show_args {
	const char *db;
	unsigned long long id;
	bool json, input_errors;
};

static int take(void *ctx, int id, const char *arg)
{
	struct show_args *a = ctx;

	switch (id) {
	case SH_DB: a->db = arg; return 0;
	case SH_JSON: a->json = true; return 0;
	case SH_INPUT_ERRORS: a->input_errors = true; return 0;
	case SH_SCAN:
		return sc_opt_u64(arg, UINT32_MAX, &a->id) == ST_OK
			       ? 0 : SC_CLI_USAGE;
	}
	return SC_CLI_USAGE;
}

int sc_cmd_show(int argc, char **argv)
{
	static const struct sc_cli cli = {
		.cmd = "show",
		.synopsis = "show [--db FILE] [--scan ID] [--json] DOMAIN | "
			    "--input-errors",
		.summary = "Print the stored result of DOMAIN.",
		.opts = show_opts,
	};
	struct show_args a = { .db = SC_DEFAULT_DB };
	struct ds_store_opts so;
	char why[DS_STORE_WHY_MAX];
	struct ds_store *s = NULL;
	struct ds_reader *r = NULL;
	struct ds_scan_info info;
	char name[DS_NAME_MAX + 1];
	int n, ret, rc = 1;

	ret = sc_cli_parse(&cli, argc, argv, take, &a);
	n = a.input_errors ? 0 : 1;
	if (ret == SC_CLI_GO)
		ret = sc_cli_operands(&cli, argc, argv, n, n);
	if (ret != SC_CLI_GO)
		return ret;
	if (!a.input_errors &&
	    ds_name_normalise(argv[optind], strlen(argv[optind]), name,
			      NULL) != ST_OK) {
		fprintf(stderr, "stsmap show: '%s' is not a domain name\n",
			argv[optind]);
		return 2;
	}
	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(a.db, &so, &s, why, sizeof(why));
	if (ret != ST_OK && why[0] != '\0') {
		fprintf(stderr, "stsmap show: %s: %s\n", a.db, why);
		return 1;
	}
	if (ret == ST_OK)
		ret = ds_reader_open(s, &r);
	if (ret == ST_OK)
		ret = a.id != 0 ? ds_reader_scan(r, (uint32_t)a.id, &info)
				: ds_reader_scan_latest(r, &info);
	if (ret != ST_OK)
		fprintf(stderr, "stsmap show: %s: %s\n", a.db,
			ret == ST_ENOENT ? "no such store or scan"
					 : st_strerror(ret));
	else if (a.input_errors)
		rc = ds_reader_input_errors(r, info.id, print_input_error,
					    &a.json) == ST_OK ? 0 : 1;
	else
		rc = show_one(r, info.id, name, a.json);
	ds_reader_close(r);
	ds_store_close(s);
	return rc;
}
