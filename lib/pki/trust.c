/*
 * trust.c - installing a CA where software looks for trust anchors: the
 * system store (Debian's update-ca-certificates, or p11-kit's trust
 * tool), NSS databases (Chromium's $HOME/.pki/nssdb, Firefox profiles, or
 * an explicit one) through certutil, and Java keystores through keytool.
 *
 * The tools run as child processes with an argv (never a shell), a
 * bounded time and bounded output.  Every action checks first, so running
 * it twice changes nothing the second time.  Secrets (the keystore
 * password) go through the environment (keytool -storepass:env), never
 * argv.
 *
 * Tests: CERTMINT_SYSTEM_ROOT moves the whole Debian system store under a
 * folder: the certificate goes to ROOT/usr/local/share/ca-certificates and
 * update-ca-certificates runs with every one of its folders (and hooks)
 * inside ROOT, so the real store is never touched.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#define TOOL_TIMEOUT 60
#define OUT_MAX (64 * 1024)
#define MAX_RESULTS 64
#define KS_ENV "CERTMINT_KEYTOOL_STOREPASS"

static bool
find_tool(char *buf, size_t len, const char *name)
{
	const char *path = getenv("PATH"), *p, *e;
	char dirs[8192];

	if (strchr(name, '/') != NULL) {
		snprintf(buf, len, "%s", name);
		return access(buf, X_OK) == 0;
	}
	/* sbin for update-ca-certificates when PATH lacks it. */
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin",
	    path ? path : "/usr/bin:/bin");
	for (p = dirs; *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(e - p), p, name);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

bool
cm__have_tool(const char *name)
{
	char buf[PATH_MAX];

	return find_tool(buf, sizeof(buf), name);
}

cm_err
cm__run(int *status, char **out, cm_ctx *ctx, char *const argv[],
    const char *const envset[], const void *in, size_t inlen, int timeout_s)
{
	posix_spawn_file_actions_t fa;
	char exe[PATH_MAX], **envp = NULL, *obuf = NULL;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, ws, rc;
	size_t ne = 0, ns = 0, i, olen = 0;
	pid_t pid = -1;
	time_t deadline;
	bool fa_init = false;
	cm_err err = CM_OK;

	if (out != NULL)
		*out = NULL;
	if (!find_tool(exe, sizeof(exe), argv[0]))
		return cm__fail(ctx, CM_E_NOTFOUND, "%s: not found", argv[0]);
	while (environ[ne] != NULL)
		ne++;
	while (envset != NULL && envset[ns] != NULL)
		ns++;
	if ((envp = calloc(ne + ns + 1, sizeof(*envp))) == NULL ||
	    (obuf = malloc(OUT_MAX + 1)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < ns; i++)
		envp[i] = (char *)envset[i];
	for (i = 0; i < ne; i++)
		envp[ns + i] = environ[i];
	if (pipe2(inp, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0) {
		err = cm__errno_fail(ctx, errno, "%s: pipe", argv[0]);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	fa_init = true;
	posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 2);
	rc = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
	if (rc != 0) {
		pid = -1;
		err = cm__errno_fail(ctx, rc, "%s", exe);
		goto out;
	}
	close(inp[0]);
	close(outp[1]);
	inp[0] = outp[1] = -1;
	/* Small inputs (a certificate) fit in the pipe buffer.  A tool that
	 * exits without reading must not kill us with SIGPIPE: block it for
	 * this thread and drop a pending one, without touching the
	 * process's disposition. */
	if (in != NULL && inlen > 0) {
		sigset_t pipe_set, old_set;
		struct timespec zero = { 0, 0 };

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
		if (write(inp[1], in, inlen) < 0 && errno == EPIPE)
			sigtimedwait(&pipe_set, NULL, &zero);
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	}
	close(inp[1]);
	inp[1] = -1;
	deadline = time(NULL) + timeout_s;
	for (;;) {
		struct pollfd pf = { outp[0], POLLIN, 0 };
		char tmp[4096];
		ssize_t r;
		int left = (int)(deadline - time(NULL));

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, left * 1000) <= 0)
			continue;
		if ((r = read(outp[0], tmp, sizeof(tmp))) <= 0)
			break;
		if (olen < OUT_MAX) {
			size_t take = (size_t)r < OUT_MAX - olen ? (size_t)r :
			    OUT_MAX - olen;
			memcpy(obuf + olen, tmp, take);
			olen += take;
		}
	}
	obuf[olen] = '\0';
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (out != NULL) {
		*out = obuf;
		obuf = NULL;
	}
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &ws, 0);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	free(envp);
	free(obuf);
	return err;
}

