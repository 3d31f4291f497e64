/*
 * crl.c - certificate revocation lists (RFC 5280 5), built with libtasn1
 * and signed through GnuTLS.
 *
 * Scale: the revokedCertificates list is encoded in one pass into one
 * buffer (each entry is a few fixed-shape TLVs) and handed to libtasn1 as
 * a pre-encoded ANY; appending entries through GnuTLS's CRL API or
 * libtasn1's "NEW" is quadratic in the number of entries.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_NEXT_UPDATE (7 * 86400LL)
#define MAX_NEXT_UPDATE (3650 * 86400LL)
#define LIST_ROOM 10        /* a DER header of any length fits */

/* OIDs as DER contents. */
static const unsigned char oid_reason[] = { 0x55, 0x1d, 0x15 };   /* 2.5.29.21 */
static const unsigned char oid_invalidity[] = { 0x55, 0x1d, 0x18 }; /* .24 */

void
cm_crl_free(cm_crl *crl)
{
	if (crl == NULL)
		return;
	free(crl->ca);
	free(crl->data);
	free(crl);
}

typedef struct entries {
	cm_ctx *ctx;
	cm__buf buf;
	size_t n;
} entries;

/* One ASN.1 Time (RFC 5280 5.1.2.6) as DER. */
static bool
put_time(cm__buf *b, time_t t, bool utc_allowed)
{
	char s[20];
	bool utc = utc_allowed && cm__time_is_utc(t);

	if (!cm__asn1_time(s, sizeof(s), t, utc))
		return false;
	cm__der_header(b, utc ? 0x17 : 0x18, utc ? 13 : 15);
	cm__buf_add(b, s, utc ? 13 : 15);
	return true;
}

/*
 * revokedCertificates entry (RFC 5280 5.1.2.6, 5.3):
 *   SEQUENCE { INTEGER serial, Time revocationDate,
 *              SEQUENCE OF Extension { reasonCode, invalidityDate } }
 * reasonCode is left out for unspecified (5.3.1: SHOULD be absent);
 * invalidityDate (5.3.2) is given for key compromise, where the time the
 * key became suspect matters.
 */
static cm_err
add_entry(void *arg, const char *serial, time_t revoked_at, int reason)
{
	entries *e = arg;
	unsigned char sn[24];
	size_t snlen, ext_len = 0, body;
	bool with_reason, with_inval;

	if (!cm__serial_from_hex(sn, &snlen, serial))
		return cm__fail(e->ctx, CM_E_STORE, "store: serial '%s' is not "
		    "hex", serial);
	if (reason < 0 || reason > 10 || reason == 7)
		reason = 0;
	with_reason = reason != CM_REASON_UNSPECIFIED;
	with_inval = reason == CM_REASON_KEY_COMPROMISE ||
	    reason == CM_REASON_CA_COMPROMISE ||
	    reason == CM_REASON_AA_COMPROMISE;
	if (with_reason)
		ext_len += 12;  /* 30 0a 06 03 551d15 04 03 0a 01 nn */
	if (with_inval)
		ext_len += 26;  /* 30 18 06 03 551d18 04 11 18 0f <15> */
	body = 2 + snlen + (cm__time_is_utc(revoked_at) ? 15 : 17);
	if (ext_len > 0)
		body += 2 + ext_len;
	cm__der_header(&e->buf, 0x30, body);
	cm__der_header(&e->buf, 0x02, snlen);
	cm__buf_add(&e->buf, sn, snlen);
	if (!put_time(&e->buf, revoked_at, true))
		return cm__fail(e->ctx, CM_E_STORE, "certificate %s: bad "
		    "revocation time", serial);
	if (ext_len > 0) {
		cm__der_header(&e->buf, 0x30, ext_len);
		if (with_reason) {
			cm__der_header(&e->buf, 0x30, 10);
			cm__der_header(&e->buf, 0x06, sizeof(oid_reason));
			cm__buf_add(&e->buf, oid_reason, sizeof(oid_reason));
			cm__der_header(&e->buf, 0x04, 3);
			cm__der_header(&e->buf, 0x0a, 1);
			cm__buf_byte(&e->buf, (unsigned char)reason);
		}
		if (with_inval) {
			cm__der_header(&e->buf, 0x30, 24);
			cm__der_header(&e->buf, 0x06, sizeof(oid_invalidity));
			cm__buf_add(&e->buf, oid_invalidity,
			    sizeof(oid_invalidity));
			cm__der_header(&e->buf, 0x04, 17);
			/* RFC 5280 5.3.2: always GeneralizedTime. */
			put_time(&e->buf, revoked_at, false);
		}
	}
	if (e->buf.oom)
		return cm__fail(e->ctx, CM_E_NOMEM, "out of memory");
	e->n++;
	return CM_OK;
}

