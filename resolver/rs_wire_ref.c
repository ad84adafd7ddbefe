/*
 * rs_wire_ref.c - the reference decoder: a response decoded with
 * ldns_wire2pkt and converted from the ldns_pkt into struct rs_answer.
 * The scanner does not use it (rs_wire_parse() reads the wire itself);
 * the differential fuzz target and the unit tests compare the two on
 * every input, so ldns stays the judge of what a DNS message is.
 */
#include "rs_wire_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "st_error.h"

/* q's name as a wire-format dname rdf, built from its labels (no
 * snprintf and presentation parser per answer).  NULL on no memory or a
 * name rs_wire_name() refuses. */
static ldns_rdf *question_rdf(const struct rs_question *q)
{
	uint8_t buf[255];
	size_t n = rs_wire_name(q->name, buf);

	return n == 0 ? NULL : ldns_dname_new_frm_data((uint16_t)n, buf);
}

/* A domain name rdf as presentation text without the trailing dot ("" for
 * the root); malloc'd (rs_wire_name_text(), the one writer of that form). */
static char *dname_text(const ldns_rdf *rdf)
{
	return rs_wire_name_text(ldns_rdf_data(rdf), ldns_rdf_size(rdf));
}

/* RDATA of rr in the form struct rs_rr documents; false on no memory. */
static bool rr_convert(const ldns_rr *rr, struct rs_rr *out)
{
	size_t n = ldns_rr_rd_count(rr), total = 0;
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	uint8_t *buf;

	memset(out, 0, sizeof(*out));
	out->type = type;
	out->ttl = ldns_rr_ttl(rr);
	if ((type == RS_TYPE_MX && n == 2) || (type == RS_TYPE_CNAME && n == 1)) {
		const ldns_rdf *name = ldns_rr_rdf(rr, n - 1);
		char *s;

		if (type == RS_TYPE_MX)
			out->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		s = dname_text(name);
		if (s == NULL)
			return false;
		out->data = (const uint8_t *)s;
		out->len = strlen(s);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		total += ldns_rdf_size(ldns_rr_rdf(rr, i));
	buf = malloc(total + 1);
	if (buf == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rdf);
		size_t sz = ldns_rdf_size(rdf);

		if (type == RS_TYPE_TXT && sz > 0) {
			/* A character-string: length byte, then bytes.  Joined
			 * without separators (RFC 8461 §3.1). */
			size_t sl = d[0] < sz - 1 ? d[0] : sz - 1;

			memcpy(buf + out->len, d + 1, sl);
			out->len += sl;
		} else {
			memcpy(buf + out->len, d, sz);
			out->len += sz;
		}
	}
	buf[out->len] = '\0';
	out->data = buf;
	return true;
}

/* Does the question section hold exactly our question? */
static bool question_matches(const ldns_pkt *pkt, const ldns_rdf *qname,
			     const struct rs_question *q)
{
	const ldns_rr_list *ql = ldns_pkt_question(pkt);
	const ldns_rr *qr;

	if (ql == NULL || ldns_rr_list_rr_count(ql) != 1)
		return false;
	qr = ldns_rr_list_rr(ql, 0);
	return ldns_rr_get_type(qr) == (ldns_rr_type)q->type &&
	       ldns_rr_get_class(qr) == LDNS_RR_CLASS_IN &&
	       ldns_dname_compare(ldns_rr_owner(qr), qname) == 0;
}

/* Follow CNAMEs from qname through the answer section; the chain's end is
 * returned (owned by the packet, or qname itself). */
static const ldns_rdf *follow_chain(const ldns_rr_list *an,
				    const ldns_rdf *qname,
				    const struct rs_question *q,
				    struct rs_answer *ans, bool *enomem)
{
	const ldns_rdf *cur = qname;
	size_t n = an != NULL ? ldns_rr_list_rr_count(an) : 0;

	if (q->type == RS_TYPE_CNAME)
		return cur;
	while (ans->n_cname < RS_CNAME_MAX) {
		const ldns_rdf *next = NULL;

		for (size_t i = 0; i < n && next == NULL; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    ldns_rr_rd_count(rr) == 1 &&
			    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0)
				next = ldns_rr_rdf(rr, 0);
		}
		if (next == NULL)
			break;
		ans->cname[ans->n_cname] = dname_text(next);
		if (ans->cname[ans->n_cname] == NULL) {
			*enomem = true;
			break;
		}
		ans->n_cname++;
		cur = next;
	}
	return cur;
}

