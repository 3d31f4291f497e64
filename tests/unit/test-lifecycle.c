/*
 * test-lifecycle.c - intermediates, CSR signing, renewal, revocation and
 * status through the public API, with a pinned clock.  Table-driven; every
 * refusal checks the code and the message.
 */
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
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "certmint.h"

#define T0 ((time_t)1790000000)   /* 2026-09-22, pinned */
#define DAY 86400

typedef struct fixture {
	char dir[64];
	char path[128];
	cm_ctx *ctx;
	cm_store *st;
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	cm_ca_init_opts io = CM_CA_INIT_OPTS_INIT;
	const char *permit[] = { ".test", "10.0.0.0/8" };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cm-lifecycle.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(cm_ctx_new(&f->ctx), CM_OK);
	cm_ctx_set_time(f->ctx, T0);
	assert_int_equal(cm_store_open(&f->st, f->ctx, f->path,
	    CM_STORE_CREATE), CM_OK);
	io.name = "Root";
	io.days = 100;
	io.permit = permit;
	io.npermit = 2;
	assert_int_equal(cm_ca_init(NULL, f->st, &io), CM_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
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
expect_err(fixture *f, cm_err got, cm_err want, const char *msg)
{
	if (got != want || strstr(cm_ctx_error(f->ctx), msg) == NULL)
		fail_msg("got %s '%s', want %s '...%s...'", cm_strerror(got),
		    cm_ctx_error(f->ctx), cm_strerror(want), msg);
}

static cm_err
make_int(fixture *f, const char *name, const char *parent, int path_len)
{
	cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;

	o.name = name;
	o.parent = parent;
	o.path_len = path_len;
	return cm_ca_create(NULL, f->st, &o);
}

/* ---- intermediates ---- */

static void
test_ca_create_refusals(void **state)
{
	fixture *f = *state;
	static const char *const outside[] = { "example.com" };
	static const char *const wide_ip[] = { "10.0.0.0/7" };
	static const char *const bad[] = { "a..b" };
	static const struct {
		const char *name, *parent, *profile;
		unsigned version;
		int path_len;
		const char *const *permit;
		cm_err code;
		const char *msg;
	} cases[] = {
		{ NULL, "Root", NULL, 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_INVALID, "ca create: no name given" },
		{ "X", NULL, NULL, 1, CM_PATHLEN_PROFILE, NULL, CM_E_INVALID,
		    "no parent CA given" },
		{ "X", "Root", NULL, 9, CM_PATHLEN_PROFILE, NULL,
		    CM_E_INVALID, "options version 9 is unknown" },
		{ "X", "nosuch", NULL, 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_NOTFOUND, "CA 'nosuch' not found" },
		{ "Root", "Root", NULL, 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_EXISTS, "CA 'Root' already exists" },
		{ "X", "Root", NULL, 1, 300, NULL, CM_E_INVALID,
		    "--pathlen 300: 0 to 255" },
		{ "X", "Root", "server", 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_INVALID, "profile 'server' is not a CA profile" },
		{ "X", "Root", NULL, 1, CM_PATHLEN_PROFILE, outside,
		    CM_E_CONSTRAINT, "--permit 'example.com' is outside the "
		    "name constraints of CA 'Root'" },
		{ "X", "Root", NULL, 1, CM_PATHLEN_PROFILE, wide_ip,
		    CM_E_CONSTRAINT, "--permit '10.0.0.0/7' is outside" },
		{ "X", "Root", NULL, 1, CM_PATHLEN_PROFILE, bad, CM_E_INVALID,
		    "--permit 'a..b'" },
		{ "X", "Int0", NULL, 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_CONSTRAINT, "CA 'Int0' has path length 0: it cannot "
		    "sign another CA" },
		{ "X", "Int1", NULL, 1, 1, NULL, CM_E_CONSTRAINT,
		    "--pathlen 1: CA 'Int1' allows at most 0 below the new CA" },
		{ "X", "Int1Sub", NULL, 1, CM_PATHLEN_PROFILE, NULL,
		    CM_E_CONSTRAINT, "CA 'Int1Sub' has path length 0" },
	};
	cm_ca_info **list = NULL;
	size_t i, n = 0, before;

	assert_int_equal(make_int(f, "Int0", "Root", 0), CM_OK);
	assert_int_equal(make_int(f, "Int1", "Root", 1), CM_OK);
	assert_int_equal(make_int(f, "Int1Sub", "Int1", -1), CM_OK);
	assert_int_equal(cm_ca_list(&list, &before, f->st), CM_OK);
	cm_ca_info_list_free(list, before);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;
		o.version = cases[i].version;
		o.name = cases[i].name;
		o.parent = cases[i].parent;
		o.profile = cases[i].profile;
		o.path_len = cases[i].path_len;
		o.permit = cases[i].permit;
		o.npermit = cases[i].permit ? 1 : 0;
		expect_err(f, cm_ca_create(NULL, f->st, &o), cases[i].code,
		    cases[i].msg);
	}
	expect_err(f, cm_ca_create(NULL, f->st, NULL), CM_E_INVALID,
	    "no options");
	{
		cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;
		o.name = "X";
		o.parent = "Root";
		o.key_uri = "file:/etc/passwd";
		expect_err(f, cm_ca_create(NULL, f->st, &o), CM_E_INVALID,
		    "key URI 'file:/etc/passwd' is not a pkcs11: URI");
	}
	assert_int_equal(cm_ca_list(&list, &n, f->st), CM_OK);
	cm_ca_info_list_free(list, n);
	assert_int_equal(n, before);
}

static void
test_ca_create_shape(void **state)
{
	fixture *f = *state;
	cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;
	cm_ca_info *ca = NULL, *root = NULL;
	cm_cert_info *c = NULL;
	static const char *const narrow[] = { "team.test", "10.1.0.0/16" };

	o.name = "Team";
	o.parent = "Root";
	o.days = 36500;
	o.path_len = -1;
	o.permit = narrow;
	o.npermit = 2;
	assert_int_equal(cm_ca_create(&ca, f->st, &o), CM_OK);
	assert_int_equal(cm_ca_get(&root, f->st, "Root"), CM_OK);
	assert_string_equal(ca->parent, "Root");
	/* Clamped to the parent; unlimited under an unlimited root. */
	assert_int_equal(ca->not_after, root->not_after);
	assert_int_equal(ca->path_len, -1);
	assert_int_equal(ca->npermitted, 2);
	/* Recorded as a certificate of its parent, by serial and name. */
	assert_int_equal(cm_cert_find(&c, f->st, "Team"), CM_OK);
	assert_string_equal(c->serial, ca->serial);
	assert_string_equal(c->ca, "Root");
	assert_string_equal(c->profile, "intermediate-ca");
	cm_cert_info_free(c);
	cm_ca_info_free(ca);
	cm_ca_info_free(root);

	/* Inherited constraints bind issuance two levels down. */
	ca = NULL;
	assert_int_equal(make_int(f, "Squad", "Team", CM_PATHLEN_PROFILE),
	    CM_OK);
	assert_int_equal(cm_ca_get(&ca, f->st, "Squad"), CM_OK);
	assert_int_equal(ca->npermitted, 2);
	assert_string_equal(ca->permitted[0], "team.test");
	assert_int_equal(ca->path_len, 0);
	cm_ca_info_free(ca);
}

static cm_err
issue(fixture *f, const char *ca, const char *name, cm_cert_info **out)
{
	cm_issue_opts o = CM_ISSUE_OPTS_INIT;
	const char *names[1];

	names[0] = name;
	o.ca = ca;
	o.names = names;
	o.nnames = 1;
	return cm_issue(out, f->st, &o);
}

static void
test_ca_cannot_sign(void **state)
{
	fixture *f = *state;
	cm_ca_init_opts io = CM_CA_INIT_OPTS_INIT;

	assert_int_equal(make_int(f, "A", "Root", 1), CM_OK);
	assert_int_equal(make_int(f, "B", "A", CM_PATHLEN_PROFILE), CM_OK);
	expect_err(f, issue(f, "B", "www.example.com", NULL), CM_E_CONSTRAINT,
	    "name 'www.example.com' is outside the name constraints");
	assert_int_equal(issue(f, "B", "ok.test", NULL), CM_OK);
	assert_int_equal(cm_cert_revoke(NULL, f->st, "A",
	    CM_REASON_CA_COMPROMISE, 0), CM_OK);
	expect_err(f, issue(f, "A", "a.test", NULL), CM_E_INVALID,
	    "CA 'A' is revoked and cannot sign");
	expect_err(f, issue(f, "B", "b.test", NULL), CM_E_INVALID,
	    "CA 'B' cannot sign: its issuer 'A' is revoked");
	expect_err(f, make_int(f, "C", "A", CM_PATHLEN_PROFILE), CM_E_INVALID,
	    "CA 'A' is revoked and cannot sign");

	/* Expired: a one-day root, two days later. */
	io.name = "Short";
	io.days = 1;
	assert_int_equal(cm_ca_init(NULL, f->st, &io), CM_OK);
	assert_int_equal(make_int(f, "ShortInt", "Short", 0), CM_OK);
	cm_ctx_set_time(f->ctx, T0 + 2 * DAY);
	expect_err(f, issue(f, "Short", "x.test", NULL), CM_E_INVALID,
	    "CA 'Short' expired on ");
	expect_err(f, issue(f, "ShortInt", "x.test", NULL), CM_E_INVALID,
	    "CA 'ShortInt' expired on ");
	expect_err(f, make_int(f, "Late", "Short", 0), CM_E_INVALID,
	    "and cannot sign");
	cm_ctx_set_time(f->ctx, T0);
}

/* ---- CSR signing ---- */

/* A PKCS#10 request; tamper flips a bit of its signature. */
static void
make_csr(gnutls_datum_t *out, const char *cn, const char *const *dns,
    size_t ndns, bool tamper)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crq_t crq;
	size_t i;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	if (cn != NULL)
		assert_int_equal(gnutls_x509_crq_set_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)),
		    0);
	for (i = 0; i < ndns; i++)
		assert_int_equal(gnutls_x509_crq_set_subject_alt_name(crq,
		    GNUTLS_SAN_DNSNAME, dns[i], (unsigned)strlen(dns[i]),
		    GNUTLS_FSAN_APPEND), 0);
	/* Asks for CA:TRUE: it must not be granted. */
	assert_int_equal(gnutls_x509_crq_set_basic_constraints(crq, 1, -1), 0);
	assert_int_equal(gnutls_x509_crq_set_key(crq, key), 0);
	assert_int_equal(gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0),
	    0);
	assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER,
	    out), 0);
	if (tamper)
		out->data[out->size - 2] ^= 0x01;
	gnutls_x509_crq_deinit(crq);
	gnutls_x509_privkey_deinit(key);
}

