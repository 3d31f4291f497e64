/* online.h - private declarations of the online CA (serve.c, jws.c). */
#ifndef CM_ONLINE_H
#define CM_ONLINE_H

#include <jansson.h>

#include "internal.h"

/* base64url without padding (RFC 4648 5); decode is strict. */
bool cm__b64url_decode(unsigned char **out, size_t *len, const char *s,
    size_t slen);
char *cm__b64url_encode(const unsigned char *p, size_t len);

/* A flattened JWS (RFC 7515 7.2.2) of an ACME request. */
typedef struct cm__jws {
	json_t *hdr;              /* the protected header */
	int alg_index;
	const char *nonce, *url, *kid; /* borrowed from hdr */
	json_t *jwk;              /* borrowed from hdr, or NULL */
	unsigned char *sig;
	size_t siglen;
	char *signing_input;      /* protected "." payload, NUL-terminated */
	size_t signing_len;
	const char *payload_b64;  /* inside signing_input */
	size_t payload_b64_len;
	gnutls_pubkey_t key;      /* after cm__jwk_import */
	char thumbprint[64];      /* RFC 7638, base64url */
	char *jwk_text;           /* the key's canonical JSON */
	json_t *payload;          /* after cm__jws_verify; NULL: POST-as-GET */
	bool post_as_get;
	char ptype[32];           /* ACME error type on failure: "badNonce" */
	char detail[160];
} cm__jws;

/* Each returns 0, or -1 with ptype and detail set. */
int cm__jws_open(cm__jws *j, const char *body, size_t len);
/* inner: the inner JWS of a key change (jwk, no nonce, no kid). */
int cm__jws_open2(cm__jws *j, const char *body, size_t len, bool inner);
int cm__jwk_import(cm__jws *j, json_t *jwk);
int cm__jws_verify(cm__jws *j);
void cm__jws_clear(cm__jws *j);

/* ---- certmint serve: shared by serve.c, acme.c and validate.c ---------- */

#include <pthread.h>
#include <netinet/in.h>
#include <microhttpd.h>

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

#define MAX_BODY (64 * 1024)
#define CRL_NEXT (7 * 24 * 3600)
#define PROBLEM "application/problem+json"

typedef struct sca {
	char *name;
	char enc[600];          /* the name as a URL path segment */
	int64_t id;
	char *crl_path;         /* path of the recorded CRL URL, or NULL */
	cm__signer *sg;         /* loaded at its first CRL (a key behind a
	                           passphrase is not unwrapped per request) */
} sca;

/* An --allow entry: a DNS suffix or an address prefix. */
typedef struct allow_ent {
	const char *dns;        /* ".test" or "app.test"; NULL: an address */
	int family;
	unsigned char addr[16];
	unsigned bits;
} allow_ent;

/* A validation handed to the pool: what it needs (copied), and its
 * outcome. */
typedef struct vjob {
	struct vjob *next;
	int64_t chall, authz, order;
	char type[16];          /* http-01, dns-01, tls-alpn-01 */
	char itype[8];          /* dns, ip */
	char *name, *token, *keyauth;
	const char *fail;       /* NULL: valid */
	struct va_out {
		const char *ptype;
		char why[300];
	} v;
} vjob;

#define VA_THREADS 4
#define VA_QUEUE_MAX 4096

/* Validations run in VA_THREADS threads, so a peer that is slow to answer
 * (5 s at most) holds no other request; the serving thread hands them
 * over and applies their outcomes to the store (its connection is used
 * from that thread only).  A challenge being validated is 'processing' in
 * the store: one left so by a stop or a crash is taken up again at the
 * next start. */
typedef struct vpool {
	pthread_t th[VA_THREADS];
	size_t nth;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	vjob *todo, *todo_tail, *done;
	size_t queued;          /* waiting or running */
	bool stop, up;
	int pipe[2];            /* a byte per outcome wakes the serving loop */
	time_t swept;           /* the last look for abandoned challenges */
} vpool;

typedef struct server {
	vpool pool;
	cm_store *st;
	cm_ctx *ctx;
	const cm_serve_opts *o; /* the caller's, as a version-2 copy */
	cm_serve_opts opts;
	allow_ent *allow;
	size_t nallow;
	struct sockaddr_in dns; /* the dns-01 resolver, when set */
	bool dns_set;
	cm_ocsp_responder *ocsp;
	sca *cas;
	size_t ncas;
	char base[300];         /* https://HOST:PORT */
	unsigned long served;
	const char *up_link;    /* a Link rel="up" for the next response */
	unsigned retry_after;   /* a Retry-After for the next response */
	char next_nonce[64];    /* stored already: the next response's */
} server;

typedef struct request {
	unsigned char *body;
	size_t len;
	bool too_big;
	double t0;
} request;


/* serve.c: responses (each logs its request line) */
void cm__srv_new_nonce(server *sv, char *out, size_t len);
mhd_result cm__srv_respond(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, unsigned status,
    const void *p, size_t len, const char *type, const char *nonce_for,
    const char *location);
/* j is consumed */
mhd_result cm__srv_send_json(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, unsigned status,
    json_t *j, const char *ca, const char *location, const char *type);
/* An RFC 7807 problem document of ACME error type ("badNonce"). */
mhd_result cm__srv_problem(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, unsigned status,
    const char *ca, const char *type, const char *detail);
mhd_result cm__srv_plain(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, unsigned status,
    const char *text);
/* Frees n strings of cm__store_acme_rows and their array. */
void cm__srv_free_rows(char **v, size_t n);
sca *cm__srv_ca_named(const server *sv, const char *name, size_t len);

/* acme.c */
mhd_result cm__acme_handle(server *sv, struct MHD_Connection *conn,
    const char *method, const char *url, double t0, const request *rq);
/* RFC 8555 7.4: the names the CSR asks for (its subjectAltNames and a
 * subject CN that is a name) are exactly the order's identifiers ids;
 * false: why says which is not. */
bool cm__acme_csr_names_match(gnutls_x509_crq_t crq, cm_ctx *ctx,
    json_t *ids, char *why, size_t wlen);
/* Pending authorizations all valid: the order is ready; one invalid: the
 * order is invalid. */
void cm__acme_order_settle(server *sv, int64_t order);

/* validate.c: the validation pool */
void cm__va_pool_start(server *sv);
void cm__va_pool_stop(server *sv);
/* Outcomes handed back, into the store (the serving thread). */
void cm__va_pool_collect(server *sv);
/* Challenge row h of authorization rows z (AZ_COLS columns each) started:
 * 0, or -1 when the pool's queue is full. */
int cm__va_pool_submit(server *sv, int64_t chall, int64_t authz,
    int64_t order, char **h, char **z, const char *keyauth);
#define AZ_COLS 10

#endif
