/*
 * sc_out.c - a command's output, every failure named.
 */
#include "sc_out.h"

#include <errno.h>
#include <string.h>

#include "st_error.h"

#define STDOUT_NAME "standard output"

int sc_out_open(struct sc_out *o, const char *cmd, const char *path)
{
	o->name = path != NULL ? path : STDOUT_NAME;
	o->fp = path != NULL ? fopen(path, "w") : stdout;
	if (o->fp == NULL) {
		fprintf(stderr, "stsmap %s: cannot create %s: %s\n", cmd, path,
			strerror(errno));
		return ST_EIO;
	}
	return ST_OK;
}

bool sc_out_failed(const struct sc_out *o)
{
	return o->fp != NULL && ferror(o->fp);
}

/* The cause of a failed stream: flushing again repeats the failing write
 * (ENOSPC, EIO, EPIPE) when data is still buffered. */
static int flush_errno(FILE *fp)
{
	errno = 0;
	if (fflush(fp) == 0 && !ferror(fp))
		return 0;
	return errno != 0 ? errno : EIO;
}

int sc_out_close(struct sc_out *o, const char *cmd)
{
	int e;

	if (o->fp == NULL)
		return ST_OK;
	e = flush_errno(o->fp);
	if (o->fp != stdout && fclose(o->fp) != 0 && e == 0)
		e = errno != 0 ? errno : EIO;
	o->fp = NULL;
	if (e == 0)
		return ST_OK;
	if (e != EPIPE)
		fprintf(stderr, "stsmap %s: writing %s: %s\n", cmd, o->name,
			strerror(e));
	return ST_EIO;
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
