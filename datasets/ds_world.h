/*
 * ds_world.h - the synthetic test world: `stsmap world`.
 *
 * The generator lays out a made-up TLD (default "test") whose domains have
 * known MTA-STS setups, and writes everything real servers on loopback need
 * to serve it, plus the ground truth a scan of it must reproduce.  Truth is
 * derived from the scenario table (ds_world_catalog.c), never by running
 * the classifier.
 *
 * Output directory layout (paths relative to OUT):
 *
 *   domains.txt          the domain list, one per line: the scanner's input
 *   truth.jsonl          one JSON object per domain, sorted by domain:
 *                          {"domain","scenario","verdict","findings",
 *                           "info","findings_probe","verdict_probe"}
 *                        findings: the exact set of error and warn codes
 *                        (an_findings.c names) a scan without --probe-mx
 *                        reports; info: the info codes expected; the
 *                        *_probe fields: the same with --probe-mx against
 *                        the MX behaviours of mx-hosts.txt.
 *   dns/<tld>.zone       RFC 1035 master file for <tld>, absolute names
 *   mx-hosts.txt         "host address behaviour" per MX host; behaviour is
 *                        starttls-valid, no-starttls, wrong-name or expired
 *   tls/ca.pem           the root every client of the world trusts
 *   tls/ca.key           its key (to issue more certificates later)
 *   tls/intermediate.pem, tls/intermediate.key
 *   tls/untrusted-ca.pem a second root nobody trusts
 *   tls/leaf.key         the key shared by every leaf certificate
 *   tls/certs/<host>.pem the chain a policy host serves, leaf first
 *   nginx/nginx.conf     `nginx -c OUT/nginx/nginx.conf -p OUT/nginx/`;
 *                        every path in it is relative, so OUT can move
 *   nginx/www/<host>/mta-sts.txt   the policy bodies
 *   nginx/logs/, nginx/tmp/        nginx's pid, logs and temp files
 *   world.json           seed, shape, now, tld, ports, address plan,
 *                        counts per scenario, file names
 *
 * Every file except tls/ is a function of (seed, shape, now, tld, ports):
 * two runs with the same options are byte-identical.  tls/ holds fresh keys
 * and random serials each run (ds_certs.h draws them from RAND_bytes); the
 * names, SANs and validity windows are the same.
 *
 * Address plan (all on lo; nothing here ever uses 127.0.53.x/127.0.54.x):
 *
 *   127.1.0.1          authoritative NSD for <tld>      (port dns_port)
 *   127.1.0.2          validating Unbound, stub to NSD  (port dns_port)
 *   127.2.x.y          policy hosts (nginx, https_port), DS_WORLD_PER_ADDR
 *                      names per address, served by SNI; 127.2.0.1 also
 *                      holds pages.hosting.<tld>, the target of CNAMEd
 *                      policy hosts
 *   127.3.x.y          shared provider MX hosts (mxN.provNNN.<tld>)
 *   127.4.x.y          per-domain MX hosts (mx1.D, mx2.D, ...)
 *   127.5.0.1          refused: nothing listens on any port (also the
 *                      glue of the dead name server of broken.<tld>)
 *   127.5.0.2          hang: a listener that accepts and never speaks
 *                      (started by world-up, not by nginx)
 *   127.5.0.3          plain HTTP on https_port: the TLS handshake fails
 *
 * Streaming: records are written as each domain is generated; memory does
 * not grow with the number of domains (a bulk world of 1,000,000 domains
 * needs a few MB).
 */
#ifndef DS_WORLD_H
#define DS_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DS_WORLD_ADDR_NSD "127.1.0.1"
#define DS_WORLD_ADDR_UNBOUND "127.1.0.2"
#define DS_WORLD_ADDR_REFUSED "127.5.0.1"
#define DS_WORLD_ADDR_HANG "127.5.0.2"
#define DS_WORLD_ADDR_PLAIN "127.5.0.3"
#define DS_WORLD_PER_ADDR 64      /* policy host names per 127.2 address */
#define DS_WORLD_PROVIDERS 150    /* shared providers, two MX hosts each */
#define DS_WORLD_TLD_MAX 63
#define DS_WORLD_DOMAINS_MAX 9999999u /* d<7 digits> */

struct ds_world_opts {
	const char *out_dir;   /* created if absent; must be writable */
	uint64_t n_domains;    /* 0: the catalog; else a bulk world */
	uint64_t seed;
	const char *tld;       /* one LDH label, e.g. "test" */
	time_t now;            /* clock for certificate validity windows */
	unsigned https_port;   /* nginx listen port, default 443 */
	unsigned dns_port;     /* NSD and Unbound port, default 53 */
};

