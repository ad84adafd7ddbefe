/*
 * test_ft_fetch.c - fetch/: the HTTPS policy fetcher against a real nginx
 * on 127.6.0.1, one SNI server block per case, with certificates made by
 * datasets/ds_certs (a root, an intermediate, and leaves broken in exactly
 * one way each).  Skipped (exit 77) when nginx is not on PATH; with CI=true
 * that fails instead (tests/lib/test_ci.h).
 *
 * Every fetch runs under a hard deadline (an evtimer that breaks the loop
 * and fails the test), so a hung transfer cannot hang the suite.
 *
 * `test_ft_fetch --soak` runs only the soak (test_soak): 10,000 fetches of
 * many *.soak.test names that nginx also serves on 127.6.0.4 and .5.
 * Servers that misbehave on purpose are in test_ft_hostile.c.
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
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ds_certs.h"
#include "ft_fetch.h"
#include "ft_testutil.h"
#include "st_error.h"
#include "../lib/test_ci.h"

extern char **environ;

#define NGINX_IP "127.6.0.1"
#define REFUSED_IP "127.6.0.2"
/* The soak's extra addresses; nginx serves *.soak.test on all three. */
#define SOAK_IP2 "127.6.0.4"
#define SOAK_IP3 "127.6.0.5"
#define DEADLINE_S 20
#define DAY 86400

/* Every address nginx listens on, for a port free on all of them. */
static const char *const nginx_ips[] = { NGINX_IP, SOAK_IP2, SOAK_IP3 };

static const char policy_body[] =
	"version: STSv1\nmode: enforce\nmx: mx.valid.test\nmax_age: 86400\n";

/* The world, set up once for the whole file. */
static struct world {
	char dir[64];
	char ca_path[128];
	char access_log[128];
	uint16_t port;
	pid_t nginx;
	time_t now;
	time_t good_not_after;
} W;

/* What a test keeps from one result (the result dies with the callback). */
struct got {
	bool done;
	enum ft_status status;
	int http_status;
	char location[256];
	char content_type[128];
	size_t body_len;
	char body[FT_BODY_MAX + 1];
	int http_version;
	char peer_ip[64];
	bool reused;
	bool cert_known;
	int64_t not_after;
	int verify_error;
	char verify_str[128];
	char names[4][64];
	size_t n_names;
	bool name_match;
	char error[256];
	int64_t total_us;
	size_t n_denied;
	enum ft_addr_class denied_class;
	int fds_after;             /* fetch_seq: descriptors open after it,
				    * less those open before the first */
};

struct run {
	struct event_base *base;
	struct got *got;
	size_t n_got;
	size_t n_done;
};

struct one {
	struct run *run;
	struct got *g;
};

static void on_result(const struct ft_result *r, void *arg)
{
	struct one *o = arg;
	struct got *g = o->g;

	g->done = true;
	g->status = r->status;
	g->http_status = r->http_status;
	ftt_copy_str(g->location, sizeof(g->location), r->location);
	ftt_copy_str(g->content_type, sizeof(g->content_type), r->content_type);
	g->body_len = r->body_len;
	assert_true(r->body_len <= FT_BODY_MAX);
	if (r->body_len)
		memcpy(g->body, r->body, r->body_len);
	g->body[r->body_len] = '\0';
	g->http_version = r->http_version;
	ftt_copy_str(g->peer_ip, sizeof(g->peer_ip), r->peer_ip);
	g->reused = r->reused;
	g->cert_known = r->cert_known;
	g->not_after = r->cert_not_after;
	g->verify_error = r->verify_error;
	ftt_copy_str(g->verify_str, sizeof(g->verify_str), r->verify_error_str);
	g->n_names = r->n_cert_names < 4 ? r->n_cert_names : 4;
	for (size_t i = 0; i < g->n_names; i++)
		ftt_copy_str(g->names[i], sizeof(g->names[i]), r->cert_names[i]);
	g->name_match = r->cert_name_match;
	ftt_copy_str(g->error, sizeof(g->error), r->error);
	g->total_us = r->total_us;
	g->n_denied = r->n_addrs_denied;
	g->denied_class = r->denied_class;
	if (++o->run->n_done == o->run->n_got)
		assert_int_equal(event_base_loopbreak(o->run->base), 0);
}

static void config(struct ft_config *cfg)
{
	ft_config_default(cfg);
	cfg->ca_file = W.ca_path;
	cfg->allow_private = true;
	cfg->contact_url = "https://example.test/stsmap";
	cfg->connect_timeout_ms = 3000;
	cfg->total_timeout_ms = 10000;
	/* one address serves every test host: the per-IP caps are
	 * test_ft_polite's and test_sc_polite's, not these tests' */
	cfg->per_ip_max = 0;
	cfg->per_ip_rate = 0;
}

/*
 * Fetch hosts[0..n-1] one after the other (each starts when the previous
 * one has ended, so a kept connection can be reused) from ip with cfg,
 * under the hard deadline.
 */
/* ip: one address, or several separated by commas (tried in order). */
static void fetch_seq(const struct ft_config *cfg, const char *const *hosts,
		      size_t n, const char *ip, struct got *got,
		      struct ft_stats *stats)
{
	struct run run = { 0 };
	struct ft_fetcher *f = NULL;
	struct ftt_deadline dl;
	struct sockaddr_in sin[4];
	const struct sockaddr *addrs[4];
	size_t n_addrs = 0;
	char list[128], *save = NULL;
	struct one *ones = calloc(n, sizeof(*ones));
	int fds0;

