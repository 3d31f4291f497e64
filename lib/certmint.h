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
#include <stdio.h>
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
#define CM_E_STORE_PERMS -14 /* store reachable by another user */

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
#define CM_STORE_MEMORY 0x2   /* a store in this process's memory only (path
                                 ignored): gone at cm_store_close(), never
                                 on disk (test client's ephemeral CA) */

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
 * CM_E_LOCKED.  A store another user could reach is refused, untouched,
 * with CM_E_STORE_PERMS: a store file owned by another user (than the
 * effective uid; root included) or open to its group or others, a folder
 * owned by another user or writable by its group or others (a shared 1777
 * one too); the message says what to run.  Its -wal and -shm are made
 * 0600 (and set so when found wider).  The store keeps ctx; ctx must
 * outlive it.
 *
 * A path that is a postgresql:// or postgres:// URI, or a libpq keyword
 * string ("host=... dbname=..."), opens a PostgreSQL database instead
 * (with CM_STORE_CREATE, an empty one gets the schema; without, it is
 * CM_E_NOTFOUND); one with a password in it is refused (CM_E_INVALID):
 * libpq reads it from ~/.pgpass, PGPASSFILE or PGPASSWORD.  A server out
 * of reach gives CM_E_STORE.  A URI of any other scheme is CM_E_INVALID.
 */
cm_err cm_store_open(cm_store **out, cm_ctx *ctx, const char *path,
    unsigned flags);
/*
 * Closes the store (NULL is a no-op).  A commit is on disk, in the store's
 * WAL, when it returns; when this connection's commits took the WAL past
 * about 100 pages, close first folds it into the store file, without
 * waiting for other connections (one that is reading leaves it to the next
 * writer).
 */
void cm_store_close(cm_store *st);

/* The schema version this library writes (SQLite's PRAGMA user_version,
 * PostgreSQL's table certmint_schema). */
int cm_store_schema_latest(void);
/* The folder holding the store (for user profiles in <dir>/profiles/);
 * for a PostgreSQL store, the default SQLite store's folder. */
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

/* How many CAs the store holds (cheaper than cm_ca_list). */
cm_err cm_ca_count(size_t *n, cm_store *st);

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

/* A key purpose: of a profile, or what cm_verify() checks. */
typedef enum cm_verify_purpose {
	CM_VERIFY_SERVER = 0,   /* EKU must allow TLS server auth */
	CM_VERIFY_CLIENT,       /* EKU must allow TLS client auth */
	CM_VERIFY_ANY           /* no key purpose check */
} cm_verify_purpose;

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
/*
 * Whether certificates made with p serve purpose (CM_VERIFY_SERVER: TLS
 * server authentication, CM_VERIFY_CLIENT: TLS client authentication):
 * their extendedKeyUsage lists it (tls_www_server, tls_www_client,
 * key_purpose_oid, anyExtendedKeyUsage), or they have none (RFC 5280
 * 4.2.1.12: then any purpose).  CM_VERIFY_ANY: always true.
 */
bool cm_profile_is_for(const cm_profile *p, cm_verify_purpose purpose);
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
	/* Issued over ACME by certmint serve: the account's number (its URL
	 * ends in /acct/N) and its key's RFC 7638 thumbprint; 0 and NULL
	 * otherwise. */
	int64_t acme_account;
	char *acme_account_key;
} cm_cert_info;

void cm_cert_info_free(cm_cert_info *c);
void cm_cert_info_list_free(cm_cert_info **list, size_t n);

#define CM_ISSUE_OPTS_VERSION 2
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
	/* Version 2: an explicit validity window, for test material (an
	 * expired or not-yet-valid leaf).  0: not given.  Without
	 * not_before: now, or not_after less days when that is past; without
	 * not_after: not_before plus days.  not_before must be before
	 * not_after, and not_after not after the CA's; the window may start
	 * before the CA's own notBefore (an expired leaf of a new CA). */
	time_t not_before;
	time_t not_after;
} cm_issue_opts;
#define CM_ISSUE_OPTS_INIT { CM_ISSUE_OPTS_VERSION, NULL, NULL, NULL, 0, \
	CM_KEY_DEFAULT, 0, NULL, NULL, NULL, false, false, 0, 0 }

/*
 * Issues one certificate with a fresh key: checks the names against the
 * constraints of the CA and of every CA above it (a URI by its host: inside
 * a permitted DNS suffix or IP range when the CA permits any; a URI without
 * such a host is then refused), signs, stages the files beside their
 * places, records the certificate and an event, and only then places the
 * files (key 0600; temp file + link/rename): all or nothing, but for a
 * failure (or crash) after the commit, which leaves the certificate
 * recorded and its files placeable: the message says so, and the next
 * issuance into that folder places them (cm_cert_info.cert_path NULL in
 * its result: no file written by that call).
 * Returns CM_E_INVALID (bad name or profile), CM_E_CONSTRAINT, CM_E_EXISTS
 * (a file exists and !force), CM_E_IO (unwritable folder, disk full),
 * CM_E_NOTFOUND / CM_E_AMBIGUOUS (CA), CM_E_PASSPHRASE, store codes.
 */
cm_err cm_issue(cm_cert_info **out, cm_store *st, const cm_issue_opts *o);

/*
 * Issues n certificates in one transaction, generating keys and signing on
 * threads threads (0: one per core).  Each request's cert_path and
 * key_path must be set.  On any failure before the commit nothing is
 * kept: no row, no file; the message names the failing request.  After
 * the commit, as cm_issue().
 * [out] out: n results in request order (may be NULL).
 */
cm_err cm_issue_batch(cm_cert_info ***out, cm_store *st,
    const cm_issue_opts *reqs, size_t n, unsigned threads);

/*
 * Reads a batch file and issues its requests with cm_issue_batch().  One
 * request per line: a profile then the names ("server www.test 10.0.0.1");
 * '#' starts a comment; after the names a line may give --days D,
 * --key-type T and --profile P.  Files go to outdir as <stem>.crt and
 * <stem>.key, and <stem>.chain.pem under an intermediate CA (see
 * cm_name_file_stem); defaults supplies ca, key_type, days and force.  A
 * line whose files hold its recorded certificate (a run interrupted) is
 * done: its result has no file paths.
 * CM_E_INVALID names the file and line of a bad request.
 */
cm_err cm_issue_batch_file(cm_cert_info ***out, size_t *n, cm_store *st,
    const char *path, const char *outdir, const cm_issue_opts *defaults,
    unsigned threads);

/*
 * A file name stem for a certificate's first name, as certified (lower
 * case): "UPPER.Test" becomes "upper.test", "*.app.test"
 * "_wildcard.app.test", "::1" "__1".  A stem longer than 250 characters
 * keeps its first 240 and gets "~" and 8 hex digits of a hash, so that
 * "<stem>.crt" fits in a file name.  CM_E_INVALID if it does not fit in
 * len.
 */
