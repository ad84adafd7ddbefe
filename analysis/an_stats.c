/*
 * an_stats.c - the report accumulator (see an_stats.h for the definitions
 * of every counter).
 */
#include "an_stats.h"

#include <ctype.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "an_policy.h"
#include "st_error.h"
#include "st_hmap.h"

const uint64_t AN_STATS_AGE_EDGES[AN_AGE_COUNT] = {
	0, 86400, 7 * 86400, 14 * 86400, 30 * 86400, 365 * 86400 };
const uint64_t AN_STATS_TIER_MAX[AN_TIER_COUNT] = {
	1000, 10000, 100000, 1000000 };

struct key_entry {
	char key[AN_STATS_KEY_MAX + 1];
	struct an_stats_row row;   /* row.key points to key */
};

/* A bounded key -> row table: entries live in pool[0..n); the map's keys
 * point into the entries, so a prune (which compacts the pool) rebuilds
 * the map. */
struct key_table {
	struct st_hmap map;
	struct key_entry *pool;
	uint64_t *scratch;         /* cap counts, for the prune's median */
	uint64_t *fc;              /* cap * AN_F_COUNT per-code domain counts
				    * (pool order), or NULL: no findings */
	uint64_t other_fc[AN_F_COUNT], total_fc[AN_F_COUNT];
	size_t cap, n;
	struct an_stats_table info;
};

/* MX hosts repeat (a provider's hosts serve many domains): a direct-mapped
 * cache of host -> provider key saves most public suffix list walks.  The
 * key is always a suffix of the host (lower-cased, trailing dot dropped),
 * so a slot keeps the host and where its key starts.  4 MB. */
#define PROVIDER_CACHE 16384

struct provider_slot {
	char host[AN_STATS_KEY_MAX + 1];
	uint8_t off, len;          /* the key is host[off, off + len) */
};

struct an_stats {
	struct an_stats_counts c;
	struct key_table tab[AN_TABLE_COUNT];
	struct st_hmap codes;      /* finding name -> index + 1 */
	struct provider_slot *cache; /* PROVIDER_CACHE slots */
};

static const char *const age_names[AN_AGE_COUNT] = {
	"lt-1d", "1d-1w", "1w-2w", "2w-30d", "30d-1y", "ge-1y" };
static const char *const tier_names[AN_TIER_COUNT] = {
	"top-1k", "top-10k", "top-100k", "top-1m" };
static const char *const mode_names[AN_SMODE_COUNT] = {
	"enforce", "testing", "none" };
static const char *const table_names[AN_TABLE_COUNT] = {
	"tld", "mx_provider", "policy_host", "group" };

const char *an_stats_age_name(enum an_stats_age b)
{
	return (unsigned)b < AN_AGE_COUNT ? age_names[b] : "unknown";
}

const char *an_stats_tier_name(enum an_stats_tier t)
{
	return (unsigned)t < AN_TIER_COUNT ? tier_names[t] : "unknown";
}

const char *an_stats_mode_name(enum an_stats_mode m)
{
	return (unsigned)m < AN_SMODE_COUNT ? mode_names[m] : "unknown";
}

const char *an_stats_table_name(enum an_stats_table_id t)
{
	return (unsigned)t < AN_TABLE_COUNT ? table_names[t] : "unknown";
}

enum an_stats_age an_stats_age_bucket(uint64_t max_age)
{
	enum an_stats_age b = AN_AGE_LT_1D;

	for (size_t i = 1; i < AN_AGE_COUNT; i++) {
		if (max_age >= AN_STATS_AGE_EDGES[i])
			b = (enum an_stats_age)i;
	}
	return b;
}

bool an_stats_has_sts(const struct an_record *rec)
{
	return rec->sts_dns == AN_DNS_NOERROR && rec->verdict != AN_V_NO_POLICY;
}

bool an_stats_usable(const struct an_record *rec)
{
	switch (rec->verdict) {
	case AN_V_NONE_MODE:
	case AN_V_TESTING:
	case AN_V_ENFORCE_OK:
	case AN_V_ENFORCE_MX_MISMATCH:
	case AN_V_ENFORCE_DELIVERY_FAILURE:
		return true;
	case AN_V_UNDETERMINED:
		/* The MX lookup failed, or an MX host could not be probed,
		 * under an enforce policy: the policy is fine, what a sender
		 * would do with it is not known. */
		return rec->sts_dns == AN_DNS_NOERROR && rec->sts_id != NULL &&
		       rec->policy_usable && rec->mode == AN_MODE_ENFORCE;
	default:
		return false;
	}
}

