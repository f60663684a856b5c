/* registry_nodes.c: node labels (DF_NODE_TARGET_LABELS) kept by the
 * registry: their records in nodes/, and re-rendering exactly the services
 * with a task on a node whose labels change. */
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

const struct kvlist *
reg_node_labels(void *ctx, const char *id)
{
	struct registry *r = ctx;
	struct node *n;

	/* Called with the node lock held for reading (reg_render_targets). */
	for (n = r->nodes; n; n = n->next)
		if (strcmp(n->id, id) == 0)
			return &n->labels;
	return NULL;
}

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

/* Replaces (labels non-NULL) or drops the labels of node id in memory.
 * Returns 1 if they changed, 0 if not, -1 on allocation failure. */
int
reg_node_set(struct registry *r, const char *id, const struct kvlist *labels)
{
	struct node **np, *n;
	int rc = 0;

	pthread_rwlock_wrlock(&r->nodelock);
	for (np = &r->nodes; *np; np = &(*np)->next)
		if (strcmp((*np)->id, id) == 0)
			break;
	n = *np;
	if (labels == NULL) {
		if (n != NULL) {
			*np = n->next;
			kvlist_release(&n->labels);
			free(n->id);
			free(n);
			r->nnodes--;
			rc = 1;
		}
		goto out;
	}
	if (n != NULL && kvlist_equal(&n->labels, labels))
		goto out;
	if (n == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL ||
		    (n->id = strdup(id)) == NULL) {
			free(n);
			rc = -1;
			goto out;
		}
		n->next = r->nodes;
		r->nodes = n;
		r->nnodes++;
	}
	kvlist_release(&n->labels);
	rc = kvlist_copy(&n->labels, labels) == -1 ? -1 : 1;
out:
	pthread_rwlock_unlock(&r->nodelock);
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

