#include "an_sts_record.h"

#include <string.h>

#include "an_text.h"
#include "st_error.h"

#define STS_VERSION "v=STSv1"
#define STS_VERSION_LEN 7
#define QUOTE_MAX 40 /* bytes of server text quoted in a detail */

/* A lone record is an STS record when it begins with the exact,
 * case-sensitive "v=STSv1" and the version token ends there (errata 6285:
 * the ABNF lets WSP come before the ';'). */
static bool is_candidate(const struct an_bytes *b)
{
	if (b->len < STS_VERSION_LEN ||
	    memcmp(b->data, STS_VERSION, STS_VERSION_LEN) != 0)
		return false;
	return b->len == STS_VERSION_LEN || b->data[STS_VERSION_LEN] == ';' ||
	       an_is_wsp(b->data[STS_VERSION_LEN]);
}

/* RFC 8461 §3.1: "If multiple TXT records for "_mta-sts" are returned by
 * the resolver, records that do not begin with "v=STSv1;" are discarded."
 * Among several records only the exact bytes "v=STSv1;" let one count. */
static bool begins_exactly(const struct an_bytes *b)
{
	return b->len > STS_VERSION_LEN &&
	       memcmp(b->data, STS_VERSION ";", STS_VERSION_LEN + 1) == 0;
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
			/* RFC 8461 §3.1: WSP belongs to a sts-field-delim
			 * only with its ';', so trailing WSP alone is outside
			 * the grammar: "if the resulting record is
			 * syntactically invalid, senders MUST assume the
			 * recipient domain does not have an available MTA-STS
			 * Policy". */
			an_findings_add(f, AN_F_STS_SYNTAX,
					"trailing whitespace without ';' at "
					"offset %zu", ws);
			ps.bad = true;
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
		if (pos > ws && ws == STS_VERSION_LEN) {
			/* Errata 6285: valid ABNF, but the record does not
			 * begin with "v=STSv1;".  WSP before a later ';' is
			 * plain sts-field-delim and needs no word. */
			an_findings_add(f, AN_F_STS_WS_BEFORE_DELIM,
					"whitespace before ';' at offset %zu",
					ws);
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

#define QUOTE(b) (int)((b)->len < QUOTE_MAX ? (b)->len : QUOTE_MAX), \
		 (const char *)(b)->data

/* Sort one TXT RR into the record's counts; returns true if it counts as
 * the STS record.  several: the RRset has more than one TXT record. */
static bool select_one(const struct an_bytes *b, bool several,
		       struct an_sts_record *rec, struct an_findings *f)
{
	if (several ? begins_exactly(b) : is_candidate(b)) {
		rec->candidates++;
		return true;
	}
	if (several && is_candidate(b)) {
		/* RFC 8461 §3.1: "records that do not begin with "v=STSv1;"
		 * are discarded" - v=STSv1 alone, "v=STSv1 ;", "v=STSv1 is
		 * not a policy". */
		rec->discarded++;
		an_findings_add(f, AN_F_STS_DISCARDED,
				"record \"%.*s\" discarded: one of several TXT "
				"records and it does not begin with "
				"\"v=STSv1;\"", QUOTE(b));
	} else if (an_prefix_nocase(b->data, b->len, "v=sts")) {
		/* Discarded like any non-STS record, but worth naming:
		 * v=STSv10, v=stsv1, v=STSv2 are operator typos. */
		an_findings_add(f, AN_F_STS_VERSION,
				"record \"%.*s\" ignored: it does not begin "
				"with v=STSv1", QUOTE(b));
	} else {
		rec->other++;
	}
	return false;
}

/* The counts of the RRset, saying "at least" where records were not
 * examined (rec->total > n). */
static void report_counts(size_t n, struct an_sts_record *rec,
			  struct an_findings *f)
{
	bool capped = rec->total > n;

	if (rec->other > 0 && capped)
		an_findings_add(f, AN_F_STS_OTHER_TXT,
				"%zu non-STS TXT record(s) among the first %zu "
				"examined; %zu TXT records at the name",
				rec->other, n, rec->total);
	else if (rec->other > 0)
		an_findings_add(f, AN_F_STS_OTHER_TXT,
				"%zu non-STS TXT record(s) at the name",
				rec->other);
	if (rec->candidates < 2)
		return;
	if (capped)
		an_findings_add(f, AN_F_STS_MULTIPLE,
				"at least %zu of %zu TXT records begin with "
				"\"v=STSv1;\" (first %zu examined)",
				rec->candidates, rec->total, n);
	else
		an_findings_add(f, AN_F_STS_MULTIPLE,
				"%zu records begin with \"v=STSv1;\"",
				rec->candidates);
}

int an_sts_record_parse_total(const struct an_bytes *txt, size_t n,
			      size_t total, struct an_sts_record *rec,
			      struct an_findings *findings)
{
	const struct an_bytes *one = NULL;
	bool several;

	if (rec == NULL || findings == NULL || (txt == NULL && n > 0))
		return ST_EINVAL;
	memset(rec, 0, sizeof(*rec));
	for (size_t i = 0; i < n; i++) {
		if (txt[i].data == NULL && txt[i].len > 0)
			return ST_EINVAL;
	}
	rec->total = total > n ? total : n;
	several = rec->total > 1;
	for (size_t i = 0; i < n; i++) {
		if (select_one(&txt[i], several, rec, findings))
			one = &txt[i];
	}
	report_counts(n, rec, findings);

	/* RFC 8461 §3.1: "If the number of resulting records is not one, or
	 * if the resulting record is syntactically invalid, senders MUST
	 * assume the recipient domain does not have an available MTA-STS
	 * Policy." */
	if (rec->candidates == 0)
		rec->status = AN_STS_ABSENT;
	else if (rec->candidates > 1)
		rec->status = AN_STS_MULTIPLE;
	else
		rec->status = parse_one(one, rec, findings) ? AN_STS_VALID
							     : AN_STS_INVALID;
	return ST_OK;
}

int an_sts_record_parse(const struct an_bytes *txt, size_t n,
			struct an_sts_record *rec, struct an_findings *findings)
{
	return an_sts_record_parse_total(txt, n, n, rec, findings);
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
