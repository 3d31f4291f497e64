/*
 * fuzz-jws.c - the ACME request path of certmint serve before anything
 * is stored: cm__jws_open() on an arbitrary body, cm__jwk_import() on its
 * key, cm__jws_verify(), and base64url both ways.
 *
 * Promises checked: a refused body names an ACME error type and says why
 * in one line; an accepted one has an allowed algorithm, a nonce, a url
 * and exactly one of kid and jwk, and what was signed is protected "."
 * payload; an imported key has a base64url SHA-256 thumbprint (43
 * characters) and canonical JSON; no payload is parsed unless the
 * signature verified; base64url decodes what it encodes, and refuses
 * characters outside its alphabet.
 */
#include "config.h"

#include <string.h>

#include "online/online.h"
#include "fuzz.h"

static void
refused(const cm__jws *j)
{
	FUZZ_ASSERT(j->ptype[0] != '\0');
	FUZZ_ASSERT(j->detail[0] != '\0');
	FUZZ_ASSERT(strchr(j->detail, '\n') == NULL);
}

static void
b64(const uint8_t *data, size_t size)
{
	unsigned char *back = NULL, *p = NULL;
	size_t n = 0, m = 0, i;
	char *e;

	if ((e = cm__b64url_encode(data, size)) == NULL)
		return;
	for (i = 0; e[i]; i++)
		FUZZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", e[i]) != NULL);
	FUZZ_ASSERT(cm__b64url_decode(&back, &n, e, strlen(e)));
	FUZZ_ASSERT(n == size && (size == 0 || memcmp(back, data, size) == 0));
	free(back);
	free(e);
	/* The input as base64url text: decoded only when it is some. */
	if (cm__b64url_decode(&p, &m, (const char *)data, size)) {
		for (i = 0; i < size; i++)
			FUZZ_ASSERT(data[i] != '=' && data[i] != '+' &&
			    data[i] != '/');
		free(p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm__jws j;

	if (size > 65536)
		return 0;
	b64(data, size < 512 ? size : 512);
	if (cm__jws_open(&j, (const char *)data, size) != 0) {
		refused(&j);
		cm__jws_clear(&j);
		return 0;
	}
	FUZZ_ASSERT(j.alg_index >= 0);
	FUZZ_ASSERT(j.nonce != NULL && j.url != NULL);
	FUZZ_ASSERT((j.kid != NULL) != (j.jwk != NULL));
	FUZZ_ASSERT(j.signing_input != NULL &&
	    strlen(j.signing_input) == j.signing_len);
	FUZZ_ASSERT(j.payload_b64 > j.signing_input &&
	    j.payload_b64[-1] == '.');
	FUZZ_ASSERT(j.payload == NULL);
	if (j.jwk != NULL) {
		if (cm__jwk_import(&j, j.jwk) != 0) {
			refused(&j);
			cm__jws_clear(&j);
			return 0;
		}
		FUZZ_ASSERT(strlen(j.thumbprint) == 43);
		FUZZ_ASSERT(j.jwk_text != NULL && j.jwk_text[0] == '{');
		if (cm__jws_verify(&j) != 0) {
			refused(&j);
			FUZZ_ASSERT(j.payload == NULL);
		} else
			FUZZ_ASSERT(j.post_as_get || j.payload != NULL);
	}
	cm__jws_clear(&j);
	return 0;
}
