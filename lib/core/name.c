/* name.c - typing names given on the command line, and name constraints. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

const char *
cm_name_type_label(cm_name_type t)
{
	switch (t) {
	case CM_NAME_DNS: return "dns";
	case CM_NAME_WILDCARD: return "wildcard";
	case CM_NAME_IPV4: return "ip";
	case CM_NAME_IPV6: return "ip";
	case CM_NAME_EMAIL: return "email";
	case CM_NAME_URI: return "uri";
	}
	return "unknown";
}

/*
 * Is label (n octets, "xn--...") an A-label (RFC 5890 2.3.2.1)?  Its
 * Punycode must decode (RFC 3492) to a U-label with a non-ASCII
 * character that encodes back (IDNA2008, libidn2 through GnuTLS) to the
 * same label.  "xn--zz" decodes to nothing.  Without IDNA support in
 * GnuTLS the label cannot be judged and is taken.
 */
static bool
is_a_label(const char *label, size_t n)
{
	gnutls_datum_t u = { NULL, 0 }, a = { NULL, 0 };
	bool ok = false, wide = false;
	unsigned i;
	int ret;

	ret = gnutls_idna_reverse_map(label, (unsigned)n, &u, 0);
	if (ret == GNUTLS_E_UNIMPLEMENTED_FEATURE)
		return true;
	if (ret < 0 || u.size == 0)
		goto out;
	for (i = 0; i < u.size; i++)
		wide = wide || u.data[i] >= 0x80;
	if (!wide || gnutls_idna_map((const char *)u.data, u.size, &a,
	    0) < 0)
		goto out;
	ok = a.size == n && strncasecmp((const char *)a.data, label, n) == 0;
out:
	gnutls_free(u.data);
	gnutls_free(a.data);
	return ok;
}

/*
 * RFC 1123 host names: LDH labels of 1-63 octets that neither start nor end
 * with '-', 253 octets in all; a label starting "xn--" an A-label.
 * Returns NULL or why not.
 */
static const char *
hostname_problem(const char *s)
{
	size_t len = strlen(s), label = 0, i;
	bool all_numeric = true;

	if (len == 0)
		return "is empty";
	if (len > 253)
		return "is longer than 253 characters";
	if (s[len - 1] == '.')
		return "ends with a dot";
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return "has an empty label";
			if (label > 63)
				return "has a label longer than 63 characters";
			if (s[i - 1] == '-')
				return "has a label ending with '-'";
			if (label >= 4 && strncasecmp(s + i - label, "xn--",
			    4) == 0 && !is_a_label(s + i - label, label))
				return "has an 'xn--' label that is not a "
				    "valid IDNA A-label (its Punycode does not "
				    "decode to a valid name)";
			label = 0;
			continue;
		}
		if (c == '*')
			return "has a '*' that is not a leading wildcard label";
		if (!(isalnum(c) || c == '-'))
			return "has a character not allowed in a hostname";
		if (label == 0 && c == '-')
			return "has a label starting with '-'";
		if (!isdigit(c))
			all_numeric = false;
		label++;
	}
	if (all_numeric)
		return "looks like an IP address but is not one";
	return NULL;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * The name as quoted in a message: at most 60 octets, and a control or
 * non-ASCII octet shown as '?' so that the message stays one line.
 */
void
cm__name_quote(char *buf, size_t len, const char *text)
{
	char *c;

	if (strlen(text) > 64)
		snprintf(buf, len, "%.60s...", text);
	else
		snprintf(buf, len, "%s", text);
	for (c = buf; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c >= 0x7f)
			*c = '?';
}

void
cm__name_clear(cm__name *n)
{
	free(n->value);
	memset(n, 0, sizeof(*n));
}

