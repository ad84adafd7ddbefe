/*
 * an_export.c - export writers (csv, jsonl, registry); see an_export.h.
 */
#include "an_export.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "an_classify.h"
#include "an_fix.h"
#include "an_json.h"
#include "an_policy.h"
#include "an_text.h"
#include "st_error.h"

/* The scratch buffer holds one list cell (at most AN_RECORD_MX_MAX hosts
 * or AN_FINDINGS_MAX codes) or one README (AN_FINDINGS_MAX problem lines
 * and four domain names); record strings are at most
 * AN_RECORD_STR_LEN_MAX bytes, so the largest, the README, stays under
 * 52 KiB.  An overflow would cut a cell, never write outside. */
#define SCRATCH_MAX (64 * 1024)
#define NAME_LEN_MAX 255                 /* a domain name in the store */
#define PATH_MAX_REL (NAME_LEN_MAX + 32) /* "<domain>/README.txt" */

/* A bounded text buffer with a sticky overflow flag. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

struct an_export {
	const struct an_export_format *fmt;
	struct an_export_opts o;
	struct an_export_stats st;
	struct sbuf scratch;        /* one list cell or README at a time */
	char *policy;               /* fix policy, AN_POLICY_BODY_MAX */
	size_t policy_len;
	char txt[AN_GEN_TXT_MAX];   /* fix TXT value */
};

static void sb_reset(struct sbuf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->cap > 0)
		b->p[0] = '\0';
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

/* --- CSV cells --- */

/* Spreadsheets run a cell beginning with one of these as a formula
 * (OWASP "CSV injection"); TAB and CR are stripped by some first. */
static bool formula_start(uint8_t c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' ||
	       c == '\r';
}

void an_csv_cell(FILE *out, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	bool quote = false;
	size_t i = 0, run = 0; /* p[run..i) is copied as is, in one write */

	if (s == NULL || len == 0)
		return;
	/* RFC 4180 §2.6: fields with a comma, quote or line break are
	 * enclosed in double quotes. */
	for (size_t k = 0; k < len && !quote; k++)
		quote = p[k] == ',' || p[k] == '"' || p[k] == '\r' ||
			p[k] == '\n';
	if (quote)
		fputc('"', out);
	if (formula_start(p[0]))
		fputc('\'', out);
	while (i < len) {
		uint8_t c = p[i];
		size_t l = 1;
		const char *subst = NULL;

		if (c == '"')
			subst = "\"\""; /* RFC 4180 §2.7 */
		else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
			 c == 0x7f)
			subst = "\xef\xbf\xbd";
		else if (c >= 0x80 && (l = an_utf8_len(p + i, len - i)) == 0)
			subst = "\xef\xbf\xbd"; /* U+FFFD */
		if (subst == NULL) {
			i += l;
			continue;
		}
		fwrite(p + run, 1, i - run, out);
		fputs(subst, out);
		run = ++i;
	}
	fwrite(p + run, 1, i - run, out);
	if (quote)
		fputc('"', out);
}

static void cell(FILE *out, bool *first, const char *s)
{
	if (!*first)
		fputc(',', out);
	*first = false;
	an_csv_cell(out, s, s != NULL ? strlen(s) : 0);
}

static void cell_u64(FILE *out, bool *first, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cell(out, first, buf);
}

static int row_end(struct an_export *x)
{
	fputs("\r\n", x->o.out);
	x->st.rows++;
	return ferror(x->o.out) ? ST_EIO : ST_OK;
}

static int header(struct an_export *x, const char *const *cols)
{
	bool first = true;

	for (size_t i = 0; cols[i] != NULL; i++)
		cell(x->o.out, &first, cols[i]);
	fputs("\r\n", x->o.out);
	return ferror(x->o.out) ? ST_EIO : ST_OK;
}

/* --- record fields as text --- */

static const char *verdict_name(const struct an_record *r)
{
	return r->verdict < AN_V_COUNT
		       ? an_verdict_name((enum an_verdict)r->verdict)
		       : "unknown";
}

static const char *mode_name(const struct an_record *r)
{
	return r->mode != AN_MODE_UNSET
		       ? an_mode_name((enum an_mode)r->mode) : NULL;
}

/* Was a policy body parsed?  Then MX coverage means something. */
static bool have_policy(const struct an_record *r)
{
	return r->mode != AN_MODE_UNSET || r->n_patterns_total > 0;
}

/* MX hosts with covered == want, space separated, into b. */
static void mx_list(struct sbuf *b, const struct an_record *r, bool want)
{
	sb_reset(b);
	for (size_t i = 0; i < r->n_mx; i++) {
		const char *n = r->mx[i].name;

		if (r->mx[i].covered != want)
			continue;
		if (b->len > 0)
			sb_str(b, " ");
		sb_str(b, n != NULL && n[0] != '\0' ? n : ".");
	}
}

