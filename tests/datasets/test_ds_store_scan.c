/*
 * test_ds_store_scan.c - datasets/: the scan info codec (ds_store_scan.c),
 * the version-1 migration (ds_store_meta.c), the typed comparison merge
 * uses (ds_scan_info_differ()), ds_store_key_name(), and an old-version
 * store read and written by this version (issue 13 item 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <lmdb.h>

#include "ds_input.h"
#include "ds_store.h"
#include "ds_store_scan.h"
#include "ds_store_v1.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define D1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define D3 "00000000000000000000000000000000000000000000000000000000000000ff"

static struct ds_scan_info *new_info(void)
{
	struct ds_scan_info *i = calloc(1, sizeof(*i));

	assert_non_null(i);
	return i;
}

static void assert_same(const struct ds_scan_info *a,
			const struct ds_scan_info *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->label, b->label);
	assert_string_equal(a->input_key, b->input_key);
	assert_int_equal(a->shard_index, b->shard_index);
	assert_int_equal(a->shard_count, b->shard_count);
	assert_true(a->started == b->started && a->finished == b->finished);
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

/* ---- version 2 ---- */

static void test_v2_round_trip(void **state)
{
	struct ds_scan_info *in = new_info(), *out = new_info();
	uint8_t *buf, *again;
	size_t len, len2;

	(void)state;
	in->id = 9;
	in->state = DS_SCAN_FINISHED;
	snprintf(in->label, sizeof(in->label), "june");
	snprintf(in->input_key, sizeof(in->input_key), D3);
	in->shard_index = 1;
	in->shard_count = 4;
	in->started = 1700000000;
	in->finished = 1700003600;
	in->n_results = 5;
	in->verdicts[3] = 5;
	in->have_options = true;
	in->format = DS_FMT_TRANCO;
	in->dane = true;
	in->allow_private = true;
	snprintf(in->exclude, sizeof(in->exclude), "/srv/opt-out.txt");
	in->n_inputs = 3;
	snprintf(in->input_sha256[0], DS_SCAN_DIGEST_LEN, D1);
	/* [1] "": an input not read to its end */
	snprintf(in->input_sha256[2], DS_SCAN_DIGEST_LEN, D2);
	in->meta_json = "{\"tool\":\"stsmap\"}";
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_OK);
	buf = malloc(len);
	again = malloc(len);
	assert_int_equal(ds_scan_encode(in, buf, len - 1, &len2), ST_ESPACE);
	assert_int_equal(ds_scan_encode(in, buf, len, &len2), ST_OK);
	assert_int_equal(len, len2);
	assert_int_equal(buf[2], DS_SCAN_CODEC_VERSION);
	assert_int_equal(DS_SCAN_CODEC_VERSION, 2);
	assert_int_equal(ds_scan_decode(buf, len, out), ST_OK);
	assert_same(in, out);
	assert_ptr_equal(out->meta_json, (const char *)buf + len -
						 strlen(in->meta_json) - 1);
	/* one encoding: decoding and encoding again gives the same bytes */
	assert_int_equal(ds_scan_encode(out, again, len, &len2), ST_OK);
	assert_memory_equal(buf, again, len);

	/* the options unknown: nothing of them is written */
	in->have_options = false;
	in->format = 0;
	in->dane = in->allow_private = false;
	in->exclude[0] = '\0';
	in->n_inputs = 0;
	in->meta_json = NULL;
	assert_int_equal(ds_scan_encode(in, buf, len, &len2), ST_OK);
	assert_int_equal(ds_scan_decode(buf, len2, out), ST_OK);
	assert_same(in, out);
	free(buf);
	free(again);
	free(in);
	free(out);
}

/* What the encoder refuses to write. */
static void test_v2_encode_refused(void **state)
{
	struct ds_scan_info *in = new_info();
	size_t len;

	(void)state;
	in->n_inputs = DS_SCAN_INPUTS_MAX + 1;
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_EINVAL);
	in->n_inputs = 1;
	snprintf(in->input_sha256[0], DS_SCAN_DIGEST_LEN, "abc");
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_EINVAL);
	snprintf(in->input_sha256[0], DS_SCAN_DIGEST_LEN, "%s", D1);
	in->input_sha256[0][5] = 'A'; /* lower-case hex only */
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_EINVAL);
	in->input_sha256[0][5] = '5';
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_OK);
	memset(in->exclude, 'x', sizeof(in->exclude)); /* not terminated */
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_EINVAL);
	in->exclude[sizeof(in->exclude) - 1] = '\0'; /* the longest path */
	assert_int_equal(ds_scan_encode(in, NULL, 0, &len), ST_OK);
	free(in);
}

