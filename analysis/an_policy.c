#include "an_policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "an_mx.h"
#include "an_text.h"
#include "st_error.h"

#define QUOTE_MAX 40

enum key_id {
	KEY_VERSION,
	KEY_MODE,
	KEY_MAX_AGE,
	KEY_MX,
	KEY_OTHER,
};

static const char *const key_names[] = { "version", "mode", "max_age", "mx" };

struct line {
	const uint8_t *p; /* the line without its terminator */
	size_t len;
	size_t no;        /* 1-based line number */
};

/* Distinct extension names remembered for the first-wins rule; a body
 * with more distinct extension names than this is not checked for
 * duplicates beyond them (they are ignored by senders either way). */
#define EXT_SEEN_MAX 16

struct pol_parse {
	const uint8_t *body;
	struct an_policy *pol;
	struct an_findings *f;
	bool bad;            /* an error-severity policy finding was raised */
	size_t seen[KEY_MX]; /* line of the first version, mode, max_age; 0 */
	struct {
		const uint8_t *name;
		size_t len, no;
	} ext[EXT_SEEN_MAX]; /* extension names given, with their line */
	size_t n_ext;
	size_t blank_lines;  /* reported once, after the walk */
	size_t first_blank;
	size_t mx_lines;     /* mx lines, valid or not */
};

static int quote_len(size_t len)
{
	return (int)(len < QUOTE_MAX ? len : QUOTE_MAX);
}

static bool bytes_eq(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

/* Record a finding; an error-severity one makes the policy unusable. */
static void problem(struct pol_parse *ps, enum an_code code, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static void problem(struct pol_parse *ps, enum an_code code, const char *fmt,
		    ...)
{
	char detail[AN_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	an_findings_add(ps->f, code, "%s", detail);
	if (an_code_info(code)->severity == AN_SEV_ERROR)
		ps->bad = true;
}

/* Arguments for a "%.*s" quoting at most QUOTE_MAX bytes of p. */
#define Q(p, len) quote_len(len), (const char *)(p)

static bool has_non_ascii(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x80)
			return true;
	}
	return false;
}

/* Extension values may hold UTF-8 (sts-policy-vchar) but no controls. */
static void check_ext_value(struct pol_parse *ps, const struct line *ln,
			    const uint8_t *v, size_t vlen)
{
	for (size_t i = 0; i < vlen;) {
		size_t n;

		if (v[i] < 0x20 || v[i] == 0x7f) {
			problem(ps, AN_F_POLICY_SYNTAX,
			      "line %zu: control character in value \"%.*s\"",
			      ln->no, Q(v, vlen));
			return;
		}
		n = an_utf8_len(v + i, vlen - i);
		if (n == 0) {
			problem(ps, AN_F_POLICY_NON_ASCII,
			      "line %zu: invalid UTF-8 in value \"%.*s\"",
			      ln->no, Q(v, vlen));
			return;
		}
		i += n;
	}
}

/* RFC 8461 §3.2: max_age = 1*10(DIGIT), at most 31557600. */
static void take_max_age(struct pol_parse *ps, const struct line *ln,
			 const uint8_t *v, size_t vlen)
{
	uint64_t val = 0;
	bool ok = vlen >= 1 && vlen <= 10;

	for (size_t i = 0; ok && i < vlen; i++) {
		ok = v[i] >= '0' && v[i] <= '9';
		val = val * 10 + (uint64_t)(v[i] - '0');
	}
	if (!ok) {
		problem(ps, AN_F_POLICY_MAX_AGE_INVALID,
		      "line %zu: max_age \"%.*s\" is not 1-10 digits", ln->no,
		      Q(v, vlen));
		return;
	}
	ps->pol->has_max_age = true;
	ps->pol->max_age = val;
	if (val > AN_POLICY_MAX_AGE_MAX)
		problem(ps, AN_F_POLICY_MAX_AGE_TOO_LARGE,
		      "line %zu: max_age %.*s is over 31557600", ln->no,
		      Q(v, vlen));
	else if (val < AN_POLICY_MAX_AGE_MIN_OK)
		problem(ps, AN_F_POLICY_MAX_AGE_SHORT,
		      "line %zu: max_age %.*s is under 86400", ln->no,
		      Q(v, vlen));
}

static void take_mode(struct pol_parse *ps, const struct line *ln,
		      const uint8_t *v, size_t vlen)
{
	static const struct {
		const char *name;
		enum an_mode mode;
	} modes[] = {
		{ "enforce", AN_MODE_ENFORCE },
		{ "testing", AN_MODE_TESTING },
		{ "none", AN_MODE_NONE },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (bytes_eq(v, vlen, modes[i].name)) {
			ps->pol->mode = modes[i].mode;
			return;
		}
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (an_bytes_eq_nocase(v, vlen, modes[i].name)) {
			problem(ps, AN_F_POLICY_MODE_INVALID,
			      "line %zu: mode \"%.*s\" (values are "
			      "case-sensitive)", ln->no, Q(v, vlen));
			return;
		}
	}
	problem(ps, AN_F_POLICY_MODE_INVALID, "line %zu: mode \"%.*s\"", ln->no,
	      Q(v, vlen));
}

static void take_mx(struct pol_parse *ps, const struct line *ln,
		    const uint8_t *v, size_t vlen)
{
	struct an_policy *pol = ps->pol;
	const char *why = NULL;
	bool dot = false;

	ps->mx_lines++;
	if (!an_mx_pattern_valid((const char *)v, vlen, &dot, &why)) {
		problem(ps, AN_F_POLICY_MX_INVALID, "line %zu: mx \"%.*s\": %s",
			ln->no, Q(v, vlen), why != NULL ? why : "invalid");
		return;
	}
	if (dot) {
		problem(ps, AN_F_POLICY_MX_TRAILING_DOT,
		      "line %zu: mx \"%.*s\" ends with a dot", ln->no,
		      Q(v, vlen));
		vlen--;
	}
	if (pol->n_mx >= AN_POLICY_MX_MAX) {
		pol->n_mx_dropped++;
		return;
	}
	pol->mx[pol->n_mx].off = (uint32_t)(v - ps->body);
	pol->mx[pol->n_mx].len = (uint16_t)vlen;
	pol->mx[pol->n_mx].wildcard = vlen >= 2 && v[0] == '*' && v[1] == '.';
	pol->n_mx++;
}

static enum key_id key_lookup(const uint8_t *k, size_t klen)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (bytes_eq(k, klen, key_names[i]))
			return (enum key_id)i;
	}
	return KEY_OTHER;
}

