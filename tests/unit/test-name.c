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
	{ "a.b+tag@example.test", CM_NAME_EMAIL, "a.b+tag@example.test" },
	{ "o'neil_x-y@example.test", CM_NAME_EMAIL, "o'neil_x-y@example.test" },
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
	/* RFC 5890: an "xn--" label must be an A-label (issue 14, item 7). */
	{ "xn--zz.test", "name 'xn--zz.test' is not a hostname: it has an "
	    "'xn--' label that is not a valid IDNA A-label" },
	{ "a.XN--A.test", "name 'a.XN--A.test' is not a hostname: it has an "
	    "'xn--' label" },
	{ "a_b.test", "has a character not allowed in a hostname" },
	{ "a b.test", "name 'a b.test' has a space, control or non-ASCII" },
	{ " a.test", "has a space, control or non-ASCII" },
	{ "a.test\t", "has a space, control or non-ASCII" },
	{ "b\xc3\xbc" "cher.test", "is an internationalized name: give its "
	    "A-label, 'xn--bcher-kva.test'" },
	{ "b\xc3" "cher.test", "non-ASCII character (use the A-label" },
	{ "1.2.3", "name '1.2.3' is not a hostname: it looks like an IP "
	    "address but is not one" },
	{ "1.2.3.4.5", "looks like an IP address" },
	{ "256.1.1.1", "looks like an IP address" },
	{ "010.0.0.1", "looks like an IP address" },
	{ "*.test", "name '*.test': a wildcard needs two labels after '*.'" },
	{ "a*.test", "has a '*' that is not a leading wildcard label" },
	{ "*a.test", "has a '*' that is not a leading wildcard label" },
	{ "*.*.test", "name '*.*.test' is not a wildcard: only its first "
	    "label may be '*'" },
	{ "urn:x", "name 'urn:x' is not a URI certmint signs (give "
	    "scheme://host" },
	{ "mailto:a@b.test", "name 'mailto:a@b.test' is not an email address: "
	    "its local part has ':' there" },
	{ ".a@b.test", "its local part has '.' there" },
	{ "a..b@b.test", "its local part has '.' there" },
	{ "a.@b.test", "its local part has '.' there" },
	{ "a b@b.test", "has a space, control or non-ASCII character" },
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
	{ "127.0.0.1", "--permit '127.0.0.1': an address, not a range: give "
	    "a prefix length, e.g. '127.0.0.1/32'" },
	{ "::1", "e.g. '::1/128'" },
	{ "spiffe://x.test", "--permit 'spiffe://x.test': a URI; permit its "
	    "host's DNS suffix" },
	{ "https://10.0.0.0/8", "a URI" },
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

struct uri_ok {
	const char *in;
	cm_name_type type;
	const char *host;
};

static const struct uri_ok uris_ok[] = {
	{ "spiffe://cluster.test/ns/web", CM_NAME_DNS, "cluster.test" },
	{ "https://A.B.Test:8443/p", CM_NAME_DNS, "a.b.test" },
	{ "https://a.test", CM_NAME_DNS, "a.test" },
	{ "https://a.test?q=x:y@evil.com", CM_NAME_DNS, "a.test" },
	{ "https://a.test#x:y@evil.com", CM_NAME_DNS, "a.test" },
	{ "https://a.test/x:y@evil.com", CM_NAME_DNS, "a.test" },
	/* RFC 3986 3.2.1: the host follows the userinfo. */
	{ "https://a.test@evil.com/", CM_NAME_DNS, "evil.com" },
	{ "https://a.test:443@evil.com/", CM_NAME_DNS, "evil.com" },
	{ "https://u:p%40w@a.test/", CM_NAME_DNS, "a.test" },
	{ "https://127.0.0.1:8443/", CM_NAME_IPV4, "127.0.0.1" },
	{ "https://[::1]/", CM_NAME_IPV6, "::1" },
	{ "https://[::1]:443/x", CM_NAME_IPV6, "::1" },
	{ "https://[0:0::1]", CM_NAME_IPV6, "0:0::1" },
};

struct uri_bad {
	const char *in;
	const char *part;
	const char *why;
};

