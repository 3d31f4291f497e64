/*
 * ocsp_http.c - the OCSP responder over HTTP (RFC 6960 appendix A.1) on
 * libmicrohttpd: GET /<url-encoded base64 request> and POST with an
 * application/ocsp-request body.  One server thread answers; the calling
 * thread waits for the stop condition.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "ocsp.h"

#define MAX_BODY 65536
#define MAX_URL 2048
#define CONN_TIMEOUT 10u
#define CONN_LIMIT 1024u
/*
 * Per connection: the request line and headers (a GET URL up to MAX_URL:
 * RFC 6960 A.1 keeps GET for requests under 255 octets; larger ones are
 * POSTed) and the response headers.  libmicrohttpd zeroes the pool between
 * requests on a kept-alive connection, so it is no bigger than that.
 */
#define POOL (MAX_URL + 2048)

typedef struct server {
	cm_ocsp_responder *r;
	unsigned long served;       /* completed requests (atomic) */
	cm_err last_err;
	char last_msg[CM_ERRBUF];
} server;

typedef struct upload {
	unsigned char *p;
	size_t len;
	bool too_big;
} upload;

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

static mhd_result
reply(struct MHD_Connection *conn, unsigned status, const unsigned char *p,
    size_t len, const char *type)
{
	struct MHD_Response *resp;
	mhd_result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static mhd_result
answer(server *sv, struct MHD_Connection *conn, const unsigned char *req,
    size_t len)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	mhd_result ret;
	cm_err err;

	err = cm_ocsp_respond(&out, &outlen, sv->r, req, len);
	if (err != CM_OK) {
		sv->last_err = err;
		snprintf(sv->last_msg, sizeof(sv->last_msg), "%s",
		    cm_ctx_error(sv->r->ctx));
	}
	if (out == NULL)
		return MHD_NO;
	ret = reply(conn, MHD_HTTP_OK, out, outlen,
	    "application/ocsp-response");
	free(out);
	return ret;
}

/* RFC 6960 A.1.1: the path is the url-encoded base64 of the request (MHD
 * has undone the %-escapes).  A prefix path before it is skipped. */
static mhd_result
answer_get(server *sv, struct MHD_Connection *conn, const char *url)
{
	static const unsigned char malformed[] = { 0x30, 0x03, 0x0a, 0x01, 1 };
	gnutls_datum_t in, der = { NULL, 0 };
	const char *p = url;
	mhd_result ret;

	if (strlen(url) > MAX_URL)
		return reply(conn, MHD_HTTP_URI_TOO_LONG, (const unsigned char *)
		    "", 0, "text/plain");
	while (p != NULL && *p == '/') {
		p++;
		in.data = (unsigned char *)(uintptr_t)p;
		in.size = (unsigned)strlen(p);
		if (in.size > 0 && gnutls_base64_decode2(&in, &der) >= 0)
			break;
		der.data = NULL;
		p = strchr(p, '/');
	}
	if (der.data == NULL) {
		sv->r->requests++;
		sv->r->malformed++;
		return reply(conn, MHD_HTTP_OK, malformed, sizeof(malformed),
		    "application/ocsp-response");
	}
	ret = answer(sv, conn, der.data, der.size);
	gnutls_free(der.data);
	return ret;
}

static mhd_result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **con_cls)
{
	server *sv = cls;
	upload *u = *con_cls;
	unsigned char *np;

	(void)version;
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		return answer_get(sv, conn, url);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    (const unsigned char *)"GET or POST\n", 12, "text/plain");
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (!u->too_big && u->len + *data_size <= MAX_BODY) {
			np = realloc(u->p, u->len + *data_size);
			if (np == NULL)
				return MHD_NO;
			u->p = np;
			memcpy(u->p + u->len, data, *data_size);
			u->len += *data_size;
		} else {
			u->too_big = true;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return reply(conn, 413,
		    (const unsigned char *)"request too large\n", 18,
		    "text/plain");
	return answer(sv, conn, u->p, u->len);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	server *sv = cls;
	upload *u = *con_cls;

	(void)conn;
	if (u != NULL) {
		free(u->p);
		free(u);
		*con_cls = NULL;
	}
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		__atomic_add_fetch(&sv->served, 1, __ATOMIC_SEQ_CST);
}

static cm_err
parse_listen(struct sockaddr_storage *ss, char *host, size_t hostlen,
    cm_ctx *ctx, const char *listen)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	const char *colon, *hs, *he;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (listen[0] == '[') {
		hs = listen + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		hs = listen;
		if ((colon = strrchr(listen, ':')) == NULL)
			goto bad;
		he = colon;
	}
	if ((size_t)(he - hs) >= hostlen || he == hs)
		goto bad;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port < 0 ||
	    port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
	} else {
		goto bad;
	}
	return CM_OK;
bad:
	return cm__fail(ctx, CM_E_INVALID, "listen address '%s': give "
	    "IP:PORT, e.g. 127.0.0.1:8080 or [::1]:8080", listen);
}

cm_err
cm_ocsp_serve(cm_ocsp_responder *r, const cm_ocsp_serve_opts *o)
{
	cm_ocsp_serve_opts def = CM_OCSP_SERVE_OPTS_INIT;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	server sv;
	char host[64];
	double deadline;
	unsigned flags;
	cm_err err;

	memset(&sv, 0, sizeof(sv));
	sv.r = r;
	if (o == NULL)
		o = &def;
	if (o->version != CM_OCSP_SERVE_OPTS_VERSION)
		return cm__fail(r->ctx, CM_E_INVALID, "ocsp serve: options "
		    "version %u is unknown", o->version);
	if ((err = parse_listen(&ss, host, sizeof(host), r->ctx,
	    o->listen ? o->listen : "127.0.0.1:8080")) != CM_OK)
		return err;
	/* Signed before the first request comes. */
	if ((err = cm__ocsp_presign(r, NULL)) != CM_OK)
		return err;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &sv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, &sv,
	    MHD_OPTION_END);
	if (d == NULL)
		return cm__fail(r->ctx, CM_E_IO, "ocsp serve: cannot listen on "
		    "%s (address in use or not local?)",
		    o->listen ? o->listen : "127.0.0.1:8080");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (o->ready != NULL)
		o->ready(host, info ? info->port : 0, o->ready_arg);
	/* The monotonic clock in ms: time() would stop up to 1 s early. */
	deadline = o->timeout ? cm__now_ms() + o->timeout * 1000.0 : 0;
	for (;;) {
		if (o->stop != NULL && *o->stop)
			break;
		if (o->count && __atomic_load_n(&sv.served,
		    __ATOMIC_SEQ_CST) >= o->count)
			break;
		if (deadline > 0 && cm__now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(d);
	/* A failed signature was answered with internalError; say so. */
	if (sv.last_err != CM_OK)
		return cm__fail(r->ctx, sv.last_err, "ocsp serve: %s",
		    sv.last_msg);
	return CM_OK;
}
