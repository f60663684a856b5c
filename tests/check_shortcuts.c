/* check_shortcuts.c: the built-in @shortcut table expands exactly as DFM's,
 * compounds, custom files and their refusals, and promtool accepts it all. */
#include <errno.h>
#include <sys/wait.h>

#include <yaml.h>

#include "testutil.h"
#include "shortcuts.h"

#define SVC	"go-demo_main"
#define REPL	"5"
#define CSN	"container_label_com_docker_swarm_service_name=\"" SVC "\""
#define JOB	"job=\"" SVC "\""
#define REAL_FS	"fstype!~\"tmpfs|ramfs|devtmpfs|overlay|aufs|squashfs|nsfs|" \
		"iso9660|autofs|fuse.*\""
#define OLD_MEM_USED(by) \
	"(sum" by "(node_memory_MemTotal{" JOB "}) - sum" by \
	"(node_memory_MemFree{" JOB "} + node_memory_Buffers{" JOB "} + " \
	"node_memory_Cached{" JOB "})) / sum" by "(node_memory_MemTotal{" \
	JOB "})"
#define RESP_RATIO(le, range) \
	"sum(rate(http_server_resp_time_bucket{" JOB ", le=\"" le "\"}[" \
	range "])) / sum(rate(http_server_resp_time_count{" JOB "}[" range \
	"]))"

struct builtin_case {
	const char	*alert_if;
	const char	*expr;
	const char	*summary;
	const char	*labels;	/* "k=v,k=v", the exact set */
};

#define L_SYS		"receiver=system,service=" SVC

/* Every built-in shortcut, written out by hand from dfm-compat.md §3 and
 * the issue, not from etc/shortcuts.yaml, so that a typo there fails. */
static const struct builtin_case builtins[] = {
	{ "@service_mem_limit:0.8",
	  "container_memory_usage_bytes{" CSN "}/"
	  "container_spec_memory_limit_bytes{" CSN "} > 0.8",
	  "Memory of the service " SVC " is over 0.8", L_SYS },
	{ "@service_mem_limit_nobuff:0.8",
	  "(container_memory_usage_bytes{" CSN "}-container_memory_cache{"
	  CSN "})/container_spec_memory_limit_bytes{" CSN "} > 0.8",
	  "Memory without buffer of the service " SVC " is over 0.8", L_SYS },
	{ "@node_mem_limit:0.8",
	  OLD_MEM_USED(" by (instance) ") " > 0.8",
	  "Memory of a node is over 0.8", L_SYS },
	{ "@node_mem_limit_total_above:0.8",
	  OLD_MEM_USED("") " > 0.8",
	  "Total memory of the nodes is over 0.8",
	  L_SYS ",scale=up,type=node" },
	{ "@node_mem_limit_total_below:0.2",
	  OLD_MEM_USED("") " < 0.2",
	  "Total memory of the nodes is below 0.2",
	  L_SYS ",scale=down,type=node" },
	{ "@node_fs_limit:0.8",
	  "(node_filesystem_size{fstype=\"aufs\", " JOB "} - "
	  "node_filesystem_free{fstype=\"aufs\", " JOB "}) / "
	  "node_filesystem_size{fstype=\"aufs\", " JOB "} > 0.8",
	  "Disk usage of a node is over 0.8", L_SYS },
	{ "@resp_time_above:0.1,5m,0.99",
	  RESP_RATIO("0.1", "5m") " < 0.99",
	  "Response time of the service " SVC " is above 0.1",
	  L_SYS ",scale=up,type=service" },
	{ "@resp_time_below:0.025,5m,0.75",
	  RESP_RATIO("0.025", "5m") " > 0.75",
	  "Response time of the service " SVC " is below 0.025",
	  L_SYS ",scale=down,type=service" },
	{ "@replicas_running",
	  "count(container_memory_usage_bytes{" CSN "}) != 5",
	  "The number of running replicas of the service " SVC " is not 5",
	  L_SYS ",scale=up,type=node" },
	{ "@replicas_less_than",
	  "count(container_memory_usage_bytes{" CSN "}) < 5",
	  "The number of running replicas of the service " SVC
	  " is less than 5", L_SYS ",scale=up,type=node" },
	{ "@replicas_more_than",
	  "count(container_memory_usage_bytes{" CSN "}) > 5",
	  "The number of running replicas of the service " SVC
	  " is more than 5", L_SYS ",scale=down,type=node" },
	{ "@resp_time_server_error:5m,0.001",
	  "sum(rate(http_server_resp_time_count{" JOB ", code=~\"^5..$$\"}"
	  "[5m])) / sum(rate(http_server_resp_time_count{" JOB "}[5m]))"
	  " > 0.001",
	  "Error rate of the service " SVC " is above 0.001",
	  L_SYS ",type=errors" },
	{ "@node_mem_usage:0.9",
	  "1 - node_memory_MemAvailable_bytes{" JOB "} / "
	  "node_memory_MemTotal_bytes{" JOB "} > 0.9",
	  "Memory usage of a node of " SVC " is over 0.9", L_SYS },
	{ "@node_fs_usage:0.85",
	  "1 - node_filesystem_avail_bytes{" JOB ", " REAL_FS "} / "
	  "node_filesystem_size_bytes{" JOB ", " REAL_FS "} > 0.85",
	  "Disk usage of a node of " SVC " is over 0.85", L_SYS },
	{ "@service_down",
	  "up{" JOB "} == 0",
	  "A target of the service " SVC " is down", L_SYS },
	{ "@swarm_replicas_missing",
	  "flowmon_swarm_replicas_running{service=\"" SVC "\"} < "
	  "flowmon_swarm_replicas_desired{service=\"" SVC "\"}",
	  "Fewer tasks of the service " SVC " run than Docker wants", L_SYS },
};
#define NBUILTINS	(sizeof(builtins) / sizeof(builtins[0]))

