/*
 * intermediate.c - intermediate CAs, signed by a CA of the store.
 *
 * An intermediate is a row of cas (its key, its children) and also a
 * certificate issued by its parent, in certs: so 'certmint revoke' works on
 * it, the parent's CRL lists it, and a revoked CA is known not to sign.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_INTERMEDIATE_DAYS 1825

/*
 * RFC 5280 4.2.1.9: pathLenConstraint counts the CA certificates that may
 * follow a CA in a path.  The new CA follows its parent (k = 0) and every
 * ancestor k levels above it, so ancestor k needs a path length of at least
 * k + 1, and the new CA may have at most path_len(k) - k - 1.
 * [out] bound: the largest path length the new CA may carry, -1: any.
 */
static cm_err
path_bound(int *bound, cm_ctx *ctx, const cm__signer *ps)
{
	unsigned critical, ca;
	int pl, allowed;
	size_t k;

	*bound = -1;
	for (k = 0; k <= ps->nchain; k++) {
		gnutls_x509_crt_t c = k == 0 ? ps->crt : ps->chain[k - 1];
		pl = -1;
		if (gnutls_x509_crt_get_basic_constraints(c, &critical, &ca,
		    &pl) < 0 || pl < 0)
			continue;
		allowed = pl - (int)k - 1;
		if (allowed < 0) {
			if (k == 0)
				return cm__fail(ctx, CM_E_CONSTRAINT, "CA '%s' "
				    "has path length %d: it cannot sign "
				    "another CA", ps->rec.info.name, pl);
			return cm__fail(ctx, CM_E_CONSTRAINT, "CA '%s' cannot "
			    "sign another CA: a CA above it has path length "
			    "%d", ps->rec.info.name, pl);
		}
		if (*bound < 0 || allowed < *bound)
			*bound = allowed;
	}
	return CM_OK;
}

/* Is the constraint c (a subtree) inside the constraints of crt? */
static cm_err
permit_inside(cm_ctx *ctx, gnutls_x509_crt_t crt, const char *ca_name,
    const char *text)
{
	gnutls_x509_name_constraints_t nc = NULL;
	cm__constraint c;
	unsigned critical = 0;
	unsigned char last[16], probe[300];
	gnutls_datum_t d;
	size_t alen, i;
	bool ok = true;
	cm_err err;
	int ret;

	if ((err = cm__constraint_parse(&c, ctx, text)) != CM_OK)
		return err;
	if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0)
		return cm__gnutls_fail(ctx, ret, "name constraints");
	ret = gnutls_x509_crt_get_name_constraints(crt, nc, 0, &critical);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		goto out;
	if (ret < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': name constraints",
		    ca_name);
		goto out;
	}
	switch (c.san_type) {
	case GNUTLS_SAN_IPADDRESS:
		/* A range is inside when its first and last address are. */
		alen = c.len / 2;
		for (i = 0; i < alen; i++)
			last[i] = c.data[i] | (unsigned char)~c.data[alen + i];
		d.data = c.data;
		d.size = (unsigned)alen;
		ok = gnutls_x509_name_constraints_check(nc,
		    GNUTLS_SAN_IPADDRESS, &d);
		d.data = last;
		ok = ok && gnutls_x509_name_constraints_check(nc,
		    GNUTLS_SAN_IPADDRESS, &d);
		/* One name form for both families (RFC 5280 4.2.1.10): a
		 * range of the other family than the parent permits is
		 * outside. */
		ok = ok && cm__nc_ip_permitted(nc, c.data, alen) &&
		    cm__nc_ip_permitted(nc, last, alen);
		break;
	case GNUTLS_SAN_RFC822NAME:
		/* Every mailbox at the domain: probe one. */
		snprintf((char *)probe, sizeof(probe), "x@%.*s", (int)c.len,
		    (const char *)c.data);
		d.data = probe;
		d.size = (unsigned)strlen((char *)probe);
		ok = gnutls_x509_name_constraints_check(nc,
		    GNUTLS_SAN_RFC822NAME, &d);
		break;
	default:
		/* A DNS subtree is inside when its root name is. */
		d.data = c.data;
		d.size = (unsigned)c.len;
		ok = gnutls_x509_name_constraints_check(nc, GNUTLS_SAN_DNSNAME,
		    &d);
	}
	if (!ok)
		err = cm__fail(ctx, CM_E_CONSTRAINT, "--permit '%s' is outside "
		    "the name constraints of CA '%s'", text, ca_name);
out:
	gnutls_x509_name_constraints_deinit(nc);
	return err;
}

