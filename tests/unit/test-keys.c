/* test-keys.c - keys at rest (PBKDF2 iteration check, the store
 * passphrase), export formats and the PKCS#12 truststore encoder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/pkcs12.h>

#include "internal.h"

typedef struct fx {
	cm_ctx *ctx;
	cm_store *st;
	char dir[64];
	char path[128];
	const char *answer;   /* what the passphrase callback says */
} fx;

static cm_err
answer_cb(char *buf, size_t len, const char *what, void *arg)
{
	fx *f = arg;

	(void)what;
	if (f->answer == NULL)
		return CM_E_PASSPHRASE;
	snprintf(buf, len, "%s", f->answer);
	return CM_OK;
}

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cm-test-keys.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(cm_ctx_new(&f->ctx), CM_OK);
	cm_ctx_set_passphrase_fn(f->ctx, answer_cb, f);
	assert_int_equal(cm_store_open(&f->st, f->ctx, f->path,
	    CM_STORE_CREATE), CM_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[200];

	cm_store_close(f->st);
	cm_ctx_free(f->ctx);
	snprintf(cmd, sizeof(cmd), "%s/store.db", f->dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/store.db-wal", f->dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/store.db-shm", f->dir);
	unlink(cmd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_iterations(void **state)
{
	fx *f = *state;
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t enc = { NULL, 0 }, plain = { NULL, 0 }, cut;
	unsigned char junk[64];
	unsigned i;

	assert_int_equal(cm__key_generate(&k, f->ctx, CM_KEY_EC_P256), CM_OK);
	assert_int_equal(cm__key_export_pkcs8(&enc, f->ctx, k, "pw"), CM_OK);
	assert_int_equal(cm__key_export_pkcs8(&plain, f->ctx, k, NULL), CM_OK);
	assert_true(cm__pkcs8_iterations(&enc) >= CM_PBKDF2_MIN_ITER);
	assert_int_equal(cm__pkcs8_iterations(&plain), 0);
	/* Every truncation is refused, never read past the end. */
	for (i = 0; i < enc.size; i++) {
		cut.data = enc.data;
		cut.size = i;
		if (i < 60)
			assert_int_equal(cm__pkcs8_iterations(&cut), 0);
		else
			(void)cm__pkcs8_iterations(&cut);
	}
	memset(junk, 0x30, sizeof(junk));
	cut.data = junk;
	cut.size = sizeof(junk);
	assert_int_equal(cm__pkcs8_iterations(&cut), 0);
	cut.data = NULL;
	cut.size = 0;
	assert_int_equal(cm__pkcs8_iterations(&cut), 0);
	gnutls_free(enc.data);
	gnutls_free(plain.data);
	gnutls_x509_privkey_deinit(k);
}

static void
test_formats(void **state)
{
	static const struct {
		const char *name;
		cm_err err;
		cm_export_format f;
	} t[] = {
		{ "pem", CM_OK, CM_EXPORT_PEM },
		{ "der", CM_OK, CM_EXPORT_DER },
		{ "key", CM_OK, CM_EXPORT_KEY },
		{ "chain", CM_OK, CM_EXPORT_CHAIN },
		{ "fullchain", CM_OK, CM_EXPORT_FULLCHAIN },
		{ "bundle", CM_OK, CM_EXPORT_BUNDLE },
		{ "p12", CM_OK, CM_EXPORT_P12 },
		{ "pfx", CM_OK, CM_EXPORT_P12 },
		{ "PEM", CM_E_INVALID, 0 },
		{ "", CM_E_INVALID, 0 },
		{ "jks", CM_E_INVALID, 0 },
	};
	fx *f = *state;
	cm_export_format out;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		out = 0;
		assert_int_equal(cm_export_format_parse(&out, f->ctx, t[i].name),
		    t[i].err);
		if (t[i].err == CM_OK)
			assert_int_equal(out, t[i].f);
		else
			assert_non_null(strstr(cm_ctx_error(f->ctx),
			    "is unknown (pem, der, key, chain, bundle, "
			    "fullchain, p12)"));
	}
}

static void
test_store_passphrase(void **state)
{
	fx *f = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	char *pass = NULL;
	bool has = true;
	size_t n = 0;

	assert_int_equal(cm_store_has_passphrase(&has, f->st), CM_OK);
	assert_false(has);
	o.name = "unit CA";
	o.passphrase = "first";
	assert_int_equal(cm_ca_init(NULL, f->st, &o), CM_OK);
	assert_int_equal(cm_store_has_passphrase(&has, f->st), CM_OK);
	assert_true(has);
	/* A new key must take the store's passphrase. */
	assert_int_equal(cm__store_passphrase_for_new_key(&pass, f->st,
	    "second"), CM_E_PASSPHRASE);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "store: wrong passphrase"));
	assert_null(pass);
	f->answer = "first";
	assert_int_equal(cm__store_passphrase_for_new_key(&pass, f->st, NULL),
	    CM_OK);
	assert_string_equal(pass, "first");
	free(pass);
	/* passwd: a wrong old one changes nothing. */
	assert_int_equal(cm_store_passwd(&n, f->st, "nope", "new"),
	    CM_E_PASSPHRASE);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "nothing changed"));
	assert_int_equal(cm_store_passwd(&n, f->st, "first", "new"), CM_OK);
	assert_int_equal(n, 1);
	f->answer = "first";
	assert_int_equal(cm__store_passphrase_for_new_key(&pass, f->st, NULL),
	    CM_E_PASSPHRASE);
	assert_int_equal(cm_store_passwd(&n, f->st, "new", NULL), CM_OK);
	assert_int_equal(cm_store_has_passphrase(&has, f->st), CM_OK);
	assert_false(has);
	assert_int_equal(cm_store_passwd(&n, f->st, NULL, NULL), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "no passphrase to "
	    "remove"));
}

