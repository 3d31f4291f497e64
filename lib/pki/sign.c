/*
 * sign.c - signing certificate requests (PKCS#10, RFC 2986).
 *
 * A request proposes; the profile decides.  From the request certmint
 * takes the public key, the subject CN and the subjectAltName names, typed
 * and checked as if given to 'certmint issue' (a CN that is no name, next
 * to subjectAltNames, is left out).  Requested key usages,
 * basic constraints and any other extension are ignored: copying them
 * would let a request turn itself into a CA.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_CSR (64 * 1024)
#define MAX_CSR_NAMES 1000

cm_err
cm__pubkey_key_type(cm_key_type *out, cm_ctx *ctx, gnutls_pubkey_t pk,
    const char *what)
{
	unsigned bits = 0;
	int alg = gnutls_pubkey_get_pk_algorithm(pk, &bits);

	switch (alg) {
	case GNUTLS_PK_RSA:
		if (bits == 2048 || bits == 3072 || bits == 4096) {
			*out = bits == 2048 ? CM_KEY_RSA_2048 : bits == 3072 ?
			    CM_KEY_RSA_3072 : CM_KEY_RSA_4096;
			return CM_OK;
		}
		return cm__fail(ctx, CM_E_INVALID, "%s: RSA key of %u bits: "
		    "certmint signs RSA keys of 2048, 3072 or 4096 bits", what,
		    bits);
	case GNUTLS_PK_ECDSA: {
		/* By the curve: the bits GnuTLS gives a P-521 key are not 521
		 * (every P-521 request was refused). */
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		if (gnutls_pubkey_export_ecc_raw(pk, &curve, NULL, NULL) < 0)
			break;
		if (curve == GNUTLS_ECC_CURVE_SECP256R1 ||
		    curve == GNUTLS_ECC_CURVE_SECP384R1 ||
		    curve == GNUTLS_ECC_CURVE_SECP521R1) {
			*out = curve == GNUTLS_ECC_CURVE_SECP256R1 ?
			    CM_KEY_EC_P256 : curve == GNUTLS_ECC_CURVE_SECP384R1 ?
			    CM_KEY_EC_P384 : CM_KEY_EC_P521;
			return CM_OK;
		}
		break;
	}
	case GNUTLS_PK_EDDSA_ED25519:
		*out = CM_KEY_ED25519;
		return CM_OK;
	case GNUTLS_PK_EDDSA_ED448:
		*out = CM_KEY_ED448;
		return CM_OK;
	default:
		break;
	}
	return cm__fail(ctx, CM_E_INVALID, "%s: %s key is not supported "
	    "(ec-p256, ec-p384, ec-p521, ed25519, ed448, rsa-2048, rsa-3072, "
	    "rsa-4096)", what, alg > 0 ?
	    gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg) :
	    "unknown");
}

typedef struct namelist {
	char **v;
	size_t n;
} namelist;

static void
namelist_clear(namelist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Adds text unless the same name (after typing) is there already. */
static cm_err
namelist_add(namelist *l, cm_ctx *ctx, const char *origin, const char *what,
    const char *text)
{
	cm__name nm;
	char m[CM_ERRBUF];
	char **nv;
	size_t i;
	cm_err err;

	if ((err = cm__name_parse(&nm, ctx, text)) != CM_OK) {
		snprintf(m, sizeof(m), "%s", cm_ctx_error(ctx));
		return cm__fail(ctx, err, "%s: %s: %s", origin, what, m);
	}
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], nm.value) == 0) {
			cm__name_clear(&nm);
			return CM_OK;
		}
	if (l->n == MAX_CSR_NAMES) {
		cm__name_clear(&nm);
		return cm__fail(ctx, CM_E_INVALID, "%s: more than %d names",
		    origin, MAX_CSR_NAMES);
	}
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL) {
		cm__name_clear(&nm);
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	l->v = nv;
	l->v[l->n++] = nm.value;    /* ownership moves */
	return CM_OK;
}

