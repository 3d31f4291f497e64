/* cmd_test_client.c - certmint test client [--cert REF] -- CMD [ARG...]:
 * judges a user's TLS client program from the server side. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

static const char client_usage[] =
"usage: certmint test client [--cert REF | FILE...] [--only S] [--format F]\n"
"           [--timeout T] [--runs N] [--strict] -- CMD [ARG...]\n"
"\n"
"Judges a TLS client program.  For each scenario certmint listens on\n"
"127.0.0.1 (a fresh port) with that scenario's certificate chain and\n"
"protocol settings and runs CMD once (no shell; stdin /dev/null).  The\n"
"verdict comes from the server side: 'accepted' when the client\n"
"completed the handshake and sent data, 'rejected' when it aborted the\n"
"handshake (its alert is shown) or closed without sending anything.\n"
"The server answers an HTTP request with 200 OK and echoes anything else.\n"
"\n"
"In ARGs (and in the environment as CERTMINT_ADDR, CERTMINT_PORT,\n"
"CERTMINT_NAME, CERTMINT_CA, CERTMINT_URL, CERTMINT_CLIENT_CERT,\n"
"CERTMINT_CLIENT_KEY):\n"
"  {addr}  127.0.0.1          {port}  the scenario's port\n"
"  {name}  the name the client must connect to and check\n"
"  {ca}    a PEM file with the trust anchors (one file for the run)\n"
"  {url}   https://{name}:{port}/\n"
"  {cert}, {key}  a client certificate and its key (PEM): a command line\n"
"          that names them (or CERTMINT_CLIENT_CERT) gets the mutual-TLS\n"
"          scenarios too (a server that requires a client certificate)\n"
"\n"
"  --cert REF     a server certificate of the store (its key kept) and\n"
"                 its CA (default: an ephemeral CA and a localhost leaf\n"
"                 made in memory: no store is needed, none is created)\n"
"  FILE...        scenario files (docs/scenarios.md) instead, before --:\n"
"                 each scenario's server side is served, and a scenario\n"
"                 that expects ok must be accepted, any other rejected;\n"
"                 {ca} holds the scenario's trust, {cert}/{key} its\n"
"                 client_cert/client_key\n"
"  --only S       scenarios whose name contains S\n"
"  --format F     table (default), json, tap, junit or html (one\n"
"                 self-contained page)\n"
"  --timeout T    per scenario: 500ms, 5s (default 10s)\n"
"  --runs N       run every scenario N times (N >= 1) and report a\n"
"                 scenario whose verdict changed (flaky)\n"
"  --strict       a warning scenario gone wrong fails too\n"
"\n"
"Severities: critical (the client accepts an untrusted, wrong-name,\n"
"expired, not-yet-valid, wrong-purpose or name-constraint-violating\n"
"certificate, or rejects a valid one), warning (it accepts TLS 1.0/1.1,\n"
"CBC/SHA-1 or 3DES suites, RSA key exchange), info (revocation: many\n"
"clients do not check it; reported, never failing).\n"
"\n"
"Exit: 0 no critical scenario went wrong, 1 one did (with --strict: or\n"
"a warning), 2 bad input (CMD not found, CMD never connected, --runs 0,\n"
"a bad scenario file), 3 store error, 4 TLS error.\n";

int cmd_test_client(cmd_env *env, int argc, char **argv);

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fputs("certmint: out of memory\n", stderr);
		exit(EXIT_STORE);
	}
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		fputs("certmint: out of memory\n", stderr);
		exit(EXIT_STORE);
	}
	return p;
}

typedef struct crow {
	const cm_client_scenario *cs;
	cm_client_verdict v;
	int status;          /* exit status, -1: killed / not run */
	bool connected;
	bool flaky;
	bool wrong;
	char out[512];       /* the client's output (first bytes) */
} crow;

/* argv[0] found: a path with '/', or on PATH. */
static bool
find_cmd(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path; *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, cmd);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

