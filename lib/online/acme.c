/*
 * acme.c - the ACME server of certmint serve (RFC 8555): directory,
 * nonces, accounts (with External Account Binding and key rollover),
 * orders and their authorizations, challenges (handed to validate.c),
 * finalize, certificates, revocation, renewal information (RFC 9773) and
 * profiles.  Every request is a JWS checked (jws.c) before its payload is
 * looked at; state lives in the store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <microhttpd.h>

#include "online.h"

/* ---- ACME ---------------------------------------------------------------- */

static const char *const default_profiles[] = { "server", "peer" };

static size_t
nprofiles(const server *sv)
{
	return sv->o->nprofiles ? sv->o->nprofiles :
	    sizeof(default_profiles) / sizeof(default_profiles[0]);
}

static const char *
profile_at(const server *sv, size_t i)
{
	return sv->o->nprofiles ? sv->o->profiles[i] : default_profiles[i];
}

static mhd_result
acme_directory(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c)
{
	char b[2048];
	json_t *j;

	snprintf(b, sizeof(b), "%s/acme/%s/", sv->base, c->enc);
	j = json_pack("{s:s++,s:s++,s:s++,s:s++,s:s++,s:s++,s:{s:b}}",
	    "newNonce", b, "new-nonce", "", "newAccount", b, "new-account", "",
	    "newOrder", b, "new-order", "", "revokeCert", b, "revoke-cert", "",
	    "keyChange", b, "key-change", "", "renewalInfo", b,
	    "renewal-info", "", "meta", "externalAccountRequired",
	    sv->o->eab_required);
	if (j != NULL) {
		json_t *pr = json_object();
		size_t i;
		for (i = 0; i < nprofiles(sv); i++)
			json_object_set_new(pr, profile_at(sv, i), json_string(
			    i == 0 ? "the default: certmint profile of this "
			    "name" : "certmint profile of this name"));
		json_object_set_new(json_object_get(j, "meta"), "profiles",
		    pr);
	}
	return cm__srv_send_json(sv, conn, method, url, t0, 200, j, NULL, NULL,
	    NULL);
}

/*
 * The JWS of a POST to path under CA c, checked up to its signature: the
 * header, the URL, the nonce (used up), the key (jwk, or the account of
 * kid).  [out] acct: the account of kid.  Returns 0, or -1 with
 * j->ptype / detail set and *status the HTTP status.
 */
#define BY_KID 0
#define BY_JWK 1
#define BY_EITHER 2

static int
acme_request(cm__jws *j, cm__acme_account *acct, unsigned *status,
    server *sv, const sca *c, const char *url, const request *rq,
    int mode)
{
	bool want_jwk;
	char want[2048];
	json_t *jwk = NULL;
	json_error_t je;
	bool ok = false;
	unsigned char raw[16];
	char *fresh = NULL;
	long long id;
	char *end;

	*status = 400;
	memset(acct, 0, sizeof(*acct));
	if (cm__jws_open(j, (const char *)rq->body, rq->len) != 0)
		return -1;
	/* The URL as the client wrote it: the CA's name escaped. */
	snprintf(want, sizeof(want), "%s/acme/%s/%s", sv->base, c->enc,
	    strchr(url + 6, '/') + 1);
	if (strcmp(j->url, want) != 0) {
		snprintf(j->ptype, sizeof(j->ptype), "unauthorized");
		snprintf(j->detail, sizeof(j->detail), "the JWS url is not "
		    "the URL of this request");
		*status = 401;
		return -1;
	}
	/* The nonce taken and the answer's stored in one commit. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) == 0 &&
	    (fresh = cm__b64url_encode(raw, sizeof(raw))) != NULL) {
		if (cm__store_acme_nonce_swap(&ok, sv->st, j->nonce, fresh,
		    cm_ctx_now(sv->ctx)) == CM_OK)
			snprintf(sv->next_nonce, sizeof(sv->next_nonce), "%s",
			    fresh);
		else
			ok = false;
		free(fresh);
	}
	if (!ok) {
		snprintf(j->ptype, sizeof(j->ptype), "badNonce");
		snprintf(j->detail, sizeof(j->detail), "the nonce is unknown, "
		    "used or expired");
		return -1;
	}
	want_jwk = mode == BY_EITHER ? j->jwk != NULL : mode == BY_JWK;
	if (want_jwk != (j->jwk != NULL)) {
		snprintf(j->ptype, sizeof(j->ptype), "malformed");
		snprintf(j->detail, sizeof(j->detail), want_jwk ? "newAccount "
		    "is signed with jwk, not kid" : "sign with kid (the "
		    "account URL), not jwk");
		return -1;
	}
	if (want_jwk)
		return cm__jwk_import(j, j->jwk) != 0 ? -1 :
		    cm__jws_verify(j);
	/* kid: this CA's account URL. */
	snprintf(want, sizeof(want), "%s/acme/%s/acct/", sv->base, c->enc);
	if (strncmp(j->kid, want, strlen(want)) != 0 ||
	    (id = strtoll(j->kid + strlen(want), &end, 10)) <= 0 || *end) {
		snprintf(j->ptype, sizeof(j->ptype), "accountDoesNotExist");
		snprintf(j->detail, sizeof(j->detail), "kid is not an account "
		    "of this directory");
		return -1;
	}
	if (cm__store_acme_account_get(acct, sv->st, c->id, (int64_t)id,
	    NULL) != CM_OK) {
		snprintf(j->ptype, sizeof(j->ptype), "accountDoesNotExist");
		snprintf(j->detail, sizeof(j->detail), "no such account");
		return -1;
	}
	if (strcmp(acct->status, "valid") != 0) {
		snprintf(j->ptype, sizeof(j->ptype), "unauthorized");
		snprintf(j->detail, sizeof(j->detail), "the account is %s",
		    acct->status);
		*status = 403;
		return -1;
	}
	if ((jwk = json_loads(acct->jwk, 0, &je)) == NULL) {
		snprintf(j->ptype, sizeof(j->ptype), "serverInternal");
		snprintf(j->detail, sizeof(j->detail), "account key");
		*status = 500;
		return -1;
	}
	ok = cm__jwk_import(j, jwk) == 0 && cm__jws_verify(j) == 0;
	json_decref(jwk);
	return ok ? 0 : -1;
}

/* contact: an array of mailto: URLs (7.3), or absent. */
static bool
contact_ok(json_t *c)
{
	size_t i;
	json_t *v;

	if (c == NULL)
		return true;
	if (!json_is_array(c) || json_array_size(c) > 8)
		return false;
	json_array_foreach(c, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL || strncmp(s, "mailto:", 7) != 0 ||
		    strlen(s) > 254 || strpbrk(s + 7, ",\r\n ") != NULL ||
		    strchr(s + 7, '@') == NULL)
			return false;
	}
	return true;
}

static json_t *
account_json(server *sv, const sca *c, const cm__acme_account *a)
{
	json_error_t je;
	json_t *contact = a->contact ? json_loads(a->contact, 0, &je) : NULL;
	char orders[2048];

	snprintf(orders, sizeof(orders), "%s/acme/%s/acct/%lld/orders",
	    sv->base, c->enc, (long long)a->id);
	return json_pack("{s:s,s:o,s:s}", "status", a->status, "contact",
	    contact ? contact : json_array(), "orders", orders);
}

/*
 * externalAccountBinding (7.3.4): a JWS by an EAB key (HS256/384/512, kid
 * the EAB key id, url the newAccount URL) over the account's JWK.  [out]
 * kid of the EAB key.  NULL, or why it does not hold.
 */
