/*
 * import.c - adopting an existing CA (certificate and key, PEM, DER or
 * PKCS#12) and adding certificates it issued elsewhere to the inventory.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/pkcs12.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IMPORT_MAX_INPUT (4 * 1024 * 1024)
#define MAX_CERTS 4096

static bool
is_pem(const char *data, size_t len, const char *label)
{
	char begin[64];

	snprintf(begin, sizeof(begin), "-----BEGIN %s", label);
	return memmem(data, len, begin, strlen(begin)) != NULL;
}

static void
wipe_free(char *p, size_t n)
{
	if (p != NULL) {
		gnutls_memset(p, 0, n);
		free(p);
	}
}

/* A PKCS#12 file: its key and the certificate that goes with it. */
static cm_err
read_p12(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key, cm_ctx *ctx,
    const char *path, const gnutls_datum_t *d, const char *pass)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_x509_crt_t *chain = NULL;
	unsigned nchain = 0, i;
	cm_err err = CM_OK;
	int ret;

	if ((ret = gnutls_pkcs12_init(&p12)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s", path);
	ret = gnutls_pkcs12_import(p12, d, is_pem((const char *)d->data,
	    d->size, "PKCS12") ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, 0);
	if (ret < 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: neither a certificate "
		    "(PEM or DER) nor a PKCS#12 file", path);
		goto out;
	}
	if (pass == NULL || pass[0] == '\0') {
		err = cm__fail(ctx, CM_E_PASSPHRASE, "%s: PKCS#12 file needs "
		    "its password (--password-file or "
		    "CERTMINT_IMPORT_PASSWORD)", path);
		goto out;
	}
	if ((ret = gnutls_pkcs12_verify_mac(p12, pass)) < 0) {
		err = ret == GNUTLS_E_MAC_VERIFY_FAILED ?
		    cm__fail(ctx, CM_E_PASSPHRASE, "%s: wrong password", path) :
		    cm__gnutls_fail(ctx, ret, "%s: MAC", path);
		goto out;
	}
	ret = gnutls_pkcs12_simple_parse(p12, pass, key, &chain, &nchain,
	    NULL, NULL, NULL, 0);
	if (ret < 0 || *key == NULL || nchain == 0) {
		err = ret == GNUTLS_E_DECRYPTION_FAILED ?
		    cm__fail(ctx, CM_E_PASSPHRASE, "%s: wrong password", path) :
		    cm__fail(ctx, CM_E_INVALID, "%s: no key with its "
		    "certificate in the PKCS#12 file", path);
		goto out;
	}
	*crt = chain[0];
	chain[0] = NULL;
out:
	for (i = 0; i < nchain; i++)
		gnutls_x509_crt_deinit(chain[i]);
	gnutls_free(chain);
	gnutls_pkcs12_deinit(p12);
	return err;
}

static cm_err
check_name(cm_ctx *ctx, const char *name)
{
	const char *p;

	if (name[0] == '\0' || strlen(name) > 64)
		return cm__fail(ctx, CM_E_INVALID, "CA name '%s' must have 1 to "
		    "64 characters (give --name)", name);
	for (p = name; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
			return cm__fail(ctx, CM_E_INVALID, "CA name '%s' has a "
			    "control character", name);
	return CM_OK;
}

/* RFC 5280 4.2.1.9 and 4.2.1.3: a CA certificate. */
static cm_err
check_ca(cm_ctx *ctx, gnutls_x509_crt_t crt, const char *path, int *pathlen)
{
	unsigned critical = 0, ca = 0, ku = 0;
	int ret, pl = -1;

	if (gnutls_x509_crt_get_version(crt) < 3)
		return cm__fail(ctx, CM_E_INVALID, "%s: not a CA: an X.509 v1 "
		    "certificate has no basicConstraints", path);
	ret = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pl);
	if (ret < 0 || !ca)
		return cm__fail(ctx, CM_E_INVALID, "%s: not a CA certificate "
		    "(basicConstraints CA:TRUE is missing)", path);
	ret = gnutls_x509_crt_get_key_usage(crt, &ku, &critical);
	if (ret >= 0 && !(ku & GNUTLS_KEY_KEY_CERT_SIGN))
		return cm__fail(ctx, CM_E_INVALID, "%s: not a CA certificate "
		    "(keyUsage lacks keyCertSign)", path);
	*pathlen = pl;
	return CM_OK;
}

