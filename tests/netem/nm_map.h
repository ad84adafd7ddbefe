/*
 * nm_map.h - the emulator's path maps: which scanner-facing address
 * forwards to which server, and what the path does on the way.
 *
 *   PROTO:LISTEN=UPSTREAM[,delay=MS][,jitter=MS][,loss=PCT][,rto=MS]
 *
 * PROTO is udp or tcp; LISTEN and UPSTREAM are each A.B.C.D:PORT (IPv4)
 * or [ADDR]:PORT (IPv6), of either family each.  The emulator never
 * forwards off the machine: an IPv4 address is on 127.0.0.0/8, an IPv6
 * address is ::1 or a unique local address (fc00::/7, RFC 4193) that
 * nm_map_check_local() finds on a loopback interface (the world puts its
 * IPv6 hosts, fd53:7473::/64, on lo of a network namespace).
 * delay and jitter are one-way, per direction, in milliseconds (decimals
 * allowed); loss is the percentage of packets (UDP) or chunks (TCP) lost
 * in each direction; rto is what a lost TCP chunk costs (default 200 ms,
 * Linux's minimum retransmission timeout).  Example:
 *
 *   udp:127.101.0.2:53=127.1.0.2:53,delay=25,jitter=2.5,loss=0.5
 *   tcp:[fd53:7473::102:1]:443=[fd53:7473::2:1]:443,delay=25
 *
 * A map file has one map per line; '#' starts a comment, blank lines are
 * skipped.  Pure parsing, no sockets; no global state.
 */
#ifndef NM_MAP_H
#define NM_MAP_H

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

enum nm_proto {
	NM_UDP,
	NM_TCP,
};

/* A socket address of either family (sa.sa_family says which). */
union nm_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* The length of a's family's sockaddr (0 for another family). */
socklen_t nm_sockaddr_len(const union nm_sockaddr *a);

/* "A.B.C.D:PORT" or "[ADDR]:PORT" into buf (NUL-terminated; "?" if a is
 * of another family or len too small).  Returns buf. */
char *nm_sockaddr_str(const union nm_sockaddr *a, char *buf, size_t len);
#define NM_SOCKADDR_STRLEN (INET6_ADDRSTRLEN + 8)

struct nm_map {
	enum nm_proto proto;
	union nm_sockaddr listen;
	union nm_sockaddr upstream;
	double delay_ms, jitter_ms, loss_pct, rto_ms;
};

#define NM_MAP_LINE_MAX 512 /* bytes of one map, in a file or an argument */
#define NM_MAP_FILE_MAX 65536 /* maps in one file */

/* Parse one map (len bytes at s, no NUL needed).  On error, a negative
 * ST_E* (ST_EPARSE syntax, ST_ERANGE a value, ST_EDENIED an address that
 * is neither IPv4 loopback, ::1 nor a unique local address, ST_ETOOBIG
 * too long) and a sentence in why (always NUL-terminated when whylen > 0).
 * A unique local address passes here; nm_map_check_local() then asks the
 * machine. */
int nm_map_parse(const char *s, size_t len, struct nm_map *out, char *why,
		 size_t whylen);

/* Read a map file.  *maps (malloc'd, the caller frees it) gets *n maps;
 * appended to what *maps already holds (*n on entry), so several files and
 * options add up.  On error, why names the file and line; *maps and *n
 * keep what was read before the bad line. */
int nm_map_load(const char *path, struct nm_map **maps, size_t *n, char *why,
		size_t whylen);

/* Whether m stays on the machine: every IPv6 address of it other than ::1
 * must be an address of a loopback interface (IFF_LOOPBACK) in ifs, the
 * list getifaddrs() gave (not owned, read only).  IPv4 needs no look-up
 * (127.0.0.0/8 is loopback by definition, RFC 1122 §3.2.1.3).  0, or
 * ST_EDENIED with a sentence naming the address in why. */
int nm_map_check_local(const struct nm_map *m, const struct ifaddrs *ifs,
		       char *why, size_t whylen);

/* Append one map to *maps (grown by doubling).  ST_ENOMEM, ST_ETOOBIG past
 * NM_MAP_FILE_MAX. */
int nm_map_append(struct nm_map **maps, size_t *n, const struct nm_map *m);

#endif /* NM_MAP_H */
