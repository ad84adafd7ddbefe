/*
 * ft_guard.h - the address guard: which IP addresses the scanner may
 * connect to.
 *
 * A policy host's address comes from DNS, which the domain owner controls
 * (and a hostile one can point at 127.0.0.1, 10.0.0.1 or a cloud metadata
 * service).  Before fetch/ hands an address to curl (CURLOPT_RESOLVE) or
 * opens an SMTP connection, it asks ft_guard_check(); by default only
 * globally reachable addresses pass (DESIGN.md §2 step 3, §8).
 *
 * Classification follows the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890, updated by RFC 8190), plus multicast, the limited
 * broadcast address, the deprecated IPv6 site-local and IPv4-compatible
 * blocks, and the IANA IPv6 Address Space registry (everything outside
 * 2000::/3 that no other rule names is "Reserved by IETF").  Addresses that
 * embed an IPv4 address and reach it - IPv4-mapped ::ffff:0:0/96 (RFC 4291
 * §2.5.5.2), the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1) and
 * 6to4 2002::/16 (RFC 3056 §2) - get the class of the embedded IPv4
 * address, so ::ffff:127.0.0.1 is loopback and 64:ff9b::10.0.0.1 private.
 * The few registry entries marked "Globally Reachable: True" inside
 * otherwise special blocks (192.0.0.9, 192.0.0.10, 2001:1::1-3,
 * 2001:3::/32, 2001:4:112::/48, 2001:20::/28, 2001:30::/28) are public.
 *
 * Pure functions: no I/O, no allocation, no global mutable state; every
 * function is reentrant and safe to call from any thread (ft_fd_exhausted()
 * alone opens and closes a descriptor).
 *
 * It also says which failures are ours (DESIGN §4, "Where a failure
 * belongs"): a connection the scanner could not even make because this
 * machine ran out of descriptors, buffers, memory or local ports tells
 * nothing about the remote host, and fetch/ reports it as its LOCAL_ERROR
 * status, never as refused, unreachable or a certificate problem.
 */
#ifndef FT_GUARD_H
#define FT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "st_error.h"

/* Why an address is (not) public.  Values are stable: they may be stored
 * and compared across scans.  FT_ADDR_COUNT is not a class. */
enum ft_addr_class {
	FT_ADDR_PUBLIC = 0,     /* globally reachable unicast */
	FT_ADDR_UNSPECIFIED,    /* 0.0.0.0 (RFC 1122), :: (RFC 4291 §2.5.2) */
	FT_ADDR_LOOPBACK,       /* 127/8, ::1 */
	FT_ADDR_PRIVATE,        /* 10/8, 172.16/12, 192.168/16 (RFC 1918) */
	FT_ADDR_LINK_LOCAL,     /* 169.254/16 (RFC 3927), fe80::/10 */
	FT_ADDR_CGNAT,          /* 100.64/10 shared address space (RFC 6598) */
	FT_ADDR_MULTICAST,      /* 224/4 (RFC 5771), ff00::/8 */
	FT_ADDR_DOCUMENTATION,  /* RFC 5737, RFC 3849, RFC 9637 */
	FT_ADDR_BENCHMARK,      /* 198.18/15 (RFC 2544), 2001:2::/48 */
	FT_ADDR_RESERVED,       /* 240/4, deprecated and unallocated space */
	FT_ADDR_BROADCAST,      /* 255.255.255.255 (RFC 919 §7) */
	FT_ADDR_THIS_NETWORK,   /* 0/8 except 0.0.0.0 (RFC 791 §3.2) */
	FT_ADDR_IETF_PROTOCOL,  /* 192.0.0/24 (RFC 6890), 2001::/23 */
	FT_ADDR_UNIQUE_LOCAL,   /* fc00::/7 (RFC 4193) */
	FT_ADDR_SITE_LOCAL,     /* fec0::/10 (deprecated, RFC 3879) */
	FT_ADDR_DISCARD,        /* 100::/64 (RFC 6666) */
	FT_ADDR_TRANSLATION,    /* 64:ff9b:1::/48 local-use NAT64 (RFC 8215) */
	FT_ADDR_COUNT
};

