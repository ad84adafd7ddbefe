/*
 * test_ds_world.c - datasets/: the synthetic test world generator.
 *
 * Generates worlds into temporary directories and checks what the servers
 * and the scanner will read: the zone loads with ldns and holds the
 * records the scenarios promise (TLSA included), the ground truth names
 * only real verdicts and codes and covers every scenario, the output is
 * deterministic, bulk proportions are realistic, nginx.conf serves every
 * policy host (and passes `nginx -t` when nginx is installed), each
 * certificate fails verification exactly as its scenario or MX behaviour
 * says, mx-hosts.txt and the Postfix configuration agree (and pass
 * `postconf` and, as root, `postfix check` when Postfix is installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ldns/ldns.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "an_classify.h"
#include "an_findings.h"
#include "ds_world.h"
#include "st_error.h"
#include "../../lib/test_ci.h"

#define NOW ((time_t)1700000000)
#define DAY ((time_t)86400)

struct tmpdir {
	char path[64];
};

static void tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/test_ds_world.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmp_remove(const struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

static void gen(const char *dir, uint64_t n, uint64_t seed, unsigned port)
{
	struct ds_world_opts o = { .out_dir = dir, .n_domains = n,
				   .seed = seed, .tld = "test", .now = NOW,
				   .https_port = port, .dns_port = 53,
				   .smtp_port = 2525 };
	struct ds_world_stats st;

	assert_int_equal(ds_world_generate(&o, &st), ST_OK);
	if (n > 0)
		assert_int_equal(st.n_domains, n);
}

/* The whole file, NUL-terminated; *len without the NUL.  Caller frees. */
static char *slurp(const char *dir, const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

/* --- a minimal reader for the flat JSON lines we write --- */

/* Copy the string value of "key" in line into out; false if absent. */
static bool json_str(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	if (p == NULL)
		return false;
	p += strlen(pat);
	end = strchr(p, '"');
	if (end == NULL || (size_t)(end - p) >= cap)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

/* The array of strings of "key" as "a b c" in out; false if absent. */
static bool json_arr(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	p = strstr(line, pat);
	if (p == NULL)
		return false;
	for (p += strlen(pat); *p != ']' && *p != '\0'; p++) {
		if (*p == '"')
			continue;
		if (n + 1 >= cap)
			return false;
		out[n++] = *p == ',' ? ' ' : *p;
	}
	out[n] = '\0';
	return *p == ']';
}

static const struct ds_scenario *scen_by_name(const char *name)
{
	size_t n;
	const struct ds_scenario *s = ds_world_scenarios(&n);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].name, name) == 0)
			return &s[i];
	}
	return NULL;
}

/* --- the zone --- */

static ldns_zone *load_zone(const char *dir)
{
	char path[512];
	ldns_zone *z = NULL;
	int line = 0;
	FILE *f;
	ldns_status st;

	snprintf(path, sizeof(path), "%s/dns/test.zone", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	st = ldns_zone_new_frm_fp_l(&z, f, NULL, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(f);
	if (st != LDNS_STATUS_OK)
		fail_msg("zone line %d: %s", line, ldns_get_errorstr_by_id(st));
	return z;
}

/* The RRs of type at owner (absolute, with the dot); caller frees the
 * list (ldns_rr_list_free: the RRs stay owned by the zone). */
static ldns_rr_list *zone_get(const ldns_zone *z, const char *owner,
			      ldns_rr_type type)
{
	ldns_rdf *want = ldns_dname_new_frm_str(owner);
	ldns_rr_list *all = ldns_zone_rrs(z);
	ldns_rr_list *out = ldns_rr_list_new();

	assert_non_null(want);
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++) {
		ldns_rr *rr = ldns_rr_list_rr(all, i);

		if (ldns_rr_get_type(rr) == type &&
		    ldns_dname_compare(ldns_rr_owner(rr), want) == 0)
			ldns_rr_list_push_rr(out, rr);
	}
	ldns_rdf_deep_free(want);
	return out;
}

static void test_zone(void **state)
{
	struct tmpdir t;
	ldns_zone *z;
	ldns_rr_list *l;
	char *s;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	z = load_zone(t.path);
	assert_non_null(ldns_zone_soa(z));

	/* One TXT RR of two character-strings. */
	l = zone_get(z, "_mta-sts.sts-multi-string.test.", LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	assert_int_equal(ldns_rr_rd_count(ldns_rr_list_rr(l, 0)), 2);
	ldns_rr_list_free(l);
	/* Two TXT RRs at one name. */
	l = zone_get(z, "_mta-sts.sts-other-txt.test.", LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_list_rr_count(l), 2);
	ldns_rr_list_free(l);
	/* A CNAME, and its target holding the record. */
	l = zone_get(z, "_mta-sts.sts-cname.test.", LDNS_RR_TYPE_CNAME);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 0));
	ldns_rr_list_free(l);
	l = zone_get(z, s, LDNS_RR_TYPE_TXT);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_free(l);
	free(s);
	/* Null MX: preference 0, exchange the root. */
	l = zone_get(z, "no-policy-null-mx.test.", LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 1));
	assert_string_equal(s, ".");
	free(s);
	ldns_rr_list_free(l);
	/* No MX at all, but the name exists (implicit MX). */
	l = zone_get(z, "no-policy-no-mx.test.", LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rr_list_rr_count(l), 0);
	ldns_rr_list_free(l);
	l = zone_get(z, "no-policy-no-mx.test.", LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_free(l);
	/* The dead delegation. */
	l = zone_get(z, "broken.test.", LDNS_RR_TYPE_NS);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_free(l);
	/* The lame delegation: a cut to NSD itself, nothing below it. */
	l = zone_get(z, "sts-lame-delegation.test.", LDNS_RR_TYPE_NS);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_free(l);
	l = zone_get(z, "sts-lame-delegation.test.", LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rr_list_rr_count(l), 0);
	ldns_rr_list_free(l);
	/* Dangling: the CNAME target has no records at all. */
	l = zone_get(z, "mta-sts.ph-dangling-cname.test.", LDNS_RR_TYPE_CNAME);
	assert_int_equal(ldns_rr_list_rr_count(l), 1);
	ldns_rr_list_free(l);
	ldns_zone_deep_free(z);
	tmp_remove(&t);
}

