/* check_reload_http.c: the HTTP reload back end's verify step, against a
 * stand-in for vmalert 1.79 run in the test on 127.0.0.1: POST /-/reload
 * answers 200 at once, the reloads run one after the other afterwards, and
 * their outcome shows only in /metrics (vmalert_config_last_reload_*),
 * which, like vmalert's, may be read while a reload is still parsing.
 * Also: a Prometheus-like server is probed once and then only posted to,
 * a URL not ending in /-/reload is never probed, and a stop cuts a wait. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>

#include "fixture.h"
#include "reloader.h"

#define REFUSED_TEXT	"vmalert refused the new rules"

enum outcome { OUT_CHANGED, OUT_EQUAL, OUT_FAIL, OUT_NEVER };

#define FAKE_MAX	16

/* The fake's state. Reloads are queued by POST and run in order, each
 * taking parse_ms: it counts in total when it starts and books its outcome
 * when it ends, computed lazily whenever /metrics is read. */
struct fake {
	struct fakehttp		 http;
	pthread_mutex_t		 lock;
	int			 prometheus;	/* answer as Prometheus */
	int			 metrics_404;
	enum outcome		 next;		/* of the reloads posted next */
	long			 parse_ms;
	/* queue */
	int64_t			 post_at[FAKE_MAX];
	enum outcome		 out[FAKE_MAX];
	int			 nposts;
	int			 started, ended;
	/* what /metrics shows */
	double			 total, errors, ok, ts;
	int			 gets;
};

/* Brings the counters up to now. Called with the lock held. */
static void
fake_advance(struct fake *f)
{
	int64_t now = clock_ms(), start, prev_end = 0;
	int i;

	for (i = 0; i < f->nposts; i++) {
		start = f->post_at[i] > prev_end ? f->post_at[i] : prev_end;
		if (f->out[i] == OUT_NEVER || now < start)
			return;
		if (i >= f->started) {
			f->total++;
			f->started = i + 1;
		}
		prev_end = start + f->parse_ms;
		if (now < prev_end)
			return;
		if (i >= f->ended) {
			f->ended = i + 1;
			if (f->out[i] == OUT_FAIL) {
				f->errors++;
				f->ok = 0;
			} else {
				f->ok = 1;
				if (f->out[i] == OUT_CHANGED)
					f->ts += 1;
			}
		}
	}
}

static void
fake_handle(void *arg, int fd, const struct fh_request *rq)
{
	struct fake *f = arg;
	char *body = NULL;
	int status = 200;

	pthread_mutex_lock(&f->lock);
	if (strcmp(rq->path, "/-/reload") == 0 &&
	    strcmp(rq->method, "POST") == 0) {
		if (f->nposts < FAKE_MAX) {
			f->post_at[f->nposts] = clock_ms();
			f->out[f->nposts] = f->next;
			f->nposts++;
		}
		body = strdup("");
	} else if (strcmp(rq->path, "/metrics") == 0) {
		f->gets++;
		fake_advance(f);
		if (f->metrics_404) {
			status = 404;
			body = strdup("404 page not found\n");
		} else if (f->prometheus) {
			body = strdup("# TYPE go_goroutines gauge\n"
			    "go_goroutines 30\n"
			    "prometheus_config_last_reload_successful 1\n"
			    "prometheus_config_last_reload_success_timestamp_"
			    "seconds 1.7e+09\n");
		} else if (asprintf(&body,
		    "go_goroutines 12\n"
		    "vmalert_alerts_fired_total 3\n"
		    "vmalert_config_last_reload_errors_total %.0f\n"
		    "vmalert_config_last_reload_success_timestamp_seconds %.0f\n"
		    "vmalert_config_last_reload_successful %.0f\n"
		    "vmalert_config_last_reload_total %.0f\n"
		    "vmalert_iteration_total{group=\"a\", file=\"/r/a.yml\"} 7\n",
		    f->errors, f->ts, f->ok, f->total) < 0)
			body = NULL;
	} else {
		status = 404;
		body = strdup("not found\n");
	}
	pthread_mutex_unlock(&f->lock);
	ck_assert_ptr_nonnull(body);
	fh_reply(fd, status, NULL, body);
	free(body);
}

