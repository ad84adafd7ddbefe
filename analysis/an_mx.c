/*
 * an_mx.c - MX host name matching against MTA-STS "mx" patterns
 * (RFC 8461 §4.1) and pattern syntax checking (RFC 8461 §3.2).
 *
 * Pure functions: no I/O, no allocation, no locale.  Case folding is done by
 * hand on ASCII A-Z only, because tolower() depends on the C locale and a
 * byte >= 0x80 in a name must compare exactly (names are A-labels; a raw
 * UTF-8 byte is a U-label mistake, not something to fold).
 */
#include "an_mx.h"

#include <string.h>

#include "an_text.h"

/* RFC 1035 §2.3.4 / RFC 5321 §4.5.3.1.2: label and name size limits. */
#define AN_MX_LABEL_MAX 63
#define AN_MX_NAME_MAX 253

/* RFC 4343 §3: DNS names compare ASCII case-insensitively. */
static bool ascii_eq_nocase(const char *a, const char *b, size_t len)
{
	return an_eq_nocase((const uint8_t *)a, (const uint8_t *)b, len);
}

/* Drop one trailing dot: "mx.example.com." is the same name, fully
 * qualified (RFC 1034 §3.1). */
static size_t strip_dot(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '.')
		return len - 1;
	return len;
}

bool an_mx_match(const char *pattern, size_t plen, const char *host,
		 size_t hlen)
{
	const char *dot;
	size_t slen, first;

	if (pattern == NULL || host == NULL)
		return false;
	plen = strip_dot(pattern, plen);
	hlen = strip_dot(host, hlen);
	if (plen == 0 || hlen == 0)
		return false;

	/*
	 * RFC 8461 §4.1: a leftmost "*" label matches exactly one label of the
	 * host, so "*.example.com" covers "mx1.example.com" only.  A bare "*"
	 * (or "*.") is a wildcard over nothing and matches no host; it is not
	 * the literal name "*".
	 */
	if (pattern[0] == '*' && (plen == 1 || pattern[1] == '.')) {
		slen = plen > 1 ? plen - 2 : 0;
		if (slen == 0)
			return false;
		dot = memchr(host, '.', hlen);
		if (dot == NULL || dot == host)
			return false;
		first = (size_t)(dot - host) + 1;
		if (hlen - first != slen)
			return false;
		return ascii_eq_nocase(host + first, pattern + 2, slen);
	}

	/* RFC 8461 §4.1: otherwise the whole name must match, no suffixes. */
	if (plen != hlen)
		return false;
	return ascii_eq_nocase(pattern, host, plen);
}

bool an_mx_match_str(const char *pattern, const char *host)
{
	if (pattern == NULL || host == NULL)
		return false;
	return an_mx_match(pattern, strlen(pattern), host, strlen(host));
}

size_t an_mx_coverage(const char *const *patterns, size_t npatterns,
		      const char *const *hosts, size_t nhosts, bool *covered,
		      bool *used)
{
	size_t i, j, count = 0;
	bool hit;

	if (used != NULL) {
		for (j = 0; j < npatterns; j++)
			used[j] = false;
	}
	for (i = 0; i < nhosts; i++) {
		hit = false;
		for (j = 0; j < npatterns; j++) {
			if (!an_mx_match_str(patterns[j], hosts[i]))
				continue;
			hit = true;
			if (used == NULL)
				break;	/* nothing more to learn */
			used[j] = true;
		}
		if (covered != NULL)
			covered[i] = hit;
		if (hit)
			count++;
	}
	return count;
}

/* Per-label facts the whole-name checks need. */
struct label_info {
	bool all_digits;
};

/*
 * One label of an RFC 5321 Domain: sub-domain = Let-dig [Ldh-str]
 * (RFC 5321 §4.1.2), at most 63 bytes (RFC 1035 §2.3.4).  "xn--" A-labels
 * are plain LDH here; no Punycode decoding (RFC 5890 §2.3.2.1).
 */
