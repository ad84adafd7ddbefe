/*
 * ft_smtp.c - the SMTP STARTTLS prober: one explicit state machine per
 * probe on libevent bufferevents, OpenSSL through libevent's filter
 * bufferevent once the server has said 220 to STARTTLS.
 *
 *   QUEUED -> [WAIT_ADDR ->] CONNECT -> GREETING -> EHLO -> STARTTLS -> HANDSHAKE -> QUIT
 *     |          |          |          |        |            |         |
 *     +----------+----------+----------+--------+------------+---------+
 *                                                                      v
 *                                                                    DONE
 *
 * Every transition goes through set_state().  A probe holds at most one
 * connection: a plain socket bufferevent, which after STARTTLS is owned by
 * the OpenSSL filter over it (BEV_OPT_CLOSE_ON_FREE: libevent frees the
 * SSL and the socket bufferevent once the filter is finalised, which is
 * what makes it safe to finish a probe from inside the filter's own
 * callbacks).  Two timers per probe: the whole-probe deadline, and a step
 * timer for the per-address connect timeout and the wait for QUIT's reply.
 *
 * The outcome is decided before QUIT is sent (the probe's status field);
 * whatever happens to QUIT (221, close, silence) only ends the probe.
 * Only EHLO, STARTTLS and QUIT are ever sent.
 *
 * Politeness: before each connect the probe asks the prober's ft_polite
 * for the address (WAIT_ADDR while it waits), and the connection's grant
 * is released with the connection (conn_free()).  A probe waiting there
 * holds no prober slot and no timer: its deadline runs only while it
 * connects or talks, so a long queue at a busy provider never times a
 * probe out.  Once granted, it connects at once if a slot is free, or
 * waits on the ready list, which goes before the queue.
 */
#include "ft_smtp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "ft_cert.h"
#include "ft_polite.h"
#include "st_error.h"
#include "st_list.h"

#define COMP "smtp"
#define HOST_MAX FT_HOST_MAX
#define EHLO_MAX 255
/* Lines in one reply.  An EHLO reply has a dozen or two; more is a server
 * trying to keep us busy until the deadline. */
#define REPLY_LINES_MAX 100u
/* How long QUIT's reply is waited for before the connection is closed. */
#define QUIT_WAIT_MS 2000u
/* Bytes buffered for reading: one longest line and its CRLF.  A fuller
 * buffer without a line end is a line over the cap. */
#define READ_HWM (FT_SMTP_LINE_MAX + 2u)
/*
 * TLS 1.0 and 1.1 are only possible at OpenSSL security level 0 (their
 * handshake MACs are SHA-1/MD5 based), so the handshake runs at level 0
 * to measure an old server rather than fail it.  Certificate verification
 * runs at level 2 (112-bit keys, no SHA-1 signatures: RSA < 2048 bits
 * gives X509_V_ERR_EE_KEY_TOO_SMALL), the level modern OpenSSL builds and
 * Debian's system configuration use, so verify_error says what a current
 * sending MTA would conclude about the chain.
 */
#define TLS_CIPHERS "DEFAULT:@SECLEVEL=0"
#define VERIFY_AUTH_LEVEL 2

_Static_assert(FT_SMTP_MAX_CERT_NAMES == FT_CERT_MAX_NAMES,
	       "ft_smtp_result.cert_names is ft_cert.names");

enum probe_state {
	PS_QUEUED = 0, /* waiting for a slot (or, denied, for delivery) */
	PS_WAIT_ADDR,  /* waiting for addrs[next_addr]'s politeness cap */
	PS_CONNECT,    /* TCP connect to addrs[next_addr - 1] */
	PS_GREETING,   /* reading the 220 greeting */
	PS_EHLO,       /* EHLO sent, reading its reply */
	PS_STARTTLS,   /* STARTTLS sent, reading its reply */
	PS_HANDSHAKE,  /* TLS handshake in progress */
	PS_QUIT,       /* outcome decided; QUIT sent, reading its reply */
	PS_DONE,
	PS_COUNT
};

static const char *const state_names[PS_COUNT] = {
	[PS_QUEUED] = "queued",       [PS_WAIT_ADDR] = "wait-addr",
	[PS_CONNECT] = "connect",
	[PS_GREETING] = "greeting",   [PS_EHLO] = "ehlo",
	[PS_STARTTLS] = "starttls",   [PS_HANDSHAKE] = "handshake",
	[PS_QUIT] = "quit",           [PS_DONE] = "done",
};

struct ft_prober;

/* One probe.  Everything a result points to lives here. */
struct ft_probe {
	struct ft_prober *p;
	struct st_link link;          /* on the queue or the active list */
	enum probe_state state;
	bool started;                 /* counted in inflight */
	ft_smtp_callback cb;
	void *arg;
	char host[HOST_MAX + 1];
	struct sockaddr_storage *addrs; /* allowed ones, port set */
	size_t n_addrs;
	size_t next_addr;             /* next to try */
	size_t n_denied;

	struct bufferevent *bev;      /* the TCP connection */
	struct bufferevent *tls;      /* filter over bev; then owns bev */
	SSL *ssl;                     /* owned by tls */
	struct event *deadline;       /* whole probe */
	struct event *step;           /* connect timeout, QUIT wait, or
				       * delivery of a denied probe */
	struct timespec t0;           /* the first connect; 0 before */
	struct ft_polite_waiter pw;   /* the grant for the address */
	struct st_link ready_link;    /* on the prober's ready list */
	bool deadline_armed;
	uint64_t deadline_left_us;    /* of the whole-probe deadline */
	struct timespec deadline_at;  /* while armed */
	uint64_t step_at_us;          /* the connect timeout is due */

