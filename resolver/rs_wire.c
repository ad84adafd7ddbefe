#include "rs_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h> /* the RR descriptor table only */

#include "st_error.h"

int rs_question_init(struct rs_question *q, const char *name, uint16_t type,
		     bool do_bit)
{
	size_t len, label = 0;

	if (q == NULL || name == NULL)
		return ST_EINVAL;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* 253 presentation bytes is the 255-byte wire limit (RFC 1035 §3.1). */
	if (len > 253)
		return ST_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return ST_EINVAL;
			label = 0;
			q->name[i] = '.';
			continue;
		}
		/* No escapes or spaces: names reach us already normalised. */
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return ST_EINVAL;
		if (++label > 63)
			return ST_EINVAL;
		q->name[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
	}
	if (len > 0 && label == 0)
		return ST_EINVAL;
	q->name[len] = '\0';
	q->type = type;
	q->do_bit = do_bit;
	q->ad_bit = false;
	return ST_OK;
}

size_t rs_wire_name(const char *name, uint8_t out[255])
{
	size_t n = 0, lab;
	const char *p = name;

	while (*p != '\0') {
		lab = strcspn(p, ".");
		if (lab == 0 || lab > 63 || n + 1 + lab + 1 > 255)
			return 0;
		out[n++] = (uint8_t)lab;
		memcpy(out + n, p, lab);
		n += lab;
		p += lab;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	return n;
}

int rs_wire_query_into(const struct rs_question *q, uint16_t id,
		       uint16_t edns_size, uint8_t buf[RS_QUERY_MAX],
		       size_t *len)
{
	/* Built by hand, not with ldns: this runs once per query and ldns
	 * allocates a 64 KiB buffer per packet. */
	size_t n = 12, dn;

	*len = 0;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[3] = q->ad_bit ? 0x20 : 0; /* AD */
	buf[5] = 1;    /* QDCOUNT */
	buf[11] = edns_size > 0; /* ARCOUNT */
	dn = rs_wire_name(q->name, buf + n);
	if (dn == 0)
		return ST_EINVAL;
	n += dn;
	buf[n++] = (uint8_t)(q->type >> 8);
	buf[n++] = (uint8_t)q->type;
	buf[n++] = 0;
	buf[n++] = 1; /* IN */
	if (edns_size > 0) {
		buf[n++] = 0;  /* root */
		buf[n++] = 0;
		buf[n++] = 41; /* OPT */
		buf[n++] = (uint8_t)(edns_size >> 8);
		buf[n++] = (uint8_t)edns_size;
		buf[n++] = 0;  /* extended rcode, version */
		buf[n++] = 0;
		buf[n++] = q->do_bit ? 0x80 : 0;
		buf[n++] = 0;
		buf[n++] = 0;  /* RDLEN */
		buf[n++] = 0;
	}
	*len = n;
	return ST_OK;
}

int rs_wire_query(const struct rs_question *q, uint16_t id, uint16_t edns_size,
		  uint8_t **wire, size_t *len)
{
	uint8_t buf[RS_QUERY_MAX];
	int ret;

	*wire = NULL;
	ret = rs_wire_query_into(q, id, edns_size, buf, len);
	if (ret != ST_OK)
		return ret;
	*wire = malloc(*len);
	if (*wire == NULL) {
		*len = 0;
		return ST_ENOMEM;
	}
	memcpy(*wire, buf, *len);
	return ST_OK;
}

void rs_answer_clear(struct rs_answer *ans)
{
	if (ans == NULL)
		return;
	for (size_t i = 0; i < ans->n_cname; i++)
		free(ans->cname[i]);
	for (size_t i = 0; i < ans->n_rrs; i++)
		free((void *)ans->rrs[i].data);
	free(ans->rrs);
	free(ans->referral_zone);
	memset(ans, 0, sizeof(*ans));
}

/*
 * The response decoder.  It reads the message in place, with no copy of
 * it and no allocation but the answer's own strings, and accepts exactly
 * the messages ldns_wire2pkt accepts (the differential fuzz target
 * fuzz_wire_diff holds it to rs_wire_parse_ref() on every input): the
 * same bounds, the same name rules, and the RDATA cut into fields by
 * ldns's own RR descriptor table (a static table: no allocation).
 */

struct wire {
	const uint8_t *p;
	size_t len;
};

/*
 * The name at *pos, decompressed into out (255 bytes, may be NULL to only
 * check it), as ldns_wire2dname reads it.  RFC 1035 §4.1.4: a pointer is
 * two octets whose top bits are 11, its 14 bits an offset from the start
 * of the message; a pointer to 0 or past the end is refused, and so is a
 * chain of more than LDNS_MAX_POINTERS pointers (the loop guard).  Labels
 * are at most 63 octets; RFC 1035 §3.1 "the total number of octets that
 * represent a domain name ... is limited to 255", root label included.
 * *pos moves past the name as written at *pos (past its first pointer).
 * Returns the uncompressed length (1 for the root), 0 if malformed.
 */
static size_t name_read(const struct wire *w, size_t *pos, uint8_t *out)
{
	size_t p = *pos, n = 0, resume = 0, target;
	unsigned long ptrs = 0;
	uint8_t lab;

	if (p >= w->len)
		return 0;
	lab = w->p[p];
	while (lab > 0) {
		while (lab >= 192) {
			if (resume == 0)
				resume = p + 2;
			if (++ptrs > LDNS_MAX_POINTERS || p + 2 > w->len)
				return 0;
			target = (size_t)(lab & 63) << 8 | w->p[p + 1];
			if (target == 0 || target >= w->len)
				return 0;
			p = target;
			lab = w->p[p];
		}
		if (lab == 0)
			break;
		if (lab > 63 || p + 1 + lab > w->len || n + 1 + lab > 255)
			return 0;
		if (out != NULL) {
			out[n] = lab;
			memcpy(out + n + 1, w->p + p + 1, lab);
		}
		n += 1 + (size_t)lab;
		p += 1 + (size_t)lab;
		/* At the end of the message lab keeps its value, so the next
		 * turn refuses the name for running past the end. */
		if (p < w->len)
			lab = w->p[p];
	}
	if (n >= 255)
		return 0;
	*pos = resume > 0 ? resume : p + 1;
	if (out != NULL)
		out[n] = 0;
	return n + 1;
}

char *rs_wire_name_text(const uint8_t *d, size_t len)
{
	char buf[4 * 255 + 1];
	size_t i = 0, n = 0;

	if (len > 255)
		len = 255; /* RFC 1035 §2.3.4: 255 octets or less */
	while (i < len && d[i] != 0) {
		size_t lab = d[i++];

		if (lab > 63 || i + lab > len)
			return NULL;
		if (n > 0)
			buf[n++] = '.';
		for (size_t k = 0; k < lab; k++, i++) {
			uint8_t c = d[i];

			if (c == '.' || c == ';' || c == '(' || c == ')' ||
			    c == '\\' || c == '"' || c == '@' || c == '$') {
				buf[n++] = '\\';
				buf[n++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				buf[n++] = '\\';
				buf[n++] = (char)('0' + c / 100);
				buf[n++] = (char)('0' + c / 10 % 10);
				buf[n++] = (char)('0' + c % 10);
			} else {
				buf[n++] = (char)c;
			}
		}
	}
	buf[n] = '\0';
	return strdup(buf);
}

/* Where the fields of one RDATA go: counted only (buf NULL), or joined
 * into buf as struct rs_rr documents them. */
struct rdf_sink {
	uint8_t *buf;
	size_t len;          /* bytes of the joined form */
	size_t count;        /* fields, as ldns_rr_rd_count() */
	bool txt;            /* character-strings lose their length octet */
	uint16_t first16;    /* the first field, if 2 octets (MX preference) */
	uint8_t name[255];   /* the last name field, uncompressed */
};

static void sink_add(struct rdf_sink *s, const uint8_t *d, size_t sz)
{
	if (s->count == 0 && sz == 2)
		s->first16 = (uint16_t)(d[0] << 8 | d[1]);
	s->count++;
	if (s->txt && sz > 0) {
		d++;
		sz--;
	}
	if (s->buf != NULL)
		memcpy(s->buf + s->len, d, sz);
	s->len += sz;
}

/* The length of the field of type t at p, as ldns_wire2rdf cuts it; 0
 * for a name (read apart) or a type it does not cut; SIZE_MAX if its
 * length field lies past end. */
static size_t field_len(const struct wire *w, ldns_rdf_type t, size_t p,
			size_t end)
{
	switch (t) {
	case LDNS_RDF_TYPE_CLASS:
	case LDNS_RDF_TYPE_ALG:
	case LDNS_RDF_TYPE_CERTIFICATE_USAGE:
	case LDNS_RDF_TYPE_SELECTOR:
	case LDNS_RDF_TYPE_MATCHING_TYPE:
	case LDNS_RDF_TYPE_INT8:
		return 1;
	case LDNS_RDF_TYPE_TYPE:
	case LDNS_RDF_TYPE_INT16:
	case LDNS_RDF_TYPE_CERT_ALG:
		return 2;
	case LDNS_RDF_TYPE_TIME:
	case LDNS_RDF_TYPE_INT32:
	case LDNS_RDF_TYPE_A:
	case LDNS_RDF_TYPE_PERIOD:
		return 4;
	case LDNS_RDF_TYPE_TSIGTIME:
	case LDNS_RDF_TYPE_EUI48:
		return 6;
	case LDNS_RDF_TYPE_ILNP64:
	case LDNS_RDF_TYPE_EUI64:
		return 8;
	case LDNS_RDF_TYPE_AAAA:
		return 16;
	case LDNS_RDF_TYPE_STR:
	case LDNS_RDF_TYPE_NSEC3_SALT:
	case LDNS_RDF_TYPE_TAG:
	case LDNS_RDF_TYPE_B32_EXT:
	case LDNS_RDF_TYPE_NSEC3_NEXT_OWNER:
		return (size_t)w->p[p] + 1;
	case LDNS_RDF_TYPE_INT16_DATA:
		if (p + 2 > end)
			return SIZE_MAX;
		return ((size_t)w->p[p] << 8 | w->p[p + 1]) + 2;
	case LDNS_RDF_TYPE_HIP:
		if (p + 4 > end)
			return SIZE_MAX;
		return (size_t)w->p[p] +
		       ((size_t)w->p[p + 2] << 8 | w->p[p + 3]) + 4;
	case LDNS_RDF_TYPE_APL:
	case LDNS_RDF_TYPE_B64:
	case LDNS_RDF_TYPE_HEX:
	case LDNS_RDF_TYPE_NSEC:
	case LDNS_RDF_TYPE_UNKNOWN:
	case LDNS_RDF_TYPE_SERVICE:
	case LDNS_RDF_TYPE_LOC:
	case LDNS_RDF_TYPE_WKS:
	case LDNS_RDF_TYPE_NSAP:
	case LDNS_RDF_TYPE_ATMA:
	case LDNS_RDF_TYPE_IPSECKEY:
	case LDNS_RDF_TYPE_LONG_STR:
	case LDNS_RDF_TYPE_AMTRELAY:
	case LDNS_RDF_TYPE_SVCPARAMS:
	case LDNS_RDF_TYPE_NONE:
		return end - p;
	default:
		return 0;
	}
}

/*
 * The RDLENGTH and RDATA at *pos of an RR of this type, cut into fields
 * by ldns's descriptor for the type as ldns_wire2rdf does: fields are
 * read while the RDATA lasts and the descriptor has fields left, a name
 * field may be compressed (and is then read against the whole message),
 * bytes past the last field are left where they are (ldns reads the next
 * RR from there).  Fields go to s, if not NULL.  *pos ends past the last
 * field read.  false if malformed.
 */
static bool rdata_walk(const struct wire *w, uint16_t type, size_t *pos,
		       struct rdf_sink *s)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	size_t p = *pos, end, max = ldns_rr_descriptor_maximum(d), flen, n;
	uint8_t idx = 0; /* as in ldns: an 8-bit field index */

	if (p + 2 > w->len)
		return false;
	end = p + 2 + ((size_t)w->p[p] << 8 | w->p[p + 1]);
	p += 2;
	if (end > w->len)
		return false;
	while (p < end && idx < max) {
		ldns_rdf_type t = ldns_rr_descriptor_field_type(d, idx);

		if (t == LDNS_RDF_TYPE_DNAME) {
			n = name_read(w, &p, s != NULL ? s->name : NULL);
			if (n == 0)
				return false;
			if (s != NULL)
				sink_add(s, s->name, n);
		} else {
			flen = field_len(w, t, p, end);
			if (flen == SIZE_MAX || (flen > 0 && p + flen > end))
				return false;
			if (flen > 0) {
				if (s != NULL)
					sink_add(s, w->p + p, flen);
				p += flen;
			}
		}
		idx++;
	}
	*pos = p;
	return true;
}

/* One RR's header, read at *pos; *pos then points at its RDLENGTH. */
struct rr_head {
	size_t owner;   /* offset of the owner name */
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
};

static bool rr_head_read(const struct wire *w, size_t *pos, bool question,
			 struct rr_head *h)
{
	const uint8_t *b;

	h->owner = *pos;
	if (name_read(w, pos, NULL) == 0 || *pos + 4 > w->len)
		return false;
	b = w->p + *pos;
	h->type = (uint16_t)(b[0] << 8 | b[1]);
	h->class = (uint16_t)(b[2] << 8 | b[3]);
	*pos += 4;
	if (question)
		return true;
	if (*pos + 4 > w->len)
		return false;
	b = w->p + *pos;
	h->ttl = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		 (uint32_t)b[2] << 8 | b[3];
	*pos += 4;
	return true;
}

/* RRs of the answer and authority sections whose heads are kept from
 * the first walk (more are read again from the wire). */
#define RS_RR_CACHE 16

struct rr_at {
	struct rr_head h;
	size_t rdata;   /* offset of its RDLENGTH */
};

/* A message ldns_wire2pkt would accept: where its sections start, and
 * the first RRs of the answer (1) and authority (2) sections. */
struct sections {
	uint16_t count[4];
	size_t start[4];
	struct rr_at rr[2][RS_RR_CACHE];
	size_t resume[2]; /* offset of RR number RS_RR_CACHE, if any */
};

/* Every section, every RR, as ldns_wire2pkt reads them (RFC 1035 §4.1);
 * bytes after the last RR are ignored, as ldns ignores them. */
static bool message_walk(const struct wire *w, struct sections *sec)
{
	size_t pos = 12, rd;
	struct rr_head h;

	for (int s = 0; s < 4; s++) {
		sec->count[s] = (uint16_t)(w->p[4 + 2 * s] << 8 |
					   w->p[5 + 2 * s]);
		sec->start[s] = pos;
		for (unsigned i = 0; i < sec->count[s]; i++) {
			if ((s == 1 || s == 2) && i == RS_RR_CACHE)
				sec->resume[s - 1] = pos;
			if (!rr_head_read(w, &pos, s == 0, &h))
				return false;
			if (s == 0)
				continue;
			rd = pos;
			if (!rdata_walk(w, h.type, &pos, NULL))
				return false;
			if ((s == 1 || s == 2) && i < RS_RR_CACHE) {
				sec->rr[s - 1][i].h = h;
				sec->rr[s - 1][i].rdata = rd;
			}
		}
	}
	return true;
}

/* RR number i of section s (1 answer, 2 authority) of a walked message,
 * taken in order from i = 0: its head in h, its RDATA at *rdata.  *pos
 * is the caller's cursor for RRs past the cache. */
static void rr_get(const struct wire *w, const struct sections *sec, int s,
		   unsigned i, size_t *pos, struct rr_head *h, size_t *rdata)
{
	if (i < RS_RR_CACHE) {
		*h = sec->rr[s - 1][i].h;
		*rdata = sec->rr[s - 1][i].rdata;
		return;
	}
	if (i == RS_RR_CACHE)
		*pos = sec->resume[s - 1];
	(void)rr_head_read(w, pos, false, h);
	*rdata = *pos;
	(void)rdata_walk(w, h->type, pos, NULL);
}

/* Is the (already checked) name at p in the message the uncompressed
 * name nm, case-insensitively?  Compared in place, label by label. */
static bool name_is_at(const struct wire *w, size_t p, const uint8_t *nm,
		       size_t nlen)
{
	size_t k = 0;

	for (;;) {
		uint8_t lab = w->p[p];

		while (lab >= 192) {
			p = (size_t)(lab & 63) << 8 | w->p[p + 1];
			lab = w->p[p];
		}
		if (k >= nlen || nm[k] != lab)
			return false;
		if (lab == 0)
			return true;
		for (size_t i = 1; i <= lab; i++) {
			uint8_t x = w->p[p + i], y = nm[k + i];

			if (x >= 'A' && x <= 'Z')
				x = (uint8_t)(x - 'A' + 'a');
			if (y >= 'A' && y <= 'Z')
				y = (uint8_t)(y - 'A' + 'a');
			if (x != y)
				return false;
		}
		k += 1 + (size_t)lab;
		p += 1 + (size_t)lab;
	}
}

/* Is the owner of h the uncompressed name (nm, nlen)? */
static bool owner_is(const struct wire *w, const struct rr_head *h,
		     const uint8_t *nm, size_t nlen)
{
	return name_is_at(w, h->owner, nm, nlen);
}

/* The question section holds exactly our question (qdcount 1, type,
 * class IN, the name case-insensitively). */
static bool question_ok(const struct wire *w, const struct sections *sec,
			const struct rs_question *q, const uint8_t *qn,
			size_t qlen)
{
	size_t pos = sec->start[0];
	struct rr_head h;

	if (sec->count[0] != 1 || !rr_head_read(w, &pos, true, &h))
		return false;
	return h.type == q->type && h.class == 1 &&
	       owner_is(w, &h, qn, qlen);
}

/* Follow CNAMEs from the question name (in cur, curlen) through the
 * answer section for at most RS_CNAME_MAX links; cur ends as the chain's
 * end.  false on no memory. */
static bool chain_follow(const struct wire *w, const struct sections *sec,
			 const struct rs_question *q, uint8_t cur[255],
			 size_t *curlen, struct rs_answer *ans)
{
	if (q->type == RS_TYPE_CNAME)
		return true;
	while (ans->n_cname < RS_CNAME_MAX) {
		size_t pos = sec->start[1], rd, p, n = 0;
		struct rr_head h;
		uint8_t next[255];

		for (unsigned i = 0; i < sec->count[1] && n == 0; i++) {
			rr_get(w, sec, 1, i, &pos, &h, &rd);
			if (h.type != RS_TYPE_CNAME ||
			    !owner_is(w, &h, cur, *curlen))
				continue;
			/* Followed only if it has exactly its one field,
			 * as ldns_rr_rd_count() == 1: a CNAME has one field
			 * at most, read whenever its RDLENGTH is not 0. */
			p = rd + 2;
			if ((w->p[rd] | w->p[rd + 1]) != 0)
				n = name_read(w, &p, next);
		}
		if (n == 0)
			return true;
		ans->cname[ans->n_cname] = rs_wire_name_text(next, sizeof(next));
		if (ans->cname[ans->n_cname] == NULL)
			return false;
		ans->n_cname++;
		memcpy(cur, next, n);
		*curlen = n;
	}
	return true;
}

/* The RDATA at rd of an RR of type in the form struct rs_rr documents:
 * an MX with its two fields or a CNAME with its one is the target name
 * as text (and the preference); anything else is its fields joined, a
 * TXT's character-strings without their length octets (RFC 8461 §3.1:
 * joined without separators).  false on no memory. */
static bool rr_data(const struct wire *w, uint16_t type, size_t rd,
		    struct rs_rr *out)
{
	struct rdf_sink s;
	size_t p = rd;

	memset(&s, 0, sizeof(s));
	s.txt = type == RS_TYPE_TXT;
	(void)rdata_walk(w, type, &p, &s);
	if ((type == RS_TYPE_MX && s.count == 2) ||
	    (type == RS_TYPE_CNAME && s.count == 1)) {
		char *t = rs_wire_name_text(s.name, sizeof(s.name));

		if (t == NULL)
			return false;
		if (type == RS_TYPE_MX)
			out->pref = s.first16;
		out->data = (const uint8_t *)t;
		out->len = strlen(t);
		return true;
	}
	s.buf = malloc(s.len + 1);
	if (s.buf == NULL)
		return false;
	s.len = 0;
	s.count = 0;
	p = rd;
	(void)rdata_walk(w, type, &p, &s);
	s.buf[s.len] = '\0';
	out->data = s.buf;
	out->len = s.len;
	return true;
}

/* The RRs of q's type owned by the chain's end (owner, olen).  false on
 * no memory. */
static bool rrs_collect(const struct wire *w, const struct sections *sec,
			const struct rs_question *q, const uint8_t *owner,
			size_t olen, struct rs_answer *ans)
{
	size_t pos = sec->start[1], rd, k = 0;
	struct rr_head h;

	for (unsigned i = 0; i < sec->count[1]; i++) {
		rr_get(w, sec, 1, i, &pos, &h, &rd);
		if (h.type == q->type && owner_is(w, &h, owner, olen))
			k++;
	}
	if (k == 0)
		return true;
	ans->rrs = calloc(k, sizeof(*ans->rrs));
	if (ans->rrs == NULL)
		return false;
	pos = sec->start[1];
	for (unsigned i = 0; i < sec->count[1] && ans->n_rrs < k; i++) {
		struct rs_rr *rr = &ans->rrs[ans->n_rrs];

		rr_get(w, sec, 1, i, &pos, &h, &rd);
		if (h.type != q->type || !owner_is(w, &h, owner, olen))
			continue;
		rr->type = h.type;
		rr->ttl = h.ttl;
		if (!rr_data(w, h.type, rd, rr))
			return false;
		if (ans->n_rrs == 0 || rr->ttl < ans->min_ttl)
			ans->min_ttl = rr->ttl;
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
static bool referral_detect(const struct wire *w, const struct sections *sec,
			    struct rs_answer *ans)
{
	size_t pos = sec->start[2], rd, cut = 0;
	bool have_cut = false;
	struct rr_head h;
	uint8_t nm[255];

	if (ans->rcode != RS_RCODE_NOERROR || ans->n_rrs > 0 ||
	    (ans->aa && ans->n_cname == 0))
		return true;
	for (unsigned i = 0; i < sec->count[2]; i++) {
		rr_get(w, sec, 2, i, &pos, &h, &rd);
		if (h.type == LDNS_RR_TYPE_SOA)
			return true;
		if (h.type == LDNS_RR_TYPE_NS && !have_cut) {
			cut = h.owner;
			have_cut = true;
		}
	}
	if (!have_cut)
		return true;
	(void)name_read(w, &cut, nm);
	ans->referral = true;
	ans->referral_zone = rs_wire_name_text(nm, sizeof(nm));
	return ans->referral_zone != NULL;
}

enum rs_wire_verdict rs_wire_parse(const uint8_t *wire, size_t len,
				   uint16_t id, const struct rs_question *q,
				   struct rs_answer *ans, bool *enomem)
{
	struct wire w = { wire, len };
	struct sections sec;
	uint8_t cur[255];
	size_t curlen;

	*enomem = false;
	memset(ans, 0, sizeof(*ans));
	if (len < 12)
		return RS_WIRE_MALFORMED;
	if (((uint16_t)wire[0] << 8 | wire[1]) != id)
		return RS_WIRE_BAD_ID;
	if (!message_walk(&w, &sec))
		return RS_WIRE_MALFORMED;
	/* RFC 1035 §4.1.1: QR set and opcode 0 (QUERY) in a response. */
	if ((wire[2] & 0x80) == 0 || (wire[2] & 0x78) != 0)
		return RS_WIRE_NOT_RESPONSE;
	curlen = rs_wire_name(q->name, cur);
	if (curlen == 0) {
		*enomem = true; /* as the reference reports a name it refuses */
		return RS_WIRE_MALFORMED;
	}
	if (!question_ok(&w, &sec, q, cur, curlen))
		return RS_WIRE_BAD_QUESTION;
	ans->rcode = wire[3] & 0x0f;
	ans->aa = (wire[2] & 0x04) != 0;
	ans->tc = (wire[2] & 0x02) != 0;
	ans->ra = (wire[3] & 0x80) != 0;
	ans->ad = (wire[3] & 0x20) != 0;
	if (!chain_follow(&w, &sec, q, cur, &curlen, ans) ||
	    !rrs_collect(&w, &sec, q, cur, curlen, ans) ||
	    !referral_detect(&w, &sec, ans)) {
		*enomem = true;
		rs_answer_clear(ans);
		return RS_WIRE_MALFORMED;
	}
	ans->nodata = ans->rcode == RS_RCODE_NOERROR && ans->n_rrs == 0 &&
		      !ans->referral;
	return RS_WIRE_OK;
}
