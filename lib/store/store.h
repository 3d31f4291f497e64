/*
 * store.h - the store interface between the inventory's operations
 * (store.c: CAs, certificates, keys, revocations, CRLs, events, ACME
 * state, all in one dialect of SQL) and the two databases that keep it:
 * sqlite.c (one file, the default) and pg.c (PostgreSQL, through libpq).
 *
 * Internal to lib/store: nothing above it includes sqlite3.h or
 * libpq-fe.h, and nothing outside lib/store includes this file.  The
 * statement calls mirror SQLite's (prepare, bind, step, column): the
 * PostgreSQL backend runs a statement at its first step and walks the
 * rows of the result after.
 */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* db_step() */
#define CM__ROW 100
#define CM__DONE 101
/* db_col_type() */
#define CM__INTEGER 1
#define CM__TEXT 3
#define CM__BLOB 4
#define CM__NULL 5
/* db_bind_text(), db_bind_blob(): the value outlives the statement's next
 * step (STATIC) or may not (TRANSIENT, copied). */
#define CM__STATIC 0
#define CM__TRANSIENT 1

#define STMT_CACHE 8

typedef struct cm__stmt cm__stmt;

/* A backend: its statements start with a pointer to these. */
struct cm__db_ops {
	const char *name;               /* "SQLite", "PostgreSQL" */
	int (*prepare)(cm_store *st, cm__stmt **out, const char *sql);
	void (*bind_int64)(cm__stmt *s, int i, int64_t v);
	void (*bind_text)(cm__stmt *s, int i, const char *v, int n, int how);
	void (*bind_blob)(cm__stmt *s, int i, const void *v, int n, int how);
	void (*bind_null)(cm__stmt *s, int i);
	int (*step)(cm__stmt *s);
	int (*col_count)(cm__stmt *s);
	int (*col_type)(cm__stmt *s, int i);
	int64_t (*col_int64)(cm__stmt *s, int i);
	const char *(*col_text)(cm__stmt *s, int i);
	const void *(*col_blob)(cm__stmt *s, int i);
	int (*col_bytes)(cm__stmt *s, int i);
	void (*reset)(cm__stmt *s);     /* and its bindings cleared */
	/* s is run again and again (a hot path): worth preparing on the
	 * server. */
	void (*keep)(cm__stmt *s);
	void (*finalize)(cm__stmt *s);
	/* One or more statements without results. */
	int (*exec)(cm_store *st, const char *sql);
	/* A backend code as a CM_E_* with a message naming the store. */
	cm_err (*fail)(cm_store *st, int rc, const char *what);
	int64_t (*last_id)(cm_store *st);   /* of the last INSERT */
	int64_t (*changes)(cm_store *st);   /* rows the last write changed */
	cm_err (*begin)(cm_store *st);      /* writers serialise here */
	cm_err (*commit)(cm_store *st);
	void (*rollback)(cm_store *st);
	bool (*in_txn)(cm_store *st);
	/* The schema version; setting it is part of a migration. */
	cm_err (*schema_get)(cm_store *st, int *v);
	cm_err (*schema_set)(cm_store *st, int v);
	/* This backend's text of a migration (its variant, or the
	 * common one). */
	const char *(*migration)(const char *name, const char *text);
	/* Change notification (OCSP responders, serve). */
	cm_err (*data_version)(int64_t *out, cm_store *st);
	bool (*may_have_changed)(cm_store *st);
	void (*changes_unseen)(cm_store *st);
	void (*set_busy_timeout)(cm_store *st, int ms);
	/* Keys replaced (passwd): the old ones wiped from the files. */
	cm_err (*wipe_mark)(cm_store *st);
	cm_err (*wipe_now)(cm_store *st);
	cm_err (*wipe_pending)(bool *out, cm_store *st);
	/* The database's own consistency check: NULL-ended messages,
	 * none when sound. */
	cm_err (*integrity)(char ***out, cm_store *st);
	/* After rows were inserted with their ids (store copy): new rows
	 * get ids after them. */
	cm_err (*ids_follow)(cm_store *st);
	void (*close)(cm_store *st);
};

struct cm__stmt {
	const struct cm__db_ops *ops;
};

struct cm_store {
	cm_ctx *ctx;
	const struct cm__db_ops *ops;
	void *db;               /* the backend's connection */
	char *path;             /* as the user named it */
	char *dir;              /* profiles, serve's bundle */
	/* Statements of the hot paths (batch issuance), prepared once; the
	 * key is the address of the SQL literal. */
	struct {
		const char *sql;
		cm__stmt *stmt;
	} cache[STMT_CACHE];
	char actor[256];    /* who writes the events, looked up once */
	time_t nonces_pruned;   /* ACME nonces last expired */
	int64_t last_cert_id;   /* cm__store_cert_insert()'s last row */
	/* cm__store_set_precommit() */
	cm_err (*precommit)(cm_store *st, void *arg);
	void *precommit_arg;
};

extern const struct cm__db_ops cm__sqlite_ops;
extern const struct cm__db_ops cm__pg_ops;

/* The backends' opens: st has ctx, path and dir set; they set ops and db
 * and leave the schema as it is (cm__store_migrate() follows). */
cm_err cm__sqlite_open(cm_store *st, unsigned flags);
cm_err cm__sqlite_open_memory(cm_store *st);
cm_err cm__pg_open(cm_store *st, unsigned flags);
/* Applies the migrations the store lacks, in one transaction of the
 * backend's writers' lock; refuses a newer store untouched. */
cm_err cm__store_migrate(cm_store *st);

static inline void
db_bind_int64(cm__stmt *s, int i, int64_t v)
{
	s->ops->bind_int64(s, i, v);
}

static inline void
db_bind_text(cm__stmt *s, int i, const char *v, int n, int how)
{
	s->ops->bind_text(s, i, v, n, how);
}

static inline void
db_bind_blob(cm__stmt *s, int i, const void *v, int n, int how)
{
	s->ops->bind_blob(s, i, v, n, how);
}

static inline void
db_bind_null(cm__stmt *s, int i)
{
	s->ops->bind_null(s, i);
}

static inline int
db_step(cm__stmt *s)
{
	return s->ops->step(s);
}

static inline int
db_col_count(cm__stmt *s)
{
	return s->ops->col_count(s);
}

static inline int
db_col_type(cm__stmt *s, int i)
{
	return s->ops->col_type(s, i);
}

static inline int64_t
db_col_int64(cm__stmt *s, int i)
{
	return s->ops->col_int64(s, i);
}

static inline int
db_col_int(cm__stmt *s, int i)
{
	return (int)s->ops->col_int64(s, i);
}

static inline const char *
db_col_text(cm__stmt *s, int i)
{
	return s->ops->col_text(s, i);
}

static inline const void *
db_col_blob(cm__stmt *s, int i)
{
	return s->ops->col_blob(s, i);
}

static inline int
db_col_bytes(cm__stmt *s, int i)
{
	return s->ops->col_bytes(s, i);
}

static inline void
db_reset(cm__stmt *s)
{
	s->ops->reset(s);
}

static inline void
db_finalize(cm__stmt *s)
{
	if (s != NULL)
		s->ops->finalize(s);
}

#endif
