/*
 * ft_cert.h - what fetch/ records about a TLS peer's leaf certificate:
 * its subjectAltName dNSNames, subject, issuer and validity, whether it
 * names the host we connected for (X509_check_host()), and the first error
 * of the chain verification.
 *
 * Shared by the HTTPS fetcher (ft_fetch.c) and the SMTP prober
 * (ft_smtp.c): both install an SSL_CTX cert-verify callback
 * (SSL_CTX_set_cert_verify_callback()) that calls ft_cert_verify(), so the
 * result carries the precise X509 error rather than the one TLS alert a
 * failed handshake would leave.  The host name is deliberately not put in
 * the verify parameters: verify_error is about the chain alone, and
 * name_match says separately whether the leaf names the host (OpenSSL
 * checks the name before the validity period, so with the name in the
 * parameters a wrong-name expired leaf would only show the name error).
 *
 * Not thread safe per struct; no global state.
 */
#ifndef FT_CERT_H
#define FT_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* Leaf dNSNames kept; more are ignored (ft_fetch.h and ft_smtp.h expose
 * the same cap as FT_MAX_CERT_NAMES and FT_SMTP_MAX_CERT_NAMES). */
#define FT_CERT_MAX_NAMES 32u

/*
 * Zero-initialise (memset or = { 0 }) before first use; free what it holds
 * with ft_cert_clear().  Strings are owned by the struct (NUL-terminated,
 * valid until ft_cert_clear()); a string whose allocation failed is NULL
 * (and a failed name is dropped), which reads as "unknown".
 */
struct ft_cert {
	bool known;                        /* a leaf was captured */
	char *names[FT_CERT_MAX_NAMES];    /* SAN dNSNames, in order */
	size_t n_names;
	char *subject;                     /* one-line RFC 2253 form */
	char *issuer;
	int64_t not_before;                /* Unix time; 0 unknown */
	int64_t not_after;
	bool name_match;                   /* X509_check_host(leaf, host) */
	int verify_error;                  /* X509_V_OK or X509_V_ERR_* */
};

/*
 * For use inside a cert-verify callback: capture the leaf of ctx (the
 * first call only; a later handshake on the same struct keeps the first
 * leaf), checking its names against host (NUL-terminated, only read), then
 * run X509_verify_cert(ctx) and record its first error in verify_error
 * (X509_V_ERR_UNSPECIFIED if it failed without one).  Returns 1 if the
 * chain verified, 0 if not; the caller decides what the handshake does.
 */
int ft_cert_verify(struct ft_cert *c, X509_STORE_CTX *ctx, const char *host);

/* X509_verify_cert_error_string(verify_error) when a leaf was captured,
 * else NULL.  Static string. */
const char *ft_cert_error_string(const struct ft_cert *c);

/* Free the strings and zero c.  NULL is a no-op. */
void ft_cert_clear(struct ft_cert *c);

#endif /* FT_CERT_H */
