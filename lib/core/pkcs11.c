/*
 * pkcs11.c - CA keys in a PKCS#11 token (RFC 7512 URIs), through GnuTLS's
 * PKCS#11 support.  Modules come from p11-kit's configuration; the
 * environment variable CERTMINT_PKCS11_MODULE adds one by path (a token
 * not registered with p11-kit, as in the SoftHSM2 tests).
 */
#include "config.h"

#include <gnutls/pkcs11.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* gnutls_pkcs11_add_provider() is process-wide: do it once. */
static pthread_mutex_t module_mu = PTHREAD_MUTEX_INITIALIZER;
static char module_loaded[4096];
static bool pinned;

static cm_err
load_module(cm_ctx *ctx)
{
	const char *m = getenv("CERTMINT_PKCS11_MODULE");
	cm_err err = CM_OK;
	int ret;

	pthread_mutex_lock(&module_mu);
	/* A reference to GnuTLS never given back, so that its PKCS#11
	 * modules are not finalized at exit: whichever destructor drops
	 * GnuTLS's last reference (libmicrohttpd's, when both are linked
	 * into the program) may run after the modules' own destructors,
	 * and C_Finalize then crashes SoftHSM2.  Process exit is enough. */
	if (!pinned) {
		pinned = gnutls_global_init() >= 0;
	}
	if (m == NULL || m[0] == '\0') {
		pthread_mutex_unlock(&module_mu);
		return CM_OK;
	}
	if (strcmp(module_loaded, m) != 0) {
		ret = gnutls_pkcs11_add_provider(m, NULL);
		if (ret < 0 && ret != GNUTLS_E_INVALID_REQUEST)
			err = cm__gnutls_fail(ctx, ret, "PKCS#11 module %s", m);
		else
			snprintf(module_loaded, sizeof(module_loaded), "%s", m);
	}
	pthread_mutex_unlock(&module_mu);
	return err;
}

/* GnuTLS asks for the token PIN; we ask the context's callback. */
static int
pin_cb(void *arg, int attempt, const char *token_url, const char *label,
    unsigned flags, char *pin, size_t pin_max)
{
	cm_ctx *ctx = arg;
	char what[300];

	(void)token_url;
	/* A wrong PIN must not lock the token by retrying it. */
	if (attempt > 0 || (flags & GNUTLS_PIN_WRONG))
		return GNUTLS_E_PKCS11_PIN_ERROR;
	if (ctx->pass_fn == NULL)
		return GNUTLS_E_PKCS11_PIN_ERROR;
	snprintf(what, sizeof(what), "PKCS#11 token '%s' (PIN)",
	    label ? label : "");
	if (ctx->pass_fn(pin, pin_max, what, ctx->pass_arg) != CM_OK) {
		gnutls_memset(pin, 0, pin_max);
		return GNUTLS_E_PKCS11_PIN_ERROR;
	}
	pin[pin_max - 1] = '\0';
	return 0;
}

