/*
 * internal.h - private declarations shared by the files of libcertmint.
 * Nothing here is exported (see libcertmint.sym); unit tests reach it
 * through the libcertmint-internal convenience library.
 */
#ifndef CM_INTERNAL_H
#define CM_INTERNAL_H

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <libtasn1.h>
#include <stdarg.h>

#include "certmint.h"

#define CM_ERRBUF 256

struct cm_ctx {
	char err[CM_ERRBUF];
	time_t pinned_time;
	cm_passphrase_fn pass_fn;
	void *pass_arg;
	cm_progress_fn progress_fn;
	void *progress_arg;
	asn1_node asn1;             /* lib/asn1 definitions, loaded lazily
	                               (der.c), freed with the context */
};

#if defined(__GNUC__)
#define CM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CM_PRINTF(a, b)
#endif

/* Sets ctx's message and returns code: return cm__fail(ctx, ...). */
cm_err cm__fail(cm_ctx *ctx, cm_err code, const char *fmt, ...) CM_PRINTF(3, 4);
/* GnuTLS failure: "<what>: <gnutls message>", mapped to a cm_err. */
cm_err cm__gnutls_fail(cm_ctx *ctx, int gret, const char *fmt, ...)
    CM_PRINTF(3, 4);
/* errno failure: "<what>: <strerror>", ENOSPC/EACCES/... -> CM_E_IO. */
cm_err cm__errno_fail(cm_ctx *ctx, int errnum, const char *fmt, ...)
    CM_PRINTF(3, 4);

/* Duplicates s; NULL on NULL or failure. */
char *cm__strdup(const char *s);
/* Lower-case hex of n bytes into a new string. */
char *cm__hex(const unsigned char *p, size_t n);
/* "2026-11-22T06:21:34Z" into buf (size >= 21). */
void cm__rfc3339(char *buf, size_t len, time_t t);
/* Milliseconds of the monotonic clock (ctx.c). */
double cm__now_ms(void);
/* Wipes and frees a secret of n bytes. */
void cm__free_secret(void *p, size_t n);

/* ---- failpoints (failpoint.c): test builds only ---- */
/*
 * A named point where a test build (configure --enable-failpoints) dies by
 * SIGKILL or fails with CM_E_IO when CERTMINT_FAILPOINT names it; names say
 * where they are: "issue.after_commit".  Returns CM_OK when it is not
 * triggered; in a release build it is always CM_OK and costs nothing.
 */
#ifdef CM_FAILPOINTS
cm_err cm__failpoint(cm_ctx *ctx, const char *name);
#else
#define cm__failpoint(ctx, name) ((void)(ctx), (void)(name), CM_OK)
#endif

/* ---- keys (key.c) ---- */
cm_err cm__key_generate(gnutls_x509_privkey_t *out, cm_ctx *ctx,
    cm_key_type type);
/* The key's DER PKCS#8, encrypted with PBES2/AES-256 when pass != NULL. */
cm_err cm__key_export_pkcs8(gnutls_datum_t *out, cm_ctx *ctx,
    gnutls_x509_privkey_t key, const char *pass);
cm_err cm__key_import_pkcs8(gnutls_x509_privkey_t *out, cm_ctx *ctx,
    const gnutls_datum_t *der, const char *pass, const char *what);
/* PEM of the key as PKCS#8 (unencrypted), for files. */
cm_err cm__key_export_pem(gnutls_datum_t *out, cm_ctx *ctx,
    gnutls_x509_privkey_t key);
/* A private key as other tools write it: PKCS#8, SEC1 "EC PRIVATE KEY" or
 * PKCS#1 "RSA PRIVATE KEY", PEM or DER, unencrypted; what names it in
 * messages.  cm__key_pem_any gives it as certmint's PKCS#8 PEM. */
cm_err cm__key_read_any(gnutls_x509_privkey_t *out, cm_ctx *ctx,
    const void *data, size_t len, const char *what);
cm_err cm__key_pem_any(char **out, cm_ctx *ctx, const void *data, size_t len,
    const char *what);
cm_key_type cm__key_type_of(gnutls_x509_privkey_t key);
/* The digest to sign with for a key type (GNUTLS_DIG_UNKNOWN for EdDSA). */
gnutls_digest_algorithm_t cm__key_digest(cm_key_type type);
bool cm__key_is_rsa(cm_key_type type);