/* The values of the placeholders for one scenario. */
typedef struct place {
	const char *port, *name, *ca, *url, *cert, *key;
} place;

/* Substitutes {addr} {port} {name} {ca} {url} {cert} {key} in a. */
static char *
subst(const char *a, const place *pv)
{
	size_t cap = strlen(a) + 1, len = 0;
	char *o;
	const char *v;

	for (v = a; (v = strchr(v, '{')) != NULL; v++)
		cap += 4200;
	o = xmalloc(cap);
	while (*a) {
		const char *r = NULL;
		size_t k = 0;
		if (strncmp(a, "{addr}", 6) == 0) { r = "127.0.0.1"; k = 6; }
		else if (strncmp(a, "{port}", 6) == 0) { r = pv->port; k = 6; }
		else if (strncmp(a, "{name}", 6) == 0) { r = pv->name; k = 6; }
		else if (strncmp(a, "{ca}", 4) == 0) { r = pv->ca; k = 4; }
		else if (strncmp(a, "{url}", 5) == 0) { r = pv->url; k = 5; }
		else if (strncmp(a, "{cert}", 6) == 0) { r = pv->cert; k = 6; }
		else if (strncmp(a, "{key}", 5) == 0) { r = pv->key; k = 5; }
		if (r != NULL) {
			size_t l = strlen(r);
			memcpy(o + len, r, l);
			len += l;
			a += k;
		} else
			o[len++] = *a++;
	}
	o[len] = '\0';
	return o;
}