/*
 * The scenario table.  Each row says how a domain is built and what a scan
 * must find.  Templates expand {d} (the domain), {t} (the tld), {p} (the
 * domain's provider, "provNNN.<tld>") and {id} (the record id).
 * TXT RR sets: RRs separated by '\n', character-strings of one RR by '|'.
 */
enum ds_sts_how { DS_STS_DIRECT, DS_STS_CNAME, DS_STS_BROKEN };
enum ds_mx_kind {
	DS_MX_PROVIDER,   /* mx1/mx2.provNNN.<tld> */
	DS_MX_OWN,        /* mx1.D, mx2.D */
	DS_MX_OWN_DEEP,   /* mx.eu.D */
	DS_MX_NULL,       /* "0 ." (RFC 7505) */
	DS_MX_NONE,       /* no MX: the implicit MX is D itself */
	DS_MX_NOSTARTTLS, /* shared host offering no STARTTLS */
	DS_MX_WRONGNAME,  /* shared host with a certificate for another name */
	DS_MX_EXPIRED,    /* shared host with an expired certificate */
};
enum ds_ph_kind {
	DS_PH_NONE,       /* no mta-sts.D record, nothing served */
	DS_PH_SERVED,     /* A record, nginx server block */
	DS_PH_CNAME,      /* CNAME to pages.hosting.<tld>, served there */
	DS_PH_DANGLING,   /* CNAME to a name that does not exist */
	DS_PH_REFUSED,    /* A 127.5.0.1 */
	DS_PH_HANG,       /* A 127.5.0.2 */
	DS_PH_PLAIN,      /* A 127.5.0.3, plain HTTP: handshake fails */
};
enum ds_cert_kind {
	DS_CERT_VALID,
	DS_CERT_EXPIRED,
	DS_CERT_NOT_YET_VALID,
	DS_CERT_WRONG_NAME,
	DS_CERT_SELF_SIGNED,
	DS_CERT_UNTRUSTED,
	DS_CERT_MISSING_INTER,
	DS_CERT_EXPIRING,  /* valid, expires 5 days after now */
};
enum ds_http_kind {
	DS_HTTP_OK,
	DS_HTTP_REDIRECT,
	DS_HTTP_404,
	DS_HTTP_500,
	DS_HTTP_BIG,       /* body padded to 64 KiB + 1 */
	DS_HTTP_SLOW,      /* limit_rate 1 byte/s after 10 bytes */
};

struct ds_scenario {
	const char *name;          /* a DNS label: the catalog's domain */
	const char *verdict;       /* an_verdict_name() */
	const char *findings;      /* error+warn codes, space separated */
	const char *info;          /* info codes, space separated */
	const char *probe;         /* extra codes with --probe-mx, or NULL */
	const char *verdict_probe; /* verdict with --probe-mx; NULL: same */
	const char *sts;           /* _mta-sts TXT RR set, NULL: none */
	const char *tlsrpt;        /* _smtp._tls TXT RR set, NULL: none */
	const char *body;          /* policy template, NULL: no file */
	const char *content_type;  /* NULL: text/plain */
	uint8_t sts_how;           /* enum ds_sts_how */
	uint8_t mx;                /* enum ds_mx_kind */
	uint8_t ph;                /* enum ds_ph_kind */
	uint8_t cert;              /* enum ds_cert_kind */
	uint8_t http;              /* enum ds_http_kind */
	uint32_t weight;           /* bulk: domains per million */
};

/* The table: static, *n rows. */
const struct ds_scenario *ds_world_scenarios(size_t *n);

/* Counters of one run, filled by ds_world_generate(). */
struct ds_world_stats {
	uint64_t n_domains;
	uint64_t n_policy_hosts;   /* server blocks */
	uint64_t n_certs;          /* leaf certificates issued */
	uint64_t n_mx_own;         /* per-domain MX hosts */
};

/*
 * Write a world into opts->out_dir (see the layout above).  The directory
 * may exist; files of an earlier world in it are overwritten, but stale
 * ones (e.g. certs/ of hosts this world lacks) are not removed: use a fresh
 * directory.  stats may be NULL.  No global state; OpenSSL's error queue is
 * left clean.
 * Errors: ST_EINVAL (bad option), ST_EIO (file system), ST_ENOMEM, ST_ETLS.
 */
int ds_world_generate(const struct ds_world_opts *opts,
		      struct ds_world_stats *stats);

#endif /* DS_WORLD_H */
