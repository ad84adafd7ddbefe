/*
 * nm_nfq: an in-kernel delay line, the prototype measured against the
 * relay (docs/emulation.md "Latency and loss", "An NFQUEUE delay").
 *
 * Packets an nftables rule sends to NFQUEUE number Q (inside a network
 * namespace of their own) are held by the kernel; this program only learns
 * their packet id (copy mode META, no payload) and gives each its verdict
 * when it is due: NF_ACCEPT at arrival + delay + jitter, never before the
 * packet ahead of it (a FIFO, so release order is arrival order and one
 * NFQNL_MSG_VERDICT_BATCH accepts every due packet at once), NF_DROP at
 * once for a lost one.  No socket hop: a datagram is not copied, routed or
 * re-sent; the cost is one netlink message per packet plus one per batch.
 *
 *   nm_nfq --queue Q --delay MS [--jitter MS] [--loss PCT] [--seed N]
 *
 * delay and jitter are one-way per packet (each packet passing the rule),
 * loss in percent per packet.  Runs until SIGINT/SIGTERM, then accepts
 * what it holds and prints its counters on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define NFQ_HELD_MAX (1u << 20) /* packets held at once (queue maxlen) */
#define NFQ_RCVBUF (64 << 20)
#define NFQ_RECV_BUF (1 << 20) /* one recv: many netlink messages */

struct nfq_held {
	uint32_t id;
	uint64_t due_ns;
};

struct nfq_ctx {
	struct mnl_socket *nl;
	uint32_t queue;
	uint64_t delay_ns, jitter_ns;
	double loss;
	uint64_t rng;
	struct nfq_held *ring;
	size_t head, count;
	uint64_t last_due;
	uint64_t seen, accepted, dropped, overflow, batches, late_sum_ns, late_max_ns;
};

static volatile sig_atomic_t nfq_stop;

static void on_signal(int sig)
{
	(void)sig;
	nfq_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: jitter and loss per packet, reproducible with --seed. */
static double nfq_rand(struct nfq_ctx *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (double)((c->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int nfq_send_cfg(struct nfq_ctx *c, uint8_t cmd, int params)
{
	char buf[8192];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->queue);

	if (params) {
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_HELD_MAX);
	} else {
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, cmd);
	}
	return mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* One verdict message: NF_ACCEPT for every held packet with id <= id
 * (batch), or one packet's verdict. */
static int nfq_verdict(struct nfq_ctx *c, uint32_t id, int verdict, int batch)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, c->queue);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	return mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

static int nfq_on_packet(const struct nlmsghdr *nlh, void *arg)
{
	struct nfq_ctx *c = arg;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t id;
	uint64_t due;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	c->seen++;
	if (c->loss > 0 && nfq_rand(c) * 100.0 < c->loss) {
		c->dropped++;
		return nfq_verdict(c, id, NF_DROP, 0) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	}
	if (c->count == NFQ_HELD_MAX) { /* cannot hold it: let it through now */
		c->overflow++;
		return nfq_verdict(c, id, NF_ACCEPT, 0) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	}
	due = now_ns() + c->delay_ns;
	if (c->jitter_ns)
		due = due - c->jitter_ns + (uint64_t)(nfq_rand(c) * 2.0 * (double)c->jitter_ns);
	if (due < c->last_due)
		due = c->last_due; /* FIFO: never before the packet ahead */
	c->last_due = due;
	c->ring[(c->head + c->count) % NFQ_HELD_MAX] = (struct nfq_held){ id, due };
	c->count++;
	return MNL_CB_OK;
}

/* Accept every due packet with one batch verdict (ids grow along the
 * FIFO, and a dropped id in between was already given its verdict).
 * Returns the ms until the next is due, -1 with nothing held. */
static int nfq_release(struct nfq_ctx *c)
{
	uint64_t now = now_ns();
	uint32_t last = 0;
	int any = 0;

	while (c->count && c->ring[c->head].due_ns <= now + 100000) {
		uint64_t late = now > c->ring[c->head].due_ns ? now - c->ring[c->head].due_ns : 0;

		c->late_sum_ns += late;
		if (late > c->late_max_ns)
			c->late_max_ns = late;
		last = c->ring[c->head].id;
		c->head = (c->head + 1) % NFQ_HELD_MAX;
		c->count--;
		c->accepted++;
		any = 1;
	}
	if (any) {
		c->batches++;
		if (nfq_verdict(c, last, NF_ACCEPT, 1) < 0)
			return -2;
	}
	if (!c->count)
		return -1;
	return (int)((c->ring[c->head].due_ns - now + 999999) / 1000000);
}

static int nfq_loop(struct nfq_ctx *c, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(c->nl), .events = POLLIN };

	while (!nfq_stop) {
		int wait = nfq_release(c);
		ssize_t n;

		if (wait == -2)
			return -1;
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return -1;
		for (;;) {
			n = recv(pfd.fd, buf, size, MSG_DONTWAIT);
			if (n < 0 && errno == ENOBUFS) {
				fprintf(stderr, "nm_nfq: netlink ENOBUFS (kernel dropped messages)\n");
				continue;
			}
			if (n <= 0)
				break;
			if (mnl_cb_run(buf, (size_t)n, 0, 0, nfq_on_packet, c) < 0)
				return -1;
		}
	}
	if (c->count) /* let the held ones go */
		nfq_verdict(c, c->ring[(c->head + c->count - 1) % NFQ_HELD_MAX].id, NF_ACCEPT, 1);
	return 0;
}

