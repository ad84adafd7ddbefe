/*
 * an_export.h - `stsmap export`: a scan's records as CSV, JSON Lines or
 * the registry's mail-merge file, through small writers chosen by name.
 *
 * The caller walks a scan (datasets/ds_store.h), decodes each record
 * (an_record.h), keeps the ones an_export_selected() accepts and hands
 * them to an_export_record() in store order (sorted by domain).  Writers
 * stream: nothing is kept between records, so memory is flat whatever the
 * scan's size.  Pure formatting: output goes to a FILE* the caller owns;
 * the registry writer's per-domain files go through a callback, so this
 * module never touches the file system.
 *
 * Formats (an_export_formats() lists them):
 *
 * jsonl     one JSON object per line, an_record_json() (the JSON Lines
 *           schema, docs/record.schema.json); always valid UTF-8.
 *
 * csv       RFC 4180: a header row, then one row per domain, CRLF line
 *           ends, a cell quoted when it holds ',', '"', CR or LF (quotes
 *           doubled).  Columns, in this order (stable: new columns are
 *           only ever appended):
 *             domain         normalised A-label
 *             rank           from a ranked list; 0 when unranked
 *             verdict        an_verdict_name()
 *             mode           enforce / testing / none; empty if unset
 *             max_age        seconds; empty if absent or invalid
 *             id             id of the valid _mta-sts record; empty if none
 *             mx_covered     MX hosts a policy pattern covers, space separated
 *             mx_uncovered   MX hosts no pattern covers, space separated;
 *                            empty when no policy was parsed ("." is a
 *                            null MX)
 *             findings       every finding code, space separated
 *             policy_host    host the policy is served from: the CNAME
 *                            target of mta-sts.D if any, else mta-sts.D;
 *                            empty when no fetch was attempted
 *             cert_not_after policy host certificate expiry, ISO 8601 UTC
 *                            ("2026-01-31T12:00:00Z"); empty if unknown
 *             tlsrpt         valid / invalid / none / dns-failure (empty:
 *                            not looked up)
 *             fix_txt        for a domain an_fix_needed() accepts: the TXT
 *                            value to publish at _mta-sts.D (an_fix.h)
 *             fix_policy     ... and the policy file (LF line ends)
 *           Spreadsheet safety: a cell whose first byte is '=', '+', '-',
 *           '@', TAB or CR gets a single quote in front ("'=1+1"), so a
 *           spreadsheet shows it instead of running it; readers that want
 *           the raw value drop a leading quote followed by one of those.
 *           Cells are valid UTF-8: a byte that is not part of a valid
 *           UTF-8 sequence, and every control byte but TAB, CR and LF,
 *           becomes U+FFFD.
 *
 * registry  RFC 4180 like csv, one row per domain that needs a fix
 *           (an_fix_needed()), for mailing registrants.  Columns: domain,
 *           rank, verdict, errors (error codes, space separated), problems
 *           (one line per error and warn finding: "severity code: detail"),
 *           txt_name ("_mta-sts.D"), txt_value, policy_url
 *           ("https://mta-sts.D/.well-known/mta-sts.txt"), policy_file
 *           (see below), policy_body.  txt_value, policy_file and
 *           policy_body are empty when no fix can be built (no MX host).
 *           With a file callback (opts.file), two files per such domain:
 *             D/mta-sts.txt   the policy file, byte for byte as it must be
 *                             served (policy_file names it)
 *             D/README.txt    a plain-text explanation for the registrant:
 *                             the problems, the TXT record and where the
 *                             policy file goes
 *           D is the normalised domain; a name that is not a safe file name
 *           (anything but a-z 0-9 '-' '.' '_', or starting with '.') gets
 *           no files (counted in an_export_stats.skipped_files).
 */
#ifndef AN_EXPORT_H
#define AN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "an_record.h"

struct an_export;

/* Write data[0..len) as the file relpath (relative, '/'-separated, no
 * "..") under the caller's output directory.  Returns ST_OK or an ST_*
 * error, which stops the export. */
typedef int (*an_export_file_fn)(void *arg, const char *relpath,
				 const char *data, size_t len);

struct an_export_opts {
	FILE *out;               /* main output; not owned, not closed */
	time_t now;              /* time the ids of suggested fixes derive from */
	an_export_file_fn file;  /* registry: per-domain files; NULL: none */
	void *file_arg;
	bool no_header;          /* csv, registry: out already has the header
				  * (appending to an earlier export's file) */
};

/* One writer: begin once, record per domain, end once.  Each returns ST_OK
 * or an ST_* error (ST_EIO when the output stream failed). */
struct an_export_format {
	const char *name;        /* "csv", "jsonl", "registry" */
	const char *help;        /* one line */
	bool wants_body;         /* record() uses the policy body if given */
	int (*begin)(struct an_export *x);
	int (*record)(struct an_export *x, const struct an_record *r,
		      const uint8_t *body, size_t body_len);
	int (*end)(struct an_export *x);
};

/* The formats, a static table of *n rows. */
const struct an_export_format *an_export_formats(size_t *n);
/* The format called name, or NULL. */
const struct an_export_format *an_export_format_find(const char *name);

/* Which records an export keeps; NULL fields (verdict < 0) match all. */
struct an_export_filter {
	const char *finding;     /* a finding code the domain must have */
	int verdict;             /* enum an_verdict, or -1 */
	const char *tld;         /* last label of the domain, e.g. "org" */
};

/* Does r pass f?  (All given conditions must hold.) */
bool an_export_selected(const struct an_export_filter *f,
			const struct an_record *r);

/*
 * Start an export in format (a name of an_export_formats()).  opts is
 * copied; opts->out must stay open until an_export_close().  Writes the
 * header (csv, registry).  Returns ST_OK and *out; ST_ENOENT for an
 * unknown format, ST_EINVAL, ST_ENOMEM, ST_EIO.
 */
int an_export_open(const char *format, const struct an_export_opts *opts,
		   struct an_export **out);

/* Write one record (body may be NULL; only used when wants_body). */
int an_export_record(struct an_export *x, const struct an_record *r,
		     const uint8_t *body, size_t body_len);

struct an_export_stats {
	uint64_t records;        /* records given to an_export_record() */
	uint64_t rows;           /* rows or lines written */
	uint64_t fixes;          /* suggested fixes built */
	uint64_t no_fix;         /* records needing a fix none could be built for */
	uint64_t files;          /* files handed to the callback */
	uint64_t skipped_files;  /* domains whose name is not a safe file name */
};
void an_export_get_stats(const struct an_export *x, struct an_export_stats *s);

/* Finish (the writer's end), flush opts->out and free x.  Returns the
 * first error of end or of the stream.  NULL is a no-op returning ST_OK. */
int an_export_close(struct an_export *x);

/*
 * One CSV cell, s[0..len) (NULL writes an empty cell), with the quoting,
 * formula neutralisation and UTF-8 repair described above.  No separator:
 * the caller writes ',' between cells and CRLF after the last.
 */
void an_csv_cell(FILE *out, const char *s, size_t len);

#endif /* AN_EXPORT_H */