cm_err
cm__name_parse(cm__name *out, cm_ctx *ctx, const char *text)
{
	cm__name n = { 0 };
	const char *why, *at, *p;
	size_t dots = 0;
	char show[72];

	if (text == NULL || text[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "name '' is empty");
	/* Quote at most 60 octets: the reason must fit in the message. */
	cm__name_quote(show, sizeof(show), text);
	for (p = text; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			gnutls_datum_t a = { NULL, 0 };
			/* A U-label: say its A-label (IDNA2008), which is
			 * what goes into a certificate. */
			if ((unsigned char)*p > 0x7f && strpbrk(text,
			    " \t\r\n@:/") == NULL && gnutls_idna_map(text,
			    (unsigned)strlen(text), &a, 0) == 0 &&
			    a.size > 0 && a.size < 64) {
				cm_err err = cm__fail(ctx, CM_E_INVALID,
				    "name '%s' is an internationalized name: "
				    "give its A-label, '%.*s'", show,
				    (int)a.size, (const char *)a.data);
				gnutls_free(a.data);
				return err;
			}
			gnutls_free(a.data);
			return cm__fail(ctx, CM_E_INVALID, "name '%s' has a "
			    "space, control or non-ASCII character (use "
			    "the A-label, xn--...)", show);
		}
	if ((p = strstr(text, "://")) != NULL) {
		const char *q;
		for (q = text; q < p; q++)
			if (!(isalnum((unsigned char)*q) || *q == '+' ||
			    *q == '-' || *q == '.') || !isalpha((unsigned char)text[0]))
				return cm__fail(ctx, CM_E_INVALID, "name '%s' "
				    "is not a URI: bad scheme", show);
		if (p == text || p[3] == '\0')
			return cm__fail(ctx, CM_E_INVALID,
			    "name '%s' is not a URI", show);
		n.type = CM_NAME_URI;
	} else if ((at = strchr(text, '@')) != NULL) {
		if (at == text || strchr(at + 1, '@') != NULL)
			return cm__fail(ctx, CM_E_INVALID,
			    "name '%s' is not an email address", show);
		/* RFC 5322 3.4.1: the local part as a dot-atom. */
		for (p = text; p < at; p++)
			if (!(isalnum((unsigned char)*p) ||
			    strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL ||
			    (*p == '.' && p != text && p + 1 != at &&
			    p[1] != '.')))
				return cm__fail(ctx, CM_E_INVALID, "name '%s' is "
				    "not an email address: its local part has "
				    "'%c' there", show, *p);
		if ((why = hostname_problem(at + 1)) != NULL)
			return cm__fail(ctx, CM_E_INVALID, "name '%s' is not an "
			    "email address: domain %s", show, why);
		n.type = CM_NAME_EMAIL;
	} else if (inet_pton(AF_INET, text, n.ip) == 1) {
		n.type = CM_NAME_IPV4;
		n.iplen = 4;
	} else if (strchr(text, ':') != NULL) {
		if (inet_pton(AF_INET6, text, n.ip) != 1) {
			/* "urn:x", "mailto:a@b": a scheme (with a letter no
			 * IPv6 group has), no authority. */
			bool scheme = false;
			for (p = text; isalnum((unsigned char)*p) || *p == '+' ||
			    *p == '-' || *p == '.'; p++)
				if (isalpha((unsigned char)*p) &&
				    !isxdigit((unsigned char)*p))
					scheme = true;
			if (scheme && isalpha((unsigned char)text[0]) &&
			    *p == ':')
				return cm__fail(ctx, CM_E_INVALID, "name '%s' is "
				    "not a URI certmint signs (give "
				    "scheme://host..., e.g. spiffe://a.test/x)",
				    show);
			return cm__fail(ctx, CM_E_INVALID,
			    "name '%s' is not a valid IPv6 address", show);
		}
		n.type = CM_NAME_IPV6;
		n.iplen = 16;
	} else if (strncmp(text, "*.", 2) == 0) {
		if (strchr(text + 2, '*') != NULL)
			return cm__fail(ctx, CM_E_INVALID, "name '%s' is not a "
			    "wildcard: only its first label may be '*'", show);
		if ((why = hostname_problem(text + 2)) != NULL)
			return cm__fail(ctx, CM_E_INVALID,
			    "name '%s' is not a wildcard: '%.60s' %s",
			    show, text + 2, why);
		for (p = text + 2; *p; p++)
			dots += *p == '.';
		/* RFC 6125 6.4.3; clients ignore "*.tld". */
		if (dots == 0)
			return cm__fail(ctx, CM_E_INVALID, "name '%s': a "
			    "wildcard needs two labels after '*.' (clients "
			    "ignore it otherwise)", show);
		n.type = CM_NAME_WILDCARD;
	} else {
		if ((why = hostname_problem(text)) != NULL)
			return cm__fail(ctx, CM_E_INVALID,
			    "name '%s' is not a hostname: it %s", show, why);
		n.type = CM_NAME_DNS;
	}
	n.value = strdup(text);
	if (n.value == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if (n.type == CM_NAME_DNS || n.type == CM_NAME_WILDCARD)
		lower(n.value);
	if (n.type == CM_NAME_IPV6) {
		/* Canonical text form: "0:0::1" becomes "::1". */
		char buf[INET6_ADDRSTRLEN];
		if (inet_ntop(AF_INET6, n.ip, buf, sizeof(buf)) != NULL) {
			char *c = strdup(buf);
			if (c != NULL) {
				free(n.value);
				n.value = c;
			}
		}
	}
	*out = n;
	return CM_OK;
}

static bool
is_unreserved_or_sub_delim(unsigned char c)
{
	/* RFC 3986 2.3 unreserved, 2.2 sub-delims. */
	return isalnum(c) || strchr("-._~!$&'()*+,;=", c) != NULL;
}

const char *
cm__uri_host_parse(cm__uri_host *out, const char *uri)
{
	cm__uri_host h;
	const char *p, *auth, *end, *at = NULL, *host, *hend, *why;
	size_t len;

	memset(&h, 0, sizeof(h));
	h.part = "host";
	out->part = h.part;
	/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!isalpha((unsigned char)uri[0]))
		return "is missing (no scheme)";
	for (p = uri; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if (*p != ':')
		return "is missing (no scheme)";
	/* 3.2: only "//" starts an authority; "urn:x", "mailto:a@b" and
	 * "file:/x" name no host. */
	if (p[1] != '/' || p[2] != '/')
		return "is missing (no '//' authority)";
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@') {
			/* 3.2.1: no '@' in userinfo, so a second one is not
			 * a URI; parsers disagree on which one ends it. */
			if (at != NULL) {
				out->part = "userinfo";
				return "has an '@'";
			}
			at = p;
		}
	if (at != NULL) {
		for (p = auth; p < at; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '%' && isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2])) {
				p += 2;
				continue;
			}
			/* Refuses '\' too, which WHATWG parsers read as
			 * '/': "https://evil.com\@a.test/" is evil.com. */
			if (!is_unreserved_or_sub_delim(c) && c != ':') {
				out->part = "userinfo";
				return "has a character not allowed";
			}
		}
		host = at + 1;
	} else {
		host = auth;
	}
	if (*host == '[') {
		/* 3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]" */
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL)
			return "has no closing ']'";
		len = (size_t)(hend - host - 1);
		if (len == 0 || len >= sizeof(h.host))
			return "is not an IPv6 address";
		memcpy(h.host, host + 1, len);
		h.host[len] = '\0';
		if (inet_pton(AF_INET6, h.host, h.ip) != 1)
			return "is not an IPv6 address";
		h.type = CM_NAME_IPV6;
		h.iplen = 16;
		hend++;
	} else {
		hend = host + strcspn(host, ":");
		if (hend > end)
			hend = end;
		len = (size_t)(hend - host);
		if (len == 0)
			return "is empty";
		if (len >= sizeof(h.host))
			return "is longer than 253 characters";
		memcpy(h.host, host, len);
		h.host[len] = '\0';
		if (inet_pton(AF_INET, h.host, h.ip) == 1) {
			h.type = CM_NAME_IPV4;
			h.iplen = 4;
		} else {
			/* Percent-encoding, '*', a trailing dot: not LDH. */
			if ((why = hostname_problem(h.host)) != NULL)
				return why;
			lower(h.host);
			h.type = CM_NAME_DNS;
		}
	}
	if (hend < end) {
		/* 3.2.3: port = *DIGIT; an empty one is refused too. */
		unsigned long port = 0;
		out->part = "port";
		if (*hend != ':' || hend + 1 == end)
			return "is not a number";
		for (p = hend + 1; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return "is not a number";
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return "is above 65535";
		}
	}
	h.part = NULL;
	*out = h;
	return NULL;
}

