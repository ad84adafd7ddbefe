/*
 * ft_guard.c - address classification and the connect policy.
 *
 * One static table of prefixes; an address takes the class of the longest
 * prefix that matches it, so a globally reachable exception inside a
 * special block (192.0.0.9/32 inside 192.0.0.0/24) is simply a longer
 * entry, and the table can be read in address order rather than in an
 * order that makes first-match work.  Addresses no prefix matches are
 * public.  The table is small (about 50 rows) and a scan classifies a few
 * addresses per domain, so a linear walk is plenty.
 */
#include "ft_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

struct ft_prefix {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t len;              /* prefix length in bits */
	/* Nonzero: the address embeds an IPv4 address at this byte offset and
	 * takes that address's class (cls is then unused).  0 can never be an
	 * embedding offset: the prefix itself occupies the first bytes. */
	uint8_t v4_at;
	enum ft_addr_class cls;
	uint8_t addr[16];         /* network order; bits past len are zero */
};

#define V4(a, b, c, d, plen, class) \
	{ AF_INET, plen, 0, FT_ADDR_##class, { a, b, c, d } }
#define V6(plen, class, ...) \
	{ AF_INET6, plen, 0, FT_ADDR_##class, { __VA_ARGS__ } }
#define V6_EMBED(plen, at, ...) \
	{ AF_INET6, plen, at, FT_ADDR_PUBLIC, { __VA_ARGS__ } }

/*
 * IANA IPv4 / IPv6 Special-Purpose Address Registries (RFC 6890 §2.2, as
 * updated by RFC 8190; registry state of 2025), with each block's assigning
 * RFC.  Rows marked "Globally Reachable: True" inside a non-global block
 * are PUBLIC rows that override their parent.
 */
static const struct ft_prefix prefixes[] = {
	/* RFC 791 §3.2: 0/8 "this network", never a destination. */
	V4(0, 0, 0, 0, 8, THIS_NETWORK),
	/* RFC 1122 §3.2.1.3: 0.0.0.0 "this host on this network". */
	V4(0, 0, 0, 0, 32, UNSPECIFIED),
	V4(10, 0, 0, 0, 8, PRIVATE),          /* RFC 1918 §3 */
	V4(100, 64, 0, 0, 10, CGNAT),         /* RFC 6598 §7 */
	V4(127, 0, 0, 0, 8, LOOPBACK),        /* RFC 1122 §3.2.1.3 */
	V4(169, 254, 0, 0, 16, LINK_LOCAL),   /* RFC 3927 §2.1 */
	V4(172, 16, 0, 0, 12, PRIVATE),       /* RFC 1918 §3 */
	/* RFC 6890 §2.1: IETF protocol assignments (DS-Lite 192.0.0.0/29,
	 * the dummy address 192.0.0.8, NAT64 discovery 192.0.0.170-171...),
	 * none globally reachable except the two anycast services below. */
	V4(192, 0, 0, 0, 24, IETF_PROTOCOL),
	V4(192, 0, 0, 9, 32, PUBLIC),         /* RFC 7723: PCP anycast */
	V4(192, 0, 0, 10, 32, PUBLIC),        /* RFC 8155: TURN anycast */
	V4(192, 0, 2, 0, 24, DOCUMENTATION),  /* RFC 5737 §3: TEST-NET-1 */
	/* RFC 7526: 6to4 relay anycast, deprecated (and 192.88.99.2,
	 * the RFC 6751 6a44 relay, is not globally reachable either). */
	V4(192, 88, 99, 0, 24, RESERVED),
	V4(192, 168, 0, 0, 16, PRIVATE),      /* RFC 1918 §3 */
	V4(198, 18, 0, 0, 15, BENCHMARK),     /* RFC 2544 §C.2.2, RFC 6815 */
	V4(198, 51, 100, 0, 24, DOCUMENTATION), /* RFC 5737 §3: TEST-NET-2 */
	V4(203, 0, 113, 0, 24, DOCUMENTATION),  /* RFC 5737 §3: TEST-NET-3 */
	V4(224, 0, 0, 0, 4, MULTICAST),       /* RFC 1112 §4, RFC 5771 */
	V4(240, 0, 0, 0, 4, RESERVED),        /* RFC 1112 §4 */
	V4(255, 255, 255, 255, 32, BROADCAST), /* RFC 919 §7, RFC 8190 */

	/*
	 * IANA IPv6 Address Space registry: only 2000::/3 is global unicast
	 * today; the rest is ULA, link-local, site-local, multicast or
	 * "Reserved by IETF".  Nothing public lives in reserved space, so it
	 * is refused rather than trusted (RFC 4291 §2.4 would call it global
	 * unicast; no registry has allocated any of it).
	 */
	V6(3, RESERVED, 0x00),                /* ::/3 */
	V6(2, RESERVED, 0x40),                /* 4000::/2 */
	V6(2, RESERVED, 0x80),                /* 8000::/2 */
	V6(3, RESERVED, 0xc0),                /* c000::/3 */
	V6(4, RESERVED, 0xe0),                /* e000::/4 */
	V6(5, RESERVED, 0xf0),                /* f000::/5 */
	V6(6, RESERVED, 0xf8),                /* f800::/6 */
	V6(9, RESERVED, 0xfe, 0x00),          /* fe00::/9 */

	V6(128, UNSPECIFIED, 0),              /* RFC 4291 §2.5.2: :: */
	V6(128, LOOPBACK, [15] = 1),          /* RFC 4291 §2.5.3: ::1 */
	/* RFC 4291 §2.5.5.1: IPv4-compatible ::/96, deprecated. */
	V6(96, RESERVED, 0),
	/* RFC 4291 §2.5.5.2: IPv4-mapped ::ffff:0:0/96 reaches the IPv4
	 * address itself on a dual-stack socket. */
	V6_EMBED(96, 12, [10] = 0xff, [11] = 0xff),
	/* RFC 6052 §2.1: NAT64 well-known prefix 64:ff9b::/96; §3.1 forbids
	 * it for non-global IPv4, so a NAT64 of 10.0.0.1 is private. */
	V6_EMBED(96, 12, 0x00, 0x64, 0xff, 0x9b),
	/* RFC 8215: 64:ff9b:1::/48, local-use IPv4/IPv6 translation. */
	V6(48, TRANSLATION, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01),
	V6(64, DISCARD, 0x01, 0x00),          /* RFC 6666: 100::/64 */
	/* RFC 9780: 100:0:0:1::/64 dummy prefix, not globally reachable. */
	V6(64, RESERVED, 0x01, 0x00, 0, 0, 0, 0, 0, 0x01),

	/* RFC 2928: 2001::/23 IETF protocol assignments (includes Teredo
	 * 2001::/32, RFC 4380, whose IPv4 host we cannot vet, and deprecated
	 * ORCHID 2001:10::/28, RFC 4843), with the registry's globally
	 * reachable exceptions below. */
	V6(23, IETF_PROTOCOL, 0x20, 0x01, 0x00),
	V6(128, PUBLIC, 0x20, 0x01, 0, 0x01, [15] = 1), /* RFC 7723: PCP */
	V6(128, PUBLIC, 0x20, 0x01, 0, 0x01, [15] = 2), /* RFC 8155: TURN */
	V6(128, PUBLIC, 0x20, 0x01, 0, 0x01, [15] = 3), /* RFC 9665: SRP */
	V6(48, BENCHMARK, 0x20, 0x01, 0, 0x02, 0, 0),   /* RFC 5180 */
	V6(32, PUBLIC, 0x20, 0x01, 0, 0x03),            /* RFC 7450: AMT */
	V6(48, PUBLIC, 0x20, 0x01, 0, 0x04, 0x01, 0x12), /* RFC 7535: AS112 */
	V6(28, PUBLIC, 0x20, 0x01, 0, 0x20),            /* RFC 7343: ORCHIDv2 */
	V6(28, PUBLIC, 0x20, 0x01, 0, 0x30),            /* RFC 9374: DRIP DET */
	V6(32, DOCUMENTATION, 0x20, 0x01, 0x0d, 0xb8),  /* RFC 3849 */
	/* RFC 3056 §2: 6to4 2002:V4ADDR::/48 is relayed to the IPv4 address
	 * in bytes 2-5. */
	V6_EMBED(16, 2, 0x20, 0x02),
	V6(20, DOCUMENTATION, 0x3f, 0xff, 0x00),        /* RFC 9637 */
	V6(16, RESERVED, 0x5f, 0x00),                   /* RFC 9602: SRv6 */
	V6(7, UNIQUE_LOCAL, 0xfc),                      /* RFC 4193 §3.1 */
	V6(10, LINK_LOCAL, 0xfe, 0x80),                 /* RFC 4291 §2.5.6 */
	V6(10, SITE_LOCAL, 0xfe, 0xc0),                 /* RFC 3879 */
	V6(8, MULTICAST, 0xff),                         /* RFC 4291 §2.7 */
};

static const char *const class_names[FT_ADDR_COUNT] = {
	[FT_ADDR_PUBLIC] = "public",
	[FT_ADDR_UNSPECIFIED] = "unspecified",
	[FT_ADDR_LOOPBACK] = "loopback",
	[FT_ADDR_PRIVATE] = "private",
	[FT_ADDR_LINK_LOCAL] = "link-local",
	[FT_ADDR_CGNAT] = "cgnat",
	[FT_ADDR_MULTICAST] = "multicast",
	[FT_ADDR_DOCUMENTATION] = "documentation",
	[FT_ADDR_BENCHMARK] = "benchmark",
	[FT_ADDR_RESERVED] = "reserved",
	[FT_ADDR_BROADCAST] = "broadcast",
	[FT_ADDR_THIS_NETWORK] = "this-network",
	[FT_ADDR_IETF_PROTOCOL] = "ietf-protocol",
	[FT_ADDR_UNIQUE_LOCAL] = "unique-local",
	[FT_ADDR_SITE_LOCAL] = "site-local",
	[FT_ADDR_DISCARD] = "discard",
	[FT_ADDR_TRANSLATION] = "translation",
};

/* Do the first bits of addr equal those of prefix?  Bits of prefix past
 * bits are ignored, so a sloppy table row cannot widen its match. */
static bool prefix_match(const uint8_t *addr, const uint8_t *prefix,
			 unsigned bits)
{
	unsigned full = bits / 8;
	unsigned rest = bits % 8;
	uint8_t mask;

	if (memcmp(addr, prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xffu << (8 - rest));
	return ((addr[full] ^ prefix[full]) & mask) == 0;
}

/* The longest table prefix of family that covers addr, or NULL. */
static const struct ft_prefix *longest_match(int family, const uint8_t *addr)
{
	const struct ft_prefix *best = NULL;
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		const struct ft_prefix *p = &prefixes[i];

		if (p->family != family)
			continue;
		if (best != NULL && p->len <= best->len)
			continue;
		if (prefix_match(addr, p->addr, p->len))
			best = p;
	}
	return best;
}

enum ft_addr_class ft_addr_classify_bytes(int family, const uint8_t *addr)
{
	const struct ft_prefix *p;

	if (addr == NULL || (family != AF_INET && family != AF_INET6))
		return FT_ADDR_RESERVED;
	p = longest_match(family, addr);
	if (p != NULL && p->v4_at != 0) {
		/* IPv4 rows embed nothing, so this goes one level deep. */
		p = longest_match(AF_INET, addr + p->v4_at);
	}
	return p != NULL ? p->cls : FT_ADDR_PUBLIC;
}

enum ft_addr_class ft_addr_classify(const struct sockaddr *sa)
{
	const unsigned char *base = (const unsigned char *)sa;
	uint8_t addr[16];

	if (sa == NULL)
		return FT_ADDR_RESERVED;
	/* Copy the address bytes out by offset rather than reading through a
	 * cast pointer: no struct type is punned, whatever sa points into. */
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(addr, base + offsetof(struct sockaddr_in, sin_addr), 4);
		return ft_addr_classify_bytes(AF_INET, addr);
	case AF_INET6:
		memcpy(addr, base + offsetof(struct sockaddr_in6, sin6_addr),
		       16);
		return ft_addr_classify_bytes(AF_INET6, addr);
	default:
		return FT_ADDR_RESERVED;
	}
}

const char *ft_addr_class_name(enum ft_addr_class c)
{
	if ((unsigned)c >= FT_ADDR_COUNT || class_names[c] == NULL)
		return "unknown";
	return class_names[c];
}

/* Classes refused even with allow_private: not a host's address at all
 * (see struct ft_guard in the header). */
static bool always_denied(enum ft_addr_class c)
{
	return c == FT_ADDR_UNSPECIFIED || c == FT_ADDR_MULTICAST ||
	       c == FT_ADDR_BROADCAST;
}

int ft_guard_check(const struct ft_guard *g, const struct sockaddr *sa,
		   enum ft_addr_class *cls)
{
	enum ft_addr_class c = FT_ADDR_RESERVED;
	int ret = ST_EINVAL;

	if (sa == NULL)
		goto out;
	c = ft_addr_classify(sa);
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		ret = ST_EDENIED;
	else if (c == FT_ADDR_PUBLIC)
		ret = ST_OK;
	else if (g != NULL && g->allow_private && !always_denied(c))
		ret = ST_OK;
	else
		ret = ST_EDENIED;
out:
	if (cls != NULL)
		*cls = c;
	return ret;
}

bool ft_errno_local(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM || err == EADDRNOTAVAIL;
}

int ft_fd_exhausted(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno != 0 ? errno : EMFILE;
}

bool ft_host_ok(const char *host)
{
	size_t n = strnlen(host, FT_HOST_MAX + 1);

	if (n == 0 || n > FT_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return host[0] != '.' && host[n - 1] != '.';
}
