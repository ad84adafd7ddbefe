/*
 * sc_testpeer.c - scripted HTTPS and SMTP peers on loopback, on libevent
 * and OpenSSL (see sc_testpeer.h).
 */
#include "sc_testpeer.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ds_certs.h"
#include "st_error.h"

struct tp_conn {
	struct st_link link;        /* on tp_peer.conns */
	struct tp_peer *p;
	struct bufferevent *bev;
	struct event *greet;        /* SMTP with greet_delay_ms: the 220 */
	bool closing;               /* free once the output is written */
};

int tp_certs_new(struct tp_certs *c, const char *const *names, size_t n)
{
	struct ds_ca *ca = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	time_t now = time(NULL);
	struct ds_leaf_req req = { .dns_names = names, .n_dns_names = n,
				   .not_before = now - 3600,
				   .not_after = now + 30 * 86400 };
	int ret;

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/sc_testpeer.XXXXXX");
	if (mkdtemp(c->dir) == NULL) {
		c->dir[0] = '\0';
		return ST_EIO;
	}
	snprintf(c->ca_path, sizeof(c->ca_path), "%s/ca.pem", c->dir);
	ret = ds_ca_new("stsmap engine test root", now - 3600,
			now + 30 * 86400, &ca);
	if (ret == ST_OK)
		ret = ds_key_new(&key);
	if (ret == ST_OK)
		ret = ds_leaf_issue(ca, key, &req, &leaf);
	if (ret == ST_OK)
		ret = ds_ca_write(ca, c->ca_path, NULL);
	if (ret != ST_OK)
		goto cleanup;
	c->ctx = SSL_CTX_new(TLS_server_method());
	if (c->ctx == NULL || SSL_CTX_use_certificate(c->ctx, leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, key) != 1)
		ret = ST_ETLS;
cleanup:
	X509_free(leaf);
	EVP_PKEY_free(key);
	ds_ca_free(ca);
	if (ret != ST_OK)
		tp_certs_free(c);
	return ret;
}

void tp_certs_free(struct tp_certs *c)
{
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->ca_path[0] != '\0')
		unlink(c->ca_path);
	if (c->dir[0] != '\0')
		rmdir(c->dir);
	c->ca_path[0] = c->dir[0] = '\0';
}

static void conn_free(struct tp_conn *c)
{
	if (st_link_linked(&c->link))
		c->p->open--;
	st_list_remove(&c->link);
	if (c->greet != NULL)
		event_free(c->greet);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
}

static void say(struct tp_conn *c, const char *s)
{
	if (bufferevent_write(c->bev, s, strlen(s)) != 0)
		c->p->errors++;
}

