/*
 * test_nm_map.c - the emulator's map syntax, one row per rule.
 */
#include <arpa/inet.h>
#include <net/if.h>
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
		/* IPv6, in brackets (RFC 3986 §3.2.2's form, as in URLs) */
		{"udp:[::1]:5301=[::1]:5300,delay=25", 0, NULL},
		{"tcp:[fd53:7473::102:1]:8443=[fd53:7473::2:1]:8443,delay=25", 0, NULL},
		{"udp:[fd53:7473::101:2]:53=127.1.0.2:53", 0, NULL}, /* mixed */
		{"tcp:127.0.0.1:25=[::1]:2525", 0, NULL},
		{"udp:::1:53=[::1]:53", ST_EPARSE, "brackets"},
		{"udp:[::1]53=[::1]:53", ST_EPARSE, "[IPv6]:PORT"},
		{"udp:[::1:53=[::1]:53", ST_EPARSE, "[IPv6]:PORT"},
		{"udp:[127.0.0.1]:53=[::1]:53", ST_EPARSE, "IPv6"},
		{"udp:[::1]:0=[::1]:53", ST_EPARSE, "port"},
		{"udp:[::1]:=[::1]:53", ST_EPARSE, "port"},
		{"udp:[fe80::1%lo]:53=[::1]:53", ST_EPARSE, "IPv6"},
		{"udp:[::ffff:127.0.0.1]:53=[::1]:53", ST_EPARSE, "IPv4-mapped"},
		/* RFC 4193 §3.1: unique local addresses are fc00::/7; anything
		 * else might be routed off the machine */
		{"udp:[2001:db8::1]:53=[::1]:53", ST_EDENIED, "fc00::/7"},
		{"udp:[::1]:53=[fe80::1]:53", ST_EDENIED, "fc00::/7"},
		{"tcp:[::]:53=[::1]:53", ST_EDENIED, "loopback"},
		{"udp:[fe00::1]:53=[::1]:53", ST_EDENIED, "unique local"},
		{"udp:[fc00::1]:53=[fdff:ffff::1]:53", 0, NULL},
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
	char why[256], a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(nm_map_parse(s, strlen(s), &m, why, sizeof(why)), 0);
	assert_int_equal(m.proto, NM_UDP);
	assert_int_equal(m.listen.sa.sa_family, AF_INET);
	inet_ntop(AF_INET, &m.listen.sin.sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.101.0.2");
	assert_int_equal(ntohs(m.listen.sin.sin_port), 5300);
	inet_ntop(AF_INET, &m.upstream.sin.sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.1.0.2");
	assert_int_equal(ntohs(m.upstream.sin.sin_port), 53);
	assert_int_equal(nm_sockaddr_len(&m.listen), sizeof(struct sockaddr_in));
	assert_true(m.delay_ms == 25.0 && m.jitter_ms == 2.5 && m.loss_pct == 0.5);
	assert_true(m.rto_ms == 200.0); /* the default */
	/* len bounds the input: no NUL needed, the rest ignored */
	assert_int_equal(nm_map_parse(s, 33, &m, why, sizeof(why)), 0);
	assert_true(m.delay_ms == 0.0);
}

/* An IPv6 map: families, addresses, ports and the printed form. */
static void test_values6(void **state)
{
	const char *s = "tcp:[fd53:7473::102:1]:8443=[fd53:7473:0:0::2:1]:443,"
			"delay=25";
	const char *mixed = "udp:[fd53:7473::101:2]:5300=127.1.0.2:5300";
	struct nm_map m;
	char why[256], a[NM_SOCKADDR_STRLEN];
	struct in6_addr want;

	(void)state;
	assert_int_equal(nm_map_parse(s, strlen(s), &m, why, sizeof(why)), 0);
	assert_int_equal(m.proto, NM_TCP);
	assert_int_equal(m.listen.sa.sa_family, AF_INET6);
	assert_int_equal(m.upstream.sa.sa_family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "fd53:7473::2:1", &want), 1);
	assert_memory_equal(&m.upstream.sin6.sin6_addr, &want, sizeof(want));
	assert_int_equal(ntohs(m.listen.sin6.sin6_port), 8443);
	assert_int_equal(ntohs(m.upstream.sin6.sin6_port), 443);
	assert_int_equal(nm_sockaddr_len(&m.listen), sizeof(struct sockaddr_in6));
	assert_string_equal(nm_sockaddr_str(&m.listen, a, sizeof(a)),
			    "[fd53:7473::102:1]:8443");
	assert_string_equal(nm_sockaddr_str(&m.upstream, a, sizeof(a)),
			    "[fd53:7473::2:1]:443");
	assert_true(m.delay_ms == 25.0);
	/* Each end its own family. */
	assert_int_equal(nm_map_parse(mixed, strlen(mixed), &m, why, sizeof(why)), 0);
	assert_int_equal(m.listen.sa.sa_family, AF_INET6);
	assert_int_equal(m.upstream.sa.sa_family, AF_INET);
	assert_string_equal(nm_sockaddr_str(&m.upstream, a, sizeof(a)),
			    "127.1.0.2:5300");
	/* Too small a buffer: "?", never a cut address. */
	assert_string_equal(nm_sockaddr_str(&m.listen, a, 8), "?");
}

