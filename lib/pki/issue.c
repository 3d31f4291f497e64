/*
 * issue.c - issuing leaf certificates, one or many, all or nothing.
 *
 * Order of work: everything that can be refused (names, constraints,
 * profile, output files) is checked before a key is generated; keys are
 * generated and signed outside the store lock; then the rows are inserted,
 * the files staged beside their places (temp files: a full disk refuses
 * it all here), a journal naming them written and synced, the rows
 * committed, and only then are the files placed.  So no certificate
 * file exists that the store does not know: a crash before the commit
 * leaves no row and no placed file, a crash after it leaves rows whose
 * files are placed, or placeable from the store ('certmint export'), and
 * the next issuance into that folder finds the crashed process's journal
 * and places what is missing (recover_dirs).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_LEAF_DAYS 397
#define MAX_NAMES 1000

typedef struct job {
	const cm_issue_opts *o;
	const cm__issue_src *src;   /* NULL: a fresh key */
	const cm_profile *prof;
	cm__name *names;
	size_t nnames;
	cm_key_type kt;
	unsigned days;
	time_t nb, na;          /* an explicit window, or 0 */
	/* results */
	cm_err err;
	char errmsg[CM_ERRBUF];
	gnutls_datum_t der;
	gnutls_datum_t key_pem;
	gnutls_datum_t pkcs8;   /* kept in the store unless discard_key */
	cm_cert_info *info;
	bool skip;              /* a batch line issued by an earlier run */
	char *tmp[3];           /* staged key, certificate, chain, or NULL */
} job;

/*
 * NAME_MAX is 255 octets: "<stem>.crt" must fit, and a DNS name may have
 * 253.  A longer stem keeps its first 240 characters and gets "~" and 8
 * hex digits of a hash of the whole name, so two long names stay apart.
 */
#define STEM_MAX 250

static cm_err
file_stem(char *buf, size_t len, cm_ctx *ctx, const char *name,
    const char *given)
{
	size_t o = 0;
	const char *p = name;
	char show[72];

	if (strncmp(p, "*.", 2) == 0) {
		if (len < 10)
			goto toolong;
		memcpy(buf, "_wildcard", 9);
		o = 9;
		p++;
	}
	for (; *p; p++) {
		char c = *p;
		if (o + 1 >= len)
			goto toolong;
		if (c == '/' || c == ':' || c == '*' || c == '\\' ||
		    (unsigned char)c < ' ')
			c = '_';
		buf[o++] = c;
	}
	buf[o] = '\0';
	if (o > STEM_MAX && len > 250) {
		uint32_t h = 2166136261u;   /* FNV-1a */
		for (p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(buf + 240, len - 240, "~%08x", (unsigned)h);
		o = strlen(buf);
	}
	if (o == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0) {
		cm__name_quote(show, sizeof(show), given);
		return cm__fail(ctx, CM_E_INVALID, "name '%s' makes no file "
		    "name", show);
	}
	return CM_OK;
toolong:
	cm__name_quote(show, sizeof(show), given);
	return cm__fail(ctx, CM_E_INVALID, "name '%s' is too long for a file "
	    "name", show);
}

cm_err
cm_name_file_stem(char *buf, size_t len, cm_ctx *ctx, const char *name)
{
	cm__name n;
	cm_err err;

	/* The file follows the name the certificate holds: "UPPER.Test"
	 * is certified as "upper.test" and written as upper.test.crt. */
	memset(&n, 0, sizeof(n));
	if (cm__name_parse(&n, ctx, name) == CM_OK && n.value != NULL)
		err = file_stem(buf, len, ctx, n.value, name);
	else
		err = file_stem(buf, len, ctx, name, name);
	cm__name_clear(&n);
	return err;
}

static void
job_clear(job *j)
{
	size_t i;

	for (i = 0; i < j->nnames; i++)
		cm__name_clear(&j->names[i]);
	free(j->names);
	gnutls_free(j->der.data);
	j->der.data = NULL;
	if (j->key_pem.data != NULL) {
		gnutls_memset(j->key_pem.data, 0, j->key_pem.size);
		gnutls_free(j->key_pem.data);
	}
	if (j->pkcs8.data != NULL) {
		gnutls_memset(j->pkcs8.data, 0, j->pkcs8.size);
		gnutls_free(j->pkcs8.data);
	}
	cm_cert_info_free(j->info);
	for (i = 0; i < 3; i++) {
		if (j->tmp[i] != NULL && j->tmp[i][0] != '\0')
			unlink(j->tmp[i]);
		free(j->tmp[i]);
	}
	memset(j, 0, sizeof(*j));
}

/* Profiles loaded once per batch, by name. */
typedef struct profile_cache {
	cm_profile *v[16];
	size_t n;
} profile_cache;

static cm_err
cache_get(const cm_profile **out, profile_cache *pc, cm_store *st,
    const char *name)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_profile *p;
	size_t i;
	cm_err err;

	for (i = 0; i < pc->n; i++)
		if (strcmp(pc->v[i]->name, name) == 0) {
			*out = pc->v[i];
			return CM_OK;
		}
	if (pc->n == sizeof(pc->v) / sizeof(pc->v[0]))
		return cm__fail(ctx, CM_E_INVALID, "more than %zu profiles in "
		    "one run", pc->n);
	if ((err = cm_profile_load(&p, ctx, st, name)) != CM_OK)
		return err;
	if (p->ca) {
		cm_profile_free(p);
		return cm__fail(ctx, CM_E_INVALID, "profile '%s' is a CA "
		    "profile: use 'certmint init' or 'certmint ca create'",
		    name);
	}
	pc->v[pc->n++] = p;
	*out = p;
	return CM_OK;
}

static void
cache_free(profile_cache *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++)
		cm_profile_free(pc->v[i]);
	pc->n = 0;
}

