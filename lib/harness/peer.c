/*
 * peer.c - scenarios with one side replaced by a real TLS tool: openssl
 * s_client/s_server, a python3 ssl client/server (script embedded below),
 * gnutls-cli and curl as clients.  The GnuTLS end of the scenario runs on
 * a socket on 127.0.0.1; the tool's verdict comes from its numeric verify
 * result (OpenSSL X509_V_ERR_* codes: s_client/s_server "verify
 * error:num=N", python's SSLCertVerificationError.verify_code, curl's
 * %{ssl_verify_result}) or, where a tool reports none, from the alert it
 * sent.  A tool that is not installed gives a skipped result.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "harness.h"

extern char **environ;

#define OUT_MAX (256u * 1024)
#define MAX_ARGS 40

/* The python3 peer: client or server, one connection, one RESULT line. */
static const char python_peer[] =
"import socket, ssl, sys\n"
"ALERTS = {'CERTIFICATE_REQUIRED': 116, 'BAD_CERTIFICATE': 42,\n"
"  'UNKNOWN_CA': 48, 'CERTIFICATE_EXPIRED': 45,\n"
"  'UNSUPPORTED_CERTIFICATE': 43, 'HANDSHAKE_FAILURE': 40,\n"
"  'CERTIFICATE_UNKNOWN': 46, 'ACCESS_DENIED': 49, 'DECODE_ERROR': 50,\n"
"  'CERTIFICATE_REVOKED': 44, 'PROTOCOL_VERSION': 70,\n"
"  'INTERNAL_ERROR': 80, 'ILLEGAL_PARAMETER': 47}\n"
"def result(e):\n"
"    if isinstance(e, ssl.SSLCertVerificationError):\n"
"        return 'verify %d' % e.verify_code\n"
"    r = getattr(e, 'reason', None) or ''\n"
"    if r == 'PEER_DID_NOT_RETURN_A_CERTIFICATE':\n"
"        return 'nocert 0'\n"
"    for k, v in ALERTS.items():\n"
"        if 'ALERT_' + k in r:\n"
"            return 'alert %d' % v\n"
"    return 'error 0'\n"
"def main(a):\n"
"    role, port, trust, name, cert, key, ver, auth, crl = a[:9]\n"
"    if role == 'client':\n"
"        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
"        c.load_verify_locations(trust)\n"
"        if crl != '-':\n"
"            c.load_verify_locations(crl)\n"
"            c.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF\n"
"        c.check_hostname = name != '-'\n"
"    else:\n"
"        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
"        c.load_cert_chain(cert, key)\n"
"        c.verify_mode = {'none': ssl.CERT_NONE, 'request':\n"
"            ssl.CERT_OPTIONAL, 'require': ssl.CERT_REQUIRED}[auth]\n"
"        if auth != 'none':\n"
"            c.load_verify_locations(trust)\n"
"            if crl != '-':\n"
"                c.load_verify_locations(crl)\n"
"                c.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF\n"
"    if role == 'client' and cert != '-':\n"
"        c.load_cert_chain(cert, key)\n"
"    v = {'12': ssl.TLSVersion.TLSv1_2, '13': ssl.TLSVersion.TLSv1_3}\n"
"    if ver in v:\n"
"        c.minimum_version = c.maximum_version = v[ver]\n"
"    if role == 'client':\n"
"        s = socket.create_connection(('127.0.0.1', int(port)), 5)\n"
"        try:\n"
"            t = c.wrap_socket(s, server_hostname=None if name == '-'\n"
"                else name)\n"
"            t.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
"            t.recv(100)\n"
"            print('RESULT ok 0', flush=True)\n"
"        except (ssl.SSLError, OSError) as e:\n"
"            print('RESULT ' + result(e), flush=True)\n"
"        return\n"
"    l = socket.socket()\n"
"    l.bind(('127.0.0.1', 0))\n"
"    l.listen(1)\n"
"    l.settimeout(5)\n"
"    print('PORT %d' % l.getsockname()[1], flush=True)\n"
"    s, _ = l.accept()\n"
"    s.settimeout(5)\n"
"    try:\n"
"        t = c.wrap_socket(s, server_side=True)\n"
"        t.recv(100)\n"
"        t.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
"        t.close()\n"
"        print('RESULT ok 0', flush=True)\n"
"    except (ssl.SSLError, OSError) as e:\n"
"        print('RESULT ' + result(e), flush=True)\n"
"main(sys.argv[1:])\n";

