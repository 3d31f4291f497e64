/* cmd_verify.c - certmint verify: a chain's verdict without a handshake. */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint verify LEAF [--untrusted F] [--trust F | --ca N]\n"
"                            [--name N] [--purpose server|client|any]\n"
"                            [--at TIME] [--json]\n"
"\n"
"Verifies a certificate chain as a TLS peer would, without a handshake,\n"
"and names the outcome class (ok, untrusted, hostname, expired,\n"
"not-yet-valid, purpose, name-constraints, revoked) and the certificate\n"
"at fault.  Anchored at a store CA (--ca, or no --trust), a valid chain\n"
"is also checked against the store's revocations at TIME.\n"
"\n"
"  LEAF            the certificate (PEM or DER); more certificates in the\n"
"                  file are taken as untrusted intermediates\n"
"  --untrusted F   untrusted intermediates (PEM bundle or DER)\n"
"  --trust F       trust anchors (PEM bundle or DER)\n"
"  --ca N          trust the store's CA N (default: the store's only CA)\n"
"  --name N        expected DNS name or IP address (an IP is matched\n"
"                  against IP SANs only)\n"
"  --purpose P     server (default), client, or any (no EKU check)\n"
"  --at TIME       verify at TIME: RFC 3339 (2026-01-02T03:04:05Z) or a\n"
"                  date (2026-01-02); default now\n"
"  --json          {\"leaf\", \"valid\", \"class\", \"status_bits\",\n"
"                  \"reasons\", \"chain\", \"name\", \"purpose\", \"at\",\n"
"                  \"explanation\"}\n"
"\n"
"Exit: 0 valid, 1 invalid (the verdict), 2 bad input, 3 store error.\n";

static const char *const purposes[] = { "server", "client", "any" };

/* The verdict for a human: every text from the certificates (subjects in
 * the explanation and chain) or argv (the leaf's file name) is made safe
 * for the terminal. */
static void
print_text(const cm_verify_result *r, const char *leaf)
{
	size_t i;

	cmd_fputs_safe(leaf, stdout);
	printf(": %s\n", r->valid ? "valid" : "INVALID");
	printf("class        %s\n", cm_outcome_name(r->outcome));
	fputs("explanation  ", stdout);
	cmd_fputs_safe(r->explanation, stdout);
	fputs("\n", stdout);
	if (r->nreasons > 0) {
		printf("status       0x%x", r->status);
		for (i = 0; i < r->nreasons; i++)
			printf(" %s", r->reasons[i]);
		printf("\n");
	}
	for (i = 0; i < r->nchain; i++) {
		printf("%s %zu ", i == 0 ? "chain       " : "            ", i);
		cmd_fputs_safe(r->chain[i], stdout);
		printf("%s\n", i + 1 == r->nchain && r->anchored ?
		    " (trust anchor)" : "");
	}
}

static json_t *
result_json(const cm_verify_result *r, const char *leaf,
    const cm_verify_opts *o)
{
	json_t *j = json_object(), *reasons = json_array(), *chain =
	    json_array();
	char at[32];
	size_t i;

	for (i = 0; i < r->nreasons; i++)
		json_array_append_new(reasons, json_string(r->reasons[i]));
	for (i = 0; i < r->nchain; i++)
		json_array_append_new(chain, json_string(r->chain[i]));
	cmd_time(at, sizeof(at), r->at);
	json_object_set_new(j, "leaf", json_string(leaf));
	json_object_set_new(j, "valid", json_boolean(r->valid));
	json_object_set_new(j, "class", json_string(
	    cm_outcome_name(r->outcome)));
	json_object_set_new(j, "status_bits", json_integer(r->status));
	json_object_set_new(j, "reasons", reasons);
	json_object_set_new(j, "chain", chain);
	json_object_set_new(j, "anchored", json_boolean(r->anchored));
	json_object_set_new(j, "name", o->name ? json_string(o->name) :
	    json_null());
	json_object_set_new(j, "purpose", json_string(
	    purposes[o->purpose]));
	json_object_set_new(j, "at", json_string(at));
	json_object_set_new(j, "failing", r->failing ?
	    json_string(r->failing) : json_null());
	json_object_set_new(j, "explanation", json_string(r->explanation));
	return j;
}

int
cmd_verify(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "untrusted", required_argument, NULL, 'u' },
		{ "trust", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_verify_opts o = CM_VERIFY_OPTS_INIT;
	cm_verify_result *r = NULL;
	cm_store *st = NULL;
	bool json = false, have_ca = false;
	size_t i;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'u': o.untrusted_path = optarg; break;
		case 't': o.trust_path = optarg; break;
		case 'c': o.ca = optarg; have_ca = true; break;
		case 'n': o.name = optarg; break;
		case 'p':
			for (i = 0; i < 3; i++)
				if (strcmp(optarg, purposes[i]) == 0)
					break;
			if (i == 3)
				return cmd_usage_error("verify", "--purpose "
				    "'%s': server, client or any", optarg);
			o.purpose = (cm_verify_purpose)i;
			break;
		case 'a':
			if (cm_time_parse(&o.at, env->ctx, optarg) != CM_OK)
				return cmd_usage_error("verify", "--at: %s",
				    cm_ctx_error(env->ctx));
			/* 0 would mean "now" to the library. */
			if (o.at <= 0)
				return cmd_usage_error("verify", "--at '%s' is "
				    "not after 1970-01-01T00:00:00Z", optarg);
			/* The whole run sees the pinned clock. */
			cm_ctx_set_time(env->ctx, o.at);
			break;
		case 'j': json = true; break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("verify", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("verify", "give one LEAF certificate "
		    "file");
	if (have_ca && o.trust_path != NULL)
		return cmd_usage_error("verify", "--trust and --ca exclude "
		    "each other");
	if (o.name != NULL && o.name[0] == '\0')
		return cmd_usage_error("verify", "--name is empty");
	o.leaf_path = argv[optind];
	/* The store is opened only when it holds the anchor. */
	if (o.trust_path == NULL &&
	    (err = cmd_open_store(&st, env, false)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if ((err = cm_verify(&r, env->ctx, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(result_json(r, o.leaf_path, &o));
		if (rc == EXIT_OK && !r->valid)
			rc = EXIT_MISMATCH;
	} else {
		print_text(r, o.leaf_path);
		rc = r->valid ? EXIT_OK : EXIT_MISMATCH;
	}
out:
	cm_verify_result_free(r);
	cm_store_close(st);
	return rc;
}
