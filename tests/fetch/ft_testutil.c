/*
 * ft_testutil.c - see ft_testutil.h.
 */
#include "ft_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/event.h>
#include <unistd.h>

#include "ds_certs.h"
#include "st_error.h"

void ftt_sin(struct sockaddr_in *sin, const char *ip)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		fail_msg("bad IPv4 literal in test: %s", ip);
}

void ftt_sa(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			fail_msg("bad IPv6 literal in test: %s", ip);
	} else {
		ftt_sin((struct sockaddr_in *)ss, ip);
	}
}

int ftt_listen(const char *ip, int backlog, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)), 0);
	ftt_sin(&sin, ip);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

uint16_t ftt_closed_port(const char *ip)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	ftt_sin(&sin, ip);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

bool ftt_port_accepts(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	assert_true(fd >= 0);
	ftt_sin(&sin, ip);
	sin.sin_port = htons(port);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* Can ip bind port now? */
static bool port_free_on(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	assert_true(fd >= 0);
	ftt_sin(&sin, ip);
	sin.sin_port = htons(port);
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

uint16_t ftt_free_port(const char *const *ips, size_t n)
{
	assert_true(n > 0);
	for (int attempt = 0; attempt < 50; attempt++) {
		uint16_t port;
		int fd = ftt_listen(ips[0], 1, &port);
		bool ok = true;

		close(fd);
		for (size_t i = 1; i < n && ok; i++)
			ok = port_free_on(ips[i], port);
		if (ok)
			return port;
	}
	fail_msg("no port free on %s and the %zu other addresses", ips[0],
		 n - 1);
	return 0;
}

int ftt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

void ftt_copy_str(char *dst, size_t cap, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, cap, "%s", src);
}

bool ftt_tmpdir(char *dir, size_t cap, const char *name)
{
	int n = snprintf(dir, cap, "/tmp/%s.XXXXXX", name);

	if (n < 0 || (size_t)n >= cap)
		return false;
	return mkdtemp(dir) != NULL;
}

bool ftt_tmpdir_remove(const char *dir, const char *keep_env)
{
	char cmd[256];

	if (dir[0] == '\0')
		return true;
	if (keep_env != NULL && getenv(keep_env) != NULL) {
		fprintf(stderr, "kept %s\n", dir);
		return true;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0;
}

void ftt_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

void ftt_write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

void ftt_append_file(FILE *out, const char *path)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(path, "rb");

	assert_non_null(in);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
}

bool ftt_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end != NULL ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path = end != NULL ? end + 1 : NULL;
	}
	return false;
}

void ftt_leaf(const struct ds_ca *issuer, EVP_PKEY *key,
	      const char *const *names, size_t n_names, time_t nb, time_t na,
	      X509 *extra, const char *path)
{
	struct ds_leaf_req req = { 0 };
	X509 *cert = NULL;
	X509 *chain[2];

	req.dns_names = names;
	req.n_dns_names = n_names;
	req.not_before = nb;
	req.not_after = na;
	req.self_signed = issuer == NULL;
	assert_int_equal(ds_leaf_issue(issuer, key, &req, &cert), ST_OK);
	chain[0] = cert;
	chain[1] = extra;
	assert_int_equal(ds_write_pem_cert(path, chain, extra != NULL ? 2 : 1),
			 ST_OK);
	X509_free(cert);
}

static void deadline_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct ftt_deadline *d = arg;

	(void)fd;
	(void)kind;
	d->fired = true;
	event_base_loopbreak(d->base);
}

void ftt_deadline_start(struct ftt_deadline *d, struct event_base *base,
			unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	d->base = base;
	d->seconds = seconds;
	d->fired = false;
	d->ev = evtimer_new(base, deadline_cb, d);
	assert_non_null(d->ev);
	assert_int_equal(evtimer_add(d->ev, &tv), 0);
}

void ftt_deadline_end(struct ftt_deadline *d, const char *what)
{
	event_free(d->ev);
	d->ev = NULL;
	if (d->fired)
		fail_msg("%s passed the %u s deadline", what, d->seconds);
}
