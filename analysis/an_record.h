/*
 * an_record.h - the stored result of one domain in one scan, and the
 * versioned binary codec that turns it into bytes for the store and back.
 *
 * The scanner fills a struct an_record from what DNS, the fetch, the probes
 * and an_classify() returned, encodes it with an_record_encode() and hands
 * the bytes to the store (datasets/ds_store.h).  Reports, exports, diff and
 * merge decode the bytes with an_record_decode().
 *
 * Ownership: a struct an_record owns nothing.  Every pointer in it is
 * borrowed:
 *  - when the scanner fills it, from the scanner's per-domain memory;
 *  - after an_record_decode(), from the encoded bytes themselves (strings
 *    are stored NUL-terminated, so decoding copies nothing and allocates
 *    nothing): the record is valid exactly as long as those bytes (for a
 *    store read, until the read transaction ends).
 * Arrays have fixed capacities; what does not fit is counted in the
 * *_total fields, never silently lost.
 *
 * Wire format (all integers little-endian or LEB128 varints; strings are a
 * varint length, the bytes, and a NUL that the length does not count):
 *   magic "SR", version byte (AN_RECORD_VERSION), then the fields in the
 *   order of struct an_record, each array as a varint count and its items.
 * In detail: unsigned integers and enums are minimal LEB128 varints, signed
 * ones zigzag varints, bools one varint 0 or 1; a string's varint is its
 * length + 1, 0 standing for NULL; TXT data (binary, any byte) is a varint
 * length and the bytes, no NUL; body_hash is 32 raw bytes, present only
 * when have_body (it decodes as zeros otherwise); an array is its count,
 * its *_total, then the items.  Every record has exactly one encoding, so
 * decoding and encoding again gives back the same bytes (for a record of
 * an older version: the same record, in the current version's bytes).
 * Version 1 has no cert_names array (between cert_issuer and fetch_ms);
 * versions 1 and 2 end after the findings, without attempts.
 * A decoder accepts every version up to its own; an unknown newer version
 * is ST_ENOTSUP, anything malformed (short, overlong, counts over their
 * caps, missing NUL, values outside their enums) is ST_EPARSE.  Decoding
 * never reads outside [buf, buf+len).
 */
#ifndef AN_RECORD_H
#define AN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an_classify.h"
#include "an_findings.h"
#include "an_policy.h"
#include "an_types.h"

/* 2: the policy host certificate's names (cert_names).  Version 1 records
 * decode with none.
 * 3: attempts, after the findings.  Versions 1 and 2 decode with 0. */
#define AN_RECORD_VERSION 3
#define AN_RECORD_TXT_MAX 16      /* TXT RRs kept per name */
#define AN_RECORD_TXT_LEN_MAX 4096 /* bytes kept per TXT RR */
#define AN_RECORD_MX_MAX 32       /* MX hosts kept (AN_CLASSIFY_MX_MAX) */
#define AN_RECORD_PATTERNS_MAX 32 /* policy mx patterns kept */
#define AN_RECORD_STR_LEN_MAX 512 /* bytes kept per string (NUL excluded) */
#define AN_RECORD_CERT_NAMES_MAX 16 /* certificate names kept */
#define AN_RECORD_ENCODED_MAX (256 * 1024) /* an encoding never exceeds it */
#define AN_RECORD_HASH_LEN 32     /* SHA-256 of the policy body */

struct an_record_mx {
	const char *name;    /* exchange, no trailing dot; "" for a null MX */
	uint16_t pref;
	bool covered;        /* matched by a policy pattern */
};

struct an_record_finding {
	const char *code;    /* stable name, an_code_info()->name */
	uint8_t severity;    /* enum an_severity of this instance */
	const char *detail;  /* printable ASCII, may be "" */
};

struct an_record {
	/* identity */
	const char *domain;          /* normalised A-label, no trailing dot */
	uint64_t rank;               /* from a ranked list; 0: unranked */
	int64_t time;                /* Unix time the domain was completed */
	uint32_t duration_ms;        /* first query to classification */

	/* DNS: enum an_dns_status values */
	uint8_t sts_dns, mx_dns, tlsrpt_dns;
	bool sts_cname;              /* _mta-sts.D reached through a CNAME */
	bool sts_ad;                 /* AD bit on the _mta-sts answer */
	bool mx_ad;                  /* AD bit on the MX answer */
	size_t n_sts_txt, n_sts_txt_total;
	struct an_bytes sts_txt[AN_RECORD_TXT_MAX];   /* joined strings */
	size_t n_mx, n_mx_total;
	struct an_record_mx mx[AN_RECORD_MX_MAX];
	size_t n_tlsrpt_txt, n_tlsrpt_txt_total;
	struct an_bytes tlsrpt_txt[AN_RECORD_TXT_MAX];

