/*
 * sc_scan.h - the scan engine: domains in, classified records out, on one
 * libevent loop shared by the resolver, the HTTPS fetcher and the SMTP
 * prober (DESIGN §2).
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
#ifndef SC_SCAN_H
#define SC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "an_classify.h"
#include "an_record.h"
#include "rs_resolver.h"
#include "st_log.h"

struct event_base;
struct sc_engine;

#define SC_MAX_RESOLVERS RS_MAX_UPSTREAMS

struct sc_config {
	const char *resolvers[SC_MAX_RESOLVERS]; /* none: /etc/resolv.conf */
	size_t n_resolvers;
	unsigned qps;            /* DNS queries per second, 0 no cap */
	unsigned dns_timeout_ms; /* first attempt */
	unsigned dns_retries;
	unsigned dns_inflight;   /* questions on the wire */
	unsigned inflight;       /* domains in flight */
	unsigned https_max;      /* policy fetches in flight */
	unsigned https_connect_ms, https_timeout_ms;
	unsigned smtp_max;       /* MX probes in flight */
	unsigned smtp_timeout_ms;
	uint16_t smtp_port;      /* 25; a test world may use another */
	uint16_t https_port;     /* 443; a test world may use another */
	bool probe_mx;
	bool dane;               /* TLSA _25._tcp.MX with the AD bit */
	bool fetch_all;          /* fetch even without a valid STS record */
	bool allow_private;
	const char *ca_file;
	const char *user_agent;
	const char *contact_url;
	const char *ehlo_name;
	time_t now;              /* 0: the clock, per domain */
	struct st_log *log;      /* not owned */
};

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
 * NULL), so the sink can store it.  A negative return stops the scan.
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

struct sc_counters {
	uint64_t started, completed;
	uint64_t verdicts[AN_V_COUNT];
	uint64_t fetches, fetch_ok, probes, local_errors;
	size_t inflight, inflight_peak;
	uint64_t dns_sent, dns_timeouts;
	size_t https_inflight;
};

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
 * Run the loop until the source is exhausted and every domain completed,
 * or the source/sink fails, or sc_engine_stop() was called (then domains
 * in flight are abandoned: not handed to the sink).  Returns ST_OK or the
 * error that stopped it.
 */
int sc_engine_run(struct sc_engine *e);

/* The source has items again after it returned SC_SOURCE_WAIT: the engine
 * asks it again (soon, from the loop).  Call from the loop's thread. */
void sc_engine_source_ready(struct sc_engine *e);

/* Ask the loop to stop after the current callback (e.g. on SIGINT). */
void sc_engine_stop(struct sc_engine *e);

void sc_engine_counters(const struct sc_engine *e, struct sc_counters *out);

/* Free, cancelling whatever is in flight.  NULL is a no-op. */
void sc_engine_free(struct sc_engine *e);

#endif /* SC_SCAN_H */
