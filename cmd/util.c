/* util.c - helpers shared by the commands: errors, store, passphrases,
 * JSON and times. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"

#define PASS_MAX 1024

int
cmd_exit_code(cm_err err)
{
	switch (err) {
	case CM_OK:
		return EXIT_OK;
	case CM_E_STORE:
	case CM_E_STORE_NEWER:
	case CM_E_STORE_PERMS:
	case CM_E_LOCKED:
	case CM_E_NOMEM:
		return EXIT_STORE;
	case CM_E_CRYPTO:
	case CM_E_PASSPHRASE:
	case CM_E_TLS:
		return EXIT_CRYPTO;
	default:
		return EXIT_USAGE;
	}
}

/*
 * The length of the valid UTF-8 sequence at s that a terminal shows as
 * text, or 0: an invalid sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), a C1 control (U+0080-U+009F: 0x9b
 * is CSI to a terminal) or a bidirectional override (U+202A-U+202E,
 * U+2066-U+2069: they reorder what follows on the line).
 */
static size_t
utf8_text_len(const unsigned char *s)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/* Escapes s into buf[0..len) (see cmd_safe); returns how many octets of s
 * went in whole. */
static size_t
safe_copy(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n;

	while (*p != '\0') {
		if (*p == '\\') {
			if (o + 3 > len)
				break;
			buf[o++] = '\\';
			buf[o++] = '\\';
			p++;
		} else if (*p >= ' ' && *p < 0x7f) {
			if (o + 2 > len)
				break;
			buf[o++] = (char)*p++;
		} else if ((n = *p < 0x80 ? 0 : utf8_text_len(p)) > 0) {
			if (o + n + 1 > len)
				break;
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		} else {
			if (o + 5 > len)
				break;
			snprintf(buf + o, 5, "\\x%02x", *p++);
			o += 4;
		}
	}
	if (len > 0)
		buf[o] = '\0';
	return (size_t)((const char *)p - s);
}

const char *
cmd_safe(char *buf, size_t len, const char *s)
{
	size_t used;

	if (s == NULL)
		s = "";
	used = safe_copy(buf, len, s);
	/* Cut: say so, on a character boundary. */
	if (s[used] != '\0' && len >= 4) {
		used = strlen(buf);
		used = used > len - 4 ? len - 4 : used;
		while (used > 0 && ((unsigned char)buf[used] & 0xc0) == 0x80)
			used--;
		memcpy(buf + used, "...", 4);
	}
	return buf;
}

int
cmd_fputs_safe(const char *s, FILE *f)
{
	char buf[1024];
	size_t used;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		used = safe_copy(buf, sizeof(buf), s);
		if (fputs(buf, f) == EOF)
			return EOF;
		s += used;
	}
	return 0;
}

int
cmd_fail(cmd_env *env, cm_err err)
{
	const char *m = cm_ctx_error(env->ctx);
	int rc = cmd_exit_code(err);
	char line[CMD_LINE_MAX];

	if (err == CM_E_PASSPHRASE && env->pass_error[0] != '\0') {
		m = env->pass_error;
		/* A --passphrase-file that cannot be read (or holds none) is
		 * bad input, like a --password-file: not a crypto error. */
		if (env->pass_bad_input)
			rc = EXIT_USAGE;
	}
	/* Messages quote names from argv, files and certificates: one line,
	 * whatever they hold (a newline, an ESC sequence, invalid UTF-8 show
	 * as \xNN), written at once (stderr is unbuffered: a character at
	 * a time would mix with the lines of programs beside, make -j). */
	cmd_safe(line, sizeof(line), m[0] ? m : cm_strerror(err));
	fprintf(stderr, "certmint: %s\n", line);
	return rc;
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	char *msg = NULL, *safe = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* The line quotes argv: made safe whole (4 octets at most for
	 * one), uncut. */
	if (n >= 0 && (safe = malloc((size_t)n * 4 + 1)) != NULL)
		safe_copy(safe, (size_t)n * 4 + 1, msg);
	/* One write for the line (stderr is unbuffered). */
	fprintf(stderr, "certmint %s: %s (see certmint %s --help)\n", cmd,
	    safe != NULL ? safe : "bad usage", cmd);
	free(safe);
	if (n >= 0)
		free(msg);
	return EXIT_USAGE;
}

