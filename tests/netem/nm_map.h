/*
 * nm_map.h - the emulator's path maps: which scanner-facing address
 * forwards to which server, and what the path does on the way.
 *
 *   PROTO:LISTEN=UPSTREAM[,delay=MS][,jitter=MS][,loss=PCT][,rto=MS]
 *
 * PROTO is udp or tcp; LISTEN and UPSTREAM are IPv4 ADDR:PORT, both on
 * loopback (127.0.0.0/8: the emulator never forwards off the machine).
 * delay and jitter are one-way, per direction, in milliseconds (decimals
 * allowed); loss is the percentage of packets (UDP) or chunks (TCP) lost
 * in each direction; rto is what a lost TCP chunk costs (default 200 ms,
 * Linux's minimum retransmission timeout).  Example:
 *
 *   udp:127.101.0.2:53=127.1.0.2:53,delay=25,jitter=2.5,loss=0.5
 *
 * A map file has one map per line; '#' starts a comment, blank lines are
 * skipped.  Pure parsing, no sockets; no global state.
 */
#ifndef NM_MAP_H
#define NM_MAP_H

#include <netinet/in.h>
#include <stddef.h>

enum nm_proto {
	NM_UDP,
	NM_TCP,
};

struct nm_map {
	enum nm_proto proto;
	struct sockaddr_in listen;
	struct sockaddr_in upstream;
	double delay_ms, jitter_ms, loss_pct, rto_ms;
};

#define NM_MAP_LINE_MAX 512 /* bytes of one map, in a file or an argument */
#define NM_MAP_FILE_MAX 65536 /* maps in one file */

/* Parse one map (len bytes at s, no NUL needed).  On error, a negative
 * ST_E* (ST_EPARSE syntax, ST_ERANGE a value, ST_EDENIED a non-loopback
 * address, ST_ETOOBIG too long) and a sentence in why (always
 * NUL-terminated when whylen > 0). */
int nm_map_parse(const char *s, size_t len, struct nm_map *out, char *why,
		 size_t whylen);

/* Read a map file.  *maps (malloc'd, the caller frees it) gets *n maps;
 * appended to what *maps already holds (*n on entry), so several files and
 * options add up.  On error, why names the file and line; *maps and *n
 * keep what was read before the bad line. */
int nm_map_load(const char *path, struct nm_map **maps, size_t *n, char *why,
		size_t whylen);

/* Append one map to *maps (grown by doubling).  ST_ENOMEM, ST_ETOOBIG past
 * NM_MAP_FILE_MAX. */
int nm_map_append(struct nm_map **maps, size_t *n, const struct nm_map *m);

#endif /* NM_MAP_H */
