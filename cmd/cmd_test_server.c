/* cmd_test_server.c - certmint test server HOST:PORT: probes a running
 * TLS server (the user's) from the client side. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

static const char server_usage[] =
"usage: certmint test server HOST:PORT [--name N] [--ca NAME | --trust F]\n"
"           [--client REF | --client F --client-key F] [--http [PATH]]\n"
"           [--format F] [--runs N] [--timeout T] [--strict]\n"
"           [--expect-revocation] [--passphrase-file F]\n"
"\n"
"Probes a running TLS server from the client side, under TLS 1.2 and\n"
"TLS 1.3:\n"
"  - its certificate: chains to the anchor, matches the name, valid now,\n"
"    serverAuth, and the server sends the intermediates it needs (one\n"
"    that verifies only with an intermediate from --trust is a warning);\n"
"  - the seeds' transport rules: it must refuse a client that offers only\n"
"    TLS 1.0, only TLS 1.1, only CBC/SHA-1 suites, only 3DES or only key\n"
"    exchange without forward secrecy (warnings);\n"
"  - when it asks for a client certificate, mutual TLS: the valid client\n"
"    (--client) must be accepted; none, one from a foreign CA, an expired\n"
"    and a not-yet-valid twin, a serverAuth-only twin (critical) and a\n"
"    revoked one (info; critical with --expect-revocation) rejected.\n"
"\n"
"A server rejects a client with an alert, or by closing before it\n"
"answers (TLS 1.3 servers judge the client's certificate after the\n"
"client's handshake is done: the probe reads, bounded by --timeout), or\n"
"with --http by an HTTP status of 400 or more to GET PATH.  The twins are\n"
"signed by the store's CA and recorded in its inventory under the names\n"
"*.client-twin.certmint.invalid (made once, reused); the foreign client\n"
"comes from an ephemeral CA.\n"
"\n"
"  --name N            the name the server's certificate must match\n"
"                      (default: HOST)\n"
"  --ca NAME           the store's CA the server's certificate and the\n"
"                      clients come from (default: the only one)\n"
"  --trust F           PEM anchors for the server's certificate instead\n"
"                      (no store needed; the twins then come from the CA\n"
"                      of --client REF, if any)\n"
"  --client REF        the valid client: a certificate of the store with\n"
"                      its key kept, or a PEM file with --client-key F\n"
"  --client-key F      the key of --client F (PEM or DER, unencrypted)\n"
"  --http [PATH]       send GET PATH (default /) and judge the status\n"
"  --format F          table (default), json, tap, junit or html\n"
"  --runs N            run every probe N times and report a probe whose\n"
"                      verdict changed (flaky)\n"
"  --timeout T         per probe: 500ms, 5s (default 5s)\n"
"  --strict            a warning (old protocol, weak suite, incomplete\n"
"                      chain) fails too\n"
"  --expect-revocation the server checks revocation: the revoked client\n"
"                      must be rejected\n"
"  --passphrase-file F the CA key's passphrase (for the twins)\n"
"\n"
"Exit: 0 nothing critical went wrong, 1 something did (a client accepted\n"
"that must be rejected, the valid client rejected, the server's\n"
"certificate wrong; with --strict: or a warning), 2 bad input, 3 store\n"
"error, 4 no TLS handshake with the server (not listening, not TLS).\n";

int cmd_test_server(cmd_env *env, int argc, char **argv);

#define TWIN_SUFFIX ".client-twin.certmint.invalid"
#define DAY (24 * 3600)

typedef enum expect { EXP_ACCEPT, EXP_REJECT } expect;

/* A client identity for the mTLS probes. */
typedef struct ident {
	const char *label;     /* "valid-client" */
	const char *what;      /* "a client without a certificate" */
	char *chain, *key;     /* NULL, NULL: no certificate */
	bool absent;           /* could not be made: the probe is skipped */
	char note[200];        /* why absent, or where it came from */
} ident;

typedef struct prow {
	char name[48];
	const char *version;   /* "tls1.2", "tls1.3" */
	cm_severity sev;
	expect exp;
	const char *what;
	bool skipped;
	bool wrong, flaky;
	const char *exp_text;  /* instead of accept/reject */
	const char *verdict_text; /* instead of accepted/rejected */
	bool have;
	cm_probe_result r;
	char note[240];
} prow;

typedef struct plan {
	cmd_env *env;
	const char *target;
	char host[256], port[16];
	const char *name;
	char *trust;
	const char *http;
	unsigned ms;
	prow *rows;
	size_t n, cap;
} plan;

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fputs("certmint: out of memory\n", stderr);
		exit(EXIT_STORE);
	}
	return q;
}