	assert_non_null(ones);
	snprintf(list, sizeof(list), "%s", ip);
	for (char *a = strtok_r(list, ",", &save); a != NULL && n_addrs < 4;
	     a = strtok_r(NULL, ",", &save)) {
		ftt_sin(&sin[n_addrs], a);
		addrs[n_addrs] = (const struct sockaddr *)&sin[n_addrs];
		n_addrs++;
	}
	run.base = event_base_new();
	assert_non_null(run.base);
	assert_int_equal(ft_fetcher_new(run.base, cfg, &f), ST_OK);
	ftt_deadline_start(&dl, run.base, DEADLINE_S);
	fds0 = ftt_count_fds();
	for (size_t i = 0; i < n; i++) {
		memset(&got[i], 0, sizeof(got[i]));
		ones[i].run = &run;
		ones[i].g = &got[i];
		run.got = got;
		run.n_got = 1;
		run.n_done = 0;
		assert_int_equal(ft_fetch_policy(f, hosts[i], addrs, n_addrs,
						 W.port, on_result, &ones[i]),
				 ST_OK);
		/* Never from within ft_fetch_policy(). */
		assert_false(got[i].done);
		assert_int_equal(event_base_dispatch(run.base), 0);
		if (dl.fired)
			fail_msg("fetch of %s passed the %d s deadline",
				 hosts[i], DEADLINE_S);
		assert_true(got[i].done);
		got[i].fds_after = ftt_count_fds() - fds0;
	}
	assert_int_equal(ft_fetcher_pending(f), 0);
	if (stats)
		ft_fetcher_stats(f, stats);
	ft_fetcher_free(f);
	ftt_deadline_end(&dl, "fetch_seq");
	event_base_free(run.base);
	free(ones);
}

static void fetch1(const char *host, struct got *g)
{
	struct ft_config cfg;

	config(&cfg);
	fetch_seq(&cfg, &host, 1, NGINX_IP, g, NULL);
}

/* ---- the world ---- */

/* A leaf for names, by issuer (NULL: self-signed), written with chain
 * (leaf + extra) to <dir>/<file>. */
static void leaf(const struct ds_ca *issuer, EVP_PKEY *key,
		 const char *const *names, size_t n_names, time_t nb,
		 time_t na, X509 *extra, const char *file)
{
	char path[192];

	ftt_path(path, sizeof(path), W.dir, file);
	ftt_leaf(issuer, key, names, n_names, nb, na, extra, path);
}

struct vhost {
	const char *name;
	const char *cert;     /* file in dir */
	const char *location; /* body of the location block */
	const char *key;      /* file in dir; NULL: the shared leaf.key */
};

static void write_nginx_conf(const char *conf_path)
{
	char b[16384];
	size_t n = 0;
	const char *key = "leaf.key";
	static const struct vhost vh[] = {
		{ "valid.test", "good.crt",
		  "default_type text/plain; return 200 \"$policy\";", NULL },
		{ "redirect.test", "good.crt",
		  "return 301 https://valid.test/.well-known/mta-sts.txt;", NULL },
		{ "notfound.test", "good.crt", "return 404;", NULL },
		{ "error.test", "good.crt", "return 500;", NULL },
		{ "html.test", "good.crt",
		  "default_type text/html; return 200 \"$policy\";", NULL },
		{ "charset.test", "good.crt",
		  "default_type \"text/plain; charset=utf-8\"; return 200 \"$policy\";", NULL },
		{ "large.test", "good.crt",
		  "default_type text/plain; root $dir/large;", NULL },
		{ "slow.test", "good.crt",
		  "default_type text/plain; root $dir/slow; limit_rate 1k;", NULL },
		{ "expired.test", "expired.crt", "return 200 \"$policy\";", NULL },
		{ "future.test", "future.crt", "return 200 \"$policy\";", NULL },
		{ "wrongname.test", "wrongname.crt", "return 200 \"$policy\";", NULL },
		{ "selfsigned.test", "selfsigned.crt", "return 200 \"$policy\";", NULL },
		{ "untrusted.test", "untrusted.crt", "return 200 \"$policy\";", NULL },
		{ "nointer.test", "nointer.crt", "return 200 \"$policy\";", NULL },
		/* An RSA leaf under the EC intermediate: TLS 1.3 signs its
		 * CertificateVerify with RSA-PSS (RFC 8446 §4.2.3). */
		{ "rsa.test", "rsa.crt",
		  "default_type text/plain; return 200 \"$policy\";", "rsa.key" },
	};

#define EMIT(...)                                                        \
	do {                                                             \
		int k_ = snprintf(b + n, sizeof(b) - n, __VA_ARGS__);    \
		assert_true(k_ > 0 && (size_t)k_ < sizeof(b) - n);       \
		n += (size_t)k_;                                         \
	} while (0)

	EMIT("daemon off;\nmaster_process off;\nworker_processes 1;\n"
	     "pid %s/nginx.pid;\nerror_log %s/error.log info;\n"
	     "events { worker_connections 256; }\n"
	     "http {\n log_format sni '$ssl_server_name \"$http_user_agent\"';\n"
	     " access_log %s sni;\n"
	     " client_body_temp_path %s/tmp/body;\n"
	     " proxy_temp_path %s/tmp/proxy;\n"
	     " fastcgi_temp_path %s/tmp/fastcgi;\n"
	     " uwsgi_temp_path %s/tmp/uwsgi;\n"
	     " scgi_temp_path %s/tmp/scgi;\n"
	     " keepalive_timeout 60s;\n sendfile off;\n"
	     " ssl_protocols TLSv1.2 TLSv1.3;\n",
	     W.dir, W.dir, W.access_log, W.dir, W.dir, W.dir, W.dir, W.dir);
	for (size_t i = 0; i < sizeof(vh) / sizeof(vh[0]); i++) {
		char loc[512];
		const char *s = vh[i].location;
		size_t m = 0;

		/* Expand $policy and $dir (nginx's own variables are not used). */
		while (*s) {
			if (strncmp(s, "$policy", 7) == 0) {
				for (const char *p = policy_body; *p; p++) {
					if (*p == '\n') {
						loc[m++] = '\\';
						loc[m++] = 'n';
					} else {
						loc[m++] = *p;
					}
				}
				s += 7;
			} else if (strncmp(s, "$dir", 4) == 0) {
				m += (size_t)snprintf(loc + m, sizeof(loc) - m,
						      "%s", W.dir);
				s += 4;
			} else {
				loc[m++] = *s++;
			}
			assert_true(m < sizeof(loc) - 64);
		}
		loc[m] = '\0';
		EMIT(" server {\n  listen %s:%u ssl%s;\n  server_name %s;\n"
		     "  ssl_certificate %s/%s;\n  ssl_certificate_key %s/%s;\n"
		     "  location = /.well-known/mta-sts.txt { %s }\n"
		     "  location / { return 404; }\n }\n",
		     NGINX_IP, (unsigned)W.port, i == 0 ? " default_server" : "",
		     vh[i].name, W.dir, vh[i].cert, W.dir,
		     vh[i].key != NULL ? vh[i].key : key, loc);
	}
	/* The soak's many names: one wildcard server on three addresses. */
	EMIT(" server {\n  listen %s:%u ssl;\n  listen %s:%u ssl;\n"
	     "  listen %s:%u ssl;\n  server_name *.soak.test;\n"
	     "  ssl_certificate %s/soak.crt;\n  ssl_certificate_key %s/%s;\n"
	     "  location = /.well-known/mta-sts.txt { default_type text/plain;"
	     " return 200 \"soak\\n\"; }\n"
	     "  location / { return 404; }\n }\n",
	     NGINX_IP, (unsigned)W.port, SOAK_IP2, (unsigned)W.port, SOAK_IP3,
	     (unsigned)W.port, W.dir, W.dir, key);
	EMIT("}\n");
	ftt_write_file(conf_path, b, n);
#undef EMIT
}

