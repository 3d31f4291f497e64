/* key.c - key types, generation and PKCS#8 at rest. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

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

/* A DER TLV reader over [p, end): the header of the next element. */
static bool
tlv(const unsigned char **p, const unsigned char *end, unsigned char *tag,
    size_t *len)
{
	const unsigned char *q = *p;
	size_t l, n;

	if (end - q < 2)
		return false;
	*tag = *q++;
	l = *q++;
	if (l & 0x80) {
		n = l & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return false;
		for (l = 0; n > 0; n--)
			l = (l << 8) | *q++;
	}
	if ((size_t)(end - q) < l)
		return false;
	*p = q;
	*len = l;
	return true;
}

/* The PBKDF2 iteration count of an encrypted PKCS#8 (0 when it is not
 * PBES2/PBKDF2): a property of the key encoding, kept beside it. */
unsigned long
cm__pkcs8_iterations(const gnutls_datum_t *der)
{
	/* RFC 8018 A.2/A.4: EncryptedPrivateKeyInfo { AlgorithmIdentifier
	 * { id-PBES2, PBES2-params { keyDerivationFunc { id-PBKDF2,
	 * PBKDF2-params { salt, iterationCount, ... } } ... } } ... } */
	static const unsigned char pbes2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x05, 0x0d };
	static const unsigned char pbkdf2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x05, 0x0c };
	const unsigned char *p = der->data, *end = der->data + der->size;
	unsigned char tag;
	size_t len, i;
	unsigned long iter = 0;

	if (der->data == NULL ||
	    !tlv(&p, end, &tag, &len) || tag != 0x30 ||    /* EPKI */
	    !tlv(&p, end, &tag, &len) || tag != 0x30 ||    /* AlgId */
	    !tlv(&p, end, &tag, &len) || tag != 0x06 ||
	    len != sizeof(pbes2) || memcmp(p, pbes2, len) != 0)
		return 0;
	p += len;
	if (!tlv(&p, end, &tag, &len) || tag != 0x30 ||    /* PBES2-params */
	    !tlv(&p, end, &tag, &len) || tag != 0x30 ||    /* KDF AlgId */
	    !tlv(&p, end, &tag, &len) || tag != 0x06 ||
	    len != sizeof(pbkdf2) || memcmp(p, pbkdf2, len) != 0)
		return 0;
	p += len;
	if (!tlv(&p, end, &tag, &len) || tag != 0x30 ||    /* PBKDF2-params */
	    !tlv(&p, end, &tag, &len) || tag != 0x04)      /* salt */
		return 0;
	p += len;
	if (!tlv(&p, end, &tag, &len) || tag != 0x02 || len == 0 || len > 4)
		return 0;
	for (i = 0; i < len; i++)
		iter = (iter << 8) | p[i];
	return iter;
}

/* The DER value of element name of node in a new buffer, wiped and freed
 * by the caller (cm__free_secret). */
