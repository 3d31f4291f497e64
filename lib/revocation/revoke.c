/* revoke.c - revocation of issued certificates (RFC 5280 5.3.1). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

cm_err
cm_cert_revoke(cm_cert_info **out, cm_store *st, const char *ref,
    cm_revoke_reason reason, time_t at)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_cert_info *c = NULL, *got = NULL;
	char details[96];
	cm_err err;
	bool in_tx = false;

	if (cm_revoke_reason_name(reason) == NULL)
		return cm__fail(ctx, CM_E_INVALID, "reason %d is unknown",
		    (int)reason);
	/* RFC 5280 5.3.1: removeFromCRL appears only in a delta CRL, to undo
	 * a certificateHold; in a complete CRL OpenSSL reads it as "not
	 * revoked" while GnuTLS and the store say revoked.  certmint never
	 * lifts a revocation, so there is nothing for it to undo. */
	if (reason == CM_REASON_REMOVE_FROM_CRL)
		return cm__fail(ctx, CM_E_INVALID, "reason removeFromCRL "
		    "undoes a certificateHold in a delta CRL (RFC 5280 5.3.1); "
		    "certmint revokes for good: give another reason");
	if (at == 0)
		at = cm_ctx_now(ctx);
	if ((err = cm__store_begin(st)) != CM_OK)
		return err;
	in_tx = true;
	if ((err = cm_cert_find(&c, st, ref)) != CM_OK)
		goto out;
	/* A revocation happened: not later than now (a CRL dated now cannot
	 * list it), not before the certificate existed. */
	if (at > cm_ctx_now(ctx) || at < c->not_before) {
		char when[40], nb[40];
		cm__rfc3339(when, sizeof(when), at);
		cm__rfc3339(nb, sizeof(nb), c->not_before);
		err = at > cm_ctx_now(ctx) ?
		    cm__fail(ctx, CM_E_INVALID, "certificate %s: revocation "
		    "time %s is in the future", c->serial, when) :
		    cm__fail(ctx, CM_E_INVALID, "certificate %s: revocation "
		    "time %s is before its notBefore %s", c->serial, when, nb);
		goto out;
	}
	if ((err = cm__store_cert_revoke(st, c->ca, c->serial, (int)reason,
	    at)) != CM_OK)
		goto out;
	snprintf(details, sizeof(details), "reason=%s",
	    cm_revoke_reason_name(reason));
	if ((err = cm__store_event(st, "revoke", c->serial, details)) != CM_OK ||
	    (err = cm__failpoint(ctx, "revoke.after_update")) != CM_OK)
		goto out;
	/* By serial: a name may now lead to another, still valid one.  Read
	 * before the commit: once committed, the call must not fail. */
	if (out != NULL && (err = cm_cert_find(&got, st, c->serial)) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if ((err = cm__failpoint(ctx, "revoke.after_commit")) != CM_OK)
		goto out;
	if (out != NULL) {
		*out = got;
		got = NULL;
	}
out:
	if (in_tx)
		cm__store_rollback(st);
	cm_cert_info_free(got);
	cm_cert_info_free(c);
	return err;
}
