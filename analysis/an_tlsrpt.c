/* an_tlsrpt.c - TLS-RPT record parser (RFC 8460 §3); contract in an_tlsrpt.h */
#include "an_tlsrpt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "an_text.h"
#include "st_error.h"

#define TR_VERSION "v=TLSRPTv1"
#define TR_VERSION_LEN (sizeof(TR_VERSION) - 1)
#define TR_PREFIX_CI "v=tlsrpt"
#define TR_QUOTE_MAX 64  /* a quoted URI, NUL included; fits in a detail */
#define TR_SHORT_QUOTE 40 /* a quoted name or record start */
#define TR_DOMAIN_MAX 253 /* RFC 1035 §2.3.4, without the trailing dot */
#define TR_LABEL_MAX 63
#define TR_IP6_MAX 45    /* INET6_ADDRSTRLEN - 1 */
#define TR_NONE SIZE_MAX

/* Parse state for the single candidate record.  Offsets are into p. */
struct tr_ctx {
	const uint8_t *p;
	size_t len;
	struct an_tlsrpt *rpt;
	struct an_findings *f;
	size_t errors;       /* error-severity grammar problems seen */
	size_t n_invalid;    /* rua URIs that failed an_tlsrpt_uri_valid */
	size_t rua_fields;   /* rua= fields seen */
	size_t rua_case_off; /* offset of "RUA=" in another case, or TR_NONE */
};

enum tr_kind {
	TR_OTHER,     /* not TLS-RPT at all: ignored */
	TR_CANDIDATE, /* the record that counts (see classify()) */
	TR_DISCARDED, /* v=TLSRPTv1 without ';', one of several records */
	TR_BAD_VERSION,
};