static void make_certs(void)
{
	struct ds_ca *root = NULL, *inter = NULL, *other = NULL;
	EVP_PKEY *key = NULL;
	time_t now = W.now;
	char path[192];
	static const char *const good[] = {
		"valid.test", "redirect.test", "notfound.test", "error.test",
		"html.test", "charset.test", "large.test", "slow.test",
	};
	const char *n1[1];

	assert_int_equal(ds_ca_new("stsmap test root", now - 10 * DAY,
				   now + 3650 * DAY, &root), ST_OK);
	assert_int_equal(ds_ca_new_intermediate(root, "stsmap test inter",
						now - 10 * DAY,
						now + 3650 * DAY, &inter),
			 ST_OK);
	assert_int_equal(ds_ca_new("stsmap other root", now - 10 * DAY,
				   now + 3650 * DAY, &other), ST_OK);
	assert_int_equal(ds_key_new(&key), ST_OK);
	assert_int_equal(ds_ca_write(root, W.ca_path, NULL), ST_OK);
	ftt_path(path, sizeof(path), W.dir, "leaf.key");
	assert_int_equal(ds_write_pem_key(path, key), ST_OK);

	W.good_not_after = now + 90 * DAY;
	leaf(inter, key, good, sizeof(good) / sizeof(good[0]), now - DAY,
	     W.good_not_after, ds_ca_cert(inter), "good.crt");
	n1[0] = "expired.test";
	leaf(inter, key, n1, 1, now - 30 * DAY, now - DAY, ds_ca_cert(inter),
	     "expired.crt");
	n1[0] = "future.test";
	leaf(inter, key, n1, 1, now + 10 * DAY, now + 90 * DAY,
	     ds_ca_cert(inter), "future.crt");
	n1[0] = "other.test";
	leaf(inter, key, n1, 1, now - DAY, now + 90 * DAY, ds_ca_cert(inter),
	     "wrongname.crt");
	n1[0] = "selfsigned.test";
	leaf(NULL, key, n1, 1, now - DAY, now + 90 * DAY, NULL,
	     "selfsigned.crt");
	n1[0] = "untrusted.test";
	leaf(other, key, n1, 1, now - DAY, now + 90 * DAY, NULL,
	     "untrusted.crt");
	n1[0] = "nointer.test";
	leaf(inter, key, n1, 1, now - DAY, now + 90 * DAY, NULL,
	     "nointer.crt");
	n1[0] = "rsa.test";
	{
		EVP_PKEY *rsa = EVP_RSA_gen(2048);

		assert_non_null(rsa);
		ftt_path(path, sizeof(path), W.dir, "rsa.key");
		assert_int_equal(ds_write_pem_key(path, rsa), ST_OK);
		leaf(inter, rsa, n1, 1, now - DAY, W.good_not_after,
		     ds_ca_cert(inter), "rsa.crt");
		EVP_PKEY_free(rsa);
	}
	n1[0] = "*.soak.test";
	leaf(inter, key, n1, 1, now - DAY, now + 90 * DAY, ds_ca_cert(inter),
	     "soak.crt");
	EVP_PKEY_free(key);
	ds_ca_free(root);
	ds_ca_free(inter);
	ds_ca_free(other);
}

