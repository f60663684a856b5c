/* check_ui.c: the status page's pure parts: HTML escaping of hostile
 * values (html.c), the overview's query, and the pages (ui.c) built from
 * hand-made facts: every hostile value shows as text, never as markup,
 * problems come first, the filter and the pages hold. Chromium renders
 * the real pages in tests/it_ui.sh. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "testutil.h"
#include "ui.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static char *
escaped(const char *s)
{
	struct buf b = BUF_INIT;
	char *out;

	html_text(&b, s);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_ptr_nonnull(out = buf_detach(&b, NULL));
	return out;
}

static const struct {
	const char	*in;
	const char	*want;
} escapes[] = {
	{ "plain text, é", "plain text, é" },
	{ "<script>document.title=\"pwned\"</script>",
	  "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" },
	{ "\"><img src=x onerror=alert(1)>",
	  "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
	{ "a & b &amp; 'c'", "a &amp; b &amp;amp; &#39;c&#39;" },
	{ "tab\tnew\nline\rend", "tab\tnew\nline\rend" },
	/* Control characters and broken UTF-8 become U+FFFD. */
	{ "bell\a esc\x1b del\x7f", "bell\xef\xbf\xbd esc\xef\xbf\xbd "
	  "del\xef\xbf\xbd" },
	{ "bad \xff\xfe utf-8 \xc3", "bad \xef\xbf\xbd\xef\xbf\xbd utf-8 "
	  "\xef\xbf\xbd" },
	{ "", "" },
};

START_TEST(test_escape)
{
	char *out = escaped(escapes[_i].in);

	ck_assert_str_eq(out, escapes[_i].want);
	free(out);
}
END_TEST

/* Whatever the bytes, the output holds none of < > " ' unescaped, and no
 * control character but tab, line feed and carriage return. */
START_TEST(test_escape_any)
{
	unsigned int seed = 21;
	char in[64], *out;
	size_t i, k;

	for (i = 0; i < 2000; i++) {
		for (k = 0; k + 1 < sizeof(in); k++)
			in[k] = (char)(1 + rand_r(&seed) % 255);
		in[k] = '\0';
		out = escaped(in);
		for (k = 0; out[k] != '\0'; k++) {
			ck_assert_msg(strchr("<>\"'", out[k]) == NULL,
			    "raw %c", out[k]);
			ck_assert(!((unsigned char)out[k] < 0x20 &&
			    out[k] != '\t' && out[k] != '\n' && out[k] != '\r'));
			if (out[k] == '&')
				ck_assert(strncmp(out + k, "&amp;", 5) == 0 ||
				    strncmp(out + k, "&lt;", 4) == 0 ||
				    strncmp(out + k, "&gt;", 4) == 0 ||
				    strncmp(out + k, "&quot;", 6) == 0 ||
				    strncmp(out + k, "&#39;", 5) == 0);
		}
		free(out);
	}
}
END_TEST

START_TEST(test_cut_and_url)
{
	struct buf b = BUF_INIT;
	char *out;

	html_text_cut(&b, "\xc3\xa9\xc3\xa9<x>", 3);	/* éé<x> */
	ck_assert_ptr_nonnull(out = buf_detach(&b, NULL));
	ck_assert_str_eq(out, "\xc3\xa9 ... (5 more bytes)");
	free(out);
	html_text_cut(&b, "<ok>", 4);
	ck_assert_ptr_nonnull(out = buf_detach(&b, NULL));
	ck_assert_str_eq(out, "&lt;ok&gt;");
	free(out);
	html_url(&b, "web-1_a.b~ \"&<>/?#%é");
	ck_assert_ptr_nonnull(out = buf_detach(&b, NULL));
	ck_assert_str_eq(out, "web-1_a.b~%20%22%26%3C%3E%2F%3F%23%25%C3%A9");
	free(out);
	html_text(&b, NULL);
	html_url(&b, NULL);
	ck_assert_uint_eq(b.len, 0);
	buf_release(&b);
}
END_TEST

static const struct {
	const char	*form;
	const char	*why;	/* NULL: accepted */
} queries[] = {
	{ "", NULL },
	{ "q=web&state=problems&page=3", NULL },
	{ "state=", NULL },
	{ "state=rejected&other=1", NULL },
	{ "state=bogus", "state \"bogus\" is not one of" },
	{ "page=0", "page \"0\"" },
	{ "page=x", "page \"x\"" },
	{ "page=1000001", "page" },
};

START_TEST(test_query)
{
	struct kvlist params = { 0 };
	struct ui_query q;
	char err[ERR_MAX];
	int rc;

	ck_assert_int_eq(request_decode_form(queries[_i].form,
	    strlen(queries[_i].form), &params, err), 0);
	rc = ui_query_parse(&params, &q, err);
	if (queries[_i].why == NULL)
		ck_assert_msg(rc == 0, "%s: %s", queries[_i].form, err);
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, queries[_i].why) != NULL, "%s", err);
	}
	if (_i == 1) {
		ck_assert_str_eq(q.name, "web");
		ck_assert_int_eq(q.state, UI_PROBLEMS);
		ck_assert_uint_eq(q.page, 3);
	}
	kvlist_release(&params);
}
END_TEST

