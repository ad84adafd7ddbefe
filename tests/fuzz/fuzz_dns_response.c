/*
 * fuzz_dns_response.c - libFuzzer target for the resolver's response path
 * (rs_wire_parse), which reads bytes sent by any server on the network.
 *
 * The input is one DNS message.  Its ID is taken as the expected one, so the
 * whole parse runs, and it is checked against questions of several types on
 * two names, which exercises the CNAME walk and every RDATA conversion.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rs_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { RS_TYPE_A, RS_TYPE_AAAA, RS_TYPE_MX,
					  RS_TYPE_TXT, RS_TYPE_CNAME,
					  RS_TYPE_TLSA };
	static const char *const names[] = { "example.com", "_mta-sts.a.test" };
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	for (size_t n = 0; n < 2; n++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			struct rs_question q;
			struct rs_answer ans;
			bool enomem;

			if (rs_question_init(&q, names[n], types[t], true) != 0)
				__builtin_trap();
			if (rs_wire_parse(data, size, id, &q, &ans, &enomem) !=
			    RS_WIRE_OK)
				continue;
			if (ans.n_cname > RS_CNAME_MAX ||
			    (ans.nodata && ans.n_rrs != 0))
				__builtin_trap();
			/* A referral is never NODATA and names its cut. */
			if (ans.referral &&
			    (ans.nodata || ans.referral_zone == NULL ||
			     ans.n_rrs != 0))
				__builtin_trap();
			for (size_t i = 0; i < ans.n_rrs; i++) {
				if (ans.rrs[i].type != types[t] ||
				    ans.rrs[i].data[ans.rrs[i].len] != '\0')
					__builtin_trap();
			}
			rs_answer_clear(&ans);
		}
	}
	return 0;
}
