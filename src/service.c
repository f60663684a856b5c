/* service.c: the key/value list and the lifecycle of service records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "service.h"

static struct kv *
kvlist_find(const struct kvlist *l, const char *key, int ci)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (ci ? strcasecmp(l->v[i].key, key) == 0 :
		    strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	}
	return NULL;
}

static int
kvlist_put(struct kvlist *l, const char *key, const char *value, int ci)
{
	struct kv *kv;
	char *k, *v;

	if ((v = strdup(value)) == NULL)
		return -1;
	if ((kv = kvlist_find(l, key, ci)) != NULL) {
		free(kv->value);
		kv->value = v;
		return 0;
	}
	if (BUF_ARRAY_GROW(l->v, l->n, l->cap) == -1)
		goto fail;
	if ((k = strdup(key)) == NULL)
		goto fail;
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
fail:
	free(v);
	return -1;
}

int
kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	return kvlist_put(l, key, value, 0);
}

int
kvlist_set_ci(struct kvlist *l, const char *key, const char *value)
{
	return kvlist_put(l, key, value, 1);
}

int
kvlist_add(struct kvlist *l, const char *key, const char *value)
{
	char *k, *v;

	if (BUF_ARRAY_GROW(l->v, l->n, l->cap) == -1)
		return -1;
	if ((k = strdup(key)) == NULL)
		return -1;
	if ((v = strdup(value)) == NULL) {
		free(k);
		return -1;
	}
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
}

/* Orders positions of a list by key, case-insensitively, then by position:
 * equal keys end up together, in the order they were given. */
static int
kv_pos_cmp(const void *a, const void *b, void *arg)
{
	const struct kv *base = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcasecmp(base[x].key, base[y].key);

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

int
kvlist_dedupe_ci(struct kvlist *l)
{
	struct kv *nv = NULL;
	size_t *pos = NULL, *last = NULL, i, j, n = 0;

	if (l->n < 2)
		return 0;
	if ((pos = malloc(l->n * sizeof(*pos))) == NULL ||
	    (last = malloc(l->n * sizeof(*last))) == NULL ||
	    (nv = malloc(l->n * sizeof(*nv))) == NULL) {
		free(pos);
		free(last);
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		pos[i] = i;
		last[i] = SIZE_MAX;
	}
	qsort_r(pos, l->n, sizeof(*pos), kv_pos_cmp, l->v);
	/* Each run of one key: its first position takes the last value. */
	for (i = 0; i < l->n; i = j) {
		for (j = i + 1; j < l->n && strcasecmp(l->v[pos[i]].key,
		    l->v[pos[j]].key) == 0; j++)
			;
		last[pos[i]] = pos[j - 1];
	}
	/* In the order of first insertion, as kvlist_set_ci would leave it. */
	for (i = 0; i < l->n; i++) {
		if (last[i] == SIZE_MAX)
			continue;
		nv[n].key = l->v[i].key;
		nv[n].value = l->v[last[i]].value;
		l->v[i].key = NULL;
		l->v[last[i]].value = NULL;
		n++;
	}
	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	free(pos);
	free(last);
	l->v = nv;
	l->cap = l->n;
	l->n = n;
	return 0;
}

const char *
kvlist_get(const struct kvlist *l, const char *key)
{
	struct kv *kv = kvlist_find(l, key, 0);

	return kv ? kv->value : NULL;
}

const char *
kvlist_get_ci(const struct kvlist *l, const char *key)
{
	struct kv *kv = kvlist_find(l, key, 1);

	return kv ? kv->value : NULL;
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

void
kvlist_sort(struct kvlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), kv_cmp);
}

int
kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (kvlist_set(dst, src->v[i].key, src->v[i].value) == -1) {
			kvlist_release(dst);
			return -1;
		}
	}
	return 0;
}

int
kvlist_equal(const struct kvlist *a, const struct kvlist *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return 0;
	}
	return 1;
}

void
kvlist_release(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
alert_release(struct alert *a)
{
	free(a->name);
	free(a->expr);
	free(a->for_);
	kvlist_release(&a->labels);
	kvlist_release(&a->annotations);
	memset(a, 0, sizeof(*a));
}

void
task_release(struct task *t)
{
	free(t->hostname);
	free(t->address);
	free(t->node_id);
	memset(t, 0, sizeof(*t));
}

void
service_release(struct service *svc)
{
	size_t i;

	free(svc->name);
	free(svc->metrics_path);
	free(svc->scheme);
	free(svc->scrape_interval);
	free(svc->scrape_timeout);
	for (i = 0; i < svc->ntargets; i++)
		free(svc->targets[i]);
	free(svc->targets);
	for (i = 0; i < svc->ntasks; i++)
		task_release(&svc->tasks[i]);
	free(svc->tasks);
	kvlist_release(&svc->target_labels);
	for (i = 0; i < svc->nalerts; i++)
		alert_release(&svc->alerts[i]);
	free(svc->alerts);
	kvlist_release(&svc->params);
	memset(svc, 0, sizeof(*svc));
}

void
service_free(struct service *svc)
{
	if (svc == NULL)
		return;
	service_release(svc);
	free(svc);
}

int
service_has_persistent(const struct service *svc)
{
	size_t i;

	for (i = 0; i < svc->nalerts; i++)
		if (svc->alerts[i].persistent)
			return 1;
	return 0;
}

static const char *const service_sources[] = {
	[SERVICE_SOURCE_UNKNOWN] = NULL,
	[SERVICE_SOURCE_WEBHOOK] = "webhook",
	[SERVICE_SOURCE_LISTENER] = "listener",
	[SERVICE_SOURCE_DOCKER] = "docker",
};

const char *
service_source_name(enum service_source s)
{
	if ((size_t)s >= sizeof(service_sources) / sizeof(*service_sources))
		return NULL;
	return service_sources[s];
}

enum service_source
service_source_parse(const char *s)
{
	size_t i;

	for (i = 1; s != NULL &&
	    i < sizeof(service_sources) / sizeof(*service_sources); i++)
		if (strcmp(s, service_sources[i]) == 0)
			return (enum service_source)i;
	return SERVICE_SOURCE_UNKNOWN;
}

int
service_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SERVICE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (i == 0 && !alnum)
			return 0;
		if (!alnum && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}

