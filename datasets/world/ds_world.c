/*
 * ds_world.c - the synthetic test world generator (see ds_world.h).
 *
 * One pass over the domains, in output order: each domain's zone records,
 * policy file, certificate, nginx server block, MX host lines, truth line
 * and domain line are written as it is generated, so memory stays flat.
 * Everything about MX hosts (addresses, certificates, TLSA, Postfix) is in
 * ds_world_mx.c, called through its API in ds_world_int.h; the files are
 * written through ds_world_out.h, which both use.
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
#include <openssl/x509.h>

#include "ds_certs.h"
#include "st_error.h"
#include "st_hmap.h"

#define DAY DS_WORLD_DAY
#define TTL DS_WORLD_TTL
#define NAME_MAX_LEN DS_WORLD_NAME_MAX
#define BIG_BODY 65537 /* RFC 8461 §3.3 cap (64 KiB) plus one byte */

/* splitmix64 (Steele, Lea, Flood 2014): small, fast, good enough. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* --- addresses (ds_world.h, address plan) --- */

static void addr_policy(uint64_t host_index, char out[16])
{
	uint64_t a = host_index / DS_WORLD_PER_ADDR;

	snprintf(out, 16, "127.2.%u.%u", (unsigned)((a / 254) % 256),
		 (unsigned)(a % 254 + 1));
}

/* --- templates and escaping --- */

/* Expand {d} {t} {p} {id} of tmpl into out (cap bytes, NUL-terminated);
 * returns the length, or -1 if it does not fit. */
static int expand(const struct world *w, const struct dom *d,
		  const char *tmpl, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0';) {
		char prov[32];
		const char *sub = NULL;
		size_t skip = 0, sl;

		if (strncmp(p, "{d}", 3) == 0) {
			sub = d->name;
			skip = 3;
		} else if (strncmp(p, "{t}", 3) == 0) {
			sub = w->o->tld;
			skip = 3;
		} else if (strncmp(p, "{p}", 3) == 0) {
			snprintf(prov, sizeof(prov), "prov%03u.%s", d->provider,
				 w->o->tld);
			sub = prov;
			skip = 3;
		} else if (strncmp(p, "{id}", 4) == 0) {
			sub = d->id;
			skip = 4;
		}
		if (sub == NULL) {
			sub = p;
			sl = 1;
			skip = 1;
		} else {
			sl = strlen(sub);
		}
		if (n + sl >= cap)
			return -1;
		memcpy(out + n, sub, sl);
		n += sl;
		p += skip;
	}
	out[n] = '\0';
	return (int)n;
}

/* One RFC 1035 §5.1 character-string, quoted, of s[0..len). */
static void put_txt_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\%03u", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* TXT RRs at owner from an RR set template: '\n' between RRs, '|' between
 * the character-strings of one RR. */
static int put_txt_set(struct world *w, const struct dom *d,
		       const char *owner, const char *tmpl)
{
	char buf[1024];
	char *rr, *next;

	if (expand(w, d, tmpl, buf, sizeof(buf)) < 0)
		return ST_ETOOBIG;
	for (rr = buf; rr != NULL; rr = next) {
		char *s, *bar;

		next = strchr(rr, '\n');
		if (next != NULL)
			*next++ = '\0';
		fprintf(w->zone, "%s.\t%d\tIN\tTXT\t", owner, TTL);
		for (s = rr; s != NULL; s = bar) {
			bar = strchr(s, '|');
			put_txt_string(w->zone, s,
				       bar != NULL ? (size_t)(bar - s) : strlen(s));
			if (bar != NULL) {
				bar++;
				fputc(' ', w->zone);
			}
		}
		fputc('\n', w->zone);
	}
	return ST_OK;
}