typedef struct tmpfiles {
	char dir[256];
	char leaf[300], extra[300], key[300], trust[300];
	char ccert[300], ckey[300], ctrust[300], crl[300], ccrl[300];
	bool has_extra;
} tmpfiles;

static bool
in_path(const char *prog)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	for (p = path ? path : "/usr/bin:/bin"; *p; p = *e ? e + 1 : e) {
		size_t n;
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n > 0 && n + strlen(prog) + 2 < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '/';
			memcpy(buf + n + 1, prog, strlen(prog) + 1);
			if (access(buf, X_OK) == 0)
				return true;
		}
	}
	return false;
}

static cm_err
write_tmp(cm_ctx *ctx, const char *path, const char *data, size_t len)
{
	int fd;
	ssize_t n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		return cm__errno_fail(ctx, errno, "peer: %s", path);
	n = write(fd, data, len);
	close(fd);
	if (n < 0 || (size_t)n != len)
		return cm__errno_fail(ctx, n < 0 ? errno : EIO, "peer: %s",
		    path);
	return CM_OK;
}

static void
tmp_cleanup(tmpfiles *t)
{
	const char *f[] = { t->leaf, t->extra, t->key, t->trust, t->ccert,
		t->ckey, t->ctrust, t->crl, t->ccrl };
	size_t i;

	if (t->dir[0] == '\0')
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i][0])
			unlink(f[i]);
	rmdir(t->dir);
}

static cm_err
tmp_setup(tmpfiles *t, cm_ctx *ctx, const cm_scenario *sc)
{
	const char *tmp = getenv("TMPDIR");
	const char *second;
	cm_err err = CM_OK;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/certmint-peer.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(t->dir) == NULL) {
		err = cm__errno_fail(ctx, errno, "peer: temporary folder");
		t->dir[0] = '\0';
		return err;
	}
#define F(field, nm) snprintf(t->field, sizeof(t->field), "%s/" nm, t->dir)
	if (sc->server_chain) {
		/* OpenSSL wants the leaf and the rest of the chain apart. */
		second = strstr(sc->server_chain, "-----END CERTIFICATE-----");
		second = second ? strstr(second, "-----BEGIN") : NULL;
		F(leaf, "leaf.pem");
		err = write_tmp(ctx, t->leaf, sc->server_chain, second ?
		    (size_t)(second - sc->server_chain) :
		    strlen(sc->server_chain));
		if (err == CM_OK && second) {
			F(extra, "extra.pem");
			t->has_extra = true;
			err = write_tmp(ctx, t->extra, second, strlen(second));
		}
	}
	if (err == CM_OK && sc->server_key) {
		F(key, "key.pem");
		err = write_tmp(ctx, t->key, sc->server_key,
		    strlen(sc->server_key));
	}
	if (err == CM_OK && sc->trust) {
		F(trust, "trust.pem");
		err = write_tmp(ctx, t->trust, sc->trust, strlen(sc->trust));
	}
	if (err == CM_OK && sc->client_chain && sc->client_key) {
		F(ccert, "client.pem");
		F(ckey, "client-key.pem");
		err = write_tmp(ctx, t->ccert, sc->client_chain,
		    strlen(sc->client_chain));
		if (err == CM_OK)
			err = write_tmp(ctx, t->ckey, sc->client_key,
			    strlen(sc->client_key));
	}
	if (err == CM_OK && sc->client_trust) {
		F(ctrust, "client-trust.pem");
		err = write_tmp(ctx, t->ctrust, sc->client_trust,
		    strlen(sc->client_trust));
	}
	if (err == CM_OK && sc->crl) {
		F(crl, "crl.pem");
		err = write_tmp(ctx, t->crl, sc->crl, strlen(sc->crl));
	}
	if (err == CM_OK && sc->client_crl) {
		F(ccrl, "client-crl.pem");
		err = write_tmp(ctx, t->ccrl, sc->client_crl,
		    strlen(sc->client_crl));
	}
#undef F
	if (err != CM_OK)
		tmp_cleanup(t);
	return err;
}

