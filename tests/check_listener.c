/* check_listener.c: the pure parts of the swarm-listener reconcile (listener
 * addresses, get-services / get-nodes rows, SCRAPE_PORT_<n> static services,
 * node label filtering), the registry's generation that keeps a prune from
 * removing a service created meanwhile, and the start and stop of the
 * reconcile against a listener that does not answer. The whole exchange
 * with a live (fake) listener is tests/it_listener.sh. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "listener.h"
#include "registry.h"
#include "request.h"
#include "store.h"
#include "fixture.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define GS		LISTENER_SERVICES_PATH

/*
 * Listener addresses.
 */

START_TEST(test_services_url)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "swarm-listener", "http://swarm-listener:8080" GS },
		{ " swarm-listener ", "http://swarm-listener:8080" GS },
		{ "swarm-listener:9000", "http://swarm-listener:9000" GS },
		{ "10.0.0.1", "http://10.0.0.1:8080" GS },
		{ "[::1]", "http://[::1]:8080" GS },
		{ "[::1]:81", "http://[::1]:81" GS },
		{ "http://sl:8080", "http://sl:8080" GS },
		{ "http://sl:8080/", "http://sl:8080" GS },
		{ "HTTPS://sl/base", "https://sl/base" GS },
		{ "http://u:p@sl:8080", "http://u:p@sl:8080" GS },
		{ "http://sl:8080" GS, "http://sl:8080" GS },
	};
	static const char *const bad[] = {
		"", "   ", "ftp://sl", "sl:", "sl:80x", "sl/x", "u@sl",
		"[::1", "[::1]x", "s l",
	};
	char err[ERR_MAX];
	size_t i;

	for (i = 0; i < nitems(ok); i++) {
		char *u = listener_services_url(ok[i].in, "listener address",
		    err);

		ck_assert_msg(u != NULL, "%s: %s", ok[i].in, err);
		ck_assert_str_eq(u, ok[i].out);
		free(u);
	}
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(listener_services_url(bad[i], "listener address",
		    err) == NULL,
		    "\"%s\" accepted", bad[i]);
		ck_assert_msg(strstr(err, "listener address") != NULL,
		    "\"%s\": %s", bad[i], err);
	}
}
END_TEST

/*
 * Rows.
 */

START_TEST(test_rows)
{
	static const char json[] =
	    "[{\"serviceName\":\"go-demo\",\"scrapePort\":\"8080\","
	    "\"nodeInfo\":\"[[\\\"n1\\\",\\\"10.0.0.1\\\",\\\"id\\\"]]\","
	    "\"replicas\":3,\"distribute\":true,\"gone\":null},"
	    "{\"serviceName\":\"b\",\"nodeInfo\":[[\"n1\",\"10.0.0.2\"]],"
	    "\"ratio\":0.5}, {}]";
	struct kvlist *rows;
	size_t n;
	char err[ERR_MAX];

	ck_assert_msg(listener_parse_rows(json, strlen(json), &rows, &n,
	    err) == 0, "%s", err);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(kvlist_get(&rows[0], "serviceName"), "go-demo");
	ck_assert_str_eq(kvlist_get(&rows[0], "nodeInfo"),
	    "[[\"n1\",\"10.0.0.1\",\"id\"]]");
	ck_assert_str_eq(kvlist_get(&rows[0], "replicas"), "3");
	ck_assert_str_eq(kvlist_get(&rows[0], "distribute"), "true");
	ck_assert_ptr_null(kvlist_get(&rows[0], "gone"));
	ck_assert_str_eq(kvlist_get(&rows[1], "nodeInfo"),
	    "[[\"n1\",\"10.0.0.2\"]]");
	ck_assert_str_eq(kvlist_get(&rows[1], "ratio"), "0.5");
	ck_assert_uint_eq(rows[2].n, 0);
	listener_rows_free(rows, n);

	ck_assert_int_eq(listener_parse_rows("[]", 2, &rows, &n, err), 0);
	ck_assert_uint_eq(n, 0);
	listener_rows_free(rows, n);
}
END_TEST

START_TEST(test_rows_refused)
{
	static const char *const bad[] = {
		"", "{}", "null", "[1]", "[{\"a\":\"b\"}, \"x\"]", "[{",
		"[{\"a\":\"b\"}, [1]]",
	};
	struct kvlist *rows;
	size_t n, i;
	char err[ERR_MAX];

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(listener_parse_rows(bad[i], strlen(bad[i]),
		    &rows, &n, err) == -1, "%s accepted", bad[i]);
		ck_assert_ptr_null(rows);
		ck_assert_msg(err[0] != '\0', "%s: no message", bad[i]);
	}
}
END_TEST

