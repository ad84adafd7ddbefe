/*
 * ds_input.c - the scanner's inputs (see ds_input.h).
 *
 * A reader is three layers, bottom up:
 *  - the source: read(2) on the file descriptor, once per refill (a pipe
 *    hands over what it holds; nothing waits for a full buffer), inflated
 *    with zlib when the first two bytes are the gzip magic (compression is
 *    found from the content, never the name; members may follow each
 *    other; a stream cut short is an error).  Every decompressed byte is fed to SHA-256 as
 *    it is read, so the digest covers exactly what was parsed.
 *  - the peek buffer: what format detection read ahead, served before the
 *    source, so detection never seeks (stdin may be a pipe).
 *  - a stdio FILE over both (glibc fopencookie).  Lists are read from it
 *    with getc_unlocked() into a fixed line buffer: an endless line costs
 *    time, not memory.  Zone files are read from it by ds_input_zone.c,
 *    one record of bounded size at a time.
 */
#define _GNU_SOURCE /* fopencookie, memfd_create */

#include "ds_input.h"
#include "ds_input_zone.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <idn2.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "st_error.h"

#define LINE_MAX_LEN 4096         /* a longer list line is an item error */
#define RAW_MAX 255               /* item.raw is cut to this */
#define LABEL_MAX 63              /* RFC 1035 §2.3.4 */
#define PEEK_MAX (64 * 1024)      /* detection reads ahead at most this */
#define STDIO_BUF (64 * 1024)
#define GZ_BUF (128 * 1024)
#define BUF_MIN 4096              /* buffers for a small input */
/* A name with non-ASCII bytes longer than this cannot be a name. */
#define IDN_IN_MAX 1024

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

#define WHY_TOO_LONG "name longer than 253 bytes"

struct ds_input {
	enum ds_input_format fmt;
	int fd;                   /* owned */
	int cancel_fd;            /* readable: stop waiting for input; -1 */
	/* raw bytes read from fd and not yet consumed */
	unsigned char *ibuf;
	size_t ilen, ipos, icap;
	bool ieof;
	uint64_t consumed;        /* raw bytes read from fd */
	int gzip;                 /* -1 not yet known, 0 plain, 1 gzip */
	z_stream zs;
	bool zinit, zend;         /* inflate set up; at the end of a member */
	FILE *fp;                 /* the cookie stream over peek + source */
	EVP_MD_CTX *sha, *sha_tmp;
	uint64_t size;
	/* the source, driven by the cookie */
	char *peek;
	size_t peek_len, peek_pos, peek_cap;
	int src_err;              /* sticky: ST_EIO once the source failed */
	char src_why[96];         /* what failed, for ds_input_why() */
	uint64_t nbytes;          /* decompressed bytes read */
	int last_byte;            /* last byte read, -1 before the first */
	/* the reader */
	int state;                /* 1 reading, 0 ended, < 0 failed */
	uint64_t lines;
	char line[LINE_MAX_LEN + 1];
	char raw[RAW_MAX + 1];
	char domain[DS_NAME_MAX + 1];
	struct ds_zone *zone;      /* the zone reader, DS_FMT_ZONE only */
};

