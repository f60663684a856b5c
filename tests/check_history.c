/* check_history.c: the per-service event rings behind the explain API's
 * history: newest first, bounded (grown from one event), repeats counted,
 * a removed service's story dropped, refusals of unknown services kept
 * apart; and the registry's hook feeding them into each service's slot as
 * the daemon wires it. */
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
	void *st = NULL;
	char d[32];
	size_t n, i;

	ck_assert_int_eq(history_story_items(st, &v, &n, &c), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	for (i = 0; i < HISTORY_EVENTS + 5; i++) {
		snprintf(d, sizeof(d), "%zu", i);
		history_event_at(h, &st, "web", REGISTRY_EV_WRITTEN, d,
		    1000 + (int64_t)i);
		/* Each grown ring reads in order, newest first. */
		ck_assert_int_eq(history_story_items(st, &v, &n, &c), 0);
		ck_assert_uint_eq(n, i < HISTORY_EVENTS ? i + 1 :
		    HISTORY_EVENTS);
		ck_assert_str_eq(v[0].detail, d);
		snprintf(d, sizeof(d), "%zu", i < HISTORY_EVENTS ? 0 :
		    i + 1 - HISTORY_EVENTS);
		ck_assert_str_eq(v[n - 1].detail, d);
		history_items_free(v, n);
	}
	ck_assert_int_eq(history_story_items(st, &v, &n, &c), 0);
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
	history_story_free(st);
	history_free(h);
}
END_TEST

/* The Docker source applies an unchanged service every poll: one line. */
START_TEST(test_repeats)
{
	struct history *h = history_new();
	struct history_item *v;
	void *st = NULL;
	size_t n, i;

	history_event_at(h, &st, "web", REGISTRY_EV_WRITTEN, "state", 1);
	for (i = 0; i < 100; i++)
		history_event_at(h, &st, "web", REGISTRY_EV_RECEIVED, "docker",
		    10 + (int64_t)i);
	history_event_at(h, &st, "web", REGISTRY_EV_RECEIVED, "webhook", 500);
	ck_assert_int_eq(history_story_items(st, &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].detail, "webhook");
	ck_assert_uint_eq(v[0].count, 1);
	ck_assert_str_eq(v[1].detail, "docker");
	ck_assert_uint_eq(v[1].count, 100);
	ck_assert_int_eq(v[1].time_ms, 109);
	ck_assert_str_eq(word(&v[2]), "written");
	history_items_free(v, n);
	history_story_free(st);
	history_free(h);
}
END_TEST

/* Short details are kept once for every story that says them, longer and
 * rarer ones copied: each reads back as it was said, and every story
 * frees cleanly (the sanitizer and valgrind runs check the freeing). A
 * time of today reads back to the millisecond, and a line that repeats
 * more often than one event can count goes on in a new one. */
START_TEST(test_shared_details)
{
	struct history *h = history_new();
	struct history_item *v;
	void *st[64] = { NULL };
	char d[80];
	size_t n, i, k, total;

	for (i = 0; i < 64; i++)
		for (k = 0; k < 40; k++) {
			/* 2,560 distinct details, more than are kept once */
			snprintf(d, sizeof(d), "%s %zu", k % 2 ? "webhook" :
			    "state targets", i * 40 + k);
			history_event_at(h, &st[i], "web", REGISTRY_EV_WRITTEN,
			    d, INT64_C(1796000000123) + (int64_t)k);
			history_event_at(h, &st[i], "web", REGISTRY_EV_RECEIVED,
			    "webhook", INT64_C(1796000000123) + (int64_t)k);
		}
	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(history_story_items(st[i], &v, &n, NULL), 0);
		ck_assert_uint_eq(n, HISTORY_EVENTS);
		ck_assert_str_eq(v[0].detail, "webhook");
		ck_assert_int_eq(v[0].time_ms, INT64_C(1796000000162));
		snprintf(d, sizeof(d), "webhook %zu", i * 40 + 39);
		ck_assert_str_eq(v[1].detail, d);
		history_items_free(v, n);
	}
	for (i = 0; i < 64; i++)
		history_story_free(st[i]);

	st[0] = NULL;
	for (i = 0; i < 100000; i++)
		history_event_at(h, &st[0], "web", REGISTRY_EV_RECEIVED,
		    "docker", (int64_t)i);
	ck_assert_int_eq(history_story_items(st[0], &v, &n, NULL), 0);
	ck_assert_uint_ge(n, 2);
	for (i = 0, total = 0; i < n; i++) {
		ck_assert_str_eq(v[i].detail, "docker");
		ck_assert_uint_ge(v[i].count, 1);
		total += v[i].count;
	}
	ck_assert_uint_eq(total, 100000);
	ck_assert_int_eq(v[0].time_ms, 99999);
	history_items_free(v, n);
	history_story_free(st[0]);
	history_free(h);
}
END_TEST

