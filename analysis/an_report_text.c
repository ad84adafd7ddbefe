/*
 * an_report_text.c - the text writer: aligned tables for a terminal.
 *
 * Keys come from DNS (MX hosts, TLDs) and may hold any byte: every byte
 * outside printable ASCII is written as '?', so a report can never carry
 * terminal escape sequences.
 */
#include <stdlib.h>
#include <string.h>

#include "an_report.h"
#include "st_error.h"

#define KEY_WIDTH_MAX 40

/* s, sanitised, cut to width (with '~' marking a cut), padded to width. */
static void put_key(FILE *out, const char *s, int width)
{
	int n = 0, len = (int)strlen(s);

	for (; n < len && n < width; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n == width - 1 && len > width)
			c = '~';
		fputc(c >= 0x20 && c < 0x7f ? c : '?', out);
	}
	for (; n < width; n++)
		fputc(' ', out);
}

static void count_line(FILE *out, const char *label, uint64_t v,
		       uint64_t base)
{
	char num[32];

	fprintf(out, "  %-44s %13s", label, an_report_num(v, num, sizeof(num)));
	if (base > 0)
		fprintf(out, "  %6.2f%%", an_report_pct(v, base));
	fputc('\n', out);
}

static void header(FILE *out, const struct an_report *rep)
{
	const struct ds_scan_info *s = &rep->scan;
	char a[32], b[32], g[32];

	fprintf(out, "stsmap report: scan %u", (unsigned)s->id);
	if (s->label[0] != '\0') {
		fputs(" \"", out);
		put_key(out, s->label, (int)strnlen(s->label, sizeof(s->label)));
		fputc('"', out);
	}
	fprintf(out, " (%s)\n", s->state == DS_SCAN_FINISHED ? "finished"
							     : "not finished");
	fprintf(out, "  started %s, finished %s; report generated %s",
		an_report_time(s->started, a, sizeof(a)),
		an_report_time(s->finished, b, sizeof(b)),
		an_report_time(rep->generated, g, sizeof(g)));
	if (rep->version != NULL)
		fprintf(out, " by stsmap %s", rep->version);
	fputs("\n\n", out);
}

static void headline(FILE *out, const struct an_report *rep)
{
	const struct an_stats_counts *c = an_stats_counts(rep->stats);
	uint64_t enforce = c->modes[AN_SMODE_ENFORCE];

	fputs("Headline                                             domains"
	      "    share\n", out);
	count_line(out, "domains scanned", c->domains, 0);
	count_line(out, "MTA-STS record published", c->sts_record, c->domains);
	count_line(out, "  of which exactly one valid record", c->sts_valid,
		   c->domains);
	count_line(out, "usable policy (senders apply it)", c->policy_usable,
		   c->domains);
	count_line(out, "  mode enforce", enforce, c->domains);
	count_line(out, "  enforce, every MX host usable",
		   c->verdicts[AN_V_ENFORCE_OK], c->domains);
	count_line(out, "record published but policy unusable",
		   c->verdicts[AN_V_POLICY_INVALID], c->domains);
	count_line(out, "TLS-RPT record (valid)", c->tlsrpt, c->domains);
	count_line(out, "domains with an error finding", c->with_error,
		   c->domains);
	if (rep->undecodable > 0)
		count_line(out, "records that could not be decoded",
			   rep->undecodable, 0);
	fputc('\n', out);
}

static void verdicts(FILE *out, const struct an_stats_counts *c)
{
	fputs("Sender verdicts                                      domains"
	      "    share\n", out);
	for (size_t v = 0; v < AN_V_COUNT; v++)
		count_line(out, an_verdict_name((enum an_verdict)v),
			   c->verdicts[v], c->domains);
	if (c->verdict_unknown > 0)
		count_line(out, "(unknown verdict)", c->verdict_unknown,
			   c->domains);
	fputs("\nModes (usable policies)                              domains"
	      "    share\n", out);
	for (size_t m = 0; m < AN_SMODE_COUNT; m++)
		count_line(out, an_stats_mode_name((enum an_stats_mode)m),
			   c->modes[m], c->policy_usable);
	fputs("\nmax_age (usable policies)                            domains"
	      "    share\n", out);
	for (size_t b = 0; b < AN_AGE_COUNT; b++)
		count_line(out, an_stats_age_name((enum an_stats_age)b),
			   c->max_age[b], c->policy_usable);
	if (c->max_age_missing > 0)
		count_line(out, "(no max_age)", c->max_age_missing,
			   c->policy_usable);
	fputc('\n', out);
}

