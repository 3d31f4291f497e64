/* test-store.c - the SQLite inventory (store.c). */
#include "config.h"

#include "unit.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Opens the store file with SQLite itself, behind the library's back. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	return db;
}

static int
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void
test_store_create(void **state)
{
	unit_fx *fx = *state;
	cm_store *st = NULL;
	char path[PATH_MAX + 32], a[PATH_MAX + 32], b[PATH_MAX + 32];
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	mode_t old;

	unit_path(a, sizeof(a), fx, "a");
	unit_path(b, sizeof(b), fx, "a/b");
	unit_path(path, sizeof(path), fx, "a/b/certmint.db");
	/* Folders 0700 and file 0600 whatever the umask. */
	old = umask(0);
	assert_cm_ok(fx->ctx, cm_store_open(&st, fx->ctx, path,
	    CM_STORE_CREATE));
	umask(old);
	assert_int_equal(unit_mode(a), 0700);
	assert_int_equal(unit_mode(b), 0700);
	assert_int_equal(unit_mode(path), 0600);
	assert_string_equal(cm_store_dir(st), b);
	cm_store_close(st);
	st = NULL;
	cm_store_close(NULL);

	assert_true(cm_store_schema_latest() >= 1);
	db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"),
	    cm_store_schema_latest());
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('keys', 'cas', 'certs', 'cert_names', 'events')"),
	    5);
	sqlite3_close(db);

	/* Reopening, with and without CREATE, leaves it as it is. */
	assert_cm_ok(fx->ctx, cm_store_open(&st, fx->ctx, path, 0));
	cm_store_close(st);
	st = NULL;
	assert_cm_ok(fx->ctx, cm_store_open(&st, fx->ctx, path,
	    CM_STORE_CREATE));
	cm_store_close(st);
	db = raw_open(path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"),
	    cm_store_schema_latest());
	sqlite3_close(db);
	assert_int_equal(unit_mode(path), 0600);
}

/* What was written is there after a reopen. */
static void
test_store_reopen(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_ca_info **list = NULL;
	size_t n = 0;

	o.name = "kept";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	cm_store_close(fx->st);
	fx->st = NULL;
	assert_cm_ok(fx->ctx, cm_store_open(&fx->st, fx->ctx, fx->store_path,
	    0));
	assert_cm_ok(fx->ctx, cm_ca_list(&list, &n, fx->st));
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->name, "kept");
	cm_ca_info_list_free(list, n);
}

/* cm_ca_count() counts CAs; the issued count of ca list and ca get is
 * per CA, and lookups for signing no longer compute it. */
static void
test_store_ca_count(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	const char *names[] = { "a.test" };
	cm_cert_info *c = NULL;
	cm_ca_info **list = NULL, *ca = NULL;
	size_t n = 99, i;

	assert_cm_ok(fx->ctx, cm_ca_count(&n, fx->st));
	assert_int_equal(n, 0);
	o.name = "one";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	assert_cm_ok(fx->ctx, cm_ca_count(&n, fx->st));
	assert_int_equal(n, 1);
	io.names = names;
	io.nnames = 1;
	for (i = 0; i < 3; i++) {
		assert_cm_ok(fx->ctx, cm_issue(&c, fx->st, &io));
		cm_cert_info_free(c);
	}
	o.name = "two";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	assert_cm_ok(fx->ctx, cm_ca_count(&n, fx->st));
	assert_int_equal(n, 2);
	assert_cm_ok(fx->ctx, cm_ca_get(&ca, fx->st, "one"));
	assert_int_equal(ca->issued, 3);
	cm_ca_info_free(ca);
	assert_cm_ok(fx->ctx, cm_ca_get(&ca, fx->st, "two"));
	assert_int_equal(ca->issued, 0);
	cm_ca_info_free(ca);
	assert_cm_ok(fx->ctx, cm_ca_list(&list, &n, fx->st));
	assert_int_equal(n, 2);
	assert_int_equal(list[0]->issued, 3);
	assert_int_equal(list[1]->issued, 0);
	cm_ca_info_list_free(list, n);
}

