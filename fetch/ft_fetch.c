/*
 * ft_fetch.c - the HTTPS policy fetcher: curl multi on libevent, in the
 * shape of curl's docs/examples/hiperfifo.c: a global struct (ft_fetcher),
 * one per transfer (ft_xfer, found again through CURLOPT_PRIVATE) and one
 * per socket (ft_sock, through curl_multi_assign), and check_multi_info()
 * collecting finished transfers.  Unlike the example, every return code is
 * checked, redirects are never followed and VERBOSE is never set.
 */
#include "ft_fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ft_cert.h"
#include "ft_polite.h"
#include "st_error.h"
#include "st_list.h"

#ifndef STSMAP_VERSION
#define STSMAP_VERSION "0.1.0"
#endif

#define COMP "fetch"
#define HOST_MAX FT_HOST_MAX

_Static_assert(FT_MAX_CERT_NAMES == FT_CERT_MAX_NAMES,
	       "ft_result.cert_names is ft_cert.names");

struct ft_fetcher;

/* Per socket: the event curl asked us to watch. */
struct ft_sock {
	struct st_link link;  /* on the fetcher's socks: freed at the end */
	struct event *ev;
	struct ft_fetcher *f;
	curl_socket_t fd;
	int what; /* CURL_POLL_* */
};

/* Per transfer.  Strings it points to live as long as it does. */
struct ft_xfer {
	struct ft_fetcher *f;
	struct st_link link;        /* on the queue or the active list */
	CURL *easy;
	CURLSH *dns;                /* this transfer's own DNS cache */
	struct curl_slist *resolve;
	struct event *defer;        /* delivers results decided without curl */
	ft_callback cb;
	void *arg;
	char host[HOST_MAX + 1];
	uint16_t port;
	char url[HOST_MAX + 64];
	char errbuf[CURL_ERROR_SIZE];
	size_t n_denied;
	enum ft_addr_class denied_class;
	enum ft_status fixed;       /* status for a deferred result */
	uint8_t *body;
	size_t body_len;
	size_t body_cap;
	bool too_large;
	bool write_failed;          /* our write callback ran out of memory */
	int local_errno;            /* socket() failed, or the CA directory
				     * could not be read: errno; else 0 */
	char detail[CURL_ERROR_SIZE + 96]; /* our own error text */
	bool in_curl;
	bool tcp_connected;         /* TLS set-up began on a connection */
	struct ft_cert cert;        /* leaf seen by the verify callback */
	/* politeness: the addresses, in the order their grants are taken */
	struct sockaddr_storage gate_addr[FT_FETCH_ADDRS_MAX];
	struct ft_polite_waiter gate[FT_FETCH_ADDRS_MAX];
	size_t n_gate, n_granted;
};

struct ft_fetcher {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct ft_config cfg;
	char *ca_file;
	char *user_agent;
	struct ft_guard guard;
	struct st_list queue;            /* ft_xfer waiting for a slot (FIFO) */
	struct st_list active;           /* ft_xfer in curl, or deferred */
	struct st_list socks;            /* every live ft_sock */
	struct st_list gating;           /* ft_xfer waiting for an address */
	struct ft_polite *polite;        /* per destination address caps */
	struct ft_stats st;
	bool freeing;
};

#define STATUS_NAME_ROW(id, name, src, finding) \
	ST_IF_##src##_FT([FT_##id] = name,)
static const char *const status_names[FT_STATUS_COUNT] = {
	ST_FETCH_OUTCOMES(STATUS_NAME_ROW)
};
#undef STATUS_NAME_ROW

const char *ft_status_name(enum ft_status st)
{
	if ((unsigned)st >= FT_STATUS_COUNT)
		return "unknown";
	return status_names[st];
}

void ft_config_default(struct ft_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_transfers = FT_DEFAULT_MAX_TRANSFERS;
	cfg->max_host_connections = 2;
	cfg->connect_timeout_ms = FT_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->total_timeout_ms = FT_DEFAULT_TOTAL_TIMEOUT_MS;
	cfg->per_ip_max = FT_DEFAULT_PER_IP_MAX;
	cfg->per_ip_rate = FT_DEFAULT_PER_IP_RATE;
}

/* ---- lists ---- */

static void active_link(struct ft_fetcher *f, struct ft_xfer *x)
{
	st_list_push_front(&f->active, &x->link);
}

static void active_unlink(struct ft_fetcher *f, struct ft_xfer *x)
{
	(void)f;
	st_list_remove(&x->link);
}

/* Unlink and return the first transfer of l, or NULL. */
static struct ft_xfer *xfer_pop(struct st_list *l)
{
	struct st_link *k = st_list_pop_front(l);

