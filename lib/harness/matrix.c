/*
 * matrix.c - the default scenario matrix of an issued certificate.
 *
 * Positive and negative controls derived from the certificate: every SAN,
 * wrong names, an untrusted root, and twins (same names and key) signed by
 * ephemeral CAs that live in memory only: expired, not yet valid, wrong
 * EKU, outside a name constraint.  Client and peer certificates get the
 * mTLS set.  Everything under TLS 1.2 and TLS 1.3.
 *
 * Name expectations (RFC 6125 6.4, RFC 4343): DNS names compare without
 * regard to case, so an upper-case name is "ok"; a wildcard covers exactly
 * one left-most label (not the parent, not two labels); an IP reference is
 * matched against iPAddress SANs only (6.2.1 of RFC 9525), so an IP written
 * as a dNSName does not match.  A trailing dot (absolute name): RFC 6125
 * leaves it open; GnuTLS 3.7 compares it literally and rejects it, so the
 * matrix expects "hostname" (OpenSSL strips one trailing dot and accepts:
 * an interop difference the report shows).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/x509-ext.h>

#include "harness.h"

#define DAY (24 * 3600)
#define MAX_SANS 64

#define EKU_SERVER 0x1
#define EKU_CLIENT 0x2

typedef struct san {
	unsigned type;          /* GNUTLS_SAN_* */
	unsigned char data[256];
	size_t len;
	char text[256];         /* DNS text, or the IP in text form */
} san;

typedef struct certspec {
	const char *dn;
	const san *sans;
	size_t nsans;
	bool ip_as_dns;         /* write IP SANs as dNSName */
	bool ca;
	bool constrained;       /* permitted subtrees far from any test name */
	bool must_staple;       /* TLS feature status_request (RFC 7633) */
	bool sha1;              /* signed with SHA-1 (test client's weak
	                           scenario), else SHA-256 */
	unsigned eku;
	time_t nb, na;
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t issuer;     /* NULL: self-signed */
	gnutls_x509_privkey_t ikey;
} certspec;

/* An ephemeral authority: certificate, key and PEM. */
typedef struct eca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	char *pem;
} eca;

typedef struct mbuild {
	cm_ctx *ctx;
	cm_scenario **v;
	size_t n, cap;
	const char *prio;
	const char *ver;
} mbuild;

static char *
pem_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s = NULL;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) < 0)
		return NULL;
	if ((s = malloc(d.size + 1)) != NULL) {
		memcpy(s, d.data, d.size);
		s[d.size] = '\0';
	}
	gnutls_free(d.data);
	return s;
}

static char *
key_pem_of(cm_ctx *ctx, gnutls_x509_privkey_t key)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s = NULL;

	/* PKCS#8, as certmint writes keys everywhere: the SEC1 form GnuTLS
	 * exports from a key read from PKCS#8 (openssl genpkey's) lacks the
	 * curve and does not read back ("Error in DER parsing"). */
	if (cm__key_export_pem(&d, ctx, key) != CM_OK)
		return NULL;
	if ((s = malloc(d.size + 1)) != NULL) {
		memcpy(s, d.data, d.size);
		s[d.size] = '\0';
	}
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return s;
}

/* a + b, newly allocated; NULL parts are empty. */
static char *
cat2(const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
	char *s;

	if ((s = malloc(la + lb + 1)) == NULL)
		return NULL;
	if (la)
		memcpy(s, a, la);
	if (lb)
		memcpy(s + la, b, lb);
	s[la + lb] = '\0';
	return s;
}

