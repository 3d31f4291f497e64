/*
 * jws.c - JSON Web Signatures as ACME uses them (RFC 8555 6.2, RFC 7515
 * flattened JSON serialization, RFC 7517 keys, RFC 7638 thumbprints).
 *
 * Everything is checked before the payload is looked at: the body is a
 * JSON object with exactly protected, payload and signature; the
 * protected header names an algorithm from the allow-list (ES256, ES384,
 * RS256 with a key of 2048 bits or more, EdDSA with Ed25519), a nonce, the
 * request URL, and exactly one of kid and jwk.  The caller checks the
 * nonce and URL against its state, finds the key (jwk, or the account of
 * kid), and only then has the signature verified and the payload parsed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "online.h"

/* ---- base64url (RFC 4648 5), no padding ------------------------------ */

static int
b64v(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool
cm__b64url_decode(unsigned char **out, size_t *len, const char *s,
    size_t slen)
{
	unsigned char *p;
	size_t i, n = 0;
	unsigned acc = 0;
	int bits = 0, v;

	if (slen % 4 == 1)
		return false;
	if ((p = malloc(slen * 3 / 4 + 1)) == NULL)
		return false;
	for (i = 0; i < slen; i++) {
		if ((v = b64v((unsigned char)s[i])) < 0) {
			free(p);
			return false;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (a canonical encoding). */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		free(p);
		return false;
	}
	*out = p;
	*len = n;
	return true;
}

char *
cm__b64url_encode(const unsigned char *p, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	char *o = malloc(len * 4 / 3 + 4);
	size_t i, n = 0;
	unsigned acc = 0;
	int bits = 0;

	if (o == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			o[n++] = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		o[n++] = a[(acc << (6 - bits)) & 63];
	o[n] = '\0';
	return o;
}

/* ---- the JWS ------------------------------------------------------------ */

void
cm__jws_clear(cm__jws *j)
{
	json_decref(j->hdr);
	json_decref(j->payload);
	free(j->signing_input);
	free(j->sig);
	free(j->jwk_text);
	if (j->key)
		gnutls_pubkey_deinit(j->key);
	memset(j, 0, sizeof(*j));
}

static int
fail(cm__jws *j, const char *type, const char *detail)
{
	snprintf(j->ptype, sizeof(j->ptype), "%s", type);
	snprintf(j->detail, sizeof(j->detail), "%s", detail);
	return -1;
}

static const struct {
	const char *alg;
	gnutls_sign_algorithm_t sign;
	gnutls_pk_algorithm_t pk;
	gnutls_ecc_curve_t curve;
} algs[] = {
	{ "ES256", GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_PK_ECDSA,
	    GNUTLS_ECC_CURVE_SECP256R1 },
	{ "ES384", GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_PK_ECDSA,
	    GNUTLS_ECC_CURVE_SECP384R1 },
	{ "RS256", GNUTLS_SIGN_RSA_SHA256, GNUTLS_PK_RSA,
	    GNUTLS_ECC_CURVE_INVALID },
	{ "EdDSA", GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_PK_EDDSA_ED25519,
	    GNUTLS_ECC_CURVE_ED25519 },
};

int
cm__jws_open(cm__jws *j, const char *body, size_t len)
{
	return cm__jws_open2(j, body, len, false);
}

int
cm__jws_open2(cm__jws *j, const char *body, size_t len, bool inner)
{
	json_t *o = NULL, *p, *pl, *sg, *v;
	json_error_t je;
	unsigned char *raw = NULL;
	size_t rlen = 0, i, plen, pllen;
	const char *ps, *pls, *sgs;
	int rc = -1;

	memset(j, 0, sizeof(*j));
	j->alg_index = -1;
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(o)) {
		/* JSON that is no object ("[]") is freed too: found by
		 * fuzz-jws (a leak per request). */
		json_decref(o);
		return fail(j, "malformed", "the body is not a JSON object");
	}
	p = json_object_get(o, "protected");
	pl = json_object_get(o, "payload");
	sg = json_object_get(o, "signature");
	if (!json_is_string(p) || !json_is_string(pl) || !json_is_string(sg) ||
	    json_object_size(o) != 3) {
		fail(j, "malformed", "a flattened JWS has exactly protected, "
		    "payload and signature, all strings");
		goto out;
	}
	ps = json_string_value(p);
	plen = json_string_length(p);
	pls = json_string_value(pl);
	pllen = json_string_length(pl);
	sgs = json_string_value(sg);
	if (!cm__b64url_decode(&raw, &rlen, ps, plen) ||
	    (j->hdr = json_loadb((const char *)raw, rlen,
	    JSON_REJECT_DUPLICATES, &je)) == NULL || !json_is_object(j->hdr)) {
		fail(j, "malformed", "the protected header is not base64url "
		    "JSON");
		goto out;
	}
	free(raw);
	raw = NULL;
	v = json_object_get(j->hdr, "alg");
	if (!json_is_string(v)) {
		fail(j, "badSignatureAlgorithm", "no alg in the protected "
		    "header");
		goto out;
	}
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(json_string_value(v), algs[i].alg) == 0)
			j->alg_index = (int)i;
	if (j->alg_index < 0) {
		fail(j, "badSignatureAlgorithm", "alg must be ES256, ES384, "
		    "RS256 or EdDSA");
		goto out;
	}
	j->nonce = json_string_value(json_object_get(j->hdr, "nonce"));
	j->url = json_string_value(json_object_get(j->hdr, "url"));
	j->kid = json_string_value(json_object_get(j->hdr, "kid"));
	j->jwk = json_object_get(j->hdr, "jwk");
	if (inner && (j->nonce != NULL || json_object_get(j->hdr, "kid") ||
	    j->jwk == NULL)) {
		/* RFC 8555 7.3.5: the inner JWS of a key change. */
		fail(j, "malformed", "the inner JWS has a jwk, no kid and no "
		    "nonce");
		goto out;
	}
	if (!inner && j->nonce == NULL) {
		fail(j, "badNonce", "no nonce in the protected header");
		goto out;
	}
	if (j->url == NULL) {
		fail(j, "malformed", "no url in the protected header");
		goto out;
	}
	if ((j->kid != NULL) == (j->jwk != NULL) ||
	    (json_object_get(j->hdr, "kid") && j->kid == NULL)) {
		fail(j, "malformed", "the protected header must have exactly "
		    "one of kid and jwk");
		goto out;
	}
	if (j->jwk != NULL && !json_is_object(j->jwk)) {
		fail(j, "malformed", "jwk is not an object");
		goto out;
	}
	if (!cm__b64url_decode(&j->sig, &j->siglen, sgs,
	    json_string_length(sg))) {
		fail(j, "malformed", "the signature is not base64url");
		goto out;
	}
	/* What was signed: protected "." payload, as sent. */
	if ((j->signing_input = malloc(plen + pllen + 2)) == NULL) {
		fail(j, "serverInternal", "out of memory");
		goto out;
	}
	memcpy(j->signing_input, ps, plen);
	j->signing_input[plen] = '.';
	memcpy(j->signing_input + plen + 1, pls, pllen);
	j->signing_len = plen + 1 + pllen;
	j->signing_input[j->signing_len] = '\0';
	j->payload_b64 = j->signing_input + plen + 1;
	j->payload_b64_len = pllen;
	rc = 0;
out:
	free(raw);
	json_decref(o);
	return rc;
}

/* A base64url member of a JWK, decoded. */
static bool
member(gnutls_datum_t *d, json_t *jwk, const char *name)
{
	json_t *v = json_object_get(jwk, name);
	unsigned char *p = NULL;
	size_t n = 0;

	if (!json_is_string(v) || !cm__b64url_decode(&p, &n,
	    json_string_value(v), json_string_length(v)) || n == 0) {
		free(p);
		return false;
	}
	d->data = p;
	d->size = (unsigned)n;
	return true;
}

int
cm__jwk_import(cm__jws *j, json_t *jwk)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	unsigned char digest[32];
	json_t *canon = NULL;
	char *text = NULL, *tp = NULL;
	int rc = -1, ret = -1, want = algs[j->alg_index].pk;
	unsigned bits = 0;

	if (kty == NULL || gnutls_pubkey_init(&j->key) < 0)
		return fail(j, "badPublicKey", "the key has no kty");
	if (strcmp(kty, "EC") == 0 && crv != NULL && want == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t c = strcmp(crv, "P-256") == 0 ?
		    GNUTLS_ECC_CURVE_SECP256R1 : strcmp(crv, "P-384") == 0 ?
		    GNUTLS_ECC_CURVE_SECP384R1 : GNUTLS_ECC_CURVE_INVALID;
		if (c != algs[j->alg_index].curve || !member(&x, jwk, "x") ||
		    !member(&y, jwk, "y")) {
			fail(j, "badPublicKey", "an EC key must be P-256 for "
			    "ES256 or P-384 for ES384, with x and y");
			goto out;
		}
		ret = gnutls_pubkey_import_ecc_raw(j->key, c, &x, &y);
		canon = json_pack("{s:s,s:s,s:O,s:O}", "crv", crv, "kty", "EC",
		    "x", json_object_get(jwk, "x"), "y",
		    json_object_get(jwk, "y"));
	} else if (strcmp(kty, "RSA") == 0 && want == GNUTLS_PK_RSA) {
		if (!member(&x, jwk, "n") || !member(&y, jwk, "e")) {
			fail(j, "badPublicKey", "an RSA key needs n and e");
			goto out;
		}
		ret = gnutls_pubkey_import_rsa_raw(j->key, &x, &y);
		canon = json_pack("{s:O,s:s,s:O}", "e", json_object_get(jwk,
		    "e"), "kty", "RSA", "n", json_object_get(jwk, "n"));
	} else if (strcmp(kty, "OKP") == 0 && crv != NULL &&
	    strcmp(crv, "Ed25519") == 0 && want == GNUTLS_PK_EDDSA_ED25519) {
		if (!member(&x, jwk, "x")) {
			fail(j, "badPublicKey", "an Ed25519 key needs x");
			goto out;
		}
		ret = gnutls_pubkey_import_ecc_raw(j->key,
		    GNUTLS_ECC_CURVE_ED25519, &x, NULL);
		canon = json_pack("{s:s,s:s,s:O}", "crv", crv, "kty", "OKP",
		    "x", json_object_get(jwk, "x"));
	} else {
		fail(j, "badPublicKey", "the key does not match alg (ES256: "
		    "EC P-256, ES384: EC P-384, RS256: RSA, EdDSA: OKP "
		    "Ed25519)");
		goto out;
	}
	if (ret < 0 || canon == NULL) {
		fail(j, "badPublicKey", "the key does not import");
		goto out;
	}
	if (want == GNUTLS_PK_RSA) {
		gnutls_pubkey_get_pk_algorithm(j->key, &bits);
		if (bits < 2048) {
			fail(j, "badPublicKey", "an RSA key must have 2048 "
			    "bits or more");
			goto out;
		}
	}
	/* RFC 7638: the required members, sorted, no white space. */
	if ((text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text),
	    digest) < 0 || (tp = cm__b64url_encode(digest, 32)) == NULL) {
		fail(j, "serverInternal", "thumbprint");
		goto out;
	}
	snprintf(j->thumbprint, sizeof(j->thumbprint), "%s", tp);
	if ((j->jwk_text = json_dumps(canon, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		fail(j, "serverInternal", "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(x.data);
	free(y.data);
	free(text);
	free(tp);
	json_decref(canon);
	return rc;
}

int
cm__jws_verify(cm__jws *j)
{
	const gnutls_datum_t data = { (unsigned char *)j->signing_input,
		(unsigned)j->signing_len };
	gnutls_datum_t sig = { j->sig, (unsigned)j->siglen };
	gnutls_datum_t der = { NULL, 0 }, r, s;
	size_t half;
	json_error_t je;
	unsigned char *raw = NULL;
	size_t rlen = 0;
	int ret;

	if (algs[j->alg_index].pk == GNUTLS_PK_ECDSA) {
		/* JWS: r || s, each the curve's size (RFC 7518 3.4). */
		half = algs[j->alg_index].curve == GNUTLS_ECC_CURVE_SECP256R1 ?
		    32 : 48;
		if (j->siglen != 2 * half)
			return fail(j, "malformed", "an ECDSA signature is r "
			    "and s, each the curve's size");
		r.data = j->sig;
		r.size = (unsigned)half;
		s.data = j->sig + half;
		s.size = (unsigned)half;
		if (gnutls_encode_rs_value(&der, &r, &s) < 0)
			return fail(j, "malformed", "the signature");
		sig = der;
	}
	ret = gnutls_pubkey_verify_data2(j->key, algs[j->alg_index].sign, 0,
	    &data, &sig);
	gnutls_free(der.data);
	if (ret < 0)
		return fail(j, "malformed", "the signature does not verify");
	/* Only now the payload: "" is POST-as-GET (6.3). */
	if (j->payload_b64_len == 0) {
		j->post_as_get = true;
		return 0;
	}
	if (!cm__b64url_decode(&raw, &rlen, j->payload_b64,
	    j->payload_b64_len) || (j->payload = json_loadb((const char *)raw,
	    rlen, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(j->payload)) {
		free(raw);
		return fail(j, "malformed", "the payload is not base64url JSON "
		    "object");
	}
	free(raw);
	return 0;
}
