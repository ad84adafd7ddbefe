/*
 * ds_store_scan.h - the codec of a scan's info (the values of the store's
 * "scans" database), inside datasets/: ds_store.c stores the bytes,
 * ds_store_scan.c turns struct ds_scan_info into them and back, and
 * ds_store_meta.c migrates a version-1 scan's fields out of its JSON.
 * Pure functions over bytes, no LMDB: table-tested and fuzzed.
 */
#ifndef DS_STORE_SCAN_H
#define DS_STORE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ds_store.h"

/* Version written; the decoder reads 1 and 2. */
#define DS_SCAN_CODEC_VERSION 2

/*
 * Encode in into out[0..cap); *len = the encoded length.  out NULL only
 * measures.  ST_EINVAL for an unterminated string field, a bad state,
 * n_inputs over DS_SCAN_INPUTS_MAX or a digest that is neither "" nor 64
 * hex digits; ST_ETOOBIG for meta_json over the value cap; ST_ESPACE if
 * cap is too small.
 */
int ds_scan_encode(const struct ds_scan_info *in, uint8_t *out, size_t cap,
		   size_t *len);

/*
 * Decode buf[0..len) into out; out->meta_json points into buf (valid as
 * long as buf is).  A version-1 value is migrated: the typed options and
 * digests come from its meta_json (ds_scan_meta_v1()).  ST_EPARSE if
 * malformed, ST_ENOTSUP for a newer codec version.
 */
int ds_scan_decode(const uint8_t *buf, size_t len, struct ds_scan_info *out);

/*
 * The version-1 migration: fill out's options (have_options, format,
 * probe_mx, dane, fetch_all, allow_private, exclude) and inputs (n_inputs,
 * input_sha256) from meta, the JSON version 1 kept them in:
 *   {..., "options":{"format":"list","probe_mx":false,...,"exclude":null},
 *    "inputs":[{"path":...,"sha256":"<hex>"|null},...], ...}
 * or, for a merged scan, {..., "merge":{..."shards":[{"meta":{...}}]}}:
 * the first shard's.  Fields the JSON does not hold (or holds malformed)
 * stay unknown; meta NULL leaves everything unknown.  Never fails: the
 * JSON was free-form in version 1.
 */
void ds_scan_meta_v1(const char *meta, struct ds_scan_info *out);

#endif /* DS_STORE_SCAN_H */
