/*
 * serve.c - certmint serve: the online CA on libmicrohttpd.
 *
 * One HTTPS listener (GnuTLS, the floor's priorities) and an optional
 * plain-HTTP one, both run in the calling thread (the store's connection
 * is used from this thread only).  Routes:
 *
 *   /ca/NAME.pem, /ca/NAME.crt     the CA certificate (caIssuers)
 *   /crl/NAME.crl                  its current CRL, DER, built per request
 *                                  from the store (fresh on revocation);
 *                                  also at the path of the CRL URL that
 *                                  'ca set' recorded
 *   /ocsp (POST), /ocsp/B64 (GET)  OCSP (RFC 6960 A.1)
 *   /acme/NAME/...                 ACME (RFC 8555), in acme.c; its
 *                                  validations in validate.c
 *
 * This file: the daemons, the routes, the responses every part uses
 * (problem documents per RFC 7807, nonces, the request log line).  ACME
 * state (nonces, accounts, orders, challenges) lives in the store,
 * nothing in memory a second serve on the same store would need.  Bodies
 * are bounded at 64 KiB.
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

/* ---- responses ---------------------------------------------------------- */

static void
log_request(server *sv, const char *method, const char *url, unsigned status,
    double t0)
{
	char line[1200];
	double ms = cm__now_ms() - t0;

	sv->served++;
	if (sv->o->log == NULL)
		return;
	if (sv->o->log_json) {
		json_t *j = json_pack("{s:s,s:s,s:i,s:f}", "method", method,
		    "path", url, "status", (int)status, "ms", ms);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (t != NULL)
			sv->o->log(t, sv->o->arg);
		free(t);
		json_decref(j);
		return;
	}
	/* The path as a URL again: a space ("certmint dev CA") would split
	 * the line's fields, and a decoded %0A would forge a line. */
	{
		char path[920];
		size_t k = 0;
		const unsigned char *u = (const unsigned char *)url;
		for (; *u && k + 4 < sizeof(path); u++) {
			if (*u <= 0x20 || *u >= 0x7f || *u == '%')
				k += (size_t)snprintf(path + k, sizeof(path) - k,
				    "%%%02X", *u);
			else
				path[k++] = (char)*u;
		}
		path[k] = '\0';
		snprintf(line, sizeof(line), "%s %s %u %.1f ms", method, path,
		    status, ms);
	}
	sv->o->log(line, sv->o->arg);
}

/* A fresh nonce for Replay-Nonce, recorded; "" when it could not be. */
void
cm__srv_new_nonce(server *sv, char *out, size_t len)
{
	unsigned char raw[16];
	char *b;

	out[0] = '\0';
	if (sv->next_nonce[0] != '\0') {
		snprintf(out, len, "%s", sv->next_nonce);
		sv->next_nonce[0] = '\0';
		return;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0 ||
	    (b = cm__b64url_encode(raw, sizeof(raw))) == NULL)
		return;
	if (cm__store_acme_nonce_add(sv->st, b, cm_ctx_now(sv->ctx)) == CM_OK)
		snprintf(out, len, "%s", b);
	free(b);
}

mhd_result
cm__srv_respond(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, unsigned status, const void *p, size_t len,
    const char *type, const char *nonce_for, const char *location)
{
	struct MHD_Response *resp;
	char nonce[64], link[2048];
	mhd_result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    type);
	if (nonce_for != NULL) {
		cm__srv_new_nonce(sv, nonce, sizeof(nonce));
		if (nonce[0])
			MHD_add_response_header(resp, "Replay-Nonce", nonce);
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		char enc[600];
		cm_serve_ca_path(enc, sizeof(enc), nonce_for);
		snprintf(link, sizeof(link), "<%s/acme/%s/directory>;"
		    "rel=\"index\"", sv->base, enc);
		MHD_add_response_header(resp, "Link", link);
	}
	if (location != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
		    location);
	if (sv->up_link != NULL) {
		MHD_add_response_header(resp, "Link", sv->up_link);
		sv->up_link = NULL;
	}
	if (sv->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", sv->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
		sv->retry_after = 0;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	log_request(sv, method, url, status, t0);
	return ret;
}

