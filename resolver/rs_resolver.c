/*
 * rs_resolver.c - the stub resolver: query lifecycle, UDP sockets, TCP
 * fallback, rate and in-flight limits.
 *
 * A question (struct rs_query) moves QUEUED -> UDP -> (TCP) -> completed.
 * It is found three ways: by (name, type, flags) in the dedup table while it
 * lives, by (socket, ID) in the ID table while a UDP attempt is on the wire,
 * and on its upstream's TCP connection while a TCP attempt is.  complete()
 * is the one place a question leaves every table and its callbacks run.
 */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include "rs_resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "rs_pace.h"
#include "rs_wire.h"
#include "st_error.h"
#include "st_list.h"

#define RS_RECV_MAX 65535   /* largest DNS message (RFC 1035 §4.2.2) */
#define RS_RECV_BATCH 32    /* datagrams per recvmmsg() */
#define RS_RECV_ROUNDS 2    /* recvmmsg() calls per wake-up at most */
#define RS_SEND_BATCH 32    /* datagrams per sendmmsg(), per socket */
#define RS_MAX_SOCKETS 64
#define RS_RAND_POOL 256
#define RS_RCVBUF (1 << 20) /* bytes asked per UDP socket */
#define LOG_COMP "resolver"

enum q_state { Q_QUEUED, Q_UDP, Q_TCP };

struct rs_query;

struct rs_waiter {
	rs_callback cb;
	void *arg;
	struct st_link link;   /* on its query's waiters, in arrival order */
};

/* One TCP connection to an upstream, shared by every question retried
 * over TCP to it while it is open (RFC 7766 §6.2.1: pipelining). */
struct rs_tcp {
	struct rs_resolver *r;
	size_t upstream;
	struct bufferevent *bev;
	struct st_list pending; /* rs_query, via tcp_link */
	struct event *idle;
};

struct rs_upstream {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct rs_upstream_stats st;
	struct rs_tcp *tcp;
	struct rs_pace pace;   /* its window of first attempts (rs_pace.h) */
	struct rs_rto rto;     /* its retransmission timeout (rs_pace.h) */
};

/* A datagram built and waiting for its socket's next sendmmsg(). */
struct rs_out {
	struct rs_query *qy;   /* NULL: withdrawn (the question ended) */
	size_t len;
	uint8_t wire[RS_QUERY_MAX];
};

struct rs_sock {
	int fd;
	int family;
	struct event *ev;
	struct rs_resolver *r;
	size_t idx;
	struct rs_out *out;    /* RS_SEND_BATCH slots, owned */
	unsigned n_out;        /* slots in use, sent by flush_sock() */
};

/* The receive side of recvmmsg(): one buffer per datagram.  The buffers
 * are RS_RECV_MAX each so that no datagram is ever cut, but the kernel
 * only writes (and so only maps) as much as arrives. */
struct rs_rx {
	struct mmsghdr mh[RS_RECV_BATCH];
	struct iovec iov[RS_RECV_BATCH];
	struct sockaddr_storage from[RS_RECV_BATCH];
	uint8_t *buf;          /* RS_RECV_BATCH * RS_RECV_MAX bytes */
};

struct rs_query {
	struct rs_resolver *r;
	struct rs_question q;
	enum q_state state;
	struct st_list waiters; /* rs_waiter, FIFO */
	size_t n_waiters;
	uint32_t hash;
	uint16_t id;
	int sock;              /* socket of the UDP attempt, -1 otherwise */
	struct rs_out *out;    /* its datagram while it waits for the flush */
	size_t upstream;       /* upstream of the current attempt */
	size_t first_upstream;
	unsigned attempt;      /* packets sent */
	bool truncated;        /* TC seen: further attempts use TCP */
	int local_errno;       /* an attempt failed on our side: RS_ERROR */
	struct rs_tcp *tcp;    /* connection of the TCP attempt, or NULL */
	uint64_t first_sent_us;  /* monotonic, at the first send */
	uint64_t last_sent_us;   /* ... and at the latest attempt's */
	uint64_t pace_seq;     /* the current attempt's stamp (rs_pace.h) */
	bool pace_held;        /* its first attempt holds a place in
				* up[first_upstream].pace */
	struct event *timer;
	struct st_link dedup_link; /* on its dedup bucket while it lives */
	struct st_link id_link;    /* on its ID bucket while UDP is on the wire */
	struct st_link queue_link; /* on the queue while QUEUED */
	struct st_link tcp_link;   /* on tcp->pending while a TCP attempt is */
	struct st_link all_link;   /* on the resolver's all while it lives,
				    * then on its free list */
	struct rs_waiter first;    /* the first asker's: no allocation for
				    * a question asked once */
};

struct rs_resolver {
	struct event_base *base;
	struct rs_config cfg;
	char upstream_text[RS_MAX_UPSTREAMS][64];
	struct rs_upstream up[RS_MAX_UPSTREAMS];
	size_t n_up;
	struct rs_sock socks[RS_MAX_SOCKETS];
	size_t n_socks;
	struct st_list *dedup;   /* buckets of rs_query, via dedup_link */
	size_t dedup_mask;
	struct st_list *idmap;   /* buckets of rs_query, via id_link */
	size_t idmap_mask;
	struct st_list queue;    /* rs_query waiting to be sent (FIFO) */
	struct st_list all;      /* every rs_query alive */
	struct st_list free_q;   /* ended rs_query kept for reuse, with
				  * their timers (query_get/query_put) */
	size_t n_free;
	struct event *drain;
	struct event *flush;     /* sends every socket's waiting datagrams */
	bool flush_armed;        /* flush is active */
	double tokens;
	uint64_t refill_us;      /* monotonic, at the last refill */
	struct rs_stats st;
	struct rs_rx *rx;
	uint8_t rand_pool[RS_RAND_POOL];
	size_t rand_used;
	size_t next_upstream;
	bool closing;
};

static void send_attempt(struct rs_query *qy);
static void pace_note(struct rs_query *qy, enum rs_pace_outcome o);
static void query_put(struct rs_resolver *r, struct rs_query *qy);
static void complete(struct rs_query *qy, enum rs_status status,
		     const struct rs_answer *ans);

