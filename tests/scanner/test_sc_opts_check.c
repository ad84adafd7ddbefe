/*
 * test_sc_opts_check.c - stsmap's own configuration is checked before a
 * scan (scanner/sc_opts_check.c): values sent on the wire and files read.
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

#include "sc_opts_check.h"

/* A self-signed certificate (EC P-256), only ever parsed here. */
static const char pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBhjCCAS2gAwIBAgIUX2eLwZdVopO0+xXSvj5Bz3BdmGgwCgYIKoZIzj0EAwIw\n"
	"GTEXMBUGA1UEAwwOc3RzbWFwIHRlc3QgQ0EwHhcNMjYxMjA3MTEyNjQ1WhcNMzYx\n"
	"MjA0MTEyNjQ1WjAZMRcwFQYDVQQDDA5zdHNtYXAgdGVzdCBDQTBZMBMGByqGSM49\n"
	"AgEGCCqGSM49AwEHA0IABPnDtYG3vBhO7RmHKHKFPGuWEekocYmlH0sxr04FvO/T\n"
	"ISMiZVEktTPCJaH11wu8lBRfx2iPf7N3QQXTIMsBvlejUzBRMB0GA1UdDgQWBBS4\n"
	"pR3yZYD1Mf8N3AqT6xUyFziAADAfBgNVHSMEGDAWgBS4pR3yZYD1Mf8N3AqT6xUy\n"
	"FziAADAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBtAtPNm40Ue\n"
	"2eeSx47D5iqg1FGVKK9mOC3gKDO1fctqAiA+ALYSS7aLOG5GXHT+hQNVtCyakat2\n"
	"pdNJPYnKGXRFZQ==\n"
	"-----END CERTIFICATE-----\n";

/* A value of --user-agent or --contact goes into an HTTP request header:
 * RFC 9110 §5.5 "field-value = *field-content", visible ASCII, SP and
 * HTAB; a CR or LF would end the header and start another. */
static const struct {
	const char *v;
	int ok;
} header_rows[] = {
	{ "stsmap/1.0 (+https://example.org/scan)", 1 },
	{ "https://example.org/contact?x=1", 1 },
	{ "a", 1 },
	{ "", 0 },
	{ "a\r\nX-Injected: 1", 0 },
	{ "a\nX-Injected: 1", 0 },
	{ "a\rb", 0 },
	{ "tab\there", 0 },
	{ "caf\xc3\xa9", 0 },
	{ "nul\x01", 0 },
};

static void test_header_values(void **state)
{
	char big[SC_HEADER_VALUE_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(header_rows) / sizeof(header_rows[0]);
	     i++) {
		const char *why = sc_check_header_value(header_rows[i].v);

		if ((why == NULL) != header_rows[i].ok)
			fail_msg("row %zu: %s", i, why ? why : "accepted");
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_non_null(sc_check_header_value(big));
	big[SC_HEADER_VALUE_MAX] = '\0';
	assert_null(sc_check_header_value(big));
}

/* RFC 5321 §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF:
 * no space, nothing that ends the command line. */
static void test_ehlo(void **state)
{
	(void)state;
	assert_null(sc_check_ehlo("scanner.example.org"));
	assert_null(sc_check_ehlo("[192.0.2.1]"));
	assert_non_null(sc_check_ehlo(""));
	assert_non_null(sc_check_ehlo("a b"));
	assert_non_null(sc_check_ehlo("a\r\nRSET"));
	assert_string_equal(sc_check_ehlo("a b"),
			    "must be a domain or address literal: printable "
			    "ASCII without spaces");
}

static char *write_tmp(const char *data, size_t len)
{
	char *path = strdup("/tmp/test_sc_opts_check.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void expect_ca(const char *data, size_t len, const char *want)
{
	char why[256];
	char *path = write_tmp(data, len);
	const char *got = sc_check_ca_file(path, why, sizeof(why));

	if (want == NULL && got != NULL)
		fail_msg("rejected: %s", got);
	if (want != NULL && (got == NULL || strstr(got, want) == NULL))
		fail_msg("want \"%s\", got \"%s\"", want, got ? got : "(ok)");
	unlink(path);
	free(path);
}

static void test_ca_file(void **state)
{
	char why[256], two[sizeof(pem) * 2 + 8];
	const char *got;

	(void)state;
	expect_ca(pem, strlen(pem), NULL);
	snprintf(two, sizeof(two), "%s%s", pem, pem);
	expect_ca(two, strlen(two), NULL);
	expect_ca("", 0, "holds no PEM certificate");
	expect_ca("not a certificate\n", 18, "holds no PEM certificate");
	/* A good certificate, then half of another: a damaged file. */
	snprintf(two, sizeof(two), "%s%.*s", pem, (int)(strlen(pem) / 2), pem);
	expect_ca(two, strlen(two), "certificate 2 is damaged");
	got = sc_check_ca_file("/nonexistent/ca.pem", why, sizeof(why));
	assert_non_null(got);
	assert_string_equal(got, "No such file or directory");
	got = sc_check_ca_file("/tmp", why, sizeof(why));
	assert_non_null(got);
	assert_string_equal(got, "is a directory");
}

/* The whole configuration: each problem names its own option. */
static void test_config(void **state)
{
	struct sc_config cfg;
	char msg[512];
	FILE *err;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.resolvers[0] = "127.0.0.1:5300";
	cfg.resolvers[1] = "[::1]:53";
	cfg.n_resolvers = 2;
	err = fmemopen(msg, sizeof(msg), "w");
	assert_non_null(err);
	assert_true(sc_config_check(&cfg, "scan", err));
	cfg.ehlo_name = "bad name";
	assert_false(sc_config_check(&cfg, "scan", err));
	fflush(err);
	assert_non_null(strstr(msg, "--ehlo 'bad name'"));
	assert_null(strstr(msg, "resolver"));
	fclose(err);

	memset(&cfg, 0, sizeof(cfg));
	cfg.resolvers[0] = "1.2.3";
	cfg.n_resolvers = 1;
	err = fmemopen(msg, sizeof(msg), "w");
	assert_false(sc_config_check(&cfg, "check", err));
	fflush(err);
	assert_non_null(strstr(msg, "stsmap check: --resolver '1.2.3'"));
	fclose(err);

	memset(&cfg, 0, sizeof(cfg));
	cfg.user_agent = "x\r\nX-Injected: 1";
	err = fmemopen(msg, sizeof(msg), "w");
	assert_false(sc_config_check(&cfg, "scan", err));
	fflush(err);
	/* The value is quoted with its CR and LF escaped, never echoed. */
	assert_non_null(strstr(msg, "--user-agent 'x\\x0d\\x0aX-Injected: 1'"));
	fclose(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_ehlo),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
