/*
 * rs_query.c - ask questions through rs_resolver and print the answers in a
 * stable, greppable form (for tests/resolver/test_rs_live.sh).  All questions
 * are submitted at once; each result prints, as it completes, one line
 *   q=<qname> type=<T> status=<S> rcode=<R|-> nodata=0|1 ad=0|1 tc=0|1
 *     upstream=<n> attempts=<n> cnames=<a,b|-> rrs=<n>        (one line)
 * then "rr <T> ttl=<n> <value>" per record; a "stats" line comes last.  Names
 * and TXT show bytes outside 0x20-0x7e (0x21-0x7e in names) and '\' as \xHH.
 * Exit 0 if every question was answered (any rcode), 1 if not, 2: usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rs_resolver.h"
#include "st_error.h"

/* Options, declared once: the parser and the usage text both read this. */
enum rq_opt { RQ_UPSTREAM, RQ_DO, RQ_EDNS, RQ_TIMEOUT, RQ_RETRIES, RQ_HELP };
static const struct rq_option {
	enum rq_opt id;
	const char *name, *arg, *help; /* arg NULL: a flag */
	unsigned long max;             /* of the numeric argument, 0: a string */
} rq_options[] = {
	{ RQ_UPSTREAM, "--upstream", "IP[:PORT]",
	  "upstream, repeatable (none: /etc/resolv.conf)", 0 },
	{ RQ_DO, "--do", NULL, "set the DNSSEC OK bit, to read AD", 0 },
	{ RQ_EDNS, "--edns", "N", "EDNS0 UDP payload size, 0: none (1232)", 65535 },
	{ RQ_TIMEOUT, "--timeout-ms", "N", "first attempt's timeout (1000)", 3600000 },
	{ RQ_RETRIES, "--retries", "N", "attempts after the first (2)", 100 },
	{ RQ_HELP, "--help", NULL, "print this help", 0 },
};
#define RQ_N_OPTIONS (sizeof(rq_options) / sizeof(rq_options[0]))

static const struct rq_type { const char *name; uint16_t type; } rq_types[] = {
	{ "A", RS_TYPE_A }, { "AAAA", RS_TYPE_AAAA }, { "MX", RS_TYPE_MX },
	{ "TXT", RS_TYPE_TXT }, { "CNAME", RS_TYPE_CNAME }, { "TLSA", RS_TYPE_TLSA },
};
#define RQ_N_TYPES (sizeof(rq_types) / sizeof(rq_types[0]))

/* One question from the command line. */
struct rq_question {
	struct rq_run *run;
	const char *name; /* argv string */
	uint16_t type;
	bool done;        /* the callback has run */
};

struct rq_run {
	struct event_base *base;
	struct rq_question *qs;
	size_t n_qs;
	size_t pending;  /* submitted, callback not yet run */
	size_t answered; /* callbacks with RS_ANSWERED */
	unsigned faults; /* callbacks repeated, against the contract */
};

enum rq_fmt { RQ_TEXT, RQ_NAME, RQ_HEX };

static void usage(FILE *fp)
{
	char buf[64];
	size_t i;

	fprintf(fp, "usage: rs_query [options] NAME TYPE [NAME TYPE ...]\n"
		    "TYPE: A AAAA MX TXT CNAME TLSA\noptions:\n");
	for (i = 0; i < RQ_N_OPTIONS; i++) {
		snprintf(buf, sizeof(buf), "%s %s", rq_options[i].name,
			 rq_options[i].arg ? rq_options[i].arg : "");
		fprintf(fp, "  %-24s %s\n", buf, rq_options[i].help);
	}
}

static const char *type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < RQ_N_TYPES; i++)
		if (rq_types[i].type == type)
			return rq_types[i].name;
	return "OTHER";
}

/* Bytes as hex, or as text: printable ASCII as is, the rest and '\' as \xHH;
 * names also escape the space and show the root (null MX, RFC 7505) as ".". */
static void put_bytes(FILE *fp, const void *data, size_t len, enum rq_fmt fmt)
{
	const uint8_t *p = data;
	size_t i;

	if (fmt == RQ_NAME && len == 0)
		fputc('.', fp);
	for (i = 0; i < len; i++) {
		if (fmt == RQ_HEX || p[i] < (fmt == RQ_NAME ? 0x21 : 0x20) ||
		    p[i] > 0x7e || p[i] == '\\')
			fprintf(fp, fmt == RQ_HEX ? "%02x" : "\\x%02x", p[i]);
		else
			fputc(p[i], fp);
	}
}

