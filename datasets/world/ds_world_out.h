/*
 * ds_world_out.h - the output helpers every file of the world generator
 * writes through (not a public interface: ds_world.h is).
 *
 * File names under OUT, opening and closing output files, directories,
 * a JSON string, and issuing a leaf chain into OUT/tls/certs/.  Every
 * other file of the generator uses them; this file uses none of them.
 */
#ifndef DS_WORLD_OUT_H
#define DS_WORLD_OUT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ds_world_int.h"

/* mkdir -p path (mode 0755).  Errors: ST_EINVAL (empty or too long),
 * ST_EIO. */
int ds_world_mkdir_p(const char *path);

/* w->path = OUT/rel.  Errors: ST_ETOOBIG if it does not fit. */
int ds_world_out_path(struct world *w, const char *rel);

/* Open OUT/rel for writing (truncating) into *f, with a large buffer.
 * The caller owns *f and closes it with ds_world_close_out().
 * Errors: ST_ETOOBIG, ST_EIO. */
int ds_world_open_out(struct world *w, const char *rel, FILE **f);

/* Close *f (NULL is fine) and set it to NULL.  Errors: ST_EIO if any
 * write to it failed. */
int ds_world_close_out(FILE **f);

/* s as a JSON string (RFC 8259 §7), quotes included, into f. */
void ds_world_put_json_string(FILE *f, const char *s);

/* Issue a leaf for names[0..n) with the world's shared key, signed by the
 * intermediate, valid from not_before to not_after, and write the chain
 * (leaf, intermediate) to OUT/tls/certs/<file>; counts it in
 * w->st.n_certs.  names stay the caller's.
 * Errors: ST_EINVAL, ST_ETLS, ST_ENOMEM, ST_EIO, ST_ETOOBIG. */
int ds_world_issue(struct world *w, const char *const *names, size_t n,
		   time_t not_before, time_t not_after, const char *file);

#endif /* DS_WORLD_OUT_H */
