/*
 * ds_store_count.c - test tool: the latest scan of a store, its counters
 * beside the records actually stored, one line:
 *   "results COUNTER RECORDS input_errors COUNTER RECORDS"
 * Used by tests/cli/test_store_cli.sh (counters must equal the records
 * after any exit).  Usage: ds_store_count STORE
 */
#include <inttypes.h>
#include <stdio.h>

#include "ds_store.h"
#include "st_error.h"

static int count_result(const char *d, size_t dl, const uint8_t *v,
			size_t l, void *arg)
{
	(void)d, (void)dl, (void)v, (void)l;
	(*(uint64_t *)arg)++;
	return 0;
}

static int count_input(uint32_t input, uint64_t line, const char *raw,
		       const char *why, void *arg)
{
	(void)input, (void)line, (void)raw, (void)why;
	(*(uint64_t *)arg)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct ds_store_opts o;
	struct ds_store *s = NULL;
	struct ds_reader *r = NULL;
	struct ds_scan_info info;
	uint64_t nr = 0, ni = 0;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: ds_store_count STORE\n");
		return 2;
	}
	ds_store_opts_default(&o);
	o.read_only = true;
	ret = ds_store_open(argv[1], &o, &s);
	if (ret == ST_OK)
		ret = ds_reader_open(s, &r);
	if (ret == ST_OK)
		ret = ds_reader_scan_latest(r, &info);
	if (ret == ST_OK)
		ret = ds_reader_results(r, info.id, count_result, &nr);
	if (ret == ST_OK)
		ret = ds_reader_input_errors(r, info.id, count_input, &ni);
	if (ret == ST_OK)
		printf("results %" PRIu64 " %" PRIu64 " input_errors %" PRIu64
		       " %" PRIu64 "\n", info.n_results, nr,
		       info.n_input_errors, ni);
	else
		fprintf(stderr, "ds_store_count: %s: %s\n", argv[1],
			st_strerror(ret));
	ds_reader_close(r);
	ds_store_close(s);
	return ret == ST_OK ? 0 : 1;
}
