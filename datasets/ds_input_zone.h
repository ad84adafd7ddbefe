/*
 * ds_input_zone.h - the zone file reader behind ds_input (DS_FMT_ZONE);
 * private to datasets/.
 *
 * Reads an RFC 1035 §5 master file one record at a time from a stdio
 * stream and says, per record, whether it names a delegation (its owner is
 * yielded), is refused (a bad line with its reason), or is nothing to
 * yield.  The record's lines are assembled here (parentheses, quotes,
 * comments, the owner/TTL/class fields in either order) and the joined
 * record is parsed by ldns.  See ds_input.h for what is yielded and
 * refused.
 *
 * Memory is bounded: one record of at most DS_ZONE_REC_MAX bytes, and as
 * much again for the lines read ahead after an unclosed '(' (re-read once
 * the record is refused).  Not thread safe; no global state.
 */
#ifndef DS_INPUT_ZONE_H
#define DS_INPUT_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes of one record, its lines, comments and line ends included. */
#define DS_ZONE_REC_MAX (64 * 1024)

struct ds_zone;

/* One outcome.  Pointers are owned by the reader and valid until the next
 * ds_zone_next() or ds_zone_free(). */
struct ds_zone_rec {
	const char *why;    /* NULL: a delegation; else the reason refused */
	const char *text;   /* the owner as read (why == NULL), or the
			     * record's first line (why != NULL) */
	size_t len;
	uint64_t line;      /* 1-based line the record starts on */
};

/* ST_OK and *out; ST_ENOMEM. */
int ds_zone_new(struct ds_zone **out);
void ds_zone_free(struct ds_zone *z); /* NULL is a no-op */

/*
 * The next outcome read from fp: 1 with *rec, 0 at the end of fp (EOF,
 * or a read error the caller tells apart with its own state).
 */
int ds_zone_next(struct ds_zone *z, FILE *fp, struct ds_zone_rec *rec);

/* Lines consumed so far (an unterminated last line counts). */
uint64_t ds_zone_lines(const struct ds_zone *z);

#endif /* DS_INPUT_ZONE_H */
