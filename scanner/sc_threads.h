/*
 * sc_threads.h - `stsmap scan --threads N`: N scan engines, each on an
 * event loop of its own in a thread of its own, fed by one dealer and
 * drained by one store writer, both on the caller's loop (DESIGN §7).
 *
 * Why this shape.  LMDB allows one write transaction at a time, bound to
 * the thread that began it, and the store batches puts in memory and
 * commits them (with an fdatasync) on a timer.  So the thread that owns
 * the store, the caller's, stays its one writer; the workers never touch
 * the store.  A worker encodes each record itself (the body's hash too,
 * ds_store_body_hash(): pure) and hands the bytes over, so the writer
 * only copies them into the batch, and a slow commit never stalls a
 * worker's sockets: a worker that has OUT_CAP results waiting takes no
 * new domain until the writer took them (back-pressure without blocking
 * a loop).  The dealer (the caller) decides what is scanned (duplicates,
 * exclusions, resume's skip-if-done, all against state only it holds)
 * and pushes each name into whichever worker's bounded inbox has room:
 * the shards are disjoint (each name goes to one worker once), and which
 * worker scans a name changes nothing in its record, so results do not
 * depend on the order or the dealing.
 *
 * What is per scan and what per thread.  --qps, --inflight,
 * --dns-inflight, --https-max and --smtp-max are for the whole scan, as
 * a user expects: each worker gets its share (sc_threads_split()), the
 * shares add up to the option, and N is lowered so that every share is
 * at least 1 (sc_threads_fit()).  Per thread are the upstream monitor
 * (each worker watches its own resolver; any one that stops its engine
 * stops the scan) and the MX probe cache: with --probe-mx a host is
 * probed at most once per worker (N times per scan at most), and the
 * last probe record of the host is the one stored.
 *
 * Threads and libraries.  Each worker's libevent base, resolver (ldns
 * packets, its own sockets and ID generator), curl multi handle and
 * OpenSSL contexts are its own; no cross-thread call touches them: the
 * threads talk only through the queues below, under one mutex per
 * worker, and wake each other through pipes (so libevent needs no
 * evthread locking).  curl_global_init() runs once, before any worker
 * exists (sc_pool_new()).  Signals are blocked in the workers: SIGINT
 * and SIGTERM reach the caller's loop, which calls sc_pool_stop().
 *
 * Ownership: the pool owns its workers, engines and queued messages; a
 * message taken with sc_pool_take() is the caller's (sc_pool_msg_free()).
 * Every function here is called from the caller's thread.
 */
#ifndef SC_THREADS_H
#define SC_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_engine.h"
#include "st_list.h"

#define SC_THREADS_MAX 256
#define SC_MSG_HASH_LEN 32 /* DS_STORE_HASH_LEN: a SHA-256 */

/* The number of online cores (at least 1): the default of --threads. */
unsigned sc_threads_online(void);

/*
 * How many workers a scan with cfg can use when want are asked for (0:
 * sc_threads_online()): at most SC_THREADS_MAX, and no more than any
 * per-scan cap allows with a share of at least 1 each (inflight,
 * dns_inflight, https_max, qps when not 0, smtp_max with probe_mx).
 * Pure but for want == 0.
 */
unsigned sc_threads_fit(unsigned want, const struct sc_config *cfg);

/*
 * Worker i's share (0 <= i < n) of the per-scan caps of all, into out
 * (a copy of all otherwise): cap / n, and one more for the first cap % n
 * workers, so the shares add up to the cap.  A qps of 0 (no cap) stays
 * 0.  Pure.
 */
void sc_threads_split(const struct sc_config *all, unsigned n, unsigned i,
		      struct sc_config *out);

/*
 * sc_config_fit_fds() for n workers: each gets limit / n descriptors for
 * its share of the caps (worker 0's, the largest, is fitted), and cfg's
 * https_max and smtp_max are written back as totals.  Pure.
 */
int sc_threads_fit_fds(struct sc_config *cfg, uint64_t limit, unsigned n,
		       struct sc_fd_budget *b);