	unsigned n_lines;             /* lines of the reply being read */

	enum ft_smtp_status status;   /* decided outcome, from PS_QUIT on */
	bool connect_timed_out;       /* how the last connect failed */
	int local_errno;              /* the issuer lookup failed for want
				       * of a descriptor: errno, else 0 */
	bool connected;
	char peer_ip[INET6_ADDRSTRLEN];
	uint16_t peer_port;
	char greeting[FT_SMTP_LINE_MAX + 1];
	bool starttls_offered;
	int reply_code;
	int tls_version;
	const char *cipher;           /* OpenSSL's static name */
	struct ft_cert cert;
	char error[256];
};

struct ft_prober {
	struct event_base *base;
	struct ft_smtp_config cfg;
	char *ehlo_name;
	char *ca_file;
	SSL_CTX *ctx;
	struct ft_guard guard;
	struct event *kick;           /* starts queued probes, from the loop */
	struct st_list queue;         /* ft_probe waiting for a slot (FIFO) */
	struct st_list ready;         /* granted their address, no slot yet */
	struct st_list active;        /* started, or denied awaiting delivery */
	size_t n_active, n_ready;
	struct ft_polite *polite;     /* per destination address caps */
	struct ft_smtp_stats st;
	bool freeing;
};

#define STATUS_NAME_ROW(id, name, src, probe) [FT_SMTP_##id] = name,
static const char *const status_names[FT_SMTP_STATUS_COUNT] = {
	ST_SMTP_OUTCOMES(STATUS_NAME_ROW)
};
#undef STATUS_NAME_ROW

const char *ft_smtp_status_name(enum ft_smtp_status st)
{
	if ((unsigned)st >= FT_SMTP_STATUS_COUNT)
		return "unknown";
	return status_names[st];
}

void ft_smtp_config_default(struct ft_smtp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_probes = FT_SMTP_DEFAULT_MAX_PROBES;
	cfg->connect_timeout_ms = FT_SMTP_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->timeout_ms = FT_SMTP_DEFAULT_TIMEOUT_MS;
	cfg->port = FT_SMTP_DEFAULT_PORT;
	cfg->per_ip_max = FT_SMTP_DEFAULT_PER_IP_MAX;
	cfg->per_ip_rate = FT_SMTP_DEFAULT_PER_IP_RATE;
}