static void
test_sign_refusals(void **state)
{
	fixture *f = *state;
	static const char *const outside[] = { "www.example.com" };
	static const char *const bad[] = { "a..b.test" };
	static const struct {
		const char *cn;
		const char *const *dns;
		bool tamper;
		const char *profile;
		cm_err code;
		const char *msg;
	} cases[] = {
		{ "a.test", NULL, true, NULL, CM_E_INVALID,
		    "req.csr: signature does not verify" },
		{ NULL, NULL, false, NULL, CM_E_INVALID,
		    "req.csr: the request names nothing" },
		{ "a.test", outside, false, NULL, CM_E_CONSTRAINT,
		    "name 'www.example.com' is outside the name constraints "
		    "of CA 'Root'" },
		{ "not a host", NULL, false, NULL, CM_E_INVALID,
		    "req.csr: subject CN: name 'not a host' has a space" },
		{ "a.test", bad, false, NULL, CM_E_INVALID,
		    "req.csr: subjectAltName: name 'a..b.test' is not a "
		    "hostname" },
		{ "a.test", NULL, false, "root-ca", CM_E_INVALID,
		    "profile 'root-ca' is a CA profile" },
	};
	cm_sign_opts o = CM_SIGN_OPTS_INIT;
	gnutls_datum_t d;
	cm_cert_info **list = NULL;
	size_t i, n = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_csr(&d, cases[i].cn, cases[i].dns, cases[i].dns ? 1 : 0,
		    cases[i].tamper);
		o.profile = cases[i].profile;
		expect_err(f, cm_sign_csr_mem(NULL, f->st, "req.csr", d.data,
		    d.size, &o), cases[i].code, cases[i].msg);
		gnutls_free(d.data);
	}
	expect_err(f, cm_sign_csr_mem(NULL, f->st, "junk", "junk", 4, NULL),
	    CM_E_INVALID, "junk: not a certificate request");
	expect_err(f, cm_sign_csr_mem(NULL, f->st, "e", "", 0, NULL),
	    CM_E_INVALID, "e: empty");
	o.version = 7;
	expect_err(f, cm_sign_csr_mem(NULL, f->st, "e", "x", 1, &o),
	    CM_E_INVALID, "sign: options version 7 is unknown");
	assert_int_equal(cm_cert_list(&list, &n, f->st, NULL), CM_OK);
	cm_cert_info_list_free(list, n);
	assert_int_equal(n, 0);
}

