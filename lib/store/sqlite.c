/*
 * sqlite.c - the SQLite backend of the store (store.h): one file, in WAL
 * mode with synchronous=FULL, its folder and file checked at every open,
 * a WAL that never holds replaced keys for long, and other writers noticed
 * through the -shm header.  The default store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define DEFAULT_BUSY_MS 5000
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

/* The connection and what this backend keeps beside it (st->db). */
struct sq {
	sqlite3 *db;
	int wal_pages;      /* in the WAL after this connection's last commit */
	bool wipe;          /* cm__store_wal_wipe() could not wipe: at close */
	int busy_ms;        /* the busy timeout set */
	/* The store's -shm file, mapped read-only by sq_may_have_changed(),
	 * and the wal-index header as last seen.  Its descriptor stays open
	 * until SQLite has closed: closing any descriptor of a file drops
	 * every POSIX lock the process holds on it, SQLite's own included. */
	const unsigned char *shm;
	int shm_fd;
	bool shm_tried;
	unsigned char shm_seen[WAL_HDR];
	bool shm_seen_valid;
	sqlite3_stmt *dv;   /* PRAGMA data_version, kept prepared */
};

struct sq_stmt {
	struct cm__stmt base;
	sqlite3_stmt *s;
};

#define Q(st) ((struct sq *)(st)->db)
#define DB(st) (Q(st)->db)
#define S(stmt) (((struct sq_stmt *)(stmt))->s)

static int sq_exec(cm_store *st, const char *sql);
static cm_err exec(cm_store *st, const char *sql, const char *what);
static cm_err sq_wipe_pending(bool *out, cm_store *st);
static cm_err wal_wipe_now(cm_store *st, bool wait);

/* The one place SQLite codes become ours. */
static cm_err
sq_fail(cm_store *st, int rc, const char *what)
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
		if (DB(st) != NULL && (sqlite3_system_errno(DB(st)) == ENOSPC ||
		    sqlite3_system_errno(DB(st)) == EDQUOT))
			return cm__fail(st->ctx, CM_E_STORE, "store %s: disk "
			    "full (%s)", path, what);
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: %s", path,
		    what, sqlite3_errmsg(DB(st)));
	default:
		return cm__fail(st->ctx, CM_E_STORE, "store %s: %s: %s", path,
		    what, DB(st) ? sqlite3_errmsg(DB(st)) : sqlite3_errstr(rc));
	}
}

