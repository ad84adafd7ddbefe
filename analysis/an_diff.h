/*
 * an_diff.h - `stsmap diff`: what changed between two scans, domain by
 * domain, and the longitudinal findings (DESIGN §4) that only a pair of
 * scans can show.
 *
 * The caller walks both scans (datasets/ds_store.h) and hands every domain
 * to an_diff_pair() once: with both records when the domain is in both
 * scans, with one NULL when it is in one only.  Each change found goes to
 * the writer (text or json, chosen by name) as it is found; counters are
 * kept for the summary an_diff_close() writes.  Nothing else is kept, so
 * memory is flat.  Pure: output goes to a FILE* the caller owns.
 *
 * Changes (an_diff_kind_name(); A is the older scan, B the newer):
 *   added                 domain only in B (info)
 *   removed               domain only in A (info)
 *   adopted               no-policy in A, MTA-STS announced in B (info)
 *   longitudinal.withdrawn   announced in A, no-policy in B, without a
 *                         scan seeing mode none first (warn)
 *   policy-removed        none-mode in A, no-policy in B: a policy
 *                         withdrawn the way RFC 8461 §8.3 asks (info)
 *   longitudinal.mode-changed        policy mode differs (info)
 *   longitudinal.body-changed-same-id  the policy body changed but the
 *                         TXT id did not: senders that cached the old
 *                         policy keep it until max_age runs out (error,
 *                         RFC 8461 §3.1 "id" and §5.1)
 *   longitudinal.id-changed-same-body  the id changed, the body did not:
 *                         harmless, senders fetch the same policy (info)
 *   policy-updated        body and id both changed: a correct update (info)
 *   verdict-changed       the sender verdict differs, when adopted,
 *                         withdrawn or policy-removed do not already say
 *                         so (info)
 *   cert-expiring         B's policy host certificate expires before the
 *                         next scan: within next_days of B's scan time, or
 *                         already expired (warn)
 * "Announced" is a verdict other than no-policy and undetermined; a domain
 * undetermined in either scan (a DNS failure) is never called adopted or
 * withdrawn.  Body and id are compared only when both scans fetched a
 * policy (HTTP 200 with a body) under a valid record id.
 */
#ifndef AN_DIFF_H
#define AN_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "an_classify.h"
#include "an_findings.h"
#include "an_record.h"

enum an_diff_kind {
	AN_DIFF_ADDED,
	AN_DIFF_REMOVED,
	AN_DIFF_ADOPTED,
	AN_DIFF_WITHDRAWN,
	AN_DIFF_POLICY_REMOVED,
	AN_DIFF_MODE_CHANGED,
	AN_DIFF_BODY_CHANGED_SAME_ID,
	AN_DIFF_ID_CHANGED_SAME_BODY,
	AN_DIFF_POLICY_UPDATED,
	AN_DIFF_VERDICT_CHANGED,
	AN_DIFF_CERT_EXPIRING,
	AN_DIFF_KIND_COUNT
};

/* A kind's stable name: the finding code (an_findings.h) for the four
 * longitudinal ones, else the name above; "unknown" out of range. */
const char *an_diff_kind_name(enum an_diff_kind kind);
/* Its severity (the finding's default for the coded ones). */
enum an_severity an_diff_kind_severity(enum an_diff_kind kind);
/* One line, no trailing period. */
const char *an_diff_kind_description(enum an_diff_kind kind);
/* The finding code, or -1 when the kind is not a finding. */
int an_diff_kind_code(enum an_diff_kind kind);
/* The kind called name: ST_OK or ST_ENOENT. */
int an_diff_kind_from_name(const char *name, enum an_diff_kind *kind);

#define AN_DIFF_DETAIL_MAX 160

/* One change, valid only during the writer's call. */
struct an_diff_change {
	enum an_diff_kind kind;
	const char *domain;
	const struct an_record *a, *b; /* NULL when not in that scan */
	char detail[AN_DIFF_DETAIL_MAX]; /* "testing -> enforce" */
};

/* A scan, as the header of the output names it (borrowed strings). */
struct an_diff_scan {
	const char *store;         /* path of its store */
	uint32_t id;
	const char *label;         /* may be "" */
	int64_t started, finished; /* Unix times; finished 0: unfinished */
	uint64_t n_results;
};

struct an_diff_opts {
	FILE *out;                 /* not owned, not closed */
	uint32_t next_days;        /* days until the next scan (30) */
};

struct an_diff_summary {
	uint64_t n_a, n_b, n_both; /* domains in A, in B, in both */
	uint64_t kinds[AN_DIFF_KIND_COUNT];
	uint64_t verdicts[AN_V_COUNT + 1][AN_V_COUNT + 1]; /* [A][B], both
					* scans; AN_V_COUNT: out of range */
};

struct an_diff;

/* Writers, by name: "text" (one line per change, then a summary) and
 * "json" (one object: the scans, "changes" and "summary"). */
bool an_diff_format_known(const char *name);

/*
 * Start a diff writing format to opts->out, with the scans' header.
 * Returns ST_OK and *out; ST_ENOENT for an unknown format, ST_EINVAL,
 * ST_ENOMEM, ST_EIO.
 */
int an_diff_open(const char *format, const struct an_diff_opts *opts,
		 const struct an_diff_scan *a, const struct an_diff_scan *b,
		 struct an_diff **out);

/*
 * Compare one domain: a from scan A, b from scan B (same domain; at most
 * one NULL).  Writes its changes and counts them.  Returns ST_OK, ST_EINVAL
 * (both NULL, or different domains), ST_EIO.
 */
int an_diff_pair(struct an_diff *d, const struct an_record *a,
		 const struct an_record *b);

/* Find the changes of one pair without writing: cb is called for each, in
 * kind order; a non-zero return stops and is returned.  (an_diff_pair()
 * is this with the writer as cb; exposed for tests.) */
typedef int (*an_diff_cb)(void *arg, const struct an_diff_change *c);
int an_diff_changes(const struct an_record *a, const struct an_record *b,
		    uint32_t next_days, an_diff_cb cb, void *arg);

/* The counters so far. */
void an_diff_get_summary(const struct an_diff *d, struct an_diff_summary *s);

/* Write the summary, flush opts->out and free d.  Returns the first error
 * (ST_EIO when the stream failed).  NULL is a no-op returning ST_OK. */
int an_diff_close(struct an_diff *d);

#endif /* AN_DIFF_H */
