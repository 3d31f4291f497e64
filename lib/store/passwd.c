/*
 * passwd.c - the store passphrase: one passphrase encrypts every private
 * key kept in the store, or none does.
 *
 * Why one: leaf keys are kept so that export can rebuild bundles, and they
 * are as secret as the CA key that vouches for them; a per-CA passphrase
 * would leave a store half protected whenever one CA has none.  So a store
 * is either encrypted (every PKCS#8 row encrypted with the same
 * passphrase) or not, cm_store_passwd() moves between the states in one
 * transaction, and new keys must join the state the store is in.
 *
 * PBKDF2 strength: GnuTLS (>= 3.7.3) encrypts PKCS#8 with PBES2,
 * PBKDF2-HMAC-SHA256 and 600000 iterations (set when GnuTLS is built,
 * not per call).  Rather than re-implement PBES2, we use it and read the
 * iteration count back from every key we encrypt, refusing to store a key
 * protected by fewer than CM_PBKDF2_MIN_ITER rounds (an old or oddly
 * built GnuTLS).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PASS_MAX 1024

static void
wipe(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* Opens key id with pass, to check that pass is the store's. */
static cm_err
check_pass(cm_store *st, int64_t id, const char *pass)
{
	cm_ctx *ctx = cm__store_ctx(st);
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_privkey_t key = NULL;
	char what[160];
	bool enc;
	cm_err err;

	if ((err = cm__store_key_get(&der, &enc, st, id)) != CM_OK)
		return err;
	cm__store_key_owner(what, sizeof(what), st, id);
	err = cm__key_import_pkcs8(&key, ctx, &der, pass, what);
	gnutls_x509_privkey_deinit(key);
	wipe(&der);
	if (err == CM_E_PASSPHRASE)
		err = cm__fail(ctx, CM_E_PASSPHRASE, "store: wrong passphrase "
		    "(it does not open the key of %s)", what);
	return err;
}

cm_err
cm__store_passphrase_for_new_key(char **out, cm_store *st, const char *given)
{
	cm_ctx *ctx = cm__store_ctx(st);
	char pass[PASS_MAX];
	size_t nenc = 0, nplain = 0;
	int64_t enc_id = 0;
	cm_err err;

	*out = NULL;
	pass[0] = '\0';
	if ((err = cm__store_key_counts(&nenc, &nplain, &enc_id, st)) != CM_OK)
		return err;
	if (nenc == 0 && nplain > 0 && given != NULL && given[0] != '\0')
		return cm__fail(ctx, CM_E_INVALID, "store keeps its keys "
		    "unencrypted: set a passphrase for all of them with "
		    "'certmint passwd' first");
	if (nenc == 0) {
		if (given != NULL && given[0] != '\0' &&
		    (*out = strdup(given)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		return CM_OK;
	}
	if (given == NULL || given[0] == '\0') {
		if ((err = cm__ask_passphrase(ctx, pass, sizeof(pass),
		    "the store")) != CM_OK)
			goto out;
		given = pass;
	}
	if ((err = check_pass(st, enc_id, given)) != CM_OK)
		goto out;
	if ((*out = strdup(given)) == NULL)
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
out:
	explicit_bzero(pass, sizeof(pass));
	return err;
}

cm_err
cm_store_has_passphrase(bool *out, cm_store *st)
{
	size_t nenc = 0, nplain = 0;
	int64_t id;
	cm_err err;

	if ((err = cm__store_key_counts(&nenc, &nplain, &id, st)) == CM_OK)
		*out = nenc > 0;
	return err;
}

cm_err
cm_store_passwd(size_t *nkeys, cm_store *st, const char *old,
    const char *new_pass)
{
	cm_ctx *ctx = cm__store_ctx(st);
	char pass[PASS_MAX], what[160], msg[CM_ERRBUF];
	const char *done;
	gnutls_datum_t der = { NULL, 0 }, re = { NULL, 0 };
	gnutls_x509_privkey_t key = NULL;
	int64_t *ids = NULL, enc_id;
	size_t n = 0, i, nenc, nplain;
	bool enc, in_tx = false, encrypt;
	cm_err err;

	pass[0] = '\0';
	encrypt = new_pass != NULL && new_pass[0] != '\0';
	/* Under the write lock from the start: no key may slip in between
	 * reading the list and rewriting it. */
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	if ((err = cm__store_key_counts(&nenc, &nplain, &enc_id, st)) != CM_OK)
		goto out;
	if (nenc == 0 && nplain == 0) {
		err = cm__fail(ctx, CM_E_NOTFOUND, "store has no key to "
		    "protect (run 'certmint init' first)");
		goto out;
	}
	if (nenc == 0 && !encrypt) {
		err = cm__fail(ctx, CM_E_INVALID, "store has no passphrase to "
		    "remove");
		goto out;
	}
	if (nenc > 0 && (old == NULL || old[0] == '\0')) {
		if ((err = cm__ask_passphrase(ctx, pass, sizeof(pass),
		    "the store (current)")) != CM_OK)
			goto out;
		old = pass;
	}
	if ((err = cm__store_key_ids(&ids, &n, st)) != CM_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((err = cm__store_key_get(&der, &enc, st, ids[i])) != CM_OK)
			goto out;
		cm__store_key_owner(what, sizeof(what), st, ids[i]);
		err = cm__key_import_pkcs8(&key, ctx, &der, enc ? old : NULL,
		    what);
		if (err == CM_E_PASSPHRASE)
			err = cm__fail(ctx, CM_E_PASSPHRASE, "store: wrong "
			    "passphrase (it does not open the key of %s); "
			    "nothing changed", what);
		if (err != CM_OK)
			goto out;
		if ((err = cm__key_export_pkcs8(&re, ctx, key,
		    encrypt ? new_pass : NULL)) != CM_OK)
			goto out;
		if ((err = cm__store_key_update(st, ids[i], &re, encrypt)) !=
		    CM_OK)
			goto out;
		gnutls_x509_privkey_deinit(key);
		key = NULL;
		wipe(&der);
		wipe(&re);
	}
	done = !encrypt ? "removed" : nenc ? "changed" : "set";
	if ((err = cm__store_event(st, "store.passwd", NULL,
	    !encrypt ? "passphrase removed" : nenc ? "passphrase changed" :
	    "passphrase set")) != CM_OK)
		goto out;
	/* In the same transaction: a kill after the commit leaves the wipe
	 * pending, for the next command that opens the store. */
	if ((err = cm__store_wipe_mark(st)) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	if ((err = cm__failpoint(ctx, "passwd.after_reencrypt")) != CM_OK)
		goto out;
	/* The keys as they were stay in the WAL's old frames, and in the
	 * store's pages until the WAL is folded: not a success until both
	 * are wiped.  A reader of another program keeps the WAL from being
	 * folded: after the busy timeout, a failure that names it; the
	 * wipe stays pending (the next command that opens the store, or
	 * this one at close, finishes it). */
	if ((err = cm__store_wal_wipe(st)) != CM_OK) {
		snprintf(msg, sizeof(msg), "%s", cm_ctx_error(ctx));
		err = cm__fail(ctx, err, "passphrase %s (%zu key%s), not yet "
		    "wiped: %s", done, n, n == 1 ? "" : "s", msg);
		goto out;
	}
	if (nkeys != NULL)
		*nkeys = n;
out:
	if (in_tx)
		cm__store_rollback(st);
	explicit_bzero(pass, sizeof(pass));
	gnutls_x509_privkey_deinit(key);
	wipe(&der);
	wipe(&re);
	free(ids);
	return err;
}