static const char *
eab_check(char *kid, size_t klen, server *sv, const sca *c, const cm__jws *j,
    json_t *eab)
{
	const char *ps, *pls, *sgs, *alg, *ekid, *eurl;
	unsigned char *raw = NULL, *key = NULL, *sig = NULL, mac[64];
	size_t rlen = 0, keylen = 0, siglen = 0, mlen, ilen;
	gnutls_mac_algorithm_t ma;
	json_t *hdr = NULL, *pj = NULL;
	json_error_t je;
	char **v = NULL, *input = NULL;
	size_t n = 0;
	const char *why = NULL;
	cm__jws tmp;

	memset(&tmp, 0, sizeof(tmp));
	ps = json_string_value(json_object_get(eab, "protected"));
	pls = json_string_value(json_object_get(eab, "payload"));
	sgs = json_string_value(json_object_get(eab, "signature"));
	if (ps == NULL || pls == NULL || sgs == NULL ||
	    !cm__b64url_decode(&raw, &rlen, ps, strlen(ps)) ||
	    (hdr = json_loadb((const char *)raw, rlen, 0, &je)) == NULL) {
		why = "externalAccountBinding is not a flattened JWS";
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	ekid = json_string_value(json_object_get(hdr, "kid"));
	eurl = json_string_value(json_object_get(hdr, "url"));
	ma = alg == NULL ? GNUTLS_MAC_UNKNOWN : strcmp(alg, "HS256") == 0 ?
	    GNUTLS_MAC_SHA256 : strcmp(alg, "HS384") == 0 ? GNUTLS_MAC_SHA384 :
	    strcmp(alg, "HS512") == 0 ? GNUTLS_MAC_SHA512 : GNUTLS_MAC_UNKNOWN;
	if (ma == GNUTLS_MAC_UNKNOWN || ekid == NULL || eurl == NULL ||
	    strcmp(eurl, j->url) != 0 || json_object_get(hdr, "nonce")) {
		why = "the binding's header: HS256/384/512, kid, the same url, "
		    "no nonce";
		goto out;
	}
	if (cm__store_acme_rows(&v, &n, sv->st, "SELECT hmac_key, account_id "
	    "FROM acme_eab WHERE kid = ? AND ca_id = ?", "si", ekid, c->id) !=
	    CM_OK) {
		why = "no such external account key";
		goto out;
	}
	if (v[1] != NULL) {
		why = "that external account key is bound already";
		goto out;
	}
	ilen = strlen(ps) + strlen(pls) + 2;
	if (!cm__b64url_decode(&key, &keylen, v[0], strlen(v[0])) ||
	    !cm__b64url_decode(&sig, &siglen, sgs, strlen(sgs)) ||
	    (input = malloc(ilen)) == NULL) {
		why = "the binding's signature";
		goto out;
	}
	snprintf(input, ilen, "%s.%s", ps, pls);
	mlen = gnutls_hmac_get_len(ma);
	if (gnutls_hmac_fast(ma, key, keylen, input, strlen(input), mac) < 0 ||
	    siglen != mlen || gnutls_memcmp(mac, sig, mlen) != 0) {
		why = "the binding's MAC does not verify";
		goto out;
	}
	/* Its payload: the account's key. */
	free(raw);
	raw = NULL;
	tmp.alg_index = j->alg_index;
	if (!cm__b64url_decode(&raw, &rlen, pls, strlen(pls)) ||
	    (pj = json_loadb((const char *)raw, rlen, 0, &je)) == NULL ||
	    cm__jwk_import(&tmp, pj) != 0 || strcmp(tmp.thumbprint,
	    j->thumbprint) != 0) {
		why = "the binding does not sign the account's key";
		goto out;
	}
	snprintf(kid, klen, "%s", ekid);
out:
	if (key != NULL) {
		gnutls_memset(key, 0, keylen);
		free(key);
	}
	free(raw);
	free(sig);
	free(input);
	cm__srv_free_rows(v, n * 2);
	json_decref(hdr);
	json_decref(pj);
	cm__jws_clear(&tmp);
	return why;
}

static mhd_result
acme_new_account(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, const sca *c,
    const request *rq)
{
	cm__jws j;
	cm__acme_account a, none;
	json_t *contact, *only, *eab;
	char loc[2048], *ctext = NULL, ekid[128] = "";
	const char *why;
	unsigned status;
	int64_t id = 0;
	mhd_result r;
	cm_err err;

	if (acme_request(&j, &none, &status, sv, c, url, rq, BY_JWK) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, status, c->name,
		    j.ptype, j.detail);
		goto out;
	}
	if (j.post_as_get) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", "newAccount needs a payload");
		goto out;
	}
	err = cm__store_acme_account_get(&a, sv->st, c->id, 0, j.thumbprint);
	if (err == CM_OK) {
		snprintf(loc, sizeof(loc), "%s/acme/%s/acct/%lld", sv->base,
		    c->enc, (long long)a.id);
		r = cm__srv_send_json(sv, conn, method, url, t0, 200,
		    account_json(sv, c, &a), c->name, loc, NULL);
		cm__acme_account_clear(&a);
		goto out;
	}
	if (err != CM_E_NOTFOUND) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the store");
		goto out;
	}
	only = json_object_get(j.payload, "onlyReturnExisting");
	if (json_is_true(only)) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "accountDoesNotExist", "no account has this key");
		goto out;
	}
	eab = json_object_get(j.payload, "externalAccountBinding");
	if (eab == NULL && sv->o->eab_required) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "externalAccountRequired", "this directory needs an "
		    "externalAccountBinding (certmint acme eab add)");
		goto out;
	}
	if (eab != NULL && (why = eab_check(ekid, sizeof(ekid), sv, c, &j,
	    eab)) != NULL) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "unauthorized", why);
		goto out;
	}
	contact = json_object_get(j.payload, "contact");
	if (!contact_ok(contact)) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "invalidContact", "contact is an array of mailto: "
		    "addresses");
		goto out;
	}
	ctext = contact ? json_dumps(contact, JSON_COMPACT) : NULL;
	if (cm__store_acme_account_insert(&id, sv->st, c->id, j.thumbprint,
	    j.jwk_text, ctext, cm_ctx_now(sv->ctx)) != CM_OK ||
	    (ekid[0] && cm__store_acme_exec(NULL, sv->st, "UPDATE acme_eab "
	    "SET account_id = ? WHERE kid = ? AND account_id IS NULL", "is",
	    id, ekid) != CM_OK) ||
	    cm__store_event(sv->st, "acme-account", c->name, NULL) != CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the account cannot be recorded");
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.status = (char *)"valid";
	a.contact = ctext;
	snprintf(loc, sizeof(loc), "%s/acme/%s/acct/%lld", sv->base, c->enc,
	    (long long)id);
	r = cm__srv_send_json(sv, conn, method, url, t0, 201,
	    account_json(sv, c, &a), c->name, loc, NULL);
out:
	free(ctext);
	cm__acme_account_clear(&none);
	cm__jws_clear(&j);
	return r;
}

/* ---- renewal information (RFC 9773) ------------------------------------ */

/*
 * A certificate by its ARI CertID: base64url(AKI keyIdentifier) "."
 * base64url(serial).  [out] info.  False when it is not one of c's.
 */
static bool
ari_cert(cm_cert_info **info, server *sv, const sca *c, const char *id)
{
	const char *dot = strchr(id, '.');
	unsigned char *aki = NULL, *sn = NULL;
	size_t alen = 0, slen = 0, i, k;
	char hex[130];
	bool ok = false;

	*info = NULL;
	if (dot == NULL || !cm__b64url_decode(&aki, &alen, id,
	    (size_t)(dot - id)) || !cm__b64url_decode(&sn, &slen, dot + 1,
	    strlen(dot + 1)) || slen == 0 || slen > 64 || alen == 0)
		goto out;
	for (k = 0; k + 1 < slen && sn[k] == 0; k++)
		;
	for (i = k; i < slen; i++)
		snprintf(hex + 2 * (i - k), 3, "%02x", sn[i]);
	if (cm_cert_find(info, sv->st, hex) != CM_OK)
		goto out;
	/* The serial must be the whole of it (no prefix match) and c's. */
	{
		const char *s = (*info)->serial, *h = hex;
		while (s[0] == '0' && s[1] != '\0')
			s++;
		while (h[0] == '0' && h[1] != '\0')
			h++;
		ok = strcasecmp(s, h) == 0;
	}
	ok = ok && strcmp((*info)->ca, c->name) == 0;
out:
	if (!ok) {
		cm_cert_info_free(*info);
		*info = NULL;
	}
	free(aki);
	free(sn);
	return ok;
}

/* ---- orders, authorizations, challenges, finalize --------------------- */

#define ORDER_LIFE (7 * 24 * 3600)

static json_t *
time_json(time_t t)
{
	char b[32];

	cm__rfc3339(b, sizeof(b), t);
	return json_string(b);
}

