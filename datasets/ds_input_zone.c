/*
 * ds_input_zone.c - RFC 1035 §5 master files, one record at a time (see
 * ds_input_zone.h).
 *
 * Why the lines are assembled here and not by ldns's own file reader:
 *  - ldns reads an unclosed '(' to the end of the file, silently.  Here a
 *    record that is still open at the end of the input, at the size cap or
 *    at a second '(' is refused at its first line, and the lines read after
 *    that line are read again: reading resumes at the next line that starts
 *    a record (a '$' directive or an owner in column 1), and every indented
 *    line in between, which belonged to the broken record, is reported as
 *    lost, one bad line each.
 *  - RFC 1035 §5.1 allows "<domain-name> [<TTL>] [<class>] <type> <RDATA>"
 *    and "<domain-name> [<class>] [<TTL>] <type> <RDATA>"; ldns takes only
 *    the first order, so a class followed by a TTL is swapped before ldns
 *    parses the record.
 *  - directives are decided here: $ORIGIN and $TTL are honoured; $INCLUDE
 *    (it would read any file the input names), $GENERATE (a BIND
 *    extension, not expanded) and unknown ones are refused.
 */
#include "ds_input_zone.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "ds_input.h"
#include "st_error.h"

#define WHY_MAX 160
#define TOK_MAX 3

struct ds_zone {
	uint64_t lines;
	int last_byte;                 /* last byte consumed, -1 before any */
	/* bytes read ahead after an unclosed '(', served before fp */
	char *replay;
	size_t replay_len, replay_pos;
	char *rec;                     /* the record's raw lines */
	size_t rec_len;
	char *join;                    /* the record as one line, for ldns */
	uint64_t lost_after;           /* line of the unclosed '(' whose
					* indented lines are being dropped */
	uint32_t ttl;
	ldns_rdf *origin, *prev, *apex, *last_ns;
	bool apex_decided, apex_soa;
	bool any_rr;                   /* a record was parsed */
	ldns_rdf *held;                /* see zone_rr() */
	uint64_t held_line;
	ldns_rr *pending;              /* a record read after the held owner,
					* processed on the next call */
	uint64_t pending_line;
	struct ds_zone_rec stash;      /* a bad line read after it, ditto */
	bool stashed;
	ldns_buffer *owner_text;
	char why[WHY_MAX];
};

int ds_zone_new(struct ds_zone **out)
{
	struct ds_zone *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return ST_ENOMEM;
	z->last_byte = -1;
	z->ttl = LDNS_DEFAULT_TTL;
	z->rec = malloc(DS_ZONE_REC_MAX + 1);
	z->join = malloc(DS_ZONE_REC_MAX + 1);
	z->owner_text = ldns_buffer_new(DS_NAME_MAX + 3);
	if (z->rec == NULL || z->join == NULL || z->owner_text == NULL) {
		ds_zone_free(z);
		return ST_ENOMEM;
	}
	*out = z;
	return ST_OK;
}

void ds_zone_free(struct ds_zone *z)
{
	if (z == NULL)
		return;
	free(z->replay);
	free(z->rec);
	free(z->join);
	ldns_rdf_deep_free(z->origin);
	ldns_rdf_deep_free(z->prev);
	ldns_rdf_deep_free(z->apex);
	ldns_rdf_deep_free(z->last_ns);
	ldns_rdf_deep_free(z->held);
	if (z->pending != NULL)
		ldns_rr_free(z->pending);
	if (z->owner_text != NULL)
		ldns_buffer_free(z->owner_text);
	free(z);
}

uint64_t ds_zone_lines(const struct ds_zone *z)
{
	return z->lines;
}

/* --- lines ------------------------------------------------------------ */

static int zgetc(struct ds_zone *z, FILE *fp)
{
	if (z->replay_pos < z->replay_len)
		return (unsigned char)z->replay[z->replay_pos++];
	return getc_unlocked(fp);
}

/*
 * Append one line (with its '\n') to z->rec.  Returns 1 for a line, 0 at
 * the end; *full when the cap was reached first: the rest of the line is
 * left unread.
 */
