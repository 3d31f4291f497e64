/* cmd_status.c - certmint status. */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint status [--next N] [--json]\n"
"\n"
"The state of the store: per CA its parent, expiry, state (valid, expired,\n"
"revoked) and certificates counted by status; the next expiries among valid\n"
"certificates and CAs; the CRLs due; whether a wipe of old key copies\n"
"after 'certmint passwd' is pending (another program was reading the\n"
"store; the first command that opens it when none is does the wipe).  For\n"
"certificates expiring soon, see also 'certmint list --expiring 30d'.\n"
"\n"
"  --next N   how many upcoming expiries to show (default 10)\n"
"  --json     {\"cas\": [...], \"next_expiries\": [...], \"crls_due\": [...],\n"
"              \"wipe_pending\": false}\n";

static json_t *
jtime(time_t t)
{
	char buf[32];

	cmd_time(buf, sizeof(buf), t);
	return json_string(buf);
}

static json_t *
status_json(const cm_status *s, bool wipe)
{
	json_t *o = json_object(), *cas = json_array(), *ex = json_array();
	json_t *crls = json_array();
	size_t i;

	for (i = 0; i < s->ncas; i++) {
		const cm_status_ca *c = &s->cas[i];
		json_t *j = json_object(), *counts = json_object();
		json_object_set_new(j, "name", json_string(c->name));
		json_object_set_new(j, "parent", c->parent ?
		    json_string(c->parent) : json_null());
		json_object_set_new(j, "state", json_string(c->state));
		json_object_set_new(j, "not_after", jtime(c->not_after));
		json_object_set_new(counts, "valid",
		    json_integer((json_int_t)c->valid));
		json_object_set_new(counts, "expired",
		    json_integer((json_int_t)c->expired));
		json_object_set_new(counts, "revoked",
		    json_integer((json_int_t)c->revoked));
		json_object_set_new(counts, "superseded",
		    json_integer((json_int_t)c->superseded));
		json_object_set_new(j, "certificates", counts);
		json_array_append_new(cas, j);
	}
	for (i = 0; i < s->nexpiries; i++) {
		const cm_status_expiry *e = &s->expiries[i];
		json_t *j = json_object();
		json_object_set_new(j, "kind", json_string(e->is_ca ? "ca" :
		    "certificate"));
		json_object_set_new(j, "name", json_string(e->name));
		json_object_set_new(j, "serial", json_string(e->serial));
		json_object_set_new(j, "ca", e->ca ? json_string(e->ca) :
		    json_null());
		json_object_set_new(j, "not_after", jtime(e->not_after));
		json_array_append_new(ex, j);
	}
	for (i = 0; i < s->ncrls; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "ca", json_string(s->crls[i].ca));
		json_object_set_new(j, "next_update", s->crls[i].next_update ?
		    jtime(s->crls[i].next_update) : json_null());
		json_array_append_new(crls, j);
	}
	json_object_set_new(o, "cas", cas);
	json_object_set_new(o, "next_expiries", ex);
	json_object_set_new(o, "crls_due", crls);
	json_object_set_new(o, "wipe_pending", json_boolean(wipe));
	return o;
}

int
cmd_status(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "next", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_status *s = NULL;
	cm_store *st = NULL;
	unsigned next = 10;
	bool json = false, wipe = false;
	char t[32];
	size_t i;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'n':
			if (!cmd_parse_uint(optarg, 10000, &next) || next == 0)
				return cmd_usage_error("status", "--next '%s' "
				    "is not a number (1-10000)", optarg);
			break;
		case 'j': json = true; break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("status", argv);
		}
	}
	if (optind != argc)
		return cmd_usage_error("status", "unexpected argument '%s'",
		    argv[optind]);
	if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
	    (err = cm_status_get(&s, st, next)) != CM_OK ||
	    (err = cm_store_wipe_pending(&wipe, st)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (json) {
		rc = cmd_print_json(status_json(s, wipe));
		goto out;
	}
	printf("%-24s %-16s %-8s %-20s %6s %7s %7s %10s\n", "CA", "PARENT",
	    "STATE", "NOT AFTER", "VALID", "EXPIRED", "REVOKED",
	    "SUPERSEDED");
	for (i = 0; i < s->ncas; i++) {
		const cm_status_ca *ca = &s->cas[i];
		cmd_time(t, sizeof(t), ca->not_after);
		char sn[CMD_SAFE_MAX], sp[CMD_SAFE_MAX];
		printf("%-24s %-16s %-8s %-20s %6zu %7zu %7zu %10zu\n",
		    cmd_safe(sn, sizeof(sn), ca->name), ca->parent ?
		    cmd_safe(sp, sizeof(sp), ca->parent) : "-", ca->state, t,
		    ca->valid, ca->expired, ca->revoked, ca->superseded);
	}
	printf("\nNext expiries:\n");
	if (s->nexpiries == 0)
		printf("  none\n");
	for (i = 0; i < s->nexpiries; i++) {
		const cm_status_expiry *e = &s->expiries[i];
		cmd_time(t, sizeof(t), e->not_after);
		char sn[CMD_SAFE_MAX], sc[CMD_SAFE_MAX];
		/* Names of imported certificates are anybody's text. */
		if (e->is_ca)
			printf("  %s  CA %s (%s)\n", t,
			    cmd_safe(sn, sizeof(sn), e->name), e->serial);
		else
			printf("  %s  %s %s (CA %s)\n", t,
			    cmd_safe(sn, sizeof(sn), e->name), e->serial,
			    e->ca ? cmd_safe(sc, sizeof(sc), e->ca) : "-");
	}
	printf("\nCRLs due:\n");
	if (s->ncrls == 0)
		printf("  none\n");
	for (i = 0; i < s->ncrls; i++) {
		if (s->crls[i].next_update == 0) {
			char sc[CMD_SAFE_MAX];
			printf("  %-20s  %s (no CRL yet)\n", "now",
			    cmd_safe(sc, sizeof(sc), s->crls[i].ca));
			continue;
		}
		cmd_time(t, sizeof(t), s->crls[i].next_update);
		{
			char sc[CMD_SAFE_MAX];
			printf("  %s  %s\n", t,
			    cmd_safe(sc, sizeof(sc), s->crls[i].ca));
		}
	}
	if (wipe)
		printf("\nKey wipe pending: old copies of the keys from before "
		    "'certmint passwd'\nmay remain in the store's files; "
		    "another program is reading the store\n(the first "
		    "certmint command after it ends wipes them).\n");
out:
	cm_status_free(s);
	cm_store_close(st);
	return rc;
}
