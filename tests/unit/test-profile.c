/* test-profile.c - the strict certtool-template parser (profile.c). */
#include "config.h"

#include "unit.h"

static cm_err
parse(cm_profile **p, unit_fx *fx, const char *text)
{
	return cm_profile_parse(p, fx->ctx, "t.tmpl", text, strlen(text));
}

/* Every key certmint takes, with quotes, comments and both flag forms. */
static void
test_profile_all_keys(void **state)
{
	static const char text[] =
	    "# a comment line\n"
	    "   # an indented comment\n"
	    "\n"
	    "cn = \"Example CN\"\n"
	    "organization = \"Org, Inc. # not a comment\"\n"
	    "unit = Dev Team   # trailing comment\n"
	    "country = DE\n"
	    "state=Berlin\n"
	    "\tlocality = \"Berlin Mitte\"  \n"
	    "expiration_days = 90\n"
	    "ca\n"
	    "path_len = 1\n"
	    "tls_www_server\n"
	    "tls_www_client = no\n"
	    "cert_signing_key = yes\n"
	    "crl_signing_key = true\n"
	    "signing_key = 1\n"
	    "encryption_key = false\n"
	    "tls_feature = 5\n"
	    "key_purpose_oid = 1.3.6.1.5.5.7.3.9\n"
	    "key_purpose_oid = \"1.2.3.4\"\n"
	    "nc_permit_dns = .test\n"
	    "nc_exclude_dns = bad.test\n"
	    "nc_permit_ip = 10.0.0.0/8\n"
	    "nc_exclude_ip = 10.1.0.0/16\n"
	    "nc_permit_email = example.test\n"
	    "ocsp_uri = http://ocsp.test/\n"
	    "ca_issuers_uri = http://ca.test/ca.crt\n"
	    "crl_dist_points = http://ca.test/crl\n";
	unit_fx *fx = *state;
	cm_profile *p = NULL;

	assert_cm_ok(fx->ctx, parse(&p, fx, text));
	assert_string_equal(p->cn, "Example CN");
	assert_string_equal(p->organization, "Org, Inc. # not a comment");
	assert_string_equal(p->unit, "Dev Team");
	assert_string_equal(p->country, "DE");
	assert_string_equal(p->state, "Berlin");
	assert_string_equal(p->locality, "Berlin Mitte");
	assert_int_equal(p->expiration_days, 90);
	assert_true(p->ca);
	assert_int_equal(p->path_len, 1);
	assert_true(p->tls_www_server);
	assert_false(p->tls_www_client);
	assert_true(p->cert_signing_key);
	assert_true(p->crl_signing_key);
	assert_true(p->signing_key);
	assert_false(p->encryption_key);
	assert_true(p->tls_feature_status_request);
	assert_int_equal(p->nkey_purpose_oid, 2);
	assert_string_equal(p->key_purpose_oid[0], "1.3.6.1.5.5.7.3.9");
	assert_string_equal(p->key_purpose_oid[1], "1.2.3.4");
	assert_int_equal(p->nnc_permit_dns, 1);
	assert_string_equal(p->nc_permit_dns[0], ".test");
	assert_int_equal(p->nnc_exclude_dns, 1);
	assert_string_equal(p->nc_exclude_dns[0], "bad.test");
	assert_int_equal(p->nnc_permit_ip, 1);
	assert_string_equal(p->nc_permit_ip[0], "10.0.0.0/8");
	assert_int_equal(p->nnc_exclude_ip, 1);
	assert_string_equal(p->nc_exclude_ip[0], "10.1.0.0/16");
	assert_int_equal(p->nnc_permit_email, 1);
	assert_string_equal(p->nc_permit_email[0], "example.test");
	assert_int_equal(p->nocsp_uri, 1);
	assert_string_equal(p->ocsp_uri[0], "http://ocsp.test/");
	assert_int_equal(p->nca_issuers_uri, 1);
	assert_string_equal(p->ca_issuers_uri[0], "http://ca.test/ca.crt");
	assert_int_equal(p->ncrl_dist_points, 1);
	assert_string_equal(p->crl_dist_points[0], "http://ca.test/crl");
	cm_profile_free(p);
}

