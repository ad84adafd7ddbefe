/*
 * test_rs_pace.c - the pacing window (resolver/rs_pace.h), table-driven:
 * each row is a script of sends and outcomes, then the window, the number
 * of halvings and whether a first attempt may be sent.
 *
 * Script letters (one per event, in order):
 *   s  a first attempt sent        r  a retry sent (no place taken)
 *   g  the oldest unsettled send answered (good)
 *   f  ... answered SERVFAIL      t  ... timed out
 *   x  the oldest first attempt released (cancelled, no verdict)
 *   G  a first attempt sent and answered at once, good (the same for F
 *      and T), so a long steady stream is written with a repeat count:
 *      "G*100" is 100 of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rs_pace.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SENDS 4096

struct send {
	uint64_t seq;
	bool first, settled;
};

struct run {
	struct rs_pace p;
	struct send s[MAX_SENDS];
	size_t n;
};

static void send_one(struct run *r, bool first)
{
	assert_true(r->n < MAX_SENDS);
	r->s[r->n].seq = rs_pace_sent(&r->p, first);
	r->s[r->n].first = first;
	r->s[r->n].settled = false;
	r->n++;
}

static void settle_oldest(struct run *r, enum rs_pace_outcome o)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->s[i].settled)
			continue;
		r->s[i].settled = true;
		(void)rs_pace_outcome(&r->p, r->s[i].seq, r->s[i].first, o);
		return;
	}
	fail_msg("no send to settle");
}

static void release_oldest(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->s[i].settled || !r->s[i].first)
			continue;
		r->s[i].settled = true;
		rs_pace_release(&r->p);
		return;
	}
	fail_msg("no first attempt to release");
}

static void event(struct run *r, char c)
{
	switch (c) {
	case 's': send_one(r, true); break;
	case 'r': send_one(r, false); break;
	case 'g': settle_oldest(r, RS_PACE_GOOD); break;
	case 'f': settle_oldest(r, RS_PACE_SERVFAIL); break;
	case 't': settle_oldest(r, RS_PACE_TIMEOUT); break;
	case 'x': release_oldest(r); break;
	case 'G': send_one(r, true); settle_oldest(r, RS_PACE_GOOD); break;
	case 'F': send_one(r, true); settle_oldest(r, RS_PACE_SERVFAIL); break;
	case 'T': send_one(r, true); settle_oldest(r, RS_PACE_TIMEOUT); break;
	default: fail_msg("bad script letter %c", c);
	}
	if (r->n == MAX_SENDS) { /* keep only the unsettled */
		size_t k = 0;

		for (size_t i = 0; i < r->n; i++) {
			if (!r->s[i].settled)
				r->s[k++] = r->s[i];
		}
		r->n = k;
	}
}

/* Play script ("sg G*100 tt ..."; spaces ignored). */
static void play(struct run *r, const char *script)
{
	for (const char *p = script; *p != '\0'; p++) {
		unsigned long rep = 1;

		if (*p == ' ')
			continue;
		if (p[1] == '*') {
			char *end;

			rep = strtoul(p + 2, &end, 10);
			assert_true(rep > 0);
			for (unsigned long i = 0; i < rep; i++)
				event(r, *p);
			p = end - 1;
			continue;
		}
		event(r, *p);
	}
}

struct row {
	const char *what;
	unsigned ceiling;
	const char *script;
	unsigned window;      /* rs_pace_window() after */
	uint64_t backoffs;
	unsigned window_low;
	bool room;
};

