/* cmd_acme.c - certmint acme eab add: External Account Binding keys for
 * certmint serve's ACME directories. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char acme_usage[] =
"usage: certmint acme eab add [--ca N] [--json]\n"
"\n"
"Makes an External Account Binding key (RFC 8555 7.3.4) for the ACME\n"
"directory of a CA and records it: a key id and an HMAC key (base64url,\n"
"32 octets) to give to one ACME client, e.g. certbot --eab-kid KID\n"
"--eab-hmac-key KEY.  Each key binds one account; 'certmint serve\n"
"--eab-required' then refuses accounts without one.  The HMAC key is shown\n"
"once, here.\n"
"\n"
"  --ca N    the CA (default: the only one)\n"
"  --json    {\"kid\": ..., \"hmac_key\": ...}\n";

int cmd_acme(cmd_env *env, int argc, char **argv);

int
cmd_acme(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *ca = NULL;
	char *kid = NULL, *key = NULL;
	cm_store *st = NULL;
	bool json = false;
	int c, rc = EXIT_OK;
	cm_err err;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c': ca = optarg; break;
		case 'j': json = true; break;
		case 'h':
			fputs(acme_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("acme", argv);
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "eab") != 0 ||
	    strcmp(argv[optind + 1], "add") != 0)
		return cmd_usage_error("acme", "say: certmint acme eab add");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_acme_eab_add(&kid, &key, st, ca)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:s}", "kid", kid, "hmac_key", key);
		rc = cmd_print_json(o);
	} else
		printf("kid: %s\nhmac-key: %s\n", kid, key);
out:
	free(kid);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	cm_store_close(st);
	return rc;
}
