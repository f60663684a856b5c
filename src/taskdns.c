/* taskdns.c: per service using task DNS, what its last lookup asked and
 * answered, kept for the epoch (registry.h) of its current stretch on the
 * DNS path: a service that leaves task DNS and comes back starts afresh,
 * one that is merely reconfigured keeps its state. Good answers go to the
 * registry; the registry knows nothing of this module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "registry.h"
#include "taskdns.h"

#define TASKDNS_BUCKETS	256

struct tdentry {
	struct tdentry	*next;
	char		*name;
	uint64_t	 epoch;
	uint64_t	 round;		/* last full round that listed it */
	struct taskdns_info info;
};

struct taskdns {
	struct registry	*r;
	pthread_mutex_t	 lock;
	struct tdentry	*buckets[TASKDNS_BUCKETS];
	uint64_t	 round;
};

static size_t
td_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % TASKDNS_BUCKETS;
}

void
taskdns_info_release(struct taskdns_info *info)
{
	free(info->qname);
	free(info->error);
	memset(info, 0, sizeof(*info));
}

struct taskdns *
taskdns_new(struct registry *r)
{
	struct taskdns *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->r = r;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
taskdns_free(struct taskdns *t)
{
	struct tdentry *e, *en;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < TASKDNS_BUCKETS; i++) {
		for (e = t->buckets[i]; e != NULL; e = en) {
			en = e->next;
			taskdns_info_release(&e->info);
			free(e->name);
			free(e);
		}
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The entry of name (lock held), created when create is set; NULL if
 * absent or on ENOMEM. */
static struct tdentry *
td_get(struct taskdns *t, const char *name, int create)
{
	struct tdentry *e, **b = &t->buckets[td_hash(name)];

	for (e = *b; e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	e->next = *b;
	*b = e;
	return e;
}

/* Drops the entries no full round listed since round (lock held). */
static void
td_prune(struct taskdns *t, uint64_t round)
{
	struct tdentry **ep, *e;
	size_t i;

	for (i = 0; i < TASKDNS_BUCKETS; i++) {
		for (ep = &t->buckets[i]; (e = *ep) != NULL;) {
			if (e->round == round) {
				ep = &e->next;
				continue;
			}
			*ep = e->next;
			taskdns_info_release(&e->info);
			free(e->name);
			free(e);
		}
	}
}

int
taskdns_names(struct taskdns *t, int pending_only, char ***names, size_t *n)
{
	struct registry_dns *v;
	struct tdentry *e;
	size_t nv, i;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (registry_dns_services(t->r, &v, &nv) == -1)
		return -1;
	pthread_mutex_lock(&t->lock);
	if (!pending_only)
		t->round++;
	for (i = 0; i < nv && rc == 0; i++) {
		int pending;

		e = td_get(t, v[i].name, 0);
		pending = e == NULL || e->epoch != v[i].epoch ||
		    e->info.lookups == 0;
		if (e != NULL && !pending_only)
			e->round = t->round;
		if (!pending_only || pending)
			rc = strv_push(names, n, v[i].name);
	}
	if (!pending_only && rc == 0)
		td_prune(t, t->round);
	pthread_mutex_unlock(&t->lock);
	registry_dns_free(v, nv);
	if (rc == -1) {
		strv_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

int
taskdns_result(struct taskdns *t, const char *name, const char *qname,
    char *const *addrs, size_t naddrs, const char *error,
    struct registry_result *res, char err[ERR_MAX])
{
	struct tdentry *e;
	char *dn = NULL, *de = NULL;
	uint64_t epoch;
	int changed, c;

	memset(res, 0, sizeof(*res));
	if ((epoch = registry_dns_epoch(t->r, name)) == 0)
		return 0;	/* it left task DNS meanwhile */
	pthread_mutex_lock(&t->lock);
	if ((e = td_get(t, name, 1)) == NULL || (dn = strdup(qname)) == NULL ||
	    (error != NULL && (de = strdup(error)) == NULL)) {
		pthread_mutex_unlock(&t->lock);
		free(dn);
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	if (e->epoch != epoch) {
		/* Back on task DNS after a while without: start afresh. */
		taskdns_info_release(&e->info);
		e->epoch = epoch;
	}
	e->round = t->round;
	changed = (error == NULL) != (e->info.error == NULL) ||
	    (error != NULL && strcmp(error, e->info.error) != 0);
	free(e->info.qname);
	e->info.qname = dn;
	free(e->info.error);
	e->info.error = de;
	e->info.time = time(NULL);
	e->info.lookups++;
	pthread_mutex_unlock(&t->lock);
	if (error != NULL)
		return changed;	/* the last good set stays */
	if ((c = registry_set_addrs(t->r, name, epoch, addrs, naddrs, res,
	    err)) == -1)
		return -1;
	return changed || c;
}

uint64_t
taskdns_wanted(struct taskdns *t)
{
	return registry_dns_wanted(t->r);
}

void
taskdns_info(struct taskdns *t, const char *name, uint64_t epoch,
    struct taskdns_info *out)
{
	struct tdentry *e;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->lock);
	if ((e = td_get(t, name, 0)) != NULL && e->epoch == epoch) {
		out->qname = e->info.qname ? strdup(e->info.qname) : NULL;
		out->error = e->info.error ? strdup(e->info.error) : NULL;
		out->time = e->info.time;
		out->lookups = e->info.lookups;
	}
	pthread_mutex_unlock(&t->lock);
}
