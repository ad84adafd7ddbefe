/*
 * test_an_record.c - the result record codec (analysis/an_record.h).
 *
 * The encoding is what the store keeps for years, so these tests pin it:
 * golden bytes for a minimal record, a table of malformations of those
 * bytes, round trips of records with every field set, and the robustness
 * properties the fuzz target also checks (every prefix of an encoding fails,
 * every single-byte corruption either fails with ST_EPARSE or decodes to a
 * record that encodes back to the very same bytes).
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
#include "an_json.h"
#include "an_record.h"
#include "st_error.h"

static uint8_t enc[AN_RECORD_ENCODED_MAX];
static uint8_t enc2[AN_RECORD_ENCODED_MAX];

/* ---- comparing ---------------------------------------------------------- */

static void assert_str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_string_equal(a, b);
}

static void assert_bytes_same(const struct an_bytes *a,
			      const struct an_bytes *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len > 0)
		assert_memory_equal(a->data, b->data, a->len);
}

static void assert_dns_same(const struct an_record *a,
			    const struct an_record *b)
{
	assert_str_same(a->domain, b->domain);
	assert_true(a->rank == b->rank);
	assert_true(a->time == b->time);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->sts_dns, b->sts_dns);
	assert_int_equal(a->mx_dns, b->mx_dns);
	assert_int_equal(a->tlsrpt_dns, b->tlsrpt_dns);
	assert_int_equal(a->sts_cname, b->sts_cname);
	assert_int_equal(a->sts_ad, b->sts_ad);
	assert_int_equal(a->mx_ad, b->mx_ad);
	assert_int_equal(a->n_sts_txt, b->n_sts_txt);
	assert_int_equal(a->n_sts_txt_total, b->n_sts_txt_total);
	for (size_t i = 0; i < a->n_sts_txt; i++)
		assert_bytes_same(&a->sts_txt[i], &b->sts_txt[i]);
	assert_int_equal(a->n_mx, b->n_mx);
	assert_int_equal(a->n_mx_total, b->n_mx_total);
	for (size_t i = 0; i < a->n_mx; i++) {
		assert_str_same(a->mx[i].name, b->mx[i].name);
		assert_int_equal(a->mx[i].pref, b->mx[i].pref);
		assert_int_equal(a->mx[i].covered, b->mx[i].covered);
	}
	assert_int_equal(a->n_tlsrpt_txt, b->n_tlsrpt_txt);
	assert_int_equal(a->n_tlsrpt_txt_total, b->n_tlsrpt_txt_total);
	for (size_t i = 0; i < a->n_tlsrpt_txt; i++)
		assert_bytes_same(&a->tlsrpt_txt[i], &b->tlsrpt_txt[i]);
}

static void assert_record_same(const struct an_record *a,
			       const struct an_record *b)
{
	assert_dns_same(a, b);
	assert_str_same(a->ph_cname, b->ph_cname);
	assert_str_same(a->ph_addr, b->ph_addr);
	assert_int_equal(a->fetch_status, b->fetch_status);
	assert_int_equal(a->http_status, b->http_status);
	assert_str_same(a->location, b->location);
	assert_str_same(a->content_type, b->content_type);
	assert_int_equal(a->have_body, b->have_body);
	assert_int_equal(a->body_len, b->body_len);
	if (a->have_body)
		assert_memory_equal(a->body_hash, b->body_hash,
				    AN_RECORD_HASH_LEN);
	assert_true(a->cert_not_after == b->cert_not_after);
	assert_str_same(a->cert_issuer, b->cert_issuer);
	assert_int_equal(a->n_cert_names, b->n_cert_names);
	assert_int_equal(a->n_cert_names_total, b->n_cert_names_total);
	for (size_t i = 0; i < a->n_cert_names; i++)
		assert_str_same(a->cert_names[i], b->cert_names[i]);
	assert_int_equal(a->fetch_ms, b->fetch_ms);
	assert_str_same(a->sts_id, b->sts_id);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->policy_usable, b->policy_usable);
	assert_int_equal(a->have_max_age, b->have_max_age);
	assert_true(a->max_age == b->max_age);
	assert_int_equal(a->n_patterns, b->n_patterns);
	assert_int_equal(a->n_patterns_total, b->n_patterns_total);
	for (size_t i = 0; i < a->n_patterns; i++)
		assert_str_same(a->patterns[i], b->patterns[i]);
	assert_int_equal(a->tlsrpt_valid, b->tlsrpt_valid);
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->n_mx_judged, b->n_mx_judged);
	assert_int_equal(a->n_mx_covered, b->n_mx_covered);
	assert_int_equal(a->n_mx_usable, b->n_mx_usable);
	assert_int_equal(a->n_findings, b->n_findings);
	assert_int_equal(a->n_findings_total, b->n_findings_total);
	assert_int_equal(a->attempts, b->attempts);
	for (size_t i = 0; i < a->n_findings; i++) {
		assert_str_same(a->findings[i].code, b->findings[i].code);
		assert_int_equal(a->findings[i].severity,
				 b->findings[i].severity);
		assert_str_same(a->findings[i].detail, b->findings[i].detail);
	}
}

static void assert_probe_same(const struct an_probe_record *a,
			      const struct an_probe_record *b)
{
	assert_str_same(a->host, b->host);
	assert_true(a->time == b->time);
	assert_int_equal(a->status, b->status);
	assert_str_same(a->addr, b->addr);
	assert_int_equal(a->tls_version, b->tls_version);
	assert_int_equal(a->verify_error, b->verify_error);
	assert_int_equal(a->name_match, b->name_match);
	assert_true(a->cert_not_after == b->cert_not_after);
	assert_str_same(a->cert_issuer, b->cert_issuer);
	assert_int_equal(a->tlsa, b->tlsa);
	assert_int_equal(a->tlsa_secure, b->tlsa_secure);
	assert_str_same(a->detail, b->detail);
	assert_int_equal(a->duration_ms, b->duration_ms);
}

/* An initialised record: no pointer into anything. */
static void assert_record_empty(const struct an_record *r)
{
	struct an_record z;

	an_record_init(&z);
	assert_memory_equal(r, &z, sizeof(z));
}

/* ---- records to encode -------------------------------------------------- */

static uint8_t txt_store[2][AN_RECORD_TXT_MAX][AN_RECORD_TXT_LEN_MAX];
static char mx_store[AN_RECORD_MX_MAX][48];
static char pat_store[AN_RECORD_PATTERNS_MAX][48];
static char detail_store[AN_FINDINGS_MAX][48];

/* Binary TXT data: every byte value, NUL and 0xff included. */
static void fill_txt(struct an_bytes *txt,
		     uint8_t (*store)[AN_RECORD_TXT_LEN_MAX], size_t n,
		     size_t len, uint8_t seed)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < len; j++)
			store[i][j] = (uint8_t)(seed + i * 7 + j);
		store[i][0] = 0x00;
		store[i][len - 1] = 0xff;
		txt[i].data = store[i];
		txt[i].len = len;
	}
}

