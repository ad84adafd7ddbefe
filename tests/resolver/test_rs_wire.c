/*
 * test_rs_wire.c - building queries and judging responses, without sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "rs_wire.h"
#include "rs_wire_ref.h"
#include "st_error.h"

/* ---- rs_question_init ---------------------------------------------------- */

static void test_question_names(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: must be rejected */
	} rows[] = {
		{ "example.com", "example.com" },
		{ "Example.COM.", "example.com" },      /* RFC 4343: case-insensitive */
		{ "_mta-sts.example.com", "_mta-sts.example.com" },
		{ "_smtp._tls.example.com", "_smtp._tls.example.com" },
		{ ".", "" },                            /* the root */
		{ "", "" },
		{ "a..b", NULL },                       /* empty label */
		{ ".a", NULL },
		{ "a b.example", NULL },                /* no spaces */
		{ "a\\.b.example", NULL },              /* no escapes */
		{ "b\xc3\xbc" "cher.example", NULL },   /* A-labels only */
		{ "example.com..", NULL },
	};
	struct rs_question q;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ret = rs_question_init(&q, rows[i].in, RS_TYPE_TXT, false);

		if (rows[i].out == NULL) {
			if (ret != ST_EINVAL)
				fail_msg("accepted \"%s\"", rows[i].in);
			continue;
		}
		assert_int_equal(ret, ST_OK);
		assert_string_equal(q.name, rows[i].out);
		assert_int_equal(q.type, RS_TYPE_TXT);
	}
	assert_int_equal(rs_question_init(NULL, "a", 1, false), ST_EINVAL);
	assert_int_equal(rs_question_init(&q, NULL, 1, false), ST_EINVAL);
}

/* RFC 1035 §2.3.4: labels of 63 bytes, names of 255 wire bytes. */
static void test_question_limits(void **state)
{
	char name[400];
	struct rs_question q;

	(void)state;
	memset(name, 'a', 63);
	strcpy(name + 63, ".example");
	assert_int_equal(rs_question_init(&q, name, 1, false), ST_OK);
	memset(name, 'a', 64);
	strcpy(name + 64, ".example");
	assert_int_equal(rs_question_init(&q, name, 1, false), ST_EINVAL);
	/* 4 labels of 63 and one of 1: 4*64 + 1 = 257 > 253 */
	name[0] = '\0';
	for (int i = 0; i < 4; i++) {
		memset(name + strlen(name), 'b', 63);
		name[64 * i + 63] = '.';
		name[64 * i + 64] = '\0';
	}
	strcat(name, "c");
	assert_int_equal(rs_question_init(&q, name, 1, false), ST_EINVAL);
	/* 3*64 + 61 = 253: the longest valid name */
	memset(name, 'd', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_int_equal(rs_question_init(&q, name, 1, false), ST_OK);
	assert_int_equal(strlen(q.name), 253);
}

/* ---- rs_wire_query --------------------------------------------------------- */

static void test_query_wire(void **state)
{
	struct rs_question q;
	uint8_t *wire = NULL;
	size_t len = 0;
	ldns_pkt *pkt = NULL;
	char *owner;

	(void)state;
	assert_int_equal(rs_question_init(&q, "_mta-sts.Example.com", RS_TYPE_TXT,
					  true), ST_OK);
	assert_int_equal(rs_wire_query(&q, 0xbeef, 1232, &wire, &len), ST_OK);
	assert_int_equal(ldns_wire2pkt(&pkt, wire, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(pkt), 0xbeef);
	assert_true(ldns_pkt_rd(pkt));
	assert_false(ldns_pkt_qr(pkt));
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_question(pkt)), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)),
			 LDNS_RR_TYPE_TXT);
	owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
	assert_string_equal(owner, "_mta-sts.example.com.");
	free(owner);
	/* RFC 6891: OPT with the payload size; RFC 3225: DO as asked */
	assert_true(ldns_pkt_edns(pkt));
	assert_int_equal(ldns_pkt_edns_udp_size(pkt), 1232);
	assert_true(ldns_pkt_edns_do(pkt));
	assert_false(ldns_pkt_ad(pkt)); /* AD only when asked */
	ldns_pkt_free(pkt);
	free(wire);

	/* RFC 6840 §5.7: AD set in the query when asked. */
	q.ad_bit = true;
	assert_int_equal(rs_wire_query(&q, 7, 1232, &wire, &len), ST_OK);
	assert_int_equal(ldns_wire2pkt(&pkt, wire, len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_ad(pkt));
	ldns_pkt_free(pkt);
	free(wire);
	q.ad_bit = false;

	/* No EDNS at all when the size is 0. */
	q.do_bit = false;
	assert_int_equal(rs_wire_query(&q, 7, 0, &wire, &len), ST_OK);
	assert_int_equal(ldns_wire2pkt(&pkt, wire, len), LDNS_STATUS_OK);
	assert_false(ldns_pkt_edns(pkt));
	ldns_pkt_free(pkt);
	free(wire);
}

