/* file.c - atomic, permission-exact output files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "internal.h"

void
cm__dir_of(char *buf, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* A path as messages show it: a long one by its end ("...tail"), so that
 * the reason after it still fits in the message (CM_ERRBUF). */
#define SHOWN 112

static const char *
shown(char *buf, const char *path)
{
	size_t n = strlen(path);

	if (n < SHOWN)
		return path;
	snprintf(buf, SHOWN, "...%s", path + n - (SHOWN - 4));
	return buf;
}

static bool
under(const char *path, const char *top)
{
	size_t n = strlen(top);

	return strncmp(path, top, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* /dev (but /dev/shm, a plain tmpfs), /proc, /sys, or a proc, sysfs or
 * devpts mount anywhere. */
static bool
system_dir(const char *dir)
{
	char real[PATH_MAX];
	struct statfs fs;

	if (statfs(dir, &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC ||
	    fs.f_type == SYSFS_MAGIC || fs.f_type == DEVPTS_SUPER_MAGIC))
		return true;
	if (realpath(dir, real) == NULL)
		return false;
	return (under(real, "/dev") && !under(real, "/dev/shm")) ||
	    under(real, "/proc") || under(real, "/sys");
}

cm_err
cm__file_check(cm_ctx *ctx, const char *path, bool force)
{
	char dir[PATH_MAX], sp[SHOWN], sd[SHOWN];
	struct stat sb;

	if (path == NULL || path[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "output file name is empty");
	if (strlen(path) >= PATH_MAX - 16)
		return cm__fail(ctx, CM_E_INVALID, "%s: path too long",
		    shown(sp, path));
	if (strcmp(path, "-") == 0)
		return cm__fail(ctx, CM_E_INVALID, "output file '-': standard "
		    "output is not taken here, give a file name");
	if (lstat(path, &sb) == 0) {
		struct stat tb;
		/* Outputs are replaced by a rename: a device, a pipe or a
		 * symlink to one (/dev/stdout) would be replaced by a file.
		 * A link is judged by its target; a dangling one is as a
		 * missing file. */
		mode_t m = !S_ISLNK(sb.st_mode) ? sb.st_mode :
		    stat(path, &tb) == 0 ? tb.st_mode : S_IFREG;
		bool isdir = S_ISDIR(m);
		if (!isdir && !S_ISREG(m))
			return cm__fail(ctx, CM_E_INVALID, "%s: not a regular "
			    "file (a device, pipe or socket); certmint writes "
			    "files", shown(sp, path));
		if (!force)
			return cm__fail(ctx, CM_E_EXISTS, "%s: file exists "
			    "(use --force to overwrite)", shown(sp, path));
		if (isdir)
			return cm__fail(ctx, CM_E_INVALID, "%s: is a directory",
			    shown(sp, path));
	}
	cm__dir_of(dir, sizeof(dir), path);
	if (stat(dir, &sb) != 0) {
		/* A missing folder is an I/O problem, not a missing CA. */
		cm_err err = cm__errno_fail(ctx, errno, "%s: output "
		    "directory %s", shown(sp, path), shown(sd, dir));
		return err == CM_E_NOMEM ? err : CM_E_IO;
	}
	if (!S_ISDIR(sb.st_mode))
		return cm__fail(ctx, CM_E_IO, "%s: %s is not a directory",
		    shown(sp, path), shown(sd, dir));
	/* /dev/stdout and the like: even when they lead to a regular file,
	 * the rename would replace the link itself, a system file. */
	if (system_dir(dir))
		return cm__fail(ctx, CM_E_INVALID, "%s: in /dev, /proc or "
		    "/sys; certmint writes regular files only",
		    shown(sp, path));
	if (access(dir, W_OK | X_OK) != 0)
		return cm__errno_fail(ctx, errno, "%s: output directory %s "
		    "is not writable", shown(sp, path), shown(sd, dir));
	return CM_OK;
}

cm_err
cm__file_stage(cm_ctx *ctx, char *tmp, size_t tmplen, const char *path,
    const void *data, size_t len, unsigned mode, bool force, bool sync)
{
	char dir[PATH_MAX], sp[SHOWN], sd[SHOWN];
	const char *p = data;
	int fd = -1, saved;
	cm_err err;

	tmp[0] = '\0';
	if ((err = cm__file_check(ctx, path, force)) != CM_OK)
		return err;
	cm__dir_of(dir, sizeof(dir), path);
	/*
	 * A short name of fixed length, whatever path's: "NAME.tmp-XXXXXX"
	 * passed NAME_MAX for valid names of 241 characters and more.  The
	 * process id says whose it is: a file of a process that is gone was
	 * left by a crash, and cm__file_clean_stale() removes it.
	 */
	if ((size_t)snprintf(tmp, tmplen, "%s/" CM__TMP_PREFIX "%ld-XXXXXX",
	    dir, (long)getpid()) >= tmplen) {
		tmp[0] = '\0';
		return cm__fail(ctx, CM_E_INVALID, "%s: path too long",
		    shown(sp, path));
	}
	/* mkstemp creates 0600 whatever the umask; fchmod sets the rest. */
	if ((fd = mkstemp(tmp)) < 0) {
		saved = errno;
		tmp[0] = '\0';
		return cm__errno_fail(ctx, saved, "%s: cannot create file in "
		    "%s", shown(sp, path), shown(sd, dir));
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (sync && fdatasync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return CM_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	tmp[0] = '\0';
	return cm__errno_fail(ctx, saved, "%s: writing", shown(sp, path));
}

/* True when name is "<prefix><pid>-..." of a process that is gone. */
static bool
stale_name(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(name, prefix, n) != 0)
		return false;
	errno = 0;
	pid = strtol(name + n, &end, 10);
	if (errno != 0 || end == name + n || *end != '-' || pid <= 0)
		return false;
	if (pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void
cm__file_clean_stale(const char *dir)
{
	DIR *d;
	struct dirent *e;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (stale_name(e->d_name, CM__TMP_PREFIX))
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

cm_err
cm__file_stale_journals(char ***out, size_t *n, cm_ctx *ctx, const char *dir)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL, **nv;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return CM_OK;
	while ((e = readdir(d)) != NULL) {
		if (!stale_name(e->d_name, CM__JOURNAL_PREFIX))
			continue;
		if ((nv = realloc(v, (k + 1) * sizeof(*v))) == NULL)
			goto nomem;
		v = nv;
		if (asprintf(&v[k], "%s/%s", dir, e->d_name) < 0)
			goto nomem;
		k++;
	}
	closedir(d);
	*out = v;
	*n = k;
	return CM_OK;
nomem:
	closedir(d);
	while (k > 0)
		free(v[--k]);
	free(v);
	return cm__fail(ctx, CM_E_NOMEM, "out of memory");
}

cm_err
cm__file_place(cm_ctx *ctx, char *tmp, const char *path, bool force)
{
	char sp[SHOWN];
	int saved;

	if (!force) {
		/* link() refuses to replace: no race with a file that
		 * appeared since the check. */
		if (link(tmp, path) == 0) {
			unlink(tmp);
			tmp[0] = '\0';
			return CM_OK;
		}
	} else if (rename(tmp, path) == 0) {
		tmp[0] = '\0';
		return CM_OK;
	}
	saved = errno;
	unlink(tmp);
	tmp[0] = '\0';
	if (saved == EEXIST)
		return cm__fail(ctx, CM_E_EXISTS, "%s: file exists (use "
		    "--force to overwrite)", shown(sp, path));
	return cm__errno_fail(ctx, saved, "%s: writing", shown(sp, path));
}

cm_err
cm__file_write(cm_ctx *ctx, const char *path, const void *data, size_t len,
    unsigned mode, bool force, bool sync)
{
	char tmp[PATH_MAX];
	cm_err err;

	if ((err = cm__file_stage(ctx, tmp, sizeof(tmp), path, data, len,
	    mode, force, sync)) != CM_OK)
		return err;
	return cm__file_place(ctx, tmp, path, force);
}

cm_err
cm_file_check(cm_ctx *ctx, const char *path, bool force)
{
	return cm__file_check(ctx, path, force);
}

cm_err
cm_file_write(cm_ctx *ctx, const char *path, const void *data, size_t len,
    unsigned mode, bool force)
{
	return cm__file_write(ctx, path, data, len, mode & 07777, force, true);
}

cm_err
cm__file_read(cm_ctx *ctx, const char *path, size_t max, char **data,
    size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	cm_err err = CM_OK;

	if ((f = fopen(path, "rb")) == NULL)
		return cm__errno_fail(ctx, errno, "%s", path);
	for (;;) {
		size_t r;
		if (n + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (n > max) {
			err = cm__fail(ctx, CM_E_INVALID, "%s: larger than %zu "
			    "bytes", path, max);
			goto out;
		}
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		err = cm__errno_fail(ctx, errno, "%s: reading", path);
		goto out;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return err;
}