/* A running tool: its pid and the read end of its stdout+stderr. */
typedef struct proc {
	pid_t pid;
	int out;
	char *buf;
	size_t len;
} proc;

static cm_err
spawn(proc *p, cm_ctx *ctx, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int pfd[2], rc;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->out = -1;
	if ((p->buf = calloc(1, OUT_MAX + 1)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return cm__errno_fail(ctx, errno, "peer: pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		p->pid = -1;
		return cm__errno_fail(ctx, rc, "peer: cannot run %s", argv[0]);
	}
	p->out = pfd[0];
	return CM_OK;
}

/*
 * Reads the tool's output until EOF, a line starting with want (when not
 * NULL), or the deadline.  True when want was seen or EOF reached.
 */
static bool
drain(proc *p, const char *want, double deadline)
{
	struct pollfd pfd;
	ssize_t n;
	int ms;

	while (p->out >= 0) {
		if (want != NULL) {
			const char *l = p->buf;
			while (l != NULL) {
				if (strncmp(l, want, strlen(want)) == 0 &&
				    strchr(l, '\n') != NULL)
					return true;
				l = strchr(l, '\n');
				l = l ? l + 1 : NULL;
			}
		}
		ms = (int)(deadline - cm__now_ms());
		if (ms <= 0)
			return false;
		pfd.fd = p->out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) <= 0)
			continue;
		if (p->len >= OUT_MAX) {
			char sink[4096];
			n = read(p->out, sink, sizeof(sink));
		} else {
			n = read(p->out, p->buf + p->len, OUT_MAX - p->len);
			if (n > 0)
				p->len += (size_t)n;
		}
		if (n == 0) {
			close(p->out);
			p->out = -1;
			return want == NULL;
		}
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			close(p->out);
			p->out = -1;
		}
	}
	return want == NULL;
}

/* Waits for the tool until the deadline, then kills it.  Its exit code,
 * or -1 when it had to be killed. */
static int
reap(proc *p, double deadline)
{
	int st = 0;
	pid_t r;

	if (p->pid <= 0)
		return -1;
	drain(p, NULL, deadline);
	for (;;) {
		r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid)
			break;
		if (r < 0 || cm__now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			p->pid = -1;
			return -1;
		}
		usleep(2000);
	}
	p->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
proc_clear(proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->out >= 0)
		close(p->out);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* The number after the last occurrence of key in the output, or -1. */
static long
find_num(const proc *p, const char *key)
{
	const char *s = p->buf, *hit = NULL;
	char *end;
	long v;

	while ((s = strstr(s, key)) != NULL) {
		hit = s;
		s += strlen(key);
	}
	if (hit == NULL)
		return -1;
	v = strtol(hit + strlen(key), &end, 10);
	return end == hit + strlen(key) ? -1 : v;
}

/* OpenSSL X509_V_ERR_* -> class (see x509_vfy.h). */
static cm_outcome
outcome_from_x509(long code, bool peer_is_client)
{
	cm_outcome o;

	switch (code) {
	case 0:
		return CM_OUTCOME_OK;
	case 9:
		o = CM_OUTCOME_NOT_YET_VALID;
		break;
	case 10:
		o = CM_OUTCOME_EXPIRED;
		break;
	case 23:
		return peer_is_client ? CM_OUTCOME_CLIENT_REVOKED :
		    CM_OUTCOME_REVOKED;
	case 26:
		o = CM_OUTCOME_PURPOSE;
		break;
	case 47: case 48: case 49: case 51: case 53:
		return CM_OUTCOME_NAME_CONSTRAINTS;
	case 62: case 63: case 64:
		return CM_OUTCOME_HOSTNAME;
	default:
		o = CM_OUTCOME_UNTRUSTED;
		break;
	}
	if (!peer_is_client)
		return o;
	if (o == CM_OUTCOME_EXPIRED || o == CM_OUTCOME_NOT_YET_VALID)
		return CM_OUTCOME_CLIENT_EXPIRED;
	if (o == CM_OUTCOME_PURPOSE)
		return CM_OUTCOME_CLIENT_PURPOSE;
	return CM_OUTCOME_CLIENT_UNTRUSTED;
}

