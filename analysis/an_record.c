#include "an_record.h"

#include <limits.h>
#include <string.h>

#include "st_error.h"

/* The last value of each enum stored as a uint8_t (keep in step with
 * an_classify.h, an_policy.h and an_findings.h). */
#define DNS_STATUS_LAST AN_DNS_OTHER
#define FETCH_STATUS_LAST (AN_FETCH_COUNT - 1)
#define MODE_LAST AN_MODE_NONE
#define PROBE_STATUS_LAST AN_PROBE_NAME_MISMATCH
#define SEVERITY_LAST AN_SEV_ERROR

#define HEADER_LEN 3 /* magic (2) + version */

/*
 * The largest encoding, to prove AN_RECORD_ENCODED_MAX suffices: varints
 * take at most 10 bytes (VI), a string its varint (2 bytes up to 16383),
 * its bytes and a NUL (STR), a TXT its varint and its bytes.
 */
#define VI 10
#define STR (2 + AN_RECORD_STR_LEN_MAX + 1)
#define TXT_ARRAY (2 * VI + AN_RECORD_TXT_MAX * (2 + AN_RECORD_TXT_LEN_MAX))
#define WORST_CASE                                                         \
	(HEADER_LEN + STR + 3 * VI + 6 * VI + 2 * TXT_ARRAY +               \
	 2 * VI + AN_RECORD_MX_MAX * (STR + 2 * VI) +                      \
	 5 * STR + 7 * VI + AN_RECORD_HASH_LEN +                            \
	 2 * VI + AN_RECORD_CERT_NAMES_MAX * STR +                         \
	 STR + 4 * VI + 2 * VI + AN_RECORD_PATTERNS_MAX * STR +             \
	 5 * VI + 2 * VI + AN_FINDINGS_MAX * (2 * STR + VI))
_Static_assert(WORST_CASE <= AN_RECORD_ENCODED_MAX,
	       "AN_RECORD_ENCODED_MAX no longer bounds every encoding");
_Static_assert(AN_RECORD_STR_LEN_MAX + 1 < 16384 &&
	       AN_RECORD_TXT_LEN_MAX < 16384, "length varints over 2 bytes");

/* ---- writing ---------------------------------------------------------- */

