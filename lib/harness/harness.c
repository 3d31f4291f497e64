/*
 * harness.c - the TLS harness engine: a GnuTLS server and client in one
 * process over in-memory buffers (one thread, alternating non-blocking
 * handshakes, bounded rounds) or over TCP on 127.0.0.1 (two threads), then
 * one round of application data, then the outcome class from the
 * verification status bits and the alerts.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Enough for any handshake: each round moves at least one flight. */
#define MAX_ROUNDS 64
#define DEFAULT_TIMEOUT_MS 5000
#define PIPE_MAX (1u << 20)

/* A request any HTTP server answers; other servers just read it. */
static const char ping[] = "GET / HTTP/1.0\r\n\r\n";
static const char pong[] = "certmint pong\n";
static const char http_ok[] = "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\nContent-Length: 14\r\n"
    "Connection: close\r\n\r\ncertmint pong\n";

static const char *const peer_names[] = {
	[CM_PEER_NONE] = "gnutls",
	[CM_PEER_OPENSSL] = "openssl",
	[CM_PEER_PYTHON] = "python",
	[CM_PEER_GNUTLS_CLI] = "gnutls-cli",
	[CM_PEER_CURL] = "curl",
};

const char *
cm_peer_name(cm_peer p)
{
	return (unsigned)p < sizeof(peer_names) / sizeof(peer_names[0]) ?
	    peer_names[p] : NULL;
}

cm_err
cm_peer_parse(cm_peer *out, cm_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(peer_names) / sizeof(peer_names[0]);
	    i++)
		if (strcmp(name, peer_names[i]) == 0) {
			*out = (cm_peer)i;
			return CM_OK;
		}
	return cm__fail(ctx, CM_E_INVALID, "peer '%s' is unknown (openssl, "
	    "python, gnutls-cli, curl)", name ? name : "");
}

const char *
cm_side_name(cm_side s)
{
	switch (s) {
	case CM_SIDE_CLIENT: return "client";
	case CM_SIDE_SERVER: return "server";
	default: return "none";
	}
}

void
cm_scenario_free(cm_scenario *sc)
{
	if (sc == NULL)
		return;
	free(sc->name);
	free(sc->server_chain);
	if (sc->server_key)
		cm__free_secret(sc->server_key, strlen(sc->server_key));
	free(sc->trust);
	free(sc->expected_name);
	free(sc->client_chain);
	if (sc->client_key)
		cm__free_secret(sc->client_key, strlen(sc->client_key));
	free(sc->client_trust);
	free(sc->crl);
	free(sc->client_crl);
	free(sc->ocsp_staple);
	free(sc->priority);
	free(sc->client_priority);
	free(sc->note);
	free(sc);
}

void
cm_scenario_list_free(cm_scenario **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		cm_scenario_free(list[i]);
	free(list);
}

void
cm_result_free(cm_result *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->peer);
	free(r->version);
	free(r->cipher);
	free(r->group);
	free(r->sigalg);
	free(r->client_identity);
	free(r->detail);
	free(r);
}

void
cm_result_list_free(cm_result **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		cm_result_free(list[i]);
	free(list);
}

cm_err
cm__result_new(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const char *peer)
{
	cm_result *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = cm__strdup(sc->name ? sc->name : "scenario")) == NULL ||
	    (r->peer = cm__strdup(peer)) == NULL) {
		cm_result_free(r);
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	r->expected = sc->expect;
	r->actual = CM_OUTCOME_ERROR;
	*out = r;
	return CM_OK;
}

/* ---- setting up one end ------------------------------------------------ */

static cm_err
datum_of(gnutls_datum_t *d, const char *pem)
{
	d->data = (unsigned char *)(uintptr_t)pem;
	d->size = (unsigned)strlen(pem);
	return CM_OK;
}

void
cm__hside_clear(cm__hside *h)
{
	if (h->s != NULL)
		gnutls_deinit(h->s);
	if (h->cred != NULL)
		gnutls_certificate_free_credentials(h->cred);
	free(h->host);
	memset(h, 0, sizeof(*h));
	h->alert = -1;
}

