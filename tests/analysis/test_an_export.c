/*
 * test_an_export.c - the export writers (analysis/an_export.h), with the
 * suggested fix they embed (analysis/an_fix.h) and the scan comparison
 * that shares their record fixtures (analysis/an_diff.h).
 *
 * CSV cells follow RFC 4180 §2 (quoting) plus two rules of ours: a cell
 * that a spreadsheet would run as a formula gets a leading quote, and the
 * output is always valid UTF-8 (RFC 3629).  Each rule has a row below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "an_classify.h"
#include "an_diff.h"
#include "an_export.h"
#include "an_fix.h"
#include "an_record.h"
#include "st_error.h"

#define NOW 1795587480 /* 2026-11-25 06:18:00 UTC */
#define NOW_ID "20261125T061800"
#define T2026 1767225600 /* 2026-01-01 00:00:00 UTC */
#define FFFD "\xef\xbf\xbd"

/* ---- capturing output --------------------------------------------------- */

struct cap {
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

/* Close the stream; c->buf holds the NUL-terminated output. */
static const char *cap_close(struct cap *c)
{
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
	return c->buf;
}

static void cap_free(struct cap *c)
{
	free(c->buf);
	c->buf = NULL;
}

/* ---- CSV cells ---------------------------------------------------------- */

static const struct {
	const char *in;
	size_t len;    /* 0: strlen(in) */
	const char *out;
} cells[] = {
	{ "example.org", 0, "example.org" },
	{ "", 0, "" },
	{ "a b;c", 0, "a b;c" },                 /* ';' and ' ' need nothing */
	/* RFC 4180 §2.6: comma, quote, CR, LF force quoting */
	{ "a,b", 0, "\"a,b\"" },
	{ "say \"hi\"", 0, "\"say \"\"hi\"\"\"" }, /* §2.7: "" inside */
	{ "\"", 0, "\"\"\"\"" },
	{ "line1\nline2", 0, "\"line1\nline2\"" },
	{ "a\r\nb", 0, "\"a\r\nb\"" },
	{ "tab\there", 0, "tab\there" },         /* TAB inside: as is */
	/* formula neutralisation: = + - @ TAB CR at the start */
	{ "=1+1", 0, "'=1+1" },
	{ "+33 1 23", 0, "'+33 1 23" },
	{ "-2", 0, "'-2" },
	{ "@SUM(A1)", 0, "'@SUM(A1)" },
	{ "\tx", 0, "'\tx" },
	{ "\rx", 0, "\"'\rx\"" },                 /* neutralised and quoted */
	{ "=HYPERLINK(\"http://x\",\"y\")", 0,
	  "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "a=b", 0, "a=b" },                     /* only the first byte */
	{ "'=x", 0, "'=x" },                     /* already inert */
	/* UTF-8: valid sequences pass, every bad byte becomes U+FFFD */
	{ "caf\xc3\xa9", 0, "caf\xc3\xa9" },
	{ "\xf0\x9f\x93\xa7 mail", 0, "\xf0\x9f\x93\xa7 mail" },
	{ "a\xff" "b", 0, "a" FFFD "b" },
	{ "\xc0\x80", 0, FFFD FFFD },             /* overlong NUL */
	{ "\xed\xa0\x80", 0, FFFD FFFD FFFD },    /* UTF-16 surrogate */
	{ "\xe2\x82", 0, FFFD FFFD },             /* truncated at the end */
	{ "\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD }, /* over U+10FFFF */
	{ "x\x01y\x7f", 0, "x" FFFD "y" FFFD },   /* control bytes */
	{ "a\0b", 3, "a" FFFD "b" },              /* NUL never reaches a file */
	{ "\xff,", 0, "\"" FFFD ",\"" },
};

static void test_csv_cells(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		struct cap c;
		size_t len = cells[i].len ? cells[i].len : strlen(cells[i].in);

		cap_open(&c);
		an_csv_cell(c.f, cells[i].in, len);
		if (strcmp(cap_close(&c), cells[i].out) != 0)
			fail_msg("row %zu: got [%s], want [%s]", i, c.buf,
				 cells[i].out);
		cap_free(&c);
	}
}

static void test_csv_cell_null(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c);
	an_csv_cell(c.f, NULL, 5);
	assert_string_equal(cap_close(&c), "");
	cap_free(&c);
}

/* ---- record fixtures ---------------------------------------------------- */

/* enforce, one MX covered and one not: an error, so a fix is suggested */
static void rec_mismatch(struct an_record *r)
{
	an_record_init(r);
	r->domain = "example.org";
	r->rank = 42;
	r->time = T2026;
	r->sts_dns = AN_DNS_NOERROR;
	r->mx_dns = AN_DNS_NOERROR;
	r->tlsrpt_dns = AN_DNS_NXDOMAIN;
	r->n_mx = r->n_mx_total = 2;
	r->mx[0] = (struct an_record_mx){ "mx1.example.org", 10, true };
	r->mx[1] = (struct an_record_mx){ "mx2.example.net", 20, false };
	r->fetch_status = AN_FETCH_DONE;
	r->http_status = 200;
	r->have_body = true;
	r->body_len = 80;
	memset(r->body_hash, 0xab, sizeof(r->body_hash));
	r->cert_not_after = T2026 + 90 * 86400;
	r->sts_id = "20240101";
	r->mode = AN_MODE_ENFORCE;
	r->policy_usable = true;
	r->have_max_age = true;
	r->max_age = 604800;
	r->n_patterns = r->n_patterns_total = 1;
	r->patterns[0] = "mx1.example.org";
	r->verdict = AN_V_ENFORCE_MX_MISMATCH;
	r->n_mx_judged = 2;
	r->n_mx_covered = r->n_mx_usable = 1;
	r->n_findings = r->n_findings_total = 2;
	r->findings[0] = (struct an_record_finding){
		"consistency.mx-not-covered", AN_SEV_ERROR, "mx2.example.net" };
	r->findings[1] = (struct an_record_finding){ "tlsrpt.none",
						     AN_SEV_WARN, "" };
}

/* no policy at all: nothing to fix */
static void rec_none(struct an_record *r, const char *domain)
{
	an_record_init(r);
	r->domain = domain;
	r->time = T2026;
	r->sts_dns = AN_DNS_NXDOMAIN;
	r->mx_dns = AN_DNS_NOERROR;
	r->tlsrpt_dns = AN_DNS_NOERROR;
	r->n_tlsrpt_txt = r->n_tlsrpt_txt_total = 1;
	r->tlsrpt_txt[0] = (struct an_bytes){
		(const uint8_t *)"v=TLSRPTv1; rua=mailto:r@example.com", 36 };
	r->tlsrpt_valid = true;
	r->n_mx = r->n_mx_total = 1;
	r->mx[0] = (struct an_record_mx){ "mx.provider.example", 0, false };
	r->verdict = AN_V_NO_POLICY;
	r->n_findings = r->n_findings_total = 1;
	r->findings[0] = (struct an_record_finding){ "sts-record.none",
						     AN_SEV_INFO, "" };
}

#define FIX_POLICY                                                          \
	"version: STSv1\n"                                                  \
	"mode: enforce\n"                                                   \
	"mx: mx1.example.org\n"                                             \
	"mx: mx2.example.net\n"                                             \
	"max_age: 604800\n"

#define CSV_HEADER                                                          \
	"domain,rank,verdict,mode,max_age,id,mx_covered,mx_uncovered,"      \
	"findings,policy_host,cert_not_after,tlsrpt,fix_txt,fix_policy\r\n"

static const char *export_one(struct cap *c, const char *fmt,
			      const struct an_record *r,
			      an_export_file_fn file, void *arg)
{
	struct an_export_opts o = { .now = NOW, .file = file,
				    .file_arg = arg };
	struct an_export *x = NULL;

	cap_open(c);
	o.out = c->f;
	assert_int_equal(an_export_open(fmt, &o, &x), ST_OK);
	if (r != NULL)
		assert_int_equal(an_export_record(x, r, NULL, 0), ST_OK);
	assert_int_equal(an_export_close(x), ST_OK);
	return cap_close(c);
}

/* ---- csv ---------------------------------------------------------------- */

static void test_csv_row(void **state)
{
	struct an_record r;
	struct cap c;

	(void)state;
	rec_mismatch(&r);
	assert_string_equal(
		export_one(&c, "csv", &r, NULL, NULL),
		CSV_HEADER
		"example.org,42,enforce-mx-mismatch,enforce,604800,20240101,"
		"mx1.example.org,mx2.example.net,"
		"consistency.mx-not-covered tlsrpt.none,mta-sts.example.org,"
		"2026-04-01T00:00:00Z,none,v=STSv1; id=" NOW_ID ";,"
		"\"" FIX_POLICY "\"\r\n");
	cap_free(&c);
}

static void test_csv_row_no_policy(void **state)
{
	struct an_record r;
	struct cap c;

	(void)state;
	rec_none(&r, "plain.example");
	assert_string_equal(export_one(&c, "csv", &r, NULL, NULL),
			    CSV_HEADER "plain.example,0,no-policy,,,,,,"
				       "sts-record.none,,,valid,,\r\n");
	cap_free(&c);
}

/* Server-controlled text (a finding detail, a CNAME target, an MX name)
 * cannot smuggle a formula or a line break into the sheet. */
static void test_csv_hostile(void **state)
{
	struct an_record r;
	struct cap c;
	const char *out;

	(void)state;
	rec_mismatch(&r);
	r.ph_cname = "=cmd|' /C calc'!A0";
	r.mx[1].name = "-x,\"y\"\n";
	r.findings[1].code = "@evil";
	out = export_one(&c, "csv", &r, NULL, NULL);
	assert_non_null(strstr(out, ",'=cmd|' /C calc'!A0,"));
	assert_non_null(strstr(out, ",\"'-x,\"\"y\"\"\n\","));
	assert_non_null(strstr(out, ",consistency.mx-not-covered @evil,"));
	cap_free(&c);
}

/* ---- jsonl -------------------------------------------------------------- */

static void test_jsonl(void **state)
{
	static const uint8_t body[] = "version: STSv1\nmode: \xff\n";
	struct an_export_opts o = { .now = NOW };
	struct an_export *x = NULL;
	struct an_export_stats st;
	struct an_record r;
	struct cap c;
	const char *out, *nl;

	(void)state;
	rec_mismatch(&r);
	r.n_sts_txt = r.n_sts_txt_total = 1;
	r.sts_txt[0] = (struct an_bytes){ (const uint8_t *)"v=STSv1;\x80", 9 };
	cap_open(&c);
	o.out = c.f;
	assert_int_equal(an_export_open("jsonl", &o, &x), ST_OK);
	assert_int_equal(an_export_record(x, &r, body, sizeof(body) - 1),
			 ST_OK);
	an_export_get_stats(x, &st);
	assert_int_equal(st.rows, 1);
	assert_int_equal(an_export_close(x), ST_OK);
	out = cap_close(&c);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, ""); /* exactly one line */
	assert_true(strncmp(out, "{\"domain\":\"example.org\",", 24) == 0);
	assert_non_null(strstr(out, "\"v=STSv1;" FFFD "\""));
	assert_non_null(strstr(out, "\"policy_body\":\"version: STSv1\\n"
				    "mode: " FFFD "\\n\""));
	cap_free(&c);
}

