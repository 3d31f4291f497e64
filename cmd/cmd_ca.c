/* cmd_ca.c - certmint ca list | ca show. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint ca create NAME --parent CA [...]  (see ca create --help)\n"
"       certmint ca list [--json | --names]\n"
"       certmint ca show [NAME] [--pem | --json]\n"
"       certmint ca set [NAME] [--crl-url URL] [--ocsp-url URL]\n"
"\n"
"  create NAME  an intermediate CA under --parent\n"
"  list         every CA in the store\n"
"  show [NAME]  one CA; NAME may be left out when the store has one CA\n"
"  set [NAME]   CRL and OCSP URLs placed in issued certificates (see\n"
"               certmint ca set --help)\n"
"  --pem        print the CA certificate (PEM), e.g. to trust it\n"
"  --json       machine-readable output\n"
"  --names      (list) the CA names, one per line (shell completion)\n";

static const char usage_list[] =
"usage: certmint ca list [--json | --names]\n"
"\n"
"Lists every CA in the store: name, key type, end of validity, the\n"
"certificates it issued, its parent.\n"
"\n"
"  --json       machine-readable output\n"
"  --names      the names only, one per line, nothing else (for shell\n"
"               completion; no line when the store has no CA)\n";

static const char usage_show[] =
"usage: certmint ca show [NAME] [--pem | --json]\n"
"\n"
"Shows one CA: subject, serial, key, validity, fingerprint, name\n"
"constraints, path length, the CRL and OCSP URLs set by 'ca set', the\n"
"certificates it issued and its state.  NAME may be left out when the\n"
"store has one CA.\n"
"\n"
"  --pem        print the CA certificate (PEM), e.g. to trust it\n"
"  --json       machine-readable output\n";

/* The help of the subcommand named in argv (getopt keeps the order of the
 * words that are no options), else the group's. */
static const char *
help_for(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (strcmp(argv[i], "list") == 0)
			return usage_list;
		if (strcmp(argv[i], "show") == 0)
			return usage_show;
		break;
	}
	return usage;
}

/* An intermediate is also a certificate of its parent: revoked or not.
 * "valid", "revoked" (with reason and time) or "expired". */
static const char *
ca_state(cm_store *st, const cm_ca_info *ca, const char **reason,
    time_t *at)
{
	cm_cert_info *c = NULL;
	const char *state = "valid";

	*reason = NULL;
	*at = 0;
	/* Its own record, by fingerprint: a serial could be another
	 * certificate's too (an imported one), or too short to look up. */
	if (ca->parent != NULL && ca->fingerprint != NULL &&
	    cm_cert_find(&c, st, ca->fingerprint) == CM_OK &&
	    strcmp(c->status, "revoked") == 0) {
		state = "revoked";
		*reason = cm_revoke_reason_name(
		    (cm_revoke_reason)c->revocation_reason);
		*at = c->revoked_at;
	} else if (ca->not_after < time(NULL)) {
		state = "expired";
	}
	cm_cert_info_free(c);
	return state;
}

static void
print_state(cm_store *st, const cm_ca_info *ca)
{
	const char *reason, *state;
	time_t at;
	char t[32];

	state = ca_state(st, ca, &reason, &at);
	cmd_time(t, sizeof(t), at);
	if (strcmp(state, "revoked") == 0)
		printf("state        revoked (%s, %s): cannot sign\n",
		    reason ? reason : "-", t);
	else if (strcmp(state, "expired") == 0)
		printf("state        expired: cannot sign\n");
	else
		printf("state        valid\n");
}

/* The JSON of a CA, with its state. */
static json_t *
ca_json(cm_store *st, const cm_ca_info *ca)
{
	json_t *j = cmd_ca_json(ca);
	const char *reason;
	time_t at;
	const char *state = ca_state(st, ca, &reason, &at);

	json_object_set_new(j, "state", json_string(state));
	json_object_set_new(j, "revoked_at", at ? cmd_json_time(at) :
	    json_null());
	json_object_set_new(j, "revocation_reason", reason ?
	    json_string(reason) : json_null());
	return j;
}

