/*
 * ds_store_meta.c - the version-1 migration of a scan's info: its typed
 * options and input digests read out of the metadata JSON version 1 kept
 * them in (ds_scan_meta_v1() in ds_store_scan.h).
 *
 * A small strict JSON reader over a NUL-terminated string: a cursor with
 * a sticky error and a nesting cap, values skipped unless asked for,
 * strings unescaped into a capped buffer.  Anything it does not
 * understand leaves the fields unknown; it never reads past the NUL.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ds_input.h"
#include "ds_store_scan.h"

#define DEPTH_MAX 64

struct js {
	const char *p;
	unsigned depth;
	bool bad;
};

static void ws(struct js *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	       *j->p == '\r')
		j->p++;
}

/* Consume c (after blanks) if it is next. */
static bool eat(struct js *j, char c)
{
	ws(j);
	if (j->bad || *j->p != c)
		return false;
	j->p++;
	return true;
}

static void need(struct js *j, char c)
{
	if (!eat(j, c))
		j->bad = true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after the backslash; the code point, or -1. */
static long escape(struct js *j)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = *j->p != '\0' ? strchr(from, *j->p) : NULL;
	long cp = 0;

	if (e != NULL) {
		j->p++;
		return (unsigned char)to[e - from];
	}
	if (*j->p != 'u')
		return -1;
	for (int i = 1; i <= 4; i++) {
		int h = hexval(j->p[i]);

		if (h < 0)
			return -1;
		cp = cp * 16 + h;
	}
	j->p += 5;
	return cp;
}

/* A string at the cursor, unescaped into dst[cap] (dst NULL: skipped).
 * A string longer than cap - 1 bytes, or a \u escape outside ASCII (the
 * writer never made one for the fields read here), marks *fit false. */
static void str(struct js *j, char *dst, size_t cap, bool *fit)
{
	size_t n = 0;

	*fit = true;
	if (!eat(j, '"'))
		goto bad;
	while (*j->p != '"') {
		long c;

		if (*j->p == '\0' || (unsigned char)*j->p < 0x20)
			goto bad;
		if (*j->p == '\\') {
			j->p++;
			c = escape(j);
			if (c < 0)
				goto bad;
			if (c > 0x7f || c == 0)
				*fit = false;
		} else {
			c = (unsigned char)*j->p++;
		}
		if (dst != NULL && n + 1 < cap)
			dst[n++] = (char)c;
		else if (dst != NULL)
			*fit = false;
	}
	j->p++;
	if (dst != NULL)
		dst[n] = '\0';
	return;
bad:
	j->bad = true;
	*fit = false;
	if (dst != NULL && cap > 0)
		dst[0] = '\0';
}

