/* check_lifecycle.c: the rule lifecycle (lifecycle.h) against a fake
 * Prometheus: the reloader's back end reads rules/ as Prometheus would
 * and refuses the whole reload when any file holds the word BAD, keeping
 * the rules it ran before (as Prometheus does). The tests check each
 * service's state word, what accepted/ and rejected/ hold (also after a
 * restart: the state comes from the files alone), who ends up rejected,
 * what Prometheus runs in the end, and that no group Prometheus runs is
 * ever taken out or sent back to an older version on the way, also for a
 * file written while a reload was in flight; and what a Prometheus run as
 * a child tells at its start (lifecycle_child_event()): what it loaded
 * then, and an exit at start for a rule file it refuses. */
#include <dirent.h>
#include <stdarg.h>

#include "fixture.h"
#include "lifecycle.h"
#include "log.h"
#include "promtool.h"
#include "views.h"

#define MAXG	16

/* What the fake Prometheus runs: group (file) names and contents. */
struct prom {
	struct fixture	*fx;
	struct lifecycle *lc;
	int		 reloads;	/* attempts */
	int		 nrun;
	char		*run[MAXG];	/* file names, sorted */
	char		*body[MAXG];
	/* Groups that must stay loaded on every attempt, good or not. */
	const char	*const *keep;
	int		 kept_broken;	/* an attempt saw one missing */
	int		 always_refuse;
	/* After each reload that succeeds: went_back is set when group
	 * watch runs a body holding never once it ran one holding newer. */
	const char	*watch;
	const char	*newer;
	const char	*never;
	int		 seen_newer;
	int		 went_back;
	/* Run once inside the next attempt, before and after rules/ is
	 * read: requests racing the reload. */
	void		(*before)(struct prom *p);
	void		(*during)(struct prom *p);
	/* Atomic: not running (a child between its exit and its start):
	 * every attempt a retry. */
	int		 down;
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

static enum fm_err
fake_reload(void *ctx, char err[ERR_MAX])
{
	struct prom *p = ctx;
	void (*before)(struct prom *) = p->before;
	void (*during)(struct prom *) = p->during;
	char *names[MAXG], *bodies[MAXG];
	const char *w;
	int n, i, k, bad = 0;

	__atomic_add_fetch(&p->reloads, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->down, __ATOMIC_ACQUIRE)) {
		snprintf(err, ERR_MAX, "prometheus is not running");
		return FM_RETRY;
	}
	p->before = p->during = NULL;
	if (before != NULL)
		before(p);
	n = read_rules(p->fx, names, bodies);
	if (during != NULL)
		during(p);
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
	if (p->watch != NULL && (w = running_body(p, p->watch)) != NULL) {
		p->seen_newer |= strstr(w, p->newer) != NULL;
		p->went_back |= p->seen_newer && strstr(w, p->never) != NULL;
	}
	return FM_OK;
}

static const struct reload_backend fake_prometheus = {
	"fake", fake_reload, NULL, NULL
};

/* The registry over fx->dir with the fake Prometheus, and its lifecycle
 * (without promtool unless pt); nothing loaded. */
static void
start(struct fixture *fx, struct prom *p, struct promtool *pt)
{
	fx->backend = &fake_prometheus;
	fx->backend_arg = p;
	fx_start(fx);
	ck_assert_ptr_nonnull(p->lc = lifecycle_new(fx->reg, fx->rl, pt));
}

static void
stop(struct fixture *fx, struct prom *p)
{
	fx_close(fx);
	lifecycle_free(p->lc);
	p->lc = NULL;
}

/* From now on, group name must never run a body holding never once it ran
 * one holding newer (it may run it already). */
static void
watch(struct prom *p, const char *name, const char *newer, const char *never)
{
	const char *w = running_body(p, name);

	p->watch = name;
	p->newer = newer;
	p->never = never;
	p->seen_newer = w != NULL && strstr(w, newer) != NULL;
	p->went_back = 0;
}