static void put_rr(FILE *fp, const struct rs_rr *rr)
{
	char addr[INET6_ADDRSTRLEN];
	bool v4 = rr->type == RS_TYPE_A;

	fprintf(fp, "rr %s ttl=%" PRIu32 " ", type_name(rr->type), rr->ttl);
	switch (rr->type) {
	case RS_TYPE_A:
	case RS_TYPE_AAAA:
		if (rr->len == (v4 ? 4u : 16u) &&
		    inet_ntop(v4 ? AF_INET : AF_INET6, rr->data, addr,
			      sizeof(addr)) != NULL)
			fputs(addr, fp);
		else
			fprintf(fp, "badlen=%zu", rr->len);
		break;
	case RS_TYPE_MX:
		fprintf(fp, "%u ", (unsigned)rr->pref);
		/* fall through */
	case RS_TYPE_CNAME:
		put_bytes(fp, rr->data, strlen((const char *)rr->data), RQ_NAME);
		break;
	case RS_TYPE_TXT:
		fprintf(fp, "len=%zu ", rr->len);
		put_bytes(fp, rr->data, rr->len, RQ_TEXT);
		break;
	default: /* TLSA: usage, selector, matching type, data (RFC 6698) */
		put_bytes(fp, rr->data, rr->len, RQ_HEX);
		break;
	}
	fputc('\n', fp);
}

static void put_result(FILE *fp, const struct rs_result *res)
{
	const char *qname = res->qname != NULL ? res->qname : "?";
	size_t i;

	fputs("q=", fp);
	put_bytes(fp, qname, strlen(qname), RQ_NAME);
	fprintf(fp, " type=%s status=%s rcode=%s nodata=%d ad=%d tc=%d "
		    "upstream=%d attempts=%u cnames=",
		type_name(res->qtype),
		rs_status_name(res->status),
		res->status == RS_ANSWERED ? rs_rcode_name(res->rcode) : "-",
		res->nodata, res->ad, res->truncated, res->upstream,
		res->attempts);
	for (i = 0; i < res->n_cname; i++) {
		if (i > 0)
			fputc(',', fp);
		put_bytes(fp, res->cname_chain[i], strlen(res->cname_chain[i]),
			  RQ_NAME);
	}
	fprintf(fp, "%s rrs=%zu\n", res->n_cname == 0 ? "-" : "", res->n_rrs);
	for (i = 0; i < res->n_rrs; i++)
		put_rr(fp, &res->rrs[i]);
}

static void on_result(const struct rs_result *res, void *arg)
{
	struct rq_question *q = arg;
	struct rq_run *run = q->run;

	if (q->done) {
		fprintf(stderr, "rs_query: second callback for %s\n", q->name);
		run->faults++;
		return;
	}
	q->done = true;
	run->answered += res->status == RS_ANSWERED;
	put_result(stdout, res);
	if (--run->pending == 0)
		event_base_loopbreak(run->base);
}

/* Fill cfg, flags and the questions from argv.  Returns 0, 2 on a usage
 * error (reported), or -1 for --help. */
static int parse_args(int argc, char **argv, struct rs_config *cfg,
		      struct rq_run *run, unsigned *flags)
{
	const struct rq_option *o;
	unsigned long v = 0;
	char *end = NULL;
	size_t i, t;
	int a;

