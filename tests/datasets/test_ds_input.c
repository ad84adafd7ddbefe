/*
 * test_ds_input.c - datasets/: input readers, name normalisation, shards
 * and exclusion lists.
 *
 * Every reader test runs on the plain bytes and on a gzip copy made here
 * with zlib, through memory and through a file, and checks each item's
 * name, reason and line number.  One test reads a ten-million-line gzip
 * list and checks that the reader's memory stays flat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <zlib.h>

#include "ds_input.h"
#include "st_error.h"

#define MAX_ITEMS 64

struct got {
	int error;
	char why[96];
	char domain[DS_NAME_MAX + 1];
	char raw[256];
	uint64_t rank;
	uint64_t line;
};

struct want {
	uint64_t line;
	const char *domain; /* NULL for an error item */
	const char *why;    /* for an error item; NULL: any reason */
	uint64_t rank;
};

static char tmp_dir[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_ds_input.XXXXXX");
	return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* CPU time: the machine may be busy with other work. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A gzip copy of data; caller frees. */
static unsigned char *gz_mem(const void *data, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = compressBound((uLong)len) + 64;
	unsigned char *out = malloc(cap);

	assert_non_null(out);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

enum via { VIA_MEM, VIA_MEM_GZ, VIA_FILE, VIA_FILE_GZ, VIA_COUNT };

static const char *const via_names[] = { "memory", "memory gzip", "file",
					 "file gzip" };

/* Open text (len bytes) the given way. */
static struct ds_input *open_via(const char *text, size_t len, enum via via,
				 enum ds_input_format fmt)
{
	struct ds_input *in = NULL;
	unsigned char *gz = NULL;
	const void *data = text;
	size_t dlen = len;
	char path[128];

	if (via == VIA_MEM_GZ || via == VIA_FILE_GZ) {
		gz = gz_mem(text, len, &dlen);
		data = gz;
	}
	if (via == VIA_MEM || via == VIA_MEM_GZ) {
		assert_int_equal(ds_input_open_memory(data, dlen, fmt, &in),
				 ST_OK);
	} else {
		/* A misleading name: detection goes by content only. */
		snprintf(path, sizeof(path), "%s/input.txt", tmp_dir);
		write_file(path, data, dlen);
		assert_int_equal(ds_input_open(path, fmt, &in), ST_OK);
		assert_int_equal(ds_input_size(in), dlen);
	}
	free(gz);
	assert_non_null(in);
	return in;
}

/* Read every item; returns how many, the final return in *end. */
static size_t collect(struct ds_input *in, struct got *g, size_t max,
		      int *end)
{
	struct ds_input_item it;
	size_t n = 0;
	int ret;

	for (;;) {
		ret = ds_input_next(in, &it);
		if (ret != 1)
			break;
		assert_true(n < max);
		g[n].error = it.error;
		snprintf(g[n].why, sizeof(g[n].why), "%s",
			 it.why != NULL ? it.why : "");
		snprintf(g[n].domain, sizeof(g[n].domain), "%s", it.domain);
		snprintf(g[n].raw, sizeof(g[n].raw), "%s", it.raw);
		g[n].rank = it.rank;
		g[n].line = it.line;
		assert_true(strlen(it.raw) <= 255);
		if (it.error == ST_OK)
			assert_null(it.why);
		else
			assert_string_equal(it.domain, "");
		n++;
	}
	*end = ret;
	/* After the end, the same answer again. */
	assert_int_equal(ds_input_next(in, &it), ret);
	return n;
}

static void check_items(const struct got *g, size_t n, const struct want *w,
			size_t nw, const char *label)
{
	if (n != nw) {
		for (size_t i = 0; i < n; i++)
			print_message("%s: item %zu line %llu err %d "
				      "'%s' '%s'\n",
				      label, i, (unsigned long long)g[i].line,
				      g[i].error, g[i].domain, g[i].why);
	}
	assert_int_equal(n, nw);
	for (size_t i = 0; i < n; i++) {
		if (g[i].line != w[i].line)
			print_message("%s: item %zu\n", label, i);
		assert_int_equal(g[i].line, w[i].line);
		assert_int_equal(g[i].rank, w[i].rank);
		if (w[i].domain != NULL) {
			assert_int_equal(g[i].error, ST_OK);
			assert_string_equal(g[i].domain, w[i].domain);
		} else {
			assert_int_equal(g[i].error, ST_EPARSE);
			assert_true(g[i].why[0] != '\0');
			if (w[i].why != NULL)
				assert_string_equal(g[i].why, w[i].why);
		}
	}
}

/* Run text through every way of opening it and check the items. */
static void run_all(const char *text, size_t len, enum ds_input_format fmt,
		    enum ds_input_format want_fmt, const struct want *w,
		    size_t nw, uint64_t lines)
{
	for (int v = 0; v < VIA_COUNT; v++) {
		struct got g[MAX_ITEMS];
		struct ds_input *in = open_via(text, len, (enum via)v, fmt);
		int end;
		size_t n;

		assert_int_equal(ds_input_format(in), want_fmt);
		n = collect(in, g, MAX_ITEMS, &end);
		assert_int_equal(end, 0);
		check_items(g, n, w, nw, via_names[v]);
		assert_int_equal(ds_input_lines(in), lines);
		ds_input_close(in);
	}
}

/* --- names ---------------------------------------------------------- */

struct name_case {
	const char *in;
	size_t len;        /* 0: strlen(in) */
	int ret;
	const char *out;   /* the name, or the reason for ST_EPARSE */
};

static const char L63[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char L64[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static void test_normalise_table(void **state)
{
	static const struct name_case cases[] = {
		{ "example.com", 0, ST_OK, "example.com" },
		{ "EXAMPLE.Com", 0, ST_OK, "example.com" },
		/* One trailing dot: the root label in presentation form. */
		{ "example.com.", 0, ST_OK, "example.com" },
		{ " \texample.com. \r\n", 0, ST_OK, "example.com" },
		{ "example.com..", 0, ST_EPARSE, "empty label" },
		{ "a..b", 0, ST_EPARSE, "empty label" },
		{ ".a.b", 0, ST_EPARSE, "empty label" },
		{ "", 0, ST_EPARSE, "empty name" },
		{ ".", 0, ST_EPARSE, "empty name" },
		{ "   ", 0, ST_EPARSE, "empty name" },
		{ "com", 0, ST_EPARSE, "single label" },
		{ "com.", 0, ST_EPARSE, "single label" },
		/* RFC 1123 §2.1: letters, digits, hyphen; '_' as in SRV. */
		{ "a-b.c0m", 0, ST_OK, "a-b.c0m" },
		{ "_mta-sts.example.com", 0, ST_OK, "_mta-sts.example.com" },
		/* RFC 3696 §2: "top-level domain names not be all-numeric";
		 * so no address literal is a name either. */
		{ "123.456", 0, ST_EPARSE, "all-numeric top-level label" },
		{ "1.2", 0, ST_EPARSE, "all-numeric top-level label" },
		{ "192.0.2.1", 0, ST_EPARSE, "an IP address, not a domain name" },
		{ "192.0.2.1.", 0, ST_EPARSE,
		  "an IP address, not a domain name" },
		{ "example.c0m", 0, ST_OK, "example.c0m" },
		{ "123.example", 0, ST_OK, "123.example" },
		/* RFC 5890 §2.3.2.1: an A-label decodes to a valid U-label
		 * (checked by libidn2's IDNA2008 lookup). */
		{ "xn--zz.test", 0, ST_EPARSE, "IDNA: invalid A-label" },
		{ "xn--a.test", 0, ST_EPARSE, "IDNA: invalid A-label" },
		{ "a.xn--zz", 0, ST_EPARSE, "IDNA: invalid A-label" },
		{ "XN--BCHER-KVA.example", 0, ST_OK, "xn--bcher-kva.example" },
		{ "xn--ls8h.test", 0, ST_EPARSE, "IDNA: invalid A-label" },
		{ "-a.com", 0, ST_EPARSE, "label starts with a hyphen" },
		{ "a.-b.com", 0, ST_EPARSE, "label starts with a hyphen" },
		{ "a-.com", 0, ST_EPARSE, "label ends with a hyphen" },
		{ "a.com-", 0, ST_EPARSE, "label ends with a hyphen" },
		{ "exa mple.com", 0, ST_EPARSE, "blank inside name" },
		{ "exa\tmple.com", 0, ST_EPARSE, "blank inside name" },
		{ "exa\x01mple.com", 0, ST_EPARSE, "control character" },
		{ "exa\x7fmple.com", 0, ST_EPARSE, "control character" },
		{ "exa\0mple.com", 12, ST_EPARSE, "control character" },
		{ "*.example.com", 0, ST_EPARSE, "invalid character" },
		{ "exa/mple.com", 0, ST_EPARSE, "invalid character" },
		{ "exa\\046mple.com", 0, ST_EPARSE, "invalid character" },
		{ "xn--bcher-kva.example", 0, ST_OK, "xn--bcher-kva.example" },
		/* RFC 5891 §4: U-labels to A-labels; UTS #46 maps case. */
		{ "b\xc3\xbc" "cher.example", 0, ST_OK,
		  "xn--bcher-kva.example" },
		{ "B\xc3\x9c" "CHER.Example.", 0, ST_OK,
		  "xn--bcher-kva.example" },
		{ "m\xc3\xbcnchen.de", 0, ST_OK, "xn--mnchen-3ya.de" },
		/* Non-transitional: sharp s is kept (IDNA2008). */
		{ "fa\xc3\x9f.de", 0, ST_OK, "xn--fa-hia.de" },
		/* NFC: u + combining diaeresis is the same name. */
		{ "bu\xcc\x88" "cher.example", 0, ST_OK,
		  "xn--bcher-kva.example" },
		{ "\xe2\x98\x83.com", 0, ST_EPARSE,
		  "IDNA: disallowed code point" },
		{ "b\xc3\xbc cher.example", 0, ST_EPARSE, "blank inside name" },
		{ "b\xc3\xbc\0.example", 13, ST_EPARSE, "control character" },
		/* RFC 3629 §3: invalid UTF-8. */
		{ "\xc3\x28.com", 0, ST_EPARSE, "invalid UTF-8" },
		{ "\xff.com", 0, ST_EPARSE, "invalid UTF-8" },
		{ "\xc0\xaf.com", 0, ST_EPARSE, "invalid UTF-8" },
		{ "\xed\xa0\x80.com", 0, ST_EPARSE, "invalid UTF-8" },
		{ "\xf4\x90\x80\x80.com", 0, ST_EPARSE, "invalid UTF-8" },
		{ "b\xc3", 0, ST_EPARSE, "invalid UTF-8" },
	};
	char out[DS_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct name_case *c = &cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->in);
		const char *why = NULL;
		int ret = ds_name_normalise(c->in, len, out, &why);

		if (ret != c->ret ||
		    strcmp(ret == ST_OK ? out : why, c->out) != 0)
			print_message("case %zu '%s': ret %d out '%s' "
				      "why '%s'\n", i, c->in, ret, out,
				      why != NULL ? why : "");
		assert_int_equal(ret, c->ret);
		assert_string_equal(ret == ST_OK ? out : why, c->out);
		/* Normalising is idempotent; failure leaves "" in out. */
		if (ret == ST_OK) {
			char again[DS_NAME_MAX + 1];

			assert_int_equal(ds_name_normalise(out, strlen(out),
							   again, NULL), ST_OK);
			assert_string_equal(again, out);
		} else {
			assert_string_equal(out, "");
		}
	}
}

/* RFC 1035 §2.3.4: labels of 63 bytes, names of 255 octets on the wire,
 * 253 in presentation form without the trailing dot. */
static void test_normalise_lengths(void **state)
{
	char name[600], out[DS_NAME_MAX + 1];
	const char *why = NULL;

	(void)state;
	snprintf(name, sizeof(name), "%s.com", L63);
	assert_int_equal(ds_name_normalise(name, strlen(name), out, &why),
			 ST_OK);
	snprintf(name, sizeof(name), "%s.com", L64);
	assert_int_equal(ds_name_normalise(name, strlen(name), out, &why),
			 ST_EPARSE);
	assert_string_equal(why, "label longer than 63 bytes");
	/* 4 x 63 + 3 dots = 255; cut to exactly 253, then 254. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", L63, L63, L63, L63);
	name[253] = '\0';
	assert_int_equal(ds_name_normalise(name, 253, out, &why), ST_OK);
	assert_int_equal(strlen(out), 253);
	name[253] = 'a';
	name[254] = '\0';
	assert_int_equal(ds_name_normalise(name, 254, out, &why), ST_EPARSE);
	assert_string_equal(why, "name longer than 253 bytes");
	/* 253 bytes and a trailing dot is still fine. */
	name[253] = '.';
	assert_int_equal(ds_name_normalise(name, 254, out, &why), ST_OK);
	/* A long IDN name. */
	snprintf(name, sizeof(name), "b\xc3\xbc%s.%s.%s.%s", L63, L63, L63,
		 L63);
	assert_int_equal(ds_name_normalise(name, strlen(name), out, &why),
			 ST_EPARSE);
	assert_int_equal(ds_name_normalise(NULL, 0, out, &why), ST_EINVAL);
	assert_int_equal(ds_name_normalise("a.b", 3, NULL, &why), ST_EINVAL);
	assert_int_equal(ds_name_normalise("a.b", 3, out, NULL), ST_OK);
}

/* How fast the ASCII path is (it runs for every input name). */
static void test_normalise_speed(void **state)
{
	enum { NAMES = 1024 };
	static char names[NAMES][48];
	size_t lens[NAMES];
	char out[DS_NAME_MAX + 1];
	const size_t n = 2000000;
	double t0, dt;
	size_t ok = 0;

	(void)state;
	for (size_t i = 0; i < NAMES; i++)
		lens[i] = (size_t)snprintf(names[i], sizeof(names[i]),
					   "Www.Domain-%zu.Example.COM",
					   i * 7919);
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		if (ds_name_normalise(names[i % NAMES], lens[i % NAMES], out,
				      NULL) == ST_OK)
			ok++;
	}
	dt = now_s() - t0;
	assert_int_equal(ok, n);
	print_message("normalise (ASCII, ~27 bytes): %.1f M names/s\n",
		      (double)n / dt / 1e6);
}

static void test_format_names(void **state)
{
	enum ds_input_format f;

	(void)state;
	assert_int_equal(ds_input_format_from_name("auto", &f), ST_OK);
	assert_int_equal(f, DS_FMT_AUTO);
	assert_int_equal(ds_input_format_from_name("list", &f), ST_OK);
	assert_int_equal(f, DS_FMT_LIST);
	assert_int_equal(ds_input_format_from_name("tranco", &f), ST_OK);
	assert_int_equal(f, DS_FMT_TRANCO);
	assert_int_equal(ds_input_format_from_name("zone", &f), ST_OK);
	assert_int_equal(f, DS_FMT_ZONE);
	assert_int_equal(ds_input_format_from_name("csv", &f), ST_EINVAL);
	assert_int_equal(ds_input_format_from_name(NULL, &f), ST_EINVAL);
	assert_string_equal(ds_input_format_name(DS_FMT_ZONE), "zone");
	assert_string_equal(ds_input_format_name(DS_FMT_TRANCO), "tranco");
	assert_string_equal(ds_input_format_name((enum ds_input_format)9),
			    "unknown");
}

/* --- lists ----------------------------------------------------------- */

static void test_list(void **state)
{
	static const char text[] =
		"# comment\r\n"                 /* 1 */
		"Example.COM\r\n"               /* 2 */
		"\r\n"                          /* 3 */
		"  www.example.org.  \n"        /* 4 */
		" bad..name\n"                  /* 5 */
		"#x\n"                          /* 6 */
		"single\n"                      /* 7 */
		"xn--bcher-kva.example\n"       /* 8 */
		"b\xc3\xbc" "cher.example\n"    /* 9 */
		"\t\n"                          /* 10 */
		"last.example";                 /* 11, no newline */
	static const struct want w[] = {
		{ 2, "example.com", NULL, 0 },
		{ 4, "www.example.org", NULL, 0 },
		{ 5, NULL, "empty label", 0 },
		{ 7, NULL, "single label", 0 },
		{ 8, "xn--bcher-kva.example", NULL, 0 },
		{ 9, "xn--bcher-kva.example", NULL, 0 },
		{ 11, "last.example", NULL, 0 },
	};

	(void)state;
	run_all(text, sizeof(text) - 1, DS_FMT_LIST, DS_FMT_LIST, w, 7, 11);
	run_all(text, sizeof(text) - 1, DS_FMT_AUTO, DS_FMT_LIST, w, 7, 11);
}

/* item.raw is the name as read, unprintable bytes as '?'. */
static void test_list_raw(void **state)
{
	static const char text[] = "  Www.Example.COM.  \n"
				   "b\xc3\xbc" "cher.example\n"
				   "a\x01" "b.com\n";
	struct got g[4];
	struct ds_input *in = open_via(text, sizeof(text) - 1, VIA_MEM,
				       DS_FMT_LIST);
	int end;

	(void)state;
	assert_int_equal(collect(in, g, 4, &end), 3);
	assert_string_equal(g[0].raw, "Www.Example.COM.");
	assert_string_equal(g[1].raw, "b??cher.example");
	assert_string_equal(g[2].raw, "a?b.com");
	assert_string_equal(g[2].why, "control character");
	ds_input_close(in);
}

/* A line over 4096 bytes is one item error, however long, and the next
 * line is read normally; NUL bytes inside a line do not cut it. */
static void test_list_long_line(void **state)
{
	const size_t big = 3u << 20;
	char *text = malloc(big + 8192);
	struct want w[] = {
		{ 1, "a.com", NULL, 0 },
		{ 2, NULL, "line longer than 4096 bytes", 0 },
		{ 3, "b.com", NULL, 0 },
		{ 4, NULL, "line longer than 4096 bytes", 0 },
		{ 5, NULL, "control character", 0 },
		{ 6, "c.com", NULL, 0 },
	};
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text + n, "a.com\n");
	memset(text + n, 'x', 4097);
	n += 4097;
	n += (size_t)sprintf(text + n, "\nb.com\n");
	memset(text + n, 'y', big);
	n += big;
	text[n++] = '\n';
	memcpy(text + n, "c\0c.com\nc.com\n", 14);
	n += 14;
	run_all(text, n, DS_FMT_LIST, DS_FMT_LIST, w, 6, 6);
	/* Exactly 4096 bytes is still a line (of a bad name). */
	memset(text, 'z', 4096);
	text[4096] = '\n';
	{
		struct got g[2];
		struct ds_input *in = open_via(text, 4097, VIA_MEM,
					       DS_FMT_LIST);
		int end;

		assert_int_equal(collect(in, g, 2, &end), 1);
		assert_string_equal(g[0].why, "name longer than 253 bytes");
		assert_int_equal(strlen(g[0].raw), 255);
		ds_input_close(in);
	}
	free(text);
}

static void test_tranco(void **state)
{
	static const char text[] =
		"rank,domain\n"          /* 1: the header */
		"1,google.com\n"         /* 2 */
		"2, Facebook.com. \r\n"  /* 3 */
		"3,bad..x\n"             /* 4 */
		"x,foo.com\n"            /* 5 */
		"4\n"                    /* 6 */
		"\n"                     /* 7 */
		"0,zero.com\n"           /* 8 */
		"99999999999999999999999,big.com\n" /* 9 */
		"# note\n"               /* 10 */
		"18446744073709551615,max.com\n" /* 11 */
		"5,youtube.com";         /* 12 */
	static const struct want w[] = {
		{ 2, "google.com", NULL, 1 },
		{ 3, "facebook.com", NULL, 2 },
		{ 4, NULL, "empty label", 3 },
		{ 5, NULL, "tranco: bad rank", 0 },
		{ 6, NULL, "tranco: no comma", 0 },
		{ 8, NULL, "tranco: bad rank", 0 },
		{ 9, NULL, "tranco: bad rank", 0 },
		{ 11, "max.com", NULL, UINT64_MAX },
		{ 12, "youtube.com", NULL, 5 },
	};
	static const char plain[] = "1,a.com\nrank,domain\n";
	static const struct want wp[] = {
		{ 1, "a.com", NULL, 1 },
		{ 2, NULL, "tranco: bad rank", 0 },
	};

	(void)state;
	run_all(text, sizeof(text) - 1, DS_FMT_TRANCO, DS_FMT_TRANCO, w, 9,
		12);
	run_all(text, sizeof(text) - 1, DS_FMT_AUTO, DS_FMT_TRANCO, w, 9, 12);
	/* The header is skipped only at line 1. */
	run_all(plain, sizeof(plain) - 1, DS_FMT_TRANCO, DS_FMT_TRANCO, wp, 2,
		2);
}

/*
 * Top lists as published: RFC 4180 §2 "Each field may or may not be
 * enclosed in double quotes", "a double-quote appearing inside a field
 * must be escaped by preceding it with another double quote"; extra
 * columns (a list's own data) are ignored.
 */
static void test_tranco_csv(void **state)
{
	static const char text[] =
		"\"rank\",\"domain\",\"note\"\n"      /* 1: a quoted header */
		"2,\"example.org\"\n"                 /* 2 */
		"\"3\",\"Example.NET\"\n"             /* 3 */
		"4,example.com,extra\n"               /* 4 */
		"5,\"b\xc3\xbc" "cher.example\",x,y\n" /* 5 */
		"6, \"spaced.example\" ,z\n"          /* 6 */
		"7,\"a,b.example\"\n"                 /* 7: comma in quotes */
		"8,\"open.example\n"                  /* 8 */
		"9,\"q\"\"q.example\"\n"              /* 9: "" is a quote */
		"10,,empty\n";                        /* 10 */
	static const struct want w[] = {
		{ 2, "example.org", NULL, 2 },
		{ 3, "example.net", NULL, 3 },
		{ 4, "example.com", NULL, 4 },
		{ 5, "xn--bcher-kva.example", NULL, 5 },
		{ 6, "spaced.example", NULL, 6 },
		{ 7, NULL, "invalid character", 7 },
		{ 8, NULL, "tranco: unterminated quote", 0 },
		{ 9, NULL, "invalid character", 9 },
		{ 10, NULL, "empty name", 10 },
	};

	(void)state;
	run_all(text, sizeof(text) - 1, DS_FMT_TRANCO, DS_FMT_TRANCO, w, 9,
		10);
	run_all(text, sizeof(text) - 1, DS_FMT_AUTO, DS_FMT_TRANCO, w, 9, 10);
}

/* --- zone files ------------------------------------------------------ */

static const char zone_text[] =
	"; test zone\n"                                        /* 1 */
	"$ORIGIN example.\n"                                   /* 2 */
	"$TTL 3600\n"                                          /* 3 */
	"@\tIN\tSOA\tns1 hostmaster (\n"                       /* 4 */
	"\t\t2024010101 ; serial\n"                            /* 5 */
	"\t\t7200       ; refresh\n"                           /* 6 */
	"\t\t3600 1209600 300 )\n"                             /* 7 */
	"@\tIN\tNS\tns1\n"                                     /* 8 */
	"\tIN\tNS\tns2\n"                                      /* 9 */
	"ns1\tIN\tA\t192.0.2.1\n"                              /* 10 */
	"ns2\tIN\tA\t192.0.2.2\n"                              /* 11 */
	"\n"                                                   /* 12 */
	"child\tIN\tNS\tns1.child\n"                           /* 13 */
	"child\tIN\tNS\tns2.child\n"                           /* 14 */
	"ns1.child\tIN\tA\t192.0.2.3\n"                        /* 15 */
	"Other.Example.\t86400\tIN\tNS\tns.other.net.\n"       /* 16 */
	"\tIN\tNS\tns2.other.net. ; same owner\n"              /* 17 */
	"bad\tIN\tA\t999.1.1.1\n"                              /* 18 */
	"$INCLUDE /etc/passwd\n"                               /* 19 */
	"after\tIN\tNS\tns.after.net.\n"                       /* 20 */
	"$ORIGIN sub.example.\n"                               /* 21 */
	"; a comment line\n"                                   /* 22 */
	"deep\tNS\tns.deep.net.\n"                             /* 23 */
	"child.example.\tIN\tDS\t60485 5 1 "
	"2BB183AF5F22588179A53B0A98631FAD1A292118\n"           /* 24 */
	"child.example. IN NS ns1.child.example.\n"            /* 25 */
	"www IN CNAME deep\n"                                  /* 26 */
	"@ IN TXT \"v=STSv1; id=1\" ; (not a paren\n"          /* 27 */
	"x.sub.example. NS ns.x.net.";                         /* 28 */

static void test_zone(void **state)
{
	static const struct want w[] = {
		{ 13, "child.example", NULL, 0 },
		{ 16, "other.example", NULL, 0 },
		{ 18, NULL, NULL, 0 },
		{ 19, NULL, "$INCLUDE refused", 0 },
		{ 20, "after.example", NULL, 0 },
		{ 23, "deep.sub.example", NULL, 0 },
		/* Not in a row with its first appearance: yielded again. */
		{ 25, "child.example", NULL, 0 },
		{ 28, "x.sub.example", NULL, 0 },
	};
	struct got g[MAX_ITEMS];
	struct ds_input *in;
	int end;

	(void)state;
	run_all(zone_text, sizeof(zone_text) - 1, DS_FMT_ZONE, DS_FMT_ZONE, w,
		8, 28);
	run_all(zone_text, sizeof(zone_text) - 1, DS_FMT_AUTO, DS_FMT_ZONE, w,
		8, 28);
	/* The owner as read, and ldns's reason for the broken record. */
	in = open_via(zone_text, sizeof(zone_text) - 1, VIA_MEM, DS_FMT_ZONE);
	assert_int_equal(collect(in, g, MAX_ITEMS, &end), 8);
	assert_string_equal(g[1].raw, "Other.Example.");
	print_message("ldns reason for line 18: %s\n", g[2].why);
	ds_input_close(in);
}

/* Without an SOA the apex is the $ORIGIN in force at the first NS; without
 * either, every NS owner is a delegation. */
static void test_zone_apex(void **state)
{
	static const char origin[] =
		"$ORIGIN com.\n"
		"example NS ns1.example.net.\n"
		"@ NS a.gtld-servers.net.\n"
		"example NS ns2.example.net.\n"
		"Example.com. NS ns3.example.net.\n"
		"test NS ns1.test.net.\n";
	static const struct want wo[] = {
		{ 2, "example.com", NULL, 0 },
		{ 4, "example.com", NULL, 0 },
		{ 6, "test.com", NULL, 0 },
	};
	static const char bare[] =
		"example.com. 3600 IN NS ns1.example.net.\r\n"
		"example.org. 3600 IN NS ns.example.net.\r\n"
		"a.b.example.org. 3600 IN NS ns.example.net.\r\n";
	static const struct want wb[] = {
		{ 1, "example.com", NULL, 0 },
		{ 2, "example.org", NULL, 0 },
		{ 3, "a.b.example.org", NULL, 0 },
	};
	/* An SOA after an NS still names the apex: its NS is no delegation
	 * (RFC 1035 §5.2: "exactly one SOA RR should be present at the top
	 * of the zone"), whatever the order. */
	static const char late[] =
		"a.example. NS ns.\n"
		"example. SOA ns host 1 2 3 4 5\n"
		"example. NS ns.\n";
	static const struct want wl[] = {
		{ 1, "a.example", NULL, 0 },
	};

	(void)state;
	run_all(origin, sizeof(origin) - 1, DS_FMT_ZONE, DS_FMT_ZONE, wo, 3, 6);
	run_all(bare, sizeof(bare) - 1, DS_FMT_AUTO, DS_FMT_ZONE, wb, 3, 3);
	run_all(late, sizeof(late) - 1, DS_FMT_ZONE, DS_FMT_ZONE, wl, 1, 3);
}

/* A record that never ends (an unclosed parenthesis) or one enormous line
 * is refused after a bounded read, and reading goes on. */
static void test_zone_runaway(void **state)
{
	const size_t reps = 40000;
	size_t cap = 64 + reps * 8 + 300000 + 64, n = 0;
	char *text = malloc(cap);
	struct got g[MAX_ITEMS];
	int end;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text + n, "$ORIGIN example.\na NS ns1 (\n");
	for (size_t i = 0; i < reps; i++)
		n += (size_t)sprintf(text + n, "x NS ns\n");
	n += (size_t)sprintf(text + n, "y TXT \"");
	memset(text + n, 'q', 300000);
	n += 300000;
	n += (size_t)sprintf(text + n, "\"\nz NS ns\n");
	assert_true(n < cap);
	for (int v = 0; v < VIA_COUNT; v++) {
		struct ds_input *in = open_via(text, n, (enum via)v,
					       DS_FMT_ZONE);
		size_t k = collect(in, g, MAX_ITEMS, &end), i;

		assert_int_equal(end, 0);
		assert_true(k >= 3);
		assert_int_equal(g[0].line, 2);
		assert_string_equal(g[0].why, "resource record too long");
		/* Then the x lines after the cut, the long TXT, and z. */
		for (i = 1; i < k && g[i].error == ST_OK; i++)
			assert_string_equal(g[i].domain, "x.example");
		assert_true(i < k);
		assert_int_equal(g[i].line, reps + 3);
		assert_string_equal(g[i].why, "resource record too long");
		assert_int_equal(g[k - 1].line, reps + 4);
		assert_string_equal(g[k - 1].domain, "z.example");
		assert_int_equal(ds_input_lines(in), reps + 4);
		ds_input_close(in);
	}
	free(text);
}

