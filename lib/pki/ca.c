/* ca.c - root CAs and the signing material of a CA. */
#include "config.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_CA_NAME "certmint dev CA"
#define PASS_MAX 1024

/* "user@host", as mkcert does, so a trust store shows whose CA it is. */
void
cm__ca_owner(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024], host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, len, "%s@%s", res->pw_name, host);
	else
		snprintf(buf, len, "uid%lu@%s", (unsigned long)geteuid(), host);
	/* X.520 ub-organizational-unit-name: 64 (a long host name). */
	if (len > 64 && strlen(buf) > 64) {
		size_t n = 64;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		buf[n] = '\0';
	}
}

cm_err
cm__ca_new_check(cm_profile **prof, unsigned *days, cm_store *st,
    const char *name, const char *profile, unsigned want_days,
    unsigned default_days)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__ca_rec probe;
	cm_err err;

	*prof = NULL;
	if ((err = cm__ca_check_name(ctx, name)) != CM_OK)
		return err;
	if ((err = cm__store_ca_get(&probe, st, name)) == CM_OK) {
		cm__ca_rec_clear(&probe);
		return cm__fail(ctx, CM_E_EXISTS, "CA '%s' already exists in "
		    "store", name);
	}
	if (err != CM_E_NOTFOUND)
		return err;
	if ((err = cm_profile_load(prof, ctx, st, profile)) != CM_OK)
		return err;
	if (!(*prof)->ca)
		err = cm__fail(ctx, CM_E_INVALID, "profile '%s' is not a CA "
		    "profile (no 'ca' flag)", (*prof)->name);
	*days = want_days ? want_days : (*prof)->expiration_days > 0 ?
	    (unsigned)(*prof)->expiration_days : default_days;
	if (err == CM_OK && *days > 36500)
		err = cm__fail(ctx, CM_E_INVALID, "--days %u: at most 36500",
		    *days);
	if (err != CM_OK) {
		cm_profile_free(*prof);
		*prof = NULL;
	}
	return err;
}

cm_err
cm__ca_check_name(cm_ctx *ctx, const char *name)
{
	const char *p;
	char show[72];

	/* Quoted with control characters as '?': one-line messages. */
	cm__name_quote(show, sizeof(show), name);
	if (name[0] == '\0' || strlen(name) > 64)
		return cm__fail(ctx, CM_E_INVALID, "CA name '%s' must have 1 to "
		    "64 characters", show);
	for (p = name; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
			return cm__fail(ctx, CM_E_INVALID, "CA name '%s' has a "
			    "control character", show);
	return CM_OK;
}

/* SKID from the public key (RFC 7093 method 1: SHA-256, truncated). */
static cm_err
set_key_ids(gnutls_x509_crt_t crt, cm_ctx *ctx, gnutls_x509_crt_t issuer)
{
	unsigned char id[64];
	size_t len = sizeof(id);
	int ret;

	ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &len);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "key identifier");
	if (len > 20)
		len = 20;
	if ((ret = gnutls_x509_crt_set_subject_key_id(crt, id, len)) < 0)
		return cm__gnutls_fail(ctx, ret, "subject key identifier");
	if (issuer != NULL) {
		unsigned critical;
		len = sizeof(id);
		ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &len,
		    &critical);
		if (ret < 0)
			return cm__gnutls_fail(ctx, ret, "issuer key identifier");
	}
	if ((ret = gnutls_x509_crt_set_authority_key_id(crt, id, len)) < 0)
		return cm__gnutls_fail(ctx, ret, "authority key identifier");
	return CM_OK;
}

cm_err
cm__sign_crt(gnutls_x509_crt_t crt, cm_ctx *ctx, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key, cm_key_type kt)
{
	cm_err err;
	int ret;

	if ((err = set_key_ids(crt, ctx, issuer)) != CM_OK)
		return err;
	ret = gnutls_x509_crt_privkey_sign(crt, issuer ? issuer : crt, key,
	    cm__key_digest(kt), 0);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "signing certificate");
	return CM_OK;
}

