/* check_supervisor.c: DFM's ARG_* rule for Prometheus's flags, the reload
 * URL derived from them, and the supervision of a stand-in child (sh):
 * restart after it dies, stop, the SIGHUP reload back end. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"
#include "testutil.h"

static char **
argv_of(const char *const *env, char err[ERR_MAX])
{
	return supervisor_argv("/usr/bin/prometheus", "/etc/p.yml",
	    (char *const *)env, err);
}

/* argv joined by single spaces (the test's own view, never a command). */
static char *
joined(char **argv)
{
	char *s = strdup(""), *t;
	size_t i;

	for (i = 0; argv[i] != NULL; i++) {
		if (asprintf(&t, "%s%s%s", s, i ? " " : "", argv[i]) < 0)
			abort();
		free(s);
		s = t;
	}
	return s;
}

/* DFM's flags_test table (Prometheus 2 part), without the shell quotes
 * DFM needed, plus its Prometheus 1 names that it renamed. */
START_TEST(test_dfm_rule)
{
	static const char *const env[] = {
		"ARG_CONFIG_FILE=/etc/prometheus/prometheus.yml",
		"ARG_WEB_LISTEN-ADDRESS=0.0.0.0:9090",
		"ARG_WEB_READ-TIMEOUT=5m",
		"ARG_WEB_MAX-CONNECTIONS=512",
		"ARG_WEB_EXTERNAL-URL=/something",
		"ARG_WEB_ROUTE-PREFIX=/monitor",
		"ARG_WEB_USER-ASSETS=/assets",
		"ARG_WEB_ENABLE-LIFECYCLE=",
		"ARG_WEB_ENABLE-ADMIN-API=",
		"ARG_WEB_CONSOLE_TEMPLATES=consoles",
		"ARG_WEB_CONSOLE_LIBRARIES=console_libraries",
		"ARG_STORAGE_TSDB_PATH=/data",
		"ARG_STORAGE_TSDB_MIN-BLOCK-DURATION=2h",
		"ARG_STORAGE_TSDB_MAX-BLOCK-DURATION=1d",
		"ARG_STORAGE_LOCAL_RETENTION=15d",
		"ARG_STORAGE_TSDB_NO-LOCKFILE=",
		"ARG_ALERTMANAGER_NOTIFICATION-QUEUE-CAPACITY=10000",
		"ARG_ALERTMANAGER_TIMEOUT=10s",
		"ARG_QUERY_STALENESS-DELTA=5m",
		"ARG_QUERY_TIMEOUT=2m",
		"ARG_QUERY_MAX-CONCURRENCY=20",
		"ARG_LOG_LEVEL=info",
		"ARG_ALERTMANAGER_URL=http://alert-manager:9093",
		"GLOBAL_SCRAPE_INTERVAL=10s",
		"ARGUMENT=1",
		NULL
	};
	static const char want[] = "/usr/bin/prometheus"
	    " --alertmanager.notification-queue-capacity=10000"
	    " --alertmanager.timeout=10s"
	    " --log.level=info"
	    " --query.lookback-delta=5m"
	    " --query.max-concurrency=20"
	    " --query.timeout=2m"
	    " --storage.tsdb.max-block-duration=1d"
	    " --storage.tsdb.min-block-duration=2h"
	    " --storage.tsdb.no-lockfile"
	    " --storage.tsdb.path=/data"
	    " --storage.tsdb.retention=15d"
	    " --web.console.libraries=console_libraries"
	    " --web.console.templates=consoles"
	    " --web.enable-admin-api"
	    " --web.enable-lifecycle"
	    " --web.external-url=/something"
	    " --web.listen-address=0.0.0.0:9090"
	    " --web.max-connections=512"
	    " --web.read-timeout=5m"
	    " --web.route-prefix=/monitor"
	    " --web.user-assets=/assets"
	    " --config.file=/etc/p.yml";
	char err[ERR_MAX] = "", **argv = argv_of(env, err), *s;

	ck_assert_msg(argv != NULL, "%s", err);
	s = joined(argv);
	ck_assert_str_eq(s, want);
	free(s);
	supervisor_argv_free(argv);
}
END_TEST

