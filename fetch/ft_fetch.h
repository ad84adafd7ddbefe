/*
 * ft_fetch.h - the HTTPS policy fetcher: GET https://HOST/.well-known/
 * mta-sts.txt over libcurl's multi interface, driven by a libevent loop.
 *
 * One struct ft_fetcher per event loop (the one the resolver runs on).
 * ft_fetch_policy() queues a fetch of a policy host whose addresses the
 * caller's own resolver found; the outcome (or the precise reason there is
 * none) is delivered once, from the loop, to the callback.
 *
 * - Every address is checked with ft_guard_check() first; the allowed ones
 *   are pinned with CURLOPT_RESOLVE, so curl never resolves a name itself,
 *   and curl tries the next address when a connect fails.  If none is
 *   allowed, no connection is made and the status is FT_NON_PUBLIC.
 * - Redirects are never followed: the 3xx status and its Location are
 *   recorded.  The body is kept up to FT_BODY_MAX bytes; one byte more ends
 *   the transfer with FT_TOO_LARGE.
 * - TLS 1.2 and up only (RFC 8996), whatever the system's OpenSSL
 *   configuration allows: a server with only TLS 1.0/1.1 is FT_TLS_HANDSHAKE
 *   and error carries OpenSSL's reason ("... alert protocol version").
 * - TLS is verified against the system CA store or cfg.ca_file.  The peer
 *   chain is verified through OpenSSL directly (a cert-verify callback on
 *   curl's SSL_CTX), so the result carries the precise X509 verify error
 *   and the leaf's names, issuer and validity, whether or not it verified.
 * - A failure on our side (no descriptor for socket(), no memory, a CA
 *   file or directory that cannot be read, curl refusing our options) is
 *   FT_LOCAL_ERROR with errno's text in error: it says nothing about the
 *   host.  A response shorter than its Content-Length is FT_TRANSFER with
 *   "incomplete body: N of M bytes" (RFC 7230 §3.3.3) when the server
 *   closed, FT_TIMEOUT with the same words when it held the connection
 *   until the total timeout; never FT_DONE.
 * - Without a per-address cap (per_ip_max 0), connections are kept and
 *   reused across fetches of the same host and port; under one (the
 *   default), each connection is closed when its fetch ends, so the cap
 *   counts every connection open to an address, idle ones included.  TLS
 *   sessions are never resumed, so every new connection verifies the
 *   chain afresh.  At most max_transfers idle connections are kept, and
 *   nothing else is kept per
 *   host: memory and the cost of a fetch do not grow with the number of
 *   hosts fetched (each transfer's pinned addresses live in a DNS cache
 *   of its own, freed with it).
 *
 * fetch/ does not know RFC 8461: it reports what happened.  Its outcomes
 * are rows of the table in common/st_outcome.h, from which analysis/'s
 * enum an_fetch_status and the scanner's mapping are generated too: one
 * to one by name (FT_DONE -> AN_FETCH_DONE, ..., FT_TRANSFER ->
 * AN_FETCH_TRANSFER); FT_CANCELLED and FT_LOCAL_ERROR (source LOCAL) are
 * not observations of the host and map to AN_FETCH_NOT_ATTEMPTED.
 *
 * No global state beyond curl_global_init(), which the process must call
 * once at start-up (ft_fetcher_new() does not).  Not thread safe: use a
 * fetcher only from the thread running its event_base.
 */
#ifndef FT_FETCH_H
#define FT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "ft_guard.h"
#include "st_log.h"
#include "st_outcome.h"

struct event_base;
struct ft_fetcher;

/* RFC 8461 §3.3: senders may limit the policy body to 64 KiB. */
#define FT_BODY_MAX 65536u
/* Leaf subjectAltName dNSNames kept in a result; more are counted only. */
#define FT_MAX_CERT_NAMES 32u

/*
 * Defaults, each written once: ft_config_default() and the scanner (its
 * sc_config_default() and the --https-max / --https-timeout rows of the
 * option table, sc_scan_opts.c) use these names, never the numbers.
 * RFC 8461 §3.3: "Senders MAY impose a timeout on the HTTPS GET ... A
 * suggested timeout is one minute"; a survey waits 30 s.
 */