/*
 * How many of n workers to run in limit descriptors (each engine has
 * descriptors of its own: resolver sockets, curl's, the pool's pipes):
 * n when the options fit as asked; else the most workers (of n down to 1)
 * that fit them without lowering a cap; else, when every count lowers
 * them, the most workers whose fitted connections are within 90% of the
 * best count's (a high limit keeps its threads, a low one gives a few
 * engines more room).  1 when not even one fits.  Pure.
 */
unsigned sc_threads_fit_limit(const struct sc_config *cfg, uint64_t limit,
			      unsigned n);

/* What a worker hands to the writer. */
enum sc_msg_kind { SC_MSG_RESULT, SC_MSG_PROBE };

struct sc_msg {
	struct st_link link;
	enum sc_msg_kind kind;
	unsigned verdict;             /* RESULT: rec->verdict */
	const char *name;             /* the domain, or the MX host */
	const uint8_t *data;          /* the encoded record or probe */
	size_t len;
	const uint8_t *body;          /* RESULT: the policy body, or NULL */
	size_t body_len;
	uint8_t body_hash[SC_MSG_HASH_LEN]; /* its key, in the record */
	/* name, data and body live in the same allocation */
};

void sc_pool_msg_free(struct sc_msg *m); /* NULL is a no-op */

struct event_base;
struct sc_pool;

/* Called on the caller's loop when there may be messages to take, room
 * for more input, or a worker finished. */
typedef void (*sc_pool_ready_fn)(void *arg);

/*
 * n workers (1 to SC_THREADS_MAX; see sc_threads_fit()) over cfg, each
 * with its share of the caps, started at once; ready(arg) is called on
 * base's loop (see above).  ST_OK and *out; an engine's set-up error
 * (as sc_engine_new()), ST_ENOMEM, ST_EIO (no pipe or thread).
 */
int sc_pool_new(struct event_base *base, const struct sc_config *cfg,
		unsigned n, sc_pool_ready_fn ready, void *arg,
		struct sc_pool **out);

/* Hand one name to a worker with room (the strings are copied).  ST_OK;
 * ST_EAGAIN when every inbox is full: ready() is called when one has
 * room again.  ST_EINVAL after sc_pool_input_done(). */
int sc_pool_push(struct sc_pool *p, const struct sc_item *it);

/* No more input: each worker ends once its inbox is empty and its
 * domains are done. */
void sc_pool_input_done(struct sc_pool *p);

/* Ask every worker to stop now (domains in flight and in the inboxes are
 * abandoned: never handed over, so a resumed scan redoes them). */
void sc_pool_stop(struct sc_pool *p);

/* Move every message waiting into out (FIFO per worker); their number. */
size_t sc_pool_take(struct sc_pool *p, struct st_list *out);

/* Every worker's engine has returned and every message was taken. */
bool sc_pool_finished(struct sc_pool *p);

/* The engines' counters summed (inflight_peak too: an upper bound), as
 * of each worker's last report (a few times a second; exact once
 * finished). */
void sc_pool_counters(struct sc_pool *p, struct sc_counters *out);
void sc_pool_health_stats(struct sc_pool *p, struct sc_health_stats *out);

/* Once finished: the first error an engine returned (ST_OK if none),
 * and whether an upstream monitor stopped its engine (its message in
 * buf, as sc_engine_stop_reason()). */
int sc_pool_error(struct sc_pool *p);
bool sc_pool_stop_reason(struct sc_pool *p, char *buf, size_t len);

/* The CPU time of the calling thread, in seconds (0 if unknown). */
double sc_thread_cpu_s(void);
/* The workers' CPU time, summed and the busiest one's, in seconds, of
 * those finished (for the summary: the parallel part of the cost). */
void sc_pool_cpu(struct sc_pool *p, double *sum_s, double *max_s);

/* Stop, join and free the workers, drop untaken messages.  NULL ok. */
void sc_pool_free(struct sc_pool *p);

#endif /* SC_THREADS_H */
