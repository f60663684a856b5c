/* ui.c: the status page's HTML (ui.h). Every value that came from outside
 * flowmon goes through html.h; what buf_printf() writes directly is
 * flowmon's own words and numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "html.h"
#include "ui.h"
#include "values.h"

#define API	"/v1/docker-flow-monitor"

/* Parameters and texts longer than this are cut on the pages (the JSON
 * APIs have them whole). */
#define UI_VALUE_MAX	4096
#define UI_FILE_MAX	(256 * 1024)

static const char ui_style[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;"
	"max-width:80rem;padding:0 1rem 2rem;color:#1b1f24;background:#fff}"
	"h1{font-size:1.5rem;margin:1rem 0 .2rem;word-break:break-all}"
	"h2{font-size:1.15rem;margin:1.6rem 0 .5rem}"
	"a{color:#0550ae}.sub{color:#57606a;margin:0}"
	".figs{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}"
	".fig{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem;"
	"min-width:8rem}.fig b{display:block;font-size:1.35rem}"
	".bad{color:#cf222e}.warn{color:#9a6700}.ok{color:#1a7f37}"
	".muted{color:#57606a}.wrap{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{text-align:left;padding:.3rem .5rem;"
	"border-bottom:1px solid #d0d7de;vertical-align:top}"
	"th{background:#f6f8fa;white-space:nowrap}"
	"td{overflow-wrap:break-word}"
	"tr.problem td:first-child{box-shadow:inset 3px 0 #cf222e}"
	"td.name{white-space:nowrap}"
	"pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;"
	"white-space:pre-wrap;word-break:break-all;font-size:13px;"
	"tab-size:2}"
	"form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;"
	"margin:1rem 0}input,select,button{font:inherit;padding:.2rem .4rem}"
	"ul{padding-left:1.2rem}li{margin:.2rem 0}"
	"nav{margin:1rem 0;display:flex;gap:1rem;flex-wrap:wrap}"
	"@media(max-width:40rem){.opt{display:none}body{padding:0 .5rem 2rem}"
	"th,td{padding:.25rem .3rem}}";

/* 1 when filter f selects by the rule file's state, that state in *rs. */
static int
ui_filter_rule(enum ui_filter f, enum rule_state *rs)
{
	switch (f) {
	case UI_PENDING:
		*rs = RULE_PENDING;
		return 1;
	case UI_LOADED:
		*rs = RULE_LOADED;
		return 1;
	case UI_NONE:
		*rs = RULE_NONE;
		return 1;
	default:
		return 0;
	}
}

/* The word of filter f in the state parameter: the rule states' are the
 * lifecycle's own words. */
static const char *
ui_filter_name(enum ui_filter f)
{
	static const char *const words[UI_NFILTERS] = {
		[UI_ALL] = "all", [UI_PROBLEMS] = "problems",
		[UI_DOWN] = "down", [UI_ACTIVE] = "active",
		[UI_INVALID] = "invalid", [UI_REJECTED] = "rejected",
	};
	enum rule_state rs;

	return ui_filter_rule(f, &rs) ? rule_state_name(rs) : words[f];
}

int
ui_query_parse(const struct kvlist *params, struct ui_query *q,
    char err[ERR_MAX])
{
	const char *name = kvlist_get_ci(params, "q");
	const char *state = kvlist_get_ci(params, "state");
	const char *page = kvlist_get_ci(params, "page");
	long n;
	int i;

	memset(q, 0, sizeof(*q));
	q->page = 1;
	if (name != NULL && strlen(name) > SERVICE_NAME_MAX) {
		snprintf(err, ERR_MAX, "q is %zu bytes: a part of a service "
		    "name has at most %d", strlen(name), SERVICE_NAME_MAX);
		return -1;
	}
	if (name != NULL)
		snprintf(q->name, sizeof(q->name), "%s", name);
	for (i = 0; state != NULL && *state != '\0' && i < UI_NFILTERS; i++)
		if (strcmp(state, ui_filter_name((enum ui_filter)i)) == 0)
			break;
	if (state != NULL && *state != '\0' && i == UI_NFILTERS) {
		char words[256] = "";

		for (i = 0; i < UI_NFILTERS; i++)
			snprintf(words + strlen(words), sizeof(words) -
			    strlen(words), "%s%s", i > 0 ? ", " : "",
			    ui_filter_name((enum ui_filter)i));
		snprintf(err, ERR_MAX, "state \"%.60s\" is not one of %s",
		    state, words);
		return -1;
	}
	q->state = state != NULL && *state != '\0' ? (enum ui_filter)i :
	    UI_ALL;
	if (page != NULL && *page != '\0') {
		if (values_count(page, 1, 1000000, &n) == -1) {
			snprintf(err, ERR_MAX, "page \"%.60s\" is not a page "
			    "number (1 to 1000000)", page);
			return -1;
		}
		q->page = (size_t)n;
	}
	return 0;
}

static void
page_open(struct buf *b, const char *title)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\"><title>");
	html_text(b, title);
	buf_printf(b, " - flowmon</title><style>%s</style></head>\n<body>\n",
	    ui_style);
}

