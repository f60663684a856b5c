/* registry_nodes.c: node changes (DF_NODE_TARGET_LABELS): a node's record
 * in nodes/, its labels in registry.c's table, and re-rendering exactly the
 * services with a task on a node whose labels change.
 *
 * All or nothing, as every change of the registry (registry.c). A node
 * change is one store transaction: the node record first, then the target
 * file (and, should it disagree with its record, the rule file) of every
 * service with a task on the node, each service's writes staged in its own
 * reg_change and joined into the node's transaction (store_txn_join()).
 * Every such service's entry stays locked from its write to the end, so
 * no other change of it can come between a write and its undo. Only once
 * the transaction is committed do the labels in memory (a node made
 * before anything was written: booking it cannot fail) and each entry's
 * booking change; any failure puts every file back, newest first, so a
 * 5xx leaves the node record and every target file as they were, in
 * memory and on disk, and a restart renders nothing else. A crash in the
 * middle leaves the node record of either version and target files of
 * either: the next start renders every target file from the records and
 * the node records it finds, so they agree again either way (the kept
 * versions are temp files it sweeps).
 *
 * Locks: the node write mutex (one node change at a time), the map lock
 * for reading across the change, then the entries of the node's services
 * in the map's order. Only a node change ever holds two entry locks, and
 * none waits for a lock a node change holds while it holds an entry lock
 * (registry.c's lock order), so this cannot deadlock. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "registry_impl.h"
#include "reloader.h"
#include "render.h"

/* 1 when e (locked) is an active service with a task on node id. */
static int
on_node(const struct entry *e, const char *id)
{
	size_t t;

	if (e->svc == NULL || e->removed || !e->svc->has_tasks)
		return 0;
	for (t = 0; t < e->svc->ntasks; t++)
		if (strcmp(e->svc->tasks[t].node_id, id) == 0)
			return 1;
	return 0;
}

/* Node labels as a node change would make them: labels for node id, the
 * registry's for the others (a render_node_labels_fn). */
struct proposal {
	struct registry		*r;
	const char		*id;
	const struct kvlist	*labels;
};

static const struct kvlist *
proposed_labels(void *ctx, const char *id)
{
	const struct proposal *p = ctx;

	return strcmp(id, p->id) == 0 ? p->labels : reg_node_labels(p->r, id);
}

/* The target file of e (locked) with the labels p proposes. 0, or -1
 * with err on ENOMEM. */
static int
render_proposed(struct registry *r, const struct entry *e,
    struct proposal *p, char **buf, size_t *len, char err[ERR_MAX])
{
	int rc;

	pthread_rwlock_rdlock(&r->nodelock);
	rc = render_targets(e->svc, (const char *const *)e->addrs, e->naddrs,
	    proposed_labels, p, buf, len, err);
	pthread_rwlock_unlock(&r->nodelock);
	return rc;
}

/* 0 when the target file of every service with a task on node id still
 * fits --max-target-bytes with labels as the node's, before anything is
 * written; else -1 with err (and res) naming the first that would not. */
static int
node_fits(struct registry *r, const char *id, const struct kvlist *labels,
    struct registry_result *res, char err[ERR_MAX])
{
	struct proposal p = { r, id, labels };
	struct entry *e;
	char *buf;
	size_t i, len;
	int rc = 0;

	if (r->lim == NULL || r->lim->max_target_bytes <= 0)
		return 0;
	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets && rc == 0; i++) {
		for (e = r->buckets[i]; e != NULL && rc == 0; e = e->next) {
			pthread_mutex_lock(&e->lock);
			buf = NULL;
			if (on_node(e, id)) {
				rc = render_proposed(r, e, &p, &buf, &len, err);
				if (rc == 0 && buf != NULL &&
				    reg_targets_too_big(r, e->name, len, err)) {
					char why[ERR_MAX];

					snprintf(why, sizeof(why), "node %.100s: "
					    "%s", id, err);
					snprintf(err, ERR_MAX, "%s", why);
					rc = reg_fail(res, FM_REFUSED, EFBIG);
				} else if (rc == -1)
					rc = reg_fail(res, FM_FATAL, ENOMEM);
			}
			free(buf);
			pthread_mutex_unlock(&e->lock);
		}
	}
	pthread_rwlock_unlock(&r->maplock);
	return rc;
}

