/*
 * ds_store_scan.c - the scan info codec and the comparison of two scans'
 * typed fields (ds_store_scan.h, ds_store.h).
 */
#include "ds_store_scan.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ds_input.h"
#include "st_error.h"

/*
 * Value of "scans", integers little-endian:
 *   'S' 'I' version state
 *   id, shard_index, shard_count            u32
 *   started, finished                       i64
 *   n_results, n_input_errors               u64
 *   n_verdicts u8, then n_verdicts x        u64
 *   label      u8 length, bytes
 *   input_key  u8 length, bytes
 * version 2 adds here:
 *   options    u8 0 (unknown) or 1, then if 1:
 *                format u8, flags u8 (bit 0 probe_mx, 1 dane, 2 fetch_all,
 *                3 allow_private, 4 exclude_mixed; the others 0),
 *                exclude u16 length, bytes
 *   inputs     u8 count (<= DS_SCAN_INPUTS_MAX), then count x
 *                (u8 length 0 or 64, hex digits)
 * and both end with
 *   meta       u8 present (0/1); if 1: u32 length, bytes, NUL
 * meta_json keeps its NUL so a reader hands out a pointer into the map.
 * A decoder reads n_verdicts up to DS_SCAN_VERDICTS (zero-filling the
 * rest), so adding verdicts needs no new version.  Otherwise version 2
 * has exactly one encoding of each info: a decoder refuses what the
 * encoder would not write (unknown flag bits, a digest of another length
 * or not hex, a NUL inside a string).
 */
enum {
	F_PROBE_MX = 1 << 0,
	F_DANE = 1 << 1,
	F_FETCH_ALL = 1 << 2,
	F_ALLOW_PRIVATE = 1 << 3,
	F_EXCLUDE_MIXED = 1 << 4,
	F_ALL = (1 << 5) - 1,
};

