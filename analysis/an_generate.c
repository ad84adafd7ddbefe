/*
 * an_generate.c - write a TXT record and policy body that agree with each
 * other and with RFC 8461, then prove it by parsing both back.
 *
 * Pure: no I/O, no allocation, no locale (case folding is ASCII by hand,
 * because tolower() follows the C locale and names are A-labels).
 */
#include "an_generate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "an_mx.h"
#include "an_text.h"
#include "an_sts_record.h"
#include "st_error.h"

/* RFC 8461 §3.1: id = 1*32(ALPHA / DIGIT).  "%Y%m%dT%H%M%S" is 15 of them
 * for years 1000-9999; outside that %Y changes width or gains a '-'. */
#define GEN_ID_FMT "%Y%m%dT%H%M%S"
#define GEN_ID_LEN 15
#define GEN_YEAR_MIN 1000
#define GEN_YEAR_MAX 9999

/* One normalised MX name: a slice of the caller's string, trailing dot
 * excluded.  Lower-casing happens when it is written out. */
struct gen_name {
	const char *p;
	size_t len;
};

struct gen_names {
	size_t n;
	struct gen_name name[AN_POLICY_MX_MAX];
};

/* A bounded output buffer with a sticky error, checked once at the end. */
struct gen_out {
	char *buf;
	size_t cap;
	size_t len;
	int err;
};

static char ascii_lower(char c)
{
	return (char)an_lower((uint8_t)c);
}

/* Does the parsed slice p equal the lower-cased name exactly? */
static bool eq_lowered(const struct gen_name *nm, const uint8_t *p, size_t len)
{
	if (nm->len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((uint8_t)ascii_lower(nm->p[i]) != p[i])
			return false;
	}
	return true;
}

static void out_put(struct gen_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_put(struct gen_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err != ST_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = ST_EUNKNOWN;
		return;
	}
	if ((size_t)n >= o->cap - o->len) {
		o->err = ST_ESPACE;
		return;
	}
	o->len += (size_t)n;
}

/* RFC 8461 §3.2: mode is one of three values, max_age at most 31557600
 * (and 0 would tell senders to drop the policy at once); every mode but
 * none needs an mx line. */
static int check_request(const struct an_gen_request *req)
{
	if (req->mode != AN_MODE_ENFORCE && req->mode != AN_MODE_TESTING &&
	    req->mode != AN_MODE_NONE)
		return ST_EINVAL;
	if (req->max_age == 0 || req->max_age > AN_POLICY_MAX_AGE_MAX)
		return ST_EINVAL;
	if (req->n_mx == 0 && req->mode != AN_MODE_NONE)
		return ST_EINVAL;
	if (req->mx == NULL && req->n_mx > 0)
		return ST_EINVAL;
	return ST_OK;
}

/*
 * Validate every name (RFC 8461 §3.2 via an_mx_pattern_valid), drop the
 * trailing dot and case-insensitive duplicates (RFC 4343), keeping first
 * occurrences in order.  A bad name wins over too many names, so the
 * caller learns about the mistake it can fix by editing one entry.
 */
static int collect_names(const struct an_gen_request *req,
			 struct gen_names *out)
{
	bool too_many = false, dot, dup;
	const char *s;
	size_t len;

	out->n = 0;
	for (size_t i = 0; i < req->n_mx; i++) {
		s = req->mx[i];
		if (s == NULL)
			return ST_EINVAL;
		len = strlen(s);
		if (!an_mx_pattern_valid(s, len, &dot, NULL))
			return ST_EINVAL;
		if (dot)
			len--;
		dup = false;
		for (size_t j = 0; j < out->n && !dup; j++)
			dup = out->name[j].len == len &&
			      an_eq_nocase((const uint8_t *)out->name[j].p,
					   (const uint8_t *)s, len);
		if (dup)
			continue;
		if (out->n == AN_POLICY_MX_MAX) {
			too_many = true;
			continue;
		}
		out->name[out->n].p = s;
		out->name[out->n].len = len;
		out->n++;
	}
	return too_many ? ST_ERANGE : ST_OK;
}

/* RFC 8461 §3.1: "v=STSv1; id=<id>;" with the id taken from now (UTC). */
static int write_txt(time_t now, char *txt, size_t txtlen,
		     char id[GEN_ID_LEN + 1])
{
	struct tm tm;
	int n;

	if (gmtime_r(&now, &tm) == NULL)
		return ST_ERANGE;
	if (tm.tm_year > GEN_YEAR_MAX - 1900 || tm.tm_year < GEN_YEAR_MIN - 1900)
		return ST_ERANGE;
	if (strftime(id, GEN_ID_LEN + 1, GEN_ID_FMT, &tm) != GEN_ID_LEN)
		return ST_EUNKNOWN;
	n = snprintf(txt, txtlen, "v=STSv1; id=%s;", id);
	if (n < 0)
		return ST_EUNKNOWN;
	if ((size_t)n >= txtlen)
		return ST_ESPACE;
	return ST_OK;
}

