/*
 * nm_udp.c - the relay's datagram side.
 *
 * A listener receives a client's datagrams (recvmmsg, up to NM_BATCH per
 * call), finds the client's flow by address and port, or makes one: a
 * socket connected to the real server (of the server's family, which
 * need not be the listener's), so the server's answers come back
 * on it and are known to be that client's.  Each datagram that the loss
 * draw spares is queued, with its delay, on the listener's client-to-
 * server FIFO; the FIFO's timer sends what is due, runs of one flow in one
 * sendmmsg.  Answers take the mirror path, from the flow's socket to the
 * server-to-client FIFO, and leave through the listening socket with the
 * client's address, any number of clients in one sendmmsg.  A flow idle
 * for the idle time, with nothing queued, is closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nm_relay.h"
#include "st_error.h"

struct nm_udp {
	struct st_link link; /* on relay->udp */
	struct nm_relay *r;
	int fd;
	struct event *ev;
	union nm_sockaddr listen, upstream;
	struct nm_shape sh;
	struct nm_flowtab flows; /* of struct nm_uflow, by f */
	struct nm_dq c2s, s2c;   /* items' owner: their struct nm_uflow */
	struct event *t_c2s, *t_s2c;
};

struct nm_uflow {
	struct nm_flow f;
	struct nm_udp *u;
	int fd; /* connected to u->upstream */
	struct event *ev;
	union nm_sockaddr client;
};

/* Large socket buffers: a burst of 20,000 queries must not be dropped by
 * the kernel before the relay reads it.  SO_*BUFFORCE needs root; else
 * the ordinary option, capped by net.core.[rw]mem_max. */
static void big_buffers(int fd)
{
	int sz = 8 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* Up to NM_BATCH datagrams of fd into r's scratch; the count (0 when
 * nothing is waiting or on an error, which is counted). */
static int recv_batch(struct nm_relay *r, int fd)
{
	int n;

	for (int i = 0; i < NM_BATCH; i++) {
		r->iov[i].iov_base = r->scratch + (size_t)i * NM_DGRAM_MAX;
		r->iov[i].iov_len = NM_DGRAM_MAX;
		memset(&r->msgs[i], 0, sizeof(r->msgs[i]));
		r->msgs[i].msg_hdr.msg_name = &r->from[i];
		r->msgs[i].msg_hdr.msg_namelen = sizeof(r->from[i]);
		r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
		r->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, r->msgs, NM_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		/* ECONNREFUSED: an ICMP port unreachable from a server that
		 * is down, reported on the flow's connected socket. */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNREFUSED)
			nm_warn("recvmmsg: %s", strerror(errno));
		return 0;
	}
	return n;
}

/* Send items[0..n) on fd (to each item's client when to_client), as few
 * sendmmsg calls as it takes; free them and drop their flow refs. */
static void send_items(struct nm_relay *r, int fd, struct nm_item **items,
		       int n, int to_client)
{
	struct mmsghdr m[NM_BATCH];
	struct iovec iov[NM_BATCH];
	int sent = 0, retried = 0;

	memset(m, 0, sizeof(m[0]) * (size_t)n);
	for (int i = 0; i < n; i++) {
		struct nm_uflow *fl = items[i]->owner;

		iov[i].iov_base = items[i]->data;
		iov[i].iov_len = items[i]->len;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		if (to_client) {
			m[i].msg_hdr.msg_name = &fl->client;
			m[i].msg_hdr.msg_namelen = nm_sockaddr_len(&fl->client);
		}
	}
	while (sent < n) {
		int rc = sendmmsg(fd, m + sent, (unsigned)(n - sent), MSG_DONTWAIT);

		if (rc > 0) {
			sent += rc;
			continue;
		}
		/* A pending ICMP error fails one send and is then cleared. */
		if (rc < 0 && (errno == EINTR || errno == ECONNREFUSED) &&
		    retried++ < 2)
			continue;
		r->st.udp_send_err += (uint64_t)(n - sent);
		break;
	}
	r->st.udp_out += (uint64_t)sent;
	for (int i = 0; i < n; i++) {
		struct nm_uflow *fl = items[i]->owner;

		fl->f.refs--;
		free(items[i]);
	}
}

/* Take the due items of q (at most NM_RELEASE_MAX, until until_ns) into
 * due[], counting how late each leaves; the count. */
static int take_due(struct nm_relay *r, struct nm_dq *q, uint64_t now,
		    uint64_t until, struct nm_item **due)
{
	struct nm_stats *st = &r->st;
	int n = 0;

	while (n < NM_RELEASE_MAX) {
		struct nm_item *it = nm_dq_pop_due(q, until);

		if (it == NULL)
			break;
		if (now > it->due_ns) {
			uint64_t late = now - it->due_ns;

			st->late_sum_ns += late;
			if (late > st->late_max_ns)
				st->late_max_ns = late;
		}
		st->late_n++;
		due[n++] = it;
	}
	return n;
}