/* The server's check of a client certificate (see cm__hside_init). */
static int
verify_client(gnutls_session_t s)
{
	cm__hside *h = gnutls_session_get_ptr(s);
	gnutls_typed_vdata_st vd;
	unsigned n = 0, status = 0;

	if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
		return 0;
	vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd.data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT;
	vd.size = 0;
	if (gnutls_certificate_verify_peers(s, &vd, 1, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	h->status = status;
	h->have_status = status != 0;
	return status != 0 ? -1 : 0;
}

/* The server's OCSP staple (RFC 6066 status_request). */
static int
staple_cb(gnutls_session_t s, void *arg, gnutls_datum_t *resp)
{
	const cm__hside *h = arg;

	(void)s;
	if ((resp->data = gnutls_malloc(h->staple_len)) == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(resp->data, h->staple, h->staple_len);
	resp->size = (unsigned)h->staple_len;
	return 0;
}

cm_err
cm__hside_init(cm__hside *h, cm_ctx *ctx, const cm_scenario *sc,
    bool is_server, bool nonblock)
{
	const char *who = is_server ? "server" : "client";
	const char *prio, *errpos = NULL;
	gnutls_datum_t c, k;
	unsigned nv = 0, flags;
	int ret;

	memset(h, 0, sizeof(*h));
	h->alert = -1;
	h->is_server = is_server;
	if ((ret = gnutls_certificate_allocate_credentials(&h->cred)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s: credentials", who);
	if (is_server) {
		if (sc->server_chain == NULL || sc->server_key == NULL)
			return cm__fail(ctx, CM_E_INVALID, "scenario '%s': no "
			    "server certificate and key", sc->name);
		datum_of(&c, sc->server_chain);
		datum_of(&k, sc->server_key);
		if ((ret = gnutls_certificate_set_x509_key_mem2(h->cred, &c,
		    &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
			return cm__gnutls_fail(ctx, ret, "scenario '%s': server "
			    "certificate and key", sc->name);
		/*
		 * The staple goes through a callback, not
		 * gnutls_certificate_set_ocsp_status_request_mem: GnuTLS
		 * refuses to load a response that says revoked, and the
		 * harness must be able to serve one.
		 */
		if (sc->ocsp_staple != NULL) {
			h->staple = sc->ocsp_staple;
			h->staple_len = sc->ocsp_staple_len;
			ret = gnutls_certificate_set_ocsp_status_request_function2(
			    h->cred, 0, staple_cb, h);
			if (ret < 0)
				return cm__gnutls_fail(ctx, ret,
				    "scenario '%s': ocsp_staple", sc->name);
		}
		if (sc->client_auth != CM_CLIENT_AUTH_NONE &&
		    sc->client_trust != NULL) {
			datum_of(&c, sc->client_trust);
			if ((ret = gnutls_certificate_set_x509_trust_mem(
			    h->cred, &c, GNUTLS_X509_FMT_PEM)) < 0)
				return cm__gnutls_fail(ctx, ret, "scenario '%s': "
				    "client_trust", sc->name);
		}
		if (sc->client_auth != CM_CLIENT_AUTH_NONE &&
		    sc->client_crl != NULL) {
			datum_of(&c, sc->client_crl);
			if ((ret = gnutls_certificate_set_x509_crl_mem(h->cred,
			    &c, GNUTLS_X509_FMT_PEM)) < 0)
				return cm__gnutls_fail(ctx, ret, "scenario '%s': "
				    "client_crl", sc->name);
		}
	} else {
		if (sc->trust != NULL) {
			datum_of(&c, sc->trust);
			if ((ret = gnutls_certificate_set_x509_trust_mem(
			    h->cred, &c, GNUTLS_X509_FMT_PEM)) < 0)
				return cm__gnutls_fail(ctx, ret, "scenario '%s': "
				    "trust", sc->name);
		}
		if (sc->crl != NULL) {
			datum_of(&c, sc->crl);
			if ((ret = gnutls_certificate_set_x509_crl_mem(h->cred,
			    &c, GNUTLS_X509_FMT_PEM)) < 0)
				return cm__gnutls_fail(ctx, ret,
				    "scenario '%s': crl", sc->name);
		}
		if (sc->client_chain != NULL && sc->client_key != NULL) {
			datum_of(&c, sc->client_chain);
			datum_of(&k, sc->client_key);
			if ((ret = gnutls_certificate_set_x509_key_mem2(h->cred,
			    &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
				return cm__gnutls_fail(ctx, ret, "scenario '%s': "
				    "client certificate and key", sc->name);
			h->sent_cert = true;
		}
	}

	flags = is_server ? GNUTLS_SERVER : GNUTLS_CLIENT;
	if (nonblock)
		flags |= GNUTLS_NONBLOCK;
	if ((ret = gnutls_init(&h->s, flags)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s: session", who);
	prio = sc->priority ? sc->priority : CM_PRIORITY_DEFAULT;
	if (!is_server && sc->client_priority != NULL)
		prio = sc->client_priority;
	if ((ret = gnutls_priority_set_direct(h->s, prio, &errpos)) < 0)
		return cm__fail(ctx, CM_E_INVALID, "scenario '%s': priority "
		    "'%s' is invalid near '%s'", sc->name, prio,
		    errpos ? errpos : "");
	if ((ret = gnutls_credentials_set(h->s, GNUTLS_CRD_CERTIFICATE,
	    h->cred)) < 0)
		return cm__gnutls_fail(ctx, ret, "%s: credentials", who);

	if (is_server) {
		gnutls_certificate_server_set_request(h->s,
		    sc->client_auth == CM_CLIENT_AUTH_REQUIRE ?
		    GNUTLS_CERT_REQUIRE : sc->client_auth ==
		    CM_CLIENT_AUTH_REQUEST ? GNUTLS_CERT_REQUEST :
		    GNUTLS_CERT_IGNORE);
		/*
		 * Not gnutls_session_set_verify_cert2: it fails a session
		 * without a client certificate even when one is only
		 * requested.  The callback checks what was sent; a missing
		 * one is left to GnuTLS's request/require logic.
		 */
		if (sc->client_auth != CM_CLIENT_AUTH_NONE) {
			/* No CA names in the request: a GnuTLS client would
			 * otherwise keep a certificate from another CA to
			 * itself, and the server's verdict on it is what
			 * the scenario is about. */
			gnutls_certificate_send_x509_rdn_sequence(h->s, 1);
			gnutls_session_set_ptr(h->s, h);
			gnutls_certificate_set_verify_function(h->cred,
			    verify_client);
		}
		return CM_OK;
	}

	if (sc->expected_name != NULL && sc->name_as_dns) {
		if ((h->host = cm__strdup(sc->expected_name)) == NULL)
			return cm__fail(ctx, CM_E_NOMEM, "out of memory");
		if (inet_pton(AF_INET, h->host, h->ip) != 1 &&
		    inet_pton(AF_INET6, h->host, h->ip) != 1)
			gnutls_server_name_set(h->s, GNUTLS_NAME_DNS, h->host,
			    strlen(h->host));
		h->vdata[nv].type = GNUTLS_DT_DNS_HOSTNAME;
		h->vdata[nv++].data = (unsigned char *)h->host;
	} else if (sc->expected_name != NULL) {
		if (inet_pton(AF_INET, sc->expected_name, h->ip) == 1) {
			h->vdata[nv].type = GNUTLS_DT_IP_ADDRESS;
			h->vdata[nv].data = h->ip;
			h->vdata[nv++].size = 4;
		} else if (inet_pton(AF_INET6, sc->expected_name, h->ip) == 1) {
			h->vdata[nv].type = GNUTLS_DT_IP_ADDRESS;
			h->vdata[nv].data = h->ip;
			h->vdata[nv++].size = 16;
		} else {
			/* RFC 6066 3: SNI carries DNS names only, never IPs. */
			if ((h->host = cm__strdup(sc->expected_name)) == NULL)
				return cm__fail(ctx, CM_E_NOMEM, "out of memory");
			gnutls_server_name_set(h->s, GNUTLS_NAME_DNS, h->host,
			    strlen(h->host));
			h->vdata[nv].type = GNUTLS_DT_DNS_HOSTNAME;
			h->vdata[nv++].data = (unsigned char *)h->host;
		}
	}
	h->vdata[nv].type = GNUTLS_DT_KEY_PURPOSE_OID;
	h->vdata[nv++].data = (unsigned char *)(uintptr_t)
	    GNUTLS_KP_TLS_WWW_SERVER;
	gnutls_session_set_verify_cert2(h->s, h->vdata, nv, 0);
	return CM_OK;
}

/* ---- driving one end: shared by both transports ----------------------- */

/* A fatal error: remember it, take the status, tell the peer. */
static void
side_fail(cm__hside *h, int ret)
{
	if (h->failed)
		return;
	h->failed = true;
	h->err = ret;
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		h->alert = (int)gnutls_alert_get(h->s);
		return;
	}
	if (!h->have_status && (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ||
	    ret == GNUTLS_E_CERTIFICATE_ERROR)) {
		h->status = gnutls_session_get_verify_cert_status(h->s);
		h->have_status = true;
	}
	/* GnuTLS says bad_certificate for every verification failure; the
	 * alert that names the reason lets the peer (certmint test connect
	 * or serve, or any TLS stack) see the same class as this side. */
	if (h->have_status && h->status != 0)
		gnutls_alert_send(h->s, GNUTLS_AL_FATAL,
		    cm__alert_for_status(h->status));
	else
		gnutls_alert_send_appropriate(h->s, ret);
}

/* One handshake step; true when something happened. */
static void
side_handshake(cm__hside *h)
{
	int ret;

	if (h->hs_done || h->failed)
		return;
	ret = gnutls_handshake(h->s);
	if (ret == 0) {
		h->hs_done = true;
		return;
	}
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return;
	if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		h->alert = (int)gnutls_alert_get(h->s);
		return;
	}
	if (gnutls_error_is_fatal(ret))
		side_fail(h, ret);
}

/*
 * One data step after the handshake: the client sends a request and
 * reads the answer; the server reads the request and answers.
 */
static void
side_data(cm__hside *h)
{
	char buf[512];
	ssize_t n;
	const char *msg;

	if (!h->hs_done || h->failed || h->data_done)
		return;
	if (!h->is_server && !h->sent) {
		n = gnutls_record_send(h->s, ping, sizeof(ping) - 1);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n < 0) {
			/* A server that rejected us may have hung up: its
			 * alert can still be waiting to be read. */
			ssize_t m = gnutls_record_recv(h->s, buf, sizeof(buf));
			side_fail(h, m == GNUTLS_E_FATAL_ALERT_RECEIVED ?
			    (int)m : (int)n);
			return;
		}
		h->sent = true;
	}
	if (!h->got) {
		n = gnutls_record_recv(h->s, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
		    n == GNUTLS_E_WARNING_ALERT_RECEIVED ||
		    n == GNUTLS_E_REHANDSHAKE)
			return;
		if (n == 0 || n == GNUTLS_E_TIMEDOUT ||
		    n == GNUTLS_E_PREMATURE_TERMINATION) {
			/* The peer closed or stayed silent after a complete
			 * handshake: nothing was rejected. */
			h->got = true;
			h->data_done = true;
			return;
		}
		if (n < 0) {
			side_fail(h, (int)n);
			return;
		}
		h->got = true;
	}
	if (h->is_server && !h->sent) {
		msg = h->http ? http_ok : pong;
		n = gnutls_record_send(h->s, msg, strlen(msg));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n < 0) {
			side_fail(h, (int)n);
			return;
		}
		h->sent = true;
	}
	h->data_done = true;
}

/* ---- in-memory transport ------------------------------------------------ */

typedef struct mpipe {
	unsigned char *buf;
	size_t len, off, cap;
	size_t total;             /* bytes ever written: progress */
} mpipe;

typedef struct mend {
	mpipe *in, *out;
	gnutls_session_t s;
} mend;

static ssize_t
mem_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	mend *e = p;
	mpipe *o = e->out;
	unsigned char *nb;
	size_t cap;

	if (o->off > 0 && o->off == o->len)
		o->off = o->len = 0;
	if (o->len + len > o->cap) {
		if (o->len + len > PIPE_MAX) {
			gnutls_transport_set_errno(e->s, ENOSPC);
			return -1;
		}
		cap = o->cap ? o->cap : 4096;
		while (cap < o->len + len)
			cap *= 2;
		if ((nb = realloc(o->buf, cap)) == NULL) {
			gnutls_transport_set_errno(e->s, ENOMEM);
			return -1;
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->total += len;
	return (ssize_t)len;
}

static ssize_t
mem_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	mend *e = p;
	mpipe *i = e->in;
	size_t avail = i->len - i->off;

	if (avail == 0) {
		gnutls_transport_set_errno(e->s, EAGAIN);
		return -1;
	}
	if (len > avail)
		len = avail;
	memcpy(data, i->buf + i->off, len);
	i->off += len;
	return (ssize_t)len;
}

static int
mem_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	mend *e = p;

	(void)ms;
	return e->in->len > e->in->off ? 1 : 0;
}

static void
mem_attach(mend *e, gnutls_session_t s, mpipe *in, mpipe *out)
{
	e->in = in;
	e->out = out;
	e->s = s;
	gnutls_transport_set_ptr(s, e);
	gnutls_transport_set_push_function(s, mem_push);
	gnutls_transport_set_pull_function(s, mem_pull);
	gnutls_transport_set_pull_timeout_function(s, mem_pull_timeout);
}

static bool
finished(const cm__hside *h)
{
	return h->failed || h->data_done;
}

/* Returns the handshake time in ms. */
static double
run_memory(cm__hside *c, cm__hside *s, bool *deadlock)
{
	mpipe c2s = { 0 }, s2c = { 0 };
	mend ce, se;
	double t0, t = -1;
	size_t before;
	int round;

	mem_attach(&ce, c->s, &s2c, &c2s);
	mem_attach(&se, s->s, &c2s, &s2c);
	*deadlock = false;
	t0 = cm__now_ms();
	for (round = 0; round < MAX_ROUNDS; round++) {
		before = c2s.total + s2c.total;
		side_handshake(c);
		side_handshake(s);
		if (t < 0 && ((c->hs_done && s->hs_done) || c->failed ||
		    s->failed))
			t = cm__now_ms() - t0;
		side_data(c);
		side_data(s);
		side_data(c);
		if (finished(c) && finished(s))
			break;
		/* One side gave up and the other has read all there is. */
		if (c2s.total + s2c.total == before) {
			if (!c->failed && !s->failed)
				*deadlock = true;
			break;
		}
	}
	if (round == MAX_ROUNDS && !(finished(c) && finished(s)))
		*deadlock = true;
	if (t < 0)
		t = cm__now_ms() - t0;
	free(c2s.buf);
	free(s2c.buf);
	return t;
}

/* ---- sockets -------------------------------------------------------------- */

void
cm__sock_timeouts(int fd, unsigned ms)
{
	struct timeval tv;
	int one = 1;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Handshake flights are small: no Nagle delay behind them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

cm_err
cm__listen_loopback(int *fd, int *port, cm_ctx *ctx)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cm__errno_fail(ctx, errno, "harness: socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
		int e = errno;
		close(s);
		return cm__errno_fail(ctx, e, "harness: listen on 127.0.0.1");
	}
	*fd = s;
	*port = ntohs(sa.sin_port);
	return CM_OK;
}

cm_err
cm__accept_timeout(int *out, cm_ctx *ctx, int lfd, unsigned ms)
{
	struct pollfd p = { lfd, POLLIN, 0 };
	int r, fd;

	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return cm__fail(ctx, CM_E_TLS, "harness: no connection within "
		    "%u ms", ms);
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return cm__errno_fail(ctx, errno, "harness: accept");
	cm__sock_timeouts(fd, ms);
	*out = fd;
	return CM_OK;
}

/*
 * After a rejection: stop sending and read what the client still sends
 * (briefly), so that closing the socket does not reset the connection and
 * destroy the alert before the client has read it.
 */
static void
linger_close(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[1024];
	double end = cm__now_ms() + 200;
	int i;

	shutdown(fd, SHUT_WR);
	for (i = 0; i < 64 && cm__now_ms() < end; i++) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
	}
}

/*
 * Blocking run of one end on a socket: the handshake and the data
 * exchange are bounded by ms (GnuTLS timeouts plus socket timeouts).
 */
/* send() without SIGPIPE: a peer that hangs up is a result, and the
 * library must not change the process's signal handling. */
static ssize_t
fd_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	return send((int)(intptr_t)p, data, len, MSG_NOSIGNAL);
}

void
cm__hside_run_fd(cm__hside *h, int fd, unsigned ms)
{
	double deadline = cm__now_ms() + ms;
	int i;

	gnutls_transport_set_int(h->s, fd);
	gnutls_transport_set_push_function(h->s, fd_push);
	gnutls_handshake_set_timeout(h->s, ms);
	/* A silent server (openssl s_server) must not cost the full
	 * timeout; a rejection arrives at once. */
	gnutls_record_set_timeout(h->s, h->is_server || ms < 800 ? ms : 800);
	for (i = 0; i < 1000 && !h->hs_done && !h->failed; i++) {
		side_handshake(h);
		if (!h->hs_done && !h->failed && cm__now_ms() > deadline)
			side_fail(h, GNUTLS_E_TIMEDOUT);
	}
	for (i = 0; i < 100 && h->hs_done && !finished(h); i++) {
		side_data(h);
		if (!finished(h) && cm__now_ms() > deadline)
			break;
	}
	if (h->hs_done && !h->failed)
		gnutls_bye(h->s, GNUTLS_SHUT_WR);
	if (h->failed && h->is_server)
		linger_close(fd);
}

typedef struct tcp_server {
	cm__hside *h;
	int lfd;
	unsigned ms;
	cm_ctx ctx;  /* own error buffer: the thread must not share ctx */
	cm_err err;
} tcp_server;

static void *
tcp_server_main(void *arg)
{
	tcp_server *t = arg;
	int fd = -1;

	t->err = cm__accept_timeout(&fd, &t->ctx, t->lfd, t->ms);
	if (t->err == CM_OK) {
		cm__hside_run_fd(t->h, fd, t->ms);
		close(fd);
	}
	return NULL;
}

static cm_err
tcp_connect(int *out, cm_ctx *ctx, int port, unsigned ms)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return cm__errno_fail(ctx, errno, "harness: socket");
	cm__sock_timeouts(fd, ms);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return cm__errno_fail(ctx, e, "harness: connect to "
		    "127.0.0.1:%d", port);
	}
	*out = fd;
	return CM_OK;
}

static cm_err
run_tcp(double *ms_out, cm_ctx *ctx, cm__hside *c, cm__hside *s,
    unsigned ms)
{
	tcp_server t;
	pthread_t th;
	int lfd = -1, port = 0, fd = -1;
	double t0;
	cm_err err;

	if ((err = cm__listen_loopback(&lfd, &port, ctx)) != CM_OK)
		return err;
	memset(&t, 0, sizeof(t));
	t.h = s;
	t.lfd = lfd;
	t.ms = ms;
	if (pthread_create(&th, NULL, tcp_server_main, &t) != 0) {
		close(lfd);
		return cm__fail(ctx, CM_E_TLS, "harness: cannot start the "
		    "server thread");
	}
	t0 = cm__now_ms();
	err = tcp_connect(&fd, ctx, port, ms);
	if (err == CM_OK) {
		cm__hside_run_fd(c, fd, ms);
		*ms_out = cm__now_ms() - t0;
		close(fd);
	} else {
		/* Let the server thread's accept() time out quickly. */
		shutdown(lfd, SHUT_RDWR);
	}
	pthread_join(th, NULL);
	close(lfd);
	if (err == CM_OK && t.err != CM_OK)
		err = cm__fail(ctx, t.err, "%s", cm_ctx_error(&t.ctx));
	return err;
}

/* ---- classification ------------------------------------------------------ */

gnutls_alert_description_t
cm__alert_for_status(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return GNUTLS_A_UNSUPPORTED_CERTIFICATE;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return GNUTLS_A_UNKNOWN_CA;
	return GNUTLS_A_BAD_CERTIFICATE;
}

cm_outcome
cm__outcome_from_alert(int alert, bool from_server, bool sent_cert)
{
	switch (alert) {
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		return CM_OUTCOME_NO_CLIENT_CERT;
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_ACCESS_DENIED:
		return from_server ? CM_OUTCOME_CLIENT_UNTRUSTED :
		    CM_OUTCOME_UNTRUSTED;
	case GNUTLS_A_CERTIFICATE_EXPIRED:
		return from_server ? CM_OUTCOME_CLIENT_EXPIRED :
		    CM_OUTCOME_EXPIRED;
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
		return from_server ? CM_OUTCOME_CLIENT_PURPOSE :
		    CM_OUTCOME_PURPOSE;
	case GNUTLS_A_CERTIFICATE_REVOKED:
		return from_server ? CM_OUTCOME_CLIENT_REVOKED :
		    CM_OUTCOME_REVOKED;
	case GNUTLS_A_HANDSHAKE_FAILURE:
		/* TLS 1.2 servers (OpenSSL) refuse a missing certificate
		 * with handshake_failure. */
		return from_server && !sent_cert ? CM_OUTCOME_NO_CLIENT_CERT :
		    CM_OUTCOME_PROTOCOL;
	default:
		return CM_OUTCOME_PROTOCOL;
	}
}

static bool
is_no_cert(int err)
{
	return err == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	    err == GNUTLS_E_CERTIFICATE_REQUIRED;
}

static bool
is_verify(const cm__hside *h)
{
	return h != NULL && h->failed && h->have_status;
}

static char *
dup_name(const char *s)
{
	return s ? cm__strdup(s) : NULL;
}

static void
session_info(cm_result *r, const cm__hside *h)
{
	gnutls_session_t s = h->s;
	gnutls_protocol_t v;
	gnutls_sign_algorithm_t sig;
	const char *cs;

	/* Only once the parameters are settled: GnuTLS 3.7.9's
	 * gnutls_ciphersuite_get() crashes on a session without one. */
	if (!h->hs_done && !h->have_status)
		return;
	v = gnutls_protocol_get_version(s);
	if (v == GNUTLS_VERSION_UNKNOWN || r->version != NULL)
		return;
	r->version = dup_name(gnutls_protocol_get_name(v));
	cs = gnutls_ciphersuite_get(s);
	r->cipher = dup_name(cs);
	r->group = dup_name(gnutls_group_get_name(gnutls_group_get(s)));
	sig = (gnutls_sign_algorithm_t)gnutls_sign_algorithm_get(s);
	if (sig != GNUTLS_SIGN_UNKNOWN)
		r->sigalg = dup_name(gnutls_sign_get_name(sig));
}

static void
client_identity(cm_result *r, gnutls_session_t s)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		r->client_identity = cm__strdup((const char *)dn.data);
		gnutls_free(dn.data);
	}
	gnutls_x509_crt_deinit(crt);
}

static void
set_detail(cm_result *r, const char *who, const cm__hside *h)
{
	char buf[256];

	if (r->detail != NULL || h == NULL || !h->failed)
		return;
	if (h->alert >= 0)
		snprintf(buf, sizeof(buf), "%s: %s (%s)", who,
		    gnutls_strerror(h->err),
		    gnutls_alert_get_name((gnutls_alert_description_t)h->alert));
	else
		snprintf(buf, sizeof(buf), "%s: %s", who,
		    gnutls_strerror(h->err));
	r->detail = cm__strdup(buf);
}

/*
 * The class, in the order the rejection happened: the client checks the
 * server's certificate before it sends its own, so a client verdict wins;
 * then the server's verdict on the client's certificate (or its absence);
 * then, for an end whose peer is a real tool, the alert it received;
 * anything else that broke the handshake is "protocol".
 */
cm_err
cm__result_classify(cm_result *r, cm_ctx *ctx, cm__hside *c, cm__hside *s,
    const cm_scenario *sc)
{
	if (c != NULL)
		session_info(r, c);
	if (s != NULL) {
		session_info(r, s);
		client_identity(r, s->s);
	}
	if (is_verify(c)) {
		r->actual = cm__outcome_from_status(c->status, false);
		r->status = c->status;
		r->side = CM_SIDE_CLIENT;
	} else if (is_verify(s)) {
		r->actual = cm__outcome_from_status(s->status, true);
		r->status = s->status;
		r->side = CM_SIDE_SERVER;
	} else if (s != NULL && s->failed && is_no_cert(s->err)) {
		r->actual = CM_OUTCOME_NO_CLIENT_CERT;
		r->side = CM_SIDE_SERVER;
	} else if (c != NULL && c->failed && c->alert >= 0 && s == NULL) {
		r->actual = cm__outcome_from_alert(c->alert, true,
		    c->sent_cert);
		r->side = CM_SIDE_SERVER;
	} else if (s != NULL && s->failed && s->alert >= 0 && c == NULL) {
		r->actual = cm__outcome_from_alert(s->alert, false, true);
		r->side = CM_SIDE_CLIENT;
	} else if (c != NULL && c->failed && c->alert ==
	    GNUTLS_A_CERTIFICATE_REQUIRED) {
		r->actual = CM_OUTCOME_NO_CLIENT_CERT;
		r->side = CM_SIDE_SERVER;
	} else if ((c != NULL && c->failed) || (s != NULL && s->failed)) {
		r->actual = CM_OUTCOME_PROTOCOL;
		if (c != NULL && c->failed && c->err !=
		    GNUTLS_E_FATAL_ALERT_RECEIVED)
			r->side = CM_SIDE_CLIENT;
		else if (s != NULL && s->failed)
			r->side = CM_SIDE_SERVER;
		else
			r->side = CM_SIDE_CLIENT;
	} else if ((c != NULL && !c->hs_done) || (s != NULL && !s->hs_done)) {
		r->actual = CM_OUTCOME_PROTOCOL;
		r->side = CM_SIDE_NONE;
		if (r->detail == NULL)
			r->detail = cm__strdup("handshake did not complete "
			    "(deadlock or timeout)");
	} else {
		r->actual = CM_OUTCOME_OK;
		r->side = CM_SIDE_NONE;
	}
	set_detail(r, "client", c);
	set_detail(r, "server", s);
	cm__result_match(r, sc);
	(void)ctx;
	return CM_OK;
}

void
cm__result_match(cm_result *r, const cm_scenario *sc)
{
	char buf[256];

	r->match = !r->skipped && r->actual == r->expected;
	if (!r->skipped && !r->match && sc->has_also &&
	    r->actual == sc->expect_also) {
		r->match = true;
		if (r->detail && strncmp(r->detail, "accepted alternative",
		    20) == 0)
			return;
		snprintf(buf, sizeof(buf), "accepted alternative '%s'%s%s%s%s",
		    cm_outcome_name(sc->expect_also), sc->note ? ": " : "",
		    sc->note ? sc->note : "", r->detail ? "; " : "",
		    r->detail ? r->detail : "");
		free(r->detail);
		r->detail = cm__strdup(buf);
	}
}

/* ---- entry points ------------------------------------------------------ */

cm_err
cm_harness_run(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o)
{
	cm_harness_opts def = CM_HARNESS_OPTS_INIT;
	cm__hside c, s;
	cm_result *r = NULL;
	bool deadlock = false, mem;
	unsigned ms;
	cm_err err;

	if (o == NULL)
		o = &def;
	if (o->peer != CM_PEER_NONE)
		return cm__peer_run(out, ctx, sc, o);
	ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	if ((err = cm__result_new(&r, ctx, sc, "gnutls")) != CM_OK)
		return err;
	mem = o->transport == CM_TRANSPORT_MEMORY;
	if ((err = cm__hside_init(&s, ctx, sc, true, mem)) != CM_OK ||
	    (err = cm__hside_init(&c, ctx, sc, false, mem)) != CM_OK)
		goto out;
	s.http = o->http;
	if (mem)
		r->time_ms = run_memory(&c, &s, &deadlock);
	else if ((err = run_tcp(&r->time_ms, ctx, &c, &s, ms)) != CM_OK)
		goto out;
	if ((err = cm__result_classify(r, ctx, &c, &s, sc)) != CM_OK)
		goto out;
	if (deadlock && r->detail == NULL)
		r->detail = cm__strdup("no progress: handshake deadlock");
	*out = r;
	r = NULL;
out:
	cm__hside_clear(&c);
	cm__hside_clear(&s);
	cm_result_free(r);
	return err;
}

static cm_err
run_one_end(cm_result **out, cm_ctx *ctx, int fd, const cm_scenario *sc,
    const cm_harness_opts *o, bool is_server)
{
	cm__hside h;
	cm_result *r = NULL;
	double t0;
	unsigned ms;
	cm_err err;

	ms = o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	memset(&h, 0, sizeof(h));
	if ((err = cm__result_new(&r, ctx, sc, "gnutls")) != CM_OK)
		return err;
	if ((err = cm__hside_init(&h, ctx, sc, is_server, false)) != CM_OK)
		goto out;
	h.http = o ? o->http : false;
	cm__sock_timeouts(fd, ms);
	t0 = cm__now_ms();
	cm__hside_run_fd(&h, fd, ms);
	r->time_ms = cm__now_ms() - t0;
	if (!is_server && h.hs_done && !h.failed && !h.got)
		h.data_done = true; /* a silent server rejected nothing */
	if ((err = cm__result_classify(r, ctx, is_server ? NULL : &h,
	    is_server ? &h : NULL, sc)) != CM_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	cm__hside_clear(&h);
	cm_result_free(r);
	return err;
}

cm_err
cm_harness_connect(cm_result **out, cm_ctx *ctx, int fd,
    const cm_scenario *sc, const cm_harness_opts *o)
{
	cm_probe_opts po = CM_PROBE_OPTS_INIT;
	cm_probe_result p;
	cm_result *r = NULL;
	char buf[256];
	cm_err err;

	po.priority = sc->client_priority ? sc->client_priority :
	    sc->priority;
	po.trust = sc->trust;
	po.name = sc->expected_name;
	po.client_chain = sc->client_chain;
	po.client_key = sc->client_key;
	po.timeout_ms = o ? o->timeout_ms : 0;
	if (o != NULL && o->version >= 2 && o->http)
		po.http_path = o->http_path ? o->http_path : "/";
	if ((err = cm__result_new(&r, ctx, sc, "gnutls")) != CM_OK)
		return err;
	if ((err = cm_probe_run(&p, ctx, fd, &po)) != CM_OK)
		goto out;
	r->time_ms = p.time_ms;
	r->actual = cm_probe_outcome(&p);
	r->status = p.checked ? p.status : 0;
	r->side = r->actual == CM_OUTCOME_OK ? CM_SIDE_NONE :
	    p.verdict == CM_PROBE_REFUSED ? CM_SIDE_CLIENT : CM_SIDE_SERVER;
	snprintf(buf, sizeof(buf), "server %s: %s%s",
	    cm_probe_verdict_name(p.verdict), p.how,
	    p.requested ? (p.sent_cert ? "; it asked for a client certificate "
	    "and got one" : "; it asked for a client certificate, none was "
	    "sent") : "");
	r->version = p.version[0] ? cm__strdup(p.version) : NULL;
	r->cipher = p.cipher[0] ? cm__strdup(p.cipher) : NULL;
	r->group = p.group[0] ? cm__strdup(p.group) : NULL;
	r->detail = cm__strdup(buf);
	if ((p.version[0] && r->version == NULL) || (p.cipher[0] &&
	    r->cipher == NULL) || (p.group[0] && r->group == NULL) ||
	    r->detail == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	cm__result_match(r, sc);
	*out = r;
	r = NULL;
out:
	cm_result_free(r);
	return err;
}

cm_err
cm_harness_accept(cm_result **out, cm_ctx *ctx, int fd,
    const cm_scenario *sc, const cm_harness_opts *o)
{
	return run_one_end(out, ctx, fd, sc, o, true);
}
