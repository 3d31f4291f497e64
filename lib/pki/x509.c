/* x509.c - building certificates from profiles. */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/x509-ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

cm_err
cm__serial_new(unsigned char *buf, size_t *len, cm_ctx *ctx)
{
	unsigned char r[16];
	int ret;

	/*
	 * RFC 5280 4.1.2.2: a positive INTEGER of at most 20 octets.  128
	 * random bits; a leading 0x00 keeps a high first bit positive, and
	 * a zero first octet is drawn again so the DER stays minimal.
	 */
	do {
		ret = gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r));
		if (ret < 0)
			return cm__gnutls_fail(ctx, ret, "serial number");
	} while (r[0] == 0);
	if (r[0] & 0x80) {
		buf[0] = 0;
		memcpy(buf + 1, r, sizeof(r));
		*len = sizeof(r) + 1;
	} else {
		memcpy(buf, r, sizeof(r));
		*len = sizeof(r);
	}
	return CM_OK;
}

static cm_err
set_dn(gnutls_x509_crt_t crt, cm_ctx *ctx, const char *oid, const char *v)
{
	int ret;

	if (v == NULL || v[0] == '\0')
		return CM_OK;
	ret = gnutls_x509_crt_set_dn_by_oid(crt, oid, 0, v, (unsigned)strlen(v));
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "subject '%s'", v);
	return CM_OK;
}

static cm_err
add_nc(gnutls_x509_name_constraints_t nc, cm_ctx *ctx, char *const *v,
    size_t n, const char *prefix, bool excluded)
{
	cm__constraint c;
	gnutls_datum_t d;
	char tmp[4200];
	size_t i;
	cm_err err;
	int ret;

	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s%s", prefix, v[i]);
		if ((err = cm__constraint_parse(&c, ctx, tmp)) != CM_OK)
			return err;
		d.data = c.data;
		d.size = (unsigned)c.len;
		ret = excluded ?
		    gnutls_x509_name_constraints_add_excluded(nc,
		    (gnutls_x509_subject_alt_name_t)c.san_type, &d) :
		    gnutls_x509_name_constraints_add_permitted(nc,
		    (gnutls_x509_subject_alt_name_t)c.san_type, &d);
		if (ret < 0)
			return cm__gnutls_fail(ctx, ret, "name constraint '%s'",
			    v[i]);
	}
	return CM_OK;
}

