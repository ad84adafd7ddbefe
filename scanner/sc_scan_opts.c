/*
 * sc_scan_opts.c - one table for the options of scan and check: each row
 * holds the option's default, range and unit; the parser and --help are
 * both driven by it (sc_scan_opts.h says who owns which default).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ft_fetch.h"
#include "ft_smtp.h"
#include "rs_resolver.h"
#include "sc_cli.h"
#include "sc_opts_check.h"
#include "sc_scan_opts.h"
#include "sc_threads.h"
#include "st_error.h"

enum {
	O_DB = 1, O_FORMAT, O_RESOLVER, O_QPS, O_INFLIGHT, O_DNS_INFLIGHT,
	O_DNS_TIMEOUT, O_DNS_RETRIES, O_HTTPS_MAX, O_HTTPS_TIMEOUT,
	O_SMTP_MAX, O_SMTP_TIMEOUT, O_PROBE_MX, O_DANE, O_FETCH_ALL,
	O_SHARD, O_EXCLUDE, O_LABEL, O_CA_FILE, O_ALLOW_PRIVATE,
	O_USER_AGENT, O_CONTACT, O_EHLO, O_HTTPS_PORT, O_SMTP_PORT,
	O_BATCH, O_NEW, O_QUIET, O_LOG, O_JSON, O_UPSTREAM_AUTH,
	O_UPSTREAM_WAIT, O_THREADS, O_RETRY_PASSES, O_RETRY_BACKOFF, O_NO_DNS_PACE,
	O_HTTPS_PER_IP, O_HTTPS_PER_IP_RATE, O_SMTP_PER_IP,
	O_SMTP_PER_IP_RATE, O_PROBE_EVERY_MX,
};

#define SC_DEFAULT_BATCH 5000u /* results per store transaction */
#define SC_TIMEOUT_MIN_MS 10u
#define SC_TIMEOUT_MAX_MS 600000u /* ten minutes */

#define OFF(f) offsetof(struct sc_scan_opts, f)
#define SIZE(f) sizeof(((struct sc_scan_opts *)0)->f)
#define FLAG(name, id, scope, f, help) \
	{ name, NULL, id, scope, SC_OPT_FLAG, OFF(f), SIZE(f), 0, 0, 0, \
	  NULL, NULL, NULL, help }
#define UINT(name, arg, id, scope, f, def, min, max, unit, help) \
	{ name, arg, id, scope, SC_OPT_UINT, OFF(f), SIZE(f), def, min, max, \
	  unit, NULL, NULL, help }
#define STR(name, arg, id, scope, f, def_str, def_text, help) \
	{ name, arg, id, scope, SC_OPT_STR, OFF(f), SIZE(f), 0, 0, 0, NULL, \
	  def_str, def_text, help }
#define OTHER(name, arg, id, scope, def_text, help) \
	{ name, arg, id, scope, SC_OPT_OTHER, 0, 0, 0, 0, 0, NULL, NULL, \
	  def_text, help }

