/*
 * an_report_html.c - the HTML writer: one self-contained page for a
 * registry manager, headline numbers first, then charts (inline SVG) and
 * the tables behind them.
 *
 * Self-contained means no script, no font, no stylesheet and no image is
 * loaded from anywhere: the page carries a Content-Security-Policy meta
 * (default-src 'none'; inline styles only) so that even a bug here cannot
 * make a browser fetch something.  Every string from the store (keys come
 * from DNS, labels from the command line) goes through esc(): HTML
 * metacharacters become entities and every byte outside printable ASCII
 * becomes '?'.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "an_report.h"
#include "st_error.h"

#define CHART_W 760
#define LABEL_W 230
#define BAR_H 20
#define ROW_H 26
#define TOP_FINDINGS 12
#define TOP_PROVIDERS 15

static const char *const verdict_color[AN_V_COUNT] = {
	[AN_V_NO_POLICY] = "#9aa0a6",
	[AN_V_POLICY_INVALID] = "#d93025",
	[AN_V_NONE_MODE] = "#c5cae9",
	[AN_V_TESTING] = "#f9ab00",
	[AN_V_ENFORCE_OK] = "#188038",
	[AN_V_ENFORCE_MX_MISMATCH] = "#e37400",
	[AN_V_ENFORCE_DELIVERY_FAILURE] = "#7b1010",
	[AN_V_UNDETERMINED] = "#8e24aa",
};

static const char style[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;color:#202124;max-width:1100px;margin:0 auto;"
	"padding:24px}\n"
	"h1{font-size:26px;margin:0 0 4px}\n"
	"h2{font-size:20px;margin:36px 0 8px;border-bottom:1px solid #dadce0;"
	"padding-bottom:4px}\n"
	".sub{color:#5f6368;margin:0 0 16px}\n"
	".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
	".card{flex:1 1 160px;border:1px solid #dadce0;border-radius:8px;"
	"padding:12px 14px}\n"
	".card .v{font-size:28px;font-weight:600}\n"
	".card .l{color:#5f6368;font-size:13px}\n"
	".card.bad .v{color:#d93025}.card.good .v{color:#188038}\n"
	".summary{background:#f8f9fa;border-left:4px solid #1a73e8;"
	"padding:10px 14px}\n"
	"table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}\n"
	"th,td{padding:3px 10px;border-bottom:1px solid #eceff1;"
	"text-align:right}\n"
	"th{background:#f1f3f4}\n"
	"td.k,th.k{text-align:left;white-space:nowrap}\n"
	"td.d{text-align:left;color:#5f6368}\n"
	".sev-error{color:#d93025;font-weight:600}.sev-warn{color:#e37400}\n"
	".sev-info{color:#5f6368}\n"
	"svg{display:block;margin:8px 0}\n"
	"svg text{font:12px system-ui,sans-serif;fill:#202124}\n"
	".note{color:#5f6368;font-size:13px}\n"
	".sw{display:inline-block;width:10px;height:10px;"
	"margin:0 4px 0 12px}\n";

/* Length of the valid UTF-8 sequence (2 to 4 bytes, RFC 3629: no
 * overlong forms, no surrogates) at s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0], cp, min;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* s as HTML text or attribute value (see the file comment): valid UTF-8
 * passes (the RFC references carry a section sign), other bytes outside
 * printable ASCII become '?'. */
static void esc(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p != NULL && *p != '\0') {
		size_t l = *p >= 0x80 ? utf8_seq(p) : 0;

		if (l > 0) {
			fwrite(p, 1, l, out);
			p += l;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', out); break;
		}
		p++;
	}
}

