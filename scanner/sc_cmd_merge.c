/*
 * sc_cmd_merge.c - `stsmap merge OUT SHARD...`: combine the stores of a
 * sharded scan (`stsmap scan --shard I/N` on N machines) into one new scan
 * in OUT that reports exactly like a single-machine scan of the same
 * input (DESIGN §7).
 *
 * What the merged scan holds:
 *   results       every shard's records, byte for byte (so rank, time,
 *                 findings and verdicts are the shards' own);
 *   bodies        every policy body those records refer to;
 *   probes        one per MX host: a host probed by several shards keeps
 *                 the probe of the lowest shard index (a single machine
 *                 probes each host once);
 *   input errors  every shard reads the whole input, so each holds the
 *                 same bad lines: kept once per (input, line);
 *   counters      n_results and verdicts counted from the copied records,
 *                 n_input_errors from the merged bad lines;
 *   metadata      label (--label, else the first shard's), shard 0/1,
 *                 started = earliest shard start, finished = latest shard
 *                 end, an input key derived from the shards' keys, the
 *                 shards' typed options and input digests, and
 *                 meta_json {"tool","version","command","merge":{...}}
 *                 listing each shard merged (store, scan, shard, label,
 *                 input key, state, times, counts, and its own meta).
 *
 * What is refused (nothing is written to OUT then):
 *   - shards of different partitions (shard_count differs), two shards
 *     with the same index, or a shard holding a domain that `--shard I/N`
 *     would not have given it (ds_shard_of): with these checks no domain
 *     can be in two shards;
 *   - unsharded scans (N = 1) given together are allowed, but a domain in
 *     more than one of them is refused: which record would be "the" one
 *     is not ours to choose;
 *   - shards whose inputs differ (the inputs' SHA-256, typed fields of
 *     the scan info) or that were scanned with a different --format,
 *     --probe-mx, --dane, --fetch-all or --allow-private: the refusal
 *     names the field and both values;
 *   - records this version cannot decode;
 *   - OUT being one of the shards;
 *   - unless --allow-mixed-exclude, shards scanned with different
 *     --exclude lists (compared by the path each recorded): an opt-out
 *     promise kept by one shard and not another is not one scan (the
 *     merged scan's exclude is then "mixed");
 *   - unless --append, an OUT that exists and is not empty (a merge into
 *     the wrong file would silently add a scan to it);
 *   and, unless --partial: a shard scan not finished, or a missing index
 *   0..N-1.  A --partial merge that lacks shards or holds unfinished ones
 *   is stored unfinished (state running) and its metadata lists the
 *   missing indices.
 *
 * Memory is flat: every pass streams one shard's snapshot; nothing but
 * counters is kept between records.  The checks read every shard once,
 * the copy a second time.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "an_json.h"
#include "an_record.h"
#include "ds_input.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "st_error.h"

#define MERGE_SHARDS_MAX 4096

enum { MG_PARTIAL = 1, MG_LABEL, MG_MIXED_EXCLUDE, MG_APPEND };

static const struct sc_opt merge_opts[] = {
	{ "partial", NULL, MG_PARTIAL, "allow missing shard indices and "
				       "unfinished shard scans" },
	{ "label", "NAME", MG_LABEL, "label of the merged scan (default: "
				     "the first shard's)" },
	{ "allow-mixed-exclude", NULL, MG_MIXED_EXCLUDE,
	  "merge shards scanned with different --exclude lists (the merged "
	  "scan then follows no single opt-out list)" },
	{ "append", NULL, MG_APPEND, "add the merged scan to an OUT store "
				     "that exists (default: refuse)" },
	SC_OPT_END,
};

struct shard {
	const char *path;
	size_t pos;                 /* place on the command line */
	uint32_t want;              /* scan id asked with PATH@ID; 0: latest */
	struct ds_store *s;
	struct ds_reader *r;
	struct ds_scan_info info;   /* meta_json valid while r is open */
};

