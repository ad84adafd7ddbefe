/*
 * sc_main.c - stsmap entry point: subcommand dispatch, option parsing and
 * `stsmap generate`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_generate.h"
#include "an_json.h"
#include "an_policy.h"
#include "sc_cli.h"
#include "sc_out.h"
#include "st_error.h"

#define SC_MAX_OPTS 48
#define GEN_MAX_MX AN_POLICY_MX_MAX

int sc_opt_next(int argc, char **argv, const struct sc_opt *opts,
		const char **arg)
{
	struct option lo[SC_MAX_OPTS + 2];
	size_t n = 0;
	int c;

	for (; opts[n].name != NULL && n < SC_MAX_OPTS; n++) {
		lo[n].name = opts[n].name;
		lo[n].has_arg = opts[n].arg != NULL ? required_argument
						    : no_argument;
		lo[n].flag = NULL;
		lo[n].val = opts[n].id;
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, SC_OPT_HELP };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	c = getopt_long(argc, argv, "h", lo, NULL);
	*arg = optarg;
	return c;
}

void sc_opt_usage(FILE *out, const char *synopsis, const char *summary,
		  const struct sc_opt *opts)
{
	fprintf(out, "usage: stsmap %s\n\n%s\n\noptions:\n", synopsis, summary);
	for (size_t i = 0; opts[i].name != NULL; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name,
			 opts[i].arg != NULL ? " " : "",
			 opts[i].arg != NULL ? opts[i].arg : "");
		fprintf(out, "  %-26s %s\n", left, opts[i].help);
	}
	fprintf(out, "  %-26s %s\n", "--help", "show this help");
}

enum gen_opt { GEN_MX = 1, GEN_MODE, GEN_MAX_AGE, GEN_NOW };

static const struct sc_opt gen_opts[] = {
	{ "mx", "HOST", GEN_MX, "an MX host or *.pattern (repeat; required "
				"unless --mode none)" },
	{ "mode", "MODE", GEN_MODE, "enforce, testing or none (default "
				    "testing)" },
	{ "max-age", "SECONDS", GEN_MAX_AGE, "policy lifetime, 1 to 31557600 "
					     "(default 604800, one week)" },
	{ "now", "UNIXTIME", GEN_NOW, "time the id is derived from (default: "
				      "now; for reproducible output)" },
	SC_OPT_END,
};

void sc_meta_head(FILE *out, int argc, char **argv)
{
	fprintf(out, "{\"tool\":\"stsmap\",\"version\":\"%s\",\"command\":[",
		STSMAP_VERSION);
	for (int i = 0; i < argc; i++) {
		fputs(i > 0 ? "," : "", out);
		an_json_str(out, argv[i]);
	}
	fputc(']', out);
}

int sc_opt_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return ST_EINVAL;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max)
		return ST_ERANGE;
	*out = v;
	return ST_OK;
}

static int parse_mode(const char *s, enum an_mode *mode)
{
	if (strcmp(s, "enforce") == 0)
		*mode = AN_MODE_ENFORCE;
	else if (strcmp(s, "testing") == 0)
		*mode = AN_MODE_TESTING;
	else if (strcmp(s, "none") == 0)
		*mode = AN_MODE_NONE;
	else
		return ST_EINVAL;
	return ST_OK;
}

int sc_cmd_generate(int argc, char **argv)
{
	const char *mx[GEN_MAX_MX];
	struct an_gen_request req = { .mx = mx, .mode = AN_MODE_TESTING,
				      .max_age = 604800, .now = time(NULL) };
	static const char synopsis[] =
		"generate --mx HOST... [--mode M] [--max-age S]";
	static const char summary[] =
		"Print a consistent MTA-STS TXT record (for _mta-sts.DOMAIN) and "
		"policy file\n(for https://mta-sts.DOMAIN/.well-known/"
		"mta-sts.txt).";
	char txt[AN_GEN_TXT_MAX], policy[AN_POLICY_BODY_MAX];
	unsigned long long v;
	size_t policy_len = 0;
	const char *arg;
	int c, ret;

	while ((c = sc_opt_next(argc, argv, gen_opts, &arg)) != -1) {
		switch (c) {
		case GEN_MX:
			if (req.n_mx >= GEN_MAX_MX) {
				fprintf(stderr, "stsmap generate: at most %d "
						"--mx\n", GEN_MAX_MX);
				return 2;
			}
			mx[req.n_mx++] = arg;
			break;
		case GEN_MODE:
			if (parse_mode(arg, &req.mode) != ST_OK) {
				fprintf(stderr, "stsmap generate: --mode must be "
						"enforce, testing or none\n");
				return 2;
			}
			break;
		case GEN_MAX_AGE:
			if (sc_opt_u64(arg, AN_POLICY_MAX_AGE_MAX, &v) != ST_OK ||
			    v == 0) {
				fprintf(stderr, "stsmap generate: --max-age must "
						"be 1 to %u\n",
					AN_POLICY_MAX_AGE_MAX);
				return 2;
			}
			req.max_age = v;
			break;
		case GEN_NOW:
			if (sc_opt_u64(arg, 253402300799ull, &v) != ST_OK) {
				fprintf(stderr, "stsmap generate: bad --now\n");
				return 2;
			}
			req.now = (time_t)v;
			break;
		case SC_OPT_HELP:
			sc_opt_usage(stdout, synopsis, summary, gen_opts);
			return 0;
		default:
			sc_opt_usage(stderr, synopsis, summary, gen_opts);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stsmap generate: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	ret = an_generate(&req, txt, sizeof(txt), policy, sizeof(policy),
			  &policy_len);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap generate: %s (check every --mx is a host "
				"name and --mode enforce/testing has one)\n",
			st_strerror(ret));
		return ret == ST_EINVAL ? 2 : 1; /* a bad --mx is a usage error */
	}
	printf("# TXT record for _mta-sts.<domain>:\n%s\n\n"
	       "# Policy file for https://mta-sts.<domain>/.well-known/"
	       "mta-sts.txt\n# (serve as text/plain, HTTP 200, no redirect):\n",
	       txt);
	fwrite(policy, 1, policy_len, stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	bool network; /* talks to peers: keeps SIGPIPE ignored (sc_out.h) */
} commands[] = {
	{ "scan", sc_cmd_scan, "scan domains from lists or zone files into "
			       "a result store", true },
	{ "check", sc_cmd_check, "scan one domain now: findings, verdict, "
				 "fix", true },
	{ "show", sc_cmd_show, "print a domain's stored result", false },
	{ "export", sc_cmd_export, "write a scan's records (JSON Lines, CSV, "
				   "registry fixes)", false },
	{ "diff", sc_cmd_diff, "compare two scans (adoption, withdrawal, "
			       "stale policies)", false },
	{ "merge", sc_cmd_merge, "merge shard stores into one scan", false },
	{ "report", sc_cmd_report, "statistics of a scan (text, JSON, HTML)", false },
	{ "lint", sc_cmd_lint, "judge a record, policy and MX set given by "
			       "hand (offline)", false },
	{ "generate", sc_cmd_generate, "write a consistent TXT record and "
				       "policy file", false },
	{ "world", sc_cmd_world, "write a synthetic test world (zones, "
				 "certificates, nginx, ground truth)", false },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: stsmap COMMAND [OPTIONS]\n\n"
		     "stsmap surveys MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) "
		     "deployment.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nRun 'stsmap COMMAND --help' for its options.\n");
}

/* Run command i; its output is checked to the end (sc_out.h): a lost
 * write is never exit 0, a closed pipe ends quietly. */
static int run_command(size_t i, int argc, char **argv)
{
	int rc, out;

	if (!commands[i].network)
		signal(SIGPIPE, SIG_DFL);
	rc = commands[i].run(argc, argv);
	out = sc_out_close_stdout(commands[i].name);
	if (out == SC_EXIT_PIPE)
		return out;
	return rc != 0 ? rc : out;
}

/* "stsmap help CMD" is "stsmap CMD --help". */
static int help_command(const char *name)
{
	char *av[] = { (char *)name, (char *)"--help", NULL };

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			optind = 0; /* getopt_long restarts on av */
			return run_command(i, 2, av);
		}
	}
	fprintf(stderr, "stsmap: unknown command '%s'\n", name);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	/* A peer closing while we write (an SMTP probe, a store on a full
	 * disk pipe) must be an error return, not the end of the scan. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 && argc > 2)
		return help_command(argv[2]);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("stsmap %s\n", STSMAP_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return run_command(i, argc - 1, argv + 1);
	}
	fprintf(stderr, "stsmap: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
