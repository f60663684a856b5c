/* check_httpbody.c: the libcurl handle of every flowmon client and the
 * bounded answer (httpbody.h), against the shared fake server: an answer
 * collected whole, one past the bound cut, a stop flag that aborts a
 * transfer the server holds open, the protocols allowed. */
#include <check.h>
#include <curl/curl.h>
#include <unistd.h>

#include "fixture.h"
#include "httpbody.h"
#include "worker.h"

/* Answers with the body the test set; "hold" sends headers, then waits
 * for the client to go. */
static const char *answer;

static void
serve(void *arg, int fd, const struct fh_request *rq)
{
	char buf[256];

	(void)arg;
	if (strcmp(rq->path, "/hold") == 0) {
		fh_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nx",
		    41);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		return;
	}
	fh_reply(fd, strcmp(rq->path, "/missing") == 0 ? 404 : 200,
	    "application/json", answer);
}

static CURLcode
get(struct fakehttp *f, const char *path, struct httpbody *b, long *status,
    const int *stop, char *errbuf)
{
	char url[128];
	CURLcode cc;
	CURL *c;

	snprintf(url, sizeof(url), "%s%s", f->url, path);
	ck_assert_ptr_nonnull(c = httpbody_easy("http", 2000, 20000, stop,
	    errbuf));
	curl_easy_setopt(c, CURLOPT_URL, url);
	cc = httpbody_perform(c, b, status);
	curl_easy_cleanup(c);
	return cc;
}

START_TEST(test_answer_whole)
{
	struct fakehttp f;
	struct httpbody b = { BUF_INIT, 1 << 20, 0 };
	long status;

	answer = "{\"ok\": true}";
	fh_start(&f, serve, NULL);
	ck_assert_int_eq(get(&f, "/x", &b, &status, NULL, NULL), CURLE_OK);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(b.body.p, answer);
	ck_assert_int_eq(b.too_big, 0);
	/* Counted once the server closed the connection. */
	FX_WAIT(fh_served(&f) == 1, 5000, "served %d", fh_served(&f));
	ck_assert_str_eq(f.last, "GET /x HTTP/1.1");
	buf_release(&b.body);
	ck_assert_int_eq(get(&f, "/missing", &b, &status, NULL, NULL),
	    CURLE_OK);
	ck_assert_int_eq(status, 404);
	buf_release(&b.body);
	fh_stop(&f);
}
END_TEST

START_TEST(test_bound)
{
	static char big[5000];
	struct fakehttp f;
	struct httpbody b = { BUF_INIT, 4096, 0 };
	long status;

	memset(big, 'a', sizeof(big) - 1);
	answer = big;
	fh_start(&f, serve, NULL);
	ck_assert_int_ne(get(&f, "/big", &b, &status, NULL, NULL), CURLE_OK);
	ck_assert_int_eq(b.too_big, 1);
	ck_assert_uint_le(b.body.len, 4096);
	buf_release(&b.body);
	fh_stop(&f);
}
END_TEST

/* Cancels w after a moment, while the transfer hangs. */
static void *
cancel_later(void *arg)
{
	usleep(50000);
	worker_cancel(arg);
	return NULL;
}

START_TEST(test_stop_aborts)
{
	struct fakehttp f;
	struct httpbody b = { BUF_INIT, 1 << 20, 0 };
	struct worker w;
	pthread_t t;
	char err[ERR_MAX], cerr[CURL_ERROR_SIZE];
	long status;
	int64_t t0;

	fh_start(&f, serve, NULL);
	ck_assert_int_eq(worker_init(&w, err), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &w), 0);
	t0 = clock_ms();
	/* The server holds the answer for ever; the stop ends it, long
	 * before the 20 s total. */
	ck_assert_int_eq(get(&f, "/hold", &b, &status, worker_stop_flag(&w),
	    cerr), CURLE_ABORTED_BY_CALLBACK);
	ck_assert_int_lt(clock_since(t0), 10000);
	ck_assert_str_ne(cerr, "");
	pthread_join(t, NULL);
	buf_release(&b.body);
	worker_release(&w);
	fh_stop(&f);
}
END_TEST

START_TEST(test_protocols)
{
	struct httpbody b = { BUF_INIT, 1 << 20, 0 };
	char cerr[CURL_ERROR_SIZE];
	long status;
	CURL *c;

	ck_assert_ptr_nonnull(c = httpbody_easy("http", 1000, 1000, NULL,
	    cerr));
	curl_easy_setopt(c, CURLOPT_URL, "file:///etc/passwd");
	ck_assert_int_eq(httpbody_perform(c, &b, &status),
	    CURLE_UNSUPPORTED_PROTOCOL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_null(b.body.p);
	curl_easy_cleanup(c);
}
END_TEST

static Suite *
httpbody_suite(void)
{
	Suite *s = suite_create("httpbody");
	TCase *tc = tcase_create("client");

	tcase_add_test(tc, test_answer_whole);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_stop_aborts);
	tcase_add_test(tc, test_protocols);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(httpbody_suite());
}