	return k != NULL ? ST_CONTAINER(k, struct ft_xfer, link) : NULL;
}

static void xfer_free(struct ft_xfer *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->n_gate; i++)
		ft_polite_release(x->f->polite, &x->gate[i]);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	if (x->dns)
		curl_share_cleanup(x->dns); /* after the easy: no longer in use */
	curl_slist_free_all(x->resolve);
	if (x->defer)
		event_free(x->defer);
	free(x->body);
	ft_cert_clear(&x->cert);
	free(x);
}

/* ---- certificate capture (OpenSSL) ---- */

/*
 * Replaces OpenSSL's chain verification for the connections this transfer
 * opens: it runs the same X509_verify_cert() and keeps the leaf and the
 * first error, which curl alone would reduce to one error code.  The name
 * check stays curl's (after the handshake).
 */
static int cert_verify_cb(X509_STORE_CTX *ctx, void *arg)
{
	struct ft_xfer *x = arg;
	int ok = ft_cert_verify(&x->cert, ctx, x->host);

	/* With a CA directory (the system store), OpenSSL opens a file per
	 * issuer lookup; out of descriptors, the lookup fails and reads as
	 * an untrusted chain.  That is our failure, not the host's. */
	if (x->cert.verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    x->cert.verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) {
		int err = ft_fd_exhausted();

		if (err != 0)
			x->local_errno = err;
	}
	return ok;
}

/* CURLOPT_OPENSOCKETFUNCTION: curl's socket(), so that a failure to
 * create one is known as ours (curl reports it as CURLE_COULDNT_CONNECT,
 * which would read as a refusal). */
static curl_socket_t open_socket_cb(void *arg, curlsocktype purpose,
				    struct curl_sockaddr *a)
{
	struct ft_xfer *x = arg;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0) {
		x->local_errno = errno != 0 ? errno : EMFILE;
		return CURL_SOCKET_BAD;
	}
	return (curl_socket_t)fd;
}

/* curl sets up TLS only once the TCP connection is up, so this is also
 * how we learn that a connect succeeded when curl's connect phase (which
 * includes the handshake) then times out. */
static CURLcode ssl_ctx_cb(CURL *easy, void *sslctx, void *arg)
{
	struct ft_xfer *x = arg;

	(void)easy;
	x->tcp_connected = true;
	/* The connection (and this SSL_CTX) may outlive x, kept for reuse by
	 * later transfers.  The verify callback runs only during a handshake;
	 * refusing renegotiation keeps a hostile server from starting another
	 * one on a kept connection, which would reach a freed x. */
	SSL_CTX_set_options(sslctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_cert_verify_callback(sslctx, cert_verify_cb, arg);
	return CURLE_OK;
}

/* ---- body ---- */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ft_xfer *x = arg;
	size_t n = size * nmemb;
	size_t room = FT_BODY_MAX - x->body_len;
	size_t take = n < room ? n : room;

	if (take > 0) {
		if (x->body_len + take > x->body_cap) {
			size_t cap = x->body_cap ? x->body_cap : 4096;
			uint8_t *nb;

			while (cap < x->body_len + take)
				cap *= 2;
			if (cap > FT_BODY_MAX)
				cap = FT_BODY_MAX;
			nb = realloc(x->body, cap);
			if (nb == NULL) {
				x->write_failed = true; /* LOCAL_ERROR */
				return 0;
			}
			x->body = nb;
			x->body_cap = cap;
		}
		memcpy(x->body + x->body_len, ptr, take);
		x->body_len += take;
	}
	if (take < n) {
		/* RFC 8461 §3.3: stop at 64 KiB + 1 byte. */
		x->too_large = true;
		return 0;
	}
	return n;
}

/* ---- results ---- */

static enum ft_status map_verify(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return FT_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return FT_CERT_NOT_YET_VALID;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return FT_CERT_NAME_MISMATCH;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return FT_CERT_SELF_SIGNED;
	default:
		return FT_CERT_UNTRUSTED;
	}
}

/* curl's codes for failures on our side: memory, set-up, our own files
 * and options.  CURLE_COULDNT_RESOLVE_HOST is here because every address
 * is pinned with CURLOPT_RESOLVE: curl never asks DNS itself. */
static bool curl_local(CURLcode rc)
{
	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_FUNCTION_NOT_FOUND:
	case CURLE_INTERFACE_FAILED:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_READ_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_CERTPROBLEM:   /* our (absent) client certificate */
	case CURLE_SSL_CIPHER:        /* our cipher list */
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return true;
	default:
		return false;
	}
}

/* Did this transfer fail on our side?  errno_out gets the errno when one
 * is known (socket(), the issuer lookup, or curl's CURLINFO_OS_ERRNO). */