static prow *
row_add(plan *pl, const char *name, const char *ver, cm_severity sev,
    expect exp, const char *what)
{
	prow *r;

	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 32;
		pl->rows = xrealloc(pl->rows, pl->cap * sizeof(*pl->rows));
	}
	r = &pl->rows[pl->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->version = ver;
	r->sev = sev;
	r->exp = exp;
	r->what = what;
	return r;
}

static const char *
prio_of(const char *ver)
{
	return strcmp(ver, "tls1.2") == 0 ? CM_PRIORITY_TLS12 :
	    CM_PRIORITY_TLS13;
}

/*
 * One probe: connect, run.  EXIT_OK, or EXIT_CRYPTO when the server
 * cannot be reached (the message printed), or the code of a setup error.
 */
static int
probe_once(cm_probe_result *r, plan *pl, const char *prio, const ident *id)
{
	cm_probe_opts o = CM_PROBE_OPTS_INIT;
	char safe[512];
	cm_err err;
	int fd;

	if ((fd = cmd_connect(pl->host, pl->port, pl->ms)) < 0) {
		fprintf(stderr, "certmint: test server: connect to %s: %s\n",
		    cmd_safe(safe, sizeof(safe), pl->target), strerror(errno ? errno :
		    ECONNREFUSED));
		return EXIT_CRYPTO;
	}
	o.priority = prio;
	o.trust = pl->trust;
	o.name = pl->name;
	o.client_chain = id ? id->chain : NULL;
	o.client_key = id ? id->key : NULL;
	o.http_path = pl->http;
	o.timeout_ms = pl->ms;
	o.insecure_continue = true;
	err = cm_probe_run(r, pl->env->ctx, fd, &o);
	close(fd);
	if (err != CM_OK)
		return cmd_fail(pl->env, err);
	return EXIT_OK;
}

/* Runs row's probe and records the verdict (flaky when it changed). */
static int
run_row(prow *row, plan *pl, const char *prio, const ident *id,
    bool transport)
{
	cm_probe_result r;
	bool accepted, was;
	int rc;

	if ((rc = probe_once(&r, pl, prio, id)) != EXIT_OK)
		return rc;
	if (r.verdict == CM_PROBE_LOCAL) {
		row->skipped = true;
		snprintf(row->note, sizeof(row->note), "%s", r.how);
		row->r = r;
		return EXIT_OK;
	}
	/* A transport offer the server took: it completed the handshake, or
	 * got as far as asking for a certificate (which this probe may not
	 * have). */
	accepted = r.verdict == CM_PROBE_ACCEPTED ||
	    (transport && (r.handshake || r.requested));
	if (row->have) {
		was = row->r.verdict == CM_PROBE_ACCEPTED || (transport &&
		    (row->r.handshake || row->r.requested));
		if (was != accepted)
			row->flaky = true;
	}
	row->have = true;
	row->r = r;
	/* Info rows report; they are never wrong. */
	if ((row->exp == EXP_ACCEPT) != accepted && row->sev != CM_SEV_INFO)
		row->wrong = true;
	return EXIT_OK;
}

static bool
row_accepted(const prow *r, bool transport)
{
	return r->r.verdict == CM_PROBE_ACCEPTED || (transport &&
	    (r->r.handshake || r->r.requested));
}

#define P_OLD "NORMAL:%VERIFY_ALLOW_SIGN_WITH_SHA1:-VERS-ALL:"
static const struct {
	const char *label, *prio, *what;
} weak[] = {
	{ "tls1.0-only", P_OLD "+VERS-TLS1.0", "a client offering only "
	    "TLS 1.0" },
	{ "tls1.1-only", P_OLD "+VERS-TLS1.1", "a client offering only "
	    "TLS 1.1" },
	{ "cbc-sha1-only", P_OLD "+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:"
	    "+AES-256-CBC:-MAC-ALL:+SHA1", "a client offering only CBC "
	    "suites with SHA-1 MACs" },
	{ "3des-only", P_OLD "+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:"
	    "+SHA1", "a client offering only 3DES suites" },
	{ "rsa-kx-only", P_OLD "+VERS-TLS1.2:-KX-ALL:+RSA", "a client "
	    "offering only key exchange without forward secrecy (TLS_RSA_*)" },
};

