/*
 * sc_export_groups.c - the registry export split by group; see
 * sc_export_groups.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "an_fix.h"
#include "sc_export_groups.h"
#include "st_error.h"
#include "st_hmap.h"
#include "st_list.h"

struct xgroup {
	struct sc_xgroups *xg;
	const char *label;           /* the groups map's copy, or static */
	char folder[SC_XGROUP_FOLDER_MAX + 1];
	char base[4096];             /* DIR/FOLDER */
	FILE *fp;                    /* FOLDER/registry.csv while open */
	struct an_export *x;         /* its writer while open */
	bool started;                /* the header is written */
	struct an_export_stats st;   /* counters of closed writers */
	struct st_link open;         /* on xg->open while open */
};

struct sc_xgroups {
	const char *dir;
	const struct an_groups *groups;
	time_t now;
	struct st_hmap by_label;     /* label -> struct xgroup */
	struct st_list open;         /* open groups, oldest first */
	size_t n_open;
	struct xgroup **all;         /* creation order */
	size_t n_all, cap_all;
	bool reported;
};

int sc_export_write_file(const char *base, const char *relpath,
			 const char *data, size_t len, bool *reported)
{
	char path[4096];
	const char *slash = strrchr(relpath, '/');
	FILE *f;
	int ret = ST_OK;

	if (relpath[0] == '/' || relpath[0] == '.' ||
	    strstr(relpath, "..") != NULL || slash == NULL)
		return ST_EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%.*s", base,
			     (int)(slash - relpath), relpath) >= sizeof(path))
		return ST_ERANGE;
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "stsmap export: cannot create %s: %s\n", path,
			strerror(errno));
		*reported = true;
		return ST_EIO;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", base, relpath) >=
	    sizeof(path))
		return ST_ERANGE;
	f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "stsmap export: cannot create %s: %s\n", path,
			strerror(errno));
		*reported = true;
		return ST_EIO;
	}
	if (fwrite(data, 1, len, f) != len)
		ret = ST_EIO;
	if (fclose(f) != 0)
		ret = ST_EIO;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap export: writing %s: %s\n", path,
			strerror(errno));
		*reported = true;
	}
	return ret;
}

void sc_xgroup_folder(const char *label, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, limit = cap - 1 < SC_XGROUP_FOLDER_MAX
				  ? cap - 1 : SC_XGROUP_FOLDER_MAX;
	bool cut = false;

	for (size_t i = 0; label[i] != '\0'; i++) {
		unsigned char c = (unsigned char)label[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    (c == '.' && i > 0);
		size_t need = keep ? 1 : 3;

		if (n + need > limit - 17) {
			/* Room is kept for "-" and the hash. */
			cut = true;
			break;
		}
		if (keep) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (cut)
		n += (size_t)snprintf(out + n, cap - n, "-%016" PRIx64,
				      st_hash_str(label));
	out[n] = '\0';
}

int sc_xgroups_new(const char *dir, const struct an_groups *groups,
		   time_t now, struct sc_xgroups **out)
{
	struct sc_xgroups *xg = calloc(1, sizeof(*xg));

	if (xg == NULL)
		return ST_ENOMEM;
	xg->dir = dir;
	xg->groups = groups;
	xg->now = now;
	st_hmap_init(&xg->by_label);
	st_list_init(&xg->open);
	*out = xg;
	return ST_OK;
}

static int group_file(void *arg, const char *relpath, const char *data,
		      size_t len)
{
	struct xgroup *g = arg;

	return sc_export_write_file(g->base, relpath, data, len,
				    &g->xg->reported);
}

static void add_stats(struct an_export_stats *into,
		      const struct an_export_stats *s)
{
	into->records += s->records;
	into->rows += s->rows;
	into->fixes += s->fixes;
	into->no_fix += s->no_fix;
	into->files += s->files;
	into->skipped_files += s->skipped_files;
}

/* Close g's writer and file, keeping its counters. */
static int group_close(struct sc_xgroups *xg, struct xgroup *g)
{
	struct an_export_stats s = { 0 };
	int ret;

	if (g->x == NULL)
		return ST_OK;
	an_export_get_stats(g->x, &s);
	add_stats(&g->st, &s);
	ret = an_export_close(g->x);
	g->x = NULL;
	if (fclose(g->fp) != 0 && ret == ST_OK)
		ret = ST_EIO;
	g->fp = NULL;
	st_list_remove(&g->open);
	xg->n_open--;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap export: writing %s/registry.csv: %s\n",
			g->base, st_strerror(ret));
		xg->reported = true;
	}
	return ret;
}

