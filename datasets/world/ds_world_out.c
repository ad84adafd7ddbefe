/*
 * ds_world_out.c - the world generator's output helpers (see
 * ds_world_out.h).
 */
#include "ds_world_out.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "ds_certs.h"
#include "st_error.h"

int ds_world_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return ST_EINVAL;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return ST_EIO;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return ST_EIO;
	return ST_OK;
}

int ds_world_out_path(struct world *w, const char *rel)
{
	int n = snprintf(w->path, sizeof(w->path), "%s/%s", w->o->out_dir, rel);

	return n < 0 || (size_t)n >= sizeof(w->path) ? ST_ETOOBIG : ST_OK;
}

int ds_world_open_out(struct world *w, const char *rel, FILE **f)
{
	int ret = ds_world_out_path(w, rel);

	if (ret != ST_OK)
		return ret;
	*f = fopen(w->path, "w");
	if (*f == NULL)
		return ST_EIO;
	/* Large buffers: a bulk world is millions of short writes. */
	setvbuf(*f, NULL, _IOFBF, 1 << 16);
	return ST_OK;
}

int ds_world_close_out(FILE **f)
{
	int ret = ST_OK;

	if (*f == NULL)
		return ST_OK;
	if (ferror(*f))
		ret = ST_EIO;
	if (fclose(*f) != 0)
		ret = ST_EIO;
	*f = NULL;
	return ret;
}

void ds_world_put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int ds_world_issue(struct world *w, const char *const *names, size_t n,
		   time_t not_before, time_t not_after, const char *file)
{
	struct ds_leaf_req req = { .dns_names = names, .n_dns_names = n,
				   .not_before = not_before,
				   .not_after = not_after };
	char rel[DS_WORLD_NAME_MAX + 32];
	X509 *chain[2] = { NULL, NULL };
	int ret;

	if (snprintf(rel, sizeof(rel), "tls/certs/%s", file) >= (int)sizeof(rel))
		return ST_ETOOBIG;
	ret = ds_leaf_issue(w->inter, w->key, &req, &chain[0]);
	if (ret != ST_OK)
		return ret;
	chain[1] = ds_ca_cert(w->inter);
	ret = ds_world_out_path(w, rel);
	if (ret == ST_OK)
		ret = ds_write_pem_cert(w->path, chain, 2);
	X509_free(chain[0]);
	if (ret == ST_OK)
		w->st.n_certs++;
	return ret;
}
