/*
 * ds_world_hier.c - the world as a delegation hierarchy (ds_world_hier.h).
 *
 * Two passes over the flat zone the generator wrote: the first learns
 * which domains hold records and which already are cuts, the second
 * sends every record to the zone that is authoritative for it in the
 * hierarchy.  The flat zone writes a domain's records together, so one
 * domain zone file is open at a time (reopened for appending in the rare
 * case its records are not contiguous).
 */
#include "ds_world_hier.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "st_error.h"
#include "st_hmap.h"

#define TTL 3600
#define NAME_CAP 256 /* a domain name with its NUL */
#define ADDR_ROOT "127.20.0"
#define ADDR_TLD "127.20.1"
#define ADDR_LAME "127.20.2.1" /* ns1.dns01: serves neither <tld> nor the
				* lame delegations */

/* One name of domains.txt. */
struct hdom {
	char *name;           /* owned; no trailing dot */
	unsigned prov;        /* 1..n_prov when zone */
	bool has_rec;         /* a record at or below it */
	bool cut;             /* an NS record at it in the flat zone */
	bool zone;            /* a zone of its own in the hierarchy */
	bool started;         /* its file has been created */
};

struct hier {
	const struct ds_world_opts *o;
	unsigned n_prov;
	struct hdom *dom;
	size_t n_dom, cap_dom;
	struct st_hmap map;   /* name -> struct hdom in dom[] */
	char path[PATH_MAX];
	FILE *tld;
	FILE *cur;            /* the open domain zone file */
	const struct hdom *cur_dom;
	char *line;
	size_t line_cap;
	struct ds_world_hier_stats st;
};

/* One record line of the flat zone, parsed in place: owner without its
 * trailing dot (copied), type (copied). */
struct rrline {
	char owner[NAME_CAP];
	char type[16];
};

static int out_path(struct hier *h, const char *rel)
{
	int n = snprintf(h->path, sizeof(h->path), "%s/%s", h->o->out_dir, rel);

	return n < 0 || (size_t)n >= sizeof(h->path) ? ST_ETOOBIG : ST_OK;
}

static int open_rel(struct hier *h, const char *rel, const char *mode,
		    FILE **f)
{
	int ret = out_path(h, rel);

	if (ret != ST_OK)
		return ret;
	*f = fopen(h->path, mode);
	if (*f == NULL)
		return errno == ENOENT && mode[0] == 'r' ? ST_ENOENT : ST_EIO;
	return ST_OK;
}

static int close_f(FILE **f)
{
	int ret = ST_OK;

	if (*f == NULL)
		return ST_OK;
	if (ferror(*f))
		ret = ST_EIO;
	if (fclose(*f) != 0)
		ret = ST_EIO;
	*f = NULL;
	return ret;
}

static int make_dir(struct hier *h, const char *rel)
{
	int ret = out_path(h, rel);

	if (ret == ST_OK && mkdir(h->path, 0755) != 0 && errno != EEXIST)
		ret = ST_EIO;
	return ret;
}

/* Read one line into h->line without its newline; 1 for a line, 0 at
 * the end, negative st_err. */
static int read_line(struct hier *h, FILE *f)
{
	ssize_t n = getline(&h->line, &h->line_cap, f);

	if (n < 0)
		return ferror(f) ? ST_EIO : (feof(f) ? 0 : ST_ENOMEM);
	if (n > DS_WORLD_HIER_LINE_MAX)
		return ST_ETOOBIG;
	while (n > 0 && (h->line[n - 1] == '\n' || h->line[n - 1] == '\r'))
		h->line[--n] = '\0';
	return 1;
}

/* --- domains.txt --- */

static int add_domain(struct hier *h, const char *name)
{
	struct hdom *d;

	if (strlen(name) >= NAME_CAP)
		return ST_ETOOBIG;
	if (h->n_dom >= DS_WORLD_HIER_DOMAINS_MAX)
		return ST_EINVAL;
	if (h->n_dom == h->cap_dom) {
		size_t cap = h->cap_dom == 0 ? 256 : 2 * h->cap_dom;
		struct hdom *n = realloc(h->dom, cap * sizeof(*n));

		if (n == NULL)
			return ST_ENOMEM;
		h->dom = n;
		h->cap_dom = cap;
	}
	d = &h->dom[h->n_dom];
	memset(d, 0, sizeof(*d));
	d->name = strdup(name);
	if (d->name == NULL)
		return ST_ENOMEM;
	h->n_dom++;
	return ST_OK;
}

