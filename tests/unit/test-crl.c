/*
 * test-crl.c - unit tests of the revocation module: DER helpers, CRLs at
 * scale (one-pass encoding, checked by GnuTLS's parser and verifier),
 * delta CRLs, and the OCSP responder's answers (checked by GnuTLS's OCSP
 * parser).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/ocsp.h>
#include <sqlite3.h>

#include "internal.h"
#include "revocation/ocsp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct fx {
	char dir[64];
	char path[96];
	cm_ctx *ctx;
	cm_store *st;
	gnutls_x509_crt_t ca;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_ca_info *ca = NULL;
	gnutls_datum_t pem;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-crl.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	if (cm_ctx_new(&f->ctx) != CM_OK ||
	    cm_store_open(&f->st, f->ctx, f->path, CM_STORE_CREATE) != CM_OK)
		return -1;
	o.name = "unit CA";
	if (cm_ca_init(&ca, f->st, &o) != CM_OK)
		return -1;
	pem.data = (unsigned char *)ca->pem;
	pem.size = (unsigned)strlen(ca->pem);
	if (gnutls_x509_crt_init(&f->ca) < 0 ||
	    gnutls_x509_crt_import(f->ca, &pem, GNUTLS_X509_FMT_PEM) < 0)
		return -1;
	cm_ca_info_free(ca);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[160];

	if (f == NULL)
		return 0;
	gnutls_x509_crt_deinit(f->ca);
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

/* Adds n certificates to the store directly (no signing: speed), serials
 * 0x100000 + base + i, revoked when revoked is true. */
static void
add_rows(fx *f, size_t base, size_t n, bool revoked)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char serial[32], fpr[32];
	size_t i;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO certs (ca_id, "
	    "serial, subject, cn, profile, key_type, not_before, not_after, "
	    "der, fingerprint, status, revoked_at, revocation_reason, created) "
	    "VALUES (1, ?1, 'CN=x', 'x', 'server', 'ec-p256', 0, 4102444800, "
	    "x'00', ?2, ?3, ?4, ?5, 0)", -1, &s, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		snprintf(serial, sizeof(serial), "%zx", 0x100000 + base + i);
		snprintf(fpr, sizeof(fpr), "f%zu", base + i);
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, fpr, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, revoked ? "revoked" : "valid", -1,
		    SQLITE_STATIC);
		if (revoked) {
			sqlite3_bind_int64(s, 4, 1700000000 + (int64_t)i);
			sqlite3_bind_int(s, 5, (int)(i % 6));
		} else {
			sqlite3_bind_null(s, 4);
			sqlite3_bind_null(s, 5);
		}
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	}
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
}

static void
test_der_header(void **state)
{
	static const struct {
		size_t len;
		unsigned char want[6];
		size_t n;
	} cases[] = {
		{ 0, { 0x30, 0x00 }, 2 },
		{ 127, { 0x30, 0x7f }, 2 },
		{ 128, { 0x30, 0x81, 0x80 }, 3 },
		{ 255, { 0x30, 0x81, 0xff }, 3 },
		{ 256, { 0x30, 0x82, 0x01, 0x00 }, 4 },
		{ 4000000, { 0x30, 0x83, 0x3d, 0x09, 0x00 }, 5 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		cm__buf b = { NULL, 0, 0, false };
		cm__der_header(&b, 0x30, cases[i].len);
		assert_false(b.oom);
		assert_int_equal(b.len, cases[i].n);
		assert_memory_equal(b.p, cases[i].want, cases[i].n);
		free(b.p);
	}
}

static void
test_serial_from_hex(void **state)
{
	static const struct {
		const char *hex;
		bool ok;
		unsigned char want[4];
		size_t n;
	} cases[] = {
		{ "01", true, { 0x01 }, 1 },
		{ "7f", true, { 0x7f }, 1 },
		{ "80", true, { 0x00, 0x80 }, 2 },
		{ "abc", true, { 0x0a, 0xbc }, 2 },
		{ "c49d", true, { 0x00, 0xc4, 0x9d }, 3 },
		{ "", false, { 0 }, 0 },
		{ "zz", false, { 0 }, 0 },
		{ "0123456789012345678901234567890123456789a", false, { 0 }, 0 },
	};
	unsigned char out[24];
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		bool ok = cm__serial_from_hex(out, &n, cases[i].hex);
		assert_int_equal(ok, cases[i].ok);
		if (ok) {
			assert_int_equal(n, cases[i].n);
			assert_memory_equal(out, cases[i].want, n);
		}
	}
}

