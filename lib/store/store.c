/*
 * store.c - the SQLite inventory.  The only file that speaks SQL: the rest
 * of the library goes through the cm__store_* calls in internal.h, so that
 * another backend can sit behind them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_BUSY_MS 5000

#define STMT_CACHE 8
/* The WAL is folded into the store by the command whose write takes it
 * past this many pages (about 10 an issuance): see cm_store_close(). */
#define FOLD_PAGES 100
/* ... and by a connection still open whose commit takes it past this many
 * (SQLite's default). */
#define LIVE_FOLD_PAGES 1000
/* A WAL grown past this by a big write (a batch) is cut back to it when
 * it is folded (wal_truncate()) or restarted (journal_size_limit). */
#define WAL_KEEP_BYTES 1048576
#define STR_(x) #x
#define STR(x) STR_(x)
/* SQLite's wal-index header: its first copy, at the start of the -shm
 * file (https://www.sqlite.org/walformat.html, 2.2.1). */
#define WAL_HDR 48
#define SHM_MAP 4096
/* Present while a wipe of the WAL is pending (cm__store_wipe_mark()). */
#define WIPE_TABLE "wal_wipe_pending"

/* Set around a fold that must wipe the WAL (wal_truncate()), in the
 * thread that folds: the context of the store (for its failpoints). */
static __thread cm_ctx *wal_wipe;

struct cm_store {
	cm_ctx *ctx;
	sqlite3 *db;
	char *path;
	char *dir;
	/* Statements of the hot paths (batch issuance), prepared once; the
	 * key is the address of the SQL literal. */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	char actor[256];    /* who writes the events, looked up once */
	int wal_pages;      /* in the WAL after this connection's last commit */
	bool wipe;          /* cm__store_wal_wipe() could not wipe: at close */
	int busy_ms;        /* the busy timeout set */
	/* The store's -shm file, mapped read-only by cm__store_may_have_
	 * changed(), and the wal-index header as last seen.  Its descriptor
	 * stays open until SQLite has closed: closing any descriptor of a
	 * file drops every POSIX lock the process holds on it, SQLite's
	 * own included. */
	const unsigned char *shm;
	int shm_fd;
	bool shm_tried;
	unsigned char shm_seen[WAL_HDR];
	bool shm_seen_valid;
	time_t nonces_pruned;   /* ACME nonces last expired */
	/* cm__store_set_precommit() */
	cm_err (*precommit)(cm_store *st, void *arg);
	void *precommit_arg;
};

static cm_err exec(cm_store *st, const char *sql, const char *what);
static cm_err wipe_pending(bool *out, cm_store *st);
static cm_err wal_wipe_now(cm_store *st, bool wait);

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

void
cm_store_set_busy_timeout(cm_store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms);
	st->busy_ms = ms;
}

/* The one place SQLite codes become ours. */
static cm_err
sql_fail(cm_store *st, int rc, const char *what)
{
	const char *path = st->path;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return cm__fail(st->ctx, CM_E_LOCKED, "store %s is locked by "
		    "another process (%s)", path, what);
	case SQLITE_FULL:
		return cm__fail(st->ctx, CM_E_STORE, "store %s: disk full (%s)",
		    path, what);
	case SQLITE_NOMEM:
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	case SQLITE_NOTADB:
		return cm__fail(st->ctx, CM_E_STORE, "store %s is not an "
		    "SQLite database", path);
	case SQLITE_CORRUPT:
		return cm__fail(st->ctx, CM_E_STORE, "store %s is corrupt",
		    path);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		/* Growing the WAL or its index on a full disk is an I/O
		 * error to SQLite; the cause is what the user can fix. */
		if (st->db != NULL && (sqlite3_system_errno(st->db) == ENOSPC ||
		    sqlite3_system_errno(st->db) == EDQUOT))
			return cm__fail(st->ctx, CM_E_STORE, "store %s: disk "
			    "full (%s)", path, what);
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: %s", path,
		    what, sqlite3_errmsg(st->db));
	default:
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: %s", path,
		    what, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	}
}

static cm_err
exec(cm_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? CM_OK : sql_fail(st, rc, what);
}

static cm_err
prepare(cm_store *st, sqlite3_stmt **stmt, const char *sql)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);

	return rc == SQLITE_OK ? CM_OK : sql_fail(st, rc, "preparing a query");
}

/* Like prepare, but keeps the statement for the next call; give it back
 * with release(). */
static cm_err
prepare_cached(cm_store *st, sqlite3_stmt **stmt, const char *sql)
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
	st->cache[i].sql = sql;
	st->cache[i].stmt = *stmt;
	return CM_OK;
}

/* Finalizes a statement, or resets it when it is cached. */
static void
release(cm_store *st, sqlite3_stmt *stmt)
{
	size_t i;

	for (i = 0; i < STMT_CACHE; i++)
		if (st->cache[i].stmt == stmt && stmt != NULL) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			return;
		}
	sqlite3_finalize(stmt);
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

/* mkdir -p, creating missing folders 0700. */
static cm_err
make_dirs(cm_ctx *ctx, const char *dir)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n >= sizeof(buf))
		return cm__fail(ctx, CM_E_INVALID, "%s: path too long", dir);
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return cm__errno_fail(ctx, errno, "store folder %s",
			    buf);
		buf[i] = i == n ? '\0' : '/';
	}
	return CM_OK;
}

static cm_err
read_version(cm_store *st, int *v)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? CM_OK : sql_fail(st, rc, "reading schema");
}

static cm_err
migrate(cm_store *st)
{
	int v, latest = cm_store_schema_latest(), i, mv;
	char sql[64];
	cm_err err;

	if ((err = cm__store_begin(st)) != CM_OK)
		return err;
	/* Read again under the write lock: another process may have won. */
	if ((err = read_version(st, &v)) != CM_OK)
		goto out;
	for (i = 0; cm__migrations[i].name != NULL; i++) {
		mv = (int)strtol(cm__migrations[i].name, NULL, 10);
		if (mv <= v)
			continue;
		err = exec(st, cm__migrations[i].text, cm__migrations[i].name);
		if (err != CM_OK)
			goto out;
	}
	if (v < latest) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest);
		if ((err = exec(st, sql, "setting schema")) != CM_OK)
			goto out;
	}
	err = cm__store_commit(st);
out:
	if (err != CM_OK)
		cm__store_rollback(st);
	return err;
}

