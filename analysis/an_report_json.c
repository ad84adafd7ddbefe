/*
 * an_report_json.c - the JSON writer: one object, stable keys (the README's
 * "Reports" section is the schema).  Counts are integers; the only
 * fractions are the share_of_sts fields, rounded to 6 decimals.  Every key
 * is always present (null or empty when there is nothing to say), so a
 * consumer never needs to test for a key.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "an_json.h"
#include "an_report.h"
#include "st_error.h"

#define REPORT_JSON_VERSION 1

static void u(FILE *out, const char *k, uint64_t v, bool comma)
{
	fprintf(out, "\"%s\":%" PRIu64 "%s", k, v, comma ? "," : "");
}

static void verdict_obj(FILE *out, const uint64_t *v)
{
	fputc('{', out);
	for (size_t i = 0; i < AN_V_COUNT; i++)
		u(out, an_verdict_name((enum an_verdict)i), v[i],
		  i + 1 < AN_V_COUNT);
	fputc('}', out);
}

static void scan_obj(FILE *out, const struct an_report *rep)
{
	const struct ds_scan_info *s = &rep->scan;

	fprintf(out, "  \"scan\": {\"id\":%u,\"label\":", (unsigned)s->id);
	an_json_strn(out, s->label, strnlen(s->label, sizeof(s->label)));
	fprintf(out, ",\"state\":\"%s\",\"started\":%" PRId64
		     ",\"finished\":%" PRId64 ",",
		s->state == DS_SCAN_FINISHED ? "finished" : "running",
		s->started, s->finished);
	u(out, "results", s->n_results, true);
	u(out, "input_errors", s->n_input_errors, true);
	fputs("\"meta_json\":", out);
	an_json_str(out, s->meta_json);
	fputs("},\n", out);
}

static void headline(FILE *out, const struct an_report *rep,
		     const struct an_stats_counts *c)
{
	fprintf(out, "{\n  \"report_version\": %d,\n  \"generator\": "
		     "{\"name\":\"stsmap\",\"version\":", REPORT_JSON_VERSION);
	an_json_str(out, rep->version);
	fprintf(out, "},\n  \"generated\": %" PRId64 ",\n", rep->generated);
	scan_obj(out, rep);
	fprintf(out, "  \"records_undecodable\": %" PRIu64 ",\n",
		rep->undecodable);
	fprintf(out, "  \"domains\": %" PRIu64 ",\n  \"sts_record\": %" PRIu64
		     ",\n  \"sts_valid\": %" PRIu64 ",\n  \"policy_usable\": %"
		     PRIu64 ",\n  \"with_error\": %" PRIu64
		     ",\n  \"with_warn\": %" PRIu64 ",\n",
		c->domains, c->sts_record, c->sts_valid, c->policy_usable,
		c->with_error, c->with_warn);
	fputs("  \"verdicts\": ", out);
	verdict_obj(out, c->verdicts);
	fprintf(out, ",\n  \"verdict_unknown\": %" PRIu64 ",\n",
		c->verdict_unknown);
}

static void policy(FILE *out, const struct an_stats_counts *c)
{
	fputs("  \"modes\": {", out);
	for (size_t m = 0; m < AN_SMODE_COUNT; m++)
		u(out, an_stats_mode_name((enum an_stats_mode)m), c->modes[m],
		  m + 1 < AN_SMODE_COUNT);
	fputs("},\n  \"max_age\": {", out);
	for (size_t b = 0; b < AN_AGE_COUNT; b++)
		u(out, an_stats_age_name((enum an_stats_age)b), c->max_age[b],
		  true);
	u(out, "missing", c->max_age_missing, false);
	fputs("},\n  \"max_age_edges\": [", out);
	for (size_t b = 0; b < AN_AGE_COUNT; b++)
		fprintf(out, "%s%" PRIu64, b > 0 ? "," : "",
			AN_STATS_AGE_EDGES[b]);
	fputs("],\n", out);
}

static void findings(FILE *out, const struct an_stats_counts *c)
{
	fputs("  \"findings\": [", out);
	for (size_t i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)i);
		const struct an_stats_finding *f = &c->findings[i];

		fprintf(out, "%s\n    {\"code\":\"%s\",\"severity\":\"%s\","
			     "\"layer\":\"%s\",",
			i > 0 ? "," : "", ci->name,
			an_severity_name(ci->severity),
			an_layer_name(ci->layer));
		u(out, "domains", f->domains, true);
		u(out, "sts_domains", f->sts_domains, true);
		u(out, "error_domains", f->error, true);
		fprintf(out, "\"share_of_sts\":%.6f}",
			an_report_pct(f->sts_domains, c->sts_record) / 100.0);
	}
	fprintf(out, "\n  ],\n  \"findings_unknown\": %" PRIu64
		     ",\n  \"findings_truncated\": %" PRIu64 ",\n",
		c->findings_unknown, c->findings_truncated);
}

static void tlsrpt_dane(FILE *out, const struct an_report *rep,
			const struct an_stats_counts *c)
{
	fputs("  \"tlsrpt\": {", out);
	u(out, "valid", c->tlsrpt, true);
	u(out, "with_sts", c->tlsrpt_with_sts, true);
	u(out, "without_sts", c->tlsrpt_without_sts, false);
	fputs("},\n  \"dane\": ", out);
	if (rep->probes == 0) {
		fputs("null,\n", out);
		return;
	}
	fputc('{', out);
	u(out, "probes", rep->probes, true);
	u(out, "domains_probed", c->dane_probed, true);
	u(out, "tlsa_any", c->dane_tlsa_any, true);
	u(out, "tlsa_all", c->dane_tlsa_all, true);
	u(out, "tlsa_all_secure", c->dane_tlsa_all_secure, true);
	u(out, "tlsa_all_with_policy", c->dane_with_policy, false);
	fputs("},\n", out);
}

static void tiers(FILE *out, const struct an_stats_counts *c)
{
	fprintf(out, "  \"ranked\": %" PRIu64 ",\n  \"rank_tiers\": [",
		c->ranked);
	for (size_t t = 0; c->ranked > 0 && t < AN_TIER_COUNT; t++) {
		const struct an_stats_tier_row *r = &c->tiers[t];

		fprintf(out, "%s\n    {\"tier\":\"%s\",", t > 0 ? "," : "",
			an_stats_tier_name((enum an_stats_tier)t));
		u(out, "max_rank", AN_STATS_TIER_MAX[t], true);
		u(out, "domains", r->domains, true);
		u(out, "sts_record", r->sts_record, true);
		u(out, "policy_usable", r->policy_usable, true);
		u(out, "enforce", r->enforce, true);
		u(out, "tlsrpt", r->tlsrpt, false);
		fputc('}', out);
	}
	fputs(c->ranked > 0 ? "\n  ],\n" : "],\n", out);
}

static void row_fields(FILE *out, const struct an_stats_row *r,
		       bool with_key)
{
	if (with_key) {
		fputs("\"key\":", out);
		an_json_str(out, r->key);
		fputc(',', out);
	}
	u(out, "domains", r->domains, true);
	u(out, "sts_record", r->sts_record, true);
	u(out, "policy_usable", r->policy_usable, true);
	u(out, "enforce", r->enforce, true);
	fputs("\"verdicts\":", out);
	verdict_obj(out, r->verdicts);
}

static void row_obj(FILE *out, const struct an_stats_row *r, bool with_key)
{
	fputc('{', out);
	row_fields(out, r, with_key);
	fputc('}', out);
}

/* A group row: the breakdown row plus its top findings. */
static void group_obj(FILE *out, const struct an_stats_row *r)
{
	unsigned idx[AN_REPORT_GROUP_FINDINGS];
	size_t k = an_report_row_findings(r, idx, AN_REPORT_GROUP_FINDINGS);

	fputc('{', out);
	row_fields(out, r, true);
	fputs(",\"top_findings\":[", out);
	for (size_t j = 0; j < k; j++)
		fprintf(out, "%s{\"code\":\"%s\",\"domains\":%" PRIu64 "}",
			j > 0 ? "," : "", an_code_info((enum an_code)idx[j])->name,
			r->findings[idx[j]]);
	fputs("]}", out);
}

