/* verify.c - chain verification without a handshake, explained by class. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_CERTS 256           /* per input file */
#define MAX_DEPTH 16            /* GnuTLS's own default verify depth */
#define VERIFY_MAX_INPUT (4u << 20)

/* ---- RFC 3339 times ------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm(), no TZ. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* Reads exactly n digits. */
static bool
digits(const char **p, unsigned n, unsigned *out)
{
	unsigned v = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	*out = v;
	return true;
}

cm_err
cm_time_parse(time_t *out, cm_ctx *ctx, const char *text)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	const char *p = text;
	unsigned y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0;
	long long t, off = 0;

	if (text == NULL)
		goto bad;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0))))
		goto bad;
	if (*p == '\0')
		goto done;
	/* RFC 3339 5.6: 'T' (or, as its note allows, a space). */
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &s))
		goto bad;
	/* A leap second (60) is read as the next second. */
	if (h > 23 || mi > 59 || s > 60)
		goto bad;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
		off = sign * (long long)(oh * 3600 + om * 60);
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
done:
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
	if ((long long)(time_t)t != t)
		goto bad;
	*out = (time_t)t;
	return CM_OK;
bad:
	return cm__fail(ctx, CM_E_INVALID, "time '%s' is not RFC 3339 "
	    "(2026-01-02T03:04:05Z) or a date (2026-01-02)",
	    text ? text : "");
}

/* ---- certificate lists ----------------------------------------------- */

typedef struct crt_list {
	gnutls_x509_crt_t *v;
	unsigned n;
} crt_list;

static void
crt_list_clear(crt_list *l)
{
	unsigned i;

	for (i = 0; l->v != NULL && i < l->n; i++)
		gnutls_x509_crt_deinit(l->v[i]);
	gnutls_free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Reads certificates from data (or the file path) as PEM, or one DER. */
static cm_err
load_certs(crt_list *out, cm_ctx *ctx, const char *what, const char *path,
    const char *data, size_t len)
{
	gnutls_datum_t d;
	char *buf = NULL;
	size_t n = 0;
	unsigned cnt = 0;
	gnutls_x509_crt_t *v = NULL;
	int ret;
	cm_err err = CM_OK;
	const char *name = path ? path : what;

	if (data == NULL) {
		if (path == NULL)
			return cm__fail(ctx, CM_E_INVALID, "%s: no input",
			    what);
		err = cm__file_read(ctx, path, VERIFY_MAX_INPUT, &buf, &n);
		if (err != CM_OK)
			return err;
		data = buf;
		len = n;
	}
	if (len > VERIFY_MAX_INPUT) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: larger than %u bytes",
		    name, VERIFY_MAX_INPUT);
		goto out;
	}
	d.data = (unsigned char *)(uintptr_t)data;
	d.size = (unsigned)len;
	if (len > 0 && memmem(data, len, "-----BEGIN", 10) != NULL) {
		ret = gnutls_x509_crt_list_import2(&v, &cnt, &d,
		    GNUTLS_X509_FMT_PEM, 0);
	} else {
		/* Anything without a PEM header is taken as one DER cert. */
		if ((v = gnutls_malloc(sizeof(*v))) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((ret = gnutls_x509_crt_init(&v[0])) == 0) {
			ret = gnutls_x509_crt_import(v[0], &d,
			    GNUTLS_X509_FMT_DER);
			if (ret < 0)
				gnutls_x509_crt_deinit(v[0]);
			else
				cnt = 1;
		}
		if (ret < 0) {
			gnutls_free(v);
			v = NULL;
		}
	}
	if (ret < 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: not a certificate "
		    "(PEM or DER): %s", name, gnutls_strerror(ret));
		goto out;
	}
	if (cnt == 0 || cnt > MAX_CERTS) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: %u certificates (1 "
		    "to %u expected)", name, cnt, MAX_CERTS);
		goto out;
	}
	out->v = v;
	out->n = cnt;
	v = NULL;
	cnt = 0;
out:
	if (v != NULL) {
		while (cnt-- > 0)
			gnutls_x509_crt_deinit(v[cnt]);
		gnutls_free(v);
	}
	free(buf);
	return err;
}

