/*
 * export.c - a certificate or a CA in the formats other software loads:
 * PEM, DER, its key, chains, and PKCS#12 (gnutls_pkcs12_*).
 *
 * PKCS#12 profiles: the default encrypts key and certificates with PBES2
 * (PBKDF2-HMAC-SHA256, AES-256-CBC) and MACs with HMAC-SHA-256; --legacy
 * uses pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA-1 MAC, which old
 * Java (< 8u301), Windows (< Server 2019) and macOS keychains need.
 *
 * A certificates-only PKCS#12 (a truststore) must mark each certificate
 * trusted for Java: Java's PKCS12 keystore ignores a certificate bag
 * without Oracle's trustedKeyUsage attribute (2.16.840.1.113894.746875.1.1)
 * and keytool lists zero entries.  GnuTLS cannot add bag attributes, so
 * that PFX is DER-encoded here (RFC 7292 4, plain SafeContents: there is
 * nothing secret in it) and handed to GnuTLS for the MAC.
 */
#include "config.h"

#include <gnutls/pkcs12.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_CHAIN 16

cm_err
cm_export_format_parse(cm_export_format *out, cm_ctx *ctx, const char *name)
{
	static const struct {
		const char *name;
		cm_export_format f;
	} fm[] = {
		{ "pem", CM_EXPORT_PEM }, { "der", CM_EXPORT_DER },
		{ "key", CM_EXPORT_KEY }, { "chain", CM_EXPORT_CHAIN },
		{ "fullchain", CM_EXPORT_FULLCHAIN }, { "p12", CM_EXPORT_P12 },
		{ "pkcs12", CM_EXPORT_P12 }, { "pfx", CM_EXPORT_P12 },
		{ "bundle", CM_EXPORT_BUNDLE },
	};
	size_t i;

	for (i = 0; name != NULL && i < sizeof(fm) / sizeof(fm[0]); i++)
		if (strcmp(name, fm[i].name) == 0) {
			*out = fm[i].f;
			return CM_OK;
		}
	return cm__fail(ctx, CM_E_INVALID, "format '%s' is unknown (pem, der, "
	    "key, chain, bundle, fullchain, p12)", name ? name : "");
}

void
cm_bytes_free(cm_bytes *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		gnutls_memset(b->data, 0, b->len);
		free(b->data);
	}
	free(b);
}

/* ---- a growing buffer and a DER writer ---- */

typedef struct buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
} buf;