cm_err cm_name_file_stem(char *buf, size_t len, cm_ctx *ctx, const char *name);

#define CM_LIST_FILTER_VERSION 1
typedef struct cm_list_filter {
	unsigned version;
	const char *status;  /* "valid", "expired", "revoked", ...; NULL: all */
	const char *ca;      /* NULL: all CAs */
	const char *name;    /* a name among the SANs; DNS names and an
	                        email's domain compare without case, an
	                        email's local part and URIs exactly; NULL:
	                        any */
	time_t expiring;     /* >0: valid and expiring within this many s */
} cm_list_filter;
#define CM_LIST_FILTER_INIT { CM_LIST_FILTER_VERSION, NULL, NULL, NULL, 0 }

/* Certificates matching filter (NULL: all), oldest first. */
cm_err cm_cert_list(cm_cert_info ***out, size_t *n, cm_store *st,
    const cm_list_filter *filter);

/*
 * One certificate by serial (hex, case, colons and a 0x prefix ignored; a
 * unique prefix of at least 4 digits will do), by SHA-256 fingerprint (64
 * hex digits) or by first name (CN).  When several
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
 * revoked, or when at is in the future or before the certificate's
 * notBefore.
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
	CM_OUTCOME_ERROR,
	CM_OUTCOME_CLIENT_REVOKED   /* the server found the client's
	                               certificate revoked (appended) */
} cm_outcome;

/* "not-yet-valid" for CM_OUTCOME_NOT_YET_VALID; NULL if out of range. */
const char *cm_outcome_name(cm_outcome o);
/* The reverse; CM_E_INVALID listing the classes for an unknown name. */
cm_err cm_outcome_parse(cm_outcome *out, cm_ctx *ctx, const char *name);


/* ------------------------------------------------------------------ */
/* Verification of a chain without a handshake (verify.c) */

/*
 * Parses an RFC 3339 time ("2026-01-02T03:04:05Z", "...+02:00", fractions
 * of a second ignored) or a date ("2026-01-02", midnight UTC).
 * CM_E_INVALID names the text.
 */
cm_err cm_time_parse(time_t *out, cm_ctx *ctx, const char *text);

#define CM_VERIFY_OPTS_VERSION 1
typedef struct cm_verify_opts {
	unsigned version;
	/* The certificate to verify, PEM or DER; further certificates in the
	 * same input are taken as untrusted intermediates.  leaf_data (with
	 * leaf_len) wins over leaf_path, which then only names it. */
	const char *leaf_path;
	const char *leaf_data;
	size_t leaf_len;
	/* Untrusted intermediates (PEM bundle or one DER); NULL: none. */
	const char *untrusted_path;
	const char *untrusted_data;
	size_t untrusted_len;
	/* Trust anchors (PEM bundle or one DER).  When neither is set, the
	 * anchor is the store's CA ca (NULL: the only CA). */
	const char *trust_path;
	const char *trust_data;
	size_t trust_len;
	const char *ca;
	const char *name;          /* expected DNS name or IP; NULL: none */
	cm_verify_purpose purpose; /* CM_VERIFY_SERVER by default */
	time_t at;                 /* 0: cm_ctx_now() (the pinned clock) */
} cm_verify_opts;
#define CM_VERIFY_OPTS_INIT { CM_VERIFY_OPTS_VERSION, NULL, NULL, 0, NULL, \
	NULL, 0, NULL, NULL, 0, NULL, NULL, CM_VERIFY_SERVER, 0 }

typedef struct cm_verify_result {
	bool valid;
	cm_outcome outcome;       /* CM_OUTCOME_OK when valid */
	unsigned status;          /* gnutls_certificate_status_t bits */
	char **reasons;           /* one token per status bit ("expired") */
	size_t nreasons;
	char *explanation;        /* one line naming the failing certificate */
	char *failing;            /* its subject DN, NULL when valid */
	char **chain;             /* subject DNs, leaf first, anchor last when
	                             one was found */
	size_t nchain;
	bool anchored;            /* the chain ends at a trust anchor */
	time_t at;                /* the time verified at */
} cm_verify_result;

void cm_verify_result_free(cm_verify_result *r);

/*
 * Verifies a certificate chain as a TLS client (purpose server) or server
 * (purpose client) would, without a handshake, with GnuTLS's trust list:
 * path to a trust anchor, signatures, validity at o->at, basic and name
 * constraints, key purpose, and the expected name (an IP address given as
 * name is matched against IP SANs only).  Anchored at a store CA (no
 * trust_path/trust_data), a chain that passes is also checked against the
 * store's revocations at o->at, the anchor's own certificate included:
 * CM_OUTCOME_REVOKED names the revoked one.  An invalid chain is a
 * result, not an error: the call returns CM_OK with (*out)->valid false.
 * st may be NULL unless the anchor comes from the store.
 * Returns CM_E_INVALID for unreadable or malformed input (the message
 * names the file), CM_E_NOTFOUND / CM_E_AMBIGUOUS for the CA, store codes.
 */
cm_err cm_verify(cm_verify_result **out, cm_ctx *ctx, cm_store *st,
    const cm_verify_opts *o);
/* ------------------------------------------------------------------ */
/* Life cycle: intermediates, CSR signing, renewal, status */

#define CM_PATHLEN_PROFILE (-2) /* path length: the profile's */

#define CM_CA_CREATE_OPTS_VERSION 2  /* 1 (without key_uri) is accepted */
typedef struct cm_ca_create_opts {
	unsigned version;
	const char *name;            /* the new CA's name and CN (required) */
	const char *parent;          /* issuing CA (required) */
	cm_key_type key_type;        /* CM_KEY_DEFAULT: ec-p256 */
	unsigned days;               /* 0: the profile's (1825); clamped to
	                                the parent's notAfter */
	int path_len;                /* CM_PATHLEN_PROFILE: the profile's (0
	                                for intermediate-ca); -1: unlimited
	                                (bounded by the ancestors' limits) */
	const char *const *permit;   /* name constraints, each inside the
	                                parent's; none: the parent's are
	                                inherited */
	size_t npermit;
	const char *passphrase;      /* NULL: the parent's passphrase when its
	                                key is encrypted, else none */
	const char *profile;         /* NULL: "intermediate-ca" */
	const char *key_uri;         /* version 2: the new CA's key is in a
	                                PKCS#11 token (pkcs11: URI); the store
	                                keeps the URI, no key; key_type must be
	                                CM_KEY_DEFAULT or the token key's */
} cm_ca_create_opts;
#define CM_CA_CREATE_OPTS_INIT { CM_CA_CREATE_OPTS_VERSION, NULL, NULL, \
	CM_KEY_DEFAULT, 0, CM_PATHLEN_PROFILE, NULL, 0, NULL, NULL, NULL }

