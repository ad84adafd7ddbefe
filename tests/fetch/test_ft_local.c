/*
 * test_ft_local.c - failures of this machine are not failures of the host
 * (DESIGN §4, "Where a failure belongs"; ft_guard.h): fetch/ must report
 * them as its LOCAL_ERROR status, never as a refusal, an unreachable host
 * or a transfer error, because the scanner stores those as findings.
 *
 * Each row provokes one local failure in this process, with nothing but
 * loopback sockets of its own (no server is spoken to):
 *   - every descriptor taken (EMFILE) when curl or the prober would make
 *     its socket;
 *   - a --ca-file that cannot be read (CURLE_SSL_CACERT_BADFILE);
 *   - an event loop held up past a probe's deadline (an overloaded
 *     machine): the timeout is ours, not the MX host's;
 * next to the control that shows the same call without the fault ends
 * with the host's status (refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ft_fetch.h"
#include "ft_guard.h"
#include "ft_smtp.h"
#include "ft_testutil.h"
#include "st_error.h"

#define IP "127.0.0.1"
#define MAX_FILL 512

/* Take every free descriptor under a soft limit of 256. */
struct fill {
	struct rlimit old;
	int fds[MAX_FILL];
	size_t n;
};

static void fill_start(struct fill *f)
{
	struct rlimit low;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &f->old), 0);
	low = f->old;
	low.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	f->n = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			assert_int_equal(errno, EMFILE);
			break;
		}
		assert_true(f->n < MAX_FILL);
		f->fds[f->n++] = fd;
	}
	assert_int_equal(ft_fd_exhausted(), EMFILE);
}

static void fill_end(struct fill *f)
{
	for (size_t i = 0; i < f->n; i++)
		close(f->fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &f->old), 0);
	assert_int_equal(ft_fd_exhausted(), 0);
}

/* ---- HTTPS ---- */

struct fgot {
	struct event_base *base;
	bool done;
	enum ft_status status;
	char error[CURL_ERROR_SIZE + 128];
};

static void on_fetch(const struct ft_result *r, void *arg)
{
	struct fgot *g = arg;

	g->done = true;
	g->status = r->status;
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	event_base_loopbreak(g->base);
}

/* One fetch of policy.test at IP:port; exhaust: with every descriptor
 * taken once the fetcher exists. */
static void fetch_one(uint16_t port, const char *ca_file, bool exhaust,
		      struct fgot *g)
{
	struct ft_config cfg;
	struct ft_fetcher *f = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	struct timeval deadline = { 10, 0 };
	struct fill fl;

	memset(g, 0, sizeof(*g));
	ftt_sin(&sin, IP);
	g->base = event_base_new();
	assert_non_null(g->base);
	ft_config_default(&cfg);
	cfg.allow_private = true;
	cfg.connect_timeout_ms = 3000;
	cfg.total_timeout_ms = 5000;
	cfg.ca_file = ca_file;
	assert_int_equal(ft_fetcher_new(g->base, &cfg, &f), ST_OK);
	assert_int_equal(ft_fetch_policy(f, "policy.test", addrs, 1, port,
					 on_fetch, g), ST_OK);
	if (exhaust)
		fill_start(&fl);
	assert_int_equal(event_base_loopexit(g->base, &deadline), 0);
	assert_int_equal(event_base_dispatch(g->base), 0);
	if (exhaust)
		fill_end(&fl);
	ft_fetcher_free(f);
	event_base_free(g->base);
	assert_true(g->done);
}

/* Control: the closed port is the host's refusal. */
static void test_fetch_refused(void **state)
{
	struct fgot g;
	uint16_t port;

	(void)state;
	port = ftt_closed_port(IP);
	fetch_one(port, NULL, false, &g);
	if (g.status != FT_CONNECT_REFUSED)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
}