cm_err
cm__pkcs11_key_open(gnutls_privkey_t *out, cm_ctx *ctx, const char *uri)
{
	gnutls_privkey_t key = NULL;
	int ret;
	cm_err err;

	if ((err = load_module(ctx)) != CM_OK)
		return err;
	if ((ret = gnutls_privkey_init(&key)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s", uri);
	gnutls_privkey_set_pin_function(key, pin_cb, ctx);
	ret = gnutls_privkey_import_url(key, uri, 0);
	if (ret < 0) {
		gnutls_privkey_deinit(key);
		if (ret == GNUTLS_E_PKCS11_PIN_ERROR)
			return cm__fail(ctx, CM_E_PASSPHRASE, "%s: wrong or "
			    "missing token PIN", uri);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ||
		    ret == GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE)
			return cm__fail(ctx, CM_E_NOTFOUND, "%s: no such key in "
			    "any PKCS#11 token (is the module loaded? see "
			    "CERTMINT_PKCS11_MODULE)", uri);
		return cm__gnutls_fail(ctx, ret, "%s", uri);
	}
	*out = key;
	return CM_OK;
}

cm_key_type
cm__privkey_type(gnutls_privkey_t key)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	unsigned bits = 0;
	cm_key_type kt = CM_KEY_DEFAULT;
	int pk;

	pk = gnutls_privkey_get_pk_algorithm(key, &bits);
	switch (pk) {
	case GNUTLS_PK_RSA:
		kt = bits == 2048 ? CM_KEY_RSA_2048 : bits == 3072 ?
		    CM_KEY_RSA_3072 : bits == 4096 ? CM_KEY_RSA_4096 :
		    CM_KEY_DEFAULT;
		break;
	case GNUTLS_PK_EDDSA_ED25519:
		kt = CM_KEY_ED25519;
		break;
	case GNUTLS_PK_EDDSA_ED448:
		kt = CM_KEY_ED448;
		break;
	case GNUTLS_PK_ECDSA:
		if (gnutls_pubkey_init(&pub) < 0)
			break;
		if (gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
		    gnutls_pubkey_export_ecc_raw(pub, &curve, NULL, NULL) == 0)
			kt = curve == GNUTLS_ECC_CURVE_SECP256R1 ?
			    CM_KEY_EC_P256 : curve == GNUTLS_ECC_CURVE_SECP384R1 ?
			    CM_KEY_EC_P384 : curve == GNUTLS_ECC_CURVE_SECP521R1 ?
			    CM_KEY_EC_P521 : CM_KEY_DEFAULT;
		gnutls_pubkey_deinit(pub);
		break;
	default:
		break;
	}
	return kt;
}

cm_err
cm__privkey_type_check(gnutls_privkey_t key, cm_ctx *ctx, const char *uri,
    cm_key_type asked, cm_key_type *kt)
{
	if ((*kt = cm__privkey_type(key)) == CM_KEY_DEFAULT)
		return cm__fail(ctx, CM_E_INVALID, "%s: key type is not "
		    "supported (EC P-256/384/521, Ed25519, Ed448, RSA "
		    "2048/3072/4096)", uri);
	if (asked != CM_KEY_DEFAULT && asked != *kt)
		return cm__fail(ctx, CM_E_INVALID, "%s: the token key is %s, "
		    "not %s (leave out --key-type)", uri,
		    cm_key_type_name(*kt), cm_key_type_name(asked) ?
		    cm_key_type_name(asked) : "?");
	return CM_OK;
}

/* Appends the attributes of part (separated by sep) but pin-value to o,
 * each after lead (the first) or sep. */
static char *
keep_attrs(char *o, const char *part, const char *pend, char sep, char lead)
{
	const char *a, *end;
	bool first = true;

	for (a = part; a < pend; a = end + 1) {
		end = memchr(a, sep, (size_t)(pend - a));
		if (end == NULL)
			end = pend;
		if (end == a || ((size_t)(end - a) >= 10 &&
		    strncasecmp(a, "pin-value=", 10) == 0))
			continue;
		if (!first || lead != '\0')
			*o++ = first ? lead : sep;
		first = false;
		memcpy(o, a, (size_t)(end - a));
		o += end - a;
	}
	return o;
}

char *
cm__pkcs11_uri_public(const char *uri)
{
	const char *q = strchr(uri, '?'), *end = uri + strlen(uri);
	const char *path = strchr(uri, ':');
	char *out, *o;

	if ((out = malloc(strlen(uri) + 1)) == NULL)
		return NULL;
	if (path == NULL || (q != NULL && path > q)) {
		memcpy(out, uri, (size_t)(end - uri) + 1);
		return out;
	}
	/* RFC 7512: path attributes after "pkcs11:" separated by ';',
	 * query attributes after '?' by '&'; p11-kit takes pin-value in
	 * either. */
	path++;
	memcpy(out, uri, (size_t)(path - uri));
	o = keep_attrs(out + (path - uri), path, q != NULL ? q : end, ';',
	    '\0');
	if (q != NULL)
		o = keep_attrs(o, q + 1, end, '&', '?');
	*o = '\0';
	return out;
}