static void escn(FILE *out, const char *s, size_t cap)
{
	char buf[DS_SCAN_LABEL_MAX + 1];
	size_t n = strnlen(s, cap < sizeof(buf) - 1 ? cap : sizeof(buf) - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
	esc(out, buf);
}

static const char *num(uint64_t v, char *buf)
{
	return an_report_num(v, buf, 32);
}

/* --- charts --- */

struct bar {
	const char *label;
	uint64_t value;
	const char *color;
};

/* Horizontal bars scaled to the largest value; each labelled with its
 * count and its share of base. */
static void hbars(FILE *out, const char *title, const struct bar *b,
		  size_t n, uint64_t base)
{
	uint64_t max = 1;
	int h = (int)n * ROW_H + 8;
	char a[32];

	for (size_t i = 0; i < n; i++)
		max = b[i].value > max ? b[i].value : max;
	fprintf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		     "role=\"img\" aria-label=\"", CHART_W, h, CHART_W, h);
	esc(out, title);
	fputs("\">\n", out);
	for (size_t i = 0; i < n; i++) {
		int y = (int)i * ROW_H + 4;
		double w = (double)(CHART_W - LABEL_W - 150) *
			   (double)b[i].value / (double)max;

		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			LABEL_W - 8, y + 15);
		esc(out, b[i].label);
		fprintf(out, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
			     "height=\"%d\" fill=\"%s\"><title>",
			LABEL_W, y, w > 0 && w < 1 ? 1.0 : w, BAR_H,
			b[i].color);
		esc(out, b[i].label);
		fprintf(out, ": %s</title></rect><text x=\"%.1f\" y=\"%d\">%s"
			     " (%.2f%%)</text>\n", num(b[i].value, a),
			LABEL_W + w + 6, y + 15, a,
			an_report_pct(b[i].value, base));
	}
	fputs("</svg>\n", out);
}

static void legend(FILE *out)
{
	fputs("<p class=\"note\">", out);
	for (size_t v = 0; v < AN_V_COUNT; v++)
		fprintf(out, "<span class=\"sw\" style=\"background:%s\"></span>"
			     "%s", verdict_color[v],
			an_verdict_name((enum an_verdict)v));
	fputs("</p>\n", out);
}

/* One bar per row, its length the row's domains, split by verdict. */
static void stacked(FILE *out, const char *title,
		    const struct an_stats_row *rows, size_t n)
{
	uint64_t max = 1;
	int h = (int)n * ROW_H + 8;
	char a[32];

	for (size_t i = 0; i < n; i++)
		max = rows[i].domains > max ? rows[i].domains : max;
	legend(out);
	fprintf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		     "role=\"img\" aria-label=\"", CHART_W, h, CHART_W, h);
	esc(out, title);
	fputs("\">\n", out);
	for (size_t i = 0; i < n; i++) {
		int y = (int)i * ROW_H + 4;
		double x = LABEL_W, scale = (double)(CHART_W - LABEL_W - 90) /
					    (double)max;

		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			LABEL_W - 8, y + 15);
		esc(out, rows[i].key);
		fputs("</text>", out);
		for (size_t v = 0; v < AN_V_COUNT; v++) {
			double w = scale * (double)rows[i].verdicts[v];

			if (rows[i].verdicts[v] == 0)
				continue;
			fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
				     "height=\"%d\" fill=\"%s\"><title>",
				x, y, w < 0.5 ? 0.5 : w, BAR_H, verdict_color[v]);
			esc(out, rows[i].key);
			fprintf(out, " %s: %s</title></rect>",
				an_verdict_name((enum an_verdict)v),
				num(rows[i].verdicts[v], a));
			x += w;
		}
		fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x + 6,
			y + 15, num(rows[i].domains, a));
	}
	fputs("</svg>\n", out);
}

/* Grouped vertical bars: per tier, the shares with a record, a usable
 * policy and enforce. */
