/* main.c - the certmint command line: global options and dispatch. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static int cmd_help(cmd_env *env, int argc, char **argv);
static int cmd_version(cmd_env *env, int argc, char **argv);

static const struct command {
	const char *name;
	cmd_fn fn;
	const char *help;
} commands[] = {
	{ "init", cmd_init, "Create a root CA (the dev CA)" },
	{ "ca", cmd_ca, "Create (intermediates), list and show CAs" },
	{ "issue", cmd_issue, "Issue server, client or peer certificates" },
	{ "list", cmd_list, "List issued certificates" },
	{ "show", cmd_show, "Show one certificate" },
	{ "sign", cmd_sign, "Sign a certificate request (CSR)" },
	{ "renew", cmd_renew, "Renew a certificate" },
	{ "revoke", cmd_revoke, "Revoke a certificate or an intermediate CA" },
	{ "status", cmd_status, "Counts, next expiries, CRLs due" },
	{ "store", cmd_store, "Check a store, or copy it to another backend" },
	{ "export", cmd_export, "Export a certificate or CA (PEM, p12, ...)" },
	{ "import", cmd_import, "Adopt an existing CA or its certificates" },
	{ "trust", cmd_trust, "Install a CA in system, NSS and Java stores" },
	{ "passwd", cmd_passwd, "Set, change or remove the store passphrase" },
	{ "test", cmd_test, "Prove certificates with real TLS handshakes" },
	{ "verify", cmd_verify, "Verify a chain and explain the verdict" },
	{ "crl", cmd_crl, "Publish a certificate revocation list" },
	{ "ocsp", cmd_ocsp, "Run an OCSP responder, or write a response" },
	{ "serve", cmd_serve, "The online CA: ACME, OCSP, CRLs over HTTPS" },
	{ "acme", cmd_acme, "External Account Binding keys for serve" },
	{ "help", cmd_help, "Show help for a command" },
	{ "version", cmd_version, "Print the version" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: certmint [--store PATH] COMMAND [ARGS]\n\n"
	    "A local certificate authority with an inventory.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
	    "  --store PATH   the store (default: $CERTMINT_STORE, else\n"
	    "                 $XDG_DATA_HOME/certmint/certmint.db, else\n"
	    "                 ~/.local/share/certmint/certmint.db)\n"
	    "  -h, --help     this help; 'certmint COMMAND --help' for a "
	    "command\n"
	    "  --version      print the version\n\n"
	    "Quick start:\n"
	    "  certmint issue server localhost 127.0.0.1 ::1\n"
	    "      creates the dev CA on first use, writes localhost.crt and "
	    "localhost.key\n"
	    "  certmint ca show --pem > ca.crt   the CA to trust\n\n"
	    "Exit codes: 0 ok, 1 mismatch, 2 usage, bad input or an output "
	    "file that\ncannot be written, 3 store error, 4 crypto or TLS "
	    "error.\n");
}

static int
cmd_version(cmd_env *env, int argc, char **argv)
{
	(void)env;
	(void)argc;
	(void)argv;
	printf("certmint %s (store schema %d)\n", PACKAGE_VERSION,
	    cm_store_schema_latest());
	return EXIT_OK;
}

static int
dispatch(cmd_env *env, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(env, argc, argv);
	fprintf(stderr, "certmint: unknown command '%s' (see certmint "
	    "--help)\n", argv[0]);
	return EXIT_USAGE;
}

/* "help ca create" is "ca create --help": every word goes along. */
static int
cmd_help(cmd_env *env, int argc, char **argv)
{
	char *sub[8];
	int i, n = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 4) {
		fprintf(stderr, "certmint help: give a command and at most "
		    "two subcommands (see certmint help)\n");
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		sub[n++] = argv[i];
	sub[n++] = (char *)"--help";
	sub[n] = NULL;
	return dispatch(env, n, sub);
}

/*
 * A secret is never taken from argv: --passphrase, --password and --pin
 * (with a value or not) are refused for every command, before getopt
 * could read one as an abbreviation of --passphrase-file or
 * --password-file and name the secret as a missing file.
 */
static bool
secret_in_argv(int argc, char **argv)
{
	static const char *const banned[] = { "--passphrase", "--password",
	    "--pin" };
	size_t k, n;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		for (k = 0; k < sizeof(banned) / sizeof(banned[0]); k++) {
			n = strlen(banned[k]);
			if (strncmp(argv[i], banned[k], n) != 0 ||
			    (argv[i][n] != '\0' && argv[i][n] != '='))
				continue;
			fprintf(stderr, "certmint %s: %s: a secret is never "
			    "taken from the command line; use "
			    "--passphrase-file or CERTMINT_PASSPHRASE (export: "
			    "--password-file or CERTMINT_EXPORT_PASSWORD)\n",
			    argv[0], banned[k]);
			return true;
		}
	}
	return false;
}

/* Sanitizer builds keep the normal exit: LeakSanitizer checks at exit.
 * GCC says so with __SANITIZE_ADDRESS__, clang with __has_feature;
 * configure's CM_SANITIZERS covers the rest (-fsanitize=leak, fuzzing). */
#if defined(__SANITIZE_ADDRESS__) || defined(CM_SANITIZERS)
#define CM_NORMAL_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define CM_NORMAL_EXIT 1
#endif
#endif

/*
 * Every way out of main: output that could not be written (a full disk)
 * is a failure with its one line, unless the command failed and said so
 * already.  Then _exit: the store is closed and the streams flushed, and
 * the libraries' destructors (GnuTLS's deinit, through libmicrohttpd's)
 * only free memory the exit frees anyway.  (PKCS#11 modules are not
 * finalized at exit either way: lib/pkcs11.c.)
 */
static int
finish(int rc)
{
	if (rc == EXIT_OK && cmd_stdout_failed())
		rc = EXIT_USAGE;
#if !defined(CM_NORMAL_EXIT)
	(void)fflush(NULL);
	_exit(rc);
#endif
	return rc;
}

int
main(int argc, char **argv)
{
	cmd_env env;
	int i = 1, rc;

	memset(&env, 0, sizeof(env));
	opterr = 0;	/* commands report bad options in one line */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
			env.store_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			env.store_path = argv[i] + 8;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return finish(EXIT_OK);
		} else if (strcmp(argv[i], "--version") == 0) {
			return finish(cmd_version(&env, 0, NULL));
		} else {
			if (strcmp(argv[i], "--store") == 0)
				fprintf(stderr, "certmint: option '--store' "
				    "needs a path (see certmint --help)\n");
			else
				fprintf(stderr, "certmint: unknown option "
				    "'%s' (see certmint --help)\n", argv[i]);
			return finish(EXIT_USAGE);
		}
	}
	if (i == argc) {
		usage(stderr);
		return finish(EXIT_USAGE);
	}
	if (secret_in_argv(argc - i, argv + i))
		return finish(EXIT_USAGE);
	if (cm_ctx_new(&env.ctx) != CM_OK) {
		fprintf(stderr, "certmint: cannot initialise GnuTLS\n");
		return finish(EXIT_CRYPTO);
	}
	cm_ctx_set_passphrase_fn(env.ctx, cmd_passphrase_cb, &env);
	rc = dispatch(&env, argc - i, argv + i);
	/* A failed command leaves no new, empty store behind. */
	if (rc != EXIT_OK)
		cmd_store_cleanup(&env);
	if (env.cached_pass != NULL) {
		explicit_bzero(env.cached_pass, strlen(env.cached_pass));
		free(env.cached_pass);
	}
	cm_ctx_free(env.ctx);
	return finish(rc);
}
