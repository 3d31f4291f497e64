/* cmd_export.c - certmint export: a certificate or CA as PEM, DER, key,
 * chain, fullchain or PKCS#12.  Also the password reader the key
 * commands share (export, import, passwd). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"

#define PASS_MAX 1024

static const char usage[] =
"usage: certmint export SERIAL|NAME|CA --format F [--out FILE] [--force]\n"
"                       [--legacy] [--no-key] [--password-file F]\n"
"                       [--friendly-name N] [--passphrase-file F]\n"
"\n"
"Writes a certificate (by serial or first name) or a CA (by name) in one\n"
"of the formats other software loads.\n"
"\n"
"  --format F          pem        the certificate\n"
"                      der        the certificate, DER\n"
"                      key        its private key (PEM PKCS#8, unencrypted)\n"
"                      chain      its issuers up to, not including, the root\n"
"                      bundle     the certificate and its chain: what a\n"
"                                 server sends (nginx ssl_certificate)\n"
"                      fullchain  the certificate, its issuers and the root\n"
"                      p12        PKCS#12: key, certificate and issuers,\n"
"                                 AES-256 (PBES2) with a SHA-256 MAC\n"
"  --legacy            p12 with 3DES and a SHA-1 MAC, for old Java (< 8u301),\n"
"                      Windows (< Server 2019) and macOS keychains\n"
"  --no-key            p12 with the certificates only: a truststore (each\n"
"                      certificate marked trusted for Java)\n"
"  --friendly-name N   the p12 alias (default: the first name / CA name)\n"
"  --out FILE          write FILE atomically (0600 when it holds a key);\n"
"                      without it, pem, chain, bundle and fullchain go to\n"
"                      stdout; der, key and p12 refuse a terminal\n"
"  --force             overwrite FILE\n"
"  --password-file F   p12 password: first line of F; else\n"
"                      CERTMINT_EXPORT_PASSWORD, else a prompt (twice)\n"
"  --passphrase-file F the store passphrase, when the store has one\n"
"                      (else CERTMINT_PASSPHRASE or a prompt)\n";

static bool
read_line_tty(int fd, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = tcgetattr(fd, &old) == 0;
	size_t n = 0;
	char c;

	if (write(fd, prompt, strlen(prompt)) < 0)
		return false;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	while (read(fd, &c, 1) == 1 && c != '\n')
		if (n + 1 < len)
			buf[n++] = c;
	buf[n] = '\0';
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0)
			return false;
	}
	return true;
}

int
cmd_read_password(char **out, const char *file, const char *envname,
    const char *prompt, bool confirm)
{
	char a[PASS_MAX], b[PASS_MAX];
	const char *e = envname ? getenv(envname) : NULL;
	ssize_t r;
	int fd, rc = EXIT_USAGE;

	*out = NULL;
	a[0] = b[0] = '\0';
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "certmint: %s: %s\n", file,
			    strerror(errno));
			return EXIT_USAGE;
		}
		r = read(fd, a, sizeof(a) - 1);
		close(fd);
		a[r > 0 ? r : 0] = '\0';
		a[strcspn(a, "\r\n")] = '\0';
		if (a[0] == '\0') {
			fprintf(stderr, "certmint: %s: empty password file\n",
			    file);
			goto out;
		}
	} else if (e != NULL && e[0] != '\0') {
		snprintf(a, sizeof(a), "%s", e);
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
			fprintf(stderr, "certmint: no terminal to ask for %s: "
			    "use a file%s%s\n", prompt, envname ? " or " : "",
			    envname ? envname : "");
			goto out;
		}
		char p[300];
		snprintf(p, sizeof(p), "%s: ", prompt);
		bool ok = read_line_tty(fd, p, a, sizeof(a));
		if (ok && confirm)
			ok = read_line_tty(fd, "Again: ", b, sizeof(b));
		close(fd);
		if (!ok || a[0] == '\0' || (confirm && strcmp(a, b) != 0)) {
			fprintf(stderr, "certmint: %s: empty, or the two "
			    "entries differ\n", prompt);
			goto out;
		}
	}
	if ((*out = strdup(a)) == NULL) {
		rc = EXIT_STORE;
		goto out;
	}
	rc = EXIT_OK;
out:
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return rc;
}

void
cmd_free_password(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

int
cmd_export(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "legacy", no_argument, NULL, 'l' },
		{ "no-key", no_argument, NULL, 'n' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "friendly-name", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_export_opts o = CM_EXPORT_OPTS_INIT;
	const char *outpath = NULL, *pwfile = NULL, *fmt = NULL;
	char *password = NULL;
	cm_store *st = NULL;
	cm_bytes *b = NULL;
	bool force = false, secret = false;
	cm_err err;
	int c, rc;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'F':
			fmt = optarg;
			if (cm_export_format_parse(&o.format, env->ctx,
			    optarg) != CM_OK)
				return cmd_usage_error("export", "%s",
				    cm_ctx_error(env->ctx));
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'l':
			o.legacy = true;
			break;
		case 'n':
			o.no_key = true;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'P':
			env->passphrase_file = optarg;
			break;
		case 'N':
			o.friendly_name = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("export", argv);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("export", optind == argc ? "name a "
		    "certificate (serial or first name) or a CA" :
		    "one certificate at a time");
	if (fmt == NULL)
		return cmd_usage_error("export", "--format is required");
	if ((o.legacy || o.no_key) && o.format != CM_EXPORT_P12)
		return cmd_usage_error("export", "--legacy and --no-key apply "
		    "to --format p12");
	if (outpath == NULL && (o.format == CM_EXPORT_P12 ||
	    o.format == CM_EXPORT_DER || o.format == CM_EXPORT_KEY) &&
	    isatty(STDOUT_FILENO))
		return cmd_usage_error("export", "will not write %s to a "
		    "terminal: use --out FILE or a redirection", fmt);
	if ((err = cmd_open_store(&st, env, false)) != CM_OK)
		return cmd_fail(env, err);
	if (o.format == CM_EXPORT_P12 && (rc = cmd_read_password(&password,
	    pwfile, "CERTMINT_EXPORT_PASSWORD", "Password for the PKCS#12 "
	    "file", true)) != EXIT_OK)
		goto out;
	o.password = password;
	if (outpath != NULL) {
		err = cm_export_file(&secret, st, argv[optind], &o, outpath,
		    force);
		if (err != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		fprintf(stderr, "Wrote %s%s\n", outpath, secret ?
		    " (holds a private key: mode 0600)" : "");
		rc = EXIT_OK;
		goto out;
	}
	if ((err = cm_export(&b, st, argv[optind], &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (fwrite(b->data, 1, b->len, stdout) != b->len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "certmint: stdout: %s\n", strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	rc = EXIT_OK;
out:
	cm_bytes_free(b);
	cmd_free_password(password);
	cm_store_close(st);
	return rc;
}
