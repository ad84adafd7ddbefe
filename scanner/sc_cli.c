/*
 * sc_cli.c - the pieces every subcommand's parser shares: the getopt_long
 * table built from a struct sc_opt table, the usage text, the end of the
 * option loop (--help, unknown options, missing arguments, operands).
 */
#include <getopt.h>
#include <stdlib.h>

#include "an_json.h"
#include "sc_cli.h"
#include "st_error.h"

#define SC_MAX_OPTS 48

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

static void usage(const struct sc_cli *cli, FILE *out)
{
	sc_opt_usage(out, cli->synopsis, cli->summary, cli->opts);
}

int sc_cli_parse(const struct sc_cli *cli, int argc, char **argv,
		 sc_cli_take_fn take, void *ctx)
{
	const char *arg;
	int c, r;

	while ((c = sc_opt_next(argc, argv, cli->opts, &arg)) != -1) {
		if (c == SC_OPT_HELP) {
			usage(cli, stdout);
			return 0;
		}
		/* getopt_long has named the unknown option or the missing
		 * argument on stderr; the usage says what is accepted. */
		r = c == '?' ? SC_CLI_USAGE : take(ctx, c, arg);
		if (r == SC_CLI_USAGE) {
			usage(cli, stderr);
			return 2;
		}
		if (r != 0)
			return r;
	}
	return SC_CLI_GO;
}

int sc_cli_usage_error(const struct sc_cli *cli)
{
	usage(cli, stderr);
	return 2;
}

int sc_cli_operands(const struct sc_cli *cli, int argc, char **argv,
		    int min, int max)
{
	int n = argc - optind;

	if (n >= min && n <= max)
		return SC_CLI_GO;
	if (n > max && cli->name_extra)
		fprintf(stderr, "stsmap %s: unexpected argument '%s'\n",
			cli->cmd, argv[optind + max]);
	else
		usage(cli, stderr);
	return 2;
}