/*
 * The class of addr, which holds 4 bytes (family AF_INET) or 16 bytes
 * (AF_INET6) in network order.  Any other family, or a NULL addr, is
 * FT_ADDR_RESERVED.  Within nested blocks the longest matching prefix
 * wins (127.0.0.1 is loopback; 255.255.255.255 is broadcast, not reserved).
 */
enum ft_addr_class ft_addr_classify_bytes(int family, const uint8_t *addr);

/*
 * The class of the address in sa, which must point to a complete struct
 * sockaddr_in (sa_family AF_INET) or struct sockaddr_in6 (AF_INET6); only
 * the family and the address are read (not the port, flow label or scope).
 * Any other family, or a NULL sa, is FT_ADDR_RESERVED.
 */
enum ft_addr_class ft_addr_classify(const struct sockaddr *sa);

/*
 * A short, stable, lower-case name for c ("public", "loopback", "private",
 * "link-local", "cgnat", ...), for findings and logs.  A value outside the
 * enum gets "unknown".  Never NULL; the string is static.
 */
const char *ft_addr_class_name(enum ft_addr_class c);

/*
 * Connection policy, filled in by the caller (zero-initialised means the
 * default).  It holds no pointers and may be copied freely.
 *
 * allow_private (--allow-private) admits every non-public class except
 * FT_ADDR_UNSPECIFIED, FT_ADDR_MULTICAST and FT_ADDR_BROADCAST, so that the
 * local test world on 127/8 (or any lab network) can be scanned.  Those
 * three stay denied: they are never a host's address (connecting to
 * 0.0.0.0 or :: reaches this host's own listeners on common kernels, and
 * multicast and broadcast are not TCP destinations), including when they
 * arrive embedded in an IPv4-mapped, NAT64 or 6to4 address.
 */
struct ft_guard {
	bool allow_private;
};

/*
 * May the scanner connect to sa?  sa is as for ft_addr_classify(); g may be
 * NULL for the default policy (public addresses only).  If cls is not NULL,
 * *cls receives the address class whatever the verdict.
 *
 * Returns ST_OK if the connection is allowed; ST_EDENIED if the policy
 * refuses it (a non-public address, or any family other than AF_INET and
 * AF_INET6, which is refused even with allow_private); ST_EINVAL if sa is
 * NULL (*cls is then FT_ADDR_RESERVED).
 */
int ft_guard_check(const struct ft_guard *g, const struct sockaddr *sa,
		   enum ft_addr_class *cls);

/*
 * Is err a failure of this machine rather than of the network or the
 * peer?  EMFILE, ENFILE (descriptors), ENOBUFS, ENOMEM (kernel buffers,
 * memory), EADDRNOTAVAIL (no local address or ephemeral port).
 */
bool ft_errno_local(int err);

/*
 * Can this process open one more descriptor?  0 if so (it opens /dev/null
 * and closes it again), else the errno (EMFILE, ENFILE, ...).  For
 * failures that hide descriptor exhaustion behind another name: OpenSSL
 * looking an issuer up in a CA directory reports "unable to get local
 * issuer certificate" when it could not open the file.
 */
int ft_fd_exhausted(void);

/* The longest host name fetch/ accepts: 253 bytes, a name of 255 octets
 * on the wire without its trailing dot (RFC 1035 §2.3.4). */
#define FT_HOST_MAX 253

/*
 * May host be handed to curl or put on an SMTP command line?  True for 1
 * to FT_HOST_MAX bytes of letters, digits, '.' and '-', neither starting
 * nor ending with '.'.  Anything else (a space, CR/LF, ':', '/', '@', a
 * non-ASCII byte, an empty or over-long name) could change the URL or the
 * command a server sees, so it is refused before any connection.  host
 * must not be NULL; only its first FT_HOST_MAX + 1 bytes are read.
 */
bool ft_host_ok(const char *host);

#endif /* FT_GUARD_H */