static void
test_sign_ok(void **state)
{
	fixture *f = *state;
	static const char *const dns[] = { "api.test", "www.api.test" };
	gnutls_datum_t d;
	gnutls_x509_crq_t crq;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	unsigned char k1[64], k2[64];
	size_t l1 = sizeof(k1), l2 = sizeof(k2);
	unsigned ca = 1, critical;
	int pl;
	cm_cert_info *c = NULL;

	make_csr(&d, "api.test", dns, 2, false);
	assert_int_equal(cm_sign_csr_mem(&c, f->st, "api.csr", d.data, d.size,
	    NULL), CM_OK);
	/* CN first, the CN's duplicate in the SAN dropped. */
	assert_int_equal(c->nnames, 2);
	assert_string_equal(c->names[0], "api.test");
	assert_string_equal(c->names[1], "www.api.test");
	assert_string_equal(c->key_type, "ec-p256");
	assert_string_equal(c->profile, "server");
	assert_int_equal(gnutls_x509_crq_init(&crq), 0);
	assert_int_equal(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	pem.data = (unsigned char *)c->pem;
	pem.size = (unsigned)strlen(c->pem);
	assert_int_equal(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM),
	    0);
	assert_int_equal(gnutls_x509_crq_get_key_id(crq, 0, k1, &l1), 0);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, 0, k2, &l2), 0);
	assert_memory_equal(k1, k2, l1);
	assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
	    &pl) >= 0);
	assert_int_equal(ca, 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crq_deinit(crq);
	gnutls_free(d.data);
	cm_cert_info_free(c);
}

