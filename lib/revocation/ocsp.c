/*
 * ocsp.c - an OCSP responder over the store (RFC 6960), encoded with
 * libtasn1 and signed through GnuTLS.
 *
 * A response for one certificate is signed once and kept, keyed by the
 * request's CertID DER: later requests for it cost a parse and a lookup.
 * A kept response is signed again when the certificate's status changed
 * (checked when the store's data version moved: another process
 * committed) and past half of its validity.  Requests with a nonce or
 * several certificates are signed fresh.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ocsp.h"

#define DEFAULT_VALIDITY 86400u
#define MAX_REQUEST 65536
#define MAX_SINGLE 16
#define MAX_NONCE 64         /* RFC 8954 2.1: 1 to 32; some send more */
#define MAX_CERTID 256

static const char OID_NONCE[] = "1.3.6.1.5.5.7.48.1.2";
static const char OID_BASIC[] = "1.3.6.1.5.5.7.48.1.1";

static const struct {
	const char *oid;
	gnutls_digest_algorithm_t dig;
	unsigned char der[11];   /* the OID as DER contents */
	size_t derlen;
} hash_algs[CM__OCSP_NHASH] = {
	{ "1.3.14.3.2.26", GNUTLS_DIG_SHA1,
	    { 0x2b, 0x0e, 0x03, 0x02, 0x1a }, 5 },
	{ "2.16.840.1.101.3.4.2.1", GNUTLS_DIG_SHA256,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 }, 9 },
	{ "2.16.840.1.101.3.4.2.2", GNUTLS_DIG_SHA384,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 }, 9 },
	{ "2.16.840.1.101.3.4.2.3", GNUTLS_DIG_SHA512,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 }, 9 },
};

/* RFC 6960 4.2.1: the unsigned error answers. */
static const unsigned char resp_malformed[] = { 0x30, 0x03, 0x0a, 0x01, 1 };
static const unsigned char resp_internal[] = { 0x30, 0x03, 0x0a, 0x01, 2 };
static const unsigned char resp_unauthorized[] = { 0x30, 0x03, 0x0a, 0x01,
    6 };

typedef struct entry {
	struct entry *next;
	uint64_t hash;
	unsigned char certid[MAX_CERTID];
	size_t certidlen;
	int64_t gen;                /* data version generation checked at */
	cm__cert_status status;
	time_t this_update;
	unsigned char *resp;
	size_t len;
} entry;

static cm_err
dup_out(unsigned char **out, size_t *len, cm_ctx *ctx,
    const unsigned char *p, size_t n)
{
	if ((*out = malloc(n)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	memcpy(*out, p, n);
	*len = n;
	return CM_OK;
}

/* ---- a small DER reader, for public key BIT STRINGs ---- */
static bool
der_next(const unsigned char **p, size_t *left, unsigned char *tag,
    const unsigned char **val, size_t *vlen)
{
	size_t len = 0, n, i;

	if (*left < 2)
		return false;
	*tag = (*p)[0];
	if ((*p)[1] < 0x80) {
		len = (*p)[1];
		n = 2;
	} else {
		size_t k = (*p)[1] & 0x7f;
		if (k == 0 || k > 4 || *left < 2 + k)
			return false;
		for (i = 0; i < k; i++)
			len = len << 8 | (*p)[2 + i];
		n = 2 + k;
	}
	if (len > *left - n)
		return false;
	*val = *p + n;
	*vlen = len;
	*p += n + len;
	*left -= n + len;
	return true;
}

/* RFC 6960 4.1.1: hash of the subjectPublicKey BIT STRING value (no tag,
 * length or unused-bits octet). */
static cm_err
key_bits(gnutls_datum_t *out, cm_ctx *ctx, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = { NULL, 0 };
	const unsigned char *p, *v, *seq;
	size_t left, vlen, seqlen;
	unsigned char tag;
	cm_err err = CM_OK;
	int ret;

	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) <
	    0) {
		err = cm__gnutls_fail(ctx, ret, "public key");
		goto out;
	}
	p = spki.data;
	left = spki.size;
	if (!der_next(&p, &left, &tag, &seq, &seqlen) || tag != 0x30)
		goto bad;
	p = seq;
	left = seqlen;
	if (!der_next(&p, &left, &tag, &v, &vlen) || tag != 0x30 ||
	    !der_next(&p, &left, &tag, &v, &vlen) || tag != 0x03 || vlen < 1)
		goto bad;
	if ((out->data = gnutls_malloc(vlen - 1)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out->data, v + 1, vlen - 1);
	out->size = (unsigned)(vlen - 1);
	goto out;
bad:
	err = cm__fail(ctx, CM_E_CRYPTO, "public key: cannot parse "
	    "SubjectPublicKeyInfo");
out:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return err;
}

static cm_err
ca_hashes(cm__ocsp_ca *c, cm_ctx *ctx)
{
	gnutls_datum_t dn = { NULL, 0 }, bits = { NULL, 0 };
	cm_err err = CM_OK;
	size_t i;
	int ret;

	if ((ret = gnutls_x509_crt_get_raw_dn(c->s->crt, &dn)) < 0)
		return cm__gnutls_fail(ctx, ret, "CA '%s': subject",
		    c->s->rec.info.name);
	if ((err = key_bits(&bits, ctx, c->s->crt)) != CM_OK)
		goto out;
	for (i = 0; i < CM__OCSP_NHASH; i++) {
		c->hlen[i] = gnutls_hash_get_len(hash_algs[i].dig);
		if ((ret = gnutls_hash_fast(hash_algs[i].dig, dn.data, dn.size,
		    c->name_hash[i])) < 0 ||
		    (ret = gnutls_hash_fast(hash_algs[i].dig, bits.data,
		    bits.size, c->key_hash[i])) < 0) {
			err = cm__gnutls_fail(ctx, ret, "hashing CA");
			goto out;
		}
	}
	/* The responder ID of a CA signing itself (4.2.2.3).  byName: GnuTLS
	 * looks a byKey ID up by subject key identifier, which need not be
	 * the SHA-1 of the key (ours is RFC 7093 SHA-256). */
	memcpy(c->rid, c->key_hash[0], 20);
	c->rname = dn;
	dn.data = NULL;
out:
	gnutls_free(dn.data);
	gnutls_free(bits.data);
	return err;
}

static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
cm_ocsp_responder_free(cm_ocsp_responder *r)
{
	size_t i;
	entry *e, *next;

	if (r == NULL)
		return;
	for (i = 0; i < r->nbuckets; i++)
		for (e = r->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e->resp);
			free(e);
		}
	free(r->buckets);
	free(r->scratch);
	for (i = 0; i < r->ncas; i++) {
		cm__signer_free(r->cas[i].s);
		gnutls_free(r->cas[i].rname.data);
	}
	gnutls_free(r->dname.data);
	free(r->cas);
	gnutls_privkey_deinit(r->dkey);
	gnutls_x509_privkey_deinit(r->dxkey);
	gnutls_x509_crt_deinit(r->dcrt);
	free(r->dcert.data);
	free(r);
}