static void
test_asn1_time(void **state)
{
	static const struct {
		time_t t;
		bool utc;
		const char *want;
	} cases[] = {
		{ 0, true, "700101000000Z" },
		{ 951782400, true, "000229000000Z" },     /* leap day 2000 */
		{ 1700000000, false, "20231114221320Z" },
		{ 2524607999, true, "491231235959Z" },
		{ 2524608000, false, "20500101000000Z" },
		{ 4102444800, false, "21000101000000Z" },
	};
	char buf[20];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_true(cm__asn1_time(buf, sizeof(buf), cases[i].t,
		    cases[i].utc));
		assert_string_equal(buf, cases[i].want);
	}
	/* UTCTime ends with 2049 (RFC 5280 4.1.2.5.1). */
	assert_false(cm__asn1_time(buf, sizeof(buf), 2524608000, true));
	assert_false(cm__time_is_utc(2524608000));
	assert_true(cm__time_is_utc(2524607999));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Looks for extension oid in crl; returns criticality, -1 if absent. */
static int
crl_ext(gnutls_x509_crl_t crl, const char *oid)
{
	char buf[128];
	size_t len;
	unsigned critical, i;

	for (i = 0;; i++) {
		len = sizeof(buf);
		if (gnutls_x509_crl_get_extension_info(crl, i, buf, &len,
		    &critical) < 0)
			return -1;
		if (strcmp(buf, oid) == 0)
			return (int)critical;
	}
}

#define SCALE 100000

