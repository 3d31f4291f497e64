/*
 * profile.c - certificate profiles in GnuTLS certtool's template syntax.
 *
 * A strict subset: "key = value" lines, bare flags, '#' comments, values
 * optionally in double quotes.  Unlike certtool, an unknown key is an
 * error that names the file and line: a typo must not silently drop an
 * extension.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define MAX_PROFILE_SIZE (64 * 1024)

enum kind { K_STR, K_INT, K_FLAG, K_LIST, K_FEATURE, K_NAMES };

struct keydef {
	const char *key;
	enum kind kind;
	size_t off;     /* of the field (K_LIST: of the array) */
	size_t noff;    /* K_LIST: of the count */
	int min, max;   /* K_INT */
};

#define F(f) offsetof(struct cm_profile, f)
static const struct keydef keys[] = {
	{ "cn", K_STR, F(cn), 0, 0, 0 },
	{ "organization", K_STR, F(organization), 0, 0, 0 },
	{ "unit", K_STR, F(unit), 0, 0, 0 },
	{ "country", K_STR, F(country), 0, 0, 0 },
	{ "state", K_STR, F(state), 0, 0, 0 },
	{ "locality", K_STR, F(locality), 0, 0, 0 },
	{ "expiration_days", K_INT, F(expiration_days), 0, 1, 36500 },
	{ "path_len", K_INT, F(path_len), 0, -1, 255 },
	{ "tls_www_server", K_FLAG, F(tls_www_server), 0, 0, 0 },
	{ "tls_www_client", K_FLAG, F(tls_www_client), 0, 0, 0 },
	{ "ca", K_FLAG, F(ca), 0, 0, 0 },
	{ "cert_signing_key", K_FLAG, F(cert_signing_key), 0, 0, 0 },
	{ "crl_signing_key", K_FLAG, F(crl_signing_key), 0, 0, 0 },
	{ "signing_key", K_FLAG, F(signing_key), 0, 0, 0 },
	{ "encryption_key", K_FLAG, F(encryption_key), 0, 0, 0 },
	{ "tls_feature", K_FEATURE, F(tls_feature_status_request), 0, 0, 0 },
	{ "key_purpose_oid", K_LIST, F(key_purpose_oid), F(nkey_purpose_oid),
	    0, 0 },
	{ "nc_permit_dns", K_LIST, F(nc_permit_dns), F(nnc_permit_dns), 0, 0 },
	{ "nc_exclude_dns", K_LIST, F(nc_exclude_dns), F(nnc_exclude_dns),
	    0, 0 },
	{ "nc_permit_ip", K_LIST, F(nc_permit_ip), F(nnc_permit_ip), 0, 0 },
	{ "nc_exclude_ip", K_LIST, F(nc_exclude_ip), F(nnc_exclude_ip), 0, 0 },
	{ "nc_permit_email", K_LIST, F(nc_permit_email), F(nnc_permit_email),
	    0, 0 },
	{ "ocsp_uri", K_LIST, F(ocsp_uri), F(nocsp_uri), 0, 0 },
	{ "ca_issuers_uri", K_LIST, F(ca_issuers_uri), F(nca_issuers_uri),
	    0, 0 },
	{ "crl_dist_points", K_LIST, F(crl_dist_points), F(ncrl_dist_points),
	    0, 0 },
	/* certtool keys that certmint takes from the command line instead */
	{ "dns_name", K_NAMES, 0, 0, 0, 0 },
	{ "ip_address", K_NAMES, 0, 0, 0, 0 },
	{ "email", K_NAMES, 0, 0, 0, 0 },
	{ "uri", K_NAMES, 0, 0, 0, 0 },
};
#undef F
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const builtin_names[] = {
	"server", "client", "peer", "root-ca", "intermediate-ca",
	"ocsp-signer", NULL
};

const char *const *
cm_profile_builtin_names(void)
{
	return builtin_names;
}

