/*
 * fuzz_tlsrpt.c - libFuzzer target for an_tlsrpt_parse_total().
 *
 * The input is split at NUL bytes into TXT records, so one input can carry
 * an RRset of several records (the multiple-record and selection paths).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "an_tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RR 16

/* Every detail is NUL-terminated in its buffer and printable. */
static int details_ok(const struct an_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *d = f->item[i].detail;
		size_t len = strnlen(d, AN_DETAIL_MAX);

		if (len == AN_DETAIL_MAX)
			return 0;
		for (size_t k = 0; k < len; k++) {
			if (d[k] < 0x20 || d[k] > 0x7e)
				return 0;
		}
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_bytes rr[FUZZ_MAX_RR];
	struct an_tlsrpt rpt;
	struct an_findings findings;
	enum an_rua_scheme scheme;
	size_t n;

	n = fuzz_split_records(data, size, rr, FUZZ_MAX_RR);
	an_findings_init(&findings);
	/* The RRset may have been cut by the scanner: a total above n, taken
	 * from the input's size, drives the "at least" paths too. */
	an_tlsrpt_parse_total(rr, n, n + size % 3, &rpt, &findings);
	if (rpt.candidates + rpt.discarded > n || rpt.total < n)
		__builtin_trap();
	/* The result must be self-consistent whatever the input. */
	if (rpt.status == AN_TLSRPT_VALID && rpt.n_rua == 0)
		__builtin_trap();
	if (rpt.n_mailto + rpt.n_https != rpt.n_rua)
		__builtin_trap();
	if ((rpt.status == AN_TLSRPT_ABSENT) != (rpt.candidates == 0) ||
	    (rpt.status == AN_TLSRPT_MULTIPLE) != (rpt.candidates > 1))
		__builtin_trap();
	if (rpt.status != AN_TLSRPT_VALID && rpt.status != AN_TLSRPT_INVALID &&
	    rpt.n_rua != 0)
		__builtin_trap();
	if (!details_ok(&findings))
		__builtin_trap();
	/* The URI checker on raw bytes: NULs and all, never past size. */
	if (an_tlsrpt_uri_valid((const char *)data, size, &scheme) &&
	    (size < 7 || memchr(data, '\0', size) != NULL))
		__builtin_trap();
	return 0;
}
