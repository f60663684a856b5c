/* check_promstate.c: Prometheus API answers into a snapshot. The answers
 * in tests/golden/ were recorded from Debian 12's Prometheus 2.42, vmagent
 * and vmalert 1.79 scraping and evaluating two services' files (web: one
 * target up, one down, an alert firing; api: one target up, an alert
 * pending, one inactive). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promstate.h"
#include "testutil.h"

#define GOLDEN	"tests/golden/"

static struct promstate *
snap(const char *targets, const char *rules)
{
	struct promstate *ps = promstate_new();
	char err[ERR_MAX], *buf;

	ck_assert_ptr_nonnull(ps);
	if (targets != NULL) {
		ck_assert_ptr_nonnull(buf = tu_slurp(targets));
		ck_assert_msg(promstate_add_targets(ps, buf, strlen(buf),
		    err) == 0, "%s: %s", targets, err);
		free(buf);
	}
	if (rules != NULL) {
		ck_assert_ptr_nonnull(buf = tu_slurp(rules));
		ck_assert_msg(promstate_add_rules(ps, buf, strlen(buf),
		    err) == 0, "%s: %s", rules, err);
		free(buf);
	}
	promstate_finish(ps);
	return ps;
}

/* The health of each target of file, in the answer's order, joined. */
static void
healths(const struct promstate *ps, const char *file, const char *job,
    char *out, size_t size)
{
	struct promstate_target *const *v;
	size_t n = promstate_targets(ps, file, job, &v), i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s",
		    i ? "," : "", v[i]->health);
}

static const char *const servers[][2] = {
	{ GOLDEN "prometheus-targets.json", GOLDEN "prometheus-rules.json" },
	{ GOLDEN "vmagent-targets.json", GOLDEN "vmalert-rules.json" },
};

START_TEST(test_recorded)
{
	struct promstate *ps = snap(servers[_i][0], servers[_i][1]);
	struct promstate_target *const *v;
	const struct promstate_group *g;
	char h[64];
	size_t n, i, down = 0;

	ck_assert(ps->have_targets);
	ck_assert(ps->have_rules);
	ck_assert_uint_eq(ps->ntargets, 3);
	/* Found by the file's name, whatever path the server saw it at
	 * (vmagent's is relative). */
	n = promstate_targets(ps, "web.json", "web", &v);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(v[i]->job, "web");
		if (strcmp(v[i]->health, "down") == 0) {
			down++;
			ck_assert_str_eq(v[i]->scrape_url,
			    "http://127.0.0.1:29999/metrics");
			ck_assert_ptr_nonnull(strstr(v[i]->last_error,
			    "connection refused"));
		} else {
			ck_assert_str_eq(v[i]->health, "up");
			ck_assert_str_eq(v[i]->last_error, "");
		}
	}
	ck_assert_uint_eq(down, 1);
	healths(ps, "api.json", "api", h, sizeof(h));
	ck_assert_str_eq(h, "up");
	ck_assert_uint_eq(promstate_targets(ps, "nope.json", "nope", &v), 0);
	ck_assert_ptr_null(v);

	ck_assert_uint_eq(ps->ngroups, 2);
	ck_assert_ptr_nonnull(g = promstate_group(ps, "api"));
	ck_assert_str_eq(g->file, "api.yml");
	ck_assert_uint_eq(g->nrules, 2);
	ck_assert_str_eq(g->rules[0].name, "api_never");
	ck_assert_str_eq(g->rules[0].state, "inactive");
	ck_assert_str_eq(g->rules[1].name, "api_always");
	ck_assert_str_eq(g->rules[1].state, "pending");
	ck_assert_str_eq(g->rules[1].health, "ok");
	ck_assert_ptr_nonnull(g = promstate_group(ps, "web"));
	ck_assert_str_eq(g->rules[0].name, "web_down");
	ck_assert_ptr_null(promstate_group(ps, "nope"));
	promstate_put(ps);
}
END_TEST

/* Prometheus's own answer also counts the alert instances. */
START_TEST(test_prometheus_alerts)
{
	struct promstate *ps = snap(servers[0][0], servers[0][1]);
	const struct promstate_group *g = promstate_group(ps, "web");

	ck_assert_str_eq(g->rules[0].state, "firing");
	ck_assert_uint_eq(g->rules[0].active, 1);
	ck_assert_uint_eq(promstate_group(ps, "api")->rules[0].active, 0);
	promstate_put(ps);
}
END_TEST

