/*
 * rs_resolver.h - an asynchronous DNS stub resolver on libevent and ldns.
 *
 * One struct rs_resolver per event loop.  rs_submit() queues a question; the
 * answer (or the reason there is none) is delivered once, from the loop, to
 * the callback.  The resolver sends over UDP from a pool of sockets (source
 * ports chosen by the kernel at random from its ephemeral range, query IDs
 * from the system CSPRNG; the datagrams of one pass of the loop leave in
 * one sendmmsg() per socket, answers are read by recvmmsg()), falls back
 * to TCP when an answer is truncated,
 * retries with exponential backoff across the upstreams, and never lets a
 * question hang: every one ends with an answer, a timeout or a local error.
 *
 * Answers are accepted only if they come from the address and port the
 * question was sent to, on the socket it left from, with its ID and with the
 * same question section; everything else is counted as dropped.
 *
 * Identical questions (name compared case-insensitively, type, flags) that
 * are in flight at the same time are sent once and answered to every asker.
 *
 * No global state: several resolvers may live in one process.  Not thread
 * safe: use a resolver only from the thread running its event_base.
 */
#ifndef RS_RESOLVER_H
#define RS_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_log.h"

struct event_base;
struct rs_resolver;

#define RS_MAX_UPSTREAMS 8

/* DNS types stsmap asks for (RFC 1035, 3596, 6698). */
enum {
	RS_TYPE_A = 1,
	RS_TYPE_CNAME = 5,
	RS_TYPE_MX = 15,
	RS_TYPE_TXT = 16,
	RS_TYPE_AAAA = 28,
	RS_TYPE_TLSA = 52,
};

/* DNS response codes (RFC 1035 §4.1.1, RFC 6895). */
enum {
	RS_RCODE_NOERROR = 0,
	RS_RCODE_FORMERR = 1,
	RS_RCODE_SERVFAIL = 2,
	RS_RCODE_NXDOMAIN = 3,
	RS_RCODE_NOTIMP = 4,
	RS_RCODE_REFUSED = 5,
};

/* Defaults, each written once: rs_config_default() and the scanner
 * (sc_config_default(), the --qps and --dns-* rows of sc_scan_opts.c) use
 * these names, never the values. */
#define RS_DEFAULT_TIMEOUT_MS 2000u  /* first attempt; doubles per retry */
#define RS_DEFAULT_RETRIES 2u
#define RS_DEFAULT_QPS 0u            /* no cap */
#define RS_DEFAULT_MAX_INFLIGHT 1000u

struct rs_config {
	/* Upstreams as "IP", "IP:PORT" or "[IPv6]:PORT" (port 53 if absent).
	 * Zero upstreams: the nameserver lines of /etc/resolv.conf. */
	const char *upstreams[RS_MAX_UPSTREAMS];
	size_t n_upstreams;
	unsigned timeout_ms;    /* first attempt; doubles per retry
				 * (RS_DEFAULT_TIMEOUT_MS); with
				 * adaptive_timeout the ceiling of the
				 * learnt one, and the last attempt's */
	unsigned retries;       /* attempts after the first
				 * (RS_DEFAULT_RETRIES) */
	unsigned qps;           /* queries sent per second, 0: no cap
				 * (RS_DEFAULT_QPS) */
	unsigned max_inflight;  /* questions on the wire at once
				 * (RS_DEFAULT_MAX_INFLIGHT) */
	uint16_t edns_size;     /* EDNS0 UDP payload size, 0: no EDNS (1232) */
	unsigned n_sockets;     /* UDP sockets per address family (8) */
	unsigned tcp_idle_ms;   /* idle TCP connections closed after (10000) */
	bool pace;              /* adaptive pacing per upstream (rs_pace.h):
				 * a window of first attempts that halves
				 * when timeouts or SERVFAIL rise and grows
				 * back on answers; qps stays the cap (true) */
	bool adaptive_timeout;  /* every attempt but the last waits the
				 * upstream's learnt retransmission
				 * timeout (struct rs_rto in rs_pace.h:
				 * SRTT + 4 RTTVAR, at least
				 * RS_RTO_FLOOR_MS, at most timeout_ms),
				 * doubled per attempt (true) */
	struct st_log *log;     /* not owned; may be NULL */
};

