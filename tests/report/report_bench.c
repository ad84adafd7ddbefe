/*
 * report_bench.c - write a store of N realistic synthetic results (one
 * finished scan) for scripts/bench-report, which times `stsmap report` on it.
 *
 * Usage: report_bench DB N [--probes] [--seed S]
 *
 * Each domain follows one scenario of the bulk test world
 * (ds_world_scenarios(), drawn by weight: about 99 % without a policy):
 * its verdict, its error/warn and info codes, TXT records, a policy's mode,
 * max_age and mx patterns.  Around that: a TLD from a skewed list, a rank
 * (the domain's position), MX hosts at one of 50,000 providers drawn from a
 * Zipf-like distribution (so the provider table overflows and prunes) or
 * its own, a policy host CNAMEd to a hosting provider for a quarter of the
 * policies.  With --probes every MX host gets a probe record (some with
 * TLSA), as a scan with --probe-mx --dane writes them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_classify.h"
#include "an_findings.h"
#include "an_policy.h"
#include "an_record.h"
#include "ds_store.h"
#include "ds_world.h"
#include "st_error.h"
#include "st_hmap.h"

#define PROVIDERS 50000
#define CODES_MAX 16

struct gen {
	uint64_t rng;
	const struct ds_scenario *sc;
	size_t n_sc;
	uint64_t weight_total;
	struct ds_store *s;
	uint32_t scan;
	bool probes;
	uint8_t *buf;
};

static uint64_t next(struct gen *g) /* splitmix64 */
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const struct ds_scenario *pick(struct gen *g)
{
	uint64_t r = next(g) % g->weight_total;

	for (size_t i = 0; i < g->n_sc; i++) {
		if (r < g->sc[i].weight)
			return &g->sc[i];
		r -= g->sc[i].weight;
	}
	return &g->sc[0];
}

/* Provider k with probability ~ 1/(k+1): a few giants, a long tail. */
static unsigned provider(struct gen *g)
{
	double u = (double)(next(g) >> 11) / 9007199254740992.0;

	return (unsigned)(exp(u * log(PROVIDERS + 1.0)) - 1.0) % PROVIDERS;
}

/* Split "a b c" into codes[]; returns how many. */
static size_t split(const char *s, char codes[][64], size_t max)
{
	size_t n = 0;

	while (s != NULL && *s != '\0' && n < max) {
		size_t l = strcspn(s, " ");

		if (l > 0 && l < 64) {
			memcpy(codes[n], s, l);
			codes[n++][l] = '\0';
		}
		s += l;
		s += *s == ' ';
	}
	return n;
}

static const char *const tlds[] = { "com", "com", "com", "com", "net", "org",
	"de", "uk", "nl", "fr", "se", "ch", "io", "info", "eu", "cz" };
static const uint64_t ages[] = { 604800, 604800, 604800, 86400, 31557600,
	2592000, 1209600, 3600, 31536000, 10368000 };

struct strings {
	char domain[64], mx[2][96], ph[96], sts[96], rpt[128], pat[2][96];
	char codes[CODES_MAX][64];
};

static void fill_mx(struct gen *g, const struct ds_scenario *sc,
		    struct strings *t, struct an_record *r)
{
	unsigned p = provider(g);

	switch (sc->mx) {
	case DS_MX_NULL:
		r->n_mx = r->n_mx_total = 1;
		r->mx[0] = (struct an_record_mx){ "", 0, false };
		return;
	case DS_MX_NONE:
		r->mx_dns = AN_DNS_NODATA;
		return;
	case DS_MX_OWN:
	case DS_MX_OWN_DEEP:
		snprintf(t->mx[0], sizeof(t->mx[0]), "mx1.%s", t->domain);
		snprintf(t->mx[1], sizeof(t->mx[1]), "mx2.%s", t->domain);
		break;
	default:
		if (p == 0) {
			snprintf(t->mx[0], sizeof(t->mx[0]), "aspmx.l.google.com");
			snprintf(t->mx[1], sizeof(t->mx[1]),
				 "alt1.aspmx.l.google.com");
		} else if (p == 1) {
			snprintf(t->mx[0], sizeof(t->mx[0]),
				 "%.40s.mail.protection.outlook.com",
				 t->domain);
			t->mx[1][0] = '\0';
		} else {
			snprintf(t->mx[0], sizeof(t->mx[0]), "mx1.prov%05u.%s",
				 p, tlds[p % 16]);
			snprintf(t->mx[1], sizeof(t->mx[1]), "mx2.prov%05u.%s",
				 p, tlds[p % 16]);
		}
		break;
	}
	r->n_mx = r->n_mx_total = t->mx[1][0] != '\0' ? 2 : 1;
	for (size_t i = 0; i < r->n_mx; i++)
		r->mx[i] = (struct an_record_mx){ t->mx[i],
						  (uint16_t)(10 * (i + 1)),
						  r->verdict >= AN_V_TESTING };
}