static void put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A JSON array of the space-separated words of a and b (either NULL). */
static void put_json_codes(FILE *f, const char *a, const char *b)
{
	const char *lists[2] = { a, b };
	bool first = true;

	fputc('[', f);
	for (size_t k = 0; k < 2; k++) {
		const char *p = lists[k];

		while (p != NULL && *p != '\0') {
			char word[64];
			size_t len = strcspn(p, " ");

			if (len > 0 && len < sizeof(word)) {
				memcpy(word, p, len);
				word[len] = '\0';
				if (!first)
					fputc(',', f);
				put_json_string(f, word);
				first = false;
			}
			p += len;
			p += strspn(p, " ");
		}
	}
	fputc(']', f);
}

/* --- the per-domain writers --- */

/* No record of the domain is served: every lookup of it fails. */
static bool no_data_served(const struct ds_scenario *sc)
{
	return sc->sts_how == DS_STS_BROKEN || sc->sts_how == DS_STS_DELEGATED;
}

/* A registry's sponsor of each domain, for `report --groups` and `export
 * --by-group`: a fixed function of the name (FNV-1a 64, as shards use), so
 * both shapes and every seed agree.  One name in seven is not listed in
 * groups.csv (its truth says "(none)", the report's AN_GROUP_NONE).  The
 * labels exercise CSV quoting and UTF-8. */
static const char *world_group(const char *name)
{
	static const char *const labels[7] = {
		NULL, "Registrar A", "Registrar A", "Reseller, Inc.",
		"Reseller, Inc.", "R\xc3\xa9gistrar \xc3\x9c", "Registrar B" };

	return labels[st_hash_str(name) % 7];
}

static void write_group(struct world *w, const struct dom *d)
{
	const char *g = world_group(d->name);

	fputs(",\"group\":", w->truth);
	put_json_string(w->truth, g != NULL ? g : "(none)");
	if (g == NULL)
		return;
	fprintf(w->groups, "%s,", d->name);
	if (strchr(g, ',') != NULL)
		fprintf(w->groups, "\"%s\"\n", g);
	else
		fprintf(w->groups, "%s\n", g);
}

static void write_truth(struct world *w, const struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	const char *probe_extra = NULL, *dane = NULL;

	/* The implicit MX of a domain without MX is D (A 127.5.0.1): a
	 * probe finds nothing listening. */
	if (sc->mx == DS_MX_NONE && !no_data_served(sc))
		probe_extra = "mx-tls.unreachable";
	/* A probe also looks up TLSA: validated records at the MX hosts
	 * of every 4th provider (RFC 7672). */
	if (sc->mx == DS_MX_PROVIDER && !no_data_served(sc) &&
	    ds_world_mx_provider_tlsa(d->provider))
		dane = "mx-tls.dane mx-tls.dnssec";
	fputs("{\"domain\":", w->truth);
	put_json_string(w->truth, d->name);
	fputs(",\"scenario\":", w->truth);
	put_json_string(w->truth, sc->name);
	fputs(",\"verdict\":", w->truth);
	put_json_string(w->truth, sc->verdict);
	fputs(",\"findings\":", w->truth);
	put_json_codes(w->truth, sc->findings, NULL);
	fputs(",\"info\":", w->truth);
	put_json_codes(w->truth, sc->info, NULL);
	fputs(",\"findings_probe\":", w->truth);
	if (sc->probe != NULL)
		put_json_codes(w->truth, sc->findings, sc->probe);
	else
		put_json_codes(w->truth, sc->findings, probe_extra);
	fputs(",\"verdict_probe\":", w->truth);
	put_json_string(w->truth, sc->verdict_probe != NULL ? sc->verdict_probe
							   : sc->verdict);
	fputs(",\"info_probe\":", w->truth);
	put_json_codes(w->truth, sc->info, dane);
	if (sc->covered != NULL) {
		char hosts[512];

		/* The catalog's templates are short: a row that does not fit
		 * is a bug of the table, seen as an empty list by the test. */
		if (expand(w, d, sc->covered, hosts, sizeof(hosts)) < 0)
			hosts[0] = '\0';
		fputs(",\"mx_covered\":", w->truth);
		put_json_codes(w->truth, hosts, NULL);
	}
	write_group(w, d);
	fputs("}\n", w->truth);
}