static cm_err
copy_list(char ***out, size_t *nout, cm_ctx *ctx, const char *const *v,
    size_t n)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return CM_OK;
	if ((*out = calloc(n, sizeof(char *))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (((*out)[i] = strdup(v[i])) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		(*nout)++;
	}
	return CM_OK;
}

cm_err
cm_ca_create(cm_ca_info **out, cm_store *st, const cm_ca_create_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__signer *ps = NULL;
	cm_ca_info *got = NULL;
	gnutls_x509_privkey_t xkey = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_datum_t pkcs8 = { NULL, 0 };
	cm_profile *prof = NULL;
	cm__ca_rec rec;
	cm__cert_rec cr;
	const char *key_uri;
	unsigned char serial[20];
	size_t slen, i;
	char ou[300], details[200], *pem = NULL, *names[1];
	const char *pass = NULL;
	char *storepass = NULL;
	cm_key_type kt;
	time_t now, not_after;
	unsigned days;
	int path_len, bound;
	int64_t key_id, ca_id;
	bool in_tx = false, taken;
	cm_err err;
	int ret;

	memset(&rec, 0, sizeof(rec));
	if (o == NULL)
		return cm__fail(ctx, CM_E_INVALID, "ca create: no options");
	if (o->version != 1 && o->version != CM_CA_CREATE_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "ca create: options version "
		    "%u is unknown", o->version);
	key_uri = o->version >= 2 ? o->key_uri : NULL;
	if (key_uri != NULL && strncmp(key_uri, "pkcs11:", 7) != 0)
		return cm__fail(ctx, CM_E_INVALID, "key URI '%s' is not a "
		    "pkcs11: URI", key_uri);
	if (o->name == NULL)
		return cm__fail(ctx, CM_E_INVALID, "ca create: no name given");
	if (o->parent == NULL)
		return cm__fail(ctx, CM_E_INVALID, "ca create: no parent CA "
		    "given (a root is made by 'certmint init')");
	if (o->path_len < CM_PATHLEN_PROFILE || o->path_len > 255)
		return cm__fail(ctx, CM_E_INVALID, "--pathlen %d: 0 to 255",
		    o->path_len);
	kt = o->key_type == CM_KEY_DEFAULT ? CM_KEY_EC_P256 : o->key_type;
	if (cm_key_type_name(kt) == NULL)
		return cm__fail(ctx, CM_E_INVALID, "key type %d is unknown",
		    (int)o->key_type);
	if ((rec.info.name = strdup(o->name)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((err = cm__ca_new_check(&prof, &days, st, o->name,
	    o->profile ? o->profile : "intermediate-ca", o->days,
	    DEFAULT_INTERMEDIATE_DAYS)) != CM_OK)
		goto out;
	path_len = o->path_len != CM_PATHLEN_PROFILE ? o->path_len :
	    prof->path_len >= 0 ? prof->path_len : -1;

	/* The parent: its key, and refused when expired or revoked. */
	if ((err = cm__signer_load(&ps, st, o->parent)) != CM_OK)
		goto out;
	if ((err = path_bound(&bound, ctx, ps)) != CM_OK)
		goto out;
	if (bound >= 0 && path_len > bound) {
		err = cm__fail(ctx, CM_E_CONSTRAINT, "--pathlen %d: CA '%s' "
		    "allows at most %d below the new CA", path_len,
		    ps->rec.info.name, bound);
		goto out;
	}
	if (bound >= 0 && path_len < 0)
		path_len = bound;
	prof->path_len = path_len;

	/* Name constraints: each inside every CA above; none given: the
	 * parent's, so that what certmint signs also verifies. */
	if (o->npermit > 0) {
		for (i = 0; i < o->npermit; i++) {
			size_t k;
			if ((err = permit_inside(ctx, ps->crt,
			    ps->rec.info.name, o->permit[i])) != CM_OK)
				goto out;
			for (k = 0; k < ps->nchain; k++)
				if ((err = permit_inside(ctx, ps->chain[k],
				    ps->rec.info.name, o->permit[i])) != CM_OK)
					goto out;
		}
		err = copy_list(&rec.info.permitted, &rec.info.npermitted, ctx,
		    o->permit, o->npermit);
	} else {
		err = copy_list(&rec.info.permitted, &rec.info.npermitted, ctx,
		    (const char *const *)ps->rec.info.permitted,
		    ps->rec.info.npermitted);
	}
	if (err != CM_OK)
		goto out;
	if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "name constraints");
		goto out;
	}
	if ((err = cm__constraints_to_nc(nc, ctx,
	    (const char *const *)rec.info.permitted,
	    rec.info.npermitted)) != CM_OK)
		goto out;

	/* A token's key: its public half goes into the certificate; the
	 * parent signs it, the token key signs what is below. */
	if ((err = cm__ca_key_new(&crt, &key, &xkey, &kt, ctx, key_uri,
	    o->key_type, o->name)) != CM_OK)
		goto out;
	if ((err = cm__serial_new(serial, &slen, ctx)) != CM_OK)
		goto out;
	now = cm_ctx_now(ctx);
	/* A child never outlives its issuer. */
	not_after = now + (time_t)days * 86400;
	if (not_after > ps->rec.info.not_after)
		not_after = ps->rec.info.not_after;
	cm__ca_owner(ou, sizeof(ou));
	if ((ret = gnutls_x509_crt_set_serial(crt, serial, slen)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, now)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt, not_after)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s'", o->name);
		goto out;
	}
	if ((err = cm__profile_apply(crt, ctx, prof, kt)) != CM_OK)
		goto out;
	if (prof->unit == NULL && (ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, 0, ou,
	    (unsigned)strlen(ou))) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': subject", o->name);
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, o->name,
	    (unsigned)strlen(o->name))) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': subject", o->name);
		goto out;
	}
	/* RFC 5280 4.2.1.10: name constraints MUST be critical. */
	if (rec.info.npermitted > 0 &&
	    (ret = gnutls_x509_crt_set_name_constraints(crt, nc, 1)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "CA '%s': name constraints",
		    o->name);
		goto out;
	}
	if ((err = cm__sign_crt(crt, ctx, ps->crt, ps->key,
	    ps->key_type)) != CM_OK)
		goto out;

	if ((err = cm__crt_describe(crt, ctx, &rec.info.subject,
	    &rec.info.serial, &rec.info.fingerprint, &pem, &rec.der)) != CM_OK)
		goto out;
	if ((rec.info.key_type = strdup(cm_key_type_name(kt))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	rec.info.not_before = now;
	rec.info.not_after = not_after;
	rec.info.path_len = path_len;
	rec.parent_id = ps->rec.id;
	/* One passphrase protects every key of a store (lib/passwd.c):
	 * the one given must be it; none given means the parent's.  A key
	 * in a token is not in the store: its PIN protects it. */
	if (xkey != NULL) {
		if ((err = cm__store_passphrase_for_new_key(&storepass, st,
		    o->passphrase != NULL && o->passphrase[0] != '\0' ?
		    o->passphrase : ps->pass)) != CM_OK)
			goto out;
		pass = storepass;
		rec.info.encrypted = pass != NULL;
		if ((err = cm__key_export_pkcs8(&pkcs8, ctx, xkey, pass)) !=
		    CM_OK)
			goto out;
	}

	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	if ((err = cm__store_serial_taken(&taken, st, ps->rec.id,
	    rec.info.serial)) != CM_OK)
		goto out;
	if (taken) {
		err = cm__fail(ctx, CM_E_STORE, "CA '%s': serial %s is taken "
		    "under '%s': try again", o->name, rec.info.serial,
		    ps->rec.info.name);
		goto out;
	}
	if (key_uri != NULL)
		err = cm__store_key_insert_uri(&key_id, st, kt, key_uri);
	else
		err = cm__store_key_insert(&key_id, st, kt, &pkcs8,
		    rec.info.encrypted);
	if (err != CM_OK)
		goto out;
	rec.key_id = key_id;
	if ((err = cm__store_ca_insert(&ca_id, st, &rec)) != CM_OK) {
		if (err == CM_E_STORE && strstr(cm_ctx_error(ctx), "UNIQUE"))
			err = cm__fail(ctx, CM_E_EXISTS, "CA '%s' already "
			    "exists in store", o->name);
		goto out;
	}
	/* ... and a certificate of its parent. */
	memset(&cr, 0, sizeof(cr));
	names[0] = rec.info.name;
	cr.ca_id = ps->rec.id;
	cr.info.serial = rec.info.serial;
	cr.info.subject = rec.info.subject;
	cr.info.names = names;
	cr.info.nnames = 1;
	cr.info.profile = prof->name;
	cr.info.key_type = rec.info.key_type;
	cr.info.fingerprint = rec.info.fingerprint;
	cr.info.not_before = now;
	cr.info.not_after = not_after;
	cr.der = rec.der.data;
	cr.derlen = rec.der.size;
	if ((err = cm__store_cert_insert(st, &cr)) != CM_OK)
		goto out;
	snprintf(details, sizeof(details), "name=%s parent=%s path_len=%d%s",
	    o->name, ps->rec.info.name, path_len,
	    key_uri ? " key in a PKCS#11 token" : "");
	if ((err = cm__store_event(st, "ca.create", rec.info.serial,
	    details)) != CM_OK)
		goto out;
	/* Read inside the transaction: once committed, no error. */
	if (out != NULL && (err = cm_ca_get(&got, st, o->name)) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if (out != NULL) {
		*out = got;
		got = NULL;
	}
out:
	if (in_tx)
		cm__store_rollback(st);
	cm_ca_info_free(got);
	if (storepass != NULL)
		cm__free_secret(storepass, strlen(storepass));
	free(pem);
	if (pkcs8.data != NULL) {
		gnutls_memset(pkcs8.data, 0, pkcs8.size);
		gnutls_free(pkcs8.data);
	}
	cm__ca_rec_clear(&rec);
	cm_profile_free(prof);
	cm__signer_free(ps);
	if (nc != NULL)
		gnutls_x509_name_constraints_deinit(nc);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(key);
	gnutls_x509_privkey_deinit(xkey);
	return err;
}
