/*
 * rs_wire.h - DNS messages for the resolver, without I/O: building a query
 * and turning a response into an answer, checking that it answers the
 * question asked (ID and question section).  The response is read in
 * place (no ldns_pkt, no copy): it accepts exactly what ldns_wire2pkt
 * accepts, cutting RDATA with ldns's RR descriptor table, and the ldns
 * decoder it replaced stays as the reference (rs_wire_ref.h) that the
 * differential fuzz target fuzz_wire_diff holds it to.
 */
#ifndef RS_WIRE_H
#define RS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs_resolver.h"

#define RS_NAME_MAX 256    /* presentation name, NUL included */
#define RS_CNAME_MAX 16    /* CNAME links followed */
/* The largest query rs_wire_query_into() writes: 12 header + 255 name +
 * 4 question + 11 OPT (RFC 1035 §4.1, RFC 6891 §6.1.2). */
#define RS_QUERY_MAX (12 + 255 + 4 + 11)

struct rs_question {
	char name[RS_NAME_MAX]; /* lower case, no trailing dot ("" is root) */
	uint16_t type;
	bool do_bit;
	bool ad_bit;  /* set AD in the query (RFC 6840 §5.7); false by init */
};

/* Fill q from a presentation-format name: lower-cased, one trailing dot
 * removed, checked to be a valid domain name (labels 1-63 bytes, 253 in
 * all).  Label bytes are 0x21-0x7e except '\\': DNS itself is 8-bit clean
 * (RFC 2181 §11), but stsmap only asks for normalised names (A-labels,
 * '_' allowed), so escapes, spaces and raw UTF-8 are refused.
 * Returns ST_OK or ST_EINVAL. */
int rs_question_init(struct rs_question *q, const char *name, uint16_t type,
		     bool do_bit);

/* name (checked by rs_question_init(): no escapes) in wire format, label
 * by label, into out (255 bytes at most, the root label included).  The
 * length written, or 0 when a label is empty or over 63 bytes or the whole
 * is over 255. */
size_t rs_wire_name(const char *name, uint8_t out[255]);

/* The uncompressed wire name d (at most len octets, 255 at the most read)
 * as presentation text without the trailing dot ("" for the root), with
 * the escapes ldns_rdf2str writes (RFC 4343 §2.1): a backslash before
 * . ; ( ) \ " @ $ in a label, \DDD for a byte outside 0x21-0x7e;
 * malloc'd.  NULL on no memory, or when a label is over 63 octets or runs
 * past len.  The decoder and its ldns reference both write names so. */
char *rs_wire_name_text(const uint8_t *d, size_t len);

/* Build the query message for q with the given ID, RD set and, if
 * edns_size > 0, an OPT record (RFC 6891) advertising it, with DO per q;
 * AD in the header per q (RFC 6840 §5.7: the validator then reports AD
 * without sending DNSSEC records, as with DO but with smaller answers).
 * *wire is malloc'd: the caller frees it.  ST_OK, ST_EINVAL or ST_ENOMEM. */
int rs_wire_query(const struct rs_question *q, uint16_t id, uint16_t edns_size,
		  uint8_t **wire, size_t *len);

/* The same message written into buf (RS_QUERY_MAX bytes, the caller's),
 * with no allocation: the resolver's send path.  *len is its length.
 * ST_OK or ST_EINVAL (*len is then 0). */
int rs_wire_query_into(const struct rs_question *q, uint16_t id,
		       uint16_t edns_size, uint8_t buf[RS_QUERY_MAX],
		       size_t *len);

enum rs_wire_verdict {
	RS_WIRE_OK = 0,       /* a response to q: see the answer */
	RS_WIRE_MALFORMED,    /* not a parsable DNS message */
	RS_WIRE_NOT_RESPONSE, /* QR bit clear, or opcode not QUERY */
	RS_WIRE_BAD_ID,       /* ID differs */
	RS_WIRE_BAD_QUESTION, /* question section differs from q */
};

/* What a response says, owned by the struct: free with rs_answer_clear(). */
struct rs_answer {
	int rcode;
	bool ad;
	bool tc;
	bool ra;            /* recursion available (RFC 1035 §4.1.1) */
	bool aa;            /* authoritative answer */
	bool nodata;        /* NOERROR, no RR of the type at the chain end */
	/* A referral, not an answer: NOERROR, no RR of the type at the
	 * chain end, NS records and no SOA in the authority section, and AA
	 * clear (or a CNAME chain whose end lies below a zone cut).  nodata
	 * is then false and referral_zone the NS owner (the cut). */
	bool referral;
	char *referral_zone;
	char *cname[RS_CNAME_MAX];
	size_t n_cname;
	struct rs_rr *rrs;  /* see struct rs_rr in rs_resolver.h */
	size_t n_rrs;
	uint32_t min_ttl;
};

/*
 * Check wire[0..len) against the query (id, q) and, if it answers it, fill
 * ans (which the caller then clears with rs_answer_clear).  The CNAME chain
 * from q->name is followed through the answer section for at most
 * RS_CNAME_MAX links (a loop stops there), then the RRs of q->type owned by
 * the chain's end are collected.  A question name compares
 * case-insensitively (resolvers may echo 0x20-mixed case).
 * A referral (see struct rs_answer) is reported as such: RFC 1034 §4.3.1
 * has a server that does not recurse answer a question below one of its
 * zone cuts with "a referral to name servers which are closer to the
 * desired information", which says nothing about the name's data, so it
 * must never be read as NODATA.
 * Returns the verdict; ans is only filled (and owns memory) for RS_WIRE_OK.
 * Allocation failure is reported as RS_WIRE_MALFORMED with *enomem set.
 * It allocates only what ans holds (one array of RRs, their data, the
 * chain's and the referral's names); wire is only read, during the call.
 */
enum rs_wire_verdict rs_wire_parse(const uint8_t *wire, size_t len,
				   uint16_t id, const struct rs_question *q,
				   struct rs_answer *ans, bool *enomem);

void rs_answer_clear(struct rs_answer *ans);

#endif /* RS_WIRE_H */
