/* test-verify.c - cm_time_parse and cm_verify on certificates made here
 * with a fixed validity, verified at pinned times. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* 2025-01-01T00:00:00Z and 2026-01-01T00:00:00Z: every certificate here
 * is valid between them. */
#define T_NB 1735689600
#define T_NA 1767225600
#define T_MID 1750000000

/* ---- cm_time_parse ----------------------------------------------------- */

static const struct {
	const char *text;
	long long want;     /* -1: invalid */
} times[] = {
	{ "2026-01-02T03:04:05Z", 1767323045 },
	{ "2026-01-02t03:04:05z", 1767323045 },
	{ "2026-01-02 03:04:05Z", 1767323045 },
	{ "2026-01-02T03:04:05.999Z", 1767323045 },
	{ "2026-01-02T05:04:05+02:00", 1767323045 },
	{ "2026-01-01T22:04:05-05:00", 1767323045 },
	{ "2024-01-01T00:00:00+00:00", 1704067200 },
	{ "2026-01-02", 1767312000 },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2024-02-29", 1709164800 },
	{ "2000-02-29", 951782400 },
	{ "2023-02-29", -1 },
	{ "1900-02-29", -1 },
	{ "2026-13-01", -1 },
	{ "2026-00-10", -1 },
	{ "2026-04-31", -1 },
	{ "2026-01-02T03:04Z", -1 },
	{ "2026-01-02T24:00:00Z", -1 },
	{ "2026-01-02T03:04:05", -1 },
	{ "2026-01-02T03:04:05Zjunk", -1 },
	{ "2026-01-02T03:04:05.Z", -1 },
	{ "2026-01-02T03:04:05+2:00", -1 },
	{ "26-01-02", -1 },
	{ "", -1 },
	{ "now", -1 },
};

static void
test_time_parse(void **state)
{
	void **pair = *state;
	cm_ctx *ctx = pair[0];
	size_t i;
	time_t t;
	cm_err err;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		t = 12345;
		err = cm_time_parse(&t, ctx, times[i].text);
		if (times[i].want < 0) {
			assert_int_equal(err, CM_E_INVALID);
			assert_int_equal(t, 12345);  /* untouched */
			assert_non_null(strstr(cm_ctx_error(ctx),
			    times[i].text));
			assert_non_null(strstr(cm_ctx_error(ctx), "RFC 3339"));
		} else {
			assert_int_equal(err, CM_OK);
			assert_int_equal((long long)t, times[i].want);
		}
	}
	assert_int_equal(cm_time_parse(&t, ctx, NULL), CM_E_INVALID);
}

/* ---- certificates ------------------------------------------------------- */

typedef struct pki {
	gnutls_x509_privkey_t key[6];
	gnutls_x509_crt_t crt[6];
	char *pem[6];
	unsigned char id[6];    /* serial and key id: unique per certificate */
} pki;

static unsigned char next_id = 1;

enum { ROOT, LEAF, INTER, LEAF2, NC_CA, NC_LEAF };

static gnutls_x509_privkey_t
mkkey(void)
{
	gnutls_x509_privkey_t k;

	assert_int_equal(gnutls_x509_privkey_init(&k), 0);
	assert_int_equal(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	return k;
}

/* A certificate for cn, signed by issuer (NULL: self-signed). */
static void
mkcert(pki *p, int i, const char *cn, int issuer, bool ca, int pathlen,
    const char *dns, const char *permit)
{
	gnutls_x509_crt_t c;
	gnutls_x509_privkey_t ikey;
	gnutls_x509_crt_t icrt;
	unsigned char serial[2] = { 0x10, next_id };
	unsigned char ip[4] = { 192, 0, 2, 7 };
	gnutls_datum_t pem = { NULL, 0 };

	p->id[i] = next_id++;
	p->key[i] = mkkey();
	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, serial, 2), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c, p->key[i]), 0);
	gnutls_x509_crt_set_activation_time(c, T_NB);
	gnutls_x509_crt_set_expiration_time(c, T_NA);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(c, ca,
	    pathlen), 0);
	if (ca) {
		assert_int_equal(gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
	} else {
		assert_int_equal(gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
		assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(c,
		    GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
		    GNUTLS_FSAN_APPEND), 0);
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND), 0);
	}
	if (permit != NULL) {
		gnutls_x509_name_constraints_t nc;
		gnutls_datum_t d = { (unsigned char *)(uintptr_t)permit,
			(unsigned)strlen(permit) };
		assert_int_equal(gnutls_x509_name_constraints_init(&nc), 0);
		assert_int_equal(gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_DNSNAME, &d), 0);
		assert_int_equal(gnutls_x509_crt_set_name_constraints(c, nc, 1),
		    0);
		gnutls_x509_name_constraints_deinit(nc);
	}
	assert_int_equal(gnutls_x509_crt_set_subject_key_id(c, serial, 2), 0);
	icrt = issuer < 0 ? c : p->crt[issuer];
	ikey = issuer < 0 ? p->key[i] : p->key[issuer];
	if (issuer >= 0) {
		unsigned char id[2] = { 0x10, p->id[issuer] };
		assert_int_equal(gnutls_x509_crt_set_authority_key_id(c, id, 2),
		    0);
	}
	assert_int_equal(gnutls_x509_crt_sign2(c, icrt, ikey,
	    GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &pem),
	    0);
	p->crt[i] = c;
	p->pem[i] = strdup((const char *)pem.data);
	gnutls_free(pem.data);
}

