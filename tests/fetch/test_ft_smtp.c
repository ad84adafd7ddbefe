/*
 * test_ft_smtp.c - fetch/ft_smtp: the STARTTLS prober against a real
 * Postfix that this test starts on loopback (127.7.0.1-5), one smtpd
 * service per case, with certificates made by datasets/ds_certs (a root,
 * an intermediate, and leaves broken in exactly one way each), plus small
 * scripted SMTP servers on the test's own event loop for what Postfix will
 * not do (a 554 greeting, an overlong line, 454 to STARTTLS).  Servers
 * that stall (silence, a dripped banner, a full accept queue) are in
 * test_ft_hostile.c.  `test_ft_smtp --soak` runs only the soak: 1,000
 * probes of every service on one prober.
 *
 *   127.7.0.1  STARTTLS; SNI mx.valid.test -> valid chain (via
 *              tls_server_sni_maps), anything else -> fallback.test
 *   127.7.0.2  no STARTTLS (smtpd_tls_security_level=none)
 *   127.7.0.3  leaf for other.test (probed as mx.wrongname.test)
 *   127.7.0.4  expired leaf for mx.expired.test
 *   127.7.0.5  leaf for mx.untrusted.test from a root not in the CA file
 *   127.7.0.6  the valid service limited to TLS 1.0 (an old server)
 *   127.7.0.9  nothing listens: refused
 *   127.7.0.10 the scripted servers, on ephemeral ports
 *
 * Postfix is started as `master -c DIR -d` in its own process group, with
 * its own config, queue and data directories under a mkdtemp() directory,
 * under a keeper process that stops the whole group when told to (group
 * teardown, an atexit() handler) or when this process dies.  Starting
 * Postfix needs root: the test is skipped (exit 77) without root or
 * without Postfix (with CI=true a missing Postfix fails instead,
 * tests/lib/test_ci.h).  KEEP_FT_SMTP=1 keeps the directory (maillog inside).
 *
 * Every run of probes is under a hard deadline that breaks the loop and
 * fails the test, so a hung probe cannot hang the suite.
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
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ds_certs.h"
#include "ft_smtp.h"
#include "ft_testutil.h"
#include "st_error.h"
#include "../lib/test_ci.h"

extern char **environ;

#define POSTFIX "/usr/sbin/postfix"
#define IP_VALID "127.7.0.1"
#define IP_PLAIN "127.7.0.2"
#define IP_WRONGNAME "127.7.0.3"
#define IP_EXPIRED "127.7.0.4"
#define IP_UNTRUSTED "127.7.0.5"
#define IP_TLS10 "127.7.0.6"
#define IP_REFUSED "127.7.0.9"
#define IP_SCRIPT "127.7.0.10"
#define EHLO_NAME "stsmap.test"

/* Every address Postfix listens on (and the refused one), for a port free
 * on all of them. */
static const char *const service_ips[] = { IP_VALID, IP_PLAIN, IP_WRONGNAME,
					    IP_EXPIRED, IP_UNTRUSTED,
					    IP_TLS10, IP_REFUSED };
#define DEADLINE_S 60
#define DAY 86400

static struct world {
	char dir[64];
	char etc[96];
	char ca_path[128];
	uint16_t port;
	pid_t keeper;        /* parent of Postfix's master, see keeper() */
	time_t now;
	time_t valid_not_after;
	time_t expired_not_after;
} W;

/* ---- what a test keeps from a result ---- */

struct got {
	bool done;
	int n_calls;
	enum ft_smtp_status status;
	char peer_ip[64];
	uint16_t peer_port;
	size_t n_denied;
	char greeting[FT_SMTP_LINE_MAX + 1];
	bool greeting_null;
	bool starttls_offered;
	int reply_code;
	int tls_version;
	char cipher[64];
	bool cert_known;
	char names[4][64];
	size_t n_names;
	char subject[256];
	char issuer[256];
	int64_t not_before, not_after;
	bool name_match;
	int verify_error;
	char verify_str[128];
	char error[256];
	uint32_t duration_ms;
	size_t inflight_seen;  /* ft_prober_stats().inflight in the callback */
};

struct run {
	struct event_base *base;
	struct ft_prober *prober;
	size_t n_want, n_done;
	size_t max_inflight;
};

struct one {
	struct run *run;
	struct got *g;
};

static void on_result(const struct ft_smtp_result *r, void *arg)
{
	struct one *o = arg;
	struct got *g = o->g;
	struct ft_smtp_stats st;

	g->n_calls++;
	g->done = true;
	g->status = r->status;
	ftt_copy_str(g->peer_ip, sizeof(g->peer_ip), r->peer_ip);
	g->peer_port = r->peer_port;
	g->n_denied = r->n_addrs_denied;
	g->greeting_null = r->greeting == NULL;
	ftt_copy_str(g->greeting, sizeof(g->greeting), r->greeting);
	g->starttls_offered = r->starttls_offered;
	g->reply_code = r->reply_code;
	g->tls_version = r->tls_version;
	ftt_copy_str(g->cipher, sizeof(g->cipher), r->cipher);
	g->cert_known = r->cert_known;
	assert_true(r->n_cert_names <= FT_SMTP_MAX_CERT_NAMES);
	g->n_names = r->n_cert_names < 4 ? r->n_cert_names : 4;
	for (size_t i = 0; i < g->n_names; i++)
		ftt_copy_str(g->names[i], sizeof(g->names[i]), r->cert_names[i]);
	ftt_copy_str(g->subject, sizeof(g->subject), r->cert_subject);
	ftt_copy_str(g->issuer, sizeof(g->issuer), r->cert_issuer);
	g->not_before = r->cert_not_before;
	g->not_after = r->cert_not_after;
	g->name_match = r->name_match;
	g->verify_error = r->verify_error;
	ftt_copy_str(g->verify_str, sizeof(g->verify_str), r->verify_error_str);
	ftt_copy_str(g->error, sizeof(g->error), r->error);
	g->duration_ms = r->duration_ms;
	if (o->run->prober) {
		ft_prober_stats(o->run->prober, &st);
		g->inflight_seen = st.inflight;
		if (st.inflight > o->run->max_inflight)
			o->run->max_inflight = st.inflight;
	}
	if (++o->run->n_done == o->run->n_want)
		assert_int_equal(event_base_loopbreak(o->run->base), 0);
}