/* The command line asks for a client identity: mutual-TLS scenarios. */
static bool
wants_identity(char **cmd, int ncmd)
{
	int i;

	for (i = 0; i < ncmd; i++)
		if (strstr(cmd[i], "{cert}") || strstr(cmd[i], "{key}") ||
		    strstr(cmd[i], "CERTMINT_CLIENT_CERT") ||
		    strstr(cmd[i], "CERTMINT_CLIENT_KEY"))
			return true;
	return false;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* A descriptor that becomes readable when pid exits, or -1. */
static int
pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* One scenario: listen, run CMD, judge the first connection. */
static int
run_one(cmd_env *env, crow *r, char **cmd, int ncmd, const char *dir,
    const char *ca, unsigned ms)
{
	const cm_scenario *sc = r->cs->sc;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char port[16], url[600], outp[4200], certp[4200], keyp[4200];
	place pv;
	char **av;
	double end;
	pid_t pid;
	int lfd, fd = -1, i, st = 0, ofd, pfd;
	bool exited = false;
	cm_err err;

	memset(&r->v, 0, sizeof(r->v));
	r->v.alert = -1;
	r->status = -1;
	r->connected = false;
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return EXIT_CRYPTO;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		fprintf(stderr, "certmint: listen on 127.0.0.1: %s\n",
		    strerror(errno));
		close(lfd);
		return EXIT_CRYPTO;
	}
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	snprintf(url, sizeof(url), "https://%s:%s/", sc->expected_name ?
	    sc->expected_name : "localhost", port);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	snprintf(certp, sizeof(certp), "%s/client.crt", dir);
	snprintf(keyp, sizeof(keyp), "%s/client.key", dir);
	pv.port = port;
	pv.name = sc->expected_name ? sc->expected_name : "localhost";
	pv.ca = ca;
	pv.url = url;
	pv.cert = certp;
	pv.key = keyp;
	av = xmalloc(((size_t)ncmd + 1) * sizeof(*av));
	for (i = 0; i < ncmd; i++)
		av[i] = subst(cmd[i], &pv);
	av[ncmd] = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int nul = open("/dev/null", O_RDONLY);
		ofd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		setpgid(0, 0);
		close(lfd);
		if (nul >= 0)
			dup2(nul, 0);
		if (ofd >= 0) {
			dup2(ofd, 1);
			dup2(ofd, 2);
		}
		setenv("CERTMINT_ADDR", "127.0.0.1", 1);
		setenv("CERTMINT_PORT", port, 1);
		setenv("CERTMINT_NAME", pv.name, 1);
		setenv("CERTMINT_CA", ca, 1);
		setenv("CERTMINT_URL", url, 1);
		setenv("CERTMINT_CLIENT_CERT", certp, 1);
		setenv("CERTMINT_CLIENT_KEY", keyp, 1);
		execvp(av[0], av);
		_exit(127);
	}
	for (i = 0; i < ncmd; i++)
		free(av[i]);
	free(av);
	if (pid < 0) {
		fprintf(stderr, "certmint: fork: %s\n", strerror(errno));
		close(lfd);
		return EXIT_CRYPTO;
	}
	setpgid(pid, pid);
	end = now_ms() + ms;
	/* The client's end wakes the waits below at once where the kernel
	 * has pidfds (5.3); elsewhere they look every few milliseconds. */
	pfd = pidfd_of(pid);
	/* The first connection, or the client's end. */
	while (now_ms() < end) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { pfd, POLLIN, 0 } };
		if (poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 ? 1000 : 50) > 0 &&
		    (p[0].revents & POLLIN)) {
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				break;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			exited = true;
			break;
		}
	}
	close(lfd);
	if (fd >= 0) {
		double left = end - now_ms();
		r->connected = true;
		err = cm_client_judge(&r->v, env->ctx, fd, sc,
		    left > 100 ? (unsigned)left : 100);
		close(fd);
		if (err != CM_OK) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return cmd_fail(env, err);
		}
	} else if (!exited)
		snprintf(r->v.note, sizeof(r->v.note), "no connection within "
		    "%u ms", ms);
	else
		snprintf(r->v.note, sizeof(r->v.note), "no connection");
	while (!exited && now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			exited = true;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { pfd, POLLIN, 0 };
			double left = end - now_ms();
			(void)poll(&p, 1, left > 1000 ? 1000 : left < 1 ? 1 :
			    (int)left);
		} else
			usleep(2000);
	}
	if (pfd >= 0)
		close(pfd);
	if (!exited) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
		r->status = -1;
	} else
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	kill(-pid, SIGKILL); /* what it left behind */
	{
		FILE *f = fopen(outp, "r");
		size_t n = 0;
		if (f != NULL) {
			n = fread(r->out, 1, sizeof(r->out) - 1, f);
			fclose(f);
		}
		r->out[n] = '\0';
		unlink(outp);
	}
	return EXIT_OK;
}

static const char *
verdict(const crow *r)
{
	return r->v.accepted ? "accepted" : "rejected";
}

static void
fail_line(FILE *f, const crow *r)
{
	char ex[32];

	if (r->status < 0)
		snprintf(ex, sizeof(ex), "killed");
	else
		snprintf(ex, sizeof(ex), "exit %d", r->status);
	if (r->v.accepted)
		fprintf(f, "FAIL %s: the client accepted %s (%s, sent %zu "
		    "bytes)\n", r->cs->sc->name, r->cs->what, ex, r->v.bytes);
	else
		fprintf(f, "FAIL %s: the client rejected %s (%s, %s)\n",
		    r->cs->sc->name, r->cs->what, r->v.note[0] ? r->v.note :
		    "rejected", ex);
}

static const char *
disagree(const crow *r)
{
	if (r->status == 0 && !r->v.accepted)
		return "exit 0 without sending data";
	if (r->status != 0 && r->v.accepted)
		return "sent data but exit non-zero";
	return NULL;
}

