/* check_history.c: the per-service event rings behind the explain API's
 * history: newest first, bounded, repeats counted, a removed service's
 * story dropped, refusals of unknown services kept apart; and the
 * registry's hook feeding them as the daemon wires it. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "history.h"

static const char *
word(const struct history_item *it)
{
	return history_event_name(it->ev);
}

START_TEST(test_order_and_bound)
{
	struct history *h = history_new();
	struct history_item *v;
	struct history_counts c;
	char d[32];
	size_t n, i;

	ck_assert_int_eq(history_get(h, "web", &v, &n, &c), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	for (i = 0; i < HISTORY_EVENTS + 5; i++) {
		snprintf(d, sizeof(d), "%zu", i);
		history_event_at(h, "web", REGISTRY_EV_WRITTEN, d,
		    1000 + (int64_t)i);
	}
	ck_assert_int_eq(history_get(h, "web", &v, &n, &c), 0);
	ck_assert_uint_eq(n, HISTORY_EVENTS);
	for (i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "%zu", HISTORY_EVENTS + 4 - i);
		ck_assert_str_eq(v[i].detail, d);
		ck_assert_str_eq(word(&v[i]), "written");
		ck_assert_int_eq(v[i].time_ms, 1000 + HISTORY_EVENTS + 4 -
		    (int64_t)i);
		ck_assert_ptr_null(v[i].name);
	}
	ck_assert_int_eq(c.written_ms, 1000 + HISTORY_EVENTS + 4);
	history_items_free(v, n);
	history_free(h);
}
END_TEST

/* The Docker source applies an unchanged service every poll: one line. */
START_TEST(test_repeats)
{
	struct history *h = history_new();
	struct history_item *v;
	size_t n, i;

	history_event_at(h, "web", REGISTRY_EV_WRITTEN, "state", 1);
	for (i = 0; i < 100; i++)
		history_event_at(h, "web", REGISTRY_EV_RECEIVED, "docker",
		    10 + (int64_t)i);
	history_event_at(h, "web", REGISTRY_EV_RECEIVED, "webhook", 500);
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].detail, "webhook");
	ck_assert_uint_eq(v[0].count, 1);
	ck_assert_str_eq(v[1].detail, "docker");
	ck_assert_uint_eq(v[1].count, 100);
	ck_assert_int_eq(v[1].time_ms, 109);
	ck_assert_str_eq(word(&v[2]), "written");
	history_items_free(v, n);
	history_free(h);
}
END_TEST