static cm_err
request_names(namelist *l, cm_ctx *ctx, const char *origin,
    gnutls_x509_crq_t crq)
{
	char buf[1024], text[INET6_ADDRSTRLEN];
	size_t size;
	unsigned type, critical, i;
	cm_err err;
	int ret;

	size = sizeof(buf) - 1;
	ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &size);
	if (ret == 0) {
		cm__name nm;
		bool has_san;

		buf[size] = '\0';
		/* A CN that is no name ("My Service") is a label: with
		 * subjectAltNames to name the subject, it is left out (the
		 * first SAN becomes the CN); alone, it is an error. */
		size = 0;
		has_san = gnutls_x509_crq_get_subject_alt_name(crq, 0, NULL,
		    &size, &type, &critical) !=
		    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
		if (cm__name_parse(&nm, ctx, buf) == CM_OK)
			cm__name_clear(&nm);
		else if (has_san)
			buf[0] = '\0';
		if (buf[0] != '\0' && (err = namelist_add(l, ctx, origin,
		    "subject CN", buf)) != CM_OK)
			return err;
	} else if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		return cm__gnutls_fail(ctx, ret, "%s: subject", origin);
	}
	for (i = 0;; i++) {
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &size,
		    &type, &critical);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return cm__gnutls_fail(ctx, ret, "%s: subjectAltName",
			    origin);
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
		case GNUTLS_SAN_RFC822NAME:
		case GNUTLS_SAN_URI:
			if (memchr(buf, '\0', size) != NULL)
				return cm__fail(ctx, CM_E_INVALID, "%s: "
				    "subjectAltName %u has a NUL byte", origin,
				    i + 1);
			buf[size] = '\0';
			break;
		case GNUTLS_SAN_IPADDRESS:
			if ((size != 4 && size != 16) ||
			    inet_ntop(size == 4 ? AF_INET : AF_INET6, buf,
			    text, sizeof(text)) == NULL)
				return cm__fail(ctx, CM_E_INVALID, "%s: "
				    "subjectAltName %u is not an IP address",
				    origin, i + 1);
			snprintf(buf, sizeof(buf), "%s", text);
			break;
		default:
			return cm__fail(ctx, CM_E_INVALID, "%s: subjectAltName "
			    "%u is of a type certmint does not sign (DNS, IP, "
			    "email and URI only)", origin, i + 1);
		}
		if ((err = namelist_add(l, ctx, origin, "subjectAltName",
		    buf)) != CM_OK)
			return err;
	}
	if (l->n == 0)
		return cm__fail(ctx, CM_E_INVALID, "%s: the request names "
		    "nothing (no subject CN, no subjectAltName)", origin);
	return CM_OK;
}

cm_err
cm_sign_csr_mem(cm_cert_info **out, cm_store *st, const char *origin,
    const void *data, size_t len, const cm_sign_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_sign_opts def = CM_SIGN_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	cm__issue_src src;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pk = NULL;
	gnutls_datum_t d;
	namelist names = { NULL, 0 };
	char details[300];
	cm_err err;
	int ret;

	if (o == NULL)
		o = &def;
	if (origin == NULL)
		origin = "request";
	if (o->version != CM_SIGN_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "sign: options version %u "
		    "is unknown", o->version);
	if (data == NULL || len == 0)
		return cm__fail(ctx, CM_E_INVALID, "%s: empty", origin);
	if (len > MAX_CSR)
		return cm__fail(ctx, CM_E_INVALID, "%s: larger than %d bytes",
		    origin, MAX_CSR);
	if ((ret = gnutls_x509_crq_init(&crq)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s", origin);
	d.data = (unsigned char *)(uintptr_t)data;
	d.size = (unsigned)len;
	if (memmem(data, len, "-----BEGIN", 10) != NULL)
		ret = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM);
	else
		ret = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: not a certificate "
		    "request (PKCS#10, PEM or DER): %s", origin,
		    gnutls_strerror(ret));
		goto out;
	}
	/* Proof of possession: the request is signed by its own key. */
	if (gnutls_x509_crq_verify(crq, 0) < 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: signature does not "
		    "verify", origin);
		goto out;
	}
	if ((ret = gnutls_pubkey_init(&pk)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pk, crq, 0)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "%s: public key", origin);
		goto out;
	}
	memset(&src, 0, sizeof(src));
	if ((err = cm__pubkey_key_type(&src.key_type, ctx, pk, origin)) !=
	    CM_OK)
		goto out;
	if ((err = request_names(&names, ctx, origin, crq)) != CM_OK)
		goto out;
	snprintf(details, sizeof(details), "request=%s", origin);
	src.event = "sign";
	src.details = details;
	src.pubkey = pk;
	io.profile = o->profile ? o->profile : "server";
	io.ca = o->ca;
	io.names = (const char *const *)names.v;
	io.nnames = names.n;
	io.days = o->days;
	io.cert_path = o->cert_path;
	io.chain_path = o->chain_path;
	io.force = o->force;
	io.discard_key = true;
	err = cm__issue_src_one(out, st, &io, &src);
out:
	namelist_clear(&names);
	gnutls_pubkey_deinit(pk);
	gnutls_x509_crq_deinit(crq);
	return err;
}

cm_err
cm_sign_csr(cm_cert_info **out, cm_store *st, const char *csr_path,
    const cm_sign_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	char *data = NULL;
	size_t len = 0;
	cm_err err;

	if (csr_path == NULL)
		return cm__fail(ctx, CM_E_INVALID, "sign: no request file");
	if ((err = cm__file_read(ctx, csr_path, MAX_CSR, &data, &len)) !=
	    CM_OK)
		return err;
	err = cm_sign_csr_mem(out, st, csr_path, data, len, o);
	free(data);
	return err;
}
