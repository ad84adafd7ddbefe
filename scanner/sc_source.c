/*
 * sc_source.c - inputs read on a thread, handed to the loop through a
 * bounded queue (see sc_source.h).
 *
 * Two pipes: `wake` from the reader to the loop (one byte when the loop
 * asked to be woken: an event on the loop's base drains it and calls
 * ready()), `cancel` from sc_source_free() to the reader (ds_input waits
 * for input in poll(2) on it too, so a reader blocked on a silent pipe
 * returns at once).  Everything else is under one mutex; the reader waits
 * on `room` while the queue is full, and is woken once it is half empty.
 */
#define _GNU_SOURCE /* pipe2 */

#include "sc_source.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "st_error.h"

struct sc_source {
	const char *const *inputs;
	size_t n_inputs;
	enum ds_input_format fmt;
	sc_source_ready_fn ready;
	void *ready_arg;
	struct event *wake_ev;
	int wake[2], cancel[2];
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t room;
	/* under mu */
	struct sc_source_item *q;      /* ring of cap items */
	size_t cap, head, count;
	bool done;                     /* every input read to its end */
	int error;                     /* the reader's error, after the queue */
	size_t failed, current;
	char why[160];          /* the failed input's own words, or "" */
	bool stop;                     /* sc_source_free() asked */
	bool waiting;                  /* the loop wants a wake-up */
	bool reader_waiting;           /* the reader waits on `room` */
	uint64_t reader_waits;         /* how often it did */
	uint64_t *lines;               /* per input */
	char (*digest)[65];
	uint64_t offset, size;
};

/* --- the reader thread ------------------------------------------------ */

/* Tell the loop, if it is waiting.  Called with mu held. */
static bool take_waiting(struct sc_source *s)
{
	bool w = s->waiting;

	s->waiting = false;
	return w;
}

/* One byte down the wake pipe.  It is non-blocking: a full pipe already
 * holds a wake-up, so EAGAIN loses nothing. */
static void wake_loop(struct sc_source *s, bool wake)
{
	char c = 1;
	ssize_t n;

	if (!wake)
		return;
	do {
		n = write(s->wake[1], &c, 1);
	} while (n < 0 && errno == EINTR);
}

/* Push one item, waiting for room.  false when asked to stop. */

/* snprintf(dst, cap, "%s", src) without the format machinery, which was
 * most of the reader's cost per line: the same truncation, NULL reads as
 * "". */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}
static bool push(struct sc_source *s, const struct ds_input_item *it,
		 size_t input, struct ds_input *in)
{
	struct sc_source_item *d;
	bool wake;

	pthread_mutex_lock(&s->mu);
	if (s->count == s->cap && !s->stop)
		s->reader_waits++;
	while (s->count == s->cap && !s->stop) {
		s->reader_waiting = true;
		pthread_cond_wait(&s->room, &s->mu);
	}
	if (s->stop) {
		pthread_mutex_unlock(&s->mu);
		return false;
	}
	d = &s->q[(s->head + s->count) % s->cap];
	d->error = it->error;
	d->input = (uint32_t)input;
	d->line = it->line;
	d->rank = it->rank;
	copy_str(d->domain, sizeof(d->domain), it->domain);
	copy_str(d->raw, sizeof(d->raw), it->raw);
	copy_str(d->why, sizeof(d->why), it->why);
	s->count++;
	s->lines[input] = ds_input_lines(in);
	s->offset = ds_input_offset(in);
	wake = take_waiting(s);
	pthread_mutex_unlock(&s->mu);
	wake_loop(s, wake);
	return true;
}

/* The end of all inputs (error == ST_OK) or the reader's error. */
static void finish(struct sc_source *s, int error, size_t input)
{
	bool wake;

	pthread_mutex_lock(&s->mu);
	s->done = error == ST_OK;
	s->error = error;
	s->failed = input;
	wake = take_waiting(s);
	pthread_mutex_unlock(&s->mu);
	wake_loop(s, wake);
}

/* Read input i to its end: ST_OK, the reader's error, or 1 when asked to
 * stop. */