static void config(struct ft_smtp_config *cfg)
{
	ft_smtp_config_default(cfg);
	cfg->port = W.port;
	cfg->ca_file = W.ca_path;
	cfg->allow_private = true;
	cfg->ehlo_name = EHLO_NAME;
	cfg->connect_timeout_ms = 3000;
	cfg->timeout_ms = 10000;
	/* one address serves every test host: the per-IP caps are
	 * test_ft_polite's and test_sc_polite's, not these tests' */
	cfg->per_ip_max = 0;
	cfg->per_ip_rate = 0;
}

/* One probe of host at ips[0..n_ips-1], all submitted before the loop
 * runs; base may hold scripted servers. */
struct req {
	const char *host;
	const char *ips[3];
};

/*
 * Probe reqs[0..n-1] concurrently on base with cfg, under the hard
 * deadline (DEADLINE_S, plus a second per ten probes); results in got[].  stats (if not NULL) gets the prober's
 * counters before it is freed; *max_inflight the most seen in flight.
 */
static void probe_run(struct event_base *base, const struct ft_smtp_config *cfg,
		      const struct req *reqs, size_t n, struct got *got,
		      struct ft_smtp_stats *stats, size_t *max_inflight)
{
	struct run run = { 0 };
	struct ftt_deadline dl;
	struct one *ones = calloc(n, sizeof(*ones));
	struct sockaddr_storage sas[3];

	assert_non_null(ones);
	run.base = base;
	run.n_want = n;
	assert_int_equal(ft_prober_new(base, cfg, &run.prober), ST_OK);
	ftt_deadline_start(&dl, base, DEADLINE_S + (unsigned)(n / 10));
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr *addrs[3];
		size_t k = 0;

		memset(&got[i], 0, sizeof(got[i]));
		ones[i].run = &run;
		ones[i].g = &got[i];
		while (k < 3 && reqs[i].ips[k]) {
			ftt_sa(&sas[k], reqs[i].ips[k]);
			addrs[k] = (const struct sockaddr *)&sas[k];
			k++;
		}
		assert_int_equal(ft_probe_smtp(run.prober, reqs[i].host, addrs,
					       k, on_result, &ones[i]),
				 ST_OK);
		/* Never from within ft_probe_smtp(). */
		assert_false(got[i].done);
	}
	assert_int_equal(ft_prober_pending(run.prober), n);
	assert_int_equal(event_base_dispatch(base), 0);
	if (dl.fired)
		fail_msg("probes passed the %u s deadline (%zu of %zu done)",
			 dl.seconds, run.n_done, n);
	assert_int_equal(ft_prober_pending(run.prober), 0);
	if (stats)
		ft_prober_stats(run.prober, stats);
	if (max_inflight)
		*max_inflight = run.max_inflight;
	ft_prober_free(run.prober);
	for (size_t i = 0; i < n; i++) {
		assert_true(got[i].done);
		assert_int_equal(got[i].n_calls, 1);
	}
	ftt_deadline_end(&dl, "probe_run");
	free(ones);
}

static void probe1(const struct ft_smtp_config *cfg, const char *host,
		   const char *ip, struct got *g)
{
	struct event_base *base = event_base_new();
	struct req r = { host, { ip, NULL, NULL } };

	assert_non_null(base);
	probe_run(base, cfg, &r, 1, g, NULL, NULL);
	event_base_free(base);
}

static void probe_default(const char *host, const char *ip, struct got *g)
{
	struct ft_smtp_config cfg;

	config(&cfg);
	probe1(&cfg, host, ip, g);
}

/* ---- scripted servers on the test's loop ---- */

/* What a scripted server says. */
struct script {
	const char *greeting;
	const char *ehlo;       /* reply to EHLO */
	const char *starttls;   /* reply to STARTTLS */
	bool close_after_starttls;
};

struct sconn {
	struct sserver *srv;
	struct bufferevent *bev;
	struct sconn *next;
	bool closing;
};

struct sserver {
	const struct script *sc;
	int fd;
	uint16_t port;
	struct event *ev;
	struct event_base *base;
	struct sconn *conns;
	char log[512];          /* commands received, '|' separated */
	int n_accepted;
};

static void s_reply(struct sconn *c, const char *text, bool close_after)
{
	assert_int_equal(bufferevent_write(c->bev, text, strlen(text)), 0);
	if (close_after) {
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

static void s_write_cb(struct bufferevent *bev, void *arg)
{
	struct sconn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		/* Shut the socket; the struct is freed with the server. */
		shutdown(bufferevent_getfd(bev), SHUT_RDWR);
	}
}

static void s_read_cb(struct bufferevent *bev, void *arg)
{
	struct sconn *c = arg;
	struct sserver *s = c->srv;
	char *line;
	size_t n;

	while (!c->closing &&
	       (line = evbuffer_readln(bufferevent_get_input(bev), &n,
				       EVBUFFER_EOL_CRLF)) != NULL) {
		size_t used = strlen(s->log);

		snprintf(s->log + used, sizeof(s->log) - used, "%s%s",
			 used ? "|" : "", line);
		if (strncmp(line, "EHLO ", 5) == 0)
			s_reply(c, s->sc->ehlo, false);
		else if (strcmp(line, "STARTTLS") == 0)
			s_reply(c, s->sc->starttls, s->sc->close_after_starttls);
		else if (strcmp(line, "QUIT") == 0)
			s_reply(c, "221 2.0.0 bye\r\n", true);
		else
			s_reply(c, "500 5.5.2 what\r\n", false);
		free(line);
	}
}

static void s_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	(void)arg;
}

