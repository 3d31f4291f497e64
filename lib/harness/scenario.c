/*
 * scenario.c - the scenario file parser (format: docs/scenarios.md).
 *
 * Line based and strict, like wireguard-tools' config parser: every line is
 * blank, a '#' comment, a section header "[scenario NAME]" or
 * "[defaults]", or "key = value"; anything else names file and line.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAX_FILE (4u << 20)
#define MAX_PEM (1u << 20)
#define MAX_SCENARIOS 4096

typedef struct pctx {
	cm_ctx *ctx;
	cm_store *st;
	const char *origin;
	const char *dir;
	unsigned line;
} pctx;

/* The raw values of one section, before they are resolved. */
enum key {
	K_SERVER_CERT, K_SERVER_KEY, K_TRUST, K_NAME, K_CLIENT_CERT,
	K_CLIENT_KEY, K_CLIENT_AUTH, K_CLIENT_TRUST, K_PRIORITY,
	K_CLIENT_PRIORITY, K_VERSION, K_EXPECT, K_NOTE, K_EXPECT_ALSO,
	K_NAME_TYPE, K_CRL, K_OCSP_STAPLE, K_CLIENT_CRL, K_NKEYS
};
static const char *const keys[K_NKEYS] = {
	"server_cert", "server_key", "trust", "name", "client_cert",
	"client_key", "client_auth", "client_trust", "priority",
	"client_priority", "version", "expect", "note", "expect_also",
	"name_type", "crl", "ocsp_staple", "client_crl"
};

typedef struct section {
	char *name;            /* NULL: defaults */
	unsigned line;
	char *val[K_NKEYS];
	unsigned vline[K_NKEYS];
} section;

static void
section_clear(section *s)
{
	size_t i;

	free(s->name);
	for (i = 0; i < K_NKEYS; i++)
		free(s->val[i]);
	memset(s, 0, sizeof(*s));
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static cm_err perr(pctx *p, unsigned line, const char *fmt, ...)
    CM_PRINTF(3, 4);

/* "FILE:LINE: message". */
static cm_err
perr(pctx *p, unsigned line, const char *fmt, ...)
{
	char msg[CM_ERRBUF];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cm__fail(p->ctx, CM_E_INVALID, "%s:%u: %s", p->origin, line,
	    msg);
}

/* path relative to the scenario file's folder. */
static cm_err
read_rel(char **out, pctx *p, unsigned line, const char *path)
{
	char full[4096];
	size_t len;
	cm_err err;

	if (path[0] == '/' || p->dir == NULL)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", p->dir, path);
	if ((err = cm__file_read(p->ctx, full, MAX_PEM, out, &len)) != CM_OK) {
		char msg[CM_ERRBUF];
		snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
		return cm__fail(p->ctx, err, "%s:%u: %s", p->origin, line, msg);
	}
	return CM_OK;
}

static bool
rel_exists(pctx *p, const char *path)
{
	char full[4096];

	if (path[0] == '/' || p->dir == NULL)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", p->dir, path);
	return access(full, R_OK) == 0;
}

static char *
cat2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s != NULL) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

/* A store CA's certificate (ca:NAME), or its root with root true. */
static cm_err
ca_pem(char **out, pctx *p, unsigned line, const char *name)
{
	cm_ca_info *ca = NULL;
	cm_err err;

	if (p->st == NULL)
		return perr(p, line, "'ca:%s' needs a store", name);
	if ((err = cm__ca_get_uncounted(&ca, p->st, name)) != CM_OK) {
		char msg[CM_ERRBUF];
		snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
		return cm__fail(p->ctx, err, "%s:%u: %s", p->origin, line, msg);
	}
	*out = cm__strdup(ca->pem);
	cm_ca_info_free(ca);
	return *out ? CM_OK : cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
}

