/*
 * nm_flow.h - the UDP relay's flow table: one entry per client address
 * and port (IPv4 or IPv6), found in O(1), expired after an idle time,
 * capped in number.
 *
 * A flow is the caller's struct embedding a struct nm_flow; the table
 * links it but owns nothing.  refs counts packets queued that still need
 * the flow (its upstream socket, its client address): a flow with refs is
 * never expired nor evicted, so no queued packet points at freed memory.
 * Pure logic, no clock: "now" is passed in.  No global state.
 */
#ifndef NM_FLOW_H
#define NM_FLOW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "st_list.h"

/* A client's address and port.  The family is part of the key, so an
 * IPv4 client and an IPv6 one never share a flow. */
struct nm_flow_key {
	uint64_t hi, lo; /* the address (IPv4: in lo) */
	uint64_t port;   /* port, IPv6 scope, family */
};

struct nm_flow {
	struct st_link bucket; /* on the hash bucket of key */
	struct st_link lru;    /* on the table's LRU list, oldest first */
	struct nm_flow_key key;
	uint64_t last_ns; /* last use */
	unsigned refs;
};

struct nm_flowtab {
	struct st_list *buckets; /* owned; a power of two of them */
	size_t mask;
	struct st_list lru;
	size_t count, max;
	uint64_t idle_ns;
};

/* The key of a client address sa of salen bytes (a whole sockaddr_in or
 * sockaddr_in6).  False, with *key untouched, for another family or a
 * length that is not its family's. */
bool nm_flow_key(const struct sockaddr *sa, socklen_t salen,
		 struct nm_flow_key *key);

/* A key made of a number, for tests and callers keyed by anything else. */
struct nm_flow_key nm_flow_key_num(uint64_t n);

/* A table of at most max flows (>= 1), idle after idle_ns.  ST_ENOMEM,
 * ST_EINVAL for max 0.  nm_flowtab_fini() frees the buckets. */
int nm_flowtab_init(struct nm_flowtab *t, size_t max, uint64_t idle_ns);
void nm_flowtab_fini(struct nm_flowtab *t);

/* The flow of key, or NULL.  A flow found is touched (last use = now). */
struct nm_flow *nm_flowtab_find(struct nm_flowtab *t,
				const struct nm_flow_key *key,
				uint64_t now_ns);

/* Add f under key, used now.  ST_EEXIST if key is there, ST_ESPACE if the
 * table is full (make room with nm_flowtab_expire() first). */
int nm_flowtab_add(struct nm_flowtab *t, struct nm_flow *f,
		   const struct nm_flow_key *key, uint64_t now_ns);

/* Unlink f (a no-op if it is in no table). */
void nm_flowtab_remove(struct nm_flowtab *t, struct nm_flow *f);

/* One flow idle for idle_ns or more, with no refs, unlinked and handed to
 * the caller to free; NULL if none.  Call until NULL.  Busy idle flows
 * met on the way are touched, so each call is O(1) amortised. */
struct nm_flow *nm_flowtab_expire(struct nm_flowtab *t, uint64_t now_ns);

#endif /* NM_FLOW_H */