/* The CA of the store that issued crt (signature checked), or none. */
static cm_err
find_issuer(cm__ca_rec *out, bool *found, cm_store *st, const char *only,
    gnutls_x509_crt_t crt)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_ca_info **list = NULL;
	size_t n = 0, i;
	gnutls_x509_crt_t ca = NULL;
	gnutls_datum_t pem;
	unsigned status;
	cm_err err;

	*found = false;
	if ((err = cm_ca_list(&list, &n, st)) != CM_OK)
		return err;
	for (i = 0; i < n && !*found; i++) {
		if (only != NULL && strcmp(only, list[i]->name) != 0)
			continue;
		pem.data = (unsigned char *)list[i]->pem;
		pem.size = (unsigned)strlen(list[i]->pem);
		if (gnutls_x509_crt_init(&ca) < 0)
			break;
		if (gnutls_x509_crt_import(ca, &pem, GNUTLS_X509_FMT_PEM) == 0 &&
		    gnutls_x509_crt_check_issuer(crt, ca) &&
		    gnutls_x509_crt_verify(crt, &ca, 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status) == 0 &&
		    (status & GNUTLS_CERT_SIGNATURE_FAILURE) == 0 &&
		    (status & GNUTLS_CERT_SIGNER_NOT_FOUND) == 0) {
			err = cm__store_ca_get(out, st, list[i]->name);
			*found = err == CM_OK;
		}
		gnutls_x509_crt_deinit(ca);
		ca = NULL;
		if (err != CM_OK)
			break;
	}
	if (err == CM_OK && only != NULL && !*found) {
		for (i = 0; i < n && strcmp(only, list[i]->name) != 0; i++)
			;
		if (i == n)
			err = cm__fail(ctx, CM_E_NOTFOUND, "CA '%s' not found "
			    "in store", only);
	}
	cm_ca_info_list_free(list, n);
	return err;
}

static char *
cn_of(gnutls_x509_crt_t crt)
{
	char buf[256];
	size_t len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &len) < 0)
		return NULL;
	return strndup(buf, len);
}

/* A self-issued CA certificate must carry its own valid signature: one
 * flipped bit and it is not the CA its subject says.  DO_NOT_ALLOW_SAME:
 * else GnuTLS trusts a certificate found in the trusted list as it is,
 * without checking its signature. */
static cm_err
check_self_signed(cm_ctx *ctx, gnutls_x509_crt_t crt, const char *path)
{
	unsigned status = 0;
	int ret;

	ret = gnutls_x509_crt_verify(crt, &crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 |
	    GNUTLS_VERIFY_DO_NOT_ALLOW_SAME, &status);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "%s: checking the "
		    "self-signature", path);
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		return cm__fail(ctx, CM_E_INVALID, "%s: the self-signature does "
		    "not verify (the certificate was altered)", path);
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return cm__fail(ctx, CM_E_INVALID, "%s: the self-signature "
		    "uses an insecure algorithm", path);
	return CM_OK;
}

