/*
 * fuzz_record.c - libFuzzer target for the record codecs (an_record.h).
 *
 * The first byte chooses the codec (even: domain record, odd: probe record),
 * the rest is the encoding.  Invariants checked when a decode succeeds:
 * every count within its cap and total, every string and TXT inside the
 * input; encoding the record again gives back the input bytes exactly (the
 * encoding is canonical), and decoding those gives an equal record, field
 * by field.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "an_record.h"
#include "st_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t reenc[AN_RECORD_ENCODED_MAX];

#define CHECK(cond)                      \
	do {                             \
		if (!(cond))             \
			__builtin_trap(); \
	} while (0)

static bool str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool bytes_same(const struct an_bytes *a, const struct an_bytes *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* A decoded string lies inside the input, NUL included. */
static void check_inside(const char *s, const uint8_t *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	if (s == NULL)
		return;
	CHECK(p >= buf && p < buf + len);
	CHECK(memchr(p, '\0', (size_t)(buf + len - p)) != NULL);
}

static void check_txt(const struct an_bytes *txt, size_t n, size_t total,
		      const uint8_t *buf, size_t len)
{
	CHECK(n <= AN_RECORD_TXT_MAX && n <= total);
	for (size_t i = 0; i < n; i++) {
		CHECK(txt[i].len <= AN_RECORD_TXT_LEN_MAX);
		CHECK(txt[i].data >= buf &&
		      txt[i].len <= (size_t)(buf + len - txt[i].data));
	}
}

static void check_record(const struct an_record *r, const uint8_t *buf,
			 size_t len)
{
	CHECK(r->domain != NULL);
	check_inside(r->domain, buf, len);
	check_txt(r->sts_txt, r->n_sts_txt, r->n_sts_txt_total, buf, len);
	check_txt(r->tlsrpt_txt, r->n_tlsrpt_txt, r->n_tlsrpt_txt_total, buf,
		  len);
	CHECK(r->n_mx <= AN_RECORD_MX_MAX && r->n_mx <= r->n_mx_total);
	for (size_t i = 0; i < r->n_mx; i++)
		check_inside(r->mx[i].name, buf, len);
	CHECK(r->n_patterns <= AN_RECORD_PATTERNS_MAX &&
	      r->n_patterns <= r->n_patterns_total);
	for (size_t i = 0; i < r->n_patterns; i++)
		check_inside(r->patterns[i], buf, len);
	CHECK(r->n_findings <= AN_FINDINGS_MAX &&
	      r->n_findings <= r->n_findings_total);
	for (size_t i = 0; i < r->n_findings; i++) {
		CHECK(r->findings[i].code != NULL &&
		      r->findings[i].code[0] != '\0');
		check_inside(r->findings[i].code, buf, len);
		check_inside(r->findings[i].detail, buf, len);
		CHECK(r->findings[i].severity <= AN_SEV_ERROR);
	}
	CHECK(r->n_cert_names <= AN_RECORD_CERT_NAMES_MAX &&
	      r->n_cert_names <= r->n_cert_names_total);
	for (size_t i = 0; i < r->n_cert_names; i++) {
		CHECK(r->cert_names[i] != NULL);
		check_inside(r->cert_names[i], buf, len);
	}
	CHECK(r->verdict < AN_V_COUNT);
}

static bool dns_same(const struct an_record *a, const struct an_record *b)
{
	bool same = str_same(a->domain, b->domain) && a->rank == b->rank &&
		    a->time == b->time && a->duration_ms == b->duration_ms &&
		    a->sts_dns == b->sts_dns && a->mx_dns == b->mx_dns &&
		    a->tlsrpt_dns == b->tlsrpt_dns &&
		    a->sts_cname == b->sts_cname && a->sts_ad == b->sts_ad &&
		    a->mx_ad == b->mx_ad && a->n_sts_txt == b->n_sts_txt &&
		    a->n_sts_txt_total == b->n_sts_txt_total &&
		    a->n_mx == b->n_mx && a->n_mx_total == b->n_mx_total &&
		    a->n_tlsrpt_txt == b->n_tlsrpt_txt &&
		    a->n_tlsrpt_txt_total == b->n_tlsrpt_txt_total;

	for (size_t i = 0; same && i < a->n_sts_txt; i++)
		same = bytes_same(&a->sts_txt[i], &b->sts_txt[i]);
	for (size_t i = 0; same && i < a->n_mx; i++)
		same = str_same(a->mx[i].name, b->mx[i].name) &&
		       a->mx[i].pref == b->mx[i].pref &&
		       a->mx[i].covered == b->mx[i].covered;
	for (size_t i = 0; same && i < a->n_tlsrpt_txt; i++)
		same = bytes_same(&a->tlsrpt_txt[i], &b->tlsrpt_txt[i]);
	return same;
}

