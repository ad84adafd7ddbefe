/*
 * ds_store.c - the result store on LMDB (see ds_store.h).
 *
 * One environment, six named databases: "meta" (the store format), and
 * "scans", "results", "bodies", "probes", "inputs" as ds_store.h describes.
 *
 * Writes collect in an in-memory batch (struct batch): one byte arena that
 * holds every key and value back to back, an array of entries pointing
 * into it by offset, and an open-addressing set of the body hashes it
 * holds.  A flush writes the entries in order in one write transaction, so
 * a key put twice keeps its last value.
 *
 * Read transactions come in two kinds.  A struct ds_reader is one
 * MDB_RDONLY transaction: the caller's snapshot.  s->rtxn is the store's
 * own, for "is this committed?" (has_result, the body dedup, the existence
 * check of scan_update): renewed at its first use after a commit and kept
 * until the next transaction of ours begins (rtxn_park()), so it always
 * sees the last commit and never pins pages while we write.  Only this
 * process writes (the exclusive lock), so nothing else can commit while
 * it is live: one renewal per batch, not one per domain (a renewal was
 * most of has_result's cost).
 * MDB_NOTLS lets one thread hold several read transactions and the write
 * transaction at once.
 *
 * The map: mdb_env_set_mapsize() unmaps and maps the file again, so it
 * must not run while a ds_reader of this process holds pointers into the
 * map.  The store counts its open readers and refuses to grow (ST_EAGAIN,
 * batch kept) while any is open; s->rtxn is always reset at that point and
 * holds no pointers.  A reader process adopts a map grown by the writer
 * when LMDB reports MDB_MAP_RESIZED, under the same rule.
 */
#include "ds_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "ds_store_check.h"
#include "ds_store_scan.h"
#include "st_error.h"

#define COMP "store"

/* Layout of the databases and keys; checked on open ("meta"/"format").
 * Bump when a key layout changes, or a value codec so that this version
 * could not read the old values any more.  (The scan info codec went to
 * version 2 under format 1: version-2 code reads version 1.) */
#define STORE_FORMAT 1
#define MAX_DBS 8
#define KEY_LEN_MAX (4 + DS_STORE_NAME_MAX)
#define MAP_MIN ((uint64_t)256 << 10)
#define MAP_PAGE ((uint64_t)64 << 10)  /* map sizes are multiples of it */
#define BATCH_BYTES_MAX ((size_t)32 << 20) /* a batch this big is flushed */
#define ARENA_MIN ((size_t)64 << 10)
#define ENTRIES_MIN 256
#define BSET_MIN 64

/*
 * Durability (measured, see ds_store.h): MDB_NOMETASYNC.  Every commit
 * still fdatasync()s the data pages; the meta page that publishes the
 * commit is written at once but synced with the next commit (and at
 * close).  A killed process loses nothing it committed (the page cache
 * holds it); an OS crash or power loss may undo the last commit, never
 * corrupt the file.  Override at build time to measure the others.
 */
#ifndef DS_STORE_SYNC_FLAGS
#define DS_STORE_SYNC_FLAGS MDB_NOMETASYNC
#endif

enum db_id {
	DB_META,
	DB_SCANS,
	DB_RESULTS,
	DB_BODIES,
	DB_PROBES,
	DB_INPUTS,
	DB_COUNT
};

static const char *const db_names[DB_COUNT] = {
	[DB_META] = "meta",
	[DB_SCANS] = "scans",
	[DB_RESULTS] = "results",
	[DB_BODIES] = "bodies",
	[DB_PROBES] = "probes",
	[DB_INPUTS] = "inputs",
};

static const char format_key[] = "format";

/* One record of the batch: klen key bytes then vlen value bytes at off. */
struct entry {
	size_t off;
	uint32_t klen;
	uint32_t vlen;
	uint8_t db;            /* enum db_id */
};

struct batch {
	struct entry *e;
	size_t n, cap;
	uint8_t *buf;          /* the arena; entries refer to it by offset */
	size_t used, buf_cap;
	uint32_t *bset;        /* body entries: index + 1, 0 = empty slot */
	size_t bset_cap;       /* a power of two, or 0 */
	size_t bset_n;
};

struct ds_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	MDB_txn *rtxn;         /* internal; may be NULL */
	bool rtxn_live;        /* renewed, not yet parked */
	uint64_t rtxn_renews;
	struct batch b;
	struct st_log *log;
	unsigned batch_records;
	bool read_only;
	bool no_lock_file;     /* reader opened with MDB_NOLOCK */
	int fd;                /* the store file: flock holder, -1 if none */
	struct ds_writer_lock lk;  /* writers: held until close */
	size_t n_readers;      /* open struct ds_reader */
	uint64_t commits;
	uint64_t grows;
	uint32_t refused_scan; /* the last flush met this finished scan */
};

struct ds_reader {
	struct ds_store *s;
	MDB_txn *txn;
};

void ds_store_opts_default(struct ds_store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->read_only = false;
	o->initial_map = (uint64_t)64 << 20;
	o->batch_records = 1000;
	o->log = NULL;
}

/* ---- the error edge: LMDB (and errno) codes become ST_* here ---- */

static int mdb_to_st(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ST_OK;
	case MDB_NOTFOUND:
		return ST_ENOENT;
	case ENOMEM:
		return ST_ENOMEM;
	case MDB_MAP_RESIZED:
		return ST_EAGAIN; /* readers of ours open: cannot remap now */
	default:
		return ST_ESTORE;
	}
}