static void probe_fail(struct ft_probe *pr, enum ft_smtp_status st,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finish(struct ft_probe *pr, enum ft_smtp_status st);

/* ---- small helpers ---- */

static void set_state(struct ft_probe *pr, enum probe_state st)
{
	ST_DEBUG(pr->p->cfg.log, COMP, "%s: %s -> %s", pr->host,
		 state_names[pr->state], state_names[st]);
	pr->state = st;
}

__attribute__((format(printf, 2, 0)))
static void set_error(struct ft_probe *pr, const char *fmt, va_list ap)
{
	vsnprintf(pr->error, sizeof(pr->error), fmt, ap);
}

static void timer_ms(struct timeval *tv, unsigned ms)
{
	tv->tv_sec = (time_t)(ms / 1000u);
	tv->tv_usec = (suseconds_t)((ms % 1000u) * 1000u);
}

static uint32_t elapsed_ms(const struct timespec *t0)
{
	struct timespec now;
	int64_t ms;

	if (t0->tv_sec == 0 && t0->tv_nsec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	     (now.tv_nsec - t0->tv_nsec) / 1000000;
	return ms < 0 ? 0 : (uint32_t)ms;
}

/* An EHLO argument is a domain or an address literal (RFC 5321 §4.1.1.1):
 * printable, no space, so it cannot end the command line early. */
static bool ehlo_ok(const char *s)
{
	size_t n = strnlen(s, EHLO_MAX + 1);

	if (n == 0 || n > EHLO_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static void active_link(struct ft_prober *p, struct ft_probe *pr)
{
	st_list_push_front(&p->active, &pr->link);
	p->n_active++;
}

static void active_unlink(struct ft_prober *p, struct ft_probe *pr)
{
	st_list_remove(&pr->link);
	p->n_active--;
}

/* Unlink and return the first probe of l, or NULL. */
static struct ft_probe *probe_pop(struct st_list *l)
{
	struct st_link *k = st_list_pop_front(l);

	return k != NULL ? ST_CONTAINER(k, struct ft_probe, link) : NULL;
}

/* Close the connection, if any, and give its address's grant back (or
 * stop waiting for it).  Safe from inside its callbacks. */
static void conn_free(struct ft_probe *pr)
{
	ft_polite_release(pr->p->polite, &pr->pw);
	if (pr->tls) {
		bufferevent_free(pr->tls); /* and bev, and ssl */
	} else if (pr->bev) {
		bufferevent_free(pr->bev);
	}
	pr->tls = NULL;
	pr->bev = NULL;
	pr->ssl = NULL;
}

static void probe_free(struct ft_probe *pr)
{
	if (pr == NULL)
		return;
	conn_free(pr);
	if (pr->deadline)
		event_free(pr->deadline);
	if (pr->step)
		event_free(pr->step);
	ft_cert_clear(&pr->cert);
	free(pr->addrs);
	free(pr);
}

static struct bufferevent *conn(struct ft_probe *pr)
{
	return pr->tls ? pr->tls : pr->bev;
}

/* ---- the end of a probe ---- */

static void result_of(struct ft_probe *pr, enum ft_smtp_status st,
		      struct ft_smtp_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = st;
	r->host = pr->host;
	r->peer_ip = pr->connected ? pr->peer_ip : NULL;
	r->peer_port = pr->connected ? pr->peer_port : 0;
	r->n_addrs_denied = pr->n_denied;
	r->greeting = pr->greeting[0] ? pr->greeting : NULL;
	r->starttls_offered = pr->starttls_offered;
	r->reply_code = pr->reply_code;
	r->tls_version = pr->tls_version;
	r->cipher = pr->cipher;
	r->cert_known = pr->cert.known;
	r->cert_names = (const char *const *)pr->cert.names;
	r->n_cert_names = pr->cert.n_names;
	r->cert_subject = pr->cert.subject;
	r->cert_issuer = pr->cert.issuer;
	r->cert_not_before = pr->cert.not_before;
	r->cert_not_after = pr->cert.not_after;
	r->name_match = pr->cert.name_match;
	r->verify_error = pr->cert.known ? pr->cert.verify_error : -1;
	r->verify_error_str = ft_cert_error_string(&pr->cert);
	/* An earlier address's failure is not the reason for a success. */
	r->error = (st != FT_SMTP_TLS && pr->error[0]) ? pr->error : NULL;
	r->duration_ms = elapsed_ms(&pr->t0);
}

/*
 * Deliver st and free the probe.  May be called from inside the probe's
 * own bufferevent callbacks: after it returns, pr is gone.
 */
static void finish(struct ft_probe *pr, enum ft_smtp_status st)
{
	struct ft_prober *p = pr->p;
	struct ft_smtp_result r;

	conn_free(pr);
	event_del(pr->deadline);
	event_del(pr->step);
	if (pr->started)
		p->st.inflight--;
	if (st_link_linked(&pr->ready_link)) {
		st_list_remove(&pr->ready_link);
		p->n_ready--;
	}
	active_unlink(p, pr);
	set_state(pr, PS_DONE);
	result_of(pr, st, &r);
	p->st.completed++;
	if (st == FT_SMTP_NON_PUBLIC)
		p->st.denied++;
	ST_DEBUG(p->cfg.log, COMP,
		 "%s: %s peer=%s code=%d tls=%#x verify=%d%s%s", pr->host,
		 ft_smtp_status_name(st), r.peer_ip ? r.peer_ip : "-",
		 r.reply_code, (unsigned)r.tls_version, r.verify_error,
		 r.error ? " error=" : "", r.error ? r.error : "");
	pr->cb(&r, pr->arg);
	probe_free(pr);
	if (!p->freeing &&
	    (!st_list_empty(&p->queue) || !st_list_empty(&p->ready)))
		event_active(p->kick, EV_TIMEOUT, 1);
}

static void probe_fail(struct ft_probe *pr, enum ft_smtp_status st,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(pr, fmt, ap);
	va_end(ap);
	finish(pr, st);
}

/* The outcome is st; say QUIT politely (RFC 5321 §4.1.1.10) and end on
 * its reply, the server closing, or QUIT_WAIT_MS.  Returns true if the
 * probe lives on (in PS_QUIT), false if it has ended. */
static bool quit(struct ft_probe *pr, enum ft_smtp_status st)
{
	static const char cmd[] = "QUIT\r\n";
	struct timeval tv;

	pr->status = st;
	set_state(pr, PS_QUIT);
	pr->n_lines = 0;
	timer_ms(&tv, QUIT_WAIT_MS);
	if (bufferevent_write(conn(pr), cmd, sizeof(cmd) - 1) != 0 ||
	    evtimer_add(pr->step, &tv) != 0) {
		finish(pr, st);
		return false;
	}
	return true;
}

/* Like quit(), with a reason. */
static bool quit_with(struct ft_probe *pr, enum ft_smtp_status st,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool quit_with(struct ft_probe *pr, enum ft_smtp_status st,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(pr, fmt, ap);
	va_end(ap);
	return quit(pr, st);
}

/* ---- TLS ---- */

/*
 * The SSL_CTX's cert-verify callback: record the leaf and the first X509
 * error (ft_cert), and let the handshake go on whatever the verdict, so
 * that a broken certificate is measured, not just refused.
 */
static int verify_cb(X509_STORE_CTX *ctx, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx,
		SSL_get_ex_data_X509_STORE_CTX_idx());
	struct ft_probe *pr = ssl ? SSL_get_app_data(ssl) : NULL;

	(void)arg;
	if (pr == NULL)
		return 0;
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx),
					 VERIFY_AUTH_LEVEL);
	(void)ft_cert_verify(&pr->cert, ctx, pr->host);
	/* A CA directory is read file by file during verification: out of
	 * descriptors, the issuer is "not found", which would read as the
	 * host's untrusted chain.  See ft_fd_exhausted(). */
	if (pr->cert.verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    pr->cert.verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
		pr->local_errno = ft_fd_exhausted();
	return 1;
}

static SSL_CTX *ctx_new(const char *ca_file, struct st_log *log)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (ctx == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS) != 1)
		goto fail;
	/* No resumption: every probe verifies the chain afresh.  No
	 * renegotiation: the verify callback's probe must not change under
	 * it.  A server without RFC 5746 support is measured, not refused
	 * (we never renegotiate, so its weakness cannot be used on us). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_NO_COMPRESSION |
				 SSL_OP_LEGACY_SERVER_CONNECT);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
	if (ca_file)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ST_ERR(log, COMP, "cannot load CA certificates from %s",
		       ca_file ? ca_file : "the system store");
		goto fail;
	}
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

/* STARTTLS was answered 220: put the OpenSSL filter over the socket. */
static void start_tls(struct ft_probe *pr)
{
	SSL *ssl = SSL_new(pr->p->ctx);
	struct bufferevent *tls;

	if (ssl == NULL) {
		ERR_clear_error();
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "SSL_new failed");
		return;
	}
	/* RFC 8461 §4.2 (and RFC 6066 §3): SNI is the MX host name. */
	if (SSL_set_app_data(ssl, pr) != 1 ||
	    SSL_set_tlsext_host_name(ssl, pr->host) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "SSL set-up failed");
		return;
	}
	tls = bufferevent_openssl_filter_new(pr->p->base, pr->bev, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		/* libevent freed ssl (CLOSE_ON_FREE); the socket
		 * bufferevent is still ours, and finish() frees it. */
		ERR_clear_error();
		probe_fail(pr, FT_SMTP_LOCAL_ERROR,
			   "cannot create the TLS bufferevent");
		return;
	}
	pr->tls = tls;
	pr->ssl = ssl;
	set_state(pr, PS_HANDSHAKE);
	bufferevent_setcb(tls, read_cb, NULL, event_cb, pr);
	bufferevent_setwatermark(tls, EV_READ, 0, READ_HWM);
	if (bufferevent_enable(tls, EV_READ) != 0)
		probe_fail(pr, FT_SMTP_LOCAL_ERROR,
			   "bufferevent_enable failed");
}

