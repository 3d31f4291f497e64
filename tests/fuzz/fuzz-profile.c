/*
 * fuzz-profile.c - cm_profile_parse() on arbitrary template text.
 *
 * Promises checked: success or CM_E_INVALID (CM_E_NOMEM aside), a one-line
 * message naming the origin on failure, and on success a profile whose
 * lists stay within CM_PROFILE_MAX_VALUES, whose numbers stay in range and
 * whose path_len comes with 'ca'.
 */
#include "config.h"

#include <string.h>

#include "internal.h"
#include "fuzz.h"

static cm_ctx *ctx;

static void
check_list(char *const *v, size_t n)
{
	size_t i;

	FUZZ_ASSERT(n <= CM_PROFILE_MAX_VALUES);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(v[i] != NULL && v[i][0] != '\0' &&
		    strchr(v[i], '\n') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_profile *p = NULL;
	const char *msg;
	cm_err err;

	if (ctx == NULL && cm_ctx_new(&ctx) != CM_OK)
		abort();
	ctx->err[0] = '\0';
	err = cm_profile_parse(&p, ctx, "fuzz.tmpl", (const char *)data, size);
	if (err != CM_OK) {
		FUZZ_ASSERT(err == CM_E_INVALID || err == CM_E_NOMEM);
		FUZZ_ASSERT(p == NULL);
		msg = cm_ctx_error(ctx);
		FUZZ_ASSERT(strncmp(msg, "fuzz.tmpl", 9) == 0 ||
		    err == CM_E_NOMEM);
		FUZZ_ASSERT(strchr(msg, '\n') == NULL);
		return 0;
	}
	FUZZ_ASSERT(p != NULL);
	FUZZ_ASSERT(p->expiration_days == -1 ||
	    (p->expiration_days >= 1 && p->expiration_days <= 36500));
	FUZZ_ASSERT(p->path_len == -2 ||
	    (p->ca && p->path_len >= -1 && p->path_len <= 255));
	FUZZ_ASSERT(p->country == NULL || strlen(p->country) == 2);
	check_list(p->key_purpose_oid, p->nkey_purpose_oid);
	check_list(p->nc_permit_dns, p->nnc_permit_dns);
	check_list(p->nc_exclude_dns, p->nnc_exclude_dns);
	check_list(p->nc_permit_ip, p->nnc_permit_ip);
	check_list(p->nc_exclude_ip, p->nnc_exclude_ip);
	check_list(p->nc_permit_email, p->nnc_permit_email);
	check_list(p->ocsp_uri, p->nocsp_uri);
	check_list(p->ca_issuers_uri, p->nca_issuers_uri);
	check_list(p->crl_dist_points, p->ncrl_dist_points);
	cm_profile_free(p);
	return 0;
}