#define FT_DEFAULT_MAX_TRANSFERS 128u
#define FT_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define FT_DEFAULT_TOTAL_TIMEOUT_MS 30000u
/*
 * Politeness per destination address (ft_polite.h, DESIGN §8): fetches
 * in flight to one IP address, and new ones per second (at most
 * FT_DEFAULT_PER_IP_MAX at once from a full bucket), whatever the names.
 * Below what a policy-host provider allows one client (the emulated one:
 * nginx limit_req 20 r/s, burst 40, limit_conn 32).  0 turns a cap off.
 */
#define FT_DEFAULT_PER_IP_MAX 8u
#define FT_DEFAULT_PER_IP_RATE 10u
/* Addresses of one fetch that are pinned (and capped); more are ignored. */
#define FT_FETCH_ADDRS_MAX 8u

struct ft_config {
	unsigned max_transfers;        /* fetches in flight; more wait
					* (FT_DEFAULT_MAX_TRANSFERS) */
	unsigned max_host_connections; /* per host:port, 0: no cap (2) */
	/* curl's connect phase: TCP and the TLS handshake
	 * (FT_DEFAULT_CONNECT_TIMEOUT_MS).  A TCP connect that does not
	 * finish in time is FT_CONNECT_TIMEOUT; a handshake that does not
	 * is FT_TIMEOUT. */
	unsigned connect_timeout_ms;
	unsigned total_timeout_ms;     /* whole fetch, RFC 8461 §3.3
					* (FT_DEFAULT_TOTAL_TIMEOUT_MS) */
	const char *ca_file;    /* PEM bundle; NULL: the system store (NULL) */
	const char *contact_url; /* named in the default User-Agent (NULL) */
	const char *user_agent; /* NULL: "stsmap/<version> (+<contact_url>)" */
	bool allow_private;     /* --allow-private, see ft_guard.h (false) */
	/* Per destination address (ft_polite.h): a fetch holds one grant
	 * for each address it may connect to (taken in a fixed order, so
	 * two fetches never wait for each other's), from before it is
	 * handed to curl until it ends; curl's timeouts start only then, so
	 * waiting for a busy address never times a fetch out
	 * (FT_DEFAULT_PER_IP_MAX, FT_DEFAULT_PER_IP_RATE; 0 no cap). */
	unsigned per_ip_max;
	unsigned per_ip_rate;
	struct st_log *log;     /* not owned; may be NULL (NULL) */
};

/* Fill cfg with the defaults given in parentheses above. */
void ft_config_default(struct ft_config *cfg);

/*
 * What happened to one fetch: the rows of ST_FETCH_OUTCOMES (st_outcome.h)
 * that fetch/ reports, in table order (FT_DONE, FT_NON_PUBLIC, ...,
 * FT_TRANSFER, FT_CANCELLED, FT_LOCAL_ERROR); each row's comment says
 * what it means.  Values are stable (they may be stored); FT_STATUS_COUNT
 * is not one.
 */
#define FT_STATUS_ROW_(id, name, src, finding) ST_IF_##src##_FT(FT_##id,)
enum ft_status {
	ST_FETCH_OUTCOMES(FT_STATUS_ROW_)
	FT_STATUS_COUNT
};
#undef FT_STATUS_ROW_

/*
 * One fetch's outcome.  The struct and everything it points to is valid
 * only during the callback; copy what you keep.  Pointers are NULL (and
 * numbers 0 or -1 as said) when the value is unknown or absent.
 */
struct ft_result {
	enum ft_status status;
	const char *host;           /* as given to ft_fetch_policy() */
	uint16_t port;
	size_t n_addrs_denied;      /* addresses the guard refused */
	enum ft_addr_class denied_class; /* class of the first one refused */

	int http_status;            /* 0 if no response header was received */
	const char *location;       /* Location header of the response */
	const char *content_type;   /* Content-Type as sent */
	const uint8_t *body;        /* at most FT_BODY_MAX bytes received */
	size_t body_len;
	int http_version;           /* 10, 11, 20, 30; 0 unknown */
	const char *peer_ip;        /* address connected to, text form */
	uint16_t peer_port;
	bool reused;                /* an existing connection served it */

	/* Microseconds from the start of the transfer (curl *_TIME_T). */
	int64_t connect_us;         /* TCP connected */
	int64_t tls_us;             /* TLS handshake done */
	int64_t first_byte_us;      /* first response byte */
	int64_t total_us;