static void tier_chart(FILE *out, const struct an_stats_counts *c)
{
	static const char *const col[3] = { "#1a73e8", "#188038", "#0b5728" };
	static const char *const name[3] = { "MTA-STS record",
					     "usable policy", "enforce" };
	double max = 1.0;
	const int h = 240, base = 200, gw = CHART_W / AN_TIER_COUNT;

	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		double p = an_report_pct(c->tiers[t].sts_record,
					 c->tiers[t].domains);
		max = p > max ? p : max;
	}
	fprintf(out, "<p class=\"note\">");
	for (size_t k = 0; k < 3; k++)
		fprintf(out, "<span class=\"sw\" style=\"background:%s\"></span>"
			     "%s", col[k], name[k]);
	fprintf(out, "</p>\n<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
		     "%d\" role=\"img\" aria-label=\"adoption by rank tier\">\n",
		CHART_W, h, CHART_W, h);
	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		const struct an_stats_tier_row *r = &c->tiers[t];
		uint64_t v[3] = { r->sts_record, r->policy_usable, r->enforce };
		int x0 = (int)t * gw + 30;

		for (size_t k = 0; k < 3; k++) {
			double p = an_report_pct(v[k], r->domains);
			double bh = (base - 30) * p / max;

			fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"40\" "
				     "height=\"%.1f\" fill=\"%s\"><title>%s "
				     "%s: %.2f%%</title></rect><text x=\"%d\" "
				     "y=\"%.1f\" text-anchor=\"middle\">%.1f%%"
				     "</text>\n", x0 + (int)k * 44,
				base - bh, bh, col[k],
				an_stats_tier_name((enum an_stats_tier)t),
				name[k], p, x0 + (int)k * 44 + 20, base - bh - 4,
				p);
		}
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
			     "%s (%s domains)</text>\n", x0 + 64, base + 22,
			an_stats_tier_name((enum an_stats_tier)t),
			num(r->domains, (char[32]){ 0 }));
	}
	fprintf(out, "<line x1=\"20\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		     "stroke=\"#5f6368\"/></svg>\n", base, CHART_W - 10, base);
}

/* Adoption across the store's scans: shares with a usable policy and in
 * enforce, one point per scan. */
static void trend_chart(FILE *out, const struct an_report *rep)
{
	const int h = 260, l = 60, r = 70, t = 20, b = 50;
	const size_t n = rep->n_trend;
	double max = 1.0, sx, sy;
	char when[32];

	for (size_t i = 0; i < n; i++) {
		double p = an_report_pct(rep->trend[i].usable,
					 rep->trend[i].domains);
		max = p > max ? p : max;
	}
	max *= 1.15;
	sx = (double)(CHART_W - l - r) / (double)(n > 1 ? n - 1 : 1);
	sy = (double)(h - t - b) / max;
	fprintf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		     "role=\"img\" aria-label=\"adoption trend\">\n"
		     "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke="
		     "\"#5f6368\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
		     " stroke=\"#5f6368\"/>\n<text x=\"4\" y=\"%d\">%.1f%%"
		     "</text><text x=\"4\" y=\"%d\">0%%</text>\n",
		CHART_W, h, CHART_W, h, l, h - b, CHART_W - r, h - b, l, t, l,
		h - b, t + 4, max, h - b);
	for (int k = 0; k < 2; k++) {
		fprintf(out, "<polyline fill=\"none\" stroke-width=\"2.5\" "
			     "stroke=\"%s\" points=\"", k == 0 ? "#188038"
							       : "#0b3d91");
		for (size_t i = 0; i < n; i++) {
			const struct an_report_scan *p = &rep->trend[i];
			uint64_t v = k == 0 ? p->usable : p->enforce;

			fprintf(out, "%.1f,%.1f ", l + sx * (double)i,
				h - b - sy * an_report_pct(v, p->domains));
		}
		fputs("\"/>\n", out);
	}
	for (size_t i = 0; i < n; i++) {
		const struct an_report_scan *p = &rep->trend[i];
		double x = l + sx * (double)i;

		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill="
			     "\"#188038\"><title>scan %u: %.2f%% usable, %.2f%%"
			     " enforce</title></circle>", x,
			h - b - sy * an_report_pct(p->usable, p->domains),
			(unsigned)p->id, an_report_pct(p->usable, p->domains),
			an_report_pct(p->enforce, p->domains));
		if (n <= 12 || i % ((n + 11) / 12) == 0)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor="
				     "\"middle\">#%u %.10s</text>\n", x,
				h - b + 18, (unsigned)p->id,
				an_report_time(p->started, when, sizeof(when)));
	}
	fputs("</svg>\n<p class=\"note\"><span class=\"sw\" style=\"background:"
	      "#188038\"></span>usable policy <span class=\"sw\" style=\""
	      "background:#0b3d91\"></span>enforce (share of the domains of "
	      "each scan)</p>\n", out);
}

