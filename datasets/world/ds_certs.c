/*
 * ds_certs.c - the certificate factory of the synthetic test world.
 *
 * Certificates are built field by field with the OpenSSL 3 API; the fixed
 * extensions go through X509V3_EXT_conf_nid() (the same code path as an
 * openssl.cnf section), the subjectAltName is built as GENERAL_NAMES so a
 * name is never parsed as configuration syntax.  A leaf costs one ECDSA
 * signature plus a few microseconds, thanks to legacy_ec_public(); read it
 * before "simplifying" set_pubkey().
 */
#include "ds_certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "st_error.h"

#define SERIAL_LEN 16
#define DNS_NAME_MAX 253 /* presentation form, RFC 1035 §3.1 */

struct ds_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* Every OpenSSL failure ends here: see the header for why the queue is
 * cleared. */
static int tls_fail(void)
{
	ERR_clear_error();
	return ST_ETLS;
}

static bool cn_ok(const char *cn)
{
	size_t len;

	if (cn == NULL)
		return false;
	len = strlen(cn);
	return len > 0 && len <= DS_CN_MAX;
}

/* 16 random bytes read as an unsigned number, so positive (RFC 5280
 * §4.1.2.2).  Top bit clear (no 0x00 sign octet) and next bit set (no
 * leading zero octet): the DER INTEGER's content is always 16 octets. */
static int set_serial(X509 *x)
{
	unsigned char buf[SERIAL_LEN];
	BIGNUM *bn = NULL;
	int ret = ST_ETLS;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		goto cleanup;
	buf[0] = (unsigned char)((buf[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(buf, sizeof(buf), NULL);
	if (bn == NULL)
		goto cleanup;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto cleanup;
	ret = ST_OK;
cleanup:
	BN_free(bn);
	return ret;
}

/*
 * A public-only copy of an EC key on a named curve, as a "legacy" EVP_PKEY
 * (one backed by an EC_KEY rather than a provider); NULL for any other key
 * or on failure, with the OpenSSL error queue as it was.
 *
 * Why: X509_set_pubkey() of a provider key (what EVP_EC_gen() and every
 * PEM reader make in OpenSSL 3.0) builds an OSSL_ENCODER and an
 * OSSL_DECODER context per call: ~2,000 calls a second, ten times slower
 * than the ECDSA signature and the whole cost of a leaf.  A legacy key is
 * encoded by its ameth directly, and making one from the curve's OID and
 * the encoded point takes a few microseconds.  Only documented,
 * non-deprecated calls are used; the SPKI is byte-identical (the tests
 * compare it with i2d_PUBKEY()).
 */
static EVP_PKEY *legacy_ec_public(const EVP_PKEY *key)
{
	unsigned char oid[64], point[256]; /* P-521: 133-byte point */
	unsigned char *w = oid;
	const unsigned char *r;
	EVP_PKEY *pub = NULL;
	char group[80];
	size_t point_len;
	int curve, oid_len;

	if (!EVP_PKEY_is_a(key, "EC"))
		return NULL;
	ERR_set_mark();
	if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1)
		goto fail;
	curve = OBJ_txt2nid(group);
	if (curve == NID_undef)
		goto fail;
	if (i2d_ASN1_OBJECT(OBJ_nid2obj(curve), NULL) > (int)sizeof(oid))
		goto fail;
	oid_len = i2d_ASN1_OBJECT(OBJ_nid2obj(curve), &w);
	if (oid_len <= 0)
		goto fail;
	if (EVP_PKEY_get_octet_string_param(key,
					    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					    point, sizeof(point),
					    &point_len) != 1)
		goto fail;
	/* ECParameters (RFC 5480 §2.1.1: namedCurve), then the point. */
	r = oid;
	pub = d2i_KeyParams(EVP_PKEY_EC, NULL, &r, oid_len);
	if (pub == NULL)
		goto fail;
	r = point;
	if (d2i_PublicKey(EVP_PKEY_EC, &pub, &r, (long)point_len) == NULL)
		goto fail;
	ERR_pop_to_mark();
	return pub;
fail:
	EVP_PKEY_free(pub);
	ERR_pop_to_mark();
	return NULL;
}

/* Put pub into x's subjectPublicKeyInfo: the fast way when it can be taken
 * (see legacy_ec_public()), the generic one otherwise.  x holds its own
 * reference to whichever key it gets. */
static int set_pubkey(X509 *x, const EVP_PKEY *pub)
{
	EVP_PKEY *fast = legacy_ec_public(pub);
	int ok;

	if (fast != NULL) {
		ok = X509_set_pubkey(x, fast);
		EVP_PKEY_free(fast);
	} else {
		/* Only takes a reference: the key is not changed. */
		ok = X509_set_pubkey(x, (EVP_PKEY *)pub);
	}
	return ok == 1 ? ST_OK : ST_ETLS;
}

/* A fresh v3 certificate: serial, validity, subject "CN=cn" (no CN when cn
 * is NULL) and pub as its key.  Issuer name, extensions and signature are
 * the caller's. */
static int cert_new(const char *cn, time_t not_before, time_t not_after,
		    const EVP_PKEY *pub, X509 **out)
{
	X509 *x = NULL;
	int ret = ST_ETLS;

	x = X509_new();
	if (x == NULL)
		goto cleanup;
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto cleanup;
	ret = set_serial(x);
	if (ret != ST_OK)
		goto cleanup;
	ret = ST_ETLS;
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL)
		goto cleanup;
	if (cn != NULL &&
	    X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName,
				       MBSTRING_UTF8, (const unsigned char *)cn,
				       -1, -1, 0) != 1)
		goto cleanup;
	ret = set_pubkey(x, pub);
	if (ret != ST_OK)
		goto cleanup;
	*out = x;
	x = NULL;
	ret = ST_OK;
cleanup:
	X509_free(x);
	return ret;
}