/*
 * The highest folder of dir (itself included) that does not exist, in out;
 * "" when dir exists or that cannot be told.  The spelling is dir's, so
 * that cmd_rmdirs() can walk up to it.
 */
static void
highest_missing(char *out, size_t len, const char *dir)
{
	char d[4096], *slash;
	struct stat sb;
	size_t n;

	out[0] = '\0';
	/* With a ".." in it, a folder that exists may look missing
	 * ("x/../y" before x is made): then nothing is counted as made. */
	if (strcmp(dir, "..") == 0 || strncmp(dir, "../", 3) == 0 ||
	    strstr(dir, "/../") != NULL || (strlen(dir) >= 3 &&
	    strcmp(dir + strlen(dir) - 3, "/..") == 0))
		return;
	if ((size_t)snprintf(d, sizeof(d), "%s", dir) >= sizeof(d))
		return;
	for (;;) {
		for (n = strlen(d); n > 1 && d[n - 1] == '/'; n--)
			d[n - 1] = '\0';
		if (d[0] == '\0' || stat(d, &sb) == 0 || errno != ENOENT)
			return;
		snprintf(out, len, "%s", d);
		if ((slash = strrchr(d, '/')) == NULL || slash == d)
			return;
		*slash = '\0';
	}
}

bool
cmd_mkdirs(const char *dir, unsigned mode, char *made, size_t len)
{
	char d[4096];
	struct stat sb;
	size_t i, n;

	highest_missing(made, len, dir);
	if ((n = strlen(dir)) >= sizeof(d)) {
		errno = ENAMETOOLONG;
		return false;
	}
	memcpy(d, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (d[i] != '/' && d[i] != '\0')
			continue;
		d[i] = '\0';
		if (mkdir(d, (mode_t)mode) != 0 && errno != EEXIST) {
			int saved = errno;
			cmd_rmdirs(dir, made);
			errno = saved;
			return false;
		}
		d[i] = i == n ? '\0' : '/';
	}
	if (stat(dir, &sb) != 0)
		return false;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

void
cmd_rmdirs(const char *dir, const char *made)
{
	char d[4096], *slash;
	size_t n;

	if (made == NULL || made[0] == '\0' ||
	    (size_t)snprintf(d, sizeof(d), "%s", dir) >= sizeof(d))
		return;
	for (;;) {
		for (n = strlen(d); n > 1 && d[n - 1] == '/'; n--)
			d[n - 1] = '\0';
		/* Only empty folders go: whatever else is there stays. */
		if (rmdir(d) != 0 && errno != ENOENT)
			return;
		if (strcmp(d, made) == 0 || (slash = strrchr(d, '/')) == NULL ||
		    slash == d)
			return;
		*slash = '\0';
	}
}

/* The folder of a file path: "" for one in the current folder. */
static void
dir_of(char *buf, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

cm_err
cmd_open_store(cm_store **out, cmd_env *env, bool create)
{
	const char *path = env->store_path;
	const char *busy = getenv("CERTMINT_BUSY_TIMEOUT");
	char dir[4096], top[4096] = "";
	struct stat sb;
	bool absent = false;
	unsigned ms;
	cm_err err;

	if (path == NULL) {
		err = cm_store_default_path(env->default_path,
		    sizeof(env->default_path), env->ctx);
		if (err != CM_OK)
			return err;
		path = env->default_path;
	}
	if (create && stat(path, &sb) != 0 && errno == ENOENT) {
		absent = true;
		dir_of(dir, sizeof(dir), path);
		highest_missing(top, sizeof(top), dir);
	}
	err = cm_store_open(out, env->ctx, path,
	    create ? CM_STORE_CREATE : 0);
	/* What this run made, for cmd_store_cleanup() should it fail. */
	if (absent && env->created_store[0] == '\0') {
		snprintf(env->created_store, sizeof(env->created_store), "%s",
		    path);
		snprintf(env->created_dir, sizeof(env->created_dir), "%s",
		    top);
	}
	/* A store that is not there is a store error (exit 3), like one
	 * that cannot be read. */
	if (err == CM_E_NOTFOUND)
		err = CM_E_STORE;
	if (err == CM_OK && busy != NULL && cmd_parse_uint(busy, 3600000, &ms))
		cm_store_set_busy_timeout(*out, (int)ms);
	return err;
}

/* Whether another process holds a lock on len bytes of path at start (a
 * lock of this process never shows). */
static bool
locked(const char *path, off_t start, off_t len)
{
	struct flock fl;
	int fd;
	bool held;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno != ENOENT;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	held = fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/*
 * Whether another process has the store open: an SQLite connection to a
 * WAL store holds a read lock on its SHARED range (510 bytes at 0x40000002)
 * and on byte 128 of its -shm (the "dead-man switch",
 * https://www.sqlite.org/walformat.html) while it is open.  The -shm itself
 * stays when the last connection closes (the store keeps its WAL and index
 * beside it).  Closing a descriptor drops every POSIX lock this process has
 * on the file, so it runs with no store open here.
 */
static bool
store_in_use(const char *path)
{
	char shm[4096 + 16];

	snprintf(shm, sizeof(shm), "%s-shm", path);
	return locked(path, 0x40000002, 510) || locked(shm, 128, 1);
}

void
cmd_store_cleanup(cmd_env *env)
{
	static const char *const extra[] = { "-wal", "-shm", "-journal" };
	const char *path = env->created_store;
	cm_store *st = NULL;
	char side[4096 + 16], dir[4096];
	struct stat sb;
	size_t n = 0, i;
	bool keep = false;

	if (path[0] == '\0')
		return;
	if (stat(path, &sb) == 0) {
		/* A CA in it is someone's work: a concurrent certmint may
		 * have made it since this run created the file. */
		if (cm_store_open(&st, env->ctx, path, 0) == CM_OK)
			keep = cm_ca_count(&n, st) != CM_OK || n > 0;
		else
			keep = sb.st_size > 0;
		cm_store_close(st);
		/* Another certmint with the store open may be making its CA
		 * right now. */
		if (keep || store_in_use(path))
			return;
		unlink(path);
		for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
			snprintf(side, sizeof(side), "%s%s", path, extra[i]);
			unlink(side);
		}
	}
	dir_of(dir, sizeof(dir), path);
	cmd_rmdirs(dir, env->created_dir);
}

/* Reads one line from fd into buf without echo when it is a terminal. */
static bool
read_secret(int fd, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = tcgetattr(fd, &old) == 0;
	size_t n = 0;
	char c;

	if (prompt != NULL) {
		if (write(fd, prompt, strlen(prompt)) < 0)
			return false;
	}
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	while (read(fd, &c, 1) == 1 && c != '\n') {
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0)
			return false;
	}
	return true;
}

static cm_err
pass_from_file(cmd_env *env, char *buf, size_t len, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;
	size_t n;

	env->pass_bad_input = true;
	if (fd < 0) {
		snprintf(env->pass_error, sizeof(env->pass_error), "%s: %s",
		    path, strerror(errno));
		return CM_E_PASSPHRASE;
	}
	r = read(fd, buf, len - 1);
	close(fd);
	if (r <= 0) {
		snprintf(env->pass_error, sizeof(env->pass_error), "%s: %s",
		    path, r < 0 ? strerror(errno) : "empty passphrase file");
		return CM_E_PASSPHRASE;
	}
	n = (size_t)r;
	buf[n] = '\0';
	/* The first line is the passphrase. */
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(env->pass_error, sizeof(env->pass_error), "%s: the "
		    "first line (the passphrase) is empty", path);
		return CM_E_PASSPHRASE;
	}
	env->pass_bad_input = false;
	return CM_OK;
}