cm_err
cm__profile_apply(gnutls_x509_crt_t crt, cm_ctx *ctx, const cm_profile *p,
    cm_key_type kt)
{
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_x509_tlsfeatures_t tf = NULL;
	unsigned usage = 0;
	size_t i;
	cm_err err = CM_OK;
	int ret;

	if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0)
		return cm__gnutls_fail(ctx, ret, "profile '%s'", p->name);
	if ((err = set_dn(crt, ctx, GNUTLS_OID_X520_COUNTRY_NAME,
	    p->country)) != CM_OK ||
	    (err = set_dn(crt, ctx, GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME,
	    p->state)) != CM_OK ||
	    (err = set_dn(crt, ctx, GNUTLS_OID_X520_LOCALITY_NAME,
	    p->locality)) != CM_OK ||
	    (err = set_dn(crt, ctx, GNUTLS_OID_X520_ORGANIZATION_NAME,
	    p->organization)) != CM_OK ||
	    (err = set_dn(crt, ctx, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME,
	    p->unit)) != CM_OK)
		return err;

	/* RFC 5280 4.2.1.9: critical in CA certificates; CA:FALSE marked
	 * critical too, as -x509_strict peers expect. */
	if (p->ca)
		ret = gnutls_x509_crt_set_basic_constraints(crt, 1,
		    p->path_len >= 0 ? p->path_len : -1);
	else
		ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "basic constraints");

	if (p->signing_key)
		usage |= GNUTLS_KEY_DIGITAL_SIGNATURE;
	/* keyEncipherment only means something for RSA keys. */
	if (p->encryption_key && cm__key_is_rsa(kt))
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	if (p->ca || p->cert_signing_key)
		usage |= GNUTLS_KEY_KEY_CERT_SIGN;
	if (p->crl_signing_key)
		usage |= GNUTLS_KEY_CRL_SIGN;
	if (usage != 0 &&
	    (ret = gnutls_x509_crt_set_key_usage(crt, usage)) < 0)
		return cm__gnutls_fail(ctx, ret, "key usage");

	if (p->tls_www_server && (ret = gnutls_x509_crt_set_key_purpose_oid(
	    crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		return cm__gnutls_fail(ctx, ret, "extended key usage");
	if (p->tls_www_client && (ret = gnutls_x509_crt_set_key_purpose_oid(
	    crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0)
		return cm__gnutls_fail(ctx, ret, "extended key usage");
	for (i = 0; i < p->nkey_purpose_oid; i++) {
		if ((ret = gnutls_x509_crt_set_key_purpose_oid(crt,
		    p->key_purpose_oid[i], 0)) < 0)
			return cm__gnutls_fail(ctx, ret, "key purpose '%s'",
			    p->key_purpose_oid[i]);
		/* RFC 6960 4.2.2.2.1: a delegated responder's certificate
		 * carries id-pkix-ocsp-nocheck (a NULL), so that clients do
		 * not ask the responder about itself.  Never a CA's: its
		 * revocation must stay checkable. */
		if (!p->ca && strcmp(p->key_purpose_oid[i],
		    GNUTLS_KP_OCSP_SIGNING) == 0 &&
		    (ret = gnutls_x509_crt_set_extension_by_oid(crt,
		    "1.3.6.1.5.5.7.48.1.5", "\x05\x00", 2, 0)) < 0)
			return cm__gnutls_fail(ctx, ret, "OCSP no-check");
	}

	for (i = 0; i < p->nocsp_uri; i++) {
		gnutls_datum_t d = { (unsigned char *)p->ocsp_uri[i],
		    (unsigned)strlen(p->ocsp_uri[i]) };
		if ((ret = gnutls_x509_crt_set_authority_info_access(crt,
		    GNUTLS_IA_OCSP_URI, &d)) < 0)
			return cm__gnutls_fail(ctx, ret, "ocsp_uri");
	}
	for (i = 0; i < p->nca_issuers_uri; i++) {
		gnutls_datum_t d = { (unsigned char *)p->ca_issuers_uri[i],
		    (unsigned)strlen(p->ca_issuers_uri[i]) };
		if ((ret = gnutls_x509_crt_set_authority_info_access(crt,
		    GNUTLS_IA_CAISSUERS_URI, &d)) < 0)
			return cm__gnutls_fail(ctx, ret, "ca_issuers_uri");
	}
	for (i = 0; i < p->ncrl_dist_points; i++)
		if ((ret = gnutls_x509_crt_set_crl_dist_points2(crt,
		    GNUTLS_SAN_URI, p->crl_dist_points[i],
		    (unsigned)strlen(p->crl_dist_points[i]), 0)) < 0)
			return cm__gnutls_fail(ctx, ret, "crl_dist_points");

	if (p->tls_feature_status_request) {
		if ((ret = gnutls_x509_tlsfeatures_init(&tf)) < 0 ||
		    (ret = gnutls_x509_tlsfeatures_add(tf, 5)) < 0 ||
		    (ret = gnutls_x509_crt_set_tlsfeatures(crt, tf)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "tls_feature");
			goto out;
		}
	}

	if (p->nnc_permit_dns + p->nnc_exclude_dns + p->nnc_permit_ip +
	    p->nnc_exclude_ip + p->nnc_permit_email > 0) {
		if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "name constraints");
			goto out;
		}
		if ((err = add_nc(nc, ctx, p->nc_permit_dns, p->nnc_permit_dns,
		    "", false)) != CM_OK ||
		    (err = add_nc(nc, ctx, p->nc_exclude_dns,
		    p->nnc_exclude_dns, "", true)) != CM_OK ||
		    (err = add_nc(nc, ctx, p->nc_permit_ip, p->nnc_permit_ip,
		    "", false)) != CM_OK ||
		    (err = add_nc(nc, ctx, p->nc_exclude_ip, p->nnc_exclude_ip,
		    "", true)) != CM_OK ||
		    (err = add_nc(nc, ctx, p->nc_permit_email,
		    p->nnc_permit_email, "@", false)) != CM_OK)
			goto out;
		if ((ret = gnutls_x509_crt_set_name_constraints(crt, nc, 1)) <
		    0) {
			err = cm__gnutls_fail(ctx, ret, "name constraints");
			goto out;
		}
	}
out:
	if (tf != NULL)
		gnutls_x509_tlsfeatures_deinit(tf);
	if (nc != NULL)
		gnutls_x509_name_constraints_deinit(nc);
	return err;
}

cm_err
cm__crt_describe(gnutls_x509_crt_t crt, cm_ctx *ctx, char **dn, char **serial,
    char **fpr, char **pem, gnutls_datum_t *der)
{
	gnutls_datum_t d = { NULL, 0 }, p = { NULL, 0 }, raw = { NULL, 0 };
	unsigned char buf[64];
	size_t len = sizeof(buf), off = 0;
	int ret;

	*dn = *serial = *fpr = *pem = NULL;
	if (der != NULL) {
		der->data = NULL;
		der->size = 0;
	}
	if ((ret = gnutls_x509_crt_get_dn3(crt, &d, 0)) < 0)
		goto fail;
	*dn = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	if ((ret = gnutls_x509_crt_get_serial(crt, buf, &len)) < 0)
		goto fail;
	while (off + 1 < len && buf[off] == 0)
		off++;
	*serial = cm__hex(buf + off, len - off);
	/* One encoding for the fingerprint, the PEM and the caller: a signed
	 * certificate that was not imported is encoded anew by each export. */
	if ((ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    &raw)) < 0)
		goto fail;
	if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, raw.data, raw.size,
	    buf)) < 0)
		goto fail;
	*fpr = cm__hex(buf, 32);
	if ((ret = gnutls_pem_base64_encode2("CERTIFICATE", &raw, &p)) < 0)
		goto fail;
	*pem = strndup((const char *)p.data, p.size);
	gnutls_free(p.data);
	if (*dn && *serial && *fpr && *pem) {
		if (der != NULL)
			*der = raw;
		else
			gnutls_free(raw.data);
		return CM_OK;
	}
	ret = GNUTLS_E_MEMORY_ERROR;