/* --- bounded key tables --- */

/* findings: keep per-code domain counts for each row (the group table). */
static int table_init(struct key_table *t, size_t cap, bool findings)
{
	st_hmap_init(&t->map);
	t->cap = cap;
	t->n = 0;
	memset(&t->info, 0, sizeof(t->info));
	memset(t->other_fc, 0, sizeof(t->other_fc));
	memset(t->total_fc, 0, sizeof(t->total_fc));
	t->info.other.key = "(other)";
	t->info.total.key = "(total)";
	t->pool = calloc(cap, sizeof(*t->pool));
	t->scratch = calloc(cap, sizeof(*t->scratch));
	t->fc = findings ? calloc(cap, sizeof(uint64_t) * AN_F_COUNT) : NULL;
	if (t->pool == NULL || t->scratch == NULL || (findings && t->fc == NULL))
		return ST_ENOMEM;
	if (findings) {
		t->info.other.findings = t->other_fc;
		t->info.total.findings = t->total_fc;
	}
	return ST_OK;
}

static void table_free(struct key_table *t)
{
	st_hmap_free(&t->map);
	free(t->pool);
	free(t->scratch);
	free(t->fc);
}

static void row_fold(struct an_stats_row *into, const struct an_stats_row *r)
{
	into->domains += r->domains;
	into->sts_record += r->sts_record;
	into->policy_usable += r->policy_usable;
	into->enforce += r->enforce;
	for (size_t v = 0; v < AN_V_COUNT; v++)
		into->verdicts[v] += r->verdicts[v];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Rebuild the map over pool[0..n).  The map already has room for cap keys
 * (it held them before), so the puts cannot fail. */
static void table_reindex(struct key_table *t)
{
	st_hmap_clear(&t->map);
	for (size_t i = 0; i < t->n; i++) {
		t->pool[i].row.key = t->pool[i].key;
		t->pool[i].row.findings = t->fc != NULL
			? &t->fc[i * AN_F_COUNT] : NULL;
		(void)st_hmap_put(&t->map, t->pool[i].key, &t->pool[i]);
	}
}

/* Fold every key counted at most the median into "other" (at least half
 * of the table), keeping the rest in pool order. */
static void table_prune(struct key_table *t)
{
	uint64_t median;
	size_t kept = 0;

	for (size_t i = 0; i < t->n; i++)
		t->scratch[i] = t->pool[i].row.domains;
	qsort(t->scratch, t->n, sizeof(t->scratch[0]), cmp_u64);
	median = t->scratch[t->n / 2 - 1];
	for (size_t i = 0; i < t->n; i++) {
		uint64_t *fc = t->fc != NULL ? &t->fc[i * AN_F_COUNT] : NULL;

		if (t->pool[i].row.domains <= median) {
			row_fold(&t->info.other, &t->pool[i].row);
			for (size_t k = 0; fc != NULL && k < AN_F_COUNT; k++)
				t->other_fc[k] += fc[k];
			t->info.pruned++;
			continue;
		}
		if (kept != i) {
			t->pool[kept] = t->pool[i];
			if (fc != NULL)
				memcpy(&t->fc[kept * AN_F_COUNT], fc,
				       sizeof(uint64_t) * AN_F_COUNT);
		}
		kept++;
	}
	t->n = kept;
	table_reindex(t);
}

/* The row of key (admitted if new), or "other" if the map's index could
 * not grow (allocation failure): never NULL. */
static struct an_stats_row *table_row(struct key_table *t, const char *key)
{
	struct key_entry *e = st_hmap_get(&t->map, key);

	if (e != NULL)
		return &e->row;
	if (t->n == t->cap)
		table_prune(t);
	e = &t->pool[t->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->row.key = e->key;
	if (t->fc != NULL) {
		e->row.findings = &t->fc[t->n * AN_F_COUNT];
		memset(&t->fc[t->n * AN_F_COUNT], 0,
		       sizeof(uint64_t) * AN_F_COUNT);
	}
	if (st_hmap_put(&t->map, e->key, e) != ST_OK)
		return &t->info.other;
	t->n++;
	t->info.n_keys = t->n;
	return &e->row;
}

static void row_count(struct an_stats_row *r, const struct an_record *rec,
		      bool sts, bool usable)
{
	r->domains++;
	r->sts_record += sts;
	r->policy_usable += usable;
	r->enforce += usable && rec->mode == AN_MODE_ENFORCE;
	if (rec->verdict < AN_V_COUNT)
		r->verdicts[rec->verdict]++;
}

static void table_count(struct key_table *t, const char *key,
			const struct an_record *rec, bool sts, bool usable)
{
	row_count(table_row(t, key), rec, sts, usable);
	row_count(&t->info.total, rec, sts, usable);
	t->info.n_keys = t->n;
}

/* table_count() for a table with per-code counts: seen[i] & 1 when the
 * domain has code i (count_findings()). */
static void table_count_codes(struct key_table *t, const char *key,
			      const struct an_record *rec, bool sts,
			      bool usable, const uint8_t *seen)
{
	struct an_stats_row *r = table_row(t, key);
	/* "other" when the index could not grow: its counts are other_fc */
	uint64_t *fc = r == &t->info.other ? t->other_fc
		       : (uint64_t *)(uintptr_t)r->findings;

	row_count(r, rec, sts, usable);
	row_count(&t->info.total, rec, sts, usable);
	for (size_t k = 0; k < AN_F_COUNT; k++) {
		fc[k] += seen[k] & 1;
		t->total_fc[k] += seen[k] & 1;
	}
	t->info.n_keys = t->n;
}

/* --- life cycle --- */

int an_stats_new(size_t key_cap, struct an_stats **out)
{
	struct an_stats *st;
	int ret = ST_OK;

	if (out == NULL)
		return ST_EINVAL;
	*out = NULL;
	if (key_cap == 0)
		key_cap = AN_STATS_KEY_CAP_DEFAULT;
	if (key_cap < 2)
		return ST_EINVAL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ST_ENOMEM;
	st_hmap_init(&st->codes);
	st->cache = calloc(PROVIDER_CACHE, sizeof(*st->cache));
	if (st->cache == NULL)
		ret = ST_ENOMEM;
	for (size_t t = 0; t < AN_TABLE_COUNT && ret == ST_OK; t++)
		ret = table_init(&st->tab[t], key_cap, t == AN_TABLE_GROUP);
	for (size_t i = 0; i < AN_F_COUNT && ret == ST_OK; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)i);

		if (ci != NULL && ci->name != NULL)
			ret = st_hmap_put(&st->codes, ci->name,
					  (void *)(uintptr_t)(i + 1));
	}
	if (ret != ST_OK)
		goto fail;
	*out = st;
	return ST_OK;
fail:
	an_stats_free(st);
	return ret;
}