static void
test_crl_scale_and_delta(void **state)
{
	fx *f = *state;
	cm_crl_opts o = CM_CRL_OPTS_INIT;
	cm_crl *crl = NULL;
	gnutls_x509_crl_t g = NULL;
	gnutls_datum_t d;
	unsigned verify = 99, critical;
	unsigned char sn[32], num[16];
	size_t snlen = sizeof(sn), numlen;
	time_t t;
	double t0, el;

	/* GnuTLS's parser (libtasn1 decoding) is itself slow on huge
	 * lists: it checks a 5,000-entry CRL; the 100,000-entry one is
	 * timed and counted here, and checked by OpenSSL in the benchmark. */
	add_rows(f, 0, 5000, true);
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_OK);
	assert_int_equal(crl->entries, 5000);
	assert_int_equal(crl->number, 1);
	assert_int_equal(crl->base, 0);
	d.data = crl->data;
	d.size = (unsigned)crl->len;
	assert_int_equal(gnutls_x509_crl_init(&g), 0);
	assert_int_equal(gnutls_x509_crl_import(g, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crl_verify(g, &f->ca, 1, 0, &verify), 0);
	assert_int_equal(verify, 0);
	assert_int_equal(gnutls_x509_crl_get_crt_count(g), 5000);
	/* Ordered by serial: the first is 0x100000. */
	assert_int_equal(gnutls_x509_crl_get_crt_serial(g, 0, sn, &snlen, &t),
	    0);
	assert_int_equal(snlen, 3);
	assert_memory_equal(sn, "\x10\x00\x00", 3);
	assert_int_equal(t, 1700000000);
	numlen = sizeof(num);
	assert_true(gnutls_x509_crl_get_number(g, num, &numlen, &critical) >=
	    0);
	assert_int_equal(numlen, 1);
	assert_int_equal(num[0], 1);
	assert_int_equal(crl_ext(g, "2.5.29.35"), 0);
	assert_int_equal(crl_ext(g, "2.5.29.27"), -1);
	gnutls_x509_crl_deinit(g);
	g = NULL;
	cm_crl_free(crl);
	crl = NULL;

	add_rows(f, 5000, SCALE - 5000, true);
	t0 = now_s();
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_OK);
	el = now_s() - t0;
	print_message("# %d entries: %.3f s, %zu bytes\n", SCALE, el,
	    crl->len);
	/* Its speed is measured by tests/bench/bench-crl.sh, not asserted
	 * here; a quadratic encoder would still show: the test watchdog
	 * stops a run past 10 minutes. */
	assert_int_equal(crl->entries, SCALE);
	assert_int_equal(crl->number, 2);
	/* 31 to 35 octets an entry, nothing quadratic hidden in the size. */
	assert_true(crl->len > SCALE * 31 && crl->len < SCALE * 45);
	cm_crl_free(crl);
	crl = NULL;

	/* Three more revoked after CRL 1: the delta lists only them. */
	add_rows(f, SCALE, 3, false);
	{
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		assert_int_equal(sqlite3_exec(db, "UPDATE certs SET status = "
		    "'revoked', revoked_at = 1800000000, revocation_reason = 1 "
		    "WHERE status = 'valid' AND serial LIKE '1%'", NULL, NULL,
		    NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	o.delta = true;
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_OK);
	assert_int_equal(crl->entries, 3);
	assert_int_equal(crl->number, 3);
	assert_int_equal(crl->base, 2);
	d.data = crl->data;
	d.size = (unsigned)crl->len;
	assert_int_equal(gnutls_x509_crl_init(&g), 0);
	assert_int_equal(gnutls_x509_crl_import(g, &d, GNUTLS_X509_FMT_DER),
	    0);
	assert_int_equal(gnutls_x509_crl_verify(g, &f->ca, 1, 0, &verify), 0);
	assert_int_equal(verify, 0);
	assert_int_equal(gnutls_x509_crl_get_crt_count(g), 3);
	/* RFC 5280 5.2.4: critical. */
	assert_int_equal(crl_ext(g, "2.5.29.27"), 1);
	gnutls_x509_crl_deinit(g);
	cm_crl_free(crl);
}

static void
test_crl_errors(void **state)
{
	fx *f = *state;
	cm_crl_opts o = CM_CRL_OPTS_INIT;
	cm_crl *crl = NULL;

	o.delta = true;
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "has no complete CRL"));
	o.delta = false;
	o.next_update = 10;
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "next update"));
	o.next_update = 0;
	o.ca = "nope";
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_E_NOTFOUND);
	assert_null(crl);
	o.ca = NULL;
	o.version = 99;
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_E_INVALID);
	/* A file that cannot be written: nothing recorded, the number is
	 * still free. */
	o.version = CM_CRL_OPTS_VERSION;
	o.out = "/nonexistent-certmint-dir/x.crl";
	assert_int_not_equal(cm_crl_generate(&crl, f->st, &o), CM_OK);
	assert_null(crl);
	assert_non_null(strstr(cm_ctx_error(f->ctx),
	    "/nonexistent-certmint-dir/x.crl"));
	/* Version 1 (no out field) is still taken. */
	o.version = 1;
	o.out = NULL;
	assert_int_equal(cm_crl_generate(&crl, f->st, &o), CM_OK);
	assert_int_equal(crl->number, 1);
	cm_crl_free(crl);
	crl = NULL;
	assert_int_equal(cm_ca_set_urls(f->st, NULL, "file:///x", NULL),
	    CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "must start with"));
}

