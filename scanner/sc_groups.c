/*
 * sc_groups.c - reading a --groups file; see sc_groups.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sc_groups.h"
#include "st_error.h"

#define SC_GROUPS_SHOWN 20 /* bad lines named before only counting */

int sc_groups_load(const char *cmd, const char *path, struct an_groups **out)
{
	struct an_groups *g = NULL;
	char *line = NULL, why[256];
	size_t cap = 0;
	uint64_t lineno = 0, bad = 0;
	ssize_t n;
	FILE *fp;
	int ret;

	*out = NULL;
	fp = fopen(path, "r");
	if (fp == NULL) {
		int e = errno;

		fprintf(stderr, "stsmap %s: %s: %s\n", cmd, path, strerror(e));
		return e == ENOENT ? ST_ENOENT : ST_EIO;
	}
	ret = an_groups_new(&g);
	while (ret == ST_OK && (n = getline(&line, &cap, fp)) >= 0) {
		int r = an_groups_line(g, line, (size_t)n, ++lineno, why,
				       sizeof(why));

		if (r == ST_EPARSE) {
			if (++bad <= SC_GROUPS_SHOWN)
				fprintf(stderr, "stsmap %s: %s:%llu: %s\n", cmd,
					path, (unsigned long long)lineno, why);
		} else if (r != ST_OK) {
			ret = r;
		}
	}
	if (ret == ST_OK && ferror(fp)) {
		fprintf(stderr, "stsmap %s: %s: read error\n", cmd, path);
		ret = ST_EIO;
	}
	fclose(fp);
	free(line);
	if (ret == ST_OK && bad > 0) {
		fprintf(stderr, "stsmap %s: %s: %llu bad line%s; no report "
				"written\n", cmd, path, (unsigned long long)bad,
			bad == 1 ? "" : "s");
		ret = ST_EPARSE;
	}
	if (ret == ST_ENOMEM)
		fprintf(stderr, "stsmap %s: %s: out of memory\n", cmd, path);
	if (ret != ST_OK) {
		an_groups_free(g);
		return ret;
	}
	*out = g;
	return ST_OK;
}
