/*
 * certmint.h - the public interface of libcertmint.
 *
 * libcertmint runs a local certificate authority: it keeps CAs, keys and
 * every certificate it issues in one SQLite store, issues server, client
 * and peer certificates from certtool-syntax profiles, and lists them.
 *
 * Conventions (see STYLE.md):
 *  - Every fallible call returns a cm_err: CM_OK (0) or a negative CM_E_*
 *    code.  The one-line message naming the object at fault is kept on the
 *    cm_ctx and read with cm_ctx_error().
 *  - Out parameters come first; *out is written only on success and is the
 *    caller's, to be released with the matching NULL-safe cm_*_free().
 *  - Option structs carry a version and have an _INIT macro.
 *  - No globals: separate contexts may be used from separate threads; one
 *    context and the objects made from it are used by one thread at a time.
 *  - The library never prints and never exits.
 */
#ifndef CERTMINT_H
#define CERTMINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes.  They are ABI: append only. */
typedef int cm_err;
#define CM_OK 0
#define CM_E_INVALID -1     /* bad input: name, template, file content */
#define CM_E_NOMEM -2       /* out of memory */
#define CM_E_IO -3          /* file system: unwritable directory, disk full */
#define CM_E_EXISTS -4      /* output file or object exists already */
#define CM_E_NOTFOUND -5    /* no such CA, certificate or profile */
#define CM_E_AMBIGUOUS -6   /* a name or serial prefix matches several */
#define CM_E_CONSTRAINT -7  /* name outside the CA's name constraints */
#define CM_E_STORE -8       /* store unusable or corrupt */
#define CM_E_STORE_NEWER -9 /* store schema newer than this library */
#define CM_E_LOCKED -10     /* store locked by another writer */
#define CM_E_CRYPTO -11     /* key generation, signing, parsing failed */
#define CM_E_PASSPHRASE -12 /* passphrase missing or wrong */
#define CM_E_TLS -13        /* TLS engine failure */

/* The message of the last failure on ctx ("" when none). */
typedef struct cm_ctx cm_ctx;

/* A short constant name of a code ("CM_E_INVALID"). */
const char *cm_strerror(cm_err code);

/*
 * Creates a context: the clock, the passphrase callback and the last error.
 * [out] out: the new context, freed with cm_ctx_free().
 * Returns CM_OK or CM_E_NOMEM / CM_E_CRYPTO (GnuTLS could not start).
 */
cm_err cm_ctx_new(cm_ctx **out);
void cm_ctx_free(cm_ctx *ctx);

/* The one-line message of the last failure; valid until the next call. */
const char *cm_ctx_error(const cm_ctx *ctx);

/*
 * Pins the clock: every "now" of the library becomes t (0 unpins).  Used by
 * golden tests and by --at.
 */
void cm_ctx_set_time(cm_ctx *ctx, time_t t);
time_t cm_ctx_now(const cm_ctx *ctx);

/*
 * Asked for a passphrase when an encrypted key must be opened.  what names
 * the object ("CA 'dev'").  Writes a NUL-terminated passphrase into buf of
 * size len and returns CM_OK, or returns CM_E_PASSPHRASE when none can be
 * had.  The library wipes buf after use.
 */
typedef cm_err (*cm_passphrase_fn)(char *buf, size_t len, const char *what,
    void *arg);
void cm_ctx_set_passphrase_fn(cm_ctx *ctx, cm_passphrase_fn fn, void *arg);

/*
 * Progress of long work (batch issuance): done of total.  Called from the
 * thread that called the library.
 */
