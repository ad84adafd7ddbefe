/*
 * test_ds_store_integrity.c - datasets/: what the store refuses before it
 * trusts a file (ds_store_check.c) and the rules of DESIGN §5: one writer
 * per store, a finished scan is never modified, reads never create files,
 * a damaged or foreign file is an error with its cause, never a SIGBUS.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ds_store.h"
#include "ds_store_check.h"
#include "st_error.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_ds_integrity.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/store.lmdb", t->dir);
	*state = t;
	return 0;
}

/* Files in the directory (excluding . and ..). */
static int n_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char p[400];

	while (d != NULL && (e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* A store holding scan 1 with n results, counters matching. */
static void make_store(const char *path, unsigned n, bool finish)
{
	struct ds_store *s = NULL;
	struct ds_scan_info info;
	uint32_t id;
	char dom[32];

	assert_int_equal(ds_store_open(path, NULL, &s), ST_OK);
	memset(&info, 0, sizeof(info));
	assert_int_equal(ds_store_scan_create(s, &info, &id), ST_OK);
	for (unsigned i = 0; i < n; i++) {
		snprintf(dom, sizeof(dom), "d%u.example", i);
		assert_int_equal(ds_store_put_result(s, id, dom,
						     (const uint8_t *)"r", 1),
				 ST_OK);
	}
	info.id = id;
	info.n_results = n;
	info.state = finish ? DS_SCAN_FINISHED : DS_SCAN_RUNNING;
	assert_int_equal(ds_store_scan_update(s, &info), ST_OK);
	assert_int_equal(ds_store_close(s), ST_OK);
}

static int count_cb(const char *d, size_t dl, const uint8_t *v, size_t l,
		    void *arg)
{
	(void)d, (void)dl, (void)v, (void)l;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Scan 1's counter and its records, read-only. */
static void counted(const char *path, uint64_t *counter, uint64_t *records)
{
	struct ds_store_opts o;
	struct ds_store *s = NULL;
	struct ds_reader *r = NULL;
	struct ds_scan_info info;

	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open(path, &o, &s), ST_OK);
	assert_int_equal(ds_reader_open(s, &r), ST_OK);
	assert_int_equal(ds_reader_scan(r, 1, &info), ST_OK);
	*counter = info.n_results;
	*records = 0;
	assert_int_equal(ds_reader_results(r, 1, count_cb, records), ST_OK);
	ds_reader_close(r);
	assert_int_equal(ds_store_close(s), ST_OK);
}

/* DESIGN §5: one process writes a store at a time, for the whole run; a
 * second writer is refused and told who holds it. */
static void test_second_writer_refused(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o, ro;
	struct ds_store *a = NULL, *b = NULL, *r = NULL;
	char why[DS_STORE_WHY_MAX], pid[32];

	ds_store_opts_default(&o);
	o.owner = "stsmap scan --db store.lmdb list";
	assert_int_equal(ds_store_open(t->path, &o, &a), ST_OK);
	o.owner = "the second one";
	assert_int_equal(ds_store_open_why(t->path, &o, &b, why, sizeof(why)),
			 ST_EDENIED);
	assert_null(b);
	snprintf(pid, sizeof(pid), "pid %ld ", (long)getpid());
	assert_non_null(strstr(why, "store is in use by"));
	assert_non_null(strstr(why, pid));
	assert_non_null(strstr(why, "stsmap scan --db store.lmdb list"));
	/* Readers are not writers: they still read while the scan runs. */
	ds_store_opts_default(&ro);
	ro.read_only = true;
	assert_int_equal(ds_store_open(t->path, &ro, &r), ST_OK);
	assert_int_equal(ds_store_close(r), ST_OK);
	/* Released at close: the next run takes it. */
	assert_int_equal(ds_store_close(a), ST_OK);
	assert_int_equal(ds_store_open(t->path, &o, &b), ST_OK);
	assert_int_equal(ds_store_close(b), ST_OK);
}

/* DESIGN §5: a finished scan is never modified (a late commit must not
 * turn it back into "running" nor move its counters). */
static void test_finished_scan_refused(void **state)
{
	struct tmp *t = *state;
	struct ds_store *s = NULL;
	struct ds_scan_info info;
	uint64_t counter, records;

	make_store(t->path, 3, true);
	assert_int_equal(ds_store_open(t->path, NULL, &s), ST_OK);
	assert_int_equal(ds_store_put_result(s, 1, "late.example",
					     (const uint8_t *)"r", 1), ST_OK);
	assert_int_equal(ds_store_flush(s), ST_EDENIED);
	ds_store_close(s); /* the refused batch is retried and refused */
	s = NULL;
	assert_int_equal(ds_store_open(t->path, NULL, &s), ST_OK);
	memset(&info, 0, sizeof(info));
	info.id = 1;
	info.n_results = 99;
	info.state = DS_SCAN_RUNNING;
	assert_int_equal(ds_store_scan_update(s, &info), ST_OK); /* batched */
	assert_int_equal(ds_store_flush(s), ST_EDENIED);
	ds_store_close(s);
	counted(t->path, &counter, &records);
	assert_int_equal(counter, 3);
	assert_int_equal(records, 3);
}

/* A truncated copy: the meta page names pages past the end of the file.
 * LMDB would map it and die of SIGBUS; the check refuses it first. */
static void test_truncated_is_damaged(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o;
	struct ds_store *s = NULL;
	struct stat st;
	char why[DS_STORE_WHY_MAX];

	make_store(t->path, 2000, true);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(st.st_size > 4 * 4096);
	assert_int_equal(truncate(t->path, 3 * 4096), 0);
	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_ESTORE);
	assert_null(s);
	assert_int_equal(strncmp(why, "damaged store: ", 15), 0);
	o.read_only = false;
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_ESTORE);
	assert_int_equal(strncmp(why, "damaged store: ", 15), 0);
	/* Shorter than the two metas. */
	assert_int_equal(truncate(t->path, 5000), 0);
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_ESTORE);
	assert_int_equal(strncmp(why, "damaged store: ", 15), 0);
}