/* --- detection, errors, digests -------------------------------------- */

static void test_auto_detect(void **state)
{
	static const struct {
		const char *text;
		enum ds_input_format fmt;
	} cases[] = {
		{ "", DS_FMT_LIST },
		{ "\n\n# only comments\n", DS_FMT_LIST },
		{ "example.com\n1,a.com\n", DS_FMT_LIST },
		{ "# top\n\nexample.com\n", DS_FMT_LIST },
		{ "1,google.com\n", DS_FMT_TRANCO },
		{ "# c\n\n 17,a.com\n", DS_FMT_TRANCO },
		{ "rank,domain\n1,a.com\n", DS_FMT_TRANCO },
		{ "\xef\xbb\xbf" "1,a.com\n", DS_FMT_TRANCO },
		{ "$ORIGIN example.\n", DS_FMT_ZONE },
		{ "$TTL 300\n", DS_FMT_ZONE },
		{ "; zone\nexample.com. 3600 IN SOA a b 1 2 3 4 5\n",
		  DS_FMT_ZONE },
		{ "example.com. NS ns1.example.net.\n", DS_FMT_ZONE },
		{ "example.com. 300 in a 192.0.2.1\n", DS_FMT_ZONE },
		{ "   IN NS ns1\n", DS_FMT_ZONE },
		{ "example.com. 3600 TYPE65534 \\# 0\n", DS_FMT_ZONE },
		{ "example.com", DS_FMT_LIST },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int v = 0; v < VIA_COUNT; v++) {
			struct ds_input *in = open_via(cases[i].text,
						       strlen(cases[i].text),
						       (enum via)v,
						       DS_FMT_AUTO);

			if (ds_input_format(in) != cases[i].fmt)
				print_message("case %zu via %s\n", i,
					      via_names[v]);
			assert_int_equal(ds_input_format(in), cases[i].fmt);
			ds_input_close(in);
		}
	}
}