static const struct uri_bad uris_bad[] = {
	{ "urn:x:y", "host", "is missing (no '//' authority)" },
	{ "mailto:a@a.test", "host", "is missing (no '//' authority)" },
	{ "file:/etc/passwd", "host", "is missing (no '//' authority)" },
	{ "1x://a.test", "host", "is missing (no scheme)" },
	{ "a_b://a.test", "host", "is missing (no scheme)" },
	{ "file:///etc/passwd", "host", "is empty" },
	{ "https://:443/", "host", "is empty" },
	{ "https://a.test@/", "host", "is empty" },
	{ "https://a.test./", "host", "ends with a dot" },
	{ "https://a%2etest/", "host", "has a character not allowed" },
	{ "https://a.t%65st/", "host", "has a character not allowed" },
	{ "https://*.a.test/", "host", "has a '*'" },
	{ "https://a..test/", "host", "has an empty label" },
	{ "https://1.2.3/", "host", "looks like an IP address" },
	{ "https://[::1/", "host", "has no closing ']'" },
	{ "https://[]/", "host", "is not an IPv6 address" },
	{ "https://[v1.x]/", "host", "is not an IPv6 address" },
	{ "https://[fe80::1%25eth0]/", "host", "is not an IPv6 address" },
	{ "https://[127.0.0.1]/", "host", "is not an IPv6 address" },
	{ "https://a.test:/", "port", "is not a number" },
	{ "https://a.test:x/", "port", "is not a number" },
	{ "https://a.test:-1/", "port", "is not a number" },
	{ "https://a.test:65536/", "port", "is above 65535" },
	{ "https://[::1]x/", "port", "is not a number" },
	{ "https://a@b@a.test/", "userinfo", "has an '@'" },
	{ "https://evil.com\\@a.test/", "userinfo",
	    "has a character not allowed" },
	{ "https://a%zz@a.test/", "userinfo", "has a character not allowed" },
};

static void
test_uri_host(void **state)
{
	cm__uri_host h;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < UNIT_NELEM(uris_ok); i++) {
		const struct uri_ok *c = &uris_ok[i];
		why = cm__uri_host_parse(&h, c->in);
		if (why != NULL || h.type != c->type ||
		    strcmp(h.host, c->host) != 0)
			print_error("case '%s': %s\n", c->in, why ? why : "");
		assert_null(why);
		assert_int_equal(h.type, c->type);
		assert_string_equal(h.host, c->host);
		assert_int_equal(h.iplen, c->type == CM_NAME_IPV4 ? 4 :
		    c->type == CM_NAME_IPV6 ? 16 : 0);
	}
	for (i = 0; i < UNIT_NELEM(uris_bad); i++) {
		const struct uri_bad *c = &uris_bad[i];
		why = cm__uri_host_parse(&h, c->in);
		if (why == NULL || strstr(why, c->why) == NULL ||
		    strcmp(h.part, c->part) != 0)
			print_error("case '%s': %s %s\n", c->in, h.part,
			    why ? why : "(none)");
		assert_non_null(why);
		assert_substr(why, c->why);
		assert_string_equal(h.part, c->part);
	}
}

/*
 * URIs under name constraints, by the subtrees of the host's kind.  CA
 * "dev": .test, 127.0.0.0/8, ::1/128, @example.test; "ip": 10.0.0.0/8;
 * "mail": @example.test; "except": excludes evil.test only.
 */
struct uri_cons {
	const char *ca;
	const char *name;
	const char *msg;        /* NULL: allowed */
};