static cm_err
make_cert(gnutls_x509_crt_t *out, cm_ctx *ctx, const certspec *sp)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_x509_privkey_t signer;
	unsigned char serial[20], id[64];
	size_t idlen = sizeof(id), i;
	const char *errp = NULL;
	unsigned usage;
	cm_err err = CM_OK;
	int ret, pk;

	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(crt, sp->key)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn(crt, sp->dn, &errp)) < 0 ||
	    (ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto gfail;
	serial[0] = (serial[0] & 0x7f) | 0x40; /* RFC 5280 4.1.2.2: positive */
	if ((ret = gnutls_x509_crt_set_serial(crt, serial,
	    sizeof(serial))) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, sp->nb)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt, sp->na)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(crt, sp->ca,
	    -1)) < 0)
		goto gfail;
	usage = sp->ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
	    GNUTLS_KEY_DIGITAL_SIGNATURE : GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT;
	if ((ret = gnutls_x509_crt_set_key_usage(crt, usage)) < 0)
		goto gfail;
	if ((sp->eku & EKU_SERVER) && (ret = gnutls_x509_crt_set_key_purpose_oid(
	    crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto gfail;
	if ((sp->eku & EKU_CLIENT) && (ret = gnutls_x509_crt_set_key_purpose_oid(
	    crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0)
		goto gfail;
	for (i = 0; i < sp->nsans; i++) {
		const san *a = &sp->sans[i];
		if (a->type == GNUTLS_SAN_IPADDRESS && sp->ip_as_dns)
			ret = gnutls_x509_crt_set_subject_alt_name(crt,
			    GNUTLS_SAN_DNSNAME, a->text, strlen(a->text),
			    GNUTLS_FSAN_APPEND);
		else
			ret = gnutls_x509_crt_set_subject_alt_name(crt,
			    (gnutls_x509_subject_alt_name_t)a->type, a->data,
			    (unsigned)a->len, GNUTLS_FSAN_APPEND);
		if (ret < 0)
			goto gfail;
	}
	if (sp->constrained) {
		static const unsigned char v4[8] = { 192, 0, 2, 0,
			255, 255, 255, 0 };
		static const unsigned char v6[32] = { 0x20, 0x01, 0x0d, 0xb8,
			[16] = 0xff, 0xff, 0xff, 0xff };
		gnutls_datum_t d;
		if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0)
			goto gfail;
		d.data = (unsigned char *)(uintptr_t)"certmint-nc.invalid";
		d.size = 19;
		if ((ret = gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_DNSNAME, &d)) < 0)
			goto gfail;
		d.data = (unsigned char *)(uintptr_t)v4;
		d.size = sizeof(v4);
		if ((ret = gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_IPADDRESS, &d)) < 0)
			goto gfail;
		d.data = (unsigned char *)(uintptr_t)v6;
		d.size = sizeof(v6);
		if ((ret = gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_IPADDRESS, &d)) < 0 ||
		    (ret = gnutls_x509_crt_set_name_constraints(crt, nc,
		    1)) < 0)
			goto gfail;
	}
	if (sp->must_staple) {
		gnutls_x509_tlsfeatures_t tf = NULL;
		if ((ret = gnutls_x509_tlsfeatures_init(&tf)) >= 0 &&
		    (ret = gnutls_x509_tlsfeatures_add(tf, 5)) >= 0)
			ret = gnutls_x509_crt_set_tlsfeatures(crt, tf);
		if (tf != NULL)
			gnutls_x509_tlsfeatures_deinit(tf);
		if (ret < 0)
			goto gfail;
	}
	if ((ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id,
	    &idlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0)
		goto gfail;
	if (sp->issuer != NULL) {
		idlen = sizeof(id);
		if ((ret = gnutls_x509_crt_get_subject_key_id(sp->issuer, id,
		    &idlen, NULL)) < 0 ||
		    (ret = gnutls_x509_crt_set_authority_key_id(crt, id,
		    idlen)) < 0)
			goto gfail;
	}
	signer = sp->issuer ? sp->ikey : sp->key;
	/* RFC 8410: an EdDSA key signs the message itself, no digest. */
	pk = gnutls_x509_privkey_get_pk_algorithm2(signer, NULL);
	if ((ret = gnutls_x509_crt_sign2(crt, sp->issuer ? sp->issuer : crt,
	    signer, pk == GNUTLS_PK_EDDSA_ED25519 ||
	    pk == GNUTLS_PK_EDDSA_ED448 ? GNUTLS_DIG_UNKNOWN : sp->sha1 ?
	    GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256, 0)) < 0)
		goto gfail;
	*out = crt;
	crt = NULL;
	goto out;
gfail:
	err = cm__gnutls_fail(ctx, ret, "matrix: ephemeral certificate '%s'",
	    sp->dn);
out:
	if (nc != NULL)
		gnutls_x509_name_constraints_deinit(nc);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return err;
}

static void
eca_clear(eca *e)
{
	if (e->crt)
		gnutls_x509_crt_deinit(e->crt);
	if (e->key)
		gnutls_x509_privkey_deinit(e->key);
	free(e->pem);
	memset(e, 0, sizeof(*e));
}

/* An ephemeral CA (or, with ca false, a self-signed non-CA "issuer"),
 * self-signed or, with a parent, an intermediate below it. */
static cm_err
eca_new(eca *e, cm_ctx *ctx, const char *dn, bool ca, bool constrained,
    const eca *parent, time_t now)
{
	certspec sp;
	cm_err err;

	memset(e, 0, sizeof(*e));
	if ((err = cm__key_generate(&e->key, ctx, CM_KEY_EC_P256)) != CM_OK)
		return err;
	memset(&sp, 0, sizeof(sp));
	sp.dn = dn;
	sp.ca = ca;
	sp.constrained = constrained;
	sp.nb = now - DAY;
	sp.na = now + 7 * DAY;
	sp.key = e->key;
	sp.issuer = parent ? parent->crt : NULL;
	sp.ikey = parent ? parent->key : NULL;
	if ((err = make_cert(&e->crt, ctx, &sp)) != CM_OK)
		return err;
	if ((e->pem = pem_of(e->crt)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	return CM_OK;
}

/* A leaf signed by issuer (NULL: self), returned as PEM. */
static cm_err
twin(char **pem, cm_ctx *ctx, const certspec *base, const eca *issuer,
    unsigned eku, time_t nb, time_t na, bool ip_as_dns)
{
	certspec sp = *base;
	gnutls_x509_crt_t crt = NULL;
	cm_err err;

	sp.eku = eku;
	sp.nb = nb;
	sp.na = na;
	sp.ip_as_dns = ip_as_dns;
	sp.issuer = issuer ? issuer->crt : NULL;
	sp.ikey = issuer ? issuer->key : NULL;
	if ((err = make_cert(&crt, ctx, &sp)) != CM_OK)
		return err;
	*pem = pem_of(crt);
	gnutls_x509_crt_deinit(crt);
	return *pem ? CM_OK : cm__fail(ctx, CM_E_NOMEM, "out of memory");
}

/* Appends a deep copy of t, named "<ver>/<label>". */
static cm_err
push(mbuild *m, const cm_scenario *t, const char *label)
{
	cm_scenario *sc, **nv;
	bool bad = false;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		if ((nv = realloc(m->v, cap * sizeof(*nv))) == NULL)
			return cm__fail(m->ctx, CM_E_NOMEM, "out of memory");
		m->v = nv;
		m->cap = cap;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return cm__fail(m->ctx, CM_E_NOMEM, "out of memory");
#define DUP(f) do { if (t->f && (sc->f = cm__strdup(t->f)) == NULL) \
	bad = true; } while (0)
	sc->version = CM_SCENARIO_VERSION;
	sc->name = m->ver ? cat2(m->ver, label) : cm__strdup(label);
	bad = sc->name == NULL;
	DUP(server_chain);
	DUP(server_key);
	DUP(trust);
	DUP(expected_name);
	DUP(client_chain);
	DUP(client_key);
	DUP(client_trust);
	DUP(client_priority);
	DUP(note);
	DUP(crl);
	DUP(client_crl);
#undef DUP
	if (t->ocsp_staple != NULL) {
		if ((sc->ocsp_staple = malloc(t->ocsp_staple_len)) == NULL)
			bad = true;
		else
			memcpy(sc->ocsp_staple, t->ocsp_staple,
			    t->ocsp_staple_len);
		sc->ocsp_staple_len = t->ocsp_staple_len;
	}
	sc->has_also = t->has_also;
	sc->expect_also = t->expect_also;
	sc->name_as_dns = t->name_as_dns;
	sc->client_auth = t->client_auth;
	sc->expect = t->expect;
	if (t->priority)
		sc->priority = cm__strdup(t->priority);
	else if (m->prio)
		sc->priority = cm__strdup(m->prio);
	if (bad || ((t->priority || m->prio) && sc->priority == NULL)) {
		cm_scenario_free(sc);
		return cm__fail(m->ctx, CM_E_NOMEM, "out of memory");
	}
	m->v[m->n++] = sc;
	return CM_OK;
}

/* ---- name variants ------------------------------------------------------ */

static void
upper(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = (char)toupper((unsigned char)s[i]);
	dst[i] = '\0';
}

typedef struct sources {
	cm_ctx *ctx;
	san sans[MAX_SANS];
	size_t nsans;
	unsigned eku;
	char *dn;
	char *leaf_pem;
	char *chain_pem;   /* leaf + intermediates */
	char *root_pem;    /* the client's trust: the root of the real CA */
	char *key_pem;
	gnutls_x509_privkey_t key;
	const char *given_key;  /* PEM from the caller, else the store's */
	size_t given_key_len;
	time_t now;
	eca e;        /* trusted ephemeral CA */
	eca u;        /* untrusted ephemeral root */
	eca nc;       /* constrained ephemeral CA */
	eca notca;    /* trusted, self-signed, not a CA */
	eca ei;       /* an intermediate below E */
	char *via_int;        /* a twin from ei, alone */
	char *via_int_chain;  /* the same twin followed by ei */
	char *expired, *nyv, *wrong_eku, *nc_twin, *ip_dns, *self, *via_notca;
	char *first;  /* the first SAN, as the name to expect */
	/* test client: a twin from U, and one below a non-CA from E */
	bool for_clients;
	eca notca_e;  /* not a CA, issued by E */
	char *u_twin, *via_notca_e;
	/* mTLS */
	char *srv_pem, *srv_key_pem;
	gnutls_x509_privkey_t srv_key;
	char *c_foreign, *c_server_only, *c_expired;
	char *client_trust;  /* real root + E */
	/* revocation: twins from E, E's CRL, staples signed by E */
	char *rev_twin, *good_twin, *ms_twin;
	char *crl_pem;       /* E's CRL: lists rev_twin only */
	unsigned char *staple_rev, *staple_good, *staple_ms;
	size_t staple_rev_len, staple_good_len, staple_ms_len;
	/* the real certificate: revoked in the store, must-staple */
	bool revoked, must_staple;
	char *real_crl;      /* the issuing CA's current CRL, when revoked */
	unsigned char *real_staple;  /* a fresh response, when must-staple */
	size_t real_staple_len;
} sources;

static void
sources_clear(sources *s)
{
	free(s->dn);
	free(s->leaf_pem);
	free(s->chain_pem);
	free(s->root_pem);
	if (s->key_pem)
		cm__free_secret(s->key_pem, strlen(s->key_pem));
	if (s->key)
		gnutls_x509_privkey_deinit(s->key);
	eca_clear(&s->e);
	eca_clear(&s->u);
	eca_clear(&s->nc);
	eca_clear(&s->notca);
	eca_clear(&s->ei);
	free(s->via_int);
	free(s->via_int_chain);
	free(s->expired);
	free(s->nyv);
	free(s->wrong_eku);
	free(s->nc_twin);
	free(s->ip_dns);
	free(s->self);
	free(s->via_notca);
	eca_clear(&s->notca_e);
	free(s->u_twin);
	free(s->via_notca_e);
	free(s->srv_pem);
	if (s->srv_key_pem)
		cm__free_secret(s->srv_key_pem, strlen(s->srv_key_pem));
	if (s->srv_key)
		gnutls_x509_privkey_deinit(s->srv_key);
	free(s->c_foreign);
	free(s->c_server_only);
	free(s->c_expired);
	free(s->client_trust);
	free(s->rev_twin);
	free(s->good_twin);
	free(s->ms_twin);
	free(s->crl_pem);
	free(s->staple_rev);
	free(s->staple_good);
	free(s->staple_ms);
	free(s->real_crl);
	free(s->real_staple);
}

static bool
has_ip(const sources *s)
{
	size_t i;

	for (i = 0; i < s->nsans; i++)
		if (s->sans[i].type == GNUTLS_SAN_IPADDRESS)
			return true;
	return false;
}

/* The server-certificate set, under one protocol version. */
static cm_err
server_set(mbuild *m, const sources *s)
{
	cm_scenario t = CM_SCENARIO_INIT;
	char name[300], label[400];
	size_t i;
	cm_err err = CM_OK;

	t.server_chain = s->chain_pem;
	t.server_key = s->key_pem;
	t.trust = s->root_pem;
	t.crl = s->real_crl;
	t.ocsp_staple = s->real_staple;
	t.ocsp_staple_len = s->real_staple_len;

#define ADD(lbl, nm, exp, why) do { t.expected_name = (char *)(nm); \
	t.expect = (exp); t.note = (char *)(why); \
	if ((err = push(m, &t, (lbl))) != CM_OK) return err; } while (0)

	for (i = 0; i < s->nsans; i++) {
		const san *a = &s->sans[i];
		const char *v = a->text;
		if (a->type == GNUTLS_SAN_DNSNAME && v[0] == '*' &&
		    v[1] == '.') {
			snprintf(name, sizeof(name), "www%s", v + 1);
			snprintf(label, sizeof(label), "/wildcard:%s", name);
			ADD(label, name, CM_OUTCOME_OK, "one label under the "
			    "wildcard (RFC 6125 6.4.3)");
			snprintf(label, sizeof(label), "/wildcard-parent:%s",
			    v + 2);
			ADD(label, v + 2, CM_OUTCOME_HOSTNAME, "a wildcard does "
			    "not cover its parent");
			snprintf(name, sizeof(name), "a.b%s", v + 1);
			snprintf(label, sizeof(label), "/wildcard-two-level:%s",
			    name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "a wildcard covers "
			    "one label only");
			snprintf(name, sizeof(name), "WWW%s", v + 1);
			upper(name, sizeof(name), name);
			snprintf(label, sizeof(label), "/upper-case:%s", name);
			ADD(label, name, CM_OUTCOME_OK, "DNS names are "
			    "case-insensitive (RFC 4343)");
			snprintf(name, sizeof(name), "www%s.certmint.invalid",
			    v + 1);
			snprintf(label, sizeof(label), "/suffix:%s", name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "the wildcard "
			    "as a prefix of a longer name");
			snprintf(name, sizeof(name), "www%s.", v + 1);
			snprintf(label, sizeof(label), "/trailing-dot:%s", name);
			t.has_also = true;
			t.expect_also = CM_OUTCOME_OK;
			ADD(label, name, CM_OUTCOME_HOSTNAME, "GnuTLS compares "
			    "an absolute name literally; others strip the dot");
			t.has_also = false;
		} else if (a->type == GNUTLS_SAN_DNSNAME) {
			snprintf(label, sizeof(label), "/name:%s", v);
			ADD(label, v, CM_OUTCOME_OK, "a SAN of the certificate");
			snprintf(name, sizeof(name), "x%s", v);
			snprintf(label, sizeof(label), "/sibling:%s", name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "a different "
			    "name at the same level");
			snprintf(name, sizeof(name), "sub.%s", v);
			snprintf(label, sizeof(label), "/child:%s", name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "a name below a "
			    "non-wildcard SAN");
			upper(name, sizeof(name), v);
			snprintf(label, sizeof(label), "/upper-case:%s", name);
			ADD(label, name, CM_OUTCOME_OK, "DNS names are "
			    "case-insensitive (RFC 4343)");
			snprintf(name, sizeof(name), "%s.certmint.invalid", v);
			snprintf(label, sizeof(label), "/suffix:%s", name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "the SAN as a "
			    "prefix of a longer name");
			snprintf(name, sizeof(name), "%s.", v);
			snprintf(label, sizeof(label), "/trailing-dot:%s", name);
			t.has_also = true;
			t.expect_also = CM_OUTCOME_OK;
			ADD(label, name, CM_OUTCOME_HOSTNAME, "GnuTLS compares "
			    "an absolute name literally; others strip the dot");
			t.has_also = false;
		} else if (a->type == GNUTLS_SAN_IPADDRESS &&
		    (a->len == 4 || a->len == 16)) {
			/* Only addresses: a malformed iPAddress SAN of
			 * another length gets no scenario. */
			unsigned char ip[16];
			memcpy(ip, a->data, a->len);
			ip[a->len - 1] ^= 1;
			inet_ntop(a->len == 4 ? AF_INET : AF_INET6, ip, name,
			    sizeof(name));
			snprintf(label, sizeof(label), "/ip:%s", v);
			ADD(label, v, CM_OUTCOME_OK, "an iPAddress SAN");
			snprintf(label, sizeof(label), "/wrong-ip:%s", name);
			ADD(label, name, CM_OUTCOME_HOSTNAME, "another address");
		}
	}

	/* Trust and time. */
	t.trust = s->u.pem;
	t.crl = NULL;
	ADD("/untrusted-root", s->first, CM_OUTCOME_UNTRUSTED,
	    "the client trusts another root");
	t.ocsp_staple = NULL;
	t.server_chain = s->self;
	ADD("/self-signed-twin", s->first, CM_OUTCOME_UNTRUSTED,
	    "same names and key, self-signed");
	t.server_chain = s->via_notca;
	t.trust = s->notca.pem;
	ADD("/issuer-not-ca", s->first, CM_OUTCOME_UNTRUSTED,
	    "signed by a trusted certificate without CA:TRUE");
	t.trust = s->e.pem;
	t.server_chain = s->via_int;
	ADD("/missing-intermediate", s->first, CM_OUTCOME_UNTRUSTED,
	    "a twin from an intermediate CA, served without it (clients do "
	    "not fetch it)");
	t.server_chain = s->via_int_chain;
	ADD("/with-intermediate", s->first, CM_OUTCOME_OK, "the same twin "
	    "served with its intermediate CA");
	t.server_chain = s->expired;
	ADD("/expired-twin", s->first, CM_OUTCOME_EXPIRED,
	    "notAfter yesterday");
	t.server_chain = s->nyv;
	ADD("/not-yet-valid-twin", s->first, CM_OUTCOME_NOT_YET_VALID,
	    "notBefore tomorrow");
	t.server_chain = s->wrong_eku;
	ADD("/client-eku-twin", s->first, CM_OUTCOME_PURPOSE,
	    "EKU clientAuth only, served by a server");
	t.server_chain = s->nc_twin;
	t.trust = s->nc.pem;
	ADD("/name-constraints-twin", s->first, CM_OUTCOME_NAME_CONSTRAINTS,
	    "the CA permits only certmint-nc.invalid, 192.0.2.0/24, "
	    "2001:db8::/32");
	if (has_ip(s)) {
		for (i = 0; i < s->nsans; i++)
			if (s->sans[i].type == GNUTLS_SAN_IPADDRESS)
				break;
		t.server_chain = s->ip_dns;
		t.trust = s->e.pem;
		snprintf(label, sizeof(label), "/ip-as-dns-san:%s",
		    s->sans[i].text);
		ADD(label, s->sans[i].text, CM_OUTCOME_HOSTNAME, "the IP "
		    "written as a dNSName does not match an IP reference");
		/* The reverse: the real iPAddress SAN, the IP checked as a
		 * DNS name.  GnuTLS (and Python) recognise the IP literal and
		 * match the iPAddress SAN; OpenSSL's -verify_hostname looks
		 * at dNSNames only. */
		t.server_chain = s->chain_pem;
		t.trust = s->root_pem;
		t.crl = s->real_crl;
		t.ocsp_staple = s->real_staple;
		t.name_as_dns = true;
		t.has_also = true;
		t.expect_also = CM_OUTCOME_HOSTNAME;
		snprintf(label, sizeof(label), "/ip-checked-as-dns:%s",
		    s->sans[i].text);
		ADD(label, s->sans[i].text, CM_OUTCOME_OK, "an IP literal "
		    "checked as a DNS name matches the iPAddress SAN in "
		    "GnuTLS; OpenSSL's host check says hostname");
		t.name_as_dns = false;
		t.has_also = false;
		t.crl = NULL;
		t.ocsp_staple = NULL;
	}
	if (strcmp(s->chain_pem, s->leaf_pem) != 0) {
		/* Issued under an intermediate: the leaf alone. */
		t.server_chain = s->leaf_pem;
		t.trust = s->root_pem;
		t.crl = NULL;
		t.ocsp_staple = NULL;
		ADD("/chain-missing-intermediate", s->first,
		    CM_OUTCOME_UNTRUSTED, "the certificate served without "
		    "the intermediate CAs of its chain");
	}
	/* Client auth requested, none sent: still fine. */
	t.server_chain = s->chain_pem;
	t.trust = s->root_pem;
	t.crl = s->real_crl;
	t.ocsp_staple = s->real_staple;
	t.client_auth = CM_CLIENT_AUTH_REQUEST;
	t.client_trust = s->root_pem;
	ADD("/request-client-cert-none", s->first, CM_OUTCOME_OK,
	    "client auth requested, not required");
	t.client_chain = s->c_foreign;
	t.client_key = s->key_pem;
	t.has_also = true;
	t.expect_also = CM_OUTCOME_OK;
	ADD("/request-client-cert-foreign", s->first,
	    CM_OUTCOME_CLIENT_UNTRUSTED, "a client certificate that is only "
	    "requested is still verified (a client may withhold one the "
	    "server's CA names exclude)");
	t.has_also = false;

	/*
	 * Revocation: twins from E (same names and key) that E revokes in
	 * a CRL the client loads, or in an OCSP response the server
	 * staples (RFC 6066; in TLS 1.3 inside the Certificate entry).  A
	 * must-staple twin (RFC 7633 TLS feature status_request) served
	 * without a staple: GnuTLS reports GNUTLS_CERT_MISSING_OCSP_STATUS,
	 * which is the class "revoked" (no revocation status is as good as
	 * a revoked one for a must-staple certificate).
	 */
	t.client_auth = CM_CLIENT_AUTH_NONE;
	t.client_trust = NULL;
	t.client_chain = NULL;
	t.client_key = NULL;
	t.trust = s->e.pem;
	t.crl = s->crl_pem;
	t.ocsp_staple = NULL;
	t.server_chain = s->rev_twin;
	ADD("/revoked-crl", s->first, CM_OUTCOME_REVOKED, "a twin listed in "
	    "its CA's CRL, which the client loads");
	t.server_chain = s->good_twin;
	ADD("/good-crl", s->first, CM_OUTCOME_OK, "a twin its CA's CRL does "
	    "not list");
	t.crl = NULL;
	t.server_chain = s->rev_twin;
	t.ocsp_staple = s->staple_rev;
	t.ocsp_staple_len = s->staple_rev_len;
	ADD("/revoked-ocsp-staple", s->first, CM_OUTCOME_REVOKED, "the "
	    "server staples its CA's OCSP response: revoked");
	t.server_chain = s->good_twin;
	t.ocsp_staple = s->staple_good;
	t.ocsp_staple_len = s->staple_good_len;
	ADD("/good-ocsp-staple", s->first, CM_OUTCOME_OK, "the server "
	    "staples its CA's OCSP response: good");
	t.server_chain = s->ms_twin;
	t.ocsp_staple = NULL;
	t.ocsp_staple_len = 0;
	ADD("/must-staple-missing", s->first, CM_OUTCOME_REVOKED, "must-staple "
	    "(RFC 7633) and no staple: the OCSP status is missing");
	t.ocsp_staple = s->staple_ms;
	t.ocsp_staple_len = s->staple_ms_len;
	ADD("/must-staple-stapled", s->first, CM_OUTCOME_OK, "must-staple "
	    "with a good staple");
#undef ADD
	return CM_OK;
}

/*
 * The certificate is revoked in the store: every scenario that serves it
 * under its real root loads the CA's current CRL, so where the name
 * matches the client says "revoked" (GnuTLS checks the name before the
 * CRL: a wrong name stays "hostname"; a stapled response, served for a
 * must-staple certificate, is checked whatever the name, and revocation
 * outranks the name).  The matrix expects that, so a run after 'certmint
 * revoke' matches and shows "revoked".
 */
static void
expect_revoked(mbuild *m, size_t from, const sources *s)
{
	size_t i;

	if (!s->revoked)
		return;
	for (i = from; i < m->n; i++) {
		cm_scenario *sc = m->v[i];
		if (sc->crl == NULL || sc->expect == CM_OUTCOME_PROTOCOL ||
		    (sc->expect == CM_OUTCOME_HOSTNAME &&
		    sc->ocsp_staple == NULL) ||
		    s->real_crl == NULL || strcmp(sc->crl, s->real_crl) != 0)
			continue;
		sc->expect = CM_OUTCOME_REVOKED;
		sc->has_also = false;
		free(sc->note);
		sc->note = cm__strdup("revoked in the store: the client "
		    "checks the CA's current CRL");
	}
}

/* The mTLS set: the certificate is the client's. */
static cm_err
client_set(mbuild *m, const sources *s)
{
	cm_scenario t = CM_SCENARIO_INIT;
	cm_err err;

	t.server_chain = s->srv_pem;
	t.server_key = s->srv_key_pem;
	t.trust = s->e.pem;
	t.expected_name = (char *)"localhost";
	t.client_auth = CM_CLIENT_AUTH_REQUIRE;
	t.client_trust = s->client_trust;
	t.client_key = s->key_pem;

#define ADD(lbl, chain, exp, why) do { t.client_chain = (char *)(chain); \
	t.expect = (exp); t.note = (char *)(why); \
	if ((err = push(m, &t, (lbl))) != CM_OK) return err; } while (0)
	ADD("/mtls-ok", s->chain_pem, CM_OUTCOME_OK, "the issued client "
	    "certificate");
	ADD("/mtls-none", NULL, CM_OUTCOME_NO_CLIENT_CERT, "server requires a "
	    "certificate, client sends none");
	t.has_also = true;
	t.expect_also = CM_OUTCOME_NO_CLIENT_CERT;
	ADD("/mtls-foreign-ca", s->c_foreign, CM_OUTCOME_CLIENT_UNTRUSTED,
	    "client certificate from a CA the server does not trust (a "
	    "client may withhold one the server's CA names exclude)");
	t.has_also = false;
	ADD("/mtls-server-only-eku", s->c_server_only,
	    CM_OUTCOME_CLIENT_PURPOSE, "EKU serverAuth only");
	ADD("/mtls-expired", s->c_expired, CM_OUTCOME_CLIENT_EXPIRED,
	    "client certificate expired yesterday");
	/* Revocation: the server loads E's CRL, which lists one twin. */
	t.client_crl = s->crl_pem;
	ADD("/mtls-revoked-crl", s->rev_twin, CM_OUTCOME_CLIENT_REVOKED,
	    "client certificate its CA's CRL lists; the server checks it");
	ADD("/mtls-good-crl", s->good_twin, CM_OUTCOME_OK, "client "
	    "certificate its CA's CRL does not list; the server checks it");
	t.client_crl = NULL;
	t.client_auth = CM_CLIENT_AUTH_REQUEST;
	ADD("/mtls-request-none", NULL, CM_OUTCOME_OK, "server requests, "
	    "client sends none");
#undef ADD
	return CM_OK;
}

