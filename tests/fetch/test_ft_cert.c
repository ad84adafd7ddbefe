/*
 * test_ft_cert.c - ft_cert's chain verification and leaf capture, and
 * ft_cert_fast_keys(): with OpenSSL's built-in EC and RSA key methods
 * selected, every row must give exactly what the provider decoder gave
 * (the same X509 error, name match, subject, issuer, validity and names);
 * only the way the keys were decoded may differ.
 *
 * Each row is a chain made with the world's certificate factory
 * (datasets/world/ds_certs.c), serialised to DER and parsed back with
 * d2i_X509 on every run, as libssl parses what a server sends.  The table
 * runs once before ft_cert_fast_keys() and once after, in one process
 * (the ENGINE table cannot be restored), and the two results are compared
 * field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ds_certs.h"
#include "ft_cert.h"
#include "st_error.h"

#define DAY (24 * 3600)
#define MAX_CHAIN 3

/* One certificate as DER, parsed again for every verification. */
struct der {
	unsigned char *p;
	int len;
};

struct row {
	const char *what;
	const char *host;           /* the name we connect for */
	struct der chain[MAX_CHAIN]; /* leaf first, as a server sends it */
	size_t n;
	int want_error;             /* X509_V_* */
	bool want_match;
};

/* What one verification gave: every field the record keeps. */
struct outcome {
	int verify_error;
	bool name_match;
	bool known;
	char subject[256];
	char issuer[256];
	int64_t not_before, not_after;
	size_t n_names;
	char names[4][64];
	char leaf_key_desc[96];     /* how the leaf's key was decoded */
};

static struct {
	time_t now;
	struct ds_ca *root, *inter, *other;
	EVP_PKEY *ec_key, *p384_key, *rsa_key;
	X509 *root_cert;
	X509 *rsa_root;             /* a second trusted root, RSA-signed */
	struct row rows[16];
	size_t n_rows;
} T;

static struct der to_der(X509 *x)
{
	struct der d = { NULL, 0 };

	d.len = i2d_X509(x, &d.p);
	assert_true(d.len > 0);
	return d;
}

static X509 *leaf(const struct ds_ca *issuer, EVP_PKEY *key, const char *name,
		  time_t nb, time_t na, bool self_signed)
{
	const char *names[1] = { name };
	struct ds_leaf_req req = { .dns_names = names, .n_dns_names = 1,
				   .not_before = nb, .not_after = na,
				   .self_signed = self_signed };
	X509 *x = NULL;

	assert_int_equal(ds_leaf_issue(issuer, key, &req, &x), ST_OK);
	return x;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for pub named CN=cn, signed by signer (issuer's key, or
 * pub's own when issuer is NULL) with SHA-256: the factory makes EC CAs
 * only, and this gives a chain whose signature is RSA PKCS#1 v1.5. */
static X509 *make_cert(X509 *issuer, EVP_PKEY *signer, EVP_PKEY *pub,
		       const char *cn, const char *san)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(nm);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn,
						    -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, nm), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
					      X509_get_subject_name(issuer) : nm), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -DAY));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 90 * DAY));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	if (san == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	X509_NAME_free(nm);
	return x;
}

static void add_row(const char *what, const char *host, X509 *lf,
		    const struct ds_ca *inter, int err, bool match)
{
	struct row *r = &T.rows[T.n_rows++];

	assert_true(T.n_rows <= sizeof(T.rows) / sizeof(T.rows[0]));
	r->what = what;
	r->host = host;
	r->chain[r->n++] = to_der(lf);
	if (inter != NULL)
		r->chain[r->n++] = to_der(ds_ca_cert(inter));
	r->want_error = err;
	r->want_match = match;
	X509_free(lf);
}