/* An output cursor: a write past cap sets the sticky ST_ESPACE. */
struct wr {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

static void wr_raw(struct wr *w, const void *p, size_t n)
{
	if (w->err != ST_OK)
		return;
	if (w->cap - w->len < n) {
		w->err = ST_ESPACE;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void wr_uint(struct wr *w, uint64_t v)
{
	uint8_t tmp[VI];
	size_t n = 0;

	/* With room for the longest varint, straight into the buffer: a
	 * record is mostly small integers, and the copy through tmp was
	 * most of the encoder's cost.  The same bytes either way. */
	if (w->err == ST_OK && w->cap - w->len >= VI) {
		uint8_t *p = w->buf + w->len;

		while (v >= 0x80) {
			p[n++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		p[n++] = (uint8_t)v;
		w->len += n;
		return;
	}
	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			tmp[n] |= 0x80;
		n++;
	} while (v != 0);
	wr_raw(w, tmp, n);
}

/* Zigzag: small magnitudes of either sign stay short. */
static void wr_sint(struct wr *w, int64_t v)
{
	uint64_t u = (uint64_t)v << 1;

	wr_uint(w, v < 0 ? ~u : u);
}

static void wr_bool(struct wr *w, bool b)
{
	wr_uint(w, b ? 1 : 0);
}

/* length + 1 (0: NULL), the bytes, a NUL; cut at AN_RECORD_STR_LEN_MAX. */
static void wr_str(struct wr *w, const char *s)
{
	size_t n;

	if (s == NULL) {
		wr_uint(w, 0);
		return;
	}
	n = strnlen(s, AN_RECORD_STR_LEN_MAX);
	wr_uint(w, (uint64_t)n + 1);
	wr_raw(w, s, n);
	wr_raw(w, "", 1);
}

static void wr_txt(struct wr *w, size_t n, size_t total,
		   const struct an_bytes *txt)
{
	wr_uint(w, n);
	wr_uint(w, total);
	for (size_t i = 0; i < n; i++) {
		size_t len = txt[i].len < AN_RECORD_TXT_LEN_MAX ?
				     txt[i].len : AN_RECORD_TXT_LEN_MAX;

		wr_uint(w, len);
		wr_raw(w, txt[i].data, len);
	}
}

static void wr_header(struct wr *w, const char *magic, uint8_t version)
{
	wr_raw(w, magic, 2);
	wr_raw(w, &version, 1);
}

/* ---- reading ---------------------------------------------------------- */

/* An input cursor: any malformation sets the sticky ST_EPARSE, after which
 * every read returns zero/NULL and consumes nothing. */
struct rd {
	const uint8_t *p, *end;
	int err;
};

static void rd_fail(struct rd *c)
{
	c->err = ST_EPARSE;
}

/* A minimal LEB128 varint of at most 64 bits. */
static uint64_t rd_varint(struct rd *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && c->err == ST_OK; shift += 7) {
		uint8_t b;

		if (c->p >= c->end)
			break;
		b = *c->p++;
		if (shift == 63 && b > 1)
			break; /* past bit 63, or an 11th byte */
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			if (b == 0 && shift > 0)
				break; /* overlong: a trailing zero group */
			return v;
		}
	}
	rd_fail(c);
	return 0;
}

static uint64_t rd_uint(struct rd *c, uint64_t max)
{
	uint64_t v = rd_varint(c);

	if (v > max) {
		rd_fail(c);
		return 0;
	}
	return v;
}

static int64_t rd_sint(struct rd *c, int64_t min, int64_t max)
{
	uint64_t u = rd_varint(c);
	int64_t v = (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);

	if (v < min || v > max) {
		rd_fail(c);
		return 0;
	}
	return v;
}

static bool rd_bool(struct rd *c)
{
	return rd_uint(c, 1) == 1;
}

static bool rd_avail(struct rd *c, uint64_t n)
{
	if (c->err != ST_OK || (uint64_t)(c->end - c->p) < n) {
		rd_fail(c);
		return false;
	}
	return true;
}

/* A string pointing into the input: NUL-terminated, no NUL inside, at most
 * AN_RECORD_STR_LEN_MAX bytes.  NULL if absent (refused when required). */
static const char *rd_str(struct rd *c, bool required)
{
	uint64_t n = rd_uint(c, (uint64_t)AN_RECORD_STR_LEN_MAX + 1);
	const char *s;

	if (c->err != ST_OK || n == 0) {
		if (required)
			rd_fail(c);
		return NULL;
	}
	n--;
	if (!rd_avail(c, n + 1))
		return NULL;
	s = (const char *)c->p;
	if (c->p[n] != '\0' || memchr(s, '\0', (size_t)n) != NULL) {
		rd_fail(c);
		return NULL;
	}
	c->p += n + 1;
	return s;
}

/* An array count and its total: count <= cap, count <= total. */
static void rd_count(struct rd *c, size_t cap, size_t *n, size_t *total)
{
	*n = (size_t)rd_uint(c, cap);
	*total = (size_t)rd_uint(c, SIZE_MAX);
	if (*n > *total) {
		rd_fail(c);
		*n = 0;
	}
}

static void rd_txt(struct rd *c, size_t *n, size_t *total,
		   struct an_bytes *txt)
{
	rd_count(c, AN_RECORD_TXT_MAX, n, total);
	for (size_t i = 0; i < *n; i++) {
		uint64_t len = rd_uint(c, AN_RECORD_TXT_LEN_MAX);

		if (!rd_avail(c, len))
			return;
		txt[i].data = c->p;
		txt[i].len = (size_t)len;
		c->p += len;
	}
}

static void rd_raw(struct rd *c, uint8_t *out, size_t n)
{
	if (!rd_avail(c, n))
		return;
	memcpy(out, c->p, n);
	c->p += n;
}

/* Magic and version; the fields start at buf + HEADER_LEN.  A decoder
 * reads every version up to its own: 0 never existed. */
static int rd_header(const uint8_t *buf, size_t len, const char *magic,
		     uint8_t version)
{
	if (len < HEADER_LEN || memcmp(buf, magic, 2) != 0 || buf[2] == 0)
		return ST_EPARSE;
	if (buf[2] > version)
		return ST_ENOTSUP;
	return ST_OK;
}

/* ---- the domain record ------------------------------------------------ */

void an_record_init(struct an_record *r)
{
	memset(r, 0, sizeof(*r));
}

int an_record_version(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < HEADER_LEN || memcmp(buf, "SR", 2) != 0)
		return -1;
	return buf[2];
}

static bool code_valid(const char *code)
{
	size_t n;

	if (code == NULL || code[0] == '\0')
		return false;
	n = strnlen(code, AN_RECORD_STR_LEN_MAX);
	for (size_t i = 0; i < n; i++) {
		if (code[i] < 0x20 || code[i] > 0x7e)
			return false;
	}
	return true;
}

static bool txt_valid(size_t n, size_t total, const struct an_bytes *txt)
{
	if (n > AN_RECORD_TXT_MAX || n > total)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (txt[i].data == NULL && txt[i].len > 0)
			return false;
	}
	return true;
}

