/* check_supervisor.c: DFM's ARG_* rule for Prometheus's flags, the reload
 * URL derived from them, and the supervision of a stand-in child (sh)
 * whose web address is a fake Prometheus (fixture.h's fake HTTP server:
 * /-/ready and the reload gauges of /metrics): restart after it dies,
 * stop, the owner's events (start, ready, exit at start), and the SIGHUP
 * reload back end with its verdict read from /metrics. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fixture.h"
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

/* The fake Prometheus behind the stand-in's web address: /-/ready answers
 * 200 once ready is set (503 before); /metrics shows the two reload
 * gauges, and for each SIGHUP the stand-in noted since the last read, a
 * reload: a success (a new success time, now) or, with refuse set, a
 * failure (the gauge to 0). plain: /metrics without the gauges. */
struct fakeprom {
	char		*mark;		/* the stand-in's notes */
	char		*fail;		/* exists: it exits at start */
	int		 ready;		/* atomic */
	int		 refuse;	/* atomic */
	int		 plain;		/* atomic */
	int		 seen;		/* SIGHUPs turned into reloads */
	int		 ok;
	double		 ts;
};

static int
hups(const char *mark)
{
	char *text = tu_slurp(mark), *p;
	int n = 0;

	for (p = text; p != NULL && (p = strstr(p, "hup")) != NULL; p++)
		n++;
	free(text);
	return n;
}

static int
file_count5(struct supervisor *sv, void *arg)
{
	(void)sv;
	return hups(arg) >= 5;
}

static void
fakeprom_serve(void *arg, int fd, const struct fh_request *rq)
{
	struct fakeprom *fp = arg;
	char body[512];
	int n;

	if (strcmp(rq->path, "/-/ready") == 0) {
		/* A stand-in about to exit at start is never ready. */
		if (__atomic_load_n(&fp->ready, __ATOMIC_ACQUIRE) &&
		    !tu_exists(fp->fail))
			fh_reply(fd, 200, NULL, "Prometheus Server is Ready.\n");
		else
			fh_reply(fd, 503, NULL, "Service Unavailable\n");
		return;
	}
	if ((n = hups(fp->mark)) > fp->seen) {
		fp->seen = n;
		if (__atomic_load_n(&fp->refuse, __ATOMIC_ACQUIRE))
			fp->ok = 0;
		else {
			fp->ok = 1;
			fp->ts = (double)clock_wall_us() / 1e6;
		}
	}
	if (__atomic_load_n(&fp->plain, __ATOMIC_ACQUIRE))
		snprintf(body, sizeof(body), "go_goroutines 7\n");
	else
		snprintf(body, sizeof(body), "# TYPE prometheus_config_last_"
		    "reload_success_timestamp_seconds gauge\n"
		    "prometheus_config_last_reload_success_timestamp_seconds "
		    "%.15e\n# TYPE prometheus_config_last_reload_successful "
		    "gauge\nprometheus_config_last_reload_successful %d\n"
		    "prometheus_engine_queries 0\n", fp->ts, fp->ok);
	fh_reply(fd, 200, NULL, body);
}

/* A stand-in child and its fake web address, each in dir. The stand-in
 * exits 1 at once when <dir>/fail exists (a Prometheus that refuses its
 * rules at start), else notes "ready" and each SIGHUP in fp->mark. */
struct standin {
	char		*dir;
	char		*bin;
	char		*fail;
	char		 listen[80];
	struct fakehttp	 web;
	struct fakeprom	 fp;
};

static void
standin_start(struct standin *si)
{
	char *body;

	memset(si, 0, sizeof(*si));
	si->dir = tu_tmpdir();
	if (asprintf(&si->fp.mark, "%s/mark", si->dir) < 0 ||
	    asprintf(&si->fail, "%s/fail", si->dir) < 0 ||
	    (si->fp.fail = strdup(si->fail)) == NULL ||
	    asprintf(&body, "#!/bin/sh\n"
	    "[ -e %s ] && exit 1\n"
	    "trap 'echo hup >>%s' HUP\n"
	    "trap 'exit 0' TERM\n"
	    "echo ready >>%s\n"
	    "while :; do sleep 0.05; done\n", si->fail, si->fp.mark,
	    si->fp.mark) < 0)
		abort();
	si->fp.ok = 1;
	si->fp.ts = 1.0;
	si->bin = stand_in(si->dir, body);
	free(body);
	fh_start(&si->web, fakeprom_serve, &si->fp);
	snprintf(si->listen, sizeof(si->listen),
	    "ARG_WEB_LISTEN-ADDRESS=127.0.0.1:%d", si->web.port);
}

