/* test-key.c - key types, generation and PKCS#8 at rest (key.c). */
#include "config.h"

#include "unit.h"

static const struct {
	cm_key_type type;
	const char *name;
	bool rsa;
	gnutls_digest_algorithm_t dig;
} types[] = {
	{ CM_KEY_EC_P256, "ec-p256", false, GNUTLS_DIG_SHA256 },
	{ CM_KEY_EC_P384, "ec-p384", false, GNUTLS_DIG_SHA384 },
	{ CM_KEY_EC_P521, "ec-p521", false, GNUTLS_DIG_SHA512 },
	{ CM_KEY_ED25519, "ed25519", false, GNUTLS_DIG_UNKNOWN },
	{ CM_KEY_ED448, "ed448", false, GNUTLS_DIG_UNKNOWN },
	{ CM_KEY_RSA_2048, "rsa-2048", true, GNUTLS_DIG_SHA256 },
	{ CM_KEY_RSA_3072, "rsa-3072", true, GNUTLS_DIG_SHA256 },
	{ CM_KEY_RSA_4096, "rsa-4096", true, GNUTLS_DIG_SHA256 },
};

static void
test_key_type_round_trip(void **state)
{
	unit_fx *fx = *state;
	cm_key_type t;
	size_t i;

	for (i = 0; i < UNIT_NELEM(types); i++) {
		t = CM_KEY_DEFAULT;
		assert_cm_ok(fx->ctx, cm_key_type_parse(&t, fx->ctx,
		    types[i].name));
		assert_int_equal(t, types[i].type);
		assert_string_equal(cm_key_type_name(t), types[i].name);
		assert_int_equal(cm__key_is_rsa(t), types[i].rsa);
		assert_int_equal(cm__key_digest(t), types[i].dig);
	}
	/* The default is P-256. */
	assert_string_equal(cm_key_type_name(CM_KEY_DEFAULT), "ec-p256");
	assert_null(cm_key_type_name((cm_key_type)42));
}

static void
test_key_type_unknown(void **state)
{
	static const char *const bad[] = { "ec-p999", "EC-P256", "rsa",
	    "rsa-1024", "ed25519 ", "", "dsa-2048" };
	unit_fx *fx = *state;
	cm_key_type t = CM_KEY_RSA_3072;
	char want[64];
	size_t i;

	for (i = 0; i < UNIT_NELEM(bad); i++) {
		snprintf(want, sizeof(want), "key type '%s' is unknown",
		    bad[i]);
		assert_cm_err(fx->ctx, cm_key_type_parse(&t, fx->ctx, bad[i]),
		    CM_E_INVALID, want);
		/* The message lists what is allowed. */
		assert_substr(cm_ctx_error(fx->ctx), "ec-p256, ec-p384");
		assert_int_equal(t, CM_KEY_RSA_3072);
	}
	assert_cm_err(fx->ctx, cm_key_type_parse(&t, fx->ctx, NULL),
	    CM_E_INVALID, "key type '' is unknown");
}

/* Generation of the fast types (and RSA-2048 once; 3072/4096 are slow). */
static void
test_key_generate(void **state)
{
	static const struct {
		cm_key_type type;
		int pk;
		unsigned bits;
	} gen[] = {
		{ CM_KEY_EC_P256, GNUTLS_PK_ECDSA, 256 },
		{ CM_KEY_EC_P384, GNUTLS_PK_ECDSA, 384 },
		/* GnuTLS gives 521 or 528 bits for P-521: not checked. */
		{ CM_KEY_EC_P521, GNUTLS_PK_ECDSA, 0 },
		{ CM_KEY_ED25519, GNUTLS_PK_EDDSA_ED25519, 256 },
		{ CM_KEY_ED448, GNUTLS_PK_EDDSA_ED448, 0 },
		{ CM_KEY_RSA_2048, GNUTLS_PK_RSA, 2048 },
	};
	unit_fx *fx = *state;
	gnutls_x509_privkey_t key;
	unsigned bits;
	size_t i;

	for (i = 0; i < UNIT_NELEM(gen); i++) {
		key = NULL;
		assert_cm_ok(fx->ctx, cm__key_generate(&key, fx->ctx,
		    gen[i].type));
		assert_non_null(key);
		bits = 0;
		assert_int_equal(gnutls_x509_privkey_get_pk_algorithm2(key,
		    &bits), gen[i].pk);
		if (gen[i].bits != 0)
			assert_int_equal(bits, gen[i].bits);
		assert_int_equal(cm__key_type_of(key), gen[i].type);
		assert_int_equal(gnutls_x509_privkey_verify_params(key), 0);
		gnutls_x509_privkey_deinit(key);
	}
	/* CM_KEY_DEFAULT generates P-256. */
	assert_cm_ok(fx->ctx, cm__key_generate(&key, fx->ctx, CM_KEY_DEFAULT));
	assert_int_equal(cm__key_type_of(key), CM_KEY_EC_P256);
	gnutls_x509_privkey_deinit(key);

	key = NULL;
	assert_cm_err(fx->ctx, cm__key_generate(&key, fx->ctx,
	    (cm_key_type)42), CM_E_INVALID, "key type 42 is unknown");
	assert_null(key);
}

/* A key of a type certmint does not make (RSA-1024) has no cm_key_type. */
static void
test_key_type_of_foreign(void **state)
{
	unit_fx *fx = *state;
	gnutls_x509_privkey_t key = NULL;

	(void)fx;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP224R1), 0, NULL, 0), 0);
	assert_int_equal(cm__key_type_of(key), CM_KEY_DEFAULT);
	gnutls_x509_privkey_deinit(key);
}