static void
test_profile_defaults(void **state)
{
	unit_fx *fx = *state;
	cm_profile *p = NULL;

	/* Empty and comment-only texts give an empty profile. */
	assert_cm_ok(fx->ctx, cm_profile_parse(&p, fx->ctx, "e", "", 0));
	assert_int_equal(p->expiration_days, -1);
	assert_int_equal(p->path_len, -2);
	assert_false(p->ca);
	assert_false(p->tls_www_server);
	assert_null(p->cn);
	assert_int_equal(p->nkey_purpose_oid, 0);
	cm_profile_free(p);
	assert_cm_ok(fx->ctx, parse(&p, fx, "# nothing\n\n  \n"));
	cm_profile_free(p);
	cm_profile_free(NULL);
}

/* CRLF line ends, a last line without '\n', path_len -1 (unlimited) and
 * a flag turned off; a key given twice is an error naming both lines (a
 * second value silently won), but for the lists. */
static void
test_profile_crlf_and_overrides(void **state)
{
	unit_fx *fx = *state;
	cm_profile *p = NULL;

	assert_cm_ok(fx->ctx, parse(&p, fx,
	    "cn = \"second\"\r\n"
	    "ca # a flag, then a comment\r\n"
	    "path_len = -1\r\n"
	    "tls_www_server = 0\r\n"
	    "key_purpose_oid = 1.2.3\r\n"
	    "key_purpose_oid = 1.2.4\r\n"
	    "expiration_days = 36500"));
	assert_string_equal(p->cn, "second");
	assert_true(p->ca);
	assert_int_equal(p->path_len, -1);
	assert_false(p->tls_www_server);
	assert_int_equal(p->expiration_days, 36500);
	assert_int_equal(p->nkey_purpose_oid, 2);
	cm_profile_free(p);

	assert_cm_err(fx->ctx, parse(&p, fx, "cn = first\r\n"
	    "cn = \"second\"\r\n"), CM_E_INVALID, "t.tmpl:2: 'cn' is set "
	    "again (first on line 1): give it once");
	assert_cm_err(fx->ctx, parse(&p, fx, "tls_www_server\n# c\n\n"
	    "tls_www_server = 0\n"), CM_E_INVALID, "t.tmpl:4: "
	    "'tls_www_server' is set again (first on line 1): give it once");

	/* A bad line after CRLF lines is named by its number. */
	assert_cm_err(fx->ctx, parse(&p, fx, "ca\r\n# c\r\nbogus = 1\r\n"),
	    CM_E_INVALID, "t.tmpl:3: unknown key 'bogus'");
}

struct bad {
	const char *text;
	const char *msg;
};