/* The send path's rs_wire_query_into() writes the same bytes as
 * rs_wire_query(), without allocating; the longest name (253 bytes,
 * RFC 1035 §3.1's 255 on the wire) with an OPT record fills exactly
 * RS_QUERY_MAX. */
static void test_query_into(void **state)
{
	static const struct { uint16_t edns; bool ad, dnssec; } rows[] = {
		{ 1232, false, false }, { 1232, true, true }, { 0, false, false },
	};
	char longest[254];
	const char *names[] = { "_mta-sts.example.com", "", longest };
	uint8_t buf[RS_QUERY_MAX];

	(void)state;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(longest, 'a', 253);
	longest[63] = longest[127] = longest[191] = '.';
	longest[253] = '\0';
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct rs_question q;
			uint8_t *wire = NULL;
			size_t len = 0, len2 = 0;

			assert_int_equal(rs_question_init(&q, names[n],
							  RS_TYPE_TXT,
							  rows[i].dnssec),
					 ST_OK);
			q.ad_bit = rows[i].ad;
			assert_int_equal(rs_wire_query(&q, 0x1234, rows[i].edns,
						       &wire, &len), ST_OK);
			assert_int_equal(rs_wire_query_into(&q, 0x1234,
							    rows[i].edns, buf,
							    &len2), ST_OK);
			assert_int_equal(len, len2);
			assert_memory_equal(wire, buf, len);
			free(wire);
			if (n == 2 && rows[i].edns > 0)
				assert_int_equal(len2, RS_QUERY_MAX);
		}
	}
}

/* ---- rs_wire_parse --------------------------------------------------------- */

/* A response to (name, type) with the given RRs in the answer section. */
static uint8_t *response(uint16_t id, const char *qname, ldns_rr_type qtype,
			 ldns_pkt_rcode rcode, const char *const *rrs,
			 size_t *len)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rdf *owner = ldns_dname_new_frm_str(qname);
	ldns_rr *question = ldns_rr_new();
	uint8_t *wire = NULL;

	assert_non_null(pkt);
	ldns_rr_set_owner(question, owner);
	ldns_rr_set_type(question, qtype);
	ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(question, true);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, question);
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rd(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 300, NULL, NULL),
				 LDNS_STATUS_OK);
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return wire;
}

static enum rs_wire_verdict parse(const uint8_t *wire, size_t len, uint16_t id,
				  const char *name, uint16_t type,
				  struct rs_answer *ans)
{
	struct rs_question q;
	bool enomem = false;
	enum rs_wire_verdict v;

	assert_int_equal(rs_question_init(&q, name, type, false), ST_OK);
	v = rs_wire_parse(wire, len, id, &q, ans, &enomem);
	assert_false(enomem);
	return v;
}

/* The question section is compared with the asked name built label by
 * label into wire form: the root, a name in mixed case in the response
 * (RFC 4343 §3: case-insensitive), the longest name (RFC 1035 §3.1:
 * 255 octets on the wire) and a name that differs in one label. */
