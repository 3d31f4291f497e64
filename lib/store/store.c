/*
 * store.c - the inventory's operations: CAs, certificates, keys,
 * revocations, CRLs, events and ACME state, in the SQL both backends of
 * store.h speak (sqlite.c, pg.c).  The only file above them that speaks
 * SQL: the rest of the library goes through the cm__store_* calls in
 * internal.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

int
cm_store_schema_latest(void)
{
	int v = 0, i;

	for (i = 0; cm__migrations[i].name != NULL; i++)
		v = (int)strtol(cm__migrations[i].name, NULL, 10);
	return v;
}

cm_ctx *
cm__store_ctx(const cm_store *st)
{
	return st->ctx;
}

const char *
cm_store_dir(const cm_store *st)
{
	return st->dir;
}

const char *
cm__store_backend(const cm_store *st)
{
	return st->ops->name;
}

void
cm_store_set_busy_timeout(cm_store *st, int ms)
{
	st->ops->set_busy_timeout(st, ms);
}

/* The one place backend codes become ours. */
static cm_err
sql_fail(cm_store *st, int rc, const char *what)
{
	return st->ops->fail(st, rc, what);
}

static cm_err
exec(cm_store *st, const char *sql, const char *what)
{
	int rc = st->ops->exec(st, sql);

	return rc == 0 ? CM_OK : sql_fail(st, rc, what);
}

static cm_err
prepare(cm_store *st, cm__stmt **stmt, const char *sql)
{
	int rc = st->ops->prepare(st, stmt, sql);

	return rc == 0 ? CM_OK : sql_fail(st, rc, "preparing a query");
}

/* Like prepare, but keeps the statement for the next call; give it back
 * with release(). */
static cm_err
prepare_cached(cm_store *st, cm__stmt **stmt, const char *sql)
{
	size_t i;
	cm_err err;

	for (i = 0; i < STMT_CACHE && st->cache[i].sql != NULL; i++)
		if (st->cache[i].sql == sql) {
			*stmt = st->cache[i].stmt;
			return CM_OK;
		}
	if ((err = prepare(st, stmt, sql)) != CM_OK || i == STMT_CACHE)
		return err;
	(*stmt)->ops->keep(*stmt);
	st->cache[i].sql = sql;
	st->cache[i].stmt = *stmt;
	return CM_OK;
}

/* Finalizes a statement, or resets it when it is cached. */
static void
release(cm_store *st, cm__stmt *stmt)
{
	size_t i;

	for (i = 0; i < STMT_CACHE; i++)
		if (st->cache[i].stmt == stmt && stmt != NULL) {
			db_reset(stmt);
			return;
		}
	db_finalize(stmt);
}

cm_err
cm_store_default_path(char *buf, size_t len, cm_ctx *ctx)
{
	const char *env = getenv("CERTMINT_STORE");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env != NULL && env[0] != '\0')
		n = snprintf(buf, len, "%s", env);
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/certmint/certmint.db", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.local/share/certmint/certmint.db",
		    home);
	else
		return cm__fail(ctx, CM_E_INVALID, "no store path: set "
		    "--store, CERTMINT_STORE, XDG_DATA_HOME or HOME");
	if (n < 0 || (size_t)n >= len)
		return cm__fail(ctx, CM_E_INVALID, "store path too long");
	return CM_OK;
}

/*
 * Applies the migrations the store lacks, inside one write transaction:
 * a second process (a second host, on PostgreSQL) migrating at the same
 * time waits on the writers' lock, then finds the work done.
 */
cm_err
cm__store_migrate(cm_store *st)
{
	int v, latest = cm_store_schema_latest(), i, mv;
	cm_err err;

	if ((err = cm__store_begin(st)) != CM_OK)
		return err;
	/* Read again under the write lock: another process may have won. */
	if ((err = st->ops->schema_get(st, &v)) != CM_OK)
		goto out;
	if (v > latest) {
		err = cm__fail(st->ctx, CM_E_STORE_NEWER, "store %s is schema "
		    "%d, this certmint knows up to %d: upgrade certmint",
		    st->path, v, latest);
		goto out;
	}
	for (i = 0; cm__migrations[i].name != NULL; i++) {
		mv = (int)strtol(cm__migrations[i].name, NULL, 10);
		if (mv <= v)
			continue;
		err = exec(st, st->ops->migration(cm__migrations[i].name,
		    cm__migrations[i].text), cm__migrations[i].name);
		if (err != CM_OK)
			goto out;
	}
	if (v < latest && (err = st->ops->schema_set(st, latest)) != CM_OK)
		goto out;
	err = cm__store_commit(st);
out:
	if (err != CM_OK)
		cm__store_rollback(st);
	return err;
}

/*
 * A plain path is an SQLite store; "postgresql://..." (or postgres://, or
 * a libpq keyword string) a PostgreSQL one; any other SCHEME:// is refused
 * untouched rather than made into a folder named "scheme:".
 */