static int read_line(struct ds_zone *z, FILE *fp, bool *full)
{
	bool any = false;
	int c;

	*full = false;
	for (;;) {
		if (z->rec_len >= DS_ZONE_REC_MAX) {
			*full = true;
			break;
		}
		c = zgetc(z, fp);
		if (c == EOF)
			break;
		any = true;
		z->last_byte = c;
		z->rec[z->rec_len++] = (char)c;
		if (c == '\n')
			break;
	}
	if (!any)
		return 0;
	z->lines++;
	return 1;
}

/* Skip the rest of a line left unread at the cap. */
static void skip_line(struct ds_zone *z, FILE *fp)
{
	int c;

	do {
		c = zgetc(z, fp);
	} while (c != EOF && c != '\n');
}

/*
 * Parentheses in s[0..len), outside quotes, escapes and comments: adds to
 * *depth; *nested when a '(' opens inside another, *stray for a ')'
 * without its '('.
 */
static void scan_parens(const char *s, size_t len, int *depth, bool *nested,
			bool *stray)
{
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\') {
			i++;
		} else if (c == '"') {
			quoted = !quoted;
		} else if (quoted) {
			continue;
		} else if (c == ';' || c == '\n') {
			return;
		} else if (c == '(') {
			if (++*depth > 1)
				*nested = true;
		} else if (c == ')') {
			if (--*depth < 0) {
				*stray = true;
				*depth = 0;
			}
		}
	}
}

/* A line holding nothing: blanks and perhaps a comment. */
static bool line_empty(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ';' || s[i] == '\n')
			return true;
		if (!isspace((unsigned char)s[i]))
			return false;
	}
	return true;
}

static size_t first_line_len(const struct ds_zone *z)
{
	const char *nl = memchr(z->rec, '\n', z->rec_len);

	return nl != NULL ? (size_t)(nl - z->rec) : z->rec_len;
}

/* --- outcomes --------------------------------------------------------- */

static int refuse(struct ds_zone *z, struct ds_zone_rec *rec, uint64_t line,
		  const char *why)
{
	size_t len = first_line_len(z);

	while (len > 0 && isspace((unsigned char)z->rec[len - 1]))
		len--;
	rec->why = why;
	rec->text = z->rec;
	rec->len = len;
	rec->line = line;
	return 1;
}

/*
 * The record starting at line `start` is still open: refuse it and read
 * again everything after its first line, then what was not read yet.
 */
static int unclosed(struct ds_zone *z, struct ds_zone_rec *rec,
		    uint64_t start, const char *why)
{
	size_t first = first_line_len(z), rest, old;
	char *buf;

	if (first < z->rec_len)
		first++; /* the '\n' */
	rest = z->rec_len - first;
	old = z->replay_len - z->replay_pos;
	buf = malloc(rest + old + 1);
	if (buf == NULL)
		return refuse(z, rec, start, "out of memory");
	memcpy(buf, z->rec + first, rest);
	if (old > 0)
		memcpy(buf + rest, z->replay + z->replay_pos, old);
	free(z->replay);
	z->replay = buf;
	z->replay_len = rest + old;
	z->replay_pos = 0;
	z->lines = start;
	z->lost_after = start;
	return refuse(z, rec, start, why);
}

/* --- joining and reordering ------------------------------------------- */

/* The record as one line: comments dropped, parentheses and line ends
 * turned into blanks, quoted text kept as it is. */
static size_t join_record(struct ds_zone *z)
{
	bool quoted = false, comment = false;
	size_t n = 0;

	for (size_t i = 0; i < z->rec_len; i++) {
		char c = z->rec[i];

		if (c == '\n') {
			comment = quoted = false;
			z->join[n++] = ' ';
		} else if (comment) {
			continue;
		} else if (c == '\\' && i + 1 < z->rec_len &&
			   z->rec[i + 1] != '\n') {
			z->join[n++] = c;
			z->join[n++] = z->rec[++i];
		} else if (c == '"') {
			quoted = !quoted;
			z->join[n++] = c;
		} else if (!quoted && c == ';') {
			comment = true;
		} else if (!quoted && (c == '(' || c == ')' || c == '\r')) {
			z->join[n++] = ' ';
		} else {
			z->join[n++] = c;
		}
	}
	z->join[n] = '\0';
	return n;
}