/* 12, 13 or 0 (any) from a priority string. */
static int
prio_version(const char *prio)
{
	bool v12, v13;

	if (prio == NULL || strstr(prio, "-VERS-ALL") == NULL)
		return 0;
	/* The floor lists both and takes one away (CM_PRIORITY_TLS12). */
	v12 = strstr(prio, "+VERS-TLS1.2") != NULL &&
	    strstr(prio, "-VERS-TLS1.2") == NULL;
	v13 = strstr(prio, "+VERS-TLS1.3") != NULL &&
	    strstr(prio, "-VERS-TLS1.3") == NULL;
	return v12 && !v13 ? 12 : v13 && !v12 ? 13 : 0;
}

static bool
is_ip(const char *s)
{
	unsigned char b[16];

	return s && (inet_pton(AF_INET, s, b) == 1 ||
	    inet_pton(AF_INET6, s, b) == 1);
}

typedef struct argv_b {
	char *v[MAX_ARGS + 1];
	char store[MAX_ARGS][320];
	int n;
} argv_b;

static void
arg(argv_b *a, const char *s)
{
	if (a->n < MAX_ARGS) {
		snprintf(a->store[a->n], sizeof(a->store[a->n]), "%s", s);
		a->v[a->n] = a->store[a->n];
		a->v[++a->n] = NULL;
	}
}

/* Result line of the python peer: "RESULT kind code". */
static bool
python_result(const proc *p, char *kind, size_t klen, long *code)
{
	const char *r = strstr(p->buf, "RESULT ");
	char k[16];
	long c;

	if (r == NULL || sscanf(r + 7, "%15s %ld", k, &c) != 2)
		return false;
	snprintf(kind, klen, "%s", k);
	*code = c;
	return true;
}

static const char *
tool_of(cm_peer peer)
{
	switch (peer) {
	case CM_PEER_OPENSSL: return "openssl";
	case CM_PEER_PYTHON:
		/* CERTMINT_PYTHON: another interpreter (tests skip the
		 * slow pyenv shim with it). */
		return getenv("CERTMINT_PYTHON") && *getenv("CERTMINT_PYTHON") ?
		    getenv("CERTMINT_PYTHON") : "python3";
	case CM_PEER_GNUTLS_CLI: return "gnutls-cli";
	case CM_PEER_CURL: return "curl";
	default: return NULL;
	}
}

/* ---- the tool is the client; GnuTLS serves ------------------------------ */

static void
client_args(argv_b *a, const cm_scenario *sc, const tmpfiles *t,
    cm_peer peer, int port)
{
	const char *prio = sc->client_priority ? sc->client_priority :
	    sc->priority;
	const char *name = sc->expected_name;
	int ver = prio_version(prio);
	char buf[320];

	switch (peer) {
	case CM_PEER_OPENSSL:
		arg(a, "openssl");
		arg(a, "s_client");
		snprintf(buf, sizeof(buf), "127.0.0.1:%d", port);
		arg(a, "-connect");
		arg(a, buf);
		arg(a, "-CAfile");
		arg(a, t->trust);
		arg(a, "-verify_return_error");
		if (t->crl[0]) {
			arg(a, "-CRL");
			arg(a, t->crl);
			arg(a, "-crl_check");
		}
		if (name && is_ip(name) && !sc->name_as_dns) {
			arg(a, "-verify_ip");
			arg(a, name);
		} else if (name) {
			arg(a, "-verify_hostname");
			arg(a, name);
			if (!is_ip(name)) {
				arg(a, "-servername");
				arg(a, name);
			}
		}
		if (t->ccert[0]) {
			arg(a, "-cert");
			arg(a, t->ccert);
			arg(a, "-key");
			arg(a, t->ckey);
		}
		if (ver == 12)
			arg(a, "-tls1_2");
		else if (ver == 13)
			arg(a, "-tls1_3");
		break;
	case CM_PEER_GNUTLS_CLI:
		arg(a, "gnutls-cli");
		arg(a, "--x509cafile");
		arg(a, t->trust);
		if (t->crl[0]) {
			arg(a, "--x509crlfile");
			arg(a, t->crl);
		}
		snprintf(buf, sizeof(buf), "%d", port);
		arg(a, "-p");
		arg(a, buf);
		if (name && !is_ip(name)) {
			arg(a, "--sni-hostname");
			arg(a, name);
		}
		if (name) {
			arg(a, "--verify-hostname");
			arg(a, name);
		}
		if (t->ccert[0]) {
			arg(a, "--x509certfile");
			arg(a, t->ccert);
			arg(a, "--x509keyfile");
			arg(a, t->ckey);
		}
		if (prio) {
			arg(a, "--priority");
			arg(a, prio);
		}
		arg(a, "127.0.0.1");
		break;
	case CM_PEER_CURL:
		arg(a, "curl");
		arg(a, "-sS");
		arg(a, "-o");
		arg(a, "/dev/null");
		arg(a, "--max-time");
		arg(a, "5");
		arg(a, "--cacert");
		arg(a, t->trust);
		if (t->crl[0]) {
			arg(a, "--crlfile");
			arg(a, t->crl);
		}
		arg(a, "-w");
		arg(a, "\nVERIFY_RESULT=%{ssl_verify_result}\n");
		snprintf(buf, sizeof(buf), "::127.0.0.1:%d", port);
		arg(a, "--connect-to");
		arg(a, buf);
		if (t->ccert[0]) {
			arg(a, "--cert");
			arg(a, t->ccert);
			arg(a, "--key");
			arg(a, t->ckey);
		}
		if (ver == 12) {
			arg(a, "--tlsv1.2");
			arg(a, "--tls-max");
			arg(a, "1.2");
		} else if (ver == 13) {
			arg(a, "--tlsv1.3");
		}
		if (name && strchr(name, ':'))
			snprintf(buf, sizeof(buf), "https://[%s]/", name);
		else
			snprintf(buf, sizeof(buf), "https://%s/", name);
		arg(a, buf);
		break;
	default:
		break;
	}
}

