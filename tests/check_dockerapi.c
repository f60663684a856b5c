/* check_dockerapi.c: the Docker Engine API client (dockerapi.c) against a
 * fake engine on a unix socket in a temp dir: GETs of JSON and what counts
 * as an answer, the /events stream cut into lines, the stop flag, the
 * request paths, and --docker-host never quoted with its password. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "dockerapi.h"
#include "fixture.h"

/* One canned answer per connection, written one write(2) per chunk; the
 * server closes after it, unless hold is set: then it waits for the
 * client to go. */
struct canned {
	const char	*chunks[4];
	int		 hold;
};

static char *dir, *sock, *url;
static struct fakehttp fake;
static struct canned fk;

static void
serve(void *arg, int fd, const struct fh_request *rq)
{
	struct canned *c = arg;
	char buf[4096];
	int i;

	(void)rq;
	for (i = 0; i < 4 && c->chunks[i] != NULL; i++)
		fh_write(fd, c->chunks[i], strlen(c->chunks[i]));
	while (c->hold && read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
setup(void)
{
	dir = tu_tmpdir();
	ck_assert_int_ge(asprintf(&sock, "%s/docker.sock", dir), 0);
	ck_assert_int_ge(asprintf(&url, "unix://%s", sock), 0);
	memset(&fk, 0, sizeof(fk));
	fh_start_unix(&fake, sock, serve, &fk);
}

static void
teardown(void)
{
	fh_stop(&fake);
	tu_rmrf(dir);
	free(dir);
	free(sock);
	free(url);
}

static struct dockerapi *
client(const int *stop)
{
	struct dockerapi *api;
	char err[ERR_MAX] = "";

	api = dockerapi_new(url, stop, err);
	ck_assert_msg(api != NULL, "%s", err);
	return api;
}

#define OK_JSON(body) \
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"Connection: close\r\n\r\n" body

START_TEST(get_json_answers)
{
	static int stop;
	struct dockerapi *api = client(&stop);
	cJSON *j;
	long code;

	ck_assert_str_eq(dockerapi_shown(api), sock);
	fk.chunks[0] = OK_JSON("{\"ID\":\"abc\"}");
	ck_assert_int_eq(dockerapi_get_json(api, "/services/abc", &j, &code),
	    0);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(fake.last, "GET /services/abc HTTP/1.1");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "ID")->valuestring, "abc");
	cJSON_Delete(j);

	/* Docker's own 404 is an answer: the service is gone. */
	fk.chunks[0] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n"
	    "{\"message\":\"service abc not found\"}";
	ck_assert_int_eq(dockerapi_get_json(api, "/services/abc", &j, &code),
	    0);
	ck_assert_int_eq(code, 404);
	cJSON_Delete(j);

	/* Not answers: an error status, a 404 without Docker's body (a
	 * proxy's), a 200 that is not JSON. */
	fk.chunks[0] = "HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n"
	    "{\"message\":\"daemon busy\"}";
	ck_assert_int_eq(dockerapi_get_json(api, "/x", &j, &code), -1);
	ck_assert_ptr_null(j);
	fk.chunks[0] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n"
	    "not here";
	ck_assert_int_eq(dockerapi_get_json(api, "/x", &j, &code), -1);
	fk.chunks[0] = OK_JSON("[1, 2");
	ck_assert_int_eq(dockerapi_get_json(api, "/x", &j, &code), -1);
	ck_assert_ptr_null(j);

	/* A list must be an array. */
	fk.chunks[0] = OK_JSON("{\"a\":1}");
	ck_assert_int_eq(dockerapi_get_list(api, "/nodes", &j), -1);
	ck_assert_ptr_null(j);
	fk.chunks[0] = OK_JSON("[{\"ID\":\"n1\"},{\"ID\":\"n2\"}]");
	ck_assert_int_eq(dockerapi_get_list(api, "/nodes", &j), 0);
	ck_assert_int_eq(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	ck_assert_int_eq(dockerapi_get_list(api, NULL, &j), -1);
	dockerapi_free(api);
}
END_TEST

/* An answer is counted before it is parsed: a list of more elements, or
 * more JSON values in all, than flowmon reads is refused (a cJSON tree is
 * some 40 times its text), strings counted as one value whatever they
 * hold; and a 10 MB junk list is refused without being parsed. */
START_TEST(answers_bounded)
{
	static int stop;
	struct dockerapi *api;
	char err[ERR_MAX], *big, *head;
	size_t i, n;
	cJSON *j;
	long code;

	/* DOCKER_ELEMENTS_MAX zeros, then one more. */
	n = 2 * DOCKER_ELEMENTS_MAX + 2;
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	big[0] = '[';
	for (i = 0; i < DOCKER_ELEMENTS_MAX; i++) {
		big[1 + 2 * i] = '0';
		big[2 + 2 * i] = ',';
	}
	big[2 * DOCKER_ELEMENTS_MAX] = ']';
	big[2 * DOCKER_ELEMENTS_MAX + 1] = '\0';
	ck_assert_int_eq(dockerapi_too_big(big, strlen(big), "/x", err), 0);
	big[2 * DOCKER_ELEMENTS_MAX] = ',';
	big[2 * DOCKER_ELEMENTS_MAX + 1] = '0';
	big[2 * DOCKER_ELEMENTS_MAX + 2] = ']';
	big[n] = '\0';
	ck_assert_int_eq(dockerapi_too_big(big, n, "/x", err), 1);
	ck_assert_msg(strstr(err, "100001 elements") != NULL, "%s", err);
	free(big);
	/* Commas and brackets inside strings are not values. */
	ck_assert_int_eq(dockerapi_too_big("[\"a,b,[c]\\\",d\"]", 15, "/x",
	    err), 0);
	/* Few elements, too many values: one object of 2,000,001 keys. */
	n = 6 * (DOCKER_VALUES_MAX / 2 + 1) + 3;
	ck_assert_ptr_nonnull(big = malloc(n + 1));
	head = big;
	*head++ = '[';
	*head++ = '{';
	for (i = 0; i < DOCKER_VALUES_MAX / 2 + 1; i++) {
		memcpy(head, "\"a\":0,", 6);
		head += 6;
	}
	head[-1] = '}';
	*head++ = ']';
	*head = '\0';
	ck_assert_int_eq(dockerapi_too_big(big, strlen(big), "/x", err), 1);
	ck_assert_msg(strstr(err, "JSON values") != NULL, "%s", err);
	free(big);

	/* Through a GET: refused, not parsed. */
	api = client(&stop);
	n = 10 << 20;
	ck_assert_ptr_nonnull(big = malloc(n + 200));
	i = (size_t)snprintf(big, 200, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: "
	    "close\r\n\r\n[", n);
	memset(big + i, '0', n - 1);
	for (size_t k = i + 1; k < i + n - 1; k += 2)
		big[k] = ',';
	big[i + n - 2] = '0';
	big[i + n - 1] = ']';
	big[i + n] = '\0';
	fk.chunks[0] = big;
	ck_assert_int_eq(dockerapi_get_list(api, "/services", &j), -1);
	ck_assert_ptr_null(j);
	fk.chunks[0] = OK_JSON("[]");
	ck_assert_int_eq(dockerapi_get_json(api, "/services", &j, &code), 0);
	cJSON_Delete(j);
	dockerapi_free(api);
	free(big);
}
END_TEST

START_TEST(no_engine_is_no_answer)
{
	static int stop;
	struct dockerapi *api;
	char err[ERR_MAX], *gone;
	cJSON *j;
	long code;

	ck_assert_int_ge(asprintf(&gone, "unix://%s/absent.sock", dir), 0);
	api = dockerapi_new(gone, &stop, err);
	ck_assert_ptr_nonnull(api);
	ck_assert_int_eq(dockerapi_get_json(api, "/nodes", &j, &code), -1);
	ck_assert_ptr_null(j);
	err[0] = '\0';
	ck_assert_int_eq(dockerapi_events(api, "/events", NULL, NULL, NULL,
	    err), 0);
	ck_assert_msg(strncmp(err, "GET /events: ", 13) == 0, "%s", err);
	dockerapi_free(api);
	free(gone);
}
END_TEST

/* What the stream callbacks saw. */
struct seen {
	char	 lines[8][64];
	size_t	 lens[8];
	int	 n;
	int	 opened;
	int	*stop;		/* set on open when not NULL */
};

static void
on_line(void *arg, const char *line, size_t len)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 8);
	ck_assert_int_eq(s->opened, 1);
	s->lens[s->n] = len;
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%.*s",
	    len < 63 ? (int)len : 63, line);
}

