/*
 * test_an_stats.c - the report accumulator (analysis/an_stats.c) over
 * synthetic records, table-driven: max_age bucket edges, a finding counted
 * once per domain, rank tiers, providers by the public suffix list, the
 * bounded tables' "other" row; and the three writers (an_report_*.c) on a
 * report built by hand: escaping of hostile keys, the HTML's CSP.
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
#include "an_groups.h"
#include "an_policy.h"
#include "an_record.h"
#include "an_report.h"
#include "an_stats.h"
#include "st_error.h"

#define DAY 86400ull

/* A record as the scanner writes it for a domain in the given verdict
 * (the fields the statistics read, consistent with an_classify's rules). */
static void mkrec(struct an_record *r, const char *domain,
		  enum an_verdict v)
{
	an_record_init(r);
	r->domain = domain;
	r->verdict = (uint8_t)v;
	r->sts_dns = v == AN_V_NO_POLICY ? AN_DNS_NXDOMAIN : AN_DNS_NOERROR;
	r->mx_dns = AN_DNS_NOERROR;
	switch (v) {
	case AN_V_NONE_MODE: r->mode = AN_MODE_NONE; break;
	case AN_V_TESTING: r->mode = AN_MODE_TESTING; break;
	case AN_V_ENFORCE_OK:
	case AN_V_ENFORCE_MX_MISMATCH:
	case AN_V_ENFORCE_DELIVERY_FAILURE: r->mode = AN_MODE_ENFORCE; break;
	default: break;
	}
	if (r->mode != AN_MODE_UNSET) {
		r->sts_id = "20240101";
		r->policy_usable = true;
		r->have_max_age = true;
		r->max_age = 604800;
	}
}

static struct an_stats *new_stats(size_t cap)
{
	struct an_stats *st = NULL;

	assert_int_equal(an_stats_new(cap, &st), ST_OK);
	assert_non_null(st);
	return st;
}

/* --- max_age buckets: every edge, both sides (RFC 8461 §3.2: max_age is
 * at most 31557600; the report's edges are 1d, 1w, 2w, 30d, 365d) --- */

static const struct {
	uint64_t max_age;
	enum an_stats_age bucket;
} age_rows[] = {
	{ 0, AN_AGE_LT_1D },
	{ 1, AN_AGE_LT_1D },
	{ DAY - 1, AN_AGE_LT_1D },
	{ DAY, AN_AGE_1D_1W },
	{ 7 * DAY - 1, AN_AGE_1D_1W },
	{ 7 * DAY, AN_AGE_1W_2W },
	{ 14 * DAY - 1, AN_AGE_1W_2W },
	{ 14 * DAY, AN_AGE_2W_30D },
	{ 30 * DAY - 1, AN_AGE_2W_30D },
	{ 30 * DAY, AN_AGE_30D_1Y },
	{ 365 * DAY - 1, AN_AGE_30D_1Y },
	{ 365 * DAY, AN_AGE_GE_1Y },          /* 31536000 */
	{ 31557600, AN_AGE_GE_1Y },           /* the RFC maximum */
};

static void test_age_edges(void **state)
{
	size_t n = sizeof(age_rows) / sizeof(age_rows[0]);
	uint64_t want[AN_AGE_COUNT] = { 0 };
	struct an_stats *st = new_stats(0);
	const struct an_stats_counts *c = an_stats_counts(st);
	struct an_record r;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char dom[32];

		assert_int_equal(an_stats_age_bucket(age_rows[i].max_age),
				 age_rows[i].bucket);
		snprintf(dom, sizeof(dom), "d%zu.example", i);
		mkrec(&r, dom, AN_V_TESTING);
		r.max_age = age_rows[i].max_age;
		assert_int_equal(an_stats_add(st, &r, NULL), ST_OK);
		want[age_rows[i].bucket]++;
	}
	/* Only usable policies count; one without max_age is "missing". */
	mkrec(&r, "invalid.example", AN_V_POLICY_INVALID);
	r.have_max_age = true;
	r.max_age = 5;
	an_stats_add(st, &r, NULL);
	mkrec(&r, "none.example", AN_V_NONE_MODE);
	r.have_max_age = false;
	an_stats_add(st, &r, NULL);
	for (size_t b = 0; b < AN_AGE_COUNT; b++)
		assert_int_equal(c->max_age[b], want[b]);
	assert_int_equal(c->max_age_missing, 1);
	assert_int_equal(c->modes[AN_SMODE_TESTING], n);
	assert_int_equal(c->modes[AN_SMODE_NONE], 1);
	assert_int_equal(c->modes[AN_SMODE_ENFORCE], 0);
	assert_int_equal(AN_STATS_AGE_EDGES[AN_AGE_GE_1Y], 31536000);
	an_stats_free(st);
}

