/* check_replies.c: the bodies of the API's answers (replies.c) keep DFM's
 * exact keys, key order and JSON types (dfm-compat.md, section 5), with
 * flowmon's own fields after them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "registry.h"
#include "replies.h"
#include "request.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* o printed compactly; the caller frees. o is deleted. */
static char *
printed(cJSON *o)
{
	char *s;

	ck_assert_ptr_nonnull(o);
	s = cJSON_PrintUnformatted(o);
	ck_assert_ptr_nonnull(s);
	cJSON_Delete(o);
	return s;
}

static void
assert_json(cJSON *o, const char *want)
{
	char *got = printed(o);

	ck_assert_str_eq(got, want);
	free(got);
}

/* What a key must be: its name and cJSON type, in order. */
struct key {
	const char	*name;
	int		 type;
};

/* o's keys are exactly want, in that order, with those types. */
static void
assert_keys(const cJSON *o, const struct key *want, size_t n)
{
	const cJSON *it;
	size_t i = 0;

	ck_assert(cJSON_IsObject(o));
	cJSON_ArrayForEach(it, o) {
		ck_assert_msg(i < n, "extra key %s", it->string);
		ck_assert_msg(strcmp(it->string, want[i].name) == 0,
		    "key %zu is %s, DFM has %s", i, it->string, want[i].name);
		ck_assert_msg((it->type & 0xff) == want[i].type,
		    "%s has cJSON type %d, DFM's is %d", it->string,
		    it->type & 0xff, want[i].type);
		i++;
	}
	ck_assert_msg(i == n, "%zu keys, DFM has %zu", i, n);
}