static int read_input(struct sc_source *s, size_t i)
{
	struct ds_input *in = NULL;
	struct ds_input_item it;
	int ret;

	ret = ds_input_open_cancel(s->inputs[i], s->fmt, s->cancel[0], &in);
	if (ret != ST_OK)
		return ret;
	pthread_mutex_lock(&s->mu);
	s->current = i;
	s->offset = 0;
	s->size = ds_input_size(in);
	pthread_mutex_unlock(&s->mu);
	for (;;) {
		ret = ds_input_next(in, &it);
		if (ret <= 0)
			break;
		if (!push(s, &it, i, in)) {
			ret = 1;
			break;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->lines[i] = ds_input_lines(in);
	s->offset = ds_input_offset(in);
	if (ret < 0 && ds_input_why(in)[0] != '\0')
		snprintf(s->why, sizeof(s->why), "%s after line %llu",
			 ds_input_why(in), (unsigned long long)s->lines[i]);
	if (ret == 0)
		ds_input_digest(in, s->digest[i]);
	if (s->stop)
		ret = 1; /* a read cut short by the cancel is no error */
	pthread_mutex_unlock(&s->mu);
	ds_input_close(in);
	return ret;
}

static void *reader(void *arg)
{
	struct sc_source *s = arg;
	size_t i;
	int ret = ST_OK;

	for (i = 0; i < s->n_inputs; i++) {
		ret = read_input(s, i);
		if (ret != ST_OK)
			break;
	}
	if (ret != 1)
		finish(s, ret, i);
	return NULL;
}

/* --- the loop side ---------------------------------------------------- */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct sc_source *s = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	s->ready(s->ready_arg);
}

int sc_source_pop(struct sc_source *s, struct sc_source_item *item)
{
	int ret;

	pthread_mutex_lock(&s->mu);
	if (s->count > 0) {
		*item = s->q[s->head];
		s->head = (s->head + 1) % s->cap;
		s->count--;
		/* A full queue wakes the reader only once it is half empty:
		 * a signal (and the reader's wait) per item taken was two
		 * futex calls and a context switch per domain. */
		if (s->reader_waiting && s->count <= s->cap / 2) {
			s->reader_waiting = false;
			pthread_cond_signal(&s->room);
		}
		ret = 1;
	} else if (s->error != ST_OK) {
		ret = s->error;
	} else if (s->done) {
		ret = 0;
	} else {
		s->waiting = true;
		ret = SC_SOURCE_WAIT;
	}
	pthread_mutex_unlock(&s->mu);
	return ret;
}

uint64_t sc_source_reader_waits(const struct sc_source *s)
{
	struct sc_source *m = (struct sc_source *)s; /* the mutex only */
	uint64_t n;

	pthread_mutex_lock(&m->mu);
	n = s->reader_waits;
	pthread_mutex_unlock(&m->mu);
	return n;
}

size_t sc_source_failed(const struct sc_source *s)
{
	return s->failed;
}

const char *sc_source_why(const struct sc_source *s)
{
	return s->why;
}

void sc_source_input_info(const struct sc_source *s, size_t i,
			  uint64_t *lines, char digest[65])
{
	struct sc_source *m = (struct sc_source *)s; /* the mutex only */

	pthread_mutex_lock(&m->mu);
	*lines = i < s->n_inputs ? s->lines[i] : 0;
	snprintf(digest, 65, "%s", i < s->n_inputs ? s->digest[i] : "");
	pthread_mutex_unlock(&m->mu);
}

void sc_source_progress(const struct sc_source *s, size_t *input,
			uint64_t *offset, uint64_t *size)
{
	struct sc_source *m = (struct sc_source *)s;

	pthread_mutex_lock(&m->mu);
	*input = s->current;
	*offset = s->offset;
	*size = s->size;
	pthread_mutex_unlock(&m->mu);
}

static int make_pipes(struct sc_source *s)
{
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		return ST_EIO;
	if (pipe2(s->cancel, O_CLOEXEC) != 0)
		return ST_EIO;
	return ST_OK;
}

/* The thread, with every signal blocked in it (inherited mask). */
static int start_thread(struct sc_source *s)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, reader, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return rc == EAGAIN || rc == ENOMEM ? ST_ENOMEM : ST_EIO;
	s->started = true;
	return ST_OK;
}

int sc_source_new(struct event_base *base, const char *const *inputs,
		  size_t n, enum ds_input_format fmt, size_t cap,
		  sc_source_ready_fn ready, void *arg, struct sc_source **out)
{
	struct sc_source *s;
	int ret = ST_ENOMEM;

	if (base == NULL || inputs == NULL || cap == 0 || ready == NULL ||
	    out == NULL)
		return ST_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ST_ENOMEM;
	s->wake[0] = s->wake[1] = s->cancel[0] = s->cancel[1] = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->room, NULL);
	s->inputs = inputs;
	s->n_inputs = n;
	s->fmt = fmt;
	s->cap = cap;
	s->ready = ready;
	s->ready_arg = arg;
	s->q = calloc(cap, sizeof(*s->q));
	s->lines = calloc(n + 1, sizeof(*s->lines));
	s->digest = calloc(n + 1, sizeof(*s->digest));
	if (s->q == NULL || s->lines == NULL || s->digest == NULL)
		goto fail;
	ret = make_pipes(s);
	if (ret != ST_OK)
		goto fail;
	ret = ST_ENOMEM;
	s->wake_ev = event_new(base, s->wake[0], EV_READ | EV_PERSIST,
			       on_wake, s);
	if (s->wake_ev == NULL || event_add(s->wake_ev, NULL) != 0)
		goto fail;
	ret = start_thread(s);
	if (ret != ST_OK)
		goto fail;
	*out = s;
	return ST_OK;
fail:
	sc_source_free(s);
	return ret;
}

void sc_source_free(struct sc_source *s)
{
	char c = 1;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_broadcast(&s->room);
		pthread_mutex_unlock(&s->mu);
		/* Wakes a reader waiting for input: a pipe of its own, never
		 * full (one byte, written once). */
		if (write(s->cancel[1], &c, 1) != 1)
			perror("stsmap: stopping the input reader");
		pthread_join(s->thread, NULL);
	}
	if (s->wake_ev != NULL)
		event_free(s->wake_ev);
	for (int i = 0; i < 2; i++) {
		if (s->wake[i] >= 0)
			close(s->wake[i]);
		if (s->cancel[i] >= 0)
			close(s->cancel[i]);
	}
	pthread_cond_destroy(&s->room);
	pthread_mutex_destroy(&s->mu);
	free(s->q);
	free(s->lines);
	free(s->digest);
	free(s);
}