/* --- sts_record and policy_usable (an_stats.h definitions) --- */

static const struct {
	const char *name;
	enum an_verdict v;
	enum an_dns_status sts_dns;
	bool sts_id, policy_usable;
	enum an_mode mode;
	bool has_sts, usable;
} def_rows[] = {
	{ "nxdomain", AN_V_NO_POLICY, AN_DNS_NXDOMAIN, 0, 0, 0, 0, 0 },
	{ "txt without candidate", AN_V_NO_POLICY, AN_DNS_NOERROR, 0, 0, 0,
	  0, 0 },
	{ "sts servfail", AN_V_UNDETERMINED, AN_DNS_SERVFAIL, 0, 0, 0, 0, 0 },
	{ "two records", AN_V_POLICY_INVALID, AN_DNS_NOERROR, 0, 0, 0, 1, 0 },
	{ "valid record, fetch failed", AN_V_POLICY_INVALID, AN_DNS_NOERROR,
	  1, 0, 0, 1, 0 },
	{ "usable but wrong type", AN_V_POLICY_INVALID, AN_DNS_NOERROR, 1, 1,
	  AN_MODE_ENFORCE, 1, 0 },
	{ "none", AN_V_NONE_MODE, AN_DNS_NOERROR, 1, 1, AN_MODE_NONE, 1, 1 },
	{ "testing", AN_V_TESTING, AN_DNS_NOERROR, 1, 1, AN_MODE_TESTING, 1,
	  1 },
	{ "enforce ok", AN_V_ENFORCE_OK, AN_DNS_NOERROR, 1, 1,
	  AN_MODE_ENFORCE, 1, 1 },
	{ "enforce, MX failed", AN_V_ENFORCE_DELIVERY_FAILURE, AN_DNS_NOERROR,
	  1, 1, AN_MODE_ENFORCE, 1, 1 },
	{ "enforce, MX lookup failed", AN_V_UNDETERMINED, AN_DNS_NOERROR, 1, 1,
	  AN_MODE_ENFORCE, 1, 1 },
	{ "valid record, not fetched", AN_V_UNDETERMINED, AN_DNS_NOERROR, 1,
	  0, 0, 1, 0 },
};

static void test_definitions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(def_rows) / sizeof(def_rows[0]); i++) {
		struct an_record r;

		an_record_init(&r);
		r.domain = "example.com";
		r.verdict = (uint8_t)def_rows[i].v;
		r.sts_dns = (uint8_t)def_rows[i].sts_dns;
		r.sts_id = def_rows[i].sts_id ? "1" : NULL;
		r.policy_usable = def_rows[i].policy_usable;
		r.mode = (uint8_t)def_rows[i].mode;
		if (an_stats_has_sts(&r) != def_rows[i].has_sts ||
		    an_stats_usable(&r) != def_rows[i].usable)
			fail_msg("%s: has_sts %d usable %d", def_rows[i].name,
				 an_stats_has_sts(&r), an_stats_usable(&r));
	}
}

/* --- findings: once per domain --- */

