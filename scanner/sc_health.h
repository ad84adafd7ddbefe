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
 * Private to the engine library (st_engine); the start-up check's API
 * (sc_upstream_check(), sc_upstream_gate(), ...) is public, in
 * sc_engine.h.
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
#include "sc_engine.h"

#ifndef SC_ENGINE_BUILD
#error "sc_health.h is private to the engine library: include sc_engine.h"
#endif

struct sc_domain;
struct sc_health;

#define SC_HEALTH_WINDOW 32   /* domains in the failure-rate window */
#define SC_HEALTH_MIN 16      /* domains before the rate is judged */
#define SC_HEALTH_IDLE_MS 1000 /* nothing heard this long: the canary */
#define SC_HEALTH_REPROBE_MS 1000u  /* first re-probe of a down upstream */
#define SC_HEALTH_REPROBE_CAP_MS 16000u

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

/* Counters for the summary (struct sc_health_stats: sc_engine.h). */
void sc_health_stats(const struct sc_health *h, struct sc_health_stats *out);

#endif /* SC_HEALTH_H */