static void
python_args(argv_b *a, const char *role, int port, const char *trust,
    const char *name, const char *cert, const char *key, int ver,
    cm_client_auth auth, const char *crl)
{
	char buf[32];

	arg(a, tool_of(CM_PEER_PYTHON));
	arg(a, "-c");
	arg(a, "");
	a->v[a->n - 1] = (char *)(uintptr_t)python_peer;
	arg(a, role);
	snprintf(buf, sizeof(buf), "%d", port);
	arg(a, buf);
	arg(a, trust && *trust ? trust : "-");
	arg(a, name ? name : "-");
	arg(a, cert && *cert ? cert : "-");
	arg(a, key && *key ? key : "-");
	snprintf(buf, sizeof(buf), "%d", ver);
	arg(a, buf);
	arg(a, auth == CM_CLIENT_AUTH_REQUIRE ? "require" :
	    auth == CM_CLIENT_AUTH_REQUEST ? "request" : "none");
	arg(a, crl && *crl ? crl : "-");
}

/*
 * The tool's verdict as a client: 1 rejected (class in *o), 0 accepted,
 * -1 unknown.
 */
static int
client_verdict(cm_result *r, const proc *p, cm_peer peer, int code,
    cm_outcome *o)
{
	char kind[16];
	long n;

	switch (peer) {
	case CM_PEER_OPENSSL:
		n = find_num(p, "verify error:num=");
		if (n > 0) {
			r->peer_code = (int)n;
			*o = outcome_from_x509(n, false);
			return 1;
		}
		return code == 0 ? 0 : -1;
	case CM_PEER_PYTHON:
		if (!python_result(p, kind, sizeof(kind), &n))
			return -1;
		if (strcmp(kind, "ok") == 0)
			return 0;
		if (strcmp(kind, "verify") == 0) {
			r->peer_code = (int)n;
			*o = outcome_from_x509(n, false);
			return 1;
		}
		return -1;
	case CM_PEER_CURL:
		n = find_num(p, "VERIFY_RESULT=");
		if (code == 0)
			return 0;
		/* curl checks the name itself and then reports 1
		 * (X509_V_ERR_UNSPECIFIED) as its verify result. */
		if (code == 60 && n == 1) {
			r->peer_code = 1;
			*o = CM_OUTCOME_HOSTNAME;
			return 1;
		}
		if (code == 60 && n > 0) {
			r->peer_code = (int)n;
			*o = outcome_from_x509(n, false);
			return 1;
		}
		return -1;
	case CM_PEER_GNUTLS_CLI:
		return code == 0 ? 0 : -1;
	default:
		return -1;
	}
}