/* The first line of a tool's output, for a message. */
static const char *
first_line(char *s)
{
	char *p;

	if (s == NULL)
		return "";
	while (*s == '\n' || *s == ' ')
		s++;
	if ((p = strchr(s, '\n')) != NULL)
		*p = '\0';
	return s;
}

void
cm_trust_result_list_free(cm_trust_result **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (list[i] == NULL)
			continue;
		free(list[i]->target);
		free(list[i]->where);
		free(list[i]->note);
		free(list[i]);
	}
	free(list);
}

typedef struct job {
	cm_ctx *ctx;
	cm_trust_action action;
	const char *ca_name;
	char label[200];       /* NSS nickname / keytool alias / file stem */
	char alias[200];       /* lower case, for keytool */
	char stem[200];
	const char *pem;
	cm_trust_result **res;
	size_t n;
} job;

static cm_err
result(job *j, const char *target, const char *where, bool installed,
    bool changed, const char *note)
{
	cm_trust_result *r;

	if (j->n == MAX_RESULTS)
		return cm__fail(j->ctx, CM_E_INVALID, "trust: more than %d "
		    "places", MAX_RESULTS);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cm__fail(j->ctx, CM_E_NOMEM, "out of memory");
	j->res[j->n++] = r;
	r->target = strdup(target);
	r->where = strdup(where);
	r->note = note ? strdup(note) : NULL;
	r->installed = installed;
	r->changed = changed;
	if (r->target == NULL || r->where == NULL || (note && !r->note))
		return cm__fail(j->ctx, CM_E_NOMEM, "out of memory");
	return CM_OK;
}

static cm_err
need_tool(cm_ctx *ctx, const char *tool, const char *why, const char *pkg)
{
	if (cm__have_tool(tool))
		return CM_OK;
	return cm__fail(ctx, CM_E_NOTFOUND, "%s not found: %s needs it "
	    "(install %s)", tool, why, pkg);
}

static cm_err
mkdirs(cm_ctx *ctx, const char *dir, unsigned mode)
{
	char b[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n >= sizeof(b))
		return cm__fail(ctx, CM_E_INVALID, "%s: path too long", dir);
	memcpy(b, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (b[i] != '/' && b[i] != '\0')
			continue;
		b[i] = '\0';
		if (mkdir(b, mode) != 0 && errno != EEXIST) {
			int e = errno;
			return cm__fail(ctx, e == EACCES || e == EPERM ?
			    CM_E_IO : CM_E_IO, "%s: %s%s", b, strerror(e),
			    e == EACCES || e == EPERM ? " (run as root)" : "");
		}
		b[i] = i == n ? '\0' : '/';
	}
	return CM_OK;
}

/* ---- system store ---- */