/* ---- registry ----------------------------------------------------------- */

struct files {
	int n;
	char path[4][300];
	char data[4][2048];
};

static int grab(void *arg, const char *relpath, const char *data, size_t len)
{
	struct files *f = arg;

	assert_true(f->n < 4);
	snprintf(f->path[f->n], sizeof(f->path[0]), "%s", relpath);
	snprintf(f->data[f->n], sizeof(f->data[0]), "%.*s", (int)len, data);
	f->n++;
	return ST_OK;
}

static void test_registry(void **state)
{
	struct files f = { 0 };
	struct an_record r;
	struct cap c;

	(void)state;
	rec_mismatch(&r);
	assert_string_equal(
		export_one(&c, "registry", &r, grab, &f),
		"domain,rank,verdict,errors,problems,txt_name,txt_value,"
		"policy_url,policy_file,policy_body\r\n"
		"example.org,42,enforce-mx-mismatch,consistency.mx-not-covered,"
		"\"error consistency.mx-not-covered: mx2.example.net\n"
		"warn tlsrpt.none\",_mta-sts.example.org,"
		"v=STSv1; id=" NOW_ID ";,"
		"https://mta-sts.example.org/.well-known/mta-sts.txt,"
		"example.org/mta-sts.txt,\"" FIX_POLICY "\"\r\n");
	cap_free(&c);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.path[0], "example.org/mta-sts.txt");
	assert_string_equal(f.data[0], FIX_POLICY);
	assert_string_equal(f.path[1], "example.org/README.txt");
	assert_non_null(strstr(f.data[1], "again):\n\n  v=STSv1; id=" NOW_ID
					  ";\n"));
	assert_non_null(strstr(f.data[1], "error consistency.mx-not-covered"));
}

