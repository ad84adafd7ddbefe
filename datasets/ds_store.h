/*
 * ds_store.h - the result store: one LMDB environment holding many scans.
 *
 * Named databases (DESIGN §5):
 *   "scans"    scan id (uint32, big-endian)      -> struct ds_scan_info
 *                                                    (own small codec)
 *   "results"  scan id (BE) + normalised domain  -> an_record encoding
 *   "bodies"   SHA-256 of a policy body           -> the body bytes
 *   "probes"   scan id (BE) + MX host             -> an_probe_record encoding
 * The store treats records as opaque bytes: the record model and its codec
 * live in analysis/an_record.h.  Keys put results of one scan together,
 * sorted by domain, so a report reads one scan with one cursor pass.
 *
 * Writing (one writer process; the scanner): puts go to an in-memory batch;
 * ds_store_flush() writes the batch in one transaction.  The batch is also
 * flushed by a put once it holds batch_records records.  The caller calls
 * ds_store_flush() every few hundred milliseconds (the scanner's timer).
 * A crash loses at most the batch not yet flushed; a result key put twice
 * keeps the last value (so a resumed scan that redoes a domain never
 * creates a duplicate).  When the map is full, the store grows it (doubling)
 * and writes the batch again: no put is ever lost to MDB_MAP_FULL.
 *
 * Reading: a struct ds_reader is one read transaction, a consistent
 * snapshot that never blocks the writer (LMDB MVCC).  Every pointer a
 * reader returns stays valid until ds_reader_close().  Other processes may
 * read while a scan writes.
 *
 * Errors from LMDB are mapped here: MDB_NOTFOUND -> ST_ENOENT, ENOMEM ->
 * ST_ENOMEM, other failures -> ST_ESTORE (the text goes to the log).
 *
 * Not thread safe: one struct ds_store per thread.  No global state.
 */
#ifndef DS_STORE_H
#define DS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_log.h"

struct ds_store;
struct ds_reader;

#define DS_STORE_HASH_LEN 32

struct ds_store_opts {
	bool read_only;           /* open for reports only (false) */
	uint64_t initial_map;     /* bytes of the first map (64 MiB) */
	unsigned batch_records;   /* results per transaction (1000) */
	struct st_log *log;       /* not owned, may be NULL */
};

void ds_store_opts_default(struct ds_store_opts *o);

enum ds_scan_state {
	DS_SCAN_RUNNING = 0,  /* started, not finished (killed or running) */
	DS_SCAN_FINISHED = 1,
};

#define DS_SCAN_LABEL_MAX 64
#define DS_SCAN_VERDICTS 16  /* >= AN_V_COUNT */

/* What the store keeps about a scan.  meta_json is free-form JSON written
 * by the scanner (version, command line, options, resolvers, inputs,
 * timings); everything a resume decision needs is a field of its own. */
struct ds_scan_info {
	uint32_t id;                       /* 1, 2, ... in creation order */
	uint8_t state;                     /* enum ds_scan_state */
	char label[DS_SCAN_LABEL_MAX];     /* --label, "" if none */
	char input_key[65];                /* hex digest identifying the input
					    * set and the options that select
					    * domains (see sc_scan.c) */
	uint32_t shard_index, shard_count; /* 0/1 when not sharded */
	int64_t started, finished;         /* Unix times; finished 0 */
	uint64_t n_results;                /* results stored */
	uint64_t n_input_errors;           /* bad input lines */
	uint64_t verdicts[DS_SCAN_VERDICTS]; /* results per an_verdict */
	const char *meta_json;             /* NUL-terminated, or NULL */
};

/*
 * Open (creating if needed, unless read_only) the store at path, a
 * directory-less LMDB file (MDB_NOSUBDIR; a "-lock" file sits next to it).
 * opts may be NULL for the defaults.  Returns ST_OK and *out, ST_ENOENT if
 * read_only and the file does not exist, ST_ESTORE, ST_ENOMEM.
 */
int ds_store_open(const char *path, const struct ds_store_opts *opts,
		  struct ds_store **out);

/* Flush the batch and close.  Returns the flush's result (the store is
 * closed whatever it is).  NULL is a no-op returning ST_OK. */