static bool failed_locally(const struct ft_xfer *x, CURLcode rc,
			   long os_errno, int *errno_out)
{
	*errno_out = 0;
	if (rc == CURLE_OK)
		return false;
	if (x->local_errno != 0) {
		*errno_out = x->local_errno;
		return true;
	}
	if (os_errno > 0 && ft_errno_local((int)os_errno)) {
		*errno_out = (int)os_errno;
		return true;
	}
	if (rc == CURLE_WRITE_ERROR && !x->too_large)
		return x->write_failed;
	return curl_local(rc);
}

static enum ft_status map_curl(const struct ft_xfer *x, CURLcode rc,
			       curl_off_t connect_us)
{
	switch (rc) {
	case CURLE_OK:
		return FT_DONE;
	case CURLE_COULDNT_CONNECT:
		return FT_CONNECT_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return connect_us > 0 || x->tcp_connected ? FT_TIMEOUT :
							    FT_CONNECT_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return x->too_large ? FT_TOO_LARGE : FT_TRANSFER;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (x->cert.verify_error != X509_V_OK)
			return map_verify(x->cert.verify_error);
		/* Chain verified: curl's own name check failed. */
		return FT_CERT_NAME_MISMATCH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ISSUER_ERROR:
		if (x->cert.verify_error != X509_V_OK)
			return map_verify(x->cert.verify_error);
		return FT_TLS_HANDSHAKE;
	default:
		return FT_TRANSFER;
	}
}

static void result_base(const struct ft_xfer *x, struct ft_result *r)
{
	memset(r, 0, sizeof(*r));
	r->host = x->host;
	r->port = x->port;
	r->n_addrs_denied = x->n_denied;
	r->denied_class = x->denied_class;
	r->cert_known = x->cert.known;
	r->cert_names = (const char *const *)x->cert.names;
	r->n_cert_names = x->cert.n_names;
	r->cert_subject = x->cert.subject;
	r->cert_issuer = x->cert.issuer;
	r->cert_not_before = x->cert.not_before;
	r->cert_not_after = x->cert.not_after;
	r->cert_name_match = x->cert.name_match;
	r->verify_error = x->cert.verify_error;
	r->verify_error_str = ft_cert_error_string(&x->cert);
}

static void deliver(struct ft_fetcher *f, struct ft_xfer *x,
		    const struct ft_result *r)
{
	f->st.completed++;
	if (r->status == FT_NON_PUBLIC)
		f->st.denied++;
	x->cb(r, x->arg);
}

static int start_queued(struct ft_fetcher *f);

/*
 * The status of a finished transfer, with r->error.  Our own failures
 * first (they say nothing about the host), then curl's outcome, then
 * RFC 7230 §3.3.3: "If a valid Content-Length header field is present
 * without Transfer-Encoding, its decimal value defines the expected
 * message body length in octets.  If the sender closes the connection or
 * the recipient times out before the indicated number of octets are
 * received, the recipient MUST consider the message to be incomplete and
 * close the connection."  curl ends such a transfer CURLE_PARTIAL_FILE (a
 * close) or CURLE_OPERATION_TIMEDOUT (a server that holds on or drips);
 * whatever curl said, a response shorter than its Content-Length is
 * FT_TRANSFER (FT_TIMEOUT when our timeout ended it) with the counts in
 * the error, never FT_DONE, never a policy.  (curl reports -1 as the
 * length under Transfer-Encoding, which then decides.)
 */
static void final_status(struct ft_xfer *x, CURLcode rc, long code,
			 curl_off_t t_conn, struct ft_result *r)
{
	const char *curl_text = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	curl_off_t clen = -1;
	long os_errno = 0;
	int lerr;

	if (curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
		os_errno = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &clen) != CURLE_OK)
		clen = -1;
	if (failed_locally(x, rc, os_errno, &lerr)) {
		r->status = FT_LOCAL_ERROR;
		if (lerr != 0)
			snprintf(x->detail, sizeof(x->detail), "%s (%s)",
				 strerror(lerr), curl_text);
		else
			snprintf(x->detail, sizeof(x->detail), "%s", curl_text);
		r->error = x->detail;
		return;
	}
	r->status = map_curl(x, rc, t_conn);
	if (rc != CURLE_OK)
		r->error = curl_text;
	if (code > 0 && clen >= 0 && !x->too_large &&
	    (curl_off_t)x->body_len < clen) {
		/* Our timeout cut it: FT_TIMEOUT stays, with the counts. */
		if (r->status != FT_TIMEOUT)
			r->status = FT_TRANSFER;
		snprintf(x->detail, sizeof(x->detail),
			 "incomplete body: %zu of %lld bytes (%s)", x->body_len,
			 (long long)clen,
			 rc != CURLE_OK ? curl_text : "ended early");
		r->error = x->detail;
	}
}