	/* policy host and fetch */
	const char *ph_cname;        /* CNAME target of mta-sts.D, or NULL */
	const char *ph_addr;         /* address connected to, or NULL */
	uint8_t fetch_status;        /* enum an_fetch_status */
	uint16_t http_status;        /* 0: no response */
	const char *location;        /* 3xx Location, or NULL */
	const char *content_type;    /* as sent, or NULL */
	bool have_body;              /* a body was received: see body_hash */
	uint32_t body_len;
	uint8_t body_hash[AN_RECORD_HASH_LEN]; /* key of the body in the store */
	int64_t cert_not_after;      /* policy host leaf expiry; 0 unknown */
	const char *cert_issuer;     /* leaf issuer, one-line form, or NULL */
	/* The policy host leaf's subjectAltName dNSNames, in certificate
	 * order, whether or not it verified (DESIGN §2 step 4): the first
	 * AN_RECORD_CERT_NAMES_MAX, each cut at AN_RECORD_STR_LEN_MAX bytes;
	 * n_cert_names_total counts them all.  None when the certificate was
	 * not seen (no handshake, or a reused connection: cert_not_after is
	 * 0 then too) and in version 1 records. */
	size_t n_cert_names, n_cert_names_total;
	const char *cert_names[AN_RECORD_CERT_NAMES_MAX];
	uint32_t fetch_ms;           /* total fetch time; 0 if none */

	/* the parsed STS record and policy (copies of what matters for
	 * reports; the body itself is in the store) */
	const char *sts_id;          /* id of the valid record, or NULL */
	uint8_t mode;                /* enum an_mode */
	bool policy_usable;
	bool have_max_age;
	uint64_t max_age;
	size_t n_patterns, n_patterns_total;
	const char *patterns[AN_RECORD_PATTERNS_MAX]; /* "*.example.net" */

	/* TLS-RPT */
	bool tlsrpt_valid;           /* exactly one valid v=TLSRPTv1 record */

	/* outcome */
	uint8_t verdict;             /* enum an_verdict */
	size_t n_mx_judged, n_mx_covered, n_mx_usable; /* an_classification */
	size_t n_findings, n_findings_total;
	struct an_record_finding findings[AN_FINDINGS_MAX];

	/* How many times the scan started this domain from scratch before
	 * this outcome was kept: 1, plus each retry after a local fault,
	 * plus each retry pass (a domain undetermined after a DNS timeout
	 * measured again at the end of the scan).  0: not recorded (records
	 * of versions 1 and 2). */
	unsigned attempts;
};

/* Zero every field (pointers NULL, counts 0). */
void an_record_init(struct an_record *r);

/*
 * Encode r into buf[0..cap).  Returns ST_OK and *len, ST_ESPACE if cap is
 * too small (AN_RECORD_ENCODED_MAX always suffices), ST_EINVAL for a NULL
 * argument, a NULL domain or a count over its cap.  NULL strings encode as
 * absent and decode as NULL.  TXT data longer than AN_RECORD_TXT_LEN_MAX is
 * cut to that length, strings longer than AN_RECORD_STR_LEN_MAX to that
 * one (the decoder refuses anything longer).  Also ST_EINVAL, since the
 * decoder would refuse the bytes: a count over its *_total, TXT data NULL
 * with a non-zero length, an enum field out of its range, a severity over
 * AN_SEV_ERROR, a finding code NULL, empty or not printable ASCII, a
 * certificate name NULL.
 */
int an_record_encode(const struct an_record *r, uint8_t *buf, size_t cap,
		     size_t *len);

/*
 * Decode buf[0..len) into r (see the ownership note above: r points into
 * buf).  Returns ST_OK, ST_ENOTSUP for a newer version, ST_EPARSE for
 * malformed bytes, ST_EINVAL for NULL arguments.  On error r is left
 * initialised (an_record_init) and holds no pointer into buf.
 */
int an_record_decode(const uint8_t *buf, size_t len, struct an_record *r);

/* The version byte of an encoding, or -1 if buf is not one. */
int an_record_version(const uint8_t *buf, size_t len);

/*
 * One MX host's STARTTLS probe, stored once per (scan, host) and shared by
 * every domain using the host.  Same ownership and format rules ("SP"
 * magic, own version AN_PROBE_RECORD_VERSION); host is required as the
 * domain is (NULL: ST_EINVAL), status must be an enum an_probe_status.
 * an_probe_record_init zeroes every field but verify_error, set to -1
 * (unknown: 0 would claim X509_V_OK).
 */
#define AN_PROBE_RECORD_VERSION 1

struct an_probe_record {
	const char *host;            /* MX name, no trailing dot */
	int64_t time;
	uint8_t status;              /* enum an_probe_status */
	const char *addr;            /* address probed, or NULL */
	uint16_t tls_version;        /* 0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 */
	int32_t verify_error;        /* X509_V_OK or X509_V_ERR_*; -1 unknown */
	bool name_match;
	int64_t cert_not_after;      /* 0 unknown */
	const char *cert_issuer;     /* or NULL */
	bool tlsa;                   /* TLSA RRs at _25._tcp.host */
	bool tlsa_secure;            /* ... with the AD bit */
	const char *detail;          /* reason text, or NULL */
	uint32_t duration_ms;
};

void an_probe_record_init(struct an_probe_record *p);
int an_probe_record_encode(const struct an_probe_record *p, uint8_t *buf,
			   size_t cap, size_t *len);
int an_probe_record_decode(const uint8_t *buf, size_t len,
			   struct an_probe_record *p);

#endif /* AN_RECORD_H */
