/*
 * pg.c - the PostgreSQL backend of the store (store.h), through libpq.
 *
 * A store is a database: "postgresql://user@host/db", "postgres://...",
 * or a keyword string ("host=/run/pg dbname=certmint"), whatever libpq
 * accepts; a password comes from ~/.pgpass, PGPASSFILE or PGPASSWORD,
 * never from the store's name (it would sit in argv or the environment of
 * every command).  The schema is the SQLite one (db/pg/ holds the
 * migrations whose SQL differs) with its version in certmint_schema.
 *
 * Writers serialise on a transaction-level advisory lock taken at BEGIN,
 * as SQLite's BEGIN IMMEDIATE does: what a transaction reads stays true
 * until it commits (a CRL number, an order's state), so none has to be
 * replayed; issuance does its key generation and signing outside it, so
 * hosts issue in parallel and meet only for the insert.  A statement
 * outside a transaction that still meets a serialization failure or a
 * deadlock is tried again, up to RETRIES times.  Every write transaction
 * sends NOTIFY certmint_changes; responders LISTEN (change notification).
 */
#include "config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "store.h"

/* pg_type.h's OIDs (server headers are not installed with libpq). */
#define BOOLOID 16
#define BYTEAOID 17
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define NUMERICOID 1700

#define DEFAULT_LOCK_MS 5000
#define RETRIES 5
/* The writers' lock: pg_advisory_xact_lock(key), "cm" in ASCII. */
#define WRITE_LOCK "25453"
#define CHANNEL "certmint_changes"

/* Return codes of this backend's calls: 0, or PG_ERR with the error in
 * struct pgq. */
#define PG_OK 0
#define PG_ERR 1
#define PG_NOMEM 2

struct pgq {
	PGconn *conn;
	int64_t last_id;
	int64_t changes;
	int lock_ms;
	char sqlstate[6];
	char msg[400];
	/* Change notification: notifications counted, the count last
	 * reported, and when a lost connection is tried again. */
	/* Inside cm__store_begin() .. commit/rollback: a lost connection
	 * is then an error, never made again (the transaction is gone; a
	 * statement after it on a new connection would half-write). */
	bool in_txn;
	unsigned conn_gen;      /* moves when the connection is made again */
	unsigned stmt_names;    /* server-side prepared statements named */
	bool listening;
	int64_t notes;
	int64_t seen;
	bool seen_valid;
	time_t retry_at;
};

struct pg_stmt {
	struct cm__stmt base;
	cm_store *st;
	char *sql;
	bool returning_id;      /* " RETURNING id" added: last_id() */
	int nparams;
	char **vals;
	int *lens;
	int *fmts;
	Oid *types;
	PGresult *res;
	bool executed;
	int row;
	int nrows;
	int ncols;
	unsigned char **blob;   /* the row's bytea columns, unescaped */
	size_t *bloblen;
	/* Kept (store.c's cache): prepared on the server under name, for
	 * the connection of generation gen. */
	bool keep;
	bool prepared;
	unsigned gen;
	char name[16];
};

#define Q(st) ((struct pgq *)(st)->db)
#define P(s) ((struct pg_stmt *)(s))

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The first line of libpq's message, for one-line errors. */
static void
first_line(char *buf, size_t len, const char *msg)
{
	size_t n;

	if (msg == NULL)
		msg = "";
	n = strcspn(msg, "\n");
	snprintf(buf, len, "%.*s", (int)n, msg);
}

static void
note_error(struct pgq *q, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res,
	    PG_DIAG_SQLSTATE) : NULL;
	const char *m = res ? PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;

	snprintf(q->sqlstate, sizeof(q->sqlstate), "%s", state ? state : "");
	first_line(q->msg, sizeof(q->msg), m ? m : PQerrorMessage(q->conn));
}