void rs_config_default(struct rs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = RS_DEFAULT_TIMEOUT_MS;
	cfg->retries = RS_DEFAULT_RETRIES;
	cfg->qps = RS_DEFAULT_QPS;
	cfg->max_inflight = RS_DEFAULT_MAX_INFLIGHT;
	cfg->edns_size = 1232;
	cfg->n_sockets = 8;
	cfg->tcp_idle_ms = 10000;
	cfg->pace = true;
	cfg->adaptive_timeout = true;
}

const char *rs_status_name(enum rs_status st)
{
	switch (st) {
	case RS_ANSWERED: return "answered";
	case RS_TIMEOUT: return "timeout";
	case RS_ERROR: return "error";
	case RS_CANCELLED: return "cancelled";
	case RS_REFERRAL: return "referral";
	}
	return "unknown";
}

const char *rs_rcode_name(int rcode)
{
	static const char *const names[16] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "RCODE6", "RCODE7", "RCODE8", "RCODE9", "RCODE10",
		"RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
	};

	if (rcode == -1)
		return "NONE";
	if (rcode < 0 || rcode >= 16)
		return "OTHER";
	return names[rcode];
}

/* ---- small helpers ---------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Query IDs come from the kernel CSPRNG, read a pool at a time. */
static uint16_t rand16(struct rs_resolver *r)
{
	uint16_t v;

	if (r->rand_used + 2 > sizeof(r->rand_pool)) {
		size_t got = 0;

		while (got < sizeof(r->rand_pool)) {
			ssize_t n = getrandom(r->rand_pool + got,
					      sizeof(r->rand_pool) - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		r->rand_used = 0;
	}
	memcpy(&v, r->rand_pool + r->rand_used, 2);
	r->rand_used += 2;
	return v;
}

static uint32_t question_hash(const struct rs_question *q)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = q->name; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ q->type) * 16777619u;
	return (h ^ (q->do_bit ? 1u : 0u) ^ (q->ad_bit ? 2u : 0u)) * 16777619u;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1024;

	while (p < n)
		p <<= 1;
	return p;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6 && alen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *x = (const void *)a,
					  *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* Which upstream has this address, or -1. */
static int upstream_of(const struct rs_resolver *r,
		       const struct sockaddr_storage *ss, socklen_t len)
{
	for (size_t i = 0; i < r->n_up; i++) {
		if (same_addr(ss, len, &r->up[i].addr))
			return (int)i;
	}
	return -1;
}

/* "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address. */
static int parse_upstream(const char *text, struct rs_upstream *up)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *colon;
	unsigned long p = 53;
	size_t hlen;

	if (text == NULL || *text == '\0')
		return ST_EINVAL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return ST_EINVAL;
		hlen = (size_t)(close - text - 1);
		if (hlen >= sizeof(host))
			return ST_EINVAL;
		memcpy(host, text + 1, hlen);
		if (close[1] == ':')
			port = close + 2;
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - text);
			port = colon + 1;
		} else {
			hlen = strlen(text); /* no port, or bare IPv6 */
		}
		if (hlen >= sizeof(host))
			return ST_EINVAL;
		memcpy(host, text, hlen);
	}
	host[hlen] = '\0';
	if (port != NULL) {
		char *end = NULL;

		if (*port < '0' || *port > '9')
			return ST_EINVAL;
		p = strtoul(port, &end, 10);
		if (*end != '\0' || p == 0 || p > 65535)
			return ST_EINVAL;
	}
	memset(&up->addr, 0, sizeof(up->addr));
	if (strchr(host, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&up->addr;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return ST_EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		up->addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&up->addr;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return ST_EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		up->addrlen = sizeof(*sin6);
	}
	return ST_OK;
}

/* The nameserver lines of /etc/resolv.conf (resolv.conf(5)). */
static int load_resolv_conf(struct rs_resolver *r)
{
	FILE *fp = fopen("/etc/resolv.conf", "r");
	char line[512];

	if (fp == NULL)
		return ST_ENOENT;
	while (r->n_up < RS_MAX_UPSTREAMS && fgets(line, sizeof(line), fp)) {
		char addr[64];

		if (sscanf(line, " nameserver %63s", addr) != 1 ||
		    strchr(addr, '%') != NULL)
			continue;
		if (parse_upstream(addr, &r->up[r->n_up]) != ST_OK)
			continue;
		snprintf(r->upstream_text[r->n_up], sizeof(r->upstream_text[0]),
			 "%s", addr);
		r->n_up++;
	}
	fclose(fp);
	return r->n_up > 0 ? ST_OK : ST_ENOENT;
}

/* ---- tables ------------------------------------------------------------ */

#define QUERY_OF(k, member) ST_CONTAINER(k, struct rs_query, member)

static struct st_list *dedup_slot(struct rs_resolver *r, uint32_t hash)
{
	return &r->dedup[hash & r->dedup_mask];
}

static void dedup_remove(struct rs_query *qy)
{
	st_list_remove(&qy->dedup_link);
}

static size_t id_bucket(const struct rs_resolver *r, int sock, uint16_t id)
{
	return (((size_t)sock << 16) ^ id ^ ((size_t)id >> 7)) & r->idmap_mask;
}

static struct rs_query *idmap_find(struct rs_resolver *r, int sock, uint16_t id)
{
	struct st_list *b = &r->idmap[id_bucket(r, sock, id)];
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, b) {
		struct rs_query *qy = QUERY_OF(it, id_link);

		if (qy->sock == sock && qy->id == id)
			return qy;
	}
	return NULL;
}

static void idmap_remove(struct rs_query *qy)
{
	st_list_remove(&qy->id_link);
}

static void tcp_arm_idle(struct rs_tcp *tcp)
{
	struct timeval idle = { (time_t)(tcp->r->cfg.tcp_idle_ms / 1000),
				(suseconds_t)(tcp->r->cfg.tcp_idle_ms % 1000) *
					1000 };

	evtimer_add(tcp->idle, &idle);
}