/* Everything the decoder would refuse, refused before writing a byte. */
static bool record_valid(const struct an_record *r)
{
	if (r->domain == NULL || r->sts_dns > DNS_STATUS_LAST ||
	    r->mx_dns > DNS_STATUS_LAST || r->tlsrpt_dns > DNS_STATUS_LAST ||
	    r->fetch_status > FETCH_STATUS_LAST || r->mode > MODE_LAST ||
	    r->verdict >= AN_V_COUNT)
		return false;
	if (!txt_valid(r->n_sts_txt, r->n_sts_txt_total, r->sts_txt) ||
	    !txt_valid(r->n_tlsrpt_txt, r->n_tlsrpt_txt_total, r->tlsrpt_txt))
		return false;
	if (r->n_mx > AN_RECORD_MX_MAX || r->n_mx > r->n_mx_total ||
	    r->n_patterns > AN_RECORD_PATTERNS_MAX ||
	    r->n_patterns > r->n_patterns_total ||
	    r->n_findings > AN_FINDINGS_MAX ||
	    r->n_findings > r->n_findings_total ||
	    r->n_cert_names > AN_RECORD_CERT_NAMES_MAX ||
	    r->n_cert_names > r->n_cert_names_total)
		return false;
	for (size_t i = 0; i < r->n_cert_names; i++) {
		if (r->cert_names[i] == NULL)
			return false;
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		if (!code_valid(r->findings[i].code) ||
		    r->findings[i].severity > SEVERITY_LAST)
			return false;
	}
	return true;
}

static void wr_record(struct wr *w, const struct an_record *r)
{
	wr_header(w, "SR", AN_RECORD_VERSION);
	wr_str(w, r->domain);
	wr_uint(w, r->rank);
	wr_sint(w, r->time);
	wr_uint(w, r->duration_ms);

	wr_uint(w, r->sts_dns);
	wr_uint(w, r->mx_dns);
	wr_uint(w, r->tlsrpt_dns);
	wr_bool(w, r->sts_cname);
	wr_bool(w, r->sts_ad);
	wr_bool(w, r->mx_ad);
	wr_txt(w, r->n_sts_txt, r->n_sts_txt_total, r->sts_txt);
	wr_uint(w, r->n_mx);
	wr_uint(w, r->n_mx_total);
	for (size_t i = 0; i < r->n_mx; i++) {
		wr_str(w, r->mx[i].name);
		wr_uint(w, r->mx[i].pref);
		wr_bool(w, r->mx[i].covered);
	}
	wr_txt(w, r->n_tlsrpt_txt, r->n_tlsrpt_txt_total, r->tlsrpt_txt);

	wr_str(w, r->ph_cname);
	wr_str(w, r->ph_addr);
	wr_uint(w, r->fetch_status);
	wr_uint(w, r->http_status);
	wr_str(w, r->location);
	wr_str(w, r->content_type);
	wr_bool(w, r->have_body);
	wr_uint(w, r->body_len);
	if (r->have_body)
		wr_raw(w, r->body_hash, AN_RECORD_HASH_LEN);
	wr_sint(w, r->cert_not_after);
	wr_str(w, r->cert_issuer);
	wr_uint(w, r->n_cert_names);
	wr_uint(w, r->n_cert_names_total);
	for (size_t i = 0; i < r->n_cert_names; i++)
		wr_str(w, r->cert_names[i]);
	wr_uint(w, r->fetch_ms);

	wr_str(w, r->sts_id);
	wr_uint(w, r->mode);
	wr_bool(w, r->policy_usable);
	wr_bool(w, r->have_max_age);
	wr_uint(w, r->max_age);
	wr_uint(w, r->n_patterns);
	wr_uint(w, r->n_patterns_total);
	for (size_t i = 0; i < r->n_patterns; i++)
		wr_str(w, r->patterns[i]);

	wr_bool(w, r->tlsrpt_valid);

	wr_uint(w, r->verdict);
	wr_uint(w, r->n_mx_judged);
	wr_uint(w, r->n_mx_covered);
	wr_uint(w, r->n_mx_usable);
	wr_uint(w, r->n_findings);
	wr_uint(w, r->n_findings_total);
	for (size_t i = 0; i < r->n_findings; i++) {
		wr_str(w, r->findings[i].code);
		wr_uint(w, r->findings[i].severity);
		wr_str(w, r->findings[i].detail);
	}
	wr_uint(w, r->attempts);
}

