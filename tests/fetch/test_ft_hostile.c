/*
 * test_ft_hostile.c - fetch/ against servers that misbehave on purpose:
 * each must cost at most its timeout and end with the precise status.
 *
 *   HTTPS (ft_fetch), on 127.6.0.6, ephemeral ports:
 *     garbage      answers the ClientHello with random bytes
 *     slowloris    status line, then one header byte a second
 *     endless      a valid 200 text/plain header without Content-Length,
 *                  then body bytes until the client goes away
 *     hang-up      accepts the TCP connection and closes it at once
 *     old-tls      speaks only TLS 1.0 and 1.1
 *     short-body   a valid policy under "Content-Length: 100000", then a
 *                  TLS close_notify and close (or, abrupt, a bare close;
 *                  or, held, the connection kept open)
 *   SMTP (ft_smtp):
 *     tarpit       drips its 220 banner one byte a second (127.7.0.12)
 *     silent       accepts and never speaks (127.7.0.12)
 *     full queue   a listener whose accept queue is full drops SYNs, so
 *                  the TCP connect itself times out (127.7.0.11)
 *
 * Every server is a forked child running blocking OpenSSL (or plain
 * sockets) on a listener the parent bound, so the fetcher's event loop in
 * the parent is never the one serving it.  The child dies with the test
 * (PR_SET_PDEATHSIG), after an alarm() at the latest, or when the test
 * kills it; it only ever calls _exit().  The certificates (a root, an
 * intermediate and a leaf for hostile.test) come from datasets/ds_certs.
 *
 * Every fetch or probe runs under a hard deadline (an evtimer that breaks
 * the loop and fails the test), and leaves no descriptor behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ds_certs.h"
#include "ft_fetch.h"
#include "ft_testutil.h"
#include "ft_smtp.h"
#include "st_error.h"

#define HTTPS_IP "127.6.0.6"
#define SMTP_IP "127.7.0.12"
#define BACKLOG_IP "127.7.0.11"
#define HOST "hostile.test"
#define DEADLINE_S 20
#define CHILD_ALARM_S 60
#define DAY 86400

static struct world {
	char dir[64];
	char ca_path[128];
	char chain_path[128]; /* leaf for HOST, then the intermediate */
	char key_path[128];
} W;

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- the hostile servers (forked children; _exit() only) ---- */

enum behaviour {
	B_GARBAGE,   /* random bytes for a ServerHello */
	B_SLOWLORIS, /* status line, then a header byte a second */
	B_ENDLESS,   /* 200 text/plain, no Content-Length, bytes forever */
	B_HANG_UP,   /* accept, close */
	B_OLD_TLS,   /* TLS 1.0 and 1.1 only */
	B_SHORT_BODY, /* Content-Length 100000, a 70-byte body, close_notify */
	B_SHORT_ABRUPT, /* the same, then close without close_notify */
	B_SHORT_HELD, /* the same, then keep the connection open */
	B_TARPIT,    /* SMTP: the banner a byte a second */
	B_SILENT,    /* accept, never speak, wait for the client to go */
};

struct server {
	pid_t pid;
	uint16_t port;
};

/* xorshift32: reproducible garbage, a fresh stream per connection. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Write all of buf, or fail (the client went away). */
static bool write_all(int fd, SSL *ssl, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t k = ssl ? SSL_write(ssl, p, (int)n) : write(fd, p, n);

		if (k <= 0) {
			if (!ssl && k < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Read the HTTP request up to its blank line; false if it never came. */
static bool read_request(SSL *ssl)
{
	char buf[4096];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		int k = SSL_read(ssl, buf + n, (int)(sizeof(buf) - 1 - n));

		if (k <= 0)
			return false;
		n += (size_t)k;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return true;
	}
	return false;
}

static SSL_CTX *server_ctx(enum behaviour b)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, W.chain_path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, W.key_path, SSL_FILETYPE_PEM) != 1)
		goto fail;
	if (b == B_OLD_TLS) {
		/* OpenSSL 3 allows TLS < 1.2 only at security level 0. */
		if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
		    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION) != 1 ||
		    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1)
			goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void drain(int c);