/*
 * The minimal encoding below (label "", input_key "", options known with
 * exclude "ab", one digest, no meta) and what a decoder must refuse.
 * Offsets: 0 magic, 2 version, 3 state, 4 id, 8 shard_index, 12
 * shard_count, 16 started, 24 finished, 32 n_results, 40 n_input_errors,
 * 48 n_verdicts, 49 verdicts (16 x 8), 177 label, 178 input_key, 179
 * options, 180 format, 181 flags, 182 exclude length, 184 "ab", 186
 * n_inputs, 187 digest length, 188 digest, 252 meta flag; 253 bytes.
 */
static const struct {
	const char *what;
	size_t off;        /* byte to set, or SIZE_MAX */
	uint8_t val;
	size_t cut;        /* bytes to drop from the end (or add: 99) */
	int want;
} bad_rows[] = {
	{ "a newer version", 2, 3, 0, ST_ENOTSUP },
	{ "version 0", 2, 0, 0, ST_EPARSE },
	{ "state 2", 3, 2, 0, ST_EPARSE },
	{ "options byte 2", 179, 2, 0, ST_EPARSE },
	{ "format past zone", 180, DS_FMT_ZONE + 1, 0, ST_EPARSE },
	{ "an unknown flag bit", 181, 0x20, 0, ST_EPARSE },
	{ "a NUL inside the exclude path", 185, 0, 0, ST_EPARSE },
	{ "65 inputs", 186, DS_SCAN_INPUTS_MAX + 1, 0, ST_EPARSE },
	{ "a digest of 63 digits", 187, 63, 0, ST_EPARSE },
	{ "a digest not hex", 188, 'g', 0, ST_EPARSE },
	{ "a digest in upper case", 188, 'A', 0, ST_EPARSE },
	{ "meta flag 2", 252, 2, 0, ST_EPARSE },
	{ "one byte short", SIZE_MAX, 0, 1, ST_EPARSE },
	{ "cut in the options", SIZE_MAX, 0, 253 - 181, ST_EPARSE },
	{ "a byte too many", SIZE_MAX, 0, 99, ST_EPARSE },
};

static void test_v2_decode_refused(void **state)
{
	struct ds_scan_info *in = new_info(), *out = new_info();
	uint8_t good[300], buf[300];
	size_t len;

	(void)state;
	in->have_options = true;
	snprintf(in->exclude, sizeof(in->exclude), "ab");
	in->n_inputs = 1;
	snprintf(in->input_sha256[0], DS_SCAN_DIGEST_LEN, D1);
	assert_int_equal(ds_scan_encode(in, good, sizeof(good), &len), ST_OK);
	assert_int_equal(len, 253);
	assert_int_equal(good[179], 1);
	assert_int_equal(good[186], 1);
	assert_int_equal(good[187], 64);
	assert_int_equal(ds_scan_decode(good, len, out), ST_OK);
	for (size_t i = 0; i < ARRAY_LEN(bad_rows); i++) {
		size_t l = len;

		memcpy(buf, good, len);
		if (bad_rows[i].off != SIZE_MAX)
			buf[bad_rows[i].off] = bad_rows[i].val;
		if (bad_rows[i].cut == 99)
			buf[l++] = 0;
		else
			l -= bad_rows[i].cut;
		if (ds_scan_decode(buf, l, out) != bad_rows[i].want)
			fail_msg("%s: got %d", bad_rows[i].what,
				 ds_scan_decode(buf, l, out));
	}
	free(in);
	free(out);
}

/* ---- version 1, migrated on read ---- */

/* The metadata the scanner of version 1 wrote (sc_cmd_scan.c). */
#define META_SCAN(opts, inputs)                                             \
	"{\"tool\":\"stsmap\",\"version\":\"0.1.0\",\"command\":\"stsmap "  \
	"scan --probe-mx x\",\"resolvers\":[\"127.1.0.2\"],\"options\":"    \
	opts ",\"inputs\":" inputs ",\"resumed\":false,\"pass\":{\"read\":3," \
	"\"bad\":0,\"elapsed_s\":1.5,\"local_errors\":0}}"
