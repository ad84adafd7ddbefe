/*
 * nm_relay.h - the emulator's relay: shared context of nm_relay.c (main,
 * options, signals, statistics), nm_udp.c (datagrams) and nm_tcp.c
 * (streams).  One libevent loop, one struct nm_relay, no global state.
 *
 * Ownership: the relay owns every listener; a UDP listener owns its flows
 * and its two delay queues; a TCP listener owns nothing but its socket,
 * and the relay owns every connection (on relay->conns) until it closes.
 */
#ifndef NM_RELAY_H
#define NM_RELAY_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nm_flow.h"
#include "nm_map.h"
#include "nm_queue.h"
#include "st_list.h"

#define NM_BATCH 64            /* datagrams per recvmmsg / sendmmsg */
#define NM_RELEASE_MAX NM_GROUP_MAX /* datagrams a queue releases per pass */
#define NM_DGRAM_MAX 65536     /* largest datagram carried */

/* Counters, printed at exit and on SIGUSR1. */
struct nm_stats {
	uint64_t udp_in, udp_out;        /* datagrams received, sent on */
	uint64_t udp_lost;               /* dropped by the emulated loss */
	uint64_t udp_overflow;           /* dropped: a queue was full */
	uint64_t udp_noflow;             /* dropped: flow table full */
	uint64_t udp_send_err;           /* dropped: sendmmsg failed */
	uint64_t udp_flows, udp_expired; /* flows made, expired */
	uint64_t tcp_conns, tcp_refused; /* accepted; closed at once (cap) */
	uint64_t tcp_chunks, tcp_lost;   /* chunks relayed; given the rto */
	uint64_t tcp_bytes;
	uint64_t tcp_errors; /* connections ended by an error on a side */
	/* How late datagrams left, against their due time: the relay's own
	 * error (a busy machine's scheduling shows here). */
	uint64_t late_sum_ns, late_max_ns, late_n;
};

struct nm_relay {
	struct event_base *base;
	struct nm_rng rng;
	struct nm_stats st;
	struct st_list udp;   /* struct nm_udp, by link */
	struct st_list tcp;   /* struct nm_tcp_listener, by link */
	struct st_list conns; /* struct nm_tcp_conn, by link */
	size_t nconns;
	/* limits */
	size_t max_flows;   /* per UDP listener */
	uint64_t idle_ns;   /* UDP flow idle expiry */
	size_t queue_bytes; /* per UDP direction */
	size_t max_conns;   /* TCP connections in all */
	size_t tcp_window;  /* bytes queued per TCP direction before
			     * reading pauses */
	uint64_t slack_ns;  /* a packet may leave this much early, so that
			     * those due together leave in one batch */
	/* recvmmsg scratch, shared by every socket of the loop */
	struct mmsghdr msgs[NM_BATCH];
	struct iovec iov[NM_BATCH];
	union nm_sockaddr from[NM_BATCH];
	unsigned char *scratch; /* NM_BATCH * NM_DGRAM_MAX bytes, owned */
	int verbose;
};

uint64_t nm_now_ns(void);
/* Arm ev to fire at due_ns (now if already past). */
void nm_arm(struct event *ev, uint64_t due_ns);
void nm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open the listener of m (UDP or TCP) and link it to r.  0, or a negative
 * ST_E* after a message on stderr naming the address. */
int nm_udp_open(struct nm_relay *r, const struct nm_map *m);
int nm_tcp_open(struct nm_relay *r, const struct nm_map *m);
/* Expire idle UDP flows of every listener (called once a second). */
void nm_udp_expire(struct nm_relay *r);
/* Close everything: listeners, flows, queues, connections. */
void nm_udp_close_all(struct nm_relay *r);
void nm_tcp_close_all(struct nm_relay *r);

#endif /* NM_RELAY_H */
