/*
 * test-harness.c - the TLS harness: engine, matrix, scenario parser and
 * reports, through the public API (and internals where noted).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

typedef struct fx {
	char dir[256];
	char path[300];
	cm_ctx *ctx;
	cm_store *st;
	cm_scenario **m;      /* the matrix of "localhost" */
	size_t nm;
} fx;

static int
setup(void **state)
{
	static const char *const names[] = { "localhost", "127.0.0.1" };
	static const char *const cnames[] = { "alice@example.test" };
	cm_ca_init_opts co = CM_CA_INIT_OPTS_INIT;
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-harness.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	if (cm_ctx_new(&f->ctx) != CM_OK ||
	    cm_store_open(&f->st, f->ctx, f->path, CM_STORE_CREATE) != CM_OK ||
	    cm_ca_init(NULL, f->st, &co) != CM_OK)
		return -1;
	io.names = names;
	io.nnames = 2;
	if (cm_issue(NULL, f->st, &io) != CM_OK)
		return -1;
	io.profile = "client";
	io.names = cnames;
	io.nnames = 1;
	if (cm_issue(NULL, f->st, &io) != CM_OK)
		return -1;
	if (cm_matrix_for_cert(&f->m, &f->nm, f->st, "localhost") != CM_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;

	cm_scenario_list_free(f->m, f->nm);
	cm_store_close(f->st);
	cm_ctx_free(f->ctx);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const cm_scenario *
find(const fx *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nm; i++)
		if (strcmp(f->m[i]->name, name) == 0)
			return f->m[i];
	fail_msg("no scenario '%s'", name);
	return NULL;
}

/* Every scenario of the matrix, in memory and over TCP, matches. */
static void
test_matrix_matches(void **state)
{
	cm_harness_opts o = CM_HARNESS_OPTS_INIT;
	fx *f = *state;
	cm_result *r;
	size_t i, t;

	assert_true(f->nm >= 30);
	for (t = 0; t < 2; t++) {
		o.transport = t ? CM_TRANSPORT_TCP : CM_TRANSPORT_MEMORY;
		for (i = 0; i < f->nm; i++) {
			r = NULL;
			assert_int_equal(cm_harness_run(&r, f->ctx, f->m[i], &o),
			    CM_OK);
			if (!r->match)
				fail_msg("%s: expected %s, got %s (%s)", r->name,
				    cm_outcome_name(r->expected),
				    cm_outcome_name(r->actual),
				    r->detail ? r->detail : "");
			assert_false(r->skipped);
			cm_result_free(r);
		}
	}
}

/* Table: scenario -> class, side, version. */
static void
test_classes(void **state)
{
	static const struct {
		const char *name;
		cm_outcome cls;
		cm_side side;
		const char *version;
	} tab[] = {
		{ "tls13/name:localhost", CM_OUTCOME_OK, CM_SIDE_NONE, "TLS1.3" },
		{ "tls12/name:localhost", CM_OUTCOME_OK, CM_SIDE_NONE, "TLS1.2" },
		{ "tls13/ip:127.0.0.1", CM_OUTCOME_OK, CM_SIDE_NONE, "TLS1.3" },
		{ "tls13/sibling:xlocalhost", CM_OUTCOME_HOSTNAME,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls12/untrusted-root", CM_OUTCOME_UNTRUSTED, CM_SIDE_CLIENT,
		  "TLS1.2" },
		{ "tls13/expired-twin", CM_OUTCOME_EXPIRED, CM_SIDE_CLIENT,
		  "TLS1.3" },
		{ "tls13/not-yet-valid-twin", CM_OUTCOME_NOT_YET_VALID,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls12/client-eku-twin", CM_OUTCOME_PURPOSE, CM_SIDE_CLIENT,
		  "TLS1.2" },
		{ "tls13/name-constraints-twin", CM_OUTCOME_NAME_CONSTRAINTS,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls13/missing-intermediate", CM_OUTCOME_UNTRUSTED,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls12/missing-intermediate", CM_OUTCOME_UNTRUSTED,
		  CM_SIDE_CLIENT, "TLS1.2" },
		{ "tls13/with-intermediate", CM_OUTCOME_OK, CM_SIDE_NONE,
		  "TLS1.3" },
		{ "tls13/request-client-cert-foreign",
		  CM_OUTCOME_CLIENT_UNTRUSTED, CM_SIDE_SERVER, "TLS1.3" },
		{ "version-mismatch", CM_OUTCOME_PROTOCOL, CM_SIDE_SERVER, NULL },
		{ "tls13/ip-checked-as-dns:127.0.0.1", CM_OUTCOME_OK,
		  CM_SIDE_NONE, "TLS1.3" },
		{ "tls12/ip-as-dns-san:127.0.0.1", CM_OUTCOME_HOSTNAME,
		  CM_SIDE_CLIENT, "TLS1.2" },
		{ "tls12/revoked-crl", CM_OUTCOME_REVOKED, CM_SIDE_CLIENT,
		  "TLS1.2" },
		{ "tls13/revoked-crl", CM_OUTCOME_REVOKED, CM_SIDE_CLIENT,
		  "TLS1.3" },
		{ "tls13/good-crl", CM_OUTCOME_OK, CM_SIDE_NONE, "TLS1.3" },
		{ "tls12/revoked-ocsp-staple", CM_OUTCOME_REVOKED,
		  CM_SIDE_CLIENT, "TLS1.2" },
		{ "tls13/revoked-ocsp-staple", CM_OUTCOME_REVOKED,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls12/good-ocsp-staple", CM_OUTCOME_OK, CM_SIDE_NONE,
		  "TLS1.2" },
		{ "tls13/must-staple-missing", CM_OUTCOME_REVOKED,
		  CM_SIDE_CLIENT, "TLS1.3" },
		{ "tls12/must-staple-missing", CM_OUTCOME_REVOKED,
		  CM_SIDE_CLIENT, "TLS1.2" },
		{ "tls13/must-staple-stapled", CM_OUTCOME_OK, CM_SIDE_NONE,
		  "TLS1.3" },
	};
	fx *f = *state;
	cm_result *r;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		r = NULL;
		assert_int_equal(cm_harness_run(&r, f->ctx, find(f,
		    tab[i].name), NULL), CM_OK);
		assert_int_equal(r->actual, tab[i].cls);
		assert_int_equal(r->side, tab[i].side);
		if (tab[i].version)
			assert_string_equal(r->version, tab[i].version);
		else
			assert_null(r->version);
		if (tab[i].cls == CM_OUTCOME_OK) {
			assert_non_null(r->cipher);
			assert_non_null(r->group);
			assert_int_equal(r->status, 0);
		} else if (tab[i].side == CM_SIDE_CLIENT) {
			/* the raw bits of the rejecting side are kept */
			assert_true(r->status & GNUTLS_CERT_INVALID);
		}
		assert_true(r->time_ms >= 0 && r->time_ms < 5000);
		cm_result_free(r);
	}
}

