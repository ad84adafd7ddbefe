/*
 * sc_cmd_scan.c - `stsmap scan`: inputs through the engine into the store,
 * resumably.
 *
 * Resume: a scan is identified by its input key, a SHA-256 over the
 * options that select and judge domains (format, shard, exclusion list,
 * --probe-mx, --dane, --fetch-all) and each input's real path, size and
 * modification time.  If the store's latest unfinished scan has the same
 * key, this run continues it: the input is read again from the start and
 * every domain whose result is already committed is skipped, so a scan
 * killed at any moment (even kill -9) loses at most the results not yet
 * flushed, and those are exactly the ones redone.  Counters of results are
 * committed in the same transaction as the results they count.
 *
 * Duplicates: a name is scanned once per scan.  Names in flight or done
 * but not yet flushed are in `seen`; older ones are found in the store.
 *
 * Threads (--threads N > 1, sc_threads.h): this loop stays the dealer and
 * the store's one writer; N engines on N threads of their own scan what
 * it deals and hand back encoded records (pump()).  Everything above
 * holds unchanged: only this thread reads `seen` and the store, so a name
 * is dealt once, and a result is in the store only once committed.  With
 * --threads 1 the engine runs on this loop, as before.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "an_json.h"
#include "an_record.h"
#include "ds_input.h"
#include "sc_source.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_progress.h"
#include "sc_engine.h"
#include "sc_scan_opts.h"
#include "sc_threads.h"
#include "st_error.h"
#include "st_hmap.h"

#define FLUSH_MS 500
#define SC_QUEUE_ITEMS 1024 /* input items read ahead of the loop */
/* Exit status of a scan that ended with domains it could not measure
 * (local or upstream faults after every retry); documented in README. */
#define SC_EXIT_UNMEASURED 3

struct scan_ctx {
	struct sc_scan_opts *o;
	struct ds_store *store;
	struct ds_exclude *exclude;
	uint32_t scan_id;
	struct ds_scan_info info;
	bool resumed;

	/* input */
	size_t input_i;                 /* index into o->inputs */
	struct sc_source *src;          /* the reader thread and its queue */
	bool inputs_done;               /* every input read to its end */
	char digest[SC_MAX_INPUTS][65];
	uint64_t lines[SC_MAX_INPUTS];

	/* names in flight or not yet flushed; keys are malloc'ed */
	struct st_hmap seen;
	char **unflushed;               /* completed since the last flush */
	uint8_t *rec_buf;               /* sink's encoding scratch (owned),
					 * AN_RECORD_ENCODED_MAX bytes */
	size_t n_unflushed, cap_unflushed;

	/* counters of this pass */
	uint64_t n_read, n_bad, n_excluded, n_other_shard, n_dup, n_skipped;
	uint64_t n_stored, n_probes;
	uint64_t n_flushes, flush_us;   /* store commits and their time */
	uint64_t t0_us, last_progress_us;
	uint64_t last_done;
	struct sc_engine *engine;       /* --threads 1 */
	/* --threads N > 1: the workers, the name dealt next (when every
	 * inbox was full; its key is in `seen`) */
	struct sc_pool *pool;
	unsigned threads;
	struct event_base *base;
	struct sc_item pending;
	bool have_pending, dealing_done, stopping, store_failed;
	struct sc_counters last;        /* the engine's, at its end */
	double cpu_workers_s, cpu_busiest_s; /* the workers' CPU, at the end */
	struct event *flush_ev, *progress_ev, *sigint_ev, *sigterm_ev;
	bool tty;
	int error;
	bool upstream_checked;          /* the start-up canary was asked */
	struct sc_upstream_checker *checker; /* opened before the run */
	struct sc_health_stats health;  /* the monitor's, at the end */
	bool upstream_stopped;          /* the monitor stopped the scan */
};

/* --- resume key and metadata --- */

static void input_key(const struct sc_scan_opts *o, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	char buf[PATH_MAX + 128];
	unsigned int hl = 0;

	out[0] = '\0';
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	snprintf(buf, sizeof(buf), "fmt=%d shard=%u/%u probe=%d dane=%d "
		 "fetchall=%d exclude=%s\n", (int)o->format, o->shard_i,
		 o->shard_n, o->cfg.probe_mx, o->cfg.dane, o->cfg.fetch_all,
		 o->exclude != NULL ? o->exclude : "");
	EVP_DigestUpdate(md, buf, strlen(buf));
	for (size_t i = 0; i < o->n_inputs; i++) {
		char rp[PATH_MAX];
		struct stat st = { 0 };

		if (strcmp(o->inputs[i], "-") == 0 ||
		    realpath(o->inputs[i], rp) == NULL)
			snprintf(rp, sizeof(rp), "%s", o->inputs[i]);
		stat(o->inputs[i], &st);
		snprintf(buf, sizeof(buf), "%s %lld %lld\n", rp,
			 (long long)st.st_size, (long long)st.st_mtime);
		EVP_DigestUpdate(md, buf, strlen(buf));
	}
	if (EVP_DigestFinal_ex(md, h, &hl) != 1)
		goto out;
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
out:
	EVP_MD_CTX_free(md);
}

/* The engine's counters, or the workers' summed; x->last after the run. */
static void scan_counters(const struct scan_ctx *x, struct sc_counters *c)
{
	*c = x->last;
	if (x->engine != NULL)
		sc_engine_counters(x->engine, c);
	else if (x->pool != NULL)
		sc_pool_counters(x->pool, c);
}

