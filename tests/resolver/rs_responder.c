/*
 * rs_responder.c - the hostile DNS responder of the resolver's tests: UDP
 * and TCP on one loopback port, on the test's event_base.  The contract is
 * in rs_responder.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <ldns/ldns.h>

#include "rs_responder.h"
#include "st_error.h"

/* Bytes to send later: a datagram to to, or (c set) a TCP write. */
struct rsp_delayed {
	struct rsp_delayed *next;
	struct responder *rsp;
	struct rsp_conn *c;
	struct event *ev;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint8_t *wire;
	size_t len;
};

struct rsp_conn {
	struct rsp_conn *next;
	struct responder *rsp;
	struct bufferevent *bev;
};

uint64_t rsp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rsp_rand(struct responder *rsp)
{
	rsp->rng ^= rsp->rng << 13;
	rsp->rng ^= rsp->rng >> 7;
	rsp->rng ^= rsp->rng << 17;
	return rsp->rng;
}

static void rsp_sendto(struct responder *rsp, evutil_socket_t fd,
		       const struct sockaddr_storage *to, socklen_t tolen,
		       const void *buf, size_t len)
{
	if (sendto(fd, buf, len, 0, (const struct sockaddr *)to, tolen) < 0)
		rsp->errors++;
}

/* Log the query; false if it is not a one-question query. */
static bool rsp_record(struct responder *rsp, const ldns_pkt *query,
		       const struct sockaddr_storage *from)
{
	const ldns_rr_list *ql = ldns_pkt_question(query);
	struct rsp_query *rec;
	char *s;
	size_t n;

	if (ldns_pkt_qr(query) || ql == NULL || ldns_rr_list_rr_count(ql) != 1)
		return false;
	if (rsp->n_q == rsp->cap_q) {
		size_t cap = rsp->cap_q ? rsp->cap_q * 2 : 64;
		struct rsp_query *nq = realloc(rsp->q, cap * sizeof(*nq));

		if (nq == NULL) {
			rsp->errors++;
			return false;
		}
		rsp->q = nq;
		rsp->cap_q = cap;
	}
	rec = &rsp->q[rsp->n_q++];
	memset(rec, 0, sizeof(*rec));
	rec->id = ldns_pkt_id(query);
	rec->qtype = (uint16_t)ldns_rr_get_type(ldns_rr_list_rr(ql, 0));
	rec->tcp = from == NULL;
	if (from != NULL)
		rec->port = ntohs(from->ss_family == AF_INET6
			? ((const struct sockaddr_in6 *)from)->sin6_port
			: ((const struct sockaddr_in *)from)->sin_port);
	rec->rd = ldns_pkt_rd(query);
	rec->do_bit = ldns_pkt_edns_do(query);
	rec->edns_size = ldns_pkt_edns(query) ? ldns_pkt_edns_udp_size(query)
					      : 0;
	rec->t_us = rsp_now_us();
	s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ql, 0)));
	if (s == NULL) {
		rsp->errors++;
		return true;
	}
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	snprintf(rec->qname, sizeof(rec->qname), "%s", s);
	free(s);
	return true;
}