int an_record_encode(const struct an_record *r, uint8_t *buf, size_t cap,
		     size_t *len)
{
	struct wr w = { .buf = buf, .cap = cap };

	if (r == NULL || buf == NULL || len == NULL || !record_valid(r))
		return ST_EINVAL;
	wr_record(&w, r);
	if (w.err != ST_OK)
		return w.err;
	*len = w.len;
	return ST_OK;
}

/* identity and DNS */
static void rd_dns(struct rd *c, struct an_record *r)
{
	r->domain = rd_str(c, true);
	r->rank = rd_uint(c, UINT64_MAX);
	r->time = rd_sint(c, INT64_MIN, INT64_MAX);
	r->duration_ms = (uint32_t)rd_uint(c, UINT32_MAX);

	r->sts_dns = (uint8_t)rd_uint(c, DNS_STATUS_LAST);
	r->mx_dns = (uint8_t)rd_uint(c, DNS_STATUS_LAST);
	r->tlsrpt_dns = (uint8_t)rd_uint(c, DNS_STATUS_LAST);
	r->sts_cname = rd_bool(c);
	r->sts_ad = rd_bool(c);
	r->mx_ad = rd_bool(c);
	rd_txt(c, &r->n_sts_txt, &r->n_sts_txt_total, r->sts_txt);
	rd_count(c, AN_RECORD_MX_MAX, &r->n_mx, &r->n_mx_total);
	for (size_t i = 0; i < r->n_mx; i++) {
		r->mx[i].name = rd_str(c, false);
		r->mx[i].pref = (uint16_t)rd_uint(c, UINT16_MAX);
		r->mx[i].covered = rd_bool(c);
	}
	rd_txt(c, &r->n_tlsrpt_txt, &r->n_tlsrpt_txt_total, r->tlsrpt_txt);
}

/* policy host and fetch, of a version `version` record */
static void rd_fetch(struct rd *c, unsigned version, struct an_record *r)
{
	r->ph_cname = rd_str(c, false);
	r->ph_addr = rd_str(c, false);
	r->fetch_status = (uint8_t)rd_uint(c, FETCH_STATUS_LAST);
	r->http_status = (uint16_t)rd_uint(c, UINT16_MAX);
	r->location = rd_str(c, false);
	r->content_type = rd_str(c, false);
	r->have_body = rd_bool(c);
	r->body_len = (uint32_t)rd_uint(c, UINT32_MAX);
	if (r->have_body)
		rd_raw(c, r->body_hash, AN_RECORD_HASH_LEN);
	r->cert_not_after = rd_sint(c, INT64_MIN, INT64_MAX);
	r->cert_issuer = rd_str(c, false);
	if (version >= 2) {
		rd_count(c, AN_RECORD_CERT_NAMES_MAX, &r->n_cert_names,
			 &r->n_cert_names_total);
		for (size_t i = 0; i < r->n_cert_names; i++)
			r->cert_names[i] = rd_str(c, true);
	}
	r->fetch_ms = (uint32_t)rd_uint(c, UINT32_MAX);
}

/* policy, TLS-RPT and outcome */
static void rd_outcome(struct rd *c, struct an_record *r)
{
	r->sts_id = rd_str(c, false);
	r->mode = (uint8_t)rd_uint(c, MODE_LAST);
	r->policy_usable = rd_bool(c);
	r->have_max_age = rd_bool(c);
	r->max_age = rd_uint(c, UINT64_MAX);
	rd_count(c, AN_RECORD_PATTERNS_MAX, &r->n_patterns,
		 &r->n_patterns_total);
	for (size_t i = 0; i < r->n_patterns; i++)
		r->patterns[i] = rd_str(c, false);

	r->tlsrpt_valid = rd_bool(c);

	r->verdict = (uint8_t)rd_uint(c, AN_V_COUNT - 1);
	r->n_mx_judged = (size_t)rd_uint(c, SIZE_MAX);
	r->n_mx_covered = (size_t)rd_uint(c, SIZE_MAX);
	r->n_mx_usable = (size_t)rd_uint(c, SIZE_MAX);
	rd_count(c, AN_FINDINGS_MAX, &r->n_findings, &r->n_findings_total);
	for (size_t i = 0; i < r->n_findings; i++) {
		struct an_record_finding *f = &r->findings[i];

		f->code = rd_str(c, true);
		if (!code_valid(f->code) && c->err == ST_OK)
			rd_fail(c);
		f->severity = (uint8_t)rd_uint(c, SEVERITY_LAST);
		f->detail = rd_str(c, false);
	}
}