/* Every option of scan and check, once, with the commands that take it. */
static const struct sc_scan_opt rows[] = {
	OTHER("resolver", "IP[:PORT]", O_RESOLVER, SC_FOR_BOTH,
	      "/etc/resolv.conf", "DNS server to ask, repeatable"),
	UINT("qps", "N", O_QPS, SC_FOR_BOTH, cfg.qps, RS_DEFAULT_QPS, 0,
	     10000000, NULL, "DNS queries per second, all servers; 0: no cap"),
	UINT("dns-timeout", "MS", O_DNS_TIMEOUT, SC_FOR_BOTH,
	     cfg.dns_timeout_ms, RS_DEFAULT_TIMEOUT_MS, SC_TIMEOUT_MIN_MS,
	     SC_TIMEOUT_MAX_MS, "ms", "first DNS attempt, doubled per retry"),
	UINT("dns-retries", "N", O_DNS_RETRIES, SC_FOR_BOTH, cfg.dns_retries,
	     RS_DEFAULT_RETRIES, 0, 10, NULL, "DNS retries"),
	FLAG("no-dns-pace", O_NO_DNS_PACE, SC_FOR_BOTH, cfg.dns_no_pace,
	     "no adaptive DNS pacing (the window per server that backs "
	     "off when timeouts or SERVFAIL rise)"),
	UINT("retry-passes", "N", O_RETRY_PASSES, SC_FOR_BOTH,
	     cfg.retry_passes, SC_DEFAULT_RETRY_PASSES, 0,
	     SC_RETRY_PASSES_MAX, NULL, "passes at the end over the domains "
	     "left undetermined by a DNS timeout"),
	UINT("retry-backoff", "S", O_RETRY_BACKOFF, SC_FOR_BOTH,
	     cfg.retry_pass_backoff_s, SC_DEFAULT_RETRY_PASS_BACKOFF_S, 0,
	     3600, "s", "wait before each retry pass"),
	FLAG("upstream-authoritative", O_UPSTREAM_AUTH, SC_FOR_BOTH,
	     cfg.upstream_authoritative, "the --resolver serves the whole "
	     "input and need not recurse (else refused)"),
	UINT("upstream-wait", "S", O_UPSTREAM_WAIT, SC_FOR_SCAN,
	     cfg.upstream_wait_s, SC_DEFAULT_UPSTREAM_WAIT_S, 1, 86400, "s",
	     "how long a silent upstream is waited for, then the scan stops"),
	UINT("https-timeout", "MS", O_HTTPS_TIMEOUT, SC_FOR_BOTH,
	     cfg.https_timeout_ms, FT_DEFAULT_TOTAL_TIMEOUT_MS,
	     SC_TIMEOUT_MIN_MS, SC_TIMEOUT_MAX_MS, "ms", "whole policy fetch"),
	UINT("smtp-timeout", "MS", O_SMTP_TIMEOUT, SC_FOR_BOTH,
	     cfg.smtp_timeout_ms, FT_SMTP_DEFAULT_TIMEOUT_MS,
	     SC_TIMEOUT_MIN_MS, SC_TIMEOUT_MAX_MS, "ms", "whole STARTTLS probe"),
	UINT("https-per-ip", "N", O_HTTPS_PER_IP, SC_FOR_BOTH,
	     cfg.https_per_ip, FT_DEFAULT_PER_IP_MAX, 0, 10000, NULL,
	     "policy fetches at once per IP address, all names; 0: no cap"),
	UINT("https-per-ip-rate", "N", O_HTTPS_PER_IP_RATE, SC_FOR_BOTH,
	     cfg.https_per_ip_rate, FT_DEFAULT_PER_IP_RATE, 0, 100000, "/s",
	     "new policy fetches per second per IP address; 0: no cap"),
	UINT("smtp-per-ip", "N", O_SMTP_PER_IP, SC_FOR_BOTH, cfg.smtp_per_ip,
	     FT_SMTP_DEFAULT_PER_IP_MAX, 0, 10000, NULL,
	     "SMTP connections at once per IP address, all names; 0: no cap"),
	UINT("smtp-per-ip-rate", "N", O_SMTP_PER_IP_RATE, SC_FOR_BOTH,
	     cfg.smtp_per_ip_rate, FT_SMTP_DEFAULT_PER_IP_RATE, 0, 100000,
	     "/s", "new SMTP connections per second per IP address; 0: no cap"),
	FLAG("probe-mx", O_PROBE_MX, SC_FOR_BOTH, cfg.probe_mx,
	     "probe every MX host with STARTTLS (once per host)"),
	FLAG("probe-every-mx", O_PROBE_EVERY_MX, SC_FOR_BOTH,
	     cfg.probe_every_mx, "with --probe-mx: probe each MX name, even "
	     "one the certificate seen at its address already covers"),
	FLAG("dane", O_DANE, SC_FOR_BOTH, cfg.dane,
	     "with --probe-mx: look up TLSA _25._tcp.MX and its AD bit"),
	FLAG("fetch-all", O_FETCH_ALL, SC_FOR_BOTH, cfg.fetch_all,
	     "fetch the policy even without a valid TXT record"),
	STR("ca-file", "PEM", O_CA_FILE, SC_FOR_BOTH, cfg.ca_file, NULL, NULL,
	    "trust these roots instead of the system store"),
	FLAG("allow-private", O_ALLOW_PRIVATE, SC_FOR_BOTH, cfg.allow_private,
	     "allow connections to private/loopback addresses (test worlds)"),
	STR("user-agent", "S", O_USER_AGENT, SC_FOR_BOTH, cfg.user_agent, NULL,
	    "stsmap/VERSION (+CONTACT)", "HTTP User-Agent"),
	STR("contact", "URL", O_CONTACT, SC_FOR_BOTH, cfg.contact_url, NULL,
	    NULL, "contact URL named in User-Agent"),
	STR("ehlo", "NAME", O_EHLO, SC_FOR_BOTH, cfg.ehlo_name,
	    FT_SMTP_DEFAULT_EHLO, NULL, "EHLO name for probes"),
	UINT("https-port", "N", O_HTTPS_PORT, SC_FOR_BOTH, cfg.https_port,
	     SC_DEFAULT_HTTPS_PORT, 1, 65535, NULL,
	     "policy host port, for test worlds"),
	UINT("smtp-port", "N", O_SMTP_PORT, SC_FOR_BOTH, cfg.smtp_port,
	     FT_SMTP_DEFAULT_PORT, 1, 65535, NULL,
	     "MX port probed, for test worlds"),
	OTHER("log", "LEVEL", O_LOG, SC_FOR_BOTH, "warn",
	      "error, warn, info or debug"),
	FLAG("json", O_JSON, SC_FOR_CHECK, json,
	     "print the record as one JSON object"),
	STR("db", "FILE", O_DB, SC_FOR_SCAN, db, SC_DEFAULT_DB, NULL,
	    "result store"),
	OTHER("format", "F", O_FORMAT, SC_FOR_SCAN, "auto",
	      "auto, list, tranco or zone"),
	UINT("inflight", "N", O_INFLIGHT, SC_FOR_SCAN, cfg.inflight,
	     SC_DEFAULT_INFLIGHT, 1, 1000000, NULL, "domains in flight"),
	UINT("dns-inflight", "N", O_DNS_INFLIGHT, SC_FOR_SCAN,
	     cfg.dns_inflight, 0, 0, SC_DNS_INFLIGHT_MAX, NULL,
	     "DNS questions on the wire at most (0: 3 x --inflight; the "
	     "pacing window keeps them below when timeouts rise)"),
	UINT("https-max", "N", O_HTTPS_MAX, SC_FOR_SCAN, cfg.https_max,
	     FT_DEFAULT_MAX_TRANSFERS, 1, 100000, NULL,
	     "policy fetches in flight"),
	UINT("smtp-max", "N", O_SMTP_MAX, SC_FOR_SCAN, cfg.smtp_max,
	     FT_SMTP_DEFAULT_MAX_PROBES, 1, 100000, NULL,
	     "STARTTLS probes in flight"),
	OTHER("shard", "I/N", O_SHARD, SC_FOR_SCAN, NULL,
	      "scan only shard I of N (hash of the name)"),
	STR("exclude", "FILE", O_EXCLUDE, SC_FOR_SCAN, exclude, NULL, NULL,
	    "opt-out list: names and suffixes never scanned"),
	STR("label", "NAME", O_LABEL, SC_FOR_SCAN, label, NULL, NULL,
	    "a name for this scan"),
	UINT("batch", "N", O_BATCH, SC_FOR_SCAN, batch, SC_DEFAULT_BATCH, 1,
	     1000000, NULL, "results per store transaction"),
	/* --threads: the caps above are per scan, shared out (sc_threads.h) */
	UINT("threads", "N", O_THREADS, SC_FOR_SCAN, threads, 0, 0,
	     SC_THREADS_MAX, NULL, "event loops, one thread each, sharing "
	     "--qps and the in-flight caps; 0: one per online core"),
	FLAG("new", O_NEW, SC_FOR_SCAN, new_scan,
	     "start a new scan even if an unfinished one matches"),
	FLAG("quiet", O_QUIET, SC_FOR_SCAN, quiet, "no progress output"),
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* The option table of sc_cli.h: the rows of one command, each with its
 * help line written from the row. */
struct table {
	struct sc_opt opt[N_ROWS + 1];
	char help[N_ROWS][192];
};

const struct sc_scan_opt *sc_scan_opt_rows(size_t *n)
{
	*n = N_ROWS;
	return rows;
}

unsigned long long sc_scan_opt_uint(const struct sc_scan_opts *o,
				    const struct sc_scan_opt *row)
{
	const char *p = (const char *)o + row->off;
	unsigned u = 0;
	uint16_t s = 0;

	if (row->size == sizeof(uint16_t)) {
		memcpy(&s, p, sizeof(s));
		return s;
	}
	memcpy(&u, p, sizeof(u));
	return u;
}

static void set_uint(struct sc_scan_opts *o, const struct sc_scan_opt *row,
		     unsigned long long v)
{
	char *p = (char *)o + row->off;
	unsigned u = (unsigned)v;
	uint16_t s = (uint16_t)v;

	if (row->size == sizeof(uint16_t))
		memcpy(p, &s, sizeof(s));
	else
		memcpy(p, &u, sizeof(u));
}

static void set_str(struct sc_scan_opts *o, const struct sc_scan_opt *row,
		    const char *v)
{
	memcpy((char *)o + row->off, &v, sizeof(v));
}

static void set_flag(struct sc_scan_opts *o, const struct sc_scan_opt *row)
{
	bool t = true;

	memcpy((char *)o + row->off, &t, sizeof(t));
}

/* "whole policy fetch (default 30000 ms, 10 to 600000)" */
static void help_line(const struct sc_scan_opt *r, char *buf, size_t len)
{
	switch (r->kind) {
	case SC_OPT_UINT:
		snprintf(buf, len, "%s (default %llu%s%s, %llu to %llu)",
			 r->help, r->def, r->unit != NULL ? " " : "",
			 r->unit != NULL ? r->unit : "", r->min, r->max);
		return;
	case SC_OPT_STR:
	case SC_OPT_OTHER:
		if (r->def_str != NULL || r->def_text != NULL) {
			snprintf(buf, len, "%s (default %s)", r->help,
				 r->def_str != NULL ? r->def_str : r->def_text);
			return;
		}
		break;
	case SC_OPT_FLAG:
		break;
	}
	snprintf(buf, len, "%s", r->help);
}

static void table_for(unsigned scope, struct table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < N_ROWS; i++) {
		if (!(rows[i].scope & scope))
			continue;
		help_line(&rows[i], t->help[n], sizeof(t->help[n]));
		t->opt[n] = (struct sc_opt){ rows[i].name, rows[i].arg,
					     rows[i].id, t->help[n] };
		n++;
	}
	t->opt[n] = (struct sc_opt)SC_OPT_END;
}

