/*
 * fuzz_groups.c - libFuzzer target for the groups CSV (an_groups_line()).
 *
 * The input is split into lines and fed in order.  Invariants checked: a
 * line is accepted (ST_OK) or refused with a non-empty reason (ST_EPARSE),
 * nothing else; the counts never go down and grow by at most one domain
 * per line; every label found is 1 to AN_GROUP_MAX bytes without control
 * characters; the second time the same input is fed, no line adds a
 * domain (a domain keeps its first group).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "an_groups.h"
#include "st_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed(struct an_groups *g, const uint8_t *data, size_t size,
		 int pass)
{
	const char *s = (const char *)data;
	uint64_t lineno = 0;
	size_t start = 0;

	while (start < size) {
		const char *nl = memchr(s + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - s) + 1 : size;
		size_t before = an_groups_domains(g);
		char why[256];
		int ret = an_groups_line(g, s + start, end - start, ++lineno,
					 why, sizeof(why));

		if (ret != ST_OK && ret != ST_EPARSE)
			__builtin_trap();
		if (ret == ST_EPARSE && why[0] == '\0')
			__builtin_trap();
		if (an_groups_domains(g) < before ||
		    an_groups_domains(g) > before + 1)
			__builtin_trap();
		if (pass == 2 && an_groups_domains(g) != before)
			__builtin_trap();
		start = end;
	}
}

static void check_label(const char *l)
{
	size_t n;

	if (l == NULL)
		return;
	n = strlen(l);
	if (n == 0 || n > AN_GROUP_MAX)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct an_groups *g;

	if (an_groups_new(&g) != ST_OK)
		return 0;
	feed(g, data, size, 1);
	feed(g, data, size, 2);
	check_label(an_groups_of(g, "example.com"));
	check_label(an_groups_of(g, "a.test"));
	if (an_groups_labels(g) > an_groups_domains(g))
		__builtin_trap();
	an_groups_free(g);
	return 0;
}