/* A stored certificate: leaf + intermediates, and its kept key. */
static cm_err
store_cert(char **chain, char **key, pctx *p, unsigned line,
    const char *ref)
{
	cm_cert_info *info = NULL;
	cm_ca_info *ca = NULL;
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t d = { NULL, 0 };
	char *c = NULL, *parent = NULL, *tmp;
	int depth;
	cm_err err;

	if (p->st == NULL)
		return perr(p, line, "'%s' is not a readable file and no store "
		    "is open", ref);
	if ((err = cm_cert_find(&info, p->st, ref)) != CM_OK)
		goto fail;
	c = cm__strdup(info->pem);
	/* A lost copy would end the chain early, silently. */
	if ((parent = cm__strdup(info->ca)) == NULL)
		goto nomem;
	for (depth = 0; c && parent && depth < 16; depth++) {
		if ((err = cm__ca_get_uncounted(&ca, p->st, parent)) != CM_OK)
			goto fail;
		free(parent);
		parent = NULL;
		if (ca->parent != NULL) {
			tmp = cat2(c, ca->pem);
			free(c);
			c = tmp;
			if ((parent = cm__strdup(ca->parent)) == NULL)
				goto nomem;
		}
		cm_ca_info_free(ca);
		ca = NULL;
	}
	if (c == NULL) {
nomem:
		err = cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if (key != NULL) {
		if ((err = cm__cert_key_load(&xk, p->st, info->ca,
		    info->serial)) != CM_OK)
			goto fail;
		if (gnutls_x509_privkey_export2(xk, GNUTLS_X509_FMT_PEM,
		    &d) < 0) {
			err = cm__fail(p->ctx, CM_E_CRYPTO, "%s:%u: key of "
			    "certificate %s", p->origin, line, info->serial);
			goto out;
		}
		if ((*key = malloc(d.size + 1)) == NULL)
			goto nomem;
		memcpy(*key, d.data, d.size);
		(*key)[d.size] = '\0';
	}
	*chain = c;
	c = NULL;
	goto out;
fail:
	{
		char msg[CM_ERRBUF];
		snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
		err = cm__fail(p->ctx, err, "%s:%u: %s", p->origin, line, msg);
	}
out:
	if (d.data) {
		gnutls_memset(d.data, 0, d.size);
		gnutls_free(d.data);
	}
	if (xk)
		gnutls_x509_privkey_deinit(xk);
	free(c);
	free(parent);
	cm_ca_info_free(ca);
	cm_cert_info_free(info);
	return err;
}

/* A certificate value: file:PATH, cert:REF, an existing file, else a ref. */
static cm_err pem_certs(char **out, pctx *p, unsigned line,
    const char *key, const char *path);

static cm_err
cert_value(char **chain, char **key, pctx *p, unsigned line, const char *k,
    const char *v)
{
	if (strncmp(v, "file:", 5) == 0)
		return pem_certs(chain, p, line, k, v + 5);
	if (strncmp(v, "cert:", 5) == 0)
		return store_cert(chain, key, p, line, v + 5);
	if (rel_exists(p, v))
		return pem_certs(chain, p, line, k, v);
	return store_cert(chain, key, p, line, v);
}

/* A file named by KEY must hold PEM certificates, not anything readable
 * (trust = /etc/shadow is a bad value, issue 14 item 7). */
static cm_err
pem_certs(char **out, pctx *p, unsigned line, const char *key,
    const char *path)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;
	gnutls_datum_t d;
	cm_err err;
	int ret;

	if ((err = read_rel(out, p, line, path)) != CM_OK)
		return err;
	d.data = (unsigned char *)*out;
	d.size = (unsigned)strlen(*out);
	ret = gnutls_x509_crt_list_import2(&crts, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0);
	if (ret == GNUTLS_E_MEMORY_ERROR) {
		err = cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
		goto bad;
	}
	if (ret < 0 || n == 0) {
		err = perr(p, line, "%s '%s' is not a file of PEM certificates",
		    key, path);
		goto bad;
	}
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return CM_OK;
bad:
	free(*out);
	*out = NULL;
	return err;
}

/* A trust value: ca:NAME, file:PATH or a file. */
static cm_err
trust_value(char **out, pctx *p, unsigned line, const char *key,
    const char *v)
{
	if (strncmp(v, "ca:", 3) == 0)
		return ca_pem(out, p, line, v + 3);
	if (strncmp(v, "file:", 5) == 0)
		v += 5;
	return pem_certs(out, p, line, key, v);
}