/* The page of --format html: one column, the client. */
static void
html(cm_ctx *ctx, crow *rows, size_t n)
{
	cm_report_cell *cells = xcalloc(n ? n : 1, sizeof(*cells));
	char (*det)[700] = xcalloc(n ? n : 1, sizeof(*det));
	size_t i;

	for (i = 0; i < n; i++) {
		crow *r = &rows[i];
		const char *d = disagree(r);
		char ex[16];
		if (r->status >= 0)
			snprintf(ex, sizeof(ex), "exit %d", r->status);
		else
			snprintf(ex, sizeof(ex), "killed");
		snprintf(det[i], sizeof(det[i]), "%s: %s; %s%s%s, %zu bytes%s%s"
		    "%s%s", cm_severity_name(r->cs->severity), r->cs->what, ex,
		    r->v.alert_name ? ", alert " : "", r->v.alert_name ?
		    r->v.alert_name : "", r->v.bytes, r->v.note[0] ? "; " : "",
		    r->v.note, d ? "; DISAGREES: " : "", d ? d : "");
		cells[i].row = r->cs->sc->name;
		cells[i].col = "client";
		cells[i].actual = r->flaky ? "flaky" : verdict(r);
		cells[i].expected = r->cs->accept ? "accept" : "reject";
		cells[i].detail = det[i];
		cells[i].state = !r->wrong && !r->flaky ? CM_CELL_OK :
		    r->cs->severity == CM_SEV_CRITICAL ? CM_CELL_WRONG :
		    r->cs->severity == CM_SEV_WARNING ? CM_CELL_WARN :
		    CM_CELL_INFO;
	}
	if (cm_report_write_grid(stdout, ctx, "certmint test client", cells,
	    n) != CM_OK)
		fprintf(stderr, "certmint: %s\n", cm_ctx_error(ctx));
	free(det);
	free(cells);
}

static void
report(cm_ctx *ctx, const char *fmt, crow *rows, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		bad += rows[i].wrong;
	if (strcmp(fmt, "json") == 0) {
		printf("{\"scenarios\": [");
		for (i = 0; i < n; i++) {
			crow *r = &rows[i];
			const char *d = disagree(r);
			printf("%s\n  {\"scenario\": ", i ? "," : "");
			cmd_json_str(r->cs->sc->name);
			printf(", \"severity\": \"%s\", \"expected\": \"%s\", "
			    "\"verdict\": \"%s\", \"alert\": ",
			    cm_severity_name(r->cs->severity),
			    r->cs->accept ? "accept" : "reject", verdict(r));
			if (r->v.alert_name)
				cmd_json_str(r->v.alert_name);
			else
				printf("null");
			printf(", \"client_exit\": ");
			if (r->status >= 0)
				printf("%d", r->status);
			else
				printf("null");
			printf(", \"bytes\": %zu, \"wrong\": %s, \"flaky\": %s, "
			    "\"note\": ", r->v.bytes, r->wrong ? "true" :
			    "false", r->flaky ? "true" : "false");
			if (d)
				cmd_json_str(d);
			else
				cmd_json_str(r->v.note);
			printf("}");
		}
		printf("\n], \"wrong\": %zu}\n", bad);
		return;
	}
	if (strcmp(fmt, "tap") == 0) {
		printf("1..%zu\n", n);
		for (i = 0; i < n; i++)
			printf("%sok %zu - %s %s: %s%s\n", rows[i].wrong ?
			    "not " : "", i + 1, rows[i].cs->sc->name,
			    cm_severity_name(rows[i].cs->severity),
			    verdict(&rows[i]), rows[i].flaky ? " (flaky)" :
			    "");
		return;
	}
	if (strcmp(fmt, "junit") == 0) {
		printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<testsuites><testsuite name=\"certmint test client\" "
		    "tests=\"%zu\" failures=\"%zu\">\n", n, bad);
		for (i = 0; i < n; i++) {
			printf("<testcase name=\"");
			cmd_xml_str(rows[i].cs->sc->name);
			printf("\">");
			if (rows[i].wrong) {
				printf("<failure message=\"%s: expected %s, "
				    "got %s\"/>", cm_severity_name(
				    rows[i].cs->severity), rows[i].cs->accept ?
				    "accept" : "reject", verdict(&rows[i]));
			}
			printf("</testcase>\n");
		}
		printf("</testsuite></testsuites>\n");
		return;
	}
	if (strcmp(fmt, "html") == 0) {
		html(ctx, rows, n);
		return;
	}
	printf("%-36s %-8s %-8s %-8s %-22s %4s %6s  %s\n", "SCENARIO",
	    "SEVERITY", "EXPECTED", "VERDICT", "ALERT", "EXIT", "BYTES",
	    "NOTE");
	for (i = 0; i < n; i++) {
		crow *r = &rows[i];
		const char *d = disagree(r);
		char ex[16];
		if (r->status >= 0)
			snprintf(ex, sizeof(ex), "%d", r->status);
		else
			snprintf(ex, sizeof(ex), "-");
		printf("%-36s %-8s %-8s %-8s %-22s %4s %6zu  %s%s%s%s\n",
		    r->cs->sc->name, cm_severity_name(r->cs->severity),
		    r->cs->accept ? "accept" : "reject", verdict(r),
		    r->v.alert_name ? r->v.alert_name : "-", ex, r->v.bytes,
		    r->wrong ? "WRONG " : "", r->flaky ? "FLAKY " : "",
		    d ? "DISAGREES: " : "", d ? d : r->v.note);
	}
}

