/* check_promapi.c: --prometheus-url: the API base derived from a reload
 * URL, the URL list checked, and the snapshot fetched from fake servers
 * (tests/fixture.h) playing Prometheus, vmagent and vmalert with the
 * answers recorded in tests/golden/: cached, put together from several
 * servers, and a failure said, never fatal. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fixture.h"
#include "promapi.h"

#define GOLDEN	"tests/golden/"

static const struct {
	const char	*reload;
	const char	*want;		/* NULL: refused */
} derived[] = {
	{ "http://prometheus:9090/-/reload", "http://prometheus:9090" },
	{ "http://127.0.0.1:9090/-/reload/", "http://127.0.0.1:9090" },
	{ "https://u:p%40ss@h:8443/prom/-/reload?x=1#f",
	  "https://u:p%40ss@h:8443/prom" },
	{ "http://a:1/-/reload,http://b:2/-/reload", "http://a:1" },
	{ "http://vmalert:8880", "http://vmalert:8880" },
	{ "HTTP://H/x/", "http://H/x" },
	{ "ftp://h/-/reload", NULL },
	{ "unix:///var/run/x.sock", NULL },
	{ "not a url", NULL },
	{ "", NULL },
};

START_TEST(test_derived)
{
	char err[ERR_MAX] = "", *u;

	u = promapi_url_from_reload(derived[_i].reload, err);
	if (derived[_i].want == NULL) {
		ck_assert_msg(u == NULL, "%s gave %s", derived[_i].reload, u);
		ck_assert_ptr_nonnull(strstr(err, "--reload-url"));
		return;
	}
	ck_assert_msg(u != NULL, "%s: %s", derived[_i].reload, err);
	ck_assert_str_eq(u, derived[_i].want);
	free(u);
}
END_TEST

START_TEST(test_list)
{
	char err[ERR_MAX];
	struct promapi *p;

	ck_assert_ptr_null(promapi_new("", NULL, NULL, err));
	ck_assert_ptr_nonnull(strstr(err, "no URL"));
	ck_assert_ptr_null(promapi_new("http://a:1, ftp://u:secret@b", NULL,
	    NULL, err));
	ck_assert_ptr_nonnull(strstr(err, "--prometheus-url"));
	ck_assert_ptr_null(strstr(err, "secret"));
	ck_assert_ptr_null(promapi_new("http://a:1", "http://a:1/-/reload",
	    "/nonexistent/auth", err));
	ck_assert_ptr_nonnull(strstr(err, "--reload-auth-file"));
	ck_assert_ptr_nonnull(p = promapi_new("http://a:1, http://u:secret@b",
	    NULL, NULL, err));
	ck_assert_str_eq(promapi_shown(p), "http://a:1, http://u:***@b");
	promapi_free(p);
	promapi_free(NULL);
}
END_TEST

/* What a fake server answers: the recorded file for a path, or status. */
struct fake {
	const char	*targets;	/* file, or NULL: answer status */
	const char	*rules;
	int		 status;
};

static void
serve(void *arg, int fd, const struct fh_request *rq)
{
	const struct fake *f = arg;
	const char *file = strncmp(rq->path, "/api/v1/targets?state=active",
	    28) == 0 ? f->targets : strncmp(rq->path,
	    "/api/v1/rules?type=alert", 24) == 0 ? f->rules : NULL;
	char *body;

	if (file == NULL) {
		fh_reply(fd, f->status, "text/html", "<html>no</html>");
		return;
	}
	ck_assert_ptr_nonnull(body = tu_slurp(file));
	fh_reply(fd, 200, "application/json", body);
	free(body);
}

START_TEST(test_prometheus)
{
	struct fake f = { GOLDEN "prometheus-targets.json",
	    GOLDEN "prometheus-rules.json", 404 };
	struct promstate *ps, *again;
	struct promstate_target *const *v;
	struct fakehttp srv;
	struct promapi *p;
	char err[ERR_MAX];
	int served;

	fh_start(&srv, serve, &f);
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(ps->reachable);
	ck_assert(ps->have_targets && ps->have_rules);
	ck_assert_str_eq(ps->error, "");
	ck_assert_uint_eq(promstate_targets(ps, "web.json", "web", &v), 2);
	ck_assert_ptr_nonnull(promstate_group(ps, "api"));
	/* Within PROMAPI_TTL_MS: the same snapshot, nothing asked. */
	served = fh_served(&srv);
	ck_assert_int_eq(served, 2);
	ck_assert_ptr_eq(again = promapi_state(p), ps);
	ck_assert_int_eq(fh_served(&srv), served);
	promstate_put(again);
	promstate_put(ps);
	promapi_free(p);
	fh_stop(&srv);
}
END_TEST