static cm_err
get_pass(char *buf, size_t len, cmd_env *env, const char *what, bool ask)
{
	/* lib/pkcs11.c asks for a token PIN as "PKCS#11 token 'L' (PIN)";
	 * a CA's passphrase is asked as "CA '...'". */
	bool pin = strncmp(what, "PKCS#11 token '", 15) == 0;
	const char *e = getenv("CERTMINT_PASSPHRASE");
	const char *pe = getenv("CERTMINT_PIN");
	char prompt[256];
	bool asked = false, read_ok = false;
	int fd;
	cm_err err = CM_E_PASSPHRASE;

	/* A token's PIN has a channel of its own (CERTMINT_PIN), so that a
	 * store with a passphrase and a CA in a token can both be opened;
	 * and it never goes through the cache, which holds the store
	 * passphrase: the one must not be handed out as the other. */
	if (pin && pe != NULL && pe[0] != '\0') {
		snprintf(buf, len, "%s", pe);
		return CM_OK;
	}
	if (!pin && env->cached_pass != NULL) {
		snprintf(buf, len, "%s", env->cached_pass);
		return CM_OK;
	}
	if (env->passphrase_file != NULL) {
		err = pass_from_file(env, buf, len, env->passphrase_file);
	} else if (e != NULL && e[0] != '\0') {
		snprintf(buf, len, "%s", e);
		err = CM_OK;
	} else if (ask && (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) >= 0) {
		asked = true;
		snprintf(prompt, sizeof(prompt), "%s for %s: ", pin ? "PIN" :
		    "Passphrase", what);
		read_ok = read_secret(fd, prompt, buf, len);
		if (read_ok && buf[0] != '\0')
			err = CM_OK;
		close(fd);
	}
	if (err == CM_OK) {
		if (!pin)
			env->cached_pass = strdup(buf);
	} else if (env->passphrase_file == NULL && (e == NULL ||
	    e[0] == '\0')) {
		/* Nothing to read it from: say how to give it. */
		snprintf(env->pass_error, sizeof(env->pass_error), "%s: %s "
		    "was given: use %s%s", what, pin ?
		    "missing token PIN: none" :
		    "key is encrypted and no passphrase", pin ?
		    "CERTMINT_PIN, --passphrase-file F or CERTMINT_PASSPHRASE" :
		    "--passphrase-file F or CERTMINT_PASSPHRASE",
		    asked && read_ok ? " (the terminal gave an empty one)" :
		    asked ? " (the terminal could not be read)" : ask ?
		    " (no terminal to ask)" : "");
	}
	return err;
}

