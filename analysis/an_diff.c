/*
 * an_diff.c - scan against scan (see an_diff.h).
 */
#include "an_diff.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_json.h"
#include "an_policy.h"
#include "st_error.h"

#define DAY 86400

/* Kinds that are findings take name, severity and description from the
 * finding table (an_findings.c), the one place those live. */
static const struct {
	const char *name;
	int code;
	enum an_severity severity;
	const char *description;
} kinds[AN_DIFF_KIND_COUNT] = {
	[AN_DIFF_ADDED] = { "added", -1, AN_SEV_INFO,
			    "domain only in the newer scan" },
	[AN_DIFF_REMOVED] = { "removed", -1, AN_SEV_INFO,
			      "domain only in the older scan" },
	[AN_DIFF_ADOPTED] = { "adopted", -1, AN_SEV_INFO,
			      "MTA-STS announced where there was none" },
	[AN_DIFF_WITHDRAWN] = { NULL, AN_F_LONG_WITHDRAWN, 0, NULL },
	[AN_DIFF_POLICY_REMOVED] = { "policy-removed", -1, AN_SEV_INFO,
				     "policy removed after mode none" },
	[AN_DIFF_MODE_CHANGED] = { NULL, AN_F_LONG_MODE_CHANGED, 0, NULL },
	[AN_DIFF_BODY_CHANGED_SAME_ID] = { NULL,
					   AN_F_LONG_BODY_CHANGED_SAME_ID, 0,
					   NULL },
	[AN_DIFF_ID_CHANGED_SAME_BODY] = { NULL,
					   AN_F_LONG_ID_CHANGED_SAME_BODY, 0,
					   NULL },
	[AN_DIFF_POLICY_UPDATED] = { "policy-updated", -1, AN_SEV_INFO,
				     "policy body and id both changed" },
	[AN_DIFF_VERDICT_CHANGED] = { "verdict-changed", -1, AN_SEV_INFO,
				      "sender verdict changed" },
	[AN_DIFF_CERT_EXPIRING] = { "cert-expiring", -1, AN_SEV_WARN,
				    "policy host certificate expires before "
				    "the next scan" },
};

static const struct an_code_info *kind_code(enum an_diff_kind k)
{
	return kinds[k].code >= 0 ? an_code_info((enum an_code)kinds[k].code)
				  : NULL;
}

const char *an_diff_kind_name(enum an_diff_kind kind)
{
	if ((unsigned)kind >= AN_DIFF_KIND_COUNT)
		return "unknown";
	return kind_code(kind) != NULL ? kind_code(kind)->name
				       : kinds[kind].name;
}

enum an_severity an_diff_kind_severity(enum an_diff_kind kind)
{
	if ((unsigned)kind >= AN_DIFF_KIND_COUNT)
		return AN_SEV_INFO;
	return kind_code(kind) != NULL ? kind_code(kind)->severity
				       : kinds[kind].severity;
}

const char *an_diff_kind_description(enum an_diff_kind kind)
{
	if ((unsigned)kind >= AN_DIFF_KIND_COUNT)
		return "unknown";
	return kind_code(kind) != NULL ? kind_code(kind)->description
				       : kinds[kind].description;
}

int an_diff_kind_code(enum an_diff_kind kind)
{
	return (unsigned)kind < AN_DIFF_KIND_COUNT ? kinds[kind].code : -1;
}

int an_diff_kind_from_name(const char *name, enum an_diff_kind *kind)
{
	for (int k = 0; name != NULL && k < AN_DIFF_KIND_COUNT; k++) {
		if (strcmp(an_diff_kind_name((enum an_diff_kind)k), name) ==
		    0) {
			*kind = (enum an_diff_kind)k;
			return ST_OK;
		}
	}
	return ST_ENOENT;
}

/* --- comparing two records --- */

static const char *vname(const struct an_record *r)
{
	return r->verdict < AN_V_COUNT
		       ? an_verdict_name((enum an_verdict)r->verdict)
		       : "unknown";
}