typedef void (*cm_progress_fn)(size_t done, size_t total, void *arg);
void cm_ctx_set_progress_fn(cm_ctx *ctx, cm_progress_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Key types */

typedef enum cm_key_type {
	CM_KEY_DEFAULT = 0, /* the profile's or ec-p256 */
	CM_KEY_EC_P256,
	CM_KEY_EC_P384,
	CM_KEY_EC_P521,
	CM_KEY_ED25519,
	CM_KEY_ED448,
	CM_KEY_RSA_2048,
	CM_KEY_RSA_3072,
	CM_KEY_RSA_4096
} cm_key_type;

/* "ec-p256" -> CM_KEY_EC_P256.  CM_E_INVALID for an unknown name. */
cm_err cm_key_type_parse(cm_key_type *out, cm_ctx *ctx, const char *name);
/* CM_KEY_EC_P256 -> "ec-p256"; NULL for an unknown value. */
const char *cm_key_type_name(cm_key_type type);

/* ------------------------------------------------------------------ */
/* Store */

typedef struct cm_store cm_store;

#define CM_STORE_CREATE 0x1   /* create the file (and its folder) if absent */
#define CM_STORE_READONLY 0x2 /* never write: listing, showing */

/*
 * The store path the CLI uses when none is given: $CERTMINT_STORE, else
 * $XDG_DATA_HOME/certmint/certmint.db, else
 * $HOME/.local/share/certmint/certmint.db.
 * [out] buf: the path, NUL-terminated.  CM_E_INVALID when it does not fit
 * or neither HOME nor XDG_DATA_HOME is set.
 */
cm_err cm_store_default_path(char *buf, size_t len, cm_ctx *ctx);

/*
 * Opens (and with CM_STORE_CREATE creates: folder 0700, file 0600) the
 * store at path and brings its schema up to date.  A store whose schema is
 * newer than this library is refused with CM_E_STORE_NEWER and never
 * written.  A store held by another writer past the busy timeout gives
 * CM_E_LOCKED.  The store keeps ctx; ctx must outlive it.
 */
cm_err cm_store_open(cm_store **out, cm_ctx *ctx, const char *path,
    unsigned flags);
void cm_store_close(cm_store *st);

/* The schema version this library writes (PRAGMA user_version). */
int cm_store_schema_latest(void);
/* The folder holding the store (for user profiles in <dir>/profiles/). */
const char *cm_store_dir(const cm_store *st);
/* How long a writer waits for a lock, in milliseconds (default 5000). */
void cm_store_set_busy_timeout(cm_store *st, int ms);

/* ------------------------------------------------------------------ */
/* Certificate authorities */

typedef struct cm_ca_info {
	char *name;
	char *parent;      /* NULL for a root */
	char *subject;     /* RFC 4514 DN */
	char *serial;      /* lower-case hex */
	char *key_type;
	char *fingerprint; /* SHA-256, lower-case hex */
	time_t not_before;
	time_t not_after;
	bool encrypted;    /* key encrypted with a passphrase */
	char **permitted;  /* name constraints, as given to --permit */
	size_t npermitted;
	int path_len;      /* -1: unlimited */
	size_t issued;     /* certificates in the inventory */
	char *pem;         /* the CA certificate */
} cm_ca_info;

void cm_ca_info_free(cm_ca_info *ca);
void cm_ca_info_list_free(cm_ca_info **list, size_t n);

#define CM_CA_INIT_OPTS_VERSION 1
typedef struct cm_ca_init_opts {
	unsigned version;
	const char *name;            /* NULL: "certmint dev CA" */
	cm_key_type key_type;        /* CM_KEY_DEFAULT: ec-p256 */
	unsigned days;               /* 0: 3650 */
	const char *const *permit;   /* name constraints: ".test", "10.0.0.0/8",
	                                "@example.com"; NULL when none */
	size_t npermit;
	const char *passphrase;      /* NULL or "": key stored unencrypted */
	const char *profile;         /* NULL: "root-ca" */
} cm_ca_init_opts;
#define CM_CA_INIT_OPTS_INIT { CM_CA_INIT_OPTS_VERSION, NULL, \
	CM_KEY_DEFAULT, 0, NULL, 0, NULL, NULL }

/*
 * Creates a self-signed root CA in the store, in one transaction.
 * [out] out: the new CA (may be NULL if not wanted).
 * Returns CM_E_EXISTS when a CA of that name exists, CM_E_INVALID for a bad
 * --permit entry, store and crypto codes otherwise.
 */
cm_err cm_ca_init(cm_ca_info **out, cm_store *st, const cm_ca_init_opts *o);

