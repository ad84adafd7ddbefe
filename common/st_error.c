#include "st_error.h"

const char *st_strerror(int err)
{
	switch ((enum st_err)err) {
	case ST_OK: return "success";
	case ST_ENOMEM: return "out of memory";
	case ST_EINVAL: return "invalid argument";
	case ST_ERANGE: return "value out of range";
	case ST_ETOOBIG: return "input too large";
	case ST_EPARSE: return "malformed input";
	case ST_ENOENT: return "not found";
	case ST_EEXIST: return "already exists";
	case ST_EIO: return "input/output error";
	case ST_ETIMEDOUT: return "timed out";
	case ST_EAGAIN: return "resource temporarily unavailable";
	case ST_ECONNREFUSED: return "connection refused";
	case ST_ETLS: return "TLS failure";
	case ST_EDNS: return "DNS failure";
	case ST_EHTTP: return "HTTP failure";
	case ST_ESTORE: return "result store failure";
	case ST_EDENIED: return "denied by policy";
	case ST_ENOTSUP: return "not supported";
	case ST_ESPACE: return "no space left in output";
	case ST_EUNKNOWN: return "unknown error";
	}
	return "unknown error code";
}