/* The answer to query per the behaviour; with tc, TC set and no records. */
static ldns_pkt *rsp_answer_pkt(struct responder *rsp, const ldns_pkt *query,
				bool tc)
{
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q2;

	if (p == NULL)
		return NULL;
	ldns_pkt_set_id(p, ldns_pkt_id(query));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(p, ldns_pkt_rd(query));
	ldns_pkt_set_ra(p, !rsp->beh.no_ra);
	ldns_pkt_set_aa(p, rsp->beh.aa);
	ldns_pkt_set_ad(p, rsp->beh.ad);
	ldns_pkt_set_tc(p, tc);
	ldns_pkt_set_rcode(p, (uint8_t)rsp->beh.rcode);
	q2 = ldns_rr_clone(qrr);
	if (q2 == NULL)
		goto fail;
	if (rsp->beh.upcase_qname) {
		/* Label lengths are < 64 and so never in 'a'..'z'. */
		uint8_t *d = ldns_rdf_data(ldns_rr_owner(q2));

		for (size_t i = 0; i < ldns_rdf_size(ldns_rr_owner(q2)); i++)
			if (d[i] >= 'a' && d[i] <= 'z')
				d[i] = (uint8_t)(d[i] - 'a' + 'A');
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q2);
	for (size_t i = 0; !tc && i < RSP_MAX_RRS && rsp->beh.rrs[i]; i++) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_str(&rr, rsp->beh.rrs[i], 0,
						     ldns_rr_owner(qrr), NULL);

		if (st != LDNS_STATUS_OK) {
			fprintf(stderr, "responder: bad RR \"%.60s\": %s\n",
				rsp->beh.rrs[i], ldns_get_errorstr_by_id(st));
			goto fail;
		}
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; !tc && i < RSP_MAX_RRS && rsp->beh.authority[i];
	     i++) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_str(&rr, rsp->beh.authority[i],
						     0, ldns_rr_owner(qrr),
						     NULL);

		if (st != LDNS_STATUS_OK) {
			fprintf(stderr, "responder: bad RR \"%.60s\": %s\n",
				rsp->beh.authority[i],
				ldns_get_errorstr_by_id(st));
			goto fail;
		}
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	return p;
fail:
	rsp->errors++;
	ldns_pkt_free(p);
	return NULL;
}

/* Length of the question section of an uncompressed query, or 0. */
static size_t question_len(const uint8_t *q, size_t len)
{
	size_t pos = LDNS_HEADER_SIZE;

	while (pos < len && q[pos] != 0) {
		if (q[pos] >= 0x40)
			return 0;
		pos += (size_t)q[pos] + 1;
	}
	if (pos + 5 > len)
		return 0;
	return pos + 5 - LDNS_HEADER_SIZE;
}

/* RFC 1035 §4.1.4: a compression pointer to offset off. */
static void put_ptr(uint8_t *p, size_t off)
{
	p[0] = (uint8_t)(0xc0 | (off >> 8));
	p[1] = (uint8_t)(off & 0xff);
}

/* A response with a compression loop, hand-made: the parts of the message
 * around the loop are valid, so only the loop can make it unparsable. */
static size_t craft_ptr_loop(enum rsp_decoy d, const uint8_t *qw, size_t qlen,
			     uint8_t *out, size_t cap)
{
	static const uint8_t rr_tail_a[] = { 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
					     192, 0, 2, 1 };
	static const uint8_t rr_tail_cname[] = { 0, 5, 0, 1, 0, 0, 0, 60, 0, 2 };
	size_t ql = question_len(qw, qlen), pos = LDNS_HEADER_SIZE;

	if (ql == 0 || LDNS_HEADER_SIZE + ql + 32 > cap)
		return 0;
	memset(out, 0, LDNS_HEADER_SIZE);
	out[0] = qw[0];
	out[1] = qw[1];
	out[2] = 0x81; /* QR, RD */
	out[3] = 0x80; /* RA */
	out[5] = 1;    /* QDCOUNT */
	if (d == DECOY_PTR_QNAME) {
		put_ptr(out + pos, pos);
		memcpy(out + pos + 2, qw + LDNS_HEADER_SIZE + ql - 4, 4);
		return pos + 6;
	}
	out[7] = 1; /* ANCOUNT */
	memcpy(out + pos, qw + LDNS_HEADER_SIZE, ql);
	pos += ql;
	if (d == DECOY_PTR_OWNER) {
		put_ptr(out + pos, pos);
		memcpy(out + pos + 2, rr_tail_a, sizeof(rr_tail_a));
		return pos + 2 + sizeof(rr_tail_a);
	}
	put_ptr(out + pos, LDNS_HEADER_SIZE); /* owner: the qname */
	pos += 2;
	memcpy(out + pos, rr_tail_cname, sizeof(rr_tail_cname));
	pos += sizeof(rr_tail_cname);
	put_ptr(out + pos, pos);
	return pos + 2;
}

