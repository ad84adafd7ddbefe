/*
 * rs_bench.c - drive rs_resolver at full speed over a list of domains and
 * report throughput, outcomes and memory (for scripts/bench-resolver).
 *
 * Names are streamed from a file (one per line) and never held all at once:
 * at most --window names are in flight, each asking the three questions a
 * scan asks first (TXT _mta-sts.NAME, MX NAME, TXT _smtp._tls.NAME).  The
 * next name is read only when one completes, so memory does not grow with
 * the input.  At the end one block of "key: value" lines is printed.
 * Exit 0 when every name was processed, 1 on a run failure, 2 on usage.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rs_resolver.h"
#include "st_error.h"

#define RB_LINE_MAX 1024
#define RB_QUESTIONS 3

/* Options, declared once: the parser and the usage text both read this. */
enum rb_opt { RB_UPSTREAM, RB_NAMES, RB_WINDOW, RB_QPS, RB_INFLIGHT,
	      RB_TIMEOUT, RB_RETRIES, RB_SOCKETS, RB_NO_PACE, RB_HELP };
static const struct rb_option {
	enum rb_opt id;
	const char *name;
	const char *arg;   /* NULL: a flag */
	unsigned long min, max;
	const char *help;
} rb_options[] = {
	{ RB_UPSTREAM, "--upstream", "IP:PORT", 0, 0, "upstream, repeatable (required)" },
	{ RB_NAMES, "--names", "FILE|-", 0, 0, "names, one a line (-: stdin, the default)" },
	{ RB_WINDOW, "--window", "N", 1, 1000000, "names in flight at most (2000)" },
	{ RB_QPS, "--qps", "N", 0, 10000000, "queries per second cap, 0: none (0)" },
	{ RB_INFLIGHT, "--inflight", "N", 1, 1000000, "questions on the wire at most (1000)" },
	{ RB_TIMEOUT, "--timeout-ms", "N", 1, 3600000, "first attempt's timeout (1000)" },
	{ RB_RETRIES, "--retries", "N", 0, 100, "attempts after the first (2)" },
	{ RB_SOCKETS, "--sockets", "N", 1, 32, "UDP sockets per address family (8)" },
	{ RB_NO_PACE, "--no-pace", NULL, 0, 0, "no adaptive pacing: --inflight alone holds the load" },
	{ RB_HELP, "--help", NULL, 0, 0, "print this help" },
};
#define RB_N_OPTIONS (sizeof(rb_options) / sizeof(rb_options[0]))

/* The questions asked per name: prefix + name, type.  The name is read into
 * a buffer after RB_PREFIX_MAX bytes, and each prefix is copied just before
 * it, so the name is never copied. */
#define RB_PREFIX_MAX 16
static const struct rb_question {
	const char *prefix;
	uint16_t type;
} rb_questions[RB_QUESTIONS] = {
	{ "_mta-sts.", RS_TYPE_TXT },
	{ "", RS_TYPE_MX },
	{ "_smtp._tls.", RS_TYPE_TXT },
};

struct rb_run;

/* One name in flight: the questions whose callbacks are still due. */
struct rb_slot {
	struct rb_run *run;
	unsigned left;
	size_t next_free;
};

struct rb_run {
	struct event_base *base;
	struct rs_resolver *r;
	FILE *in;
	struct rb_slot *slots;
	size_t n_slots, free_head, busy;
	bool eof, failed;
	uint64_t names, bad_names, queries, completed, answered, timeouts;
	uint64_t errors; /* questions not submitted or ended in RS_ERROR */
	uint64_t rcode[4]; /* noerror, nxdomain, servfail, other */
	struct timespec start, end;
};

static void usage(FILE *fp)
{
	char buf[64];

	fprintf(fp, "usage: rs_bench --upstream IP:PORT [options]\noptions:\n");
	for (size_t i = 0; i < RB_N_OPTIONS; i++) {
		snprintf(buf, sizeof(buf), "%s %s", rb_options[i].name,
			 rb_options[i].arg ? rb_options[i].arg : "");
		fprintf(fp, "  %-24s %s\n", buf, rb_options[i].help);
	}
}

/* The run is over when the input has ended and no name is in flight. */
static void check_done(struct rb_run *run)
{
	if (run->busy == 0 && run->eof) {
		clock_gettime(CLOCK_MONOTONIC, &run->end);
		event_base_loopbreak(run->base);
	}
}

static void slot_release(struct rb_run *run, struct rb_slot *s)
{
	s->next_free = run->free_head;
	run->free_head = (size_t)(s - run->slots);
	run->busy--;
	check_done(run);
}

static void refill(struct rb_run *run);

