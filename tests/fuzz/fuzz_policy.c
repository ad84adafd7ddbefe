/*
 * fuzz_policy.c - libFuzzer target for an_policy_parse().
 *
 * The whole input is one policy body.  Invariants checked: every kept mx
 * pattern lies inside the body, usable means no error finding, and the
 * pattern strings can be copied out.
 */
#include <stddef.h>
#include <stdint.h>

#include "an_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_policy pol;
	struct an_findings findings;
	char mx[256];

	an_findings_init(&findings);
	an_policy_parse(data, size, &pol, &findings);
	if (pol.usable != (an_findings_count_sev(&findings, AN_SEV_ERROR) == 0))
		__builtin_trap();
	if (pol.n_mx > AN_POLICY_MX_MAX)
		__builtin_trap();
	for (size_t i = 0; i < pol.n_mx; i++) {
		if ((size_t)pol.mx[i].off + pol.mx[i].len > size)
			__builtin_trap();
		if (an_policy_mx_string(&pol, data, i, mx, sizeof(mx)) != 0)
			__builtin_trap();
	}
	return 0;
}
