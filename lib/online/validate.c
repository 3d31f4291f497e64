/*
 * validate.c - ACME validation for certmint serve: http-01 (RFC 8555
 * 8.3), dns-01 (8.4, through libresolv) and tls-alpn-01 (RFC 8737, with
 * RFC 8738's reverse names for addresses), run by a pool of threads so
 * that a slow or silent target holds no other request.
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

#define HTTP01_MS 10000

/* A TCP connection to host:port within ms, or -1. */
static int
tcp_connect(const char *host, const char *port, unsigned ms)
{
	struct addrinfo hints, *ai = NULL, *p;
	struct timeval tv = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000 };
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	for (p = ai; p != NULL; p = p->ai_next) {
		if ((fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The address validation connects to for name: its --resolve entry
 * ("*.app.test" covers every name below app.test), else the name. */
static const char *
va_host(const server *sv, const char *name, char *buf, size_t len)
{
	size_t i, nlen = strlen(name);

	for (i = 0; i < sv->o->nresolve; i++) {
		const char *r = sv->o->resolve[i], *e = strchr(r, '=');
		size_t plen = e ? (size_t)(e - r) : 0;
		bool hit;
		if (e == NULL)
			continue;
		if (plen > 2 && r[0] == '*' && r[1] == '.')
			hit = nlen > plen - 1 && strncasecmp(name + nlen -
			    (plen - 1), r + 1, plen - 1) == 0;
		else
			hit = plen == nlen && strncasecmp(r, name, nlen) == 0;
		if (hit) {
			snprintf(buf, len, "%s", e + 1);
			return buf;
		}
	}
	return name;
}

/* A validation's outcome: NULL when it passed, else why (in why) and the
 * ACME error type (in *ptype). */
typedef struct va_out va;

static const char *
va_fail(va *v, const char *ptype, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	v->ptype = ptype;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	for (i = 0; v->why[i]; i++)
		if ((unsigned char)v->why[i] < 0x20)
			v->why[i] = ' ';
	return v->why;
}

/* RFC 8555 8.3: GET http://NAME:PORT/.well-known/acme-challenge/TOKEN
 * must answer the key authorization. */
static const char *
http01(server *sv, va *v, const char *name, const char *token,
    const char *want)
{
	char port[16], addr[256], req[600], buf[8192];
	double deadline;
	size_t i, have = 0;
	ssize_t k;
	char *body;
	int fd;

	snprintf(port, sizeof(port), "%u", sv->o->http01_port ?
	    sv->o->http01_port : 80);
	if ((fd = tcp_connect(va_host(sv, name, addr, sizeof(addr)), port,
	    5000)) < 0)
		return va_fail(v, "connection", "cannot connect to %s port %s",
		    name, port);
	snprintf(req, sizeof(req), "GET /.well-known/acme-challenge/%s "
	    "HTTP/1.1\r\nHost: %s\r\nUser-Agent: certmint-va\r\n"
	    "Connection: close\r\n\r\n", token, name);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return va_fail(v, "connection", "%s: the request could not be "
		    "sent", name);
	}
	/* 10 s for the whole answer, however it trickles (a byte every 2 s
	 * would pass any per-read timeout and hold a validation thread for
	 * hours; found by the benchmark helper). */
	k = 0;
	deadline = cm__now_ms() + HTTP01_MS;
	while (have < sizeof(buf) - 1) {
		struct pollfd pf = { fd, POLLIN, 0 };
		double left = deadline - cm__now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left + 1) <= 0) {
			close(fd);
			return va_fail(v, "connection", "%s port %s: no whole "
			    "answer within %d s", name, port, HTTP01_MS / 1000);
		}
		if ((k = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0)
			break;
		have += (size_t)k;
	}
	close(fd);
	buf[have] = '\0';
	if (have == 0 && k < 0)
		return va_fail(v, "connection", "%s port %s: no answer", name,
		    port);
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4))
		return va_fail(v, "unauthorized", "%s answered %.40s", name,
		    have ? buf : "nothing");
	if ((body = strstr(buf, "\r\n\r\n")) == NULL)
		return va_fail(v, "unauthorized", "%s: no body", name);
	body += 4;
	for (i = strlen(body); i > 0 && strchr(" \t\r\n", body[i - 1]); i--)
		body[i - 1] = '\0';
	if (strcmp(body, want) != 0)
		return va_fail(v, "unauthorized", "%s answered another key "
		    "authorization", name);
	return NULL;
}