static int group_open(struct sc_xgroups *xg, struct xgroup *g)
{
	struct an_export_opts eo = { 0 };
	char path[4200];
	int ret;

	if (xg->n_open == SC_XGROUP_OPEN) {
		struct st_link *old = st_list_first(&xg->open);

		ret = group_close(xg, ST_CONTAINER(old, struct xgroup, open));
		if (ret != ST_OK)
			return ret;
	}
	if (!g->started && mkdir(g->base, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "stsmap export: cannot create %s: %s\n",
			g->base, strerror(errno));
		xg->reported = true;
		return ST_EIO;
	}
	snprintf(path, sizeof(path), "%s/registry.csv", g->base);
	g->fp = fopen(path, g->started ? "ab" : "wb");
	if (g->fp == NULL) {
		fprintf(stderr, "stsmap export: cannot create %s: %s\n", path,
			strerror(errno));
		xg->reported = true;
		return ST_EIO;
	}
	eo.out = g->fp;
	eo.now = xg->now;
	eo.file = group_file;
	eo.file_arg = g;
	eo.no_header = g->started;
	ret = an_export_open("registry", &eo, &g->x);
	if (ret != ST_OK) {
		fclose(g->fp);
		g->fp = NULL;
		return ret;
	}
	g->started = true;
	st_list_push_back(&xg->open, &g->open);
	xg->n_open++;
	return ST_OK;
}

static struct xgroup *group_get(struct sc_xgroups *xg, const char *label)
{
	struct xgroup *g = st_hmap_get(&xg->by_label, label);

	if (g != NULL)
		return g;
	if (xg->n_all == xg->cap_all) {
		size_t cap = xg->cap_all ? xg->cap_all * 2 : 64;
		struct xgroup **all = realloc(xg->all, cap * sizeof(*all));

		if (all == NULL)
			return NULL;
		xg->all = all;
		xg->cap_all = cap;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->xg = xg;
	g->label = label;
	st_link_init(&g->open);
	sc_xgroup_folder(label, g->folder, sizeof(g->folder));
	snprintf(g->base, sizeof(g->base), "%s/%s", xg->dir, g->folder);
	if (st_hmap_put(&xg->by_label, g->label, g) != ST_OK) {
		free(g);
		return NULL;
	}
	xg->all[xg->n_all++] = g;
	return g;
}

int sc_xgroups_record(struct sc_xgroups *xg, const struct an_record *r)
{
	const char *label;
	struct xgroup *g;
	int ret;

	if (!an_fix_needed(r))
		return ST_OK;
	label = an_groups_of(xg->groups, r->domain);
	g = group_get(xg, label != NULL ? label : AN_GROUP_NONE);
	if (g == NULL)
		return ST_ENOMEM;
	if (g->x == NULL) {
		ret = group_open(xg, g);
		if (ret != ST_OK)
			return ret;
	} else {
		/* Most recently used last: the oldest is closed first. */
		st_list_remove(&g->open);
		st_list_push_back(&xg->open, &g->open);
	}
	return an_export_record(g->x, r, NULL, 0);
}

static int write_text(struct sc_xgroups *xg, const char *path,
		      const char *text)
{
	FILE *f = fopen(path, "wb");
	int ret = ST_OK;

	if (f == NULL || fputs(text, f) < 0)
		ret = ST_EIO;
	if (f != NULL && fclose(f) != 0)
		ret = ST_EIO;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap export: writing %s: %s\n", path,
			strerror(errno));
		xg->reported = true;
	}
	return ret;
}