static bool
is_transport(const prow *r)
{
	size_t i;

	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (strcmp(r->name, weak[i].label) == 0)
			return true;
	return false;
}

/* ---- the store's side: trust anchors and twins --------------------------- */

/* The CA's certificate and those above it, PEM. */
static cm_err
ca_chain(char **out, cm_store *st, const char *name)
{
	cm_ca_info *ca = NULL;
	char *acc = NULL, *next = NULL;
	size_t len = 0;
	int depth;
	cm_err err = CM_OK;

	for (depth = 0; depth < 16; depth++) {
		size_t l;
		if ((err = cm_ca_get(&ca, st, depth ? next : name)) != CM_OK)
			break;
		l = strlen(ca->pem);
		acc = xrealloc(acc, len + l + 1);
		memcpy(acc + len, ca->pem, l + 1);
		len += l;
		free(next);
		next = ca->parent ? strdup(ca->parent) : NULL;
		if (ca->parent != NULL && next == NULL)
			err = CM_E_NOMEM;
		cm_ca_info_free(ca);
		ca = NULL;
		if (next == NULL || err != CM_OK)
			break;
	}
	free(next);
	if (err != CM_OK) {
		free(acc);
		return err;
	}
	*out = acc;
	return CM_OK;
}

/*
 * A twin of the store's CA: found in the inventory by its name and
 * status (its key kept), or issued now and recorded.
 */
static cm_err
twin(ident *id, cm_store *st, const char *ca, const char *stem,
    const char *profile, const char *status, time_t nb, time_t na,
    bool revoke)
{
	cm_list_filter f = CM_LIST_FILTER_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	cm_cert_info **list = NULL, *c = NULL;
	char name[128];
	const char *names[1];
	size_t n = 0, i;
	cm_err err;

	snprintf(name, sizeof(name), "%s" TWIN_SUFFIX, stem);
	f.name = name;
	f.ca = ca;
	f.status = status;
	if ((err = cm_cert_list(&list, &n, st, &f)) != CM_OK)
		return err;
	for (i = n; i-- > 0;) {
		if (strcmp(list[i]->profile, profile) != 0)
			continue;
		if (cm_scenario_load_cert(&id->chain, &id->key, st,
		    list[i]->serial) == CM_OK) {
			snprintf(id->note, sizeof(id->note), "twin %s",
			    list[i]->serial);
			cm_cert_info_list_free(list, n);
			return CM_OK;
		}
	}
	cm_cert_info_list_free(list, n);
	names[0] = name;
	io.profile = profile;
	io.ca = ca;
	io.names = names;
	io.nnames = 1;
	io.not_before = nb;
	io.not_after = na;
	if ((err = cm_issue(&c, st, &io)) != CM_OK)
		return err;
	if (revoke && (err = cm_cert_revoke(NULL, st, c->serial,
	    CM_REASON_CESSATION_OF_OPERATION, 0)) != CM_OK)
		goto out;
	if ((err = cm_scenario_load_cert(&id->chain, &id->key, st,
	    c->serial)) != CM_OK)
		goto out;
	snprintf(id->note, sizeof(id->note), "twin %s, recorded now%s",
	    c->serial, revoke ? " and revoked: the server needs a fresh CRL "
	    "(certmint crl) to know it" : "");
out:
	cm_cert_info_free(c);
	return err;
}

/* A revoked client certificate of the store under ca (its key kept). */
static bool
revoked_client(ident *id, cm_store *st, const char *ca)
{
	cm_list_filter f = CM_LIST_FILTER_INIT;
	cm_cert_info **list = NULL;
	size_t n = 0, i;
	bool found = false;

	f.ca = ca;
	f.status = "revoked";
	if (cm_cert_list(&list, &n, st, &f) != CM_OK)
		return false;
	for (i = n; i-- > 0 && !found;) {
		if (strcmp(list[i]->profile, "client") != 0 &&
		    strcmp(list[i]->profile, "peer") != 0)
			continue;
		if (cm_scenario_load_cert(&id->chain, &id->key, st,
		    list[i]->serial) == CM_OK) {
			snprintf(id->note, sizeof(id->note), "revoked in the "
			    "store: %s", list[i]->serial);
			found = true;
		}
	}
	cm_cert_info_list_free(list, n);
	return found;
}

static void
ident_clear(ident *id)
{
	free(id->chain);
	if (id->key) {
		explicit_bzero(id->key, strlen(id->key));
		free(id->key);
	}
	id->chain = id->key = NULL;
}

/* ---- reports ----------------------------------------------------------- */