/* ---- names (name.c) ---- */
typedef struct cm__name {
	cm_name_type type;
	char *value;        /* as given (wildcards and IPs in text form) */
	unsigned char ip[16];
	size_t iplen;
} cm__name;
cm_err cm__name_parse(cm__name *out, cm_ctx *ctx, const char *text);
void cm__name_clear(cm__name *n);

/*
 * RFC 3986 3.2: the host of a URI, as name constraints judge it.  The host
 * follows "scheme://" and any "userinfo@", and ends at ":port", '/', '?',
 * '#' or the end.  A registered name must be a hostname (no percent-encoding,
 * no trailing dot) and is lowered; "[v6]" and dotted IPv4 are addresses.
 */
typedef struct cm__uri_host {
	cm_name_type type;  /* CM_NAME_DNS, CM_NAME_IPV4 or CM_NAME_IPV6 */
	char host[254];     /* DNS: lower case; IP: as written, without [] */
	unsigned char ip[16];
	size_t iplen;
	const char *part;   /* on failure: "host", "port" or "userinfo" */
} cm__uri_host;
/* Returns NULL, or why not as a clause after "its <part> ". */
const char *cm__uri_host_parse(cm__uri_host *out, const char *uri);

/* A name constraint as given to --permit. */
typedef struct cm__constraint {
	unsigned san_type;  /* GNUTLS_SAN_DNSNAME / IPADDRESS / RFC822NAME */
	unsigned char data[256];
	size_t len;         /* DNS and email: text; IP: address + mask */
} cm__constraint;
cm_err cm__constraint_parse(cm__constraint *out, cm_ctx *ctx,
    const char *text);
/* Adds the --permit list to nc as permitted subtrees. */
cm_err cm__constraints_to_nc(gnutls_x509_name_constraints_t nc, cm_ctx *ctx,
    const char *const *permit, size_t n);

/* ---- profiles (profile.c) ---- */
#define CM_PROFILE_MAX_VALUES 32
struct cm_profile {
	char *name;
	/* subject */
	char *cn, *organization, *unit, *country, *state, *locality;
	int expiration_days;        /* -1: unset */
	bool tls_www_server, tls_www_client;
	bool ca, cert_signing_key, crl_signing_key;
	bool signing_key, encryption_key;
	int path_len;               /* -2: unset, -1: unlimited */
	bool tls_feature_status_request;
	char *key_purpose_oid[CM_PROFILE_MAX_VALUES];
	size_t nkey_purpose_oid;
	char *nc_permit_dns[CM_PROFILE_MAX_VALUES];
	size_t nnc_permit_dns;
	char *nc_exclude_dns[CM_PROFILE_MAX_VALUES];
	size_t nnc_exclude_dns;
	char *nc_permit_ip[CM_PROFILE_MAX_VALUES];
	size_t nnc_permit_ip;
	char *nc_exclude_ip[CM_PROFILE_MAX_VALUES];
	size_t nnc_exclude_ip;
	char *nc_permit_email[CM_PROFILE_MAX_VALUES];
	size_t nnc_permit_email;
	char *ocsp_uri[CM_PROFILE_MAX_VALUES];
	size_t nocsp_uri;
	char *ca_issuers_uri[CM_PROFILE_MAX_VALUES];
	size_t nca_issuers_uri;
	char *crl_dist_points[CM_PROFILE_MAX_VALUES];
	size_t ncrl_dist_points;
};

/* ---- certificate building (x509.c) ---- */
/* 16 random bytes as a positive DER INTEGER body (16 or 17 octets). */
cm_err cm__serial_new(unsigned char *buf, size_t *len, cm_ctx *ctx);
/* Applies a profile's extensions and subject to crt. */
cm_err cm__profile_apply(gnutls_x509_crt_t crt, cm_ctx *ctx,
    const cm_profile *p, cm_key_type kt);
/* Subject DN, serial hex, SHA-256 fingerprint hex and PEM of a cert, and
 * its DER when der is not NULL (gnutls_free it). */
cm_err cm__crt_describe(gnutls_x509_crt_t crt, cm_ctx *ctx, char **dn,
    char **serial, char **fpr, char **pem, gnutls_datum_t *der);
/* Checks every name against crt's (a CA's) name constraints; a URI by its
 * host (cm__uri_host_parse), since GnuTLS does not check URIs. */
cm_err cm__crt_check_constraints(gnutls_x509_crt_t ca, cm_ctx *ctx,
    const char *ca_name, const cm__name *names, size_t n);
