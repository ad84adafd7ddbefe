/*
 * rs_responder.h - a hostile DNS responder for the resolver's tests.  It
 * lives in the test process, on the resolver's own event_base, so a test
 * needs no external server and no threads.
 *
 * The responder binds UDP on 127.0.0.1 (or ::1) at a kernel-chosen port and
 * a TCP listener on the same port, and is meant to be a resolver's upstream.
 * It parses every query with ldns, logs it, and answers according to its
 * behaviour (struct rsp_behaviour), which the test may change between
 * questions: an answer built from zone-format RR strings, silence, a late
 * answer, a TC answer (then the full one over TCP: whole, in pieces, then
 * closed, or never), or first a decoy (wrong ID, wrong question, wrong
 * source port, wrong socket, garbage, compression loops, cut packets).
 *
 * The responder asserts nothing: it counts what it saw in its fields, and
 * its own failures (a bad RR string, no memory, a failed send) in errors,
 * for the test to check after the loop returns.
 *
 * No global state: a test may run several responders on one base.  Not
 * thread safe: use a responder only from the thread running its base.
 */
#ifndef RS_RESPONDER_H
#define RS_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "rs_wire.h"

struct event;
struct event_base;
struct evconnlistener;
struct rsp_conn;    /* a TCP connection accepted: private to the .c */
struct rsp_delayed; /* bytes to send later: private to the .c */

#define RSP_MAX_RRS 20 /* RRs in one answer */

/* The answer of a freshly started responder; "@" is the query name. */
#define RSP_DEFAULT_RR "@ 3600 IN A 192.0.2.1"

enum rsp_mode {
	RSP_ANSWER, /* answer with beh.rcode and beh.rrs */
	RSP_SILENT, /* record queries, send nothing but the decoy */
	RSP_TC,     /* UDP: TC set, no records; TCP: the full answer */
};

/* Sent over UDP just before the answer, once per query. */
enum rsp_decoy {
	DECOY_NONE,
	DECOY_WRONG_ID,    /* the answer with ID + 1 */
	DECOY_WRONG_QNAME, /* the answer for another name, right ID */
	DECOY_WRONG_QTYPE, /* the answer for another type, right ID */
	DECOY_OTHER_PORT,  /* the answer, from a second socket */
	DECOY_GARBAGE,     /* 40 random bytes behind the right ID */
	DECOY_PTR_OWNER,   /* answer owner: a compression pointer to itself */
	DECOY_PTR_QNAME,   /* question name: a pointer to itself */
	DECOY_PTR_RDATA,   /* CNAME target: a pointer to itself */
	DECOY_QUERY_ECHO,  /* the query itself sent back (QR clear) */
	DECOY_DUPLICATE,   /* the answer itself: it then arrives twice */
	DECOY_OTHER_SOCKET, /* the answer, to another resolver socket seen */
	DECOY_CUT7,        /* the answer's first 7 bytes */
	DECOY_CUT_HALF,    /* the answer's first half */
};

/* What the TCP side does with a query. */
enum rsp_tcp {
	TCP_ANSWER,      /* answer, keep the connection open */
	TCP_SILENT,      /* read, never answer */
	TCP_CLOSE_AFTER, /* answer, then close the connection */
	TCP_SPLIT,       /* answer in three pieces, 5 ms apart, the length
			  * prefix itself split (RFC 7766 §8) */
};

/* How to answer.  Read as each query arrives, when its answer (even a
 * delayed one) is built: a change applies from the next query on. */
struct rsp_behaviour {
	enum rsp_mode mode;
	enum rsp_decoy decoy;
	enum rsp_tcp tcp;
	int rcode;
	bool ad;
	bool no_ra;        /* RA clear, as a server that does not recurse */
	bool aa;           /* AA set, as an authoritative server */
	bool upcase_qname; /* echo the question name in upper case */
	unsigned delay_ms; /* the answer (not the decoy) waits this long */
	/* Queries for names ending with this (lower case, no trailing dot)
	 * get no UDP answer, whatever the mode: an upstream that drops some
	 * questions and answers others.  NULL: none. */
	const char *silent_suffix;
	/* Zone-format answers, up to the first NULL; "@" is the qname.  Not
	 * owned: each string is parsed at every query, so it must stay
	 * valid as long as it is in rrs and the loop may run. */
	const char *rrs[RSP_MAX_RRS];
	/* The same for the authority section (a referral's NS records, a
	 * NODATA's SOA). */
	const char *authority[RSP_MAX_RRS];
};

