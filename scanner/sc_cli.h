/*
 * sc_cli.h - the stsmap command line: subcommands, their option tables and
 * the parser's shared end (sc_cli.c).
 *
 * Every option is declared once, in a struct sc_opt table next to its
 * subcommand, with its argument name and help text; getopt_long's table and
 * the --help output are both generated from it.
 */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* The result store every command reads or writes unless --db says. */
#define SC_DEFAULT_DB "stsmap.lmdb"

/* A default's constant in help text, so the number is written once:
 * "(default " SC_STR(X_DEFAULT) ")".  X must expand to digits only. */
#define SC_STR_(x) #x
#define SC_STR(x) SC_STR_(x)

struct sc_opt {
	const char *name; /* long name, without "--" */
	const char *arg;  /* argument placeholder, NULL for a flag */
	int id;           /* value returned by sc_opt_next() */
	const char *help; /* one line; say the default here */
};

#define SC_OPT_END { NULL, NULL, 0, NULL }
#define SC_OPT_HELP 'h'

/* Parse the next option of argv against opts (terminated by SC_OPT_END;
 * --help is always accepted).  Returns the option's id, SC_OPT_HELP for
 * --help, -1 at the end of options, '?' on an error (already reported on
 * stderr).  *arg receives the option argument or NULL. */
int sc_opt_next(int argc, char **argv, const struct sc_opt *opts,
		const char **arg);

/* Parse a decimal option argument of at most max into *out: ST_OK,
 * ST_EINVAL when s is not a number, ST_ERANGE when it is over max. */
int sc_opt_u64(const char *s, unsigned long long max, unsigned long long *out);

/* Print "usage: stsmap <synopsis>", the summary and the options table. */
void sc_opt_usage(FILE *out, const char *synopsis, const char *summary,
		  const struct sc_opt *opts);

/*
 * One subcommand's command line, for the shared end of every parser.
 * Usage errors exit 2 and show the usage on stderr; --help shows it on
 * stdout and exits 0.
 */
struct sc_cli {
	const char *cmd;         /* the subcommand, for messages */
	const char *synopsis;    /* after "usage: stsmap " */
	const char *summary;
	const struct sc_opt *opts; /* ends with SC_OPT_END */
	/* An operand beyond the last one accepted is named ("stsmap CMD:
	 * unexpected argument 'X'"); false: the usage is shown instead. */
	bool name_extra;
};

#define SC_CLI_GO (-1)    /* sc_cli_parse(): options taken, run on */
#define SC_CLI_USAGE (-2) /* from a take function: show the usage, exit 2 */

/*
 * Take one option of the subcommand: id is its sc_opt id, arg its argument
 * (NULL for a flag).  Return 0 to go on, SC_CLI_USAGE for a value that the
 * usage explains, or an exit status (> 0) after naming the problem on
 * stderr.
 */
typedef int (*sc_cli_take_fn)(void *ctx, int id, const char *arg);

/*
 * Run getopt_long over argv (argv[0] the subcommand) with cli->opts and
 * hand every option to take.  --help prints the usage on stdout and
 * returns 0; an unknown option or a missing argument (getopt_long names
 * it on stderr) prints the usage on stderr and returns 2.  Returns
 * SC_CLI_GO when every option was taken (optind is then the first
 * operand), else the exit status.
 */
int sc_cli_parse(const struct sc_cli *cli, int argc, char **argv,
		 sc_cli_take_fn take, void *ctx);

/*
 * After sc_cli_parse(): there must be min to max operands from optind on.
 * SC_CLI_GO when there are; else the problem on stderr (the extra operand
 * named if cli->name_extra, the usage otherwise) and 2.
 */
int sc_cli_operands(const struct sc_cli *cli, int argc, char **argv,
		    int min, int max);

/* Print the usage on stderr and return 2: operands that do not fit the
 * synopsis in a way sc_cli_operands() cannot tell. */
int sc_cli_usage_error(const struct sc_cli *cli);

/* Print a stored or just-scanned record for a person at a terminal
 * (show and check; sc_cmd_show.c). */
struct an_record;
void sc_print_record(FILE *out, const struct an_record *r);

/* Write the head every stored scan's metadata starts with:
 * {"tool":"stsmap","version":"...","command":[argv...]  (object left open). */
void sc_meta_head(FILE *out, int argc, char **argv);

/* Subcommands: argv[0] is the subcommand name.  Return the exit status. */
int sc_cmd_generate(int argc, char **argv);
int sc_cmd_lint(int argc, char **argv);
int sc_cmd_world(int argc, char **argv);
int sc_cmd_scan(int argc, char **argv);
int sc_cmd_show(int argc, char **argv);
int sc_cmd_check(int argc, char **argv);
int sc_cmd_export(int argc, char **argv);
int sc_cmd_diff(int argc, char **argv);
int sc_cmd_merge(int argc, char **argv);
int sc_cmd_report(int argc, char **argv);

#endif /* SC_CLI_H */
