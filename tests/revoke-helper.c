/*
 * revoke-helper.c - test helper: revokes a certificate through
 * cm_cert_revoke() until the 'certmint revoke' command is merged.
 * usage: revoke-helper STORE SERIAL|NAME [REASON [EPOCH]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "certmint.h"

int
main(int argc, char **argv)
{
	cm_ctx *ctx = NULL;
	cm_store *st = NULL;
	cm_revoke_reason reason = CM_REASON_UNSPECIFIED;
	time_t at = 0;
	cm_err err;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: revoke-helper STORE REF [REASON "
		    "[EPOCH]]\n");
		return 2;
	}
	if (cm_ctx_new(&ctx) != CM_OK)
		return 4;
	if ((err = cm_store_open(&st, ctx, argv[1], 0)) != CM_OK ||
	    (argc > 3 && (err = cm_revoke_reason_parse(&reason, ctx,
	    argv[3])) != CM_OK))
		goto out;
	if (argc > 4)
		at = (time_t)strtoll(argv[4], NULL, 10);
	err = cm_cert_revoke(NULL, st, argv[2], reason, at);
out:
	if (err != CM_OK)
		fprintf(stderr, "revoke-helper: %s\n", cm_ctx_error(ctx));
	cm_store_close(st);
	cm_ctx_free(ctx);
	return err == CM_OK ? 0 : 1;
}
