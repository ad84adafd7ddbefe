/*
 * ft_polite.c - per-address connection caps: a hash of addresses (their
 * text form) to a count, a token bucket and a FIFO of waiters
 * (ft_polite.h).  Tokens are kept in millionths, so the bucket needs no
 * floating point: rate tokens per second are rate millionths per
 * microsecond.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ft_polite.h"
#include "st_error.h"
#include "st_hmap.h"

#define TOKEN 1000000u /* one connection, in millionths */

struct ft_polite_addr {
	struct ft_polite *p;
	char key[INET6_ADDRSTRLEN];
	unsigned active;              /* granted, not released */
	uint64_t tokens;              /* millionths of a connection */
	uint64_t t_us;                /* tokens counted up to here */
	struct st_list waiters;       /* struct ft_polite_waiter, FIFO */
	struct event *timer;          /* grants from the loop */
	struct st_link idle_link;     /* on p->idle: nothing held, none waits */
	bool busy;                    /* granting: not to be freed */
};

struct ft_polite {
	struct event_base *base;
	struct ft_polite_config cfg;
	struct st_hmap addrs;         /* key -> struct ft_polite_addr */
	struct st_list idle;          /* oldest first */
	struct ft_polite_stats st;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t cap_tokens(const struct ft_polite *p)
{
	return (uint64_t)p->cfg.burst * TOKEN;
}

static void refill(struct ft_polite_addr *a, uint64_t now)
{
	const struct ft_polite *p = a->p;

	if (p->cfg.rate != 0 && now > a->t_us) {
		uint64_t add = (now - a->t_us) * p->cfg.rate;

		a->tokens = a->tokens + add > cap_tokens(p) ? cap_tokens(p)
							    : a->tokens + add;
	}
	a->t_us = now;
}

static bool can_grant(const struct ft_polite_addr *a)
{
	const struct ft_polite *p = a->p;

	return (p->cfg.max_conns == 0 || a->active < p->cfg.max_conns) &&
	       (p->cfg.rate == 0 || a->tokens >= TOKEN);
}

static void take(struct ft_polite_addr *a, struct ft_polite_waiter *w,
		 uint64_t now)
{
	struct ft_polite *p = a->p;

	a->active++;
	if (p->cfg.rate != 0)
		a->tokens -= TOKEN;
	if (a->active > p->st.peak)
		p->st.peak = a->active;
	w->a = a;
	w->granted = true;
	p->st.granted++;
	if (now - w->t_us > p->st.max_wait_us && now > w->t_us)
		p->st.max_wait_us = now - w->t_us;
}

/* Arm a's timer for its first waiter: at once when it could be granted,
 * when the next token is due when only a token is missing, not at all
 * while the cap is full (a release arms it). */
static void schedule(struct ft_polite_addr *a)
{
	const struct ft_polite *p = a->p;
	struct timeval tv = { 0, 0 };

	if (st_list_empty(&a->waiters) || a->busy)
		return;
	if (p->cfg.max_conns != 0 && a->active >= p->cfg.max_conns)
		return;
	if (p->cfg.rate != 0 && a->tokens < TOKEN) {
		uint64_t us = (TOKEN - a->tokens + p->cfg.rate - 1) / p->cfg.rate;

		tv.tv_sec = (time_t)(us / 1000000u);
		tv.tv_usec = (suseconds_t)(us % 1000000u);
	}
	/* Only fails for a bad event; the next release arms it again. */
	(void)evtimer_add(a->timer, &tv);
}

static void addr_free(struct ft_polite_addr *a)
{
	st_hmap_del(&a->p->addrs, a->key);
	st_list_remove(&a->idle_link);
	event_free(a->timer);
	free(a);
}

/* Forget idle entries whose bucket is full again: a new entry for the
 * address starts full, so nothing is lost.  Oldest first; stops at the
 * first that is not full yet, so the cost is amortised O(1). */
static void sweep(struct ft_polite *p, uint64_t now)
{
	struct st_link *k;

	while ((k = st_list_first(&p->idle)) != NULL) {
		struct ft_polite_addr *a =
			ST_CONTAINER(k, struct ft_polite_addr, idle_link);

		if (a->busy)
			break;
		refill(a, now);
		if (p->cfg.rate != 0 && a->tokens < cap_tokens(p))
			break;
		addr_free(a);
	}
}

static void grant_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ft_polite_addr *a = arg;
	struct ft_polite *p = a->p;
	uint64_t now = now_us();
	struct st_link *k;