/*
 * Creates an intermediate CA signed by o->parent, in one transaction.  The
 * new CA is also recorded as a certificate issued by its parent (profile
 * "intermediate-ca"), so cm_cert_revoke() works on it and the parent's CRL
 * lists it; a revoked or expired CA, or one below a revoked CA, cannot
 * sign.  Refused: a parent whose path length forbids another CA below it
 * (CM_E_CONSTRAINT), a --permit outside the parent's name constraints
 * (CM_E_CONSTRAINT), an existing name (CM_E_EXISTS), a bad option
 * (CM_E_INVALID); CM_E_NOTFOUND for an unknown parent.
 * [out] out: the new CA (may be NULL).
 */
cm_err cm_ca_create(cm_ca_info **out, cm_store *st,
    const cm_ca_create_opts *o);

#define CM_SIGN_OPTS_VERSION 1
typedef struct cm_sign_opts {
	unsigned version;
	const char *profile;         /* NULL: "server"; CA profiles refused */
	const char *ca;              /* NULL: the only CA */
	unsigned days;               /* 0: the profile's */
	const char *cert_path;       /* NULL: no file */
	const char *chain_path;      /* issuers up to, not including, the
	                                root */
	bool force;                  /* overwrite existing files */
} cm_sign_opts;
#define CM_SIGN_OPTS_INIT { CM_SIGN_OPTS_VERSION, NULL, NULL, 0, NULL, \
	NULL, false }

/*
 * Signs a PKCS#10 request (PEM or DER, at most 64 KiB) read from csr_path;
 * origin names it in messages.  The request's self-signature must verify
 * (else CM_E_INVALID, "server.csr: signature does not verify").  Only its
 * public key, subject CN and subjectAltName names (DNS, IP, email, URI) are
 * used, each typed and checked like cm_issue()'s names and against the
 * name constraints of every CA up the path; every other requested
 * extension is ignored: the profile decides key usage, extended key usage
 * and basic constraints.  Recorded like an issuance (event "sign"; no
 * private key is kept).  CM_E_INVALID also for an unsupported key (RSA
 * under 2048 bits, DSA, ...) or name type.
 */
cm_err cm_sign_csr(cm_cert_info **out, cm_store *st, const char *csr_path,
    const cm_sign_opts *o);
/* The same from memory. */
cm_err cm_sign_csr_mem(cm_cert_info **out, cm_store *st, const char *origin,
    const void *data, size_t len, const cm_sign_opts *o);

#define CM_RENEW_OPTS_VERSION 2  /* 1 (without profile) is accepted */
typedef struct cm_renew_opts {
	unsigned version;
	bool rekey;                  /* new key; else the kept key is reused */
	bool revoke_old;             /* old one: revoked (superseded) */
	unsigned days;               /* 0: the profile's */
	const char *cert_path;       /* NULL: no file */
	const char *key_path;
	const char *chain_path;
	bool force;
	const char *profile;         /* version 2: a profile name or file
	                                instead of the recorded one; NULL:
	                                the recorded one */
} cm_renew_opts;
#define CM_RENEW_OPTS_INIT { CM_RENEW_OPTS_VERSION, false, false, 0, NULL, \
	NULL, NULL, false, NULL }

/*
 * Renews a certificate (see cm_cert_find for ref): the same names, profile,
 * CA and key type, a new serial and validity.  The old certificate stays in
 * the inventory with status "superseded" (replaced, not revoked: it keeps
 * working until it expires and stays off CRLs), or with revoke_old status
 * "revoked", reason superseded.  Without rekey the key kept in the store is
 * reused: CM_E_NOTFOUND when it was not kept (use rekey).  The recorded
 * profile is loaded again by name (cm_profile_load), unless o->profile
 * names another: CM_E_NOTFOUND for one that was a file, and for an
 * imported certificate (profile "imported").  A certificate
 * revoked for keyCompromise is renewed with rekey only; CA certificates are
 * not renewed here (CM_E_INVALID).  Event "renew", in one transaction.
 */
cm_err cm_renew(cm_cert_info **out, cm_store *st, const char *ref,
    const cm_renew_opts *o);

typedef struct cm_status_ca {
	char *name;
	char *parent;                /* NULL for a root */
	time_t not_after;
	char *state;                 /* "valid", "expired", "revoked" */
	size_t valid, expired, revoked, superseded;
} cm_status_ca;

typedef struct cm_status_expiry {
	bool is_ca;
	char *name;                  /* CA name, or the certificate's CN */
	char *serial;
	char *ca;                    /* issuer (NULL for a root CA) */
	time_t not_after;
} cm_status_expiry;

typedef struct cm_status_crl {
	char *ca;
	time_t next_update;          /* 0: no CRL published yet */
} cm_status_crl;

typedef struct cm_status {
	cm_status_ca *cas;
	size_t ncas;
	cm_status_expiry *expiries;  /* valid certificates and CAs, soonest
	                                first */
	size_t nexpiries;
	cm_status_crl *crls;         /* CRLs due, soonest first (filled by the
	                                CRL module; empty without one) */
	size_t ncrls;
} cm_status;

/*
 * The state of the store: counts per CA and status, the next max_expiries
 * expiries among valid certificates and CAs (0: 10), CRLs due.
 */
cm_err cm_status_get(cm_status **out, cm_store *st, size_t max_expiries);
void cm_status_free(cm_status *s);
/* ------------------------------------------------------------------ */
/* Keys at rest, export, import, trust stores (issue 5).
 *
 * The store passphrase: every private key kept in the store (CA keys and
 * leaf keys) is PKCS#8; when the store has a passphrase they are all
 * encrypted with it (PBES2: PBKDF2-HMAC-SHA256, at least 600000
 * iterations, AES-256-CBC), never some of them.  A store "has a
 * passphrase" when its keys are encrypted.  A new key (init, import)
 * joins that rule: it is encrypted with the store passphrase, which must
 * match the one the other keys open with.  cm_store_passwd() changes,
 * sets or removes it for every key in one transaction.  Keys in a
 * PKCS#11 token (pkcs11: URIs) are outside this rule. */

/*
 * Re-encrypts every key of the store in one transaction.
 * old: the current passphrase; NULL asks ctx's passphrase callback when
 * the store has one.  new_pass: the new one; NULL or "" removes it (keys
 * are then stored unencrypted).  Nothing changes on any failure before
 * the commit.  Then the store's WAL, which still holds the keys as they
 * were, is folded into the store and wiped (zeros, synced); the wipe is
 * recorded as pending in the commit, so that a process killed before it
 * is done leaves it to the next cm_store_open().  When another program
 * reads the store past the busy timeout, the change stands but the call
 * fails with CM_E_LOCKED naming the reader (process id and name) and the
 * wipe stays pending (cm_store_wipe_pending()).
 * [out] nkeys: keys re-encrypted (may be NULL), set on success only.
 * Returns CM_E_PASSPHRASE when old does not open a key (the message names
 * it), store codes otherwise.
 */
cm_err cm_store_passwd(size_t *nkeys, cm_store *st, const char *old,
    const char *new_pass);