static void test_finding_once_per_domain(void **state)
{
	struct an_stats *st = new_stats(0);
	const struct an_stats_counts *c = an_stats_counts(st);
	struct an_record r;
	enum an_code nc, pu;

	(void)state;
	assert_int_equal(an_code_from_name("consistency.mx-not-covered", &nc),
			 ST_OK);
	assert_int_equal(an_code_from_name("consistency.pattern-unused", &pu),
			 ST_OK);
	/* Three uncovered MX hosts: one domain. */
	mkrec(&r, "a.example", AN_V_ENFORCE_MX_MISMATCH);
	r.n_findings = r.n_findings_total = 4;
	for (size_t i = 0; i < 3; i++)
		r.findings[i] = (struct an_record_finding){
			"consistency.mx-not-covered", AN_SEV_ERROR, "mx" };
	r.findings[3] = (struct an_record_finding){
		"future.code", AN_SEV_WARN, "" };
	an_stats_add(st, &r, NULL);
	/* Same code as a warning (testing), on a second domain; list cut. */
	mkrec(&r, "b.example", AN_V_TESTING);
	r.n_findings = 2;
	r.n_findings_total = 60;
	r.findings[0] = (struct an_record_finding){
		"consistency.mx-not-covered", AN_SEV_WARN, "" };
	r.findings[1] = (struct an_record_finding){
		"consistency.pattern-unused", AN_SEV_INFO, "" };
	an_stats_add(st, &r, NULL);
	/* No record: not an STS domain. */
	mkrec(&r, "c.example", AN_V_NO_POLICY);
	r.n_findings = r.n_findings_total = 2;
	r.findings[0] = (struct an_record_finding){
		"consistency.pattern-unused", AN_SEV_INFO, "" };
	r.findings[1] = r.findings[0];
	an_stats_add(st, &r, NULL);

	assert_int_equal(c->domains, 3);
	assert_int_equal(c->sts_record, 2);
	assert_int_equal(c->findings[nc].domains, 2);
	assert_int_equal(c->findings[nc].sts_domains, 2);
	assert_int_equal(c->findings[nc].error, 1);
	assert_int_equal(c->findings[pu].domains, 2);
	assert_int_equal(c->findings[pu].sts_domains, 1);
	assert_int_equal(c->findings_unknown, 1);
	assert_int_equal(c->findings_truncated, 1);
	assert_int_equal(c->with_error, 1);
	assert_int_equal(c->with_warn, 1);
	assert_int_equal(c->verdicts[AN_V_ENFORCE_MX_MISMATCH], 1);
	an_stats_free(st);
}

/* --- rank tiers (cumulative; rank 0 is unranked) --- */

static const struct {
	uint64_t rank;
	bool in[AN_TIER_COUNT];
} tier_rows[] = {
	{ 0, { 0, 0, 0, 0 } },
	{ 1, { 1, 1, 1, 1 } },
	{ 1000, { 1, 1, 1, 1 } },
	{ 1001, { 0, 1, 1, 1 } },
	{ 10000, { 0, 1, 1, 1 } },
	{ 10001, { 0, 0, 1, 1 } },
	{ 100000, { 0, 0, 1, 1 } },
	{ 100001, { 0, 0, 0, 1 } },
	{ 1000000, { 0, 0, 0, 1 } },
	{ 1000001, { 0, 0, 0, 0 } },
};

static void test_tiers(void **state)
{
	size_t n = sizeof(tier_rows) / sizeof(tier_rows[0]);
	struct an_stats *st = new_stats(0);
	const struct an_stats_counts *c = an_stats_counts(st);
	uint64_t want[AN_TIER_COUNT] = { 0 }, want_enf[AN_TIER_COUNT] = { 0 };

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct an_record r;
		char dom[32];
		bool enf = i % 2 == 0;

		snprintf(dom, sizeof(dom), "r%zu.example", i);
		mkrec(&r, dom, enf ? AN_V_ENFORCE_OK : AN_V_NO_POLICY);
		r.rank = tier_rows[i].rank;
		r.tlsrpt_valid = true;
		an_stats_add(st, &r, NULL);
		for (size_t t = 0; t < AN_TIER_COUNT; t++) {
			want[t] += tier_rows[i].in[t];
			want_enf[t] += tier_rows[i].in[t] && enf;
		}
	}
	assert_int_equal(c->ranked, n - 1);
	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		assert_int_equal(c->tiers[t].domains, want[t]);
		assert_int_equal(c->tiers[t].enforce, want_enf[t]);
		assert_int_equal(c->tiers[t].policy_usable, want_enf[t]);
		assert_int_equal(c->tiers[t].sts_record, want_enf[t]);
		assert_int_equal(c->tiers[t].tlsrpt, want[t]);
	}
	/* TLS-RPT alone and with MTA-STS. */
	assert_int_equal(c->tlsrpt, n);
	assert_int_equal(c->tlsrpt_with_sts, (n + 1) / 2);
	assert_int_equal(c->tlsrpt_without_sts, n / 2);
	an_stats_free(st);
}

/* --- providers: registrable domain by the PSL, else two labels --- */

