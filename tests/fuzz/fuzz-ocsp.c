/*
 * fuzz-ocsp.c - the OCSP responder's request reader (lib/ocsp.c) on
 * arbitrary input: the one-pass fast path against the libtasn1 decoder
 * (cm__ocsp_parse_compare), then the whole answer (cm_ocsp_respond).
 *
 * The store is made at the first call, in a temporary folder removed at
 * exit.  It holds two CAs: one made by cm_ca_init() with two issued
 * certificates, and one with a fixed key and two imported certificates
 * (one revoked).  The fresh CA's key changes from run to run, so no
 * committed input can name it: requests for it are built with GnuTLS at
 * start and checked like inputs.  The fixed CA is what the corpus names
 * (tests/fuzz/corpus/ocsp/: CertIDs of certificates it issued), so that
 * inputs reach the lookup, the signing and the nonce, not only "not our
 * issuer".  Two CAs also make a request that names both: unauthorized.
 *
 * Promises checked: the fast path never reads a request otherwise than
 * the full decoder (never accepts what it refuses); the requests clients
 * send (GnuTLS's) take the fast path; every input gets an answer, and
 * cm_ocsp_respond does not fail on it (bad input is not an error): a DER
 * OCSPResponse that GnuTLS reads, successful, malformedRequest or
 * unauthorized, never internalError.
 */
#include "config.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/ocsp.h>

#include "internal.h"
#include "revocation/ocsp.h"
#include "fuzz.h"

/* 2025-06-01: inside every certificate below; pinned so that a run does
 * not depend on the day (validity, kept responses). */
#define FUZZ_NOW 1748736000

/* Made once with Python's cryptography (EC P-256, 2024 to 2049).  The
 * key is a test key and nothing else. */
static const char fixed_ca_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8P7oGGyejWGg3OD0\n"
	"n+byhEDhc0PTJEAWAtge6/HxoiGhRANCAARB5E6rL+BoDhjvLCkxmBsqRRmmL5fi\n"
	"cVcpLVXUPXvoUUA5Cig30kzPdTvIgukqkXh9obeCRady5prEYXuSYHCq\n"
	"-----END PRIVATE KEY-----\n";