const char *
cm_profile_name(const cm_profile *p)
{
	return p->name;
}

bool
cm_profile_is_for(const cm_profile *p, cm_verify_purpose purpose)
{
	/* RFC 5280 4.2.1.12: id-kp-serverAuth, id-kp-clientAuth and
	 * anyExtendedKeyUsage. */
	const char *oid = purpose == CM_VERIFY_SERVER ? "1.3.6.1.5.5.7.3.1" :
	    "1.3.6.1.5.5.7.3.2";
	size_t i;

	if (purpose == CM_VERIFY_ANY)
		return true;
	if ((purpose == CM_VERIFY_SERVER && p->tls_www_server) ||
	    (purpose == CM_VERIFY_CLIENT && p->tls_www_client))
		return true;
	for (i = 0; i < p->nkey_purpose_oid; i++)
		if (strcmp(p->key_purpose_oid[i], oid) == 0 ||
		    strcmp(p->key_purpose_oid[i], "2.5.29.37.0") == 0)
			return true;
	/* No extendedKeyUsage at all: any purpose. */
	return !p->tls_www_server && !p->tls_www_client &&
	    p->nkey_purpose_oid == 0;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

void
cm_profile_free(cm_profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->cn);
	free(p->organization);
	free(p->unit);
	free(p->country);
	free(p->state);
	free(p->locality);
	free_list(p->key_purpose_oid, p->nkey_purpose_oid);
	free_list(p->nc_permit_dns, p->nnc_permit_dns);
	free_list(p->nc_exclude_dns, p->nnc_exclude_dns);
	free_list(p->nc_permit_ip, p->nnc_permit_ip);
	free_list(p->nc_exclude_ip, p->nnc_exclude_ip);
	free_list(p->nc_permit_email, p->nnc_permit_email);
	free_list(p->ocsp_uri, p->nocsp_uri);
	free_list(p->ca_issuers_uri, p->nca_issuers_uri);
	free_list(p->crl_dist_points, p->ncrl_dist_points);
	free(p);
}

static bool
is_oid(const char *s)
{
	bool digit = false;
	size_t arcs = 1;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			digit = true;
		} else if (*s == '.' && digit) {
			digit = false;
			arcs++;
		} else {
			return false;
		}
	}
	return digit && arcs >= 2;
}

/* X.520 upper bounds (RFC 5280 Appendix A.1, ub-*), in characters. */
static const struct {
	const char *key;
	size_t max;
	const char *ub;
} bounds[] = {
	{ "cn", 64, "ub-common-name" },
	{ "organization", 64, "ub-organization-name" },
	{ "unit", 64, "ub-organizational-unit-name" },
	{ "locality", 128, "ub-locality-name" },
	{ "state", 128, "ub-state-name" },
};

/* Characters of UTF-8 text (octets that start one); a control character
 * or invalid UTF-8 is caught by str_problem first. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Why a subject field's value cannot go into a DirectoryString, or NULL. */
static const char *
str_problem(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;

	for (; *p; p += n) {
		if (*p < ' ' || *p == 0x7f)
			return "has a control character";
		n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 :
		    *p >= 0xe0 && *p <= 0xef ? 3 : *p >= 0xf0 && *p <= 0xf4 ?
		    4 : 0;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n == 0)
			return "is not UTF-8";
	}
	return NULL;
}

/*
 * A URI for ocsp_uri, ca_issuers_uri or crl_dist_points: RFC 3986 has no
 * space, control or non-ASCII character (they go percent-encoded), and a
 * relying party fetches it, so it needs a scheme and something after.
 */