/* Compounds: the same expressions joined by the operator words. */
#define E_MEM	"container_memory_usage_bytes{" CSN "}/" \
		"container_spec_memory_limit_bytes{" CSN "} > 0.8"
#define S_MEM	"Memory of the service " SVC " is over 0.8"
#define E_RESP	RESP_RATIO("0.1", "5m") " < 0.99"
#define S_RESP	"Response time of the service " SVC " is above 0.1"
#define E_DOWN	"up{" JOB "} == 0"
#define S_DOWN	"A target of the service " SVC " is down"
#define E_NMEM	"1 - node_memory_MemAvailable_bytes{" JOB "} / " \
		"node_memory_MemTotal_bytes{" JOB "} > 0.9"
#define S_NMEM	"Memory usage of a node of " SVC " is over 0.9"
#define E_REPL	"count(container_memory_usage_bytes{" CSN "}) < 5"
#define S_REPL	"The number of running replicas of the service " SVC \
		" is less than 5"

static const struct builtin_case compounds[] = {
	{ "@service_mem_limit:0.8_and_@resp_time_above:0.1,5m,0.99",
	  E_MEM " and " E_RESP, S_MEM " and " S_RESP, "" },
	{ "@service_mem_limit:0.8_or_@resp_time_above:0.1,5m,0.99",
	  E_MEM " or " E_RESP, S_MEM " or " S_RESP, "" },
	{ "@service_down_unless_@replicas_less_than",
	  E_DOWN " unless " E_REPL, S_DOWN " unless " S_REPL, "" },
	{ "@service_down_or_@node_mem_usage:0.9_unless_@replicas_less_than",
	  E_DOWN " or " E_NMEM " unless " E_REPL,
	  S_DOWN " or " S_NMEM " unless " S_REPL, "" },
	{ "@service_mem_limit:0.8_and_@service_down_or_@service_mem_limit:0.8"
	  "_and_@node_mem_usage:0.9",
	  E_MEM " and " E_DOWN " or " E_MEM " and " E_NMEM,
	  S_MEM " and " S_DOWN " or " S_MEM " and " S_NMEM, "" },
};
#define NCOMPOUNDS	(sizeof(compounds) / sizeof(compounds[0]))

static struct shortcuts *
builtin_table(void)
{
	struct shortcuts *t = shortcuts_new();
	char err[ERR_MAX];
	int n;

	ck_assert_ptr_nonnull(t);
	n = shortcuts_merge_yaml(t, shortcuts_builtin, shortcuts_builtin_len,
	    "builtin", NULL, NULL, err);
	ck_assert_msg(n == (int)NBUILTINS, "builtin: %d entries (%s)", n,
	    n == -1 ? err : "");
	return t;
}