static int write_mx(struct world *w, const struct dom *d)
{
	static const char *const own[] = { "mx1", "mx2" };
	char host[NAME_MAX_LEN], addr[DS_WORLD_ADDR_MAX];
	FILE *z = w->zone;
	int ret = ST_OK;

	switch (d->sc->mx) {
	case DS_MX_PROVIDER:
		fprintf(z, "%s.\t%d\tIN\tMX\t10 mx1.prov%03u.%s.\n", d->name, TTL,
			d->provider, w->o->tld);
		fprintf(z, "%s.\t%d\tIN\tMX\t20 mx2.prov%03u.%s.\n", d->name, TTL,
			d->provider, w->o->tld);
		break;
	case DS_MX_OWN:
		for (size_t i = 0; i < 2 && ret == ST_OK; i++) {
			snprintf(host, sizeof(host), "%s.%s", own[i], d->name);
			ret = ds_world_mx_own(w, d, host, addr);
			fprintf(z, "%s.\t%d\tIN\tMX\t%zu %s.\n", d->name, TTL,
				10 * (i + 1), host);
			fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, TTL, addr);
		}
		break;
	case DS_MX_OWN_DEEP:
		snprintf(host, sizeof(host), "mx.eu.%s", d->name);
		ret = ds_world_mx_own(w, d, host, addr);
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.\n", d->name, TTL, host);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, TTL, addr);
		break;
	case DS_MX_NULL:
		fprintf(z, "%s.\t%d\tIN\tMX\t0 .\n", d->name, TTL);
		break;
	case DS_MX_NONE:
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->name, TTL,
			DS_WORLD_ADDR_REFUSED);
		break;
	case DS_MX_TENANT:
		ds_world_behave_tenant(w, d->index, host, addr);
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.\n", d->name, TTL, host);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", host, TTL, addr);
		break;
	default:
		fprintf(z, "%s.\t%d\tIN\tMX\t10 %s.%s.\n", d->name, TTL,
			ds_world_mx_special(d->sc->mx), w->o->tld);
		break;
	}
	return ret;
}

/* The policy host's DNS records; sets d->addr for served hosts. */
static void write_policy_host_dns(struct world *w, struct dom *d)
{
	FILE *z = w->zone;

	d->addr[0] = '\0';
	switch (d->sc->ph) {
	case DS_PH_NONE:
		break;
	case DS_PH_SERVED:
		addr_policy(w->st.n_policy_hosts, d->addr);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->host, TTL, d->addr);
		break;
	case DS_PH_CNAME:
		snprintf(d->addr, sizeof(d->addr), "127.2.0.1");
		fprintf(z, "%s.\t%d\tIN\tCNAME\tpages.hosting.%s.\n", d->host,
			TTL, w->o->tld);
		break;
	case DS_PH_DANGLING:
		fprintf(z, "%s.\t%d\tIN\tCNAME\tsite%" PRIu64 ".unclaimed.%s.\n",
			d->host, TTL, d->index, w->o->tld);
		break;
	case DS_PH_REFUSED:
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->host, TTL,
			DS_WORLD_ADDR_REFUSED);
		break;
	case DS_PH_HANG:
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->host, TTL,
			DS_WORLD_ADDR_HANG);
		break;
	case DS_PH_PLAIN:
		snprintf(d->addr, sizeof(d->addr), "%s", DS_WORLD_ADDR_PLAIN);
		fprintf(z, "%s.\t%d\tIN\tA\t%s\n", d->host, TTL,
			DS_WORLD_ADDR_PLAIN);
		break;
	case DS_PH_PROVIDER:
	case DS_PH_V6:
		ds_world_behave_ph_addr(d->sc->ph, w->st.n_policy_hosts,
					d->addr);
		fprintf(z, "%s.\t%d\tIN\t%s\t%s\n", d->host, TTL,
			d->sc->ph == DS_PH_V6 ? "AAAA" : "A", d->addr);
		break;
	}
}