	for (a = 1; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		for (o = NULL, i = 0; i < RQ_N_OPTIONS; i++)
			if (strcmp(argv[a], rq_options[i].name) == 0)
				o = &rq_options[i];
		if (o != NULL && o->arg != NULL && a + 1 < argc) {
			errno = 0;
			v = strtoul(argv[++a], &end, 10);
		}
		if (o == NULL || (o->arg != NULL && end == NULL) ||
		    (o->max > 0 && (argv[a][0] < '0' || argv[a][0] > '9' ||
				    *end != '\0' || errno != 0 || v > o->max)) ||
		    (o->id == RQ_UPSTREAM && cfg->n_upstreams == RS_MAX_UPSTREAMS)) {
			fprintf(stderr, "rs_query: bad option, value or count: %s\n",
				argv[a]);
			return 2;
		}
		end = NULL;
		switch (o->id) {
		case RQ_UPSTREAM: cfg->upstreams[cfg->n_upstreams++] = argv[a]; break;
		case RQ_DO: *flags |= RS_FLAG_DO; break;
		case RQ_EDNS: cfg->edns_size = (uint16_t)v; break;
		case RQ_TIMEOUT: cfg->timeout_ms = (unsigned)v; break;
		case RQ_RETRIES: cfg->retries = (unsigned)v; break;
		case RQ_HELP: return -1;
		}
	}
	run->n_qs = a < argc ? (size_t)(argc - a) / 2 : 0;
	run->qs = calloc(run->n_qs + 1, sizeof(*run->qs));
	if (run->n_qs == 0 || (argc - a) % 2 != 0 || run->qs == NULL) {
		fprintf(stderr, "rs_query: expected NAME TYPE pairs\n");
		return 2;
	}
	for (i = 0; i < run->n_qs; i++, a += 2) {
		for (t = 0; t < RQ_N_TYPES; t++)
			if (strcasecmp(argv[a + 1], rq_types[t].name) == 0)
				break;
		if (t == RQ_N_TYPES) {
			fprintf(stderr, "rs_query: unknown type %s\n", argv[a + 1]);
			return 2;
		}
		run->qs[i].run = run;
		run->qs[i].name = argv[a];
		run->qs[i].type = rq_types[t].type;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rs_config cfg;
	struct rs_stats st;
	struct rq_run run = { 0 };
	struct rs_resolver *r = NULL;
	uint64_t tcp = 0;
	unsigned flags = 0;
	size_t i;
	int ret;

	rs_config_default(&cfg);
	ret = parse_args(argc, argv, &cfg, &run, &flags);
	if (ret != 0) {
		usage(ret < 0 ? stdout : stderr);
		ret = ret < 0 ? 0 : 2;
		goto cleanup;
	}
	run.base = event_base_new();
	ret = run.base != NULL ? rs_resolver_new(run.base, &cfg, &r) : ST_ENOMEM;
	if (ret != ST_OK) {
		fprintf(stderr, "rs_query: rs_resolver_new: %s\n", st_strerror(ret));
		ret = ret == ST_EINVAL ? 2 : 1;
		goto cleanup;
	}
	for (i = 0; i < run.n_qs; i++) {
		ret = rs_submit(r, run.qs[i].name, run.qs[i].type, flags,
				on_result, &run.qs[i]);
		if (ret != ST_OK) /* no callback: prints nothing, fails the run */
			fprintf(stderr, "rs_query: %s: %s\n", run.qs[i].name,
				st_strerror(ret));
		run.pending += ret == ST_OK;
	}
	/* The resolver's sockets keep the loop alive: on_result() breaks it. */
	if (run.pending > 0 && event_base_dispatch(run.base) < 0)
		fprintf(stderr, "rs_query: event_base_dispatch failed\n");
	if (run.pending > 0)
		fprintf(stderr, "rs_query: loop ended, %zu pending\n", run.pending);
	/* Stats first: freeing gives questions still pending RS_CANCELLED. */
	rs_resolver_stats(r, &st);
	rs_resolver_free(r);
	r = NULL;
	for (i = 0; i < st.n_upstreams && i < RS_MAX_UPSTREAMS; i++)
		tcp += st.upstream[i].tcp;
	printf("stats submitted=%" PRIu64 " coalesced=%" PRIu64 " completed=%"
	       PRIu64 " timeouts=%" PRIu64 " dropped=%" PRIu64 " tcp=%" PRIu64 "\n",
	       st.submitted, st.coalesced, st.completed, st.timeouts,
	       st.drop_source + st.drop_id + st.drop_question + st.drop_malformed,
	       tcp);
	ret = run.answered == run.n_qs && run.faults == 0 ? 0 : 1;
cleanup:
	rs_resolver_free(r);
	if (run.base != NULL)
		event_base_free(run.base);
	free(run.qs);
	if ((fflush(stdout) != 0 || ferror(stdout)) && ret == 0)
		ret = 1;
	return ret;
}