/* A valid enforce policy: only the transfer is broken (70 bytes). */
#define SHORT_POLICY "version: STSv1\nmode: enforce\nmx: mail.hostile.test\n" \
		     "max_age: 86400\n"

/* The TLS behaviours, on an accepted connection c. */
static void serve_tls(SSL_CTX *ctx, int c, enum behaviour b)
{
	static const char hdr[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	static char chunk[16384];
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, c) != 1 || SSL_accept(ssl) != 1 ||
	    !read_request(ssl))
		goto done; /* B_OLD_TLS ends here: no common version */
	if (b == B_SLOWLORIS) {
		static const char slow[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa";

		if (!write_all(c, ssl, "HTTP/1.1 200 OK\r\n", 17))
			goto done;
		for (size_t i = 0; i < sizeof(slow) - 1; i++) {
			sleep(1);
			if (!write_all(c, ssl, slow + i, 1))
				goto done;
		}
	} else if (b == B_ENDLESS) {
		memset(chunk, 'z', sizeof(chunk));
		if (!write_all(c, ssl, hdr, sizeof(hdr) - 1))
			goto done;
		while (write_all(c, ssl, chunk, sizeof(chunk)))
			;
	} else if (b == B_SHORT_BODY || b == B_SHORT_ABRUPT ||
		   b == B_SHORT_HELD) {
		char resp[512];
		int n = snprintf(resp, sizeof(resp),
				 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 100000\r\n\r\n%s",
				 SHORT_POLICY);

		if (!write_all(c, ssl, resp, (size_t)n))
			goto done;
		if (b == B_SHORT_BODY)
			SSL_shutdown(ssl);
		else if (b == B_SHORT_HELD)
			drain(c);
	}
done:
	SSL_free(ssl);
}

/* Drain what the client still sends until it closes (or 5 s pass). */
static void drain(int c)
{
	struct timeval tv = { 5, 0 };
	char buf[4096];

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (read(c, buf, sizeof(buf)) > 0)
		;
}

static void serve_conn(SSL_CTX *ctx, int c, enum behaviour b, uint32_t seed)
{
	static const char banner[] = "220 tarpit.test ESMTP\r\n";
	/* More than the largest TLS record (2^14 + 2048 + 5 bytes), so
	 * whatever header the garbage happens to start with, the client
	 * gets a whole record to reject rather than waiting for more. */
	static uint8_t junk[20000];
	char hello[4096];

	switch (b) {
	case B_GARBAGE:
		if (read(c, hello, sizeof(hello)) <= 0)
			break;
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)next_rand(&seed);
		if (write_all(c, NULL, junk, sizeof(junk))) {
			shutdown(c, SHUT_WR);
			drain(c);
		}
		break;
	case B_HANG_UP:
		break;
	case B_SILENT:
		drain(c);
		break;
	case B_TARPIT:
		for (size_t i = 0; i < sizeof(banner) - 1; i++) {
			if (!write_all(c, NULL, banner + i, 1))
				break;
			sleep(1);
		}
		break;
	default:
		serve_tls(ctx, c, b);
		break;
	}
	close(c);
}

static void child_main(int fd, enum behaviour b, pid_t test)
{
	SSL_CTX *ctx = NULL;
	uint32_t seed = 0x5eed;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != test)
		_exit(1); /* the test died before prctl() */
	signal(SIGPIPE, SIG_IGN);
	alarm(CHILD_ALARM_S);
	if (b == B_SLOWLORIS || b == B_ENDLESS || b == B_OLD_TLS ||
	    b == B_SHORT_BODY || b == B_SHORT_ABRUPT || b == B_SHORT_HELD) {
		ctx = server_ctx(b);
		if (ctx == NULL)
			_exit(2);
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		serve_conn(ctx, c, b, seed++);
	}
}

/* Start a server child for b on ip; the parent keeps no descriptor. */
static void server_start(struct server *s, const char *ip, enum behaviour b)
{
	int fd = ftt_listen(ip, 16, &s->port);
	pid_t test = getpid();

	fflush(NULL);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		child_main(fd, b, test);
	close(fd);
}