static bool word(struct js *j, const char *w)
{
	size_t n = strlen(w);

	ws(j);
	if (strncmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static void skip_value(struct js *j);

/* The members of an object: call with the cursor after '{' once, then
 * each call reads one "key": into key[cap] and returns true, or reads the
 * closing '}' and returns false. */
static bool member(struct js *j, bool *first, char *key, size_t cap)
{
	bool fit;

	if (j->bad || eat(j, '}'))
		return false;
	if (!*first)
		need(j, ',');
	*first = false;
	str(j, key, cap, &fit);
	if (!fit)
		key[0] = '\0'; /* a key not read here: its value is skipped */
	need(j, ':');
	return !j->bad;
}

/* An array's items, the same way around ']'. */
static bool item(struct js *j, bool *first)
{
	if (j->bad || eat(j, ']'))
		return false;
	if (!*first)
		need(j, ',');
	*first = false;
	return !j->bad;
}

static void skip_value(struct js *j)
{
	char key[8];
	bool first = true, fit;

	ws(j);
	if (j->bad || ++j->depth > DEPTH_MAX) {
		j->bad = true;
		return;
	}
	if (*j->p == '"') {
		str(j, NULL, 0, &fit);
	} else if (eat(j, '{')) {
		while (member(j, &first, key, sizeof(key)))
			skip_value(j);
	} else if (eat(j, '[')) {
		while (item(j, &first))
			skip_value(j);
	} else if (!word(j, "true") && !word(j, "false") && !word(j, "null")) {
		const char *s = j->p;

		j->p += strspn(j->p, "+-0123456789.eE");
		if (j->p == s)
			j->bad = true;
	}
	j->depth--;
}

/* true or false at the cursor into *out; anything else is skipped and
 * marks *ok false. */
static void boolean(struct js *j, bool *out, bool *ok)
{
	if (word(j, "true")) {
		*out = true;
	} else if (word(j, "false")) {
		*out = false;
	} else {
		*ok = false;
		skip_value(j);
	}
}

/* "options":{...} of a version-1 scan meta. */
static void options(struct js *j, struct ds_scan_info *out)
{
	char key[32], name[16];
	bool first = true, ok = true, fit, seen[6] = { false };
	enum ds_input_format fmt = DS_FMT_AUTO;

	if (!eat(j, '{')) {
		skip_value(j);
		return;
	}
	while (member(j, &first, key, sizeof(key))) {
		if (strcmp(key, "format") == 0) {
			str(j, name, sizeof(name), &fit);
			ok = ok && fit && ds_input_format_from_name(name, &fmt) == 0;
			seen[0] = true;
		} else if (strcmp(key, "probe_mx") == 0) {
			boolean(j, &out->probe_mx, &ok);
			seen[1] = true;
		} else if (strcmp(key, "dane") == 0) {
			boolean(j, &out->dane, &ok);
			seen[2] = true;
		} else if (strcmp(key, "fetch_all") == 0) {
			boolean(j, &out->fetch_all, &ok);
			seen[3] = true;
		} else if (strcmp(key, "allow_private") == 0) {
			boolean(j, &out->allow_private, &ok);
			seen[4] = true;
		} else if (strcmp(key, "exclude") == 0) {
			if (!word(j, "null")) {
				str(j, out->exclude, sizeof(out->exclude), &fit);
				ok = ok && fit;
			}
			seen[5] = true;
		} else {
			skip_value(j);
		}
	}
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		ok = ok && seen[i];
	out->format = (uint8_t)fmt;
	out->have_options = ok && !j->bad;
	if (!out->have_options) {
		out->format = 0;
		out->probe_mx = out->dane = out->fetch_all = false;
		out->allow_private = false;
		out->exclude[0] = '\0';
	}
}

/* "inputs":[{"path":...,"sha256":"<hex>"|null},...]. */
static void inputs(struct js *j, struct ds_scan_info *out)
{
	char key[16];
	bool first = true, fit;

	if (!eat(j, '[')) {
		skip_value(j);
		return;
	}
	while (item(j, &first)) {
		bool f2 = true;
		char *d;

		if (out->n_inputs == DS_SCAN_INPUTS_MAX || !eat(j, '{')) {
			j->bad = true;
			break;
		}
		d = out->input_sha256[out->n_inputs];
		d[0] = '\0';
		while (member(j, &f2, key, sizeof(key))) {
			if (strcmp(key, "sha256") != 0 || word(j, "null")) {
				if (strcmp(key, "sha256") != 0)
					skip_value(j);
				continue;
			}
			str(j, d, DS_SCAN_DIGEST_LEN, &fit);
			if (!fit || strlen(d) != DS_SCAN_DIGEST_LEN - 1 ||
			    strspn(d, "0123456789abcdef") != strlen(d))
				j->bad = true;
		}
		out->n_inputs++;
	}
	if (j->bad)
		out->n_inputs = 0;
}

/* The first shard's meta in "merge":{..."shards":[{..."meta":{}}]}. */
static void merged(struct js *j, struct ds_scan_info *out);

/* A scan meta object: its options and inputs (top: also "merge"). */
static void scan_meta(struct js *j, struct ds_scan_info *out, bool top)
{
	char key[16];
	bool first = true;

	if (!eat(j, '{')) {
		skip_value(j);
		return;
	}
	while (member(j, &first, key, sizeof(key))) {
		if (strcmp(key, "options") == 0)
			options(j, out);
		else if (strcmp(key, "inputs") == 0)
			inputs(j, out);
		else if (top && strcmp(key, "merge") == 0)
			merged(j, out);
		else
			skip_value(j);
	}
}

static void merged(struct js *j, struct ds_scan_info *out)
{
	char key[16];
	bool first = true, f2 = true, f3;

	if (!eat(j, '{')) {
		skip_value(j);
		return;
	}
	while (member(j, &first, key, sizeof(key))) {
		if (strcmp(key, "shards") != 0 || !eat(j, '[')) {
			skip_value(j);
			continue;
		}
		for (bool one = true; item(j, &f2); one = false) {
			if (!one || !eat(j, '{')) {
				skip_value(j);
				continue;
			}
			f3 = true;
			while (member(j, &f3, key, sizeof(key))) {
				if (strcmp(key, "meta") == 0)
					scan_meta(j, out, false);
				else
					skip_value(j);
			}
		}
	}
}

void ds_scan_meta_v1(const char *meta, struct ds_scan_info *out)
{
	struct js j = { meta, 0, false };

	if (meta == NULL)
		return;
	scan_meta(&j, out, true);
	if (j.bad) {
		/* Half-read JSON says nothing reliable. */
		out->have_options = false;
		out->format = 0;
		out->probe_mx = out->dane = out->fetch_all = false;
		out->allow_private = false;
		out->exclude[0] = '\0';
		out->n_inputs = 0;
	}
}