/* Targets from no file (http_sd, static_configs) are found by job. */
START_TEST(test_by_job)
{
	static const char ans[] = "{\"status\":\"success\",\"data\":"
	    "{\"activeTargets\":[{\"discoveredLabels\":{\"__address__\":"
	    "\"a:1\",\"__meta_url\":\"http://flowmon:8080/v1/docker-flow-"
	    "monitor/sd\"},\"labels\":{\"job\":\"web\"},\"scrapeUrl\":"
	    "\"http://a:1/metrics\",\"lastError\":\"\",\"health\":\"up\"},"
	    "{\"labels\":{\"job\":\"db\"},\"health\":\"weird\"}]}}";
	struct promstate *ps = promstate_new();
	struct promstate_target *const *v;
	char err[ERR_MAX];

	ck_assert_int_eq(promstate_add_targets(ps, ans, strlen(ans), err), 0);
	promstate_finish(ps);
	ck_assert_uint_eq(promstate_targets(ps, "web.json", "web", &v), 1);
	ck_assert_str_eq(v[0]->scrape_url, "http://a:1/metrics");
	ck_assert_uint_eq(promstate_targets(ps, "db.json", "db", &v), 1);
	/* A word the server made up counts as unknown; missing text as "". */
	ck_assert_str_eq(v[0]->health, "unknown");
	ck_assert_str_eq(v[0]->scrape_url, "");
	ck_assert_uint_eq(promstate_targets(ps, "db.json", NULL, &v), 0);
	promstate_put(ps);
}
END_TEST

static const struct {
	const char	*body;
	const char	*why;		/* in err; NULL: accepted */
} bad[] = {
	{ "", "not JSON" },
	{ "<html>502 Bad Gateway</html>", "not JSON" },
	{ "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	  "\"unknown state\"}", "unknown state" },
	{ "[]", "not {\"status\": \"success\"}" },
	{ "{\"status\":\"success\",\"data\":{\"activeTargets\":{}}}",
	  "not an array" },
	{ "{\"status\":\"success\",\"data\":{\"groups\":\"x\"}}",
	  "not an array" },
	/* Fields of the wrong type count as absent. */
	{ "{\"status\":\"success\",\"data\":{\"activeTargets\":[1,\"x\",null,"
	  "{\"discoveredLabels\":[],\"labels\":3,\"health\":7}],\"groups\":"
	  "[1,{\"name\":5},{\"name\":\"g\",\"rules\":[{\"type\":"
	  "\"recording\",\"name\":\"r\"},{\"type\":\"alerting\"}]}]}}", NULL },
	{ "{\"status\":\"success\",\"data\":{\"activeTargets\":null,"
	  "\"groups\":null}}", NULL },
	{ "{\"status\":\"success\"}", NULL },
};

START_TEST(test_bad)
{
	struct promstate *ps = promstate_new();
	char err[ERR_MAX];
	const struct promstate_group *g;
	int t, r;

	t = promstate_add_targets(ps, bad[_i].body, strlen(bad[_i].body), err);
	if (bad[_i].why != NULL && t == -1)
		ck_assert_msg(strstr(err, bad[_i].why) != NULL, "%s", err);
	r = promstate_add_rules(ps, bad[_i].body, strlen(bad[_i].body), err);
	if (bad[_i].why != NULL && r == -1)
		ck_assert_msg(strstr(err, bad[_i].why) != NULL, "%s", err);
	if (bad[_i].why == NULL) {
		ck_assert_int_eq(t, 0);
		ck_assert_int_eq(r, 0);
	} else
		ck_assert(t == -1 || r == -1);
	ck_assert_int_eq(ps->have_targets, t == 0);
	ck_assert_int_eq(ps->have_rules, r == 0);
	promstate_finish(ps);
	if (_i == 6) {
		ck_assert_uint_eq(ps->ntargets, 1);
		ck_assert_uint_eq(ps->ngroups, 1);
		ck_assert_ptr_nonnull(g = promstate_group(ps, "g"));
		/* The recording rule is left out. */
		ck_assert_uint_eq(g->nrules, 1);
		ck_assert_str_eq(g->rules[0].name, "");
		ck_assert_str_eq(g->rules[0].state, "inactive");
	}
	promstate_put(ps);
}
END_TEST

/* Items are parsed one at a time: what a value holds (brackets, the
 * key's name, escapes) does not confuse it, what follows the array is
 * not read, and an answer cut short adds nothing. */