static void test_question_name(void **state)
{
	char longest[254], longest_dot[256];
	const struct { const char *asked, *in_response; enum rs_wire_verdict v; }
		rows[] = {
		{ "", ".", RS_WIRE_OK },
		{ "mta-sts.example.com", "MTA-STS.Example.COM.", RS_WIRE_OK },
		{ longest, longest_dot, RS_WIRE_OK },
		{ "a.example.com", "b.example.com.", RS_WIRE_BAD_QUESTION },
		{ "example.com", "example.com.example.com.",
		  RS_WIRE_BAD_QUESTION },
	};

	(void)state;
	memset(longest, 'a', 253);
	longest[63] = longest[127] = longest[191] = '.';
	longest[253] = '\0';
	snprintf(longest_dot, sizeof(longest_dot), "%s.", longest);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rs_answer ans;
		size_t len;
		uint8_t *wire = response(9, rows[i].in_response,
					 LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR,
					 NULL, &len);

		assert_int_equal(parse(wire, len, 9, rows[i].asked, RS_TYPE_TXT,
				       &ans), RS_WIRE_BAD_QUESTION);
		assert_int_equal(parse(wire, len, 9, rows[i].asked,
				       LDNS_RR_TYPE_NS, &ans), rows[i].v);
		if (rows[i].v == RS_WIRE_OK)
			rs_answer_clear(&ans);
		free(wire);
	}
}

/* RFC 8461 §3.1: the character-strings of one TXT RR are joined. */
static void test_txt_join(void **state)
{
	static const char *const rrs[] = {
		"_mta-sts.example.com. 600 IN TXT \"v=STSv1; \" \"id=123\"",
		"_mta-sts.example.com. 300 IN TXT \"v=spf1 -all\"",
		"other.example.com. 300 IN TXT \"not ours\"",
		NULL,
	};
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(42, "_mta-sts.example.com.", LDNS_RR_TYPE_TXT,
				 LDNS_RCODE_NOERROR, rrs, &len);

	(void)state;
	assert_int_equal(parse(wire, len, 42, "_mta-sts.example.com",
			       RS_TYPE_TXT, &ans), RS_WIRE_OK);
	assert_int_equal(ans.rcode, RS_RCODE_NOERROR);
	assert_int_equal(ans.n_rrs, 2); /* other.example.com is not ours */
	assert_int_equal(ans.rrs[0].len, 15);
	assert_memory_equal(ans.rrs[0].data, "v=STSv1; id=123", 15);
	assert_int_equal(ans.rrs[0].data[15], '\0');
	assert_int_equal(ans.rrs[0].ttl, 600);
	assert_int_equal(ans.min_ttl, 300);
	assert_false(ans.nodata);
	rs_answer_clear(&ans);
	free(wire);
}