static void take_other(struct pol_parse *ps, const struct line *ln,
		       const uint8_t *k, size_t klen, const uint8_t *v,
		       size_t vlen)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (an_bytes_eq_nocase(k, klen, key_names[i])) {
			problem(ps, AN_F_POLICY_UNKNOWN_KEY,
			      "line %zu: key \"%.*s\" (keys are case-sensitive)",
			      ln->no, Q(k, klen));
			return;
		}
	}
	ps->pol->n_extensions++;
	problem(ps, AN_F_POLICY_UNKNOWN_KEY, "line %zu: key \"%.*s\"", ln->no,
	      Q(k, klen));
	if (vlen == 0)
		problem(ps, AN_F_POLICY_SYNTAX,
		      "line %zu: key \"%.*s\" has an empty value", ln->no,
		      Q(k, klen));
	else
		check_ext_value(ps, ln, v, vlen);
}

/*
 * RFC 8461 §3.2: "If any non-repeated field -- i.e., all fields excepting
 * "mx" -- is duplicated, all entries except for the first SHALL be
 * ignored."  True if ln repeats such a field: then it gets a warning that
 * names it and the line of the entry that counts, and nothing else (its
 * value is not checked: it is ignored).  The first entry counts even when
 * its value is invalid and a later one would be valid.  Extension fields
 * are non-repeated fields too.
 */
static bool ignored_duplicate(struct pol_parse *ps, const struct line *ln,
			      enum key_id id, const uint8_t *k, size_t klen)
{
	size_t first = 0;