static const char *
expect_name(const prow *r)
{
	if (r->exp_text != NULL)
		return r->exp_text;
	return r->exp == EXP_ACCEPT ? "accept" : "reject";
}

static const char *
verdict_name(const prow *r, bool transport)
{
	if (r->skipped)
		return "skipped";
	if (r->verdict_text != NULL)
		return r->verdict_text;
	return row_accepted(r, transport) ? "accepted" : "rejected";
}

static const char *
row_detail(const prow *r)
{
	return r->note[0] ? r->note : r->r.how;
}

/* The page of --format html: probes by TLS version. */
static void
html(cm_ctx *ctx, const plan *pl)
{
	cm_report_cell *cells = calloc(pl->n ? pl->n : 1, sizeof(*cells));
	char (*det)[600] = calloc(pl->n ? pl->n : 1, sizeof(*det));
	char title[400];
	size_t i;

	if (cells == NULL || det == NULL) {
		fputs("certmint: out of memory\n", stderr);
		exit(EXIT_STORE);
	}
	for (i = 0; i < pl->n; i++) {
		const prow *r = &pl->rows[i];
		snprintf(det[i], sizeof(det[i]), "%s: %s%s%s%s%s%s; %s",
		    cm_severity_name(r->sev), r->what ? r->what : "",
		    r->r.handshake ? "; " : "", r->r.version,
		    r->r.handshake ? " " : "", r->r.cipher,
		    r->r.handshake && r->r.group[0] ? " " : "", row_detail(r));
		cells[i].row = r->name;
		cells[i].col = strcmp(r->version, "-") == 0 ? "offer" :
		    r->version;
		cells[i].actual = r->flaky ? "flaky" :
		    verdict_name(r, is_transport(r));
		cells[i].expected = expect_name(r);
		cells[i].detail = det[i];
		cells[i].state = r->skipped ? CM_CELL_SKIP :
		    !r->wrong && !r->flaky ? (r->sev == CM_SEV_INFO &&
		    r->exp == EXP_REJECT && row_accepted(r, false) ?
		    CM_CELL_INFO : CM_CELL_OK) : r->sev == CM_SEV_CRITICAL ?
		    CM_CELL_WRONG : r->sev == CM_SEV_WARNING ? CM_CELL_WARN :
		    CM_CELL_INFO;
	}
	snprintf(title, sizeof(title), "certmint test server %s (%s)",
	    pl->target, pl->name);
	if (cm_report_write_grid(stdout, ctx, title, cells, pl->n) != CM_OK)
		fprintf(stderr, "certmint: %s\n", cm_ctx_error(ctx));
	free(det);
	free(cells);
}

