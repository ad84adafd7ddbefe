/*
 * ds_store.h - the result store: one LMDB environment holding many scans.
 *
 * Named databases (DESIGN §5):
 *   "scans"    scan id (uint32, big-endian)      -> struct ds_scan_info
 *                                                    (own small codec,
 *                                                    ds_store_scan.c)
 *   "results"  scan id (BE) + normalised domain  -> an_record encoding
 *   "bodies"   SHA-256 of a policy body           -> the body bytes
 *   "probes"   scan id (BE) + MX host             -> an_probe_record encoding
 *   "inputs"   scan id (BE) + input (BE 4) + line (BE 8) -> raw NUL why NUL
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
 * Growing remaps the file, which would invalidate the pointers of open
 * readers: while a ds_reader of this store is open, a flush that needs to
 * grow fails with ST_EAGAIN and keeps the batch (close the readers, flush
 * again).  The writer should not keep readers open while it writes.
 *
 * Durability: MDB_NOMETASYNC.  A commit fdatasync()s its data pages; the
 * meta page that publishes it is synced with the next commit and at close.
 * So a killed process (kill -9) loses nothing it committed, and an OS crash
 * or power loss may undo the last commit but never corrupts the file.
 * Measured (ext4 on a VM disk, 1M results of 600 bytes, domains in random
 * order, batch 1000): full sync 8k results/s, MDB_NOMETASYNC 10-15k/s,
 * MDB_NOSYNC 45k/s.  The cost is per commit (each random key dirties its
 * own 4 KiB leaf page, and the disk's flush latency): with batch 10000
 * MDB_NOMETASYNC does 31k/s (300k results: all three modes 80-95k/s), and
 * domains in sorted order (a zone file) go at 180-450k/s.  MDB_NOSYNC was
 * refused: an OS crash can corrupt the whole file, every scan in it.
 *
 * Reading: a struct ds_reader is one read transaction, a consistent
 * snapshot that never blocks the writer (LMDB MVCC).  Every pointer a
 * reader returns stays valid until ds_reader_close().  Other processes may
 * read while a scan writes.
 *
 * Errors from LMDB are mapped here: MDB_NOTFOUND -> ST_ENOENT, ENOMEM ->
 * ST_ENOMEM, MDB_MAP_RESIZED that cannot be handled now (another process
 * grew the map while a reader of ours is open) -> ST_EAGAIN, other
 * failures -> ST_ESTORE (the text goes to the log).
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
#define DS_STORE_WHY_MAX 256                   /* ds_store_open_why() */
#define DS_STORE_NAME_MAX 255                  /* bytes of a domain or host */
#define DS_STORE_VALUE_MAX ((size_t)16 << 20)  /* bytes of one value */

struct ds_store_opts {
	bool read_only;           /* open for reports only (false); every
				   * write then fails with ST_EINVAL */
	uint64_t initial_map;     /* bytes of the first map (64 MiB); a
				   * larger map recorded in the file wins */
	unsigned batch_records;   /* records (results, probes, bodies, scan
				   * updates) per transaction (1000) */
	struct st_log *log;       /* not owned, may be NULL */
	const char *owner;        /* writers: the command line shown to a
				   * refused second writer (NULL); not kept */
};

void ds_store_opts_default(struct ds_store_opts *o);

enum ds_scan_state {
	DS_SCAN_RUNNING = 0,  /* started, not finished (killed or running) */
	DS_SCAN_FINISHED = 1,
};

#define DS_SCAN_LABEL_MAX 64
#define DS_SCAN_VERDICTS 16      /* >= AN_V_COUNT */
#define DS_SCAN_INPUTS_MAX 64    /* >= SC_MAX_INPUTS */
#define DS_SCAN_EXCLUDE_MAX 4096 /* bytes of the --exclude path, with NUL
				  * (PATH_MAX: a longer one cannot be read) */
#define DS_SCAN_DIGEST_LEN 65    /* hex SHA-256 and its NUL */

/*
 * What the store keeps about a scan.  meta_json is free-form JSON written
 * by the scanner (version, command line, options, resolvers, inputs,
 * timings) for people and reports; everything a program decides on is a
 * typed field of its own: the resume key, and the options and inputs that
 * decide what was measured, which `stsmap merge` compares field by field
 * (ds_scan_info_differ()).
 *
 * The typed options and digests exist since scan info version 2.  A scan
 * written by version 1 is migrated when it is read: its fields are taken
 * from its meta_json (the scanner wrote "options" and "inputs" there; a
 * merged scan's from the first shard it lists); have_options stays false
 * when the JSON does not say.
 */
