/*
 * test_ds_world_hier.c - datasets/world/ds_world_hier.c: the world as a
 * delegation hierarchy.
 *
 * The hierarchy must answer every question a scan asks exactly as the
 * flat zone does, or truth.jsonl would not hold for it.  The test loads
 * the flat zone and every zone of hier/zones.txt with ldns and resolves,
 * for every owner of the flat zone and the types a scan asks (plus names
 * that do not exist), once in the flat zone and once iteratively from the
 * root zone, following each delegation to the zone zones.txt names for
 * it: the RRsets, NXDOMAINs, NODATAs and the delegations that lead out of
 * the world (broken.<tld>, the lame ones) must be the same.  Then the
 * shape: a zone per domain with records, round robin over the providers,
 * distinct server addresses, glue, bad options refused.
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

#include <ldns/ldns.h>

#include "ds_world.h"
#include "ds_world_hier.h"
#include "st_error.h"

#define NOW ((time_t)1700000000)
#define MAX_ZONES 256
#define ANSWER_MAX 8192

struct hzone {
	char name[256];
	char server[16];
	ldns_zone *z;
};

struct fixture {
	char dir[64];
	ldns_zone *flat;
	struct hzone zone[MAX_ZONES];
	size_t n_zone;
	struct ds_world_hier_stats st;
};

static ldns_zone *load(const char *dir, const char *rel)
{
	char path[512];
	ldns_zone *z = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(ldns_zone_new_frm_fp(&z, f, NULL, 0, LDNS_RR_CLASS_IN),
			 LDNS_STATUS_OK);
	fclose(f);
	return z;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ds_world_opts o = { .tld = "test", .now = NOW, .seed = 1,
				   .https_port = 443, .dns_port = 53,
				   .smtp_port = 25 };
	char path[512], zone[256], server[16], file[300], parent[256];
	FILE *f;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ds_world_hier.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	o.out_dir = fx->dir;
	assert_int_equal(ds_world_generate(&o, NULL), ST_OK);
	assert_int_equal(ds_world_hier_generate(&o, 3, &fx->st), ST_OK);
	fx->flat = load(fx->dir, "dns/test.zone");
	snprintf(path, sizeof(path), "%s/hier/zones.txt", fx->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%*[^\n]\n"), 0); /* the comment */
	while (fscanf(f, "%255s %15s %299s %255s", zone, server, file,
		      parent) == 4) {
		struct hzone *h = &fx->zone[fx->n_zone++];

		assert_true(fx->n_zone < MAX_ZONES);
		snprintf(h->name, sizeof(h->name), "%s", zone);
		snprintf(h->server, sizeof(h->server), "%s", server);
		snprintf(path, sizeof(path), "hier/%s", file);
		h->z = load(fx->dir, path);
	}
	fclose(f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (fx == NULL)
		return 0;
	ldns_zone_deep_free(fx->flat);
	for (size_t i = 0; i < fx->n_zone; i++)
		ldns_zone_deep_free(fx->zone[i].z);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static const ldns_rdf *apex(const ldns_zone *z)
{
	return ldns_rr_owner(ldns_zone_soa(z));
}

/* The owner of the delegation (an NS RRset below the apex) at or above
 * q in z, or NULL. */
static const ldns_rdf *cut_of(const ldns_zone *z, const ldns_rdf *q)
{
	const ldns_rr_list *rrs = ldns_zone_rrs(z);

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		const ldns_rdf *o = ldns_rr_owner(rr);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS &&
		    ldns_dname_compare(o, apex(z)) != 0 &&
		    (ldns_dname_compare(o, q) == 0 ||
		     ldns_dname_is_subdomain(q, o)))
			return o;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What z answers for (q, t) as its authority: the sorted RRs of the
 * RRset (or the CNAME at q), "NODATA" or "NXDOMAIN", into out. */
static void answer(const ldns_zone *z, const ldns_rdf *q, ldns_rr_type t,
		   char *out, size_t cap)
{
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	char *got[64];
	size_t n = 0, len = 0;
	bool exists = ldns_dname_compare(q, apex(z)) == 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		const ldns_rdf *o = ldns_rr_owner(rr);
		ldns_rr_type rt = ldns_rr_get_type(rr);

		if (ldns_dname_is_subdomain(o, q))
			exists = true; /* an empty non-terminal */
		if (ldns_dname_compare(o, q) != 0)
			continue;
		exists = true;
		if (rt == t || rt == LDNS_RR_TYPE_CNAME) {
			assert_true(n < 64);
			got[n++] = ldns_rr2str(rr);
		}
	}
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, cap, "%s", exists ? "NODATA" : "NXDOMAIN");
		return;
	}
	qsort(got, n, sizeof(got[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(got[i]);

		assert_true(len + l < cap);
		memcpy(out + len, got[i], l + 1);
		len += l;
		free(got[i]);
	}
}

static const struct hzone *zone_named(const struct fixture *fx,
				      const ldns_rdf *name)
{
	char *s = ldns_rdf2str(name);
	const struct hzone *h = NULL;

	for (size_t i = 0; i < fx->n_zone && h == NULL; i++)
		if (strcmp(fx->zone[i].name, s) == 0)
			h = &fx->zone[i];
	free(s);
	return h;
}

/* Resolve from z: a delegation to a zone of the hierarchy is followed,
 * one to a server outside it is the answer ("CUT owner"). */
static void resolve(const struct fixture *fx, const ldns_zone *z,
		    const ldns_rdf *q, ldns_rr_type t, char *out, size_t cap)
{
	for (int depth = 0; depth < 8; depth++) {
		const ldns_rdf *cut = cut_of(z, q);
		const struct hzone *child;
		char *s;

		if (cut == NULL) {
			answer(z, q, t, out, cap);
			return;
		}
		child = fx != NULL ? zone_named(fx, cut) : NULL;
		if (child == NULL) {
			s = ldns_rdf2str(cut);
			snprintf(out, cap, "CUT %s", s);
			free(s);
			return;
		}
		z = child->z;
	}
	fail_msg("delegation loop");
}

static void same_answer(const struct fixture *fx, const ldns_rdf *q,
			ldns_rr_type t)
{
	static char flat[ANSWER_MAX], hier[ANSWER_MAX];
	char *qs = ldns_rdf2str(q);

	resolve(NULL, fx->flat, q, t, flat, sizeof(flat));
	resolve(fx, fx->zone[fx->n_zone - 1].z, q, t, hier, sizeof(hier));
	if (strcmp(flat, hier) != 0)
		fail_msg("%s type %d: flat \"%s\", hierarchy \"%s\"", qs, t,
			 flat, hier);
	free(qs);
}

/* Every question a scan asks gets the flat zone's answer. */
static void test_answers_equal_flat(void **state)
{
	const struct fixture *fx = *state;
	static const ldns_rr_type types[] = {
		LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_A,
		LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TLSA, LDNS_RR_TYPE_CNAME,
	};
	static const char *const absent[] = {
		"nonexistent.test.", "_mta-sts.nonexistent.test.",
		"x.enforce-ok.test.", "_mta-sts.x.broken.test.",
	};
	const ldns_rr_list *rrs = ldns_zone_rrs(fx->flat);
	ldns_rdf *ns = ldns_dname_new_frm_str("ns.test.");
	size_t n = 0;

	assert_string_equal(fx->zone[fx->n_zone - 1].name, ".");
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rdf *o = ldns_rr_owner(ldns_rr_list_rr(rrs, i));

		/* ns.test is the one name moved on purpose: the target of
		 * the lame delegations is the TLD's server (see the header). */
		if (ldns_dname_compare(o, ns) == 0)
			continue;
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			same_answer(fx, o, types[k]);
		n++;
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		ldns_rdf *q = ldns_dname_new_frm_str(absent[i]);

		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			same_answer(fx, q, types[k]);
		ldns_rdf_deep_free(q);
	}
	ldns_rdf_deep_free(ns);
	assert_true(n > 700);
}

