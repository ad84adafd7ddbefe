/*
 * sc_out.c - a command's output, every failure named.
 */
#define _GNU_SOURCE /* fopencookie */
#include "sc_out.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "st_error.h"

#define STDOUT_NAME "standard output"

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	struct sc_out *o = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(o->fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (o->err == 0)
				o->err = errno;
			return done > 0 ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int out_close(void *cookie)
{
	struct sc_out *o = cookie;

	if (o->fd == STDOUT_FILENO || close(o->fd) == 0)
		return 0;
	if (o->err == 0)
		o->err = errno;
	return -1;
}

int sc_out_open(struct sc_out *o, const char *cmd, const char *path)
{
	static const cookie_io_functions_t io = { .write = out_write,
						  .close = out_close };

	o->name = path != NULL ? path : STDOUT_NAME;
	o->err = 0;
	o->fp = NULL;
	o->fd = path != NULL ? open(path, O_WRONLY | O_CREAT | O_TRUNC |
					  O_CLOEXEC, 0666)
			     : STDOUT_FILENO;
	if (o->fd < 0) {
		fprintf(stderr, "stsmap %s: cannot create %s: %s\n", cmd, path,
			strerror(errno));
		return ST_EIO;
	}
	o->fp = fopencookie(o, "w", io);
	if (o->fp == NULL) {
		fprintf(stderr, "stsmap %s: %s: %s\n", cmd, o->name,
			strerror(errno));
		if (o->fd != STDOUT_FILENO)
			close(o->fd);
		return ST_EIO;
	}
	return ST_OK;
}

bool sc_out_failed(const struct sc_out *o)
{
	return o->fp != NULL && (o->err != 0 || ferror(o->fp));
}

int sc_out_close(struct sc_out *o, const char *cmd)
{
	bool failed;

	if (o->fp == NULL)
		return ST_OK;
	failed = fflush(o->fp) != 0 || ferror(o->fp);
	failed = fclose(o->fp) != 0 || failed;
	o->fp = NULL;
	if (!failed && o->err == 0)
		return ST_OK;
	if (o->err != EPIPE)
		fprintf(stderr, "stsmap %s: writing %s: %s\n", cmd, o->name,
			strerror(o->err != 0 ? o->err : EIO));
	return ST_EIO;
}

/* The cause of a failed stdout: flushing again repeats the failing write
 * (ENOSPC, EIO, EPIPE) when data is still buffered. */
static int flush_errno(FILE *fp)
{
	errno = 0;
	if (fflush(fp) == 0 && !ferror(fp))
		return 0;
	return errno != 0 ? errno : EIO;
}

int sc_out_close_stdout(const char *cmd)
{
	int e = flush_errno(stdout);

	if (fclose(stdout) != 0 && e == 0)
		e = errno != 0 ? errno : EIO;
	if (e == 0)
		return 0;
	if (e == EPIPE)
		return SC_EXIT_PIPE;
	fprintf(stderr, "stsmap %s: writing " STDOUT_NAME ": %s\n", cmd,
		strerror(e));
	return 1;
}
