/*
 * report.c - harness reports: a table for terminals, JSON (jansson),
 * JUnit XML, TAP and one self-contained HTML page, written to the
 * caller's stream.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"

static const char *const fmt_names[] = { "table", "json", "junit", "tap",
	"html" };

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
	    "(table, json, junit, tap, html)", name ? name : "");
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

/* ---- HTML ---------------------------------------------------------------- */

/* Text for HTML, escaped; control characters shown as U+FFFD. */
static void
html_text(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fputs("&#xfffd;", f);
			else
				fputc(c, f);
		}
	}
}

static const char *const state_class[] = { "ok", "wrong", "warn", "info",
	"skip" };
static const char *const state_word[] = { "as expected", "WRONG",
	"warning", "info", "skipped" };

/* Index of s in v (n entries), appended when absent; -1 on no memory. */
static long
intern(const char ***v, size_t *n, size_t *cap, const char *s)
{
	size_t i;
	const char **nv;

	s = s ? s : "";
	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return (long)i;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		if ((nv = realloc(*v, c * sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[*n] = s;
	return (long)(*n)++;
}

static const char html_style[] =
"body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f;"
"background:#fff}h1{font-size:1.3em;margin:0 0 .3em}"
"p.sum{margin:.2em 0 1em;font-size:1.05em}p.sum b.bad{color:#b3261e}"
"table{border-collapse:collapse}th,td{border:1px solid #d0d0d4;"
"padding:2px 6px;vertical-align:top}thead th{position:sticky;top:0;"
"background:#f2f2f5;z-index:1}th.row{text-align:left;font-weight:normal;"
"font-family:ui-monospace,monospace;white-space:nowrap}"
".ok{background:#dff3e3}.wrong{background:#f9d2cf;font-weight:bold}"
".warn{background:#fbe9c6}.info{background:#e3ecf9}"
".skip{background:#eeeeee;color:#666}td.none{background:#fff}"
"details summary{cursor:pointer;list-style:none}"
"details summary::-webkit-details-marker{display:none}"
"details div{font-weight:normal;font-size:.92em;max-width:28em;"
"white-space:normal;margin-top:2px}"
"footer{margin-top:1em;color:#666;font-size:.9em}"
"ul.legend{list-style:none;padding:0;margin:0 0 .8em}"
"ul.legend li{display:inline-block;margin-right:1em;padding:0 .4em}";

cm_err
cm_report_write_grid(FILE *f, cm_ctx *ctx, const char *title,
    const cm_report_cell *cells, size_t n)
{
	const char **rows = NULL, **cols = NULL;
	size_t nr = 0, rcap = 0, nc = 0, ccap = 0, i, j, k;
	size_t tally[5] = { 0, 0, 0, 0, 0 };
	long *at = NULL;          /* cell index per row x col, -1 none */
	unsigned char *rank = NULL; /* 0: a wrong cell, 1: a warning, 2 */
	size_t *order = NULL;
	char when[32];
	cm_err err = CM_OK;
	int pass;

	for (i = 0; i < n; i++) {
		if (intern(&rows, &nr, &rcap, cells[i].row) < 0 ||
		    intern(&cols, &nc, &ccap, cells[i].col) < 0) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if ((unsigned)cells[i].state < 5)
			tally[cells[i].state]++;
	}
	if ((nr && nc && (at = malloc(nr * nc * sizeof(*at))) == NULL) ||
	    (rank = malloc(nr ? nr : 1)) == NULL ||
	    (order = malloc((nr ? nr : 1) * sizeof(*order))) == NULL) {
		err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nr * nc; i++)
		at[i] = -1;
	memset(rank, 2, nr ? nr : 1);
	for (i = 0; i < n; i++) {
		size_t r = (size_t)intern(&rows, &nr, &rcap, cells[i].row);
		size_t c = (size_t)intern(&cols, &nc, &ccap, cells[i].col);
		at[r * nc + c] = (long)i;
		if (cells[i].state == CM_CELL_WRONG)
			rank[r] = 0;
		else if (cells[i].state == CM_CELL_WARN && rank[r] > 1)
			rank[r] = 1;
	}
	/* Mismatches first, then warnings, each in the order they came. */
	k = 0;
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < nr; i++)
			if (rank[i] == pass)
				order[k++] = i;
	cm__rfc3339(when, sizeof(when), cm_ctx_now(ctx));

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>", f);
	html_text(f, title);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>", html_style);
	html_text(f, title);
	fprintf(f, "</h1>\n<p class=\"sum\">%zu results: %zu as expected, "
	    "%s%zu wrong%s, %zu warnings, %zu info, %zu skipped</p>\n", n,
	    tally[CM_CELL_OK], tally[CM_CELL_WRONG] ? "<b class=\"bad\">" :
	    "", tally[CM_CELL_WRONG], tally[CM_CELL_WRONG] ? "</b>" : "",
	    tally[CM_CELL_WARN], tally[CM_CELL_INFO], tally[CM_CELL_SKIP]);
	fputs("<ul class=\"legend\">", f);
	for (i = 0; i < 5; i++)
		fprintf(f, "<li class=\"%s\">%s</li>", state_class[i],
		    state_word[i]);
	fputs("</ul>\n<table><thead><tr><th>scenario</th>", f);
	for (j = 0; j < nc; j++) {
		fputs("<th>", f);
		html_text(f, cols[j]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
	for (k = 0; k < nr; k++) {
		i = order[k];
		fputs("<tr><th class=\"row\">", f);
		html_text(f, rows[i]);
		fputs("</th>", f);
		for (j = 0; j < nc; j++) {
			const cm_report_cell *c;
			if (at[i * nc + j] < 0) {
				fputs("<td class=\"none\"></td>", f);
				continue;
			}
			c = &cells[at[i * nc + j]];
			fprintf(f, "<td class=\"%s\" title=\"",
			    state_class[(unsigned)c->state < 5 ? c->state : 0]);
			fputs("expected ", f);
			html_text(f, c->expected);
			fputs(", got ", f);
			html_text(f, c->actual);
			if (c->detail && *c->detail) {
				fputs(": ", f);
				html_text(f, c->detail);
			}
			fputs("\"><details><summary>", f);
			html_text(f, c->actual);
			fputs("</summary><div>expected ", f);
			html_text(f, c->expected);
			if (c->detail && *c->detail) {
				fputs("<br>", f);
				html_text(f, c->detail);
			}
			fputs("</div></details></td>", f);
		}
		fputs("</tr>\n", f);
	}
	fprintf(f, "</tbody></table>\n<footer>certmint %s, %s</footer>\n"
	    "</body></html>\n", PACKAGE_VERSION, when);
	if (ferror(f))
		err = cm__errno_fail(ctx, errno ? errno : EIO, "report: write");
out:
	free(rows);
	free(cols);
	free(at);
	free(rank);
	free(order);
	return err;
}

/* The matrix as a grid: the scenario without its version prefix by the
 * version and peer. */
static cm_err
write_html(FILE *f, cm_ctx *ctx, cm_result *const *r, size_t n)
{
	cm_report_cell *cells = NULL;
	char **bufs = NULL;
	size_t i;
	cm_err err = CM_OK;

	if ((cells = calloc(n ? n : 1, sizeof(*cells))) == NULL ||
	    (bufs = calloc(n ? 3 * n : 1, sizeof(*bufs))) == NULL) {
		free(cells);
		return cm__fail(ctx, CM_E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		const char *name = r[i]->name, *slash = strchr(name, '/');
		char ver[32] = "", col[96], det[1024], *at;
		if (slash != NULL && slash - name < (long)sizeof(ver) &&
		    strncmp(name, "tls", 3) == 0) {
			memcpy(ver, name, (size_t)(slash - name));
			ver[slash - name] = '\0';
			name = slash + 1;
		}
		/* "name@peer": the peer is the column's. */
		if ((bufs[3 * i + 1] = cm__strdup(name)) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		if (r[i]->peer != NULL && (at = strrchr(bufs[3 * i + 1],
		    '@')) != NULL && strcmp(at + 1, r[i]->peer) == 0)
			*at = '\0';
		cells[i].row = bufs[3 * i + 1];
		snprintf(col, sizeof(col), "%s%s%s", ver, ver[0] ? " " : "",
		    r[i]->peer ? r[i]->peer : "gnutls");
		snprintf(det, sizeof(det), "%s%s%s%s%s%s%s%s%s",
		    r[i]->version ? r[i]->version : "",
		    r[i]->cipher ? " " : "", r[i]->cipher ? r[i]->cipher : "",
		    r[i]->group ? " " : "", r[i]->group ? r[i]->group : "",
		    r[i]->side != CM_SIDE_NONE ? "; rejected by the " : "",
		    r[i]->side != CM_SIDE_NONE ? cm_side_name(r[i]->side) :
		    "", r[i]->detail ? "; " : "", r[i]->detail ?
		    r[i]->detail : "");
		if ((bufs[3 * i] = cm__strdup(col)) == NULL ||
		    (bufs[3 * i + 2] = cm__strdup(det)) == NULL) {
			err = cm__fail(ctx, CM_E_NOMEM, "out of memory");
			goto out;
		}
		cells[i].col = bufs[3 * i];
		cells[i].actual = r[i]->skipped ? "skipped" :
		    oname(r[i]->actual);
		cells[i].expected = oname(r[i]->expected);
		cells[i].detail = bufs[3 * i + 2];
		cells[i].state = r[i]->skipped ? CM_CELL_SKIP : r[i]->match ?
		    CM_CELL_OK : CM_CELL_WRONG;
	}
	err = cm_report_write_grid(f, ctx, "certmint test", cells, n);
out:
	for (i = 0; i < 3 * n; i++)
		free(bufs[i]);
	free(bufs);
	free(cells);
	return err;
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
	case CM_REPORT_HTML:
		return write_html(f, ctx, results, n);
	}
	return cm__fail(ctx, CM_E_INVALID, "report: unknown format %d",
	    (int)fmt);
}