/* RFC 5280 4.2.1.10: iPAddress is one name form for IPv4 and IPv6.  Once
 * nc permits any address range, ip (4 or 16 octets) must lie in one of
 * them, whatever its family; GnuTLS 3.7 checks an address only against
 * ranges of its own family (OpenSSL and Go refuse ::1 under 127.0.0.0/8
 * alone, GnuTLS accepts it). */
bool cm__nc_ip_permitted(gnutls_x509_name_constraints_t nc,
    const unsigned char *ip, size_t iplen);

/* Sets SKID/AKID and signs crt with issuer's key (issuer NULL: self). */
cm_err cm__sign_crt(gnutls_x509_crt_t crt, cm_ctx *ctx,
    gnutls_x509_crt_t issuer, gnutls_privkey_t key, cm_key_type kt);

/* ---- files (file.c) ---- */
/*
 * Writes data to path atomically (temp file in the same folder, fsync,
 * rename).  mode is applied whatever the umask.  Without force an existing
 * path is CM_E_EXISTS; nothing is left behind on failure.  With sync false
 * the fsync is left to the caller (batch: one syncfs at the end).
 */
cm_err cm__file_write(cm_ctx *ctx, const char *path, const void *data,
    size_t len, unsigned mode, bool force, bool sync);
/* cm__file_write in two steps: the data in a new file beside path (its
 * name in tmp), then in place; each removes the new file when it fails.
 * Between them a caller commits what the file says. */
cm_err cm__file_stage(cm_ctx *ctx, char *tmp, size_t tmplen, const char *path,
    const void *data, size_t len, unsigned mode, bool force, bool sync);
cm_err cm__file_place(cm_ctx *ctx, char *tmp, const char *path, bool force);
/* Checks that path could be created (folder writable, absent unless force). */
cm_err cm__file_check(cm_ctx *ctx, const char *path, bool force);
cm_err cm__file_read(cm_ctx *ctx, const char *path, size_t max,
    char **data, size_t *len);
/*
 * Temp files are "<dir>/.certmint-tmp-<pid>-XXXXXX" and issuance journals
 * "<dir>/.certmint-journal-<pid>-XXXXXX": short whatever the target's name,
 * and recognisable as a crashed process's when <pid> is gone.
 */
#define CM__TMP_PREFIX ".certmint-tmp-"
#define CM__JOURNAL_PREFIX ".certmint-journal-"
/* Removes the temp files of processes that are gone from dir. */
void cm__file_clean_stale(const char *dir);
/* [out] the paths of the journals in dir of processes that are gone. */
cm_err cm__file_stale_journals(char ***out, size_t *n, cm_ctx *ctx,
    const char *dir);
/* The folder part of path into buf ("." when there is none). */
void cm__dir_of(char *buf, size_t len, const char *path);

/* ---- store (store.c): the only file that speaks SQL ---- */
typedef struct cm__ca_rec {
	int64_t id;
	int64_t parent_id;          /* 0: root */
	int64_t key_id;
	cm_ca_info info;
	gnutls_datum_t der;
} cm__ca_rec;
void cm__ca_rec_clear(cm__ca_rec *r);

typedef struct cm__cert_rec {
	int64_t ca_id;
	cm_cert_info info;
	const unsigned char *der;
	size_t derlen;
	int64_t key_id;             /* 0: key not kept */
} cm__cert_rec;

cm_ctx *cm__store_ctx(const cm_store *st);
/* "SQLite" or "PostgreSQL". */
const char *cm__store_backend(const cm_store *st);
/* Whether a store name is a PostgreSQL database (a postgresql:// or
 * postgres:// URI, or a libpq keyword string): else a file path. */
bool cm__pg_is_conninfo(const char *path);
/* A write transaction: writers serialise here (SQLite's write lock, a
 * PostgreSQL advisory lock), so a transaction never has to be replayed. */
cm_err cm__store_begin(cm_store *st);
cm_err cm__store_commit(cm_store *st);
void cm__store_rollback(cm_store *st);
/* fn(st, arg) runs inside the next transaction, just before its COMMIT
 * (an error rolls the whole of it back); once: the next commit or
 * rollback clears it, and so does fn NULL. */
void cm__store_set_precommit(cm_store *st,
    cm_err (*fn)(cm_store *st, void *arg), void *arg);
/* The row id of the certificate this connection stored last. */
int64_t cm__store_last_cert_id(cm_store *st);
/* The database's own consistency check (SQLite's integrity_check; none on
 * PostgreSQL): a NULL-ended array of messages, NULL when sound. */
