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
	p->window = p->ceiling;
	p->window_low = p->window;
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

/* avg += (x - avg) / 2^shift */
static double ewma(double avg, double x, int shift)
{
	return avg + (x - avg) / (double)(1u << shift);
}

/* Has the share of bad outcomes risen above its level? */
static bool risen(const struct rs_pace *p)
{
	return p->bad_short > 2.0 * p->bad_long + RS_PACE_RISE;
}

bool rs_pace_outcome(struct rs_pace *p, uint64_t seq, bool first,
		     enum rs_pace_outcome o)
{
	double bad = o == RS_PACE_GOOD ? 0.0 : 1.0;
	bool cut = false;

	if (first && p->outstanding > 0)
		p->outstanding--;
	p->bad_short = ewma(p->bad_short, bad, RS_PACE_SHORT_SHIFT);
	/* The long average is the level of the domains' own failures: it
	 * learns only while the share has not risen (or the window cannot go
	 * lower anyway), so a lasting overload keeps halving instead of
	 * being learnt as the new normal. */
	if (!risen(p) || p->window <= p->floor)
		p->bad_long = ewma(p->bad_long, bad, RS_PACE_LONG_SHIFT);
	if (o == RS_PACE_GOOD) {
		/* Additive increase: +1 per window of good answers. */
		p->window += 1.0 / p->window;
		if (p->window > p->ceiling)
			p->window = p->ceiling;
		return false;
	}
	if (risen(p) && seq >= p->recover_seq && p->window > p->floor) {
		/* Multiplicative decrease, once per window in flight. */
		p->window /= 2.0;
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