static int
setup(void **state)
{
	cm_ctx *ctx;
	pki *p;

	if (cm_ctx_new(&ctx) != CM_OK)
		return -1;
	p = calloc(1, sizeof(*p));
	mkcert(p, ROOT, "Test Root", -1, true, -1, NULL, NULL);
	mkcert(p, LEAF, "www.test", ROOT, false, -1, "www.test", NULL);
	/* INTER allows no CA under it, and LEAF2 sits under a second
	 * intermediate: a path-length break, not a name constraint. */
	mkcert(p, INTER, "Test Int pathlen 0", ROOT, true, 0, NULL, NULL);
	mkcert(p, NC_CA, "Test NC CA", ROOT, true, -1, NULL, "ok.test");
	mkcert(p, NC_LEAF, "bad.test", NC_CA, false, -1, "bad.test", NULL);
	{
		/* A second intermediate under INTER, then the leaf. */
		pki q;
		memset(&q, 0, sizeof(q));
		q.key[0] = p->key[INTER];
		q.crt[0] = p->crt[INTER];
		q.id[0] = p->id[INTER];
		mkcert(&q, 1, "Test Int 2", 0, true, -1, NULL, NULL);
		mkcert(&q, 2, "deep.test", 1, false, -1, "deep.test", NULL);
		/* Keep INTER2 as the untrusted bundle INTER + INTER2. */
		size_t n = strlen(q.pem[1]) + strlen(p->pem[INTER]) + 1;
		char *bundle = malloc(n);
		snprintf(bundle, n, "%s%s", q.pem[1], p->pem[INTER]);
		p->pem[LEAF2] = q.pem[2];
		p->key[LEAF2] = q.key[2];
		p->crt[LEAF2] = q.crt[2];
		free(q.pem[1]);
		gnutls_x509_crt_deinit(q.crt[1]);
		gnutls_x509_privkey_deinit(q.key[1]);
		/* INTER's PEM slot now holds the bundle of both. */
		free(p->pem[INTER]);
		p->pem[INTER] = bundle;
	}
	state[0] = ctx;
	state[1] = p;
	return 0;
}

static int
teardown(void **state)
{
	pki *p = state[1];
	int i;

	for (i = 0; i < 6; i++) {
		free(p->pem[i]);
		if (p->crt[i])
			gnutls_x509_crt_deinit(p->crt[i]);
		if (p->key[i])
			gnutls_x509_privkey_deinit(p->key[i]);
	}
	free(p);
	cm_ctx_free(state[0]);
	return 0;
}

static int
group_setup(void **state)
{
	static void *pair[2];

	if (setup(pair) != 0)
		return -1;
	*state = pair;
	return 0;
}

static int
group_teardown(void **state)
{
	return teardown(*state);
}

/* ---- cm_verify, table-driven ------------------------------------------- */