/* RFC 8461 §3.2: version first, then mode, mx lines, max_age; LF ends
 * every line (sts-policy-term). */
static int write_policy(const struct an_gen_request *req,
			const struct gen_names *names, char *policy,
			size_t policylen, size_t *len)
{
	struct gen_out o = { .buf = policy, .cap = policylen };
	size_t start;

	out_put(&o, "version: STSv1\n");
	out_put(&o, "mode: %s\n", an_mode_name(req->mode));
	for (size_t i = 0; i < names->n; i++) {
		start = o.len + strlen("mx: ");
		out_put(&o, "mx: %.*s\n", (int)names->name[i].len,
			names->name[i].p);
		if (o.err != ST_OK)
			break;
		for (size_t j = 0; j < names->name[i].len; j++)
			o.buf[start + j] = ascii_lower(o.buf[start + j]);
	}
	out_put(&o, "max_age: %" PRIu64 "\n", req->max_age);
	*len = o.len;
	return o.err;
}

/* The TXT record must come back valid, with our id, and with nothing a
 * report would warn about. */
static int verify_txt(const char *txt, const char *id)
{
	struct an_bytes rr = { (const uint8_t *)txt, strlen(txt) };
	struct an_sts_record rec;
	struct an_findings f;

	an_findings_init(&f);
	if (an_sts_record_parse(&rr, 1, &rec, &f) != ST_OK)
		return ST_EUNKNOWN;
	if (rec.status != AN_STS_VALID || strcmp(rec.id, id) != 0 ||
	    rec.extensions != 0 || f.dropped != 0 ||
	    an_findings_count_sev(&f, AN_SEV_WARN) != 0)
		return ST_EUNKNOWN;
	return ST_OK;
}

/* Is this finding one the request itself asks for?  A short max_age
 * (RFC 8461 §3.2 advises weeks) and the non-enforcing modes are reported
 * on purpose; anything else means we wrote something wrong. */
static bool finding_expected(const struct an_gen_request *req,
			     enum an_code code)
{
	switch (code) {
	case AN_F_POLICY_MAX_AGE_SHORT:
		return req->max_age < AN_POLICY_MAX_AGE_MIN_OK;
	case AN_F_POLICY_MODE_TESTING:
		return req->mode == AN_MODE_TESTING;
	case AN_F_POLICY_MODE_NONE:
		return req->mode == AN_MODE_NONE;
	default:
		return false;
	}
}

static int verify_policy(const struct an_gen_request *req,
			 const struct gen_names *names, const char *policy,
			 size_t len)
{
	const uint8_t *body = (const uint8_t *)policy;
	const struct an_mx_pattern *m;
	struct an_findings f;
	struct an_policy pol;

	an_findings_init(&f);
	if (an_policy_parse(body, len, &pol, &f) != ST_OK)
		return ST_EUNKNOWN;
	if (!pol.usable || !pol.has_version || pol.mode != req->mode ||
	    !pol.has_max_age || pol.max_age != req->max_age ||
	    pol.n_mx != names->n || pol.n_mx_dropped != 0 ||
	    pol.n_extensions != 0 || f.dropped != 0)
		return ST_EUNKNOWN;
	for (size_t i = 0; i < f.n; i++) {
		if (!finding_expected(req, f.item[i].code))
			return ST_EUNKNOWN;
	}
	for (size_t i = 0; i < pol.n_mx; i++) {
		m = &pol.mx[i];
		if (!eq_lowered(&names->name[i], body + m->off, m->len))
			return ST_EUNKNOWN;
	}
	return ST_OK;
}

/* Never hand back half a record or half a policy. */
static void clear_out(char *txt, size_t txtlen, char *policy,
		      size_t policylen)
{
	if (txtlen > 0)
		txt[0] = '\0';
	if (policylen > 0)
		policy[0] = '\0';
}

int an_generate(const struct an_gen_request *req, char *txt, size_t txtlen,
		char *policy, size_t policylen, size_t *policy_len)
{
	struct gen_names names;
	char id[GEN_ID_LEN + 1];
	size_t len = 0;
	int ret;

	if (req == NULL || txt == NULL || policy == NULL || policy_len == NULL)
		return ST_EINVAL;
	clear_out(txt, txtlen, policy, policylen);
	*policy_len = 0;

	ret = check_request(req);
	if (ret != ST_OK)
		goto fail;
	ret = collect_names(req, &names);
	if (ret != ST_OK)
		goto fail;
	ret = write_txt(req->now, txt, txtlen, id);
	if (ret != ST_OK)
		goto fail;
	ret = write_policy(req, &names, policy, policylen, &len);
	if (ret != ST_OK)
		goto fail;
	ret = verify_txt(txt, id);
	if (ret != ST_OK)
		goto fail;
	ret = verify_policy(req, &names, policy, len);
	if (ret != ST_OK)
		goto fail;
	*policy_len = len;
	return ST_OK;
fail:
	clear_out(txt, txtlen, policy, policylen);
	return ret;
}