static cm_err
read_octets(unsigned char **out, size_t *len, cm_ctx *ctx, asn1_node node,
    const char *name)
{
	unsigned char *p;
	int n = 0, rc;

	rc = asn1_read_value(node, name, NULL, &n);
	if (rc != ASN1_MEM_ERROR && rc != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, name);
	if ((p = malloc(n > 0 ? (size_t)n : 1)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if (n > 0 && (rc = asn1_read_value(node, name, p, &n)) !=
	    ASN1_SUCCESS) {
		free(p);
		return cm__asn1_fail(ctx, rc, name);
	}
	*out = p;
	*len = (size_t)n;
	return CM_OK;
}

static cm_err
decode(asn1_node *out, cm_ctx *ctx, const char *type, const void *der,
    size_t len)
{
	char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	asn1_node n = NULL;
	cm_err err;
	int rc;

	if ((err = cm__asn1_new(&n, ctx, type)) != CM_OK)
		return err;
	msg[0] = '\0';
	if ((rc = asn1_der_decoding(&n, der, (int)len, msg)) != ASN1_SUCCESS) {
		asn1_delete_structure(&n);
		return cm__fail(ctx, CM_E_CRYPTO, "key: %s: %s %s", type,
		    asn1_strerror(rc), msg);
	}
	*out = n;
	return CM_OK;
}

/*
 * RFC 5915 3: the privateKey of an ECPrivateKey is ceiling(log2(n)/8)
 * octets (32, 48, 66 for P-256, P-384, P-521), zeros on the left.  GnuTLS
 * 3.7 writes the scalar as an INTEGER instead: 33 octets when its top bit
 * is set, fewer when it starts with a zero octet, so that about half the
 * P-256 keys it exports are refused by strict readers (Python cryptography
 * since release 42).  Rewrites the plain PKCS#8 in *der to the fixed
 * length when it is not.
 */
static cm_err
ec_fixed_length(gnutls_datum_t *der, cm_ctx *ctx, size_t want)
{
	asn1_node pki = NULL, ec = NULL;
	unsigned char *inner = NULL, *k = NULL, *fixed = NULL, *out = NULL;
	unsigned char *p = NULL;
	size_t ilen = 0, klen = 0, olen = 0, plen = 0, skip = 0;
	cm_err err;
	int rc;

	if ((err = decode(&pki, ctx, "CERTMINT-REVOCATION.PrivateKeyInfo",
	    der->data, der->size)) != CM_OK)
		goto out;
	if ((err = read_octets(&inner, &ilen, ctx, pki, "privateKey")) !=
	    CM_OK)
		goto out;
	if ((err = decode(&ec, ctx, "CERTMINT-REVOCATION.ECPrivateKey",
	    inner, ilen)) != CM_OK)
		goto out;
	if ((err = read_octets(&k, &klen, ctx, ec, "privateKey")) != CM_OK)
		goto out;
	if (klen == want)
		goto out;
	while (klen - skip > want && k[skip] == 0)
		skip++;
	if (klen - skip > want) {
		err = cm__fail(ctx, CM_E_CRYPTO, "key: an EC private key of %zu "
		    "octets for a curve of %zu", klen, want);
		goto out;
	}
	if ((fixed = calloc(1, want)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(fixed + want - (klen - skip), k + skip, klen - skip);
	if ((rc = asn1_write_value(ec, "privateKey", fixed, (int)want)) !=
	    ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "privateKey");
		goto out;
	}
	if ((err = cm__asn1_der(&p, &plen, ctx, ec, "")) != CM_OK)
		goto out;
	if ((rc = asn1_write_value(pki, "privateKey", p, (int)plen)) !=
	    ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "privateKey");
		goto out;
	}
	if ((err = cm__asn1_der(&out, &olen, ctx, pki, "")) != CM_OK)
		goto out;
	/* The caller frees with gnutls_free. */
	gnutls_memset(der->data, 0, der->size);
	gnutls_free(der->data);
	der->data = gnutls_malloc(olen);
	if (der->data == NULL) {
		der->size = 0;
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(der->data, out, olen);
	der->size = (unsigned)olen;
out:
	if (inner != NULL)
		cm__free_secret(inner, ilen);
	if (k != NULL)
		cm__free_secret(k, klen);
	if (fixed != NULL)
		cm__free_secret(fixed, want);
	if (p != NULL)
		cm__free_secret(p, plen);
	if (out != NULL)
		cm__free_secret(out, olen);
	/* libtasn1 keeps copies of the values in its nodes. */
	if (ec != NULL)
		asn1_delete_structure2(&ec, ASN1_DELETE_FLAG_ZEROIZE);
	if (pki != NULL)
		asn1_delete_structure2(&pki, ASN1_DELETE_FLAG_ZEROIZE);
	return err;
}

/* The plain PKCS#8 DER of key, EC private keys at their fixed length. */
static cm_err
export_plain(gnutls_datum_t *out, cm_ctx *ctx, gnutls_x509_privkey_t key)
{
	gnutls_ecc_curve_t curve;
	int ret;
	cm_err err;

	ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL,
	    GNUTLS_PKCS_PLAIN, out);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "exporting key");
	if (gnutls_x509_privkey_get_pk_algorithm(key) != GNUTLS_PK_ECDSA)
		return CM_OK;
	if ((ret = gnutls_x509_privkey_export_ecc_raw(key, &curve, NULL, NULL,
	    NULL)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "exporting key");
		goto fail;
	}
	if ((err = ec_fixed_length(out, ctx, gnutls_ecc_curve_get_size(
	    curve))) != CM_OK)
		goto fail;
	return CM_OK;
fail:
	if (out->data != NULL) {
		gnutls_memset(out->data, 0, out->size);
		gnutls_free(out->data);
	}
	out->data = NULL;
	out->size = 0;
	return err;
}

/* RFC 8018: id-PBES2, id-PBKDF2, hmacWithSHA256, aes256-CBC. */
#define OID_PBES2 "1.2.840.113549.1.5.13"
#define OID_PBKDF2 "1.2.840.113549.1.5.12"
#define OID_HMAC_SHA256 "1.2.840.113549.2.9"
#define OID_AES256_CBC "2.16.840.1.101.3.4.1.42"

/* node.name := DER of a new element of type built by fill. */
static cm_err
write_params(asn1_node node, const char *name, cm_ctx *ctx, asn1_node inner)
{
	unsigned char *p = NULL;
	size_t n = 0;
	cm_err err;
	int rc;

	if ((err = cm__asn1_der(&p, &n, ctx, inner, "")) != CM_OK)
		return err;
	rc = asn1_write_value(node, name, p, (int)n);
	free(p);
	return rc == ASN1_SUCCESS ? CM_OK : cm__asn1_fail(ctx, rc, name);
}

/*
 * Encrypts a plain PKCS#8 as an EncryptedPrivateKeyInfo: PBES2 with
 * PBKDF2-HMAC-SHA256 (CM_PBKDF2_MIN_ITER rounds, a 16-octet salt) and
 * AES-256-CBC (RFC 8018 6.2, A.2, B.2.5), what GnuTLS writes too; done
 * here because GnuTLS can only encrypt from its own key object, which
 * would undo the fixed length of an EC key.
 */
static cm_err
encrypt_pkcs8(gnutls_datum_t *out, cm_ctx *ctx, const gnutls_datum_t *plain,
    const char *pass)
{
	asn1_node epki = NULL, pbes2 = NULL, kdf = NULL, iv_node = NULL;
	unsigned char salt[16], iv[16], dk[32], *buf = NULL, *der = NULL;
	gnutls_cipher_hd_t h = NULL;
	gnutls_datum_t pd, sd, kd, ivd;
	size_t padded, derlen = 0, i;
	char iter[16];
	cm_err err;
	int rc;

	out->data = NULL;
	out->size = 0;
	if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof(salt))) < 0 ||
	    (rc = gnutls_rnd(GNUTLS_RND_NONCE, iv, sizeof(iv))) < 0) {
		err = cm__gnutls_fail(ctx, rc, "encrypting key");
		goto out;
	}
	pd.data = (unsigned char *)(uintptr_t)pass;
	pd.size = (unsigned)strlen(pass);
	sd.data = salt;
	sd.size = sizeof(salt);
	if ((rc = gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pd, &sd,
	    CM_PBKDF2_MIN_ITER, dk, sizeof(dk))) < 0) {
		err = cm__gnutls_fail(ctx, rc, "encrypting key");
		goto out;
	}
	/* PKCS#7 padding (RFC 8018 6.2.1): 1 to 16 octets. */
	padded = (plain->size / 16 + 1) * 16;
	if ((buf = malloc(padded)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(buf, plain->data, plain->size);
	for (i = plain->size; i < padded; i++)
		buf[i] = (unsigned char)(padded - plain->size);
	kd.data = dk;
	kd.size = sizeof(dk);
	ivd.data = iv;
	ivd.size = sizeof(iv);
	if ((rc = gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_256_CBC, &kd,
	    &ivd)) < 0 || (rc = gnutls_cipher_encrypt(h, buf, padded)) < 0) {
		err = cm__gnutls_fail(ctx, rc, "encrypting key");
		goto out;
	}

	snprintf(iter, sizeof(iter), "%d", CM_PBKDF2_MIN_ITER);
	if ((err = cm__asn1_new(&kdf, ctx,
	    "CERTMINT-REVOCATION.PBKDF2-params")) != CM_OK ||
	    (err = cm__asn1_new(&iv_node, ctx,
	    "CERTMINT-REVOCATION.AES-IV")) != CM_OK ||
	    (err = cm__asn1_new(&pbes2, ctx,
	    "CERTMINT-REVOCATION.PBES2-params")) != CM_OK ||
	    (err = cm__asn1_new(&epki, ctx,
	    "CERTMINT-REVOCATION.EncryptedPrivateKeyInfo")) != CM_OK)
		goto out;
	if ((rc = asn1_write_value(kdf, "salt", salt, sizeof(salt))) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(kdf, "iterationCount", iter, 0)) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(kdf, "keyLength", NULL, 0)) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(kdf, "prf.algorithm", OID_HMAC_SHA256,
	    1)) != ASN1_SUCCESS ||
	    /* RFC 8018 B.1.2: the parameters of hmacWithSHA256 are NULL. */
	    (rc = asn1_write_value(kdf, "prf.parameters", "\x05\x00", 2)) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(iv_node, "", iv, sizeof(iv))) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(pbes2, "keyDerivationFunc.algorithm",
	    OID_PBKDF2, 1)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(pbes2, "encryptionScheme.algorithm",
	    OID_AES256_CBC, 1)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(epki, "encryptionAlgorithm.algorithm",
	    OID_PBES2, 1)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(epki, "encryptedData", buf,
	    (int)padded)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "encrypting key");
		goto out;
	}
	if ((err = write_params(pbes2, "keyDerivationFunc.parameters", ctx,
	    kdf)) != CM_OK ||
	    (err = write_params(pbes2, "encryptionScheme.parameters", ctx,
	    iv_node)) != CM_OK ||
	    (err = write_params(epki, "encryptionAlgorithm.parameters", ctx,
	    pbes2)) != CM_OK)
		goto out;
	if ((err = cm__asn1_der(&der, &derlen, ctx, epki, "")) != CM_OK)
		goto out;
	if ((out->data = gnutls_malloc(derlen)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out->data, der, derlen);
	out->size = (unsigned)derlen;
out:
	if (h != NULL)
		gnutls_cipher_deinit(h);
	gnutls_memset(dk, 0, sizeof(dk));
	if (buf != NULL)
		cm__free_secret(buf, padded);
	free(der);
	if (kdf != NULL)
		asn1_delete_structure(&kdf);
	if (iv_node != NULL)
		asn1_delete_structure(&iv_node);
	if (pbes2 != NULL)
		asn1_delete_structure(&pbes2);
	if (epki != NULL)
		asn1_delete_structure(&epki);
	return err;
}

