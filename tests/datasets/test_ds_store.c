/*
 * test_ds_store.c - datasets/: the LMDB result store.
 *
 * Every test gets a fresh temporary directory (mkdtemp) holding one store
 * file and its lock file, removed afterwards.  Besides the API round trips
 * it checks what the scanner relies on: batches commit whole (a process
 * SIGKILLed mid-scan leaves every flushed batch and nothing of the open
 * one, counters agreeing with the results), the map grows on its own from
 * a tiny start, and another process reads consistent snapshots while the
 * scan writes and grows the map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <lmdb.h>

#include "ds_store.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIB ((uint64_t)1 << 20)

struct tmp {
	char dir[64];
	char path[128];
	char lock[140];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_ds_store.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/store.lmdb", t->dir);
	snprintf(t->lock, sizeof(t->lock), "%s-lock", t->path);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	unlink(t->lock);
	rmdir(t->dir);
	free(t);
	return 0;
}

static struct ds_store *open_store(const char *path, unsigned batch,
				   uint64_t map)
{
	struct ds_store_opts o;
	struct ds_store *s = NULL;

	ds_store_opts_default(&o);
	if (batch != 0)
		o.batch_records = batch;
	if (map != 0)
		o.initial_map = map;
	assert_int_equal(ds_store_open(path, &o, &s), ST_OK);
	assert_non_null(s);
	return s;
}

static uint32_t new_scan(struct ds_store *s, const char *label)
{
	struct ds_scan_info info;
	uint32_t id = 0;

	memset(&info, 0, sizeof(info));
	snprintf(info.label, sizeof(info.label), "%s", label);
	info.shard_count = 1;
	info.started = 1700000000;
	assert_int_equal(ds_store_scan_create(s, &info, &id), ST_OK);
	return id;
}

/* A value whose bytes say which record it is: "<tag>:<i>:" then filler. */
static size_t make_value(uint8_t *buf, size_t len, unsigned tag, unsigned i)
{
	int n = snprintf((char *)buf, len, "%u:%u:", tag, i);

	for (size_t j = (size_t)n; j < len; j++)
		buf[j] = (uint8_t)('a' + (i + j) % 26);
	return len;
}

static bool value_ok(const uint8_t *data, size_t len, size_t want_len,
		     unsigned tag, unsigned i)
{
	uint8_t buf[1024];

	if (len != want_len || want_len > sizeof(buf))
		return false;
	make_value(buf, want_len, tag, i);
	return memcmp(buf, data, len) == 0;
}

static void name_of(char *buf, size_t cap, unsigned i)
{
	snprintf(buf, cap, "d%08u.example", i);
}

/* Count a walk, checking names sorted and (optionally) values. */
struct walk {
	size_t n;
	char last[300];
	bool sorted;
	int stop_at;          /* return 7 at this record (1-based), 0 never */
	unsigned tag;         /* check values made with tag, 0 no check */
	size_t vlen;
	bool values_ok;
};

static int walk_cb(const char *name, size_t len, const uint8_t *data,
		   size_t dlen, void *arg)
{
	struct walk *w = arg;
	char cur[300];
	unsigned i;

	/* no cmocka assert here: forked children walk too */
	if (len == 0 || len >= sizeof(cur)) {
		w->values_ok = false;
		return 1;
	}
	memcpy(cur, name, len);
	cur[len] = '\0';
	if (w->n > 0 && strcmp(w->last, cur) >= 0)
		w->sorted = false;
	snprintf(w->last, sizeof(w->last), "%s", cur);
	w->n++;
	if (w->tag != 0 && (sscanf(cur, "d%08u", &i) != 1 ||
			    !value_ok(data, dlen, w->vlen, w->tag, i)))
		w->values_ok = false;
	if (w->stop_at != 0 && (size_t)w->stop_at == w->n)
		return 7;
	return 0;
}

static void walk_init(struct walk *w, unsigned tag, size_t vlen)
{
	memset(w, 0, sizeof(*w));
	w->sorted = true;
	w->values_ok = true;
	w->tag = tag;
	w->vlen = vlen;
}

/* ---- open ---- */

static void test_open_errors(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o;
	struct ds_store *s = (struct ds_store *)&o;
	char bad[200];
	FILE *f;

	ds_store_opts_default(&o);
	assert_int_equal(o.batch_records, 1000);
	assert_int_equal(o.initial_map, 64 * MIB);
	o.read_only = true;
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_ENOENT);
	assert_null(s);
	/* A writer in a directory that does not exist. */
	snprintf(bad, sizeof(bad), "%s/no/such/store.lmdb", t->dir);
	assert_int_equal(ds_store_open(bad, NULL, &s), ST_ENOENT);
	/* Not an LMDB file. */
	f = fopen(t->path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fputs("not a database ", f);
	fclose(f);
	assert_int_equal(ds_store_open(t->path, NULL, &s), ST_EPARSE);
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_EPARSE);
	assert_int_equal(ds_store_close(NULL), ST_OK);
	ds_reader_close(NULL);
}

