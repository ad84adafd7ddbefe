/*
 * an_json.c - JSON writers for records.
 */
#include "an_json.h"
#include "an_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "an_classify.h"
#include "an_findings.h"
#include "an_policy.h"

/* Does byte c need escaping (or a UTF-8 check) in a JSON string? */
static int special(uint8_t c)
{
	return c == '"' || c == '\\' || c < 0x20 || c >= 0x7f;
}

void an_json_strn(FILE *out, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	if (s == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (i < len) {
		size_t run = i, l;
		uint8_t c;

		/* Plain ASCII goes out in one write. */
		while (run < len && !special(p[run]))
			run++;
		if (run > i)
			fwrite(p + i, 1, run - i, out);
		i = run;
		if (i >= len)
			break;
		c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", out); break;
			case '\r': fputs("\\r", out); break;
			case '\t': fputs("\\t", out); break;
			default: fprintf(out, "\\u%04x", c); break;
			}
			i++;
			continue;
		}
		l = an_utf8_len(p + i, len - i);
		if (l == 0) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD */
			i++;
			continue;
		}
		fwrite(p + i, 1, l, out);
		i += l;
	}
	fputc('"', out);
}

void an_json_str(FILE *out, const char *s)
{
	an_json_strn(out, s, s != NULL ? strlen(s) : 0);
}

const char *an_dns_status_name(unsigned st)
{
	static const char *const n[] = {
		"not-asked", "noerror", "nodata", "nxdomain", "servfail",
		"refused", "timeout", "other" };

	return st < sizeof(n) / sizeof(n[0]) ? n[st] : "unknown";
}

const char *an_fetch_status_name(unsigned st)
{
#define FETCH_NAME_ROW(id, name, src, finding) \
	ST_IF_##src##_AN([AN_FETCH_##id] = name,)
	static const char *const n[AN_FETCH_COUNT] = {
		ST_FETCH_OUTCOMES(FETCH_NAME_ROW)
	};
#undef FETCH_NAME_ROW

	return st < AN_FETCH_COUNT ? n[st] : "unknown";
}

const char *an_probe_status_name(unsigned st)
{
	static const char *const n[] = {
		"not-probed", "ok", "unreachable", "no-starttls", "handshake",
		"cert-invalid", "name-mismatch" };

	return st < sizeof(n) / sizeof(n[0]) ? n[st] : "unknown";
}

static void key(FILE *out, const char *k, bool *first)
{
	if (!*first)
		fputc(',', out);
	*first = false;
	fprintf(out, "\"%s\":", k);
}

static void kstr(FILE *out, const char *k, const char *v, bool *first)
{
	key(out, k, first);
	an_json_str(out, v);
}

static void kint(FILE *out, const char *k, int64_t v, bool *first)
{
	key(out, k, first);
	fprintf(out, "%" PRId64, v);
}

static void kbool(FILE *out, const char *k, bool v, bool *first)
{
	key(out, k, first);
	fputs(v ? "true" : "false", out);
}

static void txt_array(FILE *out, const char *k, const struct an_bytes *rr,
		      size_t n, bool *first)
{
	key(out, k, first);
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', out);
		an_json_strn(out, (const char *)rr[i].data, rr[i].len);
	}
	fputc(']', out);
}

static void record_dns(FILE *out, const struct an_record *r, bool *first)
{
	kstr(out, "sts_dns", an_dns_status_name(r->sts_dns), first);
	kbool(out, "sts_cname", r->sts_cname, first);
	kbool(out, "sts_ad", r->sts_ad, first);
	txt_array(out, "sts_txt", r->sts_txt, r->n_sts_txt, first);
	kint(out, "sts_txt_total", (int64_t)r->n_sts_txt_total, first);
	kstr(out, "mx_dns", an_dns_status_name(r->mx_dns), first);
	kbool(out, "mx_ad", r->mx_ad, first);
	key(out, "mx", first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_mx; i++) {
		fprintf(out, "%s{\"host\":", i > 0 ? "," : "");
		an_json_str(out, r->mx[i].name);
		fprintf(out, ",\"pref\":%u,\"covered\":%s}", r->mx[i].pref,
			r->mx[i].covered ? "true" : "false");
	}
	fputc(']', out);
	kint(out, "mx_total", (int64_t)r->n_mx_total, first);
	kstr(out, "tlsrpt_dns", an_dns_status_name(r->tlsrpt_dns), first);
	txt_array(out, "tlsrpt_txt", r->tlsrpt_txt, r->n_tlsrpt_txt, first);
	kbool(out, "tlsrpt_valid", r->tlsrpt_valid, first);
}