/* Add one extension given in openssl.cnf syntax ("critical,CA:TRUE"). */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ret = ST_ETLS;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL)
		return ST_ETLS;
	if (X509_add_ext(x, ext, -1) == 1)
		ret = ST_OK;
	X509_EXTENSION_free(ext);
	return ret;
}

/* One extension in openssl.cnf syntax. */
struct ext_spec {
	int nid;
	const char *value;
};

/* Add the extensions in exts, in order, with x as subject and issuer_cert
 * as issuer (x itself when self-signed). */
static int add_exts(X509 *x, X509 *issuer_cert, const struct ext_spec *exts,
		    size_t n)
{
	X509V3_CTX ctx;
	int ret = ST_OK;

	X509V3_set_ctx(&ctx, issuer_cert, x, NULL, NULL, 0);
	for (size_t i = 0; i < n && ret == ST_OK; i++)
		ret = add_ext(x, &ctx, exts[i].nid, exts[i].value);
	return ret;
}

static int add_san(X509 *x, const char *const *names, size_t n, bool critical)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int ret = ST_ETLS;

	gens = GENERAL_NAMES_new();
	if (gens == NULL)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		ia5 = ASN1_IA5STRING_new();
		if (ia5 == NULL ||
		    ASN1_STRING_set(ia5, names[i], (int)strlen(names[i])) != 1)
			goto cleanup;
		gen = GENERAL_NAME_new();
		if (gen == NULL)
			goto cleanup;
		GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
		ia5 = NULL;
		if (sk_GENERAL_NAME_push(gens, gen) == 0)
			goto cleanup;
		gen = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
			      X509V3_ADD_DEFAULT) != 1)
		goto cleanup;
	ret = ST_OK;
cleanup:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return ret;
}

static int sign(X509 *x, const EVP_PKEY *key)
{
	/* X509_sign() returns the signature length, 0 on failure.  The key is
	 * only used, not changed. */
	if (X509_sign(x, (EVP_PKEY *)key, EVP_sha256()) <= 0)
		return ST_ETLS;
	return ST_OK;
}