static cm_err
refuse_uri(cm_ctx *ctx, const char *path)
{
	size_t n = strspn(path, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (n == 0 || strncmp(path + n, "://", 3) != 0 ||
	    !((path[0] >= 'a' && path[0] <= 'z') || (path[0] >= 'A' &&
	    path[0] <= 'Z')))
		return CM_OK;
	return cm__fail(ctx, CM_E_INVALID, "store '%.*s://...': a store is a "
	    "file path (SQLite) or a postgresql:// URI, not a %.*s URI",
	    (int)n, path, (int)n, path);
}

cm_err
cm_store_open(cm_store **out, cm_ctx *ctx, const char *path, unsigned flags)
{
	cm_store *st = NULL;
	cm_err err;

	if (!(flags & CM_STORE_MEMORY)) {
		if (path == NULL || path[0] == '\0')
			return cm__fail(ctx, CM_E_INVALID, "store path is "
			    "empty");
		if (!cm__pg_is_conninfo(path) &&
		    (err = refuse_uri(ctx, path)) != CM_OK)
			return err;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	st->ctx = ctx;
	if ((st->path = strdup(flags & CM_STORE_MEMORY ? "(in memory)" :
	    path)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if (flags & CM_STORE_MEMORY)
		err = cm__sqlite_open_memory(st);
	else if (cm__pg_is_conninfo(path))
		err = cm__pg_open(st, flags);
	else
		err = cm__sqlite_open(st, flags);
	if (err == CM_OK) {
		*out = st;
		st = NULL;
	}
out:
	cm_store_close(st);
	return err;
}

void
cm_store_close(cm_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < STMT_CACHE; i++)
		db_finalize(st->cache[i].stmt);
	if (st->ops != NULL)
		st->ops->close(st);
	free(st->path);
	free(st->dir);
	free(st);
}

cm_err
cm__store_wipe_mark(cm_store *st)
{
	return st->ops->wipe_mark(st);
}

cm_err
cm__store_wal_wipe(cm_store *st)
{
	return st->ops->wipe_now(st);
}

cm_err
cm_store_wipe_pending(bool *out, cm_store *st)
{
	return st->ops->wipe_pending(out, st);
}

cm_err
cm__store_integrity(char ***out, cm_store *st)
{
	return st->ops->integrity(out, st);
}

cm_err
cm__store_data_version(int64_t *out, cm_store *st)
{
	return st->ops->data_version(out, st);
}

bool
cm__store_may_have_changed(cm_store *st)
{
	return st->ops->may_have_changed(st);
}

void
cm__store_changes_unseen(cm_store *st)
{
	st->ops->changes_unseen(st);
}

cm_err
cm__store_begin(cm_store *st)
{
	return st->ops->begin(st);
}

cm_err
cm__store_commit(cm_store *st)
{
	cm_err (*fn)(cm_store *, void *) = st->precommit;
	cm_err err;

	st->precommit = NULL;
	if (fn != NULL && (err = fn(st, st->precommit_arg)) != CM_OK)
		return err;
	return st->ops->commit(st);
}

void
cm__store_set_precommit(cm_store *st, cm_err (*fn)(cm_store *, void *),
    void *arg)
{
	st->precommit = fn;
	st->precommit_arg = arg;
}

void
cm__store_rollback(cm_store *st)
{
	st->precommit = NULL;
	st->ops->rollback(st);
}

int64_t
cm__store_last_cert_id(cm_store *st)
{
	return st->last_cert_id;
}

static cm_err
step_done(cm_store *st, cm__stmt *s, const char *what)
{
	int rc = db_step(s);

	return rc == CM__DONE ? CM_OK : sql_fail(st, rc, what);
}

cm_err
cm__store_key_insert(int64_t *id, cm_store *st, cm_key_type type,
    const gnutls_datum_t *pkcs8, bool encrypted)
{
	cm__stmt *s = NULL;
	cm_err err;

	static const char sql[] = "INSERT INTO keys (key_type, pkcs8, "
	    "encrypted) VALUES (?, ?, ?)";

	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_text(s, 1, cm_key_type_name(type), -1, CM__STATIC);
	db_bind_blob(s, 2, pkcs8->data, (int)pkcs8->size, CM__STATIC);
	db_bind_int64(s, 3, encrypted);
	if ((err = step_done(st, s, "storing key")) == CM_OK)
		*id = st->ops->last_id(st);
	release(st, s);
	return err;
}

cm_err
cm__store_key_get(gnutls_datum_t *pkcs8, bool *encrypted, cm_store *st,
    int64_t id)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc, n;

	if ((err = prepare(st, &s, "SELECT pkcs8, encrypted FROM keys "
	    "WHERE id = ?")) != CM_OK)
		return err;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc != CM__ROW) {
		err = rc == CM__DONE ? cm__fail(st->ctx, CM_E_STORE,
		    "store %s: key %lld is missing", st->path, (long long)id) :
		    sql_fail(st, rc, "reading key");
		goto out;
	}
	n = db_col_bytes(s, 0);
	if (db_col_type(s, 0) != CM__BLOB || n <= 0) {
		err = cm__fail(st->ctx, CM_E_STORE, "store %s: key %lld is not "
		    "kept as PKCS#8", st->path, (long long)id);
		goto out;
	}
	if ((pkcs8->data = gnutls_malloc((size_t)n)) == NULL) {
		err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(pkcs8->data, db_col_blob(s, 0), (size_t)n);
	pkcs8->size = (unsigned)n;
	*encrypted = db_col_int(s, 1) != 0;
out:
	db_finalize(s);
	return err;
}

static char *
col_dup(cm__stmt *s, int i)
{
	const char *t = db_col_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Whether col_dup() of column i gave NULL for a value that is there: out
 * of memory, not an SQL NULL. */
static bool
col_lost(cm__stmt *s, int i, const char *dup)
{
	return dup == NULL && db_col_type(s, i) != CM__NULL;
}

/* The text of the first column of s's one row, or NULL without a row;
 * finalizes s. */
static cm_err
step_text(char **out, cm_store *st, cm__stmt *s, const char *what)
{
	cm_err err = CM_OK;
	int rc;

	*out = NULL;
	if ((rc = db_step(s)) == CM__ROW) {
		if ((*out = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc != CM__DONE) {
		err = sql_fail(st, rc, what);
	}
	db_finalize(s);
	return err;
}

/* Splits "a\nb\nc" into a new array. */
static cm_err
split_lines(char ***out, size_t *n, const char *text)
{
	char **v = NULL;
	size_t count = 0, i = 0;
	const char *p, *nl;

	*out = NULL;
	*n = 0;
	if (text == NULL || text[0] == '\0')
		return CM_OK;
	for (p = text; *p; p++)
		count += *p == '\n';
	count++;
	if ((v = calloc(count, sizeof(*v))) == NULL)
		return CM_E_NOMEM;
	for (p = text; i < count; i++) {
		nl = strchr(p, '\n');
		v[i] = nl ? strndup(p, (size_t)(nl - p)) : strdup(p);
		if (v[i] == NULL) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return CM_E_NOMEM;
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	*out = v;
	*n = count;
	return CM_OK;
}

static char *
der_to_pem(const void *der, int len)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)der, (unsigned)len };
	gnutls_datum_t pem = { NULL, 0 };
	char *s;

	if (gnutls_pem_base64_encode2("CERTIFICATE", &in, &pem) < 0)
		return NULL;
	s = strndup((const char *)pem.data, pem.size);
	gnutls_free(pem.data);
	return s;
}

void
cm_ca_info_free(cm_ca_info *ca)
{
	size_t i;

	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->parent);
	free(ca->subject);
	free(ca->serial);
	free(ca->key_type);
	free(ca->fingerprint);
	for (i = 0; i < ca->npermitted; i++)
		free(ca->permitted[i]);
	free(ca->permitted);
	free(ca->pem);
	free(ca);
}

void
cm_ca_info_list_free(cm_ca_info **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		cm_ca_info_free(list[i]);
	free(list);
}

void
cm__ca_rec_clear(cm__ca_rec *r)
{
	size_t i;

	free(r->info.name);
	free(r->info.parent);
	free(r->info.subject);
	free(r->info.serial);
	free(r->info.key_type);
	free(r->info.fingerprint);
	for (i = 0; i < r->info.npermitted; i++)
		free(r->info.permitted[i]);
	free(r->info.permitted);
	free(r->info.pem);
	gnutls_free(r->der.data);
	memset(r, 0, sizeof(*r));
}

static char *
join_lines(char *const *v, size_t n)
{
	size_t len = 1, i;
	char *s, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	p = s;
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
		if (i + 1 < n)
			*p++ = '\n';
	}
	*p = '\0';
	return s;
}

cm_err
cm__store_ca_insert(int64_t *id, cm_store *st, const cm__ca_rec *r)
{
	cm__stmt *s = NULL;
	char *permitted = NULL;
	cm_err err;

	if ((permitted = join_lines(r->info.permitted,
	    r->info.npermitted)) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	if ((err = prepare(st, &s, "INSERT INTO cas (name, parent_id, key_id, "
	    "cert_der, subject, serial, key_type, not_before, not_after, "
	    "fingerprint, permitted, path_len, created) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) != CM_OK)
		goto out;
	db_bind_text(s, 1, r->info.name, -1, CM__STATIC);
	if (r->parent_id > 0)
		db_bind_int64(s, 2, r->parent_id);
	db_bind_int64(s, 3, r->key_id);
	db_bind_blob(s, 4, r->der.data, (int)r->der.size, CM__STATIC);
	db_bind_text(s, 5, r->info.subject, -1, CM__STATIC);
	db_bind_text(s, 6, r->info.serial, -1, CM__STATIC);
	db_bind_text(s, 7, r->info.key_type, -1, CM__STATIC);
	db_bind_int64(s, 8, (int64_t)r->info.not_before);
	db_bind_int64(s, 9, (int64_t)r->info.not_after);
	db_bind_text(s, 10, r->info.fingerprint, -1, CM__STATIC);
	db_bind_text(s, 11, permitted, -1, CM__STATIC);
	db_bind_int64(s, 12, r->info.path_len);
	db_bind_int64(s, 13, (int64_t)cm_ctx_now(st->ctx));
	if ((err = step_done(st, s, "storing CA")) == CM_OK)
		*id = st->ops->last_id(st);
out:
	db_finalize(s);
	free(permitted);
	return err;
}

/* The issued count costs a walk over the CA's certificates: only listings
 * ask for it (CA_COLUMNS_COUNTED); lookups for signing, CRLs and chains
 * take 0 in its place, so that they do not slow down as the store grows. */
#define CA_COLUMNS_WITH(issued) "c.id, c.parent_id, c.key_id, c.name, " \
	"p.name, c.subject, c.serial, c.key_type, c.fingerprint, " \
	"c.not_before, c.not_after, k.encrypted, c.permitted, c.path_len, " \
	issued ", c.cert_der " \
	"FROM cas c JOIN keys k ON k.id = c.key_id " \
	"LEFT JOIN cas p ON p.id = c.parent_id "
#define CA_COLUMNS CA_COLUMNS_WITH("0")
#define CA_COLUMNS_COUNTED \
	CA_COLUMNS_WITH("(SELECT count(*) FROM certs WHERE ca_id = c.id)")

static cm_err
ca_row(cm__ca_rec *r, cm_store *st, cm__stmt *s)
{
	int n;

	memset(r, 0, sizeof(*r));
	r->id = db_col_int64(s, 0);
	r->parent_id = db_col_int64(s, 1);
	r->key_id = db_col_int64(s, 2);
	r->info.name = col_dup(s, 3);
	r->info.parent = col_dup(s, 4);
	r->info.subject = col_dup(s, 5);
	r->info.serial = col_dup(s, 6);
	r->info.key_type = col_dup(s, 7);
	r->info.fingerprint = col_dup(s, 8);
	r->info.not_before = (time_t)db_col_int64(s, 9);
	r->info.not_after = (time_t)db_col_int64(s, 10);
	r->info.encrypted = db_col_int(s, 11) != 0;
	if (split_lines(&r->info.permitted, &r->info.npermitted,
	    (const char *)db_col_text(s, 12)) != CM_OK)
		goto nomem;
	r->info.path_len = db_col_int(s, 13);
	r->info.issued = (size_t)db_col_int64(s, 14);
	n = db_col_bytes(s, 15);
	r->der.data = gnutls_malloc((size_t)n);
	if (r->der.data == NULL)
		goto nomem;
	memcpy(r->der.data, db_col_blob(s, 15), (size_t)n);
	r->der.size = (unsigned)n;
	r->info.pem = der_to_pem(r->der.data, n);
	if (r->info.name == NULL || r->info.subject == NULL ||
	    r->info.pem == NULL || col_lost(s, 4, r->info.parent) ||
	    col_lost(s, 6, r->info.serial) ||
	    col_lost(s, 7, r->info.key_type) ||
	    col_lost(s, 8, r->info.fingerprint))
		goto nomem;
	return CM_OK;
nomem:
	cm__ca_rec_clear(r);
	return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
}

cm_err
cm__store_ca_get(cm__ca_rec *out, cm_store *st, const char *name)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc, count = 0;
	char names[160] = "";

	if (name != NULL)
		err = prepare(st, &s, "SELECT " CA_COLUMNS "WHERE c.name = ?");
	else
		err = prepare(st, &s, "SELECT " CA_COLUMNS "ORDER BY c.id");
	if (err != CM_OK)
		return err;
	if (name != NULL)
		db_bind_text(s, 1, name, -1, CM__STATIC);
	while ((rc = db_step(s)) == CM__ROW) {
		const char *n = (const char *)db_col_text(s, 3);
		size_t used = strlen(names);
		if (count++ == 0 && (err = ca_row(out, st, s)) != CM_OK)
			goto out;
		snprintf(names + used, sizeof(names) - used, "%s'%s'",
		    used ? ", " : "", n ? n : "");
	}
	if (rc != CM__DONE) {
		if (count > 0)
			cm__ca_rec_clear(out);
		err = sql_fail(st, rc, "reading CAs");
		goto out;
	}
	if (count == 0) {
		err = name ? cm__fail(st->ctx, CM_E_NOTFOUND, "CA '%s' not "
		    "found in store %s", name, st->path) :
		    cm__fail(st->ctx, CM_E_NOTFOUND, "store %s has no CA (run "
		    "'certmint init')", st->path);
	} else if (count > 1) {
		cm__ca_rec_clear(out);
		err = cm__fail(st->ctx, CM_E_AMBIGUOUS, "store has %d CAs, "
		    "name one: %s", count, names);
	}
out:
	db_finalize(s);
	return err;
}

cm_err
cm__store_ca_list(cm_ca_info ***out, size_t *n, cm_store *st)
{
	cm__stmt *s = NULL;
	cm_ca_info **v = NULL, **nv;
	size_t count = 0;
	cm__ca_rec r;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT " CA_COLUMNS_COUNTED
	    "ORDER BY c.id")) != CM_OK)
		return err;
	while ((rc = db_step(s)) == CM__ROW) {
		if ((err = ca_row(&r, st, s)) != CM_OK)
			goto out;
		nv = realloc(v, (count + 1) * sizeof(*v));
		if (nv == NULL || (nv[count] = malloc(sizeof(**v))) == NULL) {
			if (nv != NULL)
				v = nv;
			cm__ca_rec_clear(&r);
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		*v[count++] = r.info;
		gnutls_free(r.der.data);
	}
	if (rc != CM__DONE) {
		err = sql_fail(st, rc, "listing CAs");
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
out:
	cm_ca_info_list_free(v, count);
	db_finalize(s);
	return err;
}

/* One integer from a query of one row, with one int64 parameter unless
 * id < 0. */
static cm_err
query_int64(int64_t *out, cm_store *st, const char *sql, int64_t id,
    const char *what)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, sql)) != CM_OK)
		return err;
	if (id >= 0)
		db_bind_int64(s, 1, id);
	if ((rc = db_step(s)) == CM__ROW)
		*out = db_col_int64(s, 0);
	else
		err = sql_fail(st, rc, what);
	db_finalize(s);
	return err;
}

