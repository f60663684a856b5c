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

	if (svc->packed) {
		/* Its parts are in its block, which service_free frees. */
		memset(svc, 0, sizeof(*svc));
		return;
	}
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

/*
 * service_pack() runs the same walk twice over a service: once to add up
 * the size of its block, once (with the block) to copy into it. Lists
 * come at an alignment their elements need, strings where they fall.
 */
struct packer {
	char	*block;		/* NULL: only adding up */
	size_t	 used;
};

/* Room for size bytes at an alignment of align (a power of two): the
 * place in the block, or NULL while adding up. */
static void *
pack_room(struct packer *pk, size_t size, size_t align)
{
	void *at;

	pk->used = (pk->used + align - 1) & ~(align - 1);
	at = pk->block != NULL ? pk->block + pk->used : NULL;
	pk->used += size;
	return at;
}

/* A copy of n elements of size bytes at src (NULL when n is 0). */
static void *
pack_list(struct packer *pk, const void *src, size_t n, size_t size,
    size_t align)
{
	void *at;

	if (n == 0)
		return NULL;
	at = pack_room(pk, n * size, align);
	if (at != NULL)
		memcpy(at, src, n * size);
	return at;
}

/* A copy of s (NULL stays NULL). */
static char *
pack_str(struct packer *pk, const char *s)
{
	size_t n;
	char *at;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((at = pack_room(pk, n, 1)) != NULL)
		memcpy(at, s, n);
	return at;
}

/* src's list into dst: its array and every key and value in the block. */
static void
pack_kvlist(struct packer *pk, struct kvlist *dst, const struct kvlist *src)
{
	size_t i;

	dst->v = pack_list(pk, src->v, src->n, sizeof(*src->v),
	    _Alignof(struct kv));
	dst->n = dst->cap = src->n;
	for (i = 0; i < src->n; i++) {
		char *k = pack_str(pk, src->v[i].key);
		char *v = pack_str(pk, src->v[i].value);

		if (dst->v != NULL) {
			dst->v[i].key = k;
			dst->v[i].value = v;
		}
	}
}

static void
pack_walk(struct packer *pk, struct service *dst, const struct service *s)
{
	struct service scratch;
	struct alert a;
	size_t i;

	if (dst == NULL)
		dst = &scratch;		/* adding up: nothing is kept */
	*dst = *s;
	dst->packed = 1;
	dst->name = pack_str(pk, s->name);
	dst->metrics_path = pack_str(pk, s->metrics_path);
	dst->scheme = pack_str(pk, s->scheme);
	dst->scrape_interval = pack_str(pk, s->scrape_interval);
	dst->scrape_timeout = pack_str(pk, s->scrape_timeout);
	dst->targets = pack_list(pk, s->targets, s->ntargets,
	    sizeof(*s->targets), _Alignof(char *));
	for (i = 0; i < s->ntargets; i++) {
		char *t = pack_str(pk, s->targets[i]);

		if (dst->targets != NULL)
			dst->targets[i] = t;
	}
	dst->tasks = pack_list(pk, s->tasks, s->ntasks, sizeof(*s->tasks),
	    _Alignof(struct task));
	for (i = 0; i < s->ntasks; i++) {
		struct task t;

		t.hostname = pack_str(pk, s->tasks[i].hostname);
		t.address = pack_str(pk, s->tasks[i].address);
		t.node_id = pack_str(pk, s->tasks[i].node_id);
		if (dst->tasks != NULL)
			dst->tasks[i] = t;
	}
	pack_kvlist(pk, &dst->target_labels, &s->target_labels);
	dst->alerts = pack_list(pk, s->alerts, s->nalerts, sizeof(*s->alerts),
	    _Alignof(struct alert));
	for (i = 0; i < s->nalerts; i++) {
		a = s->alerts[i];
		a.name = pack_str(pk, a.name);
		a.expr = pack_str(pk, a.expr);
		a.for_ = pack_str(pk, a.for_);
		pack_kvlist(pk, &a.labels, &s->alerts[i].labels);
		pack_kvlist(pk, &a.annotations, &s->alerts[i].annotations);
		if (dst->alerts != NULL)
			dst->alerts[i] = a;
	}
	pack_kvlist(pk, &dst->params, &s->params);
}

struct service *
service_pack(const struct service *svc)
{
	struct packer pk = { NULL, sizeof(struct service) };
	struct service *p;

	pack_walk(&pk, NULL, svc);
	if ((p = malloc(pk.used)) == NULL)
		return NULL;
	pk.block = (char *)p;
	pk.used = sizeof(*p);
	pack_walk(&pk, p, svc);
	return p;
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

