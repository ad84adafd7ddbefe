/*
 * rs_pace.h - adaptive pacing of the questions sent to one upstream
 * (DESIGN §8: "DNS pacing backs off when an upstream shows timeouts or
 * SERVFAIL and never exceeds --qps").
 *
 * A window of first attempts outstanding, in the way of TCP's congestion
 * window (AIMD, RFC 5681 §3.1): a question may be sent for the first time
 * to an upstream only while fewer than rs_pace_window() of its first
 * attempts are waiting for an answer.  A good answer grows the window by
 * 1/window (one question per round trip's worth of answers); a congestion
 * signal halves it (never below the floor).  A window larger than
 * RS_PACE_GROW_DIV grows by window / RS_PACE_GROW_DIV per window of good
 * answers instead (about 1.6% a round trip), so a halving costs tens of
 * round trips, not thousands.  Retries are not gated: they
 * are bounded by the first attempts already, and a retry held back would
 * only turn into a longer timeout.
 *
 * What is a congestion signal.  A timeout or a SERVFAIL may be the
 * domain's own (its servers are dead, its signatures broken): a survey of
 * millions meets a steady share of those, and halving on each would slow
 * a healthy scan for nothing.  So the outcomes feed two moving averages of
 * the share of bad ones (timeout or SERVFAIL), a short one (the last
 * window's outcomes, 64 to 1,024) and a long one (the last few thousand), and a bad
 * outcome is a congestion signal only while the short one has RISEN to
 * more than twice the long one plus RS_PACE_RISE: an overloaded or
 * rate-limiting upstream makes the share jump, a population of broken
 * domains keeps it level (and the short average's noise around a level
 * share stays well under that margin: at 1/64, its standard deviation is
 * 0.02 for a 5% share, 0.04 for 25%).
 * The long average learns only while the share has not risen (or the
 * window is at its floor): a lasting overload is not learnt as the new
 * level, it keeps halving the window until the drops stop.
 * At most one halving per window of questions: a bad outcome of a question
 * sent before the last halving tells nothing new (TCP's recovery point,
 * RFC 6582 §3.2), so a burst of timeouts halves once, not a hundred times.
 *
 * A delay signal, before any loss (in the way of TCP Vegas): a window
 * larger than what the upstream answers per round trip does not carry
 * more, it only queues, in the upstream's receive buffer or in a path's
 * router, and a queue that overflows loses questions by the thousand (a
 * world's NSD behind a 50 ms path, 15,000 questions outstanding: 13% of
 * them lost).  So the answers to first attempts also give round-trip
 * samples (rs_pace_rtt(); Karn's rule, as for the timeout), averaged over
 * about a window of them like the short share; the smallest that average
 * has been is the base, the round trip without our queue.  While the
 * average is above RS_PACE_DELAY_RISE times the base, the window does
 * not grow (slow start ends there, as in RFC 9406: "HyStart++ uses
 * increase in round-trip delay as a heuristic to find an exit point
 * before possible overshoot"), and it is cut by 1/8 at most once
 * per window of questions: the queue drains, the round trip comes back
 * down.  A round trip that has not fallen a tenth below its peak after
 * RS_PACE_DELAY_CUTS cuts (to 0.59 of the window) is not our queue but a
 * slower upstream or path (a recursor's mix of cache hits and misses
 * that shifted, a new route, a loaded machine): the base is re-learnt
 * from it, so the window never steps down to its floor for it.  An
 * episode of cuts ends when the round trip is back under
 * RS_PACE_DELAY_CLEAR times the base.  Loss stays the backstop: a queue the delay
 * signal did not keep short still halves the window when it drops.
 *
 * The qps cap of the resolver is applied on top, unchanged: the window
 * only ever sends less.  Pure: no clock, no socket; the caller feeds it.
 */
#ifndef RS_PACE_H
#define RS_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define RS_PACE_FLOOR 4u        /* the window never drops below */
#define RS_PACE_SHORT_SHIFT 6   /* short average: weight at most 1/64,
				 * 1/window for larger windows */
#define RS_PACE_LONG_SHIFT 12   /* long average: weight 1/4096 */
#define RS_PACE_RISE 0.05       /* short > 2 * long + this: a signal */
#define RS_PACE_INITIAL 256u    /* the first window (slow start) */
#define RS_PACE_GROW_DIV 64.0   /* larger windows grow by window/64 per
				 * window of good answers */
#define RS_PACE_DELAY_RISE 1.5  /* round trip > base x this: a queue */
#define RS_PACE_DELAY_CUT 0.875 /* a delay cut keeps 7/8 of the window */
#define RS_PACE_DELAY_CUTS 4u   /* cuts (0.875^4 = 0.59) after which the
				 * round trip must have fallen */
#define RS_PACE_DELAY_FELL 0.9  /* ... under 90% of what it was at the
				 * first of them: the cuts drain a queue */
#define RS_PACE_DELAY_CLEAR 1.25 /* under base x this, an episode ends */
#define RS_PACE_DELAY_WARM 64u  /* samples before the base is taken */