/* --- sections --- */

struct html_ctx {
	FILE *out;
	const struct an_report *rep;
	const struct an_stats_counts *c;
};

static void card(FILE *out, const char *cls, double pct, uint64_t v,
		 const char *label)
{
	char a[32];

	fprintf(out, "<div class=\"card %s\"><div class=\"v\">%.2f%%</div>"
		     "<div class=\"l\">%s<br>%s domains</div></div>\n", cls, pct,
		label, num(v, a));
}

static void head(struct html_ctx *h)
{
	const struct ds_scan_info *s = &h->rep->scan;
	FILE *out = h->out;
	char a[32], b[32], g[32];

	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset="
		     "\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
		     "content=\"default-src 'none'; style-src 'unsafe-inline'; "
		     "img-src 'none'; font-src 'none'; connect-src 'none'; "
		     "base-uri 'none'; form-action 'none'\">\n<meta name="
		     "\"referrer\" content=\"no-referrer\">\n<meta name="
		     "\"viewport\" content=\"width=device-width, initial-scale="
		     "1\">\n<title>MTA-STS report, scan %u</title>\n<style>%s"
		     "</style></head>\n<body>\n<h1>MTA-STS deployment report"
		     "</h1>\n<p class=\"sub\">Scan %u", (unsigned)s->id,
		style, (unsigned)s->id);
	if (s->label[0] != '\0') {
		fputs(" &ldquo;", out);
		escn(out, s->label, sizeof(s->label));
		fputs("&rdquo;", out);
	}
	fprintf(out, " (%s) &middot; started %s &middot; finished %s &middot; "
		     "report generated %s",
		s->state == DS_SCAN_FINISHED ? "finished" : "not finished",
		an_report_time(s->started, a, sizeof(a)),
		an_report_time(s->finished, b, sizeof(b)),
		an_report_time(h->rep->generated, g, sizeof(g)));
	if (h->rep->version != NULL) {
		fputs(" by stsmap ", out);
		esc(out, h->rep->version);
	}
	fputs("</p>\n", out);
}

static void headline(struct html_ctx *h)
{
	const struct an_stats_counts *c = h->c;
	FILE *out = h->out;
	uint64_t broken = c->verdicts[AN_V_POLICY_INVALID] +
			  c->verdicts[AN_V_ENFORCE_MX_MISMATCH] +
			  c->verdicts[AN_V_ENFORCE_DELIVERY_FAILURE];
	char a[32], b[32], d[32], e[32], f[32], g[32];

	fprintf(out, "<div class=\"cards\">\n<div class=\"card\"><div class="
		     "\"v\">%s</div><div class=\"l\">domains scanned</div>"
		     "</div>\n", num(c->domains, a));
	card(out, "", an_report_pct(c->sts_record, c->domains), c->sts_record,
	     "publish an MTA-STS record");
	card(out, "good", an_report_pct(c->policy_usable, c->domains),
	     c->policy_usable, "have a policy senders apply");
	card(out, "good", an_report_pct(c->modes[AN_SMODE_ENFORCE],
					c->domains),
	     c->modes[AN_SMODE_ENFORCE], "enforce it");
	card(out, "bad", an_report_pct(broken, c->sts_record), broken,
	     "of MTA-STS domains are broken");
	card(out, "", an_report_pct(c->tlsrpt, c->domains), c->tlsrpt,
	     "publish TLS-RPT");
	fputs("</div>\n", out);
	fprintf(out, "<p class=\"summary\">Of <b>%s</b> domains, <b>%s</b> "
		     "(%.2f%%) publish an MTA-STS record and <b>%s</b> have a "
		     "policy that sending servers apply, <b>%s</b> of them in "
		     "enforce mode. <b>%s</b> publish a record whose policy "
		     "senders cannot use, and <b>%s</b> enforce a policy that "
		     "some or all of their MX hosts fail: see <i>What to fix"
		     "</i> below.</p>\n",
		num(c->domains, a), num(c->sts_record, b),
		an_report_pct(c->sts_record, c->domains),
		num(c->policy_usable, d), num(c->modes[AN_SMODE_ENFORCE], e),
		num(c->verdicts[AN_V_POLICY_INVALID], f),
		num(c->verdicts[AN_V_ENFORCE_MX_MISMATCH] +
		    c->verdicts[AN_V_ENFORCE_DELIVERY_FAILURE], g));
	if (h->rep->undecodable > 0)
		fprintf(out, "<p class=\"note\">%s stored records could not be "
			     "decoded and are not counted.</p>\n",
			num(h->rep->undecodable, a));
}