static void handshake_done(struct ft_probe *pr)
{
	pr->tls_version = SSL_version(pr->ssl);
	pr->cipher = SSL_get_cipher_name(pr->ssl);
	if (pr->local_errno != 0) {
		snprintf(pr->error, sizeof(pr->error), "certificate check: %s",
			 strerror(pr->local_errno));
		(void)quit(pr, FT_SMTP_LOCAL_ERROR);
		return;
	}
	(void)quit(pr, FT_SMTP_TLS);
}

/* The handshake failed: OpenSSL's first error, or how the socket ended. */
static void handshake_failed(struct ft_probe *pr, short what)
{
	unsigned long e, first = 0;
	int sock_err = EVUTIL_SOCKET_ERROR();
	char buf[200];

	while ((e = bufferevent_get_openssl_error(pr->tls)) != 0)
		if (first == 0)
			first = e;
	ERR_clear_error();
	if (first != 0) {
		ERR_error_string_n(first, buf, sizeof(buf));
		probe_fail(pr, FT_SMTP_TLS_HANDSHAKE, "TLS handshake: %s", buf);
	} else if (what & BEV_EVENT_EOF) {
		probe_fail(pr, FT_SMTP_TLS_HANDSHAKE,
			   "TLS handshake: connection closed by the server");
	} else {
		probe_fail(pr, FT_SMTP_TLS_HANDSHAKE, "TLS handshake: %s",
			   sock_err ? evutil_socket_error_to_string(sock_err) :
				      "failed");
	}
}

/* ---- SMTP replies (RFC 5321 §4.2) ---- */

static bool send_cmd(struct ft_probe *pr, const char *verb, const char *arg)
{
	char line[EHLO_MAX + 16];
	int n = arg ? snprintf(line, sizeof(line), "%s %s\r\n", verb, arg) :
		      snprintf(line, sizeof(line), "%s\r\n", verb);

	if (n < 0 || (size_t)n >= sizeof(line) ||
	    bufferevent_write(conn(pr), line, (size_t)n) != 0) {
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "cannot send %s", verb);
		return false;
	}
	return true;
}

/*
 * Reply-line = Reply-code [ ( "-" / SP ) textstring ] CRLF, the code
 * %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).  *last is false for a "-"
 * continuation line.  A bare code is a last line.
 */
static bool parse_reply_line(const char *s, size_t n, int *code, bool *last)
{
	if (n < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
	    s[2] < '0' || s[2] > '9')
		return false;
	*code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (n == 3 || s[3] == ' ') {
		*last = true;
		return true;
	}
	if (s[3] == '-') {
		*last = false;
		return true;
	}
	return false;
}

/* RFC 5321 §4.1.1.1: after the first line of the EHLO reply, each line is
 * ehlo-keyword *( SP ehlo-param ); keywords are case-insensitive.  RFC
 * 3207 §4: STARTTLS takes no parameters. */
static bool is_starttls(const char *s, size_t n)
{
	if (n < 4 + 8 || strncasecmp(s + 4, "STARTTLS", 8) != 0)
		return false;
	return n == 12 || s[12] == ' ';
}