static bool record_same(const struct an_record *a, const struct an_record *b)
{
	bool same = dns_same(a, b) && str_same(a->ph_cname, b->ph_cname) &&
		    str_same(a->ph_addr, b->ph_addr) &&
		    a->fetch_status == b->fetch_status &&
		    a->http_status == b->http_status &&
		    str_same(a->location, b->location) &&
		    str_same(a->content_type, b->content_type) &&
		    a->have_body == b->have_body &&
		    a->body_len == b->body_len &&
		    memcmp(a->body_hash, b->body_hash, AN_RECORD_HASH_LEN) == 0 &&
		    a->cert_not_after == b->cert_not_after &&
		    str_same(a->cert_issuer, b->cert_issuer) &&
		    a->fetch_ms == b->fetch_ms && str_same(a->sts_id, b->sts_id) &&
		    a->mode == b->mode && a->policy_usable == b->policy_usable &&
		    a->have_max_age == b->have_max_age &&
		    a->max_age == b->max_age &&
		    a->n_patterns == b->n_patterns &&
		    a->n_patterns_total == b->n_patterns_total &&
		    a->tlsrpt_valid == b->tlsrpt_valid &&
		    a->verdict == b->verdict &&
		    a->n_mx_judged == b->n_mx_judged &&
		    a->n_mx_covered == b->n_mx_covered &&
		    a->n_mx_usable == b->n_mx_usable &&
		    a->n_findings == b->n_findings &&
		    a->n_findings_total == b->n_findings_total &&
		    a->n_cert_names == b->n_cert_names &&
		    a->n_cert_names_total == b->n_cert_names_total &&
		    a->attempts == b->attempts;

	for (size_t i = 0; same && i < a->n_cert_names; i++)
		same = str_same(a->cert_names[i], b->cert_names[i]);
	for (size_t i = 0; same && i < a->n_patterns; i++)
		same = str_same(a->patterns[i], b->patterns[i]);
	for (size_t i = 0; same && i < a->n_findings; i++)
		same = str_same(a->findings[i].code, b->findings[i].code) &&
		       a->findings[i].severity == b->findings[i].severity &&
		       str_same(a->findings[i].detail, b->findings[i].detail);
	return same;
}

static bool probe_same(const struct an_probe_record *a,
		       const struct an_probe_record *b)
{
	return str_same(a->host, b->host) && a->time == b->time &&
	       a->status == b->status && str_same(a->addr, b->addr) &&
	       a->tls_version == b->tls_version &&
	       a->verify_error == b->verify_error &&
	       a->name_match == b->name_match &&
	       a->cert_not_after == b->cert_not_after &&
	       str_same(a->cert_issuer, b->cert_issuer) &&
	       a->tlsa == b->tlsa && a->tlsa_secure == b->tlsa_secure &&
	       str_same(a->detail, b->detail) &&
	       a->duration_ms == b->duration_ms;
}

static void fuzz_record(const uint8_t *data, size_t size)
{
	static struct an_record r, r2;
	size_t len = 0;
	int ret;

	ret = an_record_decode(data, size, &r);
	CHECK(ret == ST_OK || ret == ST_EPARSE || ret == ST_ENOTSUP);
	if (ret != ST_OK) {
		CHECK(r.domain == NULL && r.n_findings == 0);
		return;
	}
	check_record(&r, data, size);
	CHECK(an_record_version(data, size) >= 1 &&
	      an_record_version(data, size) <= AN_RECORD_VERSION);
	CHECK(an_record_encode(&r, reenc, sizeof(reenc), &len) == ST_OK);
	/* One encoding per record: the same bytes in the current version;
	 * an older record comes back as the same record in the current
	 * version's bytes (checked by the decode below). */
	if (an_record_version(data, size) == AN_RECORD_VERSION)
		CHECK(len == size && memcmp(reenc, data, size) == 0);
	else
		CHECK(an_record_version(reenc, len) == AN_RECORD_VERSION);
	CHECK(an_record_decode(reenc, len, &r2) == ST_OK);
	CHECK(record_same(&r, &r2));
}

static void fuzz_probe(const uint8_t *data, size_t size)
{
	struct an_probe_record p, p2;
	size_t len = 0;
	int ret;

	ret = an_probe_record_decode(data, size, &p);
	CHECK(ret == ST_OK || ret == ST_EPARSE || ret == ST_ENOTSUP);
	if (ret != ST_OK) {
		CHECK(p.host == NULL && p.verify_error == -1);
		return;
	}
	CHECK(p.host != NULL);
	check_inside(p.host, data, size);
	check_inside(p.addr, data, size);
	check_inside(p.cert_issuer, data, size);
	check_inside(p.detail, data, size);
	CHECK(an_probe_record_encode(&p, reenc, sizeof(reenc), &len) == ST_OK);
	CHECK(len == size && memcmp(reenc, data, size) == 0);
	CHECK(an_probe_record_decode(reenc, len, &p2) == ST_OK);
	CHECK(probe_same(&p, &p2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_probe(data + 1, size - 1);
	else
		fuzz_record(data + 1, size - 1);
	return 0;
}
