/*
 * report.c - harness reports: a table for terminals, JSON (jansson),
 * JUnit XML and TAP, written to the caller's stream.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"

static const char *const fmt_names[] = { "table", "json", "junit", "tap" };

cm_err
cm_report_format_parse(cm_report_format *out, cm_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (strcmp(name, fmt_names[i]) == 0) {
			*out = (cm_report_format)i;
			return CM_OK;
		}
	return cm__fail(ctx, CM_E_INVALID, "report format '%s' is unknown "
	    "(table, json, junit, tap)", name ? name : "");
}

typedef struct counts {
	size_t total, matched, mismatched, skipped;
} counts;

static counts
count(cm_result *const *r, size_t n)
{
	counts c = { n, 0, 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i]->skipped)
			c.skipped++;
		else if (r[i]->match)
			c.matched++;
		else
			c.mismatched++;
	}
	return c;
}

static const char *
oname(cm_outcome o)
{
	const char *s = cm_outcome_name(o);
	return s ? s : "error";
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static cm_err
write_json(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n)
{
	json_t *root = json_object(), *a = json_array(), *sum = json_object();
	counts c = count(r, n);
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(r[i]->name));
		json_object_set_new(o, "expected", json_string(
		    oname(r[i]->expected)));
		json_object_set_new(o, "actual", r[i]->skipped ? json_null() :
		    json_string(oname(r[i]->actual)));
		json_object_set_new(o, "match", json_boolean(r[i]->match));
		json_object_set_new(o, "skipped", json_boolean(r[i]->skipped));
		json_object_set_new(o, "side", json_string(
		    cm_side_name(r[i]->side)));
		json_object_set_new(o, "peer", jstr(r[i]->peer));
		json_object_set_new(o, "status", json_integer(r[i]->status));
		json_object_set_new(o, "peer_code", json_integer(
		    r[i]->peer_code));
		json_object_set_new(o, "version", jstr(r[i]->version));
		json_object_set_new(o, "cipher", jstr(r[i]->cipher));
		json_object_set_new(o, "group", jstr(r[i]->group));
		json_object_set_new(o, "sigalg", jstr(r[i]->sigalg));
		json_object_set_new(o, "client_identity",
		    jstr(r[i]->client_identity));
		json_object_set_new(o, "time_ms", json_real(r[i]->time_ms));
		json_object_set_new(o, "detail", jstr(r[i]->detail));
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "scenarios", a);
	json_object_set_new(sum, "total", json_integer((json_int_t)c.total));
	json_object_set_new(sum, "matched", json_integer((json_int_t)c.matched));
	json_object_set_new(sum, "mismatched",
	    json_integer((json_int_t)c.mismatched));
	json_object_set_new(sum, "skipped", json_integer((json_int_t)c.skipped));
	json_object_set_new(root, "summary", sum);
	ret = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (ret != 0 || fputc('\n', f) == EOF)
		return cm__errno_fail(ctx, errno ? errno : EIO, "report: write");
	return CM_OK;
}

/* Length of a valid UTF-8 sequence at p (XML 1.0 characters only), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/*
 * Text or attribute value as XML 1.0: markup escaped, characters XML
 * cannot carry (controls, broken UTF-8) written as '?'.
 */