static const char *
uri_problem(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return (unsigned char)*p == ' ' ? "has a space (write "
			    "it %20)" : "has a control or non-ASCII character";
	if (!isalpha((unsigned char)s[0]))
		return "has no scheme (http://...)";
	for (p = s; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if (*p != ':' || p[1] == '\0')
		return "has no scheme (http://...)";
	return NULL;
}

/* Sets one key; line is the 1-based line number for messages; seen[i]
 * the line that set keys[i] (0: none yet). */
static cm_err
set_key(cm_profile *p, cm_ctx *ctx, const char *origin, unsigned line,
    const char *key, const char *value, bool has_value, unsigned *seen)
{
	const struct keydef *k = NULL;
	char *base = (char *)p, *end;
	const char *why;
	size_t i, ki = 0;
	long v;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].key, key) == 0) {
			k = &keys[i];
			ki = i;
		}
	if (k == NULL)
		return cm__fail(ctx, CM_E_INVALID, "%s:%u: unknown key '%s'",
		    origin, line, key);
	if (k->kind == K_NAMES)
		return cm__fail(ctx, CM_E_INVALID, "%s:%u: '%s' is not "
		    "allowed in a profile: names come from the command line",
		    origin, line, key);
	/* A second value would silently win: one line per key, but for
	 * the lists (key_purpose_oid, nc_*, the URIs), which repeat as in
	 * certtool. */
	if (k->kind != K_LIST && seen[ki] != 0)
		return cm__fail(ctx, CM_E_INVALID, "%s:%u: '%s' is set again "
		    "(first on line %u): give it once", origin, line, key,
		    seen[ki]);
	seen[ki] = line;
	if (k->kind == K_FLAG) {
		bool on = true;
		if (has_value) {
			if (strcmp(value, "yes") == 0 ||
			    strcmp(value, "true") == 0 ||
			    strcmp(value, "1") == 0)
				on = true;
			else if (strcmp(value, "no") == 0 ||
			    strcmp(value, "false") == 0 ||
			    strcmp(value, "0") == 0)
				on = false;
			else
				return cm__fail(ctx, CM_E_INVALID, "%s:%u: "
				    "'%s' is a flag: no value or yes/no, not "
				    "'%s'", origin, line, key, value);
		}
		*(bool *)(base + k->off) = on;
		return CM_OK;
	}
	if (!has_value || value[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "%s:%u: '%s' needs a value",
		    origin, line, key);
	switch (k->kind) {
	case K_STR: {
		char **f = (char **)(base + k->off);
		if ((why = str_problem(value)) != NULL)
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: %s %s",
			    origin, line, key, why);
		for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
			if (strcmp(bounds[i].key, key) == 0 &&
			    utf8_chars(value) > bounds[i].max)
				return cm__fail(ctx, CM_E_INVALID, "%s:%u: %s "
				    "is %zu characters, over the X.520 bound "
				    "of %zu (%s)", origin, line, key,
				    utf8_chars(value), bounds[i].max,
				    bounds[i].ub);
		free(*f);
		if ((*f = strdup(value)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		if (strcmp(key, "country") == 0 && (strlen(value) != 2 ||
		    !isalpha((unsigned char)value[0]) ||
		    !isalpha((unsigned char)value[1])))
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: country "
			    "'%s' is not a two-letter code", origin, line,
			    value);
		return CM_OK;
	}
	case K_INT:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || *end != '\0' || v < k->min || v > k->max)
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: %s '%s' is "
			    "not a number from %d to %d", origin, line, key,
			    value, k->min, k->max);
		*(int *)(base + k->off) = (int)v;
		return CM_OK;
	case K_FEATURE:
		/* RFC 7633: 5 is status_request (must-staple). */
		if (strcmp(value, "5") != 0)
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: tls_feature "
			    "'%s' is not supported (only 5, status_request)",
			    origin, line, value);
		*(bool *)(base + k->off) = true;
		return CM_OK;
	case K_LIST: {
		char **arr = (char **)(base + k->off);
		size_t *n = (size_t *)(base + k->noff);
		if (*n >= CM_PROFILE_MAX_VALUES)
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: more than "
			    "%d values for '%s'", origin, line,
			    CM_PROFILE_MAX_VALUES, key);
		if (strcmp(key, "key_purpose_oid") == 0 && !is_oid(value))
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: "
			    "key_purpose_oid '%s' is not an OID", origin, line,
			    value);
		if ((strcmp(key, "ocsp_uri") == 0 ||
		    strcmp(key, "ca_issuers_uri") == 0 ||
		    strcmp(key, "crl_dist_points") == 0) &&
		    (why = uri_problem(value)) != NULL) {
			char show[72];
			cm__name_quote(show, sizeof(show), value);
			return cm__fail(ctx, CM_E_INVALID, "%s:%u: %s '%s' is "
			    "not a URI: it %s", origin, line, key, show, why);
		}
		if (strncmp(key, "nc_", 3) == 0) {
			cm__constraint c;
			char tmp[4200];
			/* Reuse the --permit parser: ip as CIDR, email as
			 * @domain, dns as a suffix. */
			snprintf(tmp, sizeof(tmp), "%s%s",
			    strstr(key, "email") ? "@" : "", value);
			if ((strstr(key, "_ip") && !strchr(value, '/')) ||
			    (strstr(key, "_dns") && (strchr(value, '/') ||
			    strchr(value, '@'))) ||
			    cm__constraint_parse(&c, ctx, tmp) != CM_OK)
				return cm__fail(ctx, CM_E_INVALID, "%s:%u: %s "
				    "'%s' is not valid", origin, line, key,
				    value);
		}
		if ((arr[*n] = strdup(value)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		(*n)++;
		return CM_OK;
	}
	default:
		return cm__fail(ctx, CM_E_INVALID, "%s:%u: '%s'", origin, line,
		    key);
	}
}