static void keep_greeting(struct ft_probe *pr, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		pr->greeting[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	pr->greeting[n] = '\0';
}

/* A complete reply with code: advance.  Returns true if the probe is
 * still reading replies on the same connection. */
static bool on_reply(struct ft_probe *pr, int code, struct evbuffer *in)
{
	/* QUIT's reply is not part of the outcome. */
	if (pr->state != PS_QUIT)
		pr->reply_code = code;
	switch (pr->state) {
	case PS_GREETING:
		/* RFC 5321 §3.1: 554 (or anything else) is no service. */
		if (code != 220)
			return quit_with(pr, FT_SMTP_BAD_GREETING,
					 "greeting: %s", pr->greeting);
		if (!send_cmd(pr, "EHLO", pr->p->ehlo_name))
			return false;
		set_state(pr, PS_EHLO);
		return true;
	case PS_EHLO:
		if (code != 250)
			return quit_with(pr, FT_SMTP_EHLO_FAILED,
					 "EHLO answered %d", code);
		if (!pr->starttls_offered)
			return quit_with(pr, FT_SMTP_NO_STARTTLS,
					 "STARTTLS not offered");
		if (!send_cmd(pr, "STARTTLS", NULL))
			return false;
		set_state(pr, PS_STARTTLS);
		return true;
	case PS_STARTTLS:
		if (code != 220)
			return quit_with(pr, FT_SMTP_STARTTLS_REFUSED,
					 "STARTTLS answered %d", code);
		/* Nothing may follow the 220 in clear (RFC 3207 §5 and the
		 * STARTTLS command injection attacks): the next bytes are
		 * TLS. */
		if (evbuffer_get_length(in) != 0) {
			probe_fail(pr, FT_SMTP_PROTOCOL,
				   "data after the STARTTLS reply");
			return false;
		}
		start_tls(pr);
		return false;
	case PS_QUIT:
		finish(pr, pr->status);
		return false;
	default:
		return false;
	}
}

/* One reply line (CRLF removed).  Returns true to go on reading. */
static bool on_line(struct ft_probe *pr, const char *s, size_t n,
		    struct evbuffer *in)
{
	int code;
	bool last;

	if (!parse_reply_line(s, n, &code, &last)) {
		if (pr->state == PS_QUIT) {
			finish(pr, pr->status);
			return false;
		}
		if (pr->state == PS_GREETING && pr->greeting[0] == '\0')
			keep_greeting(pr, s, n);
		probe_fail(pr, FT_SMTP_PROTOCOL, "malformed reply line in %s",
			   state_names[pr->state]);
		return false;
	}
	if (pr->state == PS_GREETING && pr->greeting[0] == '\0')
		keep_greeting(pr, s, n);
	if (pr->state == PS_EHLO && pr->n_lines > 0 && is_starttls(s, n))
		pr->starttls_offered = true;
	if (++pr->n_lines > REPLY_LINES_MAX) {
		probe_fail(pr, FT_SMTP_PROTOCOL, "reply of more than %u lines",
			   REPLY_LINES_MAX);
		return false;
	}
	if (!last)
		return true;
	/* RFC 5321 §4.2.1 wants one code on every line; like sending MTAs,
	 * take the last line's. */
	pr->n_lines = 0;
	return on_reply(pr, code, in);
}

static bool reading(const struct ft_probe *pr)
{
	return pr->state == PS_GREETING || pr->state == PS_EHLO ||
	       pr->state == PS_STARTTLS || pr->state == PS_QUIT;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct ft_probe *pr = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (reading(pr)) {
		char line[FT_SMTP_LINE_MAX + 1];
		struct evbuffer_ptr eol;
		size_t eol_len = 0;
		size_t len;

		eol = evbuffer_search_eol(in, NULL, &eol_len,
					  EVBUFFER_EOL_CRLF);
		if (eol.pos < 0) {
			/* READ_HWM stops reading at one line and its
			 * CRLF: fuller without a line end is too long. */
			if (evbuffer_get_length(in) <= FT_SMTP_LINE_MAX + 1)
				return;
			len = FT_SMTP_LINE_MAX + 1;
		} else {
			len = (size_t)eol.pos;
		}
		if (len > FT_SMTP_LINE_MAX) {
			if (pr->state == PS_QUIT)
				finish(pr, pr->status);
			else
				probe_fail(pr, FT_SMTP_PROTOCOL,
					   "reply line over %u bytes in %s",
					   FT_SMTP_LINE_MAX,
					   state_names[pr->state]);
			return;
		}
		if (evbuffer_remove(in, line, len) != (int)len ||
		    evbuffer_drain(in, eol_len) != 0) {
			probe_fail(pr, FT_SMTP_LOCAL_ERROR, "evbuffer failed");
			return;
		}
		line[len] = '\0';
		if (!on_line(pr, line, len, in))
			return;
	}
}

/* ---- connecting ---- */

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf,
		      size_t cap, uint16_t *port)
{
	const void *a;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a = &s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		a = &s4->sin_addr;
		*port = ntohs(s4->sin_port);
	}
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Run the whole-probe deadline (again) for what is left of it. */
static int deadline_arm(struct ft_probe *pr)
{
	struct timeval tv;
	uint64_t now = mono_us();

	if (pr->deadline_armed)
		return ST_OK;
	tv.tv_sec = (time_t)(pr->deadline_left_us / 1000000u);
	tv.tv_usec = (suseconds_t)(pr->deadline_left_us % 1000000u);
	if (evtimer_add(pr->deadline, &tv) != 0)
		return ST_EUNKNOWN;
	pr->deadline_at.tv_sec = (time_t)((now + pr->deadline_left_us) / 1000000u);
	pr->deadline_at.tv_nsec =
		(long)((now + pr->deadline_left_us) % 1000000u) * 1000;
	pr->deadline_armed = true;
	return ST_OK;
}

/* Stop the deadline while the probe waits for its next address: our own
 * queue is not the host's slowness. */