static const struct {
	const char *host, *key;
	int ret;
} prov_rows[] = {
	{ "mx1.prov000.test", "prov000.test", ST_OK },    /* unknown TLD */
	{ "mx.eu.d0000001.test", "d0000001.test", ST_OK },
	{ "aspmx.l.google.com", "google.com", ST_OK },
	{ "alt1.aspmx.l.google.com.", "google.com", ST_OK }, /* trailing dot */
	{ "MX.Foo.CO.UK", "foo.co.uk", ST_OK },           /* multi-label */
	{ "foo.github.io", "foo.github.io", ST_OK },      /* private suffix */
	{ "co.uk", "co.uk", ST_OK },                      /* a suffix itself */
	{ "test", "test", ST_OK },                        /* one label */
	{ "192.0.2.25", "192.0.2.25", ST_OK },            /* IP literal */
	{ "2001:db8::25", "2001:db8::25", ST_OK },
	{ "", NULL, ST_EINVAL },
	{ ".", NULL, ST_EINVAL },
};

static void test_providers(void **state)
{
	char key[AN_STATS_KEY_MAX + 1], small[4];

	(void)state;
	for (size_t i = 0; i < sizeof(prov_rows) / sizeof(prov_rows[0]); i++) {
		int ret = an_stats_provider(prov_rows[i].host, key, sizeof(key));

		if (ret != prov_rows[i].ret ||
		    (ret == ST_OK && strcmp(key, prov_rows[i].key) != 0))
			fail_msg("%s: ret %d key %s, want %d %s",
				 prov_rows[i].host, ret, ret == ST_OK ? key : "",
				 prov_rows[i].ret,
				 prov_rows[i].key ? prov_rows[i].key : "");
	}
	assert_int_equal(an_stats_provider("mx.example.com", small,
					   sizeof(small)), ST_ESPACE);
	assert_int_equal(an_stats_provider(NULL, key, sizeof(key)), ST_EINVAL);
}

/* A domain counts once per distinct MX provider; the verdict mix and the
 * policy host provider (CNAME target, else mta-sts.D; STS domains only). */
static void test_provider_tables(void **state)
{
	struct an_stats *st = new_stats(0);
	struct an_stats_row rows[8];
	struct an_record r;
	size_t n;

	(void)state;
	mkrec(&r, "a.example", AN_V_ENFORCE_OK);
	r.n_mx = r.n_mx_total = 3;
	r.mx[0] = (struct an_record_mx){ "aspmx.l.google.com", 1, true };
	r.mx[1] = (struct an_record_mx){ "alt1.aspmx.l.google.com", 5, true };
	r.mx[2] = (struct an_record_mx){ "mx.backup.co.uk", 10, true };
	r.ph_cname = "sts.pages.hosting.test";
	an_stats_add(st, &r, NULL);
	mkrec(&r, "b.example", AN_V_NO_POLICY);
	r.n_mx = r.n_mx_total = 2;
	r.mx[0] = (struct an_record_mx){ "aspmx.l.google.com", 1, false };
	r.mx[1] = (struct an_record_mx){ "", 0, false }; /* null MX */
	an_stats_add(st, &r, NULL);
	mkrec(&r, "c.example", AN_V_TESTING);
	r.n_mx = r.n_mx_total = 0;
	an_stats_add(st, &r, NULL);

	n = an_stats_top(st, AN_TABLE_MX_PROVIDER, rows, 8);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].key, "google.com");
	assert_int_equal(rows[0].domains, 2);
	assert_int_equal(rows[0].sts_record, 1);
	assert_int_equal(rows[0].verdicts[AN_V_ENFORCE_OK], 1);
	assert_int_equal(rows[0].verdicts[AN_V_NO_POLICY], 1);
	assert_int_equal(rows[0].enforce, 1);
	assert_string_equal(rows[1].key, "backup.co.uk");

	n = an_stats_top(st, AN_TABLE_POLICY_HOST, rows, 8);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].key, "c.example");   /* mta-sts.c.example */
	assert_string_equal(rows[1].key, "hosting.test");
	assert_int_equal(an_stats_counts(st)->ph_cname, 1);

	n = an_stats_top(st, AN_TABLE_TLD, rows, 8);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].key, "example");
	assert_int_equal(rows[0].domains, 3);
	an_stats_free(st);
}

/* --- bounded tables: overflow into "other", totals always add up --- */