void
cm_store_close(cm_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	/* Unmapped while this connection still holds the -shm open: SQLite
	 * shrinks the file only when no connection has it. */
	if (st->shm != NULL)
		munmap((void *)(uintptr_t)st->shm, SHM_MAP);
	/* Folded only when it has grown: the commits are durable in the
	 * WAL already.  Without waiting: a reader of an older snapshot or
	 * another writer makes it the next writer's work. */
	if (st->db != NULL && (st->wal_pages >= FOLD_PAGES || st->wipe)) {
		sqlite3_busy_timeout(st->db, 0);
		wal_wipe = st->wipe ? st->ctx : NULL;
		if (sqlite3_wal_checkpoint_v2(st->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK &&
		    st->wipe)
			(void)exec(st, "DROP TABLE IF EXISTS " WIPE_TABLE,
			    "recording the wipe");
		wal_wipe = NULL;
	}
	sqlite3_close_v2(st->db);
	/* Only now: its close would have dropped SQLite's locks. */
	if (st->shm_fd >= 0)
		close(st->shm_fd);
	free(st->path);
	free(st->dir);
	free(st);
}

/* After each commit of this connection (it replaces SQLite's own hook). */
static int
wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
	((cm_store *)arg)->wal_pages = pages;
	/* What SQLite's hook does, for a connection that writes for long
	 * (a server): the WAL does not grow without end. */
	if (pages >= LIVE_FOLD_PAGES)
		sqlite3_wal_checkpoint(db, name);
	return SQLITE_OK;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The store is in WAL mode with synchronous=FULL: a commit is on disk, in
 * the WAL, when it returns, whatever other connections are open.  The WAL
 * is not folded into the store at every close (SQLite's default), which
 * would cost two more disk waits and a second write of every page: the
 * writer whose commit takes it past FOLD_PAGES folds it when it closes.
 * So at rest the WAL holds the last few writes; `sqlite3 certmint.db
 * ".backup copy.db"`, or any SQLite program, reads the store whole.
 *
 * The WAL and its -shm stay beside the store (with no checkpoint at
 * close, SQLite does not delete them when the last connection goes):
 * deleting and making them anew cost a millisecond in the file system
 * alone.  A folded WAL is not cut to zero bytes but has its header blanked
 * (wal_truncate() below): a WAL without a valid header has no frames to
 * SQLite, and the next commit writes over the old frames in place instead
 * of making the file system find blocks for them again.  The blank header
 * is not synced, nor was the cut: the frames it hides are in the store,
 * synced, before it is written, and the next commit syncs its new header
 * before its frames.  The old frames stay in the file until overwritten:
 * a write that replaces secrets (cm_store_passwd()) has the WAL wiped
 * (cm__store_wal_wipe()).
 *
 * The store's VFS is SQLite's own but for its WAL.  SQLite syncs the
 * folder after the first sync of a WAL it opened with SQLITE_OPEN_CREATE,
 * so that the WAL's name survives a power loss, and it opens it so every
 * time: a disk wait per command for a name that is long on disk.  Here a
 * WAL that is made is made with its folder synced at once (a command that
 * only reads never syncs the WAL, so SQLite would not), and a WAL that is
 * there is opened without create; its folder is synced only when it is
 * empty, as a WAL another program made to read is (certmint's are never
 * empty again once written: a fold blanks the header).  Left: a WAL
 * another program made and wrote to without a sync yet (SQLite syncs the
 * folder with a WAL's first sync, at the fold in its default NORMAL mode)
 * is taken as durable.
 */
#define STORE_VFS "certmint"

static sqlite3_vfs *os_vfs;
static sqlite3_vfs store_vfs;
static pthread_once_t store_vfs_once = PTHREAD_ONCE_INIT;

/* Syncs the folder of path (a file in it was just made). */
static void
sync_folder_of(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	cm__dir_of(dir, sizeof(dir), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The WAL's methods: SQLite's own (os_wal_methods) but for xTruncate. */
static sqlite3_io_methods wal_methods;
static const sqlite3_io_methods *os_wal_methods;

/*
 * The WAL overwritten with zeros, synced, then cut to zero bytes.  Its
 * pages are in the store, synced, by now (a checkpoint cuts the WAL last).
 * The failpoints (passwd.before_wipe, passwd.during_wipe: after the first
 * 4 KiB) fail as an I/O error would.
 */
static int
wal_wipe_all(sqlite3_file *f, sqlite3_int64 size)
{
	static const unsigned char zeros[65536];
	sqlite3_int64 off;
	int rc = SQLITE_OK, n;

	if (cm__failpoint(wal_wipe, "passwd.before_wipe") != CM_OK)
		return SQLITE_IOERR_TRUNCATE;
	for (off = 0; off < size && rc == SQLITE_OK; off += n) {
		n = size - off < (sqlite3_int64)sizeof(zeros) ?
		    (int)(size - off) : (int)sizeof(zeros);
		if (off == 0 && n > 4096)
			n = 4096;
		rc = os_wal_methods->xWrite(f, zeros, n, off);
		if (rc == SQLITE_OK && off == 0 && cm__failpoint(wal_wipe,
		    "passwd.during_wipe") != CM_OK)
			rc = SQLITE_IOERR_WRITE;
	}
	if (rc == SQLITE_OK)
		rc = os_wal_methods->xSync(f, SQLITE_SYNC_NORMAL);
	return rc == SQLITE_OK ? os_wal_methods->xTruncate(f, 0) : rc;
}

/* Cut to zero bytes after a fold: the header (32 bytes) is blanked. */
static int
wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	static const unsigned char blank[32];
	sqlite3_int64 now;
	int rc;

	if (size != 0)
		return os_wal_methods->xTruncate(f, size);
	if ((rc = os_wal_methods->xFileSize(f, &now)) != SQLITE_OK)
		return rc;
	if (wal_wipe != NULL)
		return wal_wipe_all(f, now);
	if (now < (sqlite3_int64)sizeof(blank))
		return os_wal_methods->xTruncate(f, size);
	if ((rc = os_wal_methods->xWrite(f, blank, sizeof(blank), 0)) !=
	    SQLITE_OK || now <= WAL_KEEP_BYTES)
		return rc;
	return os_wal_methods->xTruncate(f, WAL_KEEP_BYTES);
}

/* f: a WAL SQLite's VFS has just opened. */
static void
wal_methods_set(sqlite3_file *f)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&mu);
	if (os_wal_methods == NULL) {
		os_wal_methods = f->pMethods;
		wal_methods = *f->pMethods;
		wal_methods.xTruncate = wal_truncate;
	}
	if (f->pMethods == os_wal_methods)
		f->pMethods = &wal_methods;
	pthread_mutex_unlock(&mu);
}

static int
store_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
    int flags, int *out_flags)
{
	struct stat sb;
	bool wal = (flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) &&
	    name != NULL;
	int rc;

	(void)vfs;
	if (wal && lstat(name, &sb) == 0 && S_ISREG(sb.st_mode)) {
		rc = os_vfs->xOpen(os_vfs, name, f, flags & ~SQLITE_OPEN_CREATE,
		    out_flags);
		if (rc == SQLITE_OK) {
			if (sb.st_size == 0)
				sync_folder_of(name);
			wal_methods_set(f);
			return rc;
		}
		/* Gone since the lstat(): made below.  A failed xOpen may
		 * leave its methods set, to be closed. */
		if (f->pMethods != NULL) {
			f->pMethods->xClose(f);
			f->pMethods = NULL;
		}
	}
	rc = os_vfs->xOpen(os_vfs, name, f, flags, out_flags);
	if (rc == SQLITE_OK && wal) {
		sync_folder_of(name);
		wal_methods_set(f);
	}
	return rc;
}

static void
store_vfs_register(void)
{
	if ((os_vfs = sqlite3_vfs_find(NULL)) == NULL)
		return;
	store_vfs = *os_vfs;
	store_vfs.pNext = NULL;
	store_vfs.zName = STORE_VFS;
	store_vfs.xOpen = store_vfs_open;
	if (sqlite3_vfs_register(&store_vfs, 0) != SQLITE_OK)
		os_vfs = NULL;
}

/*
 * Puts a new store in WAL mode.  That takes the store's exclusive lock, and
 * SQLite does not wait for it (its busy handler would deadlock two
 * processes that both read the header first): when certmints race on a new
 * store (make -j, four first issues at once), the losers try again for up
 * to the busy timeout.  On a store already in WAL mode it costs nothing.
 */
static cm_err
set_wal(cm_store *st)
{
	const struct timespec pause = { 0, 2 * 1000 * 1000 };
	int64_t deadline = mono_ms() + DEFAULT_BUSY_MS, left;
	int rc;

	for (;;) {
		/* SQLite's own waits count against the same deadline. */
		left = deadline - mono_ms();
		sqlite3_busy_timeout(st->db, left > 0 ? (int)left : 0);
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
		if (rc == SQLITE_OK || (rc & 0xff) != SQLITE_BUSY ||
		    mono_ms() >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	sqlite3_busy_timeout(st->db, DEFAULT_BUSY_MS);
	return rc == SQLITE_OK ? CM_OK : sql_fail(st, rc, "setting up");
}

/*
 * Who may reach the store, checked at every open as ssh's StrictModes
 * checks ~/.ssh: the store holds the CA keys (in the clear unless the store
 * has a passphrase), so a store another user owns, reads or writes is
 * refused, and so is one in a folder another user owns or may write to (a
 * shared 1777 folder included: there another user can make its -wal and
 * -shm, or swap the store, before we open it).  Root is held to the same
 * rule: root using a store made by nobody is how nobody gets a key root
 * issued.  A folder that is merely readable by others (a project folder,
 * 0755) is fine: it shows names, not the store.  Only the store's own
 * folder is checked, not the ones above it.
 */
static void
user_name(char *buf, size_t len, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

static cm_err
perms_fail(cm_ctx *ctx, const char *what, const char *path,
    const struct stat *sb)
{
	char owner[64], me[64];

	user_name(owner, sizeof(owner), sb->st_uid);
	user_name(me, sizeof(me), geteuid());
	return cm__fail(ctx, CM_E_STORE_PERMS, "%s %s is owned by %s, not by "
	    "%s: refusing a store another user can read or replace (if it "
	    "is yours, run 'chown %s %s')", what, path, owner, me, me, path);
}

/* The store's folder: ours, and writable by nobody else. */
static cm_err
check_folder(cm_ctx *ctx, const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) != 0) {
		(void)cm__errno_fail(ctx, errno, "store folder %s", dir);
		return CM_E_STORE;
	}
	if (sb.st_uid != geteuid())
		return perms_fail(ctx, "store folder", dir, &sb);
	if ((sb.st_mode & (S_IWOTH | S_ISVTX)) == (S_IWOTH | S_ISVTX))
		return cm__fail(ctx, CM_E_STORE_PERMS, "store folder %s is "
		    "shared (mode %04o): others can make or replace files in "
		    "it; move the store into a folder of its own (mkdir -m 700 "
		    "%s/certmint)", dir, (unsigned)(sb.st_mode & 07777),
		    strcmp(dir, "/") == 0 ? "" : dir);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return cm__fail(ctx, CM_E_STORE_PERMS, "store folder %s is "
		    "writable by %s (mode %04o): run 'chmod 700 %s'", dir,
		    sb.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(sb.st_mode & 07777), dir);
	return CM_OK;
}

/* The store file: ours, and neither readable nor writable by others. */
static cm_err
check_file(cm_ctx *ctx, const char *path, const struct stat *sb)
{
	if (sb->st_uid != geteuid())
		return perms_fail(ctx, "store", path, sb);
	if (sb->st_mode & (S_IRWXG | S_IRWXO))
		return cm__fail(ctx, CM_E_STORE_PERMS, "store %s is %s by "
		    "%s (mode %04o): run 'chmod 600 %s'", path,
		    sb->st_mode & (S_IWGRP | S_IWOTH) ? "writable" : "readable",
		    sb->st_mode & S_IRWXO ? "others" : "its group",
		    (unsigned)(sb->st_mode & 07777), path);
	return CM_OK;
}

/*
 * The WAL and its index hold what the store holds: ours, and 0600.  SQLite
 * makes them with the store's mode (0600, checked above), but an older
 * certmint or a copy may have left them wider: being ours, they are set to
 * 0600 rather than refused.
 */
static cm_err
check_side_files(cm_ctx *ctx, const char *path)
{
	static const char *const ext[] = { "-wal", "-shm" };
	char side[PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (snprintf(side, sizeof(side), "%s%s", path, ext[i]) >=
		    (int)sizeof(side))
			return cm__fail(ctx, CM_E_INVALID, "%s: path too long",
			    path);
		if (lstat(side, &sb) != 0)
			continue;
		if (sb.st_uid != geteuid())
			return perms_fail(ctx, "store file", side, &sb);
		if ((sb.st_mode & (S_IRWXG | S_IRWXO)) && S_ISREG(sb.st_mode) &&
		    chmod(side, 0600) != 0)
			return cm__fail(ctx, CM_E_STORE_PERMS, "store file %s "
			    "is mode %04o and cannot be made 0600 (%s): run "
			    "'chmod 600 %s'", side,
			    (unsigned)(sb.st_mode & 07777), strerror(errno),
			    side);
	}
	return CM_OK;
}

/*
 * A store in memory: no file, no folder, no WAL; the schema as on disk.
 * Its folder (profiles) is one that cannot exist.
 */
static cm_err
open_memory(cm_store **out, cm_ctx *ctx)
{
	cm_store *st = NULL;
	int rc;
	cm_err err;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	st->shm_fd = -1;
	st->busy_ms = DEFAULT_BUSY_MS;
	st->ctx = ctx;
	if ((st->path = strdup("(in memory)")) == NULL ||
	    (st->dir = strdup("/dev/null")) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	rc = sqlite3_open_v2(":memory:", &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = sql_fail(st, rc, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 0);
	if ((err = exec(st, "PRAGMA secure_delete = ON; "
	    "PRAGMA foreign_keys = ON", "setting up")) != CM_OK ||
	    (err = migrate(st)) != CM_OK)
		goto out;
	*out = st;
	st = NULL;
out:
	cm_store_close(st);
	return err;
}

/*
 * A store is a file path: "postgresql://host/db" (or any SCHEME://) is
 * refused untouched rather than made into a folder named "postgresql:".
 */
static cm_err
refuse_uri(cm_ctx *ctx, const char *path)
{
	size_t n = strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789+.-");

	if (n == 0 || strncmp(path + n, "://", 3) != 0 ||
	    !((path[0] >= 'a' && path[0] <= 'z') || (path[0] >= 'A' &&
	    path[0] <= 'Z')))
		return CM_OK;
	if ((n == 10 && strncasecmp(path, "postgresql", n) == 0) ||
	    (n == 8 && strncasecmp(path, "postgres", n) == 0))
		return cm__fail(ctx, CM_E_INVALID, "store '%.*s://...': this "
		    "certmint keeps its store in SQLite only (a file path); "
		    "PostgreSQL stores are not supported yet", (int)n, path);
	return cm__fail(ctx, CM_E_INVALID, "store '%.*s://...': a store is a "
	    "file path, not a URI", (int)n, path);
}

cm_err
cm_store_open(cm_store **out, cm_ctx *ctx, const char *path, unsigned flags)
{
	cm_store *st = NULL;
	struct stat sb;
	char *slash;
	int rc, v = 0, fd;
	bool pending = false;
	cm_err err;

	if (flags & CM_STORE_MEMORY)
		return open_memory(out, ctx);
	if (path == NULL || path[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "store path is empty");
	if ((err = refuse_uri(ctx, path)) != CM_OK)
		return err;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	st->shm_fd = -1;
	st->busy_ms = DEFAULT_BUSY_MS;
	st->ctx = ctx;
	if ((st->path = strdup(path)) == NULL ||
	    (st->dir = strdup(path)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	slash = strrchr(st->dir, '/');
	if (slash == NULL)
		strncpy(st->dir, ".", 2);
	else if (slash == st->dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !(flags & CM_STORE_CREATE)) {
			err = errno == ENOENT ?
			    cm__fail(ctx, CM_E_NOTFOUND, "store %s does not "
			    "exist (run 'certmint init')", path) :
			    cm__errno_fail(ctx, errno, "store %s", path);
			if (err == CM_E_IO)
				err = CM_E_STORE;
			goto out;
		}
		if ((err = make_dirs(ctx, st->dir)) != CM_OK) {
			err = CM_E_STORE;
			goto out;
		}
		if ((err = check_folder(ctx, st->dir)) != CM_OK)
			goto out;
		/* Created 0600 from the start, whatever the umask. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			err = cm__errno_fail(ctx, errno, "store %s", path);
			err = CM_E_STORE;
			goto out;
		}
		if (fd >= 0) {
			fchmod(fd, 0600);
			close(fd);
		}
	} else if (S_ISDIR(sb.st_mode)) {
		err = cm__fail(ctx, CM_E_STORE, "store %s is a directory",
		    path);
		goto out;
	} else if ((err = check_folder(ctx, st->dir)) != CM_OK) {
		goto out;
	}
	/* Again for a store just made: another process may have won. */
	if (stat(path, &sb) != 0) {
		err = cm__errno_fail(ctx, errno, "store %s", path);
		err = err == CM_E_NOMEM ? err : CM_E_STORE;
		goto out;
	}
	if ((err = check_file(ctx, path, &sb)) != CM_OK ||
	    (err = check_side_files(ctx, path)) != CM_OK)
		goto out;

	pthread_once(&store_vfs_once, store_vfs_register);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, os_vfs != NULL ? STORE_VFS : NULL);
	if (rc != SQLITE_OK) {
		err = sql_fail(st, rc, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 0);
	sqlite3_busy_timeout(st->db, DEFAULT_BUSY_MS);
	/* The WAL is folded by cm_store_close() alone: never at the close
	 * of a store refused below, which stays as it is. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(st->db, wal_committed, st);
	/* Before anything that could write: a newer store stays as it is. */
	if ((err = read_version(st, &v)) != CM_OK)
		goto out;
	if (v > cm_store_schema_latest()) {
		err = cm__fail(ctx, CM_E_STORE_NEWER, "store %s is schema %d, "
		    "this certmint knows up to %d: upgrade certmint", path, v,
		    cm_store_schema_latest());
		goto out;
	}
	if ((err = set_wal(st)) != CM_OK ||
	    (err = exec(st, "PRAGMA synchronous = FULL; "
	    "PRAGMA journal_size_limit = " STR(WAL_KEEP_BYTES) "; "
	    /* Deleted and replaced rows (keys) are zeroed, not left in
	     * free space (Debian builds SQLite so; others may not). */
	    "PRAGMA secure_delete = ON; "
	    "PRAGMA foreign_keys = ON", "setting up")) != CM_OK)
		goto out;
	if (v < cm_store_schema_latest() && (err = migrate(st)) != CM_OK)
		goto out;
	/* A wipe a passwd could not finish (killed, or a reader held on):
	 * done now if no reader is left, else left pending (status says). */
	if ((err = wipe_pending(&pending, st)) != CM_OK)
		goto out;
	if (pending)
		(void)wal_wipe_now(st, false);
	*out = st;
	st = NULL;
out:
	cm_store_close(st);
	return err;
}

/*
 * A wipe of the WAL pending: the keys as they were before a passwd may be
 * in its old frames and in the store's pages not yet overwritten.  Kept as
 * a table made by the transaction that replaces the keys (so a kill right
 * after its commit leaves it) and dropped once the wipe is done; not a
 * migration: a store that never changed its passphrase has none, and an
 * older certmint ignores it.
 */
cm_err
cm__store_wipe_mark(cm_store *st)
{
	return exec(st, "CREATE TABLE IF NOT EXISTS " WIPE_TABLE
	    " (why TEXT NOT NULL); "
	    "INSERT INTO " WIPE_TABLE " VALUES ('passwd')", "recording the "
	    "wipe");
}

static cm_err
wipe_pending(bool *out, cm_store *st)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = '" WIPE_TABLE "'")) != CM_OK)
		return err;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*out = rc == SQLITE_ROW;
	else
		err = sql_fail(st, rc, "reading the wipe state");
	sqlite3_finalize(s);
	return err;
}

cm_err
cm_store_wipe_pending(bool *out, cm_store *st)
{
	return wipe_pending(out, st);
}

/*
 * Who holds a read lock on the WAL, which keeps a checkpoint from cutting
 * it: a reader holds one of the wal-index read locks (bytes 123-127 of the
 * -shm, https://www.sqlite.org/walformat.html 2.3.1).  The descriptor is
 * kept in st->shm_fd: closing it would drop this process's own locks.
 */
static void
wal_reader(char *buf, size_t len, cm_store *st)
{
	char path[PATH_MAX], comm[64] = "";
	struct flock fl;
	FILE *f;
	size_t n;

	buf[0] = '\0';
	if (st->shm_fd < 0) {
		if ((size_t)snprintf(path, sizeof(path), "%s-shm", st->path) >=
		    sizeof(path) ||
		    (st->shm_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 123;
	fl.l_len = 5;
	if (fcntl(st->shm_fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK ||
	    fl.l_pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)fl.l_pid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
	}
	n = strcspn(comm, "\n");
	comm[n] = '\0';
	if (n > 0)
		snprintf(buf, len, "process %ld (%s)", (long)fl.l_pid, comm);
	else
		snprintf(buf, len, "process %ld", (long)fl.l_pid);
}

/*
 * Folds the WAL into the store and wipes it; the pending mark goes once it
 * is done.  wait: give readers the busy timeout to finish.  A reader that
 * stays keeps the mark (the next open tries again, cm_store_close() too).
 */
static cm_err
wal_wipe_now(cm_store *st, bool wait)
{
	char who[128];
	cm_err err;
	int rc;

	if (!wait)
		sqlite3_busy_timeout(st->db, 0);
	wal_wipe = st->ctx;
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	wal_wipe = NULL;
	if (!wait)
		sqlite3_busy_timeout(st->db, st->busy_ms);
	st->wipe = rc != SQLITE_OK;
	if (rc == SQLITE_BUSY) {
		wal_reader(who, sizeof(who), st);
		return cm__fail(st->ctx, CM_E_LOCKED, "%s-wal still holds "
		    "the old keys: %s is reading the store (the wipe is "
		    "pending; the next command after it ends does it)",
		    st->path, who[0] != '\0' ? who : "another program");
	}
	if (rc != SQLITE_OK)
		return sql_fail(st, rc, "wiping the WAL");
	/* Its own frames hold the schema page and freed pages (zeroed:
	 * secure_delete), no key. */
	if ((err = exec(st, "DROP TABLE IF EXISTS " WIPE_TABLE,
	    "recording the wipe")) != CM_OK)
		return err;
	return CM_OK;
}

cm_err
cm__store_wal_wipe(cm_store *st)
{
	return wal_wipe_now(st, true);
}

cm_err
cm__store_begin(cm_store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "starting a write");
}

cm_err
cm__store_commit(cm_store *st)
{
	cm_err (*fn)(cm_store *, void *) = st->precommit;
	cm_err err;

	st->precommit = NULL;
	if (fn != NULL && (err = fn(st, st->precommit_arg)) != CM_OK)
		return err;
	return exec(st, "COMMIT", "committing");
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
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static cm_err
step_done(cm_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE ? CM_OK : sql_fail(st, rc, what);
}

cm_err
cm__store_key_insert(int64_t *id, cm_store *st, cm_key_type type,
    const gnutls_datum_t *pkcs8, bool encrypted)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	static const char sql[] = "INSERT INTO keys (key_type, pkcs8, "
	    "encrypted) VALUES (?, ?, ?)";

	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, cm_key_type_name(type), -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, pkcs8->data, (int)pkcs8->size, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, encrypted);
	if ((err = step_done(st, s, "storing key")) == CM_OK)
		*id = sqlite3_last_insert_rowid(st->db);
	release(st, s);
	return err;
}

cm_err
cm__store_key_get(gnutls_datum_t *pkcs8, bool *encrypted, cm_store *st,
    int64_t id)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc, n;

	if ((err = prepare(st, &s, "SELECT pkcs8, encrypted FROM keys "
	    "WHERE id = ?")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? cm__fail(st->ctx, CM_E_STORE,
		    "store %s: key %lld is missing", st->path, (long long)id) :
		    sql_fail(st, rc, "reading key");
		goto out;
	}
	n = sqlite3_column_bytes(s, 0);
	if (sqlite3_column_type(s, 0) != SQLITE_BLOB || n <= 0) {
		err = cm__fail(st->ctx, CM_E_STORE, "store %s: key %lld is not "
		    "kept as PKCS#8", st->path, (long long)id);
		goto out;
	}
	if ((pkcs8->data = gnutls_malloc((size_t)n)) == NULL) {
		err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(pkcs8->data, sqlite3_column_blob(s, 0), (size_t)n);
	pkcs8->size = (unsigned)n;
	*encrypted = sqlite3_column_int(s, 1) != 0;
out:
	sqlite3_finalize(s);
	return err;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Whether col_dup() of column i gave NULL for a value that is there: out
 * of memory, not an SQL NULL. */
static bool
col_lost(sqlite3_stmt *s, int i, const char *dup)
{
	return dup == NULL && sqlite3_column_type(s, i) != SQLITE_NULL;
}

/* The text of the first column of s's one row, or NULL without a row;
 * finalizes s. */
static cm_err
step_text(char **out, cm_store *st, sqlite3_stmt *s, const char *what)
{
	cm_err err = CM_OK;
	int rc;

	*out = NULL;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((*out = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, what);
	}
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
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
	sqlite3_bind_text(s, 1, r->info.name, -1, SQLITE_STATIC);
	if (r->parent_id > 0)
		sqlite3_bind_int64(s, 2, r->parent_id);
	sqlite3_bind_int64(s, 3, r->key_id);
	sqlite3_bind_blob(s, 4, r->der.data, (int)r->der.size, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->info.subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->info.serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->info.key_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->info.not_before);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)r->info.not_after);
	sqlite3_bind_text(s, 10, r->info.fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, permitted, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 12, r->info.path_len);
	sqlite3_bind_int64(s, 13, (sqlite3_int64)cm_ctx_now(st->ctx));
	if ((err = step_done(st, s, "storing CA")) == CM_OK)
		*id = sqlite3_last_insert_rowid(st->db);
out:
	sqlite3_finalize(s);
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
ca_row(cm__ca_rec *r, cm_store *st, sqlite3_stmt *s)
{
	int n;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->parent_id = sqlite3_column_int64(s, 1);
	r->key_id = sqlite3_column_int64(s, 2);
	r->info.name = col_dup(s, 3);
	r->info.parent = col_dup(s, 4);
	r->info.subject = col_dup(s, 5);
	r->info.serial = col_dup(s, 6);
	r->info.key_type = col_dup(s, 7);
	r->info.fingerprint = col_dup(s, 8);
	r->info.not_before = (time_t)sqlite3_column_int64(s, 9);
	r->info.not_after = (time_t)sqlite3_column_int64(s, 10);
	r->info.encrypted = sqlite3_column_int(s, 11) != 0;
	if (split_lines(&r->info.permitted, &r->info.npermitted,
	    (const char *)sqlite3_column_text(s, 12)) != CM_OK)
		goto nomem;
	r->info.path_len = sqlite3_column_int(s, 13);
	r->info.issued = (size_t)sqlite3_column_int64(s, 14);
	n = sqlite3_column_bytes(s, 15);
	r->der.data = gnutls_malloc((size_t)n);
	if (r->der.data == NULL)
		goto nomem;
	memcpy(r->der.data, sqlite3_column_blob(s, 15), (size_t)n);
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
	sqlite3_stmt *s = NULL;
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
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(s, 3);
		size_t used = strlen(names);
		if (count++ == 0 && (err = ca_row(out, st, s)) != CM_OK)
			goto out;
		snprintf(names + used, sizeof(names) - used, "%s'%s'",
		    used ? ", " : "", n ? n : "");
	}
	if (rc != SQLITE_DONE) {
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
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_ca_list(cm_ca_info ***out, size_t *n, cm_store *st)
{
	sqlite3_stmt *s = NULL;
	cm_ca_info **v = NULL, **nv;
	size_t count = 0;
	cm__ca_rec r;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT " CA_COLUMNS_COUNTED
	    "ORDER BY c.id")) != CM_OK)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
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
	if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "listing CAs");
		goto out;
	}
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
out:
	cm_ca_info_list_free(v, count);
	sqlite3_finalize(s);
	return err;
}

/* One integer from a query of one row, with one int64 parameter unless
 * id < 0. */
static cm_err
query_int64(int64_t *out, cm_store *st, const char *sql, int64_t id,
    const char *what)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, sql)) != CM_OK)
		return err;
	if (id >= 0)
		sqlite3_bind_int64(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		err = sql_fail(st, rc, what);
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
	cm_err err;

	*name = NULL;
	if ((err = prepare(st, &s, "SELECT name FROM cas WHERE fingerprint = "
	    "?")) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	return step_text(name, st, s, "reading CAs");
}

cm_err
cm__store_revocation_by_fp(bool *revoked, time_t *at, int *reason,
    char *serial, size_t serial_len, cm_store *st, const char *fp)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	*revoked = false;
	if ((err = prepare(st, &s, "SELECT revoked_at, revocation_reason, "
	    "serial FROM certs WHERE fingerprint = ? AND status = "
	    "'revoked'")) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*revoked = true;
		*at = (time_t)sqlite3_column_int64(s, 0);
		*reason = sqlite3_column_type(s, 1) == SQLITE_NULL ? 0 :
		    sqlite3_column_int(s, 1);
		snprintf(serial, serial_len, "%s",
		    (const char *)sqlite3_column_text(s, 2));
	} else if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "reading revocations");
	}
	sqlite3_finalize(s);
	return err;
}