static void count_table(FILE *out, const char *head1, const char *const *k,
			const uint64_t *v, size_t n, uint64_t base)
{
	char a[32];

	fprintf(out, "<table><tr><th class=\"k\">%s</th><th>domains</th>"
		     "<th>share</th></tr>\n", head1);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "<tr><td class=\"k\">%s</td><td>%s</td><td>%.2f%%"
			     "</td></tr>\n", k[i], num(v[i], a),
			an_report_pct(v[i], base));
	fputs("</table>\n", out);
}

static void verdicts(struct html_ctx *h)
{
	const struct an_stats_counts *c = h->c;
	const char *names[AN_V_COUNT];
	struct bar b[AN_V_COUNT];
	size_t n = 0;
	char a[32];

	fputs("<h2>What senders do: verdicts</h2>\n<p class=\"note\">The "
	      "sender verdict says what an RFC 8461 sending server does with "
	      "mail to the domain today. Domains without any MTA-STS record ("
	      "no-policy: ", h->out);
	fprintf(h->out, "%s, %.2f%%) are left out of the chart.</p>\n",
		num(c->verdicts[AN_V_NO_POLICY], a),
		an_report_pct(c->verdicts[AN_V_NO_POLICY], c->domains));
	for (size_t v = 0; v < AN_V_COUNT; v++) {
		names[v] = an_verdict_name((enum an_verdict)v);
		if (v == AN_V_NO_POLICY)
			continue;
		b[n++] = (struct bar){ names[v], c->verdicts[v],
				       verdict_color[v] };
	}
	hbars(h->out, "sender verdicts", b, n, c->domains);
	count_table(h->out, "verdict", names, c->verdicts, AN_V_COUNT,
		    c->domains);
}

static void fix_table(struct html_ctx *h, const unsigned *idx, size_t n)
{
	const struct an_stats_counts *c = h->c;
	FILE *out = h->out;
	char a[32], b[32];

	fputs("<table><tr><th class=\"k\">finding</th><th class=\"k\">"
	      "severity</th><th>domains</th><th>% of all</th><th>MTA-STS "
	      "domains</th><th>% of MTA-STS</th><th class=\"k\">what it means"
	      "</th></tr>\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)idx[i]);
		const struct an_stats_finding *f = &c->findings[idx[i]];
		const char *sev = an_severity_name(ci->severity);

		fprintf(out, "<tr><td class=\"k\">%s</td><td class=\"k sev-%s\">"
			     "%s</td><td>%s</td><td>%.2f%%</td><td>%s</td><td>"
			     "%.2f%%</td><td class=\"d\">", ci->name, sev, sev,
			num(f->domains, a), an_report_pct(f->domains, c->domains),
			num(f->sts_domains, b),
			an_report_pct(f->sts_domains, c->sts_record));
		esc(out, ci->description);
		fputs(" (", out);
		esc(out, ci->rfc);
		fputs(")</td></tr>\n", out);
	}
	if (n == 0)
		fputs("<tr><td class=\"k\" colspan=\"7\">none</td></tr>\n", out);
	fputs("</table>\n", out);
}

/* The info codes, folded away: context, not problems. */
static void info_findings(struct html_ctx *h)
{
	unsigned idx[AN_F_COUNT];
	size_t n = an_report_findings_order(h->c, AN_SEV_INFO, idx), k = 0;

	for (size_t i = 0; i < n; i++) {
		if (an_code_info((enum an_code)idx[i])->severity == AN_SEV_INFO)
			idx[k++] = idx[i];
	}
	fputs("<details><summary>Informational findings</summary>\n", h->out);
	fix_table(h, idx, k);
	fputs("</details>\n", h->out);
}