cm_err
cm_ca_import(cm_ca_info **out, cm_store *st, const cm_ca_import_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d, pkcs8 = { NULL, 0 };
	cm__ca_rec rec, parent, probe;
	char *cdata = NULL, *kdata = NULL, *pass = NULL, *pem = NULL;
	size_t clen = 0, klen = 0;
	unsigned char id1[64], id2[64];
	size_t l1 = sizeof(id1), l2 = sizeof(id2);
	bool found = false, in_tx = false;
	int64_t key_id, ca_id;
	cm_key_type kt;
	int ret, pathlen = -1;
	cm_err err;

	memset(&rec, 0, sizeof(rec));
	memset(&parent, 0, sizeof(parent));
	if (o == NULL || o->version != CM_CA_IMPORT_OPTS_VERSION ||
	    o->cert_path == NULL)
		return cm__fail(ctx, CM_E_INVALID, "import: no certificate "
		    "file given");
	if ((err = cm__file_read(ctx, o->cert_path, IMPORT_MAX_INPUT, &cdata,
	    &clen)) != CM_OK)
		goto out;
	d.data = (unsigned char *)cdata;
	d.size = (unsigned)clen;
	if ((ret = gnutls_x509_crt_init(&crt)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "%s", o->cert_path);
		goto out;
	}
	if (is_pem(cdata, clen, "CERTIFICATE"))
		ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	else
		ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		/* Not a certificate: a PKCS#12 file holding key and cert. */
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
		if (o->key_path != NULL) {
			err = cm__fail(ctx, CM_E_INVALID, "%s: not a "
			    "certificate (PEM or DER)", o->cert_path);
			goto out;
		}
		if ((err = read_p12(&crt, &key, ctx, o->cert_path, &d,
		    o->password)) != CM_OK)
			goto out;
	} else {
		if (o->key_path == NULL) {
			err = cm__fail(ctx, CM_E_INVALID, "%s: a PEM or DER "
			    "certificate needs its key (--key): only a PKCS#12 "
			    "file carries one", o->cert_path);
			goto out;
		}
		if ((err = cm__file_read(ctx, o->key_path, IMPORT_MAX_INPUT, &kdata,
		    &klen)) != CM_OK)
			goto out;
		d.data = (unsigned char *)kdata;
		d.size = (unsigned)klen;
		if ((ret = gnutls_x509_privkey_init(&key)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "%s", o->key_path);
			goto out;
		}
		ret = gnutls_x509_privkey_import2(key, &d, is_pem(kdata, klen,
		    "") ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER,
		    o->password, 0);
		if (ret < 0) {
			bool encrypted = is_pem(kdata, klen, "ENCRYPTED") ||
			    memmem(kdata, klen, "Proc-Type: 4,ENCRYPTED",
			    22) != NULL;
			if (encrypted && (o->password == NULL ||
			    o->password[0] == '\0'))
				err = cm__fail(ctx, CM_E_PASSPHRASE, "%s: key "
				    "is encrypted: give its password "
				    "(--password-file or "
				    "CERTMINT_IMPORT_PASSWORD)", o->key_path);
			else if (encrypted || ret == GNUTLS_E_DECRYPTION_FAILED)
				err = cm__fail(ctx, CM_E_PASSPHRASE, "%s: wrong "
				    "password", o->key_path);
			else
				err = cm__fail(ctx, CM_E_INVALID, "%s: not a "
				    "private key (PEM or DER: PKCS#8, PKCS#1, "
				    "SEC1)", o->key_path);
			goto out;
		}
	}
	if ((err = check_ca(ctx, crt, o->cert_path, &pathlen)) != CM_OK)
		goto out;
	/* The key must be the certificate's: compare the public keys. */
	if ((ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256,
	    id1, &l1)) < 0 ||
	    (ret = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256,
	    id2, &l2)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "%s: key identifier",
		    o->cert_path);
		goto out;
	}
	if (l1 != l2 || memcmp(id1, id2, l1) != 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: the key %s does not "
		    "match the certificate", o->cert_path,
		    o->key_path ? o->key_path : "in the PKCS#12 file");
		goto out;
	}
	if ((kt = cm__key_type_of(key)) == CM_KEY_DEFAULT) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: key type is not "
		    "supported (EC P-256/384/521, Ed25519, Ed448, RSA "
		    "2048/3072/4096)", o->cert_path);
		goto out;
	}
	rec.info.name = o->name ? cm__strdup(o->name) : cn_of(crt);
	if (rec.info.name == NULL) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: the certificate has no "
		    "common name: give --name", o->cert_path);
		goto out;
	}
	if ((err = check_name(ctx, rec.info.name)) != CM_OK)
		goto out;
	err = cm__store_ca_get(&probe, st, rec.info.name);
	if (err == CM_OK) {
		cm__ca_rec_clear(&probe);
		err = cm__fail(ctx, CM_E_EXISTS, "CA '%s' already exists in "
		    "store (give another --name)", rec.info.name);
		goto out;
	}
	if (err != CM_E_NOTFOUND)
		goto out;
	/* An intermediate whose issuer is in the store becomes its child. */
	if (!gnutls_x509_crt_check_issuer(crt, crt)) {
		if ((err = find_issuer(&parent, &found, st, NULL, crt)) !=
		    CM_OK)
			goto out;
		if (found)
			rec.parent_id = parent.id;
	} else if ((err = check_self_signed(ctx, crt, o->cert_path)) !=
	    CM_OK) {
		goto out;
	}
	if ((err = cm__crt_describe(crt, ctx, &rec.info.subject,
	    &rec.info.serial, &rec.info.fingerprint, &pem, &rec.der)) != CM_OK)
		goto out;
	rec.info.key_type = cm__strdup(cm_key_type_name(kt));
	rec.info.not_before = gnutls_x509_crt_get_activation_time(crt);
	rec.info.not_after = gnutls_x509_crt_get_expiration_time(crt);
	rec.info.path_len = pathlen;
	if ((err = cm__store_passphrase_for_new_key(&pass, st,
	    o->passphrase)) != CM_OK)
		goto out;
	rec.info.encrypted = pass != NULL;
	if ((err = cm__key_export_pkcs8(&pkcs8, ctx, key, pass)) != CM_OK)
		goto out;
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	if ((err = cm__store_key_insert(&key_id, st, kt, &pkcs8,
	    rec.info.encrypted)) != CM_OK)
		goto out;
	rec.key_id = key_id;
	if ((err = cm__store_ca_insert(&ca_id, st, &rec)) != CM_OK) {
		if (err == CM_E_STORE && strstr(cm_ctx_error(ctx), "UNIQUE"))
			err = cm__fail(ctx, CM_E_EXISTS, "%s: this CA is in the "
			    "store already", o->cert_path);
		goto out;
	}
	if ((err = cm__store_event(st, "ca.import", rec.info.serial,
	    rec.info.name)) != CM_OK)
		goto out;
	if ((err = cm__failpoint(ctx, "import.after_insert")) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if ((err = cm__failpoint(ctx, "import.after_commit")) != CM_OK)
		goto out;
	if (out != NULL)
		err = cm_ca_get(out, st, rec.info.name);
out:
	if (in_tx)
		cm__store_rollback(st);
	if (pkcs8.data != NULL) {
		gnutls_memset(pkcs8.data, 0, pkcs8.size);
		gnutls_free(pkcs8.data);
	}
	if (pass != NULL)
		cm__free_secret(pass, strlen(pass));
	free(pem);
	wipe_free(cdata, clen);
	wipe_free(kdata, klen);
	cm__ca_rec_clear(&rec);
	cm__ca_rec_clear(&parent);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return err;
}

