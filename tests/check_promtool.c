/* check_promtool.c: promtool's verdicts through promtool.c (run only when
 * promtool is installed): one file at a time, and batches of
 * good and bad files checked together, from one thread and from many at
 * once, each file with its own verdict, reason and blamed rule; plus the
 * pure reading of promtool's reasons. */
#include <pthread.h>
#include <stdarg.h>

#include "promtool.h"
#include "render.h"
#include "request.h"
#include "testutil.h"

static char *
rules_of(const struct service *svc, size_t *len)
{
	char err[ERR_MAX], *out = NULL;

	ck_assert_int_eq(render_rules(svc, 0, &out, len, err), 0);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* promtool's verdict on the rule file of svc, through a pool of pt's,
 * with its reason in err. */
static enum fm_err
verdict_of(struct promtool *pt, const struct service *svc,
    char err[ERR_MAX])
{
	struct promtool_file f;
	char *y;

	memset(&f, 0, sizeof(f));
	f.buf = y = rules_of(svc, &f.len);
	f.shown = "rules/s.yml";
	promtool_check(pt, &f, 1);
	free(y);
	snprintf(err, ERR_MAX, "%s", f.reason);
	return f.verdict;
}

START_TEST(promtool_verdicts)
{
	struct service *good, *badexpr, *badrange;
	struct promtool *pt;
	char *bin, err[ERR_MAX];

	if ((bin = tu_require("promtool_verdicts", "promtool",
	    "prometheus")) == NULL)
		return;
	ck_assert_ptr_nonnull(pt = promtool_new(bin, 1, err));
	good = tu_service("serviceName", "s", "alertName", "a", "alertIf",
	    "rate(x[5m]) > 0 # c", "alertFor", "1s", NULL);
	badexpr = tu_service("serviceName", "s", "alertName", "a", "alertIf",
	    "rate(x[5m]", NULL);
	badrange = tu_service("serviceName", "s", "alertName", "a", "alertIf",
	    "rate(x[5x]) > 0", NULL);

	ck_assert_int_eq(verdict_of(pt, good, err), FM_OK);
	ck_assert_int_eq(verdict_of(pt, badexpr, err), FM_REFUSED);
	ck_assert_ptr_nonnull(strstr(err, "rules/s.yml"));
	ck_assert_ptr_nonnull(strstr(err, "unclosed left parenthesis"));
	/* The pipe promtool read is not named: only what flowmon shows. */
	ck_assert_ptr_null(strstr(err, "/dev/fd"));
	ck_assert_int_eq(verdict_of(pt, badrange, err), FM_REFUSED);
	ck_assert_ptr_nonnull(strstr(err, "duration"));

	service_free(good);
	service_free(badexpr);
	service_free(badrange);
	promtool_free(pt);
	free(bin);
}
END_TEST

START_TEST(promtool_missing)
{
	struct promtool_file f;
	struct promtool *p;
	char err[ERR_MAX];

	/* A batch without promtool: no verdict, and it says why. */
	ck_assert_ptr_nonnull(p = promtool_new("/nonexistent/promtool", 2,
	    err));
	memset(&f, 0, sizeof(f));
	f.buf = "groups: []\n";
	f.len = strlen(f.buf);
	f.shown = "rules/s.yml";
	promtool_check(p, &f, 1);
	ck_assert_int_eq(f.verdict, FM_RETRY);
	ck_assert_ptr_nonnull(strstr(f.reason, "/nonexistent/promtool"));
	promtool_free(p);
	promtool_free(NULL);
}
END_TEST

START_TEST(rule_of_reasons)
{
	ck_assert_int_eq(promtool_rule_of("rules/s.yml: 5:11: group \"s\", "
	    "rule 1, \"s_a\": could not parse expression"), 1);
	ck_assert_int_eq(promtool_rule_of("rules/s.yml: group \"s\", rule 12, "
	    "\"s_b\": annotation \"x\": template: bad"), 12);
	/* An expression quoting the words does not fool it: only the group
	 * name's closing quote comes before ", rule N,". */
	ck_assert_int_eq(promtool_rule_of("rules/s.yml: 3:1: yaml: line 3: "
	    "mapping values are not allowed"), 0);
	ck_assert_int_eq(promtool_rule_of("group \"s\", rule x, \"a\""), 0);
	ck_assert_int_eq(promtool_rule_of(""), 0);
}
END_TEST

/*
 * Batches.
 */

#define NFILES	12

struct batch {
	struct service		*svc[NFILES];
	char			*buf[NFILES];
	char			 shown[NFILES][64];
	struct promtool_file	 f[NFILES];
};

/* File i is bad when bad(i): its second alert has an unclosed '(' (so
 * promtool blames rule 2), or an annotation that is no Go template. */
static int
bad(int i)
{
	return i % 4 == 1 || i % 4 == 2;
}

static void
batch_init(struct batch *b, int offset)
{
	char name[32], expr[64];
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < NFILES; i++) {
		int k = i + offset;

		snprintf(name, sizeof(name), "svc%d", k);
		snprintf(expr, sizeof(expr), "up == %d", k);
		if (i % 4 == 1)
			b->svc[i] = tu_service("serviceName", name, "alertName",
			    "a", "alertIf", expr, "alertName.2", "b",
			    "alertIf.2", "rate(x[5m]", NULL);
		else if (i % 4 == 2)
			b->svc[i] = tu_service("serviceName", name, "alertName",
			    "a", "alertIf", "a\nor\nb", "alertAnnotations",
			    "summary={{ .Foo ", NULL);
		else
			b->svc[i] = tu_service("serviceName", name, "alertName",
			    "a", "alertIf", expr, "alertName.2", "b",
			    "alertIf.2", "a\nor\nb", NULL);
		b->buf[i] = rules_of(b->svc[i], &b->f[i].len);
		b->f[i].buf = b->buf[i];
		snprintf(b->shown[i], sizeof(b->shown[i]), "rules/%s.yml",
		    name);
		b->f[i].shown = b->shown[i];
		b->f[i].verdict = FM_FATAL;	/* must be overwritten */
	}
}

