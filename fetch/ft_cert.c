/*
 * ft_cert.c - leaf certificate capture and chain verification for the
 * fetcher's and the prober's cert-verify callbacks.
 */
#include "ft_cert.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static char *name_oneline(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	char *p;
	long len;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) < 0)
		goto cleanup;
	len = BIO_get_mem_data(b, &p);
	if (len < 0)
		goto cleanup;
	out = malloc((size_t)len + 1);
	if (out == NULL)
		goto cleanup;
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
cleanup:
	BIO_free(b);
	return out;
}

static void capture_leaf(struct ft_cert *c, X509 *leaf, const char *host)
{
	GENERAL_NAMES *sans;

	c->known = true;
	c->not_before = asn1_time_unix(X509_get0_notBefore(leaf));
	c->not_after = asn1_time_unix(X509_get0_notAfter(leaf));
	c->subject = name_oneline(X509_get_subject_name(leaf));
	c->issuer = name_oneline(X509_get_issuer_name(leaf));
	c->name_match = X509_check_host(leaf, host, 0, 0, NULL) == 1;
	sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	if (sans == NULL)
		return;
	for (int i = 0; i < sk_GENERAL_NAME_num(sans) &&
			c->n_names < FT_CERT_MAX_NAMES; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const unsigned char *d;
		int len;
		char *s;

		if (gn->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		if (len < 0)
			continue;
		s = malloc((size_t)len + 1);
		if (s == NULL)
			break;
		memcpy(s, d, (size_t)len);
		s[len] = '\0';
		c->names[c->n_names++] = s;
	}
	GENERAL_NAMES_free(sans);
}

int ft_cert_verify(struct ft_cert *c, X509_STORE_CTX *ctx, const char *host)
{
	X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
	int ok;

	if (leaf != NULL && !c->known)
		capture_leaf(c, leaf, host);
	/* The default verify callback stops at the first error, so this is
	 * the first one found. */
	ok = X509_verify_cert(ctx);
	c->verify_error = X509_STORE_CTX_get_error(ctx);
	if (ok != 1 && c->verify_error == X509_V_OK)
		c->verify_error = X509_V_ERR_UNSPECIFIED;
	return ok == 1 ? 1 : 0;
}

const char *ft_cert_error_string(const struct ft_cert *c)
{
	if (!c->known)
		return NULL;
	return X509_verify_cert_error_string(c->verify_error);
}

void ft_cert_clear(struct ft_cert *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->subject);
	free(c->issuer);
	memset(c, 0, sizeof(*c));
}
