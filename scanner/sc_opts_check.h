/*
 * sc_opts_check.h - checks of stsmap's own configuration before a scan.
 *
 * A wrong option is a fault of ours, never a finding about a domain: a
 * --ca-file that holds no certificate would otherwise turn every policy
 * fetch into an http.transfer error.  So every option that names a file
 * or carries a value sent on the wire is checked here, before the store
 * is opened or a scan record is created, and the message names the
 * option and the cause.
 */
#ifndef SC_OPTS_CHECK_H
#define SC_OPTS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sc_engine.h"

#define SC_HEADER_VALUE_MAX 512 /* --user-agent, --contact */
#define SC_EHLO_MAX 255         /* RFC 5321 §4.5.3.1.2: a domain */

/*
 * A value that goes into an HTTP header (--user-agent, --contact):
 * printable ASCII and spaces only (RFC 9110 §5.5 field-value, without
 * obs-text), so no CR or LF can end the header and start another;
 * 1 to SC_HEADER_VALUE_MAX bytes.  Returns NULL when valid, else a static
 * string naming the problem.
 */
const char *sc_check_header_value(const char *v);

/*
 * An EHLO argument (RFC 5321 §4.1.1.1 "ehlo = "EHLO" SP ( Domain /
 * address-literal ) CRLF"): printable ASCII without space, 1 to
 * SC_EHLO_MAX bytes.  NULL when valid, else the problem.
 */
const char *sc_check_ehlo(const char *v);

/*
 * A CA file: it opens, is a regular file, and holds at least one PEM
 * certificate that OpenSSL reads.  NULL when valid; else the problem is
 * written into why (NUL-terminated, at most whylen bytes) and why is
 * returned.
 */
const char *sc_check_ca_file(const char *path, char *why, size_t whylen);

/*
 * Every value of cfg that stsmap itself sends or reads: resolvers,
 * --user-agent, --contact, --ehlo, --ca-file.  On a problem, writes
 * "stsmap CMD: --OPTION VALUE: cause" to err and returns false.
 */
bool sc_config_check(const struct sc_config *cfg, const char *cmd, FILE *err);

#endif /* SC_OPTS_CHECK_H */