/* Only broken domains; no files for a name that is not a safe path; no
 * fix (but a row) when there is no MX to list. */
static void test_registry_rows(void **state)
{
	struct an_export_opts o = { .now = NOW, .file = grab };
	struct an_export *x = NULL;
	struct an_export_stats st;
	struct files f = { 0 };
	struct an_record ok, bad, nomx;
	struct cap c;
	const char *out;

	(void)state;
	rec_none(&ok, "fine.example");
	rec_mismatch(&bad);
	bad.domain = "../etc";
	rec_mismatch(&nomx);
	nomx.domain = "nullmx.example";
	nomx.n_mx = nomx.n_mx_total = 1;
	nomx.mx[0] = (struct an_record_mx){ "", 0, false };
	o.file_arg = &f;
	cap_open(&c);
	o.out = c.f;
	assert_int_equal(an_export_open("registry", &o, &x), ST_OK);
	assert_int_equal(an_export_record(x, &ok, NULL, 0), ST_OK);
	assert_int_equal(an_export_record(x, &bad, NULL, 0), ST_OK);
	assert_int_equal(an_export_record(x, &nomx, NULL, 0), ST_OK);
	an_export_get_stats(x, &st);
	assert_int_equal(an_export_close(x), ST_OK);
	out = cap_close(&c);
	assert_null(strstr(out, "fine.example"));
	assert_non_null(strstr(out, "\r\n../etc,42,"));
	assert_non_null(strstr(out, "\r\nnullmx.example,42,"));
	assert_int_equal(st.records, 3);
	assert_int_equal(st.rows, 2);
	assert_int_equal(st.fixes, 1);
	assert_int_equal(st.no_fix, 1);
	assert_int_equal(st.skipped_files, 1);
	assert_int_equal(f.n, 1); /* nullmx: README only */
	assert_string_equal(f.path[0], "nullmx.example/README.txt");
	assert_non_null(strstr(f.data[0], "No corrected policy"));
	cap_free(&c);
}

