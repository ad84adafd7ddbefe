/*
 * test_ds_world_behave.c - datasets/world/ds_world_behave.c: the server
 * behaviours of `stsmap world --behave`.
 *
 * Off by default: a world without the option has none of the behaviour
 * hosts, rows or limits (the flat world is unchanged).  With it: the
 * catalog rows and their truth, the tenant names on four addresses with
 * one wildcard certificate, the anvil limits with localhost not exempt,
 * the greet delay, nginx's limits on the provider hosts only, the IPv6
 * records and listeners; and `postconf` reads the configuration (when
 * Postfix is installed).
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

#include "ds_world.h"
#include "st_error.h"

#define NOW ((time_t)1700000000)

struct world_dir {
	char path[64];
};

static void gen(struct world_dir *t, bool behave, uint64_t n)
{
	struct ds_world_opts o = { .n_domains = n, .seed = 7, .tld = "test",
				   .now = NOW, .https_port = 8443,
				   .dns_port = 5300, .smtp_port = 2525,
				   .behave = behave };

	snprintf(t->path, sizeof(t->path), "/tmp/test_ds_world_behave.XXXXXX");
	assert_non_null(mkdtemp(t->path));
	o.out_dir = t->path;
	assert_int_equal(ds_world_generate(&o, NULL), ST_OK);
}

static void drop(const struct world_dir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const struct world_dir *t, const char *rel)
{
	char path[256];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", t->path, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Without --behave nothing of it is written. */
static void test_off_by_default(void **state)
{
	static const char *const files[] = { "dns/test.zone", "truth.jsonl",
					     "postfix/master.cf",
					     "postfix/main.cf",
					     "nginx/nginx.conf", "mx-hosts.txt" };
	struct world_dir t;
	size_t n_base = 0, n_all = 0;

	(void)state;
	ds_world_scenarios(&n_base);
	ds_world_scenarios_behave(&n_all);
	assert_int_equal(n_all - n_base, 5);
	gen(&t, false, 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *s = slurp(&t, files[i]);

		assert_null(strstr(s, "behave"));
		assert_null(strstr(s, "127.6."));
		assert_null(strstr(s, "fd53:"));
		assert_null(strstr(s, "limit_req"));
		assert_null(strstr(s, "anvil_rate_time_unit"));
		free(s);
	}
	{
		char *m = slurp(&t, "postfix/main.cf");

		assert_non_null(strstr(m, "\ninet_protocols = ipv4\n"));
		free(m);
	}
	drop(&t);
}

static void test_catalog_rows(void **state)
{
	struct world_dir t;
	char *truth, *zone, *mx;

	(void)state;
	gen(&t, true, 0);
	truth = slurp(&t, "truth.jsonl");
	zone = slurp(&t, "dns/test.zone");
	mx = slurp(&t, "mx-hosts.txt");
	/* 24 tenants with a policy, one without. */
	assert_int_equal(count(truth, "\"scenario\":\"behave-tenant\""), 24);
	assert_non_null(strstr(truth, "{\"domain\":\"behave-tenant-01.test\","
				      "\"scenario\":\"behave-tenant\","
				      "\"verdict\":\"enforce-ok\",\"findings\":[]"));
	assert_non_null(strstr(truth, "{\"domain\":\"behave-tenant-no-policy"
				      ".test\",\"scenario\":\"behave-tenant-"
				      "no-policy\",\"verdict\":\"no-policy\""));
	/* A compliant probe sees a valid STARTTLS host behind every delay
	 * and limit: no probe finding, the verdict unchanged. */
	assert_non_null(strstr(truth, "{\"domain\":\"behave-slow-greeting."
				      "test\",\"scenario\":\"behave-slow-"
				      "greeting\",\"verdict\":\"enforce-ok\","
				      "\"findings\":[],\"info\":[],"
				      "\"findings_probe\":[],"
				      "\"verdict_probe\":\"enforce-ok\""));
	assert_non_null(strstr(truth, "\"scenario\":\"behave-ipv6-mx\","
				      "\"verdict\":\"enforce-ok\",\"findings\":"
				      "[],\"info\":[],\"findings_probe\":[],"
				      "\"verdict_probe\":\"enforce-ok\""));
	/* 25 tenant names, each with its own MX and A record, on 4
	 * addresses. */
	assert_int_equal(count(zone, ".mx.bigmail.test.\t3600\tIN\tA\t127.6.0."),
			 25);
	assert_int_equal(count(mx, ".mx.bigmail.test 127.6.0."), 25);
	for (unsigned a = 1; a <= 4; a++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "IN\tA\t127.6.0.%u\n", a);
		assert_true(count(zone, addr) >= 6);
	}
	assert_non_null(strstr(zone, "mx-slowgreet.test.\t3600\tIN\tA\t"
				     "127.6.0.10\n"));
	assert_non_null(strstr(zone, "mx-v6.test.\t3600\tIN\tAAAA\t"
				     "fd53:7473::3:1\n"));
	assert_non_null(strstr(zone, "mta-sts.behave-ipv6-policy.test.\t3600"
				     "\tIN\tAAAA\tfd53:7473::2:1\n"));
	assert_null(strstr(zone, "mta-sts.behave-ipv6-policy.test.\t3600"
				 "\tIN\tA\t"));
	/* The tenants' policy hosts at the provider, on its two addresses. */
	assert_int_equal(count(zone, "IN\tA\t127.6.1.1\n") +
			 count(zone, "IN\tA\t127.6.1.2\n"), 24);
	assert_true(count(zone, "IN\tA\t127.6.1.1\n") >= 12);
	free(truth);
	free(zone);
	free(mx);
	drop(&t);
}