/* Finding codes of at least severity min, space separated. */
static void code_list(struct sbuf *b, const struct an_record *r,
		      unsigned min)
{
	sb_reset(b);
	for (size_t i = 0; i < r->n_findings; i++) {
		if (r->findings[i].severity < min)
			continue;
		if (b->len > 0)
			sb_str(b, " ");
		sb_str(b, r->findings[i].code);
	}
}

static void iso_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t != 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *tlsrpt_state(const struct an_record *r)
{
	switch (r->tlsrpt_dns) {
	case AN_DNS_NOT_ASKED:
		return NULL;
	case AN_DNS_SERVFAIL:
	case AN_DNS_REFUSED:
	case AN_DNS_TIMEOUT:
	case AN_DNS_OTHER:
		return "dns-failure";
	default:
		break;
	}
	if (r->tlsrpt_valid)
		return "valid";
	for (size_t i = 0; i < r->n_tlsrpt_txt; i++) {
		/* RFC 8460 §3: a record begins with v=TLSRPTv1 */
		if (an_prefix_nocase(r->tlsrpt_txt[i].data,
				     r->tlsrpt_txt[i].len, "v=tlsrptv1"))
			return "invalid";
	}
	return "none";
}

/* Build the suggested fix into x->txt / x->policy; true if there is one. */
static bool build_fix(struct an_export *x, const struct an_record *r)
{
	int ret;

	ret = an_fix_build(r, x->o.now, x->txt, sizeof(x->txt), x->policy,
			   AN_POLICY_BODY_MAX, &x->policy_len);
	if (ret == ST_OK) {
		x->st.fixes++;
		return true;
	}
	x->st.no_fix++;
	return false;
}

/* --- jsonl --- */

static int jsonl_begin(struct an_export *x)
{
	(void)x;
	return ST_OK;
}

static int jsonl_record(struct an_export *x, const struct an_record *r,
			const uint8_t *body, size_t body_len)
{
	an_record_json(x->o.out, r, body, body_len);
	fputc('\n', x->o.out);
	x->st.rows++;
	return ferror(x->o.out) ? ST_EIO : ST_OK;
}

static int no_end(struct an_export *x)
{
	(void)x;
	return ST_OK;
}

/* --- csv --- */

static const char *const csv_cols[] = {
	"domain", "rank", "verdict", "mode", "max_age", "id", "mx_covered",
	"mx_uncovered", "findings", "policy_host", "cert_not_after", "tlsrpt",
	"fix_txt", "fix_policy", NULL,
};

static int csv_begin(struct an_export *x)
{
	return header(x, csv_cols);
}

static int csv_record(struct an_export *x, const struct an_record *r,
		      const uint8_t *body, size_t body_len)
{
	FILE *out = x->o.out;
	struct sbuf *b = &x->scratch;
	bool first = true, fix = false;
	char t[32];

	(void)body;
	(void)body_len;
	cell(out, &first, r->domain);
	cell_u64(out, &first, r->rank);
	cell(out, &first, verdict_name(r));
	cell(out, &first, mode_name(r));
	if (r->have_max_age)
		cell_u64(out, &first, r->max_age);
	else
		cell(out, &first, NULL);
	cell(out, &first, r->sts_id);
	mx_list(b, r, true);
	cell(out, &first, b->p);
	mx_list(b, r, false);
	cell(out, &first, have_policy(r) ? b->p : NULL);
	code_list(b, r, AN_SEV_INFO);
	cell(out, &first, b->p);
	sb_reset(b);
	if (r->ph_cname != NULL)
		sb_str(b, r->ph_cname);
	else if (r->fetch_status != AN_FETCH_NOT_ATTEMPTED)
		sb_fmt(b, "mta-sts.%s", r->domain);
	cell(out, &first, b->p);
	iso_time(r->cert_not_after, t);
	cell(out, &first, t);
	cell(out, &first, tlsrpt_state(r));
	if (an_fix_needed(r))
		fix = build_fix(x, r);
	cell(out, &first, fix ? x->txt : NULL);
	if (!first)
		fputc(',', out);
	an_csv_cell(out, fix ? x->policy : NULL, fix ? x->policy_len : 0);
	return row_end(x);
}

/* --- registry --- */

static const char *const registry_cols[] = {
	"domain", "rank", "verdict", "errors", "problems", "txt_name",
	"txt_value", "policy_url", "policy_file", "policy_body", NULL,
};

