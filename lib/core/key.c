/* key.c - key types, generation and PKCS#8 at rest. */
#include "config.h"

#include <string.h>

#include "internal.h"

static const struct {
	cm_key_type type;
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} key_types[] = {
	{ CM_KEY_EC_P256, "ec-p256", GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
	{ CM_KEY_EC_P384, "ec-p384", GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
	{ CM_KEY_EC_P521, "ec-p521", GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1) },
	{ CM_KEY_ED25519, "ed25519", GNUTLS_PK_EDDSA_ED25519,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519) },
	{ CM_KEY_ED448, "ed448", GNUTLS_PK_EDDSA_ED448,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED448) },
	{ CM_KEY_RSA_2048, "rsa-2048", GNUTLS_PK_RSA, 2048 },
	{ CM_KEY_RSA_3072, "rsa-3072", GNUTLS_PK_RSA, 3072 },
	{ CM_KEY_RSA_4096, "rsa-4096", GNUTLS_PK_RSA, 4096 },
};
#define NKEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

cm_err
cm_key_type_parse(cm_key_type *out, cm_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NKEY_TYPES; i++) {
		if (strcmp(key_types[i].name, name) == 0) {
			*out = key_types[i].type;
			return CM_OK;
		}
	}
	return cm__fail(ctx, CM_E_INVALID, "key type '%s' is unknown "
	    "(ec-p256, ec-p384, ec-p521, ed25519, ed448, rsa-2048, rsa-3072, "
	    "rsa-4096)", name ? name : "");
}

const char *
cm_key_type_name(cm_key_type type)
{
	size_t i;

	if (type == CM_KEY_DEFAULT)
		type = CM_KEY_EC_P256;
	for (i = 0; i < NKEY_TYPES; i++)
		if (key_types[i].type == type)
			return key_types[i].name;
	return NULL;
}

bool
cm__key_is_rsa(cm_key_type type)
{
	return type == CM_KEY_RSA_2048 || type == CM_KEY_RSA_3072 ||
	    type == CM_KEY_RSA_4096;
}

gnutls_digest_algorithm_t
cm__key_digest(cm_key_type type)
{
	switch (type) {
	case CM_KEY_EC_P384:
		return GNUTLS_DIG_SHA384;
	case CM_KEY_EC_P521:
		return GNUTLS_DIG_SHA512;
	case CM_KEY_ED25519:
	case CM_KEY_ED448:
		/* RFC 8410: EdDSA signs the message itself. */
		return GNUTLS_DIG_UNKNOWN;
	default:
		return GNUTLS_DIG_SHA256;
	}
}

cm_err
cm__key_generate(gnutls_x509_privkey_t *out, cm_ctx *ctx, cm_key_type type)
{
	gnutls_x509_privkey_t key = NULL;
	size_t i;
	int ret;

	if (type == CM_KEY_DEFAULT)
		type = CM_KEY_EC_P256;
	for (i = 0; i < NKEY_TYPES; i++)
		if (key_types[i].type == type)
			break;
	if (i == NKEY_TYPES)
		return cm__fail(ctx, CM_E_INVALID, "key type %d is unknown",
		    (int)type);
	if ((ret = gnutls_x509_privkey_init(&key)) < 0)
		return cm__gnutls_fail(ctx, ret, "key");
	ret = gnutls_x509_privkey_generate2(key, key_types[i].pk,
	    key_types[i].bits, 0, NULL, 0);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(key);
		return cm__gnutls_fail(ctx, ret, "generating %s key",
		    key_types[i].name);
	}
	*out = key;
	return CM_OK;
}

cm_key_type
cm__key_type_of(gnutls_x509_privkey_t key)
{
	unsigned bits = 0;
	int pk;
	size_t i;

	pk = gnutls_x509_privkey_get_pk_algorithm2(key, &bits);
	for (i = 0; i < NKEY_TYPES; i++) {
		if ((int)key_types[i].pk != pk)
			continue;
		if (pk == GNUTLS_PK_ECDSA) {
			gnutls_ecc_curve_t curve;
			if (gnutls_x509_privkey_export_ecc_raw(key, &curve,
			    NULL, NULL, NULL) < 0)
				return CM_KEY_DEFAULT;
			if (GNUTLS_CURVE_TO_BITS(curve) == key_types[i].bits)
				return key_types[i].type;
			continue;
		}
		if (pk == GNUTLS_PK_RSA && bits != key_types[i].bits)
			continue;
		return key_types[i].type;
	}
	return CM_KEY_DEFAULT;
}

cm_err
cm__key_export_pkcs8(gnutls_datum_t *out, cm_ctx *ctx,
    gnutls_x509_privkey_t key, const char *pass)
{
	bool enc = pass != NULL && pass[0] != '\0';
	int ret;

	/* RFC 8018 PBES2 with PBKDF2 and AES-256-CBC when encrypted. */
	ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER,
	    enc ? pass : NULL,
	    enc ? GNUTLS_PKCS_PBES2_AES_256 : GNUTLS_PKCS_PLAIN, out);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "exporting key");
	/* The iteration count is GnuTLS's build-time choice: check it. */
	if (enc && cm__pkcs8_iterations(out) < CM_PBKDF2_MIN_ITER) {
		unsigned long it = cm__pkcs8_iterations(out);
		gnutls_memset(out->data, 0, out->size);
		gnutls_free(out->data);
		out->data = NULL;
		return cm__fail(ctx, CM_E_CRYPTO, "exporting key: this GnuTLS "
		    "uses %lu PBKDF2 iterations, certmint needs at least %d "
		    "(GnuTLS >= 3.7.3)", it, CM_PBKDF2_MIN_ITER);
	}
	return CM_OK;
}

cm_err
cm__key_import_pkcs8(gnutls_x509_privkey_t *out, cm_ctx *ctx,
    const gnutls_datum_t *der, const char *pass, const char *what)
{
	gnutls_x509_privkey_t key = NULL;
	int ret;

	if ((ret = gnutls_x509_privkey_init(&key)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s", what);
	ret = gnutls_x509_privkey_import_pkcs8(key, der, GNUTLS_X509_FMT_DER,
	    pass, pass ? 0 : GNUTLS_PKCS_PLAIN);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(key);
		if (pass != NULL && (ret == GNUTLS_E_DECRYPTION_FAILED ||
		    ret == GNUTLS_E_ASN1_DER_ERROR ||
		    ret == GNUTLS_E_ASN1_TAG_ERROR ||
		    ret == GNUTLS_E_INVALID_PASSWORD))
			return cm__fail(ctx, CM_E_PASSPHRASE,
			    "%s: wrong passphrase", what);
		return cm__gnutls_fail(ctx, ret, "%s: reading key", what);
	}
	*out = key;
	return CM_OK;
}

cm_err
cm__key_export_pem(gnutls_datum_t *out, cm_ctx *ctx, gnutls_x509_privkey_t key)
{
	int ret;

	ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN, out);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "exporting key");
	return CM_OK;
}
