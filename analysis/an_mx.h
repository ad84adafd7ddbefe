/*
 * an_mx.h - matching MX host names against MTA-STS policy patterns
 * (RFC 8461 §4.1).
 *
 * A pattern is either a fully qualified host name, matched exactly, or
 * "*." followed by a name, which matches exactly one extra leftmost label:
 * "*.example.com" matches "mx1.example.com" but neither "example.com" nor
 * "a.b.example.com".  Comparison is ASCII case-insensitive and ignores one
 * trailing dot on either side.  Names are A-labels; no IDNA mapping is done
 * here.
 */
#ifndef AN_MX_H
#define AN_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Does host match pattern?  Both are byte strings of the given lengths (not
 * necessarily NUL-terminated).  An empty host or pattern never matches. */
bool an_mx_match(const char *pattern, size_t plen, const char *host,
		 size_t hlen);

/* Are host names a and b (NUL-terminated) the same name: ASCII
 * case-insensitive, one trailing dot ignored on either side, no wildcard?
 * NULL is never equal. */
bool an_mx_host_eq(const char *a, const char *b);

/* As an_mx_match, for NUL-terminated strings. */
bool an_mx_match_str(const char *pattern, const char *host);

/*
 * For each host i in hosts[0..nhosts) set covered[i] to whether some pattern
 * in patterns[0..npatterns) matches it, and for each pattern j set used[j]
 * (used may be NULL) to whether it matches some host.  All strings are
 * NUL-terminated and only read during the call.  Returns the number of
 * covered hosts.
 */
size_t an_mx_coverage(const char *const *patterns, size_t npatterns,
		      const char *const *hosts, size_t nhosts, bool *covered,
		      bool *used);

/*
 * Check that name is a valid pattern syntax per RFC 8461 §3.2: an RFC 5321
 * Domain (LDH labels of 1 to 63 bytes, not starting or ending with '-',
 * total at most 253 bytes without the trailing dot), optionally prefixed by
 * "*." as the whole leftmost label; no IP literal, no U-labels, no '_'.
 * One trailing dot is accepted (*trailing_dot is set when present; it may be
 * NULL).  On failure, *why (may be NULL) points to a static reason string.
 */
bool an_mx_pattern_valid(const char *name, size_t len, bool *trailing_dot,
			 const char **why);

#endif /* AN_MX_H */