mhd_result
cm__srv_send_json(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, unsigned status, json_t *j,
    const char *ca, const char *location, const char *type)
{
	char *t = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	mhd_result r;

	json_decref(j);
	if (t == NULL)
		return MHD_NO;
	r = cm__srv_respond(sv, conn, method, url, t0, status, t, strlen(t),
	    type ? type :
	    "application/json", ca, location);
	free(t);
	return r;
}

/* An RFC 7807 problem with an ACME error type (RFC 8555 6.7). */
mhd_result
cm__srv_problem(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, unsigned status, const char *ca,
    const char *type, const char *detail)
{
	char t[96];

	snprintf(t, sizeof(t), "urn:ietf:params:acme:error:%s", type);
	return cm__srv_send_json(sv, conn, method, url, t0, status, json_pack(
	    "{s:s,s:s,s:i}", "type", t, "detail", detail, "status",
	    (int)status), ca, NULL, PROBLEM);
}

mhd_result
cm__srv_plain(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, unsigned status, const char *text)
{
	return cm__srv_respond(sv, conn, method, url, t0, status, text,
	    strlen(text),
	    "text/plain", NULL, NULL);
}

void
cm__srv_free_rows(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- CA certificates, CRLs, OCSP --------------------------------------- */

sca *
cm__srv_ca_named(const server *sv, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sv->ncas; i++)
		if (strlen(sv->cas[i].name) == len &&
		    memcmp(sv->cas[i].name, name, len) == 0)
			return &sv->cas[i];
	return NULL;
}

static mhd_result
ca_cert(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const sca *c, bool pem)
{
	cm_ca_info *ca = NULL;
	gnutls_datum_t in, der = { NULL, 0 };
	mhd_result r;

	if (cm_ca_get(&ca, sv->st, c->name) != CM_OK)
		return cm__srv_plain(sv, conn, method, url, t0, 500,
		    "CA unreadable\n");
	if (pem) {
		r = cm__srv_respond(sv, conn, method, url, t0, 200, ca->pem,
		    strlen(ca->pem), "application/x-pem-file", NULL, NULL);
	} else {
		in.data = (unsigned char *)ca->pem;
		in.size = (unsigned)strlen(ca->pem);
		if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &der) < 0)
			r = cm__srv_plain(sv, conn, method, url, t0, 500, "CA "
			    "unreadable\n");
		else
			r = cm__srv_respond(sv, conn, method, url, t0, 200,
			    der.data,
			    der.size, "application/pkix-cert", NULL, NULL);
		gnutls_free(der.data);
	}
	cm_ca_info_free(ca);
	return r;
}

static mhd_result
ca_crl(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, sca *c)
{
	unsigned char *der = NULL;
	size_t len = 0;
	mhd_result r;

	/* Built from the store per request: a revocation shows at once. */
	if ((c->sg == NULL && cm__signer_load(&c->sg, sv->st, c->name) !=
	    CM_OK) || cm__crl_current_mem(&der, &len, sv->st, c->sg,
	    CRL_NEXT) != CM_OK)
		r = cm__srv_plain(sv, conn, method, url, t0, 500,
		    "the CRL cannot be "
		    "made\n");
	else
		r = cm__srv_respond(sv, conn, method, url, t0, 200, der, len,
		    "application/pkix-crl", NULL, NULL);
	free(der);
	return r;
}

static mhd_result
ocsp(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, const unsigned char *req, size_t len)
{
	unsigned char *out = NULL, *raw = NULL;
	size_t outlen = 0, rlen = 0;
	gnutls_datum_t in, dec = { NULL, 0 };
	mhd_result r;

	if (req == NULL) {
		/* GET /ocsp/BASE64 (standard base64, URL-decoded by MHD). */
		const char *b = url + strlen("/ocsp/");
		in.data = (unsigned char *)(uintptr_t)b;
		in.size = (unsigned)strlen(b);
		if (gnutls_base64_decode2(&in, &dec) < 0)
			dec.size = 0;
		raw = dec.data;
		rlen = dec.size;
		req = raw;
		len = rlen;
	}
	if (cm_ocsp_respond(&out, &outlen, sv->ocsp, req, len) != CM_OK &&
	    out == NULL)
		r = cm__srv_plain(sv, conn, method, url, t0, 500,
		    "OCSP failed\n");
	else
		r = cm__srv_respond(sv, conn, method, url, t0, 200, out, outlen,
		    "application/ocsp-response", NULL, NULL);
	free(out);
	gnutls_free(dec.data);
	return r;
}