	/* The leaf certificate, as seen during this fetch's handshake; absent
	 * (cert_known false) on a reused connection or when none was sent. */
	bool cert_known;
	const char *const *cert_names; /* SAN dNSNames, in certificate order */
	size_t n_cert_names;        /* at most FT_MAX_CERT_NAMES */
	const char *cert_subject;   /* one-line RFC 2253 form */
	const char *cert_issuer;
	int64_t cert_not_before;    /* Unix time */
	int64_t cert_not_after;
	bool cert_name_match;       /* X509_check_host(leaf, host) */
	int verify_error;           /* X509_V_OK (0) or X509_V_ERR_* */
	const char *verify_error_str; /* X509_verify_cert_error_string() */

	const char *error;          /* curl's error text on failure, or NULL */
};

/* Called once per fetch, from the loop, never from within
 * ft_fetch_policy().  The callback may call ft_fetch_policy() but must not
 * free the fetcher. */
typedef void (*ft_callback)(const struct ft_result *res, void *arg);

struct ft_stats {
	uint64_t submitted;         /* ft_fetch_policy() calls accepted */
	uint64_t started;           /* transfers handed to curl */
	uint64_t completed;         /* callbacks delivered */
	uint64_t denied;            /* fetches ended FT_NON_PUBLIC */
	uint64_t connections_reused; /* transfers served on a kept connection */
	size_t inflight;            /* transfers in curl now */
	size_t queued;              /* waiting for a slot */
	size_t addr_waiting;        /* waiting for their addresses' caps */
	unsigned addr_peak;         /* most fetches to one address at once */
	uint64_t addr_waited;       /* grants that had to wait */
};

/*
 * Create a fetcher on base with cfg (copied; its strings too).  Returns
 * ST_OK and *out (free with ft_fetcher_free()); ST_EINVAL for a NULL
 * argument or max_transfers 0; ST_ENOMEM; ST_EUNKNOWN if curl or libevent
 * refuse the set-up.
 */
int ft_fetcher_new(struct event_base *base, const struct ft_config *cfg,
		   struct ft_fetcher **out);

/*
 * Fetch https://host[:port]/.well-known/mta-sts.txt (":port" only when not
 * 443), connecting only to addrs[0..n_addrs-1] that pass the guard, in that
 * order.  host is a name without trailing dot ("mta-sts.example.com"), up
 * to 253 bytes of [A-Za-z0-9.-]; addrs are sockaddr_in/sockaddr_in6 (their
 * port is ignored), only read during the call; port 0 means 443.  All
 * arguments are copied.
 * Returns ST_OK (the callback will run exactly once), ST_EINVAL (bad host,
 * n_addrs 0, NULL argument, or the fetcher is being freed) or ST_ENOMEM;
 * on error the callback is not called.
 */
int ft_fetch_policy(struct ft_fetcher *f, const char *host,
		    const struct sockaddr *const *addrs, size_t n_addrs,
		    uint16_t port, ft_callback cb, void *arg);

/* Flags of ft_fetch_policy_ex(). */
#define FT_FETCH_FRESH 0x1u /* a new connection (CURLOPT_FRESH_CONNECT),
			     * so the certificate is seen again: for a
			     * fetch that repeats one made before */

/* ft_fetch_policy() with flags (FT_FETCH_*). */
int ft_fetch_policy_ex(struct ft_fetcher *f, const char *host,
		       const struct sockaddr *const *addrs, size_t n_addrs,
		       uint16_t port, unsigned flags, ft_callback cb,
		       void *arg);

/* Counters so far, copied into out. */
void ft_fetcher_stats(const struct ft_fetcher *f, struct ft_stats *out);

/* Fetches not yet completed (queued or in flight). */
size_t ft_fetcher_pending(const struct ft_fetcher *f);

/* Free the fetcher and its connections: every fetch not yet completed gets
 * its callback with FT_CANCELLED first.  Not from within a callback.  NULL
 * is a no-op. */
void ft_fetcher_free(struct ft_fetcher *f);

/* The row's name in st_outcome.h: "done", "non-public", ... ; "unknown"
 * outside the enum.  Static strings. */
const char *ft_status_name(enum ft_status st);

#endif /* FT_FETCH_H */