/*
 * Whether a wipe of the WAL after a passphrase change is still pending:
 * old copies of the keys may remain in the store's files.  cm_store_open()
 * finishes a pending wipe when no other program is reading the store.
 */
cm_err cm_store_wipe_pending(bool *out, cm_store *st);

/* Whether the store's keys are encrypted (false for a store without keys). */
cm_err cm_store_has_passphrase(bool *out, cm_store *st);

typedef enum cm_export_format {
	CM_EXPORT_PEM = 1,    /* the certificate */
	CM_EXPORT_DER,        /* the certificate, DER */
	CM_EXPORT_KEY,        /* its private key, PEM PKCS#8, unencrypted */
	CM_EXPORT_CHAIN,      /* the issuers, up to but not including the root */
	CM_EXPORT_FULLCHAIN,  /* the certificate, then every issuer and root */
	CM_EXPORT_P12,        /* PKCS#12: key, certificate and issuers */
	CM_EXPORT_BUNDLE      /* the certificate, then its issuers up to but
	                         not including the root: what a server sends
	                         (nginx ssl_certificate, certbot's
	                         fullchain.pem) */
} cm_export_format;

/* "p12" -> CM_EXPORT_P12; CM_E_INVALID listing the formats if unknown. */
cm_err cm_export_format_parse(cm_export_format *out, cm_ctx *ctx,
    const char *name);

#define CM_EXPORT_OPTS_VERSION 1
typedef struct cm_export_opts {
	unsigned version;
	cm_export_format format;
	const char *password;  /* PKCS#12 password (required for p12) */
	bool legacy;           /* PKCS#12: 3DES and a SHA-1 MAC, for old
	                          Java, Windows and macOS; default AES-256
	                          (PBES2) and a SHA-256 MAC */
	bool no_key;           /* PKCS#12: certificates only (a truststore);
	                          each is marked trusted for Java */
	const char *friendly_name; /* NULL: the first name / the CA name */
} cm_export_opts;
#define CM_EXPORT_OPTS_INIT { CM_EXPORT_OPTS_VERSION, CM_EXPORT_PEM, NULL, \
	false, false, NULL }

/* Bytes made by the library; cm_bytes_free() wipes them. */
typedef struct cm_bytes {
	unsigned char *data;
	size_t len;
	bool secret;           /* holds a private key (files: mode 0600) */
} cm_bytes;
void cm_bytes_free(cm_bytes *b);

/*
 * Exports a certificate (ref as for cm_cert_find) or, when no certificate
 * matches, a CA by name, in a format.  The kept key is opened with the
 * store passphrase (asked through the callback).
 * Returns CM_E_NOTFOUND (nothing matches, or the key was not kept),
 * CM_E_INVALID (no password for p12), CM_E_PASSPHRASE, store codes.
 */
cm_err cm_export(cm_bytes **out, cm_store *st, const char *ref,
    const cm_export_opts *o);

/*
 * cm_export() into path, atomically (temp file + rename), mode 0600 when
 * the output holds a key, else 0644.  Nothing is written on failure.
 * [out] secret: whether the file holds a key (may be NULL).
 */
cm_err cm_export_file(bool *secret, cm_store *st, const char *ref,
    const cm_export_opts *o, const char *path, bool force);

/*
 * Writes data to path atomically: a new file in the same folder (created
 * exclusively, so a link planted there is never followed), mode applied
 * whatever the umask, fsync, then link (without force: an existing path is
 * CM_E_EXISTS) or rename (force: replaced).  Nothing is left on failure.
 */
cm_err cm_file_write(cm_ctx *ctx, const char *path, const void *data,
    size_t len, unsigned mode, bool force);
/* Whether path could be written: its folder exists and is writable, and
 * it does not exist unless force (CM_E_EXISTS).  Nothing is created. */
cm_err cm_file_check(cm_ctx *ctx, const char *path, bool force);

#define CM_CA_IMPORT_OPTS_VERSION 1
typedef struct cm_ca_import_opts {
	unsigned version;
	const char *cert_path;  /* PEM or DER certificate, or PKCS#12 */
	const char *key_path;   /* PEM or DER key (PKCS#8, PKCS#1, SEC1);
	                           NULL when cert_path is PKCS#12 */
	const char *name;       /* NULL: the certificate's CN */
	const char *password;   /* of an encrypted key or of the PKCS#12 */
	const char *passphrase; /* the store passphrase (NULL: asked if the
	                           store has one; none for a store without) */
} cm_ca_import_opts;
#define CM_CA_IMPORT_OPTS_INIT { CM_CA_IMPORT_OPTS_VERSION, NULL, NULL, \
	NULL, NULL, NULL }

/*
 * Adopts an existing CA: checks that the key matches the certificate and
 * that it is a CA (basicConstraints CA:TRUE and, when keyUsage is present,
 * keyCertSign), then stores it as cm_ca_init() would.  A CA whose issuer
 * is in the store becomes its child.
 * Returns CM_E_INVALID (not a CA, key does not match, unreadable file),
 * CM_E_PASSPHRASE (wrong password), CM_E_EXISTS, store codes.
 */
cm_err cm_ca_import(cm_ca_info **out, cm_store *st,
    const cm_ca_import_opts *o);

/*
 * Adds existing certificates (PEM, one or more per file, or DER) signed
 * by a CA of the store to the inventory, without keys.  ca NULL: the CA
 * whose signature verifies.  Certificates already in the store are
 * skipped.  All or nothing.
 * [out] out, n: the certificates added (may be NULL).
 */
cm_err cm_cert_import(cm_cert_info ***out, size_t *n, cm_store *st,
    const char *ca, const char *const *paths, size_t npaths);

/*
 * Like cm_ca_init(), but the CA key lives in a PKCS#11 token: key_uri is
 * its "pkcs11:" URI (RFC 7512), stored instead of a key.  The token PIN
 * comes from the URI (pin-value, pin-source) or the passphrase callback.
 * The environment variable CERTMINT_PKCS11_MODULE names a module to load
 * besides those p11-kit knows.  o->passphrase and o->key_type are unused.
 * Once a PKCS#11 key has been used, GnuTLS stays initialised until the
 * process exits (gnutls_global_deinit() will not finalize the modules), so
 * that no exit-time destructor finalizes a module after its own ran.
 */
cm_err cm_ca_init_key_uri(cm_ca_info **out, cm_store *st,
    const cm_ca_init_opts *o, const char *key_uri);

/* Trust stores. */
#define CM_TRUST_SYSTEM 0x01   /* the OS store (ca-certificates, trust) */
#define CM_TRUST_CHROMIUM 0x02 /* $HOME/.pki/nssdb */
#define CM_TRUST_FIREFOX 0x04  /* every Firefox profile of $HOME */
#define CM_TRUST_NSS 0x08      /* the NSS database nss_dir */
#define CM_TRUST_JAVA 0x10     /* the Java keystore java_keystore */
#define CM_TRUST_SKIP_MISSING 0x100 /* a place whose tool is missing is
                                       reported (note), not an error */