/*
 * A new CA's key and its certificate, not yet filled: the key of a PKCS#11
 * token (key_uri; asked: CM_KEY_DEFAULT or the token key's type) or a fresh
 * one of type *kt.  The public key is set in the certificate.
 * [out] crt, key; xkey: the fresh key (NULL for a token key); kt.
 */
cm_err
cm__ca_key_new(gnutls_x509_crt_t *crt, gnutls_privkey_t *key,
    gnutls_x509_privkey_t *xkey, cm_key_type *kt, cm_ctx *ctx,
    const char *key_uri, cm_key_type asked, const char *name)
{
	gnutls_pubkey_t pub = NULL;
	cm_err err = CM_OK;
	int ret;

	*crt = NULL;
	*key = NULL;
	*xkey = NULL;
	if (key_uri != NULL) {
		if ((err = cm__pkcs11_key_open(key, ctx, key_uri)) != CM_OK ||
		    (err = cm__privkey_type_check(*key, ctx, key_uri, asked,
		    kt)) != CM_OK)
			return err;
		if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
		    (ret = gnutls_pubkey_import_privkey(pub, *key, 0, 0)) < 0 ||
		    (ret = gnutls_x509_crt_init(crt)) < 0 ||
		    (ret = gnutls_x509_crt_set_pubkey(*crt, pub)) < 0)
			err = cm__gnutls_fail(ctx, ret, "%s: public key",
			    key_uri);
		gnutls_pubkey_deinit(pub);
		return err;
	}
	if ((err = cm__key_generate(xkey, ctx, *kt)) != CM_OK)
		return err;
	if ((ret = gnutls_privkey_init(key)) < 0 ||
	    (ret = gnutls_privkey_import_x509(*key, *xkey, 0)) < 0 ||
	    (ret = gnutls_x509_crt_init(crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(*crt, *xkey)) < 0)
		return cm__gnutls_fail(ctx, ret, "CA '%s'", name);
	return CM_OK;
}