/* One interface address for a fake getifaddrs() list. */
struct fake_if {
	struct ifaddrs ifa;
	struct sockaddr_in6 sin6;
};

static void fake_if(struct fake_if *f, const char *name, const char *ip,
		    unsigned flags, struct fake_if *next)
{
	memset(f, 0, sizeof(*f));
	f->ifa.ifa_name = (char *)name;
	f->ifa.ifa_flags = flags;
	f->ifa.ifa_addr = (struct sockaddr *)&f->sin6;
	f->ifa.ifa_next = next != NULL ? &next->ifa : NULL;
	f->sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &f->sin6.sin6_addr), 1);
}

static int local(const char *spec, const struct fake_if *ifs, char *why,
		 size_t whylen)
{
	struct nm_map m;

	assert_int_equal(nm_map_parse(spec, strlen(spec), &m, why, whylen), 0);
	return nm_map_check_local(&m, ifs != NULL ? &ifs->ifa : NULL, why,
				  whylen);
}

/* A unique local address is forwarded to or from only if it is on a
 * loopback interface: the same prefix on eth0 is another machine's. */
static void test_check_local(void **state)
{
	struct fake_if lo1, lo2, lo3, eth;
	char why[256];

	(void)state;
	/* lo: ::1 and the world's host; eth0 (not loopback): fd00::5 */
	fake_if(&eth, "eth0", "fd00::5", IFF_UP, NULL);
	fake_if(&lo2, "lo", "fd53:7473::2:1", IFF_UP | IFF_LOOPBACK, &eth);
	fake_if(&lo1, "lo", "::1", IFF_UP | IFF_LOOPBACK, &lo2);
	assert_int_equal(local("tcp:[fd53:7473::102:1]:443=[fd53:7473::2:1]:443",
			       &lo1, why, sizeof(why)), ST_EDENIED);
	assert_non_null(strstr(why, "[fd53:7473::102:1]:443"));
	assert_int_equal(local("tcp:[::1]:443=[fd00::5]:443", &lo1, why,
			       sizeof(why)), ST_EDENIED);
	assert_non_null(strstr(why, "[fd00::5]:443"));
	/* the twin added to lo: both ends local */
	fake_if(&lo3, "lo", "fd53:7473::102:1", IFF_UP | IFF_LOOPBACK, &lo1);
	assert_int_equal(local("tcp:[fd53:7473::102:1]:443=[fd53:7473::2:1]:443",
			       &lo3, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	/* ::1 and IPv4 need no interface list */
	assert_int_equal(local("udp:[::1]:53=127.1.0.1:53", NULL, why,
			       sizeof(why)), 0);
	assert_int_equal(local("udp:127.101.0.1:53=127.1.0.1:53", NULL, why,
			       sizeof(why)), 0);
	/* an entry without an address (as getifaddrs gives) is skipped */
	lo1.ifa.ifa_addr = NULL;
	assert_int_equal(local("tcp:[::1]:1=[fd53:7473::2:1]:2", &lo1, why,
			       sizeof(why)), 0);
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
	assert_int_equal(ntohs(maps[39].listen.sin.sin_port), 443);
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
		cmocka_unit_test(test_values6),
		cmocka_unit_test(test_check_local),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