static void make_bodies(void)
{
	static char big[FT_BODY_MAX + 1];
	static char slow[20000];
	char path[192];

	memset(big, 'x', sizeof(big));
	memset(slow, 's', sizeof(slow));
	for (int i = 0; i < 2; i++) {
		const char *sub = i ? "slow" : "large";
		char d[192];

		snprintf(d, sizeof(d), "%s/%s", W.dir, sub);
		assert_int_equal(mkdir(d, 0755), 0);
		snprintf(d, sizeof(d), "%s/%s/.well-known", W.dir, sub);
		assert_int_equal(mkdir(d, 0755), 0);
		snprintf(d, sizeof(d), "%s/%s/.well-known/mta-sts.txt", W.dir,
			 sub);
		if (i)
			ftt_write_file(d, slow, sizeof(slow));
		else
			ftt_write_file(d, big, sizeof(big));
	}
	ftt_path(path, sizeof(path), W.dir, "tmp");
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	char conf[192];
	char *argv[8];
	char prefix[80];

	(void)state;
	W.now = time(NULL);
	if (!ftt_tmpdir(W.dir, sizeof(W.dir), "test_ft_fetch"))
		return -1;
	ftt_path(W.ca_path, sizeof(W.ca_path), W.dir, "root.pem");
	ftt_path(W.access_log, sizeof(W.access_log), W.dir, "access.log");
	make_certs();
	make_bodies();
	W.port = ftt_free_port(nginx_ips,
			       sizeof(nginx_ips) / sizeof(nginx_ips[0]));
	ftt_path(conf, sizeof(conf), W.dir, "nginx.conf");
	write_nginx_conf(conf);
	snprintf(prefix, sizeof(prefix), "%s/", W.dir);
	argv[0] = "nginx";
	argv[1] = "-c";
	argv[2] = conf;
	argv[3] = "-p";
	argv[4] = prefix;
	argv[5] = "-e";
	argv[6] = W.access_log; /* replaced below: start-up errors */
	argv[7] = NULL;
	{
		static char elog[192];

		ftt_path(elog, sizeof(elog), W.dir, "startup.log");
		argv[6] = elog;
	}
	if (posix_spawnp(&W.nginx, "nginx", NULL, NULL, argv, environ) != 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		int st;

		if (ftt_port_accepts(NGINX_IP, W.port))
			return 0;
		if (waitpid(W.nginx, &st, WNOHANG) == W.nginx) {
			fprintf(stderr, "nginx exited; see %s/startup.log\n",
				W.dir);
			W.nginx = 0;
			return -1;
		}
		usleep(50 * 1000);
	}
	return -1;
}

static int teardown(void **state)
{
	(void)state;
	if (W.nginx > 0) {
		int st;

		kill(W.nginx, SIGTERM);
		waitpid(W.nginx, &st, 0);
	}
	return ftt_tmpdir_remove(W.dir, "KEEP_FT_FETCH") ? 0 : -1;
}

/* ---- tests ---- */

static void test_valid(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	fetch1("valid.test", g);
	assert_int_equal(g->status, FT_DONE);
	assert_int_equal(g->http_status, 200);
	assert_string_equal(g->content_type, "text/plain");
	assert_int_equal(g->body_len, strlen(policy_body));
	assert_string_equal(g->body, policy_body);
	assert_string_equal(g->location, "");
	assert_int_equal(g->http_version, 11);
	assert_string_equal(g->peer_ip, NGINX_IP);
	assert_false(g->reused);
	assert_true(g->cert_known);
	assert_int_equal(g->not_after, (int64_t)W.good_not_after);
	assert_int_equal(g->verify_error, X509_V_OK);
	assert_true(g->name_match);
	assert_true(g->n_names >= 1);
	assert_string_equal(g->names[0], "valid.test");
	assert_string_equal(g->error, "");
	free(g);
}

/* The same fetch with an RSA leaf: what the record keeps is what an EC
 * leaf gives. */
static void test_valid_rsa(void **state)
{
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	fetch1("rsa.test", g);
	if (g->status != FT_DONE)
		fail_msg("rsa.test: %s (verify %d, %s)", ft_status_name(g->status),
			 g->verify_error, g->error);
	assert_int_equal(g->http_status, 200);
	assert_string_equal(g->body, policy_body);
	assert_true(g->cert_known);
	assert_int_equal(g->not_after, (int64_t)W.good_not_after);
	assert_int_equal(g->verify_error, X509_V_OK);
	assert_true(g->name_match);
	assert_int_equal(g->n_names, 1);
	assert_string_equal(g->names[0], "rsa.test");
	assert_string_equal(g->error, "");
	free(g);
}

static void test_http_cases(void **state)
{
	static const struct {
		const char *host;
		enum ft_status status;
		int http;
		const char *ctype;
		const char *location;
		size_t body_len;
	} rows[] = {
		{ "redirect.test", FT_DONE, 301, "text/html",
		  "https://valid.test/.well-known/mta-sts.txt", (size_t)-1 },
		{ "notfound.test", FT_DONE, 404, "text/html", "", (size_t)-1 },
		{ "error.test", FT_DONE, 500, "text/html", "", (size_t)-1 },
		{ "html.test", FT_DONE, 200, "text/html", "",
		  sizeof(policy_body) - 1 },
		{ "charset.test", FT_DONE, 200, "text/plain; charset=utf-8", "",
		  sizeof(policy_body) - 1 },
		/* RFC 8461 §3.3: reading stops at 64 KiB + 1. */
		{ "large.test", FT_TOO_LARGE, 200, "text/plain", "",
		  FT_BODY_MAX },
	};
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fetch1(rows[i].host, g);
		if (g->status != rows[i].status)
			fail_msg("%s: %s, want %s (%s)", rows[i].host,
				 ft_status_name(g->status),
				 ft_status_name(rows[i].status), g->error);
		assert_int_equal(g->http_status, rows[i].http);
		assert_string_equal(g->content_type, rows[i].ctype);
		assert_string_equal(g->location, rows[i].location);
		if (rows[i].body_len != (size_t)-1)
			assert_int_equal(g->body_len, rows[i].body_len);
		assert_int_equal(g->verify_error, X509_V_OK);
		assert_int_equal(g->not_after, (int64_t)W.good_not_after);
	}
	free(g);
}

