/* cmd_issue.c - certmint issue: one certificate, or a batch. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char usage[] =
"usage: certmint issue server|client|peer NAME... [--ca N] [--cert F]\n"
"                      [--key F] [--chain F] [--key-type T] [--days D]\n"
"                      [--profile P] [--not-before T] [--not-after T]\n"
"                      [--force] [--no-keep-key] [--passphrase-file F]\n"
"                      [--json]\n"
"       certmint issue --batch FILE [--out-dir DIR] [--ca N] [--key-type T]\n"
"                      [--days D] [--threads N] [--force] [--no-keep-key]\n"
"                      [--passphrase-file F] [--json]\n"
"\n"
"Issues a certificate with a fresh key, records it in the store and writes\n"
"NAME.crt and NAME.key (0600) for the first name.  The first name is the\n"
"common name; every name goes into the subjectAltName, typed automatically:\n"
"DNS (www.test), wildcard (*.app.test), IPv4, IPv6, email (a@b.test),\n"
"URI (spiffe://x/y).  Creates the dev CA first if the store has none.\n"
"\n"
"  server|client|peer  the profile: serverAuth, clientAuth, or both\n"
"  --ca N              issuing CA (default: the only one)\n"
"  --cert F, --key F   output files (default NAME.crt, NAME.key; with\n"
"                      --cert dir/x.crt alone, the key is dir/x.key)\n"
"  --chain F           also write the issuers up to, not including, the root\n"
"  --key-type T        ec-p256 (default), ec-p384, ec-p521, ed25519, ed448,\n"
"                      rsa-2048, rsa-3072, rsa-4096\n"
"  --days D            validity (default: the profile's, 397)\n"
"  --profile P         a profile name or a .tmpl file instead of the kind\n"
"                      (given with a kind, its key purposes must serve it)\n"
"  --not-before T, --not-after T\n"
"                      an explicit validity, to make an expired or\n"
"                      not-yet-valid certificate for negative tests: RFC\n"
"                      3339 (2026-01-01T00:00:00Z) or relative to now\n"
"                      (-30d, +2h, -1d; units s, m, h, d).  Alone,\n"
"                      --not-after T starts --days before T (or now, if T\n"
"                      is ahead) and --not-before T lasts --days; never\n"
"                      past the CA's expiry.  Listed as expired or\n"
"                      not-yet-valid; leaves only\n"
"  --force             overwrite existing files\n"
"  --no-keep-key       do not keep the private key in the store (by default\n"
"                      it is kept, encrypted when the CA key is, so that\n"
"                      export and the test harness can use it)\n"
"  --batch FILE        one request per line: 'PROFILE NAME... [--days D]\n"
"                      [--key-type T] [--profile P]'; '#' comments; all\n"
"                      or nothing, in one transaction; writes NAME.crt,\n"
"                      NAME.key (and NAME.chain.pem under an\n"
"                      intermediate CA).  Run again after an interruption,\n"
"                      it completes: lines already issued are kept\n"
"  --out-dir DIR       where --batch writes (default .); made, with its\n"
"                      parents, when missing\n"
"  --threads N         key generation threads for --batch, 1-256\n"
"                      (default: one per core)\n"
"  --passphrase-file F passphrase of an encrypted CA key (or\n"
"                      CERTMINT_PASSPHRASE, or a prompt)\n"
"  --json              print the result as JSON\n";

/* RFC 3339, or [+-]N[smhd] relative to now; 0 is not a time here. */
static bool
parse_when(cmd_env *env, const char *s, time_t *out)
{
	static const struct { char u; long long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	long long v;
	char *end;
	size_t i;

	if (s[0] == '+' || s[0] == '-') {
		if (s[1] < '0' || s[1] > '9')
			return false;
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end[0] == '\0' || end[1] != '\0' ||
		    v > 36500LL * 86400)
			return false;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].u == end[0]) {
				v *= units[i].secs;
				if (v > 36500LL * 86400)
					return false;
				*out = cm_ctx_now(env->ctx) +
				    (time_t)(s[0] == '-' ? -v : v);
				return *out != 0;
			}
		return false;
	}
	return cm_time_parse(out, env->ctx, s) == CM_OK && *out != 0;
}

