/*
 * sc_main.c - stsmap entry point: subcommand dispatch.  Each subcommand
 * lives in its own file (sc_cmd_*.c, sc_lint.c, sc_world.c); the parser
 * pieces they share are in sc_cli.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sc_cli.h"
#include "sc_out.h"

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
