/*
 * ft_bench.c - drive ft_fetcher at full speed over a list of policy hosts
 * and report throughput, latency, connection reuse and memory (for
 * scripts/bench-fetch).
 *
 * Targets are read from a file, one "HOST IP" a line, and fetched in
 * --passes passes over the whole file on one fetcher (so a later pass can
 * reuse connections an earlier one kept), --concurrency fetches in flight:
 * the fetcher's max_transfers, and the number submitted at a time (each
 * completion submits the next line, so the queue never grows with the
 * input).  The file is streamed, never held; only each fetch's latency is
 * kept, for the percentiles.  At the end one block of "key: value" lines
 * per pass ("pass1_fetches: ...") and the process's peak RSS are printed.
 * Exit 0 when every line was fetched (whatever the outcome), 1 on a run
 * failure, 2 on usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include "ft_fetch.h"
#include "st_error.h"

#define FB_LINE_MAX 512
#define FB_MAX_FETCHES 100000000u /* latencies kept per pass, at most */

/* Options, declared once: the parser and the usage text both read this. */
enum fb_opt { FB_TARGETS, FB_PORT, FB_CA, FB_CONC, FB_PASSES, FB_TIMEOUT,
	      FB_HELP };
static const struct fb_option {
	enum fb_opt id;
	const char *name;
	const char *arg;   /* NULL: a flag */
	unsigned long min, max;
	const char *help;
} fb_options[] = {
	{ FB_TARGETS, "--targets", "FILE", 0, 0, "\"HOST IP\" lines (required)" },
	{ FB_PORT, "--port", "N", 1, 65535, "HTTPS port (443)" },
	{ FB_CA, "--ca-file", "PEM", 0, 0, "trusted roots (the system store)" },
	{ FB_CONC, "--concurrency", "N", 1, 100000, "fetches in flight (64)" },
	{ FB_PASSES, "--passes", "N", 1, 10, "passes over the targets (2)" },
	{ FB_TIMEOUT, "--timeout-ms", "N", 1, 3600000, "whole-fetch timeout (30000)" },
	{ FB_HELP, "--help", NULL, 0, 0, "print this help" },
};
#define FB_N_OPTIONS (sizeof(fb_options) / sizeof(fb_options[0]))

struct fb_opts {
	const char *targets;
	uint16_t port;
	const char *ca_file;
	unsigned concurrency;
	unsigned passes;
	unsigned timeout_ms;
};

/* One pass's counters and latencies. */
struct fb_pass {
	uint64_t fetches, ok, failed, reused, bad_lines;
	uint64_t by_status[FT_STATUS_COUNT];
	int64_t *lat_us;          /* one per fetch, grown by doubling */
	size_t n_lat, cap_lat;
	struct timespec start, end;
	long rss_kb;              /* peak RSS at the end of the pass */
};

struct fb_run {
	struct event_base *base;
	struct ft_fetcher *f;
	FILE *in;
	uint16_t port;
	size_t window;            /* fetches submitted at a time */
	struct fb_pass *pass;     /* the current one */
	size_t inflight;
	bool eof, failed;
	char first_error[256];
};