cm_err cm__store_integrity(char ***out, cm_store *st);
/*
 * Folds the WAL into the store and overwrites it with zeros (synced), so
 * that what a commit replaced is nowhere in the files: after a write that
 * replaces secrets.  Waits the busy timeout for other connections' readers;
 * when they hold on, CM_E_LOCKED names the reader (the commit stands) and
 * the wipe stays pending: tried again at cm_store_close() and by the next
 * cm_store_open().  Done, it clears the mark of cm__store_wipe_mark().
 */
cm_err cm__store_wal_wipe(cm_store *st);
/* Records a wipe of the WAL as pending, in the caller's transaction;
 * cm__store_wal_wipe() clears it once done. */
cm_err cm__store_wipe_mark(cm_store *st);
cm_err cm__store_key_insert(int64_t *id, cm_store *st, cm_key_type type,
    const gnutls_datum_t *pkcs8, bool encrypted);
cm_err cm__store_key_get(gnutls_datum_t *pkcs8, bool *encrypted,
    cm_store *st, int64_t id);
cm_err cm__store_ca_insert(int64_t *id, cm_store *st, const cm__ca_rec *r);
/* name NULL: the only CA. */
cm_err cm__store_ca_get(cm__ca_rec *out, cm_store *st, const char *name);
cm_err cm__store_ca_list(cm_ca_info ***out, size_t *n, cm_store *st);
cm_err cm__store_ca_count(size_t *n, cm_store *st);
/* A CA's own key, whatever its state (export, not signing); CM_E_INVALID
 * for a key in a token. */
cm_err cm__ca_key_load(gnutls_x509_privkey_t *out, cm_store *st,
    const char *name);
/* The name of the CA whose certificate has SHA-256 fingerprint fp (lower
 * hex): *name malloc'd, or NULL when no CA has it. */
cm_err cm__store_ca_name_by_fp(char **name, cm_store *st, const char *fp);
/* Before a new CA: its name well-formed and free, its profile (loaded into
 * *prof) a CA profile, its days (want_days, else the profile's, else
 * default_days) at most 36500. */
cm_err cm__ca_new_check(cm_profile **prof, unsigned *days, cm_store *st,
    const char *name, const char *profile, unsigned want_days,
    unsigned default_days);
/* Whether the store holds the certificate of SHA-256 fingerprint fp (lower
 * hex) as revoked: when, why (cm_revoke_reason), its serial. */
cm_err cm__store_revocation_by_fp(bool *revoked, time_t *at, int *reason,
    char *serial, size_t serial_len, cm_store *st, const char *fp);
cm_err cm__ca_get_uncounted(cm_ca_info **out, cm_store *st,
    const char *name);
cm_err cm__store_ca_issued(size_t *n, cm_store *st, int64_t ca_id);
/* [out] taken: whether the CA has that serial already (a certificate's,
 * or a child CA's). */
cm_err cm__store_serial_taken(bool *taken, cm_store *st, int64_t ca_id,
    const char *serial);
cm_err cm__store_cert_insert(cm_store *st, const cm__cert_rec *r);
cm_err cm__store_cert_list(cm_cert_info ***out, size_t *n, cm_store *st,
    const cm_list_filter *f);
cm_err cm__store_cert_find(cm_cert_info **out, cm_store *st, const char *ref);
/* Sets status 'revoked', time and reason of the certificate with serial
 * under CA ca_name; CM_E_INVALID if it is not valid any more. */
cm_err cm__store_cert_revoke(cm_store *st, const char *ca_name,
    const char *serial, int reason, time_t at);
/* The key kept for a certificate: CM_E_NOTFOUND when none was kept. */
cm_err cm__store_cert_key(gnutls_datum_t *pkcs8, bool *encrypted,
    cm_store *st, const char *ca_name, const char *serial);
/* Loads the kept key of a certificate, asking for the passphrase. */
cm_err cm__cert_key_load(gnutls_x509_privkey_t *out, cm_store *st,
    const char *ca_name, const char *serial);
cm_err cm__store_event(cm_store *st, const char *action, const char *object,
    const char *details);

/* ---- CA signing material (ca.c) ---- */
typedef struct cm__signer {
	cm__ca_rec rec;
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t xkey;
	gnutls_privkey_t key;
	cm_key_type key_type;
	gnutls_x509_crt_t *chain;   /* issuers above crt, up to the root */
	size_t nchain;
	bool constrained;           /* this CA or one above has name
	                               constraints */
	char *pass;                 /* the CA key's passphrase, or NULL; it
	                               also encrypts leaf keys kept in store */
	char *key_uri;              /* pkcs11: URI when the key is in a token
	                               (xkey is NULL then) */
	char *crl_url;              /* placed in issued certificates, or NULL */
	char *ocsp_url;
} cm__signer;
/* Loads a CA with its key (asking for the passphrase when encrypted). */
cm_err cm__signer_load(cm__signer **out, cm_store *st, const char *name);
/* A second privkey over the same key, for another thread. */
cm_err cm__signer_clone_key(gnutls_privkey_t *out, cm_ctx *ctx,
    const cm__signer *s);