cm_err
cm__key_export_pkcs8(gnutls_datum_t *out, cm_ctx *ctx,
    gnutls_x509_privkey_t key, const char *pass)
{
	bool enc = pass != NULL && pass[0] != '\0';
	gnutls_datum_t plain = { NULL, 0 };
	cm_err err;

	if ((err = export_plain(&plain, ctx, key)) != CM_OK)
		return err;
	if (!enc) {
		*out = plain;
		return CM_OK;
	}
	err = encrypt_pkcs8(out, ctx, &plain, pass);
	gnutls_memset(plain.data, 0, plain.size);
	gnutls_free(plain.data);
	return err;
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
	gnutls_datum_t der = { NULL, 0 };
	cm_err err;
	int ret;

	if ((err = export_plain(&der, ctx, key)) != CM_OK)
		return err;
	ret = gnutls_pem_base64_encode2("PRIVATE KEY", &der, out);
	gnutls_memset(der.data, 0, der.size);
	gnutls_free(der.data);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "exporting key");
	return CM_OK;
}

/*
 * A private key in any of the forms other tools write -- PKCS#8 (openssl
 * genpkey, mkcert, Python cryptography's PKCS8), SEC1 "EC PRIVATE KEY"
 * (certtool, openssl -traditional), PKCS#1 "RSA PRIVATE KEY", each PEM or
 * DER -- unencrypted, as certmint's own PKCS#8 PEM.
 */