/* labels is "k=v,k=v": l must hold exactly these pairs. */
static void
assert_labels(const struct kvlist *l, const char *labels, const char *what)
{
	char *copy = strdup(labels), *p, *item, *eq;
	size_t n = 0;

	ck_assert_ptr_nonnull(copy);
	for (p = copy; (item = strsep(&p, ",")) != NULL;) {
		if (*item == '\0')
			continue;
		eq = strchr(item, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		ck_assert_msg(kvlist_get(l, item) != NULL, "%s: no label %s",
		    what, item);
		ck_assert_str_eq(kvlist_get(l, item), eq + 1);
		n++;
	}
	ck_assert_msg(l->n == n, "%s: %zu labels, want %zu", what, l->n, n);
	free(copy);
}

static void
assert_case(const struct shortcuts *t, const struct builtin_case *c)
{
	struct shortcut_expansion e;
	char err[ERR_MAX];

	ck_assert_msg(shortcuts_expand(t, c->alert_if, SVC, REPL, &e, err) == 0,
	    "%s: %s", c->alert_if, err);
	ck_assert_str_eq(e.expr, c->expr);
	ck_assert_uint_eq(e.annotations.n, 1);
	ck_assert_str_eq(kvlist_get(&e.annotations, "summary"), c->summary);
	assert_labels(&e.labels, c->labels, c->alert_if);
	shortcut_expansion_release(&e);
}

START_TEST(test_builtin_each)
{
	struct shortcuts *t = builtin_table();

	assert_case(t, &builtins[_i]);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_builtin_complete)
{
	struct shortcuts *t = builtin_table();

	/* The table above covers the whole built-in table. */
	ck_assert_uint_eq(shortcuts_count(t), NBUILTINS);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_compound_each)
{
	struct shortcuts *t = builtin_table();

	assert_case(t, &compounds[_i]);
	shortcuts_free(t);
}
END_TEST

/* Extra arguments are ignored, as in DFM. */
START_TEST(test_extra_args_ignored)
{
	struct shortcuts *t = builtin_table();
	struct shortcut_expansion e;
	char err[ERR_MAX];

	ck_assert_int_eq(shortcuts_expand(t, "@service_down:1,2", SVC, NULL,
	    &e, err), 0);
	ck_assert_str_eq(e.expr, E_DOWN);
	shortcut_expansion_release(&e);
	ck_assert_int_eq(shortcuts_expand(t, "@service_down:", SVC, NULL,
	    &e, err), 0);
	ck_assert_str_eq(e.expr, E_DOWN);
	shortcut_expansion_release(&e);
	shortcuts_free(t);
}
END_TEST

struct refusal {
	const char	*alert_if;
	const char	*replicas;
	const char	*err;
};

static const struct refusal refusals[] = {
	{ "@foo:1", REPL, "unknown shortcut @foo" },
	{ "@resp_time_above:0.1,5m", REPL,
	  "@resp_time_above needs 3 arguments, got 2" },
	{ "@service_mem_limit", REPL, "@service_mem_limit needs 1 argument, "
	  "got 0" },
	{ "@resp_time_above:0.1,,0.99", REPL,
	  "@resp_time_above: argument 2 is empty" },
	{ "@replicas_running", NULL,
	  "@replicas_running needs the replicas parameter" },
	{ "@replicas_more_than", "",
	  "@replicas_more_than needs the replicas parameter" },
	{ "@service_down_and_@replicas_less_than", NULL,
	  "@replicas_less_than needs the replicas parameter" },
	{ "@service_down_and_@nope", REPL, "unknown shortcut @nope" },
	{ "@service_mem_limit:0.8_and_@resp_time_above:0.1", REPL,
	  "@resp_time_above needs 3 arguments, got 1" },
	{ "@service_down_and_@", REPL, "no shortcut name after _and_@" },
	{ "@service_down_or_@:1", REPL, "no shortcut name after _or_@" },
	{ "@", REPL, "no shortcut name after @" },
	{ "@:0.8", REPL, "no shortcut name after @" },
	{ "@service_mem_limit:0.8_and_", REPL,
	  "no shortcut after _and_ (write _and_@name)" },
	{ "@service_down_unless_", REPL,
	  "no shortcut after _unless_ (write _unless_@name)" },
	{ "service_down", REPL, "\"service_down\" is not a shortcut (no "
	  "leading @)" },
	{ "@service_mem_limit:0.8\"} or vector(1) > bool {x=\"", REPL,
	  "@service_mem_limit: argument 1 holds a double quote, which an "
	  "argument may not hold (no quotes, backslashes, braces, backticks "
	  "or control characters)" },
	{ "@resp_time_above:0.1,5m\n,0.99", REPL,
	  "@resp_time_above: argument 2 holds a newline, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@resp_time_above:0.1\\,5m,0.99", REPL,
	  "@resp_time_above: argument 1 holds a backslash, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@service_mem_limit:{{ .Alert }}", REPL,
	  "@service_mem_limit: argument 1 holds a brace, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@service_mem_limit:0.8}", REPL,
	  "@service_mem_limit: argument 1 holds a brace, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@service_mem_limit:`x`", REPL,
	  "@service_mem_limit: argument 1 holds a backtick, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@service_mem_limit:0.8\t", REPL,
	  "@service_mem_limit: argument 1 holds a control character, which an "
	  "argument may not hold (no quotes, backslashes, braces, backticks "
	  "or control characters)" },
	{ "@service_mem_limit:0.8_and_@service_down:x\"", REPL,
	  "@service_down: argument 1 holds a double quote, which an argument "
	  "may not hold (no quotes, backslashes, braces, backticks or control "
	  "characters)" },
	{ "@replicas_running", "5\"", "replicas holds a double quote" },
};
#define NREFUSALS	(sizeof(refusals) / sizeof(refusals[0]))

START_TEST(test_refusal_each)
{
	struct shortcuts *t = builtin_table();
	const struct refusal *r = &refusals[_i];
	struct shortcut_expansion e;
	char err[ERR_MAX] = "";

	ck_assert_msg(shortcuts_expand(t, r->alert_if, SVC, r->replicas, &e,
	    err) == -1, "%s was accepted", r->alert_if);
	ck_assert_str_eq(err, r->err);
	/* Nothing is left behind to free or to use by mistake. */
	ck_assert_ptr_null(e.expr);
	ck_assert_uint_eq(e.labels.n, 0);
	ck_assert_uint_eq(e.annotations.n, 0);
	shortcuts_free(t);
}
END_TEST

/* Custom files */

struct warnings {
	char	 buf[4096];
	int	 n;
};

static void
collect_warn(void *ctx, const char *origin, const char *entry,
    const char *reason)
{
	struct warnings *w = ctx;
	size_t len = strlen(w->buf);

	snprintf(w->buf + len, sizeof(w->buf) - len, "%s|%s|%s\n", origin,
	    entry, reason);
	w->n++;
}

static int
merge(struct shortcuts *t, const char *doc, struct warnings *w, char *err)
{
	return shortcuts_merge_yaml(t, doc, strlen(doc), "test.yml",
	    collect_warn, w, err);
}

static char *
expand_expr(const struct shortcuts *t, const char *alert_if)
{
	struct shortcut_expansion e;
	char err[ERR_MAX];
	char *s;

	if (shortcuts_expand(t, alert_if, SVC, REPL, &e, err) == -1)
		return strdup(err);
	s = e.expr;
	e.expr = NULL;
	shortcut_expansion_release(&e);
	return s;
}

static void
assert_expr(const struct shortcuts *t, const char *alert_if, const char *want)
{
	char *got = expand_expr(t, alert_if);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_merge_words_and_names)
{
	struct shortcuts *t = shortcuts_new();
	struct warnings w = { "", 0 };
	struct shortcut_expansion e;
	char err[ERR_MAX];

	/* Spacing inside the braces is free; the '@' is optional; $$ stays. */
	ck_assert_int_eq(merge(t,
	    "\"@tight\":\n"
	    "  expanded: a{job=\"{{.Alert.ServiceName}}\"} > {{index .Values 0}}\n"
	    "loose:\n"
	    "  expanded: 'b{{   index   .Values   1   }}c{{\t.Alert.Replicas\t}}$$'\n"
	    "  annotations: {summary: \"{{ .Alert.ServiceName }} {{ index .Values 0 }}\", other: x}\n"
	    "  labels: {service: \"{{ .Alert.ServiceName }}\", arg: \"{{ index .Values 1 }}\"}\n",
	    &w, err), 2);
	ck_assert_int_eq(w.n, 0);
	ck_assert_uint_eq(shortcuts_count(t), 2);
	assert_expr(t, "@tight:7", "a{job=\"" SVC "\"} > 7");
	ck_assert_int_eq(shortcuts_expand(t, "@loose:p,q", SVC, REPL, &e, err),
	    0);
	ck_assert_str_eq(e.expr, "bqc5$$");
	ck_assert_uint_eq(e.annotations.n, 2);
	ck_assert_str_eq(kvlist_get(&e.annotations, "summary"), SVC " p");
	ck_assert_str_eq(kvlist_get(&e.annotations, "other"), "x");
	assert_labels(&e.labels, "service=" SVC ",arg=q", "loose");
	shortcut_expansion_release(&e);
	/* Arguments count from the highest index used. */
	assert_expr(t, "@loose:p", "@loose needs 2 arguments, got 1");
	shortcuts_free(t);
}
END_TEST

/* "_and_" inside a name is part of the name; only "_and_@" joins. */
START_TEST(test_names_with_operators)
{
	struct shortcuts *t = builtin_table();
	struct warnings w = { "", 0 };
	struct shortcut_expansion e;
	char err[ERR_MAX];

	ck_assert_int_eq(merge(t,
	    "\"@cpu_and_mem\":\n"
	    "  expanded: cpu_and_mem{job=\"{{ .Alert.ServiceName }}\"} > {{ index .Values 0 }}\n"
	    "  annotations: {summary: \"both over {{ index .Values 0 }}\"}\n"
	    "  labels: {receiver: system}\n",
	    &w, err), 1);
	ck_assert_int_eq(shortcuts_expand(t, "@cpu_and_mem:0.5", SVC, REPL,
	    &e, err), 0);
	ck_assert_str_eq(e.expr, "cpu_and_mem{" JOB "} > 0.5");
	assert_labels(&e.labels, "receiver=system", "cpu_and_mem");
	shortcut_expansion_release(&e);
	ck_assert_int_eq(shortcuts_expand(t,
	    "@cpu_and_mem:0.5_or_@service_down", SVC, REPL, &e, err), 0);
	ck_assert_str_eq(e.expr, "cpu_and_mem{" JOB "} > 0.5 or " E_DOWN);
	ck_assert_str_eq(kvlist_get(&e.annotations, "summary"),
	    "both over 0.5 or " S_DOWN);
	ck_assert_uint_eq(e.labels.n, 0);
	shortcut_expansion_release(&e);
	shortcuts_free(t);
}
END_TEST

/* In a compound, an annotation only some parts have is joined over those
 * parts, with the operator that follows the previous one (DFM's rule),
 * and never ends with a dangling operator. */
START_TEST(test_compound_annotations)
{
	struct shortcuts *t = shortcuts_new();
	struct warnings w = { "", 0 };
	struct shortcut_expansion e;
	char err[ERR_MAX];

	ck_assert_int_eq(merge(t,
	    "a: {expanded: A, annotations: {summary: sa, runbook: ra}}\n"
	    "b: {expanded: B, annotations: {summary: sb}}\n"
	    "c: {expanded: C, annotations: {runbook: rc}}\n",
	    &w, err), 3);
	ck_assert_int_eq(shortcuts_expand(t, "@a_and_@b_or_@c_unless_@b", SVC,
	    NULL, &e, err), 0);
	ck_assert_str_eq(e.expr, "A and B or C unless B");
	ck_assert_str_eq(kvlist_get(&e.annotations, "summary"),
	    "sa and sb or sb");
	ck_assert_str_eq(kvlist_get(&e.annotations, "runbook"), "ra and rc");
	ck_assert_uint_eq(e.labels.n, 0);
	shortcut_expansion_release(&e);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_merge_refusals)
{
	struct shortcuts *t = shortcuts_new();
	struct warnings w = { "", 0 };
	char err[ERR_MAX];

	ck_assert_int_eq(merge(t,
	    "\"@good\":\n"
	    "  expanded: up{job=\"{{ .Alert.ServiceName }}\"} == 0\n"
	    "\"@alert_name\":\n"
	    "  expanded: x{a=\"{{ .Alert.AlertName }}\"} > 1\n"
	    "\"@in_summary\":\n"
	    "  expanded: x > 1\n"
	    "  annotations: {summary: \"{{ $labels.instance }} is high\"}\n"
	    "\"@in_label\":\n"
	    "  expanded: x > 1\n"
	    "  labels: {service: \"{{ .Alert.ServiceName | printf \\\"%q\\\" }}\"}\n"
	    "\"@unclosed\":\n"
	    "  expanded: x > {{ index .Values 0\n"
	    "\"@big_index\":\n"
	    "  expanded: x > {{ index .Values 100 }}\n"
	    "\"@unknown_key\":\n"
	    "  expanded: x > 1\n"
	    "  for: 5m\n"
	    "\"@no_expanded\":\n"
	    "  labels: {receiver: system}\n"
	    "\"@empty_expanded\":\n"
	    "  expanded: ''\n"
	    "\"@list_expanded\":\n"
	    "  expanded: [a, b]\n"
	    "\"@bad_label\":\n"
	    "  expanded: x > 1\n"
	    "  labels: {\"bad-name\": x}\n"
	    "\"@labels_list\":\n"
	    "  expanded: x > 1\n"
	    "  labels: [receiver]\n"
	    "\"@not_a_map\": just a string\n"
	    "\"@bad:name\": {expanded: x}\n"
	    "\"@\": {expanded: x}\n"
	    "\"@good2\": {expanded: \"y\", annotations: ~, labels: }\n",
	    &w, err), 2);
	ck_assert_uint_eq(shortcuts_count(t), 2);
	assert_expr(t, "@good", E_DOWN);
	assert_expr(t, "@good2", "y");
	assert_expr(t, "@alert_name", "unknown shortcut @alert_name");
	ck_assert_int_eq(w.n, 14);
	ck_assert_msg(strstr(w.buf, "test.yml|@alert_name|expanded: "
	    "unsupported template word \"{{ .Alert.AlertName }}\" (flowmon "
	    "knows {{ .Alert.ServiceName }}, {{ .Alert.Replicas }} and "
	    "{{ index .Values N }})\n") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "test.yml|@in_summary|annotation summary: "
	    "unsupported template word \"{{ $labels.instance }}\"") != NULL,
	    "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@in_label|label service: unsupported "
	    "template word") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@unclosed|expanded: \"{{\" without "
	    "\"}}\"") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@big_index|expanded: unsupported "
	    "template word \"{{ index .Values 100 }}\"") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@unknown_key|unknown key \"for\" (an "
	    "entry has expanded, annotations and labels)\n") != NULL, "%s",
	    w.buf);
	ck_assert_msg(strstr(w.buf, "|@no_expanded|expanded is missing\n") !=
	    NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@empty_expanded|expanded is not a "
	    "non-empty string\n") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@list_expanded|expanded is not a "
	    "non-empty string\n") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@bad_label|label name \"bad-name\" is "
	    "not a valid Prometheus label name\n") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@labels_list|label is not a map\n") !=
	    NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@not_a_map|not a map of expanded, "
	    "annotations and labels\n") != NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@bad:name|the name may only hold") !=
	    NULL, "%s", w.buf);
	ck_assert_msg(strstr(w.buf, "|@|the name is empty\n") != NULL, "%s",
	    w.buf);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_merge_documents)
{
	struct shortcuts *t = shortcuts_new();
	struct warnings w = { "", 0 };
	char err[ERR_MAX] = "";

	ck_assert_int_eq(merge(t, "", &w, err), 0);
	ck_assert_int_eq(merge(t, "# only a comment\n", &w, err), 0);
	ck_assert_int_eq(merge(t, "a: {expanded: [unclosed\n", &w, err), -1);
	ck_assert_msg(strncmp(err, "test.yml: not YAML: ", 20) == 0 &&
	    strstr(err, " at line ") != NULL, "%s", err);
	ck_assert_int_eq(merge(t, "- a\n- b\n", &w, err), -1);
	ck_assert_str_eq(err, "test.yml: the top level is not a map of "
	    "shortcut names to entries");
	ck_assert_int_eq(merge(t, "just text\n", &w, err), -1);
	ck_assert_uint_eq(shortcuts_count(t), 0);
	ck_assert_int_eq(w.n, 0);
	/* A later document replaces an entry of the same name. */
	ck_assert_int_eq(merge(t, "x: {expanded: one}\n", &w, err), 1);
	ck_assert_int_eq(merge(t, "\"@x\": {expanded: two}\ny: {expanded: "
	    "three}\n", &w, err), 2);
	ck_assert_uint_eq(shortcuts_count(t), 2);
	assert_expr(t, "@x", "two");
	assert_expr(t, "@y", "three");
	shortcuts_free(t);
}
END_TEST

