/*
 * probe.c - one client connection to a running server, and what the
 * server did with it (test server, test connect).
 *
 * The oracle is the server's behaviour seen from the client's end: it
 * rejected the connection when it sent an alert, closed or reset it
 * before answering, or (HTTP) answered 4xx/5xx; it accepted it when it
 * answered, or kept the connection open without a word for the quiet
 * period.  Under TLS 1.3 the server's verdict on a client certificate
 * arrives after the client's handshake is done, so the probe reads
 * (bounded) after its request rather than trusting the handshake.
 *
 * A failure of the transport after the client's flight (a reset that
 * overtook the alert, a record the client cannot decrypt because the
 * server answered under other keys) is a rejection too: the verdict must
 * not depend on which of the server's packets the kernel delivered
 * first.  The alert's name is detail; under TLS 1.2 a plaintext alert
 * the TLS library never read is recovered from the raw bytes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "harness.h"

#define DEFAULT_TIMEOUT_MS 5000
#define QUIET_MS 1000
#define CAPTURE_MAX 65536

static const char ping[] = "GET / HTTP/1.0\r\n\r\n";

typedef struct probe {
	cm_ctx *ctx;
	const cm_probe_opts *o;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	int fd;
	/* the client identity, sent whatever CA names the server lists */
	gnutls_pcert_st pcert[8];
	unsigned npcert;
	gnutls_privkey_t pkey;
	bool requested;
	bool sent_cert;
	/* raw bytes received, for a plaintext alert nobody read */
	unsigned char *cap;
	size_t caplen;
	gnutls_typed_vdata_st vdata[2];
	unsigned nv;
	/* insecure_continue: the verdict on the server's certificate,
	 * taken as it arrived, the handshake going on whatever it is */
	bool checked;
	unsigned status;
	bool incomplete;
	unsigned char ip[16];
	char *host;
} probe;

static void
probe_clear(probe *p)
{
	unsigned i;

	if (p->s)
		gnutls_deinit(p->s);
	if (p->cred)
		gnutls_certificate_free_credentials(p->cred);
	for (i = 0; i < p->npcert; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->pkey)
		gnutls_privkey_deinit(p->pkey);
	free(p->cap);
	free(p->host);
	memset(p, 0, sizeof(*p));
}

/* The server asked for a certificate: send ours, even when its issuer is
 * not among the CA names the server listed (a GnuTLS client keeps such a
 * certificate to itself, and the server's verdict on it is the point). */
static int
retrieve_cb(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *algos, int nalgos,
    gnutls_pcert_st **pcert, unsigned *pcert_length,
    gnutls_privkey_t *privkey)
{
	probe *p = gnutls_session_get_ptr(s);

	(void)req_ca_rdn;
	(void)nreqs;
	(void)algos;
	(void)nalgos;
	p->requested = true;
	if (p->npcert == 0 || p->pkey == NULL) {
		*pcert = NULL;
		*pcert_length = 0;
		*privkey = NULL;
		return 0;
	}
	p->sent_cert = true;
	*pcert = p->pcert;
	*pcert_length = p->npcert;
	*privkey = p->pkey;
	return 0;
}

static ssize_t
cap_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	probe *p = ptr;
	ssize_t n = recv(p->fd, data, len, 0);

	if (n > 0 && p->cap != NULL && p->caplen < CAPTURE_MAX) {
		size_t k = (size_t)n;
		if (k > CAPTURE_MAX - p->caplen)
			k = CAPTURE_MAX - p->caplen;
		memcpy(p->cap + p->caplen, data, k);
		p->caplen += k;
	}
	return n;
}

static ssize_t
cap_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	probe *p = ptr;

	return send(p->fd, data, len, MSG_NOSIGNAL);
}

static int
cap_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	probe *p = ptr;

	return gnutls_system_recv_timeout(
	    (gnutls_transport_ptr_t)(intptr_t)p->fd, ms);
}

