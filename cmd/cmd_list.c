/* cmd_list.c - certmint list | show. */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char list_usage[] =
"usage: certmint list [--status S] [--ca N] [--name N] [--expiring D]\n"
"                     [--json | --names]\n"
"\n"
"Lists the certificates in the store, oldest first: serial, status,\n"
"profile, expiry, the ACME account that asked for it (certmint serve; -\n"
"when issued otherwise), names.\n"
"\n"
"  --status S     valid, expired, not-yet-valid, revoked or superseded\n"
"  --ca N         issued by CA N\n"
"  --name N       carrying the name N among its names\n"
"  --expiring D   valid and expiring within D (30d, 12h, 2w; plain: days)\n"
"  --json         {\"certificates\": [...]} with serial, names, subject,\n"
"                 profile, key_type, not_before, not_after, status, ca,\n"
"                 revoked_at, revocation_reason, acme_account (id and\n"
"                 key_thumbprint of the ACME account it was issued to)\n"
"  --names        the first name of each, one per line, each once, nothing\n"
"                 else (for shell completion; nothing when none matches)\n"
"\n"
"With --status revoked the table shows each one's reason and time.\n"
"When nothing matches, stdout stays empty and one line on stderr says so\n"
"(exit 0); --json then gives {\"certificates\": []}.\n"
"superseded: replaced by 'certmint renew', not revoked.\n";

static const char show_usage[] =
"usage: certmint show SERIAL|NAME [--pem | --json]\n"
"\n"
"Shows one certificate: by serial (hex; a unique prefix of 4 or more\n"
"digits will do) or by first name (the newest valid one).\n"
"\n"
"  --pem    print the certificate (PEM)\n"
"  --json   machine-readable output\n";

static const char *const statuses[] = { "valid", "expired",
	"not-yet-valid", "revoked", "superseded", NULL };

/* The names column: made safe for the terminal (a certificate imported
 * or signed from a CSR carries whatever its maker put in). */
static void
print_names(const cm_cert_info *c)
{
	size_t k;

	for (k = 0; k < c->nnames; k++) {
		if (k > 0)
			fputc(',', stdout);
		cmd_fputs_safe(c->names[k], stdout);
	}
	fputc('\n', stdout);
}

/* A misspelt --ca is an error, not an empty list. */
static cm_err
check_ca(cm_store *st, const char *name)
{
	cm_ca_info *ca = NULL;
	cm_err err;

	if (name == NULL)
		return CM_OK;
	err = cm_ca_get(&ca, st, name);
	cm_ca_info_free(ca);
	return err;
}

