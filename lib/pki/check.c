/*
 * check.c - certmint store check: what a store holds, and whether it
 * holds together.  SQLite's own integrity check; every CA certificate
 * parses and is signed by its parent (a root by itself); every
 * certificate parses, carries the serial and fingerprint its row says and
 * is signed by its CA; every kept key (CA and leaf) is the key of its
 * certificate.  Keys behind a passphrase nobody gives are counted as not
 * checked, never as good.  Written against the library's own calls (the
 * CA and certificate lists, the key loaders), so it checks what every
 * command reads.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "internal.h"

/* The report and whether a problem could not be recorded (out of
 * memory): then the check fails rather than look clean. */
typedef struct report {
	cm_store_report r;
	bool lost;
} report;

static void
problem(cm_store_report *r, const char *fmt, ...)
{
	char buf[512], **np;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((np = realloc(r->problems, (r->nproblems + 1) *
	    sizeof(*np))) == NULL ||
	    (np[r->nproblems] = strdup(buf)) == NULL) {
		if (np != NULL)
			r->problems = np;
		((report *)(void *)r)->lost = true;
		return;
	}
	r->problems = np;
	r->nproblems++;
}

static size_t
count(cm_store *st, const char *sql)
{
	char **v = NULL;
	size_t n = 0, k = 0;

	if (cm__store_acme_rows(&v, &n, st, sql, "") == CM_OK && v[0] != NULL)
		k = (size_t)strtoull(v[0], NULL, 10);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return k;
}

static gnutls_x509_crt_t
crt_of(const char *pem)
{
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t d;

	if (pem == NULL || gnutls_x509_crt_init(&c) < 0)
		return NULL;
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(c);
		return NULL;
	}
	return c;
}

/* Whether issuer signed c (time ignored: an expired certificate still
 * belongs to its CA). */
static bool
signed_by(gnutls_x509_crt_t c, gnutls_x509_crt_t issuer)
{
	unsigned status = 0;

	return gnutls_x509_crt_check_issuer(c, issuer) &&
	    gnutls_x509_crt_verify(c, &issuer, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, &status) >= 0 && status == 0;
}

/* Whether key x is the key of certificate c. */
static bool
key_matches(gnutls_x509_privkey_t x, gnutls_x509_crt_t c)
{
	unsigned char a[64], b[64];
	size_t la = sizeof(a), lb = sizeof(b);

	return gnutls_x509_privkey_get_key_id(x, GNUTLS_KEYID_USE_SHA256, a,
	    &la) >= 0 && gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA256,
	    b, &lb) >= 0 && la == lb && memcmp(a, b, la) == 0;
}

static void
check_cas(cm_store_report *r, cm_store *st, cm_ca_info **cas, size_t n,
    gnutls_x509_crt_t *crts)
{
	cm__signer *s;
	size_t i, k;
	cm_err err;

	for (i = 0; i < n; i++) {
		if ((crts[i] = crt_of(cas[i]->pem)) == NULL) {
			problem(r, "CA '%s': its certificate does not parse",
			    cas[i]->name);
			continue;
		}
	}
	for (i = 0; i < n; i++) {
		if (crts[i] == NULL)
			continue;
		for (k = 0; cas[i]->parent != NULL && k < n; k++)
			if (strcmp(cas[k]->name, cas[i]->parent) == 0)
				break;
		if (cas[i]->parent != NULL && (k == n || crts[k] == NULL))
			problem(r, "CA '%s': its parent '%s' is not in the "
			    "store", cas[i]->name, cas[i]->parent);
		else if (!signed_by(crts[i], crts[cas[i]->parent ? k : i]))
			problem(r, "CA '%s': its certificate is not signed by "
			    "%s", cas[i]->name, cas[i]->parent ? cas[i]->parent :
			    "its own key");
		s = NULL;
		err = cm__signer_load(&s, st, cas[i]->name);
		if (err == CM_E_PASSPHRASE)
			r->keys_unchecked++;
		else if (err != CM_OK)
			problem(r, "CA '%s': its key: %s", cas[i]->name,
			    cm_ctx_error(cm__store_ctx(st)));
		else if (s->xkey == NULL)
			r->keys_unchecked++;   /* in a PKCS #11 token */
		else if (!key_matches(s->xkey, crts[i]))
			problem(r, "CA '%s': its kept key is not the key of its "
			    "certificate", cas[i]->name);
		else
			r->keys_ok++;
		cm__signer_free(s);
	}
}

