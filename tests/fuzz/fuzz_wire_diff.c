/*
 * fuzz_wire_diff.c - differential libFuzzer target for the response
 * decoder: rs_wire_parse() (reads the wire itself) against
 * rs_wire_parse_ref() (ldns_wire2pkt and the conversion the resolver
 * used before), on every input.  ldns is the reference: any difference in
 * the verdict, the header bits, the rcode, the CNAME chain, the referral
 * or any field of any RR aborts.
 *
 * The input is one DNS message; its ID is taken as the expected one, and
 * it is read as the answer to several questions: fixed names and types,
 * and the message's own question name under every type, so that CNAME
 * chains and RRsets in real responses are followed and converted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "rs_wire.h"
#include "rs_wire_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void differ(const char *what, const struct rs_question *q)
{
	fprintf(stderr, "rs_wire_parse differs from ldns: %s (question %s %u)\n",
		what, q->name, q->type);
	abort();
}

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void compare_answers(const struct rs_answer *a,
			    const struct rs_answer *b,
			    const struct rs_question *q)
{
	if (a->rcode != b->rcode)
		differ("rcode", q);
	if (a->ad != b->ad || a->tc != b->tc || a->ra != b->ra ||
	    a->aa != b->aa)
		differ("header bits", q);
	if (a->nodata != b->nodata)
		differ("nodata", q);
	if (a->referral != b->referral ||
	    !str_eq(a->referral_zone, b->referral_zone))
		differ("referral", q);
	if (a->n_cname != b->n_cname)
		differ("chain length", q);
	for (size_t i = 0; i < a->n_cname; i++)
		if (!str_eq(a->cname[i], b->cname[i]))
			differ("chain link", q);
	if (a->n_rrs != b->n_rrs || a->min_ttl != b->min_ttl)
		differ("RR count or min TTL", q);
	for (size_t i = 0; i < a->n_rrs; i++) {
		const struct rs_rr *x = &a->rrs[i], *y = &b->rrs[i];

		if (x->type != y->type || x->ttl != y->ttl ||
		    x->pref != y->pref || x->len != y->len ||
		    memcmp(x->data, y->data, x->len + 1) != 0)
			differ("RR fields", q);
	}
}

static void check_one(const uint8_t *data, size_t size, uint16_t id,
		      const struct rs_question *q)
{
	struct rs_answer a, b;
	bool ea, eb;
	enum rs_wire_verdict va, vb;

	va = rs_wire_parse(data, size, id, q, &a, &ea);
	vb = rs_wire_parse_ref(data, size, id, q, &b, &eb);
	if (va != vb || ea != eb)
		differ("verdict", q);
	if (va == RS_WIRE_OK) {
		compare_answers(&a, &b, q);
		rs_answer_clear(&a);
		rs_answer_clear(&b);
	}
}

/* The message's own question name, if ldns reads one and it is a name
 * stsmap could ask; false otherwise. */
static bool own_name(const uint8_t *data, size_t size, char *out, size_t cap)
{
	ldns_pkt *pkt = NULL;
	char *s = NULL;
	bool ok = false;

	if (ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK)
		return false;
	if (ldns_pkt_qdcount(pkt) >= 1) {
		s = ldns_rdf2str(ldns_rr_owner(
			ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
		if (s != NULL && strlen(s) < cap) {
			memcpy(out, s, strlen(s) + 1);
			ok = true;
		}
	}
	free(s);
	ldns_pkt_free(pkt);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {
		RS_TYPE_A, RS_TYPE_AAAA, RS_TYPE_MX, RS_TYPE_TXT,
		RS_TYPE_CNAME, RS_TYPE_TLSA, LDNS_RR_TYPE_NS,
		LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_PTR
	};
	const char *names[3] = { "example.com", "_mta-sts.a.test", NULL };
	char own[RS_NAME_MAX];
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	size_t n_names = 2;

	if (own_name(data, size, own, sizeof(own)))
		names[n_names++] = own;
	for (size_t n = 0; n < n_names; n++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			struct rs_question q;

			if (rs_question_init(&q, names[n], types[t], true) != 0)
				continue;
			check_one(data, size, id, &q);
		}
	}
	/* A wrong ID is refused the same way before anything is read. */
	{
		struct rs_question q;

		if (rs_question_init(&q, "example.com", RS_TYPE_A, false) == 0)
			check_one(data, size, (uint16_t)(id + 1), &q);
	}
	return 0;
}