/* MTA-STS announced and judged (a DNS failure decides nothing). */
/* The record shows a policy announced: anything but no-policy, and an
 * undetermined verdict only when the _mta-sts lookup itself failed (an MX
 * lookup failure or an MX host no probe could reach leaves the announced
 * policy undecided in effect, not in existence). */
static bool announced(const struct an_record *r)
{
	if (r->verdict == AN_V_UNDETERMINED)
		return r->sts_dns == AN_DNS_NOERROR && r->sts_id != NULL;
	return r->verdict != AN_V_NO_POLICY;
}

/* A policy was fetched under a valid record id: body and id comparable. */
static bool policy_seen(const struct an_record *r)
{
	return r->have_body && r->http_status == 200 && r->sts_id != NULL;
}

static void hex_prefix(const uint8_t *h, char out[13])
{
	for (size_t i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int emit(struct an_diff_change *c, enum an_diff_kind kind,
		an_diff_cb cb, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int emit(struct an_diff_change *c, enum an_diff_kind kind,
		an_diff_cb cb, void *arg, const char *fmt, ...)
{
	va_list ap;

	c->kind = kind;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return cb(arg, c);
}

/* Adopted, withdrawn or removed: 1 if one was said, 0 if none, <0 error
 * from cb (returned as is). */
static int presence(struct an_diff_change *c, an_diff_cb cb, void *arg)
{
	const struct an_record *a = c->a, *b = c->b;
	int ret;

	if (a->verdict == AN_V_NO_POLICY && announced(b)) {
		ret = emit(c, AN_DIFF_ADOPTED, cb, arg, "no-policy -> %s",
			   vname(b));
		return ret != 0 ? ret : 1;
	}
	if (announced(a) && b->verdict == AN_V_NO_POLICY) {
		ret = emit(c, a->verdict == AN_V_NONE_MODE
				      ? AN_DIFF_POLICY_REMOVED
				      : AN_DIFF_WITHDRAWN,
			   cb, arg, "%s -> no-policy", vname(a));
		return ret != 0 ? ret : 1;
	}
	return 0;
}

static int policy(struct an_diff_change *c, an_diff_cb cb, void *arg)
{
	const struct an_record *a = c->a, *b = c->b;
	char ha[13], hb[13];
	bool same_id, same_body;
	int ret = 0;

	if (a->mode != AN_MODE_UNSET && b->mode != AN_MODE_UNSET &&
	    a->mode != b->mode) {
		ret = emit(c, AN_DIFF_MODE_CHANGED, cb, arg, "%s -> %s",
			   an_mode_name((enum an_mode)a->mode),
			   an_mode_name((enum an_mode)b->mode));
		if (ret != 0)
			return ret;
	}
	if (!policy_seen(a) || !policy_seen(b))
		return 0;
	same_id = strcmp(a->sts_id, b->sts_id) == 0;
	same_body = a->body_len == b->body_len &&
		    memcmp(a->body_hash, b->body_hash, AN_RECORD_HASH_LEN) == 0;
	hex_prefix(a->body_hash, ha);
	hex_prefix(b->body_hash, hb);
	if (same_id && !same_body)
		ret = emit(c, AN_DIFF_BODY_CHANGED_SAME_ID, cb, arg,
			   "id %s kept, body sha256 %s.. -> %s..", b->sts_id,
			   ha, hb);
	else if (!same_id && same_body)
		ret = emit(c, AN_DIFF_ID_CHANGED_SAME_BODY, cb, arg,
			   "id %s -> %s, body sha256 %s.. kept", a->sts_id,
			   b->sts_id, hb);
	else if (!same_id)
		ret = emit(c, AN_DIFF_POLICY_UPDATED, cb, arg,
			   "id %s -> %s, body sha256 %s.. -> %s..", a->sts_id,
			   b->sts_id, ha, hb);
	return ret;
}

static int cert(struct an_diff_change *c, uint32_t next_days, an_diff_cb cb,
		void *arg)
{
	const struct an_record *b = c->b;
	char when[32] = "?";
	struct tm tm;
	time_t t;
	int64_t days;

	if (b == NULL || !announced(b) || b->cert_not_after == 0 ||
	    b->cert_not_after >= b->time + (int64_t)next_days * DAY)
		return 0;
	t = (time_t)b->cert_not_after;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	days = (b->cert_not_after - b->time) / DAY;
	if (b->cert_not_after <= b->time)
		return emit(c, AN_DIFF_CERT_EXPIRING, cb, arg,
			    "expired %s, %" PRId64 " days before the scan",
			    when, -days);
	return emit(c, AN_DIFF_CERT_EXPIRING, cb, arg,
		    "expires %s, %" PRId64 " days after the scan", when, days);
}

int an_diff_changes(const struct an_record *a, const struct an_record *b,
		    uint32_t next_days, an_diff_cb cb, void *arg)
{
	struct an_diff_change c;
	int said = 0, ret = 0;

	if ((a == NULL && b == NULL) || cb == NULL)
		return ST_EINVAL;
	if (a != NULL && b != NULL &&
	    (a->domain == NULL || b->domain == NULL ||
	     strcmp(a->domain, b->domain) != 0))
		return ST_EINVAL;
	memset(&c, 0, sizeof(c));
	c.domain = a != NULL ? a->domain : b->domain;
	c.a = a;
	c.b = b;
	if (a == NULL)
		ret = emit(&c, AN_DIFF_ADDED, cb, arg, "verdict %s", vname(b));
	else if (b == NULL)
		return emit(&c, AN_DIFF_REMOVED, cb, arg, "verdict %s",
			    vname(a));
	if (ret == 0 && a != NULL) {
		said = presence(&c, cb, arg);
		ret = said < 0 ? said : policy(&c, cb, arg);
		if (ret == 0 && said == 0 && a->verdict != b->verdict)
			ret = emit(&c, AN_DIFF_VERDICT_CHANGED, cb, arg,
				   "%s -> %s", vname(a), vname(b));
	}
	if (ret == 0)
		ret = cert(&c, next_days, cb, arg);
	return ret;
}

/* --- writers --- */

struct diff_writer {
	const char *name;
	int (*begin)(struct an_diff *d, const struct an_diff_scan *a,
		     const struct an_diff_scan *b);
	int (*change)(struct an_diff *d, const struct an_diff_change *c);
	int (*end)(struct an_diff *d);
};

struct an_diff {
	const struct diff_writer *w;
	struct an_diff_opts o;
	struct an_diff_summary sum;
	bool first;                 /* json: no change written yet */
};

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	snprintf(out, 32, "-");
	if (t != 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int stream_ret(const struct an_diff *d)
{
	return ferror(d->o.out) ? ST_EIO : ST_OK;
}

static int text_begin(struct an_diff *d, const struct an_diff_scan *a,
		      const struct an_diff_scan *b)
{
	const struct an_diff_scan *s[2] = { a, b };

	for (size_t i = 0; i < 2; i++) {
		char t[32];

		iso(s[i]->started, t);
		fprintf(d->o.out, "# %c: scan %" PRIu32 "%s%s%s in %s, "
			"started %s, %" PRIu64 " results%s\n", i == 0 ? 'A' : 'B',
			s[i]->id, s[i]->label[0] != '\0' ? " (" : "",
			s[i]->label, s[i]->label[0] != '\0' ? ")" : "",
			s[i]->store, t, s[i]->n_results,
			s[i]->finished == 0 ? ", UNFINISHED" : "");
	}
	fprintf(d->o.out, "# next scan assumed within %" PRIu32 " days\n"
		"# severity change domain detail\n", d->o.next_days);
	return stream_ret(d);
}

static int text_change(struct an_diff *d, const struct an_diff_change *c)
{
	fprintf(d->o.out, "%-5s %-34s %s  %s\n",
		an_severity_name(an_diff_kind_severity(c->kind)),
		an_diff_kind_name(c->kind), c->domain, c->detail);
	return stream_ret(d);
}

static int text_end(struct an_diff *d)
{
	const struct an_diff_summary *s = &d->sum;
	FILE *out = d->o.out;

	fprintf(out, "# summary: %" PRIu64 " domains in A, %" PRIu64
		" in B, %" PRIu64 " in both\n", s->n_a, s->n_b, s->n_both);
	for (int k = 0; k < AN_DIFF_KIND_COUNT; k++)
		fprintf(out, "#   %-34s %" PRIu64 "\n",
			an_diff_kind_name((enum an_diff_kind)k), s->kinds[k]);
	fputs("# verdicts A -> B (domains in both):\n", out);
	for (unsigned i = 0; i <= AN_V_COUNT; i++) {
		for (unsigned j = 0; j <= AN_V_COUNT; j++) {
			if (s->verdicts[i][j] == 0)
				continue;
			fprintf(out, "#   %s -> %s %" PRIu64 "\n",
				an_verdict_name((enum an_verdict)i),
				an_verdict_name((enum an_verdict)j),
				s->verdicts[i][j]);
		}
	}
	return stream_ret(d);
}

static void json_scan(FILE *out, const struct an_diff_scan *s)
{
	fprintf(out, "{\"store\":");
	an_json_str(out, s->store);
	fprintf(out, ",\"scan\":%" PRIu32 ",\"label\":", s->id);
	an_json_str(out, s->label);
	fprintf(out, ",\"started\":%" PRId64 ",\"finished\":%" PRId64
		",\"results\":%" PRIu64 "}", s->started, s->finished,
		s->n_results);
}

static int json_begin(struct an_diff *d, const struct an_diff_scan *a,
		      const struct an_diff_scan *b)
{
	fputs("{\"a\":", d->o.out);
	json_scan(d->o.out, a);
	fputs(",\"b\":", d->o.out);
	json_scan(d->o.out, b);
	fprintf(d->o.out, ",\"next_days\":%" PRIu32 ",\"changes\":[\n",
		d->o.next_days);
	return stream_ret(d);
}

static void json_side(FILE *out, const struct an_record *r)
{
	char hex[AN_RECORD_HASH_LEN * 2 + 1];

	if (r == NULL) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"verdict\":\"%s\",\"mode\":", vname(r));
	an_json_str(out, r->mode != AN_MODE_UNSET
				 ? an_mode_name((enum an_mode)r->mode) : NULL);
	fputs(",\"id\":", out);
	an_json_str(out, r->sts_id);
	fputs(",\"body_sha256\":", out);
	for (size_t i = 0; i < AN_RECORD_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", r->body_hash[i]);
	an_json_str(out, r->have_body ? hex : NULL);
	fprintf(out, ",\"cert_not_after\":%" PRId64 "}", r->cert_not_after);
}

static int json_change(struct an_diff *d, const struct an_diff_change *c)
{
	FILE *out = d->o.out;
	int code = an_diff_kind_code(c->kind);

	fputs(d->first ? "{\"domain\":" : ",\n{\"domain\":", out);
	d->first = false;
	an_json_str(out, c->domain);
	fputs(",\"change\":", out);
	an_json_str(out, an_diff_kind_name(c->kind));
	fputs(",\"code\":", out);
	an_json_str(out, code >= 0 ? an_diff_kind_name(c->kind) : NULL);
	fprintf(out, ",\"severity\":\"%s\",\"detail\":",
		an_severity_name(an_diff_kind_severity(c->kind)));
	an_json_str(out, c->detail);
	fputs(",\"a\":", out);
	json_side(out, c->a);
	fputs(",\"b\":", out);
	json_side(out, c->b);
	fputc('}', out);
	return stream_ret(d);
}

static int json_end(struct an_diff *d)
{
	const struct an_diff_summary *s = &d->sum;
	FILE *out = d->o.out;
	bool first = true;

	fprintf(out, "%s],\"summary\":{\"a\":%" PRIu64 ",\"b\":%" PRIu64
		",\"both\":%" PRIu64 ",\"changes\":{", d->first ? "" : "\n",
		s->n_a, s->n_b, s->n_both);
	for (int k = 0; k < AN_DIFF_KIND_COUNT; k++)
		fprintf(out, "%s\"%s\":%" PRIu64, k > 0 ? "," : "",
			an_diff_kind_name((enum an_diff_kind)k), s->kinds[k]);
	fputs("},\"verdicts\":[", out);
	for (unsigned i = 0; i <= AN_V_COUNT; i++) {
		for (unsigned j = 0; j <= AN_V_COUNT; j++) {
			if (s->verdicts[i][j] == 0)
				continue;
			fprintf(out, "%s{\"a\":\"%s\",\"b\":\"%s\",\"count\":%"
				PRIu64 "}", first ? "" : ",",
				an_verdict_name((enum an_verdict)i),
				an_verdict_name((enum an_verdict)j),
				s->verdicts[i][j]);
			first = false;
		}
	}
	fputs("]}}\n", out);
	return stream_ret(d);
}

static const struct diff_writer writers[] = {
	{ "text", text_begin, text_change, text_end },
	{ "json", json_begin, json_change, json_end },
};

static const struct diff_writer *writer_find(const char *name)
{
	for (size_t i = 0; name != NULL &&
			   i < sizeof(writers) / sizeof(writers[0]); i++) {
		if (strcmp(writers[i].name, name) == 0)
			return &writers[i];
	}
	return NULL;
}

bool an_diff_format_known(const char *name)
{
	return writer_find(name) != NULL;
}

int an_diff_open(const char *format, const struct an_diff_opts *opts,
		 const struct an_diff_scan *a, const struct an_diff_scan *b,
		 struct an_diff **out)
{
	const struct diff_writer *w = writer_find(format);
	struct an_diff *d;
	int ret;

	*out = NULL;
	if (opts == NULL || opts->out == NULL || a == NULL || b == NULL)
		return ST_EINVAL;
	if (w == NULL)
		return ST_ENOENT;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return ST_ENOMEM;
	d->w = w;
	d->o = *opts;
	d->first = true;
	ret = w->begin(d, a, b);
	if (ret != ST_OK) {
		free(d);
		return ret;
	}
	*out = d;
	return ST_OK;
}

static int write_change(void *arg, const struct an_diff_change *c)
{
	struct an_diff *d = arg;

	d->sum.kinds[c->kind]++;
	return d->w->change(d, c);
}

int an_diff_pair(struct an_diff *d, const struct an_record *a,
		 const struct an_record *b)
{
	int ret;

	if (d == NULL)
		return ST_EINVAL;
	ret = an_diff_changes(a, b, d->o.next_days, write_change, d);
	if (ret != ST_OK)
		return ret;
	d->sum.n_a += a != NULL;
	d->sum.n_b += b != NULL;
	if (a != NULL && b != NULL) {
		unsigned va = a->verdict < AN_V_COUNT ? a->verdict : AN_V_COUNT;
		unsigned vb = b->verdict < AN_V_COUNT ? b->verdict : AN_V_COUNT;

		d->sum.n_both++;
		d->sum.verdicts[va][vb]++;
	}
	return ST_OK;
}

void an_diff_get_summary(const struct an_diff *d, struct an_diff_summary *s)
{
	*s = d->sum;
}

int an_diff_close(struct an_diff *d)
{
	int ret;

	if (d == NULL)
		return ST_OK;
	ret = d->w->end(d);
	if (fflush(d->o.out) != 0 && ret == ST_OK)
		ret = ST_EIO;
	free(d);
	return ret;
}