/* The same fetch when socket() fails with EMFILE: curl says
 * CURLE_COULDNT_CONNECT ("Could not connect"), which read as
 * connect-refused before; it is ours. */
static void test_fetch_emfile(void **state)
{
	struct fgot g;
	uint16_t port;

	(void)state;
	port = ftt_closed_port(IP);
	fetch_one(port, NULL, true, &g);
	if (g.status != FT_LOCAL_ERROR)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
	if (strstr(g.error, strerror(EMFILE)) == NULL)
		fail_msg("error does not name EMFILE: \"%s\"", g.error);
}

/* A CA file that cannot be read is our configuration's fault
 * (CURLE_SSL_CACERT_BADFILE), not the host's transfer failing. */
static void test_fetch_ca_unreadable(void **state)
{
	struct fgot g;
	uint16_t port;
	int lfd = ftt_listen(IP, 8, &port);

	(void)state;
	fetch_one(port, "/nonexistent/stsmap-test-ca.pem", false, &g);
	close(lfd);
	if (g.status != FT_LOCAL_ERROR)
		fail_msg("%s (%s)", ft_status_name(g.status), g.error);
}

/* ---- SMTP ---- */

struct sgot {
	struct event_base *base;
	bool done;
	enum ft_smtp_status status;
	char error[256];
};

static void on_probe(const struct ft_smtp_result *r, void *arg)
{
	struct sgot *g = arg;

	g->done = true;
	g->status = r->status;
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	event_base_loopbreak(g->base);
}

static void probe_one(uint16_t port, bool exhaust, struct sgot *g)
{
	struct ft_smtp_config cfg;
	struct ft_prober *p = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	struct timeval deadline = { 10, 0 };
	struct fill fl;

	memset(g, 0, sizeof(*g));
	ftt_sin(&sin, IP);
	g->base = event_base_new();
	assert_non_null(g->base);
	ft_smtp_config_default(&cfg);
	cfg.allow_private = true;
	cfg.port = port;
	cfg.timeout_ms = 3000;
	cfg.connect_timeout_ms = 3000;
	assert_int_equal(ft_prober_new(g->base, &cfg, &p), ST_OK);
	if (exhaust)
		fill_start(&fl);
	assert_int_equal(ft_probe_smtp(p, "mx.test", addrs, 1, on_probe, g),
			 ST_OK);
	assert_int_equal(event_base_loopexit(g->base, &deadline), 0);
	assert_int_equal(event_base_dispatch(g->base), 0);
	if (exhaust)
		fill_end(&fl);
	ft_prober_free(p);
	event_base_free(g->base);
	assert_true(g->done);
}

static void test_probe_refused(void **state)
{
	struct sgot g;
	uint16_t port;

	(void)state;
	port = ftt_closed_port(IP);
	probe_one(port, false, &g);
	if (g.status != FT_SMTP_CONNECT_REFUSED)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
}

/* EMFILE on the probe's socket: ours, not an unreachable MX. */
static void test_probe_emfile(void **state)
{
	struct sgot g;
	uint16_t port;

	(void)state;
	port = ftt_closed_port(IP);
	probe_one(port, true, &g);
	if (g.status != FT_SMTP_LOCAL_ERROR)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
}

/* A server that accepts (the kernel's backlog) and never greets.  Hold
 * the loop for hold_ms from 20 ms after the start, with a 300 ms
 * deadline. */
struct holdup {
	struct event *ev;
	unsigned hold_ms;
};

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct holdup *h = arg;

	(void)fd;
	(void)what;
	usleep(h->hold_ms * 1000u); /* the loop is busy elsewhere */
}

