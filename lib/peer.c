/* peer.c - scenarios with one side replaced by a real TLS tool. */
#include "config.h"

#include "harness.h"

cm_err
cm__peer_run(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o)
{
	cm_err err;

	if ((err = cm__result_new(out, ctx, sc, cm_peer_name(o->peer))) !=
	    CM_OK)
		return err;
	(*out)->skipped = true;
	(*out)->detail = cm__strdup("peer not implemented");
	return CM_OK;
}
