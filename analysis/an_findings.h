/*
 * an_findings.h - the finding taxonomy (DESIGN §4) and per-domain finding lists.
 *
 * Every finding stsmap can report has one row in an_findings.def, from
 * which enum an_code and the table behind an_code_info() are generated: a
 * stable code string ("policy.max-age-invalid"), a default
 * severity, the layer, a one-line description and the RFC reference.  Codes
 * are stored by name in results, so the enum order may change but a code
 * string never does once released.
 *
 * A struct an_findings is a fixed-capacity list filled by the parsers and the
 * classifier.  It owns no heap memory; it can be copied and dropped freely.
 */
#ifndef AN_FINDINGS_H
#define AN_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum an_severity {
	AN_SEV_INFO = 0,
	AN_SEV_WARN = 1,
	AN_SEV_ERROR = 2,
};

enum an_layer {
	AN_LAYER_INPUT,
	AN_LAYER_STS_RECORD,
	AN_LAYER_POLICY_HOST,
	AN_LAYER_HTTP,
	AN_LAYER_POLICY,
	AN_LAYER_CONSISTENCY,
	AN_LAYER_MX_TLS,
	AN_LAYER_TLSRPT,
	AN_LAYER_LONGITUDINAL,
};

/* One per row of an_findings.def, in its order. */
#define AN_FINDING(id, n, s, l, d, r) AN_F_##id,
enum an_code {
#include "an_findings.def"
	AN_F_COUNT
};


struct an_code_info {
	enum an_code code;
	const char *name;        /* stable, e.g. "policy.max-age-invalid" */
	enum an_severity severity; /* default; an instance may differ */
	enum an_layer layer;
	const char *description; /* one line, no trailing period */
	const char *rfc;         /* e.g. "RFC 8461 §3.2" */
};

/* The table row for code, or NULL if code is out of range.  Static data. */
const struct an_code_info *an_code_info(enum an_code code);

/* Look a code up by its stable name; ST_ENOENT if unknown. */
int an_code_from_name(const char *name, enum an_code *code);

const char *an_severity_name(enum an_severity sev); /* "info"/"warn"/"error" */
const char *an_layer_name(enum an_layer layer);     /* "sts-record", ... */

#define AN_DETAIL_MAX 128 /* bytes, NUL included; longer details are cut */
#define AN_FINDINGS_MAX 48

struct an_finding {
	enum an_code code;
	enum an_severity severity;
	char detail[AN_DETAIL_MAX]; /* printable ASCII only (see an_findings_add) */
};

struct an_findings {
	size_t n;
	size_t dropped; /* findings that did not fit; reported, never silent */
	struct an_finding item[AN_FINDINGS_MAX];
};

void an_findings_init(struct an_findings *f);

/* Append a finding with the code's default severity.  The formatted detail
 * is cut to AN_DETAIL_MAX-1 bytes and every byte outside 0x20-0x7e is
 * replaced by '?', so server-controlled text can never inject control
 * characters into reports.  When the list is full, f->dropped is counted
 * and the new finding replaces the latest one of lower severity, if any:
 * errors are never lost to a flood of warnings. */
void an_findings_add(struct an_findings *f, enum an_code code,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As an_findings_add, with an explicit severity (e.g. an uncovered MX host is
 * an error under enforce and a warning under testing). */
void an_findings_add_sev(struct an_findings *f, enum an_code code,
			 enum an_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* True if code is in the list. */
bool an_findings_has(const struct an_findings *f, enum an_code code);

/* Number of findings of at least severity sev. */
size_t an_findings_count_sev(const struct an_findings *f, enum an_severity sev);

#endif /* AN_FINDINGS_H */