static void probe_silent(unsigned hold_ms, struct sgot *g)
{
	struct ft_smtp_config cfg;
	struct ft_prober *p = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	struct timeval deadline = { 10, 0 }, at = { 0, 20000 };
	struct holdup h = { .hold_ms = hold_ms };
	uint16_t port;
	int lfd = ftt_listen(IP, 8, &port);

	memset(g, 0, sizeof(*g));
	ftt_sin(&sin, IP);
	g->base = event_base_new();
	assert_non_null(g->base);
	ft_smtp_config_default(&cfg);
	cfg.allow_private = true;
	cfg.port = port;
	cfg.timeout_ms = 300;
	cfg.connect_timeout_ms = 300;
	assert_int_equal(ft_prober_new(g->base, &cfg, &p), ST_OK);
	h.ev = evtimer_new(g->base, hold_cb, &h);
	assert_non_null(h.ev);
	if (hold_ms > 0)
		assert_int_equal(evtimer_add(h.ev, &at), 0);
	assert_int_equal(ft_probe_smtp(p, "mx.test", addrs, 1, on_probe, g),
			 ST_OK);
	assert_int_equal(event_base_loopexit(g->base, &deadline), 0);
	assert_int_equal(event_base_dispatch(g->base), 0);
	event_free(h.ev);
	ft_prober_free(p);
	event_base_free(g->base);
	close(lfd);
	assert_true(g->done);
}

/* Control: the silent server's own timeout (no greeting in 300 ms). */
static void test_probe_silent_timeout(void **state)
{
	struct sgot g;

	(void)state;
	probe_silent(0, &g);
	if (g.status != FT_SMTP_TIMEOUT)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
}

/* The same server while our loop is held for 1.2 s: the deadline fires
 * ~0.9 s late, over FT_SMTP_LATE_MS; that timeout is our load's, and
 * would have been stored as mx-tls.unreachable. */
static void test_probe_loop_held(void **state)
{
	struct sgot g;

	(void)state;
	probe_silent(1200, &g);
	if (g.status != FT_SMTP_LOCAL_ERROR || strstr(g.error, "late") == NULL)
		fail_msg("%s (%s)", ft_smtp_status_name(g.status), g.error);
}

/* ---- the errno table ---- */