static void
xml_text(FILE *f, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	while (*p) {
		switch (*p) {
		case '&': fputs("&amp;", f); p++; continue;
		case '<': fputs("&lt;", f); p++; continue;
		case '>': fputs("&gt;", f); p++; continue;
		case '"': fputs(attr ? "&quot;" : "\"", f); p++; continue;
		case '\t': case '\n': case '\r':
			if (attr)
				fprintf(f, "&#%u;", *p);
			else
				fputc(*p, f);
			p++;
			continue;
		}
		if (*p < 0x20 || (n = utf8_len(p)) == 0) {
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

static void
xml_attr(FILE *f, const char *k, const char *v)
{
	fprintf(f, " %s=\"", k);
	xml_text(f, v, true);
	fputc('"', f);
}

/*
 * JUnit XML by hand: five elements and escaping do not justify loading
 * libxml2 (and with it ICU, libstdc++, zlib, liblzma) into every certmint
 * process; that cost a millisecond at every start.
 */
static cm_err
write_junit(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n)
{
	counts c = count(r, n);
	double total = 0;
	char msg[256];
	size_t i;

	for (i = 0; i < n; i++)
		total += r[i]->time_ms;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
	    " <testsuite", f);
	xml_attr(f, "name", "certmint harness");
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "skipped=\"%zu\" time=\"%.3f\">\n", (size_t)c.total,
	    (size_t)c.mismatched, (size_t)c.skipped, total / 1000.0);
	for (i = 0; i < n; i++) {
		fputs("  <testcase", f);
		snprintf(msg, sizeof(msg), "certmint.%s",
		    r[i]->peer ? r[i]->peer : "gnutls");
		xml_attr(f, "classname", msg);
		xml_attr(f, "name", r[i]->name);
		fprintf(f, " time=\"%.3f\"", r[i]->time_ms / 1000.0);
		if (r[i]->skipped) {
			fputs(">\n   <skipped", f);
			xml_attr(f, "message", r[i]->detail ? r[i]->detail :
			    "skipped");
			fputs("/>\n  </testcase>\n", f);
		} else if (!r[i]->match) {
			snprintf(msg, sizeof(msg), "expected %s, got %s (side "
			    "%s)", oname(r[i]->expected), oname(r[i]->actual),
			    cm_side_name(r[i]->side));
			fputs(">\n   <failure", f);
			xml_attr(f, "message", msg);
			fputc('>', f);
			xml_text(f, r[i]->detail, false);
			fputs("</failure>\n  </testcase>\n", f);
		} else {
			fputs("/>\n", f);
		}
	}
	fputs(" </testsuite>\n</testsuites>\n", f);
	if (fflush(f) != 0 || ferror(f))
		return cm__fail(ctx, CM_E_IO, "report: cannot write JUnit XML");
	return CM_OK;
}

static cm_err
write_tap(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n)
{
	size_t i;

	fprintf(f, "1..%zu\n", n);
	for (i = 0; i < n; i++) {
		if (r[i]->skipped)
			fprintf(f, "ok %zu - %s # SKIP %s\n", i + 1, r[i]->name,
			    r[i]->detail ? r[i]->detail : "peer missing");
		else
			fprintf(f, "%sok %zu - %s: expected %s, got %s\n",
			    r[i]->match ? "" : "not ", i + 1, r[i]->name,
			    oname(r[i]->expected), oname(r[i]->actual));
		if (!r[i]->skipped && !r[i]->match && r[i]->detail)
			fprintf(f, "# %s\n", r[i]->detail);
	}
	if (ferror(f))
		return cm__errno_fail(ctx, errno ? errno : EIO, "report: write");
	return CM_OK;
}

static cm_err
write_table(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n,
    unsigned flags)
{
	bool color = flags & CM_REPORT_COLOR;
	const char *green = color ? "\033[32m" : "", *red = color ?
	    "\033[31m" : "", *yellow = color ? "\033[33m" : "",
	    *off = color ? "\033[0m" : "";
	counts c = count(r, n);
	size_t i, w = 8;

	for (i = 0; i < n; i++)
		if (strlen(r[i]->name) > w)
			w = strlen(r[i]->name);
	if (w > 60)
		w = 60;
	fprintf(f, "%-*s  %-16s %-16s %-8s %-6s %-7s %8s\n", (int)w,
	    "SCENARIO", "EXPECTED", "ACTUAL", "RESULT", "SIDE", "VERSION",
	    "MS");
	for (i = 0; i < n; i++) {
		const char *res, *col;
		if (r[i]->skipped) {
			res = "skip";
			col = yellow;
		} else if (r[i]->match) {
			res = "ok";
			col = green;
		} else {
			res = "MISMATCH";
			col = red;
		}
		fprintf(f, "%-*s  %-16s %-16s %s%-8s%s %-6s %-7s %8.2f\n",
		    (int)w, r[i]->name, oname(r[i]->expected),
		    r[i]->skipped ? "-" : oname(r[i]->actual), col, res, off,
		    cm_side_name(r[i]->side),
		    r[i]->version ? r[i]->version : "-", r[i]->time_ms);
		if (r[i]->detail && (!r[i]->match || (flags &
		    CM_REPORT_VERBOSE)))
			fprintf(f, "%*s  %s\n", (int)w, "", r[i]->detail);
	}
	fprintf(f, "%zu scenarios: %s%zu matched%s, %s%zu mismatched%s, "
	    "%zu skipped\n", c.total, c.matched ? green : "", c.matched, off,
	    c.mismatched ? red : "", c.mismatched, off, c.skipped);
	if (ferror(f))
		return cm__errno_fail(ctx, errno ? errno : EIO, "report: write");
	return CM_OK;
}

cm_err
cm_report_write(FILE *f, cm_ctx *ctx, cm_report_format fmt,
    cm_result *const *results, size_t n, unsigned flags)
{
	switch (fmt) {
	case CM_REPORT_JSON:
		return write_json(f, ctx, results, n);
	case CM_REPORT_JUNIT:
		return write_junit(f, ctx, results, n);
	case CM_REPORT_TAP:
		return write_tap(f, ctx, results, n);
	case CM_REPORT_TABLE:
		return write_table(f, ctx, results, n, flags);
	}
	return cm__fail(ctx, CM_E_INVALID, "report: unknown format %d",
	    (int)fmt);
}
