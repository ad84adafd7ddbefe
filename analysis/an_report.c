/*
 * an_report.c - the store walk behind `stsmap report`, the writer table and
 * the helpers the writers share.
 */
#include "an_report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_record.h"
#include "st_error.h"
#include "st_hmap.h"

static const struct an_report_writer writers[] = {
	{ "text", "aligned tables for a terminal (default)",
	  an_report_write_text },
	{ "json", "one JSON object, keys documented in the README",
	  an_report_write_json },
	{ "html", "one self-contained page with SVG charts",
	  an_report_write_html },
};

const struct an_report_writer *an_report_writer(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
		if (strcmp(writers[i].name, name) == 0)
			return &writers[i];
	}
	return NULL;
}

const struct an_report_writer *an_report_writers(size_t *n)
{
	*n = sizeof(writers) / sizeof(writers[0]);
	return writers;
}

/* --- the walk --- */

/* A domain's MX hosts are mostly a provider's, shared with many domains:
 * a direct-mapped cache of host -> probe facts saves most lookups. */
#define PROBE_CACHE 16384 /* 4 MB */

struct probe_slot {
	char host[DS_STORE_NAME_MAX + 1];
	bool probed, tlsa, tlsa_secure;
};

struct walk {
	const struct an_groups *groups;
	struct probe_slot *cache;   /* PROBE_CACHE slots, when probes exist */
	struct ds_reader *r;
	uint32_t scan;
	struct an_stats *stats;
	struct an_report *rep;
	struct an_report_scan *trend;
	size_t n_trend;
};

/* The probe facts of host (a probe record that probed something). */
static bool probe_of(struct walk *w, const char *host,
		     struct probe_slot *out)
{
	struct an_probe_record p;
	struct probe_slot *c;
	const uint8_t *data;
	size_t len, hl;

	if (host == NULL || host[0] == '\0')
		return false;
	hl = strlen(host);
	c = &w->cache[st_hash_str(host) & (PROBE_CACHE - 1)];
	if (hl <= DS_STORE_NAME_MAX && memcmp(c->host, host, hl + 1) == 0) {
		*out = *c;
		return out->probed;
	}
	memset(out, 0, sizeof(*out));
	if (ds_reader_probe(w->r, w->scan, host, &data, &len) == ST_OK &&
	    an_probe_record_decode(data, len, &p) == ST_OK &&
	    p.status != AN_PROBE_NOT_PROBED) {
		out->probed = true;
		out->tlsa = p.tlsa;
		out->tlsa_secure = p.tlsa && p.tlsa_secure;
	}
	if (hl <= DS_STORE_NAME_MAX) {
		*c = *out;
		memcpy(c->host, host, hl + 1);
	}
	return out->probed;
}

/* DANE facts of one domain from the probe records of its MX hosts (one
 * B-tree lookup each, in the same snapshot: no table in memory).  Without
 * MX records the domain itself is the MX (RFC 5321 §5.1), and the scanner
 * probes it under its own name. */
static void probe_facts(struct walk *w, const struct an_record *rec,
			struct an_stats_extra *x)
{
	bool implicit = rec->n_mx == 0 && (rec->mx_dns == AN_DNS_NODATA ||
					   rec->mx_dns == AN_DNS_NOERROR);
	size_t n = implicit ? 1 : rec->n_mx;

	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < n; i++) {
		struct probe_slot p;

		if (!probe_of(w, implicit ? rec->domain : rec->mx[i].name, &p))
			continue;
		x->n_probed++;
		x->n_tlsa += p.tlsa;
		x->n_tlsa_secure += p.tlsa_secure;
	}
}

static int on_result(const char *domain, size_t domain_len,
		     const uint8_t *data, size_t len, void *arg)
{
	struct walk *w = arg;
	struct an_stats_extra x;
	struct an_record rec;

	(void)domain;
	(void)domain_len;
	if (an_record_decode(data, len, &rec) != ST_OK) {
		w->rep->undecodable++;
		return 0;
	}
	memset(&x, 0, sizeof(x));
	if (w->rep->probes > 0)
		probe_facts(w, &rec, &x);
	if (w->groups != NULL) {
		x.group = an_groups_of(w->groups, rec.domain);
		if (x.group == NULL)
			x.group = AN_GROUP_NONE;
	}
	if (an_stats_add(w->stats, &rec,
			 w->rep->probes > 0 || w->groups != NULL ? &x : NULL) !=
	    ST_OK)
		w->rep->undecodable++;
	return 0;
}

static int on_probe(const char *host, size_t host_len, const uint8_t *data,
		    size_t len, void *arg)
{
	struct walk *w = arg;
	struct an_probe_record p;

	(void)host;
	(void)host_len;
	if (an_probe_record_decode(data, len, &p) != ST_OK)
		w->rep->probes_undecodable++;
	else
		w->rep->probes++;
	return 0;
}

/* One trend point per scan; the latest AN_REPORT_TREND_MAX are kept. */
static int on_scan(const struct ds_scan_info *info, void *arg)
{
	struct walk *w = arg;
	struct an_report_scan *p;
	const uint64_t *v = info->verdicts;

	if (w->n_trend == AN_REPORT_TREND_MAX) {
		memmove(w->trend, w->trend + 1,
			(AN_REPORT_TREND_MAX - 1) * sizeof(*w->trend));
		w->n_trend--;
	}
	p = &w->trend[w->n_trend++];
	memset(p, 0, sizeof(*p));
	p->id = info->id;
	p->state = info->state;
	memcpy(p->label, info->label, sizeof(p->label));
	p->label[sizeof(p->label) - 1] = '\0';
	p->started = info->started;
	p->finished = info->finished;
	p->domains = info->n_results;
	p->enforce = v[AN_V_ENFORCE_OK] + v[AN_V_ENFORCE_MX_MISMATCH] +
		     v[AN_V_ENFORCE_DELIVERY_FAILURE];
	p->enforce_ok = v[AN_V_ENFORCE_OK];
	p->usable = p->enforce + v[AN_V_TESTING] + v[AN_V_NONE_MODE];
	p->announced = p->usable + v[AN_V_POLICY_INVALID];
	return 0;
}