/* Prefixes a store error with the file and line. */
static cm_err
at_line(pctx *p, unsigned line, cm_err err)
{
	char msg[CM_ERRBUF];

	snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
	return cm__fail(p->ctx, err, "%s:%u: %s", p->origin, line, msg);
}

/* A file relative to the scenario file's folder, with its length (DER). */
static cm_err
read_rel_len(char **out, size_t *len, pctx *p, unsigned line,
    const char *path)
{
	char full[4096];
	cm_err err;

	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	if (path[0] == '/' || p->dir == NULL)
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", p->dir, path);
	if ((err = cm__file_read(p->ctx, full, MAX_FILE, out, len)) != CM_OK)
		return at_line(p, line, err);
	return CM_OK;
}

/* A key file in any common form (PKCS#8, SEC1, PKCS#1; PEM or DER), as
 * PKCS#8 PEM for GnuTLS. */
static cm_err
key_rel(char **out, pctx *p, unsigned line, const char *path)
{
	char *raw = NULL, what[300];
	size_t len = 0;
	cm_err err;

	if ((err = read_rel_len(&raw, &len, p, line, path)) != CM_OK)
		return err;
	snprintf(what, sizeof(what), "%s:%u: %s", p->origin, line, path);
	err = cm__key_pem_any(out, p->ctx, raw, len, what);
	cm__free_secret(raw, len);
	return err;
}

/* A CRL for the client (key "crl") or the server ("client_crl"):
 * ca:NAME (its current CRL, built from the store) or a file, PEM or DER. */
static cm_err
crl_value(char **out, pctx *p, unsigned line, const char *key,
    const char *v)
{
	gnutls_datum_t in, pem = { NULL, 0 };
	char *raw = NULL;
	size_t len = 0;
	cm_err err;

	if (strncmp(v, "ca:", 3) == 0) {
		if (p->st == NULL)
			return perr(p, line, "%s '%s' needs a store", key, v);
		if ((err = cm__harness_ca_crl(out, p->st, v + 3)) != CM_OK)
			return at_line(p, line, err);
		return CM_OK;
	}
	if ((err = read_rel_len(&raw, &len, p, line, v)) != CM_OK)
		return err;
	if (memmem(raw, len, "-----BEGIN X509 CRL-----", 24) != NULL) {
		*out = raw;
		return CM_OK;
	}
	in.data = (unsigned char *)raw;
	in.size = (unsigned)len;
	if (len < 2 || (unsigned char)raw[0] != 0x30 ||
	    gnutls_pem_base64_encode2("X509 CRL", &in, &pem) < 0) {
		err = perr(p, line, "%s '%s' is neither a PEM nor a DER CRL",
		    key, v);
		goto out;
	}
	if ((*out = malloc(pem.size + 1)) == NULL) {
		err = cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, pem.data, pem.size);
	(*out)[pem.size] = '\0';
out:
	gnutls_free(pem.data);
	free(raw);
	return err;
}

/* The server's staple: auto (a fresh response from the store for
 * server_cert) or a file with a DER OCSPResponse. */
static cm_err
staple_value(cm_scenario *sc, pctx *p, unsigned line, const char *v)
{
	char *raw = NULL;
	size_t len = 0;
	cm_err err;

	if (strcmp(v, "auto") == 0) {
		if (p->st == NULL)
			return perr(p, line, "ocsp_staple auto needs a store");
		if ((err = cm__harness_staple(&sc->ocsp_staple,
		    &sc->ocsp_staple_len, p->st, sc->server_chain)) != CM_OK)
			return at_line(p, line, err);
		return CM_OK;
	}
	if ((err = read_rel_len(&raw, &len, p, line, v)) != CM_OK)
		return err;
	/* An OCSPResponse is a DER SEQUENCE. */
	if (len < 2 || (unsigned char)raw[0] != 0x30) {
		free(raw);
		return perr(p, line, "ocsp_staple '%s' is not a DER OCSP "
		    "response", v);
	}
	sc->ocsp_staple = (unsigned char *)raw;
	sc->ocsp_staple_len = len;
	return CM_OK;
}

static const char *
get(const section *s, const section *d, enum key k, unsigned *line)
{
	if (s->val[k] != NULL) {
		*line = s->vline[k];
		return s->val[k];
	}
	*line = d->vline[k];
	return d->val[k];
}

