/*
 * rs_testutil.h - the scaffolding of the resolver's cmocka tests: a test
 * context (an event_base, two responders, a resolver and its config),
 * askers that record what their callback was given, and loop drivers with
 * a hard deadline, so no test hangs.
 *
 * Results are deep-copied in the callback (they are only valid during it)
 * and checked after the loop returns: no assertion runs inside libevent.
 * The functions here fail the running cmocka test themselves (they assert),
 * so they are only for use from a test body, setup or teardown.
 */
#ifndef RS_TESTUTIL_H
#define RS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs_resolver.h"
#include "rs_responder.h"
#include "rs_wire.h"

struct event_base;

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define DEADLINE_MS 3000  /* for anything that should take milliseconds */

/* One rs_rr of a result, deep-copied.  data is malloc'd, len + 1 bytes
 * with a NUL after len (NULL if that malloc failed); freed with the
 * askers. */
struct got_rr {
	uint32_t ttl;
	uint16_t type;
	uint16_t pref;
	size_t len;
	uint8_t *data;
};

struct tctx;

/* One rs_submit() and what its callback was given (deep copies of the
 * first call; later calls are only counted).  cname[] and rrs are
 * malloc'd by the callback and freed by askers_free(). */
struct asker {
	struct tctx *t;
	unsigned calls;
	bool in_submit;   /* a call came from within rs_submit() */
	bool nul_ok;      /* every rr's data was NUL-terminated after len */
	uint64_t t_done_us; /* on the rsp_now_us() clock */
	enum rs_status status;
	char qname[RS_NAME_MAX + 8];
	uint16_t qtype;
	int rcode;
	bool nodata, ad, truncated;
	bool ra, aa;
	char referral_zone[RS_NAME_MAX]; /* "" also when none: see has_ref */
	bool has_referral_zone;
	char *cname[RS_CNAME_MAX];
	size_t n_cname;   /* as reported, even beyond RS_CNAME_MAX */
	struct got_rr *rrs;
	size_t n_rrs;
	uint32_t min_ttl;
	int upstream;
	unsigned attempts;
	uint32_t latency_us;
	int local_errno;
	struct asker *follow;    /* submit this one from the callback */
	const char *follow_name; /* not owned: must outlive the callback */
	int follow_ret;          /* what that rs_submit() returned */
};

/*
 * A test's context: allocated by setup() and freed, with everything it
 * owns, by teardown().  cfg.upstreams[] point to rsp[].addr or to static
 * strings, never to owned memory.
 */
struct tctx {
	struct event_base *base; /* owned */
	struct responder rsp[2]; /* [0] the default upstream; [1] a spare,
				  * zeroed until a test starts it */
	struct rs_config cfg;    /* cfg for the next new_resolver() */
	struct rs_resolver *r;   /* owned; NULL until new_resolver() */
	struct asker *askers;    /* owned; from askers_new() */
	size_t n_askers;
	size_t n_cb;             /* callbacks so far, all askers */
	bool in_submit;
	bool deadline_hit;
	char zone[8192];         /* scratch for a long zone-format RR */
};

/* cmocka setup: a base, rsp[0] started on 127.0.0.1 and cfg the defaults
 * with rsp[0] as its only upstream; no resolver yet.  0, or -1 with
 * nothing left allocated. */
int setup(void **state);

/* cmocka teardown: the resolver first (its RS_CANCELLED callbacks write
 * to the askers), then the responders, the askers and the base. */
int teardown(void **state);

/* rs_submit() for a on t->r, noting whether the callback ran inside it.
 * name is not kept past the call.  What rs_submit() returned. */
int ask(struct tctx *t, struct asker *a, const char *name, uint16_t type,
	unsigned flags);

/* ask() with no flags, which must return ST_OK. */
void ask_ok(struct tctx *t, struct asker *a, const char *name,
	    uint16_t type);

/* n zeroed askers of t, owned by t until teardown; once per test. */
struct asker *askers_new(struct tctx *t, size_t n);

/* Free the askers and all their copies (teardown does it). */
void askers_free(struct tctx *t);

/* Replace t->r by a new resolver on t->cfg (the old one is freed, its
 * pending questions called back RS_CANCELLED).  Fails the test if
 * rs_resolver_new() does. */
void new_resolver(struct tctx *t);

/* ---- driving the loop ------------------------------------------------- */

/* A stop condition for run_loop(). */
typedef bool (*done_fn)(const struct tctx *t, size_t n);

bool cb_at_least(const struct tctx *t, size_t n);      /* t->n_cb */
bool queries_at_least(const struct tctx *t, size_t n); /* rsp[0].n_q */
bool answers_at_least(const struct tctx *t, size_t n); /* rsp[0].n_answers */

/* Run the loop until done(t, n) or ms have passed; true if done.  With no
 * done function, simply run for ms.  Either way, fails the test if a
 * responder counted an error of its own. */
bool run_loop(struct tctx *t, done_fn done, size_t n, unsigned ms);

/* Run until n callbacks in all, or fail the test after ms. */
void run_until_cb(struct tctx *t, size_t n, unsigned ms);

/* Run the loop for ms. */
void run_for(struct tctx *t, unsigned ms);

/* ---- checking --------------------------------------------------------- */

/* rs_resolver_stats() of t->r, into a struct first filled with 0xa5 so
 * that a field it leaves unwritten shows. */
struct rs_stats get_stats(const struct tctx *t);

/* drop_source + drop_id + drop_question + drop_malformed. */
uint64_t total_drops(const struct rs_stats *st);

/* The counters a test expects, compared by check_stats(): a field left
 * out of the initializer must be 0, ANY is not compared.  The up_* fields
 * are those of one upstream. */
#define ANY UINT64_MAX

struct want_stats {
	uint64_t submitted, coalesced, completed, timeouts;
	uint64_t drop_source, drop_id, drop_question, drop_malformed;
	uint64_t inflight, queued;
	uint64_t up_sent, up_answered, up_timeouts, up_servfail, up_dropped;
	uint64_t up_tcp;
};

/* Compare t's counters, and those of upstream up, with w; a mismatch
 * fails the test at file:line. */
void check_stats_at(const struct tctx *t, size_t up,
		    const struct want_stats *w, const char *file, int line);

#define check_stats(t, up, ...)                                           \
	check_stats_at((t), (up), &(struct want_stats){ __VA_ARGS__ },    \
		       __FILE__, __LINE__)

/* rr has this type, TTL and data (len bytes). */
void assert_rr(const struct got_rr *rr, uint16_t type, uint32_t ttl,
	       const void *data, size_t len);

/* a's rr with exactly these len bytes of data, or NULL.  Valid as long
 * as the askers. */
const struct got_rr *find_rr(const struct asker *a, const void *data,
			     size_t len);

/* One callback, RS_ANSWERED, from upstream 0 at the first attempt. */
void assert_answered_once(const struct asker *a);

#endif /* RS_TESTUTIL_H */