/* key_uri: the CA key is in a PKCS#11 token (NULL: generate one). */
static cm_err
ca_init(cm_ca_info **out, cm_store *st, const cm_ca_init_opts *o,
    const char *key_uri)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_ca_init_opts def = CM_CA_INIT_OPTS_INIT;
	gnutls_x509_privkey_t xkey = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_datum_t pkcs8 = { NULL, 0 };
	cm_profile *prof = NULL;
	cm_ca_info *got = NULL;
	cm__ca_rec rec;
	char *pass = NULL;
	unsigned char serial[20];
	size_t slen;
	char ou[300], *pem = NULL;
	cm_key_type kt;
	time_t now;
	unsigned days;
	int64_t key_id, ca_id;
	size_t i;
	bool in_tx = false;
	cm_err err;
	int ret;

	memset(&rec, 0, sizeof(rec));
	if (o == NULL)
		o = &def;
	if (o->version != CM_CA_INIT_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "ca init: options version "
		    "%u is unknown", o->version);
	kt = o->key_type == CM_KEY_DEFAULT ? CM_KEY_EC_P256 : o->key_type;
	rec.info.name = cm__strdup(o->name ? o->name : DEFAULT_CA_NAME);
	if (rec.info.name == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((err = cm__ca_new_check(&prof, &days, st, rec.info.name,
	    o->profile ? o->profile : "root-ca", o->days, 3650)) != CM_OK)
		goto out;
	/* Parse the constraints before the (slow) key generation. */
	if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "name constraints");
		goto out;
	}
	if ((err = cm__constraints_to_nc(nc, ctx, o->permit, o->npermit)) !=
	    CM_OK)
		goto out;

	/* One passphrase for every key of the store (passwd.c). */
	if (key_uri == NULL && (err = cm__store_passphrase_for_new_key(&pass,
	    st, o->passphrase)) != CM_OK)
		goto out;
	if ((err = cm__ca_key_new(&crt, &key, &xkey, &kt, ctx, key_uri,
	    o->key_type, rec.info.name)) != CM_OK)
		goto out;
	if ((err = cm__serial_new(serial, &slen, ctx)) != CM_OK)
		goto out;
	now = cm_ctx_now(ctx);
	cm__ca_owner(ou, sizeof(ou));
	if ((ret = gnutls_x509_crt_set_serial(crt, serial, slen)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, now)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt,
	    now + (time_t)days * 86400)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s'", rec.info.name);
		goto out;
	}
	if ((err = cm__profile_apply(crt, ctx, prof, kt)) != CM_OK)
		goto out;
	if (prof->unit == NULL && (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, 0, ou,
	    (unsigned)strlen(ou))) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': subject", rec.info.name);
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, rec.info.name, (unsigned)strlen(rec.info.name))) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': subject", rec.info.name);
		goto out;
	}
	/* RFC 5280 4.2.1.10: name constraints MUST be critical. */
	if (o->npermit > 0 &&
	    (ret = gnutls_x509_crt_set_name_constraints(crt, nc, 1)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': name constraints",
		    rec.info.name);
		goto out;
	}
	if ((err = cm__sign_crt(crt, ctx, NULL, key, kt)) != CM_OK)
		goto out;

	if ((err = cm__crt_describe(crt, ctx, &rec.info.subject,
	    &rec.info.serial, &rec.info.fingerprint, &pem, &rec.der)) != CM_OK)
		goto out;
	if ((rec.info.key_type = cm__strdup(cm_key_type_name(kt))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	rec.info.not_before = gnutls_x509_crt_get_activation_time(crt);
	rec.info.not_after = gnutls_x509_crt_get_expiration_time(crt);
	rec.info.path_len = prof->path_len >= 0 ? prof->path_len : -1;
	rec.info.encrypted = pass != NULL;
	if (o->npermit > 0) {
		rec.info.permitted = calloc(o->npermit, sizeof(char *));
		if (rec.info.permitted == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < o->npermit; i++) {
			rec.info.permitted[i] = cm__strdup(o->permit[i]);
			rec.info.npermitted++;
			if (rec.info.permitted[i] == NULL) {
				err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (xkey != NULL && (err = cm__key_export_pkcs8(&pkcs8, ctx, xkey,
	    pass)) != CM_OK)
		goto out;

	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	if (key_uri != NULL)
		err = cm__store_key_insert_uri(&key_id, st, kt, key_uri);
	else
		err = cm__store_key_insert(&key_id, st, kt, &pkcs8,
		    rec.info.encrypted);
	if (err != CM_OK)
		goto out;
	rec.key_id = key_id;
	if ((err = cm__store_ca_insert(&ca_id, st, &rec)) != CM_OK) {
		if (err == CM_E_STORE && strstr(cm_ctx_error(ctx), "UNIQUE"))
			err = cm__fail(ctx, CM_E_EXISTS, "CA '%s' already "
			    "exists in store", rec.info.name);
		goto out;
	}
	if ((err = cm__store_event(st, "ca.create", rec.info.serial,
	    key_uri ? "key in a PKCS#11 token" : rec.info.name)) != CM_OK)
		goto out;
	/* The answer is read inside the transaction: once committed, the
	 * call must not fail (a CA made but reported as an error). */
	if (out != NULL && (err = cm_ca_get(&got, st, rec.info.name)) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if (out != NULL) {
		*out = got;
		got = NULL;
	}
out:
	cm_ca_info_free(got);
	if (in_tx)
		cm__store_rollback(st);
	free(pem);
	if (pass != NULL)
		cm__free_secret(pass, strlen(pass));
	if (pkcs8.data != NULL) {
		gnutls_memset(pkcs8.data, 0, pkcs8.size);
		gnutls_free(pkcs8.data);
	}
	cm__ca_rec_clear(&rec);
	cm_profile_free(prof);
	if (nc != NULL)
		gnutls_x509_name_constraints_deinit(nc);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(key);
	gnutls_x509_privkey_deinit(xkey);
	return err;
}

cm_err
cm_ca_init(cm_ca_info **out, cm_store *st, const cm_ca_init_opts *o)
{
	return ca_init(out, st, o, NULL);
}

cm_err
cm_ca_init_key_uri(cm_ca_info **out, cm_store *st, const cm_ca_init_opts *o,
    const char *key_uri)
{
	if (key_uri == NULL || strncmp(key_uri, "pkcs11:", 7) != 0)
		return cm__fail(cm__store_ctx(st), CM_E_INVALID, "key URI '%s' "
		    "is not a pkcs11: URI", key_uri ? key_uri : "");
	return ca_init(out, st, o, key_uri);
}

cm_err
cm_ca_list(cm_ca_info ***out, size_t *n, cm_store *st)
{
	return cm__store_ca_list(out, n, st);
}

cm_err
cm_ca_count(size_t *n, cm_store *st)
{
	*n = 0;
	return cm__store_ca_count(n, st);
}

static cm_err
ca_get(cm_ca_info **out, cm_store *st, const char *name, bool count)
{
	cm__ca_rec rec;
	cm_ca_info *ca;
	cm_err err;

	if ((err = cm__store_ca_get(&rec, st, name)) != CM_OK)
		return err;
	if (count && (err = cm__store_ca_issued(&rec.info.issued, st,
	    rec.id)) != CM_OK) {
		cm__ca_rec_clear(&rec);
		return err;
	}
	if ((ca = malloc(sizeof(*ca))) == NULL) {
		cm__ca_rec_clear(&rec);
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "out of memory");
	}
	*ca = rec.info;
	gnutls_free(rec.der.data);
	*out = ca;
	return CM_OK;
}

cm_err
cm_ca_get(cm_ca_info **out, cm_store *st, const char *name)
{
	return ca_get(out, st, name, true);
}

/* cm_ca_get() without the issued count (0): for the library's own
 * lookups, which do not show it. */
cm_err
cm__ca_get_uncounted(cm_ca_info **out, cm_store *st, const char *name)
{
	return ca_get(out, st, name, false);
}

void
cm__signer_free(cm__signer *s)
{
	size_t i;

	if (s == NULL)
		return;
	cm__ca_rec_clear(&s->rec);
	gnutls_x509_crt_deinit(s->crt);
	gnutls_privkey_deinit(s->key);
	gnutls_x509_privkey_deinit(s->xkey);
	for (i = 0; i < s->nchain; i++)
		gnutls_x509_crt_deinit(s->chain[i]);
	free(s->chain);
	if (s->pass != NULL)
		cm__free_secret(s->pass, strlen(s->pass));
	free(s->key_uri);
	free(s->crl_url);
	free(s->ocsp_url);
	free(s);
}

static cm_err
import_der(gnutls_x509_crt_t *out, cm_ctx *ctx, const gnutls_datum_t *der,
    const char *name)
{
	gnutls_x509_crt_t crt = NULL;
	int ret;

	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER)) < 0) {
		gnutls_x509_crt_deinit(crt);
		return cm__gnutls_fail(ctx, ret, "CA '%s': certificate", name);
	}
	*out = crt;
	return CM_OK;
}

static bool
has_constraints(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };
	unsigned critical;
	bool has;

	has = gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.30", 0, &d,
	    &critical) >= 0;
	gnutls_free(d.data);
	return has;
}

