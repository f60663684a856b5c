/* check_explain.c: the facts the explain API and the status page show,
 * gathered from a real registry and history (no daemon), joined with
 * recorded Prometheus answers (tests/golden/, see check_promstate.c), and
 * the API's JSON with the keys of DESIGN.md "Round 3"; the advice
 * sentences. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "bounds.h"
#include "explain.h"
#include "fixture.h"
#include "history.h"

#define GOLDEN	"tests/golden/"

struct world {
	struct fixture		 fx;
	struct history		*h;
	struct explain_ctx	 c;
};

static void
world_open(struct world *w)
{
	fx_open_reloading(&w->fx);
	w->h = history_new();
	registry_set_events(w->fx.reg, history_event, history_story_free,
	    w->h);
	memset(&w->c, 0, sizeof(w->c));
	w->c.reg = w->fx.reg;
	w->c.hist = w->h;
	w->c.rl = w->fx.rl;	/* a reload is configured */
}

static void
world_done(struct world *w)
{
	fx_done(&w->fx);
	history_free(w->h);
}

static void
upsert(struct world *w, struct service *svc)
{
	struct registry_result res;
	char err[ERR_MAX];

	svc->source = SERVICE_SOURCE_WEBHOOK;
	ck_assert_msg(registry_upsert(w->fx.reg, svc, &res, err) == 0, "%s",
	    err);
}

static struct promstate *
recorded(void)
{
	struct promstate *ps = promstate_new();
	char err[ERR_MAX], *buf;

	ck_assert_ptr_nonnull(buf = tu_slurp(GOLDEN "prometheus-targets.json"));
	ck_assert_int_eq(promstate_add_targets(ps, buf, strlen(buf), err), 0);
	free(buf);
	ck_assert_ptr_nonnull(buf = tu_slurp(GOLDEN "prometheus-rules.json"));
	ck_assert_int_eq(promstate_add_rules(ps, buf, strlen(buf), err), 0);
	free(buf);
	ps->reachable = 1;
	promstate_finish(ps);
	return ps;
}

static const cJSON *
get(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && *path != '\0') {
		dot = strchr(path, '.');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) :
		    (int)strlen(path), path);
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		path = dot ? dot + 1 : path + strlen(path);
	}
	ck_assert_msg(o != NULL, "no %s", path);
	return o;
}

static const char *
str(const cJSON *o, const char *path)
{
	const cJSON *v = get(o, path);

	ck_assert_msg(cJSON_IsString(v), "%s is not a string", path);
	return v->valuestring;
}

static int
has_warning(const struct explain *x, const char *part)
{
	size_t i;

	for (i = 0; i < x->nwarnings; i++)
		if (strstr(x->warnings[i], part) != NULL)
			return 1;
	return 0;
}

/* The whole answer for a service with a target up, one down and an alert
 * firing (web, as Prometheus answered in the recorded run). */
