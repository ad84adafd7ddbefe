/*
 * fuzz_nm_map.c - libFuzzer target for nm_map_parse(), the emulator's map
 * syntax (tests/netem/nm_map.h).
 *
 * The whole input is one map.  Invariants checked: the message is always
 * NUL-terminated, a map accepted has loopback (or unique local IPv6)
 * addresses, non-zero ports, values in range, and parsing it again from
 * its own text gives the same.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nm_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* IPv4 on 127.0.0.0/8, IPv6 ::1 or fc00::/7, a port. */
static int loopback(const union nm_sockaddr *s)
{
	if (s->sa.sa_family == AF_INET)
		return (ntohl(s->sin.sin_addr.s_addr) >> 24) == 127 &&
		       s->sin.sin_port != 0;
	if (s->sa.sa_family == AF_INET6)
		return (IN6_IS_ADDR_LOOPBACK(&s->sin6.sin6_addr) ||
			(s->sin6.sin6_addr.s6_addr[0] & 0xfe) == 0xfc) &&
		       s->sin6.sin6_port != 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_map m, again;
	char why[128], text[256], a[NM_SOCKADDR_STRLEN], b[NM_SOCKADDR_STRLEN];
	int n;

	memset(why, 'x', sizeof(why));
	if (nm_map_parse((const char *)data, size, &m, why, sizeof(why)) != 0) {
		if (memchr(why, '\0', sizeof(why)) == NULL)
			__builtin_trap();
		return 0;
	}
	if (!loopback(&m.listen) || !loopback(&m.upstream))
		__builtin_trap();
	if (!(m.delay_ms >= 0 && m.delay_ms <= 60000 && m.jitter_ms <= m.delay_ms &&
	      m.loss_pct >= 0 && m.loss_pct <= 100))
		__builtin_trap();
	nm_sockaddr_str(&m.listen, a, sizeof(a));
	nm_sockaddr_str(&m.upstream, b, sizeof(b));
	n = snprintf(text, sizeof(text), "%s:%s=%s,delay=%.17g,jitter=%.17g,"
		     "loss=%.17g,rto=%.17g", m.proto == NM_UDP ? "udp" : "tcp", a,
		     b, m.delay_ms, m.jitter_ms, m.loss_pct, m.rto_ms);
	/* %.17g may print an exponent for tiny values, which the syntax
	 * refuses: check the round trip only where it prints plain digits. */
	if (n <= 0 || (size_t)n >= sizeof(text) || strpbrk(text, "e") != NULL)
		return 0;
	if (nm_map_parse(text, (size_t)n, &again, why, sizeof(why)) != 0 ||
	    memcmp(&m.listen, &again.listen, sizeof(m.listen)) != 0 ||
	    memcmp(&m.upstream, &again.upstream, sizeof(m.upstream)) != 0 ||
	    m.proto != again.proto || m.delay_ms != again.delay_ms ||
	    m.loss_pct != again.loss_pct)
		__builtin_trap();
	return 0;
}