struct ds_scan_info {
	uint32_t id;                       /* 1, 2, ... in creation order */
	uint8_t state;                     /* enum ds_scan_state */
	char label[DS_SCAN_LABEL_MAX];     /* --label, "" if none */
	char input_key[DS_SCAN_DIGEST_LEN]; /* hex digest identifying the
					    * input set and the options that
					    * select domains (the resume key,
					    * see sc_cmd_scan.c) */
	uint32_t shard_index, shard_count; /* 0/1 when not sharded */
	int64_t started, finished;         /* Unix times; finished 0 */
	uint64_t n_results;                /* results stored */
	uint64_t n_input_errors;           /* bad input lines */
	uint64_t verdicts[DS_SCAN_VERDICTS]; /* results per an_verdict */

	/* the options that decide what was measured */
	bool have_options;                 /* false: unknown (see above);
					    * the five below are then 0 */
	uint8_t format;                    /* enum ds_input_format, as given
					    * (DS_FMT_AUTO included) */
	bool probe_mx, dane, fetch_all, allow_private;
	char exclude[DS_SCAN_EXCLUDE_MAX]; /* --exclude path as given, ""
					    * for none */
	bool exclude_mixed;                /* merged from scans with different
					    * --exclude lists (exclude "") */
	/* the inputs, in command-line order */
	uint32_t n_inputs;                 /* 0: unknown */
	char input_sha256[DS_SCAN_INPUTS_MAX][DS_SCAN_DIGEST_LEN];
					   /* hex digest of the bytes read,
					    * "" until read to the end (set
					    * when the scan finishes) */
	const char *meta_json;             /* NUL-terminated, or NULL */
};

/* The fields ds_scan_info_differ() compares, in the order it does. */
enum ds_scan_field {
	DS_SF_NONE = 0,       /* no difference */
	DS_SF_INPUTS,         /* the input digests */
	DS_SF_FORMAT,
	DS_SF_PROBE_MX,
	DS_SF_DANE,
	DS_SF_FETCH_ALL,
	DS_SF_ALLOW_PRIVATE,
	DS_SF_EXCLUDE,        /* the --exclude path (and exclude_mixed) */
	DS_SF_COUNT
};
#define DS_SF_BIT(f) (1u << (f))
#define DS_SF_OPTIONS                                                     \
	(DS_SF_BIT(DS_SF_FORMAT) | DS_SF_BIT(DS_SF_PROBE_MX) |            \
	 DS_SF_BIT(DS_SF_DANE) | DS_SF_BIT(DS_SF_FETCH_ALL) |             \
	 DS_SF_BIT(DS_SF_ALLOW_PRIVATE))

/*
 * The first field among `which` (DS_SF_BIT()s) in which a and b differ,
 * or DS_SF_NONE.  An option known on one side only differs; unknown on
 * both compares equal.  Inputs: a scan without any digest (not read to
 * its end) compares equal to every scan; otherwise the digests known, in
 * order, must be the same.  Exclude: the paths as given; a mixed one
 * differs from every other, mixed included.
 */
enum ds_scan_field ds_scan_info_differ(const struct ds_scan_info *a,
				       const struct ds_scan_info *b,
				       unsigned which);
/* The field as the user knows it: "--probe-mx", "inputs", ... */
const char *ds_scan_field_name(enum ds_scan_field f);
/* The value of field f in info, printable ("on", "off", "unknown", "list",
 * a path, "none", "mixed", the first differing digest's prefix...), into
 * buf[len].  Returns buf. */
char *ds_scan_field_value(const struct ds_scan_info *info,
			  enum ds_scan_field f, char *buf, size_t len);

/*
 * Open (creating if needed, unless read_only) the store at path, a
 * directory-less LMDB file (MDB_NOSUBDIR; a "-lock" file sits next to it,
 * and "-writer" names the writer while one runs).
 * A writer holds an exclusive lock on the file until ds_store_close()
 * (ds_store_check.h): a second writer, in this process or another, gets
 * ST_EDENIED.  A reader never creates or modifies a file (MDB_RDONLY; a
 * store without its -lock file is read with MDB_NOLOCK under a shared
 * lock that keeps writers out while it is open).  Before LMDB maps the
 * file its meta pages are checked: a file that is not an LMDB file is
 * ST_EPARSE ("not an stsmap store"), a truncated or damaged one
 * ST_ESTORE ("damaged store: ...") -- never a SIGBUS.
 * opts may be NULL for the defaults.  Returns ST_OK and *out, ST_ENOENT if
 * read_only and the file does not exist (or its directory does not),
 * ST_ENOTSUP if the file is a store of another format version, ST_EPARSE
 * (not an LMDB file, or an empty file opened read_only), ST_ESTORE
 * (damaged, or an LMDB file that is not a store), ST_EDENIED (another
 * writer holds it), ST_EIO, ST_ENOMEM.
 */
