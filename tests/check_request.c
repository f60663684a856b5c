/* check_request.c: a reconfigure's parameters to a service record: every
 * refusal names its parameter, what is accepted is parsed exactly, the form
 * decoder, nodeInfo, and the canonical parameters parse to the same record. */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "request.h"
#include "shortcuts.h"
#include "clock.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Helpers.
 */

static const struct request_ctx no_ctx = { 0 };

static struct shortcuts *
builtin_table(void)
{
	struct shortcuts *t = shortcuts_new();
	char err[ERR_MAX] = "";

	ck_assert_ptr_nonnull(t);
	ck_assert_msg(shortcuts_merge_yaml(t, shortcuts_builtin,
	    shortcuts_builtin_len, "builtin", NULL, NULL, err) > 0,
	    "builtin shortcuts: %s", err);
	return t;
}

/* Decodes a form body into params; the decoder must accept it. */
static void
form(const char *body, struct kvlist *params)
{
	char err[ERR_MAX] = "";

	ck_assert_msg(request_decode_form(body, strlen(body), params, err) == 0,
	    "decode %s: %s", body, err);
}

/* Parses a form body with ctx. */
static int
parse_form(const char *body, const struct request_ctx *ctx,
    struct service *svc, char err[ERR_MAX])
{
	struct kvlist params = { 0 };
	int rc;

	form(body, &params);
	err[0] = '\0';
	rc = request_parse(&params, ctx, svc, err);
	kvlist_release(&params);
	return rc;
}

/* Parses body, which must be accepted. */
static void
accept_form(const char *body, const struct request_ctx *ctx,
    struct service *svc)
{
	char err[ERR_MAX];

	ck_assert_msg(parse_form(body, ctx, svc, err) == 0, "%s: refused: %s",
	    body, err);
}

/* The service a refused parse leaves: all zero. */
static void
assert_empty(const struct service *svc)
{
	static const struct service zero;

	ck_assert_msg(memcmp(svc, &zero, sizeof(zero)) == 0,
	    "a refused parse left something in the record");
}

/* body must be refused with a message naming param (and why, if given). */
static void
refuse_form(const char *body, const struct request_ctx *ctx,
    const char *param, const char *why)
{
	struct service svc;
	char err[ERR_MAX];

	memset(&svc, 0xa5, sizeof(svc));
	ck_assert_msg(parse_form(body, ctx, &svc, err) == -1,
	    "%s: accepted", body);
	ck_assert_msg(strstr(err, param) != NULL,
	    "%s: message \"%s\" does not name %s", body, err, param);
	if (why != NULL)
		ck_assert_msg(strstr(err, why) != NULL,
		    "%s: message \"%s\" does not say \"%s\"", body, err, why);
	assert_empty(&svc);
}

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Every field of two records is the same. */
static void
assert_same_service(const struct service *a, const struct service *b)
{
	size_t i;

	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->port, b->port);
	ck_assert(streq_null(a->metrics_path, b->metrics_path));
	ck_assert(streq_null(a->scheme, b->scheme));
	ck_assert(streq_null(a->scrape_interval, b->scrape_interval));
	ck_assert(streq_null(a->scrape_timeout, b->scrape_timeout));
	ck_assert_int_eq(a->static_config, b->static_config);
	ck_assert_uint_eq(a->ntargets, b->ntargets);
	for (i = 0; i < a->ntargets; i++)
		ck_assert_str_eq(a->targets[i], b->targets[i]);
	ck_assert_int_eq(a->has_tasks, b->has_tasks);
	ck_assert_uint_eq(a->ntasks, b->ntasks);
	for (i = 0; i < a->ntasks; i++) {
		ck_assert_str_eq(a->tasks[i].hostname, b->tasks[i].hostname);
		ck_assert_str_eq(a->tasks[i].address, b->tasks[i].address);
		ck_assert_str_eq(a->tasks[i].node_id, b->tasks[i].node_id);
	}
	ck_assert(kvlist_equal(&a->target_labels, &b->target_labels));
	ck_assert_uint_eq(a->nalerts, b->nalerts);
	for (i = 0; i < a->nalerts; i++) {
		const struct alert *x = &a->alerts[i], *y = &b->alerts[i];

		ck_assert_str_eq(x->name, y->name);
		ck_assert_str_eq(x->expr, y->expr);
		ck_assert(streq_null(x->for_, y->for_));
		ck_assert(kvlist_equal(&x->labels, &y->labels));
		ck_assert(kvlist_equal(&x->annotations, &y->annotations));
		ck_assert_int_eq(x->persistent, y->persistent);
	}
	ck_assert(kvlist_equal(&a->params, &b->params));
}

/* A string of n copies of c. Caller frees. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * Refusals: one table row per way a request can be wrong. The message must
 * name the parameter (as DFM spells it, whatever the request's case), say
 * why, and where given quote the value.
 */

struct refusal {
	const char	*body;		/* form-encoded parameters */
	const char	*param;		/* the message names this */
	const char	*why;		/* and says why */
	const char	*value;		/* and quotes this, or NULL */
};

#define SN	"serviceName=svc&"
#define AL	SN "alertName=a&alertIf=up&"

/* The reasons, as the messages say them. */
#define R_NAME		"must be 1..255 of [A-Za-z0-9_.-]"
#define R_PORT		"is not a port (1..65535)"
#define R_DUR		"is not a duration"
#define R_LONGER	"is longer than scrapeInterval"
#define R_PATH		"must start with '/' and hold no space or control"
#define R_NO_EQ		"has no '=' (want key=value)"
#define R_LABEL		"is not a valid label name"
#define R_WITHOUT	"is given without"
#define R_INDEX		"alert index must be 1..100"
#define R_TARGET	"is not host:port (port 1..65535)"
#define R_NODE_JSON	"is not a JSON array"
#define R_NODE_ENTRY	"is not [hostname, address]"