static int
print_result(const cm_cert_info *c)
{
	char na[32];
	size_t i;

	cmd_time(na, sizeof(na), c->not_after);
	printf("Issued %s certificate %s for ", c->profile, c->serial);
	for (i = 0; i < c->nnames; i++)
		printf("%s%s", i ? ", " : "", c->names[i]);
	printf("\n");
	if (c->cert_path)
		printf("  certificate  %s\n", c->cert_path);
	if (c->key_path)
		printf("  key          %s\n", c->key_path);
	if (c->chain_path) {
		struct stat sb;
		/* Issued by a root: no intermediate to send with it. */
		printf("  chain        %s%s\n", c->chain_path,
		    stat(c->chain_path, &sb) == 0 && sb.st_size == 0 ?
		    " (empty: the CA is a root, serve the certificate alone)" :
		    "");
	}
	printf("  CA           %s\n", c->ca);
	printf("  expires      %s\n", na);
	return EXIT_OK;
}

/*
 * The checks cm_issue makes that need no CA, made before the store is
 * opened: bad input must not leave a new store and dev CA behind.
 */
static cm_err
precheck(cmd_env *env, const cm_issue_opts *o)
{
	cm_profile *p = NULL;
	cm_name_type t;
	size_t i, n;
	cm_err err;

	for (i = 0; i < o->nnames; i++)
		if ((err = cm_name_classify(&t, env->ctx, o->names[i])) !=
		    CM_OK)
			return err;
	n = strlen(o->profile);
	if (strchr(o->profile, '/') == NULL &&
	    (n <= 5 || strcmp(o->profile + n - 5, ".tmpl") != 0))
		return CM_OK;   /* by name: may live in the store's folder */
	err = cm_profile_load(&p, env->ctx, NULL, o->profile);
	cm_profile_free(p);
	return err;
}

/*
 * The library refuses an existing output file, or one it cannot write,
 * too, but only after the dev CA of an empty store would have been made:
 * say it first, with the library's own check (the store made for it goes
 * again: cmd_store_cleanup).
 */
static int
precheck_files(cmd_env *env, const cm_issue_opts *o)
{
	const char *files[3] = { o->cert_path, o->key_path, o->chain_path };
	cm_err err;
	size_t i;

	for (i = 0; i < 3; i++)
		if (files[i] != NULL && (err = cm_file_check(env->ctx, files[i],
		    o->force)) != CM_OK)
			return cmd_fail(env, err);
	return EXIT_OK;
}

/*
 * A batch on a store without a CA: the lines are checked before the dev CA
 * is made (syntax, names, profiles given as files, output files), so a bad
 * file leaves no CA behind.  What needs a CA is checked by the library.
 */