static void
on_open(void *arg)
{
	struct seen *s = arg;

	s->opened++;
	if (s->stop != NULL)
		__atomic_store_n(s->stop, 1, __ATOMIC_RELAXED);
}

START_TEST(events_cut_into_lines)
{
	static int stop;
	struct dockerapi *api = client(&stop);
	struct seen s;
	char err[ERR_MAX], *big;
	size_t n = (1u << 20) + 10;

	/* A line over 1 MiB is skipped whole, the next one is read. */
	big = malloc(n + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	memset(&s, 0, sizeof(s));
	fk.chunks[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\n\r\n{\"a\":1}\n\n{\"b\"";
	fk.chunks[1] = ":2}\n";
	fk.chunks[2] = big;
	fk.chunks[3] = "{\"c\":3}\n{\"no newline\"";
	ck_assert_int_eq(dockerapi_events(api, "/events?filters=x", on_line,
	    on_open, &s, err), 1);
	ck_assert_str_eq(fake.last, "GET /events?filters=x HTTP/1.1");
	ck_assert_str_eq(err, "GET /events: the stream ended");
	ck_assert_int_eq(s.opened, 1);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.lines[0], "{\"a\":1}");
	ck_assert_str_eq(s.lines[1], "{\"b\":2}");
	ck_assert_str_eq(s.lines[2], "{\"c\":3}");
	ck_assert_uint_eq(s.lens[2], 7);

	/* An error status: never open, its body is no event. */
	memset(&s, 0, sizeof(s));
	memset(fk.chunks, 0, sizeof(fk.chunks));
	fk.chunks[0] = "HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n"
	    "{\"message\":\"x\"}\n";
	ck_assert_int_eq(dockerapi_events(api, "/events", on_line, on_open,
	    &s, err), 0);
	ck_assert_str_eq(err, "GET /events answered 500");
	ck_assert_int_eq(s.opened, 0);
	ck_assert_int_eq(s.n, 0);
	dockerapi_free(api);
	free(big);
}
END_TEST

START_TEST(stop_ends_a_held_stream)
{
	static int stop;
	struct dockerapi *api = client(&stop);
	struct seen s;
	char err[ERR_MAX];

	/* The engine keeps the stream open; stopping (here as soon as it
	 * opens) ends it within libcurl's progress period. */
	memset(&s, 0, sizeof(s));
	s.stop = &stop;
	fk.hold = 1;
	fk.chunks[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "\r\n{\"a\":1}\n";
	ck_assert_int_eq(dockerapi_events(api, "/events", on_line, on_open,
	    &s, err), 1);
	ck_assert_int_eq(s.opened, 1);
	ck_assert_ptr_nonnull(strstr(err, "GET /events: "));
	ck_assert_str_ne(err, "GET /events: the stream ended");
	dockerapi_free(api);
	stop = 0;
}
END_TEST

START_TEST(paths_and_filters)
{
	char *p;

	p = dockerapi_filtered("/tasks", dockerapi_filter("service", "a b",
	    "desired-state", "running"));
	ck_assert_str_eq(p, "/tasks?filters=%7B%22service%22%3A%5B%22a%20b%22"
	    "%5D%2C%22desired-state%22%3A%5B%22running%22%5D%7D");
	free(p);
	p = dockerapi_filtered("/services", dockerapi_filter("label",
	    "com.df.notify", NULL, NULL));
	ck_assert_str_eq(p, "/services?filters=%7B%22label%22%3A%5B%22com.df."
	    "notify%22%5D%7D");
	free(p);
	ck_assert_ptr_null(dockerapi_filtered("/x", NULL));
	p = dockerapi_path("/services/", "a/b c?");
	ck_assert_str_eq(p, "/services/a%2Fb%20c%3F");
	free(p);
}
END_TEST

START_TEST(host_never_quoted_with_its_password)
{
	static const char *const bad[] = {
		"tcp://admin:s3cret@127.0.0.1:2375",
		"http://admin:s3cret@127.0.0.1:2375/",
		"tcp://admin:s3 cret@127.0.0.1:2375",
		"tcp://admin:s3cret\n@127.0.0.1:2375",
	};
	static int stop;
	char err[ERR_MAX], *base, *sk;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(docker_host_parse(bad[i], &base, &sk, err),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "--docker-host"));
		ck_assert_msg(strstr(err, "s3") == NULL, "%s", err);
		ck_assert_ptr_null(dockerapi_new(bad[i], &stop, err));
		ck_assert_msg(strstr(err, "s3") == NULL, "%s", err);
	}
	ck_assert_int_eq(docker_host_parse(bad[0], &base, &sk, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "tcp://admin:***@127.0.0.1:2375"));
}
END_TEST

START_TEST(config_never_quotes_the_password)
{
	char a0[] = "flowmon", a1[] = "--docker-host",
	    a2[] = "https://admin:s3cret@127.0.0.1:2376";
	char *argv[] = { a0, a1, a2, NULL };
	struct config c;
	char err[ERR_MAX] = "";

	ck_assert_int_eq(config_parse(&c, CONFIG_DAEMON, 3, argv, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "--docker-host"));
	ck_assert_msg(strstr(err, "s3cret") == NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "admin:***@"));
	config_release(&c);
}
END_TEST

static Suite *
dockerapi_suite(void)
{
	Suite *s = suite_create("dockerapi");
	TCase *tc;

	tc = tcase_create("engine");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, get_json_answers);
	tcase_add_test(tc, answers_bounded);
	tcase_add_test(tc, no_engine_is_no_answer);
	tcase_add_test(tc, events_cut_into_lines);
	tcase_add_test(tc, stop_ends_a_held_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("pure");
	tcase_add_test(tc, paths_and_filters);
	tcase_add_test(tc, host_never_quoted_with_its_password);
	tcase_add_test(tc, config_never_quotes_the_password);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(dockerapi_suite());
}