static cm_err
run_update(job *j, const char *root, bool fresh, char *note, size_t notelen)
{
	char a[5][PATH_MAX];
	char *argv[16];
	char *out = NULL;
	int st = 0, k = 0;
	cm_err err;

	argv[k++] = (char *)"update-ca-certificates";
	if (root[0] != '\0') {
		/* Everything under root: config, folders, bundle, hooks. */
		snprintf(a[0], sizeof(a[0]), "%s/etc/ca-certificates.conf", root);
		snprintf(a[1], sizeof(a[1]), "%s/usr/share/ca-certificates", root);
		snprintf(a[2], sizeof(a[2]), "%s/usr/local/share/ca-certificates",
		    root);
		snprintf(a[3], sizeof(a[3]), "%s/etc/ssl/certs", root);
		snprintf(a[4], sizeof(a[4]), "%s/etc/ca-certificates/update.d",
		    root);
		for (int i = 1; i < 5; i++)
			if ((err = mkdirs(j->ctx, a[i], 0755)) != CM_OK)
				return err;
		if (access(a[0], F_OK) != 0) {
			FILE *f = fopen(a[0], "w");
			if (f != NULL)
				fclose(f);
		}
		argv[k++] = (char *)"--certsconf";
		argv[k++] = a[0];
		argv[k++] = (char *)"--certsdir";
		argv[k++] = a[1];
		argv[k++] = (char *)"--localcertsdir";
		argv[k++] = a[2];
		argv[k++] = (char *)"--etccertsdir";
		argv[k++] = a[3];
		argv[k++] = (char *)"--hooksdir";
		argv[k++] = a[4];
	}
	/* --fresh rebuilds the links: without it a removed local CA keeps
	 * its (dangling) links in /etc/ssl/certs. */
	if (fresh)
		argv[k++] = (char *)"--fresh";
	argv[k] = NULL;
	if ((err = cm__run(&st, &out, j->ctx, argv, NULL, NULL, 0,
	    TOOL_TIMEOUT)) != CM_OK)
		return err;
	if (st != 0) {
		err = cm__fail(j->ctx, CM_E_IO, "update-ca-certificates failed "
		    "(exit %d): %s", st, first_line(out));
		free(out);
		return err;
	}
	free(out);
	snprintf(note, notelen, "update-ca-certificates ran");
	return CM_OK;
}

static cm_err
file_same(bool *same, const char *path, const char *pem)
{
	FILE *f = fopen(path, "r");
	char b[65536];
	size_t n;

	*same = false;
	if (f == NULL)
		return errno == ENOENT ? CM_OK : CM_E_IO;
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	*same = n == strlen(pem) && memcmp(b, pem, n) == 0;
	return CM_OK;
}

/*
 * Is the CA (j->pem) in the system bundle (bundle)?  The bundle, not the
 * file in /usr/local/share/ca-certificates, is what TLS clients read: an
 * update-ca-certificates that failed leaves the file without the bundle.
 */
static bool
bundle_has(job *j, const char *bundle)
{
	gnutls_x509_crt_t ca = NULL, *list = NULL;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)j->pem,
	    (unsigned)strlen(j->pem) };
	unsigned n = 0, i;
	char *text = NULL;
	size_t len = 0;
	bool found = false;

	/* A bundle of every public CA is about 200 KiB. */
	if (cm__file_read(j->ctx, bundle, 16 * 1024 * 1024, &text, &len) !=
	    CM_OK)
		return false;
	if (gnutls_x509_crt_init(&ca) < 0 ||
	    gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM) < 0)
		goto out;
	d.data = (unsigned char *)text;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM,
	    0) < 0) {
		list = NULL;
		n = 0;
		goto out;
	}
	for (i = 0; i < n && !found; i++)
		found = gnutls_x509_crt_equals(ca, list[i]) != 0;
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	if (ca != NULL)
		gnutls_x509_crt_deinit(ca);
	free(text);
	return found;
}

/* Removes the links in etcdir that lead to the CA's file (stem.crt) or to
 * its stem.pem link and no longer lead anywhere: an updater run without
 * --fresh (or an older one) leaves them. */