/*
 * Revocation: the matrix entries and their expectations, the status bits
 * behind them, a staple that does not verify, and the drill (revoke a
 * certificate of the store: its matrix then expects and gets revoked).
 */
static void
test_revocation(void **state)
{
	static const char *const labels[] = { "revoked-crl", "good-crl",
		"revoked-ocsp-staple", "good-ocsp-staple",
		"must-staple-missing", "must-staple-stapled" };
	static const cm_outcome want[] = { CM_OUTCOME_REVOKED, CM_OUTCOME_OK,
		CM_OUTCOME_REVOKED, CM_OUTCOME_OK, CM_OUTCOME_REVOKED,
		CM_OUTCOME_OK };
	static const char *const names[] = { "drill.test" };
	cm_issue_opts io = CM_ISSUE_OPTS_INIT;
	fx *f = *state;
	cm_scenario sc, **v = NULL;
	const cm_scenario *p;
	cm_result *r = NULL;
	unsigned char *bad;
	char name[64];
	size_t i, j, n = 0, revoked = 0;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 6; j++) {
			snprintf(name, sizeof(name), "%s/%s",
			    i ? "tls13" : "tls12", labels[j]);
			p = find(f, name);
			assert_int_equal(p->expect, want[j]);
			/* a CRL on the client or a staple, never both */
			assert_true(strstr(labels[j], "crl") ? p->crl != NULL &&
			    p->ocsp_staple == NULL : p->crl == NULL);
			assert_true(strstr(labels[j], "staple-") == NULL ||
			    strstr(labels[j], "missing") != NULL ||
			    (p->ocsp_staple != NULL && p->ocsp_staple_len > 0));
		}
	/* The certificate itself is valid: its scenarios carry no CRL. */
	assert_null(find(f, "tls13/name:localhost")->crl);

	/* The bits: REVOKED from CRL and staple, MISSING_OCSP_STATUS. */
	assert_int_equal(cm_harness_run(&r, f->ctx, find(f,
	    "tls13/revoked-crl"), NULL), CM_OK);
	assert_true(r->status & GNUTLS_CERT_REVOKED);
	cm_result_free(r);
	r = NULL;
	assert_int_equal(cm_harness_run(&r, f->ctx, find(f,
	    "tls13/revoked-ocsp-staple"), NULL), CM_OK);
	assert_true(r->status & GNUTLS_CERT_REVOKED);
	cm_result_free(r);
	r = NULL;
	assert_int_equal(cm_harness_run(&r, f->ctx, find(f,
	    "tls12/must-staple-missing"), NULL), CM_OK);
	assert_true(r->status & GNUTLS_CERT_MISSING_OCSP_STATUS);
	assert_false(r->status & GNUTLS_CERT_REVOKED);
	cm_result_free(r);
	r = NULL;

	/* A good staple whose signature is broken: INVALID_OCSP_STATUS. */
	p = find(f, "tls13/good-ocsp-staple");
	sc = *p;
	assert_non_null(bad = malloc(p->ocsp_staple_len));
	memcpy(bad, p->ocsp_staple, p->ocsp_staple_len);
	bad[p->ocsp_staple_len - 1] ^= 0x01;
	sc.ocsp_staple = bad;
	assert_int_equal(cm_harness_run(&r, f->ctx, &sc, NULL), CM_OK);
	assert_int_equal(r->actual, CM_OUTCOME_REVOKED);
	assert_true(r->status & GNUTLS_CERT_INVALID_OCSP_STATUS);
	cm_result_free(r);
	r = NULL;
	free(bad);

	/* A CRL that does not parse is a setup error naming the key. */
	sc = *find(f, "tls13/good-crl");
	sc.crl = (char *)"-----BEGIN X509 CRL-----\nAAAA\n"
	    "-----END X509 CRL-----\n";
	assert_int_not_equal(cm_harness_run(&r, f->ctx, &sc, NULL), CM_OK);
	assert_null(r);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "crl"));

	/* The drill. */
	io.names = names;
	io.nnames = 1;
	assert_int_equal(cm_issue(NULL, f->st, &io), CM_OK);
	assert_int_equal(cm_cert_revoke(NULL, f->st, "drill.test",
	    CM_REASON_KEY_COMPROMISE, 0), CM_OK);
	assert_int_equal(cm_matrix_for_cert(&v, &n, f->st, "drill.test"),
	    CM_OK);
	for (i = 0; i < n; i++) {
		if (strstr(v[i]->name, "/name:drill.test") == NULL &&
		    strstr(v[i]->name, "/sibling:") == NULL)
			continue;
		assert_int_equal(cm_harness_run(&r, f->ctx, v[i], NULL),
		    CM_OK);
		if (strstr(v[i]->name, "/name:")) {
			assert_non_null(v[i]->crl);
			assert_int_equal(v[i]->expect, CM_OUTCOME_REVOKED);
			assert_int_equal(r->actual, CM_OUTCOME_REVOKED);
			assert_true(r->status & GNUTLS_CERT_REVOKED);
			revoked++;
		} else {
			assert_int_equal(r->actual, CM_OUTCOME_HOSTNAME);
		}
		assert_true(r->match);
		cm_result_free(r);
		r = NULL;
	}
	assert_int_equal(revoked, 2);
	cm_scenario_list_free(v, n);
}

