/* check_reloader.c: the reloader's debounce, retry and HTTP back end,
 * against a counting /-/reload server run in the test on 127.0.0.1. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>

#include "fixture.h"
#include "reloader.h"

/* A stand-in for Prometheus's /-/reload that counts POSTs and answers what
 * the test asks: fail_status to the next fail_left POSTs, then status. */
struct srv {
	struct fakehttp		 f;
	int			 up;
	pthread_mutex_t		 lock;
	int			 posts;
	int			 fail_left;
	int			 fail_status;
	int			 status;
	long			 delay_ms;	/* sleep before answering */
};

/* --reload-timeout in the tests whose server answers at once. */
#define TEST_TIMEOUT_MS	30000

/* What on_result saw, in order. */
#define RES_MAX 16
struct results {
	pthread_mutex_t	 lock;
	int		 n;
	int		 ok[RES_MAX];
	enum fm_err	 kind[RES_MAX];
	char		 error[RES_MAX][ERR_MAX];
};

static const char *
srv_body(int status)
{
	switch (status) {
	case 403:
		/* What Prometheus says without --web.enable-lifecycle. */
		return "Lifecycle API is not enabled.\n";
	case 500:
		return "failed to reload config: rule file broken\n";
	default:
		return "";
	}
}

static void
srv_handle(void *arg, int fd, const struct fh_request *rq)
{
	struct srv *s = arg;
	int status;
	long delay;

	if (strcmp(rq->path, "/-/reload") != 0)
		status = 404;
	else if (strcmp(rq->method, "POST") != 0)
		status = 405;
	else {
		pthread_mutex_lock(&s->lock);
		s->posts++;
		if (s->fail_left > 0) {
			s->fail_left--;
			status = s->fail_status;
		} else
			status = s->status;
		delay = s->delay_ms;
		pthread_mutex_unlock(&s->lock);
		if (delay > 0)
			usleep((useconds_t)delay * 1000);
	}
	fh_reply(fd, status, NULL, srv_body(status));
}

/* Listens on 127.0.0.1:port; port 0 picks a free one, found in
 * s->f.port. */
static void
srv_start(struct srv *s, int port)
{
	fh_start_at(&s->f, port, srv_handle, s);
	s->up = 1;
}

static void
srv_init(struct srv *s, int status)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->status = status;
	srv_start(s, 0);
}

static void
srv_stop(struct srv *s)
{
	if (s->up)
		fh_stop(&s->f);
	s->up = 0;
}

static void
srv_release(struct srv *s)
{
	srv_stop(s);
	pthread_mutex_destroy(&s->lock);
}

static int
srv_posts(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->posts;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* 1 once s has seen at least n POSTs, 0 if ms passed first. */
static int
srv_wait_posts(struct srv *s, int n, long ms)
{
	int64_t end = clock_ms() + ms;

	while (srv_posts(s) < n) {
		if (clock_ms() >= end)
			return 0;
		usleep(5000);
	}
	return 1;
}

/* 1 if s saw exactly n POSTs all through the next ms, 0 at the first
 * extra one. */
static int
srv_hold_posts(struct srv *s, int n, long ms)
{
	int64_t end = clock_ms() + ms;

	do {
		if (srv_posts(s) != n)
			return 0;
		usleep(10000);
	} while (clock_ms() < end);
	return srv_posts(s) == n;
}

static char *
srv_url(struct srv *s)
{
	char *u;

	if (asprintf(&u, "%s/-/reload", s->f.url) < 0)
		abort();
	return u;
}

static void
res_init(struct results *res)
{
	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&res->lock, NULL);
}

static void
res_record(void *ctx, enum fm_err kind, const char *error)
{
	struct results *res = ctx;

	pthread_mutex_lock(&res->lock);
	if (res->n < RES_MAX) {
		res->ok[res->n] = kind == FM_OK;
		res->kind[res->n] = kind;
		snprintf(res->error[res->n], ERR_MAX, "%s",
		    error != NULL ? error : "(null)");
	}
	res->n++;
	pthread_mutex_unlock(&res->lock);
}

static int
res_count(struct results *res)
{
	int n;

	pthread_mutex_lock(&res->lock);
	n = res->n;
	pthread_mutex_unlock(&res->lock);
	return n;
}

