/* harness.h - private declarations of the TLS harness (harness.c,
 * peer.c, matrix.c, scenario.c, report.c). */
#ifndef CM_HARNESS_H
#define CM_HARNESS_H

#include "internal.h"

/* One GnuTLS end of a scenario and what happened to it. */
typedef struct cm__hside {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	bool is_server;
	bool hs_done;        /* handshake completed */
	bool failed;         /* a fatal error happened (err) */
	bool data_done;      /* its part of the data exchange completed */
	bool sent;           /* request sent (client) / answer sent (server) */
	bool got;            /* data received */
	bool http;           /* server: answer HTTP */
	int err;             /* first fatal GnuTLS error */
	int alert;           /* alert received, -1: none */
	unsigned status;     /* verification status of the peer's cert */
	bool have_status;
	bool sent_cert;      /* client: had a certificate to send */
	/* typed data for gnutls_session_set_verify_cert2, kept alive */
	gnutls_typed_vdata_st vdata[2];
	unsigned char ip[16];
	char *host;
	/* server: the OCSP response it staples (the scenario's), or NULL */
	const unsigned char *staple;
	size_t staple_len;
} cm__hside;

/* Sets up the client (is_server false) or server end of sc. */
cm_err cm__hside_init(cm__hside *h, cm_ctx *ctx, const cm_scenario *sc,
    bool is_server, bool nonblock);
void cm__hside_clear(cm__hside *h);
/* Blocking handshake and data exchange on a socket, bounded by ms. */
void cm__hside_run_fd(cm__hside *h, int fd, unsigned ms);
/*
 * The result from one or both ends (NULL for an end run by a real peer).
 * Fills class, side, status, version, cipher, group, sigalg, identity.
 */
cm_err cm__result_classify(cm_result *r, cm_ctx *ctx, cm__hside *c,
    cm__hside *s, const cm_scenario *sc);
cm_err cm__result_new(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const char *peer);

/* A listening socket on 127.0.0.1 with an ephemeral port. */
cm_err cm__listen_loopback(int *fd, int *port, cm_ctx *ctx);
/* Accepts one connection within ms, with socket timeouts of ms. */
cm_err cm__accept_timeout(int *out, cm_ctx *ctx, int lfd, unsigned ms);
void cm__sock_timeouts(int fd, unsigned ms);

/* Runs sc with one side replaced by a real tool (peer.c). */
cm_err cm__peer_run(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o);

/* Sets r->match from r->actual and sc (expect, expect_also). */
void cm__result_match(cm_result *r, const cm_scenario *sc);

/* Outcome of an alert received from the peer (fallback for real peers);
 * from_server: the alert came from the server. */
/* The alert that names a verification failure (status bits) to the peer. */
gnutls_alert_description_t cm__alert_for_status(unsigned status);
cm_outcome cm__outcome_from_alert(int alert, bool from_server,
    bool sent_cert);

/* The current CRL of a stored CA, PEM, built in memory (not recorded). */
cm_err cm__harness_ca_crl(char **pem, cm_store *st, const char *ca);
/* A fresh OCSP response (DER) from the store for the leaf of chain_pem,
 * a certificate issued from the store. */
cm_err cm__harness_staple(unsigned char **der, size_t *len, cm_store *st,
    const char *chain_pem);
/* The leaf of pem carries TLS feature status_request (RFC 7633). */
bool cm__pem_must_staple(const char *pem);

#endif
