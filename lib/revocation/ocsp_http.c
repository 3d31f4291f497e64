/*
 * ocsp_http.c - the OCSP responder over HTTP (RFC 6960 appendix A.1) on
 * libmicrohttpd: GET /<url-encoded base64 request> and POST with an
 * application/ocsp-request body.  The calling thread serves (libmicrohttpd
 * in epoll mode, driven by cm_ocsp_serve()'s loop) until the stop
 * condition.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "ocsp.h"

#define MAX_BODY 65536
#define MAX_URL 2048
#define CONN_TIMEOUT 10u
/*
 * Slow clients (issue 14, item 4).  3,000 connections that each send a
 * header line every 5 s used to hold every descriptor the process had
 * (1,024) and starve real requests: libmicrohttpd's connection timeout is
 * an idle timeout, which every trickled byte resets.  What bounds them:
 *
 * - A deadline for a whole request that no trickle extends: a connection
 *   must have sent a complete request within REQUEST_DEADLINE_MS of its
 *   accept (or of the end of its previous request, when kept alive), else
 *   it is shut down.  The accept time is noted by the connection-started
 *   notification; the serving loop sweeps the connections, oldest first.
 * - Under pressure (more than 3/4 of the connection limit in use) the
 *   deadline drops to PRESSURE_DEADLINE_MS, so trickling connections are
 *   shed faster than an attacker makes them and room is always left for
 *   real ones, which on a LAN or loopback send their request within
 *   milliseconds (a kept-alive connection idle that long is shed too).
 * - A total limit (CONN_MAX, or the descriptors the process may open
 *   less CONN_RESERVE for the store and the rest) that the kernel's
 *   descriptor limit never decides for us; 'certmint ocsp serve' raises its
 *   soft descriptor limit to the hard one.
 * - A per-address limit (a quarter of the total), but only when listening
 *   on a non-loopback address.  On loopback every client is 127.0.0.1 or
 *   ::1: a per-address limit would partition nothing, and an attacker on
 *   the same host would lock real local clients out exactly when it is
 *   reached.  There the deadline and the shedding do the work.
 *
 * The server runs in the calling thread (libmicrohttpd's epoll mode driven
 * by this loop), so that the sweep, which shuts sockets down, never races
 * libmicrohttpd closing them.
 */
#define REQUEST_DEADLINE_MS 5000.0
#define PRESSURE_DEADLINE_MS 500.0
#define CONN_MAX 4096u
#define CONN_RESERVE 64u
/*
 * Per connection: the request line and headers (a GET URL up to MAX_URL:
 * RFC 6960 A.1 keeps GET for requests under 255 octets; larger ones are
 * POSTed) and the response headers.  libmicrohttpd zeroes the pool between
 * requests on a kept-alive connection, so it is no bigger than that.
 */
#define POOL (MAX_URL + 2048)

/* A connection, in the list of its server, oldest request first. */
typedef struct slot {
	struct slot *prev, *next;
	double since;               /* accept, or end of the last request */
	int fd;
	bool cut;                   /* shut down by the sweep */
} slot;

typedef struct server {
	cm_ocsp_responder *r;
	unsigned long served;       /* completed requests */
	cm_err last_err;
	char last_msg[CM_ERRBUF];
	slot *head, *tail;
	unsigned nconn, limit;
	unsigned long shed;         /* connections cut at their deadline */
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
append_slot(server *sv, slot *s)
{
	s->since = cm__now_ms();
	s->prev = sv->tail;
	s->next = NULL;
	if (sv->tail != NULL)
		sv->tail->next = s;
	else
		sv->head = s;
	sv->tail = s;
}

static void
unlink_slot(server *sv, slot *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sv->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		sv->tail = s->prev;
	s->prev = s->next = NULL;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	server *sv = cls;
	upload *u = *con_cls;
	const union MHD_ConnectionInfo *info;
	slot *s;

	if (u != NULL) {
		free(u->p);
		free(u);
		*con_cls = NULL;
	}
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	sv->served++;
	/* The next request on this connection has a deadline of its own. */
	info = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (info != NULL && (s = info->socket_context) != NULL) {
		unlink_slot(sv, s);
		append_slot(sv, s);
	}
}

static void
connection_event(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	server *sv = cls;
	const union MHD_ConnectionInfo *info;
	slot *s = *ctx;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		/* Without a slot the connection has only the idle timeout. */
		if (info == NULL || (s = calloc(1, sizeof(*s))) == NULL)
			return;
		s->fd = info->connect_fd;
		append_slot(sv, s);
		sv->nconn++;
		*ctx = s;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && s != NULL) {
		unlink_slot(sv, s);
		sv->nconn--;
		free(s);
		*ctx = NULL;
	}
}