static void test_other_overflow(void **state)
{
	/* TLD tN gets weight[N] domains, interleaved so that rare keys keep
	 * arriving at a full table. */
	static const unsigned weight[] = { 50, 40, 30, 1, 1, 1, 1, 1, 1, 1,
					   1, 1, 2, 2, 20 };
	const size_t nk = sizeof(weight) / sizeof(weight[0]);
	struct an_stats *st = new_stats(4);
	const struct an_stats_table *info;
	struct an_stats_row rows[16], rest;
	unsigned left[sizeof(weight) / sizeof(weight[0])];
	uint64_t total = 0, sum = 0;
	size_t n, i = 0;
	bool more = true;

	(void)state;
	memcpy(left, weight, sizeof(left));
	while (more) {
		more = false;
		for (size_t k = 0; k < nk; k++) {
			struct an_record r;
			char dom[32];

			if (left[k] == 0)
				continue;
			left[k]--;
			more = true;
			snprintf(dom, sizeof(dom), "d%zu.t%zu", i++, k);
			mkrec(&r, dom, k == 0 ? AN_V_ENFORCE_OK
					      : AN_V_NO_POLICY);
			an_stats_add(st, &r, NULL);
			total++;
		}
	}
	info = an_stats_table(st, AN_TABLE_TLD);
	assert_true(info->n_keys <= 4);
	assert_true(info->pruned > 0);
	assert_int_equal(info->total.domains, total);
	n = an_stats_top(st, AN_TABLE_TLD, rows, 16);
	assert_int_equal(n, info->n_keys);
	for (size_t k = 0; k < n; k++)
		sum += rows[k].domains;
	assert_int_equal(sum + info->other.domains, total);
	/* The heavy keys survive, most frequent first. */
	assert_string_equal(rows[0].key, "t0");
	assert_string_equal(rows[1].key, "t1");
	assert_string_equal(rows[2].key, "t2");
	assert_int_equal(rows[0].verdicts[AN_V_ENFORCE_OK], rows[0].domains);
	/* The writers' "(other)": the total minus the rows they list. */
	an_report_rest(info, rows, 2, &rest);
	assert_int_equal(rest.domains, total - rows[0].domains -
				       rows[1].domains);
	assert_string_equal(rest.key, "(other)");
	/* Sorted output, capped at max. */
	assert_int_equal(an_stats_top(st, AN_TABLE_TLD, rows, 1), 1);
	assert_string_equal(rows[0].key, "t0");
	assert_int_equal(an_stats_top(st, AN_TABLE_TLD, rows, 0), 0);
	an_stats_free(st);

	/* Exact while the keys fit. */
	st = new_stats(16);
	for (size_t k = 0; k < nk; k++) {
		struct an_record r;
		char dom[32];

		snprintf(dom, sizeof(dom), "x.t%zu", k);
		mkrec(&r, dom, AN_V_NO_POLICY);
		an_stats_add(st, &r, NULL);
	}
	info = an_stats_table(st, AN_TABLE_TLD);
	assert_int_equal(info->n_keys, nk);
	assert_int_equal(info->pruned, 0);
	assert_int_equal(info->other.domains, 0);
	an_stats_free(st);
}

/* --- DANE from probe facts --- */

static const struct {
	struct an_stats_extra x;
	bool usable;
	bool probed, any, all, secure, with_policy;
} dane_rows[] = {
	{ { 0, 0, 0, NULL }, true, 0, 0, 0, 0, 0 },
	{ { 2, 0, 0, NULL }, true, 1, 0, 0, 0, 0 },
	{ { 2, 1, 1, NULL }, true, 1, 1, 0, 0, 0 },
	{ { 2, 2, 1, NULL }, true, 1, 1, 1, 0, 1 },
	{ { 2, 2, 2, NULL }, true, 1, 1, 1, 1, 1 },
	{ { 1, 1, 1, NULL }, false, 1, 1, 1, 1, 0 },
};

static void test_dane(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dane_rows) / sizeof(dane_rows[0]); i++) {
		struct an_stats *st = new_stats(0);
		const struct an_stats_counts *c = an_stats_counts(st);
		struct an_record r;

		mkrec(&r, "a.example", dane_rows[i].usable ? AN_V_ENFORCE_OK
							   : AN_V_NO_POLICY);
		an_stats_add(st, &r, &dane_rows[i].x);
		if (c->dane_probed != dane_rows[i].probed ||
		    c->dane_tlsa_any != dane_rows[i].any ||
		    c->dane_tlsa_all != dane_rows[i].all ||
		    c->dane_tlsa_all_secure != dane_rows[i].secure ||
		    c->dane_with_policy != dane_rows[i].with_policy)
			fail_msg("row %zu", i);
		an_stats_free(st);
	}
}

