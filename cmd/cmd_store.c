/* cmd_store.c - certmint store check: what the store holds, and whether
 * it holds together. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const char store_usage[] =
"usage: certmint store check [--json] [--passphrase-file F]\n"
"       certmint store copy FROM TO\n"
"\n"
"store copy copies every table of the store FROM into the new store TO:\n"
"CAs, keys as they are (encrypted ones stay encrypted: the passphrase\n"
"goes with them), certificates, revocations, CRLs, events and ACME\n"
"state.  Each is a file path (SQLite) or a PostgreSQL database\n"
"(postgresql://..., or a libpq keyword string), so it moves a store\n"
"from SQLite to PostgreSQL and back.  TO must be empty (a new file, or\n"
"a database without certmint's tables or with them empty); it is\n"
"written in one transaction, so a failed copy leaves nothing.  Run\n"
"'certmint --store TO store check' after.\n"
"\n"
"Checks the store: SQLite's integrity check; every CA certificate parses\n"
"and is signed by its parent (a root by its own key); every certificate\n"
"parses, carries the serial and fingerprint recorded and is signed by its\n"
"CA; every kept key (CA and certificate keys) is the key of its\n"
"certificate.  Keys behind a passphrase are checked when it is given\n"
"(--passphrase-file, or asked on a terminal), else counted as not\n"
"checked.  Prints the counts and one line per problem.\n"
"\n"
"  --json                {\"integrity_ok\": ..., \"cas\": N, \"certificates\": N,\n"
"                        \"revoked\": N, \"crls\": N, \"events\": N,\n"
"                        \"acme_accounts\": N, \"acme_orders\": N,\n"
"                        \"keys_ok\": N, \"keys_unchecked\": N,\n"
"                        \"problems\": [...]}\n"
"  --passphrase-file F   the store passphrase, to check encrypted keys\n"
"\n"
"Exit (check): 0 the store holds together, 1 a problem found, 3 the\n"
"store cannot be read.  Exit (copy): 0 copied, 2 TO is not empty, 3 a\n"
"store cannot be read or written.\n";

static int
store_copy(cmd_env *env, const char *from, const char *to, bool json)
{
	cm_store_copy_counts n;
	cm_store *src = NULL, *dst = NULL;
	int rc = EXIT_OK;
	cm_err err;

	env->store_path = from;
	if ((err = cmd_open_store(&src, env, false)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	env->store_path = to;
	if ((err = cmd_open_store(&dst, env, true)) != CM_OK ||
	    (err = cm_store_copy(dst, src, &n)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		    "s:I}", "from", from, "to", to, "cas", (json_int_t)n.cas,
		    "certificates", (json_int_t)n.certs, "keys",
		    (json_int_t)n.keys, "revoked", (json_int_t)n.revoked,
		    "crls", (json_int_t)n.crls, "events", (json_int_t)n.events,
		    "acme_accounts", (json_int_t)n.acme_accounts,
		    "acme_orders", (json_int_t)n.acme_orders);
		if (cmd_print_json(o) != EXIT_OK)
			rc = EXIT_USAGE;
	} else {
		printf("Copied the store to ");
		cmd_fputs_safe(to, stdout);
		printf("\n  CAs            %zu\n  certificates   %zu (%zu "
		    "revoked)\n  keys           %zu\n  CRLs           %zu\n"
		    "  events         %zu\n  ACME           %zu accounts, %zu "
		    "orders\n", n.cas, n.certs, n.revoked, n.keys, n.crls,
		    n.events, n.acme_accounts, n.acme_orders);
	}
out:
	cm_store_close(src);
	cm_store_close(dst);
	return rc;
}

int cmd_store(cmd_env *env, int argc, char **argv);

int
cmd_store(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_store_report *r = NULL;
	cm_store *st = NULL;
	bool json = false;
	int c, rc = EXIT_OK;
	cm_err err;
	size_t i;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'P': env->passphrase_file = optarg; break;
		case 'h':
			fputs(store_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("store", argv);
		}
	}
	if (argc - optind == 3 && strcmp(argv[optind], "copy") == 0)
		return store_copy(env, argv[optind + 1], argv[optind + 2],
		    json);
	if (argc - optind >= 1 && strcmp(argv[optind], "copy") == 0)
		return cmd_usage_error("store", "say: certmint store copy FROM "
		    "TO");
	if (argc - optind != 1 || strcmp(argv[optind], "check") != 0)
		return cmd_usage_error("store", "say: certmint store check, or "
		    "certmint store copy FROM TO");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_store_check(&r, st)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		    "s:I,s:[]}", "integrity_ok", r->integrity_ok, "cas",
		    (json_int_t)r->cas, "certificates", (json_int_t)r->certs,
		    "revoked", (json_int_t)r->revoked, "crls",
		    (json_int_t)r->crls, "events", (json_int_t)r->events,
		    "acme_accounts", (json_int_t)r->acme_accounts,
		    "acme_orders", (json_int_t)r->acme_orders, "keys_ok",
		    (json_int_t)r->keys_ok, "keys_unchecked",
		    (json_int_t)r->keys_unchecked, "problems");
		for (i = 0; o != NULL && i < r->nproblems; i++)
			json_array_append_new(json_object_get(o, "problems"),
			    json_string(r->problems[i]));
		if (cmd_print_json(o) != EXIT_OK)
			rc = EXIT_USAGE;
	} else {
		printf("integrity      %s\n", r->integrity_ok ? "ok" :
		    "FAILED");
		printf("CAs            %zu\n", r->cas);
		printf("certificates   %zu (%zu revoked)\n", r->certs,
		    r->revoked);
		printf("CRLs           %zu\n", r->crls);
		printf("events         %zu\n", r->events);
		printf("ACME           %zu accounts, %zu orders\n",
		    r->acme_accounts, r->acme_orders);
		printf("keys           %zu match their certificates", r->keys_ok);
		if (r->keys_unchecked)
			printf(", %zu not checked (behind a passphrase not "
			    "given, or in a token)", r->keys_unchecked);
		printf("\n");
		for (i = 0; i < r->nproblems; i++) {
			fputs("problem: ", stdout);
			cmd_fputs_safe(r->problems[i], stdout);
			fputc('\n', stdout);
		}
		printf("%s\n", r->nproblems ? "the store has problems" :
		    "the store holds together");
	}
	/* A passphrase given that opens no key is no pass. */
	if (env->passphrase_file != NULL && r->keys_unchecked > 0) {
		fprintf(stderr, "certmint: store check: %zu kept keys not "
		    "opened with the passphrase of %s (a wrong passphrase, or "
		    "keys in a token)\n", r->keys_unchecked,
		    env->passphrase_file);
		if (rc == EXIT_OK)
			rc = EXIT_MISMATCH;
	}
	if (rc == EXIT_OK && (r->nproblems > 0 || !r->integrity_ok))
		rc = EXIT_MISMATCH;
out:
	cm_store_report_free(r);
	cm_store_close(st);
	return rc;
}
