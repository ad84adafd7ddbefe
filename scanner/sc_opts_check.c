/*
 * sc_opts_check.c - stsmap's own configuration, checked before a scan.
 */
#include "sc_opts_check.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rs_resolver.h"
#include "st_error.h"

const char *sc_check_header_value(const char *v)
{
	size_t n = strnlen(v, SC_HEADER_VALUE_MAX + 1);

	if (n == 0)
		return "is empty";
	if (n > SC_HEADER_VALUE_MAX)
		return "is longer than 512 bytes";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r' || c == '\n')
			return "contains CR or LF (it would start another "
			       "HTTP header)";
		if (c < 0x20 || c > 0x7e)
			return "contains a byte that is not printable ASCII";
	}
	return NULL;
}

const char *sc_check_ehlo(const char *v)
{
	size_t n = strnlen(v, SC_EHLO_MAX + 1);

	if (n == 0)
		return "is empty";
	if (n > SC_EHLO_MAX)
		return "is longer than 255 bytes";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r' || c == '\n')
			return "contains CR or LF (it would end the SMTP "
			       "command)";
		if (c <= 0x20 || c > 0x7e)
			return "must be a domain or address literal: printable "
			       "ASCII without spaces";
	}
	return NULL;
}

const char *sc_check_ca_file(const char *path, char *why, size_t whylen)
{
	struct stat st;
	FILE *fp;
	X509 *x;
	unsigned n = 0;

	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return why;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s", S_ISDIR(st.st_mode)
			 ? "is a directory" : "is not a regular file");
		fclose(fp);
		return why;
	}
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	/* The loop ends on the end of the file (PEM_R_NO_START_LINE) or on
	 * a damaged certificate: only the first is fine. */
	unsigned long e = ERR_peek_last_error();
	bool eof = ERR_GET_LIB(e) == ERR_LIB_PEM &&
		   ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
	ERR_clear_error();
	fclose(fp);
	if (n == 0) {
		snprintf(why, whylen, "holds no PEM certificate");
		return why;
	}
	if (e != 0 && !eof) {
		snprintf(why, whylen, "certificate %u is damaged", n + 1);
		return why;
	}
	return NULL;
}

static bool bad(FILE *err, const char *cmd, const char *opt, const char *v,
		const char *why)
{
	fprintf(err, "stsmap %s: --%s '", cmd, opt);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p >= 0x20 && *p <= 0x7e)
			fputc(*p, err);
		else
			fprintf(err, "\\x%02x", *p); /* never echo a CR or LF */
	}
	fprintf(err, "': %s\n", why);
	return false;
}

bool sc_config_check(const struct sc_config *cfg, const char *cmd, FILE *err)
{
	char why[256];
	const char *w;

	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		if (rs_upstream_check(cfg->resolvers[i]) != ST_OK)
			return bad(err, cmd, "resolver", cfg->resolvers[i],
				   "not an address: IP, IP:PORT or "
				   "[IPv6]:PORT");
	}
	if (cfg->user_agent != NULL &&
	    (w = sc_check_header_value(cfg->user_agent)) != NULL)
		return bad(err, cmd, "user-agent", cfg->user_agent, w);
	if (cfg->contact_url != NULL &&
	    (w = sc_check_header_value(cfg->contact_url)) != NULL)
		return bad(err, cmd, "contact", cfg->contact_url, w);
	if (cfg->ehlo_name != NULL && (w = sc_check_ehlo(cfg->ehlo_name)) != NULL)
		return bad(err, cmd, "ehlo", cfg->ehlo_name, w);
	if (cfg->ca_file != NULL &&
	    sc_check_ca_file(cfg->ca_file, why, sizeof(why)) != NULL)
		return bad(err, cmd, "ca-file", cfg->ca_file, why);
	return true;
}