struct rs_pace {
	double window;          /* first attempts allowed outstanding */
	double ssthresh;        /* below it, slow start (+1 per answer) */
	double ceiling;         /* the largest window (max_inflight) */
	double floor;
	unsigned outstanding;   /* first attempts waiting */
	uint64_t next_seq;      /* stamp of the next send */
	uint64_t recover_seq;   /* bad outcomes of sends before it: no cut */
	double bad_short, bad_long; /* moving shares of bad outcomes */
	uint64_t backoffs;      /* halvings */
	double window_low;      /* the smallest window a backoff or a
				 * delay cut left (ceiling before the
				 * first) */
	double rtt_short_us;    /* round trips, averaged as bad_short */
	double rtt_base_us;     /* the smallest rtt_short (0: none yet) */
	uint64_t rtt_samples;
	double rtt_run_us;      /* the highest rtt_short since the first
				 * cut of a run */
	unsigned delay_run;     /* delay cuts of this run (episode) */
	uint64_t delay_cuts;    /* cuts for delay, all told */
	uint64_t rebases;       /* times the base was re-learnt */
};

/* Start with the window at RS_PACE_INITIAL (or ceiling, if smaller) in
 * slow start (RFC 5681 §3.1: "the initial value of ssthresh SHOULD be set
 * arbitrarily high"): +1 per good answer, so it doubles every round trip
 * up to ceiling or the first signal, which sets ssthresh to the halved
 * window.  A window of thousands sent at once, before one answer came
 * back, overflows the receive queue of a server that answers fewer per
 * round trip (a world's NSD behind a 50 ms path dropped 15,000 of 60,000
 * questions that way).  The floor is RS_PACE_FLOOR (or ceiling, if that
 * is smaller). */
void rs_pace_init(struct rs_pace *p, unsigned ceiling);

/* May a first attempt be sent now? */
bool rs_pace_room(const struct rs_pace *p);

/* An attempt is sent (first: it takes a place in the window).  Returns
 * its stamp, to be handed back with its outcome. */
uint64_t rs_pace_sent(struct rs_pace *p, bool first);

/* What an attempt ended with. */
enum rs_pace_outcome {
	RS_PACE_GOOD,     /* an answer other than SERVFAIL */
	RS_PACE_SERVFAIL, /* SERVFAIL */
	RS_PACE_TIMEOUT,  /* no answer in time */
};

/* The attempt stamped seq ended with o; first: it was a first attempt
 * (its place in the window is given back).  Returns true when this
 * outcome halved the window. */
bool rs_pace_outcome(struct rs_pace *p, uint64_t seq, bool first,
		     enum rs_pace_outcome o);

/* An answer to a first attempt (Karn's rule, RFC 6298 §3: only those
 * time the path) came rtt_us after it was sent.  Call it before the
 * answer's rs_pace_outcome(), which acts on the delay it shows. */
void rs_pace_rtt(struct rs_pace *p, uint64_t rtt_us);

/* Is the smoothed round trip above RS_PACE_DELAY_RISE x its base? */
bool rs_pace_delayed(const struct rs_pace *p);

/* A first attempt ended with nothing learnt about the upstream (the
 * question was cancelled, or failed on our side): its place goes back. */
void rs_pace_release(struct rs_pace *p);

/* The whole window, rounded down, as the scan summary shows it. */
unsigned rs_pace_window(const struct rs_pace *p);

/*
 * The retransmission timeout of one upstream, learnt from its answers as
 * TCP learns it (RFC 6298 §2: "RTTVAR <- (1 - beta) * RTTVAR + beta *
 * |SRTT - R'|", "SRTT <- (1 - alpha) * SRTT + alpha * R'", "RTO <- SRTT +
 * max (G, K*RTTVAR)" with alpha 1/8, beta 1/4, K 4), so a lost question
 * costs a few round trips of the path, not a fixed --dns-timeout.  Only
 * answers to a question's first attempt are samples (Karn's algorithm,
 * RFC 6298 §3: an answer to a retransmitted question is ambiguous).  The
 * result lies between RS_RTO_FLOOR_MS and the configured timeout (the
 * ceiling); before the first sample it is the ceiling (RFC 6298 §2.1:
 * the initial RTO is the conservative one).  Pure, as rs_pace.
 */
#define RS_RTO_FLOOR_MS 100u    /* never retransmit sooner */
#define RS_RTO_GRANULARITY_US 1000u /* G: the clock's tick, 1 ms */

struct rs_rto {
	bool valid;             /* a sample was taken */
	double srtt_us, rttvar_us;
	uint64_t samples;
};

void rs_rto_init(struct rs_rto *t);

/* An answer to a first attempt came rtt_us after it was sent. */
void rs_rto_sample(struct rs_rto *t, uint64_t rtt_us);

/* A first attempt timed out elapsed_us after it was sent: its answer, if
 * one comes, is later than that, and the upstream's ID table no longer
 * takes it, so it would never be a sample: an estimate fed only by the
 * answers that beat the timeout cannot follow a queue that grows (every
 * late answer is asked again, the queue grows faster).  So a timeout is
 * a sample of twice its wait (RFC 6298 §5.5: "RTO <- RTO * 2", the
 * backoff): a lone random loss lifts the estimate for a few answers, a
 * run of them (a queue past the timeout) lifts it until the answers come
 * in time again. */
void rs_rto_timeout(struct rs_rto *t, uint64_t elapsed_us);

/* The timeout of a first attempt now, in ms: SRTT + max(G, 4 RTTVAR),
 * rounded up, within [min(RS_RTO_FLOOR_MS, ceiling_ms), ceiling_ms]. */
unsigned rs_rto_ms(const struct rs_rto *t, unsigned ceiling_ms);

#endif /* RS_PACE_H */