/* --- the group table (report --groups): per-group adoption and, per
 * code, the domains that have it; pruning folds codes into "other" --- */

static void add_grouped(struct an_stats *st, const char *dom,
			enum an_verdict v, const char *code, const char *group)
{
	struct an_stats_extra x = { 0, 0, 0, group };
	struct an_record r;

	mkrec(&r, dom, v);
	if (code != NULL) {
		r.n_findings = r.n_findings_total = 2;
		r.findings[0] = (struct an_record_finding){ code, AN_SEV_ERROR,
							    "a" };
		r.findings[1] = r.findings[0]; /* twice: counted once */
	}
	an_stats_add(st, &r, &x);
}

static void test_groups(void **state)
{
	struct an_stats *st = new_stats(0);
	const struct an_stats_table *info;
	struct an_stats_row rows[8];
	enum an_code pi, nc;
	size_t n;

	(void)state;
	assert_int_equal(an_code_from_name("policy.syntax", &pi), ST_OK);
	assert_int_equal(an_code_from_name("consistency.mx-not-covered", &nc),
			 ST_OK);
	add_grouped(st, "a.test", AN_V_ENFORCE_OK, NULL, "Registrar A");
	add_grouped(st, "b.test", AN_V_POLICY_INVALID, "policy.syntax",
		    "Registrar A");
	add_grouped(st, "c.test", AN_V_ENFORCE_MX_MISMATCH,
		    "consistency.mx-not-covered", "Registrar A");
	add_grouped(st, "d.test", AN_V_POLICY_INVALID, "policy.syntax",
		    "Registrar B");
	add_grouped(st, "e.test", AN_V_NO_POLICY, NULL, AN_GROUP_NONE);
	add_grouped(st, "f.test", AN_V_NO_POLICY, NULL, NULL); /* no groups */
	info = an_stats_table(st, AN_TABLE_GROUP);
	assert_int_equal(info->total.domains, 5);
	assert_int_equal(info->n_keys, 3);
	n = an_stats_top(st, AN_TABLE_GROUP, rows, 8);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].key, "Registrar A");
	assert_int_equal(rows[0].domains, 3);
	assert_int_equal(rows[0].sts_record, 3);
	assert_int_equal(rows[0].policy_usable, 2);
	assert_int_equal(rows[0].verdicts[AN_V_ENFORCE_OK], 1);
	assert_int_equal(rows[0].verdicts[AN_V_POLICY_INVALID], 1);
	assert_non_null(rows[0].findings);
	assert_int_equal(rows[0].findings[pi], 1);
	assert_int_equal(rows[0].findings[nc], 1);
	assert_string_equal(rows[1].key, AN_GROUP_NONE);
	assert_string_equal(rows[2].key, "Registrar B");
	assert_int_equal(rows[2].findings[pi], 1);
	assert_int_equal(rows[2].findings[nc], 0);
	assert_int_equal(info->total.findings[pi], 2);
	/* Other tables carry no per-code counts. */
	assert_int_equal(an_stats_top(st, AN_TABLE_TLD, rows, 8), 1);
	assert_null(rows[0].findings);
	assert_string_equal(an_stats_table_name(AN_TABLE_GROUP), "group");
	an_stats_free(st);

	/* A full table folds the rare groups, codes and all, into "other":
	 * rows plus other add up to the total, code by code. */
	st = new_stats(8);
	for (int i = 0; i < 40; i++) {
		char dom[32], grp[16];

		snprintf(dom, sizeof(dom), "d%d.test", i);
		snprintf(grp, sizeof(grp), "G%d", i % 4 == 0 ? 0 : i);
		add_grouped(st, dom, AN_V_POLICY_INVALID,
			    i % 2 ? "policy.syntax" : NULL, grp);
	}
	info = an_stats_table(st, AN_TABLE_GROUP);
	assert_true(info->pruned > 0);
	n = an_stats_top(st, AN_TABLE_GROUP, rows, 8);
	assert_string_equal(rows[0].key, "G0");
	{
		uint64_t dom = info->other.domains, code = info->other.findings[pi];

		for (size_t k = 0; k < n; k++) {
			dom += rows[k].domains;
			code += rows[k].findings[pi];
		}
		assert_int_equal(dom, 40);
		assert_int_equal(code, 20);
		assert_int_equal(info->total.findings[pi], 20);
	}
	an_stats_free(st);
}