/* A record parsed from a form body by the HTTP front's own parser. */
static void
parse(const char *body, const struct request_ctx *ctx, struct service *svc)
{
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "";

	ck_assert_msg(request_decode_form(body, strlen(body), &params,
	    err) == 0, "%s", err);
	memset(svc, 0, sizeof(*svc));
	ck_assert_msg(request_parse(&params, ctx, svc, err) == 0, "%s: %s",
	    body, err);
	kvlist_release(&params);
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(dfm_example_byte_for_byte)
{
	struct service svc;
	struct alert *a;

	/* dfm-compat.md, section 5: reconfigure?serviceName=my-service&
	 * scrapePort=1234&alertName=myalert&alertIf=my-if&alertFor=my-for.
	 * Built by hand: flowmon's parser refuses "my-for" as a duration,
	 * and the builders only read records. */
	memset(&svc, 0, sizeof(svc));
	svc.name = xstrdup("my-service");
	svc.port = 1234;
	ck_assert_int_eq(kvlist_add(&svc.params, "alertFor", "my-for"), 0);
	ck_assert_int_eq(kvlist_add(&svc.params, "alertIf", "my-if"), 0);
	ck_assert_int_eq(kvlist_add(&svc.params, "alertName", "myalert"), 0);
	ck_assert_int_eq(kvlist_add(&svc.params, "scrapePort", "1234"), 0);
	ck_assert_int_eq(kvlist_add(&svc.params, "serviceName", "my-service"),
	    0);
	svc.alerts = a = calloc(1, sizeof(*a));
	ck_assert_ptr_nonnull(a);
	svc.nalerts = 1;
	a->name = xstrdup("myservice_myalert");
	a->expr = xstrdup("my-if");
	a->for_ = xstrdup("my-for");
	assert_json(dfm_service_json(200, "", &svc, svc.name, 0),
	    "{\"Status\":200,\"Message\":\"\",\"Alerts\":[{\"alertFor\":"
	    "\"my-for\",\"alertIf\":\"my-if\",\"alertName\":\"myalert\","
	    "\"alertPersistent\":false,\"AlertNameFormatted\":"
	    "\"myservice_myalert\",\"serviceName\":\"my-service\","
	    "\"replicas\":0}],\"scrapePort\":\"1234\",\"scrapeType\":\"\","
	    "\"serviceName\":\"my-service\"}");
	service_release(&svc);
}
END_TEST

START_TEST(reconfigure_every_field_in_order)
{
	static const char *const names[] = { "env" };
	static const struct key top[] = {
		{ "Status", cJSON_Number }, { "Message", cJSON_String },
		{ "Alerts", cJSON_Array }, { "metricsPath", cJSON_String },
		{ "scrapeInterval", cJSON_String },
		{ "scrapeLabels", cJSON_Object },
		{ "scrapePort", cJSON_String },
		{ "scrapeTimeout", cJSON_String },
		{ "scrapeType", cJSON_String },
		{ "serviceName", cJSON_String }, { "nodeInfo", cJSON_Array },
	}, alert[] = {
		{ "alertAnnotations", cJSON_Object },
		{ "alertFor", cJSON_String }, { "alertIf", cJSON_String },
		{ "alertLabels", cJSON_Object }, { "alertName", cJSON_String },
		{ "alertPersistent", cJSON_True },
		{ "AlertNameFormatted", cJSON_String },
		{ "serviceName", cJSON_String }, { "replicas", cJSON_Number },
	}, plain[] = {
		{ "alertIf", cJSON_String }, { "alertName", cJSON_String },
		{ "alertPersistent", cJSON_False },
		{ "AlertNameFormatted", cJSON_String },
		{ "serviceName", cJSON_String }, { "replicas", cJSON_Number },
	};
	struct request_ctx ctx = { NULL, names, nitems(names), NULL };
	struct service svc;
	const cJSON *alerts, *a, *ni;
	cJSON *o;

	parse("serviceName=go-demo&scrapePort=8080&metricsPath=/m&"
	    "scrapeInterval=15s&scrapeTimeout=5s&env=prod&replicas=3&"
	    "nodeInfo=[[\"h1\",\"10.0.0.7\",\"n1\"]]&"
	    "alertName.1=mem&alertIf.1=up==0&alertFor.1=5m&"
	    "alertLabels.1=severity=high&alertAnnotations.1=summary=down&"
	    "alertPersistent.1=true&"
	    "alertName.2=cpu&alertIf.2=up>1", &ctx, &svc);
	o = dfm_service_json(200, "", &svc, svc.name, 0);
	assert_keys(o, top, nitems(top));
	ck_assert_double_eq(cJSON_GetObjectItem(o, "Status")->valuedouble,
	    200);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "scrapePort")->valuestring,
	    "8080");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "metricsPath")->valuestring,
	    "/m");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o,
	    "scrapeLabels"), "env")->valuestring, "prod");
	ni = cJSON_GetObjectItem(o, "nodeInfo");
	ck_assert_int_eq(cJSON_GetArraySize(ni), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(ni, 0)), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(ni, 0),
	    1)->valuestring, "10.0.0.7");

	alerts = cJSON_GetObjectItem(o, "Alerts");
	ck_assert_int_eq(cJSON_GetArraySize(alerts), 2);
	a = cJSON_GetArrayItem(alerts, 0);
	assert_keys(a, alert, nitems(alert));
	ck_assert_str_eq(cJSON_GetObjectItem(a, "alertName")->valuestring,
	    "mem");
	ck_assert_str_eq(cJSON_GetObjectItem(a,
	    "AlertNameFormatted")->valuestring, "godemo_mem");
	ck_assert_str_eq(cJSON_GetObjectItem(a, "alertIf")->valuestring,
	    "up==0");
	ck_assert_str_eq(cJSON_GetObjectItem(a, "alertFor")->valuestring,
	    "5m");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "alertLabels"), "severity")->valuestring, "high");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "alertAnnotations"), "summary")->valuestring, "down");
	ck_assert_double_eq(cJSON_GetObjectItem(a, "replicas")->valuedouble,
	    3);
	a = cJSON_GetArrayItem(alerts, 1);
	assert_keys(a, plain, nitems(plain));
	ck_assert_str_eq(cJSON_GetObjectItem(a, "alertName")->valuestring,
	    "cpu");

	/* A remove lists only the alerts that go: persistent ones stay. */
	cJSON_Delete(o);
	o = dfm_service_json(200, "", &svc, svc.name, 1);
	alerts = cJSON_GetObjectItem(o, "Alerts");
	ck_assert_int_eq(cJSON_GetArraySize(alerts), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(alerts, 0),
	    "alertName")->valuestring, "cpu");
	cJSON_Delete(o);
	service_release(&svc);
}
END_TEST

