/*
 * an_tlsrpt.h - the SMTP TLS Reporting record at _smtp._tls.D (RFC 8460 §3).
 *
 *   tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field)
 *                      [field-delim]
 *   field-delim      = *WSP ";" *WSP
 *   tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
 *   tlsrpt-version   = %s"v=TLSRPTv1"
 *   tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-uri       = URI (RFC 3986), "mailto:" or "https:" scheme;
 *                      commas and semicolons inside a URI are %-encoded
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * Selection mirrors MTA-STS: records not beginning with "v=TLSRPTv1" are
 * discarded; not exactly one left means no TLS reporting.  Records that begin
 * with "v=TLSRPT" in any case but are not v=TLSRPTv1 are reported as
 * AN_F_TLSRPT_VERSION.  A record with several rua fields is accepted, their
 * URIs taken together, and flagged AN_F_TLSRPT_SYNTAX as a warning.
 */
#ifndef AN_TLSRPT_H
#define AN_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include "an_findings.h"
#include "an_types.h"

enum an_tlsrpt_status {
	AN_TLSRPT_ABSENT,
	AN_TLSRPT_VALID,
	AN_TLSRPT_MULTIPLE,
	AN_TLSRPT_INVALID,
};

enum an_rua_scheme {
	AN_RUA_MAILTO,
	AN_RUA_HTTPS,
};

struct an_tlsrpt {
	enum an_tlsrpt_status status;
	size_t candidates;         /* records beginning with v=TLSRPTv1 */
	size_t n_rua;              /* valid URIs */
	size_t n_mailto;           /* of which mailto: */
	size_t n_https;            /* of which https: */
};

/*
 * Decide what the TXT RRset at _smtp._tls.D says.  txt[i] is one RR with its
 * character-strings joined; n may be 0; bytes are only read during the call.
 * Problems are appended to findings (tlsrpt.* codes).  A record is VALID
 * when it follows the grammar and has at least one valid rua URI and no
 * invalid one.  Returns ST_OK, or ST_EINVAL for NULL arguments.
 */
int an_tlsrpt_parse(const struct an_bytes *txt, size_t n, struct an_tlsrpt *rpt,
		    struct an_findings *findings);

/* Check one rua URI (already split at commas, WSP trimmed).  Returns true
 * and sets *scheme for "mailto:local@domain" (RFC 6068) or
 * "https://host[:port][/path]" (RFC 3986); false otherwise. */
bool an_tlsrpt_uri_valid(const char *uri, size_t len,
			 enum an_rua_scheme *scheme);

const char *an_tlsrpt_status_name(enum an_tlsrpt_status st);

#endif /* AN_TLSRPT_H */