/* --- the ground truth --- */

static void check_codes(const char *list, bool info)
{
	char buf[512];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *c = strtok_r(buf, " ", &save); c != NULL;
	     c = strtok_r(NULL, " ", &save)) {
		enum an_code code;

		if (an_code_from_name(c, &code) != ST_OK)
			fail_msg("unknown finding code \"%s\"", c);
		if (info != (an_code_info(code)->severity == AN_SEV_INFO))
			fail_msg("\"%s\" listed as %s", c,
				 info ? "info" : "error/warn");
	}
}

/* True if name, or a name below it, owns a record in the zone text. */
static bool zone_mentions(const char *zone, const char *name)
{
	char pat[300];

	snprintf(pat, sizeof(pat), "\n%s.\t", name);
	if (strstr(zone, pat) != NULL)
		return true;
	snprintf(pat, sizeof(pat), ".%s.\t", name);
	return strstr(zone, pat) != NULL;
}

static void check_truth_line(const char *line, const char *zone,
			     const char *domains, bool *seen, size_t n_scen)
{
	char domain[256], scen[64], verdict[64], codes[512], dl[260];
	const struct ds_scenario *base;
	size_t n;
	enum an_verdict v;

	base = ds_world_scenarios(&n);
	assert_int_equal(n, n_scen);
	assert_true(json_str(line, "domain", domain, sizeof(domain)));
	assert_true(json_str(line, "scenario", scen, sizeof(scen)));
	assert_true(json_str(line, "verdict", verdict, sizeof(verdict)));
	assert_int_equal(an_verdict_from_name(verdict, &v), ST_OK);
	assert_true(json_str(line, "verdict_probe", verdict, sizeof(verdict)));
	assert_int_equal(an_verdict_from_name(verdict, &v), ST_OK);
	assert_true(json_arr(line, "findings", codes, sizeof(codes)));
	check_codes(codes, false);
	assert_true(json_arr(line, "findings_probe", codes, sizeof(codes)));
	check_codes(codes, false);
	assert_true(json_arr(line, "info", codes, sizeof(codes)));
	check_codes(codes, true);
	assert_non_null(scen_by_name(scen));
	seen[scen_by_name(scen) - base] = true;
	snprintf(dl, sizeof(dl), "\n%s\n", domain);
	assert_true(strncmp(domains, dl + 1, strlen(dl + 1)) == 0 ||
		    strstr(domains, dl) != NULL);
	if (strstr(domain, ".broken.test") != NULL)
		assert_int_equal(scen_by_name(scen)->sts_how, DS_STS_BROKEN);
	else if (!zone_mentions(zone, domain))
		fail_msg("%s is not in the zone", domain);
}

static void test_truth(void **state)
{
	struct tmpdir t;
	char *truth, *zone, *domains, *save = NULL;
	char prev[256] = "";
	size_t n_scen, lines = 0;
	bool *seen;

	(void)state;
	ds_world_scenarios(&n_scen);
	assert_true(n_scen >= 45);
	seen = calloc(n_scen, sizeof(*seen));
	assert_non_null(seen);
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	truth = slurp(t.path, "truth.jsonl", NULL);
	zone = slurp(t.path, "dns/test.zone", NULL);
	domains = slurp(t.path, "domains.txt", NULL);
	assert_non_null(truth);
	assert_non_null(zone);
	assert_non_null(domains);
	for (char *l = strtok_r(truth, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char d[256];

		check_truth_line(l, zone, domains, seen, n_scen);
		assert_true(json_str(l, "domain", d, sizeof(d)));
		assert_true(strcmp(prev, d) < 0); /* sorted, no duplicates */
		snprintf(prev, sizeof(prev), "%s", d);
		lines++;
	}
	assert_int_equal(lines, n_scen);
	for (size_t i = 0; i < n_scen; i++)
		assert_true(seen[i]);
	free(truth);
	free(zone);
	free(domains);
	free(seen);
	tmp_remove(&t);
}

/* Every verdict the world can produce is produced by some scenario. */
static void test_verdicts_covered(void **state)
{
	size_t n;
	const struct ds_scenario *s = ds_world_scenarios(&n);

	(void)state;
	for (int v = 0; v < AN_V_COUNT; v++) {
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(s[i].verdict,
				       an_verdict_name((enum an_verdict)v)) == 0;
		if (!found)
			fail_msg("no scenario for verdict %s",
				 an_verdict_name((enum an_verdict)v));
	}
}

/* --- determinism --- */

static bool same_file(const char *a, const char *b, const char *rel)
{
	size_t la, lb;
	char *x = slurp(a, rel, &la), *y = slurp(b, rel, &lb);
	bool same = x != NULL && y != NULL && la == lb &&
		    memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* Blank the data of every TLSA record in the zone text: it hashes
 * tls/leaf.key, which is fresh each run like the rest of tls/. */
static void blank_tlsa(char *zone)
{
	for (char *p = strstr(zone, "\tTLSA\t3 1 1 "); p != NULL;
	     p = strstr(p + 1, "\tTLSA\t3 1 1 ")) {
		for (p += 12; *p != '\n' && *p != '\0'; p++)
			*p = 'x';
	}
}

static bool same_zone(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, "dns/test.zone", &la);
	char *y = slurp(b, "dns/test.zone", &lb);
	bool same;

	assert_non_null(x);
	assert_non_null(y);
	blank_tlsa(x);
	blank_tlsa(y);
	same = la == lb && memcmp(x, y, la) == 0;
	free(x);
	free(y);
	return same;
}

static void test_determinism(void **state)
{
	static const char *const files[] = {
		"truth.jsonl", "domains.txt", "mx-hosts.txt",
		"nginx/nginx.conf", "world.json", "postfix/main.cf",
		"postfix/master.cf", "postfix/sni-own-00.regexp",
		"nginx/www/mta-sts.policy-bom.test/mta-sts.txt",
		"nginx/www/mta-sts.http-too-large.test/mta-sts.txt",
	};
	struct tmpdir a, b, c;

	(void)state;
	tmp_make(&a);
	tmp_make(&b);
	tmp_make(&c);
	gen(a.path, 0, 1, 443);
	gen(b.path, 0, 1, 443);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!same_file(a.path, b.path, files[i]))
			fail_msg("catalog %s differs between runs", files[i]);
	}
	assert_true(same_zone(a.path, b.path));
	gen(a.path, 500, 3, 443);
	gen(b.path, 500, 3, 443);
	gen(c.path, 500, 4, 443);
	assert_true(same_file(a.path, b.path, "truth.jsonl"));
	assert_true(same_zone(a.path, b.path));
	assert_true(same_file(a.path, b.path, "mx-hosts.txt"));
	assert_true(same_file(a.path, b.path, "postfix/master.cf"));
	assert_false(same_file(a.path, c.path, "truth.jsonl"));
	assert_false(same_zone(a.path, c.path));
	tmp_remove(&a);
	tmp_remove(&b);
	tmp_remove(&c);
}

