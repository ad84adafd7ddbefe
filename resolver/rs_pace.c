/*
 * rs_pace.c - AIMD window of first attempts per upstream (rs_pace.h).
 */
#include "rs_pace.h"

#include <string.h>

void rs_pace_init(struct rs_pace *p, unsigned ceiling)
{
	memset(p, 0, sizeof(*p));
	p->ceiling = ceiling > 0 ? (double)ceiling : 1.0;
	p->floor = p->ceiling < RS_PACE_FLOOR ? p->ceiling : RS_PACE_FLOOR;
	p->window = p->ceiling < RS_PACE_INITIAL ? p->ceiling : RS_PACE_INITIAL;
	p->ssthresh = p->ceiling;
	p->window_low = p->ceiling; /* the smallest a backoff left */
}

bool rs_pace_room(const struct rs_pace *p)
{
	return (double)p->outstanding + 1.0 <= p->window;
}

uint64_t rs_pace_sent(struct rs_pace *p, bool first)
{
	if (first)
		p->outstanding++;
	return p->next_seq++;
}

/* avg += (x - avg) / n */
static double ewma(double avg, double x, double n)
{
	return avg + (x - avg) / n;
}

/* The short average spans about a window of outcomes (at least
 * 2^RS_PACE_SHORT_SHIFT, at most a quarter of the long one's span): an
 * overload shows within a round trip whatever the window, and the random
 * loss of a path (0.5% each way) stays far from the margin.  Over a fixed
 * 64 outcomes, four losses among 64 (0.4% likely at 1% loss, so a few
 * times in every 60,000 answers) would read as a rise and halve a window
 * of thousands for nothing. */
static double short_span(const struct rs_pace *p)
{
	double lo = (double)(1u << RS_PACE_SHORT_SHIFT);
	double hi = (double)(1u << (RS_PACE_LONG_SHIFT - 2));

	return p->window < lo ? lo : p->window > hi ? hi : p->window;
}

/* Has the share of bad outcomes risen above its level? */
static bool risen(const struct rs_pace *p)
{
	return p->bad_short > 2.0 * p->bad_long + RS_PACE_RISE;
}

void rs_pace_rtt(struct rs_pace *p, uint64_t rtt_us)
{
	double r = (double)rtt_us;

	p->rtt_samples++;
	p->rtt_short_us = p->rtt_samples == 1 ? r
			  : ewma(p->rtt_short_us, r, short_span(p));
	/* The base: the smallest the average has been, once it has warmed
	 * up over its shortest span (a first cache hit is not the path). */
	if (p->rtt_samples >= RS_PACE_DELAY_WARM &&
	    (p->rtt_base_us <= 0.0 || p->rtt_short_us < p->rtt_base_us))
		p->rtt_base_us = p->rtt_short_us;
}

bool rs_pace_delayed(const struct rs_pace *p)
{
	return p->rtt_base_us > 0.0 &&
	       p->rtt_short_us > RS_PACE_DELAY_RISE * p->rtt_base_us;
}

/* A good answer while the round trip shows a queue: no growth (slow start
 * ends), and a cut by 1/8 once per window of questions.  Every
 * RS_PACE_DELAY_CUTS cuts of one episode (until the round trip is back
 * under RS_PACE_DELAY_CLEAR x the base), the round trip must have fallen
 * under RS_PACE_DELAY_FELL x the highest it was since the first of them
 * (the rise may go on for a round trip after the first cut), as a
 * queue of ours does when the window shrinks; if it has not, the rise is
 * the path's (or the machine's), the base is re-learnt from it, and the
 * cuts stop (rs_pace.h). */
static void delay_hold(struct rs_pace *p, uint64_t seq)
{
	if (p->window < p->ssthresh)
		p->ssthresh = p->window;
	if (p->delay_run > 0 && p->rtt_short_us > p->rtt_run_us)
		p->rtt_run_us = p->rtt_short_us;
	if (seq < p->recover_seq || p->window <= p->floor)
		return;
	if (p->delay_run >= RS_PACE_DELAY_CUTS) {
		bool fell = p->rtt_short_us < RS_PACE_DELAY_FELL * p->rtt_run_us;

		p->delay_run = 0;
		if (!fell) {
			p->rtt_base_us = p->rtt_short_us;
			p->rebases++;
			return;
		}
	}
	if (p->delay_run == 0)
		p->rtt_run_us = p->rtt_short_us;
	p->window *= RS_PACE_DELAY_CUT;
	if (p->window < p->floor)
		p->window = p->floor;
	if (p->window < p->window_low)
		p->window_low = p->window;
	p->ssthresh = p->window;
	p->recover_seq = p->next_seq;
	p->delay_run++;
	p->delay_cuts++;
}