static void deadline_pause(struct ft_probe *pr)
{
	uint64_t at, now = mono_us();

	if (!pr->deadline_armed)
		return;
	event_del(pr->deadline);
	at = (uint64_t)pr->deadline_at.tv_sec * 1000000u +
	     (uint64_t)pr->deadline_at.tv_nsec / 1000u;
	pr->deadline_left_us = at > now ? at - now : 0;
	pr->deadline_armed = false;
}

static void connect_now(struct ft_probe *pr);

/* The next address's grant came, from the loop: connect if a slot is
 * free, else wait on the ready list (kick_cb() takes it first). */
static void on_addr_granted(struct ft_polite_waiter *w)
{
	struct ft_probe *pr = w->arg;
	struct ft_prober *p = pr->p;

	if (p->st.inflight >= p->cfg.max_probes) {
		st_list_push_back(&p->ready, &pr->ready_link);
		p->n_ready++;
		return;
	}
	pr->started = true;
	p->st.inflight++;
	connect_now(pr);
}

/* Connect to the next allowed address once its politeness cap allows,
 * or end the probe when none is left. */
static void try_next(struct ft_probe *pr)
{
	struct ft_prober *p = pr->p;
	int r;

	conn_free(pr);
	if (pr->next_addr == pr->n_addrs) {
		finish(pr, pr->connect_timed_out ? FT_SMTP_CONNECT_TIMEOUT :
						   FT_SMTP_CONNECT_REFUSED);
		return;
	}
	pr->pw.fn = on_addr_granted;
	pr->pw.arg = pr;
	r = ft_polite_acquire(p->polite,
			      (const struct sockaddr *)&pr->addrs[pr->next_addr],
			      &pr->pw);
	if (r < 0) {
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "address cap: %s",
			   st_strerror(r));
		return;
	}
	if (r == 1) {
		connect_now(pr);
		return;
	}
	/* Wait without a slot or a deadline (see the top of the file). */
	deadline_pause(pr);
	set_state(pr, PS_WAIT_ADDR);
	if (pr->started) {
		pr->started = false;
		p->st.inflight--;
		if (!st_list_empty(&p->queue) || !st_list_empty(&p->ready))
			event_active(p->kick, EV_TIMEOUT, 1);
	}
}

/* Connect to addrs[next_addr], whose grant pr holds.  A failure to
 * create the socket is ours (LOCAL_ERROR); any other immediate failure
 * moves on to the next address. */
static void connect_now(struct ft_probe *pr)
{
	struct ft_prober *p = pr->p;
	const struct sockaddr_storage *ss = &pr->addrs[pr->next_addr++];
	struct timeval tv;
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
	int err;

	set_state(pr, PS_CONNECT);
	if (pr->t0.tv_sec == 0 && pr->t0.tv_nsec == 0)
		clock_gettime(CLOCK_MONOTONIC, &pr->t0);
	if (deadline_arm(pr) != ST_OK) {
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "evtimer_add failed");
		return;
	}
	pr->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (pr->bev == NULL) {
		probe_fail(pr, FT_SMTP_LOCAL_ERROR,
			   "bufferevent_socket_new failed");
		return;
	}
	bufferevent_setcb(pr->bev, read_cb, NULL, event_cb, pr);
	errno = 0;
	if (bufferevent_socket_connect(pr->bev, (const struct sockaddr *)ss,
				       (int)sa_len(ss)) == 0) {
		timer_ms(&tv, p->cfg.connect_timeout_ms);
		pr->step_at_us = mono_us() +
				 (uint64_t)p->cfg.connect_timeout_ms * 1000u;
		if (evtimer_add(pr->step, &tv) != 0)
			probe_fail(pr, FT_SMTP_LOCAL_ERROR,
				   "evtimer_add failed");
		return;
	}
	err = errno;
	addr_text(ss, ip, sizeof(ip), &port);
	if (ft_errno_local(err)) {
		probe_fail(pr, FT_SMTP_LOCAL_ERROR, "connect to %s: %s", ip,
			   strerror(err));
		return;
	}
	snprintf(pr->error, sizeof(pr->error), "connect to %s: %s", ip,
		 err ? strerror(err) : "failed");
	pr->connect_timed_out = false;
	try_next(pr);
}

static void on_connected(struct ft_probe *pr)
{
	event_del(pr->step);
	addr_text(&pr->addrs[pr->next_addr - 1], pr->peer_ip,
		  sizeof(pr->peer_ip), &pr->peer_port);
	pr->connected = true;
	pr->error[0] = '\0';
	set_state(pr, PS_GREETING);
	bufferevent_setwatermark(pr->bev, EV_READ, 0, READ_HWM);
	if (bufferevent_enable(pr->bev, EV_READ) != 0)
		probe_fail(pr, FT_SMTP_LOCAL_ERROR,
			   "bufferevent_enable failed");
}