/* --- bulk proportions --- */

static void test_bulk_proportions(void **state)
{
	struct tmpdir t;
	char *truth, *save = NULL;
	size_t total = 0, no_policy = 0, announced = 0, provider = 0, tlsrpt = 0;

	(void)state;
	tmp_make(&t);
	gen(t.path, 2000, 42, 443);
	truth = slurp(t.path, "truth.jsonl", NULL);
	assert_non_null(truth);
	for (char *l = strtok_r(truth, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char d[64], sc[64];
		const struct ds_scenario *s;

		assert_true(json_str(l, "domain", d, sizeof(d)));
		assert_true(json_str(l, "scenario", sc, sizeof(sc)));
		assert_true(strlen(d) >= 13 && d[0] == 'd');
		s = scen_by_name(sc);
		assert_non_null(s);
		total++;
		if (s->sts != NULL)
			announced++;
		else
			no_policy++;
		if (strcmp(sc, "no-policy-provider-mx") == 0)
			provider++;
		if (strcmp(sc, "no-policy-tlsrpt") == 0)
			tlsrpt++;
	}
	assert_int_equal(total, 2000);
	/* Expected: ~1 % announcing, ~83 % on providers, ~3 % TLS-RPT only. */
	assert_in_range(announced, 3, 60);
	assert_in_range(no_policy, 1940, 1997);
	assert_in_range(provider, 1550, 1780);
	assert_in_range(tlsrpt, 25, 100);
	free(truth);
	tmp_remove(&t);
}

/* --- nginx --- */

static bool served(const struct ds_scenario *s)
{
	return s->sts_how != DS_STS_BROKEN && s->sts_how != DS_STS_DELEGATED &&
	       (s->ph == DS_PH_SERVED || s->ph == DS_PH_CNAME ||
		s->ph == DS_PH_PLAIN);
}

static void test_nginx_conf(void **state)
{
	struct tmpdir t;
	size_t n;
	const struct ds_scenario *s = ds_world_scenarios(&n);
	char *conf;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 18443);
	conf = slurp(t.path, "nginx/nginx.conf", NULL);
	assert_non_null(conf);
	for (size_t i = 0; i < n; i++) {
		char pat[300];
		bool has = false;

		snprintf(pat, sizeof(pat), "server_name mta-sts.%s.test;",
			 s[i].name);
		has = strstr(conf, pat) != NULL;
		if (has != served(&s[i]))
			fail_msg("%s: server block %s", s[i].name,
				 has ? "unexpected" : "missing");
	}
	assert_non_null(strstr(conf, "limit_rate 1;"));
	assert_non_null(strstr(conf, "return 301 "));
	assert_non_null(strstr(conf, "default_type \"text/html\";"));
	assert_non_null(strstr(conf, ":18443 ssl;"));
	assert_null(strstr(conf, "user "));
	free(conf);
	tmp_remove(&t);
}

/* `nginx -t` on the generated configuration, if nginx is installed. */
static void test_nginx_t(void **state)
{
	static const char *const dirs[] = { "/usr/sbin/nginx", "/usr/bin/nginx",
					    "/usr/local/sbin/nginx" };
	const char *nginx = NULL;
	struct tmpdir t;
	char cmd[512];
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !nginx; i++) {
		if (access(dirs[i], X_OK) == 0)
			nginx = dirs[i];
	}
	if (nginx == NULL && test_in_ci())
		fail_msg("nginx not installed (CI=true: a missing tool is a "
			 "failure, not a skip)");
	if (nginx == NULL)
		skip();
	tmp_make(&t);
	gen(t.path, 0, 1, 18443);
	snprintf(cmd, sizeof(cmd), "%s -q -t -c %s/nginx/nginx.conf -p %s/nginx/",
		 nginx, t.path, t.path);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
	tmp_remove(&t);
}

/* --- certificates --- */

static STACK_OF(X509) *read_chain(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(sk);
	if (f == NULL)
		fail_msg("no certificate file %s", path);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		assert_true(sk_X509_push(sk, x) > 0);
	fclose(f);
	ERR_clear_error();
	assert_true(sk_X509_num(sk) > 0);
	return sk;
}

/* Verify the chain tls/certs/<file> for host against a store holding
 * ca.pem only, at NOW; returns the X509 error. */
static int verify_file(const char *dir, const char *host, const char *file,
		       X509 **leaf_out)
{
	char path[512];
	STACK_OF(X509) *chain;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int err;

	assert_non_null(store);
	assert_non_null(ctx);
	snprintf(path, sizeof(path), "%s/tls/ca.pem", dir);
	assert_int_equal(X509_STORE_load_file(store, path), 1);
	snprintf(path, sizeof(path), "%s/tls/certs/%s", dir, file);
	chain = read_chain(path);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0),
					     chain), 1);
	assert_int_equal(X509_STORE_CTX_set_default(ctx, "ssl_server"), 1);
	param = X509_STORE_CTX_get0_param(ctx);
	assert_int_equal(X509_VERIFY_PARAM_set1_host(param, host, 0), 1);
	X509_VERIFY_PARAM_set_time(param, NOW);
	X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	*leaf_out = sk_X509_value(chain, 0);
	X509_up_ref(*leaf_out);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(chain, X509_free);
	return err;
}

