/* test-name.c - name typing (name.c): names and --permit constraints. */
#include "config.h"

#include "unit.h"

#include <arpa/inet.h>

struct name_ok {
	const char *in;
	cm_name_type type;
	const char *value;      /* after canonicalisation */
};

static const struct name_ok names_ok[] = {
	{ "localhost", CM_NAME_DNS, "localhost" },
	{ "www.example.test", CM_NAME_DNS, "www.example.test" },
	{ "WWW.Example.TEST", CM_NAME_DNS, "www.example.test" },
	{ "xn--bcher-kva.test", CM_NAME_DNS, "xn--bcher-kva.test" },
	{ "a-b.c-d.test", CM_NAME_DNS, "a-b.c-d.test" },
	{ "1a.test", CM_NAME_DNS, "1a.test" },
	{ "*.app.test", CM_NAME_WILDCARD, "*.app.test" },
	{ "*.APP.test", CM_NAME_WILDCARD, "*.app.test" },
	{ "127.0.0.1", CM_NAME_IPV4, "127.0.0.1" },
	{ "10.255.0.1", CM_NAME_IPV4, "10.255.0.1" },
	{ "::1", CM_NAME_IPV6, "::1" },
	{ "0:0::1", CM_NAME_IPV6, "::1" },
	{ "0:0:0:0:0:0:0:1", CM_NAME_IPV6, "::1" },
	{ "2001:DB8:0:0:0:0:0:1", CM_NAME_IPV6, "2001:db8::1" },
	{ "FE80:0:0:0:1::", CM_NAME_IPV6, "fe80::1:0:0:0" },
	{ "dev@example.test", CM_NAME_EMAIL, "dev@example.test" },
	{ "Dev@Example.test", CM_NAME_EMAIL, "Dev@Example.test" },
	{ "spiffe://cluster.test/ns/web", CM_NAME_URI,
	    "spiffe://cluster.test/ns/web" },
	{ "https://a.test/p?q=1", CM_NAME_URI, "https://a.test/p?q=1" },
	{ "urn+x-y.z://thing", CM_NAME_URI, "urn+x-y.z://thing" },
};

struct name_bad {
	const char *in;
	const char *msg;
};

static const struct name_bad names_bad[] = {
	{ "", "name '' is empty" },
	{ "a..b", "name 'a..b' is not a hostname: it has an empty label" },
	{ ".a.test", "has an empty label" },
	{ "-a.test", "has a label starting with '-'" },
	{ "a-.test", "has a label ending with '-'" },
	{ "a.test.", "name 'a.test.' is not a hostname: it ends with a dot" },
	{ "a_b.test", "has a character not allowed in a hostname" },
	{ "a b.test", "name 'a b.test' has a space, control or non-ASCII" },
	{ " a.test", "has a space, control or non-ASCII" },
	{ "a.test\t", "has a space, control or non-ASCII" },
	{ "b\xc3\xbc" "cher.test", "non-ASCII character (use the A-label" },
	{ "1.2.3", "name '1.2.3' is not a hostname: it looks like an IP "
	    "address but is not one" },
	{ "1.2.3.4.5", "looks like an IP address" },
	{ "256.1.1.1", "looks like an IP address" },
	{ "010.0.0.1", "looks like an IP address" },
	{ "*.test", "name '*.test': a wildcard needs two labels after '*.'" },
	{ "a*.test", "has a '*' that is not a leading wildcard label" },
	{ "*a.test", "has a '*' that is not a leading wildcard label" },
	{ "*.*.test", "name '*.*.test' is not a wildcard: '*.test' has a '*'" },
	{ "*.", "is not a wildcard: '' is empty" },
	{ "*.a..test", "is not a wildcard" },
	{ "::g", "name '::g' is not a valid IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9", "is not a valid IPv6 address" },
	{ "fe80::1%eth0", "is not a valid IPv6 address" },
	{ "@example.test", "name '@example.test' is not an email address" },
	{ "a@b@example.test", "is not an email address" },
	{ "a@-x.test", "is not an email address: domain has a label "
	    "starting with '-'" },
	{ "a@", "is not an email address: domain is empty" },
	{ "://x", "is not a URI" },
	{ "1http://x", "name '1http://x' is not a URI: bad scheme" },
	{ "ht_tp://x", "is not a URI: bad scheme" },
	{ "http://", "name 'http://' is not a URI" },
};