static cm_err
add_ca(cm_ocsp_responder *r, const char *name)
{
	cm__ocsp_ca *nc;
	size_t i;
	cm_err err;

	for (i = 0; i < r->ncas; i++)
		if (strcmp(r->cas[i].s->rec.info.name, name) == 0)
			return CM_OK;
	if ((nc = realloc(r->cas, (r->ncas + 1) * sizeof(*nc))) == NULL)
		return cm__fail(r->ctx, CM_E_NOMEM, "out of memory");
	r->cas = nc;
	memset(&nc[r->ncas], 0, sizeof(*nc));
	if ((err = cm__signer_load(&nc[r->ncas].s, r->st, name)) != CM_OK)
		return err;
	r->ncas++;
	if ((err = ca_hashes(&nc[r->ncas - 1], r->ctx)) != CM_OK)
		return err;
	nc[r->ncas - 1].key = nc[r->ncas - 1].s->key;
	nc[r->ncas - 1].kt = nc[r->ncas - 1].s->key_type;
	return CM_OK;
}

/* RFC 6960 4.2.2.2: a delegated responder certificate, issued by the CA
 * it answers for, with id-kp-OCSPSigning. */
static cm_err
load_signer(cm_ocsp_responder *r, const char *ref)
{
	cm_ctx *ctx = r->ctx;
	cm_cert_info *c = NULL;
	gnutls_datum_t pem, bits = { NULL, 0 };
	char oid[128];
	size_t oidlen, i;
	unsigned critical;
	bool eku = false;
	cm_err err;
	int ret;

	if ((err = cm_cert_find(&c, r->st, ref)) != CM_OK)
		return err;
	if (strcmp(c->status, "valid") != 0) {
		err = cm__fail(ctx, CM_E_INVALID, "OCSP signer %s is %s",
		    c->serial, c->status);
		goto out;
	}
	pem.data = (unsigned char *)c->pem;
	pem.size = (unsigned)strlen(c->pem);
	if ((ret = gnutls_x509_crt_init(&r->dcrt)) < 0 ||
	    (ret = gnutls_x509_crt_import(r->dcrt, &pem,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "OCSP signer %s", c->serial);
		goto out;
	}
	for (i = 0;; i++) {
		oidlen = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(r->dcrt, (unsigned)i,
		    oid, &oidlen, &critical);
		if (ret < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_OCSP_SIGNING) == 0)
			eku = true;
	}
	if (!eku) {
		err = cm__fail(ctx, CM_E_INVALID, "certificate %s cannot sign "
		    "OCSP responses: no id-kp-OCSPSigning (issue it with "
		    "--profile ocsp-signer)", c->serial);
		goto out;
	}
	if ((err = cm__cert_key_load(&r->dxkey, r->st, c->ca, c->serial)) !=
	    CM_OK)
		goto out;
	if ((ret = gnutls_privkey_init(&r->dkey)) < 0 ||
	    (ret = gnutls_privkey_import_x509(r->dkey, r->dxkey, 0)) < 0 ||
	    (ret = gnutls_x509_crt_export2(r->dcrt, GNUTLS_X509_FMT_DER,
	    &r->dcert_gt)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "OCSP signer %s", c->serial);
		goto out;
	}
	/* Kept with malloc: one allocator for everything we free. */
	if ((r->dcert.data = malloc(r->dcert_gt.size)) == NULL) {
		gnutls_free(r->dcert_gt.data);
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(r->dcert.data, r->dcert_gt.data, r->dcert_gt.size);
	r->dcert.size = r->dcert_gt.size;
	gnutls_free(r->dcert_gt.data);
	r->dcert_gt.data = NULL;
	r->dkt = cm__key_type_of(r->dxkey);
	if ((err = key_bits(&bits, ctx, r->dcrt)) != CM_OK)
		goto out;
	if ((ret = gnutls_x509_crt_get_raw_dn(r->dcrt, &r->dname)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "OCSP signer: subject");
		goto out;
	}
	if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA1, bits.data, bits.size,
	    r->drid)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "OCSP signer");
		goto out;
	}
	if ((err = add_ca(r, c->ca)) != CM_OK)
		goto out;
	for (i = 0; i < r->ncas; i++)
		if (strcmp(r->cas[i].s->rec.info.name, c->ca) == 0) {
			r->cas[i].key = r->dkey;
			r->cas[i].kt = r->dkt;
			memcpy(r->cas[i].rid, r->drid, 20);
			r->cas[i].rid_name = r->dname;
			r->cas[i].delegated = true;
		}
out:
	gnutls_free(bits.data);
	cm_cert_info_free(c);
	return err;
}

