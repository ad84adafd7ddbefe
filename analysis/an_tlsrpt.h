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
 * Selection (RFC 8460 §3): "If multiple TXT records for "_smtp._tls" are
 * returned by the resolver, records that do not begin with "v=TLSRPTv1;"
 * are discarded.  If the number of resulting records is not one, senders
 * MUST assume the recipient domain does not implement TLSRPT."  Among
 * several TXT records only those beginning with the exact bytes
 * "v=TLSRPTv1;" count; one beginning "v=TLSRPTv1" followed by the end or
 * WSP is discarded and named by AN_F_TLSRPT_DISCARDED (a warning).  A lone
 * record counts when it begins "v=TLSRPTv1" followed by the end, WSP or
 * ';' (the reading stsmap gives RFC 8461 errata 6285).  Records that begin
 * with "v=TLSRPT" in any case but are not v=TLSRPTv1 are reported as
 * AN_F_TLSRPT_VERSION.
 *
 * Grammar: the record that counts must follow the ABNF exactly, or it is
 * AN_TLSRPT_INVALID: trailing WSP without ';', an empty field, a field
 * without '=', an extension name or value outside its character set,
 * control or non-ASCII bytes.  A record with several rua fields is inside
 * the grammar (1*(field-delim tlsrpt-field)); it is accepted, the URIs
 * taken together, and flagged AN_F_TLSRPT_SYNTAX as a warning.
 *
 * Counts: an_tlsrpt_parse_total() is told the RRset's true size when the
 * scanner kept only the first AN_RECORD_TXT_MAX records; details then say
 * "at least N of TOTAL".
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
	size_t candidates;         /* records that count (see Selection) */
	size_t discarded;          /* v=TLSRPTv1 records discarded */
	size_t total;              /* TXT records at the name */
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

/* As an_tlsrpt_parse(), for an RRset of total TXT records of which only the
 * first n were kept (total < n counts as n). */
int an_tlsrpt_parse_total(const struct an_bytes *txt, size_t n, size_t total,
			  struct an_tlsrpt *rpt, struct an_findings *findings);

/* Check one rua URI (already split at commas, WSP trimmed).  Returns true
 * and sets *scheme for "mailto:local@domain" (RFC 6068) or
 * "https://host[:port][/path]" (RFC 3986); false otherwise. */
bool an_tlsrpt_uri_valid(const char *uri, size_t len,
			 enum an_rua_scheme *scheme);

const char *an_tlsrpt_status_name(enum an_tlsrpt_status st);

#endif /* AN_TLSRPT_H */
