/*
 * sc_testutil.c - the engine's in-process test scaffolding (see
 * sc_testutil.h).
 */
#include "sc_testutil.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "st_error.h"

/* --- the scripted zone --- */

/* Is this the first time qname is asked (te.drop_once)?  Remembers it. */
static bool drop_first_time(struct te *t, const char *qname)
{
	for (size_t i = 0; i < t->n_dropped_once; i++)
		if (strcmp(t->dropped_once[i], qname) == 0)
			return false;
	if (t->n_dropped_once == TE_MAX)
		return false;
	snprintf(t->dropped_once[t->n_dropped_once++],
		 sizeof(t->dropped_once[0]), "%s", qname);
	return true;
}

static void zone_script(void *arg, const struct rsp_query *q,
			struct rsp_behaviour *beh)
{
	struct te *t = arg;
	bool name_known = false;
	size_t n = 0;

	memset(beh, 0, sizeof(*beh));
	beh->mode = RSP_ANSWER;
	beh->delay_ms = t->dns_delay_ms;
	if (t->drop_name != NULL && strcmp(t->drop_name, q->qname) == 0 &&
	    t->dropped < t->drop_first) {
		t->dropped++;
		beh->mode = RSP_SILENT;
		return;
	}
	if (t->drop_once != NULL && t->drop_once(q->qname) &&
	    drop_first_time(t, q->qname)) {
		beh->mode = RSP_SILENT;
		return;
	}
	for (const struct tz_row *r = t->zone; r->name != NULL; r++) {
		if (strcmp(r->name, q->qname) != 0)
			continue;
		name_known = true;
		if (r->type != q->qtype)
			continue;
		for (size_t i = 0; i < 4 && r->rrs[i] != NULL &&
				   n < RSP_MAX_RRS - 1; i++)
			beh->rrs[n++] = r->rrs[i];
	}
	beh->rcode = name_known ? 0 : 3; /* NOERROR (maybe NODATA), NXDOMAIN */
}

int te_new(const struct tz_row *zone, const char *const *cert_names,
	   size_t n_cert_names, struct te **out)
{
	struct te *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (t == NULL)
		return ST_ENOMEM;
	t->zone = zone;
	t->base = event_base_new();
	if (t->base == NULL) {
		ret = ST_ENOMEM;
		goto fail;
	}
	ret = rsp_start(&t->rsp, t->base, AF_INET);
	if (ret != ST_OK)
		goto fail;
	t->rsp.script = zone_script;
	t->rsp.script_arg = t;
	ret = tp_certs_new(&t->certs, cert_names, n_cert_names);
	if (ret == ST_OK)
		ret = tp_peer_start(&t->https, t->base, TP_HTTPS, t->certs.ctx);
	if (ret == ST_OK)
		ret = tp_peer_start(&t->smtp, t->base, TP_SMTP, t->certs.ctx);
	if (ret != ST_OK)
		goto fail;
	sc_config_default(&t->cfg);
	t->cfg.resolvers[0] = t->rsp.addr;
	t->cfg.n_resolvers = 1;
	t->cfg.dns_timeout_ms = 500;
	t->cfg.allow_private = true; /* the peers are on 127.0.0.1 */
	t->cfg.ca_file = t->certs.ca_path;
	t->cfg.https_port = t->https.port;
	t->cfg.smtp_port = t->smtp.port;
	t->cfg.https_timeout_ms = 3000;
	t->cfg.https_connect_ms = 2000;
	t->cfg.smtp_timeout_ms = 3000;
	t->cfg.retry_backoff_ms = 50;
	t->cfg.inflight = 8;
	*out = t;
	return ST_OK;
fail:
	te_free(t);
	return ret;
}

void te_free(struct te *t)
{
	if (t == NULL)
		return;
	tp_peer_stop(&t->https);
	tp_peer_stop(&t->smtp);
	rsp_stop(&t->rsp);
	tp_certs_free(&t->certs);
	if (t->base != NULL)
		event_base_free(t->base);
	free(t->log);
	free(t);
}

/* --- the engine's callbacks --- */

static int source(void *arg, struct sc_item *it)
{
	struct te *t = arg;
	struct sc_counters c;

	if (t->on_pull != NULL)
		t->on_pull(t);
	sc_engine_counters(t->e, &c);
	if (c.inflight > t->inflight_at_pull_max)
		t->inflight_at_pull_max = c.inflight;
	if (t->next == t->n_names)
		return 0;
	if (t->next < TE_MAX)
		t->t_pull_us[t->next] = sc_now_us();
	it->domain = t->names[t->next++];
	it->rank = t->next;
	return 1;
}

static int sink(void *arg, const struct sc_done *done)
{
	struct te *t = arg;
	const struct an_record *r = done->rec;
	struct te_rec *x;
	struct sc_counters c;
	size_t off = 0;

	if (t->n_recs == TE_MAX)
		return ST_ESPACE;
	x = &t->recs[t->n_recs++];
	snprintf(x->name, sizeof(x->name), "%s", r->domain);
	x->verdict = r->verdict;
	x->fetch_status = r->fetch_status;
	x->http_status = r->http_status;
	x->have_body = r->have_body;
	x->attempts = r->attempts;
	x->sts_dns = r->sts_dns;
	x->n_findings = r->n_findings;
	for (size_t i = 0; i < r->n_findings && off < sizeof(x->findings);
	     i++) {
		int k = snprintf(x->findings + off, sizeof(x->findings) - off,
				 "%s%s", i > 0 ? " " : "", r->findings[i].code);

		if (k < 0)
			break;
		off += (size_t)k;
	}
	sc_engine_counters(t->e, &c);
	x->attempt_seen = (unsigned)c.retries;
	if (t->on_sink != NULL)
		t->on_sink(t);
	return ST_OK;
}

