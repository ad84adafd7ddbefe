#include "an_findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "st_error.h"

#define R8461 "RFC 8461"
#define R8460 "RFC 8460"

#define AN_FINDING(id, n, s, l, d, r) \
	[AN_F_##id] = { AN_F_##id, n, AN_SEV_##s, AN_LAYER_##l, d, r },

/* The rows of an_findings.def, indexed by code. */
static const struct an_code_info code_table[AN_F_COUNT] = {
#include "an_findings.def"
};

const struct an_code_info *an_code_info(enum an_code code)
{
	if ((unsigned)code >= AN_F_COUNT)
		return NULL;
	return &code_table[code];
}

int an_code_from_name(const char *name, enum an_code *code)
{
	for (size_t i = 0; i < AN_F_COUNT; i++) {
		if (code_table[i].name != NULL &&
		    strcmp(code_table[i].name, name) == 0) {
			*code = (enum an_code)i;
			return ST_OK;
		}
	}
	return ST_ENOENT;
}

const char *an_severity_name(enum an_severity sev)
{
	switch (sev) {
	case AN_SEV_INFO: return "info";
	case AN_SEV_WARN: return "warn";
	case AN_SEV_ERROR: return "error";
	}
	return "unknown";
}

const char *an_layer_name(enum an_layer layer)
{
	switch (layer) {
	case AN_LAYER_INPUT: return "input";
	case AN_LAYER_STS_RECORD: return "sts-record";
	case AN_LAYER_POLICY_HOST: return "policy-host";
	case AN_LAYER_HTTP: return "http";
	case AN_LAYER_POLICY: return "policy";
	case AN_LAYER_CONSISTENCY: return "consistency";
	case AN_LAYER_MX_TLS: return "mx-tls";
	case AN_LAYER_TLSRPT: return "tlsrpt";
	case AN_LAYER_LONGITUDINAL: return "longitudinal";
	}
	return "unknown";
}

void an_findings_init(struct an_findings *f)
{
	f->n = 0;
	f->dropped = 0;
}

static void add_va(struct an_findings *f, enum an_code code,
		   enum an_severity sev, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void add_va(struct an_findings *f, enum an_code code,
		   enum an_severity sev, const char *fmt, va_list ap)
{
	struct an_finding *it;

	if (f->n >= AN_FINDINGS_MAX) {
		/* Full: a finding displaces the latest less severe one, so a
		 * flood of warnings can never hide an error. */
		size_t i = f->n;

		f->dropped++;
		while (i > 0 && f->item[i - 1].severity >= sev)
			i--;
		if (i == 0)
			return;
		it = &f->item[i - 1];
	} else {
		it = &f->item[f->n++];
	}
	it->code = code;
	it->severity = sev;
	it->detail[0] = '\0';
	if (fmt != NULL)
		vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	/* Details quote server-controlled bytes: keep them printable. */
	for (char *p = it->detail; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7e)
			*p = '?';
	}
}

void an_findings_add(struct an_findings *f, enum an_code code,
		     const char *fmt, ...)
{
	const struct an_code_info *info = an_code_info(code);
	va_list ap;

	va_start(ap, fmt);
	add_va(f, code, info != NULL ? info->severity : AN_SEV_ERROR, fmt, ap);
	va_end(ap);
}

void an_findings_add_sev(struct an_findings *f, enum an_code code,
			 enum an_severity sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_va(f, code, sev, fmt, ap);
	va_end(ap);
}

bool an_findings_has(const struct an_findings *f, enum an_code code)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->item[i].code == code)
			return true;
	}
	return false;
}

size_t an_findings_count_sev(const struct an_findings *f, enum an_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (f->item[i].severity >= sev)
			n++;
	}
	return n;
}