cm_err
cm_name_classify(cm_name_type *out, cm_ctx *ctx, const char *name)
{
	cm__name n;
	cm_err err;

	if ((err = cm__name_parse(&n, ctx, name)) != CM_OK)
		return err;
	*out = n.type;
	cm__name_clear(&n);
	return CM_OK;
}

cm_err
cm__constraint_parse(cm__constraint *out, cm_ctx *ctx, const char *text)
{
	cm__constraint c;
	const char *slash, *why;
	char addr[64], *end, show[72], ashow[72];
	long prefix;
	size_t alen, i;
	int af;

	memset(&c, 0, sizeof(c));
	if (text == NULL || text[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "--permit '': empty");
	cm__name_quote(show, sizeof(show), text);
	if (strstr(text, "://") != NULL)
		return cm__fail(ctx, CM_E_INVALID, "--permit '%s': a URI; "
		    "permit its host's DNS suffix or IP range instead (URIs "
		    "are judged by their host)", show);
	if (strchr(text, '/') == NULL && (inet_pton(AF_INET, text, c.data) ==
	    1 || inet_pton(AF_INET6, text, c.data) == 1))
		return cm__fail(ctx, CM_E_INVALID, "--permit '%s': an address, "
		    "not a range: give a prefix length, e.g. '%s/%d'", show,
		    show, strchr(text, ':') ? 128 : 32);
	if ((slash = strchr(text, '/')) != NULL) {
		alen = (size_t)(slash - text);
		if (alen >= sizeof(addr))
			return cm__fail(ctx, CM_E_INVALID,
			    "--permit '%s': not an IP range", show);
		memcpy(addr, text, alen);
		addr[alen] = '\0';
		af = strchr(addr, ':') ? AF_INET6 : AF_INET;
		alen = af == AF_INET6 ? 16 : 4;
		if (inet_pton(af, addr, c.data) != 1) {
			cm__name_quote(ashow, sizeof(ashow), addr);
			return cm__fail(ctx, CM_E_INVALID, "--permit '%s': "
			    "'%s' is not an IP address", show, ashow);
		}
		prefix = strtol(slash + 1, &end, 10);
		/* Digits only: strtol would take " 8" and "+8". */
		if (!isdigit((unsigned char)slash[1]) || *end != '\0' ||
		    prefix < 0 ||
		    prefix > (long)alen * 8)
			return cm__fail(ctx, CM_E_INVALID, "--permit '%s': "
			    "prefix length must be 0-%zu", show, alen * 8);
		/* RFC 5280 4.2.1.10: address followed by the mask. */
		for (i = 0; i < alen; i++) {
			long bits = prefix - (long)i * 8;
			unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 :
			    (unsigned char)(0xff << (8 - bits));
			if (c.data[i] & (unsigned char)~m)
				return cm__fail(ctx, CM_E_INVALID,
				    "--permit '%s': host bits set beyond "
				    "/%ld", show, prefix);
			c.data[alen + i] = m;
		}
		c.len = alen * 2;
		c.san_type = GNUTLS_SAN_IPADDRESS;
	} else if (text[0] == '@') {
		if ((why = hostname_problem(text + 1)) != NULL)
			return cm__fail(ctx, CM_E_INVALID,
			    "--permit '%s': email domain %s", show, why);
		c.len = strlen(text + 1);
		memcpy(c.data, text + 1, c.len);
		lower((char *)c.data);
		c.san_type = GNUTLS_SAN_RFC822NAME;
	} else {
		/* ".test" and "test" both mean test and everything below it
		 * (RFC 5280 4.2.1.10 DNS form: no leading dot). */
		const char *d = text[0] == '.' ? text + 1 : text;
		if ((why = hostname_problem(d)) != NULL)
			return cm__fail(ctx, CM_E_INVALID,
			    "--permit '%s': not a DNS suffix, IP range or "
			    "@domain: it %s", show, why);
		c.len = strlen(d);
		memcpy(c.data, d, c.len);
		lower((char *)c.data);
		c.san_type = GNUTLS_SAN_DNSNAME;
	}
	*out = c;
	return CM_OK;
}

cm_err
cm__constraints_to_nc(gnutls_x509_name_constraints_t nc, cm_ctx *ctx,
    const char *const *permit, size_t n)
{
	cm__constraint c;
	gnutls_datum_t d;
	cm_err err;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if ((err = cm__constraint_parse(&c, ctx, permit[i])) != CM_OK)
			return err;
		d.data = c.data;
		d.size = (unsigned)c.len;
		ret = gnutls_x509_name_constraints_add_permitted(nc,
		    (gnutls_x509_subject_alt_name_t)c.san_type, &d);
		if (ret < 0)
			return cm__gnutls_fail(ctx, ret, "--permit '%s'",
			    permit[i]);
	}
	return CM_OK;
}