static const struct uri_cons uri_cons[] = {
	{ "dev", "spiffe://a.test/x", NULL },
	{ "dev", "spiffe://test/x", NULL },
	{ "dev", "https://A.B.TEST:8443/p", NULL },
	{ "dev", "https://evil.com@a.test/", NULL },
	{ "dev", "https://127.0.0.1:8443/", NULL },
	{ "dev", "https://[::1]/", NULL },
	{ "dev", "a.test", NULL },
	{ "dev", "spiffe://evil.com/admin", "name 'spiffe://evil.com/admin' "
	    "is outside the name constraints of CA 'dev': its host is "
	    "'evil.com'" },
	{ "dev", "https://a.test@evil.com/", "name 'https://a.test@evil.com/' "
	    "is outside the name constraints of CA 'dev': its host is "
	    "'evil.com'" },
	{ "dev", "ldap://evil.com", "its host is 'evil.com'" },
	{ "dev", "https://a.test.evil.com/", "its host is 'a.test.evil.com'" },
	{ "dev", "https://eviltest/", "its host is 'eviltest'" },
	{ "dev", "https://10.0.0.1/", "its host is '10.0.0.1'" },
	{ "dev", "https://[::2]/", "its host is '::2'" },
	{ "dev", "file:///etc/passwd", "CA 'dev': its host is empty" },
	{ "dev", "https://a.test./", "its host ends with a dot" },
	{ "dev", "https://a%2etest/", "its host has a character not allowed" },
	{ "dev", "https://a.test:x/", "its port is not a number" },
	{ "dev", "https://a.test\\@evil.com/",
	    "its userinfo has a character not allowed" },
	{ "ip", "https://10.1.2.3/", NULL },
	{ "ip", "https://127.0.0.1/", "its host is '127.0.0.1'" },
	{ "ip", "spiffe://a.test/", "CA 'ip': its host 'a.test' is a DNS "
	    "name and the CA permits none" },
	{ "ip", "file:///x", "its host is empty" },
	{ "dev", "https://[2001:db8::1]/", "its host is '2001:db8::1'" },
	{ "dns", "https://[::1]/", "CA 'dns': its host '::1' is an IP "
	    "address and the CA permits none" },
	{ "dns", "https://127.0.0.1/", "is an IP address and the CA permits "
	    "none" },
	{ "dns", "spiffe://x.test/", NULL },
	/* Mailboxes say nothing about hosts. */
	{ "mail", "spiffe://evil.com/", NULL },
	{ "mail", "file:///x", NULL },
	{ "except", "https://a.test/", NULL },
	{ "except", "file:///x", NULL },
	{ "except", "https://x.evil.test/", "its host is 'x.evil.test'" },
	{ "except", "https://x.evil.test./", "its host " },
	{ "except", "https://x%2eevil.test/", "its host " },
};

static gnutls_x509_crt_t
constrained_ca(cm_ctx *ctx, const char *const *permit, size_t n,
    const char *exclude)
{
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;

	assert_int_equal(gnutls_x509_name_constraints_init(&nc), 0);
	assert_int_equal(cm__constraints_to_nc(nc, ctx, permit, n), CM_OK);
	if (exclude != NULL) {
		d.data = (unsigned char *)(uintptr_t)exclude;
		d.size = (unsigned)strlen(exclude);
		assert_int_equal(gnutls_x509_name_constraints_add_excluded(nc,
		    GNUTLS_SAN_DNSNAME, &d), 0);
	}
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_name_constraints(crt, nc, 1), 0);
	gnutls_x509_name_constraints_deinit(nc);
	return crt;
}

static void
test_uri_constraints(void **state)
{
	static const char *const dev[] = { ".test", "127.0.0.0/8", "::1/128",
	    "@example.test" };
	static const char *const ip[] = { "10.0.0.0/8" };
	static const char *const dns[] = { "test" };
	static const char *const mail[] = { "@example.test" };
	unit_fx *fx = *state;
	gnutls_x509_crt_t cas[5];
	static const char *const ca_names[] = { "dev", "ip", "dns", "mail",
	    "except" };
	cm__name n;
	size_t i, k;
	cm_err err;

	cas[0] = constrained_ca(fx->ctx, dev, UNIT_NELEM(dev),
	    NULL);
	cas[1] = constrained_ca(fx->ctx, ip, UNIT_NELEM(ip),
	    NULL);
	cas[2] = constrained_ca(fx->ctx, dns, UNIT_NELEM(dns),
	    NULL);
	cas[3] = constrained_ca(fx->ctx, mail, UNIT_NELEM(mail),
	    NULL);
	cas[4] = constrained_ca(fx->ctx, NULL, 0, "evil.test");
	for (i = 0; i < UNIT_NELEM(uri_cons); i++) {
		const struct uri_cons *c = &uri_cons[i];
		for (k = 0; strcmp(ca_names[k], c->ca) != 0; k++)
			;
		assert_cm_ok(fx->ctx, cm__name_parse(&n, fx->ctx, c->name));
		err = cm__crt_check_constraints(cas[k], fx->ctx, c->ca, &n, 1);
		cm__name_clear(&n);
		if ((c->msg == NULL) != (err == CM_OK) || (c->msg != NULL &&
		    strstr(cm_ctx_error(fx->ctx), c->msg) == NULL))
			print_error("case %s '%s': %s\n", c->ca, c->name,
			    cm_ctx_error(fx->ctx));
		if (c->msg == NULL)
			assert_cm_ok(fx->ctx, err);
		else
			assert_cm_err(fx->ctx, err, CM_E_CONSTRAINT, c->msg);
	}
	for (k = 0; k < UNIT_NELEM(cas); k++)
		gnutls_x509_crt_deinit(cas[k]);
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
		unit_test_ctx(test_uri_host),
		unit_test_ctx(test_uri_constraints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