/* A request for cert, built by GnuTLS. */
static void
make_req(gnutls_datum_t *out, gnutls_x509_crt_t issuer, gnutls_x509_crt_t c)
{
	gnutls_ocsp_req_t req;

	assert_int_equal(gnutls_ocsp_req_init(&req), 0);
	assert_int_equal(gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, issuer,
	    c), 0);
	assert_int_equal(gnutls_ocsp_req_export(req, out), 0);
	gnutls_ocsp_req_deinit(req);
}

/* GnuTLS parses and verifies resp; returns the certificate status. */
static int
check_resp(const unsigned char *p, size_t len, gnutls_x509_crt_t issuer,
    int *reason)
{
	gnutls_ocsp_resp_t resp;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)p, (unsigned)len };
	unsigned verify = 99, status = 99, r = 99;
	time_t tu, nu, rt;

	assert_int_equal(gnutls_ocsp_resp_init(&resp), 0);
	assert_int_equal(gnutls_ocsp_resp_import(resp, &d), 0);
	assert_int_equal(gnutls_ocsp_resp_get_status(resp),
	    GNUTLS_OCSP_RESP_SUCCESSFUL);
	assert_int_equal(gnutls_ocsp_resp_verify_direct(resp, issuer, &verify,
	    0), 0);
	assert_int_equal(verify, 0);
	assert_int_equal(gnutls_ocsp_resp_get_single(resp, 0, NULL, NULL,
	    NULL, NULL, &status, &tu, &nu, &rt, &r), 0);
	assert_true(nu > tu);
	gnutls_ocsp_resp_deinit(resp);
	*reason = (int)r;
	return (int)status;
}

/* Issues a server certificate for name; [out] its record and its GnuTLS
 * form. */
static void
issue_leaf(fx *f, const char *name, cm_cert_info **c, gnutls_x509_crt_t *crt)
{
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	gnutls_datum_t pem;

	io.names = &name;
	io.nnames = 1;
	assert_int_equal(cm_issue(c, f->st, &io), CM_OK);
	pem.data = (unsigned char *)(*c)->pem;
	pem.size = (unsigned)strlen((*c)->pem);
	assert_int_equal(gnutls_x509_crt_init(crt), 0);
	assert_int_equal(gnutls_x509_crt_import(*crt, &pem,
	    GNUTLS_X509_FMT_PEM), 0);
}

