/*
 * an_stats.h - aggregate statistics of one scan, fed one decoded record at
 * a time (`stsmap report`; DESIGN §1: adoption, modes, max_age,
 * misconfiguration prevalence, rank tiers, TLD / MX provider / policy host
 * breakdowns).
 *
 * Pure: no I/O.  analysis/an_report.c walks the store and feeds records in;
 * a test feeds synthetic ones.  Memory is flat in the number of records:
 * the counters are fixed arrays, and each breakdown table (by TLD, by MX
 * provider, by policy host provider) holds at most key_cap keys (below).
 *
 * Definitions (the README's "Reports" section repeats them):
 *  - sts_record: the domain has an MTA-STS record, i.e. its _mta-sts TXT
 *    lookup answered NOERROR with at least one RR beginning with "v=STSv1"
 *    (an RFC 8461 §3.1 candidate, valid or not).  Derived from the record
 *    as sts_dns == noerror && verdict != no-policy: the classifier says
 *    no-policy exactly when there is no candidate (an_classify.h).
 *  - sts_valid: exactly one candidate and it is valid (sts_id != NULL).
 *  - policy_usable: a sender would apply the policy (RFC 8461 §5): the
 *    verdict is none-mode, testing or enforce-*, or it is undetermined only
 *    because the MX lookup failed under a usable enforce policy.
 *  - modes and max_age: over domains with a usable policy.  max_age
 *    buckets have lower edges 0, 1 day, 1 week, 2 weeks, 30 days and 1 year
 *    (365 days = 31536000 s, so the common 31536000 and the RFC maximum
 *    31557600 both count as a year); each bucket is [lower, next lower).
 *  - findings: a code counts once per domain however often it occurs;
 *    sts_domains counts the domains that also have an MTA-STS record, the
 *    base of "share of STS domains".
 *  - tlsrpt: exactly one valid v=TLSRPTv1 record (RFC 8460 §3).
 *  - DANE (needs probe records, see struct an_stats_extra): a domain is
 *    probed when at least one of its MX hosts has a probe record; tlsa_any
 *    when one of those publishes TLSA at _25._tcp, tlsa_all when every one
 *    does (RFC 7672 §2.2: DANE protects a domain only if all its MX do).
 *  - rank tiers are cumulative: top-1k is rank 1..1000, top-10k 1..10000.
 *  - MX provider: the registrable domain (public suffix list, libpsl) of
 *    each MX host; a domain counts once per distinct provider.  A name the
 *    PSL does not know falls back to its last two labels.  Policy host
 *    provider: that of the CNAME target of mta-sts.D if there is one, else
 *    of mta-sts.D; only domains with an MTA-STS record count.
 *  - group: the label an_stats_extra.group gives (a registrar, reseller
 *    or customer, from `report --groups`); only domains added with a
 *    group count.  Its rows also count, per finding code, the domains
 *    that have it (row.findings), for each group's top findings.
 *
 * Bounded tables: a table holds key_cap keys.  When a new key arrives at a
 * full table, the least frequent half (every key whose domain count is at
 * most the median) is folded into the table's "other" row and forgotten.
 * Counts are exact when no prune happened (an_stats_table().pruned == 0);
 * after one, a listed key's counts may miss domains seen before it was last
 * admitted (they are in "other").  In every case the rows plus "other" add
 * up to the domains counted.
 *
 * Not thread safe; no global state.
 */
#ifndef AN_STATS_H
#define AN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an_classify.h"
#include "an_findings.h"
#include "an_record.h"

struct an_stats;

#define AN_STATS_KEY_MAX 253          /* bytes of a key (a DNS name) */
#define AN_STATS_KEY_CAP_DEFAULT 4096 /* keys per breakdown table */

/* max_age buckets; AN_STATS_AGE_EDGES[b] is bucket b's lower edge. */
enum an_stats_age {
	AN_AGE_LT_1D = 0,
	AN_AGE_1D_1W,
	AN_AGE_1W_2W,
	AN_AGE_2W_30D,
	AN_AGE_30D_1Y,
	AN_AGE_GE_1Y,
	AN_AGE_COUNT
};

/* Rank tiers (cumulative). */
enum an_stats_tier {
	AN_TIER_1K = 0,
	AN_TIER_10K,
	AN_TIER_100K,
	AN_TIER_1M,
	AN_TIER_COUNT
};

/* Modes a usable policy can have (an_mode without "unset"). */
enum an_stats_mode {
	AN_SMODE_ENFORCE = 0,
	AN_SMODE_TESTING,
	AN_SMODE_NONE,
	AN_SMODE_COUNT
};

enum an_stats_table_id {
	AN_TABLE_TLD = 0,
	AN_TABLE_MX_PROVIDER,
	AN_TABLE_POLICY_HOST,
	AN_TABLE_GROUP,        /* an_stats_extra.group: --groups (an_groups.h) */
	AN_TABLE_COUNT
};

/* Facts about a domain that are not in its record: what the MX probe
 * records of its hosts say (zeros when the scan has no probes), and the
 * group the report's groups file gives it. */
struct an_stats_extra {
	size_t n_probed;      /* MX hosts with a probe record */
	size_t n_tlsa;        /* ... publishing TLSA */
	size_t n_tlsa_secure; /* ... with the AD bit (DNSSEC-validated) */
	const char *group;    /* NULL: no groups in use, the domain is not
			       * counted in the group table; else its label
			       * (AN_GROUP_NONE when the file lacks it).
			       * Only read during an_stats_add(). */
};

/* One row of a rank tier, or the adoption numbers of any group. */
struct an_stats_tier_row {
	uint64_t domains;
	uint64_t sts_record;
	uint64_t policy_usable;
	uint64_t enforce;        /* usable policies in mode enforce */
	uint64_t tlsrpt;
};

