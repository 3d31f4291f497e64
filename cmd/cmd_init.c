/* cmd_init.c - certmint init: create a root CA. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define MAX_PERMIT 64

static const char usage[] =
"usage: certmint init [--name N] [--key-type T] [--days D] [--permit NAME]...\n"
"                     [--passphrase-file F | --ask-passphrase] [--profile P]\n"
"                     [--key-uri pkcs11:URI] [--json]\n"
"\n"
"Creates a self-signed root CA in the store (created if absent).\n"
"\n"
"  --name N            CA name and common name (default \"certmint dev CA\")\n"
"  --key-type T        ec-p256 (default), ec-p384, ec-p521, ed25519, ed448,\n"
"                      rsa-2048, rsa-3072, rsa-4096\n"
"  --days D            validity in days (default 3650)\n"
"  --permit NAME       critical name constraint, repeatable: a DNS suffix\n"
"                      (.test or test: test and all names below it), an IP\n"
"                      range (127.0.0.0/8, ::1/128) or an email domain\n"
"                      (@example.test); the CA then cannot sign other names\n"
"                      of the same kind, nor a URI whose host is not a\n"
"                      permitted DNS name or address\n"
"  --passphrase-file F encrypt the CA key (PBES2, AES-256) with the first\n"
"                      line of F; CERTMINT_PASSPHRASE does the same\n"
"  --ask-passphrase    prompt for the passphrase on the terminal\n"
"  --profile P         CA profile (default root-ca)\n"
"  --key-uri URI       the CA key is in a PKCS#11 token: its pkcs11: URI\n"
"                      (RFC 7512); the PIN from CERTMINT_PIN, else\n"
"                      --passphrase-file, CERTMINT_PASSPHRASE, the URI's\n"
"                      pin-source or asked\n"
"                      (never pin-value); CERTMINT_PKCS11_MODULE loads\n"
"                      a module p11-kit does not know\n"
"  --json              print the new CA as JSON\n";

/* name in single quotes for sh. */
static void
print_quoted(const char *name)
{
	putchar('\'');
	for (; *name != '\0'; name++)
		if (*name == '\'')
			printf("'\\''");
		else
			putchar(*name);
	putchar('\'');
}

int
cmd_init(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'd' },
		{ "permit", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'f' },
		/* Exact, so getopt_long does not take "--passphrase X" as an
		 * abbreviation of --passphrase-file and open a file named
		 * after the secret. */
		{ "passphrase", required_argument, NULL, 'S' },
		{ "ask-passphrase", no_argument, NULL, 'a' },
		{ "profile", required_argument, NULL, 'P' },
		{ "key-uri", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	const char *permit[MAX_PERMIT];
	cm_ca_info *ca = NULL;
	cm_store *st = NULL;
	char *pass = NULL, nb[32], na[32];
	char sn[CMD_SAFE_MAX], ss[CMD_SAFE_MAX];
	size_t ncas = 0;
	const char *key_uri = NULL;
	bool ask = false, json = false;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'n':
			o.name = optarg;
			break;
		case 'k':
			if (!cmd_opt_key_type(env, "init", optarg,
			    &o.key_type))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!cmd_opt_days("init", optarg, &o.days))
				return EXIT_USAGE;
			break;
		case 'p':
			if (o.npermit == MAX_PERMIT)
				return cmd_usage_error("init", "more than %d "
				    "--permit", MAX_PERMIT);
			permit[o.npermit++] = optarg;
			break;
		case 'f':
			env->passphrase_file = optarg;
			break;
		case 'a':
			ask = true;
			break;
		case 'P':
			o.profile = optarg;
			break;
		case 'U':
			key_uri = optarg;
			if (!cmd_key_uri_ok("init", key_uri))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'S':
			return cmd_usage_error("init", "--passphrase: a "
			    "passphrase is never taken from the command line; "
			    "use --passphrase-file or CERTMINT_PASSPHRASE");
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("init", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("init", "unexpected argument '%s'",
		    argv[optind]);
	o.permit = permit;
	if ((err = cmd_new_passphrase(&pass, env, ask)) != CM_OK)
		return cmd_fail(env, err);
	o.passphrase = pass;
	if ((err = cmd_open_store(&st, env, true)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if ((err = key_uri ? cm_ca_init_key_uri(&ca, st, &o, key_uri) :
	    cm_ca_init(&ca, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_ca_json(ca));
		goto out;
	}
	cmd_time(nb, sizeof(nb), ca->not_before);
	cmd_time(na, sizeof(na), ca->not_after);
	printf("Created CA '%s'\n"
	    "  subject      %s\n"
	    "  key          %s%s\n"
	    "  valid        %s to %s\n"
	    "  sha256       %s\n",
	    cmd_safe(sn, sizeof(sn), ca->name), cmd_safe(ss, sizeof(ss),
	    ca->subject), ca->key_type,
	    ca->encrypted ? " (encrypted)" : "", nb, na, ca->fingerprint);
	for (size_t i = 0; i < ca->npermitted; i++)
		printf("  %s %s\n", i == 0 ? "permits     " : "            ",
		    ca->permitted[i]);
	if (cm_ca_count(&ncas, st) == CM_OK && ncas > 1) {
		/* Not the only CA: the hints must name it, quoted for sh
		 * (after "--" when it looks like an option). */
		bool dash = ca->name[0] == '-';
		printf("Trust it: certmint ca show %s", dash ? "--pem -- " :
		    "");
		print_quoted(ca->name);
		printf("%s > ca.crt\n", dash ? "" : " --pem");
		printf("Install it: certmint trust install %s", dash ? "-- " :
		    "");
		print_quoted(ca->name);
		printf("\n");
	} else {
		printf("Trust it: certmint ca show --pem > ca.crt\n");
		printf("Install it: certmint trust install\n");
	}
	rc = EXIT_OK;
out:
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	cm_ca_info_free(ca);
	cm_store_close(st);
	return rc;
}
