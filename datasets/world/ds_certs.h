/*
 * ds_certs.h - the certificate factory of the synthetic test world.
 *
 * `stsmap world` runs real servers on loopback (nginx policy hosts, Postfix
 * MX hosts) so that every TLS finding stsmap reports can be produced by a
 * real handshake.  This module makes their certificates with the OpenSSL 3
 * API: a test root CA, intermediates, leaves that are valid or broken in one
 * precise way, and the PEM files the servers and clients read.
 *
 * Every key is EC P-256, every signature ECDSA with SHA-256, every serial
 * 16 random bytes from RAND_bytes() (positive, top byte non-zero).  Leaves
 * may share one key (ds_key_new() once, ds_leaf_issue() many times): signing
 * is then the whole cost of a leaf, which keeps a million-domain world fast.
 *
 * The world's certificate cases, and how to make each.  "root" is the CA the
 * world's clients trust (its certificate, written by ds_ca_write(), is the
 * only one in the --ca-file given to stsmap); "inter" is an intermediate
 * made by ds_ca_new_intermediate(root, ...); "now" is the world's clock.
 * The X509 error is what X509_verify_cert() reports with the host name set
 * (tests/datasets/test_ds_certs.c checks each row):
 *
 *   case                 how                                        served chain   X509 error
 *   valid                issuer inter, nb < now < na, SAN = host     leaf, inter    X509_V_OK
 *   expired              as valid, not_after < now                  leaf, inter    CERT_HAS_EXPIRED
 *   not-yet-valid        as valid, not_before > now                 leaf, inter    CERT_NOT_YET_VALID
 *   wrong-name           as valid, SAN without the host             leaf, inter    HOSTNAME_MISMATCH
 *   self-signed          issuer NULL, self_signed = true            leaf           DEPTH_ZERO_SELF_SIGNED_CERT
 *   untrusted-issuer     issuer: a second ds_ca_new() root (or its  leaf [, its     UNABLE_TO_GET_ISSUER_CERT_LOCALLY
 *                        intermediate) that is not in --ca-file     intermediate]
 *   missing-intermediate issuer inter                               leaf only      UNABLE_TO_GET_ISSUER_CERT_LOCALLY
 *
 * Notes on the table:
 *  - OpenSSL checks the host name before the validity period, so an expired
 *    or not-yet-valid leaf must carry the right name to be reported as such;
 *    keep every case broken in exactly one way.
 *  - untrusted-issuer: never serve the untrusted root itself; a self-signed
 *    certificate in the served chain turns the error into
 *    SELF_SIGNED_CERT_IN_CHAIN.
 *  - missing-intermediate: OpenSSL (and so curl and Postfix) does not fetch
 *    issuers through AIA, so omitting the intermediate reliably fails.
 *  - A leaf expiring soon (the 14-day warning) is a valid leaf whose
 *    not_after is a few days after now.
 *  - A wildcard SAN "*.example.test" matches exactly one leftmost label
 *    (mx1.example.test, not a.b.example.test nor example.test), as in
 *    RFC 6125 §6.4.3 and RFC 8461 §4.1.
 *
 * Errors: functions return ST_OK (0) or a negative st_err: ST_EINVAL for bad
 * arguments, ST_ETLS for any OpenSSL failure (including its allocation
 * failures), ST_ENOMEM for our own allocations, ST_EIO for file system
 * failures.  On ST_ETLS the thread's OpenSSL error queue is cleared, so a
 * later TLS call in the same thread is not misled by stale entries.  On any
 * failure every output pointer that was given is set to NULL and nothing
 * is leaked; no function exits or aborts.
 *
 * No global state.  Nothing here is meant to be used from several threads
 * at once on the same object: give each thread its own ds_ca and key, or
 * serialise the calls.
 */
#ifndef DS_CERTS_H
#define DS_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/types.h>

/* A certificate authority: its private key and its certificate.  Opaque. */
struct ds_ca;

/* Longest subject common name: ub-common-name, RFC 5280 Appendix A. */
#define DS_CN_MAX 64

/*
 * Make a self-signed root CA named "CN=common_name", valid from not_before
 * to not_after (not_before <= not_after), with a fresh P-256 key and the
 * extensions basicConstraints CA:TRUE (critical), keyUsage keyCertSign and
 * cRLSign (critical) and subjectKeyIdentifier.
 *
 * common_name: 1 to DS_CN_MAX bytes, copied.  On success *out owns the new
 * CA: free it with ds_ca_free().
 * Errors: ST_EINVAL (NULL or bad argument), ST_ETLS.
 */
int ds_ca_new(const char *common_name, time_t not_before, time_t not_after,
	      struct ds_ca **out);

/*
 * Make an intermediate CA signed by issuer: as ds_ca_new() but with
 * basicConstraints CA:TRUE, pathlen:0 (critical), and an
 * authorityKeyIdentifier naming issuer's key.  Its validity need not lie
 * within the issuer's.  issuer is only read, and may be freed afterwards:
 * *out holds no reference to it.
 * Errors: ST_EINVAL, ST_ETLS.
 */
