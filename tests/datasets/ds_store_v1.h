/*
 * ds_store_v1.h - test fixture: a scan info encoded as scan info version 1
 * wrote it (the codec before the typed options and digests), byte for
 * byte, so tests can build a store of the previous version:
 *   'S' 'I' 1 state
 *   id, shard_index, shard_count            u32 LE
 *   started, finished                       i64 LE
 *   n_results, n_input_errors               u64 LE
 *   n_verdicts u8, then n_verdicts x        u64 LE
 *   label      u8 length, bytes
 *   input_key  u8 length, bytes
 *   meta       u8 present (0/1); if 1: u32 length, bytes, NUL
 * Used by test_ds_store_scan.c and the ds_store_v1 tool (the CLI tests).
 */
#ifndef DS_STORE_V1_H
#define DS_STORE_V1_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds_store.h"

static inline void v1_le(uint8_t *b, size_t *n, uint64_t v, unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		b[(*n)++] = (uint8_t)(v >> (8 * i));
}

/* The version-1 bytes of in, in a malloc'ed buffer (*len), or NULL. */
static inline uint8_t *v1_encode(const struct ds_scan_info *in, size_t *len)
{
	size_t ll = strlen(in->label), kl = strlen(in->input_key);
	size_t ml = in->meta_json != NULL ? strlen(in->meta_json) : 0;
	uint8_t *b = malloc(256 + 8 * DS_SCAN_VERDICTS + ll + kl + ml);
	size_t n = 0;

	if (b == NULL)
		return NULL;
	b[n++] = 'S';
	b[n++] = 'I';
	b[n++] = 1;
	b[n++] = in->state;
	v1_le(b, &n, in->id, 4);
	v1_le(b, &n, in->shard_index, 4);
	v1_le(b, &n, in->shard_count, 4);
	v1_le(b, &n, (uint64_t)in->started, 8);
	v1_le(b, &n, (uint64_t)in->finished, 8);
	v1_le(b, &n, in->n_results, 8);
	v1_le(b, &n, in->n_input_errors, 8);
	b[n++] = DS_SCAN_VERDICTS;
	for (unsigned i = 0; i < DS_SCAN_VERDICTS; i++)
		v1_le(b, &n, in->verdicts[i], 8);
	b[n++] = (uint8_t)ll;
	memcpy(b + n, in->label, ll);
	n += ll;
	b[n++] = (uint8_t)kl;
	memcpy(b + n, in->input_key, kl);
	n += kl;
	b[n++] = in->meta_json != NULL;
	if (in->meta_json != NULL) {
		v1_le(b, &n, ml, 4);
		memcpy(b + n, in->meta_json, ml + 1);
		n += ml + 1;
	}
	*len = n;
	return b;
}

#endif /* DS_STORE_V1_H */
