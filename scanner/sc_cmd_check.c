/*
 * sc_cmd_check.c - `stsmap check DOMAIN`: one domain scanned now with the
 * engine of `stsmap scan` (same options, sc_scan_opts.h), its record
 * printed for a person (or as JSON), and for a broken setup a corrected
 * TXT record and policy file built from the domain's real MX set.
 */
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an_fix.h"
#include "an_generate.h"
#include "an_json.h"
#include "an_record.h"
#include "ds_input.h"
#include "ds_store.h"
#include "sc_cli.h"
#include "sc_engine.h"
#include "sc_scan_opts.h"
#include "st_error.h"

struct check_ctx {
	const char *name;
	bool given, json;
	int verdict;
};

static int check_source(void *arg, struct sc_item *item)
{
	struct check_ctx *c = arg;

	if (c->given)
		return 0;
	c->given = true;
	item->domain = c->name;
	return 1;
}

/* A corrected TXT record and policy for a domain whose setup is broken,
 * built by the generator from the domain's real MX set (an_fix.h). */
static void print_fix(const struct an_record *r)
{
	char txt[AN_GEN_TXT_MAX], *policy, *save = NULL;
	size_t plen = 0;

	policy = malloc(AN_POLICY_BODY_MAX);
	if (policy == NULL)
		return;
	if (an_fix_build(r, time(NULL), txt, sizeof(txt), policy,
			 AN_POLICY_BODY_MAX, &plen) == ST_OK) {
		printf("\nSuggested fix (from the domain's MX records)\n"
		       "  TXT _mta-sts.%s:\n    %s\n"
		       "  https://mta-sts.%s/.well-known/mta-sts.txt "
		       "(200, text/plain):\n", r->domain, txt, r->domain);
		for (char *line = strtok_r(policy, "\r\n", &save);
		     line != NULL; line = strtok_r(NULL, "\r\n", &save))
			printf("    %s\n", line);
	}
	free(policy);
}

static int check_sink(void *arg, const struct sc_done *done)
{
	struct check_ctx *c = arg;

	c->verdict = done->rec->verdict;
	if (c->json) {
		struct an_record rec = *done->rec;
		int ret = ST_OK;

		/* body_sha256: the key the store would keep the body under */
		if (rec.have_body && done->body != NULL)
			ret = ds_store_body_hash(done->body, done->body_len,
						 rec.body_hash);
		if (ret != ST_OK)
			return ret;
		an_record_json(stdout, &rec, done->body, done->body_len);
		fputc('\n', stdout);
		return ST_OK;
	}
	sc_print_record(stdout, done->rec);
	if (an_fix_needed(done->rec))
		print_fix(done->rec);
	return ST_OK;
}

int sc_cmd_check(int argc, char **argv)
{
	struct sc_scan_opts o;
	struct check_ctx c = { 0 };
	struct sc_engine *e = NULL;
	struct event_base *base = NULL;
	char name[DS_NAME_MAX + 1];
	const char *why = NULL;
	int ret;

	ret = sc_scan_opts_parse(argc, argv, SC_OPTS_CHECK, &o);
	if (ret != 0)
		return ret == 1 ? 0 : 2;
	if (o.n_inputs != 1 ||
	    ds_name_normalise(o.inputs[0], strlen(o.inputs[0]), name, &why) !=
		    ST_OK) {
		fprintf(stderr, "stsmap check: give one domain name%s%s\n",
			why != NULL ? ": " : "", why != NULL ? why : "");
		return 2;
	}
	o.cfg.inflight = 1;
	c.name = name;
	c.json = o.json;
	c.verdict = -1;
	/* A dead or non-recursive upstream is said at once, not after the
	 * monitor's wait (sc_health.h). */
	if (sc_upstream_gate(NULL, &o.cfg, "check") != ST_OK)
		return 1;
	base = event_base_new();
	if (base == NULL)
		return 1;
	ret = sc_engine_new(base, &o.cfg, &e);
	if (ret == ST_OK) {
		sc_engine_set_source(e, check_source, &c);
		sc_engine_set_sink(e, check_sink, &c);
		ret = sc_engine_run(e);
	}
	if (ret != ST_OK)
		fprintf(stderr, "stsmap check: %s\n", st_strerror(ret));
	sc_engine_free(e);
	event_base_free(base);
	return ret == ST_OK && c.verdict >= 0 ? 0 : 1;
}