/* A path that is not a store at all says so, read or write. */
static void test_not_a_store(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o;
	struct ds_store *s = NULL;
	char why[DS_STORE_WHY_MAX];
	FILE *f = fopen(t->path, "w");

	assert_non_null(f);
	fputs("root:x:0:0:root:/root:/bin/sh\n", f);
	fclose(f);
	ds_store_opts_default(&o);
	o.read_only = true;
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_EPARSE);
	assert_int_equal(strncmp(why, "not an stsmap store", 19), 0);
	o.read_only = false;
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_EPARSE);
	assert_int_equal(strncmp(why, "not an stsmap store", 19), 0);
	/* An empty file is a store only to a writer, which initialises it. */
	assert_int_equal(truncate(t->path, 0), 0);
	o.read_only = true;
	assert_int_equal(ds_store_open_why(t->path, &o, &s, why, sizeof(why)),
			 ST_EPARSE);
	assert_int_equal(strncmp(why, "not an stsmap store", 19), 0);
}

/* DESIGN §5: reads never create files: not next to a foreign file, not
 * for a missing path, not for a copied store without its -lock file. */
static void test_read_creates_no_file(void **state)
{
	struct tmp *t = *state;
	struct ds_store_opts o;
	struct ds_store *s = NULL, *w = NULL;
	char lock[160], missing[160];
	uint64_t counter, records;
	FILE *f;

	ds_store_opts_default(&o);
	o.read_only = true;
	snprintf(missing, sizeof(missing), "%s/missing.lmdb", t->dir);
	assert_int_equal(ds_store_open(missing, &o, &s), ST_ENOENT);
	assert_int_equal(n_files(t->dir), 0);
	f = fopen(t->path, "w");
	assert_non_null(f);
	fputs("not a store\n", f);
	fclose(f);
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_EPARSE);
	assert_int_equal(n_files(t->dir), 1);
	unlink(t->path);
	/* A store copied without its lock file is read with MDB_NOLOCK. */
	make_store(t->path, 5, true);
	snprintf(lock, sizeof(lock), "%s-lock", t->path);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(n_files(t->dir), 1);
	assert_int_equal(ds_store_open(t->path, &o, &s), ST_OK);
	/* ... and while it reads, no writer can start under it. */
	assert_int_equal(ds_store_open(t->path, NULL, &w), ST_EDENIED);
	assert_int_equal(ds_store_close(s), ST_OK);
	counted(t->path, &counter, &records);
	assert_int_equal(records, 5);
	assert_int_equal(n_files(t->dir), 1);
}

/* Counters travel with the records they count: a writer that stops (the
 * scanner's error exit commits its info last, then closes) leaves the
 * counter equal to the records, and a close flushes both or neither. */
static void test_counters_match_after_stop(void **state)
{
	struct tmp *t = *state;
	uint64_t counter, records;

	make_store(t->path, 17, false); /* never flushed explicitly */
	counted(t->path, &counter, &records);
	assert_int_equal(counter, 17);
	assert_int_equal(records, 17);
}

/* ds_check_fd() on a good store reads the current meta. */
static void test_check_good(void **state)
{
	struct tmp *t = *state;
	struct ds_check c;
	char why[DS_CHECK_WHY_MAX];
	int fd;

	make_store(t->path, 10, true);
	fd = open(t->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ds_check_fd(fd, &c, why, sizeof(why)), ST_OK);
	assert_string_equal(why, "");
	assert_false(c.empty);
	assert_true(c.page_size >= 512);
	assert_true(c.txnid >= 2);
	assert_true((c.last_pg + 1) * c.page_size <= c.file_size);
	close(fd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)
	const struct CMUnitTest tests[] = {
		T(test_second_writer_refused),
		T(test_finished_scan_refused),
		T(test_truncated_is_damaged),
		T(test_not_a_store),
		T(test_read_creates_no_file),
		T(test_counters_match_after_stop),
		T(test_check_good),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