static void findings(struct html_ctx *h)
{
	unsigned idx[AN_F_COUNT];
	struct bar b[TOP_FINDINGS];
	size_t n = an_report_findings_order(h->c, AN_SEV_WARN, idx), nb;

	fputs("<h2>What to fix</h2>\n<p class=\"note\">Errors and warnings, "
	      "by the number of domains they affect (a finding counts once "
	      "per domain). Errors make senders ignore the policy or bounce "
	      "mail.</p>\n", h->out);
	nb = n < TOP_FINDINGS ? n : TOP_FINDINGS;
	for (size_t i = 0; i < nb; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)idx[i]);

		b[i] = (struct bar){ ci->name, h->c->findings[idx[i]].domains,
				     ci->severity == AN_SEV_ERROR ? "#d93025"
								  : "#e37400" };
	}
	if (nb > 0)
		hbars(h->out, "top findings", b, nb, h->c->domains);
	fix_table(h, idx, n);
	info_findings(h);
}

static void policy(struct html_ctx *h)
{
	const struct an_stats_counts *c = h->c;
	static const char *const mode_col[AN_SMODE_COUNT] = {
		"#188038", "#f9ab00", "#c5cae9" };
	const char *mk[AN_SMODE_COUNT], *ak[AN_AGE_COUNT];
	struct bar b[AN_AGE_COUNT];

	fputs("<h2>Policies: modes and max_age</h2>\n<p class=\"note\">Over "
	      "the domains whose policy senders apply.</p>\n", h->out);
	for (size_t m = 0; m < AN_SMODE_COUNT; m++) {
		mk[m] = an_stats_mode_name((enum an_stats_mode)m);
		b[m] = (struct bar){ mk[m], c->modes[m], mode_col[m] };
	}
	hbars(h->out, "policy modes", b, AN_SMODE_COUNT, c->policy_usable);
	for (size_t i = 0; i < AN_AGE_COUNT; i++) {
		ak[i] = an_stats_age_name((enum an_stats_age)i);
		b[i] = (struct bar){ ak[i], c->max_age[i], "#1a73e8" };
	}
	hbars(h->out, "max_age distribution", b, AN_AGE_COUNT,
	      c->policy_usable);
	count_table(h->out, "mode", mk, c->modes, AN_SMODE_COUNT,
		    c->policy_usable);
	count_table(h->out, "max_age", ak, c->max_age, AN_AGE_COUNT,
		    c->policy_usable);
}

static void tlsrpt_dane(struct html_ctx *h)
{
	const struct an_stats_counts *c = h->c;
	const char *k[5] = { "valid TLS-RPT record", "with MTA-STS",
			     "without MTA-STS", NULL, NULL };
	uint64_t v[5] = { c->tlsrpt, c->tlsrpt_with_sts, c->tlsrpt_without_sts,
			  0, 0 };

	fputs("<h2>TLS-RPT and DANE</h2>\n", h->out);
	count_table(h->out, "TLS-RPT (RFC 8460)", k, v, 3, c->domains);
	if (h->rep->probes == 0) {
		fputs("<p class=\"note\">DANE: not measured (the scan did not "
		      "probe MX hosts: --probe-mx).</p>\n", h->out);
		return;
	}
	k[0] = "TLSA on some MX host";
	k[1] = "TLSA on every probed MX host";
	k[2] = "... DNSSEC-validated";
	k[3] = "... with a usable MTA-STS policy";
	v[0] = c->dane_tlsa_any;
	v[1] = c->dane_tlsa_all;
	v[2] = c->dane_tlsa_all_secure;
	v[3] = c->dane_with_policy;
	count_table(h->out, "DANE (domains with a probed MX host)", k, v, 4,
		    c->dane_probed);
}

