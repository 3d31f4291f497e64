/*
 * fuzz-name.c - cm__name_parse(), cm__constraint_parse() and
 * cm_name_file_stem() on arbitrary text (the input up to its first NUL).
 *
 * Promises checked: a one-line message on failure (names come from argv
 * and may hold any byte); on success a name of a known type whose value is
 * printable ASCII, lower case for DNS names, with 4 or 16 address octets
 * for IPs; a constraint that fits its buffer, whose IP mask is contiguous
 * and which GnuTLS accepts; a file stem without '/' that is not . or ..
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "internal.h"
#include "fuzz.h"

static cm_ctx *ctx;

static void
check_msg(void)
{
	const char *msg = cm_ctx_error(ctx);

	FUZZ_ASSERT(msg[0] != '\0');
	FUZZ_ASSERT(strchr(msg, '\n') == NULL && strchr(msg, '\r') == NULL);
}

static void
name(const char *text)
{
	cm__name n;
	const char *c;

	ctx->err[0] = '\0';
	if (cm__name_parse(&n, ctx, text) != CM_OK) {
		check_msg();
		return;
	}
	FUZZ_ASSERT(n.type >= CM_NAME_DNS && n.type <= CM_NAME_URI);
	FUZZ_ASSERT(n.value != NULL && n.value[0] != '\0');
	for (c = n.value; *c; c++) {
		FUZZ_ASSERT((unsigned char)*c > ' ' &&
		    (unsigned char)*c < 0x7f);
		if (n.type == CM_NAME_DNS || n.type == CM_NAME_WILDCARD)
			FUZZ_ASSERT(!isupper((unsigned char)*c));
	}
	if (n.type == CM_NAME_DNS)
		FUZZ_ASSERT(strlen(n.value) <= 253);
	if (n.type == CM_NAME_WILDCARD)
		FUZZ_ASSERT(strncmp(n.value, "*.", 2) == 0 &&
		    strchr(n.value + 2, '*') == NULL);
	FUZZ_ASSERT(n.iplen == (n.type == CM_NAME_IPV4 ? 4 :
	    n.type == CM_NAME_IPV6 ? 16 : 0));
	cm__name_clear(&n);
}

static void
constraint(const char *text)
{
	gnutls_x509_name_constraints_t nc = NULL;
	cm__constraint c;
	const char *permit[1] = { text };
	size_t i, half;
	bool zero = false;

	ctx->err[0] = '\0';
	if (cm__constraint_parse(&c, ctx, text) != CM_OK) {
		check_msg();
		return;
	}
	FUZZ_ASSERT(c.len > 0 && c.len <= sizeof(c.data));
	switch (c.san_type) {
	case GNUTLS_SAN_IPADDRESS:
		FUZZ_ASSERT(c.len == 8 || c.len == 32);
		half = c.len / 2;
		for (i = 0; i < half; i++) {
			/* Host bits are clear, and the mask is 1s then 0s. */
			FUZZ_ASSERT((c.data[i] & ~c.data[half + i]) == 0);
			if (zero)
				FUZZ_ASSERT(c.data[half + i] == 0);
			if (c.data[half + i] != 0xff)
				zero = true;
			FUZZ_ASSERT(((c.data[half + i] ^ 0xff) &
			    ((c.data[half + i] ^ 0xff) + 1)) == 0);
		}
		break;
	case GNUTLS_SAN_DNSNAME:
	case GNUTLS_SAN_RFC822NAME:
		FUZZ_ASSERT(c.len <= 253 && c.len < sizeof(c.data));
		FUZZ_ASSERT(memchr(c.data, '\0', c.len) == NULL);
		break;
	default:
		FUZZ_ASSERT(!"unknown SAN type");
	}
	/* The same text through the path 'init --permit' takes. */
	if (gnutls_x509_name_constraints_init(&nc) < 0)
		abort();
	FUZZ_ASSERT(cm__constraints_to_nc(nc, ctx, permit, 1) == CM_OK);
	gnutls_x509_name_constraints_deinit(nc);
}

static void
stem(const char *text)
{
	char buf[256];

	ctx->err[0] = '\0';
	if (cm_name_file_stem(buf, sizeof(buf), ctx, text) != CM_OK) {
		check_msg();
		return;
	}
	FUZZ_ASSERT(strlen(buf) < sizeof(buf) && buf[0] != '\0');
	FUZZ_ASSERT(strchr(buf, '/') == NULL);
	FUZZ_ASSERT(strcmp(buf, ".") != 0 && strcmp(buf, "..") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (ctx == NULL && cm_ctx_new(&ctx) != CM_OK)
		abort();
	if (size > 4096)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	name(text);
	constraint(text);
	stem(text);
	free(text);
	return 0;
}