/* A first line longer than the read-ahead still decides something, and
 * every byte read ahead is still read. */
static void test_auto_detect_long(void **state)
{
	const size_t big = 200000;
	char *text = malloc(big + 32);
	struct got g[4];
	struct ds_input *in;
	int end;

	(void)state;
	assert_non_null(text);
	memset(text, '#', big);
	memcpy(text + big, "\nfoo.example\n", 13);
	in = open_via(text, big + 13, VIA_MEM, DS_FMT_AUTO);
	assert_int_equal(ds_input_format(in), DS_FMT_LIST);
	assert_int_equal(collect(in, g, 4, &end), 2);
	assert_string_equal(g[0].why, "line longer than 4096 bytes");
	assert_string_equal(g[1].domain, "foo.example");
	assert_int_equal(g[1].line, 2);
	ds_input_close(in);
	free(text);
}

static void test_open_errors(void **state)
{
	struct ds_input *in = (struct ds_input *)1;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist", tmp_dir);
	assert_int_equal(ds_input_open(path, DS_FMT_LIST, &in), ST_ENOENT);
	assert_null(in);
	assert_int_equal(ds_input_open(tmp_dir, DS_FMT_LIST, &in), ST_EIO);
	assert_int_equal(ds_input_open(NULL, DS_FMT_LIST, &in), ST_EINVAL);
	assert_int_equal(ds_input_open_memory(NULL, 1, DS_FMT_LIST, &in),
			 ST_EINVAL);
	assert_int_equal(ds_input_open_memory("", 0, (enum ds_input_format)7,
					      &in), ST_EINVAL);
	ds_input_close(NULL);
}

