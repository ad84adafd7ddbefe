/*
 * nm_relay.c - a user-space network emulator: forwards UDP datagrams and
 * TCP streams from scanner-facing loopback addresses to the real servers,
 * adding a one-way delay, jitter and loss per path (for kernels without
 * the netem qdisc).  See nm_map.h for the map syntax, nm_udp.c and
 * nm_tcp.c for what happens to datagrams and streams.
 *
 *   nm_relay [--map MAP]... [--config FILE]... [--seed N] [--max-flows N]
 *            [--flow-idle SEC] [--queue-bytes N] [--max-conns N]
 *            [--tcp-window N] [--batch-us US] [--verbose]
 *
 * Prints "nm_relay: ready" on stderr once every listener is open, its
 * counters on SIGUSR1 and at exit (SIGTERM, SIGINT).  Exit 0 after a
 * signal, 1 on a start-up failure, 2 on a usage error.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nm_relay.h"
#include "st_error.h"

uint64_t nm_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void nm_arm(struct event *ev, uint64_t due_ns)
{
	uint64_t now = nm_now_ns(), wait = due_ns > now ? due_ns - now : 0;
	struct timeval tv = {
		.tv_sec = (time_t)(wait / 1000000000u),
		.tv_usec = (suseconds_t)(wait % 1000000000u / 1000u),
	};

	if (event_add(ev, &tv) != 0)
		nm_warn("event_add failed: a queue stalls");
}

void nm_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("nm_relay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_stats(const struct nm_relay *r)
{
	const struct nm_stats *s = &r->st;

	fprintf(stderr,
		"nm_relay: stats udp in %llu out %llu lost %llu overflow %llu"
		" noflow %llu send-err %llu flows %llu expired %llu;"
		" tcp conns %llu refused %llu chunks %llu lost %llu bytes %llu"
		" errors %llu open %zu; udp late avg %.3f ms max %.3f ms\n",
		(unsigned long long)s->udp_in, (unsigned long long)s->udp_out,
		(unsigned long long)s->udp_lost,
		(unsigned long long)s->udp_overflow,
		(unsigned long long)s->udp_noflow,
		(unsigned long long)s->udp_send_err,
		(unsigned long long)s->udp_flows,
		(unsigned long long)s->udp_expired,
		(unsigned long long)s->tcp_conns,
		(unsigned long long)s->tcp_refused,
		(unsigned long long)s->tcp_chunks,
		(unsigned long long)s->tcp_lost,
		(unsigned long long)s->tcp_bytes,
		(unsigned long long)s->tcp_errors, r->nconns,
		s->late_n ? (double)s->late_sum_ns / (double)s->late_n / 1e6 : 0.0,
		(double)s->late_max_ns / 1e6);
	fflush(stderr);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct nm_relay *r = arg;

	(void)what;
	print_stats(r);
	if (sig != SIGUSR1)
		event_base_loopbreak(r->base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	nm_udp_expire(arg);
}

static void usage(void)
{
	fputs("usage: nm_relay [--map MAP]... [--config FILE]... [--seed N]\n"
	      "                [--max-flows N] [--flow-idle SEC] [--queue-bytes N]\n"
	      "                [--max-conns N] [--tcp-window N] [--batch-us US]\n"
	      "                [--verbose]\n"
	      "  MAP: udp|tcp:LISTEN=UPSTREAM[,delay=MS][,jitter=MS][,loss=PCT][,rto=MS]\n"
	      "       (one-way, per direction; LISTEN and UPSTREAM A.B.C.D:PORT on\n"
	      "       127.0.0.0/8, or [ADDR]:PORT with ADDR ::1 or a unique local\n"
	      "       address on lo)\n",
	      stderr);
}

/* A whole decimal number in [min, max], or ST_ERANGE. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max)
		return ST_ERANGE;
	*out = v;
	return 0;
}

struct opts {
	struct nm_map *maps;
	size_t n;
	uint64_t seed;
};

/* 0, or 2 (usage) after a message. */
static int parse_args(int argc, char **argv, struct nm_relay *r,
		      struct opts *o)
{
	static const struct option lo[] = {
		{"map", required_argument, NULL, 'm'},
		{"config", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 's'},
		{"max-flows", required_argument, NULL, 'f'},
		{"flow-idle", required_argument, NULL, 'i'},
		{"queue-bytes", required_argument, NULL, 'q'},
		{"max-conns", required_argument, NULL, 'n'},
		{"tcp-window", required_argument, NULL, 'w'},
		{"batch-us", required_argument, NULL, 'b'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char why[600];
	struct nm_map m;
	uint64_t v;
	int c, ret;

	for (c = getopt_long(argc, argv, "", lo, NULL); c != -1;
	     c = getopt_long(argc, argv, "", lo, NULL)) {
		ret = 0;
		switch (c) {
		case 'm':
			ret = nm_map_parse(optarg, strlen(optarg), &m, why,
					   sizeof(why));
			if (ret == 0 && nm_map_append(&o->maps, &o->n, &m) != 0)
				snprintf(why, sizeof(why), "too many maps");
			else if (ret == 0)
				break;
			fprintf(stderr, "nm_relay: --map %s: %s\n", optarg, why);
			return 2;
		case 'c':
			if (nm_map_load(optarg, &o->maps, &o->n, why,
					sizeof(why)) == 0)
				break;
			fprintf(stderr, "nm_relay: --config: %s\n", why);
			return 2;
		case 's':
			ret = parse_u64(optarg, 0, UINT64_MAX, &o->seed);
			break;
		case 'f':
			ret = parse_u64(optarg, 1, 1 << 20, &v);
			r->max_flows = (size_t)v;
			break;
		case 'i':
			ret = parse_u64(optarg, 1, 3600, &v);
			r->idle_ns = v * 1000000000u;
			break;
		case 'q':
			ret = parse_u64(optarg, 1 << 16, (uint64_t)1 << 34, &v);
			r->queue_bytes = (size_t)v;
			break;
		case 'n':
			ret = parse_u64(optarg, 1, 1 << 20, &v);
			r->max_conns = (size_t)v;
			break;
		case 'w':
			ret = parse_u64(optarg, 1 << 12, 1 << 28, &v);
			r->tcp_window = (size_t)v;
			break;
		case 'b':
			ret = parse_u64(optarg, 0, 10000, &v);
			r->slack_ns = v * 1000u;
			break;
		case 'v':
			r->verbose = 1;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return 2;
		}
		if (ret != 0) {
			fprintf(stderr, "nm_relay: %s: value out of range\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc || o->n == 0) {
		fprintf(stderr, "nm_relay: %s\n", optind != argc ?
			"unexpected argument" : "no --map or --config given");
		usage();
		return 2;
	}
	return 0;
}

/* As many descriptors as the hard limit allows: a flow or a connection
 * costs one or two. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			nm_warn("setrlimit: %s", strerror(errno));
	}
}

/* Every IPv6 address of the maps (but ::1) is on a loopback interface:
 * the relay never forwards off the machine (nm_map_check_local). */
static int check_local(const struct opts *o)
{
	struct ifaddrs *ifs = NULL;
	char why[300];
	int ret = 0;

	for (size_t i = 0; i < o->n; i++) {
		if (o->maps[i].listen.sa.sa_family != AF_INET6 &&
		    o->maps[i].upstream.sa.sa_family != AF_INET6)
			continue;
		if (ifs == NULL && getifaddrs(&ifs) != 0) {
			nm_warn("getifaddrs: %s", strerror(errno));
			return ST_EIO;
		}
		ret = nm_map_check_local(&o->maps[i], ifs, why, sizeof(why));
		if (ret != 0) {
			nm_warn("map %zu: %s", i + 1, why);
			break;
		}
	}
	if (ifs != NULL)
		freeifaddrs(ifs);
	return ret;
}

static int setup(struct nm_relay *r, const struct opts *o, struct event **evs)
{
	static const int sigs[3] = {SIGTERM, SIGINT, SIGUSR1};
	struct event_config *cfg = event_config_new();
	struct timeval tick = {1, 0};
	int ret;

	if (cfg == NULL)
		return ST_ENOMEM;
	/* timerfd-precise timers: epoll's millisecond timeouts would add
	 * up to a millisecond to every delay. */
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	r->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	r->scratch = malloc((size_t)NM_BATCH * NM_DGRAM_MAX);
	if (r->base == NULL || r->scratch == NULL)
		return ST_ENOMEM;
	for (int i = 0; i < 3; i++) {
		evs[i] = evsignal_new(r->base, sigs[i], on_signal, r);
		if (evs[i] == NULL || event_add(evs[i], NULL) != 0)
			return ST_ENOMEM;
	}
	evs[3] = event_new(r->base, -1, EV_PERSIST, on_tick, r);
	if (evs[3] == NULL || event_add(evs[3], &tick) != 0)
		return ST_ENOMEM;
	ret = check_local(o);
	for (size_t i = 0; ret == 0 && i < o->n; i++) {
		const struct nm_map *m = &o->maps[i];
		char a[NM_SOCKADDR_STRLEN];

		ret = m->proto == NM_UDP ? nm_udp_open(r, m) : nm_tcp_open(r, m);
		if (ret != 0)
			nm_warn("map %zu (%s %s): %s", i + 1,
				m->proto == NM_UDP ? "udp" : "tcp",
				nm_sockaddr_str(&m->listen, a, sizeof(a)),
				st_strerror(ret));
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct nm_relay r;
	struct opts o = {NULL, 0, 0};
	struct event *evs[4] = {NULL, NULL, NULL, NULL};
	int ret;

	memset(&r, 0, sizeof(r));
	st_list_init(&r.udp);
	st_list_init(&r.tcp);
	st_list_init(&r.conns);
	r.max_flows = 16384;
	r.idle_ns = 30 * UINT64_C(1000000000);
	r.queue_bytes = 256u << 20;
	r.max_conns = 8192;
	r.tcp_window = 256u << 10;
	r.slack_ns = 200000; /* 0.2 ms */
	o.seed = (uint64_t)time(NULL);
	ret = parse_args(argc, argv, &r, &o);
	if (ret != 0) {
		free(o.maps);
		return ret;
	}
	nm_rng_seed(&r.rng, o.seed);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	ret = setup(&r, &o, evs);
	if (ret == 0) {
		fprintf(stderr, "nm_relay: ready, %zu maps, seed %llu\n", o.n,
			(unsigned long long)o.seed);
		fflush(stderr);
		if (event_base_dispatch(r.base) < 0) {
			nm_warn("event loop failed");
			ret = ST_EIO;
		}
	} else {
		nm_warn("start-up failed: %s", st_strerror(ret));
	}
	if (r.base != NULL) {
		nm_tcp_close_all(&r);
		nm_udp_close_all(&r);
		for (int i = 0; i < 4; i++)
			if (evs[i] != NULL)
				event_free(evs[i]);
		event_base_free(r.base);
	}
	free(r.scratch);
	free(o.maps);
	return ret == 0 ? 0 : 1;
}
