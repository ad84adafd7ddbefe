/*
 * sc_source.h - the scan's inputs read on a thread of their own, handed to
 * the event loop through a bounded queue, so a slow input (a pipe that
 * stays open, a slow disk) never blocks the loop: DNS answers, fetches,
 * commits and signals go on while the reader waits.
 *
 * One reader thread opens the inputs in order with ds_input_open_cancel()
 * and pushes every item (good names and bad lines alike) into a queue of
 * at most `cap` items; it waits while the queue is full (back-pressure up
 * to the file).  The loop pops items with sc_source_pop(); when the queue
 * is empty the pop says "nothing yet" and the ready callback is called on
 * the loop (through a pipe watched by an event on its base) as soon as an
 * item, the end or an error is there.
 *
 * Only the reader thread touches the ds_input readers; the loop sees
 * copies.  Memory: cap items of fixed size.  The process's signals are
 * blocked in the reader thread, so SIGINT and SIGTERM reach the loop.
 */
#ifndef SC_SOURCE_H
#define SC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "ds_input.h"
#include "sc_engine.h" /* SC_SOURCE_WAIT */

struct event_base;
struct sc_source;

/* One input item, copied out of the reader (see struct ds_input_item). */
struct sc_source_item {
	int error;                     /* ST_OK or ST_EPARSE */
	uint32_t input;                /* index into the inputs */
	uint64_t line, rank;
	char domain[DS_NAME_MAX + 1];  /* "" for a bad line */
	char raw[256];
	char why[160];
};

typedef void (*sc_source_ready_fn)(void *arg);

/*
 * Start the reader thread over inputs[0..n) (paths, "-" for stdin; the
 * array and strings must outlive the source) in format fmt.  ready(arg)
 * is called on base's loop after a pop returned SC_SOURCE_WAIT, once
 * there is something to pop.  ST_OK and *out; ST_EINVAL, ST_ENOMEM,
 * ST_EIO (no pipe or thread).
 */
int sc_source_new(struct event_base *base, const char *const *inputs,
		  size_t n, enum ds_input_format fmt, size_t cap,
		  sc_source_ready_fn ready, void *arg, struct sc_source **out);

/*
 * Take the next item: 1 with *item; 0 when every input was read to its
 * end; SC_SOURCE_WAIT when nothing is there yet; or the reader's error
 * (of ds_input_open or ds_input_next; sc_source_failed() names the input),
 * after the items read before it.
 */
int sc_source_pop(struct sc_source *s, struct sc_source_item *item);

/* How often the reader found the queue full and waited for room.  It is
 * woken once the queue is half empty, not at every pop, so a reader
 * ahead of the loop waits about once per cap / 2 items. */
uint64_t sc_source_reader_waits(const struct sc_source *s);

/* The index of the input that failed (valid after an error pop). */
size_t sc_source_failed(const struct sc_source *s);
/* What went wrong in that input, with the last line read ("unexpected
 * end of gzip data after line 9353"), or "" (valid after an error pop,
 * until sc_source_free). */
const char *sc_source_why(const struct sc_source *s);

/*
 * What the reader knows of input i: lines read so far, and its SHA-256
 * (64 hex digits and a NUL; "" until that input was read to its end).
 */
void sc_source_input_info(const struct sc_source *s, size_t i,
			  uint64_t *lines, char digest[65]);

/* For progress: the input being read, its offset and size (0: unknown). */
void sc_source_progress(const struct sc_source *s, size_t *input,
			uint64_t *offset, uint64_t *size);

/* Stop the reader (also while it waits on a silent pipe) and join it;
 * items not popped are dropped.  NULL is a no-op. */
void sc_source_free(struct sc_source *s);

#endif /* SC_SOURCE_H */
