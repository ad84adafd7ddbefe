/*
 * sc_internal.h - what the engine's files share: the engine, the per-domain
 * state, the MX probe cache.  Private to the engine library (st_engine,
 * compiled with SC_ENGINE_BUILD); its public interface is sc_engine.h.
 *
 * Lifetimes: a struct sc_domain lives from the moment the source hands its
 * name over until its record went to the sink; everything it points to is
 * in its arena.  A struct sc_mxhost lives in the engine's probe cache from
 * the first request for the host until it is evicted (completed entries
 * beyond SC_MXCACHE_MAX, oldest first).  The cache knows nothing of
 * domains: a requester hands it a struct sc_mxwaiter of its own, which
 * sits on the host's list of waiters until its callback was called, once;
 * the callback's result points into the host and is valid only during the
 * call, so the requester copies what it keeps.
 *
 * Faults and the retry queue.  A failure on our side (enum sc_fault in
 * sc_engine.h: descriptors, memory, local sockets, our configuration, our
 * upstream resolver) tells nothing about the domain, so it must never end
 * up in the domain's record.  Whoever sees one calls
 *
 *     sc_domain_fault(d, SC_FAULT_LOCAL, "fetch: %s", why);
 *
 * and carries on as usual: pending callbacks still come in, but once they
 * are all in, sc_domain_advance() goes straight to SC_S_DONE, whose entry
 * handler is sc_domain_finished(), which hands nothing to the sink and puts the name back in the engine's
 * retry queue (sc_retry_push(), in sc_engine.c).  A retry starts the
 * domain afresh (a new struct sc_domain, every lookup again) after a
 * backoff: cfg.retry_backoff_ms << (attempt - 1), capped at
 * SC_RETRY_BACKOFF_CAP_MS.  After cfg.retry_max retries the domain is
 * given up: counted in c.unmeasured and logged, never stored, so a resumed
 * scan measures it.  Retries that are due go before new input; while
 * cfg.inflight retries wait, no new input is taken, so the queue is
 * bounded whatever the input size.  sc_engine_pause() holds both.
 *
 * An MX host whose probe or address lookups met a fault is not cached:
 * its waiters are told the fault by their callbacks (their domains are
 * retried), the entry is
 * dropped, and the next domain that needs the host probes it again.  No
 * probe record is handed to the probe sink for it.
 */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "an_classify.h"
#include "an_record.h"
#include "ft_fetch.h"
#include "ft_smtp.h"
#include "rs_resolver.h"
#include "sc_engine.h"
#include "st_arena.h"
#include "st_hmap.h"
#include "st_list.h"

#ifndef SC_ENGINE_BUILD
#error "sc_internal.h is private to the engine library: include sc_engine.h"
#endif

#define SC_ARENA_CAP (1024u * 1024u) /* per domain; the body is 64 KiB */
#define SC_TXT_MAX AN_RECORD_TXT_MAX
#define SC_MX_MAX AN_RECORD_MX_MAX
#define SC_ADDR_MAX 8                /* addresses kept per host */
#define SC_MXCACHE_MAX 65536         /* completed probes kept in memory */

/*
 * The per-domain states (sc_domain.c).  Each has an entry handler that
 * submits the state's work; every transition passes through set_state(),
 * which refuses one that sc_state_legal() does not allow:
 *
 *   NEW -> DNS -> PH_ADDR -> FETCH -> PROBE -> DONE
 *   DNS -> PROBE | DONE         no valid STS record (and no --fetch-all)
 *   PH_ADDR -> PROBE | DONE     no address for mta-sts.D: no fetch
 *   FETCH -> DONE, ... -> DONE  no --probe-mx; or a fault, or a stop,
 *                               from any state but NEW
 */
enum sc_state {
	SC_S_NEW = 0,   /* allocated, nothing asked yet */
	SC_S_DNS,       /* _mta-sts TXT, MX, _smtp._tls TXT in flight */
	SC_S_PH_ADDR,   /* A/AAAA of mta-sts.D in flight */
	SC_S_FETCH,     /* the policy fetch in flight */
	SC_S_PROBE,     /* waiting for the MX hosts' probes */
	SC_S_DONE,      /* handed to sc_domain_finished(): released */
	SC_S_COUNT
};

/* May a domain go from state `from` to state `to`?  (The table above;
 * out-of-range states are never legal.) */
bool sc_state_legal(enum sc_state from, enum sc_state to);
/* "new", "dns", "ph-addr", "fetch", "probe", "done"; "?" otherwise. */
const char *sc_state_name(enum sc_state s);

/* What a waiter for an MX host's probe is told (sc_mx_request()).  Every
 * pointer is into the cache entry: valid only during the callback. */
struct sc_mxresult {
	const char *host;                  /* lower case */
	enum sc_fault fault;               /* NONE, or nothing was learnt */
	const char *detail;                /* the fault's cause, for the log */
	const struct an_probe_record *rec; /* the probe; NULL on a fault */
};

struct sc_mxwaiter;
typedef void (*sc_mxwait_fn)(struct sc_mxwaiter *w,
			     const struct sc_mxresult *res);