static void
page_close(struct buf *b)
{
	buf_adds(b, "</body></html>\n");
}

/* "12 s ago", "5 min ago", "3 h ago", else the date. */
static void
ago(struct buf *b, int64_t now_ms, int64_t t_ms)
{
	int64_t s = (now_ms - t_ms) / 1000;
	char t[32];

	if (t_ms <= 0)
		buf_adds(b, "never");
	else if (s < 0 || s >= 86400) {
		clock_rfc3339(t_ms, t);
		buf_adds(b, t);
	} else if (s < 120)
		buf_printf(b, "%lld s ago", (long long)s);
	else if (s < 7200)
		buf_printf(b, "%lld min ago", (long long)(s / 60));
	else
		buf_printf(b, "%lld h ago", (long long)(s / 3600));
}

/* The CSS class of a service's state word. */
static const char *
state_class(const char *w)
{
	if (strcmp(w, "rejected") == 0 || strcmp(w, "invalid") == 0)
		return "bad";
	if (strcmp(w, "active") == 0)
		return "ok";
	return "muted";
}

/* The CSS class of a rule file's state. */
static const char *
rule_class(enum rule_state rs)
{
	switch (rs) {
	case RULE_REJECTED:
		return "bad";
	case RULE_PENDING:
		return "warn";
	case RULE_LOADED:
		return "ok";
	default:
		return "muted";
	}
}

static void
service_link(struct buf *b, const char *name)
{
	buf_adds(b, "<a href=\"/ui/services/");
	html_url(b, name);
	buf_adds(b, "\">");
	html_text(b, name);
	buf_adds(b, "</a>");
}

/* Targets: "2", or "2 (1 up, 1 down)" when Prometheus answered. */
static void
targets_cell(struct buf *b, const struct explain *x)
{
	buf_printf(b, "%zu", x->ntargets);
	if (x->prom == NULL || !x->prom->have_targets || x->ntargets == 0)
		return;
	buf_printf(b, " <span class=\"%s\">(%zu up", x->up == x->ntargets ?
	    "ok" : "warn", x->up);
	if (x->down > 0)
		buf_printf(b, ", <span class=\"bad\">%zu down</span>",
		    x->down);
	buf_adds(b, ")</span>");
}

/* What is wrong with x, in a few words each, "; " between. */
static void
problem_text(struct buf *b, const struct explain *x, size_t max)
{
	const char *sep = "";

	if (x->problems & EXPLAIN_P_INVALID) {
		buf_adds(b, "record does not parse: ");
		html_text_cut(b, x->invalid, max);
		sep = "; ";
	}
	if (x->problems & EXPLAIN_P_REJECTED) {
		buf_printf(b, "%srule file rejected: ", sep);
		html_text_cut(b, x->rule_reason, max);
		sep = "; ";
	}
	if (x->problems & EXPLAIN_P_EDITED) {
		buf_printf(b, "%s%s edited by hand", sep, x->edited[0] &&
		    x->edited[1] ? "target and rule files" : x->edited[0] ?
		    "target file" : "rule file");
		sep = "; ";
	}
	if (x->problems & EXPLAIN_P_DOWN) {
		buf_printf(b, "%s%zu of %zu targets down", sep, x->down,
		    x->nptargets);
		sep = "; ";
	}
	if (x->problems & EXPLAIN_P_UNDISCOVERED) {
		buf_printf(b, "%sPrometheus scrapes none of its targets", sep);
		sep = "; ";
	}
	if (x->problems & EXPLAIN_P_NO_GROUP) {
		buf_printf(b, "%sPrometheus runs no rule group of it", sep);
		sep = "; ";
	}
	if ((x->problems & EXPLAIN_P_WARNED) && x->nwarnings > 0) {
		buf_adds(b, sep);
		html_text_cut(b, x->warnings[x->nwarnings - 1], max);
	}
}

