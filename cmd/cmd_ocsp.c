/* cmd_ocsp.c - certmint ocsp serve | ocsp response. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd.h"

#define MAX_CAS 64

static const char usage[] =
"usage: certmint ocsp serve [--listen ADDR] [--ca N]... [--signer CERT]\n"
"                           [--validity D] [--count N] [--timeout T]\n"
"                           [--passphrase-file F]\n"
"       certmint ocsp response SERIAL|NAME --out F [--signer CERT]\n"
"                           [--validity D] [--passphrase-file F]\n"
"\n"
"serve     an OCSP responder (RFC 6960, GET and POST) for the store's\n"
"          CAs.  Responses are signed ahead and kept; a revocation made by\n"
"          another certmint shows in the next response.  Prints\n"
"          'listening on http://HOST:PORT/' when ready.  A connection\n"
"          must send a whole request within 5 s (0.5 s while more than\n"
"          3/4 of the connections are in use), however it trickles;\n"
"          idle ones close after 10 s; at most 4096 connections (and a\n"
"          quarter of them per client address when not on loopback).\n"
"response  writes the DER OCSP response for one certificate (stapling).\n"
"\n"
"  --listen ADDR     IP:PORT (default 127.0.0.1:8080; port 0: any free\n"
"                    port; binding beyond loopback is your choice)\n"
"  --ca N            answer for this CA (repeat; default: every CA)\n"
"  --signer CERT     sign with this delegated responder certificate (issued\n"
"                    with --profile ocsp-signer, key kept in the store)\n"
"                    instead of the CA key; alone, it answers for its\n"
"                    own CA only\n"
"  --validity D      thisUpdate to nextUpdate: 1h, 1d (default), 7d\n"
"  --count N         stop after N requests\n"
"  --timeout T       stop after T, in whole seconds: 30s, 10m, 2h (a\n"
"                    bare number is seconds)\n"
"  --out F           response file (an existing one is replaced)\n"
"  --passphrase-file F  passphrase of encrypted CA or signer keys\n";

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
ready(const char *host, unsigned port, void *arg)
{
	(void)arg;
	if (strchr(host, ':') != NULL)
		printf("listening on http://[%s]:%u/\n", host, port);
	else
		printf("listening on http://%s:%u/\n", host, port);
	fflush(stdout);
}

int
cmd_ocsp(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ca", required_argument, NULL, 'c' },
		{ "signer", required_argument, NULL, 's' },
		{ "validity", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_ocsp_opts o = CM_OCSP_OPTS_INIT;
	cm_ocsp_serve_opts so = CM_OCSP_SERVE_OPTS_INIT;
	const char *cas[MAX_CAS], *out = NULL, *sub;
	size_t ncas = 0;
	cm_store *st = NULL;
	cm_ocsp_responder *r = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	struct sigaction sa;
	struct rlimit rl;
	long long secs;
	unsigned long long span;
	unsigned v;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'l':
			so.listen = optarg;
			break;
		case 'c':
			if (ncas == MAX_CAS)
				return cmd_usage_error("ocsp", "more than %d "
				    "--ca", MAX_CAS);
			cas[ncas++] = optarg;
			break;
		case 's':
			o.signer = optarg;
			break;
		case 'v':
			if (!cmd_parse_duration(optarg, &secs) || secs == 0 ||
			    secs > 366LL * 86400)
				return cmd_usage_error("ocsp", "--validity '%s' "
				    "is not a duration like 1h or 1d (at most "
				    "a year)", optarg);
			o.validity = (unsigned)secs;
			break;
		case 'n':
			if (!cmd_parse_uint(optarg, 1000000000u, &v) || v == 0)
				return cmd_usage_error("ocsp", "--count '%s' is "
				    "not a positive number", optarg);
			so.count = v;
			break;
		case 't':
			if (!cmd_parse_ms(optarg, 1000, 86400000ull * 366, &span))
				return cmd_usage_error("ocsp", "--timeout '%s' "
				    "is not a time up to a year (30s, 10m, 2h; "
				    "a bare number is seconds)", optarg);
			so.timeout = (unsigned)((span + 999) / 1000);
			break;
		case 'o':
			out = optarg;
			break;
		case 'P':
			env->passphrase_file = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("ocsp", argv);
		}
	}
	if (optind >= argc)
		return cmd_usage_error("ocsp", "say serve or response");
	sub = argv[optind++];
	o.cas = ncas ? cas : NULL;
	o.ncas = ncas;
	if (strcmp(sub, "serve") == 0) {
		if (optind != argc)
			return cmd_usage_error("ocsp", "serve takes no "
			    "argument ('%s')", argv[optind]);
		if (out != NULL)
			return cmd_usage_error("ocsp", "--out is for 'ocsp "
			    "response'");
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = cm_ocsp_responder_new(&r, st, &o)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		so.stop = &stop_flag;
		so.ready = ready;
		/* Descriptors for the connection limit, not the 1024 a shell
		 * gives (see ocsp_http.c). */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
		if ((err = cm_ocsp_serve(r, &so)) != CM_OK)
			rc = cmd_fail(env, err);
	} else if (strcmp(sub, "response") == 0) {
		if (argc - optind != 1)
			return cmd_usage_error("ocsp", "response takes one "
			    "SERIAL or NAME");
		if (out == NULL)
			return cmd_usage_error("ocsp", "response needs --out F");
		if (so.listen || so.count || so.timeout)
			return cmd_usage_error("ocsp", "--listen, --count and "
			    "--timeout are for 'ocsp serve'");
		if ((err = cmd_open_store(&st, env, false)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (ncas == 0 && o.signer == NULL) {
			/* Only the certificate's own CA needs its key. */
			cm_cert_info *ci = NULL;
			if ((err = cm_cert_find(&ci, st, argv[optind])) !=
			    CM_OK) {
				rc = cmd_fail(env, err);
				goto out;
			}
			cas[0] = ci->ca;
			o.cas = cas;
			o.ncas = 1;
			err = cm_ocsp_responder_new(&r, st, &o);
			cm_cert_info_free(ci);
		} else {
			err = cm_ocsp_responder_new(&r, st, &o);
		}
		if (err != CM_OK || (err = cm_ocsp_response_for(&der, &derlen,
		    r, argv[optind])) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		/* A response for stapling, refreshed in place: replaced. */
		if ((err = cm_file_write(env->ctx, out, der, derlen, 0644,
		    true)) != CM_OK)
			rc = cmd_fail(env, err);
	} else {
		return cmd_usage_error("ocsp", "unknown subcommand '%s'", sub);
	}
out:
	free(der);
	cm_ocsp_responder_free(r);
	cm_store_close(st);
	return rc;
}