int ds_ca_new_intermediate(const struct ds_ca *issuer, const char *common_name,
			   time_t not_before, time_t not_after,
			   struct ds_ca **out);

/* Free ca, its key and its certificate.  NULL is a no-op.  Pointers
 * returned by ds_ca_cert(ca) become invalid. */
void ds_ca_free(struct ds_ca *ca);

/*
 * The CA's certificate, borrowed: valid while ca lives, not to be freed or
 * modified.  To keep it longer, take a reference with X509_up_ref().
 * NULL if ca is NULL.
 */
X509 *ds_ca_cert(const struct ds_ca *ca);

/*
 * Write the CA's certificate (PEM, mode 0644) to cert_path and its private
 * key (unencrypted PKCS#8 PEM, mode 0600) to key_path, each atomically as
 * ds_write_pem_cert() and ds_write_pem_key() do.  key_path may be NULL to
 * write the certificate only (what the world's clients need).  The key is
 * written first: if the certificate then fails, the key file stays.
 * Errors: ST_EINVAL, ST_ETLS, ST_ENOMEM, ST_EIO.
 */
int ds_ca_write(const struct ds_ca *ca, const char *cert_path,
		const char *key_path);

/* What a leaf certificate says.  Nothing here is kept after the call. */
struct ds_leaf_req {
	/* subjectAltName dNSName entries, in order: at least one, each 1 to
	 * 253 bytes of printable ASCII (0x21-0x7e).  Names are not checked
	 * further, so a world may hold odd ones; "*.example.test" is a
	 * wildcard. */
	const char *const *dns_names;
	size_t n_dns_names;
	/* Subject CN, at most DS_CN_MAX bytes.  NULL: the first DNS name, or
	 * no CN at all (an empty subject, with the SAN marked critical as
	 * RFC 5280 §4.2.1.6 requires) if that name is longer than
	 * DS_CN_MAX. */
	const char *common_name;
	time_t not_before;      /* <= not_after */
	time_t not_after;
	bool self_signed;       /* signed by key itself; issuer must be NULL */
};

/*
 * Issue a TLS server certificate for key's public key, signed by issuer's
 * key (issuer != NULL, req->self_signed false) or by key itself (issuer
 * NULL, req->self_signed true).  Extensions: basicConstraints CA:FALSE,
 * keyUsage digitalSignature (critical), extendedKeyUsage serverAuth,
 * subjectAltName from req, subjectKeyIdentifier and authorityKeyIdentifier
 * (the issuer's key, or the leaf's own when self-signed).
 *
 * key is the leaf key, typically one ds_key_new() key shared by every leaf
 * of the world; only its public half is used unless the leaf is
 * self-signed.  An EC key on a named curve takes a fast path (about 15,000
 * leaves a second on one core, most of it the ECDSA signature); any other
 * key type works, through OpenSSL's much slower generic encoder.  key's
 * contents are not changed, though OpenSSL may take and drop references to
 * it (an atomic count), which is why the API's const is cast away inside.
 *
 * On success *out is a new certificate owned by the caller: free it with
 * X509_free().  It holds its own reference to its public key, so key,
 * issuer and req may be freed or changed as soon as the call returns.
 * Errors: ST_EINVAL, ST_ETLS.
 */
int ds_leaf_issue(const struct ds_ca *issuer, const EVP_PKEY *key,
		  const struct ds_leaf_req *req, X509 **out);

/* Make a new EC P-256 key pair.  On success *out is owned by the caller:
 * free it with EVP_PKEY_free().  Errors: ST_EINVAL, ST_ETLS. */
int ds_key_new(EVP_PKEY **out);

/*
 * Write chain[0..n-1] as PEM certificates, in that order (leaf first, then
 * intermediates: what nginx's ssl_certificate and Postfix's smtpd_tls_chain_files
 * expect), to path with mode 0644 (exactly: the umask does not apply).
 *
 * Atomic: the bytes go to "<path>.tmp" (a stale one is removed first),
 * which is then renamed over path, so a reader sees the old file or the
 * whole new one.  Not fsync'd: the world is regenerated, not recovered, and
 * a sync per file would dominate its build time.  Two writers must not
 * target the same path at once.  On failure path is untouched and the
 * temporary file removed.  The certificates are only read.
 * Errors: ST_EINVAL (NULL path or chain, n == 0, a NULL element), ST_ETLS
 * (PEM encoding), ST_ENOMEM, ST_EIO (the file: e.g. no such directory).
 */
int ds_write_pem_cert(const char *path, X509 *const *chain, size_t n);

/*
 * Write key as an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") to path
 * with mode 0600 (exactly), atomically as ds_write_pem_cert() does; the
 * temporary file is created 0600 too.  The encoded key is held in memory
 * that is cleared when freed.  key is only read.
 * Errors: ST_EINVAL, ST_ETLS, ST_ENOMEM, ST_EIO.
 */
int ds_write_pem_key(const char *path, const EVP_PKEY *key);

#endif /* DS_CERTS_H */