/* ans with its question changed to another name or another type. */
static void rsp_send_other_question(struct responder *rsp, const ldns_pkt *ans,
				    bool other_name,
				    const struct sockaddr_storage *to,
				    socklen_t tolen)
{
	ldns_pkt *p = ldns_pkt_clone(ans);
	ldns_rr *q;
	uint8_t *wire = NULL;
	size_t len = 0;

	if (p == NULL) {
		rsp->errors++;
		return;
	}
	q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	if (other_name) {
		ldns_rdf *old = ldns_rr_owner(q);

		ldns_rr_set_owner(q, ldns_dname_new_frm_str("decoy.example."));
		ldns_rdf_deep_free(old);
	} else {
		ldns_rr_set_type(q, ldns_rr_get_type(q) == LDNS_RR_TYPE_A
					    ? LDNS_RR_TYPE_AAAA
					    : LDNS_RR_TYPE_A);
	}
	if (ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK)
		rsp_sendto(rsp, rsp->udp, to, tolen, wire, len);
	else
		rsp->errors++;
	free(wire);
	ldns_pkt_free(p);
}

/* The answer, from the right address, to a source port of an earlier query
 * that is not this one's: right ID, wrong socket. */
static void rsp_send_elsewhere(struct responder *rsp, const uint8_t *aw,
			       size_t alen, const struct sockaddr_storage *to,
			       socklen_t tolen)
{
	uint16_t port = rsp->q[rsp->n_q - 1].port;
	struct sockaddr_storage other = *to;

	for (size_t i = rsp->n_q; i-- > 0;) {
		if (rsp->q[i].tcp || rsp->q[i].port == port)
			continue;
		if (other.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&other)->sin6_port =
				htons(rsp->q[i].port);
		else
			((struct sockaddr_in *)&other)->sin_port =
				htons(rsp->q[i].port);
		rsp_sendto(rsp, rsp->udp, &other, tolen, aw, alen);
		return;
	}
	rsp->n_decoys--; /* no other socket seen yet */
}

static void rsp_send_decoy(struct responder *rsp, const uint8_t *qw,
			   size_t qlen, const ldns_pkt *ans, uint8_t *aw,
			   size_t alen, const struct sockaddr_storage *to,
			   socklen_t tolen)
{
	uint8_t buf[1024];
	size_t n;

	rsp->n_decoys++;
	switch (rsp->beh.decoy) {
	case DECOY_NONE:
		rsp->n_decoys--;
		break;
	case DECOY_WRONG_ID:
		buf[0] = aw[0];
		buf[1] = aw[1];
		n = (((size_t)aw[0] << 8 | aw[1]) + 1) & 0xffff;
		aw[0] = (uint8_t)(n >> 8);
		aw[1] = (uint8_t)n;
		rsp_sendto(rsp, rsp->udp, to, tolen, aw, alen);
		aw[0] = buf[0];
		aw[1] = buf[1];
		break;
	case DECOY_WRONG_QNAME:
	case DECOY_WRONG_QTYPE:
		rsp_send_other_question(rsp, ans,
					rsp->beh.decoy == DECOY_WRONG_QNAME,
					to, tolen);
		break;
	case DECOY_OTHER_PORT:
		rsp_sendto(rsp, rsp->udp_other, to, tolen, aw, alen);
		break;
	case DECOY_DUPLICATE:
		rsp_sendto(rsp, rsp->udp, to, tolen, aw, alen);
		break;
	case DECOY_OTHER_SOCKET:
		rsp_send_elsewhere(rsp, aw, alen, to, tolen);
		break;
	case DECOY_GARBAGE:
		for (size_t i = 0; i < 40; i++)
			buf[i] = (uint8_t)rsp_rand(rsp);
		buf[0] = qw[0];
		buf[1] = qw[1];
		/* A response claiming 32767 answers in 28 bytes: random
		 * bytes, but never parsable, whatever the seed. */
		buf[2] = 0x81;
		buf[3] = 0x80;
		buf[4] = 0;
		buf[5] = 1;
		buf[6] = 0x7f;
		buf[7] = 0xff;
		rsp_sendto(rsp, rsp->udp, to, tolen, buf, 40);
		break;
	case DECOY_PTR_OWNER:
	case DECOY_PTR_QNAME:
	case DECOY_PTR_RDATA:
		n = craft_ptr_loop(rsp->beh.decoy, qw, qlen, buf, sizeof(buf));
		if (n == 0)
			rsp->errors++;
		else
			rsp_sendto(rsp, rsp->udp, to, tolen, buf, n);
		break;
	case DECOY_QUERY_ECHO:
		rsp_sendto(rsp, rsp->udp, to, tolen, qw, qlen);
		break;
	case DECOY_CUT7:
		rsp_sendto(rsp, rsp->udp, to, tolen, aw, 7);
		break;
	case DECOY_CUT_HALF:
		rsp_sendto(rsp, rsp->udp, to, tolen, aw, alen / 2);
		break;
	}
}