START_TEST(test_values)
{
	static const char *const env[] = {
		"ARG_WEB_ENABLE-REMOTE-SHUTDOWN=true",
		"ARG_STORAGE_LOCAL_PATH=/prometheus",
		"ARG_STORAGE_TSDB_WAL-COMPRESSION=false",
		"ARG_WEB_CORS_ORIGIN=.*=x y",
		NULL
	};
	static const char *const off[] = {
		"ARG_WEB_ENABLE-REMOTE-SHUTDOWN=false", NULL
	};
	char err[ERR_MAX] = "", **argv = argv_of(env, err), *s;

	ck_assert_msg(argv != NULL, "%s", err);
	s = joined(argv);
	/* Rename, "false" as --no-, '=' and spaces kept in one argument. */
	ck_assert_str_eq(s, "/usr/bin/prometheus"
	    " --storage.tsdb.path=/prometheus --no-storage.tsdb.wal-compression"
	    " --web.cors.origin=.*=x y --web.enable-lifecycle"
	    " --config.file=/etc/p.yml");
	ck_assert_str_eq(argv[3], "--web.cors.origin=.*=x y");
	free(s);
	supervisor_argv_free(argv);
	argv = argv_of(off, err);
	ck_assert_ptr_nonnull(argv);
	ck_assert_ptr_null(argv[2]);	/* prometheus --config.file only */
	supervisor_argv_free(argv);
}
END_TEST

START_TEST(test_refused)
{
	static const char *const twice[] = {
		"ARG_STORAGE_TSDB_PATH=/a", "ARG_STORAGE_LOCAL_PATH=/b", NULL
	};
	static const char *const bad[] = {
		"ARG_WEB_LISTEN ADDRESS=x", NULL
	};
	static const char *const empty[] = { "ARG_=1", NULL };
	char err[ERR_MAX] = "";

	ck_assert_ptr_null(argv_of(twice, err));
	ck_assert_ptr_nonnull(strstr(err, "ARG_STORAGE_TSDB_PATH"));
	ck_assert_ptr_nonnull(strstr(err, "ARG_STORAGE_LOCAL_PATH"));
	ck_assert_ptr_nonnull(strstr(err, "--storage.tsdb.path"));
	ck_assert_ptr_null(argv_of(bad, err));
	ck_assert_ptr_nonnull(strstr(err, "ARG_WEB_LISTEN ADDRESS"));
	ck_assert_ptr_null(argv_of(empty, err));
	ck_assert_ptr_nonnull(strstr(err, "ARG_"));
}
END_TEST

static char *
url_of(const char *const *env)
{
	char err[ERR_MAX] = "", **argv = argv_of(env, err), *url;

	ck_assert_msg(argv != NULL, "%s", err);
	url = supervisor_reload_url(argv);
	supervisor_argv_free(argv);
	return url;
}

START_TEST(test_reload_url)
{
	static const char *const none[] = { "ARG_WEB_ROUTE-PREFIX=/m", NULL };
	static const char *const plain[] = { "ARG_WEB_ENABLE-LIFECYCLE=",
	    NULL };
	static const char *const prefix[] = { "ARG_WEB_ENABLE-LIFECYCLE=true",
	    "ARG_WEB_ROUTE-PREFIX=/monitor/", "ARG_WEB_LISTEN-ADDRESS=:9091",
	    NULL };
	static const char *const ext[] = {
	    "ARG_WEB_ENABLE-REMOTE-SHUTDOWN=true",
	    "ARG_WEB_EXTERNAL-URL=http://example.com/prom",
	    "ARG_WEB_LISTEN-ADDRESS=10.0.0.5:9999", NULL };
	static const char *const v6[] = { "ARG_WEB_ENABLE-LIFECYCLE=",
	    "ARG_WEB_LISTEN-ADDRESS=[::]:9090", NULL };
	char *u;

	ck_assert_ptr_null(url_of(none));
	ck_assert_str_eq(u = url_of(plain), "http://127.0.0.1:9090/-/reload");
	free(u);
	ck_assert_str_eq(u = url_of(prefix),
	    "http://127.0.0.1:9091/monitor/-/reload");
	free(u);
	ck_assert_str_eq(u = url_of(ext), "http://10.0.0.5:9999/prom/-/reload");
	free(u);
	ck_assert_str_eq(u = url_of(v6), "http://[::1]:9090/-/reload");
	free(u);
}
END_TEST

/* The API base (--prometheus-url's default under --run-prometheus): the
 * same, lifecycle or not. */
START_TEST(test_api_url)
{
	static const char *const none[] = { "ARG_WEB_ROUTE-PREFIX=/m", NULL };
	static const char *const ext[] = {
	    "ARG_WEB_EXTERNAL-URL=http://example.com/prom/",
	    "ARG_WEB_LISTEN-ADDRESS=10.0.0.5:9999", NULL };
	char err[ERR_MAX] = "", **argv, *u;

	ck_assert_ptr_nonnull(argv = argv_of(none, err));
	ck_assert_str_eq(u = supervisor_api_url(argv),
	    "http://127.0.0.1:9090/m");
	free(u);
	supervisor_argv_free(argv);
	ck_assert_ptr_nonnull(argv = argv_of(ext, err));
	ck_assert_str_eq(u = supervisor_api_url(argv),
	    "http://10.0.0.5:9999/prom");
	free(u);
	supervisor_argv_free(argv);
}
END_TEST