/* The same for the chain a policy host serves, tls/certs/<host>.pem. */
static int verify_host(const char *dir, const char *host, X509 **leaf_out)
{
	char file[300];

	snprintf(file, sizeof(file), "%s.pem", host);
	return verify_file(dir, host, file, leaf_out);
}

static void test_certs(void **state)
{
	static const struct {
		const char *scenario;
		int want;
	} cases[] = {
		{ "enforce-ok", X509_V_OK },
		{ "ph-cname", X509_V_OK },
		{ "cert-expiring", X509_V_OK },
		{ "cert-expired", X509_V_ERR_CERT_HAS_EXPIRED },
		{ "cert-not-yet-valid", X509_V_ERR_CERT_NOT_YET_VALID },
		{ "cert-wrong-name", X509_V_ERR_HOSTNAME_MISMATCH },
		{ "cert-self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT },
		{ "cert-untrusted",
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
		{ "cert-missing-intermediate",
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	};
	struct tmpdir t;
	char path[512];
	struct stat sb;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[128];
		X509 *leaf = NULL;
		ASN1_TIME *from;
		int err, day, sec;

		snprintf(host, sizeof(host), "mta-sts.%s.test", cases[i].scenario);
		err = verify_host(t.path, host, &leaf);
		if (err != cases[i].want)
			fail_msg("%s: %s, want %s", host,
				 X509_verify_cert_error_string(err),
				 X509_verify_cert_error_string(cases[i].want));
		/* Expiring: within the 14-day warning; others well outside. */
		from = ASN1_TIME_set(NULL, NOW);
		assert_non_null(from);
		assert_int_equal(ASN1_TIME_diff(&day, &sec, from,
						X509_get0_notAfter(leaf)), 1);
		ASN1_TIME_free(from);
		(void)sec;
		if (strcmp(cases[i].scenario, "cert-expiring") == 0)
			assert_in_range(day, 0, 13);
		else if (cases[i].want == X509_V_OK)
			assert_true(day > 14);
		X509_free(leaf);
	}
	/* No certificate where nothing is served. */
	snprintf(path, sizeof(path), "%s/tls/certs/mta-sts.ph-refused.test.pem",
		 t.path);
	assert_int_not_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path),
		 "%s/tls/certs/mta-sts.no-policy-provider-mx.test.pem", t.path);
	assert_int_not_equal(stat(path, &sb), 0);
	tmp_remove(&t);
}

/* --- cross-check: the hand-written truth against the classifier ---
 *
 * The truth is never derived from the classifier; this test feeds the
 * classifier what a scan would observe in the catalog world (the zone's
 * records, the policy files, the fetch outcome each scenario is built to
 * cause, the MX behaviours) and requires the same verdict and codes, so a
 * mistake in either shows up here. */

struct xobs {
	struct an_bytes sts[4], rpt[4];
	char txt[8][512];
	struct an_mx_host mx[4];
	char mxname[4][256];
	struct an_probe probe[4];
	uint8_t *body;
};

/* TXT RRs at owner (following one CNAME) joined per RR into x->txt[k..]. */
static size_t get_txt(const ldns_zone *z, const char *owner, struct xobs *x,
		      size_t k, struct an_bytes *out, bool *cname)
{
	ldns_rr_list *l = zone_get(z, owner, LDNS_RR_TYPE_CNAME);
	char *target = NULL;
	size_t n = 0;

	if (ldns_rr_list_rr_count(l) == 1) {
		target = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 0));
		if (cname != NULL)
			*cname = true;
	}
	ldns_rr_list_free(l);
	l = zone_get(z, target != NULL ? target : owner, LDNS_RR_TYPE_TXT);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && n < 4; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		size_t len = 0;

		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			ldns_rdf *rd = ldns_rr_rdf(rr, j);
			size_t sl = ldns_rdf_data(rd)[0];

			memcpy(x->txt[k + n] + len, ldns_rdf_data(rd) + 1, sl);
			len += sl;
		}
		out[n].data = (const uint8_t *)x->txt[k + n];
		out[n].len = len;
		n++;
	}
	ldns_rr_list_free(l);
	free(target);
	return n;
}

static enum an_fetch_status fetch_status(const struct ds_scenario *s)
{
	static const enum an_fetch_status ph[] = {
		[DS_PH_NONE] = AN_FETCH_NO_ADDRESS,
		[DS_PH_DANGLING] = AN_FETCH_DANGLING_CNAME,
		[DS_PH_REFUSED] = AN_FETCH_CONNECT_REFUSED,
		[DS_PH_HANG] = AN_FETCH_TIMEOUT,
		[DS_PH_PLAIN] = AN_FETCH_TLS_HANDSHAKE,
	};
	static const enum an_fetch_status cert[] = {
		[DS_CERT_EXPIRED] = AN_FETCH_CERT_EXPIRED,
		[DS_CERT_NOT_YET_VALID] = AN_FETCH_CERT_NOT_YET_VALID,
		[DS_CERT_WRONG_NAME] = AN_FETCH_CERT_NAME_MISMATCH,
		[DS_CERT_SELF_SIGNED] = AN_FETCH_CERT_SELF_SIGNED,
		[DS_CERT_UNTRUSTED] = AN_FETCH_CERT_UNTRUSTED,
		[DS_CERT_MISSING_INTER] = AN_FETCH_CERT_UNTRUSTED,
	};

	if (s->ph != DS_PH_SERVED && s->ph != DS_PH_CNAME)
		return ph[s->ph];
	if (s->cert != DS_CERT_VALID && s->cert != DS_CERT_EXPIRING)
		return cert[s->cert];
	if (s->http == DS_HTTP_BIG)
		return AN_FETCH_TOO_LARGE;
	if (s->http == DS_HTTP_SLOW)
		return AN_FETCH_TIMEOUT;
	return AN_FETCH_DONE;
}

/* True if mx-hosts.txt says host has a TLSA record (4th column). */
static bool mx_tlsa(const char *mxhosts, const char *host)
{
	char pat[300];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\n%s ", host);
	p = strstr(mxhosts, pat);
	if (p == NULL)
		return false;
	end = strchr(p + 1, '\n');
	assert_non_null(end);
	return end - p > 5 && strncmp(end - 5, " tlsa", 5) == 0;
}