/* Send due[0..n) toward the server: each flow's datagrams leave on its
 * own socket, so they are grouped by flow first (nm_group_by_owner: in
 * order within a flow), and each flow's run goes in as few sendmmsg calls
 * as NM_BATCH allows.  The FIFO interleaves the flows (a client with
 * several sockets, many clients), so sending runs of one flow as they
 * came would often mean one datagram a call. */
static void send_by_flow(struct nm_udp *u, struct nm_item **due, int n)
{
	int i = 0;

	/* n <= NM_RELEASE_MAX == NM_GROUP_MAX: cannot fail. */
	(void)nm_group_by_owner(due, n);
	while (i < n) {
		struct nm_uflow *fl = due[i]->owner;
		int k = 1;

		while (i + k < n && k < NM_BATCH && due[i + k]->owner == fl)
			k++;
		send_items(u->r, fl->fd, due + i, k, 0);
		i += k;
	}
}

/* Send what of q is due: toward the server by flow (send_by_flow),
 * toward clients through the listening socket, any clients in a call. */
static void release(struct nm_udp *u, struct nm_dq *q, struct event *timer,
		    int to_client)
{
	struct nm_item *due[NM_RELEASE_MAX], *head;
	uint64_t now = nm_now_ns(), until = now + u->r->slack_ns;
	int n;

	do {
		n = take_due(u->r, q, now, until, due);
		if (!to_client) {
			send_by_flow(u, due, n);
			continue;
		}
		for (int i = 0; i < n; i += NM_BATCH)
			send_items(u->r, u->fd, due + i,
				   n - i < NM_BATCH ? n - i : NM_BATCH, 1);
	} while (n == NM_RELEASE_MAX);
	head = nm_dq_head(q);
	if (head != NULL)
		nm_arm(timer, head->due_ns - u->r->slack_ns);
}

static void on_c2s_due(evutil_socket_t fd, short what, void *arg)
{
	struct nm_udp *u = arg;

	(void)fd;
	(void)what;
	release(u, &u->c2s, u->t_c2s, 0);
}

static void on_s2c_due(evutil_socket_t fd, short what, void *arg)
{
	struct nm_udp *u = arg;

	(void)fd;
	(void)what;
	release(u, &u->s2c, u->t_s2c, 1);
}

/* Queue one datagram of flow fl on q (unless lost or q is full). */
static void enqueue(struct nm_udp *u, struct nm_dq *q, struct event *timer,
		    struct nm_uflow *fl, const unsigned char *data, size_t len,
		    uint64_t now)
{
	struct nm_relay *r = u->r;
	struct nm_item *it;

	if (nm_shape_lost(&u->sh, &r->rng)) {
		r->st.udp_lost++;
		return;
	}
	it = nm_item_new(len);
	if (it == NULL) {
		r->st.udp_overflow++;
		return;
	}
	memcpy(it->data, data, len);
	it->owner = fl;
	if (nm_dq_push(q, it, now, nm_shape_delay(&u->sh, &r->rng)) != 0) {
		free(it);
		r->st.udp_overflow++;
		return;
	}
	fl->f.refs++;
	if (q->count == 1)
		nm_arm(timer, it->due_ns - u->r->slack_ns);
}

static void on_upstream(evutil_socket_t fd, short what, void *arg)
{
	struct nm_uflow *fl = arg;
	struct nm_udp *u = fl->u;
	struct nm_relay *r = u->r;

	(void)what;
	/* A few batches per wake-up, so one busy socket cannot starve the
	 * timers. */
	for (int round = 0; round < 4; round++) {
		int n = recv_batch(r, fd);
		uint64_t now = nm_now_ns();

		for (int i = 0; i < n; i++) {
			r->st.udp_in++;
			if (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				r->st.udp_overflow++;
				continue;
			}
			enqueue(u, &u->s2c, u->t_s2c, fl, r->iov[i].iov_base,
				r->msgs[i].msg_len, now);
		}
		if (n < NM_BATCH)
			break;
	}
}

static void flow_free(struct nm_uflow *fl)
{
	if (fl->ev != NULL)
		event_free(fl->ev);
	if (fl->fd >= 0)
		close(fl->fd);
	free(fl);
}