#define OPTS(fmt, pm, dane, fa, ap, ex)                                     \
	"{\"format\":\"" fmt "\",\"qps\":100,\"inflight\":64,\"probe_mx\":"  \
	pm ",\"dane\":" dane ",\"fetch_all\":" fa ",\"allow_private\":" ap   \
	",\"shard\":\"1/4\",\"exclude\":" ex "}"

static const struct {
	const char *what;
	const char *meta;
	bool have_options;
	uint8_t format;
	bool probe_mx, dane, fetch_all, allow_private;
	const char *exclude;
	uint32_t n_inputs;
	const char *sha[3];
} v1_rows[] = {
	{ "a finished scan of two inputs",
	  META_SCAN(OPTS("tranco", "true", "false", "true", "false",
			 "\"/srv/opt out.txt\""),
		    "[{\"path\":\"top.csv\",\"lines\":3,\"sha256\":\"" D1 "\"},"
		    "{\"path\":\"-\",\"lines\":0,\"sha256\":\"" D2 "\"}]"),
	  true, DS_FMT_TRANCO, true, false, true, false, "/srv/opt out.txt",
	  2, { D1, D2 } },
	{ "a running scan: digests null, exclude null",
	  META_SCAN(OPTS("list", "false", "true", "false", "true", "null"),
		    "[{\"path\":\"a\",\"lines\":1,\"sha256\":null}]"),
	  true, DS_FMT_LIST, false, true, false, true, "", 1, { "" } },
	{ "escapes in the exclude path are undone",
	  META_SCAN(OPTS("zone", "false", "false", "false", "false",
			 "\"/x/\\\"q\\\"\\\\b\\u0041\\/\\t\""), "[]"),
	  true, DS_FMT_ZONE, false, false, false, false, "/x/\"q\"\\bA/\t", 0,
	  { NULL } },
	{ "blanks between the tokens",
	  " { \"options\" : { \"format\" : \"auto\" , \"probe_mx\" : true , "
	  "\"dane\" : true , \"fetch_all\" : false , \"allow_private\" : "
	  "false , \"exclude\" : null } , \"inputs\" : [ ] } ",
	  true, DS_FMT_AUTO, true, true, false, false, "", 0, { NULL } },
	{ "a merged scan: the first shard's",
	  "{\"tool\":\"stsmap\",\"command\":\"stsmap merge m s0 s1\",\"merge\":"
	  "{\"shard_count\":2,\"partial\":false,\"missing\":[],\"shards\":["
	  "{\"store\":\"s0\",\"scan\":1,\"label\":\"\",\"meta\":"
	  META_SCAN(OPTS("list", "true", "false", "false", "false", "\"e\""),
		    "[{\"path\":\"l\",\"sha256\":\"" D1 "\"}]") "},"
	  "{\"store\":\"s1\",\"scan\":1,\"meta\":"
	  META_SCAN(OPTS("zone", "false", "true", "true", "true", "null"),
		    "[{\"path\":\"l\",\"sha256\":\"" D2 "\"}]") "}]}}",
	  true, DS_FMT_LIST, true, false, false, false, "e", 1, { D1 } },
	{ "no options at all", "{\"tool\":\"stsmap\"}", false, 0, false,
	  false, false, false, "", 0, { NULL } },
	{ "an option missing",
	  "{\"options\":{\"format\":\"list\",\"probe_mx\":true,\"dane\":false,"
	  "\"fetch_all\":false,\"exclude\":null}}",
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "an unknown format name",
	  META_SCAN(OPTS("csv", "true", "false", "false", "false", "null"),
		    "[]"),
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "a bool that is not one",
	  META_SCAN(OPTS("list", "1", "false", "false", "false", "null"),
		    "[]"),
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "options only nested elsewhere count for nothing",
	  "{\"pass\":{\"options\":" OPTS("list", "true", "true", "true",
					 "true", "null") "}}",
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "JSON cut short: nothing trusted",
	  "{\"options\":" OPTS("list", "true", "false", "false", "false",
			       "null") ",\"inputs\":[{\"sha256\":\"" D1,
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "a digest that is not one: nothing trusted",
	  META_SCAN(OPTS("list", "true", "false", "false", "false", "null"),
		    "[{\"sha256\":\"abc\"}]"),
	  false, 0, false, false, false, false, "", 0, { NULL } },
	{ "not an object", "[1,2]", false, 0, false, false, false, false, "",
	  0, { NULL } },
	{ "a raw control character in a string",
	  "{\"options\":{\"format\":\"li\nst\"}}", false, 0, false, false,
	  false, false, "", 0, { NULL } },
};