/* O=certmint, CN=certmint fuzz CA; serial 0fc1 */
static const char fixed_ca_crt[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBjTCCATSgAwIBAgICD8EwCgYIKoZIzj0EAwIwLjERMA8GA1UECgwIY2VydG1p\n"
	"bnQxGTAXBgNVBAMMEGNlcnRtaW50IGZ1enogQ0EwHhcNMjQwMTAxMDAwMDAwWhcN\n"
	"NDkxMjMxMDAwMDAwWjAuMREwDwYDVQQKDAhjZXJ0bWludDEZMBcGA1UEAwwQY2Vy\n"
	"dG1pbnQgZnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEHkTqsv4GgO\n"
	"GO8sKTGYGypFGaYvl+JxVyktVdQ9e+hRQDkKKDfSTM91O8iC6SqReH2ht4JFp3Lm\n"
	"msRhe5JgcKqjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0G\n"
	"A1UdDgQWBBRXoKd80zmsqnfDw8HT0b5TVWWqgzAKBggqhkjOPQQDAgNHADBEAiAd\n"
	"rekpjWaarDtPWhR/EMjPqfrymLV/I1Ye3h8h9g3GcgIgfihYbhXVdc8BjEL1PvYr\n"
	"QNEEJxB5pCw/GnDfipJv3iY=\n"
	"-----END CERTIFICATE-----\n";

/* CN=a.fuzz.test, serial 1001: good */
static const char fixed_leaf1[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBjzCCATagAwIBAgICEAEwCgYIKoZIzj0EAwIwLjERMA8GA1UECgwIY2VydG1p\n"
	"bnQxGTAXBgNVBAMMEGNlcnRtaW50IGZ1enogQ0EwHhcNMjQwMTAxMDAwMDAwWhcN\n"
	"NDkxMjMxMDAwMDAwWjApMREwDwYDVQQKDAhjZXJ0bWludDEUMBIGA1UEAwwLYS5m\n"
	"dXp6LnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQTERcYhf//7sx5DYrV\n"
	"01O+ZRQ1AK5U1LoIbvsnPWcSf79TI+iClLhOw6s9PRJfnjHiRKpwieJaXjD6Chgo\n"
	"/urKo0kwRzAMBgNVHRMBAf8EAjAAMBYGA1UdEQQPMA2CC2EuZnV6ei50ZXN0MB8G\n"
	"A1UdIwQYMBaAFFegp3zTOayqd8PDwdPRvlNVZaqDMAoGCCqGSM49BAMCA0cAMEQC\n"
	"IAJrD45Id6Gz+f9B3wySzgAMibrO3dKZSshJMCs9ecPmAiBdKT8VB2cCzv1za4l7\n"
	"o94p2kovX9kM2d7Qt0dvEl/StA==\n"
	"-----END CERTIFICATE-----\n";

/* CN=b.fuzz.test, serial 00c0ffee0002 (a leading zero octet): revoked */
static const char fixed_leaf2[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkzCCATqgAwIBAgIGAMD/7gACMAoGCCqGSM49BAMCMC4xETAPBgNVBAoMCGNl\n"
	"cnRtaW50MRkwFwYDVQQDDBBjZXJ0bWludCBmdXp6IENBMB4XDTI0MDEwMTAwMDAw\n"
	"MFoXDTQ5MTIzMTAwMDAwMFowKTERMA8GA1UECgwIY2VydG1pbnQxFDASBgNVBAMM\n"
	"C2IuZnV6ei50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcQfm7xnf6Frk\n"
	"nO3YUesCDQw1l5RSjWNargAWgWQVqKkSsX/MN5OKq7GueVLLDKQ/2BGLrduEjzRo\n"
	"BQEk5lCYkaNJMEcwDAYDVR0TAQH/BAIwADAWBgNVHREEDzANggtiLmZ1enoudGVz\n"
	"dDAfBgNVHSMEGDAWgBRXoKd80zmsqnfDw8HT0b5TVWWqgzAKBggqhkjOPQQDAgNH\n"
	"ADBEAiBrcA+jNeK2qRfB2kZsxsfc6V66EkhVIAv7+DSuux+8UAIgTJjZG8C0kAq6\n"
	"I3C935hweHt79atekJ2IB5f+7IvyyyA=\n"
	"-----END CERTIFICATE-----\n";

static char dir[4096];
static cm_ctx *ctx;
static cm_store *st;
static cm_ocsp_responder *resp;

static void
cleanup(void)
{
	char path[sizeof(dir) + 256];
	struct dirent *e;
	DIR *d;

	cm_ocsp_responder_free(resp);
	cm_store_close(st);
	cm_ctx_free(ctx);
	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	/* Flat: the store, its -wal and -shm, the PEM files written here. */
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
write_file(const char *name, const char *text)
{
	char path[sizeof(dir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(text, 1, strlen(text), f) != strlen(text) ||
	    fclose(f) != 0)
		abort();
}

static void
setup_fail(const char *what)
{
	fprintf(stderr, "fuzz-ocsp: setup: %s: %s\n", what,
	    ctx != NULL ? cm_ctx_error(ctx) : "");
	abort();
}

/* The input's answer.  [out] status: the OCSPResponseStatus. */
static void
check_one(const unsigned char *der, size_t len, int *fast, int *status)
{
	gnutls_ocsp_resp_t gr;
	gnutls_datum_t d;
	unsigned char *out = NULL;
	size_t outlen = 0;
	int rc;

	rc = cm__ocsp_parse_compare(resp, der, len);
	FUZZ_ASSERT(rc != -1);
	*fast = rc;
	rc = cm_ocsp_respond(&out, &outlen, resp, der, len);
	FUZZ_ASSERT(rc == CM_OK);
	FUZZ_ASSERT(out != NULL && outlen >= 2 && out[0] == 0x30);
	/* GnuTLS, not our encoder, says it is an OCSPResponse. */
	if (gnutls_ocsp_resp_init(&gr) < 0)
		abort();
	d.data = out;
	d.size = (unsigned)outlen;
	FUZZ_ASSERT(gnutls_ocsp_resp_import(gr, &d) == 0);
	rc = gnutls_ocsp_resp_get_status(gr);
	FUZZ_ASSERT(rc == GNUTLS_OCSP_RESP_SUCCESSFUL ||
	    rc == GNUTLS_OCSP_RESP_MALFORMEDREQUEST ||
	    rc == GNUTLS_OCSP_RESP_UNAUTHORIZED);
	*status = rc;
	gnutls_ocsp_resp_deinit(gr);
	free(out);
}

static gnutls_x509_crt_t
crt_of(const char *pem)
{
	gnutls_x509_crt_t c;
	gnutls_datum_t d;

	d.data = (unsigned char *)pem;
	d.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_init(&c) < 0 ||
	    gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0)
		setup_fail("GnuTLS cannot read a certificate");
	return c;
}

/*
 * Requests as GnuTLS clients make them, for CA ca and its certificates
 * a and b: SHA-1 alone, SHA-256 with a nonce, both with a nonce, a
 * foreign issuer (a as issuer), SHA-512.  Each must take the fast path.
 */
static void
check_built(gnutls_x509_crt_t ca, gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
	gnutls_ocsp_req_t q;
	gnutls_datum_t d;
	int k, fast, status;

	for (k = 0; k < 5; k++) {
		if (gnutls_ocsp_req_init(&q) < 0 ||
		    gnutls_ocsp_req_add_cert(q, k == 1 ? GNUTLS_DIG_SHA256 :
		    k == 4 ? GNUTLS_DIG_SHA512 : GNUTLS_DIG_SHA1,
		    k == 3 ? a : ca, a) < 0 ||
		    (k == 2 && gnutls_ocsp_req_add_cert(q, GNUTLS_DIG_SHA1,
		    ca, b) < 0) ||
		    ((k == 1 || k == 2) &&
		    gnutls_ocsp_req_randomize_nonce(q) < 0) ||
		    gnutls_ocsp_req_export(q, &d) < 0)
			setup_fail("GnuTLS cannot make a request");
		gnutls_ocsp_req_deinit(q);
		check_one(d.data, d.size, &fast, &status);
		FUZZ_ASSERT(fast == 1);
		FUZZ_ASSERT(status == (k == 3 ? GNUTLS_OCSP_RESP_UNAUTHORIZED :
		    GNUTLS_OCSP_RESP_SUCCESSFUL));
		gnutls_free(d.data);
	}
}

static void
setup(void)
{
	cm_ca_init_opts co = CM_CA_INIT_OPTS_INIT;
	cm_ca_import_opts io = CM_CA_IMPORT_OPTS_INIT;
	cm_issue_opts is = CM_ISSUE_OPTS_INIT;
	cm_ca_info *ca = NULL;
	cm_cert_info *c[2] = { NULL, NULL }, **imp = NULL;
	gnutls_x509_crt_t gca, ga, gb;
	const char *tmp = getenv("TMPDIR"), *na[] = { "a.fresh.test" },
	    *nb[] = { "b.fresh.test" };
	char path[sizeof(dir) + 32], pa[sizeof(dir) + 32],
	    pb[sizeof(dir) + 32];
	const char *paths[2] = { pa, pb };
	size_t nimp = 0;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz-ocsp.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		setup_fail("mkdtemp");
	}
	/* Registered first: whatever fails below still leaves no folder. */
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if (cm_ctx_new(&ctx) != CM_OK)
		setup_fail("context");
	cm_ctx_set_time(ctx, FUZZ_NOW);
	if (cm_store_open(&st, ctx, path, CM_STORE_CREATE) != CM_OK)
		setup_fail("store");

	/* The fresh CA and two certificates it issues. */
	co.name = "fuzz fresh CA";
	if (cm_ca_init(&ca, st, &co) != CM_OK)
		setup_fail("cm_ca_init");
	is.ca = co.name;
	is.names = na;
	is.nnames = 1;
	if (cm_issue(&c[0], st, &is) != CM_OK)
		setup_fail("cm_issue");
	is.names = nb;
	if (cm_issue(&c[1], st, &is) != CM_OK)
		setup_fail("cm_issue");

	/* The fixed CA and its two certificates, the second revoked. */
	write_file("ca.key", fixed_ca_key);
	write_file("ca.crt", fixed_ca_crt);
	write_file("a.crt", fixed_leaf1);
	write_file("b.crt", fixed_leaf2);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	snprintf(pa, sizeof(pa), "%s/ca.key", dir);
	io.cert_path = path;
	io.key_path = pa;
	if (cm_ca_import(NULL, st, &io) != CM_OK)
		setup_fail("cm_ca_import");
	snprintf(pa, sizeof(pa), "%s/a.crt", dir);
	snprintf(pb, sizeof(pb), "%s/b.crt", dir);
	if (cm_cert_import(&imp, &nimp, st, "certmint fuzz CA", paths, 2) !=
	    CM_OK || nimp != 2)
		setup_fail("cm_cert_import");
	if (cm_cert_revoke(NULL, st, "c0ffee0002", CM_REASON_KEY_COMPROMISE,
	    0) != CM_OK)
		setup_fail("cm_cert_revoke");
	cm_cert_info_list_free(imp, nimp);

	if (cm_ocsp_responder_new(&resp, st, NULL) != CM_OK)
		setup_fail("cm_ocsp_responder_new");

	gca = crt_of(ca->pem);
	ga = crt_of(c[0]->pem);
	gb = crt_of(c[1]->pem);
	check_built(gca, ga, gb);
	gnutls_x509_crt_deinit(gca);
	gnutls_x509_crt_deinit(ga);
	gnutls_x509_crt_deinit(gb);
	gca = crt_of(fixed_ca_crt);
	ga = crt_of(fixed_leaf1);
	gb = crt_of(fixed_leaf2);
	check_built(gca, ga, gb);
	gnutls_x509_crt_deinit(gca);
	gnutls_x509_crt_deinit(ga);
	gnutls_x509_crt_deinit(gb);
	cm_ca_info_free(ca);
	cm_cert_info_free(c[0]);
	cm_cert_info_free(c[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fast, status;

	if (resp == NULL)
		setup();
	check_one(data, size, &fast, &status);
	return 0;
}
