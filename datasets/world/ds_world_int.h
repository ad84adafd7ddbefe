/*
 * ds_world_int.h - what the files of the world generator share (not a
 * public interface: ds_world.h is).
 *
 * ds_world_gen.c runs the pass over the domains: the output files, the
 * CAs, the heads and tails of the zone and nginx.conf, world.json.  For
 * each domain it calls ds_world.c (the domain's TXT records, its policy
 * host and its truth line) and ds_world_mx.c (its MX records and MX
 * hosts; ds_world_mx.c also makes the shared MX hosts and the Postfix
 * configuration).  All work on one struct world and write through
 * ds_world_out.h.  The arrows point one way: ds_world_gen.c calls the
 * others; ds_world.c and ds_world_mx.c call nothing of each other nor of
 * ds_world_gen.c (tests/datasets/world/test_ds_world_layers.sh).
 */
#ifndef DS_WORLD_INT_H
#define DS_WORLD_INT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/types.h>

#include "ds_world.h"

#define DS_WORLD_DAY ((time_t)86400)
#define DS_WORLD_TTL 3600
#define DS_WORLD_NAME_MAX 256 /* a host name with its NUL */
#define DS_WORLD_BODY_MAX 4096

struct ds_ca;
struct world_mx; /* ds_world_mx.c's state, opaque here */

/* The generator's context: every piece of mutable state of one run. */
struct world {
	const struct ds_world_opts *o;
	char path[PATH_MAX];          /* scratch for file names */
	FILE *zone, *truth, *domains, *nginx, *mxhosts, *groups;
	uint64_t rng;                 /* splitmix64 state */
	struct ds_ca *root, *inter, *untrusted;
	EVP_PKEY *key;                /* the leaf key every leaf shares */
	const struct ds_scenario *scen;
	size_t n_scen;
	uint64_t *counts;             /* per scenario */
	uint64_t cum_total;
	uint64_t n_sts_cname;
	struct ds_world_stats st;
	struct world_mx *mx;
	char body[DS_WORLD_BODY_MAX];
};

/* One domain being generated. */
struct dom {
	const char *name;             /* without trailing dot */
	const struct ds_scenario *sc;
	uint64_t index;               /* bulk: N of dN; catalog: its rank */
	unsigned provider;
	char id[24];
	char host[DS_WORLD_NAME_MAX]; /* mta-sts.<name> */
	char addr[DS_WORLD_ADDR_MAX]; /* the policy host's address */
};

/* No record of the domain is served: every lookup of it fails. */
static inline bool ds_world_no_data_served(const struct ds_scenario *sc)
{
	return sc->sts_how == DS_STS_BROKEN || sc->sts_how == DS_STS_DELEGATED;
}

/* True if the MX hosts of domains on provider p publish TLSA records. */
static inline bool ds_world_provider_tlsa(unsigned p)
{
	return p % DS_WORLD_TLSA_EVERY == 0;
}

/* --- ds_world.c: one domain, in this order ---
 * Each returns ST_OK or a negative st_err (ST_ETOOBIG, ST_EIO, ST_ETLS,
 * ST_ENOMEM); d stays the caller's. */

/* Its zone records before the MX: the _mta-sts and _smtp._tls TXT records
 * (behind a CNAME where the scenario says so); a delegated domain gets
 * its NS record only, one under broken.<tld> nothing. */
int ds_world_dom_txt(struct world *w, struct dom *d);

/* Its policy host's records in the zone (A or CNAME); sets d->addr for a
 * served host.  Only for a domain whose records are served. */
void ds_world_dom_host_dns(struct world *w, struct dom *d);

/* Its policy host: certificate, policy file and nginx server block, for
 * the scenarios that serve one. */
int ds_world_dom_policy_host(struct world *w, const struct dom *d);

/* Its truth.jsonl line. */
void ds_world_dom_truth(struct world *w, const struct dom *d);

/* --- ds_world_mx.c ---
 * Call order: begin (after the CAs and the leaf key exist, before any
 * domain), shared (in the zone head), domain (per domain whose records
 * are served, in domain order), end (after the last domain), free
 * (always, also after a failure; NULL-safe).  Each returns ST_OK or a
 * negative st_err. */
int ds_world_mx_begin(struct world *w);

/* The shared provider and special MX hosts: their A and TLSA records in
 * the zone, their mx-hosts.txt lines, certificates and SNI rules. */
int ds_world_mx_shared(struct world *w);

/* The domain's MX records (a null MX, or an A record at D when it has
 * none) and, for MX hosts of its own, their A records, mx-hosts.txt lines
 * and certificates. */
int ds_world_mx_domain(struct world *w, const struct dom *d);

/* Write postfix/main.cf and postfix/master.cf. */
int ds_world_mx_end(struct world *w);

void ds_world_mx_free(struct world *w);

/* --- ds_world_behave.c: the server behaviours (only when o->behave) ---
 * It calls only ds_world_out.c; ds_world.c and ds_world_mx.c call it. */

/* The behaviour hosts that are not per domain: the zone records of
 * mx-slowgreet and mx-v6, their mx-hosts.txt lines and certificates, and
 * the tenants' wildcard certificate. */
int ds_world_behave_shared(struct world *w);

/* The tenant MX host of domain number index: its name into host and its
 * address into addr; writes its mx-hosts.txt line.  The caller writes
 * the MX and A records. */
void ds_world_behave_tenant(struct world *w, uint64_t index,
			    char host[DS_WORLD_NAME_MAX],
			    char addr[DS_WORLD_ADDR_MAX]);

/* The address of policy host number n of kind ph (DS_PH_PROVIDER or
 * DS_PH_V6) into addr. */
void ds_world_behave_ph_addr(uint8_t ph, uint64_t n,
			     char addr[DS_WORLD_ADDR_MAX]);

/* main.cf lines, master.cf services (returns how many), nginx http{}
 * lines (the limit zones), and the limits of a provider location. */
void ds_world_behave_main_cf(FILE *f);
unsigned ds_world_behave_master_cf(struct world *w, FILE *f);
void ds_world_behave_nginx_head(FILE *f);
void ds_world_behave_nginx_limits(FILE *f);

#endif /* DS_WORLD_INT_H */
