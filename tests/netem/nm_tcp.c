/*
 * nm_tcp.c - the relay's stream side.
 *
 * Each accepted connection gets its own connection to the real server.
 * The bytes of each direction are cut into chunks as they arrive (at most
 * NM_CHUNK), and each chunk waits its one-way delay on the direction's
 * FIFO before it is written on; the end of the stream (FIN) is queued the
 * same way, so a half-close arrives late too.  A connection error on one
 * side resets the other (SO_LINGER 0).
 *
 * Loss, on a stream: TCP does not lose bytes, it retransmits them, and the
 * application sees the bytes late.  So a "lost" chunk is delivered after
 * the map's rto on top of its delay, and, the FIFO being ordered, every
 * chunk behind it waits too: the head-of-line blocking of a real
 * retransmission.  The kernel's own handshake is not delayed (the relay
 * cannot hold back a SYN-ACK in user space): connect() returns at once,
 * the first byte each way costs the delay.
 *
 * Memory: a direction stops reading when what it holds (queued plus
 * unwritten) reaches relay->tcp_window, and reads again below half of it;
 * at most relay->max_conns connections exist, beyond that one is reset.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nm_relay.h"
#include "st_error.h"

#define NM_CHUNK 16384
#define NM_ITEM_EOF 1u

struct nm_tcp_listener {
	struct st_link link; /* on relay->tcp */
	struct nm_relay *r;
	struct evconnlistener *lev;
	struct event *retry; /* re-enables lev after an accept error */
	union nm_sockaddr upstream;
	struct nm_shape sh;
};

struct nm_tcp_conn;

/* One direction: bytes read from src wait on q, then go to dst. */
struct nm_pipe {
	struct nm_tcp_conn *c;
	struct bufferevent *src, *dst;
	struct nm_dq q;
	struct event *timer;
	bool eof_in;  /* src sent FIN (queued on q) */
	bool eof_out; /* the FIN left q: shut dst down once written */
	bool shut;    /* shutdown(SHUT_WR) done on dst */
};

struct nm_tcp_conn {
	struct st_link link; /* on relay->conns */
	struct nm_tcp_listener *l;
	struct bufferevent *cli, *srv;
	struct nm_pipe up, down; /* client to server, server to client */
};

static void conn_free(struct nm_tcp_conn *c)
{
	struct nm_relay *r = c->l->r;
	struct nm_pipe *ps[2] = {&c->up, &c->down};

	for (int i = 0; i < 2; i++) {
		if (ps[i]->timer != NULL)
			event_free(ps[i]->timer);
		nm_dq_clear(&ps[i]->q);
	}
	if (c->cli != NULL)
		bufferevent_free(c->cli);
	if (c->srv != NULL)
		bufferevent_free(c->srv);
	st_list_remove(&c->link);
	r->nconns--;
	free(c);
}

