/*
 * test_ds_certs.c - datasets/: the test world's certificate factory.
 *
 * Each certificate case of the world (see ds_certs.h) is verified the way a
 * TLS client verifies it: X509_verify_cert() with the "ssl_server" defaults
 * libssl uses (purpose serverAuth), the host name set with
 * X509_VERIFY_PARAM_set1_host(), a trust store holding only the test root,
 * and the served chain as the untrusted certificates.  Each row asserts the
 * exact X509 error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ds_certs.h"
#include "st_error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DAY ((time_t)86400)

/* The fixture: a trusted root and its intermediate, a rogue root and its
 * intermediate that no client trusts, one shared leaf key. */
struct world {
	time_t now;
	struct ds_ca *root;
	struct ds_ca *inter;
	struct ds_ca *rogue;
	struct ds_ca *rogue_inter;
	EVP_PKEY *key;
};

static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -1;
	w->now = time(NULL);
	if (ds_ca_new("stsmap world root", w->now - 365 * DAY,
		      w->now + 3650 * DAY, &w->root) != ST_OK ||
	    ds_ca_new_intermediate(w->root, "stsmap world intermediate",
				   w->now - 365 * DAY, w->now + 1825 * DAY,
				   &w->inter) != ST_OK ||
	    ds_ca_new("rogue root", w->now - 365 * DAY, w->now + 3650 * DAY,
		      &w->rogue) != ST_OK ||
	    ds_ca_new_intermediate(w->rogue, "rogue intermediate",
				   w->now - 365 * DAY, w->now + 1825 * DAY,
				   &w->rogue_inter) != ST_OK ||
	    ds_key_new(&w->key) != ST_OK) {
		*state = w;
		return -1;
	}
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;

	if (w == NULL)
		return 0;
	ds_ca_free(w->root);
	ds_ca_free(w->inter);
	ds_ca_free(w->rogue);
	ds_ca_free(w->rogue_inter);
	EVP_PKEY_free(w->key);
	free(w);
	return 0;
}

/* Verify leaf for host as a client trusting only w->root would, with
 * served[0..n-1] as the rest of the chain the server sends.  Returns the
 * X509 error (X509_V_OK on success). */
static int verify(const struct world *w, X509 *leaf, X509 *const *served,
		  size_t n, const char *host)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *untrusted;
	int ok, err;

	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	untrusted = sk_X509_new_null();
	assert_non_null(store);
	assert_non_null(ctx);
	assert_non_null(untrusted);
	assert_int_equal(X509_STORE_add_cert(store, ds_ca_cert(w->root)), 1);
	for (size_t i = 0; i < n; i++)
		assert_true(sk_X509_push(untrusted, served[i]) > 0);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	/* What libssl sets for a client checking a server. */
	assert_int_equal(X509_STORE_CTX_set_default(ctx, "ssl_server"), 1);
	assert_int_equal(X509_VERIFY_PARAM_set1_host(
				 X509_STORE_CTX_get0_param(ctx), host, 0), 1);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	assert_int_equal(ok == 1, err == X509_V_OK);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return err;
}

enum by {
	BY_INTER,        /* the trusted intermediate */
	BY_ROOT,         /* the trusted root directly */
	BY_SELF,         /* self-signed */
	BY_ROGUE,        /* the untrusted root */
	BY_ROGUE_INTER,  /* the untrusted root's intermediate */
};

enum serve {
	SERVE_LEAF,      /* the leaf alone */
	SERVE_ISSUER,    /* the leaf and its issuer */
	SERVE_ALL,       /* the leaf, its issuer and the issuer's issuer */
};

static const char *const name_sts[] = { "mta-sts.example.test" };
static const char *const name_other[] = { "mta-sts.other.test" };
static const char *const name_wild[] = { "*.example.test" };
static const char *const name_two[] = { "mta-sts.example.test",
					"mx1.example.test" };
