/*
 * ft_testutil.h - the set-up the fetch/ tests share: loopback addresses and
 * ports, descriptor counts, a scratch directory and its files, test
 * certificates, and a hard deadline on an event loop.
 *
 * Test code only: every helper fails the running cmocka test (fail_msg,
 * assert_*) on an error it cannot report otherwise, so callers need not
 * check.  No global state; nothing is kept between calls.
 */
#ifndef FT_TESTUTIL_H
#define FT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/socket.h>

struct ds_ca;
struct event;
struct event_base;

/* ---- addresses and ports ---- */

/* An IPv4 literal into *sin, port 0. */
void ftt_sin(struct sockaddr_in *sin, const char *ip);

/* An IPv4 or (with a colon) IPv6 literal into *ss, port 0. */
void ftt_sa(struct sockaddr_storage *ss, const char *ip);

/* A TCP socket listening on ip (SO_REUSEADDR, an ephemeral port, *port
 * set).  The caller closes the returned descriptor. */
int ftt_listen(const char *ip, int backlog, uint16_t *port);

/* A port on ip that nobody listens on (bound, then closed): a connect to
 * it is refused. */
uint16_t ftt_closed_port(const char *ip);

/* Does ip:port accept a TCP connection now? */
bool ftt_port_accepts(const char *ip, uint16_t port);

/* A port on which every one of ips[0..n-1] can bind: for a server that
 * listens on several loopback addresses with one port. */
uint16_t ftt_free_port(const char *const *ips, size_t n);

/* Descriptors this process has open now (from /proc/self/fd). */
int ftt_count_fds(void);

/* ---- files ---- */

/* snprintf(dst, cap, "%s", src), or "" for NULL: results die with their
 * callback, tests keep copies. */
void ftt_copy_str(char *dst, size_t cap, const char *src);

/* A fresh directory /tmp/<name>.XXXXXX into dir (cap >= strlen(name) + 12).
 * Returns false if it cannot be made (for a set-up function to fail). */
bool ftt_tmpdir(char *dir, size_t cap, const char *name);

/* rm -rf dir, unless the environment variable keep_env is set (then it is
 * named on stderr).  Returns false if the removal failed. */
bool ftt_tmpdir_remove(const char *dir, const char *keep_env);

/* dir/name into out; fails the test if it does not fit. */
void ftt_path(char *out, size_t cap, const char *dir, const char *name);

void ftt_write_file(const char *path, const char *data, size_t len);

/* Append the bytes of the file at path to out. */
void ftt_append_file(FILE *out, const char *path);

/* Is prog an executable in a $PATH directory? */
bool ftt_on_path(const char *prog);

/* ---- certificates ---- */

/*
 * A leaf for names[0..n_names-1] with key, valid [nb, na], by issuer (NULL:
 * self-signed), written as PEM to path followed by extra (an intermediate,
 * or NULL).
 */
void ftt_leaf(const struct ds_ca *issuer, EVP_PKEY *key,
	      const char *const *names, size_t n_names, time_t nb, time_t na,
	      X509 *extra, const char *path);

/* ---- a hard deadline on a loop ---- */

/* If the loop still runs after the given seconds, the timer sets fired and
 * breaks it, so a hanging fetch or probe fails its test instead of the
 * suite's timeout. */
struct ftt_deadline {
	struct event_base *base;
	struct event *ev;
	unsigned seconds;
	bool fired;
};

void ftt_deadline_start(struct ftt_deadline *d, struct event_base *base,
			unsigned seconds);

/* Free the timer; fails the test, naming what, if it fired. */
void ftt_deadline_end(struct ftt_deadline *d, const char *what);

#endif /* FT_TESTUTIL_H */