/* Bad input is an error of the call, with the object named. */
static void
test_setup_errors(void **state)
{
	fx *f = *state;
	cm_scenario sc = *find(f, "tls13/name:localhost");
	cm_result *r = NULL;

	sc.priority = (char *)"NORMAL:+NOSUCH";
	assert_int_equal(cm_harness_run(&r, f->ctx, &sc, NULL), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "priority "
	    "'NORMAL:+NOSUCH' is invalid"));
	assert_null(r);
	sc = *find(f, "tls13/name:localhost");
	sc.server_key = (char *)"-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";
	assert_int_not_equal(cm_harness_run(&r, f->ctx, &sc, NULL), CM_OK);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "server certificate and "
	    "key"));
	sc = *find(f, "tls13/name:localhost");
	sc.server_chain = NULL;
	assert_int_equal(cm_harness_run(&r, f->ctx, &sc, NULL), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "no server certificate"));
}

static void
test_client_matrix(void **state)
{
	fx *f = *state;
	cm_scenario **v = NULL;
	cm_result *r;
	size_t n = 0, i, mtls = 0, revoked = 0;

	assert_int_equal(cm_matrix_for_cert(&v, &n, f->st,
	    "alice@example.test"), CM_OK);
	assert_int_equal(n, 16);
	for (i = 0; i < n; i++) {
		r = NULL;
		assert_int_equal(cm_harness_run(&r, f->ctx, v[i], NULL), CM_OK);
		assert_true(r->match);
		if (strstr(r->name, "mtls-ok")) {
			assert_non_null(r->client_identity);
			assert_non_null(strstr(r->client_identity, "alice"));
			mtls++;
		}
		/* The server checks its CA's CRL: a listed client
		 * certificate is the server's verdict, client-revoked. */
		if (strstr(r->name, "mtls-revoked-crl")) {
			assert_int_equal(r->actual, CM_OUTCOME_CLIENT_REVOKED);
			assert_int_equal(r->side, CM_SIDE_SERVER);
			assert_true(r->status & GNUTLS_CERT_REVOKED);
			revoked++;
		}
		if (strstr(r->name, "mtls-good-crl"))
			assert_int_equal(r->actual, CM_OUTCOME_OK);
		cm_result_free(r);
	}
	assert_int_equal(mtls, 2);
	assert_int_equal(revoked, 2);
	cm_scenario_list_free(v, n);
	assert_int_equal(cm_matrix_for_cert(&v, &n, f->st, "nosuch"),
	    CM_E_NOTFOUND);
}