/*
 * A plaintext alert among the server's records (TLS 1.2 before its
 * ChangeCipherSpec, or any version before ServerHello): -1 when none.
 * Reads what is left on the socket first.
 */
static int
salvage_alert(probe *p)
{
	unsigned char buf[4096];
	size_t off = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 16; i++) {
		n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		if (p->cap != NULL && p->caplen + (size_t)n <= CAPTURE_MAX) {
			memcpy(p->cap + p->caplen, buf, (size_t)n);
			p->caplen += (size_t)n;
		}
	}
	while (p->cap != NULL && off + 5 <= p->caplen) {
		unsigned type = p->cap[off];
		size_t len = ((size_t)p->cap[off + 3] << 8) | p->cap[off + 4];
		if (p->cap[off + 1] != 3 || type < 20 || type > 23)
			return -1; /* not a record boundary: give up */
		if (type == 20 || type == 23)
			return -1; /* encrypted from here on */
		if (type == 21 && len == 2 && off + 7 <= p->caplen)
			return p->cap[off + 6];
		off += 5 + len;
	}
	return -1;
}

static cm_err
identity_load(probe *p)
{
	const cm_probe_opts *o = p->o;
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t d;
	unsigned n = sizeof(p->pcert) / sizeof(p->pcert[0]);
	cm_err err;
	int ret;

	d.data = (unsigned char *)o->client_chain;
	d.size = (unsigned)strlen(o->client_chain);
	if ((ret = gnutls_pcert_list_import_x509_raw(p->pcert, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0)
		return cm__gnutls_fail(p->ctx, ret, "probe: client "
		    "certificate");
	p->npcert = n;
	if ((err = cm__key_read_any(&xk, p->ctx, o->client_key,
	    strlen(o->client_key), "probe: client key")) != CM_OK)
		return err;
	if ((ret = gnutls_privkey_init(&p->pkey)) < 0 ||
	    (ret = gnutls_privkey_import_x509(p->pkey, xk,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		gnutls_x509_privkey_deinit(xk);
		return cm__gnutls_fail(p->ctx, ret, "probe: client key");
	}
	return CM_OK;
}

static bool needs_intermediates(probe *p, unsigned full_status);

static int
note_server_cert(gnutls_session_t s)
{
	probe *p = gnutls_session_get_ptr(s);
	unsigned st = 0;

	if (gnutls_certificate_verify_peers(s, p->vdata, p->nv, &st) < 0)
		st = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
	p->checked = true;
	p->status = st;
	p->incomplete = needs_intermediates(p, st);
	return 0;
}

static cm_err
probe_init(probe *p)
{
	const cm_probe_opts *o = p->o;
	const char *prio, *errpos = NULL;
	gnutls_datum_t d;
	cm_err err;
	int ret;

	if ((ret = gnutls_certificate_allocate_credentials(&p->cred)) < 0)
		return cm__gnutls_fail(p->ctx, ret, "probe: credentials");
	if (o->trust != NULL) {
		d.data = (unsigned char *)o->trust;
		d.size = (unsigned)strlen(o->trust);
		if ((ret = gnutls_certificate_set_x509_trust_mem(p->cred, &d,
		    GNUTLS_X509_FMT_PEM)) < 0)
			return cm__gnutls_fail(p->ctx, ret, "probe: trust "
			    "anchors");
		if (ret == 0)
			return cm__fail(p->ctx, CM_E_INVALID, "probe: the trust "
			    "anchors hold no certificate");
	}
	if (o->client_chain != NULL && o->client_key != NULL &&
	    (err = identity_load(p)) != CM_OK)
		return err;
	gnutls_certificate_set_retrieve_function2(p->cred, retrieve_cb);
	if ((ret = gnutls_init(&p->s, GNUTLS_CLIENT)) < 0)
		return cm__gnutls_fail(p->ctx, ret, "probe: session");
	gnutls_session_set_ptr(p->s, p);
	prio = o->priority ? o->priority : CM_PRIORITY_DEFAULT;
	if (gnutls_priority_set_direct(p->s, prio, &errpos) < 0)
		return cm__fail(p->ctx, CM_E_INVALID, "probe: priority '%s' is "
		    "invalid near '%s'", prio, errpos ? errpos : "");
	if ((ret = gnutls_credentials_set(p->s, GNUTLS_CRD_CERTIFICATE,
	    p->cred)) < 0)
		return cm__gnutls_fail(p->ctx, ret, "probe: credentials");
	if (o->name != NULL) {
		if (inet_pton(AF_INET, o->name, p->ip) == 1) {
			p->vdata[p->nv].type = GNUTLS_DT_IP_ADDRESS;
			p->vdata[p->nv].data = p->ip;
			p->vdata[p->nv++].size = 4;
		} else if (inet_pton(AF_INET6, o->name, p->ip) == 1) {
			p->vdata[p->nv].type = GNUTLS_DT_IP_ADDRESS;
			p->vdata[p->nv].data = p->ip;
			p->vdata[p->nv++].size = 16;
		} else {
			/* RFC 6066 3: SNI carries DNS names only. */
			if ((p->host = cm__strdup(o->name)) == NULL)
				return cm__fail(p->ctx, CM_E_NOMEM,
				    "out of memory");
			gnutls_server_name_set(p->s, GNUTLS_NAME_DNS, p->host,
			    strlen(p->host));
			p->vdata[p->nv].type = GNUTLS_DT_DNS_HOSTNAME;
			p->vdata[p->nv++].data = (unsigned char *)p->host;
		}
	}
	p->vdata[p->nv].type = GNUTLS_DT_KEY_PURPOSE_OID;
	p->vdata[p->nv++].data = (unsigned char *)(uintptr_t)
	    GNUTLS_KP_TLS_WWW_SERVER;
	if (o->trust != NULL && !o->insecure_continue)
		gnutls_session_set_verify_cert2(p->s, p->vdata, p->nv, 0);
	else if (o->trust != NULL)
		gnutls_certificate_set_verify_function(p->cred,
		    note_server_cert);
	if ((p->cap = malloc(CAPTURE_MAX)) == NULL)
		return cm__fail(p->ctx, CM_E_NOMEM, "out of memory");
	gnutls_transport_set_ptr(p->s, p);
	gnutls_transport_set_pull_function(p->s, cap_pull);
	gnutls_transport_set_push_function(p->s, cap_push);
	gnutls_transport_set_pull_timeout_function(p->s, cap_pull_timeout);
	return CM_OK;
}

static bool
self_signed(gnutls_x509_crt_t c)
{
	return gnutls_x509_crt_check_issuer(c, c) != 0;
}

/*
 * The chain the server sent verifies only with intermediates from the
 * client's trust file: a client that holds just the root would fail.
 */
static bool
needs_intermediates(probe *p, unsigned full_status)
{
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t *anchors = NULL, *chain = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t d;
	unsigned na = 0, nc = 0, i, k = 0, status = 0;
	bool out = false, extra = false;

	if (full_status != 0 || p->o->trust == NULL)
		return false;
	d.data = (unsigned char *)p->o->trust;
	d.size = (unsigned)strlen(p->o->trust);
	if (gnutls_x509_crt_list_import2(&anchors, &na, &d,
	    GNUTLS_X509_FMT_PEM, 0) < 0)
		return false;
	for (i = 0; i < na; i++) {
		if (self_signed(anchors[i]))
			anchors[k++] = anchors[i];
		else {
			gnutls_x509_crt_deinit(anchors[i]);
			extra = true;
		}
	}
	na = k;
	if (!extra || na == 0)
		goto out;
	if ((peers = gnutls_certificate_get_peers(p->s, &nc)) == NULL ||
	    nc == 0 || (chain = calloc(nc, sizeof(*chain))) == NULL)
		goto out;
	for (i = 0; i < nc; i++)
		if (gnutls_x509_crt_init(&chain[i]) < 0 ||
		    gnutls_x509_crt_import(chain[i], &peers[i],
		    GNUTLS_X509_FMT_DER) < 0)
			goto out;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		goto out;
	if (gnutls_x509_trust_list_add_cas(tl, anchors, na, 0) < 0)
		goto out;
	na = 0; /* owned by the list now */
	if (gnutls_x509_trust_list_verify_crt2(tl, chain, nc, NULL, 0, 0,
	    &status, NULL) >= 0 && (status & GNUTLS_CERT_SIGNER_NOT_FOUND))
		out = true;
out:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < na; i++)
		gnutls_x509_crt_deinit(anchors[i]);
	gnutls_free(anchors);
	if (chain != NULL) {
		for (i = 0; i < nc; i++)
			if (chain[i])
				gnutls_x509_crt_deinit(chain[i]);
		free(chain);
	}
	return out;
}

static void
copy_name(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

static void
session_facts(cm_probe_result *r, probe *p)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(p->s);

	copy_name(r->version, sizeof(r->version), gnutls_protocol_get_name(v));
	copy_name(r->cipher, sizeof(r->cipher), gnutls_ciphersuite_get(p->s));
	copy_name(r->group, sizeof(r->group),
	    gnutls_group_get_name(gnutls_group_get(p->s)));
}

/* Rejected: "alert NAME WHEN" when the alert is known, else WHEN. */
static void
rejected(cm_probe_result *r, int alert, const char *when)
{
	r->verdict = CM_PROBE_REJECTED;
	if (alert >= 0) {
		r->alert = alert;
		r->alert_name = gnutls_alert_get_name(
		    (gnutls_alert_description_t)alert);
		snprintf(r->how, sizeof(r->how), "alert %s %s",
		    r->alert_name ? r->alert_name : "?", when);
	} else
		snprintf(r->how, sizeof(r->how), "%s", when);
}

/* A handshake that did not complete. */
static void
handshake_failed(cm_probe_result *r, probe *p, int ret)
{
	int alert = -1;

	r->alert = -1;
	if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ||
	    ret == GNUTLS_E_CERTIFICATE_ERROR) {
		/* This end refused the server's certificate. */
		r->checked = true;
		r->status = gnutls_session_get_verify_cert_status(p->s);
		r->server_class = cm__outcome_from_status(r->status, false);
		gnutls_alert_send(p->s, GNUTLS_AL_FATAL,
		    cm__alert_for_status(r->status));
		r->verdict = CM_PROBE_REFUSED;
		snprintf(r->how, sizeof(r->how), "refused the server's "
		    "certificate (%s)", cm_outcome_name(r->server_class));
		return;
	}
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		alert = (int)gnutls_alert_get(p->s);
	else if (ret == GNUTLS_E_PUSH_ERROR || ret == GNUTLS_E_PULL_ERROR ||
	    ret == GNUTLS_E_PREMATURE_TERMINATION ||
	    ret == GNUTLS_E_UNEXPECTED_PACKET_LENGTH ||
	    ret == GNUTLS_E_UNEXPECTED_PACKET ||
	    ret == GNUTLS_E_DECRYPTION_FAILED)
		alert = salvage_alert(p);
	else if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET ||
	    ret == GNUTLS_E_INSUFFICIENT_CREDENTIALS ||
	    ret == GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
		/* Nothing left this end that a server could answer. */
		if (p->caplen == 0) {
			r->verdict = CM_PROBE_LOCAL;
			snprintf(r->how, sizeof(r->how), "this end cannot make "
			    "the offer: %s", gnutls_strerror(ret));
			return;
		}
	}
	if (ret == GNUTLS_E_TIMEDOUT) {
		r->verdict = CM_PROBE_REJECTED;
		snprintf(r->how, sizeof(r->how), "no handshake within the "
		    "timeout");
		return;
	}
	rejected(r, alert, "during the handshake");
	if (alert < 0)
		snprintf(r->how, sizeof(r->how), "%s during the handshake",
		    ret == GNUTLS_E_PREMATURE_TERMINATION ? "closed" :
		    ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR ?
		    "connection reset" : gnutls_strerror(ret));
}

static int
http_status_of(const char *buf, size_t len)
{
	int code = 0;
	size_t i;

	if (len < 12 || strncmp(buf, "HTTP/", 5) != 0)
		return 0;
	for (i = 5; i < len && buf[i] != ' '; i++)
		;
	if (i + 4 > len)
		return 0;
	for (i++; i < len && buf[i] >= '0' && buf[i] <= '9' && code < 1000;
	    i++)
		code = code * 10 + (buf[i] - '0');
	return code >= 100 && code <= 999 ? code : 0;
}

/* After the handshake: the request, then the server's answer. */
static void
exchange(cm_probe_result *r, probe *p, double deadline)
{
	const cm_probe_opts *o = p->o;
	char req[1200], buf[1024];
	size_t len = 0, have = 0;
	unsigned quiet;
	ssize_t n;
	int i;

	quiet = o->quiet_ms ? o->quiet_ms : QUIET_MS;
	if (o->http_path != NULL)
		len = (size_t)snprintf(req, sizeof(req), "GET %.512s HTTP/1.1"
		    "\r\nHost: %.256s\r\nUser-Agent: certmint\r\nConnection: "
		    "close\r\n\r\n", o->http_path, o->name ? o->name :
		    "localhost");
	else
		len = (size_t)snprintf(req, sizeof(req), "%s", ping);
	n = gnutls_record_send(p->s, req, len);
	if (n < 0) {
		/* Refused and hung up: its alert may still be waiting. */
		n = gnutls_record_recv(p->s, buf, sizeof(buf));
		rejected(r, n == GNUTLS_E_FATAL_ALERT_RECEIVED ?
		    (int)gnutls_alert_get(p->s) : -1,
		    n == GNUTLS_E_FATAL_ALERT_RECEIVED ? "after the handshake" :
		    "connection reset before the request");
		return;
	}
	gnutls_record_set_timeout(p->s, quiet);
	for (i = 0; i < 64; i++) {
		double left = deadline - cm__now_ms();
		if (left <= 0)
			n = GNUTLS_E_TIMEDOUT;
		else {
			gnutls_record_set_timeout(p->s, left < quiet ?
			    (unsigned)left : quiet);
			n = gnutls_record_recv(p->s, buf + have,
			    sizeof(buf) - 1 - have);
		}
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
		    n == GNUTLS_E_WARNING_ALERT_RECEIVED ||
		    n == GNUTLS_E_REHANDSHAKE)
			continue;
		if (n > 0) {
			have += (size_t)n;
			r->bytes += (size_t)n;
			if (o->http_path == NULL)
				break;
			r->http_status = http_status_of(buf, have);
			if (r->http_status != 0 || have >= sizeof(buf) - 1 ||
			    memchr(buf, '\n', have) != NULL)
				break;
			continue;
		}
		break;
	}
	if (r->bytes > 0) {
		if (o->http_path != NULL && r->http_status >= 400) {
			r->verdict = CM_PROBE_REJECTED;
			snprintf(r->how, sizeof(r->how), "HTTP %d",
			    r->http_status);
		} else if (o->http_path != NULL && r->http_status == 0) {
			r->verdict = CM_PROBE_ACCEPTED;
			snprintf(r->how, sizeof(r->how), "answered %zu bytes "
			    "(not HTTP)", r->bytes);
		} else if (o->http_path != NULL) {
			r->verdict = CM_PROBE_ACCEPTED;
			snprintf(r->how, sizeof(r->how), "HTTP %d",
			    r->http_status);
		} else if ((r->http_status = http_status_of(buf, have)) >=
		    400) {
			/* Answered, but an HTTP server saying no: the
			 * verdict may be in the status. */
			r->verdict = CM_PROBE_ACCEPTED;
			snprintf(r->how, sizeof(r->how), "answered %zu bytes: "
			    "HTTP %d (judge the status with --http)",
			    r->bytes, r->http_status);
		} else {
			r->verdict = CM_PROBE_ACCEPTED;
			snprintf(r->how, sizeof(r->how), "answered %zu bytes",
			    r->bytes);
		}
		return;
	}
	if (n == GNUTLS_E_TIMEDOUT) {
		r->verdict = CM_PROBE_ACCEPTED;
		snprintf(r->how, sizeof(r->how), "kept the connection open "
		    "without answering");
		return;
	}
	if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		rejected(r, (int)gnutls_alert_get(p->s),
		    "after the handshake");
		return;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		rejected(r, -1, "closed before answering");
		return;
	}
	rejected(r, -1, "");
	snprintf(r->how, sizeof(r->how), "%s before any answer",
	    n == GNUTLS_E_PULL_ERROR ? "connection reset" :
	    gnutls_strerror((int)n));
}

