/*
 * renew.c - renewing a certificate: the same names, profile, CA and key
 * type, a new serial and validity, in one transaction with what becomes of
 * the old one.
 *
 * The old certificate is never deleted.  Plain renewal marks it
 * "superseded": replaced in the inventory, not revoked, so it keeps working
 * until it expires and stays off CRLs (it can still be revoked).  With
 * revoke_old it is revoked with reason superseded (RFC 5280 5.3.1), as one
 * does when the old one must stop working now.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct renew_state {
	const cm_cert_info *old;
	bool revoke_old;
} renew_state;

static cm_err
renew_in_tx(cm_store *st, const cm_cert_info *c, void *arg)
{
	renew_state *rs = arg;
	char details[160];
	cm_err err;

	if (strcmp(rs->old->status, "revoked") == 0)
		return CM_OK;
	if (!rs->revoke_old)
		return cm__store_cert_supersede(st, rs->old->ca,
		    rs->old->serial);
	if ((err = cm__store_cert_revoke(st, rs->old->ca, rs->old->serial,
	    CM_REASON_SUPERSEDED, cm_ctx_now(cm__store_ctx(st)))) != CM_OK)
		return err;
	snprintf(details, sizeof(details), "reason=superseded by=%s",
	    c->serial);
	return cm__store_event(st, "revoke", rs->old->serial, details);
}

cm_err
cm_renew(cm_cert_info **out, cm_store *st, const char *ref,
    const cm_renew_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_renew_opts def = CM_RENEW_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	cm__issue_src src;
	renew_state rs;
	cm_cert_info *old = NULL;
	cm_profile *prof = NULL;
	gnutls_x509_privkey_t xkey = NULL;
	char details[160], m[CM_ERRBUF];
	const char *profile = NULL;
	cm_key_type kt;
	cm_err err;

	if (o == NULL)
		o = &def;
	if (o->version != 1 && o->version != CM_RENEW_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "renew: options version %u "
		    "is unknown", o->version);
	if (o->version >= 2 && o->profile != NULL)
		profile = o->profile;
	if ((err = cm_cert_find(&old, st, ref)) != CM_OK)
		return err;
	if (profile == NULL)
		profile = old->profile;
	if ((err = cm_profile_load(&prof, ctx, st, profile)) != CM_OK) {
		snprintf(m, sizeof(m), "%s", cm_ctx_error(ctx));
		/* Only a profile's name is recorded: a file's is gone, an
		 * imported certificate never had one. */
		if (err == CM_E_NOTFOUND && profile == old->profile &&
		    strcmp(old->profile, "imported") == 0)
			err = cm__fail(ctx, err, "certificate %s was imported: "
			    "imported certificates need --profile NAME|FILE to "
			    "be renewed", old->serial);
		else if (err == CM_E_NOTFOUND && profile == old->profile)
			err = cm__fail(ctx, err, "certificate %s: profile '%s' "
			    "not found (issued from a file?): renew with "
			    "--profile FILE", old->serial, old->profile);
		else
			err = cm__fail(ctx, err, "certificate %s: %s",
			    old->serial, m);
		goto out;
	}
	if (prof->ca) {
		err = cm__fail(ctx, CM_E_INVALID, "certificate %s is a CA "
		    "certificate: make a new CA with 'certmint ca create'",
		    old->serial);
		goto out;
	}
	if ((err = cm_key_type_parse(&kt, ctx, old->key_type)) != CM_OK)
		goto out;
	/* One successor per certificate: renewing it again would leave two
	 * valid heirs (with the same key, without --rekey). */
	if (strcmp(old->status, "superseded") == 0) {
		err = cm__fail(ctx, CM_E_INVALID, "certificate %s was renewed "
		    "already (superseded): renew its successor", old->serial);
		goto out;
	}
	if (!o->rekey && strcmp(old->status, "revoked") == 0 &&
	    old->revocation_reason == CM_REASON_KEY_COMPROMISE) {
		err = cm__fail(ctx, CM_E_INVALID, "certificate %s was revoked "
		    "for keyCompromise: renew with --rekey", old->serial);
		goto out;
	}
	if (!o->rekey) {
		err = cm__cert_key_load(&xkey, st, old->ca, old->serial);
		if (err == CM_E_NOTFOUND)
			err = cm__fail(ctx, CM_E_NOTFOUND, "certificate %s: its "
			    "key was not kept in the store: renew with --rekey",
			    old->serial);
		if (err != CM_OK)
			goto out;
	}
	memset(&src, 0, sizeof(src));
	rs.old = old;
	rs.revoke_old = o->revoke_old;
	snprintf(details, sizeof(details), "old=%s%s", old->serial,
	    o->rekey ? " rekey" : "");
	src.event = "renew";
	src.details = details;
	src.key = xkey;
	src.key_type = kt;
	src.in_tx = renew_in_tx;
	src.arg = &rs;
	io.profile = profile;
	io.ca = old->ca;
	io.names = (const char *const *)old->names;
	io.nnames = old->nnames;
	io.key_type = kt;
	io.days = o->days;
	io.cert_path = o->cert_path;
	io.key_path = o->key_path;
	io.chain_path = o->chain_path;
	io.force = o->force;
	err = cm__issue_src_one(out, st, &io, &src);
out:
	gnutls_x509_privkey_deinit(xkey);
	cm_profile_free(prof);
	cm_cert_info_free(old);
	return err;
}