static void
time_text(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/* An explicit validity window (cm_issue_opts version 2). */
static cm_err
window(job *j, cm_ctx *ctx, const cm__signer *s, const cm_issue_opts *o)
{
	time_t now = cm_ctx_now(ctx), span = (time_t)j->days * 86400;
	char a[32], b[32];

	j->nb = o->not_before;
	j->na = o->not_after;
	if (j->nb == 0)
		j->nb = j->na > now ? now : j->na - span;
	if (j->na == 0) {
		j->na = j->nb + span;
		if (j->na > s->rec.info.not_after)
			j->na = s->rec.info.not_after;
	}
	if (j->nb >= j->na) {
		time_text(a, sizeof(a), j->nb);
		time_text(b, sizeof(b), j->na);
		return cm__fail(ctx, CM_E_INVALID, "validity: not before %s "
		    "is not before not after %s", a, b);
	}
	/* A child never outlives its issuer (RFC 5280 6.1.3 checks each
	 * certificate of the path at the time of use). */
	if (j->na > s->rec.info.not_after) {
		time_text(a, sizeof(a), j->na);
		time_text(b, sizeof(b), s->rec.info.not_after);
		return cm__fail(ctx, CM_E_INVALID, "validity: not after %s is "
		    "after CA '%s' expires (%s)", a, s->rec.info.name, b);
	}
	/* RFC 5280 4.1.2.5: UTCTime/GeneralizedTime from 1950 on. */
	if (j->nb < -631152000) {
		time_text(a, sizeof(a), j->nb);
		return cm__fail(ctx, CM_E_INVALID, "validity: not before %s is "
		    "before 1950", a);
	}
	return CM_OK;
}

/* Everything that can be refused, before any key is generated. */
static cm_err
job_prepare(job *j, cm_store *st, const cm__signer *s, profile_cache *pc,
    const cm_issue_opts *o, const cm__issue_src *src)
{
	cm_ctx *ctx = cm__store_ctx(st);
	size_t i, k;
	cm_err err;

	memset(j, 0, sizeof(*j));
	j->o = o;
	j->src = src;
	if (o->version != 1 && o->version != CM_ISSUE_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "issue: options version %u "
		    "is unknown", o->version);
	if (o->nnames == 0 || o->names == NULL)
		return cm__fail(ctx, CM_E_INVALID, "issue: no name given");
	if (o->nnames > MAX_NAMES)
		return cm__fail(ctx, CM_E_INVALID, "issue: more than %d names",
		    MAX_NAMES);
	if ((err = cache_get(&j->prof, pc, st,
	    o->profile ? o->profile : "server")) != CM_OK)
		return err;
	if ((j->names = calloc(o->nnames, sizeof(*j->names))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (i = 0; i < o->nnames; i++) {
		if ((err = cm__name_parse(&j->names[i], ctx, o->names[i])) !=
		    CM_OK)
			return err;
		j->nnames++;
		for (k = 0; k < i; k++)
			if (strcmp(j->names[k].value, j->names[i].value) == 0)
				return cm__fail(ctx, CM_E_INVALID, "name '%s' "
				    "is given twice", o->names[i]);
	}
	if ((err = cm__crt_check_constraints(s->crt, ctx, s->rec.info.name,
	    j->names, j->nnames)) != CM_OK)
		return err;
	/* RFC 5280 6.1.3: every CA up the path constrains the names. */
	for (i = 0; i < s->nchain; i++)
		if ((err = cm__crt_check_constraints(s->chain[i], ctx,
		    s->rec.info.name, j->names, j->nnames)) != CM_OK)
			return err;
	j->kt = o->key_type == CM_KEY_DEFAULT ? CM_KEY_EC_P256 : o->key_type;
	if (j->src != NULL && (j->src->key != NULL || j->src->pubkey != NULL))
		j->kt = j->src->key_type;
	if (j->src != NULL && j->src->pubkey != NULL && o->key_path != NULL)
		return cm__fail(ctx, CM_E_INVALID, "%s: no private key to "
		    "write for a signed request", o->key_path);
	if (cm_key_type_name(j->kt) == NULL)
		return cm__fail(ctx, CM_E_INVALID, "key type %d is unknown",
		    (int)o->key_type);
	j->days = o->days ? o->days : j->prof->expiration_days > 0 ?
	    (unsigned)j->prof->expiration_days : DEFAULT_LEAF_DAYS;
	if (j->days > 36500)
		return cm__fail(ctx, CM_E_INVALID, "--days %u: at most 36500",
		    j->days);
	if (o->version >= 2 && (o->not_before != 0 || o->not_after != 0) &&
	    (err = window(j, ctx, s, o)) != CM_OK)
		return err;
	if (o->cert_path && (err = cm__file_check(ctx, o->cert_path,
	    o->force)) != CM_OK)
		return err;
	if (o->key_path && (err = cm__file_check(ctx, o->key_path,
	    o->force)) != CM_OK)
		return err;
	if (o->chain_path && (err = cm__file_check(ctx, o->chain_path,
	    o->force)) != CM_OK)
		return err;
	if (o->cert_path && o->key_path &&
	    strcmp(o->cert_path, o->key_path) == 0)
		return cm__fail(ctx, CM_E_INVALID, "%s: given as both "
		    "certificate and key file", o->cert_path);
	return CM_OK;
}

static cm_err
add_san(gnutls_x509_crt_t crt, cm_ctx *ctx, const cm__name *n)
{
	const void *data = n->value;
	unsigned size = (unsigned)strlen(n->value), type;
	int ret;

	switch (n->type) {
	case CM_NAME_IPV4:
	case CM_NAME_IPV6:
		type = GNUTLS_SAN_IPADDRESS;
		data = n->ip;
		size = (unsigned)n->iplen;
		break;
	case CM_NAME_EMAIL:
		type = GNUTLS_SAN_RFC822NAME;
		break;
	case CM_NAME_URI:
		type = GNUTLS_SAN_URI;
		break;
	default:
		type = GNUTLS_SAN_DNSNAME;
	}
	ret = gnutls_x509_crt_set_subject_alt_name(crt,
	    (gnutls_x509_subject_alt_name_t)type, data, size,
	    GNUTLS_FSAN_APPEND);
	if (ret < 0)
		return cm__gnutls_fail(ctx, ret, "name '%s'", n->value);
	return CM_OK;
}

/* Generates the key and builds and signs the certificate.  Thread-safe
 * for distinct jobs and keys. */
static cm_err
job_build(job *j, cm_ctx *ctx, const cm__signer *s, gnutls_x509_crt_t issuer,
    gnutls_privkey_t cakey, time_t now)
{
	gnutls_x509_privkey_t xkey = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der = { NULL, 0 }, plain = { NULL, 0 };
	unsigned char serial[20];
	size_t slen, i;
	time_t not_after;
	char *pem = NULL;
	cm_cert_info *info = NULL;
	cm_err err = CM_OK;
	int ret;

	if (j->skip)
		return CM_OK;
	if (j->src != NULL && j->src->key != NULL) {
		if ((ret = gnutls_x509_privkey_init(&xkey)) < 0 ||
		    (ret = gnutls_x509_privkey_cpy(xkey, j->src->key)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "key");
			goto out;
		}
	} else if (j->src == NULL || j->src->pubkey == NULL) {
		if ((err = cm__key_generate(&xkey, ctx, j->kt)) != CM_OK)
			goto out;
	}
	if ((ret = gnutls_x509_crt_init(&crt)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "certificate");
		goto out;
	}
	if ((err = cm__serial_new(serial, &slen, ctx)) != CM_OK)
		goto out;
	/* A child never outlives its issuer. */
	not_after = now + (time_t)j->days * 86400;
	if (not_after > s->rec.info.not_after)
		not_after = s->rec.info.not_after;
	if (j->na != 0) {
		now = j->nb;
		not_after = j->na;
	}
	if ((ret = gnutls_x509_crt_set_serial(crt, serial, slen)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, now)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt, not_after)) < 0 ||
	    (ret = xkey != NULL ? gnutls_x509_crt_set_key(crt, xkey) :
	    gnutls_x509_crt_set_pubkey(crt, j->src->pubkey)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "certificate for '%s'",
		    j->names[0].value);
		goto out;
	}
	if ((err = cm__profile_apply(crt, ctx, j->prof, j->kt)) != CM_OK)
		goto out;
	if ((err = cm__ca_urls_apply(crt, ctx, s)) != CM_OK)
		goto out;
	/*
	 * ub-common-name is 64: longer first names live in the SAN only.
	 * Under name constraints an IP address stays out of the CN too:
	 * OpenSSL checks a host-like CN of a certificate without DNS names
	 * against the DNS constraints, and "127.0.0.1" is not under ".test".
	 */
	if (strlen(j->names[0].value) <= 64 &&
	    !(s->constrained && (j->names[0].type == CM_NAME_IPV4 ||
	    j->names[0].type == CM_NAME_IPV6)) && (ret =
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    j->names[0].value, (unsigned)strlen(j->names[0].value))) < 0) {
		err = cm__gnutls_fail(ctx, ret, "subject '%s'",
		    j->names[0].value);
		goto out;
	}
	for (i = 0; i < j->nnames; i++)
		if ((err = add_san(crt, ctx, &j->names[i])) != CM_OK)
			goto out;
	if ((err = cm__sign_crt(crt, ctx, issuer, cakey, s->key_type)) != CM_OK)
		goto out;

	if ((info = calloc(1, sizeof(*info))) == NULL ||
	    (info->names = calloc(j->nnames, sizeof(char *))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < j->nnames; i++) {
		if ((info->names[i] = strdup(j->names[i].value)) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		info->nnames++;
	}
	if ((err = cm__crt_describe(crt, ctx, &info->subject, &info->serial,
	    &info->fingerprint, &info->pem, &der)) != CM_OK)
		goto out;
	info->ca = strdup(s->rec.info.name);
	info->profile = strdup(j->prof->name);
	info->key_type = strdup(cm_key_type_name(j->kt));
	info->status = strdup("valid");
	info->revocation_reason = -1;   /* as cm_cert_list says it */
	info->not_before = now;
	info->not_after = not_after;
	if (info->ca == NULL || info->profile == NULL ||
	    info->key_type == NULL || info->status == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	gnutls_free(j->der.data);
	j->der = der;
	der.data = NULL;
	if (j->key_pem.data != NULL) {
		gnutls_memset(j->key_pem.data, 0, j->key_pem.size);
		gnutls_free(j->key_pem.data);
		j->key_pem.data = NULL;
	}
	/* The file's PEM and the store's copy from one encoding of the key
	 * (the store's is encrypted under the CA's passphrase when it has
	 * one). */
	if (xkey != NULL &&
	    (err = cm__key_export_pkcs8(&plain, ctx, xkey, NULL)) != CM_OK)
		goto out;
	if (xkey != NULL && (ret = gnutls_pem_base64_encode2("PRIVATE KEY",
	    &plain, &j->key_pem)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "exporting key");
		goto out;
	}
	if (xkey != NULL && !j->o->discard_key) {
		if (j->pkcs8.data != NULL) {
			gnutls_memset(j->pkcs8.data, 0, j->pkcs8.size);
			gnutls_free(j->pkcs8.data);
			j->pkcs8.data = NULL;
		}
		if (s->pass == NULL || s->pass[0] == '\0') {
			j->pkcs8 = plain;
			plain.data = NULL;
		} else if ((err = cm__key_export_pkcs8(&j->pkcs8, ctx, xkey,
		    s->pass)) != CM_OK) {
			goto out;
		}
	}
	cm_cert_info_free(j->info);
	j->info = info;
	info = NULL;
out:
	free(pem);
	gnutls_free(der.data);
	if (plain.data != NULL) {
		gnutls_memset(plain.data, 0, plain.size);
		gnutls_free(plain.data);
	}
	cm_cert_info_free(info);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(xkey);
	return err;
}

static cm_err
chain_pem(char **out, size_t *len, cm_ctx *ctx, const cm__signer *s)
{
	/* The issuers up to, not including, the root: this CA when it is
	 * an intermediate, and its parents but the last. */
	gnutls_datum_t d;
	char *buf = NULL, *nb;
	size_t n = 0, i, count;
	int ret;

	*out = NULL;
	*len = 0;
	if (s->nchain == 0)
		return CM_OK;
	count = s->nchain; /* this CA + nchain-1 intermediates above it */
	for (i = 0; i < count; i++) {
		gnutls_x509_crt_t c = i == 0 ? s->crt : s->chain[i - 1];
		if ((ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM,
		    &d)) < 0) {
			free(buf);
			return cm__gnutls_fail(ctx, ret, "chain");
		}
		if ((nb = realloc(buf, n + d.size + 1)) == NULL) {
			gnutls_free(d.data);
			free(buf);
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		}
		buf = nb;
		memcpy(buf + n, d.data, d.size);
		n += d.size;
		gnutls_free(d.data);
	}
	*out = buf;
	*len = n;
	return CM_OK;
}

/* The files of a certificate, beside their places, before the commit: a
 * full disk or an unwritable folder refuses the issuance while nothing is
 * recorded.  Not synced: the store is the record (see issue_many). */
static cm_err
job_stage(job *j, cm_ctx *ctx, const char *chain, size_t chainlen)
{
	const char *path[3] = { j->o->key_path, j->o->cert_path,
	    j->o->chain_path };
	const void *data[3] = { j->key_pem.data, j->info->pem,
	    chain ? chain : "" };
	size_t len[3] = { j->key_pem.size, strlen(j->info->pem), chainlen };
	unsigned mode[3] = { 0600, 0644, 0644 };
	char tmp[PATH_MAX];
	cm_err err;
	int i;

	if (j->skip)
		return CM_OK;
	for (i = 0; i < 3; i++) {
		if (path[i] == NULL || (i == 0 && j->key_pem.data == NULL))
			continue;
		if ((err = cm__file_stage(ctx, tmp, sizeof(tmp), path[i],
		    data[i], len[i], mode[i], j->o->force, false)) != CM_OK)
			return err;
		if ((j->tmp[i] = strdup(tmp)) == NULL) {
			unlink(tmp);
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		}
	}
	return CM_OK;
}

/* The staged files in place, once recorded: the key first (a certificate
 * without its key is useless); a failpoint between each two. */
static cm_err
job_place(job *j, cm_ctx *ctx, const char *fp_between)
{
	const char *path[3] = { j->o->key_path, j->o->cert_path,
	    j->o->chain_path };
	char **dst[3] = { &j->info->key_path, &j->info->cert_path,
	    &j->info->chain_path };
	bool first = true;
	cm_err err;
	int i;

	if (j->skip)
		return CM_OK;
	for (i = 0; i < 3; i++) {
		if (j->tmp[i] == NULL)
			continue;
		if (!first && (err = cm__failpoint(ctx, fp_between)) != CM_OK)
			return err;
		first = false;
		if ((err = cm__file_place(ctx, j->tmp[i], path[i],
		    j->o->force)) != CM_OK)
			return err;
		if ((*dst[i] = strdup(path[i])) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	return CM_OK;
}

/* The SHA-256 fingerprint (lower-case hex) of the certificate in a PEM or
 * DER file; false when there is none. */
static bool
file_fingerprint(char fp[65], cm_ctx *ctx, const char *path)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	unsigned char md[32];
	size_t mdlen = sizeof(md), i;
	char *data = NULL;
	size_t len;
	bool ok = false;

	if (cm__file_read(ctx, path, 1024 * 1024, &data, &len) != CM_OK)
		return false;
	d.data = (unsigned char *)data;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md,
	    &mdlen) < 0 || mdlen != 32)
		goto out;
	for (i = 0; i < 32; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
	ok = true;
out:
	gnutls_x509_crt_deinit(crt);
	free(data);
	return ok;
}

/* The recorded certificate whose file path is, or NULL. */
static cm_cert_info *
file_recorded(cm_store *st, const char *path)
{
	cm_ctx *ctx = cm__store_ctx(st);
	char fp[65], saved[CM_ERRBUF];
	cm_cert_info *c = NULL;

	snprintf(saved, sizeof(saved), "%s", ctx->err);
	if (file_fingerprint(fp, ctx, path) &&
	    cm__store_cert_by_fpr(st, fp) > 0 &&
	    cm_cert_find(&c, st, fp) != CM_OK)
		c = NULL;
	snprintf(ctx->err, sizeof(ctx->err), "%s", saved);
	return c;
}

/* --force over the files of an earlier certificate: that one is replaced
 * (superseded), and renewing it would rewrite the files with its key. */
static cm_err
supersede_replaced(cm_store *st, const job *j)
{
	cm_cert_info *c;
	cm_err err = CM_OK;

	if (!j->o->force || j->o->cert_path == NULL)
		return CM_OK;
	if ((c = file_recorded(st, j->o->cert_path)) == NULL)
		return CM_OK;
	if (strcmp(c->status, "valid") == 0 &&
	    strcmp(c->serial, j->info->serial) != 0) {
		if ((err = cm__store_cert_supersede(st, c->ca, c->serial)) ==
		    CM_OK)
			err = cm__store_event(st, "supersede", c->serial,
			    "files replaced by --force");
	}
	cm_cert_info_free(c);
	return err;
}

static cm_err
job_record(job *j, cm_store *st, const cm__signer *s)
{
	cm__cert_rec r;
	char details[1024];
	size_t i, used;
	cm_err err;

	memset(&r, 0, sizeof(r));
	if (j->pkcs8.data != NULL && (err = cm__store_key_insert(&r.key_id, st,
	    j->kt, &j->pkcs8, s->pass != NULL)) != CM_OK)
		return err;
	r.ca_id = s->rec.id;
	r.info = *j->info;
	r.der = j->der.data;
	r.derlen = j->der.size;
	used = (size_t)snprintf(details, sizeof(details), "profile=%s names=",
	    j->prof->name);
	for (i = 0; i < j->nnames && used < sizeof(details); i++)
		used += (size_t)snprintf(details + used, sizeof(details) - used,
		    "%s%s", i ? "," : "", j->names[i].value);
	if (j->src != NULL && j->src->details != NULL &&
	    used < sizeof(details))
		snprintf(details + used, sizeof(details) - used, " %s",
		    j->src->details);
	if ((err = supersede_replaced(st, j)) != CM_OK)
		return err;
	if ((err = cm__store_cert_insert(st, &r)) != CM_OK)
		return err;
	if ((err = cm__store_event(st, j->src && j->src->event ?
	    j->src->event : "issue", j->info->serial, details)) != CM_OK)
		return err;
	if (j->src != NULL && j->src->in_tx != NULL)
		return j->src->in_tx(st, j->info, j->src->arg);
	return CM_OK;
}

/* Worker state for batch issuance. */
typedef struct pool {
	job *jobs;
	size_t n;
	size_t next;            /* guarded by mu */
	size_t done;            /* guarded by mu */
	size_t reported;        /* last done given to progress_fn (caller's
	                           thread only) */
	bool failed;            /* guarded by mu */
	pthread_mutex_t mu;
	const cm__signer *s;
	time_t now;
} pool;

static void
run_jobs(pool *p, cm_ctx *ctx, gnutls_x509_crt_t issuer, gnutls_privkey_t key,
    bool report)
{
	cm_ctx local;
	size_t i;

	memset(&local, 0, sizeof(local));
	local.pinned_time = ctx->pinned_time;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->failed || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->jobs[i].err = job_build(&p->jobs[i], &local, p->s, issuer, key,
		    p->now);
		pthread_mutex_lock(&p->mu);
		if (p->jobs[i].err != CM_OK) {
			snprintf(p->jobs[i].errmsg, sizeof(p->jobs[i].errmsg),
			    "%s", local.err);
			p->failed = true;
		}
		p->done++;
		pthread_mutex_unlock(&p->mu);
		if (report && ctx->progress_fn) {
			size_t d;
			pthread_mutex_lock(&p->mu);
			d = p->done;
			pthread_mutex_unlock(&p->mu);
			ctx->progress_fn(d, p->n, ctx->progress_arg);
			p->reported = d;
		}
	}
	/* The ASN.1 definitions a key export loaded into the thread's own
	 * context (key.c). */
	if (local.asn1 != NULL)
		asn1_delete_structure(&local.asn1);
}

typedef struct worker {
	pthread_t tid;
	pool *p;
	cm_ctx *ctx;
	/* Each thread signs with its own copies: GnuTLS objects are not
	 * documented as safe to share between threads. */
	gnutls_x509_crt_t crt;
	gnutls_privkey_t key;
} worker;

static void *
worker_main(void *arg)
{
	worker *w = arg;

	run_jobs(w->p, w->ctx, w->crt, w->key, false);
	return NULL;
}

static unsigned
cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n < 256 ? (unsigned)n : 1;
}