/* Appends b's certificates to a (ownership moves). */
static cm_err
crt_list_take(crt_list *a, crt_list *b, cm_ctx *ctx)
{
	gnutls_x509_crt_t *v;

	if (b->n == 0)
		return CM_OK;
	v = gnutls_realloc(a->v, (a->n + b->n) * sizeof(*v));
	if (v == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	memcpy(v + a->n, b->v, b->n * sizeof(*v));
	a->v = v;
	a->n += b->n;
	gnutls_free(b->v);
	b->v = NULL;
	b->n = 0;
	return CM_OK;
}

static char *
subject_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t dn = { NULL, 0 };
	char *s;

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
		return cm__strdup("(unreadable subject)");
	s = cm__strdup(dn.size > 0 ? (const char *)dn.data : "(empty subject)");
	gnutls_free(dn.data);
	return s;
}

static char *
issuer_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t dn = { NULL, 0 };
	char *s;

	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) < 0)
		return cm__strdup("(unreadable issuer)");
	s = cm__strdup(dn.size > 0 ? (const char *)dn.data : "(empty issuer)");
	gnutls_free(dn.data);
	return s;
}

/* ---- the verdict ---------------------------------------------------- */

void
cm_verify_result_free(cm_verify_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nreasons; i++)
		free(r->reasons[i]);
	free(r->reasons);
	for (i = 0; i < r->nchain; i++)
		free(r->chain[i]);
	free(r->chain);
	free(r->explanation);
	free(r->failing);
	free(r);
}

static const struct {
	unsigned bit;
	const char *token;
} status_tokens[] = {
	{ GNUTLS_CERT_REVOKED, "revoked" },
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, "signer-not-found" },
	{ GNUTLS_CERT_SIGNER_NOT_CA, "signer-not-ca" },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure-algorithm" },
	{ GNUTLS_CERT_NOT_ACTIVATED, "not-activated" },
	{ GNUTLS_CERT_EXPIRED, "expired" },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, "signature-failure" },
	{ GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED,
	    "revocation-data-superseded" },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, "unexpected-owner" },
	{ GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE,
	    "revocation-data-issued-in-future" },
	{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
	    "signer-constraints-failure" },
	{ GNUTLS_CERT_MISMATCH, "mismatch" },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, "purpose-mismatch" },
	{ GNUTLS_CERT_MISSING_OCSP_STATUS, "missing-ocsp-status" },
	{ GNUTLS_CERT_INVALID_OCSP_STATUS, "invalid-ocsp-status" },
	{ GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, "unknown-critical-extensions" },
};
#define NTOKENS (sizeof(status_tokens) / sizeof(status_tokens[0]))