/*
 * SCRAPE_PORT_<n> / SERVICE_NAME_<n>.
 */

START_TEST(test_static_rows)
{
	const char *env[] = {
		"PATH=/bin", "SCRAPE_PORT_1=9100", "SERVICE_NAME_10=wrong",
		"SERVICE_NAME_1=node-exporter", "SCRAPE_PORT_B=80",
		"SERVICE_NAME_B=a-exporter", "SERVICE_NAME_7=alone", NULL,
	};
	struct kvlist *rows;
	size_t n;
	char err[ERR_MAX];

	ck_assert_msg(listener_static_rows((char *const *)env, &rows, &n,
	    err) == 0, "%s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(kvlist_get(&rows[0], "serviceName"), "a-exporter");
	ck_assert_str_eq(kvlist_get(&rows[0], "scrapePort"), "80");
	ck_assert_str_eq(kvlist_get(&rows[1], "serviceName"),
	    "node-exporter");
	ck_assert_str_eq(kvlist_get(&rows[1], "scrapePort"), "9100");
	ck_assert_str_eq(kvlist_get(&rows[1], "scrapeType"), "static_configs");
	listener_rows_free(rows, n);

	ck_assert_int_eq(listener_static_rows(NULL, &rows, &n, err), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_static_rows_refused)
{
	static const struct { const char *port, *name, *msg; } bad[] = {
		{ "SCRAPE_PORT_1=xxxx", "SERVICE_NAME_1=s", "not a port" },
		{ "SCRAPE_PORT_1=0", "SERVICE_NAME_1=s", "not a port" },
		{ "SCRAPE_PORT_1=65536", "SERVICE_NAME_1=s", "not a port" },
		{ "SCRAPE_PORT_1=", "SERVICE_NAME_1=s", "not a port" },
		{ "SCRAPE_PORT_1=80", "SERVICE_NAME_2=s", "SERVICE_NAME_1" },
		{ "SCRAPE_PORT_1=80", "SERVICE_NAME_1=../x", "SERVICE_NAME_1" },
		{ "SCRAPE_PORT_1=80", "SERVICE_NAME_1=", "SERVICE_NAME_1" },
	};
	struct kvlist *rows;
	size_t n, i;
	char err[ERR_MAX];

	for (i = 0; i < nitems(bad); i++) {
		const char *env[] = { bad[i].port, bad[i].name, NULL };

		ck_assert_msg(listener_static_rows((char *const *)env, &rows,
		    &n, err) == -1,
		    "%s %s accepted", bad[i].port, bad[i].name);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL, "%s", err);
		ck_assert_msg(strstr(err, "SCRAPE_PORT_1") != NULL, "%s", err);
	}
}
END_TEST

START_TEST(test_node_labels)
{
	struct kvlist params = { 0 }, out = { 0 };
	const char *names[] = { "aws-region", "role", "missing", "empty" };

	kvlist_set(&params, "id", "n1");
	kvlist_set(&params, "hostname", "node-1");
	kvlist_set(&params, "ROLE", "worker");
	kvlist_set(&params, "aws-region", "us-east-1");
	kvlist_set(&params, "empty", "");
	ck_assert_int_eq(request_named_labels(&params, names, nitems(names),
	    &out), 0);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_str_eq(out.v[0].key, "aws_region");
	ck_assert_str_eq(out.v[0].value, "us-east-1");
	ck_assert_str_eq(out.v[1].key, "role");
	ck_assert_str_eq(out.v[1].value, "worker");
	kvlist_release(&out);
	kvlist_release(&params);
}
END_TEST

/*
 * With a registry.
 */


static void
upsert(struct fixture *fx, const char *body)
{
	(void)fx_upsert(fx, body);
}

static char *
active(struct fixture *fx, uint64_t gen)
{
	char **names, *out;
	size_t n, i, len = 0;

	ck_assert_int_eq(registry_active_names(fx->reg, gen, &names, &n), 0);
	ck_assert_ptr_nonnull(out = calloc(1, 1024));
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, 1024 - len, "%s%s",
		    i ? " " : "", names[i]);
		free(names[i]);
	}
	free(names);
	return out;
}

