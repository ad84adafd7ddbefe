/*
 * nm_map.c - parse the emulator's path maps (see nm_map.h).
 */
#include "nm_map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_queue.h"
#include "st_error.h"

static int fail(int err, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

socklen_t nm_sockaddr_len(const union nm_sockaddr *a)
{
	switch (a->sa.sa_family) {
	case AF_INET:
		return sizeof(a->sin);
	case AF_INET6:
		return sizeof(a->sin6);
	default:
		return 0;
	}
}

char *nm_sockaddr_str(const union nm_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n = -1;

	if (len == 0)
		return buf;
	if (a->sa.sa_family == AF_INET &&
	    inet_ntop(AF_INET, &a->sin.sin_addr, ip, sizeof(ip)) != NULL)
		n = snprintf(buf, len, "%s:%u", ip, ntohs(a->sin.sin_port));
	else if (a->sa.sa_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &a->sin6.sin6_addr, ip, sizeof(ip)) != NULL)
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6.sin6_port));
	if (n < 0 || (size_t)n >= len)
		snprintf(buf, len, "?");
	return buf;
}

/* Whether an IPv6 address may be forwarded to or from: ::1, or a unique
 * local address (RFC 4193 §3.1: "fc00::/7"), which is not routed on the
 * internet and which nm_map_check_local() must then find on lo. */
static int ip6_allowed(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) || (a->s6_addr[0] & 0xfe) == 0xfc;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT" in buf (NUL-terminated) into sa. */
static int parse_addr(char *buf, union nm_sockaddr *sa, char *why,
		      size_t whylen)
{
	char *host = buf, *colon, *end;
	unsigned long port;
	int six = buf[0] == '[';

	memset(sa, 0, sizeof(*sa));
	if (six) {
		char *close = strchr(buf, ']');

		if (close == NULL || close[1] != ':')
			return fail(ST_EPARSE, why, whylen,
				    "'%s': want [IPv6]:PORT", buf);
		*close = '\0';
		host = buf + 1;
		colon = close + 1;
	} else {
		colon = strrchr(buf, ':');
		if (colon == NULL)
			return fail(ST_EPARSE, why, whylen, "'%s': no :PORT", buf);
		*colon = '\0';
		if (strchr(buf, ':') != NULL)
			return fail(ST_EPARSE, why, whylen, "'%s': an IPv6"
				    " address goes in brackets, [ADDR]:PORT", buf);
	}
	if (six ? inet_pton(AF_INET6, host, &sa->sin6.sin6_addr) != 1 :
		  inet_pton(AF_INET, host, &sa->sin.sin_addr) != 1)
		return fail(ST_EPARSE, why, whylen, "'%s': not an %s address",
			    host, six ? "IPv6" : "IPv4");
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		return fail(ST_EPARSE, why, whylen, "'%s': bad port", colon + 1);
	if (six) {
		if (IN6_IS_ADDR_V4MAPPED(&sa->sin6.sin6_addr))
			return fail(ST_EPARSE, why, whylen, "%s: an IPv4-mapped"
				    " address (write the IPv4 form)", host);
		if (!ip6_allowed(&sa->sin6.sin6_addr))
			return fail(ST_EDENIED, why, whylen, "%s: not a loopback"
				    " (::1) or unique local (fc00::/7) address",
				    host);
		sa->sin6.sin6_family = AF_INET6;
		sa->sin6.sin6_port = htons((uint16_t)port);
		return 0;
	}
	if ((ntohl(sa->sin.sin_addr.s_addr) >> 24) != 127)
		return fail(ST_EDENIED, why, whylen,
			    "%s: not a loopback address (127.0.0.0/8)", host);
	sa->sin.sin_family = AF_INET;
	sa->sin.sin_port = htons((uint16_t)port);
	return 0;
}

/* Whether the IPv6 address a is on a loopback interface of ifs. */
static int on_loopback(const struct in6_addr *a, const struct ifaddrs *ifs)
{
	for (const struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in6 *s6;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET6 ||
		    !(i->ifa_flags & IFF_LOOPBACK))
			continue;
		s6 = (const struct sockaddr_in6 *)(const void *)i->ifa_addr;
		if (memcmp(&s6->sin6_addr, a, sizeof(*a)) == 0)
			return 1;
	}
	return 0;
}

int nm_map_check_local(const struct nm_map *m, const struct ifaddrs *ifs,
		       char *why, size_t whylen)
{
	const union nm_sockaddr *ends[2] = {&m->listen, &m->upstream};
	char a[NM_SOCKADDR_STRLEN];

	if (whylen > 0)
		why[0] = '\0';
	for (int i = 0; i < 2; i++) {
		const struct in6_addr *ip = &ends[i]->sin6.sin6_addr;

		if (ends[i]->sa.sa_family != AF_INET6 || IN6_IS_ADDR_LOOPBACK(ip) ||
		    on_loopback(ip, ifs))
			continue;
		return fail(ST_EDENIED, why, whylen, "%s: a unique local address"
			    " on no loopback interface (the relay stays on the"
			    " machine)", nm_sockaddr_str(ends[i], a, sizeof(a)));
	}
	return 0;
}

static int parse_num(const char *key, const char *val, double *out,
		     char *why, size_t whylen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	/* Digits and one '.', nothing else: no signs, exponents, hex, inf. */
	if (*val == '\0' || strspn(val, "0123456789.") != strlen(val) ||
	    *end != '\0' || errno != 0 || !isfinite(v))
		return fail(ST_EPARSE, why, whylen, "%s=%s: not a number", key,
			    val);
	*out = v;
	return 0;
}

