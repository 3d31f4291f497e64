/* app.c - the server side of "certmint test client": one connection of
 * the user's client program, judged from what the server sees. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define JUDGE_MAX_IN 16384

static const char http_answer[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "Connection: close\r\n"
    "\r\n"
    "certmint: ok\n";

const char *
cm_severity_name(cm_severity s)
{
	switch (s) {
	case CM_SEV_CRITICAL: return "critical";
	case CM_SEV_WARNING: return "warning";
	case CM_SEV_INFO: return "info";
	}
	return "?";
}

static ssize_t
judge_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	return send((int)(intptr_t)p, data, len, MSG_NOSIGNAL);
}

/* The data starts with an HTTP method and a space. */
static bool
is_http(const char *b, size_t n)
{
	static const char *const m[] = { "GET ", "HEAD ", "POST ", "PUT ",
	    "DELETE ", "OPTIONS ", "PATCH ", "CONNECT " };
	size_t i, l;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		l = strlen(m[i]);
		if (n >= l && memcmp(b, m[i], l) == 0)
			return true;
	}
	return false;
}

static void
note_alert(cm_client_verdict *v, gnutls_session_t s)
{
	gnutls_alert_description_t a = gnutls_alert_get(s);

	v->alert = (int)a;
	v->alert_name = gnutls_alert_get_name(a);
}

cm_err
cm_client_judge(cm_client_verdict *v, cm_ctx *ctx, int fd,
    const cm_scenario *sc, unsigned ms)
{
	cm__hside h;
	char *in = NULL;
	size_t len = 0;
	double deadline;
	ssize_t n;
	int ret, i;
	cm_err err;

	memset(v, 0, sizeof(*v));
	v->alert = -1;
	memset(&h, 0, sizeof(h));
	if ((err = cm__hside_init(&h, ctx, sc, true, false)) != CM_OK)
		goto out;
	if ((in = malloc(JUDGE_MAX_IN)) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	cm__sock_timeouts(fd, ms);
	gnutls_transport_set_int(h.s, fd);
	gnutls_transport_set_push_function(h.s, judge_push);
	gnutls_handshake_set_timeout(h.s, ms);
	gnutls_record_set_timeout(h.s, ms);
	deadline = cm__now_ms() + ms;
	do
		ret = gnutls_handshake(h.s);
	while (ret < 0 && !gnutls_error_is_fatal(ret) &&
	    cm__now_ms() < deadline);
	if (ret < 0) {
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			note_alert(v, h.s);
			snprintf(v->note, sizeof(v->note), "alert %s",
			    v->alert_name ? v->alert_name : "?");
		} else if (ret == GNUTLS_E_PREMATURE_TERMINATION ||
		    ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR) {
			snprintf(v->note, sizeof(v->note), "closed during the "
			    "handshake");
		} else if (ret == GNUTLS_E_DECRYPTION_FAILED) {
			/* TLS 1.3: the client's alert, under keys the
			 * server reads only after its Finished. */
			snprintf(v->note, sizeof(v->note), "aborted the "
			    "handshake (an encrypted alert)");
		} else if (ret == GNUTLS_E_TIMEDOUT || ret == GNUTLS_E_AGAIN) {
			snprintf(v->note, sizeof(v->note), "no handshake "
			    "within %u ms", ms);
		} else {
			snprintf(v->note, sizeof(v->note), "handshake failed: "
			    "%s", gnutls_strerror(ret));
		}
		goto out;
	}
	v->handshake = true;
	snprintf(v->version, sizeof(v->version), "%s",
	    gnutls_protocol_get_name(gnutls_protocol_get_version(h.s)) ?
	    gnutls_protocol_get_name(gnutls_protocol_get_version(h.s)) : "?");
	/* The client's first data or its close: under TLS 1.3 a rejection
	 * of the server's certificate can arrive only now. */
	for (i = 0; i < 1000 && len < JUDGE_MAX_IN; i++) {
		n = gnutls_record_recv(h.s, in + len, JUDGE_MAX_IN - len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
		    n == GNUTLS_E_WARNING_ALERT_RECEIVED ||
		    n == GNUTLS_E_REHANDSHAKE) {
			if (n == GNUTLS_E_WARNING_ALERT_RECEIVED &&
			    gnutls_alert_get(h.s) == GNUTLS_A_CLOSE_NOTIFY)
				break;
			if (cm__now_ms() > deadline)
				break;
			continue;
		}
		if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			note_alert(v, h.s);
			if (len == 0)
				snprintf(v->note, sizeof(v->note), "alert %s "
				    "after the handshake", v->alert_name ?
				    v->alert_name : "?");
			break;
		}
		if (n <= 0) {
			if (len == 0)
				snprintf(v->note, sizeof(v->note), "%s", n == 0 ||
				    n == GNUTLS_E_PREMATURE_TERMINATION ?
				    "closed without sending anything" :
				    n == GNUTLS_E_TIMEDOUT ? "sent nothing" :
				    gnutls_strerror((int)n));
			break;
		}
		len += (size_t)n;
		/* HTTP: the whole head; anything else: what came. */
		if (!is_http(in, len))
			break;
		if (memmem(in, len, "\r\n\r\n", 4) != NULL ||
		    memmem(in, len, "\n\n", 2) != NULL)
			break;
	}
	v->bytes = len;
	v->accepted = len > 0;
	if (len > 0) {
		if (is_http(in, len))
			gnutls_record_send(h.s, http_answer,
			    sizeof(http_answer) - 1);
		else
			gnutls_record_send(h.s, in, len);
		gnutls_bye(h.s, GNUTLS_SHUT_WR);
	}
out:
	free(in);
	cm__hside_clear(&h);
	return err;
}