static bool
connection_lost(const struct pgq *q)
{
	return PQstatus(q->conn) != CONNECTION_OK ||
	    strncmp(q->sqlstate, "08", 2) == 0 ||
	    strcmp(q->sqlstate, "57P01") == 0 ||
	    strcmp(q->sqlstate, "57P02") == 0 ||
	    strcmp(q->sqlstate, "57P03") == 0;
}

static cm_err
pg_fail(cm_store *st, int rc, const char *what)
{
	struct pgq *q = Q(st);

	if (rc == PG_NOMEM)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	if (q == NULL || q->conn == NULL)
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s", st->path,
		    what);
	if (connection_lost(q))
		return cm__fail(st->ctx, CM_E_STORE, "store %s: the database "
		    "connection is lost (%s): %s", st->path, what,
		    q->msg[0] ? q->msg : "server closed the connection");
	if (strcmp(q->sqlstate, "55P03") == 0)
		return cm__fail(st->ctx, CM_E_LOCKED, "store %s is locked by "
		    "another process (%s)", st->path, what);
	if (strcmp(q->sqlstate, "40001") == 0 ||
	    strcmp(q->sqlstate, "40P01") == 0)
		return cm__fail(st->ctx, CM_E_LOCKED, "store %s: another "
		    "writer's transaction conflicts (%s), tried %d times",
		    st->path, what, RETRIES);
	/* Worded as SQLite words it: callers tell a duplicate by it. */
	if (strcmp(q->sqlstate, "23505") == 0)
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: UNIQUE "
		    "constraint failed: %s", st->path, what, q->msg);
	if (strcmp(q->sqlstate, "53100") == 0)
		return cm__fail(st->ctx, CM_E_STORE, "store %s: disk full "
		    "(%s)", st->path, what);
	return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: %s", st->path,
	    what, q->msg);
}

static bool
retryable(const struct pgq *q)
{
	return strcmp(q->sqlstate, "40001") == 0 ||
	    strcmp(q->sqlstate, "40P01") == 0;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A connection lost outside a transaction is made again once (a
 * responder that outlives a restart of the server). */
static void
revive(struct pgq *q)
{
	if (PQstatus(q->conn) == CONNECTION_OK || q->in_txn)
		return;
	PQreset(q->conn);
	q->conn_gen++;          /* its prepared statements are gone */
	if (PQstatus(q->conn) == CONNECTION_OK) {
		char sql[96];
		/* A new session: its settings again. */
		snprintf(sql, sizeof(sql), "SET client_min_messages = warning; "
		    "SET lock_timeout = %d", q->lock_ms);
		PQclear(PQexec(q->conn, sql));
		q->listening = false;
		/* Whatever was said meanwhile was not heard. */
		q->notes++;
	}
}

static int
pg_exec(cm_store *st, const char *sql)
{
	struct pgq *q = Q(st);
	PGresult *res;
	ExecStatusType t;
	int tries;

	for (tries = 0;; tries++) {
		if (PQtransactionStatus(q->conn) == PQTRANS_IDLE ||
		    PQtransactionStatus(q->conn) == PQTRANS_UNKNOWN)
			revive(q);
		res = PQexec(q->conn, sql);
		t = PQresultStatus(res);
		if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
			PQclear(res);
			return PG_OK;
		}
		note_error(q, res);
		PQclear(res);
		if (!retryable(q) || tries + 1 >= RETRIES ||
		    PQtransactionStatus(q->conn) != PQTRANS_IDLE)
			return PG_ERR;
		pause_ms(10 << tries);
	}
}

/* ---- statements --------------------------------------------------------- */

static bool
is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Tables whose rows have an id the callers ask for after an INSERT. */
static bool
has_id(const char *sql)
{
	static const char *const t[] = { "keys", "cas", "certs", "events",
	    "crls", "acme_accounts", "acme_orders", "acme_authzs",
	    "acme_challenges", NULL };
	const char *p = sql + strspn(sql, " \t\n");
	size_t i, n;

	if (strncasecmp(p, "INSERT INTO ", 12) != 0)
		return false;
	p += 12;
	for (n = 0; is_ident(p[n]); n++)
		;
	for (i = 0; t[i] != NULL; i++)
		if (strlen(t[i]) == n && strncmp(p, t[i], n) == 0)
			return strstr(p, "RETURNING") == NULL;
	return false;
}