/* key=value options after the addresses: "delay=25,loss=1". */
static int parse_opts(char *opts, struct nm_map *m, char *why, size_t whylen)
{
	static const char *const keys[] = {"delay", "jitter", "loss", "rto"};
	double *slots[] = {&m->delay_ms, &m->jitter_ms, &m->loss_pct,
			   &m->rto_ms};
	unsigned seen = 0;
	char *save = NULL;
	size_t len = strlen(opts);
	int ret;

	if (len == 0 || opts[0] == ',' || opts[len - 1] == ',' ||
	    strstr(opts, ",,") != NULL)
		return fail(ST_EPARSE, why, whylen, "empty option in '%s'", opts);
	for (char *kv = strtok_r(opts, ",", &save); kv != NULL;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		size_t i;

		if (eq == NULL)
			return fail(ST_EPARSE, why, whylen,
				    "'%s': want KEY=VALUE", kv);
		*eq = '\0';
		for (i = 0; i < 4 && strcmp(kv, keys[i]) != 0; i++)
			;
		if (i == 4)
			return fail(ST_EPARSE, why, whylen,
				    "unknown key '%s' (delay, jitter, loss, rto)",
				    kv);
		if (seen & (1u << i))
			return fail(ST_EPARSE, why, whylen, "%s given twice", kv);
		seen |= 1u << i;
		ret = parse_num(kv, eq + 1, slots[i], why, whylen);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int nm_map_parse(const char *s, size_t len, struct nm_map *out, char *why,
		 size_t whylen)
{
	char buf[NM_MAP_LINE_MAX + 1], *eq, *comma, *rest;
	struct nm_shape sh;
	int ret;

	if (whylen > 0)
		why[0] = '\0';
	if (len > NM_MAP_LINE_MAX)
		return fail(ST_ETOOBIG, why, whylen, "map longer than %d bytes",
			    NM_MAP_LINE_MAX);
	if (memchr(s, '\0', len) != NULL)
		return fail(ST_EPARSE, why, whylen, "NUL byte in map");
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->rto_ms = 200.0;
	if (strncmp(buf, "udp:", 4) == 0) {
		out->proto = NM_UDP;
	} else if (strncmp(buf, "tcp:", 4) == 0) {
		out->proto = NM_TCP;
	} else {
		return fail(ST_EPARSE, why, whylen,
			    "'%s': want udp:LISTEN=UPSTREAM or tcp:...", buf);
	}
	rest = buf + 4;
	eq = strchr(rest, '=');
	if (eq == NULL)
		return fail(ST_EPARSE, why, whylen, "no '=UPSTREAM' in '%s'", buf);
	*eq = '\0';
	comma = strchr(eq + 1, ',');
	if (comma != NULL)
		*comma = '\0';
	ret = parse_addr(rest, &out->listen, why, whylen);
	if (ret == 0)
		ret = parse_addr(eq + 1, &out->upstream, why, whylen);
	if (ret == 0 && comma != NULL)
		ret = parse_opts(comma + 1, out, why, whylen);
	if (ret != 0)
		return ret;
	if (nm_shape_set(&sh, out->delay_ms, out->jitter_ms, out->loss_pct,
			 out->rto_ms) != 0)
		return fail(ST_ERANGE, why, whylen,
			    "delay, jitter and rto 0 to 60000 ms, jitter at"
			    " most delay, loss 0 to 100");
	return 0;
}

int nm_map_append(struct nm_map **maps, size_t *n, const struct nm_map *m)
{
	struct nm_map *grown;

	if (*n >= NM_MAP_FILE_MAX)
		return ST_ETOOBIG;
	/* Capacity 16, then doubled each time *n reaches a power of two. */
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		grown = realloc(*maps, (*n == 0 ? 16 : 2 * *n) * sizeof(**maps));
		if (grown == NULL)
			return ST_ENOMEM;
		*maps = grown;
	}
	(*maps)[(*n)++] = *m;
	return 0;
}

int nm_map_load(const char *path, struct nm_map **maps, size_t *n, char *why,
		size_t whylen)
{
	char line[NM_MAP_LINE_MAX + 2], sub[256];
	unsigned long lineno = 0;
	struct nm_map m;
	int ret = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return fail(ST_EIO, why, whylen, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		char *hash = strchr(line, '#'), *p = line;

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			ret = fail(ST_ETOOBIG, why, whylen, "%s:%lu: line longer"
				   " than %d bytes", path, lineno,
				   NM_MAP_LINE_MAX);
			goto out;
		}
		if (hash != NULL)
			*hash = '\0';
		p += strspn(p, " \t");
		len = strcspn(p, " \t\r\n");
		if (p[len + strspn(p + len, " \t\r\n")] != '\0') {
			ret = fail(ST_EPARSE, why, whylen, "%s:%lu: one map per"
				   " line, no spaces inside", path, lineno);
			goto out;
		}
		if (len == 0)
			continue;
		ret = nm_map_parse(p, len, &m, sub, sizeof(sub));
		if (ret == 0)
			ret = nm_map_append(maps, n, &m);
		if (ret != 0) {
			fail(ret, why, whylen, "%s:%lu: %s", path, lineno,
			     sub[0] != '\0' ? sub : st_strerror(ret));
			goto out;
		}
	}
	if (ferror(f))
		ret = fail(ST_EIO, why, whylen, "%s: read error", path);
out:
	fclose(f);
	return ret;
}
