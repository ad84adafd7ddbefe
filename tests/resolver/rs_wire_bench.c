/*
 * rs_wire_bench.c - decodes a fixed set of responses many times with the
 * resolver's decoder (rs_wire_parse) or the ldns reference
 * (rs_wire_parse_ref), for instruction counts under callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=decode_set \
 *            rs_wire_bench new|ref ROUNDS FILE...
 *
 * Each file is one DNS message, asked as its own question (name and type
 * read once, with ldns, before the timed part).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "rs_wire.h"
#include "rs_wire_ref.h"

struct msg {
	uint8_t wire[65536];
	size_t len;
	uint16_t id;
	struct rs_question q;
};

typedef enum rs_wire_verdict (*decoder)(const uint8_t *, size_t, uint16_t,
					const struct rs_question *,
					struct rs_answer *, bool *);

static int load(const char *path, struct msg *m)
{
	FILE *f = fopen(path, "rb");
	ldns_pkt *pkt = NULL;
	char *name = NULL;
	int ret = -1;

	if (f == NULL)
		return -1;
	m->len = fread(m->wire, 1, sizeof(m->wire), f);
	fclose(f);
	if (m->len < 12 ||
	    ldns_wire2pkt(&pkt, m->wire, m->len) != LDNS_STATUS_OK ||
	    ldns_pkt_qdcount(pkt) < 1)
		goto cleanup;
	name = ldns_rdf2str(ldns_rr_owner(
		ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
	if (name == NULL ||
	    rs_question_init(&m->q, name,
			     (uint16_t)ldns_rr_get_type(ldns_rr_list_rr(
				     ldns_pkt_question(pkt), 0)),
			     false) != 0)
		goto cleanup;
	m->id = (uint16_t)(m->wire[0] << 8 | m->wire[1]);
	ret = 0;
cleanup:
	free(name);
	ldns_pkt_free(pkt);
	return ret;
}

/* The measured part: every message, rounds times. */
__attribute__((noinline)) static unsigned long
decode_set(decoder dec, const struct msg *ms, size_t n, long rounds)
{
	unsigned long rrs = 0;

	for (long r = 0; r < rounds; r++) {
		for (size_t i = 0; i < n; i++) {
			struct rs_answer ans;
			bool enomem;

			if (dec(ms[i].wire, ms[i].len, ms[i].id, &ms[i].q, &ans,
				&enomem) == RS_WIRE_OK) {
				rrs += ans.n_rrs;
				rs_answer_clear(&ans);
			}
		}
	}
	return rrs;
}

int main(int argc, char **argv)
{
	struct msg *ms;
	size_t n = 0;
	long rounds;
	decoder dec;

	if (argc < 4 || (strcmp(argv[1], "new") != 0 &&
			 strcmp(argv[1], "ref") != 0)) {
		fprintf(stderr, "usage: rs_wire_bench new|ref ROUNDS FILE...\n");
		return 2;
	}
	dec = strcmp(argv[1], "new") == 0 ? rs_wire_parse : rs_wire_parse_ref;
	rounds = strtol(argv[2], NULL, 10);
	ms = calloc((size_t)argc, sizeof(*ms));
	if (ms == NULL)
		return 1;
	for (int i = 3; i < argc; i++)
		if (load(argv[i], &ms[n]) == 0)
			n++;
	printf("%zu messages, %lu RRs decoded\n", n,
	       decode_set(dec, ms, n, rounds));
	free(ms);
	return 0;
}