/* SQLite's ?, ?N into PostgreSQL's $N (not inside quotes). */
static char *
translate(const char *sql, int *nparams, bool id)
{
	size_t len = strlen(sql), o = 0;
	char *out = malloc(len * 3 + 32);
	int next = 0, max = 0, n;
	char quote = 0;
	const char *p;

	if (out == NULL)
		return NULL;
	for (p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			out[o++] = *p;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p;
			continue;
		}
		if (*p != '?') {
			out[o++] = *p;
			continue;
		}
		if (p[1] >= '0' && p[1] <= '9') {
			n = (int)strtol(p + 1, (char **)&p, 10);
			p--;
		} else {
			n = max + 1;
		}
		if (n > max)
			max = n;
		next = n;
		o += (size_t)snprintf(out + o, 12, "$%d", n);
	}
	(void)next;
	out[o] = '\0';
	while (o > 0 && (out[o - 1] == ';' || out[o - 1] == ' ' ||
	    out[o - 1] == '\n'))
		out[--o] = '\0';
	if (id)
		memcpy(out + o, " RETURNING id", sizeof(" RETURNING id"));
	*nparams = max;
	return out;
}

static void
drop_row(struct pg_stmt *p)
{
	int i;

	for (i = 0; p->blob != NULL && i < p->ncols; i++) {
		PQfreemem(p->blob[i]);
		p->blob[i] = NULL;
		p->bloblen[i] = 0;
	}
}

static void
drop_result(struct pg_stmt *p)
{
	drop_row(p);
	free(p->blob);
	free(p->bloblen);
	p->blob = NULL;
	p->bloblen = NULL;
	PQclear(p->res);
	p->res = NULL;
	p->executed = false;
	p->row = 0;
	p->nrows = 0;
	p->ncols = 0;
}

static void
clear_params(struct pg_stmt *p)
{
	int i;

	for (i = 0; i < p->nparams; i++) {
		free(p->vals[i]);
		p->vals[i] = NULL;
		p->lens[i] = 0;
		p->fmts[i] = 0;
		p->types[i] = 0;
	}
}

static void
pg_finalize(cm__stmt *s)
{
	struct pg_stmt *p = P(s);

	drop_result(p);
	clear_params(p);
	free(p->vals);
	free(p->lens);
	free(p->fmts);
	free(p->types);
	free(p->sql);
	free(p);
}

static int
pg_prepare(cm_store *st, cm__stmt **out, const char *sql)
{
	struct pg_stmt *p;
	size_t n;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PG_NOMEM;
	p->base.ops = &cm__pg_ops;
	p->st = st;
	p->returning_id = has_id(sql);
	if ((p->sql = translate(sql, &p->nparams, p->returning_id)) == NULL)
		goto nomem;
	n = p->nparams > 0 ? (size_t)p->nparams : 1;
	if ((p->vals = calloc(n, sizeof(*p->vals))) == NULL ||
	    (p->lens = calloc(n, sizeof(*p->lens))) == NULL ||
	    (p->fmts = calloc(n, sizeof(*p->fmts))) == NULL ||
	    (p->types = calloc(n, sizeof(*p->types))) == NULL)
		goto nomem;
	*out = &p->base;
	return PG_OK;
nomem:
	pg_finalize(&p->base);
	return PG_NOMEM;
}

/* A bound value, copied; out of memory leaves it NULL (SQL NULL) and the
 * statement fails at its step. */
