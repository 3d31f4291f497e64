/* outcome.c - outcome classes and their derivation from status bits. */
#include "config.h"

#include <string.h>

#include "internal.h"

static const char *const names[] = {
	[CM_OUTCOME_OK] = "ok",
	[CM_OUTCOME_UNTRUSTED] = "untrusted",
	[CM_OUTCOME_HOSTNAME] = "hostname",
	[CM_OUTCOME_EXPIRED] = "expired",
	[CM_OUTCOME_NOT_YET_VALID] = "not-yet-valid",
	[CM_OUTCOME_REVOKED] = "revoked",
	[CM_OUTCOME_PURPOSE] = "purpose",
	[CM_OUTCOME_NAME_CONSTRAINTS] = "name-constraints",
	[CM_OUTCOME_NO_CLIENT_CERT] = "no-client-cert",
	[CM_OUTCOME_CLIENT_UNTRUSTED] = "client-untrusted",
	[CM_OUTCOME_CLIENT_EXPIRED] = "client-expired",
	[CM_OUTCOME_CLIENT_PURPOSE] = "client-purpose",
	[CM_OUTCOME_PROTOCOL] = "protocol",
	[CM_OUTCOME_ERROR] = "error",
	[CM_OUTCOME_CLIENT_REVOKED] = "client-revoked",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

const char *
cm_outcome_name(cm_outcome o)
{
	return (unsigned)o < NNAMES ? names[o] : NULL;
}

cm_err
cm_outcome_parse(cm_outcome *out, cm_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NNAMES; i++)
		if (strcmp(names[i], name) == 0) {
			*out = (cm_outcome)i;
			return CM_OK;
		}
	return cm__fail(ctx, CM_E_INVALID, "outcome '%s' is unknown (ok, "
	    "untrusted, hostname, expired, not-yet-valid, revoked, purpose, "
	    "name-constraints, no-client-cert, client-untrusted, "
	    "client-expired, client-purpose, client-revoked, protocol, "
	    "error)",
	    name ? name : "");
}

cm_outcome
cm__outcome_from_status(unsigned st, bool peer_is_client)
{
	if (st == 0)
		return CM_OUTCOME_OK;
	/*
	 * Most specific first.  An unknown issuer says nothing about the
	 * rest, so it wins; then what the chain itself states (revocation,
	 * time, constraints, purpose); the name is checked last.
	 */
	if (st & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
	    GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_INSECURE_ALGORITHM))
		return peer_is_client ? CM_OUTCOME_CLIENT_UNTRUSTED :
		    CM_OUTCOME_UNTRUSTED;
	if (st & GNUTLS_CERT_REVOKED)
		return peer_is_client ? CM_OUTCOME_CLIENT_REVOKED :
		    CM_OUTCOME_REVOKED;
	if (st & GNUTLS_CERT_EXPIRED)
		return peer_is_client ? CM_OUTCOME_CLIENT_EXPIRED :
		    CM_OUTCOME_EXPIRED;
	if (st & GNUTLS_CERT_NOT_ACTIVATED)
		return peer_is_client ? CM_OUTCOME_CLIENT_EXPIRED :
		    CM_OUTCOME_NOT_YET_VALID;
	if (st & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
		return CM_OUTCOME_NAME_CONSTRAINTS;
	if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		return peer_is_client ? CM_OUTCOME_CLIENT_PURPOSE :
		    CM_OUTCOME_PURPOSE;
	if (st & GNUTLS_CERT_UNEXPECTED_OWNER)
		return CM_OUTCOME_HOSTNAME;
	if (st & (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
	    GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE |
	    GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID_OCSP_STATUS))
		return peer_is_client ? CM_OUTCOME_CLIENT_REVOKED :
		    CM_OUTCOME_REVOKED;
	return peer_is_client ? CM_OUTCOME_CLIENT_UNTRUSTED :
	    CM_OUTCOME_UNTRUSTED;
}
