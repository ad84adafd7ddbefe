/*
 * sc_lint.c - `stsmap lint`: classify one domain from data given by hand.
 *
 * The operator (or a test) passes the TXT records, the policy file and the
 * MX hosts; lint runs exactly the classifier a scan runs and prints the
 * findings and the sender verdict.  No network I/O: what DNS or HTTPS would
 * have returned is what the options say.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_classify.h"
#include "sc_cli.h"
#include "st_error.h"

#define LINT_MAX_TXT 16
#define LINT_MAX_MX AN_CLASSIFY_MX_MAX

enum lint_opt {
	LINT_DOMAIN = 1,
	LINT_TXT,
	LINT_POLICY,
	LINT_CONTENT_TYPE,
	LINT_STATUS,
	LINT_MX,
	LINT_TLSRPT,
};

/* Each default once: the option table's help and the observation both
 * use these. */
#define LINT_DEFAULT_DOMAIN "example.com"
#define LINT_DEFAULT_CONTENT_TYPE "text/plain"
#define LINT_DEFAULT_STATUS 200

static const struct sc_opt lint_opts[] = {
	{ "domain", "NAME", LINT_DOMAIN, "the policy domain (default "
					 LINT_DEFAULT_DOMAIN ")" },
	{ "txt", "TEXT", LINT_TXT, "a TXT record at _mta-sts.DOMAIN (repeat; "
				   "none: NXDOMAIN)" },
	{ "policy", "FILE", LINT_POLICY, "the policy file as served (default: "
					 "not fetched)" },
	{ "content-type", "TYPE", LINT_CONTENT_TYPE, "Content-Type it is "
						     "served with (default "
						     LINT_DEFAULT_CONTENT_TYPE ")" },
	{ "http-status", "CODE", LINT_STATUS, "HTTP status it is served with "
					      "(default "
					      SC_STR(LINT_DEFAULT_STATUS) ")" },
	{ "mx", "HOST", LINT_MX, "an MX host of DOMAIN (repeat; none: no MX "
				 "records; '.': null MX)" },
	{ "tlsrpt", "TEXT", LINT_TLSRPT, "a TXT record at _smtp._tls.DOMAIN "
					 "(repeat; none: NXDOMAIN)" },
	SC_OPT_END,
};

struct lint_input {
	struct an_bytes txt[LINT_MAX_TXT];
	struct an_bytes rpt[LINT_MAX_TXT];
	struct an_mx_host mx[LINT_MAX_MX];
	uint8_t *body; /* owned: read from --policy */
	size_t body_len;
};

/* Read at most AN_POLICY_BODY_MAX + 1 bytes: one more than the cap is
 * enough to know the file is too large. */
static int read_policy(const char *path, struct lint_input *in)
{
	FILE *fp = fopen(path, "rb");
	int ret = ST_OK;

	if (fp == NULL) {
		fprintf(stderr, "stsmap lint: %s: %s\n", path, strerror(errno));
		return ST_EIO;
	}
	in->body = malloc(AN_POLICY_BODY_MAX + 1);
	if (in->body == NULL) {
		ret = ST_ENOMEM;
		goto cleanup;
	}
	in->body_len = fread(in->body, 1, AN_POLICY_BODY_MAX + 1, fp);
	if (ferror(fp)) {
		fprintf(stderr, "stsmap lint: %s: read error\n", path);
		ret = ST_EIO;
	}
cleanup:
	fclose(fp);
	return ret;
}

static void print_result(const struct an_observation *obs,
			 const struct an_classification *cl)
{
	const struct an_findings *f = &cl->findings;

	printf("domain    %s\n", obs->domain);
	printf("verdict   %s\n", an_verdict_name(cl->verdict));
	printf("record    %s%s%s\n", an_sts_status_name(cl->record.status),
	       cl->record.id[0] != '\0' ? ", id " : "", cl->record.id);
	if (cl->have_policy)
		printf("policy    %s, mode %s, max_age %llu, %zu mx pattern(s)\n",
		       cl->policy.usable ? "usable" : "unusable",
		       an_mode_name(cl->policy.mode),
		       (unsigned long long)cl->policy.max_age, cl->policy.n_mx);
	else
		printf("policy    not fetched\n");
	for (size_t i = 0; i < obs->n_mx && i < AN_CLASSIFY_MX_MAX; i++) {
		const char *name = obs->mx[i].name;
		bool root = name[0] == '\0' || strcmp(name, ".") == 0;

		printf("mx        %s%s\n", root ? ". (null MX)" : name,
		       !cl->have_policy || root ? ""
		       : cl->mx_covered[i] ? "  covered" : "  NOT covered");
	}
	if (obs->n_mx == 0 && cl->n_mx == 1)
		printf("mx        %s (implicit MX)%s\n", obs->domain,
		       !cl->have_policy ? ""
		       : cl->mx_covered[0] ? "  covered" : "  NOT covered");
	printf("tlsrpt    %s\n", an_tlsrpt_status_name(cl->tlsrpt.status));
	printf("findings  %zu\n", f->n);
	for (size_t i = 0; i < f->n; i++) {
		const struct an_code_info *info = an_code_info(f->item[i].code);

		/* The detail says what was seen; the description, kept for
		 * findings without one, says what the code means. */
		printf("  %-5s  %-30s %s\n",
		       an_severity_name(f->item[i].severity), info->name,
		       f->item[i].detail[0] != '\0' ? f->item[i].detail
						     : info->description);
	}
	if (f->dropped > 0)
		printf("  (%zu more findings not kept)\n", f->dropped);
}