static struct supervisor *
standin_supervise(struct standin *si)
{
	const char *env[] = { "ARG_LOG_LEVEL=info", si->listen, NULL };
	char err[ERR_MAX] = "";
	struct supervisor *sv;

	sv = supervisor_start(si->bin, "/dev/null", (char *const *)env, err);
	ck_assert_msg(sv != NULL, "%s", err);
	return sv;
}

static void
standin_done(struct standin *si)
{
	fh_stop(&si->web);
	tu_rmrf(si->dir);
	free(si->dir);
	free(si->bin);
	free(si->fail);
	free(si->fp.fail);
	free(si->fp.mark);
}

START_TEST(test_supervise)
{
	struct standin si;
	struct supervisor *sv;
	char err[ERR_MAX] = "";
	void *rl;
	pid_t p1;

	standin_start(&si);
	__atomic_store_n(&si.fp.ready, 1, __ATOMIC_RELEASE);
	sv = standin_supervise(&si);
	p1 = supervisor_pid(sv);
	ck_assert_int_gt(p1, 0);
	ck_assert_uint_eq(supervisor_starts(sv), 1);
	/* Its own process group, so a terminal's ^C is flowmon's alone. */
	ck_assert_int_eq(getpgid(p1), p1);

	/* The SIGHUP back end reaches the child's trap once it is ready,
	 * and the reload it reports in /metrics is the verdict. */
	rl = supervisor_reload_new(sv, 30000, err);
	ck_assert_msg(rl != NULL, "%s", err);
	/* Its traps are set once it says so (a SIGHUP before would kill it). */
	ck_assert_msg(wait_for(file_ready, sv, si.fp.mark, 10000),
	    "stand-in not ready");
	ck_assert_msg(supervisor_reload_backend.reload(rl, err) == FM_OK,
	    "%s", err);
	ck_assert_msg(wait_for(file_has, sv, si.fp.mark, 5000), "no SIGHUP seen");
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
	standin_done(&si);
}
END_TEST

/* The verdict of a SIGHUP reload, from the gauges in /metrics. */
START_TEST(test_sighup_verdict)
{
	struct standin si;
	struct supervisor *sv;
	char err[ERR_MAX] = "";
	void *rl;

	standin_start(&si);
	sv = standin_supervise(&si);
	rl = supervisor_reload_new(sv, 1500, err);
	ck_assert_msg(rl != NULL, "%s", err);

	/* Not ready: no signal (it could kill a child still starting), a
	 * retry once --reload-timeout ran out. */
	ck_assert_int_eq(supervisor_reload_backend.reload(rl, err), FM_RETRY);
	ck_assert_msg(strstr(err, "not ready") != NULL, "%s", err);
	ck_assert_int_eq(hups(si.fp.mark), 0);
	__atomic_store_n(&si.fp.ready, 1, __ATOMIC_RELEASE);
	ck_assert_msg(wait_for(file_ready, sv, si.fp.mark, 10000),
	    "stand-in not ready");

	/* Loaded: a success time past the signal. */
	ck_assert_msg(supervisor_reload_backend.reload(rl, err) == FM_OK,
	    "%s", err);
	ck_assert_int_eq(hups(si.fp.mark), 1);
	/* Refused: the gauge falls from 1 to 0. */
	__atomic_store_n(&si.fp.refuse, 1, __ATOMIC_RELEASE);
	err[0] = '\0';
	ck_assert_msg(supervisor_reload_backend.reload(rl, err) == FM_REFUSED,
	    "%s (hups %d, seen %d, ok %d)", err, hups(si.fp.mark), si.fp.seen,
	    si.fp.ok);
	ck_assert_msg(strstr(err, "fell to 0") != NULL, "%s", err);
	/* Refused again: no sign but the lack of a success within the
	 * grace, which is 2 s at least but never past the timeout (1.5 s
	 * here): refused, not a retry for want of an answer. */
	ck_assert_int_eq(supervisor_reload_backend.reload(rl, err),
	    FM_REFUSED);
	ck_assert_msg(strstr(err, "had failed") != NULL, "%s", err);
	/* Loaded after a failure: the success time moves. */
	__atomic_store_n(&si.fp.refuse, 0, __ATOMIC_RELEASE);
	ck_assert_msg(supervisor_reload_backend.reload(rl, err) == FM_OK,
	    "%s", err);
	ck_assert_int_eq(hups(si.fp.mark), 4);
	/* No gauges to read (authentication, or not Prometheus): sent as
	 * before, unverified. */
	__atomic_store_n(&si.fp.plain, 1, __ATOMIC_RELEASE);
	ck_assert_msg(supervisor_reload_backend.reload(rl, err) == FM_OK,
	    "%s", err);
	ck_assert_msg(wait_for(file_count5, sv, si.fp.mark, 5000),
	    "no fifth SIGHUP");
	supervisor_reload_backend.free(rl);
	supervisor_stop(sv);
	standin_done(&si);
}
END_TEST

