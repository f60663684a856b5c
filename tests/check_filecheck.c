/* check_filecheck.c: the one checker of target files and the one checker
 * of rule files (used by the daemon, /files and `flowmon check`), against
 * what Prometheus 2.42 accepts and refuses: tables of good files and of
 * bad ones with the reason each refusal must carry. */
#include "testutil.h"
#include "filecheck.h"

static int
targets(const char *s, char err[ERR_MAX])
{
	return filecheck_targets(s, strlen(s), err);
}

static int
rules(const char *s, char err[ERR_MAX])
{
	return filecheck_rules(s, strlen(s), err);
}

static const char *const good_targets[] = {
	"[]",
	" [ ] \n",
	"[{\"targets\": [\"a:1\", \"b:2\"], \"labels\": {\"job\": \"x\", "
	    "\"__metrics_path__\": \"/m\"}}]",
	"[{\"targets\": [\"a:1\"]}]",
	"[{\"labels\": {\"a\": \"\\u00e9t\\u00e9\"}}]",
	"[{\"targets\": null, \"labels\": null}]",
	/* From `flowmon check`'s own table before the two were one. */
	"[{\"targets\": [\"10.0.0.5:8080\"], \"labels\": {\"job\": "
	    "\"web\", \"__metrics_path__\": \"/m\"}}]",
	"[{\"targets\": []}]",
	"[{\"labels\": {}}]",
	"[{\"targets\": [\"web\"]}, {\"targets\": [\"[::1]:80\"]}]",
	/* Host only: Prometheus adds the scheme's port. */
	"[{\"targets\": [\"[::1]\", \"tasks.web\", \"h\u00f6st:9\"]}]",
};

static const struct {
	const char *json;
	const char *why;
} bad_targets[] = {
	{ "", "not JSON" },
	{ "[", "not JSON" },
	{ "{}", "not a JSON array" },
	{ "[] []", "data after" },
	{ "[1]", "group 1 is not an object" },
	{ "[{\"targets\": \"a:1\"}]", "targets is not an array" },
	{ "[{\"targets\": [1]}]", "not a string" },
	{ "[{\"labels\": {\"a-b\": \"x\"}}]", "label name \"a-b\"" },
	{ "[{\"labels\": {\"1a\": \"x\"}}]", "label name \"1a\"" },
	{ "[{\"labels\": {\"a\": 1}}]", "label a is not a string" },
	{ "[{\"labels\": [\"a\"]}]", "labels is not an object" },
	{ "[{}, {\"targets\": [], \"extra\": 1}]", "group 2: unknown key" },
	{ "[{\"labels\": {\"a\": \"\xff\"}}]", "label a is not valid UTF-8" },
	{ "[null]", "group 1 is not an object" },
	/* From `flowmon check`'s own table before the two were one (its
	 * groups counted from 0: now from 1, as here). */
	{ "[{\"targets\": [\"a:1\"]", "not JSON" },
	{ "[{}, {\"target\": []}]", "group 2: unknown key \"target\"" },
	{ "[{\"targets\": [1]}]", "group 1: a target is not a string" },
	{ "[{\"targets\": [\"\"]}]", "an empty target" },
	{ "[{\"targets\": [\"a b:1\"]}]", "is not host:port" },
	{ "[{\"targets\": [\"http://a:1\"]}]", "is not host:port" },
	{ "[{\"targets\": [\"a:0\"]}]", "port is not 1..65535" },
	{ "[{\"targets\": [\"a:99999\"]}]", "port is not 1..65535" },
	{ "[{\"targets\": [\"a:\"]}]", "port is not 1..65535" },
	{ "[{\"targets\": [\"a:+80\"]}]", "port is not 1..65535" },
	{ "[{\"targets\": [\"[::1\"]}]", "is not host:port" },
	{ "[{\"targets\": [\"[::1]x\"]}]", "is not host:port" },
	{ "[{\"targets\": [\"\xff:1\"]}]", "a target is not valid UTF-8" },
	{ "[{\"labels\": {\"1x\": \"v\"}}]", "not a valid label name" },
	{ "[{\"labels\": {\"a-b\": \"v\"}}]", "not a valid label name" },
	{ "[{\"labels\": {\"x\": 1}}]", "label x is not a string" },
};

START_TEST(targets_good)
{
	char err[ERR_MAX];

	ck_assert_msg(targets(good_targets[_i], err) == 0, "%s: %s",
	    good_targets[_i], err);
}
END_TEST

START_TEST(targets_bad)
{
	char err[ERR_MAX] = "";

	ck_assert_msg(targets(bad_targets[_i].json, err) == -1, "accepted %s",
	    bad_targets[_i].json);
	ck_assert_msg(strstr(err, bad_targets[_i].why) != NULL,
	    "%s: \"%s\" does not say \"%s\"", bad_targets[_i].json, err,
	    bad_targets[_i].why);
}
END_TEST