START_TEST(test_removed_and_refused)
{
	struct history *h = history_new();
	struct history_item *v;
	struct history_counts c;
	void *a = NULL, *b = NULL, *none = NULL;
	char name[32];
	size_t n, i;

	history_event_at(h, &a, "a", REGISTRY_EV_RECEIVED, "webhook", 1);
	history_event_at(h, &a, "a", REGISTRY_EV_HEALED, "rules", 2);
	history_event_at(h, &a, "a", REGISTRY_EV_HEALED, "targets", 3);
	history_event_at(h, &a, "a", REGISTRY_EV_EDITED, "rules", 4);
	history_event_at(h, &b, "b", REGISTRY_EV_REMOVED_KEPT, "kept", 5);
	ck_assert_int_eq(history_story_items(a, &v, &n, &c), 0);
	ck_assert_uint_eq(c.healed, 2);
	ck_assert_uint_eq(c.edited, 1);
	history_items_free(v, n);
	/* Removed for good: nothing stays. */
	history_event_at(h, &a, "a", REGISTRY_EV_REMOVED, "", 6);
	ck_assert_ptr_null(a);
	history_story_counts(a, &c);
	ck_assert_uint_eq(c.healed, 0);
	ck_assert_int_eq(history_story_items(b, &v, &n, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(word(&v[0]), "removed");
	history_items_free(v, n);
	/* No slot, no story: an event of no service is dropped. */
	history_event_at(h, NULL, "c", REGISTRY_EV_RECEIVED, "x", 7);
	/* Refusals of unknown services: their own bounded ring, no story. */
	for (i = 0; i < HISTORY_REFUSED + 3; i++) {
		snprintf(name, sizeof(name), "new%zu", i);
		history_event_at(h, NULL, name, REGISTRY_EV_REFUSED_NEW,
		    "bad port", 10 + (int64_t)i);
		history_event_at(h, &none, name, REGISTRY_EV_REFUSED_NEW,
		    "bad port", 20 + (int64_t)i);
	}
	ck_assert_ptr_null(none);
	ck_assert_int_eq(history_refused(h, &v, &n), 0);
	ck_assert_uint_eq(n, HISTORY_REFUSED);
	snprintf(name, sizeof(name), "new%d", HISTORY_REFUSED + 2);
	ck_assert_str_eq(v[0].name, name);
	ck_assert_str_eq(word(&v[0]), "refused");
	ck_assert_uint_eq(v[0].count, 2);
	history_items_free(v, n);
	history_story_free(b);
	history_story_free(NULL);
	history_free(h);
}
END_TEST

/* The counts a story adds up to, as the status page asks. */
START_TEST(test_counts)
{
	struct history *h = history_new();
	struct history_counts c;
	void *b = NULL, *d = NULL;

	history_event_at(h, &b, "b", REGISTRY_EV_HEALED, "rules", 5);
	history_event_at(h, &d, "d", REGISTRY_EV_WRITTEN, "state", 7);
	history_event_at(h, &d, "d", REGISTRY_EV_EDITED, "rules", 8);
	history_story_counts(b, &c);
	ck_assert_uint_eq(c.healed, 1);
	ck_assert_int_eq(c.written_ms, 5);
	history_story_counts(d, &c);
	ck_assert_uint_eq(c.healed, 0);
	ck_assert_uint_eq(c.edited, 1);
	ck_assert_int_eq(c.written_ms, 7);
	history_story_counts(NULL, &c);
	ck_assert_uint_eq(c.healed + c.edited, 0);
	ck_assert_int_eq(c.written_ms, 0);
	history_story_free(b);
	history_story_free(d);
	history_free(h);
}
END_TEST

START_TEST(test_long_detail)
{
	struct history *h = history_new();
	struct history_item *v;
	void *st = NULL;
	char d[1000];
	size_t n, i;

	for (i = 0; i + 2 < sizeof(d); i += 2)
		memcpy(d + i, "\xc3\xa9", 2);
	d[i] = '\0';
	history_event_at(h, &st, "a", REGISTRY_EV_REFUSED, d, 1);
	ck_assert_int_eq(history_story_items(st, &v, &n, NULL), 0);
	ck_assert_uint_le(strlen(v[0].detail), HISTORY_DETAIL_MAX);
	ck_assert_str_eq(v[0].detail + strlen(v[0].detail) - 3, "...");
	/* Whole characters only. */
	ck_assert_uint_eq((strlen(v[0].detail) - 3) % 2, 0);
	history_items_free(v, n);
	history_story_free(st);
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
	void *st = NULL;
	size_t n;

	history_event_at(h, &st, "a", REGISTRY_EV_REFUSED, d, 1);
	history_event_at(h, &st, "a", REGISTRY_EV_REFUSED, d, 2);
	history_event_at(h, NULL, "ghost", REGISTRY_EV_REFUSED_NEW, d, 3);
	ck_assert_int_eq(history_story_items(st, &v, &n, NULL), 0);
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
	history_story_free(st);
	history_free(h);
}
END_TEST

struct hammer {
	struct history	*h;
	int		 id;
};

/* Each thread its own stories (as each service's are under its own
 * lock), all of them the refusals ring. */
static void *
hammer(void *arg)
{
	struct hammer *a = arg;
	struct history_item *v;
	void *st[50] = { NULL };
	char name[32];
	size_t n, i;

	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "s%zu", i % 50);
		history_event(a->h, &st[i % 50], name,
		    (enum registry_event)(i % 7), a->id ? "x" : "y");
		if (i % 10 == 0 && history_story_items(st[i % 50], &v, &n,
		    NULL) == 0)
			history_items_free(v, n);
		if (i % 97 == 0)
			history_event(a->h, &st[i % 50], name,
			    REGISTRY_EV_REMOVED, "");
		if (i % 13 == 0 && history_refused(a->h, &v, &n) == 0)
			history_items_free(v, n);
	}
	for (i = 0; i < 50; i++)
		history_story_free(st[i]);
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
	history_free(h);
}
END_TEST