int
cmd_list(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "expiring", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "names", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_list_filter f = CM_LIST_FILTER_INIT;
	cm_cert_info **v = NULL;
	cm_store *st = NULL;
	size_t n = 0, i;
	char safe[CMD_SAFE_MAX];
	long long secs;
	bool json = false, names = false, ok;
	cm_err err;
	int c, rc = EXIT_OK, pw, sw;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 's':
			for (ok = false, i = 0; statuses[i]; i++)
				ok |= strcmp(statuses[i], optarg) == 0;
			if (!ok)
				return cmd_usage_error("list", "--status '%s': "
				    "valid, expired, not-yet-valid, revoked or "
				    "superseded",
				    optarg);
			f.status = optarg;
			break;
		case 'c': f.ca = optarg; break;
		case 'n': f.name = optarg; break;
		case 'e':
			if (!cmd_parse_duration(optarg, &secs) || secs == 0)
				return cmd_usage_error("list", "--expiring '%s' "
				    "is not a duration like 30d", optarg);
			f.expiring = (time_t)secs;
			break;
		case 'j': json = true; break;
		case 'N': names = true; break;
		case 'h':
			fputs(list_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("list", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("list", "unexpected argument '%s'",
		    argv[optind]);
	if (json && names)
		return cmd_usage_error("list", "--json and --names exclude "
		    "each other");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = check_ca(st, f.ca)) != CM_OK ||
	    (err = cm_cert_list(&v, &n, st, &f)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (names) {
		/* Renewals share a name: each name once, in order. */
		for (i = 0; i < n; i++) {
			size_t k;
			if (v[i]->nnames == 0)
				continue;
			for (k = 0; k < i; k++)
				if (v[k]->nnames > 0 && strcmp(v[k]->names[0],
				    v[i]->names[0]) == 0)
					break;
			if (k == i)
				printf("%s\n", cmd_safe(safe, sizeof(safe),
				    v[i]->names[0]));
		}
		goto out;
	}
	if (json) {
		json_t *a = json_array(), *o = json_object();
		for (i = 0; i < n; i++)
			json_array_append_new(a, cmd_cert_json(v[i]));
		json_object_set_new(o, "certificates", a);
		rc = cmd_print_json(o);
		goto out;
	}
	if (n == 0) {
		/* Not an error (exit 0), but said, on stderr: stdout stays
		 * empty for scripts; --json gives "certificates": []. */
		char sn[CMD_SAFE_MAX], sc[CMD_SAFE_MAX];
		if (f.status == NULL && f.name == NULL && f.ca == NULL &&
		    f.expiring == 0)
			fprintf(stderr, "certmint: the store holds no "
			    "certificate\n");
		else
			fprintf(stderr, "certmint: no certificate matches"
			    "%s%s%s%s%s%s%s\n", f.status ? " --status " : "",
			    f.status ? f.status : "", f.name ? " --name " : "",
			    f.name ? cmd_safe(sn, sizeof(sn), f.name) : "",
			    f.ca ? " --ca " : "", f.ca ? cmd_safe(sc,
			    sizeof(sc), f.ca) : "", f.expiring ?
			    " --expiring" : "");
		goto out;
	}
	/* The serial column is as wide as its longest entry (an imported
	 * certificate's serial may have 20 octets). */
	for (i = 0, sw = 34; i < n; i++)
		if (strlen(v[i]->serial) > (size_t)sw &&
		    strlen(v[i]->serial) <= 64)
			sw = (int)strlen(v[i]->serial);
	/* Revoked ones: when and why instead of profile and expiry. */
	if (f.status != NULL && strcmp(f.status, "revoked") == 0) {
		printf("%-*s %-20s %-20s %s\n", sw, "SERIAL", "REASON",
		    "REVOKED AT", "NAMES");
		for (i = 0; i < n; i++) {
			const char *r = cm_revoke_reason_name(
			    (cm_revoke_reason)v[i]->revocation_reason);
			char ra[32];
			cmd_time(ra, sizeof(ra), v[i]->revoked_at);
			printf("%-*s %-20s %-20s ", sw, v[i]->serial,
			    r ? r : "-", ra);
			print_names(v[i]);
		}
		goto out;
	}
	/* The profile column is as wide as its longest entry. */
	for (i = 0, pw = 8; i < n; i++)
		if (strlen(v[i]->profile) > (size_t)pw && strlen(v[i]->profile) < 64)
			pw = (int)strlen(v[i]->profile);
	printf("%-*s %-10s %-*s %-20s %-6s %s\n", sw, "SERIAL", "STATUS", pw,
	    "PROFILE", "NOT AFTER", "ACME", "NAMES");
	for (i = 0; i < n; i++) {
		char na[32], acme[24] = "-";
		cmd_time(na, sizeof(na), v[i]->not_after);
		/* The ACME account (certmint serve) that asked for it. */
		if (v[i]->acme_account)
			snprintf(acme, sizeof(acme), "%lld",
			    (long long)v[i]->acme_account);
		printf("%-*s %-10s %-*s %-20s %-6s ", sw, v[i]->serial,
		    v[i]->status, pw, cmd_safe(safe, sizeof(safe),
		    v[i]->profile), na, acme);
		print_names(v[i]);
	}
out:
	cm_cert_info_list_free(v, n);
	cm_store_close(st);
	return rc;
}

int
cmd_show(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pem", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_cert_info *ci = NULL;
	cm_store *st = NULL;
	bool pem = false, json = false;
	char nb[32], na[32], safe[CMD_SAFE_MAX];
	size_t k;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'p': pem = true; break;
		case 'j': json = true; break;
		case 'h':
			fputs(show_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("show", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("show", "give one SERIAL or NAME");
	if (pem && json)
		return cmd_usage_error("show", "--pem and --json exclude each "
		    "other");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_cert_find(&ci, st, argv[optind])) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (pem) {
		fputs(ci->pem, stdout);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_cert_json(ci));
		goto out;
	}
	cmd_time(nb, sizeof(nb), ci->not_before);
	cmd_time(na, sizeof(na), ci->not_after);
	/* Subject, names, profile and CA come from certificates, CSRs and
	 * files: made safe for the terminal. */
	printf("serial       %s\n", ci->serial);
	printf("status       %s\n", ci->status);
	fputs("subject      ", stdout);
	cmd_fputs_safe(ci->subject, stdout);
	fputs("\nnames       ", stdout);
	for (k = 0; k < ci->nnames; k++) {
		fputc(' ', stdout);
		cmd_fputs_safe(ci->names[k], stdout);
	}
	printf("\n");
	printf("profile      %s\n", cmd_safe(safe, sizeof(safe),
	    ci->profile));
	printf("key          %s\n", ci->key_type);
	printf("CA           %s\n", cmd_safe(safe, sizeof(safe), ci->ca));
	printf("not before   %s\n", nb);
	printf("not after    %s\n", na);
	printf("sha256       %s\n", ci->fingerprint);
	if (ci->acme_account)
		printf("ACME account %lld (key %s)\n",
		    (long long)ci->acme_account, ci->acme_account_key ?
		    ci->acme_account_key : "-");
out:
	cm_cert_info_free(ci);
	cm_store_close(st);
	return rc;
}
