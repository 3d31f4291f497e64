/*
 * ceiling.c - the in-process ceiling of certificate issuance on one core:
 * a fresh P-256 key, a server certificate built with the extensions
 * certmint puts in, signed by a P-256 CA, exported as DER, in one loop.
 * No store, no files.  Prints "certs_per_s N".
 *
 * usage: ceiling [SECONDS]
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(x) do { if ((x) < 0) { \
	fprintf(stderr, "ceiling: %s failed\n", #x); exit(1); } } while (0)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0, t0, t;
	gnutls_x509_privkey_t cakey;
	gnutls_privkey_t casigner;
	gnutls_x509_crt_t ca;
	unsigned char id[20], serial[16];
	size_t idlen;
	unsigned long n = 0;
	time_t start = time(NULL);

	CHECK(gnutls_global_init());
	CHECK(gnutls_x509_privkey_init(&cakey));
	CHECK(gnutls_x509_privkey_generate(cakey, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	CHECK(gnutls_privkey_init(&casigner));
	CHECK(gnutls_privkey_import_x509(casigner, cakey, 0));
	CHECK(gnutls_x509_crt_init(&ca));
	CHECK(gnutls_x509_crt_set_version(ca, 3));
	CHECK(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)));
	serial[0] &= 0x7f;
	CHECK(gnutls_x509_crt_set_serial(ca, serial, sizeof(serial)));
	CHECK(gnutls_x509_crt_set_dn(ca, "CN=ceiling CA", NULL));
	CHECK(gnutls_x509_crt_set_key(ca, cakey));
	CHECK(gnutls_x509_crt_set_activation_time(ca, start));
	CHECK(gnutls_x509_crt_set_expiration_time(ca, start + 86400 * 30));
	CHECK(gnutls_x509_crt_set_basic_constraints(ca, 1, -1));
	CHECK(gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN));
	idlen = sizeof(id);
	CHECK(gnutls_x509_crt_get_key_id(ca, 0, id, &idlen));
	CHECK(gnutls_x509_crt_set_subject_key_id(ca, id, idlen));
	CHECK(gnutls_x509_crt_privkey_sign(ca, ca, casigner, GNUTLS_DIG_SHA256,
	    0));

	t0 = now();
	do {
		gnutls_x509_privkey_t key;
		gnutls_x509_crt_t crt;
		gnutls_datum_t der;
		unsigned char lid[20];
		size_t lidlen = sizeof(lid);
		char name[64];

		snprintf(name, sizeof(name), "h%lu.test", n);
		CHECK(gnutls_x509_privkey_init(&key));
		CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
		CHECK(gnutls_x509_crt_init(&crt));
		CHECK(gnutls_x509_crt_set_version(crt, 3));
		CHECK(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)));
		serial[0] &= 0x7f;
		CHECK(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
		CHECK(gnutls_x509_crt_set_activation_time(crt, start));
		CHECK(gnutls_x509_crt_set_expiration_time(crt,
		    start + 86400 * 397));
		CHECK(gnutls_x509_crt_set_key(crt, key));
		CHECK(gnutls_x509_crt_set_dn_by_oid(crt,
		    GNUTLS_OID_X520_COMMON_NAME, 0, name, strlen(name)));
		CHECK(gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, name, strlen(name), GNUTLS_FSAN_SET));
		CHECK(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
		CHECK(gnutls_x509_crt_set_key_usage(crt,
		    GNUTLS_KEY_DIGITAL_SIGNATURE));
		CHECK(gnutls_x509_crt_set_key_purpose_oid(crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0));
		CHECK(gnutls_x509_crt_get_key_id(crt, 0, lid, &lidlen));
		CHECK(gnutls_x509_crt_set_subject_key_id(crt, lid, lidlen));
		CHECK(gnutls_x509_crt_set_authority_key_id(crt, id, idlen));
		CHECK(gnutls_x509_crt_privkey_sign(crt, ca, casigner,
		    GNUTLS_DIG_SHA256, 0));
		CHECK(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der));
		gnutls_free(der.data);
		gnutls_x509_crt_deinit(crt);
		gnutls_x509_privkey_deinit(key);
		n++;
		t = now();
	} while (t - t0 < secs);
	printf("certs_per_s %.0f\n", (double)n / (t - t0));
	gnutls_x509_crt_deinit(ca);
	gnutls_privkey_deinit(casigner);
	gnutls_x509_privkey_deinit(cakey);
	gnutls_global_deinit();
	return 0;
}