static void
test_ocsp(void **state)
{
	fx *f = *state;
	cm_cert_info *c = NULL;
	cm_ocsp_responder *r = NULL;
	gnutls_x509_crt_t leaf = NULL;
	gnutls_datum_t req = { NULL, 0 };
	const char *name = "leaf.test";
	unsigned char *out = NULL, *bad;
	size_t len = 0, i;
	int reason;
	static const unsigned char malformed[] = { 0x30, 3, 0x0a, 1, 1 };
	static const struct {
		const char *what;
		const char *data;
		size_t len;
	} garbage[] = {
		{ "empty", "", 0 },
		{ "empty sequence", "\x30\x00", 2 },
		{ "text", "GET / HTTP/1.1", 14 },
		{ "huge length", "\x30\x84\xff\xff\xff\xff", 6 },
		{ "not a request", "\x02\x01\x01", 3 },
	};

	issue_leaf(f, name, &c, &leaf);
	assert_int_equal(cm_ocsp_responder_new(&r, f->st, NULL), CM_OK);

	for (i = 0; i < NELEM(garbage); i++) {
		assert_int_equal(cm_ocsp_respond(&out, &len, r,
		    (const unsigned char *)garbage[i].data, garbage[i].len),
		    CM_OK);
		assert_int_equal(len, sizeof(malformed));
		assert_memory_equal(out, malformed, len);
		free(out);
	}

	make_req(&req, f->ca, leaf);
	assert_int_equal(cm_ocsp_respond(&out, &len, r, req.data, req.size),
	    CM_OK);
	assert_int_equal(check_resp(out, len, f->ca, &reason),
	    GNUTLS_OCSP_CERT_GOOD);
	free(out);
	/* Every truncation of a good request is malformed, never a crash. */
	for (i = 0; i < req.size; i++) {
		assert_int_equal(cm_ocsp_respond(&out, &len, r, req.data, i),
		    CM_OK);
		assert_memory_equal(out, malformed, sizeof(malformed));
		free(out);
	}
	/* A foreign issuer: the leaf as issuer of itself. */
	gnutls_free(req.data);
	make_req(&req, leaf, leaf);
	assert_int_equal(cm_ocsp_respond(&out, &len, r, req.data, req.size),
	    CM_OK);
	assert_int_equal(len, 5);
	assert_int_equal(out[4], 6);   /* unauthorized */
	free(out);
	gnutls_free(req.data);

	/* Revoked through the store: the kept response is replaced. */
	assert_int_equal(cm_cert_revoke(NULL, f->st, c->serial,
	    CM_REASON_KEY_COMPROMISE, 0), CM_OK);
	make_req(&req, f->ca, leaf);
	assert_int_equal(cm_ocsp_respond(&out, &len, r, req.data, req.size),
	    CM_OK);
	assert_int_equal(check_resp(out, len, f->ca, &reason),
	    GNUTLS_OCSP_CERT_REVOKED);
	assert_int_equal(reason, GNUTLS_X509_CRLREASON_KEYCOMPROMISE);
	free(out);
	/* A flipped bit anywhere: an answer, never a crash. */
	bad = malloc(req.size);
	assert_non_null(bad);
	for (i = 0; i < req.size * 8; i++) {
		memcpy(bad, req.data, req.size);
		bad[i / 8] ^= (unsigned char)(1u << (i % 8));
		assert_int_equal(cm_ocsp_respond(&out, &len, r, bad, req.size),
		    CM_OK);
		assert_true(len >= 5 && out[0] == 0x30);
		free(out);
	}
	free(bad);
	gnutls_free(req.data);

	assert_int_equal(cm_ocsp_response_for(&out, &len, r, "leaf.test"),
	    CM_OK);
	assert_int_equal(check_resp(out, len, f->ca, &reason),
	    GNUTLS_OCSP_CERT_REVOKED);
	free(out);
	assert_int_equal(cm_ocsp_response_for(&out, &len, r, "nope.test"),
	    CM_E_NOTFOUND);

	cm_ocsp_responder_free(r);
	gnutls_x509_crt_deinit(leaf);
	cm_cert_info_free(c);
}

/* An OCSPRequest around one CertID: SHA-1 with params (plen octets, may
 * be 0) and the serial's content octets as given. */
static size_t
build_req(unsigned char *out, const unsigned char *params, size_t plen,
    const gnutls_datum_t *nh, const gnutls_datum_t *kh,
    const unsigned char *sn, size_t snlen)
{
	unsigned char cid[256], alg[32];
	size_t a = 0, c = 0, n = 0;

	memcpy(alg, "\x06\x05\x2b\x0e\x03\x02\x1a", 7);
	a = 7;
	memcpy(alg + a, params, plen);
	a += plen;
	cid[c++] = 0x30;
	cid[c++] = (unsigned char)(2 + a + 2 + nh->size + 2 + kh->size + 2 +
	    snlen);
	cid[c++] = 0x30;
	cid[c++] = (unsigned char)a;
	memcpy(cid + c, alg, a);
	c += a;
	cid[c++] = 0x04;
	cid[c++] = (unsigned char)nh->size;
	memcpy(cid + c, nh->data, nh->size);
	c += nh->size;
	cid[c++] = 0x04;
	cid[c++] = (unsigned char)kh->size;
	memcpy(cid + c, kh->data, kh->size);
	c += kh->size;
	cid[c++] = 0x02;
	cid[c++] = (unsigned char)snlen;
	memcpy(cid + c, sn, snlen);
	c += snlen;
	/* OCSPRequest { TBSRequest { requestList { Request { CertID } } } } */
	out[n++] = 0x30;
	out[n++] = (unsigned char)(c + 6);
	out[n++] = 0x30;
	out[n++] = (unsigned char)(c + 4);
	out[n++] = 0x30;
	out[n++] = (unsigned char)(c + 2);
	out[n++] = 0x30;
	out[n++] = (unsigned char)c;
	memcpy(out + n, cid, c);
	return n + c;
}