static void test_cert_cases(void **state)
{
	static const struct {
		const char *host;
		enum ft_status status;
		int verify;
		bool name_match;
	} rows[] = {
		{ "expired.test", FT_CERT_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED, true },
		{ "future.test", FT_CERT_NOT_YET_VALID, X509_V_ERR_CERT_NOT_YET_VALID, true },
		/* Chain valid; curl's own name check fails. */
		{ "wrongname.test", FT_CERT_NAME_MISMATCH, X509_V_OK, false },
		{ "selfsigned.test", FT_CERT_SELF_SIGNED,
		  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, true },
		{ "untrusted.test", FT_CERT_UNTRUSTED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true },
		{ "nointer.test", FT_CERT_UNTRUSTED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true },
	};
	struct got *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fetch1(rows[i].host, g);
		if (g->status != rows[i].status)
			fail_msg("%s: %s, want %s (verify %d, %s)",
				 rows[i].host, ft_status_name(g->status),
				 ft_status_name(rows[i].status),
				 g->verify_error, g->error);
		assert_int_equal(g->verify_error, rows[i].verify);
		assert_true(g->cert_known);
		assert_true(g->name_match == rows[i].name_match);
		assert_int_equal(g->http_status, 0);
		assert_true(g->error[0] != '\0');
		assert_true(g->verify_str[0] != '\0');
		assert_true(g->not_after != 0);
	}
	free(g);
}

static void test_refused(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	const char *host = "valid.test";

	(void)state;
	assert_non_null(g);
	config(&cfg);
	fetch_seq(&cfg, &host, 1, REFUSED_IP, g, NULL);
	assert_int_equal(g->status, FT_CONNECT_REFUSED);
	assert_int_equal(g->http_status, 0);
	assert_false(g->cert_known);
	assert_true(g->error[0] != '\0');
	free(g);
}

/* The caller's addresses are tried in order: a refused first address
 * costs one connect, the second serves the policy. */
static void test_failover(void **state)
{
	static const char *const host = "valid.test";
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;

	(void)state;
	assert_non_null(g);
	config(&cfg);
	fetch_seq(&cfg, &host, 1, REFUSED_IP "," NGINX_IP, g, NULL);
	if (g->status != FT_DONE)
		fail_msg("failover: %s (%s)", ft_status_name(g->status),
			 g->error);
	assert_int_equal(g->http_status, 200);
	assert_string_equal(g->peer_ip, NGINX_IP);
	/* Both refused: the outcome of the last attempt. */
	fetch_seq(&cfg, &host, 1, REFUSED_IP "," REFUSED_IP, g, NULL);
	assert_int_equal(g->status, FT_CONNECT_REFUSED);
	free(g);
}

static void test_total_timeout(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	const char *host = "slow.test";

	(void)state;
	assert_non_null(g);
	config(&cfg);
	cfg.total_timeout_ms = 1500;
	fetch_seq(&cfg, &host, 1, NGINX_IP, g, NULL);
	assert_int_equal(g->status, FT_TIMEOUT);
	assert_int_equal(g->http_status, 200);
	assert_true(g->body_len > 0 && g->body_len < 20000);
	assert_true(g->total_us >= 1400000 && g->total_us < 5000000);
	free(g);
}

/* Requests nginx logged for host so far.  Counting one host's lines, not
 * the file's size, keeps the test exact while nginx still logs slow
 * transfers that earlier tests gave up on. */
static long logged_for(const char *host)
{
	FILE *fp = fopen(W.access_log, "r");
	char line[1024];
	size_t hlen = strlen(host);
	long n = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, host, hlen) == 0 && line[hlen] == ' ')
			n++;
	}
	fclose(fp);
	return n;
}

static void test_guard(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	struct ft_stats st;
	const char *host = "valid.test";
	long before = logged_for(host);

	(void)state;
	assert_non_null(g);
	config(&cfg);
	cfg.allow_private = false;
	fetch_seq(&cfg, &host, 1, NGINX_IP, g, &st);
	assert_int_equal(g->status, FT_NON_PUBLIC);
	assert_int_equal(g->n_denied, 1);
	assert_int_equal(g->denied_class, FT_ADDR_LOOPBACK);
	assert_int_equal(st.started, 0);
	assert_int_equal(st.denied, 1);
	assert_int_equal(st.completed, 1);
	assert_false(g->cert_known);
	assert_int_equal(logged_for(host), before);
	/* The same fetch allowed does reach nginx, which logs it (nginx
	 * writes its access log unbuffered). */
	cfg.allow_private = true;
	fetch_seq(&cfg, &host, 1, NGINX_IP, g, NULL);
	assert_int_equal(g->status, FT_DONE);
	/* nginx may write the line just after the client has the response:
	 * give it up to two seconds. */
	for (int i = 0; i < 200 && logged_for(host) < before + 1; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	assert_int_equal(logged_for(host), before + 1);
	{
		/* The User-Agent names stsmap and the operator's contact. */
		static char log[1 << 16];
		FILE *fp = fopen(W.access_log, "r");
		size_t n;

		assert_non_null(fp);
		n = fread(log, 1, sizeof(log) - 1, fp);
		fclose(fp);
		log[n] = '\0';
		assert_non_null(strstr(log, "\"stsmap/"));
		assert_non_null(strstr(log, " (+https://example.test/stsmap)\""));
	}
	free(g);
}

/* n (at most 3) fetches of valid.test one after the other, with the tests'
 * configuration and the per-address cap per_ip_max; g holds n. */
static void fetch_valid_seq(unsigned per_ip_max, size_t n, struct got *g,
			    struct ft_stats *st)
{
	static const char *const hosts[3] = { "valid.test", "valid.test",
					      "valid.test" };
	struct ft_config cfg;

	assert_true(n <= 3);
	config(&cfg);
	cfg.per_ip_max = per_ip_max;
	fetch_seq(&cfg, hosts, n, NGINX_IP, g, st);
}

static void test_reuse(void **state)
{
	struct got *g = calloc(3, sizeof(*g));
	struct ft_stats st;

	(void)state;
	assert_non_null(g);
	fetch_valid_seq(0, 3, g, &st);
	for (int i = 0; i < 3; i++)
		assert_int_equal(g[i].status, FT_DONE);
	assert_false(g[0].reused);
	assert_true(g[0].cert_known);
	assert_true(g[1].reused);
	assert_true(g[2].reused);
	/* The handshake, and so the certificate, belongs to the first. */
	assert_false(g[1].cert_known);
	assert_int_equal(st.started, 3);
	assert_int_equal(st.completed, 3);
	assert_int_equal(st.connections_reused, 2);
	free(g);
}

/*
 * Under a per-address connection cap (the scan's default, --https-per-ip)
 * a fetch's connection is closed when it ends: a kept, idle connection
 * would be one more connection to that address, outside the cap.  Three
 * fetches of one host: three connections, three handshakes, and none
 * left open after each.  The control without a cap (test_reuse's
 * configuration) keeps one open, and reuses it.
 */
static void test_no_idle_under_cap(void **state)
{
	struct got *g = calloc(3, sizeof(*g));
	struct ft_stats st;

	(void)state;
	assert_non_null(g);
	fetch_valid_seq(FT_DEFAULT_PER_IP_MAX, 3, g, &st);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g[i].status, FT_DONE);
		assert_false(g[i].reused);
		assert_true(g[i].cert_known);
		assert_int_equal(g[i].fds_after, 0);
	}
	assert_int_equal(st.connections_reused, 0);
	fetch_valid_seq(0, 2, g, &st); /* no cap: kept */
	assert_int_equal(g[0].fds_after, 1);
	assert_true(g[1].reused);
	assert_int_equal(g[1].fds_after, 1);
	free(g);
}