bool
cm__store_serial_taken(cm_store *st, int64_t ca_id, const char *serial)
{
	sqlite3_stmt *s = NULL;
	bool taken = true;  /* on error, make the caller draw again */

	static const char sql[] = "SELECT 1 FROM certs WHERE ca_id = ? AND "
	    "serial = ? UNION ALL SELECT 1 FROM cas WHERE id = ? AND "
	    "serial = ?";

	if (prepare_cached(st, &s, sql) != CM_OK)
		return true;
	sqlite3_bind_int64(s, 1, ca_id);
	sqlite3_bind_text(s, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, ca_id);
	sqlite3_bind_text(s, 4, serial, -1, SQLITE_STATIC);
	taken = sqlite3_step(s) != SQLITE_DONE;
	release(st, s);
	return taken;
}

cm_err
cm__store_cert_insert(cm_store *st, const cm__cert_rec *r)
{
	sqlite3_stmt *s = NULL, *sn = NULL;
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
	sqlite3_bind_int64(s, 1, r->ca_id);
	sqlite3_bind_text(s, 2, r->info.serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->info.subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->info.names[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->info.profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->info.key_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)r->info.not_before);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->info.not_after);
	sqlite3_bind_blob(s, 9, r->der, (int)r->derlen, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, r->info.fingerprint, -1, SQLITE_STATIC);
	if (r->key_id > 0)
		sqlite3_bind_int64(s, 11, r->key_id);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)cm_ctx_now(st->ctx));
	if ((err = step_done(st, s, "storing certificate")) != CM_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
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
		sqlite3_reset(sn);
		sqlite3_bind_int64(sn, 1, id);
		sqlite3_bind_int(sn, 2, (int)i);
		sqlite3_bind_text(sn, 3, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(sn, 4, r->info.names[i], -1, SQLITE_STATIC);
		if ((err = step_done(st, sn, "storing names")) != CM_OK)
			goto out;
	}
out:
	release(st, s);
	release(st, sn);
	return err;
}

