/*
 * sc_world.c - `stsmap world`: write a synthetic test world (ds_world.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ds_world.h"
#include "ds_world_hier.h"
#include "sc_cli.h"
#include "st_error.h"

enum world_opt {
	W_OUT = 1,
	W_DOMAINS,
	W_SEED,
	W_TLD,
	W_NOW,
	W_HTTPS_PORT,
	W_DNS_PORT,
	W_SMTP_PORT,
	W_HIERARCHY,
	W_DNS_PROVIDERS,
	W_BEHAVE,
};

/* Each default once: the help below and the initializer in sc_cmd_world()
 * both use these (the ports are the standard ones; tests pass their own). */
#define W_DEFAULT_SEED 1
#define W_DEFAULT_TLD "test"
#define W_DEFAULT_HTTPS_PORT 443
#define W_DEFAULT_DNS_PORT 53
#define W_DEFAULT_SMTP_PORT 25

static const struct sc_opt world_opts[] = {
	{ "out", "DIR", W_OUT, "directory to write the world into (required)" },
	{ "domains", "N", W_DOMAINS, "bulk world of N domains, up to 9999999 "
				     "(default 0: the catalog)" },
	{ "seed", "S", W_SEED, "PRNG seed (default "
				   SC_STR(W_DEFAULT_SEED) ")" },
	{ "tld", "NAME", W_TLD, "the made-up top-level domain (default "
			       W_DEFAULT_TLD ")" },
	{ "now", "UNIXTIME", W_NOW, "clock for certificate validity (default: "
				    "now; for reproducible output)" },
	{ "https-port", "N", W_HTTPS_PORT, "port the policy hosts listen on "
					   "(default "
					   SC_STR(W_DEFAULT_HTTPS_PORT) ")" },
	{ "dns-port", "N", W_DNS_PORT, "port of NSD and Unbound (default "
				       SC_STR(W_DEFAULT_DNS_PORT) ")" },
	{ "smtp-port", "N", W_SMTP_PORT, "port the MX hosts (Postfix) listen "
					 "on (default "
					 SC_STR(W_DEFAULT_SMTP_PORT) ")" },
	{ "hierarchy", NULL, W_HIERARCHY, "also write hier/: a root zone, the "
					  "TLD zone and a zone per domain on "
					  "its DNS provider's servers "
					  "(world-up --hierarchy serves it)" },
	{ "dns-providers", "N", W_DNS_PROVIDERS, "with --hierarchy: DNS "
						 "providers the domains are "
						 "spread over, 1 to "
						 SC_STR(DS_WORLD_HIER_PROVIDERS_MAX)
						 " (default "
						 SC_STR(DS_WORLD_HIER_PROVIDERS_DEFAULT)
						 ")" },
	{ "behave", NULL, W_BEHAVE, "server behaviours: tenant MX hosts with "
				    "Postfix anvil limits, a slow greeting, a "
				    "rate-limited policy provider, IPv6 hosts "
				    "(docs/emulation.md)" },
	SC_OPT_END,
};

struct world_args {
	struct ds_world_opts o;
	unsigned n_prov;       /* --dns-providers */
	bool hier, prov_given; /* --hierarchy, --dns-providers given */
};

/* Apply one numeric option; 0 on success, 2 (usage error) otherwise. */
static int take_num(int id, const char *arg, struct world_args *w)
{
	static const struct {
		int id;
		unsigned long long min, max;
		const char *name;
	} lim[] = {
		{ W_DOMAINS, 0, DS_WORLD_DOMAINS_MAX, "--domains" },
		{ W_SEED, 0, UINT64_MAX, "--seed" },
		{ W_NOW, 0, 253402300799ull, "--now" },
		{ W_HTTPS_PORT, 1, 65535, "--https-port" },
		{ W_DNS_PORT, 1, 65535, "--dns-port" },
		{ W_SMTP_PORT, 1, 65535, "--smtp-port" },
		{ W_DNS_PROVIDERS, 1, DS_WORLD_HIER_PROVIDERS_MAX,
		  "--dns-providers" },
	};
	unsigned long long v;

	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		if (lim[i].id != id)
			continue;
		if (sc_opt_u64(arg, lim[i].max, &v) != ST_OK || v < lim[i].min) {
			fprintf(stderr, "stsmap world: %s must be %llu to %llu\n",
				lim[i].name, lim[i].min, lim[i].max);
			return 2;
		}
		struct ds_world_opts *o = &w->o;

		switch (id) {
		case W_DOMAINS: o->n_domains = v; break;
		case W_SEED: o->seed = v; break;
		case W_NOW: o->now = (time_t)v; break;
		case W_HTTPS_PORT: o->https_port = (unsigned)v; break;
		case W_DNS_PORT: o->dns_port = (unsigned)v; break;
		case W_SMTP_PORT: o->smtp_port = (unsigned)v; break;
		case W_DNS_PROVIDERS:
			w->n_prov = (unsigned)v;
			w->prov_given = true;
			break;
		}
		return 0;
	}
	return 2;
}

