/*
 * fuzz_sts_record.c - libFuzzer target for an_sts_record_parse_total().
 *
 * The input is split at NUL bytes into TXT records, so one input can carry
 * an RRset of several records (the multiple-record and selection paths).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "an_sts_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RR 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_bytes rr[FUZZ_MAX_RR];
	struct an_sts_record rec;
	struct an_findings findings;
	size_t n;

	n = fuzz_split_records(data, size, rr, FUZZ_MAX_RR);
	an_findings_init(&findings);
	/* The RRset may have been cut by the scanner: a total above n, taken
	 * from the input's size, drives the "at least" paths too. */
	an_sts_record_parse_total(rr, n, n + size % 3, &rec, &findings);
	if (rec.candidates + rec.discarded + rec.other > n || rec.total < n)
		__builtin_trap();
	if ((rec.status == AN_STS_ABSENT) != (rec.candidates == 0) ||
	    (rec.status == AN_STS_MULTIPLE) != (rec.candidates > 1))
		__builtin_trap();
	/* The record must be self-consistent whatever the input. */
	if (rec.status == AN_STS_VALID &&
	    (rec.id[0] == '\0' || strlen(rec.id) > AN_STS_ID_MAX))
		__builtin_trap();
	return 0;
}