/* One node change in the making: the node record's transaction, into
 * which each service's change is joined, and those services, locked. */
struct node_svc {
	struct entry		*e;
	struct reg_change	 c;
};

struct node_change {
	struct store_txn	 txn;
	struct node_svc		*v;
	size_t			 n;
	size_t			 cap;
	int			 refused;	/* over a bound, not the disk */
};

/* Stages the files of e (locked, with a task on the node) as the node's
 * labels p would render them, within nc. 0, or -1 with err (nothing of
 * e's left on disk then). */
static int
node_sync_one(struct registry *r, struct node_change *nc, struct entry *e,
    struct proposal *p, char err[ERR_MAX])
{
	struct reg_files f = { NULL, 0, NULL, 0 };
	struct registry_result none;
	struct node_svc *s;
	int rc = -1;

	if (BUF_ARRAY_GROW(nc->v, nc->n, nc->cap) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	s = &nc->v[nc->n];
	s->e = e;
	reg_change_begin(r, &s->c);
	rc = render_proposed(r, e, p, &f.targets, &f.tlen, err);
	if (rc == 0)
		rc = render_rules(e->svc, e->removed, &f.rules, &f.rlen, err);
	if (rc == -1)
		errno = ENOMEM;
	else if ((rc = reg_sync_change(r, e, &s->c, e->svc, e->removed, &f,
	    err)) == -1)
		nc->refused = s->c.refused;
	else
		rc = store_txn_join(&nc->txn, &s->c.txn, err);
	free(f.targets);
	free(f.rules);
	if (rc == -1) {
		/* Its own writes first, the newest: the caller undoes the
		 * rest. */
		memset(&none, 0, sizeof(none));
		(void)reg_change_end(r, e, &s->c, 0, &none, err);
		return -1;
	}
	nc->n++;
	return 0;
}

/* Locks every service with a task on node id and stages its files within
 * nc, under the map lock (held until node_change_end()). 0, or -1 with
 * err at the first failure (every service locked so far stays in nc). */
static int
node_sync(struct registry *r, struct node_change *nc, const char *id,
    const struct kvlist *labels, char err[ERR_MAX])
{
	struct proposal p = { r, id, labels };
	struct entry *e;
	size_t i;

	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets; i++)
		for (e = r->buckets[i]; e != NULL; e = e->next) {
			pthread_mutex_lock(&e->lock);
			if (!on_node(e, id)) {
				pthread_mutex_unlock(&e->lock);
				continue;
			}
			if (node_sync_one(r, nc, e, &p, err) == -1) {
				pthread_mutex_unlock(&e->lock);
				return -1;
			}
		}
	return 0;
}

/* Ends nc: ok, commits it, puts node (labels made beforehand; NULL: the
 * node goes) in place of node id's, and books each service's change into
 * its entry and res; else puts every file back. Unlocks the services and
 * the map either way. */
static void
node_change_end(struct registry *r, struct node_change *nc, const char *id,
    struct node *node, int ok, struct registry_result *res,
    const char *err)
{
	char why[ERR_MAX];
	size_t i;

	if (ok) {
		store_txn_commit(&nc->txn);
		reg_node_install(r, id, node);
	} else if (store_txn_abort(&nc->txn, why) == -1) {
		/* Two faults in a row: what is on disk is unknown, rewritten
		 * by the next change of each service, or the next start. */
		log_error("cannot undo a failed node change", "node", id,
		    "error", err, "undo", why);
		for (i = 0; i < nc->n; i++)
			nc->v[i].e->h_targets = nc->v[i].e->rf.h_file = 0;
	}
	for (i = 0; i < nc->n; i++) {
		if (ok)
			(void)reg_change_end(r, nc->v[i].e, &nc->v[i].c, 1,
			    res, why);
		pthread_mutex_unlock(&nc->v[i].e->lock);
	}
	pthread_rwlock_unlock(&r->maplock);
	free(nc->v);
}

