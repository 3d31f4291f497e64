/*
 * der.c - DER helpers shared by CRLs and OCSP: a byte buffer, headers,
 * times, the lib/asn1 definitions (libtasn1) and signing with a CA key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern const asn1_static_node cm__revocation_asn1_tab[];

void
cm__buf_add(cm__buf *b, const void *data, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (b->oom)
		return;
	if (n > b->cap - b->len) {
		cap = b->cap ? b->cap : 256;
		while (cap - b->len < n) {
			if (cap > ((size_t)-1) / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void
cm__buf_byte(cm__buf *b, unsigned char c)
{
	if (!b->oom && b->len < b->cap)
		b->p[b->len++] = c;
	else
		cm__buf_add(b, &c, 1);
}

size_t
cm__der_header_len(size_t len)
{
	size_t n = 2;

	for (; len > 127; len >>= 8)
		n++;
	return n == 2 ? 2 : n;
}

/* X.690 8.1.3: short form up to 127, else 0x80|count and big-endian. */
void
cm__der_header(cm__buf *b, unsigned char tag, size_t len)
{
	unsigned char h[2 + sizeof(size_t)];
	size_t n = 0, i, v;
	int bytes = 0;

	h[n++] = tag;
	if (len < 128) {
		h[n++] = (unsigned char)len;
	} else {
		for (v = len; v > 0; v >>= 8)
			bytes++;
		h[n++] = (unsigned char)(0x80 | bytes);
		for (i = (size_t)bytes; i > 0; i--)
			h[n++] = (unsigned char)(len >> (8 * (i - 1)));
	}
	cm__buf_add(b, h, n);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
cm__serial_from_hex(unsigned char *out, size_t *len, const char *hex)
{
	size_t n = strlen(hex), o = 0, i = 0;
	int hi, lo;

	/* RFC 5280 4.1.2.2: at most 20 octets, plus a sign octet here. */
	if (n == 0 || n > 40)
		return false;
	if (n % 2 == 1) {
		if ((lo = hexval(hex[0])) < 0)
			return false;
		out[o++] = (unsigned char)lo;
		i = 1;
	}
	for (; i < n; i += 2) {
		if ((hi = hexval(hex[i])) < 0 || (lo = hexval(hex[i + 1])) < 0)
			return false;
		out[o++] = (unsigned char)(hi << 4 | lo);
	}
	/* A positive INTEGER: a leading 0x00 before a high bit. */
	if (out[0] & 0x80) {
		memmove(out + 1, out, o);
		out[0] = 0;
		o++;
	}
	*len = o;
	return true;
}

bool
cm__time_is_utc(time_t t)
{
	/* 2050-01-01T00:00:00Z */
	return t < (time_t)2524608000LL;
}

bool
cm__asn1_time(char *buf, size_t len, time_t t, bool utc)
{
	struct tm tm;
	int n, year;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	year = tm.tm_year + 1900;
	if (year < 1950 || year > 9999 || (utc && year >= 2050))
		return false;
	n = snprintf(buf, len, "%0*d%02d%02d%02d%02d%02dZ", utc ? 2 : 4,
	    utc ? year % 100 : year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return n == (utc ? 13 : 15);
}

cm_err
cm__asn1_fail(cm_ctx *ctx, int rc, const char *what)
{
	if (rc == ASN1_MEM_ALLOC_ERROR)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	return cm__fail(ctx, CM_E_CRYPTO, "%s: %s", what, asn1_strerror(rc));
}

cm_err
cm__asn1_defs(asn1_node *out, cm_ctx *ctx)
{
	char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	int rc;

	if (ctx->asn1 == NULL) {
		msg[0] = '\0';
		rc = asn1_array2tree(cm__revocation_asn1_tab, &ctx->asn1, msg);
		if (rc != ASN1_SUCCESS) {
			ctx->asn1 = NULL;
			return cm__fail(ctx, CM_E_CRYPTO, "ASN.1 definitions: "
			    "%s %s", asn1_strerror(rc), msg);
		}
	}
	*out = ctx->asn1;
	return CM_OK;
}

cm_err
cm__asn1_new(asn1_node *out, cm_ctx *ctx, const char *type)
{
	asn1_node defs, n = NULL;
	cm_err err;
	int rc;

	if ((err = cm__asn1_defs(&defs, ctx)) != CM_OK)
		return err;
	if ((rc = asn1_create_element(defs, type, &n)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, type);
	*out = n;
	return CM_OK;
}

cm_err
cm__asn1_der(unsigned char **out, size_t *len, cm_ctx *ctx, asn1_node node,
    const char *name)
{
	char msg[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	unsigned char *p;
	int n = 0, rc;

	msg[0] = '\0';
	rc = asn1_der_coding(node, name, NULL, &n, msg);
	if (rc != ASN1_MEM_ERROR)
		return cm__fail(ctx, CM_E_CRYPTO, "DER encoding: %s %s",
		    asn1_strerror(rc), msg);
	if ((p = malloc((size_t)n)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((rc = asn1_der_coding(node, name, p, &n, msg)) != ASN1_SUCCESS) {
		free(p);
		return cm__fail(ctx, CM_E_CRYPTO, "DER encoding: %s %s",
		    asn1_strerror(rc), msg);
	}
	*out = p;
	*len = (size_t)n;
	return CM_OK;
}

cm_err
cm__sig_alg_write(gnutls_sign_algorithm_t *out, cm_ctx *ctx, asn1_node node,
    const char *name, cm_key_type kt)
{
	gnutls_sign_algorithm_t sa;
	const char *oid;
	char el[128];
	int rc;

	switch (kt) {
	case CM_KEY_EC_P256:
		sa = GNUTLS_SIGN_ECDSA_SHA256;
		break;
	case CM_KEY_EC_P384:
		sa = GNUTLS_SIGN_ECDSA_SHA384;
		break;
	case CM_KEY_EC_P521:
		sa = GNUTLS_SIGN_ECDSA_SHA512;
		break;
	case CM_KEY_ED25519:
		sa = GNUTLS_SIGN_EDDSA_ED25519;
		break;
	case CM_KEY_ED448:
		sa = GNUTLS_SIGN_EDDSA_ED448;
		break;
	case CM_KEY_RSA_2048:
	case CM_KEY_RSA_3072:
	case CM_KEY_RSA_4096:
		sa = GNUTLS_SIGN_RSA_SHA256;
		break;
	default:
		return cm__fail(ctx, CM_E_INVALID, "key type %d cannot sign",
		    (int)kt);
	}
	if ((oid = gnutls_sign_get_oid(sa)) == NULL)
		return cm__fail(ctx, CM_E_CRYPTO, "signature algorithm %s has "
		    "no OID", gnutls_sign_get_name(sa));
	snprintf(el, sizeof(el), "%s.algorithm", name);
	if ((rc = asn1_write_value(node, el, oid, 1)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, "signature algorithm");
	snprintf(el, sizeof(el), "%s.parameters", name);
	/* RFC 4055 5: NULL parameters for RSA; RFC 5758 3.2 and RFC 8410 3:
	 * absent for ECDSA and EdDSA. */
	if (cm__key_is_rsa(kt))
		rc = asn1_write_value(node, el, "\x05\x00", 2);
	else
		rc = asn1_write_value(node, el, NULL, 0);
	if (rc != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, "signature algorithm");
	*out = sa;
	return CM_OK;
}

cm_err
cm__sign_der(unsigned char **out, size_t *len, cm_ctx *ctx,
    gnutls_privkey_t key, cm_key_type kt, const unsigned char *tbs,
    size_t tbslen)
{
	asn1_node n = NULL;
	gnutls_sign_algorithm_t sa;
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)tbs,
	    (unsigned)tbslen };
	gnutls_datum_t sig = { NULL, 0 };
	cm_err err;
	int rc;

	if (tbslen > (size_t)1 << 30)
		return cm__fail(ctx, CM_E_INVALID, "data to sign is too big");
	if ((err = cm__asn1_new(&n, ctx, "CERTMINT-REVOCATION.SignedData")) !=
	    CM_OK)
		return err;
	if ((err = cm__sig_alg_write(&sa, ctx, n, "signatureAlgorithm",
	    kt)) != CM_OK)
		goto out;
	if ((rc = gnutls_privkey_sign_data2(key, sa, 0, &data, &sig)) < 0) {
		err = cm__gnutls_fail(ctx, rc, "signing");
		goto out;
	}
	if ((rc = asn1_write_value(n, "tbs", tbs, (int)tbslen)) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(n, "signature", sig.data,
	    (int)sig.size * 8)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "signed data");
		goto out;
	}
	err = cm__asn1_der(out, len, ctx, n, "");
out:
	gnutls_free(sig.data);
	asn1_delete_structure(&n);
	return err;
}

cm_err
cm__ca_urls_apply(gnutls_x509_crt_t crt, cm_ctx *ctx, const cm__signer *s)
{
	gnutls_datum_t d;
	int ret;

	if (s->crl_url != NULL && (ret = gnutls_x509_crt_set_crl_dist_points2(
	    crt, GNUTLS_SAN_URI, s->crl_url, (unsigned)strlen(s->crl_url),
	    0)) < 0)
		return cm__gnutls_fail(ctx, ret, "CA '%s': CRL URL",
		    s->rec.info.name);
	if (s->ocsp_url != NULL) {
		d.data = (unsigned char *)s->ocsp_url;
		d.size = (unsigned)strlen(s->ocsp_url);
		if ((ret = gnutls_x509_crt_set_authority_info_access(crt,
		    GNUTLS_IA_OCSP_URI, &d)) < 0)
			return cm__gnutls_fail(ctx, ret, "CA '%s': OCSP URL",
			    s->rec.info.name);
	}
	return CM_OK;
}