/* "aaa...a" labels of 63 joined by dots, cut to len octets. */
static char *
long_name(size_t len, size_t label)
{
	char *s = malloc(len + 1);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = (i % (label + 1)) == label ? '.' : 'a';
	s[len] = '\0';
	return s;
}

static void
test_name_parse_ok(void **state)
{
	unit_fx *fx = *state;
	cm__name n;
	cm_name_type t;
	size_t i;

	for (i = 0; i < UNIT_NELEM(names_ok); i++) {
		const struct name_ok *c = &names_ok[i];
		cm_err err = cm__name_parse(&n, fx->ctx, c->in);
		if (err != CM_OK)
			print_error("case '%s'\n", c->in);
		assert_cm_ok(fx->ctx, err);
		assert_int_equal(n.type, c->type);
		assert_string_equal(n.value, c->value);
		cm__name_clear(&n);
		assert_cm_ok(fx->ctx, cm_name_classify(&t, fx->ctx, c->in));
		assert_int_equal(t, c->type);
	}
}

static void
test_name_parse_bad(void **state)
{
	unit_fx *fx = *state;
	cm__name n;
	cm_name_type t = (cm_name_type)0;
	size_t i;

	for (i = 0; i < UNIT_NELEM(names_bad); i++) {
		const struct name_bad *c = &names_bad[i];
		memset(&n, 0x5a, sizeof(n));
		cm_err err = cm__name_parse(&n, fx->ctx, c->in);
		if (err != CM_E_INVALID ||
		    strstr(cm_ctx_error(fx->ctx), c->msg) == NULL)
			print_error("case '%s'\n", c->in);
		assert_cm_err(fx->ctx, err, CM_E_INVALID, c->msg);
		/* *out is written only on success. */
		assert_int_equal(((unsigned char *)&n)[0], 0x5a);
		assert_cm_err(fx->ctx, cm_name_classify(&t, fx->ctx, c->in),
		    CM_E_INVALID, c->msg);
		assert_int_equal(t, 0);
	}
	assert_cm_err(fx->ctx, cm__name_parse(&n, fx->ctx, NULL), CM_E_INVALID,
	    "is empty");
}

/* The IP octets, not only the text, are what goes into the SAN. */
static void
test_name_ip_bytes(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 17 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0x42 };
	unit_fx *fx = *state;
	cm__name n;

	assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, "192.0.2.17"));
	assert_int_equal(n.iplen, 4);
	assert_memory_equal(n.ip, v4, 4);
	cm__name_clear(&n);
	assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, "2001:db8::42"));
	assert_int_equal(n.iplen, 16);
	assert_memory_equal(n.ip, v6, 16);
	cm__name_clear(&n);
	assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, "a.test"));
	assert_int_equal(n.iplen, 0);
	cm__name_clear(&n);
	/* cleared: safe to clear twice */
	cm__name_clear(&n);
}

/* RFC 1035 limits: 63 octets a label, 253 a name. */
static void
test_name_lengths(void **state)
{
	unit_fx *fx = *state;
	cm__name n;
	char *s;

	s = long_name(63, 63);
	assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, s));
	cm__name_clear(&n);
	free(s);

	s = long_name(64, 64);
	assert_cm_err(fx->ctx, cm__name_parse(&n, fx->ctx, s), CM_E_INVALID,
	    "has a label longer than 63 characters");
	free(s);

	s = long_name(253, 63);
	assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, s));
	assert_int_equal(strlen(n.value), 253);
	cm__name_clear(&n);
	free(s);

	/* The reason survives a long name: the name is cut in the message. */
	s = long_name(254, 63);
	assert_cm_err(fx->ctx, cm__name_parse(&n, fx->ctx, s), CM_E_INVALID,
	    "is longer than 253 characters");
	assert_substr(cm_ctx_error(fx->ctx),
	    "aaaaaaaaaa...' is not a hostname");
	free(s);

	s = long_name(4000, 63);
	s[10] = '_';
	assert_cm_err(fx->ctx, cm__name_parse(&n, fx->ctx, s), CM_E_INVALID,
	    "is longer than 253 characters");
	free(s);
}