/*
 * A CertID that is not DER is malformedRequest, never copied into a signed
 * response that OpenSSL refuses: a padded serial, NULL with content, other
 * parameters.
 */
static void
test_ocsp_certid_der(void **state)
{
	fx *f = *state;
	cm_cert_info *c = NULL;
	cm_ocsp_responder *r = NULL;
	gnutls_x509_crt_t leaf = NULL;
	gnutls_ocsp_req_t q;
	gnutls_datum_t req, nh, kh, sn;
	gnutls_digest_algorithm_t dig;
	const char *name = "der.test";
	unsigned char buf[512], padded[40], *out = NULL;
	size_t len, n;
	int reason;
	static const struct {
		const char *what;
		const char *params;
		size_t plen;
		bool pad;
		int status;         /* 0: successful, 1: malformedRequest */
	} t[] = {
		{ "NULL parameters", "\x05\x00", 2, false, 0 },
		{ "no parameters", "", 0, false, 0 },
		{ "a padded serial", "\x05\x00", 2, true, 1 },
		{ "NULL with content", "\x05\x01\x00", 3, false, 1 },
		{ "other parameters", "\x30\x03\xff\xff\xff", 5, false, 1 },
	};

	issue_leaf(f, name, &c, &leaf);
	assert_int_equal(gnutls_ocsp_req_init(&q), 0);
	assert_int_equal(gnutls_ocsp_req_add_cert(q, GNUTLS_DIG_SHA1, f->ca,
	    leaf), 0);
	assert_int_equal(gnutls_ocsp_req_export(q, &req), 0);
	assert_int_equal(gnutls_ocsp_req_get_cert_id(q, 0, &dig, &nh, &kh,
	    &sn), 0);
	assert_true(sn.size + 1 <= sizeof(padded) && !(sn.data[0] & 0x80));
	padded[0] = 0;
	memcpy(padded + 1, sn.data, sn.size);
	assert_int_equal(cm_ocsp_responder_new(&r, f->st, NULL), CM_OK);
	for (n = 0; n < NELEM(t); n++) {
		len = build_req(buf, (const unsigned char *)t[n].params,
		    t[n].plen, &nh, &kh, t[n].pad ? padded : sn.data,
		    t[n].pad ? sn.size + 1 : sn.size);
		assert_int_equal(cm_ocsp_respond(&out, &len, r, buf, len),
		    CM_OK);
		if (t[n].status == 1) {
			print_message("# %s: malformed\n", t[n].what);
			assert_int_equal(len, 5);
			assert_int_equal(out[4], 1);
		} else {
			assert_int_equal(check_resp(out, len, f->ca, &reason),
			    GNUTLS_OCSP_CERT_GOOD);
		}
		free(out);
	}
	gnutls_free(nh.data);
	gnutls_free(kh.data);
	gnutls_free(sn.data);
	gnutls_free(req.data);
	gnutls_ocsp_req_deinit(q);
	cm_ocsp_responder_free(r);
	gnutls_x509_crt_deinit(leaf);
	cm_cert_info_free(c);
}

/* xorshift64: the same mutations on every run. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The responder's fast request reader is held to the full libtasn1
 * decoder: on requests made by GnuTLS and on 30,000 mutations of them,
 * whatever the fast path answers, the full decoder answers alike.
 */