/* The question on tcp with this ID, or NULL. */
static struct rs_query *tcp_find(const struct rs_tcp *tcp, uint16_t id)
{
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, &tcp->pending) {
		struct rs_query *qy = QUERY_OF(it, tcp_link);

		if (qy->id == id)
			return qy;
	}
	return NULL;
}

static void tcp_detach(struct rs_query *qy)
{
	if (qy->tcp == NULL)
		return;
	st_list_remove(&qy->tcp_link);
	/* Nothing left on the connection: close it when idle long enough. */
	if (st_list_empty(&qy->tcp->pending))
		tcp_arm_idle(qy->tcp);
	qy->tcp = NULL;
}

static void queue_remove(struct rs_query *qy)
{
	if (!st_link_linked(&qy->queue_link))
		return;
	st_list_remove(&qy->queue_link);
	qy->r->st.queued--;
}

/* An accepted response ends the question: as an answer, or as a referral
 * (rs_wire_parse() tells them apart), counted on its upstream. */
static void complete_answer(struct rs_query *qy, struct rs_upstream_stats *us,
			    const struct rs_answer *ans)
{
	if (ans->rcode == RS_RCODE_SERVFAIL)
		us->servfail++;
	/* Karn: only an answer to the only attempt sent times the path; the
	 * sample feeds the timeout and the window's delay signal. */
	if (qy->attempt == 1 && !qy->truncated) {
		uint64_t rtt = now_us() - qy->first_sent_us;

		rs_rto_sample(&qy->r->up[qy->upstream].rto, rtt);
		if (qy->r->cfg.pace)
			rs_pace_rtt(&qy->r->up[qy->upstream].pace, rtt);
	}
	pace_note(qy, ans->rcode == RS_RCODE_SERVFAIL ? RS_PACE_SERVFAIL
						       : RS_PACE_GOOD);
	if (ans->referral)
		us->referrals++;
	if (!ans->ra)
		us->no_ra++;
	complete(qy, ans->referral ? RS_REFERRAL : RS_ANSWERED, ans);
}

/* ---- TCP (RFC 7766) ---------------------------------------------------- */

static void tcp_close(struct rs_tcp *tcp)
{
	struct rs_resolver *r = tcp->r;

	/* Questions waiting on it keep their timers: a timeout retries them. */
	while (!st_list_empty(&tcp->pending))
		tcp_detach(QUERY_OF(st_list_first(&tcp->pending), tcp_link));
	r->up[tcp->upstream].tcp = NULL;
	if (tcp->idle != NULL)
		event_free(tcp->idle);
	if (tcp->bev != NULL)
		bufferevent_free(tcp->bev);
	free(tcp);
}

static void tcp_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rs_tcp *tcp = arg;

	(void)fd;
	(void)what;
	if (st_list_empty(&tcp->pending))
		tcp_close(tcp);
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct rs_tcp *tcp = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		ST_DEBUG(tcp->r->cfg.log, LOG_COMP, "TCP to %s closed (0x%x)",
			 tcp->r->upstream_text[tcp->upstream], (unsigned)what);
		tcp_close(tcp);
	}
}

static void tcp_message(struct rs_tcp *tcp, const uint8_t *msg, size_t len)
{
	struct rs_resolver *r = tcp->r;
	struct rs_upstream_stats *us = &r->up[tcp->upstream].st;
	struct rs_query *qy;
	struct rs_answer ans;
	enum rs_wire_verdict v;
	bool enomem;
	uint16_t id;

	if (len < 2) {
		r->st.drop_malformed++;
		us->dropped++;
		return;
	}
	id = (uint16_t)(msg[0] << 8 | msg[1]);
	qy = tcp_find(tcp, id);
	if (qy == NULL) {
		r->st.drop_id++;
		us->dropped++;
		return;
	}
	v = rs_wire_parse(msg, len, id, &qy->q, &ans, &enomem);
	if (v != RS_WIRE_OK) {
		if (v == RS_WIRE_MALFORMED)
			r->st.drop_malformed++;
		else
			r->st.drop_question++;
		us->dropped++;
		return;
	}
	us->answered++;
	complete_answer(qy, us, &ans);
	rs_answer_clear(&ans);
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct rs_tcp *tcp = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		uint8_t hdr[2];
		size_t mlen;
		uint8_t *msg;

		if (evbuffer_copyout(in, hdr, 2) != 2)
			break;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < mlen + 2)
			break;
		evbuffer_drain(in, 2);
		msg = evbuffer_pullup(in, (ev_ssize_t)mlen);
		if (msg == NULL && mlen > 0)
			break;
		tcp_message(tcp, msg, mlen);
		evbuffer_drain(in, mlen);
	}
	if (st_list_empty(&tcp->pending))
		tcp_arm_idle(tcp);
}

/* Errors of our own machine, not of the path or the upstream: a query
 * that meets one ends RS_ERROR at once (with local_errno), never as a
 * timeout, which would read as the name's servers failing. */
static bool local_errno(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM || err == EADDRNOTAVAIL || err == EAGAIN ||
	       err == EWOULDBLOCK;
}