static void
test_name_type_label(void **state)
{
	(void)state;
	assert_string_equal(cm_name_type_label(CM_NAME_DNS), "dns");
	assert_string_equal(cm_name_type_label(CM_NAME_WILDCARD), "wildcard");
	assert_string_equal(cm_name_type_label(CM_NAME_IPV4), "ip");
	assert_string_equal(cm_name_type_label(CM_NAME_IPV6), "ip");
	assert_string_equal(cm_name_type_label(CM_NAME_EMAIL), "email");
	assert_string_equal(cm_name_type_label(CM_NAME_URI), "uri");
	assert_string_equal(cm_name_type_label((cm_name_type)99), "unknown");
}

struct cons_ok {
	const char *in;
	unsigned san_type;
	const char *text;              /* DNS and email: the data */
	size_t len;
	unsigned char data[32];        /* IP: address + mask */
};

static const struct cons_ok cons_ok[] = {
	{ ".test", GNUTLS_SAN_DNSNAME, "test", 4, { 0 } },
	{ "test", GNUTLS_SAN_DNSNAME, "test", 4, { 0 } },
	{ ".Example.TEST", GNUTLS_SAN_DNSNAME, "example.test", 12, { 0 } },
	{ "@example.test", GNUTLS_SAN_RFC822NAME, "example.test", 12, { 0 } },
	{ "@EXAMPLE.test", GNUTLS_SAN_RFC822NAME, "example.test", 12, { 0 } },
	{ "127.0.0.0/8", GNUTLS_SAN_IPADDRESS, NULL, 8,
	    { 127, 0, 0, 0, 255, 0, 0, 0 } },
	{ "10.16.0.0/12", GNUTLS_SAN_IPADDRESS, NULL, 8,
	    { 10, 16, 0, 0, 255, 240, 0, 0 } },
	{ "192.0.2.7/32", GNUTLS_SAN_IPADDRESS, NULL, 8,
	    { 192, 0, 2, 7, 255, 255, 255, 255 } },
	{ "0.0.0.0/0", GNUTLS_SAN_IPADDRESS, NULL, 8, { 0 } },
	{ "::1/128", GNUTLS_SAN_IPADDRESS, NULL, 32,
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	      255, 255, 255, 255, 255, 255, 255, 255,
	      255, 255, 255, 255, 255, 255, 255, 255 } },
	{ "fd00::/8", GNUTLS_SAN_IPADDRESS, NULL, 32,
	    { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	      255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ "2001:db8::/33", GNUTLS_SAN_IPADDRESS, NULL, 32,
	    { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	      255, 255, 255, 255, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
};

static const struct name_bad cons_bad[] = {
	{ "", "--permit '': empty" },
	{ "10.0.0.1/8", "--permit '10.0.0.1/8': host bits set beyond /8" },
	{ "10.1.0.0/8", "host bits set beyond /8" },
	{ "::1/64", "host bits set beyond /64" },
	{ "10.0.0.0/33", "--permit '10.0.0.0/33': prefix length must be "
	    "0-32" },
	{ "::/129", "prefix length must be 0-128" },
	{ "10.0.0.0/", "prefix length must be 0-32" },
	{ "10.0.0.0/-1", "prefix length must be 0-32" },
	{ "10.0.0.0/8x", "prefix length must be 0-32" },
	{ "10.0.0.0/ 8", "prefix length must be 0-32" },
	{ "10.0.0.0/+8", "prefix length must be 0-32" },
	{ "300.0.0.0/8", "--permit '300.0.0.0/8': '300.0.0.0' is not an IP "
	    "address" },
	{ "test/8", "'test' is not an IP address" },
	{ "::g/64", "'::g' is not an IP address" },
	{ "garbage!", "--permit 'garbage!': not a DNS suffix, IP range or "
	    "@domain: it has a character not allowed" },
	{ ".", "not a DNS suffix, IP range or @domain: it is empty" },
	{ "..test", "has an empty label" },
	{ "*.test", "has a '*'" },
	{ "test.", "ends with a dot" },
	{ "@", "--permit '@': email domain is empty" },
	{ "@-x.test", "email domain has a label starting with '-'" },
};

static void
test_constraint_ok(void **state)
{
	unit_fx *fx = *state;
	cm__constraint c;
	size_t i;

	for (i = 0; i < UNIT_NELEM(cons_ok); i++) {
		const struct cons_ok *k = &cons_ok[i];
		cm_err err = cm__constraint_parse(&c, fx->ctx, k->in);
		if (err != CM_OK)
			print_error("case '%s'\n", k->in);
		assert_cm_ok(fx->ctx, err);
		assert_int_equal(c.san_type, k->san_type);
		assert_int_equal(c.len, k->len);
		if (k->text != NULL)
			assert_memory_equal(c.data, k->text, k->len);
		else
			assert_memory_equal(c.data, k->data, k->len);
	}
}

static void
test_constraint_bad(void **state)
{
	unit_fx *fx = *state;
	cm__constraint c;
	size_t i;

	for (i = 0; i < UNIT_NELEM(cons_bad); i++) {
		const struct name_bad *k = &cons_bad[i];
		cm_err err = cm__constraint_parse(&c, fx->ctx, k->in);
		if (err != CM_E_INVALID ||
		    strstr(cm_ctx_error(fx->ctx), k->msg) == NULL)
			print_error("case '%s'\n", k->in);
		assert_cm_err(fx->ctx, err, CM_E_INVALID, k->msg);
	}
	assert_cm_err(fx->ctx, cm__constraint_parse(&c, fx->ctx, NULL),
	    CM_E_INVALID, "empty");
}

/* The --permit list as a name-constraints extension: all or the first bad
 * entry, named. */
static void
test_constraints_to_nc(void **state)
{
	static const char *const good[] = { ".test", "127.0.0.0/8", "::1/128",
	    "@example.test" };
	static const char *const bad[] = { ".test", "10.0.0.1/8" };
	unit_fx *fx = *state;
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_datum_t d;
	unsigned type;
	size_t i;

	assert_int_equal(gnutls_x509_name_constraints_init(&nc), 0);
	assert_cm_ok(fx->ctx, cm__constraints_to_nc(nc, fx->ctx, good, 4));
	for (i = 0; gnutls_x509_name_constraints_get_permitted(nc, (unsigned)i,
	    &type, &d) == 0; i++)
		;
	assert_int_equal(i, 4);
	d.data = (unsigned char *)"www.test";
	d.size = 8;
	assert_true(gnutls_x509_name_constraints_check(nc, GNUTLS_SAN_DNSNAME,
	    &d));
	d.data = (unsigned char *)"www.example.com";
	d.size = 15;
	assert_false(gnutls_x509_name_constraints_check(nc, GNUTLS_SAN_DNSNAME,
	    &d));
	gnutls_x509_name_constraints_deinit(nc);

	assert_int_equal(gnutls_x509_name_constraints_init(&nc), 0);
	assert_cm_err(fx->ctx, cm__constraints_to_nc(nc, fx->ctx, bad, 2),
	    CM_E_INVALID, "--permit '10.0.0.1/8': host bits");
	gnutls_x509_name_constraints_deinit(nc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_test_ctx(test_name_parse_ok),
		unit_test_ctx(test_name_parse_bad),
		unit_test_ctx(test_name_ip_bytes),
		unit_test_ctx(test_name_lengths),
		unit_test_ctx(test_name_type_label),
		unit_test_ctx(test_constraint_ok),
		unit_test_ctx(test_constraint_bad),
		unit_test_ctx(test_constraints_to_nc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