static void
header(struct buf *b, const struct explain_overview *ov)
{
	buf_adds(b, "<header><h1>flowmon</h1><p class=\"sub\">version ");
	html_text(b, ov->version);
	buf_adds(b, " &middot; Prometheus: ");
	if (ov->prom_url == NULL) {
		buf_adds(b, "<span id=\"prom-off\">not asked (");
		html_text(b, ov->prom_why != NULL ? ov->prom_why :
		    EXPLAIN_PROM_UNKNOWN);
		buf_adds(b, ")</span>");
	} else {
		html_text(b, ov->prom_url);
		buf_printf(b, " <span class=\"%s\">%s</span>", ov->prom != NULL &&
		    ov->prom->reachable ? "ok" : "bad", ov->prom != NULL &&
		    ov->prom->reachable ? "answers" : "does not answer");
	}
	buf_adds(b, "</p></header>\n");
}

static void
figure(struct buf *b, const char *cls, const char *label)
{
	buf_printf(b, "</b><span class=\"%s\">%s</span></div>", cls, label);
}

/* The figures on top: services, targets up, alerts firing, rules
 * rejected, the last reload. */
static void
figures(struct buf *b, const struct explain_overview *ov)
{
	size_t i, targets = 0, up = 0, firing = 0, rejected = 0, invalid = 0;
	int prom_targets = ov->prom != NULL && ov->prom->have_targets;
	int prom_rules = ov->prom != NULL && ov->prom->have_rules;

	for (i = 0; i < ov->n; i++) {
		targets += ov->v[i].ntargets;
		up += ov->v[i].up;
		firing += ov->v[i].firing;
		rejected += ov->v[i].rule_state == RULE_REJECTED;
		invalid += ov->v[i].invalid != NULL;
	}
	buf_printf(b, "<section class=\"figs\"><div class=\"fig\" "
	    "id=\"f-services\"><b>%zu", ov->n);
	figure(b, invalid ? "bad" : "muted", invalid ? "services, some "
	    "invalid" : "services");
	buf_adds(b, "<div class=\"fig\" id=\"f-targets\"><b>");
	if (prom_targets)
		buf_printf(b, "%zu / %zu", up, targets);
	else
		buf_printf(b, "? / %zu", targets);
	figure(b, prom_targets && up < targets ? "warn" : "muted",
	    "targets up");
	buf_adds(b, "<div class=\"fig\" id=\"f-firing\"><b>");
	if (prom_rules)
		buf_printf(b, "%zu", firing);
	else
		buf_adds(b, "?");
	figure(b, firing ? "bad" : "muted", "alerts firing");
	buf_printf(b, "<div class=\"fig\" id=\"f-rejected\"><b>%zu", rejected);
	figure(b, rejected ? "bad" : "muted", "rules rejected");
	buf_adds(b, "<div class=\"fig\" id=\"f-reload\"><b>");
	if (!ov->have_reload)
		buf_adds(b, "none");
	else
		ago(b, ov->now_ms, ov->reload_ms);
	figure(b, !ov->have_reload ? "warn" : !ov->reload_ok ? "bad" :
	    "muted", !ov->have_reload ? "no reload configured" :
	    ov->reload_ms == 0 ? "last reload (none yet)" : ov->reload_ok ?
	    "last reload, succeeded" : "last reload, FAILED");
	buf_adds(b, "</section>\n");
}

/* Problems first: of flowmon itself, then of services (the first
 * UI_PROBLEMS_MAX), then what was refused or skipped. */