cm_err
cm__key_read_any(gnutls_x509_privkey_t *out, cm_ctx *ctx, const void *data,
    size_t len, const char *what)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	bool pem;
	int ret;

	pem = len >= 10 && memmem(data, len, "-----BEGIN", 10) != NULL;
	if (pem && memmem(data, len, "ENCRYPTED", 9) != NULL)
		return cm__fail(ctx, CM_E_INVALID, "%s: the key is encrypted; "
		    "give it unencrypted (openssl pkey -in KEY -out PLAIN)",
		    what);
	if ((ret = gnutls_x509_privkey_init(&key)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s", what);
	d.data = (unsigned char *)(uintptr_t)data;
	d.size = (unsigned)len;
	ret = gnutls_x509_privkey_import2(key, &d, pem ? GNUTLS_X509_FMT_PEM :
	    GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(key);
		if (ret == GNUTLS_E_MEMORY_ERROR)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		return cm__fail(ctx, CM_E_INVALID, "%s: not an unencrypted "
		    "private key (PKCS#8, SEC1 EC PRIVATE KEY or PKCS#1 RSA "
		    "PRIVATE KEY, PEM or DER)", what);
	}
	*out = key;
	return CM_OK;
}

cm_err
cm__key_pem_any(char **out, cm_ctx *ctx, const void *data, size_t len,
    const char *what)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	cm_err err;

	if ((err = cm__key_read_any(&key, ctx, data, len, what)) != CM_OK)
		return err;
	err = cm__key_export_pem(&pem, ctx, key);
	gnutls_x509_privkey_deinit(key);
	if (err != CM_OK)
		return err;
	if ((*out = malloc(pem.size + 1)) == NULL)
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
	else {
		memcpy(*out, pem.data, pem.size);
		(*out)[pem.size] = '\0';
	}
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	return err;
}