/* 1 once on_result ran at least n times, 0 if ms passed first. on_result
 * runs after the stats are booked, so they are settled then. */
static int
res_wait(struct results *res, int n, long ms)
{
	int64_t end = clock_ms() + ms;

	while (res_count(res) < n) {
		if (clock_ms() >= end)
			return 0;
		usleep(5000);
	}
	return 1;
}

/* A reloader posting to the given URL list, with a bound on the delay
 * (0: none); the test owns the result. */
static struct reloader *
http_reloader_max(const char *urls, long delay_ms, long max_delay_ms,
    struct results *res)
{
	struct reloader_hooks hooks = { NULL, res_record, res };
	char err[ERR_MAX];
	struct reloader *r;
	void *arg;

	arg = reload_http_new(urls, TEST_TIMEOUT_MS, err);
	ck_assert_msg(arg != NULL, "reload_http_new: %s", err);
	r = reloader_new(&reload_http_backend, arg, delay_ms, max_delay_ms,
	    &hooks, err);
	ck_assert_msg(r != NULL, "reloader_new: %s", err);
	return r;
}

static struct reloader *
http_reloader(const char *urls, long delay_ms, struct results *res)
{
	return http_reloader_max(urls, delay_ms, 0, res);
}

START_TEST(test_burst_one_reload)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *url;
	int i;

	srv_init(&s, 200);
	res_init(&res);
	url = srv_url(&s);
	/* ~0.5 s of triggers, each well inside the 1 s quiet time (a busy
	 * machine may stretch a 0.5 ms sleep to tens of ms, never to 1 s). */
	r = http_reloader(url, 1000, &res);
	for (i = 0; i < 1000; i++) {
		reloader_trigger(r);
		usleep(500);
	}
	ck_assert_int_eq(srv_wait_posts(&s, 1, 5000), 1);
	ck_assert_int_eq(res_wait(&res, 1, 5000), 1);
	ck_assert_int_eq(srv_hold_posts(&s, 1, 500), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.triggers, 1000);
	ck_assert_uint_eq(st.ok, 1);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_int_eq(st.last_success, 1);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_ne(st.last_time, 0);
	ck_assert_str_eq(st.last_error, "");
	ck_assert_int_eq(res.ok[0], 1);
	ck_assert_str_eq(res.error[0], "(null)");
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_two_bursts_two_reloads)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *url;
	int i;

	srv_init(&s, 200);
	res_init(&res);
	url = srv_url(&s);
	r = http_reloader(url, 100, &res);
	for (i = 0; i < 10; i++)
		reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 1, 3000), 1);
	ck_assert_int_eq(res_wait(&res, 1, 3000), 1);
	for (i = 0; i < 10; i++)
		reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 2, 3000), 1);
	ck_assert_int_eq(res_wait(&res, 2, 3000), 1);
	ck_assert_int_eq(srv_hold_posts(&s, 2, 300), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.triggers, 20);
	ck_assert_uint_eq(st.ok, 2);
	ck_assert_int_eq(st.pending, 0);
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

/* A change that lands while a reload is on the wire may have been missed
 * by it, so one more reload must follow. */