int ds_store_close(struct ds_store *s);

/*
 * Create a scan from info (id, state and n_results are ignored and set
 * here: the next id, RUNNING, 0); info->meta_json is copied.  Written at
 * once, in its own transaction.  Returns ST_OK and *id.
 */
int ds_store_scan_create(struct ds_store *s, const struct ds_scan_info *info,
			 uint32_t *id);

/*
 * Replace the stored info of scan info->id (e.g. the counters, or state
 * FINISHED).  Goes into the batch, so counters and the results they count
 * are committed together.  ST_ENOENT if the scan does not exist.
 */
int ds_store_scan_update(struct ds_store *s, const struct ds_scan_info *info);

/* Add to the batch.  Bytes are copied.  Returns ST_OK, ST_EINVAL (empty
 * domain or host, NULL data), ST_ENOMEM, or a flush error. */
int ds_store_put_result(struct ds_store *s, uint32_t scan, const char *domain,
			const uint8_t *data, size_t len);
int ds_store_put_probe(struct ds_store *s, uint32_t scan, const char *host,
		       const uint8_t *data, size_t len);
/* Bodies are stored once per hash: a put of a hash already stored (or
 * already in the batch) costs nothing. */
int ds_store_put_body(struct ds_store *s,
		      const uint8_t hash[DS_STORE_HASH_LEN],
		      const uint8_t *body, size_t len);

/* Write the batch now, in one transaction.  ST_OK when it is empty. */
int ds_store_flush(struct ds_store *s);

/* Records waiting in the batch. */
size_t ds_store_batch_size(const struct ds_store *s);

/* Is a result for (scan, domain) committed?  Reads the committed state
 * only (the caller tracks what it has put but not yet flushed).  Returns
 * 1, 0, or a negative ST_* error. */
int ds_store_has_result(struct ds_store *s, uint32_t scan,
			const char *domain);

/* Counters of the environment (for benchmarks and `stsmap report`). */
struct ds_store_stats {
	uint64_t map_size;      /* bytes mapped now */
	uint64_t used;          /* bytes of pages in use */
	uint64_t commits;       /* write transactions committed */
	uint64_t grows;         /* times the map was grown */
};
void ds_store_stats(const struct ds_store *s, struct ds_store_stats *out);

/* --- reading --- */

/* Begin a read snapshot.  Several may be open at once.  The store must
 * outlive it. */
int ds_reader_open(struct ds_store *s, struct ds_reader **out);
void ds_reader_close(struct ds_reader *r); /* NULL is a no-op */

/* Scan info, by id, or the latest one (highest id): ST_OK, ST_ENOENT.
 * info->meta_json points into the snapshot. */
int ds_reader_scan(struct ds_reader *r, uint32_t id,
		   struct ds_scan_info *info);
int ds_reader_scan_latest(struct ds_reader *r, struct ds_scan_info *info);

/* Call cb for every scan, in id order; a non-zero return stops the walk
 * and is returned. */
typedef int (*ds_scan_cb)(const struct ds_scan_info *info, void *arg);
int ds_reader_scans(struct ds_reader *r, ds_scan_cb cb, void *arg);

/* One result: ST_OK and *data, *len (valid until the reader closes). */
int ds_reader_result(struct ds_reader *r, uint32_t scan, const char *domain,
		     const uint8_t **data, size_t *len);

/* Call cb for every result of scan, sorted by domain; domain is not
 * NUL-terminated (domain_len bytes).  A non-zero return stops the walk and
 * is returned; otherwise ST_OK. */
typedef int (*ds_result_cb)(const char *domain, size_t domain_len,
			    const uint8_t *data, size_t len, void *arg);
int ds_reader_results(struct ds_reader *r, uint32_t scan, ds_result_cb cb,
		      void *arg);

int ds_reader_probe(struct ds_reader *r, uint32_t scan, const char *host,
		    const uint8_t **data, size_t *len);
int ds_reader_probes(struct ds_reader *r, uint32_t scan, ds_result_cb cb,
		     void *arg);
int ds_reader_body(struct ds_reader *r,
		   const uint8_t hash[DS_STORE_HASH_LEN],
		   const uint8_t **data, size_t *len);

#endif /* DS_STORE_H */