static void
bind(cm__stmt *s, int i, const void *v, size_t n, int fmt, Oid type)
{
	struct pg_stmt *p = P(s);
	char *c;

	if (i < 1 || i > p->nparams)
		return;
	free(p->vals[i - 1]);
	p->vals[i - 1] = NULL;
	p->types[i - 1] = type;
	p->fmts[i - 1] = fmt;
	p->lens[i - 1] = (int)n;
	if (v == NULL)
		return;
	if ((c = malloc(n + 1)) == NULL) {
		p->types[i - 1] = (Oid)-1;
		return;
	}
	memcpy(c, v, n);
	c[n] = '\0';
	p->vals[i - 1] = c;
}

static void
pg_bind_int64(cm__stmt *s, int i, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);

	bind(s, i, buf, (size_t)n, 0, INT8OID);
}

static void
pg_bind_text(cm__stmt *s, int i, const char *v, int n, int how)
{
	(void)how;
	bind(s, i, v, v == NULL ? 0 : n < 0 ? strlen(v) : (size_t)n, 0, 0);
}

static void
pg_bind_blob(cm__stmt *s, int i, const void *v, int n, int how)
{
	static const char none;

	(void)how;
	bind(s, i, v != NULL ? v : &none, n > 0 ? (size_t)n : 0, 1, BYTEAOID);
}

static void
pg_bind_null(cm__stmt *s, int i)
{
	bind(s, i, NULL, 0, 0, 0);
}

static int
run(struct pg_stmt *p)
{
	struct pgq *q = Q(p->st);
	ExecStatusType t;
	int i, tries;
	const char *ct;

	for (i = 0; i < p->nparams; i++)
		if (p->types[i] == (Oid)-1)
			return PG_NOMEM;
	for (tries = 0;; tries++) {
		if (PQtransactionStatus(q->conn) == PQTRANS_IDLE ||
		    PQtransactionStatus(q->conn) == PQTRANS_UNKNOWN)
			revive(q);
		if (p->keep && (!p->prepared || p->gen != q->conn_gen)) {
			/* Parsed and planned once per connection. */
			snprintf(p->name, sizeof(p->name), "cm%u",
			    ++q->stmt_names);
			p->res = PQprepare(q->conn, p->name, p->sql,
			    p->nparams, p->types);
			t = PQresultStatus(p->res);
			p->prepared = t == PGRES_COMMAND_OK;
			p->gen = q->conn_gen;
			if (!p->prepared) {
				note_error(q, p->res);
				PQclear(p->res);
				p->res = NULL;
				return PG_ERR;
			}
			PQclear(p->res);
		}
		if (p->keep)
			p->res = PQexecPrepared(q->conn, p->name, p->nparams,
			    (const char *const *)p->vals, p->lens, p->fmts, 0);
		else
			p->res = PQexecParams(q->conn, p->sql, p->nparams,
			    p->types, (const char *const *)p->vals, p->lens,
			    p->fmts, 0);
		t = PQresultStatus(p->res);
		if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
			break;
		note_error(q, p->res);
		PQclear(p->res);
		p->res = NULL;
		if (!retryable(q) || tries + 1 >= RETRIES ||
		    PQtransactionStatus(q->conn) != PQTRANS_IDLE)
			return PG_ERR;
		pause_ms(10 << tries);
	}
	p->executed = true;
	p->nrows = PQntuples(p->res);
	p->ncols = PQnfields(p->res);
	ct = PQcmdTuples(p->res);
	q->changes = ct != NULL && ct[0] != '\0' ? strtoll(ct, NULL, 10) : 0;
	if (p->returning_id) {
		if (p->nrows > 0)
			q->last_id = strtoll(PQgetvalue(p->res, 0, 0), NULL,
			    10);
		p->nrows = 0;
		p->ncols = 0;
	}
	if (p->ncols > 0 &&
	    ((p->blob = calloc((size_t)p->ncols, sizeof(*p->blob))) == NULL ||
	    (p->bloblen = calloc((size_t)p->ncols,
	    sizeof(*p->bloblen))) == NULL))
		return PG_NOMEM;
	return PG_OK;
}