/* --- names ---------------------------------------------------------- */

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Cut blanks from both ends of s[0..*len); returns the new start. */
static const char *trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_blank((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_blank((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

static int name_fail(char *out, const char **why, const char *reason)
{
	out[0] = '\0';
	if (why != NULL)
		*why = reason;
	return ST_EPARSE;
}

/*
 * The ASCII path: lower-case s into out and check it (ds_input.h: 1 to 253
 * bytes, 2+ labels of 1 to 63 bytes of [a-z0-9_-], no hyphen at either end
 * of a label; RFC 1035 §2.3.1, RFC 1123 §2.1).  No allocation: this runs
 * for every name of the input.
 */
/*
 * What the character rules let through but is no host name:
 *  - an address literal (192.0.2.1) or any all-numeric last label (1.2):
 *    RFC 3696 §2 "There is an additional rule that essentially requires
 *    that top-level domain names not be all-numeric";
 *  - an A-label that does not decode to a valid U-label (xn--zz, xn--a):
 *    RFC 5890 §2.3.2.1, checked by libidn2's IDNA2008 lookup.
 * name is the lower-cased name of len bytes, NUL-terminated.
 */
static int name_final_checks(char *name, size_t len, const char **why)
{
	const char *tld = memrchr(name, '.', len);
	bool digits = true;
	struct in_addr a4;
	uint8_t *res = NULL;
	int rc;

	tld = tld != NULL ? tld + 1 : name;
	for (const char *p = tld; *p != '\0' && digits; p++)
		digits = *p >= '0' && *p <= '9';
	if (digits)
		return name_fail(name, why, inet_pton(AF_INET, name, &a4) == 1
				 ? "an IP address, not a domain name"
				 : "all-numeric top-level label");
	if (strstr(name, "xn--") == NULL)
		return ST_OK; /* the common case: no allocation */
	rc = idn2_lookup_u8((const uint8_t *)name, &res,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	idn2_free(res);
	if (rc == IDN2_MALLOC) {
		name[0] = '\0';
		if (why != NULL)
			*why = "out of memory";
		return ST_ENOMEM;
	}
	if (rc != IDN2_OK)
		return name_fail(name, why, "IDNA: invalid A-label");
	return ST_OK;
}

static int name_ascii(const unsigned char *s, size_t len, char *out,
		      const char **why)
{
	size_t label = 0, labels = 1;

	if (len == 0)
		return name_fail(out, why, "empty name");
	if (len > DS_NAME_MAX)
		return name_fail(out, why, WHY_TOO_LONG);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_') {
			out[i] = (char)c;
		} else if (c >= 'A' && c <= 'Z') {
			out[i] = (char)(c + ('a' - 'A'));
		} else if (c == '-') {
			if (label == 0)
				return name_fail(out, why,
						 "label starts with a hyphen");
			out[i] = '-';
		} else if (c == '.') {
			if (label == 0)
				return name_fail(out, why, "empty label");
			if (out[i - 1] == '-')
				return name_fail(out, why,
						 "label ends with a hyphen");
			out[i] = '.';
			label = 0;
			labels++;
			continue;
		} else if (c == ' ' || c == '\t') {
			return name_fail(out, why, "blank inside name");
		} else if (c < 0x20 || c == 0x7f) {
			return name_fail(out, why, "control character");
		} else {
			return name_fail(out, why, "invalid character");
		}
		label++;
		if (label > LABEL_MAX)
			return name_fail(out, why,
					 "label longer than 63 bytes");
	}
	if (label == 0)
		return name_fail(out, why, "empty label");
	if (out[len - 1] == '-')
		return name_fail(out, why, "label ends with a hyphen");
	if (labels < 2)
		return name_fail(out, why, "single label");
	out[len] = '\0';
	return name_final_checks(out, len, why);
}

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF) without ASCII control characters or blanks; NULL if fine,
 * else the reason. */
static const char *utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			if (c == ' ' || c == '\t')
				return "blank inside name";
			if (c < 0x20 || c == 0x7f)
				return "control character";
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return "invalid UTF-8";
		}
		if (len - i < n)
			return "invalid UTF-8";
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "invalid UTF-8";
		i += n;
	}
	return NULL;
}

static const char *idn2_reason(int rc)
{
	switch (rc) {
	case IDN2_ENCODING_ERROR:
		return "IDNA: invalid UTF-8";
	case IDN2_TOO_BIG_DOMAIN:
		return WHY_TOO_LONG;
	case IDN2_TOO_BIG_LABEL:
		return "label longer than 63 bytes";
	case IDN2_DISALLOWED:
	case IDN2_INVALID_NONTRANSITIONAL:
	case IDN2_INVALID_TRANSITIONAL:
		return "IDNA: disallowed code point";
	case IDN2_UNASSIGNED:
		return "IDNA: unassigned code point";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTO_NO_RULE:
		return "IDNA: contextual rule violated";
	case IDN2_BIDI:
		return "IDNA: bidi rule violated";
	case IDN2_LEADING_COMBINING:
		return "IDNA: leading combining mark";
	case IDN2_2HYPHEN:
		return "IDNA: hyphens in positions 3 and 4";
	case IDN2_HYPHEN_STARTEND:
		return "label starts or ends with a hyphen";
	case IDN2_INVALID_ALABEL:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
	case IDN2_UALABEL_MISMATCH:
		return "IDNA: invalid A-label";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_PUNYCODE_OVERFLOW:
		return "IDNA: punycode failure";
	default:
		return "IDNA: invalid name";
	}
}

/* The IDN path: UTS #46 non-transitional mapping and IDNA2008 checks by
 * libidn2 turn U-labels into A-labels, then the ASCII rules apply. */
static int name_idn(const char *s, size_t len, char *out, const char **why)
{
	char buf[IDN_IN_MAX + 1];
	uint8_t *res = NULL;
	const char *bad;
	int rc, ret;

	if (len > IDN_IN_MAX)
		return name_fail(out, why, WHY_TOO_LONG);
	bad = utf8_check((const unsigned char *)s, len);
	if (bad != NULL)
		return name_fail(out, why, bad);
	memcpy(buf, s, len);
	buf[len] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)buf, &res,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc == IDN2_MALLOC) {
		out[0] = '\0';
		if (why != NULL)
			*why = "out of memory";
		return ST_ENOMEM;
	}
	if (rc != IDN2_OK)
		return name_fail(out, why, idn2_reason(rc));
	ret = name_ascii(res, strlen((const char *)res), out, why);
	idn2_free(res);
	return ret;
}

int ds_name_normalise(const char *in, size_t len, char *out, const char **why)
{
	const char *s;
	unsigned char high = 0;

	if (in == NULL || out == NULL)
		return ST_EINVAL;
	s = trim(in, &len);
	if (len > 0 && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++)
		high |= (unsigned char)s[i];
	if (high & 0x80)
		return name_idn(s, len, out, why);
	return name_ascii((const unsigned char *)s, len, out, why);
}