static int parse_ms(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 60000)
		return -1;
	*ns = (uint64_t)(v * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	struct nfq_ctx c = { .queue = 0, .rng = 0x9e3779b97f4a7c15ull };
	int rcv = NFQ_RCVBUF, ret = 1, one = 1;
	char *buf = malloc(NFQ_RECV_BUF);

	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--queue"))
			c.queue = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(argv[i], "--delay") && !parse_ms(v, &c.delay_ns))
			;
		else if (!strcmp(argv[i], "--jitter") && !parse_ms(v, &c.jitter_ns))
			;
		else if (!strcmp(argv[i], "--loss"))
			c.loss = strtod(v, NULL);
		else if (!strcmp(argv[i], "--seed"))
			c.rng = strtoull(v, NULL, 10) | 1;
		else
			goto usage;
	}
	if (c.jitter_ns > c.delay_ns)
		goto usage;
	c.ring = calloc(NFQ_HELD_MAX, sizeof *c.ring);
	c.nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!buf || !c.ring || !c.nl || mnl_socket_bind(c.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nm_nfq: netlink");
		goto out;
	}
	setsockopt(mnl_socket_get_fd(c.nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
	setsockopt(mnl_socket_get_fd(c.nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	if (nfq_send_cfg(&c, NFQNL_CFG_CMD_BIND, 0) < 0 || nfq_send_cfg(&c, 0, 1) < 0) {
		perror("nm_nfq: bind queue");
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "nm_nfq: queue %" PRIu32 " ready\n", c.queue);
	ret = nfq_loop(&c, buf, NFQ_RECV_BUF) < 0 ? 1 : 0;
	fprintf(stderr,
		"nm_nfq: seen %" PRIu64 " accepted %" PRIu64 " dropped %" PRIu64 " overflow %" PRIu64
		" batches %" PRIu64 " late avg %.3f ms max %.3f ms\n",
		c.seen, c.accepted, c.dropped, c.overflow, c.batches,
		c.accepted ? (double)c.late_sum_ns / (double)c.accepted / 1e6 : 0.0, (double)c.late_max_ns / 1e6);
out:
	if (c.nl)
		mnl_socket_close(c.nl);
	free(c.ring);
	free(buf);
	return ret;
usage:
	free(buf);
	fprintf(stderr, "usage: nm_nfq --queue Q --delay MS [--jitter MS] [--loss PCT] [--seed N]\n");
	return 2;
}