static void test_read_only(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_reader *r;
	struct ds_scan_info info;
	const uint8_t *d;
	size_t len;
	uint32_t id = new_scan(s, "one");

	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"x", 1), ST_OK);
	assert_int_equal(ds_store_close(s), ST_OK);
	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_OK);
	/* close flushed the batch */
	assert_int_equal(ds_store_has_result(s, id, "a.example"), 1);
	assert_int_equal(ds_store_put_result(s, id, "b.example",
					     (const uint8_t *)"x", 1),
			 ST_EINVAL);
	memset(&info, 0, sizeof(info));
	assert_int_equal(ds_store_scan_create(s, &info, &id), ST_EINVAL);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len), ST_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(d, "x", 1);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* A store written by another format version is refused, not misread. */
static void test_format_version(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_store_opts o;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t v[4] = { 99, 0, 0, 0 };
	MDB_val k = { 6, (void *)"format" }, d = { 4, v };

	assert_int_equal(ds_store_close(s), ST_OK);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, t->path, MDB_NOSUBDIR, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(ds_store_open(t->path, NULL, &s), ST_ENOTSUP);
	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_ENOTSUP);
}

/* ---- scans ---- */

static void fill_info(struct ds_scan_info *info)
{
	memset(info, 0, sizeof(*info));
	/* the longest label and input key that fit */
	memset(info->label, 'L', DS_SCAN_LABEL_MAX - 1);
	memset(info->input_key, 'f', sizeof(info->input_key) - 1);
	info->shard_index = 3;
	info->shard_count = 8;
	info->started = -5;
	info->finished = INT64_MAX;
	info->n_input_errors = UINT64_MAX;
	for (unsigned i = 0; i < DS_SCAN_VERDICTS; i++)
		info->verdicts[i] = (uint64_t)i * 0x0101010101010101ull;
	info->meta_json = "{\"version\":\"0.1.0\",\"argv\":[\"scan\",\"x\"]}";
	/* the typed options and inputs, at their caps */
	info->have_options = true;
	info->format = 3; /* DS_FMT_ZONE */
	info->probe_mx = true;
	info->fetch_all = true;
	memset(info->exclude, 'e', sizeof(info->exclude) - 1);
	info->n_inputs = DS_SCAN_INPUTS_MAX;
	for (unsigned i = 0; i < DS_SCAN_INPUTS_MAX; i++)
		memset(info->input_sha256[i], "0a9f"[i % 4],
		       i % 5 == 4 ? 0 : DS_SCAN_DIGEST_LEN - 1);
	/* ignored by create */
	info->id = 77;
	info->state = DS_SCAN_FINISHED;
	info->n_results = 12;
}

static void assert_info_equal(const struct ds_scan_info *a,
			      const struct ds_scan_info *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->label, b->label);
	assert_string_equal(a->input_key, b->input_key);
	assert_int_equal(a->shard_index, b->shard_index);
	assert_int_equal(a->shard_count, b->shard_count);
	assert_true(a->started == b->started);
	assert_true(a->finished == b->finished);
	assert_true(a->n_results == b->n_results);
	assert_true(a->n_input_errors == b->n_input_errors);
	assert_memory_equal(a->verdicts, b->verdicts, sizeof(a->verdicts));
	assert_int_equal(a->have_options, b->have_options);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->probe_mx, b->probe_mx);
	assert_int_equal(a->dane, b->dane);
	assert_int_equal(a->fetch_all, b->fetch_all);
	assert_int_equal(a->allow_private, b->allow_private);
	assert_string_equal(a->exclude, b->exclude);
	assert_int_equal(a->exclude_mixed, b->exclude_mixed);
	assert_int_equal(a->n_inputs, b->n_inputs);
	for (uint32_t i = 0; i < a->n_inputs; i++)
		assert_string_equal(a->input_sha256[i], b->input_sha256[i]);
	if (a->meta_json == NULL || b->meta_json == NULL)
		assert_ptr_equal(a->meta_json, b->meta_json);
	else
		assert_string_equal(a->meta_json, b->meta_json);
}

struct ids {
	uint32_t id[8];
	size_t n;
};

static int scans_cb(const struct ds_scan_info *info, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ARRAY_LEN(ids->id))
		return 5;
	ids->id[ids->n++] = info->id;
	return 0;
}