static void rsp_answer_sent(struct responder *rsp)
{
	rsp->n_answers++;
	if (rsp->outstanding > 0)
		rsp->outstanding--;
}

static void rsp_delayed_free(struct rsp_delayed *d)
{
	struct rsp_delayed **pp;

	for (pp = &d->rsp->delayed; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	event_free(d->ev);
	free(d->wire);
	free(d);
}

static void rsp_delayed_fire(evutil_socket_t fd, short what, void *arg)
{
	struct rsp_delayed *d = arg;
	struct responder *rsp = d->rsp;

	(void)fd;
	(void)what;
	if (d->c != NULL) {
		if (bufferevent_write(d->c->bev, d->wire, d->len) != 0)
			rsp->errors++;
	} else {
		rsp_sendto(rsp, rsp->udp, &d->to, d->tolen, d->wire, d->len);
		rsp_answer_sent(rsp);
	}
	rsp_delayed_free(d);
}

/* Send len bytes of wire after ms: over TCP on c, or (c NULL) as a
 * datagram to to. */
static void rsp_later(struct responder *rsp, unsigned ms, struct rsp_conn *c,
		      const uint8_t *wire, size_t len,
		      const struct sockaddr_storage *to, socklen_t tolen)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };
	struct rsp_delayed *d = calloc(1, sizeof(*d));

	if (d == NULL)
		goto fail;
	d->wire = malloc(len);
	d->ev = evtimer_new(rsp->base, rsp_delayed_fire, d);
	if (d->wire == NULL || d->ev == NULL || evtimer_add(d->ev, &tv) != 0)
		goto fail;
	memcpy(d->wire, wire, len);
	d->len = len;
	d->rsp = rsp;
	d->c = c;
	if (to != NULL)
		d->to = *to;
	d->tolen = tolen;
	d->next = rsp->delayed;
	rsp->delayed = d;
	return;
fail:
	rsp->errors++;
	if (d != NULL && d->ev != NULL)
		event_free(d->ev);
	if (d != NULL)
		free(d->wire);
	free(d);
}

