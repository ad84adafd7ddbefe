/*
 * sc_threads.c - N engines on N threads between one dealer and one store
 * writer (see sc_threads.h for the design and what it promises).
 *
 * Per worker ("lane"), under its mutex: an inbox ring of SC_IN_CAP names
 * (the dealer pushes, the worker's source pops), an outbox FIFO of
 * messages (the worker's sinks append, the writer takes them all), the
 * flags below and the last counters the worker reported.  Wake-ups go
 * through non-blocking pipes watched by events on the loop that must
 * act (a byte is written only when the other side said it waits, or at a
 * threshold), and the writer also looks every SC_TICK_MS, so a lost race
 * costs at most a tick, never a stall.
 */
#define _GNU_SOURCE /* pipe2 */

#include "sc_threads.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "an_record.h"
#include "ds_store.h"
#include "st_error.h"

_Static_assert(SC_MSG_HASH_LEN == DS_STORE_HASH_LEN,
	       "a message carries the store's key of its body");

#define SC_IN_CAP 512       /* names waiting per worker */
#define SC_OUT_WAKE 256     /* results that wake the writer at once */
#define SC_OUT_CAP 4096     /* results waiting: the worker takes no more */
#define SC_TICK_MS 20       /* the writer looks at least this often */
#define SC_REPORT_MS 250    /* a worker publishes its counters */

struct sc_inbox_item {
	char name[254];
	uint64_t rank;
};

struct lane {
	struct sc_pool *p;
	struct sc_config cfg;           /* this worker's share */
	struct event_base *base;        /* the worker's, freed by it */
	struct sc_engine *e;
	struct event *wake_ev, *report_ev;
	int wake[2];                    /* dealer/writer -> worker */
	pthread_t thread;
	bool started;
	uint8_t *scratch;               /* AN_RECORD_ENCODED_MAX, worker's */
	struct sc_inbox_item cur;       /* the item last handed to the engine */

	pthread_mutex_t mu;
	/* under mu */
	struct sc_inbox_item *in;       /* ring of SC_IN_CAP */
	size_t in_head, in_count;
	struct st_list out;             /* struct sc_msg */
	size_t n_out;
	bool worker_waiting;            /* its source said SC_SOURCE_WAIT */
	bool input_done, stop, finished;
	int error;
	bool upstream_stop;
	char why[768];
	struct sc_counters c;
	struct sc_health_stats h;
	double cpu_s;                   /* the thread's CPU, once finished */
};

struct sc_pool {
	struct event_base *base;        /* the caller's */
	sc_pool_ready_fn ready;
	void *arg;
	int wake[2];                    /* workers -> caller */
	struct event *wake_ev, *tick_ev;
	unsigned n, next;
	struct lane *lanes;
	bool input_done;
	bool curl_inited;
	atomic_bool blocked;            /* the dealer found every inbox full */
};

/* --- the arithmetic ---------------------------------------------------- */

double sc_thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sc_pool_cpu(struct sc_pool *p, double *sum_s, double *max_s)
{
	*sum_s = *max_s = 0;
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];

		pthread_mutex_lock(&l->mu);
		*sum_s += l->cpu_s;
		if (l->cpu_s > *max_s)
			*max_s = l->cpu_s;
		pthread_mutex_unlock(&l->mu);
	}
}

unsigned sc_threads_online(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > SC_THREADS_MAX ? SC_THREADS_MAX : (unsigned)n;
}

static unsigned cap_min(unsigned n, unsigned cap)
{
	return cap < n ? cap : n;
}

unsigned sc_threads_fit(unsigned want, const struct sc_config *cfg)
{
	unsigned n = want != 0 ? want : sc_threads_online();

	n = cap_min(n, SC_THREADS_MAX);
	n = cap_min(n, cfg->inflight);
	n = cap_min(n, sc_config_dns_inflight(cfg));
	n = cap_min(n, cfg->https_max);
	if (cfg->qps != 0)
		n = cap_min(n, cfg->qps);
	if (cfg->probe_mx)
		n = cap_min(n, cfg->smtp_max);
	/* The per-address caps are per scan too (a provider counts our
	 * connections, not our threads'): each worker gets a share of every
	 * one, so there are no more workers than the smallest cap in use. */
	if (cfg->https_per_ip != 0)
		n = cap_min(n, cfg->https_per_ip);
	if (cfg->https_per_ip_rate != 0)
		n = cap_min(n, cfg->https_per_ip_rate);
	if (cfg->probe_mx && cfg->smtp_per_ip != 0)
		n = cap_min(n, cfg->smtp_per_ip);
	if (cfg->probe_mx && cfg->smtp_per_ip_rate != 0)
		n = cap_min(n, cfg->smtp_per_ip_rate);
	return n > 0 ? n : 1;
}