static cm_err
run_tool_client(cm_result *r, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o, const tmpfiles *t, unsigned ms)
{
	cm__hside s;
	proc p;
	argv_b *a = NULL;
	int lfd = -1, fd = -1, port = 0, code, v;
	double t0, deadline;
	cm_outcome oc;
	cm_err err;

	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	p.pid = -1;
	p.out = -1;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((err = cm__hside_init(&s, ctx, sc, true, false)) != CM_OK ||
	    (err = cm__listen_loopback(&lfd, &port, ctx)) != CM_OK)
		goto out;
	if (o->peer == CM_PEER_PYTHON)
		python_args(a, "client", port, t->trust, sc->expected_name,
		    t->ccert, t->ckey, prio_version(sc->client_priority ?
		    sc->client_priority : sc->priority), CM_CLIENT_AUTH_NONE,
		    t->crl);
	else
		client_args(a, sc, t, o->peer, port);
	t0 = cm__now_ms();
	deadline = t0 + ms;
	if ((err = spawn(&p, ctx, a->v)) != CM_OK)
		goto out;
	if (cm__accept_timeout(&fd, ctx, lfd, ms) == CM_OK) {
		cm__hside_run_fd(&s, fd, ms);
		close(fd);
		fd = -1;
	}
	code = reap(&p, deadline);
	r->time_ms = cm__now_ms() - t0;
	if ((err = cm__result_classify(r, ctx, NULL, &s, sc)) != CM_OK)
		goto out;
	/* The GnuTLS server's own verdict on a client certificate wins. */
	if (r->actual == CM_OUTCOME_CLIENT_UNTRUSTED ||
	    r->actual == CM_OUTCOME_CLIENT_EXPIRED ||
	    r->actual == CM_OUTCOME_CLIENT_PURPOSE ||
	    r->actual == CM_OUTCOME_NO_CLIENT_CERT) {
		if (r->status != 0 || r->actual == CM_OUTCOME_NO_CLIENT_CERT)
			goto done;
	}
	v = client_verdict(r, &p, o->peer, code, &oc);
	if (v == 1) {
		r->actual = oc;
		r->side = CM_SIDE_CLIENT;
	} else if (v == 0 && s.hs_done && !s.failed) {
		r->actual = CM_OUTCOME_OK;
		r->side = CM_SIDE_NONE;
	} else if (o->peer == CM_PEER_GNUTLS_CLI && code > 0 && !s.hs_done &&
	    (!s.failed || s.err == GNUTLS_E_FATAL_ALERT_RECEIVED ||
	    s.err == GNUTLS_E_PUSH_ERROR || s.err == GNUTLS_E_PULL_ERROR ||
	    s.err == GNUTLS_E_PREMATURE_TERMINATION)) {
		/*
		 * gnutls-cli reports no reason code: it rejected the
		 * certificate (an alert) but we cannot say why.  Such a
		 * rejection matches any expected server-certificate class.
		 */
		cm_outcome e = sc->expect;
		r->side = CM_SIDE_CLIENT;
		r->peer_code = s.alert;
		if (e == CM_OUTCOME_UNTRUSTED || e == CM_OUTCOME_HOSTNAME ||
		    e == CM_OUTCOME_EXPIRED || e == CM_OUTCOME_NOT_YET_VALID ||
		    e == CM_OUTCOME_PURPOSE || e == CM_OUTCOME_REVOKED ||
		    e == CM_OUTCOME_NAME_CONSTRAINTS)
			r->actual = e;
		else
			r->actual = CM_OUTCOME_UNTRUSTED;
		free(r->detail);
		r->detail = cm__strdup("gnutls-cli rejected the certificate "
		    "(alert sent); it reports no reason code");
	} else if (code < 0 && !s.hs_done) {
		r->actual = CM_OUTCOME_PROTOCOL;
		free(r->detail);
		r->detail = cm__strdup("the tool did not finish in time");
	}
done:
	cm__result_match(r, sc);
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	proc_clear(&p);
	cm__hside_clear(&s);
	free(a);
	return err;
}

/* ---- the tool serves; GnuTLS is the client ------------------------------- */

