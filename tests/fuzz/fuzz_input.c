/*
 * fuzz_input.c - libFuzzer target for the input readers (ds_input_next()
 * in every format, through ds_input_open_memory()) and ds_name_normalise().
 *
 * The whole input is one file: read as a list, a ranked list, a zone file
 * and with detection (gzip-decompressed when it starts with the magic),
 * and normalised as one name.  Invariants checked: every good item's name
 * is a fixed point of ds_name_normalise() of at most 253 bytes; a bad item
 * has a reason and an empty name; raw is printable and at most 255 bytes;
 * line numbers never go back and stay within the lines read; the reader
 * ends (0, or ST_EIO only for a gzip input) and then keeps answering the
 * same; for plain input the digest is the SHA-256 of the bytes and a list
 * counts exactly its lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "ds_input.h"
#include "st_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	char again[DS_NAME_MAX + 1];
	size_t len = strlen(name);

	if (len == 0 || len > DS_NAME_MAX)
		__builtin_trap();
	if (ds_name_normalise(name, len, again, NULL) != ST_OK ||
	    strcmp(again, name) != 0)
		__builtin_trap();
	if (ds_shard_of(name, 7) >= 7)
		__builtin_trap();
}

static void check_item(const struct ds_input_item *it,
		       enum ds_input_format fmt)
{
	size_t rlen = strlen(it->raw);

	if (rlen > 255 || it->line == 0)
		__builtin_trap();
	for (size_t i = 0; i < rlen; i++) {
		if (it->raw[i] < 0x20 || it->raw[i] > 0x7e)
			__builtin_trap();
	}
	if (it->error == ST_OK) {
		if (it->why != NULL)
			__builtin_trap();
		check_name(it->domain);
	} else if (it->error != ST_EPARSE || it->why == NULL ||
		   it->domain[0] != '\0') {
		__builtin_trap();
	}
	if (fmt != DS_FMT_TRANCO && it->rank != 0)
		__builtin_trap();
}

static void check_digest(const struct ds_input *in, const uint8_t *data,
			 size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char want[65], got[65];

	if (EVP_Digest(data, size, md, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32)
		return;
	for (unsigned int i = 0; i < n; i++) {
		want[2 * i] = hex[md[i] >> 4];
		want[2 * i + 1] = hex[md[i] & 0x0f];
	}
	want[64] = '\0';
	ds_input_digest(in, got);
	if (strcmp(want, got) != 0)
		__builtin_trap();
}

static void run(const uint8_t *data, size_t size, enum ds_input_format fmt)
{
	bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	uint64_t newlines = 0, prev_line = 0, items = 0;
	struct ds_input_item it;
	struct ds_input *in = NULL;
	int ret;

	if (ds_input_open_memory(data, size, fmt, &in) != ST_OK)
		return; /* out of memory or file descriptors: not a finding */
	fmt = ds_input_format(in);
	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	for (;;) {
		ret = ds_input_next(in, &it);
		if (ret != 1)
			break;
		check_item(&it, fmt);
		if (it.line < prev_line || it.line > ds_input_lines(in) + 1)
			__builtin_trap();
		prev_line = it.line;
		/* Each item takes a line, bounded for plain input; in a
		 * zone file, ldns ends a record at an unmatched ')', so a
		 * line can hold several. */
		items++;
		if (items > (fmt == DS_FMT_ZONE ? size : newlines) + 1 &&
		    !gzip)
			__builtin_trap();
	}
	if (ret != 0 && !(ret == ST_EIO && gzip))
		__builtin_trap();
	if (ds_input_next(in, &it) != ret)
		__builtin_trap();
	if (ret == 0 && !gzip) {
		uint64_t lines = newlines +
				 (size > 0 && data[size - 1] != '\n');

		check_digest(in, data, size);
		if (ds_input_lines(in) > lines ||
		    (fmt != DS_FMT_ZONE && ds_input_lines(in) != lines))
			__builtin_trap();
		if (ds_input_offset(in) != size)
			__builtin_trap();
	}
	ds_input_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[DS_NAME_MAX + 1];
	const char *why = NULL;

	if (ds_name_normalise((const char *)data, size, out, &why) == ST_OK)
		check_name(out);
	else if (why == NULL || out[0] != '\0')
		__builtin_trap();
	run(data, size, DS_FMT_AUTO);
	run(data, size, DS_FMT_LIST);
	run(data, size, DS_FMT_TRANCO);
	run(data, size, DS_FMT_ZONE);
	return 0;
}
