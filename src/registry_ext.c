/* registry_ext.c: what the modules built on the registry read and hand
 * in: one service as the API shows it (views.c), and the task DNS address
 * sets (taskdns.c). Each read is under the service's lock. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_impl.h"

static void
view_fill(struct registry_view *v, const struct entry *e)
{
	memset(v, 0, sizeof(*v));
	v->name = e->name;
	v->svc = e->invalid != NULL ? NULL : e->svc;
	v->invalid = e->invalid;
	v->rejected = e->rejected;
	v->removed = e->removed;
	v->has_targets = e->has_targets;
	v->has_rules = e->has_rules;
	v->dns_epoch = e->dns_epoch;
	v->addrs = e->addrs;
	v->naddrs = e->naddrs;
}

int
registry_view_all(struct registry *r, registry_view_fn fn, void *ctx)
{
	struct registry_view v;
	struct entry **all;
	size_t n, i;
	int rc = 0;

	if ((all = reg_entries(r, 1, &n)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		pthread_mutex_lock(&all[i]->lock);
		if (all[i]->svc != NULL || all[i]->invalid != NULL) {
			view_fill(&v, all[i]);
			rc = fn(ctx, r, &v);
		}
		pthread_mutex_unlock(&all[i]->lock);
	}
	reg_entries_put(r, all, n);
	return rc;
}

int
registry_view_one(struct registry *r, const char *name, registry_view_fn fn,
    void *ctx)
{
	struct registry_view v;
	struct entry *e = reg_entry(r, name, 0);
	int shown = 0;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (e->svc != NULL || e->invalid != NULL) {
		view_fill(&v, e);
		(void)fn(ctx, r, &v);
		shown = 1;
	}
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	return shown;
}

int
registry_view_targets(struct registry *r, const struct registry_view *v,
    char **buf, size_t *len, char err[ERR_MAX])
{
	*buf = NULL;
	*len = 0;
	if (v->svc == NULL)
		return 0;
	/* The entry's lock is held around the callback: v is current. */
	return reg_render_targets(r, v->svc, v->removed, v->addrs, v->naddrs,
	    buf, len, err);
}

/* Task DNS. */

void
registry_dns_free(struct registry_dns *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].name);
	free(v);
}

int
registry_dns_services(struct registry *r, struct registry_dns **out,
    size_t *nout)
{
	struct registry_dns *v = NULL;
	struct entry **all;
	size_t nall, n = 0, i;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if ((all = reg_entries(r, 0, &nall)) == NULL ||
	    (v = calloc(nall + 1, sizeof(*v))) == NULL) {
		reg_entries_put(r, all, nall);
		return -1;
	}
	for (i = 0; i < nall && rc == 0; i++) {
		pthread_mutex_lock(&all[i]->lock);
		if (all[i]->dns_epoch != 0) {
			if ((v[n].name = strdup(all[i]->name)) == NULL)
				rc = -1;
			else
				v[n++].epoch = all[i]->dns_epoch;
		}
		pthread_mutex_unlock(&all[i]->lock);
	}
	reg_entries_put(r, all, nall);
	if (rc == -1) {
		registry_dns_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

uint64_t
registry_dns_epoch(struct registry *r, const char *name)
{
	struct entry *e = reg_entry(r, name, 0);
	uint64_t epoch;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	epoch = e->dns_epoch;
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	return epoch;
}

uint64_t
registry_dns_wanted(struct registry *r)
{
	return __atomic_load_n(&r->dns_wanted, __ATOMIC_RELAXED);
}

static void
swap_addrs(struct entry *e, char ***v, size_t *nv)
{
	char **t = e->addrs;
	size_t n = e->naddrs;

	e->addrs = *v;
	e->naddrs = *nv;
	*v = t;
	*nv = n;
}

int
registry_set_addrs(struct registry *r, const char *name, uint64_t epoch,
    char *const *addrs, size_t naddrs, struct registry_result *res,
    char err[ERR_MAX])
{
	struct entry *e;
	char **v = NULL;
	size_t nv = 0, i;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if ((e = reg_entry(r, name, 0)) == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (e->dns_epoch == 0 || e->dns_epoch != epoch)
		goto out;	/* it moved on meanwhile: nothing to do */
	if (strv_sorted_set(addrs, naddrs, &v, &nv) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		rc = reg_fail(res, FM_FATAL, ENOMEM);
		goto out;
	}
	if (nv == e->naddrs) {
		for (i = 0; i < nv && strcmp(v[i], e->addrs[i]) == 0; i++)
			;
		if (i == nv)
			goto out;	/* same set: nothing to write */
	}
	/* The new set renders the file, and stays only once it is written;
	 * v gets whichever set the entry does not keep. */
	swap_addrs(e, &v, &nv);
	rc = 1;
	if (reg_sync(r, e, res, err) == -1) {
		rc = reg_fail(res, FM_STORAGE, errno);
		swap_addrs(e, &v, &nv);
	}
out:
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	strv_free(v, nv);
	return rc;
}