/* shortcuts_load: files on disk */

static char *
join(const char *dir, const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static void
spit_in(const char *dir, const char *name, const char *s)
{
	char *p = join(dir, name);

	tu_spit(p, s);
	free(p);
}

START_TEST(test_load_builtin)
{
	struct shortcuts *t;
	char err[ERR_MAX];

	t = shortcuts_load(NULL, "/nonexistent/flowmon-secrets", err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(shortcuts_count(t), NBUILTINS);
	assert_expr(t, "@service_down", E_DOWN);
	shortcuts_free(t);
	t = shortcuts_load(NULL, NULL, err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(shortcuts_count(t), NBUILTINS);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_load_file_replaces_builtin)
{
	char *dir = tu_tmpdir(), *file = join(dir, "mine.yml"), err[ERR_MAX];
	struct shortcuts *t;

	tu_spit(file, "\"@service_down\": {expanded: \"up{job=\\\"{{ "
	    ".Alert.ServiceName }}\\\"} < 1\"}\n");
	t = shortcuts_load(file, NULL, err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(shortcuts_count(t), 1);
	assert_expr(t, "@service_down", "up{" JOB "} < 1");
	assert_expr(t, "@service_mem_limit:0.8",
	    "unknown shortcut @service_mem_limit");
	shortcuts_free(t);
	free(file);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_load_file_refused)
{
	char *dir = tu_tmpdir(), *file = join(dir, "bad.yml"), err[ERR_MAX];
	char *missing = join(dir, "missing.yml");

	tu_spit(file, "\"@x\": {expanded: [\n");
	ck_assert_ptr_null(shortcuts_load(file, NULL, err));
	ck_assert_msg(strncmp(err, file, strlen(file)) == 0 &&
	    strstr(err, ": not YAML: ") != NULL, "%s", err);
	ck_assert_ptr_null(shortcuts_load(missing, NULL, err));
	ck_assert_msg(strstr(err, "missing.yml: cannot open: No such file") !=
	    NULL, "%s", err);
	ck_assert_ptr_null(shortcuts_load(dir, NULL, err));
	ck_assert_msg(strstr(err, ": not a regular file") != NULL, "%s", err);
	free(missing);
	free(file);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_load_secrets_order)
{
	char *dir = tu_tmpdir(), *sub, *target, *link, err[ERR_MAX];
	struct shortcuts *t;

	/* '-' sorts before '_': alertif-b comes before alertif_a. */
	spit_in(dir, "alertif_a", "\"@service_down\": {expanded: from_a}\n"
	    "\"@only_a\": {expanded: a}\n");
	spit_in(dir, "alertif-b", "\"@service_down\": {expanded: from_b}\n"
	    "\"@only_b\": {expanded: b}\n"
	    "\"@service_mem_limit\": {expanded: \"m > {{ index .Values 0 }}\"}\n");
	spit_in(dir, "alertif_c", "\"@only_a\": {expanded: c}\n"
	    "\"@refused\": {expanded: \"{{ .Values }}\"}\n");
	spit_in(dir, "alertif-broken", "\"@only_b\": {expanded: [\n");
	spit_in(dir, "AlertIf-d", "\"@only_d\": {expanded: d}\n");
	spit_in(dir, "other", "\"@other\": {expanded: o}\n");
	spit_in(dir, "alertifx", "\"@other\": {expanded: o}\n");
	sub = join(dir, "alertif-dir");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	target = join(dir, "elsewhere.yml");
	tu_spit(target, "\"@linked\": {expanded: l}\n");
	link = join(dir, "alertif_link");
	ck_assert_int_eq(symlink(target, link), 0);

	t = shortcuts_load(NULL, dir, err);
	ck_assert_ptr_nonnull(t);
	assert_expr(t, "@service_down", "from_a");
	assert_expr(t, "@only_a", "c");
	assert_expr(t, "@only_b", "b");
	assert_expr(t, "@only_d", "d");
	assert_expr(t, "@linked", "l");
	assert_expr(t, "@service_mem_limit:0.7", "m > 0.7");
	assert_expr(t, "@other", "unknown shortcut @other");
	assert_expr(t, "@refused", "unknown shortcut @refused");
	/* Secrets are merged over the built-in table, which keeps the rest. */
	assert_expr(t, "@replicas_less_than", E_REPL);
	ck_assert_uint_eq(shortcuts_count(t), NBUILTINS + 4);
	shortcuts_free(t);

	/* A file given with --shortcuts gets the same secrets merged over. */
	free(target);
	target = join(sub, "base.yml");
	tu_spit(target, "\"@only_a\": {expanded: base}\n\"@base\": "
	    "{expanded: base}\n");
	t = shortcuts_load(target, dir, err);
	ck_assert_ptr_nonnull(t);
	assert_expr(t, "@only_a", "c");
	assert_expr(t, "@base", "base");
	ck_assert_uint_eq(shortcuts_count(t), 7);
	shortcuts_free(t);

	free(link);
	free(target);
	free(sub);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* promtool: every built-in shortcut renders a rule Prometheus loads */

static void
emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	ck_assert_msg(yaml_emitter_emit(em, ev), "yaml emitter: %s",
	    em->problem ? em->problem : "?");
}

static void
emit_str(yaml_emitter_t *em, const char *s)
{
	yaml_event_t ev;

	ck_assert(yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), 1, 1, YAML_ANY_SCALAR_STYLE));
	emit(em, &ev);
}

static void
emit_map_start(yaml_emitter_t *em)
{
	yaml_event_t ev;

	ck_assert(yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE));
	emit(em, &ev);
}

static void
emit_end(yaml_emitter_t *em, int seq)
{
	yaml_event_t ev;

	if (seq)
		yaml_sequence_end_event_initialize(&ev);
	else
		yaml_mapping_end_event_initialize(&ev);
	emit(em, &ev);
}

static void
emit_kvlist(yaml_emitter_t *em, const char *name, const struct kvlist *l)
{
	size_t i;

	if (l->n == 0)
		return;
	emit_str(em, name);
	emit_map_start(em);
	for (i = 0; i < l->n; i++) {
		emit_str(em, l->v[i].key);
		emit_str(em, l->v[i].value);
	}
	emit_end(em, 0);
}

/* Writes one rule group with an alert per alertIf; returns the number of
 * rules. */
static int
write_rules(const struct shortcuts *t, const char *path,
    const char *const *alert_ifs, size_t n)
{
	FILE *f = fopen(path, "w");
	yaml_emitter_t em;
	yaml_event_t ev;
	struct shortcut_expansion e;
	char err[ERR_MAX], name[64];
	size_t i;

	ck_assert_ptr_nonnull(f);
	ck_assert(yaml_emitter_initialize(&em));
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	ck_assert(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&em, &ev);
	ck_assert(yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
	    1));
	emit(&em, &ev);
	emit_map_start(&em);
	emit_str(&em, "groups");
	ck_assert(yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE));
	emit(&em, &ev);
	emit_map_start(&em);
	emit_str(&em, "name");
	emit_str(&em, SVC);
	emit_str(&em, "rules");
	ck_assert(yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE));
	emit(&em, &ev);
	for (i = 0; i < n; i++) {
		ck_assert_msg(shortcuts_expand(t, alert_ifs[i], SVC, REPL, &e,
		    err) == 0, "%s: %s", alert_ifs[i], err);
		snprintf(name, sizeof(name), "godemo_main_rule%zu", i);
		emit_map_start(&em);
		emit_str(&em, "alert");
		emit_str(&em, name);
		emit_str(&em, "expr");
		emit_str(&em, e.expr);
		emit_str(&em, "for");
		emit_str(&em, "1m");
		emit_kvlist(&em, "labels", &e.labels);
		emit_kvlist(&em, "annotations", &e.annotations);
		emit_end(&em, 0);
		shortcut_expansion_release(&e);
	}
	emit_end(&em, 1);
	emit_end(&em, 0);
	emit_end(&em, 1);
	emit_end(&em, 0);
	ck_assert(yaml_document_end_event_initialize(&ev, 1));
	emit(&em, &ev);
	ck_assert(yaml_stream_end_event_initialize(&ev));
	emit(&em, &ev);
	ck_assert(yaml_emitter_flush(&em));
	yaml_emitter_delete(&em);
	ck_assert_int_eq(fclose(f), 0);
	return (int)n;
}