/* A corrupt or cut gzip stream ends the reader with ST_EIO, for good. */
static void test_gzip_broken(void **state)
{
	char text[20000];
	unsigned char *gz;
	size_t glen, n = 0;

	(void)state;
	while (n + 32 < sizeof(text))
		n += (size_t)sprintf(text + n, "d%zu.example\n", n);
	gz = gz_mem(text, n, &glen);
	for (int kind = 0; kind < 3; kind++) {
		unsigned char *bad = malloc(glen);
		size_t blen = glen;
		struct got g[MAX_ITEMS * 40];
		struct ds_input *in;
		int end;

		assert_non_null(bad);
		memcpy(bad, gz, glen);
		if (kind == 0)
			blen = glen / 2;       /* cut in the deflate data */
		else if (kind == 1)
			blen = glen - 4;       /* cut in the trailer */
		else
			bad[glen - 6] ^= 0xff; /* wrong CRC-32 */
		assert_int_equal(ds_input_open_memory(bad, blen, DS_FMT_AUTO,
						      &in), ST_OK);
		collect(in, g, sizeof(g) / sizeof(g[0]), &end);
		assert_int_equal(end, ST_EIO);
		ds_input_close(in);
		free(bad);
	}
	free(gz);
}

/* RFC 1952 §2.2: a gzip file may hold several members, read as one. */
static void test_gzip_members(void **state)
{
	static const struct want w[] = {
		{ 1, "a.example", NULL, 0 },
		{ 2, "b.example", NULL, 0 },
	};
	unsigned char *a, *b, *both;
	size_t alen, blen;
	struct got g[4];
	struct ds_input *in;
	char hex[65];
	int end;

	(void)state;
	a = gz_mem("a.example\n", 10, &alen);
	b = gz_mem("b.example\n", 10, &blen);
	both = malloc(alen + blen);
	assert_non_null(both);
	memcpy(both, a, alen);
	memcpy(both + alen, b, blen);
	assert_int_equal(ds_input_open_memory(both, alen + blen, DS_FMT_AUTO,
					      &in), ST_OK);
	check_items(g, collect(in, g, 4, &end), w, 2, "members");
	assert_int_equal(end, 0);
	ds_input_digest(in, hex);
	/* sha256("a.example\nb.example\n") */
	assert_string_equal(hex, "8fb9a6ebbf9e0b506b9478b431e6e9dc"
				 "d34fc2153daea407fc818280551cfed5");
	ds_input_close(in);
	free(a);
	free(b);
	free(both);
}