/* ---- loading the certificate and building the ephemera --------------- */

static cm_err
load_sans(sources *s, gnutls_x509_crt_t crt)
{
	unsigned i, type;
	size_t len;
	int ret;

	for (i = 0; s->nsans < MAX_SANS; i++) {
		san *a = &s->sans[s->nsans];
		len = sizeof(a->data) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, a->data,
		    &len, &type, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return cm__gnutls_fail(s->ctx, ret, "matrix: SAN");
		a->type = type;
		a->len = len;
		if (type == GNUTLS_SAN_DNSNAME) {
			memcpy(a->text, a->data, len);
			a->text[len] = '\0';
		} else if (type == GNUTLS_SAN_IPADDRESS && (len == 4 ||
		    len == 16)) {
			inet_ntop(len == 4 ? AF_INET : AF_INET6, a->data,
			    a->text, sizeof(a->text));
		} else {
			a->text[0] = '\0';
		}
		s->nsans++;
	}
	return CM_OK;
}

static unsigned
load_eku(gnutls_x509_crt_t crt)
{
	char oid[128];
	size_t len;
	unsigned i, eku = 0;
	int ret;

	for (i = 0; i < 32; i++) {
		len = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len,
		    NULL);
		if (ret < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
			eku |= EKU_SERVER;
		else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			eku |= EKU_CLIENT;
		else if (strcmp(oid, GNUTLS_KP_ANY) == 0)
			eku |= EKU_SERVER | EKU_CLIENT;
	}
	/* RFC 5280 4.2.1.12: no EKU extension, any purpose. */
	return i == 0 ? EKU_SERVER | EKU_CLIENT : eku;
}