struct an_stats_finding {
	uint64_t domains;        /* domains with the code at least once */
	uint64_t sts_domains;    /* ... that have an MTA-STS record */
	uint64_t error;          /* domains where an instance is an error */
};

/* The flat counters.  Every array is indexed by its enum. */
struct an_stats_counts {
	uint64_t domains;
	uint64_t sts_record, sts_valid, policy_usable;
	uint64_t with_error;      /* domains with an error-severity finding */
	uint64_t with_warn;       /* ... with a warn (and no error) */
	uint64_t verdicts[AN_V_COUNT];
	uint64_t verdict_unknown; /* verdict byte out of range */
	uint64_t modes[AN_SMODE_COUNT];
	uint64_t max_age[AN_AGE_COUNT];
	uint64_t max_age_missing; /* usable policy without max_age (none) */
	struct an_stats_finding findings[AN_F_COUNT];
	uint64_t findings_unknown;   /* domains with a code not in the table */
	uint64_t findings_truncated; /* domains whose list was cut (totals) */
	uint64_t tlsrpt;             /* valid TLS-RPT record */
	uint64_t tlsrpt_without_sts; /* ... and no MTA-STS record */
	uint64_t tlsrpt_with_sts;    /* ... and an MTA-STS record */
	uint64_t dane_probed, dane_tlsa_any, dane_tlsa_all;
	uint64_t dane_tlsa_all_secure;
	uint64_t dane_with_policy;   /* tlsa_all and a usable policy */
	uint64_t ranked;             /* domains with a rank */
	struct an_stats_tier_row tiers[AN_TIER_COUNT];
	uint64_t ph_cname;           /* STS domains whose mta-sts.D is a CNAME */
};

/* One key of a breakdown table. */
struct an_stats_row {
	const char *key;          /* valid until the next an_stats_add/free */
	uint64_t domains;
	uint64_t sts_record;
	uint64_t policy_usable;
	uint64_t enforce;
	uint64_t verdicts[AN_V_COUNT];
	const uint64_t *findings; /* the group table: AN_F_COUNT counts of
				   * domains with each code (an_code order);
				   * NULL in the other tables.  Valid as key */
};

struct an_stats_table {
	size_t n_keys;            /* keys held now (<= key_cap) */
	uint64_t pruned;          /* keys folded into other so far */
	struct an_stats_row other;/* key "(other)": the pruned keys' counts */
	struct an_stats_row total;/* key "(total)": every count of the table */
};

extern const uint64_t AN_STATS_AGE_EDGES[AN_AGE_COUNT];
extern const uint64_t AN_STATS_TIER_MAX[AN_TIER_COUNT];

/*
 * New accumulator; key_cap keys per table (0: AN_STATS_KEY_CAP_DEFAULT;
 * at least 2).  Returns ST_OK and *out (free with an_stats_free), ST_EINVAL,
 * ST_ENOMEM.  The key pools (key_cap entries of about 360 bytes per table)
 * and a 2 MB provider cache are allocated here; afterwards only the tables'
 * hash indexes grow, up to what key_cap keys need.
 */
int an_stats_new(size_t key_cap, struct an_stats **out);
void an_stats_free(struct an_stats *st); /* NULL is a no-op */

/*
 * Count one domain.  rec is only read during the call (its strings are
 * copied where kept); x may be NULL (no probe facts).  Returns ST_OK or
 * ST_EINVAL (NULL st or rec, or rec->domain NULL).  Cannot fail otherwise:
 * a full table prunes, and should an index fail to grow the domain counts
 * under that table's "other".
 */
int an_stats_add(struct an_stats *st, const struct an_record *rec,
		 const struct an_stats_extra *x);

/* The counters (valid until an_stats_free). */
const struct an_stats_counts *an_stats_counts(const struct an_stats *st);

/* A table's size, pruning counter and "other" row. */
const struct an_stats_table *an_stats_table(const struct an_stats *st,
					    enum an_stats_table_id t);

/*
 * The top rows of table t: copies up to max rows into out, sorted by
 * domains (descending), then by key; returns how many.  Keys point into st
 * (valid until the next an_stats_add or an_stats_free).  Rows not copied
 * are not in "other": the caller adds them up if it needs the rest.
 */
size_t an_stats_top(const struct an_stats *st, enum an_stats_table_id t,
		    struct an_stats_row *out, size_t max);

/*
 * The provider key of a host name (see above): the registrable domain by
 * the public suffix list, else the last two labels; an IP literal or a
 * single label is its own key.  A trailing dot is ignored; the key is
 * lower case.  Writes at most cap bytes with the NUL; returns ST_OK,
 * ST_EINVAL (NULL or empty host), ST_ESPACE (cap too small).
 */
int an_stats_provider(const char *host, char *out, size_t cap);

/* "lt-1d", "1d-1w", ... "ge-1y"; "top-1k", ...; "enforce", ...;
 * "tld", "mx_provider", "policy_host", "group": the names JSON and HTML use. */
const char *an_stats_age_name(enum an_stats_age b);
const char *an_stats_tier_name(enum an_stats_tier t);
const char *an_stats_mode_name(enum an_stats_mode m);
const char *an_stats_table_name(enum an_stats_table_id t);

/* The bucket of a max_age in seconds. */
enum an_stats_age an_stats_age_bucket(uint64_t max_age);

/* Did the record count as sts_record / policy_usable (definitions above)? */
bool an_stats_has_sts(const struct an_record *rec);
bool an_stats_usable(const struct an_record *rec);

#endif /* AN_STATS_H */
