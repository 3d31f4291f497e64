/* cmd_serve.c - certmint serve: the online CA (ACME, OCSP, CRLs, CA
 * certificates) over HTTPS. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

static const char serve_usage[] =
"usage: certmint serve [--listen 127.0.0.1:8443] [--http-listen ADDR]\n"
"                      [--ca NAME]... [--acme] [--ocsp] [--crl]\n"
"                      [--tls-cert REF] [--timeout T] [--log-format F]\n"
"                      [--resolve NAME=ADDR]... [--http01-port N]\n"
"                      [--tlsalpn01-port N] [--dns-resolver ADDR]\n"
"                      [--allow NAME|PREFIX]... [--acme-profile P]...\n"
"                      [--rate-orders N] [--rate-failures N]\n"
"                      [--rate-ip-orders N] [--rate-ip-failures N]\n"
"                      [--eab-required] [--passphrase-file F]\n"
"\n"
"The online CA: serves the store's CAs over HTTPS (TLS 1.2 or later,\n"
"forward-secret AEAD suites only) until SIGINT or SIGTERM (a request in\n"
"flight is answered; the store closes cleanly) or --timeout:\n"
"  /ca/NAME.pem, /ca/NAME.crt   the CA certificate (caIssuers)\n"
"  /crl/NAME.crl                its current CRL, DER, fresh on revocation;\n"
"                               also at the path of 'ca set --crl-url'\n"
"  /ocsp                        OCSP (POST, and GET /ocsp/BASE64)\n"
"  /acme/NAME/directory         ACME (RFC 8555): accounts, orders for DNS\n"
"                               names, wildcards and IP addresses, checked\n"
"                               by http-01, dns-01 or tls-alpn-01 (a\n"
"                               wildcard by dns-01 only), finalize,\n"
"                               download, revocation, renewal information\n"
"On an empty store the dev CA is made first, as 'issue' does.  It prints\n"
"the URL of each ACME directory and the CA bundle file a client must\n"
"trust, then one line per request (method, path, status, ms).\n"
"\n"
"  --listen ADDR       HTTPS IP:PORT (default 127.0.0.1:8443; port 0: any\n"
"                      free port; binding beyond loopback is your choice)\n"
"  --http-listen ADDR  also plain HTTP for OCSP, CRLs and CA certificates,\n"
"                      as OCSP and CRL clients expect\n"
"  --ca NAME           serve this CA (repeat; default: every CA)\n"
"  --acme, --ocsp, --crl\n"
"                      what to serve (default: all three)\n"
"  --tls-cert REF      the HTTPS certificate: one of the store's with its\n"
"                      key kept (default: a server certificate for the\n"
"                      listen address, issued once and reused)\n"
"  --timeout T         stop after T: 30s, 10m, 2h (a bare number is\n"
"                      seconds)\n"
"  --log-format F      text (default) or json\n"
"  --resolve NAME=ADDR http-01 and tls-alpn-01 connect to ADDR for NAME\n"
"                      instead of asking DNS (repeat; *.app.test=ADDR for\n"
"                      every name below app.test; development on one\n"
"                      machine)\n"
"  --http01-port N     the port http-01 connects to (default 80)\n"
"  --tlsalpn01-port N  the port tls-alpn-01 connects to (default 443)\n"
"  --dns-resolver ADDR the DNS server dns-01 asks for TXT records,\n"
"                      IPv4[:PORT] (default: the system's resolver)\n"
"  --allow NAME|PREFIX the identifiers an order may carry, besides the\n"
"                      CA's name constraints (repeat): .test (names below\n"
"                      test), app.test (it and names below), 10.0.0.0/8;\n"
"                      others get rejectedIdentifier (default: any)\n"
"  --acme-profile P    a certmint profile an order may ask for by name\n"
"                      (repeat; the first is the default; listed in the\n"
"                      directory's meta.profiles; default: server, peer)\n"
"  --rate-orders N     new orders per account and hour (default 300)\n"
"  --rate-failures N   failed validations per account and hour (default\n"
"                      60); past either: rateLimited, Retry-After\n"
"  --rate-ip-orders N, --rate-ip-failures N\n"
"                      the same per client address (default 3000, 600)\n"
"  --eab-required      newAccount needs External Account Binding (keys\n"
"                      from 'certmint acme eab add')\n"
"  --passphrase-file F the CA key's passphrase\n"
"\n"
"Exit: 0 stopped, 2 bad input, 3 store error, 4 cannot listen.\n";

int cmd_serve(cmd_env *env, int argc, char **argv);

static volatile int stop_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct shown {
	const char *bundle;
	char **cas;
	size_t ncas;
	bool acme;
} shown;

static void
ready(const char *https, const char *http, void *arg)
{
	const shown *s = arg;
	char enc[600];
	size_t i;

	printf("listening on %s/\n", https);
	if (http != NULL)
		printf("listening on %s/ (OCSP, CRLs, CA certificates)\n", http);
	for (i = 0; s->acme && i < s->ncas; i++)
		printf("ACME directory: %s/acme/%s/directory\n", https,
		    cm_serve_ca_path(enc, sizeof(enc), s->cas[i]));
	printf("CA bundle to trust: %s\n", s->bundle);
	fflush(stdout);
}

static void
log_line(const char *line, void *arg)
{
	char safe[CMD_SAFE_MAX];

	(void)arg;
	printf("%s\n", cmd_safe(safe, sizeof(safe), line));
	fflush(stdout);
}

/* The HTTPS certificate: --tls-cert, else the store's for the listen
 * address (issued once, recorded, reused while valid). */