static int store_fail(const struct ds_store *s, const char *what, int rc)
{
	ST_ERR(s->log, COMP, "%s: %s", what, mdb_strerror(rc));
	return mdb_to_st(rc);
}

/* ---- bytes ---- */

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* key = scan id (big-endian) + name bytes, no NUL: a scan's keys are
 * contiguous and sorted by name. */
static int name_key(uint32_t scan, const char *name, uint8_t *key,
		    size_t *klen)
{
	size_t n;

	if (name == NULL)
		return ST_EINVAL;
	n = strnlen(name, DS_STORE_NAME_MAX + 1);
	if (n == 0 || n > DS_STORE_NAME_MAX)
		return ST_EINVAL;
	be32_put(key, scan);
	memcpy(key + 4, name, n);
	*klen = 4 + n;
	return ST_OK;
}

/* ---- the scan info codec: ds_store_scan.c ---- */

/* ---- transactions and the map ---- */

/* Begin a transaction.  MDB_MAP_RESIZED means another process grew the
 * map beyond ours: adopt its size (a remap), only when no reader of ours
 * holds pointers into the map.  Returns an LMDB code. */
static void rtxn_park(struct ds_store *s)
{
	if (s->rtxn_live)
		mdb_txn_reset(s->rtxn);
	s->rtxn_live = false;
}

static int txn_begin(struct ds_store *s, unsigned flags, MDB_txn **txn)
{
	int rc;

	/* Before a write (whose commit the internal reader must see), and
	 * before a begin that may remap (mdb_env_set_mapsize: no live
	 * transaction of this process). */
	rtxn_park(s);
	rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED && s->n_readers == 0) {
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == MDB_SUCCESS)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

/* Double the map.  ST_EAGAIN while a reader of ours is open. */
static int map_grow(struct ds_store *s)
{
	MDB_envinfo info;
	int rc;

	rtxn_park(s);
	if (s->n_readers > 0) {
		ST_WARN(s->log, COMP,
			"map full with %zu reader(s) open: not growing now",
			s->n_readers);
		return ST_EAGAIN;
	}
	rc = mdb_env_info(s->env, &info);
	if (rc != MDB_SUCCESS)
		return store_fail(s, "map info", rc);
	if (info.me_mapsize > SIZE_MAX / 2)
		return store_fail(s, "map grow", ENOMEM);
	rc = mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
	if (rc != MDB_SUCCESS)
		return store_fail(s, "map grow", rc);
	s->grows++;
	ST_INFO(s->log, COMP, "map grown to %zu MiB",
		(info.me_mapsize * 2) >> 20);
	return ST_OK;
}

typedef int (*txn_fill_fn)(struct ds_store *s, MDB_txn *txn, void *arg);

/* Run fill (which returns an LMDB code) in one write transaction and
 * commit.  MDB_MAP_FULL, from a put or from the commit, aborts, doubles the
 * map and runs fill again. */
static int write_txn(struct ds_store *s, txn_fill_fn fill, void *arg,
		     const char *what)
{
	MDB_txn *txn;
	int rc, ret;

	for (;;) {
		rc = txn_begin(s, 0, &txn);
		if (rc != MDB_SUCCESS)
			return store_fail(s, what, rc);
		rc = fill(s, txn, arg);
		if (rc == MDB_SUCCESS)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc != MDB_MAP_FULL)
			break;
		ret = map_grow(s);
		if (ret != ST_OK)
			return ret;
	}
	if (rc != MDB_SUCCESS)
		return store_fail(s, what, rc);
	s->commits++;
	return ST_OK;
}

/* Is key in db, committed?  Uses the internal read txn, renewed (or
 * begun) if parked, and leaves it live.  Returns MDB_SUCCESS,
 * MDB_NOTFOUND or another LMDB code. */
static int committed_has(struct ds_store *s, enum db_id db, MDB_val *key)
{
	MDB_val val;
	int rc;

	if (s->rtxn != NULL && !s->rtxn_live) {
		rc = mdb_txn_renew(s->rtxn);
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(s->rtxn);
			s->rtxn = NULL;
		}
	}
	if (s->rtxn == NULL) {
		MDB_txn *t;

		rc = txn_begin(s, MDB_RDONLY, &t);
		if (rc != MDB_SUCCESS)
			return rc;
		s->rtxn = t;
	}
	if (!s->rtxn_live)
		s->rtxn_renews++;
	s->rtxn_live = true;
	rc = mdb_get(s->rtxn, s->dbi[db], key, &val);
	return rc;
}

/* ---- the batch ---- */

/* Append an entry for klen + vlen bytes; *kv = where to write them (valid
 * until the next reserve). */
static int batch_reserve(struct batch *b, enum db_id db, size_t klen,
			 size_t vlen, uint8_t **kv)
{
	size_t need = b->used + klen + vlen;
	struct entry *e;

	if (b->n == b->cap) {
		size_t ncap = b->cap != 0 ? b->cap * 2 : ENTRIES_MIN;
		struct entry *ne = realloc(b->e, ncap * sizeof(*ne));

		if (ne == NULL)
			return ST_ENOMEM;
		b->e = ne;
		b->cap = ncap;
	}
	if (need > b->buf_cap) {
		size_t ncap = b->buf_cap != 0 ? b->buf_cap : ARENA_MIN;
		uint8_t *nb;

		while (ncap < need)
			ncap *= 2;
		nb = realloc(b->buf, ncap);
		if (nb == NULL)
			return ST_ENOMEM;
		b->buf = nb;
		b->buf_cap = ncap;
	}
	e = &b->e[b->n++];
	e->off = b->used;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	e->db = (uint8_t)db;
	*kv = b->buf + b->used;
	b->used = need;
	return ST_OK;
}

