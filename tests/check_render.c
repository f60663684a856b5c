/* check_render.c: byte-exact golden tests of the target JSON and the rule
 * YAML, and proof that any alert text survives a YAML parser unchanged. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cJSON.h>
#include <yaml.h>

#include "render.h"
#include "testutil.h"

/*
 * Building records.
 */

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static void *
xgrow(void *p, size_t n, size_t size)
{
	if ((p = realloc(p, n * size)) == NULL)
		abort();
	return p;
}

static void
svc_init(struct service *svc, const char *name, int port)
{
	memset(svc, 0, sizeof(*svc));
	svc->name = xstrdup(name);
	svc->port = port;
}

static void
svc_target(struct service *svc, const char *t)
{
	svc->targets = xgrow(svc->targets, svc->ntargets + 1,
	    sizeof(*svc->targets));
	svc->targets[svc->ntargets++] = xstrdup(t);
}

static void
svc_task(struct service *svc, const char *host, const char *addr,
    const char *node_id)
{
	struct task *t;

	svc->tasks = xgrow(svc->tasks, svc->ntasks + 1, sizeof(*svc->tasks));
	t = &svc->tasks[svc->ntasks++];
	t->hostname = xstrdup(host);
	t->address = xstrdup(addr);
	t->node_id = xstrdup(node_id);
	svc->has_tasks = 1;
}

static struct alert *
svc_alert(struct service *svc, const char *name, const char *expr,
    const char *for_, int persistent)
{
	struct alert *a;

	svc->alerts = xgrow(svc->alerts, svc->nalerts + 1,
	    sizeof(*svc->alerts));
	a = &svc->alerts[svc->nalerts++];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->expr = xstrdup(expr);
	a->for_ = for_ != NULL ? xstrdup(for_) : NULL;
	a->persistent = persistent;
	return a;
}

static void
kv(struct kvlist *l, const char *key, const char *value)
{
	ck_assert_int_eq(kvlist_set(l, key, value), 0);
}

/* The node-label store the registry would pass in; counts its calls so a
 * test can see that an empty node id is never looked up. */
struct nodes {
	const char	*id[4];
	struct kvlist	 labels[4];
	size_t		 n;
	int		 calls;
};

static const struct kvlist *
nodes_get(void *ctx, const char *node_id)
{
	struct nodes *nodes = ctx;
	size_t i;

	nodes->calls++;
	for (i = 0; i < nodes->n; i++)
		if (strcmp(nodes->id[i], node_id) == 0)
			return &nodes->labels[i];
	return NULL;
}

static void
nodes_release(struct nodes *nodes)
{
	size_t i;

	for (i = 0; i < nodes->n; i++)
		kvlist_release(&nodes->labels[i]);
}

/*
 * Comparing output.
 */

/* Prints s as a C literal, so a failing golden shows what was produced. */
static void
dump_c(const char *s)
{
	fputs("got:\n\t\"", stderr);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs(s[1] != '\0' ? "\\n\"\n\t\"" : "\\n", stderr);
		else if (*s == '\t')
			fputs("\\t", stderr);
		else if (*s == '"' || *s == '\\')
			fprintf(stderr, "\\%c", *s);
		else
			fputc(*s, stderr);
	}
	fputs("\"\n", stderr);
}

