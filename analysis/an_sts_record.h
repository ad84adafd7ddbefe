/*
 * an_sts_record.h - the MTA-STS TXT record at _mta-sts.D (RFC 8461 §3.1).
 *
 *   sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *                     [sts-field-delim]
 *   sts-field       = sts-id / sts-extension
 *   sts-field-delim = *WSP ";" *WSP
 *   sts-version     = %s"v=STSv1"
 *   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *   sts-extension   = sts-ext-name "=" sts-ext-value
 *   sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 * Selection (RFC 8461 §3.1): records that do not begin with "v=STSv1" are
 * discarded; if the number left is not exactly one, or the one left is
 * invalid, a sender assumes there is no policy.
 *
 * Errata 6285 (whitespace before ';'): the ABNF allows "v=STSv1 ;id=1" while
 * the prose says records not beginning with "v=STSv1;" are discarded.  stsmap
 * follows the ABNF: such a record is a candidate and is valid if the rest is,
 * and the record gets the warning AN_F_STS_WS_BEFORE_DELIM because senders
 * that implement the prose literally will not see it.  A record is a
 * candidate when it begins with the exact bytes "v=STSv1" followed by the end,
 * WSP or ';'.  Records that begin with "v=STS" in any letter case but are not
 * candidates (v=STSv10, v=stsv1, v=STSv2) are discarded too, and reported as
 * AN_F_STS_VERSION because they are almost always typos.
 */
#ifndef AN_STS_RECORD_H
#define AN_STS_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "an_findings.h"
#include "an_types.h"

#define AN_STS_ID_MAX 32

enum an_sts_status {
	AN_STS_ABSENT,   /* no candidate record: the domain has no policy */
	AN_STS_VALID,    /* exactly one candidate, and it is valid */
	AN_STS_MULTIPLE, /* more than one candidate: senders assume none */
	AN_STS_INVALID,  /* exactly one candidate, syntactically invalid */
};

struct an_sts_record {
	enum an_sts_status status;
	size_t candidates;        /* records beginning with v=STSv1 */
	size_t other;             /* other TXT records at the name */
	char id[AN_STS_ID_MAX + 1]; /* NUL-terminated; "" unless VALID */
	size_t extensions;        /* well-formed extension fields seen */
};

/*
 * Decide what the TXT RRset at _mta-sts.D says.  txt[i] is one TXT RR with
 * its character-strings already joined without separators (RFC 8461 §3.1);
 * n may be 0.  The bytes are only read during the call.
 *
 * Every problem is appended to findings (sts-record.* codes): one finding
 * per problem, with the offending text quoted in the detail.  rec is always
 * filled.  Returns ST_OK, or ST_EINVAL for NULL arguments.
 */
int an_sts_record_parse(const struct an_bytes *txt, size_t n,
			struct an_sts_record *rec, struct an_findings *findings);

const char *an_sts_status_name(enum an_sts_status st);

#endif /* AN_STS_RECORD_H */