/* The real chain: leaf + intermediates, and the root as trust. */
static cm_err
load_chain(sources *s, cm_store *st, const cm_cert_info *info)
{
	cm_ca_info *ca = NULL;
	char *name = NULL, *tmp;
	int depth;
	cm_err err = CM_OK;

	if ((s->chain_pem = cm__strdup(info->pem)) == NULL ||
	    (name = cm__strdup(info->ca)) == NULL)
		return cm__fail(s->ctx, CM_E_NOMEM, "out of memory");
	for (depth = 0; depth < 16; depth++) {
		if ((err = cm__ca_get_uncounted(&ca, st, name)) != CM_OK)
			break;
		free(name);
		name = NULL;
		if (ca->parent == NULL) {
			if ((s->root_pem = cm__strdup(ca->pem)) == NULL)
				err = cm__fail(s->ctx, CM_E_NOMEM,
				    "out of memory");
			break;
		}
		tmp = cat2(s->chain_pem, ca->pem);
		free(s->chain_pem);
		s->chain_pem = tmp;
		name = cm__strdup(ca->parent);
		if (tmp == NULL || name == NULL) {
			err = cm__fail(s->ctx, CM_E_NOMEM, "out of memory");
			break;
		}
		cm_ca_info_free(ca);
		ca = NULL;
	}
	cm_ca_info_free(ca);
	free(name);
	if (err == CM_OK && (s->root_pem == NULL || s->chain_pem == NULL))
		err = cm__fail(s->ctx, CM_E_STORE, "matrix: certificate %s: "
		    "cannot rebuild the chain of CA '%s'", info->serial,
		    info->ca);
	return err;
}


/* ---- revocation ephemera ------------------------------------------------ */

static char *
crl_pem_of(const unsigned char *der, size_t len)
{
	gnutls_datum_t in, p = { NULL, 0 };
	char *s = NULL;

	in.data = (unsigned char *)(uintptr_t)der;
	in.size = (unsigned)len;
	if (gnutls_pem_base64_encode2("X509 CRL", &in, &p) < 0)
		return NULL;
	if ((s = malloc(p.size + 1)) != NULL) {
		memcpy(s, p.data, p.size);
		s[p.size] = '\0';
	}
	gnutls_free(p.data);
	return s;
}

/* A twin signed by E; [out] serial: its serial in lower-case hex. */
static cm_err
rtwin(char **pem, char *serial, size_t slen, cm_ctx *ctx,
    const certspec *base, const eca *issuer, unsigned eku, time_t now,
    bool must_staple)
{
	certspec sp = *base;
	gnutls_x509_crt_t crt = NULL;
	unsigned char sn[32];
	size_t snlen = sizeof(sn), i;
	cm_err err;
	int ret;

	sp.eku = eku;
	sp.nb = now - DAY;
	sp.na = now + 7 * DAY;
	sp.must_staple = must_staple;
	sp.issuer = issuer->crt;
	sp.ikey = issuer->key;
	if ((err = make_cert(&crt, ctx, &sp)) != CM_OK)
		return err;
	if ((ret = gnutls_x509_crt_get_serial(crt, sn, &snlen)) < 0 ||
	    snlen * 2 + 1 > slen) {
		gnutls_x509_crt_deinit(crt);
		return cm__gnutls_fail(ctx, ret < 0 ? ret :
		    GNUTLS_E_SHORT_MEMORY_BUFFER, "matrix: twin serial");
	}
	for (i = 0; i < snlen; i++)
		snprintf(serial + 2 * i, 3, "%02x", sn[i]);
	*pem = pem_of(crt);
	gnutls_x509_crt_deinit(crt);
	return *pem ? CM_OK : cm__fail(ctx, CM_E_NOMEM, "out of memory");
}