/* Fill cfg with the defaults given in parentheses above. */
void rs_config_default(struct rs_config *cfg);

/* Flags for rs_submit(). */
#define RS_FLAG_DO 0x1u /* set the DNSSEC OK bit, to read the AD bit */
#define RS_FLAG_AD 0x2u /* set AD in the query: a validating upstream
			 * reports AD without adding DNSSEC records
			 * (RFC 6840 §5.7); the cheap way to learn AD */

enum rs_status {
	RS_ANSWERED = 0, /* a matching response arrived: see rcode */
	RS_TIMEOUT,      /* every attempt timed out */
	RS_ERROR,        /* local failure (no memory, no socket, bad name) */
	RS_CANCELLED,    /* the resolver was freed first */
	RS_REFERRAL,     /* the response was a referral (struct rs_answer in
			  * rs_wire.h), not an answer: the upstream did not
			  * recurse for this name; a failed lookup, never
			  * NODATA.  rcode, ra, aa and referral_zone are set */
};

/* One answer record of the asked type, at the end of the CNAME chain.
 *  A, AAAA: data holds the 4 or 16 address bytes.
 *  TXT:     the character-strings of the RR joined without separators
 *           (RFC 8461 §3.1, RFC 7208 §3.3); may contain any byte.
 *  MX:      preference in pref, the exchange as a NUL-terminated
 *           presentation name without trailing dot ("" for the root,
 *           a null MX) in data.
 *  CNAME:   the target name, as for MX.
 *  other:   the raw RDATA. */
struct rs_rr {
	uint32_t ttl;
	uint16_t type;
	uint16_t pref;
	size_t len;
	const uint8_t *data; /* NUL-terminated after len bytes, for convenience */
};

struct rs_result {
	enum rs_status status;
	const char *qname;      /* normalised: lower case, no trailing dot */
	uint16_t qtype;
	int rcode;              /* RS_RCODE_*, when ANSWERED; -1 otherwise */
	bool nodata;            /* NOERROR and no RR of qtype at the chain end
				 * (never set for a referral) */
	bool ad;                /* the AD bit was set */
	bool ra;                /* RA (recursion available) was set */
	bool aa;                /* AA (authoritative answer) was set */
	const char *referral_zone; /* RS_REFERRAL: the zone cut the NS
				    * records name ("" the root); else NULL */
	bool truncated;         /* UDP answer had TC: this one came over TCP */
	const char *const *cname_chain; /* targets followed, in order */
	size_t n_cname;
	const struct rs_rr *rrs;
	size_t n_rrs;
	uint32_t min_ttl;       /* smallest TTL among rrs; 0 if none */
	int upstream;           /* index of the upstream that answered, or -1 */
	unsigned attempts;      /* attempts made; a truncated UDP answer and
				 * its TCP retry count as one */
	uint32_t latency_us;    /* from first send to answer */
	uint32_t last_wait_us;  /* RS_TIMEOUT: how long the last attempt was
				 * out, from its send to its timer (the
				 * timer's lateness included); else 0 */
	int local_errno;        /* RS_ERROR because a socket could not be
				 * opened or written on our side (EMFILE,
				 * ENOBUFS, ...): that errno; else 0 */
};

/* The result and everything it points to is valid only during the
 * callback; copy what you keep. */
typedef void (*rs_callback)(const struct rs_result *res, void *arg);