/* The order (id) of account acct as JSON; NULL when it is not theirs. */
static json_t *
order_json(server *sv, const sca *c, int64_t id, int64_t acct)
{
	char **o = NULL, **az = NULL, u[2048];
	size_t no = 0, na = 0, i;
	json_error_t je;
	json_t *j = NULL, *auths;

	if (cm__store_acme_rows(&o, &no, sv->st, "SELECT status, identifiers, "
	    "expires, cert_serial, error, profile FROM acme_orders WHERE id = "
	    "? AND account_id = ?", "ii", id, acct) != CM_OK)
		return NULL;
	if (cm__store_acme_rows(&az, &na, sv->st, "SELECT id FROM acme_authzs "
	    "WHERE order_id = ? ORDER BY id", "i", id) != CM_OK)
		na = 0;
	auths = json_array();
	for (i = 0; i < na; i++) {
		snprintf(u, sizeof(u), "%s/acme/%s/authz/%s", sv->base, c->enc,
		    az[i]);
		json_array_append_new(auths, json_string(u));
	}
	snprintf(u, sizeof(u), "%s/acme/%s/order/%lld/finalize", sv->base,
	    c->enc, (long long)id);
	j = json_pack("{s:s,s:o,s:o,s:o,s:s}", "status", o[0], "expires",
	    time_json((time_t)strtoll(o[2], NULL, 10)), "identifiers",
	    json_loads(o[1], 0, &je), "authorizations", auths, "finalize", u);
	if (j != NULL && o[3] != NULL) {
		snprintf(u, sizeof(u), "%s/acme/%s/cert/%lld", sv->base,
		    c->enc, (long long)id);
		json_object_set_new(j, "certificate", json_string(u));
	}
	if (j != NULL && o[4] != NULL)
		json_object_set_new(j, "error", json_loads(o[4], 0, &je));
	if (j != NULL)
		json_object_set_new(j, "profile", json_string(o[5] ? o[5] :
		    profile_at(sv, 0)));
	cm__srv_free_rows(o, no * 6);
	cm__srv_free_rows(az, na);
	return j;
}

/* Pending authorizations all valid: the order is ready; one invalid: the
 * order is invalid. */
void
cm__acme_order_settle(server *sv, int64_t order)
{
	char **v = NULL;
	size_t n = 0, i, valid = 0, bad = 0;

	if (cm__store_acme_rows(&v, &n, sv->st, "SELECT status FROM "
	    "acme_authzs WHERE order_id = ?", "i", order) != CM_OK)
		return;
	for (i = 0; i < n; i++) {
		valid += strcmp(v[i], "valid") == 0;
		bad += strcmp(v[i], "invalid") == 0 ||
		    strcmp(v[i], "deactivated") == 0;
	}
	cm__srv_free_rows(v, n);
	if (bad > 0)
		(void)cm__store_acme_exec(NULL, sv->st,
		    "UPDATE acme_orders SET "
		    "status = 'invalid' WHERE id = ? AND status IN ('pending', "
		    "'ready')",
		    "i", order);
	else if (valid == n)
		(void)cm__store_acme_exec(NULL, sv->st,
		    "UPDATE acme_orders SET "
		    "status = 'ready' WHERE id = ? AND status = 'pending'", "i",
		    order);
}

/* How many rows sql counts for the account (ip NULL) or the client
 * address ip within the last hour. */
static unsigned long
count_hour(server *sv, const char *sql, int64_t acct, const char *ip)
{
	int64_t since = (int64_t)(cm_ctx_now(sv->ctx) - 3600);
	char **v = NULL;
	size_t n = 0;
	unsigned long k = 0;
	cm_err err;

	err = ip ? cm__store_acme_rows(&v, &n, sv->st, sql, "si", ip, since) :
	    cm__store_acme_rows(&v, &n, sv->st, sql, "ii", acct, since);
	if (err == CM_OK && v[0] != NULL)
		k = strtoul(v[0], NULL, 10);
	cm__srv_free_rows(v, n);
	return k;
}

/* The rate limits (RFC 8555 6.6) of the account and of the client's
 * address: NULL, or why the request is over one. */
static const char *
rate_limited(server *sv, int64_t acct, const char *ip)
{
	const cm_serve_opts *o = sv->o;
	unsigned orders = o->rate_orders ? o->rate_orders : 300;
	unsigned failures = o->rate_failures ? o->rate_failures : 60;
	unsigned ip_orders = o->rate_ip_orders ? o->rate_ip_orders : 3000;
	unsigned ip_failures = o->rate_ip_failures ? o->rate_ip_failures :
	    600;

	if (count_hour(sv, "SELECT count(*) FROM acme_orders WHERE "
	    "account_id = ? AND created >= ?", acct, NULL) >= orders)
		return "too many new orders for this account in the last hour";
	if (count_hour(sv, "SELECT count(*) FROM acme_challenges h JOIN "
	    "acme_authzs z ON z.id = h.authz_id JOIN acme_orders o ON o.id = "
	    "z.order_id WHERE o.account_id = ? AND h.status = 'invalid' AND "
	    "h.validated >= ?", acct, NULL) >= failures)
		return "too many failed validations for this account in the "
		    "last hour";
	if (ip[0] != '\0' && count_hour(sv, "SELECT count(*) FROM acme_orders "
	    "WHERE client_ip = ? AND created >= ?", 0, ip) >= ip_orders)
		return "too many new orders from this address in the last hour";
	if (ip[0] != '\0' && count_hour(sv, "SELECT count(*) FROM "
	    "acme_challenges h JOIN acme_authzs z ON z.id = h.authz_id JOIN "
	    "acme_orders o ON o.id = z.order_id WHERE o.client_ip = ? AND "
	    "h.status = 'invalid' AND h.validated >= ?", 0, ip) >= ip_failures)
		return "too many failed validations from this address in the "
		    "last hour";
	return NULL;
}

/* The client's address as text ("" when unknown). */
static void
client_ip(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, buf, (socklen_t)len);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, buf, (socklen_t)len);
}

/* Whether an identifier (type "dns" or "ip"; a wildcard is judged by the
 * name below it) is on the --allow list, or there is none. */
static bool
allowed(const server *sv, const char *type, const char *value)
{
	unsigned char a[16];
	size_t i, vl, el;
	int fam;

	if (sv->nallow == 0)
		return true;
	if (strcmp(type, "ip") == 0) {
		fam = inet_pton(AF_INET, value, a) == 1 ? AF_INET :
		    inet_pton(AF_INET6, value, a) == 1 ? AF_INET6 : 0;
		for (i = 0; fam != 0 && i < sv->nallow; i++) {
			const allow_ent *e = &sv->allow[i];
			unsigned full = e->bits / 8, rest = e->bits % 8;
			if (e->dns != NULL || e->family != fam ||
			    memcmp(a, e->addr, full) != 0)
				continue;
			if (rest == 0 || ((a[full] ^ e->addr[full]) &
			    (0xff00 >> rest)) == 0)
				return true;
		}
		return false;
	}
	if (strncmp(value, "*.", 2) == 0)
		value += 2;
	vl = strlen(value);
	for (i = 0; i < sv->nallow; i++) {
		const char *d = sv->allow[i].dns;
		if (d == NULL)
			continue;
		el = strlen(d);
		if (d[0] == '.') {
			if (vl > el && strcasecmp(value + vl - el, d) == 0)
				return true;
		} else if (strcasecmp(value, d) == 0 || (vl > el &&
		    value[vl - el - 1] == '.' && strcasecmp(value + vl - el,
		    d) == 0))
			return true;
	}
	return false;
}

/* The challenges an identifier gets: a wildcard only dns-01 (RFC 8555
 * 7.1.3); an address no dns-01 (RFC 8738 7). */
static const char *const chall_dns[] = { "http-01", "dns-01", "tls-alpn-01",
	NULL };
static const char *const chall_ip[] = { "http-01", "tls-alpn-01", NULL };
static const char *const chall_wild[] = { "dns-01", NULL };

/* One authorization of a new order for identifier type/value: a copy of a
 * valid one of the same account when there is one (reused while valid, as
 * RFC 8555 7.1.4 allows), else a pending one with a challenge of each
 * type it may use. */