/* The map points into dom[], so it is built once dom[] stops moving. */
static int load_domains(struct hier *h)
{
	FILE *f = NULL;
	int ret = open_rel(h, "domains.txt", "r", &f), r = 0;

	while (ret == ST_OK && (r = read_line(h, f)) == 1)
		if (h->line[0] != '\0')
			ret = add_domain(h, h->line);
	if (ret == ST_OK && r < 0)
		ret = r;
	for (size_t i = 0; ret == ST_OK && i < h->n_dom; i++)
		ret = st_hmap_put(&h->map, h->dom[i].name, &h->dom[i]);
	if (f != NULL)
		fclose(f);
	return ret;
}

/* The domain of domains.txt that is owner or its closest ancestor, or
 * NULL. */
static struct hdom *enclosing(struct hier *h, const char *owner)
{
	for (const char *p = owner; p != NULL && *p != '\0';) {
		struct hdom *d = st_hmap_get(&h->map, p);

		if (d != NULL)
			return d;
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* --- the flat zone --- */

/* Parse "owner TTL class type rdata"; 0 for a record, 1 for a comment
 * or blank line, negative st_err. */
static int parse_rr(const char *line, struct rrline *rr)
{
	const char *p = line, *f[4];
	size_t len[4];

	if (*p == ';' || *p == '\0')
		return 1;
	for (size_t i = 0; i < 4; i++) {
		p += strspn(p, " \t");
		f[i] = p;
		len[i] = strcspn(p, " \t");
		if (len[i] == 0)
			return ST_EPARSE;
		p += len[i];
	}
	if (len[0] >= sizeof(rr->owner) || len[3] >= sizeof(rr->type) ||
	    f[0][len[0] - 1] != '.')
		return len[0] >= sizeof(rr->owner) ? ST_ETOOBIG : ST_EPARSE;
	/* The owner without its trailing dot, as domains.txt spells it. */
	memcpy(rr->owner, f[0], len[0] - 1);
	rr->owner[len[0] - 1] = '\0';
	memcpy(rr->type, f[3], len[3]);
	rr->type[len[3]] = '\0';
	return 0;
}

static int open_flat(struct hier *h, FILE **f)
{
	char rel[DS_WORLD_TLD_MAX + 16];

	snprintf(rel, sizeof(rel), "dns/%s.zone", h->o->tld);
	return open_rel(h, rel, "r", f);
}

/* Pass 1: which domains hold records, which are cuts already. */
static int survey(struct hier *h)
{
	struct rrline rr;
	FILE *f = NULL;
	int ret = open_flat(h, &f), r = 0;

	while (ret == ST_OK && (r = read_line(h, f)) == 1) {
		struct hdom *d;

		ret = parse_rr(h->line, &rr);
		if (ret == 1) {
			ret = ST_OK;
			continue;
		}
		if (ret != ST_OK)
			break;
		d = enclosing(h, rr.owner);
		if (d == NULL)
			continue;
		d->has_rec = true;
		if (strcmp(rr.type, "NS") == 0 && strcmp(rr.owner, d->name) == 0)
			d->cut = true;
	}
	if (ret == ST_OK && r < 0)
		ret = r;
	if (f != NULL)
		fclose(f);
	for (size_t i = 0, k = 0; ret == ST_OK && i < h->n_dom; i++) {
		struct hdom *d = &h->dom[i];

		d->zone = d->has_rec && !d->cut;
		if (!d->zone) {
			h->st.n_kept++;
			continue;
		}
		d->prov = (unsigned)(k++ % h->n_prov) + 1;
		h->st.n_zones++;
	}
	return ret;
}

static int open_domain_zone(struct hier *h, struct hdom *d)
{
	const char *t = h->o->tld;
	char rel[NAME_CAP + 16];
	int ret;

	if (h->cur_dom == d)
		return ST_OK;
	ret = close_f(&h->cur);
	h->cur_dom = NULL;
	if (ret != ST_OK)
		return ret;
	snprintf(rel, sizeof(rel), "hier/zones/%s.zone", d->name);
	ret = open_rel(h, rel, d->started ? "a" : "w", &h->cur);
	if (ret != ST_OK)
		return ret;
	h->cur_dom = d;
	if (d->started)
		return ST_OK;
	d->started = true;
	fprintf(h->cur, "; stsmap world hierarchy: zone %s., provider dns%02u\n",
		d->name, d->prov);
	fprintf(h->cur, "%s.\t%d\tIN\tSOA\tns1.dns%02u.%s. hostmaster.%s. %u "
			"3600 900 604800 300\n", d->name, TTL, d->prov, t,
		d->name, (unsigned)(uint32_t)h->o->now);
	for (unsigned j = 1; j <= 2; j++)
		fprintf(h->cur, "%s.\t%d\tIN\tNS\tns%u.dns%02u.%s.\n", d->name,
			TTL, j, d->prov, t);
	return ST_OK;
}

/* Where one record of the flat zone goes. */
static int route(struct hier *h, const struct rrline *rr)
{
	const char *t = h->o->tld;
	struct hdom *d;
	char ns[DS_WORLD_TLD_MAX + 8];
	int ret;

	snprintf(ns, sizeof(ns), "ns.%s", t);
	if (strcmp(rr->owner, t) == 0 && strcmp(rr->type, "NS") == 0)
		return ST_OK; /* the apex NS: the TLD's servers, written below */
	if (strcmp(rr->owner, ns) == 0 && strcmp(rr->type, "A") == 0) {
		/* The target of the lame delegations: a server that does
		 * not serve them, the first provider's, which refuses them
		 * (RFC 1034 §4.3.1 lets it; a resolver finds no server that
		 * answers: SERVFAIL, as through the flat world).  Not the
		 * TLD's own: through Unbound, a scan then saw no record
		 * (no-policy) instead of a failed lookup; why, not examined. */
		fprintf(h->tld, "%s.\t%d\tIN\tA\t%s\n", ns, TTL, ADDR_LAME);
		return ST_OK;
	}
	d = enclosing(h, rr->owner);
	if (d == NULL || !d->zone) {
		fprintf(h->tld, "%s\n", h->line);
		return ST_OK;
	}
	ret = open_domain_zone(h, d);
	if (ret == ST_OK) {
		fprintf(h->cur, "%s\n", h->line);
		h->st.n_records++;
	}
	return ret;
}

/* Pass 2. */
static int split(struct hier *h)
{
	struct rrline rr;
	FILE *f = NULL;
	int ret = open_flat(h, &f), r = 0;

	while (ret == ST_OK && (r = read_line(h, f)) == 1) {
		ret = parse_rr(h->line, &rr);
		if (ret == 1) {
			ret = ST_OK;
			continue;
		}
		if (ret == ST_OK)
			ret = route(h, &rr);
	}
	if (ret == ST_OK && r < 0)
		ret = r;
	if (f != NULL)
		fclose(f);
	r = close_f(&h->cur);
	h->cur_dom = NULL;
	return ret == ST_OK ? r : ret;
}

/* --- the TLD's additions, the root, the manifests --- */

static void put_server_names(FILE *f, const char *t, unsigned n_prov)
{
	static const char *const ab[2] = { "a", "b" };

	for (unsigned j = 0; j < 2; j++) {
		fprintf(f, "%s.root-servers.%s.\t%d\tIN\tA\t%s.%u\n", ab[j], t,
			TTL, ADDR_ROOT, j + 1);
		fprintf(f, "%s.nic.%s.\t%d\tIN\tA\t%s.%u\n", ab[j], t, TTL,
			ADDR_TLD, j + 1);
	}
	for (unsigned k = 1; k <= n_prov; k++)
		for (unsigned j = 1; j <= 2; j++)
			fprintf(f, "ns%u.dns%02u.%s.\t%d\tIN\tA\t127.20.%u.%u\n",
				j, k, t, TTL, 1 + k, j);
}

static void write_tld_tail(struct hier *h)
{
	const char *t = h->o->tld;
	FILE *f = h->tld;

	fprintf(f, "; the TLD's servers, every server's address, the "
		   "delegations to the providers\n");
	fprintf(f, "%s.\t%d\tIN\tNS\ta.nic.%s.\n%s.\t%d\tIN\tNS\tb.nic.%s.\n",
		t, TTL, t, t, TTL, t);
	put_server_names(f, t, h->n_prov);
	for (size_t i = 0; i < h->n_dom; i++) {
		const struct hdom *d = &h->dom[i];

		if (!d->zone)
			continue;
		for (unsigned j = 1; j <= 2; j++)
			fprintf(f, "%s.\t%d\tIN\tNS\tns%u.dns%02u.%s.\n", d->name,
				TTL, j, d->prov, t);
	}
}

static int write_root(struct hier *h)
{
	const char *t = h->o->tld;
	FILE *f = NULL;
	int ret = open_rel(h, "hier/root.zone", "w", &f);

	if (ret != ST_OK)
		return ret;
	fprintf(f, "; stsmap world hierarchy: the root zone\n");
	fprintf(f, ".\t%d\tIN\tSOA\ta.root-servers.%s. hostmaster.%s. %u "
		   "1800 900 604800 300\n", TTL, t, t,
		(unsigned)(uint32_t)h->o->now);
	fprintf(f, ".\t%d\tIN\tNS\ta.root-servers.%s.\n"
		   ".\t%d\tIN\tNS\tb.root-servers.%s.\n", TTL, t, TTL, t);
	fprintf(f, "%s.\t%d\tIN\tNS\ta.nic.%s.\n%s.\t%d\tIN\tNS\tb.nic.%s.\n",
		t, TTL, t, t, TTL, t);
	/* Glue: the root's own names and the TLD's live below the cut. */
	put_server_names(f, t, 0);
	ret = close_f(&f);
	if (ret != ST_OK)
		return ret;
	ret = open_rel(h, "hier/root.hints", "w", &f);
	if (ret != ST_OK)
		return ret;
	fprintf(f, "; stsmap world hierarchy: root hints\n"
		   ".\t3600000\tIN\tNS\ta.root-servers.%s.\n"
		   ".\t3600000\tIN\tNS\tb.root-servers.%s.\n"
		   "a.root-servers.%s.\t3600000\tIN\tA\t%s.1\n"
		   "b.root-servers.%s.\t3600000\tIN\tA\t%s.2\n",
		t, t, t, ADDR_ROOT, t, ADDR_ROOT);
	return close_f(&f);
}

static int write_manifests(struct hier *h)
{
	const char *t = h->o->tld;
	FILE *f = NULL;
	int ret = open_rel(h, "hier/servers.txt", "w", &f);

	if (ret != ST_OK)
		return ret;
	fprintf(f, "# SERVER ADDR ADDR: one authoritative NSD each\n"
		   "root %s.1 %s.2\ntld %s.1 %s.2\n", ADDR_ROOT, ADDR_ROOT,
		ADDR_TLD, ADDR_TLD);
	for (unsigned k = 1; k <= h->n_prov; k++)
		fprintf(f, "dns%02u 127.20.%u.1 127.20.%u.2\n", k, 1 + k, 1 + k);
	ret = close_f(&f);
	if (ret == ST_OK)
		ret = open_rel(h, "hier/zones.txt", "w", &f);
	if (ret != ST_OK)
		return ret;
	fprintf(f, "# ZONE SERVER FILE PARENT: children before parents\n");
	for (size_t i = 0; i < h->n_dom; i++) {
		const struct hdom *d = &h->dom[i];

		if (d->zone)
			fprintf(f, "%s. dns%02u zones/%s.zone %s.\n", d->name,
				d->prov, d->name, t);
	}
	fprintf(f, "%s. tld %s.zone .\n. root root.zone -\n", t, t);
	h->st.n_servers = 2 + h->n_prov;
	return close_f(&f);
}

static int run(struct hier *h)
{
	char rel[DS_WORLD_TLD_MAX + 16];
	int ret = load_domains(h);

	if (ret == ST_OK)
		ret = survey(h);
	if (ret == ST_OK)
		ret = make_dir(h, "hier");
	if (ret == ST_OK)
		ret = make_dir(h, "hier/zones");
	snprintf(rel, sizeof(rel), "hier/%s.zone", h->o->tld);
	if (ret == ST_OK)
		ret = open_rel(h, rel, "w", &h->tld);
	if (ret != ST_OK)
		return ret;
	fprintf(h->tld, "; stsmap world hierarchy: zone %s.\n", h->o->tld);
	ret = split(h);
	if (ret == ST_OK)
		write_tld_tail(h);
	if (ret == ST_OK)
		ret = write_root(h);
	if (ret == ST_OK)
		ret = write_manifests(h);
	return ret;
}

int ds_world_hier_generate(const struct ds_world_opts *opts,
			   unsigned n_providers,
			   struct ds_world_hier_stats *stats)
{
	struct hier h = { .o = opts, .n_prov = n_providers };
	int ret, r2;

	if (opts == NULL || opts->out_dir == NULL || opts->tld == NULL ||
	    strlen(opts->tld) > DS_WORLD_TLD_MAX || n_providers == 0 ||
	    n_providers > DS_WORLD_HIER_PROVIDERS_MAX)
		return ST_EINVAL;
	st_hmap_init(&h.map);
	ret = run(&h);
	r2 = close_f(&h.cur);
	ret = ret == ST_OK ? r2 : ret;
	r2 = close_f(&h.tld);
	ret = ret == ST_OK ? r2 : ret;
	if (ret == ST_OK && stats != NULL)
		*stats = h.st;
	st_hmap_free(&h.map);
	for (size_t i = 0; i < h.n_dom; i++)
		free(h.dom[i].name);
	free(h.dom);
	free(h.line);
	return ret;
}