cm_err
cm__store_ca_count(size_t *n, cm_store *st)
{
	int64_t v = 0;
	cm_err err = query_int64(&v, st, "SELECT count(*) FROM cas", -1,
	    "counting CAs");

	*n = (size_t)v;
	return err;
}

cm_err
cm__store_ca_issued(size_t *n, cm_store *st, int64_t ca_id)
{
	int64_t v = 0;
	cm_err err = query_int64(&v, st, "SELECT count(*) FROM certs WHERE "
	    "ca_id = ?", ca_id, "counting certificates");

	*n = (size_t)v;
	return err;
}

cm_err
cm__store_ca_name_by_fp(char **name, cm_store *st, const char *fp)
{
	cm__stmt *s = NULL;
	cm_err err;

	*name = NULL;
	if ((err = prepare(st, &s, "SELECT name FROM cas WHERE fingerprint = "
	    "?")) != CM_OK)
		return err;
	db_bind_text(s, 1, fp, -1, CM__STATIC);
	return step_text(name, st, s, "reading CAs");
}

cm_err
cm__store_revocation_by_fp(bool *revoked, time_t *at, int *reason,
    char *serial, size_t serial_len, cm_store *st, const char *fp)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	*revoked = false;
	if ((err = prepare(st, &s, "SELECT revoked_at, revocation_reason, "
	    "serial FROM certs WHERE fingerprint = ? AND status = "
	    "'revoked'")) != CM_OK)
		return err;
	db_bind_text(s, 1, fp, -1, CM__STATIC);
	if ((rc = db_step(s)) == CM__ROW) {
		*revoked = true;
		*at = (time_t)db_col_int64(s, 0);
		*reason = db_col_type(s, 1) == CM__NULL ? 0 :
		    db_col_int(s, 1);
		snprintf(serial, serial_len, "%s",
		    (const char *)db_col_text(s, 2));
	} else if (rc != CM__DONE) {
		err = sql_fail(st, rc, "reading revocations");
	}
	db_finalize(s);
	return err;
}

cm_err
cm__store_serial_taken(bool *taken, cm_store *st, int64_t ca_id,
    const char *serial)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	static const char sql[] = "SELECT 1 FROM certs WHERE ca_id = ? AND "
	    "serial = ? UNION ALL SELECT 1 FROM cas WHERE id = ? AND "
	    "serial = ?";

	*taken = true;
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	db_bind_text(s, 2, serial, -1, CM__STATIC);
	db_bind_int64(s, 3, ca_id);
	db_bind_text(s, 4, serial, -1, CM__STATIC);
	rc = db_step(s);
	if (rc == CM__ROW || rc == CM__DONE)
		*taken = rc == CM__ROW;
	else
		err = sql_fail(st, rc, "looking up a serial");
	release(st, s);
	return err;
}

cm_err
cm__store_cert_insert(cm_store *st, const cm__cert_rec *r)
{
	cm__stmt *s = NULL, *sn = NULL;
	int64_t id;
	size_t i;
	cm_err err;
	cm__name nm;

	static const char sql[] = "INSERT INTO certs (ca_id, serial, "
	    "subject, cn, profile, key_type, not_before, not_after, der, "
	    "fingerprint, key_id, created) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sqln[] = "INSERT INTO cert_names (cert_id, pos, "
	    "type, name) VALUES (?, ?, ?, ?)";

	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		goto out;
	if ((err = prepare_cached(st, &sn, sqln)) != CM_OK)
		goto out;
	db_bind_int64(s, 1, r->ca_id);
	db_bind_text(s, 2, r->info.serial, -1, CM__STATIC);
	db_bind_text(s, 3, r->info.subject, -1, CM__STATIC);
	db_bind_text(s, 4, r->info.names[0], -1, CM__STATIC);
	db_bind_text(s, 5, r->info.profile, -1, CM__STATIC);
	db_bind_text(s, 6, r->info.key_type, -1, CM__STATIC);
	db_bind_int64(s, 7, (int64_t)r->info.not_before);
	db_bind_int64(s, 8, (int64_t)r->info.not_after);
	db_bind_blob(s, 9, r->der, (int)r->derlen, CM__STATIC);
	db_bind_text(s, 10, r->info.fingerprint, -1, CM__STATIC);
	if (r->key_id > 0)
		db_bind_int64(s, 11, r->key_id);
	db_bind_int64(s, 12, (int64_t)cm_ctx_now(st->ctx));
	if ((err = step_done(st, s, "storing certificate")) != CM_OK)
		goto out;
	id = st->ops->last_id(st);
	st->last_cert_id = id;
	for (i = 0; i < r->info.nnames; i++) {
		const char *type = "dns";
		cm_err perr = cm__name_parse(&nm, NULL, r->info.names[i]);
		if (perr == CM_OK) {
			type = cm_name_type_label(nm.type);
			cm__name_clear(&nm);
		} else if (perr == CM_E_NOMEM) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		db_reset(sn);
		db_bind_int64(sn, 1, id);
		db_bind_int64(sn, 2, (int)i);
		db_bind_text(sn, 3, type, -1, CM__STATIC);
		db_bind_text(sn, 4, r->info.names[i], -1, CM__STATIC);
		if ((err = step_done(st, sn, "storing names")) != CM_OK)
			goto out;
	}
out:
	release(st, s);
	release(st, sn);
	return err;
}

#define CERT_COLUMNS "c.serial, a.name, c.subject, " \
	"(SELECT group_concat(name, '\n') FROM (SELECT name FROM " \
	"cert_names WHERE cert_id = c.id ORDER BY pos) n), c.profile, " \
	"c.key_type, c.fingerprint, c.not_before, c.not_after, " \
	"CASE WHEN c.status = 'valid' AND c.not_after < ?1 THEN 'expired' " \
	"WHEN c.status = 'valid' AND c.not_before > ?1 THEN 'not-yet-valid' " \
	"ELSE c.status END, c.revoked_at, c.der, " \
	"coalesce(c.revocation_reason, -1), coalesce(c.acme_account_id, 0), " \
	"(SELECT thumbprint FROM acme_accounts WHERE id = c.acme_account_id) " \
	"FROM certs c JOIN cas a ON a.id = c.ca_id "

void
cm_cert_info_free(cm_cert_info *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->serial);
	free(c->ca);
	free(c->subject);
	for (i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->profile);
	free(c->key_type);
	free(c->fingerprint);
	free(c->status);
	free(c->pem);
	free(c->cert_path);
	free(c->key_path);
	free(c->chain_path);
	free(c->acme_account_key);
	free(c);
}