/* A finished curl transfer: build the result, call back, free. */
static void finish_curl(struct ft_fetcher *f, struct ft_xfer *x, CURLcode rc)
{
	struct ft_result r;
	curl_off_t t_conn = 0, t_app = 0, t_start = 0, t_total = 0;
	long code = 0, ver = 0, nconn = 0, pport = 0;
	char *ctype = NULL, *pip = NULL;
	struct curl_header *loc = NULL;
	CURLMcode mc;

	result_base(x, &r);
	/* curl_easy_getinfo only fails for an unknown option or a NULL handle:
	 * a failure leaves the zero default, which reads as "unknown". */
	if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver) != CURLE_OK)
		ver = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn) != CURLE_OK)
		nconn = -1;
	if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK)
		ctype = NULL;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &pip) != CURLE_OK)
		pip = NULL;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &pport) != CURLE_OK)
		pport = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t_conn) != CURLE_OK)
		t_conn = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &t_app) != CURLE_OK)
		t_app = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t_start) != CURLE_OK)
		t_start = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t_total) != CURLE_OK)
		t_total = 0;
	if (code > 0 &&
	    curl_easy_header(x->easy, "Location", 0, CURLH_HEADER, -1, &loc) !=
		    CURLHE_OK)
		loc = NULL;

	final_status(x, rc, code, t_conn, &r);
	r.http_status = (int)code;
	r.location = loc ? loc->value : NULL;
	r.content_type = ctype;
	r.body = x->body;
	r.body_len = x->body_len;
	switch (ver) {
	case CURL_HTTP_VERSION_1_0: r.http_version = 10; break;
	case CURL_HTTP_VERSION_1_1: r.http_version = 11; break;
	case CURL_HTTP_VERSION_2_0: r.http_version = 20; break;
	case CURL_HTTP_VERSION_3: r.http_version = 30; break;
	default: r.http_version = 0; break;
	}
	r.peer_ip = (pip && pip[0]) ? pip : NULL;
	r.peer_port = (uint16_t)pport;
	r.reused = nconn == 0 && r.peer_ip != NULL;
	r.connect_us = t_conn;
	r.tls_us = t_app;
	r.first_byte_us = t_start;
	r.total_us = t_total;
	if (r.reused)
		f->st.connections_reused++;

	ST_DEBUG(f->cfg.log, COMP, "%s: %s http=%d curl=%d verify=%d",
		 x->host, ft_status_name(r.status), r.http_status, (int)rc,
		 x->cert.verify_error);

	mc = curl_multi_remove_handle(f->multi, x->easy);
	if (mc != CURLM_OK)
		ST_WARN(f->cfg.log, COMP, "curl_multi_remove_handle: %s",
			curl_multi_strerror(mc));
	x->in_curl = false;
	f->st.inflight--;
	active_unlink(f, x);
	deliver(f, x, &r);
	xfer_free(x);
}

/* hiperfifo's check_multi_info(): collect every finished transfer. */
static void check_multi_info(struct ft_fetcher *f)
{
	CURLMsg *msg;
	int left;

	for (;;) {
		struct ft_xfer *x = NULL;

		msg = curl_multi_info_read(f->multi, &left);
		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				      (char **)&x) != CURLE_OK || x == NULL) {
			ST_ERR(f->cfg.log, COMP, "finished transfer without owner");
			continue;
		}
		finish_curl(f, x, msg->data.result);
	}
	if (!f->freeing && start_queued(f) != ST_OK)
		ST_WARN(f->cfg.log, COMP, "could not start queued fetches");
}

/* ---- libevent glue ---- */

static void socket_action(struct ft_fetcher *f, curl_socket_t fd, int ev)
{
	int running = 0;
	CURLMcode mc = curl_multi_socket_action(f->multi, fd, ev, &running);

	if (mc != CURLM_OK)
		ST_ERR(f->cfg.log, COMP, "curl_multi_socket_action: %s",
		       curl_multi_strerror(mc));
	check_multi_info(f);
}

static void event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct ft_fetcher *f = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	socket_action(f, (curl_socket_t)fd, action);
}

static void timer_cb(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: -1 removes the timer; 0 means "call soon",
 * which we do from the loop rather than re-entering curl from here. */
static int multi_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct ft_fetcher *f = arg;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(f->timer) == 0 ? 0 : -1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(f->timer, &tv) == 0 ? 0 : -1;
}

