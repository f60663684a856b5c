/* promstate.c: Prometheus API answers into a snapshot. Only what the
 * explain API and the status page show is kept, in small copies, and each
 * item of an answer (a target, a rule group) is parsed alone and freed at
 * once: the memory a large answer costs is its bytes and one item's tree,
 * and the snapshot is a fraction of it. Prometheus, vmagent and vmalert answer in the
 * same shape ({"status": "success", "data": ...}); a field of the wrong
 * type counts as absent, since servers differ from version to version
 * (vmagent's __meta_filepath is relative, vmalert's rules carry no
 * alerts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "promstate.h"
#include "url.h"

struct promstate *
promstate_new(void)
{
	struct promstate *ps = calloc(1, sizeof(*ps));

	if (ps != NULL)
		ps->refs = 1;
	return ps;
}

struct promstate *
promstate_ref(struct promstate *ps)
{
	if (ps != NULL)
		__atomic_add_fetch(&ps->refs, 1, __ATOMIC_RELAXED);
	return ps;
}

static void
target_release(struct promstate_target *t)
{
	free(t->file);
	free(t->job);
	free(t->scrape_url);
	free(t->last_error);
}

static void
group_release(struct promstate_group *g)
{
	size_t i;

	for (i = 0; i < g->nrules; i++) {
		free(g->rules[i].name);
		free(g->rules[i].last_error);
	}
	free(g->rules);
	free(g->name);
	free(g->file);
}

void
promstate_put(struct promstate *ps)
{
	size_t i;

	if (ps == NULL || __atomic_sub_fetch(&ps->refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < ps->ntargets; i++)
		target_release(&ps->targets[i]);
	for (i = 0; i < ps->ngroups; i++)
		group_release(&ps->groups[i]);
	free(ps->targets);
	free(ps->by_file);
	free(ps->by_job);
	free(ps->groups);
	free(ps);
}

/* The string member key of obj, or NULL. */
static const char *
member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_IsObject(obj) ?
	    cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A copy of s cut to PROMSTATE_TEXT_MAX bytes at a character boundary;
 * "" for NULL. NULL on ENOMEM. */
