/*
 * sc_testutil.h - the scaffolding of the engine's in-process tests: a
 * scripted zone served by the resolver tests' DNS responder, the HTTPS and
 * SMTP peers of sc_testpeer.h, an engine (st_engine, sc_engine.h) on one
 * event_base with them, and what the engine handed out (records, probe
 * records, counters, the debug log of its transitions), copied for the
 * test to check after the loop returned.
 *
 * These functions assert nothing: they return ST_OK or an ST_* error, so
 * they also serve a forked child that reports back through a pipe.  No
 * global state.
 */
#ifndef SC_TESTUTIL_H
#define SC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rs_responder.h"
#include "sc_engine.h"
#include "sc_testpeer.h"

#define TE_MAX 256      /* records and probe records kept */
#define TE_DEADLINE_MS 10000

/* DNS types of the zone rows. */
#define TZ_A 1
#define TZ_MX 15
#define TZ_TXT 16
#define TZ_AAAA 28

/* One RRset of the scripted zone: name and type, and its RRs in zone
 * format ("@" is the name).  A name in no row is NXDOMAIN; a name with
 * rows, asked for a type it has none of, is NODATA.  The table ends with
 * a NULL name; strings are not owned. */
struct tz_row {
	const char *name;
	uint16_t type;
	const char *rrs[4];
};

/* A record the sink got, the parts the tests judge. */
struct te_rec {
	char name[128];
	uint8_t verdict;           /* enum an_verdict */
	uint8_t fetch_status;      /* enum an_fetch_status */
	uint16_t http_status;
	bool have_body;
	size_t n_findings;
	char findings[512];        /* codes, space separated */
	unsigned attempt_seen;     /* c.retries when it was sunk */
	unsigned attempts;         /* the record's attempts */
	uint8_t sts_dns;           /* enum an_dns_status of _mta-sts TXT */
};

struct te_probe {
	char host[128];
	uint8_t status;            /* enum an_probe_status */
};

struct te;
typedef void (*te_hook)(struct te *t);

struct te {
	struct event_base *base;
	struct responder rsp;      /* the upstream: serves zone */
	const struct tz_row *zone;
	unsigned dns_delay_ms;     /* every answer waits this long */
	/* The first drop_first queries for drop_name (any type) get no
	 * answer: a name whose servers are silent, then answer.  UINT_MAX:
	 * never answered.  NULL: none dropped. */
	const char *drop_name;
	unsigned drop_first;
	unsigned dropped;          /* read: queries dropped so far */
	/* Each name drop_once() picks gets no answer the first time it is
	 * asked (any type), then answers: many domains silent once.  At most
	 * TE_MAX names; NULL: none. */
	bool (*drop_once)(const char *qname);
	char dropped_once[TE_MAX][256];
	size_t n_dropped_once;
	struct tp_certs certs;
	struct tp_peer https, smtp;
	struct sc_config cfg;      /* defaults and the peers; edit before
				    * te_run() */
	struct sc_engine *e;       /* during te_run() */
	const char *const *names;  /* the input */
	size_t n_names, next;
	/* what came out */
	struct te_rec recs[TE_MAX];
	size_t n_recs;
	struct te_probe probes[TE_MAX];
	size_t n_probes;
	struct sc_counters c;      /* after the run */
	int run_ret;               /* what sc_engine_run() returned */
	bool deadline_hit;
	size_t inflight_at_pull_max; /* c.inflight whenever the source is
				      * asked, at most */
	uint64_t t_pull_us[TE_MAX]; /* when name i was pulled */
	char *log;                 /* the debug log of the run (malloc) */
	size_t log_len;
	/* hooks, from the loop (NULL: none) */
	te_hook on_pull;           /* before each pull from the source */
	te_hook on_sink;           /* after each record was copied */
	te_hook on_tick;           /* every 2 ms during the run */
	void *arg;                 /* the test's */
};

/* A base, the responder serving zone, the certificates for names (the
 * policy hosts and MX hosts the zone points to 127.0.0.1), the peers, and
 * cfg for them.  *out is freed by te_free().  ST_OK or an error. */
int te_new(const struct tz_row *zone, const char *const *cert_names,
	   size_t n_cert_names, struct te **out);
void te_free(struct te *t); /* NULL ok */

/* Scan names[0..n) with t->cfg: the engine made, run to its end (or
 * stopped at TE_DEADLINE_MS: deadline_hit), its counters copied, freed.
 * ST_OK when all of that worked, whatever sc_engine_run() returned (in
 * run_ret); an error of the set-up otherwise. */
int te_run(struct te *t, const char *const *names, size_t n);

/* The record of name, or NULL. */
const struct te_rec *te_rec(const struct te *t, const char *name);
/* How many probe records for host. */
size_t te_probe_count(const struct te *t, const char *host);
const struct te_probe *te_probe(const struct te *t, const char *host);

/* The states name went through, from the engine's debug log, as
 * "new dns ph-addr fetch probe done"; each attempt (a retry starts at
 * "new" again) after the first is set off by " | ".  "" if none. */
void te_path(const struct te *t, const char *name, char *buf, size_t len);

/* --- local faults: every descriptor taken (EMFILE) --- */

#define TE_FILL_LIMIT 512  /* the soft RLIMIT_NOFILE while filling */

struct te_fill {
	int fds[TE_FILL_LIMIT];
	size_t n;
	bool full;                 /* the last dup() failed with EMFILE */
};

/* Lower the soft RLIMIT_NOFILE to TE_FILL_LIMIT (for good: call it only
 * in a forked child, te_fork()) and take every descriptor left under it,
 * so the next socket() of this process fails with EMFILE. */
void te_fill(struct te_fill *f);
/* Give the descriptors back. */
void te_unfill(struct te_fill *f);

/* Run fn(arg, out) in a forked child, whose process-wide changes (a
 * lowered descriptor limit) die with it; the child sends *out (len
 * bytes) back through a pipe.  ST_OK when the child returned ST_OK and
 * out holds its result; ST_EIO otherwise (fork, pipe, a crash). */
typedef int (*te_child_fn)(void *arg, void *out);
int te_fork(te_child_fn fn, void *arg, void *out, size_t len);

#endif /* SC_TESTUTIL_H */