cm_err
cm_probe_run(cm_probe_result *out, cm_ctx *ctx, int fd,
    const cm_probe_opts *o)
{
	cm_probe_result r;
	probe p;
	double t0, deadline;
	unsigned ms;
	cm_err err;
	int ret = 0, i;

	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	r.alert = -1;
	r.verdict = CM_PROBE_REJECTED;
	p.ctx = ctx;
	p.o = o;
	p.fd = fd;
	ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if ((err = probe_init(&p)) != CM_OK)
		goto out;
	t0 = cm__now_ms();
	deadline = t0 + ms;
	cm__sock_timeouts(fd, ms);
	gnutls_handshake_set_timeout(p.s, ms);
	for (i = 0; i < 1000; i++) {
		ret = gnutls_handshake(p.s);
		if (ret == 0 || (gnutls_error_is_fatal(ret) &&
		    ret != GNUTLS_E_AGAIN))
			break;
		if (cm__now_ms() > deadline) {
			ret = GNUTLS_E_TIMEDOUT;
			break;
		}
	}
	r.handshake = ret == 0;
	if (ret != 0)
		handshake_failed(&r, &p, ret);
	else {
		session_facts(&r, &p);
		if (o->trust != NULL && !p.checked)
			(void)note_server_cert(p.s);
		exchange(&r, &p, deadline);
		gnutls_bye(p.s, GNUTLS_SHUT_WR);
	}
	r.requested = p.requested ||
	    (r.handshake && gnutls_certificate_client_get_request_status(p.s));
	r.sent_cert = p.sent_cert;
	if (p.checked) {
		r.checked = true;
		r.status = p.status;
		r.server_class = cm__outcome_from_status(p.status, false);
		r.incomplete_chain = p.incomplete;
	}
	r.time_ms = cm__now_ms() - t0;
	*out = r;
out:
	probe_clear(&p);
	return err;
}