/* 71 bytes: longer than a CN may be, so the subject is empty. */
#define LONG_NAME \
	"a-policy-host-label-that-is-long.and-another-long-label.example.test"
static const char *const name_long[] = { LONG_NAME };

struct verify_case {
	const char *what;
	enum by by;
	time_t nb, na;                /* relative to now */
	const char *const *names;
	size_t n_names;
	enum serve serve;
	const char *host;
	int want;
};

#define NAMES(a) a, ARRAY_LEN(a)

static const struct verify_case cases[] = {
	/* The world's cases, one row each (ds_certs.h). */
	{ "valid", BY_INTER, -DAY, 90 * DAY, NAMES(name_sts), SERVE_ISSUER,
	  "mta-sts.example.test", X509_V_OK },
	{ "expired", BY_INTER, -90 * DAY, -DAY, NAMES(name_sts), SERVE_ISSUER,
	  "mta-sts.example.test", X509_V_ERR_CERT_HAS_EXPIRED },
	{ "not yet valid", BY_INTER, DAY, 90 * DAY, NAMES(name_sts),
	  SERVE_ISSUER, "mta-sts.example.test",
	  X509_V_ERR_CERT_NOT_YET_VALID },
	{ "wrong name", BY_INTER, -DAY, 90 * DAY, NAMES(name_other),
	  SERVE_ISSUER, "mta-sts.example.test", X509_V_ERR_HOSTNAME_MISMATCH },
	{ "self-signed", BY_SELF, -DAY, 90 * DAY, NAMES(name_sts), SERVE_LEAF,
	  "mta-sts.example.test", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT },
	{ "untrusted issuer", BY_ROGUE, -DAY, 90 * DAY, NAMES(name_sts),
	  SERVE_LEAF, "mta-sts.example.test",
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ "missing intermediate", BY_INTER, -DAY, 90 * DAY, NAMES(name_sts),
	  SERVE_LEAF, "mta-sts.example.test",
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	/* RFC 6125 §6.4.3, RFC 8461 §4.1: "*." covers exactly one label. */
	{ "wildcard, one label", BY_INTER, -DAY, 90 * DAY, NAMES(name_wild),
	  SERVE_ISSUER, "mx1.example.test", X509_V_OK },
	{ "wildcard, two labels", BY_INTER, -DAY, 90 * DAY, NAMES(name_wild),
	  SERVE_ISSUER, "a.b.example.test", X509_V_ERR_HOSTNAME_MISMATCH },
	{ "wildcard, no label", BY_INTER, -DAY, 90 * DAY, NAMES(name_wild),
	  SERVE_ISSUER, "example.test", X509_V_ERR_HOSTNAME_MISMATCH },
	/* Variants the world may use. */
	{ "second SAN", BY_INTER, -DAY, 90 * DAY, NAMES(name_two),
	  SERVE_ISSUER, "mx1.example.test", X509_V_OK },
	{ "name case-insensitive", BY_INTER, -DAY, 90 * DAY, NAMES(name_sts),
	  SERVE_ISSUER, "MTA-STS.Example.TEST", X509_V_OK },
	{ "expiring in 7 days", BY_INTER, -80 * DAY, 7 * DAY, NAMES(name_sts),
	  SERVE_ISSUER, "mta-sts.example.test", X509_V_OK },
	{ "issued by the root", BY_ROOT, -DAY, 90 * DAY, NAMES(name_sts),
	  SERVE_LEAF, "mta-sts.example.test", X509_V_OK },
	{ "name longer than a CN", BY_INTER, -DAY, 90 * DAY, NAMES(name_long),
	  SERVE_ISSUER, LONG_NAME, X509_V_OK },
	{ "untrusted intermediate served", BY_ROGUE_INTER, -DAY, 90 * DAY,
	  NAMES(name_sts), SERVE_ISSUER, "mta-sts.example.test",
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	/* Why the world never serves the untrusted root (ds_certs.h). */
	{ "untrusted root served", BY_ROGUE_INTER, -DAY, 90 * DAY,
	  NAMES(name_sts), SERVE_ALL, "mta-sts.example.test",
	  X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN },
	/* The host name is checked before the dates: break one thing. */
	{ "expired and wrong name", BY_INTER, -90 * DAY, -DAY,
	  NAMES(name_other), SERVE_ISSUER, "mta-sts.example.test",
	  X509_V_ERR_HOSTNAME_MISMATCH },
};

static void test_verify_cases(void **state)
{
	const struct world *w = *state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct verify_case *c = &cases[i];
		const struct ds_ca *issuer = NULL, *top = NULL;
		struct ds_leaf_req req = {
			.dns_names = c->names,
			.n_dns_names = c->n_names,
			.not_before = w->now + c->nb,
			.not_after = w->now + c->na,
			.self_signed = c->by == BY_SELF,
		};
		X509 *leaf = NULL;
		X509 *served[2];
		size_t n_served = 0;
		int err;

		switch (c->by) {
		case BY_INTER:
			issuer = w->inter;
			top = w->root;
			break;
		case BY_ROOT:
			issuer = w->root;
			break;
		case BY_SELF:
			break;
		case BY_ROGUE:
			issuer = w->rogue;
			break;
		case BY_ROGUE_INTER:
			issuer = w->rogue_inter;
			top = w->rogue;
			break;
		}
		assert_int_equal(ds_leaf_issue(issuer, w->key, &req, &leaf),
				 ST_OK);
		if (c->serve >= SERVE_ISSUER)
			served[n_served++] = ds_ca_cert(issuer);
		if (c->serve >= SERVE_ALL)
			served[n_served++] = ds_ca_cert(top);
		err = verify(w, leaf, served, n_served, c->host);
		X509_free(leaf);
		if (err != c->want)
			fail_msg("%s: got %d (%s), want %d (%s)", c->what, err,
				 X509_verify_cert_error_string(err), c->want,
				 X509_verify_cert_error_string(c->want));
	}
}

static void assert_ski_matches_aki(X509 *subject, X509 *issuer)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(subject);

	assert_non_null(ski);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki), 0);
}