cm_err
cmd_passphrase_cb(char *buf, size_t len, const char *what, void *arg)
{
	return get_pass(buf, len, arg, what, true);
}

cm_err
cmd_new_passphrase(char **out, cmd_env *env, bool ask)
{
	char a[PASS_MAX], b[PASS_MAX];
	int fd;
	cm_err err = CM_OK;

	*out = NULL;
	if (env->passphrase_file != NULL || getenv("CERTMINT_PASSPHRASE")) {
		if ((err = get_pass(a, sizeof(a), env, "the new CA", false)) !=
		    CM_OK) {
			if (env->passphrase_file == NULL)
				snprintf(env->pass_error,
				    sizeof(env->pass_error),
				    "CERTMINT_PASSPHRASE is empty");
			explicit_bzero(a, sizeof(a));
			return err;
		}
		*out = strdup(a);
		explicit_bzero(a, sizeof(a));
		return *out ? CM_OK : CM_E_NOMEM;
	}
	if (!ask)
		return CM_OK;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(env->pass_error, sizeof(env->pass_error), "no "
		    "terminal to ask for a passphrase: use --passphrase-file "
		    "or CERTMINT_PASSPHRASE");
		return CM_E_PASSPHRASE;
	}
	if (!read_secret(fd, "New CA passphrase: ", a, sizeof(a)) ||
	    !read_secret(fd, "Again: ", b, sizeof(b)) || a[0] == '\0' ||
	    strcmp(a, b) != 0) {
		snprintf(env->pass_error, sizeof(env->pass_error), "new CA "
		    "passphrase: empty, or the two entries differ");
		err = CM_E_PASSPHRASE;
	} else if ((*out = strdup(a)) == NULL) {
		err = CM_E_NOMEM;
	}
	close(fd);
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return err;
}