/* SHA-256 of the key authorization: raw (32 octets) and, when b64 is
 * given, base64url into it (dns-01's TXT value). */
static bool
keyauth_digest(unsigned char raw[32], char *b64, size_t blen,
    const char *keyauth)
{
	char *b;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth),
	    raw) < 0)
		return false;
	if (b64 == NULL)
		return true;
	if ((b = cm__b64url_encode(raw, 32)) == NULL)
		return false;
	snprintf(b64, blen, "%s", b);
	free(b);
	return true;
}

/* The reverse-DNS name of an address (RFC 8738 6: tls-alpn-01's SNI). */
static bool
reverse_name(char *out, size_t len, const char *ip)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	size_t o = 0;
	int i;

	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
		return true;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || len < 16 * 4 + 9)
		return false;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 15];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, len - o, "ip6.arpa");
	return true;
}

/* What tls-alpn-01 looks at, filled in by alpn_check during the
 * handshake. */
typedef struct alpn_ctx {
	va *v;
	bool ip, ran;
	const char *name, *port, *fail;
	unsigned char digest[32];
} alpn_ctx;

/* The checks of RFC 8737 3, once the server's certificate is in (ALPN is
 * chosen by then); run by alpn_hook. */
static void
alpn_check(gnutls_session_t s)
{
	alpn_ctx *a = gnutls_session_get_ptr(s);
	gnutls_datum_t got;
	gnutls_x509_crt_t crt = NULL;
	const gnutls_datum_t *peers;
	unsigned char ext[64], ipb[16], san[300];
	size_t elen = sizeof(ext), slen = sizeof(san) - 1, l2 = 0;
	unsigned npeers = 0, crit = 0, stype = 0, t2;
	int ret;

	a->ran = true;
	if (gnutls_alpn_get_selected_protocol(s, &got) < 0 || got.size != 10 ||
	    memcmp(got.data, "acme-tls/1", 10) != 0) {
		a->fail = va_fail(a->v, "unauthorized", "%s port %s did not "
		    "choose acme-tls/1", a->name, a->port);
		return;
	}
	if ((peers = gnutls_certificate_get_peers(s, &npeers)) == NULL ||
	    npeers == 0 || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
		a->fail = va_fail(a->v, "tls", "%s port %s showed no "
		    "certificate", a->name, a->port);
		goto out;
	}
	/* Exactly one subjectAltName: the identifier. */
	ret = gnutls_x509_crt_get_subject_alt_name2(crt, 0, san, &slen, &stype,
	    NULL);
	if (ret >= 0 && gnutls_x509_crt_get_subject_alt_name2(crt, 1, NULL,
	    &l2, &t2, NULL) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		ret = -1;
	if (ret < 0 || (a->ip ? (stype != GNUTLS_SAN_IPADDRESS ||
	    !((slen == 4 && inet_pton(AF_INET, a->name, ipb) == 1 &&
	    memcmp(ipb, san, 4) == 0) || (slen == 16 && inet_pton(AF_INET6,
	    a->name, ipb) == 1 && memcmp(ipb, san, 16) == 0))) :
	    (stype != GNUTLS_SAN_DNSNAME || slen != strlen(a->name) ||
	    strncasecmp((const char *)san, a->name, slen) != 0))) {
		a->fail = va_fail(a->v, "unauthorized", "%s port %s: the "
		    "certificate's one subjectAltName is not %s", a->name,
		    a->port, a->name);
		goto out;
	}
	if (gnutls_x509_crt_get_extension_by_oid(crt, "1.3.6.1.5.5.7.1.31", 0,
	    ext, &elen, &crit) < 0 || !crit || elen != 34 || ext[0] != 0x04 ||
	    ext[1] != 32 || memcmp(ext + 2, a->digest, 32) != 0)
		a->fail = va_fail(a->v, "unauthorized", "%s port %s: no "
		    "critical acmeIdentifier for this challenge's key "
		    "authorization", a->name, a->port);
out:
	gnutls_x509_crt_deinit(crt);
}

/* Every handshake message: once the server's certificate is in (before
 * its CertificateVerify or ServerKeyExchange, where GnuTLS would stop at
 * a key usage it does not like), the checks run. */
static int
alpn_hook(gnutls_session_t s, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	alpn_ctx *a = gnutls_session_get_ptr(s);
	unsigned n = 0;

	(void)htype;
	(void)when;
	(void)incoming;
	(void)msg;
	if (!a->ran && gnutls_certificate_get_peers(s, &n) != NULL && n > 0)
		alpn_check(s);
	return 0;
}

/* RFC 8737: a TLS connection to NAME:443 (or --tlsalpn01-port) with SNI
 * NAME (an address: its reverse name, RFC 8738 6) and ALPN acme-tls/1
 * only must show a certificate whose one subjectAltName is the identifier
 * and whose critical acmeIdentifier extension holds the SHA-256 of the
 * key authorization. */
static const char *
tlsalpn01(server *sv, va *v, const char *type, const char *name,
    const char *keyauth)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	gnutls_datum_t proto = { (unsigned char *)"acme-tls/1", 10 };
	char port[16], addr[256], sni[160];
	alpn_ctx a;
	unsigned tries = 0;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	a.v = v;
	a.ip = strcmp(type, "ip") == 0;
	a.name = name;
	a.port = port;
	snprintf(port, sizeof(port), "%u", sv->o->tlsalpn01_port ?
	    sv->o->tlsalpn01_port : 443);
	if (a.ip ? !reverse_name(sni, sizeof(sni), name) : snprintf(sni,
	    sizeof(sni), "%s", name) >= (int)sizeof(sni))
		return va_fail(v, "malformed", "%s: no name to ask for", name);
	if (!keyauth_digest(a.digest, NULL, 0, keyauth))
		return va_fail(v, "serverInternal", "no SHA-256");
	if ((fd = tcp_connect(va_host(sv, name, addr, sizeof(addr)), port,
	    5000)) < 0)
		return va_fail(v, "connection", "cannot connect to %s port %s",
		    name, port);
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) < 0 ||
	    gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3:"
	    "+VERS-TLS1.2", NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)) < 0 ||
	    gnutls_alpn_set_protocols(s, &proto, 1, GNUTLS_ALPN_MANDATORY) <
	    0) {
		a.fail = va_fail(v, "serverInternal", "TLS client set-up");
		goto out;
	}
	gnutls_session_set_ptr(s, &a);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY,
	    GNUTLS_HOOK_PRE, alpn_hook);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret) && ++tries < 1000);
	/* The validation certificate is looked at, not trusted: its key
	 * usage is the responder's affair (lego's lists keyEncipherment
	 * only; Let's Encrypt's validator does not ask either), so a
	 * handshake that stops there still counts once the checks ran. */
	if (a.fail == NULL && (!a.ran || (ret < 0 &&
	    ret != GNUTLS_E_KEY_USAGE_VIOLATION)))
		a.fail = va_fail(v, "tls", "%s port %s: TLS handshake for "
		    "acme-tls/1 failed: %s", name, port, ret < 0 ?
		    gnutls_strerror(ret) : "no certificate");
