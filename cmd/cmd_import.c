/* cmd_import.c - certmint import: adopt an existing CA, or add the
 * certificates it issued elsewhere to the inventory. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint import --cert F [--key F] [--name N] [--password-file F]\n"
"                       [--passphrase-file F] [--json]\n"
"       certmint import --issued F... [--ca N] [--json]\n"
"\n"
"Adopts an existing CA: --cert is its certificate (PEM or DER) and --key\n"
"its key (PEM or DER: PKCS#8, PKCS#1 or SEC1, encrypted or not), or --cert\n"
"is a PKCS#12 file holding both.  The key must match the certificate and\n"
"the certificate must be a CA (basicConstraints CA:TRUE, keyCertSign).\n"
"The key is stored like an init'ed CA's, under the store passphrase.\n"
"\n"
"With --issued, adds existing certificates signed by a CA of the store to\n"
"the inventory (their signatures are checked; no keys).\n"
"\n"
"  --name N             CA name (default: the certificate's CN)\n"
"  --password-file F    password of an encrypted key or of the PKCS#12\n"
"                       file (else CERTMINT_IMPORT_PASSWORD, else a prompt\n"
"                       for a PKCS#12 file)\n"
"  --passphrase-file F  the store passphrase (else CERTMINT_PASSPHRASE;\n"
"                       asked when the store has one)\n"
"  --ca N               with --issued: the CA that signed them (default:\n"
"                       the one whose signature verifies)\n"
"  --json               print the result as JSON\n";

/*
 * Whether path holds a certificate (PEM, or DER: a SEQUENCE whose first
 * element is the TBSCertificate SEQUENCE) rather than a PKCS#12 file (RFC
 * 7292 4: the PFX SEQUENCE starts with the INTEGER version).  A file that
 * cannot be read is not: the library names it.
 */
static bool
is_certificate_file(const char *path)
{
	static const char *const labels[] = { "-----BEGIN CERTIFICATE-----",
	    "-----BEGIN X509 CERTIFICATE-----",
	    "-----BEGIN TRUSTED CERTIFICATE-----" };
	char buf[32768];
	const unsigned char *u = (const unsigned char *)buf;
	size_t n, i, hdr;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (memmem(buf, n, labels[i], strlen(labels[i])) != NULL)
			return true;
	if (n < 4 || u[0] != 0x30)
		return false;
	hdr = u[1] < 0x80 ? 2 : 2 + (size_t)(u[1] & 0x7f);
	return hdr < n && u[hdr] == 0x30;
}

int
cmd_import(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "issued", no_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_ca_import_opts o = CM_CA_IMPORT_OPTS_INIT;
	const char *pwfile = NULL, *ca = NULL;
	char *password = NULL, *pass = NULL;
	cm_ca_info *info = NULL;
	cm_cert_info **certs = NULL;
	cm_store *st = NULL;
	bool issued = false, json = false;
	size_t n = 0, i;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c':
			o.cert_path = optarg;
			break;
		case 'k':
			o.key_path = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'P':
			env->passphrase_file = optarg;
			break;
		case 'i':
			issued = true;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("import", argv);
		}
	}
	if (issued) {
		if (o.cert_path || o.key_path || o.name)
			return cmd_usage_error("import", "--issued takes "
			    "certificate files, not --cert/--key/--name");
		if (optind == argc)
			return cmd_usage_error("import", "--issued needs at "
			    "least one file");
		if ((err = cmd_open_store(&st, env, false)) != CM_OK)
			return cmd_fail(env, err);
		err = cm_cert_import(&certs, &n, st, ca,
		    (const char *const *)argv + optind, (size_t)(argc - optind));
		if (err != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (json) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, cmd_cert_json(certs[i]));
			rc = cmd_print_json(a);
			goto out;
		}
		for (i = 0; i < n; i++) {
			char sn[CMD_SAFE_MAX], sc[CMD_SAFE_MAX];
			printf("Imported %s %s (CA '%s')\n", certs[i]->serial,
			    cmd_safe(sn, sizeof(sn), certs[i]->names[0]),
			    cmd_safe(sc, sizeof(sc), certs[i]->ca));
		}
		printf("%zu certificate%s added%s\n", n, n == 1 ? "" : "s",
		    n == 0 ? " (the store has them already)" : "");
		rc = EXIT_OK;
		goto out;
	}
	if (optind != argc)
		return cmd_usage_error("import", "unexpected argument '%s'",
		    argv[optind]);
	if (o.cert_path == NULL)
		return cmd_usage_error("import", "--cert is required (or "
		    "--issued)");
	if (ca != NULL)
		return cmd_usage_error("import", "--ca goes with --issued");
	/* A PKCS#12 file (no --key) always has a password; a key file
	 * only when it is encrypted, and then it comes from a file or env. */
	if (o.key_path == NULL && is_certificate_file(o.cert_path)) {
		fprintf(stderr, "certmint: %s: a PEM or DER certificate needs "
		    "its key (--key): only a PKCS#12 file carries one\n",
		    o.cert_path);
		return EXIT_USAGE;
	}
	if (o.key_path == NULL) {
		if ((rc = cmd_read_password(&password, pwfile,
		    "CERTMINT_IMPORT_PASSWORD", "Password of the PKCS#12 file",
		    false)) != EXIT_OK)
			return rc;
	} else if (pwfile != NULL || getenv("CERTMINT_IMPORT_PASSWORD")) {
		if ((rc = cmd_read_password(&password, pwfile,
		    "CERTMINT_IMPORT_PASSWORD", "Password of the key",
		    false)) != EXIT_OK)
			return rc;
	}
	o.password = password;
	if ((err = cmd_open_store(&st, env, true)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	/* An empty store takes the passphrase given, as init does. */
	if ((err = cmd_new_passphrase(&pass, env, false)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	o.passphrase = pass;
	if ((err = cm_ca_import(&info, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_ca_json(info));
		goto out;
	}
	{
		char sn[CMD_SAFE_MAX], ss[CMD_SAFE_MAX];
		printf("Imported CA '%s'\n"
		    "  subject      %s\n"
		    "  key          %s%s\n"
		    "  sha256       %s\n",
		    cmd_safe(sn, sizeof(sn), info->name),
		    cmd_safe(ss, sizeof(ss), info->subject), info->key_type,
		    info->encrypted ? " (encrypted)" : "", info->fingerprint);
		if (info->parent)
			printf("  parent       %s\n",
			    cmd_safe(sn, sizeof(sn), info->parent));
	}
	rc = EXIT_OK;
out:
	cmd_free_password(password);
	cmd_free_password(pass);
	cm_cert_info_list_free(certs, n);
	cm_ca_info_free(info);
	cm_store_close(st);
	return rc;
}
