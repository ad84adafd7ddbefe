/*
 * ft_smtp.h - the SMTP STARTTLS prober: connect to an MX host on port 25,
 * read the greeting, EHLO, STARTTLS, TLS handshake with SNI = the MX name,
 * and report what a sending MTA would see (RFC 3207, RFC 8461 §4.2).
 *
 * One struct ft_prober per event loop (the one the resolver and the
 * fetcher run on); every probe is a non-blocking state machine on libevent
 * (bufferevents; OpenSSL through libevent's OpenSSL filter after STARTTLS).
 * The caller resolves the MX host with its own resolver and hands the
 * addresses over; each is checked with ft_guard_check() first, and they are
 * tried in order until one accepts the TCP connection.
 *
 * Conversation: wait for a 220 greeting (multi-line allowed), send
 * "EHLO <ehlo_name>", read the 250 reply and look for the STARTTLS
 * keyword (case-insensitive), send "STARTTLS", expect 220, handshake
 * (TLS 1.0 and up accepted, so an old server is measured rather than
 * failed), then "QUIT" and close.  No mail is ever sent.  Every reply line
 * is capped (1000 bytes, RFC 5321 §4.5.3.1.5 plus slack) and the whole
 * conversation has a deadline, so a slow or hostile server costs at most
 * timeout_ms.
 *
 * The peer chain is verified through OpenSSL (system CA store or ca_file)
 * with a verify callback that records the first error and lets the
 * handshake finish, so the result carries the precise X509 error, the
 * leaf's names and validity, and X509_check_host() against the MX name.
 *
 * fetch/ does not know RFC 8461: the scanner maps a result to analysis/'s
 * enum an_probe_status by the probe column of ST_SMTP_OUTCOMES
 * (st_outcome.h), and for FT_SMTP_TLS by the certificate (OK: verify_error
 * 0 and name_match; CERT_INVALID: a verify error; NAME_MISMATCH: chain
 * fine, name not).
 *
 * No global state.  Not thread safe: use a prober only from the thread
 * running its event_base.  The process must ignore SIGPIPE (signal(SIGPIPE,
 * SIG_IGN) at start-up): libevent writes with writev(), so a server that
 * closes while a command is being sent would otherwise kill it.
 */
#ifndef FT_SMTP_H
#define FT_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "ft_guard.h"
#include "st_log.h"
#include "st_outcome.h"

struct event_base;
struct ft_prober;

#define FT_SMTP_LINE_MAX 1000u
#define FT_SMTP_MAX_CERT_NAMES 32u

/* Defaults, each written once: ft_smtp_config_default() and the scanner
 * (sc_config_default(), the --smtp-* and --ehlo rows of sc_scan_opts.c)
 * use these names, never the values. */
#define FT_SMTP_DEFAULT_MAX_PROBES 64u
#define FT_SMTP_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define FT_SMTP_DEFAULT_TIMEOUT_MS 30000u
#define FT_SMTP_DEFAULT_PORT 25u          /* RFC 5321 §4.5.4.2 */
#define FT_SMTP_DEFAULT_EHLO "stsmap.invalid" /* RFC 2606 §2 .invalid */
/*
 * Politeness per destination address (ft_polite.h, DESIGN §8): SMTP
 * connections open at once to one IP address, and new ones per second
 * (at most FT_SMTP_DEFAULT_PER_IP_MAX at once from a full bucket).  Far
 * below what large providers allow one client (Postfix's anvil defaults
 * are 50 at once and no rate; the emulated provider allows 10 at once
 * and 50 per 10 s): a survey is a guest.  0 turns a cap off.
 */
#define FT_SMTP_DEFAULT_PER_IP_MAX 2u
#define FT_SMTP_DEFAULT_PER_IP_RATE 2u
/*
 * A timer that fires this much after it was due means the event loop
 * was held up on our side (the scanning machine overloaded, or a
 * callback that blocked): the host's replies may have been waiting in
 * our socket unread, so the probe's timeout says nothing about the host
 * and ends FT_SMTP_LOCAL_ERROR ("... fired N ms late"), never a timeout.
 */
#define FT_SMTP_LATE_MS 500u

