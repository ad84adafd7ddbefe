#include "an_sts_record.h"

#include <string.h>

#include "an_text.h"
#include "st_error.h"

#define STS_VERSION "v=STSv1"
#define STS_VERSION_LEN 7
#define QUOTE_MAX 40 /* bytes of server text quoted in a detail */

/* RFC 8461 §3.1: a record is an STS record when it begins with the exact,
 * case-sensitive "v=STSv1" and the version token ends there. */
static bool is_candidate(const struct an_bytes *b)
{
	if (b->len < STS_VERSION_LEN ||
	    memcmp(b->data, STS_VERSION, STS_VERSION_LEN) != 0)
		return false;
	return b->len == STS_VERSION_LEN || b->data[STS_VERSION_LEN] == ';' ||
	       an_is_wsp(b->data[STS_VERSION_LEN]);
}

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static bool ext_value_valid(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ';' || p[i] == '=')
			return false;
	}
	return true;
}

/* A field runs to the next ';' or WSP: that is where the grammar needs a
 * delimiter, so whatever follows is checked as a delimiter. */
static size_t field_end(const struct an_bytes *b, size_t pos)
{
	while (pos < b->len && b->data[pos] != ';' && !an_is_wsp(b->data[pos]))
		pos++;
	return pos;
}

struct sts_parse {
	const struct an_bytes *b;
	struct an_sts_record *rec;
	struct an_findings *f;
	bool bad;         /* an error-severity problem was found */
	bool id_seen;
	bool ws_reported;
};

/* sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
static void take_id(struct sts_parse *ps, const uint8_t *v, size_t vlen)
{
	bool ok = vlen >= 1 && vlen <= AN_STS_ID_MAX;

	for (size_t i = 0; ok && i < vlen; i++)
		ok = an_is_alnum(v[i]);
	if (!ok) {
		an_findings_add(ps->f, AN_F_STS_ID_INVALID,
				"id \"%.*s\" (%zu bytes) is not 1-32 letters "
				"and digits",
				(int)(vlen < QUOTE_MAX ? vlen : QUOTE_MAX),
				(const char *)v, vlen);
		ps->bad = true;
		ps->id_seen = true;
		return;
	}
	if (ps->id_seen) {
		an_findings_add(ps->f, AN_F_STS_ID_DUPLICATE,
				"second id \"%.*s\" ignored", (int)vlen,
				(const char *)v);
		return;
	}
	ps->id_seen = true;
	memcpy(ps->rec->id, v, vlen);
	ps->rec->id[vlen] = '\0';
}

/* One sts-field starting at pos; returns the position after it. */
static size_t take_field(struct sts_parse *ps, size_t pos)
{
	const struct an_bytes *b = ps->b;
	size_t end = field_end(b, pos);
	const uint8_t *p = b->data + pos;
	size_t len = end - pos;
	const uint8_t *eq = memchr(p, '=', len);
	size_t nlen;

	if (eq == NULL) {
		an_findings_add(ps->f, AN_F_STS_SYNTAX,
				"field \"%.*s\" at offset %zu has no '='",
				(int)(len < QUOTE_MAX ? len : QUOTE_MAX),
				(const char *)p, pos);
		ps->bad = true;
		return end;
	}
	nlen = (size_t)(eq - p);
	if (nlen == 2 && memcmp(p, "id", 2) == 0) {
		take_id(ps, eq + 1, len - nlen - 1);
		return end;
	}
	if (!an_ext_name_valid(p, nlen) || !ext_value_valid(eq + 1, len - nlen - 1)) {
		an_findings_add(ps->f, AN_F_STS_SYNTAX,
				"malformed field \"%.*s\" at offset %zu",
				(int)(len < QUOTE_MAX ? len : QUOTE_MAX),
				(const char *)p, pos);
		ps->bad = true;
		return end;
	}
	ps->rec->extensions++;
	an_findings_add(ps->f, AN_F_STS_EXTENSION, "unknown field \"%.*s\"",
			(int)(nlen < QUOTE_MAX ? nlen : QUOTE_MAX),
			(const char *)p);
	return end;
}