/* --- shards ---------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint32_t ds_shard_of(const char *name, uint32_t n)
{
	if (n <= 1 || name == NULL)
		return 0;
	return (uint32_t)(fnv1a(name, strlen(name)) % n);
}

/* Decimal digits only, no sign, fits 32 bits; the end in *end. */
static bool parse_u32(const char *s, uint32_t *v, const char **end)
{
	uint64_t x = 0;
	size_t i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > UINT32_MAX)
			return false;
	}
	*v = (uint32_t)x;
	*end = s + i;
	return i > 0;
}

int ds_shard_parse(const char *s, uint32_t *index, uint32_t *count)
{
	uint32_t i, n;
	const char *p;

	if (s == NULL || index == NULL || count == NULL)
		return ST_EINVAL;
	if (!parse_u32(s, &i, &p) || *p != '/')
		return ST_EINVAL;
	if (!parse_u32(p + 1, &n, &p) || *p != '\0')
		return ST_EINVAL;
	if (n < 1 || i >= n)
		return ST_EINVAL;
	*index = i;
	*count = n;
	return ST_OK;
}

/* --- formats --------------------------------------------------------- */

static const char *const fmt_names[] = {
	[DS_FMT_AUTO] = "auto",
	[DS_FMT_LIST] = "list",
	[DS_FMT_TRANCO] = "tranco",
	[DS_FMT_ZONE] = "zone",
};

int ds_input_format_from_name(const char *name, enum ds_input_format *out)
{
	if (name == NULL || out == NULL)
		return ST_EINVAL;
	for (size_t i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++) {
		if (strcmp(name, fmt_names[i]) == 0) {
			*out = (enum ds_input_format)i;
			return ST_OK;
		}
	}
	return ST_EINVAL;
}

const char *ds_input_format_name(enum ds_input_format fmt)
{
	if ((unsigned)fmt >= sizeof(fmt_names) / sizeof(fmt_names[0]))
		return "unknown";
	return fmt_names[fmt];
}

/* --- the source ------------------------------------------------------ */

/* Keep the first reason the source failed (later ones follow from it). */
static void src_fail(struct ds_input *in, const char *why)
{
	if (in->src_why[0] == '\0')
		snprintf(in->src_why, sizeof(in->src_why), "%s", why);
}

/*
 * Read more raw bytes after those not yet consumed: one read(2), which
 * returns what a pipe holds now rather than waiting for a full buffer, so
 * a slow writer's lines are parsed as they come.  With a cancel fd, wait
 * in poll(2) for either; the cancel fd readable ends the input (ST_EIO,
 * the caller knows why).  Returns ST_OK (in->ieof at the end) or ST_EIO.
 */
static int raw_more(struct ds_input *in)
{
	ssize_t n;

	if (in->ipos > 0) {
		memmove(in->ibuf, in->ibuf + in->ipos, in->ilen - in->ipos);
		in->ilen -= in->ipos;
		in->ipos = 0;
	}
	for (;;) {
		if (in->cancel_fd >= 0) {
			struct pollfd p[2] = {
				{ .fd = in->fd, .events = POLLIN },
				{ .fd = in->cancel_fd, .events = POLLIN },
			};

			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				return ST_EIO;
			}
			if (p[1].revents != 0)
				return ST_EIO;
		}
		n = read(in->fd, in->ibuf + in->ilen, in->icap - in->ilen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			src_fail(in, strerror(errno));
			return ST_EIO;
		}
		break;
	}
	if (n == 0)
		in->ieof = true;
	in->ilen += (size_t)n;
	in->consumed += (uint64_t)n;
	return ST_OK;
}

/* Plain or gzip (RFC 1952 magic 1f 8b), from the first two bytes. */
static int src_decide(struct ds_input *in)
{
	while (in->ilen - in->ipos < 2 && !in->ieof)
		if (raw_more(in) != ST_OK)
			return ST_EIO;
	in->gzip = in->ilen - in->ipos >= 2 && in->ibuf[in->ipos] == 0x1f &&
		   in->ibuf[in->ipos + 1] == 0x8b;
	if (in->gzip) {
		/* 15 + 16: a gzip wrapper, the largest window. */
		if (inflateInit2(&in->zs, 15 + 16) != Z_OK)
			return ST_EIO;
		in->zinit = true;
	}
	return ST_OK;
}

/* Inflate into buf: the count, 0 at the clean end of the last member, or
 * ST_EIO for corrupt data or a stream cut short. */
static int src_inflate(struct ds_input *in, unsigned char *buf, size_t size)
{
	for (;;) {
		size_t avail = in->ilen - in->ipos, out;
		int r;

		if (avail == 0) {
			if (in->ieof && in->zend)
				return 0;
			if (in->ieof) {
				src_fail(in, "unexpected end of gzip data");
				return ST_EIO;
			}
			if (raw_more(in) != ST_OK)
				return ST_EIO;
			continue;
		}
		if (in->zend) { /* RFC 1952 §2.2: members follow each other */
			if (inflateReset(&in->zs) != Z_OK)
				return ST_EIO;
			in->zend = false;
		}
		in->zs.next_in = in->ibuf + in->ipos;
		in->zs.avail_in = (uInt)avail;
		in->zs.next_out = buf;
		in->zs.avail_out = (uInt)size;
		r = inflate(&in->zs, Z_NO_FLUSH);
		in->ipos = in->ilen - in->zs.avail_in;
		out = size - in->zs.avail_out;
		if (r == Z_STREAM_END) {
			in->zend = true;
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			src_fail(in, in->zs.msg != NULL ? in->zs.msg
				 : "corrupt gzip data");
			return ST_EIO;
		}
		if (out > 0)
			return (int)out;
	}
}