/* A reload as the daemon's reloader makes it. */
static enum fm_err
reload(struct prom *p)
{
	char err[ERR_MAX];

	return lifecycle_reload(p->lc, err);
}

/* The names Prometheus runs, joined by ' ', without ".yml". */
static void
assert_running(const struct prom *p, const char *want)
{
	char got[1024];
	size_t len = 0;
	int i;

	got[0] = '\0';
	for (i = 0; i < p->nrun; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%.*s",
		    i ? " " : "", (int)(strlen(p->run[i]) - 4), p->run[i]);
	ck_assert_msg(strcmp(got, want) == 0, "Prometheus runs \"%s\", want "
	    "\"%s\"", got, want);
}

/* The services API's answer for name: its status and rules.state. */
static void
assert_state(struct fixture *fx, const char *name, const char *status,
    const char *rules)
{
	cJSON *j = views_service(fx->reg, NULL, NULL, name), *r;

	ck_assert_ptr_nonnull(j);
	ck_assert_msg(strcmp(cJSON_GetObjectItem(j, "status")->valuestring,
	    status) == 0, "%s is %s, want %s", name,
	    cJSON_GetObjectItem(j, "status")->valuestring, status);
	ck_assert_ptr_nonnull(r = cJSON_GetObjectItem(j, "rules"));
	ck_assert_msg(strcmp(cJSON_GetObjectItem(r, "state")->valuestring,
	    rules) == 0, "%s's rules are %s, want %s", name,
	    cJSON_GetObjectItem(r, "state")->valuestring, rules);
	ck_assert((cJSON_GetObjectItem(r, "reason") != NULL) ==
	    (strcmp(rules, "rejected") == 0));
	cJSON_Delete(j);
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

/* <kind>/<name>.yml holds s. */
static void
assert_holds(struct fixture *fx, const char *kind, const char *name,
    const char *s)
{
	char *t = slurp(fx, kind, name);

	ck_assert_msg(t != NULL && strstr(t, s) != NULL, "%s/%s.yml: %s, "
	    "want %s in it", kind, name, t ? t : "(none)", s);
	free(t);
}

/* rules/ and accepted/ hold the same file for name. */
static void
assert_accepted(struct fixture *fx, const char *name)
{
	char *a = slurp(fx, "rules", name), *b = slurp(fx, "accepted", name);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}

static size_t
count(struct fixture *fx, enum rule_state s)
{
	size_t c[RULE_NSTATES];

	registry_rule_counts(fx->reg, c);
	return c[s];
}

#define GOOD(s, e)	"serviceName=" s "&alertName=a&alertIf=" e

/* Three services Prometheus runs; then one changes (still good), a new one
 * is refused by Prometheus, another new one is good. */
static void
scene(struct fixture *fx, struct prom *p, const char *bad_expr, int refuse)
{
	char body[256];

	fx_upsert(fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(fx, GOOD("b", "up+%3D%3D+2"));
	fx_upsert(fx, GOOD("c", "up+%3D%3D+3"));
	ck_assert_int_eq(reload(p), FM_OK);
	assert_running(p, "a b c");
	fx_upsert(fx, GOOD("a", "up+%3D%3D+10"));
	snprintf(body, sizeof(body), GOOD("d", "%s"), bad_expr);
	fx_upsert(fx, body);
	fx_upsert(fx, GOOD("e", "up+%3D%3D+5"));
	p->always_refuse = refuse;
	ck_assert_int_eq(reload(p), refuse || strstr(bad_expr, "BAD") ?
	    FM_REFUSED : FM_OK);
}

static void
open_scene(struct fixture *fx, struct prom *p, struct promtool *pt)
{
	memset(fx, 0, sizeof(*fx));
	memset(p, 0, sizeof(*p));
	fx->dir = tu_tmpdir();
	p->fx = fx;
	start(fx, p, pt);
}

static void
done(struct fixture *fx, struct prom *p)
{
	stop(fx, p);
	tu_rmrf(fx->dir);
	free(fx->dir);
	prom_clear(p);
}

START_TEST(test_states)
{
	struct fixture fx;
	struct prom p;

	open_scene(&fx, &p, NULL);
	fx_upsert(&fx, "serviceName=t");
	assert_state(&fx, "t", "active", "none");
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	ck_assert_int_eq(fx_upsert(&fx, GOOD("a", "up+%3D%3D+2")).rules,
	    RULE_PENDING);
	assert_state(&fx, "a", "active", "pending");
	ck_assert(!exists(&fx, "accepted", "a"));
	ck_assert_int_eq(reload(&p), FM_OK);
	assert_state(&fx, "a", "active", "loaded");
	assert_accepted(&fx, "a");
	ck_assert_uint_eq(count(&fx, RULE_LOADED), 1);
	ck_assert_uint_eq(count(&fx, RULE_NONE), 1);
	/* A change: pending, accepted/ keeps the loaded version; the same
	 * bytes as accepted/ again: loaded at once. */
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+3"));
	assert_state(&fx, "a", "active", "pending");
	assert_holds(&fx, "accepted", "a", "up == 2");
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+2"));
	assert_state(&fx, "a", "active", "loaded");
	/* The alerts go: pending until a reload drops the group, then none
	 * and accepted/ is swept. */
	fx_upsert(&fx, "serviceName=a");
	assert_state(&fx, "a", "active", "pending");
	ck_assert(exists(&fx, "accepted", "a"));
	ck_assert_int_eq(reload(&p), FM_OK);
	assert_state(&fx, "a", "active", "none");
	ck_assert(!exists(&fx, "accepted", "a"));
	/* A removed service: its accepted/ copy goes with the next reload,
	 * and its entry with it. */
	fx_upsert(&fx, GOOD("z", "up"));
	ck_assert_int_eq(reload(&p), FM_OK);
	ck_assert(exists(&fx, "accepted", "z"));
	fx_remove(&fx, "z");
	ck_assert(exists(&fx, "accepted", "z"));
	ck_assert_int_eq(reload(&p), FM_OK);
	ck_assert(!exists(&fx, "accepted", "z"));
	ck_assert_uint_eq(registry_entries(fx.reg), 2);
	done(&fx, &p);
}
END_TEST

/* Nothing but files says what Prometheus runs: after a restart, loaded
 * files are loaded, a stale accepted/ file of a service removed while
 * flowmon was down is swept, and so is a rejected/ file without record. */
START_TEST(test_state_from_files)
{
	struct fixture fx;
	struct prom p;
	char *path;

	open_scene(&fx, &p, NULL);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+2"));
	ck_assert_int_eq(reload(&p), FM_OK);
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+3"));
	stop(&fx, &p);
	/* Removed by hand while down: only accepted/ remembers it. */
	path = fx_path(&fx, "state", "a", ".json");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	path = fx_path(&fx, "rules", "a", ".yml");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	path = fx_path(&fx, "rejected", "gone", ".yml");
	tu_spit(path, "groups: []\n");
	free(path);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_state(&fx, "b", "active", "pending");
	assert_holds(&fx, "accepted", "b", "up == 2");
	ck_assert(!exists(&fx, "accepted", "a"));
	ck_assert(!exists(&fx, "rejected", "gone"));
	ck_assert_int_eq(reload(&p), FM_OK);
	assert_state(&fx, "b", "active", "loaded");
	assert_accepted(&fx, "b");
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_state(&fx, "b", "active", "loaded");
	done(&fx, &p);
}
END_TEST

START_TEST(test_search_by_reloads)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct fixture fx;
	struct prom p;

	open_scene(&fx, &p, NULL);
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	p.keep = loaded;
	watch(&p, "a", "up == 10", "up == 1\n");
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	/* No group Prometheus ran left it during the search. */
	ck_assert_int_eq(p.kept_broken, 0);
	/* d is rejected; every other change runs. */
	assert_state(&fx, "d", "rejected", "rejected");
	ck_assert(exists(&fx, "rejected", "d"));
	ck_assert(!exists(&fx, "rules", "d"));
	assert_running(&p, "a b c e");
	ck_assert_ptr_nonnull(strstr(running_body(&p, "a"), "up == 10"));
	assert_state(&fx, "a", "active", "loaded");
	assert_state(&fx, "e", "active", "loaded");
	ck_assert_uint_eq(count(&fx, RULE_REJECTED), 1);
	ck_assert_uint_eq(count(&fx, RULE_LOADED), 4);
	/* Elimination: at least the all-out and the final reloads. */
	ck_assert_int_ge(p.reloads - 2, 2);
	/* accepted/ holds what Prometheus runs; nothing of d. */
	ck_assert(!exists(&fx, "accepted", "d"));
	assert_accepted(&fx, "a");
	assert_accepted(&fx, "b");
	assert_accepted(&fx, "e");
	/* The reason is on the file, and survives a restart. */
	assert_holds(&fx, "rejected", "d", "Prometheus refused");
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_state(&fx, "d", "rejected", "rejected");
	{
		cJSON *j = views_service(fx.reg, NULL, NULL, "d");

		ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(j, "rules"), "reason")->valuestring,
		    "the reload succeeds without it"));
		cJSON_Delete(j);
	}
	/* The same alerts again keep it out; new ones readmit it, the one
	 * way out of rejected/. */
	fx_upsert(&fx, GOOD("d", "vector(1)+%23+BAD"));
	assert_state(&fx, "d", "rejected", "rejected");
	ck_assert(!exists(&fx, "rules", "d"));
	fx_upsert(&fx, GOOD("d", "vector(2)"));
	assert_state(&fx, "d", "active", "pending");
	ck_assert(!exists(&fx, "rejected", "d"));
	ck_assert_int_eq(reload(&p), FM_OK);
	assert_running(&p, "a b c d e");
	ck_assert_int_eq(p.went_back, 0);
	done(&fx, &p);
}
END_TEST

