/*
 * failpoint.c - named points where a test build dies or fails on request,
 * so that crash safety is tested by make check, not argued (STYLE.md,
 * "Tests"; after FreeBSD's fail(9) and SQLite's test builds).
 *
 * Compiled only with configure --enable-failpoints (CM_FAILPOINTS); in a
 * release build cm__failpoint() is a macro that costs nothing.
 *
 *   CERTMINT_FAILPOINT=NAME[:N][:ACTION]
 *	the Nth time (default 1) the process reaches point NAME it dies by
 *	SIGKILL (ACTION kill, the default: nothing runs after it, as with a
 *	power cut or the OOM killer) or the call fails with CM_E_IO and the
 *	message "failpoint NAME" (ACTION fail: the error paths run).
 *   CERTMINT_FAILPOINT_LOG=FILE
 *	every point reached is appended to FILE, one name a line, so that a
 *	test can list the points a command passes and sweep them all.
 *
 * The state is per process, not per context: a failpoint says where in
 * the program a crash happens, whichever context gets there.  It is the
 * one global of the library, and exists only in test builds.
 */
#include "config.h"

#ifdef CM_FAILPOINTS

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static unsigned long hits;

static void
log_point(const char *name)
{
	const char *path = getenv("CERTMINT_FAILPOINT_LOG");
	char line[128];
	size_t n;
	int fd;

	if (path == NULL || *path == '\0')
		return;
	n = strlen(name);
	if (n + 1 > sizeof(line))
		return;
	memcpy(line, name, n);
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* One write of one line: O_APPEND keeps lines of several processes
	 * whole. */
	if (write(fd, line, n) < 0)
		(void)0;
	close(fd);
}

cm_err
cm__failpoint(cm_ctx *ctx, const char *name)
{
	const char *spec = getenv("CERTMINT_FAILPOINT");
	const char *p;
	unsigned long want = 1;
	size_t len;
	bool kill_it = true;

	log_point(name);
	if (spec == NULL || *spec == '\0')
		return CM_OK;
	p = strchr(spec, ':');
	len = p != NULL ? (size_t)(p - spec) : strlen(spec);
	if (len != strlen(name) || strncmp(spec, name, len) != 0)
		return CM_OK;
	while (p != NULL) {
		const char *f = p + 1;
		char *end;

		p = strchr(f, ':');
		if (strncmp(f, "fail", 4) == 0 && (f[4] == ':' || f[4] == '\0'))
			kill_it = false;
		else if (strncmp(f, "kill", 4) == 0 &&
		    (f[4] == ':' || f[4] == '\0'))
			kill_it = true;
		else {
			errno = 0;
			want = strtoul(f, &end, 10);
			if (errno != 0 || end == f || want == 0)
				want = 1;
		}
	}
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) != want)
		return CM_OK;
	if (kill_it) {
		raise(SIGKILL);
		_exit(137);
	}
	return cm__fail(ctx, CM_E_IO, "failpoint %s", name);
}

#else

/* ISO C wants a translation unit to declare something. */
typedef int cm__no_failpoints;

#endif