static int group_readme(struct sc_xgroups *xg, const struct xgroup *g,
			const char *store, uint32_t scan)
{
	char path[4200], text[2048];

	snprintf(text, sizeof(text),
		 "MTA-STS (RFC 8461) problems of the domains of group\n"
		 "  %s\n"
		 "measured by stsmap, scan %u of store %s.\n\n"
		 "%" PRIu64 " domains need a fix (%" PRIu64 " with a corrected "
		 "policy built).\n\n"
		 "registry.csv       one row per domain: its problems, the TXT "
		 "record to publish\n"
		 "                   at _mta-sts.DOMAIN and the policy file to "
		 "serve\n"
		 "DOMAIN/mta-sts.txt the policy file, byte for byte as it must "
		 "be served at\n"
		 "                   https://mta-sts.DOMAIN/.well-known/"
		 "mta-sts.txt\n"
		 "DOMAIN/README.txt  a plain-text explanation for the "
		 "registrant\n",
		 g->label, (unsigned)scan, store, g->st.rows, g->st.fixes);
	snprintf(path, sizeof(path), "%s/README.txt", g->base);
	return write_text(xg, path, text);
}

static int index_files(struct sc_xgroups *xg, const char *store,
		       uint32_t scan)
{
	char path[4200], text[1024];
	FILE *f;
	int ret = ST_OK;

	snprintf(path, sizeof(path), "%s/groups.csv", xg->dir);
	f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "stsmap export: cannot create %s: %s\n", path,
			strerror(errno));
		xg->reported = true;
		return ST_EIO;
	}
	fputs("group,folder,domains\r\n", f);
	for (size_t i = 0; i < xg->n_all; i++) {
		const struct xgroup *g = xg->all[i];

		an_csv_cell(f, g->label, strlen(g->label));
		fprintf(f, ",%s,%" PRIu64 "\r\n", g->folder, g->st.rows);
	}
	if (fclose(f) != 0)
		ret = ST_EIO;
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap export: writing %s\n", path);
		xg->reported = true;
		return ret;
	}
	snprintf(text, sizeof(text),
		 "Domains needing an MTA-STS fix, by group, from scan %u of "
		 "store %s.\n\n"
		 "groups.csv   each group with its folder and its number of "
		 "domains\n"
		 "FOLDER/      one per group: registry.csv, README.txt and a "
		 "folder per domain\n\n"
		 "A folder is the group's name with every byte outside "
		 "A-Z a-z 0-9 . _ -\n"
		 "written as %%XX. " AN_GROUP_NONE " holds the domains the "
		 "groups file does not list.\n", (unsigned)scan, store);
	snprintf(path, sizeof(path), "%s/README.txt", xg->dir);
	return write_text(xg, path, text);
}

int sc_xgroups_finish(struct sc_xgroups *xg, const char *store,
		      uint32_t scan, struct an_export_stats *sum,
		      bool *reported)
{
	int ret = ST_OK, r;

	if (xg == NULL)
		return ST_OK;
	for (size_t i = 0; i < xg->n_all; i++) {
		struct xgroup *g = xg->all[i];

		r = group_close(xg, g);
		if (ret == ST_OK)
			ret = r;
		add_stats(sum, &g->st);
		if (ret == ST_OK)
			ret = group_readme(xg, g, store, scan);
	}
	if (ret == ST_OK)
		ret = index_files(xg, store, scan);
	*reported |= xg->reported;
	for (size_t i = 0; i < xg->n_all; i++)
		free(xg->all[i]);
	free(xg->all);
	st_hmap_free(&xg->by_label);
	free(xg);
	return ret;
}