static void record_fetch(FILE *out, const struct an_record *r, bool *first)
{
	char hex[AN_RECORD_HASH_LEN * 2 + 1];

	kstr(out, "policy_host_cname", r->ph_cname, first);
	kstr(out, "policy_host_addr", r->ph_addr, first);
	kstr(out, "fetch", an_fetch_status_name(r->fetch_status), first);
	kint(out, "http_status", r->http_status, first);
	kstr(out, "location", r->location, first);
	kstr(out, "content_type", r->content_type, first);
	key(out, "body_sha256", first);
	if (r->have_body) {
		for (size_t i = 0; i < AN_RECORD_HASH_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", r->body_hash[i]);
		fprintf(out, "\"%s\"", hex);
	} else {
		fputs("null", out);
	}
	kint(out, "body_len", r->body_len, first);
	kint(out, "cert_not_after", r->cert_not_after, first);
	kstr(out, "cert_issuer", r->cert_issuer, first);
	key(out, "cert_names", first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_cert_names; i++) {
		if (i > 0)
			fputc(',', out);
		an_json_str(out, r->cert_names[i]);
	}
	fputc(']', out);
	kint(out, "cert_names_total", (int64_t)r->n_cert_names_total, first);
	kint(out, "fetch_ms", r->fetch_ms, first);
}

static void record_policy(FILE *out, const struct an_record *r, bool *first)
{
	kstr(out, "sts_id", r->sts_id, first);
	key(out, "mode", first);
	if (r->mode != AN_MODE_UNSET)
		an_json_str(out, an_mode_name((enum an_mode)r->mode));
	else
		fputs("null", out);
	kbool(out, "policy_usable", r->policy_usable, first);
	key(out, "max_age", first);
	if (r->have_max_age)
		fprintf(out, "%" PRIu64, r->max_age);
	else
		fputs("null", out);
	key(out, "mx_patterns", first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_patterns; i++) {
		if (i > 0)
			fputc(',', out);
		an_json_str(out, r->patterns[i]);
	}
	fputc(']', out);
}

void an_record_json(FILE *out, const struct an_record *r, const uint8_t *body,
		    size_t body_len)
{
	bool first = true;

	fputc('{', out);
	kstr(out, "domain", r->domain, &first);
	kint(out, "rank", (int64_t)r->rank, &first);
	kint(out, "time", r->time, &first);
	kstr(out, "verdict", r->verdict < AN_V_COUNT
		 ? an_verdict_name((enum an_verdict)r->verdict) : "unknown",
		 &first);
	record_dns(out, r, &first);
	record_fetch(out, r, &first);
	record_policy(out, r, &first);
	kint(out, "mx_judged", (int64_t)r->n_mx_judged, &first);
	kint(out, "mx_covered", (int64_t)r->n_mx_covered, &first);
	kint(out, "mx_usable", (int64_t)r->n_mx_usable, &first);
	key(out, "findings", &first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct an_record_finding *f = &r->findings[i];

		fprintf(out, "%s{\"code\":", i > 0 ? "," : "");
		an_json_str(out, f->code);
		fprintf(out, ",\"severity\":\"%s\",\"detail\":",
			an_severity_name((enum an_severity)f->severity));
		an_json_str(out, f->detail);
		fputc('}', out);
	}
	fputc(']', out);
	kint(out, "findings_total", (int64_t)r->n_findings_total, &first);
	kint(out, "duration_ms", r->duration_ms, &first);
	kint(out, "attempts", r->attempts, &first);
	if (body != NULL) {
		key(out, "policy_body", &first);
		an_json_strn(out, (const char *)body, body_len);
	}
	fputc('}', out);
}

void an_probe_record_json(FILE *out, const struct an_probe_record *p)
{
	bool first = true;

	fputc('{', out);
	kstr(out, "host", p->host, &first);
	kint(out, "time", p->time, &first);
	kstr(out, "status", an_probe_status_name(p->status), &first);
	kstr(out, "addr", p->addr, &first);
	key(out, "tls_version", &first);
	fprintf(out, "\"0x%04x\"", p->tls_version);
	kint(out, "verify_error", p->verify_error, &first);
	kbool(out, "name_match", p->name_match, &first);
	kint(out, "cert_not_after", p->cert_not_after, &first);
	kstr(out, "cert_issuer", p->cert_issuer, &first);
	kbool(out, "tlsa", p->tlsa, &first);
	kbool(out, "tlsa_secure", p->tlsa_secure, &first);
	kstr(out, "detail", p->detail, &first);
	kint(out, "duration_ms", p->duration_ms, &first);
	fputc('}', out);
}
