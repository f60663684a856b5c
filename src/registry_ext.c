/* registry_ext.c: what the modules built on the registry read and hand
 * in: one service as the API shows it (views.c), the task DNS address
 * sets (taskdns.c), and each service's rule file for the lifecycle across
 * services (lifecycle.c). Each read is under the service's lock. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "registry_impl.h"
#include "strv.h"

static void
view_fill(struct registry_view *v, const struct entry *e)
{
	memset(v, 0, sizeof(*v));
	v->name = e->name;
	v->svc = e->invalid != NULL ? NULL : e->svc;
	v->invalid = e->invalid;
	v->rule_state = e->rf.state;
	if (e->rf.state == RULE_REJECTED)
		v->rule_reason = e->rf.reason != NULL ? e->rf.reason : "";
	v->removed = e->removed;
	v->has_targets = e->has_targets;
	v->has_rules = e->rf.has_file;
	v->dns_epoch = e->dns_epoch;
	v->addrs = e->addrs;
	v->naddrs = e->naddrs;
	v->story = e->story;
}

struct view_each {
	struct registry		*r;
	registry_view_fn	 fn;
	void			*ctx;
};

static int
view_one(void *ctx, struct entry *e)
{
	struct view_each *ve = ctx;
	struct registry_view v;

	if (e->svc == NULL && e->invalid == NULL)
		return 0;
	view_fill(&v, e);
	return ve->fn(ve->ctx, ve->r, &v);
}

int
registry_view_all(struct registry *r, registry_view_fn fn, void *ctx)
{
	struct view_each ve = { r, fn, ctx };

	return reg_each(r, 1, view_one, &ve);
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

struct dns_list {
	struct registry_dns	*v;
	size_t			 n;
	size_t			 cap;
};

static int
add_dns(void *ctx, struct entry *e)
{
	struct dns_list *dl = ctx;

	if (e->dns_epoch == 0)
		return 0;
	if (BUF_ARRAY_GROW(dl->v, dl->n, dl->cap) == -1)
		return -1;
	if ((dl->v[dl->n].name = strdup(e->name)) == NULL)
		return -1;
	dl->v[dl->n++].epoch = e->dns_epoch;
	return 0;
}

int
registry_dns_services(struct registry *r, struct registry_dns **out,
    size_t *nout)
{
	struct dns_list dl = { NULL, 0, 0 };

	*out = NULL;
	*nout = 0;
	if (reg_each(r, 0, add_dns, &dl) != 0) {
		registry_dns_free(dl.v, dl.n);
		return -1;
	}
	*out = dl.v;
	*nout = dl.n;
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


/* Rule files, for lifecycle.c. */

struct rule_each {
	struct registry		*r;
	registry_rule_fn	 fn;
	void			*ctx;
};

/* The lifecycle's transitions show as the service's events: the state
 * before and after its callback tells which. */
static int
rule_one(void *ctx, struct entry *e)
{
	struct rule_each *re = ctx;
	struct registry_rule x;
	enum rule_state before = e->rf.state;
	int rc;

	x.name = e->name;
	x.svc = e->invalid != NULL ? NULL : e->svc;
	x.removed = e->removed;
	x.rf = &e->rf;
	x.st = re->r->st;
	x.clock = &re->r->rules_seq;
	rc = re->fn(re->ctx, &x);
	reg_rule_events(re->r, e, before, "it passes its checks again");
	return rc;
}

int
registry_rules_each(struct registry *r, int sorted, registry_rule_fn fn,
    void *ctx)
{
	struct rule_each re = { r, fn, ctx };

	return reg_each(r, sorted, rule_one, &re);
}

int
registry_rules_one(struct registry *r, const char *name, registry_rule_fn fn,
    void *ctx)
{
	struct rule_each re = { r, fn, ctx };
	struct entry *e;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	(void)rule_one(&re, e);
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	return 1;
}

uint64_t
registry_rules_mark(struct registry *r)
{
	return __atomic_load_n(&r->rules_seq, __ATOMIC_SEQ_CST);
}

static int
count_rule(void *ctx, struct entry *e)
{
	size_t *counts = ctx;

	if (e->svc != NULL || e->invalid != NULL)
		counts[e->rf.state]++;
	return 0;
}

void
registry_rule_counts(struct registry *r, size_t counts[RULE_NSTATES])
{
	memset(counts, 0, RULE_NSTATES * sizeof(*counts));
	(void)reg_each(r, 0, count_rule, counts);
}
