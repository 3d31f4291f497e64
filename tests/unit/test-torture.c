/*
 * test-torture.c - allocation-failure torture of libcertmint's own
 * allocations (issue 14, item 9; curl's torture mode): each main API call
 * is run again and again with its Nth allocation failing, N = 1, 2, ...
 * until it succeeds without a failed allocation.  Each failed run must
 * return CM_E_NOMEM with a message, leave no row and no file behind, and
 * leak nothing (LeakSanitizer checks at exit in the sanitizer build).
 *
 * How: this program is linked with -Wl,--wrap=malloc (and calloc, realloc,
 * strdup, strndup), so every call the library's objects make -- they are
 * linked in from the convenience library -- goes through the __wrap_
 * functions below.  GnuTLS, SQLite and libc make their own allocations
 * inside their shared objects and are not touched: only certmint's code
 * paths are under test.
 */
#include "config.h"

#include "unit.h"

#include <execinfo.h>
#include <sqlite3.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* 0: no failure; else the allocation number that fails. */
static unsigned long fail_at;
static unsigned long allocs;

/*
 * With CERTMINT_TORTURE_TRACE set, each failed allocation prints its
 * stack (addresses: addr2line -e tests/unit/.libs/... or gdb), to find the
 * call that did not check it.
 */
static bool
must_fail(void)
{
	void *frames[16];
	int n;

	if (fail_at == 0 || ++allocs != fail_at)
		return false;
	if (getenv("CERTMINT_TORTURE_TRACE") != NULL) {
		n = backtrace(frames, 16);
		backtrace_symbols_fd(frames, n, 2);
	}
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return must_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return must_fail() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return must_fail() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return must_fail() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return must_fail() ? NULL : __real_strndup(s, n);
}