struct merge_ctx {
	int argc;
	char **argv;
	bool partial, mixed_exclude, append;
	const char *label, *out_path;
	struct shard *sh;           /* sorted by shard index */
	size_t n;
	uint32_t count;             /* the shards' shard_count */
	bool complete;              /* every index, every shard finished */

	/* the check pass */
	size_t cur;                 /* shard being walked */
	uint64_t wrong_shard, overlaps, undecodable;
	char example[DS_STORE_NAME_MAX + 1];

	/* the copy */
	struct ds_store *out;
	struct ds_reader *out_r;    /* OUT as committed before this shard */
	uint32_t scan;
	struct ds_scan_info info;
	uint64_t n_probes, n_bodies, missing_bodies;
};

/* --- opening and checking the shards --- */

/* "PATH@ID" names scan ID of PATH; without a numeric suffix, the latest. */
static int open_shard(struct shard *sh, char *arg)
{
	struct ds_store_opts so;
	char why[DS_STORE_WHY_MAX];
	char *at = strrchr(arg, '@');
	unsigned long long id = 0;
	int ret;

	sh->path = arg;
	if (at != NULL && at[1] != '\0' &&
	    sc_opt_u64(at + 1, UINT32_MAX, &id) == ST_OK && id > 0) {
		*at = '\0';
		sh->want = (uint32_t)id;
	}
	ds_store_opts_default(&so);
	so.read_only = true;
	ret = ds_store_open_why(sh->path, &so, &sh->s, why, sizeof(why));
	if (ret != ST_OK && why[0] != '\0') {
		fprintf(stderr, "stsmap merge: %s: %s\n", sh->path, why);
		return ret;
	}
	if (ret == ST_OK)
		ret = ds_reader_open(sh->s, &sh->r);
	if (ret == ST_OK)
		ret = sh->want != 0 ? ds_reader_scan(sh->r, sh->want, &sh->info)
				    : ds_reader_scan_latest(sh->r, &sh->info);
	if (ret != ST_OK)
		fprintf(stderr, "stsmap merge: %s: %s\n", sh->path,
			ret == ST_ENOENT ? "no such store or scan"
					 : st_strerror(ret));
	return ret;
}