static int write_dns(struct world *w, struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	char owner[NAME_MAX_LEN + 16];
	int ret = ST_OK;

	/* Everything under broken.<tld> belongs to the dead server. */
	if (sc->sts_how == DS_STS_BROKEN)
		return ST_OK;
	/* A zone cut to ns.<tld> (NSD), which does not serve the zone. */
	if (sc->sts_how == DS_STS_DELEGATED) {
		fprintf(w->zone, "%s.\t%d\tIN\tNS\tns.%s.\n", d->name, TTL,
			w->o->tld);
		return ST_OK;
	}
	snprintf(owner, sizeof(owner), "_mta-sts.%s", d->name);
	if (sc->sts != NULL && sc->sts_how == DS_STS_CNAME) {
		char target[64];

		snprintf(target, sizeof(target), "sts%" PRIu64 ".hosting.%s",
			 w->n_sts_cname++, w->o->tld);
		fprintf(w->zone, "%s.\t%d\tIN\tCNAME\t%s.\n", owner, TTL, target);
		ret = put_txt_set(w, d, target, sc->sts);
	} else if (sc->sts != NULL) {
		ret = put_txt_set(w, d, owner, sc->sts);
	}
	if (ret == ST_OK && sc->tlsrpt != NULL) {
		snprintf(owner, sizeof(owner), "_smtp._tls.%s", d->name);
		ret = put_txt_set(w, d, owner, sc->tlsrpt);
	}
	if (ret == ST_OK)
		ret = write_mx(w, d);
	write_policy_host_dns(w, d);
	return ret;
}

/* --- certificates --- */

static int write_cert(struct world *w, const struct dom *d)
{
	char wrong[NAME_MAX_LEN + 8], rel[NAME_MAX_LEN + 32];
	const char *names[1] = { d->host };
	struct ds_leaf_req req = { .dns_names = names, .n_dns_names = 1 };
	const struct ds_ca *issuer = w->inter;
	time_t now = w->o->now;
	X509 *chain[2] = { NULL, NULL };
	size_t n_chain = 2;
	int ret;

	req.not_before = now - 30 * DAY;
	req.not_after = now + 365 * DAY;
	switch (d->sc->cert) {
	case DS_CERT_EXPIRED:
		req.not_before = now - 400 * DAY;
		req.not_after = now - 30 * DAY;
		break;
	case DS_CERT_NOT_YET_VALID:
		req.not_before = now + 30 * DAY;
		req.not_after = now + 400 * DAY;
		break;
	case DS_CERT_WRONG_NAME:
		snprintf(wrong, sizeof(wrong), "www.%s", d->name);
		names[0] = wrong;
		break;
	case DS_CERT_SELF_SIGNED:
		issuer = NULL;
		req.self_signed = true;
		n_chain = 1;
		break;
	case DS_CERT_UNTRUSTED:
		issuer = w->untrusted; /* never serve the untrusted root */
		n_chain = 1;
		break;
	case DS_CERT_MISSING_INTER:
		n_chain = 1;
		break;
	case DS_CERT_EXPIRING:
		req.not_before = now - 80 * DAY;
		req.not_after = now + 5 * DAY;
		break;
	}
	ret = ds_leaf_issue(issuer, w->key, &req, &chain[0]);
	if (ret != ST_OK)
		return ret;
	chain[1] = ds_ca_cert(w->inter);
	snprintf(rel, sizeof(rel), "tls/certs/%s.pem", d->host);
	ret = ds_world_out_path(w, rel);
	if (ret == ST_OK)
		ret = ds_write_pem_cert(w->path, chain, n_chain);
	X509_free(chain[0]);
	if (ret == ST_OK)
		w->st.n_certs++;
	return ret;
}

/* --- policy files and nginx --- */

