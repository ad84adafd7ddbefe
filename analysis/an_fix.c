/*
 * an_fix.c - the suggested fix for a broken domain (see an_fix.h).
 */
#include "an_fix.h"

#include <stdint.h>

#include "an_classify.h"
#include "an_policy.h"
#include "st_error.h"

bool an_fix_needed(const struct an_record *r)
{
	if (r->verdict == AN_V_NO_POLICY || r->verdict == AN_V_UNDETERMINED)
		return false;
	for (size_t i = 0; i < r->n_findings; i++) {
		if (r->findings[i].severity == AN_SEV_ERROR)
			return true;
	}
	return false;
}

int an_fix_build(const struct an_record *r, time_t now, char *txt,
		 size_t txtlen, char *policy, size_t policylen,
		 size_t *policy_len)
{
	const char *mx[AN_RECORD_MX_MAX];
	uint16_t pref[AN_RECORD_MX_MAX];
	struct an_gen_request req = { .mx = mx, .now = now };
	int ret = ST_ENOENT;

	if (txtlen > 0)
		txt[0] = '\0';
	if (policylen > 0)
		policy[0] = '\0';
	*policy_len = 0;
	if (r->n_mx_total > r->n_mx || r->n_mx > AN_RECORD_MX_MAX)
		goto out;
	/* by preference, the order an operator reads them in (stable
	 * insertion: at most AN_RECORD_MX_MAX hosts) */
	for (size_t i = 0; i < r->n_mx; i++) {
		size_t j;

		if (r->mx[i].name == NULL || r->mx[i].name[0] == '\0')
			continue;
		for (j = req.n_mx; j > 0 && pref[j - 1] > r->mx[i].pref; j--) {
			mx[j] = mx[j - 1];
			pref[j] = pref[j - 1];
		}
		mx[j] = r->mx[i].name;
		pref[j] = r->mx[i].pref;
		req.n_mx++;
	}
	if (req.n_mx == 0)
		goto out;
	req.mode = r->policy_usable && r->mode == AN_MODE_ENFORCE
			   ? AN_MODE_ENFORCE : AN_MODE_TESTING;
	req.max_age = r->have_max_age && r->max_age >= AN_FIX_MAX_AGE_MIN &&
				      r->max_age <= AN_POLICY_MAX_AGE_MAX
			      ? r->max_age : AN_FIX_MAX_AGE_DEFAULT;
	ret = an_generate(&req, txt, txtlen, policy, policylen, policy_len);
out:
	return ret;
}
