/*
 * nm_queue.h - the network emulator's delay queues and packet shaping:
 * a per-direction FIFO whose release times never go backwards, a seeded
 * random source, and a shape (one-way delay, jitter, loss, TCP
 * retransmission delay).  Pure logic: no sockets, no clock (every call
 * takes "now" in nanoseconds), no global state.
 *
 * Why a FIFO is enough: every item of a queue gets now + delay (+ jitter),
 * clamped to the release time of the item before it.  Release times are
 * therefore non-decreasing along the queue, the head is always the next
 * item due, and push and pop are O(1): no heap, no timer wheel.  The
 * clamp means jitter never reorders a direction (a link, not a mesh of
 * paths); at high rates it shifts the mean delay up by at most the jitter.
 */
#ifndef NM_QUEUE_H
#define NM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_list.h"

/* splitmix64: fast, 64-bit state, good enough for delay and loss draws. */
struct nm_rng {
	uint64_t s;
};

void nm_rng_seed(struct nm_rng *r, uint64_t seed);
uint64_t nm_rng_next(struct nm_rng *r);

/* What one direction of a path does to a packet (or a TCP chunk). */
struct nm_shape {
	uint64_t delay_ns;  /* one-way delay */
	uint64_t jitter_ns; /* uniform in [-jitter, +jitter] around delay */
	double loss;        /* probability in [0, 1] that a packet is lost */
	uint64_t rto_ns;    /* TCP: the extra delay of a "lost" chunk */
};

/* Fill sh from milliseconds and a loss percentage.  ST_ERANGE if a value
 * is negative, not finite, a delay or jitter over 60 s, jitter above delay
 * (delays are never negative), or loss over 100. */
int nm_shape_set(struct nm_shape *sh, double delay_ms, double jitter_ms,
		 double loss_pct, double rto_ms);

/* The delay of one packet: delay_ns +/- a uniform draw of at most
 * jitter_ns. */
uint64_t nm_shape_delay(const struct nm_shape *sh, struct nm_rng *r);

/* Whether one packet is lost (a draw below sh->loss). */
bool nm_shape_lost(const struct nm_shape *sh, struct nm_rng *r);

/* One queued packet or chunk.  Allocated by nm_item_new() with its data
 * after it; freed by the owner with free() once popped. */
struct nm_item {
	struct st_link link;
	uint64_t due_ns; /* release time, set by nm_dq_push() */
	void *owner;     /* the flow or connection it belongs to; not owned */
	uint32_t len;    /* bytes of data[] */
	uint32_t flags;  /* caller's (e.g. end of stream) */
	unsigned char data[];
};

/* NULL if out of memory. */
struct nm_item *nm_item_new(size_t len);

/* The FIFO of one direction.  It owns the items queued on it until they
 * are popped; nm_dq_clear() frees what is left. */
struct nm_dq {
	struct st_list items;
	uint64_t last_due_ns; /* due time of the newest item */
	size_t bytes;         /* queued bytes, headers included */
	size_t count;
	size_t max_bytes; /* cap on bytes; 0 means no cap */
};

void nm_dq_init(struct nm_dq *q, size_t max_bytes);

/* Queue it to be released at max(now + delay, the previous item's due).
 * ST_ESPACE if that would take the queue over max_bytes: it is then not
 * queued and still the caller's.  Returns 0 on success. */
int nm_dq_push(struct nm_dq *q, struct nm_item *it, uint64_t now_ns,
	       uint64_t delay_ns);

/* The head (the next item due), or NULL; stays queued. */
struct nm_item *nm_dq_head(const struct nm_dq *q);

/* Unlink and return the head if it is due at or before until_ns, else
 * NULL.  The caller owns the item returned. */
struct nm_item *nm_dq_pop_due(struct nm_dq *q, uint64_t until_ns);

/* Free every queued item. */
void nm_dq_clear(struct nm_dq *q);

/* Most items nm_group_by_owner() takes in one call. */
#define NM_GROUP_MAX 256

/* Reorder items[0..n) (n at most NM_GROUP_MAX) so that each owner's items
 * are adjacent: the owners in the order of their first item, each owner's
 * items in their order.  The relay sends a flow's datagrams on the flow's
 * own socket, so a run of one owner is one sendmmsg.  O(n); the items stay
 * the caller's.  ST_ERANGE (items untouched) if n is out of range. */
int nm_group_by_owner(struct nm_item **items, int n);

#endif /* NM_QUEUE_H */