static struct rs_tcp *tcp_open(struct rs_resolver *r, size_t upstream,
			       int *err)
{
	struct rs_upstream *up = &r->up[upstream];
	struct rs_tcp *tcp;

	if (up->tcp != NULL)
		return up->tcp;
	tcp = calloc(1, sizeof(*tcp));
	if (tcp == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	st_list_init(&tcp->pending);
	tcp->r = r;
	tcp->upstream = upstream;
	tcp->idle = evtimer_new(r->base, tcp_idle_cb, tcp);
	tcp->bev = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (tcp->idle == NULL || tcp->bev == NULL)
		goto fail;
	bufferevent_setcb(tcp->bev, tcp_read_cb, NULL, tcp_event_cb, tcp);
	errno = 0;
	/* socket() happens in here: EMFILE and friends come back as -1. */
	if (bufferevent_enable(tcp->bev, EV_READ | EV_WRITE) != 0 ||
	    bufferevent_socket_connect(tcp->bev, (struct sockaddr *)&up->addr,
				       (int)up->addrlen) != 0) {
		*err = errno != 0 ? errno : ENOMEM;
		goto fail;
	}
	up->tcp = tcp;
	return tcp;
fail:
	if (*err == 0)
		*err = ENOMEM;
	if (tcp->idle != NULL)
		event_free(tcp->idle);
	if (tcp->bev != NULL)
		bufferevent_free(tcp->bev);
	free(tcp);
	return NULL;
}

static bool tcp_id_used(const struct rs_tcp *tcp, uint16_t id)
{
	return tcp_find(tcp, id) != NULL;
}

/* Send qy over TCP to its current upstream, with a fresh ID unique on the
 * connection; false if nothing was sent (the attempt's timer retries). */
static bool tcp_send(struct rs_query *qy)
{
	struct rs_resolver *r = qy->r;
	int err = 0;
	struct rs_tcp *tcp = tcp_open(r, qy->upstream, &err);
	uint8_t wire[RS_QUERY_MAX];
	uint8_t hdr[2];
	size_t len = 0;

	if (tcp == NULL) {
		ST_DEBUG(r->cfg.log, LOG_COMP, "TCP to %s: %s",
			 r->upstream_text[qy->upstream], strerror(err));
		if (local_errno(err))
			qy->local_errno = err;
		return false;
	}
	do {
		qy->id = rand16(r);
	} while (tcp_id_used(tcp, qy->id));
	/* Over TCP the message size is not limited by EDNS (RFC 7766 §6.2.2),
	 * but the OPT record still carries DO. */
	if (rs_wire_query_into(&qy->q, qy->id, r->cfg.edns_size, wire, &len) !=
	    ST_OK)
		return false;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	if (bufferevent_write(tcp->bev, hdr, 2) != 0 ||
	    bufferevent_write(tcp->bev, wire, len) != 0)
		return false;
	evtimer_del(tcp->idle);
	qy->tcp = tcp;
	st_list_push_front(&tcp->pending, &qy->tcp_link);
	return true;
}

/* ---- pacing (rs_pace.h): the only calls into it ----------------------- */

/* An attempt of qy went out to qy->upstream: stamp it; a first attempt
 * takes a place in that upstream's window. */
static void pace_sent(struct rs_query *qy)
{
	bool first = qy->attempt == 0 && !qy->truncated; /* before ++ */

	if (!qy->r->cfg.pace)
		return;
	qy->pace_seq = rs_pace_sent(&qy->r->up[qy->upstream].pace, first);
	qy->pace_held = qy->pace_held || first;
}

/* The current attempt of qy ended with o: evidence for its upstream; the
 * first attempt's place goes back, and the queue may move on. */
static void pace_note(struct rs_query *qy, enum rs_pace_outcome o)
{
	struct rs_resolver *r = qy->r;
	bool held = qy->pace_held;

	if (!r->cfg.pace)
		return;
	qy->pace_held = false;
	(void)rs_pace_outcome(&r->up[qy->upstream].pace, qy->pace_seq, held, o);
	if (held && !r->closing)
		event_active(r->drain, EV_TIMEOUT, 0);
}

/* qy ends with nothing learnt (cancelled, a local error): give its place
 * back without a verdict on the upstream. */
static void pace_release(struct rs_query *qy)
{
	if (qy->pace_held)
		rs_pace_release(&qy->r->up[qy->first_upstream].pace);
	qy->pace_held = false;
}

/* May qy be sent now?  Its round-robin upstream if that one's window has
 * room, else the next one that has; false if none has. */
static bool pace_pick(struct rs_resolver *r, struct rs_query *qy)
{
	if (!r->cfg.pace)
		return true;
	for (size_t k = 0; k < r->n_up; k++) {
		size_t u = (qy->first_upstream + k) % r->n_up;

		if (rs_pace_room(&r->up[u].pace)) {
			qy->first_upstream = u;
			return true;
		}
	}
	return false;
}

/* ---- sending and timeouts --------------------------------------------- */

/*
 * UDP datagrams are not sent one sendto() each: udp_send() builds the
 * datagram into its socket's batch, and flush_sock() hands the batch to
 * one sendmmsg() when it is full (before the next datagram joins) or when
 * the loop runs flush_cb(), which the first datagram of a batch activates.  So every question sent in one
 * pass of the loop (a drain of the queue, a round of timers, the answers
 * of one recvmmsg()) leaves in one system call per socket.  A question
 * counts as on the wire (in the ID table, in its upstream's sent) only
 * once the kernel took its datagram; one the kernel refuses is treated as
 * a failed sendto() was: a local errno ends it RS_ERROR at once, any
 * other leaves it to its timer.
 */

/* A question that ends or is retried before the flush leaves its slot
 * empty: flush_sock() skips it. */
static void out_withdraw(struct rs_query *qy)
{
	if (qy->out == NULL)
		return;
	qy->out->qy = NULL;
	qy->out = NULL;
}

/* Whether id is taken on socket sock: on the wire or waiting to be. */
static bool sock_id_used(struct rs_resolver *r, int sock, uint16_t id)
{
	const struct rs_sock *s = &r->socks[sock];

	if (idmap_find(r, sock, id) != NULL)
		return true;
	for (unsigned i = 0; i < s->n_out; i++) {
		if (s->out[i].qy != NULL && s->out[i].qy->id == id)
			return true;
	}
	return false;
}

static void udp_sent(struct rs_resolver *r, struct rs_query *qy)
{
	r->up[qy->upstream].st.sent++;
	st_list_push_front(&r->idmap[id_bucket(r, qy->sock, qy->id)],
			   &qy->id_link);
}

static void udp_failed(struct rs_resolver *r, struct rs_query *qy, int err)
{
	struct timeval now = { 0, 0 };

	ST_DEBUG(r->cfg.log, LOG_COMP, "sendmmsg %s: %s",
		 r->upstream_text[qy->upstream], strerror(err));
	qy->sock = -1;
	if (local_errno(err)) {
		qy->local_errno = err;
		/* Ends RS_ERROR from the loop, as send_attempt() does. */
		evtimer_add(qy->timer, &now);
	}
}

/* Send the datagrams waiting on s, in as few sendmmsg() calls as the
 * kernel allows: one, unless it refuses one of them. */
static void flush_sock(struct rs_resolver *r, struct rs_sock *s)
{
	struct mmsghdr mh[RS_SEND_BATCH];
	struct iovec iov[RS_SEND_BATCH];
	struct rs_query *qys[RS_SEND_BATCH];
	unsigned n = 0, i = 0;

	for (unsigned k = 0; k < s->n_out; k++) {
		struct rs_out *o = &s->out[k];
		struct rs_upstream *up;

		if (o->qy == NULL)
			continue;
		up = &r->up[o->qy->upstream];
		iov[n] = (struct iovec){ o->wire, o->len };
		memset(&mh[n], 0, sizeof(mh[n]));
		mh[n].msg_hdr.msg_name = &up->addr;
		mh[n].msg_hdr.msg_namelen = up->addrlen;
		mh[n].msg_hdr.msg_iov = &iov[n];
		mh[n].msg_hdr.msg_iovlen = 1;
		qys[n++] = o->qy;
		o->qy->out = NULL;
		o->qy = NULL;
	}
	s->n_out = 0;
	while (i < n) {
		int sent = sendmmsg(s->fd, mh + i, n - i, 0);

		r->st.send_calls++;
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0) {
			/* The first one the kernel refused: the rest may go. */
			udp_failed(r, qys[i], sent < 0 ? errno : EIO);
			i++;
			continue;
		}
		for (unsigned k = 0; k < (unsigned)sent; k++)
			udp_sent(r, qys[i + k]);
		i += (unsigned)sent;
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rs_resolver *r = arg;

	(void)fd;
	(void)what;
	r->flush_armed = false;
	for (size_t i = 0; i < r->n_socks; i++) {
		if (r->socks[i].n_out > 0)
			flush_sock(r, &r->socks[i]);
	}
}

/* Put qy's datagram in a random socket's batch (each socket has its own
 * random source port, RFC 5452 §9.2); false if none could be built. */
static bool udp_send(struct rs_query *qy)
{
	struct rs_resolver *r = qy->r;
	struct rs_upstream *up = &r->up[qy->upstream];
	size_t cand[RS_MAX_SOCKETS], n = 0;
	struct rs_sock *s;
	struct rs_out *o;
	int sock;

	for (size_t i = 0; i < r->n_socks; i++) {
		if (r->socks[i].family == up->addr.ss_family)
			cand[n++] = i;
	}
	if (n == 0)
		return false;
	sock = (int)cand[rand16(r) % n];
	s = &r->socks[sock];
	/* A full batch goes before this datagram joins the next one: the
	 * datagrams in it belong to questions whose attempts (and timers)
	 * are set up, which qy's is not yet (send_attempt() arms its timer
	 * after this returns). */
	if (s->n_out == RS_SEND_BATCH)
		flush_sock(r, s);
	do {
		qy->id = rand16(r);
	} while (sock_id_used(r, sock, qy->id));
	o = &s->out[s->n_out];
	if (rs_wire_query_into(&qy->q, qy->id, r->cfg.edns_size, o->wire,
			       &o->len) != ST_OK)
		return false;
	o->qy = qy;
	qy->out = o;
	qy->sock = sock;
	s->n_out++;
	if (!r->flush_armed) {
		r->flush_armed = true;
		event_active(r->flush, EV_TIMEOUT, 0);
	}
	return true;
}

/*
 * How long attempt number qy->attempt (0: the first) to qy->upstream
 * waits: the upstream's learnt retransmission timeout (rs_rto_ms(), the
 * configured timeout its ceiling), doubled per attempt (RFC 6298 §5.5:
 * "back off the timer").  The last attempt waits at least the configured
 * timeout's own doubling, as before: a slow answer (a recursor resolving
 * a cold name, a domain's slow servers) is never cut short for good by a
 * timeout learnt from fast ones; only the earlier, cheap attempts are.
 */
static uint64_t attempt_ms(const struct rs_query *qy)
{
	const struct rs_resolver *r = qy->r;
	unsigned shift = qy->attempt < 10 ? qy->attempt : 10;
	uint64_t ms = (uint64_t)rs_rto_ms(&r->up[qy->upstream].rto,
					  r->cfg.timeout_ms) << shift;
	uint64_t full = (uint64_t)r->cfg.timeout_ms << shift;

	if (!r->cfg.adaptive_timeout || qy->attempt >= r->cfg.retries)
		return full > ms ? full : ms;
	return ms;
}

static void send_attempt(struct rs_query *qy)
{
	struct rs_resolver *r = qy->r;
	uint64_t ms;
	struct timeval tv;
	bool sent;

	qy->upstream = (qy->first_upstream + qy->attempt) % r->n_up;
	ms = attempt_ms(qy);
	tv = (struct timeval){ (time_t)(ms / 1000),
			       (suseconds_t)(ms % 1000) * 1000 };
	if (qy->state == Q_QUEUED) {
		qy->first_sent_us = now_us();
		r->st.inflight++;
		if (r->st.inflight > r->st.inflight_peak)
			r->st.inflight_peak = r->st.inflight;
	}
	qy->last_sent_us = now_us();
	qy->state = qy->truncated ? Q_TCP : Q_UDP;
	qy->sock = -1;
	if (qy->truncated) {
		sent = tcp_send(qy);
		if (sent)
			r->up[qy->upstream].st.sent++;
	} else {
		sent = udp_send(qy); /* counted when flushed */
	}
	pace_sent(qy);
	qy->attempt++;
	if (r->cfg.qps > 0)
		r->tokens -= 1.0; /* retries may run the bucket into debt */
	if (!sent && qy->local_errno != 0)
		tv = (struct timeval){ 0, 0 }; /* ends RS_ERROR from the loop */
	evtimer_add(qy->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rs_query *qy = arg;
	struct rs_resolver *r = qy->r;

	(void)fd;
	(void)what;
	if (qy->local_errno != 0) {
		/* Nothing was learnt about the name: our socket failed. */
		complete(qy, RS_ERROR, NULL);
		return;
	}
	r->up[qy->upstream].st.timeouts++;
	if (qy->attempt == 1 && !qy->truncated)
		rs_rto_timeout(&r->up[qy->upstream].rto,
			       now_us() - qy->first_sent_us);
	pace_note(qy, RS_PACE_TIMEOUT);
	idmap_remove(qy);
	out_withdraw(qy);
	tcp_detach(qy);
	if (qy->attempt <= r->cfg.retries)
		send_attempt(qy);
	else
		complete(qy, RS_TIMEOUT, NULL);
}

/* One datagram from socket s: accept it only if it answers the question
 * sent on s with its ID, from the address and port it was sent to. */
static void udp_datagram(struct rs_sock *s, const uint8_t *buf, size_t len,
			 const struct sockaddr_storage *from, socklen_t fromlen)
{
	struct rs_resolver *r = s->r;
	int from_up = upstream_of(r, from, fromlen);
	struct rs_upstream_stats *us = from_up >= 0 ? &r->up[from_up].st : NULL;
	struct rs_query *qy;
	struct rs_answer ans;
	enum rs_wire_verdict v;
	bool enomem;

	if (len < 2) {
		r->st.drop_malformed++;
		goto dropped;
	}
	qy = idmap_find(r, (int)s->idx, (uint16_t)(buf[0] << 8 | buf[1]));
	if (qy == NULL) {
		r->st.drop_id++;
		goto dropped;
	}
	if (!same_addr(from, fromlen, &r->up[qy->upstream].addr)) {
		r->st.drop_source++;
		goto dropped;
	}
	us = &r->up[qy->upstream].st;
	v = rs_wire_parse(buf, len, qy->id, &qy->q, &ans, &enomem);
	if (v == RS_WIRE_MALFORMED && enomem) {
		complete(qy, RS_ERROR, NULL);
		return;
	}
	if (v != RS_WIRE_OK) {
		if (v == RS_WIRE_MALFORMED)
			r->st.drop_malformed++;
		else
			r->st.drop_question++;
		goto dropped;
	}
	us->answered++;
	if (ans.tc) {
		/* RFC 7766 §5: retry the same upstream over TCP at once. */
		rs_answer_clear(&ans);
		us->tcp++;
		idmap_remove(qy);
		evtimer_del(qy->timer);
		qy->truncated = true;
		qy->attempt--; /* the same attempt, to the same upstream */
		send_attempt(qy);
		return;
	}
	complete_answer(qy, us, &ans);
	rs_answer_clear(&ans);
	return;
dropped:
	if (us != NULL)
		us->dropped++;
}

/* Up to RS_RECV_ROUNDS recvmmsg() calls of RS_RECV_BATCH datagrams each:
 * the answers of a burst in few system calls, without starving the other
 * sockets and timers of the loop. */
static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rs_sock *s = arg;
	struct rs_resolver *r = s->r;
	struct rs_rx *rx = r->rx;

	(void)what;
	for (int round = 0; round < RS_RECV_ROUNDS; round++) {
		int n;

		for (size_t i = 0; i < RS_RECV_BATCH; i++) {
			rx->iov[i] = (struct iovec){ rx->buf + i * RS_RECV_MAX,
						     RS_RECV_MAX };
			memset(&rx->mh[i], 0, sizeof(rx->mh[i]));
			rx->mh[i].msg_hdr.msg_name = &rx->from[i];
			rx->mh[i].msg_hdr.msg_namelen = sizeof(rx->from[i]);
			rx->mh[i].msg_hdr.msg_iov = &rx->iov[i];
			rx->mh[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, rx->mh, RS_RECV_BATCH, 0, NULL);
		r->st.recv_calls++;
		if (n <= 0)
			break; /* EAGAIN, or an ICMP error: the timer retries */
		for (int i = 0; i < n; i++)
			udp_datagram(s, rx->buf + (size_t)i * RS_RECV_MAX,
				     rx->mh[i].msg_len, &rx->from[i],
				     rx->mh[i].msg_hdr.msg_namelen);
		if (n < RS_RECV_BATCH)
			break;
	}
}

/* ---- completion and scheduling ---------------------------------------- */

static void complete(struct rs_query *qy, enum rs_status status,
		     const struct rs_answer *ans)
{
	struct rs_resolver *r = qy->r;
	struct rs_result res;
	struct rs_waiter *w;

	dedup_remove(qy);
	idmap_remove(qy);
	out_withdraw(qy);
	tcp_detach(qy);
	pace_release(qy);
	if (qy->state == Q_QUEUED)
		queue_remove(qy);
	else
		r->st.inflight--;
	evtimer_del(qy->timer);
	st_list_remove(&qy->all_link);

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.qname = qy->q.name;
	res.qtype = qy->q.type;
	res.rcode = -1;
	res.upstream = -1;
	res.attempts = qy->attempt;
	if (status == RS_ERROR)
		res.local_errno = qy->local_errno;
	if (qy->state != Q_QUEUED)
		res.latency_us = (uint32_t)(now_us() - qy->first_sent_us);
	if (status == RS_TIMEOUT && qy->state != Q_QUEUED)
		res.last_wait_us = (uint32_t)(now_us() - qy->last_sent_us);
	if (ans != NULL) {
		res.rcode = ans->rcode;
		res.nodata = ans->nodata;
		res.ad = ans->ad;
		res.ra = ans->ra;
		res.aa = ans->aa;
		res.referral_zone = ans->referral ? ans->referral_zone : NULL;
		res.truncated = qy->truncated;
		res.cname_chain = (const char *const *)ans->cname;
		res.n_cname = ans->n_cname;
		res.rrs = ans->rrs;
		res.n_rrs = ans->n_rrs;
		res.min_ttl = ans->min_ttl;
		res.upstream = (int)qy->upstream;
	}
	if (status == RS_TIMEOUT)
		r->st.timeouts++;
	/* Callbacks may submit new questions: qy is out of every table. */
	while (!st_list_empty(&qy->waiters)) {
		w = ST_CONTAINER(st_list_pop_front(&qy->waiters),
				 struct rs_waiter, link);
		r->st.completed++;
		w->cb(&res, w->arg);
		if (w != &qy->first)
			free(w);
	}
	query_put(r, qy);
	if (!r->closing)
		event_active(r->drain, EV_TIMEOUT, 0);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rs_resolver *r = arg;

	(void)fd;
	(void)what;
	if (r->cfg.qps > 0) {
		uint64_t now = now_us();
		double burst = r->cfg.qps / 100.0 > 1.0 ? r->cfg.qps / 100.0 : 1.0;

		r->tokens += (double)(now - r->refill_us) * r->cfg.qps / 1e6;
		if (r->tokens > burst)
			r->tokens = burst;
		r->refill_us = now;
	}
	while (!st_list_empty(&r->queue) &&
	       r->st.inflight < r->cfg.max_inflight) {
		struct rs_query *qy = QUERY_OF(st_list_first(&r->queue),
					       queue_link);

		if (r->cfg.qps > 0 && r->tokens < 1.0) {
			double wait_us = (1.0 - r->tokens) * 1e6 / r->cfg.qps;
			struct timeval tv = { 0, (suseconds_t)wait_us + 1 };

			if (wait_us >= 1e6) {
				tv.tv_sec = (time_t)(wait_us / 1e6);
				tv.tv_usec = (suseconds_t)(wait_us -
							   (double)tv.tv_sec * 1e6);
			}
			evtimer_add(r->drain, &tv);
			return;
		}
		if (!pace_pick(r, qy))
			return; /* every window full: a completion drains */
		st_list_remove(&qy->queue_link);
		r->st.queued--;
		send_attempt(qy);
	}
}

/*
 * Questions are pooled: an ended one keeps its timer event and goes on
 * the free list (at most max_inflight of them), so a steady scan makes
 * no allocation per question (the first asker's waiter is inside it).
 */
static struct rs_query *query_get(struct rs_resolver *r)
{
	struct rs_query *qy;
	struct event *timer;

	if (!st_list_empty(&r->free_q)) {
		qy = QUERY_OF(st_list_pop_front(&r->free_q), all_link);
		r->n_free--;
		timer = qy->timer; /* its argument is qy: still right */
		memset(qy, 0, sizeof(*qy));
		qy->timer = timer;
		return qy;
	}
	qy = calloc(1, sizeof(*qy));
	if (qy == NULL)
		return NULL;
	r->st.query_allocs++;
	qy->timer = evtimer_new(r->base, timer_cb, qy);
	if (qy->timer == NULL) {
		free(qy);
		return NULL;
	}
	return qy;
}

/* qy is out of every table and its timer is not pending. */
static void query_put(struct rs_resolver *r, struct rs_query *qy)
{
	if (!r->closing && r->n_free < r->cfg.max_inflight) {
		st_list_push_front(&r->free_q, &qy->all_link);
		r->n_free++;
		return;
	}
	event_free(qy->timer);
	free(qy);
}

/* The live question asking the same as q, or NULL. */
static struct rs_query *dedup_find(struct rs_resolver *r, uint32_t hash,
				   const struct rs_question *q)
{
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, dedup_slot(r, hash)) {
		struct rs_query *qy = QUERY_OF(it, dedup_link);

		if (qy->hash == hash && qy->q.type == q->type &&
		    qy->q.do_bit == q->do_bit && qy->q.ad_bit == q->ad_bit &&
		    strcmp(qy->q.name, q->name) == 0)
			return qy;
	}
	return NULL;
}

int rs_submit(struct rs_resolver *r, const char *name, uint16_t type,
	      unsigned flags, rs_callback cb, void *arg)
{
	struct rs_question q;
	struct rs_waiter *w;
	struct rs_query *qy;
	uint32_t hash;

	if (r == NULL || cb == NULL || r->closing ||
	    rs_question_init(&q, name, type, (flags & RS_FLAG_DO) != 0) != ST_OK)
		return ST_EINVAL;
	q.ad_bit = (flags & RS_FLAG_AD) != 0;
	hash = question_hash(&q);
	qy = dedup_find(r, hash, &q);
	if (qy != NULL) {
		w = calloc(1, sizeof(*w));
		if (w == NULL)
			return ST_ENOMEM;
		w->cb = cb;
		w->arg = arg;
		st_list_push_back(&qy->waiters, &w->link);
		qy->n_waiters++;
		r->st.submitted++;
		r->st.coalesced++;
		return ST_OK;
	}
	qy = query_get(r);
	if (qy == NULL)
		return ST_ENOMEM;
	w = &qy->first;
	w->cb = cb;
	w->arg = arg;
	qy->r = r;
	qy->q = q;
	qy->hash = hash;
	qy->state = Q_QUEUED;
	qy->sock = -1;
	st_list_init(&qy->waiters);
	st_list_push_back(&qy->waiters, &w->link);
	qy->n_waiters = 1;
	qy->first_upstream = r->next_upstream++ % r->n_up;
	st_list_push_front(dedup_slot(r, hash), &qy->dedup_link);
	st_list_push_front(&r->all, &qy->all_link);
	st_list_push_back(&r->queue, &qy->queue_link);
	r->st.queued++;
	r->st.submitted++;
	/* Never send from inside rs_submit: the loop runs the queue. */
	event_active(r->drain, EV_TIMEOUT, 0);
	return ST_OK;
}

/* ---- life cycle --------------------------------------------------------- */

static int open_sockets(struct rs_resolver *r)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t f = 0; f < 2; f++) {
		bool used = false;

		for (size_t i = 0; i < r->n_up; i++)
			used = used || r->up[i].addr.ss_family == families[f];
		for (unsigned k = 0; used && k < r->cfg.n_sockets; k++) {
			struct rs_sock *s = &r->socks[r->n_socks];
			/* Port 0: the kernel picks a random ephemeral port. */
			s->fd = socket(families[f],
				       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (s->fd < 0)
				return ST_EIO;
			/* A deep receive queue absorbs bursts of answers: an
			 * overflow is a lost answer and a full timeout. */
			(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF,
					 &(int){ RS_RCVBUF }, sizeof(int));
			s->family = families[f];
			s->r = r;
			s->idx = r->n_socks;
			s->n_out = 0;
			s->out = calloc(RS_SEND_BATCH, sizeof(*s->out));
			s->ev = event_new(r->base, s->fd, EV_READ | EV_PERSIST,
					  udp_read_cb, s);
			if (s->out == NULL || s->ev == NULL ||
			    event_add(s->ev, NULL) != 0) {
				if (s->ev != NULL)
					event_free(s->ev);
				free(s->out);
				close(s->fd);
				return ST_ENOMEM;
			}
			r->n_socks++;
		}
	}
	return ST_OK;
}

