/*
 * an_fix.h - the fix stsmap suggests for a broken domain: a corrected
 * MTA-STS TXT record and policy file, built by the generator
 * (an_generate.h) from the domain's real MX set as the scan recorded it.
 *
 * Shared by `stsmap check` (printed under the verdict), the CSV export
 * (fix_txt / fix_policy columns) and the registry export.  Pure: no I/O,
 * no allocation.
 */
#ifndef AN_FIX_H
#define AN_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "an_generate.h"
#include "an_record.h"

#define AN_FIX_MAX_AGE_DEFAULT 604800u /* one week, when the old one is bad */
#define AN_FIX_MAX_AGE_MIN 86400u      /* below it is a warning: replaced */

/*
 * Does r need a fix?  True when the domain announces MTA-STS (verdict not
 * no-policy and not undetermined) and has at least one finding of severity
 * error.  A domain without a policy has nothing to correct; an
 * undetermined one may be a transient DNS failure on our side.
 */
bool an_fix_needed(const struct an_record *r);

/*
 * Build the fix for r: the TXT value for _mta-sts.<domain> into txt (size
 * txtlen, at least AN_GEN_TXT_MAX) and the policy file into policy (size
 * policylen; AN_POLICY_BODY_MAX always suffices) with *policy_len.
 * The policy lists every MX host of r (null MX excluded), by preference.  Its mode is
 * enforce only when r's policy was usable and already in enforce mode (the
 * operator chose enforce; only the MX list is wrong), otherwise testing,
 * so a fix never turns a domain that gets mail today into one that
 * bounces.  max_age is r's when it was between 86400 and 31557600, else
 * one week.  now is the time the new id is
 * derived from (UTC); a different id than r's makes senders fetch again.
 *
 * Whether r needs a fix is not checked here (see an_fix_needed()).
 * Returns ST_OK; ST_ENOENT when there is nothing to build from: no MX host
 * (no MX, null MX) or an MX set the scan cut short (n_mx_total > n_mx: a
 * policy from part of the set would refuse the rest); the generator's
 * errors (ST_EINVAL for an MX name it refuses, ST_ERANGE, ST_ESPACE).  On
 * failure txt and policy are "" and *policy_len is 0.
 */
int an_fix_build(const struct an_record *r, time_t now, char *txt,
		 size_t txtlen, char *policy, size_t policylen,
		 size_t *policy_len);

#endif /* AN_FIX_H */
