/* cmd_passwd.c - certmint passwd: set, change or remove the store
 * passphrase, which encrypts every key of the store. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint passwd [--passphrase-file OLD] [--new-passphrase-file NEW]\n"
"                       [--remove]\n"
"\n"
"Sets, changes or removes the store passphrase.  One passphrase encrypts\n"
"every private key of the store (CA keys and kept leaf keys) as PKCS#8\n"
"with PBES2 (PBKDF2-HMAC-SHA256, 600000 iterations, AES-256-CBC); all\n"
"keys are re-encrypted in one transaction, so a failure changes nothing.\n"
"Then the old copies of the keys, left in the store's WAL and pages, are\n"
"wiped (zeros, synced) before it reports success.  When another program\n"
"reads the store for more than the busy timeout (5 s), it fails (exit 3)\n"
"naming that program: the new passphrase stands, the wipe is pending and\n"
"the next certmint command that opens the store finishes it ('certmint\n"
"status' says when one is pending).\n"
"\n"
"  --passphrase-file OLD      the current passphrase (else\n"
"                             CERTMINT_PASSPHRASE, else a prompt)\n"
"  --new-passphrase-file NEW  the new passphrase (else\n"
"                             CERTMINT_NEW_PASSPHRASE, else a prompt twice)\n"
"  --remove                   store the keys unencrypted\n";

int
cmd_passwd(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'f' },
		{ "new-passphrase-file", required_argument, NULL, 'n' },
		{ "remove", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *newfile = NULL;
	char *newpass = NULL;
	cm_store *st = NULL;
	bool remove = false, had = false;
	size_t n = 0;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'f':
			env->passphrase_file = optarg;
			break;
		case 'n':
			newfile = optarg;
			break;
		case 'r':
			remove = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("passwd", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("passwd", "unexpected argument '%s'",
		    argv[optind]);
	if (remove && newfile != NULL)
		return cmd_usage_error("passwd", "--remove and "
		    "--new-passphrase-file exclude each other");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK)
		return cmd_fail(env, err);
	if ((err = cm_store_has_passphrase(&had, st)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (!remove && (rc = cmd_read_password(&newpass, newfile,
	    "CERTMINT_NEW_PASSPHRASE", "New store passphrase", true)) !=
	    EXIT_OK)
		goto out;
	if ((err = cm_store_passwd(&n, st, NULL, newpass)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	printf("%s the store passphrase: %zu key%s %s\n",
	    remove ? "Removed" : had ? "Changed" : "Set", n, n == 1 ? "" : "s",
	    remove ? "decrypted (kept in the clear)" : had ? "re-encrypted" :
	    "encrypted");
	rc = EXIT_OK;
out:
	cmd_free_password(newpass);
	cm_store_close(st);
	return rc;
}