/* ---- certificates issued elsewhere ---- */

static const char *
pub_type(gnutls_x509_crt_t crt)
{
	unsigned bits = 0;
	gnutls_ecc_curve_t curve;
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);

	switch (pk) {
	case GNUTLS_PK_RSA:
		return bits == 2048 ? "rsa-2048" : bits == 3072 ? "rsa-3072" :
		    bits == 4096 ? "rsa-4096" : "rsa";
	case GNUTLS_PK_EDDSA_ED25519:
		return "ed25519";
	case GNUTLS_PK_EDDSA_ED448:
		return "ed448";
	case GNUTLS_PK_ECDSA:
		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) < 0)
			return "ec";
		return curve == GNUTLS_ECC_CURVE_SECP256R1 ? "ec-p256" :
		    curve == GNUTLS_ECC_CURVE_SECP384R1 ? "ec-p384" :
		    curve == GNUTLS_ECC_CURVE_SECP521R1 ? "ec-p521" : "ec";
	default:
		return "other";
	}
}

static cm_err
add_name(cm_cert_info *c, const char *name)
{
	char **nv;
	size_t i;

	for (i = 0; i < c->nnames; i++)
		if (strcmp(c->names[i], name) == 0)
			return CM_OK;
	if ((nv = realloc(c->names, (c->nnames + 1) * sizeof(*nv))) == NULL)
		return CM_E_NOMEM;
	c->names = nv;
	if ((c->names[c->nnames] = strdup(name)) == NULL)
		return CM_E_NOMEM;
	c->nnames++;
	return CM_OK;
}