cm_err
cm_ocsp_responder_new(cm_ocsp_responder **out, cm_store *st,
    const cm_ocsp_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_ocsp_opts def = CM_OCSP_OPTS_INIT;
	cm_ocsp_responder *r = NULL;
	cm_ca_info **list = NULL;
	size_t n = 0, i;
	cm_err err;

	if (o == NULL)
		o = &def;
	if (o->version != CM_OCSP_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "ocsp: options version %u "
		    "is unknown", o->version);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	r->st = st;
	r->ctx = ctx;
	r->validity = o->validity ? o->validity : DEFAULT_VALIDITY;
	r->presign = o->presign ? o->presign : 10000;
	if (r->validity < 60 || r->validity > 366u * 86400) {
		err = cm__fail(ctx, CM_E_INVALID, "ocsp: validity of %u s: give "
		    "1 minute to 1 year", r->validity);
		goto out;
	}
	r->nbuckets = 1024;
	if ((r->buckets = calloc(r->nbuckets, sizeof(*r->buckets))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if (o->ncas > 0) {
		for (i = 0; i < o->ncas; i++)
			if ((err = add_ca(r, o->cas[i])) != CM_OK)
				goto out;
	} else if (o->signer == NULL) {
		if ((err = cm_ca_list(&list, &n, st)) != CM_OK)
			goto out;
		if (n == 0) {
			err = cm__fail(ctx, CM_E_NOTFOUND, "no CA in the store "
			    "(run 'certmint init')");
			goto out;
		}
		/* Every CA that can still sign. */
		for (i = 0; i < n; i++) {
			if (list[i]->not_after < cm_ctx_now(ctx))
				continue;
			if ((err = add_ca(r, list[i]->name)) != CM_OK)
				goto out;
		}
		if (r->ncas == 0) {
			err = cm__fail(ctx, CM_E_INVALID, "every CA in the "
			    "store has expired: nothing to answer for");
			goto out;
		}
	}
	if (o->signer != NULL) {
		size_t before = r->ncas;
		if ((err = load_signer(r, o->signer)) != CM_OK)
			goto out;
		if (o->ncas > 0 && r->ncas != before) {
			err = cm__fail(ctx, CM_E_INVALID, "OCSP signer %s is "
			    "not issued by a CA given with --ca", o->signer);
			goto out;
		}
	}
	if ((err = cm__store_data_version(&r->data_version, st)) != CM_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	cm_ca_info_list_free(list, n);
	cm_ocsp_responder_free(r);
	return err;
}

static cm_err
write_gtime(cm_ctx *ctx, asn1_node n, const char *name, time_t t)
{
	char s[20];
	int rc;

	if (!cm__asn1_time(s, sizeof(s), t, false))
		return cm__fail(ctx, CM_E_INVALID, "OCSP: time out of range");
	if ((rc = asn1_write_value(n, name, s, 15)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, name);
	return CM_OK;
}

/* One single response to be signed. */
typedef struct single {
	const unsigned char *certid;
	size_t certidlen;
	cm__cert_status status;
} single;

/*
 * A signed, successful OCSPResponse for the singles (RFC 6960 4.2.1):
 * ResponseData -> BasicOCSPResponse -> ResponseBytes.
 */
static cm_err
build_response(unsigned char **out, size_t *len, cm_ocsp_responder *r,
    const cm__ocsp_ca *c, const single *sv, size_t ns,
    const unsigned char *nonce, size_t noncelen, time_t *this_update)
{
	cm_ctx *ctx = r->ctx;
	asn1_node rd = NULL, basic = NULL, resp = NULL;
	unsigned char *tbs = NULL, *bder = NULL;
	size_t tbslen = 0, blen = 0, i;
	gnutls_sign_algorithm_t sa;
	gnutls_datum_t data, sig = { NULL, 0 };
	time_t now = cm_ctx_now(ctx);
	char el[96], num[8];
	cm_err err;
	int rc;

	if ((err = cm__asn1_new(&rd, ctx,
	    "CERTMINT-REVOCATION.ResponseData")) != CM_OK)
		goto out;
	/* version DEFAULT v1: left out. */
	if ((rc = asn1_write_value(rd, "version", "0", 0)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(rd, "responderID", "byName", 1)) !=
	    ASN1_SUCCESS ||
	    (rc = asn1_write_value(rd, "responderID.byName",
	    c->delegated ? c->rid_name.data : c->rname.data,
	    (int)(c->delegated ? c->rid_name.size : c->rname.size))) !=
	    ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "OCSP responder ID");
		goto out;
	}
	if ((err = write_gtime(ctx, rd, "producedAt", now)) != CM_OK)
		goto out;
	for (i = 0; i < ns; i++) {
		const cm__cert_status *s = &sv[i].status;
		if ((rc = asn1_write_value(rd, "responses", "NEW", 1)) !=
		    ASN1_SUCCESS ||
		    (rc = asn1_write_value(rd, "responses.?LAST.certID",
		    sv[i].certid, (int)sv[i].certidlen)) != ASN1_SUCCESS) {
			err = cm__asn1_fail(ctx, rc, "OCSP certID");
			goto out;
		}
		if (!s->found)
			rc = asn1_write_value(rd, "responses.?LAST.certStatus",
			    "unknown", 1);
		else if (!s->revoked)
			rc = asn1_write_value(rd, "responses.?LAST.certStatus",
			    "good", 1);
		else
			rc = asn1_write_value(rd, "responses.?LAST.certStatus",
			    "revoked", 1);
		if (rc != ASN1_SUCCESS) {
			err = cm__asn1_fail(ctx, rc, "OCSP certStatus");
			goto out;
		}
		if (s->found && s->revoked) {
			if ((err = write_gtime(ctx, rd, "responses.?LAST."
			    "certStatus.revoked.revocationTime",
			    s->revoked_at)) != CM_OK)
				goto out;
			snprintf(el, sizeof(el), "responses.?LAST.certStatus."
			    "revoked.revocationReason");
			/* RFC 5280 5.3.1 via RFC 6960 4.2.1: unspecified is
			 * left out, like in CRLs. */
			if (s->reason > 0 && s->reason <= 10 && s->reason != 7) {
				snprintf(num, sizeof(num), "%d", s->reason);
				rc = asn1_write_value(rd, el, num, 0);
			} else {
				rc = asn1_write_value(rd, el, NULL, 0);
			}
			if (rc != ASN1_SUCCESS) {
				err = cm__asn1_fail(ctx, rc, "OCSP reason");
				goto out;
			}
		}
		if ((err = write_gtime(ctx, rd, "responses.?LAST.thisUpdate",
		    now)) != CM_OK ||
		    (err = write_gtime(ctx, rd, "responses.?LAST.nextUpdate",
		    now + (time_t)r->validity)) != CM_OK)
			goto out;
		if ((rc = asn1_write_value(rd, "responses.?LAST."
		    "singleExtensions", NULL, 0)) != ASN1_SUCCESS) {
			err = cm__asn1_fail(ctx, rc, "OCSP response");
			goto out;
		}
	}
	if (nonce != NULL) {
		if ((rc = asn1_write_value(rd, "responseExtensions", "NEW",
		    1)) != ASN1_SUCCESS ||
		    (rc = asn1_write_value(rd, "responseExtensions.?LAST."
		    "extnID", OID_NONCE, 1)) != ASN1_SUCCESS ||
		    (rc = asn1_write_value(rd, "responseExtensions.?LAST."
		    "critical", "FALSE", 1)) != ASN1_SUCCESS ||
		    (rc = asn1_write_value(rd, "responseExtensions.?LAST."
		    "extnValue", nonce, (int)noncelen)) != ASN1_SUCCESS) {
			err = cm__asn1_fail(ctx, rc, "OCSP nonce");
			goto out;
		}
	} else if ((rc = asn1_write_value(rd, "responseExtensions", NULL,
	    0)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "OCSP response");
		goto out;
	}
	if ((err = cm__asn1_der(&tbs, &tbslen, ctx, rd, "")) != CM_OK)
		goto out;

	if ((err = cm__asn1_new(&basic, ctx,
	    "CERTMINT-REVOCATION.BasicOCSPResponse")) != CM_OK)
		goto out;
	if ((err = cm__sig_alg_write(&sa, ctx, basic, "signatureAlgorithm",
	    c->kt)) != CM_OK)
		goto out;
	data.data = tbs;
	data.size = (unsigned)tbslen;
	if ((rc = gnutls_privkey_sign_data2(c->key, sa, 0, &data, &sig)) < 0) {
		err = cm__gnutls_fail(ctx, rc, "signing OCSP response");
		goto out;
	}
	if ((rc = asn1_write_value(basic, "tbsResponseData", tbs,
	    (int)tbslen)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(basic, "signature", sig.data,
	    (int)sig.size * 8)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "OCSP response");
		goto out;
	}
	/* 4.2.2.2: a delegated responder sends its certificate along. */
	if (c->delegated) {
		rc = asn1_write_value(basic, "certs", "NEW", 1);
		if (rc == ASN1_SUCCESS)
			rc = asn1_write_value(basic, "certs.?LAST",
			    r->dcert.data, (int)r->dcert.size);
	} else {
		rc = asn1_write_value(basic, "certs", NULL, 0);
	}
	if (rc != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "OCSP certs");
		goto out;
	}
	if ((err = cm__asn1_der(&bder, &blen, ctx, basic, "")) != CM_OK)
		goto out;

	if ((err = cm__asn1_new(&resp, ctx,
	    "CERTMINT-REVOCATION.OCSPResponse")) != CM_OK)
		goto out;
	if ((rc = asn1_write_value(resp, "responseStatus", "successful",
	    0)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(resp, "responseBytes.responseType",
	    OID_BASIC, 1)) != ASN1_SUCCESS ||
	    (rc = asn1_write_value(resp, "responseBytes.response", bder,
	    (int)blen)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "OCSP response");
		goto out;
	}
	err = cm__asn1_der(out, len, ctx, resp, "");
	if (err == CM_OK && this_update != NULL)
		*this_update = now;
out:
	gnutls_free(sig.data);
	free(tbs);
	free(bder);
	asn1_delete_structure(&rd);
	asn1_delete_structure(&basic);
	asn1_delete_structure(&resp);
	return err;
}

static bool
same_status(const cm__cert_status *a, const cm__cert_status *b)
{
	return a->found == b->found && a->revoked == b->revoked &&
	    (!a->revoked || (a->revoked_at == b->revoked_at &&
	    a->reason == b->reason));
}

/* The store's data version moved: kept statuses must be checked again. */
static cm_err
check_version(cm_ocsp_responder *r)
{
	int64_t v;
	cm_err err;

	/* Per request: the -shm header first (a memory read), the data
	 * version (a read transaction: locks and a stat) when it moved. */
	if (r->version_seen && !cm__store_may_have_changed(r->st))
		return CM_OK;
	if ((err = cm__store_data_version(&v, r->st)) != CM_OK) {
		/* Unchecked: the next request checks again.  Meanwhile the
		 * kept responses stand (a PostgreSQL store whose server
		 * restarts); a status not kept fails at its lookup. */
		cm__store_changes_unseen(r->st);
		return r->version_seen ? CM_OK : err;
	}
	r->version_seen = true;
	if (v != r->data_version) {
		r->data_version = v;
		r->gen++;
	}
	return CM_OK;
}

static cm_err
grow(cm_ocsp_responder *r)
{
	entry **nb, *e, *next;
	size_t n = r->nbuckets * 2, i;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return cm__fail(r->ctx, CM_E_NOMEM, "out of memory");
	for (i = 0; i < r->nbuckets; i++)
		for (e = r->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(r->buckets);
	r->buckets = nb;
	r->nbuckets = n;
	return CM_OK;
}

/*
 * The kept response for certid (of CA c, serial hex), signed when absent,
 * stale or outdated by a status change.  Unknown serials are not kept:
 * the table holds issued certificates only.  [out] a pointer into the
 * table, valid until the next call.
 */
static cm_err
cached(const unsigned char **out, size_t *len, cm_ocsp_responder *r,
    const cm__ocsp_ca *c, const unsigned char *certid, size_t certidlen,
    const char *serial, const cm__cert_status *known)
{
	uint64_t h = fnv1a(certid, certidlen);
	entry *e;
	cm__cert_status st;
	single one;
	unsigned char *resp = NULL;
	size_t rlen = 0;
	time_t now = cm_ctx_now(r->ctx), tu = 0;
	cm_err err;

	for (e = r->buckets[h & (r->nbuckets - 1)]; e != NULL; e = e->next)
		if (e->hash == h && e->certidlen == certidlen &&
		    memcmp(e->certid, certid, certidlen) == 0)
			break;
	if (e != NULL && e->gen == r->gen &&
	    now < e->this_update + (time_t)r->validity / 2 &&
	    now >= e->this_update) {
		*out = e->resp;
		*len = e->len;
		return CM_OK;
	}
	if (known != NULL)
		st = *known;
	else if ((err = cm__store_cert_status(&st, r->st, c->s->rec.id,
	    serial)) != CM_OK) {
		/* The store out of reach (a PostgreSQL server restarting):
		 * the kept response, still within its validity, stands. */
		if (e != NULL && now >= e->this_update &&
		    now < e->this_update + (time_t)r->validity) {
			*out = e->resp;
			*len = e->len;
			return CM_OK;
		}
		return err;
	}
	if (e != NULL && same_status(&st, &e->status) &&
	    now < e->this_update + (time_t)r->validity / 2 &&
	    now >= e->this_update) {
		e->gen = r->gen;
		*out = e->resp;
		*len = e->len;
		return CM_OK;
	}
	one.certid = certid;
	one.certidlen = certidlen;
	one.status = st;
	if ((err = build_response(&resp, &rlen, r, c, &one, 1, NULL, 0,
	    &tu)) != CM_OK)
		return err;
	r->signatures++;
	if (!st.found || certidlen > MAX_CERTID) {
		/* Not kept: hand it over through the scratch slot. */
		free(r->scratch);
		r->scratch = resp;
		*out = resp;
		*len = rlen;
		return CM_OK;
	}
	if (e == NULL) {
		if (r->nents >= r->nbuckets && (err = grow(r)) != CM_OK) {
			free(resp);
			return err;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			free(resp);
			return cm__fail(r->ctx, CM_E_NOMEM, "out of memory");
		}
		e->hash = h;
		memcpy(e->certid, certid, certidlen);
		e->certidlen = certidlen;
		e->next = r->buckets[h & (r->nbuckets - 1)];
		r->buckets[h & (r->nbuckets - 1)] = e;
		r->nents++;
	}
	free(e->resp);
	e->resp = resp;
	e->len = rlen;
	e->status = st;
	e->gen = r->gen;
	e->this_update = tu;
	*out = e->resp;
	*len = e->len;
	return CM_OK;
}

/* CertID { sha1 (NULL parameters), name hash, key hash, serial }, as
 * OpenSSL and GnuTLS clients send it. */
static bool
make_certid(cm__buf *b, const cm__ocsp_ca *c, const char *serial)
{
	unsigned char sn[24];
	size_t snlen, alg, body;

	if (!cm__serial_from_hex(sn, &snlen, serial))
		return false;
	alg = 2 + hash_algs[0].derlen + 2;
	body = 2 + alg + 2 + 20 + 2 + 20 + 2 + snlen;
	cm__der_header(b, 0x30, body);
	cm__der_header(b, 0x30, alg);
	cm__der_header(b, 0x06, hash_algs[0].derlen);
	cm__buf_add(b, hash_algs[0].der, hash_algs[0].derlen);
	cm__der_header(b, 0x05, 0);
	cm__der_header(b, 0x04, 20);
	cm__buf_add(b, c->name_hash[0], 20);
	cm__der_header(b, 0x04, 20);
	cm__buf_add(b, c->key_hash[0], 20);
	cm__der_header(b, 0x02, snlen);
	cm__buf_add(b, sn, snlen);
	return !b->oom;
}

typedef struct presign_arg {
	cm_ocsp_responder *r;
	const cm__ocsp_ca *c;
	size_t n;
} presign_arg;

static cm_err
presign_one(void *arg, const char *serial, time_t revoked_at, int reason)
{
	presign_arg *a = arg;
	cm__buf b = { NULL, 0, 0, false };
	cm__cert_status st;
	const unsigned char *p;
	size_t len;
	cm_err err;

	memset(&st, 0, sizeof(st));
	st.found = true;
	st.revoked = revoked_at != 0;
	st.revoked_at = revoked_at;
	st.reason = reason;
	if (!make_certid(&b, a->c, serial)) {
		free(b.p);
		if (b.oom)
			return cm__fail(a->r->ctx, CM_E_NOMEM, "out of memory");
		return CM_OK;   /* a serial we cannot answer for anyway */
	}
	err = cached(&p, &len, a->r, a->c, b.p, b.len, serial, &st);
	free(b.p);
	a->n++;
	return err;
}

cm_err
cm__ocsp_presign(cm_ocsp_responder *r, size_t *count)
{
	presign_arg a;
	size_t i;
	cm_err err;

	a.r = r;
	a.n = 0;
	if ((err = check_version(r)) != CM_OK)
		return err;
	for (i = 0; i < r->ncas; i++) {
		a.c = &r->cas[i];
		if ((err = cm__store_cert_each(r->st, r->cas[i].s->rec.id,
		    cm_ctx_now(r->ctx), r->presign, presign_one, &a)) != CM_OK)
			return err;
	}
	if (count != NULL)
		*count = a.n;
	return CM_OK;
}

/* Parsed request: the singles and the nonce. */
typedef struct request {
	size_t n;
	unsigned char certid[MAX_SINGLE][MAX_CERTID];
	size_t certidlen[MAX_SINGLE];
	char serial[MAX_SINGLE][48];   /* "" when not a serial we issue */
	int ca;                        /* index, -1: not ours */
	unsigned char nonce[MAX_NONCE + 4];
	size_t noncelen;               /* 0: no nonce */
} request;

typedef enum {
	PARSE_OK, PARSE_MALFORMED, PARSE_UNAUTHORIZED,
	PARSE_OTHER                    /* fast path: for the full decoder */
} parse_rc;

/*
 * One Request of the list, as both decoders read it: the CertID's DER, its
 * hash algorithm (index into hash_algs, -1: another), the two hashes (a
 * length over 64: too long for any hash we know) and the serial's content
 * octets (a length over 32: longer than any serial we issue).
 */
static parse_rc
apply_single(request *q, const cm_ocsp_responder *r, const unsigned char *cid,
    size_t cidlen, int alg, const unsigned char *nh, size_t nhlen,
    const unsigned char *kh, size_t khlen, const unsigned char *sn,
    size_t snlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t ci, off, i;

	if (cidlen > MAX_CERTID)
		return PARSE_MALFORMED;
	q->serial[q->n][0] = '\0';
	memcpy(q->certid[q->n], cid, cidlen);
	q->certidlen[q->n] = cidlen;
	if (nhlen > 64 || khlen > 64 || alg < 0)
		return PARSE_UNAUTHORIZED;
	for (ci = 0; ci < r->ncas; ci++)
		if (nhlen == r->cas[ci].hlen[alg] &&
		    khlen == r->cas[ci].hlen[alg] &&
		    memcmp(nh, r->cas[ci].name_hash[alg], nhlen) == 0 &&
		    memcmp(kh, r->cas[ci].key_hash[alg], khlen) == 0)
			break;
	/* One responder ID per response: one issuer per request. */
	if (ci == r->ncas || (q->ca >= 0 && (size_t)q->ca != ci))
		return PARSE_UNAUTHORIZED;
	q->ca = (int)ci;
	if (snlen > 0 && snlen <= 32 && !(sn[0] & 0x80)) {
		/* Our serials: positive, hex of the value without leading
		 * zero octets. */
		for (off = 0; off + 1 < snlen && sn[off] == 0; off++)
			;
		if (snlen - off <= 21) {
			for (i = 0; i < snlen - off; i++) {
				q->serial[q->n][2 * i] = digits[sn[off + i] >> 4];
				q->serial[q->n][2 * i + 1] =
				    digits[sn[off + i] & 15];
			}
			q->serial[q->n][2 * i] = '\0';
		}
	}
	q->n++;
	return PARSE_OK;
}

/* RFC 8954: the nonce (extnValue's content octets), echoed back. */
static parse_rc
apply_nonce(request *q, const unsigned char *v, size_t len)
{
	if (len < 1 || len > MAX_NONCE + 2)
		return PARSE_MALFORMED;
	memcpy(q->nonce, v, len);
	q->noncelen = len;
	return PARSE_OK;
}

/*
 * One DER TLV at *p (before end): a low tag number, a definite length in
 * its shortest form.  Moves *p past it; false when it is not one.
 */
static bool
tlv_next(const unsigned char **p, const unsigned char *end, unsigned char tag,
    const unsigned char **val, size_t *vlen)
{
	const unsigned char *s = *p;
	size_t len, k;

	if (end - s < 2 || s[0] != tag)
		return false;
	len = s[1];
	s += 2;
	if (len & 0x80) {
		k = len & 0x7f;
		/* 1 to 3 length octets (MAX_REQUEST is 64 KiB), no leading
		 * zero, and the long form only where the short one fails. */
		if (k == 0 || k > 3 || (size_t)(end - s) < k || s[0] == 0)
			return false;
		for (len = 0; k > 0; k--)
			len = len << 8 | *s++;
		if (len < 0x80)
			return false;
	}
	if ((size_t)(end - s) < len)
		return false;
	*val = s;
	*vlen = len;
	*p = s + len;
	return true;
}

/*
 * A CertID, as copied into a signed response, must be DER its reader can
 * take: libtasn1 (4.19) accepts a length cut off by the end of the CertID
 * ("02 81" read as an empty INTEGER), a padded INTEGER or NULL parameters
 * with content, and OpenSSL then refuses the response.  SEQUENCE {
 * SEQUENCE { OID, NULL or nothing }, OCTET STRING, OCTET STRING, INTEGER
 * in its shortest form }, every length in its shortest form.  (Only the
 * SHA-1/SHA-2 CertIDs, whose parameters are NULL or absent, are ever
 * answered with a signature.)
 */
static bool
certid_whole(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *v, *e, *a, *ae, *x;
	size_t vlen, xlen;

	if (!tlv_next(&p, end, 0x30, &v, &vlen) || p != end)
		return false;
	e = v + vlen;
	if (!tlv_next(&v, e, 0x30, &a, &vlen))
		return false;
	ae = a + vlen;
	if (!tlv_next(&a, ae, 0x06, &x, &xlen) || xlen == 0)
		return false;
	if (a != ae && !(ae - a == 2 && a[0] == 0x05 && a[1] == 0x00))
		return false;
	if (!tlv_next(&v, e, 0x04, &x, &xlen) ||
	    !tlv_next(&v, e, 0x04, &x, &xlen) ||
	    !tlv_next(&v, e, 0x02, &x, &xlen) || v != e || xlen == 0)
		return false;
	return xlen == 1 || !((x[0] == 0 && !(x[1] & 0x80)) ||
	    (x[0] == 0xff && (x[1] & 0x80)));
}

/* The full decoder: libtasn1 against the RFC 6960 module, strict DER. */
static parse_rc
parse_request_asn1(request *q, const cm_ocsp_responder *r,
    const unsigned char *der, size_t len)
{
	asn1_node n = NULL;
	char el[96], oid[64];
	unsigned char nh[64], kh[64], sn[32], ev[MAX_NONCE + 8];
	int i, count = 0, l, start, end, rc, alg;
	size_t a, nhlen, khlen, snlen;
	parse_rc prc = PARSE_MALFORMED;

	if (cm__asn1_new(&n, r->ctx, "CERTMINT-REVOCATION.OCSPRequest") !=
	    CM_OK)
		return PARSE_MALFORMED;
	l = (int)len;
	if (asn1_der_decoding2(&n, der, &l, ASN1_DECODE_FLAG_STRICT_DER,
	    NULL) != ASN1_SUCCESS || (size_t)l != len)
		goto out;
	/* Version: v1 (0) only. */
	l = sizeof(el);
	rc = asn1_read_value(n, "tbsRequest.version", el, &l);
	if (rc == ASN1_SUCCESS && !(l == 1 && el[0] == 0))
		goto out;
	if (asn1_number_of_elements(n, "tbsRequest.requestList", &count) !=
	    ASN1_SUCCESS || count < 1 || count > MAX_SINGLE)
		goto out;
	for (i = 1; i <= count; i++) {
		snprintf(el, sizeof(el), "tbsRequest.requestList.?%d.reqCert", i);
		if (asn1_der_decoding_startEnd(n, der, (int)len, el, &start,
		    &end) != ASN1_SUCCESS || end < start ||
		    !certid_whole(der + start, (size_t)(end - start + 1)))
			goto out;
		snprintf(el, sizeof(el), "tbsRequest.requestList.?%d.reqCert."
		    "hashAlgorithm.algorithm", i);
		l = sizeof(oid);
		if (asn1_read_value(n, el, oid, &l) != ASN1_SUCCESS)
			goto out;
		for (a = 0, alg = -1; a < CM__OCSP_NHASH; a++)
			if (strcmp(oid, hash_algs[a].oid) == 0)
				alg = (int)a;
		snprintf(el, sizeof(el), "tbsRequest.requestList.?%d.reqCert."
		    "issuerNameHash", i);
		l = sizeof(nh);
		rc = asn1_read_value(n, el, nh, &l);
		nhlen = rc == ASN1_SUCCESS ? (size_t)l : sizeof(nh) + 1;
		snprintf(el, sizeof(el), "tbsRequest.requestList.?%d.reqCert."
		    "issuerKeyHash", i);
		l = sizeof(kh);
		rc = asn1_read_value(n, el, kh, &l);
		khlen = rc == ASN1_SUCCESS ? (size_t)l : sizeof(kh) + 1;
		snprintf(el, sizeof(el), "tbsRequest.requestList.?%d.reqCert."
		    "serialNumber", i);
		l = sizeof(sn);
		rc = asn1_read_value(n, el, sn, &l);
		if (rc != ASN1_SUCCESS && rc != ASN1_MEM_ERROR)
			goto out;
		snlen = rc == ASN1_SUCCESS ? (size_t)l : sizeof(sn) + 1;
		if ((prc = apply_single(q, r, der + start,
		    (size_t)(end - start + 1), alg, nh, nhlen, kh, khlen, sn,
		    snlen)) != PARSE_OK)
			goto out;
	}
	prc = PARSE_MALFORMED;
	if (asn1_number_of_elements(n, "tbsRequest.requestExtensions",
	    &count) == ASN1_SUCCESS) {
		for (i = 1; i <= count; i++) {
			snprintf(el, sizeof(el), "tbsRequest.requestExtensions."
			    "?%d.extnID", i);
			l = sizeof(oid);
			if (asn1_read_value(n, el, oid, &l) != ASN1_SUCCESS)
				goto out;
			if (strcmp(oid, OID_NONCE) != 0)
				continue;
			snprintf(el, sizeof(el), "tbsRequest.requestExtensions."
			    "?%d.extnValue", i);
			l = sizeof(ev);
			if (asn1_read_value(n, el, ev, &l) != ASN1_SUCCESS ||
			    apply_nonce(q, ev, (size_t)l) != PARSE_OK)
				goto out;
		}
	}
	prc = PARSE_OK;
out:
	asn1_delete_structure(&n);
	return prc;
}

/*
 * The fast path: one pass over the request as clients send it — no
 * version, requestorName, per-request extensions or signature; hash
 * algorithm parameters NULL or absent; only the nonce extension.  It is
 * stricter than the full decoder (libtasn1 with strict DER), so what it
 * accepts the full decoder accepts alike; anything else is PARSE_OTHER
 * and goes to the full decoder.  libtasn1 costs 65k instructions a
 * request here, most of a responder's time.
 */
static parse_rc
parse_request_fast(request *q, const cm_ocsp_responder *r,
    const unsigned char *der, size_t len)
{
	static const unsigned char oid_nonce[] = { 0x2b, 0x06, 0x01, 0x05,
	    0x05, 0x07, 0x30, 0x01, 0x02 };
	struct {
		const unsigned char *cid, *nh, *kh, *sn;
		size_t cidlen, nhlen, khlen, snlen;
		int alg;
	} one[MAX_SINGLE];
	const unsigned char *p = der, *end = der + len, *v, *e, *list, *lend;
	const unsigned char *req, *rend, *alg, *aend, *oid, *nonce = NULL;
	size_t vlen, n = 0, i, olen, noncelen = 0;
	int a;
	parse_rc prc;

	/* The structure first, whole: a request the full decoder refuses
	 * must never get an answer from here. */
	if (!tlv_next(&p, end, 0x30, &v, &vlen) || p != end)
		return PARSE_OTHER;
	p = v;
	end = v + vlen;
	/* tbsRequest alone: no optionalSignature. */
	if (!tlv_next(&p, end, 0x30, &v, &vlen) || p != end)
		return PARSE_OTHER;
	p = v;
	end = v + vlen;
	/* requestList first: no version, no requestorName. */
	if (!tlv_next(&p, end, 0x30, &list, &vlen))
		return PARSE_OTHER;
	for (lend = list + vlen; list < lend; n++) {
		if (n == MAX_SINGLE || !tlv_next(&list, lend, 0x30, &req, &vlen))
			return PARSE_OTHER;
		rend = req + vlen;
		/* The Request holds its CertID alone. */
		one[n].cid = req;
		if (!tlv_next(&req, rend, 0x30, &v, &vlen) || req != rend)
			return PARSE_OTHER;
		one[n].cidlen = (size_t)(rend - one[n].cid);
		e = v + vlen;
		if (!tlv_next(&v, e, 0x30, &alg, &vlen))
			return PARSE_OTHER;
		aend = alg + vlen;
		if (!tlv_next(&alg, aend, 0x06, &oid, &olen) || (alg != aend &&
		    !(aend - alg == 2 && alg[0] == 0x05 && alg[1] == 0x00)))
			return PARSE_OTHER;
		for (a = 0, one[n].alg = -1; a < CM__OCSP_NHASH; a++)
			if (olen == hash_algs[a].derlen &&
			    memcmp(oid, hash_algs[a].der, olen) == 0)
				one[n].alg = a;
		if (one[n].alg < 0 ||
		    !tlv_next(&v, e, 0x04, &one[n].nh, &one[n].nhlen) ||
		    !tlv_next(&v, e, 0x04, &one[n].kh, &one[n].khlen) ||
		    !tlv_next(&v, e, 0x02, &one[n].sn, &one[n].snlen) || v != e)
			return PARSE_OTHER;
		/* An INTEGER in its shortest form. */
		if (one[n].snlen == 0 || (one[n].snlen > 1 &&
		    ((one[n].sn[0] == 0 && !(one[n].sn[1] & 0x80)) ||
		    (one[n].sn[0] == 0xff && (one[n].sn[1] & 0x80)))))
			return PARSE_OTHER;
	}
	if (n == 0)
		return PARSE_OTHER;
	if (p != end) {
		/* [2] EXPLICIT Extensions: one nonce, nothing else. */
		const unsigned char *x, *xend, *crit;
		size_t xlen;

		/* [2] holds the SEQUENCE OF alone, which holds one. */
		if (!tlv_next(&p, end, 0xa2, &v, &vlen) || p != end)
			return PARSE_OTHER;
		xend = v + vlen;
		if (!tlv_next(&v, xend, 0x30, &x, &xlen) || v != xend)
			return PARSE_OTHER;
		xend = x + xlen;
		if (!tlv_next(&x, xend, 0x30, &e, &vlen) || x != xend)
			return PARSE_OTHER;
		xend = e + vlen;
		if (!tlv_next(&e, xend, 0x06, &oid, &olen) ||
		    olen != sizeof(oid_nonce) ||
		    memcmp(oid, oid_nonce, olen) != 0)
			return PARSE_OTHER;
		/* critical is DEFAULT FALSE: in DER only TRUE is written. */
		crit = e;
		if (tlv_next(&crit, xend, 0x01, &v, &vlen)) {
			if (vlen != 1 || v[0] != 0xff)
				return PARSE_OTHER;
			e = crit;
		}
		if (!tlv_next(&e, xend, 0x04, &nonce, &noncelen) || e != xend)
			return PARSE_OTHER;
	}
	/* Then what it says, as the full decoder would take it. */
	for (i = 0; i < n; i++)
		if ((prc = apply_single(q, r, one[i].cid, one[i].cidlen,
		    one[i].alg, one[i].nh, one[i].nhlen, one[i].kh,
		    one[i].khlen, one[i].sn, one[i].snlen)) != PARSE_OK)
			return prc;
	return nonce != NULL ? apply_nonce(q, nonce, noncelen) : PARSE_OK;
}

static parse_rc
parse_request(request *q, cm_ocsp_responder *r, const unsigned char *der,
    size_t len)
{
	parse_rc prc;

	q->n = 0;
	q->ca = -1;
	q->noncelen = 0;
	if (len == 0 || len > MAX_REQUEST)
		return PARSE_MALFORMED;
	if ((prc = parse_request_fast(q, r, der, len)) != PARSE_OTHER)
		return prc;
	q->n = 0;
	q->ca = -1;
	q->noncelen = 0;
	return parse_request_asn1(q, r, der, len);
}

int
cm__ocsp_parse_compare(cm_ocsp_responder *r, const unsigned char *der,
    size_t len)
{
	request *a, *b;
	int rc = -1;
	parse_rc fa, fb;
	size_t i;

	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	if (a == NULL || b == NULL)
		goto out;
	a->ca = b->ca = -1;
	if (len == 0 || len > MAX_REQUEST) {
		rc = 0;
		goto out;
	}
	fa = parse_request_fast(a, r, der, len);
	fb = parse_request_asn1(b, r, der, len);
	if (fa == PARSE_OTHER) {
		rc = 0;
		goto out;
	}
	if (fa != fb || a->n != b->n || a->ca != b->ca ||
	    a->noncelen != b->noncelen ||
	    memcmp(a->nonce, b->nonce, a->noncelen) != 0)
		goto out;
	for (i = 0; i < a->n; i++)
		if (a->certidlen[i] != b->certidlen[i] ||
		    memcmp(a->certid[i], b->certid[i], a->certidlen[i]) != 0 ||
		    strcmp(a->serial[i], b->serial[i]) != 0)
			goto out;
	rc = 1;
out:
	free(a);
	free(b);
	return rc;
}

cm_err
cm_ocsp_respond(unsigned char **out, size_t *len, cm_ocsp_responder *r,
    const unsigned char *req, size_t reqlen)
{
	request *q = NULL;
	single sv[MAX_SINGLE];
	const unsigned char *p;
	size_t plen, i;
	cm__ocsp_ca *c;
	cm_err err;

	r->requests++;
	if ((q = malloc(sizeof(*q))) == NULL) {
		err = cm__fail(r->ctx, CM_E_NOMEM, "out of memory");
		goto fail;
	}
	switch (parse_request(q, r, req, reqlen)) {
	case PARSE_OTHER:    /* not returned by parse_request */
	case PARSE_MALFORMED:
		r->malformed++;
		free(q);
		return dup_out(out, len, r->ctx, resp_malformed,
		    sizeof(resp_malformed));
	case PARSE_UNAUTHORIZED:
		r->unauthorized++;
		free(q);
		return dup_out(out, len, r->ctx, resp_unauthorized,
		    sizeof(resp_unauthorized));
	case PARSE_OK:
		break;
	}
	c = &r->cas[q->ca];
	if ((err = check_version(r)) != CM_OK)
		goto fail;
	if (q->n == 1 && q->noncelen == 0) {
		/* The common case: a lookup. */
		if (q->serial[0][0] == '\0') {
			memset(&sv[0], 0, sizeof(sv[0]));
			sv[0].certid = q->certid[0];
			sv[0].certidlen = q->certidlen[0];
			if ((err = build_response(out, len, r, c, sv, 1, NULL,
			    0, NULL)) != CM_OK)
				goto fail;
			r->signatures++;
			free(q);
			return CM_OK;
		}
		if ((err = cached(&p, &plen, r, c, q->certid[0],
		    q->certidlen[0], q->serial[0], NULL)) != CM_OK)
			goto fail;
		free(q);
		return dup_out(out, len, r->ctx, p, plen);
	}
	/* A nonce or several certificates: signed for this request. */
	for (i = 0; i < q->n; i++) {
		sv[i].certid = q->certid[i];
		sv[i].certidlen = q->certidlen[i];
		memset(&sv[i].status, 0, sizeof(sv[i].status));
		if (q->serial[i][0] != '\0' &&
		    (err = cm__store_cert_status(&sv[i].status, r->st,
		    c->s->rec.id, q->serial[i])) != CM_OK)
			goto fail;
	}
	if ((err = build_response(out, len, r, c, sv, q->n,
	    q->noncelen ? q->nonce : NULL, q->noncelen, NULL)) != CM_OK)
		goto fail;
	r->signatures++;
	free(q);
	return CM_OK;
fail:
	free(q);
	/* Still an answer for the client: internalError. */
	if (dup_out(out, len, r->ctx, resp_internal, sizeof(resp_internal)) !=
	    CM_OK)
		*out = NULL;
	return err;
}

cm_err
cm_ocsp_response_for(unsigned char **out, size_t *len, cm_ocsp_responder *r,
    const char *ref)
{
	cm_cert_info *ci = NULL;
	cm__buf b = { NULL, 0, 0, false };
	const unsigned char *p;
	size_t plen, i;
	cm_err err;

	if ((err = cm_cert_find(&ci, r->st, ref)) != CM_OK)
		return err;
	for (i = 0; i < r->ncas; i++)
		if (strcmp(r->cas[i].s->rec.info.name, ci->ca) == 0)
			break;
	if (i == r->ncas) {
		err = cm__fail(r->ctx, CM_E_INVALID, "certificate %s is issued "
		    "by CA '%s', which this responder does not serve",
		    ci->serial, ci->ca);
		goto out;
	}
	if (!make_certid(&b, &r->cas[i], ci->serial)) {
		err = cm__fail(r->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = check_version(r)) != CM_OK ||
	    (err = cached(&p, &plen, r, &r->cas[i], b.p, b.len, ci->serial,
	    NULL)) != CM_OK)
		goto out;
	err = dup_out(out, len, r->ctx, p, plen);
out:
	free(b.p);
	cm_cert_info_free(ci);
	return err;
}

/* ---- in-memory responses (the harness: lib/matrix.c) ---- */

cm_err
cm__ocsp_response_mem(unsigned char **der, size_t *len, cm_ctx *ctx,
    gnutls_x509_crt_t ca, gnutls_privkey_t key, cm_key_type kt,
    const char *serial, const cm__cert_status *status, unsigned validity)
{
	cm_ocsp_responder r;
	cm__signer s;
	cm__ocsp_ca c;
	cm__buf b = { NULL, 0, 0, false };
	single sv;
	cm_err err;

	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	r.ctx = ctx;
	r.validity = validity ? validity : 86400;
	s.crt = ca;
	s.rec.info.name = (char *)"(in memory)";
	c.s = &s;
	c.key = key;
	c.kt = kt;
	if ((err = ca_hashes(&c, ctx)) != CM_OK)
		goto out;
	if (!make_certid(&b, &c, serial)) {
		err = b.oom ? cm__fail(ctx, CM_E_NOMEM, "out of memory") :
		    cm__fail(ctx, CM_E_INVALID, "OCSP: serial '%s' is not "
		    "hex", serial);
		goto out;
	}
	memset(&sv, 0, sizeof(sv));
	sv.certid = b.p;
	sv.certidlen = b.len;
	sv.status = *status;
	err = build_response(der, len, &r, &c, &sv, 1, NULL, 0, NULL);
out:
	free(b.p);
	gnutls_free(c.rname.data);
	return err;
}
