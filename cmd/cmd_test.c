/* cmd_test.c - certmint test [--cert REF | FILE...], test serve, test
 * connect: the TLS harness from the command line. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"

static const char test_usage[] =
"usage: certmint test --cert SERIAL|NAME [--key F] [options]\n"
"       certmint test FILE... [options]\n"
"       options: [--format F] [--only S] [--transport T] [--timeout T]\n"
"                [--interop | --peer P [--peer-side S]]\n"
"                [--passphrase-file F]\n"
"       certmint test serve --cert X [--listen 127.0.0.1:PORT]\n"
"                 [--require-client-cert] [--count N]\n"
"       certmint test connect HOST:PORT [--ca N|--trust F] [--name N]\n"
"                 [--client X] [--expect ok|CLASS] [--format F]\n"
"       certmint test client [--cert REF] [--strict] -- CMD [ARG...]\n"
"                 (judges your TLS client: certmint test client --help)\n"
"\n"
"Proves with real TLS handshakes (a GnuTLS server and client in one\n"
"process) that certificates are accepted where they should be and\n"
"rejected where they must be.\n"
"\n"
"  --cert REF        the default matrix of an issued certificate: every\n"
"                    SAN, wrong names, untrusted root, expired, not yet\n"
"                    valid, wrong EKU and name-constraint twins (signed\n"
"                    by ephemeral in-memory CAs, never stored), the mTLS\n"
"                    set for client and peer certificates; TLS 1.2 and 1.3\n"
"                    Revocation: twins revoked in a CRL the client loads\n"
"                    or in a stapled OCSP response (revoked-crl,\n"
"                    revoked-ocsp-staple, good-* controls), a must-staple\n"
"                    twin without a staple (must-staple-missing: class\n"
"                    revoked).  Once the certificate is revoked in the\n"
"                    store the client checks the CA's current CRL and the\n"
"                    scenarios whose name matches expect (and report)\n"
"                    revoked: test, revoke, test shows it, still exit 0\n"
"  --key F           the certificate's key when the store does not keep\n"
"                    it (--no-keep-key, sign): unencrypted PKCS#8, SEC1\n"
"                    (EC PRIVATE KEY) or PKCS#1 (RSA PRIVATE KEY), PEM\n"
"                    or DER, as openssl, certtool, mkcert write them\n"
"  FILE              scenario files (format: docs/scenarios.md; keys\n"
"                    crl = FILE|ca:NAME, ocsp_staple = FILE|auto; files\n"
"                    named by server_cert, client_cert, trust and\n"
"                    client_trust must hold PEM certificates)\n"
"  --transport T     memory (default: one thread, in-memory) or tcp\n"
"                    (two threads over 127.0.0.1)\n"
"  --peer P          one side is a real tool: openssl, python, gnutls-cli\n"
"                    or curl (a missing tool is reported as skipped)\n"
"  --peer-side S     client (default) or server: the side the tool plays\n"
"                    (openssl and python can play both)\n"
"  --interop         every scenario with GnuTLS on both sides and again\n"
"                    with each installed tool on each side it can play\n"
"  --format F        table (default), json, junit, tap or html (one\n"
"                    self-contained page: the matrix as a grid)\n"
"  --only S          run only scenarios whose name contains S\n"
"  --timeout T       per scenario with tcp and peers: 500ms, 5s\n"
"                    (default 5s; a bare number is milliseconds)\n"
"  -v, --verbose     details of every row\n"
"  --passphrase-file F  the CA passphrase, when the kept keys are\n"
"                    encrypted (else CERTMINT_PASSPHRASE or a prompt)\n"
"\n"
"Outcome classes: ok, untrusted, hostname, expired, not-yet-valid,\n"
"revoked, purpose, name-constraints, no-client-cert, client-untrusted,\n"
"client-expired, client-purpose, client-revoked, protocol, error.\n"
"\n"
"Exit: 0 every scenario matched its expectation, 1 a mismatch, 2 bad\n"
"input, 3 store error, 4 TLS error.\n";

static const char serve_usage[] =
"usage: certmint test serve --cert X [--listen 127.0.0.1:PORT]\n"
"           [--require-client-cert | --request-client-cert]\n"
"           [--client-ca N | --client-trust F] [--version V] [--count N]\n"
"           [--ocsp-staple F] [--timeout T] [--passphrase-file F]\n"
"           [--expect accept|reject]\n"
"\n"
"Serves an issued certificate (with its kept key) over TLS and answers\n"
"HTTP/1.1 200, so curl and browsers work.  Logs one line per\n"
"connection: whether the client accepted the certificate (completed the\n"
"handshake and sent data) or rejected it (the alert it sent, or a\n"
"close); with a client certificate asked for, the outcome class and the\n"
"client's identity instead.  Stops after N connections or on\n"
"SIGINT/SIGTERM.\n"
"\n"
"  --listen A:P          address (default 127.0.0.1:8443; port 0 picks\n"
"                        one, printed on stdout as 'listening on A:P')\n"
"  --require-client-cert require a client certificate\n"
"  --request-client-cert ask for one, accept none\n"
"  --client-ca N         trust CA N for client certificates (default:\n"
"                        the certificate's CA)\n"
"  --client-trust F      trust the PEM file F instead\n"
"  --version V           tls1.2, tls1.3 or any (default)\n"
"  --count N             stop after N connections\n"
"  --expect accept|reject  what each of the --count N clients must do;\n"
"                        exit 1 on any other verdict (or fewer clients)\n"
"  --timeout T           per connection: 500ms, 5s (default 5s; a\n"
"                        bare number is milliseconds)\n"
"  --ocsp-staple F       staple the DER OCSP response in F (e.g. from\n"
"                        certmint ocsp response X --out F)\n"
"  --passphrase-file F   the CA passphrase, when the kept key is encrypted\n";

static const char connect_usage[] =
"usage: certmint test connect HOST:PORT [--ca N | --trust F] [--name N]\n"
"           [--client X [--client-key F]] [--expect ok|CLASS]\n"
"           [--http [PATH]] [--version V] [--format F] [--timeout T]\n"
"           [--passphrase-file F]\n"
"\n"
"Connects to a running server, checks its certificate, sends a request\n"
"and reports the outcome class: the server rejected the client when it\n"
"sent an alert or closed before answering (under TLS 1.3 its verdict on\n"
"a client certificate comes after the handshake: the answer is awaited,\n"
"bounded by --timeout), or with --http answered 400 or more.  The same\n"
"classification as certmint test server.  Exit 0 when the class equals\n"
"--expect (default ok), else 1.\n"
"\n"
"  --ca N          trust store CA N (default: the only CA)\n"
"  --trust F       trust the PEM file F\n"
"  --name N        the name to check and send as SNI (default HOST)\n"
"  --client X      present an issued certificate X (its kept key), or a\n"
"                  PEM file with --client-key F\n"
"  --expect C      the expected class\n"
"  --http [PATH]   send GET PATH (default /) and judge the HTTP status\n"
"  --version V     tls1.2, tls1.3 or any (default)\n"
"  --format F      table (default), json, junit, tap or html\n"
"  --timeout T     500ms, 5s (default 5s; a bare number is ms)\n"
"  --passphrase-file F  the CA passphrase for an encrypted --client key\n";

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		fprintf(stderr, "certmint: out of memory\n");
		exit(EXIT_CRYPTO);
	}
	return d;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			if (cap > (8u << 20) || (nb = realloc(buf, cap)) ==
			    NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* A binary file (DER); [out] len.  NULL with errno set on failure. */
