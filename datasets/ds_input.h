/*
 * ds_input.h - the scanner's inputs: domain lists, ranked top lists and DNS
 * zone files, plain or gzip-compressed, from a file or stdin; the
 * normalisation of a name; sharding; opt-out exclusion lists.
 *
 * Everything is streamed: a reader holds one line (or one resource record)
 * at a time, so memory does not depend on the input's size.  A reader never
 * fails for a bad line: the line comes back as an item with an error and
 * its line number (an input finding), and reading goes on.  Only I/O errors
 * and a gzip stream that is corrupt end a reader.
 *
 * Formats:
 *  - list:   one domain per line; blank lines and lines starting with '#'
 *            are skipped; CRLF is accepted; surrounding blanks are removed.
 *  - tranco: "rank,domain" per line (a header line without a numeric rank
 *            is skipped once, at line 1); the rank is kept.
 *  - zone:   RFC 1035 §5 master file, one resource record at a time
 *            (ds_input_zone.c; records parsed by ldns).  $ORIGIN and $TTL
 *            are honoured; the TTL and class may come in either order.
 *            Every owner of an NS RRset other than the zone apex (the
 *            first SOA owner wherever it stands, or $ORIGIN at the first
 *            NS while no SOA was read) is a delegated name and is yielded
 *            once when it first appears; repeats of the same owner in a
 *            row are not yielded again (the scanner skips names it has
 *            already seen anyway).  Refused, as item errors: $INCLUDE
 *            (following it would read arbitrary files), $GENERATE, other
 *            directives, owners outside the apex's zone, an unclosed '('
 *            (reading resumes at the next line starting a record; each
 *            indented line in between is an item error of its own), a
 *            stray ')', records over 64 KiB, records ldns cannot parse.
 *  - auto:   decided from the first non-blank, non-comment line: a zone if
 *            it starts with '$' or has a resource record shape (a class or
 *            type word in its fields), tranco if it is "digits,name", a list
 *            otherwise.
 * Compression is detected from the gzip magic, whatever the file name.
 *
 * Not thread safe per reader; no global state.
 */
#ifndef DS_INPUT_H
#define DS_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DS_NAME_MAX 253 /* presentation length of a name, no trailing dot */

enum ds_input_format {
	DS_FMT_AUTO = 0,
	DS_FMT_LIST,
	DS_FMT_TRANCO,
	DS_FMT_ZONE,
};

/* "auto", "list", "tranco", "zone"; ST_EINVAL for another name. */
int ds_input_format_from_name(const char *name, enum ds_input_format *out);
const char *ds_input_format_name(enum ds_input_format fmt);

/*
 * Normalise one presentation-form name: surrounding blanks and one trailing
 * dot removed, U-labels converted to A-labels (IDNA2008 via libidn2, input
 * taken as UTF-8 and NFC-normalised), lower-cased, then checked: 1 to 253
 * bytes, 2 or more labels, labels of 1 to 63 bytes of [a-z0-9-] (and '_'),
 * no label starting or ending with '-'.  Writes the result, NUL-terminated,
 * to out (DS_NAME_MAX + 1 bytes).
 * Returns ST_OK; ST_EPARSE with *why (a static one-line reason, e.g.
 * "empty label", "IDNA: disallowed code point") for a bad name; ST_EINVAL
 * for NULL arguments.  why may be NULL.
 */
int ds_name_normalise(const char *in, size_t len, char *out,
		      const char **why);

/*
 * A suffix as opt-out lists and filters name one: a domain name as
 * ds_name_normalise() takes it, or a bare label (a TLD: "TEST", "test.",
 * a U-label), normalised by the same rules.  Same contract.
 */
int ds_suffix_normalise(const char *in, size_t len, char *out,
			const char **why);

/*
 * The shard of a normalised name among n (0 <= result < n): a fixed,
 * documented hash (FNV-1a 64 over the bytes of the name) modulo n, so the
 * same name lands in the same shard on every machine and every version.
 * n == 0 is treated as 1.
 */
uint32_t ds_shard_of(const char *name, uint32_t n);

/* Parse "I/N" (0 <= I < N, N >= 1) as given to --shard.  ST_EINVAL else. */
int ds_shard_parse(const char *s, uint32_t *index, uint32_t *count);

/*
 * An exclusion (opt-out) list: a promise not to scan some names, so a line
 * that cannot be read as one refuses the whole list (a dropped line would
 * scan a domain that asked not to be).  The format, one entry a line:
 *
 *   # a comment line               blank lines are ignored
 *   example.org                    the name and every name below it
 *   example.org   # asked 2026-11  '#' starts a comment anywhere on a line
 *   *.example.net                  only the names below example.net
 *   test                           a bare label: a whole TLD and below
 *
 * Entries are normalised as input names are (case, U-labels to A-labels,
 * a final dot); anything else on the line (a space inside, two names, an
 * invalid name, an over-long line) is an error naming the
 * line.  Memory grows with the list (it is small: opt-outs, not the
 * input).
 */