static bool is_class(const char *s, size_t len)
{
	static const char *const classes[] = { "IN", "CH", "HS", "CS" };

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (len == 2 && strncasecmp(s, classes[i], 2) == 0)
			return true;
	if (len > 5 && strncasecmp(s, "CLASS", 5) == 0) {
		for (size_t i = 5; i < len; i++)
			if (!isdigit((unsigned char)s[i]))
				return false;
		return true;
	}
	return false;
}

/* A TTL: digits, or BIND's units (1h30m); ldns takes both. */
static bool is_ttl(const char *s, size_t len)
{
	if (len == 0 || !isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) &&
		    strchr("sSmMhHdDwW", s[i]) == NULL)
			return false;
	return true;
}

/*
 * RFC 1035 §5.1: "<domain-name> [<TTL>] [<class>] <type> <RDATA>" and
 * "<domain-name> [<class>] [<TTL>] <type> <RDATA>" ("the RR begins with
 * optional TTL and class fields", in either order).  ldns reads the TTL
 * first only, so "IN 7200" becomes "7200 IN".
 */
static void reorder_ttl_class(struct ds_zone *z, size_t len)
{
	size_t start[TOK_MAX], end[TOK_MAX], n = 0, i = 0;
	bool owner = !isspace((unsigned char)z->join[0]);
	size_t a, b;
	char tmp[32];

	while (n < TOK_MAX && i < len) {
		while (i < len && isspace((unsigned char)z->join[i]))
			i++;
		if (i >= len || z->join[i] == '"')
			break;
		start[n] = i;
		while (i < len && !isspace((unsigned char)z->join[i]))
			i++;
		end[n++] = i;
	}
	a = owner ? 1 : 0;
	b = a + 1;
	if (n <= b || !is_class(z->join + start[a], end[a] - start[a]) ||
	    !is_ttl(z->join + start[b], end[b] - start[b]) ||
	    end[b] - start[b] >= sizeof(tmp) || end[a] - start[a] >= 8)
		return;
	{
		size_t la = end[a] - start[a], lb = end[b] - start[b];
		char cls[8];

		memcpy(cls, z->join + start[a], la);
		memcpy(tmp, z->join + start[b], lb);
		/* "CLS<gap>TTL" -> "TTL<gap>CLS", the gap kept */
		memmove(z->join + start[a] + lb, z->join + end[a],
			start[b] - end[a]);
		memcpy(z->join + start[a], tmp, lb);
		memcpy(z->join + end[b] - la, cls, la);
	}
}

/* --- directives ------------------------------------------------------- */