static void cli_for(enum sc_opts_for which, const struct table *t,
		    struct sc_cli *cli)
{
	*cli = (struct sc_cli){
		.cmd = "scan",
		.synopsis = "scan [OPTIONS] INPUT...",
		.summary = "Scan the domains of each INPUT (a list, a "
			   "rank,domain CSV or a zone file,\nplain or gzip; - "
			   "for stdin) and store every result in the --db "
			   "store.\nRunning the same command again resumes an "
			   "unfinished scan.",
		.opts = t->opt,
	};
	if (which == SC_OPTS_CHECK) {
		cli->cmd = "check";
		cli->synopsis = "check [OPTIONS] DOMAIN";
		cli->summary = "Scan one domain now and print its findings, "
			       "what a sending server would do,\nand for a "
			       "broken setup a corrected TXT record and policy "
			       "file.";
	}
}

void sc_scan_opts_usage(FILE *out, enum sc_opts_for which)
{
	struct table t;
	struct sc_cli cli;

	table_for(which == SC_OPTS_CHECK ? SC_FOR_CHECK : SC_FOR_SCAN, &t);
	cli_for(which, &t, &cli);
	sc_opt_usage(out, cli.synopsis, cli.summary, cli.opts);
}

/* The values parsed by code of their own; 0 or 2. */
static int take_other(int id, const char *arg, struct sc_scan_opts *o)
{
	struct sc_config *cfg = &o->cfg;

	switch (id) {
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
	case O_SHARD:
		if (ds_shard_parse(arg, &o->shard_i, &o->shard_n) != ST_OK) {
			fprintf(stderr, "stsmap: --shard must be I/N with "
					"0 <= I < N\n");
			return 2;
		}
		return 0;
	case O_LOG:
		if (st_log_level_parse(arg, &o->log.level) != ST_OK) {
			fprintf(stderr, "stsmap: --log must be error, warn, "
					"info or debug\n");
			return 2;
		}
		return 0;
	}
	return SC_CLI_USAGE;
}