/* Shuts down the connections past their deadline; libmicrohttpd sees the
 * end of the stream and closes them. */
static void
sweep(server *sv)
{
	double now = cm__now_ms(), limit;
	slot *s;

	limit = sv->nconn > sv->limit / 4 * 3 ? PRESSURE_DEADLINE_MS :
	    REQUEST_DEADLINE_MS;
	for (s = sv->head; s != NULL && now - s->since >= limit; s = s->next) {
		if (s->cut)
			continue;
		(void)shutdown(s->fd, SHUT_RDWR);
		s->cut = true;
		sv->shed++;
	}
}

cm_err
cm__http_parse_listen(struct sockaddr_storage *ss, char *host,
    size_t hostlen, cm_ctx *ctx, const char *listen)
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

/* The total connection limit: CONN_MAX, or what the descriptor limit
 * leaves. */
static unsigned
conn_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return CONN_MAX;
	if (rl.rlim_cur < 2 * CONN_RESERVE)
		return CONN_RESERVE;
	if (rl.rlim_cur - CONN_RESERVE < CONN_MAX)
		return (unsigned)(rl.rlim_cur - CONN_RESERVE);
	return CONN_MAX;
}

bool
cm__sockaddr_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
}

cm_err
cm_ocsp_serve(cm_ocsp_responder *r, const cm_ocsp_serve_opts *o)
{
	cm_ocsp_serve_opts def = CM_OCSP_SERVE_OPTS_INIT;
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info, *epoll;
	struct pollfd pfd;
	MHD_UNSIGNED_LONG_LONG to;
	server sv;
	int wait;
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
	if ((err = cm__http_parse_listen(&ss, host, sizeof(host), r->ctx,
	    o->listen ? o->listen : "127.0.0.1:8080")) != CM_OK)
		return err;
	/* Signed before the first request comes. */
	if ((err = cm__ocsp_presign(r, NULL)) != CM_OK)
		return err;
	sv.limit = conn_limit();
	flags = MHD_USE_EPOLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &sv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, sv.limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cm__sockaddr_is_loopback(&ss) ? 0u : sv.limit / 4,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, &sv,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_event, &sv,
	    MHD_OPTION_END);
	if (d == NULL)
		return cm__fail(r->ctx, CM_E_IO, "ocsp serve: cannot listen on "
		    "%s (address in use or not local?)",
		    o->listen ? o->listen : "127.0.0.1:8080");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	epoll = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (epoll == NULL) {
		MHD_stop_daemon(d);
		return cm__fail(r->ctx, CM_E_IO, "ocsp serve: libmicrohttpd "
		    "has no epoll");
	}
	pfd.fd = epoll->epoll_fd;
	pfd.events = POLLIN;
	if (o->ready != NULL)
		o->ready(host, info ? info->port : 0, o->ready_arg);
	/* The monotonic clock in ms: time() would stop up to 1 s early. */
	deadline = o->timeout ? cm__now_ms() + o->timeout * 1000.0 : 0;
	for (;;) {
		if (o->stop != NULL && *o->stop)
			break;
		if (o->count && sv.served >= o->count)
			break;
		if (deadline > 0 && cm__now_ms() >= deadline)
			break;
		/* Woken by a connection's or the listener's event, at the
		 * latest after 20 ms (stop, deadlines) or at libmicrohttpd's
		 * next timeout. */
		wait = 20;
		if (MHD_get_timeout(d, &to) == MHD_YES && to < (unsigned)wait)
			wait = (int)to;
		(void)poll(&pfd, 1, wait);
		MHD_run(d);
		sweep(&sv);
	}
	MHD_stop_daemon(d);
	/* A failed signature was answered with internalError; say so. */
	if (sv.last_err != CM_OK)
		return cm__fail(r->ctx, sv.last_err, "ocsp serve: %s",
		    sv.last_msg);
	return CM_OK;
}