static cm_err
exec(cm_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(DB(st), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? CM_OK : sq_fail(st, rc, what);
}

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

	rc = sqlite3_prepare_v2(DB(st), "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? CM_OK : sq_fail(st, rc, "reading schema");
}

static int
wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
	Q((cm_store *)arg)->wal_pages = pages;
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
		sqlite3_busy_timeout(DB(st), left > 0 ? (int)left : 0);
		rc = sqlite3_exec(DB(st), "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
		if (rc == SQLITE_OK || (rc & 0xff) != SQLITE_BUSY ||
		    mono_ms() >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	sqlite3_busy_timeout(DB(st), DEFAULT_BUSY_MS);
	return rc == SQLITE_OK ? CM_OK : sq_fail(st, rc, "setting up");
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

/* Closes what sq_open*() opened (st itself is the caller's). */
static void
sq_close(cm_store *st)
{
	struct sq *q = Q(st);

	if (q == NULL)
		return;
	sqlite3_finalize(q->dv);
	/* Unmapped while this connection still holds the -shm open: SQLite
	 * shrinks the file only when no connection has it. */
	if (q->shm != NULL)
		munmap((void *)(uintptr_t)q->shm, SHM_MAP);
	/* Folded only when it has grown: the commits are durable in the
	 * WAL already.  Without waiting: a reader of an older snapshot or
	 * another writer makes it the next writer's work. */
	if (q->db != NULL && (q->wal_pages >= FOLD_PAGES || q->wipe)) {
		sqlite3_busy_timeout(q->db, 0);
		wal_wipe = q->wipe ? st->ctx : NULL;
		if (sqlite3_wal_checkpoint_v2(q->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK &&
		    q->wipe)
			(void)exec(st, "DROP TABLE IF EXISTS " WIPE_TABLE,
			    "recording the wipe");
		wal_wipe = NULL;
	}
	sqlite3_close_v2(q->db);
	/* Only now: its close would have dropped SQLite's locks. */
	if (q->shm_fd >= 0)
		close(q->shm_fd);
	free(q);
	st->db = NULL;
}

static cm_err
sq_new(cm_store *st)
{
	struct sq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	q->shm_fd = -1;
	q->busy_ms = DEFAULT_BUSY_MS;
	st->db = q;
	st->ops = &cm__sqlite_ops;
	return CM_OK;
}

/*
 * A store in memory: no file, no folder, no WAL; the schema as on disk.
 * Its folder (profiles) is one that cannot exist.
 */
cm_err
cm__sqlite_open_memory(cm_store *st)
{
	int rc;
	cm_err err;

	if ((err = sq_new(st)) != CM_OK)
		return err;
	if ((st->dir = strdup("/dev/null")) == NULL)
		return cm__fail(st->ctx, CM_E_NOMEM, "out of memory");
	rc = sqlite3_open_v2(":memory:", &DB(st), SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, "opening");
	sqlite3_extended_result_codes(DB(st), 0);
	if ((err = exec(st, "PRAGMA secure_delete = ON; "
	    "PRAGMA foreign_keys = ON", "setting up")) != CM_OK)
		return err;
	return cm__store_migrate(st);
}

cm_err
cm__sqlite_open(cm_store *st, unsigned flags)
{
	const char *path = st->path;
	cm_ctx *ctx = st->ctx;
	struct stat sb;
	char *slash;
	int rc, v = 0, fd;
	bool pending = false;
	cm_err err;

	if ((err = sq_new(st)) != CM_OK)
		return err;
	if ((st->dir = strdup(path)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
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
	rc = sqlite3_open_v2(path, &DB(st), SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, os_vfs != NULL ? STORE_VFS : NULL);
	if (rc != SQLITE_OK) {
		err = sq_fail(st, rc, "opening");
		goto out;
	}
	sqlite3_extended_result_codes(DB(st), 0);
	sqlite3_busy_timeout(DB(st), DEFAULT_BUSY_MS);
	/* The WAL is folded by cm_store_close() alone: never at the close
	 * of a store refused below, which stays as it is. */
	sqlite3_db_config(DB(st), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(DB(st), wal_committed, st);
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
	if (v < cm_store_schema_latest() &&
	    (err = cm__store_migrate(st)) != CM_OK)
		goto out;
	/* A wipe a passwd could not finish (killed, or a reader held on):
	 * done now if no reader is left, else left pending (status says). */
	if ((err = sq_wipe_pending(&pending, st)) != CM_OK)
		goto out;
	if (pending)
		(void)wal_wipe_now(st, false);
out:
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
static cm_err
sq_wipe_mark(cm_store *st)
{
	return exec(st, "CREATE TABLE IF NOT EXISTS " WIPE_TABLE
	    " (why TEXT NOT NULL); "
	    "INSERT INTO " WIPE_TABLE " VALUES ('passwd')", "recording the "
	    "wipe");
}

static cm_err
sq_wipe_pending(bool *out, cm_store *st)
{
	sqlite3_stmt *s = NULL;
	cm_err err = CM_OK;
	int rc;

	rc = sqlite3_prepare_v2(DB(st), "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = '" WIPE_TABLE "'", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, "preparing a query");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*out = rc == SQLITE_ROW;
	else
		err = sq_fail(st, rc, "reading the wipe state");
	sqlite3_finalize(s);
	return err;
}

/*
 * Who holds a read lock on the WAL, which keeps a checkpoint from cutting
 * it: a reader holds one of the wal-index read locks (bytes 123-127 of the
 * -shm, https://www.sqlite.org/walformat.html 2.3.1).  The descriptor is
 * kept in Q(st)->shm_fd: closing it would drop this process's own locks.
 */
static void
wal_reader(char *buf, size_t len, cm_store *st)
{
	char path[PATH_MAX], comm[64] = "";
	struct flock fl;
	FILE *f;
	size_t n;

	buf[0] = '\0';
	if (Q(st)->shm_fd < 0) {
		if ((size_t)snprintf(path, sizeof(path), "%s-shm", st->path) >=
		    sizeof(path) ||
		    (Q(st)->shm_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 123;
	fl.l_len = 5;
	if (fcntl(Q(st)->shm_fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK ||
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
		sqlite3_busy_timeout(DB(st), 0);
	wal_wipe = st->ctx;
	rc = sqlite3_wal_checkpoint_v2(DB(st), NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	wal_wipe = NULL;
	if (!wait)
		sqlite3_busy_timeout(DB(st), Q(st)->busy_ms);
	Q(st)->wipe = rc != SQLITE_OK;
	if (rc == SQLITE_BUSY) {
		wal_reader(who, sizeof(who), st);
		return cm__fail(st->ctx, CM_E_LOCKED, "%s-wal still holds "
		    "the old keys: %s is reading the store (the wipe is "
		    "pending; the next command after it ends does it)",
		    st->path, who[0] != '\0' ? who : "another program");
	}
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, "wiping the WAL");
	/* Its own frames hold the schema page and freed pages (zeroed:
	 * secure_delete), no key. */
	if ((err = exec(st, "DROP TABLE IF EXISTS " WIPE_TABLE,
	    "recording the wipe")) != CM_OK)
		return err;
	return CM_OK;
}

static cm_err
sq_wipe_now(cm_store *st)
{
	return wal_wipe_now(st, true);
}

static cm_err
sq_data_version(int64_t *out, cm_store *st)
{
	static const char sql[] = "PRAGMA data_version";
	sqlite3_stmt *s;
	cm_err err = CM_OK;
	int rc;

	/* Asked once per OCSP request: kept prepared. */
	if (Q(st)->dv == NULL && (rc = sqlite3_prepare_v2(DB(st), sql, -1,
	    &Q(st)->dv, NULL)) != SQLITE_OK)
		return sq_fail(st, rc, "preparing a query");
	s = Q(st)->dv;
	rc = sqlite3_step(s);
	/* data_version moves on commits of other connections; this
	 * connection's own writes show in its change count. */
	if (rc == SQLITE_ROW)
		*out = (int64_t)((uint64_t)sqlite3_column_int64(s, 0) << 32) +
		    (int64_t)sqlite3_total_changes(DB(st));
	else
		err = sq_fail(st, rc, "reading data version");
	sqlite3_reset(s);
	return err;
}

static bool
sq_may_have_changed(cm_store *st)
{
	unsigned char now[WAL_HDR];
	char path[PATH_MAX];
	struct stat sb;
	void *m;

	if (!Q(st)->shm_tried) {
		/* Mapped once the WAL is in use (this connection has read
		 * the store, so its -shm exists and is held open).  The
		 * descriptor is kept (see struct cm_store) even when the
		 * mapping fails. */
		Q(st)->shm_tried = true;
		if ((size_t)snprintf(path, sizeof(path), "%s-shm", st->path) >=
		    sizeof(path) ||
		    (Q(st)->shm_fd < 0 &&
		    (Q(st)->shm_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0))
			return true;
		m = fstat(Q(st)->shm_fd, &sb) == 0 && sb.st_size >= SHM_MAP ?
		    mmap(NULL, SHM_MAP, PROT_READ, MAP_SHARED, Q(st)->shm_fd,
		    0) : MAP_FAILED;
		if (m != MAP_FAILED)
			Q(st)->shm = m;
	}
	if (Q(st)->shm == NULL)
		return true;
	/* Every commit rewrites the header (iChange counts them); a torn
	 * read differs from the last one too, so it only costs a check.
	 * The mapping stays valid: while this connection is open SQLite
	 * holds a shared lock on the store (WAL mode) and on the -shm's
	 * dead-man byte, so no one truncates, replaces or leaves WAL mode;
	 * cm_store_close() unmaps before closing it.  A pread instead
	 * costs a third of the responder's speed here. */
	memcpy(now, Q(st)->shm, sizeof(now));
	if (Q(st)->shm_seen_valid &&
	    memcmp(now, Q(st)->shm_seen, sizeof(now)) == 0)
		return false;
	memcpy(Q(st)->shm_seen, now, sizeof(now));
	Q(st)->shm_seen_valid = true;
	return true;
}

static void
sq_changes_unseen(cm_store *st)
{
	Q(st)->shm_seen_valid = false;
}


/* ---- statements --------------------------------------------------------- */

static int
sq_prepare(cm_store *st, cm__stmt **out, const char *sql)
{
	struct sq_stmt *p;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(DB(st), sql, -1, &p->s, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(p->s);
		free(p);
		return rc;
	}
	p->base.ops = &cm__sqlite_ops;
	*out = &p->base;
	return SQLITE_OK;
}

static void
sq_bind_int64(cm__stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(S(s), i, (sqlite3_int64)v);
}

static void
sq_bind_text(cm__stmt *s, int i, const char *v, int n, int how)
{
	sqlite3_bind_text(S(s), i, v, n, how == CM__TRANSIENT ?
	    SQLITE_TRANSIENT : SQLITE_STATIC);
}

static void
sq_bind_blob(cm__stmt *s, int i, const void *v, int n, int how)
{
	sqlite3_bind_blob(S(s), i, v, n, how == CM__TRANSIENT ?
	    SQLITE_TRANSIENT : SQLITE_STATIC);
}

static void
sq_bind_null(cm__stmt *s, int i)
{
	sqlite3_bind_null(S(s), i);
}

static int
sq_step(cm__stmt *s)
{
	int rc = sqlite3_step(S(s));

	return rc == SQLITE_ROW ? CM__ROW : rc == SQLITE_DONE ? CM__DONE : rc;
}

static int
sq_col_count(cm__stmt *s)
{
	return sqlite3_column_count(S(s));
}

static int
sq_col_type(cm__stmt *s, int i)
{
	switch (sqlite3_column_type(S(s), i)) {
	case SQLITE_NULL:
		return CM__NULL;
	case SQLITE_BLOB:
		return CM__BLOB;
	case SQLITE_INTEGER:
		return CM__INTEGER;
	default:
		return CM__TEXT;
	}
}

static int64_t
sq_col_int64(cm__stmt *s, int i)
{
	return (int64_t)sqlite3_column_int64(S(s), i);
}

static const char *
sq_col_text(cm__stmt *s, int i)
{
	return (const char *)sqlite3_column_text(S(s), i);
}

static const void *
sq_col_blob(cm__stmt *s, int i)
{
	return sqlite3_column_blob(S(s), i);
}

static int
sq_col_bytes(cm__stmt *s, int i)
{
	return sqlite3_column_bytes(S(s), i);
}

static void
sq_reset(cm__stmt *s)
{
	sqlite3_reset(S(s));
	sqlite3_clear_bindings(S(s));
}

/* SQLite's statements are prepared already. */
static void
sq_keep(cm__stmt *s)
{
	(void)s;
}

static void
sq_finalize(cm__stmt *s)
{
	sqlite3_finalize(S(s));
	free(s);
}

static int
sq_exec(cm_store *st, const char *sql)
{
	return sqlite3_exec(DB(st), sql, NULL, NULL, NULL);
}

static int64_t
sq_last_id(cm_store *st)
{
	return (int64_t)sqlite3_last_insert_rowid(DB(st));
}

static int64_t
sq_changes(cm_store *st)
{
	return (int64_t)sqlite3_changes(DB(st));
}

/* ---- transactions, schema ----------------------------------------------- */

static cm_err
sq_begin(cm_store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "starting a write");
}

static cm_err
sq_commit(cm_store *st)
{
	return exec(st, "COMMIT", "committing");
}

static void
sq_rollback(cm_store *st)
{
	if (!sqlite3_get_autocommit(DB(st)))
		sqlite3_exec(DB(st), "ROLLBACK", NULL, NULL, NULL);
}

static bool
sq_in_txn(cm_store *st)
{
	return !sqlite3_get_autocommit(DB(st));
}

static cm_err
sq_schema_set(cm_store *st, int v)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return exec(st, sql, "setting schema");
}

static const char *
sq_migration(const char *name, const char *text)
{
	(void)name;
	return text;
}

static void
sq_set_busy_timeout(cm_store *st, int ms)
{
	sqlite3_busy_timeout(DB(st), ms);
	Q(st)->busy_ms = ms;
}

/* SQLite's integrity check: "ok", or a message per problem. */
static cm_err
sq_integrity(char ***out, cm_store *st)
{
	sqlite3_stmt *s = NULL;
	char **v = NULL, **nv;
	size_t n = 0;
	const char *t;
	int rc;

	*out = NULL;
	rc = sqlite3_prepare_v2(DB(st), "PRAGMA integrity_check", -1, &s,
	    NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s, 0);
		if (t == NULL || strcmp(t, "ok") == 0) {
			rc = SQLITE_OK;
			continue;
		}
		if ((nv = realloc(v, (n + 2) * sizeof(*v))) == NULL ||
		    (nv[n] = strdup(t)) == NULL) {
			v = nv ? nv : v;
			rc = SQLITE_NOMEM;
			break;
		}
		v = nv;
		v[++n] = NULL;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return sq_fail(st, rc, "checking integrity");
	}
	*out = v;
	return CM_OK;
}

/* A rowid table's next id follows its largest already. */
static cm_err
sq_ids_follow(cm_store *st)
{
	(void)st;
	return CM_OK;
}

const struct cm__db_ops cm__sqlite_ops = {
	.name = "SQLite",
	.prepare = sq_prepare,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.col_count = sq_col_count,
	.col_type = sq_col_type,
	.col_int64 = sq_col_int64,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.col_bytes = sq_col_bytes,
	.reset = sq_reset,
	.keep = sq_keep,
	.finalize = sq_finalize,
	.exec = sq_exec,
	.fail = sq_fail,
	.last_id = sq_last_id,
	.changes = sq_changes,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_txn = sq_in_txn,
	.schema_get = read_version,
	.schema_set = sq_schema_set,
	.migration = sq_migration,
	.data_version = sq_data_version,
	.may_have_changed = sq_may_have_changed,
	.changes_unseen = sq_changes_unseen,
	.set_busy_timeout = sq_set_busy_timeout,
	.wipe_mark = sq_wipe_mark,
	.wipe_now = sq_wipe_now,
	.wipe_pending = sq_wipe_pending,
	.integrity = sq_integrity,
	.ids_follow = sq_ids_follow,
	.close = sq_close,
};