/* Stop the engine or every worker (a signal, a store error). */
static void scan_stop(struct scan_ctx *x)
{
	x->stopping = true;
	if (x->engine != NULL)
		sc_engine_stop(x->engine);
	else if (x->pool != NULL)
		sc_pool_stop(x->pool);
}

/* The faults of this pass, for the metadata: local and upstream errors,
 * retries, domains not measured (so far, while the engine runs). */
static void meta_faults(FILE *f, const struct scan_ctx *x)
{
	struct sc_counters c;

	scan_counters(x, &c);
	fprintf(f, ",\"local_errors\":%" PRIu64 ",\"upstream_errors\":%"
		PRIu64 ",\"retries\":%" PRIu64 ",\"unmeasured\":%" PRIu64,
		c.faults[SC_FAULT_LOCAL], c.faults[SC_FAULT_UPSTREAM],
		c.retries, c.unmeasured);
	/* The tail of the domains stored in this pass (issue 15). */
	fprintf(f, ",\"duration_ms\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64
		",\"max\":%" PRIu64 "}", sc_tail_quantile(&c.duration, 0.5),
		sc_tail_quantile(&c.duration, 0.99), c.duration.max_ms);
}

/* The scan's metadata as JSON, in a malloc'ed string. */
static char *meta_json(struct scan_ctx *x, bool final)
{
	const struct sc_scan_opts *o = x->o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	sc_meta_head(f, o->argc, o->argv);
	fputs(",\"resolvers\":[", f);
	for (size_t i = 0; i < o->cfg.n_resolvers; i++) {
		fputs(i > 0 ? "," : "", f);
		an_json_str(f, o->cfg.resolvers[i]);
	}
	fprintf(f, "],\"options\":{\"format\":\"%s\",\"qps\":%u,"
		"\"inflight\":%u,\"probe_mx\":%s,\"dane\":%s,"
		"\"fetch_all\":%s,\"allow_private\":%s,\"shard\":\"%u/%u\","
		"\"threads\":%u,\"exclude\":", ds_input_format_name(o->format),
		o->cfg.qps,
		o->cfg.inflight, o->cfg.probe_mx ? "true" : "false",
		o->cfg.dane ? "true" : "false",
		o->cfg.fetch_all ? "true" : "false",
		o->cfg.allow_private ? "true" : "false", o->shard_i,
		o->shard_n, x->threads);
	an_json_str(f, o->exclude);
	fputs("},\"inputs\":[", f);
	for (size_t i = 0; i < o->n_inputs; i++) {
		fprintf(f, "%s{\"path\":", i > 0 ? "," : "");
		an_json_str(f, o->inputs[i]);
		fprintf(f, ",\"lines\":%" PRIu64 ",\"sha256\":", x->lines[i]);
		an_json_str(f, final && x->digest[i][0] != '\0' ? x->digest[i]
								 : NULL);
		fputc('}', f);
	}
	fprintf(f, "],\"resumed\":%s,\"pass\":{\"read\":%" PRIu64
		",\"bad\":%" PRIu64 ",\"excluded\":%" PRIu64
		",\"other_shard\":%" PRIu64 ",\"duplicates\":%" PRIu64
		",\"already_done\":%" PRIu64 ",\"stored\":%" PRIu64
		",\"probes\":%" PRIu64 ",\"elapsed_s\":%.1f",
		x->resumed ? "true" : "false", x->n_read, x->n_bad,
		x->n_excluded, x->n_other_shard, x->n_dup, x->n_skipped,
		x->n_stored, x->n_probes, (double)(sc_now_us() - x->t0_us) / 1e6);
	meta_faults(f, x);
	fputs("}}", f);
	fclose(f);
	return buf;
}

/* --- the store side --- */

_Static_assert(DS_SCAN_INPUTS_MAX >= SC_MAX_INPUTS,
	       "the scan info holds every input's digest");

/* The typed fields of the scan info: the options that decide what is
 * measured, and the inputs' digests once read to their end (final).
 * The exclude path fits: a longer one than DS_SCAN_EXCLUDE_MAX - 1 could
 * not have been opened (PATH_MAX). */
static void info_fields(struct scan_ctx *x, bool final)
{
	const struct sc_scan_opts *o = x->o;

	x->info.have_options = true;
	x->info.format = (uint8_t)o->format;
	x->info.probe_mx = o->cfg.probe_mx;
	x->info.dane = o->cfg.dane;
	x->info.fetch_all = o->cfg.fetch_all;
	x->info.allow_private = o->cfg.allow_private;
	snprintf(x->info.exclude, sizeof(x->info.exclude), "%s",
		 o->exclude != NULL ? o->exclude : "");
	x->info.exclude_mixed = false;
	x->info.n_inputs = (uint32_t)o->n_inputs;
	for (size_t i = 0; i < o->n_inputs && i < DS_SCAN_INPUTS_MAX; i++)
		snprintf(x->info.input_sha256[i], DS_SCAN_DIGEST_LEN, "%s",
			 final ? x->digest[i] : "");
}

/* Put the scan's info (counters, metadata) into the batch and commit it
 * with the results it counts. */