static bool ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) != 0;
}

/* The certificate's SubjectPublicKeyInfo is the one OpenSSL encodes for
 * key: the fast path in ds_certs.c builds it another way. */
static void assert_spki_is(X509 *x, EVP_PKEY *key)
{
	unsigned char *a = NULL, *b = NULL;
	int la, lb;

	la = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &a);
	lb = i2d_PUBKEY(key, &b);
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, (size_t)la);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

static void assert_ec_p256(EVP_PKEY *key)
{
	char group[32];

	assert_true(EVP_PKEY_is_a(key, "EC"));
	assert_int_equal(EVP_PKEY_get_group_name(key, group, sizeof(group),
						 NULL), 1);
	assert_string_equal(group, "prime256v1");
}

/* The extensions, key and signature the header promises. */
static void test_profile(void **state)
{
	const struct world *w = *state;
	X509 *root = ds_ca_cert(w->root), *inter = ds_ca_cert(w->inter);
	struct ds_leaf_req req = {
		.dns_names = name_two,
		.n_dns_names = ARRAY_LEN(name_two),
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	X509 *leaf = NULL, *self = NULL;

	/* Root: CA, critical basicConstraints and keyUsage, SKI. */
	assert_int_equal(X509_check_ca(root), 1);
	assert_true(ext_critical(root, NID_basic_constraints));
	assert_true(ext_critical(root, NID_key_usage));
	assert_int_equal(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(root));
	assert_int_equal(X509_self_signed(root, 1), 1);
	assert_int_equal(X509_get_signature_nid(root), NID_ecdsa_with_SHA256);
	assert_ec_p256(X509_get0_pubkey(root));

	/* Intermediate: CA, pathlen 0, AKI = root's SKI, signed by root. */
	assert_int_equal(X509_check_ca(inter), 1);
	assert_int_equal(X509_get_pathlen(inter), 0);
	assert_int_equal(X509_get_key_usage(inter), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_ski_matches_aki(inter, root);
	assert_int_equal(X509_check_issued(root, inter), X509_V_OK);
	assert_int_equal(X509_self_signed(inter, 0), 0);
	assert_ec_p256(X509_get0_pubkey(inter));

	/* Leaf: not a CA, digitalSignature (critical), serverAuth only,
	 * CN = first name, AKI = intermediate's SKI. */
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &leaf), ST_OK);
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_true(ext_critical(leaf, NID_key_usage));
	assert_false(ext_critical(leaf, NID_subject_alt_name));
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
	assert_int_equal(X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(X509_check_host(leaf, "mx1.example.test", 0, 0, NULL), 1);
	assert_non_null(X509_get0_subject_key_id(leaf));
	assert_ski_matches_aki(leaf, inter);
	assert_int_equal(X509_check_issued(inter, leaf), X509_V_OK);
	assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), w->key), 1);
	assert_spki_is(leaf, w->key);
	assert_int_equal(ERR_peek_error(), 0);
	{
		char cn[80];

		assert_int_equal(X509_NAME_get_text_by_NID(
					 X509_get_subject_name(leaf),
					 NID_commonName, cn, sizeof(cn)),
				 (int)strlen(name_two[0]));
		assert_string_equal(cn, name_two[0]);
	}

	/* Self-signed leaf: AKI = its own SKI, a valid self-signature. */
	req.self_signed = true;
	req.common_name = "explicit cn";
	assert_int_equal(ds_leaf_issue(NULL, w->key, &req, &self), ST_OK);
	assert_ski_matches_aki(self, self);
	assert_int_equal(X509_self_signed(self, 1), 1);
	assert_int_equal(X509_check_ca(self), 0);
	{
		char cn[80];

		assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(self),
						      NID_commonName, cn,
						      sizeof(cn)) > 0);
		assert_string_equal(cn, "explicit cn");
	}
	X509_free(self);
	X509_free(leaf);
}