static void
remove_dangling(const char *etcdir, const char *stem)
{
	char p[PATH_MAX + 256], target[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	ssize_t n;
	DIR *d;

	if ((d = opendir(etcdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", etcdir, e->d_name);
		if (lstat(p, &sb) != 0 || !S_ISLNK(sb.st_mode) ||
		    stat(p, &sb) == 0)
			continue;
		if ((n = readlink(p, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		if (strstr(target, stem) != NULL)
			unlink(p);
	}
	closedir(d);
}

static cm_err
do_system(job *j)
{
	const char *root = getenv("CERTMINT_SYSTEM_ROOT");
	char dir[PATH_MAX], path[PATH_MAX + 256], note[128] = "";
	char etc[PATH_MAX], bundle[PATH_MAX + 32];
	bool have_uca, same = false, exists, in_bundle;
	cm_err err;

	if (root == NULL)
		root = "";
	have_uca = cm__have_tool("update-ca-certificates");
	if (!have_uca && root[0] == '\0' && cm__have_tool("trust")) {
		/* p11-kit (Fedora, Arch): trust anchor --store/--remove. */
		char *out = NULL, *argv[6];
		int st = 0;
		bool present;

		argv[0] = (char *)"trust";
		argv[1] = (char *)"list";
		argv[2] = (char *)"--filter=ca-anchors";
		argv[3] = NULL;
		if ((err = cm__run(&st, &out, j->ctx, argv, NULL, NULL, 0,
		    TOOL_TIMEOUT)) != CM_OK)
			return err;
		snprintf(path, sizeof(path), "label: %s", j->ca_name);
		present = st == 0 && out && strstr(out, path) != NULL;
		free(out);
		out = NULL;
		if (j->action == CM_TRUST_STATUS ||
		    (j->action == CM_TRUST_INSTALL && present) ||
		    (j->action == CM_TRUST_UNINSTALL && !present))
			return result(j, "system", "p11-kit trust store",
			    present, false, NULL);
		argv[1] = (char *)"anchor";
		argv[2] = (char *)(j->action == CM_TRUST_INSTALL ? "--store" :
		    "--remove");
		argv[3] = (char *)"/dev/stdin";
		argv[4] = NULL;
		if ((err = cm__run(&st, &out, j->ctx, argv, NULL, j->pem,
		    strlen(j->pem), TOOL_TIMEOUT)) != CM_OK)
			return err;
		if (st != 0) {
			err = cm__fail(j->ctx, CM_E_IO, "trust anchor failed "
			    "(exit %d): %s", st, first_line(out));
			free(out);
			return err;
		}
		free(out);
		return result(j, "system", "p11-kit trust store",
		    j->action == CM_TRUST_INSTALL, true, "trust anchor ran");
	}
	snprintf(dir, sizeof(dir), "%s/usr/local/share/ca-certificates", root);
	snprintf(path, sizeof(path), "%s/%s.crt", dir, j->stem);
	snprintf(etc, sizeof(etc), "%s/etc/ssl/certs", root);
	snprintf(bundle, sizeof(bundle), "%s/ca-certificates.crt", etc);
	exists = access(path, F_OK) == 0;
	if (exists)
		file_same(&same, path, j->pem);
	in_bundle = bundle_has(j, bundle);
	if (j->action == CM_TRUST_STATUS)
		return result(j, "system", path, in_bundle, false,
		    exists && !same ? "file differs from the CA" :
		    same && !in_bundle ? "the file is in place but the "
		    "bundle lacks the CA: run certmint trust install" :
		    !exists && in_bundle ? "in the bundle, but its file is "
		    "gone: run update-ca-certificates --fresh" : NULL);
	if (!have_uca)
		return need_tool(j->ctx, "update-ca-certificates", "--system",
		    "ca-certificates");
	if (j->action == CM_TRUST_INSTALL) {
		if (same && in_bundle)
			return result(j, "system", path, true, false, NULL);
		if ((err = mkdirs(j->ctx, dir, 0755)) != CM_OK)
			return err;
		if (!same && (err = cm__file_write(j->ctx, path, j->pem,
		    strlen(j->pem), 0644, true, true)) != CM_OK) {
			if (access(dir, W_OK) != 0)
				err = cm__fail(j->ctx, CM_E_IO, "%s: permission "
				    "denied (run as root)", dir);
			return err;
		}
		/* A failed install leaves nothing: the file goes, and the
		 * store is rebuilt without it (best effort: the updater
		 * just failed; its message is the one kept). */
		if ((err = run_update(j, root, false, note, sizeof(note))) !=
		    CM_OK) {
			cm_err kept = err;
			char msg[CM_ERRBUF];
			snprintf(msg, sizeof(msg), "%s", cm_ctx_error(j->ctx));
			unlink(path);
			(void)run_update(j, root, true, note, sizeof(note));
			remove_dangling(etc, j->stem);
			return cm__fail(j->ctx, kept, "%s; %s removed again",
			    msg, path);
		}
		if (!bundle_has(j, bundle)) {
			unlink(path);
			(void)run_update(j, root, true, note, sizeof(note));
			remove_dangling(etc, j->stem);
			return cm__fail(j->ctx, CM_E_IO, "update-ca-certificates "
			    "ran but %s lacks the CA; %s removed again",
			    bundle, path);
		}
	} else {
		if (!exists && !in_bundle) {
			/* Links of an earlier uninstall may still dangle. */
			remove_dangling(etc, j->stem);
			return result(j, "system", path, false, false, NULL);
		}
		if (exists && unlink(path) != 0)
			return cm__fail(j->ctx, CM_E_IO, "%s: %s%s", path,
			    strerror(errno), errno == EACCES ?
			    " (run as root)" : "");
		err = run_update(j, root, true, note, sizeof(note));
		remove_dangling(etc, j->stem);
		if (err != CM_OK)
			return err;
	}
	return result(j, "system", path, j->action == CM_TRUST_INSTALL, true,
	    note);
}

/* ---- NSS ---- */

static cm_err
nss_present(bool *present, job *j, const char *db)
{
	char *argv[] = { (char *)"certutil", (char *)"-L", (char *)"-d",
	    (char *)db, (char *)"-n", j->label, NULL };
	char *out = NULL;
	int st = 0;
	cm_err err;

	err = cm__run(&st, &out, j->ctx, argv, NULL, NULL, 0, TOOL_TIMEOUT);
	free(out);
	*present = err == CM_OK && st == 0;
	return err;
}

static cm_err
certutil(job *j, char *const argv[], const char *in, const char *db)
{
	char *out = NULL;
	int st = 0;
	cm_err err;

	if ((err = cm__run(&st, &out, j->ctx, argv, NULL, in,
	    in ? strlen(in) : 0, TOOL_TIMEOUT)) != CM_OK)
		return err;
	if (st != 0)
		err = cm__fail(j->ctx, CM_E_IO, "certutil %s -d %s failed: %s",
		    argv[1], db, first_line(out));
	free(out);
	return err;
}

/* One NSS database; dir without prefix, prefix "sql:" or "dbm:". */
static cm_err
do_nss(job *j, const char *target, const char *dir, const char *prefix,
    bool create)
{
	char db[PATH_MAX + 8], cert9[PATH_MAX + 16];
	bool present = false, exists;
	cm_err err;

	snprintf(db, sizeof(db), "%s%s", prefix, dir);
	snprintf(cert9, sizeof(cert9), "%s/%s", dir,
	    strcmp(prefix, "dbm:") == 0 ? "cert8.db" : "cert9.db");
	exists = access(cert9, F_OK) == 0;
	if (exists && (err = nss_present(&present, j, db)) != CM_OK)
		return err;
	if (j->action == CM_TRUST_STATUS ||
	    (j->action == CM_TRUST_INSTALL && present) ||
	    (j->action == CM_TRUST_UNINSTALL && !present))
		return result(j, target, db, present, false, exists ? NULL :
		    "no NSS database there");
	if (j->action == CM_TRUST_INSTALL) {
		if (!exists) {
			char *argv[] = { (char *)"certutil", (char *)"-N",
			    (char *)"-d", db, (char *)"--empty-password", NULL };
			if (!create)
				return result(j, target, db, false, false,
				    "no NSS database there");
			if ((err = mkdirs(j->ctx, dir, 0700)) != CM_OK ||
			    (err = certutil(j, argv, NULL, db)) != CM_OK)
				return err;
		}
		/* C: a trusted CA for TLS servers (mkcert's choice). */
		char *argv[] = { (char *)"certutil", (char *)"-A", (char *)"-d",
		    db, (char *)"-t", (char *)"C,,", (char *)"-n", j->label,
		    (char *)"-a", NULL };
		if ((err = certutil(j, argv, j->pem, db)) != CM_OK)
			return err;
		return result(j, target, db, true, true, exists ? NULL :
		    "created the database");
	}
	/* The same nickname may hold several entries: delete them all. */
	for (int i = 0; present && i < 16; i++) {
		char *argv[] = { (char *)"certutil", (char *)"-D", (char *)"-d",
		    db, (char *)"-n", j->label, NULL };
		if ((err = certutil(j, argv, NULL, db)) != CM_OK ||
		    (err = nss_present(&present, j, db)) != CM_OK)
			return err;
	}
	return result(j, target, db, present, true, NULL);
}

static cm_err
firefox_dir(job *j, const char *base)
{
	char path[PATH_MAX], f[PATH_MAX + 16];
	struct dirent *e;
	DIR *d;
	cm_err err = CM_OK;

	if ((d = opendir(base)) == NULL)
		return CM_OK;
	while (err == CM_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		snprintf(f, sizeof(f), "%s/cert9.db", path);
		if (access(f, F_OK) == 0) {
			err = do_nss(j, "firefox", path, "sql:", false);
			continue;
		}
		snprintf(f, sizeof(f), "%s/cert8.db", path);
		if (access(f, F_OK) == 0)
			err = do_nss(j, "firefox", path, "dbm:", false);
	}
	closedir(d);
	return err;
}

static cm_err
do_firefox(job *j, const char *home)
{
	char base[PATH_MAX];
	size_t before = j->n;
	cm_err err;

	snprintf(base, sizeof(base), "%s/.mozilla/firefox", home);
	if ((err = firefox_dir(j, base)) != CM_OK)
		return err;
	snprintf(base, sizeof(base), "%s/snap/firefox/common/.mozilla/firefox",
	    home);
	if ((err = firefox_dir(j, base)) != CM_OK)
		return err;
	if (j->n == before)
		return result(j, "firefox", "$HOME/.mozilla/firefox", false,
		    false, "no Firefox profile found");
	return CM_OK;
}

/* ---- Java ---- */

static cm_err
keytool(int *st, job *j, const char *const *args, const char *pass,
    const char *in)
{
	char env[1100], *argv[16], *out = NULL;
	const char *envset[2] = { env, NULL };
	int k = 0;
	cm_err err;

	snprintf(env, sizeof(env), "%s=%s", KS_ENV, pass);
	argv[k++] = (char *)"keytool";
	while (*args != NULL && k < 15)
		argv[k++] = (char *)*args++;
	argv[k] = NULL;
	err = cm__run(st, &out, j->ctx, argv, envset, in, in ? strlen(in) : 0,
	    TOOL_TIMEOUT);
	gnutls_memset(env, 0, sizeof(env));
	if (err == CM_OK && *st != 0 && out != NULL &&
	    (strstr(out, "password was incorrect") ||
	    strstr(out, "password is incorrect")))
		err = cm__fail(j->ctx, CM_E_PASSPHRASE, "Java keystore: wrong "
		    "password (keytool: %s)", first_line(out));
	else if (err == CM_OK && *st != 0 && in != NULL)
		err = cm__fail(j->ctx, CM_E_IO, "keytool failed: %s",
		    first_line(out));
	free(out);
	return err;
}

static cm_err
do_java(job *j, const char *ks, const char *pass)
{
	const char *list[] = { "-list", "-keystore", ks, "-storepass:env",
	    KS_ENV, "-alias", j->alias, NULL };
	int st = 0;
	bool present = false, exists = access(ks, F_OK) == 0;
	cm_err err;

	if ((err = need_tool(j->ctx, "keytool", "--java",
	    "a Java runtime, e.g. default-jre-headless")) != CM_OK)
		return err;
	if (exists) {
		if ((err = keytool(&st, j, list, pass, NULL)) != CM_OK)
			return err;
		present = st == 0;
	}
	if (j->action == CM_TRUST_STATUS ||
	    (j->action == CM_TRUST_INSTALL && present) ||
	    (j->action == CM_TRUST_UNINSTALL && !present))
		return result(j, "java", ks, present, false, NULL);
	if (j->action == CM_TRUST_INSTALL) {
		const char *imp[] = { "-importcert", "-noprompt",
		    "-trustcacerts", "-keystore", ks, "-storepass:env", KS_ENV,
		    "-alias", j->alias, NULL };
		if ((err = keytool(&st, j, imp, pass, j->pem)) != CM_OK)
			return err;
		return result(j, "java", ks, true, true, exists ? NULL :
		    "created the keystore");
	}
	const char *del[] = { "-delete", "-keystore", ks, "-storepass:env",
	    KS_ENV, "-alias", j->alias, NULL };
	if ((err = keytool(&st, j, del, pass, "")) != CM_OK)
		return err;
	return result(j, "java", ks, false, true, NULL);
}

/* ---- entry point ---- */

cm_err
cm_trust(cm_trust_result ***out, size_t *n, cm_store *st, const char *ca,
    cm_trust_action action, const cm_trust_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_ca_info *info = NULL;
	const char *home = getenv("HOME");
	char path[PATH_MAX];
	job j;
	size_t i, k = 0;
	unsigned targets;
	cm_err err;

	memset(&j, 0, sizeof(j));
	if (o == NULL || o->version != CM_TRUST_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "trust: options version is "
		    "unknown");
	if ((o->targets & ~(unsigned)CM_TRUST_SKIP_MISSING) == 0)
		return cm__fail(ctx, CM_E_INVALID, "trust: no target (--system, "
		    "--nss DIR, --chromium, --firefox, --java KEYSTORE)");
	targets = o->targets;
	if ((o->targets & CM_TRUST_NSS) && (o->nss_dir == NULL ||
	    o->nss_dir[0] == '\0'))
		return cm__fail(ctx, CM_E_INVALID, "trust: --nss needs a "
		    "database folder");
	if ((o->targets & CM_TRUST_JAVA) && (o->java_keystore == NULL ||
	    o->java_keystore[0] == '\0'))
		return cm__fail(ctx, CM_E_INVALID, "trust: --java needs a "
		    "keystore file");
	if ((o->targets & (CM_TRUST_CHROMIUM | CM_TRUST_FIREFOX)) &&
	    (home == NULL || home[0] != '/'))
		return cm__fail(ctx, CM_E_INVALID, "trust: HOME is not set");
	if ((err = cm__ca_get_uncounted(&info, st, ca)) != CM_OK)
		return err;
	if ((j.res = calloc(MAX_RESULTS, sizeof(*j.res))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	j.ctx = ctx;
	/* Every tool first: fail before changing anything, or with
	 * CM_TRUST_SKIP_MISSING note the places that cannot be done. */
	if ((targets & (CM_TRUST_NSS | CM_TRUST_CHROMIUM |
	    CM_TRUST_FIREFOX)) && (err = need_tool(ctx, "certutil",
	    "an NSS database (--nss, --chromium, --firefox)",
	    "libnss3-tools")) != CM_OK) {
		if (!(targets & CM_TRUST_SKIP_MISSING))
			goto out;
		if ((err = result(&j, "nss", "-", false, false,
		    "skipped: certutil not found (libnss3-tools)")) != CM_OK)
			goto out;
		targets &= ~(unsigned)(CM_TRUST_NSS | CM_TRUST_CHROMIUM |
		    CM_TRUST_FIREFOX);
	}
	if ((targets & CM_TRUST_JAVA) && (err = need_tool(ctx, "keytool",
	    "--java", "a Java runtime, e.g. default-jre-headless")) != CM_OK)
		goto out;
	if ((targets & CM_TRUST_SYSTEM) && (targets & CM_TRUST_SKIP_MISSING) &&
	    !cm__have_tool("update-ca-certificates") &&
	    !cm__have_tool("trust")) {
		if ((err = result(&j, "system", "-", false, false, "skipped: "
		    "neither update-ca-certificates nor trust found")) != CM_OK)
			goto out;
		targets &= ~(unsigned)CM_TRUST_SYSTEM;
	}
	j.action = action;
	j.ca_name = info->name;
	j.pem = info->pem;
	/* The fingerprint tells apart two CAs of the same name. */
	snprintf(j.label, sizeof(j.label), "certmint %s %.8s", info->name,
	    info->fingerprint);
	snprintf(j.stem, sizeof(j.stem), "certmint-%s-%.8s", info->name,
	    info->fingerprint);
	for (i = 0; j.stem[i] != '\0'; i++) {
		char c = j.stem[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			j.stem[i] = '_';
	}
	for (i = 0; j.stem[i] != '\0' && i + 1 < sizeof(j.alias); i++)
		j.alias[i] = (j.stem[i] >= 'A' && j.stem[i] <= 'Z') ?
		    (char)(j.stem[i] - 'A' + 'a') : j.stem[i];
	j.alias[i] = '\0';
	if ((targets & CM_TRUST_SYSTEM) && (err = do_system(&j)) != CM_OK)
		goto out;
	if (targets & CM_TRUST_NSS) {
		const char *d = o->nss_dir, *prefix = "sql:";
		if (strncmp(d, "sql:", 4) == 0 || strncmp(d, "dbm:", 4) == 0) {
			prefix = strncmp(d, "dbm:", 4) == 0 ? "dbm:" : "sql:";
			d += 4;
		}
		if ((err = do_nss(&j, "nss", d, prefix, true)) != CM_OK)
			goto out;
	}
	if (targets & CM_TRUST_CHROMIUM) {
		snprintf(path, sizeof(path), "%s/.pki/nssdb", home);
		if ((err = do_nss(&j, "chromium", path, "sql:", true)) != CM_OK)
			goto out;
	}
	if ((targets & CM_TRUST_FIREFOX) &&
	    (err = do_firefox(&j, home)) != CM_OK)
		goto out;
	if ((targets & CM_TRUST_JAVA) && (err = do_java(&j,
	    o->java_keystore, o->java_password ? o->java_password :
	    "changeit")) != CM_OK)
		goto out;
	for (i = 0; i < j.n; i++)
		k += j.res[i]->changed;
	if (k > 0 && action != CM_TRUST_STATUS) {
		char details[256];
		snprintf(details, sizeof(details), "%s: %zu place%s",
		    action == CM_TRUST_INSTALL ? "installed" : "removed", k,
		    k == 1 ? "" : "s");
		/* Trust stores are outside the store: a failed log line
		 * must not hide what was done. */
		cm__store_event(st, action == CM_TRUST_INSTALL ?
		    "trust.install" : "trust.uninstall", info->name, details);
	}
	*out = j.res;
	*n = j.n;
	j.res = NULL;
out:
	cm_trust_result_list_free(j.res, j.n);
	cm_ca_info_free(info);
	return err;
}