/*
 * One fetcher, one address, good and bad certificates in turn: the roots
 * parsed once and shared by every connection (CURLOPT_CA_CACHE_TIMEOUT)
 * must never carry a verdict from one host to the next.  Every handshake
 * verifies its own chain and curl checks its own name: a bad certificate
 * after a good one on the same IP and port still fails, with its own
 * error, and a good one after a bad one still passes.
 */
static void test_shared_roots_strict(void **state)
{
	static const struct {
		const char *host;
		enum ft_status status;
		int verify;
	} rows[] = {
		{ "valid.test", FT_DONE, X509_V_OK },
		{ "untrusted.test", FT_CERT_UNTRUSTED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
		{ "expired.test", FT_CERT_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED },
		{ "html.test", FT_DONE, X509_V_OK },
		{ "selfsigned.test", FT_CERT_SELF_SIGNED,
		  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT },
		{ "wrongname.test", FT_CERT_NAME_MISMATCH, X509_V_OK },
		{ "nointer.test", FT_CERT_UNTRUSTED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	};
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	const char *hosts[N];
	struct got *g = calloc(N, sizeof(*g));
	struct ft_config cfg;
	struct ft_stats st;

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < N; i++)
		hosts[i] = rows[i].host;
	config(&cfg);
	fetch_seq(&cfg, hosts, N, NGINX_IP, g, &st);
	for (size_t i = 0; i < N; i++) {
		if (g[i].status != rows[i].status)
			fail_msg("%zu %s: %s, want %s (verify %d, %s)", i,
				 rows[i].host, ft_status_name(g[i].status),
				 ft_status_name(rows[i].status),
				 g[i].verify_error, g[i].error);
		/* A new connection each: a handshake, so a certificate. */
		assert_false(g[i].reused);
		assert_true(g[i].cert_known);
		assert_int_equal(g[i].verify_error, rows[i].verify);
	}
	free(g);
}

/* Accepts and never speaks: connected, the TLS handshake never ends, the
 * total timeout does. */
static void test_silent_server(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	const char *host = "valid.test";
	uint16_t saved = W.port;
	int fd;

	(void)state;
	assert_non_null(g);
	fd = ftt_listen("127.6.0.3", 16, &W.port);
	config(&cfg);
	cfg.total_timeout_ms = 1000;
	fetch_seq(&cfg, &host, 1, "127.6.0.3", g, NULL);
	W.port = saved;
	close(fd);
	if (g->status != FT_TIMEOUT)
		fail_msg("%s (%s) peer %s", ft_status_name(g->status), g->error, g->peer_ip);
	assert_int_equal(g->http_status, 0);
	assert_false(g->cert_known);
	free(g);
}

/* A listener whose accept queue is full drops SYNs: the TCP connect
 * itself times out. */
static void test_connect_timeout(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	const char *host = "valid.test";
	uint16_t saved = W.port;
	int fd, fill[4];
	struct sockaddr_in sin;

	(void)state;
	assert_non_null(g);
	fd = ftt_listen("127.6.0.3", 0, &W.port);
	ftt_sin(&sin, "127.6.0.3");
	sin.sin_port = htons(W.port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fill[i] >= 0);
		if (connect(fill[i], (struct sockaddr *)&sin, sizeof(sin)) != 0)
			assert_int_equal(errno, EINPROGRESS);
	}
	usleep(100 * 1000);
	config(&cfg);
	cfg.connect_timeout_ms = 1000;
	fetch_seq(&cfg, &host, 1, "127.6.0.3", g, NULL);
	W.port = saved;
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
	if (g->status != FT_CONNECT_TIMEOUT)
		fail_msg("%s (%s)", ft_status_name(g->status), g->error);
	assert_true(g->total_us >= 900000 && g->total_us < 5000000);
	free(g);
}