void
cm_cert_info_list_free(cm_cert_info **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		cm_cert_info_free(list[i]);
	free(list);
}

static cm_err
cert_row(cm_cert_info **out, cm_store *st, cm__stmt *s)
{
	cm_cert_info *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	c->serial = col_dup(s, 0);
	c->ca = col_dup(s, 1);
	c->subject = col_dup(s, 2);
	if (split_lines(&c->names, &c->nnames,
	    (const char *)db_col_text(s, 3)) != CM_OK)
		goto nomem;
	c->profile = col_dup(s, 4);
	c->key_type = col_dup(s, 5);
	c->fingerprint = col_dup(s, 6);
	c->not_before = (time_t)db_col_int64(s, 7);
	c->not_after = (time_t)db_col_int64(s, 8);
	c->status = col_dup(s, 9);
	c->revoked_at = (time_t)db_col_int64(s, 10);
	c->revocation_reason = db_col_int(s, 12);
	c->acme_account = db_col_int64(s, 13);
	c->acme_account_key = col_dup(s, 14);
	c->pem = der_to_pem(db_col_blob(s, 11),
	    db_col_bytes(s, 11));
	if (c->serial == NULL || c->ca == NULL || c->subject == NULL ||
	    c->profile == NULL || c->key_type == NULL ||
	    c->fingerprint == NULL || c->status == NULL || c->pem == NULL)
		goto nomem;
	*out = c;
	return CM_OK;
nomem:
	cm_cert_info_free(c);
	return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
}

static cm_err
collect(cm_cert_info ***out, size_t *n, cm_store *st, cm__stmt *s)
{
	cm_cert_info **v = NULL, **nv, *c = NULL;
	size_t count = 0;
	cm_err err = CM_OK;
	int rc;

	while ((rc = db_step(s)) == CM__ROW) {
		if ((err = cert_row(&c, st, s)) != CM_OK)
			goto out;
		if ((nv = realloc(v, (count + 1) * sizeof(*v))) == NULL) {
			cm_cert_info_free(c);
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		v[count++] = c;
	}
	if (rc != CM__DONE) {
		err = sql_fail(st, rc, "listing certificates");
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
out:
	cm_cert_info_list_free(v, count);
	return err;
}

cm_err
cm__store_cert_list(cm_cert_info ***out, size_t *n, cm_store *st,
    const cm_list_filter *f)
{
	cm__stmt *s = NULL;
	cm_err err;
	time_t now = cm_ctx_now(st->ctx);
	const char *status = f ? f->status : NULL;

	/*
	 * One statement, every filter optional through NULL parameters.
	 * Names compare as their kind does: DNS names (RFC 4343) and an
	 * email's domain without case, an email's local part and a URI
	 * exactly (RFC 5280 7.5, 7.4); cm_cert_find() finds a first name
	 * without case too.
	 */
	if ((err = prepare(st, &s, "SELECT " CERT_COLUMNS
	    "WHERE (CAST(?2 AS TEXT) IS NULL OR a.name = ?2) "
	    "AND (CAST(?3 AS TEXT) IS NULL OR c.id IN "
	    "(SELECT cert_id FROM cert_names "
	    "WHERE name = ?3 OR (type IN ('dns', 'wildcard') AND "
	    "name = ?3 COLLATE NOCASE) OR (type = 'email' AND "
	    "instr(?3, '@') > 0 AND substr(name, 1, instr(name, '@')) = "
	    "substr(?3, 1, instr(?3, '@')) AND substr(name, instr(name, "
	    "'@') + 1) = substr(?3, instr(?3, '@') + 1) COLLATE NOCASE))) "
	    "AND (CAST(?4 AS TEXT) IS NULL OR "
	    "(?4 = 'expired' AND c.status = 'valid' AND "
	    "c.not_after < ?1) OR (?4 = 'valid' AND c.status = 'valid' AND "
	    "c.not_after >= ?1 AND c.not_before <= ?1) OR "
	    "(?4 = 'not-yet-valid' AND c.status = 'valid' AND "
	    "c.not_before > ?1) OR (?4 NOT IN ('valid', 'expired', "
	    "'not-yet-valid') AND c.status = ?4)) "
	    "AND (CAST(?5 AS BIGINT) IS NULL OR "
	    "(c.status = 'valid' AND c.not_after >= ?1 "
	    "AND c.not_after < ?1 + ?5)) "
	    "ORDER BY c.id")) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)now);
	if (f && f->ca)
		db_bind_text(s, 2, f->ca, -1, CM__STATIC);
	if (f && f->name) {
		/* An address as stored, whatever its spelling (0:0::1). */
		unsigned char a[16];
		char canon[INET6_ADDRSTRLEN];
		int af = strchr(f->name, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, f->name, a) == 1 &&
		    inet_ntop(af, a, canon, sizeof(canon)) != NULL)
			db_bind_text(s, 3, canon, -1, CM__TRANSIENT);
		else
			db_bind_text(s, 3, f->name, -1, CM__STATIC);
	}
	if (status)
		db_bind_text(s, 4, status, -1, CM__STATIC);
	if (f && f->expiring > 0)
		db_bind_int64(s, 5, (int64_t)f->expiring);
	err = collect(out, n, st, s);
	db_finalize(s);
	return err;
}

cm_err
cm__store_cert_find(cm_cert_info **out, cm_store *st, const char *ref)
{
	cm__stmt *s = NULL;
	cm_cert_info **v = NULL;
	size_t n = 0, i, j = 0;
	char hex[128];
	bool is_hex = true;
	cm_err err;
	/* "0x0bd6d4" as openssl x509 -serial shows it ("serial=0BD6D4"). */
	size_t skip = ref[0] == '0' && (ref[1] == 'x' || ref[1] == 'X') &&
	    ref[2] != '\0' ? 2 : 0;

	for (i = skip; ref[i] != '\0' && j + 1 < sizeof(hex); i++) {
		char c = ref[i];
		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			is_hex = false;
		hex[j++] = c;
	}
	hex[j] = '\0';
	if (ref[i] != '\0')
		is_hex = false;
	/* Leading zeros are not part of the value. */
	for (i = 0; is_hex && hex[i] == '0' && hex[i + 1] != '\0'; i++)
		;
	/* A SHA-256 fingerprint (64 hex digits; serials have at most 40). */
	if (is_hex && j == 64) {
		if ((err = prepare(st, &s, "SELECT " CERT_COLUMNS
		    "WHERE c.fingerprint = ?2")) != CM_OK)
			return err;
		db_bind_int64(s, 1, (int64_t)cm_ctx_now(st->ctx));
		db_bind_text(s, 2, hex, -1, CM__STATIC);
		err = collect(&v, &n, st, s);
		db_finalize(s);
		s = NULL;
		if (err != CM_OK)
			return err;
		if (n == 1) {
			*out = v[0];
			free(v);
			return CM_OK;
		}
		cm_cert_info_list_free(v, n);
		v = NULL;
		n = 0;
	}
	/* A whole serial of any length; a prefix from 4 digits on. */
	if (is_hex && j >= 1) {
		/* Serials are stored as whole octets ("0a12..."): the value
		 * compares without leading zeros, a prefix as typed. */
		if ((err = prepare(st, &s, "SELECT " CERT_COLUMNS
		    "WHERE ltrim(c.serial, '0') = ?2 OR "
		    "(length(CAST(?3 AS TEXT)) < "
		    "length(c.serial) AND substr(c.serial, 1, length(?3)) = "
		    "?3) ORDER BY ltrim(c.serial, '0') = ?2 DESC, c.id")) !=
		    CM_OK)
			return err;
		db_bind_int64(s, 1, (int64_t)cm_ctx_now(st->ctx));
		db_bind_text(s, 2, hex + i, -1, CM__STATIC);
		if (j >= 4)
			db_bind_text(s, 3, hex, -1, CM__STATIC);
		err = collect(&v, &n, st, s);
		db_finalize(s);
		s = NULL;
		if (err != CM_OK)
			return err;
		if (n == 1 || (n > 1 && strcmp(v[0]->serial +
		    strspn(v[0]->serial, "0"), hex + i) == 0)) {
			*out = v[0];
			v[0] = NULL;
			cm_cert_info_list_free(v, n);
			return CM_OK;
		}
		cm_cert_info_list_free(v, n);
		if (n > 1)
			return cm__fail(st->ctx, CM_E_AMBIGUOUS, "serial prefix "
			    "'%s' matches %zu certificates: give more digits",
			    ref, n);
	}
	/* By first name: the newest still valid, else the newest. */
	if ((err = prepare(st, &s, "SELECT " CERT_COLUMNS
	    "WHERE c.cn = ?2 COLLATE NOCASE ORDER BY (c.status = 'valid' AND "
	    "c.not_after >= ?1) DESC, c.id DESC LIMIT 1")) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)cm_ctx_now(st->ctx));
	db_bind_text(s, 2, ref, -1, CM__STATIC);
	err = collect(&v, &n, st, s);
	db_finalize(s);
	if (err != CM_OK)
		return err;
	if (n == 0) {
		free(v);
		return cm__fail(st->ctx, CM_E_NOTFOUND, "certificate '%s' not "
		    "found (give a serial, a serial prefix of 4 digits or "
		    "more, or a first name)", ref);
	}
	*out = v[0];
	free(v);
	return CM_OK;
}