static int take(void *ctx, int id, const char *arg)
{
	struct world_args *w = ctx;

	switch (id) {
	case W_OUT: w->o.out_dir = arg; return 0;
	case W_TLD: w->o.tld = arg; return 0;
	case W_HIERARCHY: w->hier = true; return 0;
	case W_BEHAVE: w->o.behave = true; return 0;
	}
	return take_num(id, arg, w);
}

int sc_cmd_world(int argc, char **argv)
{
	struct world_args w = {
		.o = { .seed = W_DEFAULT_SEED, .tld = W_DEFAULT_TLD,
		       .now = time(NULL), .https_port = W_DEFAULT_HTTPS_PORT,
		       .dns_port = W_DEFAULT_DNS_PORT,
		       .smtp_port = W_DEFAULT_SMTP_PORT },
		.n_prov = DS_WORLD_HIER_PROVIDERS_DEFAULT,
	};
	struct ds_world_opts *op = &w.o;
	struct ds_world_stats st = { 0 };
	struct ds_world_hier_stats hst = { 0 };
	static const struct sc_cli cli = {
		.cmd = "world",
		.synopsis = "world --out DIR [--domains N] [--seed S] "
			    "[--tld NAME] [--now UNIXTIME] [--https-port N] "
			    "[--dns-port N] [--smtp-port N] "
			    "[--hierarchy [--dns-providers N]] [--behave]",
		.summary = "Write a synthetic MTA-STS world: DNS zone, "
			   "certificates, nginx and Postfix\nconfiguration, "
			   "policy files and the ground truth (truth.jsonl).  "
			   "Without --domains, the\ncatalog: every scenario "
			   "once, named <scenario>.<tld>.",
		.opts = world_opts,
		.name_extra = true,
	};
	int ret;

	ret = sc_cli_parse(&cli, argc, argv, take, &w);
	if (ret == SC_CLI_GO && op->out_dir == NULL) {
		fprintf(stderr, "stsmap world: --out DIR is required\n");
		return 2;
	}
	if (ret == SC_CLI_GO)
		ret = sc_cli_operands(&cli, argc, argv, 0, 0);
	if (ret != SC_CLI_GO)
		return ret;
	if (w.prov_given && !w.hier) {
		fprintf(stderr, "stsmap world: --dns-providers needs "
				"--hierarchy\n");
		return 2;
	}
	if (w.hier && op->n_domains > DS_WORLD_HIER_DOMAINS_MAX) {
		fprintf(stderr, "stsmap world: --hierarchy takes at most %u "
				"domains (a zone and a key each)\n",
			DS_WORLD_HIER_DOMAINS_MAX);
		return 2;
	}
	ret = ds_world_generate(op, &st);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap world: %s: %s (check --out is writable "
				"and --tld is one lower-case label)\n",
			op->out_dir, st_strerror(ret));
		return ret == ST_EINVAL ? 2 : 1; /* a bad option value */
	}
	fprintf(stderr, "stsmap world: %" PRIu64 " domains, %" PRIu64
			" policy hosts, %" PRIu64 " MX hosts on %" PRIu64
			" SMTP listeners, %" PRIu64 " certificates in %s\n",
		st.n_domains, st.n_policy_hosts,
		st.n_mx_own + 2 * DS_WORLD_PROVIDERS + 3 + (op->behave ? 2 : 0),
		st.n_smtp_services,
		st.n_certs, op->out_dir);
	if (!w.hier)
		return 0;
	ret = ds_world_hier_generate(op, w.n_prov, &hst);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap world: %s/hier: %s\n", op->out_dir,
			st_strerror(ret));
		return 1;
	}
	fprintf(stderr, "stsmap world: hierarchy: root, %s., %" PRIu64
			" domain zones on %u DNS providers (%" PRIu64
			" domains left in %s.) in %s/hier\n", op->tld,
		hst.n_zones, w.n_prov, hst.n_kept, op->tld, op->out_dir);
	return 0;
}