#define CERT_COLUMNS "c.serial, a.name, c.subject, " \
	"(SELECT group_concat(name, char(10)) FROM (SELECT name FROM " \
	"cert_names WHERE cert_id = c.id ORDER BY pos)), c.profile, " \
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
cert_row(cm_cert_info **out, cm_store *st, sqlite3_stmt *s)
{
	cm_cert_info *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	c->serial = col_dup(s, 0);
	c->ca = col_dup(s, 1);
	c->subject = col_dup(s, 2);
	if (split_lines(&c->names, &c->nnames,
	    (const char *)sqlite3_column_text(s, 3)) != CM_OK)
		goto nomem;
	c->profile = col_dup(s, 4);
	c->key_type = col_dup(s, 5);
	c->fingerprint = col_dup(s, 6);
	c->not_before = (time_t)sqlite3_column_int64(s, 7);
	c->not_after = (time_t)sqlite3_column_int64(s, 8);
	c->status = col_dup(s, 9);
	c->revoked_at = (time_t)sqlite3_column_int64(s, 10);
	c->revocation_reason = sqlite3_column_int(s, 12);
	c->acme_account = sqlite3_column_int64(s, 13);
	c->acme_account_key = col_dup(s, 14);
	c->pem = der_to_pem(sqlite3_column_blob(s, 11),
	    sqlite3_column_bytes(s, 11));
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
collect(cm_cert_info ***out, size_t *n, cm_store *st, sqlite3_stmt *s)
{
	cm_cert_info **v = NULL, **nv, *c = NULL;
	size_t count = 0;
	cm_err err = CM_OK;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
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
	if (rc != SQLITE_DONE) {
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
	sqlite3_stmt *s = NULL;
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
	    "WHERE (?2 IS NULL OR a.name = ?2) "
	    "AND (?3 IS NULL OR c.id IN (SELECT cert_id FROM cert_names "
	    "WHERE name = ?3 OR (type IN ('dns', 'wildcard') AND "
	    "name = ?3 COLLATE NOCASE) OR (type = 'email' AND "
	    "instr(?3, '@') > 0 AND substr(name, 1, instr(name, '@')) = "
	    "substr(?3, 1, instr(?3, '@')) AND substr(name, instr(name, "
	    "'@') + 1) = substr(?3, instr(?3, '@') + 1) COLLATE NOCASE))) "
	    "AND (?4 IS NULL OR (?4 = 'expired' AND c.status = 'valid' AND "
	    "c.not_after < ?1) OR (?4 = 'valid' AND c.status = 'valid' AND "
	    "c.not_after >= ?1 AND c.not_before <= ?1) OR "
	    "(?4 = 'not-yet-valid' AND c.status = 'valid' AND "
	    "c.not_before > ?1) OR (?4 NOT IN ('valid', 'expired', "
	    "'not-yet-valid') AND c.status = ?4)) "
	    "AND (?5 IS NULL OR (c.status = 'valid' AND c.not_after >= ?1 "
	    "AND c.not_after < ?1 + ?5)) "
	    "ORDER BY c.id")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	if (f && f->ca)
		sqlite3_bind_text(s, 2, f->ca, -1, SQLITE_STATIC);
	if (f && f->name) {
		/* An address as stored, whatever its spelling (0:0::1). */
		unsigned char a[16];
		char canon[INET6_ADDRSTRLEN];
		int af = strchr(f->name, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, f->name, a) == 1 &&
		    inet_ntop(af, a, canon, sizeof(canon)) != NULL)
			sqlite3_bind_text(s, 3, canon, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_text(s, 3, f->name, -1, SQLITE_STATIC);
	}
	if (status)
		sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
	if (f && f->expiring > 0)
		sqlite3_bind_int64(s, 5, (sqlite3_int64)f->expiring);
	err = collect(out, n, st, s);
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_cert_find(cm_cert_info **out, cm_store *st, const char *ref)
{
	sqlite3_stmt *s = NULL;
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
		sqlite3_bind_int64(s, 1, (sqlite3_int64)cm_ctx_now(st->ctx));
		sqlite3_bind_text(s, 2, hex, -1, SQLITE_STATIC);
		err = collect(&v, &n, st, s);
		sqlite3_finalize(s);
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
		    "WHERE ltrim(c.serial, '0') = ?2 OR (length(?3) < "
		    "length(c.serial) AND substr(c.serial, 1, length(?3)) = "
		    "?3) ORDER BY ltrim(c.serial, '0') = ?2 DESC, c.id")) !=
		    CM_OK)
			return err;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)cm_ctx_now(st->ctx));
		sqlite3_bind_text(s, 2, hex + i, -1, SQLITE_STATIC);
		if (j >= 4)
			sqlite3_bind_text(s, 3, hex, -1, SQLITE_STATIC);
		err = collect(&v, &n, st, s);
		sqlite3_finalize(s);
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
	sqlite3_bind_int64(s, 1, (sqlite3_int64)cm_ctx_now(st->ctx));
	sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
	err = collect(&v, &n, st, s);
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
	char who[256];
	cm_err err;

	static const char sql[] = "INSERT INTO events (time, actor, action, "
	    "object, details) VALUES (?, ?, ?, ?, ?)";

	actor_cached(st, who, sizeof(who));
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)cm_ctx_now(st->ctx));
	sqlite3_bind_text(s, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, details, -1, SQLITE_STATIC);
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
	sqlite3_stmt *s = NULL;
	int64_t key_id = 0;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT c.key_id FROM certs c JOIN cas a "
	    "ON a.id = c.ca_id WHERE a.name = ? AND c.serial = ?")) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, ca_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		key_id = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		err = sql_fail(st, rc, "reading certificate");
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
	cm_err err;

	/* A superseded certificate still works until it expires: it can be
	 * revoked too. */
	if ((err = prepare(st, &s, "UPDATE certs SET status = 'revoked', "
	    "revoked_at = ?1, revocation_reason = ?2 WHERE serial = ?3 AND "
	    "status IN ('valid', 'superseded') AND ca_id = (SELECT id FROM "
	    "cas WHERE name = ?4)")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)at);
	sqlite3_bind_int(s, 2, reason);
	sqlite3_bind_text(s, 3, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ca_name, -1, SQLITE_STATIC);
	err = step_done(st, s, "revoking");
	if (err == CM_OK && sqlite3_changes(st->db) != 1)
		err = cm__fail(st->ctx, CM_E_INVALID, "certificate %s is "
		    "revoked already", serial);
	sqlite3_finalize(s);
	return err;
}

