/*
 * an_groups.h - a domain -> group map for per-group reports: a registry
 * acts on results through its registrars, so each registrar (or reseller,
 * customer: any label) is a group and gets the broken domains of its
 * customers (`report --groups`, `export --registry DIR --by-group`).
 *
 * Groups are attached at report time, not at scan time: who sponsors a
 * domain changes between scans (transfers) and is the registry's data, not
 * a measurement, so one scan can be reported under several groupings and
 * the store holds only what was measured.
 *
 * The file is CSV (RFC 4180): one "domain,group" row per line; LF or CRLF;
 * either cell may be quoted ("Example, Inc.", a quote doubled inside);
 * blank lines and lines starting with '#' are skipped; a first row
 * "domain,group" (any case) is a header and skipped.  The domain is
 * normalised like an input name (ds_name_normalise: IDN to A-label, lower
 * case, one trailing dot dropped).  The group is 1 to AN_GROUP_MAX bytes of
 * valid UTF-8 without control characters, surrounding blanks removed.  A
 * domain listed twice with the same group is taken once; with two
 * different groups it is an error (a domain has one sponsor).
 *
 * Pure: no I/O.  The caller reads the file and hands lines in
 * (scanner/sc_groups.c).  Memory: about 60 bytes per domain plus the
 * distinct labels (each stored once).  Not thread safe; no global state.
 */
#ifndef AN_GROUPS_H
#define AN_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#define AN_GROUP_MAX 128           /* bytes of a group label */
#define AN_GROUP_NONE "(none)"     /* the group of a domain not listed */

struct an_groups;

/* Returns ST_OK and *out (free with an_groups_free), or ST_ENOMEM. */
int an_groups_new(struct an_groups **out);
void an_groups_free(struct an_groups *g); /* NULL is a no-op */

/*
 * Add one line (len bytes, with or without its line end).  lineno counts
 * from 1 (the header rule looks at line 1).  Returns ST_OK (a row, or a
 * line skipped), ST_EPARSE with a one-line reason in why (whylen bytes,
 * NUL-terminated; the caller prefixes file and line), ST_ENOMEM, ST_EINVAL
 * for NULL arguments.  A failed line leaves the map unchanged.
 */
int an_groups_line(struct an_groups *g, const char *line, size_t len,
		   uint64_t lineno, char *why, size_t whylen);

/* The group of a normalised domain name, or NULL when it is not listed.
 * The label lives as long as g. */
const char *an_groups_of(const struct an_groups *g, const char *domain);

/* How many domains and distinct labels the map holds. */
size_t an_groups_domains(const struct an_groups *g);
size_t an_groups_labels(const struct an_groups *g);

#endif /* AN_GROUPS_H */