static void usage(FILE *fp)
{
	char buf[64];

	fprintf(fp, "usage: ft_bench --targets FILE [options]\noptions:\n");
	for (size_t i = 0; i < FB_N_OPTIONS; i++) {
		snprintf(buf, sizeof(buf), "%s %s", fb_options[i].name,
			 fb_options[i].arg ? fb_options[i].arg : "");
		fprintf(fp, "  %-24s %s\n", buf, fb_options[i].help);
	}
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static void check_done(struct fb_run *run)
{
	if (run->inflight == 0 && (run->eof || run->failed)) {
		clock_gettime(CLOCK_MONOTONIC, &run->pass->end);
		event_base_loopbreak(run->base);
	}
}

static void refill(struct fb_run *run);

static void on_result(const struct ft_result *r, void *arg)
{
	struct fb_run *run = arg;
	struct fb_pass *p = run->pass;

	run->inflight--;
	p->fetches++;
	if ((unsigned)r->status < FT_STATUS_COUNT)
		p->by_status[r->status]++;
	if (r->status == FT_DONE && r->http_status == 200) {
		p->ok++;
	} else {
		p->failed++;
		if (run->first_error[0] == '\0')
			snprintf(run->first_error, sizeof(run->first_error),
				 "%s: %s http %d %s", r->host,
				 ft_status_name(r->status), r->http_status,
				 r->error ? r->error : "");
	}
	p->reused += r->reused;
	if (p->n_lat == p->cap_lat && p->cap_lat < FB_MAX_FETCHES) {
		size_t cap = p->cap_lat ? 2 * p->cap_lat : 4096;
		int64_t *nl = realloc(p->lat_us, cap * sizeof(*nl));

		if (nl != NULL) {
			p->lat_us = nl;
			p->cap_lat = cap;
		}
	}
	if (p->n_lat < p->cap_lat)
		p->lat_us[p->n_lat++] = r->total_us;
	if (!run->eof && !run->failed)
		refill(run);
	check_done(run);
}

/* Parse "HOST IP" into host and sin; false for a malformed line. */
static bool parse_line(char *line, char **host, struct sockaddr_in *sin)
{
	char *save = NULL;
	char *h = strtok_r(line, " \t\r\n", &save);
	char *ip = h ? strtok_r(NULL, " \t\r\n", &save) : NULL;

	if (h == NULL || ip == NULL)
		return false;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return false;
	*host = h;
	return true;
}

/* Submit lines until the window is full or the input ends. */
static void refill(struct fb_run *run)
{
	char line[FB_LINE_MAX];

	while (run->inflight < run->window && !run->eof && !run->failed) {
		struct sockaddr_in sin;
		const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
		char *host;
		int ret;

		if (fgets(line, sizeof(line), run->in) == NULL) {
			if (ferror(run->in)) {
				fprintf(stderr, "ft_bench: read: %s\n",
					strerror(errno));
				run->failed = true;
			}
			run->eof = true;
			break;
		}
		if (!parse_line(line, &host, &sin)) {
			run->pass->bad_lines++;
			continue;
		}
		ret = ft_fetch_policy(run->f, host, addrs, 1, run->port,
				      on_result, run);
		if (ret != ST_OK) {
			fprintf(stderr, "ft_bench: %s: %s\n", host,
				st_strerror(ret));
			run->failed = true;
			break;
		}
		run->inflight++;
	}
}

/* Fill opts from argv.  Returns 0, 2 on a usage error (reported), or -1
 * for --help. */
static int parse_args(int argc, char **argv, struct fb_opts *opts)
{
	const struct fb_option *o;
	unsigned long v = 0;
	char *end;

	for (int a = 1; a < argc; a++) {
		o = NULL;
		for (size_t i = 0; i < FB_N_OPTIONS; i++)
			if (strcmp(argv[a], fb_options[i].name) == 0)
				o = &fb_options[i];
		if (o == NULL || (o->arg != NULL && a + 1 >= argc)) {
			fprintf(stderr, "ft_bench: bad option or no value: %s\n",
				argv[a]);
			return 2;
		}
		a += o->arg != NULL;
		if (o->max > 0) {
			errno = 0;
			v = strtoul(argv[a], &end, 10);
			if (argv[a][0] < '0' || argv[a][0] > '9' || *end != '\0' ||
			    errno != 0 || v < o->min || v > o->max) {
				fprintf(stderr, "ft_bench: %s wants %lu-%lu, not '%s'\n",
					o->name, o->min, o->max, argv[a]);
				return 2;
			}
		}
		switch (o->id) {
		case FB_TARGETS: opts->targets = argv[a]; break;
		case FB_PORT: opts->port = (uint16_t)v; break;
		case FB_CA: opts->ca_file = argv[a]; break;
		case FB_CONC: opts->concurrency = (unsigned)v; break;
		case FB_PASSES: opts->passes = (unsigned)v; break;
		case FB_TIMEOUT: opts->timeout_ms = (unsigned)v; break;
		case FB_HELP: return -1;
		}
	}
	if (opts->targets == NULL) {
		fprintf(stderr, "ft_bench: --targets is required\n");
		return 2;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of the sorted latencies, in ms. */
static double quantile_ms(const struct fb_pass *p, double q)
{
	size_t k;

	if (p->n_lat == 0)
		return 0.0;
	k = (size_t)(q * (double)p->n_lat + 0.5);
	if (k > 0)
		k--;
	if (k >= p->n_lat)
		k = p->n_lat - 1;
	return (double)p->lat_us[k] / 1000.0;
}

static void report(struct fb_pass *p, unsigned n)
{
	double secs = (double)(p->end.tv_sec - p->start.tv_sec) +
		      (double)(p->end.tv_nsec - p->start.tv_nsec) / 1e9;

	qsort(p->lat_us, p->n_lat, sizeof(*p->lat_us), cmp_i64);
	printf("pass%u_fetches: %" PRIu64 "\npass%u_ok: %" PRIu64
	       "\npass%u_failed: %" PRIu64 "\npass%u_bad_lines: %" PRIu64
	       "\npass%u_elapsed_s: %.3f\npass%u_fetches_per_s: %.0f"
	       "\npass%u_p50_ms: %.2f\npass%u_p99_ms: %.2f"
	       "\npass%u_reused: %" PRIu64 "\npass%u_peak_rss_kb: %ld\n",
	       n, p->fetches, n, p->ok, n, p->failed, n, p->bad_lines,
	       n, secs, n, secs > 0 ? (double)p->fetches / secs : 0.0,
	       n, quantile_ms(p, 0.50), n, quantile_ms(p, 0.99),
	       n, p->reused, n, p->rss_kb);
	for (int st = 0; st < FT_STATUS_COUNT; st++)
		if (p->by_status[st] > 0 && st != FT_DONE)
			printf("pass%u_status_%s: %" PRIu64 "\n", n,
			       ft_status_name((enum ft_status)st),
			       p->by_status[st]);
}

/* One pass over the targets on run's fetcher. */
static int run_pass(struct fb_run *run, struct fb_pass *p)
{
	run->pass = p;
	run->eof = false;
	rewind(run->in);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->end = p->start;
	refill(run);
	/* The transfers keep the loop alive: the last completion breaks it. */
	if (run->inflight > 0 && event_base_dispatch(run->base) < 0) {
		fprintf(stderr, "ft_bench: event_base_dispatch failed\n");
		return 1;
	}
	p->rss_kb = peak_rss_kb();
	if (run->inflight > 0 || run->failed) {
		fprintf(stderr, "ft_bench: pass failed (%zu in flight)\n",
			run->inflight);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fb_opts opts = { NULL, 443, NULL, 64, 2, 30000 };
	struct fb_run run = { 0 };
	struct fb_pass passes[10];
	struct ft_config cfg;
	int ret;

	memset(passes, 0, sizeof(passes));
	ret = parse_args(argc, argv, &opts);
	if (ret != 0) {
		usage(ret < 0 ? stdout : stderr);
		return ret < 0 ? 0 : 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "ft_bench: curl_global_init failed\n");
		return 1;
	}
	ret = 1;
	run.in = fopen(opts.targets, "r");
	if (run.in == NULL) {
		fprintf(stderr, "ft_bench: %s: %s\n", opts.targets,
			strerror(errno));
		goto cleanup;
	}
	run.port = opts.port;
	run.window = opts.concurrency;
	run.base = event_base_new();
	if (run.base == NULL)
		goto cleanup;
	ft_config_default(&cfg);
	cfg.max_transfers = opts.concurrency;
	cfg.total_timeout_ms = opts.timeout_ms;
	cfg.ca_file = opts.ca_file;
	cfg.allow_private = true; /* loopback targets */
	cfg.per_ip_max = 0;       /* the fetcher's own ceiling, not a cap's */
	cfg.per_ip_rate = 0;
	cfg.contact_url = "https://stsmap.invalid/bench";
	ret = ft_fetcher_new(run.base, &cfg, &run.f);
	if (ret != ST_OK) {
		fprintf(stderr, "ft_bench: ft_fetcher_new: %s\n",
			st_strerror(ret));
		ret = 1;
		goto cleanup;
	}
	ret = 0;
	for (unsigned i = 0; i < opts.passes && ret == 0; i++)
		ret = run_pass(&run, &passes[i]);
	if (ret == 0) {
		printf("concurrency: %u\n", opts.concurrency);
		for (unsigned i = 0; i < opts.passes; i++)
			report(&passes[i], i + 1);
		printf("peak_rss_kb: %ld\n", peak_rss_kb());
		if (run.first_error[0])
			printf("first_failure: %s\n", run.first_error);
		ret = fflush(stdout) == 0 ? 0 : 1;
	}
cleanup:
	/* Freeing cancels what is left: those callbacks must not refill. */
	run.failed = true;
	ft_fetcher_free(run.f);
	if (run.base != NULL)
		event_base_free(run.base);
	if (run.in != NULL)
		fclose(run.in);
	for (unsigned i = 0; i < 10; i++)
		free(passes[i].lat_us);
	curl_global_cleanup();
	return ret;
}
