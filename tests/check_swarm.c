/* check_swarm.c: what swarm-listener's habits need from parsing and the
 * registry: nodeInfo recorded as a set (a reordered create is no change at
 * all), DFM's label precedence for task targets, and the start-up round's
 * create without nodeInfo (kept for a scrapeNetwork service, but never from
 * a removed one). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "registry.h"
#include "request.h"
#include "store.h"
#include "testutil.h"
#include "fixture.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct request_ctx no_ctx = { 0 };

static void
parse_form(const char *body, const struct request_ctx *ctx,
    struct service *svc)
{
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "";

	ck_assert_msg(request_decode_form(body, strlen(body), &params, err) ==
	    0, "%s: %s", body, err);
	ck_assert_msg(request_parse(&params, ctx, svc, err) == 0, "%s: %s",
	    body, err);
	kvlist_release(&params);
}

START_TEST(test_node_info_canonical)
{
	static const char *const forms[] = {
		"serviceName=s&scrapePort=80&nodeInfo=[[%22n2%22,%2210.0.0.2%22,"
		"%22b%22],[%22n1%22,%2210.0.0.1%22],[%22n1%22,%2210.0.0.1%22,"
		"%22%22]]",
		"serviceName=s&scrapePort=80&nodeInfo=+[+[%22n1%22,+%2210.0.0.1"
		"%22+]+,[%22n2%22,%2210.0.0.2%22,%22b%22]]",
	};
	struct service a, b;

	parse_form(forms[0], &no_ctx, &a);
	parse_form(forms[1], &no_ctx, &b);
	/* A 3-element entry with an empty id is the 2-element form. */
	ck_assert_uint_eq(a.ntasks, 2);
	ck_assert_str_eq(kvlist_get(&a.params, "nodeInfo"),
	    "[[\"n1\",\"10.0.0.1\"],[\"n2\",\"10.0.0.2\",\"b\"]]");
	ck_assert(kvlist_equal(&a.params, &b.params));
	service_release(&a);
	service_release(&b);
}
END_TEST

START_TEST(test_node_info_canonical_reparses)
{
	struct service a, b;
	struct kvlist p = { 0 };
	char err[ERR_MAX];

	/* A hostname that JSON must escape survives the round trip. */
	parse_form("serviceName=s&scrapePort=80&nodeInfo=[[%22n%C3%B6%5C%22"
	    "de%22,%2210.0.0.1%22,%22x%22]]", &no_ctx, &a);
	ck_assert_str_eq(a.tasks[0].hostname, "n\xc3\xb6\"de");
	ck_assert_int_eq(kvlist_copy(&p, &a.params), 0);
	ck_assert_msg(request_parse(&p, &no_ctx, &b, err) == 0, "%s", err);
	ck_assert(kvlist_equal(&a.params, &b.params));
	ck_assert_str_eq(b.tasks[0].hostname, "n\xc3\xb6\"de");
	kvlist_release(&p);
	service_release(&a);
	service_release(&b);
}
END_TEST

/*
 * With a registry.
 */


static struct registry_result
upsert(struct fixture *fx, const struct request_ctx *ctx, const char *body)
{
	struct registry_result res;
	struct service *svc = calloc(1, sizeof(*svc));
	char err[ERR_MAX] = "";

	ck_assert_ptr_nonnull(svc);
	parse_form(body, ctx, svc);
	ck_assert_msg(registry_upsert(fx->reg, svc, &res, err) == 0, "%s",
	    err);
	return res;
}

static cJSON *
targets_json(struct fixture *fx, const char *name)
{
	char *p, *buf;
	cJSON *j;

	if (asprintf(&p, "%s/targets/%s.json", fx->dir, name) < 0)
		abort();
	buf = tu_slurp(p);
	free(p);
	if (buf == NULL)
		return NULL;
	j = cJSON_Parse(buf);
	free(buf);
	ck_assert_ptr_nonnull(j);
	return j;
}

static const char *
label(cJSON *groups, int i, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(groups, i), "labels"), name));
}

START_TEST(test_reordered_writes_nothing)
{
	struct registry_result res;
	struct fixture fx;

	fx_open(&fx);
	res = upsert(&fx, &no_ctx, "serviceName=s&scrapePort=80&nodeInfo="
	    "[[%22n1%22,%2210.0.0.1%22,%22a%22],[%22n2%22,%2210.0.0.2%22,"
	    "%22b%22],[%22n1%22,%2210.0.0.3%22,%22a%22]]");
	ck_assert(res.wrote_state && res.wrote_targets);
	res = upsert(&fx, &no_ctx, "serviceName=s&scrapePort=80&nodeInfo="
	    "[[%22n1%22,%2210.0.0.3%22,%22a%22],[%22n1%22,%2210.0.0.1%22,"
	    "%22a%22],[%22n2%22,%2210.0.0.2%22,%22b%22]]");
	ck_assert_msg(!res.wrote_state && !res.wrote_targets &&
	    !res.wrote_rules, "a reordered nodeInfo wrote state %d targets %d",
	    res.wrote_state, res.wrote_targets);
	fx_done(&fx);
}
END_TEST