/* Read up to size decompressed bytes into buf and hash them.  Returns the
 * count, 0 at the end, -1 on a read error or a corrupt or truncated gzip
 * stream (sticky, as in->src_err). */
static int gz_fill(struct ds_input *in, void *buf, size_t size)
{
	int n;

	if (in->src_err != ST_OK)
		return -1;
	if (size > GZ_BUF)
		size = GZ_BUF;
	if (in->gzip < 0 && src_decide(in) != ST_OK)
		goto fail;
	if (in->gzip) {
		n = src_inflate(in, buf, size);
		if (n < 0)
			goto fail;
	} else {
		if (in->ipos == in->ilen && !in->ieof &&
		    raw_more(in) != ST_OK)
			goto fail;
		n = (int)(in->ilen - in->ipos < size ? in->ilen - in->ipos
			  : size);
		memcpy(buf, in->ibuf + in->ipos, (size_t)n);
		in->ipos += (size_t)n;
	}
	if (n == 0)
		return 0;
	if (EVP_DigestUpdate(in->sha, buf, (size_t)n) != 1)
		goto fail;
	in->nbytes += (uint64_t)n;
	in->last_byte = ((unsigned char *)buf)[n - 1];
	return n;
fail:
	in->src_err = ST_EIO;
	return -1;
}

/* The cookie's read: the peek buffer first, then the source. */
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
	struct ds_input *in = cookie;
	size_t n;
	int got;

	if (size == 0)
		return 0;
	if (in->peek_pos < in->peek_len) {
		n = in->peek_len - in->peek_pos;
		if (n > size)
			n = size;
		memcpy(buf, in->peek + in->peek_pos, n);
		in->peek_pos += n;
		return (ssize_t)n;
	}
	got = gz_fill(in, buf, size);
	return got < 0 ? -1 : got;
}

/* --- format detection ------------------------------------------------ */

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* A class or type mnemonic (RFC 1035 §5.1, RFC 3597 CLASSnn / TYPEnn)? */
static bool is_rr_word(const char *s, size_t len)
{
	char w[16];

	if (len == 0 || len >= sizeof(w))
		return false;
	memcpy(w, s, len);
	w[len] = '\0';
	return ldns_get_rr_class_by_name(w) != 0 ||
	       ldns_get_rr_type_by_name(w) != 0;
}

/* A resource record's shape: two or more fields, a class or a type among
 * the first four (owner, TTL, class and type in any RFC 1035 order). */
static bool has_rr_shape(const char *s, size_t len)
{
	size_t i = 0, fields = 0;
	bool word = false;

	while (i < len && fields < 4 && s[i] != ';') {
		size_t start;

		while (i < len && is_blank((unsigned char)s[i]))
			i++;
		if (i == len || s[i] == ';')
			break;
		start = i;
		while (i < len && !is_blank((unsigned char)s[i]) && s[i] != ';')
			i++;
		fields++;
		if (is_rr_word(s + start, i - start))
			word = true;
	}
	return word && fields >= 2;
}

/* "digits,something" or "\"digits\",something": a ranked list line. */
static bool is_tranco_line(const char *s, size_t len)
{
	const char *comma = memchr(s, ',', len), *f = s;
	size_t flen = comma != NULL ? (size_t)(comma - s) : 0;

	if (flen >= 2 && f[0] == '"' && f[flen - 1] == '"') {
		f++;
		flen -= 2;
	}
	return comma != NULL && comma + 1 < s + len && all_digits(f, flen);
}

/* "word,word" at line 1: a CSV header, skipped to find the first record. */
static bool is_csv_header(const char *s, size_t len)
{
	const char *comma = memchr(s, ',', len);

	return comma != NULL && !all_digits(s, (size_t)(comma - s));
}

static void strip_bom(const char **s, size_t *len)
{
	if (*len >= 3 && memcmp(*s, "\xef\xbb\xbf", 3) == 0) {
		*s += 3;
		*len -= 3;
	}
}

/*
 * Decide the format from the first significant line of buf[0..len): blank
 * lines and '#' or ';' comments are skipped, and so is a CSV header on line
 * 1 (a ranked list with column names).  Returns false if that line is not
 * complete yet and more input may follow (final is false).
 */
static bool detect_from(const char *buf, size_t len, bool final,
			enum ds_input_format *fmt)
{
	size_t pos = 0;
	uint64_t line = 0;

	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n;

		if (nl == NULL && !final)
			return false;
		n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + 1;
		line++;
		if (line == 1)
			strip_bom(&s, &n);
		s = trim(s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue;
		if (line == 1 && s[0] != '$' && !has_rr_shape(s, n) &&
		    is_csv_header(s, n))
			continue;
		if (s[0] == '$' || has_rr_shape(s, n))
			*fmt = DS_FMT_ZONE;
		else if (is_tranco_line(s, n))
			*fmt = DS_FMT_TRANCO;
		else
			*fmt = DS_FMT_LIST;
		return true;
	}
	if (!final)
		return false;
	*fmt = DS_FMT_LIST;
	return true;
}