static void
buf_add(buf *b, const void *data, size_t len)
{
	unsigned char *np;
	size_t cap;

	if (b->oom || len == 0)
		return;
	if (b->len + len > b->cap) {
		cap = (b->len + len) * 2 + 64;
		/* Not realloc: the old block may hold secrets to wipe. */
		if ((np = malloc(cap)) == NULL) {
			b->oom = true;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			gnutls_memset(b->p, 0, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
buf_free(buf *b)
{
	if (b->p != NULL) {
		gnutls_memset(b->p, 0, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/* Appends tag, length and content (X.690 8.1: definite length). */
static void
der_add(buf *b, unsigned char tag, const void *content, size_t len)
{
	unsigned char h[6];
	size_t n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (unsigned char)len;
	} else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	buf_add(b, h, n);
	buf_add(b, content, len);
}

/* Wraps b's content into one element of tag. */
static void
der_wrap(buf *b, unsigned char tag)
{
	buf w = { NULL, 0, 0, false };

	der_add(&w, tag, b->p, b->len);
	w.oom |= b->oom;
	buf_free(b);
	*b = w;
}

static const unsigned char oid_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x07, 0x01 };
static const unsigned char oid_cert_bag[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03 };
static const unsigned char oid_x509_cert[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x09, 0x16, 0x01 };
static const unsigned char oid_friendly[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x09, 0x14 };
static const unsigned char oid_trusted_usage[] = { 0x60, 0x86, 0x48, 0x01,
    0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01 };
static const unsigned char oid_any_eku[] = { 0x55, 0x1d, 0x25, 0x00 };

/* A UTF-8 name as a BMPString (UCS-2BE; beyond the BMP becomes '?'). */
static void
bmp_string(buf *b, const char *s)
{
	buf u = { NULL, 0, 0, false };
	const unsigned char *p = (const unsigned char *)s;
	unsigned c;

	while (*p) {
		if (*p < 0x80) {
			c = *p++;
		} else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			c = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
			p += 2;
		} else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 &&
		    (p[2] & 0xc0) == 0x80) {
			c = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
			    (p[2] & 0x3fu);
			p += 3;
		} else {
			c = '?';
			p++;
			while ((*p & 0xc0) == 0x80)
				p++;
		}
		unsigned char be[2] = { (unsigned char)(c >> 8),
		    (unsigned char)c };
		buf_add(&u, be, 2);
	}
	der_add(b, 0x1e, u.p, u.len);
	b->oom |= u.oom;
	buf_free(&u);
}

/* RFC 7292 4.2.3 CertBag in a SafeBag with friendlyName and Java's
 * trustedKeyUsage = anyExtendedKeyUsage. */
static void
trusted_cert_bag(buf *out, const gnutls_datum_t *der, const char *name)
{
	buf bag = { NULL, 0, 0, false }, v = { NULL, 0, 0, false };
	buf attrs = { NULL, 0, 0, false }, a = { NULL, 0, 0, false };

	der_add(&v, 0x06, oid_x509_cert, sizeof(oid_x509_cert));
	der_add(&a, 0x04, der->data, der->size);
	der_wrap(&a, 0xa0);
	buf_add(&v, a.p, a.len);
	der_wrap(&v, 0x30);     /* CertBag */
	der_wrap(&v, 0xa0);     /* bagValue [0] EXPLICIT */
	buf_free(&a);

	if (name != NULL) {
		der_add(&a, 0x06, oid_friendly, sizeof(oid_friendly));
		buf w = { NULL, 0, 0, false };
		bmp_string(&w, name);
		der_wrap(&w, 0x31);
		buf_add(&a, w.p, w.len);
		buf_free(&w);
		der_wrap(&a, 0x30);
		buf_add(&attrs, a.p, a.len);
		buf_free(&a);
	}
	der_add(&a, 0x06, oid_trusted_usage, sizeof(oid_trusted_usage));
	{
		buf w = { NULL, 0, 0, false };
		der_add(&w, 0x06, oid_any_eku, sizeof(oid_any_eku));
		der_wrap(&w, 0x31);
		buf_add(&a, w.p, w.len);
		buf_free(&w);
	}
	der_wrap(&a, 0x30);
	buf_add(&attrs, a.p, a.len);
	buf_free(&a);
	der_wrap(&attrs, 0x31);

	der_add(&bag, 0x06, oid_cert_bag, sizeof(oid_cert_bag));
	buf_add(&bag, v.p, v.len);
	buf_add(&bag, attrs.p, attrs.len);
	bag.oom |= v.oom | attrs.oom;
	der_wrap(&bag, 0x30);
	buf_add(out, bag.p, bag.len);
	out->oom |= bag.oom;
	buf_free(&bag);
	buf_free(&v);
	buf_free(&attrs);
}

/* ContentInfo { data, [0] OCTET STRING content } */
static void
data_content_info(buf *out, const buf *content)
{
	buf ci = { NULL, 0, 0, false }, c = { NULL, 0, 0, false };

	der_add(&c, 0x04, content->p, content->len);
	der_wrap(&c, 0xa0);
	der_add(&ci, 0x06, oid_data, sizeof(oid_data));
	buf_add(&ci, c.p, c.len);
	ci.oom |= c.oom;
	der_wrap(&ci, 0x30);
	buf_add(out, ci.p, ci.len);
	out->oom |= ci.oom;
	buf_free(&ci);
	buf_free(&c);
}

/* ---- what is exported ---- */

typedef struct subject {
	gnutls_x509_crt_t chain[MAX_CHAIN + 1]; /* [0] the object, then up */
	size_t n;
	char *ca;          /* issuing CA name (certificate), or the CA */
	char *serial;      /* certificate serial; NULL for a CA */
	char *name;        /* friendly name */
	bool is_ca;
} subject;

static void
subject_clear(subject *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		gnutls_x509_crt_deinit(s->chain[i]);
	free(s->ca);
	free(s->serial);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static cm_err
push_der(subject *s, cm_ctx *ctx, const gnutls_datum_t *der, const char *what)
{
	gnutls_x509_crt_t c = NULL;
	int ret;

	if (s->n > MAX_CHAIN)
		return cm__fail(ctx, CM_E_STORE, "%s: chain longer than %d",
		    what, MAX_CHAIN);
	if ((ret = gnutls_x509_crt_init(&c)) < 0 ||
	    (ret = gnutls_x509_crt_import(c, der, GNUTLS_X509_FMT_DER)) < 0) {
		gnutls_x509_crt_deinit(c);
		return cm__gnutls_fail(ctx, ret, "%s", what);
	}
	s->chain[s->n++] = c;
	return CM_OK;
}

/* Pushes CA name and every CA above it. */
static cm_err
push_cas(subject *s, cm_store *st, const char *name)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__ca_rec r;
	char *next = NULL, what[128];
	cm_err err = CM_OK;
	int depth;

	if ((next = cm__strdup(name)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (depth = 0; next != NULL && depth <= MAX_CHAIN; depth++) {
		err = cm__store_ca_get(&r, st, next);
		free(next);
		next = NULL;
		if (err != CM_OK)
			break;
		snprintf(what, sizeof(what), "CA '%s'", r.info.name);
		err = push_der(s, ctx, &r.der, what);
		if (err == CM_OK && r.info.parent != NULL &&
		    (next = cm__strdup(r.info.parent)) == NULL)
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		cm__ca_rec_clear(&r);
		if (err != CM_OK)
			break;
	}
	free(next);
	return err;
}

static cm_err
resolve(subject *s, cm_store *st, const char *ref)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_cert_info *c = NULL;
	char *ca_name = NULL;
	cm__ca_rec r;
	gnutls_datum_t pem;
	cm_err err;
	int ret;

	memset(s, 0, sizeof(*s));
	if (ref == NULL || ref[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "export: no certificate or "
		    "CA named");
	/* A CA's exact name means the CA: an intermediate's own certificate
	 * is in the inventory too (its parent issued it), with the CA's name
	 * as its CN and no key there. */
	if ((err = cm__store_ca_get(&r, st, ref)) == CM_E_NOTFOUND &&
	    (err = cm_cert_find(&c, st, ref)) == CM_OK &&
	    c->fingerprint != NULL) {
		/* Found as a certificate (a serial, a name in another case):
		 * an intermediate's record still means the CA. */
		if ((err = cm__store_ca_name_by_fp(&ca_name, st,
		    c->fingerprint)) == CM_OK && ca_name != NULL) {
			cm_cert_info_free(c);
			c = NULL;
			err = cm__store_ca_get(&r, st, ca_name);
			free(ca_name);
		}
	}
	if (err == CM_E_NOTFOUND)
		err = cm__fail(ctx, CM_E_NOTFOUND, "'%s' is neither a "
		    "certificate (serial or first name) nor a CA of the store",
		    ref);
	if (err != CM_OK) {
		cm_cert_info_free(c);
		return err;
	}
	if (c == NULL) {
		s->is_ca = true;
		s->ca = cm__strdup(r.info.name);
		s->name = cm__strdup(r.info.name);
		cm__ca_rec_clear(&r);
		if (s->ca == NULL || s->name == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		return push_cas(s, st, s->ca);
	}
	s->ca = cm__strdup(c->ca);
	s->serial = cm__strdup(c->serial);
	s->name = cm__strdup(c->nnames > 0 ? c->names[0] : c->serial);
	if (s->ca == NULL || s->serial == NULL || s->name == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	pem.data = (unsigned char *)c->pem;
	pem.size = (unsigned)strlen(c->pem);
	{
		gnutls_x509_crt_t crt = NULL;
		if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
		    (ret = gnutls_x509_crt_import(crt, &pem,
		    GNUTLS_X509_FMT_PEM)) < 0) {
			gnutls_x509_crt_deinit(crt);
			err = cm__gnutls_fail(ctx, ret, "certificate %s",
			    c->serial);
			goto out;
		}
		s->chain[s->n++] = crt;
	}
	err = push_cas(s, st, s->ca);
out:
	cm_cert_info_free(c);
	return err;
}

/* The private key of what is exported. */
static cm_err
load_key(gnutls_x509_privkey_t *out, cm_store *st, const subject *s)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_err err;

	if (!s->is_ca) {
		err = cm__cert_key_load(out, st, s->ca, s->serial);
		if (err == CM_E_NOTFOUND)
			err = cm__fail(ctx, CM_E_NOTFOUND, "certificate %s ('%s')"
			    ": its key was not kept in the store (issued with "
			    "--no-keep-key or imported); use --no-key for "
			    "certificates only", s->serial, s->name);
		return err;
	}
	/* Expired, revoked or not yet valid, its key is still its key. */
	return cm__ca_key_load(out, st, s->ca);
}

static cm_err
add_pem(buf *b, cm_ctx *ctx, gnutls_x509_crt_t c)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	if ((ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d)) < 0)
		return cm__gnutls_fail(ctx, ret, "exporting certificate");
	buf_add(b, d.data, d.size);
	gnutls_free(d.data);
	return CM_OK;
}

/* PKCS#12 with the key (GnuTLS builds it). */
static cm_err
p12_with_key(buf *b, cm_ctx *ctx, const subject *s, gnutls_x509_privkey_t key,
    const cm_export_opts *o, const char *name)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t cbag = NULL, kbag = NULL;
	gnutls_datum_t kd = { NULL, 0 }, out = { NULL, 0 }, id;
	unsigned char kid[64];
	size_t kidlen = sizeof(kid), i;
	unsigned flags = o->legacy ? GNUTLS_PKCS_PKCS12_3DES :
	    GNUTLS_PKCS_PBES2_AES_256;
	cm_err err = CM_OK;
	int ret, idx;

	/* localKeyId ties the key to its certificate (RFC 7292 4.2). */
	if ((ret = gnutls_x509_crt_get_key_id(s->chain[0], 0, kid,
	    &kidlen)) < 0)
		goto fail;
	id.data = kid;
	id.size = (unsigned)kidlen;
	if ((ret = gnutls_pkcs12_init(&p12)) < 0 ||
	    (ret = gnutls_pkcs12_bag_init(&cbag)) < 0 ||
	    (ret = gnutls_pkcs12_bag_init(&kbag)) < 0)
		goto fail;
	for (i = 0; i < s->n; i++) {
		if ((idx = gnutls_pkcs12_bag_set_crt(cbag, s->chain[i])) < 0) {
			ret = idx;
			goto fail;
		}
		if (i == 0 && ((ret = gnutls_pkcs12_bag_set_friendly_name(cbag,
		    (unsigned)idx, name)) < 0 ||
		    (ret = gnutls_pkcs12_bag_set_key_id(cbag, (unsigned)idx,
		    &id)) < 0))
			goto fail;
	}
	if ((ret = gnutls_pkcs12_bag_encrypt(cbag, o->password, flags)) < 0 ||
	    (ret = gnutls_pkcs12_set_bag(p12, cbag)) < 0)
		goto fail;
	/* The modern profile takes certmint's PKCS#8, whose EC keys have
	 * their fixed length (key.c); the legacy one (PKCS#12 PBE with 3DES,
	 * for old readers that accept either length) is GnuTLS's. */
	if (!o->legacy && o->password != NULL && o->password[0] != '\0') {
		if ((err = cm__key_export_pkcs8(&kd, ctx, key, o->password)) !=
		    CM_OK)
			goto out;
	} else if ((ret = gnutls_x509_privkey_export2_pkcs8(key,
	    GNUTLS_X509_FMT_DER, o->password, flags, &kd)) < 0)
		goto fail;
	if ((idx = gnutls_pkcs12_bag_set_data(kbag,
	    GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &kd)) < 0) {
		ret = idx;
		goto fail;
	}
	if ((ret = gnutls_pkcs12_bag_set_friendly_name(kbag, (unsigned)idx,
	    name)) < 0 ||
	    (ret = gnutls_pkcs12_bag_set_key_id(kbag, (unsigned)idx, &id)) < 0 ||
	    (ret = gnutls_pkcs12_set_bag(p12, kbag)) < 0 ||
	    (ret = gnutls_pkcs12_generate_mac2(p12, o->legacy ?
	    GNUTLS_MAC_SHA1 : GNUTLS_MAC_SHA256, o->password)) < 0 ||
	    (ret = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &out)) < 0)
		goto fail;
	buf_add(b, out.data, out.size);
	goto out;
fail:
	err = cm__gnutls_fail(ctx, ret, "PKCS#12 of '%s'", name);
out:
	if (kd.data != NULL) {
		gnutls_memset(kd.data, 0, kd.size);
		gnutls_free(kd.data);
	}
	gnutls_free(out.data);
	gnutls_pkcs12_bag_deinit(cbag);
	gnutls_pkcs12_bag_deinit(kbag);
	gnutls_pkcs12_deinit(p12);
	return err;
}

/* A certificates-only PKCS#12 (truststore), see the top of the file. */
static cm_err
p12_trust(buf *b, cm_ctx *ctx, const subject *s, const cm_export_opts *o,
    const char *name)
{
	buf bags = { NULL, 0, 0, false }, safe = { NULL, 0, 0, false };
	buf pfx = { NULL, 0, 0, false };
	gnutls_pkcs12_t p12 = NULL;
	gnutls_datum_t d = { NULL, 0 }, out = { NULL, 0 }, pd;
	static const unsigned char v3 = 3;
	char label[300];
	size_t i;
	cm_err err = CM_OK;
	int ret;

	for (i = 0; i < s->n; i++) {
		if ((ret = gnutls_x509_crt_export2(s->chain[i],
		    GNUTLS_X509_FMT_DER, &d)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "exporting certificate");
			goto out;
		}
		/* Aliases in the keystore: the name, then its issuers. */
		if (i == 0)
			snprintf(label, sizeof(label), "%s", name);
		else
			snprintf(label, sizeof(label), "%s issuer %zu", name, i);
		trusted_cert_bag(&bags, &d, label);
		gnutls_free(d.data);
		d.data = NULL;
	}
	der_wrap(&bags, 0x30);                  /* SafeContents */
	data_content_info(&safe, &bags);
	der_wrap(&safe, 0x30);                  /* AuthenticatedSafe */
	der_add(&pfx, 0x02, &v3, 1);            /* version v3 */
	data_content_info(&pfx, &safe);
	/* A placeholder MacData: GnuTLS fills in one that is present,
	 * but cannot add an absent one (ASN1_ELEMENT_NOT_FOUND). */
	{
		static const unsigned char sha256[] = { 0x60, 0x86, 0x48, 0x01,
		    0x65, 0x03, 0x04, 0x02, 0x01 };
		static const unsigned char zero[32], one = 1;
		buf m = { NULL, 0, 0, false }, alg = { NULL, 0, 0, false };

		der_add(&alg, 0x06, sha256, sizeof(sha256));
		der_add(&alg, 0x05, NULL, 0);
		der_wrap(&alg, 0x30);
		der_add(&alg, 0x04, zero, sizeof(zero));
		der_wrap(&alg, 0x30);                   /* DigestInfo */
		buf_add(&m, alg.p, alg.len);
		der_add(&m, 0x04, zero, 8);             /* macSalt */
		der_add(&m, 0x02, &one, 1);             /* iterations */
		der_wrap(&m, 0x30);
		m.oom |= alg.oom;
		buf_add(&pfx, m.p, m.len);
		pfx.oom |= m.oom;
		buf_free(&m);
		buf_free(&alg);
	}
	der_wrap(&pfx, 0x30);                   /* PFX */
	if (bags.oom || safe.oom || pfx.oom) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	pd.data = pfx.p;
	pd.size = (unsigned)pfx.len;
	if ((ret = gnutls_pkcs12_init(&p12)) < 0 ||
	    (ret = gnutls_pkcs12_import(p12, &pd, GNUTLS_X509_FMT_DER, 0)) < 0 ||
	    (ret = gnutls_pkcs12_generate_mac2(p12, o->legacy ?
	    GNUTLS_MAC_SHA1 : GNUTLS_MAC_SHA256, o->password)) < 0 ||
	    (ret = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &out)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "PKCS#12 truststore of '%s'",
		    name);
		goto out;
	}
	buf_add(b, out.data, out.size);
out:
	gnutls_free(d.data);
	gnutls_free(out.data);
	gnutls_pkcs12_deinit(p12);
	buf_free(&bags);
	buf_free(&safe);
	buf_free(&pfx);
	return err;
}