/* A store from a newer certmint is refused and left byte for byte. */
static void
test_store_newer(void **state)
{
	unit_fx *fx = *state;
	cm_store *st = NULL;
	sqlite3 *db;
	char *before, *after, want[2 * PATH_MAX];
	size_t lb, la;
	unsigned flags[] = { 0, CM_STORE_CREATE };
	size_t i;

	cm_store_close(fx->st);
	fx->st = NULL;
	db = raw_open(fx->store_path);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	before = unit_read_file(fx->store_path, &lb);
	assert_non_null(before);

	for (i = 0; i < UNIT_NELEM(flags); i++) {
		snprintf(want, sizeof(want), "store %s is schema 99, this "
		    "certmint knows up to %d: upgrade certmint", fx->store_path,
		    cm_store_schema_latest());
		assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx,
		    fx->store_path, flags[i]), CM_E_STORE_NEWER, want);
		assert_null(st);
	}
	after = unit_read_file(fx->store_path, &la);
	assert_non_null(after);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(before);
	free(after);
	db = raw_open(fx->store_path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 99);
	sqlite3_close(db);
}

static void
test_store_not_sqlite(void **state)
{
	unit_fx *fx = *state;
	cm_store *st = NULL;
	char path[PATH_MAX + 32], want[2 * PATH_MAX], text[2048], *after;
	size_t i, la;

	for (i = 0; i + 1 < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	text[sizeof(text) - 1] = '\n';
	unit_path(path, sizeof(path), fx, "notes.txt");
	unit_write_file(path, text, sizeof(text));
	/* As a store is: else it is refused for its mode first. */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(want, sizeof(want), "store %s is not an SQLite database",
	    path);
	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, path,
	    CM_STORE_CREATE), CM_E_STORE, want);
	assert_null(st);
	after = unit_read_file(path, &la);
	assert_int_equal(la, sizeof(text));
	assert_memory_equal(after, text, la);
	free(after);

	/* A folder is not a store either. */
	snprintf(want, sizeof(want), "store %s is a directory", fx->dir);
	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, fx->dir, 0),
	    CM_E_STORE, want);
	assert_null(st);
}

static void
test_store_missing(void **state)
{
	unit_fx *fx = *state;
	cm_store *st = NULL;
	char path[PATH_MAX + 32], want[2 * PATH_MAX], sub[PATH_MAX + 32];

	unit_path(sub, sizeof(sub), fx, "nothing");
	unit_path(path, sizeof(path), fx, "nothing/certmint.db");
	snprintf(want, sizeof(want), "store %s does not exist (run 'certmint "
	    "init')", path);
	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, path, 0),
	    CM_E_NOTFOUND, want);
	assert_null(st);
	/* Nothing was created on the way. */
	assert_false(unit_exists(sub));

	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, "", 0),
	    CM_E_INVALID, "store path is empty");
	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, NULL, 0),
	    CM_E_INVALID, "store path is empty");

	/* A folder that cannot be made: its parent is a file (ENOTDIR). */
	unit_path(path, sizeof(path), fx, "file");
	unit_write_file(path, "x", 1);
	unit_path(path, sizeof(path), fx, "file/sub/certmint.db");
	snprintf(want, sizeof(want), "store %s: ", path);
	assert_cm_err(fx->ctx, cm_store_open(&st, fx->ctx, path,
	    CM_STORE_CREATE), CM_E_STORE, want);
	assert_null(st);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Another writer holds the lock: CM_E_LOCKED after the busy timeout, and
 * the same call works once the lock is gone. */
static void
test_store_locked(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_ca_info **list = NULL;
	sqlite3 *db;
	size_t n = 0;
	double t0;

	cm_store_set_busy_timeout(fx->st, 50);
	db = raw_open(fx->store_path);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
	    SQLITE_OK);
	o.name = "blocked";
	t0 = now_s();
	assert_cm_err(fx->ctx, cm_ca_init(NULL, fx->st, &o), CM_E_LOCKED,
	    "locked");
	assert_substr(cm_ctx_error(fx->ctx), fx->store_path);
	assert_true(now_s() - t0 < 3.0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	/* Nothing half-done was left; now it works. */
	assert_cm_ok(fx->ctx, cm_ca_list(&list, &n, fx->st));
	assert_int_equal(n, 0);
	cm_ca_info_list_free(list, n);
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
}