static void
actor(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	const char *u = NULL;

	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
		u = res->pw_name;
	if (u == NULL)
		u = getenv("USER");
	if (u != NULL)
		snprintf(buf, len, "%s", u);
	else
		snprintf(buf, len, "uid:%lu", (unsigned long)geteuid());
}

static void
actor_cached(cm_store *st, char *buf, size_t len)
{
	if (st->actor[0] == '\0')
		actor(st->actor, sizeof(st->actor));
	snprintf(buf, len, "%s", st->actor);
}

cm_err
cm__store_event(cm_store *st, const char *action, const char *object,
    const char *details)
{
	cm__stmt *s = NULL;
	char who[256];
	cm_err err;

	static const char sql[] = "INSERT INTO events (time, actor, action, "
	    "object, details) VALUES (?, ?, ?, ?, ?)";

	actor_cached(st, who, sizeof(who));
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)cm_ctx_now(st->ctx));
	db_bind_text(s, 2, who, -1, CM__STATIC);
	db_bind_text(s, 3, action, -1, CM__STATIC);
	db_bind_text(s, 4, object, -1, CM__STATIC);
	db_bind_text(s, 5, details, -1, CM__STATIC);
	err = step_done(st, s, "recording event");
	release(st, s);
	return err;
}

cm_err
cm_cert_list(cm_cert_info ***out, size_t *n, cm_store *st,
    const cm_list_filter *filter)
{
	return cm__store_cert_list(out, n, st, filter);
}

cm_err
cm_cert_find(cm_cert_info **out, cm_store *st, const char *ref)
{
	if (ref == NULL || ref[0] == '\0')
		return cm__fail(st->ctx, CM_E_INVALID, "certificate reference "
		    "is empty");
	return cm__store_cert_find(out, st, ref);
}

cm_err
cm__store_cert_key(gnutls_datum_t *pkcs8, bool *encrypted, cm_store *st,
    const char *ca_name, const char *serial)
{
	cm__stmt *s = NULL;
	int64_t key_id = 0;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT c.key_id FROM certs c JOIN cas a "
	    "ON a.id = c.ca_id WHERE a.name = ? AND c.serial = ?")) != CM_OK)
		return err;
	db_bind_text(s, 1, ca_name, -1, CM__STATIC);
	db_bind_text(s, 2, serial, -1, CM__STATIC);
	rc = db_step(s);
	if (rc == CM__ROW)
		key_id = db_col_int64(s, 0);
	else if (rc != CM__DONE)
		err = sql_fail(st, rc, "reading certificate");
	db_finalize(s);
	if (err != CM_OK)
		return err;
	if (key_id <= 0)
		return cm__fail(st->ctx, CM_E_NOTFOUND, "certificate %s: its key "
		    "was not kept in the store", serial);
	return cm__store_key_get(pkcs8, encrypted, st, key_id);
}

cm_err
cm__store_cert_revoke(cm_store *st, const char *ca_name, const char *serial,
    int reason, time_t at)
{
	cm__stmt *s = NULL;
	cm_err err;

	/* A superseded certificate still works until it expires: it can be
	 * revoked too. */
	if ((err = prepare(st, &s, "UPDATE certs SET status = 'revoked', "
	    "revoked_at = ?1, revocation_reason = ?2 WHERE serial = ?3 AND "
	    "status IN ('valid', 'superseded') AND ca_id = (SELECT id FROM "
	    "cas WHERE name = ?4)")) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)at);
	db_bind_int64(s, 2, reason);
	db_bind_text(s, 3, serial, -1, CM__STATIC);
	db_bind_text(s, 4, ca_name, -1, CM__STATIC);
	err = step_done(st, s, "revoking");
	if (err == CM_OK && st->ops->changes(st) != 1)
		err = cm__fail(st->ctx, CM_E_INVALID, "certificate %s is "
		    "revoked already", serial);
	db_finalize(s);
	return err;
}

/* ---- life cycle ---- */

cm_err
cm__store_ca_cert_status(char **status, cm_store *st, const cm__ca_rec *r)
{
	cm__stmt *s = NULL;
	cm_err err;

	*status = NULL;
	if (r->parent_id <= 0)
		return CM_OK;
	if ((err = prepare(st, &s, "SELECT status FROM certs WHERE ca_id = ? "
	    "AND serial = ?")) != CM_OK)
		return err;
	db_bind_int64(s, 1, r->parent_id);
	db_bind_text(s, 2, r->info.serial, -1, CM__STATIC);
	return step_text(status, st, s, "reading CA status");
}

cm_err
cm__store_cert_supersede(cm_store *st, const char *ca_name,
    const char *serial)
{
	cm__stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "UPDATE certs SET status = 'superseded' "
	    "WHERE serial = ?1 AND status = 'valid' AND ca_id = (SELECT id "
	    "FROM cas WHERE name = ?2)")) != CM_OK)
		return err;
	db_bind_text(s, 1, serial, -1, CM__STATIC);
	db_bind_text(s, 2, ca_name, -1, CM__STATIC);
	err = step_done(st, s, "superseding");
	db_finalize(s);
	return err;
}

static cm_err
status_cas(cm_status *out, cm_store *st, time_t now)
{
	cm__stmt *s = NULL;
	cm_status_ca *v = NULL, *nv;
	size_t n = 0;
	cm_err err;
	int rc;

	/* The certificates of a CA counted by status; a CA's own state from
	 * its row under its parent. */
	if ((err = prepare(st, &s, "SELECT a.name, p.name, a.not_after, "
	    "(SELECT x.status FROM certs x WHERE x.ca_id = a.parent_id AND "
	    "x.serial = a.serial), "
	    "coalesce(sum(CASE WHEN c.status = 'valid' AND c.not_after >= ?1 "
	    "THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN c.status = 'valid' AND c.not_after < ?1 "
	    "THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN c.status = 'revoked' THEN 1 ELSE 0 END), "
	    "0), coalesce(sum(CASE WHEN c.status = 'superseded' THEN 1 ELSE 0 "
	    "END), 0) "
	    "FROM cas a LEFT JOIN cas p ON p.id = a.parent_id "
	    "LEFT JOIN certs c ON c.ca_id = a.id GROUP BY a.id, p.name "
	    "ORDER BY a.id")) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)now);
	while ((rc = db_step(s)) == CM__ROW) {
		cm_status_ca *c;
		const char *own = db_col_text(s, 3);
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		c = &v[n++];
		memset(c, 0, sizeof(*c));
		c->name = col_dup(s, 0);
		c->parent = col_dup(s, 1);
		c->not_after = (time_t)db_col_int64(s, 2);
		c->state = strdup(own && strcmp((const char *)own, "revoked") ==
		    0 ? "revoked" : c->not_after < now ? "expired" : "valid");
		c->valid = (size_t)db_col_int64(s, 4);
		c->expired = (size_t)db_col_int64(s, 5);
		c->revoked = (size_t)db_col_int64(s, 6);
		c->superseded = (size_t)db_col_int64(s, 7);
		if (c->name == NULL || c->state == NULL ||
		    col_lost(s, 1, c->parent)) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != CM__DONE)
		err = sql_fail(st, rc, "counting certificates");
out:
	db_finalize(s);
	out->cas = v;
	out->ncas = n;
	return err;
}