static void
test_ocsp_fast_path(void **state)
{
	fx *f = *state;
	cm_cert_info *c[2] = { NULL, NULL };
	cm_ocsp_responder *r = NULL;
	gnutls_x509_crt_t leaf[2] = { NULL, NULL };
	gnutls_ocsp_req_t q;
	gnutls_datum_t req[5];
	unsigned char *bad;
	size_t i, k, blen;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned fast = 0;

	issue_leaf(f, "a.test", &c[0], &leaf[0]);
	issue_leaf(f, "b.test", &c[1], &leaf[1]);
	assert_int_equal(cm_ocsp_responder_new(&r, f->st, NULL), CM_OK);
	/* SHA-1 alone; SHA-256 with a nonce; two certificates with a nonce;
	 * a foreign issuer; SHA-512. */
	for (k = 0; k < 5; k++) {
		assert_int_equal(gnutls_ocsp_req_init(&q), 0);
		assert_int_equal(gnutls_ocsp_req_add_cert(q, k == 1 ?
		    GNUTLS_DIG_SHA256 : k == 4 ? GNUTLS_DIG_SHA512 :
		    GNUTLS_DIG_SHA1, k == 3 ? leaf[0] : f->ca, leaf[0]), 0);
		if (k == 2)
			assert_int_equal(gnutls_ocsp_req_add_cert(q,
			    GNUTLS_DIG_SHA1, f->ca, leaf[1]), 0);
		if (k == 1 || k == 2)
			assert_int_equal(gnutls_ocsp_req_randomize_nonce(q), 0);
		assert_int_equal(gnutls_ocsp_req_export(q, &req[k]), 0);
		gnutls_ocsp_req_deinit(q);
		assert_int_equal(cm__ocsp_parse_compare(r, req[k].data,
		    req[k].size), 1);
	}
	bad = malloc(512);
	assert_non_null(bad);
	for (i = 0; i < 30000; i++) {
		const gnutls_datum_t *b = &req[rnd(&x) % 5];
		size_t at = rnd(&x) % b->size;
		int rc;

		assert_true(b->size + 8 <= 512);
		memcpy(bad, b->data, b->size);
		blen = b->size;
		switch (rnd(&x) % 6) {
		case 0:    /* a bit */
			bad[at] ^= (unsigned char)(1u << (rnd(&x) % 8));
			break;
		case 1:    /* a byte */
			bad[at] = (unsigned char)rnd(&x);
			break;
		case 2:    /* cut */
			blen = at;
			break;
		case 3:    /* one more byte */
			memmove(bad + at + 1, bad + at, blen - at);
			bad[at] = (unsigned char)rnd(&x);
			blen++;
			break;
		case 4:    /* one byte less */
			memmove(bad + at, bad + at + 1, blen - at - 1);
			blen--;
			break;
		default:   /* a length byte one off */
			bad[at] = (unsigned char)(bad[at] + (rnd(&x) & 1 ?
			    1 : 0xff));
			break;
		}
		rc = cm__ocsp_parse_compare(r, bad, blen);
		if (rc < 0)
			fail_msg("mutation %zu: the fast path and the full "
			    "decoder disagree", i);
		fast += (unsigned)rc;
	}
	/* Many mutations (serials, hashes, nonces) stay well-formed. */
	assert_true(fast > 1000);
	print_message("# fast path took %u of 30000 mutations\n", fast);
	free(bad);
	for (k = 0; k < 5; k++)
		gnutls_free(req[k].data);
	cm_ocsp_responder_free(r);
	for (i = 0; i < 2; i++) {
		gnutls_x509_crt_deinit(leaf[i]);
		cm_cert_info_free(c[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_der_header),
		cmocka_unit_test(test_serial_from_hex),
		cmocka_unit_test(test_asn1_time),
		cmocka_unit_test_setup_teardown(test_crl_scale_and_delta, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crl_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ocsp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_fast_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_certid_der, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