/* A throwaway store in memory: an ephemeral CA and a localhost leaf (the
 * keys never touch the disk). */
static cm_err
ephemeral(cm_store **st, cmd_env *env, const char *dir, char *ref,
    size_t rlen)
{
	cm_ca_init_opts co = CM_CA_INIT_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	const char *names[] = { "localhost", "127.0.0.1" };
	cm_cert_info *c = NULL;
	cm_err err;

	(void)dir;
	if ((err = cm_store_open(st, env->ctx, NULL, CM_STORE_MEMORY)) !=
	    CM_OK)
		return err;
	co.name = "certmint test client CA";
	if ((err = cm_ca_init(NULL, *st, &co)) != CM_OK)
		return err;
	io.names = names;
	io.nnames = 2;
	io.key_type = CM_KEY_RSA_2048;
	io.days = 7;
	if ((err = cm_issue(&c, *st, &io)) != CM_OK)
		return err;
	snprintf(ref, rlen, "%s", c->serial);
	cm_cert_info_free(c);
	return CM_OK;
}

static void
rm_tree(const char *dir)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/store/certmint.db-wal", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/store/certmint.db-shm", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/store/certmint.db", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/store", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/ca.pem", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/out", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/client.crt", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/client.key", dir);
	unlink(p);
	rmdir(dir);
}

/* Writes text to path (mode; the folder is private), one line on error. */
static int
write_text(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "certmint: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The scenarios of files, as a client program must take them: the server
 * side of each, accepted when it expects ok (critical either way).  A
 * store is opened only when a file names its objects.
 */
static int
files_matrix(cm_client_scenario **out, size_t *n, cm_store **st,
    cmd_env *env, char **files, size_t nfiles)
{
	cm_client_scenario *v = NULL;
	cm_scenario **list = NULL;
	char first[512];
	size_t cap = 0, nl = 0, i, j;
	cm_err err = CM_OK;

	*n = 0;
	for (i = 0; i < nfiles; i++) {
		err = cm_scenario_file_load(&list, &nl, env->ctx, *st,
		    files[i]);
		if (err != CM_OK && *st == NULL) {
			/* Perhaps it names the store's objects. */
			snprintf(first, sizeof(first), "%s",
			    cm_ctx_error(env->ctx));
			if (cmd_open_store(st, env, false) != CM_OK) {
				*st = NULL;
				fprintf(stderr, "certmint: %s\n", first);
				cm_client_matrix_free(v, *n);
				*n = 0;
				return EXIT_USAGE;
			}
			err = cm_scenario_file_load(&list, &nl, env->ctx, *st,
			    files[i]);
		}
		if (err != CM_OK)
			break;
		for (j = 0; j < nl; j++) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				v = realloc(v, cap * sizeof(*v));
				if (v == NULL) {
					fputs("certmint: out of memory\n",
					    stderr);
					exit(EXIT_STORE);
				}
			}
			v[*n].sc = list[j];
			v[*n].accept = list[j]->expect == CM_OUTCOME_OK;
			v[*n].severity = CM_SEV_CRITICAL;
			v[*n].what = list[j]->note ? list[j]->note :
			    (v[*n].accept ? "the scenario's valid server" :
			    "the scenario's server");
			(*n)++;
		}
		free(list);
		list = NULL;
	}
	if (err != CM_OK) {
		cm_client_matrix_free(v, *n);
		*n = 0;
		return cmd_fail(env, err);
	}
	*out = v;
	return EXIT_OK;
}

