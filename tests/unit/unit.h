/*
 * unit.h - helpers shared by the cmocka unit tests of libcertmint.
 *
 * Every test runs in a fixture: a fresh temporary folder, a context whose
 * clock is pinned to UNIT_NOW and, for the tests that need one, a store in
 * that folder.  The teardown frees all of it even when an assertion failed
 * half-way (cmocka longjmps out of the test), so LeakSanitizer only sees
 * leaks of the library.
 *
 * Everything is static inline: each test program uses a different subset.
 */
#ifndef CM_UNIT_H
#define CM_UNIT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal.h"

/* 2026-11-18T19:06:40Z: a fixed "now" for everything time-dependent. */
#define UNIT_NOW ((time_t)1795000000)
#define UNIT_DAY ((time_t)86400)

#define UNIT_NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct unit_fx {
	char dir[PATH_MAX];       /* temporary folder, removed by teardown */
	char store_path[PATH_MAX];
	cm_ctx *ctx;
	cm_store *st;
} unit_fx;

/*
 * Fails the test unless err is want and the context's message contains
 * sub (sub NULL: any message).  Prints both on a mismatch.
 */
#define assert_cm_err(ctx, err, want, sub) \
	unit_assert_err((ctx), (err), (want), (sub), __FILE__, __LINE__)
#define assert_cm_ok(ctx, err) \
	unit_assert_err((ctx), (err), CM_OK, NULL, __FILE__, __LINE__)

static inline void
unit_assert_err(const cm_ctx *ctx, cm_err err, cm_err want, const char *sub,
    const char *file, int line)
{
	const char *msg = cm_ctx_error(ctx);

	if (err != want) {
		print_error("got %s (\"%s\"), want %s\n", cm_strerror(err), msg,
		    cm_strerror(want));
		_fail(file, line);
	}
	if (sub != NULL && strstr(msg, sub) == NULL) {
		print_error("message \"%s\" lacks \"%s\"\n", msg, sub);
		_fail(file, line);
	}
}

/* Fails unless s contains sub. */
#define assert_substr(s, sub) \
	unit_assert_substr((s), (sub), __FILE__, __LINE__)

static inline void
unit_assert_substr(const char *s, const char *sub, const char *file, int line)
{
	if (s == NULL || strstr(s, sub) == NULL) {
		print_error("\"%s\" lacks \"%s\"\n", s ? s : "(null)", sub);
		_fail(file, line);
	}
}

static inline int
unit_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* rm -rf path (folders made read-only by a test are opened up first). */
static inline void
unit_rmtree(const char *path)
{
	chmod(path, 0700);
	nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new folder under $TMPDIR (or /tmp) into buf. */
static inline void
unit_mkdtemp(char *buf, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	assert_true((size_t)snprintf(buf, len, "%s/cm-unit-XXXXXX", tmp) < len);
	assert_non_null(mkdtemp(buf));
}

/* dir/name into buf. */
static inline void
unit_path(char *buf, size_t len, const unit_fx *fx, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", fx->dir, name) < len);
}

static inline bool
unit_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* The permission bits of path (-1 when it does not exist). */
static inline int
unit_mode(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return -1;
	return (int)(sb.st_mode & 07777);
}

/* Number of entries in a folder, "." and ".." left out. */
static inline size_t
unit_count_dir(const char *dir)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static inline void
unit_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file in a new NUL-terminated buffer (NULL if unreadable). */
static inline char *
unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4097 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* The PostgreSQL store the run names (tests/pg/run.sh), or NULL: the
 * fixture's store is then that database, emptied before each test. */
static inline const char *
unit_pg(void)
{
	const char *u = getenv("CERTMINT_TEST_PG");

	return u != NULL && u[0] != '\0' ? u : NULL;
}

/* sql run by psql on the PostgreSQL store; its first line of output. */
static inline int
unit_psql(char *out, size_t len, const char *sql)
{
	FILE *p;
	int rc;

	setenv("UNIT_PG", unit_pg(), 1);
	setenv("UNIT_SQL", sql, 1);
	if ((p = popen("psql -X -q -At -v ON_ERROR_STOP=1 -d \"$UNIT_PG\" "
	    "-c \"$UNIT_SQL\" 2>&1", "r")) == NULL)
		return -1;
	if (out != NULL && fgets(out, (int)len, p) == NULL)
		out[0] = '\0';
	while (fgetc(p) != EOF)
		;
	rc = pclose(p);
	return rc == 0 ? 0 : -1;
}

/* The integer of a one-row query on the fixture's store, read behind the
 * library's back. */
static inline int
unit_rows(const unit_fx *fx, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char buf[64];
	int v;

	if (unit_pg() != NULL) {
		assert_int_equal(unit_psql(buf, sizeof(buf), sql), 0);
		return atoi(buf);
	}

	assert_int_equal(sqlite3_open_v2(fx->store_path, &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A fixture with a temporary folder and a context pinned to UNIT_NOW. */
static inline int
unit_setup_ctx(void **state)
{
	unit_fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	unit_mkdtemp(fx->dir, sizeof(fx->dir));
	if ((size_t)snprintf(fx->store_path, sizeof(fx->store_path),
	    "%s/store/certmint.db", fx->dir) >= sizeof(fx->store_path))
		return -1;
	if (cm_ctx_new(&fx->ctx) != CM_OK) {
		unit_rmtree(fx->dir);
		free(fx);
		return -1;
	}
	cm_ctx_set_time(fx->ctx, UNIT_NOW);
	*state = fx;
	return 0;
}

/* unit_setup_ctx plus a new store in <dir>/store/certmint.db. */
static inline int
unit_setup_store(void **state)
{
	unit_fx *fx;

	if (unit_setup_ctx(state) != 0)
		return -1;
	fx = *state;
	if (unit_pg() != NULL) {
		snprintf(fx->store_path, sizeof(fx->store_path), "%s",
		    unit_pg());
		if (unit_psql(NULL, 0, "SET client_min_messages = warning; "
		    "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != 0)
			return -1;
	}
	if (cm_store_open(&fx->st, fx->ctx, fx->store_path, CM_STORE_CREATE) !=
	    CM_OK) {
		print_error("store: %s\n", cm_ctx_error(fx->ctx));
		return -1;
	}
	return 0;
}

static inline int
unit_teardown(void **state)
{
	unit_fx *fx = *state;

	if (fx == NULL)
		return 0;
	cm_store_close(fx->st);
	cm_ctx_free(fx->ctx);
	unit_rmtree(fx->dir);
	free(fx);
	*state = NULL;
	return 0;
}

#define unit_test_ctx(f) \
	cmocka_unit_test_setup_teardown(f, unit_setup_ctx, unit_teardown)
#define unit_test_store(f) \
	cmocka_unit_test_setup_teardown(f, unit_setup_store, unit_teardown)

#endif /* CM_UNIT_H */