static unsigned char *
read_bin(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(1u << 20)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 1u << 20, f);
	fclose(f);
	*len = n;
	return buf;
}

static const char *
version_priority(const char *v)
{
	if (v == NULL || strcmp(v, "any") == 0)
		return CM_PRIORITY_DEFAULT;
	if (strcmp(v, "tls1.2") == 0)
		return CM_PRIORITY_TLS12;
	if (strcmp(v, "tls1.3") == 0)
		return CM_PRIORITY_TLS13;
	return NULL;
}

static int
report(cmd_env *env, cm_report_format fmt, cm_result **r, size_t n,
    bool verbose)
{
	unsigned flags = verbose ? CM_REPORT_VERBOSE : 0;
	size_t i;
	cm_err err;

	if (fmt == CM_REPORT_TABLE && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL)
		flags |= CM_REPORT_COLOR;
	if ((err = cm_report_write(stdout, env->ctx, fmt, r, n, flags)) !=
	    CM_OK)
		return cmd_fail(env, err);
	fflush(stdout);
	for (i = 0; i < n; i++)
		if (!r[i]->skipped && !r[i]->match)
			return EXIT_MISMATCH;
	return EXIT_OK;
}

/* ---- test [--cert | FILE...] --------------------------------------------- */

typedef struct peer_run {
	cm_peer peer;
	bool server;
} peer_run;