/* Every field set, extreme integers, nmx/npat/nfind items per array. */
static void fill_record(struct an_record *r, size_t ntxt, size_t txt_len,
			size_t nmx, size_t npat, size_t nfind)
{
	static const uint8_t hash[AN_RECORD_HASH_LEN] = {
		0x00, 0x01, 0xff, 0x80, 0x7f, 0x10, 0x20, 0x30,
		0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0,
		0xc0, 0xd0, 0xe0, 0xf0, 0x01, 0x02, 0x03, 0x04,
		0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xfe,
	};

	an_record_init(r);
	r->domain = "example.com";
	r->rank = UINT64_MAX;
	r->time = INT64_MIN;
	r->duration_ms = UINT32_MAX;
	r->sts_dns = AN_DNS_NOERROR;
	r->mx_dns = AN_DNS_OTHER;
	r->tlsrpt_dns = AN_DNS_TIMEOUT;
	r->sts_cname = r->sts_ad = r->mx_ad = true;
	fill_txt(r->sts_txt, txt_store[0], ntxt, txt_len, 1);
	r->n_sts_txt = ntxt;
	r->n_sts_txt_total = ntxt + 3;
	for (size_t i = 0; i < nmx; i++) {
		snprintf(mx_store[i], sizeof(mx_store[i]), "mx%zu.example.net", i);
		r->mx[i].name = mx_store[i];
		r->mx[i].pref = (uint16_t)(i == 0 ? UINT16_MAX : i * 10);
		r->mx[i].covered = i % 2 == 0;
	}
	if (nmx > 1)
		r->mx[1].name = ""; /* a null MX */
	if (nmx > 2)
		r->mx[2].name = NULL;
	r->n_mx = nmx;
	r->n_mx_total = nmx + 1;
	fill_txt(r->tlsrpt_txt, txt_store[1], ntxt, txt_len, 99);
	r->n_tlsrpt_txt = ntxt;
	r->n_tlsrpt_txt_total = ntxt;

	r->ph_cname = "";
	r->ph_addr = "2001:db8::1";
	r->fetch_status = AN_FETCH_TRANSFER;
	r->http_status = UINT16_MAX;
	r->location = NULL;
	r->content_type = "text/plain; charset=utf-8";
	r->have_body = true;
	r->body_len = UINT32_MAX;
	memcpy(r->body_hash, hash, sizeof(hash));
	r->cert_not_after = INT64_MAX;
	r->cert_issuer = "C=US, O=Let's Encrypt, CN=R11";
	for (size_t i = 0; i < AN_RECORD_CERT_NAMES_MAX; i++)
		r->cert_names[i] = i % 2 == 0 ? "mta-sts.example.com"
					      : "*.example.com";
	r->n_cert_names = AN_RECORD_CERT_NAMES_MAX;
	r->n_cert_names_total = AN_RECORD_CERT_NAMES_MAX + 17;
	r->fetch_ms = 1234;

	r->sts_id = "20240101T000000Z";
	r->mode = AN_MODE_NONE;
	r->policy_usable = true;
	r->have_max_age = true;
	r->max_age = UINT64_MAX;
	for (size_t i = 0; i < npat; i++) {
		snprintf(pat_store[i], sizeof(pat_store[i]), "*.p%zu.example", i);
		r->patterns[i] = pat_store[i];
	}
	r->n_patterns = npat;
	r->n_patterns_total = npat + 100;
	r->tlsrpt_valid = true;

	r->verdict = AN_V_COUNT - 1;
	r->n_mx_judged = SIZE_MAX;
	r->n_mx_covered = 7;
	r->n_mx_usable = 0;
	for (size_t i = 0; i < nfind; i++) {
		struct an_record_finding *f = &r->findings[i];

		f->code = an_code_info((enum an_code)(i % AN_F_COUNT))->name;
		f->severity = (uint8_t)(i % 3);
		snprintf(detail_store[i], sizeof(detail_store[i]),
			 "detail %zu: \"x\"", i);
		f->detail = detail_store[i];
	}
	if (nfind > 1)
		r->findings[1].detail = "";
	if (nfind > 2)
		r->findings[2].detail = NULL;
	r->n_findings = nfind;
	r->n_findings_total = nfind + 5000;
}

static void fill_full(struct an_record *r)
{
	fill_record(r, AN_RECORD_TXT_MAX, 300, AN_RECORD_MX_MAX,
		    AN_RECORD_PATTERNS_MAX, AN_FINDINGS_MAX);
}

/* Every field set, every array non-empty, small enough to corrupt byte by
 * byte with all 256 values. */
static void fill_medium(struct an_record *r)
{
	fill_record(r, 2, 5, 3, 2, 3);
}

/* What a survey stores most: a domain without MTA-STS. */
static void fill_typical_none(struct an_record *r)
{
	static const char *const mx[] = { "mx1.mail.example.net",
					  "mx2.mail.example.net" };

	an_record_init(r);
	r->domain = "example-shop.de";
	r->rank = 48213;
	r->time = 1718000000;
	r->duration_ms = 412;
	r->sts_dns = AN_DNS_NXDOMAIN;
	r->mx_dns = AN_DNS_NOERROR;
	r->tlsrpt_dns = AN_DNS_NXDOMAIN;
	for (size_t i = 0; i < 2; i++) {
		r->mx[i].name = mx[i];
		r->mx[i].pref = (uint16_t)(10 * (i + 1));
	}
	r->n_mx = r->n_mx_total = 2;
	r->verdict = AN_V_NO_POLICY;
	r->findings[0].code = "sts-record.none";
	r->findings[0].severity = AN_SEV_INFO;
	r->findings[0].detail = "";
	r->n_findings = r->n_findings_total = 1;
}

/* A domain with a working enforce policy. */
static void fill_typical_enforce(struct an_record *r)
{
	static const char sts[] = "v=STSv1; id=20240301T120000Z;";
	static const char rpt[] = "v=TLSRPTv1; rua=mailto:tlsrpt@example.org";

	an_record_init(r);
	r->domain = "example.org";
	r->rank = 1532;
	r->time = 1718000000;
	r->duration_ms = 830;
	r->sts_dns = r->mx_dns = r->tlsrpt_dns = AN_DNS_NOERROR;
	r->sts_txt[0] = (struct an_bytes){ (const uint8_t *)sts, strlen(sts) };
	r->n_sts_txt = r->n_sts_txt_total = 1;
	r->mx[0] = (struct an_record_mx){ "aspmx.l.google.com", 1, true };
	r->mx[1] = (struct an_record_mx){ "alt1.aspmx.l.google.com", 5, true };
	r->n_mx = r->n_mx_total = 2;
	r->tlsrpt_txt[0] = (struct an_bytes){ (const uint8_t *)rpt, strlen(rpt) };
	r->n_tlsrpt_txt = r->n_tlsrpt_txt_total = 1;
	r->ph_addr = "203.0.113.10";
	r->fetch_status = AN_FETCH_DONE;
	r->http_status = 200;
	r->content_type = "text/plain";
	r->have_body = true;
	r->body_len = 96;
	memset(r->body_hash, 0xab, sizeof(r->body_hash));
	r->cert_not_after = 1725000000;
	r->cert_issuer = "C=US, O=Let's Encrypt, CN=R11";
	r->fetch_ms = 240;
	r->sts_id = "20240301T120000Z";
	r->mode = AN_MODE_ENFORCE;
	r->policy_usable = r->have_max_age = true;
	r->max_age = 604800;
	r->patterns[0] = "aspmx.l.google.com";
	r->patterns[1] = "*.aspmx.l.google.com";
	r->n_patterns = r->n_patterns_total = 2;
	r->tlsrpt_valid = true;
	r->verdict = AN_V_ENFORCE_OK;
	r->n_mx_judged = r->n_mx_covered = r->n_mx_usable = 2;
}