static const struct bad bad[] = {
	{ "x = 1\n", "t.tmpl:1: unknown key 'x'" },
	{ "cn = a\n\n# c\nx\n", "t.tmpl:4: unknown key 'x'" },
	{ "tls_www_sever\n", "t.tmpl:1: unknown key 'tls_www_sever'" },
	{ "CN = a\n", "t.tmpl:1: unknown key 'CN'" },
	/* X.520 upper bounds (issue 14, item 7: an OU of 70 went in). */
	{ "unit = uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
	    "uuuuuuuuuuuuuuuuuu\n", "t.tmpl:1: unit is 70 characters, over "
	    "the X.520 bound of 64 (ub-organizational-unit-name)" },
	{ "organization = \"ooooooooooooooooooooooooooooooooooooooooooooo"
	    "oooooooooooooooooooo\"\n", "t.tmpl:1: organization is 65 "
	    "characters, over the X.520 bound of 64 (ub-organization-name)" },
	{ "cn = a\tb\n", "t.tmpl:1: cn has a control character" },
	{ "locality = \"\xff\"\n", "t.tmpl:1: locality is not UTF-8" },
	/* RFC 3986: no spaces or controls in a URI. */
	{ "crl_dist_points = \"http://a.test/x y\"\n", "t.tmpl:1: "
	    "crl_dist_points 'http://a.test/x y' is not a URI: it has a "
	    "space (write it %20)" },
	{ "ocsp_uri = \"http://a.test/\x01\"\n", "t.tmpl:1: ocsp_uri "
	    "'http://a.test/?' is not a URI: it has a control or non-ASCII "
	    "character" },
	{ "ca_issuers_uri = a.test\n", "t.tmpl:1: ca_issuers_uri 'a.test' is "
	    "not a URI: it has no scheme (http://...)" },
	{ "expiration_days = 0\n", "t.tmpl:1: expiration_days '0' is not a "
	    "number from 1 to 36500" },
	{ "expiration_days = 36501\n", "expiration_days '36501' is not a "
	    "number" },
	{ "expiration_days = -5\n", "expiration_days '-5' is not a number" },
	{ "expiration_days = 12abc\n", "expiration_days '12abc' is not a "
	    "number" },
	{ "expiration_days = 99999999999999999999999\n", "is not a number "
	    "from 1 to 36500" },
	{ "expiration_days = 0x10\n", "expiration_days '0x10' is not a "
	    "number" },
	{ "ca\npath_len = 256\n", "t.tmpl:2: path_len '256' is not a number "
	    "from -1 to 255" },
	{ "ca\npath_len = -2\n", "path_len '-2' is not a number" },
	{ "country = DEU\n", "t.tmpl:1: country 'DEU' is not a two-letter "
	    "code" },
	{ "country = D1\n", "country 'D1' is not a two-letter code" },
	{ "country = D\n", "country 'D' is not a two-letter code" },
	{ "key_purpose_oid = 1..2\n", "t.tmpl:1: key_purpose_oid '1..2' is not "
	    "an OID" },
	{ "key_purpose_oid = 1\n", "key_purpose_oid '1' is not an OID" },
	{ "key_purpose_oid = serverAuth\n", "key_purpose_oid 'serverAuth' is "
	    "not an OID" },
	{ "key_purpose_oid = 1.3.6.\n", "is not an OID" },
	{ "tls_feature = 17\n", "t.tmpl:1: tls_feature '17' is not supported "
	    "(only 5, status_request)" },
	{ "tls_feature = status_request\n", "is not supported" },
	{ "dns_name = a.test\n", "t.tmpl:1: 'dns_name' is not allowed in a "
	    "profile: names come from the command line" },
	{ "ip_address = 10.0.0.1\n", "'ip_address' is not allowed in a "
	    "profile" },
	{ "email = a@b.test\n", "'email' is not allowed in a profile" },
	{ "uri = http://a.test/\n", "'uri' is not allowed in a profile" },
	{ "cn = \"abc\n", "t.tmpl:1: unterminated quote" },
	{ "cn = \"abc\" x\n", "t.tmpl:1: text after the closing quote" },
	{ "path_len = 0\n", "t.tmpl: path_len needs 'ca'" },
	{ "ca = maybe\n", "t.tmpl:1: 'ca' is a flag: no value or yes/no, not "
	    "'maybe'" },
	{ "signing_key = YES\n", "'signing_key' is a flag" },
	{ "cn =\n", "t.tmpl:1: 'cn' needs a value" },
	{ "cn = \"\"\n", "'cn' needs a value" },
	{ "key_purpose_oid\n", "'key_purpose_oid' needs a value" },
	{ "= x\n", "t.tmpl:1: expected 'key = value' or a flag" },
	{ "cn x\n", "expected 'key = value' or a flag" },
	{ "cn: x\n", "expected 'key = value' or a flag" },
	{ "nc_permit_ip = 10.0.0.0\n", "t.tmpl:1: nc_permit_ip '10.0.0.0' is "
	    "not valid" },
	{ "nc_permit_ip = 10.0.0.1/8\n", "nc_permit_ip '10.0.0.1/8' is not "
	    "valid" },
	{ "nc_exclude_ip = garbage\n", "nc_exclude_ip 'garbage' is not valid" },
	{ "nc_permit_dns = 10.0.0.0/8\n", "nc_permit_dns '10.0.0.0/8' is not "
	    "valid" },
	{ "nc_permit_dns = a@b.test\n", "nc_permit_dns 'a@b.test' is not "
	    "valid" },
	{ "nc_exclude_dns = a..b\n", "nc_exclude_dns 'a..b' is not valid" },
	{ "nc_permit_email = -x.test\n", "nc_permit_email '-x.test' is not "
	    "valid" },
};