static void tiers(struct html_ctx *h)
{
	const struct an_stats_counts *c = h->c;
	char a[32], b[32], d[32], e[32];

	if (c->ranked == 0)
		return;
	fputs("<h2>Adoption by rank tier</h2>\n", h->out);
	tier_chart(h->out, c);
	fputs("<table><tr><th class=\"k\">tier</th><th>domains</th><th>"
	      "MTA-STS record</th><th>usable policy</th><th>enforce</th><th>"
	      "TLS-RPT</th></tr>\n", h->out);
	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		const struct an_stats_tier_row *r = &c->tiers[t];

		fprintf(h->out, "<tr><td class=\"k\">%s</td><td>%s</td><td>%s "
				"(%.2f%%)</td><td>%s (%.2f%%)</td><td>%s (%.2f%%)"
				"</td><td>%.2f%%</td></tr>\n",
			an_stats_tier_name((enum an_stats_tier)t),
			num(r->domains, a), num(r->sts_record, b),
			an_report_pct(r->sts_record, r->domains),
			num(r->policy_usable, d),
			an_report_pct(r->policy_usable, r->domains),
			num(r->enforce, e), an_report_pct(r->enforce, r->domains),
			an_report_pct(r->tlsrpt, r->domains));
	}
	fputs("</table>\n", h->out);
}

/* A breakdown row's cells, the row left open for more cells. */
static void key_row_open(FILE *out, const struct an_stats_row *r)
{
	char a[32], b[32], d[32], e[32], f[32], g[32];

	fputs("<tr><td class=\"k\">", out);
	esc(out, r->key);
	fprintf(out, "</td><td>%s</td><td>%s</td><td>%.2f%%</td><td>%s</td>"
		     "<td>%s</td><td>%s</td><td>%s</td>",
		num(r->domains, a), num(r->sts_record, b),
		an_report_pct(r->sts_record, r->domains),
		num(r->policy_usable, d), num(r->verdicts[AN_V_ENFORCE_OK], e),
		num(r->verdicts[AN_V_ENFORCE_MX_MISMATCH] +
		    r->verdicts[AN_V_ENFORCE_DELIVERY_FAILURE], f),
		num(r->verdicts[AN_V_POLICY_INVALID], g));
}


/* A group row's top findings, as the row's last cell. */
static void row_findings(FILE *out, const struct an_stats_row *r)
{
	unsigned idx[AN_REPORT_GROUP_FINDINGS];
	size_t k = an_report_row_findings(r, idx, AN_REPORT_GROUP_FINDINGS);
	char a[32];

	fputs("<td class=\"k\">", out);
	for (size_t j = 0; j < k; j++)
		fprintf(out, "%s%s (%s)", j > 0 ? "<br>" : "",
			an_code_info((enum an_code)idx[j])->name,
			num(r->findings[idx[j]], a));
	fputs("</td>", out);
}

/* The group table (report --groups) also has a last column with each
 * group's top findings. */
static int breakdown(struct html_ctx *h, enum an_stats_table_id t,
		     const char *title, const char *note, bool chart)
{
	const struct an_stats_table *info = an_stats_table(h->rep->stats, t);
	struct an_stats_row *rows = calloc(h->rep->top + 1, sizeof(*rows));
	struct an_stats_row rest;
	bool groups = t == AN_TABLE_GROUP;
	size_t n;

	if (rows == NULL)
		return ST_ENOMEM;
	n = an_stats_top(h->rep->stats, t, rows, h->rep->top);
	an_report_rest(info, rows, n, &rest);
	fprintf(h->out, "<h2>%s</h2>\n<p class=\"note\">%s", title, note);
	if (info->pruned > 0)
		fprintf(h->out, " %" PRIu64 " rare %s were folded into "
				"(other) to bound memory.", info->pruned,
			groups ? "groups" : "keys");
	fputs("</p>\n", h->out);
	if (chart && n > 0)
		stacked(h->out, title, rows, n < TOP_PROVIDERS ? n
							       : TOP_PROVIDERS);
	fprintf(h->out, "<table><tr><th class=\"k\">%s</th><th>domains</th>"
			"<th>MTA-STS</th><th>%%</th><th>usable</th><th>"
			"enforce-ok</th><th>enforce, MX failing</th><th>"
			"policy-invalid</th>%s</tr>\n", groups ? "group" : "key",
		groups ? "<th class=\"k\">top findings</th>" : "");
	for (size_t i = 0; i < n; i++) {
		key_row_open(h->out, &rows[i]);
		if (groups)
			row_findings(h->out, &rows[i]);
		fputs("</tr>\n", h->out);
	}
	if (rest.domains > 0) {
		key_row_open(h->out, &rest);
		fputs(groups ? "<td class=\"k\"></td></tr>\n" : "</tr>\n",
		      h->out);
	}
	fputs("</table>\n", h->out);
	free(rows);
	return ST_OK;
}