/* End c at once; both peers get a reset rather than a clean close. */
static void conn_abort(struct nm_tcp_conn *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct bufferevent *b[2] = {c->cli, c->srv};

	for (int i = 0; i < 2; i++) {
		evutil_socket_t fd = b[i] != NULL ? bufferevent_getfd(b[i]) : -1;

		if (fd >= 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	conn_free(c);
}

static size_t held(const struct nm_pipe *p)
{
	return p->q.bytes + evbuffer_get_length(bufferevent_get_output(p->dst));
}

static void maybe_resume(struct nm_pipe *p)
{
	if (!p->eof_in && held(p) < p->c->l->r->tcp_window / 2)
		bufferevent_enable(p->src, EV_READ);
}

/* The FIN has left the queue and dst's output is written: pass it on.
 * Returns false if c was freed. */
static bool pass_fin(struct nm_pipe *p)
{
	struct nm_tcp_conn *c = p->c;

	if (!p->eof_out || p->shut ||
	    evbuffer_get_length(bufferevent_get_output(p->dst)) > 0)
		return true;
	p->shut = true;
	if (shutdown(bufferevent_getfd(p->dst), SHUT_WR) != 0 && errno != ENOTCONN) {
		c->l->r->st.tcp_errors++;
		conn_abort(c);
		return false;
	}
	if (c->up.shut && c->down.shut) {
		conn_free(c);
		return false;
	}
	return true;
}

/* Queue a chunk (len bytes of src's input, or the FIN when eof). */
static int push_chunk(struct nm_pipe *p, size_t len, bool eof)
{
	struct nm_relay *r = p->c->l->r;
	struct nm_item *it = nm_item_new(len);
	uint64_t delay;

	if (it == NULL)
		return ST_ENOMEM;
	if (eof) {
		it->flags = NM_ITEM_EOF;
	} else if (evbuffer_remove(bufferevent_get_input(p->src), it->data,
				   len) != (int)len) {
		free(it);
		return ST_EIO;
	}
	delay = nm_shape_delay(&p->c->l->sh, &r->rng);
	if (nm_shape_lost(&p->c->l->sh, &r->rng)) {
		delay += p->c->l->sh.rto_ns;
		r->st.tcp_lost++;
	}
	/* No cap on q: the window below bounds it. */
	(void)nm_dq_push(&p->q, it, nm_now_ns(), delay);
	if (p->q.count == 1)
		nm_arm(p->timer, it->due_ns - p->c->l->r->slack_ns);
	if (!eof) {
		r->st.tcp_chunks++;
		r->st.tcp_bytes += len;
	}
	return 0;
}

/* Move src's input onto q, chunk by chunk; pause src when full. */
static int pull(struct nm_pipe *p)
{
	struct evbuffer *in = bufferevent_get_input(p->src);
	size_t len;
	int ret;

	for (len = evbuffer_get_length(in); len > 0;
	     len = evbuffer_get_length(in)) {
		ret = push_chunk(p, len < NM_CHUNK ? len : NM_CHUNK, false);
		if (ret != 0)
			return ret;
	}
	if (held(p) >= p->c->l->r->tcp_window)
		bufferevent_disable(p->src, EV_READ);
	return 0;
}

static struct nm_pipe *pipe_from(struct nm_tcp_conn *c, struct bufferevent *src)
{
	return src == c->cli ? &c->up : &c->down;
}

static struct nm_pipe *pipe_to(struct nm_tcp_conn *c, struct bufferevent *dst)
{
	return dst == c->srv ? &c->up : &c->down;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct nm_tcp_conn *c = arg;

	if (pull(pipe_from(c, bev)) != 0) {
		c->l->r->st.tcp_errors++;
		conn_abort(c);
	}
}

static void on_written(struct bufferevent *bev, void *arg)
{
	struct nm_tcp_conn *c = arg;
	struct nm_pipe *p = pipe_to(c, bev);

	if (pass_fin(p))
		maybe_resume(p);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct nm_tcp_conn *c = arg;
	struct nm_pipe *p = pipe_from(c, bev);
	int one = 1;

	if (events & BEV_EVENT_CONNECTED) {
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
				 &one, sizeof(one));
		return;
	}
	if (events & BEV_EVENT_ERROR) {
		c->l->r->st.tcp_errors++;
		conn_abort(c);
		return;
	}
	if (events & BEV_EVENT_EOF) {
		/* What was read before the FIN goes first. */
		if (pull(p) != 0 || push_chunk(p, 0, true) != 0) {
			c->l->r->st.tcp_errors++;
			conn_abort(c);
			return;
		}
		p->eof_in = true;
		bufferevent_disable(bev, EV_READ);
	}
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
	struct nm_pipe *p = arg;
	uint64_t until = nm_now_ns() + p->c->l->r->slack_ns;
	struct nm_item *it;

	(void)fd;
	(void)what;
	for (it = nm_dq_pop_due(&p->q, until); it != NULL;
	     it = nm_dq_pop_due(&p->q, until)) {
		int rc = 0;

		if (it->flags & NM_ITEM_EOF)
			p->eof_out = true;
		else
			rc = bufferevent_write(p->dst, it->data, it->len);
		free(it);
		if (rc != 0) {
			p->c->l->r->st.tcp_errors++;
			conn_abort(p->c);
			return;
		}
	}
	it = nm_dq_head(&p->q);
	if (it != NULL)
		nm_arm(p->timer, it->due_ns - p->c->l->r->slack_ns);
	if (pass_fin(p))
		maybe_resume(p);
}

static int pipe_init(struct nm_pipe *p, struct nm_tcp_conn *c,
		     struct bufferevent *src, struct bufferevent *dst)
{
	p->c = c;
	p->src = src;
	p->dst = dst;
	nm_dq_init(&p->q, 0);
	p->timer = evtimer_new(c->l->r->base, on_due, p);
	return p->timer == NULL ? ST_ENOMEM : 0;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct nm_tcp_listener *l = arg;
	struct nm_relay *r = l->r;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct nm_tcp_conn *c = NULL;
	int one = 1;

	(void)lev;
	(void)sa;
	(void)salen;
	if (r->nconns >= r->max_conns)
		goto refuse;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto refuse;
	c->l = l;
	nm_dq_init(&c->up.q, 0);
	nm_dq_init(&c->down.q, 0);
	st_link_init(&c->link);
	st_list_push_back(&r->conns, &c->link);
	r->nconns++;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->cli = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->cli == NULL)
		goto refuse;
	fd = -1; /* c->cli closes it now */
	c->srv = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->srv == NULL || pipe_init(&c->up, c, c->cli, c->srv) != 0 ||
	    pipe_init(&c->down, c, c->srv, c->cli) != 0)
		goto fail;
	bufferevent_setcb(c->cli, on_read, on_written, on_event, c);
	bufferevent_setcb(c->srv, on_read, on_written, on_event, c);
	/* Connect errors come back through on_event (reset the client). */
	if (bufferevent_socket_connect(c->srv, &l->upstream.sa,
				       (int)nm_sockaddr_len(&l->upstream)) != 0)
		goto fail;
	if (bufferevent_enable(c->cli, EV_READ | EV_WRITE) != 0 ||
	    bufferevent_enable(c->srv, EV_READ | EV_WRITE) != 0)
		goto fail;
	r->st.tcp_conns++;
	return;
