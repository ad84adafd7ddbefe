/*
 * ds_store_check.h - what the store checks before LMDB maps a file: that
 * it is an LMDB file at all, that it is whole, and that no other writer
 * holds it.  Used by ds_store_open(); callable on its own (tests, tools).
 *
 * Why before mapping: LMDB maps the file and trusts its meta page.  A
 * truncated file (an interrupted copy) then faults with SIGBUS on the
 * first access past its end, killing the process inside LMDB.  Reading
 * the two meta pages with pread() costs two small reads and turns that
 * into an error naming the damage.
 *
 * The meta page (LMDB 0.9, mdb.c, struct MDB_meta after the 16-byte page
 * header on 64-bit builds): mm_magic 0xBEEFC0DE, mm_version 1, the free
 * database's md_pad holding the page size (meta 0 only), mm_last_pg, the
 * last page in use, and mm_txnid.  Pages 0 and 1 are the two metas; the
 * one with the larger txnid is current.  A whole file holds at least
 * (mm_last_pg + 1) * page size bytes.
 *
 * The writer lock: an exclusive flock() on the store file itself, taken
 * before any scan record is read or written and held until
 * ds_store_close().  flock locks belong to the open file description, so
 * two opens in one process exclude each other as two processes do, and
 * the kernel drops the lock when the holder dies (no stale locks).  Who
 * holds it (pid, start time, command) is written to "PATH-writer", beside
 * LMDB's "PATH-lock", and removed before the lock is released; the file is
 * only read when the lock is refused, so a stale one is harmless.
 *
 * No global state; every function is reentrant.
 */
#ifndef DS_STORE_CHECK_H
#define DS_STORE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DS_CHECK_WHY_MAX 256

/* What ds_check_fd() found. */
struct ds_check {
	bool empty;          /* 0 bytes: a file a writer may initialise */
	uint32_t page_size;
	uint64_t last_pg;    /* of the current meta */
	uint64_t txnid;      /* of the current meta */
	uint64_t file_size;
};

/*
 * Check the LMDB file open as fd (read access is enough).  Returns ST_OK
 * and *out; ST_EPARSE when it is not an LMDB file (too short for two
 * metas, no magic, a page size that no LMDB writes) with why "not an
 * stsmap store: ..."; ST_ESTORE when it is one but damaged (no valid
 * meta, a data version this build cannot read, or the file ends before
 * the last page the current meta uses) with why "damaged store: ...";
 * ST_EIO when the reads fail.  why (why_len bytes, may be NULL) gets the
 * message, "" on success.  An empty file is ST_OK with out->empty set.
 */
int ds_check_fd(int fd, struct ds_check *out, char *why, size_t why_len);

/* One writer's hold on a store file; plain data, owned by the caller. */
struct ds_writer_lock {
	int fd;              /* the store file, -1 when not held */
	char info_path[4096 + 8];
};

/*
 * Take the writer lock on the store file open as fd (at path), without
 * waiting.  owner (may be NULL) is a free-text command line stored for a
 * later refused writer.  Returns ST_OK (lk->fd = fd, the caller keeps fd
 * open until ds_writer_unlock), ST_EDENIED when another writer or a
 * lock-file-less reader holds it (why names the holder: "store is in use
 * by pid N since T (command)"), ST_EIO.  fd stays the caller's on error.
 */
int ds_writer_lock(int fd, const char *path, const char *owner,
		   struct ds_writer_lock *lk, char *why, size_t why_len);

/* Remove the holder file, then release the lock (closes lk->fd).  A lock
 * not held (fd -1) is a no-op. */
void ds_writer_unlock(struct ds_writer_lock *lk);

/*
 * A reader of a store with no "PATH-lock" file: LMDB would create one.
 * Instead the reader takes a shared flock on fd for its whole life (so no
 * writer can start and reuse pages under it) and opens with MDB_NOLOCK.
 * Returns ST_OK, ST_EDENIED (a writer holds the store; why says so).
 */
int ds_reader_lock(int fd, char *why, size_t why_len);

#endif /* DS_STORE_CHECK_H */