static void server_stop(struct server *s)
{
	int st;

	assert_int_equal(kill(s->pid, SIGKILL), 0);
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	/* Killed by us, not dead of its own (a set-up failure). */
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* ---- the fetcher's side ---- */

struct fgot {
	bool done;
	enum ft_status status;
	int http_status;
	char content_type[64];
	size_t body_len;
	bool cert_known;
	int64_t total_us;
	char error[CURL_ERROR_SIZE];
};

struct frun {
	struct event_base *base;
	struct fgot *g;
};

static void on_fetch(const struct ft_result *r, void *arg)
{
	struct frun *run = arg;
	struct fgot *g = run->g;

	g->done = true;
	g->status = r->status;
	g->http_status = r->http_status;
	snprintf(g->content_type, sizeof(g->content_type), "%s",
		 r->content_type ? r->content_type : "");
	g->body_len = r->body_len;
	g->cert_known = r->cert_known;
	g->total_us = r->total_us;
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	event_base_loopbreak(run->base);
}

static void fetch_config(struct ft_config *cfg)
{
	ft_config_default(cfg);
	cfg->ca_file = W.ca_path;
	cfg->allow_private = true;
	cfg->connect_timeout_ms = 3000;
	cfg->total_timeout_ms = 10000;
	cfg->per_ip_max = 0; /* the caps are test_ft_polite's */
	cfg->per_ip_rate = 0;
}

/* Fetch HOST at HTTPS_IP:port with cfg; *ms gets the wall time. */
static void fetch_at(const struct ft_config *cfg, uint16_t port,
		     struct fgot *g, long *ms)
{
	struct frun run = { 0 };
	struct ftt_deadline gd;
	struct ft_fetcher *f = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	struct timespec t0;

	memset(g, 0, sizeof(*g));
	ftt_sin(&sin, HTTPS_IP);
	run.base = event_base_new();
	run.g = g;
	assert_non_null(run.base);
	assert_int_equal(ft_fetcher_new(run.base, cfg, &f), ST_OK);
	ftt_deadline_start(&gd, run.base, DEADLINE_S);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ft_fetch_policy(f, HOST, addrs, 1, port, on_fetch,
					 &run), ST_OK);
	assert_int_equal(event_base_dispatch(run.base), 0);
	*ms = ms_since(&t0);
	ft_fetcher_free(f); /* a fetch still pending is cancelled first */
	ftt_deadline_end(&gd, "fetch");
	event_base_free(run.base);
	assert_true(g->done);
}

/* Start b, fetch from it with cfg, stop it; no descriptor left behind. */
static void fetch_hostile(enum behaviour b, const struct ft_config *cfg,
			  struct fgot *g, long *ms)
{
	struct server s;
	int before = ftt_count_fds();

	server_start(&s, HTTPS_IP, b);
	fetch_at(cfg, s.port, g, ms);
	server_stop(&s);
	assert_int_equal(ftt_count_fds(), before);
}

/* ---- HTTPS tests ---- */

/* Random bytes for a ServerHello: the handshake fails at once. */
static void test_garbage(void **state)
{
	struct ft_config cfg;
	struct fgot g;
	struct server s;
	long ms;
	int before = ftt_count_fds();

	(void)state;
	fetch_config(&cfg);
	server_start(&s, HTTPS_IP, B_GARBAGE);
	/* A fresh stream of garbage per connection. */
	for (int i = 0; i < 8; i++) {
		fetch_at(&cfg, s.port, &g, &ms);
		if (g.status != FT_TLS_HANDSHAKE)
			fail_msg("round %d: %s (%s)", i,
				 ft_status_name(g.status), g.error);
		assert_int_equal(g.http_status, 0);
		assert_false(g.cert_known);
		assert_true(g.error[0] != '\0');
		assert_true(ms < 3000);
	}
	server_stop(&s);
	assert_int_equal(ftt_count_fds(), before);
}

/* The status line, then a header byte a second: the total timeout ends
 * the fetch, not the server. */
static void test_slowloris(void **state)
{
	struct ft_config cfg;
	struct fgot g;
	long ms;

	(void)state;
	fetch_config(&cfg);
	cfg.total_timeout_ms = 3000;
	fetch_hostile(B_SLOWLORIS, &cfg, &g, &ms);
	if (g.status != FT_TIMEOUT)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
	assert_true(g.cert_known);
	assert_int_equal(g.body_len, 0);
	assert_true(g.total_us >= 2900000 && g.total_us < 4500000);
	assert_true(ms >= 2900 && ms < 4500);
	assert_non_null(strstr(g.error, "timed out"));
}