static const struct refusal refusals[] = {
	/* serviceName */
	{ "scrapePort=80", "serviceName", "is required", NULL },
	{ "serviceName=../x", "serviceName", R_NAME, "\"../x\"" },
	{ "serviceName=..%2Fx", "serviceName", R_NAME, "\"../x\"" },
	{ "serviceName=a/b", "serviceName", R_NAME, "\"a/b\"" },
	{ "serviceName=a%2Fb", "serviceName", R_NAME, "\"a/b\"" },
	{ "serviceName=", "serviceName", R_NAME, NULL },
	{ "serviceName", "serviceName", R_NAME, NULL },
	{ "serviceName=.x", "serviceName", R_NAME, "\".x\"" },
	{ "serviceName=-x", "serviceName", R_NAME, "\"-x\"" },
	{ "serviceName=_x", "serviceName", R_NAME, "\"_x\"" },
	{ "serviceName=.", "serviceName", R_NAME, NULL },
	{ "serviceName=..", "serviceName", R_NAME, NULL },
	{ "serviceName=%2e%2e", "serviceName", R_NAME, "\"..\"" },
	{ "serviceName=%2E%2E%2Fetc", "serviceName", R_NAME, "\"../etc\"" },
	{ "serviceName=a+b", "serviceName", R_NAME, "\"a b\"" },
	{ "serviceName=a%0Ab", "serviceName", R_NAME, NULL },
	{ "serviceName=a%5Cb", "serviceName", R_NAME, NULL },
	{ "serviceName=a:b", "serviceName", R_NAME, NULL },
	{ "serviceName=%C3%A9t%C3%A9", "serviceName", R_NAME, NULL },
	{ "serviceName=a*", "serviceName", R_NAME, NULL },
	{ "SERVICENAME=../x", "serviceName", R_NAME, "\"../x\"" },
	/* scrapePort */
	{ SN "scrapePort=0", "scrapePort", R_PORT, "\"0\"" },
	{ SN "scrapePort=65536", "scrapePort", R_PORT, "\"65536\"" },
	{ SN "scrapePort=abc", "scrapePort", R_PORT, "\"abc\"" },
	{ SN "scrapePort=-1", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=080", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=80.5", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=+80", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=80+", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=999999", "scrapePort", R_PORT, NULL },
	{ SN "scrapePort=0x50", "scrapePort", R_PORT, NULL },
	{ SN "SCRAPEPORT=abc", "scrapePort", R_PORT, "\"abc\"" },
	/* durations */
	{ SN "scrapeInterval=abc", "scrapeInterval", R_DUR, "\"abc\"" },
	{ SN "scrapeInterval=10", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=1.5s", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=-1s", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=5m5h", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=1S", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=s", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeInterval=99999999999y", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeinterval=1x", "scrapeInterval", R_DUR, NULL },
	{ SN "scrapeTimeout=abc", "scrapeTimeout", R_DUR, "\"abc\"" },
	{ SN "scrapeTimeout=10+s", "scrapeTimeout", R_DUR, NULL },
	{ SN "scrapeTimeout=1m1m", "scrapeTimeout", R_DUR, NULL },
	{ SN "scrapeTimeout=1ns", "scrapeTimeout", R_DUR, NULL },
	{ SN "scrapeInterval=10s&scrapeTimeout=15s", "scrapeTimeout", R_LONGER,
	  "\"15s\"" },
	{ SN "scrapeInterval=1m&scrapeTimeout=1m1ms", "scrapeTimeout",
	  R_LONGER, "\"1m1ms\"" },
	{ AL "alertFor=abc", "alertFor", R_DUR, "\"abc\"" },
	{ AL "alertFor=5+minutes", "alertFor", R_DUR, NULL },
	{ AL "alertFor=1h-5m", "alertFor", R_DUR, NULL },
	{ SN "alertName.4=a&alertIf.4=up&alertFor.4=1d1y", "alertFor.4",
	  R_DUR, "\"1d1y\"" },
	/* metricsPath, scheme, scrapeType, replicas */
	{ SN "metricsPath=metrics", "metricsPath", R_PATH, NULL },
	{ SN "metricsPath=%2Fa+b", "metricsPath", R_PATH, NULL },
	{ SN "metricsPath=%2Fa%09", "metricsPath", R_PATH, NULL },
	{ SN "scheme=ftp", "scheme", "must be http or https", "\"ftp\"" },
	{ SN "scheme=HTTP", "scheme", "must be http or https", NULL },
	{ SN "scrapeType=consul", "scrapeType",
	  "must be static_configs or dns_sd_configs", "\"consul\"" },
	{ SN "replicas=abc", "replicas", "is not a number of replicas",
	  "\"abc\"" },
	{ SN "replicas=-1", "replicas", "is not a number of replicas", NULL },
	/* alertLabels and alertAnnotations */
	{ AL "alertLabels=severity", "alertLabels", R_NO_EQ, "item 1" },
	{ AL "alertLabels=a=b,severity", "alertLabels", R_NO_EQ, "item 2" },
	{ AL "alertLabels=1a=b", "alertLabels", R_LABEL, "\"1a\"" },
	{ AL "alertLabels=a-b=c", "alertLabels", R_LABEL, "\"a-b\"" },
	{ AL "alertLabels=a.b=c", "alertLabels", R_LABEL, "\"a.b\"" },
	{ AL "alertLabels==c", "alertLabels", R_LABEL, "\"\"" },
	{ AL "alertLabels=a=b,,c=d", "alertLabels", R_NO_EQ, "item 2" },
	/* Prometheus refuses __name__ among a rule's labels: said here,
	 * naming alertLabels, not by promtool blaming alertIf. */
	{ AL "alertLabels=__name__=x", "alertLabels", "label __name__ is "
	  "reserved", "item 1" },
	{ AL "alertName.2=b&alertIf.2=up&alertLabels.2=a=b,__name__=x",
	  "alertLabels.2", "label __name__ is reserved", "item 2" },
	{ AL "alertAnnotations=summary", "alertAnnotations", R_NO_EQ,
	  "\"summary\"" },
	{ AL "alertAnnotations=s%C3%BCmmary=x", "alertAnnotations", R_LABEL,
	  NULL },
	{ SN "alertName.2=a&alertIf.2=up&alertLabels.2=x", "alertLabels.2",
	  R_NO_EQ, NULL },
	{ SN "alertName.7=a&alertIf.7=up&alertAnnotations.7=-=x",
	  "alertAnnotations.7", R_LABEL, NULL },
	/* alert names and indexes */
	{ SN "alertName=a", "alertIf", R_WITHOUT, NULL },
	{ SN "alertIf=up", "alertName", R_WITHOUT, NULL },
	{ SN "alertFor=5m", "alertFor", R_WITHOUT, NULL },
	{ SN "alertLabels=a=b", "alertLabels", R_WITHOUT, NULL },
	{ SN "alertPersistent=true", "alertPersistent", R_WITHOUT, NULL },
	{ SN "alertName.2=a", "alertIf.2", R_WITHOUT, NULL },
	{ SN "alertIf.3=up", "alertName.3", R_WITHOUT, NULL },
	{ SN "alertFor.5=1m", "alertFor.5", R_WITHOUT, NULL },
	{ SN "alertName=a+b&alertIf=up", "alertName",
	  "may only hold letters, digits", "\"a b\"" },
	{ SN "alertName=a%2Fb&alertIf=up", "alertName",
	  "may only hold letters, digits", NULL },
	{ AL "alertPersistent=maybe", "alertPersistent",
	  "must be true or false", "\"maybe\"" },
	{ AL "alertPersistent.1=yes", "alertPersistent.1", R_WITHOUT, NULL },
	{ SN "alertName.0=a&alertIf.0=up", "alertName.0", R_INDEX, NULL },
	{ SN "alertName.101=a&alertIf.101=up", "alertName.101", R_INDEX,
	  NULL },
	{ SN "alertName.01=a&alertIf.01=up", "alertName.01", R_INDEX, NULL },
	{ SN "alertIf.1000=up", "alertIf.1000", R_INDEX, NULL },
	{ SN "alertName.=a", "alertName.", R_INDEX, NULL },
	{ SN "alertName.1x=a", "alertName.1x", R_INDEX, NULL },
	{ SN "ALERTNAME.0=a", "ALERTNAME.0", R_INDEX, NULL },
	{ AL "alertName.1=a&alertIf.1=up", "svc_a", "is given twice", NULL },
	{ SN "alertName=a-b&alertIf=up&alertName.2=ab&alertIf.2=up",
	  "svc_ab", "is given twice", NULL },
	{ SN "alertname.1=a&ALERTIF.1=up&AlertFor.1=x", "alertFor.1", R_DUR,
	  "\"x\"" },
	/* '@' without shortcuts */
	{ SN "alertName=a&alertIf=@service_mem_limit:0.8", "alertIf",
	  "shortcuts are not available", NULL },
	{ SN "alertName.9=a&alertIf.9=@replicas_running", "alertIf.9",
	  "shortcuts are not available", NULL },
	/* targets */
	{ SN "targets=host", "targets", R_TARGET, "\"host\"" },
	{ SN "targets=host:0", "targets", R_TARGET, "\"host:0\"" },
	{ SN "targets=host:65536", "targets", R_TARGET, NULL },
	{ SN "targets=host:http", "targets", R_TARGET, NULL },
	{ SN "targets=a%2Fb:80", "targets", R_TARGET, "\"a/b:80\"" },
	{ SN "targets=:80", "targets", R_TARGET, NULL },
	{ SN "targets=a:1,,b:2", "targets", R_TARGET, "\"\"" },
	{ SN "targets=a:1,b", "targets", R_TARGET, "\"b\"" },
	{ SN "targets=[zz]:80", "targets", R_TARGET, NULL },
	{ SN "targets=a+b:80", "targets", R_TARGET, NULL },
	/* nodeInfo */
	{ SN "nodeInfo=[[", "nodeInfo", R_NODE_JSON, NULL },
	{ SN "nodeInfo={}", "nodeInfo", R_NODE_JSON, NULL },
	{ SN "nodeInfo=null", "nodeInfo", R_NODE_JSON, NULL },
	{ SN "nodeInfo=%22n1%22", "nodeInfo", R_NODE_JSON, NULL },
	{ SN "nodeInfo=[1]", "nodeInfo", R_NODE_ENTRY, "entry 1" },
	{ SN "nodeInfo=[[%22n1%5Cu0000x%22,%2210.0.0.1%22]]", "nodeInfo",
	  "holds a NUL character", NULL },
	{ SN "nodeInfo=[[%22n1%22]]", "nodeInfo", R_NODE_ENTRY, NULL },
	{ SN "nodeInfo=[[%22n1%22,%2210.0.0.1%22,%22id%22,%22x%22]]",
	  "nodeInfo", R_NODE_ENTRY, NULL },
	{ SN "nodeInfo=[[%22n1%22,1]]", "nodeInfo", R_NODE_ENTRY, NULL },
	{ SN "nodeInfo=[[%22n1%22,%2210.0.0.1%22,null]]", "nodeInfo",
	  R_NODE_ENTRY, NULL },
	{ SN "nodeInfo=[[%22n1%22,%2210.0.0.1%22],[]]", "nodeInfo",
	  R_NODE_ENTRY, "entry 2" },
	{ SN "nodeInfo=[[%22%22,%2210.0.0.1%22]]", "nodeInfo", R_NODE_ENTRY,
	  NULL },
	{ SN "nodeInfo=[[%22n1%22,%22a+b%22]]", "nodeInfo", R_NODE_ENTRY,
	  NULL },
	{ SN "nodeInfo=[[%22n1%22,%22%22]]", "nodeInfo", R_NODE_ENTRY, NULL },
	{ SN "NODEINFO=[[", "nodeInfo", R_NODE_JSON, NULL },
	/* bytes that are not UTF-8 */
	{ SN "env=%FF", "env", "is not valid UTF-8", NULL },
};

/* Row r refused with ctx: parameter, reason and value in the message. */
static void
refuse_row(const struct refusal *r, const struct request_ctx *ctx)
{
	struct service svc;
	char err[ERR_MAX];

	refuse_form(r->body, ctx, r->param, r->why);
	if (r->value == NULL)
		return;
	ck_assert_int_eq(parse_form(r->body, ctx, &svc, err), -1);
	ck_assert_msg(strstr(err, r->value) != NULL,
	    "%s: message \"%s\" does not quote %s", r->body, err, r->value);
}

START_TEST(test_refusal)
{
	refuse_row(&refusals[_i], &no_ctx);
}
END_TEST

/* The same refusals when the table is there: shortcuts change nothing else. */
START_TEST(test_refusal_with_shortcuts)
{
	const struct refusal *r = &refusals[_i];
	struct shortcuts *t = builtin_table();
	struct request_ctx ctx = { t, NULL, 0, NULL };

	if (strstr(r->body, "alertIf=@") == NULL &&
	    strstr(r->body, "alertIf.9=@") == NULL)
		refuse_row(r, &ctx);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_service_name_length)
{
	struct service svc;
	char err[ERR_MAX], *name, *body;

	/* 255 is the longest name accepted, 256 is refused. */
	name = repeat('a', SERVICE_NAME_MAX);
	ck_assert_int_ne(asprintf(&body, "serviceName=%s", name), -1);
	accept_form(body, &no_ctx, &svc);
	ck_assert_str_eq(svc.name, name);
	ck_assert_uint_eq(strlen(svc.name), 255);
	service_release(&svc);
	free(body);
	free(name);

	name = repeat('b', SERVICE_NAME_MAX + 1);
	ck_assert_int_ne(asprintf(&body, "serviceName=%s", name), -1);
	refuse_form(body, &no_ctx, "serviceName", "1..255");
	/* The message quotes at most 100 bytes of the value. */
	ck_assert_int_eq(parse_form(body, &no_ctx, &svc, err), -1);
	ck_assert_ptr_null(strstr(err, name + 150));
	free(body);
	free(name);
}
END_TEST

START_TEST(test_service_name_nul)
{
	struct kvlist params = { 0 };
	char err[ERR_MAX] = "";
	static const char body[] = "serviceName=a%00b";

	/* A NUL byte cannot reach request_parse: the decoder refuses it, and
	 * says which parameter held it. */
	ck_assert_int_eq(request_decode_form(body, strlen(body), &params, err),
	    -1);
	ck_assert_msg(strstr(err, "serviceName") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "NUL") != NULL, "%s", err);
	kvlist_release(&params);
}
END_TEST

START_TEST(test_service_name_valid)
{
	static const char *const good[] = {
		"a", "A", "0", "go-demo_main", "a.b", "a..b", "x-", "x.",
		"9_", "monitor_prometheus.1",
	};
	static const char *const bad[] = {
		"", ".", "..", "-a", "_a", ".a", "a/b", "a b", "a\\b", "a:b",
		"a\n", "\xc3\xa9", "a@b",
	};
	size_t i;

	for (i = 0; i < nitems(good); i++)
		ck_assert_msg(service_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(!service_name_valid(bad[i]), "%s", bad[i]);
}
END_TEST

/*
 * What is accepted.
 */

START_TEST(test_minimal)
{
	struct service svc;

	accept_form("serviceName=go-demo_main", &no_ctx, &svc);
	ck_assert_str_eq(svc.name, "go-demo_main");
	ck_assert_int_eq(svc.port, 0);
	ck_assert_ptr_null(svc.metrics_path);
	ck_assert_ptr_null(svc.scheme);
	ck_assert_ptr_null(svc.scrape_interval);
	ck_assert_ptr_null(svc.scrape_timeout);
	ck_assert_int_eq(svc.static_config, 0);
	ck_assert_uint_eq(svc.ntargets, 0);
	ck_assert_int_eq(svc.has_tasks, 0);
	ck_assert_uint_eq(svc.nalerts, 0);
	ck_assert_uint_eq(svc.params.n, 1);
	ck_assert_str_eq(kvlist_get(&svc.params, "serviceName"),
	    "go-demo_main");
	service_release(&svc);
}
END_TEST

START_TEST(test_full)
{
	struct service svc;
	const struct alert *a;

	accept_form("serviceName=go-demo_main&scrapePort=8080"
	    "&scrapeInterval=15s&scrapeTimeout=10s&metricsPath=%2Fmy%2Fmetrics"
	    "&scheme=https&distribute=true&replicas=3&com.df.other=x"
	    "&alertName=mem-limit&alertIf=container_memory_usage_bytes+%3E+1"
	    "&alertFor=5m&alertLabels=severity=high,receiver=ops"
	    "&alertAnnotations=summary=Memory+high,runbook=http://x/?a=b"
	    "&alertPersistent=true", &no_ctx, &svc);
	ck_assert_str_eq(svc.name, "go-demo_main");
	ck_assert_int_eq(svc.port, 8080);
	ck_assert_str_eq(svc.scrape_interval, "15s");
	ck_assert_str_eq(svc.scrape_timeout, "10s");
	ck_assert_str_eq(svc.metrics_path, "/my/metrics");
	ck_assert_str_eq(svc.scheme, "https");
	ck_assert_uint_eq(svc.nalerts, 1);
	a = &svc.alerts[0];
	/* DFM's name: service_alert with every '-' removed. */
	ck_assert_str_eq(a->name, "godemo_main_memlimit");
	ck_assert_str_eq(a->expr, "container_memory_usage_bytes > 1");
	ck_assert_str_eq(a->for_, "5m");
	ck_assert_int_eq(a->persistent, 1);
	ck_assert_uint_eq(a->labels.n, 2);
	/* Sorted by name. */
	ck_assert_str_eq(a->labels.v[0].key, "receiver");
	ck_assert_str_eq(a->labels.v[0].value, "ops");
	ck_assert_str_eq(a->labels.v[1].key, "severity");
	ck_assert_str_eq(a->labels.v[1].value, "high");
	ck_assert_uint_eq(a->annotations.n, 2);
	ck_assert_str_eq(kvlist_get(&a->annotations, "summary"), "Memory high");
	ck_assert_str_eq(kvlist_get(&a->annotations, "runbook"),
	    "http://x/?a=b");
	/* Service-level parameters are kept in the record, unknown ones
	 * are not (issue 13: records do not grow with whatever is sent). */
	ck_assert_ptr_null(kvlist_get(&svc.params, "com.df.other"));
	ck_assert_str_eq(kvlist_get(&svc.params, "replicas"), "3");
	service_release(&svc);
}
END_TEST

START_TEST(test_full_annotations)
{
	struct service svc;
	const struct alert *a;

	/* A value may hold '=' (DFM lost everything after the second). */
	accept_form("serviceName=s&alertName=a&alertIf=up"
	    "&alertLabels=a=b=c,d=e&alertAnnotations=summary=x%3Dy%3D%3Dz,"
	    "empty=", &no_ctx, &svc);
	ck_assert_uint_eq(svc.nalerts, 1);
	a = &svc.alerts[0];
	ck_assert_str_eq(a->name, "s_a");
	ck_assert_uint_eq(a->labels.n, 2);
	ck_assert_str_eq(kvlist_get(&a->labels, "a"), "b=c");
	ck_assert_str_eq(kvlist_get(&a->labels, "d"), "e");
	ck_assert_uint_eq(a->annotations.n, 2);
	ck_assert_str_eq(kvlist_get(&a->annotations, "summary"), "x=y==z");
	ck_assert_str_eq(kvlist_get(&a->annotations, "empty"), "");
	ck_assert_ptr_null(a->for_);
	ck_assert_int_eq(a->persistent, 0);
	service_release(&svc);
}
END_TEST

START_TEST(test_alert_indexes)
{
	struct service svc;

	/* A gap (.2) drops nothing after it; order is unindexed, then by
	 * index; .100 is the last index. */
	accept_form("serviceName=svc&alertName.3=c&alertIf.3=up+%3D%3D+3"
	    "&alertName.100=z&alertIf.100=up&alertName.1=a&alertIf.1=up"
	    "&alertFor.1=1m&alertName=u&alertIf=up+%3D%3D+0"
	    "&alertPersistent.3=true&alertLabels.100=k=v", &no_ctx, &svc);
	ck_assert_uint_eq(svc.nalerts, 4);
	ck_assert_str_eq(svc.alerts[0].name, "svc_u");
	ck_assert_str_eq(svc.alerts[0].expr, "up == 0");
	ck_assert_str_eq(svc.alerts[1].name, "svc_a");
	ck_assert_str_eq(svc.alerts[1].for_, "1m");
	ck_assert_int_eq(svc.alerts[1].persistent, 0);
	ck_assert_str_eq(svc.alerts[2].name, "svc_c");
	ck_assert_str_eq(svc.alerts[2].expr, "up == 3");
	ck_assert_int_eq(svc.alerts[2].persistent, 1);
	ck_assert_ptr_null(svc.alerts[2].for_);
	ck_assert_str_eq(svc.alerts[3].name, "svc_z");
	ck_assert_str_eq(kvlist_get(&svc.alerts[3].labels, "k"), "v");
	ck_assert_int_eq(service_has_persistent(&svc), 1);
	service_release(&svc);
}
END_TEST

START_TEST(test_alert_all_indexes)
{
	struct service svc;
	struct kvlist params = { 0 };
	char err[ERR_MAX], k[32], v[32];
	int i;

	/* Every index parses (--max-alerts, the registry's, allows 101). */
	ck_assert_int_eq(kvlist_set(&params, "serviceName", "s"), 0);
	for (i = 1; i <= SERVICE_ALERT_INDEX_MAX; i++) {
		snprintf(k, sizeof(k), "alertName.%d", i);
		snprintf(v, sizeof(v), "n%d", i);
		ck_assert_int_eq(kvlist_set(&params, k, v), 0);
		snprintf(k, sizeof(k), "alertIf.%d", i);
		ck_assert_int_eq(kvlist_set(&params, k, "up"), 0);
	}
	ck_assert_int_eq(kvlist_set(&params, "alertName", "n0"), 0);
	ck_assert_int_eq(kvlist_set(&params, "alertIf", "up"), 0);
	ck_assert_msg(request_parse(&params, &no_ctx, &svc, err) == 0, "%s",
	    err);
	ck_assert_uint_eq(svc.nalerts, SERVICE_ALERT_INDEX_MAX + 1);
	for (i = 0; i <= SERVICE_ALERT_INDEX_MAX; i++) {
		snprintf(v, sizeof(v), "s_n%d", i);
		ck_assert_str_eq(svc.alerts[i].name, v);
	}
	service_release(&svc);
	kvlist_release(&params);
}
END_TEST

START_TEST(test_empty_values_absent)
{
	struct service svc;

	/* DFM treats an empty value as absent: swarm-listener sends labels
	 * that are set to "" on the service. */
	accept_form("serviceName=s&scrapePort=&metricsPath=&alertName.2="
	    "&alertIf.2=&scheme=&nodeInfo=&targets=", &no_ctx, &svc);
	ck_assert_int_eq(svc.port, 0);
	ck_assert_ptr_null(svc.metrics_path);
	ck_assert_ptr_null(svc.scheme);
	ck_assert_uint_eq(svc.nalerts, 0);
	ck_assert_int_eq(svc.has_tasks, 0);
	ck_assert_uint_eq(svc.ntargets, 0);
	ck_assert_uint_eq(svc.params.n, 1);
	service_release(&svc);
}
END_TEST

/* alertPersistent takes the one boolean vocabulary (values.h), as every
 * flag and variable does. */
START_TEST(test_alert_persistent_words)
{
	static const struct {
		const char	*word;
		int		 persistent;
	} words[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "yes", 1 }, { "On", 1 },
		{ "1", 1 }, { "t", 1 }, { "false", 0 }, { "no", 0 },
		{ "OFF", 0 }, { "0", 0 }, { "F", 0 },
	};
	struct service svc;
	char *body;
	size_t i;

	for (i = 0; i < nitems(words); i++) {
		ck_assert_int_ne(asprintf(&body, "serviceName=s&alertName=a"
		    "&alertIf=up&alertPersistent=%s", words[i].word), -1);
		accept_form(body, &no_ctx, &svc);
		ck_assert_uint_eq(svc.nalerts, 1);
		ck_assert_msg(svc.alerts[0].persistent == words[i].persistent,
		    "alertPersistent=%s", words[i].word);
		service_release(&svc);
		free(body);
	}
}
END_TEST

START_TEST(test_names_case_insensitive)
{
	static const char *const want[] = {
		"alertFor.2", "alertIf", "alertIf.2", "alertName", "alertName.2",
		"metricsPath", "scrapePort", "serviceName",
	};
	struct service svc;
	size_t i;

	accept_form("SERVICENAME=Svc&SCRAPEPORT=9100&metricspath=%2Fm"
	    "&alertname=a&ALERTIF=up&AlertName.2=b&alertIF.2=up&ALERTFOR.2=1m",
	    &no_ctx, &svc);
	ck_assert_str_eq(svc.name, "Svc");
	ck_assert_int_eq(svc.port, 9100);
	ck_assert_str_eq(svc.metrics_path, "/m");
	ck_assert_uint_eq(svc.nalerts, 2);
	ck_assert_str_eq(svc.alerts[1].name, "Svc_b");
	ck_assert_str_eq(svc.alerts[1].for_, "1m");
	/* Canonical names in DFM's spelling, sorted. */
	ck_assert_uint_eq(svc.params.n, nitems(want));
	for (i = 0; i < nitems(want); i++)
		ck_assert_str_eq(svc.params.v[i].key, want[i]);
	service_release(&svc);
}
END_TEST

START_TEST(test_unknown_params_dropped)
{
	static const char *const names[] = { "env" };
	struct request_ctx ctx = { NULL, names, nitems(names), NULL };
	struct service svc;

	/* Unknown names are normal (every com.df.* label arrives); they are
	 * ignored and not kept in the record, but for the names of
	 * DF_SCRAPE_TARGET_LABELS, which are kept as given. */
	accept_form("serviceName=s&distribute=true&com.df.notify=true"
	    "&Env=prod&x.y.z=1", &ctx, &svc);
	ck_assert_str_eq(kvlist_get(&svc.params, "Env"), "prod");
	ck_assert_ptr_null(kvlist_get(&svc.params, "x.y.z"));
	ck_assert_ptr_null(kvlist_get(&svc.params, "com.df.notify"));
	ck_assert_str_eq(kvlist_get(&svc.params, "distribute"), "true");
	ck_assert_uint_eq(svc.params.n, 3);
	ck_assert_uint_eq(svc.target_labels.n, 1);
	ck_assert_uint_eq(svc.nalerts, 0);
	service_release(&svc);
	/* Without DF_SCRAPE_TARGET_LABELS, Env goes too. */
	accept_form("serviceName=s&Env=prod&x.y.z=1", &no_ctx, &svc);
	ck_assert_uint_eq(svc.params.n, 1);
	service_release(&svc);
}
END_TEST

START_TEST(test_target_labels)
{
	static const char *const names[] = { "env", "aws-region", "absent" };
	struct request_ctx ctx = { NULL, names, nitems(names), NULL };
	struct service svc;

	accept_form("serviceName=s&ENV=prod&aws-region=eu-west-1&other=x",
	    &ctx, &svc);
	ck_assert_uint_eq(svc.target_labels.n, 2);
	/* '-' becomes '_'; sorted by label name. */
	ck_assert_str_eq(svc.target_labels.v[0].key, "aws_region");
	ck_assert_str_eq(svc.target_labels.v[0].value, "eu-west-1");
	ck_assert_str_eq(svc.target_labels.v[1].key, "env");
	ck_assert_str_eq(svc.target_labels.v[1].value, "prod");
	service_release(&svc);
}
END_TEST

START_TEST(test_targets)
{
	struct service svc;

	accept_form("serviceName=s&targets=b.example:2,a:1,b.example:2,"
	    "10.0.0.1:9100,[::1]:9100", &no_ctx, &svc);
	/* A set: sorted, repeats dropped. */
	ck_assert_uint_eq(svc.ntargets, 4);
	ck_assert_str_eq(svc.targets[0], "10.0.0.1:9100");
	ck_assert_str_eq(svc.targets[1], "[::1]:9100");
	ck_assert_str_eq(svc.targets[2], "a:1");
	ck_assert_str_eq(svc.targets[3], "b.example:2");
	service_release(&svc);

	accept_form("serviceName=s&targets=host:65535", &no_ctx, &svc);
	ck_assert_uint_eq(svc.ntargets, 1);
	ck_assert_str_eq(svc.targets[0], "host:65535");
	service_release(&svc);
}
END_TEST

START_TEST(test_static_configs)
{
	struct service svc;

	accept_form("serviceName=s&scrapePort=80&scrapeType=static_configs",
	    &no_ctx, &svc);
	ck_assert_int_eq(svc.static_config, 1);
	ck_assert_int_eq(svc.port, 80);
	service_release(&svc);

	accept_form("serviceName=s&scrapePort=80&scrapeType=dns_sd_configs",
	    &no_ctx, &svc);
	ck_assert_int_eq(svc.static_config, 0);
	service_release(&svc);

	accept_form("serviceName=s&scrapePort=1", &no_ctx, &svc);
	ck_assert_int_eq(svc.port, 1);
	ck_assert_int_eq(svc.static_config, 0);
	service_release(&svc);
}
END_TEST

/*
 * Shortcuts in a request.
 */

START_TEST(test_shortcut_expanded)
{
	struct shortcuts *t = builtin_table();
	struct request_ctx ctx = { t, NULL, 0, NULL };
	struct service svc;
	const struct alert *a;

	accept_form("serviceName=go-demo_main&alertName=mem&alertIf.2="
	    "%40replicas_running&alertName.2=r&replicas=3"
	    "&alertIf=%40service_mem_limit:0.8&alertLabels=receiver=ops",
	    &ctx, &svc);
	ck_assert_uint_eq(svc.nalerts, 2);
	a = &svc.alerts[0];
	ck_assert_ptr_nonnull(strstr(a->expr, "> 0.8"));
	ck_assert_ptr_null(strchr(a->expr, '@'));
	/* The user's own label wins over the shortcut's. */
	ck_assert_str_eq(kvlist_get(&a->labels, "receiver"), "ops");
	ck_assert_str_eq(kvlist_get(&a->labels, "service"), "go-demo_main");
	ck_assert_ptr_nonnull(kvlist_get(&a->annotations, "summary"));
	ck_assert_ptr_nonnull(strstr(svc.alerts[1].expr, "!= 3"));
	service_release(&svc);
	shortcuts_free(t);
}
END_TEST

START_TEST(test_shortcut_error_message)
{
	struct shortcuts *t = builtin_table();
	struct request_ctx ctx = { t, NULL, 0, NULL };
	struct service svc;
	char err[ERR_MAX], *body, *want, *x;

	ck_assert_int_eq(parse_form("serviceName=s&alertName.3=a"
	    "&alertIf.3=%40nope:1", &ctx, &svc, err), -1);
	ck_assert_str_eq(err, "alertIf.3 \"@nope:1\": unknown shortcut @nope");

	ck_assert_int_eq(parse_form("serviceName=s&alertName=a"
	    "&alertIf=%40replicas_running", &ctx, &svc, err), -1);
	ck_assert_str_eq(err, "alertIf \"@replicas_running\": "
	    "@replicas_running needs the replicas parameter");

	/* The value is quoted up to 100 bytes, the reason in full. */
	x = repeat('x', 300);
	ck_assert_int_ne(asprintf(&body, "serviceName=s&alertName=a"
	    "&alertIf=%%40%s", x), -1);
	ck_assert_int_eq(parse_form(body, &ctx, &svc, err), -1);
	ck_assert_int_ne(asprintf(&want, "alertIf \"@%.99s\": unknown "
	    "shortcut @%.100s", x, x), -1);
	ck_assert_str_eq(err, want);
	assert_empty(&svc);
	free(want);
	free(body);
	free(x);
	shortcuts_free(t);
}
END_TEST

/*
 * nodeInfo.
 */

START_TEST(test_node_info_forms)
{
	struct task *t;
	size_t n;
	char err[ERR_MAX];

	/* The 3-element form, the older 2-element one, and a mix; repeats
	 * (several tasks on one node) collapse; output sorted. */
	ck_assert_int_eq(request_parse_node_info(
	    "[[\"node-2\",\"10.0.0.7\",\"id2\"],"
	    "[\"node-1\",\"10.0.0.5\",\"id1\"],"
	    "[\"node-3\",\"10.0.0.6\"],"
	    "[\"node-1\",\"10.0.0.5\",\"id1\"]]", &t, &n, err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(t[0].address, "10.0.0.5");
	ck_assert_str_eq(t[0].hostname, "node-1");
	ck_assert_str_eq(t[0].node_id, "id1");
	ck_assert_str_eq(t[1].address, "10.0.0.6");
	ck_assert_str_eq(t[1].hostname, "node-3");
	ck_assert_str_eq(t[1].node_id, "");
	ck_assert_str_eq(t[2].address, "10.0.0.7");
	ck_assert_str_eq(t[2].node_id, "id2");
	while (n > 0)
		task_release(&t[--n]);
	free(t);

	ck_assert_int_eq(request_parse_node_info("[]", &t, &n, err), 0);
	ck_assert_uint_eq(n, 0);
	free(t);

	ck_assert_int_eq(request_parse_node_info(" [ [ \"h\" , \"a\" ] ] ",
	    &t, &n, err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].hostname, "h");
	ck_assert_str_eq(t[0].address, "a");
	task_release(&t[0]);
	free(t);
}
END_TEST

START_TEST(test_node_info_sorted)
{
	static const char *const orders[] = {
		"[[\"n1\",\"10.0.0.1\",\"a\"],[\"n2\",\"10.0.0.2\",\"b\"],"
		"[\"n3\",\"10.0.0.3\",\"c\"]]",
		"[[\"n3\",\"10.0.0.3\",\"c\"],[\"n1\",\"10.0.0.1\",\"a\"],"
		"[\"n2\",\"10.0.0.2\",\"b\"]]",
		"[[\"n2\",\"10.0.0.2\",\"b\"],[\"n3\",\"10.0.0.3\",\"c\"],"
		"[\"n1\",\"10.0.0.1\",\"a\"],[\"n3\",\"10.0.0.3\",\"c\"]]",
	};
	struct request_ctx ctx = no_ctx;
	struct service first, svc;
	struct kvlist params = { 0 };
	char err[ERR_MAX];
	size_t i;

	/* Any order of the same set gives the same record, tasks and the
	 * recorded nodeInfo included (a reordered set is no change). */
	for (i = 0; i < nitems(orders); i++) {
		ck_assert_int_eq(kvlist_set(&params, "serviceName", "s"), 0);
		ck_assert_int_eq(kvlist_set(&params, "scrapePort", "80"), 0);
		ck_assert_int_eq(kvlist_set(&params, "nodeInfo", orders[i]),
		    0);
		ck_assert_msg(request_parse(&params, &ctx, i ? &svc : &first,
		    err) == 0, "%s", err);
		kvlist_release(&params);
		if (i == 0)
			continue;
		ck_assert_int_eq(svc.has_tasks, 1);
		ck_assert_uint_eq(svc.ntasks, 3);
		assert_same_service(&first, &svc);
		service_release(&svc);
	}
	ck_assert_str_eq(first.tasks[0].hostname, "n1");
	ck_assert_str_eq(first.tasks[1].hostname, "n2");
	ck_assert_str_eq(first.tasks[2].hostname, "n3");
	service_release(&first);
}
END_TEST

START_TEST(test_node_info_refused)
{
	static const char *const bad[] = {
		"", "[[", "[", "{}", "null", "1", "\"x\"", "[1]", "[\"a\"]",
		"[[]]", "[[\"h\"]]", "[[\"h\",\"a\",\"i\",\"x\"]]",
		"[[\"h\",1]]", "[[1,\"a\"]]", "[[\"h\",\"a\",2]]",
		"[[\"h\",\"a\",null]]", "[[\"h\",\"a\"],{}]",
		"[[\"h\",\"a\"],[\"h\"]]", "[[\"h\",\"a\"]]x",
		"[[\"\",\"a\"]]", "[[\"h\",\"\"]]", "[[\"h\",\"a b\"]]",
		"[[\"h\",\"a/b\"]]",
		"[[[\"h\"],\"a\"]]",
	};
	struct task *t = (struct task *)1;
	size_t i, n = 7;
	char err[ERR_MAX];

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(request_parse_node_info(bad[i], &t, &n, err) ==
		    -1, "accepted %s", bad[i]);
		ck_assert_msg(strstr(err, "nodeInfo") != NULL, "%s: %s",
		    bad[i], err);
		ck_assert_ptr_null(t);
		ck_assert_uint_eq(n, 0);
	}
}
END_TEST

START_TEST(test_node_info_in_request)
{
	struct service svc;

	accept_form("serviceName=s&scrapePort=8080&nodeInfo="
	    "%5B%5B%22node-2%22%2C%2210.0.0.6%22%2C%22b%22%5D%2C%5B%22node-1"
	    "%22%2C%2210.0.0.5%22%5D%5D", &no_ctx, &svc);
	ck_assert_int_eq(svc.has_tasks, 1);
	ck_assert_uint_eq(svc.ntasks, 2);
	ck_assert_str_eq(svc.tasks[0].hostname, "node-1");
	ck_assert_str_eq(svc.tasks[0].node_id, "");
	ck_assert_str_eq(svc.tasks[1].hostname, "node-2");
	ck_assert_str_eq(svc.tasks[1].node_id, "b");
	service_release(&svc);

	/* An empty set is a set: the service has no task now. */
	accept_form("serviceName=s&scrapePort=8080&nodeInfo=[]", &no_ctx,
	    &svc);
	ck_assert_int_eq(svc.has_tasks, 1);
	ck_assert_uint_eq(svc.ntasks, 0);
	service_release(&svc);
}
END_TEST

/*
 * The form decoder.
 */

START_TEST(test_form_decode)
{
	struct kvlist l = { 0 };

	form("a=b+c&d=%41%62%2a&e=%2f%2F&f=%C3%A9&g=x%3Dy&h=1=2&i&j=&"
	    "k%3Dl=m&%6eame=v", &l);
	ck_assert_str_eq(kvlist_get(&l, "a"), "b c");
	ck_assert_str_eq(kvlist_get(&l, "d"), "Ab*");
	ck_assert_str_eq(kvlist_get(&l, "e"), "//");
	ck_assert_str_eq(kvlist_get(&l, "f"), "\xc3\xa9");
	ck_assert_str_eq(kvlist_get(&l, "g"), "x=y");
	ck_assert_str_eq(kvlist_get(&l, "h"), "1=2");
	ck_assert_str_eq(kvlist_get(&l, "i"), "");
	ck_assert_str_eq(kvlist_get(&l, "j"), "");
	/* An escaped '=' in a name is part of the name. */
	ck_assert_str_eq(kvlist_get(&l, "k=l"), "m");
	ck_assert_str_eq(kvlist_get(&l, "name"), "v");
	ck_assert_uint_eq(l.n, 10);
	kvlist_release(&l);

	/* Empty segments are skipped; a later key wins, case-insensitively,
	 * keeping the first spelling. */
	form("&&A=1&&a=2&", &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].key, "A");
	ck_assert_str_eq(l.v[0].value, "2");
	kvlist_release(&l);

	form("", &l);
	ck_assert_uint_eq(l.n, 0);
	kvlist_release(&l);

	/* '+' in a name is a space too. */
	form("a+b=c+%2B", &l);
	ck_assert_str_eq(kvlist_get(&l, "a b"), "c +");
	kvlist_release(&l);
}
END_TEST

START_TEST(test_form_decode_len)
{
	/* Not NUL-terminated: the decoder reads len bytes, no more. */
	char buf[] = { 'a', '=', '1', '&', 'b', '=', '%', '4', '1' };
	struct kvlist l = { 0 };
	char err[ERR_MAX];

	ck_assert_int_eq(request_decode_form(buf, 3, &l, err), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(kvlist_get(&l, "a"), "1");
	kvlist_release(&l);
	ck_assert_int_eq(request_decode_form(buf, sizeof(buf), &l, err), 0);
	ck_assert_str_eq(kvlist_get(&l, "b"), "A");
	kvlist_release(&l);
	/* "%4" cut by len is an incomplete escape, whatever follows. */
	ck_assert_int_eq(request_decode_form(buf, sizeof(buf) - 1, &l, err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "escape"));
	kvlist_release(&l);
}
END_TEST

START_TEST(test_form_decode_refused)
{
	static const struct {
		const char	*body;
		const char	*why;
		const char	*param;	/* the message names it, or NULL */
	} bad[] = {
		{ "a=%", "escape", NULL },
		{ "a=%4", "escape", NULL },
		{ "a=%zz", "escape", NULL },
		{ "a=%4g", "escape", NULL },
		{ "a=%g4", "escape", NULL },
		{ "a=%4&b=1", "escape", NULL },
		{ "a=%%41", "escape", NULL },
		{ "a%2=b", "escape", NULL },
		{ "a=%00", "NUL", "a" },
		{ "serviceName=x%00", "NUL", "serviceName" },
		{ "ok=1&alertIf=up%00%3E1", "NUL", "alertIf" },
		{ "a%00=b", "NUL", NULL },
	};
	struct kvlist l = { 0 };
	char err[ERR_MAX];
	size_t i;

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(request_decode_form(bad[i].body,
		    strlen(bad[i].body), &l, err) == -1, "accepted %s",
		    bad[i].body);
		ck_assert_msg(strstr(err, bad[i].why) != NULL, "%s: %s",
		    bad[i].body, err);
		if (bad[i].param != NULL)
			ck_assert_msg(strstr(err, bad[i].param) != NULL,
			    "%s: %s does not name %s", bad[i].body, err,
			    bad[i].param);
		kvlist_release(&l);
	}
}
END_TEST

/*
 * The canonical parameters are what the state file records: parsed again,
 * they must give the same record.
 */

static const char *const canon_bodies[] = {
	"serviceName=a",
	"SERVICENAME=go-demo_main&SCRAPEPORT=8080&scrapeinterval=15s"
	"&ScrapeTimeout=10s&METRICSPATH=%2Fm&scheme=https&distribute=true"
	"&replicas=3&env=prod&aws-region=eu&com.df.x=y",
	"serviceName=s&alertName=mem-limit&alertIf=a+%3E+1&alertFor=5m"
	"&alertLabels=severity=high,x=a=b&alertAnnotations=summary=s+t"
	"&alertPersistent=true&ALERTNAME.3=three&alertif.3=up%0A%23x"
	"&alertName.100=c&alertIf.100=up+%3D%3D+%22%3A+x%22",
	"serviceName=s&scrapePort=80&targets=b:2,a:1,a:1",
	"serviceName=s&scrapePort=80&scrapeType=static_configs",
	"serviceName=s&scrapePort=80&scrapeNetwork=net&nodeInfo="
	"[[%22n2%22,%2210.0.0.2%22,%22b%22],[%22n1%22,%2210.0.0.1%22]]",
	"serviceName=s&alertName=a&alertIf=%40service_mem_limit:0.8"
	"&alertName.2=b&alertIf.2=%40replicas_less_than&replicas=2"
	"&alertLabels.2=receiver=me",
};

START_TEST(test_canonical_reparse)
{
	static const char *const names[] = { "env", "aws-region" };
	struct shortcuts *t = builtin_table();
	struct request_ctx ctx = { t, names, nitems(names), NULL };
	struct service a, b, c;
	char err[ERR_MAX];
	size_t i;

	accept_form(canon_bodies[_i], &ctx, &a);
	/* Canonical: sorted by name. */
	for (i = 1; i < a.params.n; i++)
		ck_assert_int_lt(strcmp(a.params.v[i - 1].key,
		    a.params.v[i].key), 0);
	ck_assert_msg(request_parse(&a.params, &ctx, &b, err) == 0, "%s", err);
	assert_same_service(&a, &b);
	/* And it is a fixed point. */
	ck_assert_msg(request_parse(&b.params, &ctx, &c, err) == 0, "%s", err);
	assert_same_service(&b, &c);
	service_release(&a);
	service_release(&b);
	service_release(&c);
	shortcuts_free(t);
}
END_TEST

/* A service as the registry keeps it (service_pack()): the same record,
 * every part of it inside its one block, and freed as one. */
static int
inside(const void *block, size_t size, const void *p)
{
	return p == NULL || ((const char *)p >= (const char *)block &&
	    (const char *)p < (const char *)block + size);
}

START_TEST(test_packed)
{
	static const char *const names[] = { "env", "aws-region" };
	struct shortcuts *t = builtin_table();
	struct request_ctx ctx = { t, names, nitems(names), NULL };
	struct service a, *p;
	size_t i, k, size;

	accept_form(canon_bodies[_i], &ctx, &a);
	a.source = SERVICE_SOURCE_DOCKER;
	ck_assert_ptr_nonnull(p = service_pack(&a));
	ck_assert_int_eq(p->packed, 1);
	ck_assert_int_eq(p->source, SERVICE_SOURCE_DOCKER);
	assert_same_service(&a, p);
	size = malloc_usable_size(p);
	ck_assert(inside(p, size, p->name));
	ck_assert(inside(p, size, p->metrics_path));
	ck_assert(inside(p, size, p->targets));
	for (i = 0; i < p->ntargets; i++)
		ck_assert(inside(p, size, p->targets[i]));
	for (i = 0; i < p->ntasks; i++)
		ck_assert(inside(p, size, p->tasks[i].node_id));
	for (i = 0; i < p->nalerts; i++) {
		ck_assert(inside(p, size, p->alerts[i].expr));
		for (k = 0; k < p->alerts[i].labels.n; k++)
			ck_assert(inside(p, size,
			    p->alerts[i].labels.v[k].value));
	}
	for (i = 0; i < p->target_labels.n; i++)
		ck_assert(inside(p, size, p->target_labels.v[i].key));
	for (i = 0; i < p->params.n; i++)
		ck_assert(inside(p, size, p->params.v[i].value));
	service_free(p);
	service_release(&a);
	shortcuts_free(t);
}
END_TEST

/*
 * Limits (issue 13): every value has a cap, a service a target count cap, a
 * request a parameter cap, the rendered files a size cap; each refusal
 * names the limit and its flag.
 */

/* A form body of n bytes of c after prefix, NUL-terminated (caller frees). */
static char *
padded(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *b = malloc(pl + n + sl + 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, prefix, pl);
	memset(b + pl, c, n);
	memcpy(b + pl + n, suffix, sl + 1);
	return b;
}

/* A context with the flags' defaults, lim, for a test to change one. */
static struct request_ctx
limited(struct request_limits *lim)
{
	struct request_limits def = { REQUEST_MAX_PARAMS_DEFAULT,
	    REQUEST_MAX_VALUE_DEFAULT, REQUEST_MAX_TARGETS_DEFAULT,
	    { QUOTA_MAX_ALERTS_DEFAULT, QUOTA_MAX_RULE_BYTES_DEFAULT,
	    QUOTA_MAX_TARGET_BYTES_DEFAULT } };
	struct request_ctx ctx = { 0 };

	*lim = def;
	ctx.limits = lim;
	return ctx;
}

START_TEST(test_limit_value_caps)
{
	static const char *const names[] = { "env" };
	struct request_ctx ctx = { NULL, names, nitems(names), NULL };
	char *b;

	/* metricsPath: 512 accepted, 513 refused, naming the cap. */
	b = padded("serviceName=s&metricsPath=/", 'a', 511, "");
	{
		struct service svc;

		accept_form(b, &no_ctx, &svc);
		service_release(&svc);
	}
	free(b);
	b = padded("serviceName=s&metricsPath=/", 'a', 512, "");
	refuse_form(b, &no_ctx, "metricsPath", "is 513 bytes, more than the "
	    "512 flowmon accepts");
	free(b);
	/* A DF_SCRAPE_TARGET_LABELS value: --max-value-bytes. */
	b = padded("serviceName=s&env=", 'v', 1025, "");
	refuse_form(b, &ctx, "env", "more than --max-value-bytes (1024)");
	free(b);
	/* alertIf, alertName, alertFor, alertLabels. */
	b = padded("serviceName=s&alertName=a&alertIf=up", ' ', 16384, "");
	refuse_form(b, &no_ctx, "alertIf", "more than the 16384");
	free(b);
	b = padded("serviceName=s&alertIf=up&alertName.7=", 'n', 129, "");
	refuse_form(b, &no_ctx, "alertName.7", "more than the 128");
	free(b);
	b = padded("serviceName=s&alertName=a&alertIf=up&alertFor=1", '0', 70,
	    "s");
	refuse_form(b, &no_ctx, "alertFor", "more than the 64");
	free(b);
	b = padded("serviceName=s&alertName=a&alertIf=up&alertLabels=k=", 'v',
	    16384, "");
	refuse_form(b, &no_ctx, "alertLabels", "more than the 16384");
	free(b);
	/* An unknown parameter is dropped, whatever its size. */
	b = padded("serviceName=s&com.df.whatever=", 'x', 100000, "");
	{
		struct service svc;

		accept_form(b, &no_ctx, &svc);
		ck_assert_uint_eq(svc.params.n, 1);
		service_release(&svc);
	}
	free(b);
}
END_TEST

START_TEST(test_limit_targets)
{
	struct request_limits lim;
	struct request_ctx ctx = limited(&lim);
	struct service svc;
	char *ni, *b;

	lim.max_targets = 50;
	ni = tu_node_info_form(50);
	ck_assert_int_ne(asprintf(&b, "serviceName=s&scrapePort=9100"
	    "&nodeInfo=%s", ni), -1);
	accept_form(b, &ctx, &svc);
	ck_assert_uint_eq(svc.ntasks, 50);
	service_release(&svc);
	free(b);
	free(ni);
	ni = tu_node_info_form(51);
	ck_assert_int_ne(asprintf(&b, "serviceName=s&scrapePort=9100"
	    "&nodeInfo=%s", ni), -1);
	refuse_form(b, &ctx, "nodeInfo", "has 51 tasks, more than "
	    "--max-targets (50)");
	free(b);
	free(ni);
	b = padded("serviceName=s&targets=a:1", ',', 50, "b:2");
	refuse_form(b, &ctx, "targets", "has 51 items, more than "
	    "--max-targets (50)");
	free(b);
}
END_TEST

START_TEST(test_limit_params)
{
	struct request_limits lim;
	struct request_ctx ctx = limited(&lim);
	char err[ERR_MAX];
	char *b;
	size_t i, off;

	lim.max_params = 20;
	ck_assert_int_eq(request_check_count(&ctx, 20, err), 0);
	ck_assert_int_eq(request_check_count(&ctx, 21, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "21 parameters, more than "
	    "--max-params (20)"));
	b = malloc(64 * 21);
	ck_assert_ptr_nonnull(b);
	off = (size_t)sprintf(b, "serviceName=s");
	for (i = 0; i < 20; i++)
		off += (size_t)sprintf(b + off, "&p%zu=1", i);
	ck_assert_uint_eq(request_form_count(b, off), 21);
	refuse_form(b, &ctx, "--max-params (20)", NULL);
	free(b);
	ck_assert_uint_eq(request_form_count("a=1&&b&", 7), 2);
	ck_assert_uint_eq(request_form_count("", 0), 0);
}
END_TEST

/* The amplification request of issue 13: a 100 KB metricsPath and 2,000
 * tasks, which rendered a 200 MB target file. Refused, at once. */
START_TEST(test_limit_amplification)
{
	int64_t t0;
	char *ni, *b;
	double ms;

	ni = tu_node_info_form(2000);
	ck_assert_int_ne(asprintf(&b, "serviceName=s&scrapePort=9100"
	    "&metricsPath=/%0102400d&nodeInfo=%s", 0, ni), -1);
	t0 = clock_ms();
	refuse_form(b, &no_ctx, "metricsPath", "more than the 512");
	ms = (double)clock_since(t0);
	ck_assert_msg(ms < 500, "refusal took %.0f ms", ms);
	free(b);
	free(ni);
}
END_TEST

/*
 * Linear parameter handling (issue 13): kvlist_dedupe_ci is exactly a
 * series of kvlist_set_ci, and a 1 MiB body of 100,000 keys decodes fast.
 */

START_TEST(test_dedupe_like_set_ci)
{
	static const char *const keys[] = { "a", "B", "b", "A", "c", "ab",
		"AB", "x", "X", "a" };
	struct kvlist want = { 0 }, got = { 0 };
	unsigned seed = 7;
	char v[16];
	size_t round, i, n;

	for (round = 0; round < 200; round++) {
		n = round % 30;
		for (i = 0; i < n; i++) {
			const char *k = keys[rand_r(&seed) % nitems(keys)];

			snprintf(v, sizeof(v), "%zu", i);
			ck_assert_int_eq(kvlist_set_ci(&want, k, v), 0);
			ck_assert_int_eq(kvlist_add(&got, k, v), 0);
		}
		ck_assert_int_eq(kvlist_dedupe_ci(&got), 0);
		ck_assert_msg(kvlist_equal(&want, &got), "round %zu differs",
		    round);
		/* Still a list kvlist_set_ci and kvlist_add can grow. */
		ck_assert_int_eq(kvlist_add(&got, "zz", "1"), 0);
		ck_assert_int_eq(kvlist_set_ci(&got, "ZZ", "2"), 0);
		ck_assert_str_eq(kvlist_get(&got, "zz"), "2");
		kvlist_release(&want);
		kvlist_release(&got);
	}
}
END_TEST

START_TEST(test_form_decode_100k_keys)
{
	int64_t t0;
	struct kvlist l = { 0 };
	char err[ERR_MAX], *b;
	size_t cap = 1 << 20, off = 0, i;
	double ms;

	/* 1 MiB: 100,000 distinct keys, then one repeated (the later wins). */
	b = malloc(cap + 64);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 100000; i++)
		off += (size_t)sprintf(b + off, "%sk%05zu=v", i ? "&" : "", i);
	off += (size_t)sprintf(b + off, "&K00007=last");
	while (off < cap)
		b[off++] = '&';
	t0 = clock_ms();
	ck_assert_int_eq(request_decode_form(b, off, &l, err), 0);
	ms = (double)clock_since(t0);
	ck_assert_uint_eq(l.n, 100000);
	ck_assert_str_eq(kvlist_get(&l, "k00007"), "last");
	ck_assert_str_eq(kvlist_get(&l, "k99999"), "v");
	ck_assert_uint_eq(request_form_count(b, off), 100001);
	/* Seconds before (a scan per key); a sanitizer build is slower. */
	ck_assert_msg(ms < 2000, "decoding took %.0f ms", ms);
	kvlist_release(&l);
	free(b);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc;

	tc = tcase_create("refusals");
	tcase_add_loop_test(tc, test_refusal, 0, nitems(refusals));
	tcase_add_loop_test(tc, test_refusal_with_shortcuts, 0,
	    nitems(refusals));
	tcase_add_test(tc, test_service_name_length);
	tcase_add_test(tc, test_service_name_nul);
	tcase_add_test(tc, test_service_name_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("accepted");
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_full_annotations);
	tcase_add_test(tc, test_alert_indexes);
	tcase_add_test(tc, test_alert_all_indexes);
	tcase_add_test(tc, test_empty_values_absent);
	tcase_add_test(tc, test_names_case_insensitive);
	tcase_add_test(tc, test_alert_persistent_words);
	tcase_add_test(tc, test_unknown_params_dropped);
	tcase_add_test(tc, test_target_labels);
	tcase_add_test(tc, test_targets);
	tcase_add_test(tc, test_static_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("shortcuts");
	tcase_add_test(tc, test_shortcut_expanded);
	tcase_add_test(tc, test_shortcut_error_message);
	suite_add_tcase(s, tc);

	tc = tcase_create("nodeinfo");
	tcase_add_test(tc, test_node_info_forms);
	tcase_add_test(tc, test_node_info_sorted);
	tcase_add_test(tc, test_node_info_refused);
	tcase_add_test(tc, test_node_info_in_request);
	suite_add_tcase(s, tc);

	tc = tcase_create("form");
	tcase_add_test(tc, test_form_decode);
	tcase_add_test(tc, test_form_decode_len);
	tcase_add_test(tc, test_form_decode_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limit_value_caps);
	tcase_add_test(tc, test_limit_targets);
	tcase_add_test(tc, test_limit_params);
	tcase_add_test(tc, test_limit_amplification);
	tcase_add_test(tc, test_dedupe_like_set_ci);
	tcase_add_test(tc, test_form_decode_100k_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("canonical");
	tcase_add_loop_test(tc, test_canonical_reparse, 0,
	    nitems(canon_bodies));
	tcase_add_loop_test(tc, test_packed, 0, nitems(canon_bodies));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(request_suite());
}