out:
	if (s != NULL)
		gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	return a.fail;
}

/* RFC 8555 8.4: a TXT record at _acme-challenge.NAME (the name below a
 * wildcard) must hold the base64url SHA-256 of the key authorization.
 * Asked of --dns-resolver, or the system's resolver. */
static const char *
dns01(server *sv, va *v, const char *name, const char *keyauth)
{
	struct __res_state rs;
	unsigned char ans[4096], digest[32];
	char q[300], want[64], txt[256];
	const unsigned char *rd;
	size_t tl;
	ns_msg msg;
	ns_rr rr;
	int len, i, n, rl, k;

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	if (!keyauth_digest(digest, want, sizeof(want), keyauth))
		return va_fail(v, "serverInternal", "no SHA-256");
	if (snprintf(q, sizeof(q), "_acme-challenge.%s", name) >=
	    (int)sizeof(q))
		return va_fail(v, "malformed", "%.40s...: too long", name);
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return va_fail(v, "dns", "no DNS resolver");
	if (sv->dns_set) {
		rs.nsaddr_list[0] = sv->dns;
		rs.nscount = 1;
	}
	rs.retrans = 2;
	rs.retry = 2;
	len = res_nquery(&rs, q, ns_c_in, ns_t_txt, ans, sizeof(ans));
	res_nclose(&rs);
	if (len < 0)
		return va_fail(v, "dns", "no TXT record at %s", q);
	if (ns_initparse(ans, len, &msg) < 0)
		return va_fail(v, "dns", "%s: the DNS answer does not parse",
		    q);
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 ||
		    ns_rr_type(rr) != ns_t_txt)
			continue;
		/* The record's character-strings, joined. */
		rd = ns_rr_rdata(rr);
		rl = ns_rr_rdlen(rr);
		tl = 0;
		for (k = 0; k < rl && k + 1 + rd[k] <= rl; k += 1 + rd[k]) {
			if (tl + rd[k] >= sizeof(txt))
				break;
			memcpy(txt + tl, rd + k + 1, rd[k]);
			tl += rd[k];
		}
		txt[tl] = '\0';
		if (strcmp(txt, want) == 0)
			return NULL;
	}
	return va_fail(v, "unauthorized", "no TXT record at %s holds this "
	    "challenge's digest", q);
}