/* ---- filters and the format table --------------------------------------- */

static void test_filter(void **state)
{
	struct an_export_filter f = { NULL, -1, NULL };
	struct an_record r;

	(void)state;
	rec_mismatch(&r);
	assert_true(an_export_selected(&f, &r));
	f.tld = "org";
	assert_true(an_export_selected(&f, &r));
	f.tld = "rg";
	assert_false(an_export_selected(&f, &r));
	f.tld = NULL;
	f.verdict = AN_V_ENFORCE_MX_MISMATCH;
	assert_true(an_export_selected(&f, &r));
	f.verdict = AN_V_ENFORCE_OK;
	assert_false(an_export_selected(&f, &r));
	f.verdict = -1;
	f.finding = "tlsrpt.none";
	assert_true(an_export_selected(&f, &r));
	f.finding = "tlsrpt";
	assert_false(an_export_selected(&f, &r));
}

static void test_formats(void **state)
{
	struct an_export_opts o = { .now = NOW };
	struct an_export *x = NULL;
	size_t n = 0;
	const struct an_export_format *t = an_export_formats(&n);

	(void)state;
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(an_export_format_find(t[i].name), &t[i]);
	assert_null(an_export_format_find("xml"));
	assert_int_equal(an_export_open("csv", &o, &x), ST_EINVAL); /* no out */
	o.out = stdout;
	assert_int_equal(an_export_open("xml", &o, &x), ST_ENOENT);
	assert_int_equal(an_export_close(NULL), ST_OK);
}