static void test_mx_and_null_mx(void **state)
{
	static const char *const rrs[] = {
		"example.com. 300 IN MX 0 .",
		"example.com. 300 IN MX 10 MX1.Example.net.",
		NULL,
	};
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(1, "example.com.", LDNS_RR_TYPE_MX,
				 LDNS_RCODE_NOERROR, rrs, &len);

	(void)state;
	assert_int_equal(parse(wire, len, 1, "example.com", RS_TYPE_MX, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.n_rrs, 2);
	assert_int_equal(ans.rrs[0].pref, 0);
	assert_string_equal((const char *)ans.rrs[0].data, "");
	assert_int_equal(ans.rrs[1].pref, 10);
	/* Names keep the case the server sent; matching folds case. */
	assert_string_equal((const char *)ans.rrs[1].data, "MX1.Example.net");
	rs_answer_clear(&ans);
	free(wire);
}

static void test_cname_chain(void **state)
{
	static const char *const rrs[] = {
		"a.example. 300 IN CNAME b.example.",
		"b.example. 60 IN CNAME c.example.",
		"c.example. 120 IN A 192.0.2.7",
		NULL,
	};
	static const char *const loop[] = {
		"a.example. 300 IN CNAME b.example.",
		"b.example. 300 IN CNAME a.example.",
		NULL,
	};
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(9, "a.example.", LDNS_RR_TYPE_A,
				 LDNS_RCODE_NOERROR, rrs, &len);

	(void)state;
	assert_int_equal(parse(wire, len, 9, "A.example", RS_TYPE_A, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.n_cname, 2);
	assert_string_equal(ans.cname[0], "b.example");
	assert_string_equal(ans.cname[1], "c.example");
	assert_int_equal(ans.n_rrs, 1);
	assert_int_equal(ans.rrs[0].len, 4);
	assert_memory_equal(ans.rrs[0].data, "\xc0\x00\x02\x07", 4);
	rs_answer_clear(&ans);
	free(wire);

	/* A loop ends after RS_CNAME_MAX links: no data, no hang. */
	wire = response(9, "a.example.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
			loop, &len);
	assert_int_equal(parse(wire, len, 9, "a.example", RS_TYPE_A, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.n_cname, RS_CNAME_MAX);
	assert_int_equal(ans.n_rrs, 0);
	assert_true(ans.nodata);
	rs_answer_clear(&ans);
	free(wire);

	/* Asking for the CNAME itself does not follow it. */
	wire = response(9, "a.example.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR,
			rrs, &len);
	assert_int_equal(parse(wire, len, 9, "a.example", RS_TYPE_CNAME, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.n_cname, 0);
	assert_int_equal(ans.n_rrs, 1);
	assert_string_equal((const char *)ans.rrs[0].data, "b.example");
	rs_answer_clear(&ans);
	free(wire);
}

/* RFC 2308: NXDOMAIN and NODATA are different answers. */
static void test_rcodes(void **state)
{
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(5, "x.example.", LDNS_RR_TYPE_TXT,
				 LDNS_RCODE_NXDOMAIN, NULL, &len);

	(void)state;
	assert_int_equal(parse(wire, len, 5, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.rcode, RS_RCODE_NXDOMAIN);
	assert_false(ans.nodata);
	rs_answer_clear(&ans);
	free(wire);

	wire = response(5, "x.example.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR,
			NULL, &len);
	assert_int_equal(parse(wire, len, 5, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.rcode, RS_RCODE_NOERROR);
	assert_true(ans.nodata);
	rs_answer_clear(&ans);
	free(wire);

	wire = response(5, "x.example.", LDNS_RR_TYPE_TXT, LDNS_RCODE_SERVFAIL,
			NULL, &len);
	assert_int_equal(parse(wire, len, 5, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_OK);
	assert_int_equal(ans.rcode, RS_RCODE_SERVFAIL);
	assert_false(ans.nodata);
	rs_answer_clear(&ans);
	free(wire);
}

/* The answer must be for our ID and our question, and be a response. */
static void test_mismatch(void **state)
{
	static const char *const rrs[] = { "x.example. 1 IN TXT \"a\"", NULL };
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(77, "x.example.", LDNS_RR_TYPE_TXT,
				 LDNS_RCODE_NOERROR, rrs, &len);

	(void)state;
	assert_int_equal(parse(wire, len, 78, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_BAD_ID);
	assert_int_equal(parse(wire, len, 77, "y.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_BAD_QUESTION);
	assert_int_equal(parse(wire, len, 77, "x.example", RS_TYPE_MX, &ans),
			 RS_WIRE_BAD_QUESTION);
	/* 0x20-mixed case in the echoed question is the same question. */
	assert_int_equal(parse(wire, len, 77, "X.EXAMPLE", RS_TYPE_TXT, &ans),
			 RS_WIRE_OK);
	rs_answer_clear(&ans);
	wire[2] &= 0x7f; /* QR clear: a query, not a response */
	assert_int_equal(parse(wire, len, 77, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_NOT_RESPONSE);
	free(wire);
}

/* Every prefix of a response is rejected or parsed, never over-read. */
static void test_every_prefix(void **state)
{
	static const char *const rrs[] = {
		"x.example. 1 IN TXT \"abc\" \"def\"",
		"x.example. 1 IN TXT \"ghi\"",
		NULL,
	};
	size_t len;
	uint8_t *wire = response(3, "x.example.", LDNS_RR_TYPE_TXT,
				 LDNS_RCODE_NOERROR, rrs, &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut + 1);
		struct rs_answer ans;

		memcpy(copy, wire, cut);
		if (parse(copy, cut, 3, "x.example", RS_TYPE_TXT, &ans) ==
		    RS_WIRE_OK) {
			/* Only a cut between RRs can parse, with fewer RRs. */
			assert_true(ans.n_rrs < 2);
			rs_answer_clear(&ans);
		}
		free(copy);
	}
	free(wire);
}

/* AD and TC are reported as sent (RFC 4035 §3.2.3, RFC 1035 §4.1.1). */
static void test_flags(void **state)
{
	struct rs_answer ans;
	size_t len;
	uint8_t *wire = response(4, "x.example.", LDNS_RR_TYPE_TXT,
				 LDNS_RCODE_NOERROR, NULL, &len);

	(void)state;
	wire[2] |= 0x02; /* TC */
	wire[3] |= 0x20; /* AD */
	assert_int_equal(parse(wire, len, 4, "x.example", RS_TYPE_TXT, &ans),
			 RS_WIRE_OK);
	assert_true(ans.tc);
	assert_true(ans.ad);
	rs_answer_clear(&ans);
	free(wire);
}

/* A response built from zone-format RRs per section ("A:" answer, "N:"
 * authority), with the AA and RA bits given. */
static uint8_t *response_sections(uint16_t id, const char *qname,
				  ldns_rr_type qtype, ldns_pkt_rcode rcode,
				  bool aa, bool ra, const char *const *rrs,
				  size_t *len)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *question = ldns_rr_new();
	uint8_t *wire = NULL;

	assert_non_null(pkt);
	ldns_rr_set_owner(question, ldns_dname_new_frm_str(qname));
	ldns_rr_set_type(question, qtype);
	ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(question, true);
	ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, question);
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rd(pkt, true);
	ldns_pkt_set_ra(pkt, ra);
	ldns_pkt_set_aa(pkt, aa);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i] + 2, 300,
						     NULL, NULL),
				 LDNS_STATUS_OK);
		ldns_pkt_push_rr(pkt, rrs[i][0] == 'N' ? LDNS_SECTION_AUTHORITY
						       : LDNS_SECTION_ANSWER,
				 rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return wire;
}

/*
 * Answers that are not answers.  RFC 1034 §4.3.1: a server that does not
 * recurse answers a name below one of its zone cuts with "a referral to
 * name servers which are closer to the desired information"; RFC 2308
 * §2.2: a NODATA answer carries the zone's SOA in the authority section.
 * A referral is never NODATA.
 */
static void test_referral(void **state)
{
	static const struct {
		const char *what;
		ldns_pkt_rcode rcode;
		bool aa, ra;
		const char *rrs[4];
		bool referral, nodata;
		const char *zone;
	} rows[] = {
		{ "NSD below a cut: NS in authority, AA clear", LDNS_RCODE_NOERROR,
		  false, false,
		  { "N:sub.broken.test. IN NS ns.sub.broken.test.",
		    "N:sub.broken.test. IN NS ns2.sub.broken.test.", NULL },
		  true, false, "sub.broken.test" },
		{ "RA set does not make a referral an answer", LDNS_RCODE_NOERROR,
		  false, true,
		  { "N:sub.broken.test. IN NS ns.sub.broken.test.", NULL },
		  true, false, "sub.broken.test" },
		{ "an upward referral to the root", LDNS_RCODE_NOERROR, false,
		  false, { "N:. IN NS a.root-servers.net.", NULL }, true, false,
		  "" },
		{ "NODATA (RFC 2308 §2.2): SOA in authority", LDNS_RCODE_NOERROR,
		  true, false,
		  { "N:test. IN SOA ns.test. h.test. 1 2 3 4 5", NULL }, false,
		  true, NULL },
		{ "NODATA from a recursive resolver: SOA, AA clear",
		  LDNS_RCODE_NOERROR, false, true,
		  { "N:test. IN SOA ns.test. h.test. 1 2 3 4 5", NULL }, false,
		  true, NULL },
		{ "NODATA with SOA and NS in authority", LDNS_RCODE_NOERROR,
		  false, true,
		  { "N:test. IN NS ns.test.",
		    "N:test. IN SOA ns.test. h.test. 1 2 3 4 5", NULL },
		  false, true, NULL },
		{ "authoritative NODATA with only NS (AA set)",
		  LDNS_RCODE_NOERROR, true, false,
		  { "N:test. IN NS ns.test.", NULL }, false, true, NULL },
		{ "an answer with NS in authority is an answer",
		  LDNS_RCODE_NOERROR, false, true,
		  { "A:x.sub.test. IN TXT \"v=STSv1; id=1\"",
		    "N:sub.test. IN NS ns.sub.test.", NULL }, false, false, NULL },
		{ "NXDOMAIN with NS is not a referral", LDNS_RCODE_NXDOMAIN,
		  false, false, { "N:sub.test. IN NS ns.sub.test.", NULL },
		  false, false, NULL },
		{ "a CNAME (AA) into a delegated zone, then the cut's NS",
		  LDNS_RCODE_NOERROR, true, false,
		  { "A:x.sub.test. IN CNAME y.deleg.test.",
		    "N:deleg.test. IN NS ns.deleg.test.", NULL },
		  true, false, "deleg.test" },
		{ "empty NOERROR, no authority: NODATA", LDNS_RCODE_NOERROR,
		  false, true, { NULL }, false, true, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rs_answer ans;
		size_t len;
		uint8_t *wire = response_sections(7, "x.sub.test.",
						  LDNS_RR_TYPE_TXT,
						  rows[i].rcode, rows[i].aa,
						  rows[i].ra, rows[i].rrs, &len);

		assert_int_equal(parse(wire, len, 7, "x.sub.test", RS_TYPE_TXT,
				       &ans), RS_WIRE_OK);
		if (ans.referral != rows[i].referral ||
		    ans.nodata != rows[i].nodata)
			fail_msg("%s: referral %d nodata %d", rows[i].what,
				 ans.referral, ans.nodata);
		if (rows[i].zone != NULL)
			assert_string_equal(ans.referral_zone, rows[i].zone);
		else
			assert_null(ans.referral_zone);
		assert_int_equal(ans.ra, rows[i].ra);
		assert_int_equal(ans.aa, rows[i].aa);
		rs_answer_clear(&ans);
		free(wire);
	}
}

/* A TXT character-string may hold any byte, NUL included. */
static void test_txt_binary(void **state)
{
	static const uint8_t msg[] = {
		0x00, 0x0c, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 16, 0, 1,
		0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, 5,
		4, 'a', 0, 'b', 0xff,
	};
	struct rs_answer ans;

	(void)state;
	assert_int_equal(parse(msg, sizeof(msg), 12, "x.example", RS_TYPE_TXT,
			       &ans), RS_WIRE_OK);
	assert_int_equal(ans.n_rrs, 1);
	assert_int_equal(ans.rrs[0].len, 4);
	assert_memory_equal(ans.rrs[0].data, "a\0b\xff", 4);
	rs_answer_clear(&ans);
}

/* A compression pointer to itself is rejected, not followed forever. */
static void test_pointer_loop(void **state)
{
	static const uint8_t msg[] = {
		0x00, 0x0d, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
		0xc0, 27, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4,
	};
	struct rs_answer ans;

	(void)state;
	assert_int_equal(parse(msg, sizeof(msg), 13, "x.example", RS_TYPE_A,
			       &ans), RS_WIRE_MALFORMED);
	assert_int_equal(parse(msg, 1, 13, "x.example", RS_TYPE_A, &ans),
			 RS_WIRE_MALFORMED);
}

/* ---- the decoder against ldns, edge by edge ----------------------------- */

/* One message in hex, the question asked, what must come out, and the same
 * from the ldns reference (rs_wire_parse_ref): the decoder reads the wire
 * itself, so each row holds it to ldns_wire2pkt as well as to the RFC. */
struct edge_row {
	const char *what;
	const char *hex;
	const char *qname;
	uint16_t qtype;
	enum rs_wire_verdict v;
	size_t n_rrs;     /* when RS_WIRE_OK */
	size_t n_cname;
	const char *data0; /* first RR's data as text, or NULL */
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] != '\0' && hex[1] != '\0' && n < cap; hex += 2) {
		char b[3] = { hex[0], hex[1], '\0' };

		out[n++] = (uint8_t)strtoul(b, NULL, 16);
	}
	return n;
}

static const char name255[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static const struct edge_row edge_rows[] = {
	/* RFC 1035 §4.1.4: "a pointer to a prior occurance of the same
	 * name"; one to itself never ends: refused, not followed forever. */
	{ "pointer to itself", "123481800001000000000000c00c00010001",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	{ "two pointers in a loop",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c01fc01d0001000100000000000400000000",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	/* A label then a pointer back to it grows the name past 255. */
	{ "label and pointer loop",
	  "123481800001000100000000076578616d706c6503636f6d00000100010161c01d0001000100000000000400000000",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	{ "pointer to offset 0", "123481800001000000000000c00000010001",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	/* ldns follows a pointer forward too (RFC 1035 says "prior"; ldns
	 * is the reference, so the decoder does the same). */
	{ "pointer forward",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c021000100010000000000040000000000",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 0, 0, NULL },
	/* RFC 1035 §3.1: "the total number of octets that represent a
	 * domain name (i.e., the sum of all label octets and label lengths)
	 * is limited to 255": 255 is accepted, 256 refused. */
	{ "name of 255 octets",
	  "1234818000010000000000003f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3d" "62626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
	  "0000010001",
	  name255, RS_TYPE_A, RS_WIRE_OK, 0, 0, NULL },
	{ "name of 256 octets",
	  "1234818000010000000000003f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3f" "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
	  "3e" "6262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262"
	  "0000010001",
	  name255, RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	/* RFC 1035 §2.3.4: "labels 63 octets or less". */
	{ "label of 64 octets",
	  "12348180000100000000000040616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161610000010001",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	{ "RDLENGTH past the end",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c00c0001000100000000002800000000",
	  "example.com", RS_TYPE_A, RS_WIRE_MALFORMED, 0, 0, NULL },
	{ "cut inside an RR",
	  "123481800001000100000000085f6d74612d737473016104746573740000100001c00c001000010000012c000f0e763d53545376313b20",
	  "_mta-sts.a.test", RS_TYPE_TXT, RS_WIRE_MALFORMED, 0, 0, NULL },
	{ "bytes after the last RR",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c000400000000ffffff",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 1, 0, NULL },
	/* RFC 4343 §3: "comparisons ... are case insensitive" (0x20). */
	{ "question in mixed case",
	  "123481800001000100000000074578416d506c4503634f6d0000010001c00c000100010000012c000400000000",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 1, 0, NULL },
	/* RFC 1034 §3.6.2: the chain is followed; the second owner is in
	 * mixed case. */
	{ "CNAME chain, owners in mixed case",
	  "123481800001000300000000076578616d706c6503636f6d0000010001c00c000500010000012c000f0162076578616d706c65036e6574000142074578616d706c65034e455400000500010000012c000f0163076578616d706c65036f7267000163076578616d706c65036f726700000100010000012c0004c0000207",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 1, 2, NULL },
	/* ldns reads one A field of an 8-octet RDATA: 4 octets kept. */
	{ "A with 8 octets of RDATA",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c00080000000000000000",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 1, 0, NULL },
	/* An MX with only its preference is one field: kept as raw bytes. */
	{ "MX without exchange",
	  "123481800001000100000000076578616d706c6503636f6d00000f0001c00c000f00010000012c0002000a",
	  "example.com", RS_TYPE_MX, RS_WIRE_OK, 1, 0, NULL },
	{ "CNAME without RDATA is not followed",
	  "123481800001000100000000076578616d706c6503636f6d0000010001c00c000500010000012c0000",
	  "example.com", RS_TYPE_A, RS_WIRE_OK, 0, 0, NULL },
	/* RFC 4343 §2.1: a dot and a NUL inside a label are escaped. */
	{ "CNAME target with a dot and a NUL in a label",
	  "123481800001000100000000076578616d706c6503636f6d0000050001c00c000500010000012c000b05612e62006303636f6d00",
	  "example.com", RS_TYPE_CNAME, RS_WIRE_OK, 1, 0, "a\\.b\\000c.com" },
	{ "question class CH",
	  "123481800001000000000000076578616d706c6503636f6d0000010003",
	  "example.com", RS_TYPE_A, RS_WIRE_BAD_QUESTION, 0, 0, NULL },
	/* RFC 1035 §4.1.1: a response to a QUERY has opcode 0. */
	{ "opcode NOTIFY",
	  "1234a0000001000000000000076578616d706c6503636f6d0000010001",
	  "example.com", RS_TYPE_A, RS_WIRE_NOT_RESPONSE, 0, 0, NULL },
	/* The ID is checked before the message is read. */
	{ "wrong ID on a malformed message", "4321818000010000000000000000",
	  "example.com", RS_TYPE_A, RS_WIRE_BAD_ID, 0, 0, NULL },
};

static void test_wire_edges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(edge_rows) / sizeof(edge_rows[0]); i++) {
		const struct edge_row *r = &edge_rows[i];
		uint8_t wire[1024];
		size_t len = unhex(r->hex, wire, sizeof(wire));
		struct rs_question q;
		struct rs_answer a, b;
		bool ea, eb;
		enum rs_wire_verdict va, vb;

		assert_int_equal(rs_question_init(&q, r->qname, r->qtype, false),
				 ST_OK);
		va = rs_wire_parse(wire, len, 0x1234, &q, &a, &ea);
		vb = rs_wire_parse_ref(wire, len, 0x1234, &q, &b, &eb);
		if (va != r->v || vb != r->v)
			fail_msg("%s: verdict %d, ldns %d, want %d", r->what,
				 va, vb, r->v);
		assert_false(ea);
		assert_false(eb);
		if (va != RS_WIRE_OK)
			continue;
		if (a.n_rrs != r->n_rrs || b.n_rrs != r->n_rrs ||
		    a.n_cname != r->n_cname || b.n_cname != r->n_cname)
			fail_msg("%s: %zu RRs %zu links, ldns %zu %zu", r->what,
				 a.n_rrs, a.n_cname, b.n_rrs, b.n_cname);
		for (size_t k = 0; k < a.n_rrs; k++) {
			assert_int_equal(a.rrs[k].len, b.rrs[k].len);
			assert_memory_equal(a.rrs[k].data, b.rrs[k].data,
					    a.rrs[k].len);
			assert_int_equal(a.rrs[k].pref, b.rrs[k].pref);
			assert_int_equal(a.rrs[k].ttl, b.rrs[k].ttl);
		}
		for (size_t k = 0; k < a.n_cname; k++)
			assert_string_equal(a.cname[k], b.cname[k]);
		if (r->data0 != NULL)
			assert_string_equal((const char *)a.rrs[0].data,
					    r->data0);
		rs_answer_clear(&a);
		rs_answer_clear(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_question_names),
		cmocka_unit_test(test_question_limits),
		cmocka_unit_test(test_query_wire),
		cmocka_unit_test(test_query_into),
		cmocka_unit_test(test_question_name),
		cmocka_unit_test(test_txt_join),
		cmocka_unit_test(test_mx_and_null_mx),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_rcodes),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_txt_binary),
		cmocka_unit_test(test_pointer_loop),
		cmocka_unit_test(test_wire_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
