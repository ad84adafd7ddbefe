/*
 * sc_internal.h - what the engine's files share: the engine, the per-domain
 * state, the MX probe cache.  Not part of any public interface.
 *
 * Lifetimes: a struct sc_domain lives from the moment the source hands its
 * name over until its record went to the sink; everything it points to is
 * in its arena.  A struct sc_mxhost lives in the engine's probe cache from
 * the first domain that needs the host until it is evicted (completed
 * entries beyond SC_MXCACHE_MAX, oldest first); waiting domains hold no
 * pointer into it after they were notified.
 *
 * Faults and the retry queue.  A failure on our side (enum sc_fault in
 * sc_scan.h: descriptors, memory, local sockets, our configuration, our
 * upstream resolver) tells nothing about the domain, so it must never end
 * up in the domain's record.  Whoever sees one calls
 *
 *     sc_domain_fault(d, SC_FAULT_LOCAL, "fetch: %s", why);
 *
 * and carries on as usual: pending callbacks still come in, but once they
 * are all in, sc_domain_advance() goes straight to sc_domain_finished(),
 * which hands nothing to the sink and puts the name back in the engine's
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
 * its waiting domains get the fault (and are retried), the entry is
 * dropped, and the next domain that needs the host probes it again.  No
 * probe record is handed to the probe sink for it.
 */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "an_classify.h"
#include "an_record.h"
#include "ft_fetch.h"
#include "ft_smtp.h"
#include "rs_resolver.h"
#include "sc_scan.h"
#include "st_arena.h"
#include "st_hmap.h"

#define SC_ARENA_CAP (1024u * 1024u) /* per domain; the body is 64 KiB */
#define SC_TXT_MAX AN_RECORD_TXT_MAX
#define SC_MX_MAX AN_RECORD_MX_MAX
#define SC_ADDR_MAX 8                /* addresses kept per host */
#define SC_MXCACHE_MAX 65536         /* completed probes kept in memory */

enum sc_state {
	SC_S_DNS = 0,   /* _mta-sts TXT, MX, _smtp._tls TXT in flight */
	SC_S_PH_ADDR,   /* A/AAAA of mta-sts.D in flight */
	SC_S_FETCH,     /* the policy fetch in flight */
	SC_S_PROBE,     /* waiting for the MX hosts' probes */
	SC_S_DONE,
};

struct sc_txt_answer {
	enum an_dns_status st;
	bool ad, cname;
	size_t n, total;
	struct an_bytes rr[SC_TXT_MAX];
	const char *why;                /* see sc_domain.mx_why */
};

struct sc_domain {
	struct sc_engine *e;
	struct sc_domain *prev, *next;  /* the engine's in-flight list */
	struct st_arena arena;
	char name[254];
	uint64_t rank;
	enum sc_state state;
	unsigned pending;               /* callbacks still to come */
	uint64_t t0_us;

	struct sc_txt_answer sts, tlsrpt;
	enum an_dns_status mx_st;
	bool mx_ad;
	size_t n_mx, n_mx_total;
	struct an_mx_host mx[SC_MX_MAX];

	/* policy host: mta-sts.D */
	char ph_name[262];
	enum an_dns_status a_st, aaaa_st;
	const char *ph_cname;           /* first CNAME target, arena */
	bool ph_dangling;               /* chain ended in NXDOMAIN */
	size_t n_addrs;
	struct sockaddr_storage addrs[SC_ADDR_MAX];

	struct an_fetch fetch;          /* strings in the arena */
	const char *ph_addr;
	const char *cert_issuer;
	uint32_t fetch_ms;

	size_t n_probes, probes_waiting;
	struct an_probe probes[SC_MX_MAX];

	/* the upstream's health (sc_health.h) */
	bool dns_timeout;               /* a lookup timed out */
	bool dns_unvouched;             /* ... and the upstream answered
					 * nothing during its last attempt */
	const char *mx_why;             /* a failed lookup's cause, when its
					 * status does not say it (arena) */