static void
test_profile_bad(void **state)
{
	unit_fx *fx = *state;
	cm_profile *p;
	size_t i;

	for (i = 0; i < UNIT_NELEM(bad); i++) {
		cm_err err;
		p = (cm_profile *)(uintptr_t)0x1;
		err = parse(&p, fx, bad[i].text);
		if (err != CM_E_INVALID ||
		    strstr(cm_ctx_error(fx->ctx), bad[i].msg) == NULL)
			print_error("case %zu: %s", i, bad[i].text);
		assert_cm_err(fx->ctx, err, CM_E_INVALID, bad[i].msg);
		/* *out is written only on success. */
		assert_ptr_equal(p, (cm_profile *)(uintptr_t)0x1);
	}
}

/* Bounds: NUL bytes, long lines, long keys, too many values, huge text. */
static void
test_profile_limits(void **state)
{
	unit_fx *fx = *state;
	cm_profile *p = NULL;
	char *big;
	size_t i, n;

	assert_cm_err(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl",
	    "ca\ncn = a\0b\n", 12), CM_E_INVALID, "t.tmpl:2: NUL byte");

	big = malloc(70 * 1024);
	assert_non_null(big);
	memset(big, 'a', 5000);
	memcpy(big, "crl_dist_points = http://", 25);
	assert_cm_err(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big,
	    5000), CM_E_INVALID, "t.tmpl:1: line longer than 4095 characters");
	/* A 4095-character line is fine (a URI has no X.520 bound). */
	assert_cm_ok(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big,
	    4095));
	assert_int_equal(strlen(p->crl_dist_points[0]), 4077);
	cm_profile_free(p);

	memset(big, 'k', 100);
	big[100] = '\n';
	assert_cm_err(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big,
	    101), CM_E_INVALID, "t.tmpl:1: key too long");

	memset(big, '\n', 70 * 1024);
	assert_cm_err(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big,
	    70 * 1024), CM_E_INVALID, "t.tmpl: larger than 65536 bytes");

	n = 0;
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(big + n, 70 * 1024 - n,
		    "key_purpose_oid = 1.2.%zu\n", i);
	assert_cm_err(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big, n),
	    CM_E_INVALID, "t.tmpl:33: more than 32 values for "
	    "'key_purpose_oid'");
	/* 32 are fine. */
	n -= strlen("key_purpose_oid = 1.2.32\n");
	assert_cm_ok(fx->ctx, cm_profile_parse(&p, fx->ctx, "t.tmpl", big, n));
	assert_int_equal(p->nkey_purpose_oid, 32);
	cm_profile_free(p);
	free(big);
}

/* What each built-in profile must say (issue 2, item 5). */
static const struct {
	const char *name;
	bool ca, server, client;
	int days, path_len;
} builtin[] = {
	{ "server", false, true, false, 397, -2 },
	{ "client", false, false, true, 397, -2 },
	{ "peer", false, true, true, 397, -2 },
	{ "root-ca", true, false, false, 3650, -2 },
	{ "intermediate-ca", true, false, false, 1825, 0 },
	{ "ocsp-signer", false, false, false, 30, -2 },
};