static void test_v1_migrated(void **state)
{
	struct ds_scan_info *in = new_info(), *out = new_info();

	(void)state;
	in->id = 4;
	in->state = DS_SCAN_FINISHED;
	snprintf(in->label, sizeof(in->label), "old");
	snprintf(in->input_key, sizeof(in->input_key), D3);
	in->shard_index = 1;
	in->shard_count = 4;
	in->started = 1600000000;
	in->finished = 1600000100;
	in->n_results = 7;
	in->n_input_errors = 2;
	in->verdicts[0] = 7;
	for (size_t i = 0; i < ARRAY_LEN(v1_rows); i++) {
		size_t len;
		uint8_t *b;

		in->meta_json = v1_rows[i].meta;
		b = v1_encode(in, &len);
		assert_non_null(b);
		assert_int_equal(b[2], 1);
		if (ds_scan_decode(b, len, out) != ST_OK)
			fail_msg("%s: not decoded", v1_rows[i].what);
		/* the version-1 fields as they were */
		assert_int_equal(out->id, 4);
		assert_string_equal(out->label, "old");
		assert_string_equal(out->input_key, D3);
		assert_true(out->n_results == 7 && out->n_input_errors == 2);
		assert_true(out->verdicts[0] == 7 && out->finished == 1600000100);
		assert_string_equal(out->meta_json, v1_rows[i].meta);
		/* the typed ones out of the JSON */
		if (out->have_options != v1_rows[i].have_options ||
		    out->format != v1_rows[i].format ||
		    out->probe_mx != v1_rows[i].probe_mx ||
		    out->dane != v1_rows[i].dane ||
		    out->fetch_all != v1_rows[i].fetch_all ||
		    out->allow_private != v1_rows[i].allow_private ||
		    strcmp(out->exclude, v1_rows[i].exclude) != 0 ||
		    out->n_inputs != v1_rows[i].n_inputs)
			fail_msg("%s: options %d fmt %u pm %d dane %d fa %d ap %d "
				 "exclude '%s' inputs %u", v1_rows[i].what,
				 out->have_options, out->format, out->probe_mx,
				 out->dane, out->fetch_all, out->allow_private,
				 out->exclude, out->n_inputs);
		for (uint32_t k = 0; k < out->n_inputs; k++)
			assert_string_equal(out->input_sha256[k],
					    v1_rows[i].sha[k]);
		free(b);
	}
	/* no meta at all */
	in->meta_json = NULL;
	{
		size_t len;
		uint8_t *b = v1_encode(in, &len);

		assert_int_equal(ds_scan_decode(b, len, out), ST_OK);
		assert_false(out->have_options);
		assert_int_equal(out->n_inputs, 0);
		assert_null(out->meta_json);
		free(b);
	}
	free(in);
	free(out);
}

/* Deep nesting is refused, not recursed into without end. */
static void test_v1_deep(void **state)
{
	struct ds_scan_info *out = new_info();
	size_t n = 0;
	char *meta = malloc(200000);

	(void)state;
	n += (size_t)sprintf(meta, "{\"x\":");
	for (int i = 0; i < 50000; i++)
		meta[n++] = '[';
	meta[n] = '\0';
	ds_scan_meta_v1(meta, out);
	assert_false(out->have_options);
	n = (size_t)sprintf(meta, "{\"x\":");
	for (int i = 0; i < 60; i++)
		meta[n++] = '[';
	for (int i = 0; i < 60; i++)
		meta[n++] = ']';
	sprintf(meta + n, ",\"options\":" OPTS("list", "true", "false",
					       "false", "false", "null") "}");
	ds_scan_meta_v1(meta, out);
	assert_true(out->have_options);
	assert_true(out->probe_mx);
	/* as many inputs as the info holds, and one more */
	for (int extra = 0; extra < 2; extra++) {
		memset(out, 0, sizeof(*out));
		n = (size_t)sprintf(meta, "{\"options\":" OPTS("list", "true",
				    "false", "false", "false", "null")
				    ",\"inputs\":[");
		for (int i = 0; i < DS_SCAN_INPUTS_MAX + extra; i++)
			n += (size_t)sprintf(meta + n, "%s{\"sha256\":\"%s\"}",
					     i > 0 ? "," : "", D1);
		sprintf(meta + n, "]}");
		ds_scan_meta_v1(meta, out);
		assert_int_equal(out->n_inputs, extra ? 0 : DS_SCAN_INPUTS_MAX);
		assert_int_equal(out->have_options, !extra);
		if (!extra)
			assert_string_equal(out->input_sha256[63], D1);
	}
	free(meta);
	free(out);
}