START_TEST(test_generation)
{
	struct registry_result res;
	struct fixture fx;
	uint64_t g0, g1;
	char err[ERR_MAX], *s;

	fx_open(&fx);
	g0 = registry_generation(fx.reg);
	upsert(&fx, "serviceName=b&targets=b:1");
	upsert(&fx, "serviceName=a&targets=a:1");
	upsert(&fx, "serviceName=p&alertName=x&alertIf=up&"
	    "alertPersistent=true");
	g1 = registry_generation(fx.reg);
	ck_assert_uint_gt(g1, g0);
	upsert(&fx, "serviceName=c&targets=c:1");
	/* Only what was last changed at g1 or before, sorted. */
	ck_assert_str_eq(s = active(&fx, g1), "a b p");
	free(s);
	ck_assert_str_eq(s = active(&fx, registry_generation(fx.reg)),
	    "a b c p");
	free(s);
	/* A change after g1 takes a service out of the g1 view. */
	upsert(&fx, "serviceName=a&targets=a:2");
	ck_assert_str_eq(s = active(&fx, g1), "b p");
	free(s);
	/* Removed services are never listed, persistent ones included. */
	ck_assert_int_eq(registry_remove(fx.reg, "b", &res, err), 0);
	ck_assert_int_eq(registry_remove(fx.reg, "p", &res, err), 0);
	ck_assert_str_eq(s = active(&fx, registry_generation(fx.reg)),
	    "a c");
	free(s);
	fx_done(&fx);
}
END_TEST

START_TEST(test_start_static_only)
{
	struct listener_options o;
	struct listener *l;
	struct fixture fx;
	char err[ERR_MAX] = "", *s;
	const char *env[] = { "SCRAPE_PORT_1=9100",
	    "SERVICE_NAME_1=node-exporter", NULL };
	const char *bad[] = { "SCRAPE_PORT_1=9100", NULL };

	fx_open(&fx);
	memset(&o, 0, sizeof(o));
	o.envp = (char *const *)env;
	/* No listener: the static services are there on return. */
	ck_assert_ptr_nonnull(l = listener_start(&o, fx.reg, fx.parser,
	    err));
	ck_assert_int_eq(listener_done(l), 1);
	ck_assert_str_eq(s = active(&fx, registry_generation(fx.reg)),
	    "node-exporter");
	free(s);
	listener_stop(l);

	o.envp = (char *const *)bad;
	ck_assert_ptr_null(listener_start(&o, fx.reg, fx.parser, err));
	ck_assert_ptr_nonnull(strstr(err, "SERVICE_NAME_1"));
	o.envp = NULL;
	o.addresses = "ftp://x";
	ck_assert_ptr_null(listener_start(&o, fx.reg, fx.parser, err));
	ck_assert_ptr_nonnull(strstr(err, "ftp://x"));
	o.addresses = NULL;
	o.nodes_url = "x:8080/get-nodes";
	ck_assert_ptr_null(listener_start(&o, fx.reg, fx.parser, err));
	ck_assert_ptr_nonnull(strstr(err, "DF_GET_NODES_URL"));
	fx_done(&fx);
}
END_TEST

/* A stand-in listener that reads each request and closes without an
 * answer (curl sees an empty reply: a failed round). */
static void
deaf(void *arg, int fd, const struct fh_request *rq)
{
	(void)arg;
	(void)fd;
	(void)rq;
}

START_TEST(test_unanswered_keeps_state_and_stops)
{
	struct listener_options o;
	struct listener *l;
	struct fixture fx;
	struct fakehttp d;
	char err[ERR_MAX] = "", addr[64], *s;
	int64_t t0;

	fx_open(&fx);
	upsert(&fx, "serviceName=known&targets=k:1");
	fh_start(&d, deaf, NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d.port);
	memset(&o, 0, sizeof(o));
	o.addresses = addr;
	o.prune = 1;
	o.retry_min_ms = 10;
	o.retry_max_ms = 40;
	ck_assert_ptr_nonnull(l = listener_start(&o, fx.reg, fx.parser,
	    err));
	/* Three rounds the listener really made and saw fail (each one a
	 * connection here): still not done, nothing pruned. */
	FX_WAIT(fh_served(&d) >= 3, 10000, "only %d rounds in 10 s",
	    fh_served(&d));
	ck_assert_int_eq(listener_done(l), 0);
	ck_assert_str_eq(s = active(&fx, registry_generation(fx.reg)),
	    "known");
	free(s);
	/* Stopping does not wait for the backoff. */
	t0 = clock_ms();
	listener_stop(l);
	ck_assert_int_lt(clock_ms() - t0, 1000);
	fh_stop(&d);
	fx_done(&fx);
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, test_services_url);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_rows_refused);
	tcase_add_test(tc, test_static_rows);
	tcase_add_test(tc, test_static_rows_refused);
	tcase_add_test(tc, test_node_labels);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_test(tc, test_generation);
	tcase_add_test(tc, test_start_static_only);
	tcase_add_test(tc, test_unanswered_keeps_state_and_stops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run_curl(listener_suite());
}