/* SHA-256 output is uniform: its first bytes are the slot. */
static size_t bset_slot(const uint8_t *hash, size_t cap)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < 8; i++)
		h = h << 8 | hash[i];
	return (size_t)(h & (cap - 1));
}

static void bset_insert(struct batch *b, size_t idx)
{
	const uint8_t *hash = b->buf + b->e[idx].off;
	size_t i = bset_slot(hash, b->bset_cap);

	while (b->bset[i] != 0)
		i = (i + 1) & (b->bset_cap - 1);
	b->bset[i] = (uint32_t)(idx + 1);
	b->bset_n++;
}

static bool bset_has(const struct batch *b, const uint8_t *hash)
{
	size_t i;

	if (b->bset_cap == 0)
		return false;
	for (i = bset_slot(hash, b->bset_cap); b->bset[i] != 0;
	     i = (i + 1) & (b->bset_cap - 1)) {
		const struct entry *e = &b->e[b->bset[i] - 1];

		if (memcmp(b->buf + e->off, hash, DS_STORE_HASH_LEN) == 0)
			return true;
	}
	return false;
}

/* Make room for one more body: keep the set at most half full. */
static int bset_reserve(struct batch *b)
{
	size_t ncap;
	uint32_t *nt;

	if ((b->bset_n + 1) * 2 <= b->bset_cap)
		return ST_OK;
	ncap = b->bset_cap != 0 ? b->bset_cap * 2 : BSET_MIN;
	nt = calloc(ncap, sizeof(*nt));
	if (nt == NULL)
		return ST_ENOMEM;
	free(b->bset);
	b->bset = nt;
	b->bset_cap = ncap;
	b->bset_n = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].db == DB_BODIES)
			bset_insert(b, i);
	return ST_OK;
}

static void batch_clear(struct batch *b)
{
	b->n = 0;
	b->used = 0;
	if (b->bset != NULL)
		memset(b->bset, 0, b->bset_cap * sizeof(*b->bset));
	b->bset_n = 0;
}

static void batch_free(struct batch *b)
{
	free(b->e);
	free(b->buf);
	free(b->bset);
	memset(b, 0, sizeof(*b));
}

/* DESIGN §5: a finished scan is never modified.  Is scan id finished,
 * as this write transaction sees it?  Returns an LMDB code; *fin. */