/* One sentence per verdict, for the registrant's README. */
static const char *verdict_meaning(unsigned v)
{
	switch (v) {
	case AN_V_POLICY_INVALID:
		return "sending mail servers cannot use the announced policy "
		       "and ignore it: MTA-STS gives no protection";
	case AN_V_NONE_MODE:
		return "the policy is in mode none: it is being withdrawn";
	case AN_V_TESTING:
		return "the policy is in mode testing: failures are only "
		       "reported";
	case AN_V_ENFORCE_OK:
		return "the policy is enforced";
	case AN_V_ENFORCE_MX_MISMATCH:
		return "the policy is enforced but some MX hosts are not in "
		       "it: senders refuse to deliver to them";
	case AN_V_ENFORCE_DELIVERY_FAILURE:
		return "the policy is enforced and no MX host is in it: "
		       "mail to the domain bounces";
	default:
		return "";
	}
}

/* A domain as a file name: the normalised name's alphabet only. */
static bool safe_name(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > NAME_LEN_MAX || d[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)d[i];

		if (!an_is_digit(c) && !(c >= 'a' && c <= 'z') && c != '-' &&
		    c != '.' && c != '_')
			return false;
	}
	return true;
}

static void problems(struct sbuf *b, const struct an_record *r,
		     const char *indent)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct an_record_finding *f = &r->findings[i];

		if (f->severity < AN_SEV_WARN)
			continue;
		sb_fmt(b, "%s%s %s%s%s\n", indent,
		       an_severity_name((enum an_severity)f->severity),
		       f->code, f->detail != NULL && f->detail[0] != '\0'
					? ": " : "",
		       f->detail != NULL ? f->detail : "");
	}
}

/* The registrant's explanation, into x->scratch. */
static void readme(struct an_export *x, const struct an_record *r, bool fix)
{
	struct sbuf *b = &x->scratch;
	char t[32];

	sb_reset(b);
	iso_time(r->time, t);
	sb_fmt(b, "MTA-STS (RFC 8461) check of %s, %s\n\n", r->domain,
	       t[0] != '\0' ? t : "time unknown");
	sb_fmt(b, "Verdict: %s: %s.\n\nWhat is wrong:\n", verdict_name(r),
	       verdict_meaning(r->verdict));
	problems(b, r, "  ");
	if (!fix) {
		sb_str(b, "\nNo corrected policy can be suggested: the domain "
			  "has no MX host to list.\nIf it receives no mail, "
			  "remove the TXT record at _mta-sts.");
		sb_fmt(b, "%s.\n", r->domain);
		return;
	}
	sb_fmt(b, "\nOnce the problems above are fixed, publish this TXT "
		  "record at _mta-sts.%s\n(its new id tells senders to fetch "
		  "the policy again):\n\n  %s\n\nand serve the file "
		  "mta-sts.txt next to this one, unchanged, at\n\n"
		  "  https://mta-sts.%s/.well-known/mta-sts.txt\n\nwith HTTP "
		  "status 200, Content-Type text/plain and no redirect, over "
		  "a\ncertificate valid for mta-sts.%s.  The file lists the "
		  "MX hosts found for\nthe domain; when they change, update "
		  "it and the id.\n",
	       r->domain, x->txt, r->domain, r->domain);
}

/* Hand D/mta-sts.txt (when there is a fix) and D/README.txt to the file
 * callback; relpath receives the policy file's name, or "". */
static int registry_files(struct an_export *x, const struct an_record *r,
			  bool fix, char *relpath, size_t cap)
{
	char readme_path[PATH_MAX_REL];
	int ret = ST_OK;

	relpath[0] = '\0';
	if (x->o.file == NULL)
		goto out;
	if (!safe_name(r->domain)) {
		x->st.skipped_files++;
		goto out;
	}
	if (fix) {
		snprintf(relpath, cap, "%s/mta-sts.txt", r->domain);
		ret = x->o.file(x->o.file_arg, relpath, x->policy,
				x->policy_len);
		if (ret != ST_OK)
			goto out;
		x->st.files++;
	}
	readme(x, r, fix);
	if (x->scratch.overflow) {
		ret = ST_ESPACE;
		goto out;
	}
	snprintf(readme_path, sizeof(readme_path), "%s/README.txt",
		 r->domain);
	ret = x->o.file(x->o.file_arg, readme_path, x->scratch.p,
			x->scratch.len);
	if (ret == ST_OK)
		x->st.files++;
out:
	return ret;
}

static int registry_begin(struct an_export *x)
{
	return header(x, registry_cols);
}