/* Appends an extension to the SEQUENCE OF at name. */
static cm_err
add_ext(cm_ctx *ctx, asn1_node n, const char *name, const char *oid,
    bool critical, const unsigned char *val, size_t len)
{
	char el[96];
	int rc;

	if ((rc = asn1_write_value(n, name, "NEW", 1)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, "CRL extension");
	snprintf(el, sizeof(el), "%s.?LAST.extnID", name);
	if ((rc = asn1_write_value(n, el, oid, 1)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, oid);
	snprintf(el, sizeof(el), "%s.?LAST.critical", name);
	/* DER (X.690 11.5): libtasn1 leaves out a value equal to the
	 * DEFAULT. */
	if ((rc = asn1_write_value(n, el, critical ? "TRUE" : "FALSE",
	    1)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, oid);
	snprintf(el, sizeof(el), "%s.?LAST.extnValue", name);
	if ((rc = asn1_write_value(n, el, val, (int)len)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, oid);
	return CM_OK;
}

/* INTEGER value as DER (cRLNumber, deltaCRLIndicator: RFC 5280 5.2.3). */
static size_t
der_integer(unsigned char *out, long long v)
{
	unsigned char tmp[9];
	size_t n = 0, i;

	do {
		tmp[n++] = (unsigned char)(v & 0xff);
		v >>= 8;
	} while (v > 0);
	if (tmp[n - 1] & 0x80)
		tmp[n++] = 0;
	out[0] = 0x02;
	out[1] = (unsigned char)n;
	for (i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	return n + 2;
}

static cm_err
write_time(cm_ctx *ctx, asn1_node n, const char *name, time_t t)
{
	char s[20], el[64];
	bool utc = cm__time_is_utc(t);
	int rc;

	if (!cm__asn1_time(s, sizeof(s), t, utc))
		return cm__fail(ctx, CM_E_INVALID, "CRL: time out of range");
	if ((rc = asn1_write_value(n, name, utc ? "utcTime" : "generalTime",
	    1)) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, name);
	snprintf(el, sizeof(el), "%s.%s", name, utc ? "utcTime" :
	    "generalTime");
	if ((rc = asn1_write_value(n, el, s, (int)strlen(s))) != ASN1_SUCCESS)
		return cm__asn1_fail(ctx, rc, name);
	return CM_OK;
}

/* TBSCertList around the pre-encoded entries; [out] DER. */
static cm_err
build_tbs(unsigned char **out, size_t *len, cm_ctx *ctx,
    const cm__signer *s, const entries *e, const unsigned char *list,
    size_t listlen, long long number, long long base, time_t now,
    time_t next)
{
	asn1_node n = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_sign_algorithm_t sa;
	unsigned char kid[64], akid[80], num[12], *skel = NULL;
	size_t kidlen = sizeof(kid), l, skellen = 0;
	unsigned critical;
	cm_err err;
	int rc;

	if ((err = cm__asn1_new(&n, ctx,
	    "CERTMINT-REVOCATION.TBSCertList")) != CM_OK)
		return err;
	/* v2: extensions are present (RFC 5280 5.1.2.1). */
	if ((rc = asn1_write_value(n, "version", "1", 0)) != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "CRL version");
		goto out;
	}
	if ((err = cm__sig_alg_write(&sa, ctx, n, "signature",
	    s->key_type)) != CM_OK)
		goto out;
	if ((rc = gnutls_x509_crt_get_raw_dn(s->crt, &dn)) < 0) {
		err = cm__gnutls_fail(ctx, rc, "CA '%s': subject",
		    s->rec.info.name);
		goto out;
	}
	if ((rc = asn1_write_value(n, "issuer", dn.data, (int)dn.size)) !=
	    ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "CRL issuer");
		goto out;
	}
	if ((err = write_time(ctx, n, "thisUpdate", now)) != CM_OK ||
	    (err = write_time(ctx, n, "nextUpdate", next)) != CM_OK)
		goto out;
	/* Spliced in below; RFC 5280 5.1.2.6: absent, not empty, when
	 * nothing is revoked. */
	rc = asn1_write_value(n, "revokedCertificates", NULL, 0);
	if (rc != ASN1_SUCCESS) {
		err = cm__asn1_fail(ctx, rc, "CRL entries");
		goto out;
	}
	/* 5.2.1: the CA certificate's subject key identifier. */
	rc = gnutls_x509_crt_get_subject_key_id(s->crt, kid, &kidlen,
	    &critical);
	if (rc < 0) {
		err = cm__gnutls_fail(ctx, rc, "CA '%s': subject key "
		    "identifier", s->rec.info.name);
		goto out;
	}
	akid[0] = 0x30;
	akid[1] = (unsigned char)(kidlen + 2);
	akid[2] = 0x80;
	akid[3] = (unsigned char)kidlen;
	memcpy(akid + 4, kid, kidlen);
	if ((err = add_ext(ctx, n, "crlExtensions", "2.5.29.35", false, akid,
	    kidlen + 4)) != CM_OK)
		goto out;
	l = der_integer(num, number);
	if ((err = add_ext(ctx, n, "crlExtensions", "2.5.29.20", false, num,
	    l)) != CM_OK)
		goto out;
	/* 5.2.4: deltaCRLIndicator MUST be critical. */
	if (base > 0) {
		l = der_integer(num, base);
		if ((err = add_ext(ctx, n, "crlExtensions", "2.5.29.27", true,
		    num, l)) != CM_OK)
			goto out;
	}
	if ((err = cm__asn1_der(&skel, &skellen, ctx, n, "")) != CM_OK)
		goto out;
	/* After version, signature, issuer, thisUpdate, nextUpdate. */
	if (e->n > 0)
		err = cm__der_splice(out, len, ctx, skel, skellen, 5, list,
		    listlen);
	else {
		*out = skel;
		*len = skellen;
		skel = NULL;
	}
out:
	free(skel);
	gnutls_free(dn.data);
	asn1_delete_structure(&n);
	return err;
}

cm_err
cm_crl_generate(cm_crl **out, cm_store *st, const cm_crl_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_crl_opts def = CM_CRL_OPTS_INIT;
	cm__signer *s = NULL;
	cm_crl *crl = NULL;
	entries e;
	cm__buf list = { NULL, 0, 0, false };
	unsigned char *tbs = NULL, *der = NULL;
	size_t tbslen = 0, derlen = 0;
	int64_t number = 0, base = 0;
	long long nu;
	time_t now;
	const char *path;
	char tmp[PATH_MAX] = "";
	bool in_tx = false;
	cm_err err;
	int ret;

	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	if (o == NULL)
		o = &def;
	if (o->version != 1 && o->version != CM_CRL_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "crl: options version %u is "
		    "unknown", o->version);
	path = o->version >= 2 ? o->out : NULL;
	nu = o->next_update ? o->next_update : DEFAULT_NEXT_UPDATE;
	if (nu < 60 || nu > MAX_NEXT_UPDATE)
		return cm__fail(ctx, CM_E_INVALID, "crl: next update in %lld s: "
		    "give 1 minute to 10 years", nu);
	/* A CRL nobody can receive is not made: its number stays free. */
	if (path != NULL && (err = cm__file_check(ctx, path, true)) != CM_OK)
		goto out;
	if ((err = cm__signer_load(&s, st, o->ca)) != CM_OK)
		goto out;
	now = cm_ctx_now(ctx);
	/* One transaction: the number and the entries agree. */
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	if (o->delta) {
		if ((err = cm__store_crl_last_complete(&base, st,
		    s->rec.id)) != CM_OK)
			goto out;
		if (base == 0) {
			err = cm__fail(ctx, CM_E_INVALID, "CA '%s' has no "
			    "complete CRL yet: run 'certmint crl' before "
			    "--delta", s->rec.info.name);
			goto out;
		}
	}
	if ((err = cm__store_crl_number_next(&number, st, s->rec.id)) != CM_OK)
		goto out;
	/* Room for the SEQUENCE OF header in front: no copy after. */
	cm__buf_add(&e.buf, "\0\0\0\0\0\0\0\0\0\0", LIST_ROOM);
	if ((err = cm__store_revoked_each(st, s->rec.id, base, add_entry,
	    &e)) != CM_OK)
		goto out;
	if (e.buf.oom) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	cm__der_header(&list, 0x30, e.buf.len - LIST_ROOM);
	if (list.oom || list.len > LIST_ROOM) {
		err = cm__fail(ctx, CM_E_NOMEM, "CRL: too many entries");
		goto out;
	}
	memcpy(e.buf.p + LIST_ROOM - list.len, list.p, list.len);
	if ((err = build_tbs(&tbs, &tbslen, ctx, s, &e,
	    e.buf.p + LIST_ROOM - list.len, e.buf.len - LIST_ROOM + list.len,
	    number, base, now, now + (time_t)nu)) != CM_OK)
		goto out;
	free(e.buf.p);
	e.buf.p = NULL;
	if ((err = cm__sign_der(&der, &derlen, ctx, s->key, s->key_type, tbs,
	    tbslen)) != CM_OK)
		goto out;
	free(tbs);
	tbs = NULL;
	if ((err = cm__store_crl_insert(st, s->rec.id, number, base, now,
	    now + (time_t)nu, e.n, der, derlen)) != CM_OK)
		goto out;
	{
		char details[96];
		snprintf(details, sizeof(details), "number=%lld%s entries=%zu",
		    (long long)number, base ? " delta" : "", e.n);
		if ((err = cm__store_event(st, "crl", s->rec.info.name,
		    details)) != CM_OK)
			goto out;
	}
	if ((crl = calloc(1, sizeof(*crl))) == NULL ||
	    (crl->ca = strdup(s->rec.info.name)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	crl->number = number;
	crl->base = base;
	crl->entries = e.n;
	crl->this_update = now;
	crl->next_update = now + (time_t)nu;
	if (o->pem) {
		gnutls_datum_t in = { der, (unsigned)derlen }, p = { NULL, 0 };
		if ((ret = gnutls_pem_base64_encode2("X509 CRL", &in, &p)) <
		    0) {
			err = cm__gnutls_fail(ctx, ret, "CRL");
			goto out;
		}
		if ((crl->data = malloc(p.size)) == NULL) {
			gnutls_free(p.data);
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(crl->data, p.data, p.size);
		crl->len = p.size;
		gnutls_free(p.data);
	} else {
		crl->data = der;
		crl->len = derlen;
		der = NULL;
	}
	/*
	 * The record first, then the file: a number, once in any file, is
	 * never used again.  (The file used to be staged before the commit:
	 * a crash between them left a temp file holding a number the next
	 * CRL took.)  A crash after the commit leaves CRL N recorded and no
	 * file: the next 'crl --out' writes N+1, which supersedes it.
	 */
	if ((err = cm__failpoint(ctx, "crl.after_reserve")) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if ((err = cm__failpoint(ctx, "crl.after_commit")) != CM_OK)
		goto out;
	if (path != NULL) {
		char dir[PATH_MAX];
		cm__dir_of(dir, sizeof(dir), path);
		cm__file_clean_stale(dir);
		if ((err = cm__file_stage(ctx, tmp, sizeof(tmp), path,
		    crl->data, crl->len, 0644, true, true)) != CM_OK ||
		    (err = cm__failpoint(ctx, "crl.after_write")) != CM_OK ||
		    (err = cm__file_place(ctx, tmp, path, true)) != CM_OK) {
			char m[CM_ERRBUF];
			snprintf(m, sizeof(m), "%s", cm_ctx_error(ctx));
			err = cm__fail(ctx, err, "%s (CRL %lld is recorded: the "
			    "next one supersedes it)", m, (long long)number);
			goto out;
		}
	}
	*out = crl;
	crl = NULL;
out:
	if (in_tx)
		cm__store_rollback(st);
	if (tmp[0] != '\0')
		unlink(tmp);
	free(e.buf.p);
	free(list.p);
	free(tbs);
	free(der);
	cm_crl_free(crl);
	cm__signer_free(s);
	return err;
}

static cm_err
check_url(cm_ctx *ctx, const char *what, const char *url, bool https_ok)
{
	const char *p;

	if (url == NULL || url[0] == '\0')
		return CM_OK;
	if (strncmp(url, "http://", 7) != 0 &&
	    !(https_ok && strncmp(url, "https://", 8) == 0))
		return cm__fail(ctx, CM_E_INVALID, "%s '%s' must start with "
		    "http://%s", what, url, https_ok ? " or https://" : "");
	if (strlen(url) > 1024)
		return cm__fail(ctx, CM_E_INVALID, "%s '%.40s...' is longer "
		    "than 1024 characters", what, url);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return cm__fail(ctx, CM_E_INVALID, "%s '%s' has a space "
			    "or a character outside ASCII", what, url);
	return CM_OK;
}

cm_err
cm_ca_set_urls(cm_store *st, const char *ca, const char *crl_url,
    const char *ocsp_url)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__ca_rec rec;
	char details[2200];
	cm_err err;
	bool in_tx = false;

	memset(&rec, 0, sizeof(rec));
	/* RFC 5019 / RFC 6960 A.1: OCSP over plain HTTP. */
	if ((err = check_url(ctx, "CRL URL", crl_url, true)) != CM_OK ||
	    (err = check_url(ctx, "OCSP URL", ocsp_url, false)) != CM_OK)
		return err;
	if ((err = cm__store_begin(st)) != CM_OK)
		return err;
	in_tx = true;
	if ((err = cm__store_ca_get(&rec, st, ca)) != CM_OK)
		goto out;
	if ((err = cm__store_ca_set_urls(st, rec.id, crl_url, ocsp_url)) !=
	    CM_OK)
		goto out;
	snprintf(details, sizeof(details), "crl_url=%s ocsp_url=%s",
	    crl_url ? crl_url : "(unchanged)",
	    ocsp_url ? ocsp_url : "(unchanged)");
	if ((err = cm__store_event(st, "ca.set", rec.info.name, details)) !=
	    CM_OK)
		goto out;
	err = cm__store_commit(st);
	in_tx = err != CM_OK;
out:
	if (in_tx)
		cm__store_rollback(st);
	cm__ca_rec_clear(&rec);
	return err;
}

cm_err
cm_ca_get_urls(char **crl_url, char **ocsp_url, cm_store *st, const char *ca)
{
	cm__ca_rec rec;
	cm_err err;

	if ((err = cm__store_ca_get(&rec, st, ca)) != CM_OK)
		return err;
	err = cm__store_ca_urls(crl_url, ocsp_url, st, rec.id);
	cm__ca_rec_clear(&rec);
	return err;
}

/* ---- in-memory CRLs (the harness: lib/matrix.c) ---- */

/*
 * Signs a TBSCertList over pre-collected entries with a CA that need not
 * be in the store: s carries only crt, key and key_type.
 */
static cm_err
crl_sign_mem(unsigned char **der, size_t *len, cm_ctx *ctx,
    const cm__signer *s, entries *e, long long number, time_t now,
    time_t next)
{
	cm__buf list = { NULL, 0, 0, false };
	unsigned char *tbs = NULL;
	size_t tbslen = 0;
	cm_err err;

	cm__der_header(&list, 0x30, e->buf.len);
	if (e->buf.len > 0)
		cm__buf_add(&list, e->buf.p, e->buf.len);
	if (list.oom) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = build_tbs(&tbs, &tbslen, ctx, s, e, list.p, list.len,
	    number, 0, now, next)) != CM_OK)
		goto out;
	err = cm__sign_der(der, len, ctx, s->key, s->key_type, tbs, tbslen);
out:
	free(list.p);
	free(tbs);
	return err;
}

cm_err
cm__crl_build_mem(unsigned char **der, size_t *len, cm_ctx *ctx,
    gnutls_x509_crt_t ca, gnutls_privkey_t key, cm_key_type kt,
    const cm__crl_entry *v, size_t n, time_t now, time_t next)
{
	cm__signer s;
	entries e;
	size_t i;
	cm_err err = CM_OK;

	memset(&s, 0, sizeof(s));
	s.crt = ca;
	s.key = key;
	s.key_type = kt;
	s.rec.info.name = (char *)"(in memory)";
	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	for (i = 0; i < n && err == CM_OK; i++)
		err = add_entry(&e, v[i].serial, v[i].revoked_at, v[i].reason);
	if (err == CM_OK)
		err = crl_sign_mem(der, len, ctx, &s, &e, 1, now, next);
	free(e.buf.p);
	return err;
}

cm_err
cm__crl_current_mem(unsigned char **der, size_t *len, cm_store *st,
    const cm__signer *s, time_t next)
{
	cm_ctx *ctx = cm__store_ctx(st);
	int64_t number = 0;
	entries e;
	cm_err err;

	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	/* Not recorded: the number of the last CRL, never a new one. */
	if ((err = cm__store_crl_last_complete(&number, st, s->rec.id)) ==
	    CM_OK &&
	    (err = cm__store_revoked_each(st, s->rec.id, 0, add_entry,
	    &e)) == CM_OK)
		err = crl_sign_mem(der, len, ctx, s, &e, number > 0 ? number :
		    1, cm_ctx_now(ctx), cm_ctx_now(ctx) + next);
	free(e.buf.p);
	return err;
}
