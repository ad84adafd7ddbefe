/*
 * rs_wire_ref.h - the ldns-based response decoder kept as the reference
 * for rs_wire_parse() (tests and fuzzing only, not the scanner's path).
 */
#ifndef RS_WIRE_REF_H
#define RS_WIRE_REF_H

#include "rs_wire.h"

/* Same contract as rs_wire_parse(), decoded with ldns_wire2pkt: the
 * answer (for RS_WIRE_OK) is freed with rs_answer_clear(). */
enum rs_wire_verdict rs_wire_parse_ref(const uint8_t *wire, size_t len,
				       uint16_t id, const struct rs_question *q,
				       struct rs_answer *ans, bool *enomem);

#endif /* RS_WIRE_REF_H */