static void s_accept_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct sserver *s = arg;
	struct sconn *c;
	int cfd;

	(void)kind;
	cfd = accept(fd, NULL, NULL);
	if (cfd < 0)
		return;
	assert_int_equal(evutil_make_socket_nonblocking(cfd), 0);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->srv = s;
	c->bev = bufferevent_socket_new(s->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(c->bev);
	c->next = s->conns;
	s->conns = c;
	s->n_accepted++;
	bufferevent_setcb(c->bev, s_read_cb, s_write_cb, s_event_cb, c);
	assert_int_equal(bufferevent_enable(c->bev, EV_READ | EV_WRITE), 0);
	s_reply(c, s->sc->greeting, false);
}

static struct sserver *sserver_new(struct event_base *base,
				   const struct script *sc)
{
	struct sserver *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->sc = sc;
	s->base = base;
	s->fd = ftt_listen(IP_SCRIPT, 16, &s->port);
	assert_int_equal(evutil_make_socket_nonblocking(s->fd), 0);
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, s_accept_cb, s);
	assert_non_null(s->ev);
	assert_int_equal(event_add(s->ev, NULL), 0);
	return s;
}

static void sserver_free(struct sserver *s)
{
	while (s->conns) {
		struct sconn *c = s->conns;

		s->conns = c->next;
		bufferevent_free(c->bev);
		free(c);
	}
	event_free(s->ev);
	close(s->fd);
	free(s);
}

/* Probe mx.script.test at a scripted server; the commands it received in
 * log (cap bytes). */
static void probe_script(const struct script *sc, unsigned timeout_ms,
			 struct got *g, char *log, size_t cap)
{
	struct event_base *base = event_base_new();
	struct sserver *s;
	struct ft_smtp_config cfg;
	struct req r = { "mx.script.test", { IP_SCRIPT, NULL, NULL } };

	assert_non_null(base);
	s = sserver_new(base, sc);
	config(&cfg);
	cfg.port = s->port;
	if (timeout_ms)
		cfg.timeout_ms = timeout_ms;
	probe_run(base, &cfg, &r, 1, g, NULL, NULL);
	assert_int_equal(s->n_accepted, 1);
	if (log)
		ftt_copy_str(log, cap, s->log);
	sserver_free(s);
	event_base_free(base);
}

/* ---- the Postfix world ---- */

/*
 * A leaf for names by issuer, written as the Postfix chain file
 * <dir>/<file>: the key, then the leaf, then extra (smtpd_tls_chain_files
 * wants each key directly followed by its chain).
 */
static void leaf(const struct ds_ca *issuer, EVP_PKEY *key,
		 const char *name, time_t nb, time_t na, X509 *extra,
		 const char *file)
{
	const char *names[1] = { name };
	char crt[192], keyp[192], out[192];
	FILE *fp;

	ftt_path(crt, sizeof(crt), W.dir, "tmp.crt");
	ftt_leaf(issuer, key, names, 1, nb, na, extra, crt);
	ftt_path(keyp, sizeof(keyp), W.dir, "leaf.key");
	ftt_path(out, sizeof(out), W.dir, file);
	fp = fopen(out, "wb");
	assert_non_null(fp);
	ftt_append_file(fp, keyp);
	ftt_append_file(fp, crt);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(out, 0600), 0);
}

static void make_certs(void)
{
	struct ds_ca *root = NULL, *inter = NULL, *other = NULL;
	EVP_PKEY *key = NULL;
	time_t now = W.now;
	char path[192];

	assert_int_equal(ds_ca_new("stsmap smtp test root", now - 10 * DAY,
				   now + 3650 * DAY, &root), ST_OK);
	assert_int_equal(ds_ca_new_intermediate(root, "stsmap smtp test inter",
						now - 10 * DAY,
						now + 3650 * DAY, &inter),
			 ST_OK);
	assert_int_equal(ds_ca_new("stsmap smtp other root", now - 10 * DAY,
				   now + 3650 * DAY, &other), ST_OK);
	assert_int_equal(ds_key_new(&key), ST_OK);
	assert_int_equal(ds_ca_write(root, W.ca_path, NULL), ST_OK);
	ftt_path(path, sizeof(path), W.dir, "leaf.key");
	assert_int_equal(ds_write_pem_key(path, key), ST_OK);

	W.valid_not_after = now + 90 * DAY;
	W.expired_not_after = now - DAY;
	leaf(inter, key, "mx.valid.test", now - DAY, W.valid_not_after,
	     ds_ca_cert(inter), "valid.pem");
	leaf(inter, key, "fallback.test", now - DAY, now + 90 * DAY,
	     ds_ca_cert(inter), "fallback.pem");
	leaf(inter, key, "other.test", now - DAY, now + 90 * DAY,
	     ds_ca_cert(inter), "wrongname.pem");
	leaf(inter, key, "mx.expired.test", now - 30 * DAY,
	     W.expired_not_after, ds_ca_cert(inter), "expired.pem");
	/* Never serve the untrusted root itself (ds_certs.h). */
	leaf(other, key, "mx.untrusted.test", now - DAY, now + 90 * DAY, NULL,
	     "untrusted.pem");
	EVP_PKEY_free(key);
	ds_ca_free(root);
	ds_ca_free(inter);
	ds_ca_free(other);
}

static int run_cmd(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The Postfix daemon directory, from postconf. */
static void daemon_dir(char *out, size_t cap)
{
	char cmd[256];
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "postconf -c '%s' -h daemon_directory",
		 W.etc);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_non_null(fgets(out, (int)cap, fp));
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(fp), 0);
}

