/*
 * an_types.h - small value types shared by the analysis/ parsers.
 */
#ifndef AN_TYPES_H
#define AN_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* A borrowed byte string: not NUL-terminated, may contain any byte.  The
 * owner of the bytes decides how long the pointer stays valid. */
struct an_bytes {
	const uint8_t *data;
	size_t len;
};

#endif /* AN_TYPES_H */