static void rsp_conn_free(struct rsp_conn *c)
{
	struct rsp_conn **pp;
	struct rsp_delayed *d = c->rsp->delayed, *next;

	for (; d != NULL; d = next) {
		next = d->next;
		if (d->c == c)
			rsp_delayed_free(d);
	}
	for (pp = &c->rsp->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	bufferevent_free(c->bev);
	free(c);
}

/* TCP_CLOSE_AFTER: close once the answer has left. */
static void rsp_tcp_written(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		rsp_conn_free(arg);
}

/* RFC 1035 §4.2.2: over TCP a message has a two-byte length prefix. */
static void rsp_tcp_reply(struct responder *rsp, struct rsp_conn *c,
			  const uint8_t *aw, size_t alen)
{
	uint8_t *frame = malloc(alen + 2);

	rsp->n_answers++;
	if (frame == NULL) {
		rsp->errors++;
		return;
	}
	frame[0] = (uint8_t)(alen >> 8);
	frame[1] = (uint8_t)alen;
	memcpy(frame + 2, aw, alen);
	if (rsp->beh.tcp == TCP_SPLIT) {
		/* 1 byte now, 2 bytes in 5 ms, the rest in 10 ms. */
		if (bufferevent_write(c->bev, frame, 1) != 0)
			rsp->errors++;
		rsp_later(rsp, 5, c, frame + 1, 2, NULL, 0);
		rsp_later(rsp, 10, c, frame + 3, alen - 1, NULL, 0);
	} else if (bufferevent_write(c->bev, frame, alen + 2) != 0) {
		rsp->errors++;
	}
	if (rsp->beh.tcp == TCP_CLOSE_AFTER)
		bufferevent_setcb(c->bev, NULL, rsp_tcp_written, NULL, c);
	free(frame);
}

/* Does the last query logged end with beh.silent_suffix? */
static bool rsp_name_silent(const struct responder *rsp)
{
	const char *suf = rsp->beh.silent_suffix;
	size_t n, k;

	if (suf == NULL || rsp->n_q == 0)
		return false;
	n = strlen(rsp->q[rsp->n_q - 1].qname);
	k = strlen(suf);
	return n >= k && strcmp(rsp->q[rsp->n_q - 1].qname + n - k, suf) == 0;
}

/* One query, from UDP (c NULL: reply to from) or from TCP connection c. */
static void rsp_on_query(struct responder *rsp, struct rsp_conn *c,
			 const uint8_t *qw, size_t qlen,
			 const struct sockaddr_storage *from, socklen_t fromlen)
{
	ldns_pkt *query = NULL, *ans = NULL;
	uint8_t *aw = NULL;
	size_t alen = 0;

	if (ldns_wire2pkt(&query, qw, qlen) != LDNS_STATUS_OK) {
		rsp->errors++;
		return;
	}
	if (!rsp_record(rsp, query, c != NULL ? NULL : from))
		goto cleanup;
	if (rsp->script != NULL)
		rsp->script(rsp->script_arg, &rsp->q[rsp->n_q - 1], &rsp->beh);
	/* TCP always gets the full answer: that is what TC asks for. */
	ans = rsp_answer_pkt(rsp, query, c == NULL && rsp->beh.mode == RSP_TC);
	if (ans == NULL)
		goto cleanup;
	if (ldns_pkt2wire(&aw, ans, &alen) != LDNS_STATUS_OK || alen > 65535) {
		rsp->errors++;
		goto cleanup;
	}
	if (c != NULL) {
		if (rsp->beh.tcp != TCP_SILENT)
			rsp_tcp_reply(rsp, c, aw, alen);
		goto cleanup;
	}
	rsp_send_decoy(rsp, qw, qlen, ans, aw, alen, from, fromlen);
	if (rsp->beh.mode == RSP_SILENT || rsp_name_silent(rsp))
		goto cleanup;
	if (++rsp->outstanding > rsp->max_outstanding)
		rsp->max_outstanding = rsp->outstanding;
	if (rsp->beh.delay_ms > 0) {
		rsp_later(rsp, rsp->beh.delay_ms, NULL, aw, alen, from, fromlen);
	} else {
		rsp_sendto(rsp, rsp->udp, from, fromlen, aw, alen);
		rsp_answer_sent(rsp);
	}
cleanup:
	free(aw);
	ldns_pkt_free(ans);
	ldns_pkt_free(query);
}

static void rsp_on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct responder *rsp = arg;

	(void)what;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, rsp->buf, sizeof(rsp->buf), 0,
				     (struct sockaddr *)&from, &fromlen);

		if (n < 0)
			break;
		rsp_on_query(rsp, NULL, rsp->buf, (size_t)n, &from, fromlen);
	}
}

static void rsp_tcp_read(struct bufferevent *bev, void *arg)
{
	struct rsp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t pfx[2];
	size_t n;

	while (evbuffer_get_length(in) >= 2) {
		evbuffer_copyout(in, pfx, 2);
		n = (size_t)pfx[0] << 8 | pfx[1];
		if (evbuffer_get_length(in) < 2 + n)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, c->rsp->buf, n);
		rsp_on_query(c->rsp, c, c->rsp->buf, n, NULL, 0);
	}
}

static void rsp_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct rsp_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF)
		c->rsp->tcp_eof++;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		rsp_conn_free(c);
}