static void write_config(void)
{
	char b[8192];
	size_t n = 0;
	char path[192];

#define EMIT(...)                                                       \
	do {                                                            \
		int k_ = snprintf(b + n, sizeof(b) - n, __VA_ARGS__);   \
		assert_true(k_ > 0 && (size_t)k_ < sizeof(b) - n);      \
		n += (size_t)k_;                                        \
	} while (0)

	EMIT("compatibility_level = 3.6\n"
	     "queue_directory = %s/queue\n"
	     "data_directory = %s/data\n"
	     "mail_owner = postfix\n"
	     "setgid_group = postdrop\n"
	     "inet_protocols = ipv4\n"
	     "inet_interfaces = loopback-only\n"
	     "myhostname = mx.postfix.test\n"
	     "mydestination =\n"
	     "local_recipient_maps =\n"
	     "smtputf8_enable = no\n"
	     "smtpd_banner = $myhostname ESMTP\n"
	     "smtpd_peername_lookup = no\n"
	     "smtpd_client_connection_count_limit = 0\n"
	     "smtpd_client_connection_rate_limit = 0\n"
	     "maillog_file_prefixes = %s\n"
	     "maillog_file = %s/maillog\n"
	     "smtpd_tls_security_level = may\n"
	     "smtpd_tls_chain_files = %s/fallback.pem\n"
	     "tls_server_sni_maps = hash:%s/sni\n"
	     "smtpd_tls_loglevel = 1\n",
	     W.dir, W.dir, W.dir, W.dir, W.dir, W.etc);
	ftt_path(path, sizeof(path), W.dir, "etc/main.cf");
	ftt_write_file(path, b, n);

	n = 0;
	EMIT("%s:%u inet n - n - - smtpd\n", IP_VALID, (unsigned)W.port);
	EMIT("%s:%u inet n - n - - smtpd -o smtpd_tls_security_level=none\n",
	     IP_PLAIN, (unsigned)W.port);
	EMIT("%s:%u inet n - n - - smtpd -o smtpd_tls_chain_files=%s/wrongname.pem\n",
	     IP_WRONGNAME, (unsigned)W.port, W.dir);
	EMIT("%s:%u inet n - n - - smtpd -o smtpd_tls_chain_files=%s/expired.pem\n",
	     IP_EXPIRED, (unsigned)W.port, W.dir);
	EMIT("%s:%u inet n - n - - smtpd -o smtpd_tls_chain_files=%s/untrusted.pem\n",
	     IP_UNTRUSTED, (unsigned)W.port, W.dir);
	/* OpenSSL 3 allows TLS 1.0 only at security level 0, here too. */
	EMIT("%s:%u inet n - n - - smtpd -o smtpd_tls_protocols=TLSv1 "
	     "-o tls_medium_cipherlist=DEFAULT:@SECLEVEL=0\n",
	     IP_TLS10, (unsigned)W.port);
	EMIT("tlsmgr unix - - n 1000? 1 tlsmgr\n"
	     "anvil unix - - n - 1 anvil\n"
	     "proxymap unix - - n - - proxymap\n"
	     "postlog unix-dgram n - n - 1 postlogd\n");
	ftt_path(path, sizeof(path), W.dir, "etc/master.cf");
	ftt_write_file(path, b, n);

	/* SNI: postmap -F stores the files' contents in the table. */
	n = 0;
	EMIT("mx.valid.test %s/valid.pem\n", W.dir);
	ftt_path(path, sizeof(path), W.dir, "etc/sni");
	ftt_write_file(path, b, n);
#undef EMIT
	{
		char map[192];
		char *argv[] = { "/usr/sbin/postmap", "-c", W.etc, "-F", map,
				 NULL };

		snprintf(map, sizeof(map), "hash:%s/sni", W.etc);
		assert_int_equal(run_cmd(argv), 0);
	}
}

/* Queue and data directories as `postfix start` (post-install) would
 * make them: master needs pid/, and private/ and public/ for its sockets. */
static void make_dirs(void)
{
	static const struct {
		const char *name;
		mode_t mode;
		bool postfix_owned;
		bool postdrop_group;
	} dirs[] = {
		{ "etc", 0755, false, false },
		{ "queue", 0755, false, false },
		{ "queue/pid", 0755, false, false },
		{ "queue/private", 0700, true, false },
		{ "queue/public", 0710, true, true },
		{ "data", 0700, true, false },
	};
	struct passwd *pw = getpwnam("postfix");
	struct group *gr = getgrnam("postdrop");
	char path[192];

	assert_non_null(pw);
	assert_non_null(gr);
	/* smtpd runs as postfix and must reach the queue directory. */
	assert_int_equal(chmod(W.dir, 0755), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		ftt_path(path, sizeof(path), W.dir, dirs[i].name);
		assert_int_equal(mkdir(path, dirs[i].mode), 0);
		assert_int_equal(chmod(path, dirs[i].mode), 0);
		if (dirs[i].postfix_owned)
			assert_int_equal(chown(path, pw->pw_uid,
					       dirs[i].postdrop_group ?
						       gr->gr_gid : (gid_t)-1),
					 0);
	}
}

/*
 * The keeper: a child of the test that owns Postfix's master.  It exists
 * because master changes its effective uid at start-up, which clears a
 * PR_SET_PDEATHSIG set before exec; the keeper never changes credentials,
 * so its own parent-death signal reliably fires when the test dies, however
 * it dies.  On SIGTERM (from the teardown or that signal) it stops master's
 * process group (SIGTERM, then SIGKILL after 5 s) and exits; when master
 * exits by itself, so does the keeper.
 */