START_TEST(test_not_flowmons_fault)
{
	struct fixture fx;
	struct prom p;
	int before;

	open_scene(&fx, &p, NULL);
	/* Prometheus refuses whatever flowmon does. */
	scene(&fx, &p, "vector(4)", 1);
	before = p.reloads;
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 0);
	ck_assert_int_gt(p.reloads, before);
	/* Everything is back where it was. */
	ck_assert(exists(&fx, "rules", "a") && exists(&fx, "rules", "d") &&
	    exists(&fx, "rules", "e"));
	assert_holds(&fx, "rules", "a", "up == 10");
	assert_state(&fx, "d", "active", "pending");
	ck_assert_uint_eq(count(&fx, RULE_REJECTED), 0);
	/* Once Prometheus is fixed, everything runs. */
	p.always_refuse = 0;
	ck_assert_int_eq(reload(&p), FM_OK);
	assert_running(&p, "a b c d e");
	done(&fx, &p);
}
END_TEST

/* A service Prometheus runs gets a version it refuses: while the culprit
 * is searched for and afterwards, Prometheus keeps running the old one. */
START_TEST(test_rollback_keeps_old_version)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct fixture fx;
	struct prom p;

	open_scene(&fx, &p, NULL);
	scene(&fx, &p, "vector(4)", 0);
	p.keep = loaded;
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+20"));
	fx_upsert(&fx, GOOD("c", "vector(3)+%23+BAD"));
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	ck_assert_int_eq(p.kept_broken, 0);
	assert_state(&fx, "c", "rejected", "rejected");
	assert_running(&p, "a b c d e");
	/* c's group runs its last good version; rules/ holds it too. */
	ck_assert_ptr_nonnull(strstr(running_body(&p, "c"), "up == 3"));
	ck_assert_ptr_nonnull(strstr(running_body(&p, "b"), "up == 20"));
	assert_holds(&fx, "rules", "c", "up == 3");
	assert_holds(&fx, "rejected", "c", "BAD");

	/* A restart: c stays rejected, rules/ keeps the old version, and
	 * no other file is pending. */
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_state(&fx, "c", "rejected", "rejected");
	assert_holds(&fx, "rules", "c", "up == 3");
	ck_assert_uint_eq(count(&fx, RULE_PENDING), 0);
	ck_assert_uint_eq(count(&fx, RULE_LOADED), 4);
	done(&fx, &p);
}
END_TEST