/* ---- the comparison ---- */

static void base(struct ds_scan_info *i)
{
	memset(i, 0, sizeof(*i));
	i->have_options = true;
	i->format = DS_FMT_LIST;
	i->probe_mx = true;
	snprintf(i->exclude, sizeof(i->exclude), "/e");
	i->n_inputs = 2;
	snprintf(i->input_sha256[0], DS_SCAN_DIGEST_LEN, D1);
	snprintf(i->input_sha256[1], DS_SCAN_DIGEST_LEN, D2);
}

static const struct {
	const char *what;
	int change;                  /* what the row changes in b */
	unsigned which;
	enum ds_scan_field want;
} diff_rows[] = {
	{ "equal", 0, ~0u, DS_SF_NONE },
	{ "format", 1, ~0u, DS_SF_FORMAT },
	{ "probe-mx", 2, ~0u, DS_SF_PROBE_MX },
	{ "dane", 3, ~0u, DS_SF_DANE },
	{ "fetch-all", 4, ~0u, DS_SF_FETCH_ALL },
	{ "allow-private", 5, ~0u, DS_SF_ALLOW_PRIVATE },
	{ "exclude path", 6, ~0u, DS_SF_EXCLUDE },
	{ "exclude not asked for", 6, DS_SF_OPTIONS |
				      DS_SF_BIT(DS_SF_INPUTS), DS_SF_NONE },
	{ "exclude mixed", 7, ~0u, DS_SF_EXCLUDE },
	{ "a digest", 8, ~0u, DS_SF_INPUTS },
	{ "inputs not asked for", 8, DS_SF_OPTIONS, DS_SF_NONE },
	{ "one input more", 9, ~0u, DS_SF_INPUTS },
	{ "b not read to its end: equal", 10, ~0u, DS_SF_NONE },
	{ "an input unknown, the known ones in order equal", 11, ~0u,
	  DS_SF_NONE },
	{ "options unknown on one side", 12, ~0u, DS_SF_FORMAT },
	{ "options unknown, not asked for", 12, DS_SF_BIT(DS_SF_INPUTS),
	  DS_SF_NONE },
	{ "inputs first: digest and probe-mx differ", 13, ~0u, DS_SF_INPUTS },
};

static void change(struct ds_scan_info *b, int c)
{
	switch (c) {
	case 1: b->format = DS_FMT_ZONE; break;
	case 2: b->probe_mx = false; break;
	case 3: b->dane = true; break;
	case 4: b->fetch_all = true; break;
	case 5: b->allow_private = true; break;
	case 6: snprintf(b->exclude, sizeof(b->exclude), "/e2"); break;
	case 7: b->exclude_mixed = true; break;
	case 8: b->input_sha256[1][63] = '1'; break;
	case 9:
		b->n_inputs = 3;
		snprintf(b->input_sha256[2], DS_SCAN_DIGEST_LEN, D3);
		break;
	case 10: b->input_sha256[0][0] = b->input_sha256[1][0] = '\0'; break;
	case 11:
		b->n_inputs = 3;
		memmove(b->input_sha256[1], b->input_sha256[0],
			2 * DS_SCAN_DIGEST_LEN);
		b->input_sha256[0][0] = '\0';
		break;
	case 12:
		b->have_options = false;
		b->format = 0;
		b->probe_mx = false;
		break;
	case 13:
		b->probe_mx = false;
		b->input_sha256[0][0] = '1';
		break;
	default: break;
	}
}

