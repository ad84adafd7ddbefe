/*
 * sc_groups.h - reading a --groups file (domain,group CSV, see
 * analysis/an_groups.h) for `report` and `export --by-group`.
 */
#ifndef SC_GROUPS_H
#define SC_GROUPS_H

#include "an_groups.h"

/*
 * Read path into a new map (*out, free with an_groups_free).  Every bad
 * line is named on stderr as "stsmap CMD: PATH:LINE: reason" (at most 20,
 * then a count), and any bad line fails the whole file: a registry's
 * groups decide who is told what, so none is guessed.  Returns ST_OK,
 * ST_EPARSE (bad lines), ST_EIO / ST_ENOENT (the file, named on stderr),
 * ST_ENOMEM.
 */
int sc_groups_load(const char *cmd, const char *path, struct an_groups **out);

#endif /* SC_GROUPS_H */