static void
report(const char *fmt, const plan *pl, size_t bad)
{
	size_t i;

	if (strcmp(fmt, "html") == 0) {
		html(pl->env->ctx, pl);
		return;
	}

	if (strcmp(fmt, "json") == 0) {
		printf("{\"target\": ");
		cmd_json_str(pl->target);
		printf(", \"name\": ");
		cmd_json_str(pl->name);
		printf(", \"probes\": [");
		for (i = 0; i < pl->n; i++) {
			const prow *r = &pl->rows[i];
			printf("%s\n  {\"probe\": ", i ? "," : "");
			cmd_json_str(r->name);
			printf(", \"version\": \"%s\", \"severity\": \"%s\", "
			    "\"expected\": \"%s\", \"verdict\": \"%s\", "
			    "\"wrong\": %s, \"flaky\": %s, \"alert\": ",
			    r->version, cm_severity_name(r->sev), expect_name(r),
			    verdict_name(r, is_transport(r)),
			    r->wrong ? "true" : "false",
			    r->flaky ? "true" : "false");
			if (r->r.alert_name)
				cmd_json_str(r->r.alert_name);
			else
				printf("null");
			printf(", \"http_status\": ");
			if (r->r.http_status)
				printf("%d", r->r.http_status);
			else
				printf("null");
			printf(", \"negotiated\": ");
			if (r->r.handshake) {
				printf("{\"version\": ");
				cmd_json_str(r->r.version);
				printf(", \"cipher\": ");
				cmd_json_str(r->r.cipher);
				printf(", \"group\": ");
				cmd_json_str(r->r.group);
				printf("}");
			} else
				printf("null");
			printf(", \"detail\": ");
			cmd_json_str(row_detail(r));
			printf("}");
		}
		printf("\n], \"wrong\": %zu}\n", bad);
		return;
	}
	if (strcmp(fmt, "tap") == 0) {
		printf("1..%zu\n", pl->n);
		for (i = 0; i < pl->n; i++) {
			const prow *r = &pl->rows[i];
			printf("%sok %zu - %s %s %s: %s%s%s\n", r->wrong ?
			    "not " : "", i + 1, r->name, r->version,
			    cm_severity_name(r->sev), verdict_name(r,
			    is_transport(r)), r->skipped ? " # SKIP " : "",
			    r->flaky ? " (flaky)" : "");
		}
		return;
	}
	if (strcmp(fmt, "junit") == 0) {
		printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<testsuites><testsuite name=\"certmint test server\" "
		    "tests=\"%zu\" failures=\"%zu\">\n", pl->n, bad);
		for (i = 0; i < pl->n; i++) {
			const prow *r = &pl->rows[i];
			printf("<testcase name=\"");
			cmd_xml_str(r->name);
			printf(" %s\">", r->version);
			if (r->skipped) {
				printf("<skipped message=\"");
				cmd_xml_str(row_detail(r));
				printf("\"/>");
			} else if (r->wrong || r->flaky) {
				printf("<failure message=\"%s: expected %s, "
				    "got %s: ", cm_severity_name(r->sev),
				    expect_name(r), verdict_name(r,
				    is_transport(r)));
				cmd_xml_str(row_detail(r));
				printf("\"/>");
			}
			printf("</testcase>\n");
		}
		printf("</testsuite></testsuites>\n");
		return;
	}
	printf("%-24s %-7s %-8s %-8s %-9s  %s\n", "PROBE", "VERSION",
	    "SEVERITY", "EXPECTED", "VERDICT", "DETAIL");
	for (i = 0; i < pl->n; i++) {
		const prow *r = &pl->rows[i];
		char detail[400];
		snprintf(detail, sizeof(detail), "%s", row_detail(r));
		printf("%-24s %-7s %-8s %-8s %-9s  %s%s", r->name, r->version,
		    cm_severity_name(r->sev), expect_name(r),
		    verdict_name(r, is_transport(r)), r->wrong ? "WRONG " : "",
		    r->flaky ? "FLAKY " : "");
		cmd_fputs_safe(detail, stdout);
		putchar('\n');
	}
}

/* ---- the command ------------------------------------------------------- */

static const char *const versions[] = { "tls1.2", "tls1.3" };

enum { ID_VALID, ID_NONE, ID_FOREIGN, ID_EXPIRED, ID_NYV, ID_SERVER_ONLY,
    ID_REVOKED, ID_N };

static int
read_text(char **out, const char *path)
{
	size_t len = 0;

	return cmd_read_small_file(out, &len, path, 1u << 20);
}