/* The probe outcome mx-hosts.txt promises for host. */
static enum an_probe_status mx_behaviour(const char *mxhosts, const char *host)
{
	char pat[300];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s ", host);
	p = strstr(mxhosts, pat);
	if (p == NULL)
		return AN_PROBE_UNREACHABLE;
	p = strchr(p + strlen(pat), ' '); /* past the address */
	assert_non_null(p);
	p++;
	if (strncmp(p, "no-starttls ", 12) == 0)
		return AN_PROBE_NO_STARTTLS;
	if (strncmp(p, "wrong-name ", 11) == 0)
		return AN_PROBE_NAME_MISMATCH;
	if (strncmp(p, "expired ", 8) == 0)
		return AN_PROBE_CERT_INVALID;
	assert_int_equal(strncmp(p, "starttls-valid ", 15), 0);
	return AN_PROBE_OK;
}

static void observe(const char *dir, const ldns_zone *z,
		    const struct ds_scenario *s, const char *mxhosts,
		    struct xobs *x, struct an_observation *o, bool fetch)
{
	char owner[300], rel[300];
	ldns_rr_list *l;
	size_t len = 0;

	snprintf(owner, sizeof(owner), "_mta-sts.%s.test.", s->name);
	o->sts_txt = x->sts;
	o->n_sts_txt = get_txt(z, owner, x, 0, x->sts, &o->sts_cname);
	o->sts_dns = o->n_sts_txt > 0 ? AN_DNS_NOERROR : AN_DNS_NXDOMAIN;
	snprintf(owner, sizeof(owner), "_smtp._tls.%s.test.", s->name);
	o->tlsrpt_txt = x->rpt;
	o->n_tlsrpt_txt = get_txt(z, owner, x, 4, x->rpt, NULL);
	o->tlsrpt_dns = o->n_tlsrpt_txt > 0 ? AN_DNS_NOERROR : AN_DNS_NXDOMAIN;
	snprintf(owner, sizeof(owner), "%s.test.", s->name);
	l = zone_get(z, owner, LDNS_RR_TYPE_MX);
	o->mx = x->mx;
	o->n_mx = ldns_rr_list_rr_count(l);
	o->mx_dns = o->n_mx > 0 ? AN_DNS_NOERROR : AN_DNS_NODATA;
	for (size_t i = 0; i < o->n_mx; i++) {
		char *h = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, i), 1));

		snprintf(x->mxname[i], sizeof(x->mxname[i]), "%s", h);
		free(h);
		x->mx[i].name = x->mxname[i];
		x->mx[i].preference = (uint16_t)(10 * (i + 1));
		len = strlen(x->mxname[i]);
		x->mxname[i][len - 1] = '\0'; /* drop the dot for lookups */
		x->probe[i] = (struct an_probe){
			.host = x->mxname[i],
			.status = mx_behaviour(mxhosts, x->mxname[i]),
			.tlsa = mx_tlsa(mxhosts, x->mxname[i]),
			.tlsa_secure = mx_tlsa(mxhosts, x->mxname[i]) };
	}
	ldns_rr_list_free(l);
	if (s->mx == DS_MX_NONE)
		x->probe[0] = (struct an_probe){ .host = o->domain,
						 .status = AN_PROBE_UNREACHABLE };
	o->probes = x->probe;
	if (!fetch)
		return;
	o->fetch.status = fetch_status(s);
	o->fetch.http_status = s->http == DS_HTTP_REDIRECT ? 301
			       : s->http == DS_HTTP_404   ? 404
			       : s->http == DS_HTTP_500   ? 500 : 200;
	o->fetch.content_type = s->content_type != NULL ? s->content_type
							: "text/plain";
	o->fetch.cert_not_after = s->cert == DS_CERT_EXPIRING ? NOW + 5 * DAY
							      : NOW + 365 * DAY;
	if (s->body != NULL) {
		snprintf(rel, sizeof(rel), "nginx/www/mta-sts.%s.test/mta-sts.txt",
			 s->name);
		x->body = (uint8_t *)slurp(dir, rel, &len);
		assert_non_null(x->body);
		o->fetch.body = (struct an_bytes){ x->body, len };
	}
}

/* "a b c" (codes of severity >= warn, or == info) of f, sorted. */
static void codes_of(const struct an_findings *f, bool info, char *out,
		     size_t cap)
{
	const char *names[AN_FINDINGS_MAX];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		const char *nm = an_code_info(f->item[i].code)->name;
		bool dup = false;

		if ((f->item[i].severity == AN_SEV_INFO) != info)
			continue;
		for (size_t j = 0; j < n; j++)
			dup = dup || strcmp(names[j], nm) == 0;
		if (!dup)
			names[n++] = nm;
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0;
		     j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	}
	for (size_t i = 0; i < n; i++) {
		strncat(out, names[i], cap - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, " ", cap - strlen(out) - 1);
	}
}

/* The truth's list "a b c" sorted, as codes_of() writes it. */
static void sorted_list(const char *a, const char *b, char *out, size_t cap)
{
	struct an_findings f;
	char buf[512];
	char *save = NULL;

	an_findings_init(&f);
	snprintf(buf, sizeof(buf), "%s %s", a != NULL ? a : "",
		 b != NULL ? b : "");
	for (char *c = strtok_r(buf, " ", &save); c != NULL;
	     c = strtok_r(NULL, " ", &save)) {
		enum an_code code;

		assert_int_equal(an_code_from_name(c, &code), ST_OK);
		an_findings_add_sev(&f, code, AN_SEV_WARN, NULL);
	}
	codes_of(&f, false, out, cap);
}

