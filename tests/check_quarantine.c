/* check_quarantine.c: the diagnosis of a refused reload, against a fake
 * Prometheus: a reload callback that reads rules/ as Prometheus would and
 * refuses the whole reload when any file holds the word BAD, keeping the
 * rules it ran before (as Prometheus does). The tests check who ends up
 * set aside, what Prometheus runs in the end, how many reloads it took,
 * and that no group Prometheus runs is ever taken out on the way. */
#include <dirent.h>
#include <stdarg.h>

#include "fixture.h"
#include "log.h"
#include "promtool.h"
#include "quarantine.h"
#include "views.h"

#define MAXG	16

/* What the fake Prometheus runs: group (file) names and contents. */
struct prom {
	struct fixture	*fx;
	int		 reloads;	/* attempts */
	int		 refusals;
	int		 nrun;
	char		*run[MAXG];	/* file names, sorted */
	char		*body[MAXG];
	/* Groups that must stay loaded on every attempt, good or not. */
	const char	*const *keep;
	int		 kept_broken;	/* an attempt saw one missing */
	int		 always_refuse;
};

static void
prom_clear(struct prom *p)
{
	int i;

	for (i = 0; i < p->nrun; i++) {
		free(p->run[i]);
		free(p->body[i]);
	}
	p->nrun = 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rule files in rules/ now, sorted. */
static int
read_rules(struct fixture *fx, char *names[MAXG], char *bodies[MAXG])
{
	char *dir = fx_path(fx, "rules", "", ""), *path;
	struct dirent *de;
	DIR *d;
	int n = 0, i;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".yml") != 0)
			continue;
		ck_assert_int_lt(n, MAXG);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			abort();
		ck_assert_ptr_nonnull(bodies[i] = tu_slurp(path));
		free(path);
	}
	free(dir);
	return n;
}

static enum fm_err
fake_reload(void *ctx, char err[ERR_MAX])
{
	struct prom *p = ctx;
	char *names[MAXG], *bodies[MAXG];
	int n, i, k, bad = 0;

	p->reloads++;
	n = read_rules(p->fx, names, bodies);
	for (i = 0; i < n; i++)
		bad |= strstr(bodies[i], "BAD") != NULL;
	/* A loaded group must be in every set Prometheus is asked to load:
	 * else it would drop out (if the reload succeeded). */
	for (k = 0; p->keep != NULL && p->keep[k] != NULL; k++) {
		int found = 0;

		for (i = 0; i < n; i++)
			found |= strcmp(names[i], p->keep[k]) == 0;
		p->kept_broken |= !found;
	}
	if (bad || p->always_refuse) {
		p->refusals++;
		for (i = 0; i < n; i++) {
			free(names[i]);
			free(bodies[i]);
		}
		snprintf(err, ERR_MAX, "POST /-/reload answered 500");
		return FM_REFUSED;
	}
	prom_clear(p);
	for (i = 0; i < n; i++) {
		p->run[i] = names[i];
		p->body[i] = bodies[i];
	}
	p->nrun = n;
	return FM_OK;
}

/* A reload by the daemon's own reloader: booked with the registry. */
static enum fm_err
daemon_reload(struct prom *p)
{
	char err[ERR_MAX];
	uint64_t mark = registry_rules_mark(p->fx->reg);
	enum fm_err k = fake_reload(p, err);

	if (k == FM_OK)
		registry_reload_ok(p->fx->reg, mark);
	return k;
}

/* The names Prometheus runs, joined by ' ', without ".yml". */
static char *
running(const struct prom *p)
{
	char *out = calloc(1, 1024);
	size_t len = 0;
	int i;

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < p->nrun; i++)
		len += (size_t)snprintf(out + len, 1024 - len, "%s%.*s",
		    i ? " " : "", (int)(strlen(p->run[i]) - 4), p->run[i]);
	return out;
}

/* What Prometheus runs of name, or NULL. */
static const char *
running_body(const struct prom *p, const char *name)
{
	char file[128];
	int i;

	snprintf(file, sizeof(file), "%s.yml", name);
	for (i = 0; i < p->nrun; i++)
		if (strcmp(p->run[i], file) == 0)
			return p->body[i];
	return NULL;
}

static void
assert_running(const struct prom *p, const char *want)
{
	char *got = running(p);

	ck_assert_msg(strcmp(got, want) == 0, "Prometheus runs \"%s\", want "
	    "\"%s\"", got, want);
	free(got);
}