static int setup(struct rs_resolver *r, const struct rs_config *cfg)
{
	int ret;

	if (cfg->timeout_ms == 0 || cfg->max_inflight == 0 ||
	    cfg->n_sockets == 0 || cfg->n_sockets > RS_MAX_SOCKETS / 2 ||
	    cfg->n_upstreams > RS_MAX_UPSTREAMS)
		return ST_EINVAL;
	r->cfg = *cfg;
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		ret = parse_upstream(cfg->upstreams[i], &r->up[i]);
		if (ret != ST_OK)
			return ret;
		snprintf(r->upstream_text[i], sizeof(r->upstream_text[0]), "%s",
			 cfg->upstreams[i]);
		r->n_up++;
	}
	if (r->n_up == 0) {
		ret = load_resolv_conf(r);
		if (ret != ST_OK)
			return ret;
	}
	for (size_t i = 0; i < RS_MAX_UPSTREAMS; i++)
		r->cfg.upstreams[i] = i < r->n_up ? r->upstream_text[i] : NULL;
	r->cfg.n_upstreams = r->n_up;
	for (size_t i = 0; i < r->n_up; i++) {
		rs_pace_init(&r->up[i].pace, cfg->max_inflight);
		rs_rto_init(&r->up[i].rto);
	}
	r->dedup_mask = pow2_at_least(2 * (size_t)cfg->max_inflight) - 1;
	r->idmap_mask = r->dedup_mask;
	r->dedup = calloc(r->dedup_mask + 1, sizeof(*r->dedup));
	r->idmap = calloc(r->idmap_mask + 1, sizeof(*r->idmap));
	r->rx = calloc(1, sizeof(*r->rx));
	if (r->rx != NULL)
		r->rx->buf = malloc((size_t)RS_RECV_BATCH * RS_RECV_MAX);
	r->drain = evtimer_new(r->base, drain_cb, r);
	r->flush = event_new(r->base, -1, 0, flush_cb, r);
	if (r->dedup == NULL || r->idmap == NULL || r->rx == NULL ||
	    r->rx->buf == NULL || r->drain == NULL || r->flush == NULL)
		return ST_ENOMEM;
	for (size_t i = 0; i <= r->dedup_mask; i++)
		st_list_init(&r->dedup[i]);
	for (size_t i = 0; i <= r->idmap_mask; i++)
		st_list_init(&r->idmap[i]);
	r->rand_used = sizeof(r->rand_pool); /* fill on first use */
	r->tokens = 1.0;
	r->refill_us = now_us();
	return open_sockets(r);
}