/* All CAs, oldest first. */
cm_err cm_ca_list(cm_ca_info ***out, size_t *n, cm_store *st);

/*
 * One CA by name; with name NULL, the only CA (CM_E_AMBIGUOUS when there
 * are several, CM_E_NOTFOUND when there is none).
 */
cm_err cm_ca_get(cm_ca_info **out, cm_store *st, const char *name);

/* ------------------------------------------------------------------ */
/* Names and profiles */

typedef enum cm_name_type {
	CM_NAME_DNS = 1,
	CM_NAME_WILDCARD,
	CM_NAME_IPV4,
	CM_NAME_IPV6,
	CM_NAME_EMAIL,
	CM_NAME_URI
} cm_name_type;

/*
 * Types a name as given on the command line: "*.app.test" is a wildcard,
 * "::1" IPv6, "a@b.test" an email, "spiffe://x/y" a URI, else a DNS name,
 * which must be a valid hostname (LDH labels, 1-63 octets, at most 253).
 * CM_E_INVALID names the bad name and why.
 */
cm_err cm_name_classify(cm_name_type *out, cm_ctx *ctx, const char *name);
const char *cm_name_type_label(cm_name_type t); /* "dns", "ip", ... */

typedef struct cm_profile cm_profile;

/*
 * Loads a profile by name or path: a value containing '/' or ending in
 * ".tmpl" is a file; otherwise <store dir>/profiles/NAME.tmpl when it
 * exists (store may be NULL), else a built-in profile (server, client,
 * peer, root-ca, intermediate-ca, ocsp-signer).  The parser is strict: an
 * unknown key or a bad value is CM_E_INVALID naming file and line.
 */
cm_err cm_profile_load(cm_profile **out, cm_ctx *ctx, const cm_store *st,
    const char *name_or_path);
/* Parses template text; origin names it in messages. */
cm_err cm_profile_parse(cm_profile **out, cm_ctx *ctx, const char *origin,
    const char *text, size_t len);
void cm_profile_free(cm_profile *p);
const char *cm_profile_name(const cm_profile *p);
/* NULL-terminated list of built-in profile names. */
const char *const *cm_profile_builtin_names(void);

/* ------------------------------------------------------------------ */
/* Certificates */

typedef struct cm_cert_info {
	char *serial;       /* lower-case hex */
	char *ca;           /* issuing CA's name */
	char *subject;      /* RFC 4514 DN */
	char **names;       /* SANs in the order given; names[0] is the CN */
	size_t nnames;
	char *profile;
	char *key_type;
	char *fingerprint;  /* SHA-256, lower-case hex */
	time_t not_before;
	time_t not_after;
	char *status;       /* "valid", "expired", "revoked", "superseded" */
	time_t revoked_at;  /* 0 unless revoked */
	int revocation_reason; /* cm_revoke_reason; -1 unless revoked */
	char *pem;          /* the certificate */
	char *cert_path;    /* files written by this call, or NULL */
	char *key_path;
	char *chain_path;
} cm_cert_info;

void cm_cert_info_free(cm_cert_info *c);
void cm_cert_info_list_free(cm_cert_info **list, size_t n);

#define CM_ISSUE_OPTS_VERSION 1
typedef struct cm_issue_opts {
	unsigned version;
	const char *profile;       /* name or file; NULL: "server" */
	const char *ca;            /* NULL: the only CA */
	const char *const *names;  /* first is the CN */
	size_t nnames;
	cm_key_type key_type;      /* CM_KEY_DEFAULT: ec-p256 */
	unsigned days;             /* 0: the profile's, else 397 */
	const char *cert_path;     /* NULL: no file (batch chooses its own) */
	const char *key_path;
	const char *chain_path;    /* issuers up to, not including, the root */
	bool force;                /* overwrite existing files */
	bool discard_key;          /* do not keep the key in the store (it is
	                              kept by default, encrypted when the CA
	                              key is, so export can rebuild bundles) */
} cm_issue_opts;
#define CM_ISSUE_OPTS_INIT { CM_ISSUE_OPTS_VERSION, NULL, NULL, NULL, 0, \
	CM_KEY_DEFAULT, 0, NULL, NULL, NULL, false, false }

