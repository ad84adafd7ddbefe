/*
 * ds_world.c - one domain of the synthetic test world (see ds_world.h):
 * its _mta-sts and _smtp._tls records, its policy host (DNS records,
 * certificate, policy file, nginx server block) and its truth line.
 *
 * The pass over the domains is in ds_world_gen.c, which calls these in
 * order for each domain; everything about MX hosts is in ds_world_mx.c;
 * both this file and ds_world_mx.c write through ds_world_out.h and call
 * nothing of each other.
 */
#include "ds_world_int.h"
#include "ds_world_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ds_certs.h"
#include "st_error.h"
#include "st_hmap.h"

#define DAY DS_WORLD_DAY
#define TTL DS_WORLD_TTL
#define NAME_MAX_LEN DS_WORLD_NAME_MAX
#define BIG_BODY 65537 /* RFC 8461 §3.3 cap (64 KiB) plus one byte */

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
				ds_world_put_json_string(f, word);
				first = false;
			}
			p += len;
			p += strspn(p, " ");
		}
	}
	fputc(']', f);
}

/* --- the per-domain writers --- */

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
	ds_world_put_json_string(w->truth, g != NULL ? g : "(none)");
	if (g == NULL)
		return;
	fprintf(w->groups, "%s,", d->name);
	if (strchr(g, ',') != NULL)
		fprintf(w->groups, "\"%s\"\n", g);
	else
		fprintf(w->groups, "%s\n", g);
}

void ds_world_dom_truth(struct world *w, const struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	const char *probe_extra = NULL, *dane = NULL;

	/* The implicit MX of a domain without MX is D (A 127.5.0.1): a
	 * probe finds nothing listening. */
	if (sc->mx == DS_MX_NONE && !ds_world_no_data_served(sc))
		probe_extra = "mx-tls.unreachable";
	/* A probe also looks up TLSA: validated records at the MX hosts
	 * of every 4th provider (RFC 7672). */
	if (sc->mx == DS_MX_PROVIDER && !ds_world_no_data_served(sc) &&
	    ds_world_provider_tlsa(d->provider))
		dane = "mx-tls.dane mx-tls.dnssec";
	fputs("{\"domain\":", w->truth);
	ds_world_put_json_string(w->truth, d->name);
	fputs(",\"scenario\":", w->truth);
	ds_world_put_json_string(w->truth, sc->name);
	fputs(",\"verdict\":", w->truth);
	ds_world_put_json_string(w->truth, sc->verdict);
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
	ds_world_put_json_string(w->truth, sc->verdict_probe != NULL ? sc->verdict_probe
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

/* The policy host's DNS records; sets d->addr for served hosts. */
void ds_world_dom_host_dns(struct world *w, struct dom *d)
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

int ds_world_dom_txt(struct world *w, struct dom *d)
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

int ds_world_dom_policy_host(struct world *w, const struct dom *d)
{
	const struct ds_scenario *sc = d->sc;
	int ret = ST_OK;

	if (ds_world_no_data_served(sc) ||
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