/* ---- the validation pool ---------------------------------------------- */

static void
vjob_free(vjob *jb)
{
	if (jb == NULL)
		return;
	free(jb->name);
	free(jb->token);
	free(jb->keyauth);
	free(jb);
}

static vjob *
vjob_new(int64_t chall, int64_t authz, int64_t order, const char *type,
    const char *itype, const char *name, const char *token,
    const char *keyauth)
{
	vjob *jb = calloc(1, sizeof(*jb));

	if (jb == NULL)
		return NULL;
	jb->chall = chall;
	jb->authz = authz;
	jb->order = order;
	snprintf(jb->type, sizeof(jb->type), "%s", type);
	snprintf(jb->itype, sizeof(jb->itype), "%s", itype);
	jb->name = strdup(name);
	jb->token = strdup(token);
	jb->keyauth = strdup(keyauth);
	if (jb->name == NULL || jb->token == NULL || jb->keyauth == NULL) {
		vjob_free(jb);
		return NULL;
	}
	return jb;
}

/* The validation itself: reads only the server's options. */
static void
va_run(server *sv, vjob *jb)
{
	if (strcmp(jb->type, "http-01") == 0)
		jb->fail = http01(sv, &jb->v, jb->name, jb->token, jb->keyauth);
	else if (strcmp(jb->type, "tls-alpn-01") == 0)
		jb->fail = tlsalpn01(sv, &jb->v, jb->itype, jb->name,
		    jb->keyauth);
	else
		jb->fail = dns01(sv, &jb->v, jb->name, jb->keyauth);
}

/* The outcome into the store, in one transaction: the challenge, its
 * authorization (while pending), the order. */
