/* cmd_trust.c - certmint trust install|uninstall|status: a CA in the
 * system store, NSS databases and Java keystores. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint trust install|uninstall|status [CA] [--system]\n"
"                      [--nss DIR] [--chromium] [--firefox]\n"
"                      [--java KEYSTORE] [--java-password-file F] [--json]\n"
"\n"
"Installs, removes or reports the CA (default: the only one) as a trust\n"
"anchor.  Running it twice changes nothing the second time; it prints\n"
"what it changed.  Without a target: --system --chromium --firefox,\n"
"skipping (with a note) those whose tool is missing.\n"
"\n"
"  --system       the system store: Debian's\n"
"                 /usr/local/share/ca-certificates/certmint-*.crt and\n"
"                 update-ca-certificates (needs root), else p11-kit's\n"
"                 trust tool; CERTMINT_SYSTEM_ROOT moves it under a folder\n"
"  --nss DIR      an NSS database (DIR or sql:DIR), created if absent;\n"
"                 needs certutil (libnss3-tools)\n"
"  --chromium     Chromium's and Chrome's $HOME/.pki/nssdb\n"
"  --firefox      every Firefox profile under $HOME/.mozilla/firefox\n"
"  --java KS      a Java keystore, through keytool (created if absent)\n"
"  --java-password-file F  its password (else CERTMINT_JAVA_PASSWORD,\n"
"                 else \"changeit\")\n"
"  --json         print the places as JSON\n"
"\n"
"The system store counts as installed when its bundle (Debian's\n"
"/etc/ssl/certs/ca-certificates.crt) holds the CA; an install whose\n"
"update-ca-certificates fails leaves nothing behind, and uninstall leaves\n"
"no dangling link in /etc/ssl/certs.  status also names the runtimes that\n"
"do not read the system store (Python requests, Node.js) and the variable\n"
"that makes each one trust it (REQUESTS_CA_BUNDLE, SSL_CERT_FILE,\n"
"NODE_EXTRA_CA_CERTS).\n"
"\n"
"Exit 2 when a tool a target needs is missing.\n";

/*
 * After the system store's status: the runtimes that do not read it, and
 * the line that makes each one trust it.  Python's requests takes
 * certifi's bundle, Node.js its own compiled-in list; a program linked
 * with another OpenSSL build may look elsewhere.
 */
static void
runtimes(const cm_trust_result *sys)
{
	static const char *const bundles[] = {
		"/etc/ssl/certs/ca-certificates.crt",   /* Debian, Arch */
		"/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL */
		"/etc/ssl/ca-bundle.pem",               /* openSUSE */
		NULL
	};
	const char *root = getenv("CERTMINT_SYSTEM_ROOT");
	char bundle[4096], safe[CMD_SAFE_MAX];
	size_t i;

	if (root == NULL)
		root = "";
	snprintf(bundle, sizeof(bundle), "%s%s", root, bundles[0]);
	for (i = 0; bundles[i] != NULL; i++) {
		char b[4096];
		snprintf(b, sizeof(b), "%s%s", root, bundles[i]);
		if (access(b, R_OK) == 0) {
			snprintf(bundle, sizeof(bundle), "%s", b);
			break;
		}
	}
	cmd_safe(safe, sizeof(safe), bundle);
	printf("\nNot reading the system store (set these where they run):\n"
	    "  Python requests (certifi):  export REQUESTS_CA_BUNDLE=%s\n"
	    "  programs with their own OpenSSL (pyenv, conda):  "
	    "export SSL_CERT_FILE=%s\n", safe, safe);
	printf("  Node.js (its own store):    export NODE_EXTRA_CA_CERTS=%s\n",
	    sys->installed && strchr(sys->where, '/') != NULL ?
	    cmd_safe(safe, sizeof(safe), sys->where) : "ca.crt (certmint ca "
	    "show --pem > ca.crt)");
}

