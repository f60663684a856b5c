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

	ck_assert_ptr_null(promapi_new("", err));
	ck_assert_ptr_nonnull(strstr(err, "no URL"));
	ck_assert_ptr_null(promapi_new("http://a:1, ftp://u:secret@b", err));
	ck_assert_ptr_nonnull(strstr(err, "--prometheus-url"));
	ck_assert_ptr_null(strstr(err, "secret"));
	ck_assert_ptr_nonnull(p = promapi_new("http://a:1, http://u:secret@b",
	    err));
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
	ck_assert_ptr_nonnull(p = promapi_new(srv.url, err));
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
	ck_assert_ptr_nonnull(p = promapi_new(urls, err));
	ck_assert_ptr_nonnull(ps = promapi_state(p));
	ck_assert(ps->reachable && ps->have_targets && ps->have_rules);
	ck_assert_str_eq(ps->error, "");
	ck_assert_uint_eq(ps->ntargets, 3);
	ck_assert_uint_eq(ps->ngroups, 2);
	promstate_put(ps);
	promapi_free(p);
	/* vmalert alone: the rules, and why no targets. */
	ck_assert_ptr_nonnull(p = promapi_new(b.url, err));
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
	ck_assert_ptr_nonnull(p = promapi_new(url, err));
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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(promapi_suite());
}
