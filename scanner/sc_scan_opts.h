/*
 * sc_scan_opts.h - the options of `stsmap scan` and `stsmap check`,
 * declared once (sc_scan_opts.c): one row per option with its help, its
 * default, its range and its unit.  The parser stores and checks values
 * from the row, and --help is written from the rows, so the help, the
 * parser and the configuration cannot disagree.
 *
 * Who owns a default: a value handed to the engine or below takes its
 * default from the named constant of the layer that uses it (SC_DEFAULT_*
 * in sc_scan.h, RS_DEFAULT_* in rs_resolver.h, FT_DEFAULT_* in ft_fetch.h,
 * FT_SMTP_DEFAULT_* in ft_smtp.h); the row refers to that name.  A value
 * only the command line knows (--db, --batch, --log, --format) has its
 * default in its row.  No number is written twice.
 */
#ifndef SC_SCAN_OPTS_H
#define SC_SCAN_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ds_input.h"
#include "sc_engine.h"
#include "st_log.h"

#define SC_MAX_INPUTS 64

struct sc_scan_opts {
	struct sc_config cfg;
	const char *db;              /* --db (SC_DEFAULT_DB) */
	enum ds_input_format format;
	uint32_t shard_i, shard_n;   /* 0/1: not sharded */
	const char *exclude;
	const char *label;
	unsigned batch;              /* results per transaction */
	unsigned threads;            /* --threads: event loops, 0 one per
				      * online core (sc_threads.h) */
	bool new_scan;               /* --new: never resume */
	bool quiet;
	bool json;                   /* check: JSON output */
	struct st_log log;
	const char *inputs[SC_MAX_INPUTS];
	size_t n_inputs;
	int argc;                    /* the command line, for metadata */
	char **argv;
};

/* Which options a command accepts. */
enum sc_opts_for { SC_OPTS_SCAN, SC_OPTS_CHECK };

#define SC_FOR_SCAN 1u
#define SC_FOR_CHECK 2u
#define SC_FOR_BOTH (SC_FOR_SCAN | SC_FOR_CHECK)

/* How a row's value is taken. */
enum sc_scan_opt_kind {
	SC_OPT_FLAG,  /* a bool at off, set when the option is given */
	SC_OPT_UINT,  /* a decimal number from min to max, at off */
	SC_OPT_STR,   /* a string at off, kept as given (checked before the
		       * scan, sc_opts_check.h) */
	SC_OPT_OTHER, /* parsed by code of its own: --resolver, --format,
		       * --shard, --log */
};

/* One option of scan or check. */
struct sc_scan_opt {
	const char *name;       /* long name, without "--" */
	const char *arg;        /* argument placeholder; NULL for a flag */
	int id;
	unsigned scope;         /* SC_FOR_SCAN, SC_FOR_CHECK or both */
	enum sc_scan_opt_kind kind;
	size_t off;             /* FLAG, UINT, STR: offset in sc_scan_opts */
	size_t size;            /* UINT: sizeof the field (2 or 4) */
	unsigned long long def, min, max; /* UINT */
	const char *unit;       /* UINT: "ms", "s" or NULL */
	const char *def_str;    /* STR: the default stored (NULL: none) */
	const char *def_text;   /* STR, OTHER: the default as the help says
				 * it, when not def_str (NULL: none) */
	const char *help;       /* one line, without default or range */
};

/* The rows, in --help order; *n gets their number.  Static storage. */
const struct sc_scan_opt *sc_scan_opt_rows(size_t *n);

/* The value of a UINT row in o. */
unsigned long long sc_scan_opt_uint(const struct sc_scan_opts *o,
				    const struct sc_scan_opt *row);

/* Write the --help of scan or check to out. */
void sc_scan_opts_usage(FILE *out, enum sc_opts_for which);

/*
 * Parse argv (argv[0] the subcommand) into o, every row's default first.
 * Positional arguments go to o->inputs.  A number outside its row's range
 * is refused: "stsmap: --NAME must be a number from MIN to MAX".  Returns
 * 0 to go on, 1 when --help was printed (exit 0), 2 on a usage error
 * (already reported).
 */
int sc_scan_opts_parse(int argc, char **argv, enum sc_opts_for which,
		       struct sc_scan_opts *o);

#endif /* SC_SCAN_OPTS_H */