/* The CN first, then every SAN, as the inventory keeps them. */
static cm_err
names_of(cm_cert_info *c, gnutls_x509_crt_t crt)
{
	char buf[1024], ip[INET6_ADDRSTRLEN], *cn;
	size_t len;
	unsigned i, type;
	int ret;

	if ((cn = cn_of(crt)) != NULL) {
		ret = add_name(c, cn);
		free(cn);
		if (ret != CM_OK)
			return CM_E_NOMEM;
	}
	for (i = 0; i < 1000; i++) {
		len = sizeof(buf) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, buf, &len,
		    &type, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			continue;
		if (type == GNUTLS_SAN_IPADDRESS) {
			if (inet_ntop(len == 4 ? AF_INET : AF_INET6, buf, ip,
			    sizeof(ip)) == NULL)
				continue;
			ret = add_name(c, ip);
		} else if (type == GNUTLS_SAN_DNSNAME ||
		    type == GNUTLS_SAN_RFC822NAME || type == GNUTLS_SAN_URI) {
			buf[len] = '\0';
			ret = add_name(c, buf);
		} else {
			continue;
		}
		if (ret != CM_OK)
			return CM_E_NOMEM;
	}
	if (c->nnames == 0 && add_name(c, c->serial) != CM_OK)
		return CM_E_NOMEM;
	return CM_OK;
}

typedef struct pending {
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	cm_cert_info *info;
	int64_t ca_id;
	const char *path;
} pending;