static void
print_ca(const cm_ca_info *ca, const char *crl_url, const char *ocsp_url)
{
	char nb[32], na[32], s[CMD_SAFE_MAX];
	size_t i;

	cmd_time(nb, sizeof(nb), ca->not_before);
	cmd_time(na, sizeof(na), ca->not_after);
	/* Names, subject and URLs come from certificates (import adopts
	 * any) and argv: made safe for the terminal. */
	printf("name         %s\n", cmd_safe(s, sizeof(s), ca->name));
	printf("parent       %s\n", ca->parent ? cmd_safe(s, sizeof(s),
	    ca->parent) : "(root)");
	fputs("subject      ", stdout);
	cmd_fputs_safe(ca->subject, stdout);
	fputc('\n', stdout);
	printf("serial       %s\n", ca->serial);
	printf("key          %s%s\n", ca->key_type,
	    ca->encrypted ? " (encrypted)" : "");
	printf("not before   %s\n", nb);
	printf("not after    %s\n", na);
	printf("sha256       %s\n", ca->fingerprint);
	if (ca->path_len >= 0)
		printf("path length  %d\n", ca->path_len);
	for (i = 0; i < ca->npermitted; i++)
		printf("%s %s\n", i == 0 ? "permits     " : "            ",
		    cmd_safe(s, sizeof(s), ca->permitted[i]));
	if (crl_url != NULL)
		printf("crl url      %s\n", cmd_safe(s, sizeof(s), crl_url));
	if (ocsp_url != NULL)
		printf("ocsp url     %s\n", cmd_safe(s, sizeof(s), ocsp_url));
	printf("issued       %zu\n", ca->issued);
}

int
cmd_ca(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pem", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "names", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_store *st = NULL;
	cm_ca_info **list = NULL, *ca = NULL;
	bool names = false;
	char *crl_url = NULL, *ocsp_url = NULL;
	json_t *j;
	size_t n = 0, i;
	bool pem = false, json = false;
	const char *sub;
	cm_err err;
	int c, rc = EXIT_OK;

	if (argc > 1 && strcmp(argv[1], "create") == 0)
		return cmd_ca_create(env, argc - 1, argv + 1);
	/* 'ca set' has options of its own (cmd_crl.c). */
	if (argc > 1 && strcmp(argv[1], "set") == 0)
		return cmd_ca_set(env, argc - 1, argv + 1);
	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'p':
			pem = true;
			break;
		case 'j':
			json = true;
			break;
		case 'N':
			names = true;
			break;
		case 'h':
			fputs(help_for(argc, argv), stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("ca", argv);
		}
	}
	if (optind >= argc)
		return cmd_usage_error("ca", "say create, list, show or set");
	sub = argv[optind++];
	if (pem && json)
		return cmd_usage_error("ca", "--pem and --json exclude each "
		    "other");
	if (names && strcmp(sub, "list") != 0)
		return cmd_usage_error("ca", "--names goes with list");
	if (strcmp(sub, "list") == 0) {
		if (optind != argc || pem || (names && json))
			return cmd_usage_error("ca", "list takes --json or "
			    "--names");
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = cm_ca_list(&list, &n, st)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (names) {
			char sn[CMD_SAFE_MAX];
			for (i = 0; i < n; i++)
				printf("%s\n", cmd_safe(sn, sizeof(sn),
				    list[i]->name));
			goto out;
		}
		if (json) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, ca_json(st, list[i]));
			json_t *o = json_object();
			json_object_set_new(o, "cas", a);
			rc = cmd_print_json(o);
			goto out;
		}
		if (n == 0) {
			printf("no CA (run 'certmint init')\n");
			goto out;
		}
		printf("%-24s %-10s %-20s %-8s %s\n", "NAME", "KEY",
		    "NOT AFTER", "ISSUED", "PARENT");
		for (i = 0; i < n; i++) {
			char na[32];
			char sn[CMD_SAFE_MAX], sp[CMD_SAFE_MAX];
			cmd_time(na, sizeof(na), list[i]->not_after);
			printf("%-24s %-10s %-20s %-8zu %s\n", cmd_safe(sn,
			    sizeof(sn), list[i]->name), list[i]->key_type, na,
			    list[i]->issued, list[i]->parent ? cmd_safe(sp,
			    sizeof(sp), list[i]->parent) : "-");
		}
	} else if (strcmp(sub, "show") == 0) {
		if (argc - optind > 1)
			return cmd_usage_error("ca", "show takes one NAME");
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = cm_ca_get(&ca, st, optind < argc ? argv[optind] :
		    NULL)) != CM_OK || (!pem && (err = cm_ca_get_urls(&crl_url,
		    &ocsp_url, st, ca->name)) != CM_OK)) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (pem) {
			fputs(ca->pem, stdout);
		} else if (json) {
			/* Set by 'ca set': null until then. */
			j = ca_json(st, ca);
			json_object_set_new(j, "crl_url", crl_url ?
			    json_string(crl_url) : json_null());
			json_object_set_new(j, "ocsp_url", ocsp_url ?
			    json_string(ocsp_url) : json_null());
			rc = cmd_print_json(j);
		} else {
			print_ca(ca, crl_url, ocsp_url);
		}
		if (!pem && !json)
			print_state(st, ca);
	} else {
		return cmd_usage_error("ca", "unknown subcommand '%s'", sub);
	}
out:
	free(crl_url);
	free(ocsp_url);
	cm_ca_info_list_free(list, n);
	cm_ca_info_free(ca);
	cm_store_close(st);
	return rc;
}
