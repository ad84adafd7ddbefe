/*
 * sc_export_groups.h - `export --registry DIR --by-group`: the registry's
 * mail-merge export split by group (registrar, reseller, customer), so a
 * registry can hand each registrar the broken domains of its customers.
 *
 * Layout under DIR:
 *   groups.csv              one row per group with domains needing a fix:
 *                           group, folder, domains
 *   README.txt              what the folders are
 *   FOLDER/registry.csv     the registry CSV (analysis/an_export.h) of the
 *                           group's domains needing a fix
 *   FOLDER/README.txt       the group, its count, what the files are
 *   FOLDER/D/mta-sts.txt, FOLDER/D/README.txt
 *                           per domain, as `export --registry` writes them
 * FOLDER is the group label percent-encoded: every byte outside
 * [A-Za-z0-9._-], and a leading '.', becomes %XX, so distinct labels get
 * distinct folders and none can leave DIR; a label whose folder would pass
 * SC_XGROUP_FOLDER_MAX bytes is cut and gets "-" and a 16-digit FNV-1a
 * hash of the label.  Domains the groups file does not list are in the
 * group "(none)" (folder %28none%29).  Only groups with at least one
 * domain needing a fix get a folder.
 *
 * Memory: one small struct per group; at most SC_XGROUP_OPEN group files
 * are open at once (the oldest is closed and later reopened for append),
 * so thousands of registrars need no more descriptors than a few.
 */
#ifndef SC_EXPORT_GROUPS_H
#define SC_EXPORT_GROUPS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "an_export.h"
#include "an_groups.h"
#include "an_record.h"

#define SC_XGROUP_OPEN 64
#define SC_XGROUP_FOLDER_MAX 200

struct sc_xgroups;

/*
 * Write path base/relpath (relpath relative, no "..", with one directory
 * part that is created if missing).  Names a failure on stderr as
 * "stsmap export: ..." and sets *reported.  ST_OK, ST_EINVAL, ST_ERANGE,
 * ST_EIO.  Shared with the plain --registry export.
 */
int sc_export_write_file(const char *base, const char *relpath,
			 const char *data, size_t len, bool *reported);

/* The folder of a label (see above) into out (cap >= SC_XGROUP_FOLDER_MAX
 * + 1). */
void sc_xgroup_folder(const char *label, char *out, size_t cap);

/* Start: dir must exist; groups is borrowed (lives until the end); now
 * as for an_export_opts.  ST_OK and *out, ST_ENOMEM. */
int sc_xgroups_new(const char *dir, const struct an_groups *groups,
		   time_t now, struct sc_xgroups **out);

/* Route one record to its group's export (records that need no fix are
 * ignored, as the registry writer ignores them). */
int sc_xgroups_record(struct sc_xgroups *xg, const struct an_record *r);

/* Close every group, write the READMEs and groups.csv, add the groups'
 * counters into *sum and free xg (also on error).  *reported as above.
 * store and scan name the source in the READMEs. */
int sc_xgroups_finish(struct sc_xgroups *xg, const char *store,
		      uint32_t scan, struct an_export_stats *sum,
		      bool *reported);

#endif /* SC_EXPORT_GROUPS_H */