cm_outcome
cm_probe_outcome(const cm_probe_result *r)
{
	if (r->checked && r->server_class != CM_OUTCOME_OK)
		return r->server_class;
	switch (r->verdict) {
	case CM_PROBE_ACCEPTED:
		return CM_OUTCOME_OK;
	case CM_PROBE_REJECTED:
		if (r->alert >= 0)
			return cm__outcome_from_alert(r->alert, true,
			    r->sent_cert);
		if (r->requested && !r->sent_cert)
			return CM_OUTCOME_NO_CLIENT_CERT;
		if (r->sent_cert)
			return CM_OUTCOME_CLIENT_UNTRUSTED;
		return CM_OUTCOME_PROTOCOL;
	default:
		return CM_OUTCOME_PROTOCOL;
	}
}

const char *
cm_probe_verdict_name(cm_probe_verdict v)
{
	switch (v) {
	case CM_PROBE_ACCEPTED: return "accepted";
	case CM_PROBE_REJECTED: return "rejected";
	case CM_PROBE_REFUSED: return "refused";
	default: return "not-offered";
	}
}

/* ---- a client identity from a CA nobody trusts ----------------------- */

static cm_err
foreign_cert(gnutls_x509_crt_t *out, cm_ctx *ctx, const char *dn,
    gnutls_x509_privkey_t key, gnutls_x509_crt_t issuer,
    gnutls_x509_privkey_t ikey, time_t now)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[16], id[64];
	size_t idlen = sizeof(id);
	const char *errp = NULL;
	bool ca = issuer == NULL;
	int ret;

	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		return cm__gnutls_fail(ctx, ret, "probe: serial");
	serial[0] &= 0x7f;
	serial[0] |= 0x40;
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn(crt, dn, &errp)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(crt, serial,
	    sizeof(serial))) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(crt, now - 86400)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(crt,
	    now + 7 * 86400)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(crt, ca, -1)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(crt, ca ?
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN :
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (!ca && (ret = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0) ||
	    (ret = gnutls_x509_crt_get_key_id(crt, 0, id, &idlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0)
		goto fail;
	idlen = sizeof(id);
	if (!ca && ((ret = gnutls_x509_crt_get_subject_key_id(issuer, id,
	    &idlen, NULL)) < 0 || (ret = gnutls_x509_crt_set_authority_key_id(
	    crt, id, idlen)) < 0))
		goto fail;
	if ((ret = gnutls_x509_crt_sign2(crt, ca ? crt : issuer,
	    ca ? key : ikey, GNUTLS_DIG_SHA256, 0)) < 0)
		goto fail;
	*out = crt;
	return CM_OK;
fail:
	gnutls_x509_crt_deinit(crt);
	return cm__gnutls_fail(ctx, ret, "probe: foreign certificate");
}

static char *
pem_dup(gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);

	if (s != NULL) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	return s;
}

cm_err
cm_probe_foreign_client(char **chain, char **key, cm_ctx *ctx,
    const char *dn)
{
	gnutls_x509_privkey_t rk = NULL, lk = NULL;
	gnutls_x509_crt_t root = NULL, leaf = NULL;
	gnutls_datum_t c = { NULL, 0 }, k = { NULL, 0 };
	time_t now = time(NULL);
	char *cs = NULL, *ks = NULL;
	cm_err err;
	int ret;

	if ((err = cm__key_generate(&rk, ctx, CM_KEY_EC_P256)) != CM_OK ||
	    (err = cm__key_generate(&lk, ctx, CM_KEY_EC_P256)) != CM_OK ||
	    (err = foreign_cert(&root, ctx, "CN=certmint foreign CA,"
	    "O=certmint probe", rk, NULL, NULL, now)) != CM_OK ||
	    (err = foreign_cert(&leaf, ctx, dn, lk, root, rk, now)) != CM_OK)
		goto out;
	if ((ret = gnutls_x509_crt_export2(leaf, GNUTLS_X509_FMT_PEM,
	    &c)) < 0) {
		err = cm__gnutls_fail(ctx, ret, "probe: foreign certificate");
		goto out;
	}
	if ((err = cm__key_export_pem(&k, ctx, lk)) != CM_OK)
		goto out;
	if ((cs = pem_dup(&c)) == NULL || (ks = pem_dup(&k)) == NULL) {
		free(cs);
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	*chain = cs;
	*key = ks;
out:
	if (k.data != NULL) {
		gnutls_memset(k.data, 0, k.size);
		gnutls_free(k.data);
	}
	gnutls_free(c.data);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_privkey_deinit(rk);
	gnutls_x509_privkey_deinit(lk);
	return err;
}