static void findings(FILE *out, const struct an_stats_counts *c)
{
	unsigned idx[AN_F_COUNT];
	size_t n = an_report_findings_order(c, AN_SEV_INFO, idx);
	char a[32], b[32];

	fputs("Findings (a code counts once per domain)\n", out);
	fprintf(out, "  %-36s %-5s %13s %7s %13s %8s\n", "code", "sev",
		"domains", "%all", "STS domains", "%STS");
	for (size_t i = 0; i < n; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)idx[i]);
		const struct an_stats_finding *f = &c->findings[idx[i]];

		fprintf(out, "  %-36s %-5s %13s %6.2f%% %13s %7.2f%%\n",
			ci->name, an_severity_name(ci->severity),
			an_report_num(f->domains, a, sizeof(a)),
			an_report_pct(f->domains, c->domains),
			an_report_num(f->sts_domains, b, sizeof(b)),
			an_report_pct(f->sts_domains, c->sts_record));
	}
	if (n == 0)
		fputs("  (none)\n", out);
	if (c->findings_unknown > 0)
		count_line(out, "domains with a code unknown to this version",
			   c->findings_unknown, c->domains);
	if (c->findings_truncated > 0)
		count_line(out, "domains whose finding list was cut",
			   c->findings_truncated, c->domains);
	fputc('\n', out);
}

static void tlsrpt_dane(FILE *out, const struct an_report *rep)
{
	const struct an_stats_counts *c = an_stats_counts(rep->stats);

	fputs("TLS-RPT (RFC 8460)                                   domains"
	      "    share\n", out);
	count_line(out, "valid TLS-RPT record", c->tlsrpt, c->domains);
	count_line(out, "  with MTA-STS", c->tlsrpt_with_sts, c->domains);
	count_line(out, "  without MTA-STS (TLS-RPT alone)",
		   c->tlsrpt_without_sts, c->domains);
	count_line(out, "MTA-STS domains with TLS-RPT", c->tlsrpt_with_sts,
		   c->sts_record);
	fputc('\n', out);
	fputs("DANE co-deployment (MX probes)                       domains"
	      "    share\n", out);
	if (rep->probes == 0) {
		fputs("  not probed (scan without --probe-mx)\n\n", out);
		return;
	}
	count_line(out, "domains with a probed MX host", c->dane_probed, 0);
	count_line(out, "TLSA on some MX host", c->dane_tlsa_any,
		   c->dane_probed);
	count_line(out, "TLSA on every probed MX host", c->dane_tlsa_all,
		   c->dane_probed);
	count_line(out, "  ... DNSSEC-validated", c->dane_tlsa_all_secure,
		   c->dane_probed);
	count_line(out, "  ... and a usable MTA-STS policy",
		   c->dane_with_policy, c->dane_probed);
	fputc('\n', out);
}

static void tiers(FILE *out, const struct an_stats_counts *c)
{
	char a[32], b[32], d[32], e[32];

	if (c->ranked == 0)
		return;
	fputs("Adoption by rank tier\n", out);
	fprintf(out, "  %-10s %13s %13s %7s %13s %7s %13s %7s\n", "tier",
		"domains", "STS record", "%", "usable", "%", "enforce", "%");
	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		const struct an_stats_tier_row *r = &c->tiers[t];

		fprintf(out, "  %-10s %13s %13s %6.2f%% %13s %6.2f%% %13s "
			     "%6.2f%%\n",
			an_stats_tier_name((enum an_stats_tier)t),
			an_report_num(r->domains, a, sizeof(a)),
			an_report_num(r->sts_record, b, sizeof(b)),
			an_report_pct(r->sts_record, r->domains),
			an_report_num(r->policy_usable, d, sizeof(d)),
			an_report_pct(r->policy_usable, r->domains),
			an_report_num(r->enforce, e, sizeof(e)),
			an_report_pct(r->enforce, r->domains));
	}
	fputc('\n', out);
}

/* A breakdown row's cells, without the line end. */
static void row_cells(FILE *out, const struct an_stats_row *r, int kw)
{
	char a[32], b[32], d[32], e[32], f[32];

	fputs("  ", out);
	put_key(out, r->key, kw);
	fprintf(out, " %11s %11s %6.2f%% %11s %11s %11s",
		an_report_num(r->domains, a, sizeof(a)),
		an_report_num(r->sts_record, b, sizeof(b)),
		an_report_pct(r->sts_record, r->domains),
		an_report_num(r->policy_usable, d, sizeof(d)),
		an_report_num(r->verdicts[AN_V_ENFORCE_OK], e, sizeof(e)),
		an_report_num(r->verdicts[AN_V_POLICY_INVALID], f, sizeof(f)));
}

