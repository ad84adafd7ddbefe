/*
 * test_ft_guard.c - fetch/: address classification against the IANA
 * special-purpose registries (RFC 6890, RFC 8190) and the connect policy,
 * one table row per range edge: each range's first and last address and
 * the addresses just outside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ft_guard.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a literal into a sockaddr_in or sockaddr_in6 with a port, a flow
 * label and a scope set, which the guard must ignore.  Fails the test on a
 * bad literal. */
static void make_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(443);
		sin6->sin6_flowinfo = htonl(0x12345);
		sin6->sin6_scope_id = 7;
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			fail_msg("bad IPv6 literal in test: %s", text);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			fail_msg("bad IPv4 literal in test: %s", text);
	}
}

/* The address bytes of a literal, for ft_addr_classify_bytes(). */
static int literal_bytes(const char *text, uint8_t out[16])
{
	int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(family, text, out) != 1)
		fail_msg("bad literal in test: %s", text);
	return family;
}

/* ---- classification --------------------------------------------------- */

struct class_row {
	const char *addr;
	enum ft_addr_class cls;
};

#define R(a, c) { a, FT_ADDR_##c }

static const struct class_row class_rows[] = {
	/* RFC 791 §3.2 / RFC 1122 §3.2.1.3: 0/8 this network, 0.0.0.0 this
	 * host */
	R("0.0.0.0", UNSPECIFIED),
	R("0.0.0.1", THIS_NETWORK),
	R("0.255.255.255", THIS_NETWORK),
	R("1.0.0.0", PUBLIC),
	/* RFC 1918 §3: 10/8 */
	R("9.255.255.255", PUBLIC),
	R("10.0.0.0", PRIVATE),
	R("10.0.0.1", PRIVATE),
	R("10.255.255.255", PRIVATE),
	R("11.0.0.0", PUBLIC),
	/* RFC 6598 §7: 100.64/10 shared address space */
	R("100.63.255.255", PUBLIC),
	R("100.64.0.0", CGNAT),
	R("100.127.255.255", CGNAT),
	R("100.128.0.0", PUBLIC),
	/* RFC 1122 §3.2.1.3: 127/8 loopback */
	R("126.255.255.255", PUBLIC),
	R("127.0.0.0", LOOPBACK),
	R("127.0.0.1", LOOPBACK),
	R("127.255.255.255", LOOPBACK),
	R("128.0.0.0", PUBLIC),
	/* RFC 3927 §2.1: 169.254/16 link-local */
	R("169.253.255.255", PUBLIC),
	R("169.254.0.0", LINK_LOCAL),
	R("169.254.169.254", LINK_LOCAL),
	R("169.254.255.255", LINK_LOCAL),
	R("169.255.0.0", PUBLIC),
	/* RFC 1918 §3: 172.16/12 */
	R("172.15.255.255", PUBLIC),
	R("172.16.0.0", PRIVATE),
	R("172.31.255.255", PRIVATE),
	R("172.32.0.0", PUBLIC),
	/* RFC 6890 §2.1: 192.0.0/24 IETF protocol assignments */
	R("191.255.255.255", PUBLIC),
	R("192.0.0.0", IETF_PROTOCOL),
	R("192.0.0.8", IETF_PROTOCOL),  /* RFC 7600: dummy address */
	R("192.0.0.9", PUBLIC),         /* RFC 7723: PCP anycast, global */
	R("192.0.0.10", PUBLIC),        /* RFC 8155: TURN anycast, global */
	R("192.0.0.11", IETF_PROTOCOL),
	R("192.0.0.170", IETF_PROTOCOL), /* RFC 7050: NAT64 discovery */
	R("192.0.0.255", IETF_PROTOCOL),
	/* RFC 5737 §3: 192.0.2/24 TEST-NET-1 */
	R("192.0.1.255", PUBLIC),
	R("192.0.2.0", DOCUMENTATION),
	R("192.0.2.255", DOCUMENTATION),
	R("192.0.3.0", PUBLIC),
	/* RFC 7535 / RFC 7450: AS112-v4 and AMT are globally reachable */
	R("192.31.196.1", PUBLIC),
	R("192.52.193.1", PUBLIC),
	/* RFC 7526: 192.88.99/24 deprecated 6to4 relay anycast */
	R("192.88.98.255", PUBLIC),
	R("192.88.99.0", RESERVED),
	R("192.88.99.2", RESERVED),     /* RFC 6751: 6a44 relay */
	R("192.88.99.255", RESERVED),
	R("192.88.100.0", PUBLIC),
	/* RFC 1918 §3: 192.168/16 */
	R("192.167.255.255", PUBLIC),
	R("192.168.0.0", PRIVATE),
	R("192.168.255.255", PRIVATE),
	R("192.169.0.0", PUBLIC),
	/* RFC 7534: AS112 direct delegation is globally reachable */
	R("192.175.48.1", PUBLIC),
	/* RFC 2544 §C.2.2, RFC 6815: 198.18/15 benchmarking */
	R("198.17.255.255", PUBLIC),
	R("198.18.0.0", BENCHMARK),
	R("198.19.255.255", BENCHMARK),
	R("198.20.0.0", PUBLIC),
	/* RFC 5737 §3: 198.51.100/24 TEST-NET-2 */
	R("198.51.99.255", PUBLIC),
	R("198.51.100.0", DOCUMENTATION),
	R("198.51.100.255", DOCUMENTATION),
	R("198.51.101.0", PUBLIC),
	/* RFC 5737 §3: 203.0.113/24 TEST-NET-3 */
	R("203.0.112.255", PUBLIC),
	R("203.0.113.0", DOCUMENTATION),
	R("203.0.113.255", DOCUMENTATION),
	R("203.0.114.0", PUBLIC),
	/* RFC 1112 §4, RFC 5771: 224/4 multicast */
	R("223.255.255.255", PUBLIC),
	R("224.0.0.0", MULTICAST),
	R("224.0.0.1", MULTICAST),
	R("239.255.255.255", MULTICAST),
	/* RFC 1112 §4: 240/4 reserved; RFC 919 §7: limited broadcast */
	R("240.0.0.0", RESERVED),
	R("255.255.255.254", RESERVED),
	R("255.255.255.255", BROADCAST),
	/* ordinary global unicast */
	R("8.8.8.8", PUBLIC),
	R("1.1.1.1", PUBLIC),

	/* RFC 4291 §2.5.2 / §2.5.3: unspecified and loopback */
	R("::", UNSPECIFIED),
	R("::1", LOOPBACK),
	/* RFC 4291 §2.5.5.1: IPv4-compatible ::/96, deprecated */
	R("::2", RESERVED),
	R("::8.8.8.8", RESERVED),
	R("::10.0.0.1", RESERVED),
	R("::255.255.255.255", RESERVED),
	/* IANA IPv6 Address Space: the rest of ::/8 is Reserved by IETF */
	R("::1:0:0", RESERVED),
	R("::fffe:ffff:ffff", RESERVED),
	R("::1:0:0:0", RESERVED),
	R("::ffff:0:a00:1", RESERVED),  /* RFC 2765 SIIT form, obsolete */
	/* RFC 4291 §2.5.5.2: IPv4-mapped takes the IPv4 address's class */
	R("::ffff:0.0.0.0", UNSPECIFIED),
	R("::ffff:10.0.0.1", PRIVATE),
	R("::ffff:127.0.0.1", LOOPBACK),
	R("::ffff:169.254.169.254", LINK_LOCAL),
	R("::ffff:192.168.1.1", PRIVATE),
	R("::ffff:8.8.8.8", PUBLIC),
	R("::ffff:192.0.0.9", PUBLIC),
	R("::ffff:224.0.0.1", MULTICAST),
	R("::ffff:255.255.255.255", BROADCAST),
	/* RFC 6052 §2.1, §3.1: NAT64 well-known prefix embeds IPv4 */
	R("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("64:ff9b::", UNSPECIFIED),
	R("64:ff9b::10.0.0.1", PRIVATE),
	R("64:ff9b::127.0.0.1", LOOPBACK),
	R("64:ff9b::100.64.0.1", CGNAT),
	R("64:ff9b::8.8.8.8", PUBLIC),
	R("64:ff9b::255.255.255.255", BROADCAST),
	R("64:ff9b::1:0:0", RESERVED),  /* just past the /96 */
	/* RFC 8215: 64:ff9b:1::/48 local-use translation */
	R("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("64:ff9b:1::", TRANSLATION),
	R("64:ff9b:1::808:808", TRANSLATION),
	R("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", TRANSLATION),
	R("64:ff9b:2::", RESERVED),
	/* RFC 6666: 100::/64 discard; RFC 9780: 100:0:0:1::/64 dummy */
	R("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("100::", DISCARD),
	R("100::ffff:ffff:ffff:ffff", DISCARD),
	R("100:0:0:1::", RESERVED),
	R("100:0:0:2::", RESERVED),
	/* IANA IPv6 Address Space: 2000::/3 is the global unicast space */
	R("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("2000::", PUBLIC),
	/* RFC 2928: 2001::/23 IETF protocol assignments */
	R("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("2001::", IETF_PROTOCOL),
	R("2001::1", IETF_PROTOCOL),    /* RFC 4380: Teredo */
	R("2001:1::", IETF_PROTOCOL),
	R("2001:1::1", PUBLIC),         /* RFC 7723: PCP anycast, global */
	R("2001:1::2", PUBLIC),         /* RFC 8155: TURN anycast, global */
	R("2001:1::3", PUBLIC),         /* RFC 9665: SRP anycast, global */
	R("2001:1::4", IETF_PROTOCOL),
	R("2001:1:ffff:ffff:ffff:ffff:ffff:ffff", IETF_PROTOCOL),
	/* RFC 5180: 2001:2::/48 benchmarking */
	R("2001:2::", BENCHMARK),
	R("2001:2:0:ffff:ffff:ffff:ffff:ffff", BENCHMARK),
	R("2001:2:1::", IETF_PROTOCOL),
	/* RFC 7450: 2001:3::/32 AMT, global */
	R("2001:2:ffff:ffff:ffff:ffff:ffff:ffff", IETF_PROTOCOL),
	R("2001:3::", PUBLIC),
	R("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	/* RFC 7535: 2001:4:112::/48 AS112-v6, global */
	R("2001:4:111:ffff:ffff:ffff:ffff:ffff", IETF_PROTOCOL),
	R("2001:4:112::", PUBLIC),
	R("2001:4:112:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("2001:4:113::", IETF_PROTOCOL),
	/* RFC 4843: 2001:10::/28 ORCHID, deprecated, not global */
	R("2001:10::", IETF_PROTOCOL),
	R("2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", IETF_PROTOCOL),
	/* RFC 7343: 2001:20::/28 ORCHIDv2, global */
	R("2001:20::", PUBLIC),
	R("2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	/* RFC 9374: 2001:30::/28 DRIP DETs, global */
	R("2001:30::", PUBLIC),
	R("2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("2001:40::", IETF_PROTOCOL),
	R("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", IETF_PROTOCOL),
	R("2001:200::", PUBLIC),
	/* RFC 3849: 2001:db8::/32 documentation */
	R("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("2001:db8::", DOCUMENTATION),
	R("2001:db8::1", DOCUMENTATION),
	R("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", DOCUMENTATION),
	R("2001:db9::", PUBLIC),
	/* RFC 3056 §2: 6to4 2002:V4ADDR::/48 takes the IPv4 class */
	R("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("2002::", UNSPECIFIED),
	R("2002:c0a8:101::1", PRIVATE),  /* 192.168.1.1 */
	R("2002:7f00:1::1", LOOPBACK),   /* 127.0.0.1 */
	R("2002:a00:1::", PRIVATE),      /* 10.0.0.1 */
	R("2002:808:808::1", PUBLIC),    /* 8.8.8.8 */
	R("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", BROADCAST),
	R("2003::", PUBLIC),
	/* RFC 7534: 2620:4f:8000::/48 AS112 direct delegation, global */
	R("2620:4f:8000::1", PUBLIC),
	/* RFC 9637: 3fff::/20 documentation */
	R("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	R("3fff::", DOCUMENTATION),
	R("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", DOCUMENTATION),
	R("3fff:1000::", PUBLIC),
	R("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUBLIC),
	/* IANA IPv6 Address Space: 4000::/3 onwards, Reserved by IETF */
	R("4000::", RESERVED),
	/* RFC 9602: 5f00::/16 SRv6 SIDs, not global */
	R("5f00::1", RESERVED),
	R("bfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("c000::", RESERVED),
	R("f800::", RESERVED),
	/* RFC 4193 §3.1: fc00::/7 unique local */
	R("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("fc00::", UNIQUE_LOCAL),
	R("fd00::1", UNIQUE_LOCAL),
	R("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UNIQUE_LOCAL),
	R("fe00::", RESERVED),
	/* RFC 4291 §2.5.6: fe80::/10 link-local */
	R("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RESERVED),
	R("fe80::", LINK_LOCAL),
	R("fe80::1", LINK_LOCAL),
	R("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LINK_LOCAL),
	/* RFC 3879: fec0::/10 site-local, deprecated */
	R("fec0::", SITE_LOCAL),
	R("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SITE_LOCAL),
	/* RFC 4291 §2.7: ff00::/8 multicast */
	R("ff00::", MULTICAST),
	R("ff02::1", MULTICAST),
	R("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", MULTICAST),
	/* ordinary global unicast */
	R("2a00:1450::1", PUBLIC),
	R("2606:4700:4700::1111", PUBLIC),
};

/* Both entry points agree with the table. */
static void test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(class_rows); i++) {
		const struct class_row *r = &class_rows[i];
		struct sockaddr_storage ss;
		uint8_t bytes[16];
		enum ft_addr_class got;
		int family;

		make_sockaddr(r->addr, &ss);
		got = ft_addr_classify((const struct sockaddr *)&ss);
		if (got != r->cls)
			fail_msg("%s: classified %s, expected %s", r->addr,
				 ft_addr_class_name(got),
				 ft_addr_class_name(r->cls));
		family = literal_bytes(r->addr, bytes);
		got = ft_addr_classify_bytes(family, bytes);
		if (got != r->cls)
			fail_msg("%s: bytes classified %s, expected %s",
				 r->addr, ft_addr_class_name(got),
				 ft_addr_class_name(r->cls));
	}
}

/* Every class is reached by some row, so none is dead in the table. */
static void test_every_class_covered(void **state)
{
	bool seen[FT_ADDR_COUNT] = { false };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(class_rows); i++)
		seen[class_rows[i].cls] = true;
	for (int c = 0; c < FT_ADDR_COUNT; c++) {
		if (!seen[c])
			fail_msg("no test row for class %s",
				 ft_addr_class_name((enum ft_addr_class)c));
	}
}

/* Anything but AF_INET / AF_INET6, and NULL, is reserved. */
static void test_classify_other_family(void **state)
{
	static const uint8_t zero[16];
	struct sockaddr_un unx;

	(void)state;
	memset(&unx, 0, sizeof(unx));
	unx.sun_family = AF_UNIX;
	assert_int_equal(ft_addr_classify((const struct sockaddr *)&unx),
			 FT_ADDR_RESERVED);
	assert_int_equal(ft_addr_classify(NULL), FT_ADDR_RESERVED);
	assert_int_equal(ft_addr_classify_bytes(AF_UNSPEC, zero),
			 FT_ADDR_RESERVED);
	assert_int_equal(ft_addr_classify_bytes(AF_UNIX, zero),
			 FT_ADDR_RESERVED);
	assert_int_equal(ft_addr_classify_bytes(AF_INET, NULL),
			 FT_ADDR_RESERVED);
	assert_int_equal(ft_addr_classify_bytes(AF_INET6, NULL),
			 FT_ADDR_RESERVED);
	/* the same bytes mean different things per family */
	assert_int_equal(ft_addr_classify_bytes(AF_INET, zero),
			 FT_ADDR_UNSPECIFIED);
	assert_int_equal(ft_addr_classify_bytes(AF_INET6, zero),
			 FT_ADDR_UNSPECIFIED);
}

/* ---- names ------------------------------------------------------------- */

static void test_class_names(void **state)
{
	static const struct {
		enum ft_addr_class cls;
		const char *name;
	} fixed[] = {
		{ FT_ADDR_PUBLIC, "public" },
		{ FT_ADDR_LOOPBACK, "loopback" },
		{ FT_ADDR_PRIVATE, "private" },
		{ FT_ADDR_LINK_LOCAL, "link-local" },
		{ FT_ADDR_CGNAT, "cgnat" },
		{ FT_ADDR_UNSPECIFIED, "unspecified" },
		{ FT_ADDR_MULTICAST, "multicast" },
		{ FT_ADDR_BROADCAST, "broadcast" },
		{ FT_ADDR_UNIQUE_LOCAL, "unique-local" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		assert_string_equal(ft_addr_class_name(fixed[i].cls),
				    fixed[i].name);
	/* every class: its own non-empty name, none "unknown" */
	for (int c = 0; c < FT_ADDR_COUNT; c++) {
		const char *s = ft_addr_class_name((enum ft_addr_class)c);

		assert_non_null(s);
		if (s[0] == '\0' || strcmp(s, "unknown") == 0)
			fail_msg("class %d has no name", c);
		for (int o = 0; o < c; o++) {
			if (strcmp(s, ft_addr_class_name(
					      (enum ft_addr_class)o)) == 0)
				fail_msg("classes %d and %d share \"%s\"", o,
					 c, s);
		}
	}
	assert_string_equal(ft_addr_class_name(FT_ADDR_COUNT), "unknown");
	assert_string_equal(ft_addr_class_name((enum ft_addr_class)-1),
			    "unknown");
	assert_string_equal(ft_addr_class_name((enum ft_addr_class)1000),
			    "unknown");
}

/* ---- the guard --------------------------------------------------------- */

struct guard_row {
	const char *addr;
	bool allow_private;
	int ret;
	enum ft_addr_class cls;
};

#define G(a, p, r, c) { a, p, r, FT_ADDR_##c }

static const struct guard_row guard_rows[] = {
	/* DESIGN.md §8: no non-public address by default */
	G("127.0.0.1", false, ST_EDENIED, LOOPBACK),
	G("10.0.0.1", false, ST_EDENIED, PRIVATE),
	G("169.254.169.254", false, ST_EDENIED, LINK_LOCAL),
	G("100.64.0.1", false, ST_EDENIED, CGNAT),
	G("::1", false, ST_EDENIED, LOOPBACK),
	G("fd00::1", false, ST_EDENIED, UNIQUE_LOCAL),
	G("::ffff:127.0.0.1", false, ST_EDENIED, LOOPBACK),
	G("64:ff9b::10.0.0.1", false, ST_EDENIED, PRIVATE),
	G("2002:c0a8:101::1", false, ST_EDENIED, PRIVATE),
	G("2001:db8::1", false, ST_EDENIED, DOCUMENTATION),
	G("240.0.0.1", false, ST_EDENIED, RESERVED),
	/* --allow-private: the local test world on 127/8 */
	G("127.0.0.1", true, ST_OK, LOOPBACK),
	G("10.0.0.1", true, ST_OK, PRIVATE),
	G("::1", true, ST_OK, LOOPBACK),
	G("fd00::1", true, ST_OK, UNIQUE_LOCAL),
	G("::ffff:127.0.0.1", true, ST_OK, LOOPBACK),
	G("192.0.2.1", true, ST_OK, DOCUMENTATION),
	G("198.18.0.1", true, ST_OK, BENCHMARK),
	/* never a host's address, even with --allow-private */
	G("0.0.0.0", true, ST_EDENIED, UNSPECIFIED),
	G("::", true, ST_EDENIED, UNSPECIFIED),
	G("::ffff:0.0.0.0", true, ST_EDENIED, UNSPECIFIED),
	G("224.0.0.1", true, ST_EDENIED, MULTICAST),
	G("ff02::1", true, ST_EDENIED, MULTICAST),
	G("255.255.255.255", true, ST_EDENIED, BROADCAST),
	G("64:ff9b::255.255.255.255", true, ST_EDENIED, BROADCAST),
	G("0.0.0.0", false, ST_EDENIED, UNSPECIFIED),
	G("ff02::1", false, ST_EDENIED, MULTICAST),
	/* public addresses pass either way */
	G("8.8.8.8", false, ST_OK, PUBLIC),
	G("8.8.8.8", true, ST_OK, PUBLIC),
	G("2a00:1450::1", false, ST_OK, PUBLIC),
	G("2a00:1450::1", true, ST_OK, PUBLIC),
	G("::ffff:8.8.8.8", false, ST_OK, PUBLIC),
	G("64:ff9b::8.8.8.8", false, ST_OK, PUBLIC),
	G("192.0.0.9", false, ST_OK, PUBLIC),
	G("2001:1::1", false, ST_OK, PUBLIC),
};

static void test_guard_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(guard_rows); i++) {
		const struct guard_row *r = &guard_rows[i];
		struct ft_guard g = { .allow_private = r->allow_private };
		struct sockaddr_storage ss;
		enum ft_addr_class cls = FT_ADDR_COUNT;
		int ret;

		make_sockaddr(r->addr, &ss);
		ret = ft_guard_check(&g, (const struct sockaddr *)&ss, &cls);
		if (ret != r->ret || cls != r->cls)
			fail_msg("%s (allow_private=%d): %s/%s, expected %s/%s",
				 r->addr, r->allow_private, st_strerror(ret),
				 ft_addr_class_name(cls), st_strerror(r->ret),
				 ft_addr_class_name(r->cls));
	}
}

/* The policy over every classification row: by default only public
 * passes; with allow_private all but unspecified, multicast and broadcast
 * pass; the class is always reported. */
static void test_guard_all_rows(void **state)
{
	static const struct ft_guard strict = { .allow_private = false };
	static const struct ft_guard lax = { .allow_private = true };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(class_rows); i++) {
		const struct class_row *r = &class_rows[i];
		const struct sockaddr *sa;
		struct sockaddr_storage ss;
		enum ft_addr_class cls;
		bool never = r->cls == FT_ADDR_UNSPECIFIED ||
			     r->cls == FT_ADDR_MULTICAST ||
			     r->cls == FT_ADDR_BROADCAST;
		int want;

		make_sockaddr(r->addr, &ss);
		sa = (const struct sockaddr *)&ss;

		want = r->cls == FT_ADDR_PUBLIC ? ST_OK : ST_EDENIED;
		cls = FT_ADDR_COUNT;
		if (ft_guard_check(&strict, sa, &cls) != want || cls != r->cls)
			fail_msg("%s: default policy wrong", r->addr);
		/* NULL policy is the default policy */
		if (ft_guard_check(NULL, sa, NULL) != want)
			fail_msg("%s: NULL policy wrong", r->addr);

		want = never ? ST_EDENIED : ST_OK;
		cls = FT_ADDR_COUNT;
		if (ft_guard_check(&lax, sa, &cls) != want || cls != r->cls)
			fail_msg("%s: allow_private policy wrong", r->addr);
	}
}

/* Bad arguments and non-IP families. */
static void test_guard_edges(void **state)
{
	struct ft_guard lax = { .allow_private = true };
	struct sockaddr_un unx;
	enum ft_addr_class cls;

	(void)state;
	cls = FT_ADDR_PUBLIC;
	assert_int_equal(ft_guard_check(&lax, NULL, &cls), ST_EINVAL);
	assert_int_equal(cls, FT_ADDR_RESERVED);
	assert_int_equal(ft_guard_check(NULL, NULL, NULL), ST_EINVAL);

	/* a non-IP family is refused whatever the policy */
	memset(&unx, 0, sizeof(unx));
	unx.sun_family = AF_UNIX;
	cls = FT_ADDR_PUBLIC;
	assert_int_equal(ft_guard_check(&lax, (const struct sockaddr *)&unx,
					&cls),
			 ST_EDENIED);
	assert_int_equal(cls, FT_ADDR_RESERVED);
	assert_int_equal(ft_guard_check(NULL, (const struct sockaddr *)&unx,
					NULL),
			 ST_EDENIED);
}

/* ft_host_ok(): the one check of a host name before it reaches a URL
 * (ft_fetch_policy) or an SMTP command line (ft_probe_smtp).  A name is at
 * most 255 octets on the wire (RFC 1035 §2.3.4), 253 as text without the
 * trailing dot; anything but letters, digits, '.' and '-' could change the
 * request a server sees. */
static void test_host_ok(void **state)
{
	char longest[FT_HOST_MAX + 2];
	static const struct {
		const char *host;
		bool ok;
	} rows[] = {
		{ "mta-sts.example.com", true },
		{ "MX1.Example.NET", true },
		{ "a", true },
		{ "xn--bcher-kva.example", true },
		{ "127.0.0.1", true },     /* digits and dots: a name to curl */
		{ "", false },             /* empty */
		{ ".example.com", false }, /* leading dot */
		{ "example.com.", false }, /* trailing dot: callers strip it */
		{ "exa mple.com", false }, /* space */
		{ "example.com\r\nQUIT", false }, /* CRLF: a second command */
		{ "example.com:8443", false }, /* would change the port */
		{ "example.com/x", false },    /* would change the path */
		{ "user@example.com", false }, /* would add userinfo */
		{ "ex_ample.com", false },     /* underscore */
		{ "b\xc3\xbc" "cher.example", false }, /* a U-label byte */
		{ "[::1]", false },            /* address literal */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		if (ft_host_ok(rows[i].host) != rows[i].ok)
			fail_msg("ft_host_ok(\"%s\") should be %d", rows[i].host,
				 rows[i].ok);
	/* 253 bytes pass, 254 do not (RFC 1035 §2.3.4). */
	memset(longest, 'a', sizeof(longest));
	longest[FT_HOST_MAX] = '\0';
	assert_true(ft_host_ok(longest));
	longest[FT_HOST_MAX] = 'a';
	longest[FT_HOST_MAX + 1] = '\0';
	assert_false(ft_host_ok(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_every_class_covered),
		cmocka_unit_test(test_classify_other_family),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_guard_table),
		cmocka_unit_test(test_guard_all_rows),
		cmocka_unit_test(test_guard_edges),
		cmocka_unit_test(test_host_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