/* Make room in the peek buffer: it starts small and doubles up to
 * PEEK_MAX, so detecting a small input costs little. */
static int peek_grow(struct ds_input *in)
{
	size_t cap = in->peek_cap == 0 ? BUF_MIN : in->peek_cap * 2;
	char *p;

	if (cap > PEEK_MAX)
		cap = PEEK_MAX;
	p = realloc(in->peek, cap);
	if (p == NULL)
		return ST_ENOMEM;
	in->peek = p;
	in->peek_cap = cap;
	return ST_OK;
}

/* Read ahead into the peek buffer until the format is known.  A read
 * error is left in in->src_err for ds_input_next() to report. */
static int detect(struct ds_input *in)
{
	enum ds_input_format fmt = DS_FMT_LIST;

	for (;;) {
		int n;

		if (detect_from(in->peek, in->peek_len, false, &fmt))
			break;
		if (in->peek_len == PEEK_MAX) {
			detect_from(in->peek, in->peek_len, true, &fmt);
			break;
		}
		if (in->peek_len == in->peek_cap && peek_grow(in) != ST_OK)
			return ST_ENOMEM;
		n = gz_fill(in, in->peek + in->peek_len,
			    in->peek_cap - in->peek_len);
		if (n <= 0) {
			detect_from(in->peek, in->peek_len, true, &fmt);
			break;
		}
		in->peek_len += (size_t)n;
	}
	in->fmt = fmt;
	return ST_OK;
}

/* --- opening and closing --------------------------------------------- */

/* A buffer size for an input of size bytes (0: unknown, a pipe): the full
 * size for big or unknown inputs, less for small ones (tests, fuzzing). */
static size_t buf_size(uint64_t size, size_t full)
{
	size_t n = BUF_MIN;

	if (size == 0 || size >= full)
		return full;
	while (n < size)
		n *= 2;
	return n;
}

/* Build a reader over fd, which it owns from now on (closed on failure). */
static int input_new(int fd, int cancel_fd, uint64_t size,
		     enum ds_input_format fmt, struct ds_input **out)
{
	static const cookie_io_functions_t io = { .read = cookie_read };
	struct ds_input *in;
	int ret = ST_ENOMEM;

	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		close(fd);
		return ST_ENOMEM;
	}
	in->fd = fd;
	in->size = size;
	in->fmt = fmt;
	in->last_byte = -1;
	in->state = 1;
	in->cancel_fd = cancel_fd;
	in->gzip = -1;
	in->icap = buf_size(size, GZ_BUF);
	in->ibuf = malloc(in->icap);
	if (in->ibuf == NULL)
		goto fail;
	in->sha = EVP_MD_CTX_new();
	in->sha_tmp = EVP_MD_CTX_new();
	if (in->sha == NULL || in->sha_tmp == NULL)
		goto fail;
	if (EVP_DigestInit_ex(in->sha, EVP_sha256(), NULL) != 1) {
		ret = ST_EIO;
		goto fail;
	}
	if (fmt == DS_FMT_AUTO) {
		ret = detect(in);
		if (ret != ST_OK)
			goto fail;
		ret = ST_ENOMEM;
	}
	in->fp = fopencookie(in, "r", io);
	if (in->fp == NULL)
		goto fail;
	if (setvbuf(in->fp, NULL, _IOFBF, buf_size(size, STDIO_BUF)) != 0)
		goto fail;
	if (in->fmt == DS_FMT_ZONE && ds_zone_new(&in->zone) != ST_OK)
		goto fail;
	*out = in;
	return ST_OK;
fail:
	ds_input_close(in);
	return ret;
}

int ds_input_open(const char *path, enum ds_input_format fmt,
		  struct ds_input **out)
{
	return ds_input_open_cancel(path, fmt, -1, out);
}

int ds_input_open_cancel(const char *path, enum ds_input_format fmt,
			 int cancel_fd, struct ds_input **out)
{
	struct stat st;
	uint64_t size = 0;
	int fd;

	if (path == NULL || out == NULL || (unsigned)fmt > DS_FMT_ZONE)
		return ST_EINVAL;
	*out = NULL;
	if (strcmp(path, "-") == 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ST_ENOENT;
		return errno == ENOMEM ? ST_ENOMEM : ST_EIO;
	}
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return ST_EIO;
	}
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	return input_new(fd, cancel_fd, size, fmt, out);
}

int ds_input_open_memory(const void *buf, size_t len,
			 enum ds_input_format fmt, struct ds_input **out)
{
	const char *p = buf;
	size_t done = 0;
	int fd;

	if ((buf == NULL && len > 0) || out == NULL ||
	    (unsigned)fmt > DS_FMT_ZONE)
		return ST_EINVAL;
	*out = NULL;
	fd = memfd_create("ds_input", MFD_CLOEXEC);
	if (fd < 0)
		return errno == ENOMEM ? ST_ENOMEM : ST_EIO;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return ST_EIO;
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return ST_EIO;
	}
	return input_new(fd, -1, len, fmt, out);
}