static int write_body(struct world *w, const struct dom *d)
{
	char rel[NAME_MAX_LEN + 32];
	FILE *f;
	int len, ret;

	len = expand(w, d, d->sc->body, w->body, sizeof(w->body));
	if (len < 0)
		return ST_ETOOBIG;
	snprintf(rel, sizeof(rel), "nginx/www/%s", d->host);
	ret = ds_world_out_path(w, rel);
	if (ret == ST_OK)
		ret = ds_world_mkdir_p(w->path);
	if (ret == ST_OK) {
		snprintf(rel, sizeof(rel), "nginx/www/%s/mta-sts.txt", d->host);
		ret = ds_world_out_path(w, rel);
	}
	if (ret != ST_OK)
		return ret;
	f = fopen(w->path, "w");
	if (f == NULL)
		return ST_EIO;
	fwrite(w->body, 1, (size_t)len, f);
	if (d->sc->http == DS_HTTP_BIG) {
		/* One long extension line takes the body past the cap. */
		size_t left = BIG_BODY - (size_t)len;

		fputs("pad: ", f);
		for (left -= 6; left > 0; left--)
			fputc('x', f);
		fputc('\n', f);
	}
	if (ferror(f) || fclose(f) != 0)
		return ST_EIO;
	return ST_OK;
}

static void write_server(struct world *w, const struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	FILE *f = w->nginx;
	char listen[DS_WORLD_ADDR_MAX + 2];

	/* RFC 3986 §3.2.2: an IPv6 literal in brackets. */
	snprintf(listen, sizeof(listen), strchr(d->addr, ':') != NULL
		 ? "[%s]" : "%s", d->addr);
	if (sc->ph == DS_PH_PLAIN) {
		/* Plain HTTP where TLS is expected: the handshake fails. */
		fprintf(f, "\tserver {\n\t\tlisten %s:%u;\n\t\tserver_name %s;\n"
			   "\t\treturn 200 \"not TLS\\n\";\n\t}\n", listen,
			w->o->https_port, d->host);
		return;
	}
	fprintf(f, "\tserver {\n\t\tlisten %s:%u ssl;\n\t\tserver_name %s;\n"
		   "\t\tssl_certificate ../tls/certs/%s.pem;\n"
		   "\t\tlocation = /.well-known/mta-sts.txt {\n",
		listen, w->o->https_port, d->host, d->host);
	if (sc->ph == DS_PH_PROVIDER)
		ds_world_behave_nginx_limits(f);
	switch (sc->http) {
	case DS_HTTP_REDIRECT:
		fprintf(f, "\t\t\treturn 301 https://pages.hosting.%s/"
			   "mta-sts.txt;\n", w->o->tld);
		break;
	case DS_HTTP_404:
		fputs("\t\t\treturn 404;\n", f);
		break;
	case DS_HTTP_500:
		fputs("\t\t\treturn 500;\n", f);
		break;
	default:
		fprintf(f, "\t\t\tdefault_type \"%s\";\n\t\t\talias www/%s/"
			   "mta-sts.txt;\n",
			sc->content_type != NULL ? sc->content_type
						 : "text/plain", d->host);
		if (sc->http == DS_HTTP_SLOW)
			fputs("\t\t\tlimit_rate_after 10;\n"
			      "\t\t\tlimit_rate 1;\n", f);
		break;
	}
	fputs("\t\t}\n\t\tlocation / {\n\t\t\treturn 404;\n\t\t}\n\t}\n", f);
}

static int write_policy_host(struct world *w, const struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	int ret = ST_OK;

	if (no_data_served(sc) ||
	    (sc->ph != DS_PH_SERVED && sc->ph != DS_PH_CNAME &&
	     sc->ph != DS_PH_PLAIN && sc->ph != DS_PH_PROVIDER &&
	     sc->ph != DS_PH_V6))
		return ST_OK;
	if (sc->ph != DS_PH_PLAIN)
		ret = write_cert(w, d);
	if (ret == ST_OK && sc->body != NULL && sc->ph != DS_PH_PLAIN)
		ret = write_body(w, d);
	if (ret != ST_OK)
		return ret;
	write_server(w, d);
	w->st.n_policy_hosts++;
	return ST_OK;
}

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
	ret = write_dns(w, &d);
	if (ret == ST_OK)
		ret = write_policy_host(w, &d);
	if (ret != ST_OK)
		return ret;
	write_truth(w, &d);
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
	put_json_string(f, w->o->tld);
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