static int scan_finished(struct ds_store *s, MDB_txn *txn, uint32_t id,
			 bool *fin)
{
	struct ds_scan_info info;
	uint8_t kb[4];
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	be32_put(kb, id);
	*fin = false;
	rc = mdb_get(txn, s->dbi[DB_SCANS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return MDB_SUCCESS; /* being created by this batch's caller */
	if (rc != MDB_SUCCESS)
		return rc;
	if (ds_scan_decode(v.mv_data, v.mv_size, &info) != ST_OK)
		return MDB_CORRUPTED;
	*fin = info.state == DS_SCAN_FINISHED;
	return MDB_SUCCESS;
}

static int fill_batch(struct ds_store *s, MDB_txn *txn, void *arg)
{
	const struct batch *b = &s->b;
	uint32_t checked = 0; /* scan ids start at 1 */
	bool fin = false;

	(void)arg;
	for (size_t i = 0; i < b->n; i++) {
		const struct entry *e = &b->e[i];
		MDB_val k = { e->klen, b->buf + e->off };
		MDB_val v = { e->vlen, b->buf + e->off + e->klen };
		unsigned flags = e->db == DB_BODIES ? MDB_NOOVERWRITE : 0;
		int rc;

		if (e->db != DB_BODIES && e->db != DB_META && e->klen >= 4 &&
		    be32_get(b->buf + e->off) != checked) {
			checked = be32_get(b->buf + e->off);
			rc = scan_finished(s, txn, checked, &fin);
			if (rc != MDB_SUCCESS)
				return rc;
			if (fin) {
				s->refused_scan = checked;
				return EPERM;
			}
		}
		rc = mdb_put(txn, s->dbi[e->db], &k, &v, flags);
		if (e->db == DB_SCANS)
			checked = 0; /* its state may have just changed */

		/* A body stored by an earlier batch: same hash, same bytes. */
		if (rc == MDB_KEYEXIST && e->db == DB_BODIES)
			rc = MDB_SUCCESS;
		if (rc != MDB_SUCCESS)
			return rc;
	}
	return MDB_SUCCESS;
}

/* After an append: flush once the batch is full. */
static int batch_added(struct ds_store *s)
{
	if (s->b.n >= s->batch_records || s->b.used >= BATCH_BYTES_MAX)
		return ds_store_flush(s);
	return ST_OK;
}

int ds_store_flush(struct ds_store *s)
{
	int ret;

	if (s == NULL)
		return ST_EINVAL;
	if (s->b.n == 0)
		return ST_OK;
	s->refused_scan = 0;
	ret = write_txn(s, fill_batch, NULL, "flush");
	if (ret != ST_OK && s->refused_scan != 0) {
		ST_ERR(s->log, COMP, "scan %" PRIu32 " is finished: refusing to "
		       "modify it", s->refused_scan);
		return ST_EDENIED;
	}
	if (ret == ST_OK)
		batch_clear(&s->b);
	return ret;
}

size_t ds_store_batch_size(const struct ds_store *s)
{
	return s != NULL ? s->b.n : 0;
}

/* ---- open and close ---- */

static void store_free(struct ds_store *s)
{
	if (s == NULL)
		return;
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lk.fd >= 0)
		ds_writer_unlock(&s->lk); /* closes s->fd */
	else if (s->fd >= 0)
		close(s->fd); /* a reader's shared lock goes with it */
	batch_free(&s->b);
	free(s);
}

static size_t map_round(uint64_t want)
{
	if (want < MAP_MIN)
		want = MAP_MIN;
	if (want > SIZE_MAX / 4)
		want = SIZE_MAX / 4;
	return (size_t)((want + MAP_PAGE - 1) / MAP_PAGE * MAP_PAGE);
}

static int env_open(struct ds_store *s, const char *path, uint64_t map)
{
	unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
	MDB_envinfo info;
	int rc, dead = 0;

	flags |= s->read_only ? MDB_RDONLY : DS_STORE_SYNC_FLAGS;
	if (s->no_lock_file)
		flags |= MDB_NOLOCK;
	rc = mdb_env_create(&s->env);
	if (rc != MDB_SUCCESS) {
		s->env = NULL;
		return store_fail(s, "env create", rc);
	}
	rc = mdb_env_set_maxdbs(s->env, MAX_DBS);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_mapsize(s->env, map_round(map));
	if (rc == MDB_SUCCESS)
		rc = mdb_env_open(s->env, path, flags, 0644);
	if (rc != MDB_SUCCESS) {
		ST_ERR(s->log, COMP, "open %s: %s", path, mdb_strerror(rc));
		return mdb_to_st(rc);
	}
	/* A map grown by an earlier run is recorded in the file: start from
	 * it (size 0 = the recorded one), or from ours if larger. */
	rc = mdb_env_set_mapsize(s->env, 0);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_info(s->env, &info);
	if (rc == MDB_SUCCESS && info.me_mapsize < map_round(map))
		rc = mdb_env_set_mapsize(s->env, map_round(map));
	if (rc != MDB_SUCCESS)
		return store_fail(s, "map size", rc);
	/* Reader slots of killed processes would pin old pages forever. */
	rc = mdb_reader_check(s->env, &dead);
	if (rc == MDB_SUCCESS && dead > 0)
		ST_INFO(s->log, COMP, "%s: cleared %d stale reader slot(s)",
			path, dead);
	return ST_OK;
}

/* A new file gets the format key; an LMDB file holding something else
 * (keys in its main database, no "meta") is refused. */
static int format_create(struct ds_store *s, MDB_txn *txn)
{
	uint8_t v[4] = { STORE_FORMAT, 0, 0, 0 };
	MDB_val k = { sizeof(format_key) - 1, (void *)format_key };
	MDB_val d = { sizeof(v), v };
	MDB_dbi main_dbi;
	MDB_stat st;
	int rc;

	rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
	if (rc == MDB_SUCCESS)
		rc = mdb_stat(txn, main_dbi, &st);
	if (rc != MDB_SUCCESS)
		return store_fail(s, "main db", rc);
	if (st.ms_entries != 0) {
		ST_ERR(s->log, COMP, "not a stsmap store (no format key)");
		return ST_ESTORE;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
		if (rc != MDB_SUCCESS)
			return store_fail(s, db_names[i], rc);
	}
	rc = mdb_put(txn, s->dbi[DB_META], &k, &d, 0);
	return rc != MDB_SUCCESS ? store_fail(s, "format", rc) : ST_OK;
}

static int format_check(struct ds_store *s, MDB_txn *txn)
{
	MDB_val k = { sizeof(format_key) - 1, (void *)format_key };
	MDB_val d;
	uint32_t fmt;
	int rc;

	/* A writer adds a database this build knows and the file lacks. */
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i],
				  s->read_only ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc != MDB_SUCCESS)
			return store_fail(s, db_names[i], rc == MDB_NOTFOUND ?
					  MDB_INCOMPATIBLE : rc);
	}
	rc = mdb_get(txn, s->dbi[DB_META], &k, &d);
	if (rc != MDB_SUCCESS || d.mv_size != 4)
		return store_fail(s, "format key",
				  rc != MDB_SUCCESS ? rc : MDB_CORRUPTED);
	fmt = (uint32_t)((const uint8_t *)d.mv_data)[0] |
	      (uint32_t)((const uint8_t *)d.mv_data)[1] << 8 |
	      (uint32_t)((const uint8_t *)d.mv_data)[2] << 16 |
	      (uint32_t)((const uint8_t *)d.mv_data)[3] << 24;
	if (fmt != STORE_FORMAT) {
		ST_ERR(s->log, COMP, "store format %" PRIu32
		       ", this build reads %d", fmt, STORE_FORMAT);
		return ST_ENOTSUP;
	}
	return ST_OK;
}

/* Open the named databases (creating them in a new writable file) and
 * check the format.  The transaction is committed so the handles stay. */
static int dbs_open(struct ds_store *s)
{
	MDB_txn *txn;
	MDB_dbi meta;
	int rc, ret;

	rc = txn_begin(s, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != MDB_SUCCESS)
		return store_fail(s, "open dbs", rc);
	rc = mdb_dbi_open(txn, db_names[DB_META], 0, &meta);
	if (rc == MDB_NOTFOUND && !s->read_only)
		ret = format_create(s, txn);
	else
		ret = format_check(s, txn);
	if (ret != ST_OK) {
		mdb_txn_abort(txn);
		return ret;
	}
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS)
		return store_fail(s, "open dbs", rc);
	if (!s->read_only)
		s->commits++;
	return ST_OK;
}

