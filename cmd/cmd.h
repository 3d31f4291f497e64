/* cmd.h - what the command files share.  They include only certmint.h
 * and this header (plus the C library and jansson for --json). */
#ifndef CM_CMD_H
#define CM_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "certmint.h"

/* Exit codes (DESIGN.md): the contract for scripts. */
#define EXIT_OK 0
#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
#define EXIT_STORE 3
#define EXIT_CRYPTO 4

/* The longest one-line message cmd_fail writes whole (its messages are at
 * most CM_ERRBUF or pass_error long). */
#define CMD_LINE_MAX 2048

typedef struct cmd_env {
	cm_ctx *ctx;
	const char *store_path;       /* --store, or NULL */
	char default_path[4096];
	const char *passphrase_file;  /* set by commands with the option */
	char *cached_pass;            /* read once per run */
	char pass_error[512];         /* why no passphrase could be had: the
	                                 one line cmd_fail prints for
	                                 CM_E_PASSPHRASE, when set */
	bool pass_bad_input;          /* ... because a --passphrase-file could
	                                 not be read: bad input (exit 2) */
	char created_store[4096];     /* the store this run created, or "" */
	char created_dir[4096];       /* the highest folder made for it, or
	                                 "" */
} cmd_env;

typedef int (*cmd_fn)(cmd_env *env, int argc, char **argv);

int cmd_init(cmd_env *env, int argc, char **argv);
int cmd_ca(cmd_env *env, int argc, char **argv);
int cmd_issue(cmd_env *env, int argc, char **argv);
int cmd_list(cmd_env *env, int argc, char **argv);
int cmd_show(cmd_env *env, int argc, char **argv);
int cmd_verify(cmd_env *env, int argc, char **argv);
int cmd_test(cmd_env *env, int argc, char **argv);
int cmd_crl(cmd_env *env, int argc, char **argv);
int cmd_ca_set(cmd_env *env, int argc, char **argv);
int cmd_ocsp(cmd_env *env, int argc, char **argv);
int cmd_serve(cmd_env *env, int argc, char **argv);
int cmd_acme(cmd_env *env, int argc, char **argv);
int cmd_store(cmd_env *env, int argc, char **argv);

/*
 * Text from certificates, files and argv, made safe for a terminal: C0 and
 * C1 controls, DEL, bidirectional overrides and octets that are not UTF-8
 * become \xNN, a backslash \\; printable UTF-8 (é, 日本) stays.  cmd_safe
 * writes into buf[0..len) (cut with "..." when it does not fit) and returns
 * buf; cmd_fputs_safe writes all of s to f (EOF on a write error).  Every
 * human-readable line that quotes such text goes through one of them (JSON
 * has its own escaping).
 */
#define CMD_SAFE_MAX 1100
const char *cmd_safe(char *buf, size_t len, const char *s);
int cmd_fputs_safe(const char *s, FILE *f);

/* Prints "certmint: <message>" to stderr, made safe by cmd_safe, and
 * returns the exit code. */
int cmd_fail(cmd_env *env, cm_err err);
int cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cmd_exit_code(cm_err err);

/* Opens the store (--store, CERTMINT_STORE, XDG default).  With create,
 * a store that was not there is remembered in env for
 * cmd_store_cleanup(). */
cm_err cmd_open_store(cm_store **out, cmd_env *env, bool create);
/* After a failed command: removes the store this run created, and the
 * folders made for it, when it holds no CA (another certmint may have
 * made one since). */
void cmd_store_cleanup(cmd_env *env);
/* mkdir -p dir with mode; [out] made: the highest folder it created ("" if
 * none), for cmd_rmdirs().  false with errno set on failure. */
bool cmd_mkdirs(const char *dir, unsigned mode, char *made, size_t len);
/* Removes the empty folders from dir up to and including made (from
 * cmd_mkdirs); nothing when made is "". */
void cmd_rmdirs(const char *dir, const char *made);

/* Passphrase sources: --passphrase-file, CERTMINT_PASSPHRASE, a prompt on
 * the terminal.  Never argv. */
cm_err cmd_passphrase_cb(char *buf, size_t len, const char *what, void *arg);
/* For creating a key: file or env or (ask) a prompt twice; NULL: none. */
cm_err cmd_new_passphrase(char **out, cmd_env *env, bool ask);