static void
va_apply(server *sv, vjob *jb)
{
	int64_t now = (int64_t)cm_ctx_now(sv->ctx);
	char pt[80], pj[600];
	json_t *e;
	char *et;
	cm_err err;

	if (cm__store_begin(sv->st) != CM_OK)
		return;
	if (jb->fail == NULL) {
		err = cm__store_acme_exec(NULL, sv->st,
		    "UPDATE acme_challenges "
		    "SET status = 'valid', validated = ? WHERE id = ? AND "
		    "status = 'processing'", "ii", now, jb->chall);
		if (err == CM_OK)
			err = cm__store_acme_exec(NULL, sv->st, "UPDATE "
			    "acme_authzs SET status = 'valid' WHERE id = ? AND "
			    "status = 'pending'", "i", jb->authz);
	} else {
		snprintf(pt, sizeof(pt), "urn:ietf:params:acme:error:%s",
		    jb->v.ptype);
		e = json_pack("{s:s,s:s,s:i}", "type", pt, "detail", jb->fail,
		    "status", 400);
		et = e ? json_dumps(e, JSON_COMPACT) : NULL;
		snprintf(pj, sizeof(pj), "%s", et ? et : "{}");
		free(et);
		json_decref(e);
		err = cm__store_acme_exec(NULL, sv->st, "UPDATE "
		    "acme_challenges SET status = 'invalid', error = ?, "
		    "validated = ? WHERE id = ? AND status = 'processing'",
		    "sii", pj, now, jb->chall);
		if (err == CM_OK)
			err = cm__store_acme_exec(NULL, sv->st, "UPDATE "
			    "acme_authzs SET status = 'invalid' WHERE id = ? "
			    "AND status = 'pending'", "i", jb->authz);
	}
	if (err == CM_OK) {
		cm__acme_order_settle(sv, jb->order);
		err = cm__store_commit(sv->st);
	}
	if (err != CM_OK)
		cm__store_rollback(sv->st);
}