static cm_err
order_authz(server *sv, int64_t order, int64_t acct, const char *type,
    const char *value, time_t exp)
{
	const char *const *kinds = strcmp(type, "ip") == 0 ? chall_ip :
	    strncmp(value, "*.", 2) == 0 ? chall_wild : chall_dns;
	unsigned char raw[24];
	char **v = NULL, *b;
	size_t n = 0, i;
	int64_t authz = 0;
	cm_err err;

	if (cm__store_acme_rows(&v, &n, sv->st, "SELECT z.expires, h.type, "
	    "h.token, h.validated FROM acme_authzs z JOIN acme_orders o ON "
	    "o.id = z.order_id JOIN acme_challenges h ON h.authz_id = z.id "
	    "WHERE o.account_id = ? AND z.type = ? AND z.value = ? AND "
	    "z.status = 'valid' AND h.status = 'valid' AND z.expires > ? "
	    "ORDER BY z.expires DESC LIMIT 1", "issi", acct, type, value,
	    (int64_t)cm_ctx_now(sv->ctx)) == CM_OK) {
		err = cm__store_acme_exec(&authz, sv->st, "INSERT INTO "
		    "acme_authzs (order_id, type, value, status, expires) "
		    "VALUES (?, ?, ?, 'valid', ?)", "issi", order, type, value,
		    (int64_t)strtoll(v[0], NULL, 10));
		if (err == CM_OK)
			err = cm__store_acme_exec(NULL, sv->st, "INSERT INTO "
			    "acme_challenges (authz_id, type, token, status, "
			    "validated) VALUES (?, ?, ?, 'valid', ?)", "issi",
			    authz, v[1], v[2], (int64_t)(v[3] ? strtoll(v[3],
			    NULL, 10) : 0));
		cm__srv_free_rows(v, n * 4);
		return err;
	}
	if ((err = cm__store_acme_exec(&authz, sv->st, "INSERT INTO "
	    "acme_authzs (order_id, type, value, status, expires) VALUES (?, "
	    "?, ?, 'pending', ?)", "issi", order, type, value, (int64_t)exp)) !=
	    CM_OK)
		return err;
	for (i = 0; kinds[i] != NULL; i++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0 ||
		    (b = cm__b64url_encode(raw, sizeof(raw))) == NULL)
			return cm__fail(sv->ctx, CM_E_CRYPTO,
			    "no random token");
		err = cm__store_acme_exec(NULL, sv->st, "INSERT INTO "
		    "acme_challenges (authz_id, type, token, status) "
		    "VALUES (?, ?, ?, 'pending')", "iss", authz, kinds[i], b);
		free(b);
		if (err != CM_OK)
			return err;
	}
	return CM_OK;
}

static mhd_result
acme_new_order(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const cm__jws *j,
    const cm__acme_account *a)
{
	json_t *ids = json_object_get(j->payload, "identifiers"), *v, *rep;
	json_t *pf;
	const char *why;
	cm_cert_info *old = NULL;
	cm_ca_info *ca = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	cm__name *names = NULL;
	char *text = NULL, loc[2048], ip[INET6_ADDRSTRLEN];
	time_t now = cm_ctx_now(sv->ctx), exp = now + ORDER_LIFE;
	int64_t order = 0;
	size_t n, i, parsed = 0;
	mhd_result r;

	client_ip(conn, ip, sizeof(ip));
	if ((why = rate_limited(sv, a->id, ip)) != NULL) {
		sv->retry_after = 3600;
		return cm__srv_problem(sv, conn, method, url, t0, 429, c->name,
		    "rateLimited", why);
	}
	if (!json_is_array(ids) || (n = json_array_size(ids)) == 0 || n > 100)
		return cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", "identifiers: an array of 1 to 100");
	if ((names = calloc(n, sizeof(*names))) == NULL)
		return MHD_NO;
	json_array_foreach(ids, i, v) {
		const char *type = json_string_value(json_object_get(v,
		    "type"));
		const char *val = json_string_value(json_object_get(v,
		    "value"));
		if (type == NULL || val == NULL || (strcmp(type, "dns") != 0 &&
		    strcmp(type, "ip") != 0)) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "unsupportedIdentifier", "identifiers are dns or "
			    "ip (RFC 8738)");
			goto out;
		}
		if (cm__name_parse(&names[i], sv->ctx, val) != CM_OK) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "rejectedIdentifier", cm_ctx_error(sv->ctx));
			goto out;
		}
		parsed++;
		if ((strcmp(type, "dns") == 0) != (names[i].type ==
		    CM_NAME_DNS || names[i].type == CM_NAME_WILDCARD) ||
		    names[i].type == CM_NAME_EMAIL ||
		    names[i].type == CM_NAME_URI) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "rejectedIdentifier", "the identifier's type does "
			    "not match its value");
			goto out;
		}
		if (!allowed(sv, type, val)) {
			char msg[400];
			snprintf(msg, sizeof(msg), "%.300s is not on this "
			    "server's allow-list", val);
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "rejectedIdentifier", msg);
			goto out;
		}
	}
	/* The CA's name constraints, at the order already. */
	if (cm_ca_get(&ca, sv->st, c->name) != CM_OK ||
	    gnutls_x509_crt_init(&crt) < 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the CA");
		goto out;
	}
	d.data = (unsigned char *)ca->pem;
	d.size = (unsigned)strlen(ca->pem);
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
	    cm__crt_check_constraints(crt, sv->ctx, c->name, names, n) !=
	    CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "rejectedIdentifier", cm_ctx_error(sv->ctx));
		goto out;
	}
	/* RFC 9773 5: the certificate this order replaces, one of this
	 * account's, not replaced already. */
	if ((rep = json_object_get(j->payload, "replaces")) != NULL) {
		char **rv = NULL;
		size_t nr = 0;
		bool mine;
		if (!json_is_string(rep) || !ari_cert(&old, sv, c,
		    json_string_value(rep))) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "malformed", "replaces: the CertID of a "
			    "certificate of this CA");
			goto out;
		}
		mine = cm__store_acme_rows(&rv, &nr, sv->st, "SELECT 1 FROM "
		    "certs WHERE serial = ? AND acme_account_id = ?", "si",
		    old->serial, a->id) == CM_OK;
		cm__srv_free_rows(rv, nr);
		if (!mine) {
			r = cm__srv_problem(sv, conn, method, url, t0, 403,
			    c->name,
			    "unauthorized", "replaces: not a certificate of "
			    "this account");
			goto out;
		}
		if (strcmp(old->status, "superseded") == 0) {
			r = cm__srv_problem(sv, conn, method, url, t0, 409,
			    c->name,
			    "alreadyReplaced", "that certificate was replaced "
			    "already");
			goto out;
		}
	}
	if ((pf = json_object_get(j->payload, "profile")) != NULL) {
		size_t k;
		for (k = 0; json_is_string(pf) && k < nprofiles(sv); k++)
			if (strcmp(json_string_value(pf), profile_at(sv, k)) ==
			    0)
				break;
		if (!json_is_string(pf) || k == nprofiles(sv)) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "invalidProfile", "profile: one of meta.profiles "
			    "in the directory");
			goto out;
		}
	}
	text = json_dumps(ids, JSON_COMPACT);
	if (text == NULL || cm__store_begin(sv->st) != CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the store");
		goto out;
	}
	if (cm__store_acme_exec(&order, sv->st, "INSERT INTO acme_orders "
	    "(account_id, status, identifiers, expires, created, replaces, "
	    "profile, client_ip) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
	    "isiisss", a->id, text, (int64_t)exp, (int64_t)now, old ?
	    old->serial : NULL, pf ? json_string_value(pf) : NULL, ip[0] ? ip :
	    NULL) != CM_OK)
		goto fail;
	json_array_foreach(ids, i, v) {
		if (order_authz(sv, order, a->id, json_string_value(
		    json_object_get(v, "type")), json_string_value(
		    json_object_get(v, "value")), exp) != CM_OK)
			goto fail;
	}
	/* Every authorization reused: ready at once. */
	cm__acme_order_settle(sv, order);
	if (cm__store_commit(sv->st) != CM_OK)
		goto fail;
	snprintf(loc, sizeof(loc), "%s/acme/%s/order/%lld", sv->base, c->enc,
	    (long long)order);
	r = cm__srv_send_json(sv, conn, method, url, t0, 201, order_json(sv, c,
	    order,
	    a->id), c->name, loc, NULL);
	goto out;
fail:
	cm__store_rollback(sv->st);
	r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
	    "serverInternal",
	    "the order cannot be recorded");
out:
	for (i = 0; i < parsed; i++)
		cm__name_clear(&names[i]);
	free(names);
	free(text);
	gnutls_x509_crt_deinit(crt);
	cm_ca_info_free(ca);
	cm_cert_info_free(old);
	return r;
}

/* The authorization id of account acct, a row per challenge (AZ_COLS
 * columns): type, value, status, expires, order; the challenge: id,
 * token, status, error, type. */
static bool
authz_rows(char ***v, size_t *n, server *sv, int64_t id, int64_t acct)
{
	return cm__store_acme_rows(v, n, sv->st, "SELECT z.type, z.value, "
	    "z.status, z.expires, z.order_id, h.id, h.token, h.status, "
	    "h.error, h.type FROM acme_authzs z JOIN acme_orders o ON o.id = "
	    "z.order_id JOIN acme_challenges h ON h.authz_id = z.id WHERE "
	    "z.id = ? AND o.account_id = ? ORDER BY h.id", "ii", id, acct) ==
	    CM_OK;
}

/* Challenge row z (of authz_rows) as JSON. */
static json_t *
chall_json(server *sv, const sca *c, char **z)
{
	char u[2048];
	json_error_t je;
	json_t *ch;

	snprintf(u, sizeof(u), "%s/acme/%s/chall/%s", sv->base, c->enc, z[5]);
	ch = json_pack("{s:s,s:s,s:s,s:s}", "type", z[9], "url", u, "token",
	    z[6], "status", z[7]);
	if (ch != NULL && z[8] != NULL)
		json_object_set_new(ch, "error", json_loads(z[8], 0, &je));
	return ch;
}