void cm__signer_free(cm__signer *s);
/* Asks ctx's callback; buf gets the passphrase. */
cm_err cm__ask_passphrase(cm_ctx *ctx, char *buf, size_t len,
    const char *what);

/* ---- outcome classes (outcome.c) ---- */
/*
 * The class of a GnuTLS verification status (gnutls_certificate_status_t
 * bits).  peer_is_client: the status is a server's verdict on a client
 * certificate, so untrusted/expired/purpose become their client-* forms.
 * 0 is CM_OUTCOME_OK.
 */
cm_outcome cm__outcome_from_status(unsigned status, bool peer_is_client);

/* ---- verification (verify.c) ---- */
/*
 * Refines a class derived from status bits with the path that was
 * verified (leaf first): GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE from a
 * broken path length or issuer key usage, not from a name constraint,
 * becomes CM_OUTCOME_UNTRUSTED.  Other classes are returned unchanged.
 */
cm_outcome cm__outcome_refine(cm_outcome o, unsigned status,
    gnutls_x509_crt_t *path, unsigned n);
/* ---- life cycle (intermediate.c, sign.c, renew.c, status.c) ---- */
/* Where the key of an issuance comes from, and what else happens in its
 * transaction; cm_issue() is the case of a fresh key. */
typedef struct cm__issue_src {
	const char *event;           /* NULL: "issue" */
	const char *details;         /* appended to the event details */
	gnutls_x509_privkey_t key;   /* certify this key (renew), or NULL */
	gnutls_pubkey_t pubkey;      /* certify this public key, no private
	                                key to write or keep (CSR), or NULL */
	cm_key_type key_type;        /* of key or pubkey */
	/* Called in the transaction once the new row is in. */
	cm_err (*in_tx)(cm_store *st, const cm_cert_info *c, void *arg);
	void *arg;
} cm__issue_src;
cm_err cm__issue_src_one(cm_cert_info **out, cm_store *st,
    const cm_issue_opts *o, const cm__issue_src *src);
/* The certmint key type of a public key; CM_E_INVALID if none fits. */
cm_err cm__pubkey_key_type(cm_key_type *out, cm_ctx *ctx,
    gnutls_pubkey_t pk, const char *what);
/* "user@host" for the OU of CA subjects; CA name rules. */
void cm__ca_owner(char *buf, size_t len);
cm_err cm__ca_check_name(cm_ctx *ctx, const char *name);
/* The status of CA r's own certificate as recorded under its parent
 * ("valid", "revoked", ...); *status NULL for a root. */
cm_err cm__store_ca_cert_status(char **status, cm_store *st,
    const cm__ca_rec *r);
/* Marks a valid certificate superseded (replaced, not revoked). */
cm_err cm__store_cert_supersede(cm_store *st, const char *ca_name,
    const char *serial);
/* Counts and next expiries for cm_status_get(). */
cm_err cm__store_status(cm_status *s, cm_store *st, size_t max_expiries);
/* ---- keys at rest, export, import, trust (issue 5) ---- */
/* OWASP 2023 for PBKDF2-HMAC-SHA256; GnuTLS >= 3.7.3 uses 600000. */
#define CM_PBKDF2_MIN_ITER 600000
/* The PBKDF2 iteration count of a PBES2-encrypted PKCS#8 (0: not one). */
unsigned long cm__pkcs8_iterations(const gnutls_datum_t *der);
/*
 * The passphrase a new key of the store is encrypted with: the store's
 * (given, else asked; checked against a key of the store), or given when
 * the store has no key yet.  *out is NULL for an unencrypted store.
 */
cm_err cm__store_passphrase_for_new_key(char **out, cm_store *st,
    const char *given);
/*
 * The URI without its secret: every pin-value attribute of the query
 * removed (pin-source, a file's name, stays).  NULL when out of memory.
 */
char *cm__pkcs11_uri_public(const char *uri);
/* Opens a key in a token (pkcs11: URI); PIN through ctx's callback. */
cm_err cm__pkcs11_key_open(gnutls_privkey_t *out, cm_ctx *ctx,
    const char *uri);
