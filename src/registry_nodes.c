/* registry_nodes.c: node changes (DF_NODE_TARGET_LABELS): a node's record
 * in nodes/, its labels in registry.c's table, and re-rendering exactly the
 * services with a task on a node whose labels change. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "record.h"
#include "registry_impl.h"
#include "render.h"

/* Re-renders the targets of every service with a task on node id. */
static int
rerender_node(struct registry *r, const char *id, struct registry_result *res,
    char err[ERR_MAX])
{
	struct entry *e;
	size_t i, t;
	int rc = 0;

	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = e->next) {
			int on = 0;

			pthread_mutex_lock(&e->lock);
			if (e->svc && !e->removed && e->svc->has_tasks)
				for (t = 0; t < e->svc->ntasks && !on; t++)
					on = strcmp(e->svc->tasks[t].node_id,
					    id) == 0;
			if (on && reg_sync(r, e, res, err) == -1)
				rc = reg_fail(res, FM_STORAGE, errno);
			pthread_mutex_unlock(&e->lock);
		}
	}
	pthread_rwlock_unlock(&r->maplock);
	return rc;
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
	size_t i, t, len;
	int rc = 0, on;

	if (r->lim == NULL || r->lim->max_target_bytes <= 0)
		return 0;
	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets && rc == 0; i++) {
		for (e = r->buckets[i]; e != NULL && rc == 0; e = e->next) {
			pthread_mutex_lock(&e->lock);
			on = 0;
			if (e->svc && !e->removed && e->svc->has_tasks)
				for (t = 0; t < e->svc->ntasks && !on; t++)
					on = strcmp(e->svc->tasks[t].node_id,
					    id) == 0;
			buf = NULL;
			if (on) {
				pthread_rwlock_rdlock(&r->nodelock);
				rc = render_targets(e->svc, (const char *const *)
				    e->addrs, e->naddrs, proposed_labels, &p,
				    &buf, &len, err);
				pthread_rwlock_unlock(&r->nodelock);
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

static int
node_upsert_locked(struct registry *r, const char *id,
    const struct kvlist *labels, struct registry_result *res,
    char err[ERR_MAX])
{
	const struct kvlist *old;
	char *buf;
	size_t len;
	int rc, changed;

	if ((buf = record_node_encode(id, labels, &len)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return reg_fail(res, FM_FATAL, ENOMEM);
	}
	pthread_rwlock_rdlock(&r->nodelock);
	old = reg_node_labels(r, id);
	changed = old == NULL || !kvlist_equal(old, labels);
	pthread_rwlock_unlock(&r->nodelock);
	if (!changed) {
		free(buf);
		return 0;
	}
	if (node_fits(r, id, labels, res, err) == -1) {
		free(buf);
		return -1;
	}
	rc = store_write(r->st, STORE_NODES, id, buf, len, err);
	free(buf);
	if (rc == -1) {
		metrics_write_error(M_FILE_NODES);
		return reg_fail(res, FM_STORAGE, errno);
	}
	metrics_file_written(M_FILE_NODES);
	res->wrote_state = 1;
	if (reg_node_set(r, id, labels) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		return reg_fail(res, FM_FATAL, ENOMEM);
	}
	return rerender_node(r, id, res, err);
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

static int
node_remove_locked(struct registry *r, const char *id,
    struct registry_result *res, char err[ERR_MAX])
{
	int known;

	pthread_rwlock_rdlock(&r->nodelock);
	known = reg_node_labels(r, id) != NULL;
	pthread_rwlock_unlock(&r->nodelock);
	if (!known) {
		res->unknown = 1;
		return 0;
	}
	if (store_remove(r->st, STORE_NODES, id, err) == -1) {
		metrics_write_error(M_FILE_NODES);
		return reg_fail(res, FM_STORAGE, errno);
	}
	metrics_file_removed(M_FILE_NODES);
	res->wrote_state = 1;
	reg_node_set(r, id, NULL);
	return rerender_node(r, id, res, err);
}

int
registry_node_remove(struct registry *r, const char *id,
    struct registry_result *res, char err[ERR_MAX])
{
	int rc;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&r->nodewrite);
	rc = node_remove_locked(r, id, res, err);
	pthread_mutex_unlock(&r->nodewrite);
	return rc;
}