static cm_err
resolve(cm_scenario **out, pctx *p, const section *s, const section *d)
{
	cm_scenario *sc;
	const char *v;
	unsigned line;
	cm_err err = CM_OK;

	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->name = cm__strdup(s->name)) == NULL) {
		free(sc);
		return cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
	}
	sc->version = CM_SCENARIO_VERSION;

	if ((v = get(s, d, K_SERVER_CERT, &line)) == NULL) {
		err = perr(p, s->line, "scenario '%s': server_cert is missing",
		    s->name);
		goto out;
	}
	if ((err = cert_value(&sc->server_chain, &sc->server_key, p, line,
	    "server_cert", v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_SERVER_KEY, &line)) != NULL) {
		if (sc->server_key)
			cm__free_secret(sc->server_key, strlen(sc->server_key));
		sc->server_key = NULL;
		if ((err = key_rel(&sc->server_key, p, line, v)) != CM_OK)
			goto out;
	} else if (sc->server_key == NULL) {
		err = perr(p, s->line, "scenario '%s': server_key is missing "
		    "(server_cert is a file)", s->name);
		goto out;
	}
	if ((v = get(s, d, K_TRUST, &line)) == NULL) {
		err = perr(p, s->line, "scenario '%s': trust is missing",
		    s->name);
		goto out;
	}
	if ((err = trust_value(&sc->trust, p, line, "trust", v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_NAME, &line)) != NULL &&
	    (sc->expected_name = cm__strdup(v)) == NULL)
		goto nomem;
	if ((v = get(s, d, K_NAME_TYPE, &line)) != NULL) {
		if (strcmp(v, "dns") == 0)
			sc->name_as_dns = true;
		else if (strcmp(v, "auto") != 0) {
			err = perr(p, line, "name_type '%s': auto or dns", v);
			goto out;
		}
	}
	if ((v = get(s, d, K_CLIENT_CERT, &line)) != NULL &&
	    (err = cert_value(&sc->client_chain, &sc->client_key, p, line,
	    "client_cert", v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_CLIENT_KEY, &line)) != NULL) {
		if (sc->client_chain == NULL) {
			err = perr(p, line, "client_key without client_cert");
			goto out;
		}
		if (sc->client_key)
			cm__free_secret(sc->client_key, strlen(sc->client_key));
		sc->client_key = NULL;
		if ((err = key_rel(&sc->client_key, p, line, v)) != CM_OK)
			goto out;
	} else if (sc->client_chain != NULL && sc->client_key == NULL) {
		err = perr(p, s->line, "scenario '%s': client_key is missing "
		    "(client_cert is a file)", s->name);
		goto out;
	}
	if ((v = get(s, d, K_CLIENT_AUTH, &line)) != NULL) {
		if (strcmp(v, "none") == 0)
			sc->client_auth = CM_CLIENT_AUTH_NONE;
		else if (strcmp(v, "request") == 0)
			sc->client_auth = CM_CLIENT_AUTH_REQUEST;
		else if (strcmp(v, "require") == 0)
			sc->client_auth = CM_CLIENT_AUTH_REQUIRE;
		else {
			err = perr(p, line, "client_auth '%s': none, request or "
			    "require", v);
			goto out;
		}
	}
	if ((v = get(s, d, K_CLIENT_TRUST, &line)) != NULL &&
	    (err = trust_value(&sc->client_trust, p, line,
	    "client_trust", v)) != CM_OK)
		goto out;
	if (sc->client_auth != CM_CLIENT_AUTH_NONE && sc->client_trust ==
	    NULL) {
		err = perr(p, s->line, "scenario '%s': client_auth needs "
		    "client_trust", s->name);
		goto out;
	}
	if ((v = get(s, d, K_VERSION, &line)) != NULL) {
		const char *pr = NULL;
		if (strcmp(v, "tls1.2") == 0)
			pr = CM_PRIORITY_TLS12;
		else if (strcmp(v, "tls1.3") == 0)
			pr = CM_PRIORITY_TLS13;
		else if (strcmp(v, "any") != 0) {
			err = perr(p, line, "version '%s': tls1.2, tls1.3 or "
			    "any", v);
			goto out;
		}
		if (pr && (sc->priority = cm__strdup(pr)) == NULL)
			goto nomem;
	}
	if ((v = get(s, d, K_PRIORITY, &line)) != NULL) {
		if (sc->priority != NULL) {
			err = perr(p, line, "priority and version together");
			goto out;
		}
		if ((sc->priority = cm__strdup(v)) == NULL)
			goto nomem;
	}
	if ((v = get(s, d, K_CLIENT_PRIORITY, &line)) != NULL &&
	    (sc->client_priority = cm__strdup(v)) == NULL)
		goto nomem;
	if ((v = get(s, d, K_NOTE, &line)) != NULL &&
	    (sc->note = cm__strdup(v)) == NULL)
		goto nomem;
	if ((v = get(s, d, K_CRL, &line)) != NULL &&
	    (err = crl_value(&sc->crl, p, line, "crl", v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_OCSP_STAPLE, &line)) != NULL &&
	    (err = staple_value(sc, p, line, v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_CLIENT_CRL, &line)) != NULL &&
	    (err = crl_value(&sc->client_crl, p, line, "client_crl",
	    v)) != CM_OK)
		goto out;
	if ((v = get(s, d, K_EXPECT, &line)) == NULL) {
		err = perr(p, s->line, "scenario '%s': expect is missing",
		    s->name);
		goto out;
	}
	if (cm_outcome_parse(&sc->expect, p->ctx, v) != CM_OK) {
		char msg[CM_ERRBUF];
		snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
		err = cm__fail(p->ctx, CM_E_INVALID, "%s:%u: %s", p->origin,
		    line, msg);
		goto out;
	}
	if ((v = get(s, d, K_EXPECT_ALSO, &line)) != NULL) {
		if (cm_outcome_parse(&sc->expect_also, p->ctx, v) != CM_OK) {
			char msg[CM_ERRBUF];
			snprintf(msg, sizeof(msg), "%s", cm_ctx_error(p->ctx));
			err = cm__fail(p->ctx, CM_E_INVALID, "%s:%u: %s",
			    p->origin, line, msg);
			goto out;
		}
		sc->has_also = true;
	}
	*out = sc;
	sc = NULL;
	goto out;