#define CM_TRUST_OPTS_VERSION 1
typedef struct cm_trust_opts {
	unsigned version;
	unsigned targets;          /* CM_TRUST_* bits */
	const char *nss_dir;       /* "DIR" or "sql:DIR" */
	const char *java_keystore;
	const char *java_password; /* NULL: "changeit" */
} cm_trust_opts;
#define CM_TRUST_OPTS_INIT { CM_TRUST_OPTS_VERSION, 0, NULL, NULL, NULL }

typedef enum cm_trust_action {
	CM_TRUST_STATUS = 0,
	CM_TRUST_INSTALL,
	CM_TRUST_UNINSTALL
} cm_trust_action;

/* What happened at one place. */
typedef struct cm_trust_result {
	char *target;     /* "system", "nss", "firefox", "chromium", "java" */
	char *where;      /* file, database or keystore */
	bool installed;   /* the CA is there after the call */
	bool changed;     /* the call changed it */
	char *note;       /* NULL or a remark ("update-ca-certificates ran") */
} cm_trust_result;
void cm_trust_result_list_free(cm_trust_result **list, size_t n);

/*
 * Installs, removes or reports a CA (name NULL: the only CA) in the trust
 * stores of o->targets, idempotently.  External tools (certutil from
 * libnss3-tools, keytool, update-ca-certificates, trust) run as child
 * processes; a missing tool is CM_E_NOTFOUND naming it and its package.
 * The system store lives under $CERTMINT_SYSTEM_ROOT when set (tests).
 */
cm_err cm_trust(cm_trust_result ***out, size_t *n, cm_store *st,
    const char *ca, cm_trust_action action, const cm_trust_opts *o);
/* TLS test harness: scenarios, results, matrices, reports. */

typedef enum cm_client_auth {
	CM_CLIENT_AUTH_NONE = 0,
	CM_CLIENT_AUTH_REQUEST,
	CM_CLIENT_AUTH_REQUIRE
} cm_client_auth;

/* Which side replaced by a real tool (CM_PEER_NONE: GnuTLS on both). */
typedef enum cm_peer {
	CM_PEER_NONE = 0,
	CM_PEER_OPENSSL,    /* openssl s_client / s_server */
	CM_PEER_PYTHON,     /* python3 ssl client / server */
	CM_PEER_GNUTLS_CLI, /* gnutls-cli as the client */
	CM_PEER_CURL        /* curl as the client */
} cm_peer;

/* "openssl" -> CM_PEER_OPENSSL ("gnutls" is CM_PEER_NONE). */
cm_err cm_peer_parse(cm_peer *out, cm_ctx *ctx, const char *name);
const char *cm_peer_name(cm_peer p);

/*
 * One scenario.  Every string is owned by the scenario (malloc'd, freed by
 * cm_scenario_free); PEM fields hold one or more PEM blocks.
 */
#define CM_SCENARIO_VERSION 1
typedef struct cm_scenario {
	unsigned version;
	char *name;
	char *server_chain;   /* PEM: leaf first, then issuers */
	char *server_key;     /* PEM private key */
	char *trust;          /* PEM: the client's trust anchors */
	char *expected_name;  /* DNS name or IP literal the client checks and
	                         (for DNS) sends as SNI; NULL: no name check */
	char *client_chain;   /* PEM or NULL: the client sends no cert */
	char *client_key;
	cm_client_auth client_auth;
	char *client_trust;   /* PEM: the server's trust for client certs */
	char *priority;       /* GnuTLS priority string; NULL:
	                         CM_PRIORITY_DEFAULT */
	char *client_priority; /* the client's, NULL: same as priority */
	cm_outcome expect;
	char *note;           /* why this expectation (reports), or NULL */
	bool has_also;        /* expect_also is acceptable too: where the
	                         standards leave a choice to implementations
	                         (a trailing dot; a client that withholds a
	                         certificate the server's CA list excludes) */
	cm_outcome expect_also;
	bool name_as_dns;     /* check expected_name as a DNS name even when
	                         it is an IP literal (never sent as SNI) */
	/* revocation (appended) */
	char *crl;            /* PEM: CRLs the client checks, or NULL */
	unsigned char *ocsp_staple; /* DER OCSPResponse the server staples
	                         (RFC 6066 status_request; in the TLS 1.3
	                         Certificate entry), or NULL */
	size_t ocsp_staple_len;
	/* client revocation (appended) */
	char *client_crl;     /* PEM: CRLs the server checks client
	                         certificates against, or NULL */
} cm_scenario;
#define CM_SCENARIO_INIT { CM_SCENARIO_VERSION, NULL, NULL, NULL, NULL, \
	NULL, NULL, NULL, CM_CLIENT_AUTH_NONE, NULL, NULL, NULL, \
	CM_OUTCOME_OK, NULL, false, CM_OUTCOME_OK, false, NULL, NULL, 0, \
	NULL }

/*
 * The floor wherever certmint speaks TLS (issue 13, item 4): TLS 1.2 or
 * later, forward-secret key exchange only, AEAD suites only.  A scenario
 * that wants an older protocol says so with its own priority string.
 */
#define CM_PRIORITY_FLOOR_BASE "NORMAL:-CIPHER-ALL:+AES-256-GCM:" \
	"+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-CCM:+AES-128-CCM:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA"
#define CM_PRIORITY_DEFAULT CM_PRIORITY_FLOOR_BASE \
	":-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* The same, by the name the README gives it. */
#define CM_PRIORITY_FLOOR CM_PRIORITY_DEFAULT
/* Priority strings for one protocol version (with the floor). */
#define CM_PRIORITY_TLS12 CM_PRIORITY_FLOOR_BASE ":-VERS-ALL:+VERS-TLS1.2"
#define CM_PRIORITY_TLS13 CM_PRIORITY_FLOOR_BASE ":-VERS-ALL:+VERS-TLS1.3"

void cm_scenario_free(cm_scenario *sc);
void cm_scenario_list_free(cm_scenario **list, size_t n);

/* The side that rejected the handshake. */
typedef enum cm_side {
	CM_SIDE_NONE = 0,
	CM_SIDE_CLIENT,
	CM_SIDE_SERVER
} cm_side;
const char *cm_side_name(cm_side s); /* "none", "client", "server" */

typedef struct cm_result {
	char *name;
	cm_outcome expected;
	cm_outcome actual;
	bool match;           /* actual == expected (or the scenario's
	                         expect_also) and not skipped */
	bool skipped;         /* the peer is missing: never a match */
	cm_side side;
	unsigned status;      /* gnutls_certificate_status_t bits of the
	                         rejecting side (0: none, or a real peer) */
	int peer_code;        /* a real peer's verify code, or 0 */
	char *peer;           /* "gnutls", "openssl", ... */
	char *version;        /* "TLS1.3"; NULL when no handshake */
	char *cipher;         /* "TLS_AES_256_GCM_SHA384" or the GnuTLS name */
	char *group;          /* "SECP256R1", "X25519" */
	char *sigalg;         /* the server's signature, "ECDSA-SECP256R1-SHA256" */
	char *client_identity; /* DN of the client certificate seen, or NULL */
	char *detail;         /* human diagnostics (never used to classify) */
	double time_ms;       /* handshake wall time */
} cm_result;