static bool is_hex(uint8_t c)
{
	return an_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* Bytes no part of the grammar admits anywhere (TAB is WSP, so allowed). */
static bool is_raw_bad(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c >= 0x7f;
}

/* RFC 3986 §2.3 unreserved. */
static bool is_unreserved(uint8_t c)
{
	return an_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 §2.2 sub-delims without ',' and ';', which RFC 8460 §3 says
 * must be %-encoded inside a tlsrpt-uri. */
static bool is_subdelim(uint8_t c)
{
	return c != '\0' && strchr("!$&'()*+=", c) != NULL;
}

/* RFC 3986 §2.1: "%" HEXDIG HEXDIG starting at s[i]. */
static bool pct_ok(const uint8_t *s, size_t len, size_t i)
{
	return s[i] == '%' && len - i >= 3 && is_hex(s[i + 1]) &&
	       is_hex(s[i + 2]);
}

/* Copy up to cap-1 bytes of s into out, printable, marking a cut with "...".
 * findings would mask the bytes too, but a NUL would end the detail early. */
static void quote(char *out, size_t cap, const uint8_t *s, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? (char)s[i] : '?';
	if (n < len && n >= 3)
		memcpy(out + n - 3, "...", 3);
	out[n] = '\0';
}

static size_t find(const struct tr_ctx *c, size_t from, size_t to, uint8_t ch)
{
	while (from < to && c->p[from] != ch)
		from++;
	return from;
}

static size_t skip_wsp(const struct tr_ctx *c, size_t pos)
{
	while (pos < c->len && an_is_wsp(c->p[pos]))
		pos++;
	return pos;
}

static bool has_raw_bad(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (is_raw_bad(s[i]))
			return true;
	}
	return false;
}

/* Report a grammar problem; only error severity makes the record invalid. */
static void syntax(struct tr_ctx *c, enum an_severity sev, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));
static void syntax(struct tr_ctx *c, enum an_severity sev, const char *fmt,
		   ...)
{
	char detail[AN_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	an_findings_add_sev(c->f, AN_F_TLSRPT_SYNTAX, sev, "%s", detail);
	if (sev >= AN_SEV_ERROR)
		c->errors++;
}

/* Host names as LDH labels (RFC 1123 §2.1): 1-63 letters, digits and
 * hyphens, no hyphen at either end.  A dotted quad is LDH-shaped, so this
 * also admits IPv4 literals (RFC 3986 §3.2.2 reads them as reg-names too). */
static bool ldh_domain_ok(const uint8_t *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > TR_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!an_is_alnum(s[i]) && s[i] != '-')
			return false;
		if (s[i] == '-' && label == 0)
			return false;
		if (++label > TR_LABEL_MAX)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

/* RFC 6068 §2: "mailto:" local "@" domain.  The local part may carry
 * %-escapes (a ',' must be written %2C, RFC 8460 §3); no hfields. */
static bool mailto_ok(const uint8_t *s, size_t len)
{
	size_t at = 0;

	while (at < len && s[at] != '@')
		at++;
	if (at == 0 || at == len)
		return false;
	for (size_t i = 0; i < at; i++) {
		if (s[i] == '%') {
			if (!pct_ok(s, at, i))
				return false;
			i += 2;
		} else if (!is_unreserved(s[i]) && !is_subdelim(s[i])) {
			return false;
		}
	}
	return ldh_domain_ok(s + at + 1, len - at - 1);
}

/* RFC 3986 §3.2.2 IP-literal, IPv6address only: no IPvFuture, no zone.
 * inet_pton needs a C string, so the characters are checked first (an
 * embedded NUL must not end the copy early). */
static bool ipv6_ok(const uint8_t *s, size_t len)
{
	char buf[TR_IP6_MAX + 1];
	struct in6_addr a;

	if (len == 0 || len > TR_IP6_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
			return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* RFC 3986 §3.2.3: ":" port, here 1-5 digits and at most 65535.  *pos is
 * just past the ':' and is left just past the digits. */
static bool port_ok(const uint8_t *s, size_t len, size_t *pos)
{
	size_t i = *pos;
	unsigned long v = 0;

	while (i < len && an_is_digit(s[i]) && i - *pos < 5) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		i++;
	}
	if (i == *pos || v > 65535 || (i < len && an_is_digit(s[i])))
		return false;
	*pos = i;
	return true;
}

/* RFC 3986 §3.3/§3.4: path and query as pchar / "/" / "?", without the
 * ',' and ';' RFC 8460 §3 reserves; no fragment. */
static bool path_ok(const uint8_t *s, size_t len, size_t i)
{
	for (; i < len; i++) {
		if (s[i] == '%') {
			if (!pct_ok(s, len, i))
				return false;
			i += 2;
		} else if (!is_unreserved(s[i]) && !is_subdelim(s[i]) &&
			   s[i] != ':' && s[i] != '@' && s[i] != '/' &&
			   s[i] != '?') {
			return false;
		}
	}
	return true;
}

/* RFC 3986 §3.2: "https://" host [":" port] [path-abempty] ["?" query].
 * s starts after the "//"; userinfo is not allowed. */
static bool https_ok(const uint8_t *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && s[0] == '[') {
		while (i < len && s[i] != ']')
			i++;
		if (i == len || !ipv6_ok(s + 1, i - 1))
			return false;
		i++;
	} else {
		while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '?')
			i++;
		if (!ldh_domain_ok(s, i))
			return false;
	}
	if (i < len && s[i] == ':') {
		i++;
		if (!port_ok(s, len, &i))
			return false;
	}
	if (i < len && s[i] != '/' && s[i] != '?')
		return false;
	return path_ok(s, len, i);
}

bool an_tlsrpt_uri_valid(const char *uri, size_t len,
			 enum an_rua_scheme *scheme)
{
	const uint8_t *s = (const uint8_t *)uri;
	bool ok = false;
	enum an_rua_scheme sch = AN_RUA_MAILTO;

	if (s == NULL)
		return false;
	/* RFC 3986 §3.1: schemes compare case-insensitively. */
	if (an_prefix_nocase(s, len, "mailto:")) {
		ok = mailto_ok(s + 7, len - 7);
		sch = AN_RUA_MAILTO;
	} else if (an_prefix_nocase(s, len, "https://")) {
		ok = https_ok(s + 8, len - 8);
		sch = AN_RUA_HTTPS;
	}
	if (ok && scheme != NULL)
		*scheme = sch;
	return ok;
}