void ds_input_close(struct ds_input *in)
{
	if (in == NULL)
		return;
	if (in->fp != NULL)
		fclose(in->fp);
	if (in->zinit)
		inflateEnd(&in->zs);
	free(in->ibuf);
	if (in->fd >= 0)
		close(in->fd);
	EVP_MD_CTX_free(in->sha);
	EVP_MD_CTX_free(in->sha_tmp);
	free(in->peek);
	ds_zone_free(in->zone);
	free(in);
}

/* --- items ----------------------------------------------------------- */

/* item.raw: at most RAW_MAX bytes, unprintable bytes as '?'. */
static void set_raw(struct ds_input *in, const char *s, size_t len)
{
	if (len > RAW_MAX)
		len = RAW_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		in->raw[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	in->raw[len] = '\0';
}

static int item_error(struct ds_input *in, struct ds_input_item *item,
		      uint64_t line, const char *why)
{
	in->domain[0] = '\0';
	item->error = ST_EPARSE;
	item->why = why;
	item->domain = in->domain;
	item->raw = in->raw;
	item->rank = 0;
	item->line = line;
	return 1;
}

/* Normalise s into an item (a good one, or one with the reason). */
static int item_name(struct ds_input *in, struct ds_input_item *item,
		     const char *s, size_t len, uint64_t line, uint64_t rank)
{
	const char *why = NULL;

	set_raw(in, s, len);
	if (ds_name_normalise(s, len, in->domain, &why) != ST_OK) {
		item_error(in, item, line, why != NULL ? why : "bad name");
		item->rank = rank;
		return 1;
	}
	item->error = ST_OK;
	item->why = NULL;
	item->domain = in->domain;
	item->raw = in->raw;
	item->rank = rank;
	item->line = line;
	return 1;
}

/* --- lists and ranked lists ------------------------------------------ */

/*
 * Read one line into in->line (without its '\n'; NUL bytes kept, so the
 * length is *len).  A line longer than LINE_MAX_LEN is read to its end and
 * dropped: *too_long.  Returns 1 for a line, 0 at the end, or the source's
 * error.
 */
static int read_line(struct ds_input *in, size_t *len, bool *too_long)
{
	size_t n = 0;
	bool any = false;
	int c;

	*too_long = false;
	for (;;) {
		c = getc_unlocked(in->fp);
		if (c == EOF || c == '\n')
			break;
		any = true;
		if (n < LINE_MAX_LEN)
			in->line[n++] = (char)c;
		else
			*too_long = true;
	}
	if (in->src_err != ST_OK)
		return in->src_err;
	if (c == EOF && !any)
		return 0;
	in->line[n] = '\0';
	*len = n;
	in->lines++;
	return 1;
}

/* Ranks are 1-based; 20 digits at most, no overflow. */
static bool parse_rank(const char *s, size_t len, uint64_t *rank)
{
	uint64_t x = 0;

	if (len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*rank = x;
	return x > 0;
}

/*
 * The next field of a CSV line s[0..len) from *pos (RFC 4180 §2: fields
 * separated by commas; a field in double quotes may hold commas, and a
 * double quote inside one is written twice).  The field's text, unquoted,
 * goes to buf (cap bytes, blanks around an unquoted field trimmed) and
 * *pos moves past the comma after it.  Returns the field's length, or -1
 * for an unterminated quote or a field over cap.
 */
static ssize_t csv_field(const char *s, size_t len, size_t *pos, char *buf,
			 size_t cap)
{
	size_t i = *pos, n = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '"') {
		for (i++;; i++) {
			if (i >= len)
				return -1;
			if (s[i] == '"' && (i + 1 >= len || s[i + 1] != '"'))
				break;
			if (s[i] == '"')
				i++; /* "" is one quote */
			if (n >= cap)
				return -1;
			buf[n++] = s[i];
		}
		i++;
		while (i < len && s[i] != ',')
			i++; /* after the closing quote: only blanks, by rule */
	} else {
		size_t start = i, flen;
		const char *f;

		while (i < len && s[i] != ',')
			i++;
		flen = i - start;
		f = trim(s + start, &flen);
		if (flen > cap)
			return -1;
		memcpy(buf, f, flen);
		n = flen;
	}
	*pos = i < len ? i + 1 : len;
	return (ssize_t)n;
}

/*
 * "rank,domain[,more...]" as ranked top lists publish it: RFC 4180 quoting
 * on any field, extra columns ignored.  Returns 1 with an item, 0 for the
 * header line.
 */
static int tranco_item(struct ds_input *in, struct ds_input_item *item,
		       const char *s, size_t len, uint64_t line)
{
	char rank_f[32], name_f[LINE_MAX_LEN];
	size_t pos = 0;
	ssize_t rlen, nlen;
	uint64_t rank = 0;
	bool more;

	rlen = csv_field(s, len, &pos, rank_f, sizeof(rank_f));
	more = memchr(s, ',', len) != NULL;
	if (rlen < 0 || !all_digits(rank_f, (size_t)rlen) || rlen == 0) {
		if (line == 1)
			return 0;
		set_raw(in, s, len);
		return item_error(in, item, line, !more
				  ? "tranco: no comma" : "tranco: bad rank");
	}
	if (!parse_rank(rank_f, (size_t)rlen, &rank)) {
		set_raw(in, s, len);
		return item_error(in, item, line, "tranco: bad rank");
	}
	if (!more) {
		set_raw(in, s, len);
		return item_error(in, item, line, "tranco: no comma");
	}
	nlen = csv_field(s, len, &pos, name_f, sizeof(name_f));
	if (nlen < 0) {
		set_raw(in, s, len);
		return item_error(in, item, line, "tranco: unterminated quote");
	}
	return item_name(in, item, name_f, (size_t)nlen, line, rank);
}

static int list_next(struct ds_input *in, struct ds_input_item *item)
{
	for (;;) {
		const char *s = in->line;
		size_t len = 0;
		bool too_long;
		int ret = read_line(in, &len, &too_long);

		if (ret <= 0)
			return ret;
		if (in->lines == 1)
			strip_bom(&s, &len);
		s = trim(s, &len);
		if (too_long) {
			set_raw(in, s, len);
			return item_error(in, item, in->lines,
					  "line longer than 4096 bytes");
		}
		if (len == 0 || s[0] == '#')
			continue;
		if (in->fmt == DS_FMT_TRANCO) {
			ret = tranco_item(in, item, s, len, in->lines);
			if (ret == 0)
				continue;
			return ret;
		}
		return item_name(in, item, s, len, in->lines, 0);
	}
}

/* --- zone files ------------------------------------------------------ */

/* The zone reader (ds_input_zone.c) reads the stream; this side turns its
 * outcome into an item. */
static int zone_next(struct ds_input *in, struct ds_input_item *item)
{
	struct ds_zone_rec r;
	int ret = ds_zone_next(in->zone, in->fp, &r);

	in->lines = ds_zone_lines(in->zone);
	if (in->src_err != ST_OK)
		return in->src_err;
	if (ret <= 0)
		return ret;
	if (r.why != NULL) {
		set_raw(in, r.text, r.len);
		return item_error(in, item, r.line, r.why);
	}
	return item_name(in, item, r.text, r.len, r.line, 0);
}

/* --- reading --------------------------------------------------------- */

int ds_input_next(struct ds_input *in, struct ds_input_item *item)
{
	int ret;

	if (in == NULL || item == NULL)
		return ST_EINVAL;
	if (in->state <= 0)
		return in->state;
	if (in->fmt == DS_FMT_ZONE)
		ret = zone_next(in, item);
	else
		ret = list_next(in, item);
	if (ret <= 0)
		in->state = ret;
	return ret;
}

enum ds_input_format ds_input_format(const struct ds_input *in)
{
	return in != NULL ? in->fmt : DS_FMT_AUTO;
}

uint64_t ds_input_offset(const struct ds_input *in)
{
	if (in == NULL)
		return 0;
	return in->consumed - (in->ilen - in->ipos);
}

const char *ds_input_why(const struct ds_input *in)
{
	return in != NULL ? in->src_why : "";
}

uint64_t ds_input_size(const struct ds_input *in)
{
	return in != NULL ? in->size : 0;
}

uint64_t ds_input_lines(const struct ds_input *in)
{
	return in != NULL ? in->lines : 0;
}

void ds_input_digest(const struct ds_input *in, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (in == NULL || EVP_MD_CTX_copy_ex(in->sha_tmp, in->sha) != 1 ||
	    EVP_DigestFinal_ex(in->sha_tmp, md, &n) != 1 || n != 32) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}

/* --- exclusion lists ------------------------------------------------- */

#define EX_SELF 1u  /* the name itself */
#define EX_BELOW 2u /* every name below it */

struct ex_entry {
	char *name;   /* NULL: a free slot */
	size_t len;
	uint64_t hash;
	unsigned flags;
};

struct ds_exclude {
	struct ex_entry *tab; /* open addressing, linear probing */
	size_t cap;           /* a power of two, at least twice used */
	size_t used;
	size_t count;
};

/* The slot holding name, or the free slot where it would go. */
static struct ex_entry *ex_slot(const struct ds_exclude *ex, const char *name,
				size_t len, uint64_t hash)
{
	size_t mask = ex->cap - 1;

	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		struct ex_entry *e = &ex->tab[i];

		if (e->name == NULL)
			return e;
		if (e->hash == hash && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			return e;
	}
}

static int ex_grow(struct ds_exclude *ex)
{
	struct ex_entry *old = ex->tab;
	size_t old_cap = ex->cap;
	size_t cap = old_cap == 0 ? 64 : old_cap * 2;

	ex->tab = calloc(cap, sizeof(*ex->tab));
	if (ex->tab == NULL) {
		ex->tab = old;
		return ST_ENOMEM;
	}
	ex->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].name != NULL)
			*ex_slot(ex, old[i].name, old[i].len, old[i].hash) =
				old[i];
	}
	free(old);
	return ST_OK;
}