START_TEST(test_json)
{
	struct world w;
	struct explain x;
	struct promstate *ps = recorded();
	const cJSON *a, *t;
	cJSON *j;
	char path[4096], *text;

	world_open(&w);
	upsert(&w, tu_service("serviceName", "web", "targets",
	    "127.0.0.1:29190,127.0.0.1:29999", "alertName", "down", "alertIf",
	    "up == 0", "alertAnnotations",
	    "runbook=https://ops:hunter2@wiki.example/web", NULL));
	ck_assert_int_eq(explain_one(&w.c, "web", 0, &x), 1);
	ck_assert_int_eq(explain_prometheus(&x, ps, "http://prom:9090", 0), 0);
	ck_assert_ptr_nonnull(j = explain_json(&x));

	ck_assert_str_eq(str(j, "serviceName"), "web");
	ck_assert_str_eq(str(j, "source"), "webhook");
	ck_assert_str_eq(str(j, "state"), "active");
	ck_assert_str_eq(str(j, "parameters.serviceName"), "web");
	/* Secrets in what was received are hidden. */
	ck_assert_str_eq(str(j, "parameters.alertAnnotations"),
	    "runbook=https://ops:***@wiki.example/web");
	ck_assert_ptr_nonnull(text = cJSON_PrintUnformatted(j));
	ck_assert_ptr_null(strstr(text, "hunter2"));
	free(text);
	snprintf(path, sizeof(path), "%s/targets/web.json", w.fx.dir);
	ck_assert_str_eq(str(j, "targets.file"), path);
	ck_assert_int_eq((int)get(j, "targets.count")->valuedouble, 2);
	snprintf(path, sizeof(path), "%s/rules/web.yml", w.fx.dir);
	ck_assert_str_eq(str(j, "rules.file"), path);
	/* Written, no reload yet. */
	ck_assert_str_eq(str(j, "rules.state"), "pending");
	ck_assert(cJSON_IsNull(get(j, "rules.reason")));
	a = get(j, "rules.alerts");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, "web_down");

	ck_assert_str_eq(str(j, "prometheus.url"), "http://prom:9090");
	ck_assert(cJSON_IsTrue(get(j, "prometheus.reachable")));
	a = get(j, "prometheus.targets");
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	cJSON_ArrayForEach(t, a) {
		if (strcmp(str(t, "health"), "down") == 0) {
			ck_assert_str_eq(str(t, "scrapeUrl"),
			    "http://127.0.0.1:29999/metrics");
			ck_assert_ptr_nonnull(strstr(str(t, "lastError"),
			    "connection refused"));
		} else
			ck_assert_str_eq(str(t, "health"), "up");
	}
	a = get(j, "prometheus.alerts");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "name"), "web_down");
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "state"), "firing");
	ck_assert(cJSON_IsFalse(get(j, "files.editedByHand")));
	ck_assert(cJSON_IsFalse(get(j, "files.healed")));
	ck_assert_int_eq(cJSON_GetArraySize(get(j, "warnings")), 0);
	a = get(j, "history");
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "event"), "written");
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "event"), "received");
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "detail"), "webhook");
	ck_assert_uint_eq(strlen(str(cJSON_GetArrayItem(a, 0), "time")), 24);
	ck_assert_uint_eq(x.up, 1);
	ck_assert_uint_eq(x.down, 1);
	ck_assert_uint_eq(x.firing, 1);
	ck_assert_uint_eq(x.problems, EXPLAIN_P_DOWN);
	cJSON_Delete(j);
	explain_release(&x);
	promstate_put(ps);
	world_done(&w);
}
END_TEST

/* Without Prometheus (--prometheus-url none) the answer says so. */
START_TEST(test_no_prometheus)
{
	struct world w;
	struct explain x;
	cJSON *j;

	world_open(&w);
	upsert(&w, tu_service("serviceName", "web", "targets", "a:1", NULL));
	ck_assert_int_eq(explain_one(&w.c, "web", 0, &x), 1);
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert(cJSON_IsNull(get(j, "prometheus.url")));
	ck_assert(cJSON_IsFalse(get(j, "prometheus.reachable")));
	ck_assert_int_eq(cJSON_GetArraySize(get(j, "prometheus.targets")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(j, "prometheus.alerts")), 0);
	ck_assert_str_eq(str(j, "prometheus.error"), "not asked: no "
	    "Prometheus URL is known: no --prometheus-url, and no "
	    "--reload-url to derive it from");
	ck_assert_str_eq(str(j, "rules.state"), "none");
	ck_assert(cJSON_IsNull(get(j, "rules.file")));
	ck_assert_int_eq(cJSON_GetArraySize(get(j, "warnings")), 0);
	cJSON_Delete(j);
	explain_release(&x);
	ck_assert_int_eq(explain_one(&w.c, "nope", 0, &x), 0);
	/* Said so: none. */
	w.c.prom_none = 1;
	ck_assert_int_eq(explain_one(&w.c, "web", 0, &x), 1);
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert_str_eq(str(j, "prometheus.error"),
	    "not asked: --prometheus-url none");
	cJSON_Delete(j);
	explain_release(&x);
	world_done(&w);
}
END_TEST