int
cmd_test_server(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "ca", required_argument, NULL, 'a' },
		{ "trust", required_argument, NULL, 't' },
		{ "client", required_argument, NULL, 'c' },
		{ "client-key", required_argument, NULL, 'k' },
		{ "http", optional_argument, NULL, 'H' },
		{ "format", required_argument, NULL, 'f' },
		{ "runs", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "strict", no_argument, NULL, 'S' },
		{ "expect-revocation", no_argument, NULL, 'R' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	plan pl;
	ident ids[ID_N];
	cm_cert_info *cinfo = NULL;
	cm_store *st = NULL;
	const char *ca_name = NULL, *trust = NULL, *client = NULL;
	const char *client_key = NULL, *fmt = "table", *twin_ca = NULL;
	unsigned runs = 1, k;
	unsigned long long span;
	bool strict = false, expect_rev = false, asked[2] = { false, false };
	bool spoke[2] = { false, false };
	size_t i, v, bad = 0, base[2];
	time_t now = time(NULL);
	int c, rc = EXIT_OK;
	cm_err err;

	memset(&pl, 0, sizeof(pl));
	memset(ids, 0, sizeof(ids));
	pl.env = env;
	pl.ms = 5000;
	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'n': pl.name = optarg; break;
		case 'a': ca_name = optarg; break;
		case 't': trust = optarg; break;
		case 'c': client = optarg; break;
		case 'k': client_key = optarg; break;
		case 'H':
			if ((pl.http = cmd_http_path(argc, argv)) == NULL)
				return cmd_usage_error("test server", "--http "
				    "'%s' is not a path (/, /health)", optarg);
			break;
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json") &&
			    strcmp(optarg, "tap") && strcmp(optarg, "junit") &&
			    strcmp(optarg, "html"))
				return cmd_usage_error("test server", "--format "
				    "'%s': table, json, tap, junit or html",
				    optarg);
			fmt = optarg;
			break;
		case 'r':
			if (!cmd_parse_uint(optarg, 1000, &runs) || runs == 0)
				return cmd_usage_error("test server", "--runs "
				    "'%s' is not a number from 1 to 1000",
				    optarg);
			break;
		case 'T':
			if (!cmd_parse_ms(optarg, 1, 600000, &span))
				return cmd_usage_error("test server", "--timeout "
				    "'%s' is not a time up to 10m (500ms, 5s; a "
				    "bare number is milliseconds)", optarg);
			pl.ms = (unsigned)span;
			break;
		case 'S': strict = true; break;
		case 'R': expect_rev = true; break;
		case 'P': env->passphrase_file = optarg; break;
		case 'h':
			fputs(server_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("test server", argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("test server", "give one HOST:PORT");
	pl.target = argv[optind];
	if (!cmd_split_hostport(pl.target, pl.host, sizeof(pl.host), pl.port,
	    sizeof(pl.port)))
		return cmd_usage_error("test server", "'%s' is not HOST:PORT",
		    pl.target);
	if (ca_name && trust)
		return cmd_usage_error("test server", "--ca and --trust "
		    "exclude each other");
	if (client_key && !client)
		return cmd_usage_error("test server", "--client-key needs "
		    "--client");
	if (pl.name == NULL)
		pl.name = pl.host;
	ids[ID_VALID] = (ident){ "valid-client", "the valid client",
	    NULL, NULL, false, "" };
	ids[ID_NONE] = (ident){ "no-client-cert", "a client without a "
	    "certificate", NULL, NULL, false, "" };
	ids[ID_FOREIGN] = (ident){ "foreign-client", "a client certificate "
	    "from a foreign CA", NULL, NULL, false, "" };
	ids[ID_EXPIRED] = (ident){ "expired-client", "an expired client "
	    "certificate", NULL, NULL, false, "" };
	ids[ID_NYV] = (ident){ "not-yet-valid-client", "a not-yet-valid "
	    "client certificate", NULL, NULL, false, "" };
	ids[ID_SERVER_ONLY] = (ident){ "server-only-client", "a certificate "
	    "for servers only (serverAuth EKU)", NULL, NULL, false, "" };
	ids[ID_REVOKED] = (ident){ "revoked-client", "a revoked client "
	    "certificate", NULL, NULL, false, "" };

	/* What the server's certificate must chain to. */
	if (trust != NULL) {
		if ((rc = read_text(&pl.trust, trust)) != EXIT_OK)
			goto out;
	} else {
		if ((err = cmd_open_store(&st, env, false)) != CM_OK ||
		    (err = ca_chain(&pl.trust, st, ca_name)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		twin_ca = ca_name;
	}
	/* The valid client. */
	if (client != NULL && client_key != NULL) {
		if ((rc = read_text(&ids[ID_VALID].chain, client)) !=
		    EXIT_OK || (rc = read_text(&ids[ID_VALID].key,
		    client_key)) != EXIT_OK)
			goto out;
	} else if (client != NULL) {
		if ((st == NULL && (err = cmd_open_store(&st, env, false)) !=
		    CM_OK) || (err = cm_cert_find(&cinfo, st, client)) !=
		    CM_OK || (err = cm_scenario_load_cert(&ids[ID_VALID].chain,
		    &ids[ID_VALID].key, st, client)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (twin_ca == NULL || trust != NULL)
			twin_ca = cinfo->ca;
	} else {
		ids[ID_VALID].absent = true;
		snprintf(ids[ID_VALID].note, sizeof(ids[ID_VALID].note),
		    "no --client: give the valid client to check that the "
		    "server accepts it");
	}
	if ((err = cm_probe_foreign_client(&ids[ID_FOREIGN].chain,
	    &ids[ID_FOREIGN].key, env->ctx,
	    "CN=foreign.client.certmint.invalid,O=certmint probe")) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	/* The server's certificate and whether it asks for a client's,
	 * under each version (with the valid client when there is one). */
	for (v = 0; v < 2; v++) {
		prow *r;
		base[v] = pl.n;
		r = row_add(&pl, "server-certificate", versions[v],
		    CM_SEV_CRITICAL, EXP_ACCEPT, "the server's certificate");
		if ((rc = probe_once(&r->r, &pl, prio_of(versions[v]),
		    ids[ID_VALID].absent ? NULL : &ids[ID_VALID])) != EXIT_OK)
			goto out;
		r->have = true;
		asked[v] = r->r.requested;
		spoke[v] = r->r.handshake || r->r.requested;
		if (!spoke[v] && !r->r.checked) {
			r->skipped = true;
			snprintf(r->note, sizeof(r->note), "no %s handshake: %s",
			    v == 0 ? "TLS 1.2" : "TLS 1.3", r->r.how);
			continue;
		}
		r->exp_text = "ok";
		r->verdict_text = r->r.checked ?
		    cm_outcome_name(r->r.server_class) : "none";
		if (!r->r.checked || r->r.server_class != CM_OUTCOME_OK) {
			r->wrong = true;
			snprintf(r->note, sizeof(r->note), "the certificate "
			    "fails verification: %s (for %s)",
			    r->r.checked ? cm_outcome_name(r->r.server_class) :
			    "not received", pl.name);
		} else
			snprintf(r->note, sizeof(r->note), "ok for %s: %s %s "
			    "%s%s", pl.name, r->r.version, r->r.cipher,
			    r->r.group, asked[v] ? "; asks for a client "
			    "certificate" : "; does not ask for a client "
			    "certificate");
		if (r->r.checked && r->r.incomplete_chain) {
			prow *w = row_add(&pl, "chain-complete", versions[v],
			    CM_SEV_WARNING, EXP_ACCEPT, "the chain it sends");
			w->have = true;
			w->r = pl.rows[base[v]].r;
			w->wrong = true;
			w->exp_text = "complete";
			w->verdict_text = "partial";
			snprintf(w->note, sizeof(w->note), "the server does not "
			    "send the intermediate CA certificates it needs: "
			    "its chain verifies only with those in the trust "
			    "file");
		}
	}
	if (!spoke[0] && !spoke[1]) {
		char safe[512];
		fprintf(stderr, "certmint: test server: no TLS handshake with "
		    "%s: %s\n", cmd_safe(safe, sizeof(safe), pl.target),
		    pl.rows[0].r.how);
		rc = EXIT_CRYPTO;
		goto out;
	}

	/* The twins, when a server asks for client certificates. */
	if ((asked[0] || asked[1]) && st != NULL) {
		struct {
			int id;
			const char *stem, *profile, *status;
			time_t nb, na;
		} tw[] = {
			{ ID_EXPIRED, "expired", "client", "expired",
			    now - 30 * DAY, now - DAY },
			{ ID_NYV, "not-yet-valid", "client", "not-yet-valid",
			    0, 0 },
			{ ID_SERVER_ONLY, "server-only", "server", "valid",
			    0, 0 },
		};
		cm_ca_info *ca = NULL;
		if ((err = cm_ca_get(&ca, st, twin_ca)) != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		/* Not yet valid for long: from half-way to the CA's end. */
		tw[1].nb = now + (ca->not_after - now) / 2;
		tw[1].na = ca->not_after;
		for (i = 0; i < sizeof(tw) / sizeof(tw[0]); i++)
			if ((err = twin(&ids[tw[i].id], st, ca->name,
			    tw[i].stem, tw[i].profile, tw[i].status, tw[i].nb,
			    tw[i].na, false)) != CM_OK) {
				cm_ca_info_free(ca);
				rc = cmd_fail(env, err);
				goto out;
			}
		if (!revoked_client(&ids[ID_REVOKED], st, ca->name) &&
		    (err = twin(&ids[ID_REVOKED], st, ca->name, "revoked",
		    "client", "revoked", 0, 0, true)) != CM_OK) {
			cm_ca_info_free(ca);
			rc = cmd_fail(env, err);
			goto out;
		}
		cm_ca_info_free(ca);
	} else if (asked[0] || asked[1]) {
		for (i = ID_EXPIRED; i <= ID_REVOKED; i++) {
			ids[i].absent = true;
			snprintf(ids[i].note, sizeof(ids[i].note), "no store "
			    "CA to sign it: give --ca NAME or --client REF");
		}
	}

	/* The probes. */
	for (v = 0; v < 2; v++) {
		if (!spoke[v])
			continue;
		if (!asked[v]) {
			prow *r = row_add(&pl, "client-auth", versions[v],
			    CM_SEV_INFO, EXP_ACCEPT, "client certificates");
			r->have = true;
			r->r = pl.rows[base[v]].r;
			snprintf(r->note, sizeof(r->note), "the server does not "
			    "ask for a client certificate: no mutual-TLS "
			    "probes");
			continue;
		}
		for (i = 0; i < ID_N; i++) {
			prow *r = row_add(&pl, ids[i].label, versions[v],
			    i == ID_REVOKED && !expect_rev ? CM_SEV_INFO :
			    CM_SEV_CRITICAL, i == ID_VALID ? EXP_ACCEPT :
			    EXP_REJECT, ids[i].what);
			if (ids[i].absent) {
				r->skipped = true;
				snprintf(r->note, sizeof(r->note), "%s",
				    ids[i].note);
			}
		}
	}
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		(void)row_add(&pl, weak[i].label, "-", CM_SEV_WARNING,
		    EXP_REJECT, weak[i].what);

	for (k = 0; k < runs; k++) {
		for (i = 0; i < pl.n; i++) {
			prow *r = &pl.rows[i];
			size_t j;
			if (r->skipped || strcmp(r->name, "client-auth") == 0 ||
			    strcmp(r->name, "chain-complete") == 0)
				continue;
			if (strcmp(r->name, "server-certificate") == 0) {
				if (k == 0)
					continue; /* ran above */
				v = strcmp(r->version, "tls1.2") == 0 ? 0 : 1;
				if ((rc = run_row(r, &pl, prio_of(r->version),
				    ids[ID_VALID].absent ? NULL :
				    &ids[ID_VALID], false)) != EXIT_OK)
					goto out;
				/* Its own verdict is the certificate's. */
				r->wrong = !r->r.checked ||
				    r->r.server_class != CM_OUTCOME_OK;
				if (r->verdict_text != NULL && strcmp(
				    r->verdict_text, r->r.checked ?
				    cm_outcome_name(r->r.server_class) :
				    "none") != 0)
					r->flaky = true;
				continue;
			}
			for (j = 0; j < sizeof(weak) / sizeof(weak[0]); j++)
				if (strcmp(r->name, weak[j].label) == 0)
					break;
			if (j < sizeof(weak) / sizeof(weak[0])) {
				if ((rc = run_row(r, &pl, weak[j].prio,
				    ids[ID_VALID].absent ? NULL :
				    &ids[ID_VALID], true)) != EXIT_OK)
					goto out;
				continue;
			}
			for (j = 0; j < ID_N; j++)
				if (strcmp(r->name, ids[j].label) == 0)
					break;
			if ((rc = run_row(r, &pl, prio_of(r->version),
			    j == ID_NONE ? NULL : &ids[j], false)) != EXIT_OK)
				goto out;
			if (j == ID_REVOKED && ids[j].note[0] && !r->note[0])
				snprintf(r->note, sizeof(r->note), "%s: %s",
				    r->r.how, ids[j].note);
		}
	}

	for (i = 0; i < pl.n; i++) {
		prow *r = &pl.rows[i];
		if ((r->wrong || r->flaky) && (r->sev == CM_SEV_CRITICAL ||
		    (strict && r->sev == CM_SEV_WARNING)))
			bad++;
	}
	report(fmt, &pl, bad);
	fflush(stdout);
	for (i = 0; i < pl.n; i++) {
		prow *r = &pl.rows[i];
		if (r->flaky)
			fprintf(stderr, "FLAKY %s %s: the verdict changed "
			    "between runs\n", r->name, r->version);
		if (!r->wrong || r->sev == CM_SEV_INFO)
			continue;
		if (strcmp(r->name, "server-certificate") == 0 ||
		    strcmp(r->name, "chain-complete") == 0)
			fprintf(stderr, "%s %s %s: %s\n", r->sev ==
			    CM_SEV_CRITICAL ? "FAIL" : "WARN", r->name,
			    r->version, r->note);
		else if (r->exp == EXP_REJECT)
			fprintf(stderr, "%s %s%s%s: the server accepted %s "
			    "(%s)\n", r->sev == CM_SEV_CRITICAL ? "FAIL" :
			    "WARN", r->name, strcmp(r->version, "-") ? " " :
			    "", strcmp(r->version, "-") ? r->version : "",
			    r->what, r->r.how);
		else
			fprintf(stderr, "FAIL %s %s: the server rejected %s "
			    "(%s)\n", r->name, r->version, r->what, r->r.how);
	}
	rc = bad > 0 ? EXIT_MISMATCH : EXIT_OK;
out:
	for (i = 0; i < ID_N; i++)
		ident_clear(&ids[i]);
	free(pl.rows);
	free(pl.trust);
	cm_cert_info_free(cinfo);
	cm_store_close(st);
	return rc;
}