	(void)fd;
	(void)what;
	refill(a, now);
	a->busy = true;
	while (can_grant(a) && (k = st_list_pop_front(&a->waiters)) != NULL) {
		struct ft_polite_waiter *w =
			ST_CONTAINER(k, struct ft_polite_waiter, link);

		p->st.waiting--;
		take(a, w, now);
		w->fn(w); /* may release w, or ask again */
	}
	a->busy = false;
	if (!st_list_empty(&a->waiters))
		schedule(a);
	else if (a->active == 0 && !st_link_linked(&a->idle_link))
		st_list_push_back(&p->idle, &a->idle_link);
}

static struct ft_polite_addr *addr_get(struct ft_polite *p, const char *key,
				       uint64_t now)
{
	struct ft_polite_addr *a = st_hmap_get(&p->addrs, key);

	if (a != NULL)
		return a;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->p = p;
	memcpy(a->key, key, strlen(key) + 1);
	a->tokens = cap_tokens(p);
	a->t_us = now;
	st_list_init(&a->waiters);
	st_link_init(&a->idle_link);
	a->timer = evtimer_new(p->base, grant_cb, a);
	if (a->timer == NULL || st_hmap_put(&p->addrs, a->key, a) != ST_OK) {
		if (a->timer != NULL)
			event_free(a->timer);
		free(a);
		return NULL;
	}
	return a;
}

static int addr_key(const struct sockaddr *sa, char key[INET6_ADDRSTRLEN])
{
	const void *src;

	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return ST_EINVAL;
	if (inet_ntop(sa->sa_family, src, key, INET6_ADDRSTRLEN) == NULL)
		return ST_EINVAL;
	return ST_OK;
}

int ft_polite_acquire(struct ft_polite *p, const struct sockaddr *sa,
		      struct ft_polite_waiter *w)
{
	char key[INET6_ADDRSTRLEN];
	struct ft_polite_addr *a;
	uint64_t now;
	int ret;

	st_link_init(&w->link);
	w->a = NULL;
	w->granted = false;
	if (p == NULL || sa == NULL || w->fn == NULL)
		return ST_EINVAL;
	if (!ft_polite_enabled(p)) {
		w->granted = true; /* holds nothing: release is a no-op */
		p->st.granted++;
		return 1;
	}
	ret = addr_key(sa, key);
	if (ret != ST_OK)
		return ret;
	now = now_us();
	w->t_us = now;
	sweep(p, now);
	a = addr_get(p, key, now);
	if (a == NULL)
		return ST_ENOMEM;
	st_list_remove(&a->idle_link);
	refill(a, now);
	if (st_list_empty(&a->waiters) && can_grant(a)) {
		take(a, w, now);
		return 1;
	}
	w->a = a;
	st_list_push_back(&a->waiters, &w->link);
	p->st.waiting++;
	p->st.waited++;
	schedule(a);
	return 0;
}

void ft_polite_release(struct ft_polite *p, struct ft_polite_waiter *w)
{
	struct ft_polite_addr *a = w->a;

	w->a = NULL;
	if (a == NULL) {
		w->granted = false;
		return;
	}
	if (w->granted) {
		a->active--;
	} else {
		st_list_remove(&w->link);
		p->st.waiting--;
	}
	w->granted = false;
	if (!st_list_empty(&a->waiters))
		schedule(a); /* grants from the loop, never from here */
	else if (a->active == 0 && !a->busy &&
		 !st_link_linked(&a->idle_link))
		st_list_push_back(&p->idle, &a->idle_link);
}

bool ft_polite_enabled(const struct ft_polite *p)
{
	return p != NULL && (p->cfg.max_conns != 0 || p->cfg.rate != 0);
}

int ft_polite_new(struct event_base *base, const struct ft_polite_config *cfg,
		  struct ft_polite **out)
{
	struct ft_polite *p;

	if (base == NULL || cfg == NULL || out == NULL ||
	    (cfg->rate != 0 && cfg->burst == 0))
		return ST_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ST_ENOMEM;
	p->base = base;
	p->cfg = *cfg;
	st_hmap_init(&p->addrs);
	st_list_init(&p->idle);
	*out = p;
	return ST_OK;
}

void ft_polite_free(struct ft_polite *p)
{
	const char *k;
	void *v;

	if (p == NULL)
		return;
	for (size_t i = 0; (i = st_hmap_next(&p->addrs, i, &k, &v)) != 0;) {
		struct ft_polite_addr *a = v;

		while (st_list_pop_front(&a->waiters) != NULL)
			; /* the callers own them */
		event_free(a->timer);
		free(a);
	}
	st_hmap_free(&p->addrs);
	free(p);
}

void ft_polite_stats(const struct ft_polite *p, struct ft_polite_stats *out)
{
	*out = p->st;
	out->addrs = p->addrs.n;
}