static void test_scan_create(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_scan_info in, out;
	struct ds_reader *r;
	struct ids ids = { { 0 }, 0 };
	char meta[4096];
	uint32_t id1, id2, id3;

	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan_latest(r, &out), ST_ENOENT);
	assert_int_equal(ds_reader_scan(r, 1, &out), ST_ENOENT);
	assert_int_equal(ds_reader_scans(r, scans_cb, &ids), ST_OK);
	assert_int_equal(ids.n, 0);
	ds_reader_close(r);

	fill_info(&in);
	assert_int_equal(ds_store_scan_create(s, &in, &id1), ST_OK);
	assert_int_equal(id1, 1);
	in.meta_json = NULL;
	in.label[0] = '\0';
	assert_int_equal(ds_store_scan_create(s, &in, &id2), ST_OK);
	assert_int_equal(id2, 2);
	/* created at once: no flush, nothing in the batch */
	assert_int_equal(ds_store_batch_size(s), 0);
	assert_int_equal(ds_store_close(s), ST_OK);

	/* ids go on increasing across opens */
	s = open_store(t->path, 0, 0);
	memset(meta, 'j', sizeof(meta) - 1);
	meta[sizeof(meta) - 1] = '\0';
	in.meta_json = meta;
	assert_int_equal(ds_store_scan_create(s, &in, &id3), ST_OK);
	assert_int_equal(id3, 3);

	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	fill_info(&in);
	in.id = 1;
	in.state = DS_SCAN_RUNNING;
	in.n_results = 0;
	assert_int_equal(ds_reader_scan(r, 1, &out), ST_OK);
	assert_info_equal(&out, &in);
	in.id = 2;
	in.meta_json = NULL;
	in.label[0] = '\0';
	assert_int_equal(ds_reader_scan(r, 2, &out), ST_OK);
	assert_info_equal(&out, &in);
	assert_int_equal(ds_reader_scan_latest(r, &out), ST_OK);
	assert_int_equal(out.id, 3);
	assert_string_equal(out.meta_json, meta);
	assert_int_equal(ds_reader_scan(r, 4, &out), ST_ENOENT);
	assert_int_equal(ds_reader_scans(r, scans_cb, &ids), ST_OK);
	assert_int_equal(ids.n, 3);
	assert_int_equal(ids.id[0], 1);
	assert_int_equal(ids.id[1], 2);
	assert_int_equal(ids.id[2], 3);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_scan_update(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_scan_info in, out;
	struct ds_reader *r;
	uint32_t id;

	fill_info(&in);
	assert_int_equal(ds_store_scan_create(s, &in, &id), ST_OK);
	in.id = id;
	in.state = DS_SCAN_FINISHED;
	in.n_results = 1;
	in.finished = 1700003600;
	in.meta_json = "{}";
	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"r", 1), ST_OK);
	assert_int_equal(ds_store_scan_update(s, &in), ST_OK);
	assert_int_equal(ds_store_batch_size(s), 2);

	/* batched: the committed info is the old one until the flush */
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id, &out), ST_OK);
	assert_int_equal(out.state, DS_SCAN_RUNNING);
	assert_int_equal(out.n_results, 0);
	ds_reader_close(r);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id, &out), ST_OK);
	assert_info_equal(&out, &in);
	ds_reader_close(r);

	in.id = id + 1;
	assert_int_equal(ds_store_scan_update(s, &in), ST_ENOENT);
	in.id = id;
	memset(in.label, 'x', sizeof(in.label)); /* not terminated */
	assert_int_equal(ds_store_scan_update(s, &in), ST_EINVAL);
	assert_int_equal(ds_store_scan_create(s, &in, &id), ST_EINVAL);
	assert_int_equal(ds_store_batch_size(s), 0);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* ---- results, probes, bodies ---- */