/* A service's story as the explain API reads it: through the registry's
 * view, under the service's lock. */
struct got {
	struct history_item	*v;
	size_t			 n;
	int			 stories;
};

static int
got_story(void *arg, struct registry *r, const struct registry_view *v)
{
	struct got *g = arg;

	(void)r;
	ck_assert_int_eq(history_story_items(v->story, &g->v, &g->n, NULL),
	    0);
	return 0;
}

static int
count_story(void *arg, struct registry *r, const struct registry_view *v)
{
	(void)r;
	((struct got *)arg)->stories += v->story != NULL;
	return 0;
}

static int
history_get(struct fixture *fx, const char *name, struct history_item **v,
    size_t *n)
{
	struct got g = { NULL, 0, 0 };

	(void)registry_view_one(fx->reg, name, got_story, &g);
	*v = g.v;
	*n = g.n;
	return 0;
}

static int
stories(struct fixture *fx)
{
	struct got g = { NULL, 0, 0 };

	ck_assert_int_eq(registry_view_all(fx->reg, count_story, &g), 0);
	return g.stories;
}

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
	registry_set_events(fx.reg, history_event, history_story_free, h);
	svc = web();
	ck_assert_int_eq(registry_upsert(fx.reg, svc, &res, err), 0);
	ck_assert_int_eq(history_get(&fx, "web", &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(word(&v[0]), "written");
	ck_assert_str_eq(v[0].detail, "state targets rules");
	ck_assert_str_eq(word(&v[1]), "received");
	ck_assert_str_eq(v[1].detail, "docker");
	history_items_free(v, n);

	/* The same again from the same source: the line counts. */
	ck_assert_int_eq(registry_upsert(fx.reg, web(), &res, err), 0);
	ck_assert_int_eq(history_get(&fx, "web", &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(word(&v[0]), "received");
	history_items_free(v, n);

	/* A refusal of a known service, and of an unknown one. */
	registry_refused(fx.reg, "web", SERVICE_SOURCE_WEBHOOK,
	    "scrapePort \"x\" is not a port");
	registry_refused(fx.reg, "ghost", SERVICE_SOURCE_LISTENER, "bad");
	registry_refused(fx.reg, "../etc", SERVICE_SOURCE_LISTENER, "bad");
	registry_refused(fx.reg, NULL, SERVICE_SOURCE_LISTENER, "bad");
	ck_assert_int_eq(history_get(&fx, "web", &v, &n), 0);
	ck_assert_str_eq(word(&v[0]), "refused");
	ck_assert_str_eq(v[0].detail, "from webhook: scrapePort \"x\" is "
	    "not a port");
	history_items_free(v, n);
	ck_assert_int_eq(stories(&fx), 1);
	ck_assert_int_eq(history_refused(h, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].name, "ghost");
	ck_assert_str_eq(v[0].detail, "from listener: bad");
	history_items_free(v, n);

	/* A good reload loads its rule file. */
	fx_reload_succeeded(&fx);
	ck_assert_int_eq(history_get(&fx, "web", &v, &n), 0);
	ck_assert(has(v, n, "reloaded", NULL));
	history_items_free(v, n);

	/* Removed for good: the story goes. */
	ck_assert_int_eq(registry_remove(fx.reg, "web", &res, err), 0);
	ck_assert_int_eq(stories(&fx), 0);

	/* At the next start its record is read: restored, with its source
	 * (kept in the record). */
	ck_assert_int_eq(registry_upsert(fx.reg, web(), &res, err), 0);
	fx_close(&fx);
	history_free(h);
	h = history_new();
	fx_start(&fx);
	registry_set_events(fx.reg, history_event, history_story_free, h);
	fx_load(&fx);
	ck_assert_int_eq(history_get(&fx, "web", &v, &n), 0);
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
	tcase_add_test(tc, test_shared_details);
	tcase_add_test(tc, test_removed_and_refused);
	tcase_add_test(tc, test_counts);
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