fail:
	gnutls_free(raw.data);
	free(*dn);
	free(*serial);
	free(*fpr);
	free(*pem);
	*dn = *serial = *fpr = *pem = NULL;
	return cm__gnutls_fail(ctx, ret, "reading certificate");
}

bool
cm__nc_ip_permitted(gnutls_x509_name_constraints_t nc,
    const unsigned char *ip, size_t iplen)
{
	gnutls_datum_t d;
	bool any = false, in;
	unsigned i, type;
	size_t k;

	for (i = 0; gnutls_x509_name_constraints_get_permitted(nc, i, &type,
	    &d) == 0; i++) {
		if (type != GNUTLS_SAN_IPADDRESS)
			continue;
		any = true;
		/* RFC 5280 4.2.1.10: address then mask, 8 or 32 octets. */
		if (d.size != iplen * 2)
			continue;
		for (in = true, k = 0; k < iplen && in; k++)
			in = (ip[k] & d.data[iplen + k]) ==
			    (d.data[k] & d.data[iplen + k]);
		if (in)
			return true;
	}
	return !any;
}

/* What a CA's name constraints say about hosts, for URIs. */
struct host_subtrees {
	bool any;            /* a DNS or IP subtree, permitted or excluded */
	bool permit_dns, permit_ip;
};

static void
host_subtrees_of(struct host_subtrees *hs, gnutls_x509_name_constraints_t nc)
{
	gnutls_datum_t d;
	unsigned i, type;

	memset(hs, 0, sizeof(*hs));
	for (i = 0; gnutls_x509_name_constraints_get_permitted(nc, i, &type,
	    &d) == 0; i++) {
		if (type == GNUTLS_SAN_DNSNAME)
			hs->permit_dns = true;
		if (type == GNUTLS_SAN_IPADDRESS)
			hs->permit_ip = true;
	}
	hs->any = hs->permit_dns || hs->permit_ip;
	for (i = 0; gnutls_x509_name_constraints_get_excluded(nc, i, &type,
	    &d) == 0; i++)
		if (type == GNUTLS_SAN_DNSNAME || type == GNUTLS_SAN_IPADDRESS)
			hs->any = true;
}

/*
 * RFC 5280 4.2.1.10 constrains a URI by its host, but GnuTLS 3.7 neither
 * checks URIs against constraints nor enforces URI subtrees when it
 * verifies, so certmint judges a URI here, by the subtrees of its host's
 * kind: a name by the DNS subtrees, an address by the IP ranges.  Under
 * permitted subtrees a URI whose host cannot be judged (none, malformed,
 * or of a kind the CA permits none of) is refused.  Returns NULL or why.
 */