#define HOSTILE_NAME	"web"
#define HOSTILE_REASON	"<script>document.title='pwned'</script>"
#define HOSTILE_WARN	"\"><img src=x onerror=alert(1)>"

/* n services s0000..; every third has a problem. */
static struct explain *
services(size_t n)
{
	struct explain *v = calloc(n, sizeof(*v));
	char name[32];
	size_t i;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "s%04zu", i);
		ck_assert_ptr_nonnull(v[i].name = strdup(name));
		v[i].source = "webhook";
		v[i].state = "active";
		v[i].rule_state = RULE_NONE;
		v[i].ntargets = 1;
		if (i % 3 == 0) {
			v[i].state = "rejected";
			v[i].rule_state = RULE_REJECTED;
			v[i].problems = EXPLAIN_P_REJECTED;
			ck_assert_ptr_nonnull(v[i].rule_reason =
			    strdup(HOSTILE_REASON));
		}
	}
	return v;
}

static char *
overview(const struct explain_overview *ov, const char *form)
{
	struct kvlist params = { 0 };
	struct buf b = BUF_INIT;
	struct ui_query q;
	char err[ERR_MAX], *out;

	ck_assert_int_eq(request_decode_form(form, strlen(form), &params, err),
	    0);
	ck_assert_int_eq(ui_query_parse(&params, &q, err), 0);
	ui_overview(&b, ov, &q);
	kvlist_release(&params);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_ptr_nonnull(out = buf_detach(&b, NULL));
	return out;
}

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

START_TEST(test_overview)
{
	struct explain_overview ov;
	char *page, *row0, *row1;

	memset(&ov, 0, sizeof(ov));
	ov.v = services(250);
	ov.n = 250;
	ov.version = "test";
	ov.have_reload = 1;
	ov.reload_ok = 0;
	snprintf(ov.reload_error, sizeof(ov.reload_error), "%s",
	    "POST http://p/-/reload answered 500: " HOSTILE_WARN);
	page = overview(&ov, "");
	/* Nothing from a value is markup. */
	ck_assert_uint_eq(count(page, "<script"), 0);
	ck_assert_uint_eq(count(page, "<img"), 0);
	ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;document.title="
	    "&#39;pwned&#39;&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(page, "The last reload failed: POST "
	    "http://p/-/reload answered 500: &quot;&gt;&lt;img"));
	/* Summary: 250 services, 84 rules rejected. */
	ck_assert_ptr_nonnull(strstr(page, "id=\"f-services\"><b>250</b>"));
	ck_assert_ptr_nonnull(strstr(page, "id=\"f-rejected\"><b>84</b>"));
	/* Problems first: the 84 problem rows (s0000, s0003 ... s0249),
	 * then the others by name (s0001, s0002, ...) on the same page. */
	ck_assert_uint_eq(count(page, "<tr"), UI_PAGE_SIZE + 1);
	ck_assert_ptr_nonnull(row0 = strstr(page, "<tr class=\"problem\">"
	    "<td class=\"name\"><a href=\"/ui/services/s0000\">"));
	ck_assert_ptr_nonnull(row1 = strstr(page, "href=\"/ui/services/"
	    "s0002\">"));
	ck_assert_ptr_nonnull(strstr(page, "/ui/services/s0249\""));
	ck_assert(strstr(page, "/ui/services/s0249\"") < row1);
	ck_assert(row0 < row1);
	ck_assert_ptr_nonnull(strstr(page, "page 1 of 3"));
	ck_assert_ptr_nonnull(strstr(page, "href=\"/?q=&amp;state=all&amp;"
	    "page=2\">next"));
	free(page);
	/* The filter: name part and state, paged. */
	page = overview(&ov, "q=S00&state=problems&page=1");
	ck_assert_ptr_nonnull(strstr(page, "Services (34, filtered)"));
	ck_assert_uint_eq(count(page, "<tr class=\"problem\">"), 34);
	ck_assert_ptr_nonnull(strstr(page, "value=\"S00\""));
	ck_assert_ptr_nonnull(strstr(page, "<option selected>problems"));
	free(page);
	/* A page past the last shows the last: 166 services without rules,
	 * 66 on page 2. */
	page = overview(&ov, "state=none&page=9");
	ck_assert_uint_eq(count(page, "<tr"), 66 + 1);
	ck_assert_ptr_nonnull(strstr(page, "page 2 of 2"));
	ck_assert_ptr_nonnull(strstr(page, "href=\"/?q=&amp;state=none&amp;"
	    "page=1\">&laquo; previous"));
	ck_assert_ptr_null(strstr(page, "next &raquo;"));
	free(page);
	page = overview(&ov, "state=loaded&page=5");
	ck_assert_uint_eq(count(page, "<tr"), 1);	/* the head */
	ck_assert_ptr_nonnull(strstr(page, "page 1 of 1"));
	ck_assert_ptr_nonnull(strstr(page, "No service matches."));
	free(page);
	/* A reload configured: no word of the notice below. */
	ck_assert_ptr_null(strstr(page = overview(&ov, ""), "no-reload"));
	free(page);
	explain_all_free(ov.v, ov.n);
}
END_TEST