int an_report_build(struct ds_reader *r, const struct an_report_opts *o,
		    struct an_report **out)
{
	struct an_report_opts def = { 0 };
	struct an_report *rep = NULL;
	struct walk w = { .r = r };
	int ret;

	if (r == NULL || out == NULL)
		return ST_EINVAL;
	*out = NULL;
	if (o == NULL)
		o = &def;
	rep = calloc(1, sizeof(*rep));
	w.trend = calloc(AN_REPORT_TREND_MAX, sizeof(*w.trend));
	if (rep == NULL || w.trend == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	w.rep = rep;
	rep->trend = w.trend;
	rep->top = o->top == 0 ? AN_REPORT_TOP_DEFAULT
			       : o->top > AN_REPORT_TOP_MAX ? AN_REPORT_TOP_MAX
							    : o->top;
	rep->generated = o->now != 0 ? o->now : (int64_t)time(NULL);
	rep->version = o->version;
	rep->grouped = o->groups != NULL;
	w.groups = o->groups;
	ret = o->scan != 0 ? ds_reader_scan(r, o->scan, &rep->scan)
			   : ds_reader_scan_latest(r, &rep->scan);
	if (ret != ST_OK)
		goto fail;
	w.scan = rep->scan.id;
	ret = an_stats_new(o->key_cap, &w.stats);
	if (ret != ST_OK)
		goto fail;
	rep->stats = w.stats;
	ret = ds_reader_scans(r, on_scan, &w);
	if (ret == ST_OK)
		ret = ds_reader_probes(r, w.scan, on_probe, &w);
	if (ret == ST_OK && rep->probes > 0) {
		w.cache = calloc(PROBE_CACHE, sizeof(*w.cache));
		ret = w.cache != NULL ? ST_OK : ST_ENOMEM;
	}
	if (ret == ST_OK)
		ret = ds_reader_results(r, w.scan, on_result, &w);
	if (ret != ST_OK)
		goto fail;
	rep->n_trend = w.n_trend;
	free(w.cache);
	*out = rep;
	return ST_OK;
fail:
	free(w.cache);
	if (rep != NULL)
		rep->trend = w.trend;
	else
		free(w.trend);
	an_report_free(rep);
	return ret;
}

void an_report_free(struct an_report *rep)
{
	if (rep == NULL)
		return;
	an_stats_free((struct an_stats *)rep->stats);
	free((void *)rep->trend);
	free(rep);
}

/* --- helpers --- */

double an_report_pct(uint64_t num, uint64_t den)
{
	return den == 0 ? 0.0 : 100.0 * (double)num / (double)den;
}

char *an_report_num(uint64_t v, char *buf, size_t cap)
{
	char tmp[32];
	size_t n, o = 0;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0 && o + 2 < cap)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	if (cap > 0)
		buf[o < cap ? o : cap - 1] = '\0';
	return buf;
}

char *an_report_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, cap, "-");
		return buf;
	}
	strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

void an_report_rest(const struct an_stats_table *info,
		    const struct an_stats_row *rows, size_t n,
		    struct an_stats_row *rest)
{
	*rest = info->total;
	rest->key = "(other)";
	rest->findings = NULL; /* per-code counts are not subtracted */
	for (size_t i = 0; i < n; i++) {
		rest->domains -= rows[i].domains;
		rest->sts_record -= rows[i].sts_record;
		rest->policy_usable -= rows[i].policy_usable;
		rest->enforce -= rows[i].enforce;
		for (size_t v = 0; v < AN_V_COUNT; v++)
			rest->verdicts[v] -= rows[i].verdicts[v];
	}
}

size_t an_report_row_findings(const struct an_stats_row *r, unsigned *idx,
			      size_t max)
{
	size_t n = 0;

	if (r == NULL || r->findings == NULL)
		return 0;
	for (unsigned i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)i);
		size_t pos;

		if (ci == NULL || r->findings[i] == 0 ||
		    ci->severity < AN_SEV_WARN)
			continue;
		/* Insertion into the top max, stable. */
		pos = n < max ? n : max;
		while (pos > 0 && r->findings[idx[pos - 1]] < r->findings[i]) {
			if (pos < max)
				idx[pos] = idx[pos - 1];
			pos--;
		}
		if (pos < max) {
			idx[pos] = i;
			if (n < max)
				n++;
		}
	}
	return n;
}

size_t an_report_findings_order(const struct an_stats_counts *c,
				enum an_severity min_sev, unsigned *idx)
{
	size_t n = 0;

	for (unsigned i = 0; i < AN_F_COUNT; i++) {
		const struct an_code_info *ci = an_code_info((enum an_code)i);
		size_t pos;

		if (ci == NULL || c->findings[i].domains == 0 ||
		    ci->severity < min_sev)
			continue;
		/* Insertion sort, stable: at most AN_F_COUNT codes. */
		pos = n;
		while (pos > 0 &&
		       c->findings[idx[pos - 1]].domains < c->findings[i].domains) {
			idx[pos] = idx[pos - 1];
			pos--;
		}
		idx[pos] = i;
		n++;
	}
	return n;
}