/* The authorization of authz_rows' n rows z.  A wildcard's identifier is
 * the name below it, with "wildcard": true (RFC 8555 7.1.4). */
static json_t *
authz_json(server *sv, const sca *c, char **z, size_t n)
{
	bool wild = strncmp(z[1], "*.", 2) == 0;
	json_t *chs = json_array(), *j;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(chs, chall_json(sv, c, z + i * AZ_COLS));
	j = json_pack("{s:{s:s,s:s},s:s,s:o,s:o}", "identifier", "type",
	    z[0], "value", wild ? z[1] + 2 : z[1], "status", z[2], "expires",
	    time_json((time_t)strtoll(z[3], NULL, 10)), "challenges", chs);
	if (j != NULL && wild)
		json_object_set_new(j, "wildcard", json_true());
	return j;
}

static mhd_result
acme_challenge(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const cm__jws *j,
    const cm__acme_account *a, int64_t id)
{
	char **z = NULL, keyauth[256], up[2048], idtxt[32];
	bool started = false;
	size_t n = 0, row;
	int64_t zid = 0;
	mhd_result r;
	char **h;

	if (cm__store_acme_rows(&z, &n, sv->st, "SELECT h.authz_id FROM "
	    "acme_challenges h JOIN acme_authzs z ON z.id = h.authz_id JOIN "
	    "acme_orders o ON o.id = z.order_id WHERE h.id = ? AND "
	    "o.account_id = ?", "ii", id, a->id) != CM_OK)
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no such challenge");
	zid = strtoll(z[0], NULL, 10);
	cm__srv_free_rows(z, n);
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)id);
again:
	if (!authz_rows(&z, &n, sv, zid, a->id))
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no such challenge");
	for (row = 0; row < n && strcmp(z[row * AZ_COLS + 5], idtxt); row++)
		;
	if (row == n) {
		cm__srv_free_rows(z, n * AZ_COLS);
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no such challenge");
	}
	h = z + row * AZ_COLS;
	/* POST {} starts it (while its authorization is pending);
	 * POST-as-GET only shows it. */
	if (!started && !j->post_as_get && strcmp(h[7], "pending") == 0 &&
	    strcmp(z[2], "pending") == 0) {
		snprintf(keyauth, sizeof(keyauth), "%s.%s", h[6],
		    j->thumbprint);
		if (cm__va_pool_submit(sv, id, zid, strtoll(z[4], NULL, 10), h,
		    z,
		    keyauth) != 0) {
			cm__srv_free_rows(z, n * AZ_COLS);
			sv->retry_after = 5;
			return cm__srv_problem(sv, conn, method, url, t0, 503,
			    c->name,
			    "rateLimited", "too many validations waiting; "
			    "try again shortly");
		}
		cm__srv_free_rows(z, n * AZ_COLS);
		started = true;
		goto again;
	}
	snprintf(up, sizeof(up), "<%s/acme/%s/authz/%lld>;rel=\"up\"",
	    sv->base, c->enc, (long long)zid);
	sv->up_link = up;
	if (strcmp(h[7], "processing") == 0)
		sv->retry_after = 1;
	r = cm__srv_send_json(sv, conn, method, url, t0, 200, chall_json(sv, c,
	    h),
	    c->name, NULL, NULL);
	cm__srv_free_rows(z, n * AZ_COLS);
	sv->up_link = NULL;
	return r;
}

/* Whether name (a DNS name, "*.name", or an address as text) is the
 * identifier v of an order: DNS without case, addresses as addresses. */
static bool
ident_eq(json_t *v, const char *name)
{
	const char *t = json_string_value(json_object_get(v, "type"));
	const char *val = json_string_value(json_object_get(v, "value"));
	unsigned char a[16], b[16];
	int fa;

	if (t == NULL || val == NULL)
		return false;
	if (strcmp(t, "ip") != 0)
		return strcasecmp(val, name) == 0;
	fa = inet_pton(AF_INET, val, a) == 1 ? AF_INET :
	    inet_pton(AF_INET6, val, a) == 1 ? AF_INET6 : 0;
	return fa != 0 && inet_pton(fa, name, b) == 1 &&
	    memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
}

/* A name from a CSR, fit for a one-line message: control characters as
 * '?' (a DNS name "\n.w.test" broke the line; found by fuzz-csr). */
