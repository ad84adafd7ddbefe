/*
 * st_error.h - the project-wide error codes.
 *
 * Every function that can fail returns an int: ST_OK (0) on success, a
 * negative enum st_err value on failure.  Library error codes (errno, LMDB,
 * curl, ldns, OpenSSL) are translated to these at the module edge, so a
 * caller never needs to know which library failed.
 */
#ifndef ST_ERROR_H
#define ST_ERROR_H

enum st_err {
	ST_OK = 0,
	ST_ENOMEM = -1,        /* allocation failed */
	ST_EINVAL = -2,        /* invalid argument */
	ST_ERANGE = -3,        /* value out of range */
	ST_ETOOBIG = -4,       /* input larger than its cap */
	ST_EPARSE = -5,        /* malformed input */
	ST_ENOENT = -6,        /* no such item */
	ST_EEXIST = -7,        /* item already exists */
	ST_EIO = -8,           /* read/write failure */
	ST_ETIMEDOUT = -9,     /* deadline passed */
	ST_EAGAIN = -10,       /* try again later (limit reached) */
	ST_ECONNREFUSED = -11, /* peer refused the connection */
	ST_ETLS = -12,         /* TLS failure */
	ST_EDNS = -13,         /* DNS failure */
	ST_EHTTP = -14,        /* HTTP failure */
	ST_ESTORE = -15,       /* result store failure */
	ST_EDENIED = -16,      /* refused by policy (e.g. non-public address) */
	ST_ENOTSUP = -17,      /* not supported */
	ST_ESPACE = -18,       /* fixed-size output is full */
	ST_EUNKNOWN = -19,     /* unclassified failure; keep last */
};

/* A static, human-readable description of err.  Never NULL; unknown values
 * get a generic string.  The pointer stays valid for the program's life. */
const char *st_strerror(int err);

#endif /* ST_ERROR_H */