static void fill_policy(struct gen *g, struct strings *t,
			struct an_record *r)
{
	enum an_verdict v = (enum an_verdict)r->verdict;

	if (v == AN_V_NO_POLICY || r->sts_dns != AN_DNS_NOERROR)
		return;
	snprintf(t->sts, sizeof(t->sts), "v=STSv1; id=%016" PRIx64, next(g));
	r->sts_txt[0] = (struct an_bytes){ (const uint8_t *)t->sts,
					   strlen(t->sts) };
	r->n_sts_txt = r->n_sts_txt_total = 1;
	r->sts_id = t->sts + 12;
	r->fetch_status = AN_FETCH_DONE;
	r->http_status = 200;
	r->content_type = "text/plain";
	r->have_body = true;
	r->body_len = 80;
	r->ph_addr = "192.0.2.80";
	r->cert_issuer = "CN=R11,O=Let's Encrypt,C=US";
	if (next(g) % 4 == 0) {
		snprintf(t->ph, sizeof(t->ph), "mta-sts.host%02u.example",
			 (unsigned)(next(g) % 40));
		r->ph_cname = t->ph;
	}
	r->mode = v == AN_V_NONE_MODE ? AN_MODE_NONE
		: v == AN_V_TESTING ? AN_MODE_TESTING
		: v == AN_V_POLICY_INVALID ? AN_MODE_UNSET : AN_MODE_ENFORCE;
	r->policy_usable = r->mode != AN_MODE_UNSET;
	r->have_max_age = true;
	r->max_age = ages[next(g) % (sizeof(ages) / sizeof(ages[0]))];
	for (size_t i = 0; i < r->n_mx && i < 2; i++) {
		snprintf(t->pat[i], sizeof(t->pat[i]), "%s", r->mx[i].name);
		r->patterns[r->n_patterns++] = t->pat[i];
	}
	r->n_patterns_total = r->n_patterns;
}

static void fill_findings(const struct ds_scenario *sc, struct strings *t,
			  struct an_record *r)
{
	size_t n = split(sc->findings, t->codes, CODES_MAX);

	n += split(sc->info, t->codes + n, CODES_MAX - n);
	for (size_t i = 0; i < n; i++) {
		enum an_code c;
		uint8_t sev = AN_SEV_WARN;

		if (an_code_from_name(t->codes[i], &c) == ST_OK)
			sev = (uint8_t)an_code_info(c)->severity;
		r->findings[r->n_findings++] = (struct an_record_finding){
			t->codes[i], sev, "synthetic" };
	}
	r->n_findings_total = r->n_findings;
}

static int put_probe(struct gen *g, const char *host)
{
	struct an_probe_record p;
	size_t len;
	int ret;

	an_probe_record_init(&p);
	p.host = host;
	p.status = AN_PROBE_OK;
	p.addr = "192.0.2.25";
	p.tls_version = 0x0304;
	p.verify_error = 0;
	p.name_match = true;
	p.tlsa = st_hash_str(host) % 10 == 0;
	p.tlsa_secure = p.tlsa;
	ret = an_probe_record_encode(&p, g->buf, AN_RECORD_ENCODED_MAX, &len);
	if (ret == ST_OK)
		ret = ds_store_put_probe(g->s, g->scan, host, g->buf, len);
	return ret;
}