static const char *
safe_name(char *out, size_t len, const char *in)
{
	size_t i;

	snprintf(out, len, "%.200s", in);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

/* Whether name is one of the order's identifiers ids. */
static bool
ids_have(json_t *ids, const char *name)
{
	json_t *v;
	size_t k;

	json_array_foreach(ids, k, v)
		if (ident_eq(v, name))
			return true;
	return false;
}

/*
 * RFC 8555 7.4: the names a CSR asks for are the order's identifiers,
 * exactly.  The names are those certmint would sign (sign.c): every
 * subjectAltName (DNS names and addresses only here), and the subject CN
 * when it is a name.  Each must be an identifier, and each identifier
 * one of them.  false: why says which.
 */
bool
cm__acme_csr_names_match(gnutls_x509_crq_t crq, cm_ctx *ctx, json_t *ids,
    char *why, size_t wlen)
{
	char buf[512], txt[INET6_ADDRSTRLEN], txt2[210];
	char **names = NULL, **nn;
	size_t len, i, k, n = 0, nids = json_array_size(ids);
	unsigned type, crit;
	bool ok = false;
	json_t *v;
	cm__name nm;
	int ret;

	if (nids == 0) {
		snprintf(why, wlen, "the order has no identifiers");
		return false;
	}
	for (i = 0;; i++) {
		len = sizeof(buf) - 1;
		ret = gnutls_x509_crq_get_subject_alt_name(crq, (unsigned)i,
		    buf, &len, &type, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0 || (type != GNUTLS_SAN_DNSNAME &&
		    type != GNUTLS_SAN_IPADDRESS)) {
			snprintf(why, wlen, "the CSR has a name that is not a "
			    "DNS name or IP address");
			goto out;
		}
		if (type == GNUTLS_SAN_IPADDRESS) {
			if ((len != 4 && len != 16) || inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, buf, txt, sizeof(txt)) ==
			    NULL) {
				snprintf(why, wlen, "the CSR has an IP address "
				    "of %zu octets", len);
				goto out;
			}
			snprintf(buf, sizeof(buf), "%s", txt);
		} else {
			if (memchr(buf, '\0', len) != NULL) {
				snprintf(why, wlen, "the CSR has a DNS name "
				    "with a NUL byte");
				goto out;
			}
			buf[len] = '\0';
		}
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL) {
			snprintf(why, wlen, "out of memory");
			goto out;
		}
		names = nn;
		if ((names[n] = strdup(buf)) == NULL) {
			snprintf(why, wlen, "out of memory");
			goto out;
		}
		n++;
	}
	/* The subject CN, when it is a name, is signed too. */
	len = sizeof(buf) - 1;
	if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &len) == 0) {
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
		if (cm__name_parse(&nm, ctx, buf) == CM_OK) {
			cm__name_clear(&nm);
			if (!ids_have(ids, buf)) {
				snprintf(why, wlen, "the CSR's subject CN %s is "
				    "not an identifier of the order",
				    safe_name(txt2, sizeof(txt2), buf));
				goto out;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (!ids_have(ids, names[i])) {
			snprintf(why, wlen, "the CSR names %s, which the order "
			    "does not", safe_name(txt2, sizeof(txt2),
			    names[i]));
			goto out;
		}
	json_array_foreach(ids, k, v) {
		for (i = 0; i < n && !ident_eq(v, names[i]); i++)
			;
		if (i == n) {
			snprintf(why, wlen, "the CSR does not name every "
			    "identifier of the order");
			goto out;
		}
	}
	ok = true;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok;
}

typedef struct finalize_ctx {
	int64_t order, account;
	json_t *ids;            /* the order's identifiers */
} finalize_ctx;

/* Inside the signing transaction: the certificate just recorded (the
 * newest row: the transaction holds the write lock) gets its account, and
 * the order becomes valid with it, so that a crash leaves neither an
 * ACME certificate without its account nor a valid order without its
 * certificate. */
static cm_err
finalize_link(cm_store *st, void *arg)
{
	const finalize_ctx *f = arg;
	char **v = NULL;
	size_t n = 0;
	cm_err err;

	char **nm = NULL;
	size_t nn = 0, i;

	/* The certificate the signing transaction just stored. */
	if ((err = cm__store_acme_rows(&v, &n, st, "SELECT serial, id FROM "
	    "certs WHERE id = ?", "i", cm__store_last_cert_id(st))) != CM_OK)
		return err == CM_E_NOTFOUND ? CM_E_STORE : err;
	/* Every name the certificate got was validated (the CSR check
	 * above said so; this is the store's word). */
	if ((err = cm__store_acme_rows(&nm, &nn, st, "SELECT name FROM "
	    "cert_names WHERE cert_id = ?", "i", (int64_t)strtoll(v[1], NULL,
	    10))) != CM_OK) {
		cm__srv_free_rows(v, n * 2);
		return err == CM_E_NOTFOUND ? CM_E_STORE : err;
	}
	for (i = 0; i < nn; i++)
		if (nm[i] == NULL || !ids_have(f->ids, nm[i])) {
			err = cm__fail(cm__store_ctx(st), CM_E_INVALID, "the "
			    "certificate would name %.200s, which the order "
			    "does not", nm[i] ? nm[i] : "(null)");
			break;
		}
	cm__srv_free_rows(nm, nn);
	if (err != CM_OK) {
		cm__srv_free_rows(v, n * 2);
		return err;
	}
	err = cm__store_acme_exec(NULL, st, "UPDATE certs SET acme_account_id "
	    "= ? WHERE serial = ?", "is", f->account, v[0]);
	if (err == CM_OK)
		err = cm__store_acme_exec(NULL, st, "UPDATE acme_orders SET "
		    "status = 'valid', cert_serial = ? WHERE id = ? AND status = "
		    "'ready'", "si", v[0], f->order);
	cm__srv_free_rows(v, n * 2);
	return err;
}

static mhd_result
acme_finalize(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const cm__jws *j,
    const cm__acme_account *a, int64_t id)
{
	const char *csr = json_string_value(json_object_get(j->payload,
	    "csr"));
	cm_sign_opts so = CM_SIGN_OPTS_INIT;
	gnutls_x509_crq_t crq = NULL;
	cm_cert_info *info = NULL;
	unsigned char *der = NULL, k1[64], k2[64];
	size_t len = 0, l1 = sizeof(k1), l2 = sizeof(k2), no = 0;
	char **o = NULL, why[300], loc[2048];
	json_error_t je;
	json_t *ids = NULL;
	finalize_ctx link;
	gnutls_datum_t d;
	mhd_result r;

	if (cm__store_acme_rows(&o, &no, sv->st, "SELECT status, identifiers, "
	    "profile FROM acme_orders WHERE id = ? AND account_id = ?", "ii",
	    id, a->id) != CM_OK)
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no such order");
	if (strcmp(o[0], "ready") != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 403, c->name,
		    "orderNotReady", "the order is not ready (its "
		    "authorizations are not all valid, or it is done)");
		goto out;
	}
	ids = json_loads(o[1], 0, &je);
	if (csr == NULL || !cm__b64url_decode(&der, &len, csr, strlen(csr)) ||
	    gnutls_x509_crq_init(&crq) < 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "badCSR",
		    "csr: base64url DER of a PKCS#10 request");
		goto out;
	}
	d.data = der;
	d.size = (unsigned)len;
	if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crq_verify(crq, 0) < 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "badCSR",
		    "the CSR does not parse or its signature does not verify");
		goto out;
	}
	if (!cm__acme_csr_names_match(crq, sv->ctx, ids, why, sizeof(why))) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "badCSR",
		    why);
		goto out;
	}
	if (gnutls_x509_crq_get_key_id(crq, GNUTLS_KEYID_USE_SHA256, k1,
	    &l1) >= 0 && gnutls_pubkey_get_key_id(j->key,
	    GNUTLS_KEYID_USE_SHA256, k2, &l2) >= 0 && l1 == l2 &&
	    memcmp(k1, k2, l1) == 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "badCSR",
		    "the certificate key is the account key");
		goto out;
	}
	so.ca = c->name;
	so.profile = o[2] ? o[2] : profile_at(sv, 0);
	/* The certificate, its account and the order valid: one commit. */
	link.order = id;
	link.account = a->id;
	link.ids = ids;
	cm__store_set_precommit(sv->st, finalize_link, &link);
	if (cm_sign_csr_mem(&info, sv->st, "csr", der, len, &so) != CM_OK) {
		cm__store_set_precommit(sv->st, NULL, NULL);
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "badCSR", cm_ctx_error(sv->ctx));
		goto out;
	}
	cm__store_set_precommit(sv->st, NULL, NULL);
	/* The certificate it replaces (RFC 9773) is superseded now. */
	{
		char **rv = NULL;
		size_t nr = 0;
		if (cm__store_acme_rows(&rv, &nr, sv->st,
		    "SELECT replaces FROM "
		    "acme_orders WHERE id = ? AND replaces IS NOT NULL", "i",
		    id) == CM_OK && rv[0] != NULL)
			(void)cm__store_cert_supersede(sv->st, c->name, rv[0]);
		cm__srv_free_rows(rv, nr);
	}
	snprintf(loc, sizeof(loc), "%s/acme/%s/order/%lld", sv->base, c->enc,
	    (long long)id);
	r = cm__srv_send_json(sv, conn, method, url, t0, 200, order_json(sv, c,
	    id,
	    a->id), c->name, loc, NULL);
out:
	cm__srv_free_rows(o, no * 3);
	json_decref(ids);
	free(der);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	cm_cert_info_free(info);
	return r;
}

static mhd_result
acme_cert(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const cm__acme_account *a,
    int64_t id)
{
	char **o = NULL, *chain = NULL;
	size_t no = 0;
	mhd_result r;

	if (cm__store_acme_rows(&o, &no, sv->st, "SELECT cert_serial FROM "
	    "acme_orders WHERE id = ? AND account_id = ? AND cert_serial IS "
	    "NOT NULL", "ii", id, a->id) != CM_OK)
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no such certificate");
	if (cm_scenario_load_cert(&chain, NULL, sv->st, o[0]) != CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the certificate");
		goto out;
	}
	/* Issued by a root: the root follows, so that a client that splits
	 * "cert" and "chain" (certbot wants two certificates or more) has
	 * an issuer to write.  A client that trusts it ignores the copy. */
	if (strstr(strstr(chain, "-----END CERTIFICATE-----") + 1,
	    "-----BEGIN CERTIFICATE-----") == NULL) {
		cm_ca_info *ca = NULL;
		char *both;
		if (cm_ca_get(&ca, sv->st, c->name) == CM_OK &&
		    (both = malloc(strlen(chain) + strlen(ca->pem) + 1)) !=
		    NULL) {
			memcpy(both, chain, strlen(chain));
			memcpy(both + strlen(chain), ca->pem,
			    strlen(ca->pem) + 1);
			free(chain);
			chain = both;
		}
		cm_ca_info_free(ca);
	}
	r = cm__srv_respond(sv, conn, method, url, t0, 200, chain,
	    strlen(chain),
	    "application/pem-certificate-chain", c->name, NULL);
out:
	free(chain);
	cm__srv_free_rows(o, no);
	return r;
}

/*
 * revokeCert (RFC 8555 7.6): signed by the account that ordered the
 * certificate (kid) or by the certificate's own key (jwk).  The
 * revocation lands in the store: the next CRL and OCSP answer say so.
 */