static void
test_profile_builtin(void **state)
{
	unit_fx *fx = *state;
	const char *const *names = cm_profile_builtin_names();
	cm_profile *p = NULL;
	size_t i;

	/* Every listed name loads, with that name. */
	for (i = 0; names[i] != NULL; i++) {
		assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL,
		    names[i]));
		assert_string_equal(cm_profile_name(p), names[i]);
		cm_profile_free(p);
	}
	assert_true(i >= UNIT_NELEM(builtin));

	for (i = 0; i < UNIT_NELEM(builtin); i++) {
		assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL,
		    builtin[i].name));
		assert_string_equal(cm_profile_name(p), builtin[i].name);
		assert_int_equal(p->ca, builtin[i].ca);
		assert_int_equal(p->tls_www_server, builtin[i].server);
		assert_int_equal(p->tls_www_client, builtin[i].client);
		assert_int_equal(p->expiration_days, builtin[i].days);
		assert_int_equal(p->path_len, builtin[i].path_len);
		if (builtin[i].ca) {
			assert_true(p->cert_signing_key);
			assert_true(p->crl_signing_key);
		} else {
			assert_true(p->signing_key);
		}
		if (strcmp(builtin[i].name, "ocsp-signer") == 0) {
			assert_int_equal(p->nkey_purpose_oid, 1);
			assert_string_equal(p->key_purpose_oid[0],
			    "1.3.6.1.5.5.7.3.9");
		}
		cm_profile_free(p);
	}
}

static void
test_profile_load_file(void **state)
{
	static const char good[] = "tls_www_server\nexpiration_days = 42\n";
	static const char badkey[] = "# mine\ntls_www_server\nfoo = bar\n";
	unit_fx *fx = *state;
	cm_profile *p = NULL;
	char path[PATH_MAX + 32], want[2 * PATH_MAX];

	/* By path ending in .tmpl: the name is the base name. */
	unit_path(path, sizeof(path), fx, "web.tmpl");
	unit_write_file(path, good, strlen(good));
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, path));
	assert_string_equal(cm_profile_name(p), "web");
	assert_int_equal(p->expiration_days, 42);
	assert_true(p->tls_www_server);
	cm_profile_free(p);

	/* A path without .tmpl is a file too, because of the '/'. */
	unit_path(path, sizeof(path), fx, "plain");
	unit_write_file(path, good, strlen(good));
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, path));
	assert_string_equal(cm_profile_name(p), "plain");
	cm_profile_free(p);

	/* A bad key is named with the file's path and line. */
	unit_path(path, sizeof(path), fx, "bad.tmpl");
	unit_write_file(path, badkey, strlen(badkey));
	snprintf(want, sizeof(want), "%s:3: unknown key 'foo'", path);
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, path),
	    CM_E_INVALID, want);

	/* Missing file. */
	unit_path(path, sizeof(path), fx, "missing.tmpl");
	snprintf(want, sizeof(want), "profile %s: no such file", path);
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, path),
	    CM_E_NOTFOUND, want);
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL,
	    "missing.tmpl"), CM_E_NOTFOUND, "profile missing.tmpl: no such "
	    "file");
}

static void
test_profile_load_unknown(void **state)
{
	unit_fx *fx = *state;
	cm_profile *p = NULL;

	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "nosuch"),
	    CM_E_NOTFOUND, "profile 'nosuch' not found (built-in: server");
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "Server"),
	    CM_E_NOTFOUND, "profile 'Server' not found");
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, ""),
	    CM_E_INVALID, "profile name is empty");
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, NULL),
	    CM_E_INVALID, "profile name is empty");
	assert_null(p);
}

