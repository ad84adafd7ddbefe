/*
 * an_text.h - ASCII character classes and comparisons shared by the
 * analysis/ parsers.
 *
 * Records, policies and host names are bytes, not locale text: <ctype.h>
 * would follow the locale (and wants unsigned char), so the parsers use
 * these instead.  All functions read exactly the lengths they are given.
 */
#ifndef AN_TEXT_H
#define AN_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 5234 appendix B.1 core rules. */
static inline bool an_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline bool an_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool an_is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool an_is_alnum(uint8_t c)
{
	return an_is_alpha(c) || an_is_digit(c);
}

static inline uint8_t an_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* a[0..len) equals b[0..len), ASCII case folded (RFC 4343 §3 for names). */
static inline bool an_eq_nocase(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (an_lower(a[i]) != an_lower(b[i]))
			return false;
	}
	return true;
}

/* p[0..len) begins with the lower-case prefix pfx, ignoring case. */
static inline bool an_prefix_nocase(const uint8_t *p, size_t len,
				    const char *pfx)
{
	size_t n = strlen(pfx);

	return len >= n && an_eq_nocase(p, (const uint8_t *)pfx, n);
}

/* p[0..len) is exactly s, ignoring case. */
static inline bool an_bytes_eq_nocase(const uint8_t *p, size_t len,
				      const char *s)
{
	return strlen(s) == len && an_eq_nocase(p, (const uint8_t *)s, len);
}

/* The extension-name rule the three grammars share (RFC 8461 §3.1
 * sts-ext-name, §3.2 sts-policy-ext-name, RFC 8460 §3 tlsrpt-ext-name):
 * (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static inline bool an_ext_name_valid(const uint8_t *p, size_t len)
{
	if (len == 0 || len > 32 || !an_is_alnum(p[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!an_is_alnum(p[i]) && p[i] != '_' && p[i] != '-' &&
		    p[i] != '.')
			return false;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), 0 if the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF).  For writers that must emit valid UTF-8 whatever came in. */
static inline size_t an_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

#endif /* AN_TEXT_H */