static void
check_certs(cm_store_report *r, cm_store *st, cm_ca_info **cas,
    size_t ncas, gnutls_x509_crt_t *crts)
{
	cm_cert_info **v = NULL;
	gnutls_x509_privkey_t x;
	gnutls_x509_crt_t c;
	unsigned char raw[64], fp[32];
	char hex[160];
	size_t n = 0, i, k, len;
	cm_err err;

	if (cm_cert_list(&v, &n, st, NULL) != CM_OK) {
		problem(r, "the certificates cannot be listed: %s",
		    cm_ctx_error(cm__store_ctx(st)));
		return;
	}
	r->certs = n;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->status, "revoked") == 0)
			r->revoked++;
		if ((c = crt_of(v[i]->pem)) == NULL) {
			problem(r, "certificate %s: it does not parse",
			    v[i]->serial);
			continue;
		}
		len = sizeof(raw);
		if (gnutls_x509_crt_get_serial(c, raw, &len) < 0 ||
		    len * 2 >= sizeof(hex))
			hex[0] = '\0';
		else
			for (k = 0; k < len; k++)
				snprintf(hex + 2 * k, 3, "%02x", raw[k]);
		/* The row keeps the serial without leading zero octets. */
		for (k = 0; hex[k] == '0' && hex[k + 1] == '0'; k += 2)
			;
		if (strcmp(hex + k, v[i]->serial) != 0 && strcmp(hex,
		    v[i]->serial) != 0)
			problem(r, "certificate %s: it carries serial %s",
			    v[i]->serial, hex);
		len = sizeof(fp);
		if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, fp,
		    &len) >= 0) {
			for (k = 0; k < len; k++)
				snprintf(hex + 2 * k, 3, "%02x", fp[k]);
			if (strcmp(hex, v[i]->fingerprint) != 0)
				problem(r, "certificate %s: its SHA-256 "
				    "fingerprint is not the one recorded",
				    v[i]->serial);
		}
		for (k = 0; k < ncas && strcmp(cas[k]->name, v[i]->ca); k++)
			;
		if (k == ncas || crts[k] == NULL)
			problem(r, "certificate %s: its CA '%s' is not in the "
			    "store", v[i]->serial, v[i]->ca);
		else if (!signed_by(c, crts[k]))
			problem(r, "certificate %s: it is not signed by CA "
			    "'%s'", v[i]->serial, v[i]->ca);
		x = NULL;
		err = cm__cert_key_load(&x, st, v[i]->ca, v[i]->serial);
		if (err == CM_E_NOTFOUND)
			;       /* no key kept (--no-keep-key, a CSR) */
		else if (err == CM_E_PASSPHRASE)
			r->keys_unchecked++;
		else if (err != CM_OK)
			problem(r, "certificate %s: its kept key: %s",
			    v[i]->serial, cm_ctx_error(cm__store_ctx(st)));
		else if (!key_matches(x, c))
			problem(r, "certificate %s: its kept key is not the key "
			    "of the certificate", v[i]->serial);
		else
			r->keys_ok++;
		if (x != NULL)
			gnutls_x509_privkey_deinit(x);
		gnutls_x509_crt_deinit(c);
	}
	cm_cert_info_list_free(v, n);
}

cm_err
cm_store_check(cm_store_report **out, cm_store *st)
{
	cm_store_report *r;
	report *rep;
	cm_ca_info **cas = NULL;
	gnutls_x509_crt_t *crts = NULL;
	char **v = NULL;
	size_t ncas = 0, i;
	cm_err err;

	*out = NULL;
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "out of memory");
	r = &rep->r;
	if ((err = cm__store_integrity(&v, st)) != CM_OK) {
		cm_store_report_free(r);
		return err;
	}
	r->integrity_ok = v == NULL;
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (i < 10)
			problem(r, "%s integrity check: %s",
			    cm__store_backend(st), v[i]);
		free(v[i]);
	}
	free(v);
	if ((err = cm_ca_list(&cas, &ncas, st)) != CM_OK) {
		cm_store_report_free(r);
		return err;
	}
	r->cas = ncas;
	if ((crts = calloc(ncas ? ncas : 1, sizeof(*crts))) == NULL) {
		cm_ca_info_list_free(cas, ncas);
		cm_store_report_free(r);
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "out of memory");
	}
	check_cas(r, st, cas, ncas, crts);
	check_certs(r, st, cas, ncas, crts);
	r->crls = count(st, "SELECT count(*) FROM crls");
	r->events = count(st, "SELECT count(*) FROM events");
	r->acme_accounts = count(st, "SELECT count(*) FROM acme_accounts");
	r->acme_orders = count(st, "SELECT count(*) FROM acme_orders");
	for (i = 0; i < ncas; i++)
		if (crts[i] != NULL)
			gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	cm_ca_info_list_free(cas, ncas);
	if (rep->lost) {
		cm_store_report_free(r);
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "store check: "
		    "out of memory recording a problem");
	}
	*out = r;
	return CM_OK;
}

void
cm_store_report_free(cm_store_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nproblems; i++)
		free(r->problems[i]);
	free(r->problems);
	free((report *)(void *)r);   /* r is the first member */
}