struct rs_upstream_stats {
	char addr[64];       /* as configured */
	uint64_t sent;       /* UDP and TCP packets sent */
	uint64_t answered;   /* responses accepted */
	uint64_t timeouts;   /* attempts that timed out */
	uint64_t servfail;   /* accepted responses with SERVFAIL */
	uint64_t referrals;  /* accepted responses that were referrals */
	uint64_t no_ra;      /* accepted responses with RA clear */
	uint64_t dropped;    /* responses rejected (see rs_stats) */
	uint64_t tcp;        /* queries retried over TCP */
	unsigned pace_window;     /* its pacing window now (rs_pace.h) */
	unsigned pace_window_low; /* the smallest it has been */
	uint64_t pace_backoffs;   /* times the window was halved */
	uint64_t pace_delay_cuts; /* times it was cut for delay */
	unsigned rto_ms;          /* its retransmission timeout now */
};

struct rs_stats {
	uint64_t submitted;   /* rs_submit() calls accepted */
	uint64_t coalesced;   /* of which joined an identical question */
	uint64_t completed;   /* callbacks delivered */
	uint64_t timeouts;    /* questions that ended in RS_TIMEOUT */
	uint64_t drop_source; /* response from an unexpected address/port */
	uint64_t drop_id;     /* no question with this ID on this socket */
	uint64_t drop_question; /* question section differs */
	uint64_t drop_malformed; /* unparsable bytes */
	uint64_t send_calls;  /* sendmmsg() calls (UDP datagrams leave in
			       * batches, one call per socket per pass of
			       * the loop) */
	uint64_t recv_calls;  /* recvmmsg() calls */
	uint64_t query_allocs; /* question structs allocated; an ended one
				* is reused, so a steady run allocates
				* about max_inflight of them */
	size_t inflight;      /* questions on the wire now */
	size_t inflight_peak; /* largest inflight seen */
	size_t queued;        /* questions waiting for a slot or a token */
	size_t n_upstreams;
	struct rs_upstream_stats upstream[RS_MAX_UPSTREAMS];
};

/*
 * Create a resolver on base with cfg (copied; strings are copied too).
 * Returns ST_OK and *out; ST_EINVAL for a bad upstream or option;
 * ST_ENOENT when no upstream is configured and resolv.conf names none;
 * ST_EIO when sockets cannot be opened; ST_ENOMEM.
 */
int rs_resolver_new(struct event_base *base, const struct rs_config *cfg,
		    struct rs_resolver **out);

/*
 * Ask (name, type).  name is a presentation-format domain name (a trailing
 * dot is optional); flags is a combination of RS_FLAG_*.  The callback runs
 * later from the loop, exactly once, never from within rs_submit().
 * Returns ST_OK, ST_EINVAL for a name that is not a valid domain name (see
 * rs_question_init) or when the resolver is being freed, or ST_ENOMEM (the
 * callback is then not called).  The first attempt of successive questions
 * goes to successive upstreams (round robin), retries to the next ones.
 */
int rs_submit(struct rs_resolver *r, const char *name, uint16_t type,
	      unsigned flags, rs_callback cb, void *arg);

/* Counters so far, copied into out. */
void rs_resolver_stats(const struct rs_resolver *r, struct rs_stats *out);

/* Number of questions not yet completed (queued or on the wire). */
size_t rs_resolver_pending(const struct rs_resolver *r);

/* Free the resolver: every question not yet completed gets its callback
 * with RS_CANCELLED first.  NULL is a no-op. */
void rs_resolver_free(struct rs_resolver *r);

/* Whether text names an upstream as --resolver takes it: "IP", "IP:PORT",
 * "[IPv6]:PORT" or a bare IPv6 address.  ST_OK or ST_EINVAL. */
int rs_upstream_check(const char *text);

const char *rs_status_name(enum rs_status st);
/* "NOERROR" ... "REFUSED", "RCODE6" ... "RCODE15", "NONE" for -1 (no
 * answer), "OTHER" for anything else.  Static strings. */
const char *rs_rcode_name(int rcode);

#endif /* RS_RESOLVER_H */