START_TEST(minimal_service_has_only_the_fixed_keys)
{
	static const struct key want[] = {
		{ "Status", cJSON_Number }, { "Message", cJSON_String },
		{ "Alerts", cJSON_Array }, { "scrapeType", cJSON_String },
		{ "serviceName", cJSON_String },
	};
	struct request_ctx ctx = { 0 };
	struct service svc;
	cJSON *o;

	/* No port, no alert: Alerts is [] (never null), no scrapePort. */
	parse("serviceName=quiet", &ctx, &svc);
	o = dfm_service_json(200, "", &svc, svc.name, 0);
	assert_keys(o, want, nitems(want));
	assert_json(o, "{\"Status\":200,\"Message\":\"\",\"Alerts\":[],"
	    "\"scrapeType\":\"\",\"serviceName\":\"quiet\"}");
	service_release(&svc);

	parse("serviceName=static&scrapeType=static_configs&"
	    "targets=10.0.0.1:9100", &ctx, &svc);
	o = dfm_service_json(200, "", &svc, svc.name, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "scrapeType")->valuestring,
	    "static_configs");
	cJSON_Delete(o);
	service_release(&svc);
}
END_TEST

START_TEST(refusal_and_unknown_service)
{
	assert_json(dfm_service_json(400, "scrapePort \"x\" is not a port",
	    NULL, "web", 0), "{\"Status\":400,\"Message\":\"scrapePort "
	    "\\\"x\\\" is not a port\",\"Alerts\":[],\"scrapeType\":\"\","
	    "\"serviceName\":\"web\"}");
	/* No name at all (the parameters did not decode): "" not null. */
	assert_json(dfm_service_json(400, "bad", NULL, NULL, 0),
	    "{\"Status\":400,\"Message\":\"bad\",\"Alerts\":[],"
	    "\"scrapeType\":\"\",\"serviceName\":\"\"}");
	/* A remove of a service flowmon never knew. */
	assert_json(dfm_service_json(200, "", NULL, "gone", 1),
	    "{\"Status\":200,\"Message\":\"\",\"Alerts\":[],"
	    "\"scrapeType\":\"\",\"serviceName\":\"gone\"}");
	assert_json(status_json(503, "retry"),
	    "{\"Status\":503,\"Message\":\"retry\"}");
}
END_TEST

START_TEST(node_answers)
{
	struct kvlist labels = { 0 };

	ck_assert_int_eq(kvlist_add(&labels, "awsregion", "us-east1"), 0);
	assert_json(dfm_node_json(200, "", "n1", &labels),
	    "{\"Status\":200,\"NodeID\":\"n1\",\"Message\":\"\","
	    "\"NodeLabel\":{\"awsregion\":\"us-east1\"}}");
	/* NodeLabel is an object even without labels; a missing id "". */
	assert_json(dfm_node_json(400, "id is required", NULL, NULL),
	    "{\"Status\":400,\"NodeID\":\"\",\"Message\":\"id is required\","
	    "\"NodeLabel\":{}}");
	kvlist_release(&labels);
}
END_TEST

START_TEST(own_fields_follow_dfm)
{
	struct registry_result res;
	cJSON *o;

	memset(&res, 0, sizeof(res));
	res.wrote_targets = 1;
	res.wrote_rules = 1;
	o = dfm_node_json(200, "", "n1", NULL);
	result_json(o, "node configured", &res);
	assert_json(o, "{\"Status\":200,\"NodeID\":\"n1\",\"Message\":\"\","
	    "\"NodeLabel\":{},\"result\":\"node configured\",\"written\":"
	    "{\"state\":false,\"targets\":true,\"rules\":true}}");
	o = dfm_service_json(200, "", NULL, "s", 0);
	res.wrote_state = 1;
	result_json(o, "service configured", &res);
	assert_json(o, "{\"Status\":200,\"Message\":\"\",\"Alerts\":[],"
	    "\"scrapeType\":\"\",\"serviceName\":\"s\",\"result\":"
	    "\"service configured\",\"written\":{\"state\":true,"
	    "\"targets\":true,\"rules\":true}}");
	result_json(NULL, "nothing", &res);	/* out of memory before */
}
END_TEST

static Suite *
replies_suite(void)
{
	Suite *s = suite_create("replies");
	TCase *tc = tcase_create("dfm");

	tcase_add_test(tc, dfm_example_byte_for_byte);
	tcase_add_test(tc, reconfigure_every_field_in_order);
	tcase_add_test(tc, minimal_service_has_only_the_fixed_keys);
	tcase_add_test(tc, refusal_and_unknown_service);
	tcase_add_test(tc, node_answers);
	tcase_add_test(tc, own_fields_follow_dfm);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(replies_suite());
}
