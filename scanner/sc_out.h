/*
 * sc_out.h - the output of a command: standard output or a file it
 * creates, with every write failure named.
 *
 * A command whose output is lost must not exit 0: a full disk, a missing
 * directory or a closed file is reported as "stsmap CMD: writing NAME:
 * cause" (or "cannot create NAME: cause") and the command exits 1.  The
 * message names the output, never the store the records were read from.
 *
 * A closed pipe (`stsmap export | head`) is not an error of the command:
 * commands that touch no network peer run with SIGPIPE at its default, so
 * they end as any Unix filter does, killed by SIGPIPE, quietly (status
 * 141 in a shell).  scan and check ignore SIGPIPE (a probed server may
 * close while we write to it) and turn EPIPE on their output into the
 * same quiet status 141 (sc_out_close_stdout()).
 */
#ifndef SC_OUT_H
#define SC_OUT_H

#include <stdbool.h>
#include <stdio.h>

#define SC_EXIT_PIPE 141 /* 128 + SIGPIPE, as a shell reports the death */

/*
 * The stream writes through a cookie that keeps the errno of the first
 * failed write(2): stdio forgets it once the buffer is dropped, and a
 * message saying "Input/output error" for a full disk names no cause.
 */
struct sc_out {
	FILE *fp;         /* owned; a stream of its own even for fd 1 */
	const char *name; /* the path, or "standard output"; not owned */
	int fd;           /* owned unless it is STDOUT_FILENO */
	int err;          /* errno of the first failed write or close */
};

/*
 * Open path for writing (truncating, mode 0666 less the umask), or
 * standard output when path is NULL.  o must stay at its address until
 * sc_out_close() (the stream refers to it).  On failure prints "stsmap
 * CMD: cannot create PATH: cause" on stderr and returns ST_EIO; o->fp is
 * then NULL.
 */
int sc_out_open(struct sc_out *o, const char *cmd, const char *path);

/* Whether a write to o has failed so far (the stream's error flag). */
bool sc_out_failed(const struct sc_out *o);

/*
 * Flush o and close it (a file; stdout is only flushed).  Returns ST_OK,
 * or ST_EIO after printing "stsmap CMD: writing NAME: cause".  Safe on an
 * o that was never opened (fp NULL): ST_OK.
 */
int sc_out_close(struct sc_out *o, const char *cmd);

/*
 * At the end of main(): flush and close standard output.  Returns 0,
 * 1 after naming the failure on stderr, or SC_EXIT_PIPE when the reader
 * went away (EPIPE), quietly.
 */
int sc_out_close_stdout(const char *cmd);

#endif /* SC_OUT_H */