static cm_err
tcp_connect(int *out, cm_ctx *ctx, int port, unsigned ms)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cm__errno_fail(ctx, errno, "peer: socket");
	cm__sock_timeouts(fd, ms);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return cm__errno_fail(ctx, e, "peer: connect to 127.0.0.1:%d",
		    port);
	}
	*out = fd;
	return CM_OK;
}

/* A free port on 127.0.0.1 for openssl s_server (which cannot report
 * the one it picked). */
static cm_err
free_port(int *port, cm_ctx *ctx)
{
	int fd;
	cm_err err;

	if ((err = cm__listen_loopback(&fd, port, ctx)) != CM_OK)
		return err;
	close(fd);
	return CM_OK;
}

static cm_err
run_tool_server(cm_result *r, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o, const tmpfiles *t, unsigned ms)
{
	cm__hside c;
	proc p;
	argv_b *a = NULL;
	int fd = -1, port = 0, ver = prio_version(sc->priority);
	double t0, deadline;
	char buf[64], kind[16];
	long n;
	cm_err err;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	p.pid = -1;
	p.out = -1;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((err = cm__hside_init(&c, ctx, sc, false, false)) != CM_OK)
		goto out;
	if (o->peer == CM_PEER_PYTHON) {
		python_args(a, "server", 0, t->ctrust, NULL, t->leaf, t->key,
		    ver, sc->client_auth, t->ccrl);
		/* python's load_cert_chain wants the chain in one file */
		if (t->has_extra) {
			snprintf(a->store[7], sizeof(a->store[7]), "%s/"
			    "chain.pem", t->dir);
		}
	} else {
		if ((err = free_port(&port, ctx)) != CM_OK)
			goto out;
		arg(a, "openssl");
		arg(a, "s_server");
		snprintf(buf, sizeof(buf), "127.0.0.1:%d", port);
		arg(a, "-accept");
		arg(a, buf);
		arg(a, "-naccept");
		arg(a, "1");
		arg(a, "-cert");
		arg(a, t->leaf);
		arg(a, "-key");
		arg(a, t->key);
		if (t->has_extra) {
			arg(a, "-cert_chain");
			arg(a, t->extra);
		}
		if (sc->client_auth != CM_CLIENT_AUTH_NONE) {
			arg(a, sc->client_auth == CM_CLIENT_AUTH_REQUIRE ?
			    "-Verify" : "-verify");
			arg(a, "4");
			arg(a, "-CAfile");
			arg(a, t->ctrust);
			arg(a, "-verify_return_error");
			if (t->ccrl[0]) {
				arg(a, "-CRL");
				arg(a, t->ccrl);
				arg(a, "-crl_check");
			}
			/*
			 * As the GnuTLS server of the harness: no CA names,
			 * so a client sends even a foreign certificate and
			 * the server's verdict on it is what is tested.  Not
			 * in TLS 1.3: GnuTLS 3.7.9 then fails to decode
			 * OpenSSL's CertificateRequest.
			 */
			if (ver != 13)
				arg(a, "-no_ca_names");
		}
		if (ver == 12)
			arg(a, "-tls1_2");
		else if (ver == 13)
			arg(a, "-tls1_3");
		/* Answers our GET; without it s_server hangs up when its
		 * stdin (/dev/null) ends. */
		arg(a, "-www");
	}
	t0 = cm__now_ms();
	deadline = t0 + ms;
	if ((err = spawn(&p, ctx, a->v)) != CM_OK)
		goto out;
	if (o->peer == CM_PEER_PYTHON) {
		if (!drain(&p, "PORT ", deadline) ||
		    (n = find_num(&p, "PORT ")) <= 0) {
			err = cm__fail(ctx, CM_E_TLS, "peer: python3 server did "
			    "not start: %.100s", p.buf);
			goto out;
		}
		port = (int)n;
	} else if (!drain(&p, "ACCEPT", deadline)) {
		err = cm__fail(ctx, CM_E_TLS, "peer: openssl s_server did not "
		    "start: %.100s", p.buf);
		goto out;
	}
	if ((err = tcp_connect(&fd, ctx, port, ms)) != CM_OK)
		goto out;
	cm__hside_run_fd(&c, fd, ms);
	close(fd);
	fd = -1;
	r->time_ms = cm__now_ms() - t0;
	reap(&p, deadline);
	if ((err = cm__result_classify(r, ctx, &c, NULL, sc)) != CM_OK)
		goto out;
	if (r->side == CM_SIDE_CLIENT && r->status != 0)
		goto done; /* GnuTLS rejected the tool's certificate */
	/* The tool's verdict on our client certificate, when it has one. */
	if (o->peer == CM_PEER_OPENSSL &&
	    (n = find_num(&p, "verify error:num=")) > 0) {
		r->peer_code = (int)n;
		r->actual = outcome_from_x509(n, true);
		r->side = CM_SIDE_SERVER;
	} else if (o->peer == CM_PEER_PYTHON &&
	    python_result(&p, kind, sizeof(kind), &n)) {
		if (strcmp(kind, "verify") == 0) {
			r->peer_code = (int)n;
			r->actual = outcome_from_x509(n, true);
			r->side = CM_SIDE_SERVER;
		} else if (strcmp(kind, "nocert") == 0) {
			r->actual = CM_OUTCOME_NO_CLIENT_CERT;
			r->side = CM_SIDE_SERVER;
		}
	}
done:
	cm__result_match(r, sc);
out:
	if (fd >= 0)
		close(fd);
	proc_clear(&p);
	cm__hside_clear(&c);
	free(a);
	return err;
}