static void rsp_accept(struct evconnlistener *lst, evutil_socket_t fd,
		       struct sockaddr *sa, int salen, void *arg)
{
	struct responder *rsp = arg;
	struct rsp_conn *c = calloc(1, sizeof(*c));

	(void)lst;
	(void)sa;
	(void)salen;
	rsp->tcp_accepted++;
	if (c != NULL)
		c->bev = bufferevent_socket_new(rsp->base, fd,
						BEV_OPT_CLOSE_ON_FREE);
	if (c == NULL || c->bev == NULL) {
		rsp->errors++;
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->rsp = rsp;
	c->next = rsp->conns;
	rsp->conns = c;
	bufferevent_setcb(c->bev, rsp_tcp_read, NULL, rsp_tcp_event, c);
	bufferevent_enable(c->bev, EV_READ);
}

static socklen_t loopback(int family, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

/* A UDP socket on the loopback at a kernel-chosen port; -1 on failure. */
static evutil_socket_t udp_bind(int family, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(family, 0, &ss);
	evutil_socket_t fd = socket(family, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    evutil_make_socket_nonblocking(fd) != 0) {
		evutil_closesocket(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6
			      ? ((struct sockaddr_in6 *)&ss)->sin6_port
			      : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

void rsp_stop(struct responder *rsp)
{
	if (!rsp->started)
		return;
	while (rsp->delayed != NULL)
		rsp_delayed_free(rsp->delayed);
	while (rsp->conns != NULL)
		rsp_conn_free(rsp->conns);
	if (rsp->lst != NULL)
		evconnlistener_free(rsp->lst);
	if (rsp->udp_ev != NULL)
		event_free(rsp->udp_ev);
	if (rsp->udp >= 0)
		evutil_closesocket(rsp->udp);
	if (rsp->udp_other >= 0)
		evutil_closesocket(rsp->udp_other);
	free(rsp->q);
	memset(rsp, 0, offsetof(struct responder, buf));
}

int rsp_start(struct responder *rsp, struct event_base *base, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port = 0, other_port = 0;

	memset(rsp, 0, offsetof(struct responder, buf));
	rsp->base = base;
	rsp->udp = rsp->udp_other = -1;
	rsp->started = true;
	rsp->rng = 0x9e3779b97f4a7c15u;
	rsp->beh.rrs[0] = RSP_DEFAULT_RR;
	/* The TCP port must equal the UDP one: retry if it is taken. */
	for (int i = 0; i < 20 && rsp->lst == NULL; i++) {
		if (rsp->udp >= 0)
			evutil_closesocket(rsp->udp);
		rsp->udp = udp_bind(family, &port);
		if (rsp->udp < 0)
			goto fail;
		sl = loopback(family, port, &ss);
		rsp->lst = evconnlistener_new_bind(
			base, rsp_accept, rsp,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
			(struct sockaddr *)&ss, (int)sl);
	}
	rsp->udp_other = udp_bind(family, &other_port);
	if (rsp->lst == NULL || rsp->udp_other < 0)
		goto fail;
	rsp->udp_ev = event_new(base, rsp->udp, EV_READ | EV_PERSIST,
				rsp_on_udp, rsp);
	if (rsp->udp_ev == NULL || event_add(rsp->udp_ev, NULL) != 0)
		goto fail;
	snprintf(rsp->addr, sizeof(rsp->addr),
		 family == AF_INET6 ? "[::1]:%u" : "127.0.0.1:%u",
		 (unsigned)port);
	return ST_OK;
fail:
	rsp_stop(rsp);
	return ST_EIO;
}

void rsp_reset_log(struct responder *rsp)
{
	rsp->n_q = 0;
	rsp->outstanding = rsp->max_outstanding = 0;
	rsp->tcp_accepted = rsp->tcp_eof = 0;
	rsp->n_answers = rsp->n_decoys = 0;
}

void rsp_refuse_tcp(struct responder *rsp)
{
	if (rsp->lst != NULL) {
		evconnlistener_free(rsp->lst);
		rsp->lst = NULL;
	}
}