/* The parser: good text, and a table of bad lines with their messages. */
static void
test_parse(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "[scenario a]\nbogus = 1\n", "t.scn:2: unknown key 'bogus'" },
		{ "name = x\n", "t.scn:1: key 'name' outside a section" },
		{ "[scenario a]\nnoequals\n", "t.scn:2: expected 'key = value'" },
		{ "[scenario a\n", "t.scn:1: bad section header" },
		{ "[other]\n", "t.scn:1: unknown section '[other]'" },
		{ "[scenario a]\n[scenario a]\n", "t.scn:2: scenario 'a' is "
		  "defined twice" },
		{ "[scenario a]\nname = x\nname = y\n", "t.scn:3: key 'name' "
		  "given twice" },
		{ "[scenario a]\nname =\n", "t.scn:2: key 'name' has no value" },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\nexpect = nope\n", "t.scn:4: outcome "
		  "'nope' is unknown" },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:nosuch\nexpect = ok\n", "t.scn:3: " },
		{ "[scenario a]\nserver_cert = cert:localhost\nexpect = ok\n",
		  "t.scn:1: scenario 'a': trust is missing" },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\nexpect = ok\nversion = tls1.3\n"
		  "priority = NORMAL\n", "t.scn:6: priority and version "
		  "together" },
		{ "# only a comment\n", "t.scn: no [scenario NAME] section" },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\nname_type = ip\nexpect = ok\n",
		  "t.scn:4: name_type 'ip': auto or dns" },
		{ "[scenario a]\n[defaults]\n", "t.scn:2: [defaults] must come "
		  "once, first" },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\ncrl = ca:nosuch\nexpect = ok\n",
		  "t.scn:4: " },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\ncrl = /nonexistent/x.crl\nexpect = ok\n",
		  "t.scn:4: " },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\nocsp_staple = /nonexistent/x.der\n"
		  "expect = ok\n", "t.scn:4: " },
		{ "[scenario a]\nserver_cert = cert:localhost\ntrust = "
		  "ca:certmint dev CA\ncrl = ca:certmint dev CA\n"
		  "crl = ca:certmint dev CA\nexpect = ok\n",
		  "t.scn:5: key 'crl' given twice" },
	};
	static const char good[] =
	    "# comment\n\n[defaults]\nserver_cert = cert:localhost\n"
	    "trust = ca:certmint dev CA\n\n"
	    "[scenario ok]\n  name = localhost  \nexpect = ok\n"
	    "[scenario mtls]\nname = 127.0.0.1\nclient_auth = require\n"
	    "client_trust = ca:certmint dev CA\n"
	    "client_cert = cert:alice@example.test\nversion = tls1.2\n"
	    "expect = ok\nexpect_also = no-client-cert\nnote = two words\n";
	fx *f = *state;
	cm_scenario **v = NULL;
	cm_result *r = NULL;
	size_t n = 0, i;

	assert_int_equal(cm_scenario_parse(&v, &n, f->ctx, f->st, "t.scn",
	    ".", good, strlen(good)), CM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "ok");
	assert_string_equal(v[0]->expected_name, "localhost");
	assert_non_null(v[0]->server_key);
	assert_int_equal(v[1]->client_auth, CM_CLIENT_AUTH_REQUIRE);
	assert_string_equal(v[1]->priority, CM_PRIORITY_TLS12);
	assert_true(v[1]->has_also);
	assert_int_equal(v[1]->expect_also, CM_OUTCOME_NO_CLIENT_CERT);
	assert_string_equal(v[1]->note, "two words");
	assert_null(v[0]->crl);
	assert_null(v[0]->ocsp_staple);
	for (i = 0; i < n; i++) {
		assert_int_equal(cm_harness_run(&r, f->ctx, v[i], NULL), CM_OK);
		assert_true(r->match);
		cm_result_free(r);
		r = NULL;
	}
	cm_scenario_list_free(v, n);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = NULL;
		n = 0;
		assert_int_not_equal(cm_scenario_parse(&v, &n, f->ctx, f->st,
		    "t.scn", ".", bad[i].text, strlen(bad[i].text)), CM_OK);
		if (strstr(cm_ctx_error(f->ctx), bad[i].msg) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i,
			    cm_ctx_error(f->ctx), bad[i].msg);
		assert_null(v);
	}
	/* crl = ca:NAME and ocsp_staple = auto resolve through the store. */
	{
		static const char rev[] = "[scenario r]\n"
		    "server_cert = cert:localhost\ntrust = ca:certmint dev CA\n"
		    "name = localhost\ncrl = ca:certmint dev CA\n"
		    "ocsp_staple = auto\nexpect = ok\n";
		/* A real key: key files are read (any format) at parse. */
		static const char nostore[] = "[scenario r]\n"
		    "server_cert = ca.pem\nserver_key = k.pem\n"
		    "trust = ca.pem\nocsp_staple = auto\nexpect = ok\n";
		cm_ca_info *cai = NULL;
		char cpath[PATH_MAX];
		gnutls_x509_privkey_t xk = NULL;
		gnutls_datum_t kp = { NULL, 0 };
		char kpath[PATH_MAX];
		assert_int_equal(cm_scenario_parse(&v, &n, f->ctx, f->st,
		    "t.scn", ".", rev, strlen(rev)), CM_OK);
		assert_int_equal(n, 1);
		assert_non_null(strstr(v[0]->crl, "-----BEGIN X509 CRL-----"));
		assert_non_null(v[0]->ocsp_staple);
		assert_int_equal(v[0]->ocsp_staple[0], 0x30);
		assert_int_equal(cm_harness_run(&r, f->ctx, v[0], NULL), CM_OK);
		assert_true(r->match);
		assert_int_equal(r->actual, CM_OUTCOME_OK);
		cm_result_free(r);
		r = NULL;
		cm_scenario_list_free(v, n);
		v = NULL;
		n = 0;
		assert_int_equal(cm__key_generate(&xk, f->ctx, CM_KEY_EC_P256),
		    CM_OK);
		assert_int_equal(cm__key_export_pem(&kp, f->ctx, xk), CM_OK);
		snprintf(kpath, sizeof(kpath), "%s/k.pem", f->dir);
		{
			FILE *kf = fopen(kpath, "wb");
			assert_non_null(kf);
			assert_int_equal(fwrite(kp.data, 1, kp.size, kf),
			    kp.size);
			assert_int_equal(fclose(kf), 0);
		}
		gnutls_free(kp.data);
		gnutls_x509_privkey_deinit(xk);
		/* Files named by server_cert and trust must hold PEM
		 * certificates: the CA's own does. */
		assert_int_equal(cm_ca_get(&cai, f->st, NULL), CM_OK);
		snprintf(cpath, sizeof(cpath), "%s/ca.pem", f->dir);
		{
			FILE *cf = fopen(cpath, "wb");
			assert_non_null(cf);
			fputs(cai->pem, cf);
			assert_int_equal(fclose(cf), 0);
		}
		cm_ca_info_free(cai);
		assert_int_equal(cm_scenario_parse(&v, &n, f->ctx, NULL,
		    "t.scn", f->dir, nostore, strlen(nostore)), CM_E_INVALID);
		unlink(kpath);
		unlink(cpath);
		assert_string_equal(cm_ctx_error(f->ctx),
		    "t.scn:5: ocsp_staple auto needs a store");
		assert_null(v);
	}
	/* No store: store references fail with the line. */
	assert_int_equal(cm_scenario_parse(&v, &n, f->ctx, NULL, "t.scn", ".",
	    good, strlen(good)), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "t.scn:4: "
	    "'localhost' is not a readable file and no store is open"));
}