/* <store dir>/profiles/NAME.tmpl comes before the built-in NAME. */
static void
test_profile_user_override(void **state)
{
	static const char mine[] = "tls_www_server\nexpiration_days = 7\n";
	static const char broken[] = "tls_www_server\nexpiration_days = none\n";
	unit_fx *fx = *state;
	cm_profile *p = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 32];

	unit_path(dir, sizeof(dir), fx, "store");
	assert_string_equal(cm_store_dir(fx->st), dir);
	unit_path(dir, sizeof(dir), fx, "store/profiles");
	assert_int_equal(mkdir(dir, 0700), 0);

	/* Not there yet: the built-in. */
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, fx->st, "server"));
	assert_int_equal(p->expiration_days, 397);
	cm_profile_free(p);

	snprintf(path, sizeof(path), "%s/server.tmpl", dir);
	unit_write_file(path, mine, strlen(mine));
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, fx->st, "server"));
	assert_string_equal(cm_profile_name(p), "server");
	assert_int_equal(p->expiration_days, 7);
	assert_false(p->signing_key);
	cm_profile_free(p);

	/* Without a store, the built-in again. */
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "server"));
	assert_int_equal(p->expiration_days, 397);
	cm_profile_free(p);

	/* A profile only the user has. */
	snprintf(path, sizeof(path), "%s/mine.tmpl", dir);
	unit_write_file(path, mine, strlen(mine));
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, fx->st, "mine"));
	assert_string_equal(cm_profile_name(p), "mine");
	cm_profile_free(p);
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "mine"),
	    CM_E_NOTFOUND, "profile 'mine' not found");

	/* A broken user profile is an error naming its file, never a silent
	 * fall back to the built-in. */
	snprintf(path, sizeof(path), "%s/client.tmpl", dir);
	unit_write_file(path, broken, strlen(broken));
	assert_cm_err(fx->ctx, cm_profile_load(&p, fx->ctx, fx->st, "client"),
	    CM_E_INVALID, "profiles/client.tmpl:2: expiration_days 'none'");
}

/* Table: which key purposes a profile's certificates serve. */
static void
test_profile_is_for(void **state)
{
	static const struct {
		const char *text;
		bool server, client;
	} cases[] = {
		{ "tls_www_server\n", true, false },
		{ "tls_www_client\n", false, true },
		{ "tls_www_server\ntls_www_client\n", true, true },
		{ "key_purpose_oid = 1.3.6.1.5.5.7.3.2\n", false, true },
		{ "key_purpose_oid = 1.3.6.1.5.5.7.3.3\n", false, false },
		{ "tls_www_client\nkey_purpose_oid = 2.5.29.37.0\n", true,
		    true },
		/* No extendedKeyUsage: any purpose (RFC 5280 4.2.1.12). */
		{ "signing_key\n", true, true },
		{ "tls_www_server = no\n", true, true },
	};
	unit_fx *fx = *state;
	cm_profile *p = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_cm_ok(fx->ctx, parse(&p, fx, cases[i].text));
		assert_int_equal(cm_profile_is_for(p, CM_VERIFY_SERVER),
		    cases[i].server);
		assert_int_equal(cm_profile_is_for(p, CM_VERIFY_CLIENT),
		    cases[i].client);
		assert_true(cm_profile_is_for(p, CM_VERIFY_ANY));
		cm_profile_free(p);
		p = NULL;
	}
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "peer"));
	assert_true(cm_profile_is_for(p, CM_VERIFY_SERVER));
	assert_true(cm_profile_is_for(p, CM_VERIFY_CLIENT));
	cm_profile_free(p);
	assert_cm_ok(fx->ctx, cm_profile_load(&p, fx->ctx, NULL, "server"));
	assert_false(cm_profile_is_for(p, CM_VERIFY_CLIENT));
	cm_profile_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_ctx(test_profile_all_keys),
		unit_test_ctx(test_profile_defaults),
		unit_test_ctx(test_profile_crlf_and_overrides),
		unit_test_ctx(test_profile_bad),
		unit_test_ctx(test_profile_limits),
		unit_test_ctx(test_profile_builtin),
		unit_test_ctx(test_profile_load_file),
		unit_test_ctx(test_profile_load_unknown),
		unit_test_store(test_profile_user_override),
		unit_test_ctx(test_profile_is_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