/* The certmint key type of a key in a token. */
cm_key_type cm__privkey_type(gnutls_privkey_t key);
/* A new CA's key (a token's, or fresh) and its certificate (lib/ca.c). */
cm_err cm__ca_key_new(gnutls_x509_crt_t *crt, gnutls_privkey_t *key,
    gnutls_x509_privkey_t *xkey, cm_key_type *kt, cm_ctx *ctx,
    const char *key_uri, cm_key_type asked, const char *name);
/* The key type of a token key, refused when certmint cannot use it or when
 * it is not the one asked for (CM_KEY_DEFAULT: any). */
cm_err cm__privkey_type_check(gnutls_privkey_t key, cm_ctx *ctx,
    const char *uri, cm_key_type asked, cm_key_type *kt);
/* Runs argv (argv[0] looked up in PATH) with stdin from in (may be NULL),
 * at most timeout_s seconds; stdout+stderr (bounded) into out (may be
 * NULL; freed by the caller).  *status: exit status, or -1 if killed. */
cm_err cm__run(int *status, char **out, cm_ctx *ctx, char *const argv[],
    const char *const envset[], const void *in, size_t inlen,
    int timeout_s);
/* Whether an executable named name is in PATH (or an absolute path). */
bool cm__have_tool(const char *name);

/* store.c, keys kept as PKCS#8 or URIs */
cm_err cm__store_key_insert_uri(int64_t *id, cm_store *st, cm_key_type type,
    const char *uri);
/* CM_E_NOTFOUND when the key is not a URI. */
cm_err cm__store_key_uri(char **uri, cm_store *st, int64_t id);
/* Ids of the keys kept as PKCS#8, in id order. */
cm_err cm__store_key_ids(int64_t **ids, size_t *n, cm_store *st);
cm_err cm__store_key_update(cm_store *st, int64_t id,
    const gnutls_datum_t *pkcs8, bool encrypted);
/* Keys kept as PKCS#8: encrypted and plain counts, and an encrypted one. */
cm_err cm__store_key_counts(size_t *nenc, size_t *nplain, int64_t *enc_id,
    cm_store *st);
/* What a key is for ("CA 'dev'", "certificate 1a2b..."), into buf. */
void cm__store_key_owner(char *buf, size_t len, cm_store *st, int64_t id);
/* The id of the certificate row with that fingerprint, or 0. */
int64_t cm__store_cert_by_fpr(cm_store *st, const char *fingerprint);

/* ---- embedded data (generated) ---- */
typedef struct cm__blob {
	const char *name;
	const char *text;
} cm__blob;
extern const cm__blob cm__migrations[];   /* ends with {NULL, NULL} */
/* The PostgreSQL text of those whose SQL differs (db/pg/), by name. */
extern const cm__blob cm__migrations_pg[];
extern const cm__blob cm__templates[];

/* ---- batch files (issue.c); split out so that tests/fuzz reaches the
 * parser without a store ---- */
typedef struct cm__batch_req {
	char *line;            /* owns the words below */
	char **words;          /* profile, then names */
	size_t nwords;
	char *cert, *key;      /* <outdir>/<stem>.crt and .key */
	char *chain;           /* <outdir>/<stem>.chain.pem (under an
	                          intermediate) */
	size_t lineno;         /* 1-based, for messages */
	/* The line's options: --profile P, --days D, --key-type T */
	const char *profile;   /* NULL: words[0] */
	unsigned days;         /* 0: the defaults' */
	cm_key_type key_type;  /* CM_KEY_DEFAULT: the defaults' */
} cm__batch_req;
/*
 * Splits the text of a batch file into requests, skipping blank and
 * comment lines.  text[len] must be NUL; text is modified in place.  path
 * names the file in messages; outdir prefixes the output files.
 * [out] out, n: the requests, freed with cm__batch_free().
 * CM_E_INVALID names the file and line of a bad request.
 */
cm_err cm__batch_parse(cm__batch_req **out, size_t *n, cm_ctx *ctx,
    char *text, size_t len, const char *path, const char *outdir);
void cm__batch_free(cm__batch_req *br, size_t n);
/*
 * A name from argv or a file as quoted in a message (name.c): at most 60
 * octets and "...", control and non-ASCII octets as '?'.  len >= 72.
 */