/* Runs promtool check rules on path; returns its exit status, and its
 * output in *out (caller frees). */
static int
promtool_check(const char *dir, const char *path, char **out)
{
	char *cmd, *log = join(dir, "promtool.out");
	int st;

	ck_assert_int_ge(asprintf(&cmd, "promtool check rules '%s' >'%s' 2>&1",
	    path, log), 0);
	st = system(cmd);
	free(cmd);
	*out = tu_slurp(log);
	free(log);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_promtool_builtins)
{
	struct shortcuts *t;
	const char *ifs[NBUILTINS + NCOMPOUNDS];
	char *dir, *path, *out, *pt, want[64];
	size_t i, n = 0;

	if ((pt = tu_require("test_promtool_builtins", "promtool", "prometheus")) == NULL)
		return;
	free(pt);
	t = builtin_table();
	for (i = 0; i < NBUILTINS; i++)
		ifs[n++] = builtins[i].alert_if;
	for (i = 0; i < NCOMPOUNDS; i++)
		ifs[n++] = compounds[i].alert_if;
	dir = tu_tmpdir();
	path = join(dir, SVC ".yml");
	write_rules(t, path, ifs, n);
	ck_assert_msg(promtool_check(dir, path, &out) == 0,
	    "promtool refused the built-in shortcuts:\n%s\nfile:\n%s", out,
	    tu_slurp(path));
	snprintf(want, sizeof(want), "SUCCESS: %zu rules found", n);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	free(path);
	tu_rmrf(dir);
	free(dir);
	shortcuts_free(t);
}
END_TEST