static int commit_info(struct scan_ctx *x, bool final)
{
	char *meta = meta_json(x, final);
	int ret;

	info_fields(x, final);
	x->info.meta_json = meta;
	ret = ds_store_scan_update(x->store, &x->info);
	if (ret == ST_OK)
		ret = ds_store_flush(x->store);
	x->info.meta_json = NULL;
	free(meta);
	return ret;
}

static int flush(struct scan_ctx *x)
{
	uint64_t t0 = sc_now_us();
	int ret = commit_info(x, false);

	x->n_flushes++;
	x->flush_us += sc_now_us() - t0;
	if (ret != ST_OK)
		return ret;
	for (size_t i = 0; i < x->n_unflushed; i++) {
		st_hmap_del(&x->seen, x->unflushed[i]);
		free(x->unflushed[i]);
	}
	x->n_unflushed = 0;
	return ST_OK;
}

/* An encoded record into the batch, counted; its name leaves `seen`
 * once committed. */
static int store_result(struct scan_ctx *x, const char *domain,
			unsigned verdict, const uint8_t *buf, size_t len)
{
	char *key;
	int ret;

	ret = ds_store_put_result(x->store, x->scan_id, domain, buf, len);
	if (ret != ST_OK)
		return ret;
	x->n_stored++;
	x->info.n_results++;
	if (verdict < DS_SCAN_VERDICTS)
		x->info.verdicts[verdict]++;
	/* The name stays in `seen` until its result is committed. */
	key = st_hmap_get(&x->seen, domain);
	if (key == NULL)
		return ST_OK;
	if (x->n_unflushed == x->cap_unflushed) {
		size_t ncap = x->cap_unflushed ? x->cap_unflushed * 2 : 1024;
		char **nu = realloc(x->unflushed, ncap * sizeof(*nu));

		if (nu == NULL)
			return ST_ENOMEM;
		x->unflushed = nu;
		x->cap_unflushed = ncap;
	}
	x->unflushed[x->n_unflushed++] = key;
	if (x->n_unflushed >= x->o->batch)
		return flush(x);
	return ST_OK;
}

static int sink(void *arg, const struct sc_done *done)
{
	struct scan_ctx *x = arg;
	struct an_record copy;
	const struct an_record *rec = done->rec;
	size_t len = 0;
	uint8_t *buf;
	int ret = ST_OK;

	/* The store keys the body by its hash and hands the hash back: the
	 * record refers to the body by it (never stored without it). */
	if (rec->have_body && done->body == NULL)
		return ST_EINVAL;
	if (rec->have_body) {
		copy = *rec;
		ret = ds_store_put_body(x->store, done->body, done->body_len,
					copy.body_hash);
		rec = &copy;
	}
	if (ret != ST_OK)
		return ret;
	/* One buffer for the whole scan: a 256 KiB malloc and free per
	 * domain made glibc consolidate its free lists every time. */
	if (x->rec_buf == NULL)
		x->rec_buf = malloc(AN_RECORD_ENCODED_MAX);
	if (x->rec_buf == NULL)
		return ST_ENOMEM;
	buf = x->rec_buf;
	ret = an_record_encode(rec, buf, AN_RECORD_ENCODED_MAX, &len);
	if (ret == ST_OK)
		ret = store_result(x, rec->domain, (unsigned)rec->verdict, buf,
				   len);
	return ret;
}

static int probe_sink(void *arg, const struct an_probe_record *p)
{
	struct scan_ctx *x = arg;
	uint8_t buf[4096];
	size_t len = 0;
	int ret;

	ret = an_probe_record_encode(p, buf, sizeof(buf), &len);
	if (ret == ST_OK)
		ret = ds_store_put_probe(x->store, x->scan_id, p->host, buf,
					 len);
	if (ret == ST_OK)
		x->n_probes++;
	return ret;
}

/* --- the input side --- */

/* The reader's per-input lines and digests, for the scan metadata. */
static void input_info(struct scan_ctx *x)
{
	for (size_t i = 0; x->src != NULL && i < x->o->n_inputs; i++)
		sc_source_input_info(x->src, i, &x->lines[i], x->digest[i]);
}

static void pump(struct scan_ctx *x);

/* Items arrived after the source said "nothing yet" (on the loop). */
static void on_input_ready(void *arg)
{
	struct scan_ctx *x = arg;

	if (x->engine != NULL)
		sc_engine_source_ready(x->engine);
	else if (x->pool != NULL)
		pump(x);
}

/* Should this name be scanned now?  1 yes, 0 skip, <0 error. */
static int wanted(struct scan_ctx *x, const char *name)
{
	const struct sc_scan_opts *o = x->o;
	int ret;

	if (o->shard_n > 1 && ds_shard_of(name, o->shard_n) != o->shard_i) {
		x->n_other_shard++;
		return 0;
	}
	if (ds_exclude_match(x->exclude, name)) {
		x->n_excluded++;
		return 0;
	}
	if (st_hmap_get(&x->seen, name) != NULL) {
		x->n_dup++;
		return 0;
	}
	ret = ds_store_has_result(x->store, x->scan_id, name);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		x->n_skipped++;
		return 0;
	}
	return 1;
}

/*
 * Before the first domain is scanned: is the upstream alive, and does it
 * recurse (or did --upstream-authoritative say it need not)?  The canary
 * (sc_health.h) to each upstream.  Asked only when there is a domain to
 * scan, so an input of bad lines alone needs no resolver.  ST_OK, or
 * ST_EDNS after saying what is wrong.
 */