static cm_err
status_expiries(cm_status *out, cm_store *st, time_t now, size_t max)
{
	cm__stmt *s = NULL;
	cm_status_expiry *v = NULL;
	size_t n = 0;
	cm_err err;
	int rc;

	if ((v = calloc(max, sizeof(*v))) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	/* Intermediates are rows of both tables: counted once, as CAs. */
	if ((err = prepare(st, &s, "SELECT 0, c.cn, c.serial, a.name, "
	    "c.not_after FROM certs c JOIN cas a ON a.id = c.ca_id "
	    "WHERE c.status = 'valid' AND c.not_after >= ?1 AND NOT EXISTS "
	    "(SELECT 1 FROM cas x WHERE x.parent_id = c.ca_id AND "
	    "x.serial = c.serial) "
	    "UNION ALL SELECT 1, a.name, a.serial, p.name, a.not_after "
	    "FROM cas a LEFT JOIN cas p ON p.id = a.parent_id "
	    "WHERE a.not_after >= ?1 "
	    "ORDER BY 5, 1 DESC, 2 LIMIT ?2")) != CM_OK)
		goto out;
	db_bind_int64(s, 1, (int64_t)now);
	db_bind_int64(s, 2, (int64_t)max);
	while ((rc = db_step(s)) == CM__ROW && n < max) {
		cm_status_expiry *e = &v[n++];
		e->is_ca = db_col_int(s, 0) != 0;
		e->name = col_dup(s, 1);
		e->serial = col_dup(s, 2);
		e->ca = col_dup(s, 3);
		e->not_after = (time_t)db_col_int64(s, 4);
		if (e->name == NULL || e->serial == NULL ||
		    col_lost(s, 3, e->ca)) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != CM__DONE && rc != CM__ROW)
		err = sql_fail(st, rc, "listing expiries");
out:
	db_finalize(s);
	out->expiries = v;
	out->nexpiries = n;
	return err;
}

cm_err
cm__store_status(cm_status *s, cm_store *st, size_t max_expiries)
{
	time_t now = cm_ctx_now(st->ctx);
	cm_err err;

	if ((err = status_cas(s, st, now)) != CM_OK)
		return err;
	return status_expiries(s, st, now, max_expiries);
}

/* ---- keys at rest (issue 5) ---- */

cm_err
cm__store_key_insert_uri(int64_t *id, cm_store *st, cm_key_type type,
    const char *uri)
{
	cm__stmt *s = NULL;
	char *pub;
	cm_err err;

	/* The store keeps where the key is, never the token's PIN. */
	if ((pub = cm__pkcs11_uri_public(uri)) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	if ((err = prepare(st, &s, "INSERT INTO keys (key_type, uri, "
	    "encrypted) VALUES (?, ?, 0)")) != CM_OK) {
		free(pub);
		return err;
	}
	db_bind_text(s, 1, cm_key_type_name(type), -1, CM__STATIC);
	db_bind_text(s, 2, pub, -1, CM__STATIC);
	if ((err = step_done(st, s, "storing key URI")) == CM_OK)
		*id = st->ops->last_id(st);
	db_finalize(s);
	free(pub);
	return err;
}

cm_err
cm__store_key_uri(char **uri, cm_store *st, int64_t id)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT uri FROM keys WHERE id = ?")) !=
	    CM_OK)
		return err;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == CM__ROW && db_col_type(s, 0) != CM__NULL) {
		if ((*uri = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc == CM__ROW || rc == CM__DONE) {
		err = CM_E_NOTFOUND;  /* not a URI: no message */
	} else {
		err = sql_fail(st, rc, "reading key");
	}
	db_finalize(s);
	return err;
}

cm_err
cm__store_key_ids(int64_t **ids, size_t *n, cm_store *st)
{
	cm__stmt *s = NULL;
	int64_t *v = NULL, *nv;
	size_t count = 0;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT id FROM keys WHERE pkcs8 IS NOT "
	    "NULL ORDER BY id")) != CM_OK)
		return err;
	while ((rc = db_step(s)) == CM__ROW) {
		if ((nv = realloc(v, (count + 1) * sizeof(*v))) == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		v[count++] = db_col_int64(s, 0);
	}
	if (rc != CM__DONE) {
		err = sql_fail(st, rc, "listing keys");
		goto out;
	}
	*ids = v;
	*n = count;
	v = NULL;
out:
	free(v);
	db_finalize(s);
	return err;
}

cm_err
cm__store_key_update(cm_store *st, int64_t id, const gnutls_datum_t *pkcs8,
    bool encrypted)
{
	cm__stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "UPDATE keys SET pkcs8 = ?, encrypted = ? "
	    "WHERE id = ? AND pkcs8 IS NOT NULL")) != CM_OK)
		return err;
	db_bind_blob(s, 1, pkcs8->data, (int)pkcs8->size, CM__STATIC);
	db_bind_int64(s, 2, encrypted);
	db_bind_int64(s, 3, id);
	err = step_done(st, s, "rewriting key");
	if (err == CM_OK && st->ops->changes(st) != 1)
		err = cm__fail(st->ctx, CM_E_STORE, "store %s: key %lld is "
		    "missing", st->path, (long long)id);
	db_finalize(s);
	return err;
}

cm_err
cm__store_key_counts(size_t *nenc, size_t *nplain, int64_t *enc_id,
    cm_store *st)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT coalesce(sum(encrypted), 0), "
	    "coalesce(sum(1 - encrypted), 0), coalesce(max(CASE WHEN "
	    "encrypted = 1 THEN id END), 0) FROM keys "
	    "WHERE pkcs8 IS NOT NULL")) !=
	    CM_OK)
		return err;
	if ((rc = db_step(s)) == CM__ROW) {
		*nenc = (size_t)db_col_int64(s, 0);
		*nplain = (size_t)db_col_int64(s, 1);
		*enc_id = db_col_int64(s, 2);
	} else {
		err = sql_fail(st, rc, "counting keys");
	}
	db_finalize(s);
	return err;
}

void
cm__store_key_owner(char *buf, size_t len, cm_store *st, int64_t id)
{
	cm__stmt *s = NULL;

	snprintf(buf, len, "key %lld", (long long)id);
	if (prepare(st, &s, "SELECT 'CA ''' || name || '''' FROM cas WHERE "
	    "key_id = ?1 UNION ALL SELECT 'certificate ' || serial FROM certs "
	    "WHERE key_id = ?1") != CM_OK)
		return;
	db_bind_int64(s, 1, id);
	if (db_step(s) == CM__ROW && db_col_text(s, 0))
		snprintf(buf, len, "%s", db_col_text(s, 0));
	db_finalize(s);
}

int64_t
cm__store_cert_by_fpr(cm_store *st, const char *fingerprint)
{
	cm__stmt *s = NULL;
	int64_t id = 0;

	if (prepare(st, &s, "SELECT id FROM certs WHERE fingerprint = ?") !=
	    CM_OK)
		return 0;
	db_bind_text(s, 1, fingerprint, -1, CM__STATIC);
	if (db_step(s) == CM__ROW)
		id = db_col_int64(s, 0);
	db_finalize(s);
	return id;
}

/* ---- revocation: CRLs, distribution points, OCSP (crl.c, ocsp.c) ---- */