static void
key_id(gnutls_x509_privkey_t key, unsigned char *id, size_t *len)
{
	*len = 64;
	assert_int_equal(gnutls_x509_privkey_get_key_id(key,
	    GNUTLS_KEYID_USE_SHA256, id, len), 0);
}

static void
test_key_pkcs8(void **state)
{
	static const cm_key_type kt[] = { CM_KEY_EC_P256, CM_KEY_ED25519 };
	unit_fx *fx = *state;
	gnutls_x509_privkey_t key = NULL, back = NULL;
	gnutls_datum_t der = { NULL, 0 }, plain = { NULL, 0 };
	unsigned char id1[64], id2[64];
	size_t l1, l2, i;
	unsigned schema = 0, cipher = 0, salt_size = 0, iter = 0;
	unsigned char salt[64];
	char *oid = NULL;

	for (i = 0; i < UNIT_NELEM(kt); i++) {
		assert_cm_ok(fx->ctx, cm__key_generate(&key, fx->ctx, kt[i]));
		key_id(key, id1, &l1);

		/* Encrypted: RFC 8018 PBES2 with AES-256. */
		assert_cm_ok(fx->ctx, cm__key_export_pkcs8(&der, fx->ctx, key,
		    "correct horse"));
		salt_size = sizeof(salt);
		assert_int_equal(gnutls_pkcs8_info(&der, GNUTLS_X509_FMT_DER,
		    &schema, &cipher, salt, &salt_size, &iter, &oid), 0);
		gnutls_free(oid);
		oid = NULL;
		assert_int_equal(schema, GNUTLS_PKCS_PBES2_AES_256);
		assert_int_equal(cipher, GNUTLS_CIPHER_AES_256_CBC);
		assert_true(iter >= 1000);

		/* Right passphrase: the same key comes back. */
		assert_cm_ok(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx, &der,
		    "correct horse", "CA 'dev'"));
		key_id(back, id2, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(id1, id2, l1);
		assert_int_equal(cm__key_type_of(back), kt[i]);
		gnutls_x509_privkey_deinit(back);
		back = NULL;

		/* Wrong passphrase. */
		assert_cm_err(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx,
		    &der, "battery staple", "CA 'dev'"), CM_E_PASSPHRASE,
		    "CA 'dev': wrong passphrase");
		assert_null(back);
		assert_cm_err(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx,
		    &der, "", "CA 'dev'"), CM_E_PASSPHRASE, "wrong passphrase");
		assert_null(back);
		/* No passphrase for an encrypted key: an error, never a key. */
		assert_int_not_equal(cm__key_import_pkcs8(&back, fx->ctx, &der,
		    NULL, "CA 'dev'"), CM_OK);
		assert_substr(cm_ctx_error(fx->ctx), "CA 'dev'");
		assert_null(back);

		/* NULL and "" passphrases store it plain. */
		assert_cm_ok(fx->ctx, cm__key_export_pkcs8(&plain, fx->ctx, key,
		    ""));
		assert_int_equal(gnutls_pkcs8_info(&plain, GNUTLS_X509_FMT_DER,
		    &schema, &cipher, NULL, NULL, NULL, NULL),
		    GNUTLS_E_INVALID_REQUEST);
		assert_cm_ok(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx,
		    &plain, NULL, "key"));
		key_id(back, id2, &l2);
		assert_memory_equal(id1, id2, l1);
		gnutls_x509_privkey_deinit(back);
		back = NULL;
		gnutls_free(plain.data);
		plain.data = NULL;
		assert_cm_ok(fx->ctx, cm__key_export_pkcs8(&plain, fx->ctx, key,
		    NULL));
		assert_cm_ok(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx,
		    &plain, NULL, "key"));
		gnutls_x509_privkey_deinit(back);
		back = NULL;

		gnutls_free(plain.data);
		plain.data = NULL;
		gnutls_free(der.data);
		der.data = NULL;
		gnutls_x509_privkey_deinit(key);
		key = NULL;
	}
}

static void
test_key_import_garbage(void **state)
{
	unit_fx *fx = *state;
	gnutls_x509_privkey_t back = NULL;
	unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0xff };
	gnutls_datum_t d = { junk, sizeof(junk) };

	assert_cm_err(fx->ctx, cm__key_import_pkcs8(&back, fx->ctx, &d, NULL,
	    "CA 'x'"), CM_E_INVALID, "CA 'x': reading key");
	assert_null(back);
}

static void
test_key_export_pem(void **state)
{
	unit_fx *fx = *state;
	gnutls_x509_privkey_t key = NULL, back = NULL;
	gnutls_datum_t pem = { NULL, 0 };

	assert_cm_ok(fx->ctx, cm__key_generate(&key, fx->ctx, CM_KEY_EC_P256));
	assert_cm_ok(fx->ctx, cm__key_export_pem(&pem, fx->ctx, key));
	assert_true(pem.size > 60);
	assert_memory_equal(pem.data, "-----BEGIN PRIVATE KEY-----\n", 28);
	assert_int_equal(gnutls_x509_privkey_init(&back), 0);
	assert_int_equal(gnutls_x509_privkey_import_pkcs8(back, &pem,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN), 0);
	assert_int_equal(cm__key_type_of(back), CM_KEY_EC_P256);
	gnutls_x509_privkey_deinit(back);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_ctx(test_key_type_round_trip),
		unit_test_ctx(test_key_type_unknown),
		unit_test_ctx(test_key_generate),
		unit_test_ctx(test_key_type_of_foreign),
		unit_test_ctx(test_key_pkcs8),
		unit_test_ctx(test_key_import_garbage),
		unit_test_ctx(test_key_export_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