/* RFC 8461 §3.3: a body without end is cut at 64 KiB + 1 byte, at once. */
static void test_endless_body(void **state)
{
	struct ft_config cfg;
	struct fgot g;
	long ms;

	(void)state;
	fetch_config(&cfg);
	fetch_hostile(B_ENDLESS, &cfg, &g, &ms);
	if (g.status != FT_TOO_LARGE)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
	assert_int_equal(g.http_status, 200);
	assert_string_equal(g.content_type, "text/plain");
	assert_int_equal(g.body_len, FT_BODY_MAX);
	assert_true(ms < 3000);
}

/*
 * Accepted, then closed before a byte: the TCP connect succeeded and the
 * TLS handshake did not, which is FT_TLS_HANDSHAKE (not a refusal, not a
 * transfer error: no HTTP was ever spoken).  Whether the client's
 * ClientHello meets the FIN or an RST is a race; both end the same.
 */
static void test_hang_up(void **state)
{
	struct ft_config cfg;
	struct fgot g;
	struct server s;
	long ms;
	int before = ftt_count_fds();

	(void)state;
	fetch_config(&cfg);
	server_start(&s, HTTPS_IP, B_HANG_UP);
	for (int i = 0; i < 8; i++) {
		fetch_at(&cfg, s.port, &g, &ms);
		if (g.status != FT_TLS_HANDSHAKE)
			fail_msg("round %d: %s (%s)", i,
				 ft_status_name(g.status), g.error);
		assert_int_equal(g.http_status, 0);
		assert_false(g.cert_known);
		assert_true(g.error[0] != '\0');
		assert_true(ms < 3000);
	}
	server_stop(&s);
	assert_int_equal(ftt_count_fds(), before);
}

/*
 * A server that speaks only TLS 1.0 and 1.1 meets a client that offers
 * 1.2 and up (ft_fetch.h, RFC 8996): it answers with a protocol_version
 * alert before any certificate.  ft_result has no field for the reason,
 * so error must carry OpenSSL's text, which names it.  (Without the
 * fetcher's own floor, Debian's OpenSSL offered TLS 1.0, took the 1.1
 * ServerHello and the certificate, and failed on "legacy sigalg
 * disallowed": a misleading reason.)
 */
static void test_old_tls(void **state)
{
	struct ft_config cfg;
	struct fgot g;
	long ms;

	(void)state;
	fetch_config(&cfg);
	fetch_hostile(B_OLD_TLS, &cfg, &g, &ms);
	if (g.status != FT_TLS_HANDSHAKE)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
	assert_false(g.cert_known);
	if (strstr(g.error, "protocol version") == NULL)
		fail_msg("error does not say why: \"%s\"", g.error);
	assert_true(ms < 3000);
}

/*
 * RFC 7230 §3.3.3: "If a valid Content-Length header field is present
 * without Transfer-Encoding, its decimal value defines the expected
 * message body length in octets.  If the sender closes the connection or
 * the recipient times out before the indicated number of octets are
 * received, the recipient MUST consider the message to be incomplete and
 * close the connection."  A valid policy under "Content-Length: 100000"
 * is an incomplete message, not a policy: FT_TRANSFER with an error that
 * says how much came when the server closes (cleanly or abruptly), and
 * FT_TIMEOUT with the same words when it holds the connection until the
 * total timeout (before, the error did not say the body was incomplete).
 */
static void short_body(enum behaviour b, unsigned total_ms,
		       enum ft_status want_status)
{
	struct ft_config cfg;
	struct fgot g;
	char want[96];
	long ms;