/* Add a normalised name with flags; counts the entries that changed. */
static int ex_add(struct ds_exclude *ex, const char *name, unsigned flags)
{
	size_t len = strlen(name);
	uint64_t hash = fnv1a(name, len);
	struct ex_entry *e;
	int ret;

	if ((ex->used + 1) * 2 > ex->cap) {
		ret = ex_grow(ex);
		if (ret != ST_OK)
			return ret;
	}
	e = ex_slot(ex, name, len, hash);
	if (e->name == NULL) {
		e->name = malloc(len + 1);
		if (e->name == NULL)
			return ST_ENOMEM;
		memcpy(e->name, name, len + 1);
		e->len = len;
		e->hash = hash;
		e->flags = 0;
		ex->used++;
	}
	if ((e->flags | flags) != e->flags)
		ex->count++;
	e->flags |= flags;
	return ST_OK;
}

int ds_suffix_normalise(const char *s, size_t len, char *out,
			const char **why)
{
	char two[DS_NAME_MAX + 8], norm[DS_NAME_MAX + 1];
	int n;

	if (memchr(s, '.', len) != NULL && !(len > 0 && s[len - 1] == '.' &&
					     memchr(s, '.', len - 1) == NULL))
		return ds_name_normalise(s, len, out, why);
	/* ds_name_normalise() wants two labels: one is lent to a bare one. */
	n = snprintf(two, sizeof(two), "x.%.*s", (int)len, s);
	if (n < 0 || (size_t)n >= sizeof(two)) {
		if (why != NULL)
			*why = "name too long";
		return ST_EINVAL;
	}
	if (ds_name_normalise(two, (size_t)n, norm, why) != ST_OK)
		return ST_EINVAL;
	memcpy(out, norm + 2, strlen(norm + 2) + 1);
	return ST_OK;
}