cm_err
cm_profile_parse(cm_profile **out, cm_ctx *ctx, const char *origin,
    const char *text, size_t len)
{
	cm_profile *p;
	char buf[4096], key[64], value[4096];
	unsigned seen[NKEYS] = { 0 };
	const char *s = text, *e = text + len, *nl;
	unsigned line = 0;
	cm_err err = CM_OK;

	if (len > MAX_PROFILE_SIZE)
		return cm__fail(ctx, CM_E_INVALID, "%s: larger than %d bytes",
		    origin, MAX_PROFILE_SIZE);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	p->expiration_days = -1;
	p->path_len = -2;
	while (s < e) {
		size_t n, kl = 0, vl = 0;
		char *c, *q;
		bool has_value = false;

		line++;
		nl = memchr(s, '\n', (size_t)(e - s));
		n = (size_t)((nl ? nl : e) - s);
		if (n >= sizeof(buf)) {
			err = cm__fail(ctx, CM_E_INVALID, "%s:%u: line longer "
			    "than %zu characters", origin, line,
			    sizeof(buf) - 1);
			goto out;
		}
		memcpy(buf, s, n);
		buf[n] = '\0';
		s = nl ? nl + 1 : e;
		if (memchr(buf, '\0', n) != NULL) {
			err = cm__fail(ctx, CM_E_INVALID, "%s:%u: NUL byte",
			    origin, line);
			goto out;
		}
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
		c = buf;
		while (isspace((unsigned char)*c))
			c++;
		if (*c == '\0' || *c == '#')
			continue;
		while (*c && (isalnum((unsigned char)*c) || *c == '_')) {
			if (kl + 1 >= sizeof(key)) {
				err = cm__fail(ctx, CM_E_INVALID, "%s:%u: key "
				    "too long", origin, line);
				goto out;
			}
			key[kl++] = *c++;
		}
		key[kl] = '\0';
		while (*c == ' ' || *c == '\t')
			c++;
		if (kl == 0 || (*c != '\0' && *c != '=' && *c != '#')) {
			err = cm__fail(ctx, CM_E_INVALID, "%s:%u: expected "
			    "'key = value' or a flag", origin, line);
			goto out;
		}
		if (*c == '=') {
			has_value = true;
			c++;
			while (*c == ' ' || *c == '\t')
				c++;
			if (*c == '"') {
				c++;
				q = strchr(c, '"');
				if (q == NULL) {
					err = cm__fail(ctx, CM_E_INVALID, "%s:%u:"
					    " unterminated quote", origin, line);
					goto out;
				}
				vl = (size_t)(q - c);
				memcpy(value, c, vl);
				c = q + 1;
				while (*c == ' ' || *c == '\t')
					c++;
				if (*c != '\0' && *c != '#') {
					err = cm__fail(ctx, CM_E_INVALID, "%s:%u:"
					    " text after the closing quote",
					    origin, line);
					goto out;
				}
			} else {
				q = strchr(c, '#');
				vl = q ? (size_t)(q - c) : strlen(c);
				while (vl > 0 && isspace((unsigned char)c[vl - 1]))
					vl--;
				memcpy(value, c, vl);
			}
		}
		value[vl] = '\0';
		err = set_key(p, ctx, origin, line, key, value, has_value,
		    seen);
		if (err != CM_OK)
			goto out;
	}
	if (p->path_len != -2 && !p->ca) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: path_len needs 'ca'",
		    origin);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	cm_profile_free(p);
	return err;
}

