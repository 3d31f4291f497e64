/*
 * test-backend.c - the store interface (lib/store/store.h) as its callers
 * see it, on whichever backend the run names: an SQLite file in a
 * temporary folder, or, with CERTMINT_TEST_PG set (tests/pg/run.sh), a
 * PostgreSQL database emptied before each test.  The same assertions on
 * both: blobs byte for byte, SQL NULLs, placeholders and quotes, ids of new
 * rows, transactions and the writers' lock, change notification between
 * two connections, a newer schema refused.
 */
#include "config.h"

#include "unit.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <time.h>

static const char *
pg_uri(void)
{
	const char *u = getenv("CERTMINT_TEST_PG");

	return u != NULL && u[0] != '\0' ? u : NULL;
}

/* Runs sql on the PostgreSQL store behind the library's back. */
static void
pg_raw(const char *sql)
{
	PGconn *c = PQconnectdb(pg_uri());
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	assert_true(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
	PQfinish(c);
}

static int
setup(void **state)
{
	unit_fx *fx;

	if (unit_setup_ctx(state) != 0)
		return -1;
	fx = *state;
	if (pg_uri() != NULL) {
		pg_raw("SET client_min_messages = warning; DROP SCHEMA public "
		    "CASCADE; CREATE SCHEMA public");
		snprintf(fx->store_path, sizeof(fx->store_path), "%s",
		    pg_uri());
	}
	return cm_store_open(&fx->st, fx->ctx, fx->store_path,
	    CM_STORE_CREATE) == CM_OK ? 0 : -1;
}

static void
test_backend_named(void **state)
{
	unit_fx *fx = *state;

	assert_string_equal(cm__store_backend(fx->st), pg_uri() ? "PostgreSQL" :
	    "SQLite");
	/* What names PostgreSQL, and what stays a path. */
	assert_true(cm__pg_is_conninfo("postgresql://ca@db/certmint"));
	assert_true(cm__pg_is_conninfo("POSTGRES:///certmint?host=/run/pg"));
	assert_true(cm__pg_is_conninfo("host=/run/pg dbname=certmint"));
	assert_true(cm__pg_is_conninfo(" dbname = certmint"));
	assert_false(cm__pg_is_conninfo("certmint.db"));
	assert_false(cm__pg_is_conninfo("./a=b.db"));
	assert_false(cm__pg_is_conninfo("/srv/ca/host=x"));
	assert_false(cm__pg_is_conninfo("mysql://ca@db/certmint"));
}

/* A key's PKCS#8 comes back byte for byte: NULs, 0xff, backslashes. */
static void
test_backend_blob(void **state)
{
	unit_fx *fx = *state;
	unsigned char b[300];
	gnutls_datum_t in = { b, sizeof(b) }, out = { NULL, 0 };
	int64_t id1 = 0, id2 = 0;
	bool enc = false;
	size_t i;

	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(i * 7 + (i % 3 == 0 ? 0 : 92));
	b[0] = 0;
	b[1] = 0xff;
	b[2] = '\\';
	assert_cm_ok(fx->ctx, cm__store_key_insert(&id1, fx->st,
	    CM_KEY_EC_P256, &in, true));
	assert_cm_ok(fx->ctx, cm__store_key_insert(&id2, fx->st,
	    CM_KEY_EC_P256, &in, false));
	assert_true(id1 > 0 && id2 > id1);
	assert_cm_ok(fx->ctx, cm__store_key_get(&out, &enc, fx->st, id1));
	assert_int_equal(out.size, sizeof(b));
	assert_memory_equal(out.data, b, sizeof(b));
	assert_true(enc);
	gnutls_free(out.data);
	assert_cm_ok(fx->ctx, cm__store_key_get(&out, &enc, fx->st, id2));
	assert_false(enc);
	gnutls_free(out.data);
	assert_int_equal(cm__store_key_get(&out, &enc, fx->st, id2 + 100),
	    CM_E_STORE);
}

/* Rows as text: SQL NULL as NULL; a '?' inside quotes is no placeholder;
 * numbered ones may repeat. */
static void
test_backend_rows(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm__ca_rec ca;
	char **v = NULL;
	size_t n = 0;
	int64_t a1 = 0, a2 = 0, ord = 0;

	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	assert_cm_ok(fx->ctx, cm__store_ca_get(&ca, fx->st, NULL));
	assert_cm_ok(fx->ctx, cm__store_acme_account_insert(&a1, fx->st,
	    ca.id, "tp1", "{}", NULL, 1000));
	assert_cm_ok(fx->ctx, cm__store_acme_account_insert(&a2, fx->st,
	    ca.id, "tp2", "{}", "[\"mailto:a@b.test\"]", 1001));
	assert_true(a1 > 0 && a2 > a1);
	assert_cm_ok(fx->ctx, cm__store_acme_rows(&v, &n, fx->st,
	    "SELECT contact, '?', created FROM acme_accounts WHERE id = ? OR "
	    "id = ? ORDER BY id", "ii", a1, a2));
	assert_int_equal(n, 2);
	assert_null(v[0]);
	assert_string_equal(v[1], "?");
	assert_string_equal(v[2], "1000");
	assert_string_equal(v[3], "[\"mailto:a@b.test\"]");
	for (size_t i = 0; i < n * 3; i++)
		free(v[i]);
	free(v);
	assert_cm_ok(fx->ctx, cm__store_acme_rows(&v, &n, fx->st,
	    "SELECT count(*) FROM acme_accounts WHERE created >= ?1 AND "
	    "created <= ?1 + 1 AND thumbprint <> ?2", "is", (int64_t)1000,
	    "none"));
	assert_string_equal(v[0], "2");
	free(v[0]);
	free(v);
	assert_int_equal(cm__store_acme_rows(&v, &n, fx->st, "SELECT id FROM "
	    "acme_accounts WHERE thumbprint = ?", "s", "absent"),
	    CM_E_NOTFOUND);
	/* The id of a new row, and a NULL bound. */
	assert_cm_ok(fx->ctx, cm__store_acme_exec(&ord, fx->st, "INSERT INTO "
	    "acme_orders (account_id, status, identifiers, expires, created, "
	    "replaces) VALUES (?, 'pending', '[]', 1, 1, ?)", "is", a1,
	    (const char *)NULL));
	assert_true(ord > 0);
	assert_cm_ok(fx->ctx, cm__store_acme_rows(&v, &n, fx->st, "SELECT "
	    "replaces, account_id FROM acme_orders WHERE id = ?", "i", ord));
	assert_null(v[0]);
	assert_int_equal(strtoll(v[1], NULL, 10), a1);
	free(v[1]);
	free(v);
	cm__ca_rec_clear(&ca);
}

/* A rolled back write leaves nothing; writers take turns. */
static void
test_backend_transactions(void **state)
{
	unit_fx *fx = *state;
	cm_store *st2 = NULL;
	size_t n0 = 0, n1 = 0;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;

	assert_cm_ok(fx->ctx, cm__store_ca_count(&n0, fx->st));
	assert_cm_ok(fx->ctx, cm__store_begin(fx->st));
	o.name = "rolled back";
	assert_cm_ok(fx->ctx, cm__store_event(fx->st, "test", "x", NULL));
	cm__store_rollback(fx->st);
	assert_cm_ok(fx->ctx, cm_store_open(&st2, fx->ctx, fx->store_path,
	    0));
	cm_store_set_busy_timeout(st2, 100);
	assert_cm_ok(fx->ctx, cm__store_begin(fx->st));
	/* The second writer waits its timeout, then is told it is locked. */
	assert_int_equal(cm__store_begin(st2), CM_E_LOCKED);
	assert_cm_ok(fx->ctx, cm__store_commit(fx->st));
	assert_cm_ok(fx->ctx, cm__store_begin(st2));
	assert_cm_ok(fx->ctx, cm__store_commit(st2));
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, st2, &o));
	assert_cm_ok(fx->ctx, cm__store_ca_count(&n1, fx->st));
	assert_int_equal(n1, n0 + 1);
	cm_store_close(st2);
}