/* No reload configured: each service with a rule file is warned that it
 * is never loaded (not counted as its problem: the page says it once);
 * one without rules is not. */
START_TEST(test_no_reload)
{
	struct world w;
	struct explain x;
	struct explain_overview ov;
	const cJSON *a;
	cJSON *j;

	world_open(&w);
	w.c.rl = NULL;
	upsert(&w, tu_service("serviceName", "web", "targets", "a:1",
	    "alertName", "down", "alertIf", "up == 0", NULL));
	upsert(&w, tu_service("serviceName", "plain", "targets", "a:1", NULL));
	ck_assert_int_eq(explain_one(&w.c, "web", 0, &x), 1);
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert_str_eq(str(j, "rules.state"), "pending");
	a = get(j, "warnings");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(a, 0)->valuestring,
	    "no reload is configured (no --reload-url, no --run-prometheus): "));
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(a, 0)->valuestring,
	    "/rules/web.yml is written but flowmon never asks Prometheus to "
	    "load it"));
	ck_assert_uint_eq(x.problems, 0);
	cJSON_Delete(j);
	explain_release(&x);
	ck_assert_int_eq(explain_one(&w.c, "plain", 0, &x), 1);
	ck_assert_uint_eq(x.nwarnings, 0);
	explain_release(&x);
	/* The overview: the same, and no reload to show. */
	ck_assert_int_eq(explain_overview(&w.c, &ov), 0);
	ck_assert_int_eq(ov.have_reload, 0);
	ck_assert_uint_eq(ov.n, 2);
	ck_assert_uint_eq(ov.v[0].nwarnings, 0);		/* plain */
	ck_assert_ptr_nonnull(strstr(ov.v[1].warnings[0], "rules/web.yml"));
	explain_overview_release(&ov);
	world_done(&w);
}
END_TEST

/* Everything shown is redacted alike: parameters, the rule file and
 * the target groups of the service page, a reason. */
START_TEST(test_redacted)
{
	struct world w;
	struct explain x;
	char *text;
	cJSON *j;

	world_open(&w);
	upsert(&w, tu_service("serviceName", "web", "targets", "a:1",
	    "alertName", "down", "alertIf", "up == 0", "alertAnnotations",
	    "runbook=http://bob:hunter%2F2SEKRIT@wiki/x,other=https://TOKENABC"
	    "@h/p", "alertLabels", "link=https://TOKENLBL@h/q", NULL));
	ck_assert_int_eq(explain_one(&w.c, "web", 1, &x), 1);
	ck_assert_ptr_nonnull(x.rules_text);
	ck_assert_ptr_null(strstr(x.rules_text, "SEKRIT"));
	ck_assert_ptr_null(strstr(x.rules_text, "TOKEN"));
	ck_assert_ptr_nonnull(strstr(x.rules_text, "runbook: http://bob:***@"
	    "wiki/x"));
	ck_assert_ptr_nonnull(strstr(x.rules_text, "other: https://***@h/p"));
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert_str_eq(str(j, "parameters.alertAnnotations"), "runbook="
	    "http://bob:***@wiki/x,other=https://***@h/p");
	ck_assert_ptr_nonnull(text = cJSON_PrintUnformatted(j));
	ck_assert_ptr_null(strstr(text, "SEKRIT"));
	ck_assert_ptr_null(strstr(text, "TOKEN"));
	free(text);
	cJSON_Delete(j);
	explain_release(&x);
	world_done(&w);
}
END_TEST

/* Prometheus knows neither its targets nor its group: two warnings, two
 * problems once the files are old enough to have been read. */