static void test_differ(void **state)
{
	struct ds_scan_info *a = new_info(), *b = new_info();

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(diff_rows); i++) {
		base(a);
		base(b);
		change(b, diff_rows[i].change);
		if (ds_scan_info_differ(a, b, diff_rows[i].which) !=
			    diff_rows[i].want ||
		    ds_scan_info_differ(b, a, diff_rows[i].which) !=
			    diff_rows[i].want)
			fail_msg("%s: got %d, want %d", diff_rows[i].what,
				 ds_scan_info_differ(a, b, diff_rows[i].which),
				 diff_rows[i].want);
	}
	/* a mixed exclude list is no list: it differs from itself */
	base(a);
	a->exclude_mixed = true;
	assert_int_equal(ds_scan_info_differ(a, a, ~0u), DS_SF_EXCLUDE);
	free(a);
	free(b);
}

static void test_field_names(void **state)
{
	struct ds_scan_info *a = new_info();
	char v[200];

	(void)state;
	assert_string_equal(ds_scan_field_name(DS_SF_INPUTS), "inputs");
	assert_string_equal(ds_scan_field_name(DS_SF_FORMAT), "--format");
	assert_string_equal(ds_scan_field_name(DS_SF_PROBE_MX), "--probe-mx");
	assert_string_equal(ds_scan_field_name(DS_SF_DANE), "--dane");
	assert_string_equal(ds_scan_field_name(DS_SF_FETCH_ALL),
			    "--fetch-all");
	assert_string_equal(ds_scan_field_name(DS_SF_ALLOW_PRIVATE),
			    "--allow-private");
	assert_string_equal(ds_scan_field_name(DS_SF_EXCLUDE), "--exclude");
	assert_string_equal(ds_scan_field_name(DS_SF_COUNT), "?");
	base(a);
	assert_string_equal(ds_scan_field_value(a, DS_SF_PROBE_MX, v,
						sizeof(v)), "on");
	assert_string_equal(ds_scan_field_value(a, DS_SF_DANE, v, sizeof(v)),
			    "off");
	assert_string_equal(ds_scan_field_value(a, DS_SF_FORMAT, v, sizeof(v)),
			    "list");
	assert_string_equal(ds_scan_field_value(a, DS_SF_EXCLUDE, v,
						sizeof(v)), "/e");
	assert_string_equal(ds_scan_field_value(a, DS_SF_INPUTS, v, sizeof(v)),
			    "SHA-256 0123456789ab.., fedcba987654..");
	/* cut to the buffer, still terminated */
	assert_string_equal(ds_scan_field_value(a, DS_SF_INPUTS, v, 12),
			    "SHA-256 012");
	a->input_sha256[0][0] = a->input_sha256[1][0] = '\0';
	assert_string_equal(ds_scan_field_value(a, DS_SF_INPUTS, v, sizeof(v)),
			    "2 inputs, not read to the end");
	a->exclude[0] = '\0';
	assert_string_equal(ds_scan_field_value(a, DS_SF_EXCLUDE, v,
						sizeof(v)), "none");
	a->exclude_mixed = true;
	assert_string_equal(ds_scan_field_value(a, DS_SF_EXCLUDE, v,
						sizeof(v)), "mixed");
	a->have_options = false;
	assert_string_equal(ds_scan_field_value(a, DS_SF_PROBE_MX, v,
						sizeof(v)), "unknown");
	free(a);
}

/* ---- key names ---- */

static void test_key_name(void **state)
{
	static const struct {
		const char *key;
		size_t len;
		const char *want; /* NULL: refused */
	} rows[] = {
		{ "a.example.net", 9, "a.example" },
		{ "x", 1, "x" },
		{ "", 0, NULL },
		{ "a\0b", 3, NULL },
		{ NULL, 3, NULL },
	};
	char out[DS_STORE_NAME_MAX + 1], big[DS_STORE_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		bool ok = ds_store_key_name(rows[i].key, rows[i].len, out);

		assert_int_equal(ok, rows[i].want != NULL);
		assert_string_equal(out, ok ? rows[i].want : "");
	}
	memset(big, 'n', sizeof(big));
	assert_true(ds_store_key_name(big, DS_STORE_NAME_MAX, out));
	assert_int_equal(strlen(out), DS_STORE_NAME_MAX);
	assert_false(ds_store_key_name(big, DS_STORE_NAME_MAX + 1, out));
}