static char *
report(fx *f, cm_report_format fmt, cm_result **r, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(cm_report_write(m, f->ctx, fmt, r, n, 0), CM_OK);
	fclose(m);
	return buf;
}

static void
test_reports(void **state)
{
	fx *f = *state;
	cm_result *r[3] = { NULL, NULL, NULL };
	cm_report_format fmt;
	char *s;

	assert_int_equal(cm_harness_run(&r[0], f->ctx,
	    find(f, "tls13/name:localhost"), NULL), CM_OK);
	assert_int_equal(cm_harness_run(&r[1], f->ctx,
	    find(f, "tls12/expired-twin"), NULL), CM_OK);
	assert_int_equal(cm_harness_run(&r[2], f->ctx,
	    find(f, "tls12/untrusted-root"), NULL), CM_OK);
	r[1]->expected = CM_OUTCOME_OK;  /* a mismatch */
	r[1]->match = false;
	r[2]->skipped = true;            /* as a missing peer */
	r[2]->match = false;

	s = report(f, CM_REPORT_JSON, r, 3);
	assert_non_null(strstr(s, "\"summary\": {\n    \"total\": 3,\n    "
	    "\"matched\": 1,\n    \"mismatched\": 1,\n    \"skipped\": 1"));
	assert_non_null(strstr(s, "\"actual\": \"expired\""));
	free(s);
	s = report(f, CM_REPORT_TAP, r, 3);
	assert_non_null(strstr(s, "1..3\nok 1 - tls13/name:localhost: "
	    "expected ok, got ok\nnot ok 2 - tls12/expired-twin: expected ok, "
	    "got expired\n"));
	assert_non_null(strstr(s, "ok 3 - tls12/untrusted-root # SKIP"));
	free(s);
	s = report(f, CM_REPORT_JUNIT, r, 3);
	assert_non_null(strstr(s, "tests=\"3\" failures=\"1\" errors=\"0\" "
	    "skipped=\"1\""));
	assert_non_null(strstr(s, "<failure message=\"expected ok, got "
	    "expired (side client)\""));
	free(s);
	s = report(f, CM_REPORT_TABLE, r, 3);
	assert_non_null(strstr(s, "MISMATCH"));
	assert_null(strstr(s, "\033["));  /* no colour unless asked */
	assert_non_null(strstr(s, "3 scenarios: 1 matched, 1 mismatched, 1 "
	    "skipped"));
	free(s);

	assert_int_equal(cm_report_format_parse(&fmt, f->ctx, "junit"), CM_OK);
	assert_int_equal(fmt, CM_REPORT_JUNIT);
	assert_int_equal(cm_report_format_parse(&fmt, f->ctx, "xml"),
	    CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "report format 'xml'"));
	cm_result_free(r[0]);
	cm_result_free(r[1]);
	cm_result_free(r[2]);
}