/* Parse the single candidate record: sts-version 1*(delim field) [delim]. */
static bool parse_one(const struct an_bytes *b, struct an_sts_record *rec,
		      struct an_findings *f)
{
	struct sts_parse ps = { .b = b, .rec = rec, .f = f };
	size_t pos = STS_VERSION_LEN;

	while (pos < b->len) {
		size_t ws = pos;

		while (pos < b->len && an_is_wsp(b->data[pos]))
			pos++;
		if (pos == b->len) {
			/* The ABNF has no trailing WSP; senders trim it. */
			an_findings_add_sev(f, AN_F_STS_SYNTAX, AN_SEV_WARN,
					    "trailing whitespace at offset %zu",
					    ws);
			break;
		}
		if (b->data[pos] != ';') {
			an_findings_add(f, AN_F_STS_SYNTAX,
					"expected ';' at offset %zu, found "
					"\"%.*s\"", pos,
					(int)(b->len - pos < 16 ? b->len - pos : 16),
					(const char *)b->data + pos);
			ps.bad = true;
			break;
		}
		if (pos > ws && !ps.ws_reported) {
			/* Errata 6285: valid ABNF, but not "v=STSv1;". */
			an_findings_add(f, AN_F_STS_WS_BEFORE_DELIM,
					"whitespace before ';' at offset %zu",
					ws);
			ps.ws_reported = true;
		}
		pos++;
		while (pos < b->len && an_is_wsp(b->data[pos]))
			pos++;
		if (pos == b->len)
			break; /* [sts-field-delim] at the end */
		if (b->data[pos] == ';') {
			an_findings_add(f, AN_F_STS_SYNTAX,
					"empty field at offset %zu", pos);
			ps.bad = true;
			continue;
		}
		pos = take_field(&ps, pos);
	}
	if (!ps.id_seen) {
		an_findings_add(f, AN_F_STS_ID_MISSING, "record \"%.*s\"",
				(int)(b->len < QUOTE_MAX ? b->len : QUOTE_MAX),
				(const char *)b->data);
		ps.bad = true;
	}
	if (ps.bad)
		rec->id[0] = '\0';
	return !ps.bad;
}

int an_sts_record_parse(const struct an_bytes *txt, size_t n,
			struct an_sts_record *rec, struct an_findings *findings)
{
	const struct an_bytes *one = NULL;

	if (rec == NULL || findings == NULL || (txt == NULL && n > 0))
		return ST_EINVAL;
	memset(rec, 0, sizeof(*rec));

	for (size_t i = 0; i < n; i++) {
		const struct an_bytes *b = &txt[i];

		if (b->data == NULL && b->len > 0)
			return ST_EINVAL;
		if (is_candidate(b)) {
			rec->candidates++;
			one = b;
		} else if (an_prefix_nocase(b->data, b->len, "v=sts")) {
			/* Discarded like any non-STS record, but worth naming:
			 * v=STSv10, v=stsv1, v=STSv2 are operator typos. */
			an_findings_add(findings, AN_F_STS_VERSION,
					"record \"%.*s\" ignored: it does not "
					"begin with v=STSv1",
					(int)(b->len < QUOTE_MAX ? b->len : QUOTE_MAX),
					(const char *)b->data);
		} else {
			rec->other++;
		}
	}
	if (rec->other > 0)
		an_findings_add(findings, AN_F_STS_OTHER_TXT,
				"%zu non-STS TXT record(s) at the name",
				rec->other);

	if (rec->candidates == 0) {
		rec->status = AN_STS_ABSENT;
	} else if (rec->candidates > 1) {
		rec->status = AN_STS_MULTIPLE;
		an_findings_add(findings, AN_F_STS_MULTIPLE,
				"%zu records begin with v=STSv1",
				rec->candidates);
	} else {
		rec->status = parse_one(one, rec, findings) ? AN_STS_VALID
							     : AN_STS_INVALID;
	}
	return ST_OK;
}

const char *an_sts_status_name(enum an_sts_status st)
{
	switch (st) {
	case AN_STS_ABSENT: return "absent";
	case AN_STS_VALID: return "valid";
	case AN_STS_MULTIPLE: return "multiple";
	case AN_STS_INVALID: return "invalid";
	}
	return "unknown";
}