void
cmd_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

bool
cmd_parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

bool
cmd_parse_ms(const char *s, unsigned bare_ms, unsigned long long max_ms,
    unsigned long long *out)
{
	static const struct {
		const char *suffix;
		unsigned ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	char *end;
	unsigned long long v, unit = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > max_ms)
		return false;
	if (*end == '\0')
		unit = bare_ms;
	for (size_t i = 0; unit == 0 && i < sizeof(units) / sizeof(*units);
	    i++)
		if (strcmp(end, units[i].suffix) == 0)
			unit = units[i].ms;
	if (unit == 0 || v == 0 || v > max_ms / unit)
		return false;
	*out = v * unit;
	return true;
}

bool
cmd_opt_days(const char *cmd, const char *arg, unsigned *out)
{
	if (cmd_parse_uint(arg, 36500, out) && *out > 0)
		return true;
	cmd_usage_error(cmd, "--days '%s' is not a number of days (1-36500)",
	    arg);
	return false;
}

bool
cmd_opt_key_type(cmd_env *env, const char *cmd, const char *arg,
    cm_key_type *out)
{
	if (cm_key_type_parse(out, env->ctx, arg) == CM_OK)
		return true;
	cmd_usage_error(cmd, "%s", cm_ctx_error(env->ctx));
	return false;
}

bool
cmd_parse_duration(const char *s, long long *out)
{
	char *end;
	long long v, mult = 86400;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0 || v > 100000)
		return false;
	if (*end == 'd' || *end == '\0')
		mult = 86400;
	else if (*end == 'h')
		mult = 3600;
	else if (*end == 'w')
		mult = 7 * 86400;
	else if (*end == 'y')
		mult = 365 * 86400;
	else
		return false;
	if (*end != '\0' && end[1] != '\0')
		return false;
	*out = v * mult;
	return true;
}

