/*
 * sc_scan_opts.h - the options of `stsmap scan` and `stsmap check`,
 * declared once (sc_scan_opts.c) with their defaults and help.
 */
#ifndef SC_SCAN_OPTS_H
#define SC_SCAN_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ds_input.h"
#include "sc_engine.h"
#include "st_log.h"

#define SC_MAX_INPUTS 64

struct sc_scan_opts {
	struct sc_config cfg;
	const char *db;              /* --db (stsmap.lmdb) */
	enum ds_input_format format;
	uint32_t shard_i, shard_n;   /* 0/1: not sharded */
	const char *exclude;
	const char *label;
	unsigned batch;              /* results per transaction */
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

/*
 * Parse argv (argv[0] the subcommand) into o, defaults first.  Positional
 * arguments go to o->inputs.  Returns 0 to go on, 1 when --help was
 * printed (exit 0), 2 on a usage error (already reported).
 */
int sc_scan_opts_parse(int argc, char **argv, enum sc_opts_for which,
		       struct sc_scan_opts *o);

#endif /* SC_SCAN_OPTS_H */