/* One URI of a rua list, [start, end) already trimmed of WSP. */
static void check_uri(struct tr_ctx *c, size_t start, size_t end)
{
	enum an_rua_scheme sch;
	char q[TR_QUOTE_MAX];

	if (start == end) {
		c->n_invalid++;
		an_findings_add(c->f, AN_F_TLSRPT_RUA_INVALID,
				"empty URI in rua at offset %zu", start);
		return;
	}
	if (!an_tlsrpt_uri_valid((const char *)(c->p + start), end - start,
				 &sch)) {
		c->n_invalid++;
		quote(q, sizeof(q), c->p + start, end - start);
		an_findings_add(c->f, AN_F_TLSRPT_RUA_INVALID,
				"\"%s\" at offset %zu", q, start);
		return;
	}
	c->rpt->n_rua++;
	if (sch == AN_RUA_MAILTO)
		c->rpt->n_mailto++;
	else
		c->rpt->n_https++;
}

/* RFC 8460 §3: tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri).
 * [start, end) is the value after "rua=", trailing WSP already trimmed. */
static void parse_rua(struct tr_ctx *c, size_t start, size_t end)
{
	size_t pos = start, comma, us, ue;

	c->rua_fields++;
	if (c->rua_fields > 1)
		syntax(c, AN_SEV_WARN,
		       "rua repeated at offset %zu; URIs taken together",
		       start - 4);
	if (start < end && an_is_wsp(c->p[start]))
		syntax(c, AN_SEV_ERROR,
		       "whitespace after \"rua=\" at offset %zu", start);
	for (;;) {
		comma = find(c, pos, end, ',');
		us = pos;
		ue = comma;
		while (us < ue && an_is_wsp(c->p[us]))
			us++;
		while (ue > us && an_is_wsp(c->p[ue - 1]))
			ue--;
		check_uri(c, us, ue);
		if (comma == end)
			break;
		pos = comma + 1;
	}
}

/* RFC 8460 §3: tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value.
 * Bytes outside the ASCII grammar were reported once by scan_raw(), so
 * they are not reported again here. */