static int upstream_gate(struct scan_ctx *x)
{
	int ret;

	x->upstream_checked = true;
	ret = sc_upstream_gate(x->checker, &x->o->cfg, "scan");
	sc_upstream_checker_free(x->checker); /* its descriptors back */
	x->checker = NULL;
	return ret;
}

/* The engine's source: items from the reader thread's queue.  Bad lines
 * are stored here, on the loop, with the store's other writes. */
static int source(void *arg, struct sc_item *item)
{
	struct scan_ctx *x = arg;
	struct sc_source_item it;
	int ret;

	for (;;) {
		char *key;

		ret = sc_source_pop(x->src, &it);
		if (ret == SC_SOURCE_WAIT)
			return ret;
		if (ret < 0) {
			const char *why = sc_source_why(x->src);

			fprintf(stderr, "stsmap scan: %s: %s\n",
				x->o->inputs[sc_source_failed(x->src)],
				why[0] != '\0' ? why : st_strerror(ret));
			return ret;
		}
		if (ret == 0) {
			x->inputs_done = true;
			input_info(x);
			return 0;
		}
		x->input_i = it.input;
		x->n_read++;
		if (it.error != ST_OK) {
			x->n_bad++;
			ret = ds_store_put_input_error(x->store, x->scan_id,
						       it.input, it.line,
						       it.raw, it.why);
			if (ret != ST_OK)
				return ret;
			continue;
		}
		ret = wanted(x, it.domain);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		if (!x->upstream_checked) {
			ret = upstream_gate(x);
			if (ret != ST_OK)
				return ret;
		}
		key = strdup(it.domain);
		if (key == NULL || st_hmap_put(&x->seen, key, key) != ST_OK) {
			free(key);
			return ST_ENOMEM;
		}
		item->domain = key;
		item->rank = it.rank;
		return 1;
	}
}

/* --- --threads N: dealing to the workers, storing what they send --- */

/* One message of a worker into the batch. */
static int store_msg(struct scan_ctx *x, const struct sc_msg *m)
{
	uint8_t hash[DS_STORE_HASH_LEN];
	int ret;

	if (m->kind == SC_MSG_PROBE) {
		ret = ds_store_put_probe(x->store, x->scan_id, m->name, m->data,
					 m->len);
		if (ret == ST_OK)
			x->n_probes++;
		return ret;
	}
	if (m->body != NULL) {
		ret = ds_store_put_body(x->store, m->body, m->body_len, hash);
		if (ret != ST_OK)
			return ret;
		/* The worker encoded the record with the key it computed:
		 * the store must have kept the body under the same one. */
		if (memcmp(hash, m->body_hash, sizeof(hash)) != 0)
			return ST_ESTORE;
	}
	return store_result(x, m->name, m->verdict, m->data, m->len);
}

/* Deal names to the workers while they have room; at the end of the
 * input, tell them. */
static void deal(struct scan_ctx *x)
{
	while (!x->dealing_done && !x->stopping) {
		int ret;

		if (!x->have_pending) {
			ret = source(x, &x->pending);
			if (ret == SC_SOURCE_WAIT)
				return; /* on_input_ready() comes back */
			if (ret <= 0) {
				x->dealing_done = true;
				if (ret == 0) {
					sc_pool_input_done(x->pool);
					return;
				}
				x->error = ret;
				scan_stop(x);
				return;
			}
			x->have_pending = true;
		}
		if (sc_pool_push(x->pool, &x->pending) != ST_OK)
			return; /* every inbox full: the pool calls back */
		x->have_pending = false;
	}
}

/* The pool's call (sc_threads.h): store what the workers finished, deal
 * more, and end the loop once every worker ended and all is stored. */
static void pump(struct scan_ctx *x)
{
	struct st_list msgs;
	struct st_link *k;

	st_list_init(&msgs);
	sc_pool_take(x->pool, &msgs);
	while ((k = st_list_pop_front(&msgs)) != NULL) {
		struct sc_msg *m = ST_CONTAINER(k, struct sc_msg, link);
		/* After a signal the results that came in are still kept:
		 * each is a finished measurement. */
		int ret = x->store_failed ? ST_OK : store_msg(x, m);

		if (ret != ST_OK) {
			fprintf(stderr, "stsmap scan: store: %s\n",
				st_strerror(ret));
			x->store_failed = true;
			x->error = ret;
			scan_stop(x);
		}
		sc_pool_msg_free(m);
	}
	deal(x);
	if (sc_pool_finished(x->pool))
		event_base_loopbreak(x->base);
}

static void on_pool_ready(void *arg)
{
	pump(arg);
}

/* --- progress --- */