static char *
text(const char *s)
{
	size_t n;
	char *t;

	if (s == NULL)
		s = "";
	if ((n = strlen(s)) > PROMSTATE_TEXT_MAX) {
		n = PROMSTATE_TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if ((t = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(t, s, n);
	t[n] = '\0';
	return t;
}

/* text() of s as flowmon shows what it did not write itself (url.h): a
 * scrape URL or an error quoting one may hold a user name and password. */
static char *
shown(const char *s)
{
	char *r, *t;

	if (s == NULL || !url_text_may_hide(s, strlen(s)))
		return text(s);
	if ((r = url_redact_dup(s)) == NULL)
		return NULL;
	t = text(r);
	free(r);
	return t;
}

/* The base name of a path ("data/targets/web.json": "web.json"). */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* One of words equal to s, else the last (the word for "unknown"). */
static const char *
word(const char *s, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n - 1; i++)
		if (strcmp(s, words[i]) == 0)
			return words[i];
	return words[n - 1];
}

static const char *const healths[] = { "up", "down", "unknown" };
static const char *const rule_healths[] = { "ok", "err", "unknown" };
static const char *const states[] = { "firing", "pending", "inactive" };
#define NWORDS(a)	(sizeof(a) / sizeof(*(a)))

/* data.<key> of a successful answer, or NULL with err. */
static const cJSON *
answer_data(const cJSON *root, const char *key, char err[ERR_MAX])
{
	const char *status = member(root, "status");
	const cJSON *data;

	if (status == NULL || strcmp(status, "success") != 0) {
		snprintf(err, ERR_MAX, "the answer is not {\"status\": "
		    "\"success\"}%s%.200s", member(root, "error") ? ": " : "",
		    member(root, "error") ? member(root, "error") : "");
		return NULL;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	data = cJSON_IsObject(data) ?
	    cJSON_GetObjectItemCaseSensitive(data, key) : NULL;
	/* vmalert answers "alerts": null for none; so may others. */
	if (data != NULL && !cJSON_IsArray(data) && !cJSON_IsNull(data)) {
		snprintf(err, ERR_MAX, "data.%s is not an array", key);
		return NULL;
	}
	return data;
}

/* What one kind of answer needs: adding one item (0, or -1 on ENOMEM),
 * how many it holds, and dropping those past n0 (an answer that broke
 * half way). */
struct kind {
	const char	*key;		/* data.<key> */
	int		(*add)(struct promstate *ps, const cJSON *item);
	size_t		(*count)(const struct promstate *ps);
	void		(*trim)(struct promstate *ps, size_t n0);
};

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* Where the items of data.<key> begin, after its '[': Prometheus,
 * vmagent and vmalert write "status" first, then "data" with that array
 * first, so the key's first occurrence is it. NULL when the answer is not
 * laid out so (an error, null, another server): it is parsed whole then. */
static const char *
items_start(const char *buf, size_t len, const char *key)
{
	const char *end = buf + len, *k, *s;
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((k = memmem(buf, len, pat, strlen(pat))) == NULL ||
	    (s = memmem(buf, (size_t)(k - buf), "\"status\"", 8)) == NULL)
		return NULL;
	s = skip_ws(s + 8, k);
	if (s >= k || *s != ':')
		return NULL;
	s = skip_ws(s + 1, k);
	if (k - s < 9 || memcmp(s, "\"success\"", 9) != 0)
		return NULL;
	k = skip_ws(k + strlen(pat), end);
	if (k >= end || *k != ':')
		return NULL;
	k = skip_ws(k + 1, end);
	return k < end && *k == '[' ? k + 1 : NULL;
}

/* Adds the items from p on, each parsed alone, so a large answer never
 * stands in memory as one tree: 0, or -1 with err (and the items added
 * dropped again) when it is not JSON or on ENOMEM. */
static int
add_items(struct promstate *ps, const char *p, const char *end,
    const struct kind *k, char err[ERR_MAX])
{
	size_t n0 = k->count(ps);
	const char *next;
	cJSON *it;

	for (p = skip_ws(p, end); p < end && *p != ']';) {
		if ((it = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &next,
		    0)) == NULL) {
			snprintf(err, ERR_MAX, "the answer is not JSON");
			goto fail;
		}
		if (cJSON_IsObject(it) && k->add(ps, it) == -1) {
			cJSON_Delete(it);
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
		cJSON_Delete(it);
		p = skip_ws(next, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
		else if (p >= end || *p != ']') {
			snprintf(err, ERR_MAX, "the answer is not JSON");
			goto fail;
		}
	}
	if (p < end)
		return 0;
	snprintf(err, ERR_MAX, "the answer is not JSON: it ends early");
fail:
	k->trim(ps, n0);
	return -1;
}

/* Parses an answer and adds every item of its data.<key> array. 0, or -1
 * with err when it is not such an answer (or on ENOMEM). */
static int
add_answer(struct promstate *ps, const char *buf, size_t len,
    const struct kind *k, char err[ERR_MAX])
{
	const cJSON *arr, *it;
	const char *items;
	cJSON *root;
	int rc = -1;

	err[0] = '\0';
	if ((items = items_start(buf, len, k->key)) != NULL)
		return add_items(ps, items, buf + len, k, err);
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL) {
		snprintf(err, ERR_MAX, "the answer is not JSON");
		return -1;
	}
	if ((arr = answer_data(root, k->key, err)) == NULL && err[0] != '\0')
		goto out;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsObject(it) && k->add(ps, it) == -1)
			goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
out:
	cJSON_Delete(root);
	return rc;
}

static size_t
targets_count(const struct promstate *ps)
{
	return ps->ntargets;
}

static void
targets_trim(struct promstate *ps, size_t n0)
{
	while (ps->ntargets > n0)
		target_release(&ps->targets[--ps->ntargets]);
}

static int
add_target(struct promstate *ps, const cJSON *t)
{
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(t,
	    "discoveredLabels");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(t, "labels");
	const char *file = member(dl, "__meta_filepath");
	struct promstate_target *pt;

	if (BUF_ARRAY_GROW(ps->targets, ps->ntargets, ps->tcap) == -1)
		return -1;
	pt = &ps->targets[ps->ntargets];
	memset(pt, 0, sizeof(*pt));
	pt->health = word(member(t, "health"), healths, NWORDS(healths));
	if ((file != NULL && (pt->file = text(base_name(file))) == NULL) ||
	    (pt->job = text(member(l, "job"))) == NULL ||
	    (pt->scrape_url = shown(member(t, "scrapeUrl"))) == NULL ||
	    (pt->last_error = shown(member(t, "lastError"))) == NULL) {
		target_release(pt);
		return -1;
	}
	ps->ntargets++;
	return 0;
}

static const struct kind targets_kind = { "activeTargets", add_target,
	targets_count, targets_trim };

int
promstate_add_targets(struct promstate *ps, const char *buf, size_t len,
    char err[ERR_MAX])
{
	if (add_answer(ps, buf, len, &targets_kind, err) == -1)
		return -1;
	ps->have_targets = 1;
	return 0;
}

/* The alerting rules of one group into g (empty). 0, or -1 on ENOMEM. */
static int
add_group_rules(struct promstate_group *g, const cJSON *rules)
{
	const cJSON *r, *a;
	size_t n = (size_t)cJSON_GetArraySize(rules);

	if ((g->rules = calloc(n + 1, sizeof(*g->rules))) == NULL)
		return -1;
	cJSON_ArrayForEach(r, rules) {
		struct promstate_rule *pr = &g->rules[g->nrules];
		const char *type = member(r, "type");

		/* Recording rules have no state; flowmon writes none. */
		if (type == NULL || strcmp(type, "alerting") != 0)
			continue;
		pr->state = word(member(r, "state"), states, NWORDS(states));
		pr->health = word(member(r, "health"), rule_healths,
		    NWORDS(rule_healths));
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(r,
		    "alerts")) {
			const char *st = member(a, "state");

			if (st != NULL && (strcmp(st, "firing") == 0 ||
			    strcmp(st, "pending") == 0))
				pr->active++;
		}
		if ((pr->name = text(member(r, "name"))) == NULL ||
		    (pr->last_error = shown(member(r, "lastError"))) == NULL)
			return -1;
		g->nrules++;
	}
	return 0;
}

static size_t
groups_count(const struct promstate *ps)
{
	return ps->ngroups;
}

static void
groups_trim(struct promstate *ps, size_t n0)
{
	while (ps->ngroups > n0)
		group_release(&ps->groups[--ps->ngroups]);
}

static int
add_group(struct promstate *ps, const cJSON *g)
{
	struct promstate_group *pg;
	const char *file = member(g, "file");

	if (member(g, "name") == NULL)
		return 0;
	if (BUF_ARRAY_GROW(ps->groups, ps->ngroups, ps->gcap) == -1)
		return -1;
	pg = &ps->groups[ps->ngroups];
	memset(pg, 0, sizeof(*pg));
	if ((pg->name = text(member(g, "name"))) == NULL ||
	    (pg->file = text(file ? base_name(file) : "")) == NULL ||
	    add_group_rules(pg, cJSON_GetObjectItemCaseSensitive(g,
	    "rules")) == -1) {
		group_release(pg);
		return -1;
	}
	ps->ngroups++;
	return 0;
}

static const struct kind groups_kind = { "groups", add_group, groups_count,
	groups_trim };

int
promstate_add_rules(struct promstate *ps, const char *buf, size_t len,
    char err[ERR_MAX])
{
	if (add_answer(ps, buf, len, &groups_kind, err) == -1)
		return -1;
	ps->have_rules = 1;
	return 0;
}

static int
by_file_cmp(const void *a, const void *b)
{
	return strcmp((*(struct promstate_target *const *)a)->file,
	    (*(struct promstate_target *const *)b)->file);
}

static int
by_job_cmp(const void *a, const void *b)
{
	return strcmp((*(struct promstate_target *const *)a)->job,
	    (*(struct promstate_target *const *)b)->job);
}

static int
group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct promstate_group *)a)->name,
	    ((const struct promstate_group *)b)->name);
}