void cm__name_quote(char *buf, size_t len, const char *text);
/* ---- DER helpers shared by CRLs and OCSP (der.c) ---- */
/* A growing byte buffer; len/cap in bytes.  Freed with free(b->p). */
typedef struct cm__buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;                   /* an append failed: the buffer is short */
} cm__buf;
void cm__buf_add(cm__buf *b, const void *data, size_t n);
void cm__buf_byte(cm__buf *b, unsigned char c);
/* A DER tag and definite length header. */
void cm__der_header(cm__buf *b, unsigned char tag, size_t len);
/* Bytes of a DER header for len. */
size_t cm__der_header_len(size_t len);
/* Lower-case hex serial -> DER INTEGER contents (sign octet added). */
bool cm__serial_from_hex(unsigned char *out, size_t *len, const char *hex);
/* "YYMMDDHHMMSSZ" (utc true) or "YYYYMMDDHHMMSSZ" into buf (size 16). */
bool cm__asn1_time(char *buf, size_t len, time_t t, bool utc);
/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
bool cm__time_is_utc(time_t t);
/* The lib/asn1 definitions of ctx, loaded on first use. */
cm_err cm__asn1_defs(asn1_node *out, cm_ctx *ctx);
/* A new structure of type name ("CERTMINT-REVOCATION.TBSCertList"). */
cm_err cm__asn1_new(asn1_node *out, cm_ctx *ctx, const char *type);
/* The one place libtasn1 codes become ours: "<what>: <libtasn1 message>". */
cm_err cm__asn1_fail(cm_ctx *ctx, int rc, const char *what);
/* DER of node (or of its element name) into a new buffer (free()). */
cm_err cm__asn1_der(unsigned char **out, size_t *len, cm_ctx *ctx,
    asn1_node node, const char *name);
/* The signature algorithm a key of type kt signs with, and its
 * AlgorithmIdentifier written to element name of node. */
cm_err cm__sig_alg_write(gnutls_sign_algorithm_t *out, cm_ctx *ctx,
    asn1_node node, const char *name, cm_key_type kt);
/* Inserts ins after the after-th element of the DER SEQUENCE seq and
 * fixes its length; [out] a new buffer (free()). */
cm_err cm__der_splice(unsigned char **out, size_t *len, cm_ctx *ctx,
    const unsigned char *seq, size_t seqlen, size_t after,
    const unsigned char *ins, size_t inslen);
/* Signs tbs and writes SignedData {tbs, alg, signature} as DER. */
cm_err cm__sign_der(unsigned char **out, size_t *len, cm_ctx *ctx,
    gnutls_privkey_t key, cm_key_type kt, const unsigned char *tbs,
    size_t tbslen);
/* Places a CA's CRL distribution point and OCSP URL in crt (issue.c). */
cm_err cm__ca_urls_apply(gnutls_x509_crt_t crt, cm_ctx *ctx,
    const cm__signer *s);

/* ---- revocation in the store (store.c) ---- */
cm_err cm__store_ca_urls(char **crl_url, char **ocsp_url, cm_store *st,
    int64_t ca_id);
cm_err cm__store_ca_set_urls(cm_store *st, int64_t ca_id,
    const char *crl_url, const char *ocsp_url);
/* Bumps the CA's CRL number and returns the new one (in a transaction). */
cm_err cm__store_crl_number_next(int64_t *out, cm_store *st, int64_t ca_id);
/* The number of the CA's last complete CRL; 0 when none. */
cm_err cm__store_crl_last_complete(int64_t *out, cm_store *st,
    int64_t ca_id);
/* Calls fn for each revoked certificate of the CA, ordered by serial;
 * since > 0: only those revoked after CRL number since was issued. */
typedef cm_err (*cm__revoked_fn)(void *arg, const char *serial,
    time_t revoked_at, int reason);
cm_err cm__store_revoked_each(cm_store *st, int64_t ca_id, int64_t since,
    cm__revoked_fn fn, void *arg);
cm_err cm__store_crl_insert(cm_store *st, int64_t ca_id, int64_t number,
    int64_t base, time_t this_update, time_t next_update, size_t entries,
    const unsigned char *der, size_t len);
/* The CA's newest CRL (complete or delta): number 0 and next_update 0
 * when none was published (for 'certmint status': CRLs due). */
cm_err cm__store_crl_latest(int64_t *number, time_t *next_update,
    cm_store *st, int64_t ca_id);
/* Status of one certificate for OCSP: found false when never issued. */
typedef struct cm__cert_status {
	bool found;
	bool revoked;
	time_t revoked_at;
	int reason;                 /* -1: none */
	time_t not_after;
} cm__cert_status;
cm_err cm__store_cert_status(cm__cert_status *out, cm_store *st,
    int64_t ca_id, const char *serial);