	fetch_config(&cfg);
	cfg.total_timeout_ms = total_ms;
	fetch_hostile(b, &cfg, &g, &ms);
	if (g.status != want_status)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
	assert_int_equal(g.http_status, 200);
	snprintf(want, sizeof(want), "incomplete body: %zu of 100000 bytes",
		 strlen(SHORT_POLICY));
	if (strstr(g.error, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", g.error, want);
	assert_int_equal(g.body_len, strlen(SHORT_POLICY));
	assert_true(ms < (long)total_ms + 2000);
}

static void test_short_body(void **state)
{
	(void)state;
	short_body(B_SHORT_BODY, 10000, FT_TRANSFER);
}

static void test_short_body_abrupt(void **state)
{
	(void)state;
	short_body(B_SHORT_ABRUPT, 10000, FT_TRANSFER);
}

static void test_short_body_held(void **state)
{
	(void)state;
	short_body(B_SHORT_HELD, 2000, FT_TIMEOUT);
}

/* ---- SMTP ---- */

struct sgot {
	bool done;
	enum ft_smtp_status status;
	char peer_ip[64];
	bool greeting_null;
	int reply_code;
	uint32_t duration_ms;
	char error[256];
};

struct srun {
	struct event_base *base;
	struct sgot *g;
};

static void on_probe(const struct ft_smtp_result *r, void *arg)
{
	struct srun *run = arg;
	struct sgot *g = run->g;

	g->done = true;
	g->status = r->status;
	snprintf(g->peer_ip, sizeof(g->peer_ip), "%s",
		 r->peer_ip ? r->peer_ip : "");
	g->greeting_null = r->greeting == NULL;
	g->reply_code = r->reply_code;
	g->duration_ms = r->duration_ms;
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	event_base_loopbreak(run->base);
}

static void smtp_config(struct ft_smtp_config *cfg, uint16_t port)
{
	ft_smtp_config_default(cfg);
	cfg->port = port;
	cfg->ca_file = W.ca_path;
	cfg->allow_private = true;
	cfg->connect_timeout_ms = 3000;
	cfg->timeout_ms = 3000;
	cfg->per_ip_max = 0; /* the caps are test_ft_polite's */
	cfg->per_ip_rate = 0;
}

/* Probe mx.hostile.test at ip with cfg; *ms gets the wall time. */
static void probe_at(const struct ft_smtp_config *cfg, const char *ip,
		     struct sgot *g, long *ms)
{
	struct srun run = { 0 };
	struct ftt_deadline gd;
	struct ft_prober *p = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	struct timespec t0;

	memset(g, 0, sizeof(*g));
	ftt_sin(&sin, ip);
	run.base = event_base_new();
	run.g = g;
	assert_non_null(run.base);
	assert_int_equal(ft_prober_new(run.base, cfg, &p), ST_OK);
	ftt_deadline_start(&gd, run.base, DEADLINE_S);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ft_probe_smtp(p, "mx.hostile.test", addrs, 1,
				       on_probe, &run), ST_OK);
	assert_int_equal(event_base_dispatch(run.base), 0);
	*ms = ms_since(&t0);
	ft_prober_free(p);
	ftt_deadline_end(&gd, "probe");
	event_base_free(run.base);
	assert_true(g->done);
}

/* Start b on SMTP_IP, probe it with a timeout_ms deadline, stop it: the
 * deadline ends the probe, on time, with no greeting line complete. */
static void probe_stalled(enum behaviour b, unsigned timeout_ms)
{
	struct ft_smtp_config cfg;
	struct server s;
	struct sgot g;
	long ms;
	long lo = (long)timeout_ms - 50, hi = (long)timeout_ms + 1500;
	int before = ftt_count_fds();

	server_start(&s, SMTP_IP, b);
	smtp_config(&cfg, s.port);
	cfg.timeout_ms = timeout_ms;
	probe_at(&cfg, SMTP_IP, &g, &ms);
	server_stop(&s);
	if (g.status != FT_SMTP_TIMEOUT)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
	assert_string_equal(g.peer_ip, SMTP_IP);
	assert_true(g.greeting_null);
	assert_int_equal(g.reply_code, 0);
	assert_non_null(strstr(g.error, "deadline"));
	assert_true(g.duration_ms >= lo && g.duration_ms < hi);
	assert_true(ms >= lo && ms < hi);
	assert_int_equal(ftt_count_fds(), before);
}

/* The banner drips a byte a second. */
static void test_smtp_tarpit(void **state)
{
	(void)state;
	probe_stalled(B_TARPIT, 3000);
}

/* Accepts and never speaks. */
static void test_smtp_silent(void **state)
{
	(void)state;
	probe_stalled(B_SILENT, 1000);
}

/* A listener whose accept queue is full drops SYNs: the connect itself
 * times out, bounded by the connect timeout or the whole-probe deadline,
 * whichever comes first. */
static void test_smtp_connect_timeout(void **state)
{
	struct ft_smtp_config cfg;
	struct sockaddr_in sin;
	struct sgot g;
	uint16_t port;
	long ms;
	int fd, fill[4];

	(void)state;
	fd = ftt_listen(BACKLOG_IP, 0, &port);
	ftt_sin(&sin, BACKLOG_IP);
	sin.sin_port = htons(port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fill[i] >= 0);
		if (connect(fill[i], (struct sockaddr *)&sin, sizeof(sin)) != 0)
			assert_int_equal(errno, EINPROGRESS);
	}
	usleep(100 * 1000);
	smtp_config(&cfg, port);
	cfg.connect_timeout_ms = 500;
	cfg.timeout_ms = 10000;
	probe_at(&cfg, BACKLOG_IP, &g, &ms);
	if (g.status != FT_SMTP_CONNECT_TIMEOUT)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
	assert_true(g.duration_ms >= 450 && g.duration_ms < 3000);
	assert_non_null(strstr(g.error, "timed out"));
	cfg.connect_timeout_ms = 5000;
	cfg.timeout_ms = 700;
	probe_at(&cfg, BACKLOG_IP, &g, &ms);
	assert_int_equal(g.status, FT_SMTP_CONNECT_TIMEOUT);
	assert_true(g.duration_ms >= 650 && g.duration_ms < 3000);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	struct ds_ca *root = NULL, *inter = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	X509 *chain[2];
	const char *names[1] = { HOST };
	struct ds_leaf_req req = { 0 };
	time_t now = time(NULL);
	int ret = -1;