static int registry_record(struct an_export *x, const struct an_record *r,
			   const uint8_t *body, size_t body_len)
{
	FILE *out = x->o.out;
	struct sbuf *b = &x->scratch;
	char relpath[PATH_MAX_REL];
	bool first = true, fix;
	int ret;

	(void)body;
	(void)body_len;
	if (!an_fix_needed(r))
		return ST_OK;
	fix = build_fix(x, r);
	ret = registry_files(x, r, fix, relpath, sizeof(relpath));
	if (ret != ST_OK)
		return ret;
	cell(out, &first, r->domain);
	cell_u64(out, &first, r->rank);
	cell(out, &first, verdict_name(r));
	code_list(b, r, AN_SEV_ERROR);
	cell(out, &first, b->p);
	sb_reset(b);
	problems(b, r, "");
	if (b->len > 0)
		b->p[--b->len] = '\0'; /* no newline after the last line */
	cell(out, &first, b->p);
	sb_reset(b);
	sb_fmt(b, "_mta-sts.%s", r->domain);
	cell(out, &first, b->p);
	cell(out, &first, fix ? x->txt : NULL);
	sb_reset(b);
	sb_fmt(b, "https://mta-sts.%s/.well-known/mta-sts.txt", r->domain);
	cell(out, &first, b->p);
	cell(out, &first, relpath);
	fputc(',', out);
	an_csv_cell(out, fix ? x->policy : NULL, fix ? x->policy_len : 0);
	return row_end(x);
}

/* --- the table and the driver --- */

static const struct an_export_format formats[] = {
	{ "jsonl", "one JSON object per domain and line (full record)", true,
	  jsonl_begin, jsonl_record, no_end },
	{ "csv", "one row per domain, stable columns (see README)", false,
	  csv_begin, csv_record, no_end },
	{ "registry", "one row per domain needing a fix: problems, "
		      "corrected TXT record and policy", false,
	  registry_begin, registry_record, no_end },
};

const struct an_export_format *an_export_formats(size_t *n)
{
	*n = sizeof(formats) / sizeof(formats[0]);
	return formats;
}

const struct an_export_format *an_export_format_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(formats) /
						 sizeof(formats[0]); i++) {
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	}
	return NULL;
}

bool an_export_selected(const struct an_export_filter *f,
			const struct an_record *r)
{
	if (f->verdict >= 0 && r->verdict != (unsigned)f->verdict)
		return false;
	if (f->tld != NULL) {
		const char *dot = strrchr(r->domain, '.');

		if (dot == NULL || strcmp(dot + 1, f->tld) != 0)
			return false;
	}
	if (f->finding != NULL) {
		for (size_t i = 0; i < r->n_findings; i++) {
			if (strcmp(r->findings[i].code, f->finding) == 0)
				return true;
		}
		return false;
	}
	return true;
}

int an_export_open(const char *format, const struct an_export_opts *opts,
		   struct an_export **out)
{
	const struct an_export_format *fmt = an_export_format_find(format);
	struct an_export *x = NULL;
	int ret;

	*out = NULL;
	if (opts == NULL || opts->out == NULL)
		return ST_EINVAL;
	if (fmt == NULL)
		return ST_ENOENT;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return ST_ENOMEM;
	x->fmt = fmt;
	x->o = *opts;
	x->scratch.cap = SCRATCH_MAX;
	x->scratch.p = malloc(SCRATCH_MAX);
	x->policy = malloc(AN_POLICY_BODY_MAX);
	if (x->scratch.p == NULL || x->policy == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	sb_reset(&x->scratch);
	ret = x->o.no_header ? ST_OK : fmt->begin(x);
	if (ret != ST_OK)
		goto fail;
	*out = x;
	return ST_OK;
fail:
	free(x->scratch.p);
	free(x->policy);
	free(x);
	return ret;
}

int an_export_record(struct an_export *x, const struct an_record *r,
		     const uint8_t *body, size_t body_len)
{
	if (x == NULL || r == NULL || r->domain == NULL)
		return ST_EINVAL;
	x->st.records++;
	return x->fmt->record(x, r, x->fmt->wants_body ? body : NULL,
			      x->fmt->wants_body ? body_len : 0);
}

void an_export_get_stats(const struct an_export *x, struct an_export_stats *s)
{
	*s = x->st;
}

int an_export_close(struct an_export *x)
{
	int ret;

	if (x == NULL)
		return ST_OK;
	ret = x->fmt->end(x);
	if (fflush(x->o.out) != 0 && ret == ST_OK)
		ret = ST_EIO;
	if (ferror(x->o.out) && ret == ST_OK)
		ret = ST_EIO;
	free(x->scratch.p);
	free(x->policy);
	free(x);
	return ret;
}