static int
pg_step(cm__stmt *s)
{
	struct pg_stmt *p = P(s);
	int rc;

	if (!p->executed) {
		if ((rc = run(p)) != PG_OK)
			return rc;
		p->row = 0;
	} else {
		drop_row(p);
		if (p->row < p->nrows)
			p->row++;
	}
	return p->row < p->nrows ? CM__ROW : CM__DONE;
}

static int
pg_col_count(cm__stmt *s)
{
	struct pg_stmt *p = P(s);

	if (!p->executed) {
		if (run(p) != PG_OK)
			return 0;
		p->row = -1;
	}
	return p->ncols;
}

static bool
valid_cell(const struct pg_stmt *p, int i)
{
	return p->res != NULL && p->row >= 0 && p->row < p->nrows && i >= 0 &&
	    i < p->ncols;
}

static int
pg_col_type(cm__stmt *s, int i)
{
	struct pg_stmt *p = P(s);

	if (!valid_cell(p, i) || PQgetisnull(p->res, p->row, i))
		return CM__NULL;
	switch (PQftype(p->res, i)) {
	case BYTEAOID:
		return CM__BLOB;
	case INT8OID:
	case INT4OID:
	case INT2OID:
	case NUMERICOID:
	case BOOLOID:
		return CM__INTEGER;
	default:
		return CM__TEXT;
	}
}

static int64_t
pg_col_int64(cm__stmt *s, int i)
{
	struct pg_stmt *p = P(s);
	const char *v;

	if (!valid_cell(p, i) || PQgetisnull(p->res, p->row, i))
		return 0;
	v = PQgetvalue(p->res, p->row, i);
	if (PQftype(p->res, i) == BOOLOID)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *
pg_col_text(cm__stmt *s, int i)
{
	struct pg_stmt *p = P(s);

	if (!valid_cell(p, i) || PQgetisnull(p->res, p->row, i))
		return NULL;
	return PQgetvalue(p->res, p->row, i);
}

static const void *
unescaped(struct pg_stmt *p, int i)
{
	if (p->blob[i] == NULL)
		p->blob[i] = PQunescapeBytea((const unsigned char *)
		    PQgetvalue(p->res, p->row, i), &p->bloblen[i]);
	return p->blob[i];
}

static const void *
pg_col_blob(cm__stmt *s, int i)
{
	struct pg_stmt *p = P(s);

	if (!valid_cell(p, i) || PQgetisnull(p->res, p->row, i))
		return NULL;
	if (PQftype(p->res, i) != BYTEAOID)
		return PQgetvalue(p->res, p->row, i);
	return unescaped(p, i);
}

static int
pg_col_bytes(cm__stmt *s, int i)
{
	struct pg_stmt *p = P(s);

	if (!valid_cell(p, i) || PQgetisnull(p->res, p->row, i))
		return 0;
	if (PQftype(p->res, i) != BYTEAOID)
		return PQgetlength(p->res, p->row, i);
	return unescaped(p, i) != NULL ? (int)p->bloblen[i] : 0;
}

static void
pg_reset(cm__stmt *s)
{
	drop_result(P(s));
	clear_params(P(s));
}

static void
pg_keep(cm__stmt *s)
{
	P(s)->keep = true;
}

static int64_t
pg_last_id(cm_store *st)
{
	return Q(st)->last_id;
}

static int64_t
pg_changes(cm_store *st)
{
	return Q(st)->changes;
}

/* ---- transactions, schema ----------------------------------------------- */

static cm_err
pg_begin(cm_store *st)
{
	int rc;

	if ((rc = pg_exec(st, "BEGIN")) != PG_OK)
		return pg_fail(st, rc, "starting a write");
	Q(st)->in_txn = true;
	if ((rc = pg_exec(st, "SELECT pg_advisory_xact_lock(" WRITE_LOCK
	    ")")) != PG_OK) {
		cm_err err = pg_fail(st, rc, "starting a write");
		PQclear(PQexec(Q(st)->conn, "ROLLBACK"));
		Q(st)->in_txn = false;
		return err;
	}
	return CM_OK;
}

static cm_err
pg_commit(cm_store *st)
{
	struct pgq *q = Q(st);
	PGresult *res;
	bool ok;

	if (pg_exec(st, "NOTIFY " CHANNEL) != PG_OK)
		return pg_fail(st, PG_ERR, "committing");
	res = PQexec(q->conn, "COMMIT");
	q->in_txn = false;
	/* A transaction that failed answers COMMIT with ROLLBACK. */
	ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		note_error(q, PQresultStatus(res) == PGRES_COMMAND_OK ? NULL :
		    res);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			snprintf(q->msg, sizeof(q->msg), "the transaction "
			    "was rolled back");
	}
	PQclear(res);
	return ok ? CM_OK : pg_fail(st, PG_ERR, "committing");
}