static int setup(void **state)
{
	time_t now = time(NULL);
	X509 *x;

	(void)state;
	T.now = now;
	assert_int_equal(ds_ca_new("ft_cert test root", now - 10 * DAY,
				   now + 3650 * DAY, &T.root), ST_OK);
	assert_int_equal(ds_ca_new_intermediate(T.root, "ft_cert test inter",
						now - 10 * DAY, now + 3650 * DAY,
						&T.inter), ST_OK);
	assert_int_equal(ds_ca_new("ft_cert other root", now - 10 * DAY,
				   now + 3650 * DAY, &T.other), ST_OK);
	assert_int_equal(ds_key_new(&T.ec_key), ST_OK);
	T.p384_key = EVP_EC_gen("P-384");
	T.rsa_key = EVP_RSA_gen(2048);
	assert_non_null(T.p384_key);
	assert_non_null(T.rsa_key);
	T.root_cert = ds_ca_cert(T.root);

	/* The world's cases (datasets/world/ds_certs.h), leaf + intermediate
	 * as a server sends them, the root only in the store. */
	add_row("valid", "a.test",
		leaf(T.inter, T.ec_key, "a.test", now - DAY, now + 90 * DAY, false),
		T.inter, X509_V_OK, true);
	add_row("expired", "b.test",
		leaf(T.inter, T.ec_key, "b.test", now - 30 * DAY, now - DAY, false),
		T.inter, X509_V_ERR_CERT_HAS_EXPIRED, true);
	add_row("not yet valid", "c.test",
		leaf(T.inter, T.ec_key, "c.test", now + DAY, now + 90 * DAY, false),
		T.inter, X509_V_ERR_CERT_NOT_YET_VALID, true);
	add_row("wrong name", "d.test",
		leaf(T.inter, T.ec_key, "other.test", now - DAY, now + 90 * DAY,
		     false),
		T.inter, X509_V_OK, false);
	add_row("self-signed", "e.test",
		leaf(NULL, T.ec_key, "e.test", now - DAY, now + 90 * DAY, true),
		NULL, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, true);
	add_row("untrusted issuer", "f.test",
		leaf(T.other, T.ec_key, "f.test", now - DAY, now + 90 * DAY, false),
		NULL, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true);
	add_row("missing intermediate", "g.test",
		leaf(T.inter, T.ec_key, "g.test", now - DAY, now + 90 * DAY, false),
		NULL, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true);
	/* Keys other than P-256 (P-384, RSA) go through the same change and
	 * must verify as before. */
	add_row("P-384 leaf", "h.test",
		leaf(T.inter, T.p384_key, "h.test", now - DAY, now + 90 * DAY,
		     false),
		T.inter, X509_V_OK, true);
	add_row("RSA leaf", "i.test",
		leaf(T.inter, T.rsa_key, "i.test", now - DAY, now + 90 * DAY, false),
		T.inter, X509_V_OK, true);
	/* An EC leaf under an RSA root: the leaf's signature is RSA. */
	T.rsa_root = make_cert(NULL, T.rsa_key, T.rsa_key, "ft_cert RSA root",
			       NULL);
	add_row("RSA-signed leaf", "l.test",
		make_cert(T.rsa_root, T.rsa_key, T.ec_key, "l.test", "DNS:l.test"),
		NULL, X509_V_OK, true);
	/* A leaf whose signature no longer matches: its last byte (inside
	 * the ECDSA signature's s) flipped. */
	x = leaf(T.inter, T.ec_key, "j.test", now - DAY, now + 90 * DAY, false);
	add_row("bad signature", "j.test", x, T.inter,
		X509_V_ERR_CERT_SIGNATURE_FAILURE, true);
	T.rows[T.n_rows - 1].chain[0].p[T.rows[T.n_rows - 1].chain[0].len - 1] ^= 0x01;
	/* An intermediate whose public key point is not on the curve: its
	 * key does not decode (either way), so OpenSSL does not take it
	 * for the leaf's issuer (x509_likely_issued() wants the issuer's
	 * key) and the chain ends at the leaf. */
	{
		struct row *r;
		unsigned char *k;
		int klen;
		X509 *ix = ds_ca_cert(T.inter);
		X509_PUBKEY *pk = X509_get_X509_PUBKEY(ix);
		const unsigned char *pt;
		int ptlen;

		x = leaf(T.inter, T.ec_key, "k.test", now - DAY, now + 90 * DAY,
			 false);
		add_row("intermediate key off the curve", "k.test", x, T.inter,
			X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true);
		r = &T.rows[T.n_rows - 1];
		assert_int_equal(X509_PUBKEY_get0_param(NULL, &pt, &ptlen, NULL, pk),
				 1);
		klen = ptlen;
		/* Find the point's bytes in the DER and change its last byte
		 * (the y coordinate), which leaves it off the curve. */
		k = NULL;
		for (int i = 0; i + klen <= r->chain[1].len; i++)
			if (memcmp(r->chain[1].p + i, pt, (size_t)klen) == 0)
				k = r->chain[1].p + i;
		assert_non_null(k);
		k[klen - 1] ^= 0x01;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < T.n_rows; i++)
		for (size_t j = 0; j < T.rows[i].n; j++)
			OPENSSL_free(T.rows[i].chain[j].p);
	X509_free(T.rsa_root);
	EVP_PKEY_free(T.ec_key);
	EVP_PKEY_free(T.p384_key);
	EVP_PKEY_free(T.rsa_key);
	ds_ca_free(T.root);
	ds_ca_free(T.inter);
	ds_ca_free(T.other);
	return 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "(null)");
}