static void test_postfix(void **state)
{
	struct world_dir t;
	char *master, *main_cf, cmd[256];

	(void)state;
	gen(&t, true, 0);
	master = slurp(&t, "postfix/master.cf");
	main_cf = slurp(&t, "postfix/main.cf");
	/* Four tenant services, each with the anvil limits and without the
	 * $mynetworks exception (which would exempt 127.0.0.1). */
	assert_int_equal(count(master, "-o smtpd_client_connection_count_"
				       "limit=10\n"), 4);
	assert_int_equal(count(master, "-o smtpd_client_connection_rate_"
				       "limit=50\n"), 4);
	assert_int_equal(count(master, "-o smtpd_client_event_limit_"
				       "exceptions=\n"), 4);
	assert_int_equal(count(master, "wildcard.mx.bigmail.test.pem\n"), 4);
	assert_non_null(strstr(master, "127.6.0.10:2525\tinet"));
	assert_non_null(strstr(master, "-o { smtpd_client_restrictions = "
				       "sleep 3 }\n"));
	assert_non_null(strstr(master, "\n[fd53:7473::3:1]:2525\tinet"));
	assert_non_null(strstr(main_cf, "\ninet_protocols = all\n"));
	assert_non_null(strstr(main_cf, "\nanvil_rate_time_unit = 10s\n"));
	/* The sleep runs at connect time only with delay_reject off. */
	assert_non_null(strstr(main_cf, "\nsmtpd_delay_reject = no\n"));
	if (system("command -v postconf >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "postconf -c '%s/postfix' -M "
			 ">/dev/null 2>&1", t.path);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "postconf -c '%s/postfix' -P "
			 "'127.6.0.1:2525/inet/smtpd_client_event_limit_"
			 "exceptions' | grep -qx "
			 "'127.6.0.1:2525/inet/smtpd_client_event_limit_"
			 "exceptions ='", t.path);
		assert_int_equal(system(cmd), 0);
	}
	free(master);
	free(main_cf);
	drop(&t);
}

static void test_nginx(void **state)
{
	struct world_dir t;
	char *conf, cmd[512];
	const char *p;

	(void)state;
	gen(&t, true, 0);
	conf = slurp(&t, "nginx/nginx.conf");
	assert_non_null(strstr(conf, "\tlimit_req_zone $binary_remote_addr"
				     "$server_addr zone=provider_req:1m "
				     "rate=20r/s;\n"));
	/* The limits on the 24 provider hosts, and on no other. */
	assert_int_equal(count(conf, "limit_req zone=provider_req burst=40;"),
			 24);
	assert_int_equal(count(conf, "limit_conn provider_conn 32;"), 24);
	p = strstr(conf, "server_name mta-sts.behave-tenant-01.test;");
	assert_non_null(p);
	assert_true(strstr(p, "limit_req zone") < strstr(p, "location /"));
	p = strstr(conf, "server_name mta-sts.enforce-ok.test;");
	assert_non_null(p);
	assert_true(strstr(p, "limit_req zone") == NULL ||
		    strstr(p, "limit_req zone") > strstr(p, "location /"));
	assert_non_null(strstr(conf, "listen [fd53:7473::2:1]:8443 ssl;\n"
				     "\t\tserver_name mta-sts.behave-ipv6-"
				     "policy.test;"));
	/* nginx accepts every directive: -t binds listeners, and the IPv6
	 * address is on no interface here (world-up adds it), so that
	 * emergency, and only that one, is expected. */
	if (access("/usr/sbin/nginx", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "/usr/sbin/nginx -q -t -c %s/nginx/"
			 "nginx.conf -p %s/nginx/ 2>&1 | grep emerg | grep -qv "
			 "'bind() to .fd53:7473::2:1.:8443 failed'", t.path,
			 t.path);
		assert_int_not_equal(system(cmd), 0);
	}
	free(conf);
	drop(&t);
}

/* Bulk: thousands of tenants on the same four addresses. */
static void test_bulk_tenants(void **state)
{
	struct world_dir t;
	char *mx;
	size_t n = 0;

	(void)state;
	gen(&t, true, 100000);
	mx = slurp(&t, "mx-hosts.txt");
	for (unsigned a = 1; a <= 4; a++) {
		char addr[48];

		snprintf(addr, sizeof(addr), ".mx.bigmail.test 127.6.0.%u ", a);
		n += count(mx, addr);
	}
	assert_int_equal(count(mx, ".mx.bigmail.test "), n);
	assert_true(n > 2000);
	free(mx);
	drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_catalog_rows),
		cmocka_unit_test(test_postfix),
		cmocka_unit_test(test_nginx),
		cmocka_unit_test(test_bulk_tenants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