static void
problems(struct buf *b, const struct explain_overview *ov)
{
	size_t i, shown = 0, total = 0, unloaded = 0;

	for (i = 0; i < ov->n; i++) {
		total += ov->v[i].problems != 0;
		unloaded += !ov->have_reload && ov->v[i].has_rules &&
		    ov->v[i].rule_state == RULE_PENDING;
	}
	if (total == 0 && unloaded == 0 && (!ov->have_reload ||
	    ov->reload_ok) && (ov->prom_url == NULL || (ov->prom != NULL &&
	    ov->prom->reachable)))
		return;
	buf_printf(b, "<section id=\"problems\"><h2 class=\"bad\">Problems"
	    " (%zu)</h2><ul>\n", total);
	if (unloaded > 0)
		buf_printf(b, "<li class=\"warn\" id=\"no-reload\">No reload "
		    "is configured (no --reload-url, no --run-prometheus): %zu "
		    "rule file%s written, but flowmon never asks Prometheus to "
		    "load %s, so %s pending unless something else reloads "
		    "it.</li>\n", unloaded, unloaded == 1 ? " is" : "s are",
		    unloaded == 1 ? "it" : "them", unloaded == 1 ? "it stays" :
		    "they stay");
	if (ov->have_reload && !ov->reload_ok) {
		buf_adds(b, "<li class=\"bad\">The last reload failed: ");
		html_text_cut(b, ov->reload_error, UI_VALUE_MAX);
		buf_adds(b, "</li>\n");
	}
	if (ov->prom_url != NULL && (ov->prom == NULL || !ov->prom->reachable)) {
		buf_adds(b, "<li class=\"bad\">Prometheus does not answer: ");
		html_text_cut(b, ov->prom != NULL ? ov->prom->error : "",
		    UI_VALUE_MAX);
		buf_adds(b, "</li>\n");
	}
	for (i = 0; i < ov->n && shown < UI_PROBLEMS_MAX; i++) {
		if (ov->v[i].problems == 0)
			continue;
		buf_adds(b, "<li>");
		service_link(b, ov->v[i].name);
		buf_adds(b, ": ");
		problem_text(b, &ov->v[i], 300);
		buf_adds(b, "</li>\n");
		shown++;
	}
	if (shown < total)
		buf_printf(b, "<li><a href=\"/?state=problems\">%zu more</a>"
		    "</li>\n", total - shown);
	buf_adds(b, "</ul></section>\n");
}

/* Requests flowmon refused for services it does not know, and services
 * the Docker source skips: they appear nowhere else. */
static void
unknown_services(struct buf *b, const struct explain_overview *ov)
{
	size_t i;

	if (ov->nrefused > 0) {
		buf_adds(b, "<section id=\"refused\"><h2 class=\"warn\">"
		    "Refused lately (services flowmon does not know)</h2>"
		    "<ul>\n");
		for (i = 0; i < ov->nrefused; i++) {
			buf_adds(b, "<li><b>");
			html_text(b, ov->refused[i].name);
			buf_adds(b, "</b>, ");
			ago(b, ov->now_ms, ov->refused[i].time_ms);
			if (ov->refused[i].count > 1)
				buf_printf(b, " (%u times)",
				    ov->refused[i].count);
			buf_adds(b, ": ");
			html_text_cut(b, ov->refused[i].detail, UI_VALUE_MAX);
			buf_adds(b, "</li>\n");
		}
		buf_adds(b, "</ul></section>\n");
	}
	if (ov->nskipped > 0) {
		buf_adds(b, "<section id=\"skipped\"><h2 class=\"warn\">"
		    "Skipped by the Docker source</h2><ul>\n");
		for (i = 0; i < ov->nskipped; i++) {
			buf_adds(b, "<li><b>");
			html_text(b, ov->skipped[2 * i]);
			buf_adds(b, "</b>: ");
			html_text_cut(b, ov->skipped[2 * i + 1], UI_VALUE_MAX);
			buf_adds(b, "</li>\n");
		}
		buf_adds(b, "</ul></section>\n");
	}
}

static void
filter_form(struct buf *b, const struct ui_query *q)
{
	int i;

	buf_adds(b, "<form method=\"get\" action=\"/\"><label>name "
	    "<input type=\"search\" name=\"q\" value=\"");
	html_text(b, q->name);
	buf_adds(b, "\"></label><label>show <select name=\"state\">");
	for (i = 0; i < UI_NFILTERS; i++)
		buf_printf(b, "<option%s>%s</option>", (int)q->state == i ?
		    " selected" : "", ui_filter_name((enum ui_filter)i));
	buf_adds(b, "</select></label><button type=\"submit\">filter</button>"
	    "</form>\n");
}

static int
matches(const struct explain *x, const struct ui_query *q)
{
	enum rule_state rs;

	if (q->name[0] != '\0' && strcasestr(x->name, q->name) == NULL)
		return 0;
	if (ui_filter_rule(q->state, &rs))
		return x->rule_state == rs;
	switch (q->state) {
	case UI_PROBLEMS:
		return x->problems != 0;
	case UI_DOWN:
		return x->down > 0;
	case UI_ACTIVE:
	case UI_INVALID:
	case UI_REJECTED:
		return strcmp(x->state, ui_filter_name(q->state)) == 0;
	default:
		return 1;
	}
}