/* Another connection's commit is noticed; nothing else is. */
static void
test_backend_change_notice(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_store *st2 = NULL;
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	int64_t v0 = 0, v1 = 0;
	int i;
	bool seen = false;

	assert_cm_ok(fx->ctx, cm_store_open(&st2, fx->ctx, fx->store_path,
	    0));
	assert_cm_ok(fx->ctx, cm__store_data_version(&v0, st2));
	assert_true(cm__store_may_have_changed(st2));
	assert_false(cm__store_may_have_changed(st2));
	o.name = "noticed";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	/* PostgreSQL's notification travels over the socket. */
	for (i = 0; i < 100 && !seen; i++) {
		seen = cm__store_may_have_changed(st2);
		if (!seen)
			nanosleep(&ms, NULL);
	}
	assert_true(seen);
	assert_cm_ok(fx->ctx, cm__store_data_version(&v1, st2));
	assert_true(v1 != v0);
	assert_false(cm__store_may_have_changed(st2));
	cm_store_close(st2);
}

/* A store newer than the program is refused, and stays as it is. */
static void
test_backend_newer(void **state)
{
	unit_fx *fx = *state;
	cm_store *st2 = NULL;
	char sql[64];
	int latest = cm_store_schema_latest();

	cm_store_close(fx->st);
	fx->st = NULL;
	if (pg_uri() != NULL) {
		snprintf(sql, sizeof(sql), "UPDATE certmint_schema SET "
		    "version = %d", latest + 1);
		pg_raw(sql);
	} else {
		sqlite3 *db = NULL;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    latest + 1);
		assert_int_equal(sqlite3_open(fx->store_path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(cm_store_open(&st2, fx->ctx, fx->store_path,
	    CM_STORE_CREATE), CM_E_STORE_NEWER);
	assert_non_null(strstr(cm_ctx_error(fx->ctx), "upgrade certmint"));
	assert_null(st2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backend_named, setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_backend_blob, setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_backend_rows, setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_backend_transactions,
		    setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_backend_change_notice,
		    setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_backend_newer, setup,
		    unit_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