static int
set_aside_cb(void *ctx, const struct registry_rule *x)
{
	char err[ERR_MAX];

	(void)ctx;
	ck_assert_int_eq(rule_set_aside(x->rf, x->st, x->name, x->clock, err),
	    1);
	return 0;
}

/* flowmon dies while files are set aside for a test reload: the next start
 * puts the versions their records say back, and the search starts over. */
START_TEST(test_restart_mid_search)
{
	struct fixture fx;
	struct prom p;

	open_scene(&fx, &p, NULL);
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	/* The search sets a (changed) and e (new) aside... */
	ck_assert_int_eq(registry_rules_one(fx.reg, "a", set_aside_cb, NULL),
	    1);
	ck_assert_int_eq(registry_rules_one(fx.reg, "e", set_aside_cb, NULL),
	    1);
	assert_holds(&fx, "rules", "a", "up == 1\n");
	ck_assert(!exists(&fx, "rules", "e"));
	assert_state(&fx, "a", "active", "pending");
	/* ...and flowmon is killed. */
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_holds(&fx, "rules", "a", "up == 10");
	ck_assert(exists(&fx, "rules", "e"));
	assert_state(&fx, "a", "active", "pending");
	assert_state(&fx, "e", "active", "pending");
	/* The search starts over and finds d alone. */
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	assert_running(&p, "a b c e");
	assert_state(&fx, "d", "rejected", "rejected");
	done(&fx, &p);
}
END_TEST