static void fill_probe(struct an_probe_record *p)
{
	an_probe_record_init(p);
	p->host = "aspmx.l.google.com";
	p->time = -1718000000;
	p->status = AN_PROBE_NAME_MISMATCH;
	p->addr = "";
	p->tls_version = 0x0304;
	p->verify_error = INT32_MIN;
	p->name_match = true;
	p->cert_not_after = INT64_MAX;
	p->cert_issuer = NULL;
	p->tlsa = p->tlsa_secure = true;
	p->detail = "hostname mismatch";
	p->duration_ms = UINT32_MAX;
}

/* ---- helpers ------------------------------------------------------------ */

static size_t encode_ok(const struct an_record *r, uint8_t *out)
{
	size_t len = 0;

	assert_int_equal(an_record_encode(r, out, AN_RECORD_ENCODED_MAX, &len),
			 ST_OK);
	assert_true(len > 0 && len <= AN_RECORD_ENCODED_MAX);
	return len;
}

/* Decode buf, then encode the result: the bytes must come back exactly. */
static void assert_canonical(const uint8_t *buf, size_t len,
			     const struct an_record *r)
{
	struct an_record r2;
	size_t len2;

	len2 = encode_ok(r, enc2);
	assert_int_equal(len2, len);
	assert_memory_equal(enc2, buf, len);
	assert_int_equal(an_record_decode(enc2, len2, &r2), ST_OK);
	assert_record_same(r, &r2);
}

/* A heap copy of exactly len bytes, so ASan sees any read past the end. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len > 0 ? len : 1);

	assert_non_null(q);
	if (len > 0)
		memcpy(q, p, len);
	return q;
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip_full(void **state)
{
	struct an_record r, d;
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, enc);
	print_message("full record (every array at its cap): %zu bytes\n", len);
	assert_int_equal(an_record_version(enc, len), AN_RECORD_VERSION);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_record_same(&r, &d);

	/* Zero-copy: strings and TXT point into the encoding. */
	assert_true((const uint8_t *)d.domain > enc &&
		    (const uint8_t *)d.domain < enc + len);
	assert_true(d.sts_txt[0].data > enc && d.sts_txt[0].data < enc + len);
	assert_true(d.findings[0].code != r.findings[0].code);
	/* NULL and "" stay apart, in scalars and in arrays. */
	assert_null(d.location);
	assert_non_null(d.ph_cname);
	assert_string_equal(d.ph_cname, "");
	assert_string_equal(d.mx[1].name, "");
	assert_null(d.mx[2].name);
	assert_string_equal(d.findings[1].detail, "");
	assert_null(d.findings[2].detail);
	/* Binary TXT data survives with its NUL and 0xff bytes. */
	assert_int_equal(d.sts_txt[3].data[0], 0x00);
	assert_int_equal(d.tlsrpt_txt[15].data[299], 0xff);
	assert_canonical(enc, len, &d);
}

/* The golden encoding of a minimal record in version 1, the format before
 * certificate names: stores written then must stay readable. */
static const uint8_t golden[] = {
	'S', 'R', 1,
	4, 'a', '.', 'b', 0,    /* domain "a.b" (length + 1) */
	0, 0, 0,                /* rank, time, duration_ms */
	0, 0, 0, 0, 0, 0,       /* 3 DNS statuses, 3 bools */
	0, 0, 0, 0, 0, 0,       /* sts_txt, mx, tlsrpt_txt: count, total */
	0, 0, 0, 0, 0, 0,       /* ph_cname, ph_addr, fetch, http, loc, ctype */
	0, 0,                   /* have_body (no hash follows), body_len */
	0, 0, 0,                /* cert_not_after, cert_issuer, fetch_ms */
	0, 0, 0, 0, 0, 0, 0,    /* sts_id, mode, usable, have_max_age,
				 * max_age, patterns: count, total */
	0,                      /* tlsrpt_valid */
	0, 0, 0, 0, 0, 0,       /* verdict, judged/covered/usable, findings */
};

/* The same minimal record in version 2, with the empty certificate name
 * array between cert_issuer and fetch_ms. */
static const uint8_t golden_v2[] = {
	'S', 'R', 2,
	4, 'a', '.', 'b', 0,    /* domain "a.b" (length + 1) */
	0, 0, 0,                /* rank, time, duration_ms */
	0, 0, 0, 0, 0, 0,       /* 3 DNS statuses, 3 bools */
	0, 0, 0, 0, 0, 0,       /* sts_txt, mx, tlsrpt_txt: count, total */
	0, 0, 0, 0, 0, 0,       /* ph_cname, ph_addr, fetch, http, loc, ctype */
	0, 0,                   /* have_body (no hash follows), body_len */
	0, 0,                   /* cert_not_after, cert_issuer */
	0, 0,                   /* cert_names: count, total */
	0,                      /* fetch_ms */
	0, 0, 0, 0, 0, 0, 0,    /* sts_id, mode, usable, have_max_age,
				 * max_age, patterns: count, total */
	0,                      /* tlsrpt_valid */
	0, 0, 0, 0, 0, 0,       /* verdict, judged/covered/usable, findings */
};

/* The same in the current version (3): pins the wire format, with
 * attempts after the findings. */
static const uint8_t golden_v3[] = {
	'S', 'R', 3,
	4, 'a', '.', 'b', 0,    /* domain "a.b" (length + 1) */
	0, 0, 0,                /* rank, time, duration_ms */
	0, 0, 0, 0, 0, 0,       /* 3 DNS statuses, 3 bools */
	0, 0, 0, 0, 0, 0,       /* sts_txt, mx, tlsrpt_txt: count, total */
	0, 0, 0, 0, 0, 0,       /* ph_cname, ph_addr, fetch, http, loc, ctype */
	0, 0,                   /* have_body (no hash follows), body_len */
	0, 0,                   /* cert_not_after, cert_issuer */
	0, 0,                   /* cert_names: count, total */
	0,                      /* fetch_ms */
	0, 0, 0, 0, 0, 0, 0,    /* sts_id, mode, usable, have_max_age,
				 * max_age, patterns: count, total */
	0,                      /* tlsrpt_valid */
	0, 0, 0, 0, 0, 0,       /* verdict, judged/covered/usable, findings */
	0,                      /* attempts */
};

static void test_roundtrip_minimal(void **state)
{
	struct an_record r, d;
	size_t len;

	(void)state;
	an_record_init(&r);
	r.domain = "a.b";
	len = encode_ok(&r, enc);
	print_message("minimal record: %zu bytes\n", len);
	assert_int_equal(len, sizeof(golden_v3));
	assert_memory_equal(enc, golden_v3, sizeof(golden_v3));
	assert_int_equal(an_record_decode(golden_v3, sizeof(golden_v3), &d),
			 ST_OK);
	assert_record_same(&r, &d);
	/* The version 2 bytes are the same record. */
	assert_int_equal(an_record_decode(golden_v2, sizeof(golden_v2), &d),
			 ST_OK);
	assert_record_same(&r, &d);
	/* The version 1 bytes are the same record. */
	assert_int_equal(an_record_decode(golden, sizeof(golden), &d), ST_OK);
	assert_record_same(&r, &d);
	assert_null(d.ph_cname);
	assert_null(d.location);
	assert_null(d.sts_id);
	assert_int_equal(d.n_findings, 0);
}