/* A server that answers the ClientHello with plain-text garbage. */
static void test_tls_garbage(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct ft_config cfg;
	const char *host = "valid.test";
	uint16_t saved = W.port;
	pid_t child;
	int fd, st;

	(void)state;
	assert_non_null(g);
	fd = ftt_listen("127.6.0.3", 16, &W.port);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		static const char junk[] =
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
		char buf[4096];
		int c = accept(fd, NULL, NULL);

		if (c >= 0) {
			if (read(c, buf, sizeof(buf)) < 0)
				_exit(1);
			if (write(c, junk, sizeof(junk) - 1) < 0)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	config(&cfg);
	fetch_seq(&cfg, &host, 1, "127.6.0.3", g, NULL);
	W.port = saved;
	close(fd);
	assert_int_equal(waitpid(child, &st, 0), child);
	if (g->status != FT_TLS_HANDSHAKE)
		fail_msg("%s (%s)", ft_status_name(g->status), g->error);
	assert_false(g->cert_known);
	assert_true(g->error[0] != '\0');
	free(g);
}

/* Many fetches, successful and failed, leave no descriptor behind. */
static void test_no_fd_leak(void **state)
{
	enum { N = 60 };
	static const char *const pick[] = {
		"valid.test", "expired.test", "notfound.test", "valid.test",
		"wrongname.test", "large.test",
	};
	const char *hosts[N];
	struct got *g = calloc(N, sizeof(*g));
	struct ft_config cfg;
	int before = ftt_count_fds();

	(void)state;
	assert_non_null(g);
	for (size_t i = 0; i < N; i++)
		hosts[i] = pick[i % (sizeof(pick) / sizeof(pick[0]))];
	config(&cfg);
	fetch_seq(&cfg, hosts, N, NGINX_IP, g, NULL);
	assert_int_equal(g[0].status, FT_DONE);
	assert_int_equal(g[1].status, FT_CERT_EXPIRED);
	assert_int_equal(g[5].status, FT_TOO_LARGE);
	assert_int_equal(ftt_count_fds(), before);
	free(g);
}

static void noop_cb(const struct ft_result *r, void *arg)
{
	int *n = arg;

	assert_int_equal(r->status, FT_CANCELLED);
	(*n)++;
}

/* Bad arguments are refused without a callback; freeing cancels. */
static void test_api(void **state)
{
	struct event_base *base = event_base_new();
	struct ft_fetcher *f = NULL;
	struct ft_config cfg;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	int n = 0;

	(void)state;
	assert_non_null(base);
	config(&cfg);
	ftt_sin(&sin, NGINX_IP);
	assert_int_equal(ft_fetcher_new(base, &cfg, &f), ST_OK);
	assert_int_equal(ft_fetch_policy(f, "bad host", addrs, 1, W.port,
					 noop_cb, &n), ST_EINVAL);
	assert_int_equal(ft_fetch_policy(f, "valid.test", addrs, 0, W.port,
					 noop_cb, &n), ST_EINVAL);
	assert_int_equal(ft_fetch_policy(f, "valid.test.", addrs, 1, W.port,
					 noop_cb, &n), ST_EINVAL);
	assert_int_equal(ft_fetch_policy(f, "valid.test", addrs, 1, W.port,
					 noop_cb, &n), ST_OK);
	assert_int_equal(ft_fetcher_pending(f), 1);
	ft_fetcher_free(f);
	assert_int_equal(n, 1);
	assert_string_equal(ft_status_name(FT_CERT_EXPIRED), "cert-expired");
	assert_string_equal(ft_status_name(FT_STATUS_COUNT), "unknown");
	event_base_free(base);
}

/* ---- the soak (test_ft_fetch --soak) ---- */

/*
 * 10,000 fetches on one fetcher, SOAK_WINDOW submitted at a time (each
 * callback submits the next: the callback may call ft_fetch_policy()).
 * Most go to SOAK_NAMES distinct names under *.soak.test, spread over
 * three addresses, each name fetched SOAK_REPEAT times in a row so that
 * kept connections are reused; one in twenty is a failure of some kind.
 * Every result must be the expected one, descriptors before and after
 * must be equal, and the ASan build checks memory (LSan at exit).
 */
enum {
	SOAK_N = 10000,
	SOAK_REPEAT = 5,
	SOAK_NAMES = SOAK_N / SOAK_REPEAT,
	SOAK_WINDOW = 16,
	SOAK_DEADLINE_S = 300,
};

struct soak;

struct soak_one {
	struct soak *s;
	size_t i;
};

struct soak {
	struct event_base *base;
	struct ft_fetcher *f;
	struct soak_one *ones;
	size_t next, done;
	size_t n_bad;          /* results other than expected */
	size_t first_bad;      /* index of the first one */
	char bad_text[256];
	uint64_t by_status[FT_STATUS_COUNT];
	bool timed_out;
};

/* What fetch i asks for, and how it must end. */
static void soak_target(size_t i, char *host, size_t cap, const char **ip,
			enum ft_status *want, int *http)
{
	static const char *const ips[3] = { NGINX_IP, SOAK_IP2, SOAK_IP3 };
	static const struct {
		const char *host;
		const char *ip;
		enum ft_status want;
		int http;
	} odd[5] = {
		{ "expired.test", NGINX_IP, FT_CERT_EXPIRED, 0 },
		{ "wrongname.test", NGINX_IP, FT_CERT_NAME_MISMATCH, 0 },
		{ "notfound.test", NGINX_IP, FT_DONE, 404 },
		{ "large.test", NGINX_IP, FT_TOO_LARGE, 200 },
		{ "valid.test", REFUSED_IP, FT_CONNECT_REFUSED, 0 },
	};

	if (i % 20 == 19) {
		size_t k = (i / 20) % 5;

		snprintf(host, cap, "%s", odd[k].host);
		*ip = odd[k].ip;
		*want = odd[k].want;
		*http = odd[k].http;
		return;
	}
	snprintf(host, cap, "p%04zu.soak.test", (i / SOAK_REPEAT) % SOAK_NAMES);
	*ip = ips[(i / SOAK_REPEAT) % 3];
	*want = FT_DONE;
	*http = 200;
}

static void soak_cb(const struct ft_result *r, void *arg);

/* Submit fetch s->next; false (and the loop broken) if refused. */
static bool soak_submit(struct soak *s)
{
	char host[64];
	const char *ip;
	enum ft_status want;
	int http;
	struct sockaddr_in sin;
	const struct sockaddr *addrs[1] = { (const struct sockaddr *)&sin };
	size_t i = s->next++;

	soak_target(i, host, sizeof(host), &ip, &want, &http);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
	    ft_fetch_policy(s->f, host, addrs, 1, W.port, soak_cb,
			    &s->ones[i]) != ST_OK) {
		snprintf(s->bad_text, sizeof(s->bad_text), "submit %zu refused",
			 i);
		s->n_bad++;
		event_base_loopbreak(s->base);
		return false;
	}
	return true;
}