static int one(struct gen *g, uint64_t i, struct ds_scan_info *info)
{
	const struct ds_scenario *sc = pick(g);
	struct strings t;
	struct an_record r;
	enum an_verdict v = AN_V_NO_POLICY;
	size_t len;
	int ret;

	an_record_init(&r);
	snprintf(t.domain, sizeof(t.domain), "d%08" PRIu64 ".%s", i,
		 tlds[next(g) % 16]);
	(void)an_verdict_from_name(sc->verdict, &v);
	r.domain = t.domain;
	r.rank = i + 1;
	r.time = info->started;
	r.duration_ms = 40;
	r.verdict = (uint8_t)v;
	r.sts_dns = v == AN_V_NO_POLICY ? AN_DNS_NXDOMAIN
		  : v == AN_V_UNDETERMINED ? AN_DNS_SERVFAIL : AN_DNS_NOERROR;
	r.mx_dns = AN_DNS_NOERROR;
	r.tlsrpt_dns = sc->tlsrpt != NULL ? AN_DNS_NOERROR : AN_DNS_NXDOMAIN;
	if (sc->tlsrpt != NULL) {
		snprintf(t.rpt, sizeof(t.rpt), "v=TLSRPTv1; rua=mailto:tlsrpt@%s",
			 t.domain);
		r.tlsrpt_txt[0] = (struct an_bytes){ (const uint8_t *)t.rpt,
						     strlen(t.rpt) };
		r.n_tlsrpt_txt = r.n_tlsrpt_txt_total = 1;
		r.tlsrpt_valid = strstr(sc->findings, "tlsrpt.") == NULL;
	}
	fill_mx(g, sc, &t, &r);
	fill_policy(g, &t, &r);
	fill_findings(sc, &t, &r);
	ret = an_record_encode(&r, g->buf, AN_RECORD_ENCODED_MAX, &len);
	if (ret == ST_OK)
		ret = ds_store_put_result(g->s, g->scan, t.domain, g->buf, len);
	for (size_t k = 0; ret == ST_OK && g->probes && k < r.n_mx; k++) {
		if (r.mx[k].name[0] != '\0')
			ret = put_probe(g, r.mx[k].name);
	}
	info->n_results++;
	info->verdicts[v]++;
	return ret;
}

int main(int argc, char **argv)
{
	struct gen g = { .rng = 1 };
	struct ds_store_opts so;
	struct ds_scan_info info;
	unsigned long long n;
	struct timespec t0, t1;
	int ret;

	if (argc < 3 || (n = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: report_bench DB N [--probes] "
				"[--seed S]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--probes") == 0)
			g.probes = true;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			g.rng = strtoull(argv[++i], NULL, 10);
	}
	g.sc = ds_world_scenarios(&g.n_sc);
	for (size_t i = 0; i < g.n_sc; i++)
		g.weight_total += g.sc[i].weight;
	g.buf = malloc(AN_RECORD_ENCODED_MAX);
	ds_store_opts_default(&so);
	so.batch_records = 20000;
	so.initial_map = (uint64_t)1 << 30;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = g.buf != NULL ? ds_store_open(argv[1], &so, &g.s) : ST_ENOMEM;
	memset(&info, 0, sizeof(info));
	snprintf(info.label, sizeof(info.label), "bench %llu", n);
	info.started = (int64_t)time(NULL);
	info.meta_json = "{\"generator\":\"report_bench\"}";
	if (ret == ST_OK)
		ret = ds_store_scan_create(g.s, &info, &g.scan);
	info.id = g.scan;
	for (uint64_t i = 0; ret == ST_OK && i < n; i++)
		ret = one(&g, i, &info);
	info.state = DS_SCAN_FINISHED;
	info.finished = (int64_t)time(NULL);
	if (ret == ST_OK)
		ret = ds_store_scan_update(g.s, &info);
	if (ret == ST_OK)
		ret = ds_store_flush(g.s);
	if (ds_store_close(g.s) != ST_OK && ret == ST_OK)
		ret = ST_ESTORE;
	free(g.buf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret != ST_OK) {
		fprintf(stderr, "report_bench: %s\n", st_strerror(ret));
		return 1;
	}
	printf("report_bench: scan %u, %llu records%s in %.1f s\n", g.scan, n,
	       g.probes ? " with probes" : "",
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