/*
 * Twins revoked and good under E, E's CRL listing the revoked one, and
 * OCSP responses signed by E, all built by the revocation code (crl.c,
 * ocsp.c) in memory.
 */
static cm_err
revocation_ephemera(sources *s, const certspec *base)
{
	cm_ctx *ctx = s->ctx;
	gnutls_privkey_t pk = NULL;
	char rsn[64], gsn[64], msn[64];
	cm__crl_entry ent;
	cm__cert_status st;
	unsigned char *der = NULL;
	size_t len = 0;
	time_t now = s->now;
	cm_err err;
	int ret;

	if ((err = rtwin(&s->rev_twin, rsn, sizeof(rsn), ctx, base, &s->e,
	    s->eku, now, false)) != CM_OK ||
	    (err = rtwin(&s->good_twin, gsn, sizeof(gsn), ctx, base, &s->e,
	    s->eku, now, false)) != CM_OK ||
	    (err = rtwin(&s->ms_twin, msn, sizeof(msn), ctx, base, &s->e,
	    s->eku, now, true)) != CM_OK)
		return err;
	if ((ret = gnutls_privkey_init(&pk)) < 0 ||
	    (ret = gnutls_privkey_import_x509(pk, s->e.key, 0)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "matrix: ephemeral CA key");
		goto out;
	}
	ent.serial = rsn;
	ent.revoked_at = now - 3600;
	ent.reason = CM_REASON_KEY_COMPROMISE;
	if ((err = cm__crl_build_mem(&der, &len, ctx, s->e.crt, pk,
	    CM_KEY_EC_P256, &ent, 1, now - 60, now + 7 * DAY)) != CM_OK)
		goto out;
	if ((s->crl_pem = crl_pem_of(der, len)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	memset(&st, 0, sizeof(st));
	st.found = true;
	st.revoked = true;
	st.revoked_at = now - 3600;
	st.reason = CM_REASON_KEY_COMPROMISE;
	if ((err = cm__ocsp_response_mem(&s->staple_rev, &s->staple_rev_len,
	    ctx, s->e.crt, pk, CM_KEY_EC_P256, rsn, &st, 0)) != CM_OK)
		goto out;
	st.revoked = false;
	st.revoked_at = 0;
	st.reason = -1;
	if ((err = cm__ocsp_response_mem(&s->staple_good,
	    &s->staple_good_len, ctx, s->e.crt, pk, CM_KEY_EC_P256, gsn, &st,
	    0)) != CM_OK ||
	    (err = cm__ocsp_response_mem(&s->staple_ms, &s->staple_ms_len,
	    ctx, s->e.crt, pk, CM_KEY_EC_P256, msn, &st, 0)) != CM_OK)
		goto out;
out:
	free(der);
	if (pk != NULL)
		gnutls_privkey_deinit(pk);
	return err;
}

cm_err
cm__harness_ca_crl(char **pem, cm_store *st, const char *ca)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__signer *sg = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	cm_err err;

	if ((err = cm__signer_load(&sg, st, ca)) != CM_OK ||
	    (err = cm__crl_current_mem(&der, &len, st, sg, 7 * DAY)) != CM_OK)
		goto out;
	if ((*pem = crl_pem_of(der, len)) == NULL)
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
out:
	free(der);
	cm__signer_free(sg);
	return err;
}

cm_err
cm__harness_staple(unsigned char **der, size_t *len, cm_store *st,
    const char *chain_pem)
{
	cm_ctx *ctx = cm__store_ctx(st);
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	cm_cert_info *info = NULL;
	cm__signer *sg = NULL;
	cm__cert_status cs;
	unsigned char sn[32];
	char hex[72];
	size_t snlen = sizeof(sn), i;
	cm_err err;
	int ret;

	d.data = (unsigned char *)(uintptr_t)chain_pem;
	d.size = (unsigned)strlen(chain_pem);
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (ret = gnutls_x509_crt_get_serial(crt, sn, &snlen)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "ocsp_staple: server "
		    "certificate");
		goto out;
	}
	/* Serials are stored without leading zero octets. */
	for (i = 0; i + 1 < snlen && sn[i] == 0; i++)
		;
	hex[0] = '\0';
	for (snlen -= i; snlen > 0 && snlen * 2 < sizeof(hex); snlen--, i++)
		snprintf(hex + strlen(hex), 3, "%02x", sn[i]);
	if ((err = cm_cert_find(&info, st, hex)) != CM_OK) {
		err = cm__fail(ctx, err, "ocsp_staple auto: the server "
		    "certificate (serial %s) is not in the store", hex);
		goto out;
	}
	if ((err = cm__signer_load(&sg, st, info->ca)) != CM_OK)
		goto out;
	memset(&cs, 0, sizeof(cs));
	cs.found = true;
	cs.revoked = info->status != NULL &&
	    strcmp(info->status, "revoked") == 0;
	cs.revoked_at = info->revoked_at;
	cs.reason = info->revocation_reason;
	cs.not_after = info->not_after;
	err = cm__ocsp_response_mem(der, len, ctx, sg->crt, sg->key,
	    sg->key_type, info->serial, &cs, 0);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	cm_cert_info_free(info);
	cm__signer_free(sg);
	return err;
}

static bool
crt_must_staple(gnutls_x509_crt_t crt)
{
	gnutls_x509_tlsfeatures_t tf = NULL;
	unsigned i, feature;
	bool yes = false;

	if (gnutls_x509_tlsfeatures_init(&tf) < 0)
		return false;
	if (gnutls_x509_crt_get_tlsfeatures(crt, tf, 0, NULL) >= 0)
		for (i = 0; gnutls_x509_tlsfeatures_get(tf, i, &feature) >= 0;
		    i++)
			if (feature == 5)
				yes = true;
	gnutls_x509_tlsfeatures_deinit(tf);
	return yes;
}

bool
cm__pem_must_staple(const char *pem)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	bool yes = false;

	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
		yes = crt_must_staple(crt);
	gnutls_x509_crt_deinit(crt);
	return yes;
}

/*
 * The CA above the topmost revoked intermediate of the chain, or NULL
 * when no CA of the chain is revoked.  That CA still signs (nothing above
 * it is revoked) and its CRL lists the intermediate.
 */
