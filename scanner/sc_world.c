/*
 * sc_world.c - `stsmap world`: write a synthetic test world (ds_world.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ds_world.h"
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
	W_BEHAVE,
};

static const struct sc_opt world_opts[] = {
	{ "out", "DIR", W_OUT, "directory to write the world into (required)" },
	{ "domains", "N", W_DOMAINS, "bulk world of N domains, up to 9999999 "
				     "(default 0: the catalog)" },
	{ "seed", "S", W_SEED, "PRNG seed (default 1)" },
	{ "tld", "NAME", W_TLD, "the made-up top-level domain (default test)" },
	{ "now", "UNIXTIME", W_NOW, "clock for certificate validity (default: "
				    "now; for reproducible output)" },
	{ "https-port", "N", W_HTTPS_PORT, "port the policy hosts listen on "
					   "(default 443)" },
	{ "dns-port", "N", W_DNS_PORT, "port of NSD and Unbound (default 53)" },
	{ "smtp-port", "N", W_SMTP_PORT, "port the MX hosts (Postfix) listen "
					 "on (default 25)" },
	{ "behave", NULL, W_BEHAVE, "server behaviours: tenant MX hosts with "
				    "Postfix anvil limits, a slow greeting, a "
				    "rate-limited policy provider, IPv6 hosts "
				    "(docs/emulation.md)" },
	SC_OPT_END,
};

/* Apply one numeric option; 0 on success, 2 (usage error) otherwise. */
static int take_num(int id, const char *arg, struct ds_world_opts *o)
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
		switch (id) {
		case W_DOMAINS: o->n_domains = v; break;
		case W_SEED: o->seed = v; break;
		case W_NOW: o->now = (time_t)v; break;
		case W_HTTPS_PORT: o->https_port = (unsigned)v; break;
		case W_DNS_PORT: o->dns_port = (unsigned)v; break;
		case W_SMTP_PORT: o->smtp_port = (unsigned)v; break;
		}
		return 0;
	}
	return 2;
}

int sc_cmd_world(int argc, char **argv)
{
	struct ds_world_opts o = { .seed = 1, .tld = "test", .now = time(NULL),
				   .https_port = 443, .dns_port = 53,
				   .smtp_port = 25 };
	struct ds_world_stats st = { 0 };
	static const char synopsis[] =
		"world --out DIR [--domains N] [--seed S] [--tld NAME] "
		"[--now UNIXTIME] [--https-port N] [--dns-port N] "
		"[--smtp-port N] [--behave]";
	static const char summary[] =
		"Write a synthetic MTA-STS world: DNS zone, certificates, nginx "
		"and Postfix\nconfiguration, policy files and the ground truth "
		"(truth.jsonl).  Without --domains, the\ncatalog: every "
		"scenario once, named <scenario>.<tld>.";
	const char *arg;
	int c, ret;

	while ((c = sc_opt_next(argc, argv, world_opts, &arg)) != -1) {
		switch (c) {
		case W_OUT:
			o.out_dir = arg;
			break;
		case W_TLD:
			o.tld = arg;
			break;
		case W_BEHAVE:
			o.behave = true;
			break;
		case SC_OPT_HELP:
			sc_opt_usage(stdout, synopsis, summary, world_opts);
			return 0;
		case '?':
			sc_opt_usage(stderr, synopsis, summary, world_opts);
			return 2;
		default:
			if (take_num(c, arg, &o) != 0)
				return 2;
			break;
		}
	}
	if (optind < argc || o.out_dir == NULL) {
		fprintf(stderr, "stsmap world: %s\n", o.out_dir == NULL
			? "--out DIR is required" : "unexpected argument");
		return 2;
	}
	ret = ds_world_generate(&o, &st);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap world: %s: %s (check --out is writable "
				"and --tld is one lower-case label)\n",
			o.out_dir, st_strerror(ret));
		return ret == ST_EINVAL ? 2 : 1; /* a bad option value */
	}
	fprintf(stderr, "stsmap world: %" PRIu64 " domains, %" PRIu64
			" policy hosts, %" PRIu64 " MX hosts on %" PRIu64
			" SMTP listeners, %" PRIu64 " certificates in %s\n",
		st.n_domains, st.n_policy_hosts,
		st.n_mx_own + 2 * DS_WORLD_PROVIDERS + 3 + (o.behave ? 2 : 0),
		st.n_smtp_services,
		st.n_certs, o.out_dir);
	return 0;
}
