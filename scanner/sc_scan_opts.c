/*
 * sc_scan_opts.c - one table for the options of scan and check.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sc_cli.h"
#include "sc_opts_check.h"
#include "sc_scan_opts.h"
#include "st_error.h"

enum {
	O_DB = 1, O_FORMAT, O_RESOLVER, O_QPS, O_INFLIGHT, O_DNS_INFLIGHT,
	O_DNS_TIMEOUT, O_DNS_RETRIES, O_HTTPS_MAX, O_HTTPS_TIMEOUT,
	O_SMTP_MAX, O_SMTP_TIMEOUT, O_PROBE_MX, O_DANE, O_FETCH_ALL,
	O_SHARD, O_EXCLUDE, O_LABEL, O_CA_FILE, O_ALLOW_PRIVATE,
	O_USER_AGENT, O_CONTACT, O_EHLO, O_HTTPS_PORT, O_SMTP_PORT,
	O_BATCH, O_NEW, O_QUIET, O_LOG, O_JSON, O_UPSTREAM_AUTH,
	O_UPSTREAM_WAIT,
};

/* Which commands take an option. */
#define SC_FOR_SCAN 1u
#define SC_FOR_CHECK 2u
#define SC_FOR_BOTH (SC_FOR_SCAN | SC_FOR_CHECK)

/* Every option of scan and check, once, with the commands that take it. */
static const struct {
	struct sc_opt opt;
	unsigned scope;
} opts[] = {
	{ { "resolver", "IP[:PORT]", O_RESOLVER, "DNS server to ask (repeat; "
	  "default: /etc/resolv.conf)" }, SC_FOR_BOTH },
	{ { "qps", "N", O_QPS, "DNS queries per second, all servers (default: "
	  "no cap)" }, SC_FOR_BOTH },
	{ { "dns-timeout", "MS", O_DNS_TIMEOUT, "first DNS attempt, doubled "
	  "per retry (2000)" }, SC_FOR_BOTH },
	{ { "dns-retries", "N", O_DNS_RETRIES, "DNS retries (2)" }, SC_FOR_BOTH },
	{ { "upstream-authoritative", NULL, O_UPSTREAM_AUTH, "the --resolver "
	  "serves the whole input and need not recurse (else refused)" },
	  SC_FOR_BOTH },
	{ { "upstream-wait", "S", O_UPSTREAM_WAIT, "how long a silent upstream "
	  "is waited for before the scan stops (60)" }, SC_FOR_SCAN },
	{ { "https-timeout", "MS", O_HTTPS_TIMEOUT, "whole policy fetch "
	  "(30000)" }, SC_FOR_BOTH },
	{ { "smtp-timeout", "MS", O_SMTP_TIMEOUT, "whole STARTTLS probe "
	  "(30000)" }, SC_FOR_BOTH },
	{ { "probe-mx", NULL, O_PROBE_MX, "probe every MX host with STARTTLS "
	  "(once per host)" }, SC_FOR_BOTH },
	{ { "dane", NULL, O_DANE, "with --probe-mx: look up TLSA _25._tcp.MX "
	  "and its AD bit" }, SC_FOR_BOTH },
	{ { "fetch-all", NULL, O_FETCH_ALL, "fetch the policy even without a "
	  "valid TXT record" }, SC_FOR_BOTH },
	{ { "ca-file", "PEM", O_CA_FILE, "trust these roots instead of the "
	  "system store" }, SC_FOR_BOTH },
	{ { "allow-private", NULL, O_ALLOW_PRIVATE, "allow connections to "
	  "private/loopback addresses (test worlds)" }, SC_FOR_BOTH },
	{ { "user-agent", "S", O_USER_AGENT, "HTTP User-Agent (default: "
	  "stsmap/VERSION (+CONTACT))" }, SC_FOR_BOTH },
	{ { "contact", "URL", O_CONTACT, "contact URL named in User-Agent" }, SC_FOR_BOTH },
	{ { "ehlo", "NAME", O_EHLO, "EHLO name for probes (stsmap.invalid)" }, SC_FOR_BOTH },
	{ { "https-port", "N", O_HTTPS_PORT, "policy host port (443; test "
	  "worlds)" }, SC_FOR_BOTH },
	{ { "smtp-port", "N", O_SMTP_PORT, "MX port probed (25; test worlds)" }, SC_FOR_BOTH },
	{ { "log", "LEVEL", O_LOG, "error, warn, info or debug (warn)" }, SC_FOR_BOTH },
	{ { "json", NULL, O_JSON, "print the record as one JSON object" }, SC_FOR_CHECK },
	{ { "db", "FILE", O_DB, "result store (stsmap.lmdb)" }, SC_FOR_SCAN },
	{ { "format", "F", O_FORMAT, "auto, list, tranco or zone (auto)" }, SC_FOR_SCAN },
	{ { "inflight", "N", O_INFLIGHT, "domains in flight (500)" }, SC_FOR_SCAN },
	{ { "dns-inflight", "N", O_DNS_INFLIGHT, "DNS questions on the wire "
	  "(1000)" }, SC_FOR_SCAN },
	{ { "https-max", "N", O_HTTPS_MAX, "policy fetches in flight (128)" }, SC_FOR_SCAN },
	{ { "smtp-max", "N", O_SMTP_MAX, "STARTTLS probes in flight (64)" }, SC_FOR_SCAN },
	{ { "shard", "I/N", O_SHARD, "scan only shard I of N (hash of the "
	  "name)" }, SC_FOR_SCAN },
	{ { "exclude", "FILE", O_EXCLUDE, "opt-out list: names and suffixes "
	  "never scanned" }, SC_FOR_SCAN },
	{ { "label", "NAME", O_LABEL, "a name for this scan" }, SC_FOR_SCAN },
	{ { "batch", "N", O_BATCH, "results per store transaction (5000)" }, SC_FOR_SCAN },
	{ { "new", NULL, O_NEW, "start a new scan even if an unfinished one "
	  "matches" }, SC_FOR_SCAN },
	{ { "quiet", NULL, O_QUIET, "no progress output" }, SC_FOR_SCAN },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))