static int by_index(const void *a, const void *b)
{
	const struct shard *x = a, *y = b;

	if (x->info.shard_index != y->info.shard_index)
		return x->info.shard_index < y->info.shard_index ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * The fields that decide what a shard measured, compared one by one
 * (ds_scan_info_differ()): the input digests (sharded scans only: each
 * shard reads the whole input), --format, --probe-mx, --dane,
 * --fetch-all, --allow-private, and the --exclude list unless
 * --allow-mixed-exclude (issue 12: an opt-out promise kept by one shard
 * and not another is not one scan).
 */
static int check_fields(const struct merge_ctx *m)
{
	const struct shard *s0 = &m->sh[0];
	unsigned which = DS_SF_OPTIONS;
	char v0[DS_SCAN_EXCLUDE_MAX + 32], v[DS_SCAN_EXCLUDE_MAX + 32];

	if (m->count > 1)
		which |= DS_SF_BIT(DS_SF_INPUTS);
	if (!m->mixed_exclude)
		which |= DS_SF_BIT(DS_SF_EXCLUDE);
	for (size_t i = 1; i < m->n; i++) {
		const struct shard *s = &m->sh[i];
		enum ds_scan_field f = ds_scan_info_differ(&s0->info, &s->info,
							   which);

		if (f == DS_SF_NONE)
			continue;
		ds_scan_field_value(&s0->info, f, v0, sizeof(v0));
		ds_scan_field_value(&s->info, f, v, sizeof(v));
		if (f == DS_SF_INPUTS)
			fprintf(stderr, "stsmap merge: %s and %s scanned "
					"different inputs (%s; %s)\n", s0->path,
				s->path, v0, v);
		else if (f == DS_SF_EXCLUDE)
			fprintf(stderr, "stsmap merge: %s and %s were scanned "
					"with different --exclude lists (%s, "
					"%s); --allow-mixed-exclude merges them "
					"anyway\n", s0->path, s->path, v0, v);
		else
			fprintf(stderr, "stsmap merge: %s and %s differ in %s "
					"(%s, %s)\n", s0->path, s->path,
				ds_scan_field_name(f), v0, v);
		return ST_EINVAL;
	}
	return ST_OK;
}

/* The partition: one shard_count, distinct indices, all present. */
static int check_partition(struct merge_ctx *m)
{
	size_t missing = 0, unfinished = 0;

	m->count = m->sh[0].info.shard_count == 0 ? 1
						  : m->sh[0].info.shard_count;
	for (size_t i = 0; i < m->n; i++) {
		const struct shard *s = &m->sh[i];
		uint32_t c = s->info.shard_count == 0 ? 1 : s->info.shard_count;

		if (c != m->count) {
			fprintf(stderr, "stsmap merge: %s is shard %u/%u, %s "
					"is of %u shards\n", s->path,
				s->info.shard_index, c, m->sh[0].path,
				m->count);
			return ST_EINVAL;
		}
		if (m->count > 1 && i > 0 &&
		    s->info.shard_index == m->sh[i - 1].info.shard_index) {
			fprintf(stderr, "stsmap merge: %s and %s are both "
					"shard %u/%u\n", m->sh[i - 1].path,
				s->path, s->info.shard_index, c);
			return ST_EINVAL;
		}
		if (s->info.state != DS_SCAN_FINISHED) {
			fprintf(stderr, "stsmap merge: %s: scan %u is not "
					"finished%s\n", s->path, s->info.id,
				m->partial ? " (--partial: merged anyway)"
					   : "");
			unfinished++;
		}
	}
	if (m->count > 1 && m->n < m->count) {
		missing = m->count - m->n;
		fprintf(stderr, "stsmap merge: %zu of %u shards missing%s\n",
			missing, m->count,
			m->partial ? " (--partial: merged anyway)" : "");
	}
	m->complete = missing == 0 && unfinished == 0;
	if (!m->complete && !m->partial)
		return ST_EINVAL;
	return check_fields(m);
}

/* Check pass, per record: right shard, in no other shard, decodable. */
static int check_one(const char *domain, size_t domain_len,
		     const uint8_t *data, size_t len, void *arg)
{
	struct merge_ctx *m = arg;
	const struct shard *s = &m->sh[m->cur];
	char name[DS_STORE_NAME_MAX + 1];
	struct an_record rec;
	bool bad = false;

	if (!ds_store_key_name(domain, domain_len, name) ||
	    an_record_decode(data, len, &rec) != ST_OK) {
		m->undecodable++;
		return 0;
	}
	if (m->count > 1 && ds_shard_of(name, m->count) !=
				    s->info.shard_index) {
		m->wrong_shard++;
		bad = true;
	}
	for (size_t j = m->cur + 1; m->count == 1 && j < m->n; j++) {
		const uint8_t *d;
		size_t l;
		int ret = ds_reader_result(m->sh[j].r, m->sh[j].info.id, name,
					   &d, &l);

		if (ret == ST_OK) {
			m->overlaps++;
			bad = true;
		} else if (ret != ST_ENOENT) {
			return ret;
		}
	}
	if (bad && m->example[0] == '\0')
		memcpy(m->example, name, domain_len + 1);
	return 0;
}

static int check_records(struct merge_ctx *m)
{
	int ret = ST_OK;

	for (m->cur = 0; m->cur < m->n && ret == ST_OK; m->cur++)
		ret = ds_reader_results(m->sh[m->cur].r,
					m->sh[m->cur].info.id, check_one, m);
	if (ret != ST_OK)
		return ret;
	if (m->wrong_shard > 0)
		fprintf(stderr, "stsmap merge: %" PRIu64 " domains (e.g. %s) "
				"are in a shard --shard I/%u would not give "
				"them: not shards of one partition\n",
			m->wrong_shard, m->example, m->count);
	if (m->overlaps > 0)
		fprintf(stderr, "stsmap merge: %" PRIu64 " domains (e.g. %s) "
				"are in more than one store\n", m->overlaps,
			m->example);
	if (m->undecodable > 0)
		fprintf(stderr, "stsmap merge: %" PRIu64 " records cannot be "
				"decoded by this version\n", m->undecodable);
	return m->wrong_shard + m->overlaps + m->undecodable > 0 ? ST_EINVAL
								 : ST_OK;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* --- the merged scan's identity --- */

/* SHA-256 over "stsmap-merge" and the shards' input keys, in index order. */
static void merged_key(const struct merge_ctx *m, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	unsigned int hl = 0;

	out[0] = '\0';
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	EVP_DigestUpdate(md, "stsmap-merge\n", 13);
	for (size_t i = 0; i < m->n; i++) {
		EVP_DigestUpdate(md, m->sh[i].info.input_key,
				 strlen(m->sh[i].info.input_key));
		EVP_DigestUpdate(md, "\n", 1);
	}
	if (EVP_DigestFinal_ex(md, h, &hl) != 1)
		goto out;
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
out:
	EVP_MD_CTX_free(md);
}

static void meta_shard(FILE *f, const struct shard *s)
{
	const char *meta = s->info.meta_json;

	fputs("{\"store\":", f);
	an_json_str(f, s->path);
	fprintf(f, ",\"scan\":%u,\"shard\":\"%u/%u\",\"label\":", s->info.id,
		s->info.shard_index, s->info.shard_count);
	an_json_str(f, s->info.label);
	fputs(",\"input_key\":", f);
	an_json_str(f, s->info.input_key);
	fprintf(f, ",\"state\":\"%s\",\"started\":%" PRId64 ",\"finished\":%"
		PRId64 ",\"results\":%" PRIu64 ",\"input_errors\":%" PRIu64
		",\"meta\":", s->info.state == DS_SCAN_FINISHED ? "finished"
								: "running",
		s->info.started, s->info.finished, s->info.n_results,
		s->info.n_input_errors);
	/* The scanner writes its meta as a JSON object: embed it as one;
	 * anything else is kept as a string. */
	if (meta != NULL && meta[0] == '{')
		fputs(meta, f);
	else
		an_json_str(f, meta);
	fputc('}', f);
}

/* The merged scan's meta JSON, in a malloc'ed string (NULL: no memory). */
static char *meta_json(const struct merge_ctx *m)
{
	char *buf = NULL;
	size_t len = 0, k = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	sc_meta_head(f, m->argc, m->argv);
	fprintf(f, ",\"merge\":{\"shard_count\":%u,\"partial\":%s,"
		"\"complete\":%s,\"missing\":[", m->count,
		m->partial ? "true" : "false", m->complete ? "true" : "false");
	for (uint32_t idx = 0, first = 1; m->count > 1 && idx < m->count;
	     idx++) {
		while (k < m->n && m->sh[k].info.shard_index < idx)
			k++;
		if (k < m->n && m->sh[k].info.shard_index == idx)
			continue;
		fprintf(f, "%s%u", first ? "" : ",", idx);
		first = 0;
	}
	fprintf(f, "],\"probes\":%" PRIu64 ",\"bodies\":%" PRIu64
		",\"missing_bodies\":%" PRIu64 ",\"shards\":[", m->n_probes,
		m->n_bodies, m->missing_bodies);
	for (size_t i = 0; i < m->n; i++) {
		fputs(i > 0 ? "," : "", f);
		meta_shard(f, &m->sh[i]);
	}
	fputs("]}}", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The merged scan's typed options and inputs: the shards' (check_fields()
 * made them equal), with the digests of the first shard read to its end;
 * the exclude list "mixed" when --allow-mixed-exclude merged different
 * ones, the inputs unknown when unsharded scans of different inputs were
 * merged. */
static void merged_fields(const struct merge_ctx *m, struct ds_scan_info *o)
{
	const struct ds_scan_info *s0 = &m->sh[0].info, *known = NULL;

	o->have_options = s0->have_options;
	o->format = s0->format;
	o->probe_mx = s0->probe_mx;
	o->dane = s0->dane;
	o->fetch_all = s0->fetch_all;
	o->allow_private = s0->allow_private;
	memcpy(o->exclude, s0->exclude, sizeof(o->exclude));
	o->exclude_mixed = s0->exclude_mixed;
	for (size_t i = 0; i < m->n; i++) {
		const struct ds_scan_info *si = &m->sh[i].info;

		if (ds_scan_info_differ(s0, si, DS_SF_BIT(DS_SF_EXCLUDE)) !=
		    DS_SF_NONE) {
			o->exclude[0] = '\0';
			o->exclude_mixed = true;
		}
		for (uint32_t k = 0; known == NULL && k < si->n_inputs; k++) {
			if (si->input_sha256[k][0] != '\0')
				known = si;
		}
	}
	o->n_inputs = 0;
	for (size_t i = 0; known != NULL && i < m->n; i++) {
		if (ds_scan_info_differ(known, &m->sh[i].info,
					DS_SF_BIT(DS_SF_INPUTS)) != DS_SF_NONE)
			known = NULL;
	}
	if (known != NULL) {
		o->n_inputs = known->n_inputs;
		memcpy(o->input_sha256, known->input_sha256,
		       sizeof(o->input_sha256));
	}
}

static int create_scan(struct merge_ctx *m)
{
	struct ds_store_opts so;
	char *meta;
	int ret;

	char why[DS_STORE_WHY_MAX];

	ds_store_opts_default(&so);
	so.owner = "stsmap merge";
	ret = ds_store_open_why(m->out_path, &so, &m->out, why, sizeof(why));
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap merge: OUT %s: %s\n", m->out_path,
			why[0] != '\0' ? why : st_strerror(ret));
		return ST_EINVAL; /* printed */
	}
	memset(&m->info, 0, sizeof(m->info));
	snprintf(m->info.label, sizeof(m->info.label), "%s",
		 m->label != NULL ? m->label : m->sh[0].info.label);
	merged_key(m, m->info.input_key);
	merged_fields(m, &m->info);
	m->info.shard_index = 0;
	m->info.shard_count = 1;
	m->info.started = m->sh[0].info.started;
	for (size_t i = 1; i < m->n; i++) {
		if (m->sh[i].info.started < m->info.started)
			m->info.started = m->sh[i].info.started;
	}
	meta = meta_json(m);
	if (meta == NULL)
		return ST_ENOMEM;
	m->info.meta_json = meta;
	ret = ds_store_scan_create(m->out, &m->info, &m->scan);
	m->info.meta_json = NULL;
	free(meta);
	m->info.id = m->scan;
	m->info.state = DS_SCAN_RUNNING;
	return ret;
}

/* --- the copy --- */

static int copy_result(const char *domain, size_t domain_len,
		       const uint8_t *data, size_t len, void *arg)
{
	struct merge_ctx *m = arg;
	const struct shard *s = &m->sh[m->cur];
	char name[DS_STORE_NAME_MAX + 1];
	uint8_t hash[DS_STORE_HASH_LEN];
	const uint8_t *body;
	size_t body_len;
	struct an_record rec;
	int ret;

	if (!ds_store_key_name(domain, domain_len, name))
		return ST_EPARSE;
	ret = an_record_decode(data, len, &rec);
	if (ret != ST_OK)
		return ret; /* the check pass let none through */
	if (rec.have_body) {
		ret = ds_reader_body(s->r, rec.body_hash, &body, &body_len);
		if (ret == ST_OK) {
			ret = ds_store_put_body(m->out, body, body_len, hash);
			m->n_bodies++;
			if (ret == ST_OK && memcmp(hash, rec.body_hash,
						   sizeof(hash)) != 0) {
				fprintf(stderr, "stsmap merge: %s: the policy "
						"body of %s does not match its "
						"SHA-256: damaged store\n",
					s->path, name);
				return ST_EPARSE;
			}
		} else if (ret == ST_ENOENT) {
			m->missing_bodies++;
			ret = ST_OK;
		}
		if (ret != ST_OK)
			return ret;
	}
	ret = ds_store_put_result(m->out, m->scan, name, data, len);
	if (ret != ST_OK)
		return ret;
	m->info.n_results++;
	if (rec.verdict < DS_SCAN_VERDICTS)
		m->info.verdicts[rec.verdict]++;
	return 0;
}

static int copy_probe(const char *host, size_t host_len, const uint8_t *data,
		      size_t len, void *arg)
{
	struct merge_ctx *m = arg;
	char name[DS_STORE_NAME_MAX + 1];
	const uint8_t *d;
	size_t l;
	int ret;

	if (!ds_store_key_name(host, host_len, name))
		return ST_EPARSE;
	ret = ds_reader_probe(m->out_r, m->scan, name, &d, &l);
	if (ret == ST_OK)
		return 0; /* a lower shard probed it */
	if (ret != ST_ENOENT)
		return ret;
	ret = ds_store_put_probe(m->out, m->scan, name, data, len);
	if (ret == ST_OK)
		m->n_probes++;
	return ret;
}

static int copy_input_error(uint32_t input, uint64_t line, const char *raw,
			    const char *why, void *arg)
{
	struct merge_ctx *m = arg;

	return ds_store_put_input_error(m->out, m->scan, input, line, raw, why);
}

static int count_input_error(uint32_t input, uint64_t line, const char *raw,
			     const char *why, void *arg)
{
	struct merge_ctx *m = arg;

	(void)input;
	(void)line;
	(void)raw;
	(void)why;
	m->info.n_input_errors++;
	return 0;
}

/* Copy shard m->cur: results and bodies, then the probes it alone has,
 * then its input errors; committed before the next shard starts. */
static int copy_shard(struct merge_ctx *m)
{
	const struct shard *s = &m->sh[m->cur];
	int ret;

	ret = ds_reader_results(s->r, s->info.id, copy_result, m);
	if (ret == ST_OK)
		ret = ds_store_flush(m->out);
	if (ret == ST_OK)
		ret = ds_reader_open(m->out, &m->out_r);
	if (ret == ST_OK)
		ret = ds_reader_probes(s->r, s->info.id, copy_probe, m);
	ds_reader_close(m->out_r);
	m->out_r = NULL;
	if (ret == ST_OK)
		ret = ds_reader_input_errors(s->r, s->info.id,
					     copy_input_error, m);
	if (ret == ST_OK)
		ret = ds_store_flush(m->out);
	return ret;
}

static int finish_scan(struct merge_ctx *m)
{
	struct ds_reader *r = NULL;
	char *meta;
	int ret;

	m->info.n_input_errors = 0;
	ret = ds_reader_open(m->out, &r);
	if (ret == ST_OK)
		ret = ds_reader_input_errors(r, m->scan, count_input_error, m);
	ds_reader_close(r);
	if (ret != ST_OK)
		return ret;
	if (m->complete) {
		m->info.state = DS_SCAN_FINISHED;
		for (size_t i = 0; i < m->n; i++) {
			if (m->sh[i].info.finished > m->info.finished)
				m->info.finished = m->sh[i].info.finished;
		}
	}
	meta = meta_json(m);
	if (meta == NULL)
		return ST_ENOMEM;
	m->info.meta_json = meta;
	ret = ds_store_scan_update(m->out, &m->info);
	if (ret == ST_OK)
		ret = ds_store_flush(m->out);
	m->info.meta_json = NULL;
	free(meta);
	return ret;
}

/* --- the command --- */

static int parse_args(int argc, char **argv, struct merge_ctx *m)
{
	static const char synopsis[] = "merge [--partial] [--label NAME] "
				       "[--allow-mixed-exclude] [--append] OUT "
				       "SHARD[@SCAN]...";
	static const char summary[] =
		"Merge the stores of a sharded scan (scan --shard I/N) into one "
		"new scan in OUT\nthat reports like a single-machine scan.  "
		"Each SHARD is a store; its latest\nscan is taken, or scan "
		"SCAN with STORE@SCAN.";
	const char *arg;
	int c;

	while ((c = sc_opt_next(argc, argv, merge_opts, &arg)) != -1) {
		if (c == MG_PARTIAL) {
			m->partial = true;
		} else if (c == MG_LABEL) {
			m->label = arg;
		} else if (c == MG_MIXED_EXCLUDE) {
			m->mixed_exclude = true;
		} else if (c == MG_APPEND) {
			m->append = true;
		} else if (c == SC_OPT_HELP) {
			sc_opt_usage(stdout, synopsis, summary, merge_opts);
			return 1;
		} else {
			sc_opt_usage(stderr, synopsis, summary, merge_opts);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind - 1 > MERGE_SHARDS_MAX) {
		sc_opt_usage(stderr, synopsis, summary, merge_opts);
		return 2;
	}
	if (m->label != NULL && strlen(m->label) >= DS_SCAN_LABEL_MAX) {
		fprintf(stderr, "stsmap merge: --label is longer than %d "
				"bytes\n", DS_SCAN_LABEL_MAX - 1);
		return 2;
	}
	m->out_path = argv[optind];
	return 0;
}

/* Without --append, OUT must be new (absent or empty). */
static int check_out(const struct merge_ctx *m)
{
	struct stat st;

	if (m->append || stat(m->out_path, &st) != 0 || st.st_size == 0)
		return ST_OK;
	fprintf(stderr, "stsmap merge: OUT %s exists; --append adds the "
			"merged scan to it\n", m->out_path);
	return ST_EINVAL;
}

static int merge(struct merge_ctx *m, char **shard_args)
{
	int ret = ST_OK;

	for (size_t i = 0; i < m->n && ret == ST_OK; i++) {
		m->sh[i].pos = i;
		ret = open_shard(&m->sh[i], shard_args[i]);
		if (ret == ST_OK && same_file(m->sh[i].path, m->out_path)) {
			fprintf(stderr, "stsmap merge: OUT %s is also a "
					"shard\n", m->out_path);
			ret = ST_EINVAL;
		}
	}
	if (ret != ST_OK)
		return ret;
	qsort(m->sh, m->n, sizeof(*m->sh), by_index);
	ret = check_partition(m);
	if (ret == ST_OK)
		ret = check_out(m);
	if (ret == ST_OK)
		ret = check_records(m);
	if (ret != ST_OK)
		return ret;
	ret = create_scan(m);
	for (m->cur = 0; m->cur < m->n && ret == ST_OK; m->cur++)
		ret = copy_shard(m);
	if (ret == ST_OK)
		ret = finish_scan(m);
	if (ret != ST_OK && m->scan != 0)
		fprintf(stderr, "stsmap merge: scan %u in %s is left "
				"unfinished\n", m->scan, m->out_path);
	return ret;
}

int sc_cmd_merge(int argc, char **argv)
{
	struct merge_ctx m = { .argc = argc, .argv = argv };
	int ret;

	ret = parse_args(argc, argv, &m);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	m.n = (size_t)(argc - optind - 1);
	m.sh = calloc(m.n, sizeof(*m.sh));
	if (m.sh == NULL)
		return 1;
	ret = merge(&m, argv + optind + 1);
	if (ds_store_close(m.out) != ST_OK && ret == ST_OK)
		ret = ST_ESTORE;
	for (size_t i = 0; i < m.n; i++) {
		ds_reader_close(m.sh[i].r);
		ds_store_close(m.sh[i].s);
	}
	free(m.sh);
	if (ret != ST_OK) {
		if (ret != ST_EINVAL)
			fprintf(stderr, "stsmap merge: %s\n", st_strerror(ret));
		return 1;
	}
	fprintf(stderr, "stsmap merge: scan %u in %s: %" PRIu64 " results, %"
		PRIu64 " probes, %" PRIu64 " input errors from %zu shard%s%s\n",
		m.scan, m.out_path, m.info.n_results, m.n_probes,
		m.info.n_input_errors, m.n, m.n == 1 ? "" : "s",
		m.complete ? "" : " (partial: left unfinished)");
	return 0;
}