static cm_err
set_reasons(cm_verify_result *r, cm_ctx *ctx)
{
	size_t i;

	if ((r->reasons = calloc(NTOKENS + 1, sizeof(char *))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (i = 0; i < NTOKENS; i++) {
		if (!(r->status & status_tokens[i].bit))
			continue;
		if ((r->reasons[r->nreasons] =
		    cm__strdup(status_tokens[i].token)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		r->nreasons++;
	}
	return CM_OK;
}

/* Validity of crt at t, as GnuTLS's own check does it: an unreadable time
 * (-1) fails too. */
static unsigned
time_status(gnutls_x509_crt_t crt, time_t t)
{
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);

	if (nb == (time_t)-1 || t < nb)
		return GNUTLS_CERT_NOT_ACTIVATED | GNUTLS_CERT_INVALID;
	if (na == (time_t)-1 || t > na)
		return GNUTLS_CERT_EXPIRED | GNUTLS_CERT_INVALID;
	return 0;
}

/*
 * The path from the leaf up through the given intermediates to the first
 * certificate a trust anchor issued (the anchor is appended), or as far as
 * issuers can be found.  GnuTLS does the same search inside
 * gnutls_x509_trust_list_verify_crt2() but does not return the path; we
 * need it to report the chain and to check validity at another time.
 * path[] borrows from pool; *anchor is a copy owned by the caller.
 */
static unsigned
build_path(gnutls_x509_crt_t *path, gnutls_x509_crt_t *anchor,
    gnutls_x509_trust_list_t tl, const crt_list *pool)
{
	bool used[MAX_CERTS * 2 + 1];
	unsigned n = 1, i;
	gnutls_x509_crt_t cur, iss;

	memset(used, 0, sizeof(used));
	path[0] = pool->v[0];
	used[0] = true;
	*anchor = NULL;
	while (n < MAX_DEPTH) {
		cur = path[n - 1];
		iss = NULL;
		if (gnutls_x509_trust_list_get_issuer(tl, cur, &iss,
		    GNUTLS_TL_GET_COPY) == 0 && iss != NULL) {
			/* A trusted certificate given in the chain is its
			 * own anchor. */
			if (gnutls_x509_crt_equals(iss, cur))
				gnutls_x509_crt_deinit(iss);
			else
				*anchor = iss;
			break;
		}
		for (i = 1; i < pool->n && i < sizeof(used); i++)
			if (!used[i] &&
			    gnutls_x509_crt_check_issuer(cur, pool->v[i]) &&
			    !gnutls_x509_crt_equals(cur, pool->v[i]))
				break;
		if (i >= pool->n || i >= sizeof(used))
			break;
		used[i] = true;
		path[n++] = pool->v[i];
	}
	return n;
}

/* Is crt (one of ours, not a copy) a trust anchor itself? */
static bool
is_anchor(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t crt)
{
	gnutls_x509_crt_t iss = NULL;
	bool yes = false;

	if (gnutls_x509_trust_list_get_issuer(tl, crt, &iss,
	    GNUTLS_TL_GET_COPY) == 0 && iss != NULL) {
		yes = gnutls_x509_crt_equals(iss, crt) != 0;
		gnutls_x509_crt_deinit(iss);
	}
	return yes;
}

/* Index of the first certificate whose link to its issuer fails on its
 * own (signature, CA bit, algorithm), or 0 (the leaf) when none does. */
static unsigned
failing_link(gnutls_x509_crt_t *full, unsigned n, unsigned vflags)
{
	unsigned i, st;

	for (i = n - 1; i-- > 0;) {
		st = 0;
		if (gnutls_x509_crt_verify(full[i], &full[i + 1], 1,
		    vflags | GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &st) == 0 &&
		    (st & (GNUTLS_CERT_SIGNER_NOT_CA |
		    GNUTLS_CERT_SIGNATURE_FAILURE |
		    GNUTLS_CERT_INSECURE_ALGORITHM |
		    GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)))
			return i;
	}
	return 0;
}

static const char *
purpose_label(cm_verify_purpose p)
{
	return p == CM_VERIFY_SERVER ? "TLS server" :
	    p == CM_VERIFY_CLIENT ? "TLS client" : "any purpose";
}

/* The one-line explanation, by class, naming the certificate at fault:
 * "<class>: <pre>'<subject>'<post>". */
static cm_err
explain(cm_verify_result *r, cm_ctx *ctx, gnutls_x509_crt_t *full,
    unsigned nfull, unsigned time_fail, const cm_verify_opts *o,
    unsigned vflags)
{
	char pre[512] = "", post[512] = "", ts[32], when[32], msg[1400];
	gnutls_x509_crt_t at_fault = full[0];
	char *iss = NULL;
	unsigned i;

	cm__rfc3339(when, sizeof(when), r->at);
	switch (r->outcome) {
	case CM_OUTCOME_OK:
		snprintf(post, sizeof(post), " is valid%s%s%s for %s at %s; "
		    "%zu certificate%s up to trust anchor '%s'",
		    o->name ? " for '" : "", o->name ? o->name : "",
		    o->name ? "'" : "", purpose_label(o->purpose), when,
		    r->nchain, r->nchain == 1 ? "" : "s",
		    r->chain[r->nchain - 1]);
		break;
	case CM_OUTCOME_UNTRUSTED:
		if ((r->status & GNUTLS_CERT_SIGNER_NOT_FOUND) &&
		    !r->anchored) {
			at_fault = full[nfull - 1];
			iss = issuer_of(at_fault);
			snprintf(pre, sizeof(pre), "no trust anchor or given "
			    "intermediate is the issuer '%s' of ",
			    iss ? iss : "?");
			break;
		}
		at_fault = full[failing_link(full, nfull, vflags)];
		if (r->status & GNUTLS_CERT_INSECURE_ALGORITHM) {
			snprintf(post, sizeof(post), " or its issuer uses an "
			    "insecure algorithm or key");
		} else if (r->status & GNUTLS_CERT_SIGNER_NOT_CA) {
			snprintf(pre, sizeof(pre), "the issuer of ");
			snprintf(post, sizeof(post), " is not a CA");
		} else if (r->status & GNUTLS_CERT_SIGNATURE_FAILURE) {
			snprintf(pre, sizeof(pre), "the signature on ");
			snprintf(post, sizeof(post), " does not verify");
		} else if (r->status &
		    GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE) {
			snprintf(post, sizeof(post), " breaks an issuer's path "
			    "length or key usage (keyCertSign) constraint");
		} else {
			snprintf(pre, sizeof(pre), "no valid path to a trust "
			    "anchor from ");
		}
		break;
	case CM_OUTCOME_EXPIRED:
	case CM_OUTCOME_NOT_YET_VALID:
		for (i = 0; i < nfull; i++)
			if (time_status(full[i], r->at) & time_fail)
				break;
		at_fault = full[i < nfull ? i : 0];
		cm__rfc3339(ts, sizeof(ts), r->outcome == CM_OUTCOME_EXPIRED ?
		    gnutls_x509_crt_get_expiration_time(at_fault) :
		    gnutls_x509_crt_get_activation_time(at_fault));
		snprintf(post, sizeof(post), " %s %s (checked at %s)",
		    r->outcome == CM_OUTCOME_EXPIRED ? "expired at" :
		    "is valid only from", ts, when);
		break;
	case CM_OUTCOME_NAME_CONSTRAINTS:
		at_fault = full[failing_link(full, nfull, vflags)];
		snprintf(post, sizeof(post), " has a name outside an "
		    "issuer's name constraints");
		break;
	case CM_OUTCOME_PURPOSE:
		snprintf(post, sizeof(post), " is not for %s authentication "
		    "(extended key usage)", purpose_label(o->purpose));
		break;
	case CM_OUTCOME_HOSTNAME:
		snprintf(post, sizeof(post), " is not valid for the name '%s'",
		    o->name ? o->name : "");
		break;
	default:
		snprintf(post, sizeof(post), " failed verification");
		break;
	}
	free(iss);
	if ((r->failing = subject_of(at_fault)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	snprintf(msg, sizeof(msg), "%s: %s'%s'%s",
	    cm_outcome_name(r->outcome), pre, r->failing, post);
	if (r->valid) {
		free(r->failing);
		r->failing = NULL;
	}
	if ((r->explanation = cm__strdup(msg)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	return CM_OK;
}

/* Does the CA crt carry a nameConstraints extension (RFC 5280 4.2.1.10),
 * parsable or not? */
static bool
has_nc_ext(gnutls_x509_crt_t crt)
{
	size_t size = 0;
	unsigned crit = 0;
	int ret;

	ret = gnutls_x509_crt_get_extension_by_oid(crt, "2.5.29.30", 0, NULL,
	    &size, &crit);
	return ret == 0 || ret == GNUTLS_E_SHORT_MEMORY_BUFFER;
}

/* Does nc reject an iPAddress SAN of crt for its family (see
 * cm__nc_ip_permitted: GnuTLS 3.7 lets ::1 under 127.0.0.0/8 alone)? */
static bool
nc_ip_rejects(gnutls_x509_name_constraints_t nc, gnutls_x509_crt_t crt)
{
	unsigned char ip[16];
	size_t size;
	unsigned k;
	int ret;

	for (k = 0;; k++) {
		size = sizeof(ip);
		ret = gnutls_x509_crt_get_subject_alt_name(crt, k, ip, &size,
		    NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return false;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (ret < 0)
			return false;
		if (ret == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16) &&
		    !cm__nc_ip_permitted(nc, ip, size))
			return true;
	}
}

/* The index of the first CA of path[1..n) whose name constraints reject
 * an address of a certificate below it by family, or 0. */
static unsigned
ip_family_violation(gnutls_x509_crt_t *path, unsigned n)
{
	gnutls_x509_name_constraints_t nc = NULL;
	unsigned i, j, crit, found = 0;

	for (i = 1; i < n && found == 0; i++) {
		if (gnutls_x509_name_constraints_init(&nc) < 0)
			return 0;
		if (gnutls_x509_crt_get_name_constraints(path[i], nc, 0,
		    &crit) == 0)
			for (j = 0; j < i && found == 0; j++)
				if (nc_ip_rejects(nc, path[j]))
					found = i;
		gnutls_x509_name_constraints_deinit(nc);
		nc = NULL;
	}
	return found;
}

/* Do crt's name constraints reject a name of one of the certificates in
 * below[0..n)?  Constraints GnuTLS cannot parse reject everything. */
static bool
nc_rejects(gnutls_x509_crt_t crt, gnutls_x509_crt_t *below, unsigned n)
{
	static const unsigned types[] = { GNUTLS_SAN_DNSNAME,
		GNUTLS_SAN_IPADDRESS, GNUTLS_SAN_RFC822NAME, GNUTLS_SAN_URI,
		GNUTLS_SAN_DN };
	gnutls_x509_name_constraints_t nc = NULL;
	unsigned crit = 0, j, k;
	bool rejects = false;

	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return true;
	if (gnutls_x509_crt_get_name_constraints(crt, nc, 0, &crit) < 0) {
		rejects = true;
		goto out;
	}
	for (j = 0; j < n && !rejects; j++) {
		for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (!gnutls_x509_name_constraints_check_crt(nc,
			    types[k], below[j])) {
				rejects = true;
				break;
			}
		rejects = rejects || nc_ip_rejects(nc, below[j]);
	}
out:
	gnutls_x509_name_constraints_deinit(nc);
	return rejects;
}

/*
 * GnuTLS reports a broken path length, an issuer without keyCertSign and
 * a name outside a CA's name constraints with the one bit
 * GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, which cm__outcome_from_status()
 * can only map to name-constraints.  With the path at hand we tell them
 * apart: without a name constraint in the path, or with a path-length or
 * key-usage break and no name GnuTLS's own constraint check rejects, the
 * path is simply not a valid path: untrusted.  (x509-limbo pathlen::*,
 * rfc5280::root-inconsistent-ca-extensions.)
 */
cm_outcome
cm__outcome_refine(cm_outcome o, unsigned status, gnutls_x509_crt_t *path,
    unsigned n)
{
	bool nc_present = false, nc_broken = false, structural = false;
	unsigned i, j, below, crit, ca, ku;
	int plen;

	if (o != CM_OUTCOME_NAME_CONSTRAINTS ||
	    !(status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE))
		return o;
	for (i = 1; i < n; i++) {
		plen = -1;
		if (gnutls_x509_crt_get_basic_constraints(path[i], &crit, &ca,
		    &plen) >= 0 && plen >= 0) {
			/* RFC 5280 4.2.1.9: self-issued intermediates do not
			 * count. */
			for (below = 0, j = 1; j < i; j++)
				if (!gnutls_x509_crt_check_issuer(path[j],
				    path[j]))
					below++;
			if (below > (unsigned)plen)
				structural = true;
		}
		if (gnutls_x509_crt_get_key_usage(path[i], &ku, &crit) >= 0 &&
		    !(ku & GNUTLS_KEY_KEY_CERT_SIGN))
			structural = true;
		if (has_nc_ext(path[i])) {
			nc_present = true;
			nc_broken = nc_broken || nc_rejects(path[i], path, i);
		}
	}
	if (!nc_present || (structural && !nc_broken))
		return CM_OUTCOME_UNTRUSTED;
	return o;
}

/*
 * Where the anchors come from: --trust data or file, else the store's CA.
 * The trust list takes the certificates.
 */
static cm_err
load_anchors(gnutls_x509_trust_list_t tl, cm_ctx *ctx, cm_store *st,
    const cm_verify_opts *o)
{
	crt_list l = { NULL, 0 };
	cm_ca_info *ca = NULL;
	char what[300];
	int ret;
	cm_err err;

	if (o->trust_data != NULL || o->trust_path != NULL) {
		err = load_certs(&l, ctx, "trust anchors", o->trust_path,
		    o->trust_data, o->trust_len);
	} else {
		if (st == NULL)
			return cm__fail(ctx, CM_E_INVALID, "verify: no trust "
			    "anchors (give a bundle or a store CA)");
		if ((err = cm__ca_get_uncounted(&ca, st, o->ca)) != CM_OK)
			return err;
		snprintf(what, sizeof(what), "CA '%s'", ca->name);
		err = load_certs(&l, ctx, what, NULL, ca->pem, strlen(ca->pem));
		cm_ca_info_free(ca);
	}
	if (err != CM_OK)
		return err;
	ret = gnutls_x509_trust_list_add_cas(tl, l.v, l.n, 0);
	if (ret < 0 || (unsigned)ret != l.n) {
		/* add_cas keeps what it added: free only the rest. */
		unsigned i;
		for (i = ret < 0 ? 0 : (unsigned)ret; i < l.n; i++)
			gnutls_x509_crt_deinit(l.v[i]);
		gnutls_free(l.v);
		return cm__gnutls_fail(ctx, ret < 0 ? ret :
		    GNUTLS_E_INTERNAL_ERROR, "verify: adding trust anchors");
	}
	gnutls_free(l.v);
	return CM_OK;
}

/*
 * Anchored at a store CA, the store's other CAs are untrusted
 * intermediates: "verify --ca ROOT" of a leaf issued by ROOT's
 * intermediate finds that intermediate (build_path picks issuers by name
 * and signature, so unrelated CAs do no harm).  A leaf file that brings
 * its chain is looked at first.
 */
static cm_err
store_intermediates(crt_list *pool, cm_ctx *ctx, cm_store *st)
{
	cm_ca_info **v = NULL;
	crt_list l = { NULL, 0 };
	size_t n = 0, i;
	cm_err err;

	if ((err = cm_ca_list(&v, &n, st)) != CM_OK)
		return err;
	for (i = 0; i < n && pool->n < MAX_CERTS * 2; i++) {
		if (v[i]->parent == NULL || v[i]->pem == NULL)
			continue;
		if ((err = load_certs(&l, ctx, v[i]->name, NULL, v[i]->pem,
		    strlen(v[i]->pem))) != CM_OK ||
		    (err = crt_list_take(pool, &l, ctx)) != CM_OK)
			break;
	}
	crt_list_clear(&l);
	cm_ca_info_list_free(v, n);
	return err;
}

/* The first certificate of path[0..n) the store holds as revoked at t:
 * its index in *at_i (-1: none) and why, in words. */
static cm_err
store_revoked(int *at_i, char *why, size_t whylen, cm_ctx *ctx,
    cm_store *st, gnutls_x509_crt_t *path, unsigned n, time_t t)
{
	unsigned char fp[32];
	char *hex, serial[64], when[32];
	size_t fplen;
	time_t at;
	bool revoked;
	unsigned i;
	int reason, ret;
	cm_err err;

	*at_i = -1;
	for (i = 0; i < n; i++) {
		fplen = sizeof(fp);
		if ((ret = gnutls_x509_crt_get_fingerprint(path[i],
		    GNUTLS_DIG_SHA256, fp, &fplen)) < 0)
			return cm__gnutls_fail(ctx, ret, "verify: fingerprint");
		if ((hex = cm__hex(fp, fplen)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		err = cm__store_revocation_by_fp(&revoked, &at, &reason,
		    serial, sizeof(serial), st, hex);
		free(hex);
		if (err != CM_OK)
			return err;
		if (!revoked || at > t)
			continue;
		cm__rfc3339(when, sizeof(when), at);
		snprintf(why, whylen, "(serial %s) is revoked in the store "
		    "since %s (%s)", serial, when,
		    cm_revoke_reason_name((cm_revoke_reason)reason) ?
		    cm_revoke_reason_name((cm_revoke_reason)reason) :
		    "unspecified");
		*at_i = (int)i;
		return CM_OK;
	}
	return CM_OK;
}

cm_err
cm_verify(cm_verify_result **out, cm_ctx *ctx, cm_store *st,
    const cm_verify_opts *o)
{
	gnutls_x509_trust_list_t tl = NULL;
	crt_list pool = { NULL, 0 }, extra = { NULL, 0 };
	gnutls_x509_crt_t path[MAX_DEPTH + 1], anchor = NULL;
	gnutls_typed_vdata_st vdata[2];
	unsigned char ip[16];
	unsigned npath, nfull, nvdata = 0, status = 0, time_fail = 0, vflags, i;
	cm_verify_result *r = NULL;
	char revoked_why[200];
	int revoked_i;
	int ret;
	cm_err err;

	if (o == NULL || o->version != CM_VERIFY_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "verify: options version %u "
		    "is not %u", o ? o->version : 0, CM_VERIFY_OPTS_VERSION);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	r->at = o->at != 0 ? o->at : cm_ctx_now(ctx);

	if ((err = load_certs(&pool, ctx, "leaf", o->leaf_path, o->leaf_data,
	    o->leaf_len)) != CM_OK)
		goto out;
	if (o->untrusted_path != NULL || o->untrusted_data != NULL) {
		if ((err = load_certs(&extra, ctx, "untrusted intermediates",
		    o->untrusted_path, o->untrusted_data, o->untrusted_len)) !=
		    CM_OK || (err = crt_list_take(&pool, &extra, ctx)) != CM_OK)
			goto out;
	}
	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "verify: trust list");
		goto out;
	}
	if ((err = load_anchors(tl, ctx, st, o)) != CM_OK)
		goto out;
	if (st != NULL && o->trust_data == NULL && o->trust_path == NULL &&
	    (err = store_intermediates(&pool, ctx, st)) != CM_OK)
		goto out;

	if (o->purpose != CM_VERIFY_ANY) {
		const char *oid = o->purpose == CM_VERIFY_CLIENT ?
		    GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER;
		vdata[nvdata].type = GNUTLS_DT_KEY_PURPOSE_OID;
		vdata[nvdata].data = (unsigned char *)(uintptr_t)oid;
		vdata[nvdata].size = (unsigned)strlen(oid);
		nvdata++;
	}
	if (o->name != NULL && o->name[0] != '\0') {
		/* An IP address is matched against IP SANs only, never as a
		 * DNS name (RFC 6125 and CA/B BR: no IPs in dNSName). */
		if (inet_pton(AF_INET, o->name, ip) == 1) {
			vdata[nvdata].type = GNUTLS_DT_IP_ADDRESS;
			vdata[nvdata].data = ip;
			vdata[nvdata].size = 4;
		} else if (inet_pton(AF_INET6, o->name, ip) == 1) {
			vdata[nvdata].type = GNUTLS_DT_IP_ADDRESS;
			vdata[nvdata].data = ip;
			vdata[nvdata].size = 16;
		} else {
			vdata[nvdata].type = GNUTLS_DT_DNS_HOSTNAME;
			vdata[nvdata].data =
			    (unsigned char *)(uintptr_t)o->name;
			vdata[nvdata].size = (unsigned)strlen(o->name);
		}
		nvdata++;
	}

	/*
	 * The verification time.  GnuTLS 3.7.9 verifies "now" only:
	 * gnutls_x509_trust_list_verify_crt2() and
	 * gnutls_x509_crt_list_verify() take no time, and the only way to move GnuTLS's clock is
	 * gnutls_global_set_time_function(), process-wide state that would
	 * race with other contexts (the harness runs handshakes meanwhile).
	 * So GnuTLS checks everything but time (GNUTLS_VERIFY_DISABLE_TIME_
	 * CHECKS and _TRUSTED_TIME_CHECKS), and we check the validity of
	 * every certificate of the path, anchor included, at r->at the way
	 * GnuTLS's check_time_status() does, adding the same status bits.
	 * Otherwise the flags of a GnuTLS TLS peer (the harness): a
	 * certificate found in the trust list is trusted as it is, as
	 * gnutls_certificate_verify_peers() and openssl verify do (so a
	 * pinned self-signed server certificate verifies).  certtool
	 * --verify adds GNUTLS_VERIFY_DO_NOT_ALLOW_SAME; see
	 * tests/conformance/limbo-disagreements.txt for the one x509-limbo
	 * case where that matters.
	 * The medium profile (about 112-bit security: no RSA keys below 2048
	 * bits, no P-192) as certtool --verify-profile=medium.
	 */
	vflags = GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM) |
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
	npath = build_path(path, &anchor, tl, &pool);
	r->anchored = anchor != NULL || is_anchor(tl, path[npath - 1]);
	ret = gnutls_x509_trust_list_verify_crt2(tl, path, npath, vdata,
	    nvdata, vflags, &status, NULL);
	if (ret < 0) {
		err = cm__gnutls_fail(ctx, ret, "verify: %s",
		    o->leaf_path ? o->leaf_path : "leaf");
		goto out;
	}
	nfull = npath;
	if (anchor != NULL)
		path[nfull++] = anchor;
	/* Without an anchor GnuTLS stops at the missing signer, and so do
	 * we: the validity of an untrusted path says nothing. */
	if (!(status & GNUTLS_CERT_SIGNER_NOT_FOUND))
		for (i = 0; i < nfull; i++)
			time_fail |= time_status(path[i], r->at);
	status |= time_fail;
	/* RFC 5280 4.2.1.10 as OpenSSL and Go apply it: an address of the
	 * other family than every permitted range is outside them (GnuTLS
	 * 3.7 accepts ::1 under 127.0.0.0/8); judged on an anchored path. */
	if (!(status & GNUTLS_CERT_SIGNER_NOT_FOUND) &&
	    ip_family_violation(path, nfull) != 0)
		status |= GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE |
		    GNUTLS_CERT_INVALID;
	/* Anchored at a store CA, a valid chain is also checked against the
	 * store's revocations at r->at, anchor included (an intermediate CA
	 * revoked by its parent): the store knows what it revoked, as its
	 * CRLs and OCSP responder say. */
	revoked_i = -1;
	if (status == 0 && st != NULL && o->trust_data == NULL &&
	    o->trust_path == NULL && (err = store_revoked(&revoked_i,
	    revoked_why, sizeof(revoked_why), ctx, st, path, nfull,
	    r->at)) != CM_OK)
		goto out;
	if (revoked_i >= 0)
		status |= GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID;
	r->status = status;
	r->valid = status == 0;
	r->outcome = cm__outcome_refine(cm__outcome_from_status(status,
	    false), status, path, nfull);

	if ((r->chain = calloc(nfull, sizeof(char *))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nfull; i++, r->nchain++)
		if ((r->chain[i] = subject_of(path[i])) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	if ((err = set_reasons(r, ctx)) != CM_OK ||
	    (err = explain(r, ctx, path, nfull, time_fail, o, vflags)) != CM_OK)
		goto out;
	if (revoked_i >= 0) {
		r->outcome = CM_OUTCOME_REVOKED;
		free(r->failing);
		free(r->explanation);
		r->explanation = NULL;
		if ((r->failing = subject_of(path[revoked_i])) == NULL ||
		    asprintf(&r->explanation, "certificate '%s' %s",
		    r->failing, revoked_why) < 0) {
			r->explanation = NULL;
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = r;
	r = NULL;
out:
	if (anchor != NULL)
		gnutls_x509_crt_deinit(anchor);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	crt_list_clear(&pool);
	crt_list_clear(&extra);
	cm_verify_result_free(r);
	return err;
}
