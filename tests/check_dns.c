/* check_dns.c: task DNS over a real registry and store in a temp data dir,
 * with a fake resolver: which services are looked up, that a file is
 * rewritten only when the address set changes, that a name that stops
 * resolving keeps its last set and shows the error, that a restart keeps
 * the set without rewriting, and the thread's wake-up and refresh. The only
 * real lookup is of localhost. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "dns.h"
#include "fixture.h"
#include "registry.h"
#include "request.h"
#include "store.h"
#include "taskdns.h"
#include "views.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The fake resolver: answers from a table set by the test, counts calls.
 */

struct fake {
	pthread_mutex_t	 lock;
	const char	*const *addrs;	/* NULL-terminated; NULL: fail */
	const char	*error;
	int		 calls;
	char		 last[256];
};

static int
fake_resolve(void *ctx, const char *qname, char ***addrs, size_t *n,
    char err[ERR_MAX])
{
	struct fake *f = ctx;
	size_t i, k = 0;
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	f->calls++;
	snprintf(f->last, sizeof(f->last), "%s", qname);
	*addrs = NULL;
	*n = 0;
	if (f->addrs == NULL) {
		snprintf(err, ERR_MAX, "%s: %s", qname, f->error);
		rc = -1;
	} else {
		while (f->addrs[k] != NULL)
			k++;
		ck_assert_ptr_nonnull(*addrs = calloc(k + 1, sizeof(char *)));
		for (i = 0; i < k; i++)
			ck_assert_ptr_nonnull((*addrs)[i] =
			    strdup(f->addrs[i]));
		*n = k;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void
fake_set(struct fake *f, const char *const *addrs, const char *error)
{
	pthread_mutex_lock(&f->lock);
	f->addrs = addrs;
	f->error = error;
	pthread_mutex_unlock(&f->lock);
}

static int
fake_calls(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->calls;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/*
 * A data dir with its store, registry and task DNS bookkeeping
 * (fixture.h), loaded; upserts go through fx_upsert().
 */

static void
fx_up(struct fixture *fx)
{
	fx_open(fx);
	fx_load(fx);
}

/* Lookups wanted so far: grows when a service takes to task DNS. */
static uint64_t
wanted(struct fixture *fx)
{
	return taskdns_wanted(fx->td);
}

static void
upsert(struct fixture *fx, const char *body)
{
	(void)fx_upsert(fx, body);
}

static char *
targets_path(const struct fixture *fx, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/targets/%s.json", fx->dir, name) < 0)
		abort();
	return p;
}

/* The targets of the first group of targets/<name>.json, joined by ' ',
 * or "-" when there is no file. */
static char *
targets_of(const struct fixture *fx, const char *name)
{
	char *p = targets_path(fx, name), *buf = tu_slurp(p), *out;
	cJSON *root, *t;
	size_t len = 0;

	free(p);
	if (buf == NULL)
		return strdup("-");
	ck_assert_ptr_nonnull(root = cJSON_Parse(buf));
	free(buf);
	ck_assert_ptr_nonnull(out = calloc(1, 4096));
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetArrayItem(root, 0),
	    "targets"))
		len += (size_t)snprintf(out + len, 4096 - len, "%s%s",
		    len ? " " : "", t->valuestring);
	cJSON_Delete(root);
	return out;
}

static void
assert_targets(const struct fixture *fx, const char *name, const char *want)
{
	char *got = targets_of(fx, name);

	ck_assert_msg(strcmp(got, want) == 0, "targets of %s: \"%s\", want "
	    "\"%s\"", name, got, want);
	free(got);
}

/* mtime and inode of a file: equal means not rewritten. */
static char *
fstamp(const char *path)
{
	struct stat sb;
	char *s;

	if (stat(path, &sb) == -1)
		return strdup("none");
	if (asprintf(&s, "%lu.%ld.%ld", (unsigned long)sb.st_ino,
	    (long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec) < 0)
		abort();
	return s;
}

/* The dns object of services/<name>, or NULL. */
static cJSON *
dns_of(struct fixture *fx, const char *name, cJSON **whole)
{
	*whole = views_service(fx->reg, fx->td, NULL, name);
	ck_assert_ptr_nonnull(*whole);
	return cJSON_GetObjectItem(*whole, "dns");
}

/* Names pending (or all) as one string. */
static char *
dns_names(struct fixture *fx, int pending)
{
	char **names, *out;
	size_t n, i, len = 0;

	ck_assert_int_eq(taskdns_names(fx->td, pending, &names, &n), 0);
	ck_assert_ptr_nonnull(out = calloc(1, 1024));
	/* map order: sort for a stable answer */
	for (i = 1; i < n; i++) {
		size_t j = i;

		while (j > 0 && strcmp(names[j - 1], names[j]) > 0) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
			j--;
		}
	}
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, 1024 - len, "%s%s",
		    i ? " " : "", names[i]);
		free(names[i]);
	}
	free(names);
	return out;
}

