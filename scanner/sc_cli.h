/*
 * sc_cli.h - the stsmap command line: subcommands and their option tables.
 *
 * Every option is declared once, in a struct sc_opt table next to its
 * subcommand, with its argument name and help text; getopt_long's table and
 * the --help output are both generated from it.
 */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <stdio.h>

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