/* A CA certificate and key: self-signed root when issuer is NULL, else an
 * intermediate with pathlen 0. */
static int ca_make(const struct ds_ca *issuer, const char *cn,
		   time_t not_before, time_t not_after, struct ds_ca **out)
{
	static const struct ext_spec root_exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
	};
	static const struct ext_spec inter_exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	struct ds_ca *ca = NULL;
	int ret;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || !cn_ok(cn) || not_before > not_after)
		return ST_EINVAL;
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return ST_ENOMEM;
	ret = ds_key_new(&ca->key);
	if (ret != ST_OK)
		goto fail;
	ret = cert_new(cn, not_before, not_after, ca->key, &ca->cert);
	if (ret != ST_OK)
		goto fail;
	ret = ST_ETLS;
	if (X509_set_issuer_name(ca->cert,
				 X509_get_subject_name(issuer != NULL ?
						       issuer->cert :
						       ca->cert)) != 1)
		goto fail;
	if (issuer == NULL)
		ret = add_exts(ca->cert, ca->cert, root_exts,
			       sizeof(root_exts) / sizeof(root_exts[0]));
	else
		ret = add_exts(ca->cert, issuer->cert, inter_exts,
			       sizeof(inter_exts) / sizeof(inter_exts[0]));
	if (ret != ST_OK)
		goto fail;
	ret = sign(ca->cert, issuer != NULL ? issuer->key : ca->key);
	if (ret != ST_OK)
		goto fail;
	*out = ca;
	return ST_OK;
fail:
	ds_ca_free(ca);
	return ret == ST_ETLS ? tls_fail() : ret;
}

int ds_ca_new(const char *common_name, time_t not_before, time_t not_after,
	      struct ds_ca **out)
{
	return ca_make(NULL, common_name, not_before, not_after, out);
}

int ds_ca_new_intermediate(const struct ds_ca *issuer, const char *common_name,
			   time_t not_before, time_t not_after,
			   struct ds_ca **out)
{
	if (issuer == NULL) {
		if (out != NULL)
			*out = NULL;
		return ST_EINVAL;
	}
	return ca_make(issuer, common_name, not_before, not_after, out);
}

void ds_ca_free(struct ds_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

X509 *ds_ca_cert(const struct ds_ca *ca)
{
	return ca != NULL ? ca->cert : NULL;
}

static bool dns_name_ok(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	}
	return true;
}

static bool leaf_req_ok(const struct ds_ca *issuer, const EVP_PKEY *key,
			const struct ds_leaf_req *req)
{
	if (key == NULL || req == NULL)
		return false;
	if (req->self_signed != (issuer == NULL))
		return false;
	if (req->dns_names == NULL || req->n_dns_names == 0)
		return false;
	for (size_t i = 0; i < req->n_dns_names; i++) {
		if (!dns_name_ok(req->dns_names[i]))
			return false;
	}
	if (req->common_name != NULL && !cn_ok(req->common_name))
		return false;
	return req->not_before <= req->not_after;
}

int ds_leaf_issue(const struct ds_ca *issuer, const EVP_PKEY *key,
		  const struct ds_leaf_req *req, X509 **out)
{
	static const struct ext_spec leaf_exts[] = {
		{ NID_basic_constraints, "CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "serverAuth" },
		{ NID_subject_key_identifier, "hash" },
		/* After the SKI: a self-signed leaf's AKI copies it. */
		{ NID_authority_key_identifier, "keyid:always" },
	};
	const char *cn;
	X509 *x = NULL;
	int ret;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || !leaf_req_ok(issuer, key, req))
		return ST_EINVAL;
	cn = req->common_name;
	if (cn == NULL && cn_ok(req->dns_names[0]))
		cn = req->dns_names[0];
	ret = cert_new(cn, req->not_before, req->not_after, key, &x);
	if (ret != ST_OK)
		goto fail;
	ret = ST_ETLS;
	if (X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ?
							  issuer->cert : x)) != 1)
		goto fail;
	/* RFC 5280 §4.2.1.6: with an empty subject the SAN is critical. */
	ret = add_san(x, req->dns_names, req->n_dns_names, cn == NULL);
	if (ret != ST_OK)
		goto fail;
	ret = add_exts(x, issuer != NULL ? issuer->cert : x, leaf_exts,
		       sizeof(leaf_exts) / sizeof(leaf_exts[0]));
	if (ret != ST_OK)
		goto fail;
	ret = sign(x, issuer != NULL ? issuer->key : key);
	if (ret != ST_OK)
		goto fail;
	*out = x;
	return ST_OK;
