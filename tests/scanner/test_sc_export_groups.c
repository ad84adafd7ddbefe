/*
 * test_sc_export_groups.c - scanner/sc_export_groups: folder names that
 * stay inside DIR and never collide, and the by-group registry export
 * with more groups than files it keeps open (each group's CSV has its
 * header once and all of its rows, whatever the order of the domains).
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

#include "an_groups.h"
#include "an_record.h"
#include "sc_export_groups.h"
#include "st_error.h"

static const struct {
	const char *label, *folder;
} folder_rows[] = {
	{ "Registrar A", "Registrar%20A" },
	{ "Example, Inc.", "Example%2C%20Inc." },
	{ "../etc", "%2E.%2Fetc" },          /* a leading dot and '/' */
	{ ".hidden", "%2Ehidden" },
	{ "a/b", "a%2Fb" },
	{ "a%2Fb", "a%252Fb" },              /* '%' itself is encoded */
	{ "(none)", "%28none%29" },
	{ "b\xc3\xbc" "cher", "b%C3%BCcher" },
	{ "x_y-z.1", "x_y-z.1" },
};

static void test_folders(void **state)
{
	char out[SC_XGROUP_FOLDER_MAX + 1], other[SC_XGROUP_FOLDER_MAX + 1];
	char label[AN_GROUP_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(folder_rows) / sizeof(folder_rows[0]);
	     i++) {
		sc_xgroup_folder(folder_rows[i].label, out, sizeof(out));
		assert_string_equal(out, folder_rows[i].folder);
	}
	/* 128 bytes that all need encoding: cut, with a hash that tells two
	 * long labels apart. */
	memset(label, ' ', AN_GROUP_MAX);
	label[AN_GROUP_MAX] = '\0';
	sc_xgroup_folder(label, out, sizeof(out));
	assert_true(strlen(out) <= SC_XGROUP_FOLDER_MAX);
	assert_non_null(strchr(out, '-'));
	label[AN_GROUP_MAX - 1] = '!';
	sc_xgroup_folder(label, other, sizeof(other));
	assert_string_not_equal(out, other);
	assert_null(strchr(out, '/'));
}

/* A record that needs a fix (an enforce policy with an error). */
static void broken(struct an_record *r, const char *domain)
{
	static const char *mx = "mx.example.net";

	an_record_init(r);
	r->domain = domain;
	r->verdict = AN_V_POLICY_INVALID;
	r->sts_dns = AN_DNS_NOERROR;
	r->mx_dns = AN_DNS_NOERROR;
	r->n_mx = r->n_mx_total = 1;
	r->mx[0].name = mx;
	r->mx[0].pref = 10;
	r->n_findings = r->n_findings_total = 1;
	r->findings[0] = (struct an_record_finding){ "policy.syntax",
						     AN_SEV_ERROR, "line 1" };
}

static size_t count_lines(const char *path, const char *prefix,
			  size_t *with_prefix)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	assert_non_null(f);
	*with_prefix = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		*with_prefix += strncmp(line, prefix, strlen(prefix)) == 0;
	}
	fclose(f);
	return n;
}

static void test_many_groups(void **state)
{
	enum { GROUPS = SC_XGROUP_OPEN * 2 + 3, PER = 3 };
	char dir[] = "/tmp/stsmap-xg.XXXXXX", line[128], path[512];
	struct an_groups *g;
	struct sc_xgroups *xg;
	struct an_export_stats sum = { 0 };
	bool reported = false;
	char cmd[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(an_groups_new(&g), ST_OK);
	for (int k = 0; k < GROUPS; k++) {
		for (int j = 0; j < PER; j++) {
			int n = snprintf(line, sizeof(line), "d%d-%d.test,G%d",
					 j, k, k);

			assert_int_equal(an_groups_line(g, line, (size_t)n, 1,
							NULL, 0), ST_OK);
		}
	}
	assert_int_equal(sc_xgroups_new(dir, g, 1700000000, &xg), ST_OK);
	/* Round robin: every group is closed and reopened PER times. */
	for (int j = 0; j < PER; j++) {
		for (int k = 0; k < GROUPS; k++) {
			struct an_record r;
			char dom[64];

			snprintf(dom, sizeof(dom), "d%d-%d.test", j, k);
			broken(&r, dom);
			assert_int_equal(sc_xgroups_record(xg, &r), ST_OK);
		}
	}
	{
		struct an_record r;

		broken(&r, "stray.test"); /* not in the groups file */
		assert_int_equal(sc_xgroups_record(xg, &r), ST_OK);
		an_record_init(&r);       /* needs no fix: no folder */
		r.domain = "fine.test";
		r.verdict = AN_V_ENFORCE_OK;
		assert_int_equal(sc_xgroups_record(xg, &r), ST_OK);
	}
	assert_int_equal(sc_xgroups_finish(xg, "s.lmdb", 1, &sum, &reported),
			 ST_OK);
	assert_false(reported);
	assert_int_equal(sum.rows, GROUPS * PER + 1);
	for (int k = 0; k < GROUPS; k++) {
		size_t hdr;

		snprintf(path, sizeof(path), "%s/G%d/registry.csv", dir, k);
		count_lines(path, "domain,rank,", &hdr);
		assert_int_equal(hdr, 1);
		snprintf(path, sizeof(path), "%s/G%d/d1-%d.test/mta-sts.txt",
			 dir, k, k);
		assert_int_equal(access(path, R_OK), 0);
		snprintf(path, sizeof(path), "%s/G%d/README.txt", dir, k);
		assert_int_equal(access(path, R_OK), 0);
	}
	{
		size_t none;

		snprintf(path, sizeof(path), "%s/groups.csv", dir);
		/* header + GROUPS + (none) */
		assert_int_equal(count_lines(path, "(none),%28none%29,1", &none),
				 GROUPS + 2);
		assert_int_equal(none, 1);
		snprintf(path, sizeof(path), "%s/fine.test", dir);
		assert_int_not_equal(access(path, F_OK), 0);
	}
	an_groups_free(g);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folders),
		cmocka_unit_test(test_many_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
