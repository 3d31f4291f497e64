/* cmd_crl.c - certmint crl, and certmint ca set (the CA's CRL and OCSP
 * URLs). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char crl_usage[] =
"usage: certmint crl [--ca N] [--delta] [--out F] [--der]\n"
"                    [--next-update D] [--json] [--passphrase-file F]\n"
"\n"
"Builds and signs a certificate revocation list of every certificate the\n"
"CA revoked (RFC 5280), with each entry's reason and, for key compromise,\n"
"its invalidity date.  Each CRL takes the next cRLNumber.  Writes PEM to\n"
"standard output unless --out is given.\n"
"\n"
"  --ca N            the CA (default: the only one)\n"
"  --delta           a delta CRL: the revocations since the last complete\n"
"                    CRL, marked with deltaCRLIndicator\n"
"  --out F           write the CRL to F (an existing F is replaced,\n"
"                    atomically).  F is checked first; the CRL and its\n"
"                    number are recorded before the file is written, so\n"
"                    a number in any file is never used again\n"
"  --der             DER instead of PEM\n"
"  --next-update D   nextUpdate after D: 12h, 7d (default), 2w\n"
"  --passphrase-file F  passphrase of an encrypted CA key\n"
"  --json            print number, entries and times as JSON (with\n"
"                    --out: the CRL itself goes to the file)\n";

static const char set_usage[] =
"usage: certmint ca set [NAME] [--crl-url URL] [--ocsp-url URL]\n"
"\n"
"Sets the URLs the CA places in the certificates it issues from now on:\n"
"a CRL distribution point and an OCSP responder (authority information\n"
"access).  An empty URL removes it.\n"
"\n"
"  NAME              the CA (default: the only one)\n"
"  --crl-url URL     e.g. http://ca.test/dev.crl, where the DER of\n"
"                    'certmint crl' is served\n"
"  --ocsp-url URL    e.g. http://127.0.0.1:8080/ (run 'certmint ocsp "
"serve')\n";

int
cmd_crl(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "delta", no_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "der", no_argument, NULL, 'D' },
		{ "next-update", required_argument, NULL, 'n' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_crl_opts o = CM_CRL_OPTS_INIT;
	cm_store *st = NULL;
	cm_crl *crl = NULL;
	const char *out = NULL;
	bool json = false, der = false;
	long long secs;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c':
			o.ca = optarg;
			break;
		case 'd':
			o.delta = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'D':
			der = true;
			break;
		case 'n':
			if (!cmd_parse_duration(optarg, &secs) || secs == 0)
				return cmd_usage_error("crl", "--next-update "
				    "'%s' is not a duration like 12h or 7d",
				    optarg);
			o.next_update = secs;
			break;
		case 'P':
			env->passphrase_file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(crl_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("crl", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("crl", "unexpected argument '%s'",
		    argv[optind]);
	if (der && out == NULL && isatty(STDOUT_FILENO))
		return cmd_usage_error("crl", "--der to a terminal: give "
		    "--out F");
	if (json && out == NULL)
		return cmd_usage_error("crl", "--json needs --out F");
	o.pem = !der;
	o.out = out;
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_crl_generate(&crl, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (out == NULL) {
		if (fwrite(crl->data, 1, crl->len, stdout) != crl->len ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "certmint: standard output: %s\n",
			    strerror(errno));
			rc = EXIT_USAGE;
		}
		goto out;
	}
	if (json) {
		json_t *j = json_object();
		char tu[32], nu[32];
		cmd_time(tu, sizeof(tu), crl->this_update);
		cmd_time(nu, sizeof(nu), crl->next_update);
		json_object_set_new(j, "ca", json_string(crl->ca));
		json_object_set_new(j, "number", json_integer(crl->number));
		json_object_set_new(j, "delta_base", crl->base ?
		    json_integer(crl->base) : json_null());
		json_object_set_new(j, "entries",
		    json_integer((json_int_t)crl->entries));
		json_object_set_new(j, "this_update", json_string(tu));
		json_object_set_new(j, "next_update", json_string(nu));
		json_object_set_new(j, "file", json_string(out));
		rc = cmd_print_json(j);
	} else {
		char nu[32];
		cmd_time(nu, sizeof(nu), crl->next_update);
		if (crl->base)
			printf("Wrote delta CRL %lld (base %lld) of CA '%s' "
			    "to %s: %zu entries, next update %s\n",
			    crl->number, crl->base, crl->ca, out,
			    crl->entries, nu);
		else
			printf("Wrote CRL %lld of CA '%s' to %s: %zu entries, "
			    "next update %s\n", crl->number, crl->ca, out,
			    crl->entries, nu);
	}
out:
	cm_crl_free(crl);
	cm_store_close(st);
	return rc;
}

int
cmd_ca_set(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "crl-url", required_argument, NULL, 'c' },
		{ "ocsp-url", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *crl_url = NULL, *ocsp_url = NULL, *name = NULL;
	char *cu = NULL, *ou = NULL;
	cm_store *st = NULL;
	cm_ca_info *ca = NULL;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c':
			crl_url = optarg;
			break;
		case 'o':
			ocsp_url = optarg;
			break;
		case 'h':
			fputs(set_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("ca set", argv);
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error("ca set", "give one CA NAME");
	if (optind < argc)
		name = argv[optind];
	if (crl_url == NULL && ocsp_url == NULL)
		return cmd_usage_error("ca set", "give --crl-url or "
		    "--ocsp-url");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_ca_get(&ca, st, name)) != CM_OK ||
	    (err = cm_ca_set_urls(st, ca->name, crl_url, ocsp_url)) != CM_OK ||
	    (err = cm_ca_get_urls(&cu, &ou, st, ca->name)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	printf("CA '%s'\n  CRL URL   %s\n  OCSP URL  %s\n", ca->name,
	    cu ? cu : "(none)", ou ? ou : "(none)");
out:
	free(cu);
	free(ou);
	cm_ca_info_free(ca);
	cm_store_close(st);
	return rc;
}