/*
 * Issues one certificate with a fresh key: checks the names against the
 * CA's constraints, signs, records the certificate and an event, and
 * writes the files (key 0600; temp file + rename), all or nothing.
 * Returns CM_E_INVALID (bad name or profile), CM_E_CONSTRAINT, CM_E_EXISTS
 * (a file exists and !force), CM_E_IO (unwritable folder, disk full),
 * CM_E_NOTFOUND / CM_E_AMBIGUOUS (CA), CM_E_PASSPHRASE, store codes.
 */
cm_err cm_issue(cm_cert_info **out, cm_store *st, const cm_issue_opts *o);

/*
 * Issues n certificates in one transaction, generating keys and signing on
 * threads threads (0: one per core).  Each request's cert_path and
 * key_path must be set.  On any failure nothing is kept: no row, no file;
 * the message names the failing request.
 * [out] out: n results in request order (may be NULL).
 */
cm_err cm_issue_batch(cm_cert_info ***out, cm_store *st,
    const cm_issue_opts *reqs, size_t n, unsigned threads);

/*
 * Reads a batch file and issues its requests with cm_issue_batch().  One
 * request per line: a profile then the names ("server www.test 10.0.0.1");
 * '#' starts a comment.  Files go to outdir as <stem>.crt and <stem>.key
 * (see cm_name_file_stem); defaults supplies ca, key_type, days and force.
 * CM_E_INVALID names the file and line of a bad request.
 */
cm_err cm_issue_batch_file(cm_cert_info ***out, size_t *n, cm_store *st,
    const char *path, const char *outdir, const cm_issue_opts *defaults,
    unsigned threads);

/*
 * A file name stem for a certificate's first name: "*.app.test" becomes
 * "_wildcard.app.test", "::1" becomes "__1".  CM_E_INVALID if it does not
 * fit in len.
 */
cm_err cm_name_file_stem(char *buf, size_t len, cm_ctx *ctx, const char *name);

#define CM_LIST_FILTER_VERSION 1
typedef struct cm_list_filter {
	unsigned version;
	const char *status;  /* "valid", "expired", "revoked", ...; NULL: all */
	const char *ca;      /* NULL: all CAs */
	const char *name;    /* a name among the SANs; NULL: any */
	time_t expiring;     /* >0: valid and expiring within this many s */
} cm_list_filter;
#define CM_LIST_FILTER_INIT { CM_LIST_FILTER_VERSION, NULL, NULL, NULL, 0 }

/* Certificates matching filter (NULL: all), oldest first. */
cm_err cm_cert_list(cm_cert_info ***out, size_t *n, cm_store *st,
    const cm_list_filter *filter);

/*
 * One certificate by serial (hex, case and colons ignored; a unique prefix
 * of at least 4 digits will do) or by first name (CN).  When several
 * certificates carry the name (renewals), the newest one still valid is
 * chosen, else the newest.  CM_E_AMBIGUOUS for a serial prefix that
 * matches several, CM_E_NOTFOUND when nothing matches.
 */
cm_err cm_cert_find(cm_cert_info **out, cm_store *st, const char *ref);

/* RFC 5280 5.3.1 CRLReason codes (7 is unused). */
typedef enum cm_revoke_reason {
	CM_REASON_UNSPECIFIED = 0,
	CM_REASON_KEY_COMPROMISE = 1,
	CM_REASON_CA_COMPROMISE = 2,
	CM_REASON_AFFILIATION_CHANGED = 3,
	CM_REASON_SUPERSEDED = 4,
	CM_REASON_CESSATION_OF_OPERATION = 5,
	CM_REASON_CERTIFICATE_HOLD = 6,
	CM_REASON_REMOVE_FROM_CRL = 8,
	CM_REASON_PRIVILEGE_WITHDRAWN = 9,
	CM_REASON_AA_COMPROMISE = 10
} cm_revoke_reason;