static void progress(struct scan_ctx *x, bool final)
{
	struct sc_counters c;
	uint64_t t = sc_now_us();
	double el = (double)(t - x->t0_us) / 1e6;
	double rate = el > 0 ? (double)x->n_stored / el : 0;
	uint64_t off = 0, size = 0;
	size_t cur = 0;
	char eta[32] = "?";

	if (x->src != NULL)
		sc_source_progress(x->src, &cur, &off, &size);
	scan_counters(x, &c);
	if (x->o->n_inputs == 1 && el > 1) {
		uint64_t done = x->n_read > c.inflight ? x->n_read - c.inflight : 0;
		double left = sc_eta_seconds(x->n_read, done, off, size, el);

		if (left >= 0)
			snprintf(eta, sizeof(eta), "%.0fs", left);
	}
	fprintf(stderr, "%sstsmap: %" PRIu64 " done (%.0f/s), %zu in flight, "
		"dns %.0f q/s, https %zu, errors %" PRIu64 ", eta %s%s",
		x->tty ? "\r\033[K" : "", x->info.n_results, rate, c.inflight,
		el > 0 ? (double)c.dns_sent / el : 0.0, c.https_inflight,
		x->n_bad + c.local_errors, eta,
		x->tty && !final ? "" : "\n");
	x->last_progress_us = t;
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct scan_ctx *x = arg;

	(void)fd;
	(void)what;
	if (x->tty || sc_now_us() - x->last_progress_us >= 5000000u)
		progress(x, false);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct scan_ctx *x = arg;
	int ret;

	(void)fd;
	(void)what;
	if (x->n_unflushed == 0)
		return;
	ret = flush(x);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap scan: store: %s\n", st_strerror(ret));
		x->error = ret;
		x->store_failed = true;
		scan_stop(x);
	}
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct scan_ctx *x = arg;

	(void)what;
	fprintf(stderr, "\nstsmap scan: %s: stopping; run the same command "
			"again to resume\n",
		fd == SIGINT ? "interrupted" : "terminated");
	x->error = ST_EAGAIN;
	scan_stop(x);
}

/* --- set-up, run, wrap-up --- */

/* Continue the latest unfinished scan with the same input key, or make a
 * new one. */
static int open_scan(struct scan_ctx *x)
{
	struct ds_reader *r = NULL;
	struct ds_scan_info latest;
	char key[65];
	char *meta;
	int ret;

	input_key(x->o, key);
	ret = ds_reader_open(x->store, &r);
	if (ret != ST_OK)
		return ret;
	ret = ds_reader_scan_latest(r, &latest);
	if (ret == ST_OK && !x->o->new_scan &&
	    latest.state == DS_SCAN_RUNNING &&
	    strcmp(latest.input_key, key) == 0) {
		x->info = latest;
		x->info.meta_json = NULL;
		x->scan_id = latest.id;
		x->resumed = true;
	}
	ds_reader_close(r);
	if (ret != ST_OK && ret != ST_ENOENT)
		return ret;
	if (x->resumed) {
		x->info.n_input_errors = 0; /* recounted by this pass */
		return ST_OK;
	}
	memset(&x->info, 0, sizeof(x->info));
	snprintf(x->info.label, sizeof(x->info.label), "%s",
		 x->o->label != NULL ? x->o->label : "");
	memcpy(x->info.input_key, key, sizeof(key));
	x->info.shard_index = x->o->shard_i;
	x->info.shard_count = x->o->shard_n;
	x->info.started = (int64_t)time(NULL);
	info_fields(x, false);
	meta = meta_json(x, false);
	x->info.meta_json = meta;
	ret = ds_store_scan_create(x->store, &x->info, &x->scan_id);
	x->info.meta_json = NULL;
	free(meta);
	x->info.id = x->scan_id;
	x->info.state = DS_SCAN_RUNNING;
	return ret;
}

static int add_events(struct scan_ctx *x, struct event_base *base)
{
	struct timeval fl = { 0, FLUSH_MS * 1000 }, pr = { 1, 0 };

	x->flush_ev = event_new(base, -1, EV_PERSIST, on_flush, x);
	x->progress_ev = event_new(base, -1, EV_PERSIST, on_progress, x);
	x->sigint_ev = evsignal_new(base, SIGINT, on_signal, x);
	x->sigterm_ev = evsignal_new(base, SIGTERM, on_signal, x);
	if (x->flush_ev == NULL || x->progress_ev == NULL ||
	    x->sigint_ev == NULL || x->sigterm_ev == NULL)
		return ST_ENOMEM;
	event_add(x->flush_ev, &fl);
	if (!x->o->quiet)
		event_add(x->progress_ev, &pr);
	event_add(x->sigint_ev, NULL);
	event_add(x->sigterm_ev, NULL);
	return ST_OK;
}

static void free_events(struct scan_ctx *x)
{
	struct event *ev[] = { x->flush_ev, x->progress_ev, x->sigint_ev,
			       x->sigterm_ev };

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (ev[i] != NULL)
			event_free(ev[i]);
	}
}

/* Final flush; mark the scan finished when everything was read. */
static int finish(struct scan_ctx *x, bool complete)
{
	if (complete) {
		x->info.state = DS_SCAN_FINISHED;
		x->info.finished = (int64_t)time(NULL);
	}
	x->info.n_input_errors = x->n_bad;
	return commit_info(x, complete);
}

/* Resident memory now, split as /proc reports it: anonymous (the heap:
 * what the scanner itself holds) and file-backed (mostly the store's
 * memory map, which the kernel can drop at will).  0 if unknown. */
static void rss_split(long *anon_kib, long *file_kib)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	*anon_kib = *file_kib = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "RssAnon:", 8) == 0)
			*anon_kib = strtol(line + 8, NULL, 10);
		else if (strncmp(line, "RssFile:", 8) == 0)
			*file_kib = strtol(line + 8, NULL, 10);
	}
	fclose(f);
}