/* One line of an exclusion list: an entry, a comment or nothing.  ST_OK,
 * ST_EINVAL with *why, or ST_ENOMEM. */
static int ex_line(struct ds_exclude *ex, const char *s, size_t len,
		   const char **why)
{
	char name[DS_NAME_MAX + 1];
	unsigned flags = EX_SELF | EX_BELOW;
	const char *hash = memchr(s, '#', len);

	if (hash != NULL)
		len = (size_t)(hash - s);
	s = trim(s, &len);
	if (len == 0)
		return ST_OK;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			*why = "more than a name on the line (one name a line; "
			       "a comment starts with '#')";
			return ST_EINVAL;
		}
	}
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
		flags = EX_BELOW;
	}
	if (ds_suffix_normalise(s, len, name, why) != ST_OK)
		return ST_EINVAL;
	return ex_add(ex, name, flags);
}

static void list_error(struct ds_list_error *err, uint64_t line,
		       const char *why)
{
	if (err == NULL)
		return;
	err->line = line;
	snprintf(err->why, sizeof(err->why), "%s", why);
}

int ds_exclude_load(const char *path, struct ds_exclude **out,
		    struct ds_list_error *err)
{
	struct ds_exclude *ex = NULL;
	struct ds_input *in = NULL;
	uint64_t line = 0;
	const char *why = NULL;
	int ret;

	if (path == NULL || out == NULL)
		return ST_EINVAL;
	*out = NULL;
	list_error(err, 0, "");
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL)
		return ST_ENOMEM;
	ret = ex_grow(ex);
	if (ret != ST_OK)
		goto fail;
	ret = ds_input_open(path, DS_FMT_LIST, &in);
	if (ret != ST_OK) {
		list_error(err, 0, st_strerror(ret));
		if (ret != ST_ENOMEM)
			ret = ST_EIO;
		goto fail;
	}
	for (;;) {
		const char *s = in->line;
		size_t len = 0;
		bool too_long;

		ret = read_line(in, &len, &too_long);
		if (ret < 0) {
			list_error(err, line, st_strerror(ret));
			goto fail;
		}
		if (ret == 0)
			break;
		line++;
		if (too_long) {
			list_error(err, line, "line too long");
			ret = ST_EINVAL;
			goto fail;
		}
		ret = ex_line(ex, s, len, &why);
		if (ret != ST_OK) {
			list_error(err, line, ret == ST_ENOMEM
				   ? st_strerror(ret) : why);
			goto fail;
		}
	}
	*out = ex;
	ex = NULL;
	ret = ST_OK;
fail:
	ds_input_close(in);
	ds_exclude_free(ex);
	return ret;
}

static unsigned ex_flags(const struct ds_exclude *ex, const char *name,
			 size_t len)
{
	const struct ex_entry *e = ex_slot(ex, name, len, fnv1a(name, len));

	return e->name != NULL ? e->flags : 0;
}

bool ds_exclude_match(const struct ds_exclude *ex, const char *name)
{
	size_t len;

	if (ex == NULL || name == NULL || ex->used == 0)
		return false;
	len = strlen(name);
	if (ex_flags(ex, name, len) & EX_SELF)
		return true;
	/* Every proper suffix at a label boundary. */
	for (size_t i = 0; i < len; i++) {
		if (name[i] != '.')
			continue;
		if (ex_flags(ex, name + i + 1, len - i - 1) & EX_BELOW)
			return true;
	}
	return false;
}

size_t ds_exclude_count(const struct ds_exclude *ex)
{
	return ex != NULL ? ex->count : 0;
}

void ds_exclude_free(struct ds_exclude *ex)
{
	if (ex == NULL)
		return;
	for (size_t i = 0; i < ex->cap; i++)
		free(ex->tab[i].name);
	free(ex->tab);
	free(ex);
}