static void soak_cb(const struct ft_result *r, void *arg)
{
	struct soak_one *o = arg;
	struct soak *s = o->s;
	char host[64];
	const char *ip;
	enum ft_status want;
	int http;

	soak_target(o->i, host, sizeof(host), &ip, &want, &http);
	if ((unsigned)r->status < FT_STATUS_COUNT)
		s->by_status[r->status]++;
	if (r->status != want || r->http_status != http ||
	    strcmp(r->host, host) != 0 ||
	    (want == FT_DONE && http == 200 && r->body_len != 5)) {
		if (s->n_bad++ == 0) {
			s->first_bad = o->i;
			snprintf(s->bad_text, sizeof(s->bad_text),
				 "%s: %s http %d (%s), want %s http %d", host,
				 ft_status_name(r->status), r->http_status,
				 r->error ? r->error : "", ft_status_name(want),
				 http);
		}
	}
	if (++s->done == SOAK_N) {
		event_base_loopbreak(s->base);
		return;
	}
	if (s->next < SOAK_N)
		soak_submit(s);
}

static void soak_deadline(evutil_socket_t fd, short kind, void *arg)
{
	struct soak *s = arg;

	(void)fd;
	(void)kind;
	s->timed_out = true;
	event_base_loopbreak(s->base);
}

static void test_soak(void **state)
{
	struct soak s = { 0 };
	struct ft_config cfg;
	struct ft_stats st;
	struct event *deadline;
	struct timeval tv = { SOAK_DEADLINE_S, 0 };
	struct timespec t0, t1;
	double secs;
	int before = ftt_count_fds();

	(void)state;
	s.ones = calloc(SOAK_N, sizeof(*s.ones));
	assert_non_null(s.ones);
	for (size_t i = 0; i < SOAK_N; i++) {
		s.ones[i].s = &s;
		s.ones[i].i = i;
	}
	config(&cfg);
	/* Fewer transfers than the window, so some always wait in the
	 * fetcher's own queue too.  Few: on two cores, more transfers in
	 * flight only cost more per fetch (ASan build: 8, 22 s; 64, 25 s). */
	cfg.max_transfers = 8;
	s.base = event_base_new();
	assert_non_null(s.base);
	assert_int_equal(ft_fetcher_new(s.base, &cfg, &s.f), ST_OK);
	deadline = evtimer_new(s.base, soak_deadline, &s);
	assert_non_null(deadline);
	assert_int_equal(evtimer_add(deadline, &tv), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (s.next < SOAK_WINDOW && soak_submit(&s))
		;
	assert_int_equal(event_base_dispatch(s.base), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ft_fetcher_stats(s.f, &st);
	ft_fetcher_free(s.f);
	event_free(deadline);
	event_base_free(s.base);
	free(s.ones);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# soak: %d fetches in %.1f s (%.0f/s), %" PRIu64
	       " on a reused connection; done %" PRIu64 ", refused %" PRIu64
	       ", expired %" PRIu64 ", too-large %" PRIu64 "\n",
	       SOAK_N, secs, SOAK_N / secs, st.connections_reused,
	       s.by_status[FT_DONE], s.by_status[FT_CONNECT_REFUSED],
	       s.by_status[FT_CERT_EXPIRED], s.by_status[FT_TOO_LARGE]);
	if (s.timed_out)
		fail_msg("soak passed its %d s deadline (%zu of %d done)",
			 SOAK_DEADLINE_S, s.done, SOAK_N);
	if (s.n_bad)
		fail_msg("%zu unexpected results; first, fetch %zu: %s",
			 s.n_bad, s.first_bad, s.bad_text);
	assert_int_equal(s.done, SOAK_N);
	assert_int_equal(st.completed, SOAK_N);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.queued, 0);
	/* Repeats in a row share kept connections. */
	assert_true(st.connections_reused >= SOAK_N / 4);
	assert_int_equal(ftt_count_fds(), before);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_rsa),
		cmocka_unit_test(test_http_cases),
		cmocka_unit_test(test_cert_cases),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_total_timeout),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_no_idle_under_cap),
		cmocka_unit_test(test_shared_roots_strict),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_tls_garbage),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_no_fd_leak),
	};
	const struct CMUnitTest soak[] = {
		cmocka_unit_test(test_soak),
	};
	bool is_soak = argc == 2 && strcmp(argv[1], "--soak") == 0;
	int ret;

	if (argc > 1 && !is_soak) {
		fprintf(stderr, "usage: %s [--soak]\n", argv[0]);
		return 2;
	}
	if (!ftt_on_path("nginx"))
		return test_missing_tool("nginx not on PATH (apt-get install nginx-light)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (is_soak)
		ret = cmocka_run_group_tests(soak, setup, teardown);
	else
		ret = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return ret;
}