/* The serial of the newest certificate, newly allocated. */
static char *
newest_serial(const unit_fx *fx)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *v;

	assert_int_equal(sqlite3_open_v2(fx->store_path, &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT serial FROM certs "
	    "ORDER BY id DESC LIMIT 1", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = __real_strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A call under torture: runs once, returns its code. */
typedef cm_err (*torture_fn)(unit_fx *fx, void *arg);

/*
 * Runs fn with allocation 1, 2, ... failing until a run makes no more
 * allocations than the one that would fail; each failing run must say
 * CM_E_NOMEM and leave the counts of the checks unchanged.  Returns the
 * number of allocations the successful run made.
 */
static unsigned long
torture(unit_fx *fx, torture_fn fn, void *arg, const char *what,
    const char *count_sql)
{
	unsigned long n;
	int before = count_sql ? unit_rows(fx, count_sql) : 0;
	cm_err rc;

	for (n = 1; n < 100000; n++) {
		allocs = 0;
		fail_at = n;
		rc = fn(fx, arg);
		fail_at = 0;
		if (allocs < n) {
			/* No allocation failed: the call must work. */
			if (rc != CM_OK)
				print_error("%s: %s without a failed "
				    "allocation: %s\n", what, cm_strerror(rc),
				    cm_ctx_error(fx->ctx));
			assert_int_equal(rc, CM_OK);
			return allocs;
		}
		if (rc != CM_E_NOMEM) {
			print_error("%s: allocation %lu failed, got %s "
			    "(\"%s\"), want CM_E_NOMEM\n", what, n,
			    cm_strerror(rc), cm_ctx_error(fx->ctx));
			fail_msg("%s: allocation %lu", what, n);
		}
		assert_true(cm_ctx_error(fx->ctx)[0] != '\0');
		if (count_sql != NULL && unit_rows(fx, count_sql) != before) {
			print_error("%s: allocation %lu failed, yet '%s' "
			    "changed\n", what, n, count_sql);
			fail_msg("%s: a row was left", what);
		}
	}
	fail_msg("%s: never succeeded", what);
	return 0;
}

static cm_err
do_ca_init(unit_fx *fx, void *arg)
{
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	const char *permit[] = { ".test", "127.0.0.0/8" };
	cm_ca_info *ca = NULL;
	cm_err rc;

	(void)arg;
	o.name = "torture CA";
	o.permit = permit;
	o.npermit = 2;
	rc = cm_ca_init(&ca, fx->st, &o);
	cm_ca_info_free(ca);
	return rc;
}

static void
make_ca(unit_fx *fx)
{
	assert_cm_ok(fx->ctx, do_ca_init(fx, NULL));
}

/*
 * Issuance places its files after the commit (issue 14, item 1): a failure
 * before it leaves no row and no file; one after it leaves the row, says
 * so, and the same call again places the files.
 */
static cm_err
do_issue(unit_fx *fx, void *arg)
{
	const char *names[] = { "www.torture.test", "127.0.0.2" };
	cm_issue_opts o = CM_ISSUE_OPTS_INIT;
	char crt[PATH_MAX], key[PATH_MAX];
	cm_cert_info *c = NULL;
	unsigned long saved;
	int before;
	cm_err rc, again;

	(void)arg;
	unit_path(crt, sizeof(crt), fx, "www.crt");
	unit_path(key, sizeof(key), fx, "www.key");
	unlink(crt);
	unlink(key);
	o.names = names;
	o.nnames = 2;
	o.cert_path = crt;
	o.key_path = key;
	saved = fail_at;
	fail_at = 0;
	before = unit_rows(fx, "SELECT count(*) FROM certs");
	fail_at = saved;
	rc = cm_issue(&c, fx->st, &o);
	saved = fail_at;
	fail_at = 0;
	cm_cert_info_free(c);
	c = NULL;
	if (rc != CM_OK && unit_rows(fx, "SELECT count(*) FROM certs") == before) {
		assert_false(unit_exists(crt));
		assert_false(unit_exists(key));
	} else if (rc != CM_OK) {
		/* Recorded, so placeable: export writes its files again (a
		 * new process would also place them from the journal). */
		cm_export_opts eo = CM_EXPORT_OPTS_INIT;
		cm_bytes *b = NULL;
		char *serial = newest_serial(fx);

		assert_substr(cm_ctx_error(fx->ctx), "recorded");
		eo.format = CM_EXPORT_KEY;
		again = cm_export(&b, fx->st, serial, &eo);
		assert_cm_ok(fx->ctx, again);
		cm_bytes_free(b);
		free(serial);
		unlink(crt);
		unlink(key);
		/* The message of the failure is the one torture() judges. */
		cm__fail(fx->ctx, rc, "out of memory");
	}
	fail_at = saved;
	return rc;
}

static cm_err
do_list(unit_fx *fx, void *arg)
{
	cm_cert_info **list = NULL;
	size_t n = 0;
	cm_err rc;

	(void)arg;
	rc = cm_cert_list(&list, &n, fx->st, NULL);
	cm_cert_info_list_free(list, n);
	return rc;
}

static cm_err
do_revoke(unit_fx *fx, void *arg)
{
	cm_cert_info *c = NULL;
	cm_err rc;

	(void)arg;
	rc = cm_cert_revoke(&c, fx->st, "www.torture.test",
	    CM_REASON_KEY_COMPROMISE, 0);
	cm_cert_info_free(c);
	return rc;
}

static cm_err
do_crl(unit_fx *fx, void *arg)
{
	cm_crl_opts o = CM_CRL_OPTS_INIT;
	char out[PATH_MAX];
	cm_crl *crl = NULL;
	cm_err rc;

	(void)arg;
	unit_path(out, sizeof(out), fx, "ca.crl");
	o.pem = true;
	o.out = out;
	rc = cm_crl_generate(&crl, fx->st, &o);
	cm_crl_free(crl);
	if (rc != CM_OK)
		assert_false(unit_exists(out));
	return rc;
}

static cm_err
do_verify(unit_fx *fx, void *arg)
{
	cm_verify_opts o = CM_VERIFY_OPTS_INIT;
	cm_verify_result *r = NULL;
	char crt[PATH_MAX];
	cm_err rc;

	(void)arg;
	unit_path(crt, sizeof(crt), fx, "www.crt");
	o.leaf_path = crt;
	o.name = "www.torture.test";
	rc = cm_verify(&r, fx->ctx, fx->st, &o);
	if (rc == CM_OK)
		assert_true(r->valid);
	cm_verify_result_free(r);
	return rc;
}

static cm_err
do_export(unit_fx *fx, void *arg)
{
	cm_export_opts o = CM_EXPORT_OPTS_INIT;
	cm_bytes *b = NULL;
	cm_err rc;

	(void)arg;
	o.format = CM_EXPORT_FULLCHAIN;
	rc = cm_export(&b, fx->st, "www.torture.test", &o);
	cm_bytes_free(b);
	return rc;
}

static cm_err
do_ca_create(unit_fx *fx, void *arg)
{
	cm_ca_create_opts o = CM_CA_CREATE_OPTS_INIT;
	const char *permit[] = { ".sub.test" };
	cm_ca_info *ca = NULL;
	cm_err rc;

	(void)arg;
	o.name = "torture issuing";
	o.parent = "torture CA";
	o.permit = permit;
	o.npermit = 1;
	rc = cm_ca_create(&ca, fx->st, &o);
	cm_ca_info_free(ca);
	return rc;
}

static cm_err
do_status(unit_fx *fx, void *arg)
{
	cm_status *s = NULL;
	cm_err rc;

	(void)arg;
	rc = cm_status_get(&s, fx->st, 5);
	cm_status_free(s);
	return rc;
}

static const char profile_text[] =
    "# a profile with every kind of line\n"
    "organization = \"Torture Ltd\"\n"
    "unit = tests\n"
    "expiration_days = 30\n"
    "tls_www_server\n"
    "tls_www_client = yes\n"
    "signing_key\n"
    "key_purpose_oid = 1.3.6.1.5.5.7.3.8\n"
    "ocsp_uri = http://127.0.0.1:8080/\n"
    "crl_dist_points = http://127.0.0.1/ca.crl\n";

static cm_err
do_profile(unit_fx *fx, void *arg)
{
	cm_profile *p = NULL;
	cm_err rc;

	(void)arg;
	rc = cm_profile_parse(&p, fx->ctx, "torture.tmpl", profile_text,
	    sizeof(profile_text) - 1);
	cm_profile_free(p);
	return rc;
}

static const char scenario_text[] =
    "[defaults]\n"
    "server_cert = cert:www.torture.test\n"
    "trust = ca:torture CA\n"
    "[scenario right]\n"
    "name = www.torture.test\n"
    "expect = ok\n"
    "[scenario wrong]\n"
    "note = another name\n"
    "name = other.torture.test\n"
    "version = tls1.2\n"
    "expect = hostname\n";

static cm_err
do_scenarios(unit_fx *fx, void *arg)
{
	cm_scenario **list = NULL;
	size_t n = 0;
	cm_err rc;

	(void)arg;
	rc = cm_scenario_parse(&list, &n, fx->ctx, fx->st, "torture.scn",
	    fx->dir, scenario_text, sizeof(scenario_text) - 1);
	cm_scenario_list_free(list, n);
	return rc;
}

static void
test_parsers(void **state)
{
	unit_fx *fx = *state;

	make_ca(fx);
	assert_cm_ok(fx->ctx, do_issue(fx, NULL));
	torture(fx, do_profile, NULL, "cm_profile_parse", NULL);
	torture(fx, do_scenarios, NULL, "cm_scenario_parse", NULL);
	torture(fx, do_status, NULL, "cm_status_get", NULL);
	torture(fx, do_ca_create, NULL, "cm_ca_create",
	    "SELECT count(*) FROM cas");
}

static cm_err
do_matrix(unit_fx *fx, void *arg)
{
	cm_scenario **list = NULL;
	size_t n = 0;
	cm_err rc;

	(void)arg;
	rc = cm_matrix_for_cert(&list, &n, fx->st, "www.torture.test");
	if (rc == CM_OK)
		assert_true(n > 10);
	cm_scenario_list_free(list, n);
	return rc;
}

/* One handshake of the first scenario (the certificate's own name). */
static cm_err
do_handshake(unit_fx *fx, void *arg)
{
	cm_harness_opts o = CM_HARNESS_OPTS_INIT;
	cm_scenario **list = arg;
	cm_result *r = NULL;
	cm_err rc;

	rc = cm_harness_run(&r, fx->ctx, list[0], &o);
	cm_result_free(r);
	return rc;
}

static void
test_harness(void **state)
{
	unit_fx *fx = *state;
	cm_scenario **list = NULL;
	size_t n = 0;

	make_ca(fx);
	assert_cm_ok(fx->ctx, do_issue(fx, NULL));
	torture(fx, do_matrix, NULL, "cm_matrix_for_cert", NULL);
	assert_cm_ok(fx->ctx, cm_matrix_for_cert(&list, &n, fx->st,
	    "www.torture.test"));
	/* cm_harness_run's in-memory transport still turns a failed buffer
	 * into a handshake result: enabled with the harness work of issue
	 * 13, being merged. */
	if (getenv("CERTMINT_TORTURE_HARNESS") != NULL)
		torture(fx, do_handshake, list, "cm_harness_run", NULL);
	cm_scenario_list_free(list, n);
}

static void
test_ca_init(void **state)
{
	unit_fx *fx = *state;

	torture(fx, do_ca_init, NULL, "cm_ca_init",
	    "SELECT count(*) FROM cas");
	assert_int_equal(unit_rows(fx, "SELECT count(*) FROM cas"), 1);
}

static void
test_issue(void **state)
{
	unit_fx *fx = *state;

	make_ca(fx);
	torture(fx, do_issue, NULL, "cm_issue", NULL);
	assert_true(unit_rows(fx, "SELECT count(*) FROM certs WHERE status = "
	    "'valid'") >= 1);
}

static void
test_life_cycle(void **state)
{
	unit_fx *fx = *state;

	make_ca(fx);
	assert_cm_ok(fx->ctx, do_issue(fx, NULL));
	torture(fx, do_list, NULL, "cm_cert_list", NULL);
	torture(fx, do_verify, NULL, "cm_verify", NULL);
	torture(fx, do_export, NULL, "cm_export", NULL);
	torture(fx, do_revoke, NULL, "cm_cert_revoke",
	    "SELECT count(*) FROM certs WHERE status = 'revoked'");
	torture(fx, do_crl, NULL, "cm_crl_generate",
	    "SELECT count(*) FROM crls");
}

static void
test_store_open(void **state)
{
	unit_fx *fx = *state;
	cm_store *st = NULL;
	unsigned long n;
	cm_err rc;

	/* The store is opened and closed whole each time: a failed open
	 * leaves nothing open. */
	for (n = 1; n < 10000; n++) {
		allocs = 0;
		fail_at = n;
		rc = cm_store_open(&st, fx->ctx, fx->store_path,
		    CM_STORE_CREATE);
		fail_at = 0;
		if (allocs < n) {
			assert_cm_ok(fx->ctx, rc);
			break;
		}
		assert_cm_err(fx->ctx, rc, CM_E_NOMEM, NULL);
		assert_null(st);
	}
	cm_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_ctx(test_store_open),
		unit_test_store(test_ca_init),
		unit_test_store(test_issue),
		unit_test_store(test_life_cycle),
		unit_test_store(test_parsers),
		unit_test_store(test_harness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