/*
 * Supervision, with a small shell script standing in for Prometheus (it
 * ignores its flags, notes SIGHUP in a file, exits on SIGTERM).
 */

static char *
stand_in(const char *dir, const char *body)
{
	char *path;

	if (asprintf(&path, "%s/fake-prometheus", dir) < 0)
		abort();
	tu_spit(path, body);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

static int
wait_for(int (*cond)(struct supervisor *, void *), struct supervisor *sv,
    void *arg, int ms)
{
	struct timespec ts = { 0, 20 * 1000000L };

	for (; ms > 0; ms -= 20) {
		if (cond(sv, arg))
			return 1;
		nanosleep(&ts, NULL);
	}
	return cond(sv, arg);
}

static int
restarted(struct supervisor *sv, void *arg)
{
	pid_t old = *(pid_t *)arg, now = supervisor_pid(sv);

	return now != 0 && now != old;
}

static int
file_has(struct supervisor *sv, void *arg)
{
	char *text = tu_slurp(arg);
	int n = 0;

	(void)sv;
	if (text != NULL) {
		char *p;

		for (p = text; (p = strstr(p, "hup")) != NULL; p++)
			n++;
		free(text);
	}
	return n >= 1;
}

/* The stand-in has installed its traps: it wrote "ready". */
static int
file_ready(struct supervisor *sv, void *arg)
{
	char *text = tu_slurp(arg);
	int ready = text != NULL && strstr(text, "ready") != NULL;

	(void)sv;
	free(text);
	return ready;
}

START_TEST(test_supervise)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *bin, *mark, *body;
	static const char *const env[] = { "ARG_LOG_LEVEL=info", NULL };
	struct supervisor *sv;
	void *rl;
	pid_t p1;

	if (asprintf(&mark, "%s/mark", dir) < 0 ||
	    asprintf(&body, "#!/bin/sh\n"
	    "trap 'echo hup >>%s' HUP\n"
	    "trap 'exit 0' TERM\n"
	    "echo ready >>%s\n"
	    "while :; do sleep 0.05; done\n", mark, mark) < 0)
		abort();
	bin = stand_in(dir, body);
	sv = supervisor_start(bin, "/dev/null", (char *const *)env, err);
	ck_assert_msg(sv != NULL, "%s", err);
	p1 = supervisor_pid(sv);
	ck_assert_int_gt(p1, 0);
	ck_assert_uint_eq(supervisor_starts(sv), 1);
	/* Its own process group, so a terminal's ^C is flowmon's alone. */
	ck_assert_int_eq(getpgid(p1), p1);

	/* The SIGHUP back end reaches the child's trap. */
	rl = supervisor_reload_new(sv, 30000, err);
	ck_assert_msg(rl != NULL, "%s", err);
	/* Its traps are set once it says so (a SIGHUP before would kill it). */
	ck_assert_msg(wait_for(file_ready, sv, mark, 10000), "stand-in not ready");
	ck_assert_int_eq(supervisor_reload_backend.reload(rl, err), 0);
	ck_assert_msg(wait_for(file_has, sv, mark, 5000), "no SIGHUP seen");
	supervisor_reload_backend.free(rl);

	/* Killed: started again, with a new pid. */
	ck_assert_int_eq(kill(p1, SIGKILL), 0);
	ck_assert_msg(wait_for(restarted, sv, &p1, 10000), "not restarted");
	ck_assert_uint_eq(supervisor_starts(sv), 2);
	ck_assert_int_eq(kill(p1, 0), -1);	/* reaped, no zombie */
	p1 = supervisor_pid(sv);

	/* Stop: SIGTERM, waited for. */
	supervisor_stop(sv);
	ck_assert_int_eq(kill(p1, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	free(bin);
	free(body);
	free(mark);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_start_fails)
{
	static const char *const env[] = { NULL };
	char err[ERR_MAX] = "";

	ck_assert_ptr_null(supervisor_start("/nonexistent/prometheus",
	    "/dev/null", (char *const *)env, err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/prometheus"));
	supervisor_stop(NULL);
}
END_TEST

static Suite *
supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dfm_rule);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_reload_url);
	tcase_add_test(tc, test_api_url);
	tcase_add_test(tc, test_supervise);
	tcase_add_test(tc, test_start_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(supervisor_suite());
}