/* vmagent answers the targets and not the rules, vmalert the reverse:
 * together, both answers, and no error. */
START_TEST(test_put_together)
{
	struct fake agent = { GOLDEN "vmagent-targets.json", NULL, 400 };
	struct fake alert = { NULL, GOLDEN "vmalert-rules.json", 404 };
	struct fakehttp a, b;
	struct promstate *ps;
	struct promapi *p;
	char err[ERR_MAX], urls[256];

	fh_start(&a, serve, &agent);
	fh_start(&b, serve, &alert);
	snprintf(urls, sizeof(urls), "%s,%s", a.url, b.url);
	ck_assert_ptr_nonnull(p = promapi_new(urls, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(ps->reachable && ps->have_targets && ps->have_rules);
	ck_assert_str_eq(ps->error, "");
	ck_assert_uint_eq(ps->ntargets, 3);
	ck_assert_uint_eq(ps->ngroups, 2);
	promstate_put(ps);
	promapi_free(p);
	/* vmalert alone: the rules, and why no targets. */
	ck_assert_ptr_nonnull(p = promapi_new(b.url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(ps->reachable && !ps->have_targets && ps->have_rules);
	ck_assert_msg(strstr(ps->error, "/api/v1/targets?state=active "
	    "answered 404") != NULL, "%s", ps->error);
	promstate_put(ps);
	promapi_free(p);
	fh_stop(&a);
	fh_stop(&b);
}
END_TEST

/* Nobody listens: a snapshot that says so. */
START_TEST(test_unreachable)
{
	struct fake f = { NULL, NULL, 500 };
	struct fakehttp srv;
	struct promstate *ps;
	struct promapi *p;
	char err[ERR_MAX], url[64];

	fh_start(&srv, serve, &f);
	snprintf(url, sizeof(url), "%s", srv.url);
	fh_stop(&srv);
	ck_assert_ptr_nonnull(p = promapi_new(url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(!ps->reachable && !ps->have_targets && !ps->have_rules);
	ck_assert_msg(strstr(ps->error, "couldn't connect") != NULL, "%s",
	    ps->error);
	ck_assert_uint_eq(promstate_targets(ps, "web.json", "web",
	    &(struct promstate_target *const *){ NULL }), 0);
	promstate_put(ps);
	promapi_free(p);
}
END_TEST

/* A server that takes connections and never answers (a hung
 * Prometheus): the targets and the rules are asked at once, so the
 * snapshot comes within one PROMAPI_TIMEOUT_MS, not two (it was 6 s). The
 * kernel completes the connections of a listening socket nobody
 * accepts. */
START_TEST(test_hung)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct promstate *ps;
	struct promapi *p;
	char err[ERR_MAX], url[64];
	int64_t t0, took;
	int fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	ck_assert_ptr_nonnull(p = promapi_new(url, NULL, NULL, err));
	t0 = clock_ms();
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	took = clock_ms() - t0;
	/* A bound of its own, not a speed: the two asks overlap or not. */
	ck_assert_msg(took >= PROMAPI_TIMEOUT_MS - 100 && took <
	    PROMAPI_TIMEOUT_MS + 1500, "took %lld ms", (long long)took);
	ck_assert(!ps->reachable && !ps->have_targets && !ps->have_rules);
	ck_assert_msg(strstr(ps->error, "targets?state=active: timeout") !=
	    NULL && strstr(ps->error, "rules?type=alert: timeout") != NULL,
	    "%s", ps->error);
	promstate_put(ps);
	promapi_free(p);
	close(fd);
}
END_TEST

/* What a fake behind basic auth answers: 401 without its credentials. */
struct guarded {
	const char	*userpwd;	/* base64 of user:password */
	char		 seen[256];	/* the last Authorization header */
};

static void
serve_guarded(void *arg, int fd, const struct fh_request *rq)
{
	struct guarded *g = arg;
	const char *h = strcasestr(rq->head, "\r\nAuthorization: ");
	char want[300];
	struct fake f = { GOLDEN "prometheus-targets.json",
	    GOLDEN "prometheus-rules.json", 404 };

	snprintf(g->seen, sizeof(g->seen), "%.*s", h ? (int)strcspn(h + 2,
	    "\r") : 0, h ? h + 2 : "");
	snprintf(want, sizeof(want), "Authorization: Basic %s", g->userpwd);
	if (strcmp(g->seen, want) != 0) {
		fh_reply(fd, 401, NULL, "Unauthorized\n");
		return;
	}
	serve(&f, fd, rq);
}

/* Prometheus behind basic auth: a 401 is no answer (reachable false, the
 * error says 401 and where credentials go); the reload credentials go to
 * the reload URL's server, and to no other. */
START_TEST(test_auth)
{
	struct guarded g = { "cHJvbTpzM2NyM3Q=", "" };	/* prom:s3cr3t */
	struct fakehttp srv;
	struct promstate *ps;
	struct promapi *p;
	char err[ERR_MAX], url[128], reload[128], *dir, file[256];

	dir = tu_tmpdir();
	snprintf(file, sizeof(file), "%s/auth", dir);
	tu_spit(file, "prom:s3cr3t\n");
	fh_start(&srv, serve_guarded, &g);
	/* No credentials at all. */
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(!ps->reachable && !ps->have_targets && !ps->have_rules);
	ck_assert_msg(strstr(ps->error, "/api/v1/targets?state=active "
	    "answered 401 (credentials: ") != NULL && strstr(ps->error,
	    "/api/v1/rules?type=alert answered 401") != NULL, "%s",
	    ps->error);
	promstate_put(ps);
	promapi_free(p);
	/* The reload URL's server, with --reload-auth-file. */
	snprintf(reload, sizeof(reload), "%s/-/reload", srv.url);
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, reload, file, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert_msg(ps->reachable && ps->have_targets && ps->have_rules,
	    "%s", ps->error);
	ck_assert_str_eq(ps->error, "");
	promstate_put(ps);
	promapi_free(p);
	/* Another server (localhost is not 127.0.0.1): none sent. */
	snprintf(reload, sizeof(reload), "http://localhost:%d/-/reload",
	    srv.port);
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, reload, file, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(!ps->reachable);
	ck_assert_str_eq(g.seen, "");
	promstate_put(ps);
	promapi_free(p);
	/* Its own user:password: those. */
	snprintf(url, sizeof(url), "http://prom:s3cr3t@127.0.0.1:%d",
	    srv.port);
	ck_assert_ptr_nonnull(p = promapi_new(url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert_msg(ps->reachable && ps->have_rules, "%s", ps->error);
	snprintf(url, sizeof(url), "http://prom:***@127.0.0.1:%d", srv.port);
	ck_assert_str_eq(promapi_shown(p), url);
	promstate_put(ps);
	promapi_free(p);
	fh_stop(&srv);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A 500 with a body that parses is no answer either. */
START_TEST(test_server_error)
{
	struct fake f = { NULL, NULL, 500 };
	struct fakehttp srv;
	struct promstate *ps;
	struct promapi *p;
	char err[ERR_MAX];

	fh_start(&srv, serve, &f);
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, NULL, NULL, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(!ps->reachable);
	ck_assert_msg(strstr(ps->error, "answered 500") != NULL, "%s",
	    ps->error);
	promstate_put(ps);
	promapi_free(p);
	fh_stop(&srv);
}
END_TEST

static Suite *
promapi_suite(void)
{
	Suite *s = suite_create("promapi");
	TCase *tc = tcase_create("api");

	tcase_add_loop_test(tc, test_derived, 0,
	    sizeof(derived) / sizeof(*derived));
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_prometheus);
	tcase_add_test(tc, test_put_together);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_hung);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_server_error);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(promapi_suite());
}
