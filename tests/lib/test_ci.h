/* test_ci.h - when a C test may skip, and when it must fail (the rule of
 * tests/lib/skip.sh, for the cmocka tests).
 *
 * A test that cannot run for a missing tool exits 77 (skipped) outside CI;
 * in CI (CI=true) scripts/bootstrap installed every tool, so a missing one
 * is a failure.  Skips for a cause the machine may lack legitimately (not
 * root, no IPv6 loopback) stay skips: docs/testing.md lists them. */
#ifndef TEST_CI_H
#define TEST_CI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when the environment says CI=true. */
static inline bool test_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci != NULL && strcmp(ci, "true") == 0;
}

/* The exit status of a test whose required tool WHAT is missing: prints
 * why, returns 1 in CI and 77 (skipped) elsewhere. */
static inline int test_missing_tool(const char *what)
{
	if (test_in_ci()) {
		printf("FAIL: %s (CI=true: a missing tool is a failure, "
		       "not a skip)\n", what);
		return 1;
	}
	printf("SKIP: %s\n", what);
	return 77;
}

#endif
