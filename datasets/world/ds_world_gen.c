/*
 * ds_world_gen.c - the pass of the synthetic test world generator
 * (ds_world_generate(), see ds_world.h).
 *
 * One pass over the domains, in output order: each domain's zone records,
 * policy file, certificate, nginx server block, MX host lines, truth line
 * and domain line are written as it is generated, so memory stays flat.
 * This file owns the run: the output files, the CAs, the heads and tails
 * and world.json; a domain's own records are written by ds_world.c, its
 * MX hosts by ds_world_mx.c.
 */
#include "ds_world_int.h"
#include "ds_world_out.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ds_certs.h"
#include "st_error.h"

#define DAY DS_WORLD_DAY
#define TTL DS_WORLD_TTL
#define NAME_MAX_LEN DS_WORLD_NAME_MAX

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, good enough. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One domain, in output order: its zone records (TXT, MX, policy host),
 * its policy host's files, its truth line and its line in domains.txt. */
static int gen_domain(struct world *w, const char *name, size_t scen,
		      uint64_t index)
{
	struct dom d = { .name = name, .sc = &w->scen[scen], .index = index };
	uint64_t r = rng_next(&w->rng);
	double u = (double)(r >> 11) / 9007199254740992.0;
	int ret;

	/* Skewed: a few providers carry most of the mail. */
	d.provider = (unsigned)(u * u * DS_WORLD_PROVIDERS);
	snprintf(d.id, sizeof(d.id), "%016" PRIx64,
		 rng_next(&w->rng) ^ w->o->seed);
	snprintf(d.host, sizeof(d.host), "mta-sts.%s", name);
	ret = ds_world_dom_txt(w, &d);
	if (!ds_world_no_data_served(d.sc)) {
		if (ret == ST_OK)
			ret = ds_world_mx_domain(w, &d);
		ds_world_dom_host_dns(w, &d);
	}
	if (ret == ST_OK)
		ret = ds_world_dom_policy_host(w, &d);
	if (ret != ST_OK)
		return ret;
	ds_world_dom_truth(w, &d);
	fprintf(w->domains, "%s\n", name);
	w->counts[scen]++;
	w->st.n_domains++;
	return ST_OK;
}

/* --- heads and tails --- */

static int write_zone_head(struct world *w)
{
	const char *t = w->o->tld;
	FILE *z = w->zone;

	fprintf(z, "; stsmap world: zone %s., seed %" PRIu64 "\n", t,
		w->o->seed);
	fprintf(z, "%s.\t%d\tIN\tSOA\tns.%s. hostmaster.%s. %u 3600 900 "
		   "604800 300\n", t, TTL, t, t, (unsigned)(uint32_t)w->o->now);
	fprintf(z, "%s.\t%d\tIN\tNS\tns.%s.\n", t, TTL, t);
	fprintf(z, "ns.%s.\t%d\tIN\tA\t%s\n", t, TTL, DS_WORLD_ADDR_NSD);
	/* A delegation to a server that never answers: lookups below it
	 * fail (SERVFAIL from the resolver). */
	fprintf(z, "broken.%s.\t%d\tIN\tNS\tns.broken.%s.\n", t, TTL, t);
	fprintf(z, "ns.broken.%s.\t%d\tIN\tA\t%s\n", t, TTL,
		DS_WORLD_ADDR_REFUSED);
	fprintf(z, "pages.hosting.%s.\t%d\tIN\tA\t127.2.0.1\n", t, TTL);
	return ds_world_mx_shared(w);
}