static void check_one(const char *dir, const ldns_zone *z,
		      const struct ds_scenario *s, const char *mxhosts,
		      const char *truth, bool probes)
{
	struct xobs *x = calloc(1, sizeof(*x));
	struct an_classification *c = calloc(1, sizeof(*c));
	struct an_observation o = { .now = NOW };
	char domain[128], got[512], want[512];
	const char *vwant;

	assert_non_null(x);
	assert_non_null(c);
	snprintf(domain, sizeof(domain), "%s.test", s->name);
	o.domain = domain;
	observe(dir, z, s, mxhosts, x, &o, false);
	o.n_probes = probes ? (s->mx == DS_MX_NONE ? 1 : o.n_mx) : 0;
	assert_int_equal(an_classify(&o, c), ST_OK);
	if (c->record.status == AN_STS_VALID) {
		observe(dir, z, s, mxhosts, x, &o, true);
		assert_int_equal(an_classify(&o, c), ST_OK);
	}
	codes_of(&c->findings, false, got, sizeof(got));
	if (probes)
		sorted_list(s->findings, s->probe != NULL ? s->probe :
			    s->mx == DS_MX_NONE ? "mx-tls.unreachable" : NULL,
			    want, sizeof(want));
	else
		sorted_list(s->findings, NULL, want, sizeof(want));
	if (strcmp(got, want) != 0)
		fail_msg("%s%s: classifier [%s], truth [%s]", s->name,
			 probes ? " (probes)" : "", got, want);
	vwant = probes && s->verdict_probe != NULL ? s->verdict_probe
						   : s->verdict;
	if (strcmp(an_verdict_name(c->verdict), vwant) != 0)
		fail_msg("%s: classifier %s, truth %s", s->name,
			 an_verdict_name(c->verdict), vwant);
	{
		struct an_findings f;
		char buf[512], pat[300];
		char *save = NULL;
		const char *line;

		/* The info codes: the table's, or with probes the truth's
		 * info_probe (TLSA depends on the domain's provider). */
		an_findings_init(&f);
		snprintf(buf, sizeof(buf), "%s", s->info);
		if (probes) {
			snprintf(pat, sizeof(pat), "{\"domain\":\"%s\",",
				 domain);
			line = strstr(truth, pat);
			assert_non_null(line);
			assert_true(json_arr(line, "info_probe", buf,
					     sizeof(buf)));
		}
		for (char *t = strtok_r(buf, " ", &save); t != NULL;
		     t = strtok_r(NULL, " ", &save)) {
			enum an_code code;

			assert_int_equal(an_code_from_name(t, &code), ST_OK);
			an_findings_add_sev(&f, code, AN_SEV_INFO, NULL);
		}
		codes_of(&f, true, want, sizeof(want));
		codes_of(&c->findings, true, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("%s%s: classifier info [%s], truth [%s]",
				 s->name, probes ? " (probes)" : "", got, want);
	}
	free(x->body);
	free(x);
	free(c);
}

static void test_truth_vs_classifier(void **state)
{
	struct tmpdir t;
	size_t n;
	const struct ds_scenario *s = ds_world_scenarios(&n);
	ldns_zone *z;
	char *mx, *mxhosts, *truth;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	z = load_zone(t.path);
	truth = slurp(t.path, "truth.jsonl", NULL);
	assert_non_null(truth);
	mx = slurp(t.path, "mx-hosts.txt", NULL);
	assert_non_null(mx);
	mxhosts = malloc(strlen(mx) + 2);
	assert_non_null(mxhosts);
	mxhosts[0] = '\n';
	strcpy(mxhosts + 1, mx);
	for (size_t i = 0; i < n; i++) {
		if (s[i].sts_how == DS_STS_BROKEN ||
		    s[i].sts_how == DS_STS_DELEGATED)
			continue; /* a failed lookup: nothing to observe */
		check_one(t.path, z, &s[i], mxhosts, truth, false);
		check_one(t.path, z, &s[i], mxhosts, truth, true);
	}
	free(truth);
	free(mx);
	free(mxhosts);
	ldns_zone_deep_free(z);
	tmp_remove(&t);
}

/* --- MX hosts, TLSA and Postfix --- */

struct mxline {
	char host[256], addr[16], beh[32], tlsa[8];
};

/* Parse mx-hosts.txt into *out (caller frees); returns the line count. */
static size_t read_mx_hosts(const char *dir, struct mxline **out)
{
	char *text = slurp(dir, "mx-hosts.txt", NULL), *save = NULL;
	size_t n = 0, cap = 0;
	struct mxline *v = NULL;

	assert_non_null(text);
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char extra[8];

		if (n == cap) {
			cap = cap == 0 ? 512 : 2 * cap;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		if (sscanf(l, "%255s %15s %31s %7s %7s", v[n].host, v[n].addr,
			   v[n].beh, v[n].tlsa, extra) != 4)
			fail_msg("mx-hosts.txt: not 4 columns: %s", l);
		n++;
	}
	free(text);
	*out = v;
	return n;
}

/* RFC 7672 §3.1.1: the SHA-256 of the leaf key's SubjectPublicKeyInfo. */
static void leaf_spki_sha256(const char *dir, unsigned char md[32])
{
	char path[512];
	unsigned char *der = NULL;
	unsigned int md_len = 0;
	EVP_PKEY *k;
	FILE *f;
	int len;

	snprintf(path, sizeof(path), "%s/tls/leaf.key", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	len = i2d_PUBKEY(k, &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(),
				    NULL), 1);
	assert_int_equal(md_len, 32);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void test_mx_hosts(void **state)
{
	struct tmpdir t;
	struct mxline *mx;
	size_t n, n_tlsa = 0, n_own = 0, n_zone_tlsa = 0;
	unsigned char md[32];
	ldns_zone *z;
	ldns_rr_list *all;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	z = load_zone(t.path);
	leaf_spki_sha256(t.path, md);
	n = read_mx_hosts(t.path, &mx);
	for (size_t i = 0; i < n; i++) {
		char owner[300], file[300];
		unsigned prov = 0;
		bool provider =
			sscanf(mx[i].host, "mx%*u.prov%u.test", &prov) == 1;
		ldns_rr_list *l;
		char *a;
		X509 *leaf = NULL;
		int err, want = X509_V_OK;

		/* The zone's A record is the line's address. */
		snprintf(owner, sizeof(owner), "%s.", mx[i].host);
		l = zone_get(z, owner, LDNS_RR_TYPE_A);
		assert_int_equal(ldns_rr_list_rr_count(l), 1);
		a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, 0), 0));
		assert_string_equal(a, mx[i].addr);
		free(a);
		ldns_rr_list_free(l);
		if (strncmp(mx[i].addr, "127.4.", 6) == 0)
			n_own++;
		else
			assert_int_equal(strncmp(mx[i].addr, "127.3.", 6), 0);
		/* TLSA exactly for every 4th provider's hosts (RFC 7672
		 * DANE-EE SPKI SHA-256 of the shared leaf key). */
		snprintf(owner, sizeof(owner), "_25._tcp.%s.", mx[i].host);
		l = zone_get(z, owner, LDNS_RR_TYPE_TLSA);
		if (strcmp(mx[i].tlsa, "tlsa") == 0) {
			ldns_rr *rr;
			/* DANE-EE(3) SPKI(1) SHA2-256(1) */
			const uint8_t head[3] = { 3, 1, 1 };

			assert_true(provider && prov % 4 == 0);
			assert_int_equal(ldns_rr_list_rr_count(l), 1);
			rr = ldns_rr_list_rr(l, 0);
			assert_int_equal(ldns_rr_rd_count(rr), 4);
			for (size_t j = 0; j < 3; j++)
				assert_int_equal(
					ldns_rdf_data(ldns_rr_rdf(rr, j))[0],
					head[j]);
			assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, 3)), 32);
			assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 3)),
					    md, 32);
			n_tlsa++;
		} else {
			assert_string_equal(mx[i].tlsa, "-");
			assert_false(provider && prov % 4 == 0);
			assert_int_equal(ldns_rr_list_rr_count(l), 0);
		}
		ldns_rr_list_free(l);
		/* The chain Postfix serves fails exactly as the behaviour
		 * says (catalog: one file per host). */
		if (strcmp(mx[i].beh, "no-starttls") == 0)
			continue;
		if (strcmp(mx[i].beh, "wrong-name") == 0)
			want = X509_V_ERR_HOSTNAME_MISMATCH;
		else if (strcmp(mx[i].beh, "expired") == 0)
			want = X509_V_ERR_CERT_HAS_EXPIRED;
		else
			assert_string_equal(mx[i].beh, "starttls-valid");
		snprintf(file, sizeof(file), "%s.pem", mx[i].host);
		err = verify_file(t.path, mx[i].host, file, &leaf);
		if (err != want)
			fail_msg("%s: %s, want %s", mx[i].host,
				 X509_verify_cert_error_string(err),
				 X509_verify_cert_error_string(want));
		X509_free(leaf);
	}
	assert_int_equal(n_tlsa, 2 * ((DS_WORLD_PROVIDERS + 3) / 4));
	assert_int_equal(n, 2 * DS_WORLD_PROVIDERS + 3 + n_own);
	assert_true(n_own >= 10 && n_own <= DS_WORLD_OWN_MX_ADDRS);
	all = ldns_zone_rrs(z);
	for (size_t i = 0; i < ldns_rr_list_rr_count(all); i++)
		n_zone_tlsa += ldns_rr_get_type(ldns_rr_list_rr(all, i)) ==
			       LDNS_RR_TYPE_TLSA;
	assert_int_equal(n_zone_tlsa, n_tlsa);
	free(mx);
	ldns_zone_deep_free(z);
	tmp_remove(&t);
}