static void test_sizes(void **state)
{
	struct an_record r, d;
	struct an_probe_record p;
	size_t len;

	(void)state;
	fill_typical_none(&r);
	len = encode_ok(&r, enc);
	print_message("typical record, no MTA-STS: %zu bytes\n", len);
	assert_true(len < 192);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_record_same(&r, &d);

	fill_typical_enforce(&r);
	len = encode_ok(&r, enc);
	print_message("typical record, enforce policy: %zu bytes\n", len);
	assert_true(len < 512);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_record_same(&r, &d);

	fill_probe(&p);
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_OK);
	print_message("probe record: %zu bytes\n", len);
}

/* Every string at AN_RECORD_STR_LEN_MAX, every TXT at its cap: the largest
 * record still fits AN_RECORD_ENCODED_MAX; longer strings are cut. */
static void test_worst_case(void **state)
{
	static char long_str[AN_RECORD_STR_LEN_MAX + 100];
	const char *s = long_str;
	struct an_record r, d;
	size_t len;

	(void)state;
	memset(long_str, 'x', sizeof(long_str) - 1);
	fill_record(&r, AN_RECORD_TXT_MAX, AN_RECORD_TXT_LEN_MAX,
		    AN_RECORD_MX_MAX, AN_RECORD_PATTERNS_MAX, AN_FINDINGS_MAX);
	r.domain = r.ph_cname = r.ph_addr = r.location = s;
	r.content_type = r.cert_issuer = r.sts_id = s;
	for (size_t i = 0; i < AN_RECORD_MX_MAX; i++)
		r.mx[i].name = s;
	for (size_t i = 0; i < AN_RECORD_PATTERNS_MAX; i++)
		r.patterns[i] = s;
	for (size_t i = 0; i < AN_FINDINGS_MAX; i++)
		r.findings[i].code = r.findings[i].detail = s;
	for (size_t i = 0; i < AN_RECORD_CERT_NAMES_MAX; i++)
		r.cert_names[i] = s;
	len = encode_ok(&r, enc);
	print_message("worst case: %zu bytes (cap %d)\n", len,
		      AN_RECORD_ENCODED_MAX);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_int_equal(strlen(d.domain), AN_RECORD_STR_LEN_MAX);
	assert_memory_equal(d.domain, long_str, AN_RECORD_STR_LEN_MAX);
	assert_int_equal(strlen(d.findings[47].detail), AN_RECORD_STR_LEN_MAX);
	assert_canonical(enc, len, &d);
}

/* TXT data over AN_RECORD_TXT_LEN_MAX is cut; the RR is still counted. */
static void test_txt_cut(void **state)
{
	static uint8_t big[AN_RECORD_TXT_LEN_MAX + 904];
	struct an_record r, d;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	an_record_init(&r);
	r.domain = "cut.example";
	r.sts_txt[0] = (struct an_bytes){ big, sizeof(big) };
	r.sts_txt[1] = (struct an_bytes){ big, AN_RECORD_TXT_LEN_MAX };
	r.sts_txt[2] = (struct an_bytes){ NULL, 0 };
	r.n_sts_txt = r.n_sts_txt_total = 3;
	len = encode_ok(&r, enc);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_int_equal(d.n_sts_txt, 3);
	assert_int_equal(d.sts_txt[0].len, AN_RECORD_TXT_LEN_MAX);
	assert_memory_equal(d.sts_txt[0].data, big, AN_RECORD_TXT_LEN_MAX);
	assert_int_equal(d.sts_txt[1].len, AN_RECORD_TXT_LEN_MAX);
	assert_int_equal(d.sts_txt[2].len, 0);
	assert_canonical(enc, len, &d);
}

/* ---- malformed input ---------------------------------------------------- */

/* Every proper prefix of a valid encoding is ST_EPARSE (or, for a few
 * bytes, not even a header) and leaves the record initialised. */
static void check_prefixes(const uint8_t *buf, size_t len, bool exact)
{
	struct an_record d;

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = exact ? exact_copy(buf, n) : NULL;
		const uint8_t *p = exact ? copy : buf;

		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(an_record_decode(p, n, &d), ST_EPARSE);
		assert_record_empty(&d);
		free(copy);
	}
}

static void test_truncation(void **state)
{
	struct an_record r;
	size_t len;

	(void)state;
	fill_medium(&r);
	len = encode_ok(&r, enc);
	check_prefixes(enc, len, true);
	fill_typical_enforce(&r);
	len = encode_ok(&r, enc);
	check_prefixes(enc, len, true);
	check_prefixes(golden, sizeof(golden), true);
	/* The full record: every prefix too, without the copies. */
	fill_full(&r);
	len = encode_ok(&r, enc);
	check_prefixes(enc, len, false);
}

/* Every byte of an encoding set to every value: ST_EPARSE, ST_ENOTSUP (the
 * version byte only), or a record that encodes back to the same bytes. */
static void check_corruptions(const uint8_t *orig, size_t len)
{
	uint8_t *buf = exact_copy(orig, len);
	struct an_record d;
	size_t n_ok = 0, n_bad = 0;

	for (size_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < 256; v++) {
			int ret;

			if (v == orig[i])
				continue;
			buf[i] = (uint8_t)v;
			ret = an_record_decode(buf, len, &d);
			if (ret == ST_OK) {
				n_ok++;
				assert_canonical(buf, len, &d);
			} else {
				n_bad++;
				assert_int_equal(ret, i == 2 && v > AN_RECORD_VERSION ?
						 ST_ENOTSUP : ST_EPARSE);
				assert_record_empty(&d);
			}
		}
		buf[i] = orig[i];
	}
	print_message("%zu-byte encoding: %zu corruptions decoded, %zu "
		      "refused\n", len, n_ok, n_bad);
	free(buf);
}

static void test_corruption(void **state)
{
	struct an_record r;
	size_t len;

	(void)state;
	fill_medium(&r);
	len = encode_ok(&r, enc);
	check_corruptions(enc, len);
	fill_typical_none(&r);
	len = encode_ok(&r, enc);
	check_corruptions(enc, len);
}

static void test_version(void **state)
{
	uint8_t buf[sizeof(golden)];
	struct an_record d;

	(void)state;
	memcpy(buf, golden, sizeof(buf));
	assert_int_equal(an_record_version(buf, sizeof(buf)), 1);
	for (unsigned v = AN_RECORD_VERSION + 1; v < 256; v++) {
		buf[2] = (uint8_t)v;
		assert_int_equal(an_record_version(buf, sizeof(buf)), (int)v);
		assert_int_equal(an_record_decode(buf, sizeof(buf), &d),
				 ST_ENOTSUP);
		/* Newer is newer, however short. */
		assert_int_equal(an_record_decode(buf, 3, &d), ST_ENOTSUP);
		assert_record_empty(&d);
	}
	buf[2] = 0;
	assert_int_equal(an_record_decode(buf, sizeof(buf), &d), ST_EPARSE);
	buf[2] = 1;
	buf[1] = 'P';
	assert_int_equal(an_record_version(buf, sizeof(buf)), -1);
	assert_int_equal(an_record_decode(buf, sizeof(buf), &d), ST_EPARSE);
	assert_int_equal(an_record_version(buf, 2), -1);
	assert_int_equal(an_record_version(NULL, 10), -1);
}