static void
row(struct buf *b, const struct explain *x)
{
	buf_printf(b, "<tr%s><td class=\"name\">", x->problems ?
	    " class=\"problem\"" : "");
	service_link(b, x->name);
	buf_printf(b, "</td><td class=\"opt\">%s</td><td class=\"%s\">%s%s"
	    "</td><td>", x->source != NULL ? x->source : "?",
	    state_class(x->state), x->state, x->removed ? " (removed, "
	    "persistent alerts kept)" : "");
	targets_cell(b, x);
	buf_printf(b, "</td><td class=\"%s\">%s</td><td>",
	    rule_class(x->rule_state), rule_state_name(x->rule_state));
	if (x->group != NULL)
		buf_printf(b, "<span class=\"%s\">%zu</span> / %zu",
		    x->firing ? "bad" : "muted", x->firing, x->group->nrules);
	else
		buf_adds(b, "<span class=\"muted\">-</span>");
	buf_adds(b, "</td><td>");
	problem_text(b, x, 200);
	buf_adds(b, "</td></tr>\n");
}

/* The link to page p of q's list. */
static void
page_link(struct buf *b, const struct ui_query *q, size_t p,
    const char *text)
{
	buf_adds(b, "<a href=\"/?q=");
	html_url(b, q->name);
	buf_printf(b, "&amp;state=%s&amp;page=%zu\">%s</a>",
	    ui_filter_name(q->state), p, text);
}

/* The services of q's page, problems first, and the way to the others.
 * A page past the last (a list that shrank since the link was made)
 * shows the last. */
static void
service_table(struct buf *b, const struct explain_overview *ov,
    const struct ui_query *q)
{
	size_t i, pass, k = 0, nmatch = 0, first, last, pages, page;

	for (i = 0; i < ov->n; i++)
		nmatch += matches(&ov->v[i], q);
	pages = nmatch == 0 ? 1 : (nmatch + UI_PAGE_SIZE - 1) / UI_PAGE_SIZE;
	page = q->page < pages ? q->page : pages;
	first = (page - 1) * UI_PAGE_SIZE;
	last = first + UI_PAGE_SIZE;
	buf_printf(b, "<section id=\"services\"><h2>Services (%zu%s)</h2>\n"
	    "<div class=\"wrap\"><table><thead><tr><th>service</th>"
	    "<th class=\"opt\">source</th><th>state</th><th>targets</th>"
	    "<th>rules</th><th>alerts firing</th><th>problems</th></tr>"
	    "</thead><tbody>\n", nmatch, nmatch < ov->n ? ", filtered" : "");
	/* Two passes over the list sorted by name: problems, then the rest. */
	for (pass = 0; pass < 2 && k < last; pass++)
		for (i = 0; i < ov->n && k < last; i++) {
			if ((ov->v[i].problems != 0) != (pass == 0) ||
			    !matches(&ov->v[i], q))
				continue;
			if (k++ >= first)
				row(b, &ov->v[i]);
		}
	buf_adds(b, "</tbody></table></div>\n");
	if (nmatch == 0)
		buf_adds(b, "<p class=\"muted\">No service matches.</p>\n");
	buf_printf(b, "<nav><span id=\"page\">page %zu of %zu</span>", page,
	    pages);
	if (page > 1)
		page_link(b, q, page - 1, "&laquo; previous");
	if (page < pages)
		page_link(b, q, page + 1, "next &raquo;");
	buf_adds(b, "</nav></section>\n");
}

void
ui_overview(struct buf *b, const struct explain_overview *ov,
    const struct ui_query *q)
{
	page_open(b, "status");
	header(b, ov);
	figures(b, ov);
	problems(b, ov);
	unknown_services(b, ov);
	filter_form(b, q);
	service_table(b, ov, q);
	buf_adds(b, "<footer class=\"muted\">The same as JSON: <a href=\""
	    API "/services\">" API "/services</a>, " API "/explain/"
	    "<i>name</i>, <a href=\"" API "/files\">" API "/files</a>, "
	    "<a href=\"/metrics\">/metrics</a>.</footer>\n");
	page_close(b);
}