static int probe_sink(void *arg, const struct an_probe_record *p)
{
	struct te *t = arg;
	struct te_probe *x;

	if (t->n_probes == TE_MAX)
		return ST_ESPACE;
	x = &t->probes[t->n_probes++];
	snprintf(x->host, sizeof(x->host), "%s", p->host);
	x->status = p->status;
	return ST_OK;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct te *t = arg;

	(void)fd;
	(void)what;
	t->deadline_hit = true;
	sc_engine_stop(t->e);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct te *t = arg;

	(void)fd;
	(void)what;
	if (t->on_tick != NULL && t->e != NULL)
		t->on_tick(t);
}

int te_run(struct te *t, const char *const *names, size_t n)
{
	struct timeval dl = { TE_DEADLINE_MS / 1000,
			      (TE_DEADLINE_MS % 1000) * 1000 };
	struct timeval tick = { 0, 2000 };
	struct event *deadline = NULL, *ticker = NULL;
	struct st_log lg;
	FILE *logf;
	int ret;

	t->names = names;
	t->n_names = n;
	t->next = 0;
	free(t->log);
	t->log = NULL;
	logf = open_memstream(&t->log, &t->log_len);
	if (logf == NULL)
		return ST_ENOMEM;
	st_log_init(&lg, ST_LOG_DEBUG, logf);
	t->cfg.log = &lg;
	ret = sc_engine_new(t->base, &t->cfg, &t->e);
	if (ret != ST_OK)
		goto cleanup;
	sc_engine_set_source(t->e, source, t);
	sc_engine_set_sink(t->e, sink, t);
	sc_engine_set_probe_sink(t->e, probe_sink, t);
	deadline = evtimer_new(t->base, on_deadline, t);
	ticker = event_new(t->base, -1, EV_PERSIST, on_tick, t);
	if (deadline == NULL || ticker == NULL ||
	    evtimer_add(deadline, &dl) != 0 || event_add(ticker, &tick) != 0) {
		ret = ST_ENOMEM;
		goto cleanup;
	}
	t->run_ret = sc_engine_run(t->e);
	sc_engine_counters(t->e, &t->c);
cleanup:
	if (deadline != NULL)
		event_free(deadline);
	if (ticker != NULL)
		event_free(ticker);
	sc_engine_free(t->e); /* cancels what is in flight: logged too */
	t->e = NULL;
	t->cfg.log = NULL;
	fclose(logf);
	return ret;
}

const struct te_rec *te_rec(const struct te *t, const char *name)
{
	for (size_t i = 0; i < t->n_recs; i++) {
		if (strcmp(t->recs[i].name, name) == 0)
			return &t->recs[i];
	}
	return NULL;
}

size_t te_probe_count(const struct te *t, const char *host)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_probes; i++)
		n += strcmp(t->probes[i].host, host) == 0;
	return n;
}

const struct te_probe *te_probe(const struct te *t, const char *host)
{
	for (size_t i = 0; i < t->n_probes; i++) {
		if (strcmp(t->probes[i].host, host) == 0)
			return &t->probes[i];
	}
	return NULL;
}

/* Append s to buf (of len), keeping it terminated. */
static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s", s);
}

void te_path(const struct te *t, const char *name, char *buf, size_t len)
{
	char key[160];
	const char *p = t->log;
	size_t klen;

	buf[0] = '\0';
	snprintf(key, sizeof(key), "[scan] %s: ", name);
	klen = strlen(key);
	while (p != NULL && (p = strstr(p, key)) != NULL) {
		char from[16], to[16];
		const char *eol = strchr(p, '\n');

		p += klen;
		/* "a -> b" and nothing else on the line */
		if (sscanf(p, "%15[a-z-] -> %15[a-z-]", from, to) == 2 &&
		    eol != NULL &&
		    (size_t)(eol - p) == strlen(from) + 4 + strlen(to)) {
			if (strcmp(from, "new") == 0) {
				if (buf[0] != '\0')
					append(buf, len, " | ");
				append(buf, len, from);
			}
			append(buf, len, " ");
			append(buf, len, to);
		}
		p = eol;
	}
}

/* --- local faults --- */

void te_fill(struct te_fill *f)
{
	struct rlimit rl;

	f->n = 0;
	f->full = false;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > TE_FILL_LIMIT) {
		rl.rlim_cur = TE_FILL_LIMIT;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	while (f->n < TE_FILL_LIMIT) {
		int fd = dup(0);

		if (fd < 0) {
			f->full = errno == EMFILE;
			return;
		}
		f->fds[f->n++] = fd;
	}
}

void te_unfill(struct te_fill *f)
{
	while (f->n > 0)
		close(f->fds[--f->n]);
}

int te_fork(te_child_fn fn, void *arg, void *out, size_t len)
{
	int p[2], status = 0;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return ST_EIO;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return ST_EIO;
	}
	if (pid == 0) {
		int ret;

		close(p[0]);
		ret = fn(arg, out);
		if (ret == ST_OK &&
		    write(p[1], out, len) != (ssize_t)len)
			ret = ST_EIO;
		_exit(ret == ST_OK ? 0 : 1);
	}
	close(p[1]);
	while (got < len) {
		ssize_t n = read(p[0], (char *)out + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != len || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ST_EIO;
	return ST_OK;
}
