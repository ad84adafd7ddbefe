/*
 * test_sc_progress.c - the ETA of the progress line (scanner/sc_progress.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sc_progress.h"

static const struct {
	const char *what;
	uint64_t read, done, off, size;
	double elapsed, want; /* want < 0: unknown */
} rows[] = {
	/* A small file is read whole at the first item: halfway through
	 * its 76 domains after 10 s, 10 s are left (the old estimate from
	 * the byte offset alone said 0 s). */
	{ "small file, halfway", 76, 38, 1200, 1200, 10, 10 },
	{ "small file, done", 76, 76, 1200, 1200, 10, 0 },
	/* A large file a quarter read, 900 of the 1000 items read done in
	 * 9 s: 4000 items estimated, 3100 left at 100/s. */
	{ "large file, a quarter read", 1000, 900, 25000, 100000, 9, 31 },
	{ "nothing done yet", 500, 0, 1000, 1000, 5, -1 },
	{ "size unknown (stdin)", 500, 100, 1000, 0, 5, -1 },
	{ "nothing read", 0, 0, 0, 1000, 5, -1 },
	{ "no time yet", 10, 5, 100, 100, 0, -1 },
	/* A file that grew past its size at open: no negative time. */
	{ "file grew", 100, 100, 2000, 1000, 10, 0 },
};

static void test_eta_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double got = sc_eta_seconds(rows[i].read, rows[i].done,
					    rows[i].off, rows[i].size,
					    rows[i].elapsed);

		if (rows[i].want < 0) {
			if (!(got < 0))
				fail_msg("%s: %f, want unknown", rows[i].what,
					 got);
		} else if (fabs(got - rows[i].want) > 1e-6) {
			fail_msg("%s: %f, want %f", rows[i].what, got,
				 rows[i].want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eta_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