static const struct vcase {
	const char *desc;
	int leaf;
	int untrusted;          /* -1: none */
	const char *name;
	cm_verify_purpose purpose;
	time_t at;
	cm_outcome want;
	unsigned bit;           /* a status bit that must be set (0: none) */
	const char *explains;   /* a substring of the explanation */
} vcases[] = {
	{ "valid", LEAF, -1, "www.test", CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_OK, 0, "up to trust anchor 'CN=Test Root'" },
	{ "valid, no name", LEAF, -1, NULL, CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_OK, 0, "valid for TLS server" },
	{ "IP SAN", LEAF, -1, "192.0.2.7", CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_OK, 0, "'192.0.2.7'" },
	{ "other IP", LEAF, -1, "192.0.2.8", CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_HOSTNAME, GNUTLS_CERT_UNEXPECTED_OWNER, "'192.0.2.8'" },
	{ "IP as IPv6", LEAF, -1, "::ffff:192.0.2.7", CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_HOSTNAME, GNUTLS_CERT_UNEXPECTED_OWNER, NULL },
	{ "wrong name", LEAF, -1, "other.test", CM_VERIFY_SERVER, T_MID,
	    CM_OUTCOME_HOSTNAME, GNUTLS_CERT_UNEXPECTED_OWNER,
	    "hostname: 'CN=www.test' is not valid for the name 'other.test'" },
	{ "client purpose", LEAF, -1, "www.test", CM_VERIFY_CLIENT, T_MID,
	    CM_OUTCOME_PURPOSE, GNUTLS_CERT_PURPOSE_MISMATCH, "TLS client" },
	{ "any purpose", LEAF, -1, "www.test", CM_VERIFY_ANY, T_MID,
	    CM_OUTCOME_OK, 0, NULL },
	{ "a second before", LEAF, -1, NULL, CM_VERIFY_SERVER, T_NB - 1,
	    CM_OUTCOME_NOT_YET_VALID, GNUTLS_CERT_NOT_ACTIVATED,
	    "is valid only from 2025-01-01T00:00:00Z (checked at "
	    "2024-12-31T23:59:59Z)" },
	{ "first second", LEAF, -1, NULL, CM_VERIFY_SERVER, T_NB,
	    CM_OUTCOME_OK, 0, NULL },
	{ "last second", LEAF, -1, NULL, CM_VERIFY_SERVER, T_NA,
	    CM_OUTCOME_OK, 0, NULL },
	{ "a second after", LEAF, -1, NULL, CM_VERIFY_SERVER, T_NA + 1,
	    CM_OUTCOME_EXPIRED, GNUTLS_CERT_EXPIRED,
	    "expired: 'CN=www.test' expired at 2026-01-01T00:00:00Z" },
	{ "missing intermediates", LEAF2, -1, "deep.test", CM_VERIFY_SERVER,
	    T_MID, CM_OUTCOME_UNTRUSTED, GNUTLS_CERT_SIGNER_NOT_FOUND,
	    "the issuer 'CN=Test Int 2' of 'CN=deep.test'" },
	{ "path length broken", LEAF2, INTER, "deep.test", CM_VERIFY_SERVER,
	    T_MID, CM_OUTCOME_UNTRUSTED, GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
	    "path length" },
	{ "name constraints", NC_LEAF, NC_CA, "bad.test", CM_VERIFY_SERVER,
	    T_MID, CM_OUTCOME_NAME_CONSTRAINTS,
	    GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "name constraints" },
};

static void
test_verify_table(void **state)
{
	void **pair = *state;
	cm_ctx *ctx = pair[0];
	pki *p = pair[1];
	cm_verify_result *r;
	size_t i;

	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		cm_verify_opts o = CM_VERIFY_OPTS_INIT;

		o.leaf_data = p->pem[c->leaf];
		o.leaf_len = strlen(p->pem[c->leaf]);
		o.trust_data = p->pem[ROOT];
		o.trust_len = strlen(p->pem[ROOT]);
		if (c->untrusted >= 0) {
			o.untrusted_data = p->pem[c->untrusted];
			o.untrusted_len = strlen(p->pem[c->untrusted]);
		}
		o.name = c->name;
		o.purpose = c->purpose;
		o.at = c->at;
		r = NULL;
		print_message("# %s\n", c->desc);
		assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_OK);
		assert_non_null(r);
		assert_string_equal(cm_outcome_name(r->outcome),
		    cm_outcome_name(c->want));
		assert_int_equal(r->valid, c->want == CM_OUTCOME_OK);
		assert_int_equal(r->valid, r->status == 0);
		assert_int_equal((long long)r->at, (long long)c->at);
		if (c->bit != 0)
			assert_true(r->status & c->bit);
		assert_int_equal(r->nreasons == 0, r->status == 0);
		assert_non_null(r->explanation);
		assert_non_null(strstr(r->explanation,
		    cm_outcome_name(c->want)));
		if (c->explains != NULL && strstr(r->explanation,
		    c->explains) == NULL)
			fail_msg("%s: '%s' lacks '%s'", c->desc, r->explanation,
			    c->explains);
		assert_true(r->nchain >= 1);
		assert_non_null(strstr(r->chain[0], "CN="));
		if (r->valid) {
			assert_null(r->failing);
			assert_true(r->anchored);
			assert_string_equal(r->chain[r->nchain - 1],
			    "CN=Test Root");
		} else {
			assert_non_null(r->failing);
		}
		cm_verify_result_free(r);
	}
}