static unsigned share(unsigned cap, unsigned n, unsigned i)
{
	return cap / n + (i < cap % n ? 1u : 0u);
}

void sc_threads_split(const struct sc_config *all, unsigned n, unsigned i,
		      struct sc_config *out)
{
	*out = *all;
	if (n <= 1)
		return;
	out->qps = share(all->qps, n, i); /* 0 stays 0: no cap */
	out->inflight = share(all->inflight, n, i);
	out->dns_inflight = share(all->dns_inflight, n, i);
	out->https_max = share(all->https_max, n, i);
	out->smtp_max = share(all->smtp_max, n, i);
	out->https_per_ip = share(all->https_per_ip, n, i); /* 0: no cap */
	out->https_per_ip_rate = share(all->https_per_ip_rate, n, i);
	out->smtp_per_ip = share(all->smtp_per_ip, n, i);
	out->smtp_per_ip_rate = share(all->smtp_per_ip_rate, n, i);
}

int sc_threads_fit_fds(struct sc_config *cfg, uint64_t limit, unsigned n,
		       struct sc_fd_budget *b)
{
	struct sc_config one;
	int ret;

	if (n <= 1)
		return sc_config_fit_fds(cfg, limit, b);
	/* Fitted as worker 0 (the largest share) in limit / n, then written
	 * back as totals for the scan. */
	sc_threads_split(cfg, n, 0, &one);
	ret = sc_config_fit_fds(&one, limit / n, b);
	b->limit = limit;
	b->need *= n;
	b->need_asked *= n;
	b->https_asked = cfg->https_max;
	b->smtp_asked = cfg->smtp_max;
	if (ret == ST_OK && b->lowered) {
		cfg->https_max = one.https_max * n;
		cfg->smtp_max = one.smtp_max * n;
	}
	return ret;
}

/* The connections n workers get in limit descriptors: 0 when they do
 * not fit at all. */
static uint64_t fitted_conns(const struct sc_config *cfg, uint64_t limit,
			     unsigned n, bool *lowered)
{
	struct sc_config c = *cfg;
	struct sc_fd_budget b;

	if (sc_threads_fit_fds(&c, limit, n, &b) != ST_OK)
		return 0;
	*lowered = b.lowered;
	return (uint64_t)c.https_max + (c.probe_mx ? (uint64_t)c.smtp_max : 0u);
}

unsigned sc_threads_fit_limit(const struct sc_config *cfg, uint64_t limit,
			      unsigned n)
{
	uint64_t got[SC_THREADS_MAX + 1] = { 0 }, best = 0;
	bool lowered = false;

	if (n > SC_THREADS_MAX)
		n = SC_THREADS_MAX;
	if (n <= 1)
		return 1;
	for (unsigned k = n; k >= 1; k--) {
		got[k] = fitted_conns(cfg, limit, k, &lowered);
		if (got[k] != 0 && !lowered)
			return k; /* as asked, or fewer threads with no cap lowered */
		if (got[k] > best)
			best = got[k];
	}
	if (best == 0)
		return 1; /* even one does not fit: the caller says so */
	/* Every count lowers the caps: the caps are per scan, so a thread
	 * costs only its engine's own descriptors.  The most threads whose
	 * connections are within 90% of the best count's. */
	for (unsigned k = n; k > 1; k--)
		if (got[k] * 10 >= best * 9)
			return k;
	return 1;
}

/* --- messages ---------------------------------------------------------- */

void sc_pool_msg_free(struct sc_msg *m)
{
	free(m);
}

/* One allocation: the struct, then name, data and body. */
static struct sc_msg *msg_new(enum sc_msg_kind kind, const char *name,
			      const uint8_t *data, size_t len,
			      const uint8_t *body, size_t body_len)
{
	size_t nl = strlen(name) + 1;
	struct sc_msg *m = malloc(sizeof(*m) + nl + len + body_len);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	p = (uint8_t *)(m + 1);
	memcpy(p, name, nl);
	m->name = (const char *)p;
	p += nl;
	memcpy(p, data, len);
	m->data = p;
	m->len = len;
	p += len;
	if (body != NULL) {
		memcpy(p, body, body_len);
		m->body = p;
		m->body_len = body_len;
	}
	return m;
}