	if (id == KEY_MX)
		return false;
	if (id != KEY_OTHER) {
		first = ps->seen[id];
		if (first == 0)
			ps->seen[id] = ln->no;
	} else {
		for (size_t i = 0; i < ps->n_ext && first == 0; i++) {
			if (ps->ext[i].len == klen &&
			    memcmp(ps->ext[i].name, k, klen) == 0)
				first = ps->ext[i].no;
		}
		if (first == 0 && ps->n_ext < EXT_SEEN_MAX) {
			ps->ext[ps->n_ext].name = k;
			ps->ext[ps->n_ext].len = klen;
			ps->ext[ps->n_ext].no = ln->no;
			ps->n_ext++;
		}
	}
	if (first == 0)
		return false;
	problem(ps, AN_F_POLICY_DUPLICATE_KEY,
	      "line %zu: \"%.*s\" ignored, %.*s first given at line %zu",
	      ln->no, Q(ln->p, ln->len), Q(k, klen), first);
	return true;
}

/* One sts-policy-field: key ":" *WSP value *WSP. */
static void take_line(struct pol_parse *ps, const struct line *ln)
{
	const uint8_t *colon = memchr(ln->p, ':', ln->len);
	const uint8_t *k = ln->p, *v;
	size_t klen, vlen;
	enum key_id id;

	if (colon == NULL) {
		problem(ps, AN_F_POLICY_SYNTAX, "line %zu: no ':' in \"%.*s\"",
		      ln->no, Q(ln->p, ln->len));
		return;
	}
	klen = (size_t)(colon - k);
	v = colon + 1;
	vlen = ln->len - klen - 1;
	while (vlen > 0 && an_is_wsp(v[0])) {
		v++;
		vlen--;
	}
	while (vlen > 0 && an_is_wsp(v[vlen - 1]))
		vlen--;

	if (has_non_ascii(k, klen)) {
		problem(ps, AN_F_POLICY_NON_ASCII, "line %zu: key \"%.*s\"",
		      ln->no, Q(k, klen));
		return;
	}
	if (!an_ext_name_valid(k, klen)) {
		problem(ps, AN_F_POLICY_SYNTAX, "line %zu: bad key \"%.*s\"",
		      ln->no, Q(k, klen));
		return;
	}
	id = key_lookup(k, klen);
	if (ignored_duplicate(ps, ln, id, k, klen))
		return;
	if (id != KEY_OTHER && has_non_ascii(v, vlen))
		problem(ps, AN_F_POLICY_NON_ASCII,
		      "line %zu: non-ASCII in value \"%.*s\"", ln->no,
		      Q(v, vlen));
	switch (id) {
	case KEY_VERSION:
		if (bytes_eq(v, vlen, "STSv1"))
			ps->pol->has_version = true;
		else
			problem(ps, AN_F_POLICY_VERSION_INVALID,
			      "line %zu: version \"%.*s\"", ln->no,
			      Q(v, vlen));
		break;
	case KEY_MODE:
		take_mode(ps, ln, v, vlen);
		break;
	case KEY_MAX_AGE:
		take_max_age(ps, ln, v, vlen);
		break;
	case KEY_MX:
		take_mx(ps, ln, v, vlen);
		break;
	case KEY_OTHER:
		take_other(ps, ln, k, klen, v, vlen);
		break;
	}
}

/* Split into LF or CRLF terminated lines (RFC 8461 §3.2 sts-policy-term). */
static void take_lines(struct pol_parse *ps, const uint8_t *body, size_t pos,
		       size_t len)
{
	size_t no = 0;

	while (pos < len) {
		const uint8_t *lf = memchr(body + pos, '\n', len - pos);
		size_t end = lf != NULL ? (size_t)(lf - body) : len;
		struct line ln = { body + pos, end - pos, ++no };
		const uint8_t *cr;

		pos = lf != NULL ? end + 1 : len;
		if (lf != NULL && ln.len > 0 && ln.p[ln.len - 1] == '\r')
			ln.len--; /* CRLF */
		cr = memchr(ln.p, '\r', ln.len);
		if (cr != NULL) {
			problem(ps, AN_F_POLICY_SYNTAX,
			      "line %zu: bare CR in \"%.*s\"", ln.no,
			      Q(ln.p, ln.len));
			continue;
		}
		if (ln.len == 0 || (ln.len > 0 && an_is_wsp(ln.p[0]))) {
			bool blank = true;

			for (size_t i = 0; i < ln.len; i++)
				blank = blank && an_is_wsp(ln.p[i]);
			if (blank) {
				if (ps->blank_lines++ == 0)
					ps->first_blank = ln.no;
				continue;
			}
		}
		take_line(ps, &ln);
	}
}