/* The chain is built through the untrusted bundle, leaf first. */
static void
test_verify_chain(void **state)
{
	void **pair = *state;
	cm_ctx *ctx = pair[0];
	pki *p = pair[1];
	cm_verify_opts o = CM_VERIFY_OPTS_INIT;
	cm_verify_result *r = NULL;

	o.leaf_data = p->pem[LEAF2];
	o.leaf_len = strlen(p->pem[LEAF2]);
	o.untrusted_data = p->pem[INTER];
	o.untrusted_len = strlen(p->pem[INTER]);
	o.trust_data = p->pem[ROOT];
	o.trust_len = strlen(p->pem[ROOT]);
	o.at = T_MID;
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_OK);
	assert_int_equal(r->nchain, 4);
	assert_string_equal(r->chain[0], "CN=deep.test");
	assert_string_equal(r->chain[1], "CN=Test Int 2");
	assert_string_equal(r->chain[2], "CN=Test Int pathlen 0");
	assert_string_equal(r->chain[3], "CN=Test Root");
	assert_true(r->anchored);
	/* The pathlen-0 intermediate is what the leaf's path breaks. */
	assert_string_equal(cm_outcome_name(r->outcome), "untrusted");
	cm_verify_result_free(r);
}

/* The clock of the context is the default time. */
static void
test_verify_pinned_clock(void **state)
{
	void **pair = *state;
	cm_ctx *ctx = pair[0];
	pki *p = pair[1];
	cm_verify_opts o = CM_VERIFY_OPTS_INIT;
	cm_verify_result *r = NULL;

	o.leaf_data = p->pem[LEAF];
	o.leaf_len = strlen(p->pem[LEAF]);
	o.trust_data = p->pem[ROOT];
	o.trust_len = strlen(p->pem[ROOT]);
	cm_ctx_set_time(ctx, T_NA + 86400);
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_OK);
	cm_ctx_set_time(ctx, 0);
	assert_int_equal(r->outcome, CM_OUTCOME_EXPIRED);
	assert_int_equal((long long)r->at, (long long)T_NA + 86400);
	cm_verify_result_free(r);
}

static void
test_verify_bad_input(void **state)
{
	void **pair = *state;
	cm_ctx *ctx = pair[0];
	pki *p = pair[1];
	cm_verify_opts o = CM_VERIFY_OPTS_INIT;
	cm_verify_result *r = NULL;
	static const char junk[] = "not a certificate";
	static const char badpem[] = "-----BEGIN CERTIFICATE-----\n"
	    "AAAA\n-----END CERTIFICATE-----\n";

	/* Garbage leaf. */
	o.leaf_path = "junk.crt";
	o.leaf_data = junk;
	o.leaf_len = sizeof(junk) - 1;
	o.trust_data = p->pem[ROOT];
	o.trust_len = strlen(p->pem[ROOT]);
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_E_INVALID);
	assert_null(r);
	assert_non_null(strstr(cm_ctx_error(ctx), "junk.crt: not a "
	    "certificate"));

	/* Broken PEM among the anchors. */
	o.leaf_path = NULL;
	o.leaf_data = p->pem[LEAF];
	o.leaf_len = strlen(p->pem[LEAF]);
	o.trust_data = badpem;
	o.trust_len = sizeof(badpem) - 1;
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(ctx), "trust anchors: not a "
	    "certificate"));

	/* A missing file. */
	o.trust_data = NULL;
	o.trust_path = "/nonexistent/ca.pem";
	assert_int_not_equal(cm_verify(&r, ctx, NULL, &o), CM_OK);
	assert_non_null(strstr(cm_ctx_error(ctx), "/nonexistent/ca.pem"));

	/* No anchors and no store. */
	o.trust_path = NULL;
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(ctx), "no trust anchors"));

	/* An options struct of another version. */
	o.version = 99;
	assert_int_equal(cm_verify(&r, ctx, NULL, &o), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(ctx), "version 99"));
	assert_null(r);
	cm_verify_result_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_verify_table),
		cmocka_unit_test(test_verify_chain),
		cmocka_unit_test(test_verify_pinned_clock),
		cmocka_unit_test(test_verify_bad_input),
	};

	return cmocka_run_group_tests_name("verify", tests, group_setup,
	    group_teardown);
}