static void
pg_rollback(cm_store *st)
{
	if (PQstatus(Q(st)->conn) == CONNECTION_OK &&
	    PQtransactionStatus(Q(st)->conn) != PQTRANS_IDLE)
		PQclear(PQexec(Q(st)->conn, "ROLLBACK"));
	Q(st)->in_txn = false;
}

static bool
pg_in_txn(cm_store *st)
{
	return Q(st)->in_txn;
}

/* One integer from sql (0 without a row). */
static cm_err
query_int(int64_t *out, cm_store *st, const char *sql, const char *what)
{
	cm__stmt *s = NULL;
	int rc;
	cm_err err = CM_OK;

	*out = 0;
	if ((rc = pg_prepare(st, &s, sql)) != PG_OK)
		return pg_fail(st, rc, what);
	rc = pg_step(s);
	if (rc == CM__ROW)
		*out = pg_col_int64(s, 0);
	else if (rc != CM__DONE)
		err = pg_fail(st, rc, what);
	pg_finalize(s);
	return err;
}

static cm_err
pg_schema_get(cm_store *st, int *v)
{
	int64_t have = 0, n = 0;
	cm_err err;

	*v = 0;
	if ((err = query_int(&have, st, "SELECT count(*) FROM pg_class WHERE "
	    "oid = to_regclass('certmint_schema')", "reading schema")) !=
	    CM_OK || have == 0)
		return err;
	if ((err = query_int(&n, st, "SELECT max(version) FROM "
	    "certmint_schema", "reading schema")) != CM_OK)
		return err;
	*v = (int)n;
	return CM_OK;
}

static cm_err
pg_schema_set(cm_store *st, int v)
{
	char sql[200];
	int rc;

	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS "
	    "certmint_schema (version integer NOT NULL); "
	    "DELETE FROM certmint_schema; "
	    "INSERT INTO certmint_schema VALUES (%d)", v);
	rc = pg_exec(st, sql);
	return rc == PG_OK ? CM_OK : pg_fail(st, rc, "setting schema");
}

static const char *
pg_migration(const char *name, const char *text)
{
	int i;

	for (i = 0; cm__migrations_pg[i].name != NULL; i++)
		if (strcmp(cm__migrations_pg[i].name, name) == 0)
			return cm__migrations_pg[i].text;
	return text;
}

/* ---- change notification ------------------------------------------------ */

/* Notifications heard so far; LISTENs once connected, and makes a lost
 * connection again at most once a second (the responder answers from the
 * responses it keeps meanwhile). */