struct mutation {
	const char *what;
	size_t off, del;        /* replace golden[off..off+del) ... */
	const uint8_t *ins;     /* ... by these bytes */
	size_t ins_len;
	int expect;
};

#define INS(...) (const uint8_t[]){ __VA_ARGS__ }, \
		 sizeof((const uint8_t[]){ __VA_ARGS__ })
#define NONE NULL, 0
#define FF9 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define H8 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa
#define H32 H8, H8, H8, H8

/* golden[] with one mutation applied, in an exact-size heap buffer. */
static uint8_t *mutate(const uint8_t *base, size_t base_len,
		       const struct mutation *m, size_t *len)
{
	uint8_t *buf;

	assert_true(m->off + m->del <= base_len);
	*len = base_len - m->del + m->ins_len;
	buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	memcpy(buf, base, m->off);
	if (m->ins_len > 0)
		memcpy(buf + m->off, m->ins, m->ins_len);
	memcpy(buf + m->off + m->ins_len, base + m->off + m->del,
	       base_len - m->off - m->del);
	return buf;
}

static void test_decode_table(void **state)
{
	/* Offsets into golden[] (version 1): 3 domain, 8 rank, 9 time, 10 duration,
	 * 11-13 DNS, 14-16 bools, 17 sts_txt, 19 mx, 21 tlsrpt_txt,
	 * 23 ph_cname, 25 fetch, 26 http, 29 have_body, 30 body_len,
	 * 35 mode, 39 patterns, 42 verdict, 46 findings, 48 end. */
	const struct mutation rows[] = {
		{ "as is", 0, 0, NONE, ST_OK },
		{ "domain \"\"", 3, 5, INS(1, 0), ST_OK },
		{ "rank UINT64_MAX", 8, 1, INS(FF9, 0x01), ST_OK },
		{ "time INT64_MIN", 9, 1, INS(FF9, 0x01), ST_OK },
		{ "time -1", 9, 1, INS(0x01), ST_OK },
		{ "duration UINT32_MAX", 10, 1, INS(0xff, 0xff, 0xff, 0xff, 0x0f),
		  ST_OK },
		{ "sts_dns last", 11, 1, INS(AN_DNS_OTHER), ST_OK },
		{ "empty TXT", 17, 2, INS(1, 1, 0), ST_OK },
		{ "TXT with NUL", 17, 2, INS(1, 2, 2, 0, 0xff), ST_OK },
		{ "NULL mx name", 19, 2, INS(1, 1, 0, 0, 0), ST_OK },
		{ "mx pref max", 19, 2, INS(1, 1, 1, 0, 0xff, 0xff, 0x03, 1),
		  ST_OK },
		{ "ph_cname \"\"", 23, 1, INS(1, 0), ST_OK },
		{ "fetch last", 25, 1, INS(AN_FETCH_COUNT - 1), ST_OK },
		{ "http max", 26, 1, INS(0xff, 0xff, 0x03), ST_OK },
		{ "body hash", 29, 2, INS(1, 0, H32), ST_OK },
		{ "mode last", 35, 1, INS(AN_MODE_NONE), ST_OK },
		{ "verdict last", 42, 1, INS(AN_V_COUNT - 1), ST_OK },
		{ "finding", 46, 2, INS(1, 1, 4, 'a', '.', 'b', 0, 2, 0), ST_OK },
		{ "huge total", 47, 1, INS(FF9, 0x01), ST_OK },

		{ "trailing byte", 48, 0, INS(0), ST_EPARSE },
		{ "magic", 0, 1, INS('X'), ST_EPARSE },
		{ "version 0", 2, 1, INS(0), ST_EPARSE },
		{ "version next", 2, 1, INS(AN_RECORD_VERSION + 1),
		  ST_ENOTSUP },
		{ "domain NULL", 3, 5, INS(0), ST_EPARSE },
		{ "domain no NUL", 3, 5, INS(4, 'a', '.', 'b', 'c'), ST_EPARSE },
		{ "domain inner NUL", 3, 5, INS(4, 'a', 0, 'b', 0), ST_EPARSE },
		{ "domain past end", 3, 5, INS(0x7f, 'a'), ST_EPARSE },
		{ "domain over cap", 3, 5, INS(0x82, 0x04), ST_EPARSE },
		{ "rank overlong", 8, 1, INS(0x80, 0x00), ST_EPARSE },
		{ "rank 1 in 2 bytes", 8, 1, INS(0x81, 0x00), ST_EPARSE },
		{ "rank 11 bytes", 8, 1, INS(FF9, 0xff, 0x01), ST_EPARSE },
		{ "rank 2^64", 8, 1, INS(FF9, 0x02), ST_EPARSE },
		{ "duration 2^32", 10, 1, INS(0x80, 0x80, 0x80, 0x80, 0x10),
		  ST_EPARSE },
		{ "sts_dns 8", 11, 1, INS(8), ST_EPARSE },
		{ "mx_dns 8", 12, 1, INS(8), ST_EPARSE },
		{ "tlsrpt_dns 8", 13, 1, INS(8), ST_EPARSE },
		{ "bool 2", 14, 1, INS(2), ST_EPARSE },
		{ "bool 0x80", 16, 1, INS(0x80, 0x01), ST_EPARSE },
		{ "TXT count > total", 17, 2, INS(1, 0, 0), ST_EPARSE },
		{ "TXT count over cap", 17, 2, INS(17, 17), ST_EPARSE },
		{ "TXT over its cap", 17, 2, INS(1, 1, 0x81, 0x20), ST_EPARSE },
		{ "TXT past end", 17, 2, INS(1, 1, 0x7f), ST_EPARSE },
		{ "mx count over cap", 19, 2, INS(33, 33), ST_EPARSE },
		{ "mx pref 65536", 19, 2, INS(1, 1, 0, 0x80, 0x80, 0x04, 0),
		  ST_EPARSE },
		{ "mx covered 2", 19, 2, INS(1, 1, 0, 0, 2), ST_EPARSE },
		{ "tlsrpt count > total", 21, 2, INS(1, 0, 0), ST_EPARSE },
		{ "ph_cname no NUL", 23, 1, INS(2, 'x', 'y'), ST_EPARSE },
		{ "fetch past last", 25, 1, INS(AN_FETCH_COUNT),
		  ST_EPARSE },
		{ "http 65536", 26, 1, INS(0x80, 0x80, 0x04), ST_EPARSE },
		{ "have_body, no hash", 29, 1, INS(1), ST_EPARSE },
		{ "body_len 2^32", 30, 1, INS(0x80, 0x80, 0x80, 0x80, 0x10),
		  ST_EPARSE },
		{ "mode past last", 35, 1, INS(AN_MODE_NONE + 1), ST_EPARSE },
		{ "patterns over cap", 39, 2, INS(33, 33), ST_EPARSE },
		{ "verdict past last", 42, 1, INS(AN_V_COUNT), ST_EPARSE },
		{ "findings over cap", 46, 2, INS(49, 49), ST_EPARSE },
		{ "code NULL", 46, 2, INS(1, 1, 0, 0, 0), ST_EPARSE },
		{ "code \"\"", 46, 2, INS(1, 1, 1, 0, 0, 0), ST_EPARSE },
		{ "code control", 46, 2, INS(1, 1, 3, 'a', 0x01, 0, 0, 0),
		  ST_EPARSE },
		{ "code non-ASCII", 46, 2, INS(1, 1, 2, 0x80, 0, 0, 0),
		  ST_EPARSE },
		{ "severity 3", 46, 2, INS(1, 1, 2, 'a', 0, 3, 0), ST_EPARSE },
		{ "no detail", 46, 2, INS(1, 1, 2, 'a', 0, 0), ST_EPARSE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct mutation m = rows[i];
		struct an_record d, d2;
		size_t len, len2;
		uint8_t *buf = mutate(golden, sizeof(golden), &m, &len);
		int ret = an_record_decode(buf, len, &d);

		/* Version 1: the same rules; what decodes encodes again
		 * as the same record (in version 2 bytes). */
		if (ret != m.expect)
			fail_msg("%s (v1): got %d, want %d", m.what, ret,
				 m.expect);
		if (ret == ST_OK) {
			len2 = encode_ok(&d, enc2);
			assert_int_equal(an_record_decode(enc2, len2, &d2),
					 ST_OK);
			assert_record_same(&d, &d2);
		} else {
			assert_record_empty(&d);
		}
		free(buf);
		/* Version 2: the offsets after cert_issuer move by the two
		 * bytes of the empty cert_names array. */
		if (m.off > 32)
			m.off += 2;
		buf = mutate(golden_v2, sizeof(golden_v2), &m, &len);
		ret = an_record_decode(buf, len, &d);
		if (ret != m.expect)
			fail_msg("%s (v2): got %d, want %d", m.what, ret,
				 m.expect);
		if (ret == ST_OK) {
			len2 = encode_ok(&d, enc2);
			assert_int_equal(len2, len + 1); /* + attempts */
			assert_int_equal(an_record_decode(enc2, len2, &d2),
					 ST_OK);
			assert_record_same(&d, &d2);
		} else {
			assert_record_empty(&d);
		}
		free(buf);
		/* Version 3: the same offsets, attempts at the end. */
		buf = mutate(golden_v3, sizeof(golden_v3), &m, &len);
		ret = an_record_decode(buf, len, &d);
		if (ret != m.expect)
			fail_msg("%s (v3): got %d, want %d", m.what, ret,
				 m.expect);
		if (ret == ST_OK)
			assert_canonical(buf, len, &d);
		else
			assert_record_empty(&d);
		free(buf);
	}
}

/* ---- encoder errors ----------------------------------------------------- */

/* Every cap below the encoding's length is ST_ESPACE, the length is enough. */
static void test_espace(void **state)
{
	struct an_record r;
	size_t len, len2 = 0;

	(void)state;
	fill_medium(&r);
	len = encode_ok(&r, enc);
	for (size_t cap = 0; cap < len; cap++) {
		uint8_t *buf = malloc(cap > 0 ? cap : 1);

		assert_non_null(buf);
		assert_int_equal(an_record_encode(&r, buf, cap, &len2),
				 ST_ESPACE);
		free(buf);
	}
	assert_int_equal(an_record_encode(&r, enc2, len, &len2), ST_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(enc, enc2, len);
}

static void test_einval(void **state)
{
	struct an_record r, d;
	size_t len;

	(void)state;
	fill_medium(&r);
	assert_int_equal(an_record_encode(NULL, enc, sizeof(enc), &len),
			 ST_EINVAL);
	assert_int_equal(an_record_encode(&r, NULL, sizeof(enc), &len),
			 ST_EINVAL);
	assert_int_equal(an_record_encode(&r, enc, sizeof(enc), NULL),
			 ST_EINVAL);
	assert_int_equal(an_record_decode(NULL, 10, &d), ST_EINVAL);
	assert_record_empty(&d);
	assert_int_equal(an_record_decode(golden, sizeof(golden), NULL),
			 ST_EINVAL);

#define BAD(stmt)                                                          \
	do {                                                               \
		fill_medium(&r);                                           \
		stmt;                                                      \
		assert_int_equal(an_record_encode(&r, enc, sizeof(enc), &len), \
				 ST_EINVAL);                               \
	} while (0)
	BAD(r.domain = NULL);
	BAD(r.n_sts_txt = r.n_sts_txt_total = AN_RECORD_TXT_MAX + 1);
	BAD(r.n_tlsrpt_txt_total = 1);
	BAD(r.n_mx = r.n_mx_total = AN_RECORD_MX_MAX + 1);
	BAD(r.n_mx_total = 0);
	BAD(r.n_patterns = r.n_patterns_total = AN_RECORD_PATTERNS_MAX + 1);
	BAD(r.n_findings = r.n_findings_total = AN_FINDINGS_MAX + 1);
	BAD(r.n_findings_total = 2);
	BAD(r.sts_txt[1].data = NULL);
	BAD(r.sts_dns = AN_DNS_OTHER + 1);
	BAD(r.mx_dns = 255);
	BAD(r.tlsrpt_dns = AN_DNS_OTHER + 1);
	BAD(r.fetch_status = AN_FETCH_COUNT);
	BAD(r.mode = AN_MODE_NONE + 1);
	BAD(r.verdict = AN_V_COUNT);
	BAD(r.findings[0].severity = AN_SEV_ERROR + 1);
	BAD(r.findings[1].code = NULL);
	BAD(r.findings[1].code = "");
	BAD(r.findings[1].code = "tab\there");
	BAD(r.findings[1].code = "caf\xc3\xa9");
#undef BAD
	/* The same values past the counts are not looked at. */
	fill_medium(&r);
	r.findings[5].code = NULL;
	r.sts_txt[5].data = NULL;
	r.sts_txt[5].len = 3;
	(void)encode_ok(&r, enc);
}

/* ---- the probe record --------------------------------------------------- */

static const uint8_t probe_golden[] = {
	'S', 'P', 1,
	5, 'm', 'x', '.', 'b', 0, /* host "mx.b" */
	0, 0, 0, 0,               /* time, status, addr, tls_version */
	1,                        /* verify_error -1 (zigzag) */
	0, 0, 0, 0, 0, 0, 0,      /* name_match, cert_not_after, issuer,
				   * tlsa, tlsa_secure, detail, duration */
};

static void test_probe_roundtrip(void **state)
{
	struct an_probe_record p, d;
	size_t len;

	(void)state;
	fill_probe(&p);
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_OK);
	assert_int_equal(an_probe_record_decode(enc, len, &d), ST_OK);
	assert_probe_same(&p, &d);
	assert_non_null(d.addr);
	assert_null(d.cert_issuer);
	assert_true((const uint8_t *)d.host > enc &&
		    (const uint8_t *)d.host < enc + len);
	/* A probe record is not a domain record, and the reverse. */
	assert_int_equal(an_record_version(enc, len), -1);
	assert_int_equal(an_probe_record_decode(golden, sizeof(golden), &d),
			 ST_EPARSE);

	an_probe_record_init(&p);
	assert_int_equal(p.verify_error, -1);
	p.host = "mx.b";
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_OK);
	assert_int_equal(len, sizeof(probe_golden));
	assert_memory_equal(enc, probe_golden, sizeof(probe_golden));
	assert_int_equal(an_probe_record_decode(probe_golden,
						sizeof(probe_golden), &d),
			 ST_OK);
	assert_probe_same(&p, &d);
}

