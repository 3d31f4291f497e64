/* cmd_sign.c - certmint sign: sign a certificate request. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint sign REQ.csr --profile P [--ca N] [--cert F] [--chain F]\n"
"                     [--days D] [--force] [--passphrase-file F] [--json]\n"
"\n"
"Signs a PKCS#10 certificate request (PEM or DER) made elsewhere, e.g. by\n"
"'openssl req -new' or 'certtool --generate-request': the private key never\n"
"leaves its owner.  The request's signature must verify.  From the request\n"
"certmint takes its public key, its subject CN and its subjectAltName names\n"
"(DNS, IP, email, URI), each checked like the names of 'certmint issue' and\n"
"against the CA's name constraints (a CN that is no name, like \"My App\",\n"
"is left out when the request has subjectAltNames).  Nothing else is copied: the profile\n"
"decides key usage, extended key usage and basic constraints, and the rest\n"
"of the subject.  The certificate is recorded like any issuance (event\n"
"sign); no private key is kept.\n"
"\n"
"  --profile P         server, client, peer or a .tmpl file (CA profiles\n"
"                      are refused); required\n"
"  --ca N              issuing CA (default: the only one)\n"
"  --cert F            output file (default REQ.crt next to REQ.csr)\n"
"  --chain F           also write the issuers up to, not including, the root\n"
"  --days D            validity (default: the profile's)\n"
"  --force             overwrite existing files\n"
"  --passphrase-file F passphrase of an encrypted CA key\n"
"  --json              print the result as JSON\n";

int
cmd_sign(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'P' },
		{ "ca", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "chain", required_argument, NULL, 'H' },
		{ "days", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_sign_opts o = CM_SIGN_OPTS_INIT;
	cm_cert_info *res = NULL;
	cm_store *st = NULL;
	char *cert = NULL, na[32];
	const char *req;
	bool json = false;
	size_t len, i;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'P': o.profile = optarg; break;
		case 'c': o.ca = optarg; break;
		case 'C': o.cert_path = optarg; break;
		case 'H': o.chain_path = optarg; break;
		case 'f': o.force = true; break;
		case 'p': env->passphrase_file = optarg; break;
		case 'j': json = true; break;
		case 'd':
			if (!cmd_opt_days("sign", optarg, &o.days))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("sign", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("sign", "give one request file");
	if (o.profile == NULL)
		return cmd_usage_error("sign", "--profile is required (server, "
		    "client, peer or a .tmpl file)");
	req = argv[optind];
	if (o.cert_path == NULL) {
		len = strlen(req);
		if (len > 4 && strcmp(req + len - 4, ".csr") == 0)
			rc = asprintf(&cert, "%.*s.crt", (int)(len - 4), req);
		else
			rc = asprintf(&cert, "%s.crt", req);
		if (rc < 0)
			return cmd_fail(env, CM_E_NOMEM);
		rc = EXIT_OK;
		o.cert_path = cert;
	}
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_sign_csr(&res, st, req, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_cert_json(res));
		goto out;
	}
	cmd_time(na, sizeof(na), res->not_after);
	printf("Signed %s as %s certificate %s for ", req, res->profile,
	    res->serial);
	for (i = 0; i < res->nnames; i++)
		printf("%s%s", i ? ", " : "", res->names[i]);
	printf("\n");
	if (res->cert_path)
		printf("  certificate  %s\n", res->cert_path);
	if (res->chain_path)
		printf("  chain        %s\n", res->chain_path);
	printf("  CA           %s\n", res->ca);
	printf("  key          %s (from the request)\n", res->key_type);
	printf("  expires      %s\n", na);
out:
	cm_cert_info_free(res);
	cm_store_close(st);
	free(cert);
	return rc;
}
