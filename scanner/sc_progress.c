/*
 * sc_progress.c - the arithmetic of the scan's progress line.
 */
#include "sc_progress.h"

double sc_eta_seconds(uint64_t read, uint64_t done, uint64_t off,
		      uint64_t size, double elapsed)
{
	double total, left;

	if (size == 0 || off == 0 || done == 0 || read == 0 || !(elapsed > 0))
		return -1;
	if (off > size)
		off = size; /* a file that grew: the end is past the estimate */
	total = (double)read * (double)size / (double)off;
	left = total - (double)done;
	if (left < 0)
		left = 0;
	return left * elapsed / (double)done;
}