/* The faults of the run: how many, retried, and what is left unmeasured
 * (those are not stored: the scan stays unfinished and a rerun resumes
 * it, measuring exactly them). */
static void summary_faults(const struct scan_ctx *x)
{
	const struct sc_counters *c = &x->last;

	fprintf(stderr, "  %" PRIu64 " local errors, %" PRIu64 " upstream "
		"errors, %" PRIu64 " retries", c->faults[SC_FAULT_LOCAL],
		c->faults[SC_FAULT_UPSTREAM], c->retries);
	if (c->unmeasured > 0)
		fprintf(stderr, "; %" PRIu64 " domains NOT MEASURED (not "
			"stored; run the same command again to measure "
			"them)", c->unmeasured);
	fputc('\n', stderr);
}

/* DNS pacing (rs_pace.h) and the retry passes (sc_engine.h). */
static void summary_pace(const struct scan_ctx *x)
{
	const struct sc_counters *c = &x->last;

	fprintf(stderr, "  dns pacing: window %u now, %u at the lowest, %"
		PRIu64 " backoffs, %" PRIu64 " delay cuts; %" PRIu64
		" retry passes, %" PRIu64 " domains retried, %" PRIu64
		" of them determined (%zu held at most, %" PRIu64 " passes "
		"begun early at the cap)\n",
		c->dns_window, c->dns_window_low, c->dns_backoffs,
		c->dns_delay_cuts, c->passes, c->pass_retries,
		c->pass_recovered, c->pass_held_peak, c->passes_early);
}

/* The upstream monitor's part (sc_health.h), when it had work. */
static void summary_upstream(const struct scan_ctx *x)
{
	const struct sc_health_stats *h = &x->health;

	if (h->outages == 0 && h->unvouched == 0)
		return;
	fprintf(stderr, "  upstream: %" PRIu64 " outages, %" PRIu64
		" canary questions, %" PRIu64 " timeouts without an answer "
		"meanwhile, %" PRIu64 " domains sent back for a retry\n",
		h->outages, h->canaries, h->unvouched, h->upstream_faults);
}

/* Where the CPU went, by thread (scripts/bench-scan reads this line):
 * the workers' part grows with the domains and spreads over the cores,
 * the loop's own (dealing, storing) does not spread. */
static void summary_threads(const struct scan_ctx *x)
{
	double self = sc_thread_cpu_s();

	if (x->threads <= 1) {
		fprintf(stderr, "  threads: 1, CPU %.2f s in the loop\n", self);
		return;
	}
	fprintf(stderr, "  threads: %u, CPU %.2f s in the workers (%.2f s "
		"the busiest), %.2f s in the dealer and writer\n", x->threads,
		x->cpu_workers_s, x->cpu_busiest_s, self);
}

static void summary(struct scan_ctx *x, bool complete)
{
	long anon, file;
	double el = (double)(sc_now_us() - x->t0_us) / 1e6;
	struct rusage ru;

	fprintf(stderr, "stsmap scan: scan %u %s: %" PRIu64 " results (%"
		PRIu64 " this run, %.0f/s), %" PRIu64 " bad input lines, %"
		PRIu64 " duplicates, %" PRIu64 " excluded, %.1f s\n",
		x->scan_id, complete ? "finished"
			    : x->last.unmeasured > 0 ? "incomplete (resumable)"
						     : "stopped (resumable)",
		x->info.n_results, x->n_stored,
		el > 0 ? (double)x->n_stored / el : 0.0, x->n_bad, x->n_dup,
		x->n_excluded, el);
	getrusage(RUSAGE_SELF, &ru);
	rss_split(&anon, &file);
	fprintf(stderr, "  dns %.0f q/s (%" PRIu64 " sent, %" PRIu64
		" timed out), fetched %" PRIu64 " policies (%" PRIu64
		" HTTP 200), %" PRIu64 " MX probes, %" PRIu64
		" store commits (%.1f s), peak RSS "
		"%ld MiB (at the end: %ld MiB anonymous, %ld MiB file-backed)\n",
		el > 0 ? (double)x->last.dns_sent / el : 0.0,
		x->last.dns_sent, x->last.dns_timeouts, x->last.fetches,
		x->last.fetch_ok, x->last.probes, x->n_flushes, (double)x->flush_us / 1e6, ru.ru_maxrss / 1024,
		anon / 1024, file / 1024);
	if (x->last.duration.n > 0)
		fprintf(stderr, "  domain duration: p50 %" PRIu64 " ms, p99 %"
			PRIu64 " ms, max %" PRIu64 " ms (%" PRIu64 " domains; "
			"p50 and p99 within 6.25%% above)\n",
			sc_tail_quantile(&x->last.duration, 0.5),
			sc_tail_quantile(&x->last.duration, 0.99),
			x->last.duration.max_ms, x->last.duration.n);
	summary_faults(x);
	summary_upstream(x);
	summary_threads(x);
	summary_pace(x);
	for (size_t v = 0; v < AN_V_COUNT; v++) {
		if (x->info.verdicts[v] > 0)
			fprintf(stderr, "  %-26s %" PRIu64 "\n",
				an_verdict_name((enum an_verdict)v),
				x->info.verdicts[v]);
	}
}