/* "keyCompromise" -> CM_REASON_KEY_COMPROMISE; CM_E_INVALID if unknown. */
cm_err cm_revoke_reason_parse(cm_revoke_reason *out, cm_ctx *ctx,
    const char *name);
const char *cm_revoke_reason_name(cm_revoke_reason r);

/*
 * Revokes a certificate (see cm_cert_find for ref) as of time at (0: now),
 * records an event, in one transaction.  A revoked certificate stays in the
 * inventory with status "revoked".  CM_E_INVALID when it is already
 * revoked.
 * [out] out: the certificate after revocation (may be NULL).
 */
cm_err cm_cert_revoke(cm_cert_info **out, cm_store *st, const char *ref,
    cm_revoke_reason reason, time_t at);

/* ------------------------------------------------------------------ */
/* Outcome classes of verification and of the TLS harness.  The names are
 * a contract: reports, --expect and scenario files use them. */

typedef enum cm_outcome {
	CM_OUTCOME_OK = 0,
	CM_OUTCOME_UNTRUSTED,
	CM_OUTCOME_HOSTNAME,
	CM_OUTCOME_EXPIRED,
	CM_OUTCOME_NOT_YET_VALID,
	CM_OUTCOME_REVOKED,
	CM_OUTCOME_PURPOSE,
	CM_OUTCOME_NAME_CONSTRAINTS,
	CM_OUTCOME_NO_CLIENT_CERT,
	CM_OUTCOME_CLIENT_UNTRUSTED,
	CM_OUTCOME_CLIENT_EXPIRED,
	CM_OUTCOME_CLIENT_PURPOSE,
	CM_OUTCOME_PROTOCOL,
	CM_OUTCOME_ERROR
} cm_outcome;

/* "not-yet-valid" for CM_OUTCOME_NOT_YET_VALID; NULL if out of range. */
const char *cm_outcome_name(cm_outcome o);
/* The reverse; CM_E_INVALID listing the classes for an unknown name. */
cm_err cm_outcome_parse(cm_outcome *out, cm_ctx *ctx, const char *name);

/* ------------------------------------------------------------------ */
/* Revocation: CRLs and OCSP (crl.c, ocsp.c, ocsp_http.c) */

/*
 * Sets the URLs a CA places in every certificate it issues from now on:
 * a CRL distribution point (RFC 5280 4.2.1.13) and an OCSP responder in
 * the authority information access (RFC 5280 4.2.2.1).  NULL leaves a URL
 * as it is, "" removes it.  A URL must start with http:// (or https://
 * for the CRL).  CM_E_INVALID for a bad URL, CM_E_NOTFOUND for the CA.
 */
cm_err cm_ca_set_urls(cm_store *st, const char *ca, const char *crl_url,
    const char *ocsp_url);
/* The URLs of a CA; [out] NULL when unset, else the caller's (free()). */
cm_err cm_ca_get_urls(char **crl_url, char **ocsp_url, cm_store *st,
    const char *ca);

#define CM_CRL_OPTS_VERSION 1
typedef struct cm_crl_opts {
	unsigned version;
	const char *ca;           /* NULL: the only CA */
	bool delta;               /* a delta CRL (RFC 5280 5.2.4) on the last
	                             complete CRL: revocations since then */
	long long next_update;    /* seconds from thisUpdate; 0: 7 days */
	bool pem;                 /* data as PEM "X509 CRL", else DER */
} cm_crl_opts;
#define CM_CRL_OPTS_INIT { CM_CRL_OPTS_VERSION, NULL, false, 0, false }

typedef struct cm_crl {
	char *ca;
	long long number;         /* cRLNumber */
	long long base;           /* deltaCRLIndicator; 0 for a complete CRL */
	size_t entries;           /* revoked certificates listed */
	time_t this_update;
	time_t next_update;
	unsigned char *data;      /* DER or PEM, per cm_crl_opts.pem */
	size_t len;
} cm_crl;
void cm_crl_free(cm_crl *crl);