static int sock_set(struct ft_fetcher *f, struct ft_sock *s, curl_socket_t fd,
		    int what)
{
	short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0) |
			     EV_PERSIST);

	if (s->ev) {
		if (event_del(s->ev) != 0)
			return -1;
		if (event_assign(s->ev, f->base, fd, kind, event_cb, f) != 0)
			return -1;
	} else {
		s->ev = event_new(f->base, fd, kind, event_cb, f);
		if (s->ev == NULL)
			return -1;
	}
	s->fd = fd;
	s->what = what;
	return event_add(s->ev, NULL) == 0 ? 0 : -1;
}

static void sock_free(struct ft_fetcher *f, struct ft_sock *s)
{
	(void)f;
	st_list_remove(&s->link);
	if (s->ev)
		event_free(s->ev);
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION. */
static int multi_sock_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
			 void *sockp)
{
	struct ft_fetcher *f = arg;
	struct ft_sock *s = sockp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_free(f, s);
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->f = f;
		if (curl_multi_assign(f->multi, fd, s) != CURLM_OK) {
			free(s);
			return -1;
		}
		st_list_push_front(&f->socks, &s->link);
	}
	return sock_set(f, s, fd, what);
}

/* ---- set-up ---- */

int ft_fetcher_new(struct event_base *base, const struct ft_config *cfg,
		   struct ft_fetcher **out)
{
	struct ft_fetcher *f;
	int ret = ST_ENOMEM;

	if (out)
		*out = NULL;
	if (base == NULL || cfg == NULL || out == NULL ||
	    cfg->max_transfers == 0)
		return ST_EINVAL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ST_ENOMEM;
	st_list_init(&f->queue);
	st_list_init(&f->active);
	st_list_init(&f->socks);
	st_list_init(&f->gating);
	f->base = base;
	f->cfg = *cfg;
	{
		struct ft_polite_config pc = {
			.max_conns = cfg->per_ip_max,
			.rate = cfg->per_ip_rate,
			.burst = cfg->per_ip_max > 0 ? cfg->per_ip_max : 1,
		};

		ret = ft_polite_new(base, &pc, &f->polite);
		if (ret != ST_OK) {
			free(f);
			return ret;
		}
		ret = ST_ENOMEM;
	}
	f->guard.allow_private = cfg->allow_private;
	if (cfg->ca_file) {
		f->ca_file = strdup(cfg->ca_file);
		if (f->ca_file == NULL)
			goto fail;
	}
	if (cfg->user_agent) {
		f->user_agent = strdup(cfg->user_agent);
	} else {
		const char *url = cfg->contact_url ? cfg->contact_url : "";
		size_t n = strlen(url) + 64;

		f->user_agent = malloc(n);
		if (f->user_agent)
			snprintf(f->user_agent, n, "stsmap/%s (+%s)",
				 STSMAP_VERSION, url);
	}
	if (f->user_agent == NULL)
		goto fail;
	f->cfg.ca_file = f->ca_file;
	f->cfg.user_agent = f->user_agent;
	f->cfg.contact_url = NULL;

	f->timer = evtimer_new(base, timer_cb, f);
	if (f->timer == NULL)
		goto fail;
	f->multi = curl_multi_init();
	if (f->multi == NULL)
		goto fail;
	ret = ST_EUNKNOWN;
	if (curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, multi_sock_cb) != CURLM_OK ||
	    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
	    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) != CURLM_OK ||
	    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			      (long)cfg->max_host_connections) != CURLM_OK ||
	    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS,
			      (long)cfg->max_transfers) != CURLM_OK)
		goto fail;
	*out = f;
	return ST_OK;
fail:
	if (f->multi)
		curl_multi_cleanup(f->multi);
	if (f->timer)
		event_free(f->timer);
	ft_polite_free(f->polite);
	free(f->ca_file);
	free(f->user_agent);
	free(f);
	return ret;
}

#define SETOPT(opt, val)                                             \
	do {                                                         \
		if (curl_easy_setopt(x->easy, opt, val) != CURLE_OK) \
			goto fail;                                   \
	} while (0)