START_TEST(test_label_precedence)
{
	static const char *const tl[] = { "env", "node", "job", "zone" };
	struct request_ctx ctx = { NULL, tl, nitems(tl), NULL };
	struct kvlist nl = { 0 };
	struct registry_result res;
	struct fixture fx;
	char err[ERR_MAX];
	cJSON *g;

	fx_open(&fx);
	/* Lowest first: DF_SCRAPE_TARGET_LABELS values, then node and
	 * service, then the node's labels; job is always the service. */
	kvlist_set(&nl, "env", "staging");
	kvlist_set(&nl, "rack", "r1");
	ck_assert_int_eq(registry_node_upsert(fx.reg, "a", &nl, &res, err), 0);
	upsert(&fx, &ctx, "serviceName=s&scrapePort=80&env=prod&node=fake&"
	    "job=fake&zone=z1&nodeInfo=[[%22n1%22,%2210.0.0.1%22,%22a%22],"
	    "[%22n2%22,%2210.0.0.2%22,%22b%22]]");
	ck_assert_ptr_nonnull(g = targets_json(&fx, "s"));
	ck_assert_int_eq(cJSON_GetArraySize(g), 2);
	ck_assert_str_eq(label(g, 0, "env"), "staging");
	ck_assert_str_eq(label(g, 0, "rack"), "r1");
	ck_assert_str_eq(label(g, 0, "node"), "n1");
	ck_assert_str_eq(label(g, 0, "zone"), "z1");
	ck_assert_str_eq(label(g, 0, "job"), "s");
	ck_assert_str_eq(label(g, 0, "service"), "s");
	ck_assert_str_eq(label(g, 1, "env"), "prod");
	ck_assert_str_eq(label(g, 1, "node"), "n2");
	ck_assert_ptr_null(label(g, 1, "rack"));
	cJSON_Delete(g);
	kvlist_release(&nl);
	fx_done(&fx);
}
END_TEST

START_TEST(test_start_up_round)
{
	struct registry_result res;
	struct fixture fx;
	char err[ERR_MAX];
	cJSON *g;

	fx_open(&fx);
	upsert(&fx, &no_ctx, "serviceName=s&scrapePort=80&scrapeNetwork=mon&"
	    "alertName=x&alertIf=up&alertPersistent=true&nodeInfo="
	    "[[%22n1%22,%2210.0.0.1%22,%22a%22]]");
	/* The start-up round: no nodeInfo, tasks kept, nothing written. */
	res = upsert(&fx, &no_ctx, "serviceName=s&scrapePort=80&"
	    "scrapeNetwork=mon&alertName=x&alertIf=up&alertPersistent=true");
	ck_assert_int_eq(res.kept_tasks, 1);
	ck_assert(!res.wrote_state && !res.wrote_targets && !res.wrote_rules);

	/* Removed (its persistent alert stays), then created again without
	 * nodeInfo: the old tasks died with the service. */
	ck_assert_int_eq(registry_remove(fx.reg, "s", &res, err), 0);
	res = upsert(&fx, &no_ctx, "serviceName=s&scrapePort=80&"
	    "scrapeNetwork=mon&alertName=x&alertIf=up&alertPersistent=true");
	ck_assert_int_eq(res.kept_tasks, 0);
	ck_assert_ptr_null(g = targets_json(&fx, "s"));

	/* Without scrapeNetwork, a create without nodeInfo drops them. */
	upsert(&fx, &no_ctx, "serviceName=t&scrapePort=80&nodeInfo="
	    "[[%22n1%22,%2210.0.0.1%22,%22a%22]]");
	res = upsert(&fx, &no_ctx, "serviceName=t&scrapePort=80");
	ck_assert_int_eq(res.kept_tasks, 0);
	ck_assert_int_eq(res.wrote_targets, 1);
	fx_done(&fx);
}
END_TEST

static Suite *
swarm_suite(void)
{
	Suite *s = suite_create("swarm");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_node_info_canonical);
	tcase_add_test(tc, test_node_info_canonical_reparses);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_test(tc, test_reordered_writes_nothing);
	tcase_add_test(tc, test_label_precedence);
	tcase_add_test(tc, test_start_up_round);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(swarm_suite());
}
