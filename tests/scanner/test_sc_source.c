/*
 * test_sc_source.c - the input reader thread and its bounded queue
 * (scanner/sc_source.c): items reach the loop while the input stays open,
 * the loop is woken when they arrive, the queue holds at most its cap,
 * a reader waiting on a silent pipe stops at once, errors and the end
 * come after the items read before them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sc_source.h"
#include "st_error.h"

struct loop {
	struct event_base *base;
	int woken;
};

static void on_ready(void *arg)
{
	struct loop *l = arg;

	l->woken++;
	event_base_loopbreak(l->base);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Pop, running the loop while the source says "nothing yet", for at most
 * ms milliseconds.  Returns the last pop's result (SC_SOURCE_WAIT on
 * timeout). */
static int pop_wait(struct loop *l, struct sc_source *s,
		    struct sc_source_item *it, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	for (;;) {
		struct timeval tv = { 0, 50 * 1000 };
		int ret = sc_source_pop(s, it);

		if (ret != SC_SOURCE_WAIT || now_ms() >= end)
			return ret;
		event_base_loopexit(l->base, &tv);
		event_base_dispatch(l->base);
	}
}

static char *pipe_path(int fd)
{
	static char path[64];

	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	return path;
}

static void write_all(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Items written to a pipe that stays open reach the loop at once, the
 * loop is woken for them, and the source waits rather than ending. */
static void test_open_pipe(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct sc_source *s = NULL;
	struct sc_source_item it;
	const char *inputs[1];
	int p[2];

	(void)state;
	assert_non_null(l.base);
	assert_int_equal(pipe(p), 0);
	inputs[0] = pipe_path(p[0]);
	assert_int_equal(sc_source_new(l.base, inputs, 1, DS_FMT_LIST, 4,
				       on_ready, &l, &s), ST_OK);
	assert_int_equal(sc_source_pop(s, &it), SC_SOURCE_WAIT);
	write_all(p[1], "a.example\nbad..name\n");
	assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
	assert_true(l.woken >= 1);
	assert_string_equal(it.domain, "a.example");
	assert_int_equal(it.line, 1);
	assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
	assert_int_not_equal(it.error, ST_OK);
	assert_int_equal(it.line, 2);
	assert_string_equal(it.raw, "bad..name");
	assert_string_equal(it.why, "empty label");
	/* Open and silent: nothing yet, not the end. */
	assert_int_equal(pop_wait(&l, s, &it, 200), SC_SOURCE_WAIT);
	write_all(p[1], "b.example\n");
	close(p[1]);
	assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
	assert_string_equal(it.domain, "b.example");
	assert_int_equal(pop_wait(&l, s, &it, 3000), 0);
	sc_source_free(s);
	close(p[0]);
	event_base_free(l.base);
}

/* The queue holds at most cap items: with nothing popped the reader stops
 * reading (the rest stays in the pipe), and goes on as items are taken. */
static void test_bounded(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct sc_source *s = NULL;
	struct sc_source_item it;
	const char *inputs[1];
	char buf[64];
	int p[2], n = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	inputs[0] = pipe_path(p[0]);
	assert_int_equal(sc_source_new(l.base, inputs, 1, DS_FMT_LIST, 2,
				       on_ready, &l, &s), ST_OK);
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "n%d.example\n", i);
		write_all(p[1], buf);
	}
	close(p[1]);
	usleep(200 * 1000);
	{
		size_t cur;
		uint64_t off, size;

		/* The reader took a buffer's worth, but at most 2 items
		 * plus the one it waits to push are out of the file. */
		sc_source_progress(s, &cur, &off, &size);
		assert_int_equal(cur, 0);
		assert_int_equal(size, 0); /* a pipe */
	}
	{
		uint64_t lines;
		char digest[65];

		sc_source_input_info(s, 0, &lines, digest);
		assert_true(lines <= 3);
		assert_string_equal(digest, "");
	}
	while (pop_wait(&l, s, &it, 3000) == 1) {
		snprintf(buf, sizeof(buf), "n%d.example", n);
		assert_string_equal(it.domain, buf);
		n++;
	}
	assert_int_equal(n, 200);
	{
		uint64_t lines;
		char digest[65];

		sc_source_input_info(s, 0, &lines, digest);
		assert_int_equal(lines, 200);
		assert_int_equal(strlen(digest), 64);
	}
	sc_source_free(s);
	close(p[0]);
	event_base_free(l.base);
}

