/*
 * sc_health.h - is our upstream resolver answering?  (DESIGN §4, "Where a
 * failure belongs": a dead, overloaded or non-recursive upstream is a
 * local error, never a finding about a domain.)
 *
 * The canary.  One question tells whether an upstream is alive and
 * whether it recurses: ". NS" with RD set (every query stsmap sends has
 * RD).  It works for both kinds of upstream a scan may use:
 *   - a recursive resolver always holds the root's NS set (RFC 8109
 *     priming), so it answers at once, with RA set; in the test world,
 *     whose root is a stub to an NSD that refuses it, Unbound answers
 *     SERVFAIL, still at once and with RA set;
 *   - an authoritative server for the input's zones (asked directly, with
 *     --upstream-authoritative) answers REFUSED or a referral, with RA
 *     clear.
 * Any response at all shows the upstream alive.  RA clear, or a referral,
 * shows it does not recurse (RFC 1035 §4.1.1, RFC 1034 §4.3.1).  A name of
 * the input would not do: its own servers may be the ones that fail.
 *
 * At start-up, sc_upstream_check() asks each upstream the canary on an
 * event base of its own and says what is wrong, if anything.
 *
 * During the scan, struct sc_health (one per engine) decides whether a
 * domain's timed-out lookups are the domain's or the upstream's.  A
 * SERVFAIL is an answer: the upstream is there, and says the name's
 * servers failed.  A timeout is believed, and the domain stored
 * `undetermined`, only if the upstream answered something else while the
 * lookup's last attempt was on the wire; otherwise nothing was learnt
 * about the domain: it goes to the retry queue as an upstream fault and
 * the canary is asked.  So that a lone lookup (a dead domain at the end of
 * a scan) still has evidence, the canary is also asked whenever questions
 * are on the wire and nothing was heard for SC_HEALTH_IDLE_MS.  No answer
 * to the canary: the upstream is down, every domain with a timeout from
 * then on goes to the retry queue, the engine pauses, and the canary is
 * asked again with a doubling interval.  An answer resumes the scan; a
 * silence longer than cfg.upstream_wait_s stops it with ST_EDNS, and
 * sc_health_stop_report() says why and how much was left unmeasured.
 * Timeouts in more than half of the last SC_HEALTH_WINDOW domains (at
 * least SC_HEALTH_MIN of them) are treated the same way, as an overloaded
 * upstream dropping questions, even while the canary answers.
 *
 * Not covered: an upstream that answers the canary from its cache but
 * SERVFAILs every other name (its own link down) passes for healthy, and
 * its SERVFAILs are stored as the domains'; one that drops some names and
 * answers others has each timeout vouched for by the answers around it
 * until the rate rule fires, so up to SC_HEALTH_MIN domains before that
 * may be stored undetermined.
 */
#ifndef SC_HEALTH_H
#define SC_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs_resolver.h"
#include "sc_scan.h"

struct sc_engine;
struct sc_domain;
struct sc_health;

#define SC_CANARY_NAME "."
#define SC_CANARY_TYPE 2 /* NS */

#define SC_HEALTH_WINDOW 32   /* domains in the failure-rate window */
#define SC_HEALTH_MIN 16      /* domains before the rate is judged */
#define SC_HEALTH_IDLE_MS 1000 /* nothing heard this long: the canary */
#define SC_HEALTH_REPROBE_MS 1000u  /* first re-probe of a down upstream */
#define SC_HEALTH_REPROBE_CAP_MS 16000u

/* What the canary got from one upstream at start-up. */
struct sc_upstream_probe {
	char addr[64];           /* as configured; "resolv.conf" if none */
	enum rs_status status;
	int rcode;
	bool ra;
	char referral_zone[256]; /* RS_REFERRAL: the cut */
	uint32_t latency_ms;
};

/*
 * The start-up check prepared: an event base and one resolver (one
 * socket) per upstream of cfg, opened now, so that asking later needs no
 * new descriptor (the scan asks at its first domain).  Run once, then
 * free.  ST_OK, ST_ENOMEM, ST_EINVAL (a bad --resolver), ST_ENOENT, ST_EIO.
 */
struct sc_upstream_checker;
int sc_upstream_checker_new(const struct sc_config *cfg,
			    struct sc_upstream_checker **out);
/* Ask each upstream the canary (as sc_upstream_check); the checker's
 * resolvers are closed afterwards.  ST_EINVAL when run twice. */
int sc_upstream_checker_run(struct sc_upstream_checker *ck,
			    const struct sc_config *cfg,
			    struct sc_upstream_probe probes[RS_MAX_UPSTREAMS],
			    size_t *n);
void sc_upstream_checker_free(struct sc_upstream_checker *ck); /* NULL ok */

/*
 * Ask every upstream of cfg the canary (timeout and retries of cfg), each
 * on its own, and fill probes[0..*n).  ST_OK when every one was asked
 * (whatever it answered); ST_ENOMEM, ST_EINVAL (a bad --resolver) or
 * ST_ENOENT (no upstream) when that was not possible.  Blocks for at most
 * the resolver's retry schedule.
 */
int sc_upstream_check(const struct sc_config *cfg,
		      struct sc_upstream_probe probes[RS_MAX_UPSTREAMS],
		      size_t *n);

/*
 * What is wrong with upstream p for a scan (authoritative: the option
 * --upstream-authoritative was given), as a sentence for the user in
 * buf, or NULL if nothing is.  Dead (no response), refusing us (REFUSED
 * from a recursive upstream) and not recursing (RA clear or a referral,
 * unless authoritative) are wrong.
 */
const char *sc_upstream_problem(const struct sc_upstream_probe *p,
				bool authoritative, char *buf, size_t len);

/*
 * The start-up check for a command (cmd: "scan", "check"): the canary to
 * every upstream (through ck if not NULL, else opened now), each problem
 * printed on stderr, loudly.  ST_OK when every upstream is fit; ST_EDNS
 * (after saying why) when one is not or none could be asked.
 */
int sc_upstream_gate(struct sc_upstream_checker *ck,
		     const struct sc_config *cfg, const char *cmd);

/* The engine's monitor: made by sc_engine_new, freed by sc_engine_free.
 * ST_OK, ST_ENOMEM, or the canary resolver's error. */
int sc_health_new(struct sc_engine *e, struct sc_health **out);
void sc_health_free(struct sc_health *h);

/* A lookup of d (NULL: not a domain's) ended with res: evidence about the
 * upstream; a timeout is noted in d, and whether the upstream answered
 * anything while its last attempt was on the wire. */
void sc_health_note(struct sc_health *h, struct sc_domain *d,
		    const struct rs_result *res);

/* d has all its answers and no fault: judge its timeouts (above).  d may
 * then carry an upstream fault, which sends it to the retry queue. */
void sc_health_judge(struct sc_health *h, struct sc_domain *d);

/* After the run: did the monitor stop the scan?  If so, a message for
 * the user in buf, naming the upstream, how long it was silent and how
 * many domains were in flight or waiting for a retry (not measured). */
bool sc_health_stop_report(const struct sc_health *h, char *buf,
			   size_t len);

/* Counters for the summary. */
struct sc_health_stats {
	uint64_t unvouched;      /* timeouts with no answer meanwhile */
	uint64_t canaries;       /* canary questions asked */
	uint64_t outages;        /* times the upstream was judged down */
	uint64_t upstream_faults; /* domains sent back to the retry queue */
};
void sc_health_stats(const struct sc_health *h, struct sc_health_stats *out);

#endif /* SC_HEALTH_H */