/* ---- renew ---- */

static void
key_id(const char *pemtext, unsigned char *id, size_t *len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem = { (unsigned char *)(uintptr_t)pemtext,
		(unsigned)strlen(pemtext) };

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM),
	    0);
	assert_int_equal(gnutls_x509_crt_get_key_id(crt, 0, id, len), 0);
	gnutls_x509_crt_deinit(crt);
}

static void
test_renew(void **state)
{
	fixture *f = *state;
	cm_renew_opts o = CM_RENEW_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	cm_cert_info *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL;
	cm_cert_info *old = NULL;
	unsigned char a[64], b[64], c[64];
	size_t la = sizeof(a), lb = sizeof(b), lc = sizeof(c);
	const char *names[] = { "nokey.test" };

	assert_int_equal(issue(f, NULL, "svc.test", &c1), CM_OK);
	assert_int_equal(cm_renew(&c2, f->st, "svc.test", &o), CM_OK);
	assert_string_not_equal(c1->serial, c2->serial);
	assert_string_equal(c2->names[0], "svc.test");
	key_id(c1->pem, a, &la);
	key_id(c2->pem, b, &lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(cm_cert_find(&old, f->st, c1->serial), CM_OK);
	assert_string_equal(old->status, "superseded");
	cm_cert_info_free(old);

	o.rekey = true;
	o.revoke_old = true;
	assert_int_equal(cm_renew(&c3, f->st, c2->serial, &o), CM_OK);
	key_id(c3->pem, c, &lc);
	assert_memory_not_equal(b, c, lb);
	assert_int_equal(cm_cert_find(&old, f->st, c2->serial), CM_OK);
	assert_string_equal(old->status, "revoked");
	assert_int_equal(old->revocation_reason, CM_REASON_SUPERSEDED);
	cm_cert_info_free(old);

	/* Refusals. */
	o.rekey = false;
	o.revoke_old = false;
	expect_err(f, cm_renew(NULL, f->st, "nosuch.test", &o), CM_E_NOTFOUND,
	    "certificate 'nosuch.test' not found");
	io.names = names;
	io.nnames = 1;
	io.discard_key = true;
	assert_int_equal(cm_issue(NULL, f->st, &io), CM_OK);
	expect_err(f, cm_renew(NULL, f->st, "nokey.test", &o), CM_E_NOTFOUND,
	    "its key was not kept in the store: renew with --rekey");
	assert_int_equal(make_int(f, "I", "Root", 0), CM_OK);
	expect_err(f, cm_renew(NULL, f->st, "I", &o), CM_E_INVALID,
	    "is a CA certificate");
	assert_int_equal(cm_cert_revoke(NULL, f->st, c3->serial,
	    CM_REASON_KEY_COMPROMISE, 0), CM_OK);
	expect_err(f, cm_renew(NULL, f->st, c3->serial, &o), CM_E_INVALID,
	    "revoked for keyCompromise: renew with --rekey");
	o.version = 5;
	expect_err(f, cm_renew(NULL, f->st, "svc.test", &o), CM_E_INVALID,
	    "renew: options version 5 is unknown");
	/* Version 1 (without profile) is still taken. */
	o.version = 1;
	o.profile = "nosuch";
	o.rekey = true;
	assert_int_equal(cm_renew(&c4, f->st, "svc.test", &o), CM_OK);
	assert_string_equal(c4->profile, "server");
	cm_cert_info_free(c4);
	c4 = NULL;
	/* Version 2: another profile, or a bad one named as such. */
	o.version = CM_RENEW_OPTS_VERSION;
	o.profile = "peer";
	assert_int_equal(cm_renew(&c4, f->st, "svc.test", &o), CM_OK);
	assert_string_equal(c4->profile, "peer");
	o.profile = "nosuch";
	expect_err(f, cm_renew(NULL, f->st, "svc.test", &o), CM_E_NOTFOUND,
	    "profile 'nosuch' not found");
	o.rekey = false;
	o.profile = NULL;
	cm_cert_info_free(c4);
	cm_cert_info_free(c1);
	cm_cert_info_free(c2);
	cm_cert_info_free(c3);
}

/* ---- revoke ---- */

static void
test_revoke_reasons(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *name;
		cm_revoke_reason r;
	} reasons[] = {
		{ "unspecified", CM_REASON_UNSPECIFIED },
		{ "keyCompromise", CM_REASON_KEY_COMPROMISE },
		{ "cACompromise", CM_REASON_CA_COMPROMISE },
		{ "affiliationChanged", CM_REASON_AFFILIATION_CHANGED },
		{ "superseded", CM_REASON_SUPERSEDED },
		{ "cessationOfOperation", CM_REASON_CESSATION_OF_OPERATION },
		{ "certificateHold", CM_REASON_CERTIFICATE_HOLD },
		{ "privilegeWithdrawn", CM_REASON_PRIVILEGE_WITHDRAWN },
		{ "aACompromise", CM_REASON_AA_COMPROMISE },
	};
	cm_list_filter lf = CM_LIST_FILTER_INIT;
	cm_cert_info *c = NULL, **list = NULL;
	cm_revoke_reason r;
	char name[32];
	size_t i, n = 0;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		assert_int_equal(cm_revoke_reason_parse(&r, f->ctx,
		    reasons[i].name), CM_OK);
		assert_int_equal(r, reasons[i].r);
		assert_string_equal(cm_revoke_reason_name(r), reasons[i].name);
		snprintf(name, sizeof(name), "r%zu.test", i);
		assert_int_equal(issue(f, NULL, name, NULL), CM_OK);
		/* Issued at T0, revoked a minute on, dated back i s. */
		cm_ctx_set_time(f->ctx, T0 + 60);
		assert_int_equal(cm_cert_revoke(&c, f->st, name, r,
		    T0 + 60 - (time_t)i), CM_OK);
		cm_ctx_set_time(f->ctx, T0);
		assert_string_equal(c->status, "revoked");
		assert_int_equal(c->revocation_reason, (int)r);
		assert_int_equal(c->revoked_at, T0 + 60 - (time_t)i);
		cm_cert_info_free(c);
		c = NULL;
	}
	/* Not before the certificate existed, not in the future; refused
	 * changes nothing. */
	assert_int_equal(issue(f, NULL, "late.test", NULL), CM_OK);
	expect_err(f, cm_cert_revoke(NULL, f->st, "late.test",
	    CM_REASON_UNSPECIFIED, T0 - 1), CM_E_INVALID,
	    "revocation time 2026-09-21T14:13:19Z is before its notBefore "
	    "2026-09-21T14:13:20Z");
	expect_err(f, cm_cert_revoke(NULL, f->st, "late.test",
	    CM_REASON_UNSPECIFIED, T0 + 1), CM_E_INVALID,
	    "revocation time 2026-09-21T14:13:21Z is in the future");
	/* removeFromCRL only undoes a hold in a delta CRL (issue 14). */
	expect_err(f, cm_cert_revoke(NULL, f->st, "late.test",
	    CM_REASON_REMOVE_FROM_CRL, 0), CM_E_INVALID, "removeFromCRL");
	assert_int_equal(cm_cert_find(&c, f->st, "late.test"), CM_OK);
	assert_string_equal(c->status, "valid");
	cm_cert_info_free(c);
	c = NULL;
	expect_err(f, cm_revoke_reason_parse(&r, f->ctx, "bogus"),
	    CM_E_INVALID, "reason 'bogus' is unknown");
	expect_err(f, cm_cert_revoke(NULL, f->st, "r1.test",
	    CM_REASON_KEY_COMPROMISE, 0), CM_E_INVALID, "is revoked already");
	expect_err(f, cm_cert_revoke(NULL, f->st, "r1.test", 7, 0),
	    CM_E_INVALID, "reason 7 is unknown");
	lf.status = "revoked";
	assert_int_equal(cm_cert_list(&list, &n, f->st, &lf), CM_OK);
	assert_int_equal(n, sizeof(reasons) / sizeof(reasons[0]));
	cm_cert_info_list_free(list, n);
}