/* The scene on any file system: loaded files are known after a
 * restart from accepted/ alone, so a search at the next start never sets
 * them aside, and none leaves Prometheus. */
START_TEST(test_restart_keeps_loaded)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct fixture fx;
	struct prom p;
	int before;

	open_scene(&fx, &p, NULL);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+2"));
	fx_upsert(&fx, GOOD("c", "up+%3D%3D+3"));
	ck_assert_int_eq(reload(&p), FM_OK);
	/* A good change and a bad service, then a crash before the reload. */
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+10"));
	fx_upsert(&fx, GOOD("d", "vector(1)+%23+BAD"));
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	assert_state(&fx, "b", "active", "loaded");
	assert_state(&fx, "a", "active", "pending");
	p.keep = loaded;
	watch(&p, "a", "up == 10", "up == 1\n");
	before = p.reloads;
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	ck_assert_int_eq(p.kept_broken, 0);
	assert_running(&p, "a b c");
	ck_assert_ptr_nonnull(strstr(running_body(&p, "a"), "up == 10"));
	assert_state(&fx, "d", "rejected", "rejected");
	assert_state(&fx, "a", "active", "loaded");
	/* Both are in doubt after a restart: one at a time, no more than
	 * the refused reload and two tests. */
	ck_assert_int_le(p.reloads - before, 3);
	ck_assert_int_eq(p.went_back, 0);
	done(&fx, &p);
}
END_TEST

static void
race_a(struct prom *p)
{
	fx_upsert(p->fx, GOOD("a", "up+%3D%3D+3"));
}

static void
race_a_bad(struct prom *p)
{
	fx_upsert(p->fx, GOOD("a", "up+%3D%3D+3+%23+BAD"));
}

static void
race_c(struct prom *p)
{
	fx_upsert(p->fx, GOOD("c", "up+%3D%3D+30"));
}