static void parse_ext(struct tr_ctx *c, size_t start, size_t eq, size_t end)
{
	const uint8_t *name = c->p + start;
	size_t nlen = eq - start;
	bool ok = an_ext_name_valid(name, nlen);
	char q[TR_QUOTE_MAX];

	quote(q, TR_SHORT_QUOTE, name, nlen);
	if (!ok && !has_raw_bad(name, nlen))
		syntax(c, AN_SEV_ERROR,
		       "bad field name \"%s\" at offset %zu", q, start);
	if (eq + 1 == end) {
		syntax(c, AN_SEV_ERROR, "empty value for \"%s\" at offset %zu",
		       q, start);
		return;
	}
	for (size_t i = eq + 1; i < end; i++) {
		uint8_t b = c->p[i];

		/* ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
		if ((b >= 0x21 && b <= 0x7e && b != '=' && b != ';') ||
		    is_raw_bad(b))
			continue;
		syntax(c, AN_SEV_ERROR,
		       "byte 0x%02x in value of \"%s\" at offset %zu", b, q, i);
		break;
	}
}

/* One field, [start, end): starts with neither WSP nor ';', trimmed. */
static void parse_field(struct tr_ctx *c, size_t start, size_t end)
{
	size_t eq = find(c, start, end, '=');
	char q[TR_QUOTE_MAX];

	if (eq == end) {
		quote(q, TR_SHORT_QUOTE, c->p + start, end - start);
		syntax(c, AN_SEV_ERROR,
		       "field without '=' at offset %zu: \"%s\"", start, q);
		return;
	}
	/* RFC 8460 §3: %s"rua=" is case-sensitive; "RUA=" is an extension. */
	if (eq - start == 3 && memcmp(c->p + start, "rua", 3) == 0) {
		parse_rua(c, eq + 1, end);
		return;
	}
	if (eq - start == 3 && an_prefix_nocase(c->p + start, 3, "rua") &&
	    c->rua_case_off == TR_NONE)
		c->rua_case_off = start;
	parse_ext(c, start, eq, end);
}

/* NUL, control and non-ASCII bytes fit nowhere in the grammar: one finding
 * names the first and counts the rest. */
static void scan_raw(struct tr_ctx *c)
{
	size_t first = TR_NONE, count = 0;
	uint8_t b;

	for (size_t i = TR_VERSION_LEN; i < c->len; i++) {
		if (!is_raw_bad(c->p[i]))
			continue;
		if (count++ == 0)
			first = i;
	}
	if (count == 0)
		return;
	b = c->p[first];
	syntax(c, AN_SEV_ERROR, "%s byte 0x%02x at offset %zu (%zu in record)",
	       b == 0 ? "NUL" : b >= 0x80 ? "non-ASCII" : "control", b, first,
	       count);
}

/*
 * RFC 8460 §3: tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim],
 * field-delim = *WSP ";" *WSP.  A field runs to the next ';' (URIs carry
 * theirs %-encoded), so a bad field never hides the ones after it and every
 * problem is reported.
 */
static void parse_fields(struct tr_ctx *c)
{
	size_t pos = TR_VERSION_LEN, ws, end;

	for (;;) {
		ws = skip_wsp(c, pos);
		if (ws == c->len) {
			/* RFC 8460 §3: WSP belongs to a field-delim only
			 * with its ';', so trailing WSP alone is outside the
			 * tlsrpt-record grammar: an error, like any other. */
			if (ws > pos)
				syntax(c, AN_SEV_ERROR,
				       "trailing whitespace without ';' at "
				       "offset %zu", pos);
			break;
		}
		if (c->p[ws] == ';') {
			pos = skip_wsp(c, ws + 1);
			if (pos == c->len)
				break; /* the optional final field-delim */
		} else {
			/* Only reachable right after the version: fields run
			 * to a ';', so after one ws is at ';' or the end. */
			syntax(c, AN_SEV_ERROR,
			       "missing ';' at offset %zu", ws);
			pos = ws;
		}
		if (c->p[pos] == ';') {
			syntax(c, AN_SEV_ERROR,
			       "empty field at offset %zu", pos);
			continue;
		}
		end = find(c, pos, c->len, ';');
		while (end > pos && an_is_wsp(c->p[end - 1]))
			end--;
		parse_field(c, pos, end);
		pos = end;
	}
}

static void parse_candidate(const struct an_bytes *rr, struct an_tlsrpt *rpt,
			    struct an_findings *f)
{
	struct tr_ctx c = {
		.p = rr->data,
		.len = rr->len,
		.rpt = rpt,
		.f = f,
		.rua_case_off = TR_NONE,
	};

	scan_raw(&c);
	parse_fields(&c);
	if (c.rua_fields == 0 && c.rua_case_off != TR_NONE)
		an_findings_add(f, AN_F_TLSRPT_RUA_MISSING,
				"no rua field (field at offset %zu differs in "
				"case; rua= is case-sensitive)",
				c.rua_case_off);
	else if (c.rua_fields == 0)
		an_findings_add(f, AN_F_TLSRPT_RUA_MISSING, "no rua field");
	rpt->status = (c.errors == 0 && c.n_invalid == 0 && rpt->n_rua > 0)
			      ? AN_TLSRPT_VALID
			      : AN_TLSRPT_INVALID;
}

/* RFC 8460 §3: "If multiple TXT records for "_smtp._tls" are returned by
 * the resolver, records that do not begin with "v=TLSRPTv1;" are
 * discarded.  If the number of resulting records is not one, senders MUST
 * assume the recipient domain does not implement TLSRPT."  Among several
 * records only the exact bytes "v=TLSRPTv1;" count; a lone record counts
 * when the case-sensitive version token ends at a delimiter, WSP or the
 * end (the same reading as RFC 8461 errata 6285). */
static enum tr_kind classify(const struct an_bytes *rr, bool several)
{
	const uint8_t *s = rr->data;
	bool version = rr->len >= TR_VERSION_LEN &&
		       memcmp(s, TR_VERSION, TR_VERSION_LEN) == 0;
	bool semi = version && rr->len > TR_VERSION_LEN &&
		    s[TR_VERSION_LEN] == ';';

	if (version && (semi || rr->len == TR_VERSION_LEN ||
			an_is_wsp(s[TR_VERSION_LEN])))
		return (semi || !several) ? TR_CANDIDATE : TR_DISCARDED;
	if (rr->len > 0 && an_prefix_nocase(s, rr->len, TR_PREFIX_CI))
		return TR_BAD_VERSION;
	return TR_OTHER;
}

/* One finding per record not taken; true if txt is the one that counts. */
static bool select_one(const struct an_bytes *txt, bool several,
		       struct an_tlsrpt *rpt, struct an_findings *findings)
{
	char q[TR_QUOTE_MAX];

	switch (classify(txt, several)) {
	case TR_CANDIDATE:
		rpt->candidates++;
		return true;
	case TR_DISCARDED:
		rpt->discarded++;
		quote(q, TR_SHORT_QUOTE, txt->data, txt->len);
		an_findings_add(findings, AN_F_TLSRPT_DISCARDED,
				"record \"%s\" discarded: one of several TXT "
				"records and it does not begin with "
				"\"v=TLSRPTv1;\"", q);
		break;
	case TR_BAD_VERSION:
		quote(q, TR_SHORT_QUOTE, txt->data, txt->len);
		an_findings_add(findings, AN_F_TLSRPT_VERSION,
				"record starts \"%s\"", q);
		break;
	case TR_OTHER:
		break;
	}
	return false;
}

int an_tlsrpt_parse_total(const struct an_bytes *txt, size_t n, size_t total,
			  struct an_tlsrpt *rpt, struct an_findings *findings)
{
	size_t first = 0;
	int ret = ST_EINVAL;

	if (rpt != NULL)
		*rpt = (struct an_tlsrpt){ .status = AN_TLSRPT_ABSENT };
	if (rpt == NULL || findings == NULL || (txt == NULL && n > 0))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (txt[i].data == NULL && txt[i].len > 0)
			goto out;
	}
	rpt->total = total > n ? total : n;
	for (size_t i = 0; i < n; i++) {
		if (select_one(&txt[i], rpt->total > 1, rpt, findings) &&
		    rpt->candidates == 1)
			first = i;
	}
	ret = ST_OK;
	if (rpt->candidates == 0)
		goto out; /* whether absence matters is decided elsewhere */
	if (rpt->candidates > 1) {
		/* RFC 8460 §3: "If the number of resulting records is not
		 * one, senders MUST assume the recipient domain does not
		 * implement TLSRPT." */
		rpt->status = AN_TLSRPT_MULTIPLE;
		if (rpt->total > n)
			an_findings_add(findings, AN_F_TLSRPT_MULTIPLE,
					"at least %zu of %zu TXT records begin "
					"with \"v=TLSRPTv1;\" (first %zu "
					"examined)", rpt->candidates,
					rpt->total, n);
		else
			an_findings_add(findings, AN_F_TLSRPT_MULTIPLE,
					"%zu records begin with "
					"\"v=TLSRPTv1;\"", rpt->candidates);
		goto out;
	}
	parse_candidate(&txt[first], rpt, findings);
out:
	return ret;
}

int an_tlsrpt_parse(const struct an_bytes *txt, size_t n, struct an_tlsrpt *rpt,
		    struct an_findings *findings)
{
	return an_tlsrpt_parse_total(txt, n, n, rpt, findings);
}

const char *an_tlsrpt_status_name(enum an_tlsrpt_status st)
{
	switch (st) {
	case AN_TLSRPT_ABSENT: return "absent";
	case AN_TLSRPT_VALID: return "valid";
	case AN_TLSRPT_MULTIPLE: return "multiple";
	case AN_TLSRPT_INVALID: return "invalid";
	}
	return "unknown";
}
