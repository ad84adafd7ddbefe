/*
 * test_nm_map.c - the emulator's map syntax, one row per rule.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nm_map.h"
#include "st_error.h"

static void test_rows(void **state)
{
	static const struct {
		const char *spec;
		int want;
		const char *why; /* a word the message must hold */
	} rows[] = {
		{"udp:127.101.0.2:53=127.1.0.2:53", 0, NULL},
		{"udp:127.101.0.2:53=127.1.0.2:53,delay=25,jitter=2.5,loss=0.5", 0, NULL},
		{"tcp:127.102.0.1:443=127.2.0.1:443,delay=25,rto=300", 0, NULL},
		{"sctp:127.0.0.1:1=127.0.0.1:2", ST_EPARSE, "udp"},
		{"udp:127.0.0.1:1", ST_EPARSE, "UPSTREAM"},
		{"udp:127.0.0.1=127.0.0.1:2", ST_EPARSE, "PORT"},
		{"udp:127.0.0.1:0=127.0.0.1:2", ST_EPARSE, "port"},
		{"udp:127.0.0.1:65536=127.0.0.1:2", ST_EPARSE, "port"},
		{"udp:127.0.0.1:1x=127.0.0.1:2", ST_EPARSE, "port"},
		{"udp:localhost:1=127.0.0.1:2", ST_EPARSE, "IPv4"},
		/* the emulator never forwards off the machine */
		{"udp:127.0.0.1:53=10.0.0.1:53", ST_EDENIED, "loopback"},
		{"tcp:0.0.0.0:53=127.0.0.1:53", ST_EDENIED, "loopback"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay", ST_EPARSE, "KEY=VALUE"},
		{"udp:127.0.0.1:1=127.0.0.1:2,speed=3", ST_EPARSE, "unknown"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=1,delay=2", ST_EPARSE, "twice"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=-1", ST_EPARSE, "number"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=1e3", ST_EPARSE, "number"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=", ST_EPARSE, "number"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=1..2", ST_EPARSE, "number"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=5,jitter=6", ST_ERANGE, "jitter"},
		{"udp:127.0.0.1:1=127.0.0.1:2,loss=101", ST_ERANGE, "loss"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=60001", ST_ERANGE, "60000"},
		{"udp:127.0.0.1:1=127.0.0.1:2,", ST_EPARSE, "empty"},
		{"udp:127.0.0.1:1=127.0.0.1:2,delay=1,,loss=1", ST_EPARSE, "empty"},
	};
	struct nm_map m;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ret = nm_map_parse(rows[i].spec, strlen(rows[i].spec), &m,
				       why, sizeof(why));

		if (ret != rows[i].want)
			fail_msg("%s: got %d (%s), want %d", rows[i].spec, ret,
				 why, rows[i].want);
		if (rows[i].why != NULL && strstr(why, rows[i].why) == NULL)
			fail_msg("%s: message '%s' lacks '%s'", rows[i].spec, why,
				 rows[i].why);
	}
}

static void test_values(void **state)
{
	const char *s = "udp:127.101.0.2:5300=127.1.0.2:53,delay=25,jitter=2.5,loss=0.5";
	struct nm_map m;
	char why[256], a[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(nm_map_parse(s, strlen(s), &m, why, sizeof(why)), 0);
	assert_int_equal(m.proto, NM_UDP);
	inet_ntop(AF_INET, &m.listen.sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.101.0.2");
	assert_int_equal(ntohs(m.listen.sin_port), 5300);
	inet_ntop(AF_INET, &m.upstream.sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.1.0.2");
	assert_int_equal(ntohs(m.upstream.sin_port), 53);
	assert_true(m.delay_ms == 25.0 && m.jitter_ms == 2.5 && m.loss_pct == 0.5);
	assert_true(m.rto_ms == 200.0); /* the default */
	/* len bounds the input: no NUL needed, the rest ignored */
	assert_int_equal(nm_map_parse(s, 33, &m, why, sizeof(why)), 0);
	assert_true(m.delay_ms == 0.0);
}

static void test_too_long(void **state)
{
	char big[NM_MAP_LINE_MAX + 10], why[128];
	struct nm_map m;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(nm_map_parse(big, sizeof(big), &m, why, sizeof(why)),
			 ST_ETOOBIG);
	assert_int_equal(nm_map_parse("udp:\0", 5, &m, why, sizeof(why)),
			 ST_EPARSE);
}

/* A file: comments, blank lines, many maps (growth past 16), and the
 * line number of a bad line. */
static void test_file(void **state)
{
	char path[] = "/tmp/test_nm_map.XXXXXX", why[256];
	struct nm_map *maps = NULL;
	size_t n = 0;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "# the world's paths\n\n");
	for (int i = 1; i <= 40; i++)
		fprintf(f, "  tcp:127.102.0.%d:443=127.2.0.%d:443,delay=25  # %d\n",
			i, i, i);
	fprintf(f, "udp:127.101.0.2:53=127.1.0.2:53 trailing\n");
	fclose(f);
	assert_int_equal(nm_map_load(path, &maps, &n, why, sizeof(why)),
			 ST_EPARSE);
	assert_int_equal(n, 40);
	assert_non_null(strstr(why, ":43:"));
	assert_int_equal(ntohs(maps[39].listen.sin_port), 443);
	free(maps);
	maps = NULL;
	n = 0;
	assert_int_equal(nm_map_load("/nonexistent/x", &maps, &n, why, sizeof(why)),
			 ST_EIO);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
