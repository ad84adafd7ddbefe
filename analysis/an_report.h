/*
 * an_report.h - `stsmap report`: one scan's statistics (an_stats.h) read
 * from the store, and the writers that print them (text, json, html).
 *
 * an_report_build() walks the scan's results in one read snapshot (one
 * cursor pass, flat memory: records are decoded in place and dropped), its
 * MX probe records (for DANE co-deployment) and the metadata of every scan
 * in the store (the adoption trend).  A writer then formats the struct
 * an_report; writers are a small vtable chosen by name, like the output
 * modules of zmap (STYLE: "Output writers are small vtables chosen by
 * name").  Writers do no I/O but writing to the FILE* they are given.
 *
 * The JSON writer's keys are stable and documented in the README
 * ("Reports"); the HTML writer writes one self-contained page (no script,
 * no external resource; a Content-Security-Policy meta forbids every
 * network load) with inline SVG charts.
 */
#ifndef AN_REPORT_H
#define AN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "an_groups.h"
#include "an_stats.h"
#include "ds_store.h"

#define AN_REPORT_TOP_DEFAULT 20   /* rows per breakdown table */
#define AN_REPORT_TOP_MAX 1000
#define AN_REPORT_TREND_MAX 512    /* scans in the trend (the latest) */

/* One scan of the store, from its stored counters (no result walk). */
struct an_report_scan {
	uint32_t id;
	uint8_t state;                  /* enum ds_scan_state */
	char label[DS_SCAN_LABEL_MAX];
	int64_t started, finished;
	uint64_t domains;               /* n_results */
	uint64_t announced;             /* verdict neither no-policy nor
					 * undetermined */
	uint64_t usable;                /* none-mode, testing, enforce-* */
	uint64_t enforce;               /* enforce-* */
	uint64_t enforce_ok;
};

struct an_report {
	struct ds_scan_info scan;       /* meta_json points into the reader:
					 * valid while it is open */
	const struct an_stats *stats;   /* owned by the report */
	uint64_t undecodable;           /* results that did not decode */
	uint64_t probes;                /* probe records of the scan */
	uint64_t probes_undecodable;
	const struct an_report_scan *trend; /* id order, n_trend of them */
	size_t n_trend;
	size_t top;                     /* rows per breakdown table */
	bool grouped;                   /* built with groups: the writers
					 * print the "By group" table */
	int64_t generated;              /* Unix time */
	const char *version;            /* stsmap version, or NULL */
};

struct an_report_opts {
	uint32_t scan;        /* 0: the latest scan */
	size_t top;           /* 0: AN_REPORT_TOP_DEFAULT (capped at _MAX) */
	size_t key_cap;       /* keys per table, 0: the an_stats default */
	int64_t now;          /* "generated" time; 0: time(NULL) */
	const char *version;  /* borrowed; may be NULL */
	const struct an_groups *groups; /* borrowed, may be NULL: each
					 * domain's group for the "By group"
					 * table (a domain not listed is in
					 * AN_GROUP_NONE) */
};

/*
 * Build the report of scan o->scan (o may be NULL for the defaults) from
 * the snapshot r.  The report borrows from r (scan.meta_json): use it
 * before ds_reader_close(r).  Returns ST_OK and *out (an_report_free),
 * ST_ENOENT (no such scan, or an empty store), ST_ENOMEM, or a store
 * error.  A record that does not decode is counted (undecodable), not an
 * error.
 */
int an_report_build(struct ds_reader *r, const struct an_report_opts *o,
		    struct an_report **out);
void an_report_free(struct an_report *rep); /* NULL is a no-op */

/* --- writers --- */

struct an_report_writer {
	const char *name;     /* "text", "json", "html" */
	const char *summary;  /* one line, for --help */
	/* Write rep to out.  ST_OK, or ST_EIO when out reports an error. */
	int (*write)(FILE *out, const struct an_report *rep);
};

/* The writer called name, or NULL.  Static data. */
const struct an_report_writer *an_report_writer(const char *name);
/* All writers, *n of them (for --help). */
const struct an_report_writer *an_report_writers(size_t *n);

/* The writers themselves (an_report_text.c, an_report_json.c,
 * an_report_html.c); use an_report_writer() to pick one by name. */
int an_report_write_text(FILE *out, const struct an_report *rep);
int an_report_write_json(FILE *out, const struct an_report *rep);
int an_report_write_html(FILE *out, const struct an_report *rep);

/* Helpers shared by the writers. */
/* 100 * num / den, or 0 when den is 0. */
double an_report_pct(uint64_t num, uint64_t den);
/* "1,234,567" into buf (at least 32 bytes); returns buf. */
char *an_report_num(uint64_t v, char *buf, size_t cap);
/* "2024-05-01 12:00 UTC" into buf (at least 32 bytes), "-" for 0. */
char *an_report_time(int64_t t, char *buf, size_t cap);
/* The row "(other)" of a table whose top n rows are listed: its total
 * minus the listed rows (the pruned keys and every key not listed). */
void an_report_rest(const struct an_stats_table *info,
		    const struct an_stats_row *rows, size_t n,
		    struct an_stats_row *rest);
/* The finding codes with domains > 0, most frequent first (table order on
 * ties), severity at least min_sev; fills idx (AN_F_COUNT entries) and
 * returns how many. */
size_t an_report_findings_order(const struct an_stats_counts *c,
				enum an_severity min_sev, unsigned *idx);
/* A group row's top findings: up to max codes of severity warn or error
 * that its domains have, most domains first (table order on ties); fills
 * idx and returns how many (0 when the row has no per-code counts). */
size_t an_report_row_findings(const struct an_stats_row *r, unsigned *idx,
			      size_t max);
#define AN_REPORT_GROUP_FINDINGS 3 /* top findings shown per group */

#endif /* AN_REPORT_H */