static void keeper(const char *master, const char *out, pid_t test)
{
	sigset_t set, old;
	pid_t pid;
	int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

	/* Nothing of ours keeps ctest's output pipe open. */
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != test)
		_exit(1); /* the test died before prctl() */
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		/* master: its own process group, which it kills on SIGTERM. */
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execl(master, "master", "-c", W.etc, "-d", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	for (;;) {
		siginfo_t si;
		int st;

		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
			continue;
		}
		kill(-pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;
			if (i == 99) {
				kill(-pid, SIGKILL);
				waitpid(pid, &st, 0);
			}
			usleep(50 * 1000);
		}
		/* Any straggler of the group (smtpd, tlsmgr, ...). */
		kill(-pid, SIGKILL);
		_exit(0);
	}
}

static void stop_postfix(void)
{
	pid_t pid = W.keeper;
	int st;

	if (pid <= 0)
		return;
	W.keeper = 0;
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

static int start_postfix(void)
{
	static bool registered;
	char master[256], dd[200], out[192];
	pid_t pid, test = getpid();

	daemon_dir(dd, sizeof(dd));
	snprintf(master, sizeof(master), "%s/master", dd);
	ftt_path(out, sizeof(out), W.dir, "master.out");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		keeper(master, out, test);
	W.keeper = pid;
	if (!registered) {
		atexit(stop_postfix);
		registered = true;
	}
	for (int i = 0; i < 300; i++) {
		static const char *const ips[] = { IP_VALID, IP_PLAIN,
						   IP_WRONGNAME, IP_EXPIRED,
						   IP_UNTRUSTED, IP_TLS10 };
		bool all = true;
		int st;

		for (size_t k = 0; k < sizeof(ips) / sizeof(ips[0]); k++)
			if (!ftt_port_accepts(ips[k], W.port))
				all = false;
		if (all)
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "postfix master exited; see %s/maillog "
				"and %s\n", W.dir, out);
			W.keeper = 0;
			return -1;
		}
		usleep(50 * 1000);
	}
	fprintf(stderr, "postfix did not start; see %s/maillog\n", W.dir);
	return -1;
}

static int setup(void **state)
{
	(void)state;
	W.now = time(NULL);
	if (!ftt_tmpdir(W.dir, sizeof(W.dir), "test_ft_smtp"))
		return -1;
	ftt_path(W.etc, sizeof(W.etc), W.dir, "etc");
	ftt_path(W.ca_path, sizeof(W.ca_path), W.dir, "root.pem");
	make_dirs();
	make_certs();
	W.port = ftt_free_port(service_ips,
			       sizeof(service_ips) / sizeof(service_ips[0]));
	write_config();
	return start_postfix();
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop_postfix();
	if (getenv("KEEP_FT_SMTP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
		if (system(cmd) != 0)
			return -1;
	} else {
		fprintf(stderr, "kept %s\n", W.dir);
	}
	return 0;
}

/* ---- tests: Postfix ---- */

static void test_valid(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	probe_default("mx.valid.test", IP_VALID, g);
	if (g->status != FT_SMTP_TLS)
		fail_msg("%s (%s)", ft_smtp_status_name(g->status), g->error);
	assert_string_equal(g->peer_ip, IP_VALID);
	assert_int_equal(g->peer_port, W.port);
	assert_int_equal(g->n_denied, 0);
	assert_string_equal(g->greeting, "220 mx.postfix.test ESMTP");
	assert_true(g->starttls_offered);
	assert_int_equal(g->reply_code, 220);
	/* TLS 1.3 with a current Postfix and OpenSSL. */
	assert_int_equal(g->tls_version, 0x0304);
	assert_true(g->cipher[0] != '\0');
	assert_true(g->cert_known);
	/* SNI reached Postfix: the SNI map's chain, not the fallback. */
	assert_int_equal(g->n_names, 1);
	assert_string_equal(g->names[0], "mx.valid.test");
	assert_string_equal(g->subject, "CN=mx.valid.test");
	assert_string_equal(g->issuer, "CN=stsmap smtp test inter");
	assert_int_equal(g->not_after, (int64_t)W.valid_not_after);
	assert_true(g->not_before < g->not_after);
	assert_true(g->name_match);
	assert_int_equal(g->verify_error, X509_V_OK);
	assert_string_equal(g->verify_str, "ok");
	assert_string_equal(g->error, "");
	assert_true(g->duration_ms < 5000);
	free(g);
}

/* Another name gets Postfix's fallback chain: valid, but not for it. */
static void test_sni_fallback(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	probe_default("mx.other.test", IP_VALID, g);
	assert_int_equal(g->status, FT_SMTP_TLS);
	assert_string_equal(g->names[0], "fallback.test");
	assert_false(g->name_match);
	assert_int_equal(g->verify_error, X509_V_OK);
	free(g);
}

static void test_cert_cases(void **state)
{
	static const struct {
		const char *host;
		const char *ip;
		int verify;
		bool name_match;
		const char *name;
	} rows[] = {
		/* Chain fine, name not: the scanner's NAME_MISMATCH. */
		{ "mx.wrongname.test", IP_WRONGNAME, X509_V_OK, false,
		  "other.test" },
		{ "mx.expired.test", IP_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED,
		  true, "mx.expired.test" },
		{ "mx.untrusted.test", IP_UNTRUSTED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true,
		  "mx.untrusted.test" },
	};
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		probe_default(rows[i].host, rows[i].ip, g);
		/* The handshake finishes whatever the chain: measured. */
		if (g->status != FT_SMTP_TLS)
			fail_msg("%s: %s (%s)", rows[i].host,
				 ft_smtp_status_name(g->status), g->error);
		assert_int_equal(g->tls_version, 0x0304);
		assert_true(g->cert_known);
		if (g->verify_error != rows[i].verify)
			fail_msg("%s: verify %d (%s), want %d", rows[i].host,
				 g->verify_error, g->verify_str,
				 rows[i].verify);
		assert_true(g->name_match == rows[i].name_match);
		assert_string_equal(g->names[0], rows[i].name);
		assert_true(g->verify_str[0] != '\0');
		if (i == 1)
			assert_int_equal(g->not_after,
					 (int64_t)W.expired_not_after);
	}
	free(g);
}

