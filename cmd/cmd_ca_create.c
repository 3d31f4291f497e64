/* cmd_ca_create.c - certmint ca create: an intermediate CA. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define MAX_PERMIT 64

static const char usage[] =
"usage: certmint ca create NAME --parent CA [--pathlen N] [--permit NAME]...\n"
"                          [--key-type T | --key-uri pkcs11:URI] [--days D]\n"
"                          [--profile P] [--passphrase-file F] [--json]\n"
"\n"
"Creates an intermediate CA signed by CA (a root or another intermediate).\n"
"It is also recorded as a certificate of its parent, so 'certmint revoke\n"
"NAME' revokes it; a revoked or expired CA, or one below a revoked CA,\n"
"cannot sign.  Issue under it with --ca NAME and write --chain.\n"
"\n"
"  --parent CA         the issuing CA (required)\n"
"  --pathlen N         how many CAs may follow below it (default 0: it signs\n"
"                      leaves only); refused when the parent's path length\n"
"                      does not allow another CA\n"
"  --permit NAME       critical name constraint, repeatable, as for 'init';\n"
"                      each must lie inside the parent's constraints; none\n"
"                      given: the parent's are inherited\n"
"  --key-type T        ec-p256 (default), ec-p384, ec-p521, ed25519, ed448,\n"
"                      rsa-2048, rsa-3072, rsa-4096\n"
"  --key-uri URI       the new CA's key is in a PKCS#11 token: its pkcs11:\n"
"                      URI (module: CERTMINT_PKCS11_MODULE; PIN: the URI's\n"
"                      pin-source, CERTMINT_PASSPHRASE or a prompt); the\n"
"                      store keeps the URI, never the key\n"
"  --days D            validity in days (default 1825), never beyond the\n"
"                      parent's\n"
"  --profile P         CA profile (default intermediate-ca)\n"
"  --passphrase-file F the parent's passphrase; the new key is encrypted\n"
"                      with it too (or CERTMINT_PASSPHRASE; without either\n"
"                      the new key is encrypted when the parent's is, with\n"
"                      the parent's passphrase)\n"
"  --json              print the new CA as JSON\n";

int
cmd_ca_create(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parent", required_argument, NULL, 'P' },
		{ "pathlen", required_argument, NULL, 'l' },
		{ "permit", required_argument, NULL, 'p' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "key-uri", required_argument, NULL, 'U' },
		{ "days", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'r' },
		{ "passphrase-file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;
	const char *permit[MAX_PERMIT];
	cm_ca_info *ca = NULL;
	cm_store *st = NULL;
	char *pass = NULL, nb[32], na[32], pltext[64];
	char sn[CMD_SAFE_MAX], sp[CMD_SAFE_MAX], ss[CMD_SAFE_MAX];
	unsigned pl;
	bool json = false;
	size_t i;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'P': o.parent = optarg; break;
		case 'r': o.profile = optarg; break;
		case 'U':
			o.key_uri = optarg;
			if (!cmd_key_uri_ok("ca create", o.key_uri))
				return EXIT_USAGE;
			break;
		case 'f': env->passphrase_file = optarg; break;
		case 'j': json = true; break;
		case 'l':
			if (!cmd_parse_uint(optarg, 255, &pl))
				return cmd_usage_error("ca create", "--pathlen "
				    "'%s' is not a number (0-255)", optarg);
			o.path_len = (int)pl;
			break;
		case 'p':
			if (o.npermit == MAX_PERMIT)
				return cmd_usage_error("ca create", "more than "
				    "%d --permit", MAX_PERMIT);
			permit[o.npermit++] = optarg;
			break;
		case 'k':
			if (!cmd_opt_key_type(env, "ca create", optarg,
			    &o.key_type))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!cmd_opt_days("ca create", optarg, &o.days))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("ca create", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("ca create", "give one NAME");
	if (o.parent == NULL)
		return cmd_usage_error("ca create", "--parent is required (a "
		    "root CA is made by 'certmint init')");
	o.name = argv[optind];
	o.permit = permit;
	/* A passphrase from file or environment also encrypts the new key. */
	if ((err = cmd_new_passphrase(&pass, env, false)) != CM_OK)
		return cmd_fail(env, err);
	o.passphrase = pass;
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_ca_create(&ca, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_ca_json(ca));
		goto out;
	}
	cmd_time(nb, sizeof(nb), ca->not_before);
	cmd_time(na, sizeof(na), ca->not_after);
	if (ca->path_len < 0)
		snprintf(pltext, sizeof(pltext), "unlimited");
	else if (ca->path_len == 0)
		snprintf(pltext, sizeof(pltext), "0 (signs leaves only)");
	else
		snprintf(pltext, sizeof(pltext), "%d (at most %d CA%s "
		    "below it)", ca->path_len, ca->path_len,
		    ca->path_len == 1 ? "" : "s");
	/* Names and subject as a terminal should see them (cmd_safe). */
	printf("Created CA '%s' under '%s'\n"
	    "  subject      %s\n"
	    "  serial       %s\n"
	    "  key          %s%s\n"
	    "  valid        %s to %s\n"
	    "  path length  %s\n"
	    "  sha256       %s\n",
	    cmd_safe(sn, sizeof(sn), ca->name), cmd_safe(sp, sizeof(sp),
	    ca->parent), cmd_safe(ss, sizeof(ss), ca->subject), ca->serial,
	    ca->key_type,
	    ca->encrypted ? " (encrypted)" : "", nb, na, pltext,
	    ca->fingerprint);
	for (i = 0; i < ca->npermitted; i++)
		printf("  %s %s\n", i == 0 ? "permits     " : "            ",
		    ca->permitted[i]);
out:
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	cm_ca_info_free(ca);
	cm_store_close(st);
	return rc;
}