START_TEST(test_removed_and_refused)
{
	struct history *h = history_new();
	struct history_item *v;
	struct history_counts c;
	char name[32];
	size_t n, i;

	history_event_at(h, "a", REGISTRY_EV_RECEIVED, "webhook", 1);
	history_event_at(h, "a", REGISTRY_EV_HEALED, "rules", 2);
	history_event_at(h, "a", REGISTRY_EV_HEALED, "targets", 3);
	history_event_at(h, "a", REGISTRY_EV_EDITED, "rules", 4);
	history_event_at(h, "b", REGISTRY_EV_REMOVED_KEPT, "kept", 5);
	ck_assert_uint_eq(history_stories(h), 2);
	ck_assert_int_eq(history_get(h, "a", &v, &n, &c), 0);
	ck_assert_uint_eq(c.healed, 2);
	ck_assert_uint_eq(c.edited, 1);
	history_items_free(v, n);
	/* Removed for good: nothing stays. */
	history_event_at(h, "a", REGISTRY_EV_REMOVED, "", 6);
	ck_assert_uint_eq(history_stories(h), 1);
	ck_assert_int_eq(history_get(h, "a", &v, &n, &c), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(c.healed, 0);
	ck_assert_int_eq(history_get(h, "b", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(word(&v[0]), "removed");
	history_items_free(v, n);
	/* Refusals of unknown services: their own bounded ring, no story. */
	for (i = 0; i < HISTORY_REFUSED + 3; i++) {
		snprintf(name, sizeof(name), "new%zu", i);
		history_event_at(h, name, REGISTRY_EV_REFUSED_NEW, "bad port",
		    10 + (int64_t)i);
		history_event_at(h, name, REGISTRY_EV_REFUSED_NEW, "bad port",
		    20 + (int64_t)i);
	}
	ck_assert_uint_eq(history_stories(h), 1);
	ck_assert_int_eq(history_refused(h, &v, &n), 0);
	ck_assert_uint_eq(n, HISTORY_REFUSED);
	snprintf(name, sizeof(name), "new%d", HISTORY_REFUSED + 2);
	ck_assert_str_eq(v[0].name, name);
	ck_assert_str_eq(word(&v[0]), "refused");
	ck_assert_uint_eq(v[0].count, 2);
	history_items_free(v, n);
	history_free(h);
}
END_TEST

/* The counts of many names in one pass, as the status page asks. */
START_TEST(test_counts_sorted)
{
	struct history *h = history_new();
	struct history_counts c[6];
	const char *names[6] = { "a", "b", "c", "d", "e", "zz" };

	history_event_at(h, "b", REGISTRY_EV_HEALED, "rules", 5);
	history_event_at(h, "bb", REGISTRY_EV_HEALED, "rules", 5);
	history_event_at(h, "d", REGISTRY_EV_WRITTEN, "state", 7);
	history_event_at(h, "d", REGISTRY_EV_EDITED, "rules", 8);
	history_event_at(h, "zz", REGISTRY_EV_HEALED, "targets", 9);
	history_event_at(h, "zz", REGISTRY_EV_HEALED, "rules", 10);
	history_counts_sorted(h, names, 6, c);
	ck_assert_uint_eq(c[0].healed + c[0].edited, 0);
	ck_assert_uint_eq(c[1].healed, 1);
	ck_assert_int_eq(c[1].written_ms, 5);
	ck_assert_uint_eq(c[2].healed, 0);
	ck_assert_uint_eq(c[3].edited, 1);
	ck_assert_int_eq(c[3].written_ms, 7);
	ck_assert_uint_eq(c[4].healed, 0);
	ck_assert_uint_eq(c[5].healed, 2);
	history_counts_sorted(h, names, 0, c);
	history_free(h);
}
END_TEST

START_TEST(test_long_detail)
{
	struct history *h = history_new();
	struct history_item *v;
	char d[1000];
	size_t n, i;

	for (i = 0; i + 2 < sizeof(d); i += 2)
		memcpy(d + i, "\xc3\xa9", 2);
	d[i] = '\0';
	history_event_at(h, "a", REGISTRY_EV_REFUSED, d, 1);
	ck_assert_int_eq(history_get(h, "a", &v, &n, NULL), 0);
	ck_assert_uint_le(strlen(v[0].detail), HISTORY_DETAIL_MAX);
	ck_assert_str_eq(v[0].detail + strlen(v[0].detail) - 3, "...");
	/* Whole characters only. */
	ck_assert_uint_eq((strlen(v[0].detail) - 3) % 2, 0);
	history_items_free(v, n);
	history_free(h);
	history_free(NULL);
	ck_assert_str_eq(history_event_name(REGISTRY_EV_COUNT), "unknown");
}
END_TEST

/* A detail is shown: no URL's password, the rest as it was, for
 * services and refusals alike; a repeat still counts. */
START_TEST(test_detail_redacted)
{
	struct history *h = history_new();
	struct history_item *v;
	const char *d = "alertAnnotations: runbook=http://bob:hunter%2F2SEKRIT"
	    "@wiki/x,other=https://TOKENABC@h/p refused";
	size_t n;

	history_event_at(h, "a", REGISTRY_EV_REFUSED, d, 1);
	history_event_at(h, "a", REGISTRY_EV_REFUSED, d, 2);
	history_event_at(h, "ghost", REGISTRY_EV_REFUSED_NEW, d, 3);
	ck_assert_int_eq(history_get(h, "a", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].count, 2);
	ck_assert_str_eq(v[0].detail, "alertAnnotations: runbook=http://bob:"
	    "***@wiki/x,other=https://***@h/p refused");
	history_items_free(v, n);
	ck_assert_int_eq(history_refused(h, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(strstr(v[0].detail, "SEKRIT"));
	ck_assert_ptr_null(strstr(v[0].detail, "TOKENABC"));
	history_items_free(v, n);
	history_free(h);
}
END_TEST

struct hammer {
	struct history	*h;
	int		 id;
};

static void *
hammer(void *arg)
{
	struct hammer *a = arg;
	struct history_item *v;
	char name[32];
	size_t n, i;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "s%zu", i % 50);
		history_event(a->h, name, (enum registry_event)(i % 7),
		    a->id ? "x" : "y");
		if (i % 10 == 0 && history_get(a->h, name, &v, &n, NULL) == 0)
			history_items_free(v, n);
		if (i % 97 == 0)
			history_event(a->h, name, REGISTRY_EV_REMOVED, "");
	}
	return NULL;
}

/* Writers and readers at once (ASan and valgrind watch). */
START_TEST(test_threads)
{
	struct history *h = history_new();
	struct hammer a[4];
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++) {
		a[i].h = h;
		a[i].id = i % 2;
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &a[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_le(history_stories(h), 50);
	history_free(h);
}
END_TEST

static int
has(const struct history_item *v, size_t n, const char *w, const char *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(word(&v[i]), w) == 0 && (d == NULL ||
		    strstr(v[i].detail, d) != NULL))
			return 1;
	return 0;
}

static struct service *
web(void)
{
	struct service *svc = tu_service("serviceName", "web", "targets",
	    "a:9100", "alertName", "a", "alertIf", "up==0", NULL);

	svc->source = SERVICE_SOURCE_DOCKER;
	return svc;
}

static int
source_is(void *want, struct registry *r, const struct registry_view *v)
{
	(void)r;
	ck_assert_ptr_nonnull(v->svc);
	ck_assert_str_eq(service_source_name(v->svc->source), want);
	return 0;
}

/* The registry's hook, wired as main() does. */
START_TEST(test_registry_events)
{
	struct fixture fx;
	struct history *h = history_new();
	struct registry_result res;
	struct history_item *v;
	struct service *svc;
	char err[ERR_MAX];
	size_t n;

	fx_open_reloading(&fx);
	registry_set_events(fx.reg, history_event, h);
	svc = web();
	ck_assert_int_eq(registry_upsert(fx.reg, svc, &res, err), 0);
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(word(&v[0]), "written");
	ck_assert_str_eq(v[0].detail, "state targets rules");
	ck_assert_str_eq(word(&v[1]), "received");
	ck_assert_str_eq(v[1].detail, "docker");
	history_items_free(v, n);

	/* The same again from the same source: the line counts. */
	ck_assert_int_eq(registry_upsert(fx.reg, web(), &res, err), 0);
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(word(&v[0]), "received");
	history_items_free(v, n);

	/* A refusal of a known service, and of an unknown one. */
	registry_refused(fx.reg, "web", SERVICE_SOURCE_WEBHOOK,
	    "scrapePort \"x\" is not a port");
	registry_refused(fx.reg, "ghost", SERVICE_SOURCE_LISTENER, "bad");
	registry_refused(fx.reg, "../etc", SERVICE_SOURCE_LISTENER, "bad");
	registry_refused(fx.reg, NULL, SERVICE_SOURCE_LISTENER, "bad");
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert_str_eq(word(&v[0]), "refused");
	ck_assert_str_eq(v[0].detail, "from webhook: scrapePort \"x\" is "
	    "not a port");
	history_items_free(v, n);
	ck_assert_uint_eq(history_stories(h), 1);
	ck_assert_int_eq(history_refused(h, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "ghost");
	ck_assert_str_eq(v[0].detail, "from listener: bad");
	history_items_free(v, n);

	/* A good reload loads its rule file. */
	fx_reload_succeeded(&fx);
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert(has(v, n, "reloaded", NULL));
	history_items_free(v, n);

	/* Removed for good: the story goes. */
	ck_assert_int_eq(registry_remove(fx.reg, "web", &res, err), 0);
	ck_assert_uint_eq(history_stories(h), 0);

	/* At the next start its record is read: restored, with its source
	 * (kept in the record). */
	ck_assert_int_eq(registry_upsert(fx.reg, web(), &res, err), 0);
	fx_close(&fx);
	history_free(h);
	h = history_new();
	fx_start(&fx);
	registry_set_events(fx.reg, history_event, h);
	fx_load(&fx);
	ck_assert_int_eq(history_get(h, "web", &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(word(&v[0]), "restored");
	history_items_free(v, n);
	ck_assert_int_eq(registry_view_one(fx.reg, "web", source_is,
	    (void *)"docker"), 1);
	fx_done(&fx);
	history_free(h);
}
END_TEST

static Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("rings");

	tcase_add_test(tc, test_order_and_bound);
	tcase_add_test(tc, test_repeats);
	tcase_add_test(tc, test_removed_and_refused);
	tcase_add_test(tc, test_counts_sorted);
	tcase_add_test(tc, test_long_detail);
	tcase_add_test(tc, test_detail_redacted);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_registry_events);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(history_suite());
}