static void test_put_flush_get(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_store_stats st;
	struct ds_reader *r;
	const uint8_t *d;
	uint8_t v[600], hash[DS_STORE_HASH_LEN];
	char big[DS_STORE_NAME_MAX + 2];
	size_t len;
	uint32_t id = new_scan(s, "x");

	make_value(v, sizeof(v), 1, 1);
	assert_int_equal(ds_store_put_result(s, id, "a.example", v, sizeof(v)),
			 ST_OK);
	assert_int_equal(ds_store_put_result(s, id, "b.example", v, 0), ST_OK);
	assert_int_equal(ds_store_batch_size(s), 2);
	/* not committed yet */
	assert_int_equal(ds_store_has_result(s, id, "a.example"), 0);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len),
			 ST_ENOENT);
	ds_reader_close(r);

	ds_store_stats(s, &st);
	assert_int_equal(st.commits, 2); /* the open, the scan */
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK); /* empty */
	ds_store_stats(s, &st);
	assert_int_equal(st.commits, 3);
	assert_int_equal(st.map_size, 64 * MIB);
	assert_true(st.used > 0 && st.used < st.map_size);
	assert_int_equal(ds_store_batch_size(s), 0);
	assert_int_equal(ds_store_has_result(s, id, "a.example"), 1);
	assert_int_equal(ds_store_has_result(s, id, "b.example"), 1);
	assert_int_equal(ds_store_has_result(s, id, "c.example"), 0);
	assert_int_equal(ds_store_has_result(s, id + 1, "a.example"), 0);

	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len), ST_OK);
	assert_true(value_ok(d, len, sizeof(v), 1, 1));
	assert_int_equal(ds_reader_result(r, id, "b.example", &d, &len), ST_OK);
	assert_int_equal(len, 0);
	assert_int_equal(ds_reader_result(r, id, "c.example", &d, &len),
			 ST_ENOENT);
	assert_int_equal(ds_reader_result(r, id, "", &d, &len), ST_EINVAL);
	ds_reader_close(r);

	/* bad arguments change nothing */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ds_store_put_result(s, id, "", v, 1), ST_EINVAL);
	assert_int_equal(ds_store_put_result(s, id, NULL, v, 1), ST_EINVAL);
	assert_int_equal(ds_store_put_result(s, id, "a", NULL, 1), ST_EINVAL);
	assert_int_equal(ds_store_put_result(s, id, big, v, 1), ST_EINVAL);
	big[DS_STORE_NAME_MAX] = '\0'; /* the longest name is fine */
	assert_int_equal(ds_store_put_result(s, id, big, v, 1), ST_OK);
	assert_int_equal(ds_store_put_result(s, id, "a", v,
					     DS_STORE_VALUE_MAX + 1),
			 ST_ETOOBIG);
	assert_int_equal(ds_store_put_probe(s, id, "", v, 1), ST_EINVAL);
	assert_int_equal(ds_store_put_body(s, NULL, 1, hash), ST_EINVAL);
	assert_int_equal(ds_store_put_body(s, v, 1, NULL), ST_EINVAL);
	assert_int_equal(ds_store_has_result(s, id, ""), ST_EINVAL);
	assert_int_equal(ds_store_batch_size(s), 1);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_auto_flush(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 10, 0);
	struct ds_store_stats st0, st;
	char name[64];
	uint8_t hash[DS_STORE_HASH_LEN];
	uint32_t id = new_scan(s, "x");

	ds_store_stats(s, &st0);
	for (unsigned i = 0; i < 8; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(ds_store_put_result(s, id, name,
						     (const uint8_t *)"v", 1),
				 ST_OK);
	}
	/* every kind of record counts */
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"b", 1, hash),
			 ST_OK);
	assert_int_equal(ds_store_batch_size(s), 9);
	ds_store_stats(s, &st);
	assert_int_equal(st.commits, st0.commits);
	assert_int_equal(ds_store_has_result(s, id, "d00000000.example"), 0);
	assert_int_equal(ds_store_put_probe(s, id, "mx.example",
					    (const uint8_t *)"p", 1), ST_OK);
	assert_int_equal(ds_store_batch_size(s), 0);
	ds_store_stats(s, &st);
	assert_int_equal(st.commits, st0.commits + 1);
	assert_int_equal(ds_store_has_result(s, id, "d00000000.example"), 1);
	assert_int_equal(ds_store_has_result(s, id, "d00000007.example"), 1);

	/* 25 more: two automatic flushes, 5 left */
	for (unsigned i = 100; i < 125; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(ds_store_put_result(s, id, name,
						     (const uint8_t *)"v", 1),
				 ST_OK);
	}
	assert_int_equal(ds_store_batch_size(s), 5);
	ds_store_stats(s, &st);
	assert_int_equal(st.commits, st0.commits + 3);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_last_value_wins(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_reader *r;
	struct walk w;
	const uint8_t *d;
	size_t len;
	uint32_t id = new_scan(s, "x");

	/* twice in one batch */
	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"first", 5),
			 ST_OK);
	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"second", 6),
			 ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len), ST_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "second", 6);
	ds_reader_close(r);
	/* again in a later batch (a resumed scan redoing the domain) */
	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"3", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len), ST_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(d, "3", 1);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void hex32(const uint8_t h[DS_STORE_HASH_LEN], char out[65])
{
	for (size_t i = 0; i < DS_STORE_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Bodies are content-addressed: the store computes the SHA-256 key
 * (issue 13 item 8b: the store, not the engine, hashes the body). */
static void test_body_hash(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_reader *r;
	uint8_t h[DS_STORE_HASH_LEN], h2[DS_STORE_HASH_LEN];
	char hex[65];
	const uint8_t *d;
	size_t len;

	/* FIPS 180-2 test vectors: "abc" and the empty message */
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"abc", 3, h),
			 ST_OK);
	hex32(h, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(ds_store_body_hash((const uint8_t *)"abc", 3, h2),
			 ST_OK);
	assert_memory_equal(h, h2, sizeof(h));
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"", 0, h2),
			 ST_OK);
	hex32(h2, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	assert_int_equal(ds_store_body_hash(NULL, 0, h2), ST_EINVAL);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_body(r, h, &d, &len), ST_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(d, "abc", 3);
	ds_reader_close(r);
	/* a body over the value cap is refused before any hashing */
	memset(h, 0x5a, sizeof(h));
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"x",
					   DS_STORE_VALUE_MAX + 1, h),
			 ST_ETOOBIG);
	assert_int_equal(h[0], 0x5a);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_bodies_once(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_reader *r;
	uint8_t h1[DS_STORE_HASH_LEN], h2[DS_STORE_HASH_LEN];
	uint8_t hx[DS_STORE_HASH_LEN], hs[300][DS_STORE_HASH_LEN];
	uint8_t body[8];
	const uint8_t *d;
	size_t len;
	const char *b1 = "version: STSv1\nmode: enforce\n";

	assert_int_equal(ds_store_put_body(s, (const uint8_t *)b1, strlen(b1),
					   h1), ST_OK);
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)b1, strlen(b1),
					   hx), ST_OK);
	assert_memory_equal(h1, hx, sizeof(h1));
	assert_int_equal(ds_store_batch_size(s), 1);
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"two", 3, h2),
			 ST_OK);
	assert_memory_not_equal(h1, h2, sizeof(h1));
	assert_int_equal(ds_store_batch_size(s), 2);
	assert_int_equal(ds_store_flush(s), ST_OK);
	/* committed: the same body again costs nothing */
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)b1, strlen(b1),
					   hx), ST_OK);
	assert_memory_equal(h1, hx, sizeof(h1));
	assert_int_equal(ds_store_batch_size(s), 0);
	/* many bodies: the batch's set grows and still finds them all */
	for (unsigned i = 0; i < 300; i++) {
		snprintf((char *)body, sizeof(body), "b%05u", i);
		assert_int_equal(ds_store_put_body(s, body, 6, hs[i]), ST_OK);
		assert_int_equal(ds_store_put_body(s, body, 6, hx), ST_OK);
		assert_memory_equal(hs[i], hx, sizeof(hx));
	}
	assert_int_equal(ds_store_batch_size(s), 300);
	assert_int_equal(ds_store_flush(s), ST_OK);

	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_body(r, h1, &d, &len), ST_OK);
	assert_int_equal(len, strlen(b1));
	assert_memory_equal(d, b1, len);
	assert_int_equal(ds_reader_body(r, h2, &d, &len), ST_OK);
	assert_int_equal(len, 3);
	assert_int_equal(ds_reader_body(r, hs[299], &d, &len), ST_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "b00299", len);
	hx[0] ^= 1; /* no such body */
	assert_int_equal(ds_reader_body(r, hx, &d, &len), ST_ENOENT);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_probes(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	uint32_t a = new_scan(s, "a"), b = new_scan(s, "b");
	struct ds_reader *r;
	struct walk w;
	const uint8_t *d;
	size_t len;

	assert_int_equal(ds_store_put_probe(s, b, "mx2.example",
					    (const uint8_t *)"b2", 2), ST_OK);
	assert_int_equal(ds_store_put_probe(s, a, "mx1.example",
					    (const uint8_t *)"a1", 2), ST_OK);
	assert_int_equal(ds_store_put_probe(s, b, "mx1.example",
					    (const uint8_t *)"b1", 2), ST_OK);
	/* a result of the same name is another record */
	assert_int_equal(ds_store_put_result(s, b, "mx1.example",
					     (const uint8_t *)"r", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_probe(r, b, "mx1.example", &d, &len), ST_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(d, "b1", 2);
	assert_int_equal(ds_reader_probe(r, a, "mx2.example", &d, &len),
			 ST_ENOENT);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_probes(r, b, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 2);
	assert_true(w.sorted);
	assert_string_equal(w.last, "mx2.example");
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_probes(r, a, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 1);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r, b, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 1);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

struct in_err {
	uint32_t input;
	uint64_t line;
	char raw[32];
	char why[32];
};

struct in_errs {
	struct in_err e[8];
	size_t n;
};

static int input_cb(uint32_t input, uint64_t line, const char *raw,
		    const char *why, void *arg)
{
	struct in_errs *x = arg;

	if (x->n == ARRAY_LEN(x->e))
		return 9;
	x->e[x->n].input = input;
	x->e[x->n].line = line;
	snprintf(x->e[x->n].raw, sizeof(x->e[x->n].raw), "%s", raw);
	snprintf(x->e[x->n].why, sizeof(x->e[x->n].why), "%s", why);
	x->n++;
	return 0;
}

static void test_input_errors(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	uint32_t a = new_scan(s, "a"), b = new_scan(s, "b");
	struct ds_store_opts o;
	struct ds_reader *r;
	struct in_errs x;

	assert_int_equal(ds_store_put_input_error(s, a, 1, 7, "bad name",
						  "syntax"), ST_OK);
	assert_int_equal(ds_store_put_input_error(s, a, 0, (uint64_t)1 << 40,
						  "x..y", "empty label"),
			 ST_OK);
	assert_int_equal(ds_store_put_input_error(s, a, 0, 3, NULL, "first"),
			 ST_OK);
	assert_int_equal(ds_store_put_input_error(s, b, 0, 1, "b", ""), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	/* the same line again (a resumed scan) keeps one record, the last */
	assert_int_equal(ds_store_put_input_error(s, a, 0, 3, "again", "dup"),
			 ST_OK);
	assert_int_equal(ds_store_batch_size(s), 1);
	assert_int_equal(ds_store_close(s), ST_OK);

	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_OK);
	assert_int_equal(ds_store_put_input_error(s, a, 0, 9, "r", "w"),
			 ST_EINVAL);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	memset(&x, 0, sizeof(x));
	assert_int_equal(ds_reader_input_errors(r, a, input_cb, &x), ST_OK);
	/* in (input, line) order */
	assert_int_equal(x.n, 3);
	assert_int_equal(x.e[0].input, 0);
	assert_int_equal(x.e[0].line, 3);
	assert_string_equal(x.e[0].raw, "again");
	assert_string_equal(x.e[0].why, "dup");
	assert_int_equal(x.e[1].input, 0);
	assert_true(x.e[1].line == (uint64_t)1 << 40);
	assert_string_equal(x.e[1].raw, "x..y");
	assert_string_equal(x.e[1].why, "empty label");
	assert_int_equal(x.e[2].input, 1);
	assert_int_equal(x.e[2].line, 7);
	assert_string_equal(x.e[2].raw, "bad name");
	memset(&x, 0, sizeof(x));
	assert_int_equal(ds_reader_input_errors(r, b, input_cb, &x), ST_OK);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.e[0].raw, "b");
	assert_string_equal(x.e[0].why, "");
	memset(&x, 0, sizeof(x));
	assert_int_equal(ds_reader_input_errors(r, b + 1, input_cb, &x), ST_OK);
	assert_int_equal(x.n, 0);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* Two scans written interleaved, in no order: each walk is one scan's
 * records, sorted by name. */
static void test_walk_two_scans(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 100, 0);
	uint32_t a = new_scan(s, "a"), b = new_scan(s, "b");
	uint32_t c = new_scan(s, "empty");
	struct ds_reader *r;
	struct walk w;
	uint8_t v[64];
	char name[64];
	const unsigned n = 1000;

	for (unsigned k = 0; k < n; k++) {
		unsigned i = (k * 7919u) % n; /* a permutation of 0..n-1 */

		name_of(name, sizeof(name), i);
		make_value(v, sizeof(v), a, i);
		assert_int_equal(ds_store_put_result(s, a, name, v, sizeof(v)),
				 ST_OK);
		if (i % 2 == 0) {
			make_value(v, sizeof(v), b, i);
			assert_int_equal(ds_store_put_result(s, b, name, v,
							     sizeof(v)), ST_OK);
		}
	}
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	walk_init(&w, a, sizeof(v));
	assert_int_equal(ds_reader_results(r, a, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, n);
	assert_true(w.sorted);
	assert_true(w.values_ok);
	walk_init(&w, b, sizeof(v));
	assert_int_equal(ds_reader_results(r, b, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, n / 2);
	assert_true(w.sorted);
	assert_true(w.values_ok);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r, c, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 0);
	assert_int_equal(ds_reader_results(r, 0, walk_cb, &w), ST_OK);
	assert_int_equal(ds_reader_results(r, UINT32_MAX, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 0);
	/* a callback's non-zero return stops the walk and is returned */
	walk_init(&w, 0, 0);
	w.stop_at = 3;
	assert_int_equal(ds_reader_results(r, a, walk_cb, &w), 7);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.last, "d00000002.example");
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* ---- snapshots and the map ---- */

static void test_reader_snapshot(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	uint32_t id = new_scan(s, "x");
	struct ds_reader *r1, *r2;
	struct walk w;
	const uint8_t *d;
	size_t len;

	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"old", 3), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r1), ST_OK);
	assert_int_equal(ds_store_put_result(s, id, "a.example",
					     (const uint8_t *)"new", 3), ST_OK);
	assert_int_equal(ds_store_put_result(s, id, "b.example",
					     (const uint8_t *)"b", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r2), ST_OK);

	assert_int_equal(ds_reader_result(r1, id, "a.example", &d, &len), ST_OK);
	assert_memory_equal(d, "old", 3);
	assert_int_equal(ds_reader_result(r1, id, "b.example", &d, &len),
			 ST_ENOENT);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r1, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(ds_reader_result(r2, id, "a.example", &d, &len), ST_OK);
	assert_memory_equal(d, "new", 3);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r2, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 2);
	ds_reader_close(r1);
	ds_reader_close(r2);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* From a 1 MiB map to ~40 MiB of results: no put is lost to a full map. */