static void
test_names(void **state)
{
	fx *f = *state;
	cm_peer p;

	assert_int_equal(cm_peer_parse(&p, f->ctx, "python"), CM_OK);
	assert_int_equal(p, CM_PEER_PYTHON);
	assert_int_equal(cm_peer_parse(&p, f->ctx, "wget"), CM_E_INVALID);
	assert_non_null(strstr(cm_ctx_error(f->ctx), "peer 'wget' is unknown"));
	assert_string_equal(cm_peer_name(CM_PEER_GNUTLS_CLI), "gnutls-cli");
	assert_null(cm_peer_name((cm_peer)99));
	assert_string_equal(cm_side_name(CM_SIDE_SERVER), "server");
	/* alerts of real peers */
	assert_int_equal(cm__outcome_from_alert(GNUTLS_A_CERTIFICATE_REQUIRED,
	    true, false), CM_OUTCOME_NO_CLIENT_CERT);
	assert_int_equal(cm__outcome_from_alert(GNUTLS_A_HANDSHAKE_FAILURE,
	    true, false), CM_OUTCOME_NO_CLIENT_CERT);
	assert_int_equal(cm__outcome_from_alert(GNUTLS_A_HANDSHAKE_FAILURE,
	    true, true), CM_OUTCOME_PROTOCOL);
	assert_int_equal(cm__outcome_from_alert(GNUTLS_A_CERTIFICATE_EXPIRED,
	    true, true), CM_OUTCOME_CLIENT_EXPIRED);
	assert_int_equal(cm__outcome_from_alert(GNUTLS_A_UNKNOWN_CA, false,
	    true), CM_OUTCOME_UNTRUSTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix_matches),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_client_matrix),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_revocation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