/* ---- status ---- */

static void
test_status(void **state)
{
	fixture *f = *state;
	cm_issue_opts o = CM_ISSUE_OPTS_INIT;
	const char *soon[] = { "soon.test" };
	cm_status *s = NULL;
	size_t i;

	assert_int_equal(make_int(f, "Int", "Root", 0), CM_OK);
	assert_int_equal(issue(f, "Int", "a.test", NULL), CM_OK);
	assert_int_equal(issue(f, "Int", "b.test", NULL), CM_OK);
	assert_int_equal(cm_cert_revoke(NULL, f->st, "b.test",
	    CM_REASON_KEY_COMPROMISE, 0), CM_OK);
	o.ca = "Int";
	o.names = soon;
	o.nnames = 1;
	o.days = 3;
	assert_int_equal(cm_issue(NULL, f->st, &o), CM_OK);
	/* Four days on, soon.test has expired. */
	cm_ctx_set_time(f->ctx, T0 + 4 * DAY);
	assert_int_equal(cm_status_get(&s, f->st, 3), CM_OK);
	assert_int_equal(s->ncas, 2);
	assert_string_equal(s->cas[0].name, "Root");
	assert_null(s->cas[0].parent);
	assert_int_equal(s->cas[0].valid, 1);   /* Int */
	assert_string_equal(s->cas[1].name, "Int");
	assert_string_equal(s->cas[1].parent, "Root");
	assert_string_equal(s->cas[1].state, "valid");
	assert_int_equal(s->cas[1].valid, 1);
	assert_int_equal(s->cas[1].expired, 1);
	assert_int_equal(s->cas[1].revoked, 1);
	assert_int_equal(s->cas[1].superseded, 0);
	assert_int_equal(s->nexpiries, 3);
	for (i = 1; i < s->nexpiries; i++)
		assert_true(s->expiries[i - 1].not_after <=
		    s->expiries[i].not_after);
	/* All clamped to the root's notAfter: CAs first at a tie, the
	 * expired and the revoked left out. */
	assert_true(s->expiries[0].is_ca);
	assert_true(s->expiries[1].is_ca);
	assert_false(s->expiries[2].is_ca);
	assert_string_equal(s->expiries[2].name, "a.test");
	assert_string_equal(s->expiries[2].ca, "Int");
	assert_int_equal(s->ncrls, 0);
	cm_status_free(s);
	cm_status_free(NULL);
	cm_ctx_set_time(f->ctx, T0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_create_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_create_shape, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_cannot_sign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_reasons, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