void
ui_error(struct buf *b, int code, const char *msg)
{
	char title[32];

	snprintf(title, sizeof(title), "%d", code);
	page_open(b, title);
	buf_printf(b, "<p><a href=\"/\">&laquo; all services</a></p><h1>%d"
	    "</h1><p id=\"message\">", code);
	html_text(b, msg);
	buf_adds(b, "</p>\n");
	page_close(b);
}

/* A table of key/value rows (values cut at UI_VALUE_MAX). */
static void
kv_table(struct buf *b, const char *id, const struct kvlist *l)
{
	size_t i;

	buf_printf(b, "<div class=\"wrap\"><table id=\"%s\"><thead><tr>"
	    "<th>name</th><th>value</th></tr></thead><tbody>\n", id);
	for (i = 0; i < l->n; i++) {
		buf_adds(b, "<tr><td>");
		html_text(b, l->v[i].key);
		buf_adds(b, "</td><td>");
		html_text_cut(b, l->v[i].value, UI_VALUE_MAX);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</tbody></table></div>\n");
}

/* What Prometheus made of the service: its targets and its alerts. */
static void
service_prometheus(struct buf *b, const struct explain *x)
{
	size_t i;

	buf_adds(b, "<section id=\"prometheus\"><h2>What Prometheus made of "
	    "it</h2><p>");
	if (x->prom_url == NULL) {
		buf_adds(b, "<span id=\"prom-off\">Not asked: ");
		html_text(b, x->prom_why != NULL ? x->prom_why :
		    EXPLAIN_PROM_UNKNOWN);
		buf_adds(b, ".</span></p></section>\n");
		return;
	}
	html_text(b, x->prom_url);
	buf_printf(b, ": <span class=\"%s\">%s</span>", x->prom != NULL &&
	    x->prom->reachable ? "ok" : "bad", x->prom != NULL &&
	    x->prom->reachable ? "answers" : "does not answer");
	if (x->prom != NULL && x->prom->error[0] != '\0') {
		buf_adds(b, " <span class=\"muted\">(");
		html_text_cut(b, x->prom->error, UI_VALUE_MAX);
		buf_adds(b, ")</span>");
	}
	buf_adds(b, "</p>\n");
	if (x->prom != NULL && x->prom->have_targets) {
		buf_adds(b, "<div class=\"wrap\"><table id=\"scraped\"><thead>"
		    "<tr><th>scrape URL</th><th>health</th><th>last error</th>"
		    "</tr></thead><tbody>\n");
		for (i = 0; i < x->nptargets; i++) {
			buf_adds(b, "<tr><td>");
			html_text(b, x->ptargets[i]->scrape_url);
			buf_printf(b, "</td><td class=\"%s\">%s</td><td>",
			    strcmp(x->ptargets[i]->health, "up") == 0 ? "ok" :
			    "bad", x->ptargets[i]->health);
			html_text(b, x->ptargets[i]->last_error);
			buf_adds(b, "</td></tr>\n");
		}
		buf_adds(b, "</tbody></table></div>\n");
	}
	if (x->group == NULL) {
		buf_adds(b, "</section>\n");
		return;
	}
	buf_adds(b, "<div class=\"wrap\"><table id=\"alerts\"><thead><tr>"
	    "<th>alert</th><th>state</th><th>active</th><th>health</th>"
	    "<th>last error</th></tr></thead><tbody>\n");
	for (i = 0; i < x->group->nrules; i++) {
		const struct promstate_rule *r = &x->group->rules[i];

		buf_adds(b, "<tr><td>");
		html_text(b, r->name);
		buf_printf(b, "</td><td class=\"%s\">%s</td><td>%zu</td>"
		    "<td>%s</td><td>", strcmp(r->state, "firing") == 0 ? "bad" :
		    strcmp(r->state, "pending") == 0 ? "warn" : "muted",
		    r->state, r->active, r->health);
		html_text(b, r->last_error);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</tbody></table></div></section>\n");
}

/* The service's files: the target groups and the rule file as they are,
 * and who touched them. */
static void
service_files(struct buf *b, const struct explain *x)
{
	size_t i;

	buf_printf(b, "<section id=\"targets\"><h2>Targets (%zu)</h2><p>",
	    x->ntargets);
	if (x->targets_file != NULL)
		html_text(b, x->targets_file);
	else
		buf_adds(b, "No target file: the service has no target.");
	if (x->edited[0])
		buf_adds(b, " <span class=\"bad\">edited by hand</span>");
	buf_adds(b, "</p>\n");
	if (x->targets_text != NULL) {
		buf_adds(b, "<pre>");
		html_text_cut(b, x->targets_text, UI_FILE_MAX);
		buf_adds(b, "</pre>\n");
	}
	buf_printf(b, "</section>\n<section id=\"rules\"><h2>Rules: <span "
	    "class=\"%s\" id=\"rule-state\">%s</span></h2>",
	    rule_class(x->rule_state), rule_state_name(x->rule_state));
	if (x->rule_reason != NULL) {
		buf_adds(b, "<p class=\"bad\" id=\"rule-reason\">");
		html_text_cut(b, x->rule_reason, UI_VALUE_MAX);
		buf_adds(b, "</p>");
	}
	buf_adds(b, "<p>");
	for (i = 0; i < x->nalerts; i++) {
		buf_adds(b, i ? ", " : "Alerts: ");
		html_text(b, x->alerts[i]);
	}
	if (x->rules_file != NULL) {
		buf_adds(b, i ? ". File: " : "File: ");
		html_text(b, x->rules_file);
	}
	if (x->edited[1])
		buf_adds(b, " <span class=\"bad\">edited by hand</span>");
	buf_adds(b, "</p>\n");
	if (x->rules_text != NULL) {
		buf_adds(b, "<pre>");
		html_text_cut(b, x->rules_text, UI_FILE_MAX);
		buf_adds(b, "</pre>\n");
	}
	if (x->counts.healed > 0)
		buf_printf(b, "<p class=\"warn\">Its files vanished and were "
		    "written again from the record %u time(s).</p>\n",
		    x->counts.healed);
	buf_adds(b, "</section>\n");
}

static void
service_history(struct buf *b, const struct explain *x, int64_t now_ms)
{
	char t[32];
	size_t i;

	buf_adds(b, "<section><h2>History</h2><div class=\"wrap\"><table "
	    "id=\"history\"><thead><tr><th>when</th><th>event</th><th>"
	    "detail</th></tr></thead><tbody>\n");
	for (i = 0; i < x->nhistory; i++) {
		clock_rfc3339(x->history[i].time_ms, t);
		buf_printf(b, "<tr><td title=\"%s\">", t);
		ago(b, now_ms, x->history[i].time_ms);
		buf_printf(b, "</td><td>%s", history_event_name(
		    x->history[i].ev));
		if (x->history[i].count > 1)
			buf_printf(b, " &times;%u", x->history[i].count);
		buf_adds(b, "</td><td>");
		html_text_cut(b, x->history[i].detail, UI_VALUE_MAX);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</tbody></table></div></section>\n");
}

void
ui_service(struct buf *b, const struct explain *x, int64_t now_ms)
{
	size_t i;

	page_open(b, x->name);
	buf_adds(b, "<p><a href=\"/\">&laquo; all services</a></p><h1>");
	html_text(b, x->name);
	buf_printf(b, "</h1><p class=\"sub\">from %s &middot; <span "
	    "class=\"%s\" id=\"state\">%s</span>%s &middot; rules <span "
	    "class=\"%s\">%s</span> &middot; <a href=\"" API "/explain/",
	    x->source != NULL ? x->source : "an unknown source",
	    state_class(x->state), x->state, x->removed ? " (removed, "
	    "persistent alerts kept)" : "", rule_class(x->rule_state),
	    rule_state_name(x->rule_state));
	html_url(b, x->name);
	buf_adds(b, "\">as JSON</a></p>\n");
	if (x->invalid != NULL) {
		buf_adds(b, "<p class=\"bad\" id=\"invalid\">Its record does "
		    "not parse: ");
		html_text_cut(b, x->invalid, UI_VALUE_MAX);
		buf_adds(b, "</p>\n");
	}
	if (x->nwarnings > 0) {
		buf_adds(b, "<section id=\"warnings\"><h2 class=\"warn\">"
		    "Warnings</h2><ul>\n");
		for (i = 0; i < x->nwarnings; i++) {
			buf_adds(b, "<li>");
			html_text_cut(b, x->warnings[i], UI_VALUE_MAX);
			buf_adds(b, "</li>\n");
		}
		buf_adds(b, "</ul></section>\n");
	}
	service_prometheus(b, x);
	service_files(b, x);
	buf_adds(b, "<section><h2>Parameters received</h2>\n");
	kv_table(b, "parameters", &x->params);
	buf_adds(b, "</section>\n");
	service_history(b, x, now_ms);
	page_close(b);
}
