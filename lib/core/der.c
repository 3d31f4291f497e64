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

	if (len < 128)
		return 2;
	for (; len > 0; len >>= 8)
		n++;
	return n;
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

/* Hex digit values; -1 for anything else. */
static const signed char hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11,
	['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};
#define HEXVAL(c) (hexv[(unsigned char)(c)] - 1)

bool
cm__serial_from_hex(unsigned char *out, size_t *len, const char *hex)
{
	size_t n = strlen(hex), o = 1, i = 0;
	int hi, lo;

	/* RFC 5280 4.1.2.2: at most 20 octets, plus a sign octet here. */
	if (n == 0 || n > 40)
		return false;
	/* out[0] is kept for a sign octet. */
	if (n % 2 == 1) {
		if ((lo = HEXVAL(hex[0])) < 0)
			return false;
		out[o++] = (unsigned char)lo;
		i = 1;
	}
	for (; i < n; i += 2) {
		if ((hi = HEXVAL(hex[i])) < 0 || (lo = HEXVAL(hex[i + 1])) < 0)
			return false;
		out[o++] = (unsigned char)(hi << 4 | lo);
	}
	/* A positive INTEGER: a leading 0x00 before a high bit. */
	if (out[1] & 0x80) {
		out[0] = 0;
		*len = o;
	} else {
		memmove(out, out + 1, o - 1);
		*len = o - 1;
	}
	return true;
}

bool
cm__time_is_utc(time_t t)
{
	/* 2050-01-01T00:00:00Z */
	return t < (time_t)2524608000LL;
}

static void
digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Civil date from days since 1970-01-01 (H. Hinnant's algorithm): no
 * time zone lock per call, which matters for 100,000 CRL entries.
 */
bool
cm__asn1_time(char *buf, size_t len, time_t t, bool utc)
{
	long long days, secs, z, era, doe, yoe, y, doy, mp, d, m;
	char *p = buf;

	if (len < (utc ? 14u : 16u))
		return false;
	days = (long long)t / 86400;
	secs = (long long)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 1950 || y > 9999 || (utc && y >= 2050))
		return false;
	if (utc) {
		digits(p, (unsigned)(y % 100), 2);
		p += 2;
	} else {
		digits(p, (unsigned)y, 4);
		p += 4;
	}
	digits(p, (unsigned)m, 2);
	digits(p + 2, (unsigned)d, 2);
	digits(p + 4, (unsigned)(secs / 3600), 2);
	digits(p + 6, (unsigned)(secs / 60 % 60), 2);
	digits(p + 8, (unsigned)(secs % 60), 2);
	p[10] = 'Z';
	p[11] = '\0';
	return true;
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
	unsigned char *skel = NULL;
	size_t skellen = 0;
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
	/* The (big) tbs is spliced in, not copied through libtasn1. */
	if ((rc = asn1_write_value(n, "tbs", NULL, 0)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(n, "signature", sig.data,
	    (int)sig.size * 8)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "signed data");
		goto out;
	}
	if ((err = cm__asn1_der(&skel, &skellen, ctx, n, "")) != CM_OK)
		goto out;
	err = cm__der_splice(out, len, ctx, skel, skellen, 0, tbs, tbslen);
out:
	free(skel);
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

/* Reads one TLV header at p (left bytes): [out] header and content size. */
static bool
tlv(const unsigned char *p, size_t left, size_t *hlen, size_t *clen)
{
	size_t k, i, len = 0;

	if (left < 2)
		return false;
	if (p[1] < 0x80) {
		*hlen = 2;
		*clen = p[1];
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > sizeof(size_t) || left < 2 + k)
			return false;
		for (i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		*hlen = 2 + k;
		*clen = len;
	}
	return *clen <= left - *hlen;
}

cm_err
cm__der_splice(unsigned char **out, size_t *len, cm_ctx *ctx,
    const unsigned char *seq, size_t seqlen, size_t after,
    const unsigned char *ins, size_t inslen)
{
	cm__buf b = { NULL, 0, 0, false };
	size_t hlen, clen, off, h2, c2, i;

	if (!tlv(seq, seqlen, &hlen, &clen) || seq[0] != 0x30 ||
	    hlen + clen != seqlen)
		return cm__fail(ctx, CM_E_CRYPTO, "DER splice: not a SEQUENCE");
	off = hlen;
	for (i = 0; i < after; i++) {
		if (!tlv(seq + off, seqlen - off, &h2, &c2))
			return cm__fail(ctx, CM_E_CRYPTO, "DER splice: element "
			    "%zu", i);
		off += h2 + c2;
	}
	/* One allocation of the final size. */
	b.cap = cm__der_header_len(clen + inslen) + clen + inslen;
	if ((b.p = malloc(b.cap)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	cm__der_header(&b, 0x30, clen + inslen);
	cm__buf_add(&b, seq + hlen, off - hlen);
	cm__buf_add(&b, ins, inslen);
	cm__buf_add(&b, seq + off, seqlen - off);
	if (b.oom) {
		free(b.p);
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	*out = b.p;
	*len = b.len;
	return CM_OK;
}