static void on_written(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct tp_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->p->handshakes++;
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

/* --- HTTPS --- */

static void https_read(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char head[256];
	size_t len;

	if (end.pos < 0 || c->closing)
		return;
	evbuffer_drain(in, evbuffer_get_length(in));
	c->p->requests++;
	if (c->p->hold)
		return;
	len = c->p->body != NULL ? strlen(c->p->body) : 0;
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
	say(c, head);
	if (len > 0 && bufferevent_write(bev, c->p->body, len) != 0)
		c->p->errors++;
	c->p->answered++;
	c->closing = true;
}

/* --- SMTP --- */

static void smtp_read(struct bufferevent *bev, void *arg);

/* After "220" to STARTTLS: the same connection, under TLS. */
static void smtp_starttls(struct tp_conn *c)
{
	SSL *ssl = SSL_new(c->p->ctx);
	struct bufferevent *tls;

	if (ssl == NULL) {
		c->p->errors++;
		conn_free(c);
		return;
	}
	tls = bufferevent_openssl_filter_new(c->p->base, c->bev, ssl,
					     BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		c->p->errors++;
		conn_free(c);
		return;
	}
	c->bev = tls; /* frees the plain one with it */
	bufferevent_setcb(tls, smtp_read, on_written, on_event, c);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
}

static void smtp_read(struct bufferevent *bev, void *arg)
{
	struct tp_conn *c = arg;
	char *line;

	while (!c->closing &&
	       (line = evbuffer_readln(bufferevent_get_input(bev), NULL,
				       EVBUFFER_EOL_CRLF)) != NULL) {
		bool tls = bufferevent_openssl_get_ssl(bev) != NULL;

		if (strncasecmp(line, "EHLO", 4) == 0) {
			say(c, tls ? "250 peer.test\r\n"
				   : "250-peer.test\r\n250 STARTTLS\r\n");
		} else if (strncasecmp(line, "STARTTLS", 8) == 0 && !tls) {
			say(c, "220 2.0.0 ready\r\n");
			free(line);
			smtp_starttls(c);
			return;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(c, "221 2.0.0 bye\r\n");
			c->p->quits++;
			c->closing = true;
		} else {
			say(c, "502 5.5.1 no\r\n");
		}
		free(line);
	}
}

/* --- the listener --- */

/* A tarpit's greeting, greet_delay_ms after the connection. */
static void greet_late(evutil_socket_t fd, short what, void *arg)
{
	struct tp_conn *c = arg;

	(void)fd;
	(void)what;
	c->p->greeted_late++;
	say(c, "220 peer.test ESMTP\r\n");
}

/* The SMTP greeting: at once, or after greet_delay_ms (a tarpit). */
static void greet(struct tp_conn *c)
{
	struct timeval tv = { c->p->greet_delay_ms / 1000,
			      (c->p->greet_delay_ms % 1000) * 1000 };

	if (c->p->greet_delay_ms == 0) {
		say(c, "220 peer.test ESMTP\r\n");
		return;
	}
	c->greet = evtimer_new(c->p->base, greet_late, c);
	if (c->greet == NULL || evtimer_add(c->greet, &tv) != 0)
		c->p->errors++;
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct tp_peer *p = arg;
	struct tp_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = NULL;

	(void)lst;
	(void)sa;
	(void)salen;
	p->accepted++;
	if (c == NULL)
		goto fail;
	c->p = p;
	if (p->kind == TP_HTTPS) {
		ssl = SSL_new(p->ctx);
		if (ssl == NULL)
			goto fail;
		c->bev = bufferevent_openssl_socket_new(
			p->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			BEV_OPT_CLOSE_ON_FREE);
	} else {
		c->bev = bufferevent_socket_new(p->base, fd,
						BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL)
		goto fail;
	st_list_push_back(&p->conns, &c->link);
	if (++p->open > p->open_peak)
		p->open_peak = p->open;
	bufferevent_setcb(c->bev, p->kind == TP_HTTPS ? https_read : smtp_read,
			  on_written, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (p->kind == TP_SMTP)
		greet(c);
	return;
fail:
	p->errors++;
	SSL_free(ssl);
	free(c);
	evutil_closesocket(fd);
}

int tp_peer_start(struct tp_peer *p, struct event_base *base,
		  enum tp_kind kind, SSL_CTX *ctx)
{
	return tp_peer_start_at(p, base, kind, ctx, INADDR_LOOPBACK, 0);
}

int tp_peer_start_at(struct tp_peer *p, struct event_base *base,
		     enum tp_kind kind, SSL_CTX *ctx, uint32_t ip,
		     uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	p->base = base;
	p->kind = kind;
	p->ctx = ctx;
	st_list_init(&p->conns);
	sin.sin_addr.s_addr = htonl(ip);
	sin.sin_port = htons(port);
	p->lst = evconnlistener_new_bind(base, on_accept, p,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_REUSEABLE,
					 64, (struct sockaddr *)&sin,
					 sizeof(sin));
	if (p->lst == NULL)
		return ST_EIO;
	if (getsockname(evconnlistener_get_fd(p->lst), (struct sockaddr *)&sin,
			&len) != 0) {
		tp_peer_stop(p);
		return ST_EIO;
	}
	p->port = ntohs(sin.sin_port);
	return ST_OK;
}

void tp_peer_stop(struct tp_peer *p)
{
	struct st_link *k;

	if (p->lst != NULL)
		evconnlistener_free(p->lst);
	p->lst = NULL;
	if (p->conns.head.next == NULL)
		return; /* zeroed, never started */
	while ((k = st_list_first(&p->conns)) != NULL)
		conn_free(ST_CONTAINER(k, struct tp_conn, link));
}