/* The connection ended (or failed) before the outcome was decided. */
static void on_closed(struct ft_probe *pr, short what)
{
	int err = EVUTIL_SOCKET_ERROR();
	const char *how = (what & BEV_EVENT_EOF) ?
				  "connection closed by the server" :
			  err ? evutil_socket_error_to_string(err) :
				"connection error";

	switch (pr->state) {
	case PS_GREETING:
		probe_fail(pr, FT_SMTP_BAD_GREETING, "before the greeting: %s",
			   how);
		break;
	case PS_EHLO:
		probe_fail(pr, FT_SMTP_EHLO_FAILED, "after EHLO: %s", how);
		break;
	case PS_STARTTLS:
		probe_fail(pr, FT_SMTP_STARTTLS_REFUSED, "after STARTTLS: %s",
			   how);
		break;
	case PS_QUIT:
		finish(pr, pr->status);
		break;
	default:
		break;
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ft_probe *pr = arg;

	(void)bev;
	switch (pr->state) {
	case PS_CONNECT:
		if (what & BEV_EVENT_CONNECTED) {
			on_connected(pr);
		} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
			int err = EVUTIL_SOCKET_ERROR();
			char ip[INET6_ADDRSTRLEN];
			uint16_t port;

			event_del(pr->step);
			addr_text(&pr->addrs[pr->next_addr - 1], ip,
				  sizeof(ip), &port);
			if (ft_errno_local(err)) {
				/* ENOBUFS, EADDRNOTAVAIL: not the host's */
				probe_fail(pr, FT_SMTP_LOCAL_ERROR,
					   "connect to %s: %s", ip,
					   evutil_socket_error_to_string(err));
				break;
			}
			snprintf(pr->error, sizeof(pr->error),
				 "connect to %s: %s", ip,
				 err ? evutil_socket_error_to_string(err) :
				       "failed");
			pr->connect_timed_out = false;
			try_next(pr);
		}
		break;
	case PS_HANDSHAKE:
		if (what & BEV_EVENT_CONNECTED)
			handshake_done(pr);
		else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
			handshake_failed(pr, what);
		break;
	default:
		if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
			on_closed(pr, what);
		break;
	}
}

/* ---- timers ---- */

/* Did a timer due at due_us fire late enough to blame our own loop
 * (FT_SMTP_LATE_MS)?  Then the probe ends as our fault. */
static bool fired_late(struct ft_probe *pr, uint64_t due_us,
		       const char *which)
{
	uint64_t now = mono_us();

	if (now <= due_us || now - due_us <= (uint64_t)FT_SMTP_LATE_MS * 1000u)
		return false;
	probe_fail(pr, FT_SMTP_LOCAL_ERROR,
		   "%s fired %llu ms late in %s: this machine is overloaded",
		   which, (unsigned long long)((now - due_us) / 1000u),
		   state_names[pr->state]);
	return true;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ft_probe *pr = arg;
	uint64_t due = (uint64_t)pr->deadline_at.tv_sec * 1000000u +
		       (uint64_t)pr->deadline_at.tv_nsec / 1000u;

	(void)fd;
	(void)what;
	pr->deadline_armed = false;
	if (pr->state != PS_QUIT && fired_late(pr, due, "the deadline"))
		return;
	switch (pr->state) {
	case PS_CONNECT:
		probe_fail(pr, FT_SMTP_CONNECT_TIMEOUT,
			   "no connection within %u ms", pr->p->cfg.timeout_ms);
		break;
	case PS_QUIT:
		finish(pr, pr->status);
		break;
	default:
		probe_fail(pr, FT_SMTP_TIMEOUT,
			   "deadline of %u ms passed in %s",
			   pr->p->cfg.timeout_ms, state_names[pr->state]);
		break;
	}
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ft_probe *pr = arg;
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;

	(void)fd;
	(void)what;
	switch (pr->state) {
	case PS_QUEUED: /* denied: deliver from the loop */
		finish(pr, FT_SMTP_NON_PUBLIC);
		break;
	case PS_CONNECT:
		if (fired_late(pr, pr->step_at_us, "the connect timeout"))
			break;
		addr_text(&pr->addrs[pr->next_addr - 1], ip, sizeof(ip), &port);
		snprintf(pr->error, sizeof(pr->error),
			 "connect to %s timed out after %u ms", ip,
			 pr->p->cfg.connect_timeout_ms);
		pr->connect_timed_out = true;
		try_next(pr);
		break;
	case PS_QUIT:
		finish(pr, pr->status);
		break;
	default:
		break;
	}
}

/* ---- the queue ---- */

static void start(struct ft_probe *pr)
{
	struct ft_prober *p = pr->p;

	pr->started = true;
	p->st.inflight++;
	active_link(p, pr);
	pr->deadline_left_us = (uint64_t)p->cfg.timeout_ms * 1000u;
	try_next(pr);
}

/* Start queued probes while there is room.  Always from the loop, so a
 * callback never runs inside ft_probe_smtp(). */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ft_prober *p = arg;

	(void)fd;
	(void)what;
	while (!st_list_empty(&p->ready) &&
	       p->st.inflight < p->cfg.max_probes) {
		struct ft_probe *pr = ST_CONTAINER(st_list_pop_front(&p->ready),
						   struct ft_probe, ready_link);

		p->n_ready--;
		pr->started = true;
		p->st.inflight++;
		connect_now(pr);
	}
	while (!st_list_empty(&p->queue) &&
	       p->st.inflight < p->cfg.max_probes) {
		p->st.queued--;
		start(probe_pop(&p->queue));
	}
}

/* ---- API ---- */

int ft_prober_new(struct event_base *base, const struct ft_smtp_config *cfg,
		  struct ft_prober **out)
{
	struct ft_prober *p;
	int ret = ST_ENOMEM;