static int add_bytes(struct an_bytes *arr, size_t *n, const char *s)
{
	if (*n >= LINT_MAX_TXT) {
		fprintf(stderr, "stsmap lint: at most %d records per name\n",
			LINT_MAX_TXT);
		return ST_ERANGE;
	}
	arr[*n].data = (const uint8_t *)s;
	arr[*n].len = strlen(s);
	(*n)++;
	return ST_OK;
}

struct lint_parse {
	struct lint_input *in;
	struct an_observation *obs;
};

static int take(void *ctx, int id, const char *arg)
{
	struct lint_input *in = ((struct lint_parse *)ctx)->in;
	struct an_observation *obs = ((struct lint_parse *)ctx)->obs;
	char *end;

	switch (id) {
	case LINT_DOMAIN: obs->domain = arg; return 0;
	case LINT_TXT:
		return add_bytes(in->txt, &obs->n_sts_txt, arg) == ST_OK ? 0 : 2;
	case LINT_TLSRPT:
		return add_bytes(in->rpt, &obs->n_tlsrpt_txt, arg) == ST_OK
			       ? 0 : 2;
	case LINT_POLICY:
		return read_policy(arg, in) == ST_OK ? 0 : 1;
	case LINT_CONTENT_TYPE: obs->fetch.content_type = arg; return 0;
	case LINT_STATUS:
		obs->fetch.http_status = (int)strtol(arg, &end, 10);
		if (*end != '\0' || obs->fetch.http_status < 100 ||
		    obs->fetch.http_status > 599) {
			fprintf(stderr, "stsmap lint: bad --http-status\n");
			return 2;
		}
		return 0;
	case LINT_MX:
		if (obs->n_mx >= LINT_MAX_MX) {
			fprintf(stderr, "stsmap lint: at most %d --mx\n",
				LINT_MAX_MX);
			return 2;
		}
		in->mx[obs->n_mx].name = arg;
		in->mx[obs->n_mx].preference = (uint16_t)(10 * obs->n_mx);
		obs->n_mx++;
		return 0;
	}
	return SC_CLI_USAGE;
}

/* -1 to judge the setup, else the exit status. */
static int parse_args(int argc, char **argv, struct lint_input *in,
		      struct an_observation *obs)
{
	static const struct sc_cli cli = {
		.cmd = "lint",
		.synopsis = "lint [--domain D] [--txt T]... [--policy FILE] "
			    "[--mx HOST]... [--tlsrpt T]...",
		.summary = "Judge an MTA-STS setup given by hand, as a scan "
			   "would judge it.",
		.opts = lint_opts,
		.name_extra = true,
	};
	struct lint_parse p = { in, obs };
	int ret;

	ret = sc_cli_parse(&cli, argc, argv, take, &p);
	if (ret == SC_CLI_GO)
		ret = sc_cli_operands(&cli, argc, argv, 0, 0);
	return ret;
}

int sc_cmd_lint(int argc, char **argv)
{
	struct lint_input in = { .body = NULL };
	struct an_observation obs = {
		.domain = LINT_DEFAULT_DOMAIN,
		.now = time(NULL),
		.fetch = { .http_status = LINT_DEFAULT_STATUS,
			   .content_type = LINT_DEFAULT_CONTENT_TYPE },
	};
	struct an_classification *cl = NULL;
	int ret;

	obs.sts_txt = in.txt;
	obs.tlsrpt_txt = in.rpt;
	obs.mx = in.mx;
	ret = parse_args(argc, argv, &in, &obs);
	if (ret >= 0)
		goto cleanup;
	obs.sts_dns = obs.n_sts_txt > 0 ? AN_DNS_NOERROR : AN_DNS_NXDOMAIN;
	obs.tlsrpt_dns = obs.n_tlsrpt_txt > 0 ? AN_DNS_NOERROR : AN_DNS_NXDOMAIN;
	obs.mx_dns = obs.n_mx > 0 ? AN_DNS_NOERROR : AN_DNS_NODATA;
	if (in.body != NULL) {
		obs.fetch.status = in.body_len > AN_POLICY_BODY_MAX
					   ? AN_FETCH_TOO_LARGE : AN_FETCH_DONE;
		obs.fetch.body.data = in.body;
		obs.fetch.body.len = in.body_len;
	}
	cl = malloc(sizeof(*cl));
	if (cl == NULL) {
		fprintf(stderr, "stsmap lint: out of memory\n");
		ret = 1;
		goto cleanup;
	}
	if (an_classify(&obs, cl) != ST_OK) {
		fprintf(stderr, "stsmap lint: invalid input\n");
		ret = 1;
		goto cleanup;
	}
	print_result(&obs, cl);
	ret = 0;
cleanup:
	free(cl);
	free(in.body);
	return ret;
}