/*
 * Before LMDB sees the file: open it ourselves, take the lock (writers:
 * exclusive for the whole run; readers of a store without its -lock file:
 * shared, see below), and check the meta pages so a truncated file is an
 * error, not a SIGBUS.  A reader never creates a file: the path must exist
 * and be a store, and when LMDB's lock file is absent (a copied store) the
 * reader opens with MDB_NOLOCK under a shared flock, which no writer can
 * take while it is held, so no page it reads can be reused under it.
 */
static int file_prepare(struct ds_store *s, const char *path,
			const char *owner, char *why, size_t why_len)
{
	char lock_path[4096 + 8];
	struct ds_check c;
	int ret;

	s->fd = open(path, s->read_only ? O_RDONLY | O_CLOEXEC :
		     O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return errno == ENOENT ? ST_ENOENT : ST_EIO;
	}
	if (!s->read_only) {
		ret = ds_writer_lock(s->fd, path, owner, &s->lk, why, why_len);
		if (ret != ST_OK)
			return ret;
	}
	ret = ds_check_fd(s->fd, &c, why, why_len);
	if (ret != ST_OK)
		return ret;
	if (c.empty && s->read_only) {
		snprintf(why, why_len, "not an stsmap store: empty file");
		return ST_EPARSE;
	}
	if (!s->read_only)
		return ST_OK;
	if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s-lock", path) >=
	    sizeof(lock_path))
		return ST_ETOOBIG;
	if (access(lock_path, F_OK) == 0)
		return ST_OK;
	s->no_lock_file = true;
	return ds_reader_lock(s->fd, why, why_len);
}

int ds_store_open_why(const char *path, const struct ds_store_opts *opts,
		      struct ds_store **out, char *why, size_t why_len)
{
	struct ds_store_opts def;
	struct ds_store *s = NULL;
	char dummy[1];
	int ret;