int an_record_decode(const uint8_t *buf, size_t len, struct an_record *r)
{
	struct rd c;
	int ret;

	if (r == NULL)
		return ST_EINVAL;
	an_record_init(r);
	if (buf == NULL)
		return ST_EINVAL;
	ret = rd_header(buf, len, "SR", AN_RECORD_VERSION);
	if (ret != ST_OK)
		goto fail;
	c = (struct rd){ .p = buf + HEADER_LEN, .end = buf + len };
	rd_dns(&c, r);
	rd_fetch(&c, buf[2], r);
	rd_outcome(&c, r);
	if (buf[2] >= 3)
		r->attempts = (unsigned)rd_uint(&c, UINT_MAX);
	if (c.err == ST_OK && c.p != c.end)
		rd_fail(&c); /* trailing bytes */
	ret = c.err;
	if (ret != ST_OK)
		goto fail;
	return ST_OK;
fail:
	an_record_init(r);
	return ret;
}

/* ---- the probe record ------------------------------------------------- */

void an_probe_record_init(struct an_probe_record *p)
{
	memset(p, 0, sizeof(*p));
	p->verify_error = -1;
}

int an_probe_record_encode(const struct an_probe_record *p, uint8_t *buf,
			   size_t cap, size_t *len)
{
	struct wr w = { .buf = buf, .cap = cap };

	if (p == NULL || buf == NULL || len == NULL || p->host == NULL ||
	    p->status > PROBE_STATUS_LAST)
		return ST_EINVAL;
	wr_header(&w, "SP", AN_PROBE_RECORD_VERSION);
	wr_str(&w, p->host);
	wr_sint(&w, p->time);
	wr_uint(&w, p->status);
	wr_str(&w, p->addr);
	wr_uint(&w, p->tls_version);
	wr_sint(&w, p->verify_error);
	wr_bool(&w, p->name_match);
	wr_sint(&w, p->cert_not_after);
	wr_str(&w, p->cert_issuer);
	wr_bool(&w, p->tlsa);
	wr_bool(&w, p->tlsa_secure);
	wr_str(&w, p->detail);
	wr_uint(&w, p->duration_ms);
	if (w.err != ST_OK)
		return w.err;
	*len = w.len;
	return ST_OK;
}

int an_probe_record_decode(const uint8_t *buf, size_t len,
			   struct an_probe_record *p)
{
	struct rd c;
	int ret;

	if (p == NULL)
		return ST_EINVAL;
	an_probe_record_init(p);
	if (buf == NULL)
		return ST_EINVAL;
	ret = rd_header(buf, len, "SP", AN_PROBE_RECORD_VERSION);
	if (ret != ST_OK)
		goto fail;
	c = (struct rd){ .p = buf + HEADER_LEN, .end = buf + len };
	p->host = rd_str(&c, true);
	p->time = rd_sint(&c, INT64_MIN, INT64_MAX);
	p->status = (uint8_t)rd_uint(&c, PROBE_STATUS_LAST);
	p->addr = rd_str(&c, false);
	p->tls_version = (uint16_t)rd_uint(&c, UINT16_MAX);
	p->verify_error = (int32_t)rd_sint(&c, INT32_MIN, INT32_MAX);
	p->name_match = rd_bool(&c);
	p->cert_not_after = rd_sint(&c, INT64_MIN, INT64_MAX);
	p->cert_issuer = rd_str(&c, false);
	p->tlsa = rd_bool(&c);
	p->tlsa_secure = rd_bool(&c);
	p->detail = rd_str(&c, false);
	p->duration_ms = (uint32_t)rd_uint(&c, UINT32_MAX);
	if (c.err == ST_OK && c.p != c.end)
		rd_fail(&c); /* trailing bytes */
	ret = c.err;
	if (ret != ST_OK)
		goto fail;
	return ST_OK;
fail:
	an_probe_record_init(p);
	return ret;
}