static void test_errors(void **state)
{
	struct an_stats *st = NULL;
	struct an_record r;

	(void)state;
	assert_int_equal(an_stats_new(1, &st), ST_EINVAL);
	assert_null(st);
	st = new_stats(0);
	an_record_init(&r);
	assert_int_equal(an_stats_add(st, &r, NULL), ST_EINVAL); /* no domain */
	assert_int_equal(an_stats_add(NULL, &r, NULL), ST_EINVAL);
	mkrec(&r, "a.example", AN_V_NO_POLICY);
	r.verdict = 200;
	assert_int_equal(an_stats_add(st, &r, NULL), ST_OK);
	assert_int_equal(an_stats_counts(st)->verdict_unknown, 1);
	an_stats_free(st);
	an_stats_free(NULL);
}

/* --- writers, on a report built by hand --- */

static char *render(const char *fmt, const struct an_report *rep)
{
	const struct an_report_writer *w = an_report_writer(fmt);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(w);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(w->write(f, rep), ST_OK);
	fclose(f);
	return buf;
}

static void test_writers(void **state)
{
	struct an_report_scan trend[2] = {
		{ .id = 1, .domains = 10, .usable = 1, .enforce = 1 },
		{ .id = 2, .domains = 10, .usable = 2, .enforce = 1 },
	};
	struct an_report rep = { .trend = trend, .n_trend = 2, .top = 5,
				 .version = "0.1.0", .generated = 1700000000 };
	struct an_stats *st = new_stats(0);
	struct an_record r;
	char *text, *json, *html;

	(void)state;
	rep.scan.id = 2;
	snprintf(rep.scan.label, sizeof(rep.scan.label), "<b>\x1b[31m");
	rep.scan.meta_json = "{\"x\":\"</pre><script>\"}";
	mkrec(&r, "evil.example", AN_V_ENFORCE_OK);
	r.n_mx = r.n_mx_total = 1;
	r.mx[0] = (struct an_record_mx){ "mx.<script>alert(1)</script>\x1b]0;",
					 1, true };
	r.rank = 5;
	an_stats_add(st, &r, NULL);
	rep.stats = st;

	text = render("text", &rep);
	json = render("json", &rep);
	html = render("html", &rep);
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "enforce-ok"));
	assert_non_null(strstr(text, "top-1k"));
	assert_null(strchr(json, '\x1b'));
	assert_non_null(strstr(json, "\"report_version\": 1"));
	assert_non_null(strstr(json, "\"enforce-ok\":1"));
	assert_non_null(strstr(json, "\"label\":\"<b>\\u001b[31m\""));
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;b&gt;?[31m"));
	assert_null(strchr(html, '\x1b'));
	assert_non_null(strstr(html, "&lt;script&gt;"));
	assert_non_null(strstr(html, "Content-Security-Policy"));
	assert_non_null(strstr(html, "default-src 'none'"));
	assert_non_null(strstr(html, "<svg"));
	assert_non_null(strstr(html, "<polyline")); /* the trend */
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(an_report_writer("csv"));
	free(text);
	free(json);
	free(html);
	an_stats_free(st);
}

static void test_num(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(an_report_num(0, b, sizeof(b)), "0");
	assert_string_equal(an_report_num(999, b, sizeof(b)), "999");
	assert_string_equal(an_report_num(1000, b, sizeof(b)), "1,000");
	assert_string_equal(an_report_num(1234567, b, sizeof(b)), "1,234,567");
	assert_string_equal(an_report_num(UINT64_MAX, b, sizeof(b)),
			    "18,446,744,073,709,551,615");
	assert_true(an_report_pct(1, 0) == 0.0);
	assert_true(an_report_pct(1, 4) == 25.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_edges),
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_finding_once_per_domain),
		cmocka_unit_test(test_tiers),
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_provider_tables),
		cmocka_unit_test(test_other_overflow),
		cmocka_unit_test(test_dane),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_writers),
		cmocka_unit_test(test_num),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