static void test_probe_malformed(void **state)
{
	/* Offsets: 3 host, 9 time, 10 status, 11 addr, 12 tls_version,
	 * 13 verify_error, 14 name_match, 17 tlsa, 20 duration, 21 end. */
	const struct mutation rows[] = {
		{ "as is", 0, 0, NONE, ST_OK },
		{ "status last", 10, 1, INS(AN_PROBE_NAME_MISMATCH), ST_OK },
		{ "verify INT32_MIN", 13, 1, INS(0xff, 0xff, 0xff, 0xff, 0x0f),
		  ST_OK },
		{ "addr \"\"", 11, 1, INS(1, 0), ST_OK },
		{ "trailing byte", 21, 0, INS(0), ST_EPARSE },
		{ "version 2", 2, 1, INS(2), ST_ENOTSUP },
		{ "magic SR", 1, 1, INS('R'), ST_EPARSE },
		{ "host NULL", 3, 6, INS(0), ST_EPARSE },
		{ "status past last", 10, 1, INS(AN_PROBE_NAME_MISMATCH + 1),
		  ST_EPARSE },
		{ "tls_version 65536", 12, 1, INS(0x80, 0x80, 0x04), ST_EPARSE },
		{ "verify 2^31", 13, 1, INS(0x80, 0x80, 0x80, 0x80, 0x10),
		  ST_EPARSE },
		{ "bool 2", 17, 1, INS(2), ST_EPARSE },
		{ "duration 2^32", 20, 1, INS(0x80, 0x80, 0x80, 0x80, 0x10),
		  ST_EPARSE },
	};
	struct an_probe_record p, d, z;
	uint8_t *buf;
	size_t len, len2;

	(void)state;
	an_probe_record_init(&z);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ret;

		buf = mutate(probe_golden, sizeof(probe_golden), &rows[i], &len);
		ret = an_probe_record_decode(buf, len, &d);
		if (ret != rows[i].expect)
			fail_msg("%s: got %d, want %d", rows[i].what, ret,
				 rows[i].expect);
		if (ret != ST_OK)
			assert_memory_equal(&d, &z, sizeof(z));
		free(buf);
	}

	/* Every prefix, every cap, every single-byte corruption. */
	fill_probe(&p);
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_OK);
	for (size_t n = 0; n < len; n++) {
		buf = exact_copy(enc, n);
		assert_int_equal(an_probe_record_decode(buf, n, &d), ST_EPARSE);
		assert_int_equal(an_probe_record_encode(&p, buf, n, &len2),
				 ST_ESPACE);
		free(buf);
	}
	buf = exact_copy(enc, len);
	for (size_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < 256; v++) {
			int ret;

			buf[i] = (uint8_t)v;
			ret = an_probe_record_decode(buf, len, &d);
			if (ret != ST_OK) {
				assert_int_equal(ret, i == 2 && v > AN_PROBE_RECORD_VERSION ?
						 ST_ENOTSUP : ST_EPARSE);
				continue;
			}
			assert_int_equal(an_probe_record_encode(&d, enc2,
								sizeof(enc2),
								&len2),
					 ST_OK);
			assert_int_equal(len2, len);
			assert_memory_equal(enc2, buf, len);
		}
		buf[i] = enc[i];
	}
	free(buf);

	p.host = NULL;
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_EINVAL);
	fill_probe(&p);
	p.status = AN_PROBE_NAME_MISMATCH + 1;
	assert_int_equal(an_probe_record_encode(&p, enc, sizeof(enc), &len),
			 ST_EINVAL);
	assert_int_equal(an_probe_record_decode(NULL, 0, &d), ST_EINVAL);
	assert_int_equal(an_probe_record_decode(enc, 0, NULL), ST_EINVAL);
}