/* A reader ahead of the loop is woken once the queue is half empty, not
 * at every pop: about one wait per cap / 2 items taken.  (Woken at every
 * pop, it waited once per item: two futex calls and a context switch per
 * domain.)  The loop pops one item per millisecond, far slower than the
 * reader reads, so the queue is full whenever the reader can run. */
static void test_reader_woken_half_empty(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct sc_source *s = NULL;
	struct sc_source_item it;
	const char *inputs[1];
	char path[] = "/tmp/test_sc_source.XXXXXX";
	const unsigned cap = 16, items = 400;
	unsigned n = 0;
	uint64_t waits;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < items; i++)
		fprintf(f, "n%u.example\n", i);
	assert_int_equal(fclose(f), 0);
	inputs[0] = path;
	assert_int_equal(sc_source_new(l.base, inputs, 1, DS_FMT_LIST, cap,
				       on_ready, &l, &s), ST_OK);
	while (pop_wait(&l, s, &it, 3000) == 1) {
		n++;
		usleep(1000);
	}
	assert_int_equal(n, items);
	waits = sc_source_reader_waits(s);
	/* The first fill, then one wait per cap / 2 pops; slack for a
	 * loaded machine, far below the old one per item. */
	assert_true(waits >= 1);
	assert_true(waits <= items / (cap / 2) + 4);
	sc_source_free(s);
	unlink(path);
	event_base_free(l.base);
}

/* A reader waiting on a silent pipe (also inside format detection) is
 * stopped at once by sc_source_free(). */
static void test_cancel_silent(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct sc_source *s = NULL;
	struct sc_source_item it;
	const char *inputs[1];
	uint64_t t0;
	int p[2];

	(void)state;
	for (int detect = 0; detect < 2; detect++) {
		assert_int_equal(pipe(p), 0);
		inputs[0] = pipe_path(p[0]);
		assert_int_equal(sc_source_new(l.base, inputs, 1,
					       detect ? DS_FMT_AUTO
						      : DS_FMT_LIST,
					       4, on_ready, &l, &s), ST_OK);
		write_all(p[1], "a.example\n");
		if (!detect)
			assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
		usleep(100 * 1000);
		t0 = now_ms();
		sc_source_free(s);
		assert_true(now_ms() - t0 < 500);
		close(p[0]);
		close(p[1]);
	}
	event_base_free(l.base);
}

/* Several inputs in order; an input that cannot be opened is an error
 * after the items before it, naming that input. */
static void test_inputs_and_errors(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct sc_source *s = NULL;
	struct sc_source_item it;
	char a[] = "/tmp/test_sc_source.XXXXXX";
	const char *inputs[3];
	int fd = mkstemp(a);

	(void)state;
	assert_true(fd >= 0);
	write_all(fd, "1,one.example\n2,two.example\n");
	close(fd);
	inputs[0] = a;
	inputs[1] = a;
	inputs[2] = "/nonexistent/input";
	assert_int_equal(sc_source_new(l.base, inputs, 3, DS_FMT_TRANCO, 8,
				       on_ready, &l, &s), ST_OK);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
		assert_int_equal(it.input, i);
		assert_string_equal(it.domain, "one.example");
		assert_int_equal(it.rank, 1);
		assert_int_equal(pop_wait(&l, s, &it, 3000), 1);
		assert_string_equal(it.domain, "two.example");
		assert_int_equal(it.rank, 2);
	}
	assert_int_equal(pop_wait(&l, s, &it, 3000), ST_ENOENT);
	assert_int_equal(sc_source_failed(s), 2);
	sc_source_free(s);
	unlink(a);
	event_base_free(l.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_pipe),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_cancel_silent),
		cmocka_unit_test(test_reader_woken_half_empty),
		cmocka_unit_test(test_inputs_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