/* Every "certs/<file>" named in text exists under dir/tls. */
static void check_cert_refs(const char *dir, const char *text)
{
	for (const char *p = strstr(text, "/certs/"); p != NULL;
	     p = strstr(p + 1, "/certs/")) {
		char file[300], path[600];
		struct stat sb;
		size_t len = strcspn(p + 7, " ,\t\n");

		assert_true(len > 0 && len < sizeof(file));
		memcpy(file, p + 7, len);
		file[len] = '\0';
		snprintf(path, sizeof(path), "%s/tls/certs/%s", dir, file);
		if (stat(path, &sb) != 0)
			fail_msg("Postfix names a missing chain %s", path);
	}
}

/* Run cmd (a shell command line); its exit status, or -1. */
static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_postfix_conf(void **state)
{
	static const char *const must[] = {
		"\nsmtpd_sender_restrictions = reject\n",
		"\nsmtpd_recipient_restrictions = reject\n",
		"\nsmtpd_relay_restrictions = reject\n",
		"\nsmtpd_delay_reject = no\n",
		"\ndefault_transport = error:",
		"\nrelay_transport = $default_transport\n",
		"\nsmtp_dns_support_level = disabled\n",
		"\nsmtpd_peername_lookup = no\n",
		"\ninet_protocols = ipv4\n",
		"\nmynetworks = 127.0.0.1/32\n",
		"\nmydestination =\n",
		"\nqueue_directory = ${config_directory}/../run/postfix\n",
		"\ndata_directory = ${config_directory}/../run/postfix-data\n",
	};
	struct tmpdir t;
	struct mxline *mx;
	char *main_cf, *master, *copy, *save = NULL, cmd[1024], pat[64];
	size_t n, n_services = 0;

	(void)state;
	tmp_make(&t);
	gen(t.path, 0, 1, 443);
	main_cf = slurp(t.path, "postfix/main.cf", NULL);
	master = slurp(t.path, "postfix/master.cf", NULL);
	assert_non_null(main_cf);
	assert_non_null(master);
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (strstr(main_cf, must[i]) == NULL)
			fail_msg("main.cf lacks \"%s\"", must[i] + 1);
	}
	/* Nothing of OUT's own path: the world can move. */
	assert_null(strstr(main_cf, t.path));
	assert_null(strstr(master, t.path));
	/* Nothing that could queue or deliver; smtpd listeners only. */
	copy = strdup(master);
	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		static const char *const banned[] = {
			"cleanup", "qmgr", "pickup", "smtp\t", "relay", "local",
			"virtual", "lmtp", "bounce", "pipe" };
		const char *tail = strstr(l, ":2525\tinet\t");

		for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
			assert_false(strncmp(l, banned[i],
					     strlen(banned[i])) == 0);
		if (tail == NULL)
			continue;
		assert_string_equal(tail, ":2525\tinet\tn\t-\tn\t-\t-\tsmtpd");
		n_services++;
	}
	free(copy);
	/* One smtpd per distinct MX address, each on the smtp port. */
	n = read_mx_hosts(t.path, &mx);
	assert_int_equal(n_services, n); /* the catalog: one host each */
	for (size_t i = 0; i < n; i++) {
		const char *l;

		snprintf(pat, sizeof(pat), "\n%s:2525\tinet\t", mx[i].addr);
		l = strstr(master, pat);
		if (l == NULL)
			fail_msg("master.cf: no listener for %s (%s)",
				 mx[i].addr, mx[i].host);
		l = strchr(l + 1, '\n') + 1;
		if (strcmp(mx[i].beh, "no-starttls") == 0)
			assert_int_equal(strncmp(l, "  -o smtpd_tls_security"
						    "_level=none\n", 33), 0);
		else
			assert_int_equal(strncmp(l, "  -o smtpd_tls_chain_"
						    "files=", 27), 0);
	}
	free(mx);
	check_cert_refs(t.path, main_cf);
	check_cert_refs(t.path, master);
	for (unsigned s = 0; s < DS_WORLD_OWN_MX_ADDRS; s++) {
		char rel[64], *tab;

		snprintf(rel, sizeof(rel), "postfix/sni-own-%02u.regexp", s);
		tab = slurp(t.path, rel, NULL);
		if (tab == NULL)
			continue;
		check_cert_refs(t.path, tab);
		free(tab);
	}
	/* Postfix's own checks, where it is installed. */
	if (access("/usr/sbin/postconf", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "/usr/sbin/postconf -c %s/postfix "
			 "-n >/dev/null 2>%s/postconf.err && ! grep -q . "
			 "%s/postconf.err && /usr/sbin/postconf -c %s/postfix "
			 "-M >/dev/null", t.path, t.path, t.path, t.path);
		if (run(cmd) != 0)
			fail_msg("postconf -n/-M complains: see "
				 "%s/postconf.err", t.path);
	}
	/* `postfix check` creates the queue and chowns it: root only.  It
	 * also rewrites main.cf (absolute paths): this world is a copy. */
	if (access("/usr/sbin/postfix", X_OK) == 0 && geteuid() == 0) {
		snprintf(cmd, sizeof(cmd), "mkdir -p %s/run/postfix && "
			 "/usr/sbin/postfix -c %s/postfix check", t.path,
			 t.path);
		assert_int_equal(run(cmd), 0);
	}
	free(main_cf);
	free(master);
	tmp_remove(&t);
}