static const peer_run interop_runs[] = {
	{ CM_PEER_OPENSSL, false }, { CM_PEER_OPENSSL, true },
	{ CM_PEER_PYTHON, false }, { CM_PEER_PYTHON, true },
	{ CM_PEER_GNUTLS_CLI, false }, { CM_PEER_CURL, false },
};

static int cmd_test_serve(cmd_env *env, int argc, char **argv);
int cmd_test_client(cmd_env *env, int argc, char **argv);
int cmd_test_server(cmd_env *env, int argc, char **argv);
static int cmd_test_connect(cmd_env *env, int argc, char **argv);

int
cmd_test(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "transport", required_argument, NULL, 't' },
		{ "peer", required_argument, NULL, 'p' },
		{ "peer-side", required_argument, NULL, 's' },
		{ "interop", no_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "only", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_harness_opts ho = CM_HARNESS_OPTS_INIT;
	cm_report_format fmt = CM_REPORT_TABLE;
	const char *key_path = NULL;
	char *key = NULL;
	size_t key_len = 0;
	cm_scenario **sc = NULL;
	cm_result **res = NULL;
	cm_store *st = NULL;
	const char *cert = NULL, *only = NULL;
	size_t nsc = 0, nres = 0, i, k, nruns;
	bool interop = false, verbose = false;
	unsigned long long span;
	cm_err err = CM_OK;
	int c, rc = EXIT_OK;

	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return cmd_test_serve(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return cmd_test_client(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return cmd_test_server(env, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "connect") == 0)
		return cmd_test_connect(env, argc - 1, argv + 1);
	optind = 0;
	while ((c = cmd_getopt(argc, argv, "hv", opts)) != -1) {
		switch (c) {
		case 'c': cert = optarg; break;
		case 't':
			if (strcmp(optarg, "memory") == 0)
				ho.transport = CM_TRANSPORT_MEMORY;
			else if (strcmp(optarg, "tcp") == 0)
				ho.transport = CM_TRANSPORT_TCP;
			else
				return cmd_usage_error("test", "--transport "
				    "'%s': memory or tcp", optarg);
			break;
		case 'p':
			if (cm_peer_parse(&ho.peer, env->ctx, optarg) != CM_OK)
				return cmd_usage_error("test", "%s",
				    cm_ctx_error(env->ctx));
			break;
		case 's':
			if (strcmp(optarg, "client") && strcmp(optarg, "server"))
				return cmd_usage_error("test", "--peer-side "
				    "'%s': client or server", optarg);
			ho.peer_is_server = strcmp(optarg, "server") == 0;
			break;
		case 'i': interop = true; break;
		case 'f':
			if (cm_report_format_parse(&fmt, env->ctx, optarg) !=
			    CM_OK)
				return cmd_usage_error("test", "%s",
				    cm_ctx_error(env->ctx));
			break;
		case 'o': only = optarg; break;
		case 'T':
			if (!cmd_parse_ms(optarg, 1, 600000, &span))
				return cmd_usage_error("test", "--timeout '%s' "
				    "is not a time up to 10m (500ms, 5s; a bare "
				    "number is milliseconds)", optarg);
			ho.timeout_ms = (unsigned)span;
			break;
		case 'v': verbose = true; break;
		case 'P': env->passphrase_file = optarg; break;
		case 'K': key_path = optarg; break;
		case 'h':
			fputs(test_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("test", argv);
		}
	}
	if ((cert == NULL) == (optind == argc))
		return cmd_usage_error("test", "give --cert REF or scenario "
		    "files (not both)");
	if (key_path != NULL && cert == NULL)
		return cmd_usage_error("test", "--key goes with --cert");
	if (interop && ho.peer != CM_PEER_NONE)
		return cmd_usage_error("test", "--interop runs every peer; "
		    "drop --peer");
	if (ho.peer_is_server && (ho.peer == CM_PEER_CURL ||
	    ho.peer == CM_PEER_GNUTLS_CLI))
		return cmd_usage_error("test", "%s can only be the client",
		    cm_peer_name(ho.peer));

	if (cert != NULL) {
		if (key_path != NULL && (rc = cmd_read_small_file(&key,
		    &key_len, key_path, 64 * 1024)) != EXIT_OK)
			goto out;
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = cm_matrix_for_cert_key(&sc, &nsc, st, cert, key,
		    key_len)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
	} else {
		/* The store is optional: files may name only files. */
		if (cmd_open_store(&st, env, false) != CM_OK)
			st = NULL;
		for (i = optind; i < (size_t)argc; i++) {
			cm_scenario **v = NULL, **nv;
			size_t n = 0;
			if ((err = cm_scenario_file_load(&v, &n, env->ctx, st,
			    argv[i])) != CM_OK) {
				rc = cmd_fail(env, err);
				goto out;
			}
			nv = realloc(sc, (nsc + n) * sizeof(*nv));
			if (nv == NULL) {
				cm_scenario_list_free(v, n);
				rc = cmd_fail(env, CM_E_NOMEM);
				goto out;
			}
			sc = nv;
			memcpy(sc + nsc, v, n * sizeof(*v));
			nsc += n;
			free(v);
		}
	}

	if (only != NULL) {
		/* A typo must not pass a CI job with nothing run. */
		for (i = 0; i < nsc && strstr(sc[i]->name, only) == NULL; i++)
			;
		if (i == nsc) {
			rc = cmd_usage_error("test", "--only '%s' matches none "
			    "of the %zu scenarios (names as in the report, "
			    "e.g. '%s')", only, nsc, nsc > 0 ? sc[0]->name :
			    "");
			goto out;
		}
	}
	nruns = interop ? 1 + sizeof(interop_runs) / sizeof(interop_runs[0]) :
	    1;
	if ((res = calloc(nsc * nruns + 1, sizeof(*res))) == NULL) {
		rc = cmd_fail(env, CM_E_NOMEM);
		goto out;
	}
	for (k = 0; k < nruns; k++) {
		cm_harness_opts o = ho;
		if (interop && k > 0) {
			o.peer = interop_runs[k - 1].peer;
			o.peer_is_server = interop_runs[k - 1].server;
		}
		for (i = 0; i < nsc; i++) {
			if (only && strstr(sc[i]->name, only) == NULL)
				continue;
			if ((err = cm_harness_run(&res[nres], env->ctx, sc[i],
			    &o)) != CM_OK) {
				rc = cmd_fail(env, err);
				goto out;
			}
			nres++;
		}
	}
	rc = report(env, fmt, res, nres, verbose);
out:
	if (key != NULL) {
		explicit_bzero(key, key_len);
		free(key);
	}
	cm_result_list_free(res, nres);
	cm_scenario_list_free(sc, nsc);
	cm_store_close(st);
	return rc;
}

/* ---- serve ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_serving;

static void
on_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}

/* "127.0.0.1:54321" of the connected peer. */
static void
peer_address(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", h, port);
}

static int
cmd_test_serve(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "require-client-cert", no_argument, NULL, 'R' },
		{ "request-client-cert", no_argument, NULL, 'Q' },
		{ "client-ca", required_argument, NULL, 'a' },
		{ "client-trust", required_argument, NULL, 'F' },
		{ "version", required_argument, NULL, 'V' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "ocsp-staple", required_argument, NULL, 'O' },
		{ "expect", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_scenario sc = CM_SCENARIO_INIT;
	cm_harness_opts ho = CM_HARNESS_OPTS_INIT;
	int expect = -1;       /* 1 accept, 0 reject, -1 not given */
	unsigned mismatches = 0;
	cm_cert_info *info = NULL;
	cm_ca_info *ca = NULL;
	cm_store *st = NULL;
	const char *cert = NULL, *listen_on = "127.0.0.1:8443";
	const char *client_ca = NULL, *client_trust = NULL, *ver = NULL;
	const char *staple = NULL;
	char host[256], port[16];
	struct addrinfo hints, *ai = NULL;
	struct sigaction sa;
	unsigned long long span;
	unsigned count = 0, served = 0;
	int c, rc = EXIT_OK, lfd = -1, one = 1;
	cm_err err;

	ho.http = true;
	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c': cert = optarg; break;
		case 'l': listen_on = optarg; break;
		case 'R': sc.client_auth = CM_CLIENT_AUTH_REQUIRE; break;
		case 'Q': sc.client_auth = CM_CLIENT_AUTH_REQUEST; break;
		case 'a': client_ca = optarg; break;
		case 'F': client_trust = optarg; break;
		case 'V': ver = optarg; break;
		case 'n':
			if (!cmd_parse_uint(optarg, 1000000, &count) ||
			    count == 0)
				return cmd_usage_error("test serve", "--count "
				    "'%s' is not a positive number", optarg);
			break;
		case 'T':
			if (!cmd_parse_ms(optarg, 1, 600000, &span))
				return cmd_usage_error("test serve", "--timeout "
				    "'%s' is not a time up to 10m (500ms, 5s; a "
				    "bare number is milliseconds)", optarg);
			ho.timeout_ms = (unsigned)span;
			break;
		case 'P': env->passphrase_file = optarg; break;
		case 'O': staple = optarg; break;
		case 'E':
			if (strcmp(optarg, "accept") == 0)
				expect = 1;
			else if (strcmp(optarg, "reject") == 0)
				expect = 0;
			else
				return cmd_usage_error("test serve", "--expect "
				    "'%s': accept or reject", optarg);
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("test serve", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("test serve", "unexpected argument '%s'",
		    argv[optind]);
	if (cert == NULL)
		return cmd_usage_error("test serve", "--cert is required");
	if (expect >= 0 && sc.client_auth != CM_CLIENT_AUTH_NONE)
		return cmd_usage_error("test serve", "--expect judges the "
		    "client's verdict on the server certificate: not with "
		    "--require-client-cert or --request-client-cert");
	if (expect >= 0 && count == 0)
		return cmd_usage_error("test serve", "--expect needs --count N "
		    "(the connections to judge)");
	if (version_priority(ver) == NULL)
		return cmd_usage_error("test serve", "--version '%s': tls1.2, "
		    "tls1.3 or any", ver);
	if (!cmd_split_hostport(listen_on, host, sizeof(host), port,
	    sizeof(port)))
		return cmd_usage_error("test serve", "--listen '%s' is not "
		    "HOST:PORT", listen_on);

	sc.name = xstrdup("serve");
	sc.priority = xstrdup(version_priority(ver));
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_cert_find(&info, st, cert)) != CM_OK ||
	    (err = cm_scenario_load_cert(&sc.server_chain, &sc.server_key, st,
	    cert)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (staple != NULL) {
		if ((sc.ocsp_staple = read_bin(staple,
		    &sc.ocsp_staple_len)) == NULL) {
			fprintf(stderr, "certmint: --ocsp-staple '%s': %s\n",
			    staple, strerror(errno));
			rc = EXIT_USAGE;
			goto out;
		}
		/* An OCSPResponse is a DER SEQUENCE. */
		if (sc.ocsp_staple_len < 2 || sc.ocsp_staple[0] != 0x30) {
			fprintf(stderr, "certmint: --ocsp-staple '%s' is not a "
			    "DER OCSP response\n", staple);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (sc.client_auth != CM_CLIENT_AUTH_NONE) {
		if (client_trust != NULL) {
			if ((sc.client_trust = read_file(client_trust)) ==
			    NULL) {
				fprintf(stderr, "certmint: --client-trust '%s': "
				    "%s\n", client_trust, strerror(errno));
				rc = EXIT_USAGE;
				goto out;
			}
		} else {
			if ((err = cm_ca_get(&ca, st, client_ca ? client_ca :
			    info->ca)) != CM_OK) {
				rc = cmd_fail(env, err);
				goto out;
			}
			sc.client_trust = xstrdup(ca->pem);
		}
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((c = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "certmint: --listen '%s': %s\n", listen_on,
		    gai_strerror(c));
		rc = EXIT_USAGE;
		goto out;
	}
	if ((lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(lfd, 16) < 0) {
		/* As ocsp serve: the address is the input at fault (2). */
		fprintf(stderr, "certmint: listen on %s: %s\n", listen_on,
		    strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char h[INET6_ADDRSTRLEN] = "?";
		int p = 0;
		getsockname(lfd, (struct sockaddr *)&ss, &sl);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
			p = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
			p = ntohs(s6->sin6_port);
		}
		printf("listening on %s%s%s:%d\n", ss.ss_family == AF_INET6 ?
		    "[" : "", h, ss.ss_family == AF_INET6 ? "]" : "", p);
		fflush(stdout);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop_serving && (count == 0 || served < count)) {
		struct pollfd pfd = { lfd, POLLIN, 0 };
		cm_result *r = NULL;
		char from[INET6_ADDRSTRLEN + 8];
		int fd;
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		served++;
		peer_address(fd, from, sizeof(from));
		if (sc.client_auth == CM_CLIENT_AUTH_NONE) {
			/* The client's verdict, seen from here: accepted when
			 * it completed the handshake and sent data; rejected
			 * when it alerted or closed (issue 13, item 3). */
			cm_client_verdict v;
			err = cm_client_judge(&v, env->ctx, fd, &sc,
			    ho.timeout_ms ? ho.timeout_ms : 5000);
			close(fd);
			if (err != CM_OK) {
				fprintf(stderr, "certmint: connection %u: %s\n",
				    served, cm_ctx_error(env->ctx));
				continue;
			}
			printf("connection %u: %s from=%s version=%s bytes=%zu"
			    "%s%s%s%s%s\n", served, v.accepted ? "accepted" :
			    "rejected", from, v.version[0] ? v.version : "-",
			    v.bytes, v.alert_name ? " alert=" : "",
			    v.alert_name ? v.alert_name : "",
			    v.note[0] ? " (" : "", v.note, v.note[0] ? ")" : "");
			if (expect >= 0 && v.accepted != (expect == 1)) {
				mismatches++;
				printf("MISMATCH connection %u: the client %s, "
				    "expected %s\n", served, v.accepted ?
				    "accepted" : "rejected", expect ? "accept" :
				    "reject");
			}
			fflush(stdout);
			continue;
		}
		err = cm_harness_accept(&r, env->ctx, fd, &sc, &ho);
		close(fd);
		if (err != CM_OK) {
			fprintf(stderr, "certmint: connection %u: %s\n", served,
			    cm_ctx_error(env->ctx));
			continue;
		}
		printf("connection %u: %s from=%s client=%s version=%s%s%s\n",
		    served, cm_outcome_name(r->actual), from,
		    r->client_identity ?
		    r->client_identity : "-", r->version ? r->version : "-",
		    r->detail ? " detail=" : "", r->detail ? r->detail : "");
		fflush(stdout);
		cm_result_free(r);
	}
	if (expect >= 0 && rc == EXIT_OK && (mismatches > 0 ||
	    served < count)) {
		if (served < count)
			printf("%u of %u connections seen\n", served, count);
		rc = EXIT_MISMATCH;
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (ai)
		freeaddrinfo(ai);
	free(sc.name);
	free(sc.priority);
	free(sc.server_chain);
	if (sc.server_key) {
		explicit_bzero(sc.server_key, strlen(sc.server_key));
		free(sc.server_key);
	}
	free(sc.client_trust);
	free(sc.ocsp_staple);
	cm_ca_info_free(ca);
	cm_cert_info_free(info);
	cm_store_close(st);
	return rc;
}

/* ---- connect ---------------------------------------------------------------- */

static int
cmd_test_connect(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "trust", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "client", required_argument, NULL, 'c' },
		{ "client-key", required_argument, NULL, 'k' },
		{ "expect", required_argument, NULL, 'e' },
		{ "http", optional_argument, NULL, 'H' },
		{ "version", required_argument, NULL, 'V' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_scenario sc = CM_SCENARIO_INIT;
	cm_harness_opts ho = CM_HARNESS_OPTS_INIT;
	cm_report_format fmt = CM_REPORT_TABLE;
	cm_ca_info *ca = NULL;
	cm_store *st = NULL;
	cm_result *r = NULL;
	const char *ca_name = NULL, *trust = NULL, *name = NULL;
	const char *client = NULL, *client_key = NULL, *ver = NULL;
	char host[256], port[16];
	unsigned long long span;
	unsigned ms = 5000;
	int c, rc = EXIT_OK, fd = -1;
	cm_err err;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'a': ca_name = optarg; break;
		case 't': trust = optarg; break;
		case 'n': name = optarg; break;
		case 'c': client = optarg; break;
		case 'k': client_key = optarg; break;
		case 'e':
			if (cm_outcome_parse(&sc.expect, env->ctx, optarg) !=
			    CM_OK)
				return cmd_usage_error("test connect", "--expect "
				    "%s", cm_ctx_error(env->ctx));
			break;
		case 'H':
			ho.http = true;
			if ((ho.http_path = cmd_http_path(argc, argv)) == NULL)
				return cmd_usage_error("test connect", "--http "
				    "'%s' is not a path (/, /health)", optarg);
			break;
		case 'V': ver = optarg; break;
		case 'f':
			if (cm_report_format_parse(&fmt, env->ctx, optarg) !=
			    CM_OK)
				return cmd_usage_error("test connect", "%s",
				    cm_ctx_error(env->ctx));
			break;
		case 'T':
			if (!cmd_parse_ms(optarg, 1, 600000, &span))
				return cmd_usage_error("test connect", "--timeout "
				    "'%s' is not a time up to 10m (500ms, 5s; a "
				    "bare number is milliseconds)", optarg);
			ms = (unsigned)span;
			break;
		case 'P': env->passphrase_file = optarg; break;
		case 'h':
			fputs(connect_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("test connect", argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("test connect", "give one HOST:PORT");
	if (!cmd_split_hostport(argv[optind], host, sizeof(host), port,
	    sizeof(port)))
		return cmd_usage_error("test connect", "'%s' is not HOST:PORT",
		    argv[optind]);
	if (ca_name && trust)
		return cmd_usage_error("test connect", "--ca and --trust "
		    "exclude each other");
	if (client_key && !client)
		return cmd_usage_error("test connect", "--client-key needs "
		    "--client");
	if (version_priority(ver) == NULL)
		return cmd_usage_error("test connect", "--version '%s': "
		    "tls1.2, tls1.3 or any", ver);
	ho.timeout_ms = ms;

	sc.name = xstrdup(argv[optind]);
	sc.priority = xstrdup(version_priority(ver));
	sc.expected_name = xstrdup(name ? name : host);
	if (trust != NULL) {
		if ((sc.trust = read_file(trust)) == NULL) {
			fprintf(stderr, "certmint: --trust '%s': %s\n", trust,
			    strerror(errno));
			rc = EXIT_USAGE;
			goto out;
		}
	} else {
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = cm_ca_get(&ca, st, ca_name)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		sc.trust = xstrdup(ca->pem);
	}
	if (client != NULL && client_key != NULL) {
		if ((sc.client_chain = read_file(client)) == NULL ||
		    (sc.client_key = read_file(client_key)) == NULL) {
			fprintf(stderr, "certmint: --client '%s': %s\n", client,
			    strerror(errno));
			rc = EXIT_USAGE;
			goto out;
		}
	} else if (client != NULL) {
		if ((st == NULL && (err = cmd_open_store(&st, env, false)) !=
		    CM_OK) || (err = cm_scenario_load_cert(&sc.client_chain,
		    &sc.client_key, st, client)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((fd = cmd_connect(host, port, ms)) < 0) {
		fprintf(stderr, "certmint: connect to %s: %s\n", argv[optind],
		    strerror(errno ? errno : ECONNREFUSED));
		rc = EXIT_CRYPTO;
		goto out;
	}
	if ((err = cm_harness_connect(&r, env->ctx, fd, &sc, &ho)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	rc = report(env, fmt, &r, 1, true);
out:
	if (fd >= 0)
		close(fd);
	cm_result_free(r);
	free(sc.name);
	free(sc.priority);
	free(sc.expected_name);
	free(sc.trust);
	free(sc.client_chain);
	if (sc.client_key) {
		explicit_bzero(sc.client_key, strlen(sc.client_key));
		free(sc.client_key);
	}
	cm_ca_info_free(ca);
	cm_store_close(st);
	return rc;
}