/* ---- the handler -------------------------------------------------------- */

static bool
suffix(const char *s, const char *sfx, size_t *stem)
{
	size_t n = strlen(s), k = strlen(sfx);

	if (n <= k || strcmp(s + n - k, sfx) != 0)
		return false;
	*stem = n - k;
	return true;
}

static mhd_result
route(server *sv, struct MHD_Connection *conn, const char *method,
    const char *url, double t0, request *rq, bool tls)
{
	const cm_serve_opts *o = sv->o;
	const sca *c;
	sca *cc;
	size_t stem, i;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (o->acme && tls && strncmp(url, "/acme/", 6) == 0)
		return cm__acme_handle(sv, conn, method, url, t0, rq);
	if (o->ocsp && strcmp(url, "/ocsp") == 0 && strcmp(method, "POST") ==
	    0)
		return rq->too_big ? cm__srv_plain(sv, conn, method, url, t0,
		    413,
		    "request too large\n") : ocsp(sv, conn, method, url, t0,
		    rq->body ? rq->body : (const unsigned char *)"", rq->len);
	if (o->ocsp && get && strncmp(url, "/ocsp/", 6) == 0)
		return ocsp(sv, conn, method, url, t0, NULL, 0);
	if (get && strncmp(url, "/ca/", 4) == 0) {
		const char *n = url + 4;
		if (suffix(n, ".pem", &stem) && (c = cm__srv_ca_named(sv, n,
		    stem)))
			return ca_cert(sv, conn, method, url, t0, c, true);
		if ((suffix(n, ".crt", &stem) || suffix(n, ".der", &stem)) &&
		    (c = cm__srv_ca_named(sv, n, stem)))
			return ca_cert(sv, conn, method, url, t0, c, false);
	}
	if (o->crl && get && strncmp(url, "/crl/", 5) == 0 &&
	    suffix(url + 5, ".crl", &stem) && (cc = cm__srv_ca_named(sv,
	    url + 5,
	    stem)))
		return ca_crl(sv, conn, method, url, t0, cc);
	for (i = 0; o->crl && get && i < sv->ncas; i++)
		if (sv->cas[i].crl_path && strcmp(sv->cas[i].crl_path, url) ==
		    0)
			return ca_crl(sv, conn, method, url, t0, &sv->cas[i]);
	return cm__srv_plain(sv, conn, method, url, t0, 404, "not found\n");
}

static mhd_result
handler(server *sv, struct MHD_Connection *conn, const char *url,
    const char *method, const char *data, size_t *size, void **con_cls,
    bool tls)
{
	request *rq = *con_cls;
	unsigned char *np;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->t0 = cm__now_ms();
		*con_cls = rq;
		return MHD_YES;
	}
	if (*size > 0) {
		if (!rq->too_big && rq->len + *size <= MAX_BODY) {
			if ((np = realloc(rq->body, rq->len + *size + 1)) ==
			    NULL)
				return MHD_NO;
			rq->body = np;
			memcpy(rq->body + rq->len, data, *size);
			rq->len += *size;
			rq->body[rq->len] = '\0';
		} else
			rq->too_big = true;
		*size = 0;
		return MHD_YES;
	}
	return route(sv, conn, method, url, rq->t0, rq, tls);
}

static mhd_result
handler_tls(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	(void)version;
	return handler(cls, conn, url, method, data, size, con_cls, true);
}