/* No reload configured: the figure says so, the problems say the rule
 * files are never loaded; no Prometheus URL known is not "none". */
START_TEST(test_overview_no_reload)
{
	struct explain_overview ov;
	char *page;
	size_t i;

	memset(&ov, 0, sizeof(ov));
	ov.v = services(6);
	ov.n = 6;
	for (i = 0; i < ov.n; i++) {
		ov.v[i].has_rules = i < 4;
		if (ov.v[i].rule_state == RULE_NONE && i < 4)
			ov.v[i].rule_state = RULE_PENDING;
	}
	ov.version = "test";
	ov.have_reload = 0;
	ov.reload_ok = 1;
	ov.prom_why = EXPLAIN_PROM_UNKNOWN;
	page = overview(&ov, "");
	/* s0000 and s0003 rejected, s0001 s0002 pending, s0004 s0005 none */
	ck_assert_ptr_nonnull(strstr(page, "id=\"no-reload\">No reload is "
	    "configured (no --reload-url, no --run-prometheus): 2 rule files "
	    "are written, but flowmon never asks Prometheus to load them"));
	ck_assert_ptr_nonnull(strstr(page, "id=\"f-reload\"><b>none</b>"
	    "<span class=\"warn\">no reload configured</span>"));
	ck_assert_ptr_null(strstr(page, "last reload"));
	ck_assert_ptr_null(strstr(page, "--prometheus-url none"));
	ck_assert_ptr_nonnull(strstr(page, "Prometheus: <span id=\"prom-off\">"
	    "not asked (no Prometheus URL is known: no --prometheus-url, and "
	    "no --reload-url to derive it from)</span>"));
	free(page);
	ov.prom_why = EXPLAIN_PROM_NONE;
	page = overview(&ov, "");
	ck_assert_ptr_nonnull(strstr(page, "not asked (--prometheus-url "
	    "none)"));
	free(page);
	explain_all_free(ov.v, ov.n);
}
END_TEST

START_TEST(test_service_page)
{
	struct explain x;
	struct history_item h = { 1000, REGISTRY_EV_REFUSED, 3,
	    (char *)"from webhook: " HOSTILE_WARN, NULL };
	struct buf b = BUF_INIT;
	char *page;

	memset(&x, 0, sizeof(x));
	x.name = (char *)HOSTILE_NAME;
	x.state = "active";
	x.rule_state = RULE_PENDING;
	x.source = "docker";
	ck_assert_int_eq(kvlist_set(&x.params, "alertAnnotations",
	    "summary=" HOSTILE_REASON), 0);
	ck_assert_int_eq(kvlist_set(&x.params, "alertLabels",
	    "team=" HOSTILE_WARN), 0);
	x.warnings = (char *[]){ (char *)HOSTILE_WARN };
	x.nwarnings = 1;
	x.rules_text = (char *)"groups:\n- name: web\n  rules:\n  - alert: "
	    "web_x\n    annotations:\n      summary: " HOSTILE_REASON "\n";
	x.history = &h;
	x.nhistory = 1;
	ui_service(&b, &x, 61000);
	ck_assert_ptr_nonnull(page = buf_detach(&b, NULL));
	ck_assert_uint_eq(count(page, "<script"), 0);
	ck_assert_uint_eq(count(page, "<img"), 0);
	ck_assert_uint_eq(count(page, "&lt;script&gt;document.title="), 2);
	ck_assert_uint_eq(count(page, "&quot;&gt;&lt;img src=x onerror="),
	    3);
	ck_assert_ptr_nonnull(strstr(page, "<title>web - flowmon</title>"));
	ck_assert_ptr_nonnull(strstr(page, "Not asked: no Prometheus URL is "
	    "known"));
	ck_assert_ptr_nonnull(strstr(page, "60 s ago"));
	ck_assert_ptr_nonnull(strstr(page, "refused &times;3"));
	free(page);
	kvlist_release(&x.params);
	ui_error(&b, 404, "service <x> is not known");
	ck_assert_ptr_nonnull(page = buf_detach(&b, NULL));
	ck_assert_ptr_nonnull(strstr(page, "service &lt;x&gt; is not known"));
	free(page);
}
END_TEST

static Suite *
ui_suite(void)
{
	Suite *s = suite_create("ui");
	TCase *tc = tcase_create("html");

	tcase_add_loop_test(tc, test_escape, 0, nitems(escapes));
	tcase_add_test(tc, test_escape_any);
	tcase_add_test(tc, test_cut_and_url);
	tcase_add_loop_test(tc, test_query, 0, nitems(queries));
	tcase_add_test(tc, test_overview);
	tcase_add_test(tc, test_overview_no_reload);
	tcase_add_test(tc, test_service_page);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(ui_suite());
}