static int xfer_setup_curl(struct ft_fetcher *f, struct ft_xfer *x,
			   const char *resolve_line)
{
	x->resolve = curl_slist_append(NULL, resolve_line);
	if (x->resolve == NULL)
		return ST_ENOMEM;
	x->easy = curl_easy_init();
	x->dns = curl_share_init();
	if (x->easy == NULL || x->dns == NULL)
		return ST_ENOMEM;
	/*
	 * CURLOPT_RESOLVE entries are permanent in the DNS cache they are
	 * loaded into, and curl walks the whole cache on every transfer's
	 * end (Curl_hostcache_prune).  In the multi's shared cache one entry
	 * per policy host would pile up over a scan: memory that grows with
	 * the input and a cost per fetch that grows with it too.  A cache of
	 * the transfer's own, freed with it, holds the one entry it needs.
	 * Connection reuse does not involve DNS: kept connections stay in
	 * the multi's connection cache.
	 */
	if (curl_share_setopt(x->dns, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
	    CURLSHE_OK)
		return ST_EUNKNOWN;
	SETOPT(CURLOPT_URL, x->url);
	SETOPT(CURLOPT_SHARE, x->dns);
	SETOPT(CURLOPT_RESOLVE, x->resolve);
	SETOPT(CURLOPT_PRIVATE, (void *)x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *)x);
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	SETOPT(CURLOPT_OPENSOCKETDATA, (void *)x);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_USERAGENT, f->user_agent);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)f->cfg.connect_timeout_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)f->cfg.total_timeout_ms);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	/* RFC 8996: no TLS 1.0 or 1.1, whatever the system's OpenSSL
	 * configuration allows.  A server with nothing newer then fails
	 * with a protocol_version alert, which errbuf names, rather than
	 * with whatever TLS 1.1 happened to trip over first. */
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/*
	 * Under a per-address cap a connection ends with its fetch.  A kept
	 * one would sit idle in curl's cache (up to max_transfers of them,
	 * to whichever addresses) outside the count the cap keeps: a
	 * provider serving thousands of policy hosts from two addresses
	 * would see hundreds of our connections open at once.  Reuse only
	 * serves a later fetch of the same host name, which a scan makes
	 * only on a retry; without a cap (per_ip_max 0) connections are kept.
	 */
	if (f->cfg.per_ip_max > 0)
		SETOPT(CURLOPT_FORBID_REUSE, 1L);
	/* Verify every new connection afresh: no TLS session resumption. */
	SETOPT(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SETOPT(CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	SETOPT(CURLOPT_SSL_CTX_DATA, (void *)x);
	SETOPT(CURLOPT_ACCEPT_ENCODING, NULL);
	/*
	 * The trusted roots come from one file: the given one, or curl's
	 * compiled-in bundle (the system store's roots, one PEM file), never
	 * also the hashed directory.  curl keeps the X509_STORE it builds
	 * from a file in the multi handle and gives it to every later
	 * connection (CURLOPT_CA_CACHE_TIMEOUT); with a CA path set it does
	 * not, and every new connection parsed the whole bundle again (the
	 * system's, ~140 roots, is most of a fetch's CPU).  -1: one store for
	 * the whole scan, so every host of a scan is judged against the same
	 * roots.  The chain is still verified on every handshake: only the
	 * parsed roots are shared, never a session or a verdict.
	 */
	if (f->ca_file)
		SETOPT(CURLOPT_CAINFO, f->ca_file);
	SETOPT(CURLOPT_CAPATH, NULL);
	SETOPT(CURLOPT_CA_CACHE_TIMEOUT, -1L);
	return ST_OK;
fail:
	return ST_EUNKNOWN;
}

static int start_one(struct ft_fetcher *f, struct ft_xfer *x)
{
	CURLMcode mc = curl_multi_add_handle(f->multi, x->easy);

	if (mc != CURLM_OK) {
		ST_ERR(f->cfg.log, COMP, "curl_multi_add_handle: %s",
		       curl_multi_strerror(mc));
		return ST_EUNKNOWN;
	}
	x->in_curl = true;
	f->st.started++;
	f->st.inflight++;
	active_link(f, x);
	return ST_OK;
}

static void defer_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct ft_xfer *x = arg;
	struct ft_fetcher *f = x->f;
	struct ft_result r;

	(void)fd;
	(void)kind;
	result_base(x, &r);
	r.status = x->fixed;
	active_unlink(f, x);
	deliver(f, x, &r);
	xfer_free(x);
}

/* Move queued fetches into curl while there is room.  A fetch curl
 * refuses ends with FT_LOCAL_ERROR, from the loop. */
static int start_queued(struct ft_fetcher *f)
{
	static const struct timeval now = { 0, 0 };
	int ret = ST_OK;

	while (!st_list_empty(&f->queue) &&
	       f->st.inflight < f->cfg.max_transfers) {
		struct ft_xfer *x = xfer_pop(&f->queue);

		f->st.queued--;
		if (start_one(f, x) == ST_OK)
			continue;
		x->fixed = FT_LOCAL_ERROR;
		active_link(f, x);
		if (evtimer_add(x->defer, &now) != 0) {
			active_unlink(f, x);
			ret = ST_EUNKNOWN;
			ST_ERR(f->cfg.log, COMP, "%s: fetch lost", x->host);
			xfer_free(x);
		}
	}
	return ret;
}