/*
 * Builds, signs with the CA key and records a CRL: every certificate of
 * the CA with status "revoked" (entry reasonCode and, for key compromise,
 * invalidityDate), the cRLNumber (one more than the CA's last) and the
 * authorityKeyIdentifier; a delta CRL also carries deltaCRLIndicator.
 * Returns CM_E_NOTFOUND / CM_E_AMBIGUOUS (CA), CM_E_INVALID (a delta
 * without a complete CRL), CM_E_PASSPHRASE, store and crypto codes.
 */
cm_err cm_crl_generate(cm_crl **out, cm_store *st, const cm_crl_opts *o);

typedef struct cm_ocsp_responder cm_ocsp_responder;

#define CM_OCSP_OPTS_VERSION 1
typedef struct cm_ocsp_opts {
	unsigned version;
	const char *const *cas;   /* CAs to answer for; NULL: every CA */
	size_t ncas;
	const char *signer;       /* a certificate (serial or name) of the
	                             ocsp-signer profile whose key is kept in
	                             the store: delegated signing (RFC 6960
	                             4.2.2.2); NULL: each CA signs itself */
	unsigned validity;        /* seconds from thisUpdate to nextUpdate;
	                             0: 1 day.  Kept responses are signed
	                             again past half of it. */
	size_t presign;           /* responses signed at start per CA (newest
	                             certificates first); 0: 10000 */
} cm_ocsp_opts;
#define CM_OCSP_OPTS_INIT { CM_OCSP_OPTS_VERSION, NULL, 0, NULL, 0, 0 }

/*
 * An RFC 6960 responder over the store: loads the CAs (and the signer)
 * with their keys and signs a response for each current certificate, so
 * that a request costs a lookup.  A revocation committed by another
 * process shows in the next response (the store's data version is checked
 * per request).  The responder keeps st; st must outlive it; one thread
 * at a time.
 */
cm_err cm_ocsp_responder_new(cm_ocsp_responder **out, cm_store *st,
    const cm_ocsp_opts *o);
void cm_ocsp_responder_free(cm_ocsp_responder *r);

/*
 * Answers one DER OCSPRequest.  Bad input is not an error: the answer is
 * then malformedRequest, unauthorized (an issuer not served) or an
 * "unknown" status.  [out] out: the DER OCSPResponse (free()).  Fails only
 * for lack of memory or a signing failure (*out is then internalError
 * when it could be made).
 */
cm_err cm_ocsp_respond(unsigned char **out, size_t *len,
    cm_ocsp_responder *r, const unsigned char *req, size_t reqlen);

/*
 * The current response for one issued certificate (see cm_cert_find for
 * ref), e.g. to staple.  [out] out: DER (free()).
 */
cm_err cm_ocsp_response_for(unsigned char **out, size_t *len,
    cm_ocsp_responder *r, const char *ref);

#define CM_OCSP_SERVE_OPTS_VERSION 1
typedef struct cm_ocsp_serve_opts {
	unsigned version;
	const char *listen;       /* "127.0.0.1:8080", "[::1]:0"; NULL:
	                             127.0.0.1:8080; port 0: any free port */
	unsigned long count;      /* stop after this many requests; 0: never */
	unsigned timeout;         /* stop after this many seconds; 0: never */
	volatile int *stop;       /* stop when *stop becomes non-zero (set by
	                             a signal handler); may be NULL */
	void (*ready)(const char *host, unsigned port, void *arg);
	void *ready_arg;          /* ready is called once listening */
} cm_ocsp_serve_opts;
#define CM_OCSP_SERVE_OPTS_INIT { CM_OCSP_SERVE_OPTS_VERSION, NULL, 0, 0, \
	NULL, NULL, NULL }

/*
 * Serves r over HTTP (RFC 6960 A.1: GET /<url-encoded base64> and POST
 * application/ocsp-request) on libmicrohttpd until count, timeout or
 * *stop.  Request bodies are bounded (64 KiB), idle connections time out
 * after 10 s.  Blocks; r is used by the server's thread meanwhile.
 */
cm_err cm_ocsp_serve(cm_ocsp_responder *r, const cm_ocsp_serve_opts *o);

#ifdef __cplusplus
}
#endif
#endif /* CERTMINT_H */