static void test_digest_offsets(void **state)
{
	static const char abc_sha[] =
		"ba7816bf8f01cfea414140de5dae2223"
		"b00361a396177a9cb410ff61f20015ad";
	static const char empty_sha[] =
		"e3b0c44298fc1c149afbf4c8996fb924"
		"27ae41e4649b934ca495991b7852b855";
	static const char list_sha[] =
		"391196688aa55d3321deffa736f8d103"
		"b4813470952b748e9c2c9deb17fa60f5";
	char hex[65];

	(void)state;
	for (int v = 0; v < VIA_COUNT; v++) {
		struct got g[4];
		struct ds_input *in = open_via("abc", 3, (enum via)v,
					       DS_FMT_AUTO);
		int end;

		ds_input_digest(in, hex);
		collect(in, g, 4, &end);
		ds_input_digest(in, hex);
		assert_string_equal(hex, abc_sha);
		assert_int_equal(ds_input_offset(in), ds_input_size(in));
		ds_input_close(in);

		in = open_via("", 0, (enum via)v, DS_FMT_ZONE);
		assert_int_equal(collect(in, g, 4, &end), 0);
		ds_input_digest(in, hex);
		assert_string_equal(hex, empty_sha);
		assert_int_equal(ds_input_lines(in), 0);
		ds_input_close(in);

		in = open_via("example.com\n", 12, (enum via)v, DS_FMT_ZONE);
		collect(in, g, 4, &end);
		ds_input_digest(in, hex);
		assert_string_equal(hex, list_sha);
		assert_int_equal(ds_input_lines(in), 1);
		ds_input_close(in);
	}
}