static void write_nginx_head(struct world *w)
{
	FILE *f = w->nginx;
	/* Policy hosts are about 1 % of a bulk world: room for all names. */
	uint64_t hash = 4096 + w->o->n_domains / 25;

	fprintf(f, "# stsmap world, seed %" PRIu64 ": run as\n"
		   "#   nginx -c OUT/nginx/nginx.conf -p OUT/nginx/ "
		   "-g 'daemon off;'\n"
		   "# %s is the hang listener (started by world-up), %s is "
		   "refused.\n", w->o->seed, DS_WORLD_ADDR_HANG,
		DS_WORLD_ADDR_REFUSED);
	fputs("worker_processes 1;\npid logs/nginx.pid;\n"
	      "error_log logs/error.log;\n\n"
	      "events {\n\tworker_connections 1024;\n}\n\nhttp {\n"
	      "\taccess_log logs/access.log;\n"
	      "\tclient_body_temp_path tmp/client_body;\n"
	      "\tproxy_temp_path tmp/proxy;\n"
	      "\tfastcgi_temp_path tmp/fastcgi;\n"
	      "\tuwsgi_temp_path tmp/uwsgi;\n"
	      "\tscgi_temp_path tmp/scgi;\n"
	      "\ttypes {\n\t}\n\tdefault_type text/plain;\n"
	      "\tserver_tokens off;\n", f);
	fprintf(f, "\tserver_names_hash_max_size %" PRIu64 ";\n"
		   "\tserver_names_hash_bucket_size 128;\n"
		   "\tssl_certificate_key ../tls/leaf.key;\n"
		   "\tssl_protocols TLSv1.2 TLSv1.3;\n\n", hash);
	if (w->o->behave)
		ds_world_behave_nginx_head(f);
}

static const char *shape_name(const struct world *w)
{
	return w->o->n_domains == 0 ? "catalog" : "bulk";
}

static int write_world_json(struct world *w)
{
	FILE *f = NULL;
	int ret = ds_world_open_out(w, "world.json", &f);

	if (ret != ST_OK)
		return ret;
	fprintf(f, "{\n  \"generator\": \"stsmap world\",\n  \"seed\": %" PRIu64
		   ",\n  \"shape\": \"%s\",\n  \"now\": %lld,\n  \"tld\": ",
		w->o->seed, shape_name(w), (long long)w->o->now);
	ds_world_put_json_string(f, w->o->tld);
	/* Only with --behave: the flat world's world.json is unchanged. */
	if (w->o->behave)
		fprintf(f, ",\n  \"behave\": 1,\n  \"behave_ipv6\": \"%s %s\","
			   "\n  \"behave_addresses\": \"127.6.0.1-%d "
			   "127.6.0.10 127.6.1.1-%d\"", DS_WORLD_ADDR6_POLICY,
			DS_WORLD_ADDR6_MX, DS_WORLD_TENANT_ADDRS,
			DS_WORLD_PROVIDER_ADDRS);
	fprintf(f, ",\n  \"https_port\": %u,\n  \"dns_port\": %u,\n"
		   "  \"smtp_port\": %u,\n"
		   "  \"domains\": %" PRIu64 ",\n  \"policy_hosts\": %" PRIu64
		   ",\n  \"certificates\": %" PRIu64 ",\n"
		   "  \"own_mx_hosts\": %" PRIu64 ",\n",
		w->o->https_port, w->o->dns_port, w->o->smtp_port,
		w->st.n_domains, w->st.n_policy_hosts, w->st.n_certs,
		w->st.n_mx_own);
	fprintf(f, "  \"mx_certificates\": %" PRIu64 ",\n"
		   "  \"smtp_services\": %" PRIu64 ",\n"
		   "  \"tlsa_hosts\": %" PRIu64 ",\n",
		w->st.n_mx_certs, w->st.n_smtp_services, w->st.n_tlsa);
	fprintf(f, "  \"addresses\": {\n    \"nsd\": \"%s\",\n"
		   "    \"unbound\": \"%s\",\n    \"resolver\": \"%s\",\n"
		   "    \"policy_hosts\": \"127.2.0.0/16\",\n"
		   "    \"policy_hosts_per_address\": %d,\n"
		   "    \"shared_mx\": \"127.3.0.0/16\",\n"
		   "    \"own_mx\": \"127.4.0.1-127.4.0.%d\",\n"
		   "    \"refused\": \"%s\",\n    \"hang\": \"%s\",\n"
		   "    \"plain_http\": \"%s\",\n"
		   "    \"postfix\": \"127.3.0.0/16 and 127.4.0.0/16\"\n  },\n",
		DS_WORLD_ADDR_NSD, DS_WORLD_ADDR_UNBOUND, DS_WORLD_ADDR_UNBOUND,
		DS_WORLD_PER_ADDR, DS_WORLD_OWN_MX_ADDRS, DS_WORLD_ADDR_REFUSED,
		DS_WORLD_ADDR_HANG, DS_WORLD_ADDR_PLAIN);
	fprintf(f, "  \"files\": {\n    \"domains\": \"domains.txt\",\n"
		   "    \"truth\": \"truth.jsonl\",\n"
		   "    \"groups\": \"groups.csv\",\n"
		   "    \"zone\": \"dns/%s.zone\",\n"
		   "    \"mx_hosts\": \"mx-hosts.txt\",\n"
		   "    \"ca\": \"tls/ca.pem\",\n"
		   "    \"nginx\": \"nginx/nginx.conf\",\n"
		   "    \"postfix_config\": \"postfix\"\n  },\n"
		   "  \"scenarios\": {", w->o->tld);
	for (size_t i = 0; i < w->n_scen; i++)
		fprintf(f, "%s\n    \"%s\": %" PRIu64, i == 0 ? "" : ",",
			w->scen[i].name, w->counts[i]);
	fputs("\n  }\n}\n", f);
	return ds_world_close_out(&f);
}

