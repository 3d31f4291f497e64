/* status.c - the state of a store at a glance: counts, expiries, CRLs due. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_EXPIRIES 10
#define MAX_EXPIRIES 10000

void
cm_status_free(cm_status *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncas; i++) {
		free(s->cas[i].name);
		free(s->cas[i].parent);
		free(s->cas[i].state);
	}
	free(s->cas);
	for (i = 0; i < s->nexpiries; i++) {
		free(s->expiries[i].name);
		free(s->expiries[i].serial);
		free(s->expiries[i].ca);
	}
	free(s->expiries);
	for (i = 0; i < s->ncrls; i++)
		free(s->crls[i].ca);
	free(s->crls);
	free(s);
}

static int
cmp_crl(const void *a, const void *b)
{
	const cm_status_crl *x = a, *y = b;

	return (x->next_update > y->next_update) -
	    (x->next_update < y->next_update);
}

/*
 * Each CA's next CRL update (its newest CRL's nextUpdate), soonest first.
 * A CA that never published a CRL has none due.
 */
static cm_err
status_crls(cm_status *s, cm_store *st)
{
	cm__ca_rec rec;
	int64_t number;
	time_t next;
	size_t i;
	cm_err err;

	s->crls = NULL;
	s->ncrls = 0;
	if (s->ncas == 0)
		return CM_OK;
	if ((s->crls = calloc(s->ncas, sizeof(*s->crls))) == NULL)
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "out of memory");
	for (i = 0; i < s->ncas; i++) {
		if ((err = cm__store_ca_get(&rec, st, s->cas[i].name)) != CM_OK)
			return err;
		err = cm__store_crl_latest(&number, &next, st, rec.id);
		cm__ca_rec_clear(&rec);
		if (err != CM_OK)
			return err;
		/* Only CAs that publish CRLs have one due. */
		if (number == 0)
			continue;
		if ((s->crls[s->ncrls].ca = strdup(s->cas[i].name)) == NULL)
			return cm__fail(cm__store_ctx(st), CM_E_NOMEM,
			    "out of memory");
		s->crls[s->ncrls++].next_update = next;
	}
	qsort(s->crls, s->ncrls, sizeof(*s->crls), cmp_crl);
	return CM_OK;
}

cm_err
cm_status_get(cm_status **out, cm_store *st, size_t max_expiries)
{
	cm_status *s;
	cm_err err;

	if (max_expiries == 0)
		max_expiries = DEFAULT_EXPIRIES;
	if (max_expiries > MAX_EXPIRIES)
		max_expiries = MAX_EXPIRIES;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cm__fail(cm__store_ctx(st), CM_E_NOMEM, "out of memory");
	if ((err = cm__store_status(s, st, max_expiries)) != CM_OK ||
	    (err = status_crls(s, st)) != CM_OK) {
		cm_status_free(s);
		return err;
	}
	*out = s;
	return CM_OK;
}