/* A request for an MX host's probe.  Owned by the requester (the cache
 * only links it): fn and ctx are the requester's, link is the cache's
 * while the request waits. */
struct sc_mxwaiter {
	struct st_link link;            /* on sc_mxhost.waiters */
	sc_mxwait_fn fn;
	void *ctx;
};

struct sc_txt_answer {
	enum an_dns_status st;
	bool ad, cname;
	size_t n, total;
	struct an_bytes *rr;            /* n (<= SC_TXT_MAX), in the arena */
	const char *why;                /* see sc_domain.mx_why */
};

/* A policy host's address: IPv4 or IPv6, port 0 (what sc_rr_sockaddr()
 * gives, in a fifth of a sockaddr_storage). */
union sc_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * Memory (issue 15: at most 4 KiB per domain in flight).  The struct holds
 * only what every domain needs; every array is sized by need and lives in
 * the domain's arena (SC_DOMAIN_CHUNK bytes to start with, kept across
 * domains by the engine's spare list): the TXT RRs kept, the MX hosts,
 * the policy host's name and addresses, the certificate names, the probes
 * and their waiters, the fault's detail.  A domain with no policy and one
 * MX host fits the struct and its first chunk.
 */
#define SC_DOMAIN_CHUNK 1024u

struct sc_domain {
	struct sc_engine *e;
	struct st_link link;            /* the engine's in-flight or spare list */
	struct st_arena arena;
	const char *name;               /* arena; up to 253 bytes */
	uint64_t rank;
	enum sc_state state;
	unsigned pending;               /* callbacks still to come */
	uint64_t t0_us;

	struct sc_txt_answer sts, tlsrpt;
	enum an_dns_status mx_st;
	bool mx_ad;
	size_t n_mx, n_mx_total;
	struct an_mx_host *mx;          /* n_mx (<= SC_MX_MAX), arena */

	/* policy host: mta-sts.D */
	const char *ph_name;            /* arena, once PH_ADDR is entered */
	enum an_dns_status a_st, aaaa_st;
	const char *ph_cname;           /* first CNAME target, arena */
	bool ph_dangling;               /* chain ended in NXDOMAIN */
	size_t n_addrs;
	union sc_addr *addrs;           /* n_addrs (<= SC_ADDR_MAX), arena */

	struct an_fetch fetch;          /* strings in the arena */
	const char *ph_addr;
	const char *cert_issuer;
	const char **cert_names;        /* n_cert_names (<=
					 * AN_RECORD_CERT_NAMES_MAX), arena */
	size_t n_cert_names, n_cert_names_total;
	uint32_t fetch_ms;

	size_t n_probes;
	struct an_probe *probes;        /* n_probes, arena */
	struct sc_mxwaiter *mxwait;     /* mxwait[i] fills probes[i], arena */

	/* the upstream's health (sc_health.h) */
	bool dns_timeout;               /* a lookup timed out */
	bool dns_unvouched;             /* ... and the upstream answered
					 * nothing during its last attempt */
	const char *mx_why;             /* a failed lookup's cause, when its
					 * status does not say it (arena) */

	unsigned attempt;               /* 0 first, k the k-th retry */
	uint8_t pass;                   /* retry pass (0: the main one) */
	uint8_t tries;                  /* starts of the name before this
					 * one, faults and passes alike */
	enum sc_fault fault;            /* first fault met, or NONE */
	const char *fault_detail;       /* its cause (arena, or static) */
};

/* A domain waiting for its retry (engine-owned). */
struct sc_retry {
	struct st_link link;            /* on its FIFO, sc_engine.retry[] */
	uint64_t due_us;                /* sc_now_us() from which it may run */
	uint64_t rank;
	unsigned attempt;               /* the attempt it will make */
	uint8_t pass, tries;            /* as sc_domain's, for the start */
	char name[254];
};

enum sc_mx_state { SC_MX_RESOLVING, SC_MX_PROBING, SC_MX_DONE };

struct sc_mxhost {
	struct sc_engine *e;
	char name[254];
	enum sc_mx_state st;
	unsigned pending;               /* lookups or the probe */
	size_t n_addrs;
	struct sockaddr_storage addrs[SC_ADDR_MAX];
	enum an_dns_status a_st, aaaa_st;
	bool tlsa, tlsa_secure;
	struct st_list waiters;         /* struct sc_mxwaiter: to tell */
	struct an_probe_record rec;     /* strings in text[] */
	char addr[64], issuer[256], detail[128];
	enum sc_fault fault;            /* met a fault: not cached */
	uint64_t t0_us;
	struct st_link done_link;       /* on sc_engine.mx_done, once done */
	/* the tenant pattern (sc_mxprobe.c): one probe per address where
	 * the certificate seen there covers the other names */
	struct sc_mxaddr *leads;        /* probing for this address, or NULL */
	struct st_link addr_link;       /* on sc_mxaddr.waiting */
	bool lent;                      /* result lent by another name */
};