static bool collect(const ldns_rr_list *an, const ldns_rdf *owner,
		    const struct rs_question *q, struct rs_answer *ans)
{
	size_t n = an != NULL ? ldns_rr_list_rr_count(an) : 0;

	if (n == 0)
		return true;
	ans->rrs = calloc(n, sizeof(*ans->rrs));
	if (ans->rrs == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != (ldns_rr_type)q->type ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (!rr_convert(rr, &ans->rrs[ans->n_rrs]))
			return false;
		if (ans->n_rrs == 0 || ans->rrs[ans->n_rrs].ttl < ans->min_ttl)
			ans->min_ttl = ans->rrs[ans->n_rrs].ttl;
		ans->n_rrs++;
	}
	return true;
}

/* RFC 1034 §4.3.1, §4.3.2 step 3b: a server that is not authoritative
 * for the name and does not recurse answers with the NS records of the
 * closest zone cut in the authority section ("referral").  A NODATA
 * answer carries the zone's SOA there instead (RFC 2308 §2.2), so NS
 * without SOA, with no data at the chain end, is a referral.  AA set means
 * the server is authoritative for the answer, hence not a referral,
 * unless a CNAME chain led below a cut (the CNAME is authoritative, its
 * target is not).  Sets ans->referral and ans->referral_zone; false on no
 * memory. */
static bool detect_referral(const ldns_pkt *pkt, struct rs_answer *ans)
{
	const ldns_rr_list *au = ldns_pkt_authority(pkt);
	size_t n = au != NULL ? ldns_rr_list_rr_count(au) : 0;
	const ldns_rdf *cut = NULL;

	if (ans->rcode != RS_RCODE_NOERROR || ans->n_rrs > 0 ||
	    (ans->aa && ans->n_cname == 0))
		return true;
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(au, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			return true;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && cut == NULL)
			cut = ldns_rr_owner(rr);
	}
	if (cut == NULL)
		return true;
	ans->referral = true;
	ans->referral_zone = dname_text(cut);
	return ans->referral_zone != NULL;
}

enum rs_wire_verdict rs_wire_parse_ref(const uint8_t *wire, size_t len,
				       uint16_t id, const struct rs_question *q,
				   struct rs_answer *ans, bool *enomem)
{
	enum rs_wire_verdict v = RS_WIRE_OK;
	ldns_pkt *pkt = NULL;
	ldns_rdf *qname = NULL;
	const ldns_rdf *end;

	*enomem = false;
	memset(ans, 0, sizeof(*ans));
	if (len < LDNS_HEADER_SIZE)
		return RS_WIRE_MALFORMED;
	if (((uint16_t)wire[0] << 8 | wire[1]) != id)
		return RS_WIRE_BAD_ID;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return RS_WIRE_MALFORMED;
	if (!ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) {
		v = RS_WIRE_NOT_RESPONSE;
		goto cleanup;
	}
	qname = question_rdf(q);
	if (qname == NULL) {
		v = RS_WIRE_MALFORMED;
		*enomem = true;
		goto cleanup;
	}
	if (!question_matches(pkt, qname, q)) {
		v = RS_WIRE_BAD_QUESTION;
		goto cleanup;
	}
	ans->rcode = (int)ldns_pkt_get_rcode(pkt);
	ans->ad = ldns_pkt_ad(pkt);
	ans->tc = ldns_pkt_tc(pkt);
	ans->ra = ldns_pkt_ra(pkt);
	ans->aa = ldns_pkt_aa(pkt);
	end = follow_chain(ldns_pkt_answer(pkt), qname, q, ans, enomem);
	if (*enomem || !collect(ldns_pkt_answer(pkt), end, q, ans)) {
		*enomem = true;
		rs_answer_clear(ans);
		v = RS_WIRE_MALFORMED;
		goto cleanup;
	}
	if (!detect_referral(pkt, ans)) {
		*enomem = true;
		rs_answer_clear(ans);
		v = RS_WIRE_MALFORMED;
		goto cleanup;
	}
	ans->nodata = ans->rcode == RS_RCODE_NOERROR && ans->n_rrs == 0 &&
		      !ans->referral;
cleanup:
	ldns_rdf_deep_free(qname);
	ldns_pkt_free(pkt);
	return v;
}
