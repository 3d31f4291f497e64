/* online.h - private declarations of the online CA (serve.c, jws.c). */
#ifndef CM_ONLINE_H
#define CM_ONLINE_H

#include <jansson.h>

#include "internal.h"

/* base64url without padding (RFC 4648 5); decode is strict. */
bool cm__b64url_decode(unsigned char **out, size_t *len, const char *s,
    size_t slen);
char *cm__b64url_encode(const unsigned char *p, size_t len);

/* A flattened JWS (RFC 7515 7.2.2) of an ACME request. */
typedef struct cm__jws {
	json_t *hdr;              /* the protected header */
	int alg_index;
	const char *nonce, *url, *kid; /* borrowed from hdr */
	json_t *jwk;              /* borrowed from hdr, or NULL */
	unsigned char *sig;
	size_t siglen;
	char *signing_input;      /* protected "." payload, NUL-terminated */
	size_t signing_len;
	const char *payload_b64;  /* inside signing_input */
	size_t payload_b64_len;
	gnutls_pubkey_t key;      /* after cm__jwk_import */
	char thumbprint[64];      /* RFC 7638, base64url */
	char *jwk_text;           /* the key's canonical JSON */
	json_t *payload;          /* after cm__jws_verify; NULL: POST-as-GET */
	bool post_as_get;
	char ptype[32];           /* ACME error type on failure: "badNonce" */
	char detail[160];
} cm__jws;

/* Each returns 0, or -1 with ptype and detail set. */
int cm__jws_open(cm__jws *j, const char *body, size_t len);
/* inner: the inner JWS of a key change (jwk, no nonce, no kid). */
int cm__jws_open2(cm__jws *j, const char *body, size_t len, bool inner);
int cm__jwk_import(cm__jws *j, json_t *jwk);
int cm__jws_verify(cm__jws *j);
void cm__jws_clear(cm__jws *j);

#endif
