/*
 * sc_testpeer.h - scripted HTTPS and SMTP peers for the engine's
 * in-process tests: a policy host and an MX host on 127.0.0.1, on the
 * test's own event_base (no thread, no process, no external server).
 *
 * The HTTPS peer answers every request with 200, text/plain and the body
 * it was given, then closes the connection; with hold set it reads
 * requests and never answers (a fetch stays in flight).  The SMTP peer
 * says 220, offers STARTTLS in its EHLO reply, says 220 to STARTTLS,
 * completes the TLS handshake and says 221 to QUIT.  Both count what
 * they saw, for the test to check after the loop returns; their own
 * failures are counted in errors.
 *
 * Their certificate (tp_certs) is one leaf for the names given, signed by
 * a test root made with datasets/ds_certs.h, whose certificate is written
 * to ca_path for the engine's cfg.ca_file.
 *
 * No global state.  The storage of a peer is the caller's: zeroed before
 * tp_peer_start(), at the same address until tp_peer_stop().
 */
#ifndef SC_TESTPEER_H
#define SC_TESTPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "st_list.h"

struct event_base;
struct evconnlistener;

struct tp_certs {
	char dir[64];      /* a temporary directory, removed by free */
	char ca_path[96];  /* the root's certificate: cfg.ca_file */
	SSL_CTX *ctx;      /* the servers' context, leaf and key; owned */
};

/* A root, a leaf for names[0..n) valid from an hour ago for 30 days, the
 * CA file written.  ST_OK, or an ST_* error with nothing left behind. */
int tp_certs_new(struct tp_certs *c, const char *const *names, size_t n);
void tp_certs_free(struct tp_certs *c); /* a zeroed c is a no-op */

enum tp_kind { TP_HTTPS, TP_SMTP };

struct tp_peer {
	struct event_base *base;   /* not owned */
	enum tp_kind kind;
	SSL_CTX *ctx;              /* not owned: tp_certs.ctx */
	struct evconnlistener *lst;
	uint16_t port;             /* read: the port listened on */
	const char *body;          /* HTTPS: served; not owned */
	bool hold;                 /* HTTPS: never answer */
	unsigned greet_delay_ms;   /* SMTP: the 220 greeting waits this
				    * long after the accept (a tarpit) */
	unsigned accepted;         /* read: connections accepted */
	unsigned requests;         /* read: HTTPS requests read */
	unsigned answered;         /* read: HTTPS answers sent */
	unsigned handshakes;       /* read: TLS handshakes completed */
	unsigned quits;            /* read: SMTP QUITs answered */
	unsigned greeted_late;     /* read: delayed greetings sent */
	unsigned errors;           /* read: the peer's own failures */
	unsigned open, open_peak;  /* read: connections open now, at most */
	struct st_list conns;      /* open connections, the peer's own */
};

/* Listen on 127.0.0.1 at a kernel-chosen port.  ST_OK or ST_EIO. */
int tp_peer_start(struct tp_peer *p, struct event_base *base,
		  enum tp_kind kind, SSL_CTX *ctx);
/* The same on the IPv4 address ip (host order, e.g. 0x7f000002 for
 * 127.0.0.2) and port (0: the kernel's choice). */
int tp_peer_start_at(struct tp_peer *p, struct event_base *base,
		     enum tp_kind kind, SSL_CTX *ctx, uint32_t ip,
		     uint16_t port);
/* Close the listener and every connection.  A no-op on a zeroed peer. */
void tp_peer_stop(struct tp_peer *p);

#endif /* SC_TESTPEER_H */