/* --- wake-ups ---------------------------------------------------------- */

static void poke(int fd)
{
	char c = 1;
	ssize_t n;

	/* Non-blocking: a full pipe already holds a wake-up. */
	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* --- the worker's side (its own thread) -------------------------------- */

static int lane_source(void *arg, struct sc_item *item)
{
	struct lane *l = arg;
	bool room;

	pthread_mutex_lock(&l->mu);
	if (l->stop) {
		pthread_mutex_unlock(&l->mu);
		return 0;
	}
	if (l->n_out >= SC_OUT_CAP ||
	    (l->in_count == 0 && !l->input_done)) {
		l->worker_waiting = true;
		pthread_mutex_unlock(&l->mu);
		return SC_SOURCE_WAIT;
	}
	if (l->in_count == 0) {
		pthread_mutex_unlock(&l->mu);
		return 0;
	}
	l->cur = l->in[l->in_head];
	l->in_head = (l->in_head + 1) % SC_IN_CAP;
	l->in_count--;
	room = l->in_count <= SC_IN_CAP / 2;
	pthread_mutex_unlock(&l->mu);
	if (room && atomic_exchange(&l->p->blocked, false))
		poke(l->p->wake[1]);
	item->domain = l->cur.name;
	item->rank = l->cur.rank;
	return 1;
}

static int lane_put(struct lane *l, struct sc_msg *m)
{
	bool wake;

	pthread_mutex_lock(&l->mu);
	st_list_push_back(&l->out, &m->link);
	l->n_out++;
	wake = l->n_out == SC_OUT_WAKE;
	pthread_mutex_unlock(&l->mu);
	if (wake)
		poke(l->p->wake[1]);
	return ST_OK;
}

/* The record encoded here, with the hash the store will key its body by
 * (ds_store_body_hash(), the same function the store uses). */
static int lane_sink(void *arg, const struct sc_done *done)
{
	struct lane *l = arg;
	struct an_record copy = *done->rec;
	uint8_t hash[DS_STORE_HASH_LEN];
	struct sc_msg *m;
	size_t len = 0;
	int ret;

	if (copy.have_body) {
		if (done->body == NULL)
			return ST_EINVAL;
		ret = ds_store_body_hash(done->body, done->body_len, hash);
		if (ret != ST_OK)
			return ret;
		memcpy(copy.body_hash, hash, sizeof(hash));
	}
	ret = an_record_encode(&copy, l->scratch, AN_RECORD_ENCODED_MAX, &len);
	if (ret != ST_OK)
		return ret;
	m = msg_new(SC_MSG_RESULT, copy.domain, l->scratch, len,
		    copy.have_body ? done->body : NULL,
		    copy.have_body ? done->body_len : 0);
	if (m == NULL)
		return ST_ENOMEM;
	m->verdict = (unsigned)copy.verdict;
	if (copy.have_body)
		memcpy(m->body_hash, hash, sizeof(hash));
	return lane_put(l, m);
}

static int lane_probe_sink(void *arg, const struct an_probe_record *p)
{
	struct lane *l = arg;
	uint8_t buf[4096];
	size_t len = 0;
	struct sc_msg *m;
	int ret;

	ret = an_probe_record_encode(p, buf, sizeof(buf), &len);
	if (ret != ST_OK)
		return ret;
	m = msg_new(SC_MSG_PROBE, p->host, buf, len, NULL, 0);
	if (m == NULL)
		return ST_ENOMEM;
	return lane_put(l, m);
}

static void lane_report(struct lane *l)
{
	struct sc_counters c;
	struct sc_health_stats h;

	sc_engine_counters(l->e, &c);
	sc_engine_health_stats(l->e, &h);
	pthread_mutex_lock(&l->mu);
	l->c = c;
	l->h = h;
	pthread_mutex_unlock(&l->mu);
}

static void on_lane_report(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lane_report(arg);
}

/* The dealer pushed input, the writer took results, or a stop. */
static void on_lane_wake(evutil_socket_t fd, short what, void *arg)
{
	struct lane *l = arg;
	bool stop;

	(void)what;
	drain(fd);
	pthread_mutex_lock(&l->mu);
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	if (stop)
		sc_engine_stop(l->e);
	else
		sc_engine_source_ready(l->e);
}

static void stop_all(struct sc_pool *p);

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	char why[sizeof(l->why)];
	bool up;
	int ret;

	ret = sc_engine_run(l->e);
	lane_report(l);
	up = sc_engine_stop_reason(l->e, why, sizeof(why));
	/* Everything of the engine is freed on the thread that ran it. */
	sc_engine_free(l->e);
	l->e = NULL;
	event_free(l->wake_ev);
	event_free(l->report_ev);
	l->wake_ev = l->report_ev = NULL;
	event_base_free(l->base);
	l->base = NULL;
	pthread_mutex_lock(&l->mu);
	l->cpu_s = sc_thread_cpu_s();
	l->error = ret;
	l->upstream_stop = up;
	if (up)
		memcpy(l->why, why, sizeof(why));
	l->finished = true;
	pthread_mutex_unlock(&l->mu);
	/* One engine that failed, or whose upstream monitor gave up, ends
	 * the scan for all: the others would only meet the same fate. */
	if (ret != ST_OK || up)
		stop_all(l->p);
	poke(l->p->wake[1]);
	return NULL;
}