static int num(const char *name, const char *arg, unsigned long long max,
	       unsigned long long min, unsigned long long *v)
{
	if (sc_opt_u64(arg, max, v) != ST_OK || *v < min) {
		fprintf(stderr, "stsmap: --%s must be a number from %llu to "
				"%llu\n", name, min, max);
		return 2;
	}
	return 0;
}

/* Apply one numeric option; 0 or 2. */
static int apply_num(int c, const char *arg, struct sc_scan_opts *o)
{
	struct sc_config *cfg = &o->cfg;
	unsigned long long v = 0;
	int r = 0;

	switch (c) {
	case O_QPS: r = num("qps", arg, 10000000, 0, &v); cfg->qps = (unsigned)v; break;
	case O_INFLIGHT: r = num("inflight", arg, 1000000, 1, &v); cfg->inflight = (unsigned)v; break;
	case O_DNS_INFLIGHT: r = num("dns-inflight", arg, 100000, 1, &v); cfg->dns_inflight = (unsigned)v; break;
	case O_DNS_TIMEOUT: r = num("dns-timeout", arg, 600000, 10, &v); cfg->dns_timeout_ms = (unsigned)v; break;
	case O_DNS_RETRIES: r = num("dns-retries", arg, 10, 0, &v); cfg->dns_retries = (unsigned)v; break;
	case O_HTTPS_MAX: r = num("https-max", arg, 100000, 1, &v); cfg->https_max = (unsigned)v; break;
	case O_HTTPS_TIMEOUT: r = num("https-timeout", arg, 600000, 10, &v); cfg->https_timeout_ms = (unsigned)v; cfg->https_connect_ms = cfg->https_connect_ms < v ? cfg->https_connect_ms : (unsigned)v; break;
	case O_SMTP_MAX: r = num("smtp-max", arg, 100000, 1, &v); cfg->smtp_max = (unsigned)v; break;
	case O_SMTP_TIMEOUT: r = num("smtp-timeout", arg, 600000, 10, &v); cfg->smtp_timeout_ms = (unsigned)v; break;
	case O_HTTPS_PORT: r = num("https-port", arg, 65535, 1, &v); cfg->https_port = (uint16_t)v; break;
	case O_SMTP_PORT: r = num("smtp-port", arg, 65535, 1, &v); cfg->smtp_port = (uint16_t)v; break;
	case O_BATCH: r = num("batch", arg, 1000000, 1, &v); o->batch = (unsigned)v; break;
	case O_UPSTREAM_WAIT: r = num("upstream-wait", arg, 86400, 1, &v); cfg->upstream_wait_s = (unsigned)v; break;
	default: r = 2; break;
	}
	return r;
}