/* The audit log only grows. */
static void
test_store_events_append_only(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_ca_info *ca = NULL;
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	char *msg = NULL;

	o.name = "audited";
	assert_cm_ok(fx->ctx, cm_ca_init(&ca, fx->st, &o));
	db = raw_open(fx->store_path);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT time, actor, object, "
	    "details FROM events WHERE action = 'ca.create'", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), (sqlite3_int64)UNIT_NOW);
	assert_true(sqlite3_column_bytes(s, 1) > 0);
	assert_string_equal((const char *)sqlite3_column_text(s, 2),
	    ca->serial);
	assert_string_equal((const char *)sqlite3_column_text(s, 3), "audited");
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);

	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET actor = 'x'",
	    NULL, NULL, &msg), SQLITE_OK);
	assert_substr(msg, "append-only");
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL,
	    &msg), SQLITE_OK);
	assert_substr(msg, "append-only");
	sqlite3_free(msg);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE "
	    "actor = 'x'"), 0);
	sqlite3_close(db);
	cm_ca_info_free(ca);
}

static void
restore_env(const char *name, const char *value)
{
	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void
test_store_default_path(void **state)
{
	unit_fx *fx = *state;
	char *env = cm__strdup(getenv("CERTMINT_STORE"));
	char *xdg = cm__strdup(getenv("XDG_DATA_HOME"));
	char *home = cm__strdup(getenv("HOME"));
	char buf[PATH_MAX], tiny[8];

	setenv("CERTMINT_STORE", "/srv/ca/x.db", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_cm_ok(fx->ctx, cm_store_default_path(buf, sizeof(buf), fx->ctx));
	assert_string_equal(buf, "/srv/ca/x.db");

	unsetenv("CERTMINT_STORE");
	assert_cm_ok(fx->ctx, cm_store_default_path(buf, sizeof(buf), fx->ctx));
	assert_string_equal(buf, "/xdg/certmint/certmint.db");

	/* XDG Base Directory: a relative XDG_DATA_HOME is ignored. */
	setenv("XDG_DATA_HOME", "rel", 1);
	assert_cm_ok(fx->ctx, cm_store_default_path(buf, sizeof(buf), fx->ctx));
	assert_string_equal(buf, "/home/u/.local/share/certmint/certmint.db");

	assert_cm_err(fx->ctx, cm_store_default_path(tiny, sizeof(tiny),
	    fx->ctx), CM_E_INVALID, "store path too long");

	unsetenv("XDG_DATA_HOME");
	unsetenv("HOME");
	assert_cm_err(fx->ctx, cm_store_default_path(buf, sizeof(buf),
	    fx->ctx), CM_E_INVALID, "no store path: set --store");

	restore_env("CERTMINT_STORE", env);
	restore_env("XDG_DATA_HOME", xdg);
	restore_env("HOME", home);
	free(env);
	free(xdg);
	free(home);
}

/* Whether a process (not the caller's child) holds a lock on the -shm's
 * byte 128, as a child sees it. */
static bool
shm_locked_by_other(const char *store)
{
	char path[PATH_MAX];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s-shm", store);
	if ((pid = fork()) == 0) {
		struct flock fl;
		int fd = open(path, O_RDWR);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = 128;
		fl.l_len = 1;
		_exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * The OCSP responder's per-request check: a commit by another connection
 * is seen (the wal-index header moved), and nothing else is.
 */
static void
test_store_change_hint(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	sqlite3 *db;
	int64_t v;

	/* A read first: the WAL and its -shm are in use. */
	assert_cm_ok(fx->ctx, cm__store_data_version(&v, fx->st));
	assert_true(cm__store_may_have_changed(fx->st));
	assert_false(cm__store_may_have_changed(fx->st));
	assert_false(cm__store_may_have_changed(fx->st));
	/* SQLite's lock on the -shm (its dead-man byte, 128) is still held:
	 * another process would otherwise take the index for its own and
	 * truncate it under this one. */
	assert_true(shm_locked_by_other(fx->store_path));
	/* A failed check forgets the header: the next call checks. */
	cm__store_changes_unseen(fx->st);
	assert_true(cm__store_may_have_changed(fx->st));
	assert_false(cm__store_may_have_changed(fx->st));
	/* Another connection commits. */
	db = raw_open(fx->store_path);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO events (time, actor, "
	    "action, object, details) VALUES (1, 'x', 'test', 's', 'd')",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_true(cm__store_may_have_changed(fx->st));
	assert_false(cm__store_may_have_changed(fx->st));
	/* A read by the other changes nothing. */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events") > 0, 1);
	assert_false(cm__store_may_have_changed(fx->st));
	sqlite3_close(db);
	/* This connection's own commit shows too. */
	o.name = "own";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	assert_true(cm__store_may_have_changed(fx->st));
	assert_false(cm__store_may_have_changed(fx->st));
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/*
 * passwd wipes the WAL (its old frames hold the keys as they were); while
 * another connection reads an older snapshot the wipe cannot happen: the
 * change stands, passwd fails naming the reader (this process), the wipe
 * is pending and is done when the store closes (issue 14, item 5).
 */
static void
test_store_wipe_deferred(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	char wal[PATH_MAX + 8];
	size_t n = 0;
	bool enc = false, pending = false;
	sqlite3 *db;

	snprintf(wal, sizeof(wal), "%s-wal", fx->store_path);
	o.name = "clear";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, fx->st, &o));
	/* The other connection's read snapshot predates passwd's commit. */
	db = raw_open(fx->store_path);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM keys"), 1);
	cm_store_set_busy_timeout(fx->st, 50);
	assert_cm_err(fx->ctx, cm_store_passwd(&n, fx->st, NULL,
	    "a new passphrase"), CM_E_LOCKED, "passphrase set (1 key), not yet "
	    "wiped: ");
	assert_int_equal(n, 0);
	assert_true(cm_store_has_passphrase(&enc, fx->st) == CM_OK && enc);
	assert_true(cm_store_wipe_pending(&pending, fx->st) == CM_OK &&
	    pending);
	assert_true(file_size(wal) > 0);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	cm_store_close(fx->st);
	fx->st = NULL;
	/* Wiped at close: zeros, then cut (a plain fold keeps the file);
	 * only the frames that record it are left. */
	assert_true(file_size(wal) < 4096 * 4);
	assert_cm_ok(fx->ctx, cm_store_open(&fx->st, fx->ctx, fx->store_path,
	    0));
	assert_true(cm_store_wipe_pending(&pending, fx->st) == CM_OK &&
	    !pending);
}

/*
 * A store in memory (test client's ephemeral CA): a CA and a certificate
 * in it, the same schema as on disk, no file anywhere; a second one is
 * empty and the first is gone at its close.
 */
static void
test_store_memory(void **state)
{
	unit_fx *fx = *state;
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	const char *names[] = { "localhost" };
	cm_store *st = NULL, *other = NULL;
	cm_cert_info *c = NULL, **list = NULL;
	struct stat sb;
	char path[PATH_MAX];
	size_t n = 0;

	unit_path(path, sizeof(path), fx, "mem.db");
	assert_cm_ok(fx->ctx, cm_store_open(&st, fx->ctx, path,
	    CM_STORE_MEMORY | CM_STORE_CREATE));
	o.name = "ephemeral";
	assert_cm_ok(fx->ctx, cm_ca_init(NULL, st, &o));
	io.names = names;
	io.nnames = 1;
	assert_cm_ok(fx->ctx, cm_issue(&c, st, &io));
	assert_non_null(c->serial);
	assert_cm_ok(fx->ctx, cm_cert_list(&list, &n, st, NULL));
	assert_int_equal(n, 1);
	cm_cert_info_list_free(list, n);
	assert_cm_ok(fx->ctx, cm_store_open(&other, fx->ctx, NULL,
	    CM_STORE_MEMORY));
	assert_cm_ok(fx->ctx, cm_ca_count(&n, other));
	assert_int_equal(n, 0);
	cm_store_close(other);
	cm_store_close(st);
	cm_cert_info_free(c);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(stat("localhost.crt", &sb), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_ctx(test_store_create),
		unit_test_store(test_store_reopen),
		unit_test_store(test_store_ca_count),
		unit_test_store(test_store_newer),
		unit_test_ctx(test_store_not_sqlite),
		unit_test_ctx(test_store_missing),
		unit_test_store(test_store_locked),
		unit_test_store(test_store_events_append_only),
		unit_test_store(test_store_change_hint),
		unit_test_store(test_store_wipe_deferred),
		unit_test_ctx(test_store_default_path),
		unit_test_ctx(test_store_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
