/* ocsp.h - the responder object, shared by ocsp.c and ocsp_http.c. */
#ifndef CM_OCSP_H
#define CM_OCSP_H

#include "internal.h"

#define CM__OCSP_NHASH 4            /* SHA-1, SHA-256, SHA-384, SHA-512 */

typedef struct cm__ocsp_ca {
	cm__signer *s;
	/* RFC 6960 4.1.1 CertID hashes of this CA, per hash algorithm */
	unsigned char name_hash[CM__OCSP_NHASH][64];
	unsigned char key_hash[CM__OCSP_NHASH][64];
	size_t hlen[CM__OCSP_NHASH];
	/* who signs its responses: the CA, or the delegated signer */
	gnutls_privkey_t key;
	cm_key_type kt;
	unsigned char rid[20];          /* SHA-1 of the signer's key */
	gnutls_datum_t rname;           /* ResponderID byName: the signer's
	                                   subject DER (gnutls_malloc'd) */
	bool delegated;
	gnutls_datum_t rid_name;        /* delegated: r->dname, not owned */
} cm__ocsp_ca;

struct entry;

struct cm_ocsp_responder {
	cm_store *st;
	cm_ctx *ctx;
	cm__ocsp_ca *cas;
	size_t ncas;
	unsigned validity;
	size_t presign;
	/* delegated signer (RFC 6960 4.2.2.2), or NULL */
	gnutls_x509_crt_t dcrt;
	gnutls_x509_privkey_t dxkey;
	gnutls_privkey_t dkey;
	cm_key_type dkt;
	gnutls_datum_t dcert;           /* DER, malloc'd */
	gnutls_datum_t dcert_gt;        /* scratch, gnutls_malloc'd */
	unsigned char drid[20];
	gnutls_datum_t dname;           /* the delegated signer's subject */
	/* kept responses, by CertID DER */
	struct entry **buckets;
	size_t nbuckets, nents;
	unsigned char *scratch;         /* last response not kept */
	int64_t data_version;
	bool version_seen;              /* data_version was read once */
	int64_t gen;
	/* counters */
	unsigned long long requests, malformed, unauthorized, signatures;
};

/* Signs the responses of the newest certificates of each CA (up to
 * presign each).  [out] count: how many (may be NULL). */
cm_err cm__ocsp_presign(cm_ocsp_responder *r, size_t *count);

/*
 * For the unit tests: reads der with the fast path and the full decoder.
 * 1: the fast path took it and both agree; 0: the fast path left it to the
 * full decoder; -1: they disagree (a bug).
 */
int cm__ocsp_parse_compare(cm_ocsp_responder *r, const unsigned char *der,
    size_t len);

#endif