static void
assert_names(struct fixture *fx, int pending, const char *want)
{
	char *got = dns_names(fx, pending);

	ck_assert_msg(strcmp(got, want) == 0, "dns names (pending %d): "
	    "\"%s\", want \"%s\"", pending, got, want);
	free(got);
}

/*
 * Pure parts.
 */

START_TEST(test_name_template)
{
	char buf[300], longname[256];

	ck_assert_int_eq(dns_name("tasks.%s", "go-demo", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "tasks.go-demo");
	ck_assert_int_eq(dns_name("%s", "web", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "web");
	ck_assert_int_eq(dns_name("local%s", "host", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "localhost");
	ck_assert_int_eq(dns_name("%s.svc.cluster", "a", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "a.svc.cluster");
	/* No DNS name is longer than 253 bytes. */
	memset(longname, 'a', 250);
	longname[250] = '\0';
	ck_assert_int_eq(dns_name("%s", longname, buf, sizeof(buf)), 0);
	ck_assert_int_eq(dns_name("tasks.%s", longname, buf, sizeof(buf)),
	    -1);
	ck_assert_int_eq(dns_name("tasks.%s", "x", buf, 7), -1);
}
END_TEST

START_TEST(test_resolve_localhost)
{
	char err[ERR_MAX] = "", **addrs = NULL;
	size_t n = 0, i;
	int v4 = 0;

	/* localhost is in every /etc/hosts: no query leaves the machine. */
	ck_assert_msg(dns_resolve(NULL, "localhost", &addrs, &n, err) == 0,
	    "%s", err);
	ck_assert_uint_ge(n, 1);
	for (i = 0; i < n; i++) {
		ck_assert_msg(strcmp(addrs[i], "127.0.0.1") == 0 ||
		    strcmp(addrs[i], "::1") == 0, "localhost is %s",
		    addrs[i]);
		v4 |= strcmp(addrs[i], "127.0.0.1") == 0;
		free(addrs[i]);
	}
	free(addrs);
	ck_assert_int_eq(v4, 1);
}
END_TEST

/*
 * Which services use task DNS.
 */

START_TEST(test_only_dns_services)
{
	struct fixture fx;
	uint64_t w0;

	fx_up(&fx);
	w0 = wanted(&fx);
	upsert(&fx, "serviceName=web&scrapePort=80");
	ck_assert_uint_eq(wanted(&fx), w0 + 1);
	upsert(&fx, "serviceName=st&scrapePort=80&scrapeType=static_configs");
	upsert(&fx, "serviceName=tg&scrapePort=80&targets=a:1");
	upsert(&fx, "serviceName=ni&scrapePort=80&nodeInfo=[]");
	upsert(&fx, "serviceName=noport");
	upsert(&fx, "serviceName=sd&scrapePort=81&scrapeType=dns_sd_configs");
	ck_assert_uint_eq(wanted(&fx), w0 + 2);
	assert_names(&fx, 0, "sd web");
	assert_names(&fx, 1, "sd web");
	/* No lookup yet: no addresses, so no target file. */
	assert_targets(&fx, "web", "-");
	fx_done(&fx);
}
END_TEST

/*
 * Lookups through the registry.
 */

START_TEST(test_set_written_once)
{
	static const char *const a1[] = { "10.0.0.2", "10.0.0.1", "10.0.0.1",
	    NULL };
	static const char *const a2[] = { "10.0.0.1", "10.0.0.2", NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct fixture fx;
	char *p, *s1, *s2;

	fx_up(&fx);
	p = targets_path(&fx, "web");
	upsert(&fx, "serviceName=web&scrapePort=80");
	ck_assert_int_eq(dns_run_once(fx.td, "tasks.%s", fake_resolve, &f,
	    1), 1);
	ck_assert_str_eq(f.last, "tasks.web");
	assert_targets(&fx, "web", "10.0.0.1:80 10.0.0.2:80");
	assert_names(&fx, 1, "");
	assert_names(&fx, 0, "web");
	s1 = fstamp(p);

	/* The same set in another order: nothing written. */
	fake_set(&f, a2, NULL);
	ck_assert_int_eq(dns_run_once(fx.td, "tasks.%s", fake_resolve, &f,
	    0), 1);
	s2 = fstamp(p);
	ck_assert_str_eq(s1, s2);
	free(s2);
	/* Nothing pending: a pending round asks nothing. */
	ck_assert_int_eq(dns_run_once(fx.td, "tasks.%s", fake_resolve, &f,
	    1), 0);
	ck_assert_int_eq(fake_calls(&f), 2);
	free(s1);
	free(p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_failure_keeps_last_set)
{
	static const char *const a1[] = { "10.0.0.1", NULL };
	static const char *const a2[] = { "10.0.0.3", "fd00::1", NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct registry_result res;
	struct fixture fx;
	char *p, *s1, *s2, err[ERR_MAX];
	char *const bad[] = { (char *)"10.9.9.9" };
	cJSON *whole, *d;

	fx_up(&fx);
	p = targets_path(&fx, "web");
	upsert(&fx, "serviceName=web&scrapePort=80");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	assert_targets(&fx, "web", "10.0.0.1:80");
	s1 = fstamp(p);

	/* The name stops resolving: the set stays, the error shows. */
	fake_set(&f, NULL, "Name or service not known");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	s2 = fstamp(p);
	ck_assert_str_eq(s1, s2);
	free(s2);
	d = dns_of(&fx, "web", &whole);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(cJSON_GetObjectItem(d, "name")->valuestring,
	    "tasks.web");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "error")->valuestring,
	    "tasks.web: Name or service not known");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(d,
	    "addresses"), 0)->valuestring, "10.0.0.1");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "lookups")->valueint, 2);
	cJSON_Delete(whole);

	/* The same failure again is no news; a different one is. */
	ck_assert_int_eq(taskdns_result(fx.td, "web", "tasks.web", NULL,
	    0, "tasks.web: Name or service not known", &res, err), 0);
	ck_assert_int_eq(taskdns_result(fx.td, "web", "tasks.web", NULL,
	    0, "tasks.web: Temporary failure", &res, err), 1);
	ck_assert_int_eq(res.wrote_targets, 0);
	/* A failed lookup never uses addresses given along with it. */
	ck_assert_int_eq(taskdns_result(fx.td, "web", "tasks.web", bad,
	    1, "tasks.web: Temporary failure", &res, err), 0);
	assert_targets(&fx, "web", "10.0.0.1:80");

	/* It resolves again, to another set: written, error gone. */
	fake_set(&f, a2, NULL);
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	assert_targets(&fx, "web", "10.0.0.3:80 [fd00::1]:80");
	d = dns_of(&fx, "web", &whole);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "error")));
	cJSON_Delete(whole);
	free(s1);
	free(p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_reconfigure_keeps_set)
{
	static const char *const a1[] = { "10.0.0.1", NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct fixture fx;
	uint64_t w0;
	char *p, *s;

	fx_up(&fx);
	w0 = wanted(&fx);
	p = targets_path(&fx, "web");
	upsert(&fx, "serviceName=web&scrapePort=80");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	/* Another port: rendered at once with the set already known, no
	 * lookup needed (and none asked for). */
	upsert(&fx, "serviceName=web&scrapePort=81");
	assert_targets(&fx, "web", "10.0.0.1:81");
	assert_names(&fx, 1, "");
	ck_assert_uint_eq(wanted(&fx), w0 + 1);

	/* nodeInfo takes over; a late DNS answer changes nothing. */
	upsert(&fx, "serviceName=web&scrapePort=81&nodeInfo=[[%22n1%22,"
	    "%2210.0.1.1%22,%22id1%22]]");
	assert_targets(&fx, "web", "10.0.1.1:81");
	s = fstamp(p);
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	{
		struct registry_result res;
		char err[ERR_MAX], *s2;
		char *const late[] = { (char *)"10.0.0.9" };

		ck_assert_int_eq(taskdns_result(fx.td, "web",
		    "tasks.web", late, 1, NULL, &res, err), 0);
		s2 = fstamp(p);
		ck_assert_str_eq(s, s2);
		free(s2);
	}
	free(s);

	/* Back to DNS: the old set is forgotten, a lookup is asked for. */
	upsert(&fx, "serviceName=web&scrapePort=81");
	assert_targets(&fx, "web", "-");
	assert_names(&fx, 1, "web");
	ck_assert_uint_eq(wanted(&fx), w0 + 2);
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 1);
	assert_targets(&fx, "web", "10.0.0.1:81");
	free(p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_restart_keeps_set)
{
	static const char *const a1[] = { "10.0.0.2", "10.0.0.1", "fd00::1",
	    NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct fixture fx;
	char *p, *s1, *s2;
	cJSON *whole, *d;

	fx_up(&fx);
	p = targets_path(&fx, "web");
	upsert(&fx, "serviceName=web&scrapePort=80&metricsPath=%2Fm");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	s1 = fstamp(p);
	fx_close(&fx);

	/* Restart: the set is taken from the file, nothing is rewritten,
	 * and the service waits for its first lookup. */
	fx_start(&fx);
	fx_load(&fx);
	s2 = fstamp(p);
	ck_assert_str_eq(s1, s2);
	free(s2);
	assert_names(&fx, 1, "web");
	d = dns_of(&fx, "web", &whole);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d,
	    "addresses")), 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "name")));
	cJSON_Delete(whole);

	/* The name does not resolve after the restart: still served. */
	fake_set(&f, NULL, "Name or service not known");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 1);
	s2 = fstamp(p);
	ck_assert_str_eq(s1, s2);
	free(s2);
	assert_targets(&fx, "web", "10.0.0.1:80 10.0.0.2:80 [fd00::1]:80");

	/* A reconfigure after the restart renders with the kept set. */
	upsert(&fx, "serviceName=web&scrapePort=82");
	assert_targets(&fx, "web", "10.0.0.1:82 10.0.0.2:82 [fd00::1]:82");
	free(s1);
	free(p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_remove_forgets)
{
	static const char *const a1[] = { "10.0.0.1", NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct registry_result res;
	struct fixture fx;
	char err[ERR_MAX];
	char *const late[] = { (char *)"10.0.0.9" };

	fx_up(&fx);
	upsert(&fx, "serviceName=web&scrapePort=80");
	dns_run_once(fx.td, "tasks.%s", fake_resolve, &f, 0);
	ck_assert_int_eq(registry_remove(fx.reg, "web", &res, err), 0);
	assert_names(&fx, 0, "");
	/* A lookup that was under way when the service went away. */
	ck_assert_int_eq(taskdns_result(fx.td, "web", "tasks.web", late,
	    1, NULL, &res, err), 0);
	assert_targets(&fx, "web", "-");
	ck_assert_int_eq(taskdns_result(fx.td, "never", "tasks.never",
	    late, 1, NULL, &res, err), 0);
	fx_done(&fx);
}
END_TEST

/*
 * The thread.
 */

static int
targets_are(struct fixture *fx, const char *name, const char *want)
{
	char *got = targets_of(fx, name);
	int same = strcmp(got, want) == 0;

	free(got);
	return same;
}

static void
wait_targets(struct fixture *fx, const char *name, const char *want)
{
	FX_WAIT(targets_are(fx, name, want), 5000, "targets of %s never "
	    "became \"%s\"", name, want);
}

START_TEST(test_thread_wake_and_refresh)
{
	static const char *const a1[] = { "10.0.0.1", NULL };
	static const char *const a2[] = { "10.0.0.2", NULL };
	struct fake f = { PTHREAD_MUTEX_INITIALIZER, a1, NULL, 0, "" };
	struct fixture fx;
	struct dns *d;
	char err[ERR_MAX] = "";
	int calls;

	fx_up(&fx);
	/* A refresh of an hour: only the wake-up can bring the lookup. */
	ck_assert_ptr_nonnull(d = dns_start(fx.td, "tasks.%s", 3600000,
	    fake_resolve, &f, err));
	upsert(&fx, "serviceName=web&scrapePort=80");
	wait_targets(&fx, "web", "10.0.0.1:80");
	calls = fake_calls(&f);
	upsert(&fx, "serviceName=api&scrapePort=90");
	wait_targets(&fx, "api", "10.0.0.1:90");
	/* The wake-up round asked only for the new name. */
	ck_assert_int_eq(fake_calls(&f), calls + 1);
	dns_stop(d);

	/* A short refresh picks up a changed set by itself. */
	ck_assert_ptr_nonnull(d = dns_start(fx.td, "tasks.%s", 20,
	    fake_resolve, &f, err));
	fake_set(&f, a2, NULL);
	wait_targets(&fx, "web", "10.0.0.2:80");
	wait_targets(&fx, "api", "10.0.0.2:90");
	calls = fake_calls(&f);
	FX_WAIT(fake_calls(&f) >= calls + 4, 5000, "no refresh rounds");
	dns_stop(d);
	fx_done(&fx);
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc;

	tc = tcase_create("pure");
	tcase_add_test(tc, test_name_template);
	tcase_add_test(tc, test_resolve_localhost);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_test(tc, test_only_dns_services);
	tcase_add_test(tc, test_set_written_once);
	tcase_add_test(tc, test_failure_keeps_last_set);
	tcase_add_test(tc, test_reconfigure_keeps_set);
	tcase_add_test(tc, test_restart_keeps_set);
	tcase_add_test(tc, test_remove_forgets);
	suite_add_tcase(s, tc);

	tc = tcase_create("thread");
	tcase_add_test(tc, test_thread_wake_and_refresh);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(dns_suite());
}