/* A new flow for client: its own socket connected to the server. */
static struct nm_uflow *flow_new(struct nm_udp *u,
				 const union nm_sockaddr *client,
				 const struct nm_flow_key *key, uint64_t now)
{
	struct nm_relay *r = u->r;
	struct nm_uflow *fl;
	struct nm_flow *old;

	if (u->flows.count >= u->flows.max) {
		/* Full: make room by expiring the oldest idle flow, if any. */
		old = nm_flowtab_expire(&u->flows, now);
		if (old == NULL)
			return NULL;
		flow_free((struct nm_uflow *)(void *)old);
		r->st.udp_expired++;
	}
	fl = calloc(1, sizeof(*fl));
	if (fl == NULL)
		return NULL;
	fl->u = u;
	fl->client = *client;
	fl->fd = socket(u->upstream.sa.sa_family,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fl->fd < 0) {
		nm_warn("socket: %s", strerror(errno));
		goto fail;
	}
	big_buffers(fl->fd);
	if (connect(fl->fd, &u->upstream.sa, nm_sockaddr_len(&u->upstream)) != 0) {
		nm_warn("connect: %s", strerror(errno));
		goto fail;
	}
	fl->ev = event_new(r->base, fl->fd, EV_READ | EV_PERSIST, on_upstream, fl);
	if (fl->ev == NULL || event_add(fl->ev, NULL) != 0)
		goto fail;
	if (nm_flowtab_add(&u->flows, &fl->f, key, now) != 0)
		goto fail;
	r->st.udp_flows++;
	return fl;
fail:
	flow_free(fl);
	return NULL;
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct nm_udp *u = arg;
	struct nm_relay *r = u->r;

	(void)what;
	for (int round = 0; round < 4; round++) {
		int n = recv_batch(r, fd);
		uint64_t now = nm_now_ns();

		for (int i = 0; i < n; i++) {
			struct nm_flow_key key;
			struct nm_uflow *fl;

			r->st.udp_in++;
			if (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    !nm_flow_key(&r->from[i].sa,
					 r->msgs[i].msg_hdr.msg_namelen, &key)) {
				r->st.udp_overflow++;
				continue;
			}
			fl = (struct nm_uflow *)(void *)nm_flowtab_find(&u->flows,
									&key, now);
			if (fl == NULL)
				fl = flow_new(u, &r->from[i], &key, now);
			if (fl == NULL) {
				r->st.udp_noflow++;
				continue;
			}
			enqueue(u, &u->c2s, u->t_c2s, fl, r->iov[i].iov_base,
				r->msgs[i].msg_len, now);
		}
		if (n < NM_BATCH)
			break;
	}
}

static void udp_free(struct nm_udp *u)
{
	struct st_link *it, *nx;

	nm_dq_clear(&u->c2s);
	nm_dq_clear(&u->s2c);
	if (u->flows.buckets != NULL) {
		ST_LIST_FOREACH(it, nx, &u->flows.lru) {
			struct nm_flow *f = ST_CONTAINER(it, struct nm_flow, lru);

			nm_flowtab_remove(&u->flows, f);
			flow_free((struct nm_uflow *)(void *)f);
		}
		nm_flowtab_fini(&u->flows);
	}
	if (u->t_c2s != NULL)
		event_free(u->t_c2s);
	if (u->t_s2c != NULL)
		event_free(u->t_s2c);
	if (u->ev != NULL)
		event_free(u->ev);
	if (u->fd >= 0)
		close(u->fd);
	st_list_remove(&u->link);
	free(u);
}

int nm_udp_open(struct nm_relay *r, const struct nm_map *m)
{
	struct nm_udp *u = calloc(1, sizeof(*u));
	int one = 1, ret;

	if (u == NULL)
		return ST_ENOMEM;
	u->r = r;
	u->fd = -1;
	u->listen = m->listen;
	u->upstream = m->upstream;
	st_link_init(&u->link);
	st_list_push_back(&r->udp, &u->link);
	nm_dq_init(&u->c2s, r->queue_bytes);
	nm_dq_init(&u->s2c, r->queue_bytes);
	ret = nm_shape_set(&u->sh, m->delay_ms, m->jitter_ms, m->loss_pct,
			   m->rto_ms);
	if (ret != 0)
		goto fail;
	ret = nm_flowtab_init(&u->flows, r->max_flows, r->idle_ns);
	if (ret != 0)
		goto fail;
	u->fd = socket(m->listen.sa.sa_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0 ||
	    setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (m->listen.sa.sa_family == AF_INET6 &&
	     setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(u->fd, &m->listen.sa, nm_sockaddr_len(&m->listen)) != 0) {
		nm_warn("udp listen: %s", strerror(errno));
		ret = ST_EIO;
		goto fail;
	}
	big_buffers(u->fd);
	u->ev = event_new(r->base, u->fd, EV_READ | EV_PERSIST, on_client, u);
	u->t_c2s = evtimer_new(r->base, on_c2s_due, u);
	u->t_s2c = evtimer_new(r->base, on_s2c_due, u);
	if (u->ev == NULL || u->t_c2s == NULL || u->t_s2c == NULL ||
	    event_add(u->ev, NULL) != 0) {
		ret = ST_ENOMEM;
		goto fail;
	}
	return 0;
fail:
	udp_free(u);
	return ret;
}

void nm_udp_expire(struct nm_relay *r)
{
	struct st_link *it, *nx;
	uint64_t now = nm_now_ns();

	ST_LIST_FOREACH(it, nx, &r->udp) {
		struct nm_udp *u = ST_CONTAINER(it, struct nm_udp, link);

		for (struct nm_flow *f = nm_flowtab_expire(&u->flows, now);
		     f != NULL; f = nm_flowtab_expire(&u->flows, now)) {
			flow_free((struct nm_uflow *)(void *)f);
			r->st.udp_expired++;
		}
	}
}

void nm_udp_close_all(struct nm_relay *r)
{
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, &r->udp)
		udp_free(ST_CONTAINER(it, struct nm_udp, link));
}