/* Node id gets labels (NULL: its record and labels go), with its
 * services' target files, all or nothing. */
static int
node_change(struct registry *r, const char *id, const struct kvlist *labels,
    struct registry_result *res, char err[ERR_MAX])
{
	struct node_change nc;
	struct node *node = NULL;
	char *buf = NULL, why[ERR_MAX];
	size_t len;
	int rc, saved;

	memset(&nc, 0, sizeof(nc));
	if (labels != NULL && ((node = reg_node_new(id, labels)) == NULL ||
	    (buf = record_node_encode(id, labels, &len)) == NULL)) {
		reg_node_free(node);
		snprintf(err, ERR_MAX, "out of memory");
		return reg_fail(res, FM_FATAL, ENOMEM);
	}
	store_txn_begin(&nc.txn, r->st);
	rc = labels != NULL ?
	    store_txn_write(&nc.txn, STORE_NODES, id, buf, len, err) :
	    store_txn_remove(&nc.txn, STORE_NODES, id, err);
	free(buf);
	if (rc == -1) {
		saved = errno;
		metrics_file(M_FEV_WRITE_ERROR, M_FILE_NODES);
		reg_node_free(node);
		/* Nothing to put back; frees what t holds. */
		(void)store_txn_abort(&nc.txn, why);
		return reg_fail(res, FM_STORAGE, saved);
	}
	if (labels != NULL)
		metrics_file(M_FEV_WRITTEN, M_FILE_NODES);
	else
		metrics_file(M_FEV_REMOVED, M_FILE_NODES);
	rc = node_sync(r, &nc, id, labels, err);
	saved = errno;
	node_change_end(r, &nc, id, node, rc == 0, res, err);
	if (rc == -1) {
		reg_node_free(node);
		return reg_fail(res, nc.refused ? FM_REFUSED : saved == ENOMEM ?
		    FM_FATAL : FM_STORAGE, saved);
	}
	res->wrote_state = 1;
	if (res->wrote_rules && r->rl != NULL)
		reloader_trigger(r->rl);
	return 0;
}

static int
node_upsert_locked(struct registry *r, const char *id,
    const struct kvlist *labels, struct registry_result *res,
    char err[ERR_MAX])
{
	const struct kvlist *old;
	int changed;

	pthread_rwlock_rdlock(&r->nodelock);
	old = reg_node_labels(r, id);
	changed = old == NULL || !kvlist_equal(old, labels);
	pthread_rwlock_unlock(&r->nodelock);
	if (!changed)
		return 0;
	/* Refused before anything is written, as a request limit is. */
	if (node_fits(r, id, labels, res, err) == -1)
		return -1;
	return node_change(r, id, labels, res, err);
}

int
registry_node_upsert(struct registry *r, const char *id,
    const struct kvlist *labels, struct registry_result *res,
    char err[ERR_MAX])
{
	int rc;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&r->nodewrite);
	rc = node_upsert_locked(r, id, labels, res, err);
	pthread_mutex_unlock(&r->nodewrite);
	return rc;
}

int
registry_node_remove(struct registry *r, const char *id,
    struct registry_result *res, char err[ERR_MAX])
{
	int rc = 0, known;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&r->nodewrite);
	pthread_rwlock_rdlock(&r->nodelock);
	known = reg_node_labels(r, id) != NULL;
	pthread_rwlock_unlock(&r->nodelock);
	if (!known)
		res->unknown = 1;
	else
		rc = node_change(r, id, NULL, res, err);
	pthread_mutex_unlock(&r->nodewrite);
	return rc;
}