/* --- the caller's side ------------------------------------------------- */

static void on_pool_wake(evutil_socket_t fd, short what, void *arg)
{
	struct sc_pool *p = arg;

	(void)what;
	if (fd >= 0)
		drain(fd);
	p->ready(p->arg);
}

static void stop_all(struct sc_pool *p)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];

		if (l->p == NULL)
			continue; /* never set up (a failed sc_pool_new) */
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_mutex_unlock(&l->mu);
		poke(l->wake[1]);
	}
}

void sc_pool_stop(struct sc_pool *p)
{
	stop_all(p);
}

/* Push into lane l if it has room: true if pushed. */
static bool lane_push(struct lane *l, const struct sc_item *it)
{
	bool wake = false, pushed = false;

	pthread_mutex_lock(&l->mu);
	if (l->in_count < SC_IN_CAP && !l->stop) {
		struct sc_inbox_item *d =
			&l->in[(l->in_head + l->in_count) % SC_IN_CAP];

		snprintf(d->name, sizeof(d->name), "%s", it->domain);
		d->rank = it->rank;
		l->in_count++;
		pushed = true;
		wake = l->worker_waiting;
		l->worker_waiting = false;
	}
	pthread_mutex_unlock(&l->mu);
	if (wake)
		poke(l->wake[1]);
	return pushed;
}

int sc_pool_push(struct sc_pool *p, const struct sc_item *it)
{
	if (p->input_done)
		return ST_EINVAL;
	for (int round = 0; round < 2; round++) {
		for (unsigned k = 0; k < p->n; k++) {
			unsigned i = (p->next + k) % p->n;

			if (lane_push(&p->lanes[i], it)) {
				p->next = (i + 1) % p->n;
				return ST_OK;
			}
		}
		/* Every inbox full: ask to be woken, then look once more, in
		 * case a worker made room before it could see the flag. */
		atomic_store(&p->blocked, true);
	}
	return ST_EAGAIN;
}

void sc_pool_input_done(struct sc_pool *p)
{
	p->input_done = true;
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		bool wake;

		pthread_mutex_lock(&l->mu);
		l->input_done = true;
		wake = l->worker_waiting;
		l->worker_waiting = false;
		pthread_mutex_unlock(&l->mu);
		if (wake)
			poke(l->wake[1]);
	}
}

size_t sc_pool_take(struct sc_pool *p, struct st_list *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		struct st_link *k;
		bool wake;

		pthread_mutex_lock(&l->mu);
		while ((k = st_list_pop_front(&l->out)) != NULL) {
			st_list_push_back(out, k);
			n++;
		}
		l->n_out = 0;
		/* A worker that waited for its outbox to drain goes on, with
		 * input or to its end. */
		wake = l->worker_waiting && (l->in_count > 0 || l->input_done);
		if (wake)
			l->worker_waiting = false;
		pthread_mutex_unlock(&l->mu);
		if (wake)
			poke(l->wake[1]);
	}
	return n;
}