START_TEST(targets_nul_byte)
{
	char err[ERR_MAX];

	ck_assert_int_eq(filecheck_targets("[]\0x", 4, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	ck_assert_int_eq(filecheck_rules("groups: []\0x", 13, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	/* len bytes are the file: what follows them is not read. */
	ck_assert_int_eq(filecheck_targets("[] junk", 2, err), 0);
	ck_assert_int_eq(filecheck_targets("[] junk", 7, err), -1);
	ck_assert_int_eq(filecheck_rules("groups: []\n- x", 11, err), 0);
}
END_TEST

static const char *const good_rules[] = {
	"",
	"# nothing yet\n",
	"groups: []\n",
	"groups:\n",
	/* What operators write: several groups, recording rules, limits. */
	"groups:\n"
	"- name: node\n"
	"  interval: 30s\n"
	"  limit: 10\n"
	"  rules:\n"
	"  - record: instance:node_cpu:rate5m\n"
	"    expr: sum by (instance) (rate(node_cpu_seconds_total[5m]))\n"
	"    labels: {team: infra}\n"
	"  - alert: HostDown\n"
	"    expr: up == 0\n"
	"    for: 5m\n"
	"    keep_firing_for: 1m\n"
	"    labels:\n"
	"      severity: page\n"
	"    annotations:\n"
	"      summary: '{{ $labels.instance }} is down'\n"
	"- name: other\n"
	"  rules:\n"
	"  - alert: Any name, even with spaces\n"
	"    expr: vector(1)\n",
	"groups:\n- name: empty\n  rules: []\n",
	/* What flowmon renders passes too. */
	"groups:\n- name: go-demo_main\n  rules:\n"
	"  - alert: godemo_main_mem_limit\n"
	"    expr: container_memory_usage_bytes > 0.8\n"
	"    for: 1m30s\n"
	"    labels:\n      service: go-demo_main\n      severity: page\n"
	"    annotations:\n      summary: 'it: is # down'\n",
	/* Nulls: no rules, no for, no labels. */
	"groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	"    for:\n    labels: ~\n",
	"groups: ~\n",
	"~\n",
};

static const struct {
	const char *yaml;
	const char *why;
} bad_rules[] = {
	{ "groups: [\n", "not YAML" },
	{ "- a\n", "not a map with groups" },
	{ "groups: {}\n", "groups is not a list" },
	{ "group: []\n", "unknown field \"group\"" },
	{ "groups:\n- rules: []\n", "has no name" },
	{ "groups:\n- name: a\n- name: a\n", "repeated" },
	{ "groups:\n- name: a\n  labels: {x: y}\n", "unknown field \"labels\"" },
	{ "groups:\n- name: a\n  interval: 5 minutes\n", "interval is not" },
	{ "groups:\n- name: a\n  limit: many\n", "limit is not a number" },
	{ "groups:\n- name: a\n  rules: {}\n", "rules is not a list" },
	{ "groups:\n- name: a\n  rules:\n  - expr: up\n", "exactly one" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    record: b\n"
	    "    expr: up\n", "exactly one" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n", "no expr" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    for: 5x\n", "for is not a duration" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    query_offset: 1m\n", "unknown field \"query_offset\"" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    labels: {bad-name: x}\n", "label name \"bad-name\"" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    labels: {a: [x]}\n", "is not a string" },
	{ "groups:\n- name: a\n  rules:\n  - record: 'bad name'\n"
	    "    expr: up\n", "not a valid metric name" },
	{ "groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n"
	    "    for: 1m\n", "may not have for" },
	{ "groups:\n- name: a\n  rules:\n  - alert: ''\n    expr: up\n",
	    "no valid name" },
	/* Prometheus decodes strictly: a key twice is an error anywhere
	 * (rulecheck's refusal before the two checks were one). */
	{ "groups: []\ngroups: []\n", "key \"groups\" given twice" },
	{ "groups:\n- name: a\n  rules: []\n  rules:\n  - alert: A\n"
	    "    expr: up\n", "key \"rules\" given twice" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    expr: up\n", "key \"expr\" given twice" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    labels: {a: b, a: b}\n", "label a given twice" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    annotations: {a: b, a: c}\n", "annotation a given twice" },
	/* An unknown key says which keys there are. */
	{ "extra: 1\n", "unknown field \"extra\" (a key other than groups)" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    labels: {x: y}\n    severity: page\n",
	    "a key other than record, alert, expr, for, keep_firing_for, "
	    "labels, annotations" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    annotations: {bad-name: x}\n",
	    "annotations: annotation name \"bad-name\" is not valid" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: ''\n",
	    "no expr (the expression" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    keep_firing_for: soon\n", "keep_firing_for is not a duration" },
	{ "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
	    "    labels: {a: {b: c}}\n", "label a is not a string" },
	{ "groups:\n- name: a\n  rules:\n  - alert: [A]\n    expr: up\n",
	    "alert has no valid name" },
	{ "groups:\n- name: a\n  rules: [x]\n", "rule 1 is not a map" },
	{ "groups:\n- 1\n", "group 1 is not a map" },
	{ "groups:\n- name: a\n  limit: -1\n", "limit is not a number" },
};

START_TEST(rules_good)
{
	char err[ERR_MAX];

	ck_assert_msg(rules(good_rules[_i], err) == 0, "%s: %s",
	    good_rules[_i], err);
}
END_TEST

START_TEST(rules_bad)
{
	char err[ERR_MAX] = "";

	ck_assert_msg(rules(bad_rules[_i].yaml, err) == -1, "accepted %s",
	    bad_rules[_i].yaml);
	ck_assert_msg(strstr(err, bad_rules[_i].why) != NULL,
	    "%s: \"%s\" does not say \"%s\"", bad_rules[_i].yaml, err,
	    bad_rules[_i].why);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
filecheck_suite(void)
{
	Suite *s = suite_create("filecheck");
	TCase *tc;

	tc = tcase_create("targets");
	tcase_add_loop_test(tc, targets_good, 0, N(good_targets));
	tcase_add_loop_test(tc, targets_bad, 0, N(bad_targets));
	tcase_add_test(tc, targets_nul_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, rules_good, 0, N(good_rules));
	tcase_add_loop_test(tc, rules_bad, 0, N(bad_rules));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(filecheck_suite());
}