cm_err
cm__store_ca_urls(char **crl_url, char **ocsp_url, cm_store *st,
    int64_t ca_id)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	*crl_url = *ocsp_url = NULL;
	if ((err = prepare(st, &s, "SELECT crl_url, ocsp_url FROM cas "
	    "WHERE id = ?")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	rc = db_step(s);
	if (rc == CM__ROW) {
		if (db_col_type(s, 0) != CM__NULL &&
		    (*crl_url = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		if (db_col_type(s, 1) != CM__NULL &&
		    (*ocsp_url = col_dup(s, 1)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc != CM__DONE) {
		err = sql_fail(st, rc, "reading CA URLs");
	}
	db_finalize(s);
	if (err != CM_OK) {
		free(*crl_url);
		free(*ocsp_url);
		*crl_url = *ocsp_url = NULL;
	}
	return err;
}

cm_err
cm__store_ca_set_urls(cm_store *st, int64_t ca_id, const char *crl_url,
    const char *ocsp_url)
{
	cm__stmt *s = NULL;
	cm_err err;

	/* NULL leaves a URL as it is, "" removes it. */
	if ((err = prepare(st, &s, "UPDATE cas SET "
	    "crl_url = CASE WHEN CAST(?2 AS TEXT) IS NULL THEN crl_url "
	    "WHEN ?2 = '' THEN NULL ELSE ?2 END, "
	    "ocsp_url = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN ocsp_url "
	    "WHEN ?3 = '' THEN NULL ELSE ?3 END WHERE id = ?1")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	if (crl_url != NULL)
		db_bind_text(s, 2, crl_url, -1, CM__STATIC);
	if (ocsp_url != NULL)
		db_bind_text(s, 3, ocsp_url, -1, CM__STATIC);
	err = step_done(st, s, "setting CA URLs");
	db_finalize(s);
	return err;
}

cm_err
cm__store_crl_number_next(int64_t *out, cm_store *st, int64_t ca_id)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "UPDATE cas SET crl_number = "
	    "crl_number + 1 WHERE id = ? RETURNING crl_number")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	rc = db_step(s);
	if (rc == CM__ROW)
		*out = db_col_int64(s, 0);
	else
		err = rc == CM__DONE ? cm__fail(st->ctx, CM_E_NOTFOUND,
		    "CA %lld is gone", (long long)ca_id) :
		    sql_fail(st, rc, "numbering CRL");
	/* Finish the statement: RETURNING applies the update at the end. */
	if (err == CM_OK && (rc = db_step(s)) != CM__DONE)
		err = sql_fail(st, rc, "numbering CRL");
	db_finalize(s);
	return err;
}

cm_err
cm__store_crl_last_complete(int64_t *out, cm_store *st, int64_t ca_id)
{
	return query_int64(out, st, "SELECT coalesce(max(number), 0) FROM "
	    "crls WHERE ca_id = ? AND base_number IS NULL", ca_id,
	    "reading CRLs");
}

/* Steps s (serial, time, int), calling fn for each row; finalizes s. */
static cm_err
each_serial(cm_store *st, cm__stmt *s, cm__revoked_fn fn, void *arg,
    const char *what)
{
	cm_err err = CM_OK;
	int rc;

	while ((rc = db_step(s)) == CM__ROW) {
		const char *serial = (const char *)db_col_text(s, 0);
		if (serial == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = fn(arg, serial, (time_t)db_col_int64(s, 1),
		    db_col_int(s, 2))) != CM_OK)
			goto out;
	}
	if (rc != CM__DONE)
		err = sql_fail(st, rc, what);
out:
	db_finalize(s);
	return err;
}

cm_err
cm__store_revoked_each(cm_store *st, int64_t ca_id, int64_t since,
    cm__revoked_fn fn, void *arg)
{
	cm__stmt *s = NULL;
	cm_err err;

	/* Hex serials without leading zeros: by length, then text, is by
	 * value. */
	if ((err = prepare(st, &s, "SELECT serial, revoked_at, "
	    "coalesce(revocation_reason, 0) FROM certs "
	    "WHERE ca_id = ?1 AND status = 'revoked' AND "
	    "(?2 = 0 OR coalesce(revoked_after_crl, 0) >= ?2) "
	    "ORDER BY length(serial), serial")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	db_bind_int64(s, 2, since);
	return each_serial(st, s, fn, arg, "listing revoked certificates");
}

cm_err
cm__store_crl_insert(cm_store *st, int64_t ca_id, int64_t number,
    int64_t base, time_t this_update, time_t next_update, size_t entries,
    const unsigned char *der, size_t len)
{
	cm__stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "INSERT INTO crls (ca_id, number, "
	    "base_number, this_update, next_update, entries, der) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?)")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	db_bind_int64(s, 2, number);
	if (base > 0)
		db_bind_int64(s, 3, base);
	db_bind_int64(s, 4, (int64_t)this_update);
	db_bind_int64(s, 5, (int64_t)next_update);
	db_bind_int64(s, 6, (int64_t)entries);
	db_bind_blob(s, 7, der, (int)len, CM__STATIC);
	err = step_done(st, s, "storing CRL");
	db_finalize(s);
	return err;
}

cm_err
cm__store_cert_status(cm__cert_status *out, cm_store *st, int64_t ca_id,
    const char *serial)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	if ((err = prepare(st, &s, "SELECT status = 'revoked', revoked_at, "
	    "coalesce(revocation_reason, -1), not_after FROM certs "
	    "WHERE ca_id = ? AND serial = ?")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	db_bind_text(s, 2, serial, -1, CM__STATIC);
	rc = db_step(s);
	if (rc == CM__ROW) {
		out->found = true;
		out->revoked = db_col_int(s, 0) != 0;
		out->revoked_at = (time_t)db_col_int64(s, 1);
		out->reason = db_col_int(s, 2);
		out->not_after = (time_t)db_col_int64(s, 3);
	} else if (rc != CM__DONE) {
		err = sql_fail(st, rc, "reading certificate status");
	}
	db_finalize(s);
	return err;
}

cm_err
cm__store_cert_each(cm_store *st, int64_t ca_id, time_t now, size_t max,
    cm__revoked_fn fn, void *arg)
{
	cm__stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "SELECT serial, CASE WHEN status = "
	    "'revoked' THEN revoked_at ELSE 0 END, "
	    "coalesce(revocation_reason, -1) FROM certs WHERE ca_id = ? AND "
	    "not_after >= ? ORDER BY id DESC LIMIT ?")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	db_bind_int64(s, 2, (int64_t)now);
	db_bind_int64(s, 3, (int64_t)max);
	return each_serial(st, s, fn, arg, "listing certificates");
}

cm_err
cm__store_crl_latest(int64_t *number, time_t *next_update, cm_store *st,
    int64_t ca_id)
{
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	*number = 0;
	*next_update = 0;
	if ((err = prepare(st, &s, "SELECT number, next_update FROM crls "
	    "WHERE ca_id = ? ORDER BY number DESC LIMIT 1")) != CM_OK)
		return err;
	db_bind_int64(s, 1, ca_id);
	rc = db_step(s);
	if (rc == CM__ROW) {
		*number = db_col_int64(s, 0);
		*next_update = (time_t)db_col_int64(s, 1);
	} else if (rc != CM__DONE) {
		err = sql_fail(st, rc, "reading CRLs");
	}
	db_finalize(s);
	return err;
}

/* ---- ACME state (issue 15) ---------------------------------------------- */

#define ACME_NONCE_LIFE 3600

cm_err
cm__store_acme_nonce_add(cm_store *st, const char *nonce, time_t now)
{
	static const char sql[] = "INSERT INTO acme_nonces (nonce, created) "
	    "VALUES (?, ?)";
	static const char prune[] = "DELETE FROM acme_nonces WHERE created < ?";
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	/* Expired nonces go once a minute, not at every request: each
	 * write here is a commit of its own (and a disk wait). */
	if (now - st->nonces_pruned >= 60) {
		if ((err = prepare_cached(st, &s, prune)) != CM_OK)
			return err;
		db_bind_int64(s, 1, (int64_t)(now -
		    ACME_NONCE_LIFE));
		rc = db_step(s);
		release(st, s);
		if (rc != CM__DONE)
			return sql_fail(st, rc, "expiring nonces");
		st->nonces_pruned = now;
	}
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_text(s, 1, nonce, -1, CM__STATIC);
	db_bind_int64(s, 2, (int64_t)now);
	rc = db_step(s);
	release(st, s);
	return rc == CM__DONE ? CM_OK : sql_fail(st, rc, "storing a nonce");
}

cm_err
cm__store_acme_nonce_take(bool *ok, cm_store *st, const char *nonce,
    time_t now)
{
	static const char sql[] = "DELETE FROM acme_nonces WHERE nonce = ? "
	    "AND created >= ?";
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	*ok = false;
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_text(s, 1, nonce, -1, CM__STATIC);
	db_bind_int64(s, 2, (int64_t)(now - ACME_NONCE_LIFE));
	rc = db_step(s);
	release(st, s);
	if (rc != CM__DONE)
		return sql_fail(st, rc, "using a nonce");
	*ok = st->ops->changes(st) == 1;
	return CM_OK;
}

/* The nonce of a request taken and the one its answer carries stored, in
 * one commit (a disk wait per request, not two). */
cm_err
cm__store_acme_nonce_swap(bool *ok, cm_store *st, const char *used,
    const char *fresh, time_t now)
{
	cm_err err;

	*ok = false;
	if ((err = cm__store_begin(st)) != CM_OK)
		return err;
	if ((err = cm__store_acme_nonce_take(ok, st, used, now)) != CM_OK ||
	    (err = cm__store_acme_nonce_add(st, fresh, now)) != CM_OK ||
	    (err = cm__store_commit(st)) != CM_OK) {
		cm__store_rollback(st);
		*ok = false;
		return err;
	}
	return CM_OK;
}

static cm_err
acme_account_row(cm__acme_account *a, cm__stmt *s)
{
	const char *jwk = (const char *)db_col_text(s, 1);
	const char *status = (const char *)db_col_text(s, 2);
	const char *contact = (const char *)db_col_text(s, 3);

	a->id = db_col_int64(s, 0);
	a->created = (time_t)db_col_int64(s, 4);
	a->jwk = cm__strdup(jwk ? jwk : "");
	a->status = cm__strdup(status ? status : "");
	a->contact = contact ? cm__strdup(contact) : NULL;
	if (a->jwk == NULL || a->status == NULL || (contact && !a->contact))
		return CM_E_NOMEM;
	return CM_OK;
}

void
cm__acme_account_clear(cm__acme_account *a)
{
	free(a->jwk);
	free(a->status);
	free(a->contact);
	memset(a, 0, sizeof(*a));
}

cm_err
cm__store_acme_account_get(cm__acme_account *out, cm_store *st,
    int64_t ca_id, int64_t id, const char *thumbprint)
{
	static const char by_id[] = "SELECT id, jwk, status, contact, created "
	    "FROM acme_accounts WHERE ca_id = ? AND id = ?";
	static const char by_tp[] = "SELECT id, jwk, status, contact, created "
	    "FROM acme_accounts WHERE ca_id = ? AND thumbprint = ?";
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((err = prepare_cached(st, &s, thumbprint ? by_tp : by_id)) !=
	    CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)ca_id);
	if (thumbprint)
		db_bind_text(s, 2, thumbprint, -1, CM__STATIC);
	else
		db_bind_int64(s, 2, (int64_t)id);
	rc = db_step(s);
	if (rc == CM__ROW) {
		if ((err = acme_account_row(out, s)) != CM_OK) {
			cm__acme_account_clear(out);
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		}
	} else if (rc == CM__DONE)
		err = CM_E_NOTFOUND;
	else
		err = sql_fail(st, rc, "reading an ACME account");
	release(st, s);
	return err;
}

cm_err
cm__store_acme_account_insert(int64_t *id, cm_store *st, int64_t ca_id,
    const char *thumbprint, const char *jwk, const char *contact, time_t now)
{
	static const char sql[] = "INSERT INTO acme_accounts (ca_id, "
	    "thumbprint, jwk, contact, created) VALUES (?, ?, ?, ?, ?)";
	cm__stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	db_bind_int64(s, 1, (int64_t)ca_id);
	db_bind_text(s, 2, thumbprint, -1, CM__STATIC);
	db_bind_text(s, 3, jwk, -1, CM__STATIC);
	if (contact)
		db_bind_text(s, 4, contact, -1, CM__STATIC);
	else
		db_bind_null(s, 4);
	db_bind_int64(s, 5, (int64_t)now);
	rc = db_step(s);
	release(st, s);
	if (rc != CM__DONE)
		return sql_fail(st, rc, "recording an ACME account");
	*id = (int64_t)st->ops->last_id(st);
	return CM_OK;
}

/* Binds "i" int64 and "s" text (NULL: SQL NULL) arguments in order. */
static void
bind_args(cm__stmt *s, const char *fmt, va_list ap)
{
	int i;

	for (i = 1; *fmt; fmt++, i++) {
		if (*fmt == 'i')
			db_bind_int64(s, i, (int64_t)va_arg(ap,
			    int64_t));
		else {
			const char *t = va_arg(ap, const char *);
			if (t)
				db_bind_text(s, i, t, -1, CM__TRANSIENT);
			else
				db_bind_null(s, i);
		}
	}
}

/* One ACME write: sql with arguments; [out] id: the new row's id. */
cm_err
cm__store_acme_exec(int64_t *id, cm_store *st, const char *sql,
    const char *fmt, ...)
{
	cm__stmt *s = NULL;
	va_list ap;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, sql)) != CM_OK)
		return err;
	va_start(ap, fmt);
	bind_args(s, fmt, ap);
	va_end(ap);
	rc = db_step(s);
	db_finalize(s);
	if (rc != CM__DONE)
		return sql_fail(st, rc, "recording ACME state");
	if (id != NULL)
		*id = (int64_t)st->ops->last_id(st);
	return CM_OK;
}

/*
 * ACME rows: sql with arguments; each row's columns as text (NULL for SQL
 * NULL) in out[row * ncols + col], malloc'd.  CM_E_NOTFOUND when none.
 */
cm_err
cm__store_acme_rows(char ***out, size_t *nrows, cm_store *st,
    const char *sql, const char *fmt, ...)
{
	cm__stmt *s = NULL;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, k;
	va_list ap;
	cm_err err;
	int rc, nc, c;

	*out = NULL;
	*nrows = 0;
	if ((err = prepare(st, &s, sql)) != CM_OK)
		return err;
	va_start(ap, fmt);
	bind_args(s, fmt, ap);
	va_end(ap);
	nc = db_col_count(s);
	while ((rc = db_step(s)) == CM__ROW) {
		if ((n + 1) * (size_t)nc > cap) {
			cap = cap ? cap * 2 : (size_t)nc * 8;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				err = cm__fail(st->ctx, CM_E_NOMEM,
				    "out of memory");
				goto fail;
			}
			v = nv;
		}
		for (c = 0; c < nc; c++) {
			const char *t = (const char *)db_col_text(s, c);
			v[n * (size_t)nc + (size_t)c] = t ? cm__strdup(t) :
			    NULL;
		}
		n++;
	}
	if (rc != CM__DONE) {
		err = sql_fail(st, rc, "reading ACME state");
		goto fail;
	}
	db_finalize(s);
	if (n == 0)
		return CM_E_NOTFOUND;
	*out = v;
	*nrows = n;
	return CM_OK;
fail:
	for (k = 0; k < n * (size_t)nc; k++)
		free(v[k]);
	free(v);
	db_finalize(s);
	return err;
}