static cm_err
load_file(cm_profile **out, cm_ctx *ctx, const char *path, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	cm_err err;

	err = cm__file_read(ctx, path, MAX_PROFILE_SIZE, &text, &len);
	if (err == CM_E_NOTFOUND)
		err = cm__fail(ctx, CM_E_NOTFOUND, "profile %s: no such file",
		    path);
	if (err != CM_OK)
		return err;
	err = cm_profile_parse(out, ctx, path, text, len);
	free(text);
	if (err == CM_OK && ((*out)->name = strdup(name)) == NULL) {
		cm_profile_free(*out);
		*out = NULL;
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	return err;
}

cm_err
cm_profile_load(cm_profile **out, cm_ctx *ctx, const cm_store *st,
    const char *ref)
{
	char path[PATH_MAX], origin[64], base[64];
	const char *slash;
	size_t i, n;
	struct stat sb;
	cm_err err;

	if (ref == NULL || ref[0] == '\0')
		return cm__fail(ctx, CM_E_INVALID, "profile name is empty");
	n = strlen(ref);
	if (strchr(ref, '/') != NULL ||
	    (n > 5 && strcmp(ref + n - 5, ".tmpl") == 0)) {
		/* The profile's name is the file's base name, sans .tmpl. */
		slash = strrchr(ref, '/');
		snprintf(base, sizeof(base), "%s", slash ? slash + 1 : ref);
		n = strlen(base);
		if (n > 5 && strcmp(base + n - 5, ".tmpl") == 0)
			base[n - 5] = '\0';
		return load_file(out, ctx, ref, base);
	}
	if (st != NULL) {
		snprintf(path, sizeof(path), "%s/profiles/%s.tmpl",
		    cm_store_dir(st), ref);
		if (stat(path, &sb) == 0)
			return load_file(out, ctx, path, ref);
	}
	for (i = 0; cm__templates[i].name != NULL; i++) {
		if (strcmp(cm__templates[i].name, ref) != 0)
			continue;
		snprintf(origin, sizeof(origin), "templates/%s.tmpl", ref);
		err = cm_profile_parse(out, ctx, origin, cm__templates[i].text,
		    strlen(cm__templates[i].text));
		if (err == CM_OK && ((*out)->name = strdup(ref)) == NULL) {
			cm_profile_free(*out);
			*out = NULL;
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		}
		return err;
	}
	return cm__fail(ctx, CM_E_NOTFOUND, "profile '%s' not found (built-in:"
	    " server, client, peer, root-ca, intermediate-ca, ocsp-signer; or "
	    "a path to a .tmpl file)", ref);
}