static void
poll_notes(cm_store *st)
{
	struct pgq *q = Q(st);
	PGnotify *n;
	time_t now;

	if (q->in_txn || PQtransactionStatus(q->conn) == PQTRANS_ACTIVE ||
	    PQtransactionStatus(q->conn) == PQTRANS_INTRANS ||
	    PQtransactionStatus(q->conn) == PQTRANS_INERROR)
		return;
	if (PQstatus(q->conn) != CONNECTION_OK) {
		now = time(NULL);
		if (now < q->retry_at)
			return;
		q->retry_at = now + 1;
		revive(q);
		if (PQstatus(q->conn) != CONNECTION_OK)
			return;
	}
	if (!q->listening) {
		if (pg_exec(st, "LISTEN " CHANNEL) != PG_OK)
			return;
		q->listening = true;
	}
	if (!PQconsumeInput(q->conn)) {
		q->listening = false;
		return;
	}
	while ((n = PQnotifies(q->conn)) != NULL) {
		q->notes++;
		PQfreemem(n);
	}
}

static cm_err
pg_data_version(int64_t *out, cm_store *st)
{
	struct pgq *q = Q(st);

	poll_notes(st);
	if (PQstatus(q->conn) != CONNECTION_OK) {
		snprintf(q->sqlstate, sizeof(q->sqlstate), "08006");
		first_line(q->msg, sizeof(q->msg), PQerrorMessage(q->conn));
		return pg_fail(st, PG_ERR, "reading data version");
	}
	*out = q->notes;
	return CM_OK;
}

static bool
pg_may_have_changed(cm_store *st)
{
	struct pgq *q = Q(st);

	poll_notes(st);
	if (PQstatus(q->conn) != CONNECTION_OK)
		return true;
	if (q->seen_valid && q->seen == q->notes)
		return false;
	q->seen = q->notes;
	q->seen_valid = true;
	return true;
}

static void
pg_changes_unseen(cm_store *st)
{
	Q(st)->seen_valid = false;
}

static void
pg_set_busy_timeout(cm_store *st, int ms)
{
	char sql[64];

	/* 0 waits for ever on PostgreSQL; not at all on SQLite. */
	Q(st)->lock_ms = ms > 0 ? ms : 1;
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", Q(st)->lock_ms);
	(void)pg_exec(st, sql);
}

/* Replaced keys: PostgreSQL keeps old row versions until VACUUM reuses
 * their space, which is not a wipe; nothing to mark or do here. */
static cm_err
pg_wipe_mark(cm_store *st)
{
	(void)st;
	return CM_OK;
}

static cm_err
pg_wipe_now(cm_store *st)
{
	(void)st;
	return CM_OK;
}

static cm_err
pg_wipe_pending(bool *out, cm_store *st)
{
	(void)st;
	*out = false;
	return CM_OK;
}

static cm_err
pg_integrity(char ***out, cm_store *st)
{
	(void)st;
	*out = NULL;
	return CM_OK;
}

/* The identity columns' sequences moved past the ids copied in. */
static cm_err
pg_ids_follow(cm_store *st)
{
	static const char *const t[] = { "keys", "cas", "certs", "events",
	    "crls", "acme_accounts", "acme_orders", "acme_authzs",
	    "acme_challenges", NULL };
	char sql[200];
	int i, rc;

	for (i = 0; t[i] != NULL; i++) {
		snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_"
		    "sequence('%s', 'id'), coalesce(max(id), 0) + 1, false) "
		    "FROM %s", t[i], t[i]);
		if ((rc = pg_exec(st, sql)) != PG_OK)
			return pg_fail(st, rc, "setting the next ids");
	}
	return CM_OK;
}

static void
pg_close(cm_store *st)
{
	struct pgq *q = Q(st);

	if (q == NULL)
		return;
	PQfinish(q->conn);
	free(q);
	st->db = NULL;
}

/* ---- open --------------------------------------------------------------- */

bool
cm__pg_is_conninfo(const char *path)
{
	size_t n;

	if (strncasecmp(path, "postgresql://", 13) == 0 ||
	    strncasecmp(path, "postgres://", 11) == 0)
		return true;
	/* "host=... dbname=...": a keyword, then '=' (no '/' before it, so
	 * a path "./a=b" stays a path). */
	n = strspn(path, " \t");
	path += n;
	for (n = 0; (path[n] >= 'a' && path[n] <= 'z') || path[n] == '_'; n++)
		;
	return n > 0 && path[n + strspn(path + n, " \t")] == '=';
}