static void
fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->ok = 1;
	f->ts = 1700000000;
	f->parse_ms = 100;
	fh_start(&f->http, fake_handle, f);
}

static void
fake_release(struct fake *f)
{
	fh_stop(&f->http);
	pthread_mutex_destroy(&f->lock);
}

static void
fake_set(struct fake *f, enum outcome next, long parse_ms)
{
	pthread_mutex_lock(&f->lock);
	f->next = next;
	f->parse_ms = parse_ms;
	pthread_mutex_unlock(&f->lock);
}

static int
fake_posts(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->nposts;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static int
fake_gets(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->gets;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* A back end for the fake at path, allowing timeout_ms per reload. */
static void *
backend_within(struct fake *f, const char *path, long timeout_ms)
{
	char url[128], err[ERR_MAX];
	void *arg;

	snprintf(url, sizeof(url), "%s%s", f->http.url, path);
	arg = reload_http_new(url, timeout_ms, err);
	ck_assert_msg(arg != NULL, "%s", err);
	return arg;
}

/* The same with the default --reload-timeout, 5 minutes. */
static void *
backend_for(struct fake *f, const char *path)
{
	return backend_within(f, path, 300000);
}

/* One reload through the back end: its kind, err filled, ms taken. */
static enum fm_err
reload_once(void *arg, char err[ERR_MAX], int64_t *ms)
{
	int64_t t0 = clock_ms();
	enum fm_err rc;

	err[0] = '\0';
	rc = reload_http_backend.reload(arg, err);
	if (ms != NULL)
		*ms = clock_ms() - t0;
	return rc;
}

/* Changed rules applied: success, once vmalert says so (not at its 200). */
START_TEST(test_vmalert_applied)
{
	struct fake f;
	char err[ERR_MAX];
	int64_t ms;
	void *arg;

	fake_init(&f);
	fake_set(&f, OUT_CHANGED, 600);
	arg = backend_for(&f, "/-/reload");
	ck_assert_int_eq(reload_once(arg, err, &ms), FM_OK);
	ck_assert_int_ge(ms, 600);
	ck_assert_int_eq(fake_posts(&f), 1);
	reload_http_backend.free(arg);
	fake_release(&f);
}
END_TEST

/* A reload vmalert fails: FM_REFUSED, the kind of Prometheus's 500, so
 * the daemon looks for the rule file at fault. */
START_TEST(test_vmalert_refused)
{
	struct fake f;
	char err[ERR_MAX];
	void *arg;

	fake_init(&f);
	fake_set(&f, OUT_FAIL, 100);
	arg = backend_for(&f, "/-/reload");
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_REFUSED);
	ck_assert_msg(strstr(err, REFUSED_TEXT) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "from 0 to 1") != NULL, "%s", err);
	/* Fixed: the next reload succeeds. */
	fake_set(&f, OUT_CHANGED, 100);
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_OK);
	reload_http_backend.free(arg);
	fake_release(&f);
}
END_TEST

/* A slow failing parse: read mid-parse, the page looks like a success
 * (total moved, no error yet, successful still 1), which is never taken
 * for one. Shorter than the grace, the end is waited for; longer, the
 * barrier is sent and the end still seen. */
START_TEST(test_vmalert_slow_failure)
{
	static const long parse[] = { 1500, 3500 };
	struct fake f;
	char err[ERR_MAX];
	int64_t ms;
	void *arg;
	int k;

	for (k = 0; k < 2; k++) {
		fake_init(&f);
		fake_set(&f, OUT_FAIL, parse[k]);
		arg = backend_for(&f, "/-/reload");
		ck_assert_int_eq(reload_once(arg, err, &ms), FM_REFUSED);
		ck_assert_msg(strstr(err, REFUSED_TEXT) != NULL, "%s",
		    err);
		ck_assert_int_ge(ms, parse[k]);
		/* Ours, and the barrier past the 2 s grace. */
		ck_assert_int_eq(fake_posts(&f), k == 0 ? 1 : 2);
		reload_http_backend.free(arg);
		fake_release(&f);
	}
}
END_TEST

