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
 * Selection (RFC 8461 §3.1): "If multiple TXT records for "_mta-sts" are
 * returned by the resolver, records that do not begin with "v=STSv1;" are
 * discarded.  If the number of resulting records is not one, or if the
 * resulting record is syntactically invalid, senders MUST assume the
 * recipient domain does not have an available MTA-STS Policy."  So:
 *
 *  - Several TXT records at the name: a record counts only if it begins
 *    with the exact bytes "v=STSv1;".  One that begins "v=STSv1" followed
 *    by the end or WSP ("v=STSv1", "v=STSv1 ; id=1", "v=STSv1 is not a
 *    policy") is discarded and named by AN_F_STS_DISCARDED (a warning: it
 *    changes nothing for senders, whatever the operator meant by it).
 *  - A single TXT record (errata 6285, whitespace before ';'): the ABNF
 *    allows "v=STSv1 ;id=1" while the prose only speaks of discarding
 *    among several records.  stsmap follows the ABNF for a lone record: it
 *    counts when it begins with "v=STSv1" followed by the end, WSP or ';',
 *    and is valid if the rest is, with the warning AN_F_STS_WS_BEFORE_DELIM
 *    because senders that apply the "v=STSv1;" test to every record will
 *    not see it.
 *  - Records beginning "v=STS" in any letter case that do not count
 *    (v=STSv10, v=stsv1, v=STSv2) are discarded too, reported as
 *    AN_F_STS_VERSION because they are almost always typos.
 *
 * Grammar: the record that counts must follow the ABNF above exactly, or
 * it is AN_STS_INVALID (an error, never a warning): trailing WSP without a
 * ';' after it, an empty field (";;"), a field without '=', an extension
 * name or value outside its character set, a missing or malformed id.  A
 * field named "id" is always read as sts-id, never as an extension.
 *
 * Duplicate id: "id=1; id=2" is inside the grammar (1*(sts-field-delim
 * sts-field) does not limit sts-id to one), and the RFC does not say which
 * one a sender uses.  The record stays valid, the first id is kept, and
 * AN_F_STS_ID_DUPLICATE warns (senders differ: some keep the last).  The
 * verdict does not depend on it; only the refetch decision does.
 *
 * Counts: the scanner keeps at most AN_RECORD_TXT_MAX records of an RRset.
 * an_sts_record_parse_total() is told the RRset's true size, and details
 * then say "at least N of TOTAL" where records were not examined.  The
 * verdict can only use the records examined: a second "v=STSv1;" record
 * among those not kept would go unseen.
 *
 * docs/rfc-ambiguities.md lists these choices and what other
 * implementations do.
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
	size_t candidates;        /* records that count (see Selection) */
	size_t discarded;         /* v=STSv1 records discarded among several */
	size_t other;             /* non-STS TXT records examined */
	size_t total;             /* TXT records at the name, examined or not */
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

/* As an_sts_record_parse(), for an RRset of total TXT records of which only
 * the first n were kept (total < n counts as n): selection applies the
 * several-records rule whenever total > 1, and counts in details say "at
 * least" when total > n. */
int an_sts_record_parse_total(const struct an_bytes *txt, size_t n,
			      size_t total, struct an_sts_record *rec,
			      struct an_findings *findings);

const char *an_sts_status_name(enum an_sts_status st);

#endif /* AN_STS_RECORD_H */