static int apply(int c, const char *arg, struct sc_scan_opts *o)
{
	struct sc_config *cfg = &o->cfg;

	switch (c) {
	case O_DB: o->db = arg; return 0;
	case O_FORMAT:
		if (ds_input_format_from_name(arg, &o->format) != ST_OK) {
			fprintf(stderr, "stsmap: --format must be auto, list, "
					"tranco or zone\n");
			return 2;
		}
		return 0;
	case O_RESOLVER:
		if (cfg->n_resolvers >= SC_MAX_RESOLVERS) {
			fprintf(stderr, "stsmap: at most %d --resolver\n",
				SC_MAX_RESOLVERS);
			return 2;
		}
		cfg->resolvers[cfg->n_resolvers++] = arg;
		return 0;
	case O_PROBE_MX: cfg->probe_mx = true; return 0;
	case O_UPSTREAM_AUTH: cfg->upstream_authoritative = true; return 0;
	case O_DANE: cfg->dane = true; return 0;
	case O_FETCH_ALL: cfg->fetch_all = true; return 0;
	case O_SHARD:
		if (ds_shard_parse(arg, &o->shard_i, &o->shard_n) != ST_OK) {
			fprintf(stderr, "stsmap: --shard must be I/N with "
					"0 <= I < N\n");
			return 2;
		}
		return 0;
	case O_EXCLUDE: o->exclude = arg; return 0;
	case O_LABEL: o->label = arg; return 0;
	case O_CA_FILE: cfg->ca_file = arg; return 0;
	case O_ALLOW_PRIVATE: cfg->allow_private = true; return 0;
	case O_USER_AGENT: cfg->user_agent = arg; return 0;
	case O_CONTACT: cfg->contact_url = arg; return 0;
	case O_EHLO: cfg->ehlo_name = arg; return 0;
	case O_NEW: o->new_scan = true; return 0;
	case O_QUIET: o->quiet = true; return 0;
	case O_JSON: o->json = true; return 0;
	case O_LOG:
		if (st_log_level_parse(arg, &o->log.level) != ST_OK) {
			fprintf(stderr, "stsmap: --log must be error, warn, "
					"info or debug\n");
			return 2;
		}
		return 0;
	default:
		return apply_num(c, arg, o);
	}
}

int sc_scan_opts_parse(int argc, char **argv, enum sc_opts_for which,
		       struct sc_scan_opts *o)
{
	unsigned scope = which == SC_OPTS_CHECK ? SC_FOR_CHECK : SC_FOR_SCAN;
	struct sc_opt table[N_OPTS + 1];
	size_t n = 0;
	const char *synopsis = "scan [OPTIONS] INPUT...";
	const char *summary =
		"Scan the domains of each INPUT (a list, a rank,domain CSV or a "
		"zone file,\nplain or gzip; - for stdin) and store every result "
		"in the --db store.\nRunning the same command again resumes an "
		"unfinished scan.";
	const char *arg;
	int c;

	memset(o, 0, sizeof(*o));
	sc_config_default(&o->cfg);
	o->db = "stsmap.lmdb";
	o->shard_n = 1;
	o->batch = 5000;
	st_log_init(&o->log, ST_LOG_WARN, stderr);
	o->cfg.log = &o->log;
	o->argc = argc;
	o->argv = argv;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opts[i].scope & scope)
			table[n++] = opts[i].opt;
	}
	table[n] = (struct sc_opt)SC_OPT_END;
	if (which == SC_OPTS_CHECK) {
		synopsis = "check [OPTIONS] DOMAIN";
		summary = "Scan one domain now and print its findings, what a "
			  "sending server would do,\nand for a broken setup a "
			  "corrected TXT record and policy file.";
	}
	while ((c = sc_opt_next(argc, argv, table, &arg)) != -1) {
		if (c == SC_OPT_HELP) {
			sc_opt_usage(stdout, synopsis, summary, table);
			return 1;
		}
		if (c == '?' || apply(c, arg, o) != 0) {
			if (c == '?')
				sc_opt_usage(stderr, synopsis, summary, table);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (o->n_inputs >= SC_MAX_INPUTS) {
			fprintf(stderr, "stsmap: at most %d inputs\n",
				SC_MAX_INPUTS);
			return 2;
		}
		o->inputs[o->n_inputs++] = argv[optind];
	}
	if (o->n_inputs == 0) {
		fprintf(stderr, "stsmap %s: no %s given (see --help)\n",
			argv[0], which == SC_OPTS_CHECK ? "domain" : "input");
		return 2;
	}
	if (o->cfg.dane && !o->cfg.probe_mx)
		o->cfg.probe_mx = true;
	/* Our own configuration, before any store or scan record exists. */
	if (!sc_config_check(&o->cfg, argv[0], stderr))
		return 2;
	return 0;
}
