/* check_verdict.c: the one verdict on a rule file (verdict.c), which the
 * daemon runs before it writes one and `flowmon plan` runs on every rule
 * file of a stack: the bounds, the read-back, the bounds only for the
 * file on disk, then promtool for every file at once, a refusal naming
 * the alert's parameter as a reconfigure's 400 does; a file read from
 * the data dir judged as Prometheus reads it, then against its record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtool.h"
#include "quota.h"
#include "render.h"
#include "testutil.h"
#include "verdict.h"

START_TEST(bounds_shape_promtool)
{
	struct service *one = tu_service("serviceName", "v1", "alertName",
	    "a", "alertIf", "up == 0", NULL);
	struct service *two = tu_service("serviceName", "v2", "alertName.1",
	    "a", "alertIf.1", "up == 0", "alertName.2", "b", "alertIf.2",
	    "sum(rate(x[5m]) > 1", NULL);
	struct quota lim = { 1, 1 << 20, 1 << 20 };
	struct verdict v[3];
	struct promtool *pt;
	char err[ERR_MAX], *r1, *r2, *path;
	size_t l1, l2;

	ck_assert_int_eq(render_rules(one, 0, &r1, &l1, err), 0);
	ck_assert_int_eq(render_rules(two, 0, &r2, &l2, err), 0);
	memset(v, 0, sizeof(v));
	v[0].svc = one;
	v[0].buf = r1;
	v[0].len = l1;
	snprintf(v[0].shown, sizeof(v[0].shown), "rules/v1.yml");
	v[1] = v[0];
	v[1].svc = two;
	v[1].buf = r2;
	v[1].len = l2;
	snprintf(v[1].shown, sizeof(v[1].shown), "rules/v2.yml");
	/* Bytes that are not what v1 renders to. */
	v[2] = v[0];
	v[2].buf = "groups: []\n";
	v[2].len = strlen(v[2].buf);
	verdict_rules(NULL, &lim, v, 3);
	ck_assert_int_eq(v[0].kind, FM_OK);
	ck_assert_int_eq(v[1].kind, FM_REFUSED);
	ck_assert_msg(strstr(v[1].reason, "--max-alerts") != NULL, "%s",
	    v[1].reason);
	ck_assert_int_eq(v[2].kind, FM_REFUSED);
	/* The file on disk was judged when it was written: bounds only. */
	v[2].bounds_only = 1;
	verdict_rules(NULL, &lim, &v[2], 1);
	ck_assert_int_eq(v[2].kind, FM_OK);

	if ((path = tu_require("bounds_shape_promtool", "promtool",
	    "prometheus")) == NULL)
		goto out;
	lim.max_alerts = 100;
	ck_assert_ptr_nonnull(pt = promtool_new(path, 2, err));
	verdict_rules(pt, &lim, v, 2);
	ck_assert_int_eq(v[0].kind, FM_OK);
	ck_assert_int_eq(v[1].kind, FM_REFUSED);
	ck_assert_msg(strstr(v[1].reason, "alertIf.2 (alert v2_b): promtool "
	    "check rules: rules/v2.yml: ") != NULL, "%s", v[1].reason);
	promtool_free(pt);
	free(path);
out:
	free(r1);
	free(r2);
	service_free(one);
	service_free(two);
}
END_TEST

/* A file read from the data dir (`flowmon check`): judged as Prometheus
 * reads it, promtool's reason not tied to a parameter, then compared
 * with its record when one is known. */
START_TEST(disk_against_record)
{
	struct service *one = tu_service("serviceName", "v1", "alertName",
	    "a", "alertIf", "up == 0", NULL);
	static const char other[] = "groups:\n- name: v1\n  rules:\n"
	    "  - alert: v1_a\n    expr: up == 1\n";
	static const char broken[] = "groups:\n- name: v1\n  rules:\n"
	    "  - alert: v1_a\n    expr: rate(up[5m] > 0\n";
	struct verdict v[4];
	struct promtool *pt;
	char err[ERR_MAX], *r1, *path;
	size_t l1;

	ck_assert_int_eq(render_rules(one, 0, &r1, &l1, err), 0);
	memset(v, 0, sizeof(v));
	snprintf(v[0].shown, sizeof(v[0].shown), "rules/v1.yml");
	v[0].record = one;
	v[0].buf = r1;
	v[0].len = l1;
	/* Valid for Prometheus, but not what the record renders to. */
	v[1] = v[0];
	v[1].buf = other;
	v[1].len = strlen(other);
	/* The same without a record: nothing to compare. */
	v[2] = v[1];
	v[2].record = NULL;
	/* Not YAML Prometheus reads: refused before any comparison. */
	v[3] = v[0];
	v[3].buf = "groups: [";
	v[3].len = strlen(v[3].buf);
	verdict_rules(NULL, NULL, v, 4);
	ck_assert_int_eq(v[0].kind, FM_OK);
	ck_assert_int_eq(v[1].kind, FM_INVALID);
	ck_assert_str_ne(v[1].reason, "");
	ck_assert_int_eq(v[2].kind, FM_OK);
	ck_assert_int_eq(v[3].kind, FM_REFUSED);

	if ((path = tu_require("disk_against_record", "promtool",
	    "prometheus")) == NULL)
		goto out;
	/* Bad PromQL: promtool's refusal, before the comparison. */
	v[1].buf = broken;
	v[1].len = strlen(broken);
	ck_assert_ptr_nonnull(pt = promtool_new(path, 2, err));
	verdict_rules(pt, NULL, v, 2);
	ck_assert_int_eq(v[0].kind, FM_OK);
	ck_assert_int_eq(v[1].kind, FM_REFUSED);
	ck_assert_msg(strncmp(v[1].reason, "promtool check rules: "
	    "rules/v1.yml: ", 36) == 0, "%s", v[1].reason);
	promtool_free(pt);
	free(path);
out:
	free(r1);
	service_free(one);
}
END_TEST

static Suite *
verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("verdict");

	tcase_add_test(tc, bounds_shape_promtool);
	tcase_add_test(tc, disk_against_record);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(verdict_suite());
}