	if (why == NULL || why_len == 0) {
		why = dummy;
		why_len = sizeof(dummy);
	}
	why[0] = '\0';
	if (path == NULL || out == NULL)
		return ST_EINVAL;
	*out = NULL;
	if (opts == NULL) {
		ds_store_opts_default(&def);
		opts = &def;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ST_ENOMEM;
	s->fd = -1;
	s->lk.fd = -1;
	s->log = opts->log;
	s->read_only = opts->read_only;
	s->batch_records = opts->batch_records != 0 ? opts->batch_records : 1;
	ret = file_prepare(s, path, opts->owner, why, why_len);
	if (ret != ST_OK)
		goto fail; /* why says it; the caller prints it */
	ret = env_open(s, path, opts->initial_map);
	if (ret != ST_OK)
		goto fail;
	ret = dbs_open(s);
	if (ret != ST_OK) {
		if (why[0] == '\0' && ret == ST_ESTORE)
			snprintf(why, why_len, "not an stsmap store: an LMDB "
				 "file without the store's databases");
		goto fail;
	}
	*out = s;
	return ST_OK;
fail:
	store_free(s);
	return ret;
}

int ds_store_open(const char *path, const struct ds_store_opts *opts,
		  struct ds_store **out)
{
	return ds_store_open_why(path, opts, out, NULL, 0);
}

int ds_store_close(struct ds_store *s)
{
	int ret, rc;

	if (s == NULL)
		return ST_OK;
	ret = ds_store_flush(s);
	if (s->n_readers > 0)
		ST_ERR(s->log, COMP, "closed with %zu reader(s) open",
		       s->n_readers);
	if (!s->read_only) {
		/* Make the last commit's meta page durable as well. */
		rc = mdb_env_sync(s->env, 1);
		if (rc != MDB_SUCCESS && ret == ST_OK)
			ret = store_fail(s, "sync", rc);
	}
	store_free(s);
	return ret;
}

void ds_store_stats(const struct ds_store *s, struct ds_store_stats *out)
{
	MDB_envinfo info;
	MDB_stat st;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	out->commits = s->commits;
	out->grows = s->grows;
	out->read_renews = s->rtxn_renews;
	if (mdb_env_info(s->env, &info) != MDB_SUCCESS ||
	    mdb_env_stat(s->env, &st) != MDB_SUCCESS)
		return;
	out->map_size = info.me_mapsize;
	out->used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

/* ---- scans ---- */

struct create_job {
	struct ds_scan_info info;  /* as stored: id, state, n_results set */
	uint8_t *val;
	size_t len;
};

/* The next id is the last one + 1, read inside the write transaction. */
static int fill_create(struct ds_store *s, MDB_txn *txn, void *arg)
{
	struct create_job *j = arg;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[4];
	size_t len;
	int rc;

	rc = mdb_cursor_open(txn, s->dbi[DB_SCANS], &c);
	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		j->info.id = 1;
	} else if (rc != MDB_SUCCESS) {
		return rc;
	} else if (k.mv_size != 4) {
		return MDB_CORRUPTED;
	} else if (be32_get(k.mv_data) == UINT32_MAX) {
		return EOVERFLOW;
	} else {
		j->info.id = be32_get(k.mv_data) + 1;
	}
	if (ds_scan_encode(&j->info, j->val, j->len, &len) != ST_OK)
		return EINVAL; /* cannot happen: measured before */
	be32_put(kb, j->info.id);
	k.mv_size = 4;
	k.mv_data = kb;
	v.mv_size = len;
	v.mv_data = j->val;
	return mdb_put(txn, s->dbi[DB_SCANS], &k, &v, MDB_NOOVERWRITE);
}

int ds_store_scan_create(struct ds_store *s, const struct ds_scan_info *info,
			 uint32_t *id)
{
	struct create_job j;
	int ret;

	if (s == NULL || info == NULL || id == NULL || s->read_only)
		return ST_EINVAL;
	j.info = *info;
	j.info.id = 0;
	j.info.state = DS_SCAN_RUNNING;
	j.info.n_results = 0;
	ret = ds_scan_encode(&j.info, NULL, 0, &j.len);
	if (ret != ST_OK)
		return ret;
	j.val = malloc(j.len);
	if (j.val == NULL)
		return ST_ENOMEM;
	ret = write_txn(s, fill_create, &j, "scan create");
	free(j.val);
	if (ret == ST_OK)
		*id = j.info.id;
	return ret;
}

int ds_store_scan_update(struct ds_store *s, const struct ds_scan_info *info)
{
	uint8_t kb[4], *kv;
	MDB_val k = { sizeof(kb), kb };
	size_t len;
	int ret, rc;

	if (s == NULL || info == NULL || s->read_only)
		return ST_EINVAL;
	ret = ds_scan_encode(info, NULL, 0, &len);
	if (ret != ST_OK)
		return ret;
	be32_put(kb, info->id);
	rc = committed_has(s, DB_SCANS, &k);
	if (rc == MDB_NOTFOUND)
		return ST_ENOENT;
	if (rc != MDB_SUCCESS)
		return store_fail(s, "scan update", rc);
	ret = batch_reserve(&s->b, DB_SCANS, sizeof(kb), len, &kv);
	if (ret != ST_OK)
		return ret;
	memcpy(kv, kb, sizeof(kb));
	/* Cannot fail: the same info was measured above. */
	(void)ds_scan_encode(info, kv + sizeof(kb), len, &len);
	return batch_added(s);
}

/* ---- puts ---- */

static int put_named(struct ds_store *s, enum db_id db, uint32_t scan,
		     const char *name, const uint8_t *data, size_t len)
{
	uint8_t key[KEY_LEN_MAX], *kv;
	size_t klen;
	int ret;

	if (s == NULL || data == NULL || s->read_only)
		return ST_EINVAL;
	if (len > DS_STORE_VALUE_MAX)
		return ST_ETOOBIG;
	ret = name_key(scan, name, key, &klen);
	if (ret != ST_OK)
		return ret;
	ret = batch_reserve(&s->b, db, klen, len, &kv);
	if (ret != ST_OK)
		return ret;
	memcpy(kv, key, klen);
	memcpy(kv + klen, data, len);
	return batch_added(s);
}

int ds_store_put_result(struct ds_store *s, uint32_t scan, const char *domain,
			const uint8_t *data, size_t len)
{
	return put_named(s, DB_RESULTS, scan, domain, data, len);
}

int ds_store_put_probe(struct ds_store *s, uint32_t scan, const char *host,
		       const uint8_t *data, size_t len)
{
	return put_named(s, DB_PROBES, scan, host, data, len);
}

int ds_store_body_hash(const uint8_t *body, size_t len,
		       uint8_t hash[DS_STORE_HASH_LEN])
{
	unsigned int hl = 0;

	if (body == NULL || hash == NULL)
		return ST_EINVAL;
	if (EVP_Digest(body, len, hash, &hl, EVP_sha256(), NULL) != 1 ||
	    hl != DS_STORE_HASH_LEN)
		return ST_ENOMEM; /* OpenSSL fails only without memory */
	return ST_OK;
}

int ds_store_put_body(struct ds_store *s, const uint8_t *body, size_t len,
		      uint8_t hash[DS_STORE_HASH_LEN])
{
	MDB_val k = { DS_STORE_HASH_LEN, hash };
	uint8_t *kv;
	int ret, rc;

	if (s == NULL || hash == NULL || body == NULL || s->read_only)
		return ST_EINVAL;
	if (len > DS_STORE_VALUE_MAX)
		return ST_ETOOBIG;
	ret = ds_store_body_hash(body, len, hash);
	if (ret != ST_OK)
		return ret;
	if (bset_has(&s->b, hash))
		return ST_OK;
	rc = committed_has(s, DB_BODIES, &k);
	if (rc == MDB_SUCCESS)
		return ST_OK;
	if (rc != MDB_NOTFOUND)
		return store_fail(s, "body lookup", rc);
	ret = bset_reserve(&s->b);
	if (ret != ST_OK)
		return ret;
	ret = batch_reserve(&s->b, DB_BODIES, DS_STORE_HASH_LEN, len, &kv);
	if (ret != ST_OK)
		return ret;
	memcpy(kv, hash, DS_STORE_HASH_LEN);
	memcpy(kv + DS_STORE_HASH_LEN, body, len);
	bset_insert(&s->b, s->b.n - 1);
	return batch_added(s);
}

static void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

/* "inputs": key scan, input (BE 4), line (BE 8); value raw NUL why NUL. */
#define INPUT_KEY_LEN 16

int ds_store_put_input_error(struct ds_store *s, uint32_t scan,
			     uint32_t input, uint64_t line, const char *raw,
			     const char *why)
{
	uint8_t key[INPUT_KEY_LEN], *kv;
	size_t rl, wl;
	int ret;

	if (s == NULL || s->read_only)
		return ST_EINVAL;
	raw = raw != NULL ? raw : "";
	why = why != NULL ? why : "";
	rl = strlen(raw);
	wl = strlen(why);
	if (rl > DS_STORE_VALUE_MAX / 2 || wl > DS_STORE_VALUE_MAX / 2)
		return ST_ETOOBIG;
	be32_put(key, scan);
	be32_put(key + 4, input);
	be64_put(key + 8, line);
	ret = batch_reserve(&s->b, DB_INPUTS, sizeof(key), rl + wl + 2, &kv);
	if (ret != ST_OK)
		return ret;
	memcpy(kv, key, sizeof(key));
	memcpy(kv + sizeof(key), raw, rl + 1);
	memcpy(kv + sizeof(key) + rl + 1, why, wl + 1);
	return batch_added(s);
}

int ds_store_has_result(struct ds_store *s, uint32_t scan,
			const char *domain)
{
	uint8_t key[KEY_LEN_MAX];
	MDB_val k;
	size_t klen;
	int ret, rc;

	if (s == NULL)
		return ST_EINVAL;
	ret = name_key(scan, domain, key, &klen);
	if (ret != ST_OK)
		return ret;
	k.mv_size = klen;
	k.mv_data = key;
	rc = committed_has(s, DB_RESULTS, &k);
	if (rc == MDB_SUCCESS)
		return 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	return store_fail(s, "has result", rc);
}

/* ---- readers ---- */

int ds_reader_open(struct ds_store *s, struct ds_reader **out)
{
	struct ds_reader *r;
	int rc;

	if (s == NULL || out == NULL)
		return ST_EINVAL;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ST_ENOMEM;
	rc = txn_begin(s, MDB_RDONLY, &r->txn);
	if (rc != MDB_SUCCESS) {
		free(r);
		return store_fail(s, "reader open", rc);
	}
	r->s = s;
	s->n_readers++;
	*out = r;
	return ST_OK;
}

void ds_reader_close(struct ds_reader *r)
{
	if (r == NULL)
		return;
	mdb_txn_abort(r->txn);
	r->s->n_readers--;
	free(r);
}

static int reader_get(struct ds_reader *r, enum db_id db, const void *key,
		      size_t klen, const uint8_t **data, size_t *len)
{
	MDB_val k = { klen, (void *)key };
	MDB_val v;
	int rc;

	rc = mdb_get(r->txn, r->s->dbi[db], &k, &v);
	if (rc == MDB_NOTFOUND)
		return ST_ENOENT;
	if (rc != MDB_SUCCESS)
		return store_fail(r->s, db_names[db], rc);
	*data = v.mv_data;
	*len = v.mv_size;
	return ST_OK;
}

static int scan_value(struct ds_reader *r, const MDB_val *k, const MDB_val *v,
		      struct ds_scan_info *info)
{
	int ret;