static mhd_result
acme_revoke(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const request *rq)
{
	cm__jws j;
	cm__acme_account a;
	gnutls_x509_crt_t crt = NULL;
	cm_cert_info *info = NULL;
	unsigned char *der = NULL, fp[32], k1[64], k2[64];
	size_t len = 0, l1 = sizeof(k1), l2 = sizeof(k2), i, n = 0;
	char hex[65], **v = NULL;
	const char *b;
	gnutls_datum_t d;
	json_t *jr;
	unsigned status;
	int reason = 0;
	bool allowed = false;
	mhd_result r;

	if (acme_request(&j, &a, &status, sv, c, url, rq, BY_EITHER) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, status, c->name,
		    j.ptype, j.detail);
		goto out;
	}
	b = j.payload ? json_string_value(json_object_get(j.payload,
	    "certificate")) : NULL;
	jr = j.payload ? json_object_get(j.payload, "reason") : NULL;
	if (jr != NULL) {
		if (!json_is_integer(jr) || json_integer_value(jr) < 0 ||
		    json_integer_value(jr) > 10 || json_integer_value(jr) ==
		    7 || json_integer_value(jr) == 8) {
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "badRevocationReason", "reason: an RFC 5280 "
			    "CRLReason code, 0 to 10, not 7 or 8 "
			    "(removeFromCRL)");
			goto out;
		}
		reason = (int)json_integer_value(jr);
	}
	if (b == NULL || !cm__b64url_decode(&der, &len, b, strlen(b)) ||
	    gnutls_x509_crt_init(&crt) < 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", "certificate: base64url DER");
		goto out;
	}
	d.data = der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, fp) < 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", "the certificate does not parse");
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", fp[i]);
	if (cm_cert_find(&info, sv->st, hex) != CM_OK ||
	    strcmp(info->ca, c->name) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "this CA did not issue that certificate");
		goto out;
	}
	if (j.kid != NULL) {
		allowed = cm__store_acme_rows(&v, &n, sv->st, "SELECT 1 FROM "
		    "certs WHERE serial = ? AND acme_account_id = ?", "si",
		    info->serial, a.id) == CM_OK;
		cm__srv_free_rows(v, n);
	} else
		allowed = gnutls_x509_crt_get_key_id(crt,
		    GNUTLS_KEYID_USE_SHA256, k1, &l1) >= 0 &&
		    gnutls_pubkey_get_key_id(j.key, GNUTLS_KEYID_USE_SHA256, k2,
		    &l2) >= 0 && l1 == l2 && memcmp(k1, k2, l1) == 0;
	if (!allowed) {
		r = cm__srv_problem(sv, conn, method, url, t0, 403, c->name,
		    "unauthorized", "neither the account that ordered the "
		    "certificate nor its key signed this");
		goto out;
	}
	if (strcmp(info->status, "revoked") == 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "alreadyRevoked", "the certificate is revoked already");
		goto out;
	}
	if (cm_cert_revoke(NULL, sv->st, info->serial,
	    (cm_revoke_reason)reason, 0) != CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", cm_ctx_error(sv->ctx));
		goto out;
	}
	r = cm__srv_respond(sv, conn, method, url, t0, 200, "", 0, NULL,
	    c->name,
	    NULL);
out:
	free(der);
	gnutls_x509_crt_deinit(crt);
	cm_cert_info_free(info);
	cm__acme_account_clear(&a);
	cm__jws_clear(&j);
	return r;
}

static mhd_result
acme_renewal_info(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, const sca *c,
    const char *id)
{
	cm_cert_info *info = NULL;
	cm_ca_info *ca = NULL;
	char **v = NULL;
	size_t n = 0;
	time_t now = cm_ctx_now(sv->ctx), start, end;
	bool revoked;
	mhd_result r;
	json_t *j;

	if (!ari_cert(&info, sv, c, id))
		return cm__srv_problem(sv, conn, method, url, t0, 404, c->name,
		    "malformed", "no certificate of this CA has that CertID");
	/* Revoked, or its CA (or one above) revoked: renew now. */
	revoked = strcmp(info->status, "revoked") == 0;
	if (!revoked && cm_ca_get(&ca, sv->st, c->name) == CM_OK &&
	    cm__store_acme_rows(&v, &n, sv->st, "SELECT 1 FROM certs WHERE "
	    "status = 'revoked' AND lower(fingerprint) = lower(?)", "s",
	    ca->fingerprint) == CM_OK)
		revoked = true;
	cm__srv_free_rows(v, n);
	cm_ca_info_free(ca);
	if (revoked) {
		start = now - 3600;
		end = now + 3600;
	} else {
		/* The last third of its validity. */
		start = info->not_before + (info->not_after -
		    info->not_before) * 2 / 3;
		end = info->not_after;
	}
	j = json_pack("{s:{s:o,s:o}}", "suggestedWindow", "start",
	    time_json(start), "end", time_json(end));
	cm_cert_info_free(info);
	sv->retry_after = 6 * 3600;
	r = cm__srv_send_json(sv, conn, method, url, t0, 200, j, NULL, NULL,
	    NULL);
	return r;
}

/*
 * keyChange (RFC 8555 7.3.5): the outer JWS by the account's key (kid),
 * its payload an inner JWS by the new key (jwk, the same url, no nonce)
 * over {account, oldKey}.  The new key must not be another account's.
 */
static mhd_result
acme_key_change(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, const request *rq)
{
	cm__jws j, in;
	cm__acme_account a, other;
	json_t *old;
	char *text = NULL, *oldtp = NULL, loc[2048];
	unsigned status;
	mhd_result r;
	cm_err err;

	memset(&in, 0, sizeof(in));
	memset(&other, 0, sizeof(other));
	if (acme_request(&j, &a, &status, sv, c, url, rq, BY_KID) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, status, c->name,
		    j.ptype, j.detail);
		goto out;
	}
	if (j.payload == NULL || (text = json_dumps(j.payload,
	    JSON_COMPACT)) == NULL || cm__jws_open2(&in, text, strlen(text),
	    true) != 0 || cm__jwk_import(&in, in.jwk) != 0 ||
	    cm__jws_verify(&in) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", in.detail[0] ? in.detail : "the payload is "
		    "not an inner JWS by the new key");
		goto out;
	}
	if (strcmp(in.url, j.url) != 0 || in.payload == NULL ||
	    !json_is_string(json_object_get(in.payload, "account")) ||
	    strcmp(json_string_value(json_object_get(in.payload, "account")),
	    j.kid) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, 400, c->name,
		    "malformed", "the inner JWS names another url or account");
		goto out;
	}
	/* oldKey: the account's key as it is now. */
	old = json_object_get(in.payload, "oldKey");
	{
		cm__jws tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.alg_index = j.alg_index;
		if (!json_is_object(old) || cm__jwk_import(&tmp, old) != 0 ||
		    strcmp(tmp.thumbprint, j.thumbprint) != 0) {
			cm__jws_clear(&tmp);
			r = cm__srv_problem(sv, conn, method, url, t0, 400,
			    c->name,
			    "malformed", "oldKey is not the account's key");
			goto out;
		}
		cm__jws_clear(&tmp);
	}
	err = cm__store_acme_account_get(&other, sv->st, c->id, 0,
	    in.thumbprint);
	if (err == CM_OK) {
		snprintf(loc, sizeof(loc), "%s/acme/%s/acct/%lld", sv->base,
		    c->enc, (long long)other.id);
		r = cm__srv_send_json(sv, conn, method, url, t0, 409, json_pack(
		    "{s:s,s:s,s:i}", "type", "urn:ietf:params:acme:error:"
		    "malformed", "detail", "the new key is another account's",
		    "status", 409), c->name, loc, PROBLEM);
		goto out;
	}
	if (cm__store_acme_exec(NULL, sv->st, "UPDATE acme_accounts SET "
	    "jwk = ?, thumbprint = ? WHERE id = ?", "ssi", in.jwk_text,
	    in.thumbprint, a.id) != CM_OK || cm__store_event(sv->st,
	    "acme-key-change", c->name, NULL) != CM_OK) {
		r = cm__srv_problem(sv, conn, method, url, t0, 500, c->name,
		    "serverInternal", "the key cannot be recorded");
		goto out;
	}
	r = cm__srv_send_json(sv, conn, method, url, t0, 200, account_json(sv,
	    c, &a),
	    c->name, NULL, NULL);
out:
	free(text);
	free(oldtp);
	cm__acme_account_clear(&other);
	cm__acme_account_clear(&a);
	cm__jws_clear(&in);
	cm__jws_clear(&j);
	return r;
}