/* An old server is measured, not failed: TLS 1.0 completes. */
static void test_tls10(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	probe_default("mx.valid.test", IP_TLS10, g);
	if (g->status != FT_SMTP_TLS)
		fail_msg("%s (%s)", ft_smtp_status_name(g->status), g->error);
	assert_int_equal(g->tls_version, 0x0301);
	assert_true(g->name_match);
	assert_int_equal(g->verify_error, X509_V_OK);
	free(g);
}

static void test_no_starttls(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	probe_default("mx.plain.test", IP_PLAIN, g);
	assert_int_equal(g->status, FT_SMTP_NO_STARTTLS);
	assert_false(g->starttls_offered);
	assert_int_equal(g->reply_code, 250);
	assert_string_equal(g->peer_ip, IP_PLAIN);
	assert_int_equal(g->tls_version, 0);
	assert_false(g->cert_known);
	assert_int_equal(g->verify_error, -1);
	assert_true(g->error[0] != '\0');
	free(g);
}

static void test_refused(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	probe_default("mx.valid.test", IP_REFUSED, g);
	assert_int_equal(g->status, FT_SMTP_CONNECT_REFUSED);
	assert_string_equal(g->peer_ip, "");
	assert_true(g->greeting_null);
	assert_int_equal(g->reply_code, 0);
	assert_int_equal(g->verify_error, -1);
	assert_non_null(strstr(g->error, IP_REFUSED));
	free(g);
}

/* Addresses are tried in order until one accepts (nothing listens on
 * the port at ::1 either, or there is no IPv6: refused or unreachable). */
static void test_next_address(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_smtp_config cfg;
	struct event_base *base = event_base_new();
	struct req r = { "mx.valid.test", { "::1", IP_REFUSED, IP_VALID } };

	(void)state;
	assert_non_null(g);
	assert_non_null(base);
	config(&cfg);
	probe_run(base, &cfg, &r, 1, g, NULL, NULL);
	event_base_free(base);
	assert_int_equal(g->status, FT_SMTP_TLS);
	assert_string_equal(g->peer_ip, IP_VALID);
	assert_string_equal(g->error, "");
	free(g);
}

static void test_guard(void **state)
{
	struct got *g = calloc(2, sizeof(*g));
	struct ft_smtp_config cfg;
	struct ft_smtp_stats st;
	struct event_base *base = event_base_new();
	struct req r[2] = {
		{ "mx.valid.test", { IP_VALID, NULL, NULL } },
		{ "mx.valid.test", { "0.0.0.0", IP_VALID, NULL } },
	};

	(void)state;
	assert_non_null(g);
	assert_non_null(base);
	config(&cfg);
	cfg.allow_private = false;
	probe_run(base, &cfg, r, 1, g, &st, NULL);
	assert_int_equal(g[0].status, FT_SMTP_NON_PUBLIC);
	assert_int_equal(g[0].n_denied, 1);
	assert_string_equal(g[0].peer_ip, "");
	assert_int_equal(g[0].duration_ms, 0);
	assert_int_equal(st.submitted, 1);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.denied, 1);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.queued, 0);
	/* allow_private still refuses 0.0.0.0; the other address is used. */
	cfg.allow_private = true;
	probe_run(base, &cfg, &r[1], 1, &g[1], &st, NULL);
	assert_int_equal(g[1].status, FT_SMTP_TLS);
	assert_int_equal(g[1].n_denied, 1);
	assert_int_equal(st.denied, 0);
	event_base_free(base);
	free(g);
}

/* ---- tests: scripted servers ---- */

static void test_554_greeting(void **state)
{
	static const struct script sc = {
		"554 5.3.2 mx.script.test no SMTP service here\r\n",
		"250 mx.script.test\r\n", "220 go\r\n", false
	};
	struct got *g = calloc(1, sizeof(*g));
	char log[512];

	(void)state;
	assert_non_null(g);
	probe_script(&sc, 0, g, log, sizeof(log));
	assert_int_equal(g->status, FT_SMTP_BAD_GREETING);
	assert_int_equal(g->reply_code, 554);
	assert_string_equal(g->greeting,
			    "554 5.3.2 mx.script.test no SMTP service here");
	/* RFC 5321 §3.1: after 554 the client sends QUIT, nothing else. */
	assert_string_equal(log, "QUIT");
	free(g);
}

static void test_long_line(void **state)
{
	static char greeting[2100];
	static const struct script sc = { greeting, "250 x\r\n", "220 go\r\n",
					  false };
	struct got *g = calloc(1, sizeof(*g));
	char log[512];

	(void)state;
	assert_non_null(g);
	memcpy(greeting, "220 ", 4);
	memset(greeting + 4, 'x', 2000);
	memcpy(greeting + 2004, "\r\n", 3);
	probe_script(&sc, 0, g, log, sizeof(log));
	assert_int_equal(g->status, FT_SMTP_PROTOCOL);
	assert_non_null(strstr(g->error, "over"));
	assert_string_equal(log, "");
	free(g);
}

static void test_starttls_454(void **state)
{
	static const struct script sc = {
		"220 mx.script.test ESMTP\r\n",
		"250-mx.script.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
		"250 8BITMIME\r\n",
		"454 4.7.0 TLS not available due to local problem\r\n", false
	};
	struct got *g = calloc(1, sizeof(*g));
	char log[512];

	(void)state;
	assert_non_null(g);
	probe_script(&sc, 0, g, log, sizeof(log));
	assert_int_equal(g->status, FT_SMTP_STARTTLS_REFUSED);
	assert_true(g->starttls_offered);
	assert_int_equal(g->reply_code, 454);
	assert_int_equal(g->verify_error, -1);
	/* Only EHLO, STARTTLS and QUIT are ever sent. */
	assert_string_equal(log, "EHLO " EHLO_NAME "|STARTTLS|QUIT");
	free(g);
}

