/* cmd_revoke.c - certmint revoke. */
#include "config.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint revoke SERIAL|NAME [--reason R] [--at TIME] [--json]\n"
"\n"
"Revokes a certificate: it stays in the inventory with status revoked, its\n"
"reason and time; the next CRL and OCSP answers of its CA say so, and the\n"
"events table records it.  SERIAL is hex (a unique prefix of 4 or more\n"
"digits will do); NAME is a first name (the newest valid certificate).\n"
"An intermediate CA is revoked by its serial or name too: it then cannot\n"
"sign, nor can any CA below it.  A superseded (renewed) certificate can\n"
"still be revoked.\n"
"\n"
"  --reason R   RFC 5280 5.3.1 reason (default unspecified): keyCompromise,\n"
"               cACompromise, affiliationChanged, superseded,\n"
"               cessationOfOperation, certificateHold, privilegeWithdrawn,\n"
"               aACompromise, unspecified (not removeFromCRL: it undoes a\n"
"               hold in a delta CRL, and a revocation here is for good)\n"
"  --at TIME    revocation time (default now): RFC 3339 (2026-11-01T12:00:00Z,\n"
"               2026-11-01T13:00:00+01:00), 2026-11-01 (midnight UTC) or\n"
"               @SECONDS since the epoch\n"
"  --json       print the revoked certificate as JSON\n";

bool
cmd_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	if (s == NULL || s[0] == '\0')
		return false;
	if (s[0] == '@') {
		v = strtoll(s + 1, &e, 10);
		if (e == s + 1 || *e != '\0' || v < 0)
			return false;
		*out = (time_t)v;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return false;
	}
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

int
cmd_revoke(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'a' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_revoke_reason reason = CM_REASON_UNSPECIFIED;
	cm_cert_info *c = NULL;
	cm_store *st = NULL;
	time_t at = 0;
	bool json = false;
	char when[32], name[CMD_SAFE_MAX];
	cm_err err;
	int ch, rc = EXIT_OK;

	optind = 0;
	while ((ch = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'r':
			if (cm_revoke_reason_parse(&reason, env->ctx, optarg) !=
			    CM_OK)
				return cmd_usage_error("revoke", "%s",
				    cm_ctx_error(env->ctx));
			break;
		case 'a':
			/* RFC 3339 as verify --at takes it, offsets too. */
			if (optarg[0] == '@' ? !cmd_parse_time(optarg, &at) :
			    cm_time_parse(&at, env->ctx, optarg) != CM_OK)
				return cmd_usage_error("revoke", "--at '%s' is "
				    "not a time like 2026-11-01T12:00:00Z, "
				    "2026-11-01T13:00:00+01:00, 2026-11-01 or "
				    "@SECONDS", optarg);
			break;
		case 'p': env->passphrase_file = optarg; break;
		case 'j': json = true; break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("revoke", argv);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error("revoke", "give one SERIAL or NAME");
	if ((err = cmd_open_store(&st, env, false)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if ((err = cm_cert_revoke(&c, st, argv[optind], reason, at)) !=
	    CM_OK) {
		/* A root is no certificate of the store: nothing lists it. */
		cm_ca_info *ca = NULL;
		char msg[CMD_SAFE_MAX];
		cmd_safe(msg, sizeof(msg), cm_ctx_error(env->ctx));
		if (err == CM_E_NOTFOUND &&
		    cm_ca_get(&ca, st, argv[optind]) == CM_OK &&
		    ca->parent == NULL) {
			fprintf(stderr, "certmint: CA '%s' is a root: it cannot "
			    "be revoked; remove it from trust stores instead\n",
			    cmd_safe(msg, sizeof(msg), ca->name));
			cm_ca_info_free(ca);
			rc = EXIT_USAGE;
			goto out;
		}
		cm_ca_info_free(ca);
		fprintf(stderr, "certmint: %s\n", msg);
		rc = cmd_exit_code(err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(cmd_cert_json(c));
		goto out;
	}
	cmd_time(when, sizeof(when), c->revoked_at);
	printf("Revoked certificate %s (%s) ", c->serial, cmd_safe(name,
	    sizeof(name), c->nnames > 0 ? c->names[0] : c->subject));
	printf("of CA '%s'\n", cmd_safe(name, sizeof(name), c->ca));
	printf("  reason       %s\n", cm_revoke_reason_name(
	    (cm_revoke_reason)c->revocation_reason));
	printf("  revoked at   %s\n", when);
out:
	cm_cert_info_free(c);
	cm_store_close(st);
	return rc;
}