struct ds_exclude;

/* Where a list could not be read: line 0 for the file itself. */
struct ds_list_error {
	uint64_t line;
	char why[160]; /* NUL-terminated */
};

/*
 * Load path (gzip accepted).  ST_OK and *out; ST_EINVAL for a line that
 * is not an entry, ST_EIO when the file cannot be read, ST_ENOMEM; on an
 * error *out is NULL and err (if not NULL) says where and why.
 */
int ds_exclude_load(const char *path, struct ds_exclude **out,
		    struct ds_list_error *err);
/* Is the normalised name excluded?  A NULL list excludes nothing. */
bool ds_exclude_match(const struct ds_exclude *ex, const char *name);
size_t ds_exclude_count(const struct ds_exclude *ex); /* entries loaded */
void ds_exclude_free(struct ds_exclude *ex);

/* One item read from an input.  Strings are owned by the reader and valid
 * until the next ds_input_next() or ds_input_close() on it. */
struct ds_input_item {
	int error;            /* ST_OK, or ST_EPARSE for a bad line */
	const char *why;      /* the reason when error != ST_OK (static, or
			       * owned by the reader like the strings) */
	const char *domain;   /* normalised name; "" when error != ST_OK */
	const char *raw;      /* the name as read (cut to 255 bytes, bytes
			       * outside 0x20-0x7e replaced by '?') */
	uint64_t rank;        /* tranco rank; 0 for other formats */
	uint64_t line;        /* 1-based line number in the source */
};

struct ds_input;

/*
 * Open path ("-" for stdin) in format fmt (DS_FMT_AUTO to detect).  Returns
 * ST_OK and *out; ST_ENOENT (no such file), ST_EIO, ST_ENOMEM.  For stdin,
 * detection reads ahead through a buffer, never seeks.
 */
int ds_input_open(const char *path, enum ds_input_format fmt,
		  struct ds_input **out);

/*
 * As ds_input_open(), for a reader on another thread than its consumer:
 * whenever it would wait for input it waits in poll(2) for cancel_fd too,
 * and once cancel_fd is readable every read fails with ST_EIO (the caller
 * knows it asked for it), so a reader blocked on a silent pipe can be
 * stopped.  cancel_fd is not owned; -1 is ds_input_open().
 */
int ds_input_open_cancel(const char *path, enum ds_input_format fmt,
			 int cancel_fd, struct ds_input **out);

/*
 * As ds_input_open(), reading the len bytes at buf (plain or gzip) instead
 * of a file: for tests and the fuzz target.  The bytes are copied (into an
 * anonymous memory file), so buf may be freed as soon as this returns; the
 * size is len.  ST_OK and *out; ST_EINVAL, ST_EIO, ST_ENOMEM.
 */
int ds_input_open_memory(const void *buf, size_t len,
			 enum ds_input_format fmt, struct ds_input **out);

/*
 * Read the next item.  Returns 1 with *item filled, 0 at the end of the
 * input, or a negative ST_* error (ST_EIO for a read error or a corrupt
 * gzip stream); after 0 or an error, further calls return the same.
 */
int ds_input_next(struct ds_input *in, struct ds_input_item *item);

/* The format in use (after detection). */
enum ds_input_format ds_input_format(const struct ds_input *in);
/* Bytes of the underlying file consumed so far (compressed bytes for
 * gzip), and its size (0 when unknown: stdin, a pipe), for progress. */
uint64_t ds_input_offset(const struct ds_input *in);
uint64_t ds_input_size(const struct ds_input *in);
/*
 * Before a scan is created: can path be read as an input?  "-" (stdin)
 * and pipes pass (they are checked as they are read); a missing or
 * unreadable file, a directory, and a file with the gzip magic whose
 * first 64 KiB do not inflate are refused.  ST_OK, or ST_EIO with the
 * reason in why ("No such file or directory", "is a directory", "not
 * gzip data: invalid block type").
 */
int ds_input_check(const char *path, char *why, size_t whylen);

/* After ds_input_next() failed: what went wrong in the file itself
 * ("unexpected end of gzip data", zlib's word for corrupt data, a read
 * error), or "" when there is nothing more to say than the error code.
 * Valid until ds_input_close(). */
const char *ds_input_why(const struct ds_input *in);
/* Lines read so far. */
uint64_t ds_input_lines(const struct ds_input *in);
/* SHA-256 of every (decompressed) byte read so far, as 64 lower-case hex
 * digits and a NUL in out; complete once ds_input_next() returned 0. */
void ds_input_digest(const struct ds_input *in, char out[65]);

void ds_input_close(struct ds_input *in); /* NULL is a no-op */

#endif /* DS_INPUT_H */