/* ---- the suggested fix -------------------------------------------------- */

static void test_fix(void **state)
{
	char txt[AN_GEN_TXT_MAX], pol[4096];
	struct an_record r;
	size_t len = 1;

	(void)state;
	rec_mismatch(&r);
	assert_true(an_fix_needed(&r));
	assert_int_equal(an_fix_build(&r, NOW, txt, sizeof(txt), pol,
				      sizeof(pol), &len), ST_OK);
	assert_string_equal(txt, "v=STSv1; id=" NOW_ID ";");
	assert_string_equal(pol, FIX_POLICY);
	assert_int_equal(len, strlen(FIX_POLICY));

	/* an unusable policy is fixed in testing mode, a bad max_age
	 * replaced by a week */
	r.policy_usable = false;
	r.max_age = 60;
	assert_int_equal(an_fix_build(&r, NOW, txt, sizeof(txt), pol,
				      sizeof(pol), &len), ST_OK);
	assert_non_null(strstr(pol, "mode: testing\n"));
	assert_non_null(strstr(pol, "max_age: 604800\n"));

	/* an MX set cut short would make a policy refusing the rest */
	r.n_mx_total = 40;
	assert_int_equal(an_fix_build(&r, NOW, txt, sizeof(txt), pol,
				      sizeof(pol), &len), ST_ENOENT);
	assert_string_equal(txt, "");
	assert_int_equal(len, 0);

	/* warnings only, no policy, undetermined: nothing to fix */
	rec_mismatch(&r);
	r.findings[0].severity = AN_SEV_WARN;
	assert_false(an_fix_needed(&r));
	rec_none(&r, "x.example");
	r.findings[0].severity = AN_SEV_ERROR;
	assert_false(an_fix_needed(&r));
	rec_mismatch(&r);
	r.verdict = AN_V_UNDETERMINED;
	assert_false(an_fix_needed(&r));
}

/* ---- diff --------------------------------------------------------------- */

struct kinds_seen {
	unsigned mask;
	char detail[AN_DIFF_KIND_COUNT][AN_DIFF_DETAIL_MAX];
};

static int seen(void *arg, const struct an_diff_change *c)
{
	struct kinds_seen *k = arg;

	k->mask |= 1u << c->kind;
	snprintf(k->detail[c->kind], AN_DIFF_DETAIL_MAX, "%s", c->detail);
	return 0;
}

#define K(k) (1u << AN_DIFF_##k)

static unsigned changes(const struct an_record *a, const struct an_record *b,
			struct kinds_seen *k)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(an_diff_changes(a, b, 30, seen, k), ST_OK);
	return k->mask;
}