static char *
status_of(struct fixture *fx, const char *name)
{
	cJSON *j = views_service(fx->reg, NULL, NULL, name);
	char *s;

	ck_assert_ptr_nonnull(j);
	s = strdup(cJSON_GetObjectItem(j, "status")->valuestring);
	cJSON_Delete(j);
	return s;
}

static void
assert_status(struct fixture *fx, const char *name, const char *want)
{
	char *got = status_of(fx, name);

	ck_assert_msg(strcmp(got, want) == 0, "%s is %s, want %s", name, got,
	    want);
	free(got);
}

static int
exists(struct fixture *fx, const char *kind, const char *name)
{
	char *p = fx_path(fx, kind, name, ".yml");
	int e = tu_exists(p);

	free(p);
	return e;
}

/* <kind>/<name>.yml's text, or NULL. */
static char *
slurp(struct fixture *fx, const char *kind, const char *name)
{
	char *p = fx_path(fx, kind, name, ".yml"), *s = tu_slurp(p);

	free(p);
	return s;
}

static struct quarantine *
quarantine_of(struct prom *p, struct promtool *pt)
{
	struct quarantine_ops ops = { fake_reload, p };
	struct quarantine *q;

	ck_assert_ptr_nonnull(q = quarantine_new(p->fx->reg, pt, &ops));
	return q;
}

#define GOOD(s, e)	"serviceName=" s "&alertName=a&alertIf=" e

/* Three services Prometheus runs; then one changes (still good), a new one
 * is refused by Prometheus, another new one is good. */