static void
test_truststore(void **state)
{
	fx *f = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_export_opts e = CM_EXPORT_OPTS_INIT;
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t bag = NULL;
	gnutls_datum_t d;
	cm_bytes *b = NULL;

	o.name = "trust unit CA";
	assert_int_equal(cm_ca_init(NULL, f->st, &o), CM_OK);
	e.format = CM_EXPORT_P12;
	e.no_key = true;
	assert_int_equal(cm_export(&b, f->st, "trust unit CA", &e),
	    CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "needs a password"));
	e.password = "pw";
	assert_int_equal(cm_export(&b, f->st, "trust unit CA", &e), CM_OK);
	assert_false(b->secret);
	d.data = b->data;
	d.size = (unsigned)b->len;
	assert_int_equal(gnutls_pkcs12_init(&p12), 0);
	assert_int_equal(gnutls_pkcs12_import(p12, &d, GNUTLS_X509_FMT_DER, 0),
	    0);
	assert_int_equal(gnutls_pkcs12_verify_mac(p12, "pw"), 0);
	assert_true(gnutls_pkcs12_verify_mac(p12, "wrong") < 0);
	assert_int_equal(gnutls_pkcs12_bag_init(&bag), 0);
	assert_int_equal(gnutls_pkcs12_get_bag(p12, 0, bag), 0);
	assert_int_equal(gnutls_pkcs12_bag_get_count(bag), 1);
	assert_int_equal(gnutls_pkcs12_bag_get_type(bag, 0),
	    GNUTLS_BAG_CERTIFICATE);
	gnutls_pkcs12_bag_deinit(bag);
	gnutls_pkcs12_deinit(p12);
	cm_bytes_free(b);
	b = NULL;
	assert_int_equal(cm_export(&b, f->st, "no such thing", &e),
	    CM_E_NOTFOUND);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "'no such thing' is "
	    "neither a certificate"));
}

/* A token URI as stored: never its PIN. */
static void
test_uri_public(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "pkcs11:token=t;object=k", "pkcs11:token=t;object=k" },
		{ "pkcs11:object=k?pin-value=1234", "pkcs11:object=k" },
		{ "pkcs11:object=k?PIN-Value=1234", "pkcs11:object=k" },
		{ "pkcs11:object=k?module-name=softhsm2&pin-value=1234",
		    "pkcs11:object=k?module-name=softhsm2" },
		{ "pkcs11:object=k?pin-value=1234&module-name=softhsm2",
		    "pkcs11:object=k?module-name=softhsm2" },
		{ "pkcs11:object=k?pin-value=1&pin-value=2", "pkcs11:object=k" },
		{ "pkcs11:object=k?pin-source=file:/run/pin",
		    "pkcs11:object=k?pin-source=file:/run/pin" },
		{ "pkcs11:object=k?pin-valuex=1", "pkcs11:object=k?pin-valuex=1" },
		{ "pkcs11:object=k?", "pkcs11:object=k" },
		{ "pkcs11:object=k?&&pin-value=9&", "pkcs11:object=k" },
		{ "pkcs11:token=t;pin-value=1234;object=k",
		    "pkcs11:token=t;object=k" },
		{ "pkcs11:pin-value=1234", "pkcs11:" },
		{ "pkcs11:PIN-VALUE=1;object=k?pin-value=2&pin-source=f",
		    "pkcs11:object=k?pin-source=f" },
		{ "pkcs11:token=a;;object=k", "pkcs11:token=a;object=k" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *p = cm__pkcs11_uri_public(t[i].in);
		assert_non_null(p);
		assert_string_equal(p, t[i].out);
		free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_public),
		cmocka_unit_test_setup_teardown(test_iterations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_passphrase, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truststore, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