/* A zone per domain holding records, spread round robin; the two left in
 * the TLD are the lame delegation and the one under broken.test. */
static void test_shape(void **state)
{
	const struct fixture *fx = *state;
	size_t per[4] = { 0 };

	assert_int_equal(fx->st.n_servers, 5);
	assert_int_equal(fx->st.n_kept, 2);
	assert_int_equal(fx->st.n_zones + 2, fx->n_zone);
	assert_string_equal(fx->zone[fx->n_zone - 2].name, "test.");
	assert_string_equal(fx->zone[fx->n_zone - 2].server, "tld");
	assert_string_equal(fx->zone[fx->n_zone - 1].server, "root");
	for (size_t i = 0; i + 2 < fx->n_zone; i++) {
		const struct hzone *h = &fx->zone[i];
		ldns_rr_list *ns = ldns_zone_rrs(h->z);
		unsigned p;

		assert_int_equal(sscanf(h->server, "dns%u", &p), 1);
		assert_true(p >= 1 && p <= 3);
		per[p]++;
		/* The TLD delegates it to its provider, with glue. */
		assert_non_null(cut_of(fx->zone[fx->n_zone - 2].z,
				       apex(h->z)));
		assert_true(ldns_rr_list_rr_count(ns) >= 3); /* NS NS + data */
	}
	assert_true(per[1] - per[3] <= 1 && per[1] >= per[2] &&
		    per[2] >= per[3]);
}

/* Each server on its own two addresses, every name of servers.txt in the
 * root hints or as glue in the TLD. */
static void test_servers(void **state)
{
	const struct fixture *fx = *state;
	char path[512], name[16], a1[16], a2[16], seen[16][16];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/hier/servers.txt", fx->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%*[^\n]\n"), 0); /* the comment */
	while (fscanf(f, "%15s %15s %15s", name, a1, a2) == 3) {
		assert_true(n + 2 <= 16);
		assert_int_equal(strncmp(a1, "127.20.", 7), 0);
		for (size_t i = 0; i < n; i++) {
			assert_string_not_equal(seen[i], a1);
			assert_string_not_equal(seen[i], a2);
		}
		snprintf(seen[n++], 16, "%s", a1);
		snprintf(seen[n++], 16, "%s", a2);
	}
	fclose(f);
	assert_int_equal(n, 10);
}

static void test_bad_options(void **state)
{
	const struct fixture *fx = *state;
	struct ds_world_opts o = { .out_dir = fx->dir, .tld = "test" };
	char empty[64];

	assert_int_equal(ds_world_hier_generate(&o, 0, NULL), ST_EINVAL);
	assert_int_equal(ds_world_hier_generate(
				 &o, DS_WORLD_HIER_PROVIDERS_MAX + 1, NULL),
			 ST_EINVAL);
	snprintf(empty, sizeof(empty), "/tmp/test_ds_world_hier.XXXXXX");
	assert_non_null(mkdtemp(empty));
	o.out_dir = empty;
	assert_int_equal(ds_world_hier_generate(&o, 3, NULL), ST_ENOENT);
	assert_int_equal(rmdir(empty), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_equal_flat),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_servers),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