/* ---- life cycle ---- */

cm_err
cm__store_ca_cert_status(char **status, cm_store *st, const cm__ca_rec *r)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	*status = NULL;
	if (r->parent_id <= 0)
		return CM_OK;
	if ((err = prepare(st, &s, "SELECT status FROM certs WHERE ca_id = ? "
	    "AND serial = ?")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, r->parent_id);
	sqlite3_bind_text(s, 2, r->info.serial, -1, SQLITE_STATIC);
	return step_text(status, st, s, "reading CA status");
}

cm_err
cm__store_cert_supersede(cm_store *st, const char *ca_name,
    const char *serial)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "UPDATE certs SET status = 'superseded' "
	    "WHERE serial = ?1 AND status = 'valid' AND ca_id = (SELECT id "
	    "FROM cas WHERE name = ?2)")) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ca_name, -1, SQLITE_STATIC);
	err = step_done(st, s, "superseding");
	sqlite3_finalize(s);
	return err;
}

static cm_err
status_cas(cm_status *out, cm_store *st, time_t now)
{
	sqlite3_stmt *s = NULL;
	cm_status_ca *v = NULL, *nv;
	size_t n = 0;
	cm_err err;
	int rc;

	/* The certificates of a CA counted by status; a CA's own state from
	 * its row under its parent. */
	if ((err = prepare(st, &s, "SELECT a.name, p.name, a.not_after, "
	    "(SELECT x.status FROM certs x WHERE x.ca_id = a.parent_id AND "
	    "x.serial = a.serial), "
	    "total(c.status = 'valid' AND c.not_after >= ?1), "
	    "total(c.status = 'valid' AND c.not_after < ?1), "
	    "total(c.status = 'revoked'), total(c.status = 'superseded') "
	    "FROM cas a LEFT JOIN cas p ON p.id = a.parent_id "
	    "LEFT JOIN certs c ON c.ca_id = a.id GROUP BY a.id "
	    "ORDER BY a.id")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cm_status_ca *c;
		const unsigned char *own = sqlite3_column_text(s, 3);
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		c = &v[n++];
		memset(c, 0, sizeof(*c));
		c->name = col_dup(s, 0);
		c->parent = col_dup(s, 1);
		c->not_after = (time_t)sqlite3_column_int64(s, 2);
		c->state = strdup(own && strcmp((const char *)own, "revoked") ==
		    0 ? "revoked" : c->not_after < now ? "expired" : "valid");
		c->valid = (size_t)sqlite3_column_double(s, 4);
		c->expired = (size_t)sqlite3_column_double(s, 5);
		c->revoked = (size_t)sqlite3_column_double(s, 6);
		c->superseded = (size_t)sqlite3_column_double(s, 7);
		if (c->name == NULL || c->state == NULL ||
		    col_lost(s, 1, c->parent)) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		err = sql_fail(st, rc, "counting certificates");
out:
	sqlite3_finalize(s);
	out->cas = v;
	out->ncas = n;
	return err;
}

static cm_err
status_expiries(cm_status *out, cm_store *st, time_t now, size_t max)
{
	sqlite3_stmt *s = NULL;
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
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < max) {
		cm_status_expiry *e = &v[n++];
		e->is_ca = sqlite3_column_int(s, 0) != 0;
		e->name = col_dup(s, 1);
		e->serial = col_dup(s, 2);
		e->ca = col_dup(s, 3);
		e->not_after = (time_t)sqlite3_column_int64(s, 4);
		if (e->name == NULL || e->serial == NULL ||
		    col_lost(s, 3, e->ca)) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = sql_fail(st, rc, "listing expiries");
out:
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
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
	sqlite3_bind_text(s, 1, cm_key_type_name(type), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, pub, -1, SQLITE_STATIC);
	if ((err = step_done(st, s, "storing key URI")) == CM_OK)
		*id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	free(pub);
	return err;
}

cm_err
cm__store_key_uri(char **uri, cm_store *st, int64_t id)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT uri FROM keys WHERE id = ?")) !=
	    CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT) {
		if ((*uri = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		err = CM_E_NOTFOUND;  /* not a URI: no message */
	} else {
		err = sql_fail(st, rc, "reading key");
	}
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_key_ids(int64_t **ids, size_t *n, cm_store *st)
{
	sqlite3_stmt *s = NULL;
	int64_t *v = NULL, *nv;
	size_t count = 0;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT id FROM keys WHERE pkcs8 IS NOT "
	    "NULL ORDER BY id")) != CM_OK)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nv = realloc(v, (count + 1) * sizeof(*v))) == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		v[count++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "listing keys");
		goto out;
	}
	*ids = v;
	*n = count;
	v = NULL;