void cm_result_free(cm_result *r);
void cm_result_list_free(cm_result **list, size_t n);

typedef enum cm_transport {
	CM_TRANSPORT_MEMORY = 0, /* one thread, in-memory buffers */
	CM_TRANSPORT_TCP         /* two threads over 127.0.0.1 */
} cm_transport;

#define CM_HARNESS_OPTS_VERSION 2
typedef struct cm_harness_opts {
	unsigned version;
	cm_transport transport;
	cm_peer peer;           /* a real tool replaces one side */
	bool peer_is_server;    /* openssl/python: the tool serves (else the
	                           tool is the client; curl/gnutls-cli are
	                           always clients) */
	unsigned timeout_ms;    /* per scenario with TCP and peers; 0: 5000 */
	bool http;              /* server answers an HTTP/1.1 200 (serve);
	                           client (connect): sends GET http_path and
	                           judges the status */
	/* Version 2 */
	const char *http_path;  /* connect with http: NULL is "/" */
} cm_harness_opts;
#define CM_HARNESS_OPTS_INIT { CM_HARNESS_OPTS_VERSION, \
	CM_TRANSPORT_MEMORY, CM_PEER_NONE, false, 0, false, NULL }

/*
 * Runs one scenario: a GnuTLS server and client (or one of them replaced
 * by a real peer), handshake, one round of application data, then the
 * class from verification status bits and alerts.  A failed handshake is
 * a result, not an error: the call fails only when the scenario cannot be
 * set up (CM_E_INVALID: bad PEM or priority; CM_E_TLS, CM_E_IO).
 * [out] out: the result, freed with cm_result_free().
 */
cm_err cm_harness_run(cm_result **out, cm_ctx *ctx, const cm_scenario *sc,
    const cm_harness_opts *o);

/*
 * The client side of sc on a connected socket fd (test connect): the
 * server fields of sc are ignored.  The server's verdict is read as
 * cm_probe_run() reads it (after the handshake too: TLS 1.3 servers judge
 * a client certificate then).  The socket is left open.
 */
cm_err cm_harness_connect(cm_result **out, cm_ctx *ctx, int fd,
    const cm_scenario *sc, const cm_harness_opts *o);
/*
 * The server side of sc on an accepted socket fd (test serve); with
 * o->http it answers one request with "HTTP/1.1 200 OK".  The client
 * fields of sc are ignored.  The socket is left open.
 */
cm_err cm_harness_accept(cm_result **out, cm_ctx *ctx, int fd,
    const cm_scenario *sc, const cm_harness_opts *o);

/*
 * The default matrix of an issued certificate (see cm_cert_find for ref):
 * every SAN, wrong names, untrusted root, expired/not-yet-valid/wrong-EKU
 * and name-constraint twins signed by ephemeral in-memory CAs (never
 * stored), the mTLS set for client and peer certificates; each under TLS
 * 1.2 and TLS 1.3.  Needs the certificate's key kept in the store.
 * [out] out, n: the scenarios, freed with cm_scenario_list_free().
 */
cm_err cm_matrix_for_cert(cm_scenario ***out, size_t *n, cm_store *st,
    const char *ref);
/* The same with the certificate's key given (PEM or DER, unencrypted),
 * for one whose key the store does not keep; CM_E_INVALID when it is not
 * that certificate's key. */
cm_err cm_matrix_for_cert_key(cm_scenario ***out, size_t *n, cm_store *st,
    const char *ref, const char *key, size_t key_len);

/* ---- test client: judging a user's TLS client program ---- */
typedef enum cm_severity {
	CM_SEV_CRITICAL = 0, /* untrusted, wrong name, time, purpose, NC */
	CM_SEV_WARNING,      /* old protocol, weak suites, weak key */
	CM_SEV_INFO          /* revocation: many clients do not check */
} cm_severity;
const char *cm_severity_name(cm_severity s);

typedef struct cm_client_scenario {
	cm_scenario *sc;      /* the server side: chain, key, priority,
	                         staple; expected_name is {name}; with
	                         client_auth set (mutual TLS), client_chain
	                         and client_key are the identity the client
	                         must present ({cert}, {key}) */
	bool accept;          /* a correct client accepts it */
	cm_severity severity;
	const char *what;     /* "an expired certificate" (static) */
} cm_client_scenario;

/*
 * The server-side scenarios for a client program, from an issued
 * certificate (its key kept in the store): names, trust, time, purpose,
 * name constraints, revocation and the seeds' transport rules; and two
 * mutual-TLS scenarios (a server that requires a client certificate from
 * an ephemeral CA, valid and from an untrusted root), with an identity of
 * its own key for the client.
 * [out] ca_pem: the one trust-anchor file for the whole run.
 */
cm_err cm_client_matrix(cm_client_scenario **out, size_t *n, char **ca_pem,
    cm_store *st, const char *ref);
void cm_client_matrix_free(cm_client_scenario *v, size_t n);

typedef struct cm_client_verdict {
	bool handshake;       /* the handshake completed */
	bool accepted;        /* ... and application data was received */
	int alert;            /* alert the client sent, -1: none */
	const char *alert_name; /* its description (static), or NULL */
	size_t bytes;         /* application data received */
	char version[16];     /* "TLS1.3", "" when no handshake */
	char note[128];       /* "closed without sending", ... */
} cm_client_verdict;

/*
 * The server side of sc on an accepted socket: handshake, then wait
 * (bounded by ms) for the client's data or close; answers an HTTP request
 * with 200 OK and echoes anything else.  The socket is left open.
 */
cm_err cm_client_judge(cm_client_verdict *v, cm_ctx *ctx, int fd,
    const cm_scenario *sc, unsigned ms);

/* ---- test server / test connect: probing a running server ---- */
#define CM_PROBE_OPTS_VERSION 1
typedef struct cm_probe_opts {
	unsigned version;
	const char *priority;      /* GnuTLS priority; NULL: the floor
	                              (CM_PRIORITY_DEFAULT) */
	const char *trust;         /* PEM: anchors (and intermediates) for
	                              the server's certificate; NULL: not
	                              checked */
	const char *name;          /* the name it must match (DNS names are
	                              also sent as SNI); NULL: not checked */
	const char *client_chain;  /* PEM, leaf first, or NULL: none; sent
	                              when asked for, whatever CA names the
	                              server lists */
	const char *client_key;    /* PEM or DER, unencrypted */
	const char *http_path;     /* "GET PATH" and judge the status (400
	                              or more: rejected); NULL: a line */
	unsigned timeout_ms;       /* the whole probe; 0: 5000 */
	unsigned quiet_ms;         /* silence after the request this long
	                              means "kept open": accepted; 0: 1000 */
	bool insecure_continue;    /* complete the handshake whatever the
	                              server's certificate (its status is
	                              still reported): for probing the
	                              server's side */
} cm_probe_opts;
#define CM_PROBE_OPTS_INIT { CM_PROBE_OPTS_VERSION, NULL, NULL, NULL, \
	NULL, NULL, NULL, 0, 0, false }