/* ---- an old store ---- */

/* Overwrite scan id's stored info with info in version 1. */
static void put_v1(const char *path, const struct ds_scan_info *info)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t kb[4] = { (uint8_t)(info->id >> 24), (uint8_t)(info->id >> 16),
			  (uint8_t)(info->id >> 8), (uint8_t)info->id };
	size_t len;
	uint8_t *b = v1_encode(info, &len);
	MDB_val k = { sizeof(kb), kb }, v = { len, b };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "scans", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(b);
}

static void test_old_store(void **state)
{
	char dir[] = "/tmp/test_ds_store_scan.XXXXXX", path[64], lock[80];
	struct ds_scan_info *in = new_info(), *out = new_info();
	struct ds_store_opts o;
	struct ds_store *s;
	struct ds_reader *r;
	uint8_t hash[DS_STORE_HASH_LEN];
	const uint8_t *d;
	size_t len;
	uint32_t id1, id2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.lmdb", dir);
	snprintf(lock, sizeof(lock), "%s-lock", path);
	assert_int_equal(ds_store_open(path, NULL, &s), ST_OK);
	snprintf(in->label, sizeof(in->label), "v1");
	assert_int_equal(ds_store_scan_create(s, in, &id1), ST_OK);
	assert_int_equal(ds_store_scan_create(s, in, &id2), ST_OK);
	assert_int_equal(ds_store_put_result(s, id1, "a.example",
					     (const uint8_t *)"rec", 3), ST_OK);
	assert_int_equal(ds_store_put_body(s, (const uint8_t *)"body", 4,
					   hash), ST_OK);
	assert_int_equal(ds_store_close(s), ST_OK);

	/* rewrite both as the previous version did: 1 finished, 2 running */
	in->id = id1;
	in->state = DS_SCAN_FINISHED;
	in->n_results = 1;
	in->meta_json = v1_rows[0].meta;
	put_v1(path, in);
	in->id = id2;
	in->state = DS_SCAN_RUNNING;
	in->n_results = 0;
	in->meta_json = v1_rows[1].meta;
	put_v1(path, in);

	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open(path, &o, &s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id1, out), ST_OK);
	assert_int_equal(out->state, DS_SCAN_FINISHED);
	assert_true(out->have_options && out->probe_mx && out->fetch_all);
	assert_int_equal(out->format, DS_FMT_TRANCO);
	assert_string_equal(out->exclude, "/srv/opt out.txt");
	assert_int_equal(out->n_inputs, 2);
	assert_string_equal(out->input_sha256[1], D2);
	assert_int_equal(ds_reader_scan_latest(r, out), ST_OK);
	assert_int_equal(out->id, id2);
	assert_true(out->dane && out->allow_private && !out->probe_mx);
	assert_int_equal(ds_reader_result(r, id1, "a.example", &d, &len),
			 ST_OK);
	assert_int_equal(ds_reader_body(r, hash, &d, &len), ST_OK);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);

	/* written by this version: a finished old scan stays closed, the
	 * running one takes a version-2 update */
	assert_int_equal(ds_store_open(path, NULL, &s), ST_OK);
	assert_int_equal(ds_store_put_result(s, id1, "b.example",
					     (const uint8_t *)"x", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_EDENIED);
	assert_int_equal(ds_store_close(s), ST_EDENIED);
	assert_int_equal(ds_store_open(path, NULL, &s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id2, out), ST_OK);
	ds_reader_close(r);
	out->meta_json = "{}";
	out->n_results = 3;
	assert_int_equal(ds_store_scan_update(s, out), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, id2, in), ST_OK);
	assert_true(in->n_results == 3 && in->have_options && in->dane);
	assert_int_equal(in->n_inputs, 1);
	assert_string_equal(in->meta_json, "{}"); /* the fields are typed now */
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);

	unlink(path);
	unlink(lock);
	rmdir(dir);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_round_trip),
		cmocka_unit_test(test_v2_encode_refused),
		cmocka_unit_test(test_v2_decode_refused),
		cmocka_unit_test(test_v1_migrated),
		cmocka_unit_test(test_v1_deep),
		cmocka_unit_test(test_differ),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_key_name),
		cmocka_unit_test(test_old_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