struct wr {
	uint8_t *p;     /* NULL: only count */
	size_t cap;
	size_t len;
};

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->p != NULL && w->len + n <= w->cap)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void wr_le(struct wr *w, uint64_t v, unsigned n)
{
	uint8_t t[8];

	for (unsigned i = 0; i < n; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	wr_bytes(w, t, n);
}

static bool is_digest(const char *d)
{
	size_t n = strnlen(d, DS_SCAN_DIGEST_LEN);

	if (n == 0)
		return true;
	if (n != DS_SCAN_DIGEST_LEN - 1)
		return false;
	return strspn(d, "0123456789abcdef") == n;
}

static int check_info(const struct ds_scan_info *in)
{
	if (strnlen(in->label, sizeof(in->label)) == sizeof(in->label) ||
	    strnlen(in->input_key, sizeof(in->input_key)) ==
		    sizeof(in->input_key) ||
	    strnlen(in->exclude, sizeof(in->exclude)) == sizeof(in->exclude) ||
	    in->state > DS_SCAN_FINISHED || in->n_inputs > DS_SCAN_INPUTS_MAX)
		return ST_EINVAL;
	for (uint32_t i = 0; i < in->n_inputs; i++) {
		if (!is_digest(in->input_sha256[i]))
			return ST_EINVAL;
	}
	return ST_OK;
}

static void wr_options(struct wr *w, const struct ds_scan_info *in)
{
	size_t el = strlen(in->exclude);
	unsigned flags = (in->probe_mx ? F_PROBE_MX : 0) |
			 (in->dane ? F_DANE : 0) |
			 (in->fetch_all ? F_FETCH_ALL : 0) |
			 (in->allow_private ? F_ALLOW_PRIVATE : 0) |
			 (in->exclude_mixed ? F_EXCLUDE_MIXED : 0);

	wr_le(w, in->have_options, 1);
	if (in->have_options) {
		wr_le(w, in->format, 1);
		wr_le(w, flags, 1);
		wr_le(w, el, 2);
		wr_bytes(w, in->exclude, el);
	}
	wr_le(w, in->n_inputs, 1);
	for (uint32_t i = 0; i < in->n_inputs; i++) {
		size_t dl = strlen(in->input_sha256[i]);

		wr_le(w, dl, 1);
		wr_bytes(w, in->input_sha256[i], dl);
	}
}

int ds_scan_encode(const struct ds_scan_info *in, uint8_t *out, size_t cap,
		   size_t *len)
{
	struct wr w = { out, cap, 0 };
	size_t ml = in->meta_json != NULL ? strlen(in->meta_json) : 0;
	int ret = check_info(in);

	if (ret != ST_OK)
		return ret;
	if (ml > DS_STORE_VALUE_MAX - 16384)
		return ST_ETOOBIG;
	wr_bytes(&w, "SI", 2);
	wr_le(&w, DS_SCAN_CODEC_VERSION, 1);
	wr_le(&w, in->state, 1);
	wr_le(&w, in->id, 4);
	wr_le(&w, in->shard_index, 4);
	wr_le(&w, in->shard_count, 4);
	wr_le(&w, (uint64_t)in->started, 8);
	wr_le(&w, (uint64_t)in->finished, 8);
	wr_le(&w, in->n_results, 8);
	wr_le(&w, in->n_input_errors, 8);
	wr_le(&w, DS_SCAN_VERDICTS, 1);
	for (unsigned i = 0; i < DS_SCAN_VERDICTS; i++)
		wr_le(&w, in->verdicts[i], 8);
	wr_le(&w, strlen(in->label), 1);
	wr_bytes(&w, in->label, strlen(in->label));
	wr_le(&w, strlen(in->input_key), 1);
	wr_bytes(&w, in->input_key, strlen(in->input_key));
	wr_options(&w, in);
	wr_le(&w, in->meta_json != NULL, 1);
	if (in->meta_json != NULL) {
		wr_le(&w, ml, 4);
		wr_bytes(&w, in->meta_json, ml + 1);
	}
	*len = w.len;
	return out != NULL && w.len > cap ? ST_ESPACE : ST_OK;
}

/* A bounds-checked cursor with a sticky error, checked once at the end. */
struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *rd_bytes(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t rd_le(struct rd *r, unsigned n)
{
	const uint8_t *p = rd_bytes(r, n);
	uint64_t v = 0;

	for (unsigned i = 0; p != NULL && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Copy a string with a `lb`-byte length of at most max - 1 bytes and no
 * NUL inside into dst[max]. */
static void rd_str(struct rd *r, unsigned lb, char *dst, size_t max)
{
	size_t n = (size_t)rd_le(r, lb);
	const uint8_t *p;

	dst[0] = '\0';
	if (n >= max) {
		r->bad = true;
		return;
	}
	p = rd_bytes(r, n);
	if (p == NULL)
		return;
	if (memchr(p, '\0', n) != NULL)
		r->bad = true;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static void rd_options(struct rd *r, struct ds_scan_info *out)
{
	unsigned have = (unsigned)rd_le(r, 1), flags;

	if (have > 1) {
		r->bad = true;
		return;
	}
	out->have_options = have == 1;
	if (have == 1) {
		out->format = (uint8_t)rd_le(r, 1);
		flags = (unsigned)rd_le(r, 1);
		if ((flags & ~(unsigned)F_ALL) != 0 || out->format > DS_FMT_ZONE)
			r->bad = true;
		out->probe_mx = (flags & F_PROBE_MX) != 0;
		out->dane = (flags & F_DANE) != 0;
		out->fetch_all = (flags & F_FETCH_ALL) != 0;
		out->allow_private = (flags & F_ALLOW_PRIVATE) != 0;
		out->exclude_mixed = (flags & F_EXCLUDE_MIXED) != 0;
		rd_str(r, 2, out->exclude, sizeof(out->exclude));
	}
	out->n_inputs = (uint32_t)rd_le(r, 1);
	if (out->n_inputs > DS_SCAN_INPUTS_MAX) {
		r->bad = true;
		out->n_inputs = 0;
	}
	for (uint32_t i = 0; i < out->n_inputs && !r->bad; i++) {
		rd_str(r, 1, out->input_sha256[i], DS_SCAN_DIGEST_LEN);
		if (!is_digest(out->input_sha256[i]))
			r->bad = true;
	}
}

int ds_scan_decode(const uint8_t *buf, size_t len, struct ds_scan_info *out)
{
	struct rd r = { buf, len, false };
	const uint8_t *magic = rd_bytes(&r, 2);
	unsigned ver, nv, has_meta;

	memset(out, 0, sizeof(*out));
	if (magic == NULL || magic[0] != 'S' || magic[1] != 'I')
		return ST_EPARSE;
	ver = (unsigned)rd_le(&r, 1);
	if (ver > DS_SCAN_CODEC_VERSION)
		return ST_ENOTSUP;
	out->state = (uint8_t)rd_le(&r, 1);
	out->id = (uint32_t)rd_le(&r, 4);
	out->shard_index = (uint32_t)rd_le(&r, 4);
	out->shard_count = (uint32_t)rd_le(&r, 4);
	out->started = (int64_t)rd_le(&r, 8);
	out->finished = (int64_t)rd_le(&r, 8);
	out->n_results = rd_le(&r, 8);
	out->n_input_errors = rd_le(&r, 8);
	nv = (unsigned)rd_le(&r, 1);
	if (nv > DS_SCAN_VERDICTS)
		return ST_EPARSE;
	for (unsigned i = 0; i < nv; i++)
		out->verdicts[i] = rd_le(&r, 8);
	rd_str(&r, 1, out->label, sizeof(out->label));
	rd_str(&r, 1, out->input_key, sizeof(out->input_key));
	if (ver >= 2)
		rd_options(&r, out);
	has_meta = (unsigned)rd_le(&r, 1);
	if (has_meta == 1) {
		size_t ml = (size_t)rd_le(&r, 4);
		const uint8_t *m = ml < len ? rd_bytes(&r, ml + 1) : NULL;

		if (m == NULL || m[ml] != '\0' || memchr(m, '\0', ml) != NULL)
			return ST_EPARSE;
		out->meta_json = (const char *)m;
	} else if (has_meta != 0) {
		return ST_EPARSE;
	}
	if (r.bad || r.left != 0 || ver == 0 || out->state > DS_SCAN_FINISHED)
		return ST_EPARSE;
	if (ver == 1)
		ds_scan_meta_v1(out->meta_json, out);
	return ST_OK;
}

/* ---- comparing two scans ---- */

static bool option_of(const struct ds_scan_info *s, enum ds_scan_field f)
{
	switch (f) {
	case DS_SF_PROBE_MX: return s->probe_mx;
	case DS_SF_DANE: return s->dane;
	case DS_SF_FETCH_ALL: return s->fetch_all;
	case DS_SF_ALLOW_PRIVATE: return s->allow_private;
	default: return false;
	}
}

static size_t digests_known(const struct ds_scan_info *s)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->n_inputs; i++)
		n += s->input_sha256[i][0] != '\0';
	return n;
}

/* The index of the k-th known digest (k from 0). */
static uint32_t known_at(const struct ds_scan_info *s, size_t k)
{
	for (uint32_t i = 0; i < s->n_inputs; i++) {
		if (s->input_sha256[i][0] != '\0' && k-- == 0)
			return i;
	}
	return s->n_inputs;
}

/* Index (into a's digests) of the first known digest that differs, or
 * DS_SCAN_INPUTS_MAX + 1 if none; a->n_inputs when b has more. */
static uint32_t digests_differ(const struct ds_scan_info *a,
			       const struct ds_scan_info *b)
{
	size_t na = digests_known(a), nb = digests_known(b);

	if (na == 0 || nb == 0)
		return DS_SCAN_INPUTS_MAX + 1;
	for (size_t k = 0; k < na && k < nb; k++) {
		uint32_t i = known_at(a, k), j = known_at(b, k);

		if (strcmp(a->input_sha256[i], b->input_sha256[j]) != 0)
			return i;
	}
	if (na == nb)
		return DS_SCAN_INPUTS_MAX + 1;
	return na > nb ? known_at(a, nb) : a->n_inputs;
}

static bool field_same(const struct ds_scan_info *a,
		       const struct ds_scan_info *b, enum ds_scan_field f)
{
	switch (f) {
	case DS_SF_INPUTS:
		return digests_differ(a, b) == DS_SCAN_INPUTS_MAX + 1;
	case DS_SF_FORMAT:
		return a->have_options == b->have_options &&
		       a->format == b->format;
	case DS_SF_EXCLUDE:
		return !a->exclude_mixed && !b->exclude_mixed &&
		       strcmp(a->exclude, b->exclude) == 0;
	default:
		return a->have_options == b->have_options &&
		       option_of(a, f) == option_of(b, f);
	}
}

enum ds_scan_field ds_scan_info_differ(const struct ds_scan_info *a,
				       const struct ds_scan_info *b,
				       unsigned which)
{
	for (unsigned f = DS_SF_NONE + 1; f < DS_SF_COUNT; f++) {
		if ((which & DS_SF_BIT(f)) != 0 &&
		    !field_same(a, b, (enum ds_scan_field)f))
			return (enum ds_scan_field)f;
	}
	return DS_SF_NONE;
}

const char *ds_scan_field_name(enum ds_scan_field f)
{
	static const char *const names[DS_SF_COUNT] = {
		[DS_SF_NONE] = "none",
		[DS_SF_INPUTS] = "inputs",
		[DS_SF_FORMAT] = "--format",
		[DS_SF_PROBE_MX] = "--probe-mx",
		[DS_SF_DANE] = "--dane",
		[DS_SF_FETCH_ALL] = "--fetch-all",
		[DS_SF_ALLOW_PRIVATE] = "--allow-private",
		[DS_SF_EXCLUDE] = "--exclude",
	};

	return (unsigned)f < DS_SF_COUNT ? names[f] : "?";
}

char *ds_scan_field_value(const struct ds_scan_info *info,
			  enum ds_scan_field f, char *buf, size_t len)
{
	size_t known = digests_known(info);

	if (buf == NULL || len == 0)
		return buf;
	if (f == DS_SF_INPUTS) {
		/* "SHA-256 0123456789ab.., cdef01234567.." or why none */
		size_t n;

		if (known == 0) {
			snprintf(buf, len, "%" PRIu32 " inputs, not read to "
				 "the end", info->n_inputs);
			return buf;
		}
		n = (size_t)snprintf(buf, len, "SHA-256");

		for (size_t k = 0; k < known && n < len; k++)
			n += (size_t)snprintf(buf + n, len - n, "%s%.12s..",
					      k > 0 ? ", " : " ",
					      info->input_sha256[known_at(info,
								k)]);
	} else if (f == DS_SF_EXCLUDE) {
		snprintf(buf, len, "%s", info->exclude_mixed ? "mixed"
					 : info->exclude[0] != '\0' ? info->exclude
								    : "none");
	} else if (f == DS_SF_NONE || f >= DS_SF_COUNT) {
		snprintf(buf, len, "-");
	} else if (!info->have_options) {
		snprintf(buf, len, "unknown");
	} else if (f == DS_SF_FORMAT) {
		snprintf(buf, len, "%s", ds_input_format_name(
					 (enum ds_input_format)info->format));
	} else {
		snprintf(buf, len, "%s", option_of(info, f) ? "on" : "off");
	}
	return buf;
}