struct ft_smtp_config {
	unsigned max_probes;         /* probes in flight; more wait
				      * (FT_SMTP_DEFAULT_MAX_PROBES) */
	unsigned connect_timeout_ms; /* per address
				      * (FT_SMTP_DEFAULT_CONNECT_TIMEOUT_MS) */
	unsigned timeout_ms;         /* whole probe
				      * (FT_SMTP_DEFAULT_TIMEOUT_MS) */
	uint16_t port;               /* FT_SMTP_DEFAULT_PORT; tests use another */
	const char *ehlo_name;       /* EHLO argument; NULL:
				      * FT_SMTP_DEFAULT_EHLO */
	const char *ca_file;         /* PEM bundle; NULL: system store */
	bool allow_private;          /* see ft_guard.h (false) */
	/* Per destination address (ft_polite.h): connections at once and
	 * new connections per second, 0 no cap
	 * (FT_SMTP_DEFAULT_PER_IP_MAX, FT_SMTP_DEFAULT_PER_IP_RATE).  A
	 * probe waiting for its address is not timed: its deadline and its
	 * duration start with its first connect, and stop while it waits
	 * for a later address. */
	unsigned per_ip_max;
	unsigned per_ip_rate;
	struct st_log *log;          /* not owned; may be NULL */
};

void ft_smtp_config_default(struct ft_smtp_config *cfg);

/* What happened to one probe: the rows of ST_SMTP_OUTCOMES (st_outcome.h)
 * in table order, each row's comment says what it means.  Values are
 * stable (they may be stored); FT_SMTP_STATUS_COUNT is not one. */
#define FT_SMTP_STATUS_ROW_(id, name, src, probe) FT_SMTP_##id,
enum ft_smtp_status {
	ST_SMTP_OUTCOMES(FT_SMTP_STATUS_ROW_)
	FT_SMTP_STATUS_COUNT
};
#undef FT_SMTP_STATUS_ROW_

/* Valid only during the callback; copy what you keep. */
struct ft_smtp_result {
	enum ft_smtp_status status;
	const char *host;            /* as given */
	const char *peer_ip;         /* address that accepted, or NULL */
	uint16_t peer_port;
	size_t n_addrs_denied;
	const char *greeting;        /* first greeting line, sanitised */
	bool starttls_offered;
	int reply_code;              /* last SMTP reply code seen before
				      * QUIT (so 220 after STARTTLS, 554
				      * for a refusing greeting), 0 none */

	int tls_version;             /* SSL_version(): 0x0303, 0x0304; 0 */
	const char *cipher;          /* or NULL */
	bool cert_known;
	const char *const *cert_names; /* SAN dNSNames */
	size_t n_cert_names;
	const char *cert_subject;
	const char *cert_issuer;
	int64_t cert_not_before;
	int64_t cert_not_after;
	bool name_match;             /* X509_check_host(leaf, host) */
	int verify_error;            /* X509_V_OK or X509_V_ERR_*; -1 if no
				      * handshake */
	const char *verify_error_str;

	const char *error;           /* reason text on failure, or NULL */
	uint32_t duration_ms;        /* from the first connect attempt;
				      * time queued is not counted */
};

/* The callback may call ft_probe_smtp() but must not free the prober. */
typedef void (*ft_smtp_callback)(const struct ft_smtp_result *res,
				 void *arg);

struct ft_smtp_stats {
	uint64_t submitted, completed, denied;
	size_t inflight, queued;
	size_t addr_waiting;         /* waiting for their address's cap */
	unsigned addr_peak;          /* most connections to one address at
				      * once, so far */
	uint64_t addr_waited;        /* connects that had to wait for it */
};

/* ST_OK and *out; ST_EINVAL, ST_ENOMEM, ST_ETLS (SSL_CTX set-up). */
int ft_prober_new(struct event_base *base, const struct ft_smtp_config *cfg,
		  struct ft_prober **out);

/*
 * Probe host (an MX name, no trailing dot) at addrs[0..n_addrs-1] (port
 * ignored; cfg.port used), all copied.  The callback runs exactly once,
 * from the loop, never from within this call.  ST_OK, ST_EINVAL (bad
 * host, n_addrs 0, being freed), ST_ENOMEM (then no callback).
 */
int ft_probe_smtp(struct ft_prober *p, const char *host,
		  const struct sockaddr *const *addrs, size_t n_addrs,
		  ft_smtp_callback cb, void *arg);

void ft_prober_stats(const struct ft_prober *p, struct ft_smtp_stats *out);
size_t ft_prober_pending(const struct ft_prober *p);

/* Every probe not completed gets FT_SMTP_CANCELLED first.  Not from
 * within a callback.  NULL is a no-op. */
void ft_prober_free(struct ft_prober *p);

/* The row's name in st_outcome.h: "tls", ...; "unknown" outside the enum. */
const char *ft_smtp_status_name(enum ft_smtp_status st);

#endif /* FT_SMTP_H */