/* More server behaviours, one row each. */
static void test_script_cases(void **state)
{
	static const struct {
		const char *what;
		struct script sc;
		enum ft_smtp_status status;
		int reply_code;
		bool offered;
		const char *log;
	} rows[] = {
		{ "multi-line greeting, EHLO without STARTTLS",
		  { "220-mx.script.test ESMTP\r\n220-more\r\n220 last\r\n",
		    "250-mx.script.test\r\n250-XSTARTTLS\r\n250 SIZE 1000\r\n",
		    "220 go\r\n", false },
		  FT_SMTP_NO_STARTTLS, 250, false, "EHLO " EHLO_NAME "|QUIT" },
		/* RFC 5321 §2.4: keywords are case-insensitive. */
		{ "lower-case starttls, server then closes",
		  { "220 x\r\n", "250-x\r\n250 starttls\r\n", "220 go\r\n",
		    true },
		  FT_SMTP_TLS_HANDSHAKE, 220, true,
		  "EHLO " EHLO_NAME "|STARTTLS" },
		{ "EHLO refused",
		  { "220 x\r\n", "502 5.5.1 no EHLO\r\n", "220 go\r\n", false },
		  FT_SMTP_EHLO_FAILED, 502, false, "EHLO " EHLO_NAME "|QUIT" },
		{ "STARTTLS keyword on the first line only",
		  { "220 x\r\n", "250 STARTTLS\r\n", "220 go\r\n", false },
		  FT_SMTP_NO_STARTTLS, 250, false, "EHLO " EHLO_NAME "|QUIT" },
		{ "not SMTP at all",
		  { "SSH-2.0-OpenSSH_9.2\r\n", "250 x\r\n", "220 go\r\n", false },
		  FT_SMTP_PROTOCOL, 0, false, "" },
		{ "421 greeting",
		  { "421 4.3.2 busy\r\n", "250 x\r\n", "220 go\r\n", false },
		  FT_SMTP_BAD_GREETING, 421, false, "QUIT" },
		/* Bytes after the 220 in clear: STARTTLS injection. */
		{ "data after the STARTTLS reply",
		  { "220 x\r\n", "250-x\r\n250 STARTTLS\r\n",
		    "220 go\r\n250 injected\r\n", false },
		  FT_SMTP_PROTOCOL, 220, true, "EHLO " EHLO_NAME "|STARTTLS" },
	};
	struct got *g = calloc(1, sizeof(*g));
	char log[512];

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		probe_script(&rows[i].sc, 3000, g, log, sizeof(log));
		if (g->status != rows[i].status)
			fail_msg("%s: %s (%s), want %s", rows[i].what,
				 ft_smtp_status_name(g->status), g->error,
				 ft_smtp_status_name(rows[i].status));
		assert_int_equal(g->reply_code, rows[i].reply_code);
		assert_true(g->starttls_offered == rows[i].offered);
		if (strcmp(log, rows[i].log) != 0)
			fail_msg("%s: server got \"%s\", want \"%s\"",
				 rows[i].what, log, rows[i].log);
		if (g->status != FT_SMTP_TLS)
			assert_true(g->error[0] != '\0');
	}
	free(g);
}

/* ---- API and scale ---- */

static void cancel_cb(const struct ft_smtp_result *r, void *arg)
{
	int *n = arg;

	assert_int_equal(r->status, FT_SMTP_CANCELLED);
	(*n)++;
}

static void test_api(void **state)
{
	struct event_base *base = event_base_new();
	struct ft_prober *p = NULL;
	struct ft_smtp_config cfg;
	struct ft_smtp_stats st;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	int n = 0;

	(void)state;
	assert_non_null(base);
	ftt_sin(&sin, IP_VALID);
	config(&cfg);
	cfg.max_probes = 0;
	assert_int_equal(ft_prober_new(base, &cfg, &p), ST_EINVAL);
	assert_null(p);
	config(&cfg);
	cfg.ehlo_name = "evil\r\nMAIL FROM:<x>";
	assert_int_equal(ft_prober_new(base, &cfg, &p), ST_EINVAL);
	config(&cfg);
	cfg.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(ft_prober_new(base, &cfg, &p), ST_ETLS);
	assert_null(p);
	config(&cfg);
	assert_int_equal(ft_prober_new(NULL, &cfg, &p), ST_EINVAL);
	assert_int_equal(ft_prober_new(base, &cfg, &p), ST_OK);
	assert_int_equal(ft_probe_smtp(p, "bad host", addrs, 1, cancel_cb, &n),
			 ST_EINVAL);
	assert_int_equal(ft_probe_smtp(p, "mx.valid.test.", addrs, 1,
				       cancel_cb, &n), ST_EINVAL);
	assert_int_equal(ft_probe_smtp(p, "mx.valid.test", addrs, 0,
				       cancel_cb, &n), ST_EINVAL);
	assert_int_equal(ft_probe_smtp(p, "mx.valid.test", addrs, 1, NULL,
				       &n), ST_EINVAL);
	/* Queued, in flight and denied probes are all cancelled. */
	cfg.max_probes = 1;
	ft_prober_free(p);
	assert_int_equal(ft_prober_new(base, &cfg, &p), ST_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ft_probe_smtp(p, "mx.valid.test", addrs, 1,
					       cancel_cb, &n), ST_OK);
	assert_int_equal(ft_prober_pending(p), 3);
	/* One loop pass starts one probe (max_probes 1): in flight. */
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	ft_prober_stats(p, &st);
	assert_int_equal(st.inflight, 1);
	assert_int_equal(st.queued, 2);
	assert_int_equal(st.submitted, 3);
	assert_int_equal(n, 0);
	ft_prober_free(p);
	assert_int_equal(n, 3);
	ft_prober_free(NULL);
	assert_string_equal(ft_smtp_status_name(FT_SMTP_TLS), "tls");
	assert_string_equal(ft_smtp_status_name(FT_SMTP_NO_STARTTLS),
			    "no-starttls");
	assert_string_equal(ft_smtp_status_name(FT_SMTP_STATUS_COUNT),
			    "unknown");
	ft_smtp_config_default(&cfg);
	assert_int_equal(cfg.port, 25);
	assert_int_equal(cfg.max_probes, 64);
	assert_int_equal(cfg.per_ip_max, FT_SMTP_DEFAULT_PER_IP_MAX);
	assert_int_equal(cfg.per_ip_rate, FT_SMTP_DEFAULT_PER_IP_RATE);
	event_base_free(base);
}