/* Parse the row's chain as libssl would, verify it against the root as
 * the fetcher's callback does, and keep everything ft_cert recorded. */
static void run_row(const struct row *r, struct outcome *o)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *certs[MAX_CHAIN] = { NULL };
	struct ft_cert c;
	EVP_PKEY *k;

	memset(o, 0, sizeof(*o));
	memset(&c, 0, sizeof(c));
	assert_non_null(store);
	assert_non_null(ctx);
	assert_non_null(untrusted);
	assert_int_equal(X509_STORE_add_cert(store, T.root_cert), 1);
	assert_int_equal(X509_STORE_add_cert(store, T.rsa_root), 1);
	for (size_t i = 0; i < r->n; i++) {
		const unsigned char *p = r->chain[i].p;

		certs[i] = d2i_X509(NULL, &p, r->chain[i].len);
		assert_non_null(certs[i]);
		if (i > 0)
			assert_true(sk_X509_push(untrusted, certs[i]) > 0);
	}
	k = X509_get0_pubkey(certs[0]);
	copy(o->leaf_key_desc, sizeof(o->leaf_key_desc),
	     k != NULL ? EVP_PKEY_get0_description(k) : NULL);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, certs[0], untrusted), 1);
	(void)ft_cert_verify(&c, ctx, r->host);
	o->verify_error = c.verify_error;
	o->name_match = c.name_match;
	o->known = c.known;
	copy(o->subject, sizeof(o->subject), c.subject);
	copy(o->issuer, sizeof(o->issuer), c.issuer);
	o->not_before = c.not_before;
	o->not_after = c.not_after;
	o->n_names = c.n_names;
	for (size_t i = 0; i < c.n_names && i < 4; i++)
		copy(o->names[i], sizeof(o->names[i]), c.names[i]);
	ft_cert_clear(&c);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	for (size_t i = 0; i < r->n; i++)
		X509_free(certs[i]);
	X509_STORE_free(store);
}

static void check_row(const struct row *r, const struct outcome *o)
{
	if (o->verify_error != r->want_error)
		fail_msg("%s: X509 error %d (%s), want %d (%s)", r->what,
			 o->verify_error,
			 X509_verify_cert_error_string(o->verify_error),
			 r->want_error,
			 X509_verify_cert_error_string(r->want_error));
	assert_true(o->known);
	assert_true(o->name_match == r->want_match);
	assert_true(o->not_after > o->not_before);
	assert_int_equal(o->n_names, 1);
}

static void test_fast_keys_same_outcomes(void **state)
{
	struct outcome before[16], after[16];
	size_t changed = 0;

	(void)state;
	/* The provider decoder (OpenSSL 3.0's default). */
	for (size_t i = 0; i < T.n_rows; i++) {
		run_row(&T.rows[i], &before[i]);
		check_row(&T.rows[i], &before[i]);
	}
	assert_int_equal(ft_cert_fast_keys(), ST_OK);
	assert_int_equal(ft_cert_fast_keys(), ST_OK); /* idempotent */
	for (size_t i = 0; i < T.n_rows; i++) {
		const struct outcome *b = &before[i], *a = &after[i];

		run_row(&T.rows[i], &after[i]);
		check_row(&T.rows[i], a);
		assert_int_equal(a->verify_error, b->verify_error);
		assert_true(a->name_match == b->name_match);
		assert_string_equal(a->subject, b->subject);
		assert_string_equal(a->issuer, b->issuer);
		assert_int_equal(a->not_before, b->not_before);
		assert_int_equal(a->not_after, b->not_after);
		assert_int_equal(a->n_names, b->n_names);
		for (size_t j = 0; j < a->n_names && j < 4; j++)
			assert_string_equal(a->names[j], b->names[j]);
		if (strcmp(a->leaf_key_desc, b->leaf_key_desc) != 0)
			changed++;
	}
	/* Every leaf is now decoded by the built-in method (a legacy key,
	 * described by its ASN.1 method rather than a provider's key
	 * manager): the change took effect, on every row. */
	assert_int_equal(changed, T.n_rows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_keys_same_outcomes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