void
promstate_finish(struct promstate *ps)
{
	size_t i;

	free(ps->by_file);
	free(ps->by_job);
	ps->nby_file = ps->nby_job = 0;
	ps->by_file = calloc(ps->ntargets + 1, sizeof(*ps->by_file));
	ps->by_job = calloc(ps->ntargets + 1, sizeof(*ps->by_job));
	for (i = 0; ps->by_file != NULL && ps->by_job != NULL &&
	    i < ps->ntargets; i++) {
		if (ps->targets[i].file != NULL)
			ps->by_file[ps->nby_file++] = &ps->targets[i];
		else
			ps->by_job[ps->nby_job++] = &ps->targets[i];
	}
	if (ps->by_file == NULL || ps->by_job == NULL) {
		/* Out of memory: the lookups find nothing, and say so. */
		ps->nby_file = ps->nby_job = 0;
		ps->have_targets = 0;
		snprintf(ps->error, sizeof(ps->error), "out of memory");
	}
	if (ps->nby_file > 1)
		qsort(ps->by_file, ps->nby_file, sizeof(*ps->by_file),
		    by_file_cmp);
	if (ps->nby_job > 1)
		qsort(ps->by_job, ps->nby_job, sizeof(*ps->by_job), by_job_cmp);
	if (ps->ngroups > 1)
		qsort(ps->groups, ps->ngroups, sizeof(*ps->groups), group_cmp);
}

/* The range of v (sorted by cmp's field) equal to key's: its first and
 * its length. */
static size_t
range(struct promstate_target *const *v, size_t n,
    const struct promstate_target *key,
    int (*cmp)(const void *, const void *), size_t *first)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(&v[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && cmp(&v[end], &key) == 0; end++)
		;
	*first = lo;
	return end - lo;
}

size_t
promstate_targets(const struct promstate *ps, const char *file,
    const char *job, struct promstate_target *const **v)
{
	struct promstate_target key;
	size_t first, n;

	memset(&key, 0, sizeof(key));
	key.file = (char *)file;
	key.job = (char *)job;
	*v = NULL;
	if ((n = range(ps->by_file, ps->nby_file, &key, by_file_cmp,
	    &first)) > 0) {
		*v = ps->by_file + first;
		return n;
	}
	if (job != NULL && (n = range(ps->by_job, ps->nby_job, &key,
	    by_job_cmp, &first)) > 0)
		*v = ps->by_job + first;
	return n;
}

const struct promstate_group *
promstate_group(const struct promstate *ps, const char *name)
{
	struct promstate_group key;

	if (ps->ngroups == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	return bsearch(&key, ps->groups, ps->ngroups, sizeof(*ps->groups),
	    group_cmp);
}
