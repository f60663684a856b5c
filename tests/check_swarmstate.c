/* check_swarmstate.c: the swarm state table (swarmstate.c): set, keep a
 * count Docker did not give, drop, the deploys under way, and the exact
 * flowmon_swarm_* text of /metrics, through which (as the daemon shows
 * it) each service's status is read back. What the Docker source puts there
 * from real Engine answers is check_docker.c's; the daemon with a fake
 * engine is tests/it_silence.sh. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "swarmstate.h"
#include "testutil.h"

static struct swarm_status
status(long desired, long running, const char *update)
{
	struct swarm_status st;

	memset(&st, 0, sizeof(st));
	st.desired = desired;
	st.running = running;
	snprintf(st.update, sizeof(st.update), "%s", update);
	snprintf(st.message, sizeof(st.message), "update in progress");
	snprintf(st.image, sizeof(st.image), "web:2");
	return st;
}

static char *
metrics_of(struct swarmstate *ss)
{
	struct buf b = BUF_INIT;
	char *s;

	swarmstate_metrics(ss, &b);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_ptr_nonnull(s = buf_detach(&b, NULL));
	return s;
}

/* The count of family for service name in metrics text m; -1: no series. */
static long
series(const char *m, const char *family, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s{service=\"%s\"} ", family, name);
	if ((p = strstr(m, key)) == NULL)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/* The status of name as metrics text m shows it into *st (counts -1 when
 * unknown, the update state's word): 1, or 0 when name has no series. */
static int
status_in(const char *m, const char *name, struct swarm_status *st)
{
	char key[128];
	const char *p;
	size_t n;

	memset(st, 0, sizeof(*st));
	snprintf(key, sizeof(key), "\nflowmon_swarm_update_state{service="
	    "\"%s\",state=\"", name);
	st->desired = series(m, "flowmon_swarm_replicas_desired", name);
	st->running = series(m, "flowmon_swarm_replicas_running", name);
	if ((p = strstr(m, key)) == NULL) {
		ck_assert_int_eq(st->desired, -1);
		ck_assert_int_eq(st->running, -1);
		return 0;
	}
	p += strlen(key);
	n = strcspn(p, "\"");
	ck_assert_uint_lt(n, sizeof(st->update));
	memcpy(st->update, p, n);
	return 1;
}

/* status_in() of the table's metrics now. */
static int
get(struct swarmstate *ss, const char *name, struct swarm_status *st)
{
	char *m = metrics_of(ss);
	int found = status_in(m, name, st);

	free(m);
	return found;
}

START_TEST(test_set_get_drop)
{
	struct swarmstate *ss = swarmstate_new();
	struct swarm_status st = status(3, 2, "updating"), got;

	ck_assert_ptr_nonnull(ss);
	ck_assert_int_eq(get(ss, "web", &got), 0);
	ck_assert_int_eq(swarmstate_set(ss, "web", &st), 0);
	ck_assert_int_eq(get(ss, "web", &got), 1);
	ck_assert_int_eq(got.desired, 3);
	ck_assert_int_eq(got.running, 2);
	ck_assert_str_eq(got.update, "updating");
	/* Counts Docker did not give keep the known ones; the update state
	 * is always the latest. */
	st = status(-1, -1, "completed");
	ck_assert_int_eq(swarmstate_set(ss, "web", &st), 0);
	ck_assert_int_eq(get(ss, "web", &got), 1);
	ck_assert_int_eq(got.desired, 3);
	ck_assert_int_eq(got.running, 2);
	ck_assert_str_eq(got.update, "completed");
	st = status(3, 3, "completed");
	ck_assert_int_eq(swarmstate_set(ss, "web", &st), 0);
	ck_assert_int_eq(get(ss, "web", &got), 1);
	ck_assert_int_eq(got.running, 3);
	swarmstate_drop(ss, "web");
	ck_assert_int_eq(get(ss, "web", &got), 0);
	swarmstate_drop(ss, "web");	/* unknown: nothing */
	ck_assert_uint_eq(swarmstate_rounds(ss), 0);
	swarmstate_round_done(ss);
	ck_assert_uint_eq(swarmstate_rounds(ss), 1);
	swarmstate_free(ss);
	swarmstate_free(NULL);
}
END_TEST

START_TEST(test_deploying)
{
	struct swarmstate *ss = swarmstate_new();
	struct swarm_status st;
	struct swarm_deploy *v;
	size_t n;
	static const char *const names[] = { "c", "a", "d", "b", "e" };
	static const char *const states[] = { "updating", "completed",
	    "rollback_started", "", "paused" };
	size_t i;

	for (i = 0; i < 5; i++) {
		st = status(2, 1, states[i]);
		ck_assert_int_eq(swarmstate_set(ss, names[i], &st), 0);
	}
	/* updating and rollback_started only, sorted by name. */
	ck_assert_int_eq(swarmstate_deploying(ss, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "c");
	ck_assert_str_eq(v[0].st.update, "updating");
	ck_assert_str_eq(v[0].st.image, "web:2");
	ck_assert_str_eq(v[1].name, "d");
	ck_assert_str_eq(v[1].st.update, "rollback_started");
	swarm_deploys_free(v, n);
	swarmstate_drop(ss, "c");
	swarmstate_drop(ss, "d");
	ck_assert_int_eq(swarmstate_deploying(ss, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	swarm_deploys_free(v, n);
	swarmstate_free(ss);
}
END_TEST

START_TEST(test_metrics_text)
{
	struct swarmstate *ss = swarmstate_new();
	struct swarm_status st;
	char *m;

	/* Nothing monitored: the families, no series. */
	m = metrics_of(ss);
	ck_assert_ptr_nonnull(strstr(m, "# TYPE flowmon_swarm_replicas_desired "
	    "gauge\n# HELP flowmon_swarm_replicas_running"));
	ck_assert_ptr_null(strstr(m, "{service="));
	free(m);
	st = status(3, 1, "updating");
	ck_assert_int_eq(swarmstate_set(ss, "go-demo_main", &st), 0);
	st = status(2, 2, "");
	ck_assert_int_eq(swarmstate_set(ss, "agent", &st), 0);
	st = status(-1, -1, "completed");
	ck_assert_int_eq(swarmstate_set(ss, "unknown.counts", &st), 0);
	m = metrics_of(ss);
	/* Sorted by service; unknown counts have no series; a service
	 * never updated is "none". */
	ck_assert_ptr_nonnull(strstr(m,
	    "flowmon_swarm_replicas_desired{service=\"agent\"} 2\n"
	    "flowmon_swarm_replicas_desired{service=\"go-demo_main\"} 3\n"
	    "# HELP flowmon_swarm_replicas_running "));
	ck_assert_ptr_nonnull(strstr(m,
	    "flowmon_swarm_replicas_running{service=\"agent\"} 2\n"
	    "flowmon_swarm_replicas_running{service=\"go-demo_main\"} 1\n"
	    "# HELP flowmon_swarm_update_state "));
	ck_assert_ptr_nonnull(strstr(m,
	    "# TYPE flowmon_swarm_update_state gauge\n"
	    "flowmon_swarm_update_state{service=\"agent\",state=\"none\"} 1\n"
	    "flowmon_swarm_update_state{service=\"go-demo_main\","
	    "state=\"updating\"} 1\n"
	    "flowmon_swarm_update_state{service=\"unknown.counts\","
	    "state=\"completed\"} 1\n"));
	ck_assert_ptr_null(strstr(m, "desired{service=\"unknown.counts\"}"));
	free(m);
	/* A state word with a quote is escaped, never breaks the text. */
	st = status(1, 1, "odd\"state");
	ck_assert_int_eq(swarmstate_set(ss, "agent", &st), 0);
	m = metrics_of(ss);
	ck_assert_ptr_nonnull(strstr(m, "state=\"odd\\\"state\"} 1\n"));
	free(m);
	swarmstate_free(ss);
}
END_TEST

START_TEST(test_many)
{
	struct swarmstate *ss = swarmstate_new();
	struct swarm_status st = status(1, 1, "completed"), got;
	char name[32], *m;
	int i;

	/* Inserted in reverse, found and dropped in any order. */
	for (i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "svc%04d", i);
		st.desired = i;
		ck_assert_int_eq(swarmstate_set(ss, name, &st), 0);
	}
	m = metrics_of(ss);
	for (i = 0; i < 1000; i += 7) {
		snprintf(name, sizeof(name), "svc%04d", i);
		ck_assert_int_eq(status_in(m, name, &got), 1);
		ck_assert_int_eq(got.desired, i);
	}
	free(m);
	for (i = 0; i < 1000; i += 2) {
		snprintf(name, sizeof(name), "svc%04d", i);
		swarmstate_drop(ss, name);
	}
	m = metrics_of(ss);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "svc%04d", i);
		ck_assert_int_eq(status_in(m, name, &got), i % 2);
	}
	free(m);
	swarmstate_free(ss);
}
END_TEST

static Suite *
swarmstate_suite(void)
{
	Suite *s = suite_create("swarmstate");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_set_get_drop);
	tcase_add_test(tc, test_deploying);
	tcase_add_test(tc, test_metrics_text);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(swarmstate_suite());
}