void cmd_time(char *buf, size_t len, time_t t);
/* "30d", "12h", "2w", "90" (days) -> seconds; false when malformed. */
bool cmd_parse_duration(const char *s, long long *out);
bool cmd_parse_uint(const char *s, unsigned max, unsigned *out);
/* false (usage error printed) when a pkcs11: URI carries pin-value. */
bool cmd_key_uri_ok(const char *cmd, const char *uri);
/*
 * A positive time span, "500ms", "5s", "2m", "1h", or a bare number counted
 * in units of bare_ms; at most max_ms -> milliseconds; false when malformed.
 */
bool cmd_parse_ms(const char *s, unsigned bare_ms, unsigned long long max_ms,
    unsigned long long *out);
/* Option values shared by several commands; false after printing the
 * usage error naming cmd. */
bool cmd_opt_days(const char *cmd, const char *arg, unsigned *out);
bool cmd_opt_key_type(cmd_env *env, const char *cmd, const char *arg,
    cm_key_type *out);

json_t *cmd_cert_json(const cm_cert_info *c);
json_t *cmd_ca_json(const cm_ca_info *ca);
/* The key file beside a certificate file: "dir/x.crt" (.pem, .cer, .der)
 * gives "dir/x.key"; NULL for other names (malloc'd). */
char *cmd_key_beside(const char *cert);
/* Reads a file of at most max octets into *out (NUL-terminated, free it);
 * a one-line error and EXIT_USAGE otherwise. */
int cmd_read_small_file(char **out, size_t *len, const char *path,
    size_t max);
/* An RFC 3339 UTC time as a JSON string. */
json_t *cmd_json_time(time_t t);
/* Dumps and frees j to stdout. */
int cmd_print_json(json_t *j);
/* Flushes stdout; when it (or an earlier write) failed, says so in one line
 * and returns true. */
bool cmd_stdout_failed(void);

void cmd_progress(size_t done, size_t total, void *arg);

/* ---- life cycle (cmd_ca_create.c, cmd_revoke.c, cmd_sign.c, cmd_renew.c,
 * cmd_status.c) ---- */
int cmd_ca_create(cmd_env *env, int argc, char **argv);
int cmd_revoke(cmd_env *env, int argc, char **argv);
int cmd_sign(cmd_env *env, int argc, char **argv);
int cmd_renew(cmd_env *env, int argc, char **argv);
int cmd_status(cmd_env *env, int argc, char **argv);
/* "2026-11-01T12:00:00Z", "2026-11-01" or "@SECONDS" -> time. */
bool cmd_parse_time(const char *s, time_t *out);
/* getopt_long(), but an option given as another's value ("--key-type
 * --ca N") is reported by cmd_bad_option() as a missing value. */
int cmd_getopt(int argc, char **argv, const char *shortopts,
    const struct option *opts);
/* After cmd_getopt returned '?' or ':' (opterr is 0): one usage line naming
 * the unknown option or the option missing its value; returns EXIT_USAGE. */
int cmd_bad_option(const char *cmd, char **argv);
/* Keys, export, import, trust (issue 5). */
int cmd_export(cmd_env *env, int argc, char **argv);
int cmd_import(cmd_env *env, int argc, char **argv);
int cmd_trust(cmd_env *env, int argc, char **argv);
int cmd_passwd(cmd_env *env, int argc, char **argv);
/* A password from file (first line), else $envname, else a prompt on the
 * terminal (twice when confirm).  Returns an exit code; *out is freed with
 * cmd_free_password(), which wipes it. */
int cmd_read_password(char **out, const char *file, const char *envname,
    const char *prompt, bool confirm);
void cmd_free_password(char *p);

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
bool cmd_split_hostport(const char *s, char *host, size_t hlen, char *port,
    size_t plen);
/* A TCP connection to host:port within ms, or -1 (errno set). */
int cmd_connect(const char *host, const char *port, unsigned ms);

/* s as a JSON string, and as XML text (attribute-safe), on stdout. */
void cmd_json_str(const char *s);
void cmd_xml_str(const char *s);
/* The PATH of an option "--http [PATH]" (getopt's optional_argument: a
 * separate word is taken when it starts with '/'), "/" by default; NULL
 * for a value that is not a path. */
const char *cmd_http_path(int argc, char **argv);

#endif