int ds_store_open(const char *path, const struct ds_store_opts *opts,
		  struct ds_store **out);
/* The same, and why (why_len bytes, may be NULL) gets a message for the
 * user on failure: "damaged store: ...", "not an stsmap store: ...",
 * "store is in use by pid N since T (command)", or the system's text. */
int ds_store_open_why(const char *path, const struct ds_store_opts *opts,
		      struct ds_store **out, char *why, size_t why_len);

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
 * domain or host, or longer than DS_STORE_NAME_MAX; NULL data), ST_ETOOBIG
 * (len over DS_STORE_VALUE_MAX), ST_ENOMEM, or a flush error: then the
 * record is in the batch all the same, and the next flush retries it. */
int ds_store_put_result(struct ds_store *s, uint32_t scan, const char *domain,
			const uint8_t *data, size_t len);
int ds_store_put_probe(struct ds_store *s, uint32_t scan, const char *host,
		       const uint8_t *data, size_t len);
/* Policy bodies are content-addressed: the key is the SHA-256 of the
 * bytes, which the store computes (ds_store_body_hash()) and returns in
 * hash[] for the record that refers to the body.  A body is stored once:
 * a put of a body already stored (or already in the batch) costs nothing
 * but the hash.  hash[] is set whenever the return is ST_OK (or a flush
 * error, the body then being in the batch). */
int ds_store_put_body(struct ds_store *s, const uint8_t *body, size_t len,
		      uint8_t hash[DS_STORE_HASH_LEN]);
/* The key a body is stored under, for a caller without a store (`stsmap
 * check` prints it).  ST_OK, ST_EINVAL (NULL), ST_ENOMEM. */
int ds_store_body_hash(const uint8_t *body, size_t len,
		       uint8_t hash[DS_STORE_HASH_LEN]);

/*
 * A bad input line (an input finding: DESIGN §4), kept per scan under
 * "inputs" keyed by (scan, input index, line): raw is the line as read
 * (sanitised by the reader), why the reason (NULL is taken as "").  Into
 * the batch; putting the same (scan, input, line) twice keeps the last.
 * Returns ST_OK, ST_EINVAL, ST_ETOOBIG, ST_ENOMEM or a flush error.
 */
int ds_store_put_input_error(struct ds_store *s, uint32_t scan,
			     uint32_t input, uint64_t line, const char *raw,
			     const char *why);

/* Write the batch now, in one transaction.  ST_OK when it is empty.  On an
 * error the batch is kept; ST_EDENIED if it writes to a finished scan
 * (DESIGN §5: a finished scan is never modified; nothing is written); ST_EAGAIN if the map must grow while a reader
 * is open (see above). */
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
	uint64_t read_renews;   /* snapshots taken for "is it committed?"
				 * (has_result, the body dedup): at most
				 * one per commit, whatever the lookups */
};
void ds_store_stats(const struct ds_store *s, struct ds_store_stats *out);

/* --- reading --- */

/* Begin a read snapshot.  Several may be open at once.  The store must
 * outlive it.  ST_EAGAIN if another process grew the map and a reader of
 * this store is still open (close it and retry). */
int ds_reader_open(struct ds_store *s, struct ds_reader **out);
void ds_reader_close(struct ds_reader *r); /* NULL is a no-op */

/* Scan info, by id, or the latest one (highest id): ST_OK, ST_ENOENT,
 * ST_EPARSE (stored info malformed), ST_ENOTSUP (written by a newer
 * version).  info->meta_json points into the snapshot. */
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

/* Copy the name of a result or probe key (a walk callback's domain or
 * host, domain_len bytes, not NUL-terminated) into out as a C string.
 * false (out "") when len is 0 or over DS_STORE_NAME_MAX, or the bytes
 * hold a NUL: no name the store would have taken. */
bool ds_store_key_name(const char *key, size_t len,
		       char out[DS_STORE_NAME_MAX + 1]);

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
/* Every input error of scan in (input, line) order; raw and why are
 * NUL-terminated, valid until the reader closes.  A non-zero return of cb
 * stops the walk and is returned; a malformed record is ST_EPARSE. */
typedef int (*ds_input_error_cb)(uint32_t input, uint64_t line,
				 const char *raw, const char *why, void *arg);
int ds_reader_input_errors(struct ds_reader *r, uint32_t scan,
			   ds_input_error_cb cb, void *arg);
int ds_reader_body(struct ds_reader *r,
		   const uint8_t hash[DS_STORE_HASH_LEN],
		   const uint8_t **data, size_t *len);

#endif /* DS_STORE_H */