typedef enum cm_probe_verdict {
	CM_PROBE_ACCEPTED = 0, /* the server answered or kept the
	                          connection open */
	CM_PROBE_REJECTED,     /* alert, close or reset before an answer,
	                          or HTTP 400 or more */
	CM_PROBE_REFUSED,      /* this end refused the server's
	                          certificate (not insecure_continue) */
	CM_PROBE_LOCAL         /* this end could not make the offer (its
	                          GnuTLS lacks the protocol or suite) */
} cm_probe_verdict;
const char *cm_probe_verdict_name(cm_probe_verdict v);

typedef struct cm_probe_result {
	cm_probe_verdict verdict;
	bool handshake;        /* the client's handshake completed */
	bool requested;        /* the server asked for a certificate */
	bool sent_cert;        /* ... and one was sent */
	int alert;             /* the server's alert, -1: none seen */
	const char *alert_name; /* static, or NULL */
	int http_status;       /* 0: none */
	size_t bytes;          /* answer bytes received */
	bool checked;          /* the server's certificate was verified */
	unsigned status;       /* gnutls_certificate_status_t bits */
	cm_outcome server_class; /* of the server's certificate */
	bool incomplete_chain; /* verifies only with intermediates from the
	                          trust file: the server does not send them */
	char version[16];      /* "TLS1.3" */
	char cipher[64];
	char group[32];
	char how[192];         /* "alert unknown_ca during the handshake" */
	double time_ms;
} cm_probe_result;

/*
 * One client connection on a connected socket fd: handshake, a request
 * ("GET PATH" or a line), then the server's answer, alert or close,
 * bounded by o->timeout_ms.  A rejection is a result, not an error: the
 * call fails only when the probe cannot be set up (CM_E_INVALID: bad
 * PEM, key or priority).  The socket is left open.
 */
cm_err cm_probe_run(cm_probe_result *out, cm_ctx *ctx, int fd,
    const cm_probe_opts *o);
/* A client certificate (clientAuth) and key from an ephemeral CA that
 * nobody trusts, subject dn: the "foreign" control of test server. */
cm_err cm_probe_foreign_client(char **chain, char **key, cm_ctx *ctx,
    const char *dn);
/* The outcome class of a probe (test connect --expect): the server's
 * certificate class when it failed, else the rejection's. */
cm_outcome cm_probe_outcome(const cm_probe_result *r);

/*
 * Loads a scenario file (format: docs/scenarios.md).  st may be NULL when
 * the file names no store objects (SERIAL, ca:NAME).  Relative paths are
 * relative to the file's folder.  CM_E_INVALID names file and line.
 */
cm_err cm_scenario_file_load(cm_scenario ***out, size_t *n, cm_ctx *ctx,
    cm_store *st, const char *path);
/* The same from text; origin names it in messages, dir resolves paths. */
cm_err cm_scenario_parse(cm_scenario ***out, size_t *n, cm_ctx *ctx,
    cm_store *st, const char *origin, const char *dir, const char *text,
    size_t len);

/*
 * A stored certificate for a scenario (see cm_cert_find for ref):
 * [out] chain: PEM, leaf then intermediates (root excluded);
 * [out] key: its kept private key, PEM (may be NULL if not wanted; wipe
 * before free).  CM_E_NOTFOUND when the key was not kept.
 */
cm_err cm_scenario_load_cert(char **chain, char **key, cm_store *st,
    const char *ref);

typedef enum cm_report_format {
	CM_REPORT_TABLE = 0,
	CM_REPORT_JSON,
	CM_REPORT_JUNIT,
	CM_REPORT_TAP,
	CM_REPORT_HTML      /* one self-contained page (cm_report_write_grid) */
} cm_report_format;

#define CM_REPORT_COLOR 0x1   /* ANSI colours in the table */
#define CM_REPORT_VERBOSE 0x2 /* details of every row, not only failures */

/* One cell of an HTML report: a scenario (row) under a TLS version and
 * peer (column). */
typedef enum cm_cell_state {
	CM_CELL_OK = 0,      /* as expected */
	CM_CELL_WRONG,       /* a mismatch, or a critical finding */
	CM_CELL_WARN,        /* a warning finding */
	CM_CELL_INFO,        /* reported, never failing */
	CM_CELL_SKIP         /* not run (tool missing, ...) */
} cm_cell_state;

typedef struct cm_report_cell {
	const char *row;     /* "name:localhost" */
	const char *col;     /* "TLS1.3 gnutls" */
	const char *actual;  /* what happened: "ok", "rejected" */
	const char *expected;
	const char *detail;  /* negotiated version, suite, group, why; or NULL */
	cm_cell_state state;
} cm_report_cell;

/*
 * Writes one self-contained HTML page (no external fonts, scripts or
 * styles; no network request): the cells as a grid of rows by columns,
 * rows with a wrong or warning cell first, each cell coloured by state
 * with the expected and actual value, the detail on hover and expand; a
 * summary line, the certmint version and the time of the run.
 */
cm_err cm_report_write_grid(FILE *f, cm_ctx *ctx, const char *title,
    const cm_report_cell *cells, size_t n);

/* "json" -> CM_REPORT_JSON; CM_E_INVALID for an unknown name. */
cm_err cm_report_format_parse(cm_report_format *out, cm_ctx *ctx,
    const char *name);
/*
 * Writes a report of n results to f (the caller's stream).  Returns
 * CM_E_IO when the stream fails.
 */
cm_err cm_report_write(FILE *f, cm_ctx *ctx, cm_report_format fmt,
    cm_result *const *results, size_t n, unsigned flags);
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

#define CM_CRL_OPTS_VERSION 2
typedef struct cm_crl_opts {
	unsigned version;         /* 2; 1 (without out) is still taken */
	const char *ca;           /* NULL: the only CA */
	bool delta;               /* a delta CRL (RFC 5280 5.2.4) on the last
	                             complete CRL: revocations since then */
	long long next_update;    /* seconds from thisUpdate; 0: 7 days */
	bool pem;                 /* data as PEM "X509 CRL", else DER */
	/* Version 2: also write data to this file (atomically, mode 0644,
	 * an existing one replaced) before the CRL is recorded, so that a
	 * failed write records nothing and uses up no cRLNumber. */
	const char *out;
} cm_crl_opts;
#define CM_CRL_OPTS_INIT { CM_CRL_OPTS_VERSION, NULL, false, 0, false, NULL }

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
 * With o->out, the file is written before the CRL is recorded.
 * Returns CM_E_NOTFOUND / CM_E_AMBIGUOUS (CA), CM_E_INVALID (a delta
 * without a complete CRL), CM_E_PASSPHRASE, store, file and crypto codes.
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
 * after 10 s, and a connection that has not sent a whole request 5 s after
 * its accept (or its previous request) is closed, after 0.5 s while more
 * than 3/4 of the connections (at most 4096, fewer when the descriptor
 * limit is lower) are in use.  Blocks: serves in the calling thread.
 */
