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
 *                           "info","findings_probe","verdict_probe",
 *                           "info_probe"[,"mx_covered"]}
 *                        findings: the exact set of error and warn codes
 *                        (an_findings.c names) a scan without --probe-mx
 *                        reports; info: the info codes expected; the
 *                        *_probe fields: the same with --probe-mx against
 *                        the MX behaviours of mx-hosts.txt (info_probe adds
 *                        mx-tls.dane and mx-tls.dnssec where an MX host
 *                        publishes TLSA records); mx_covered, for the
 *                        rows that give it: the MX hosts (no trailing
 *                        dot) whose record entry must say covered, the
 *                        others must not (a body parsed, whether or not
 *                        a sender applies it: docs/record.schema.json).
 *   dns/<tld>.zone       RFC 1035 master file for <tld>, absolute names
 *   mx-hosts.txt         "host address behaviour tlsa" per MX host:
 *                        behaviour is starttls-valid, no-starttls,
 *                        wrong-name or expired (what a STARTTLS probe with
 *                        SNI = host and tls/ca.pem as the only root sees);
 *                        tlsa is "tlsa" if _25._tcp.<host> has a TLSA
 *                        record in the zone, else "-".  Shared hosts
 *                        first, then the per-domain hosts in domain order.
 *   tls/ca.pem           the root every client of the world trusts
 *   tls/ca.key           its key (to issue more certificates later)
 *   tls/intermediate.pem, tls/intermediate.key
 *   tls/untrusted-ca.pem a second root nobody trusts
 *   tls/leaf.key         the key shared by every leaf certificate
 *   tls/certs/<host>.pem the chain a policy or MX host serves, leaf first
 *   tls/certs/mx-own-g<N>.pem  bulk worlds: one chain naming every
 *                        per-domain MX host of the domains of group N
 *                        (see "MX hosts and Postfix" below)
 *   nginx/nginx.conf     `nginx -c OUT/nginx/nginx.conf -p OUT/nginx/`;
 *                        every path in it is relative, so OUT can move
 *   nginx/www/<host>/mta-sts.txt   the policy bodies
 *   nginx/logs/, nginx/tmp/        nginx's pid, logs and temp files
 *   postfix/main.cf, postfix/master.cf, postfix/sni-own-<NN>.regexp
 *                        one Postfix instance for every MX host:
 *                        `$(postconf -h daemon_directory)/master -c
 *                        OUT/postfix` as root (world-up does it); every
 *                        path is relative to config_directory (or, in the
 *                        SNI tables, to the queue directory), so OUT can
 *                        move.  Its queue and data directories are
 *                        OUT/run/postfix and OUT/run/postfix-data, made by
 *                        world-up, never by the generator.  (`postfix
 *                        check` would rewrite main.cf with absolute
 *                        paths: post-install does that.)
 *   world.json           seed, shape, now, tld, ports, address plan,
 *                        counts per scenario, file names; with --behave
 *                        also "behave": 1, "behave_ipv6" (the IPv6
 *                        addresses world-up puts on lo) and
 *                        "behave_addresses"
 *   hier/                with --hierarchy: the same records as a root, a
 *                        TLD and a zone per domain (world/ds_world_hier.h)
 *
 * Every file except tls/ is a function of (seed, shape, now, tld, ports):
 * two runs with the same options are byte-identical, but for the data of
 * the zone's TLSA records, which hash tls/leaf.key.  tls/ holds fresh keys
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
 *   127.3.0.1-127.3.1.46  shared provider MX hosts (mxN.provNNN.<tld>),
 *                      one address each               (port smtp_port)
 *   127.3.1.47-49      the special MX hosts mx-nostarttls, mx-wrongname,
 *                      mx-expired.<tld>               (port smtp_port)
 *   127.4.0.1-127.4.0.32  per-domain MX hosts (mx1.D, mx2.D, mx.eu.D),
 *                      DS_WORLD_OWN_MX_ADDRS addresses however many
 *                      domains (port smtp_port): the catalog assigns them
 *                      round robin, a host per address; a bulk world puts
 *                      the hosts of group g of domains (below) on
 *                      127.4.0.<g % 32 + 1>
 *   127.5.0.1          refused: nothing listens on any port (also the
 *                      glue of the dead name server of broken.<tld>)
 *   127.5.0.2          hang: a listener that accepts and never speaks
 *                      (started by world-up, not by nginx)
 *   127.5.0.3          plain HTTP on https_port: the TLS handshake fails
 *
 * MX hosts and Postfix.  One Postfix master serves every MX address, one
 * smtpd service (master.cf line "ADDR:smtp_port inet ... smtpd") per
 * address: 300 shared + 3 special + at most DS_WORLD_OWN_MX_ADDRS, so
 * about 335 listeners for any number of domains.  Postfix cannot serve a
 * range of addresses with one service (inet_interfaces must name
 * addresses configured on an interface, and 127.3/127.4 are only routed
 * to lo), and a service per per-domain host would mean ~200,000 services
 * in a million-domain world; hence per-domain hosts share 32 addresses.
 * Behaviours:
 *   starttls-valid  smtpd_tls_security_level=may.  A shared host is alone
 *                   on its address: its service serves its chain
 *                   (tls/certs/<host>.pem), SNI or not.  Per-domain hosts
 *                   share addresses: each address's service picks the
 *                   chain by SNI from its own table sni-own-<NN>.regexp
 *                   (tls_server_sni_maps; an smtpd loads every chain of
 *                   its table when it starts, so one table for all ~335
 *                   services would be loaded ~335 times).  The catalog has
 *                   a rule and a chain per host; a bulk world one rule per
 *                   group of 10^k domains (the smallest k >= 1 that makes
 *                   at most ~1,000 groups: ~200 hosts a group for a
 *                   million domains) whose chain, tls/certs/mx-own-g<N>.pem,
 *                   names all the group's per-domain MX hosts, so tables
 *                   and certificates stay small however many domains
 *                   there are.  Without SNI, an address holding one host
 *                   serves that host's chain, one holding several the
 *                   chain of mx.<tld> (Postfix's myhostname).
 *   no-starttls     smtpd_tls_security_level=none on that service.
 *   wrong-name      a valid chain for www.mx-wrongname.<tld>.
 *   expired         a chain for the right name that expired 30 days
 *                   before now.
 * Every leaf uses the shared leaf key; certificates are issued only for
 * hosts that serve TLS.  Postfix never accepts or delivers mail: the
 * sender, recipient, relay, data and ETRN restrictions reject, VRFY is
 * off, there is no cleanup, queue manager or delivery service in
 * master.cf, every transport is error:, and DNS is off for the SMTP and
 * LMTP clients and for smtpd's peer name lookups.  It is a STARTTLS
 * endpoint only.
 *
 * TLSA (RFC 7672): the two MX hosts of every 4th provider (provNNN with
 * NNN % 4 == 0) have "_25._tcp.<host> TLSA 3 1 1 <SHA-256 of the leaf
 * key's SubjectPublicKeyInfo>" (DANE-EE, the shared leaf key, so every
 * such record matches what Postfix serves), signed with the rest of the
 * zone by world-up.  The owner is always _25, whatever smtp_port is.
 *
 * Server behaviours (--behave; off by default, so the flat world is
 * byte-for-byte what it was).  Extra hosts, on extra addresses, with the
 * catalog rows behave-* (ds_world_catalog.c, kept last in the table):
 *   127.6.0.1-4        tenant MX hosts t<N>.mx.bigmail.<tld> (N: the
 *                      domain's index), N % 4 picks the address, one
 *                      wildcard certificate *.mx.bigmail.<tld> for them
 *                      all; each smtpd throttles each client (anvil):
 *                      at most DS_WORLD_ANVIL_COUNT connections at once
 *                      and DS_WORLD_ANVIL_RATE per anvil_rate_time_unit
 *                      (DS_WORLD_ANVIL_UNIT), localhost not exempt
 *                      (smtpd_client_event_limit_exceptions empty)
 *   127.6.0.10         mx-slowgreet.<tld>: greets DS_WORLD_GREET_DELAY
 *                      seconds after the connection (smtpd "sleep")
 *   127.6.1.1-2        one policy-host provider for the tenants' mta-sts
 *                      hosts: nginx limit_req (DS_WORLD_REQ_RATE r/s,
 *                      burst DS_WORLD_REQ_BURST) and limit_conn
 *                      (DS_WORLD_CONN_MAX), per client and address,
 *                      rejections (503) in nginx/logs/error.log
 *   fd53:7473::2:1     IPv6 policy hosts (AAAA only)
 *   fd53:7473::3:1     mx-v6.<tld> (AAAA only)
 * The IPv6 addresses are not on any interface by default: world-up
 * (scripts/lib/behave.sh) adds them to lo of the network namespace it
 * runs in, and world-down removes them.  The limits are far above what a
 * polite scan of the catalog needs (at most 7 MX names and 12 policy
 * hosts per address), so the truth is what a compliant scan concludes.
 *
 * Streaming: records are written as each domain is generated; memory does
 * not grow with the number of domains (a bulk world of 1,000,000 domains
 * needs a few MB; the largest buffer is the name list of one bulk MX
 * certificate group).
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
#define DS_WORLD_OWN_MX_ADDRS 32  /* 127.4.0.1-32: per-domain MX hosts */
#define DS_WORLD_TLSA_EVERY 4     /* providers with TLSA: p % 4 == 0 */
/* --behave (ds_world_behave.c): see "Server behaviours" below. */
#define DS_WORLD_TENANT_ADDRS 4   /* 127.6.0.1-4: tenant MX hosts */
#define DS_WORLD_ADDR_SLOWGREET "127.6.0.10"
#define DS_WORLD_PROVIDER_ADDRS 2 /* 127.6.1.1-2: the policy provider */
#define DS_WORLD_ADDR6_POLICY "fd53:7473::2:1"
#define DS_WORLD_ADDR6_MX "fd53:7473::3:1"
#define DS_WORLD_ADDR_MAX 48      /* an address as text, with its NUL */
#define DS_WORLD_TLD_MAX 63
#define DS_WORLD_DOMAINS_MAX 9999999u /* d<7 digits> */
#define DS_WORLD_ANVIL_COUNT 10   /* tenant smtpd: connections at once */
#define DS_WORLD_ANVIL_RATE 50    /* ... and per DS_WORLD_ANVIL_UNIT */
#define DS_WORLD_ANVIL_UNIT 10    /* seconds: anvil_rate_time_unit */
#define DS_WORLD_GREET_DELAY 3    /* seconds before mx-slowgreet's 220 */
#define DS_WORLD_REQ_RATE 20      /* provider: requests per second */
#define DS_WORLD_REQ_BURST 40     /* ... queued beyond the rate */
#define DS_WORLD_CONN_MAX 32      /* ... requests in progress at once */

struct ds_world_opts {
	const char *out_dir;   /* created if absent; must be writable */
	uint64_t n_domains;    /* 0: the catalog; else a bulk world */
	uint64_t seed;
	const char *tld;       /* one LDH label, e.g. "test" */
	time_t now;            /* clock for certificate validity windows */
	unsigned https_port;   /* nginx listen port, default 443 */
	unsigned dns_port;     /* NSD and Unbound port, default 53 */
	unsigned smtp_port;    /* Postfix listen port, default 25 */
	bool behave;           /* the server behaviours (ds_world_behave.c):
				* tenant MX hosts on few addresses with
				* Postfix anvil limits, a greet delay, a
				* rate-limited policy-host provider, IPv6
				* hosts, and their catalog rows */
};

/*
 * The scenario table.  Each row says how a domain is built and what a scan
 * must find.  Templates expand {d} (the domain), {t} (the tld), {p} (the
 * domain's provider, "provNNN.<tld>") and {id} (the record id).
 * TXT RR sets: RRs separated by '\n', character-strings of one RR by '|'.
 */
/* DS_STS_BROKEN: under broken.<tld>, delegated to a dead server.
 * DS_STS_DELEGATED: the domain is a zone cut of its own, delegated to the
 * world's NSD, which does not serve it (lame): NSD answers every name
 * below with the delegation, a referral (RFC 1034 §4.3.1), so a recursive
 * resolver fails (SERVFAIL) and a scan asking NSD directly
 * (--upstream-authoritative) must not read the referral as NODATA. */
enum ds_sts_how { DS_STS_DIRECT, DS_STS_CNAME, DS_STS_BROKEN,
		  DS_STS_DELEGATED };
enum ds_mx_kind {
	DS_MX_PROVIDER,   /* mx1/mx2.provNNN.<tld> */
	DS_MX_OWN,        /* mx1.D, mx2.D */
	DS_MX_OWN_DEEP,   /* mx.eu.D */
	DS_MX_NULL,       /* "0 ." (RFC 7505) */
	DS_MX_NONE,       /* no MX: the implicit MX is D itself */
	DS_MX_NOSTARTTLS, /* shared host offering no STARTTLS */
	DS_MX_WRONGNAME,  /* shared host with a certificate for another name */
	DS_MX_EXPIRED,    /* shared host with an expired certificate */
	/* --behave only (ds_world_behave.c): */
	DS_MX_TENANT,     /* t<N>.mx.bigmail.<tld> on 127.6.0.1-4, anvil */
	DS_MX_SLOWGREET,  /* mx-slowgreet.<tld>: greeting after a sleep */
	DS_MX_V6,         /* mx-v6.<tld>: AAAA only */
};
enum ds_ph_kind {
	DS_PH_NONE,       /* no mta-sts.D record, nothing served */
	DS_PH_SERVED,     /* A record, nginx server block */
	DS_PH_CNAME,      /* CNAME to pages.hosting.<tld>, served there */
	DS_PH_DANGLING,   /* CNAME to a name that does not exist */
	DS_PH_REFUSED,    /* A 127.5.0.1 */
	DS_PH_HANG,       /* A 127.5.0.2 */
	DS_PH_PLAIN,      /* A 127.5.0.3, plain HTTP: handshake fails */
	/* --behave only: */
	DS_PH_PROVIDER,   /* A 127.6.1.1-2: the rate-limited provider */
	DS_PH_V6,         /* AAAA only, served on an IPv6 address */
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
	const char *covered;       /* template: the MX hosts a pattern of the
				    * served body matches, space separated
				    * ("" none); NULL: not in the truth */
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
	uint8_t copies;            /* catalog: domains of this row, named
				    * <name>-NN (0: one, named <name>) */
};

/* The table: static, *n rows, without the --behave rows. */
const struct ds_scenario *ds_world_scenarios(size_t *n);

/* The same table with the --behave rows after the others (*n counts
 * both). */
const struct ds_scenario *ds_world_scenarios_behave(size_t *n);

/* Counters of one run, filled by ds_world_generate(). */
struct ds_world_stats {
	uint64_t n_domains;
	uint64_t n_policy_hosts;   /* server blocks */
	uint64_t n_certs;          /* leaf certificates issued, all hosts */
	uint64_t n_mx_own;         /* per-domain MX hosts */
	uint64_t n_mx_certs;       /* of n_certs: for MX hosts */
	uint64_t n_smtp_services;  /* smtpd listeners in master.cf */
	uint64_t n_tlsa;           /* MX hosts with a TLSA record */
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