static cm_err
signer_check_revoked(cm_store *st, const cm__ca_rec *r, const char *signer)
{
	char *status = NULL;
	cm_err err;

	if ((err = cm__store_ca_cert_status(&status, st, r)) != CM_OK)
		return err;
	if (status != NULL && strcmp(status, "revoked") == 0) {
		if (strcmp(signer, r->info.name) == 0)
			err = cm__fail(cm__store_ctx(st), CM_E_INVALID, "CA '%s' "
			    "is revoked and cannot sign", signer);
		else
			err = cm__fail(cm__store_ctx(st), CM_E_INVALID, "CA '%s' "
			    "cannot sign: its issuer '%s' is revoked", signer,
			    r->info.name);
	}
	free(status);
	return err;
}

cm_err
cm__signer_load(cm__signer **out, cm_store *st, const char *name)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__signer *s = NULL;
	gnutls_datum_t pkcs8 = { NULL, 0 };
	char pass[PASS_MAX], what[128];
	char *parent = NULL;
	bool encrypted = false;
	cm_err err;
	int ret, depth;

	pass[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((err = cm__store_ca_get(&s->rec, st, name)) != CM_OK)
		goto out;
	if ((err = import_der(&s->crt, ctx, &s->rec.der, s->rec.info.name)) !=
	    CM_OK)
		goto out;
	if ((err = cm__store_ca_urls(&s->crl_url, &s->ocsp_url, st,
	    s->rec.id)) != CM_OK)
		goto out;
	if (cm_ctx_now(ctx) > s->rec.info.not_after) {
		char when[32];
		cm__rfc3339(when, sizeof(when), s->rec.info.not_after);
		err = cm__fail(ctx, CM_E_INVALID, "CA '%s' expired on %s and "
		    "cannot sign", s->rec.info.name, when);
		goto out;
	}
	if (cm_ctx_now(ctx) < s->rec.info.not_before) {
		char when[32];
		cm__rfc3339(when, sizeof(when), s->rec.info.not_before);
		err = cm__fail(ctx, CM_E_INVALID, "CA '%s' is not valid before "
		    "%s and cannot sign yet", s->rec.info.name, when);
		goto out;
	}
	/* A revoked CA, or one below a revoked CA, signs nothing. */
	if ((err = signer_check_revoked(st, &s->rec, s->rec.info.name)) !=
	    CM_OK)
		goto out;
	/* The issuers above this CA, for --chain. */
	parent = cm__strdup(s->rec.info.parent);
	for (depth = 0; parent != NULL && depth < 16; depth++) {
		gnutls_x509_crt_t *nc;
		cm__ca_rec up;
		err = cm__store_ca_get(&up, st, parent);
		free(parent);
		parent = NULL;
		if (err != CM_OK)
			goto out;
		nc = realloc(s->chain, (s->nchain + 1) * sizeof(*nc));
		if (nc != NULL) {
			s->chain = nc;
			err = import_der(&s->chain[s->nchain], ctx, &up.der,
			    up.info.name);
			if (err == CM_OK)
				s->nchain++;
		} else {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		}
		if (err == CM_OK)
			err = signer_check_revoked(st, &up, s->rec.info.name);
		if (err == CM_OK && up.info.parent != NULL &&
		    (parent = strdup(up.info.parent)) == NULL)
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		cm__ca_rec_clear(&up);
		if (err != CM_OK)
			goto out;
	}

	s->constrained = has_constraints(s->crt);
	for (size_t i = 0; i < s->nchain; i++)
		s->constrained |= has_constraints(s->chain[i]);
	snprintf(what, sizeof(what), "CA '%s'", s->rec.info.name);
	/* A key in a token signs through GnuTLS's PKCS#11 support. */
	err = cm__store_key_uri(&s->key_uri, st, s->rec.key_id);
	if (err == CM_OK) {
		if ((err = cm__pkcs11_key_open(&s->key, ctx, s->key_uri)) !=
		    CM_OK)
			goto out;
		s->key_type = cm__privkey_type(s->key);
		/* Leaf keys kept in the store still take its passphrase. */
		if ((err = cm__store_passphrase_for_new_key(&s->pass, st,
		    NULL)) != CM_OK)
			goto out;
		*out = s;
		s = NULL;
		goto out;
	}
	if (err != CM_E_NOTFOUND)
		goto out;
	if ((err = cm__store_key_get(&pkcs8, &encrypted, st,
	    s->rec.key_id)) != CM_OK)
		goto out;
	if (encrypted && (err = cm__ask_passphrase(ctx, pass, sizeof(pass),
	    what)) != CM_OK)
		goto out;
	if ((err = cm__key_import_pkcs8(&s->xkey, ctx, &pkcs8,
	    encrypted ? pass : NULL, what)) != CM_OK)
		goto out;
	s->key_type = cm__key_type_of(s->xkey);
	if (encrypted && (s->pass = strdup(pass)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = gnutls_privkey_init(&s->key)) < 0 ||
	    (ret = gnutls_privkey_import_x509(s->key, s->xkey, 0)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "%s: key", what);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	free(parent);
	gnutls_memset(pass, 0, sizeof(pass));
	if (pkcs8.data != NULL) {
		gnutls_memset(pkcs8.data, 0, pkcs8.size);
		gnutls_free(pkcs8.data);
	}
	cm__signer_free(s);
	return err;
}

/* A stored PKCS#8 key: asks its passphrase when it is encrypted, imports
 * it, and wipes and frees pkcs8 and the passphrase. */
static cm_err
open_stored_key(gnutls_x509_privkey_t *out, cm_ctx *ctx,
    gnutls_datum_t *pkcs8, bool encrypted, const char *what)
{
	char pass[PASS_MAX];
	cm_err err = CM_OK;

	pass[0] = '\0';
	if (encrypted)
		err = cm__ask_passphrase(ctx, pass, sizeof(pass), what);
	if (err == CM_OK)
		err = cm__key_import_pkcs8(out, ctx, pkcs8, encrypted ? pass :
		    NULL, what);
	gnutls_memset(pass, 0, sizeof(pass));
	if (pkcs8->data != NULL) {
		gnutls_memset(pkcs8->data, 0, pkcs8->size);
		gnutls_free(pkcs8->data);
		pkcs8->data = NULL;
	}
	return err;
}

cm_err
cm__ca_key_load(gnutls_x509_privkey_t *out, cm_store *st, const char *name)
{
	cm_ctx *ctx = cm__store_ctx(st);
	gnutls_datum_t pkcs8 = { NULL, 0 };
	char what[160], *uri = NULL;
	bool encrypted = false;
	cm__ca_rec rec;
	cm_err err;

	if ((err = cm__store_ca_get(&rec, st, name)) != CM_OK)
		return err;
	snprintf(what, sizeof(what), "CA '%s'", rec.info.name);
	if ((err = cm__store_key_uri(&uri, st, rec.key_id)) == CM_OK) {
		free(uri);
		err = cm__fail(ctx, CM_E_INVALID, "%s: its key is in a "
		    "PKCS#11 token and cannot be exported", what);
		goto out;
	}
	if (err == CM_E_NOTFOUND && (err = cm__store_key_get(&pkcs8,
	    &encrypted, st, rec.key_id)) == CM_OK)
		err = open_stored_key(out, ctx, &pkcs8, encrypted, what);
out:
	cm__ca_rec_clear(&rec);
	return err;
}

cm_err
cm__cert_key_load(gnutls_x509_privkey_t *out, cm_store *st,
    const char *ca_name, const char *serial)
{
	gnutls_datum_t pkcs8 = { NULL, 0 };
	char what[160];
	bool encrypted = false;
	cm_err err;

	if ((err = cm__store_cert_key(&pkcs8, &encrypted, st, ca_name,
	    serial)) != CM_OK)
		return err;
	snprintf(what, sizeof(what), "certificate %s", serial);
	return open_stored_key(out, cm__store_ctx(st), &pkcs8, encrypted,
	    what);
}

cm_err
cm__signer_clone_key(gnutls_privkey_t *out, cm_ctx *ctx, const cm__signer *s)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	int ret;

	if (s->key_uri != NULL)
		return cm__pkcs11_key_open(out, ctx, s->key_uri);
	if ((ret = gnutls_x509_privkey_init(&x)) < 0 ||
	    (ret = gnutls_x509_privkey_cpy(x, s->xkey)) < 0 ||
	    (ret = gnutls_privkey_init(&k)) < 0 ||
	    (ret = gnutls_privkey_import_x509(k, x,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		gnutls_privkey_deinit(k);
		gnutls_x509_privkey_deinit(x);
		return cm__gnutls_fail(ctx, ret, "CA key");
	}
	*out = k;
	return CM_OK;
}
