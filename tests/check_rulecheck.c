/* check_rulecheck.c: the rule file checks: the libyaml round trip against
 * the record (hostile expressions included) and refusals of files that do
 * not match (promtool's verdicts are check_promtool.c's). */
#include <stdarg.h>

#include "render.h"
#include "request.h"
#include "rulecheck.h"
#include "testutil.h"

static char *
rules_of(const struct service *svc, int persistent_only, size_t *len)
{
	char err[ERR_MAX], *out = NULL;

	ck_assert_int_eq(render_rules(svc, persistent_only, &out, len, err),
	    0);
	ck_assert_ptr_nonnull(out);
	return out;
}

static const char *hostile[] = {
	"up == 0",
	"sum(rate(x{a=\"b: c\"}[5m])) > 0 # not a comment",
	"'single' and \"double\"",
	"up @ 100",
	"{__name__=~\"x.*\"} * 2",
	"a\nor\nb",
	"  leading and trailing spaces  ",
	"- looks like a list",
	"key: value",
	"|literal",
	">folded",
	"%percent",
	"!tag",
	"&anchor *alias",
	"true",
	"null",
	"0x1F",
	"unicode \xc3\xa9\xe2\x82\xac",
};

START_TEST(roundtrip_hostile)
{
	struct service *svc;
	char err[ERR_MAX], *y;
	size_t len;

	svc = tu_service("serviceName", "go-demo_main", "alertName", "x",
	    "alertIf", hostile[_i], "alertFor", "1m30s",
	    "alertLabels", "severity=page,team=a=b",
	    "alertAnnotations", "summary=it: is # down", NULL);
	y = rules_of(svc, 0, &len);
	if (rulecheck_yaml(y, len, svc, 0, err) != 0)
		ck_abort_msg("%s: %s", hostile[_i], err);
	free(y);
	service_free(svc);
}
END_TEST

/* Found by tests/fuzz/fuzz_request: DFM's names may start with a digit
 * and hold '.' (serviceName) or ':' (alertName); Prometheus takes them, so
 * the read-back must too, or an accepted request is refused at write. */
START_TEST(roundtrip_dfm_names)
{
	struct service *svc;
	char err[ERR_MAX], *y;
	size_t len;

	svc = tu_service("serviceName", "1go.demo-main", "alertName", "mem:limit.2",
	    "alertIf", "up == 0", NULL);
	ck_assert_str_eq(svc->alerts[0].name, "1go.demomain_mem:limit.2");
	y = rules_of(svc, 0, &len);
	if (rulecheck_yaml(y, len, svc, 0, err) != 0)
		ck_abort_msg("%s", err);
	ck_assert_int_eq(rulecheck_yaml(y, len, NULL, 0, err), 0);
	free(y);
	service_free(svc);
}
END_TEST

START_TEST(roundtrip_many_and_persistent)
{
	struct service *svc;
	char err[ERR_MAX], *y;
	size_t len;

	svc = tu_service("serviceName", "a", "alertName", "one", "alertIf", "up",
	    "alertName.2", "two", "alertIf.2", "up == 1",
	    "alertPersistent.2", "true", "alertName.7", "three",
	    "alertIf.7", "vector(1)", NULL);
	y = rules_of(svc, 0, &len);
	ck_assert_int_eq(rulecheck_yaml(y, len, svc, 0, err), 0);
	/* The full file is not the persistent-only one. */
	ck_assert_int_eq(rulecheck_yaml(y, len, svc, 1, err), -1);
	free(y);
	y = rules_of(svc, 1, &len);
	ck_assert_int_eq(rulecheck_yaml(y, len, svc, 1, err), 0);
	ck_assert_int_eq(rulecheck_yaml(y, len, svc, 0, err), -1);
	/* Without a record only the shape is checked. */
	ck_assert_int_eq(rulecheck_yaml(y, len, NULL, 0, err), 0);
	free(y);
	service_free(svc);
}
END_TEST