static void table_row(FILE *out, const struct an_stats_row *r, int kw)
{
	row_cells(out, r, kw);
	fputc('\n', out);
}

/* Each group's top findings after its row (the group table only). */
static void row_findings(FILE *out, const struct an_stats_row *r)
{
	unsigned idx[AN_REPORT_GROUP_FINDINGS];
	size_t k = an_report_row_findings(r, idx, AN_REPORT_GROUP_FINDINGS);
	char a[32];

	for (size_t j = 0; j < k; j++)
		fprintf(out, "%s%s (%s)", j > 0 ? ", " : "  ",
			an_code_info((enum an_code)idx[j])->name,
			an_report_num(r->findings[idx[j]], a, sizeof(a)));
}

static void breakdown(FILE *out, const struct an_report *rep,
		      enum an_stats_table_id t, const char *title)
{
	const struct an_stats_table *info = an_stats_table(rep->stats, t);
	struct an_stats_row *rows = calloc(rep->top + 1, sizeof(*rows));
	struct an_stats_row rest;
	bool groups = t == AN_TABLE_GROUP; /* keys are groups, with codes */
	size_t n;
	int kw = 8;

	if (rows == NULL) {
		fprintf(out, "%s: out of memory\n\n", title);
		return;
	}
	n = an_stats_top(rep->stats, t, rows, rep->top);
	an_report_rest(info, rows, n, &rest);
	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(rows[i].key);

		kw = l > kw ? (l < KEY_WIDTH_MAX ? l : KEY_WIDTH_MAX) : kw;
	}
	fprintf(out, "%s (top %zu of %zu", title, n, info->n_keys);
	if (info->pruned > 0)
		fprintf(out, "; %llu rare %s folded into (other)",
			(unsigned long long)info->pruned,
			groups ? "groups" : "keys");
	fputs(")\n  ", out);
	put_key(out, groups ? "group" : "key", kw);
	fprintf(out, " %11s %11s %7s %11s %11s %11s%s\n", "domains", "STS",
		"%STS", "usable", "enforce-ok", "invalid",
		groups ? "  top findings" : "");
	for (size_t i = 0; i < n; i++) {
		row_cells(out, &rows[i], kw);
		if (groups)
			row_findings(out, &rows[i]);
		fputc('\n', out);
	}
	if (n == 0)
		fputs("  (none)\n", out);
	if (rest.domains > 0)
		table_row(out, &rest, kw);
	fputc('\n', out);
	free(rows);
}

static void trend(FILE *out, const struct an_report *rep)
{
	char a[32], b[32], d[32], e[32];

	if (rep->n_trend < 2)
		return;
	fputs("Trend (every scan in the store, from its counters)\n", out);
	fprintf(out, "  %6s %-20s %13s %13s %7s %13s %7s\n", "scan", "started",
		"domains", "usable", "%", "enforce", "%");
	for (size_t i = 0; i < rep->n_trend; i++) {
		const struct an_report_scan *p = &rep->trend[i];

		fprintf(out, "  %6u %-20s %13s %13s %6.2f%% %13s %6.2f%%\n",
			(unsigned)p->id, an_report_time(p->started, a, sizeof(a)),
			an_report_num(p->domains, b, sizeof(b)),
			an_report_num(p->usable, d, sizeof(d)),
			an_report_pct(p->usable, p->domains),
			an_report_num(p->enforce, e, sizeof(e)),
			an_report_pct(p->enforce, p->domains));
	}
	fputc('\n', out);
}

int an_report_write_text(FILE *out, const struct an_report *rep)
{
	const struct an_stats_counts *c;

	if (out == NULL || rep == NULL || rep->stats == NULL)
		return ST_EINVAL;
	c = an_stats_counts(rep->stats);
	header(out, rep);
	headline(out, rep);
	verdicts(out, c);
	findings(out, c);
	tlsrpt_dane(out, rep);
	tiers(out, c);
	breakdown(out, rep, AN_TABLE_TLD, "By TLD");
	breakdown(out, rep, AN_TABLE_MX_PROVIDER, "By MX provider");
	breakdown(out, rep, AN_TABLE_POLICY_HOST,
		  "By policy host provider (domains with an MTA-STS record)");
	if (rep->grouped)
		breakdown(out, rep, AN_TABLE_GROUP, "By group");
	trend(out, rep);
	fflush(out);
	return ferror(out) ? ST_EIO : ST_OK;
}