static int take(void *ctx, int id, const char *arg)
{
	struct sc_scan_opts *o = ctx;
	const struct sc_scan_opt *r = NULL;
	unsigned long long v = 0;

	for (size_t i = 0; i < N_ROWS && r == NULL; i++)
		r = rows[i].id == id ? &rows[i] : NULL;
	if (r == NULL)
		return SC_CLI_USAGE;
	switch (r->kind) {
	case SC_OPT_FLAG:
		set_flag(o, r);
		return 0;
	case SC_OPT_STR:
		set_str(o, r, arg);
		return 0;
	case SC_OPT_UINT:
		if (sc_opt_u64(arg, r->max, &v) != ST_OK || v < r->min) {
			fprintf(stderr, "stsmap: --%s must be a number from "
					"%llu to %llu\n", r->name, r->min,
				r->max);
			return 2;
		}
		set_uint(o, r, v);
		return 0;
	case SC_OPT_OTHER:
		break;
	}
	return take_other(id, arg, o);
}

/* Every row's default, over the engine's (sc_config_default()) for the
 * fields no option sets. */
static void defaults(struct sc_scan_opts *o)
{
	memset(o, 0, sizeof(*o));
	sc_config_default(&o->cfg);
	o->format = DS_FMT_AUTO;
	o->shard_n = 1;
	st_log_init(&o->log, ST_LOG_WARN, stderr);
	o->cfg.log = &o->log;
	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].kind == SC_OPT_UINT)
			set_uint(o, &rows[i], rows[i].def);
		else if (rows[i].kind == SC_OPT_STR)
			set_str(o, &rows[i], rows[i].def_str);
	}
}

int sc_scan_opts_parse(int argc, char **argv, enum sc_opts_for which,
		       struct sc_scan_opts *o)
{
	struct table t;
	struct sc_cli cli;
	int ret;

	defaults(o);
	o->argc = argc;
	o->argv = argv;
	table_for(which == SC_OPTS_CHECK ? SC_FOR_CHECK : SC_FOR_SCAN, &t);
	cli_for(which, &t, &cli);
	ret = sc_cli_parse(&cli, argc, argv, take, o);
	if (ret != SC_CLI_GO)
		return ret == 0 ? 1 : 2;
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
	/* The connect phase fits in the whole fetch. */
	if (o->cfg.https_connect_ms > o->cfg.https_timeout_ms)
		o->cfg.https_connect_ms = o->cfg.https_timeout_ms;
	/* Our own configuration, before any store or scan record exists. */
	if (!sc_config_check(&o->cfg, argv[0], stderr))
		return 2;
	return 0;
}