void an_stats_free(struct an_stats *st)
{
	if (st == NULL)
		return;
	for (size_t t = 0; t < AN_TABLE_COUNT; t++)
		table_free(&st->tab[t]);
	st_hmap_free(&st->codes);
	free(st->cache);
	free(st);
}

const struct an_stats_counts *an_stats_counts(const struct an_stats *st)
{
	return &st->c;
}

const struct an_stats_table *an_stats_table(const struct an_stats *st,
					    enum an_stats_table_id t)
{
	return (unsigned)t < AN_TABLE_COUNT ? &st->tab[t].info : NULL;
}

/* --- providers --- */

static bool is_ip_literal(const char *h)
{
	if (strchr(h, ':') != NULL)
		return true;
	for (; *h != '\0'; h++) {
		if (!isdigit((unsigned char)*h) && *h != '.')
			return false;
	}
	return true;
}

static int copy_key(const char *s, size_t len, char *out, size_t cap)
{
	if (len + 1 > cap)
		return ST_ESPACE;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	return ST_OK;
}

int an_stats_provider(const char *host, char *out, size_t cap)
{
	char name[AN_STATS_KEY_MAX + 2];
	const char *reg, *p;
	size_t len;
	int dots = 0;

	if (host == NULL || out == NULL || cap == 0)
		return ST_EINVAL;
	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return ST_EINVAL;
	if (len > AN_STATS_KEY_MAX)
		len = AN_STATS_KEY_MAX; /* not a DNS name; still a key */
	copy_key(host, len, name, sizeof(name));
	if (is_ip_literal(name) || strchr(name, '.') == NULL)
		return copy_key(name, len, out, cap);
	reg = psl_registrable_domain(psl_builtin(), name);
	if (reg != NULL)
		return copy_key(reg, strlen(reg), out, cap);
	/* Not under a known suffix (a test TLD, or a suffix itself): the
	 * last two labels. */
	for (p = name + len; p > name; p--) {
		if (p[-1] == '.' && ++dots == 2)
			break;
	}
	return copy_key(p, len - (size_t)(p - name), out, cap);
}