static cm_err
revoked_ancestor(char **out, cm_store *st, const char *ca)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm__ca_rec rec;
	char *name, *next = NULL, *status;
	int depth;
	cm_err err = CM_OK;

	*out = NULL;
	if ((name = cm__strdup(ca)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	for (depth = 0; depth < 16 && name != NULL; depth++) {
		memset(&rec, 0, sizeof(rec));
		if ((err = cm__store_ca_get(&rec, st, name)) != CM_OK)
			break;
		status = NULL;
		if (rec.parent_id > 0 && rec.info.parent != NULL &&
		    (err = cm__store_ca_cert_status(&status, st, &rec)) ==
		    CM_OK && status != NULL && strcmp(status, "revoked") == 0) {
			free(*out);
			if ((*out = cm__strdup(rec.info.parent)) == NULL)
				err = cm__fail(ctx, CM_E_NOMEM,
				    "out of memory");
		}
		free(status);
		next = NULL;
		if (err == CM_OK && rec.parent_id > 0 && rec.info.parent !=
		    NULL && (next = cm__strdup(rec.info.parent)) == NULL)
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		cm__ca_rec_clear(&rec);
		free(name);
		name = next;
		if (err != CM_OK)
			break;
	}
	free(name);
	if (err != CM_OK) {
		free(*out);
		*out = NULL;
	}
	return err;
}

/*
 * The real certificate's revocation state from the store: when it, or an
 * intermediate above it, is revoked, the current CRL that says so (built
 * in memory, not recorded); when must-staple, a fresh OCSP response to
 * staple (none under a revoked intermediate: that CA signs nothing, and
 * a missing staple is "revoked" too).  Both need a CA key.
 */
static cm_err
real_revocation(sources *s, cm_store *st, const cm_cert_info *info,
    gnutls_x509_crt_t crt)
{
	cm_ctx *ctx = s->ctx;
	cm__signer *sg = NULL;
	cm__cert_status cs;
	unsigned char *der = NULL;
	char *above = NULL;
	size_t len = 0;
	cm_err err;

	s->revoked = info->status != NULL &&
	    strcmp(info->status, "revoked") == 0;
	s->must_staple = crt_must_staple(crt);
	if ((err = revoked_ancestor(&above, st, info->ca)) != CM_OK)
		return err;
	if (above != NULL) {
		s->revoked = true;
		err = cm__harness_ca_crl(&s->real_crl, st, above);
		free(above);
		return err;
	}
	if (!s->revoked && !s->must_staple)
		return CM_OK;
	if ((err = cm__signer_load(&sg, st, info->ca)) != CM_OK)
		return err;
	if (s->revoked) {
		if ((err = cm__crl_current_mem(&der, &len, st, sg,
		    7 * DAY)) != CM_OK)
			goto out;
		if ((s->real_crl = crl_pem_of(der, len)) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (s->must_staple) {
		memset(&cs, 0, sizeof(cs));
		cs.found = true;
		cs.revoked = s->revoked;
		cs.revoked_at = info->revoked_at;
		cs.reason = info->revocation_reason;
		cs.not_after = info->not_after;
		if ((err = cm__ocsp_response_mem(&s->real_staple,
		    &s->real_staple_len, ctx, sg->crt, sg->key, sg->key_type,
		    info->serial, &cs, 0)) != CM_OK)
			goto out;
	}
out:
	free(der);
	cm__signer_free(sg);
	return err;
}

/* The caller's key (PEM or DER, unencrypted): it must be crt's. */
static cm_err
given_key_load(sources *s, gnutls_x509_crt_t crt, const cm_cert_info *info)
{
	unsigned char kid[64], cid[64];
	size_t klen = sizeof(kid), clen = sizeof(cid);
	cm_err err;
	int ret;

	if ((err = cm__key_read_any(&s->key, s->ctx, s->given_key,
	    s->given_key_len, "matrix: the key given")) != CM_OK)
		return err;
	if ((ret = gnutls_x509_privkey_get_key_id(s->key,
	    GNUTLS_KEYID_USE_SHA256, kid, &klen)) < 0 ||
	    (ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256,
	    cid, &clen)) < 0)
		return cm__gnutls_fail(s->ctx, ret, "matrix: key id");
	if (klen != clen || memcmp(kid, cid, klen) != 0)
		return cm__fail(s->ctx, CM_E_INVALID, "matrix: the key given "
		    "is not the key of certificate %s", info->serial);
	return CM_OK;
}

static cm_err
build_sources(sources *s, cm_store *st, const cm_cert_info *info)
{
	cm_ctx *ctx = s->ctx;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	certspec base, srv;
	san local;
	time_t now = s->now;
	size_t i;
	cm_err err;
	int ret;

	if ((ret = gnutls_x509_crt_init(&crt)) < 0)
		return cm__gnutls_fail(ctx, ret, "matrix");
	d.data = (unsigned char *)info->pem;
	d.size = (unsigned)strlen(info->pem);
	if ((ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "matrix: certificate %s",
		    info->serial);
		goto out;
	}
	d.data = NULL;
	if ((ret = gnutls_x509_crt_get_dn2(crt, &d)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "matrix: subject");
		goto out;
	}
	s->dn = cm__strdup((const char *)d.data);
	gnutls_free(d.data);
	if ((err = load_sans(s, crt)) != CM_OK)
		goto out;
	s->eku = load_eku(crt);
	for (i = 0; i < s->nsans && s->first == NULL; i++)
		if (s->sans[i].type == GNUTLS_SAN_DNSNAME ||
		    s->sans[i].type == GNUTLS_SAN_IPADDRESS)
			s->first = s->sans[i].text;
	if ((s->eku & EKU_SERVER) && s->first == NULL) {
		err = cm__fail(ctx, CM_E_INVALID, "matrix: certificate %s has "
		    "no DNS or IP name to test", info->serial);
		goto out;
	}
	if ((err = load_chain(s, st, info)) != CM_OK)
		goto out;
	if (s->given_key != NULL) {
		if ((err = given_key_load(s, crt, info)) != CM_OK)
			goto out;
	} else if ((err = cm__cert_key_load(&s->key, st, info->ca,
	    info->serial)) != CM_OK) {
		if (err == CM_E_NOTFOUND)
			err = cm__fail(ctx, CM_E_NOTFOUND, "matrix: the key of "
			    "certificate %s is not kept in the store (issued "
			    "with --no-keep-key or signed from a CSR): give "
			    "it with --key FILE", info->serial);
		goto out;
	}
	if ((s->key_pem = key_pem_of(s->ctx, s->key)) == NULL ||
	    (s->leaf_pem = cm__strdup(info->pem)) == NULL || s->dn == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}

	if ((err = eca_new(&s->e, ctx, "CN=certmint ephemeral CA,"
	    "O=certmint harness", true, false, NULL, now)) != CM_OK ||
	    (err = eca_new(&s->u, ctx, "CN=certmint untrusted root,"
	    "O=certmint harness", true, false, NULL, now)) != CM_OK ||
	    (err = eca_new(&s->nc, ctx, "CN=certmint constrained CA,"
	    "O=certmint harness", true, true, NULL, now)) != CM_OK ||
	    (err = eca_new(&s->notca, ctx, "CN=certmint not a CA,"
	    "O=certmint harness", false, false, NULL,
	    now)) != CM_OK ||
	    (err = eca_new(&s->ei, ctx, "CN=certmint ephemeral intermediate,"
	    "O=certmint harness", true, false, &s->e, now)) != CM_OK)
		goto out;

	memset(&base, 0, sizeof(base));
	base.dn = s->dn;
	base.sans = s->sans;
	base.nsans = s->nsans;
	base.key = s->key;
	if ((err = twin(&s->expired, ctx, &base, &s->e, s->eku,
	    now - 30 * DAY, now - DAY, false)) != CM_OK ||
	    (err = twin(&s->nyv, ctx, &base, &s->e, s->eku, now + DAY,
	    now + 30 * DAY, false)) != CM_OK ||
	    (err = twin(&s->nc_twin, ctx, &base, &s->nc, s->eku, now - DAY,
	    now + 7 * DAY, false)) != CM_OK ||
	    (err = twin(&s->self, ctx, &base, NULL, s->eku, now - DAY,
	    now + 7 * DAY, false)) != CM_OK ||
	    (err = twin(&s->via_notca, ctx, &base, &s->notca, s->eku,
	    now - DAY, now + 7 * DAY, false)) != CM_OK ||
	    (err = twin(&s->via_int, ctx, &base, &s->ei, s->eku,
	    now - DAY, now + 7 * DAY, false)) != CM_OK)
		goto out;
	if ((s->via_int_chain = cat2(s->via_int, s->ei.pem)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((s->eku & (EKU_SERVER | EKU_CLIENT)) &&
	    (err = revocation_ephemera(s, &base)) != CM_OK)
		goto out;
	if ((s->eku & EKU_SERVER) && (err = real_revocation(s, st, info,
	    crt)) != CM_OK)
		goto out;
	if (s->for_clients && ((err = twin(&s->u_twin, ctx, &base, &s->u,
	    s->eku, now - DAY, now + 7 * DAY, false)) != CM_OK ||
	    (err = eca_new(&s->notca_e, ctx, "CN=certmint not a CA below E,"
	    "O=certmint harness", false, false, &s->e, now)) != CM_OK ||
	    (err = twin(&s->via_notca_e, ctx, &base, &s->notca_e, s->eku,
	    now - DAY, now + 7 * DAY, false)) != CM_OK))
		goto out;
	if (s->for_clients) {
		char *c = cat2(s->via_notca_e, s->notca_e.pem);
		if (c == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		free(s->via_notca_e);
		s->via_notca_e = c;
	}
	if ((s->eku & EKU_SERVER) && ((err = twin(&s->wrong_eku, ctx, &base,
	    &s->e, EKU_CLIENT, now - DAY, now + 7 * DAY, false)) != CM_OK ||
	    (has_ip(s) && (err = twin(&s->ip_dns, ctx, &base, &s->e, s->eku,
	    now - DAY, now + 7 * DAY, true)) != CM_OK)))
		goto out;

	if ((err = twin(&s->c_foreign, ctx, &base, &s->u, EKU_CLIENT,
	    now - DAY, now + 7 * DAY, false)) != CM_OK)
		goto out;
	if (s->eku & EKU_CLIENT) {
		gnutls_x509_crt_t sc = NULL;
		if ((err = twin(&s->c_server_only, ctx, &base, &s->e,
		    EKU_SERVER, now - DAY, now + 7 * DAY, false)) != CM_OK ||
		    (err = twin(&s->c_expired, ctx, &base, &s->e, EKU_CLIENT,
		    now - 30 * DAY, now - DAY, false)) != CM_OK)
			goto out;
		/* The server of the mTLS set: localhost, from E. */
		if ((err = cm__key_generate(&s->srv_key, ctx,
		    CM_KEY_EC_P256)) != CM_OK)
			goto out;
		memset(&local, 0, sizeof(local));
		local.type = GNUTLS_SAN_DNSNAME;
		memcpy(local.data, "localhost", 9);
		local.len = 9;
		memset(&srv, 0, sizeof(srv));
		srv.dn = "CN=localhost,O=certmint harness";
		srv.sans = &local;
		srv.nsans = 1;
		srv.eku = EKU_SERVER;
		srv.nb = now - DAY;
		srv.na = now + 7 * DAY;
		srv.key = s->srv_key;
		srv.issuer = s->e.crt;
		srv.ikey = s->e.key;
		if ((err = make_cert(&sc, ctx, &srv)) != CM_OK)
			goto out;
		s->srv_pem = pem_of(sc);
		gnutls_x509_crt_deinit(sc);
		s->srv_key_pem = key_pem_of(s->ctx, s->srv_key);
		s->client_trust = cat2(s->root_pem, s->e.pem);
		if (!s->srv_pem || !s->srv_key_pem || !s->client_trust) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	gnutls_x509_crt_deinit(crt);
	return err;
}

cm_err
cm_matrix_for_cert(cm_scenario ***out, size_t *n, cm_store *st,
    const char *ref)
{
	return cm_matrix_for_cert_key(out, n, st, ref, NULL, 0);
}

cm_err
cm_matrix_for_cert_key(cm_scenario ***out, size_t *n, cm_store *st,
    const char *ref, const char *key, size_t key_len)
{
	cm_ctx *ctx = cm__store_ctx(st);
	static const char *const vers[2][2] = {
		{ "tls12", CM_PRIORITY_TLS12 },
		{ "tls13", CM_PRIORITY_TLS13 },
	};
	cm_cert_info *info = NULL;
	sources *s = NULL;
	mbuild m;
	char wname[300];
	size_t v;
	cm_err err;

	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	if ((err = cm_cert_find(&info, st, ref)) != CM_OK)
		return err;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	s->ctx = ctx;
	s->now = time(NULL);
	s->given_key = key;
	s->given_key_len = key_len;
	if ((err = build_sources(s, st, info)) != CM_OK)
		goto out;
	/* A wildcard as the name to expect: one concrete label under it. */
	if (s->first != NULL && s->first[0] == '*') {
		snprintf(wname, sizeof(wname), "www%s", s->first + 1);
		s->first = wname;
	}
	for (v = 0; v < 2; v++) {
		char pfx[16];
		snprintf(pfx, sizeof(pfx), "%s", vers[v][0]);
		m.ver = pfx;
		m.prio = vers[v][1];
		size_t from = m.n;
		if ((s->eku & EKU_SERVER) && (err = server_set(&m, s)) != CM_OK)
			goto out;
		expect_revoked(&m, from, s);
		if ((s->eku & EKU_CLIENT) && (err = client_set(&m, s)) != CM_OK)
			goto out;
	}
	if (s->eku & EKU_SERVER) {
		/* No common version: a protocol failure, not a cert one. */
		cm_scenario t = CM_SCENARIO_INIT;
		t.server_chain = s->chain_pem;
		t.server_key = s->key_pem;
		t.trust = s->root_pem;
		t.expected_name = (char *)s->first;
		t.priority = (char *)CM_PRIORITY_TLS12;
		t.client_priority = (char *)CM_PRIORITY_TLS13;
		t.expect = CM_OUTCOME_PROTOCOL;
		t.note = (char *)"server TLS 1.2 only, client TLS 1.3 only";
		t.crl = s->real_crl;
		t.ocsp_staple = s->real_staple;
		t.ocsp_staple_len = s->real_staple_len;
		m.ver = NULL;
		if ((err = push(&m, &t, "version-mismatch")) != CM_OK)
			goto out;
	}
	*out = m.v;
	*n = m.n;
	m.v = NULL;
	m.n = 0;
out:
	cm_scenario_list_free(m.v, m.n);
	if (s != NULL) {
		sources_clear(s);
		free(s);
	}
	cm_cert_info_free(info);
	return err;
}

/* ---- test client ----------------------------------------------------------- */

typedef struct cmeta {
	bool accept;
	cm_severity sev;
	const char *what;
} cmeta;

typedef struct cbuild {
	mbuild m;
	cmeta *meta;
	size_t cap;
} cbuild;

static cm_err
cpush(cbuild *b, const cm_scenario *t, const char *label, bool accept,
    cm_severity sev, const char *what)
{
	cmeta *nm;

	if (b->m.n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		if ((nm = realloc(b->meta, cap * sizeof(*nm))) == NULL)
			return cm__fail(b->m.ctx, CM_E_NOMEM, "out of memory");
		b->meta = nm;
		b->cap = cap;
	}
	b->meta[b->m.n].accept = accept;
	b->meta[b->m.n].sev = sev;
	b->meta[b->m.n].what = what;
	return push(&b->m, t, label);
}

/* The seeds' transport rules: what a server must not be allowed. */
#define P_OLD "NORMAL:%VERIFY_ALLOW_SIGN_WITH_SHA1:-VERS-ALL:"
static const struct {
	const char *label, *prio, *what;
	bool rsa;
} weak[] = {
	{ "tls1.0-only", P_OLD "+VERS-TLS1.0", "TLS 1.0", false },
	{ "tls1.1-only", P_OLD "+VERS-TLS1.1", "TLS 1.1", false },
	{ "cbc-sha1-only", P_OLD "+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:"
	    "+AES-256-CBC:-MAC-ALL:+SHA1", "CBC suites with SHA-1 MACs",
	    false },
	{ "3des-only", P_OLD "+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC:-MAC-ALL:"
	    "+SHA1", "3DES suites", false },
	{ "rsa-kx-only", P_OLD "+VERS-TLS1.2:-KX-ALL:+RSA",
	    "key exchange without forward secrecy (TLS_RSA_*)", true },
};

static cm_err
app_client_set(cbuild *b, const sources *s, bool rsa)
{
	cm_scenario t = CM_SCENARIO_INIT;
	char name[300], label[400];
	size_t i;
	cm_err err = CM_OK;

	t.server_chain = s->chain_pem;
	t.server_key = s->key_pem;
	t.trust = s->root_pem;
	t.priority = (char *)CM_PRIORITY_DEFAULT;
	t.ocsp_staple = s->real_staple;
	t.ocsp_staple_len = s->real_staple_len;

#define CADD(lbl, nm, acc, sev, what) do { \
	t.expected_name = (char *)(nm); \
	if ((err = cpush(b, &t, (lbl), (acc), (sev), (what))) != CM_OK) \
		return err; } while (0)

	for (i = 0; i < s->nsans; i++) {
		const san *a = &s->sans[i];
		const char *v = a->text;
		if (a->type == GNUTLS_SAN_DNSNAME && v[0] == '*' &&
		    v[1] == '.') {
			snprintf(name, sizeof(name), "www%s", v + 1);
			snprintf(label, sizeof(label), "wildcard:%s", name);
			CADD(label, name, true, CM_SEV_CRITICAL,
			    "a valid certificate (a wildcard)");
			snprintf(label, sizeof(label), "wildcard-parent:%s",
			    v + 2);
			CADD(label, v + 2, false, CM_SEV_CRITICAL,
			    "a certificate for another name (the wildcard's "
			    "parent)");
			snprintf(name, sizeof(name), "a.b%s", v + 1);
			snprintf(label, sizeof(label), "wildcard-two-level:%s",
			    name);
			CADD(label, name, false, CM_SEV_CRITICAL,
			    "a certificate for another name (two labels under "
			    "a wildcard)");
		} else if (a->type == GNUTLS_SAN_DNSNAME) {
			snprintf(label, sizeof(label), "name:%s", v);
			CADD(label, v, true, CM_SEV_CRITICAL,
			    "a valid certificate");
			snprintf(name, sizeof(name), "x%s", v);
			snprintf(label, sizeof(label), "sibling:%s", name);
			CADD(label, name, false, CM_SEV_CRITICAL,
			    "a certificate for another name (a sibling)");
			snprintf(name, sizeof(name), "sub.%s", v);
			snprintf(label, sizeof(label), "child:%s", name);
			CADD(label, name, false, CM_SEV_CRITICAL,
			    "a certificate for another name (a child)");
			snprintf(name, sizeof(name), "%s.certmint.invalid", v);
			snprintf(label, sizeof(label), "suffix:%s", name);
			CADD(label, name, false, CM_SEV_CRITICAL,
			    "a certificate for another name (a longer one)");
			snprintf(name, sizeof(name), "%s.", v);
			snprintf(label, sizeof(label), "trailing-dot:%s", name);
			CADD(label, name, true, CM_SEV_INFO,
			    "a valid certificate for the absolute name (most "
			    "clients strip the dot)");
		} else if (a->type == GNUTLS_SAN_IPADDRESS && a->len == 4 &&
		    strcmp(v, "127.0.0.1") == 0) {
			/* Only the address the server listens on. */
			snprintf(label, sizeof(label), "ip:%s", v);
			CADD(label, v, true, CM_SEV_CRITICAL,
			    "a valid certificate (an iPAddress SAN)");
		}
	}
	t.ocsp_staple = NULL;
	t.ocsp_staple_len = 0;
	CADD("wrong-hostname", "certmint-wrong.invalid", false,
	    CM_SEV_CRITICAL, "a certificate for another name");
	t.server_chain = s->u_twin;
	CADD("untrusted-root", s->first, false, CM_SEV_CRITICAL,
	    "a certificate from an untrusted root");
	t.server_chain = s->self;
	CADD("self-signed", s->first, false, CM_SEV_CRITICAL,
	    "a self-signed certificate");
	t.server_chain = s->via_notca_e;
	CADD("issuer-not-ca", s->first, false, CM_SEV_CRITICAL,
	    "a certificate signed by a certificate that is not a CA");
	t.server_chain = s->via_int;
	CADD("missing-intermediate", s->first, false, CM_SEV_CRITICAL,
	    "a certificate whose intermediate CA was not sent");
	t.server_chain = s->via_int_chain;
	CADD("with-intermediate", s->first, true, CM_SEV_CRITICAL,
	    "a valid certificate (with an intermediate CA)");
	t.server_chain = s->expired;
	CADD("expired-twin", s->first, false, CM_SEV_CRITICAL,
	    "an expired certificate");
	t.server_chain = s->nyv;
	CADD("not-yet-valid-twin", s->first, false, CM_SEV_CRITICAL,
	    "a certificate not yet valid");
	t.server_chain = s->wrong_eku;
	CADD("client-eku-twin", s->first, false, CM_SEV_CRITICAL,
	    "a certificate for client authentication only");
	t.server_chain = s->nc_twin;
	CADD("name-constraints-twin", s->first, false, CM_SEV_CRITICAL,
	    "a certificate outside its CA's name constraints");
	t.server_chain = s->rev_twin;
	t.ocsp_staple = s->staple_rev;
	t.ocsp_staple_len = s->staple_rev_len;
	CADD("revoked-ocsp-staple", s->first, false, CM_SEV_INFO,
	    "a certificate revoked by its stapled OCSP response (many "
	    "clients do not check)");
	t.ocsp_staple = NULL;
	t.ocsp_staple_len = 0;
	t.server_chain = s->ms_twin;
	CADD("must-staple-missing", s->first, false, CM_SEV_INFO,
	    "a must-staple certificate without a staple (many clients do "
	    "not check)");
	t.server_chain = s->chain_pem;
	t.ocsp_staple = s->real_staple;
	t.ocsp_staple_len = s->real_staple_len;
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		if (weak[i].rsa && !rsa)
			continue;
		t.priority = (char *)weak[i].prio;
		CADD(weak[i].label, s->first, false, CM_SEV_WARNING,
		    weak[i].what);
	}
#undef CADD
	return CM_OK;
}

/*
 * The seeds' weak leaves: a twin with an RSA-1024 key and one signed with
 * SHA-1, both from E (so only the weakness is wrong).  Warnings: a
 * client should refuse them.  The server side allows what it serves
 * (GnuTLS's own checks would stop it first otherwise).
 */
#define P_WEAK_LEAF "NORMAL:%VERIFY_ALLOW_SIGN_WITH_SHA1:" \
	"%VERIFY_ALLOW_BROKEN:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
static cm_err
app_weak_leaf_set(cbuild *b, const sources *s)
{
	cm_scenario t = CM_SCENARIO_INIT;
	gnutls_x509_privkey_t small = NULL;
	certspec base;
	char *rsa = NULL, *rsa_key = NULL, *sha1 = NULL;
	cm_err err = CM_OK;
	int ret;

	memset(&base, 0, sizeof(base));
	base.dn = s->dn;
	base.sans = s->sans;
	base.nsans = s->nsans;
	base.key = s->key;
	base.sha1 = true;
	if ((err = twin(&sha1, b->m.ctx, &base, &s->e, s->eku, s->now - DAY,
	    s->now + 7 * DAY, false)) != CM_OK)
		goto out;
	t.trust = s->root_pem;
	t.priority = (char *)P_WEAK_LEAF;
	t.expected_name = s->first;
	t.server_chain = sha1;
	t.server_key = s->key_pem;
	if ((err = cpush(b, &t, "sha1-signed-leaf", false, CM_SEV_WARNING,
	    "a certificate signed with SHA-1")) != CM_OK)
		goto out;
	/* An RSA-1024 key: GnuTLS may refuse to make one (a system policy);
	 * then the scenario is left out, not faked. */
	if ((ret = gnutls_x509_privkey_init(&small)) < 0 ||
	    (ret = gnutls_x509_privkey_generate(small, GNUTLS_PK_RSA, 1024,
	    0)) < 0)
		goto out;
	base.key = small;
	base.sha1 = false;
	if ((err = twin(&rsa, b->m.ctx, &base, &s->e, s->eku, s->now - DAY,
	    s->now + 7 * DAY, false)) != CM_OK)
		goto out;
	if ((rsa_key = key_pem_of(b->m.ctx, small)) == NULL) {
		err = cm__fail(b->m.ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	t.server_chain = rsa;
	t.server_key = rsa_key;
	err = cpush(b, &t, "rsa1024-leaf", false, CM_SEV_WARNING,
	    "a certificate with an RSA-1024 key");
out:
	free(sha1);
	free(rsa);
	if (rsa_key != NULL)
		cm__free_secret(rsa_key, strlen(rsa_key));
	if (small != NULL)
		gnutls_x509_privkey_deinit(small);
	return err;
}

/*
 * Mutual TLS for a client program: a server that requires a certificate
 * from E, the client's identity ({cert}, {key}) a clientAuth twin from E.
 * The valid server must be accepted with it; an untrusted one rejected
 * all the same.  The identity rides in client_chain/client_key.
 */
static cm_err
app_mtls_set(cbuild *b, const sources *s)
{
	cm_scenario t = CM_SCENARIO_INIT;
	gnutls_x509_privkey_t key = NULL;
	certspec base;
	char *id = NULL, *kp = NULL;
	cm_err err;

	/* A key of its own: the identity goes to a file the client reads,
	 * and the server's key (perhaps a real one) must not. */
	if ((err = cm__key_generate(&key, b->m.ctx, CM_KEY_EC_P256)) != CM_OK)
		return err;
	memset(&base, 0, sizeof(base));
	base.dn = "CN=certmint test client,O=certmint harness";
	base.key = key;
	if ((err = twin(&id, b->m.ctx, &base, &s->e, EKU_CLIENT,
	    s->now - DAY, s->now + 7 * DAY, false)) != CM_OK)
		goto out;
	if ((kp = key_pem_of(b->m.ctx, key)) == NULL) {
		err = cm__fail(b->m.ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	t.server_key = s->key_pem;
	t.trust = s->root_pem;
	t.priority = (char *)CM_PRIORITY_DEFAULT;
	t.client_auth = CM_CLIENT_AUTH_REQUIRE;
	t.client_trust = s->e.pem;
	t.client_chain = id;
	t.client_key = kp;
	t.expected_name = s->first;
	t.server_chain = s->chain_pem;
	if ((err = cpush(b, &t, "mtls-valid", true, CM_SEV_CRITICAL,
	    "a valid server that requires a client certificate (present "
	    "{cert} and {key})")) != CM_OK)
		goto out;
	t.server_chain = s->u_twin;
	err = cpush(b, &t, "mtls-untrusted-root", false, CM_SEV_CRITICAL,
	    "a server from an untrusted root that asks for a client "
	    "certificate");
out:
	free(id);
	if (kp != NULL) {
		explicit_bzero(kp, strlen(kp));
		free(kp);
	}
	gnutls_x509_privkey_deinit(key);
	return err;
}

void
cm_client_matrix_free(cm_client_scenario *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		cm_scenario_free(v[i].sc);
	free(v);
}

cm_err
cm_client_matrix(cm_client_scenario **out, size_t *n, char **ca_pem,
    cm_store *st, const char *ref)
{
	cm_ctx *ctx = cm__store_ctx(st);
	cm_cert_info *info = NULL;
	cm_client_scenario *v = NULL;
	sources *s = NULL;
	cbuild b;
	char wname[300], *ca = NULL, *tmp;
	size_t i;
	bool rsa;
	cm_err err;

	memset(&b, 0, sizeof(b));
	b.m.ctx = ctx;
	*out = NULL;
	*n = 0;
	*ca_pem = NULL;
	if ((err = cm_cert_find(&info, st, ref)) != CM_OK)
		return err;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	s->ctx = ctx;
	s->now = time(NULL);
	s->for_clients = true;
	if ((err = build_sources(s, st, info)) != CM_OK)
		goto out;
	if (!(s->eku & EKU_SERVER)) {
		err = cm__fail(ctx, CM_E_INVALID, "test client: certificate %s "
		    "is not a server certificate (no serverAuth)",
		    info->serial);
		goto out;
	}
	if (s->first != NULL && s->first[0] == '*') {
		snprintf(wname, sizeof(wname), "www%s", s->first + 1);
		s->first = wname;
	}
	rsa = gnutls_x509_privkey_get_pk_algorithm(s->key) == GNUTLS_PK_RSA;
	if ((err = app_client_set(&b, s, rsa)) != CM_OK ||
	    (err = app_weak_leaf_set(&b, s)) != CM_OK ||
	    (err = app_mtls_set(&b, s)) != CM_OK)
		goto out;
	/* One anchor file: the real root, E (twins) and the constrained CA;
	 * never U. */
	if ((tmp = cat2(s->root_pem, s->e.pem)) == NULL ||
	    (ca = cat2(tmp, s->nc.pem)) == NULL) {
		free(tmp);
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	free(tmp);
	if ((v = calloc(b.m.n ? b.m.n : 1, sizeof(*v))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < b.m.n; i++) {
		v[i].sc = b.m.v[i];
		v[i].accept = b.meta[i].accept;
		v[i].severity = b.meta[i].sev;
		v[i].what = b.meta[i].what;
	}
	*out = v;
	*n = b.m.n;
	*ca_pem = ca;
	ca = NULL;
	free(b.m.v);
	b.m.v = NULL;
	b.m.n = 0;
out:
	free(ca);
	free(b.meta);
	cm_scenario_list_free(b.m.v, b.m.n);
	if (s != NULL) {
		sources_clear(s);
		free(s);
	}
	cm_cert_info_free(info);
	return err;
}