out:
	free(v);
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_key_update(cm_store *st, int64_t id, const gnutls_datum_t *pkcs8,
    bool encrypted)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "UPDATE keys SET pkcs8 = ?, encrypted = ? "
	    "WHERE id = ? AND pkcs8 IS NOT NULL")) != CM_OK)
		return err;
	sqlite3_bind_blob(s, 1, pkcs8->data, (int)pkcs8->size, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, encrypted);
	sqlite3_bind_int64(s, 3, id);
	err = step_done(st, s, "rewriting key");
	if (err == CM_OK && sqlite3_changes(st->db) != 1)
		err = cm__fail(st->ctx, CM_E_STORE, "store %s: key %lld is "
		    "missing", st->path, (long long)id);
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_key_counts(size_t *nenc, size_t *nplain, int64_t *enc_id,
    cm_store *st)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "SELECT coalesce(sum(encrypted), 0), "
	    "coalesce(sum(1 - encrypted), 0), coalesce(max(CASE WHEN "
	    "encrypted THEN id END), 0) FROM keys WHERE pkcs8 IS NOT NULL")) !=
	    CM_OK)
		return err;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*nenc = (size_t)sqlite3_column_int64(s, 0);
		*nplain = (size_t)sqlite3_column_int64(s, 1);
		*enc_id = sqlite3_column_int64(s, 2);
	} else {
		err = sql_fail(st, rc, "counting keys");
	}
	sqlite3_finalize(s);
	return err;
}

