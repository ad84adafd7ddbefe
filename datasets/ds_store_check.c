/*
 * ds_store_check.c - meta page check and writer lock, before LMDB maps a
 * store file.  The contract is in ds_store_check.h.
 */
#include "ds_store_check.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "st_error.h"

/* LMDB 0.9 (mdb.c): MDB_page header is pgno (8), pad (2), flags (2),
 * lower/upper (4) on LP64; MDB_meta follows it. */
#define META_MAGIC 0xBEEFC0DEu
#define META_VERSION 1u
#define PAGE_HDR 16
#define OFF_MAGIC (PAGE_HDR + 0)
#define OFF_VERSION (PAGE_HDR + 4)
#define OFF_PSIZE (PAGE_HDR + 24)    /* mm_dbs[FREE_DBI].md_pad */
#define OFF_LAST_PG (PAGE_HDR + 120) /* after address, mapsize, 2 MDB_db */
#define OFF_TXNID (PAGE_HDR + 128)
#define META_BYTES (PAGE_HDR + 136)
#define PSIZE_MIN 512u
#define PSIZE_MAX 65536u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void say(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

static int read_meta(int fd, uint64_t off, uint8_t buf[META_BYTES])
{
	ssize_t n = pread(fd, buf, META_BYTES, (off_t)off);

	if (n < 0)
		return ST_EIO;
	return n == META_BYTES ? ST_OK : ST_ENOENT;
}

/* Is this meta valid (magic, version)?  *txnid and *last_pg if so. */
static bool meta_ok(const uint8_t *m, uint64_t *txnid, uint64_t *last_pg)
{
	if (le32(m + OFF_MAGIC) != META_MAGIC ||
	    le32(m + OFF_VERSION) != META_VERSION)
		return false;
	*txnid = le64(m + OFF_TXNID);
	*last_pg = le64(m + OFF_LAST_PG);
	return true;
}

int ds_check_fd(int fd, struct ds_check *out, char *why, size_t why_len)
{
	uint8_t m0[META_BYTES], m1[META_BYTES];
	uint64_t t0 = 0, t1 = 0, l0 = 0, l1 = 0, need;
	bool ok0, ok1;
	struct stat st;
	int ret;

	say(why, why_len, "%s", "");
	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) != 0)
		return ST_EIO;
	if (!S_ISREG(st.st_mode)) {
		say(why, why_len, "not an stsmap store: not a regular file");
		return ST_EPARSE;
	}
	out->file_size = (uint64_t)st.st_size;
	if (st.st_size == 0) {
		out->empty = true;
		return ST_OK;
	}
	ret = read_meta(fd, 0, m0);
	if (ret == ST_EIO)
		return ret;
	if (ret != ST_OK || le32(m0 + OFF_MAGIC) != META_MAGIC) {
		say(why, why_len, "not an stsmap store: no LMDB meta page");
		return ST_EPARSE;
	}
	out->page_size = le32(m0 + OFF_PSIZE);
	if (out->page_size < PSIZE_MIN || out->page_size > PSIZE_MAX ||
	    (out->page_size & (out->page_size - 1)) != 0) {
		say(why, why_len, "damaged store: page size %" PRIu32
		    " in the first meta page", out->page_size);
		return ST_ESTORE;
	}
	if (out->file_size < 2 * (uint64_t)out->page_size) {
		say(why, why_len, "damaged store: %" PRIu64 " bytes, shorter "
		    "than its two meta pages", out->file_size);
		return ST_ESTORE;
	}
	ret = read_meta(fd, out->page_size, m1);
	if (ret == ST_EIO)
		return ret;
	ok0 = meta_ok(m0, &t0, &l0);
	ok1 = ret == ST_OK && meta_ok(m1, &t1, &l1);
	if (!ok0 && !ok1) {
		say(why, why_len, "damaged store: no valid meta page (LMDB "
		    "data version %" PRIu32 ", this build reads %u)",
		    le32(m0 + OFF_VERSION), META_VERSION);
		return ST_ESTORE;
	}
	/* The current meta is the valid one with the larger txnid. */
	if (ok1 && (!ok0 || t1 > t0)) {
		out->txnid = t1;
		out->last_pg = l1;
	} else {
		out->txnid = t0;
		out->last_pg = l0;
	}
	if (out->last_pg >= UINT64_MAX / out->page_size) {
		say(why, why_len, "damaged store: last page %" PRIu64,
		    out->last_pg);
		return ST_ESTORE;
	}
	need = (out->last_pg + 1) * out->page_size;
	if (need > out->file_size) {
		say(why, why_len, "damaged store: %" PRIu64 " bytes, but its "
		    "pages end at %" PRIu64 " (truncated?)", out->file_size,
		    need);
		return ST_ESTORE;
	}
	return ST_OK;
}

/* "PID STARTED COMMAND" from the holder file, or "unknown". */
static void holder(const char *info_path, char *dst, size_t dst_len)
{
	char buf[512] = "";
	long long pid = 0, started = 0;
	int off = 0;
	size_t n;
	FILE *f = fopen(info_path, "r");

	snprintf(dst, dst_len, "another process (a writer, or a reader of "
		 "a store without its -lock file)");
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (sscanf(buf, "%lld %lld %n", &pid, &started, &off) < 2 || pid <= 0)
		return;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return; /* stale: the holder died; the lock says who is alive */
	snprintf(dst, dst_len, "pid %lld since %lld (%s)", pid, started,
		 buf[off] != '\0' ? buf + off : "command unknown");
}

int ds_writer_lock(int fd, const char *path, const char *owner,
		   struct ds_writer_lock *lk, char *why, size_t why_len)
{
	char who[600];
	FILE *f;
	int rc;

	lk->fd = -1;
	if ((size_t)snprintf(lk->info_path, sizeof(lk->info_path),
			     "%s-writer", path) >= sizeof(lk->info_path))
		return ST_ETOOBIG;
	do
		rc = flock(fd, LOCK_EX | LOCK_NB);
	while (rc != 0 && errno == EINTR);
	if (rc != 0) {
		if (errno != EWOULDBLOCK)
			return ST_EIO;
		holder(lk->info_path, who, sizeof(who));
		say(why, why_len, "store is in use by %s", who);
		return ST_EDENIED;
	}
	lk->fd = fd;
	f = fopen(lk->info_path, "w");
	if (f != NULL) {
		fprintf(f, "%lld %lld %s\n", (long long)getpid(),
			(long long)time(NULL), owner != NULL ? owner : "");
		fclose(f);
	}
	/* No holder file (a read-only directory) only costs the message. */
	return ST_OK;
}

void ds_writer_unlock(struct ds_writer_lock *lk)
{
	if (lk == NULL || lk->fd < 0)
		return;
	(void)unlink(lk->info_path);
	close(lk->fd); /* releases the flock */
	lk->fd = -1;
}

int ds_reader_lock(int fd, char *why, size_t why_len)
{
	int rc;

	do
		rc = flock(fd, LOCK_SH | LOCK_NB);
	while (rc != 0 && errno == EINTR);
	if (rc == 0)
		return ST_OK;
	if (errno != EWOULDBLOCK)
		return ST_EIO;
	say(why, why_len, "store is being opened by a writer; try again");
	return ST_EDENIED;
}