START_TEST(test_trigger_during_attempt)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *url;

	srv_init(&s, 200);
	s.delay_ms = 400;
	res_init(&res);
	url = srv_url(&s);
	r = http_reloader(url, 100, &res);
	reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 1, 3000), 1);
	reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 2, 3000), 1);
	ck_assert_int_eq(res_wait(&res, 2, 3000), 1);
	ck_assert_int_eq(srv_hold_posts(&s, 2, 300), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.ok, 2);
	ck_assert_int_eq(st.pending, 0);
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_500_retried_until_ok)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *url;

	srv_init(&s, 200);
	s.fail_left = 2;
	s.fail_status = 500;
	res_init(&res);
	url = srv_url(&s);
	r = http_reloader(url, 100, &res);
	reloader_trigger(r);
	/* Backoff 1 s then 2 s: the third attempt comes after ~3.1 s. */
	ck_assert_int_eq(res_wait(&res, 3, 6000), 1);
	ck_assert_int_eq(srv_hold_posts(&s, 3, 300), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.triggers, 1);
	ck_assert_uint_eq(st.failed, 2);
	ck_assert_uint_eq(st.ok, 1);
	ck_assert_int_eq(st.last_success, 1);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_int_eq(res_count(&res), 3);
	ck_assert_int_eq(res.ok[0], 0);
	ck_assert_int_eq(res.ok[1], 0);
	ck_assert_int_eq(res.ok[2], 1);
	/* 500 is Prometheus refusing the rules: a kind, not a text. */
	ck_assert_int_eq(res.kind[0], FM_REFUSED);
	ck_assert_int_eq(res.kind[2], FM_OK);
	ck_assert_msg(strstr(res.error[0], "answered 500: failed to reload "
	    "config: rule file broken") != NULL, "error: %s", res.error[0]);
	ck_assert_msg(strncmp(res.error[0], "POST ", 5) == 0 &&
	    strstr(res.error[0], url) != NULL, "error: %s", res.error[0]);
	/* Trimmed: no trailing newline from the body. */
	ck_assert_int_ne(res.error[0][strlen(res.error[0]) - 1], '\n');
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_refused_then_up)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	int port;
	char *url;

	/* Learn a free port, then leave nothing listening on it. */
	srv_init(&s, 200);
	port = s.f.port;
	url = srv_url(&s);
	srv_stop(&s);
	res_init(&res);
	r = http_reloader(url, 100, &res);
	reloader_trigger(r);
	ck_assert_int_eq(res_wait(&res, 1, 3000), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_int_eq(st.last_success, 0);
	ck_assert_int_eq(st.pending, 1);
	ck_assert_msg(strstr(st.last_error, ": connection refused") != NULL,
	    "last_error: %s", st.last_error);
	ck_assert_int_eq(res.kind[0], FM_RETRY);
	ck_assert_msg(strncmp(st.last_error, "POST http://127.0.0.1:", 22) == 0,
	    "last_error: %s", st.last_error);

	srv_start(&s, port);
	ck_assert_int_eq(srv_wait_posts(&s, 1, 5000), 1);
	ck_assert_int_eq(res_wait(&res, 2, 3000), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.ok, 1);
	ck_assert_int_eq(st.last_success, 1);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_str_eq(st.last_error, "");
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_403_not_retried)
{
	struct srv s;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *url;

	srv_init(&s, 403);
	res_init(&res);
	url = srv_url(&s);
	r = http_reloader(url, 100, &res);
	reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 1, 3000), 1);
	/* A retry would come after 1 s; give it 2.5 s to show up. */
	ck_assert_int_eq(srv_hold_posts(&s, 1, 2500), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.ok, 0);
	ck_assert_int_eq(st.last_success, 0);
	ck_assert_int_eq(st.pending, 0);
	ck_assert_msg(strstr(st.last_error,
	    "answered 403: Lifecycle API is not enabled.") != NULL,
	    "last_error: %s", st.last_error);
	ck_assert_int_eq(res_count(&res), 1);
	ck_assert_int_eq(res.ok[0], 0);
	ck_assert_int_eq(res.kind[0], FM_FATAL);

	/* The next change is tried again, once. */
	reloader_trigger(r);
	ck_assert_int_eq(srv_wait_posts(&s, 2, 3000), 1);
	ck_assert_int_eq(res_wait(&res, 2, 3000), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.failed, 2);
	ck_assert_int_eq(st.pending, 0);
	reloader_free(r);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_two_urls)
{
	struct srv a, b;
	struct results res;
	struct reloader_stats st;
	struct reloader *r;
	char *ua, *ub, *urls;

	srv_init(&a, 200);
	srv_init(&b, 200);
	res_init(&res);
	ua = srv_url(&a);
	ub = srv_url(&b);
	/* A space after the comma, as people write lists. */
	if (asprintf(&urls, "%s, %s", ua, ub) < 0)
		abort();
	r = http_reloader(urls, 100, &res);
	reloader_trigger(r);
	ck_assert_int_eq(res_wait(&res, 1, 3000), 1);
	ck_assert_int_eq(srv_posts(&a), 1);
	ck_assert_int_eq(srv_posts(&b), 1);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.ok, 1);
	reloader_free(r);
	free(urls);
	free(ub);
	free(ua);
	srv_release(&b);
	srv_release(&a);
}
END_TEST

/* One replica answering 500 fails the reload (it is retried) but the other
 * one still gets its POST. */