static void
scene(struct fixture *fx, struct prom *p, const char *bad_expr, int refuse)
{
	char body[256];

	memset(p, 0, sizeof(*p));
	p->fx = fx;
	fx_upsert(fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(fx, GOOD("b", "up+%3D%3D+2"));
	fx_upsert(fx, GOOD("c", "up+%3D%3D+3"));
	ck_assert_int_eq(daemon_reload(p), FM_OK);
	assert_running(p, "a b c");
	fx_upsert(fx, GOOD("a", "up+%3D%3D+10"));
	snprintf(body, sizeof(body), GOOD("d", "%s"), bad_expr);
	fx_upsert(fx, body);
	fx_upsert(fx, GOOD("e", "up+%3D%3D+5"));
	p->always_refuse = refuse;
	ck_assert_int_eq(daemon_reload(p), refuse || strstr(bad_expr, "BAD") ?
	    FM_REFUSED : FM_OK);
}

START_TEST(test_search_by_reloads)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct quarantine *q;
	struct fixture fx;
	struct prom p;

	fx_open(&fx);
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	p.keep = loaded;
	q = quarantine_of(&p, NULL);
	ck_assert_uint_eq(quarantine_reload_failed(q), 1);
	/* No group Prometheus ran left it during the search. */
	ck_assert_int_eq(p.kept_broken, 0);
	/* d is set aside; every other change runs. */
	assert_status(&fx, "d", "rejected");
	ck_assert(exists(&fx, "rejected", "d"));
	ck_assert(!exists(&fx, "rules", "d"));
	assert_running(&p, "a b c e");
	ck_assert_ptr_nonnull(strstr(running_body(&p, "a"), "up == 10"));
	assert_status(&fx, "a", "active");
	assert_status(&fx, "e", "active");
	ck_assert_uint_eq(registry_rejected(fx.reg), 1);
	/* Elimination: at least the all-out and the final reloads. */
	ck_assert_int_ge(p.reloads - 2, 2);
	/* Prometheus never had d: nothing of it in rules/ or accepted/; a's
	 * version it ran before the change was kept there, b's needed no
	 * copy (rules/ holds it). */
	ck_assert(!exists(&fx, "accepted", "d"));
	ck_assert(!exists(&fx, "accepted", "b"));
	{
		char *acc = slurp(&fx, "accepted", "a");

		ck_assert_ptr_nonnull(acc);
		ck_assert_ptr_nonnull(strstr(acc, "up == 1"));
		free(acc);
	}
	quarantine_free(q);

	/* A new version of d is let back in by the next request. */
	fx_upsert(&fx, GOOD("d", "vector(2)"));
	assert_status(&fx, "d", "active");
	ck_assert(!exists(&fx, "rejected", "d"));
	ck_assert_int_eq(daemon_reload(&p), FM_OK);
	assert_running(&p, "a b c d e");
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_not_flowmons_fault)
{
	struct quarantine *q;
	struct fixture fx;
	struct prom p;
	int before;

	fx_open(&fx);
	/* Prometheus refuses whatever flowmon does. */
	scene(&fx, &p, "vector(4)", 1);
	before = p.reloads;
	q = quarantine_of(&p, NULL);
	ck_assert_uint_eq(quarantine_reload_failed(q), 0);
	ck_assert_int_gt(p.reloads, before);
	/* Everything is back where it was. */
	ck_assert(exists(&fx, "rules", "a") && exists(&fx, "rules", "d") &&
	    exists(&fx, "rules", "e"));
	assert_status(&fx, "d", "active");
	ck_assert_uint_eq(registry_rejected(fx.reg), 0);
	/* Once Prometheus is fixed, everything runs. */
	p.always_refuse = 0;
	ck_assert_int_eq(daemon_reload(&p), FM_OK);
	assert_running(&p, "a b c d e");
	quarantine_free(q);
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST


/* A service Prometheus runs gets a version it refuses: while the culprit
 * is searched for and afterwards, Prometheus keeps running the old one. */
START_TEST(test_rollback_keeps_old_version)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct quarantine *q;
	struct fixture fx;
	struct prom p;
	char *rules;

	fx_open(&fx);
	scene(&fx, &p, "vector(4)", 0);
	p.keep = loaded;
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+20"));
	fx_upsert(&fx, GOOD("c", "vector(3)+%23+BAD"));
	ck_assert_int_eq(daemon_reload(&p), FM_REFUSED);
	q = quarantine_of(&p, NULL);
	ck_assert_uint_eq(quarantine_reload_failed(q), 1);
	ck_assert_int_eq(p.kept_broken, 0);
	assert_status(&fx, "c", "rejected");
	assert_running(&p, "a b c d e");
	/* c's group runs its last good version; rules/ holds it too. */
	ck_assert_ptr_nonnull(strstr(running_body(&p, "c"), "up == 3"));
	ck_assert_ptr_nonnull(strstr(running_body(&p, "b"), "up == 20"));
	ck_assert_ptr_nonnull(rules = slurp(&fx, "rules", "c"));
	ck_assert_ptr_nonnull(strstr(rules, "up == 3"));
	free(rules);
	ck_assert_ptr_nonnull(rules = slurp(&fx, "rejected", "c"));
	ck_assert_ptr_nonnull(strstr(rules, "BAD"));
	free(rules);
	quarantine_free(q);

	/* A restart: c stays set aside, rules/ keeps the old version, and
	 * nothing but c is suspect. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	assert_status(&fx, "c", "rejected");
	ck_assert_ptr_nonnull(rules = slurp(&fx, "rules", "c"));
	ck_assert_ptr_nonnull(strstr(rules, "up == 3"));
	free(rules);
	{
		char **v;
		size_t n;

		ck_assert_int_eq(registry_rules_suspects(fx.reg, &v, &n), 0);
		ck_assert_uint_eq(n, 0);
		strv_free(v, n);
	}
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST

/* flowmon dies while a file is set aside for a test reload: the next start
 * puts the version its record says back, and the search starts over. */
START_TEST(test_restart_mid_search)
{
	struct quarantine *q;
	struct fixture fx;
	struct prom p;
	char *rules;

	fx_open(&fx);
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	/* The search sets a (changed) and e (new) aside... */
	registry_rules_park(fx.reg, "a", 1);
	registry_rules_park(fx.reg, "e", 1);
	ck_assert_ptr_nonnull(rules = slurp(&fx, "rules", "a"));
	ck_assert_ptr_nonnull(strstr(rules, "up == 1"));
	free(rules);
	ck_assert(!exists(&fx, "rules", "e"));
	/* ...and flowmon is killed. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	ck_assert_ptr_nonnull(rules = slurp(&fx, "rules", "a"));
	ck_assert_ptr_nonnull(strstr(rules, "up == 10"));
	free(rules);
	ck_assert(exists(&fx, "rules", "e"));
	assert_status(&fx, "a", "active");
	assert_status(&fx, "e", "active");
	ck_assert_uint_eq(registry_rejected(fx.reg), 0);
	/* The search starts over and finds d alone. */
	ck_assert_int_eq(daemon_reload(&p), FM_REFUSED);
	q = quarantine_of(&p, NULL);
	ck_assert_uint_eq(quarantine_reload_failed(q), 1);
	assert_running(&p, "a b c e");
	assert_status(&fx, "d", "rejected");
	quarantine_free(q);
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST

START_TEST(test_promtool_first)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct quarantine *q;
	struct promtool *pt;
	struct fixture fx;
	struct prom p;
	char *bin, err[ERR_MAX];
	cJSON *j;
	int before;

	if ((bin = tu_require("test_promtool_first", "promtool",
	    "prometheus")) == NULL)
		return;
	ck_assert_ptr_nonnull(pt = promtool_new(bin, 2, err));
	fx_open(&fx);
	/* Bad for promtool too: an unclosed parenthesis. */
	scene(&fx, &p, "rate(BAD%5B5m%5D", 0);
	p.keep = loaded;
	before = p.reloads;
	q = quarantine_of(&p, pt);
	ck_assert_uint_eq(quarantine_reload_failed(q), 1);
	/* promtool named the culprit: one reload, the one that succeeds. */
	ck_assert_int_eq(p.reloads - before, 1);
	ck_assert_int_eq(p.kept_broken, 0);
	assert_running(&p, "a b c e");
	ck_assert_ptr_nonnull(j = views_service(fx.reg, NULL, NULL, "d"));
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring,
	    "rejected");
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(j,
	    "rejected")->valuestring, "unclosed left parenthesis"));
	ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(j,
	    "rejected")->valuestring, "Prometheus refused"));
	cJSON_Delete(j);
	quarantine_free(q);
	promtool_free(pt);
	free(bin);
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST


/* At start, what is set aside is judged again by promtool, all at once:
 * what passes comes back (and a reload is asked for); without promtool,
 * what Prometheus itself refused stays out. */
START_TEST(test_recheck_at_start)
{
	struct quarantine *q;
	struct promtool *pt;
	struct fixture fx;
	struct prom p;
	char *bin, err[ERR_MAX];
	uint64_t triggers;
	struct reloader_stats rs;

	if ((bin = tu_require("test_recheck_at_start", "promtool",
	    "prometheus")) == NULL)
		return;
	fx_open_reloading(&fx);
	/* Prometheus refuses d for a reason promtool cannot see. */
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	fx_upsert(&fx, GOOD("f", "vector(1)+%23+BAD"));
	ck_assert_int_eq(daemon_reload(&p), FM_REFUSED);
	ck_assert_ptr_nonnull(pt = promtool_new(bin, 2, err));
	q = quarantine_of(&p, pt);
	ck_assert_uint_eq(quarantine_reload_failed(q), 2);
	assert_status(&fx, "d", "rejected");
	assert_status(&fx, "f", "rejected");
	quarantine_free(q);

	/* A start without promtool: they stay out. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	q = quarantine_of(&p, NULL);
	ck_assert_uint_eq(quarantine_recheck(q), 0);
	assert_status(&fx, "d", "rejected");
	quarantine_free(q);

	/* A start with promtool: both pass it, both come back. */
	fx_close(&fx);
	fx_start(&fx);
	fx_load(&fx);
	reloader_stats(fx.rl, &rs);
	triggers = rs.triggers;
	q = quarantine_of(&p, pt);
	ck_assert_uint_eq(quarantine_recheck(q), 2);
	assert_status(&fx, "d", "active");
	assert_status(&fx, "f", "active");
	ck_assert(exists(&fx, "rules", "d") && exists(&fx, "rules", "f"));
	ck_assert(!exists(&fx, "rejected", "d") &&
	    !exists(&fx, "rejected", "f"));
	ck_assert_uint_eq(registry_rejected(fx.reg), 0);
	reloader_stats(fx.rl, &rs);
	ck_assert_uint_gt(rs.triggers, triggers);
	quarantine_free(q);
	promtool_free(pt);
	free(bin);
	prom_clear(&p);
	fx_done(&fx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("diagnosis");

	log_set_level("error");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_search_by_reloads);
	tcase_add_test(tc, test_not_flowmons_fault);
	tcase_add_test(tc, test_promtool_first);
	tcase_add_test(tc, test_rollback_keeps_old_version);
	tcase_add_test(tc, test_restart_mid_search);
	tcase_add_test(tc, test_recheck_at_start);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