	unsigned attempt;               /* 0 first, k the k-th retry */
	enum sc_fault fault;            /* first fault met, or NONE */
	char fault_detail[160];
};

/* A domain waiting for its retry (engine-owned). */
struct sc_retry {
	struct sc_retry *next;
	uint64_t due_us;                /* sc_now_us() from which it may run */
	uint64_t rank;
	unsigned attempt;               /* the attempt it will make */
	char name[254];
};

enum sc_mx_state { SC_MX_RESOLVING, SC_MX_PROBING, SC_MX_DONE };

struct sc_mxwaiter {
	struct sc_domain *d;
	size_t slot;                    /* index into d->probes */
};

struct sc_mxhost {
	struct sc_engine *e;
	char name[254];
	enum sc_mx_state st;
	unsigned pending;               /* lookups or the probe */
	size_t n_addrs;
	struct sockaddr_storage addrs[SC_ADDR_MAX];
	enum an_dns_status a_st, aaaa_st;
	bool tlsa, tlsa_secure;
	struct sc_mxwaiter *waiters;    /* domains to tell when done */
	size_t n_waiters, cap_waiters;
	struct an_probe_record rec;     /* strings in text[] */
	char addr[64], issuer[256], detail[128];
	enum sc_fault fault;            /* met a fault: not cached */
	uint64_t t0_us;
	struct sc_mxhost *older;        /* completed entries, FIFO */
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
	struct sc_domain *inflight;     /* list head */
	struct sc_domain *spare;        /* freed domains kept for reuse */
	size_t n_spare;
	struct sc_counters c;
	/* retries, one FIFO per attempt number: every entry of a FIFO got
	 * the same backoff, so each is in due order */
	struct sc_retry *retry_head[SC_RETRY_MAX_LIMIT + 1];
	struct sc_retry *retry_tail[SC_RETRY_MAX_LIMIT + 1];
	struct event *retry_timer;      /* the earliest due retry, a pause */
	struct sc_health *health;       /* the upstream's monitor */
	uint64_t pause_until_us;
	struct st_hmap mxcache;         /* name -> struct sc_mxhost */
	struct sc_mxhost *done_newest, *done_oldest;
	size_t n_mx_done;
	uint8_t encode_buf[AN_RECORD_ENCODED_MAX];
};

/* sc_engine.c */
/* d is complete: its record to the sink, or, if it met a fault, its name
 * back in the retry queue (or given up); then d is released. */
void sc_domain_finished(struct sc_domain *d);
/* Queue name for its attempt number `attempt` (1 = the first retry),
 * due after the backoff.  ST_OK; ST_ENOMEM (the name is then counted
 * unmeasured by the caller).  Does not count c.retries (done on start). */
int sc_retry_push(struct sc_engine *e, const char *name, uint64_t rank,
		  unsigned attempt);

/* sc_domain.c */
/* Record that d met a fault of kind f (not NONE), counted in
 * c.faults[f]; the first one's detail (printf-style) is kept for the
 * log.  d is then retried, never stored (see above).  Safe to call from
 * any callback of d, any number of times. */
void sc_domain_fault(struct sc_domain *d, enum sc_fault f, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

void sc_domain_start(struct sc_domain *d);
/* Move d on once its pending callbacks are all in. */
void sc_domain_advance(struct sc_domain *d);

/* sc_mxprobe.c: ask for host's probe on behalf of d (d->pending counts
 * it); d gets d->probes[slot] filled and sc_domain_advance() when the
 * probe is done (maybe later, never from within this call). */
void sc_mx_request(struct sc_engine *e, struct sc_domain *d, size_t slot,
		   const char *host);
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
/* Build the observation of d (arrays point into d). */
void sc_observation(struct sc_domain *d, struct an_observation *obs);
/* Fill rec from d and its classification (rec points into d and cls).
 * rec->body_hash is left zero: the store computes it. */
void sc_record_fill(struct sc_domain *d, const struct an_classification *cls,
		    struct an_record *rec);

#endif /* SC_INTERNAL_H */
