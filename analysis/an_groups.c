/*
 * an_groups.c - the domain -> group map; see an_groups.h.
 *
 * Domains and labels are copied into one arena; two hash maps index them
 * (domain -> label, label -> the one stored copy of the label).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "an_groups.h"
#include "an_text.h"
#include "ds_input.h"
#include "st_arena.h"
#include "st_error.h"
#include "st_hmap.h"

struct an_groups {
	struct st_arena arena;
	struct st_hmap domains; /* domain -> label (both in the arena) */
	struct st_hmap labels;  /* label -> label */
};

int an_groups_new(struct an_groups **out)
{
	struct an_groups *g;

	if (out == NULL)
		return ST_EINVAL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return ST_ENOMEM;
	st_arena_init(&g->arena, SIZE_MAX);
	st_hmap_init(&g->domains);
	st_hmap_init(&g->labels);
	*out = g;
	return ST_OK;
}

void an_groups_free(struct an_groups *g)
{
	if (g == NULL)
		return;
	st_hmap_free(&g->domains);
	st_hmap_free(&g->labels);
	st_arena_free(&g->arena);
	free(g);
}

/* One CSV cell starting at s[*i]: unquoted up to ',' or the end, or quoted
 * with "" inside.  The unquoted cell is copied as is (blanks trimmed by the
 * caller).  Returns 0, or -1 with why set. */
static int cell(const char *s, size_t len, size_t *i, char *out, size_t cap,
		size_t *outlen, const char **why)
{
	size_t n = 0, p = *i;

	if (p < len && s[p] == '"') {
		for (p++;; p++) {
			if (p == len) {
				*why = "unterminated quoted cell";
				return -1;
			}
			if (s[p] == '"') {
				if (p + 1 < len && s[p + 1] == '"') {
					p++;
				} else {
					p++;
					break;
				}
			}
			if (n == cap) {
				*why = "cell too long";
				return -1;
			}
			out[n++] = s[p];
		}
		if (p < len && s[p] != ',') {
			*why = "text after a quoted cell";
			return -1;
		}
	} else {
		for (; p < len && s[p] != ','; p++) {
			if (s[p] == '"') {
				*why = "quote inside an unquoted cell";
				return -1;
			}
			if (n == cap) {
				*why = "cell too long";
				return -1;
			}
			out[n++] = s[p];
		}
	}
	*i = p;
	*outlen = n;
	return 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Valid UTF-8 (an_utf8_len(): no overlongs, surrogates or code points past
 * U+10FFFF) without C0/C1 control characters or DEL. */
static bool label_ok(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t l = an_utf8_len(s + i, len - i);

		if (l == 0 || s[i] < 0x20 || s[i] == 0x7f ||
		    (l == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0))
			return false; /* C1: U+0080..U+009F is C2 80..C2 9F */
		i += l;
	}
	return true;
}

static bool is_header(const char *d, size_t dl, const char *l, size_t ll)
{
	return dl == 6 && ll == 5 && strncasecmp(d, "domain", 6) == 0 &&
	       strncasecmp(l, "group", 5) == 0;
}

/* A bad line: why = a followed by b. */
static int fail(char *why, size_t whylen, const char *a, const char *b)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s%s", a, b);
	return ST_EPARSE;
}

/* Put domain -> label (both normalised), storing each label once. */
static int put(struct an_groups *g, const char *name, const char *label,
	       size_t llen, char *why, size_t whylen)
{
	char key[AN_GROUP_MAX + 1];
	const char *have = st_hmap_get(&g->domains, name);
	char *lab, *dom;

	memcpy(key, label, llen);
	key[llen] = '\0';
	if (have != NULL) {
		if (strcmp(have, key) == 0)
			return ST_OK;
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "%s is already in group \"%s\"",
				 name, have);
		return ST_EPARSE;
	}
	lab = st_hmap_get(&g->labels, key);
	if (lab == NULL) {
		lab = st_arena_strndup(&g->arena, key, llen);
		if (lab == NULL || st_hmap_put(&g->labels, lab, lab) != ST_OK)
			return ST_ENOMEM;
	}
	dom = st_arena_strdup(&g->arena, name);
	if (dom == NULL || st_hmap_put(&g->domains, dom, lab) != ST_OK)
		return ST_ENOMEM;
	return ST_OK;
}

int an_groups_line(struct an_groups *g, const char *line, size_t len,
		   uint64_t lineno, char *why, size_t whylen)
{
	char dbuf[512], lbuf[AN_GROUP_MAX * 2], name[DS_NAME_MAX + 1];
	const char *d = dbuf, *l = lbuf, *nwhy = NULL;
	size_t dl = 0, ll = 0, i = 0;
	const char *cwhy = NULL;

	if (g == NULL || line == NULL)
		return ST_EINVAL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	{
		const char *s = line;
		size_t sl = len;

		trim(&s, &sl);
		if (sl == 0 || s[0] == '#')
			return ST_OK;
	}
	if (cell(line, len, &i, dbuf, sizeof(dbuf), &dl, &cwhy) != 0)
		return fail(why, whylen, "domain: ", cwhy);
	if (i == len)
		return fail(why, whylen, "", "no group: expected domain,group");
	i++; /* the comma */
	if (cell(line, len, &i, lbuf, sizeof(lbuf), &ll, &cwhy) != 0)
		return fail(why, whylen, "group: ", cwhy);
	if (i != len)
		return fail(why, whylen, "more than two cells: ",
			    "expected domain,group");
	trim(&d, &dl);
	trim(&l, &ll);
	if (lineno == 1 && is_header(d, dl, l, ll))
		return ST_OK;
	if (ds_name_normalise(d, dl, name, &nwhy) != ST_OK)
		return fail(why, whylen, "bad domain: ",
			    nwhy != NULL ? nwhy : "not a name");
	if (ll == 0)
		return fail(why, whylen, "", "empty group");
	if (ll > AN_GROUP_MAX)
		return fail(why, whylen, "", "group longer than 128 bytes");
	if (!label_ok((const unsigned char *)l, ll))
		return fail(why, whylen, "group is not valid UTF-8 text ",
			    "(or has control "
			    "characters)");
	return put(g, name, l, ll, why, whylen);
}

const char *an_groups_of(const struct an_groups *g, const char *domain)
{
	if (g == NULL || domain == NULL)
		return NULL;
	return st_hmap_get(&g->domains, domain);
}

size_t an_groups_domains(const struct an_groups *g)
{
	return g != NULL ? g->domains.n : 0;
}

size_t an_groups_labels(const struct an_groups *g)
{
	return g != NULL ? g->labels.n : 0;
}
