/*
 * sc_engine.h - the scan engine: domains in, classified records out, on one
 * libevent loop shared by the resolver, the HTTPS fetcher and the SMTP
 * prober (DESIGN §2).  The one public header of the engine library
 * (st_engine: sc_engine.c, sc_domain.c, sc_mxprobe.c, sc_health.c,
 * sc_record.c); everything else the engine's files share is private to
 * them (sc_internal.h, sc_health.h).
 *
 * The engine pulls domains from a source only while fewer than
 * cfg.inflight are in flight (back-pressure: memory is set by the in-flight
 * cap, never by the input size).  Each domain runs the per-domain state
 * machine of sc_domain.c; when it completes, its struct an_record is handed
 * to the sink callback and everything it owned is released at once (one
 * arena per domain).
 *
 * Sources and sinks are callbacks so the same engine serves `stsmap scan`
 * (input files in, LMDB out) and `stsmap check` (one name in, the terminal
 * out).  Not thread safe; no global state.
 */
#ifndef SC_ENGINE_H
#define SC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "an_classify.h"
#include "an_record.h"
#include "rs_resolver.h"
#include "sc_tail.h"
#include "st_log.h"

struct event_base;
struct sc_engine;

#define SC_MAX_RESOLVERS RS_MAX_UPSTREAMS

/*
 * The engine's own defaults.  Each default is written once, in the layer
 * that uses the value: these for the engine, RS_DEFAULT_* (rs_resolver.h),
 * FT_DEFAULT_* (ft_fetch.h) and FT_SMTP_DEFAULT_* (ft_smtp.h) for what it
 * hands down.  sc_config_default() and the option table of scan and check
 * (sc_scan_opts.c) refer to these names, never to the numbers.
 */
#define SC_DEFAULT_INFLIGHT 500u
#define SC_DEFAULT_HTTPS_PORT 443u /* RFC 8461 §3.3: an https: URL, port 443 */
#define SC_DEFAULT_UPSTREAM_WAIT_S 60u
#define SC_DEFAULT_RETRY_MAX 4u
#define SC_DEFAULT_RETRY_BACKOFF_MS 500u
#define SC_DEFAULT_RETRY_PASSES 1u
#define SC_DEFAULT_RETRY_PASS_BACKOFF_S 5u
#define SC_RETRY_PASSES_MAX 8u
/* Names held for a retry pass or queued in one: at most this many per
 * --inflight slot (about 300 bytes each), at least SC_PASS_HELD_MIN. */
#define SC_PASS_HELD_PER_INFLIGHT 16u
#define SC_PASS_HELD_MIN 64u

struct sc_config {
	const char *resolvers[SC_MAX_RESOLVERS]; /* none: /etc/resolv.conf */
	size_t n_resolvers;
	unsigned qps;            /* DNS queries per second, 0 no cap */
	unsigned dns_timeout_ms; /* first attempt */
	unsigned dns_retries;
	unsigned dns_inflight;   /* questions on the wire at most; 0: 3 x
				  * inflight (sc_config_dns_inflight()) */
	unsigned inflight;       /* domains in flight */
	unsigned https_max;      /* policy fetches in flight */
	unsigned https_connect_ms, https_timeout_ms;
	unsigned smtp_max;       /* MX probes in flight */
	unsigned smtp_timeout_ms;
	/* Per destination IP address, shared by every name there (DESIGN
	 * §8, ft_polite.h): connections at once and new ones per second,
	 * for policy fetches and MX probes apart; 0 no cap.
	 * FT_DEFAULT_PER_IP_MAX/_RATE, FT_SMTP_DEFAULT_PER_IP_MAX/_RATE. */
	unsigned https_per_ip, https_per_ip_rate;
	unsigned smtp_per_ip, smtp_per_ip_rate;
	uint16_t smtp_port;      /* 25; a test world may use another */
	uint16_t https_port;     /* 443; a test world may use another */
	bool probe_mx;
	bool probe_every_mx;     /* no probe lent per address (sc_mxprobe.c) */
	bool dane;               /* TLSA _25._tcp.MX with the AD bit */
	bool fetch_all;          /* fetch even without a valid STS record */
	bool allow_private;
	const char *ca_file;
	const char *user_agent;
	const char *contact_url;
	const char *ehlo_name;
	/* Retries of domains that met a fault (see enum sc_fault): at most
	 * retry_max more attempts, the k-th one retry_backoff_ms << (k-1)
	 * after the fault (capped at SC_RETRY_BACKOFF_CAP_MS). */
	unsigned retry_max;      /* SC_DEFAULT_RETRY_MAX */
	unsigned retry_backoff_ms; /* SC_DEFAULT_RETRY_BACKOFF_MS */
	/* Retry passes: a domain that came out `undetermined` with a DNS
	 * lookup timed out is held, not stored, and measured again once the
	 * rest is done, retry_pass_backoff_s after the last domain of the
	 * pass before; at most retry_passes passes, the last one's outcome
	 * stored whatever it is (record field attempts). */
	unsigned retry_passes;     /* SC_DEFAULT_RETRY_PASSES */
	unsigned retry_pass_backoff_s; /* SC_DEFAULT_RETRY_PASS_BACKOFF_S */
	bool dns_no_pace;          /* no adaptive DNS pacing (rs_pace.h) */
	/* The upstream (sc_health.h): authoritative for every name of the
	 * input, so RA clear and referrals to the canary are expected; and
	 * how long a silent upstream is waited for before the scan stops. */
	bool upstream_authoritative; /* false */
	unsigned upstream_wait_s;    /* SC_DEFAULT_UPSTREAM_WAIT_S */
	time_t now;              /* 0: the clock, per domain */
	struct st_log *log;      /* not owned */
};