fail:
	X509_free(x);
	return ret == ST_ETLS ? tls_fail() : ret;
}

int ds_key_new(EVP_PKEY **out)
{
	if (out == NULL)
		return ST_EINVAL;
	*out = EVP_EC_gen("P-256");
	if (*out == NULL)
		return tls_fail();
	return ST_OK;
}

/* Write len bytes to "<path>.tmp" created with mode, then rename it over
 * path.  On failure path is untouched and the temporary file is gone. */
static int write_atomic(const char *path, const void *data, size_t len,
			mode_t mode)
{
	const unsigned char *p = data;
	size_t plen = strlen(path);
	char *tmp;
	int fd = -1;
	int ret = ST_EIO;

	tmp = malloc(plen + sizeof(".tmp"));
	if (tmp == NULL)
		return ST_ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", sizeof(".tmp"));

	/* A stale temporary file (an interrupted run) is replaced, not
	 * reused: O_EXCL then guarantees the new one starts with our mode. */
	if (unlink(tmp) != 0 && errno != ENOENT)
		goto cleanup;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		goto cleanup;
	/* The exact mode, whatever the umask. */
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	ret = ST_OK;
	goto cleanup;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
cleanup:
	free(tmp);
	return ret;
}

/* Write the contents of a memory BIO to path. */
static int write_bio(const char *path, BIO *bio, mode_t mode)
{
	char *data = NULL;
	long len;

	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || data == NULL)
		return tls_fail();
	return write_atomic(path, data, (size_t)len, mode);
}

int ds_write_pem_cert(const char *path, X509 *const *chain, size_t n)
{
	BIO *bio = NULL;
	int ret;

	if (path == NULL || path[0] == '\0' || chain == NULL || n == 0)
		return ST_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (chain[i] == NULL)
			return ST_EINVAL;
	}
	/* Encode first, then write: an OpenSSL failure is ST_ETLS, a file
	 * failure ST_EIO, and a half-encoded chain never reaches the disk. */
	ret = ST_ETLS;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		if (PEM_write_bio_X509(bio, chain[i]) != 1)
			goto cleanup;
	}
	ret = write_bio(path, bio, 0644);
cleanup:
	BIO_free(bio);
	return ret == ST_ETLS ? tls_fail() : ret;
}

int ds_write_pem_key(const char *path, const EVP_PKEY *key)
{
	BIO *bio = NULL;
	int ret = ST_ETLS;

	if (path == NULL || path[0] == '\0' || key == NULL)
		return ST_EINVAL;
	/* A secure-memory BIO: the key bytes are cleared when it is freed. */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		goto cleanup;
	/* PEM_write_bio_PrivateKey() writes PKCS#8; no cipher: unencrypted. */
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		goto cleanup;
	ret = write_bio(path, bio, 0600);
cleanup:
	BIO_free(bio);
	return ret == ST_ETLS ? tls_fail() : ret;
}

int ds_ca_write(const struct ds_ca *ca, const char *cert_path,
		const char *key_path)
{
	int ret;

	if (ca == NULL || cert_path == NULL || cert_path[0] == '\0' ||
	    (key_path != NULL && key_path[0] == '\0'))
		return ST_EINVAL;
	if (key_path != NULL) {
		ret = ds_write_pem_key(key_path, ca->key);
		if (ret != ST_OK)
			return ret;
	}
	return ds_write_pem_cert(cert_path, &ca->cert, 1);
}