/* A file written while a reload is in flight: Prometheus read the older
 * version (here) or the newer one, flowmon cannot tell. It stays pending
 * and accepted/ is not moved; a later search never puts accepted/'s older
 * version back for it, nor removes it, unless it is itself the culprit. */
START_TEST(test_write_during_reload)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
	struct fixture fx;
	struct prom p;

	open_scene(&fx, &p, NULL);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+2"));
	fx_upsert(&fx, GOOD("c", "up+%3D%3D+3"));
	ck_assert_int_eq(reload(&p), FM_OK);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+2"));
	p.during = race_a;
	ck_assert_int_eq(reload(&p), FM_OK);
	/* Prometheus runs a's up == 2; rules/ holds up == 3. */
	ck_assert_ptr_nonnull(strstr(running_body(&p, "a"), "up == 2"));
	assert_state(&fx, "a", "active", "pending");
	assert_holds(&fx, "accepted", "a", "up == 1\n");
	/* A bad service, and the search: a must never run up == 1 again. */
	p.keep = loaded;
	watch(&p, "a", "up == 2", "up == 1\n");
	fx_upsert(&fx, GOOD("d", "vector(1)+%23+BAD"));
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	ck_assert_int_eq(p.went_back, 0);
	ck_assert_int_eq(p.kept_broken, 0);
	assert_running(&p, "a b c");
	ck_assert_ptr_nonnull(strstr(running_body(&p, "a"), "up == 3"));
	assert_state(&fx, "a", "active", "loaded");
	assert_accepted(&fx, "a");
	assert_state(&fx, "d", "rejected", "rejected");

	/* Now a racing write is the bad one (Prometheus read a's older
	 * version), beside a good one (c) Prometheus did read: the one at
	 * fault is found by leaving out one at a time, and c never runs its
	 * older version on the way. */
	p.before = race_c;
	p.during = race_a_bad;
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+20"));
	ck_assert_int_eq(reload(&p), FM_OK);
	ck_assert_ptr_nonnull(strstr(running_body(&p, "c"), "up == 30"));
	assert_state(&fx, "a", "active", "pending");
	assert_state(&fx, "c", "active", "pending");
	assert_state(&fx, "b", "active", "loaded");
	watch(&p, "c", "up == 30", "up == 3\n");
	fx_upsert(&fx, GOOD("c", "up+%3D%3D+31"));
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
	ck_assert_int_eq(p.went_back, 0);
	assert_state(&fx, "a", "rejected", "rejected");
	assert_state(&fx, "c", "active", "loaded");
	ck_assert_ptr_nonnull(strstr(running_body(&p, "c"), "up == 31"));
	done(&fx, &p);
}
END_TEST

START_TEST(test_promtool_first)
{
	static const char *const loaded[] = { "a.yml", "b.yml", "c.yml",
	    NULL };
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
	open_scene(&fx, &p, pt);
	/* Bad for promtool too: an unclosed parenthesis. */
	scene(&fx, &p, "rate(BAD%5B5m%5D", 0);
	p.keep = loaded;
	before = p.reloads;
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 1);
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
	done(&fx, &p);
	promtool_free(pt);
	free(bin);
}
END_TEST

/* At start, what is rejected is judged again by promtool, all at once:
 * what passes comes back (and a reload is asked for); without promtool,
 * what Prometheus itself refused stays out. */