bool sc_pool_finished(struct sc_pool *p)
{
	bool all = true;

	for (unsigned i = 0; i < p->n && all; i++) {
		struct lane *l = &p->lanes[i];

		pthread_mutex_lock(&l->mu);
		all = l->finished && l->n_out == 0;
		pthread_mutex_unlock(&l->mu);
	}
	return all;
}

static void counters_add(struct sc_counters *s, const struct sc_counters *c)
{
	s->started += c->started;
	s->completed += c->completed;
	for (size_t v = 0; v < AN_V_COUNT; v++)
		s->verdicts[v] += c->verdicts[v];
	s->fetches += c->fetches;
	s->fetch_ok += c->fetch_ok;
	s->probes += c->probes;
	s->local_errors += c->local_errors;
	for (size_t f = 0; f < SC_FAULT_COUNT; f++)
		s->faults[f] += c->faults[f];
	s->retries += c->retries;
	s->unmeasured += c->unmeasured;
	s->retry_queued += c->retry_queued;
	s->inflight += c->inflight;
	s->inflight_peak += c->inflight_peak;
	s->dns_sent += c->dns_sent;
	s->dns_timeouts += c->dns_timeouts;
	s->https_inflight += c->https_inflight;
	sc_tail_merge(&s->duration, &c->duration);
	/* every worker runs its own passes at its end: the count is the
	 * most any ran; each worker paces its own share of the upstream,
	 * so the scan's window is the sum of theirs */
	if (c->passes > s->passes)
		s->passes = c->passes;
	s->pass_retries += c->pass_retries;
	s->pass_recovered += c->pass_recovered;
	s->pass_held += c->pass_held;
	s->pass_held_peak += c->pass_held_peak; /* each its own cap */
	s->passes_early += c->passes_early;
	s->dns_window += c->dns_window;
	s->dns_window_low += c->dns_window_low;
	s->dns_backoffs += c->dns_backoffs;
	s->dns_delay_cuts += c->dns_delay_cuts;
}

void sc_pool_counters(struct sc_pool *p, struct sc_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];

		pthread_mutex_lock(&l->mu);
		counters_add(out, &l->c);
		pthread_mutex_unlock(&l->mu);
	}
}

void sc_pool_health_stats(struct sc_pool *p, struct sc_health_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];

		pthread_mutex_lock(&l->mu);
		out->unvouched += l->h.unvouched;
		out->canaries += l->h.canaries;
		out->outages += l->h.outages;
		out->upstream_faults += l->h.upstream_faults;
		pthread_mutex_unlock(&l->mu);
	}
}

int sc_pool_error(struct sc_pool *p)
{
	int ret = ST_OK;

	for (unsigned i = 0; i < p->n && ret == ST_OK; i++) {
		pthread_mutex_lock(&p->lanes[i].mu);
		ret = p->lanes[i].finished ? p->lanes[i].error : ST_OK;
		pthread_mutex_unlock(&p->lanes[i].mu);
	}
	return ret;
}

bool sc_pool_stop_reason(struct sc_pool *p, char *buf, size_t len)
{
	bool up = false;

	for (unsigned i = 0; i < p->n && !up; i++) {
		struct lane *l = &p->lanes[i];

		pthread_mutex_lock(&l->mu);
		up = l->finished && l->upstream_stop;
		if (up)
			snprintf(buf, len, "%s", l->why);
		pthread_mutex_unlock(&l->mu);
	}
	return up;
}

/* --- set-up and tear-down ---------------------------------------------- */

static int pipe_pair(int fd[2])
{
	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) != 0) {
		fd[0] = fd[1] = -1;
		return ST_EIO;
	}
	return ST_OK;
}

static void close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

/* Lane i's engine on a base of its own, not yet running. */
static int lane_init(struct sc_pool *p, const struct sc_config *all,
		     unsigned i)
{
	struct lane *l = &p->lanes[i];
	struct timeval rep = { 0, SC_REPORT_MS * 1000 };
	int ret;

	l->p = p;
	l->wake[0] = l->wake[1] = -1;
	st_list_init(&l->out);
	pthread_mutex_init(&l->mu, NULL);
	sc_threads_split(all, p->n, i, &l->cfg);
	l->in = calloc(SC_IN_CAP, sizeof(*l->in));
	l->scratch = malloc(AN_RECORD_ENCODED_MAX);
	l->base = event_base_new();
	if (l->in == NULL || l->scratch == NULL || l->base == NULL)
		return ST_ENOMEM;
	ret = pipe_pair(l->wake);
	if (ret != ST_OK)
		return ret;
	ret = sc_engine_new(l->base, &l->cfg, &l->e);
	if (ret != ST_OK)
		return ret;
	sc_engine_set_source(l->e, lane_source, l);
	sc_engine_set_sink(l->e, lane_sink, l);
	sc_engine_set_probe_sink(l->e, lane_probe_sink, l);
	l->wake_ev = event_new(l->base, l->wake[0], EV_READ | EV_PERSIST,
			       on_lane_wake, l);
	l->report_ev = event_new(l->base, -1, EV_PERSIST, on_lane_report, l);
	if (l->wake_ev == NULL || l->report_ev == NULL ||
	    event_add(l->wake_ev, NULL) != 0 ||
	    event_add(l->report_ev, &rep) != 0)
		return ST_ENOMEM;
	return ST_OK;
}