/* --- shards ---------------------------------------------------------- */

static void test_shard_of(void **state)
{
	/* FNV-1a 64: fixed forever, so shards agree across machines. */
	static const struct {
		const char *name;
		uint32_t n, shard;
	} cases[] = {
		{ "example.com", 16, 6 },
		{ "example.com", 7, 1 },
		{ "example.com", 1000, 350 },
		{ "google.com", 16, 5 },
		{ "google.com", 1000, 317 },
		{ "xn--bcher-kva.example", 1000, 740 },
		{ "a.b", 16, 12 },
		{ "a.b", 7, 3 },
		{ "example.com", 1, 0 },
		{ "example.com", 0, 0 },
	};
	uint32_t counts[8] = { 0 };
	char name[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ds_shard_of(cases[i].name, cases[i].n),
				 cases[i].shard);
	/* Every name in exactly one shard, the shards roughly even. */
	for (uint32_t i = 0; i < 80000; i++) {
		uint32_t hits = 0;

		snprintf(name, sizeof(name), "d%u.example", i);
		for (uint32_t s = 0; s < 8; s++)
			hits += ds_shard_of(name, 8) == s;
		assert_int_equal(hits, 1);
		counts[ds_shard_of(name, 8)]++;
	}
	for (uint32_t s = 0; s < 8; s++)
		assert_true(counts[s] > 9000 && counts[s] < 11000);
}