START_TEST(test_recheck_at_start)
{
	struct promtool *pt;
	struct fixture fx;
	struct prom p;
	char *bin, err[ERR_MAX];
	struct reloader_stats rs;

	if ((bin = tu_require("test_recheck_at_start", "promtool",
	    "prometheus")) == NULL)
		return;
	ck_assert_ptr_nonnull(pt = promtool_new(bin, 2, err));
	open_scene(&fx, &p, pt);
	/* Prometheus refuses d for a reason promtool cannot see. */
	scene(&fx, &p, "vector(1)+%23+BAD", 0);
	fx_upsert(&fx, GOOD("f", "vector(1)+%23+BAD"));
	ck_assert_int_eq(reload(&p), FM_REFUSED);
	ck_assert_uint_eq(lifecycle_diagnose(p.lc), 2);
	assert_state(&fx, "d", "rejected", "rejected");
	assert_state(&fx, "f", "rejected", "rejected");

	/* A start without promtool: they stay out. */
	stop(&fx, &p);
	start(&fx, &p, NULL);
	fx_load(&fx);
	ck_assert_uint_eq(lifecycle_recheck(p.lc), 0);
	assert_state(&fx, "d", "rejected", "rejected");

	/* A start with promtool: both pass it, both come back. */
	stop(&fx, &p);
	start(&fx, &p, pt);
	fx_load(&fx);
	ck_assert_uint_eq(lifecycle_recheck(p.lc), 2);
	assert_state(&fx, "d", "active", "pending");
	assert_state(&fx, "f", "active", "pending");
	ck_assert(exists(&fx, "rules", "d") && exists(&fx, "rules", "f"));
	ck_assert(!exists(&fx, "rejected", "d") &&
	    !exists(&fx, "rejected", "f"));
	ck_assert_uint_eq(count(&fx, RULE_REJECTED), 0);
	reloader_stats(fx.rl, &rs);
	ck_assert_uint_gt(rs.pending, 0);
	done(&fx, &p);
	promtool_free(pt);
	free(bin);
}
END_TEST

/*
 * A Prometheus run as a child (lifecycle_child_event()): the reloader's
 * own attempts, with its hooks, follow each trigger here.
 */

static void
open_child_scene(struct fixture *fx, struct prom *p)
{
	memset(fx, 0, sizeof(*fx));
	memset(p, 0, sizeof(*p));
	fx->dir = tu_tmpdir();
	fx->backend_delay_ms = 20;
	p->fx = fx;
	start(fx, p, NULL);
}

static int
idle(struct fixture *fx)
{
	struct reloader_stats rs;

	reloader_stats(fx->rl, &rs);
	return !rs.pending;
}

static int
state_is(struct fixture *fx, const char *name, const char *rules)
{
	cJSON *j = views_service(fx->reg, NULL, NULL, name), *r;
	int is;

	ck_assert_ptr_nonnull(j);
	r = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rules"), "state");
	is = r != NULL && strcmp(r->valuestring, rules) == 0;
	cJSON_Delete(j);
	return is;
}

/* Stops the reloader's thread, hooks and all: what the fake runs holds
 * still for the checks. */
static void
halt(struct fixture *fx)
{
	reloader_free(fx->rl);
	fx->rl = NULL;
}

/* The child starts: it loads what rules/ holds (the reloader thread is
 * idle: every attempt fails while it is down). */
static void
child_loads(struct prom *p)
{
	char *names[MAXG], *bodies[MAXG];
	int n, i;

	n = read_rules(p->fx, names, bodies);
	prom_clear(p);
	for (i = 0; i < n; i++) {
		p->run[i] = names[i];
		p->body[i] = bodies[i];
	}
	p->nrun = n;
}

/* What a child loaded at its start is loaded, though no reload succeeds;
 * a file written after it started stays pending (in doubt). */
START_TEST(test_child_ready_settles)
{
	struct fixture fx;
	struct prom p;

	open_child_scene(&fx, &p);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	FX_WAIT(state_is(&fx, "a", "loaded"), 10000, "a never loaded");
	/* The child exits; b is written before its next start, c after. */
	__atomic_store_n(&p.down, 1, __ATOMIC_RELEASE);
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+2"));
	lifecycle_child_event(p.lc, SUPERVISOR_SPAWNING, NULL);
	fx_upsert(&fx, GOOD("c", "up+%3D%3D+3"));
	FX_WAIT(__atomic_load_n(&p.reloads, __ATOMIC_SEQ_CST) >= 3, 10000,
	    "no attempt while down");
	child_loads(&p);
	lifecycle_child_event(p.lc, SUPERVISOR_READY, NULL);
	FX_WAIT(state_is(&fx, "b", "loaded"), 10000, "b not loaded at the "
	    "child's start");
	assert_accepted(&fx, "b");
	assert_state(&fx, "c", "active", "pending");
	assert_state(&fx, "a", "active", "loaded");
	/* The child answers reloads again: c too. */
	__atomic_store_n(&p.down, 0, __ATOMIC_RELEASE);
	FX_WAIT(state_is(&fx, "c", "loaded"), 30000, "c never loaded");
	halt(&fx);
	assert_running(&p, "a b c");
	done(&fx, &p);
}
END_TEST