/* What the owner hears: a start (before the spawn), the child ready (at
 * once when the hooks come late), an exit at start. */
struct heard {
	int	 n[3];		/* atomic, per event */
	char	 detail[64];
};

static void
heard_event(void *ctx, enum supervisor_event ev, const char *detail)
{
	struct heard *h = ctx;

	if (detail != NULL)
		snprintf(h->detail, sizeof(h->detail), "%s", detail);
	__atomic_add_fetch(&h->n[ev], 1, __ATOMIC_SEQ_CST);
}

static int
heard_n(struct heard *h, enum supervisor_event ev)
{
	return __atomic_load_n(&h->n[ev], __ATOMIC_SEQ_CST);
}

START_TEST(test_events)
{
	struct heard h;
	struct supervisor_hooks hooks = { heard_event, NULL };
	struct standin si;
	struct supervisor *sv;
	char err[ERR_MAX] = "";
	void *rl;
	pid_t p1;

	memset(&h, 0, sizeof(h));
	hooks.ctx = &h;
	standin_start(&si);
	__atomic_store_n(&si.fp.ready, 1, __ATOMIC_RELEASE);
	sv = standin_supervise(&si);
	FX_WAIT(supervisor_pid(sv) > 0 && file_ready(sv, si.fp.mark), 10000,
	    "stand-in not ready");
	/* Hooks after the first child is ready: told at once. */
	supervisor_set_hooks(sv, &hooks);
	FX_WAIT(heard_n(&h, SUPERVISOR_READY) == 1, 10000, "no ready event");
	ck_assert_int_eq(heard_n(&h, SUPERVISOR_SPAWNING), 0);

	/* It refuses its rules at start: an exit at start, started again
	 * (and again) until it loads. */
	tu_spit(si.fail, "x");
	p1 = supervisor_pid(sv);
	ck_assert_int_eq(kill(p1, SIGKILL), 0);
	FX_WAIT(heard_n(&h, SUPERVISOR_START_FAILED) >= 1, 10000,
	    "no start failure heard");
	ck_assert_str_eq(h.detail, "exit status 1");
	ck_assert_int_ge(heard_n(&h, SUPERVISOR_SPAWNING), 1);
	ck_assert_int_eq(heard_n(&h, SUPERVISOR_READY), 1);
	/* A reload meanwhile ends at the exit at start, without a signal. */
	rl = supervisor_reload_new(sv, 30000, err);
	ck_assert_msg(rl != NULL, "%s", err);
	ck_assert_int_eq(supervisor_reload_backend.reload(rl, err), FM_RETRY);
	ck_assert_msg(strstr(err, "exited at start") != NULL, "%s", err);
	supervisor_reload_backend.free(rl);
	unlink(si.fail);
	FX_WAIT(heard_n(&h, SUPERVISOR_READY) == 2, 30000,
	    "not ready again");
	/* Killed by a signal once it ran: no start failure, only a start. */
	p1 = heard_n(&h, SUPERVISOR_START_FAILED);
	ck_assert_int_eq(kill(supervisor_pid(sv), SIGKILL), 0);
	FX_WAIT(heard_n(&h, SUPERVISOR_READY) == 3, 30000,
	    "not ready after the kill");
	ck_assert_int_eq(heard_n(&h, SUPERVISOR_START_FAILED), p1);
	/* Hooks gone: never called again. */
	supervisor_set_hooks(sv, NULL);
	supervisor_stop(sv);
	ck_assert_int_eq(heard_n(&h, SUPERVISOR_READY), 3);
	standin_done(&si);
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
	tcase_add_test(tc, test_sighup_verdict);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_start_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(supervisor_suite());
}