static void test_shard_parse(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint32_t i, n;
	} cases[] = {
		{ "0/1", ST_OK, 0, 1 },
		{ "3/4", ST_OK, 3, 4 },
		{ "07/10", ST_OK, 7, 10 },
		{ "4294967294/4294967295", ST_OK, 4294967294u, 4294967295u },
		{ "4/4", ST_EINVAL, 0, 0 },
		{ "0/0", ST_EINVAL, 0, 0 },
		{ "-1/4", ST_EINVAL, 0, 0 },
		{ "+1/4", ST_EINVAL, 0, 0 },
		{ "1/", ST_EINVAL, 0, 0 },
		{ "/4", ST_EINVAL, 0, 0 },
		{ "1/4x", ST_EINVAL, 0, 0 },
		{ " 1/4", ST_EINVAL, 0, 0 },
		{ "1 /4", ST_EINVAL, 0, 0 },
		{ "1/4/5", ST_EINVAL, 0, 0 },
		{ "1/4294967296", ST_EINVAL, 0, 0 },
		{ "", ST_EINVAL, 0, 0 },
		{ "a/b", ST_EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint32_t i = 99, n = 99;

		assert_int_equal(ds_shard_parse(cases[k].s, &i, &n),
				 cases[k].ret);
		if (cases[k].ret == ST_OK) {
			assert_int_equal(i, cases[k].i);
			assert_int_equal(n, cases[k].n);
		}
	}
	assert_int_equal(ds_shard_parse(NULL, NULL, NULL), ST_EINVAL);
}

/* Inputs are checked before a scan exists: each refusal names its cause. */
static void test_input_check(void **state)
{
	char path[128], why[160];
	static const unsigned char corrupt[] = "\x1f\x8bnot deflate data";
	unsigned char *g;
	size_t glen;

	(void)state;
	assert_int_equal(ds_input_check("-", why, sizeof(why)), ST_OK);
	snprintf(path, sizeof(path), "%s/no-such-input", tmp_dir);
	assert_int_equal(ds_input_check(path, why, sizeof(why)), ST_EIO);
	assert_string_equal(why, "No such file or directory");
	assert_int_equal(ds_input_check(tmp_dir, why, sizeof(why)), ST_EIO);
	assert_string_equal(why, "is a directory");
	snprintf(path, sizeof(path), "%s/corrupt.gz", tmp_dir);
	write_file(path, corrupt, sizeof(corrupt) - 1);
	assert_int_equal(ds_input_check(path, why, sizeof(why)), ST_EIO);
	assert_non_null(strstr(why, "not gzip data: "));
	g = gz_mem("a.example\nb.example\n", 20, &glen);
	snprintf(path, sizeof(path), "%s/whole.gz", tmp_dir);
	write_file(path, g, glen);
	assert_int_equal(ds_input_check(path, why, sizeof(why)), ST_OK);
	snprintf(path, sizeof(path), "%s/short.gz", tmp_dir);
	write_file(path, g, glen - 6); /* the trailer cut */
	assert_int_equal(ds_input_check(path, why, sizeof(why)), ST_EIO);
	assert_string_equal(why, "unexpected end of gzip data");
	free(g);
	snprintf(path, sizeof(path), "%s/plain", tmp_dir);
	write_file(path, "a.example\n", 10);
	assert_int_equal(ds_input_check(path, why, sizeof(why)), ST_OK);
}

/* --- exclusion lists ------------------------------------------------- */

static void test_exclude(void **state)
{
	static const char text[] =
		"# opt-outs\n"
		"example.com\n"
		"*.wild.org\n"
		"\n"
		"  Exact.Net.  \r\n"
		"*.single\n"
		"example.com\n"
		"*.example.com\n"
		"b\xc3\xbc" "cher.example\n";
	static const struct {
		const char *name;
		bool excluded;
	} cases[] = {
		{ "example.com", true },
		{ "www.example.com", true },
		{ "a.b.example.com", true },
		{ "notexample.com", false },   /* a label boundary only */
		{ "example.com.au", false },
		{ "com", false },
		{ "other.com", false },
		{ "wild.org", false },         /* "*." is below only */
		{ "a.wild.org", true },
		{ "a.b.wild.org", true },
		{ "awild.org", false },
		{ "exact.net", true },
		{ "sub.exact.net", true },
		{ "xn--bcher-kva.example", true },
		{ "shop.xn--bcher-kva.example", true },
		{ "a.single", true },          /* "*." under a bare TLD */
		{ "single", false },
		{ "", false },
	};
	char path[128];
	struct ds_exclude *ex = NULL;

	(void)state;
	for (int gz = 0; gz < 2; gz++) {
		snprintf(path, sizeof(path), "%s/exclude%d", tmp_dir, gz);
		if (gz) {
			size_t glen;
			unsigned char *g = gz_mem(text, sizeof(text) - 1,
						  &glen);

			write_file(path, g, glen);
			free(g);
		} else {
			write_file(path, text, sizeof(text) - 1);
		}
		assert_int_equal(ds_exclude_load(path, &ex, NULL), ST_OK);
		/* Duplicates and forms already covered add nothing. */
		assert_int_equal(ds_exclude_count(ex), 5);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (ds_exclude_match(ex, cases[i].name) !=
			    cases[i].excluded)
				print_message("case %s\n", cases[i].name);
			assert_int_equal(ds_exclude_match(ex, cases[i].name),
					 cases[i].excluded);
		}
		ds_exclude_free(ex);
	}
	assert_false(ds_exclude_match(NULL, "example.com"));
	assert_int_equal(ds_exclude_count(NULL), 0);
	snprintf(path, sizeof(path), "%s/no-such-list", tmp_dir);
	assert_int_equal(ds_exclude_load(path, &ex, NULL), ST_EIO);
	assert_null(ex);
	ds_exclude_free(NULL);
}

/*
 * The opt-out list's format, one row a line: an entry, a comment, or an
 * error that refuses the whole list and names the line (a dropped line
 * would scan a domain that asked not to be).
 */