static void on_result(const struct rs_result *res, void *arg)
{
	struct rb_slot *s = arg;
	struct rb_run *run = s->run;

	run->completed++;
	switch (res->status) {
	case RS_ANSWERED:
		run->answered++;
		run->rcode[res->rcode == RS_RCODE_NOERROR ? 0 :
			   res->rcode == RS_RCODE_NXDOMAIN ? 1 :
			   res->rcode == RS_RCODE_SERVFAIL ? 2 : 3]++;
		break;
	case RS_TIMEOUT:
		run->timeouts++;
		break;
	default: /* RS_ERROR, or RS_CANCELLED */
		run->errors++;
		break;
	}
	if (--s->left > 0)
		return;
	slot_release(run, s);
	/* Back-pressure: the next name is read only now a slot is free. */
	if (!run->eof && !run->failed)
		refill(run);
}

/* Read one name into buf.  Returns 1 for a name, 0 at the end of input or
 * on a read error (run->failed), -1 for a line that is too long. */
static int read_name(struct rb_run *run, char *buf, size_t len)
{
	size_t n;
	int c;

	for (;;) {
		if (fgets(buf, (int)len, run->in) == NULL) {
			if (ferror(run->in)) {
				fprintf(stderr, "rs_bench: read: %s\n", strerror(errno));
				run->failed = true;
			}
			return 0;
		}
		n = strcspn(buf, "\r\n");
		if (buf[n] == '\0' && !feof(run->in)) {
			/* No newline within the buffer: skip the rest. */
			do {
				c = fgetc(run->in);
			} while (c != EOF && c != '\n');
			return -1;
		}
		buf[n] = '\0';
		if (n > 0)
			return 1;
	}
}

/* Fill free slots with names from the input until the window is full or the
 * input ends.  Questions that cannot be submitted count as errors. */
static void refill(struct rb_run *run)
{
	char buf[RB_PREFIX_MAX + RB_LINE_MAX], *name = buf + RB_PREFIX_MAX;

	while (run->busy < run->n_slots && !run->eof) {
		struct rb_slot *s;
		int got = read_name(run, name, RB_LINE_MAX);

		if (got == 0) {
			run->eof = true;
			check_done(run);
			return;
		}
		run->names++;
		if (got < 0) {
			run->bad_names++;
			run->errors += RB_QUESTIONS;
			continue;
		}
		s = &run->slots[run->free_head];
		run->free_head = s->next_free;
		run->busy++;
		s->left = 0;
		for (size_t i = 0; i < RB_QUESTIONS; i++) {
			size_t plen = strlen(rb_questions[i].prefix);
			int ret;

			memcpy(name - plen, rb_questions[i].prefix, plen);
			ret = rs_submit(run->r, name - plen, rb_questions[i].type,
					0, on_result, s);
			if (ret == ST_OK) {
				run->queries++;
				s->left++;
			} else {
				run->errors++;
				run->bad_names += ret == ST_EINVAL && i == 0;
			}
		}
		if (s->left == 0)
			slot_release(run, s);
	}
}

/* Fill cfg, the input path and the window from argv.  Returns 0, 2 on a
 * usage error (reported), or -1 for --help. */
static int parse_args(int argc, char **argv, struct rs_config *cfg,
		      const char **names, size_t *window)
{
	const struct rb_option *o;
	unsigned long v = 0;
	char *end;

	for (int a = 1; a < argc; a++) {
		o = NULL;
		for (size_t i = 0; i < RB_N_OPTIONS; i++)
			if (strcmp(argv[a], rb_options[i].name) == 0)
				o = &rb_options[i];
		if (o == NULL || (o->arg != NULL && a + 1 >= argc) ||
		    (o->id == RB_UPSTREAM && cfg->n_upstreams == RS_MAX_UPSTREAMS)) {
			fprintf(stderr, "rs_bench: bad option, no value or "
				"too many upstreams: %s\n", argv[a]);
			return 2;
		}
		a += o->arg != NULL;
		if (o->max > 0) {
			errno = 0;
			v = strtoul(argv[a], &end, 10);
			if (argv[a][0] < '0' || argv[a][0] > '9' || *end != '\0' ||
			    errno != 0 || v < o->min || v > o->max) {
				fprintf(stderr, "rs_bench: %s wants %lu-%lu, not '%s'\n",
					o->name, o->min, o->max, argv[a]);
				return 2;
			}
		}
		switch (o->id) {
		case RB_UPSTREAM: cfg->upstreams[cfg->n_upstreams++] = argv[a]; break;
		case RB_NAMES: *names = argv[a]; break;
		case RB_WINDOW: *window = v; break;
		case RB_QPS: cfg->qps = (unsigned)v; break;
		case RB_INFLIGHT: cfg->max_inflight = (unsigned)v; break;
		case RB_TIMEOUT: cfg->timeout_ms = (unsigned)v; break;
		case RB_RETRIES: cfg->retries = (unsigned)v; break;
		case RB_SOCKETS: cfg->n_sockets = (unsigned)v; break;
		case RB_NO_PACE: cfg->pace = false; break;
		case RB_HELP: return -1;
		}
	}
	if (cfg->n_upstreams == 0) {
		fprintf(stderr, "rs_bench: --upstream is required\n");
		return 2;
	}
	return 0;
}

