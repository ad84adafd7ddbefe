/*
 * ds_world_hier.h - the world as a delegation hierarchy: `stsmap world
 * --hierarchy`.
 *
 * The flat world is one zone (dns/<tld>.zone) that one NSD serves and a
 * validating Unbound reaches by stub zones.  The hierarchy serves the same
 * records the way the internet does: a root zone, the TLD zone, and one
 * zone per domain, each domain delegated from the TLD to one of N DNS
 * providers.  A recursive resolver given the root hints resolves every
 * name iteratively (root referral, TLD referral, the provider's answer)
 * and reaches exactly the RRsets, NXDOMAINs and NODATAs of the flat zone,
 * so truth.jsonl holds for both.
 *
 * Which names go where.  A domain of domains.txt becomes a zone of its
 * own when the flat zone holds at least one record at or below it and no
 * NS record at it: every record at or below it moves into its zone.  A
 * domain with nothing at or below it stays absent (NXDOMAIN either way:
 * an empty zone would turn that into NODATA).  A domain that already is a
 * cut in the flat zone (the lame delegation of DS_STS_DELEGATED) keeps its
 * NS record in the TLD zone, and so does broken.<tld> with everything
 * under it; ns.<tld>, the lame delegation's name server, points at the
 * first provider's ns1 (127.20.2.1), which serves neither it nor <tld>
 * and refuses: every lookup below it fails, as through the flat world.  Everything else (the shared MX hosts, hosting.<tld>, the
 * CNAME targets) stays in the TLD zone.  Providers are assigned round
 * robin in domains.txt order.
 *
 * Files, under OUT/hier/ (written after the flat world, read from its
 * dns/<tld>.zone and domains.txt; the generator signs nothing: world-up
 * makes the keys, adds each signed child's DS to its parent and signs,
 * so the hierarchy is signed where the flat world is, with the same
 * tools):
 *
 *   root.zone            ".": SOA, NS a/b.root-servers.<tld> with glue,
 *                        the delegation of <tld>. with glue
 *   <tld>.zone           the flat zone minus the domains' records, with
 *                        apex NS a/b.nic.<tld>, the A records of every
 *                        server name, and NS (the provider's two names)
 *                        for each domain zone; ns.<tld> at 127.20.2.1
 *   zones/<domain>.zone  one per domain zone: SOA, NS, its records
 *   zones.txt            "ZONE SERVER FILE PARENT" per zone, children
 *                        before their parent (the order to sign in);
 *                        FILE relative to hier/; PARENT "-" for the root
 *   servers.txt          "SERVER ADDR ADDR" per authoritative server:
 *                        root, tld, dns01..dnsNN (one NSD each)
 *   root.hints           the root hints file for the recursive resolver
 *
 * Address plan (all on lo, inside 127.20.0.0/16, port 53 whatever
 * dns_port: root hints and glue carry no port, so a resolver iterating
 * from the root asks port 53; serving it needs root):
 *
 *   127.20.0.1, .0.2       root        a.root-servers.<tld>, b.root-...
 *   127.20.1.1, .1.2       <tld>       a.nic.<tld>, b.nic.<tld>
 *   127.20.(1+K).1, .2     provider K  ns1.dnsKK.<tld>, ns2.dnsKK.<tld>
 *                          (K = 1..N, N <= DS_WORLD_HIER_PROVIDERS_MAX)
 */
#ifndef DS_WORLD_HIER_H
#define DS_WORLD_HIER_H

#include <stdint.h>

#include "ds_world.h"

#define DS_WORLD_HIER_PROVIDERS_DEFAULT 8
#define DS_WORLD_HIER_PROVIDERS_MAX 200
/* A zone per domain, each keyed and signed by world-up, about 0.2 s a
 * zone on a busy 2-core machine (1,000 domains: 190 s): beyond this the
 * start-up takes longer than a benchmark should wait. */
#define DS_WORLD_HIER_DOMAINS_MAX 10000u
#define DS_WORLD_HIER_LINE_MAX 65536 /* a line of the flat zone */

struct ds_world_hier_stats {
	uint64_t n_zones;       /* domain zones (the root and TLD not counted) */
	uint64_t n_kept;        /* domains left in the TLD zone (cuts, empty) */
	uint64_t n_records;     /* records moved into domain zones */
	unsigned n_servers;     /* root + TLD + providers */
};

/*
 * Write OUT/hier/ (above) for the flat world opts->out_dir holds, as
 * ds_world_generate(opts) wrote it.  n_providers: 1 to
 * DS_WORLD_HIER_PROVIDERS_MAX.  stats may be NULL.  No global state.
 * Errors: ST_EINVAL (bad option, more than DS_WORLD_HIER_DOMAINS_MAX
 * domains), ST_ENOENT (no flat world in OUT), ST_EPARSE (a zone line
 * that is not "owner TTL class type rdata"), ST_ETOOBIG (a line or name
 * over its cap), ST_EIO, ST_ENOMEM.
 */
int ds_world_hier_generate(const struct ds_world_opts *opts,
			   unsigned n_providers,
			   struct ds_world_hier_stats *stats);

#endif /* DS_WORLD_HIER_H */