static cm_err
tls_identity(char **chain, char **key, cm_store *st, const char *ref,
    const char *listen)
{
	cm_list_filter f = CM_LIST_FILTER_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	const char *names[2];
	cm_cert_info **v = NULL, *c = NULL;
	char host[256], port[16];
	size_t n = 0, i;
	bool loopback;
	cm_err err;

	if (ref != NULL)
		return cm_scenario_load_cert(chain, key, st, ref);
	if (!cmd_split_hostport(listen, host, sizeof(host), port,
	    sizeof(port)))
		snprintf(host, sizeof(host), "127.0.0.1");
	loopback = strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
	f.name = host;
	f.status = "valid";
	if ((err = cm_cert_list(&v, &n, st, &f)) != CM_OK)
		return err;
	for (i = n; i-- > 0;) {
		if (strcmp(v[i]->profile, "server") != 0 ||
		    v[i]->not_after - time(NULL) < 7 * 24 * 3600)
			continue;
		if (cm_scenario_load_cert(chain, key, st, v[i]->serial) ==
		    CM_OK) {
			cm_cert_info_list_free(v, n);
			return CM_OK;
		}
	}
	cm_cert_info_list_free(v, n);
	/* The listen address, and localhost beside a loopback one; when the
	 * CA's name constraints leave localhost out, the address alone. */
	names[0] = host;
	names[1] = "localhost";
	io.profile = "server";
	io.names = names;
	io.nnames = loopback ? 2 : 1;
	if ((err = cm_issue(&c, st, &io)) == CM_E_CONSTRAINT && loopback) {
		io.nnames = 1;
		err = cm_issue(&c, st, &io);
	}
	if (err != CM_OK)
		return err;
	err = cm_scenario_load_cert(chain, key, st, c->serial);
	cm_cert_info_free(c);
	return err;
}