/* an_stats_provider through the cache. */
static int provider_cached(struct an_stats *st, const char *host, char *out,
			   size_t cap)
{
	struct provider_slot *c;
	size_t hl, kl;
	int ret;

	if (host == NULL || (hl = strlen(host)) > AN_STATS_KEY_MAX)
		return an_stats_provider(host, out, cap);
	c = &st->cache[st_hash_str(host) & (PROVIDER_CACHE - 1)];
	if (memcmp(c->host, host, hl + 1) == 0 && c->len > 0)
		return copy_key(c->host + c->off, c->len, out, cap);
	ret = an_stats_provider(host, out, cap);
	kl = ret == ST_OK ? strlen(out) : 0;
	/* Cache only what is a suffix of the host, as the key always is
	 * (modulo case and a trailing dot). */
	if (kl > 0 && kl <= hl) {
		size_t off = hl - kl - (hl > 0 && host[hl - 1] == '.');

		if (off + kl <= hl && strncasecmp(host + off, out, kl) == 0) {
			memcpy(c->host, host, hl + 1);
			c->off = (uint8_t)off;
			c->len = (uint8_t)kl;
		}
	}
	return ret;
}

/* --- counting --- */

/* seen (AN_F_COUNT bytes) gets bit 0 for each code the domain has, bit 1
 * for each it has as an error. */
static void count_findings(struct an_stats *st, const struct an_record *rec,
			   bool sts, uint8_t *seen)
{
	struct an_stats_counts *c = &st->c;
	bool unknown = false, err = false, warn = false;

	memset(seen, 0, AN_F_COUNT);
	for (size_t i = 0; i < rec->n_findings; i++) {
		const struct an_record_finding *f = &rec->findings[i];
		uintptr_t idx = f->code != NULL
			? (uintptr_t)st_hmap_get(&st->codes, f->code) : 0;

		err |= f->severity == AN_SEV_ERROR;
		warn |= f->severity == AN_SEV_WARN;
		if (idx == 0) {
			unknown = true;
			continue;
		}
		idx--;
		if (f->severity == AN_SEV_ERROR && !(seen[idx] & 2)) {
			seen[idx] |= 2;
			c->findings[idx].error++;
		}
		if (seen[idx] & 1)
			continue;
		seen[idx] |= 1;
		c->findings[idx].domains++;
		c->findings[idx].sts_domains += sts;
	}
	c->findings_unknown += unknown;
	c->findings_truncated += rec->n_findings_total > rec->n_findings;
	c->with_error += err;
	c->with_warn += warn && !err;
}

static void count_policy(struct an_stats_counts *c,
			 const struct an_record *rec)
{
	switch (rec->mode) {
	case AN_MODE_ENFORCE: c->modes[AN_SMODE_ENFORCE]++; break;
	case AN_MODE_TESTING: c->modes[AN_SMODE_TESTING]++; break;
	case AN_MODE_NONE: c->modes[AN_SMODE_NONE]++; break;
	default: break;
	}
	if (rec->have_max_age)
		c->max_age[an_stats_age_bucket(rec->max_age)]++;
	else
		c->max_age_missing++;
}

static void count_tiers(struct an_stats_counts *c,
			const struct an_record *rec, bool sts, bool usable)
{
	if (rec->rank == 0)
		return;
	c->ranked++;
	for (size_t t = 0; t < AN_TIER_COUNT; t++) {
		struct an_stats_tier_row *r = &c->tiers[t];

		if (rec->rank > AN_STATS_TIER_MAX[t])
			continue;
		r->domains++;
		r->sts_record += sts;
		r->policy_usable += usable;
		r->enforce += usable && rec->mode == AN_MODE_ENFORCE;
		r->tlsrpt += rec->tlsrpt_valid;
	}
}

static void count_dane(struct an_stats_counts *c,
		       const struct an_stats_extra *x, bool usable)
{
	bool all;

	if (x == NULL || x->n_probed == 0)
		return;
	all = x->n_tlsa == x->n_probed;
	c->dane_probed++;
	c->dane_tlsa_any += x->n_tlsa > 0;
	c->dane_tlsa_all += all;
	c->dane_tlsa_all_secure += all && x->n_tlsa_secure == x->n_probed;
	c->dane_with_policy += all && usable;
}