/* A bulk world: per-domain hosts in groups of 10^k domains, one chain
 * per group naming all its hosts, on the group's address, with an SNI
 * rule in that address's table. */
static void test_mx_bulk(void **state)
{
	struct tmpdir t;
	struct mxline *mx;
	size_t n, n_checked = 0;
	char *master;

	(void)state;
	tmp_make(&t);
	gen(t.path, 3000, 7, 443); /* 3000 / 10 <= 1000: groups of 10 */
	n = read_mx_hosts(t.path, &mx);
	master = slurp(t.path, "postfix/master.cf", NULL);
	assert_non_null(master);
	for (size_t i = 0; i < n; i++) {
		unsigned long idx;
		unsigned g;
		char addr[16], file[64], rel[64], rule[64], *tab;
		X509 *leaf = NULL;
		const char *d = strstr(mx[i].host, ".d");
		int err;

		if (strncmp(mx[i].addr, "127.4.", 6) != 0)
			continue;
		assert_non_null(d);
		assert_int_equal(sscanf(d, ".d%7lu.test", &idx), 1);
		g = (unsigned)(idx / 10);
		snprintf(addr, sizeof(addr), "127.4.0.%u",
			 g % DS_WORLD_OWN_MX_ADDRS + 1);
		assert_string_equal(mx[i].addr, addr);
		if (i % 7 != 0)
			continue; /* a sample is enough for the certificates */
		snprintf(file, sizeof(file), "mx-own-g%04u.pem", g);
		err = verify_file(t.path, mx[i].host, file, &leaf);
		if (err != X509_V_OK)
			fail_msg("%s in %s: %s", mx[i].host, file,
				 X509_verify_cert_error_string(err));
		X509_free(leaf);
		snprintf(rel, sizeof(rel), "postfix/sni-own-%02u.regexp",
			 g % DS_WORLD_OWN_MX_ADDRS);
		tab = slurp(t.path, rel, NULL);
		assert_non_null(tab);
		snprintf(rule, sizeof(rule), "\n/\\.d%06u[0-9]{1}\\.test$/\t",
			 g);
		if (strstr(tab, rule) == NULL || strstr(tab, file) == NULL)
			fail_msg("%s: no rule %s for %s", rel, rule + 1, file);
		free(tab);
		snprintf(rule, sizeof(rule), "sni-own-%02u.regexp\n",
			 g % DS_WORLD_OWN_MX_ADDRS);
		assert_non_null(strstr(master, rule));
		n_checked++;
	}
	assert_true(n_checked >= 20);
	free(master);
	free(mx);
	tmp_remove(&t);
}

static void test_bad_options(void **state)
{
	struct ds_world_opts o = { .out_dir = "/tmp/x", .seed = 1,
				   .tld = "Bad.TLD", .now = NOW,
				   .https_port = 443, .dns_port = 53,
				   .smtp_port = 25 };

	(void)state;
	assert_int_equal(ds_world_generate(&o, NULL), ST_EINVAL);
	o.tld = "test";
	o.https_port = 0;
	assert_int_equal(ds_world_generate(&o, NULL), ST_EINVAL);
	o.https_port = 443;
	o.smtp_port = 0;
	assert_int_equal(ds_world_generate(&o, NULL), ST_EINVAL);
	o.smtp_port = 65536;
	assert_int_equal(ds_world_generate(&o, NULL), ST_EINVAL);
	o.smtp_port = 25;
	o.n_domains = DS_WORLD_DOMAINS_MAX + 1;
	assert_int_equal(ds_world_generate(&o, NULL), ST_EINVAL);
	assert_int_equal(ds_world_generate(NULL, NULL), ST_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_truth),
		cmocka_unit_test(test_verdicts_covered),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_bulk_proportions),
		cmocka_unit_test(test_nginx_conf),
		cmocka_unit_test(test_nginx_t),
		cmocka_unit_test(test_certs),
		cmocka_unit_test(test_truth_vs_classifier),
		cmocka_unit_test(test_mx_hosts),
		cmocka_unit_test(test_postfix_conf),
		cmocka_unit_test(test_mx_bulk),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
