/*
 * fuzz_util.h - helpers shared by the fuzz targets.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "an_types.h"

/* Split data at NUL bytes into at most max TXT records, so one input can
 * carry a whole RRset.  The records point into data.  Returns how many. */
static inline size_t fuzz_split_records(const uint8_t *data, size_t size,
					struct an_bytes *rr, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || data[i] == '\0') {
			rr[n].data = data + start;
			rr[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

#endif /* FUZZ_UTIL_H */