/* One kind of probe in a run of many, and how it must end. */
struct mix {
	const char *host;
	const char *ip;
	enum ft_smtp_status status;
	bool name_match;
	int verify_error;
};

/*
 * n probes of mix[i % n_mix], all submitted at once to one prober that
 * runs max at a time: each ends as its row says, the cap holds, and no
 * descriptor is left behind.
 */
static void many(size_t n, unsigned max, const struct mix *mix, size_t n_mix)
{
	struct got *g = calloc(n, sizeof(*g));
	struct req *r = calloc(n, sizeof(*r));
	struct ft_smtp_config cfg;
	struct ft_smtp_stats st;
	struct event_base *base;
	struct timespec t0, t1;
	size_t max_inflight = 0;
	int before = ftt_count_fds();
	uint64_t sum = 0;
	uint32_t worst = 0;
	double s;

	assert_non_null(g);
	assert_non_null(r);
	base = event_base_new();
	assert_non_null(base);
	for (size_t i = 0; i < n; i++) {
		r[i].host = mix[i % n_mix].host;
		r[i].ips[0] = mix[i % n_mix].ip;
	}
	config(&cfg);
	cfg.max_probes = max;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	probe_run(base, &cfg, r, n, g, &st, &max_inflight);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	event_base_free(base);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (size_t i = 0; i < n; i++) {
		const struct mix *m = &mix[i % n_mix];

		if (g[i].status != m->status)
			fail_msg("probe %zu (%s at %s): %s (%s)", i, m->host,
				 m->ip, ft_smtp_status_name(g[i].status),
				 g[i].error);
		assert_true(g[i].name_match == m->name_match);
		assert_int_equal(g[i].verify_error, m->verify_error);
		sum += g[i].duration_ms;
		if (g[i].duration_ms > worst)
			worst = g[i].duration_ms;
	}
	assert_int_equal(st.submitted, n);
	assert_int_equal(st.completed, n);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.queued, 0);
	/* Seen from a callback, after the probe left the count. */
	assert_true(max_inflight < max);
	assert_int_equal(ftt_count_fds(), before);
	printf("# %zu probes, %u at a time: %.2f s, %.0f probes/s, "
	       "probe mean %.1f ms, max %u ms\n", n, max, s, (double)n / s,
	       (double)sum / (double)n, worst);
	free(g);
	free(r);
}

/* 500 probes of the valid service, 32 at a time, one in five for a name
 * the SNI map does not know. */
static void test_many(void **state)
{
	static const struct mix mix[] = {
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.other.test", IP_VALID, FT_SMTP_TLS, false, X509_V_OK },
	};

	(void)state;
	many(500, 32, mix, sizeof(mix) / sizeof(mix[0]));
}

/* The soak (test_ft_smtp --soak): 1,000 probes on one prober, every
 * service and a refusal mixed, descriptors counted, memory checked by the
 * ASan build. */
static void test_soak(void **state)
{
	static const struct mix mix[] = {
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.other.test", IP_VALID, FT_SMTP_TLS, false, X509_V_OK },
		{ "mx.plain.test", IP_PLAIN, FT_SMTP_NO_STARTTLS, false, -1 },
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.expired.test", IP_EXPIRED, FT_SMTP_TLS, true,
		  X509_V_ERR_CERT_HAS_EXPIRED },
		{ "mx.wrongname.test", IP_WRONGNAME, FT_SMTP_TLS, false,
		  X509_V_OK },
		{ "mx.valid.test", IP_VALID, FT_SMTP_TLS, true, X509_V_OK },
		{ "mx.valid.test", IP_REFUSED, FT_SMTP_CONNECT_REFUSED, false,
		  -1 },
	};

	(void)state;
	many(1000, 16, mix, sizeof(mix) / sizeof(mix[0]));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_sni_fallback),
		cmocka_unit_test(test_cert_cases),
		cmocka_unit_test(test_tls10),
		cmocka_unit_test(test_no_starttls),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_next_address),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_554_greeting),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_starttls_454),
		cmocka_unit_test(test_script_cases),
		cmocka_unit_test(test_many),
	};
	const struct CMUnitTest soak[] = {
		cmocka_unit_test(test_soak),
	};
	bool is_soak = argc == 2 && strcmp(argv[1], "--soak") == 0;

	if (argc > 1 && !is_soak) {
		fprintf(stderr, "usage: %s [--soak]\n", argv[0]);
		return 2;
	}

	/* ft_smtp.h: the process ignores SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0) {
		printf("SKIP: starting Postfix needs root\n");
		return 77;
	}
	if (access(POSTFIX, X_OK) != 0)
		return test_missing_tool(POSTFIX " not installed (apt-get install postfix)");
	if (is_soak)
		return cmocka_run_group_tests(soak, setup, teardown);
	return cmocka_run_group_tests(tests, setup, teardown);
}
