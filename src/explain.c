/* explain.c: the facts of a service, gathered for the explain API and the
 * status page, and the API's JSON. What flowmon knows is copied out of the
 * registry under the service's lock, its history (kept with it) too;
 * everything else (the file watcher's listing, the Docker source's
 * remarks, Prometheus's answers) is read after it is released, so asking
 * Prometheus never holds up a request that writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "bounds.h"
#include "buf.h"
#include "clock.h"
#include "docker.h"
#include "explain.h"
#include "files.h"
#include "log.h"
#include "promapi.h"
#include "registry.h"
#include "reloader.h"
#include "render.h"
#include "store.h"
#include "strv.h"
#include "url.h"

void
explain_release(struct explain *x)
{
	free(x->name);
	free(x->invalid);
	kvlist_release(&x->params);
	free(x->targets_file);
	free(x->targets_base);
	free(x->rules_file);
	free(x->rule_reason);
	strv_free(x->alerts, x->nalerts);
	history_items_free(x->history, x->nhistory);
	strv_free(x->warnings, x->nwarnings);
	promstate_put(x->prom);
	free(x->targets_text);
	free(x->rules_text);
	memset(x, 0, sizeof(*x));
}

void
explain_all_free(struct explain *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		explain_release(&v[i]);
	free(v);
}

/* *s (malloc'd, or NULL) redacted in place: 0, or -1 on ENOMEM (*s
 * freed and NULL then). Whatever explain copies out is redacted so, or
 * copied by url_redact_dup(), as everything flowmon shows (url.h): what
 * was received may carry credentials (a webhook URL in an annotation),
 * and so may a message quoting it, or a file written from it. */
static int
redact_in_place(char **s)
{
	char *r;

	if (*s == NULL || !url_text_may_hide(*s, strlen(*s)))
		return 0;
	r = url_redact_dup(*s);
	free(*s);
	*s = r;
	return r != NULL ? 0 : -1;
}