/* The domain's distinct MX providers, each counted once. */
static void count_mx_providers(struct an_stats *st,
			       const struct an_record *rec, bool sts,
			       bool usable)
{
	char keys[AN_RECORD_MX_MAX][AN_STATS_KEY_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; i < rec->n_mx && i < AN_RECORD_MX_MAX; i++) {
		bool dup = false;

		if (rec->mx[i].name == NULL ||
		    provider_cached(st, rec->mx[i].name, keys[n],
				    sizeof(keys[n])) != ST_OK)
			continue; /* null MX, or not a name */
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(keys[j], keys[n]) == 0;
		if (dup)
			continue;
		table_count(&st->tab[AN_TABLE_MX_PROVIDER], keys[n], rec, sts,
			    usable);
		n++;
	}
}

/* The provider key of the domain's policy host: the CNAME target of
 * mta-sts.D if any, else mta-sts.D itself. */
static int policy_host_key(struct an_stats *st, const struct an_record *rec,
			   char *key, size_t cap)
{
	char host[AN_STATS_KEY_MAX + 16];

	if (rec->ph_cname != NULL && rec->ph_cname[0] != '\0') {
		st->c.ph_cname++;
		if (provider_cached(st, rec->ph_cname, key, cap) == ST_OK)
			return ST_OK;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", rec->domain);
	return an_stats_provider(host, key, cap);
}

static void count_tables(struct an_stats *st, const struct an_record *rec,
			 bool sts, bool usable)
{
	char key[AN_STATS_KEY_MAX + 1];
	const char *tld = strrchr(rec->domain, '.');

	tld = tld != NULL ? tld + 1 : rec->domain;
	if (copy_key(tld, strlen(tld), key, sizeof(key)) == ST_OK)
		table_count(&st->tab[AN_TABLE_TLD], key, rec, sts, usable);
	count_mx_providers(st, rec, sts, usable);
	if (sts && policy_host_key(st, rec, key, sizeof(key)) == ST_OK)
		table_count(&st->tab[AN_TABLE_POLICY_HOST], key, rec, sts,
			    usable);
}

int an_stats_add(struct an_stats *st, const struct an_record *rec,
		 const struct an_stats_extra *x)
{
	struct an_stats_counts *c;
	uint8_t seen[AN_F_COUNT];
	bool sts, usable;

	if (st == NULL || rec == NULL || rec->domain == NULL)
		return ST_EINVAL;
	c = &st->c;
	sts = an_stats_has_sts(rec);
	usable = an_stats_usable(rec);
	c->domains++;
	c->sts_record += sts;
	c->sts_valid += rec->sts_id != NULL;
	c->policy_usable += usable;
	if (rec->verdict < AN_V_COUNT)
		c->verdicts[rec->verdict]++;
	else
		c->verdict_unknown++;
	if (usable)
		count_policy(c, rec);
	count_findings(st, rec, sts, seen);
	if (rec->tlsrpt_valid) {
		c->tlsrpt++;
		c->tlsrpt_with_sts += sts;
		c->tlsrpt_without_sts += !sts;
	}
	count_dane(c, x, usable);
	count_tiers(c, rec, sts, usable);
	count_tables(st, rec, sts, usable);
	if (x != NULL && x->group != NULL)
		table_count_codes(&st->tab[AN_TABLE_GROUP], x->group, rec, sts,
				  usable, seen);
	return ST_OK;
}

/* --- reading tables --- */

static int cmp_row(const void *a, const void *b)
{
	const struct an_stats_row *x = a, *y = b;

	if (x->domains != y->domains)
		return x->domains > y->domains ? -1 : 1;
	return strcmp(x->key, y->key);
}

size_t an_stats_top(const struct an_stats *st, enum an_stats_table_id t,
		    struct an_stats_row *out, size_t max)
{
	const struct key_table *kt;
	size_t n = 0;

	if (st == NULL || out == NULL || (unsigned)t >= AN_TABLE_COUNT)
		return 0;
	kt = &st->tab[t];
	/* Keep the max best rows in out: insertion into a sorted array is
	 * fine for the few dozen rows a report shows. */
	for (size_t i = 0; i < kt->n; i++) {
		const struct an_stats_row *r = &kt->pool[i].row;
		size_t pos = n;

		while (pos > 0 && cmp_row(r, &out[pos - 1]) < 0)
			pos--;
		if (pos >= max)
			continue;
		if (n < max)
			n++;
		memmove(&out[pos + 1], &out[pos], (n - 1 - pos) * sizeof(*out));
		out[pos] = *r;
	}
	return n;
}