/* Keys other than EC on a named curve take the generic path; a key that
 * cannot sign with SHA-256 fails cleanly with ST_ETLS. */
static void test_other_keys(void **state)
{
	const struct world *w = *state;
	struct ds_leaf_req req = {
		.dns_names = name_sts,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	EVP_PKEY *rsa, *ed;
	X509 *leaf = NULL, *served[1];

	rsa = EVP_RSA_gen(2048);
	assert_non_null(rsa);
	assert_int_equal(ds_leaf_issue(w->inter, rsa, &req, &leaf), ST_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), rsa), 1);
	assert_spki_is(leaf, rsa);
	served[0] = ds_ca_cert(w->inter);
	assert_int_equal(verify(w, leaf, served, 1, "mta-sts.example.test"),
			 X509_V_OK);
	X509_free(leaf);
	EVP_PKEY_free(rsa);

	/* Ed25519 signs without a separate digest: X509_sign() with SHA-256
	 * fails, and the error queue is left empty. */
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	req.self_signed = true;
	leaf = (X509 *)w;
	assert_int_equal(ds_leaf_issue(NULL, ed, &req, &leaf), ST_ETLS);
	assert_null(leaf);
	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(ed);
}

/* A first name too long for a CN: empty subject, critical SAN. */
static void test_long_name(void **state)
{
	const struct world *w = *state;
	struct ds_leaf_req req = {
		.dns_names = name_long,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	X509 *leaf = NULL;

	assert_true(strlen(name_long[0]) > DS_CN_MAX);
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &leaf), ST_OK);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
	assert_true(ext_critical(leaf, NID_subject_alt_name));
	X509_free(leaf);
}

/* Positive, and exactly 16 octets of DER content: tag, length 16, a
 * first octet without the sign bit and not a redundant zero. */
