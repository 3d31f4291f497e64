/*
 * report.c - harness reports: a table for terminals, JSON (jansson),
 * JUnit XML (libxml2 xmlwriter) and TAP, written to the caller's stream.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <libxml/xmlwriter.h>

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

static int
xml_out(void *ctx, const char *buf, int len)
{
	return (int)fwrite(buf, 1, (size_t)len, (FILE *)ctx);
}

static cm_err
write_junit(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n)
{
	xmlOutputBufferPtr ob;
	xmlTextWriterPtr w;
	counts c = count(r, n);
	double total = 0;
	char num[64], msg[256];
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		total += r[i]->time_ms;
	if ((ob = xmlOutputBufferCreateIO(xml_out, NULL, f, NULL)) == NULL)
		return cm__fail(ctx, CM_E_NOMEM, "report: XML buffer");
	if ((w = xmlNewTextWriter(ob)) == NULL) {
		xmlOutputBufferClose(ob);
		return cm__fail(ctx, CM_E_NOMEM, "report: XML writer");
	}
	xmlTextWriterSetIndent(w, 1);
	rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuites") < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0;
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name",
	    BAD_CAST "certmint harness") < 0;
#define NUMATTR(k, v) do { snprintf(num, sizeof(num), "%zu", (size_t)(v)); \
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST (k), BAD_CAST num) < 0; \
	} while (0)
	NUMATTR("tests", c.total);
	NUMATTR("failures", c.mismatched);
	NUMATTR("errors", 0);
	NUMATTR("skipped", c.skipped);
#undef NUMATTR
	snprintf(num, sizeof(num), "%.3f", total / 1000.0);
	rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST num) < 0;
	for (i = 0; i < n; i++) {
		rc |= xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0;
		snprintf(msg, sizeof(msg), "certmint.%s",
		    r[i]->peer ? r[i]->peer : "gnutls");
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "classname",
		    BAD_CAST msg) < 0;
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name",
		    BAD_CAST r[i]->name) < 0;
		snprintf(num, sizeof(num), "%.3f", r[i]->time_ms / 1000.0);
		rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "time",
		    BAD_CAST num) < 0;
		if (r[i]->skipped) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "skipped") < 0;
			rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "message",
			    BAD_CAST (r[i]->detail ? r[i]->detail :
			    "skipped")) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (!r[i]->match) {
			snprintf(msg, sizeof(msg), "expected %s, got %s (side "
			    "%s)", oname(r[i]->expected), oname(r[i]->actual),
			    cm_side_name(r[i]->side));
			rc |= xmlTextWriterStartElement(w, BAD_CAST "failure") < 0;
			rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "message",
			    BAD_CAST msg) < 0;
			if (r[i]->detail)
				rc |= xmlTextWriterWriteString(w,
				    BAD_CAST r[i]->detail) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		}
		rc |= xmlTextWriterEndElement(w) < 0;
	}
	rc |= xmlTextWriterEndDocument(w) < 0;
	xmlFreeTextWriter(w);
	if (rc || ferror(f))
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