static const struct {
	const char *yaml;
	const char *reason;
} bad[] = {
	{ "groups: [", "not YAML" },
	/* filecheck's shape check speaks first (it said "one group" when
	 * rulecheck had a shape check of its own). */
	{ "[]", "not a map with groups" },
	{ "groups: []", "one group" },
	{ "groups:\n- name: s\n  rules:\n  - alert: a\n    expr: up\n"
	  "- name: t\n  rules: []\n", "one group" },
	{ "groups:\n- name: other\n  rules:\n  - alert: s_a\n    expr: up\n",
	  "named" },
	{ "groups:\n- name: s\n", "no rules" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s-a\n    expr: up\n",
	  "alert name" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n", "expression" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "    for: soon\n", "duration" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "    labels: {1x: y}\n", "labels" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "    labels: [x]\n", "not a map" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "    keep_firing_for: 1m\n", "unknown key" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: down\n",
	  "read back" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "  - alert: s_b\n    expr: up\n", "more rules" },
	/* Prometheus decodes strictly (found by tests/fuzz/fuzz_filecheck). */
	{ "groups:\n- name: s\n  interval: 1m\n  rules:\n  - alert: s_a\n"
	  "    expr: up\n", "key other than" },
	{ "groups:\n- name: s\n  rules: []\n  rules:\n  - alert: s_a\n"
	  "    expr: up\n", "twice" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "    expr: up\n", "twice" },
	{ "groups:\n- name: s\n  rules:\n  - alert: s_a\n    expr: up\n"
	  "extra: 1\n", "key other than" },
};

START_TEST(refusals)
{
	struct service *svc;
	char err[ERR_MAX];

	svc = tu_service("serviceName", "s", "alertName", "a", "alertIf", "up",
	    NULL);
	ck_assert_int_eq(rulecheck_yaml(bad[_i].yaml, strlen(bad[_i].yaml),
	    svc, 0, err), -1);
	if (strstr(err, bad[_i].reason) == NULL)
		ck_abort_msg("%s: \"%s\" lacks \"%s\"", bad[_i].yaml, err,
		    bad[_i].reason);
	service_free(svc);
}
END_TEST

/* Without a record, a group still needs a name (Prometheus refuses an
 * empty one) and a label name may not repeat. */
START_TEST(shape_refusals)
{
	const char *y = "groups:\n- name: \"\"\n  rules: []\n";
	const char *z = "groups:\n- name: s\n  rules:\n  - alert: s_a\n"
	    "    expr: up\n    labels: {a: b, a: b}\n";
	char err[ERR_MAX];

	ck_assert_int_eq(rulecheck_yaml(y, strlen(y), NULL, 0, err), -1);
	ck_assert_int_eq(rulecheck_yaml(z, strlen(z), NULL, 0, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
}
END_TEST

/* Without a record the check is filecheck's, Prometheus's shape: a file
 * an operator wrote (two groups, a recording rule) passes; with a record
 * it is not flowmon's file for that service. */
START_TEST(shape_is_filecheck)
{
	const char *y = "groups:\n- name: s\n  rules:\n  - record: s:up\n"
	    "    expr: sum(up)\n- name: t\n  interval: 1m\n  rules:\n"
	    "  - alert: Any Name\n    expr: up == 0\n"
	    "    keep_firing_for: 5m\n";
	struct service *svc;
	char err[ERR_MAX];

	ck_assert_msg(rulecheck_yaml(y, strlen(y), NULL, 0, err) == 0, "%s",
	    err);
	svc = tu_service("serviceName", "s", "alertName", "a", "alertIf", "up",
	    NULL);
	ck_assert_int_eq(rulecheck_yaml(y, strlen(y), svc, 0, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "one group"));
	service_free(svc);
}
END_TEST

START_TEST(fewer_rules)
{
	struct service *svc;
	const char *y = "groups:\n- name: s\n  rules:\n  - alert: s_a\n"
	    "    expr: up\n";
	char err[ERR_MAX];

	svc = tu_service("serviceName", "s", "alertName", "a", "alertIf", "up",
	    "alertName.1", "b", "alertIf.1", "up", NULL);
	ck_assert_int_eq(rulecheck_yaml(y, strlen(y), svc, 0, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "fewer rules"));
	service_free(svc);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rulecheck");
	TCase *tc = tcase_create("yaml");

	tcase_add_loop_test(tc, roundtrip_hostile, 0,
	    (int)(sizeof(hostile) / sizeof(hostile[0])));
	tcase_add_test(tc, roundtrip_dfm_names);
	tcase_add_test(tc, roundtrip_many_and_persistent);
	tcase_add_loop_test(tc, refusals, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, fewer_rules);
	tcase_add_test(tc, shape_is_filecheck);
	tcase_add_test(tc, shape_refusals);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