static int table(FILE *out, const struct an_report *rep,
		 enum an_stats_table_id t)
{
	const struct an_stats_table *info = an_stats_table(rep->stats, t);
	struct an_stats_row *rows = calloc(rep->top + 1, sizeof(*rows));
	struct an_stats_row rest;
	size_t n;

	if (rows == NULL)
		return ST_ENOMEM;
	n = an_stats_top(rep->stats, t, rows, rep->top);
	an_report_rest(info, rows, n, &rest);
	fprintf(out, "  \"by_%s\": {\"keys\":%zu,\"pruned\":%" PRIu64
		     ",\"rows\":[", an_stats_table_name(t), info->n_keys,
		info->pruned);
	for (size_t i = 0; i < n; i++) {
		fputs(i > 0 ? ",\n    " : "\n    ", out);
		if (t == AN_TABLE_GROUP)
			group_obj(out, &rows[i]);
		else
			row_obj(out, &rows[i], true);
	}
	fputs(n > 0 ? "\n  ],\"other\":" : "],\"other\":", out);
	row_obj(out, &rest, false);
	fputs(",\"total\":", out);
	row_obj(out, &info->total, false);
	fputs("},\n", out);
	free(rows);
	return ST_OK;
}

static void trend(FILE *out, const struct an_report *rep)
{
	fputs("  \"trend\": [", out);
	for (size_t i = 0; i < rep->n_trend; i++) {
		const struct an_report_scan *p = &rep->trend[i];

		fprintf(out, "%s\n    {\"scan\":%u,\"label\":", i > 0 ? "," : "",
			(unsigned)p->id);
		an_json_strn(out, p->label, strnlen(p->label, sizeof(p->label)));
		fprintf(out, ",\"state\":\"%s\",\"started\":%" PRId64
			     ",\"finished\":%" PRId64 ",",
			p->state == DS_SCAN_FINISHED ? "finished" : "running",
			p->started, p->finished);
		u(out, "domains", p->domains, true);
		u(out, "announced", p->announced, true);
		u(out, "usable", p->usable, true);
		u(out, "enforce", p->enforce, true);
		u(out, "enforce_ok", p->enforce_ok, false);
		fputc('}', out);
	}
	fputs(rep->n_trend > 0 ? "\n  ]\n}\n" : "]\n}\n", out);
}

int an_report_write_json(FILE *out, const struct an_report *rep)
{
	const struct an_stats_counts *c;
	int ret = ST_OK;

	if (out == NULL || rep == NULL || rep->stats == NULL)
		return ST_EINVAL;
	c = an_stats_counts(rep->stats);
	headline(out, rep, c);
	policy(out, c);
	findings(out, c);
	tlsrpt_dane(out, rep, c);
	tiers(out, c);
	/* by_group only when the report was built with groups. */
	for (size_t t = 0; t < AN_TABLE_COUNT && ret == ST_OK; t++) {
		if (t != AN_TABLE_GROUP || rep->grouped)
			ret = table(out, rep, (enum an_stats_table_id)t);
	}
	if (ret != ST_OK)
		return ret;
	trend(out, rep);
	fflush(out);
	return ferror(out) ? ST_EIO : ST_OK;
}