struct sc_engine {
	struct event_base *base;
	struct sc_config cfg;
	struct rs_resolver *rs;
	struct ft_fetcher *ft;
	struct ft_prober *pr;
	struct event *refill;           /* pulls from the source */
	sc_source_fn source;
	void *source_arg;
	sc_sink_fn sink;
	void *sink_arg;
	sc_probe_sink_fn probe_sink;
	void *probe_sink_arg;
	bool source_done, stopping;
	int error;                      /* what stopped the run */
	struct st_list inflight;        /* struct sc_domain, c.inflight */
	struct st_list spare;           /* freed domains kept for reuse */
	/* deliver()'s classification, reused by every domain (7 KiB: an
	 * arena chunk of its own per domain was a malloc/free each) */
	struct an_classification *cls;
	size_t n_spare;
	struct sc_counters c;
	/* retries, one FIFO per attempt number: every entry of a FIFO got
	 * the same backoff, so each is in due order */
	struct st_list retry[SC_RETRY_MAX_LIMIT + 1]; /* struct sc_retry */
	struct event *retry_timer;      /* the earliest due retry, a pause */
	struct sc_health *health;       /* the upstream's monitor */
	/* retry passes (sc_engine.c, "Retry passes"): domains held for the
	 * next pass, and those of the pass under way not yet started */
	struct st_list pass_held;       /* struct sc_retry */
	struct st_list pass_queue;      /* struct sc_retry, due pass_due_us */
	size_t n_pass_held, n_pass_queue;
	uint64_t pass_due_us;
	uint64_t pause_until_us;
	struct st_hmap mxcache;         /* name -> struct sc_mxhost */
	struct st_list mx_done;         /* completed entries, oldest first */
	size_t n_mx_done;
	struct st_hmap mxaddrs;         /* address -> struct sc_mxaddr */
	struct st_list mxaddr_lru;      /* oldest first */
	size_t n_mxaddrs;
};

/* sc_engine.c */
/* d is complete: its record to the sink, or, if it met a fault, its name
 * back in the retry queue (or given up); then d is released. */
void sc_domain_finished(struct sc_domain *d);
/* Queue d's name (rank, pass and tries with it) for its attempt number
 * `attempt` (1 = the first retry), due after the backoff.  ST_OK;
 * ST_ENOMEM (the name is then counted unmeasured by the caller).  Does
 * not count c.retries (done on start). */
int sc_retry_push(struct sc_engine *e, const struct sc_domain *d,
		  unsigned attempt);

/* sc_domain.c */
/* Record that d met a fault of kind f (not NONE), counted in
 * c.faults[f]; the first one's detail (printf-style) is kept for the
 * log.  d is then retried, never stored (see above).  Safe to call from
 * any callback of d, any number of times. */
void sc_domain_fault(struct sc_domain *d, enum sc_fault f, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

/* Start d (fresh from the engine: zeroed, its name and attempt set): NEW
 * -> DNS.  d may be finished, and released, before this returns. */
void sc_domain_start(struct sc_domain *d);
/* Move d on once its pending callbacks are all in (a no-op while some
 * are still to come): into the next state through set_state(), running
 * that state's entry handler; on to the one after while a handler
 * leaves nothing pending.  d is released when it reaches SC_S_DONE. */
void sc_domain_advance(struct sc_domain *d);

/* sc_mxprobe.c: ask for host's probe (looked up in lower case).  w->fn
 * is set by the caller, and is called exactly once with the result:
 * from within this call when the probe is cached or cannot be started
 * (no memory: a local fault), else later from the loop.  w must stay
 * valid, its link untouched, until then. */
void sc_mx_request(struct sc_engine *e, const char *host,
		   struct sc_mxwaiter *w);
/* Free the cache; waiters still linked are unlinked, never called. */
void sc_mxcache_init(struct sc_engine *e);
void sc_mxcache_free(struct sc_engine *e);

/* sc_record.c */
enum an_fetch_status sc_fetch_status(enum ft_status st);
enum an_probe_status sc_probe_status(const struct ft_smtp_result *r);
enum an_dns_status sc_dns_status(const struct rs_result *res);
/* Why a lookup failed, where sc_dns_status() cannot say it (a referral:
 * "referral to ZONE: ..."), in d's arena; NULL otherwise. */
const char *sc_dns_why(struct sc_domain *d, const struct rs_result *res);
/* An A or AAAA answer record as a socket address (port 0); false for
 * any other record. */
bool sc_rr_sockaddr(const struct rs_rr *rr, struct sockaddr_storage *ss);
/* Keep the policy host leaf's names (res->cert_names) in d's arena for
 * the record: the first AN_RECORD_CERT_NAMES_MAX, every byte outside
 * printable ASCII as '?', all of them counted; none if the certificate
 * was not seen.  A full arena is a local fault of d. */
void sc_keep_cert_names(struct sc_domain *d, const struct ft_result *res);
/* Build the observation of d (arrays point into d). */
void sc_observation(struct sc_domain *d, struct an_observation *obs);
/* Fill rec from d and its classification (rec points into d and cls).
 * rec->body_hash is left zero: the store computes it. */
void sc_record_fill(struct sc_domain *d, const struct an_classification *cls,
		    struct an_record *rec);

#endif /* SC_INTERNAL_H */