/* ---- copying a store (certmint store copy) ------------------------------ */

/* Every table, parents first, with its columns (the latest schema). */
static const struct {
	const char *table;
	const char *cols;
	size_t ncols;
	const char *order;
} copy_tables[] = {
	{ "keys", "id, key_type, pkcs8, encrypted, uri", 5, "id" },
	{ "cas", "id, name, parent_id, key_id, cert_der, subject, serial, "
	    "key_type, not_before, not_after, fingerprint, permitted, "
	    "path_len, crl_number, created, crl_url, ocsp_url", 17, "id" },
	{ "acme_accounts", "id, ca_id, thumbprint, jwk, status, contact, "
	    "created", 7, "id" },
	{ "certs", "id, ca_id, serial, subject, cn, profile, key_type, "
	    "not_before, not_after, der, fingerprint, status, revoked_at, "
	    "revocation_reason, key_id, created, revoked_after_crl, "
	    "acme_account_id", 18, "id" },
	{ "cert_names", "cert_id, pos, type, name", 4, "cert_id, pos" },
	{ "events", "id, time, actor, action, object, details", 6, "id" },
	{ "crls", "id, ca_id, number, base_number, this_update, next_update, "
	    "entries, der", 8, "id" },
	{ "acme_nonces", "nonce, created", 2, "nonce" },
	{ "acme_orders", "id, account_id, status, identifiers, expires, "
	    "cert_serial, error, created, replaces, profile, client_ip", 11,
	    "id" },
	{ "acme_authzs", "id, order_id, type, value, status, expires", 6,
	    "id" },
	{ "acme_challenges", "id, authz_id, type, token, status, validated, "
	    "error", 7, "id" },
	{ "acme_eab", "kid, ca_id, hmac_key, created, account_id", 5, "kid" },
};

static cm_err
copy_table(size_t *rows, cm_store *to, cm_store *from, size_t t)
{
	char sel[512], ins[512];
	cm__stmt *s = NULL, *w = NULL;
	size_t i, o;
	cm_err err;
	int rc = CM__DONE;

	*rows = 0;
	snprintf(sel, sizeof(sel), "SELECT %s FROM %s ORDER BY %s",
	    copy_tables[t].cols, copy_tables[t].table, copy_tables[t].order);
	o = (size_t)snprintf(ins, sizeof(ins), "INSERT INTO %s (%s) VALUES (",
	    copy_tables[t].table, copy_tables[t].cols);
	for (i = 0; i < copy_tables[t].ncols && o + 4 < sizeof(ins); i++)
		o += (size_t)snprintf(ins + o, sizeof(ins) - o, "%s?",
		    i ? ", " : "");
	snprintf(ins + o, sizeof(ins) - o, ")");
	if ((err = prepare(from, &s, sel)) != CM_OK ||
	    (err = prepare(to, &w, ins)) != CM_OK)
		goto out;
	while ((rc = db_step(s)) == CM__ROW) {
		for (i = 0; i < copy_tables[t].ncols; i++) {
			int c = (int)i;
			switch (db_col_type(s, c)) {
			case CM__NULL:
				db_bind_null(w, c + 1);
				break;
			case CM__INTEGER:
				db_bind_int64(w, c + 1, db_col_int64(s, c));
				break;
			case CM__BLOB:
				db_bind_blob(w, c + 1, db_col_blob(s, c),
				    db_col_bytes(s, c), CM__TRANSIENT);
				break;
			default:
				db_bind_text(w, c + 1, db_col_text(s, c), -1,
				    CM__TRANSIENT);
				break;
			}
		}
		if ((err = step_done(to, w, "copying the store")) != CM_OK)
			goto out;
		db_reset(w);
		(*rows)++;
	}
	if (rc != CM__DONE)
		err = sql_fail(from, rc, "reading the store to copy");
out:
	db_finalize(s);
	db_finalize(w);
	return err;
}

cm_err
cm_store_copy(cm_store *to, cm_store *from, cm_store_copy_counts *counts)
{
	cm_store_copy_counts c;
	int64_t n = 0;
	size_t t, rows;
	cm_err err;
	char what[200];

	memset(&c, 0, sizeof(c));
	if ((err = cm__store_begin(to)) != CM_OK)
		return err;
	/* Under the writers' lock: no one fills it meanwhile. */
	if ((err = query_int64(&n, to, "SELECT (SELECT count(*) FROM cas) + "
	    "(SELECT count(*) FROM keys) + (SELECT count(*) FROM certs) + "
	    "(SELECT count(*) FROM events) + "
	    "(SELECT count(*) FROM acme_accounts)", -1,
	    "reading the target store")) != CM_OK)
		goto out;
	if (n > 0) {
		err = cm__fail(to->ctx, CM_E_EXISTS, "store %s is not empty: "
		    "store copy writes only into a new store", to->path);
		goto out;
	}
	for (t = 0; t < sizeof(copy_tables) / sizeof(copy_tables[0]); t++) {
		if ((err = copy_table(&rows, to, from, t)) != CM_OK)
			goto out;
		if (strcmp(copy_tables[t].table, "cas") == 0)
			c.cas = rows;
		else if (strcmp(copy_tables[t].table, "certs") == 0)
			c.certs = rows;
		else if (strcmp(copy_tables[t].table, "keys") == 0)
			c.keys = rows;
		else if (strcmp(copy_tables[t].table, "crls") == 0)
			c.crls = rows;
		else if (strcmp(copy_tables[t].table, "events") == 0)
			c.events = rows;
		else if (strcmp(copy_tables[t].table, "acme_accounts") == 0)
			c.acme_accounts = rows;
		else if (strcmp(copy_tables[t].table, "acme_orders") == 0)
			c.acme_orders = rows;
	}
	if ((err = query_int64(&n, to, "SELECT count(*) FROM certs WHERE "
	    "status = 'revoked'", -1, "counting revocations")) !=
	    CM_OK)
		goto out;
	c.revoked = (size_t)n;
	/* Row ids were copied: the next ones follow them. */
	if ((err = to->ops->ids_follow(to)) != CM_OK)
		goto out;
	snprintf(what, sizeof(what), "from=%s", from->path);
	if ((err = cm__store_event(to, "store.copy", to->path, what)) !=
	    CM_OK)
		goto out;
	err = cm__store_commit(to);
out:
	if (err != CM_OK)
		cm__store_rollback(to);
	else if (counts != NULL)
		*counts = c;
	return err;
}