/* Serials of the CA's certificates still listed (valid or revoked, not
 * expired), for pre-signing; fn as above (revoked_at 0 when valid). */
cm_err cm__store_cert_each(cm_store *st, int64_t ca_id, time_t now,
    size_t max, cm__revoked_fn fn, void *arg);
/* Changes whenever a write is committed, by any connection (PRAGMA
 * data_version and this connection's change count). */
cm_err cm__store_data_version(int64_t *out, cm_store *st);
/*
 * false when no connection can have committed to the store since the last
 * call that returned true: SQLite's wal-index header, read from the mapped
 * -shm file, is as it was (a memory read, no system call).  true when it
 * changed or cannot be read: then ask cm__store_data_version().
 */
bool cm__store_may_have_changed(cm_store *st);
/* Forget the header last seen: the next call says true (the check that
 * followed it failed). */
void cm__store_changes_unseen(cm_store *st);

/* ---- revocation data in memory, for the harness (crl.c, ocsp.c) ---- */
typedef struct cm__crl_entry {
	const char *serial;         /* lower-case hex */
	time_t revoked_at;
	int reason;                 /* cm_revoke_reason */
} cm__crl_entry;
/* A CRL (DER) listing v[], signed by an in-memory CA; not recorded. */
cm_err cm__crl_build_mem(unsigned char **der, size_t *len, cm_ctx *ctx,
    gnutls_x509_crt_t ca, gnutls_privkey_t key, cm_key_type kt,
    const cm__crl_entry *v, size_t n, time_t now, time_t next);
/* The current CRL of a stored CA (every revoked certificate), built in
 * memory and not recorded (no new cRLNumber, no event); its nextUpdate
 * is next seconds from now. */
cm_err cm__crl_current_mem(unsigned char **der, size_t *len, cm_store *st,
    const cm__signer *s, time_t next);
/* A signed OCSP response (DER) for one serial issued by ca. */
cm_err cm__ocsp_response_mem(unsigned char **der, size_t *len, cm_ctx *ctx,
    gnutls_x509_crt_t ca, gnutls_privkey_t key, cm_key_type kt,
    const char *serial, const cm__cert_status *status, unsigned validity);

/* "IP:PORT" or "[V6]:PORT" of a listener (ocsp_http.c); host gets the IP
 * as written.  CM_E_INVALID naming the address. */
struct sockaddr_storage;
cm_err cm__http_parse_listen(struct sockaddr_storage *ss, char *host,
    size_t hostlen, cm_ctx *ctx, const char *listen);
bool cm__sockaddr_is_loopback(const struct sockaddr_storage *ss);

/* ---- ACME state in the store (store.c) ---- */
typedef struct cm__acme_account {
	int64_t id;
	char *jwk;          /* the account key, JSON */
	char *status;       /* "valid", "deactivated", "revoked" */
	char *contact;      /* JSON array, or NULL */
	time_t created;
} cm__acme_account;
void cm__acme_account_clear(cm__acme_account *a);
/* Records a nonce handed out (and forgets those older than an hour). */
cm_err cm__store_acme_nonce_add(cm_store *st, const char *nonce, time_t now);
/* Uses a nonce up: *ok when it was handed out, unused, under an hour. */
cm_err cm__store_acme_nonce_take(bool *ok, cm_store *st, const char *nonce,
    time_t now);
/* take used and add fresh in one commit; *ok as for take */
cm_err cm__store_acme_nonce_swap(bool *ok, cm_store *st, const char *used,
    const char *fresh, time_t now);
/* An account of CA ca_id by id, or by thumbprint when that is not NULL;
 * CM_E_NOTFOUND (no message) when there is none. */
cm_err cm__store_acme_account_get(cm__acme_account *out, cm_store *st,
    int64_t ca_id, int64_t id, const char *thumbprint);
cm_err cm__store_acme_account_insert(int64_t *id, cm_store *st,
    int64_t ca_id, const char *thumbprint, const char *jwk,
    const char *contact, time_t now);

/* ACME orders, authorizations, challenges: one write (fmt: "i" int64_t,
 * "s" text or NULL per argument; [out] id: the new row's, may be NULL),
 * and rows as text, n columns each (free each and the vector). */
cm_err cm__store_acme_exec(int64_t *id, cm_store *st, const char *sql,
    const char *fmt, ...);
cm_err cm__store_acme_rows(char ***out, size_t *nrows, cm_store *st,
    const char *sql, const char *fmt, ...);

#endif /* CM_INTERNAL_H */