/* One query received, as the log keeps it. */
struct rsp_query {
	uint16_t id;
	uint16_t qtype;
	bool tcp;
	bool rd;
	bool do_bit;
	uint16_t edns_size; /* 0: no OPT record */
	uint16_t port;      /* source port (UDP) */
	uint64_t t_us;      /* arrival, on the rsp_now_us() clock */
	char qname[RS_NAME_MAX]; /* lower case, no trailing dot */
};

/*
 * A script: called for every query as it arrives, after it was logged
 * and before its answer is built, to set rsp->beh for it (a zone served
 * name by name).  q is the query just logged; valid during the call.
 */
struct responder;
typedef void (*rsp_script_fn)(void *arg, const struct rsp_query *q,
			      struct rsp_behaviour *beh);

/*
 * The responder.  The storage is the caller's (a test embeds it in its
 * context): it must be zeroed or stopped before rsp_start(), and stay at
 * the same address until rsp_stop(), since the base's events point to it.
 * It holds a 64 KiB receive buffer, so keep it off the stack.
 *
 * A test sets beh and reads the fields marked "read"; the rest is the
 * responder's own.
 */
struct responder {
	struct event_base *base;   /* not owned; must outlive the responder */
	bool started;
	evutil_socket_t udp;       /* the upstream address */
	evutil_socket_t udp_other; /* same address, another port */
	struct event *udp_ev;
	struct evconnlistener *lst; /* NULL after rsp_refuse_tcp() */
	char addr[64];             /* read: "127.0.0.1:PORT", "[::1]:PORT" */
	struct rsp_behaviour beh;  /* set by the test */
	rsp_script_fn script;      /* set by the test after rsp_start(), */
	void *script_arg;          /* or NULL: beh as set */
	/* read: every query received since the last rsp_reset_log(), in
	 * order.  Owned; reallocated as queries arrive, so a pointer into
	 * q is valid only until the loop runs again. */
	struct rsp_query *q;
	size_t n_q, cap_q;         /* read: n_q */
	size_t outstanding;        /* received, answer not yet sent */
	size_t max_outstanding;    /* read: the peak of outstanding */
	unsigned tcp_accepted;     /* read: connections accepted */
	unsigned tcp_eof;          /* read: connections the resolver closed */
	size_t n_answers;          /* read: answers sent (UDP and TCP) */
	size_t n_decoys;           /* read: decoys sent */
	unsigned errors;           /* read: the responder's own failures */
	uint64_t rng;              /* xorshift64 state for garbage */
	struct rsp_delayed *delayed;
	struct rsp_conn *conns;
	uint8_t buf[65536];
};

/* CLOCK_MONOTONIC in microseconds: the clock of rsp_query.t_us. */
uint64_t rsp_now_us(void);

/* Start rsp on base: UDP and TCP on one port of the loopback of family
 * (AF_INET or AF_INET6), and a second UDP socket for DECOY_OTHER_PORT.
 * The log is empty and the behaviour starts as "answer RSP_DEFAULT_RR"
 * (whatever beh held before).  ST_OK, or ST_EIO with rsp left stopped
 * (rsp_stop() is then a no-op). */
int rsp_start(struct responder *rsp, struct event_base *base, int family);

/* Close every socket, connection and pending delayed send, free the query
 * log, and zero everything but buf: rsp may be started again.  Call it
 * before freeing the base.  A no-op on a zeroed or stopped responder. */
void rsp_stop(struct responder *rsp);

/* Forget the queries seen so far and zero the counters read by tests
 * (between rows of a table).  errors, the behaviour, open connections and
 * answers still waiting to be sent are kept. */
void rsp_reset_log(struct responder *rsp);

/* Close the TCP listener: later connections are refused; those already
 * accepted stay open.  Until rsp_stop(), nothing reopens it. */
void rsp_refuse_tcp(struct responder *rsp);

#endif /* RS_RESPONDER_H */