bool rs_pace_outcome(struct rs_pace *p, uint64_t seq, bool first,
		     enum rs_pace_outcome o)
{
	double bad = o == RS_PACE_GOOD ? 0.0 : 1.0;
	bool cut = false;

	if (first && p->outstanding > 0)
		p->outstanding--;
	p->bad_short = ewma(p->bad_short, bad, short_span(p));
	/* The long average is the level of the domains' own failures: it
	 * learns only while the share has not risen (or the window cannot go
	 * lower anyway), so a lasting overload keeps halving instead of
	 * being learnt as the new normal. */
	if (!risen(p) || p->window <= p->floor)
		p->bad_long = ewma(p->bad_long, bad,
				   (double)(1u << RS_PACE_LONG_SHIFT));
	if (o == RS_PACE_GOOD && rs_pace_delayed(p)) {
		delay_hold(p, seq);
		return false;
	}
	if (o == RS_PACE_GOOD) {
		if (p->rtt_short_us < RS_PACE_DELAY_CLEAR * p->rtt_base_us)
			p->delay_run = 0; /* the episode is over */
		/* Additive increase: +1 per window of good answers, or
		 * window / RS_PACE_GROW_DIV once the window is larger than
		 * that: a halved window of 1,000 would otherwise take 1,000
		 * round trips (50 s at 50 ms) to come back, longer than most
		 * scans last, after a single burst. */
		if (p->window < p->ssthresh)
			p->window += 1.0; /* slow start */
		else
			p->window += (p->window > RS_PACE_GROW_DIV
				      ? p->window / RS_PACE_GROW_DIV
				      : 1.0) / p->window;
		if (p->window > p->ceiling)
			p->window = p->ceiling;
		return false;
	}
	if (risen(p) && seq >= p->recover_seq && p->window > p->floor) {
		/* Multiplicative decrease, once per window in flight. */
		p->window /= 2.0;
		p->ssthresh = p->window;
		if (p->window < p->floor)
			p->window = p->floor;
		if (p->window < p->window_low)
			p->window_low = p->window;
		p->recover_seq = p->next_seq;
		p->backoffs++;
		cut = true;
	}
	return cut;
}

void rs_pace_release(struct rs_pace *p)
{
	if (p->outstanding > 0)
		p->outstanding--;
}

unsigned rs_pace_window(const struct rs_pace *p)
{
	return (unsigned)p->window;
}

void rs_rto_init(struct rs_rto *t)
{
	memset(t, 0, sizeof(*t));
}

void rs_rto_sample(struct rs_rto *t, uint64_t rtt_us)
{
	double r = (double)rtt_us;

	t->samples++;
	if (!t->valid) {
		/* RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2 */
		t->srtt_us = r;
		t->rttvar_us = r / 2.0;
		t->valid = true;
		return;
	}
	/* §2.3, RTTVAR first, with the old SRTT */
	t->rttvar_us = 0.75 * t->rttvar_us +
		       0.25 * (t->srtt_us > r ? t->srtt_us - r : r - t->srtt_us);
	t->srtt_us = 0.875 * t->srtt_us + 0.125 * r;
}

void rs_rto_timeout(struct rs_rto *t, uint64_t elapsed_us)
{
	if (t->valid)
		rs_rto_sample(t, 2 * elapsed_us);
}

unsigned rs_rto_ms(const struct rs_rto *t, unsigned ceiling_ms)
{
	double var, rto_us;
	unsigned floor_ms = ceiling_ms < RS_RTO_FLOOR_MS ? ceiling_ms
							  : RS_RTO_FLOOR_MS;
	unsigned ms;

	if (!t->valid)
		return ceiling_ms;
	var = 4.0 * t->rttvar_us;
	if (var < (double)RS_RTO_GRANULARITY_US)
		var = (double)RS_RTO_GRANULARITY_US;
	rto_us = t->srtt_us + var;
	if (rto_us >= (double)ceiling_ms * 1000.0)
		return ceiling_ms;
	ms = (unsigned)((rto_us + 999.0) / 1000.0);
	return ms < floor_ms ? floor_ms : ms > ceiling_ms ? ceiling_ms : ms;
}