static void test_diff_policy(void **state)
{
	struct an_record a, b;
	struct kinds_seen k;

	(void)state;
	rec_mismatch(&a);
	rec_mismatch(&b);
	b.time = T2026 + 30 * 86400;
	assert_int_equal(changes(&a, &b, &k), 0);
	/* body changed, id kept: the stale-policy error */
	b.body_hash[0] = 0x01;
	assert_int_equal(changes(&a, &b, &k), K(BODY_CHANGED_SAME_ID));
	assert_string_equal(k.detail[AN_DIFF_BODY_CHANGED_SAME_ID],
			    "id 20240101 kept, body sha256 abababababab.. -> "
			    "01ababababab..");
}

static void test_diff_kinds(void **state)
{
	struct an_record a, b;
	struct kinds_seen k;

	(void)state;
	rec_mismatch(&a);
	rec_mismatch(&b);
	b.sts_id = "20240202";
	assert_int_equal(changes(&a, &b, &k), K(ID_CHANGED_SAME_BODY));
	b.body_hash[5] = 0;
	assert_int_equal(changes(&a, &b, &k), K(POLICY_UPDATED));
	b.mode = AN_MODE_TESTING;
	b.verdict = AN_V_TESTING;
	assert_int_equal(changes(&a, &b, &k),
			 K(MODE_CHANGED) | K(POLICY_UPDATED) |
				 K(VERDICT_CHANGED));
	assert_string_equal(k.detail[AN_DIFF_MODE_CHANGED],
			    "enforce -> testing");
	/* adoption and withdrawal say the verdict change themselves */
	rec_none(&a, "example.org");
	rec_mismatch(&b);
	assert_int_equal(changes(&a, &b, &k), K(ADOPTED));
	assert_int_equal(changes(&b, &a, &k), K(WITHDRAWN));
	b.verdict = AN_V_NONE_MODE;
	assert_int_equal(changes(&b, &a, &k), K(POLICY_REMOVED));
	/* a DNS failure is neither */
	a.verdict = AN_V_UNDETERMINED;
	assert_int_equal(changes(&b, &a, &k), K(VERDICT_CHANGED));
	/* one side only */
	assert_int_equal(changes(NULL, &b, &k), K(ADDED));
	assert_int_equal(changes(&b, NULL, &k), K(REMOVED));
	assert_int_equal(an_diff_changes(NULL, NULL, 30, seen, &k), ST_EINVAL);
	rec_none(&a, "other.example");
	assert_int_equal(an_diff_changes(&a, &b, 30, seen, &k), ST_EINVAL);
}

static void test_diff_cert(void **state)
{
	struct an_record a, b;
	struct kinds_seen k;

	(void)state;
	rec_mismatch(&a);
	rec_mismatch(&b);
	b.cert_not_after = b.time + 29 * 86400;
	assert_int_equal(changes(&a, &b, &k), K(CERT_EXPIRING));
	assert_string_equal(k.detail[AN_DIFF_CERT_EXPIRING],
			    "expires 2026-01-30T00:00:00Z, 29 days after the "
			    "scan");
	b.cert_not_after = b.time - 2 * 86400;
	assert_int_equal(changes(&a, &b, &k), K(CERT_EXPIRING));
	assert_non_null(strstr(k.detail[AN_DIFF_CERT_EXPIRING],
			       "2 days before"));
	b.cert_not_after = b.time + 31 * 86400;
	assert_int_equal(changes(&a, &b, &k), 0);
	memset(&k, 0, sizeof(k));
	assert_int_equal(an_diff_changes(&a, &b, 40, seen, &k), ST_OK);
	assert_int_equal(k.mask, K(CERT_EXPIRING));
}