START_TEST(test_two_urls_one_down)
{
	struct srv a, b;
	struct results res;
	struct reloader *r;
	char *ua, *ub, *urls;

	srv_init(&a, 500);
	srv_init(&b, 200);
	res_init(&res);
	ua = srv_url(&a);
	ub = srv_url(&b);
	if (asprintf(&urls, "%s,%s", ua, ub) < 0)
		abort();
	r = http_reloader(urls, 100, &res);
	reloader_trigger(r);
	ck_assert_int_eq(res_wait(&res, 1, 3000), 1);
	ck_assert_int_eq(res.ok[0], 0);
	ck_assert_int_eq(res.kind[0], FM_REFUSED);
	ck_assert_int_eq(srv_posts(&b), 1);
	ck_assert_msg(strstr(res.error[0], ua) != NULL &&
	    strstr(res.error[0], ub) == NULL, "error: %s", res.error[0]);
	reloader_free(r);
	free(urls);
	free(ub);
	free(ua);
	srv_release(&b);
	srv_release(&a);
}
END_TEST

START_TEST(test_http_new_refuses)
{
	static const char *const bad[] = {
		"", "  ", "ftp://x", "http://", "https:///-/reload",
		"http://a,,http://b", "http://a,", "http://a b", "127.0.0.1:9090",
	};
	char err[ERR_MAX];
	void *arg;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		arg = reload_http_new(bad[i], TEST_TIMEOUT_MS, err);
		ck_assert_msg(arg == NULL, "accepted \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no error for \"%s\"", bad[i]);
	}
	ck_assert_ptr_null(reload_http_new(NULL, TEST_TIMEOUT_MS, err));
	ck_assert_ptr_null(reload_http_new("ftp://x", TEST_TIMEOUT_MS, err));
	ck_assert_msg(strstr(err, "\"ftp://x\"") != NULL, "err: %s", err);
	ck_assert_ptr_null(reload_http_new("http://127.0.0.1:9090/-/reload", 0,
	    err));
	ck_assert_msg(strstr(err, "timeout") != NULL, "err: %s", err);

	arg = reload_http_new("http://127.0.0.1:9090/-/reload,"
	    "HTTPS://prometheus:9090/-/reload", TEST_TIMEOUT_MS, err);
	ck_assert_msg(arg != NULL, "refused: %s", err);
	reload_http_backend.free(arg);
	reload_http_backend.free(NULL);
}
END_TEST

/* A Prometheus still loading its rules when --reload-timeout runs out:
 * the attempt ends as a retry whose message names the option (with the
 * old fixed 30 s it would have waited for the 200 that comes 4 s in). */
START_TEST(test_reload_timeout)
{
	struct srv s;
	char err[ERR_MAX], *url;
	void *arg;

	srv_init(&s, 200);
	s.delay_ms = 4000;
	url = srv_url(&s);
	arg = reload_http_new(url, 1000, err);
	ck_assert_msg(arg != NULL, "reload_http_new: %s", err);
	ck_assert_int_eq(reload_http_backend.reload(arg, err), FM_RETRY);
	ck_assert_msg(strstr(err, "no answer within --reload-timeout (1s)") !=
	    NULL, "err: %s", err);
	reload_http_backend.free(arg);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_null_backend)
{
	char err[ERR_MAX];
	struct reloader_stats st;
	struct results res;
	struct reloader *r;
	int i;

	struct reloader_hooks hooks = { NULL, res_record, &res };

	res_init(&res);
	r = reloader_new(NULL, NULL, 50, 0, &hooks, err);
	ck_assert_msg(r != NULL, "reloader_new: %s", err);
	for (i = 0; i < 5; i++)
		reloader_trigger(r);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.triggers, 5);
	ck_assert_int_eq(st.pending, 0);
	/* Past the quiet time, still nothing was attempted. */
	usleep(150 * 1000);
	reloader_stats(r, &st);
	ck_assert_uint_eq(st.triggers, 5);
	ck_assert_uint_eq(st.ok, 0);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_int_eq(st.last_success, 1);
	ck_assert_int_eq(st.last_time, 0);
	ck_assert_int_eq(res_count(&res), 0);
	reloader_free(r);
	reloader_free(NULL);
}
END_TEST

