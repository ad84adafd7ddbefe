/*
 * an_json.h - JSON output for records (`stsmap show --json`, the JSON
 * Lines export) and the small JSON pieces other writers need.
 *
 * Output is always valid UTF-8 JSON whatever bytes a server sent: valid
 * UTF-8 sequences pass through, control characters are escaped, and every
 * byte that is not part of a valid UTF-8 sequence becomes U+FFFD.  TXT
 * records and other binary data are written the same way (their exact
 * bytes are in the store).  Pure formatting: writes to a FILE*, no other
 * I/O.
 */
#ifndef AN_JSON_H
#define AN_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "an_record.h"

/* Write s[0..len) as a JSON string (with quotes).  NULL s writes null. */
void an_json_strn(FILE *out, const char *s, size_t len);
/* As an_json_strn for a NUL-terminated s (NULL writes null). */
void an_json_str(FILE *out, const char *s);

/* Names of the enums stored in a record, as used in JSON and reports. */
const char *an_dns_status_name(unsigned st);   /* "noerror", "nxdomain" */
const char *an_fetch_status_name(unsigned st); /* "done", "cert-expired" */
const char *an_probe_status_name(unsigned st); /* "ok", "no-starttls" */

/*
 * Write rec as one JSON object on one line, without a newline.  The keys
 * are documented in the README (JSON Lines schema); body, if not NULL, is
 * the policy body (from the store) and is included as "policy_body".
 */
void an_record_json(FILE *out, const struct an_record *rec,
		    const uint8_t *body, size_t body_len);

/* The same for an MX probe record. */
void an_probe_record_json(FILE *out, const struct an_probe_record *p);

#endif /* AN_JSON_H */