nomem:
	err = cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
out:
	cm_scenario_free(sc);
	return err;
}

static bool
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

cm_err
cm_scenario_parse(cm_scenario ***out, size_t *n, cm_ctx *ctx, cm_store *st,
    const char *origin, const char *dir, const char *text, size_t len)
{
	pctx p = { ctx, st, origin, dir, 0 };
	section defs, cur, *secs = NULL;
	size_t nsecs = 0, i, j;
	cm_scenario **v = NULL;
	char *buf = NULL, *line, *next, *eq, *k, *val;
	bool in_section = false, in_defaults = false;
	cm_err err = CM_OK;

	memset(&defs, 0, sizeof(defs));
	memset(&cur, 0, sizeof(cur));
	if (memchr(text, '\0', len) != NULL)
		return cm__fail(ctx, CM_E_INVALID, "%s: has a NUL byte", origin);
	if ((buf = malloc(len + 1)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	memcpy(buf, text, len);
	buf[len] = '\0';

	for (line = buf; line != NULL; line = next) {
		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');
			if (end == NULL || trim(end + 1)[0] != '\0') {
				err = perr(&p, p.line, "bad section header");
				goto out;
			}
			*end = '\0';
			k = trim(line + 1);
			if (in_section && !in_defaults) {
				section *ns = realloc(secs, (nsecs + 1) *
				    sizeof(*ns));
				if (ns == NULL)
					goto nomem;
				secs = ns;
				secs[nsecs++] = cur;
				memset(&cur, 0, sizeof(cur));
			}
			if (strcmp(k, "defaults") == 0) {
				if (defs.line != 0 || nsecs > 0 ||
				    (in_section && !in_defaults)) {
					err = perr(&p, p.line, "[defaults] must "
					    "come once, first");
					goto out;
				}
				defs.line = p.line;
				in_defaults = true;
			} else if (strncmp(k, "scenario", 8) == 0 &&
			    (k[8] == ' ' || k[8] == '\t')) {
				val = trim(k + 8);
				if (!valid_name(val)) {
					err = perr(&p, p.line, "scenario name "
					    "'%s' must be 1-200 printable "
					    "characters without spaces", val);
					goto out;
				}
				for (i = 0; i < nsecs; i++)
					if (strcmp(secs[i].name, val) == 0) {
						err = perr(&p, p.line, "scenario "
						    "'%s' is defined twice", val);
						goto out;
					}
				if (nsecs >= MAX_SCENARIOS) {
					err = perr(&p, p.line, "too many "
					    "scenarios");
					goto out;
				}
				if ((cur.name = cm__strdup(val)) == NULL)
					goto nomem;
				cur.line = p.line;
				in_defaults = false;
			} else {
				err = perr(&p, p.line, "unknown section '[%s]' "
				    "(scenario NAME, defaults)", k);
				goto out;
			}
			in_section = true;
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			err = perr(&p, p.line, "expected 'key = value'");
			goto out;
		}
		*eq = '\0';
		k = trim(line);
		val = trim(eq + 1);
		for (i = 0; i < K_NKEYS; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (i == K_NKEYS) {
			err = perr(&p, p.line, "unknown key '%s'", k);
			goto out;
		}
		if (!in_section) {
			err = perr(&p, p.line, "key '%s' outside a section",
			    k);
			goto out;
		}
		if (*val == '\0') {
			err = perr(&p, p.line, "key '%s' has no value", k);
			goto out;
		}
		{
			section *s = in_defaults ? &defs : &cur;
			if (s->val[i] != NULL) {
				err = perr(&p, p.line, "key '%s' given twice", k);
				goto out;
			}
			if ((s->val[i] = cm__strdup(val)) == NULL)
				goto nomem;
			s->vline[i] = p.line;
		}
	}
	if (in_section && !in_defaults) {
		section *ns = realloc(secs, (nsecs + 1) * sizeof(*ns));
		if (ns == NULL)
			goto nomem;
		secs = ns;
		secs[nsecs++] = cur;
		memset(&cur, 0, sizeof(cur));
	}
	if (nsecs == 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: no [scenario NAME] "
		    "section", origin);
		goto out;
	}
	if ((v = calloc(nsecs, sizeof(*v))) == NULL)
		goto nomem;
	for (j = 0; j < nsecs; j++)
		if ((err = resolve(&v[j], &p, &secs[j], &defs)) != CM_OK)
			goto out;
	*out = v;
	*n = nsecs;
	v = NULL;
	goto out;
nomem:
	err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
out:
	cm_scenario_list_free(v, nsecs);
	for (j = 0; j < nsecs; j++)
		section_clear(&secs[j]);
	free(secs);
	section_clear(&cur);
	section_clear(&defs);
	free(buf);
	return err;
}

cm_err
cm_scenario_file_load(cm_scenario ***out, size_t *n, cm_ctx *ctx,
    cm_store *st, const char *path)
{
	char *text = NULL, dir[4096], *slash;
	size_t len = 0;
	cm_err err;

	if ((err = cm__file_read(ctx, path, MAX_FILE, &text, &len)) != CM_OK)
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	err = cm_scenario_parse(out, n, ctx, st, path, dir, text, len);
	free(text);
	return err;
}

cm_err
cm_scenario_load_cert(char **chain, char **key, cm_store *st,
    const char *ref)
{
	pctx p = { cm__store_ctx(st), st, "certificate", NULL, 0 };
	char *c = NULL, *k = NULL;
	cm_err err;

	if ((err = store_cert(&c, key ? &k : NULL, &p, 0, ref)) != CM_OK) {
		/* Drop the "certificate:0: " prefix: there is no file. */
		char msg[CM_ERRBUF];
		const char *m = cm_ctx_error(p.ctx);
		if (strncmp(m, "certificate:0: ", 15) == 0)
			m += 15;
		snprintf(msg, sizeof(msg), "%s", m);
		return cm__fail(p.ctx, err, "%s", msg);
	}
	*chain = c;
	if (key)
		*key = k;
	return CM_OK;
}