cm_err cm_ocsp_serve(cm_ocsp_responder *r, const cm_ocsp_serve_opts *o);

/* ------------------------------------------------------------------ */
/* Checking a store: certmint store check */

typedef struct cm_store_report {
	bool integrity_ok;        /* SQLite's integrity check */
	size_t cas, certs, revoked, crls, events;
	size_t acme_accounts, acme_orders;
	size_t keys_ok;           /* kept keys that are their certificate's */
	size_t keys_unchecked;    /* behind a passphrase not given, or in a
	                             PKCS #11 token */
	char **problems;          /* one line each: the object, what is wrong */
	size_t nproblems;
} cm_store_report;

/*
 * Checks the store: its integrity; every CA certificate parses and is
 * signed by its parent (a root by its own key); every certificate parses,
 * carries the serial and fingerprint recorded and is signed by its CA;
 * every kept key (asking the passphrase callback when encrypted) is its
 * certificate's.  What is wrong is in (*out)->problems; the call fails
 * only when the store cannot be read.
 */
cm_err cm_store_check(cm_store_report **out, cm_store *st);
void cm_store_report_free(cm_store_report *r);

/* What cm_store_copy() copied: rows per kind. */
typedef struct cm_store_copy_counts {
	size_t cas, certs, keys, revoked, crls, events;
	size_t acme_accounts, acme_orders;
} cm_store_copy_counts;

/*
 * Copies every table of from into to (certmint store copy FROM TO), any
 * backend to any: CAs, keys as they are (encrypted ones stay encrypted),
 * certificates and their names, revocations, CRLs, events, ACME state,
 * the row ids too; in one transaction of to, which must hold no CA, key,
 * certificate, event or ACME account (CM_E_EXISTS otherwise, nothing
 * written).  counts may be NULL.
 */
cm_err cm_store_copy(cm_store *to, cm_store *from,
    cm_store_copy_counts *counts);

/* ------------------------------------------------------------------ */
/* The online CA: certmint serve (issue 15) */

#define CM_SERVE_OPTS_VERSION 2
typedef struct cm_serve_opts {
	unsigned version;
	const char *listen;       /* HTTPS "127.0.0.1:8443" (default); port 0:
	                             any free port */
	const char *http_listen;  /* plain HTTP for OCSP, CRLs and CA
	                             certificates, or NULL */
	const char *const *cas;   /* the CAs served; NULL: every CA */
	size_t ncas;
	bool acme;                /* /acme/NAME/: accounts, orders with
	                             http-01, dns-01 and tls-alpn-01,
	                             finalize, certificates */
	bool ocsp;                /* /ocsp */
	bool crl;                 /* /crl/NAME.crl and recorded CRL URLs */
	const char *tls_chain;    /* PEM: the HTTPS certificate and issuers */
	const char *tls_key;      /* PEM: its key */
	const char *base_url;     /* ACME URLs start with it; NULL:
	                             https://HOST:PORT of listen */
	unsigned timeout;         /* stop after this many seconds; 0: never */
	volatile int *stop;       /* stop when it becomes non-zero (signal) */
	/* called once listening: the HTTPS base URL and the plain one (or
	 * NULL) */
	void (*ready)(const char *https, const char *http, void *arg);
	/* one line per request: method, path, status, ms (JSON with
	 * log_json) */
	void (*log)(const char *line, void *arg);
	void *arg;
	bool log_json;
	/* validation for development: "NAME=ADDR" pairs used instead of DNS
	 * for http-01 and tls-alpn-01 ("*.app.test=ADDR" for every name below
	 * app.test), and the port http-01 connects to (0: 80) */
	const char *const *resolve;
	size_t nresolve;
	unsigned http01_port;
	/* ACME profiles (draft-aaron-acme-profiles): the certmint profiles
	 * an order may name, listed in meta.profiles; the first is the
	 * default.  NULL: "server" and "peer". */
	const char *const *profiles;
	size_t nprofiles;
	/* rate limits per account and hour, counted in the store (so
	 * several serve on one store share them): new orders, failed
	 * validations; 0: 300 and 60 */
	unsigned rate_orders;
	unsigned rate_failures;
	bool eab_required;        /* newAccount needs External Account
	                             Binding (cm_acme_eab_add) */
	/* Version 2. */
	const char *dns_resolver; /* dns-01: the DNS server asked for TXT
	                             records, "IPv4[:PORT]" (port 53 when
	                             omitted); NULL: the system's */
	unsigned tlsalpn01_port;  /* the port tls-alpn-01 connects to (0:
	                             443); --resolve applies to it too */
	/* the identifiers an order may carry, besides the CA's name
	 * constraints: ".test" (every name below test), "app.test" (it and
	 * every name below), "10.0.0.0/8", "::1"; NULL: no further limit */
	const char *const *allow;
	size_t nallow;
	/* rate limits per client address and hour: new orders, failed
	 * validations; 0: 3000 and 600 */
	unsigned rate_ip_orders;
	unsigned rate_ip_failures;
} cm_serve_opts;
#define CM_SERVE_OPTS_INIT { CM_SERVE_OPTS_VERSION, NULL, NULL, NULL, 0, \
	false, false, false, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, \
	false, NULL, 0, 0, NULL, 0, 0, 0, false, NULL, 0, NULL, 0, 0, 0 }

/*
 * A new External Account Binding key for CA ca (NULL: the only one),
 * recorded: [out] kid and hmac_key (base64url of 32 random octets), to
 * hand to one ACME client (certbot --eab-kid --eab-hmac-key).  Each key
 * binds one account.
 */
cm_err cm_acme_eab_add(char **kid, char **hmac_key, cm_store *st,
    const char *ca);

/*
 * Serves the store's CAs over HTTPS (and HTTP) until o->stop, o->timeout
 * or a failure: CA certificates at /ca/NAME.pem and .crt, current CRLs at
 * /crl/NAME.crl, OCSP at /ocsp, ACME at /acme/NAME/.  Blocks; answers in
 * the calling thread; a request in flight at the stop is answered.
 * CM_E_INVALID (options, listen address), CM_E_IO (cannot listen),
 * CM_E_NOTFOUND (no such CA).
 */
cm_err cm_serve(cm_store *st, const cm_serve_opts *o);
/* A CA name as a URL path segment ("certmint dev CA" ->
 * "certmint%20dev%20CA"), into buf. */
const char *cm_serve_ca_path(char *buf, size_t len, const char *ca);

#ifdef __cplusplus
}
#endif
#endif /* CERTMINT_H */
