/*
 * an_generate.h - produce a consistent MTA-STS TXT record and policy file
 * (`stsmap generate`, and the fix stsmap suggests for broken domains).
 */
#ifndef AN_GENERATE_H
#define AN_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "an_policy.h"

#define AN_GEN_TXT_MAX 64

struct an_gen_request {
	const char *const *mx; /* MX host names or "*." patterns, NUL-terminated */
	size_t n_mx;
	enum an_mode mode;     /* enforce, testing or none */
	uint64_t max_age;      /* seconds, at most AN_POLICY_MAX_AGE_MAX */
	time_t now;            /* the id is derived from this time (UTC) */
};

/*
 * Write the TXT record value ("v=STSv1; id=20261125T053800;") into txt
 * (size txtlen, at least AN_GEN_TXT_MAX) and the policy body into policy
 * (size policylen).  MX names are lower-cased, a trailing dot removed and
 * duplicates dropped, in their given order; each must pass
 * an_mx_pattern_valid().  The output is checked by parsing it back with
 * an_sts_record_parse() and an_policy_parse(); anything but a clean parse
 * is a bug and returns ST_EUNKNOWN.
 *
 * Returns ST_OK; ST_EINVAL for a bad mode, max_age or MX name (mode none
 * needs no MX; the others need at least one); ST_ERANGE for more than
 * AN_POLICY_MX_MAX distinct names or a time outside the years 1000-9999
 * (the id would not be 15 letters and digits); ST_ESPACE if an output
 * buffer is too small.  On failure txt and policy are "" and *policy_len
 * is 0; on success *policy_len receives the body length.
 */
int an_generate(const struct an_gen_request *req, char *txt, size_t txtlen,
		char *policy, size_t policylen, size_t *policy_len);

#endif /* AN_GENERATE_H */