static void ctx_free(struct scan_ctx *x)
{
	const char *k;
	void *v;

	for (size_t i = 0; (i = st_hmap_next(&x->seen, i, &k, &v)) != 0;)
		free(v);
	st_hmap_free(&x->seen);
	free(x->unflushed);
	free(x->rec_buf);
	sc_source_free(x->src);
	ds_exclude_free(x->exclude);
	sc_upstream_checker_free(x->checker);
}

/* Did the upstream's monitor stop the scan?  Then say so, and keep what
 * was measured (ST_EAGAIN: flushed, resumable).  ret otherwise. */
static int upstream_stop(struct scan_ctx *x, int ret)
{
	char why[768];

	if (x->pool != NULL ? !sc_pool_stop_reason(x->pool, why, sizeof(why))
			    : !sc_engine_stop_reason(x->engine, why, sizeof(why)))
		return ret;
	fprintf(stderr, "\nstsmap scan: UPSTREAM DOWN: %s\n", why);
	x->upstream_stopped = true;
	return ret == ST_EDNS ? ST_EAGAIN : ret;
}

/* The engine on this loop (--threads 1), or the workers. */
static int engines_new(struct scan_ctx *x, struct event_base *base)
{
	x->base = base;
	if (x->threads <= 1)
		return sc_engine_new(base, &x->o->cfg, &x->engine);
	return sc_pool_new(base, &x->o->cfg, x->threads, on_pool_ready, x,
			   &x->pool);
}

/* Abandons what is still in flight. */
static void engines_free(struct scan_ctx *x)
{
	sc_engine_free(x->engine);
	x->engine = NULL;
	sc_pool_free(x->pool);
	x->pool = NULL;
}

static int engines_run(struct scan_ctx *x)
{
	if (x->engine != NULL)
		return sc_engine_run(x->engine);
	pump(x);
	if (!sc_pool_finished(x->pool) &&
	    event_base_dispatch(x->base) < 0 && x->error == ST_OK)
		x->error = ST_EUNKNOWN;
	return x->error != ST_OK ? x->error : sc_pool_error(x->pool);
}

static void engines_wrap_up(struct scan_ctx *x)
{
	scan_counters(x, &x->last);
	if (x->pool != NULL)
		sc_pool_cpu(x->pool, &x->cpu_workers_s, &x->cpu_busiest_s);
	if (x->engine != NULL)
		sc_engine_health_stats(x->engine, &x->health);
	else if (x->pool != NULL)
		sc_pool_health_stats(x->pool, &x->health);
}

static int run(struct scan_ctx *x, struct event_base *base)
{
	bool complete;
	int ret;

	/* The canary's sockets are opened now, with the engine's: asking
	 * at the first domain needs no new descriptor. */
	ret = sc_upstream_checker_new(&x->o->cfg, &x->checker);
	if (ret == ST_OK)
		ret = engines_new(x, base);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap scan: cannot start the scan engine: "
				"%s\n", st_strerror(ret));
		return ret;
	}
	ret = sc_source_new(base, (const char *const *)x->o->inputs,
			    x->o->n_inputs, x->o->format, SC_QUEUE_ITEMS,
			    on_input_ready, x, &x->src);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap scan: cannot start the input reader: "
				"%s\n", st_strerror(ret));
		engines_free(x);
		return ret;
	}
	if (x->engine != NULL) {
		sc_engine_set_source(x->engine, source, x);
		sc_engine_set_sink(x->engine, sink, x);
		sc_engine_set_probe_sink(x->engine, probe_sink, x);
	}
	ret = add_events(x, base);
	if (ret == ST_OK)
		ret = engines_run(x);
	if (x->error != ST_OK && ret == ST_OK)
		ret = x->error;
	ret = upstream_stop(x, ret);
	engines_wrap_up(x);
	/* A domain left unmeasured keeps the scan unfinished. */
	complete = ret == ST_OK && x->inputs_done && x->last.unmeasured == 0;
	input_info(x); /* the line counts so far, for the metadata */
	if (!x->o->quiet)
		progress(x, true);
	engines_free(x); /* abandons what is still in flight */
	/* On every path, errors included: the counters are committed in the
	 * same transaction as the last results they count (issue: a stopped
	 * scan's counter must equal its records). */
	{
		int fr = finish(x, complete);

		if (fr != ST_OK && (ret == ST_OK || ret == ST_EAGAIN))
			ret = fr;
	}
	summary(x, complete);
	free_events(x);
	return ret;
}

/*
 * RLIMIT_NOFILE: raise the soft limit to the hard one, then fit the
 * options to it (sc_config_fit_fds(), whose comment gives the budget),
 * for *threads engines, lowered first (to 1 at the least) while the
 * options as asked do not fit.  0 to go on; 1 when even one engine with
 * one fetch and one probe does not fit.
 */
