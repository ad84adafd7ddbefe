/*
 * fuzz_scan_info.c - libFuzzer target for the scan info codec
 * (datasets/ds_store_scan.h): versions 1 and 2, and so the version-1
 * migration's JSON reader (ds_store_meta.c), since a version-1 value
 * carries its metadata JSON.
 *
 * An input not starting with "SI" is taken as metadata JSON and given to
 * the migration alone (ds_scan_meta_v1()).
 * Invariants when a decode succeeds: every string field terminated within
 * its array, n_inputs within its cap, each digest "" or 64 hex digits;
 * encoding the info again succeeds and decodes to equal fields; for a
 * version-2 input the encoding is the input itself (one encoding per
 * info, given all DS_SCAN_VERDICTS counters: fewer decode zero-filled).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds_store_scan.h"
#include "st_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                      \
	do {                             \
		if (!(cond))             \
			__builtin_trap(); \
	} while (0)

static struct ds_scan_info a, b;

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_fields(const struct ds_scan_info *i)
{
	CHECK(terminated(i->label, sizeof(i->label)));
	CHECK(terminated(i->input_key, sizeof(i->input_key)));
	CHECK(terminated(i->exclude, sizeof(i->exclude)));
	CHECK(i->n_inputs <= DS_SCAN_INPUTS_MAX);
	CHECK(i->state <= DS_SCAN_FINISHED);
	for (uint32_t k = 0; k < i->n_inputs; k++) {
		size_t n = strnlen(i->input_sha256[k], DS_SCAN_DIGEST_LEN);

		CHECK(n == 0 || n == DS_SCAN_DIGEST_LEN - 1);
		CHECK(strspn(i->input_sha256[k], "0123456789abcdef") == n);
	}
	if (!i->have_options)
		CHECK(!i->probe_mx && !i->dane && !i->fetch_all &&
		      !i->allow_private && i->exclude[0] == '\0');
}

static void check_same(const struct ds_scan_info *x,
		       const struct ds_scan_info *y)
{
	CHECK(x->id == y->id && x->state == y->state);
	CHECK(strcmp(x->label, y->label) == 0);
	CHECK(strcmp(x->input_key, y->input_key) == 0);
	CHECK(x->shard_index == y->shard_index &&
	      x->shard_count == y->shard_count);
	CHECK(x->started == y->started && x->finished == y->finished);
	CHECK(x->n_results == y->n_results &&
	      x->n_input_errors == y->n_input_errors);
	CHECK(memcmp(x->verdicts, y->verdicts, sizeof(x->verdicts)) == 0);
	CHECK(x->have_options == y->have_options && x->format == y->format);
	CHECK(x->probe_mx == y->probe_mx && x->dane == y->dane &&
	      x->fetch_all == y->fetch_all &&
	      x->allow_private == y->allow_private &&
	      x->exclude_mixed == y->exclude_mixed);
	CHECK(strcmp(x->exclude, y->exclude) == 0);
	CHECK(x->n_inputs == y->n_inputs);
	for (uint32_t k = 0; k < x->n_inputs; k++)
		CHECK(strcmp(x->input_sha256[k], y->input_sha256[k]) == 0);
	CHECK((x->meta_json == NULL) == (y->meta_json == NULL));
	CHECK(x->meta_json == NULL || strcmp(x->meta_json, y->meta_json) == 0);
	CHECK(ds_scan_info_differ(x, y, ~0u & ~DS_SF_BIT(DS_SF_EXCLUDE)) ==
	      DS_SF_NONE);
}

/* Input not starting with "SI": the metadata JSON alone, through the
 * version-1 migration. */
static void meta_only(const uint8_t *data, size_t size)
{
	char *meta = malloc(size + 1);

	CHECK(meta != NULL);
	memcpy(meta, data, size);
	meta[size] = '\0';
	memset(&a, 0, sizeof(a));
	ds_scan_meta_v1(meta, &a);
	check_fields(&a);
	free(meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t len = 0, len2 = 0;

	if (size < 2 || data[0] != 'S' || data[1] != 'I') {
		meta_only(data, size);
		return 0;
	}
	if (ds_scan_decode(data, size, &a) != ST_OK)
		return 0;
	check_fields(&a);
	CHECK(ds_scan_encode(&a, NULL, 0, &len) == ST_OK);
	buf = malloc(len);
	CHECK(buf != NULL);
	CHECK(ds_scan_encode(&a, buf, len, &len2) == ST_OK && len2 == len);
	/* byte 48 is n_verdicts: fewer are zero-filled, so only an input
	 * with all of them is the one encoding */
	if (data[2] == DS_SCAN_CODEC_VERSION && data[48] == DS_SCAN_VERDICTS)
		CHECK(len == size && memcmp(buf, data, size) == 0);
	CHECK(ds_scan_decode(buf, len, &b) == ST_OK);
	check_same(&a, &b);
	free(buf);
	return 0;
}
