/*
 * sc_progress.h - the arithmetic of the scan's progress line.  Pure.
 */
#ifndef SC_PROGRESS_H
#define SC_PROGRESS_H

#include <stdint.h>

/*
 * Seconds left in a scan of one input, or a negative value when that
 * cannot be told (nothing done yet, the size unknown: stdin, a pipe).
 *
 * read: items the input reader has produced so far; done: how many of
 * them are finished (stored, refused, skipped); off and size: bytes of the
 * file the reader has consumed, and the file's size; elapsed: seconds.
 *
 * The reader runs ahead of the scan by its buffer (a small file is read
 * whole at the first item), so the byte offset alone would put the end
 * near at once.  The number of items is estimated from the items per byte
 * read so far, and what is left of it goes at the rate done / elapsed.
 */
double sc_eta_seconds(uint64_t read, uint64_t done, uint64_t off,
		      uint64_t size, double elapsed);

#endif /* SC_PROGRESS_H */