static void trend(struct html_ctx *h)
{
	const struct an_report *rep = h->rep;
	char a[32], b[32], d[32];

	if (rep->n_trend < 2)
		return;
	fputs("<h2>Trend across scans</h2>\n", h->out);
	trend_chart(h->out, rep);
	fputs("<table><tr><th>scan</th><th class=\"k\">label</th><th class="
	      "\"k\">started</th><th>domains</th><th>usable policy</th><th>"
	      "enforce</th></tr>\n", h->out);
	for (size_t i = 0; i < rep->n_trend; i++) {
		const struct an_report_scan *p = &rep->trend[i];

		fprintf(h->out, "<tr><td>%u</td><td class=\"k\">",
			(unsigned)p->id);
		escn(h->out, p->label, sizeof(p->label));
		fprintf(h->out, "</td><td class=\"k\">%s</td><td>%s</td><td>"
				"%.2f%%</td><td>%.2f%% (%s)</td></tr>\n",
			an_report_time(p->started, a, sizeof(a)),
			num(p->domains, b), an_report_pct(p->usable, p->domains),
			an_report_pct(p->enforce, p->domains),
			num(p->enforce, d));
	}
	fputs("</table>\n", h->out);
}

static void foot(struct html_ctx *h)
{
	const struct ds_scan_info *s = &h->rep->scan;

	fputs("<h2>About these numbers</h2>\n<p class=\"note\">An MTA-STS "
	      "record is a TXT record at _mta-sts.DOMAIN beginning with "
	      "v=STSv1 (RFC 8461 &sect;3.1). A policy is usable when a sender "
	      "would apply it: exactly one valid record and a policy file "
	      "fetched over HTTPS with a valid certificate, status 200, "
	      "text/plain, that parses. Providers are registrable domains "
	      "(public suffix list) of the MX hosts and of the policy host "
	      "(its CNAME target when there is one).</p>\n", h->out);
	if (s->meta_json != NULL) {
		fputs("<details><summary>Scan metadata</summary><pre>", h->out);
		esc(h->out, s->meta_json);
		fputs("</pre></details>\n", h->out);
	}
	fputs("</body></html>\n", h->out);
}

static int html_page(struct html_ctx *h)
{
	int ret;

	head(h);
	headline(h);
	verdicts(h);
	findings(h);
	policy(h);
	tlsrpt_dane(h);
	tiers(h);
	ret = breakdown(h, AN_TABLE_MX_PROVIDER, "MX providers",
			"Registrable domain of each MX host; a domain counts "
			"once per provider.", true);
	if (ret == ST_OK)
		ret = breakdown(h, AN_TABLE_TLD, "By TLD", "All domains, by "
				"top-level domain.", false);
	if (ret == ST_OK)
		ret = breakdown(h, AN_TABLE_POLICY_HOST,
				"Policy host providers", "Domains with an "
				"MTA-STS record, by who serves mta-sts.DOMAIN.",
				true);
	if (ret == ST_OK && h->rep->grouped)
		ret = breakdown(h, AN_TABLE_GROUP, "By group", "Domains by the "
				"group the groups file gives them (a registrar, "
				"reseller or customer); " AN_GROUP_NONE " holds "
				"the domains it does not list.", false);
	if (ret != ST_OK)
		return ret;
	trend(h);
	foot(h);
	return ST_OK;
}

int an_report_write_html(FILE *out, const struct an_report *rep)
{
	struct html_ctx h = { out, rep, NULL };
	int ret;

	if (out == NULL || rep == NULL || rep->stats == NULL)
		return ST_EINVAL;
	h.c = an_stats_counts(rep->stats);
	ret = html_page(&h);
	fflush(out);
	if (ret == ST_OK && ferror(out))
		ret = ST_EIO;
	return ret;
}