fail:
	r->st.tcp_errors++;
	conn_abort(c);
	return;
refuse:
	r->st.tcp_refused++;
	if (c != NULL)
		conn_free(c);
	if (fd >= 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct nm_tcp_listener *l = arg;

	(void)fd;
	(void)what;
	if (evconnlistener_enable(l->lev) != 0)
		nm_warn("cannot re-enable a listener");
}

/* accept() failed (EMFILE, ENFILE, ENOMEM): pause 100 ms instead of
 * spinning on a listener that stays readable. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct nm_tcp_listener *l = arg;
	struct timeval tv = {0, 100000};

	nm_warn("accept: %s", strerror(errno));
	if (evconnlistener_disable(lev) != 0 || event_add(l->retry, &tv) != 0)
		nm_warn("cannot pause a listener");
}

static void listener_free(struct nm_tcp_listener *l)
{
	if (l->lev != NULL)
		evconnlistener_free(l->lev);
	if (l->retry != NULL)
		event_free(l->retry);
	st_list_remove(&l->link);
	free(l);
}

int nm_tcp_open(struct nm_relay *r, const struct nm_map *m)
{
	struct nm_tcp_listener *l = calloc(1, sizeof(*l));
	int ret;

	if (l == NULL)
		return ST_ENOMEM;
	l->r = r;
	l->upstream = m->upstream;
	st_link_init(&l->link);
	st_list_push_back(&r->tcp, &l->link);
	ret = nm_shape_set(&l->sh, m->delay_ms, m->jitter_ms, m->loss_pct,
			   m->rto_ms);
	if (ret != 0)
		goto fail;
	l->retry = evtimer_new(r->base, on_retry, l);
	if (l->retry == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	l->lev = evconnlistener_new_bind(r->base, on_accept, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					 LEV_OPT_CLOSE_ON_EXEC, 1024,
					 &m->listen.sa,
					 (int)nm_sockaddr_len(&m->listen));
	if (l->lev == NULL) {
		nm_warn("tcp listen: %s", strerror(errno));
		ret = ST_EIO;
		goto fail;
	}
	evconnlistener_set_error_cb(l->lev, on_accept_error);
	return 0;
fail:
	listener_free(l);
	return ret;
}

void nm_tcp_close_all(struct nm_relay *r)
{
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, &r->conns)
		conn_free(ST_CONTAINER(it, struct nm_tcp_conn, link));
	ST_LIST_FOREACH(it, nx, &r->tcp)
		listener_free(ST_CONTAINER(it, struct nm_tcp_listener, link));
}