void
cm__store_key_owner(char *buf, size_t len, cm_store *st, int64_t id)
{
	sqlite3_stmt *s = NULL;

	snprintf(buf, len, "key %lld", (long long)id);
	if (prepare(st, &s, "SELECT 'CA ''' || name || '''' FROM cas WHERE "
	    "key_id = ?1 UNION ALL SELECT 'certificate ' || serial FROM certs "
	    "WHERE key_id = ?1") != CM_OK)
		return;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

int64_t
cm__store_cert_by_fpr(cm_store *st, const char *fingerprint)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;

	if (prepare(st, &s, "SELECT id FROM certs WHERE fingerprint = ?") !=
	    CM_OK)
		return 0;
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}

/* ---- revocation: CRLs, distribution points, OCSP (crl.c, ocsp.c) ---- */

cm_err
cm__store_ca_urls(char **crl_url, char **ocsp_url, cm_store *st,
    int64_t ca_id)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	*crl_url = *ocsp_url = NULL;
	if ((err = prepare(st, &s, "SELECT crl_url, ocsp_url FROM cas "
	    "WHERE id = ?")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL &&
		    (*crl_url = col_dup(s, 0)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		if (sqlite3_column_type(s, 1) != SQLITE_NULL &&
		    (*ocsp_url = col_dup(s, 1)) == NULL)
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	} else if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "reading CA URLs");
	}
	sqlite3_finalize(s);
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
	sqlite3_stmt *s = NULL;
	cm_err err;

	/* NULL leaves a URL as it is, "" removes it. */
	if ((err = prepare(st, &s, "UPDATE cas SET "
	    "crl_url = CASE WHEN ?2 IS NULL THEN crl_url "
	    "WHEN ?2 = '' THEN NULL ELSE ?2 END, "
	    "ocsp_url = CASE WHEN ?3 IS NULL THEN ocsp_url "
	    "WHEN ?3 = '' THEN NULL ELSE ?3 END WHERE id = ?1")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	if (crl_url != NULL)
		sqlite3_bind_text(s, 2, crl_url, -1, SQLITE_STATIC);
	if (ocsp_url != NULL)
		sqlite3_bind_text(s, 3, ocsp_url, -1, SQLITE_STATIC);
	err = step_done(st, s, "setting CA URLs");
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_crl_number_next(int64_t *out, cm_store *st, int64_t ca_id)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, "UPDATE cas SET crl_number = "
	    "crl_number + 1 WHERE id = ? RETURNING crl_number")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		err = rc == SQLITE_DONE ? cm__fail(st->ctx, CM_E_NOTFOUND,
		    "CA %lld is gone", (long long)ca_id) :
		    sql_fail(st, rc, "numbering CRL");
	/* Finish the statement: RETURNING applies the update at the end. */
	if (err == CM_OK && (rc = sqlite3_step(s)) != SQLITE_DONE)
		err = sql_fail(st, rc, "numbering CRL");
	sqlite3_finalize(s);
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
each_serial(cm_store *st, sqlite3_stmt *s, cm__revoked_fn fn, void *arg,
    const char *what)
{
	cm_err err = CM_OK;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(s, 0);
		if (serial == NULL) {
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = fn(arg, serial, (time_t)sqlite3_column_int64(s, 1),
		    sqlite3_column_int(s, 2))) != CM_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		err = sql_fail(st, rc, what);
out:
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_revoked_each(cm_store *st, int64_t ca_id, int64_t since,
    cm__revoked_fn fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	/* Hex serials without leading zeros: by length, then text, is by
	 * value. */
	if ((err = prepare(st, &s, "SELECT serial, revoked_at, "
	    "coalesce(revocation_reason, 0) FROM certs "
	    "WHERE ca_id = ?1 AND status = 'revoked' AND "
	    "(?2 = 0 OR coalesce(revoked_after_crl, 0) >= ?2) "
	    "ORDER BY length(serial), serial")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	sqlite3_bind_int64(s, 2, since);
	return each_serial(st, s, fn, arg, "listing revoked certificates");
}

cm_err
cm__store_crl_insert(cm_store *st, int64_t ca_id, int64_t number,
    int64_t base, time_t this_update, time_t next_update, size_t entries,
    const unsigned char *der, size_t len)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "INSERT INTO crls (ca_id, number, "
	    "base_number, this_update, next_update, entries, der) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?)")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	sqlite3_bind_int64(s, 2, number);
	if (base > 0)
		sqlite3_bind_int64(s, 3, base);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)this_update);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)next_update);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)entries);
	sqlite3_bind_blob64(s, 7, der, len, SQLITE_STATIC);
	err = step_done(st, s, "storing CRL");
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_cert_status(cm__cert_status *out, cm_store *st, int64_t ca_id,
    const char *serial)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	if ((err = prepare(st, &s, "SELECT status = 'revoked', revoked_at, "
	    "coalesce(revocation_reason, -1), not_after FROM certs "
	    "WHERE ca_id = ? AND serial = ?")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	sqlite3_bind_text(s, 2, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->found = true;
		out->revoked = sqlite3_column_int(s, 0) != 0;
		out->revoked_at = (time_t)sqlite3_column_int64(s, 1);
		out->reason = sqlite3_column_int(s, 2);
		out->not_after = (time_t)sqlite3_column_int64(s, 3);
	} else if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "reading certificate status");
	}
	sqlite3_finalize(s);
	return err;
}