/* "Is it committed?" takes one snapshot per commit, not one per lookup
 * (a renewal was most of has_result's cost, once per domain), and still
 * sees every commit at once, also after a reader or a map growth. */
static void test_has_result_snapshot_per_commit(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	struct ds_store_stats st0, st;
	struct ds_reader *r;
	uint8_t v[64];
	char name[64];
	uint32_t id = new_scan(s, "x");

	make_value(v, sizeof(v), 1, 1);
	assert_int_equal(ds_store_put_result(s, id, "a.example", v, sizeof(v)),
			 ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	ds_store_stats(s, &st0);
	for (unsigned i = 0; i < 1000; i++) {
		name_of(name, sizeof(name), i);
		assert_int_equal(ds_store_has_result(s, id, name), 0);
		assert_int_equal(ds_store_has_result(s, id, "a.example"), 1);
	}
	ds_store_stats(s, &st);
	assert_int_equal(st.read_renews - st0.read_renews, 1);
	/* a commit is seen by the next lookup */
	assert_int_equal(ds_store_put_result(s, id, "b.example", v, sizeof(v)),
			 ST_OK);
	assert_int_equal(ds_store_has_result(s, id, "b.example"), 0);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_store_has_result(s, id, "b.example"), 1);
	ds_store_stats(s, &st);
	assert_int_equal(st.read_renews - st0.read_renews, 2);
	/* a reader opened and closed between lookups changes nothing */
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	ds_reader_close(r);
	assert_int_equal(ds_store_has_result(s, id, "a.example"), 1);
	assert_int_equal(ds_store_has_result(s, id, "c.example"), 0);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static void test_map_growth(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, MIB);
	struct ds_store_stats st;
	struct ds_reader *r;
	struct walk w;
	uint8_t v[500];
	char name[64];
	const unsigned n = 50000;
	uint32_t id = new_scan(s, "x");

	ds_store_stats(s, &st);
	assert_int_equal(st.map_size, MIB);
	for (unsigned i = 0; i < n; i++) {
		name_of(name, sizeof(name), i);
		make_value(v, sizeof(v), 9, i);
		assert_int_equal(ds_store_put_result(s, id, name, v, sizeof(v)),
				 ST_OK);
	}
	assert_int_equal(ds_store_flush(s), ST_OK);
	ds_store_stats(s, &st);
	assert_true(st.grows > 0);
	assert_true(st.map_size >= MIB << st.grows);
	assert_true(st.used > (uint64_t)n * sizeof(v));
	assert_true(st.used <= st.map_size);
	assert_int_equal(st.commits, 2 + n / 1000);
	assert_int_equal(ds_store_close(s), ST_OK);

	/* a new open starts from the grown map, and everything is there */
	s = open_store(t->path, 0, MIB);
	ds_store_stats(s, &st);
	assert_true(st.map_size > MIB);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	walk_init(&w, 9, sizeof(v));
	assert_int_equal(ds_reader_results(r, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, n);
	assert_true(w.sorted);
	assert_true(w.values_ok);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* Growing remaps the file: not while a reader of this process holds
 * pointers into it.  The flush says ST_EAGAIN and keeps the batch. */
static void test_grow_with_reader_open(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 100000, MIB);
	struct ds_store_stats st;
	struct ds_reader *r;
	struct walk w;
	uint8_t v[500], first[10];
	char name[64];
	const uint8_t *d;
	size_t len;
	uint32_t id = new_scan(s, "x");

	make_value(first, sizeof(first), 4, 0);
	assert_int_equal(ds_store_put_result(s, id, "a.example", first,
					     sizeof(first)), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_result(r, id, "a.example", &d, &len), ST_OK);
	for (unsigned i = 0; i < 4000; i++) {
		name_of(name, sizeof(name), i);
		make_value(v, sizeof(v), 4, i);
		assert_int_equal(ds_store_put_result(s, id, name, v, sizeof(v)),
				 ST_OK);
	}
	assert_int_equal(ds_store_flush(s), ST_EAGAIN);
	assert_int_equal(ds_store_batch_size(s), 4000);
	/* the reader's pointer is still good */
	assert_int_equal(len, sizeof(first));
	assert_memory_equal(d, first, sizeof(first));
	assert_int_equal(ds_store_has_result(s, id, "d00000000.example"), 0);
	ds_reader_close(r);
	assert_int_equal(ds_store_flush(s), ST_OK);
	ds_store_stats(s, &st);
	assert_true(st.grows > 0);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	walk_init(&w, 0, 0);
	assert_int_equal(ds_reader_results(r, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, 4001);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* ---- other processes ---- */

/* In a child: never return into cmocka. */
#define CHILD_CHECK(cond, code)          \
	do {                             \
		if (!(cond))             \
			_exit(code);     \
	} while (0)

/* Write batches of `per` results, each with the scan's n_results in the
 * same batch, flushing each; signal fd after the first flush.  Then, if
 * tail > 0, put tail results without flushing, signal again and wait to be
 * killed; if tail == 0, go on until killed. */
static void child_writer(const char *path, uint32_t id, unsigned per,
			 unsigned tail, int fd)
{
	struct ds_store *s = NULL;
	struct ds_store_opts o;
	struct ds_scan_info info;
	struct ds_reader *r;
	uint8_t v[300];
	char name[64];
	unsigned i = 0;

	ds_store_opts_default(&o);
	o.batch_records = 1000000;
	CHILD_CHECK(ds_store_open(path, &o, &s) == ST_OK, 10);
	CHILD_CHECK(ds_reader_open(s, &r) == ST_OK, 11);
	CHILD_CHECK(ds_reader_scan(r, id, &info) == ST_OK, 12);
	info.meta_json = NULL;
	ds_reader_close(r);
	for (unsigned b = 0; tail == 0 || b < 5; b++) {
		for (unsigned k = 0; k < per; k++, i++) {
			name_of(name, sizeof(name), i);
			make_value(v, sizeof(v), 3, i);
			CHILD_CHECK(ds_store_put_result(s, id, name, v,
							sizeof(v)) == ST_OK, 13);
		}
		info.n_results = i;
		CHILD_CHECK(ds_store_scan_update(s, &info) == ST_OK, 14);
		CHILD_CHECK(ds_store_flush(s) == ST_OK, 15);
		if (b == 0)
			CHILD_CHECK(write(fd, "F", 1) == 1, 16);
	}
	for (unsigned k = 0; k < tail; k++, i++) {
		name_of(name, sizeof(name), i);
		make_value(v, sizeof(v), 3, i);
		CHILD_CHECK(ds_store_put_result(s, id, name, v, sizeof(v)) ==
			    ST_OK, 17);
	}
	CHILD_CHECK(write(fd, "T", 1) == 1, 18);
	for (;;)
		pause();
}

/* After the kill: the counter says N, the results are exactly 0..N-1. */
static uint64_t check_after_kill(const char *path, uint32_t id)
{
	struct ds_store *s = open_store(path, 0, 0);
	struct ds_scan_info info;
	struct ds_reader *r;
	struct walk w;
	char name[64];
	uint64_t n;

	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id, &info), ST_OK);
	n = info.n_results;
	walk_init(&w, 3, 300);
	assert_int_equal(ds_reader_results(r, id, walk_cb, &w), ST_OK);
	assert_int_equal(w.n, n);
	assert_true(w.sorted);
	assert_true(w.values_ok);
	if (n > 0) {
		name_of(name, sizeof(name), (unsigned)n - 1);
		assert_string_equal(w.last, name);
	}
	ds_reader_close(r);
	/* the store still takes writes */
	assert_int_equal(ds_store_put_result(s, id, "after.example",
					     (const uint8_t *)"x", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_store_has_result(s, id, "after.example"), 1);
	assert_int_equal(ds_store_close(s), ST_OK);
	return n;
}

static pid_t spawn_writer(const char *path, uint32_t id, unsigned per,
			  unsigned tail, int *rfd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_writer(path, id, per, tail, p[1]);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static void kill_child(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* Killed with a batch open: every flushed batch is there, nothing of the
 * open one. */
static void test_kill_before_flush(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, 0);
	uint32_t id = new_scan(s, "killed");
	char c, name[64];
	int fd;
	pid_t pid;

	assert_int_equal(ds_store_close(s), ST_OK);
	pid = spawn_writer(t->path, id, 50, 30, &fd);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'F');
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'T');
	close(fd);
	kill_child(pid);
	assert_int_equal(check_after_kill(t->path, id), 250);
	s = open_store(t->path, 0, 0);
	name_of(name, sizeof(name), 249);
	assert_int_equal(ds_store_has_result(s, id, name), 1);
	name_of(name, sizeof(name), 250);
	assert_int_equal(ds_store_has_result(s, id, name), 0);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* Killed at an arbitrary moment, maybe inside a commit: the store opens,
 * and it holds whole batches only. */
static void test_kill_while_writing(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s;
	uint64_t n;
	uint32_t id;
	char c;
	int fd;
	pid_t pid;

	for (unsigned round = 0; round < 4; round++) {
		s = open_store(t->path, 0, 0);
		id = new_scan(s, "killed");
		assert_int_equal(ds_store_close(s), ST_OK);
		pid = spawn_writer(t->path, id, 20, 0, &fd);
		assert_int_equal(read(fd, &c, 1), 1);
		close(fd);
		usleep(3000 + round * 7000);
		kill_child(pid);
		n = check_after_kill(t->path, id);
		assert_true(n >= 20 && n % 20 == 0);
	}
}

/* The reader child: snapshots agree with themselves (the counter equals
 * the results walked) until the writer marks the scan finished.  Exit 0,
 * or a code saying what went wrong. */
static void child_reader(const char *path, uint32_t id, unsigned total,
			 int fd)
{
	struct ds_store_opts o;
	struct ds_store *s = NULL;
	struct ds_store_stats st;
	struct ds_scan_info info;
	struct ds_reader *r;
	struct walk w;
	time_t deadline = time(NULL) + 30;
	unsigned reads = 0;

	ds_store_opts_default(&o);
	o.read_only = true;
	o.initial_map = MIB; /* so the writer's growth shows here */
	CHILD_CHECK(ds_store_open(path, &o, &s) == ST_OK, 20);
	CHILD_CHECK(write(fd, "R", 1) == 1, 21);
	for (;;) {
		CHILD_CHECK(time(NULL) < deadline, 22);
		CHILD_CHECK(ds_reader_open(s, &r) == ST_OK, 23);
		CHILD_CHECK(ds_reader_scan(r, id, &info) == ST_OK, 24);
		walk_init(&w, 5, 400);
		CHILD_CHECK(ds_reader_results(r, id, walk_cb, &w) == ST_OK, 25);
		CHILD_CHECK(w.n == info.n_results, 26);
		CHILD_CHECK(w.sorted && w.values_ok, 27);
		ds_reader_close(r);
		reads++;
		if (info.state == DS_SCAN_FINISHED)
			break;
	}
	CHILD_CHECK(info.n_results == total, 28);
	ds_store_stats(s, &st);
	CHILD_CHECK(st.map_size > MIB, 29); /* adopted the grown map */
	CHILD_CHECK(ds_store_close(s) == ST_OK, 30);
	CHILD_CHECK(write(fd, &reads, sizeof(reads)) == sizeof(reads), 31);
	_exit(0);
}

static void test_concurrent_reader_process(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = open_store(t->path, 0, MIB);
	struct ds_scan_info info;
	struct ds_store_stats st;
	const unsigned batches = 50, per = 200;
	uint32_t id = new_scan(s, "concurrent");
	unsigned reads = 0, i = 0;
	uint8_t v[400];
	char c, name[64];
	int p[2], status;
	pid_t pid;

	assert_int_equal(ds_store_close(s), ST_OK);
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_reader(t->path, id, batches * per, p[1]);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);

	s = open_store(t->path, 100000, MIB);
	memset(&info, 0, sizeof(info));
	info.id = id;
	info.shard_count = 1;
	for (unsigned b = 0; b < batches; b++) {
		for (unsigned k = 0; k < per; k++, i++) {
			name_of(name, sizeof(name), i);
			make_value(v, sizeof(v), 5, i);
			assert_int_equal(ds_store_put_result(s, id, name, v,
							     sizeof(v)), ST_OK);
		}
		info.n_results = i;
		if (b + 1 == batches)
			info.state = DS_SCAN_FINISHED;
		assert_int_equal(ds_store_scan_update(s, &info), ST_OK);
		assert_int_equal(ds_store_flush(s), ST_OK);
	}
	ds_store_stats(s, &st);
	assert_true(st.grows > 0);
	assert_int_equal(ds_store_close(s), ST_OK);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(p[0], &reads, sizeof(reads)), sizeof(reads));
	close(p[0]);
	assert_true(reads >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)
		T(test_open_errors),
		T(test_read_only),
		T(test_format_version),
		T(test_scan_create),
		T(test_scan_update),
		T(test_put_flush_get),
		T(test_auto_flush),
		T(test_last_value_wins),
		T(test_body_hash),
		T(test_bodies_once),
		T(test_probes),
		T(test_input_errors),
		T(test_walk_two_scans),
		T(test_reader_snapshot),
		T(test_has_result_snapshot_per_commit),
		T(test_map_growth),
		T(test_grow_with_reader_open),
		T(test_kill_before_flush),
		T(test_kill_while_writing),
		T(test_concurrent_reader_process),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