int
cmd_test_client(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "runs", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cert = NULL, *only = NULL, *fmt = "table";
	char dir[] = "/tmp/certmint-client.XXXXXX", ref[128], capath[4200];
	char certp[4200], keyp[4200];
	char **files = NULL;
	size_t nfiles = 0;
	bool identity = false;
	cm_client_scenario *cs = NULL;
	cm_store *st = NULL;
	crow *rows = NULL;
	char *ca = NULL;
	size_t n = 0, i, nrows = 0, connected = 0;
	unsigned runs = 1, ms = 10000, k;
	unsigned long long span;
	bool strict = false, made = false;
	int c, rc = EXIT_OK;
	cm_err err;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "+h", opts)) != -1) {
		switch (c) {
		case 'c': cert = optarg; break;
		case 'o': only = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json") &&
			    strcmp(optarg, "tap") && strcmp(optarg, "junit") &&
			    strcmp(optarg, "html"))
				return cmd_usage_error("test client", "--format "
				    "'%s': table, json, tap, junit or html",
				    optarg);
			fmt = optarg;
			break;
		case 'T':
			if (!cmd_parse_ms(optarg, 1, 600000, &span))
				return cmd_usage_error("test client", "--timeout "
				    "'%s' is not a time up to 10m (500ms, 5s; a "
				    "bare number is milliseconds)", optarg);
			ms = (unsigned)span;
			break;
		case 'r':
			if (!cmd_parse_uint(optarg, 1000, &runs) || runs == 0)
				return cmd_usage_error("test client", "--runs "
				    "'%s' is not a number from 1 to 1000",
				    optarg);
			break;
		case 'S': strict = true; break;
		case 'h':
			fputs(client_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("test client", argv);
		}
	}
	/* Scenario files come before "--" (getopt stopped at the first). */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		int j;
		for (j = optind; j < argc && strcmp(argv[j], "--") != 0; j++)
			;
		if (j < argc) {
			files = argv + optind;
			nfiles = (size_t)(j - optind);
			optind = j + 1;
		}
	}
	if (nfiles > 0 && cert != NULL)
		return cmd_usage_error("test client", "--cert and scenario "
		    "files exclude each other");
	if (optind >= argc)
		return cmd_usage_error("test client", "no client command "
		    "(certmint test client -- CMD [ARG...])");
	identity = wants_identity(argv + optind, argc - optind);
	if (!find_cmd(argv[optind])) {
		fprintf(stderr, "certmint: client command '%s' not found\n",
		    argv[optind]);
		return EXIT_USAGE;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "certmint: temporary folder: %s\n",
		    strerror(errno));
		return EXIT_STORE;
	}
	made = true;
	err = CM_OK;
	if (nfiles > 0) {
		if ((rc = files_matrix(&cs, &n, &st, env, files, nfiles)) !=
		    EXIT_OK)
			goto out;
		if ((ca = strdup(n > 0 && cs[0].sc->trust ? cs[0].sc->trust :
		    "")) == NULL) {
			fputs("certmint: out of memory\n", stderr);
			rc = EXIT_STORE;
			goto out;
		}
	} else if (cert == NULL) {
		err = ephemeral(&st, env, dir, ref, sizeof(ref));
		cert = ref;
	} else
		err = cmd_open_store(&st, env, false);
	if (err == CM_OK && nfiles == 0)
		err = cm_client_matrix(&cs, &n, &ca, st, cert);
	if (err != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	snprintf(capath, sizeof(capath), "%s/ca.pem", dir);
	snprintf(certp, sizeof(certp), "%s/client.crt", dir);
	snprintf(keyp, sizeof(keyp), "%s/client.key", dir);
	if (write_text(capath, ca, 0644) != 0) {
		rc = EXIT_STORE;
		goto out;
	}
	/* One identity for the run, as {ca} is one file: every scenario's
	 * command line names it. */
	for (i = 0; identity && i < n; i++) {
		if (cs[i].sc->client_chain == NULL ||
		    cs[i].sc->client_key == NULL)
			continue;
		if (write_text(certp, cs[i].sc->client_chain, 0644) != 0 ||
		    write_text(keyp, cs[i].sc->client_key, 0600) != 0) {
			rc = EXIT_STORE;
			goto out;
		}
		break;
	}
	rows = xcalloc(n ? n : 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		crow *r;
		if (only && strstr(cs[i].sc->name, only) == NULL)
			continue;
		/* Mutual TLS only for a command that presents {cert}. */
		if (nfiles == 0 && cs[i].sc->client_auth !=
		    CM_CLIENT_AUTH_NONE && !identity)
			continue;
		r = &rows[nrows++];
		r->cs = &cs[i];
		if ((nfiles > 0 && cs[i].sc->trust != NULL &&
		    write_text(capath, cs[i].sc->trust, 0644) != 0) ||
		    (nfiles > 0 && cs[i].sc->client_chain != NULL &&
		    cs[i].sc->client_key != NULL && (write_text(certp,
		    cs[i].sc->client_chain, 0644) != 0 || write_text(keyp,
		    cs[i].sc->client_key, 0600) != 0))) {
			rc = EXIT_STORE;
			goto out;
		}
		for (k = 0; k < runs; k++) {
			bool was = r->v.accepted;
			if ((rc = run_one(env, r, argv + optind, argc - optind,
			    dir, capath, ms)) != EXIT_OK)
				goto out;
			if (k > 0 && was != r->v.accepted)
				r->flaky = true;
			if (r->connected)
				connected++;
			if (r->cs->accept != r->v.accepted)
				r->wrong = true;
		}
	}
	if (nrows == 0) {
		rc = cmd_usage_error("test client", "--only '%s' matches no "
		    "scenario", only);
		goto out;
	}
	if (connected == 0) {
		fprintf(stderr, "certmint: client '%s' never connected (every "
		    "scenario rejected: no connection)%s%.200s\n",
		    argv[optind], rows[0].out[0] ? "; its output: " : "",
		    rows[0].out);
		rc = EXIT_USAGE;
		goto out;
	}
	report(env->ctx, fmt, rows, nrows);
	for (i = 0; i < nrows; i++) {
		crow *r = &rows[i];
		if (r->flaky)
			fprintf(stderr, "FLAKY %s: the verdict changed between "
			    "runs\n", r->cs->sc->name);
		if (!r->wrong && !r->flaky)
			continue;
		if (r->cs->severity == CM_SEV_CRITICAL || (strict &&
		    r->cs->severity == CM_SEV_WARNING))
			rc = EXIT_MISMATCH;
		if (r->wrong && r->cs->severity != CM_SEV_INFO) {
			fail_line(stderr, r);
			if (!r->v.accepted && r->out[0])
				fprintf(stderr, "  client output: %.300s\n",
				    r->out);
		}
	}
out:
	free(rows);
	free(ca);
	cm_client_matrix_free(cs, n);
	cm_store_close(st);
	if (made)
		rm_tree(dir);
	return rc;
}