static void assert_serial_shape(X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	unsigned char *der = NULL;

	assert_int_equal(ASN1_STRING_type(s), V_ASN1_INTEGER); /* positive */
	assert_int_equal(i2d_ASN1_INTEGER(s, &der), 2 + 16);
	assert_int_equal(der[0], V_ASN1_INTEGER);
	assert_int_equal(der[1], 16);
	assert_true(der[2] >= 0x01 && der[2] <= 0x7f);
	OPENSSL_free(der);
}

static void test_serials(void **state)
{
	const struct world *w = *state;
	struct ds_leaf_req req = {
		.dns_names = name_sts,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	X509 *a = NULL, *b = NULL;

	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &a), ST_OK);
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &b), ST_OK);
	assert_serial_shape(a);
	assert_serial_shape(b);
	assert_serial_shape(ds_ca_cert(w->root));
	assert_serial_shape(ds_ca_cert(w->inter));
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
					      X509_get0_serialNumber(b)), 0);
	assert_int_not_equal(
		ASN1_INTEGER_cmp(X509_get0_serialNumber(ds_ca_cert(w->root)),
				 X509_get0_serialNumber(ds_ca_cert(w->inter))),
		0);
	X509_free(a);
	X509_free(b);
}

/* A scratch directory and the files made in it, removed at the end. */
struct scratch {
	char dir[64];
	char path[8][128];
	size_t n;
};

static void scratch_init(struct scratch *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_ds_certs.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
}

static const char *scratch_path(struct scratch *s, const char *name)
{
	char dir[sizeof(s->dir)];

	assert_true(s->n < ARRAY_LEN(s->path));
	/* A copy: GCC's -Wrestrict sees s->dir and s->path as one object. */
	memcpy(dir, s->dir, sizeof(dir));
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s/%s", dir, name);
	return s->path[s->n++];
}