typedef struct out_path {
	const char *path;
	size_t req;
	const char *what;
	/* The file as the system sees it: its folder and its name, so that
	 * "a.pem" and "./a.pem" are the same file. */
	dev_t dev;
	ino_t ino;
	const char *base;
} out_path;

static void
out_path_set(out_path *o, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sb;

	o->path = path;
	o->base = slash ? slash + 1 : path;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &sb) == 0) {
		o->dev = sb.st_dev;
		o->ino = sb.st_ino;
	} else {
		/* No such folder (an error later): compare as written. */
		o->base = path;
	}
}

static int
cmp_path(const void *a, const void *b)
{
	const out_path *x = a, *y = b;
	int c;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if ((c = strcmp(x->base, y->base)) != 0)
		return c;
	return (x->req > y->req) - (x->req < y->req);
}

/* No two requests may write the same file: sort and compare neighbours. */
static cm_err
check_distinct_paths(cm_ctx *ctx, const cm_issue_opts *reqs, size_t n,
    bool numbered)
{
	out_path *v;
	size_t i, k = 0;
	cm_err err = CM_OK;

	if ((v = calloc(n * 3, sizeof(*v))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		static const char *const what[3] = { "certificate", "key",
		    "chain" };
		const char *p[3] = { reqs[i].cert_path, reqs[i].key_path,
		    reqs[i].chain_path };
		for (int x = 0; x < 3; x++)
			if (p[x] != NULL) {
				out_path_set(&v[k], p[x]);
				v[k].what = what[x];
				v[k++].req = i;
			}
	}
	qsort(v, k, sizeof(*v), cmp_path);
	for (i = 1; i < k; i++) {
		if (v[i - 1].dev != v[i].dev || v[i - 1].ino != v[i].ino ||
		    strcmp(v[i - 1].base, v[i].base) != 0)
			continue;
		if (v[i - 1].req != v[i].req)
			err = cm__fail(ctx, CM_E_INVALID, "requests %zu and %zu "
			    "both write %s", v[i - 1].req + 1, v[i].req + 1,
			    v[i].path);
		else if (!numbered)
			err = cm__fail(ctx, CM_E_INVALID, "the %s and the %s "
			    "both go to %s", v[i - 1].what, v[i].what,
			    v[i].path);
		else
			err = cm__fail(ctx, CM_E_INVALID, "request %zu: the %s "
			    "and the %s both go to %s", v[i].req + 1,
			    v[i - 1].what, v[i].what, v[i].path);
		break;
	}
	free(v);
	return err;
}

/* ---- the journal: which files a committed issuance still has to place */

#define JOURNAL_MAGIC "certmint-journal 1"

static void
journal_path_add(cm__buf *b, const char *path)
{
	char cwd[PATH_MAX];

	/* Absolute: a re-run may start in another folder. */
	if (path != NULL && path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		cm__buf_add(b, cwd, strlen(cwd));
		cm__buf_add(b, "/", 1);
	}
	if (path != NULL)
		cm__buf_add(b, path, strlen(path));
	cm__buf_byte(b, 0);
}

/*
 * Writes and syncs the journal beside the first file to place, [out] jpath
 * ("" when nothing is to be placed).  Records: fingerprint, certificate,
 * key and chain file, each NUL-terminated.
 */
static cm_err
journal_write(char *jpath, size_t jlen, cm_ctx *ctx, const job *jobs,
    size_t n)
{
	cm__buf b;
	const char *first = NULL;
	char dir[PATH_MAX];
	size_t i, off = 0;
	int fd = -1, saved;
	cm_err err = CM_OK;

	jpath[0] = '\0';
	memset(&b, 0, sizeof(b));
	for (i = 0; i < n && first == NULL; i++)
		if (!jobs[i].skip)
			first = jobs[i].o->key_path ? jobs[i].o->key_path :
			    jobs[i].o->cert_path ? jobs[i].o->cert_path :
			    jobs[i].o->chain_path;
	if (first == NULL)
		return CM_OK;
	cm__buf_add(&b, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC));
	for (i = 0; i < n; i++) {
		if (jobs[i].skip)
			continue;
		cm__buf_add(&b, jobs[i].info->fingerprint,
		    strlen(jobs[i].info->fingerprint) + 1);
		journal_path_add(&b, jobs[i].o->cert_path);
		journal_path_add(&b, jobs[i].key_pem.data != NULL ?
		    jobs[i].o->key_path : NULL);
		journal_path_add(&b, jobs[i].o->chain_path);
	}
	if (b.oom) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	cm__dir_of(dir, sizeof(dir), first);
	if ((size_t)snprintf(jpath, jlen, "%s/" CM__JOURNAL_PREFIX "%ld-XXXXXX",
	    dir, (long)getpid()) >= jlen) {
		jpath[0] = '\0';
		err = cm__fail(ctx, CM_E_INVALID, "%s: path too long", first);
		goto out;
	}
	if ((fd = mkstemp(jpath)) < 0) {
		saved = errno;
		jpath[0] = '\0';
		err = cm__errno_fail(ctx, saved, "%s: cannot create file in %s",
		    first, dir);
		goto out;
	}
	saved = 0;
	while (off < b.len && saved == 0) {
		ssize_t w = write(fd, b.p + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			saved = w == 0 ? ENOSPC : errno;
		else
			off += (size_t)w;
	}
	if (saved == 0 && fdatasync(fd) != 0)
		saved = errno;
	if (close(fd) != 0 && saved == 0)
		saved = errno;
	fd = -1;
	if (saved != 0) {
		unlink(jpath);
		jpath[0] = '\0';
		err = cm__errno_fail(ctx, saved, "%s: writing in %s", first,
		    dir);
	}
out:
	if (fd >= 0)
		close(fd);
	free(b.p);
	return err;
}

/* The key of a recorded certificate as the PEM its file holds. */
static cm_err
stored_key_pem(gnutls_datum_t *pem, cm_store *st, const cm_cert_info *c)
{
	cm_ctx *ctx = cm__store_ctx(st);
	gnutls_x509_privkey_t xkey = NULL;
	gnutls_datum_t plain = { NULL, 0 };
	cm_err err;
	int ret;

	pem->data = NULL;
	if ((err = cm__cert_key_load(&xkey, st, c->ca, c->serial)) != CM_OK)
		goto out;
	if ((err = cm__key_export_pkcs8(&plain, ctx, xkey, NULL)) != CM_OK)
		goto out;
	if ((ret = gnutls_pem_base64_encode2("PRIVATE KEY", &plain, pem)) <
	    0)
		err = cm__gnutls_fail(ctx, ret, "exporting key");
out:
	if (plain.data != NULL) {
		gnutls_memset(plain.data, 0, plain.size);
		gnutls_free(plain.data);
	}
	gnutls_x509_privkey_deinit(xkey);
	return err;
}

/* Places what a crashed issuance left unplaced of its committed
 * certificates; certificates it never committed are not in the store and
 * get nothing.  An existing file is left as it is. */
/* Certificate files a journal completed in this run, absolute. */
typedef struct recovered {
	char **v;
	size_t n;
} recovered;

static void
recovered_free(recovered *r)
{
	while (r->n > 0)
		free(r->v[--r->n]);
	free(r->v);
	r->v = NULL;
}

static cm_err
recovered_add(recovered *r, cm_ctx *ctx, const char *path)
{
	char **nv;

	if ((nv = realloc(r->v, (r->n + 1) * sizeof(*nv))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	r->v = nv;
	if ((nv[r->n] = strdup(path)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	r->n++;
	return CM_OK;
}

static bool
recovered_has(const recovered *r, const char *path)
{
	char cwd[PATH_MAX], *abs = NULL;
	size_t i;
	bool found = false;

	if (r->n == 0 || path == NULL)
		return false;
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		if (asprintf(&abs, "%s/%s", cwd, path) < 0)
			return false;
	} else if ((abs = strdup(path)) == NULL) {
		return false;
	}
	for (i = 0; i < r->n && !found; i++)
		found = strcmp(r->v[i], abs) == 0;
	free(abs);
	return found;
}

static cm_err
recover_journal(cm_store *st, const cm__signer *s, const char *jpath,
    recovered *rv)
{
	cm_ctx *ctx = cm__store_ctx(st);
	char *data = NULL, *p, *end, *f[4], *chain = NULL;
	size_t len = 0, chainlen = 0;
	cm_cert_info *c = NULL;
	gnutls_datum_t key = { NULL, 0 };
	cm_err err = CM_OK;
	int k;

	/* Not ours, or cut short: then nothing was committed. */
	p = end = NULL;
	if (cm__file_read(ctx, jpath, (size_t)256 * 1024 * 1024, &data, &len) ==
	    CM_OK && len >= sizeof(JOURNAL_MAGIC) &&
	    memcmp(data, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC)) == 0) {
		p = data + sizeof(JOURNAL_MAGIC);
		end = data + len;
	}
	while (p < end) {
		for (k = 0; k < 4 && p < end; k++) {
			char *z = memchr(p, '\0', (size_t)(end - p));
			if (z == NULL)
				break;
			f[k] = p;
			p = z + 1;
		}
		if (k < 4)
			break;
		cm_cert_info_free(c);
		c = NULL;
		if (cm__store_cert_by_fpr(st, f[0]) <= 0 ||
		    cm_cert_find(&c, st, f[0]) != CM_OK) {
			c = NULL;
			continue;
		}
		if (f[2][0] != '\0' && access(f[2], F_OK) != 0) {
			err = stored_key_pem(&key, st, c);
			if (err == CM_E_NOTFOUND)
				err = CM_OK;    /* not kept: nothing to write */
			else if (err == CM_OK)
				err = cm__file_write(ctx, f[2], key.data,
				    key.size, 0600, false, true);
			if (key.data != NULL) {
				gnutls_memset(key.data, 0, key.size);
				gnutls_free(key.data);
				key.data = NULL;
			}
			if (err != CM_OK && err != CM_E_EXISTS)
				goto out;
		}
		if (f[1][0] != '\0' && access(f[1], F_OK) != 0 &&
		    (err = cm__file_write(ctx, f[1], c->pem, strlen(c->pem),
		    0644, false, true)) != CM_OK && err != CM_E_EXISTS)
			goto out;
		if (f[1][0] != '\0' && (err = recovered_add(rv, ctx, f[1])) !=
		    CM_OK)
			goto out;
		if (f[3][0] != '\0' && access(f[3], F_OK) != 0 &&
		    strcmp(c->ca, s->rec.info.name) == 0) {
			if (chain == NULL && (err = chain_pem(&chain, &chainlen,
			    ctx, s)) != CM_OK)
				goto out;
			if ((err = cm__file_write(ctx, f[3], chain ? chain : "",
			    chainlen, 0644, false, true)) != CM_OK &&
			    err != CM_E_EXISTS)
				goto out;
		}
		err = CM_OK;
	}
	unlink(jpath);
out:
	if (err != CM_OK) {
		char m[CM_ERRBUF];
		snprintf(m, sizeof(m), "%s", ctx->err);
		err = cm__fail(ctx, err, "completing the files of an "
		    "interrupted issuance (%s): %s", jpath, m);
	}
	cm_cert_info_free(c);
	free(chain);
	free(data);
	return err;
}

/* Before issuing into a folder: the temp files of crashed runs go, and
 * their journals are completed. */
static cm_err
recover_dirs(cm_store *st, const cm__signer *s, const cm_issue_opts *reqs,
    size_t n, recovered *rv)
{
	char seen[4][PATH_MAX], dir[PATH_MAX], **jv = NULL;
	size_t i, k, nj = 0, nseen = 0;
	cm_err err = CM_OK;
	int x;

	for (i = 0; i < n; i++) {
		const char *p[3] = { reqs[i].cert_path, reqs[i].key_path,
		    reqs[i].chain_path };
		for (x = 0; x < 3; x++) {
			if (p[x] == NULL)
				continue;
			cm__dir_of(dir, sizeof(dir), p[x]);
			for (k = 0; k < nseen; k++)
				if (strcmp(seen[k], dir) == 0)
					break;
			if (k < nseen)
				continue;
			snprintf(seen[nseen % 4], sizeof(seen[0]), "%s", dir);
			if (nseen < 4)
				nseen++;
			cm__file_clean_stale(dir);
			if ((err = cm__file_stale_journals(&jv, &nj,
			    cm__store_ctx(st), dir)) != CM_OK)
				return err;
			for (k = 0; k < nj; k++) {
				if (err == CM_OK)
					err = recover_journal(st, s, jv[k], rv);
				free(jv[k]);
			}
			free(jv);
			jv = NULL;
			if (err != CM_OK)
				return err;
		}
	}
	return CM_OK;
}

/* A batch line whose certificate file holds a certificate of the store
 * for the same names, with its key file beside it: done by an earlier
 * run (one that was interrupted, say). */
static bool
line_done(job *j, cm_store *st, const cm_issue_opts *o)
{
	cm_cert_info *c;
	size_t i;

	if (o->force || o->cert_path == NULL || access(o->cert_path, F_OK) != 0
	    || (o->key_path != NULL && access(o->key_path, F_OK) != 0))
		return false;
	if ((c = file_recorded(st, o->cert_path)) == NULL)
		return false;
	if (c->nnames != o->nnames)
		goto no;
	for (i = 0; i < c->nnames; i++)
		if (strcasecmp(c->names[i], o->names[i]) != 0)
			goto no;
	/* cert_path and key_path stay NULL: this call wrote no file of it
	 * (cm_cert_info), which is how a caller tells it apart. */
	j->o = o;
	j->skip = true;
	j->info = c;
	return true;
no:
	cm_cert_info_free(c);
	return false;
}

/*
 * Output files are written atomically (never seen half-written) but not
 * fsync'ed: the store is the record and keeps the keys, so a file lost to
 * a crash is rebuilt with 'certmint export' (or by the journal); an fsync
 * per file would more than double the cost of an issuance.
 *
 * numbered: a batch, whose errors name the request ("request N: ..."),
 * even a batch of one.  skip_done: a batch line whose files hold a
 * recorded certificate of its names is done (line_done).
 */
static cm_err
issue_many(cm_cert_info ***out, cm_store *st, const cm_issue_opts *reqs,
    size_t n, unsigned threads, const cm__issue_src *src, bool numbered,
    bool skip_done)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__signer *s = NULL;
	profile_cache pc = { { NULL }, 0 };
	pool p;
	worker *w = NULL;
	char *chain = NULL, jpath[PATH_MAX] = "";
	char fp_sign[32], fp_insert[32], fp_commit[32], fp_between[32],
	    fp_placed[32];
	const char *fpp;
	size_t chainlen = 0, i, nw = 0, started = 0;
	cm_cert_info **res = NULL;
	recovered rv = { NULL, 0 };
	bool in_tx = false, mu_init = false, committed = false;
	const char *ca = n > 0 ? reqs[0].ca : NULL;
	cm_err err;
	int ret;

	memset(&p, 0, sizeof(p));
	if (n == 0)
		return cm__fail(ctx, CM_E_INVALID, "issue: no request");
	/* Failpoints: "issue.after_sign", "batch.after_commit",
	 * "renew.between_files", ... */
	fpp = numbered ? "batch" : src != NULL && src->event != NULL ?
	    src->event : "issue";
	snprintf(fp_sign, sizeof(fp_sign), "%s.after_sign", fpp);
	snprintf(fp_insert, sizeof(fp_insert), "%s.after_insert", fpp);
	snprintf(fp_commit, sizeof(fp_commit), "%s.after_commit", fpp);
	snprintf(fp_between, sizeof(fp_between), "%s.between_files", fpp);
	snprintf(fp_placed, sizeof(fp_placed), "%s.after_files", fpp);
	for (i = 1; i < n; i++)
		if ((ca == NULL) != (reqs[i].ca == NULL) ||
		    (ca && strcmp(ca, reqs[i].ca) != 0))
			return cm__fail(ctx, CM_E_INVALID, "batch: all requests "
			    "must use the same CA");
	if ((err = cm__signer_load(&s, st, ca)) != CM_OK)
		goto out;
	if ((err = recover_dirs(st, s, reqs, n, &rv)) != CM_OK)
		goto out;
	if ((p.jobs = calloc(n, sizeof(*p.jobs))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	p.n = n;
	for (i = 0; i < n; i++) {
		/* A batch line done before, or this very request completed
		 * from the journal of a crashed run of it. */
		if ((skip_done || recovered_has(&rv, reqs[i].cert_path)) &&
		    line_done(&p.jobs[i], st, &reqs[i]))
			continue;
		if ((err = job_prepare(&p.jobs[i], st, s, &pc, &reqs[i],
		    src)) != CM_OK) {
			if (numbered) {
				char m[CM_ERRBUF];
				snprintf(m, sizeof(m), "%s", ctx->err);
				cm__fail(ctx, err, "request %zu: %s", i + 1, m);
			}
			goto out;
		}
	}
	if ((err = check_distinct_paths(ctx, reqs, n, numbered)) != CM_OK)
		goto out;

	/* Keys and signatures: the slow part, on every core. */
	p.s = s;
	p.now = cm_ctx_now(ctx);
	pthread_mutex_init(&p.mu, NULL);
	mu_init = true;
	if (threads == 0)
		threads = cores();
	nw = threads > 1 && n > 1 ? (threads < n ? threads : n) - 1 : 0;
	if (nw > 0 && (w = calloc(nw, sizeof(*w))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nw; i++) {
		w[i].p = &p;
		w[i].ctx = ctx;
		if ((err = cm__signer_clone_key(&w[i].key, ctx, s)) != CM_OK)
			goto out;
		if ((ret = gnutls_x509_crt_init(&w[i].crt)) < 0 ||
		    (ret = gnutls_x509_crt_import(w[i].crt, &s->rec.der,
		    GNUTLS_X509_FMT_DER)) < 0) {
			err = cm__gnutls_fail(ctx, ret, "CA '%s'",
			    s->rec.info.name);
			goto out;
		}
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			break;  /* fewer helpers; this thread does the rest */
		started++;
	}
	run_jobs(&p, ctx, s->crt, s->key, true);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	started = 0;
	/* Helpers may finish the last jobs after this thread's last report:
	 * the bar must still reach n of n. */
	if (ctx->progress_fn != NULL && !p.failed && p.reported != n)
		ctx->progress_fn(n, n, ctx->progress_arg);
	if (p.failed) {
		for (i = 0; i < n; i++)
			if (p.jobs[i].err != CM_OK) {
				err = cm__fail(ctx, p.jobs[i].err, "%s%s",
				    p.jobs[i].errmsg, "");
				goto out;
			}
	}
	if ((err = cm__failpoint(ctx, fp_sign)) != CM_OK)
		goto out;

	if ((err = chain_pem(&chain, &chainlen, ctx, s)) != CM_OK)
		goto out;
	/* The answer's array before anything is recorded: after the commit
	 * nothing may fail for want of memory. */
	if (out != NULL && (res = calloc(n, sizeof(*res))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	in_tx = true;
	for (i = 0; i < n; i++) {
		/* 2^-128 per draw, but the store is the judge. */
		int tries = 0;
		bool taken;
		if (p.jobs[i].skip)
			continue;
		for (;;) {
			if ((err = cm__store_serial_taken(&taken, st,
			    s->rec.id, p.jobs[i].info->serial)) != CM_OK)
				goto out;
			if (!taken)
				break;
			if (++tries > 8) {
				err = cm__fail(ctx, CM_E_STORE, "no free "
				    "serial number");
				goto out;
			}
			if ((err = job_build(&p.jobs[i], ctx, s, s->crt, s->key,
			    p.now)) != CM_OK)
				goto out;
		}
		if ((err = job_record(&p.jobs[i], st, s)) != CM_OK)
			goto out;
	}
	/* The files staged while nothing is recorded: a full disk, or a
	 * file that appeared while the keys were made, refuses it all. */
	for (i = 0; i < n; i++)
		if ((err = job_stage(&p.jobs[i], ctx, chain, chainlen)) !=
		    CM_OK)
			goto out;
	/* The journal after the last rebuild (its fingerprints are final),
	 * synced before the commit: a crash after the commit finds it. */
	if ((err = journal_write(jpath, sizeof(jpath), ctx, p.jobs, n)) !=
	    CM_OK)
		goto out;
	if ((err = cm__failpoint(ctx, fp_insert)) != CM_OK)
		goto out;
	if ((err = cm__store_commit(st)) != CM_OK)
		goto out;
	in_tx = false;
	committed = true;
	if ((err = cm__failpoint(ctx, fp_commit)) != CM_OK)
		goto out;
	/* Recorded: now the files.  A failure here leaves the certificates
	 * recorded (and valid): the message says how to get the files. */
	for (i = 0; i < n; i++) {
		if ((err = job_place(&p.jobs[i], ctx, fp_between)) != CM_OK)
			goto out;
		if (!p.jobs[i].skip && i + 1 < n &&
		    (err = cm__failpoint(ctx, fp_between)) != CM_OK)
			goto out;
	}
	if ((err = cm__failpoint(ctx, fp_placed)) != CM_OK)
		goto out;
	if (out != NULL) {
		for (i = 0; i < n; i++) {
			res[i] = p.jobs[i].info;
			p.jobs[i].info = NULL;
		}
		*out = res;
		res = NULL;
	}
out:
	if (err != CM_OK && committed) {
		char m[CM_ERRBUF];
		snprintf(m, sizeof(m), "%s", ctx->err);
		for (i = 0; i < n; i++)
			if (!p.jobs[i].skip && p.jobs[i].info != NULL)
				break;
		if (i < n)
			cm__fail(ctx, err, "%s (certificate %s%s is recorded: "
			    "the same command again places its files, as "
			    "'certmint export' does)", m,
			    p.jobs[i].info->serial, n > 1 ? " and the "
			    "batch's others" : "");
		/* The journal stays for that next run. */
		jpath[0] = '\0';
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (i = 0; i < nw && w != NULL; i++) {
		gnutls_privkey_deinit(w[i].key);
		gnutls_x509_crt_deinit(w[i].crt);
	}
	free(w);
	if (in_tx)
		cm__store_rollback(st);
	if (jpath[0] != '\0')
		unlink(jpath);
	if (mu_init)
		pthread_mutex_destroy(&p.mu);
	for (i = 0; p.jobs != NULL && i < n; i++)
		job_clear(&p.jobs[i]);
	free(p.jobs);
	free(res);
	free(chain);
	recovered_free(&rv);
	cache_free(&pc);
	cm__signer_free(s);
	return err;
}

cm_err
cm_issue(cm_cert_info **out, cm_store *st, const cm_issue_opts *o)
{
	cm_cert_info **res = NULL;
	cm_err err;

	if (o == NULL)
		return cm__fail(cm__store_ctx(st), CM_E_INVALID,
		    "issue: no options");
	err = issue_many(out ? &res : NULL, st, o, 1, 1, NULL, false, false);
	if (err == CM_OK && out != NULL) {
		if (res == NULL)
			return cm__fail(cm__store_ctx(st), CM_E_NOMEM,
			    "out of memory (the certificate was issued)");
		*out = res[0];
		free(res);
	}
	return err;
}

cm_err
cm_issue_batch(cm_cert_info ***out, cm_store *st, const cm_issue_opts *reqs,
    size_t n, unsigned threads)
{
	return issue_many(out, st, reqs, n, threads, NULL, true, false);
}

cm_err
cm__issue_src_one(cm_cert_info **out, cm_store *st, const cm_issue_opts *o,
    const cm__issue_src *src)
{
	cm_cert_info **res = NULL;
	cm_err err;

	err = issue_many(out ? &res : NULL, st, o, 1, 1, src, false, false);
	if (err == CM_OK && out != NULL) {
		if (res == NULL)
			return cm__fail(cm__store_ctx(st), CM_E_NOMEM,
			    "out of memory (the certificate was issued)");
		*out = res[0];
		free(res);
	}
	return err;
}

#define MAX_BATCH (1024 * 1024)
#define MAX_BATCH_FILE (64 * 1024 * 1024)

typedef cm__batch_req batch_req;

void
cm__batch_free(batch_req *br, size_t n)
{
	size_t i;

	for (i = 0; br != NULL && i < n; i++) {
		free(br[i].line);
		free(br[i].words);
		free(br[i].cert);
		free(br[i].key);
		free(br[i].chain);
	}
	free(br);
}

#define BATCH_SEP " \t\r\v\f"

/*
 * The options a line may give after its names, as a single issue takes
 * them: --profile P, --days D, --key-type T.  They leave the words.
 */
static cm_err
batch_options(batch_req *br, cm_ctx *ctx, const char *path, size_t lineno)
{
	size_t i, k = 1;
	char m[CM_ERRBUF];
	cm_err err;

	for (i = 1; i < br->nwords; i++) {
		const char *w = br->words[i], *v;
		if (strncmp(w, "--", 2) != 0) {
			if (k < i)
				return cm__fail(ctx, CM_E_INVALID, "%s:%zu: "
				    "name '%.60s' after an option: give the "
				    "names first", path, lineno, w);
			br->words[k++] = br->words[i];
			continue;
		}
		if (strcmp(w, "--days") != 0 && strcmp(w, "--key-type") != 0 &&
		    strcmp(w, "--profile") != 0)
			return cm__fail(ctx, CM_E_INVALID, "%s:%zu: option "
			    "'%.40s' is not taken in a batch line (--days, "
			    "--key-type, --profile)", path, lineno, w);
		if (i + 1 == br->nwords)
			return cm__fail(ctx, CM_E_INVALID, "%s:%zu: %s needs a "
			    "value", path, lineno, w);
		v = br->words[++i];
		if (strcmp(w, "--profile") == 0) {
			br->profile = v;
		} else if (strcmp(w, "--days") == 0) {
			char *end;
			unsigned long d;
			errno = 0;
			d = strtoul(v, &end, 10);
			if (errno != 0 || *end != '\0' || v[0] < '0' ||
			    v[0] > '9' || d == 0 || d > 36500)
				return cm__fail(ctx, CM_E_INVALID, "%s:%zu: "
				    "--days '%.40s': give 1 to 36500", path,
				    lineno, v);
			br->days = (unsigned)d;
		} else if ((err = cm_key_type_parse(&br->key_type, ctx, v)) !=
		    CM_OK) {
			snprintf(m, sizeof(m), "%s", ctx->err);
			return cm__fail(ctx, err, "%s:%zu: %s", path, lineno,
			    m);
		}
	}
	/* Between the last name and the options, the words shrank. */
	if (k < 2)
		return cm__fail(ctx, CM_E_INVALID, "%s:%zu: expected a profile "
		    "and at least one name", path, lineno);
	br->nwords = k;
	return CM_OK;
}

/* Splits one line into br; 0 words for a blank or comment line. */
static cm_err
batch_line(batch_req *br, cm_ctx *ctx, const char *line, const char *outdir,
    const char *path, size_t lineno)
{
	char *tok, *save = NULL, stem[256], m[CM_ERRBUF];
	size_t words = 0;
	const char *c, *sep;
	cm_err err;

	memset(br, 0, sizeof(*br));
	/* The separators strtok_r uses below, not isspace(): in a locale
	 * where isspace(0xa0) holds, the counts would differ and words[1]
	 * could be NULL. */
	for (c = line; *c && *c != '#'; c++)
		if (strchr(BATCH_SEP, *c) == NULL &&
		    (c == line || strchr(BATCH_SEP, c[-1]) != NULL))
			words++;
	if (words == 0)
		return CM_OK;
	if (words < 2)
		return cm__fail(ctx, CM_E_INVALID, "%s:%zu: expected a profile "
		    "and at least one name", path, lineno);
	if ((br->line = strdup(line)) == NULL ||
	    (br->words = calloc(words, sizeof(char *))) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	if ((tok = strchr(br->line, '#')) != NULL)
		*tok = '\0';
	for (tok = strtok_r(br->line, BATCH_SEP, &save);
	    tok != NULL && br->nwords < words;
	    tok = strtok_r(NULL, BATCH_SEP, &save))
		br->words[br->nwords++] = tok;
	if ((err = batch_options(br, ctx, path, lineno)) != CM_OK)
		return err;
	if ((err = cm_name_file_stem(stem, sizeof(stem), ctx,
	    br->words[1])) != CM_OK) {
		snprintf(m, sizeof(m), "%s", ctx->err);
		return cm__fail(ctx, err, "%s:%zu: %s", path, lineno, m);
	}
	/* "out/" names the folder as well as "out": no "out//a.crt". */
	sep = outdir[0] != '\0' && outdir[strlen(outdir) - 1] == '/' ? "" :
	    "/";
	if (asprintf(&br->cert, "%s%s%s.crt", outdir, sep, stem) < 0) {
		br->cert = NULL;
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	if (asprintf(&br->key, "%s%s%s.key", outdir, sep, stem) < 0) {
		br->key = NULL;
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	if (asprintf(&br->chain, "%s%s%s.chain.pem", outdir, sep, stem) < 0) {
		br->chain = NULL;
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	return CM_OK;
}

cm_err
cm__batch_parse(cm__batch_req **out, size_t *nout, cm_ctx *ctx, char *text,
    size_t len, const char *path, const char *outdir)
{
	char *p, *nl;
	batch_req *br = NULL, *nb;
	size_t n = 0, cap = 0, lineno = 0;
	cm_err err = CM_OK;

	if (memchr(text, '\0', len) != NULL) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: not a text file", path);
		goto out;
	}
	for (p = text; p < text + len; p = nl + 1) {
		lineno++;
		if ((nl = strchr(p, '\n')) == NULL)
			nl = text + len;
		*nl = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (cap > MAX_BATCH) {
				err = cm__fail(ctx, CM_E_INVALID, "%s:%zu: more "
				    "than %d requests", path, lineno,
				    MAX_BATCH);
				goto out;
			}
			if ((nb = realloc(br, cap * sizeof(*br))) == NULL) {
				err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
				goto out;
			}
			br = nb;
		}
		err = batch_line(&br[n], ctx, p, outdir, path, lineno);
		if (br[n].nwords > 0 || err != CM_OK) {
			br[n].lineno = lineno;
			n++;
		}
		if (err != CM_OK)
			goto out;
	}
	if (n == 0) {
		err = cm__fail(ctx, CM_E_INVALID, "%s: no request", path);
		goto out;
	}
	*out = br;
	*nout = n;
	br = NULL;
	n = 0;
out:
	cm__batch_free(br, n);
	return err;
}

cm_err
cm_issue_batch_file(cm_cert_info ***out, size_t *nout, cm_store *st,
    const char *path, const char *outdir, const cm_issue_opts *defaults,
    unsigned threads)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_issue_opts def = CM_ISSUE_OPTS_INIT;
	char *text = NULL, *p, m[CM_ERRBUF];
	batch_req *br = NULL;
	cm_issue_opts *reqs = NULL;
	cm_ca_info *cai = NULL;
	bool intermediate;
	size_t len, n = 0, i;
	cm_err err;

	if (defaults == NULL)
		defaults = &def;
	if (outdir == NULL)
		outdir = ".";
	if ((err = cm__file_read(ctx, path, MAX_BATCH_FILE, &text, &len)) !=
	    CM_OK)
		return err;
	if ((err = cm__batch_parse(&br, &n, ctx, text, len, path, outdir)) !=
	    CM_OK)
		goto out;
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = cm_ca_get(&cai, st, defaults->ca)) != CM_OK)
		goto out;
	intermediate = cai->parent != NULL;
	for (i = 0; i < n; i++) {
		reqs[i] = *defaults;
		reqs[i].version = CM_ISSUE_OPTS_VERSION;
		reqs[i].profile = br[i].profile ? br[i].profile :
		    br[i].words[0];
		reqs[i].names = (const char *const *)br[i].words + 1;
		reqs[i].nnames = br[i].nwords - 1;
		reqs[i].cert_path = br[i].cert;
		reqs[i].key_path = br[i].key;
		/* Under an intermediate, the chain a server sends with its
		 * certificate: NAME.chain.pem. */
		reqs[i].chain_path = intermediate ? br[i].chain : NULL;
		if (br[i].days != 0)
			reqs[i].days = br[i].days;
		if (br[i].key_type != CM_KEY_DEFAULT)
			reqs[i].key_type = br[i].key_type;
	}
	err = issue_many(out, st, reqs, n, threads, NULL, true, true);
	if (err != CM_OK && strncmp(ctx->err, "request ", 8) == 0) {
		/* "request N: ..." becomes "FILE:LINE: ..." */
		size_t r = (size_t)strtoul(ctx->err + 8, &p, 10);
		if (r >= 1 && r <= n && p[0] == ':') {
			snprintf(m, sizeof(m), "%s", p + 2);
			cm__fail(ctx, err, "%s:%zu: %s", path, br[r - 1].lineno,
			    m);
		}
	} else if (err != CM_OK && strncmp(ctx->err, "requests ", 9) == 0) {
		/* "requests K and I both write F" names lines too. */
		size_t k = (size_t)strtoul(ctx->err + 9, &p, 10), r = 0;
		if (strncmp(p, " and ", 5) == 0)
			r = (size_t)strtoul(p + 5, &p, 10);
		if (k >= 1 && r > k && r <= n &&
		    strncmp(p, " both write ", 12) == 0) {
			snprintf(m, sizeof(m), "%s", p + 12);
			cm__fail(ctx, err, "%s:%zu: writes %s, as line %zu "
			    "does", path, br[r - 1].lineno, m,
			    br[k - 1].lineno);
		}
	}
	if (err == CM_OK && nout != NULL)
		*nout = n;
out:
	cm_ca_info_free(cai);
	free(reqs);
	cm__batch_free(br, n);
	free(text);
	return err;
}