/* The workers, with every signal blocked (they reach the caller). */
static int start_all(struct sc_pool *p)
{
	sigset_t all, old;
	int ret = ST_OK;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < p->n && ret == ST_OK; i++) {
		struct lane *l = &p->lanes[i];

		if (pthread_create(&l->thread, NULL, lane_main, l) != 0)
			ret = ST_EIO;
		else
			l->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int sc_pool_new(struct event_base *base, const struct sc_config *cfg,
		unsigned n, sc_pool_ready_fn ready, void *arg,
		struct sc_pool **out)
{
	struct timeval tick = { 0, SC_TICK_MS * 1000 };
	struct sc_pool *p;
	int ret;

	if (base == NULL || cfg == NULL || ready == NULL || out == NULL ||
	    n == 0 || n > SC_THREADS_MAX)
		return ST_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ST_ENOMEM;
	p->base = base;
	p->ready = ready;
	p->arg = arg;
	p->wake[0] = p->wake[1] = -1;
	atomic_init(&p->blocked, false);
	/* Once, before any engine (and its curl multi handle) exists. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(p);
		return ST_ENOMEM;
	}
	p->curl_inited = true;
	p->lanes = calloc(n, sizeof(*p->lanes));
	if (p->lanes == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	p->n = n;
	for (unsigned i = 0; i < n; i++)
		p->lanes[i].wake[0] = p->lanes[i].wake[1] = -1;
	ret = pipe_pair(p->wake);
	for (unsigned i = 0; i < n && ret == ST_OK; i++)
		ret = lane_init(p, cfg, i);
	if (ret != ST_OK)
		goto fail;
	p->wake_ev = event_new(base, p->wake[0], EV_READ | EV_PERSIST,
			       on_pool_wake, p);
	p->tick_ev = event_new(base, -1, EV_PERSIST, on_pool_wake, p);
	if (p->wake_ev == NULL || p->tick_ev == NULL ||
	    event_add(p->wake_ev, NULL) != 0 ||
	    event_add(p->tick_ev, &tick) != 0) {
		ret = ST_ENOMEM;
		goto fail;
	}
	ret = start_all(p);
	if (ret != ST_OK)
		goto fail;
	*out = p;
	return ST_OK;
fail:
	sc_pool_free(p);
	return ret;
}

void sc_pool_free(struct sc_pool *p)
{
	if (p == NULL)
		return;
	if (p->lanes != NULL)
		stop_all(p);
	for (unsigned i = 0; i < p->n; i++) {
		struct lane *l = &p->lanes[i];
		struct st_link *k;

		if (l->p == NULL)
			continue;
		if (l->started)
			pthread_join(l->thread, NULL);
		/* A lane that never ran still holds its engine and base. */
		sc_engine_free(l->e);
		if (l->wake_ev != NULL)
			event_free(l->wake_ev);
		if (l->report_ev != NULL)
			event_free(l->report_ev);
		if (l->base != NULL)
			event_base_free(l->base);
		while ((k = st_list_pop_front(&l->out)) != NULL)
			sc_pool_msg_free(ST_CONTAINER(k, struct sc_msg, link));
		close_pair(l->wake);
		free(l->in);
		free(l->scratch);
		pthread_mutex_destroy(&l->mu);
	}
	if (p->wake_ev != NULL)
		event_free(p->wake_ev);
	if (p->tick_ev != NULL)
		event_free(p->tick_ev);
	close_pair(p->wake);
	free(p->lanes);
	if (p->curl_inited)
		curl_global_cleanup();
	free(p);
}