/* --dns-inflight's largest; 3 x --inflight is cut to it. */
#define SC_DNS_INFLIGHT_MAX 300000u

/* The questions cfg lets on the wire: cfg->dns_inflight, or when that is
 * 0, three per domain in flight (each domain's three lookups at once), so
 * the cap never holds a domain back; below it each upstream's pacing
 * window (rs_pace.h) keeps them to what the path carries. */
unsigned sc_config_dns_inflight(const struct sc_config *cfg);

void sc_config_default(struct sc_config *cfg);

/* Microseconds of CLOCK_MONOTONIC: the scanner's one clock for rates,
 * durations and timers. */
uint64_t sc_now_us(void);

/* A domain handed to the engine.  Strings are copied. */
struct sc_item {
	const char *domain;  /* normalised */
	uint64_t rank;
};

/*
 * Source: fill *item and return 1, return 0 when there is nothing more
 * (ever), SC_SOURCE_WAIT when nothing is there yet, or a negative ST_*
 * error to stop the scan.  Strings in item need to stay valid only until
 * the next call.  After SC_SOURCE_WAIT the engine stops asking until the
 * source calls sc_engine_source_ready() (from the loop's thread, e.g. in
 * an event that watches its input); the loop meanwhile runs on, so a slow
 * input never holds up answers, timers or signals.
 */
#define SC_SOURCE_WAIT 2
typedef int (*sc_source_fn)(void *arg, struct sc_item *item);

/*
 * Sink: called once per completed domain, from the loop.  rec (and the
 * classification, whose policy points into the fetched body) are valid
 * only during the call.  body/body_len is the policy body received (or
 * NULL), so the sink can store it; rec->have_body is set with it, but
 * rec->body_hash is zero: the store computes the hash, the body's key,
 * when it keeps the body (ds_store_put_body()), and the sink puts it into
 * the record it stores.  A negative return stops the scan.
 */
struct sc_done {
	const struct an_record *rec;
	const struct an_classification *cls;
	const uint8_t *body;
	size_t body_len;
};
typedef int (*sc_sink_fn)(void *arg, const struct sc_done *done);

/* Probe sink: called once per MX host probed (first use), may be NULL. */
typedef int (*sc_probe_sink_fn)(void *arg, const struct an_probe_record *p);

/*
 * Where a failure happened (DESIGN §4, "Where a failure belongs").  A
 * finding is a fact about the domain; a fault is a failure of the
 * scanning side, and never becomes a finding: the domain's attempt is
 * dropped, counted, and retried later (sc_internal.h, sc_domain_fault()).
 */
enum sc_fault {
	SC_FAULT_NONE = 0,
	SC_FAULT_LOCAL,      /* the scanning machine or our configuration:
			      * descriptors, memory, local sockets, a CA
			      * file that cannot be read */
	SC_FAULT_UPSTREAM,   /* our upstream resolver: dead, overloaded,
			      * not recursing */
	SC_FAULT_COUNT
};

#define SC_RETRY_MAX_LIMIT 8          /* highest retry_max accepted */
#define SC_RETRY_BACKOFF_CAP_MS 60000u

const char *sc_fault_name(enum sc_fault f); /* "local", "upstream" */

struct sc_counters {
	uint64_t started, completed;
	uint64_t verdicts[AN_V_COUNT];
	uint64_t fetches, fetch_ok, probes;
	uint64_t local_errors;   /* faults[SC_FAULT_LOCAL], kept by name */
	uint64_t faults[SC_FAULT_COUNT]; /* failures seen, by place */
	uint64_t retries;        /* attempts started again after a fault */
	uint64_t unmeasured;     /* gave up after retry_max retries: not
				  * handed to the sink, not measured */
	size_t retry_queued;     /* waiting for their retry now */
	uint64_t passes;         /* retry passes begun */
	uint64_t pass_retries;   /* domains started again in a pass */
	uint64_t pass_recovered; /* ... stored with a verdict other than
				  * undetermined */
	size_t pass_held;        /* held for the next pass now */
	size_t pass_held_peak;   /* most held and queued at once */
	uint64_t passes_early;   /* passes begun before the input's end,
				  * because pass_held reached its cap */
	/* the DNS pacing (rs_pace.h), over the upstreams: the smallest
	 * window now and ever, the halvings and the cuts for delay */
	unsigned dns_window, dns_window_low;
	uint64_t dns_backoffs, dns_delay_cuts;
	size_t inflight, inflight_peak;
	uint64_t dns_sent, dns_timeouts;
	size_t https_inflight;
	/* How long the domains stored took (start of their last attempt to
	 * their record), for the summary's p50/p99/max. */
	struct sc_tail duration;
};