static int
precheck_batch(cmd_env *env, const char *path, const char *outdir,
    bool force)
{
	cm_issue_opts one = CM_ISSUE_OPTS_INIT;
	const char *words[64];
	char *line = NULL, *save, *w, stem[256], file[PATH_MAX];
	size_t cap = 0, lineno = 0, nw;
	struct stat sb;
	cm_err err;
	FILE *f;
	int k, rc = EXIT_OK;

	/* Only a regular file: a pipe (--batch /dev/stdin) is read once,
	 * by the library. */
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (f = fopen(path, "r")) == NULL)
		return EXIT_OK;     /* the library names the error */
	while (rc == EXIT_OK && getline(&line, &cap, f) != -1) {
		lineno++;
		if ((w = strchr(line, '#')) != NULL)
			*w = '\0';
		nw = 0;
		for (w = strtok_r(line, " \t\r\n\v\f", &save);
		    w != NULL && nw < 64; w = strtok_r(NULL, " \t\r\n\v\f",
		    &save))
			words[nw++] = w;
		if (nw == 0)
			continue;
		if (nw == 1) {
			fprintf(stderr, "certmint: %s:%zu: expected a profile "
			    "and at least one name\n", path, lineno);
			rc = EXIT_USAGE;
			break;
		}
		one.profile = words[0];
		one.names = words + 1;
		/* The names end where the line's options start. */
		for (one.nnames = 0; one.nnames < nw - 1 &&
		    strncmp(words[1 + one.nnames], "--", 2) != 0;
		    one.nnames++)
			;
		for (k = (int)one.nnames + 1; k + 1 < (int)nw; k++)
			if (strcmp(words[k], "--profile") == 0)
				one.profile = words[k + 1];
		if (one.nnames == 0) {
			fprintf(stderr, "certmint: %s:%zu: expected a profile "
			    "and at least one name\n", path, lineno);
			rc = EXIT_USAGE;
			break;
		}
		if ((err = precheck(env, &one)) != CM_OK ||
		    (err = cm_name_file_stem(stem, sizeof(stem), env->ctx,
		    words[1])) != CM_OK) {
			fprintf(stderr, "certmint: %s:%zu: %s\n", path, lineno,
			    cm_ctx_error(env->ctx));
			rc = cmd_exit_code(err);
			break;
		}
		for (k = 0; k < 2 && !force; k++) {
			/* Too long a path is for the library to name. */
			if ((size_t)snprintf(file, sizeof(file), "%s%s%s.%s",
			    outdir ? outdir : ".", outdir != NULL &&
			    strcmp(outdir, "/") == 0 ? "" : "/", stem,
			    k ? "key" : "crt") >= sizeof(file))
				break;
			if (lstat(file, &sb) == 0) {
				fprintf(stderr, "certmint: %s:%zu: %s: file "
				    "exists (use --force to overwrite)\n", path,
				    lineno, file);
				rc = EXIT_USAGE;
				break;
			}
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/*
 * The profile loads (an unknown name is refused before the dev CA is
 * made), and serves the kind named with it: "issue client --profile
 * server" would silently make a serverAuth-only certificate.  peer is
 * both.  A profile without extendedKeyUsage serves any.
 */
static int
check_profile(cmd_env *env, cm_store *st, const cm_issue_opts *o,
    const char *kind)
{
	cm_profile *p = NULL;
	bool server, client;
	cm_err err;
	int rc = EXIT_OK;

	if ((err = cm_profile_load(&p, env->ctx, st, o->profile)) != CM_OK)
		return cmd_fail(env, err);
	if (kind != NULL && strcmp(kind, o->profile) != 0) {
		server = cm_profile_is_for(p, CM_VERIFY_SERVER);
		client = cm_profile_is_for(p, CM_VERIFY_CLIENT);
		/* What the kind needs and the profile lacks. */
		server = !server && strcmp(kind, "client") != 0;
		client = !client && strcmp(kind, "server") != 0;
		if (server || client)
			rc = cmd_usage_error("issue", "'%s' conflicts with "
			    "--profile %s: its certificates are not for TLS "
			    "%s; give one or the other", kind, o->profile,
			    server && client ? "servers nor clients" :
			    server ? "servers" : "clients");
	}
	cm_profile_free(p);
	return rc;
}

/* mkcert's delight: the first issue on an empty store makes the CA. */
static int
ensure_ca(cmd_env *env, cm_store *st, const cm_issue_opts *io,
    const char *batch, const char *outdir)
{
	cm_ca_init_opts o = CM_CA_INIT_OPTS_INIT;
	cm_ca_info *made = NULL;
	char *pass = NULL;
	size_t n = 0;
	cm_err err;
	int rc;

	if (io->ca != NULL)
		return EXIT_OK;
	if ((err = cm_ca_count(&n, st)) != CM_OK)
		return cmd_fail(env, err);
	if (n > 0)
		return EXIT_OK;
	if ((rc = batch ? precheck_batch(env, batch, outdir, io->force) :
	    precheck_files(env, io)) != EXIT_OK)
		return rc;
	if ((err = cmd_new_passphrase(&pass, env, false)) != CM_OK)
		return cmd_fail(env, err);
	o.passphrase = pass;
	err = cm_ca_init(&made, st, &o);
	/* Another certmint (make -j) made it between the list and here. */
	if (err == CM_E_EXISTS)
		err = CM_OK;
	else if (err == CM_OK)
		fprintf(stderr, "certmint: created CA '%s' (sha256 %s); trust "
		    "it with: certmint trust install (the PEM: certmint ca "
		    "show --pem)\n", made->name, made->fingerprint);
	cm_ca_info_free(made);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	return err == CM_OK ? EXIT_OK : cmd_fail(env, err);
}

int
cmd_issue(cmd_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "chain", required_argument, NULL, 'H' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "out-dir", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		/* Exact, so getopt_long does not take "--passphrase X" as an
		 * abbreviation of --passphrase-file and open a file named
		 * after the secret. */
		{ "passphrase", required_argument, NULL, 'S' },
		{ "no-keep-key", no_argument, NULL, 'N' },
		{ "not-before", required_argument, NULL, 'B' },
		{ "not-after", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cm_issue_opts o = CM_ISSUE_OPTS_INIT;
	cm_cert_info *res = NULL, **many = NULL;
	char dir[PATH_MAX], made[PATH_MAX] = "";
	size_t len;
	cm_store *st = NULL;
	const char *batch = NULL, *outdir = NULL, *kind = NULL;
	char stem[256], *cert = NULL, *key = NULL;
	unsigned threads = 0;
	size_t n = 0, i;
	bool json = false;
	cm_err err;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = cmd_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'c': o.ca = optarg; break;
		case 'C': o.cert_path = optarg; break;
		case 'K': o.key_path = optarg; break;
		case 'H': o.chain_path = optarg; break;
		case 'P': o.profile = optarg; break;
		case 'f': o.force = true; break;
		case 'b': batch = optarg; break;
		case 'o':
			/* "out/" is "out": no "out//a.crt" in messages. */
			len = strlen(optarg);
			while (len > 1 && optarg[len - 1] == '/')
				len--;
			if (len == 0 || len >= sizeof(dir))
				return cmd_usage_error("issue", "--out-dir "
				    "'%s': give a folder", optarg);
			snprintf(dir, sizeof(dir), "%.*s", (int)len, optarg);
			outdir = dir;
			break;
		case 'p': env->passphrase_file = optarg; break;
		case 'j': json = true; break;
		case 'N': o.discard_key = true; break;
		case 'B':
		case 'A':
			if (parse_when(env, optarg, c == 'B' ? &o.not_before :
			    &o.not_after))
				break;
			return cmd_usage_error("issue", "--%s '%s': give an RFC "
			    "3339 time (2026-01-01T00:00:00Z) or one relative "
			    "to now (-30d, +2h; units s, m, h, d)", c == 'B' ?
			    "not-before" : "not-after", optarg);
		case 'k':
			if (!cmd_opt_key_type(env, "issue", optarg,
			    &o.key_type))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!cmd_opt_days("issue", optarg, &o.days))
				return EXIT_USAGE;
			break;
		case 't':
			/* 0 would be the library's "one per core": that is
			 * what leaving the option out says. */
			if (!cmd_parse_uint(optarg, 256, &threads) ||
			    threads == 0)
				return cmd_usage_error("issue", "--threads '%s' "
				    "is not a number of threads (1-256; leave "
				    "it out for one per core)", optarg);
			break;
		case 'S':
			return cmd_usage_error("issue", "--passphrase: a "
			    "passphrase is never taken from the command line; "
			    "use --passphrase-file or CERTMINT_PASSPHRASE");
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("issue", argv);
		}
	}
	if (batch != NULL) {
		if (optind != argc || o.cert_path || o.key_path ||
		    o.chain_path || o.profile)
			return cmd_usage_error("issue", "--batch takes no names,"
			    " --cert, --key, --chain or --profile: a line is "
			    "'PROFILE NAME... [--days D] [--key-type T] "
			    "[--profile P]', its files NAME.crt and NAME.key "
			    "in --out-dir");
	} else {
		if (outdir != NULL)
			return cmd_usage_error("issue", "--out-dir is for "
			    "--batch; use --cert and --key");
		if (optind < argc && (strcmp(argv[optind], "server") == 0 ||
		    strcmp(argv[optind], "client") == 0 ||
		    strcmp(argv[optind], "peer") == 0))
			kind = argv[optind++];
		else if (o.profile == NULL)
			return cmd_usage_error("issue", "say server, client or "
			    "peer (or --profile) before the names");
		if (o.profile == NULL)
			o.profile = kind;
		if (optind == argc)
			return cmd_usage_error("issue", "no name given");
		o.names = (const char *const *)argv + optind;
		o.nnames = (size_t)(argc - optind);
		/* The key beside the certificate the user placed. */
		if (o.cert_path != NULL && o.key_path == NULL &&
		    (key = cmd_key_beside(o.cert_path)) != NULL)
			o.key_path = key;
		if (o.cert_path == NULL || o.key_path == NULL) {
			if ((err = cm_name_file_stem(stem, sizeof(stem),
			    env->ctx, o.names[0])) != CM_OK)
				return cmd_fail(env, err);
		}
		if (o.cert_path == NULL) {
			if (asprintf(&cert, "%s.crt", stem) < 0) {
				free(key);
				return cmd_fail(env, CM_E_NOMEM);
			}
			o.cert_path = cert;
		}
		if (o.key_path == NULL) {
			if (asprintf(&key, "%s.key", stem) < 0) {
				free(cert);
				return cmd_fail(env, CM_E_NOMEM);
			}
			o.key_path = key;
		}
	}

	if (batch == NULL && (err = precheck(env, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if ((err = cmd_open_store(&st, env, true)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	/* A profile by name may live in the store's folder: known only now,
	 * and still before the dev CA is made. */
	if (batch == NULL && (rc = check_profile(env, st, &o, kind)) !=
	    EXIT_OK)
		goto out;
	/* The output folder is made (mkdir -p) when missing, and removed
	 * again should the batch fail. */
	if (outdir != NULL && !cmd_mkdirs(outdir, 0755, made, sizeof(made))) {
		fprintf(stderr, "certmint: --out-dir %s: %s\n", outdir,
		    strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if (outdir != NULL && access(outdir, W_OK | X_OK) != 0) {
		fprintf(stderr, "certmint: --out-dir %s is not writable: %s\n",
		    outdir, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if ((rc = ensure_ca(env, st, &o, batch, outdir)) != EXIT_OK)
		goto out;
	if (batch != NULL) {
		if (isatty(STDERR_FILENO))
			cm_ctx_set_progress_fn(env->ctx, cmd_progress, NULL);
		err = cm_issue_batch_file(&many, &n, st, batch, outdir, &o,
		    threads);
		if (err != CM_OK) {
			rc = cmd_fail(env, err);
			goto out;
		}
		if (json) {
			json_t *a = json_array(), *obj = json_object();
			for (i = 0; i < n; i++)
				json_array_append_new(a, cmd_cert_json(many[i]));
			json_object_set_new(obj, "certificates", a);
			rc = cmd_print_json(obj);
		} else {
			size_t done = 0;
			/* Lines an earlier (interrupted) run issued come back
			 * without files written by this one. */
			for (i = 0; i < n; i++)
				done += many[i]->cert_path == NULL;
			if (done == n)
				printf("Nothing to issue: all %zu lines were "
				    "issued before, their files are in %s\n",
				    n, outdir ? outdir : ".");
			else if (done > 0)
				printf("Issued %zu certificates into %s (%zu "
				    "lines were issued before: kept)\n",
				    n - done, outdir ? outdir : ".", done);
			else
				printf("Issued %zu certificates into %s\n", n,
				    outdir ? outdir : ".");
		}
		goto out;
	}
	if ((err = cm_issue(&res, st, &o)) != CM_OK) {
		rc = cmd_fail(env, err);
		goto out;
	}
	if (res->cert_path == NULL) {
		if (!json)
			fprintf(stderr, "certmint: note: %s holds certificate "
			    "%s, issued by an interrupted run: its files are "
			    "now in place\n", o.cert_path, res->serial);
		res->cert_path = strdup(o.cert_path);
		res->key_path = access(o.key_path, F_OK) == 0 ?
		    strdup(o.key_path) : NULL;
	}
	rc = json ? cmd_print_json(cmd_cert_json(res)) : print_result(res);
	/* A child never outlives its CA: say so when --days was cut. */
	if (o.days > 0 && o.not_before == 0 && o.not_after == 0 &&
	    res->not_after - res->not_before <
	    (time_t)o.days * 86400 - 60) {
		char na[32];
		cmd_time(na, sizeof(na), res->not_after);
		fprintf(stderr, "certmint: note: --days %u cut to %s, when CA "
		    "'%s' expires\n", o.days, na, res->ca);
	}
out:
	if (rc != EXIT_OK && outdir != NULL)
		cmd_rmdirs(outdir, made);
	cm_cert_info_list_free(many, n);
	cm_cert_info_free(res);
	cm_store_close(st);
	free(cert);
	free(key);
	return rc;
}