int rs_resolver_new(struct event_base *base, const struct rs_config *cfg,
		    struct rs_resolver **out)
{
	struct rs_resolver *r;
	int ret;

	if (base == NULL || cfg == NULL || out == NULL)
		return ST_EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ST_ENOMEM;
	st_list_init(&r->queue);
	st_list_init(&r->all);
	st_list_init(&r->free_q);
	r->base = base;
	ret = setup(r, cfg);
	if (ret != ST_OK) {
		rs_resolver_free(r);
		return ret;
	}
	*out = r;
	return ST_OK;
}

void rs_resolver_free(struct rs_resolver *r)
{
	if (r == NULL)
		return;
	r->closing = true;
	while (!st_list_empty(&r->all))
		complete(QUERY_OF(st_list_first(&r->all), all_link),
			 RS_CANCELLED, NULL);
	while (!st_list_empty(&r->free_q)) {
		struct rs_query *qy = QUERY_OF(st_list_pop_front(&r->free_q),
					       all_link);

		event_free(qy->timer);
		free(qy);
	}
	for (size_t i = 0; i < r->n_up; i++) {
		if (r->up[i].tcp != NULL)
			tcp_close(r->up[i].tcp);
	}
	for (size_t i = 0; i < r->n_socks; i++) {
		event_free(r->socks[i].ev);
		free(r->socks[i].out);
		close(r->socks[i].fd);
	}
	if (r->drain != NULL)
		event_free(r->drain);
	if (r->flush != NULL)
		event_free(r->flush);
	free(r->dedup);
	free(r->idmap);
	if (r->rx != NULL)
		free(r->rx->buf);
	free(r->rx);
	free(r);
}

void rs_resolver_stats(const struct rs_resolver *r, struct rs_stats *out)
{
	*out = r->st;
	out->n_upstreams = r->n_up;
	for (size_t i = 0; i < r->n_up; i++) {
		out->upstream[i] = r->up[i].st;
		out->upstream[i].pace_window = rs_pace_window(&r->up[i].pace);
		out->upstream[i].pace_window_low =
			(unsigned)r->up[i].pace.window_low;
		out->upstream[i].pace_backoffs = r->up[i].pace.backoffs;
		out->upstream[i].pace_delay_cuts = r->up[i].pace.delay_cuts;
		out->upstream[i].rto_ms = rs_rto_ms(&r->up[i].rto,
						    r->cfg.timeout_ms);
		snprintf(out->upstream[i].addr, sizeof(out->upstream[i].addr),
			 "%s", r->upstream_text[i]);
	}
}

size_t rs_resolver_pending(const struct rs_resolver *r)
{
	return r->st.inflight + r->st.queued;
}

int rs_upstream_check(const char *text)
{
	struct rs_upstream up;

	return parse_upstream(text, &up);
}