static int fit_descriptors(struct sc_scan_opts *o, unsigned *threads)
{
	struct rlimit rl;
	struct sc_fd_budget b;
	unsigned n = *threads;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0; /* unknown: nothing to fit to */
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	/* Each engine has descriptors of its own: a low limit fits fewer
	 * engines with the options as asked (sc_threads_fit_limit()). */
	n = sc_threads_fit_limit(&o->cfg, (uint64_t)rl.rlim_cur, n);
	if (n != *threads) {
		fprintf(stderr, "stsmap scan: the descriptor limit "
			"(RLIMIT_NOFILE, ulimit -n) is %" PRIu64 ": %u threads "
			"instead of %u\n", (uint64_t)rl.rlim_cur, n, *threads);
		*threads = n;
	}
	if (sc_threads_fit_fds(&o->cfg, (uint64_t)rl.rlim_cur, n, &b) != ST_OK) {
		fprintf(stderr, "stsmap scan: the descriptor limit "
			"(RLIMIT_NOFILE, ulimit -n) is %" PRIu64 "; even "
			"--https-max 1%s needs %" PRIu64 ": raise the limit\n",
			b.limit, o->cfg.probe_mx ? " --smtp-max 1" : "",
			b.need);
		return 1;
	}
	if (!b.lowered)
		return 0;
	fprintf(stderr, "stsmap scan: the descriptor limit (RLIMIT_NOFILE, "
		"ulimit -n) is %" PRIu64 " and the options need %" PRIu64
		": --https-max %u -> %u", b.limit, b.need_asked, b.https_asked,
		o->cfg.https_max);
	if (o->cfg.probe_mx)
		fprintf(stderr, ", --smtp-max %u -> %u", b.smtp_asked,
			o->cfg.smtp_max);
	fprintf(stderr, " (%" PRIu64 " descriptors; raise the limit to scan "
		"faster)\n", b.need);
	return 0;
}

/* Every input can be read, so a typo never leaves an unfinished scan
 * behind: checked before the store is opened. */
static bool inputs_readable(const struct sc_scan_opts *o)
{
	char why[160];

	for (size_t i = 0; i < o->n_inputs; i++) {
		if (ds_input_check(o->inputs[i], why, sizeof(why)) != ST_OK) {
			fprintf(stderr, "stsmap scan: %s: %s\n", o->inputs[i],
				why);
			return false;
		}
	}
	return true;
}

/* The command line, for a second writer told who holds the store. */
static void owner_line(int argc, char **argv, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "stsmap scan");

	for (int i = 1; i < argc && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", argv[i]);
}

/* Open the store as its one writer: the lock is taken here, before any
 * scan record is read or the network is touched. */
static int store_open(struct scan_ctx *x, struct ds_store_opts *so,
		      int argc, char **argv)
{
	char owner[512], why[DS_STORE_WHY_MAX];
	int ret;

	owner_line(argc, argv, owner, sizeof(owner));
	so->owner = owner;
	ret = ds_store_open_why(x->o->db, so, &x->store, why, sizeof(why));
	if (ret != ST_OK)
		fprintf(stderr, "stsmap scan: --db %s: %s\n", x->o->db,
			why[0] != '\0' ? why : st_strerror(ret));
	return ret;
}

int sc_cmd_scan(int argc, char **argv)
{
	struct sc_scan_opts o;
	struct scan_ctx x;
	struct ds_store_opts so;
	struct event_base *base = NULL;
	unsigned threads;
	int ret;

	ret = sc_scan_opts_parse(argc, argv, SC_OPTS_SCAN, &o);
	if (ret != 0)
		return ret == 1 ? 0 : 2;
	threads = sc_threads_fit(o.threads, &o.cfg);
	if (fit_descriptors(&o, &threads) != 0)
		return 1;
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.threads = threads;
	x.tty = isatty(STDERR_FILENO) == 1;
	x.t0_us = x.last_progress_us = sc_now_us();
	st_hmap_init(&x.seen);
	if (!inputs_readable(&o)) {
		ctx_free(&x);
		return 2;
	}
	if (o.exclude != NULL) {
		struct ds_list_error le;

		/* An opt-out list is a promise: a line that cannot be read
		 * stops the scan before anything is stored. */
		ret = ds_exclude_load(o.exclude, &x.exclude, &le);
		if (ret != ST_OK) {
			if (le.line > 0)
				fprintf(stderr, "stsmap scan: --exclude %s:%llu: "
						"%s\n", o.exclude,
					(unsigned long long)le.line, le.why);
			else
				fprintf(stderr, "stsmap scan: --exclude %s: %s\n",
					o.exclude, le.why);
			ctx_free(&x);
			return ret == ST_ENOMEM ? 1 : 2;
		}
	}
	ds_store_opts_default(&so);
	so.batch_records = o.batch * 4 + 16; /* we flush; this is a backstop */
	so.log = &o.log;
	ret = store_open(&x, &so, argc, argv);
	if (ret != ST_OK)
		goto out;
	ret = open_scan(&x);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap scan: %s: %s\n", o.db,
			st_strerror(ret));
		goto out;
	}
	fprintf(stderr, "stsmap scan: %s scan %u in %s (%u thread%s)\n",
		x.resumed ? "resuming" : "starting", x.scan_id, o.db, x.threads,
		x.threads == 1 ? "" : "s");
	base = event_base_new();
	ret = base != NULL ? run(&x, base) : ST_ENOMEM;
out:
	ctx_free(&x);
	if (ds_store_close(x.store) != ST_OK && ret == ST_OK)
		ret = ST_ESTORE;
	if (base != NULL)
		event_base_free(base);
	if (x.upstream_stopped)
		return SC_EXIT_UNMEASURED;
	if (ret == ST_EAGAIN)
		return 130;
	if (ret == ST_OK && x.last.unmeasured > 0)
		return SC_EXIT_UNMEASURED;
	return ret == ST_OK ? 0 : 1;
}