/* Append one allowed address to the CURLOPT_RESOLVE line. */
static int resolve_append(char *line, size_t cap, size_t *len,
			  const struct sockaddr *sa, bool first)
{
	char buf[INET6_ADDRSTRLEN];
	const char *p;
	int n;

	if (sa->sa_family == AF_INET)
		p = inet_ntop(AF_INET,
			      &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			      buf, sizeof(buf));
	else
		p = inet_ntop(AF_INET6,
			      &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			      buf, sizeof(buf));
	if (p == NULL)
		return ST_EINVAL;
	n = snprintf(line + *len, cap - *len,
		     sa->sa_family == AF_INET6 ? "%s[%s]" : "%s%s",
		     first ? "" : ",", buf);
	if (n < 0 || (size_t)n >= cap - *len)
		return ST_ESPACE;
	*len += (size_t)n;
	return ST_OK;
}

/* A fixed order of addresses (family, then bytes): fetches take their
 * grants in it, so none holds one another waits for while waiting for
 * one that other holds. */
static int addr_cmp(const void *a, const void *b)
{
	const struct sockaddr_storage *x = a, *y = b;

	if (x->ss_family != y->ss_family)
		return x->ss_family < y->ss_family ? -1 : 1;
	if (x->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)x)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)y)->sin6_addr,
			      sizeof(struct in6_addr));
	return memcmp(&((const struct sockaddr_in *)(const void *)x)->sin_addr,
		      &((const struct sockaddr_in *)(const void *)y)->sin_addr,
		      sizeof(struct in_addr));
}

/* Keep sa for the politeness caps, once per address. */
static void gate_add(struct ft_xfer *x, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;

	if (x->n_gate == FT_FETCH_ADDRS_MAX)
		return;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in));
	for (size_t i = 0; i < x->n_gate; i++)
		if (addr_cmp(&x->gate_addr[i], &ss) == 0)
			return;
	x->gate_addr[x->n_gate++] = ss;
}

static void gate_next(struct ft_xfer *x);

static void on_gate(struct ft_polite_waiter *w)
{
	struct ft_xfer *x = w->arg;

	x->n_granted++;
	gate_next(x);
}

/* Take the next grant of x, or, with all of them, queue x for curl.  A
 * grant that cannot be asked for (no memory) is our failure: the fetch
 * ends FT_LOCAL_ERROR, from the loop. */
static void gate_next(struct ft_xfer *x)
{
	static const struct timeval now = { 0, 0 };
	struct ft_fetcher *f = x->f;

	while (x->n_granted < x->n_gate) {
		struct ft_polite_waiter *w = &x->gate[x->n_granted];
		int r;

		w->fn = on_gate;
		w->arg = x;
		r = ft_polite_acquire(f->polite,
				      (const struct sockaddr *)&x->gate_addr[x->n_granted],
				      w);
		if (r == 0) {
			if (!st_link_linked(&x->link))
				st_list_push_back(&f->gating, &x->link);
			return;
		}
		if (r < 0) {
			st_list_remove(&x->link);
			snprintf(x->detail, sizeof(x->detail),
				 "address cap: %s", st_strerror(r));
			x->fixed = FT_LOCAL_ERROR;
			active_link(f, x);
			if (evtimer_add(x->defer, &now) != 0) {
				active_unlink(f, x);
				ST_ERR(f->cfg.log, COMP, "%s: fetch lost", x->host);
				xfer_free(x);
			}
			return;
		}
		x->n_granted++;
	}
	st_list_remove(&x->link);
	st_list_push_back(&f->queue, &x->link);
	f->st.queued++;
	/* curl_multi_add_handle() only arms curl's timer; the transfer
	 * starts from the loop, so the callback never runs from here. */
	if (start_queued(f) != ST_OK)
		ST_WARN(f->cfg.log, COMP, "could not start queued fetches");
}

int ft_fetch_policy(struct ft_fetcher *f, const char *host,
		    const struct sockaddr *const *addrs, size_t n_addrs,
		    uint16_t port, ft_callback cb, void *arg)
{
	return ft_fetch_policy_ex(f, host, addrs, n_addrs, port, 0, cb, arg);
}