static void check_missing(struct pol_parse *ps)
{
	struct an_policy *pol = ps->pol;

	if (ps->blank_lines > 0)
		/* Not in the grammar, but harmless to most senders: a
		 * warning, not an error. */
		an_findings_add_sev(ps->f, AN_F_POLICY_SYNTAX, AN_SEV_WARN,
				    "%zu blank line(s), the first at line %zu",
				    ps->blank_lines, ps->first_blank);
	if (!ps->seen[KEY_VERSION])
		problem(ps, AN_F_POLICY_VERSION_MISSING, "no \"version: STSv1\" line");
	if (!ps->seen[KEY_MODE])
		problem(ps, AN_F_POLICY_MODE_MISSING, "no \"mode:\" line");
	if (!ps->seen[KEY_MAX_AGE])
		problem(ps, AN_F_POLICY_MAX_AGE_MISSING, "no \"max_age:\" line");
	if (pol->n_mx == 0 && pol->mode != AN_MODE_NONE &&
	    pol->mode != AN_MODE_UNSET) {
		if (ps->mx_lines > 0)
			problem(ps, AN_F_POLICY_MX_MISSING,
				"all %zu mx lines are invalid", ps->mx_lines);
		else
			problem(ps, AN_F_POLICY_MX_MISSING, "no mx line");
	}
	if (pol->mode == AN_MODE_TESTING)
		an_findings_add(ps->f, AN_F_POLICY_MODE_TESTING, NULL);
	else if (pol->mode == AN_MODE_NONE)
		an_findings_add(ps->f, AN_F_POLICY_MODE_NONE, NULL);
}

int an_policy_parse(const uint8_t *body, size_t len, struct an_policy *pol,
		    struct an_findings *findings)
{
	struct pol_parse ps = { .body = body, .pol = pol, .f = findings };
	size_t pos = 0;

	if (pol == NULL || findings == NULL || (body == NULL && len > 0))
		return ST_EINVAL;
	memset(pol, 0, sizeof(*pol));

	if (len > AN_POLICY_BODY_MAX) {
		an_findings_add(findings, AN_F_HTTP_TOO_LARGE,
				"body is %zu bytes, over %u", len,
				AN_POLICY_BODY_MAX);
		return ST_OK;
	}
	if (len == 0) {
		an_findings_add(findings, AN_F_POLICY_EMPTY, NULL);
		return ST_OK;
	}
	if (len >= 3 && body[0] == 0xef && body[1] == 0xbb && body[2] == 0xbf) {
		/* Parsed past so the rest is still checked, but a strict
		 * sender sees "\xEF\xBB\xBFversion" and no version. */
		an_findings_add(findings, AN_F_POLICY_BOM, "UTF-8 BOM at offset 0");
		ps.bad = true;
		pos = 3;
	}
	take_lines(&ps, body, pos, len);
	check_missing(&ps);
	pol->usable = !ps.bad;
	return ST_OK;
}

int an_policy_mx_string(const struct an_policy *pol, const uint8_t *body,
			size_t i, char *out, size_t outlen)
{
	const struct an_mx_pattern *m;

	if (pol == NULL || body == NULL || out == NULL || i >= pol->n_mx)
		return ST_EINVAL;
	m = &pol->mx[i];
	if ((size_t)m->len + 1 > outlen)
		return ST_ESPACE;
	memcpy(out, body + m->off, m->len);
	out[m->len] = '\0';
	return ST_OK;
}

const char *an_mode_name(enum an_mode mode)
{
	switch (mode) {
	case AN_MODE_ENFORCE: return "enforce";
	case AN_MODE_TESTING: return "testing";
	case AN_MODE_NONE: return "none";
	case AN_MODE_UNSET: break;
	}
	return "unset";
}