static void *
pool_worker(void *arg)
{
	server *sv = arg;
	vpool *p = &sv->pool;
	vjob *jb;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->todo == NULL)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		jb = p->todo;
		if ((p->todo = jb->next) == NULL)
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mu);
		va_run(sv, jb);
		pthread_mutex_lock(&p->mu);
		jb->next = p->done;
		p->done = jb;
		if (write(p->pipe[1], "x", 1) < 0) {
			/* Full: the serving loop drains it anyway. */
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_recover(server *sv, time_t before);

/* Outcomes handed back: into the store. */
void
cm__va_pool_collect(server *sv)
{
	vpool *p = &sv->pool;
	char buf[256];
	vjob *jb, *list;

	if (!p->up)
		return;
	while (read(p->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = NULL;
	for (jb = list; jb != NULL; jb = jb->next)
		p->queued--;
	pthread_mutex_unlock(&p->mu);
	while ((jb = list) != NULL) {
		list = jb->next;
		va_apply(sv, jb);
		vjob_free(jb);
	}
	/* Every 30 s with nothing queued here: challenges another serve on
	 * the store began over a minute ago and never finished (it died)
	 * are taken up (a validation ends within about 10 s). */
	if (time(NULL) - p->swept >= 30) {
		bool idle;
		p->swept = time(NULL);
		pthread_mutex_lock(&p->mu);
		idle = p->queued == 0;
		pthread_mutex_unlock(&p->mu);
		if (idle)
			pool_recover(sv, cm_ctx_now(sv->ctx) - 60);
	}
}

static void
pool_enqueue(server *sv, vjob *jb)
{
	vpool *p = &sv->pool;

	pthread_mutex_lock(&p->mu);
	jb->next = NULL;
	if (p->todo_tail != NULL)
		p->todo_tail->next = jb;
	else
		p->todo = jb;
	p->todo_tail = jb;
	p->queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The challenges left 'processing' (a stop, a crash, this serve's or
 * another's on the same store) and begun before 'before': validated
 * again. */
static void
pool_recover(server *sv, time_t before)
{
	char **v = NULL;
	size_t n = 0, i;
	vjob *jb;

	if (cm__store_acme_rows(&v, &n, sv->st, "SELECT h.id, h.authz_id, "
	    "z.order_id, h.type, z.type, z.value, h.token, a.thumbprint FROM "
	    "acme_challenges h JOIN acme_authzs z ON z.id = h.authz_id JOIN "
	    "acme_orders o ON o.id = z.order_id JOIN acme_accounts a ON a.id = "
	    "o.account_id WHERE h.status = 'processing' AND "
	    "coalesce(h.validated, 0) < ? ORDER BY h.id LIMIT 1000", "i",
	    (int64_t)before) != CM_OK)
		return;
	for (i = 0; i < n; i++) {
		char **r = v + i * 8, ka[256];
		snprintf(ka, sizeof(ka), "%s.%s", r[6], r[7]);
		jb = vjob_new(strtoll(r[0], NULL, 10), strtoll(r[1], NULL, 10),
		    strtoll(r[2], NULL, 10), r[3], r[4], r[5], r[6], ka);
		if (jb != NULL)
			pool_enqueue(sv, jb);
	}
	cm__srv_free_rows(v, n * 8);
}

/* Starts the pool (with SIGINT and SIGTERM left to the serving thread);
 * without threads, validations run in the serving thread. */
void
cm__va_pool_start(server *sv)
{
	vpool *p = &sv->pool;
	sigset_t block, old;

	if (pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (p->nth = 0; p->nth < VA_THREADS; p->nth++)
		if (pthread_create(&p->th[p->nth], NULL, pool_worker, sv) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->up = true;
	if (p->nth == 0) {
		cm__va_pool_collect(sv);
		p->up = false;
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		close(p->pipe[0]);
		close(p->pipe[1]);
		return;
	}
	pool_recover(sv, cm_ctx_now(sv->ctx) + 1);
	p->swept = time(NULL);
}

/* Stops the pool: validations running finish and are applied; those not
 * started stay 'processing' in the store for the next start. */
void
cm__va_pool_stop(server *sv)
{
	vpool *p = &sv->pool;
	vjob *jb;
	size_t i;

	if (!p->up)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	cm__va_pool_collect(sv);
	while ((jb = p->todo) != NULL) {
		p->todo = jb->next;
		vjob_free(jb);
	}
	p->up = false;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	close(p->pipe[0]);
	close(p->pipe[1]);
}

/* A challenge started by its client: 'processing' in the store, then
 * validated by the pool (or here, when there is none).  -1: the pool's
 * queue is full. */
int
cm__va_pool_submit(server *sv, int64_t chall, int64_t authz, int64_t order,
    char **h, char **z, const char *keyauth)
{
	vpool *p = &sv->pool;
	bool full = false;
	vjob *jb;

	if (p->up) {
		pthread_mutex_lock(&p->mu);
		full = p->queued >= VA_QUEUE_MAX;
		pthread_mutex_unlock(&p->mu);
	}
	if (full || (jb = vjob_new(chall, authz, order, h[9], z[0], z[1], h[6],
	    keyauth)) == NULL)
		return -1;
	/* validated holds the time the validation began until it ends. */
	if (cm__store_acme_exec(NULL, sv->st, "UPDATE acme_challenges SET "
	    "status = 'processing', validated = ? WHERE id = ? AND status = "
	    "'pending'", "ii", (int64_t)cm_ctx_now(sv->ctx), chall) != CM_OK) {
		vjob_free(jb);
		return -1;
	}
	if (p->up) {
		pool_enqueue(sv, jb);
		return 0;
	}
	va_run(sv, jb);
	va_apply(sv, jb);
	vjob_free(jb);
	return 0;
}