static bool check_label(const char *l, size_t len, struct label_info *info,
			const char **why)
{
	unsigned char c;
	size_t i;

	info->all_digits = true;
	if (len == 0) {
		*why = "empty label";
		return false;
	}
	if (len > AN_MX_LABEL_MAX) {
		*why = "label longer than 63 bytes";
		return false;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)l[i];
		if (c >= '0' && c <= '9')
			continue;
		info->all_digits = false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-')
			continue;
		if (c >= 0x80)
			*why = "non-ASCII (U-label?)";
		else if (c == '_')
			*why = "underscore not allowed in a host name";
		else if (c == '*')
			*why = "wildcard not the whole leftmost label";
		else
			*why = "invalid character";
		return false;
	}
	if (l[0] == '-') {
		*why = "label starts with a hyphen";
		return false;
	}
	if (l[len - 1] == '-') {
		*why = "label ends with a hyphen";
		return false;
	}
	return true;
}

/*
 * Walk the labels of name[start..n).  Sets *nlabels, *all_numeric (every
 * label is digits only) and *last_numeric (the rightmost label is).
 */
static bool check_labels(const char *name, size_t start, size_t n,
			 size_t *nlabels, bool *all_numeric,
			 bool *last_numeric, const char **why)
{
	struct label_info info = { .all_digits = false };
	const char *dot;
	size_t pos = start, llen;

	*nlabels = 0;
	*all_numeric = true;
	for (;;) {
		dot = memchr(name + pos, '.', n - pos);
		llen = dot != NULL ? (size_t)(dot - (name + pos)) : n - pos;
		if (!check_label(name + pos, llen, &info, why))
			return false;
		(*nlabels)++;
		if (!info.all_digits)
			*all_numeric = false;
		if (dot == NULL)
			break;
		pos += llen + 1;
	}
	*last_numeric = info.all_digits;
	return true;
}

bool an_mx_pattern_valid(const char *name, size_t len, bool *trailing_dot,
			 const char **why)
{
	const char *reason = NULL;
	bool trailing = false, all_numeric, last_numeric;
	size_t n = len, start = 0, nlabels;
	bool ok = false;

	if (name == NULL || len == 0) {
		reason = "empty";
		goto out;
	}
	/* RFC 5321 §4.1.3: address literals are "[...]"; RFC 8461 §3.2
	 * patterns are host names only. */
	if (name[0] == '[') {
		reason = "IP literal, not a host name";
		goto out;
	}
	if (name[n - 1] == '.') {
		trailing = true;
		n--;
	}
	if (n == 0) {
		reason = "lone dot, no host name";
		goto out;
	}
	if (n > AN_MX_NAME_MAX) {
		reason = "name longer than 253 bytes";
		goto out;
	}
	/* RFC 8461 §3.2/§4.1: "*" may only be the whole leftmost label. */
	if (name[0] == '*') {
		if (n >= 2 && name[1] != '.') {
			reason = "wildcard not the whole leftmost label";
			goto out;
		}
		if (n <= 2) {
			reason = "wildcard without a domain";
			goto out;
		}
		start = 2;
	}
	if (!check_labels(name, start, n, &nlabels, &all_numeric,
			  &last_numeric, &reason))
		goto out;
	/* A dotted quad is an address, not a name (RFC 1123 §2.1). */
	if (start == 0 && nlabels == 4 && all_numeric) {
		reason = "IP literal, not a host name";
		goto out;
	}
	/* RFC 3696 §2: a top-level domain is never all-numeric. */
	if (last_numeric) {
		reason = "top-level label is all digits";
		goto out;
	}
	ok = true;
out:
	if (trailing_dot != NULL)
		*trailing_dot = trailing;
	if (why != NULL)
		*why = reason;
	return ok;
}

bool an_mx_host_eq(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return false;
	la = strip_dot(a, strlen(a));
	lb = strip_dot(b, strlen(b));
	return la == lb && ascii_eq_nocase(a, b, la);
}