	if (out)
		*out = NULL;
	if (base == NULL || cfg == NULL || out == NULL ||
	    cfg->max_probes == 0 || cfg->connect_timeout_ms == 0 ||
	    cfg->timeout_ms == 0 || cfg->port == 0 ||
	    (cfg->ehlo_name && !ehlo_ok(cfg->ehlo_name)))
		return ST_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ST_ENOMEM;
	st_list_init(&p->queue);
	st_list_init(&p->ready);
	st_list_init(&p->active);
	p->base = base;
	p->cfg = *cfg;
	{
		struct ft_polite_config pc = {
			.max_conns = cfg->per_ip_max,
			.rate = cfg->per_ip_rate,
			.burst = cfg->per_ip_max > 0 ? cfg->per_ip_max : 1,
		};

		ret = ft_polite_new(base, &pc, &p->polite);
		if (ret != ST_OK) {
			free(p);
			return ret;
		}
		ret = ST_ENOMEM;
	}
	p->guard.allow_private = cfg->allow_private;
	p->ehlo_name = strdup(cfg->ehlo_name ? cfg->ehlo_name : FT_SMTP_DEFAULT_EHLO);
	if (p->ehlo_name == NULL)
		goto fail;
	if (cfg->ca_file) {
		p->ca_file = strdup(cfg->ca_file);
		if (p->ca_file == NULL)
			goto fail;
	}
	p->cfg.ehlo_name = p->ehlo_name;
	p->cfg.ca_file = p->ca_file;
	p->kick = event_new(base, -1, 0, kick_cb, p);
	if (p->kick == NULL)
		goto fail;
	p->ctx = ctx_new(p->ca_file, cfg->log);
	if (p->ctx == NULL) {
		ret = ST_ETLS;
		goto fail;
	}
	*out = p;
	return ST_OK;
fail:
	if (p->kick)
		event_free(p->kick);
	ft_polite_free(p->polite);
	free(p->ehlo_name);
	free(p->ca_file);
	free(p);
	return ret;
}

int ft_probe_smtp(struct ft_prober *p, const char *host,
		  const struct sockaddr *const *addrs, size_t n_addrs,
		  ft_smtp_callback cb, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct ft_probe *pr;
	int ret = ST_ENOMEM;

	if (p == NULL || host == NULL || addrs == NULL || n_addrs == 0 ||
	    cb == NULL || p->freeing || !ft_host_ok(host))
		return ST_EINVAL;
	pr = calloc(1, sizeof(*pr));
	if (pr == NULL)
		return ST_ENOMEM;
	pr->p = p;
	pr->cb = cb;
	pr->arg = arg;
	pr->status = FT_SMTP_LOCAL_ERROR;
	memcpy(pr->host, host, strlen(host) + 1);
	pr->addrs = calloc(n_addrs, sizeof(*pr->addrs));
	pr->deadline = evtimer_new(p->base, deadline_cb, pr);
	pr->step = evtimer_new(p->base, step_cb, pr);
	if (pr->addrs == NULL || pr->deadline == NULL || pr->step == NULL)
		goto fail;
	for (size_t i = 0; i < n_addrs; i++) {
		struct sockaddr_storage *ss = &pr->addrs[pr->n_addrs];

		ret = ft_guard_check(&p->guard, addrs[i], NULL);
		if (ret == ST_EINVAL)
			goto fail;
		if (ret != ST_OK) {
			pr->n_denied++;
			continue;
		}
		if (addrs[i]->sa_family == AF_INET6) {
			memcpy(ss, addrs[i], sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)(void *)ss)->sin6_port =
				htons(p->cfg.port);
		} else {
			memcpy(ss, addrs[i], sizeof(struct sockaddr_in));
			((struct sockaddr_in *)(void *)ss)->sin_port =
				htons(p->cfg.port);
		}
		pr->n_addrs++;
	}
	p->st.submitted++;
	if (pr->n_addrs == 0) {
		/* Nothing to connect to: deliver from the loop. */
		active_link(p, pr);
		if (evtimer_add(pr->step, &now) != 0) {
			active_unlink(p, pr);
			p->st.submitted--;
			ret = ST_EUNKNOWN;
			goto fail;
		}
		return ST_OK;
	}
	st_list_push_back(&p->queue, &pr->link);
	p->st.queued++;
	event_active(p->kick, EV_TIMEOUT, 1);
	return ST_OK;
fail:
	probe_free(pr);
	return ret;
}

void ft_prober_stats(const struct ft_prober *p, struct ft_smtp_stats *out)
{
	struct ft_polite_stats ps;

	*out = p->st;
	ft_polite_stats(p->polite, &ps);
	out->addr_waiting = ps.waiting;
	out->addr_peak = ps.peak;
	out->addr_waited = ps.waited;
}

size_t ft_prober_pending(const struct ft_prober *p)
{
	return p->st.queued + p->n_active;
}

void ft_prober_free(struct ft_prober *p)
{
	if (p == NULL)
		return;
	p->freeing = true;
	while (!st_list_empty(&p->active))
		probe_fail(ST_CONTAINER(st_list_first(&p->active),
					struct ft_probe, link),
			   FT_SMTP_CANCELLED, "prober freed");
	while (!st_list_empty(&p->queue)) {
		struct ft_probe *pr = probe_pop(&p->queue);

		p->st.queued--;
		/* finish() unlinks from the active list: link it first. */
		active_link(p, pr);
		probe_fail(pr, FT_SMTP_CANCELLED, "prober freed");
	}
	event_free(p->kick);
	ft_polite_free(p->polite);
	SSL_CTX_free(p->ctx);
	free(p->ehlo_name);
	free(p->ca_file);
	free(p);
}