cm_err
cm__store_cert_each(cm_store *st, int64_t ca_id, time_t now, size_t max,
    cm__revoked_fn fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	cm_err err;

	if ((err = prepare(st, &s, "SELECT serial, CASE WHEN status = "
	    "'revoked' THEN revoked_at ELSE 0 END, "
	    "coalesce(revocation_reason, -1) FROM certs WHERE ca_id = ? AND "
	    "not_after >= ? ORDER BY id DESC LIMIT ?")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	return each_serial(st, s, fn, arg, "listing certificates");
}

cm_err
cm__store_data_version(int64_t *out, cm_store *st)
{
	static const char sql[] = "PRAGMA data_version";
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	/* Asked once per OCSP request: kept prepared. */
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	rc = sqlite3_step(s);
	/* data_version moves on commits of other connections; this
	 * connection's own writes show in its change count. */
	if (rc == SQLITE_ROW)
		*out = (int64_t)((uint64_t)sqlite3_column_int64(s, 0) << 32) +
		    (int64_t)sqlite3_total_changes(st->db);
	else
		err = sql_fail(st, rc, "reading data version");
	release(st, s);
	return err;
}

bool
cm__store_may_have_changed(cm_store *st)
{
	unsigned char now[WAL_HDR];
	char path[PATH_MAX];
	struct stat sb;
	void *m;

	if (!st->shm_tried) {
		/* Mapped once the WAL is in use (this connection has read
		 * the store, so its -shm exists and is held open).  The
		 * descriptor is kept (see struct cm_store) even when the
		 * mapping fails. */
		st->shm_tried = true;
		if ((size_t)snprintf(path, sizeof(path), "%s-shm", st->path) >=
		    sizeof(path) ||
		    (st->shm_fd < 0 &&
		    (st->shm_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0))
			return true;
		m = fstat(st->shm_fd, &sb) == 0 && sb.st_size >= SHM_MAP ?
		    mmap(NULL, SHM_MAP, PROT_READ, MAP_SHARED, st->shm_fd, 0) :
		    MAP_FAILED;
		if (m != MAP_FAILED)
			st->shm = m;
	}
	if (st->shm == NULL)
		return true;
	/* Every commit rewrites the header (iChange counts them); a torn
	 * read differs from the last one too, so it only costs a check.
	 * The mapping stays valid: while this connection is open SQLite
	 * holds a shared lock on the store (WAL mode) and on the -shm's
	 * dead-man byte, so no one truncates, replaces or leaves WAL mode;
	 * cm_store_close() unmaps before closing it.  A pread instead
	 * costs a third of the responder's speed here. */
	memcpy(now, st->shm, sizeof(now));
	if (st->shm_seen_valid && memcmp(now, st->shm_seen, sizeof(now)) == 0)
		return false;
	memcpy(st->shm_seen, now, sizeof(now));
	st->shm_seen_valid = true;
	return true;
}

void
cm__store_changes_unseen(cm_store *st)
{
	st->shm_seen_valid = false;
}

cm_err
cm__store_crl_latest(int64_t *number, time_t *next_update, cm_store *st,
    int64_t ca_id)
{
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	*number = 0;
	*next_update = 0;
	if ((err = prepare(st, &s, "SELECT number, next_update FROM crls "
	    "WHERE ca_id = ? ORDER BY number DESC LIMIT 1")) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, ca_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*number = sqlite3_column_int64(s, 0);
		*next_update = (time_t)sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "reading CRLs");
	}
	sqlite3_finalize(s);
	return err;
}

/* ---- ACME state (issue 15) ------------------------------------------------ */

#define ACME_NONCE_LIFE 3600

cm_err
cm__store_acme_nonce_add(cm_store *st, const char *nonce, time_t now)
{
	static const char sql[] = "INSERT INTO acme_nonces (nonce, created) "
	    "VALUES (?, ?)";
	static const char prune[] = "DELETE FROM acme_nonces WHERE created < ?";
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	/* Expired nonces go once a minute, not at every request: each
	 * write here is a commit of its own (and a disk wait). */
	if (now - st->nonces_pruned >= 60) {
		if ((err = prepare_cached(st, &s, prune)) != CM_OK)
			return err;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)(now -
		    ACME_NONCE_LIFE));
		rc = sqlite3_step(s);
		release(st, s);
		if (rc != SQLITE_DONE)
			return sql_fail(st, rc, "expiring nonces");
		st->nonces_pruned = now;
	}
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	release(st, s);
	return rc == SQLITE_DONE ? CM_OK : sql_fail(st, rc, "storing a nonce");
}

cm_err
cm__store_acme_nonce_take(bool *ok, cm_store *st, const char *nonce,
    time_t now)
{
	static const char sql[] = "DELETE FROM acme_nonces WHERE nonce = ? "
	    "AND created >= ?";
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	*ok = false;
	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	sqlite3_bind_text(s, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)(now - ACME_NONCE_LIFE));
	rc = sqlite3_step(s);
	release(st, s);
	if (rc != SQLITE_DONE)
		return sql_fail(st, rc, "using a nonce");
	*ok = sqlite3_changes(st->db) == 1;
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
acme_account_row(cm__acme_account *a, sqlite3_stmt *s)
{
	const char *jwk = (const char *)sqlite3_column_text(s, 1);
	const char *status = (const char *)sqlite3_column_text(s, 2);
	const char *contact = (const char *)sqlite3_column_text(s, 3);

	a->id = sqlite3_column_int64(s, 0);
	a->created = (time_t)sqlite3_column_int64(s, 4);
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
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((err = prepare_cached(st, &s, thumbprint ? by_tp : by_id)) !=
	    CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ca_id);
	if (thumbprint)
		sqlite3_bind_text(s, 2, thumbprint, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 2, (sqlite3_int64)id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if ((err = acme_account_row(out, s)) != CM_OK) {
			cm__acme_account_clear(out);
			err = cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
		}
	} else if (rc == SQLITE_DONE)
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
	sqlite3_stmt *s = NULL;
	cm_err err;
	int rc;

	if ((err = prepare_cached(st, &s, sql)) != CM_OK)
		return err;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ca_id);
	sqlite3_bind_text(s, 2, thumbprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, jwk, -1, SQLITE_STATIC);
	if (contact)
		sqlite3_bind_text(s, 4, contact, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	release(st, s);
	if (rc != SQLITE_DONE)
		return sql_fail(st, rc, "recording an ACME account");
	*id = (int64_t)sqlite3_last_insert_rowid(st->db);
	return CM_OK;
}

/* Binds "i" int64 and "s" text (NULL: SQL NULL) arguments in order. */
static void
bind_args(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int i;

	for (i = 1; *fmt; fmt++, i++) {
		if (*fmt == 'i')
			sqlite3_bind_int64(s, i, (sqlite3_int64)va_arg(ap,
			    int64_t));
		else {
			const char *t = va_arg(ap, const char *);
			if (t)
				sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(s, i);
		}
	}
}

/* One ACME write: sql with arguments; [out] id: the new row's id. */
cm_err
cm__store_acme_exec(int64_t *id, cm_store *st, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	cm_err err;
	int rc;

	if ((err = prepare(st, &s, sql)) != CM_OK)
		return err;
	va_start(ap, fmt);
	bind_args(s, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return sql_fail(st, rc, "recording ACME state");
	if (id != NULL)
		*id = (int64_t)sqlite3_last_insert_rowid(st->db);
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
	sqlite3_stmt *s = NULL;
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
	nc = sqlite3_column_count(s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
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
			const char *t = (const char *)sqlite3_column_text(s, c);
			v[n * (size_t)nc + (size_t)c] = t ? cm__strdup(t) :
			    NULL;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		err = sql_fail(st, rc, "reading ACME state");
		goto fail;
	}
	sqlite3_finalize(s);
	if (n == 0)
		return CM_E_NOTFOUND;
	*out = v;
	*nrows = n;
	return CM_OK;
fail:
	for (k = 0; k < n * (size_t)nc; k++)
		free(v[k]);
	free(v);
	sqlite3_finalize(s);
	return err;
}