int
cmd_trust(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "system", no_argument, NULL, 's' },
		{ "nss", required_argument, NULL, 'n' },
		{ "chromium", no_argument, NULL, 'c' },
		{ "firefox", no_argument, NULL, 'f' },
		{ "java", required_argument, NULL, 'J' },
		{ "java-password-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_trust_opts o = CM_TRUST_OPTS_INIT;
	cm_trust_action action;
	cm_trust_result **res = NULL;
	const char *pwfile = NULL, *ca = NULL;
	char *password = NULL;
	cm_store *st = NULL;
	bool json = false;
	size_t n = 0, i;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 's':
			o.targets |= CM_TRUST_SYSTEM;
			break;
		case 'n':
			o.targets |= CM_TRUST_NSS;
			o.nss_dir = optarg;
			break;
		case 'c':
			o.targets |= CM_TRUST_CHROMIUM;
			break;
		case 'f':
			o.targets |= CM_TRUST_FIREFOX;
			break;
		case 'J':
			o.targets |= CM_TRUST_JAVA;
			o.java_keystore = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("trust", argv);
		}
	}
	if (optind == argc)
		return cmd_usage_error("trust", "install, uninstall or status?");
	if (strcmp(argv[optind], "install") == 0)
		action = CM_TRUST_INSTALL;
	else if (strcmp(argv[optind], "uninstall") == 0)
		action = CM_TRUST_UNINSTALL;
	else if (strcmp(argv[optind], "status") == 0)
		action = CM_TRUST_STATUS;
	else
		return cmd_usage_error("trust", "'%s': install, uninstall or "
		    "status?", argv[optind]);
	optind++;
	if (optind < argc)
		ca = argv[optind++];
	if (optind != argc)
		return cmd_usage_error("trust", "unexpected argument '%s'",
		    argv[optind]);
	if (o.targets == 0)
		o.targets = CM_TRUST_SYSTEM | CM_TRUST_CHROMIUM |
		    CM_TRUST_FIREFOX | CM_TRUST_SKIP_MISSING;
	if ((o.targets & CM_TRUST_JAVA) && (pwfile != NULL ||
	    getenv("CERTMINT_JAVA_PASSWORD") != NULL)) {
		if ((rc = cmd_read_password(&password, pwfile,
		    "CERTMINT_JAVA_PASSWORD", "Java keystore password",
		    false)) != EXIT_OK)
			return rc;
		o.java_password = password;
	}
	if ((err = cmd_open_store(&st, env, false)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if ((err = cm_trust(&res, &n, st, ca, action, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (i = 0; i < n; i++) {
			json_t *r = json_object();
			json_object_set_new(r, "target",
			    json_string(res[i]->target));
			json_object_set_new(r, "where",
			    json_string(res[i]->where));
			json_object_set_new(r, "installed",
			    json_boolean(res[i]->installed));
			json_object_set_new(r, "changed",
			    json_boolean(res[i]->changed));
			json_object_set_new(r, "note", res[i]->note ?
			    json_string(res[i]->note) : json_null());
			json_array_append_new(a, r);
		}
		rc = cmd_print_json(a);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *what;
		if (action == CM_TRUST_STATUS)
			what = res[i]->installed ? "installed" :
			    "not installed";
		else if (!res[i]->changed)
			what = res[i]->installed ? "already installed" :
			    "not installed, nothing to remove";
		else
			what = res[i]->installed ? "installed" : "removed";
		printf("%-9s %-20s ", res[i]->target, what);
		cmd_fputs_safe(res[i]->where, stdout);
		if (res[i]->note != NULL) {
			fputs(" (", stdout);
			cmd_fputs_safe(res[i]->note, stdout);
			fputs(")", stdout);
		}
		fputs("\n", stdout);
	}
	for (i = 0; i < n && action == CM_TRUST_STATUS; i++)
		if (strcmp(res[i]->target, "system") == 0) {
			runtimes(res[i]);
			break;
		}
	rc = EXIT_OK;
out:
	cmd_free_password(password);
	cm_trust_result_list_free(res, n);
	cm_store_close(st);
	return rc;
}