/* --- set-up and the two shapes --- */

static int make_cas(struct world *w)
{
	time_t now = w->o->now;
	int ret;

	ret = ds_ca_new("stsmap world root", now - 3650 * DAY,
			now + 3650 * DAY, &w->root);
	if (ret == ST_OK)
		ret = ds_ca_new_intermediate(w->root, "stsmap world intermediate",
					     now - 3650 * DAY, now + 3650 * DAY,
					     &w->inter);
	if (ret == ST_OK)
		ret = ds_ca_new("stsmap untrusted root", now - 3650 * DAY,
				now + 3650 * DAY, &w->untrusted);
	if (ret == ST_OK)
		ret = ds_key_new(&w->key);
	if (ret == ST_OK)
		ret = ds_world_out_path(w, "tls/ca.pem");
	if (ret == ST_OK) {
		char key[PATH_MAX];

		snprintf(key, sizeof(key), "%s/tls/ca.key", w->o->out_dir);
		ret = ds_ca_write(w->root, w->path, key);
	}
	if (ret == ST_OK)
		ret = ds_world_out_path(w, "tls/intermediate.pem");
	if (ret == ST_OK) {
		char key[PATH_MAX];

		snprintf(key, sizeof(key), "%s/tls/intermediate.key",
			 w->o->out_dir);
		ret = ds_ca_write(w->inter, w->path, key);
	}
	if (ret == ST_OK)
		ret = ds_world_out_path(w, "tls/untrusted-ca.pem");
	if (ret == ST_OK)
		ret = ds_ca_write(w->untrusted, w->path, NULL);
	if (ret == ST_OK)
		ret = ds_world_out_path(w, "tls/leaf.key");
	if (ret == ST_OK)
		ret = ds_write_pem_key(w->path, w->key);
	return ret;
}

struct cat_entry {
	char name[NAME_MAX_LEN];
	size_t scen;
};

static int cat_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cat_entry *)a)->name,
		      ((const struct cat_entry *)b)->name);
}

static int gen_catalog(struct world *w)
{
	struct cat_entry *e;
	size_t n = 0;
	int ret = ST_OK;

	for (size_t i = 0; i < w->n_scen; i++)
		n += w->scen[i].copies > 0 ? w->scen[i].copies : 1;
	e = calloc(n, sizeof(*e));
	if (e == NULL)
		return ST_ENOMEM;
	n = 0;
	for (size_t i = 0; i < w->n_scen; i++) {
		const char *broken = w->scen[i].sts_how == DS_STS_BROKEN
					     ? "broken." : "";

		if (w->scen[i].copies == 0)
			snprintf(e[n++].name, sizeof(e[0].name), "%s.%s%s",
				 w->scen[i].name, broken, w->o->tld);
		for (unsigned k = 1; k <= w->scen[i].copies; k++)
			snprintf(e[n++].name, sizeof(e[0].name), "%s-%02u.%s%s",
				 w->scen[i].name, k, broken, w->o->tld);
	}
	for (size_t i = 0, j = 0; i < w->n_scen; i++)
		for (unsigned k = 0; k < (w->scen[i].copies > 0
					  ? w->scen[i].copies : 1u); k++)
			e[j++].scen = i;
	qsort(e, n, sizeof(*e), cat_cmp);
	for (size_t i = 0; i < n && ret == ST_OK; i++)
		ret = gen_domain(w, e[i].name, e[i].scen, i);
	free(e);
	return ret;
}

