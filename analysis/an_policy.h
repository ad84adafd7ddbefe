/*
 * an_policy.h - the MTA-STS policy body (RFC 8461 §3.2).
 *
 *   sts-policy-record  = sts-policy-field *WSP
 *                        *(sts-policy-term sts-policy-field *WSP)
 *                        [sts-policy-term]
 *   sts-policy-field   = version / mode / max_age / mx / extension,
 *                        each "name" ":" *WSP value
 *   sts-policy-term    = LF / CRLF
 *   version value      = %s"STSv1"
 *   mode value         = %s"testing" / %s"enforce" / %s"none"
 *   max_age value      = 1*10(DIGIT), at most 31557600
 *   mx value           = ["*."] Domain (RFC 5321 Domain: A-labels)
 *   ext-name           = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   ext-value          = vchar [*(SP / vchar) vchar], vchar = %x21-7E / UTF-8
 *
 * The parser reads the whole body and reports every problem it finds, not
 * only the first.  Keys and values are case-sensitive ("mode: Enforce" and
 * "Mode: enforce" are both wrong).  A policy is usable (a sender would apply
 * it) only if no error-severity policy finding was raised.
 *
 * Choices where the RFC is silent, each a finding so a report can tell:
 *  - a repeated field other than mx (version, mode, max_age or an
 *    extension) is ignored after its first entry, as §3.2 says ("all
 *    entries except for the first SHALL be ignored"): a warning names each
 *    ignored line, and the first entry decides even when it is invalid and
 *    a later one would be valid (the later one is not even checked);
 *  - a blank line, a line without ':' or a bare CR is policy.syntax;
 *  - an "mx" pattern with a trailing dot gets a warning and is kept without
 *    the dot (matching ignores trailing dots anyway);
 *  - a leading UTF-8 BOM is an error (strict parsers then see no "version").
 */
#ifndef AN_POLICY_H
#define AN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an_findings.h"

#define AN_POLICY_BODY_MAX 65536u  /* RFC 8461 §3.3: 64 KiB */
#define AN_POLICY_MAX_AGE_MAX 31557600u
#define AN_POLICY_MAX_AGE_MIN_OK 86400u /* below: warning */
#define AN_POLICY_MX_MAX 64       /* patterns kept; more are counted */

enum an_mode {
	AN_MODE_UNSET = 0,
	AN_MODE_ENFORCE,
	AN_MODE_TESTING,
	AN_MODE_NONE,
};

/* An mx pattern: a slice of the body passed to an_policy_parse.  It stays
 * valid exactly as long as that body.  Never includes a trailing dot. */
struct an_mx_pattern {
	uint32_t off;
	uint16_t len;
	bool wildcard; /* starts with "*." */
};

struct an_policy {
	bool usable;          /* no error finding: a sender would apply it */
	bool has_version;     /* a valid "version: STSv1" line */
	enum an_mode mode;    /* AN_MODE_UNSET if missing or invalid */
	bool has_max_age;     /* max_age parsed (it may still be too large) */
	uint64_t max_age;
	size_t n_mx;          /* valid patterns in mx[] */
	size_t n_mx_dropped;  /* valid patterns beyond AN_POLICY_MX_MAX */
	struct an_mx_pattern mx[AN_POLICY_MX_MAX];
	size_t n_extensions;  /* well-formed unknown keys */
};

/*
 * Parse body[0..len) and fill pol; append every problem to findings
 * (policy.* codes, the line number in each detail).  A body over
 * AN_POLICY_BODY_MAX is not parsed: it gets one AN_F_HTTP_TOO_LARGE finding
 * and pol->usable is false.  Returns ST_OK, or ST_EINVAL for NULL pointers
 * (body may be NULL when len is 0).
 */
int an_policy_parse(const uint8_t *body, size_t len, struct an_policy *pol,
		    struct an_findings *findings);

/* Copy pattern i of pol as a NUL-terminated string into out (size outlen,
 * at least 256).  body must be the one pol was parsed from. */
int an_policy_mx_string(const struct an_policy *pol, const uint8_t *body,
			size_t i, char *out, size_t outlen);

const char *an_mode_name(enum an_mode mode); /* "enforce", ..., "unset" */

#endif /* AN_POLICY_H */