START_TEST(test_not_discovered)
{
	struct world w;
	struct explain x;
	struct promstate *ps = recorded();

	world_open(&w);
	upsert(&w, tu_service("serviceName", "db", "targets", "a:1",
	    "alertName", "x", "alertIf", "up == 0", NULL));
	fx_reload_succeeded(&w.fx);
	ck_assert_int_eq(explain_one(&w.c, "db", 0, &x), 1);
	ck_assert_int_eq(x.rule_state, RULE_LOADED);
	/* Just written: not yet a problem. */
	ck_assert_int_eq(explain_prometheus(&x, ps, "u",
	    x.counts.written_ms + 1000), 0);
	ck_assert(has_warning(&x, "yet"));
	ck_assert(has_warning(&x, "targets/db.json"));
	ck_assert(has_warning(&x, "runs no rule group db"));
	ck_assert_uint_eq(x.problems, EXPLAIN_P_NO_GROUP);
	explain_release(&x);
	/* A minute later it is. */
	ck_assert_int_eq(explain_one(&w.c, "db", 0, &x), 1);
	ck_assert_int_eq(explain_prometheus(&x, ps, "u",
	    x.counts.written_ms + ADVICE_GRACE_MS), 0);
	ck_assert(has_warning(&x, "file_sd_configs"));
	ck_assert(has_warning(&x, "rule_files"));
	ck_assert_uint_eq(x.problems, EXPLAIN_P_UNDISCOVERED |
	    EXPLAIN_P_NO_GROUP);
	explain_release(&x);
	promstate_put(ps);
	world_done(&w);
}
END_TEST

/* The diagnosis finds name's pending rule file at fault, as the
 * lifecycle does: set aside, then rejected with reason ctx. */
static int
reject(void *ctx, const struct registry_rule *x)
{
	char err[ERR_MAX], *buf;
	size_t len;

	ck_assert_int_eq(store_read(x->st, STORE_RULES, x->name,
	    BOUND_FILE_MAX, &buf, &len, err), 0);
	ck_assert_int_eq(rule_set_aside(x->rf, x->st, x->name, x->clock, err),
	    1);
	ck_assert_int_eq(rule_culprit_found(x->rf, x->st, x->name, buf, len,
	    ctx, err), 0);
	free(buf);
	return 0;
}

/* A rule file Prometheus refused; a record that does not parse. */
START_TEST(test_rejected_invalid)
{
	struct world w;
	struct explain x;
	cJSON *j;
	char *p;
	FILE *f;

	world_open(&w);
	upsert(&w, tu_service("serviceName", "bad", "alertName", "x",
	    "alertIf", "up == 0", NULL));
	ck_assert_int_eq(registry_rules_one(w.fx.reg, "bad", reject,
	    (void *)"Prometheus refused it"), 1);
	ck_assert_int_eq(explain_one(&w.c, "bad", 1, &x), 1);
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert_str_eq(str(j, "state"), "rejected");
	ck_assert_str_eq(str(j, "rules.state"), "rejected");
	ck_assert_str_eq(str(j, "rules.reason"), "Prometheus refused it");
	ck_assert_ptr_nonnull(strstr(str(j, "rules.file"), "/rejected/"));
	ck_assert_str_eq(str(cJSON_GetArrayItem(get(j, "history"), 0),
	    "event"), "rejected");
	/* The service page's texts: the rule file set aside. */
	ck_assert_ptr_nonnull(x.rules_text);
	ck_assert_ptr_nonnull(strstr(x.rules_text, "bad_x"));
	ck_assert_ptr_null(x.targets_text);
	ck_assert_uint_eq(x.problems, EXPLAIN_P_REJECTED);
	cJSON_Delete(j);
	explain_release(&x);

	/* A record that does not parse. */
	p = fx_path(&w.fx, "state", "broken", ".json");
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs("{\"service\": \"broken\", \"params\": {\"serviceName\": "
	    "\"broken\", \"scrapePort\": \"x\"}}\n", f);
	fclose(f);
	free(p);
	fx_close(&w.fx);
	fx_start(&w.fx);
	registry_set_events(w.fx.reg, history_event, history_story_free,
	    w.h);
	w.c.reg = w.fx.reg;
	w.c.rl = w.fx.rl;
	fx_load(&w.fx);
	ck_assert_int_eq(explain_one(&w.c, "broken", 0, &x), 1);
	ck_assert_ptr_nonnull(j = explain_json(&x));
	ck_assert_str_eq(str(j, "state"), "invalid");
	ck_assert_ptr_nonnull(strstr(str(j, "invalid"), "scrapePort"));
	ck_assert(cJSON_IsNull(get(j, "source")));
	ck_assert_str_eq(str(cJSON_GetArrayItem(get(j, "history"), 0),
	    "event"), "invalid");
	ck_assert_uint_eq(x.problems, EXPLAIN_P_INVALID);
	cJSON_Delete(j);
	explain_release(&x);
	world_done(&w);
}
END_TEST

