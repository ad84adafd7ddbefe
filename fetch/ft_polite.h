/*
 * ft_polite.h - politeness per destination address (DESIGN §8): a cap on
 * the connections open at once to one IP address and on the new
 * connections per second to it, shared by every name that resolves there.
 *
 * Large providers put thousands of tenants' names on a handful of
 * addresses and throttle per client address (Postfix anvil, nginx
 * limit_conn / limit_req).  A scanner that counted per name would open
 * thousands of connections to those few addresses, be refused with 421 or
 * 503, and store the refusals as the domains' findings.  So the fetcher
 * and the prober each own one struct ft_polite (HTTPS and SMTP have caps
 * of their own) and ask it before every connection they open.
 *
 * Per address: a count of connections granted and not yet released, a
 * token bucket (rate new connections per second, at most burst at once)
 * and a FIFO of waiters.  A waiter is granted when the count is below the
 * cap, a token is there, and no earlier waiter of that address is still
 * waiting: waiters of one address are granted in the order they asked.
 * Addresses do not wait for one another.
 *
 * Grants of waiters that had to wait are delivered from the loop (the
 * address's timer), never from within ft_polite_acquire() or
 * ft_polite_release(), so a caller may release from inside its own
 * callbacks.  Memory: an entry per address with connections or waiters,
 * and idle ones until their bucket is full again (then nothing is lost
 * by forgetting them), so it is bounded by the addresses in use.
 *
 * fetch/ knows no name here: only addresses.  No global state; not thread
 * safe (the thread of its event_base only).
 */
#ifndef FT_POLITE_H
#define FT_POLITE_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "st_list.h"

struct event_base;
struct ft_polite;
struct ft_polite_addr;

struct ft_polite_config {
	unsigned max_conns;   /* open at once per address; 0: no cap */
	unsigned rate;        /* new connections per second; 0: no cap */
	unsigned burst;       /* tokens at most (>= 1 when rate is set) */
};

struct ft_polite_waiter;
/* The waiter was granted: its connection may be opened now.  Called
 * once, from the loop; the waiter must then be released (once) when its
 * connection closes. */
typedef void (*ft_polite_fn)(struct ft_polite_waiter *w);

/* Owned by the caller (in its per-connection struct); the module only
 * links it.  fn and arg are the caller's; the rest is the module's. */
struct ft_polite_waiter {
	struct st_link link;          /* on its address's FIFO */
	struct ft_polite_addr *a;     /* NULL: holds nothing, waits for none */
	bool granted;
	uint64_t t_us;                /* when it asked (monotonic) */
	ft_polite_fn fn;
	void *arg;
};

struct ft_polite_stats {
	uint64_t granted;             /* grants, at once or later */
	uint64_t waited;              /* of which had to wait */
	uint64_t max_wait_us;         /* longest wait for a grant */
	unsigned peak;                /* most connections granted at once
				       * to one address */
	size_t addrs;                 /* entries now */
	size_t waiting;               /* waiters now */
};

/* ST_OK and *out; ST_EINVAL (NULL, or rate set with burst 0),
 * ST_ENOMEM. */
int ft_polite_new(struct event_base *base, const struct ft_polite_config *cfg,
		  struct ft_polite **out);
/* Waiters still waiting are forgotten (never called).  NULL: no-op. */
void ft_polite_free(struct ft_polite *p);

/* Is there any cap at all?  (false: acquire always grants at once) */
bool ft_polite_enabled(const struct ft_polite *p);

/*
 * Ask for one connection to sa (AF_INET or AF_INET6; the port is
 * ignored).  w->fn and w->arg set by the caller.  Returns 1: granted now
 * (fn is not called); 0: queued, fn will be called from the loop when
 * granted; ST_ENOMEM or ST_EINVAL (w holds nothing then).
 */
int ft_polite_acquire(struct ft_polite *p, const struct sockaddr *sa,
		      struct ft_polite_waiter *w);

/* The connection of a granted w closed, or a waiting w gave up: either
 * way w holds nothing afterwards.  A w that holds nothing: a no-op. */
void ft_polite_release(struct ft_polite *p, struct ft_polite_waiter *w);

void ft_polite_stats(const struct ft_polite *p, struct ft_polite_stats *out);

#endif /* FT_POLITE_H */