cm_err
cm__peer_run(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o)
{
	const char *tool = tool_of(o->peer);
	cm_result *r = NULL;
	tmpfiles t;
	char label[64];
	unsigned ms = o->timeout_ms ? o->timeout_ms : 5000;
	bool server = o->peer_is_server && (o->peer == CM_PEER_OPENSSL ||
	    o->peer == CM_PEER_PYTHON);
	cm_err err;

	snprintf(label, sizeof(label), "%s-%s", cm_peer_name(o->peer),
	    server ? "server" : "client");
	if ((err = cm__result_new(&r, ctx, sc, label)) != CM_OK)
		return err;
	{
		/* "<scenario>@<tool>-<side>" keeps names unique in a report */
		size_t len = strlen(r->name) + strlen(label) + 2;
		char *nm = malloc(len);
		if (nm == NULL) {
			cm_result_free(r);
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		}
		snprintf(nm, len, "%s@%s", r->name, label);
		free(r->name);
		r->name = nm;
	}
	if (tool == NULL || !in_path(tool)) {
		r->skipped = true;
		r->detail = cm__strdup(tool ? "not installed" : "unknown peer");
		*out = r;
		return CM_OK;
	}
	/* A CRL reaches a tool client as a file (it checks the leaf against
	 * it); as a server the tool meets our GnuTLS client, which loads it.
	 * No tool fails a handshake on a revoked staple (openssl s_client
	 * -status only prints it) and few enforce must-staple. */
	if (sc->ocsp_staple != NULL || (sc->server_chain != NULL &&
	    cm__pem_must_staple(sc->server_chain))) {
		r->skipped = true;
		r->detail = cm__strdup("an OCSP staple or must-staple is "
		    "enforced by the GnuTLS pair only");
		*out = r;
		return CM_OK;
	}
	if (!server && o->peer == CM_PEER_CURL && sc->expected_name == NULL) {
		r->skipped = true;
		r->detail = cm__strdup("curl needs a name to connect to");
		*out = r;
		return CM_OK;
	}
	if ((err = tmp_setup(&t, ctx, sc)) != CM_OK) {
		cm_result_free(r);
		return err;
	}
	if (server && o->peer == CM_PEER_PYTHON && t.has_extra) {
		char path[300];
		snprintf(path, sizeof(path), "%s/chain.pem", t.dir);
		if ((err = write_tmp(ctx, path, sc->server_chain,
		    strlen(sc->server_chain))) != CM_OK)
			goto out;
	}
	if (server)
		err = run_tool_server(r, ctx, sc, o, &t, ms);
	else
		err = run_tool_client(r, ctx, sc, o, &t, ms);
	if (server && o->peer == CM_PEER_PYTHON && t.has_extra) {
		char path[300];
		snprintf(path, sizeof(path), "%s/chain.pem", t.dir);
		unlink(path);
	}
out:
	tmp_cleanup(&t);
	if (err != CM_OK) {
		cm_result_free(r);
		return err;
	}
	*out = r;
	return CM_OK;
}