json_t *
cmd_json_time(time_t t)
{
	char buf[32];

	cmd_time(buf, sizeof(buf), t);
	return json_string(buf);
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
cmd_cert_json(const cm_cert_info *c)
{
	json_t *o = json_object(), *names = json_array();
	size_t i;

	for (i = 0; i < c->nnames; i++)
		json_array_append_new(names, json_string(c->names[i]));
	json_object_set_new(o, "serial", jstr(c->serial));
	json_object_set_new(o, "ca", jstr(c->ca));
	json_object_set_new(o, "subject", jstr(c->subject));
	json_object_set_new(o, "names", names);
	json_object_set_new(o, "profile", jstr(c->profile));
	json_object_set_new(o, "key_type", jstr(c->key_type));
	json_object_set_new(o, "not_before", cmd_json_time(c->not_before));
	json_object_set_new(o, "not_after", cmd_json_time(c->not_after));
	json_object_set_new(o, "status", jstr(c->status));
	json_object_set_new(o, "revoked_at", c->revoked_at ?
	    cmd_json_time(c->revoked_at) : json_null());
	json_object_set_new(o, "revocation_reason",
	    c->revocation_reason >= 0 && cm_revoke_reason_name(
	    (cm_revoke_reason)c->revocation_reason) ? json_string(
	    cm_revoke_reason_name((cm_revoke_reason)c->revocation_reason)) :
	    json_null());
	json_object_set_new(o, "fingerprint_sha256", jstr(c->fingerprint));
	json_object_set_new(o, "acme_account", c->acme_account ?
	    json_pack("{s:I,s:s?}", "id", (json_int_t)c->acme_account,
	    "key_thumbprint", c->acme_account_key) : json_null());
	if (c->cert_path)
		json_object_set_new(o, "cert_file", jstr(c->cert_path));
	if (c->key_path)
		json_object_set_new(o, "key_file", jstr(c->key_path));
	if (c->chain_path)
		json_object_set_new(o, "chain_file", jstr(c->chain_path));
	return o;
}

json_t *
cmd_ca_json(const cm_ca_info *ca)
{
	json_t *o = json_object(), *p = json_array();
	size_t i;

	for (i = 0; i < ca->npermitted; i++)
		json_array_append_new(p, json_string(ca->permitted[i]));
	json_object_set_new(o, "name", jstr(ca->name));
	json_object_set_new(o, "parent", jstr(ca->parent));
	json_object_set_new(o, "subject", jstr(ca->subject));
	json_object_set_new(o, "serial", jstr(ca->serial));
	json_object_set_new(o, "key_type", jstr(ca->key_type));
	json_object_set_new(o, "not_before", cmd_json_time(ca->not_before));
	json_object_set_new(o, "not_after", cmd_json_time(ca->not_after));
	json_object_set_new(o, "fingerprint_sha256", jstr(ca->fingerprint));
	json_object_set_new(o, "encrypted", json_boolean(ca->encrypted));
	json_object_set_new(o, "permitted", p);
	json_object_set_new(o, "path_len", ca->path_len < 0 ? json_null() :
	    json_integer(ca->path_len));
	json_object_set_new(o, "issued", json_integer((json_int_t)ca->issued));
	return o;
}

int
cmd_print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(j);
	fputc('\n', stdout);
	if (cmd_stdout_failed())
		return EXIT_USAGE;
	if (rc != 0) {
		fprintf(stderr, "certmint: the JSON output could not be made\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

bool
cmd_stdout_failed(void)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return false;
	/* errno is 0 when the failed write was an earlier one. */
	fprintf(stderr, "certmint: writing to standard output: %s\n",
	    errno != 0 ? strerror(errno) : "write error");
	return true;
}

void
cmd_progress(size_t done, size_t total, void *arg)
{
	static int last = -1;
	int width = 40, fill;

	(void)arg;
	if (total == 0)
		return;
	fill = (int)((double)done / (double)total * width);
	/* One write per step of the bar, not per certificate. */
	if (fill == last && done != total)
		return;
	last = fill;
	fprintf(stderr, "\r[%-*.*s] %zu/%zu", width, fill,
	    "########################################", done, total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

bool
cmd_key_uri_ok(const char *cmd, const char *uri)
{
	const char *p;

	/* An attribute of the path (after ':' or ';') or of the query
	 * (after '?' or '&'): p11-kit reads pin-value in both. */
	for (p = uri; (p = strpbrk(p, ":;?&")) != NULL; p++)
		if (strncasecmp(p + 1, "pin-value=", 10) == 0) {
			cmd_usage_error(cmd, "--key-uri: pin-value would put "
			    "the token PIN on the command line; give it with "
			    "--passphrase-file F, CERTMINT_PASSPHRASE, "
			    "pin-source=FILE or at the prompt");
			return false;
		}
	return true;
}

/* Set by cmd_getopt() for cmd_bad_option(). */
static char bad_value[160];

int
cmd_getopt(int argc, char **argv, const char *shortopts,
    const struct option *opts)
{
	int idx = -1, c = getopt_long(argc, argv, shortopts, opts, &idx);
	size_t n, i;

	/* "--key-type --ca N": getopt takes "--ca" as the value.  Only a
	 * separate argument ("--name=--json" is meant), and as getopt
	 * reads options: any unambiguous prefix ("--c"). */
	if (c == -1 || c == '?' || idx < 0 ||
	    opts[idx].has_arg != required_argument || optarg == NULL ||
	    optind < 1 || optarg != argv[optind - 1] ||
	    strncmp(optarg, "--", 2) != 0 || optarg[2] == '\0')
		return c;
	if ((n = strcspn(optarg + 2, "=")) == 0)
		return c;
	for (i = 0; opts[i].name != NULL; i++)
		if (strlen(opts[i].name) >= n &&
		    strncmp(opts[i].name, optarg + 2, n) == 0) {
			snprintf(bad_value, sizeof(bad_value), "option '--%s' "
			    "needs a value (got the option '%.*s')",
			    opts[idx].name, (int)(n + 2), optarg);
			return '?';
		}
	return c;
}

int
cmd_bad_option(const char *cmd, char **argv)
{
	const char *a = optind > 0 ? argv[optind - 1] : NULL;

	if (bad_value[0] != '\0') {
		int rc = cmd_usage_error(cmd, "%s", bad_value);
		bad_value[0] = '\0';
		return rc;
	}

	/* Global options go before the command ("--sto" too, as getopt
	 * would take it there). */
	if (a != NULL && strcspn(a, "=") >= 4 &&
	    strncmp("--store", a, strcspn(a, "=")) == 0)
		return cmd_usage_error(cmd, "--store goes before the command: "
		    "certmint --store PATH %s ...", cmd);
	if (a != NULL && strncmp(a, "--", 2) == 0)
		return cmd_usage_error(cmd, "option '%.*s': unknown, or its "
		    "value is missing or not allowed", (int)strcspn(a, "="), a);
	/* A short option inside a cluster leaves optind where it was. */
	return cmd_usage_error(cmd, "option '-%c': unknown, or its value is "
	    "missing", optopt ? optopt : '?');
}

char *
cmd_key_beside(const char *cert)
{
	static const char *const ext[] = { ".crt", ".pem", ".cer", ".der" };
	size_t n = strlen(cert), i, e;
	char *key;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		e = strlen(ext[i]);
		if (n > e && strcmp(cert + n - e, ext[i]) == 0 &&
		    cert[n - e - 1] != '/')
			break;
	}
	if (i == sizeof(ext) / sizeof(ext[0]))
		return NULL;
	if ((key = malloc(n - e + sizeof(".key"))) == NULL)
		return NULL;
	memcpy(key, cert, n - e);
	memcpy(key + n - e, ".key", sizeof(".key"));
	return key;
}

int
cmd_read_small_file(char **out, size_t *len, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r = 0;
	char *buf;

	*out = NULL;
	*len = 0;
	if (fd < 0) {
		fprintf(stderr, "certmint: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* read(2), not stdio: no copy of a key left in a freed buffer. */
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		fputs("certmint: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	while (n <= max && (r = read(fd, buf + n, max + 1 - n)) > 0)
		n += (size_t)r;
	if (r < 0 || n > max || n == 0) {
		fprintf(stderr, "certmint: %s: %s\n", path, r < 0 ?
		    strerror(errno) : n == 0 ? "empty" : "too large");
		explicit_bzero(buf, max + 1);
		free(buf);
		close(fd);
		return EXIT_USAGE;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return EXIT_OK;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
bool
cmd_split_hostport(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char *colon;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (e == NULL || e[1] != ':' || (size_t)(e - s - 1) >= hlen)
			return false;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= hlen)
			return false;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (colon[1] == '\0' || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	snprintf(port, plen, "%s", colon + 1);
	return host[0] != '\0';
}

/* A TCP connection to host:port within ms (socket timeouts ms), or -1
 * with errno set. */
int
cmd_connect(const char *host, const char *port, unsigned ms)
{
	struct addrinfo hints, *ai = NULL, *p;
	struct timeval tv;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	for (p = ai; p != NULL; p = p->ai_next) {
		if ((fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

void
cmd_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void
cmd_xml_str(const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default: putchar(*s);
		}
	}
}

const char *
cmd_http_path(int argc, char **argv)
{
	const char *path;

	if (optarg != NULL)
		path = optarg;
	else if (optind < argc && argv[optind][0] == '/')
		path = argv[optind++];
	else
		path = "/";
	if (path[0] != '/' || strpbrk(path, " \r\n\t") != NULL)
		return NULL;
	return path;
}