static void test_exclude_format(void **state)
{
	static const struct {
		const char *line;
		const char *name;  /* a name it must exclude, or NULL */
		const char *error; /* a word of the reason, or NULL: valid */
	} rows[] = {
		{ "example.org  # asked on 2026-11-02", "www.example.org", NULL },
		{ "example.org# no space before it", "example.org", NULL },
		{ "   # an indented comment", NULL, NULL },
		{ "test", "a.test", NULL },          /* a bare TLD */
		{ "TEST.", "b.test", NULL },
		{ "*.test", "c.test", NULL },
		{ "b\xc3\xbc" "cher", "x.xn--bcher-kva", NULL },
		{ "\t example.net \t", "example.net", NULL },
		{ "example .org", NULL, "more than a name" },
		{ "a.example b.example", NULL, "more than a name" },
		{ "bad..name", NULL, "empty label" },
		{ "-x.example", NULL, "hyphen" },
		{ "*.", NULL, "" },
		{ "*", NULL, "" },
	};
	char path[128], text[256];
	struct ds_exclude *ex = NULL;
	struct ds_list_error err;

	(void)state;
	snprintf(path, sizeof(path), "%s/exclude-format", tmp_dir);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ret;

		/* The row is line 3, after a comment and a valid entry. */
		snprintf(text, sizeof(text), "# list\nkeep.example\n%s\n",
			 rows[i].line);
		write_file(path, text, strlen(text));
		ret = ds_exclude_load(path, &ex, &err);
		if (rows[i].error == NULL) {
			if (ret != ST_OK)
				fail_msg("row %zu \"%s\": refused at line %llu: "
					 "%s", i, rows[i].line,
					 (unsigned long long)err.line, err.why);
			assert_true(ds_exclude_match(ex, "keep.example"));
			if (rows[i].name != NULL &&
			    !ds_exclude_match(ex, rows[i].name))
				fail_msg("row %zu \"%s\" does not exclude %s", i,
					 rows[i].line, rows[i].name);
			ds_exclude_free(ex);
			continue;
		}
		if (ret != ST_EINVAL)
			fail_msg("row %zu \"%s\" accepted", i, rows[i].line);
		assert_null(ex);
		assert_int_equal(err.line, 3);
		if (strstr(err.why, rows[i].error) == NULL)
			fail_msg("row %zu: reason \"%s\" lacks \"%s\"", i,
				 err.why, rows[i].error);
	}
	/* A missing file names the cause, at line 0. */
	snprintf(path, sizeof(path), "%s/no-such-exclude", tmp_dir);
	assert_int_equal(ds_exclude_load(path, &ex, &err), ST_EIO);
	assert_int_equal(err.line, 0);
	assert_true(err.why[0] != '\0');
}

/* A list bigger than the hash table's first size. */
static void test_exclude_many(void **state)
{
	char path[128], name[64];
	struct ds_exclude *ex = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/exclude-many", tmp_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "%sd%d.example\n", i % 2 ? "*." : "", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ds_exclude_load(path, &ex, NULL), ST_OK);
	assert_int_equal(ds_exclude_count(ex), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		assert_int_equal(ds_exclude_match(ex, name), i % 2 == 0);
		snprintf(name, sizeof(name), "www.d%d.example", i);
		assert_true(ds_exclude_match(ex, name));
		snprintf(name, sizeof(name), "d%d.example", i + 5000);
		assert_false(ds_exclude_match(ex, name));
	}
	ds_exclude_free(ex);
}

/* --- streaming ------------------------------------------------------- */

static long maxrss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* Ten million lines through gzip (the input size): the reader's
 * memory does not grow with the input.  Runs first, before other tests
 * raise the high-water mark. */
static void test_stream_memory(void **state)
{
	const unsigned lines = 10000000;
	char path[128], buf[65536], hex[65];
	struct ds_input_item it;
	struct ds_input *in = NULL;
	uint64_t items = 0, size;
	long before, warm = 0, after;
	double t0, dt;
	gzFile gz;
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.gz", tmp_dir);
	gz = gzopen(path, "wb1");
	assert_non_null(gz);
	for (unsigned i = 0; i < lines;) {
		size_t n = 0;

		while (i < lines && n + 40 < sizeof(buf))
			n += (size_t)sprintf(buf + n, "D%08u.Example.com\n",
					     i++);
		assert_int_equal(gzwrite(gz, buf, (unsigned)n), (int)n);
	}
	assert_int_equal(gzclose(gz), Z_OK);
	before = maxrss_kib();
	t0 = now_s();
	assert_int_equal(ds_input_open(path, DS_FMT_AUTO, &in), ST_OK);
	size = ds_input_size(in);
	for (;;) {
		ret = ds_input_next(in, &it);
		if (ret != 1)
			break;
		assert_int_equal(it.error, ST_OK);
		items++;
		if (items % 2000000 == 0)
			assert_true(ds_input_offset(in) <= size);
		if (items == 1000000)
			warm = maxrss_kib();
	}
	dt = now_s() - t0;
	assert_int_equal(ret, 0);
	assert_int_equal(items, lines);
	assert_int_equal(ds_input_lines(in), lines);
	assert_string_equal(it.domain, "d09999999.example.com");
	assert_int_equal(ds_input_offset(in), size);
	ds_input_digest(in, hex);
	ds_input_close(in);
	after = maxrss_kib();
	print_message("gzip list: %u lines (%llu bytes compressed) in "
		      "%.2f s CPU, %.1f M lines/s; max RSS %ld -> %ld -> "
		      "%ld KiB\n", lines, (unsigned long long)size, dt,
		      lines / dt / 1e6, before, warm, after);
	/* A fixed cost (buffers, library pages), then no growth: a leak of
	 * even one small allocation a line would be tens of MiB here.  The
	 * slack is for sanitizer runtimes, which grow a little anyway. */
	assert_true(after - before < 8192);
	assert_true(after - warm < 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_memory),
		cmocka_unit_test(test_normalise_table),
		cmocka_unit_test(test_normalise_lengths),
		cmocka_unit_test(test_normalise_speed),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_raw),
		cmocka_unit_test(test_list_long_line),
		cmocka_unit_test(test_tranco),
		cmocka_unit_test(test_tranco_csv),
		cmocka_unit_test(test_input_check),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_zone_apex),
		cmocka_unit_test(test_zone_runaway),
		cmocka_unit_test(test_auto_detect),
		cmocka_unit_test(test_auto_detect_long),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_gzip_broken),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_digest_offsets),
		cmocka_unit_test(test_shard_of),
		cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_exclude_many),
		cmocka_unit_test(test_exclude_format),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