int ft_fetch_policy_ex(struct ft_fetcher *f, const char *host,
		       const struct sockaddr *const *addrs, size_t n_addrs,
		       uint16_t port, unsigned flags, ft_callback cb,
		       void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct ft_xfer *x;
	char *line = NULL;
	size_t cap, len;
	size_t n_ok = 0;
	int ret;

	if (f == NULL || host == NULL || addrs == NULL || n_addrs == 0 ||
	    cb == NULL || f->freeing || !ft_host_ok(host))
		return ST_EINVAL;
	if (port == 0)
		port = 443;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return ST_ENOMEM;
	x->f = f;
	x->cb = cb;
	x->arg = arg;
	x->port = port;
	memcpy(x->host, host, strlen(host) + 1);
	if (port == 443)
		snprintf(x->url, sizeof(x->url),
			 "https://%s/.well-known/mta-sts.txt", host);
	else
		snprintf(x->url, sizeof(x->url),
			 "https://%s:%u/.well-known/mta-sts.txt", host,
			 (unsigned)port);
	ret = ST_ENOMEM;
	x->defer = evtimer_new(f->base, defer_cb, x);
	if (x->defer == NULL)
		goto fail;
	/* "host:port:" then up to n addresses of 47 bytes with a comma. */
	cap = strlen(host) + 16 + n_addrs * (INET6_ADDRSTRLEN + 4);
	line = malloc(cap);
	if (line == NULL)
		goto fail;
	len = (size_t)snprintf(line, cap, "%s:%u:", host, (unsigned)port);
	for (size_t i = 0; i < n_addrs; i++) {
		enum ft_addr_class cls;

		ret = ft_guard_check(&f->guard, addrs[i], &cls);
		if (ret == ST_EINVAL)
			goto fail;
		if (ret != ST_OK) {
			if (x->n_denied++ == 0)
				x->denied_class = cls;
			continue;
		}
		if (n_ok == FT_FETCH_ADDRS_MAX)
			continue;
		ret = resolve_append(line, cap, &len, addrs[i], n_ok == 0);
		if (ret != ST_OK)
			goto fail;
		gate_add(x, addrs[i]);
		n_ok++;
	}
	if (n_ok == 0) {
		/* No connection at all; deliver from the loop. */
		x->fixed = FT_NON_PUBLIC;
		if (evtimer_add(x->defer, &now) != 0) {
			ret = ST_EUNKNOWN;
			goto fail;
		}
		active_link(f, x);
		free(line);
		f->st.submitted++;
		return ST_OK;
	}
	ret = xfer_setup_curl(f, x, line);
	free(line);
	line = NULL;
	if (ret == ST_OK && (flags & FT_FETCH_FRESH) &&
	    curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK)
		ret = ST_EUNKNOWN;
	if (ret != ST_OK)
		goto fail;
	f->st.submitted++;
	qsort(x->gate_addr, x->n_gate, sizeof(x->gate_addr[0]), addr_cmp);
	gate_next(x);
	return ST_OK;
fail:
	free(line);
	xfer_free(x);
	return ret;
}

void ft_fetcher_stats(const struct ft_fetcher *f, struct ft_stats *out)
{
	struct ft_polite_stats ps;

	*out = f->st;
	ft_polite_stats(f->polite, &ps);
	out->addr_waiting = ps.waiting;
	out->addr_peak = ps.peak;
	out->addr_waited = ps.waited;
}

size_t ft_fetcher_pending(const struct ft_fetcher *f)
{
	return f->st.queued + st_list_len(&f->active) +
	       st_list_len(&f->gating);
}

static void cancel(struct ft_fetcher *f, struct ft_xfer *x)
{
	struct ft_result r;

	result_base(x, &r);
	r.status = FT_CANCELLED;
	deliver(f, x, &r);
	if (x->in_curl &&
	    curl_multi_remove_handle(f->multi, x->easy) != CURLM_OK)
		ST_WARN(f->cfg.log, COMP, "curl_multi_remove_handle failed");
	xfer_free(x);
}

void ft_fetcher_free(struct ft_fetcher *f)
{
	CURLMcode mc;

	if (f == NULL)
		return;
	f->freeing = true;
	while (!st_list_empty(&f->active))
		cancel(f, xfer_pop(&f->active));
	while (!st_list_empty(&f->queue))
		cancel(f, xfer_pop(&f->queue));
	while (!st_list_empty(&f->gating))
		cancel(f, xfer_pop(&f->gating));
	/* Closes the kept connections.  curl does not always report their
	 * sockets removed, so free what the socket callback left. */
	mc = curl_multi_cleanup(f->multi);
	if (mc != CURLM_OK)
		ST_WARN(f->cfg.log, COMP, "curl_multi_cleanup: %s",
			curl_multi_strerror(mc));
	while (!st_list_empty(&f->socks))
		sock_free(f, ST_CONTAINER(st_list_first(&f->socks),
					  struct ft_sock, link));
	event_free(f->timer);
	ft_polite_free(f->polite);
	free(f->ca_file);
	free(f->user_agent);
	free(f);
}