static void
expect_bytes(const char *got, size_t gotlen, const char *want)
{
	ck_assert_ptr_nonnull(got);
	if (strcmp(got, want) != 0)
		dump_c(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(gotlen, strlen(want));
}

static char *
targets_of(const struct service *svc, const char *const *addrs,
    size_t naddrs, struct nodes *nodes, size_t *len)
{
	char err[ERR_MAX] = "", *out = (char *)1;

	ck_assert_int_eq(render_targets(svc, addrs, naddrs,
	    nodes != NULL ? nodes_get : NULL, nodes, &out, len, err), 0);
	return out;
}

static char *
rules_of(const struct service *svc, int persistent_only, size_t *len)
{
	char err[ERR_MAX] = "", *out = (char *)1;

	ck_assert_int_eq(render_rules(svc, persistent_only, &out, len, err),
	    0);
	return out;
}

/*
 * Reading the rule file back with libyaml's parser.
 */

static yaml_node_t *
yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	ck_assert_ptr_nonnull(map);
	ck_assert_int_eq(map->type, YAML_MAPPING_NODE);
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    memcmp(k->data.scalar.value, key, strlen(key)) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static yaml_node_t *
yaml_at(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
	ck_assert_ptr_nonnull(seq);
	ck_assert_int_eq(seq->type, YAML_SEQUENCE_NODE);
	ck_assert_uint_lt(i, (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start));
	return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Parses a whole rule file: exactly one document. */
static void
yaml_load(yaml_document_t *doc, const char *text)
{
	yaml_parser_t parser;
	yaml_document_t extra;

	ck_assert_int_eq(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    strlen(text));
	ck_assert_int_eq(yaml_parser_load(&parser, doc), 1);
	ck_assert_ptr_nonnull(yaml_document_get_root_node(doc));
	ck_assert_int_eq(yaml_parser_load(&parser, &extra), 1);
	ck_assert_ptr_null(yaml_document_get_root_node(&extra));
	yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
}

/* rules[i].<field> of the one group, or of a mapping under it when sub is
 * set (rules[i].labels.<sub>). */
static yaml_node_t *
yaml_rule(yaml_document_t *doc, size_t i, const char *field,
    const char *sub)
{
	yaml_node_t *n;

	n = yaml_get(doc, yaml_document_get_root_node(doc), "groups");
	n = yaml_get(doc, yaml_at(doc, n, 0), "rules");
	n = yaml_get(doc, yaml_at(doc, n, i), field);
	if (sub != NULL)
		n = yaml_get(doc, n, sub);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->type, YAML_SCALAR_NODE);
	return n;
}

static void
expect_scalar(yaml_node_t *n, const char *want)
{
	ck_assert_uint_eq(n->data.scalar.length, strlen(want));
	ck_assert_mem_eq(n->data.scalar.value, want, strlen(want));
}

/*
 * Targets.
 */

START_TEST(targets_explicit)
{
	struct service svc;
	char *out;
	size_t len;

	svc_init(&svc, "web", 0);
	svc_target(&svc, "10.0.0.1:80");
	svc_target(&svc, "web.example:8080");
	kv(&svc.target_labels, "env", "prod");
	kv(&svc.target_labels, "job", "evil");
	kv(&svc.target_labels, "service", "evil");
	/* Explicit targets win over every other source. */
	svc.static_config = 1;
	svc_task(&svc, "h1", "10.1.1.1", "");
	out = targets_of(&svc, NULL, 0, NULL, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"10.0.0.1:80\", \"web.example:8080\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"env\":\t\"prod\",\n"
	    "\t\t\t\"job\":\t\"web\",\n"
	    "\t\t\t\"service\":\t\"web\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_static)
{
	struct service svc;
	char *out;
	size_t len;
	const char *addrs[] = { "10.0.0.9" };

	svc_init(&svc, "go-demo_main", 8080);
	svc.static_config = 1;
	/* static_configs wins over tasks and addresses. */
	svc_task(&svc, "h1", "10.1.1.1", "");
	out = targets_of(&svc, addrs, 1, NULL, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"go-demo_main:8080\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"job\":\t\"go-demo_main\",\n"
	    "\t\t\t\"service\":\t\"go-demo_main\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_tasks)
{
	struct service svc;
	struct nodes nodes = { .n = 2, .id = { "n1", "n2" } };
	char *out;
	size_t len;

	svc_init(&svc, "api", 9100);
	kv(&svc.target_labels, "env", "prod");
	kv(&svc.target_labels, "domain", "example.com");
	kv(&svc.target_labels, "node", "evil");
	kv(&svc.target_labels, "service", "evil");
	svc.metrics_path = xstrdup("/m");
	svc_task(&svc, "host-1", "10.0.0.2", "n1");
	svc_task(&svc, "host-2", "10.0.0.3", "");
	svc_task(&svc, "host-3", "10.0.0.4", "n-unknown");
	/* A node label beats a target label; job and the scrape settings
	 * beat a node label. */
	kv(&nodes.labels[0], "env", "node-env");
	kv(&nodes.labels[0], "aws_region", "eu-1");
	kv(&nodes.labels[0], "job", "evil");
	kv(&nodes.labels[0], "__metrics_path__", "/evil");
	kv(&nodes.labels[1], "env", "never");
	out = targets_of(&svc, NULL, 0, &nodes, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"10.0.0.2:9100\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"__metrics_path__\":\t\"/m\",\n"
	    "\t\t\t\"aws_region\":\t\"eu-1\",\n"
	    "\t\t\t\"domain\":\t\"example.com\",\n"
	    "\t\t\t\"env\":\t\"node-env\",\n"
	    "\t\t\t\"job\":\t\"api\",\n"
	    "\t\t\t\"node\":\t\"host-1\",\n"
	    "\t\t\t\"service\":\t\"api\"\n"
	    "\t\t}\n"
	    "\t}, {\n"
	    "\t\t\"targets\":\t[\"10.0.0.3:9100\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"__metrics_path__\":\t\"/m\",\n"
	    "\t\t\t\"domain\":\t\"example.com\",\n"
	    "\t\t\t\"env\":\t\"prod\",\n"
	    "\t\t\t\"job\":\t\"api\",\n"
	    "\t\t\t\"node\":\t\"host-2\",\n"
	    "\t\t\t\"service\":\t\"api\"\n"
	    "\t\t}\n"
	    "\t}, {\n"
	    "\t\t\"targets\":\t[\"10.0.0.4:9100\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"__metrics_path__\":\t\"/m\",\n"
	    "\t\t\t\"domain\":\t\"example.com\",\n"
	    "\t\t\t\"env\":\t\"prod\",\n"
	    "\t\t\t\"job\":\t\"api\",\n"
	    "\t\t\t\"node\":\t\"host-3\",\n"
	    "\t\t\t\"service\":\t\"api\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	/* n1 and n-unknown are looked up; the empty node id is not. */
	ck_assert_int_eq(nodes.calls, 2);
	free(out);
	nodes_release(&nodes);
	service_release(&svc);
}
END_TEST

START_TEST(targets_tasks_no_lookup)
{
	struct service svc;
	char *out;
	size_t len;

	/* Without a node-label store the node id is simply not used. */
	svc_init(&svc, "api", 9100);
	svc_task(&svc, "host-1", "10.0.0.2", "n1");
	out = targets_of(&svc, NULL, 0, NULL, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"10.0.0.2:9100\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"job\":\t\"api\",\n"
	    "\t\t\t\"node\":\t\"host-1\",\n"
	    "\t\t\t\"service\":\t\"api\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_addrs)
{
	struct service svc;
	const char *addrs[] = {
		"10.0.0.2", "fe80::1", "10.0.0.10", "::1", "10.0.0.2",
		"[2001:db8::1]",
	};
	char *out;
	size_t len;

	/* Sorted, repeats dropped, IPv6 bracketed once. */
	svc_init(&svc, "node-exporter", 9100);
	out = targets_of(&svc, addrs, sizeof(addrs) / sizeof(addrs[0]),
	    NULL, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"10.0.0.10:9100\", \"10.0.0.2:9100\", "
	    "\"[::1]:9100\", \"[2001:db8::1]:9100\", \"[fe80::1]:9100\""
	    "],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"job\":\t\"node-exporter\",\n"
	    "\t\t\t\"service\":\t\"node-exporter\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_scrape_settings)
{
	struct service svc;
	char *out;
	size_t len;

	svc_init(&svc, "web", 443);
	svc.static_config = 1;
	svc.metrics_path = xstrdup("/internal/metrics");
	svc.scheme = xstrdup("https");
	svc.scrape_interval = xstrdup("15s");
	svc.scrape_timeout = xstrdup("10s");
	kv(&svc.target_labels, "__scheme__", "http");
	kv(&svc.target_labels, "__scrape_timeout__", "1s");
	kv(&svc.target_labels, "zone", "b");
	out = targets_of(&svc, NULL, 0, NULL, &len);
	expect_bytes(out, len,
	    "[{\n"
	    "\t\t\"targets\":\t[\"web:443\"],\n"
	    "\t\t\"labels\":\t{\n"
	    "\t\t\t\"__metrics_path__\":\t\"/internal/metrics\",\n"
	    "\t\t\t\"__scheme__\":\t\"https\",\n"
	    "\t\t\t\"__scrape_interval__\":\t\"15s\",\n"
	    "\t\t\t\"__scrape_timeout__\":\t\"10s\",\n"
	    "\t\t\t\"job\":\t\"web\",\n"
	    "\t\t\t\"service\":\t\"web\",\n"
	    "\t\t\t\"zone\":\t\"b\"\n"
	    "\t\t}\n"
	    "\t}]\n");
	free(out);
	service_release(&svc);
}
END_TEST

/* The target settings `flowmon plan` shows: every group's labels (no
 * node), the port, and where targets come from without task addresses. */
START_TEST(settings_text)
{
	struct service svc;
	char err[ERR_MAX], *out;
	size_t len;

	svc_init(&svc, "web", 8080);
	svc.scheme = xstrdup("https");
	svc.scrape_interval = xstrdup("15s");
	kv(&svc.target_labels, "env", "pro\"d\n");
	kv(&svc.target_labels, "job", "overridden");
	ck_assert_int_eq(render_settings(&svc, &out, &len, err), 0);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert_str_eq(out,
	    "port: 8080\n"
	    "targets: each task, <address>:8080\n"
	    "label __scheme__=\"https\"\n"
	    "label __scrape_interval__=\"15s\"\n"
	    "label env=\"pro\\\"d\\n\"\n"
	    "label job=\"web\"\n"
	    "label service=\"web\"\n");
	free(out);
	svc.static_config = 1;
	ck_assert_int_eq(render_settings(&svc, &out, &len, err), 0);
	ck_assert_ptr_nonnull(strstr(out, "\ntarget web:8080\n"));
	free(out);
	service_release(&svc);

	svc_init(&svc, "db", 0);
	ck_assert_int_eq(render_settings(&svc, &out, &len, err), 0);
	ck_assert_str_eq(out, "port: none\ntargets: none\nlabel job=\"db\"\n"
	    "label service=\"db\"\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_none)
{
	struct service svc;
	const char *addrs[] = { "10.0.0.1" };
	char *out;
	size_t len;

	/* No source at all. */
	svc_init(&svc, "web", 8080);
	out = targets_of(&svc, NULL, 0, NULL, &len);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	/* nodeInfo given but empty: no targets, the addresses are not used. */
	svc.has_tasks = 1;
	out = targets_of(&svc, addrs, 1, NULL, &len);
	ck_assert_ptr_null(out);
	service_release(&svc);
}
END_TEST

START_TEST(targets_port0)
{
	struct service svc;
	const char *addrs[] = { "10.0.0.1" };
	char *out;
	size_t len;

	/* Every source but explicit targets needs a port; a source that
	 * matched still wins, so nothing falls through to the next one. */
	svc_init(&svc, "web", 0);
	svc.static_config = 1;
	out = targets_of(&svc, addrs, 1, NULL, &len);
	ck_assert_ptr_null(out);
	svc.static_config = 0;
	svc_task(&svc, "h1", "10.1.1.1", "");
	out = targets_of(&svc, addrs, 1, NULL, &len);
	ck_assert_ptr_null(out);
	task_release(&svc.tasks[0]);
	svc.ntasks = 0;
	svc.has_tasks = 0;
	out = targets_of(&svc, addrs, 1, NULL, &len);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	service_release(&svc);
}
END_TEST

START_TEST(targets_json_valid)
{
	struct service svc;
	const char *addrs[] = { "::1", "10.0.0.1" };
	cJSON *root, *g, *t, *l;
	char *out;
	size_t len;

	/* Awkward label values still make a file Prometheus can read. */
	svc_init(&svc, "web", 80);
	kv(&svc.target_labels, "note", "quote \" backslash \\ tab \t ünï");
	out = targets_of(&svc, addrs, 2, NULL, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(out[len - 1], '\n');
	ck_assert_ptr_nonnull(root = cJSON_Parse(out));
	ck_assert_int_eq(cJSON_GetArraySize(root), 1);
	g = cJSON_GetArrayItem(root, 0);
	t = cJSON_GetObjectItemCaseSensitive(g, "targets");
	ck_assert_str_eq(cJSON_GetArrayItem(t, 0)->valuestring,
	    "10.0.0.1:80");
	ck_assert_str_eq(cJSON_GetArrayItem(t, 1)->valuestring, "[::1]:80");
	l = cJSON_GetObjectItemCaseSensitive(g, "labels");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(l,
	    "note")->valuestring, "quote \" backslash \\ tab \t ünï");
	cJSON_Delete(root);
	free(out);
	service_release(&svc);
}
END_TEST

/*
 * Rules.
 */

START_TEST(rules_one)
{
	struct service svc;
	char *out;
	size_t len;

	svc_init(&svc, "go-demo_main", 8080);
	svc_alert(&svc, "godemo_main_memlimit",
	    "container_memory_usage_bytes{container_label_com_docker_swarm_"
	    "service_name=\"go-demo_main\"}/container_spec_memory_limit_bytes{"
	    "container_label_com_docker_swarm_service_name=\"go-demo_main\"} "
	    "> 0.8", NULL, 0);
	out = rules_of(&svc, 0, &len);
	expect_bytes(out, len,
	    "groups:\n"
	    "- name: go-demo_main\n"
	    "  rules:\n"
	    "  - alert: godemo_main_memlimit\n"
	    "    expr: container_memory_usage_bytes{container_label_com"
	    "_docker_swarm_service_name=\"go-demo_main\"}/container_spe"
	    "c_memory_limit_bytes{container_label_com_docker_swarm_serv"
	    "ice_name=\"go-demo_main\"} > 0.8\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(rules_full)
{
	struct service svc;
	struct alert *a;
	char *out;
	size_t len;

	svc_init(&svc, "web", 8080);
	a = svc_alert(&svc, "web_up", "up == 0", "5m", 0);
	kv(&a->labels, "receiver", "ops");
	kv(&a->labels, "severity", "critical");
	kv(&a->annotations, "summary", "{{ $labels.instance }} is down");
	kv(&a->annotations, "description", "Down for 5m: see #ops");
	kvlist_sort(&a->annotations);
	a = svc_alert(&svc, "web_latency",
	    "histogram_quantile(0.99, sum by (le) (rate("
	    "http_request_duration_seconds_bucket{job=\"web\"}[5m]))) > 0.5",
	    "10m", 1);
	kv(&a->labels, "severity", "warning");
	svc_alert(&svc, "web_nothing", "absent(up{job=\"web\"})", NULL, 0);
	out = rules_of(&svc, 0, &len);
	expect_bytes(out, len,
	    "groups:\n"
	    "- name: web\n"
	    "  rules:\n"
	    "  - alert: web_up\n"
	    "    expr: up == 0\n"
	    "    for: 5m\n"
	    "    labels:\n"
	    "      receiver: ops\n"
	    "      severity: critical\n"
	    "    annotations:\n"
	    "      description: 'Down for 5m: see #ops'\n"
	    "      summary: '{{ $labels.instance }} is down'\n"
	    "  - alert: web_latency\n"
	    "    expr: histogram_quantile(0.99, sum by (le) (rate(http_"
	    "request_duration_seconds_bucket{job=\"web\"}[5m]))) > 0.5\n"
	    "    for: 10m\n"
	    "    labels:\n"
	    "      severity: warning\n"
	    "  - alert: web_nothing\n"
	    "    expr: absent(up{job=\"web\"})\n");
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(rules_persistent_only)
{
	struct service svc;
	char *out;
	size_t len;

	svc_init(&svc, "web", 8080);
	out = rules_of(&svc, 0, &len);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	svc_alert(&svc, "web_a", "up == 0", NULL, 0);
	svc_alert(&svc, "web_b", "vector(1)", "1m", 1);
	svc_alert(&svc, "web_c", "up == 2", NULL, 0);
	svc_alert(&svc, "web_d", "vector(2)", NULL, 1);
	out = rules_of(&svc, 1, &len);
	expect_bytes(out, len,
	    "groups:\n"
	    "- name: web\n"
	    "  rules:\n"
	    "  - alert: web_b\n"
	    "    expr: vector(1)\n"
	    "    for: 1m\n"
	    "  - alert: web_d\n"
	    "    expr: vector(2)\n");
	free(out);
	/* No persistent alert left: no file. */
	svc.alerts[1].persistent = 0;
	svc.alerts[3].persistent = 0;
	out = rules_of(&svc, 1, &len);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	service_release(&svc);
}
END_TEST

/* Label values a YAML resolver would not read as strings if written plain,
 * next to ones it would. */
static const struct {
	const char	*value;
	int		 quoted;
} rules_values[] = {
	{ "", 1 }, { "1", 1 }, { "true", 1 }, { "null", 1 }, { "Null", 1 },
	{ "~", 1 }, { "yes", 1 }, { "Off", 1 }, { "y", 1 }, { "N", 1 },
	{ "0.8", 1 }, { "-1", 1 }, { "1e3", 1 }, { "1_000", 1 },
	{ "0x1f", 1 }, { "0o17", 1 }, { ".inf", 1 }, { "-.Inf", 1 },
	{ ".NaN", 1 }, { "1:30", 1 }, { "2001-12-14", 1 }, { "<<", 1 },
	{ "critical", 0 }, { "1a", 0 }, { "e3", 0 }, { "yesterday", 0 },
	{ "v1.2", 0 }, { "0xg", 0 }, { "-", 0 },
};

START_TEST(rules_ambiguous_values)
{
	struct service svc;
	yaml_document_t doc;
	struct alert *a;
	char *out, key[16];
	size_t i, len;

	/* A service name can be a number too. */
	svc_init(&svc, "123", 8080);
	a = svc_alert(&svc, "123_x", "vector(1)", "5m", 0);
	for (i = 0; i < sizeof(rules_values) / sizeof(rules_values[0]); i++) {
		snprintf(key, sizeof(key), "l%02zu", i);
		kv(&a->labels, key, rules_values[i].value);
	}
	/* A key can be ambiguous as well. */
	kv(&a->annotations, "true", "yes");
	kv(&a->annotations, "y", "n");
	kvlist_sort(&a->annotations);
	out = rules_of(&svc, 0, &len);
	expect_bytes(out, len,
	    "groups:\n"
	    "- name: \"123\"\n"
	    "  rules:\n"
	    "  - alert: 123_x\n"
	    "    expr: vector(1)\n"
	    "    for: 5m\n"
	    "    labels:\n"
	    "      l00: \"\"\n"
	    "      l01: \"1\"\n"
	    "      l02: \"true\"\n"
	    "      l03: \"null\"\n"
	    "      l04: \"Null\"\n"
	    "      l05: \"~\"\n"
	    "      l06: \"yes\"\n"
	    "      l07: \"Off\"\n"
	    "      l08: \"y\"\n"
	    "      l09: \"N\"\n"
	    "      l10: \"0.8\"\n"
	    "      l11: \"-1\"\n"
	    "      l12: \"1e3\"\n"
	    "      l13: \"1_000\"\n"
	    "      l14: \"0x1f\"\n"
	    "      l15: \"0o17\"\n"
	    "      l16: \".inf\"\n"
	    "      l17: \"-.Inf\"\n"
	    "      l18: \".NaN\"\n"
	    "      l19: \"1:30\"\n"
	    "      l20: \"2001-12-14\"\n"
	    "      l21: \"<<\"\n"
	    "      l22: critical\n"
	    "      l23: 1a\n"
	    "      l24: e3\n"
	    "      l25: yesterday\n"
	    "      l26: v1.2\n"
	    "      l27: 0xg\n"
	    "      l28: '-'\n"
	    "    annotations:\n"
	    "      \"true\": \"yes\"\n"
	    "      \"y\": \"n\"\n");

	yaml_load(&doc, out);
	for (i = 0; i < sizeof(rules_values) / sizeof(rules_values[0]); i++) {
		yaml_node_t *n;

		snprintf(key, sizeof(key), "l%02zu", i);
		n = yaml_rule(&doc, 0, "labels", key);
		expect_scalar(n, rules_values[i].value);
		if (rules_values[i].quoted)
			ck_assert_int_eq(n->data.scalar.style,
			    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	}
	expect_scalar(yaml_rule(&doc, 0, "annotations", "true"), "yes");
	expect_scalar(yaml_rule(&doc, 0, "annotations", "y"), "n");
	yaml_document_delete(&doc);
	free(out);
	service_release(&svc);
}
END_TEST

/* Alert expressions that break string pasting. Each must come back from a
 * YAML parser byte for byte; want is what follows "expr: ". */
static const struct {
	const char	*expr;
	const char	*want;
} rules_hostile[] = {
	{ "a: b", "'a: b'" },
	{ "x # y", "'x # y'" },
	{ "\"quoted\" and 'single'", "'\"quoted\" and ''single'''" },
	{ "a\n  b", "\"a\\n  b\"" },
	{ "a\nb", "'a\n\n      b'" },
	{ "a\n\nb\n", "'a\n\n\n      b\n\n      '" },
	{ "@x", "'@x'" },
	{ "{a}", "'{a}'" },
	{ "*x", "'*x'" },
	{ "&y", "'&y'" },
	{ "!z", "'!z'" },
	{ "%p", "'%p'" },
	{ "back\\slash", "back\\slash" },
	{ "ünïcode ✓ 😀", "\"ünïcode ✓ \\U0001F600\"" },
	{ "trailing ", "'trailing '" },
	{ " leading", "' leading'" },
	{ "- dash", "'- dash'" },
	{ "? q", "'? q'" },
	{ "|", "'|'" },
	{ ">", "'>'" },
	{ "---", "'---'" },
	{ "up{job=\"a: b # c\"} == 0", "'up{job=\"a: b # c\"} == 0'" },
	{ "tab\there", "\"tab\\there\"" },
	{ "cr\r\nlf", "\"cr\\r\\nlf\"" },
	{ "nel\xc2\x85here", "\"nel\\Nhere\"" },
	{ "ls\xe2\x80\xa8ps\xe2\x80\xa9", "\"ls\\Lps\\P\"" },
	{ "bom\xef\xbb\xbf", "\"bom\\uFEFF\"" },
	{ "[1, 2]", "'[1, 2]'" },
	{ "`tick` 'it''s'", "'`tick` ''it''''s'''" },
	{ "rate(x[5m]) > 0.5 or vector(1)", "rate(x[5m]) > 0.5 or vector(1)" },
};

START_TEST(rules_hostile_expr)
{
	struct service svc;
	yaml_document_t doc;
	char *out, *want;
	size_t len;

	svc_init(&svc, "s", 1);
	svc_alert(&svc, "s_a", rules_hostile[_i].expr, NULL, 0);
	out = rules_of(&svc, 0, &len);
	if (asprintf(&want, "groups:\n- name: s\n  rules:\n  - alert: s_a\n"
	    "    expr: %s\n", rules_hostile[_i].want ?
	    rules_hostile[_i].want : "?") < 0)
		abort();
	expect_bytes(out, len, want);

	yaml_load(&doc, out);
	expect_scalar(yaml_rule(&doc, 0, "expr", NULL),
	    rules_hostile[_i].expr);
	expect_scalar(yaml_rule(&doc, 0, "alert", NULL), "s_a");
	yaml_document_delete(&doc);
	free(want);
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(rules_long_expr)
{
	struct service svc;
	char expr[2048], *out, *nl;
	size_t i, len;

	/* No folding, whatever the width. */
	strcpy(expr, "sum(up{job=\"x\"})");
	for (i = 0; i < 60; i++)
		strcat(expr, " + sum(up{job=\"x\"})");
	svc_init(&svc, "s", 1);
	svc_alert(&svc, "s_a", expr, NULL, 0);
	out = rules_of(&svc, 0, &len);
	ck_assert_ptr_nonnull(nl = strstr(out, "    expr: "));
	strcat(expr, "\n");
	ck_assert_str_eq(nl + strlen("    expr: "), expr);
	free(out);
	service_release(&svc);
}
END_TEST

START_TEST(rules_bad_utf8)
{
	struct service svc;
	char err[ERR_MAX] = "", *out = (char *)1;
	size_t len = 1;

	svc_init(&svc, "s", 1);
	svc_alert(&svc, "s_a", "up\xff == 0", NULL, 0);
	ck_assert_int_eq(render_rules(&svc, 0, &out, &len, err), -1);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err,
	    "service s: alert s_a: expression is not valid UTF-8");
	service_release(&svc);
}
END_TEST

START_TEST(rules_promtool)
{
	struct service svc;
	struct alert *a;
	char *dir, *path, *log, *cmd, *out, *pt;
	size_t len;
	int st;

	if ((pt = tu_require("rules_promtool", "promtool", "prometheus")) ==
	    NULL)
		return;
	free(pt);
	svc_init(&svc, "web", 8080);
	a = svc_alert(&svc, "web_a", "vector(1) > 0", "5m", 0);
	kv(&a->labels, "severity", "true");
	kv(&a->labels, "count", "1");
	kv(&a->annotations, "summary",
	    "{{ $labels.instance }}: \"down\" # {{ $value }}");
	a = svc_alert(&svc, "web_b", "up{job=\"a: b # c\"} == 0", NULL, 1);
	kv(&a->labels, "note", "null");
	svc_alert(&svc, "web_c", "vector(1)\n  > 0", NULL, 0);
	svc_alert(&svc, "web_d",
	    "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\") == 1",
	    NULL, 0);
	svc_alert(&svc, "web_e", "up{job='single \"double\" ünï'} == 0",
	    NULL, 0);
	svc_alert(&svc, "web_f", "up{path=~\"/a\\\\.b\"} == 0 ", NULL, 0);
	out = rules_of(&svc, 0, &len);
	ck_assert_ptr_nonnull(out);

	dir = tu_tmpdir();
	if (asprintf(&path, "%s/web.yml", dir) < 0 ||
	    asprintf(&log, "%s/promtool.log", dir) < 0 ||
	    asprintf(&cmd, "promtool check rules '%s' >'%s' 2>&1", path,
	    log) < 0)
		abort();
	tu_spit(path, out);
	st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *text = tu_slurp(log);

		fprintf(stderr, "%s\n%s", out, text ? text : "");
		free(text);
	}
	ck_assert_int_eq(WIFEXITED(st), 1);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	tu_rmrf(dir);
	free(cmd);
	free(log);
	free(path);
	free(dir);
	free(out);
	service_release(&svc);
}
END_TEST

static Suite *
render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("targets");

	tcase_add_test(tc, targets_explicit);
	tcase_add_test(tc, targets_static);
	tcase_add_test(tc, targets_tasks);
	tcase_add_test(tc, targets_tasks_no_lookup);
	tcase_add_test(tc, targets_addrs);
	tcase_add_test(tc, targets_scrape_settings);
	tcase_add_test(tc, targets_none);
	tcase_add_test(tc, settings_text);
	tcase_add_test(tc, targets_port0);
	tcase_add_test(tc, targets_json_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_test(tc, rules_one);
	tcase_add_test(tc, rules_full);
	tcase_add_test(tc, rules_persistent_only);
	tcase_add_test(tc, rules_ambiguous_values);
	tcase_add_loop_test(tc, rules_hostile_expr, 0,
	    sizeof(rules_hostile) / sizeof(rules_hostile[0]));
	tcase_add_test(tc, rules_long_expr);
	tcase_add_test(tc, rules_bad_utf8);
	tcase_add_test(tc, rules_promtool);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(render_suite());
}