static const struct row rows[] = {
	/* RFC 5681 §3.1 slow start: the window starts at RS_PACE_INITIAL
	 * (the ceiling if smaller) and grows by one per good answer up to
	 * the ceiling or the first signal. */
	{ "fresh", 100, "", 100, 0, 100, true },
	{ "fresh, large ceiling", 5000, "", RS_PACE_INITIAL, 0, 5000, true },
	{ "slow start doubles per window", 5000, "s*256 g*256",
	  2 * RS_PACE_INITIAL, 0, 5000, true },
	{ "slow start up to the ceiling", 5000, "G*6000", 5000, 0, 5000, true },
	/* After a halving, ssthresh is the halved window: growth is then
	 * window/64 per window of answers, not +1 per answer. */
	{ "no slow start after a halving", 2048, "G*2048 s*1100 t*1100 G*1024",
	  1040, 1, 1024, true },
	{ "full window: no room", 3, "sss", 3, 0, 3, false },
	{ "an answer frees a place", 3, "sssg", 3, 0, 3, true },
	{ "retries take no place", 2, "srrr", 2, 0, 2, true },
	{ "a release frees a place", 2, "ssx", 2, 0, 2, true },
	/* A lone timeout in a clean stream is no rise: one bad of the last
	 * sixteen is under RS_PACE_RISE. */
	{ "one timeout: no backoff", 64, "G*200 T G*200", 64, 0, 64, true },
	/* A burst of timeouts of questions sent in one window halves once
	 * (RFC 6582 §3.2: one reduction per window of data). */
	{ "a burst halves once", 64, "s*40 t*40", 32, 1, 32, true },
	/* The burst outlasts the window: sends after the cut, then timing
	 * out, cut again. */
	{ "a burst over two windows", 64, "s*40 t*40 s*20 t*20", 16, 2, 16,
	  true },
	/* SERVFAIL counts as timeouts do (an overloaded recursor, a
	 * rate-limited one). */
	{ "a SERVFAIL burst halves", 64, "s*30 f*30", 32, 1, 32, true },
	/* Never below the floor. */
	{ "floor", 64, "s*30 t*30 s*30 t*30 s*30 t*30 s*30 t*30 s*30 t*30",
	  RS_PACE_FLOOR, 4, RS_PACE_FLOOR, true },
	/* Additive increase: +1/window per good answer, so from 32 about
	 * 32 answers lift it by one; 32*2 + 33*2 + ... back to the ceiling. */
	{ "recovers on answers", 64, "s*40 t*40 G*40", 33, 1, 32, true },
	{ "back to the ceiling", 64, "s*40 t*40 G*3000", 64, 1, 32, true },
	/* A lasting overload (every answer lost, window after window: 4000
	 * in all) is not learnt as the level of the domains' own failures:
	 * it halves once per window, every window. */
	{ "lasting overload", 1000000, "G*1000000 "
	  "s*500 t*500 s*500 t*500 s*500 t*500 s*500 t*500 "
	  "s*500 t*500 s*500 t*500 s*500 t*500 s*500 t*500", 3906, 8, 3906,
	  true },
	/* A large window grows by window/64 per window of good answers
	 * (1/64 a answer): from 1,024 back to 2,048 in 65,536 answers, 32
	 * windows; at +1 per window it would still be near 1,085. */
	{ "a large window recovers", 2048, "G*2048 s*1100 t*1100 G*65600", 2048, 1,
	  1024, true },
	/* Small ceiling: floor is the ceiling. */
	{ "ceiling under the floor", 2, "s*2 t*2 ss", 2, 0, 2, false },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct row *w = &rows[i];
		struct run *r = calloc(1, sizeof(*r));

		assert_non_null(r);
		rs_pace_init(&r->p, w->ceiling);
		play(r, w->script);
		if (rs_pace_window(&r->p) != w->window ||
		    r->p.backoffs != w->backoffs ||
		    (unsigned)r->p.window_low != w->window_low ||
		    rs_pace_room(&r->p) != w->room)
			fail_msg("row '%s': window %u backoffs %llu low %u room "
				 "%d", w->what, rs_pace_window(&r->p),
				 (unsigned long long)r->p.backoffs,
				 (unsigned)r->p.window_low,
				 rs_pace_room(&r->p));
		free(r);
	}
}

/* A level share of bad outcomes (a population of broken domains, drawn
 * at random): after the long average learnt it, no more halvings, and the
 * window is back at its ceiling. */
static void steady_share(unsigned percent)
{
	struct run *r = calloc(1, sizeof(*r));
	uint64_t x = 0x9e3779b97f4a7c15u, early;

	assert_non_null(r);
	rs_pace_init(&r->p, 256);
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i == 20000)
			early = r->p.backoffs;
		event(r, x % 100 < percent ? 'F' : 'G');
	}
	if (r->p.backoffs != early || rs_pace_window(&r->p) != 256)
		fail_msg("%u%%: %llu halvings while learning, %llu after; "
			 "window %u", percent, (unsigned long long)early,
			 (unsigned long long)(r->p.backoffs - early),
			 rs_pace_window(&r->p));
	free(r);
}

static void test_steady_share(void **state)
{
	(void)state;
	steady_share(5);
	steady_share(25);
}