static const char *directive_arg(const char *s, size_t skip)
{
	s += skip;
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

/* Cut at the first blank (the argument is one word). */
static void cut_word(char *s)
{
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	*s = '\0';
}

static const char *set_origin(struct ds_zone *z, char *arg)
{
	ldns_rdf *o = NULL;

	cut_word(arg);
	if (*arg == '\0' ||
	    ldns_str2rdf_dname(&o, arg) != LDNS_STATUS_OK || o == NULL)
		return "bad $ORIGIN name";
	/* RFC 1035 §5.1: a relative name is relative to the origin in
	 * force. */
	if (!ldns_dname_str_absolute(arg) && z->origin != NULL &&
	    ldns_dname_cat(o, z->origin) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(o);
		return "bad $ORIGIN name";
	}
	ldns_rdf_deep_free(z->origin);
	z->origin = o;
	return NULL;
}

/* A '$' line: NULL when honoured, else the reason it is refused. */
static const char *directive(struct ds_zone *z)
{
	char *s = z->join;

	if (strncasecmp(s, "$ORIGIN", 7) == 0 && isspace((unsigned char)s[7]))
		return set_origin(z, (char *)directive_arg(s, 7));
	if (strncasecmp(s, "$TTL", 4) == 0 && isspace((unsigned char)s[4])) {
		char *arg = (char *)directive_arg(s, 4);
		const char *end = NULL;
		uint32_t ttl;

		cut_word(arg);
		ttl = ldns_str2period(arg, &end);
		if (*arg == '\0' || end == NULL || *end != '\0')
			return "bad $TTL value";
		z->ttl = ttl;
		return NULL;
	}
	if (strncasecmp(s, "$INCLUDE", 8) == 0)
		return "$INCLUDE refused"; /* it would read any file named */
	if (strncasecmp(s, "$GENERATE", 9) == 0)
		return "$GENERATE refused (a BIND extension, not expanded)";
	return "unknown $ directive";
}

/* --- records ---------------------------------------------------------- */

static bool in_zone(const struct ds_zone *z, const ldns_rdf *owner)
{
	return z->apex == NULL || ldns_dname_compare(owner, z->apex) == 0 ||
	       ldns_dname_is_subdomain(owner, z->apex);
}

static int yield(struct ds_zone *z, const ldns_rdf *owner, uint64_t line,
		 struct ds_zone_rec *rec)
{
	ldns_buffer *b = z->owner_text;

	if (!in_zone(z, owner)) {
		char *apex = ldns_rdf2str(z->apex);

		snprintf(z->why, sizeof(z->why), "outside the zone %s",
			 apex != NULL ? apex : "?");
		free(apex);
	}

	ldns_buffer_clear(b);
	if (ldns_rdf2buffer_str_dname(b, owner) != LDNS_STATUS_OK ||
	    !ldns_buffer_status_ok(b))
		return refuse(z, rec, line, "out of memory");
	rec->why = in_zone(z, owner) ? NULL : z->why;
	rec->text = (const char *)ldns_buffer_begin(b);
	rec->len = ldns_buffer_position(b);
	rec->line = line;
	return 1;
}

/* The held owner (see zone_rr), yielded once the apex is known: at the
 * SOA, or at the end. */
static int release_held(struct ds_zone *z, struct ds_zone_rec *rec)
{
	int ret = 0;

	if (z->held == NULL)
		return 0;
	if (z->apex == NULL || ldns_dname_compare(z->held, z->apex) != 0)
		ret = yield(z, z->held, z->held_line, rec);
	ldns_rdf_deep_free(z->held);
	z->held = NULL;
	return ret;
}

/*
 * One parsed record.  The apex is the first SOA owner, wherever the SOA
 * stands (an NS record of the apex before it is not a delegation either);
 * until an SOA is read it is the $ORIGIN in force at the first NS record,
 * if any.  Without an $ORIGIN, an NS record that is the file's first
 * record is most likely the apex's: its owner is held back while records
 * of that owner follow, up to the SOA (dropped if it is the SOA owner);
 * at a record of another owner, a bad line or the end it is yielded (a
 * delegation after all), before them, so lines stay in order.  Owners outside the apex's zone are refused (RFC 1035 §5.2: a
 * master file holds one zone; BIND ignores out-of-zone data).  NS owners
 * other than the apex are yielded, once per run of NS records of the same
 * owner.  Returns 1 with an outcome, 0 for nothing to yield.
 */
static int zone_rr(struct ds_zone *z, const ldns_rr *rr, uint64_t line,
		   struct ds_zone_rec *rec)
{
	const ldns_rdf *owner = ldns_rr_owner(rr);
	ldns_rr_type type = ldns_rr_get_type(rr);

	bool first = !z->any_rr;

	if (owner == NULL)
		return 0;
	z->any_rr = true;
	if (type == LDNS_RR_TYPE_SOA && !z->apex_soa) {
		ldns_rdf_deep_free(z->apex);
		z->apex = ldns_rdf_clone(owner);
		z->apex_soa = z->apex_decided = true;
		return release_held(z, rec);
	}
	if (type == LDNS_RR_TYPE_NS && !z->apex_decided) {
		z->apex_decided = true;
		if (z->origin != NULL) {
			z->apex = ldns_rdf_clone(z->origin);
		} else if (first) {
			z->held = ldns_rdf_clone(owner);
			z->held_line = line;
			z->last_ns = ldns_rdf_clone(owner);
			return 0;
		}
	}
	if (!in_zone(z, owner)) {
		(void)yield(z, owner, line, rec); /* the reason, in z->why */
		return refuse(z, rec, line, z->why);
	}
	if (type != LDNS_RR_TYPE_NS)
		return 0;
	if (z->last_ns != NULL && ldns_dname_compare(owner, z->last_ns) == 0)
		return 0;
	ldns_rdf_deep_free(z->last_ns);
	z->last_ns = ldns_rdf_clone(owner);
	if (z->apex != NULL && ldns_dname_compare(owner, z->apex) == 0)
		return 0;
	return yield(z, owner, line, rec);
}

/* The assembled record: a directive or a resource record. */
static int zone_record(struct ds_zone *z, uint64_t start,
		       struct ds_zone_rec *rec)
{
	size_t len = join_record(z);
	ldns_rr *rr = NULL;
	ldns_status st;
	const char *why;
	int ret;

	if (z->join[0] == '$') {
		why = directive(z);
		return why != NULL ? refuse(z, rec, start, why) : 0;
	}
	reorder_ttl_class(z, len);
	st = ldns_rr_new_frm_str(&rr, z->join, z->ttl, z->origin, &z->prev);
	if (st == LDNS_STATUS_OK && z->held != NULL &&
	    ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA &&
	    ldns_dname_compare(ldns_rr_owner(rr), z->held) != 0) {
		z->pending = rr;
		z->pending_line = start;
		return release_held(z, rec);
	}
	if (st != LDNS_STATUS_OK) {
		why = ldns_get_errorstr_by_id(st);
		ret = refuse(z, rec, start, why != NULL ? why : "syntax error");
	} else {
		ret = zone_rr(z, rr, start, rec);
	}
	if (rr != NULL)
		ldns_rr_free(rr);
	return ret;
}

/* Read the lines of one record into z->rec.  Returns 1 with an outcome,
 * 0 for nothing to yield, -1 at the end of the input. */
static int zone_step(struct ds_zone *z, FILE *fp, struct ds_zone_rec *rec)
{
	uint64_t start;
	int depth = 0;
	bool full, nested = false, stray = false;

	z->rec_len = 0;
	if (read_line(z, fp, &full) == 0)
		return -1;
	start = z->lines;
	if (full) {
		skip_line(z, fp);
		z->lost_after = 0;
		return refuse(z, rec, start, "resource record too long");
	}
	if (line_empty(z->rec, z->rec_len))
		return 0;
	if (z->lost_after != 0 && isspace((unsigned char)z->rec[0])) {
		snprintf(z->why, sizeof(z->why),
			 "lost: continues the unclosed '(' of line %" PRIu64,
			 z->lost_after);
		return refuse(z, rec, start, z->why);
	}
	z->lost_after = 0;
	scan_parens(z->rec, z->rec_len, &depth, &nested, &stray);
	while (depth > 0 && !nested) {
		size_t from = z->rec_len;

		if (read_line(z, fp, &full) == 0)
			return unclosed(z, rec, start, "unclosed '('");
		if (full)
			return unclosed(z, rec, start,
					"resource record too long");
		scan_parens(z->rec + from, z->rec_len - from, &depth, &nested,
			    &stray);
	}
	if (nested)
		return unclosed(z, rec, start,
				"unclosed '(' ('(' inside parentheses)");
	if (stray)
		return refuse(z, rec, start, "')' without '('");
	return zone_record(z, start, rec);
}

int ds_zone_next(struct ds_zone *z, FILE *fp, struct ds_zone_rec *rec)
{
	for (;;) {
		int ret;

		if (z->stashed) {
			z->stashed = false;
			*rec = z->stash;
			return 1;
		}
		if (z->pending != NULL) {
			ldns_rr *rr = z->pending;

			z->pending = NULL;
			ret = zone_rr(z, rr, z->pending_line, rec);
			ldns_rr_free(rr);
			if (ret > 0)
				return 1;
		}
		ret = zone_step(z, fp, rec);
		/* Only bad lines get here while an owner is held (records
		 * of other owners went through z->pending); their text is in
		 * z->rec and z->why, which releasing the held owner leaves
		 * alone. */
		if (ret > 0 && z->held != NULL && rec->line > z->held_line) {
			z->stash = *rec;
			z->stashed = true;
			if (release_held(z, rec) > 0)
				return 1;
			continue; /* the stash, at the top */
		}
		if (ret < 0)
			return release_held(z, rec);
		if (ret > 0)
			return 1;
	}
}