/* What shortcuts_expand leaves to promtool: an argument that is not
 * PromQL (a range "5x") expands, and promtool refuses the rule. */
START_TEST(test_promtool_bad_range)
{
	struct shortcuts *t;
	const char *ifs[] = { "@resp_time_above:0.1,5x,0.99" };
	char *dir, *path, *out, *pt;

	if ((pt = tu_require("test_promtool_bad_range", "promtool", "prometheus")) == NULL)
		return;
	free(pt);
	t = builtin_table();
	dir = tu_tmpdir();
	path = join(dir, "bad.yml");
	write_rules(t, path, ifs, 1);
	ck_assert_int_ne(promtool_check(dir, path, &out), 0);
	ck_assert_msg(strstr(out, "FAILED") != NULL, "%s", out);
	free(out);
	free(path);
	tu_rmrf(dir);
	free(dir);
	shortcuts_free(t);
}
END_TEST

static Suite *
shortcuts_suite(void)
{
	Suite *s = suite_create("shortcuts");
	TCase *tc;

	tc = tcase_create("builtin");
	tcase_add_loop_test(tc, test_builtin_each, 0, NBUILTINS);
	tcase_add_test(tc, test_builtin_complete);
	tcase_add_loop_test(tc, test_compound_each, 0, NCOMPOUNDS);
	tcase_add_test(tc, test_extra_args_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_loop_test(tc, test_refusal_each, 0, NREFUSALS);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_merge_words_and_names);
	tcase_add_test(tc, test_names_with_operators);
	tcase_add_test(tc, test_compound_annotations);
	tcase_add_test(tc, test_merge_refusals);
	tcase_add_test(tc, test_merge_documents);
	tcase_add_test(tc, test_load_builtin);
	tcase_add_test(tc, test_load_file_replaces_builtin);
	tcase_add_test(tc, test_load_file_refused);
	tcase_add_test(tc, test_load_secrets_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("promtool");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_promtool_builtins);
	tcase_add_test(tc, test_promtool_bad_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(shortcuts_suite());
}