static int
copy_params(struct kvlist *dst, const struct kvlist *src)
{
	size_t i;
	char *v;
	int rc;

	for (i = 0; i < src->n; i++) {
		if ((v = url_redact_dup(src->v[i].value)) == NULL)
			return -1;
		rc = kvlist_set(dst, src->v[i].key, v);
		free(v);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static char *
path_of(struct registry *r, enum store_kind kind, const char *name)
{
	char path[4096];

	store_path(registry_store(r), kind, name, path, sizeof(path));
	return strdup(path);
}

/* What one service's fill needs besides the view. */
struct fill {
	struct explain	*x;
	int		 light;		/* the overview's: no parameters */
	int		 detail;	/* the service page's: file texts */
	int		 failed;
};

/* Copies what x needs out of the view (the service's lock held). */
static int
fill_view(struct fill *f, struct registry *r, const struct registry_view *v)
{
	struct explain *x = f->x;
	char base[214], err[ERR_MAX];
	size_t i, len;

	if ((x->name = strdup(v->name)) == NULL)
		return -1;
	/* Its story is kept with it, under the lock held now: the overview
	 * wants its counts, a service's page the whole story. */
	if (f->light)
		history_story_counts(v->story, &x->counts);
	else if (history_story_items(v->story, &x->history, &x->nhistory,
	    &x->counts) == -1)
		return -1;
	x->state = v->svc == NULL ? "invalid" :
	    v->rule_state == RULE_REJECTED ? "rejected" : "active";
	x->removed = v->removed;
	x->rule_state = v->rule_state;
	store_base(v->name, base);
	if ((x->targets_base = malloc(strlen(base) + 6)) == NULL)
		return -1;
	snprintf(x->targets_base, strlen(base) + 6, "%s.json", base);
	if (v->invalid != NULL && (x->invalid = url_redact_dup(v->invalid)) == NULL)
		return -1;
	if (v->rule_reason != NULL && (x->rule_reason = url_redact_dup(
	    v->rule_reason[0] != '\0' ? v->rule_reason :
	    "refused (the reason was not kept)")) == NULL)
		return -1;
	x->has_targets = v->has_targets;
	x->has_rules = v->rule_reason != NULL || v->has_rules;
	if (!f->light && x->has_targets && (x->targets_file = path_of(r,
	    STORE_TARGETS, v->name)) == NULL)
		return -1;
	if (!f->light && x->has_rules && (x->rules_file = path_of(r,
	    v->rule_reason != NULL ? STORE_REJECTED : STORE_RULES,
	    v->name)) == NULL)
		return -1;
	if (v->svc == NULL)
		return 0;
	x->source = service_source_name(v->svc->source);
	if (!v->removed)
		x->ntargets = render_target_count(v->svc,
		    (const char *const *)v->addrs, v->naddrs);
	for (i = 0; i < v->svc->nalerts; i++)
		if ((!v->removed || v->svc->alerts[i].persistent) &&
		    strv_push(&x->alerts, &x->nalerts,
		    v->svc->alerts[i].name) == -1)
			return -1;
	if (!f->light && copy_params(&x->params, &v->svc->params) == -1)
		return -1;
	if (f->detail && registry_view_targets(r, v, &x->targets_text, &len,
	    err) == -1)
		return -1;
	return 0;
}

static int
one_cb(void *arg, struct registry *r, const struct registry_view *v)
{
	struct fill *f = arg;

	if (fill_view(f, r, v) == -1)
		f->failed = 1;
	return 0;
}

static int
warn(struct explain *x, const char *text)
{
	return strv_push(&x->warnings, &x->nwarnings, text);
}

/* The path of x's rule file as shown: its own (rejected/ when set aside),
 * or, for the overview, which has no paths, rules/<base>.yml. */
static void
rules_path(const struct explain *x, char *path, size_t size)
{
	if (x->rules_file != NULL)
		snprintf(path, size, "%s", x->rules_file);
	else
		snprintf(path, size, "rules/%.*s.yml",
		    (int)(strlen(x->targets_base) - 5), x->targets_base);
}

/* 1 when a reload is configured: c's reloader has a back end. */
static int
reload_configured(const struct explain_ctx *c)
{
	struct reloader_stats rs;

	if (c->rl == NULL)
		return 0;
	reloader_stats(c->rl, &rs);
	return rs.configured;
}

/* The warnings and problems of x that need no Prometheus; edits are
 * looked for when edits is set, reloads says a reload is configured. */
static int
own_facts(const struct explain_ctx *c, struct explain *x, int edits,
    int reloads)
{
	char text[ADVICE_MAX], path[4096];
	size_t n0;

	if (c->files != NULL && edits)
		files_edited(c->files, x->name, x->edited);
	if (x->invalid != NULL)
		x->problems |= EXPLAIN_P_INVALID;
	if (x->rule_reason != NULL)
		x->problems |= EXPLAIN_P_REJECTED;
	if (x->edited[0] || x->edited[1])
		x->problems |= EXPLAIN_P_EDITED;
	/* Without a reload a pending rule file never runs: said for each
	 * service with one, but not as its own problem (the status page
	 * says it once, for all). */
	if (!reloads && x->has_rules && x->rule_state == RULE_PENDING) {
		rules_path(x, path, sizeof(path));
		advice_no_reload(text, path);
		if (warn(x, text) == -1)
			return -1;
	}
	n0 = x->nwarnings;
	if (c->docker != NULL && docker_warnings(c->docker, x->name,
	    &x->warnings, &x->nwarnings) == -1)
		return -1;
	if (x->nwarnings > n0)
		x->problems |= EXPLAIN_P_WARNED;
	return 0;
}

int
explain_prometheus(struct explain *x, struct promstate *ps, const char *url,
    int64_t now_ms)
{
	char text[ADVICE_MAX], path[4096];
	int64_t age = x->counts.written_ms > 0 ? now_ms - x->counts.written_ms :
	    -1;
	size_t i;

	x->prom = promstate_ref(ps);
	x->prom_url = url;
	if (ps == NULL || x->invalid != NULL)
		return 0;
	if (ps->have_targets && x->has_targets) {
		x->nptargets = promstate_targets(ps, x->targets_base, x->name,
		    &x->ptargets);
		for (i = 0; i < x->nptargets; i++) {
			if (strcmp(x->ptargets[i]->health, "up") == 0)
				x->up++;
			else if (strcmp(x->ptargets[i]->health, "down") == 0)
				x->down++;
		}
		if (x->down > 0)
			x->problems |= EXPLAIN_P_DOWN;
		if (x->nptargets == 0) {
			snprintf(path, sizeof(path), "%s%s", x->targets_file ?
			    "" : "targets/", x->targets_file ?
			    x->targets_file : x->targets_base);
			advice_targets_undiscovered(text, path, age);
			if ((age < 0 || age >= ADVICE_GRACE_MS))
				x->problems |= EXPLAIN_P_UNDISCOVERED;
			if (warn(x, text) == -1)
				return -1;
		}
	}
	if (!ps->have_rules || !x->has_rules)
		return 0;
	if ((x->group = promstate_group(ps, x->name)) != NULL) {
		for (i = 0; i < x->group->nrules; i++)
			if (strcmp(x->group->rules[i].state, "firing") == 0)
				x->firing++;
		return 0;
	}
	/* Loaded yet not run is wrong at once; pending, only once it has
	 * waited long (a reload may be on its way). */
	if (x->rule_state != RULE_LOADED && (x->rule_state != RULE_PENDING ||
	    age < ADVICE_GRACE_MS))
		return 0;
	rules_path(x, path, sizeof(path));
	advice_group_not_run(text, x->name, path,
	    x->rule_state == RULE_LOADED);
	if (x->rule_state == RULE_LOADED)
		x->problems |= EXPLAIN_P_NO_GROUP;
	return warn(x, text);
}

/* Why Prometheus is not asked, when it is not (c->prom NULL). */
static const char *
prom_why(const struct explain_ctx *c)
{
	return c->prom != NULL ? NULL : c->prom_none ? EXPLAIN_PROM_NONE :
	    EXPLAIN_PROM_UNKNOWN;
}

/* What Prometheus made of x from ps, or why it was not asked. */
static int
prom_facts(const struct explain_ctx *c, struct explain *x,
    struct promstate *ps, int64_t now_ms)
{
	x->prom_why = prom_why(c);
	if (c->prom == NULL)
		return 0;
	return explain_prometheus(x, ps, promapi_shown(c->prom), now_ms);
}

int
explain_one(const struct explain_ctx *c, const char *name, int detail,
    struct explain *x)
{
	struct fill f = { x, 0, detail, 0 };
	char err[ERR_MAX];
	size_t len;
	int rc = -1;

	memset(x, 0, sizeof(*x));
	if (registry_view_one(c->reg, name, one_cb, &f) == 0)
		return 0;
	if (f.failed)
		goto out;
	if (detail && x->rules_file != NULL && store_read(registry_store(
	    c->reg), x->rule_reason != NULL ? STORE_REJECTED : STORE_RULES,
	    x->name, BOUND_FILE_MAX, &x->rules_text, &len, err) == -1)
		x->rules_text = NULL;	/* gone meanwhile: nothing to show */
	/* The files are shown as everything is: no URL's password. */
	if (redact_in_place(&x->rules_text) == -1 ||
	    redact_in_place(&x->targets_text) == -1)
		goto out;
	if (own_facts(c, x, 1, reload_configured(c)) == -1)
		goto out;
	if ((c->prom != NULL && c->ps == NULL) ||
	    prom_facts(c, x, c->ps, clock_wall_ms()) == -1)
		goto out;
	rc = 1;
out:
	if (rc == -1)
		explain_release(x);
	return rc;
}

/* The overview's collection: one explain per service. */
struct all {
	struct explain	*v;
	size_t		 n;
	size_t		 cap;
	int		 failed;
};

static int
all_cb(void *arg, struct registry *r, const struct registry_view *v)
{
	struct all *a = arg;
	struct fill f = { NULL, 1, 0, 0 };

	if (BUF_ARRAY_GROW(a->v, a->n, a->cap) == -1) {
		a->failed = 1;
		return 1;
	}
	f.x = &a->v[a->n++];
	memset(f.x, 0, sizeof(*f.x));
	if (fill_view(&f, r, v) == -1) {
		a->failed = 1;
		return 1;
	}
	return 0;
}

/* Every service's facts with the snapshot ps (NULL: none). */
static int
gather_all(const struct explain_ctx *c, struct promstate *ps,
    struct explain **v, size_t *n)
{
	struct all a = { NULL, 0, 0, 0 };
	int64_t now = clock_wall_ms();
	size_t i;
	int edits, reloads = reload_configured(c);

	*v = NULL;
	*n = 0;
	if (registry_view_all(c->reg, all_cb, &a) != 0 || a.failed)
		goto fail;
	/* Hand edits are rare: each service is asked only when some were
	 * seen. */
	edits = c->files != NULL && files_edited_count(c->files) > 0;
	for (i = 0; i < a.n; i++) {
		if (own_facts(c, &a.v[i], edits, reloads) == -1 ||
		    prom_facts(c, &a.v[i], ps, now) == -1)
			goto fail;
	}
	*v = a.v;
	*n = a.n;
	return 0;
fail:
	explain_all_free(a.v, a.n);
	return -1;
}

void
explain_overview_release(struct explain_overview *ov)
{
	explain_all_free(ov->v, ov->n);
	promstate_put(ov->prom);
	history_items_free(ov->refused, ov->nrefused);
	strv_free(ov->skipped, 2 * ov->nskipped);
	memset(ov, 0, sizeof(*ov));
}

/* The services the Docker source skips, as name, why pairs. */
static int
skipped(const struct explain_ctx *c, struct explain_overview *ov)
{
	struct docker_ignored *v;
	size_t n, i, k = 0;
	int rc = 0;

	if (c->docker == NULL || docker_ignored(c->docker, &v, &n) == -1)
		return c->docker == NULL ? 0 : -1;
	for (i = 0; i < n && rc == 0; i++)
		if (strv_push(&ov->skipped, &k, v[i].name) == -1 ||
		    strv_push(&ov->skipped, &k, v[i].why) == -1)
			rc = -1;
	ov->nskipped = k / 2;
	docker_ignored_free(v, n);
	return rc;
}

int
explain_overview(const struct explain_ctx *c, struct explain_overview *ov)
{
	struct reloader_stats rs;

	memset(ov, 0, sizeof(*ov));
	ov->version = FLOWMON_VERSION;
	ov->now_ms = clock_wall_ms();
	ov->prom_why = prom_why(c);
	if (c->prom != NULL) {
		ov->prom_url = promapi_shown(c->prom);
		if ((ov->prom = promstate_ref(c->ps)) == NULL)
			goto fail;
	}
	if (gather_all(c, ov->prom, &ov->v, &ov->n) == -1)
		goto fail;
	if (c->rl != NULL) {
		reloader_stats(c->rl, &rs);
		ov->have_reload = rs.configured;
		ov->reload_ok = rs.last_success;
		ov->reload_ms = (int64_t)rs.last_time * 1000;
		snprintf(ov->reload_error, sizeof(ov->reload_error), "%s",
		    rs.last_error);
	}
	if ((c->hist != NULL && history_refused(c->hist, &ov->refused,
	    &ov->nrefused) == -1) || skipped(c, ov) == -1)
		goto fail;
	return 0;
fail:
	explain_overview_release(ov);
	return -1;
}

/*
 * The API's JSON.
 */

static cJSON *
strings_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *
string_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Fills o with item i of v: 0, or -1 when cJSON ran out of memory. */
typedef int (*item_json_fn)(cJSON *o, const void *v, size_t i);

/* An array of n objects, each filled by fn. NULL on ENOMEM. */
static cJSON *
objects_json(const void *v, size_t n, item_json_fn fn)
{
	cJSON *a = cJSON_CreateArray(), *o;
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(a, o) || fn(o, v, i) == -1) {
			if (o != NULL && o->prev == NULL)
				cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static int
target_json(cJSON *o, const void *v, size_t i)
{
	const struct promstate_target *t =
	    ((struct promstate_target *const *)v)[i];

	return cJSON_AddStringToObject(o, "scrapeUrl", t->scrape_url) &&
	    cJSON_AddStringToObject(o, "health", t->health) &&
	    cJSON_AddStringToObject(o, "lastError", t->last_error) ? 0 : -1;
}

static int
alert_json(cJSON *o, const void *v, size_t i)
{
	const struct promstate_rule *r = &((const struct promstate_rule *)v)[i];

	return cJSON_AddStringToObject(o, "name", r->name) &&
	    cJSON_AddStringToObject(o, "state", r->state) &&
	    cJSON_AddNumberToObject(o, "active", (double)r->active) &&
	    cJSON_AddStringToObject(o, "health", r->health) &&
	    cJSON_AddStringToObject(o, "lastError", r->last_error) ? 0 : -1;
}

static int
event_json(cJSON *o, const void *v, size_t i)
{
	const struct history_item *h = &((const struct history_item *)v)[i];
	char t[32];

	clock_rfc3339(h->time_ms, t);
	return cJSON_AddStringToObject(o, "time", t) &&
	    cJSON_AddStringToObject(o, "event", history_event_name(h->ev)) &&
	    cJSON_AddStringToObject(o, "detail", h->detail) &&
	    cJSON_AddNumberToObject(o, "count", h->count) ? 0 : -1;
}

/* "not asked: <why>". */
static cJSON *
prom_not_asked(const char *why)
{
	char text[256];

	snprintf(text, sizeof(text), "not asked: %s", why != NULL ? why :
	    EXPLAIN_PROM_UNKNOWN);
	return cJSON_CreateString(text);
}

static cJSON *
prom_json(const struct explain *x)
{
	const struct promstate *ps = x->prom;
	cJSON *o = cJSON_CreateObject(), *ans;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "url", string_or_null(x->prom_url));
	cJSON_AddBoolToObject(o, "reachable", ps != NULL && ps->reachable);
	cJSON_AddItemToObject(o, "targets", objects_json(x->ptargets,
	    x->nptargets, target_json));
	cJSON_AddItemToObject(o, "alerts", objects_json(x->group ?
	    x->group->rules : NULL, x->group ? x->group->nrules : 0,
	    alert_json));
	if (ps == NULL && x->prom_url == NULL)
		cJSON_AddItemToObject(o, "error", prom_not_asked(x->prom_why));
	else
		cJSON_AddStringToObject(o, "error", ps != NULL ? ps->error : "");
	/* Which answers were read: an empty list above means "none" only
	 * where its answer was. */
	if ((ans = cJSON_AddObjectToObject(o, "answered")) != NULL) {
		cJSON_AddBoolToObject(ans, "targets", ps != NULL &&
		    ps->have_targets);
		cJSON_AddBoolToObject(ans, "rules", ps != NULL &&
		    ps->have_rules);
	}
	if (ps != NULL && ps->have_rules && x->has_rules)
		cJSON_AddBoolToObject(o, "ruleGroup", x->group != NULL);
	else
		cJSON_AddNullToObject(o, "ruleGroup");
	return o;
}

cJSON *
explain_json(const struct explain *x)
{
	cJSON *o = cJSON_CreateObject(), *p, *t, *r, *f;
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "serviceName", x->name);
	cJSON_AddItemToObject(o, "source", string_or_null(x->source));
	cJSON_AddStringToObject(o, "state", x->state);
	cJSON_AddBoolToObject(o, "removed", x->removed);
	if (x->invalid != NULL)
		cJSON_AddStringToObject(o, "invalid", x->invalid);
	if ((p = cJSON_AddObjectToObject(o, "parameters")) != NULL)
		for (i = 0; i < x->params.n; i++)
			cJSON_AddStringToObject(p, x->params.v[i].key,
			    x->params.v[i].value);
	if ((t = cJSON_AddObjectToObject(o, "targets")) != NULL) {
		cJSON_AddItemToObject(t, "file",
		    string_or_null(x->targets_file));
		cJSON_AddNumberToObject(t, "count", (double)x->ntargets);
	}
	if ((r = cJSON_AddObjectToObject(o, "rules")) != NULL) {
		cJSON_AddItemToObject(r, "file", string_or_null(x->rules_file));
		cJSON_AddStringToObject(r, "state",
		    rule_state_name(x->rule_state));
		cJSON_AddItemToObject(r, "reason",
		    string_or_null(x->rule_reason));
		cJSON_AddItemToObject(r, "alerts", strings_json(x->alerts,
		    x->nalerts));
	}
	cJSON_AddItemToObject(o, "prometheus", prom_json(x));
	if ((f = cJSON_AddObjectToObject(o, "files")) != NULL) {
		cJSON_AddBoolToObject(f, "editedByHand", x->edited[0] ||
		    x->edited[1]);
		cJSON_AddBoolToObject(f, "healed", x->counts.healed > 0);
		cJSON_AddBoolToObject(f, "targetsEdited", x->edited[0]);
		cJSON_AddBoolToObject(f, "rulesEdited", x->edited[1]);
		cJSON_AddNumberToObject(f, "healedCount", x->counts.healed);
	}
	cJSON_AddItemToObject(o, "warnings", strings_json(x->warnings,
	    x->nwarnings));
	cJSON_AddItemToObject(o, "history", objects_json(x->history,
	    x->nhistory, event_json));
	/* A member cJSON could not make is missing: say so as a 500. */
	if (cJSON_GetArraySize(o) < 11) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
