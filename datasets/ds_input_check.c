/*
 * ds_input_check.c - an input checked before a scan is created: it opens,
 * it is not a directory, and gzip data inflates as far as its first
 * 64 KiB go (ds_input.h).
 */
#include "ds_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "st_error.h"

/* Inflate the first bytes of a gzip file (all of it when whole): NULL
 * when they are gzip data as far as they go, else what is wrong. */
static const char *gz_trial(const unsigned char *buf, size_t len, bool whole)
{
	unsigned char out[16384];
	const char *why = NULL;
	z_stream zs;
	int r;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return "out of memory";
	zs.next_in = (unsigned char *)buf;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		r = inflate(&zs, Z_NO_FLUSH);
	} while (r == Z_OK && zs.avail_in > 0);
	if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
		why = zs.msg != NULL ? zs.msg : "corrupt gzip data";
	else if (whole && r != Z_STREAM_END)
		why = "unexpected end of gzip data";
	inflateEnd(&zs);
	return why;
}

int ds_input_check(const char *path, char *why, size_t whylen)
{
	unsigned char buf[65536];
	struct stat st;
	ssize_t n;
	const char *bad = NULL;
	int fd;

	if (path == NULL || why == NULL || whylen == 0)
		return ST_EINVAL;
	why[0] = '\0';
	if (strcmp(path, "-") == 0)
		return ST_OK; /* stdin is checked as it is read */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return ST_EIO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return ST_EIO;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "is a directory");
		close(fd);
		return ST_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd); /* a pipe or device: read as it comes */
		return ST_OK;
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		bad = strerror(errno);
	else if (n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		bad = gz_trial(buf, (size_t)n, (size_t)n < sizeof(buf));
	close(fd);
	if (bad != NULL) {
		bool corrupt = n >= 2 && strncmp(bad, "unexpected", 10) != 0;

		snprintf(why, whylen, "%s%s", corrupt ? "not gzip data: " : "",
			 bad);
		return ST_EIO;
	}
	return ST_OK;
}