static void test_errno_local(void **state)
{
	static const struct {
		int err;
		bool local;
	} rows[] = {
		{ EMFILE, true },        /* this process's descriptors */
		{ ENFILE, true },        /* the system's */
		{ ENOBUFS, true },       /* kernel buffers */
		{ ENOMEM, true },
		{ EADDRNOTAVAIL, true }, /* no local port or address */
		{ ECONNREFUSED, false }, /* the host said no */
		{ ETIMEDOUT, false },
		{ EHOSTUNREACH, false },
		{ ENETUNREACH, false },
		{ ECONNRESET, false },
		{ 0, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (ft_errno_local(rows[i].err) != rows[i].local)
			fail_msg("errno %d: local should be %d", rows[i].err,
				 rows[i].local);
	}
}

/* fetch/'s outcomes are the rows of st_outcome.h: the values may be
 * stored, so the released ones and their names are pinned here (rows are
 * only appended), every value has a name of its own, and the rows that
 * are our own faults (source LOCAL) are exactly CANCELLED and
 * LOCAL_ERROR. */
static void test_status_table(void **state)
{
	static const struct {
		enum ft_status st;
		int value;
		const char *name;
	} fetch[] = {
		{ FT_DONE, 0, "done" },
		{ FT_NON_PUBLIC, 1, "non-public" },
		{ FT_CONNECT_REFUSED, 2, "connect-refused" },
		{ FT_CONNECT_TIMEOUT, 3, "connect-timeout" },
		{ FT_TLS_HANDSHAKE, 4, "tls-handshake" },
		{ FT_CERT_EXPIRED, 5, "cert-expired" },
		{ FT_CERT_NOT_YET_VALID, 6, "cert-not-yet-valid" },
		{ FT_CERT_NAME_MISMATCH, 7, "cert-name-mismatch" },
		{ FT_CERT_SELF_SIGNED, 8, "cert-self-signed" },
		{ FT_CERT_UNTRUSTED, 9, "cert-untrusted" },
		{ FT_TIMEOUT, 10, "timeout" },
		{ FT_TOO_LARGE, 11, "too-large" },
		{ FT_TRANSFER, 12, "transfer" },
		{ FT_CANCELLED, 13, "cancelled" },
		{ FT_LOCAL_ERROR, 14, "local-error" },
	};
	static const struct {
		enum ft_smtp_status st;
		int value;
		const char *name;
	} smtp[] = {
		{ FT_SMTP_TLS, 0, "tls" },
		{ FT_SMTP_NON_PUBLIC, 1, "non-public" },
		{ FT_SMTP_CONNECT_REFUSED, 2, "connect-refused" },
		{ FT_SMTP_CONNECT_TIMEOUT, 3, "connect-timeout" },
		{ FT_SMTP_BAD_GREETING, 4, "bad-greeting" },
		{ FT_SMTP_EHLO_FAILED, 5, "ehlo-failed" },
		{ FT_SMTP_NO_STARTTLS, 6, "no-starttls" },
		{ FT_SMTP_STARTTLS_REFUSED, 7, "starttls-refused" },
		{ FT_SMTP_TLS_HANDSHAKE, 8, "tls-handshake" },
		{ FT_SMTP_TIMEOUT, 9, "timeout" },
		{ FT_SMTP_PROTOCOL, 10, "protocol" },
		{ FT_SMTP_CANCELLED, 11, "cancelled" },
		{ FT_SMTP_LOCAL_ERROR, 12, "local-error" },
	};
#define LOCAL_ROW(id, name, src, finding) ST_IF_##src##_LOCAL(FT_##id,)
	static const enum ft_status local[] = { ST_FETCH_OUTCOMES(LOCAL_ROW) };
#undef LOCAL_ROW

	(void)state;
	assert_true(FT_STATUS_COUNT >= sizeof(fetch) / sizeof(fetch[0]));
	for (size_t i = 0; i < sizeof(fetch) / sizeof(fetch[0]); i++) {
		assert_int_equal((int)fetch[i].st, fetch[i].value);
		assert_string_equal(ft_status_name(fetch[i].st), fetch[i].name);
	}
	for (int a = 0; a < FT_STATUS_COUNT; a++)
		for (int b = a + 1; b < FT_STATUS_COUNT; b++)
			assert_string_not_equal(ft_status_name(a),
						ft_status_name(b));
	assert_string_equal(ft_status_name(FT_STATUS_COUNT), "unknown");
	assert_true(FT_SMTP_STATUS_COUNT >= sizeof(smtp) / sizeof(smtp[0]));
	for (size_t i = 0; i < sizeof(smtp) / sizeof(smtp[0]); i++) {
		assert_int_equal((int)smtp[i].st, smtp[i].value);
		assert_string_equal(ft_smtp_status_name(smtp[i].st),
				    smtp[i].name);
	}
	for (int a = 0; a < FT_SMTP_STATUS_COUNT; a++)
		for (int b = a + 1; b < FT_SMTP_STATUS_COUNT; b++)
			assert_string_not_equal(ft_smtp_status_name(a),
						ft_smtp_status_name(b));
	assert_string_equal(ft_smtp_status_name(FT_SMTP_STATUS_COUNT),
			    "unknown");
	assert_int_equal(sizeof(local) / sizeof(local[0]), 2);
	assert_int_equal(local[0], FT_CANCELLED);
	assert_int_equal(local[1], FT_LOCAL_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_errno_local),
		cmocka_unit_test(test_fetch_refused),
		cmocka_unit_test(test_fetch_emfile),
		cmocka_unit_test(test_fetch_ca_unreadable),
		cmocka_unit_test(test_probe_refused),
		cmocka_unit_test(test_probe_emfile),
		cmocka_unit_test(test_probe_silent_timeout),
		cmocka_unit_test(test_probe_loop_held),
	};
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
