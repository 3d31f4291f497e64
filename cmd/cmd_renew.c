/* cmd_renew.c - certmint renew. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint renew SERIAL|NAME [--rekey] [--revoke-old] [--cert F]\n"
"                      [--key F] [--chain F] [--days D] [--profile P]\n"
"                      [--force] [--passphrase-file F] [--json]\n"
"\n"
"Issues a successor: the same names, profile, CA and key type, a new serial\n"
"and validity.  Without --rekey the key kept in the store is reused (a\n"
"certificate signed from a request, or issued with --no-keep-key, has none:\n"
"use --rekey).  Only a profile's name is recorded: a certificate issued\n"
"with a profile file, or imported, is renewed with --profile.  The old\n"
"certificate stays in the inventory:\n"
"\n"
"  superseded   (default) replaced, not revoked: it keeps working until it\n"
"               expires, stays off CRLs, and can still be revoked\n"
"  revoked      with --revoke-old: revoked now with reason superseded\n"
"\n"
"  --rekey             generate a new key\n"
"  --revoke-old        revoke the old certificate (reason superseded)\n"
"  --cert F, --key F   output files (default NAME.crt, NAME.key; with\n"
"                      --cert dir/x.crt alone, the key is dir/x.key)\n"
"  --chain F           also write the issuers up to, not including, the root\n"
"  --days D            validity (default: the profile's)\n"
"  --profile P         a profile name or a .tmpl file instead of the\n"
"                      recorded profile\n"
"  --force             overwrite existing files\n"
"  --passphrase-file F passphrase of an encrypted CA key\n"
"  --json              print the new certificate as JSON\n";

int
cmd_renew(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rekey", no_argument, NULL, 'r' },
		{ "revoke-old", no_argument, NULL, 'R' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "chain", required_argument, NULL, 'H' },
		{ "days", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "profile", required_argument, NULL, 'P' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_renew_opts o = CM_RENEW_OPTS_INIT;
	cm_cert_info *old = NULL, *res = NULL;
	cm_store *st = NULL;
	char stem[256], *cert = NULL, *key = NULL, na[32];
	bool json = false;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'r': o.rekey = true; break;
		case 'R': o.revoke_old = true; break;
		case 'C': o.cert_path = optarg; break;
		case 'K': o.key_path = optarg; break;
		case 'H': o.chain_path = optarg; break;
		case 'f': o.force = true; break;
		case 'P': o.profile = optarg; break;
		case 'p': env->passphrase_file = optarg; break;
		case 'j': json = true; break;
		case 'd':
			if (!cmd_opt_days("renew", optarg, &o.days))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("renew", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("renew", "give one SERIAL or NAME");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_cert_find(&old, st, argv[optind])) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	/* Files named after the first name, as 'issue' does; the key beside
	 * a certificate the user placed. */
	if (o.cert_path != NULL && o.key_path == NULL &&
	    (key = cmd_key_beside(o.cert_path)) != NULL)
		o.key_path = key;
	if (o.cert_path == NULL || o.key_path == NULL) {
		if ((err = cm_name_file_stem(stem, sizeof(stem), env->ctx,
		    old->names[0])) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (o.cert_path == NULL &&
		    asprintf(&cert, "%s.crt", stem) < 0) {
			cert = NULL;
			rc = cmd_fail(env, CM_E_NOMEM);
			goto out;
		}
		if (o.key_path == NULL && asprintf(&key, "%s.key", stem) < 0) {
			key = NULL;
			rc = cmd_fail(env, CM_E_NOMEM);
			goto out;
		}
		if (cert)
			o.cert_path = cert;
		if (key)
			o.key_path = key;
	}
	if ((err = cm_renew(&res, st, old->serial, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_cert_json(res));
		goto out;
	}
	cmd_time(na, sizeof(na), res->not_after);
	printf("Renewed %s as %s (%s key)\n", old->serial, res->serial,
	    o.rekey ? "new" : "same");
	/* A revoked certificate stays revoked, with its own reason. */
	printf("  old          %s\n", strcmp(old->status, "revoked") == 0 ?
	    "revoked already (unchanged)" : o.revoke_old ?
	    "revoked (superseded)" : "superseded");
	if (res->cert_path)
		printf("  certificate  %s\n", res->cert_path);
	if (res->key_path)
		printf("  key          %s\n", res->key_path);
	if (res->chain_path)
		printf("  chain        %s\n", res->chain_path);
	printf("  expires      %s\n", na);
out:
	cm_cert_info_free(old);
	cm_cert_info_free(res);
	cm_store_close(st);
	free(cert);
	free(key);
	return rc;
}