/* The record stores the fetch status as its number: the rows of
 * ST_FETCH_OUTCOMES (st_outcome.h) that generate enum an_fetch_status must
 * keep every released number and name.  A row inserted or moved in the
 * table fails here; a row appended does not, and gets a name of its own. */
static void test_fetch_status_numbers(void **state)
{
	static const struct {
		enum an_fetch_status st;
		unsigned stored;
		const char *name;
	} rows[] = {
		{ AN_FETCH_NOT_ATTEMPTED, 0, "not-attempted" },
		{ AN_FETCH_DONE, 1, "done" },
		{ AN_FETCH_NO_ADDRESS, 2, "no-address" },
		{ AN_FETCH_DANGLING_CNAME, 3, "dangling-cname" },
		{ AN_FETCH_DNS_FAILURE, 4, "dns-failure" },
		{ AN_FETCH_NON_PUBLIC, 5, "non-public" },
		{ AN_FETCH_CONNECT_REFUSED, 6, "connect-refused" },
		{ AN_FETCH_CONNECT_TIMEOUT, 7, "connect-timeout" },
		{ AN_FETCH_TLS_HANDSHAKE, 8, "tls-handshake" },
		{ AN_FETCH_CERT_EXPIRED, 9, "cert-expired" },
		{ AN_FETCH_CERT_NOT_YET_VALID, 10, "cert-not-yet-valid" },
		{ AN_FETCH_CERT_NAME_MISMATCH, 11, "cert-name-mismatch" },
		{ AN_FETCH_CERT_SELF_SIGNED, 12, "cert-self-signed" },
		{ AN_FETCH_CERT_UNTRUSTED, 13, "cert-untrusted" },
		{ AN_FETCH_TIMEOUT, 14, "timeout" },
		{ AN_FETCH_TOO_LARGE, 15, "too-large" },
		{ AN_FETCH_TRANSFER, 16, "transfer" },
	};
	struct an_record r, d;
	size_t len;

	(void)state;
	assert_true(AN_FETCH_COUNT >= sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal((unsigned)rows[i].st, rows[i].stored);
		assert_string_equal(an_fetch_status_name(rows[i].st),
				    rows[i].name);
		/* ... and the stored number decodes to the same status. */
		an_record_init(&r);
		r.domain = "example.com";
		r.fetch_status = (uint8_t)rows[i].stored;
		assert_int_equal(an_record_encode(&r, enc, sizeof(enc), &len),
				 ST_OK);
		assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
		assert_int_equal(d.fetch_status, rows[i].st);
	}
	for (unsigned a = 0; a < AN_FETCH_COUNT; a++) {
		assert_non_null(an_fetch_status_name(a));
		assert_string_not_equal(an_fetch_status_name(a), "unknown");
		for (unsigned b = a + 1; b < AN_FETCH_COUNT; b++)
			assert_string_not_equal(an_fetch_status_name(a),
						an_fetch_status_name(b));
	}
	assert_string_equal(an_fetch_status_name(AN_FETCH_COUNT), "unknown");
}

/* A version 1 record, as stores written before certificate names hold
 * them, with the fields around the new array set: it decodes field for
 * field, with no certificate names, and encodes again as version 2. */