/* The overview: every service, sorted, with one snapshot for all. */
START_TEST(test_all)
{
	struct world w;
	struct explain_overview ov;
	struct explain *v;
	struct promstate *ps = recorded();
	size_t i;

	world_open(&w);
	upsert(&w, tu_service("serviceName", "web", "targets",
	    "127.0.0.1:29190,127.0.0.1:29999", NULL));
	upsert(&w, tu_service("serviceName", "api", "targets",
	    "127.0.0.1:29190", NULL));
	upsert(&w, tu_service("serviceName", "zz", NULL));
	ck_assert_int_eq(explain_overview(&w.c, &ov), 0);
	ck_assert_uint_eq(ov.n, 3);
	v = ov.v;
	ck_assert_str_eq(v[0].name, "api");
	ck_assert_str_eq(v[1].name, "web");
	ck_assert_str_eq(v[2].name, "zz");
	for (i = 0; i < ov.n; i++) {
		ck_assert_uint_eq(v[i].params.n, 0);	/* not for the list */
		ck_assert_int_eq(explain_prometheus(&v[i], ps, "u", 0), 0);
	}
	ck_assert_uint_eq(v[0].up, 1);
	ck_assert_uint_eq(v[1].down, 1);
	ck_assert_uint_eq(v[2].ntargets, 0);
	ck_assert_uint_eq(v[2].problems, 0);
	explain_overview_release(&ov);
	promstate_put(ps);
	world_done(&w);
}
END_TEST

START_TEST(test_advice)
{
	const char *one[] = { "com.df.scrapePort" };
	const char *two[] = { "com.df.notify", "com.df.scrapePort" };
	char out[ADVICE_MAX];

	advice_container_labels(out, one, 1);
	ck_assert_str_eq(out, "com.df.scrapePort is a container label "
	    "(labels:), which swarm-listener never reads: put it under "
	    "deploy.labels");
	advice_container_labels(out, two, 2);
	ck_assert_ptr_nonnull(strstr(out, "com.df.notify, com.df.scrapePort "
	    "are container labels"));
	advice_no_notify(out, "com.df.notify", NULL, 3);
	ck_assert_ptr_nonnull(strstr(out, "3 com.df.* labels but no "
	    "com.df.notify=true"));
	advice_no_notify(out, "com.df.notify", "false", 1);
	ck_assert_ptr_nonnull(strstr(out, "com.df.notify=false, not true"));
	advice_group_not_run(out, "web", "/d/rules/web.yml", 0);
	ck_assert_ptr_nonnull(strstr(out, "waits for a reload"));
}
END_TEST

static Suite *
explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("facts");

	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_no_prometheus);
	tcase_add_test(tc, test_no_reload);
	tcase_add_test(tc, test_redacted);
	tcase_add_test(tc, test_not_discovered);
	tcase_add_test(tc, test_rejected_invalid);
	tcase_add_test(tc, test_all);
	tcase_add_test(tc, test_advice);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(explain_suite());
}