cm_err
cm_export(cm_bytes **out, cm_store *st, const char *ref,
    const cm_export_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	subject s;
	buf b = { NULL, 0, 0, false };
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d = { NULL, 0 };
	cm_bytes *res = NULL;
	const char *name;
	bool secret = false;
	size_t i;
	cm_err err;
	int ret;

	memset(&s, 0, sizeof(s));
	if (o == NULL || o->version != CM_EXPORT_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "export: options version "
		    "%u is unknown", o ? o->version : 0);
	if (o->format == CM_EXPORT_P12 &&
	    (o->password == NULL || o->password[0] == '\0'))
		return cm__fail(ctx, CM_E_INVALID, "export: a PKCS#12 file "
		    "needs a password (prompt, --password-file or "
		    "CERTMINT_EXPORT_PASSWORD)");
	if ((err = resolve(&s, st, ref)) != CM_OK)
		goto out;
	name = o->friendly_name ? o->friendly_name : s.name;
	switch (o->format) {
	case CM_EXPORT_PEM:
		err = add_pem(&b, ctx, s.chain[0]);
		break;
	case CM_EXPORT_DER:
		if ((ret = gnutls_x509_crt_export2(s.chain[0],
		    GNUTLS_X509_FMT_DER, &d)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "exporting '%s'", name);
			break;
		}
		buf_add(&b, d.data, d.size);
		break;
	case CM_EXPORT_CHAIN:
		/* The issuers a server sends: not itself, not the root. */
		for (i = 1; err == CM_OK && i + 1 < s.n; i++)
			err = add_pem(&b, ctx, s.chain[i]);
		break;
	case CM_EXPORT_FULLCHAIN:
		for (i = 0; err == CM_OK && i < s.n; i++)
			err = add_pem(&b, ctx, s.chain[i]);
		break;
	case CM_EXPORT_BUNDLE:
		/* Itself and the issuers a server sends, not the root (a
		 * root alone is itself). */
		for (i = 0; err == CM_OK && (i == 0 || i + 1 < s.n); i++)
			err = add_pem(&b, ctx, s.chain[i]);
		break;
	case CM_EXPORT_KEY:
		if ((err = load_key(&key, st, &s)) != CM_OK)
			break;
		secret = true;
		if ((err = cm__key_export_pem(&d, ctx, key)) != CM_OK)
			break;
		buf_add(&b, d.data, d.size);
		gnutls_memset(d.data, 0, d.size);
		break;
	case CM_EXPORT_P12:
		if (o->no_key) {
			err = p12_trust(&b, ctx, &s, o, name);
			break;
		}
		if ((err = load_key(&key, st, &s)) != CM_OK)
			break;
		secret = true;
		err = p12_with_key(&b, ctx, &s, key, o, name);
		break;
	default:
		err = cm__fail(ctx, CM_E_INVALID, "export: format %d is "
		    "unknown", (int)o->format);
	}
	if (err != CM_OK)
		goto out;
	if (b.oom || (res = calloc(1, sizeof(*res))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	/* An empty chain (a certificate straight under its root) is fine. */
	res->data = b.p ? b.p : calloc(1, 1);
	if (res->data == NULL) {
		free(res);
		res = NULL;
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	res->len = b.len;
	res->secret = secret;
	b.p = NULL;
	*out = res;
out:
	gnutls_free(d.data);
	gnutls_x509_privkey_deinit(key);
	buf_free(&b);
	subject_clear(&s);
	return err;
}

cm_err
cm_export_file(bool *secret, cm_store *st, const char *ref,
    const cm_export_opts *o, const char *path, bool force)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_bytes *b = NULL;
	cm_err err;

	/* Refuse a bad path before asking for any passphrase. */
	if ((err = cm__file_check(ctx, path, force)) != CM_OK)
		return err;
	if ((err = cm_export(&b, st, ref, o)) != CM_OK)
		return err;
	err = cm__file_write(ctx, path, b->data, b->len,
	    b->secret ? 0600 : 0644, force, true);
	if (err == CM_OK && secret != NULL)
		*secret = b->secret;
	cm_bytes_free(b);
	return err;
}