/* Nothing changed (vmalert keeps its groups, no new success time): over
 * once the barrier reload has started. After a failure, success alone
 * (successful back to 1) tells it, with no barrier. */
START_TEST(test_vmalert_unchanged)
{
	struct fake f;
	char err[ERR_MAX];
	void *arg;

	fake_init(&f);
	fake_set(&f, OUT_EQUAL, 100);
	arg = backend_for(&f, "/-/reload");
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_OK);
	ck_assert_int_eq(fake_posts(&f), 2);
	fake_set(&f, OUT_FAIL, 100);
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_REFUSED);
	ck_assert_int_eq(fake_posts(&f), 3);
	fake_set(&f, OUT_EQUAL, 100);
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_OK);
	ck_assert_int_eq(fake_posts(&f), 4);
	reload_http_backend.free(arg);
	fake_release(&f);
}
END_TEST

/* Prometheus (and a stand-in without /metrics) keep the plain POST: the
 * page is read once, at the first reload, never again. */
START_TEST(test_not_vmalert)
{
	struct fake f;
	char err[ERR_MAX];
	int64_t ms;
	void *arg;
	int k, i;

	for (k = 0; k < 2; k++) {
		fake_init(&f);
		f.prometheus = k == 0;
		f.metrics_404 = k == 1;
		fake_set(&f, OUT_NEVER, 100);
		arg = backend_for(&f, "/-/reload");
		for (i = 0; i < 3; i++) {
			ck_assert_int_eq(reload_once(arg, err, &ms), FM_OK);
			ck_assert_int_lt(ms, 1000);
		}
		ck_assert_int_eq(fake_posts(&f), 3);
		ck_assert_int_eq(fake_gets(&f), 1);
		reload_http_backend.free(arg);
		fake_release(&f);
	}
	/* A URL that is not <base>/-/reload is only posted to. */
	fake_init(&f);
	arg = backend_for(&f, "/reload-me");
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_FATAL); /* 404 */
	ck_assert_int_eq(fake_gets(&f), 0);
	reload_http_backend.free(arg);
	fake_release(&f);
}
END_TEST

struct canceller {
	void	*arg;
	long	 after_ms;
};

static void *
cancel_later(void *p)
{
	struct canceller *c = p;

	usleep((useconds_t)c->after_ms * 1000);
	reload_http_backend.cancel(c->arg);
	return NULL;
}

/* A vmalert that never reports the reload: a stop cuts the wait short. */
START_TEST(test_cancel)
{
	struct canceller c;
	struct fake f;
	pthread_t t;
	char err[ERR_MAX];
	int64_t ms;

	fake_init(&f);
	fake_set(&f, OUT_NEVER, 100);
	c.arg = backend_for(&f, "/-/reload");
	c.after_ms = 700;
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &c), 0);
	ck_assert_int_ne(reload_once(c.arg, err, &ms), FM_OK);
	ck_assert_msg(strstr(err, "stopped") != NULL, "%s", err);
	ck_assert_int_lt(ms, 2000);
	pthread_join(t, NULL);
	reload_http_backend.free(c.arg);
	fake_release(&f);
}
END_TEST

/* A vmalert that never reports the reload over: waited for no longer
 * than --reload-timeout, then retried later (the message names it). */
START_TEST(test_vmalert_timeout)
{
	struct fake f;
	char err[ERR_MAX];
	void *arg;

	fake_init(&f);
	fake_set(&f, OUT_NEVER, 100);
	arg = backend_within(&f, "/-/reload", 1500);
	ck_assert_int_eq(reload_once(arg, err, NULL), FM_RETRY);
	ck_assert_msg(strstr(err, "within --reload-timeout (1s)") != NULL,
	    "%s", err);
	reload_http_backend.free(arg);
	fake_release(&f);
}
END_TEST

static Suite *
reload_http_suite(void)
{
	Suite *s = suite_create("reload_http");
	TCase *tc = tcase_create("verify");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vmalert_applied);
	tcase_add_test(tc, test_vmalert_refused);
	tcase_add_test(tc, test_vmalert_slow_failure);
	tcase_add_test(tc, test_vmalert_unchanged);
	tcase_add_test(tc, test_not_vmalert);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_vmalert_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(reload_http_suite());
}
