/* reason.c - the names of RFC 5280 5.3.1 revocation reasons, shared by
 * revocation (revoke, CRLs, OCSP) and verification (verify names the
 * reason of a revoked certificate). */
#include "config.h"

#include <strings.h>

#include "internal.h"

static const struct {
	cm_revoke_reason r;
	const char *name;
} reasons[] = {
	{ CM_REASON_UNSPECIFIED, "unspecified" },
	{ CM_REASON_KEY_COMPROMISE, "keyCompromise" },
	{ CM_REASON_CA_COMPROMISE, "cACompromise" },
	{ CM_REASON_AFFILIATION_CHANGED, "affiliationChanged" },
	{ CM_REASON_SUPERSEDED, "superseded" },
	{ CM_REASON_CESSATION_OF_OPERATION, "cessationOfOperation" },
	{ CM_REASON_CERTIFICATE_HOLD, "certificateHold" },
	{ CM_REASON_REMOVE_FROM_CRL, "removeFromCRL" },
	{ CM_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn" },
	{ CM_REASON_AA_COMPROMISE, "aACompromise" },
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

cm_err
cm_revoke_reason_parse(cm_revoke_reason *out, cm_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NREASONS; i++)
		if (strcasecmp(reasons[i].name, name) == 0) {
			*out = reasons[i].r;
			return CM_OK;
		}
	return cm__fail(ctx, CM_E_INVALID, "reason '%s' is unknown (%s, ...; "
	    "see RFC 5280 5.3.1)", name ? name : "", "keyCompromise, "
	    "cACompromise, affiliationChanged, superseded, "
	    "cessationOfOperation, certificateHold, privilegeWithdrawn");
}

const char *
cm_revoke_reason_name(cm_revoke_reason r)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].r == r)
			return reasons[i].name;
	return NULL;
}