static void report(const struct rb_run *run, const struct rs_stats *st)
{
	double secs = (double)(run->end.tv_sec - run->start.tv_sec) +
		      (double)(run->end.tv_nsec - run->start.tv_nsec) / 1e9;
	uint64_t sent = 0, tcp = 0;
	struct rusage ru;
	long rss = -1;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		rss = ru.ru_maxrss;
	for (size_t i = 0; i < st->n_upstreams && i < RS_MAX_UPSTREAMS; i++) {
		sent += st->upstream[i].sent;
		tcp += st->upstream[i].tcp;
	}
	printf("names: %" PRIu64 "\nbad_names: %" PRIu64 "\nqueries: %" PRIu64
	       "\nanswered: %" PRIu64 "\ntimeouts: %" PRIu64 "\nerrors: %" PRIu64
	       "\nrcode_noerror: %" PRIu64 "\nrcode_nxdomain: %" PRIu64
	       "\nrcode_servfail: %" PRIu64 "\nrcode_other: %" PRIu64
	       "\nelapsed_s: %.3f\nqps: %.0f\ntimeout_pct: %.4f\npeak_rss_kb: %ld"
	       "\npackets_sent: %" PRIu64 "\ntcp_retries: %" PRIu64
	       "\ndrop_source: %" PRIu64 "\ndrop_id: %" PRIu64
	       "\ndrop_question: %" PRIu64 "\ndrop_malformed: %" PRIu64
	       "\ninflight_peak: %zu\ncoalesced: %" PRIu64 "\n",
	       run->names, run->bad_names, run->queries, run->answered,
	       run->timeouts, run->errors, run->rcode[0], run->rcode[1],
	       run->rcode[2], run->rcode[3], secs,
	       secs > 0 ? (double)run->completed / secs : 0.0,
	       run->queries > 0 ? 100.0 * (double)run->timeouts /
				  (double)run->queries : 0.0,
	       rss, sent, tcp, st->drop_source, st->drop_id, st->drop_question,
	       st->drop_malformed, st->inflight_peak, st->coalesced);
}

int main(int argc, char **argv)
{
	struct rb_run run = { 0 };
	struct rs_config cfg;
	struct rs_stats st;
	const char *names = "-";
	size_t window = 2000;
	int ret;

	rs_config_default(&cfg);
	ret = parse_args(argc, argv, &cfg, &names, &window);
	if (ret != 0) {
		usage(ret < 0 ? stdout : stderr);
		ret = ret < 0 ? 0 : 2;
		goto cleanup;
	}
	ret = 1;
	run.in = strcmp(names, "-") == 0 ? stdin : fopen(names, "r");
	if (run.in == NULL) {
		fprintf(stderr, "rs_bench: %s: %s\n", names, strerror(errno));
		goto cleanup;
	}
	run.n_slots = window;
	run.slots = calloc(window, sizeof(*run.slots));
	run.base = event_base_new();
	if (run.slots == NULL || run.base == NULL) {
		fprintf(stderr, "rs_bench: out of memory\n");
		goto cleanup;
	}
	for (size_t i = 0; i < window; i++) {
		run.slots[i].run = &run;
		run.slots[i].next_free = i + 1;
	}
	ret = rs_resolver_new(run.base, &cfg, &run.r);
	if (ret != ST_OK) {
		fprintf(stderr, "rs_bench: rs_resolver_new: %s\n", st_strerror(ret));
		ret = ret == ST_EINVAL ? 2 : 1;
		goto cleanup;
	}
	ret = 1;
	clock_gettime(CLOCK_MONOTONIC, &run.start);
	run.end = run.start;
	refill(&run);
	/* The resolver's sockets keep the loop alive: the last completion
	 * breaks it. */
	if (run.busy > 0 && event_base_dispatch(run.base) < 0) {
		fprintf(stderr, "rs_bench: event_base_dispatch failed\n");
		goto cleanup;
	}
	if (run.busy > 0 || run.failed) {
		fprintf(stderr, "rs_bench: run failed (%zu names in flight)\n",
			run.busy);
		goto cleanup;
	}
	rs_resolver_stats(run.r, &st);
	report(&run, &st);
	ret = fflush(stdout) == 0 ? 0 : 1;
cleanup:
	/* Freeing cancels what is left: those callbacks must not refill. */
	run.failed = true;
	rs_resolver_free(run.r);
	if (run.base != NULL)
		event_base_free(run.base);
	if (run.in != NULL && run.in != stdin)
		fclose(run.in);
	free(run.slots);
	return ret;
}