static const char *
uri_problem(char *why, size_t len, gnutls_x509_name_constraints_t nc,
    const struct host_subtrees *hs, const char *uri)
{
	cm__uri_host h;
	gnutls_datum_t d;
	const char *p;
	char show[72];
	bool permitted;
	unsigned type;

	if (!hs->any)
		return NULL;
	/* A host that cannot be judged: refused under any DNS or IP
	 * subtree, excluded ones too ("x.evil.test." past ".evil.test");
	 * a URI with no host at all only where something is permitted. */
	if ((p = cm__uri_host_parse(&h, uri)) != NULL) {
		bool no_host = strcmp(h.part, "host") == 0 &&
		    (strncmp(p, "is missing", 10) == 0 ||
		    strcmp(p, "is empty") == 0);
		if (no_host && !hs->permit_dns && !hs->permit_ip)
			return NULL;
		snprintf(why, len, "its %s %s", h.part, p);
		return why;
	}
	cm__name_quote(show, sizeof(show), h.host);
	if (h.type == CM_NAME_DNS) {
		permitted = hs->permit_dns;
		type = GNUTLS_SAN_DNSNAME;
		d.data = (unsigned char *)h.host;
		d.size = (unsigned)strlen(h.host);
	} else {
		permitted = hs->permit_ip;
		type = GNUTLS_SAN_IPADDRESS;
		d.data = h.ip;
		d.size = (unsigned)h.iplen;
	}
	if ((hs->permit_dns || hs->permit_ip) && !permitted) {
		snprintf(why, len, "its host '%s' is %s and the CA permits "
		    "none", show, h.type == CM_NAME_DNS ? "a DNS name" :
		    "an IP address");
		return why;
	}
	if (!gnutls_x509_name_constraints_check(nc,
	    (gnutls_x509_subject_alt_name_t)type, &d) ||
	    (h.type != CM_NAME_DNS && !cm__nc_ip_permitted(nc, h.ip,
	    h.iplen))) {
		snprintf(why, len, "its host is '%s'", show);
		return why;
	}
	return NULL;
}

cm_err
cm__crt_check_constraints(gnutls_x509_crt_t ca, cm_ctx *ctx,
    const char *ca_name, const cm__name *names, size_t n)
{
	gnutls_x509_name_constraints_t nc = NULL;
	struct host_subtrees hs;
	unsigned critical = 0, type;
	gnutls_datum_t d;
	char whybuf[128];
	const char *why;
	cm_err err = CM_OK;
	size_t i;
	int ret;

	if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0)
		return cm__gnutls_fail(ctx, ret, "name constraints");
	ret = gnutls_x509_crt_get_name_constraints(ca, nc, 0, &critical);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		goto out;
	if (ret < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': name constraints",
		    ca_name);
		goto out;
	}
	host_subtrees_of(&hs, nc);
	for (i = 0; i < n; i++) {
		switch (names[i].type) {
		case CM_NAME_DNS:
		case CM_NAME_WILDCARD:
			type = GNUTLS_SAN_DNSNAME;
			d.data = (unsigned char *)names[i].value;
			d.size = (unsigned)strlen(names[i].value);
			break;
		case CM_NAME_EMAIL:
			type = GNUTLS_SAN_RFC822NAME;
			d.data = (unsigned char *)names[i].value;
			d.size = (unsigned)strlen(names[i].value);
			break;
		case CM_NAME_IPV4:
		case CM_NAME_IPV6:
			type = GNUTLS_SAN_IPADDRESS;
			d.data = (unsigned char *)(uintptr_t)names[i].ip;
			d.size = (unsigned)names[i].iplen;
			break;
		case CM_NAME_URI:
			why = uri_problem(whybuf, sizeof(whybuf), nc, &hs,
			    names[i].value);
			if (why == NULL)
				continue;
			err = cm__fail(ctx, CM_E_CONSTRAINT, "name '%.64s%s' "
			    "is outside the name constraints of CA '%s': %s",
			    names[i].value, strlen(names[i].value) > 64 ?
			    "..." : "", ca_name, why);
			goto out;
		default:
			continue;
		}
		if (!gnutls_x509_name_constraints_check(nc,
		    (gnutls_x509_subject_alt_name_t)type, &d) ||
		    (type == GNUTLS_SAN_IPADDRESS && !cm__nc_ip_permitted(nc,
		    names[i].ip, names[i].iplen))) {
			/* At most 64 octets of the name: the CA's name
			 * must fit in the message too. */
			err = cm__fail(ctx, CM_E_CONSTRAINT, "name '%.64s%s' "
			    "is outside the name constraints of CA '%s'",
			    names[i].value, strlen(names[i].value) > 64 ?
			    "..." : "", ca_name);
			goto out;
		}
	}
out:
	gnutls_x509_name_constraints_deinit(nc);
	return err;
}