static void test_diff_names(void **state)
{
	enum an_diff_kind kind;

	(void)state;
	assert_string_equal(an_diff_kind_name(AN_DIFF_BODY_CHANGED_SAME_ID),
			    "longitudinal.body-changed-same-id");
	assert_int_equal(an_diff_kind_severity(AN_DIFF_BODY_CHANGED_SAME_ID),
			 AN_SEV_ERROR);
	assert_string_equal(an_diff_kind_name(AN_DIFF_WITHDRAWN),
			    "longitudinal.withdrawn");
	assert_int_equal(an_diff_kind_code(AN_DIFF_ADOPTED), -1);
	for (int i = 0; i < AN_DIFF_KIND_COUNT; i++) {
		assert_int_equal(an_diff_kind_from_name(
					 an_diff_kind_name((enum an_diff_kind)i),
					 &kind), ST_OK);
		assert_int_equal(kind, i);
		assert_non_null(an_diff_kind_description((enum an_diff_kind)i));
	}
	assert_int_equal(an_diff_kind_from_name("nope", &kind), ST_ENOENT);
	assert_string_equal(an_diff_kind_name(AN_DIFF_KIND_COUNT), "unknown");
}

/* The writers: counts in the summary, one JSON document. */
static void test_diff_writers(void **state)
{
	struct an_diff_scan sa = { "s.lmdb", 1, "jan", T2026, T2026 + 60, 2 };
	struct an_diff_scan sb = { "s.lmdb", 2, "", T2026, 0, 2 };
	struct an_diff_summary sum;
	struct an_diff_opts o = { .next_days = 30 };
	struct an_diff *d = NULL;
	struct an_record a, b, n;
	struct cap c;
	const char *out;

	(void)state;
	rec_mismatch(&a);
	rec_mismatch(&b);
	b.body_hash[0] = 0;
	rec_none(&n, "new.example");
	for (int f = 0; f < 2; f++) {
		cap_open(&c);
		o.out = c.f;
		assert_int_equal(an_diff_open(f == 0 ? "text" : "json", &o, &sa,
					      &sb, &d), ST_OK);
		assert_int_equal(an_diff_pair(d, &a, &b), ST_OK);
		assert_int_equal(an_diff_pair(d, NULL, &n), ST_OK);
		an_diff_get_summary(d, &sum);
		assert_int_equal(sum.n_a, 1);
		assert_int_equal(sum.n_b, 2);
		assert_int_equal(sum.n_both, 1);
		assert_int_equal(sum.kinds[AN_DIFF_BODY_CHANGED_SAME_ID], 1);
		assert_int_equal(sum.kinds[AN_DIFF_ADDED], 1);
		assert_int_equal(sum.verdicts[AN_V_ENFORCE_MX_MISMATCH]
					     [AN_V_ENFORCE_MX_MISMATCH], 1);
		assert_int_equal(an_diff_close(d), ST_OK);
		out = cap_close(&c);
		if (f == 0) {
			assert_non_null(strstr(out, "\nerror longitudinal."
						    "body-changed-same-id "));
			assert_non_null(strstr(out, "\ninfo  added"));
			assert_non_null(strstr(out, "UNFINISHED"));
		} else {
			static const char head[] =
				"{\"a\":{\"store\":\"s.lmdb\",\"scan\":1,";

			assert_true(strncmp(out, head, sizeof(head) - 1) == 0);
			assert_non_null(strstr(out, "\"change\":\"longitudinal."
						    "body-changed-same-id\","
						    "\"code\":\"longitudinal."));
			assert_non_null(strstr(out, "\"change\":\"added\","
						    "\"code\":null"));
			assert_non_null(strstr(out, "\"added\":1"));
			assert_string_equal(out + strlen(out) - 4, "]}}\n");
		}
		cap_free(&c);
	}
	assert_int_equal(an_diff_open("xml", &o, &sa, &sb, &d), ST_ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_cells),
		cmocka_unit_test(test_csv_cell_null),
		cmocka_unit_test(test_csv_row),
		cmocka_unit_test(test_csv_row_no_policy),
		cmocka_unit_test(test_csv_hostile),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_registry_rows),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_fix),
		cmocka_unit_test(test_diff_policy),
		cmocka_unit_test(test_diff_kinds),
		cmocka_unit_test(test_diff_cert),
		cmocka_unit_test(test_diff_names),
		cmocka_unit_test(test_diff_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