static void
batch_assert(struct batch *b)
{
	int i;

	for (i = 0; i < NFILES; i++) {
		const struct promtool_file *f = &b->f[i];

		if (!bad(i)) {
			ck_assert_msg(f->verdict == FM_OK, "%s: %s (%s)",
			    f->shown, fm_err_name(f->verdict), f->reason);
			continue;
		}
		ck_assert_msg(f->verdict == FM_REFUSED, "%s: %s", f->shown,
		    fm_err_name(f->verdict));
		/* Its own reason, naming it and no other file. */
		ck_assert_msg(strstr(f->reason, f->shown) != NULL, "%s: %s",
		    f->shown, f->reason);
		ck_assert_msg(strstr(f->reason, "/dev/fd/") == NULL,
		    "%s: %s", f->shown, f->reason);
		if (i % 4 == 1) {
			ck_assert_msg(strstr(f->reason, "unclosed left "
			    "parenthesis") != NULL, "%s", f->reason);
			ck_assert_int_eq(f->rule, 2);
		} else {
			ck_assert_msg(strstr(f->reason, "template") != NULL,
			    "%s", f->reason);
			ck_assert_int_eq(f->rule, 1);
		}
	}
}

static void
batch_release(struct batch *b)
{
	int i;

	for (i = 0; i < NFILES; i++) {
		service_free(b->svc[i]);
		free(b->buf[i]);
	}
}

START_TEST(batch_mixed)
{
	struct promtool *p;
	struct batch b;
	char *pt, err[ERR_MAX];
	int round;

	if ((pt = tu_require("batch_mixed", "promtool", "prometheus")) == NULL)
		return;
	ck_assert_ptr_nonnull(p = promtool_new(pt, 2, err));
	/* Several rounds: a checker is used again and again. */
	for (round = 0; round < 3; round++) {
		batch_init(&b, round * NFILES);
		promtool_check(p, b.f, NFILES);
		batch_assert(&b);
		batch_release(&b);
	}
	promtool_free(p);
	free(pt);
}
END_TEST

struct worker {
	struct promtool	*p;
	int		 id;
	struct batch	 b;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	int i;

	/* One file at a time, as requests come: the checker batches them. */
	for (i = 0; i < NFILES; i++)
		promtool_check(w->p, &w->b.f[i], 1);
	return NULL;
}

START_TEST(batch_concurrent)
{
	struct worker w[6];
	pthread_t th[6];
	struct promtool *p;
	char *pt, err[ERR_MAX];
	int i;

	if ((pt = tu_require("batch_concurrent", "promtool", "prometheus")) == NULL)
		return;
	ck_assert_ptr_nonnull(p = promtool_new(pt, 2, err));
	for (i = 0; i < 6; i++) {
		w[i].p = p;
		w[i].id = i;
		batch_init(&w[i].b, 100 * i);
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		batch_assert(&w[i].b);
		batch_release(&w[i].b);
	}
	promtool_free(p);
	free(pt);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("promtool");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, rule_of_reasons);
	suite_add_tcase(s, tc);
	tc = tcase_create("promtool");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, promtool_verdicts);
	tcase_add_test(tc, promtool_missing);
	tcase_add_test(tc, batch_mixed);
	tcase_add_test(tc, batch_concurrent);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