	(void)state;
	if (!ftt_tmpdir(W.dir, sizeof(W.dir), "test_ft_hostile"))
		return -1;
	ftt_path(W.ca_path, sizeof(W.ca_path), W.dir, "root.pem");
	ftt_path(W.chain_path, sizeof(W.chain_path), W.dir, "chain.pem");
	ftt_path(W.key_path, sizeof(W.key_path), W.dir, "leaf.key");
	req.dns_names = names;
	req.n_dns_names = 1;
	req.not_before = now - DAY;
	req.not_after = now + 90 * DAY;
	if (ds_ca_new("stsmap hostile root", now - 10 * DAY, now + 3650 * DAY,
		      &root) != ST_OK ||
	    ds_ca_new_intermediate(root, "stsmap hostile inter", now - 10 * DAY,
				   now + 3650 * DAY, &inter) != ST_OK ||
	    ds_key_new(&key) != ST_OK ||
	    ds_leaf_issue(inter, key, &req, &leaf) != ST_OK)
		goto cleanup;
	chain[0] = leaf;
	chain[1] = ds_ca_cert(inter);
	if (ds_ca_write(root, W.ca_path, NULL) != ST_OK ||
	    ds_write_pem_key(W.key_path, key) != ST_OK ||
	    ds_write_pem_cert(W.chain_path, chain, 2) != ST_OK)
		goto cleanup;
	ret = 0;
cleanup:
	X509_free(leaf);
	EVP_PKEY_free(key);
	ds_ca_free(inter);
	ds_ca_free(root);
	return ret;
}

static int teardown(void **state)
{
	(void)state;
	return ftt_tmpdir_remove(W.dir, "KEEP_FT_HOSTILE") ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_slowloris),
		cmocka_unit_test(test_endless_body),
		cmocka_unit_test(test_hang_up),
		cmocka_unit_test(test_old_tls),
		cmocka_unit_test(test_short_body),
		cmocka_unit_test(test_short_body_abrupt),
		cmocka_unit_test(test_short_body_held),
		cmocka_unit_test(test_smtp_tarpit),
		cmocka_unit_test(test_smtp_silent),
		cmocka_unit_test(test_smtp_connect_timeout),
	};
	int ret;

	/* ft_smtp.h: the process ignores SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	ret = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return ret;
}
