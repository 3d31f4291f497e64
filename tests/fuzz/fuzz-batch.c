/*
 * fuzz-batch.c - the batch file parser (cm__batch_parse, the text part of
 * cm_issue_batch_file) on arbitrary file contents.
 *
 * cm_issue_batch_file itself is not fuzzed: every valid input would
 * generate keys, sign, write files and commit rows, a few milliseconds
 * each, where libFuzzer wants thousands of inputs a second.  What it adds
 * after parsing (names, profiles, files) has its own tests and fuzz-name.
 *
 * Promises checked: a one-line message naming the file on failure; on
 * success at least one request, each with a profile and a name, line
 * numbers rising, and output files right inside the output folder.
 */
#include "config.h"

#include <string.h>

#include "internal.h"
#include "fuzz.h"

#define OUTDIR "out"

static cm_ctx *ctx;

static void
check_path(const char *p, const char *ext)
{
	size_t n = strlen(p), e = strlen(ext);

	FUZZ_ASSERT(strncmp(p, OUTDIR "/", sizeof(OUTDIR)) == 0);
	FUZZ_ASSERT(strchr(p + sizeof(OUTDIR), '/') == NULL);
	FUZZ_ASSERT(n > sizeof(OUTDIR) + e && strcmp(p + n - e, ext) == 0);
	/* "out/..crt" is fine; "out/.." is not what we wrote. */
	FUZZ_ASSERT(strcmp(p + sizeof(OUTDIR), "..") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm__batch_req *br = NULL;
	char *text;
	size_t n = 0, i, k, last = 0;
	const char *msg;
	cm_err err;

	if (ctx == NULL && cm_ctx_new(&ctx) != CM_OK)
		abort();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ctx->err[0] = '\0';
	err = cm__batch_parse(&br, &n, ctx, text, size, "fuzz.batch", OUTDIR);
	if (err != CM_OK) {
		FUZZ_ASSERT(err == CM_E_INVALID || err == CM_E_NOMEM);
		msg = cm_ctx_error(ctx);
		FUZZ_ASSERT(strncmp(msg, "fuzz.batch", 10) == 0 ||
		    err == CM_E_NOMEM);
		FUZZ_ASSERT(strchr(msg, '\n') == NULL);
		free(text);
		return 0;
	}
	FUZZ_ASSERT(n > 0 && br != NULL);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(br[i].nwords >= 2);
		FUZZ_ASSERT(br[i].lineno > last);
		last = br[i].lineno;
		for (k = 0; k < br[i].nwords; k++)
			FUZZ_ASSERT(br[i].words[k] != NULL &&
			    br[i].words[k][0] != '\0' &&
			    strchr(br[i].words[k], '#') == NULL &&
			    strpbrk(br[i].words[k], " \t\r\n\v\f") == NULL);
		check_path(br[i].cert, ".crt");
		check_path(br[i].key, ".key");
	}
	cm__batch_free(br, n);
	free(text);
	return 0;
}
