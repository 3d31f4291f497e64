/* ctx.c - the root object, errors and small helpers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

cm_err
cm_ctx_new(cm_ctx **out)
{
	cm_ctx *ctx;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return CM_E_NOMEM;
	/* gnutls_global_init() is reference counted and thread-safe. */
	if (gnutls_global_init() < 0) {
		free(ctx);
		return CM_E_CRYPTO;
	}
	*out = ctx;
	return CM_OK;
}

void
cm_ctx_free(cm_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->asn1 != NULL)
		asn1_delete_structure(&ctx->asn1);
	gnutls_global_deinit();
	free(ctx);
}

const char *
cm_ctx_error(const cm_ctx *ctx)
{
	return ctx ? ctx->err : "";
}

void
cm_ctx_set_time(cm_ctx *ctx, time_t t)
{
	ctx->pinned_time = t;
}

time_t
cm_ctx_now(const cm_ctx *ctx)
{
	if (ctx->pinned_time != 0)
		return ctx->pinned_time;
	return time(NULL);
}

/* The monotonic clock, for timeouts and handshake times (the harness, the
 * OCSP responder's deadlines). */
double
cm__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void
cm_ctx_set_passphrase_fn(cm_ctx *ctx, cm_passphrase_fn fn, void *arg)
{
	ctx->pass_fn = fn;
	ctx->pass_arg = arg;
}

void
cm_ctx_set_progress_fn(cm_ctx *ctx, cm_progress_fn fn, void *arg)
{
	ctx->progress_fn = fn;
	ctx->progress_arg = arg;
}

const char *
cm_strerror(cm_err code)
{
	switch (code) {
	case CM_OK: return "CM_OK";
	case CM_E_INVALID: return "CM_E_INVALID";
	case CM_E_NOMEM: return "CM_E_NOMEM";
	case CM_E_IO: return "CM_E_IO";
	case CM_E_EXISTS: return "CM_E_EXISTS";
	case CM_E_NOTFOUND: return "CM_E_NOTFOUND";
	case CM_E_AMBIGUOUS: return "CM_E_AMBIGUOUS";
	case CM_E_CONSTRAINT: return "CM_E_CONSTRAINT";
	case CM_E_STORE: return "CM_E_STORE";
	case CM_E_STORE_NEWER: return "CM_E_STORE_NEWER";
	case CM_E_LOCKED: return "CM_E_LOCKED";
	case CM_E_CRYPTO: return "CM_E_CRYPTO";
	case CM_E_PASSPHRASE: return "CM_E_PASSPHRASE";
	case CM_E_TLS: return "CM_E_TLS";
	case CM_E_STORE_PERMS: return "CM_E_STORE_PERMS";
	}
	return "CM_E_UNKNOWN";
}

static void vset(cm_ctx *ctx, const char *fmt, va_list ap) CM_PRINTF(2, 0);

static void
vset(cm_ctx *ctx, const char *fmt, va_list ap)
{
	if (ctx == NULL)
		return;
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
}

cm_err
cm__fail(cm_ctx *ctx, cm_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(ctx, fmt, ap);
	va_end(ap);
	return code;
}

/* The one place GnuTLS codes become ours. */
cm_err
cm__gnutls_fail(cm_ctx *ctx, int gret, const char *fmt, ...)
{
	va_list ap;
	size_t used;
	cm_err code;

	va_start(ap, fmt);
	vset(ctx, fmt, ap);
	va_end(ap);
	if (ctx != NULL) {
		used = strlen(ctx->err);
		snprintf(ctx->err + used, sizeof(ctx->err) - used, ": %s",
		    gnutls_strerror(gret));
	}
	switch (gret) {
	case GNUTLS_E_MEMORY_ERROR:
		code = CM_E_NOMEM;
		break;
	case GNUTLS_E_DECRYPTION_FAILED:
		code = CM_E_PASSPHRASE;
		break;
	case GNUTLS_E_ASN1_DER_ERROR:
	case GNUTLS_E_ASN1_DER_OVERFLOW:
	case GNUTLS_E_ASN1_TAG_ERROR:
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_PARSING_ERROR:
		code = CM_E_INVALID;
		break;
	default:
		code = CM_E_CRYPTO;
	}
	return code;
}

cm_err
cm__errno_fail(cm_ctx *ctx, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t used;
	char buf[128];

	va_start(ap, fmt);
	vset(ctx, fmt, ap);
	va_end(ap);
	if (ctx != NULL) {
		used = strlen(ctx->err);
		/* GNU strerror_r may return a static string instead. */
		snprintf(ctx->err + used, sizeof(ctx->err) - used, ": %s",
		    strerror_r(errnum, buf, sizeof(buf)));
	}
	if (errnum == ENOMEM)
		return CM_E_NOMEM;
	if (errnum == EEXIST)
		return CM_E_EXISTS;
	if (errnum == ENOENT)
		return CM_E_NOTFOUND;
	return CM_E_IO;
}

char *
cm__strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
cm__hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s;
	size_t i;

	s = malloc(n * 2 + 1);
	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

void
cm__rfc3339(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

void
cm__free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	gnutls_memset(p, 0, n);
	free(p);
}

cm_err
cm__ask_passphrase(cm_ctx *ctx, char *buf, size_t len, const char *what)
{
	if (ctx->pass_fn == NULL)
		return cm__fail(ctx, CM_E_PASSPHRASE,
		    "%s: key is encrypted and no passphrase was given", what);
	buf[0] = '\0';
	if (ctx->pass_fn(buf, len, what, ctx->pass_arg) != CM_OK) {
		gnutls_memset(buf, 0, len);
		return cm__fail(ctx, CM_E_PASSPHRASE,
		    "%s: key is encrypted and no passphrase was given", what);
	}
	buf[len - 1] = '\0';
	return CM_OK;
}
