/* check_filecheck.c: the shape checks of target and rule files written by
 * hand, against what Prometheus 2.42 accepts and refuses. */
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
	{ "[{\"labels\": {\"a\": 1}}]", "not a UTF-8 string" },
	{ "[{\"labels\": [\"a\"]}]", "labels is not an object" },
	{ "[{}, {\"targets\": [], \"extra\": 1}]", "group 2: unknown key" },
	{ "[{\"labels\": {\"a\": \"\xff\"}}]", "UTF-8" },
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