/* The folder beside the store for profiles and serve's CA bundle: the
 * default SQLite store's. */
static char *
local_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char buf[4096];

	if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, sizeof(buf), "%s/certmint", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(buf, sizeof(buf), "%s/.local/share/certmint", home);
	else
		return strdup("/nonexistent");
	/* Made as the SQLite store's folder would be (0700), quietly: only
	 * what writes there (serve) needs it. */
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			(void)mkdir(buf, 0700);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return strdup(buf);
}

cm_err
cm__pg_open(cm_store *st, unsigned flags)
{
	PQconninfoOption *opts, *o;
	struct pgq *q;
	char *errmsg = NULL, line[400];
	int v;
	cm_err err;

	if ((opts = PQconninfoParse(st->path, &errmsg)) == NULL) {
		first_line(line, sizeof(line), errmsg);
		PQfreemem(errmsg);
		return cm__fail(st->ctx, CM_E_INVALID, "store %s: %s",
		    st->path, errmsg ? line : "out of memory");
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0')
			break;
	v = o->keyword != NULL;
	PQconninfoFree(opts);
	if (v)
		return cm__fail(st->ctx, CM_E_INVALID, "store: a password in "
		    "the store's address would show in the process list; "
		    "give it in ~/.pgpass, PGPASSFILE or PGPASSWORD");
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (st->dir = local_dir()) == NULL) {
		free(q);
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	}
	st->db = q;
	st->ops = &cm__pg_ops;
	q->lock_ms = DEFAULT_LOCK_MS;
	q->conn = PQconnectdb(st->path);
	if (q->conn == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	if (PQstatus(q->conn) != CONNECTION_OK) {
		first_line(line, sizeof(line), PQerrorMessage(q->conn));
		return cm__fail(st->ctx, CM_E_STORE, "store %s: cannot "
		    "connect: %s", st->path, line);
	}
	PQsetNoticeProcessor(q->conn, quiet, NULL);
	if (pg_exec(st, "SET client_min_messages = warning; "
	    "SET lock_timeout = 5000") != PG_OK)
		return pg_fail(st, PG_ERR, "setting up");
	/* Before anything that could write: a newer store stays as it is. */
	if ((err = pg_schema_get(st, &v)) != CM_OK)
		return err;
	if (v > cm_store_schema_latest())
		return cm__fail(st->ctx, CM_E_STORE_NEWER, "store %s is schema "
		    "%d, this certmint knows up to %d: upgrade certmint",
		    st->path, v, cm_store_schema_latest());
	if (v == 0 && !(flags & CM_STORE_CREATE))
		return cm__fail(st->ctx, CM_E_NOTFOUND, "store %s does not "
		    "exist: the database holds no certmint tables (run "
		    "'certmint init')", st->path);
	if (v < cm_store_schema_latest())
		return cm__store_migrate(st);
	return CM_OK;
}

const struct cm__db_ops cm__pg_ops = {
	.name = "PostgreSQL",
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_count = pg_col_count,
	.col_type = pg_col_type,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_bytes = pg_col_bytes,
	.reset = pg_reset,
	.keep = pg_keep,
	.finalize = pg_finalize,
	.exec = pg_exec,
	.fail = pg_fail,
	.last_id = pg_last_id,
	.changes = pg_changes,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.schema_get = pg_schema_get,
	.schema_set = pg_schema_set,
	.migration = pg_migration,
	.data_version = pg_data_version,
	.may_have_changed = pg_may_have_changed,
	.changes_unseen = pg_changes_unseen,
	.set_busy_timeout = pg_set_busy_timeout,
	.wipe_mark = pg_wipe_mark,
	.wipe_now = pg_wipe_now,
	.wipe_pending = pg_wipe_pending,
	.integrity = pg_integrity,
	.ids_follow = pg_ids_follow,
	.close = pg_close,
};