START_TEST(test_streamed)
{
	static const char good[] = "{\"status\": \"success\", \"data\": "
	    "{\"activeTargets\": [ {\"labels\": {\"job\": \"a]\\\"},"
	    "[\\\"activeTargets\\\": [\"}, \"discoveredLabels\": "
	    "{\"__meta_filepath\": \"/t/a.json\"}, \"health\": \"up\"} ,"
	    "{\"discoveredLabels\": {\"__meta_filepath\": \"/t/b.json\"}} ],"
	    " \"droppedTargets\": [ {\"x\": 1} ] } }";
	static const char *const cut[] = {
		"{\"status\":\"success\",\"data\":{\"activeTargets\":["
		    "{\"health\":\"up\"},{\"health\":",
		"{\"status\":\"success\",\"data\":{\"activeTargets\":["
		    "{\"health\":\"up\"}",
		"{\"status\":\"success\",\"data\":{\"activeTargets\":["
		    "{\"health\":\"up\"} {\"health\":\"up\"}]}}",
	};
	struct promstate *ps = promstate_new();
	struct promstate_target *const *v;
	char err[ERR_MAX];
	size_t i;

	ck_assert_msg(promstate_add_targets(ps, good, strlen(good), err) == 0,
	    "%s", err);
	ck_assert_uint_eq(ps->ntargets, 2);
	ck_assert_str_eq(ps->targets[0].job, "a]\"},[\"activeTargets\": [");
	for (i = 0; i < sizeof(cut) / sizeof(*cut); i++) {
		ck_assert_int_eq(promstate_add_targets(ps, cut[i],
		    strlen(cut[i]), err), -1);
		ck_assert_ptr_nonnull(strstr(err, "not JSON"));
		ck_assert_uint_eq(ps->ntargets, 2);
	}
	promstate_finish(ps);
	ck_assert_uint_eq(promstate_targets(ps, "b.json", NULL, &v), 1);
	promstate_put(ps);
}
END_TEST

/* A long lastError is cut at a character boundary. */
START_TEST(test_long_text)
{
	char *ans, *e;
	struct promstate *ps = promstate_new();
	struct promstate_target *const *v;
	char err[ERR_MAX];
	size_t n = 4000, i;

	ck_assert_ptr_nonnull(e = malloc(n + 1));
	for (i = 0; i < n; i += 2)
		memcpy(e + i, "\xc3\xa9", 2);	/* é */
	e[n] = '\0';
	ck_assert_int_gt(asprintf(&ans, "{\"status\":\"success\",\"data\":"
	    "{\"activeTargets\":[{\"discoveredLabels\":{\"__meta_filepath\":"
	    "\"/x/t/a.json\"},\"health\":\"down\",\"lastError\":\"%s\"}]}}",
	    e), 0);
	ck_assert_int_eq(promstate_add_targets(ps, ans, strlen(ans), err), 0);
	promstate_finish(ps);
	ck_assert_uint_eq(promstate_targets(ps, "a.json", NULL, &v), 1);
	ck_assert_uint_le(strlen(v[0]->last_error), PROMSTATE_TEXT_MAX);
	ck_assert_uint_eq(strlen(v[0]->last_error) % 2, 0);
	ck_assert_int_eq(strncmp(v[0]->last_error, e,
	    strlen(v[0]->last_error)), 0);
	promstate_put(ps);
	free(ans);
	free(e);
}
END_TEST

/* Many targets: every file finds exactly its own. */
START_TEST(test_many)
{
	struct promstate *ps = promstate_new();
	struct promstate_target *const *v;
	char err[ERR_MAX], file[32], *ans;
	size_t cap = 1 << 22, len = 0, i, n = 5000;

	ck_assert_ptr_nonnull(ans = malloc(cap));
	len += (size_t)snprintf(ans + len, cap - len, "{\"status\":\"success\","
	    "\"data\":{\"activeTargets\":[");
	/* Backwards, and service i with i % 3 + 1 targets. */
	for (i = n; i-- > 0;) {
		size_t k;

		for (k = 0; k <= i % 3; k++)
			len += (size_t)snprintf(ans + len, cap - len,
			    "%s{\"discoveredLabels\":{\"__meta_filepath\":"
			    "\"/d/targets/s%zu.json\"},\"labels\":{\"job\":"
			    "\"s%zu\"},\"health\":\"up\"}", len > 60 ? "," :
			    "", i, i);
	}
	snprintf(ans + len, cap - len, "]}}");
	ck_assert_int_eq(promstate_add_targets(ps, ans, strlen(ans), err), 0);
	promstate_finish(ps);
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "s%zu.json", i);
		ck_assert_uint_eq(promstate_targets(ps, file, NULL, &v),
		    i % 3 + 1);
		ck_assert_str_eq(v[0]->file, file);
	}
	promstate_put(ps);
	free(ans);
}
END_TEST

/* References: the last put frees (valgrind and ASan would see a leak or
 * a use after free). */
START_TEST(test_refs)
{
	struct promstate *ps = snap(servers[0][0], NULL);

	ck_assert_ptr_eq(promstate_ref(ps), ps);
	promstate_put(ps);
	ck_assert_uint_eq(promstate_targets(ps, "api.json", NULL,
	    &(struct promstate_target *const *){ NULL }), 1);
	promstate_put(ps);
	promstate_put(NULL);
	ck_assert_ptr_null(promstate_ref(NULL));
}
END_TEST

static Suite *
promstate_suite(void)
{
	Suite *s = suite_create("promstate");
	TCase *tc = tcase_create("answers");

	tcase_add_loop_test(tc, test_recorded, 0, 2);
	tcase_add_test(tc, test_prometheus_alerts);
	tcase_add_test(tc, test_by_job);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(*bad));
	tcase_add_test(tc, test_streamed);
	tcase_add_test(tc, test_long_text);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_refs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(promstate_suite());
}