static int gen_bulk(struct world *w)
{
	char name[NAME_MAX_LEN];
	int ret = ST_OK;

	for (size_t i = 0; i < w->n_scen; i++)
		w->cum_total += w->scen[i].weight;
	for (uint64_t i = 1; i <= w->o->n_domains && ret == ST_OK; i++) {
		uint64_t r = rng_next(&w->rng) % w->cum_total;
		size_t s = 0;

		while (r >= w->scen[s].weight) {
			r -= w->scen[s].weight;
			s++;
		}
		snprintf(name, sizeof(name), "d%07" PRIu64 ".%s%s", i,
			 w->scen[s].sts_how == DS_STS_BROKEN ? "broken." : "",
			 w->o->tld);
		ret = gen_domain(w, name, s, i);
	}
	return ret;
}

static bool tld_ok(const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > DS_WORLD_TLD_MAX || t[0] == '-' || t[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

static int open_all(struct world *w)
{
	static const char *const dirs[] = { "dns", "tls/certs", "nginx/www",
					    "nginx/logs", "nginx/tmp",
					    "postfix" };
	char rel[DS_WORLD_TLD_MAX + 16];
	int ret = ds_world_mkdir_p(w->o->out_dir);

	for (size_t i = 0; ret == ST_OK && i < sizeof(dirs) / sizeof(dirs[0]);
	     i++) {
		ret = ds_world_out_path(w, dirs[i]);
		if (ret == ST_OK)
			ret = ds_world_mkdir_p(w->path);
	}
	snprintf(rel, sizeof(rel), "dns/%s.zone", w->o->tld);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, rel, &w->zone);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "truth.jsonl", &w->truth);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "groups.csv", &w->groups);
	if (ret == ST_OK)
		fputs("domain,group\n", w->groups);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "domains.txt", &w->domains);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "nginx/nginx.conf", &w->nginx);
	if (ret == ST_OK)
		ret = ds_world_open_out(w, "mx-hosts.txt", &w->mxhosts);
	return ret;
}

int ds_world_generate(const struct ds_world_opts *opts,
		      struct ds_world_stats *stats)
{
	struct world *w;
	int ret, r2;

	if (opts == NULL || opts->out_dir == NULL || !tld_ok(opts->tld) ||
	    opts->n_domains > DS_WORLD_DOMAINS_MAX || opts->https_port == 0 ||
	    opts->https_port > 65535 || opts->dns_port == 0 ||
	    opts->dns_port > 65535 || opts->smtp_port == 0 ||
	    opts->smtp_port > 65535)
		return ST_EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return ST_ENOMEM;
	w->o = opts;
	w->rng = opts->seed;
	w->scen = opts->behave ? ds_world_scenarios_behave(&w->n_scen)
			       : ds_world_scenarios(&w->n_scen);
	w->counts = calloc(w->n_scen, sizeof(*w->counts));
	ret = w->counts != NULL ? open_all(w) : ST_ENOMEM;
	if (ret == ST_OK)
		ret = make_cas(w);
	if (ret == ST_OK)
		ret = ds_world_mx_begin(w);
	if (ret == ST_OK)
		ret = write_zone_head(w);
	if (ret != ST_OK)
		goto cleanup;
	write_nginx_head(w);
	ret = opts->n_domains == 0 ? gen_catalog(w) : gen_bulk(w);
	fputs("}\n", w->nginx);
	if (ret == ST_OK)
		ret = ds_world_mx_end(w);
	if (ret == ST_OK)
		ret = write_world_json(w);
cleanup:
	r2 = ds_world_close_out(&w->zone);
	ret = ret == ST_OK ? r2 : ret;
	r2 = ds_world_close_out(&w->truth);
	ret = ret == ST_OK ? r2 : ret;
	r2 = ds_world_close_out(&w->groups);
	ret = ret == ST_OK ? r2 : ret;
	r2 = ds_world_close_out(&w->domains);
	ret = ret == ST_OK ? r2 : ret;
	r2 = ds_world_close_out(&w->nginx);
	ret = ret == ST_OK ? r2 : ret;
	r2 = ds_world_close_out(&w->mxhosts);
	ret = ret == ST_OK ? r2 : ret;
	ds_world_mx_free(w);
	if (ret == ST_OK && stats != NULL)
		*stats = w->st;
	ds_ca_free(w->root);
	ds_ca_free(w->inter);
	ds_ca_free(w->untrusted);
	EVP_PKEY_free(w->key);
	free(w->counts);
	free(w);
	ERR_clear_error();
	return ret;
}