/* The CA certificates a client trusts, beside the store, 0644. */
static int
write_bundle(char *path, size_t len, cm_store *st, cm_ca_info **cas,
    size_t n)
{
	char tmp[4300];
	size_t i;
	FILE *f;
	int fd;

	snprintf(path, len, "%s/ca-bundle.pem", cm_store_dir(st));
	snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "certmint: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return EXIT_USAGE;
	}
	for (i = 0; i < n; i++)
		if (cas[i]->parent == NULL)
			fputs(cas[i]->pem, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "certmint: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_serve(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "http-listen", required_argument, NULL, 'L' },
		{ "ca", required_argument, NULL, 'c' },
		{ "acme", no_argument, NULL, 'A' },
		{ "ocsp", no_argument, NULL, 'O' },
		{ "crl", no_argument, NULL, 'C' },
		{ "tls-cert", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "resolve", required_argument, NULL, 'r' },
		{ "http01-port", required_argument, NULL, 'p' },
		{ "tlsalpn01-port", required_argument, NULL, 'a' },
		{ "dns-resolver", required_argument, NULL, 'D' },
		{ "allow", required_argument, NULL, 'w' },
		{ "rate-ip-orders", required_argument, NULL, 'i' },
		{ "rate-ip-failures", required_argument, NULL, 'I' },
		{ "acme-profile", required_argument, NULL, 'F' },
		{ "rate-orders", required_argument, NULL, 'R' },
		{ "rate-failures", required_argument, NULL, 'X' },
		{ "eab-required", no_argument, NULL, 'E' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_serve_opts so = CM_SERVE_OPTS_INIT;
	cm_ca_init_opts co = CM_CA_INIT_OPTS_INIT;
	cm_ca_info **cas = NULL, *made = NULL;
	cm_store *st = NULL;
	const char *cav[64], *res[64], *prof[16], *allow[64];
	size_t nres = 0, nprof = 0, nallow = 0;
	cm_profile *pp = NULL;
	unsigned hport;
	char *chain = NULL, *key = NULL, bundle[4200];
	char **names = NULL;
	size_t ncav = 0, ncas = 0, i, k;
	long long secs;
	struct sigaction sa;
	shown sh;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'l': so.listen = optarg; break;
		case 'L': so.http_listen = optarg; break;
		case 'c':
			if (ncav == sizeof(cav) / sizeof(cav[0]))
				return cmd_usage_error("serve", "at most 64 "
				    "--ca");
			cav[ncav++] = optarg;
			break;
		case 'A': so.acme = true; break;
		case 'O': so.ocsp = true; break;
		case 'C': so.crl = true; break;
		case 't': so.tls_chain = optarg; break;
		case 'T':
			/* A bare number is seconds here (not days). */
			if (optarg[0] != '\0' && strspn(optarg, "0123456789") ==
			    strlen(optarg) && strlen(optarg) < 9)
				secs = atoll(optarg);
			else if (!cmd_parse_duration(optarg, &secs))
				secs = -1;
			if (secs <= 0 || secs > 30 * 24 * 3600)
				return cmd_usage_error("serve", "--timeout '%s' "
				    "is not a duration (30s, 10m, 2h)", optarg);
			so.timeout = (unsigned)secs;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0)
				return cmd_usage_error("serve", "--log-format "
				    "'%s': text or json", optarg);
			so.log_json = strcmp(optarg, "json") == 0;
			break;
		case 'r':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=' ||
			    nres == sizeof(res) / sizeof(res[0]))
				return cmd_usage_error("serve", "--resolve '%s': "
				    "NAME=ADDR (at most 64)", optarg);
			res[nres++] = optarg;
			break;
		case 'p':
		case 'a':
			if (!cmd_parse_uint(optarg, 65535, &hport) || hport == 0)
				return cmd_usage_error("serve", "--%s-port '%s' "
				    "is not a port", c == 'p' ? "http01" :
				    "tlsalpn01", optarg);
			if (c == 'p')
				so.http01_port = hport;
			else
				so.tlsalpn01_port = hport;
			break;
		case 'D': so.dns_resolver = optarg; break;
		case 'w':
			if (nallow == sizeof(allow) / sizeof(allow[0]))
				return cmd_usage_error("serve", "at most 64 "
				    "--allow");
			allow[nallow++] = optarg;
			break;
		case 'F':
			if (nprof == sizeof(prof) / sizeof(prof[0]) ||
			    strchr(optarg, '/') != NULL)
				return cmd_usage_error("serve", "--acme-profile "
				    "'%s': a profile name (at most 16)", optarg);
			prof[nprof++] = optarg;
			break;
		case 'R':
		case 'X':
		case 'i':
		case 'I':
			if (!cmd_parse_uint(optarg, 1000000, &hport) ||
			    hport == 0)
				return cmd_usage_error("serve", "--rate-%s '%s' "
				    "is not a number from 1", c == 'R' ?
				    "orders" : c == 'X' ? "failures" : c == 'i' ?
				    "ip-orders" : "ip-failures", optarg);
			if (c == 'R')
				so.rate_orders = hport;
			else if (c == 'X')
				so.rate_failures = hport;
			else if (c == 'i')
				so.rate_ip_orders = hport;
			else
				so.rate_ip_failures = hport;
			break;
		case 'E': so.eab_required = true; break;
		case 'P': env->passphrase_file = optarg; break;
		case 'h':
			fputs(serve_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("serve", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("serve", "unexpected argument '%s'",
		    argv[optind]);
	if (!so.acme && !so.ocsp && !so.crl)
		so.acme = so.ocsp = so.crl = true;
	if ((err = cmd_open_store(&st, env, true)) != CM_OK ||
	    (err = cm_ca_list(&cas, &ncas, st)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (ncas == 0) {
		/* An empty store: the dev CA, as 'issue' makes it. */
		if ((err = cm_ca_init(&made, st, &co)) != CM_OK ||
		    (err = cm_ca_list(&cas, &ncas, st)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		fprintf(stderr, "certmint: created CA '%s' (sha256 %s)\n",
		    made->name, made->fingerprint);
	}
	/* Every profile offered must load (built-in or the store's). */
	for (i = 0; i < nprof; i++) {
		if ((err = cm_profile_load(&pp, env->ctx, st, prof[i])) !=
		    CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		cm_profile_free(pp);
		pp = NULL;
	}
	so.profiles = nprof ? prof : NULL;
	so.nprofiles = nprof;
	if ((err = tls_identity(&chain, &key, st, so.tls_chain,
	    so.listen ? so.listen : "127.0.0.1:8443")) != CM_OK) {
		if (err == CM_E_CONSTRAINT && so.tls_chain == NULL) {
			char m[CMD_SAFE_MAX];
			fprintf(stderr, "certmint: serve: the HTTPS certificate: "
			    "%s (give --tls-cert REF)\n", cmd_safe(m, sizeof(m),
			    cm_ctx_error(env->ctx)));
			rc = EXIT_USAGE;
		} else
			rc = cmd_fail(env, err);
		goto out;
	}
	if ((rc = write_bundle(bundle, sizeof(bundle), st, cas, ncas)) !=
	    EXIT_OK)
		goto out;
	/* The ACME directories printed: the CAs served. */
	if ((names = calloc(ncas ? ncas : 1, sizeof(*names))) == NULL) {
		fputs("certmint: out of memory\n", stderr);
		rc = EXIT_STORE;
		goto out;
	}
	for (i = 0, k = 0; i < ncas; i++) {
		size_t j;
		bool want = ncav == 0;
		for (j = 0; j < ncav; j++)
			want |= strcmp(cav[j], cas[i]->name) == 0;
		if (want)
			names[k++] = cas[i]->name;
	}
	sh.bundle = bundle;
	sh.cas = names;
	sh.ncas = k;
	sh.acme = so.acme;
	so.resolve = nres ? res : NULL;
	so.nresolve = nres;
	so.allow = nallow ? allow : NULL;
	so.nallow = nallow;
	so.cas = ncav ? cav : NULL;
	so.ncas = ncav;
	so.tls_chain = chain;
	so.tls_key = key;
	so.ready = ready;
	so.log = log_line;
	so.arg = &sh;
	so.stop = &stop_flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((err = cm_serve(st, &so)) != CM_OK)
		rc = err == CM_E_IO ? (fprintf(stderr, "certmint: %s\n",
		    cm_ctx_error(env->ctx)), EXIT_CRYPTO) : cmd_fail(env, err);
out:
	free(names);
	free(chain);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	cm_ca_info_free(made);
	cm_ca_info_list_free(cas, ncas);
	cm_store_close(st);
	return rc;
}