static mhd_result
handler_plain(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	(void)version;
	return handler(cls, conn, url, method, data, size, con_cls, false);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* ---- the daemon ---------------------------------------------------------- */

static void
cas_clear(server *sv)
{
	size_t i;

	for (i = 0; i < sv->ncas; i++) {
		free(sv->cas[i].name);
		free(sv->cas[i].crl_path);
		cm__signer_free(sv->cas[i].sg);
	}
	free(sv->cas);
}

/* The path of an http(s) URL: "http://h/x/dev.crl" -> "/x/dev.crl". */
static char *
url_path(const char *u)
{
	const char *p = strstr(u, "://");

	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return NULL;
	return cm__strdup(p);
}

static cm_err
load_cas(server *sv)
{
	cm_ca_info **list = NULL;
	cm__ca_rec rec;
	char *crl = NULL, *ocspu = NULL;
	size_t n = 0, i, k;
	cm_err err;

	if ((err = cm_ca_list(&list, &n, sv->st)) != CM_OK)
		return err;
	if ((sv->cas = calloc(n ? n : 1, sizeof(*sv->cas))) == NULL) {
		err = cm__fail(sv->ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		bool want = sv->o->ncas == 0;
		for (k = 0; k < sv->o->ncas; k++)
			want |= strcmp(sv->o->cas[k], list[i]->name) == 0;
		if (!want)
			continue;
		memset(&rec, 0, sizeof(rec));
		if ((err = cm__store_ca_get(&rec, sv->st, list[i]->name)) !=
		    CM_OK)
			goto out;
		sv->cas[sv->ncas].id = rec.id;
		cm__ca_rec_clear(&rec);
		cm_serve_ca_path(sv->cas[sv->ncas].enc,
		    sizeof(sv->cas[sv->ncas].enc), list[i]->name);
		if ((sv->cas[sv->ncas].name = cm__strdup(list[i]->name)) ==
		    NULL) {
			err = cm__fail(sv->ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = cm_ca_get_urls(&crl, &ocspu, sv->st,
		    list[i]->name)) != CM_OK)
			goto out;
		if (crl != NULL)
			sv->cas[sv->ncas].crl_path = url_path(crl);
		free(crl);
		free(ocspu);
		crl = ocspu = NULL;
		sv->ncas++;
	}
	for (k = 0; k < sv->o->ncas; k++)
		if (cm__srv_ca_named(sv, sv->o->cas[k],
		    strlen(sv->o->cas[k])) ==
		    NULL) {
			err = cm__fail(sv->ctx, CM_E_NOTFOUND, "serve: no CA "
			    "named '%s'", sv->o->cas[k]);
			goto out;
		}
	if (sv->ncas == 0)
		err = cm__fail(sv->ctx, CM_E_NOTFOUND, "serve: the store has "
		    "no CA (run 'certmint init')");
out:
	cm_ca_info_list_free(list, n);
	return err;
}

#define CONN_LIMIT 1024u

static struct MHD_Daemon *
start(server *sv, const struct sockaddr_storage *ss, bool tls,
    unsigned *port)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_EPOLL;
	/* Beyond loopback one address may hold a quarter of the connections
	 * (on loopback every client is 127.0.0.1: no limit). */
	unsigned per_ip = CONN_LIMIT / 4;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((ss->ss_family == AF_INET && (ntohl(((const struct sockaddr_in *)
	    (const void *)ss)->sin_addr.s_addr) >> 24) == 127) ||
	    (ss->ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr)))
		per_ip = 0;
	if (tls)
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL,
		    handler_tls, sv, MHD_OPTION_SOCK_ADDR, ss,
		    MHD_OPTION_HTTPS_MEM_CERT, sv->o->tls_chain,
		    MHD_OPTION_HTTPS_MEM_KEY, sv->o->tls_key,
		    MHD_OPTION_HTTPS_PRIORITIES, CM_PRIORITY_DEFAULT,
		    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		    MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, sv,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler_plain, sv,
		    MHD_OPTION_SOCK_ADDR, ss,
		    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
		    MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, sv,
		    MHD_OPTION_END);
	if (d != NULL && (info = MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		*port = info->port;
	return d;
}

/* --allow and --dns-resolver, checked and parsed once. */
static cm_err
parse_va_opts(server *sv)
{
	const cm_serve_opts *o = sv->o;
	char buf[128], *sl, *colon, *end;
	unsigned long v;
	size_t i;

	if (o->dns_resolver != NULL) {
		snprintf(buf, sizeof(buf), "%s", o->dns_resolver);
		sv->dns.sin_family = AF_INET;
		sv->dns.sin_port = htons(53);
		if ((colon = strchr(buf, ':')) != NULL) {
			*colon++ = '\0';
			v = strtoul(colon, &end, 10);
			if (*colon == '\0' || *end != '\0' || v == 0 ||
			    v > 65535)
				goto bad_dns;
			sv->dns.sin_port = htons((uint16_t)v);
		}
		if (inet_pton(AF_INET, buf, &sv->dns.sin_addr) != 1)
			goto bad_dns;
		sv->dns_set = true;
	}
	if (o->nallow == 0)
		return CM_OK;
	if ((sv->allow = calloc(o->nallow, sizeof(*sv->allow))) == NULL)
		return cm__fail(sv->ctx, CM_E_NOMEM, "out of memory");
	sv->nallow = o->nallow;
	for (i = 0; i < o->nallow; i++) {
		allow_ent *e = &sv->allow[i];
		unsigned max;
		if (snprintf(buf, sizeof(buf), "%s", o->allow[i]) >=
		    (int)sizeof(buf) || buf[0] == '\0')
			goto bad_allow;
		if ((sl = strchr(buf, '/')) != NULL)
			*sl++ = '\0';
		e->family = inet_pton(AF_INET, buf, e->addr) == 1 ? AF_INET :
		    inet_pton(AF_INET6, buf, e->addr) == 1 ? AF_INET6 : 0;
		if (e->family == 0) {
			/* A DNS name or suffix: letters, digits, '-', '.'. */
			if (sl != NULL || strspn(buf,
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
			    strlen(buf) || strstr(buf, "..") != NULL ||
			    buf[strlen(buf) - 1] == '.' || strcmp(buf,
			    ".") == 0)
				goto bad_allow;
			e->dns = o->allow[i];
			continue;
		}
		max = e->family == AF_INET ? 32 : 128;
		e->bits = max;
		if (sl != NULL) {
			v = strtoul(sl, &end, 10);
			if (*sl == '\0' || *end != '\0' || v > max)
				goto bad_allow;
			e->bits = (unsigned)v;
		}
	}
	return CM_OK;
bad_allow:
	return cm__fail(sv->ctx, CM_E_INVALID, "serve: --allow '%s' is not a "
	    "DNS name, a .suffix, an address or a prefix (10.0.0.0/8)",
	    o->allow[i]);
bad_dns:
	return cm__fail(sv->ctx, CM_E_INVALID, "serve: --dns-resolver '%s' is "
	    "not IPv4[:PORT]", o->dns_resolver);
}

cm_err
cm_serve(cm_store *st, const cm_serve_opts *o)
{
	cm_ctx *ctx = cm__store_ctx(st);
	struct sockaddr_storage ss, hs;
	struct MHD_Daemon *d = NULL, *h = NULL;
	const union MHD_DaemonInfo *e1, *e2 = NULL;
	cm_ocsp_opts oo = CM_OCSP_OPTS_INIT;
	struct pollfd pfd[3];
	MHD_UNSIGNED_LONG_LONG to;
	char host[64], hhost[64], hurl[120];
	unsigned port = 0, hport = 0;
	double deadline;
	server sv;
	cm_err err;
	int wait;

	memset(&sv, 0, sizeof(sv));
	sv.st = st;
	sv.ctx = ctx;
	if (o == NULL || o->version < 1 || o->version > CM_SERVE_OPTS_VERSION)
		return cm__fail(ctx, CM_E_INVALID, "serve: options version "
		    "unknown");
	/* A version-1 caller's struct ends before dns_resolver. */
	{
		cm_serve_opts def = CM_SERVE_OPTS_INIT;
		sv.opts = def;
		memcpy(&sv.opts, o, o->version == 1 ?
		    offsetof(cm_serve_opts, dns_resolver) : sizeof(sv.opts));
		sv.opts.version = CM_SERVE_OPTS_VERSION;
		sv.o = o = &sv.opts;
	}
	if ((err = parse_va_opts(&sv)) != CM_OK)
		goto out;
	if (o->tls_chain == NULL || o->tls_key == NULL)
		return cm__fail(ctx, CM_E_INVALID, "serve: no TLS certificate "
		    "and key");
	if ((err = cm__http_parse_listen(&ss, host, sizeof(host), ctx,
	    o->listen ? o->listen : "127.0.0.1:8443")) != CM_OK)
		return err;
	if (o->http_listen != NULL && (err = cm__http_parse_listen(&hs, hhost,
	    sizeof(hhost), ctx, o->http_listen)) != CM_OK)
		return err;
	if ((err = load_cas(&sv)) != CM_OK)
		goto out;
	if (o->ocsp) {
		oo.cas = o->cas;
		oo.ncas = o->ncas;
		if ((err = cm_ocsp_responder_new(&sv.ocsp, st, &oo)) != CM_OK)
			goto out;
	}
	if ((d = start(&sv, &ss, true, &port)) == NULL) {
		err = cm__fail(ctx, CM_E_IO, "serve: cannot listen on %s "
		    "(address in use, not local, or a bad TLS key?)",
		    o->listen ? o->listen : "127.0.0.1:8443");
		goto out;
	}
	if (o->http_listen != NULL && (h = start(&sv, &hs, false, &hport)) ==
	    NULL) {
		err = cm__fail(ctx, CM_E_IO, "serve: cannot listen on %s",
		    o->http_listen);
		goto out;
	}
	if (o->base_url != NULL)
		snprintf(sv.base, sizeof(sv.base), "%s", o->base_url);
	else if (strchr(host, ':') != NULL)
		snprintf(sv.base, sizeof(sv.base), "https://[%s]:%u", host,
		    port);
	else
		snprintf(sv.base, sizeof(sv.base), "https://%s:%u", host, port);
	e1 = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (h != NULL)
		e2 = MHD_get_daemon_info(h, MHD_DAEMON_INFO_EPOLL_FD);
	if (e1 == NULL || (h != NULL && e2 == NULL)) {
		err = cm__fail(ctx, CM_E_IO, "serve: libmicrohttpd has no "
		    "epoll");
		goto out;
	}
	if (o->acme)
		cm__va_pool_start(&sv);
	pfd[0].fd = e1->epoll_fd;
	pfd[0].events = POLLIN;
	/* The pool's wake-up, at the end; -1 (ignored) without it. */
	pfd[h ? 2 : 1].fd = sv.pool.up ? sv.pool.pipe[0] : -1;
	pfd[h ? 2 : 1].events = POLLIN;
	if (h != NULL) {
		pfd[1].fd = e2->epoll_fd;
		pfd[1].events = POLLIN;
	}
	if (h != NULL)
		snprintf(hurl, sizeof(hurl), strchr(hhost, ':') ?
		    "http://[%s]:%u" : "http://%s:%u", hhost, hport);
	if (o->ready != NULL)
		o->ready(sv.base, h ? hurl : NULL, o->arg);
	deadline = o->timeout ? cm__now_ms() + o->timeout * 1000.0 : 0;
	for (;;) {
		if (o->stop != NULL && *o->stop)
			break;
		if (deadline > 0 && cm__now_ms() >= deadline)
			break;
		wait = 50;
		if (MHD_get_timeout(d, &to) == MHD_YES && to < (unsigned)wait)
			wait = (int)to;
		(void)poll(pfd, h ? 3 : 2, wait);
		MHD_run(d);
		if (h != NULL)
			MHD_run(h);
		cm__va_pool_collect(&sv);
	}
	/* In-flight requests are answered in MHD_run; then stop taking
	 * new ones and close. */
	MHD_quiesce_daemon(d);
	if (h != NULL)
		MHD_quiesce_daemon(h);
	cm__va_pool_stop(&sv);
out:
	if (d != NULL)
		MHD_stop_daemon(d);
	if (h != NULL)
		MHD_stop_daemon(h);
	cm_ocsp_responder_free(sv.ocsp);
	cas_clear(&sv);
	free(sv.allow);
	return err;
}

const char *
cm_serve_ca_path(char *buf, size_t len, const char *ca)
{
	size_t n = 0;

	/* Spaces and the few characters a CA name may carry, escaped. */
	for (; *ca && n + 4 < len; ca++) {
		unsigned char c = (unsigned char)*ca;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", c);
	}
	buf[n < len ? n : len - 1] = '\0';
	return buf;
}