static void scratch_free(struct scratch *s)
{
	for (size_t i = 0; i < s->n; i++)
		unlink(s->path[i]);
	assert_int_equal(rmdir(s->dir), 0);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void assert_absent(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		fail_msg("%s exists", path);
}

static void test_pem_roundtrip(void **state)
{
	const struct world *w = *state;
	struct ds_leaf_req req = {
		.dns_names = name_sts,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	struct scratch s;
	const char *chain_pem, *chain_tmp, *key_pem, *ca_pem, *ca_key;
	X509 *leaf = NULL, *chain[2], *got;
	EVP_PKEY *key;
	char line[64];
	FILE *f;

	scratch_init(&s);
	chain_pem = scratch_path(&s, "chain.pem");
	chain_tmp = scratch_path(&s, "chain.pem.tmp");
	key_pem = scratch_path(&s, "key.pem");
	ca_pem = scratch_path(&s, "ca.pem");
	ca_key = scratch_path(&s, "ca.key");

	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &leaf), ST_OK);
	chain[0] = leaf;
	chain[1] = ds_ca_cert(w->inter);
	/* Twice: the second write replaces the first. */
	assert_int_equal(ds_write_pem_cert(chain_pem, chain, 2), ST_OK);
	assert_int_equal(ds_write_pem_cert(chain_pem, chain, 2), ST_OK);
	assert_absent(chain_tmp);
	assert_int_equal(file_mode(chain_pem), 0644);

	/* Leaf first, then the intermediate, then nothing. */
	f = fopen(chain_pem, "r");
	assert_non_null(f);
	for (size_t i = 0; i < 2; i++) {
		got = PEM_read_X509(f, NULL, NULL, NULL);
		assert_non_null(got);
		assert_int_equal(X509_cmp(got, chain[i]), 0);
		X509_free(got);
	}
	assert_null(PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);

	/* The key: unencrypted PKCS#8, mode 0600, the same key back. */
	assert_int_equal(ds_write_pem_key(key_pem, w->key), ST_OK);
	assert_int_equal(file_mode(key_pem), 0600);
	f = fopen(key_pem, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "-----BEGIN PRIVATE KEY-----\n");
	rewind(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_eq(key, w->key), 1);
	EVP_PKEY_free(key);

	/* A CA: its certificate, and a key that matches it. */
	assert_int_equal(ds_ca_write(w->inter, ca_pem, ca_key), ST_OK);
	assert_int_equal(file_mode(ca_pem), 0644);
	assert_int_equal(file_mode(ca_key), 0600);
	f = fopen(ca_pem, "r");
	assert_non_null(f);
	got = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(got);
	assert_int_equal(X509_cmp(got, ds_ca_cert(w->inter)), 0);
	f = fopen(ca_key, "r");
	assert_non_null(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(key);
	assert_int_equal(X509_check_private_key(got, key), 1);
	EVP_PKEY_free(key);
	X509_free(got);

	X509_free(leaf);
	scratch_free(&s);
}

static void test_write_errors(void **state)
{
	const struct world *w = *state;
	X509 *cert = ds_ca_cert(w->root);
	struct scratch s;
	const char *missing, *dir_path, *dir_tmp;

	scratch_init(&s);
	missing = scratch_path(&s, "no/such/dir/cert.pem");
	dir_path = scratch_path(&s, "a-directory");
	dir_tmp = scratch_path(&s, "a-directory.tmp");

	assert_int_equal(ds_write_pem_cert(missing, &cert, 1), ST_EIO);
	assert_int_equal(ds_write_pem_key(missing, w->key), ST_EIO);
	assert_int_equal(ds_ca_write(w->root, missing, NULL), ST_EIO);
	assert_int_equal(ds_ca_write(w->root, missing, missing), ST_EIO);

	/* rename() over a directory fails: path is left alone and the
	 * temporary file is removed. */
	assert_int_equal(mkdir(dir_path, 0755), 0);
	assert_int_equal(ds_write_pem_cert(dir_path, &cert, 1), ST_EIO);
	assert_int_equal(ds_write_pem_key(dir_path, w->key), ST_EIO);
	assert_absent(dir_tmp);
	assert_int_equal(rmdir(dir_path), 0);

	scratch_free(&s);
}

static void test_bad_args(void **state)
{
	const struct world *w = *state;
	static const char *const empty[] = { "" };
	static const char *const with_null[] = { "a.example.test", NULL };
	static const char *const with_space[] = { "a example.test" };
	static const char *const with_8bit[] = { "\xc3\xa9.example.test" };
	char toolong_cn[DS_CN_MAX + 2];
	char toolong_name[300];
	const char *const toolong_names[] = { toolong_name };
	struct ds_leaf_req good = {
		.dns_names = name_sts,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + DAY,
	};
	struct ds_leaf_req req;
	struct ds_ca *ca = (struct ds_ca *)w; /* poison: must become NULL */
	X509 *x = (X509 *)w;
	X509 *cert = ds_ca_cert(w->root);
	X509 *null_chain[2] = { cert, NULL };
	EVP_PKEY *key;

	memset(toolong_cn, 'c', sizeof(toolong_cn) - 1);
	toolong_cn[sizeof(toolong_cn) - 1] = '\0';
	memset(toolong_name, 'n', sizeof(toolong_name) - 1);
	toolong_name[sizeof(toolong_name) - 1] = '\0';

	/* CAs. */
	assert_int_equal(ds_ca_new(NULL, 0, 1, &ca), ST_EINVAL);
	assert_null(ca);
	assert_int_equal(ds_ca_new("", 0, 1, &ca), ST_EINVAL);
	assert_int_equal(ds_ca_new(toolong_cn, 0, 1, &ca), ST_EINVAL);
	assert_int_equal(ds_ca_new("ca", 2, 1, &ca), ST_EINVAL);
	assert_int_equal(ds_ca_new("ca", 0, 1, NULL), ST_EINVAL);
	ca = (struct ds_ca *)w;
	assert_int_equal(ds_ca_new_intermediate(NULL, "i", 0, 1, &ca),
			 ST_EINVAL);
	assert_null(ca);
	assert_int_equal(ds_ca_new_intermediate(w->root, NULL, 0, 1, &ca),
			 ST_EINVAL);
	assert_int_equal(ds_ca_new_intermediate(w->root, "i", 0, 1, NULL),
			 ST_EINVAL);
	assert_null(ds_ca_cert(NULL));
	ds_ca_free(NULL);

	/* Leaves. */
	assert_int_equal(ds_leaf_issue(w->inter, NULL, &good, &x), ST_EINVAL);
	assert_null(x);
	assert_int_equal(ds_leaf_issue(w->inter, w->key, NULL, &x), ST_EINVAL);
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &good, NULL),
			 ST_EINVAL);
	assert_int_equal(ds_leaf_issue(NULL, w->key, &good, &x), ST_EINVAL);
	req = good;
	req.self_signed = true;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.n_dns_names = 0;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = NULL;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = empty;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = with_null;
	req.n_dns_names = 2;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = with_space;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = with_8bit;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.dns_names = toolong_names;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.common_name = toolong_cn;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.common_name = "";
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	req = good;
	req.not_after = req.not_before - 1;
	assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &x), ST_EINVAL);
	assert_null(x);

	/* Keys and files. */
	assert_int_equal(ds_key_new(NULL), ST_EINVAL);
	assert_int_equal(ds_write_pem_cert(NULL, &cert, 1), ST_EINVAL);
	assert_int_equal(ds_write_pem_cert("", &cert, 1), ST_EINVAL);
	assert_int_equal(ds_write_pem_cert("/tmp/x.pem", NULL, 1), ST_EINVAL);
	assert_int_equal(ds_write_pem_cert("/tmp/x.pem", &cert, 0), ST_EINVAL);
	assert_int_equal(ds_write_pem_cert("/tmp/x.pem", null_chain, 2),
			 ST_EINVAL);
	assert_int_equal(ds_write_pem_key(NULL, w->key), ST_EINVAL);
	assert_int_equal(ds_write_pem_key("/tmp/x.pem", NULL), ST_EINVAL);
	assert_int_equal(ds_ca_write(NULL, "/tmp/x.pem", NULL), ST_EINVAL);
	assert_int_equal(ds_ca_write(w->root, NULL, "/tmp/x.key"), ST_EINVAL);
	assert_int_equal(ds_ca_write(w->root, "/tmp/x.pem", ""), ST_EINVAL);

	/* ds_key_new() makes EC P-256 keys. */
	assert_int_equal(ds_key_new(&key), ST_OK);
	assert_ec_p256(key);
	EVP_PKEY_free(key);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not an assertion: how fast a world's leaves are made with a shared key.
 * A million-domain world with a few percent MTA-STS needs ~20k. */
static void test_issue_rate(void **state)
{
	const struct world *w = *state;
	enum { N = 2000 };
	char name[64];
	const char *const names[] = { name };
	struct ds_leaf_req req = {
		.dns_names = names,
		.n_dns_names = 1,
		.not_before = w->now - DAY,
		.not_after = w->now + 90 * DAY,
	};
	double t0, dt, rate;

	t0 = now_s();
	for (int i = 0; i < N; i++) {
		X509 *leaf = NULL;

		snprintf(name, sizeof(name), "mta-sts.d%d.example.test", i);
		assert_int_equal(ds_leaf_issue(w->inter, w->key, &req, &leaf),
				 ST_OK);
		X509_free(leaf);
	}
	dt = now_s() - t0;
	rate = dt > 0 ? N / dt : 0;
	print_message("ds_leaf_issue: %d leaves in %.3f s: %.0f leaves/s, "
		      "20000 in %.1f s\n", N, dt, rate,
		      rate > 0 ? 20000 / rate : 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_cases),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_other_keys),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_pem_roundtrip),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_issue_rate),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