cm_err
cm_cert_import(cm_cert_info ***out, size_t *nout, cm_store *st,
    const char *ca, const char *const *paths, size_t npaths)
{
	cm_ctx *ctx = cm__store_ctx(st);
	pending *pv = NULL, *np;
	size_t n = 0, i, k;
	gnutls_x509_crt_t *list = NULL;
	unsigned nlist = 0, j;
	char *data = NULL;
	size_t len = 0;
	gnutls_datum_t d;
	cm__ca_rec issuer;
	cm__cert_rec r;
	cm_cert_info **res = NULL;
	bool found, in_tx = false;
	cm_err err = CM_OK;
	int ret;

	memset(&issuer, 0, sizeof(issuer));
	if (npaths == 0)
		return cm__fail(ctx, CM_E_INVALID, "import --issued: no file "
		    "given");
	for (i = 0; i < npaths; i++) {
		if ((err = cm__file_read(ctx, paths[i], IMPORT_MAX_INPUT, &data,
		    &len)) != CM_OK)
			goto out;
		d.data = (unsigned char *)data;
		d.size = (unsigned)len;
		ret = gnutls_x509_crt_list_import2(&list, &nlist, &d,
		    is_pem(data, len, "CERTIFICATE") ? GNUTLS_X509_FMT_PEM :
		    GNUTLS_X509_FMT_DER, 0);
		free(data);
		data = NULL;
		if (ret < 0 || nlist == 0) {
			err = cm__fail(ctx, CM_E_INVALID, "%s: no certificate "
			    "(PEM or DER)", paths[i]);
			goto out;
		}
		for (j = 0; j < nlist; j++) {
			gnutls_x509_crt_t c = list[j];
			list[j] = NULL;
			if (n == MAX_CERTS ||
			    (np = realloc(pv, (n + 1) * sizeof(*pv))) == NULL) {
				gnutls_x509_crt_deinit(c);
				err = cm__fail(ctx, CM_E_NOMEM, "too many "
				    "certificates");
				goto out;
			}
			pv = np;
			memset(&pv[n], 0, sizeof(pv[n]));
			pv[n].crt = c;
			pv[n].path = paths[i];
			n++;
		}
		gnutls_free(list);
		list = NULL;
		nlist = 0;
	}
	for (i = 0; i < n; i++) {
		cm_cert_info *c;
		char *pem = NULL;

		if ((err = find_issuer(&issuer, &found, st, ca,
		    pv[i].crt)) != CM_OK)
			goto out;
		if (!found) {
			char *cn = cn_of(pv[i].crt);
			err = cm__fail(ctx, CM_E_INVALID, "%s: certificate '%s' "
			    "was not signed by %s%s%s", pv[i].path,
			    cn ? cn : "?", ca ? "CA '" : "any CA of the store",
			    ca ? ca : "", ca ? "'" : "");
			free(cn);
			goto out;
		}
		if ((c = pv[i].info = calloc(1, sizeof(*c))) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		pv[i].ca_id = issuer.id;
		if ((err = cm__crt_describe(pv[i].crt, ctx, &c->subject,
		    &c->serial, &c->fingerprint, &pem, NULL)) != CM_OK)
			goto out;
		c->pem = pem;
		c->ca = strdup(issuer.info.name);
		c->profile = strdup("imported");
		c->key_type = strdup(pub_type(pv[i].crt));
		c->status = strdup("valid");
		c->not_before = gnutls_x509_crt_get_activation_time(pv[i].crt);
		c->not_after = gnutls_x509_crt_get_expiration_time(pv[i].crt);
		c->revocation_reason = -1;
		cm__ca_rec_clear(&issuer);
		if (c->ca == NULL || c->profile == NULL || c->key_type == NULL ||
		    c->status == NULL || names_of(c, pv[i].crt) != CM_OK) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((ret = gnutls_x509_crt_export2(pv[i].crt,
		    GNUTLS_X509_FMT_DER, &pv[i].der)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "%s", pv[i].path);
			goto out;
		}
	}
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	for (i = 0, k = 0; i < n; i++) {
		bool taken, dup = cm__store_cert_by_fpr(st,
		    pv[i].info->fingerprint) > 0;
		for (size_t m = 0; m < i && !dup; m++)
			dup = pv[m].info != NULL && strcmp(pv[m].info->fingerprint,
			    pv[i].info->fingerprint) == 0;
		if (dup) {
			cm_cert_info_free(pv[i].info);
			pv[i].info = NULL;
			continue;
		}
		if ((err = cm__store_serial_taken(&taken, st, pv[i].ca_id,
		    pv[i].info->serial)) != CM_OK)
			goto out;
		if (taken) {
			err = cm__fail(ctx, CM_E_EXISTS, "%s: CA '%s' has "
			    "another certificate with serial %s", pv[i].path,
			    pv[i].info->ca, pv[i].info->serial);
			goto out;
		}
		memset(&r, 0, sizeof(r));
		r.ca_id = pv[i].ca_id;
		r.info = *pv[i].info;
		r.der = pv[i].der.data;
		r.derlen = pv[i].der.size;
		if ((err = cm__store_cert_insert(st, &r)) != CM_OK ||
		    (err = cm__store_event(st, "import", pv[i].info->serial,
		    pv[i].path)) != CM_OK)
			goto out;
		k++;
	}
	if ((err = cm__failpoint(ctx, "import.certs_after_insert")) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if ((err = cm__failpoint(ctx, "import.certs_after_commit")) != CM_OK)
		goto out;
	if (out != NULL) {
		if (k > 0 && (res = calloc(k, sizeof(*res))) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory (the "
			    "certificates were imported)");
			goto out;
		}
		for (i = 0, k = 0; i < n; i++)
			if (pv[i].info != NULL) {
				res[k++] = pv[i].info;
				pv[i].info = NULL;
			}
		*out = res;
	}
	if (nout != NULL)
		*nout = k;
out:
	if (in_tx)
		cm__store_rollback(st);
	for (j = 0; j < nlist; j++)
		gnutls_x509_crt_deinit(list[j]);
	gnutls_free(list);
	for (i = 0; i < n; i++) {
		gnutls_x509_crt_deinit(pv[i].crt);
		gnutls_free(pv[i].der.data);
		cm_cert_info_free(pv[i].info);
	}
	free(pv);
	cm__ca_rec_clear(&issuer);
	return err;
}