/* An account (POST-as-GET) or an endpoint of a later version. */
static mhd_result
acme_kid_request(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, const sca *c,
    const request *rq, const char *rest)
{
	cm__jws j;
	cm__acme_account a;
	unsigned status;
	mhd_result r;

	if (acme_request(&j, &a, &status, sv, c, url, rq, BY_KID) != 0) {
		r = cm__srv_problem(sv, conn, method, url, t0, status, c->name,
		    j.ptype, j.detail);
		goto out;
	}
	if (strncmp(rest, "acct/", 5) == 0) {
		char want[2048];
		snprintf(want, sizeof(want), "%s/acme/%s/%s", sv->base, c->enc,
		    rest);
		if (strcmp(want, j.kid) != 0) {
			r = cm__srv_problem(sv, conn, method, url, t0, 403,
			    c->name,
			    "unauthorized", "another account");
			goto out;
		}
		/* Update (7.3.2) and deactivation (7.3.6). */
		if (!j.post_as_get) {
			json_t *st = json_object_get(j.payload, "status");
			json_t *ct = json_object_get(j.payload, "contact");
			char *text;
			if (st != NULL && (!json_is_string(st) || strcmp(
			    json_string_value(st), "deactivated") != 0)) {
				r = cm__srv_problem(sv, conn, method, url, t0,
				    400,
				    c->name, "malformed", "status: only "
				    "\"deactivated\"");
				goto out;
			}
			if (!contact_ok(ct)) {
				r = cm__srv_problem(sv, conn, method, url, t0,
				    400,
				    c->name, "invalidContact", "contact is an "
				    "array of mailto: addresses");
				goto out;
			}
			if (ct != NULL) {
				text = json_dumps(ct, JSON_COMPACT);
				(void)cm__store_acme_exec(NULL, sv->st,
				    "UPDATE "
				    "acme_accounts SET contact = ? WHERE id = "
				    "?", "si", text, a.id);
				free(a.contact);
				a.contact = text;
			}
			if (st != NULL) {
				(void)cm__store_acme_exec(NULL, sv->st,
				    "UPDATE "
				    "acme_accounts SET status = 'deactivated' "
				    "WHERE id = ?", "i", a.id);
				(void)cm__store_event(sv->st,
				    "acme-account-deactivated", c->name, NULL);
				free(a.status);
				a.status = cm__strdup("deactivated");
			}
		}
		r = cm__srv_send_json(sv, conn, method, url, t0, 200,
		    account_json(sv, c, &a), c->name, NULL, NULL);
		goto out;
	}
	{
		long long id = 0;
		char tail[32] = "";
		if (strcmp(rest, "new-order") == 0) {
			if (j.post_as_get)
				r = cm__srv_problem(sv, conn, method, url, t0,
				    400,
				    c->name, "malformed", "newOrder needs a "
				    "payload");
			else
				r = acme_new_order(sv, conn, method, url, t0, c,
				    &j, &a);
			goto out;
		}
		if (sscanf(rest, "order/%lld%31s", &id, tail) >= 1 &&
		    strcmp(tail, "/finalize") == 0 && !j.post_as_get) {
			r = acme_finalize(sv, conn, method, url, t0, c, &j, &a,
			    (int64_t)id);
			goto out;
		}
		tail[0] = '\0';
		if (sscanf(rest, "order/%lld%31s", &id, tail) == 1) {
			json_t *o = order_json(sv, c, (int64_t)id, a.id);
			r = o ? cm__srv_send_json(sv, conn, method, url, t0,
			    200, o,
			    c->name, NULL, NULL) : cm__srv_problem(sv, conn,
			    method,
			    url, t0, 404, c->name, "malformed", "no such "
			    "order");
			goto out;
		}
		if (sscanf(rest, "authz/%lld%31s", &id, tail) == 1) {
			char **z = NULL;
			size_t nz = 0;
			if (!authz_rows(&z, &nz, sv, (int64_t)id, a.id)) {
				r = cm__srv_problem(sv, conn, method, url, t0,
				    404,
				    c->name, "malformed", "no such "
				    "authorization");
				goto out;
			}
			/* Deactivation (7.5.2). */
			if (!j.post_as_get) {
				json_t *st = json_object_get(j.payload,
				    "status");
				if (!json_is_string(st) || strcmp(
				    json_string_value(st),
				    "deactivated") != 0) {
					cm__srv_free_rows(z, nz * AZ_COLS);
					r = cm__srv_problem(sv, conn, method,
					    url, t0,
					    400, c->name, "malformed",
					    "status: "
					    "only \"deactivated\"");
					goto out;
				}
				(void)cm__store_acme_exec(NULL, sv->st,
				    "UPDATE "
				    "acme_authzs SET status = 'deactivated' "
				    "WHERE id = ? AND status IN ('pending', "
				    "'valid')", "i", (int64_t)id);
				cm__acme_order_settle(sv, strtoll(z[4], NULL,
				    10));
				cm__srv_free_rows(z, nz * AZ_COLS);
				if (!authz_rows(&z, &nz, sv, (int64_t)id,
				    a.id)) {
					r = cm__srv_problem(sv, conn, method,
					    url, t0,
					    500, c->name, "serverInternal",
					    "the store");
					goto out;
				}
			}
			r = cm__srv_send_json(sv, conn, method, url, t0, 200,
			    authz_json(sv, c, z, nz), c->name, NULL, NULL);
			cm__srv_free_rows(z, nz * AZ_COLS);
			goto out;
		}
		if (sscanf(rest, "chall/%lld%31s", &id, tail) == 1) {
			r = acme_challenge(sv, conn, method, url, t0, c, &j, &a,
			    (int64_t)id);
			goto out;
		}
		if (sscanf(rest, "cert/%lld%31s", &id, tail) == 1) {
			r = acme_cert(sv, conn, method, url, t0, c, &a,
			    (int64_t)id);
			goto out;
		}
	}
	r = cm__srv_problem(sv, conn, method, url, t0, 501, c->name,
	    "serverInternal",
	    "key change, revocation and renewal information over ACME come "
	    "in a later certmint");
out:
	cm__acme_account_clear(&a);
	cm__jws_clear(&j);
	return r;
}

mhd_result
cm__acme_handle(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const request *rq)
{
	const char *p = url + strlen("/acme/"), *slash = strchr(p, '/');
	const sca *c;
	const char *rest;

	if (slash == NULL || (c = cm__srv_ca_named(sv, p,
	    (size_t)(slash - p))) ==
	    NULL)
		return cm__srv_problem(sv, conn, method, url, t0, 404, NULL,
		    "malformed", "no such ACME directory");
	rest = slash + 1;
	if (strcmp(rest, "directory") == 0 && strcmp(method, "GET") == 0)
		return acme_directory(sv, conn, method, url, t0, c);
	if (strcmp(rest, "new-nonce") == 0 && (strcmp(method, "HEAD") == 0 ||
	    strcmp(method, "GET") == 0))
		return cm__srv_respond(sv, conn, method, url, t0, strcmp(method,
		    "GET") ?
		    200 : 204, "", 0, NULL, c->name, NULL);
	if (strncmp(rest, "renewal-info/", 13) == 0 &&
	    strcmp(method, "GET") == 0)
		return acme_renewal_info(sv, conn, method, url, t0, c,
		    rest + 13);
	if (strcmp(method, "POST") != 0)
		return cm__srv_problem(sv, conn, method, url, t0, 405, c->name,
		    "malformed", "ACME requests are POSTs");
	if (rq->too_big)
		return cm__srv_problem(sv, conn, method, url, t0, 413, c->name,
		    "malformed", "the body is larger than 64 KiB");
	if (strcmp(rest, "new-account") == 0)
		return acme_new_account(sv, conn, method, url, t0, c, rq);
	if (strcmp(rest, "revoke-cert") == 0)
		return acme_revoke(sv, conn, method, url, t0, c, rq);
	if (strcmp(rest, "key-change") == 0)
		return acme_key_change(sv, conn, method, url, t0, c, rq);
	return acme_kid_request(sv, conn, method, url, t0, c, rq, rest);
}

/* ---- External Account Binding (RFC 8555 7.3.4) --------------------------- */

cm_err
cm_acme_eab_add(char **kid, char **hmac_key, cm_store *st, const char *ca)
{
	cm_ctx *ctx = cm__store_ctx(st);
	unsigned char k[32], id[12];
	cm_ca_info *info = NULL;
	cm__ca_rec rec;
	char *ks = NULL, *is = NULL;
	cm_err err;

	memset(&rec, 0, sizeof(rec));
	if ((err = cm_ca_get(&info, st, ca)) != CM_OK ||
	    (err = cm__store_ca_get(&rec, st, info->name)) != CM_OK)
		goto out;
	if (gnutls_rnd(GNUTLS_RND_KEY, k, sizeof(k)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id)) < 0) {
		err = cm__fail(ctx, CM_E_CRYPTO, "acme eab: no randomness");
		goto out;
	}
	if ((ks = cm__b64url_encode(k, sizeof(k))) == NULL ||
	    (is = cm__b64url_encode(id, sizeof(id))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = cm__store_begin(st)) != CM_OK)
		goto out;
	if ((err = cm__store_acme_exec(NULL, st, "INSERT INTO acme_eab (kid, "
	    "ca_id, hmac_key, created) VALUES (?, ?, ?, ?)", "sisi", is,
	    rec.id, ks, (int64_t)cm_ctx_now(ctx))) != CM_OK ||
	    (err = cm__store_event(st, "acme-eab-add", info->name,
	    NULL)) != CM_OK ||
	    (err = cm__store_commit(st)) != CM_OK) {
		cm__store_rollback(st);
		goto out;
	}
	*kid = is;
	*hmac_key = ks;
	is = ks = NULL;
out:
	gnutls_memset(k, 0, sizeof(k));
	if (ks != NULL) {
		gnutls_memset(ks, 0, strlen(ks));
		free(ks);
	}
	free(is);
	cm__ca_rec_clear(&rec);
	cm_ca_info_free(info);
	return err;
}