static void test_decode_v1(void **state)
{
	static const uint8_t v1[] = {
		'S', 'R', 1,
		4, 'a', '.', 'b', 0,    /* domain */
		0, 0, 0,                /* rank, time, duration_ms */
		1, 1, 1, 0, 0, 0,       /* DNS noerror x3, 3 bools */
		0, 0, 0, 0, 0, 0,       /* sts_txt, mx, tlsrpt_txt */
		0, 0,                   /* ph_cname, ph_addr */
		AN_FETCH_DONE,          /* fetch */
		0xc8, 0x01,             /* http_status 200 */
		0, 0,                   /* location, content_type */
		0, 0,                   /* have_body, body_len */
		0xc8, 0x01,             /* cert_not_after 100 (zigzag 200) */
		3, 'C', 'A', 0,         /* cert_issuer "CA" */
		7,                      /* fetch_ms: right after the issuer */
		0, 0, 0, 0, 0, 0, 0,    /* sts_id ... patterns */
		0,                      /* tlsrpt_valid */
		0, 0, 0, 0, 0, 0,       /* verdict ... findings */
	};
	struct an_record d, d2;
	size_t len;

	(void)state;
	assert_int_equal(an_record_version(v1, sizeof(v1)), 1);
	assert_int_equal(an_record_decode(v1, sizeof(v1), &d), ST_OK);
	assert_string_equal(d.domain, "a.b");
	assert_int_equal(d.fetch_status, AN_FETCH_DONE);
	assert_int_equal(d.http_status, 200);
	assert_true(d.cert_not_after == 100);
	assert_string_equal(d.cert_issuer, "CA");
	assert_int_equal(d.n_cert_names, 0);
	assert_int_equal(d.n_cert_names_total, 0);
	assert_int_equal(d.fetch_ms, 7);
	len = encode_ok(&d, enc);
	assert_int_equal(an_record_version(enc, len), AN_RECORD_VERSION);
	assert_int_equal(len, sizeof(v1) + 3); /* the empty array, attempts */
	assert_int_equal(an_record_decode(enc, len, &d2), ST_OK);
	assert_record_same(&d, &d2);
	/* Read as version 2, the same bytes lack the array: malformed. */
	memcpy(enc, v1, sizeof(v1));
	enc[2] = 2;
	assert_int_equal(an_record_decode(enc, sizeof(v1), &d2), ST_EPARSE);
}

/* attempts (version 3): a version 2 record, as stores written before the
 * field hold it, decodes with 0 ("not recorded") and encodes again as
 * version 3 with it; a version 3 record keeps its count; version 3 bytes
 * without the field (a version 2 body labelled 3) are malformed, and so
 * is a count over UINT_MAX. */
static void test_attempts(void **state)
{
	uint8_t buf[sizeof(golden_v3) + 8];
	struct an_record r, d;
	size_t len;

	(void)state;
	assert_int_equal(an_record_decode(golden_v2, sizeof(golden_v2), &d),
			 ST_OK);
	assert_int_equal(d.attempts, 0);
	len = encode_ok(&d, enc);
	assert_int_equal(len, sizeof(golden_v3));
	assert_memory_equal(enc, golden_v3, len);

	an_record_init(&r);
	r.domain = "a.b";
	r.attempts = 3;
	len = encode_ok(&r, enc);
	assert_int_equal(len, sizeof(golden_v3));
	assert_int_equal(enc[len - 1], 3);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_int_equal(d.attempts, 3);
	assert_canonical(enc, len, &d);

	memcpy(buf, golden_v2, sizeof(golden_v2));
	buf[2] = 3;
	assert_int_equal(an_record_decode(buf, sizeof(golden_v2), &d),
			 ST_EPARSE);
	assert_record_empty(&d);
	/* 2^32 as a varint: over UINT_MAX. */
	memcpy(buf, golden_v3, sizeof(golden_v3) - 1);
	memcpy(buf + sizeof(golden_v3) - 1,
	       (const uint8_t[]){ 0x80, 0x80, 0x80, 0x80, 0x10 }, 5);
	assert_int_equal(an_record_decode(buf, sizeof(golden_v3) + 4, &d),
			 ST_EPARSE);
}

/* Certificate names (version 2): kept in order up to
 * AN_RECORD_CERT_NAMES_MAX with the total counted; the encoder refuses
 * what the decoder would (a NULL name, a count over its cap or total),
 * and the decoder refuses such bytes. */
static void test_cert_names(void **state)
{
	static const char *const names[] = { "mta-sts.example.com",
					      "*.example.com", "example.com" };
	/* The array ["x"] of 2 names: count, total, "x". */
	static const uint8_t one[] = { 1, 2, 2, 'x', 0 };
	struct an_record r, d;
	uint8_t buf[sizeof(golden_v2) + 16];
	size_t len;

	(void)state;
	an_record_init(&r);
	r.domain = "example.com";
	for (size_t i = 0; i < 3; i++)
		r.cert_names[i] = names[i];
	r.n_cert_names = 3;
	r.n_cert_names_total = 40;
	len = encode_ok(&r, enc);
	assert_int_equal(an_record_decode(enc, len, &d), ST_OK);
	assert_int_equal(d.n_cert_names, 3);
	assert_int_equal(d.n_cert_names_total, 40);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(d.cert_names[i], names[i]);

	r.cert_names[1] = NULL;
	assert_int_equal(an_record_encode(&r, enc, sizeof(enc), &len),
			 ST_EINVAL);
	r.cert_names[1] = names[1];
	r.n_cert_names_total = 2; /* fewer than kept */
	assert_int_equal(an_record_encode(&r, enc, sizeof(enc), &len),
			 ST_EINVAL);
	r.n_cert_names = AN_RECORD_CERT_NAMES_MAX + 1;
	r.n_cert_names_total = 100;
	assert_int_equal(an_record_encode(&r, enc, sizeof(enc), &len),
			 ST_EINVAL);

	/* Bytes: golden_v2 with the array replaced (offset 33: count, 34: total). */
	assert_int_equal(golden_v2[33], 0);
	memcpy(buf, golden_v2, 33);
	memcpy(buf + 33, one, sizeof(one));
	memcpy(buf + 33 + sizeof(one), golden_v2 + 35,
	       sizeof(golden_v2) - 35);
	len = sizeof(golden_v2) - 2 + sizeof(one);
	assert_int_equal(an_record_decode(buf, len, &d), ST_OK);
	assert_int_equal(d.n_cert_names, 1);
	assert_int_equal(d.n_cert_names_total, 2);
	assert_string_equal(d.cert_names[0], "x");
	buf[33] = 3; /* count over total */
	assert_int_equal(an_record_decode(buf, len, &d), ST_EPARSE);
	buf[33] = AN_RECORD_CERT_NAMES_MAX + 1; /* count over cap */
	buf[34] = 0x7f;
	assert_int_equal(an_record_decode(buf, len, &d), ST_EPARSE);
	buf[33] = 1;
	buf[34] = 2;
	buf[35] = 0; /* a NULL name */
	assert_int_equal(an_record_decode(buf, len, &d), ST_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_full),
		cmocka_unit_test(test_roundtrip_minimal),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_worst_case),
		cmocka_unit_test(test_txt_cut),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_espace),
		cmocka_unit_test(test_einval),
		cmocka_unit_test(test_probe_roundtrip),
		cmocka_unit_test(test_probe_malformed),
		cmocka_unit_test(test_fetch_status_numbers),
		cmocka_unit_test(test_decode_v1),
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_cert_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