	if (k->mv_size != 4)
		return ST_EPARSE;
	ret = ds_scan_decode(v->mv_data, v->mv_size, info);
	if (ret == ST_OK && info->id != be32_get(k->mv_data))
		ret = ST_EPARSE;
	if (ret != ST_OK)
		ST_ERR(r->s->log, COMP, "scan %" PRIu32 ": bad stored info: %s",
		       be32_get(k->mv_data), st_strerror(ret));
	return ret;
}

int ds_reader_scan(struct ds_reader *r, uint32_t id,
		   struct ds_scan_info *info)
{
	uint8_t kb[4];
	const uint8_t *data;
	size_t len;
	MDB_val k = { sizeof(kb), kb }, v;
	int ret;

	if (r == NULL || info == NULL)
		return ST_EINVAL;
	be32_put(kb, id);
	ret = reader_get(r, DB_SCANS, kb, sizeof(kb), &data, &len);
	if (ret != ST_OK)
		return ret;
	v.mv_size = len;
	v.mv_data = (void *)data;
	return scan_value(r, &k, &v, info);
}

/* Walk the scans from op (MDB_FIRST or MDB_LAST); with cb, every scan in
 * id order, without, just the one op lands on (into *info). */
static int scans_walk(struct ds_reader *r, MDB_cursor_op op, ds_scan_cb cb,
		      void *arg, struct ds_scan_info *info)
{
	struct ds_scan_info tmp;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, ret = ST_OK;

	rc = mdb_cursor_open(r->txn, r->s->dbi[DB_SCANS], &c);
	if (rc != MDB_SUCCESS)
		return store_fail(r->s, "scans", rc);
	for (rc = mdb_cursor_get(c, &k, &v, op); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		ret = scan_value(r, &k, &v, cb != NULL ? &tmp : info);
		if (ret == ST_OK && cb != NULL)
			ret = cb(&tmp, arg);
		if (ret != ST_OK || cb == NULL)
			goto cleanup;
	}
	if (rc == MDB_NOTFOUND)
		ret = cb != NULL ? ST_OK : ST_ENOENT;
	else
		ret = store_fail(r->s, "scans", rc);
cleanup:
	mdb_cursor_close(c);
	return ret;
}

int ds_reader_scan_latest(struct ds_reader *r, struct ds_scan_info *info)
{
	if (r == NULL || info == NULL)
		return ST_EINVAL;
	return scans_walk(r, MDB_LAST, NULL, NULL, info);
}

int ds_reader_scans(struct ds_reader *r, ds_scan_cb cb, void *arg)
{
	if (r == NULL || cb == NULL)
		return ST_EINVAL;
	return scans_walk(r, MDB_FIRST, cb, arg, NULL);
}

bool ds_store_key_name(const char *key, size_t len,
		       char out[DS_STORE_NAME_MAX + 1])
{
	out[0] = '\0';
	if (key == NULL || len == 0 || len > DS_STORE_NAME_MAX ||
	    memchr(key, '\0', len) != NULL)
		return false;
	memcpy(out, key, len);
	out[len] = '\0';
	return true;
}

static int named_get(struct ds_reader *r, enum db_id db, uint32_t scan,
		     const char *name, const uint8_t **data, size_t *len)
{
	uint8_t key[KEY_LEN_MAX];
	size_t klen;
	int ret;

	if (r == NULL || data == NULL || len == NULL)
		return ST_EINVAL;
	ret = name_key(scan, name, key, &klen);
	if (ret != ST_OK)
		return ret;
	return reader_get(r, db, key, klen, data, len);
}

/* Called with the key after the scan prefix (rest, rest_len >= 1). */
typedef int (*walk_fn)(const uint8_t *rest, size_t rest_len,
		       const MDB_val *v, void *ctx);

/* One cursor pass over the keys starting with scan's 4 bytes; a non-zero
 * return of fn stops it and is returned. */
static int prefix_walk(struct ds_reader *r, enum db_id db, uint32_t scan,
		       walk_fn fn, void *ctx)
{
	uint8_t prefix[4];
	MDB_cursor *c;
	MDB_val k = { sizeof(prefix), prefix }, v;
	int rc, ret = ST_OK;

	be32_put(prefix, scan);
	rc = mdb_cursor_open(r->txn, r->s->dbi[db], &c);
	if (rc != MDB_SUCCESS)
		return store_fail(r->s, db_names[db], rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kd = k.mv_data;

		if (k.mv_size <= sizeof(prefix) ||
		    memcmp(kd, prefix, sizeof(prefix)) != 0)
			break;
		ret = fn(kd + sizeof(prefix), k.mv_size - sizeof(prefix), &v,
			 ctx);
		if (ret != 0)
			goto cleanup;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		ret = store_fail(r->s, db_names[db], rc);
cleanup:
	mdb_cursor_close(c);
	return ret;
}

struct named_ctx {
	ds_result_cb cb;
	void *arg;
};

static int named_fn(const uint8_t *rest, size_t rest_len, const MDB_val *v,
		    void *ctx)
{
	const struct named_ctx *n = ctx;

	return n->cb((const char *)rest, rest_len, v->mv_data, v->mv_size,
		     n->arg);
}

static int named_walk(struct ds_reader *r, enum db_id db, uint32_t scan,
		      ds_result_cb cb, void *arg)
{
	struct named_ctx n = { cb, arg };

	if (r == NULL || cb == NULL)
		return ST_EINVAL;
	return prefix_walk(r, db, scan, named_fn, &n);
}

struct input_ctx {
	ds_input_error_cb cb;
	void *arg;
	const struct ds_store *s;
};

static int input_fn(const uint8_t *rest, size_t rest_len, const MDB_val *v,
		    void *ctx)
{
	const struct input_ctx *n = ctx;
	const char *raw = v->mv_data;
	const char *nul = v->mv_size > 0 ? memchr(raw, '\0', v->mv_size) : NULL;
	uint64_t line = 0;

	/* raw NUL why NUL, and the key's input (4) and line (8) */
	if (rest_len != INPUT_KEY_LEN - 4 || nul == NULL ||
	    raw[v->mv_size - 1] != '\0' || nul == raw + v->mv_size - 1) {
		ST_ERR(n->s->log, COMP, "malformed input error record");
		return ST_EPARSE;
	}
	for (unsigned i = 4; i < 12; i++)
		line = line << 8 | rest[i];
	return n->cb(be32_get(rest), line, raw, nul + 1, n->arg);
}

int ds_reader_input_errors(struct ds_reader *r, uint32_t scan,
			   ds_input_error_cb cb, void *arg)
{
	struct input_ctx n = { cb, arg, NULL };

	if (r == NULL || cb == NULL)
		return ST_EINVAL;
	n.s = r->s;
	return prefix_walk(r, DB_INPUTS, scan, input_fn, &n);
}

int ds_reader_result(struct ds_reader *r, uint32_t scan, const char *domain,
		     const uint8_t **data, size_t *len)
{
	return named_get(r, DB_RESULTS, scan, domain, data, len);
}

int ds_reader_results(struct ds_reader *r, uint32_t scan, ds_result_cb cb,
		      void *arg)
{
	return named_walk(r, DB_RESULTS, scan, cb, arg);
}

int ds_reader_probe(struct ds_reader *r, uint32_t scan, const char *host,
		    const uint8_t **data, size_t *len)
{
	return named_get(r, DB_PROBES, scan, host, data, len);
}

int ds_reader_probes(struct ds_reader *r, uint32_t scan, ds_result_cb cb,
		     void *arg)
{
	return named_walk(r, DB_PROBES, scan, cb, arg);
}

int ds_reader_body(struct ds_reader *r,
		   const uint8_t hash[DS_STORE_HASH_LEN],
		   const uint8_t **data, size_t *len)
{
	if (r == NULL || hash == NULL || data == NULL || len == NULL)
		return ST_EINVAL;
	return reader_get(r, DB_BODIES, hash, DS_STORE_HASH_LEN, data, len);
}