/*
 * The descriptor budget (DESIGN §2: bounded memory and bounded sockets).
 * What a scan with cfg may hold open at once, at most:
 *
 *   SC_FD_RESERVE                 stdio, libevent, the store, the input,
 *                                 curl's wake-up pair, a CA file being read
 *   + 2 * rs n_sockets + upstreams  the resolver's UDP sockets (both
 *                                 families) and one TCP connection each
 *   + 3 * https_max               curl: two sockets per transfer while it
 *                                 races IPv4 and IPv6, plus up to
 *                                 https_max kept idle connections
 *   + smtp_max (with probe_mx)    one socket per probe (addresses are
 *                                 tried one after the other)
 *
 * --inflight and --dns-inflight cost no descriptor of their own: a domain
 * waits for a fetch or a probe slot in the fetcher's or prober's queue,
 * and DNS questions share the resolver's sockets.
 */
#define SC_FD_RESERVE 32u

struct sc_fd_budget {
	uint64_t limit;          /* the soft RLIMIT_NOFILE it was fitted to */
	uint64_t need;           /* what cfg needs, after fitting */
	uint64_t need_asked;     /* what the options asked for needed */
	unsigned https_asked, smtp_asked; /* before fitting */
	bool lowered;            /* https_max or smtp_max was lowered */
};

/*
 * Fit cfg's https_max and smtp_max into limit descriptors, lowering them
 * in proportion when they do not fit (never below 1).  ST_OK with *b
 * filled; ST_ERANGE when even one fetch and one probe do not fit (b->need
 * then says how many would).  Pure: no system call.
 */
int sc_config_fit_fds(struct sc_config *cfg, uint64_t limit,
		      struct sc_fd_budget *b);

/* Create an engine on base.  ST_OK and *out; errors of the resolver,
 * fetcher or prober set-up (ST_EINVAL for a bad --resolver, ...). */
int sc_engine_new(struct event_base *base, const struct sc_config *cfg,
		  struct sc_engine **out);

/* Set the callbacks (before sc_engine_run). */
void sc_engine_set_source(struct sc_engine *e, sc_source_fn fn, void *arg);
void sc_engine_set_sink(struct sc_engine *e, sc_sink_fn fn, void *arg);
void sc_engine_set_probe_sink(struct sc_engine *e, sc_probe_sink_fn fn,
			      void *arg);

/*
 * Run the loop until the source is exhausted, every domain completed and
 * no retry is left, or the source/sink fails, or sc_engine_stop() was
 * called (then domains in flight and retries waiting are abandoned: not
 * handed to the sink).  Returns ST_OK or the error that stopped it.  A
 * domain that still met a fault on its last allowed attempt is not handed
 * to the sink either: it is counted in counters.unmeasured (and logged),
 * so the caller can report the scan incomplete.
 */
int sc_engine_run(struct sc_engine *e);

/* The source has items again after it returned SC_SOURCE_WAIT: the engine
 * asks it again (soon, from the loop).  Call from the loop's thread. */
void sc_engine_source_ready(struct sc_engine *e);

/* Ask the loop to stop after the current callback (e.g. on SIGINT). */
void sc_engine_stop(struct sc_engine *e);

/* Take no new domain and start no retry for ms milliseconds (from now, or
 * longer if a pause already runs); domains in flight go on.  For a fault
 * that hits every domain alike (an upstream that stopped answering). */
void sc_engine_pause(struct sc_engine *e, unsigned ms);

/* Did the upstream's monitor stop the run (sc_health.h)?  If so, the
 * message for the user in buf.  Before sc_engine_free. */
bool sc_engine_stop_reason(const struct sc_engine *e, char *buf, size_t len);

/* The upstream monitor's counters, for the summary. */
struct sc_health_stats {
	uint64_t unvouched;      /* timeouts with no answer meanwhile */
	uint64_t canaries;       /* canary questions asked */
	uint64_t outages;        /* times the upstream was judged down */
	uint64_t upstream_faults; /* domains sent back to the retry queue */
};
void sc_engine_health_stats(const struct sc_engine *e,
			    struct sc_health_stats *out);

/* End a pause now (the upstream answers again) and take work at once. */
void sc_engine_resume(struct sc_engine *e);

void sc_engine_counters(const struct sc_engine *e, struct sc_counters *out);

/* Free, cancelling whatever is in flight.  NULL is a no-op. */
void sc_engine_free(struct sc_engine *e);

/*
 * The upstream check before a scan (the canary ". NS" with RD; how its
 * answer is judged, and how the engine's monitor then tells a domain's
 * timeout from a silent upstream's, is described in sc_health.h).
 */
#define SC_CANARY_NAME "."
#define SC_CANARY_TYPE 2 /* NS */

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


#endif /* SC_ENGINE_H */