/* The child exits at start on a rule file: the pending files are set
 * aside (accepted/'s version back in rules/) so it starts; then they come
 * back by halves, the culprit is rejected, the others loaded, and no
 * group it ran went missing or back on the way. */
START_TEST(test_child_start_failed)
{
	static const char *const loaded[] = { "a.yml", "b.yml", NULL };
	struct fixture fx;
	struct prom p;

	open_child_scene(&fx, &p);
	fx_upsert(&fx, GOOD("a", "up+%3D%3D+1"));
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+2"));
	FX_WAIT(state_is(&fx, "a", "loaded") && state_is(&fx, "b",
	    "loaded"), 10000, "a, b never loaded");
	FX_WAIT(idle(&fx), 10000, "reloads pending");
	/* Killed; while down, b changes, d (refused) and e are new; the
	 * start fails on d. */
	__atomic_store_n(&p.down, 1, __ATOMIC_RELEASE);
	fx_upsert(&fx, GOOD("b", "up+%3D%3D+20"));
	fx_upsert(&fx, GOOD("d", "vector(1)+%23+BAD"));
	fx_upsert(&fx, GOOD("e", "up+%3D%3D+5"));
	lifecycle_child_event(p.lc, SUPERVISOR_START_FAILED, "exit status 1");
	FX_WAIT(!exists(&fx, "rules", "d") && !exists(&fx, "rules", "e"),
	    30000, "d and e not set aside");
	assert_holds(&fx, "rules", "b", "up == 2\n");
	assert_state(&fx, "b", "active", "pending");
	assert_state(&fx, "d", "active", "pending");
	/* It starts with what it ran last, and is ready. */
	lifecycle_child_event(p.lc, SUPERVISOR_SPAWNING, NULL);
	child_loads(&p);
	assert_running(&p, "a b");
	p.keep = loaded;
	watch(&p, "b", "up == 20", "up == 2\n");
	__atomic_store_n(&p.down, 0, __ATOMIC_RELEASE);
	lifecycle_child_event(p.lc, SUPERVISOR_READY, NULL);
	FX_WAIT(state_is(&fx, "d", "rejected"), 30000, "d not rejected");
	FX_WAIT(state_is(&fx, "e", "loaded") && state_is(&fx, "b",
	    "loaded"), 30000, "b, e not loaded");
	halt(&fx);
	assert_running(&p, "a b e");
	assert_holds(&fx, "rules", "b", "up == 20");
	ck_assert(!exists(&fx, "rules", "d"));
	assert_holds(&fx, "rejected", "d", "BAD");
	ck_assert_int_eq(p.kept_broken, 0);
	ck_assert_int_eq(p.went_back, 0);
	done(&fx, &p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("lifecycle");

	log_set_level("error");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_state_from_files);
	tcase_add_test(tc, test_search_by_reloads);
	tcase_add_test(tc, test_not_flowmons_fault);
	tcase_add_test(tc, test_rollback_keeps_old_version);
	tcase_add_test(tc, test_restart_mid_search);
	tcase_add_test(tc, test_restart_keeps_loaded);
	tcase_add_test(tc, test_write_during_reload);
	tcase_add_test(tc, test_promtool_first);
	tcase_add_test(tc, test_recheck_at_start);
	tcase_add_test(tc, test_child_ready_settles);
	tcase_add_test(tc, test_child_start_failed);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
