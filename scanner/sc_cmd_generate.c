/*
 * sc_cmd_generate.c - `stsmap generate`: a consistent MTA-STS TXT record
 * and policy file from an MX set, a mode and a max_age (an_generate.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "an_generate.h"
#include "an_policy.h"
#include "sc_cli.h"
#include "st_error.h"

#define GEN_MAX_MX AN_POLICY_MX_MAX
#define GEN_MAX_AGE_DEFAULT 604800 /* one week */

enum gen_opt { GEN_MX = 1, GEN_MODE, GEN_MAX_AGE, GEN_NOW };

/* RFC 8461 §3.2: max_age "up to 31557600"; the help says the number. */
_Static_assert(AN_POLICY_MAX_AGE_MAX == 31557600u, "--max-age help");

static const struct sc_opt gen_opts[] = {
	{ "mx", "HOST", GEN_MX, "an MX host or *.pattern (repeat; required "
				"unless --mode none)" },
	{ "mode", "MODE", GEN_MODE, "enforce, testing or none (default "
				    "testing)" },
	{ "max-age", "SECONDS", GEN_MAX_AGE, "policy lifetime, 1 to 31557600 "
	  "(default " SC_STR(GEN_MAX_AGE_DEFAULT) ", one week)" },
	{ "now", "UNIXTIME", GEN_NOW, "time the id is derived from (default: "
				      "now; for reproducible output)" },
	SC_OPT_END,
};

struct gen_args {
	const char *mx[GEN_MAX_MX];
	struct an_gen_request req;
};

static int parse_mode(const char *s, enum an_mode *mode)
{
	if (strcmp(s, "enforce") == 0)
		*mode = AN_MODE_ENFORCE;
	else if (strcmp(s, "testing") == 0)
		*mode = AN_MODE_TESTING;
	else if (strcmp(s, "none") == 0)
		*mode = AN_MODE_NONE;
	else
		return ST_EINVAL;
	return ST_OK;
}

static int take(void *ctx, int id, const char *arg)
{
	struct gen_args *g = ctx;
	unsigned long long v;

	switch (id) {
	case GEN_MX:
		if (g->req.n_mx >= GEN_MAX_MX) {
			fprintf(stderr, "stsmap generate: at most %d --mx\n",
				GEN_MAX_MX);
			return 2;
		}
		g->mx[g->req.n_mx++] = arg;
		return 0;
	case GEN_MODE:
		if (parse_mode(arg, &g->req.mode) != ST_OK) {
			fprintf(stderr, "stsmap generate: --mode must be "
					"enforce, testing or none\n");
			return 2;
		}
		return 0;
	case GEN_MAX_AGE:
		if (sc_opt_u64(arg, AN_POLICY_MAX_AGE_MAX, &v) != ST_OK ||
		    v == 0) {
			fprintf(stderr, "stsmap generate: --max-age must be 1 "
					"to %u\n", AN_POLICY_MAX_AGE_MAX);
			return 2;
		}
		g->req.max_age = v;
		return 0;
	case GEN_NOW:
		if (sc_opt_u64(arg, 253402300799ull, &v) != ST_OK) {
			fprintf(stderr, "stsmap generate: bad --now\n");
			return 2;
		}
		g->req.now = (time_t)v;
		return 0;
	}
	return SC_CLI_USAGE;
}

int sc_cmd_generate(int argc, char **argv)
{
	static const struct sc_cli cli = {
		.cmd = "generate",
		.synopsis = "generate --mx HOST... [--mode M] [--max-age S]",
		.summary = "Print a consistent MTA-STS TXT record (for "
			   "_mta-sts.DOMAIN) and policy file\n(for "
			   "https://mta-sts.DOMAIN/.well-known/mta-sts.txt).",
		.opts = gen_opts,
		.name_extra = true,
	};
	struct gen_args g = { .req = { .mode = AN_MODE_TESTING,
				       .max_age = GEN_MAX_AGE_DEFAULT,
				       .now = time(NULL) } };
	char txt[AN_GEN_TXT_MAX], policy[AN_POLICY_BODY_MAX];
	size_t policy_len = 0;
	int ret;

	g.req.mx = g.mx;
	ret = sc_cli_parse(&cli, argc, argv, take, &g);
	if (ret == SC_CLI_GO)
		ret = sc_cli_operands(&cli, argc, argv, 0, 0);
	if (ret != SC_CLI_GO)
		return ret;
	ret = an_generate(&g.req, txt, sizeof(txt), policy, sizeof(policy),
			  &policy_len);
	if (ret != ST_OK) {
		fprintf(stderr, "stsmap generate: %s (check every --mx is a host "
				"name and --mode enforce/testing has one)\n",
			st_strerror(ret));
		return ret == ST_EINVAL ? 2 : 1; /* a bad --mx is a usage error */
	}
	printf("# TXT record for _mta-sts.<domain>:\n%s\n\n"
	       "# Policy file for https://mta-sts.<domain>/.well-known/"
	       "mta-sts.txt\n# (serve as text/plain, HTTP 200, no redirect):\n",
	       txt);
	fwrite(policy, 1, policy_len, stdout);
	return 0;
}