/* Random loss on a healthy path (0.5% each way, so about 1% of the
 * questions time out) with a window of thousands in flight: never a
 * halving, from the first answer on (the long average has learnt
 * nothing yet).  Over a short average of 64 outcomes, four losses in 64
 * read as a rise a few times in 60,000 answers. */
static void test_random_loss(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	uint64_t x = 0x2545f4914f6cdd1du;

	(void)state;
	assert_non_null(r);
	rs_pace_init(&r->p, 1500);
	play(r, "s*1500");
	for (int i = 0; i < 60000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		event(r, x % 1000 < 10 ? 't' : 'g');
		event(r, 's');
	}
	if (r->p.backoffs != 0 || rs_pace_window(&r->p) != 1500)
		fail_msg("%llu halvings, window %u",
			 (unsigned long long)r->p.backoffs,
			 rs_pace_window(&r->p));
	free(r);
}

/*
 * The delay signal (rs_pace_rtt()).  A window kept full against a model
 * upstream: each first attempt's round trip is a function of the number
 * outstanding when it was sent, and every answer is good (no loss, so
 * only the delay can hold the window back).  Models, times in us:
 *   QUEUE   a bottleneck that answers bdp questions per base round trip:
 *           base x max(1, outstanding / bdp), a queue past bdp;
 *   SLOWER  base for the first `after` answers, then 3 x base whatever
 *           is outstanding (a slower path, not a queue of ours);
 *   JITTER  base +- 20% at random (50 +- 10 ms), no queue;
 *   MIX     a recursor's cache: 70% of the answers in 1 ms, 30% in
 *           base, drawn at random, no queue;
 *   LOADED  base for the first `after` answers, then, whatever is
 *           outstanding, 1.7 x base and 1.3 x base by turns, 5,000
 *           answers each (a machine whose other work comes and goes).
 */
enum delay_model { QUEUE, SLOWER, JITTER, MIX, LOADED };

struct delay_row {
	const char *what;
	enum delay_model model;
	unsigned ceiling, bdp, after, answers;
	unsigned window_min, window_max; /* rs_pace_window() after */
	bool cuts;                       /* delay cuts expected */
};

static const struct delay_row delay_rows[] = {
	/* TCP Vegas (Brakmo and Peterson, 1995): a window past what the
	 * path answers per round trip only queues; the round trip rises
	 * and the window stops there, near 1.5 x bdp, without a loss (slow
	 * start too, RFC 9406 §1: "HyStart++ uses increase in round-trip
	 * delay as a heuristic to find an exit point before possible
	 * overshoot").  The
	 * old window (loss only) went on to the ceiling, 20,000: ten times
	 * what the path carries, all of it a queue. */
	{ "a queue holds the window", QUEUE, 20000, 2000, 0, 200000,
	  2000, 3100, true },
	{ "a queue holds a small window", QUEUE, 5000, 300, 0, 50000,
	  300, 500, true },
	/* A path that got slower does not drain when the window shrinks:
	 * after RS_PACE_DELAY_CUTS cuts the base is re-learnt, and the
	 * window grows back to its ceiling instead of spiralling down. */
	{ "a slower path is not a queue", SLOWER, 2000, 100000, 20000,
	  300000, 2000, 2000, true },
	/* A loaded machine's round trip, above and near the threshold by
	 * turns, does not fall when the window is cut: one episode of cuts
	 * (0.875^4 = 0.59 of the window), the base is re-learnt, and the
	 * window grows back to its ceiling; it never steps down to the
	 * floor. */
	{ "a loaded machine is not a queue", LOADED, 2000, 100000, 20000,
	  300000, 2000, 2000, true },
	/* Noise is not a queue: no cut, the window reaches its ceiling. */
	{ "jitter is not a queue", JITTER, 5000, 100000, 0, 100000, 5000,
	  5000, false },
	{ "a recursor's cache is not a queue", MIX, 5000, 100000, 0, 100000,
	  5000, 5000, false },
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t model_rtt(const struct delay_row *w, unsigned load,
			  unsigned answered, uint64_t *x)
{
	const uint64_t base = 50000;

	switch (w->model) {
	case QUEUE:
		return load > w->bdp ? base * load / w->bdp : base;
	case SLOWER:
		return answered < w->after ? base : 3 * base;
	case JITTER:
		return base * 8 / 10 + xorshift(x) % (base * 4 / 10);
	case MIX:
		return xorshift(x) % 10 < 7 ? 1000 : base;
	case LOADED:
		if (answered < w->after)
			return base;
		return (answered / 5000) % 2 ? base * 13 / 10 : base * 17 / 10;
	}
	return base;
}

struct flight {
	uint64_t seq;
	unsigned load; /* outstanding when it was sent, itself included */
};

static void test_delay(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(delay_rows); i++) {
		const struct delay_row *w = &delay_rows[i];
		struct flight *f = calloc(w->ceiling + 1, sizeof(*f));
		size_t head = 0, len = 0, cap = w->ceiling + 1;
		uint64_t x = 0x9e3779b97f4a7c15u;
		struct rs_pace p;
		unsigned got;

		assert_non_null(f);
		rs_pace_init(&p, w->ceiling);
		for (unsigned a = 0; a < w->answers; a++) {
			struct flight *o;

			while (rs_pace_room(&p) && len < cap) {
				struct flight *n = &f[(head + len) % cap];

				n->seq = rs_pace_sent(&p, true);
				n->load = (unsigned)++len;
			}
			o = &f[head];
			head = (head + 1) % cap;
			len--;
			rs_pace_rtt(&p, model_rtt(w, o->load, a, &x));
			(void)rs_pace_outcome(&p, o->seq, true, RS_PACE_GOOD);
		}
		got = rs_pace_window(&p);
		if (got < w->window_min || got > w->window_max ||
		    (p.delay_cuts > 0) != w->cuts || p.backoffs != 0)
			fail_msg("row '%s': window %u (want %u to %u), %llu "
				 "delay cuts, %llu rebases, %llu halvings",
				 w->what, got, w->window_min, w->window_max,
				 (unsigned long long)p.delay_cuts,
				 (unsigned long long)p.rebases,
				 (unsigned long long)p.backoffs);
		free(f);
	}
}