START_TEST(test_free_during_backoff)
{
	struct srv s;
	struct results res;
	struct reloader *r;
	int64_t t0, took;
	char *url;

	srv_init(&s, 200);
	url = srv_url(&s);
	srv_stop(&s);
	res_init(&res);
	r = http_reloader(url, 50, &res);
	reloader_trigger(r);
	ck_assert_int_eq(res_wait(&res, 1, 3000), 1);
	/* Now in the 1 s backoff: freeing does not wait it out (half of it
	 * is room for a busy machine; waiting would take the rest). */
	usleep(50 * 1000);
	t0 = clock_ms();
	reloader_free(r);
	took = clock_ms() - t0;
	ck_assert_msg(took < 500, "reloader_free took %lld ms",
	    (long long)took);
	ck_assert_int_eq(res_count(&res), 1);
	free(url);
	srv_release(&s);
}
END_TEST

START_TEST(test_new_refuses_negative_delay)
{
	char err[ERR_MAX];
	void *arg;

	arg = reload_http_new("http://127.0.0.1:1/-/reload",
	    TEST_TIMEOUT_MS, err);
	ck_assert_ptr_nonnull(arg);
	/* Takes arg even on failure: ASan would report it leaked. */
	ck_assert_ptr_null(reloader_new(&reload_http_backend, arg, -1, 0,
	    NULL, err));
	ck_assert_msg(strstr(err, "negative") != NULL, "err: %s", err);
}
END_TEST

/* Triggers every 20 ms keep restarting a 500 ms quiet time; the bound of
 * 1 s still brings a reload while they keep coming, and one more after
 * the stream ends. Without the bound, none comes during the stream. The
 * quiet time is 25 triggers long, so a busy machine's late wake-ups do
 * not end it. */
START_TEST(test_max_delay_bounds_a_stream)
{
	struct srv s;
	struct results res;
	struct reloader *r;
	int64_t t0, first = 0;
	char *url;
	int bounded;

	for (bounded = 1; bounded >= 0; bounded--) {
		srv_init(&s, 200);
		res_init(&res);
		url = srv_url(&s);
		r = http_reloader_max(url, 500, bounded ? 1000 : 0, &res);
		t0 = clock_ms();
		while (clock_ms() - t0 < 2500) {
			reloader_trigger(r);
			if (first == 0 && srv_posts(&s) > 0)
				first = clock_ms() - t0;
			usleep(20 * 1000);
		}
		if (bounded) {
			/* Within the bound (and a scheduling margin), and
			 * again at each bound while the stream lasted. */
			ck_assert_msg(first > 0 && first < 1000 + 500,
			    "first reload after %lld ms", (long long)first);
			ck_assert_int_ge(srv_posts(&s), 2);
		} else
			ck_assert_int_eq(srv_posts(&s), 0);
		/* The stream's end: quiet for the delay, one more reload. */
		ck_assert_int_eq(res_wait(&res, 1, 5000), 1);
		ck_assert_int_eq(srv_wait_posts(&s, bounded ? 3 : 1, 5000), 1);
		reloader_free(r);
		free(url);
		srv_release(&s);
		first = 0;
	}
}
END_TEST

static Suite *
reloader_suite(void)
{
	Suite *s = suite_create("reloader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 15);
	tcase_add_test(tc, test_burst_one_reload);
	tcase_add_test(tc, test_two_bursts_two_reloads);
	tcase_add_test(tc, test_trigger_during_attempt);
	tcase_add_test(tc, test_500_retried_until_ok);
	tcase_add_test(tc, test_refused_then_up);
	tcase_add_test(tc, test_403_not_retried);
	tcase_add_test(tc, test_two_urls);
	tcase_add_test(tc, test_two_urls_one_down);
	tcase_add_test(tc, test_http_new_refuses);
	tcase_add_test(tc, test_reload_timeout);
	tcase_add_test(tc, test_null_backend);
	tcase_add_test(tc, test_free_during_backoff);
	tcase_add_test(tc, test_new_refuses_negative_delay);
	tcase_add_test(tc, test_max_delay_bounds_a_stream);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* A proxy from the environment must not carry loopback posts. */
	setenv("no_proxy", "127.0.0.1", 1);
	setenv("NO_PROXY", "127.0.0.1", 1);
	return tu_run_curl(reloader_suite());
}
