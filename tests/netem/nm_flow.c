/*
 * nm_flow.c - the UDP flow table: hash buckets plus an LRU list.
 */
#include "nm_flow.h"

#include <stdlib.h>
#include <string.h>

#include "st_error.h"

bool nm_flow_key(const struct sockaddr *sa, socklen_t salen,
		 struct nm_flow_key *key)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET && salen == sizeof(*sin)) {
		key->hi = 0;
		key->lo = ntohl(sin->sin_addr.s_addr);
		key->port = (uint64_t)AF_INET << 48 | ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && salen == sizeof(*sin6)) {
		memcpy(&key->hi, sin6->sin6_addr.s6_addr, 8);
		memcpy(&key->lo, sin6->sin6_addr.s6_addr + 8, 8);
		/* The scope matters only to link-local clients, which a map
		 * cannot listen for (nm_map.h); keep it apart anyway. */
		key->port = (uint64_t)AF_INET6 << 48 |
			    (uint64_t)sin6->sin6_scope_id << 16 |
			    ntohs(sin6->sin6_port);
		return true;
	}
	return false;
}

struct nm_flow_key nm_flow_key_num(uint64_t n)
{
	struct nm_flow_key k = {0, 0, n};

	return k;
}

static bool key_eq(const struct nm_flow_key *a, const struct nm_flow_key *b)
{
	return a->port == b->port && a->lo == b->lo && a->hi == b->hi;
}

static size_t bucket_of(const struct nm_flowtab *t, const struct nm_flow_key *k)
{
	uint64_t z = (k->hi ^ (k->lo * UINT64_C(0xff51afd7ed558ccd)) ^
		      (k->port * UINT64_C(0xc4ceb9fe1a85ec53))) *
		     UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(z ^ (z >> 29)) & t->mask;
}

int nm_flowtab_init(struct nm_flowtab *t, size_t max, uint64_t idle_ns)
{
	size_t n = 1;

	t->buckets = NULL;
	if (max == 0 || max > ((size_t)1 << 24))
		return ST_EINVAL;
	while (n < max)
		n <<= 1;
	t->buckets = malloc(n * sizeof(*t->buckets));
	if (t->buckets == NULL)
		return ST_ENOMEM;
	for (size_t i = 0; i < n; i++)
		st_list_init(&t->buckets[i]);
	t->mask = n - 1;
	st_list_init(&t->lru);
	t->count = 0;
	t->max = max;
	t->idle_ns = idle_ns;
	return 0;
}

void nm_flowtab_fini(struct nm_flowtab *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static void touch(struct nm_flowtab *t, struct nm_flow *f, uint64_t now_ns)
{
	f->last_ns = now_ns;
	st_list_remove(&f->lru);
	st_list_push_back(&t->lru, &f->lru);
}

struct nm_flow *nm_flowtab_find(struct nm_flowtab *t,
				const struct nm_flow_key *key, uint64_t now_ns)
{
	struct st_list *b = &t->buckets[bucket_of(t, key)];
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, b) {
		struct nm_flow *f = ST_CONTAINER(it, struct nm_flow, bucket);

		if (key_eq(&f->key, key)) {
			touch(t, f, now_ns);
			return f;
		}
	}
	return NULL;
}

int nm_flowtab_add(struct nm_flowtab *t, struct nm_flow *f,
		   const struct nm_flow_key *key, uint64_t now_ns)
{
	struct st_list *b = &t->buckets[bucket_of(t, key)];
	struct st_link *it, *nx;

	ST_LIST_FOREACH(it, nx, b) {
		if (key_eq(&ST_CONTAINER(it, struct nm_flow, bucket)->key, key))
			return ST_EEXIST;
	}
	if (t->count >= t->max)
		return ST_ESPACE;
	f->key = *key;
	f->refs = 0;
	st_link_init(&f->bucket);
	st_link_init(&f->lru);
	st_list_push_front(b, &f->bucket);
	touch(t, f, now_ns);
	t->count++;
	return 0;
}

void nm_flowtab_remove(struct nm_flowtab *t, struct nm_flow *f)
{
	if (!st_link_linked(&f->bucket))
		return;
	st_list_remove(&f->bucket);
	st_list_remove(&f->lru);
	t->count--;
}

struct nm_flow *nm_flowtab_expire(struct nm_flowtab *t, uint64_t now_ns)
{
	/* Each busy flow is looked at once per call at most: it moves to
	 * the tail, touched, and the walk stops at the first fresh flow. */
	for (size_t seen = 0; seen < t->count; seen++) {
		struct st_link *k = st_list_first(&t->lru);
		struct nm_flow *f;

		if (k == NULL)
			return NULL;
		f = ST_CONTAINER(k, struct nm_flow, lru);
		if (now_ns - f->last_ns < t->idle_ns)
			return NULL;
		if (f->refs > 0) {
			touch(t, f, now_ns);
			continue;
		}
		nm_flowtab_remove(t, f);
		return f;
	}
	return NULL;
}