/* The retransmission timeout (struct rs_rto): RFC 6298 §2 with a floor
 * and the configured timeout as the ceiling.  Samples in ms, repeated. */
struct rto_row {
	const char *what;
	unsigned sample_ms, repeat, ceiling_ms, want_ms;
	unsigned timeout_ms, timeouts; /* then timeouts after timeout_ms */
};

static const struct rto_row rto_rows[] = {
	/* §2.1: "Until a RTT measurement has been made ... RTO <- 1
	 * second": our conservative value is the configured timeout. */
	{ "no sample: the ceiling", 0, 0, 2000, 2000, 0, 0 },
	/* §2.2: "SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max (G, K*RTTVAR)
	 * where K = 4": 50 + 4 x 25. */
	{ "first sample", 50, 1, 2000, 150, 0, 0 },
	/* A steady 60 ms path: RTTVAR decays, SRTT + 4 RTTVAR nears 60,
	 * under the floor. */
	{ "steady path: the floor", 60, 200, 2000, RS_RTO_FLOOR_MS, 0, 0 },
	{ "steady slow path", 400, 200, 2000, 401, 0, 0 },
	{ "never above the ceiling", 3000, 5, 2000, 2000, 0, 0 },
	{ "ceiling under the floor", 30, 50, 40, 40, 0, 0 },
	/* §5.5: "RTO <- RTO * 2": a run of timeouts (a queue grown past
	 * the timeout, whose answers would never be samples) lifts it; from
	 * 100 ms, four timeouts of 100 ms are samples of 200 ms that bring
	 * SRTT to 118 and RTTVAR to 76: 118 + 4 x 76 = 421 ms. */
	{ "timeouts lift it", 60, 200, 2000, 421, 100, 4 },
	{ "timeouts up to the ceiling", 60, 200, 500, 500, 400, 20 },
	/* No sample yet: a timeout teaches nothing, it stays the ceiling. */
	{ "timeout before a sample", 0, 0, 2000, 2000, 2000, 1 },
};

static void test_rto(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rto_rows); i++) {
		const struct rto_row *w = &rto_rows[i];
		struct rs_rto t;
		unsigned got;

		rs_rto_init(&t);
		for (unsigned k = 0; k < w->repeat; k++)
			rs_rto_sample(&t, (uint64_t)w->sample_ms * 1000u);
		for (unsigned k = 0; k < w->timeouts; k++)
			rs_rto_timeout(&t, (uint64_t)w->timeout_ms * 1000u);
		got = rs_rto_ms(&t, w->ceiling_ms);
		if (got != w->want_ms)
			fail_msg("row '%s': %u ms, want %u", w->what, got,
				 w->want_ms);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_steady_share),
		cmocka_unit_test(test_random_loss),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_rto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
