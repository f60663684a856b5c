/* registry.c: the index of services and nodes, and the decisions: what to
 * write, in which order, and when a reload is due.
 *
 * State model. Each service has one record on disk, state/<name>.json,
 * holding the canonical parameters of its last accepted reconfigure. The
 * target and rule files are pure functions of the record (and of the node
 * labels), so the record is the source of truth and the outputs can always
 * be rebuilt from it. In memory, an entry holds the parsed record and a
 * hash of each output as it is on disk, so an identical request costs no
 * IO and no reload.
 *
 * Crash safety. Every file is replaced atomically by the store. An upsert
 * writes the record first, then the outputs; a remove deletes the outputs
 * first, then the record. A crash in between therefore leaves a record
 * whose outputs disagree with it (never an output without a record), and
 * registry_load() rewrites the outputs from the record at the next start.
 * The request that was cut short got no 200, so either outcome is allowed.
 *
 * Concurrency. Each entry has its own mutex, held across its fsyncs: two
 * requests for one service are applied in the order they take the lock and
 * answered after their writes, so the last one acknowledged is what stays on
 * disk; requests for different services never wait on each other. Node
 * changes take one mutex across their write and re-render, so the node
 * record on disk and the labels in memory come from the same request. Lock
 * order: node write mutex, then map lock, then entry lock, then node lock.
 * Entries are never freed
 * before registry_free(), so a pointer taken under the map lock stays good. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "record.h"
#include "registry.h"
#include "reloader.h"
#include "render.h"
#include "rulecheck.h"
#include "store.h"

struct entry {
	struct entry	*next;		/* hash chain */
	char		*name;
	pthread_mutex_t	 lock;
	struct service	*svc;		/* NULL: not known (or removed) */
	int		 removed;	/* removed, kept for persistent alerts */
	int		 has_targets;	/* what is on disk right now */
	int		 has_rules;
	uint64_t	 h_targets;
	uint64_t	 h_rules;
	char		*invalid;	/* record on disk that does not parse */
	int		 rules_dirty;	/* rule file changed since the last
					   good reload */
	char		*rejected;	/* why Prometheus refused the rules */
	int		 has_rejected;	/* rejected/<name>.yml exists */
	uint64_t	 h_rejected;
	uint64_t	 gen;		/* registry generation of the last change */
	/* Task DNS (dns.c): the last good address set, sorted and unique,
	 * kept while the name does not resolve. Used only by a service with
	 * neither nodeInfo, targets nor scrapeType=static_configs. */
	char		**addrs;
	size_t		 naddrs;
	char		*dns_name;	/* name of the last lookup */
	char		*dns_error;	/* why the last lookup failed, or NULL */
	time_t		 dns_time;	/* time of the last lookup, 0: none */
	uint64_t	 dns_lookups;
	int		 dns_pending;	/* wants a lookup before the next round */
};

struct node {
	struct node	*next;
	char		*id;
	struct kvlist	 labels;
};

struct registry {
	struct store		*st;
	struct reloader		*rl;
	pthread_rwlock_t	 maplock;
	struct entry		**buckets;
	size_t			 nbuckets;
	size_t			 nentries;
	pthread_rwlock_t	 nodelock;
	pthread_mutex_t		 nodewrite;	/* one node change at a time */
	struct node		*nodes;
	size_t			 nnodes;
	size_t			 nactive;	/* atomic */
	size_t			 nremoved;	/* atomic */
	uint64_t		 gen;		/* atomic, bumped per change */
	void			(*dns_wake)(void *);
	void			*dns_ctx;
	const char		*promtool;	/* NULL: own checks only */
	size_t			 nrejected;	/* atomic */
};

static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	/* Fold the length in so that equal hashes of different sizes
	 * cannot be mistaken for an unchanged file. */
	return h ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
}

/* A service whose targets come from task DNS: no nodeInfo, no targets, not
 * scrapeType=static_configs, and a port to scrape. */
static int
uses_dns(const struct service *svc)
{
	return svc != NULL && svc->port > 0 && svc->ntargets == 0 &&
	    !svc->static_config && !svc->has_tasks;
}

/* Forgets e's DNS state (the service left the DNS path or went away). */
static void
dns_forget(struct entry *e)
{
	strv_free(e->addrs, e->naddrs);
	e->addrs = NULL;
	e->naddrs = 0;
	free(e->dns_name);
	free(e->dns_error);
	e->dns_name = e->dns_error = NULL;
	e->dns_time = 0;
	e->dns_lookups = 0;
	e->dns_pending = 0;
}

struct registry *
registry_new(struct store *st, struct reloader *rl)
{
	struct registry *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->st = st;
	r->rl = rl;
	r->nbuckets = 1024;
	if ((r->buckets = calloc(r->nbuckets, sizeof(*r->buckets))) == NULL) {
		free(r);
		return NULL;
	}
	pthread_rwlock_init(&r->maplock, NULL);
	pthread_rwlock_init(&r->nodelock, NULL);
	pthread_mutex_init(&r->nodewrite, NULL);
	return r;
}

void
registry_free(struct registry *r)
{
	struct entry *e, *en;
	struct node *n, *nn;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = en) {
			en = e->next;
			service_free(e->svc);
			pthread_mutex_destroy(&e->lock);
			strv_free(e->addrs, e->naddrs);
			free(e->dns_name);
			free(e->dns_error);
			free(e->invalid);
			free(e->rejected);
			free(e->name);
			free(e);
		}
	}
	for (n = r->nodes; n; n = nn) {
		nn = n->next;
		kvlist_release(&n->labels);
		free(n->id);
		free(n);
	}
	free(r->buckets);
	pthread_rwlock_destroy(&r->maplock);
	pthread_rwlock_destroy(&r->nodelock);
	pthread_mutex_destroy(&r->nodewrite);
	free(r);
}

static struct entry *
map_find(struct registry *r, const char *name)
{
	struct entry *e;

	for (e = r->buckets[hash_bytes(name, strlen(name)) % r->nbuckets]; e;
	    e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
map_grow(struct registry *r)
{
	size_t n = r->nbuckets * 2, i;
	struct entry **b, *e, *en;

	if ((b = calloc(n, sizeof(*b))) == NULL)
		return;	/* longer chains, still correct */
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = en) {
			size_t h = hash_bytes(e->name, strlen(e->name)) % n;

			en = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = n;
}

/* The entry of name, created when create is set. NULL if absent or on
 * allocation failure (errno ENOMEM then). */
static struct entry *
entry_get(struct registry *r, const char *name, int create)
{
	struct entry *e;
	size_t h;

	pthread_rwlock_rdlock(&r->maplock);
	e = map_find(r, name);
	pthread_rwlock_unlock(&r->maplock);
	if (e != NULL || !create)
		return e;

	pthread_rwlock_wrlock(&r->maplock);
	if ((e = map_find(r, name)) != NULL)
		goto out;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->name = strdup(name)) == NULL) {
		free(e);
		e = NULL;
		errno = ENOMEM;
		goto out;
	}
	pthread_mutex_init(&e->lock, NULL);
	if (r->nentries >= r->nbuckets)
		map_grow(r);
	h = hash_bytes(name, strlen(name)) % r->nbuckets;
	e->next = r->buckets[h];
	r->buckets[h] = e;
	r->nentries++;
out:
	pthread_rwlock_unlock(&r->maplock);
	return e;
}

static const struct kvlist *
node_labels(void *ctx, const char *id)
{
	struct registry *r = ctx;
	struct node *n;

	/* Called with the node lock held for reading (see render_outputs). */
	for (n = r->nodes; n; n = n->next)
		if (strcmp(n->id, id) == 0)
			return &n->labels;
	return NULL;
}

/* Renders both outputs of svc; *targets / *rules NULL when there is none. */
static int
render_outputs(struct registry *r, const struct service *svc, int removed,
    char *const *addrs, size_t naddrs, char **targets, size_t *tlen,
    char **rules, size_t *rlen, char err[ERR_MAX])
{
	int rc;

	*targets = *rules = NULL;
	*tlen = *rlen = 0;
	if (!removed) {
		pthread_rwlock_rdlock(&r->nodelock);
		rc = render_targets(svc, (const char *const *)addrs, naddrs,
		    node_labels, r, targets, tlen, err);
		pthread_rwlock_unlock(&r->nodelock);
		if (rc == -1)
			return -1;
	}
	if (render_rules(svc, removed, rules, rlen, err) == -1) {
		free(*targets);
		*targets = NULL;
		return -1;
	}
	return 0;
}

/* Brings one output file in line with buf (NULL: no file). Returns 1 if
 * the disk changed, 0 if it already agreed, -1 on a storage error. */
static int
sync_output(struct registry *r, enum store_kind kind, const char *name,
    const char *buf, size_t len, int *has, uint64_t *h, char err[ERR_MAX])
{
	enum metrics_file mk = kind == STORE_TARGETS ? M_FILE_TARGETS :
	    M_FILE_RULES;
	uint64_t nh;

	if (buf == NULL) {
		if (!*has)
			return 0;
		if (store_remove(r->st, kind, name, err) == -1) {
			metrics_write_error(mk);
			return -1;
		}
		metrics_file_removed(mk);
		*has = 0;
		return 1;
	}
	nh = hash_bytes(buf, len);
	if (*has && *h == nh)
		return 0;
	if (store_write(r->st, kind, name, buf, len, err) == -1) {
		metrics_write_error(mk);
		return -1;
	}
	metrics_file_written(mk);
	*has = 1;
	*h = nh;
	return 1;
}

/* The service's alerts changed since Prometheus refused them: the old
 * quarantined file goes. Called with e->lock held. */
static int
unreject(struct registry *r, struct entry *e, char err[ERR_MAX])
{
	if (store_remove(r->st, STORE_REJECTED, e->name, err) == -1)
		return -1;
	e->has_rejected = 0;
	if (e->rejected != NULL)
		__atomic_sub_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
	free(e->rejected);
	e->rejected = NULL;
	log_info("rule file re-admitted", "service", e->name);
	return 0;
}

/* Writes the outputs of e's record (already in e->svc / e->removed). */
static int
sync_entry(struct registry *r, struct entry *e, struct registry_result *res,
    char err[ERR_MAX])
{
	char *targets = NULL, *rules = NULL;
	size_t tlen, rlen;
	int rc = -1, c;

	if (render_outputs(r, e->svc, e->removed, e->addrs, e->naddrs,
	    &targets, &tlen, &rules, &rlen, err) == -1)
		goto out;
	if ((c = sync_output(r, STORE_TARGETS, e->name, targets, tlen,
	    &e->has_targets, &e->h_targets, err)) == -1)
		goto out;
	res->wrote_targets |= c;
	if (e->has_rejected && rules != NULL &&
	    hash_bytes(rules, rlen) == e->h_rejected) {
		/* The very file Prometheus refused: it stays quarantined
		 * until the service's alerts change. */
		rc = 0;
		goto out;
	}
	if ((c = sync_output(r, STORE_RULES, e->name, rules, rlen,
	    &e->has_rules, &e->h_rules, err)) == -1)
		goto out;
	res->wrote_rules |= c;
	e->rules_dirty |= c;
	if (e->has_rejected && unreject(r, e, err) == -1)
		goto out;
	rc = 0;
out:
	free(targets);
	free(rules);
	return rc;
}

static int
write_record(struct registry *r, const struct service *svc, int removed,
    char err[ERR_MAX])
{
	char *buf;
	size_t len;
	int rc;

	if ((buf = record_encode(svc, removed, &len)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	rc = store_write(r->st, STORE_STATE, svc->name, buf, len, err);
	free(buf);
	if (rc == -1)
		metrics_write_error(M_FILE_STATE);
	else
		metrics_file_written(M_FILE_STATE);
	return rc;
}

/* swarm-listener's start-up round sends creates without nodeInfo: for a
 * service on a scrape network, keep the last known task list. */
static int
keep_tasks(const struct service *old, struct service *svc)
{
	const char *ni;
	size_t i;

	if (old == NULL || svc->has_tasks || !old->has_tasks ||
	    kvlist_get(&svc->params, "scrapeNetwork") == NULL ||
	    (ni = kvlist_get(&old->params, "nodeInfo")) == NULL)
		return 0;
	if (kvlist_set(&svc->params, "nodeInfo", ni) == -1)
		return -1;
	kvlist_sort(&svc->params);
	if ((svc->tasks = calloc(old->ntasks ? old->ntasks : 1,
	    sizeof(*svc->tasks))) == NULL)
		return -1;
	for (i = 0; i < old->ntasks; i++) {
		svc->tasks[i].hostname = strdup(old->tasks[i].hostname);
		svc->tasks[i].address = strdup(old->tasks[i].address);
		svc->tasks[i].node_id = strdup(old->tasks[i].node_id);
		svc->ntasks++;
		if (!svc->tasks[i].hostname || !svc->tasks[i].address ||
		    !svc->tasks[i].node_id)
			return -1;
	}
	svc->has_tasks = 1;
	return 1;
}

static void
count_adjust(struct registry *r, struct entry *e, int sign)
{
	if (e->svc == NULL)
		return;
	if (e->removed)
		__atomic_add_fetch(&r->nremoved, (size_t)sign, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&r->nactive, (size_t)sign, __ATOMIC_RELAXED);
}

void
registry_set_promtool(struct registry *r, const char *promtool)
{
	r->promtool = promtool;
}

/* Checks the rule file svc would get, unless it is the one on disk (which
 * passed when it was written). -1 with res->refused when it fails; a
 * storage error writing the scratch file is -1 without it. */
static int
check_rules(struct registry *r, struct entry *e, const struct service *svc,
    struct registry_result *res, char err[ERR_MAX])
{
	char shown[SERVICE_NAME_MAX + 16], why[ERR_MAX];
	char *rules = NULL;
	size_t len;
	int rc = -1, c;

	if (render_rules(svc, 0, &rules, &len, err) == -1)
		return -1;
	if (rules == NULL || (e->has_rules && !e->removed &&
	    e->h_rules == hash_bytes(rules, len))) {
		free(rules);
		return 0;
	}
	if (rulecheck_yaml(rules, len, svc, 0, why) == -1) {
		snprintf(err, ERR_MAX, "alerts: the rule file does not read "
		    "back: %.400s", why);
		res->refused = 1;
		goto out;
	}
	if (r->promtool == NULL) {
		rc = 0;
		goto out;
	}
	snprintf(shown, sizeof(shown), "rules/%s.yml", svc->name);
	c = rulecheck_promtool_buf(r->promtool, rules, len, shown, why);
	if (c == -1) {
		const char *p = strstr(why, ", rule ");
		int i = p != NULL ? atoi(p + 7) : 0;

		/* promtool counts rules from 1, in the order of the alerts. */
		if (i >= 1 && (size_t)i <= svc->nalerts) {
			char param[32] = "alertIf";

			if (svc->alerts[i - 1].index > 0)
				snprintf(param, sizeof(param), "alertIf.%d",
				    svc->alerts[i - 1].index);
			snprintf(err, ERR_MAX, "%.31s (alert %.100s): promtool "
			    "check rules: %.340s", param,
			    svc->alerts[i - 1].name, why);
		}
		else
			snprintf(err, ERR_MAX, "alertIf: promtool check "
			    "rules: %.400s", why);
		res->refused = 1;
		goto out;
	}
	if (c == 1)
		log_warn("rule file not checked by promtool", "service",
		    svc->name, "error", why);
	rc = 0;
out:
	free(rules);
	return rc;
}

int
registry_upsert(struct registry *r, struct service *svc,
    struct registry_result *res, char err[ERR_MAX])
{
	struct entry *e;
	int rc = -1, k, wake = 0;

	memset(res, 0, sizeof(*res));
	if ((e = entry_get(r, svc->name, 1)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		service_free(svc);
		return -1;
	}
	pthread_mutex_lock(&e->lock);
	/* The tasks of a removed service are gone with it. */
	if ((k = keep_tasks(e->removed ? NULL : e->svc, svc)) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		service_free(svc);
		goto out;
	}
	res->kept_tasks = k;
	if (check_rules(r, e, svc, res, err) == -1) {
		service_free(svc);
		goto out;
	}
	if (e->svc == NULL || e->removed || e->invalid != NULL ||
	    !kvlist_equal(&e->svc->params, &svc->params)) {
		if (write_record(r, svc, 0, err) == -1) {
			service_free(svc);
			goto out;
		}
		res->wrote_state = 1;
	}
	/* From here the record on disk is svc: keep memory in step with it
	 * even if an output write fails (a later request retries it). */
	count_adjust(r, e, -1);
	service_free(e->svc);
	e->svc = svc;
	e->removed = 0;
	free(e->invalid);
	e->invalid = NULL;
	count_adjust(r, e, 1);
	e->gen = __atomic_add_fetch(&r->gen, 1, __ATOMIC_RELAXED);
	/* A task DNS service keeps its last address set across reconfigures
	 * (the name depends on the service name only); one never looked up
	 * gets its first lookup now, off this thread. */
	if (!uses_dns(svc))
		dns_forget(e);
	else if (e->dns_time == 0)
		wake = e->dns_pending = 1;
	rc = sync_entry(r, e, res, err);
out:
	pthread_mutex_unlock(&e->lock);
	if (res->wrote_rules && r->rl)
		reloader_trigger(r->rl);
	if (wake && r->dns_wake)
		r->dns_wake(r->dns_ctx);
	return rc;
}

int
registry_remove(struct registry *r, const char *name,
    struct registry_result *res, char err[ERR_MAX])
{
	struct entry *e;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if ((e = entry_get(r, name, 0)) == NULL) {
		res->unknown = 1;
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	if (e->svc == NULL || e->invalid != NULL) {
		res->unknown = e->svc == NULL;
		if (e->invalid != NULL)
			snprintf(err, ERR_MAX, "the record of %s on disk does "
			    "not parse (%s): fix or delete state/%s.json",
			    name, e->invalid, name);
		rc = e->invalid != NULL ? -1 : 0;
		errno = EINVAL;
		goto out;
	}
	if (e->removed) {
		rc = 0;		/* removed before: idempotent */
		goto out;
	}
	if (service_has_persistent(e->svc)) {
		/* Persistent alerts outlive the service: the record stays,
		 * marked removed, and the rule file keeps only them. */
		if (write_record(r, e->svc, 1, err) == -1)
			goto out;
		res->wrote_state = 1;
		count_adjust(r, e, -1);
		e->removed = 1;
		count_adjust(r, e, 1);
		e->gen = __atomic_add_fetch(&r->gen, 1, __ATOMIC_RELAXED);
		dns_forget(e);
		rc = sync_entry(r, e, res, err);
		goto out;
	}
	/* Outputs first, the record last: a crash in between leaves a record
	 * that the next start renders again, never an orphaned output. */
	/* wrote_* say what changed on disk: a service without targets
	 * had no target file to remove. */
	if ((res->wrote_targets = sync_output(r, STORE_TARGETS, name, NULL, 0,
	    &e->has_targets, &e->h_targets, err)) == -1) {
		res->wrote_targets = 0;
		goto out;
	}
	if ((res->wrote_rules = sync_output(r, STORE_RULES, name, NULL, 0,
	    &e->has_rules, &e->h_rules, err)) == -1) {
		res->wrote_rules = 0;
		goto out;
	}
	if (e->has_rejected && unreject(r, e, err) == -1)
		goto out;
	if (store_remove(r->st, STORE_STATE, name, err) == -1) {
		metrics_write_error(M_FILE_STATE);
		goto out;
	}
	metrics_file_removed(M_FILE_STATE);
	res->wrote_state = 1;
	count_adjust(r, e, -1);
	service_free(e->svc);
	e->svc = NULL;
	e->gen = __atomic_add_fetch(&r->gen, 1, __ATOMIC_RELAXED);
	dns_forget(e);
	rc = 0;
out:
	pthread_mutex_unlock(&e->lock);
	if (res->wrote_rules && r->rl)
		reloader_trigger(r->rl);
	return rc;
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
			if (on && sync_entry(r, e, res, err) == -1)
				rc = -1;
			pthread_mutex_unlock(&e->lock);
		}
	}
	pthread_rwlock_unlock(&r->maplock);
	return rc;
}

/* Replaces (labels non-NULL) or drops the labels of node id in memory.
 * Returns 1 if they changed, 0 if not, -1 on allocation failure. */
static int
node_set(struct registry *r, const char *id, const struct kvlist *labels)
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
	char *buf;
	size_t len;
	int rc, changed;

	memset(res, 0, sizeof(*res));
	if ((buf = record_node_encode(id, labels, &len)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	pthread_rwlock_rdlock(&r->nodelock);
	{
		const struct kvlist *old = node_labels(r, id);

		changed = old == NULL || !kvlist_equal(old, labels);
	}
	pthread_rwlock_unlock(&r->nodelock);
	if (!changed) {
		free(buf);
		return 0;
	}
	rc = store_write(r->st, STORE_NODES, id, buf, len, err);
	free(buf);
	if (rc == -1) {
		metrics_write_error(M_FILE_NODES);
		return -1;
	}
	metrics_file_written(M_FILE_NODES);
	res->wrote_state = 1;
	if (node_set(r, id, labels) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	return rerender_node(r, id, res, err);
}

int
registry_node_upsert(struct registry *r, const char *id,
    const struct kvlist *labels, struct registry_result *res,
    char err[ERR_MAX])
{
	int rc;

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

	memset(res, 0, sizeof(*res));
	pthread_rwlock_rdlock(&r->nodelock);
	known = node_labels(r, id) != NULL;
	pthread_rwlock_unlock(&r->nodelock);
	if (!known) {
		res->unknown = 1;
		return 0;
	}
	if (store_remove(r->st, STORE_NODES, id, err) == -1) {
		metrics_write_error(M_FILE_NODES);
		return -1;
	}
	metrics_file_removed(M_FILE_NODES);
	res->wrote_state = 1;
	node_set(r, id, NULL);
	return rerender_node(r, id, res, err);
}

int
registry_node_remove(struct registry *r, const char *id,
    struct registry_result *res, char err[ERR_MAX])
{
	int rc;

	pthread_mutex_lock(&r->nodewrite);
	rc = node_remove_locked(r, id, res, err);
	pthread_mutex_unlock(&r->nodewrite);
	return rc;
}

/* Start-up. */

struct load_ctx {
	struct registry		 *r;
	const struct request_ctx *rctx;
	int			  rules_changed;
	size_t			  loaded;
	size_t			  failed;
};

static int
load_node(const char *name, void *arg)
{
	struct load_ctx *lc = arg;
	struct kvlist labels = { 0 };
	char err[ERR_MAX], *buf = NULL, *id = NULL;
	size_t len;

	if (store_read(lc->r->st, STORE_NODES, name, 1 << 20, &buf, &len,
	    err) == -1 || record_node_decode(buf, len, &id, &labels,
	    err) == -1 || strcmp(id, name) != 0) {
		log_warn("cannot load node record", "node", name, "error",
		    id && strcmp(id, name) ? "id does not match file name" :
		    err);
		goto out;
	}
	if (node_set(lc->r, id, &labels) == -1) {
		free(buf);
		free(id);
		kvlist_release(&labels);
		return -1;
	}
out:
	free(buf);
	free(id);
	kvlist_release(&labels);
	return 0;
}

/* What is on disk now for one output, as has/hash. */
static void
probe_output(struct registry *r, enum store_kind kind, const char *name,
    int *has, uint64_t *h)
{
	char err[ERR_MAX], *buf;
	size_t len;

	*has = 0;
	if (store_read(r->st, kind, name, 64 << 20, &buf, &len, err) == 0) {
		*has = 1;
		*h = hash_bytes(buf, len);
		free(buf);
	} else if (errno != ENOENT) {
		/* Unreadable: assume present and different, so it is
		 * rewritten from the record. */
		*has = 1;
		*h = 0;
	}
}

static int
addr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted, duplicate-free copy of addrs into *out. 0, or -1 on ENOMEM. */
static int
addrs_copy_sorted(char *const *addrs, size_t n, char ***out, size_t *nout)
{
	char **v;
	size_t i, j;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(addrs[i])) == NULL) {
			strv_free(v, i);
			return -1;
		}
	}
	qsort(v, n, sizeof(*v), addr_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	*out = v;
	*nout = j;
	return 0;
}

/* At start, a task DNS service's last address set is the one in its target
 * file (flowmon wrote it): take it as the set to keep, so a restart neither
 * rewrites the file nor drops targets while the name does not resolve. */
static void
seed_addrs(struct registry *r, struct entry *e)
{
	char err[ERR_MAX], *buf = NULL, **v = NULL;
	cJSON *root = NULL, *g, *t;
	size_t len, n = 0;

	if (!e->has_targets || store_read(r->st, STORE_TARGETS, e->name,
	    64 << 20, &buf, &len, err) == -1)
		return;
	if ((root = cJSON_Parse(buf)) == NULL || !cJSON_IsArray(root))
		goto out;
	cJSON_ArrayForEach(g, root) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g,
		    "targets")) {
			const char *hp = cJSON_GetStringValue(t), *end;
			char **nv;

			if (hp == NULL)
				continue;
			/* host:port or [v6]:port; the host is what DNS gave. */
			if (hp[0] == '[') {
				hp++;
				end = strchr(hp, ']');
			} else {
				end = strrchr(hp, ':');
			}
			if (end == NULL || end == hp ||
			    (nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
				continue;
			v = nv;
			if ((v[n] = strndup(hp, (size_t)(end - hp))) != NULL)
				n++;
		}
	}
	strv_free(e->addrs, e->naddrs);
	e->addrs = NULL;
	e->naddrs = 0;
	if (addrs_copy_sorted(v, n, &e->addrs, &e->naddrs) == -1)
		e->naddrs = 0;
out:
	strv_free(v, n);
	cJSON_Delete(root);
	free(buf);
}

static int
load_service(const char *name, void *arg)
{
	struct load_ctx *lc = arg;
	struct registry *r = lc->r;
	struct kvlist params = { 0 };
	struct registry_result res;
	struct service *svc = NULL;
	struct entry *e;
	char err[ERR_MAX], base[214], *buf = NULL;
	size_t len;
	int removed = 0, ok = 0;

	memset(&res, 0, sizeof(res));
	/* The record first: name is a file's base name, which for a very
	 * long service name is a shortened form; the record has the name. */
	if (store_read(r->st, STORE_STATE, name, 16 << 20, &buf, &len,
	    err) == -1 || record_decode(buf, len, &params, &removed,
	    err) == -1)
		;
	else if ((svc = calloc(1, sizeof(*svc))) == NULL)
		snprintf(err, ERR_MAX, "out of memory");
	else if (request_parse(&params, lc->rctx, svc, err) == -1)
		;
	else if (store_base(svc->name, base), strcmp(base, name) != 0)
		snprintf(err, ERR_MAX, "record names service %.300s",
		    svc->name);
	else
		ok = 1;
	if ((e = entry_get(r, ok ? svc->name : name, 1)) == NULL) {
		service_free(svc);
		kvlist_release(&params);
		free(buf);
		return -1;
	}
	pthread_mutex_lock(&e->lock);
	probe_output(r, STORE_TARGETS, name, &e->has_targets, &e->h_targets);
	probe_output(r, STORE_RULES, name, &e->has_rules, &e->h_rules);
	probe_output(r, STORE_REJECTED, name, &e->has_rejected,
	    &e->h_rejected);
	if (e->has_rejected && e->rejected == NULL) {
		e->rejected = strdup("Prometheus refused this rule file before "
		    "flowmon restarted (kept in rejected/)");
		__atomic_add_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
	}
	if (!ok)
		goto invalid;
	e->svc = svc;
	svc = NULL;
	e->removed = removed;
	count_adjust(r, e, 1);
	if (!removed && uses_dns(e->svc)) {
		seed_addrs(r, e);
		e->dns_pending = 1;
	}
	if (sync_entry(r, e, &res, err) == -1)
		log_error("cannot rewrite outputs from record", "service",
		    name, "error", err);
	else if (res.wrote_targets || res.wrote_rules)
		log_info("outputs rewritten from record", "service", name);
	lc->rules_changed |= res.wrote_rules;
	lc->loaded++;
	goto out;
invalid:
	/* Leave its files alone: a newer flowmon or a changed shortcut table
	 * may be why; the operator sees it in the services API. */
	log_error("cannot load service record", "service", name, "error", err);
	e->invalid = strdup(err);
	lc->failed++;
out:
	pthread_mutex_unlock(&e->lock);
	service_free(svc);
	kvlist_release(&params);
	free(buf);
	return 0;
}

/*
 * Prometheus before 2.48 (Debian 12 ships 2.42) keeps scraping the targets
 * of deleted file_sd files forever when a reload finds no file at all
 * matching targets/\*.json (prometheus#12858): the last service removed,
 * whose rule change reloads within the 5 s discovery tick, would stay
 * scraped until Prometheus restarts. One file that is never removed,
 * holding one group without targets (an empty array is not enough), keeps
 * the glob from ever coming up empty. No service is named "_flowmon": a
 * service name starts with a letter or digit. Written only when missing or
 * different, so a start on a healthy data dir writes nothing.
 */
#define REGISTRY_SENTINEL	"_flowmon"

static void
ensure_targets_sentinel(struct registry *r)
{
	static const char body[] = "[{\"targets\":[]}]\n";
	char err[ERR_MAX], *buf = NULL;
	size_t len = 0;
	int same;

	same = store_read(r->st, STORE_TARGETS, REGISTRY_SENTINEL, 4096, &buf,
	    &len, err) == 0 && len == sizeof(body) - 1 &&
	    memcmp(buf, body, len) == 0;
	free(buf);
	if (!same && store_write(r->st, STORE_TARGETS, REGISTRY_SENTINEL,
	    body, sizeof(body) - 1, err) == -1)
		log_warn("cannot write the targets sentinel", "error", err);
}

int
registry_load(struct registry *r, const struct request_ctx *ctx,
    char err[ERR_MAX])
{
	struct load_ctx lc = { r, ctx, 0, 0, 0 };
	char n[32], f[32];

	ensure_targets_sentinel(r);
	if (store_scan(r->st, STORE_NODES, load_node, &lc, err) != 0 ||
	    store_scan(r->st, STORE_STATE, load_service, &lc, err) != 0)
		return -1;
	snprintf(n, sizeof(n), "%zu", lc.loaded);
	snprintf(f, sizeof(f), "%zu", lc.failed);
	log_info("records loaded", "services", n, "invalid", f);
	if (lc.rules_changed && r->rl)
		reloader_trigger(r->rl);
	return 0;
}

/* JSON views. */

static cJSON *
kv_json(const struct kvlist *l)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && i < l->n; i++)
		cJSON_AddStringToObject(o, l->v[i].key, l->v[i].value);
	return o;
}

/* The task DNS state of e (lock held): what was asked, the set in use
 * (kept while the name does not resolve) and the last error. */
static void
dns_json(cJSON *o, const struct entry *e)
{
	cJSON *d = cJSON_AddObjectToObject(o, "dns"), *a;
	size_t i;

	if (d == NULL)
		return;
	if (e->dns_name)
		cJSON_AddStringToObject(d, "name", e->dns_name);
	else
		cJSON_AddNullToObject(d, "name");
	a = cJSON_AddArrayToObject(d, "addresses");
	for (i = 0; a && i < e->naddrs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(e->addrs[i]));
	if (e->dns_error)
		cJSON_AddStringToObject(d, "error", e->dns_error);
	else
		cJSON_AddNullToObject(d, "error");
	cJSON_AddNumberToObject(d, "lastLookup", (double)e->dns_time);
	cJSON_AddNumberToObject(d, "lookups", (double)e->dns_lookups);
}

/* Called with e->lock held. */
static cJSON *
entry_json(struct registry *r, struct entry *e, int detail)
{
	cJSON *o = cJSON_CreateObject(), *alerts, *files;
	char path[4096];
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "serviceName", e->name);
	if (e->invalid) {
		cJSON_AddStringToObject(o, "status", "invalid");
		cJSON_AddStringToObject(o, "error", e->invalid);
		return o;
	}
	cJSON_AddStringToObject(o, "status", e->rejected ? "rejected" :
	    e->removed ? "removed" : "active");
	if (e->rejected)
		cJSON_AddStringToObject(o, "rejected", e->rejected);
	cJSON_AddItemToObject(o, "params", kv_json(&e->svc->params));
	alerts = cJSON_AddArrayToObject(o, "alerts");
	for (i = 0; i < e->svc->nalerts; i++) {
		const struct alert *a = &e->svc->alerts[i];
		cJSON *ja;

		if (e->removed && !a->persistent)
			continue;
		ja = cJSON_CreateObject();
		cJSON_AddStringToObject(ja, "alert", a->name);
		cJSON_AddStringToObject(ja, "expr", a->expr);
		if (a->for_)
			cJSON_AddStringToObject(ja, "for", a->for_);
		cJSON_AddItemToObject(ja, "labels", kv_json(&a->labels));
		cJSON_AddItemToObject(ja, "annotations",
		    kv_json(&a->annotations));
		cJSON_AddBoolToObject(ja, "persistent", a->persistent);
		cJSON_AddItemToArray(alerts, ja);
	}
	files = cJSON_AddObjectToObject(o, "files");
	store_path(r->st, STORE_TARGETS, e->name, path, sizeof(path));
	if (e->has_targets)
		cJSON_AddStringToObject(files, "targets", path);
	else
		cJSON_AddNullToObject(files, "targets");
	store_path(r->st, STORE_RULES, e->name, path, sizeof(path));
	if (e->has_rules)
		cJSON_AddStringToObject(files, "rules", path);
	else
		cJSON_AddNullToObject(files, "rules");
	if (!e->removed && uses_dns(e->svc))
		dns_json(o, e);
	if (detail) {
		store_path(r->st, STORE_STATE, e->name, path, sizeof(path));
		cJSON_AddStringToObject(files, "state", path);
		if (r->rl) {
			struct reloader_stats rs;
			cJSON *jr = cJSON_AddObjectToObject(o, "reload");

			reloader_stats(r->rl, &rs);
			cJSON_AddBoolToObject(jr, "lastSuccess",
			    rs.last_success);
			cJSON_AddNumberToObject(jr, "lastTime",
			    (double)rs.last_time);
			cJSON_AddBoolToObject(jr, "pending", rs.pending);
			cJSON_AddStringToObject(jr, "lastError",
			    rs.last_error);
		}
	}
	return o;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->name,
	    (*(struct entry *const *)b)->name);
}

/* Every entry, under the map lock (entries are never freed before
 * registry_free, so the pointers stay good after it is dropped). */
static struct entry **
all_entries(struct registry *r, size_t *n)
{
	struct entry **all, *e;
	size_t i;

	*n = 0;
	pthread_rwlock_rdlock(&r->maplock);
	if ((all = calloc(r->nentries + 1, sizeof(*all))) != NULL)
		for (i = 0; i < r->nbuckets; i++)
			for (e = r->buckets[i]; e; e = e->next)
				all[(*n)++] = e;
	pthread_rwlock_unlock(&r->maplock);
	return all;
}

cJSON *
registry_services_json(struct registry *r)
{
	struct entry **all;
	cJSON *arr = cJSON_CreateArray();
	size_t n, i;

	if (arr == NULL || (all = all_entries(r, &n)) == NULL) {
		cJSON_Delete(arr);
		return NULL;
	}
	qsort(all, n, sizeof(*all), entry_cmp);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&all[i]->lock);
		if (all[i]->svc || all[i]->invalid)
			cJSON_AddItemToArray(arr, entry_json(r, all[i], 0));
		pthread_mutex_unlock(&all[i]->lock);
	}
	free(all);
	return arr;
}

cJSON *
registry_service_json(struct registry *r, const char *name)
{
	struct entry *e = entry_get(r, name, 0);
	cJSON *o = NULL;

	if (e == NULL)
		return NULL;
	pthread_mutex_lock(&e->lock);
	if (e->svc || e->invalid)
		o = entry_json(r, e, 1);
	pthread_mutex_unlock(&e->lock);
	return o;
}

cJSON *
registry_sd_json(struct registry *r)
{
	struct entry **all;
	cJSON *arr = cJSON_CreateArray();
	size_t n, i;
	int failed = 0;

	if (arr == NULL || (all = all_entries(r, &n)) == NULL) {
		cJSON_Delete(arr);
		return NULL;
	}
	qsort(all, n, sizeof(*all), entry_cmp);
	for (i = 0; i < n && !failed; i++) {
		struct entry *e = all[i];
		char err[ERR_MAX], *buf = NULL;
		size_t len;
		cJSON *groups, *g;
		int rc;

		pthread_mutex_lock(&e->lock);
		if (e->svc == NULL || e->removed || e->invalid != NULL) {
			pthread_mutex_unlock(&e->lock);
			continue;
		}
		pthread_rwlock_rdlock(&r->nodelock);
		rc = render_targets(e->svc, (const char *const *)e->addrs,
		    e->naddrs, node_labels, r, &buf, &len, err);
		pthread_rwlock_unlock(&r->nodelock);
		pthread_mutex_unlock(&e->lock);
		if (rc == -1) {
			failed = 1;
			break;
		}
		if (buf == NULL)
			continue;	/* no target: no file, no group */
		if ((groups = cJSON_ParseWithLength(buf, len)) == NULL) {
			free(buf);
			failed = 1;
			break;
		}
		free(buf);
		while ((g = cJSON_DetachItemFromArray(groups, 0)) != NULL)
			cJSON_AddItemToArray(arr, g);
		cJSON_Delete(groups);
	}
	free(all);
	if (failed) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

void
registry_counts(struct registry *r, size_t *services, size_t *removed_kept,
    size_t *nodes)
{
	*services = __atomic_load_n(&r->nactive, __ATOMIC_RELAXED);
	*removed_kept = __atomic_load_n(&r->nremoved, __ATOMIC_RELAXED);
	pthread_rwlock_rdlock(&r->nodelock);
	*nodes = r->nnodes;
	pthread_rwlock_unlock(&r->nodelock);
}

/* Task DNS. */

void
registry_set_dns_hook(struct registry *r, void (*wake)(void *), void *ctx)
{
	r->dns_wake = wake;
	r->dns_ctx = ctx;
}


int
registry_dns_names(struct registry *r, int pending_only, char ***names,
    size_t *n)
{
	struct entry **all;
	size_t nall, i;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if ((all = all_entries(r, &nall)) == NULL)
		return -1;
	for (i = 0; i < nall && rc == 0; i++) {
		struct entry *e = all[i];

		pthread_mutex_lock(&e->lock);
		if (e->invalid == NULL && !e->removed && uses_dns(e->svc) &&
		    (!pending_only || e->dns_pending))
			rc = strv_push(names, n, e->name);
		pthread_mutex_unlock(&e->lock);
	}
	free(all);
	if (rc == -1) {
		strv_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

int
registry_dns_result(struct registry *r, const char *name, const char *qname,
    char *const *addrs, size_t naddrs, const char *error,
    struct registry_result *res, char err[ERR_MAX])
{
	struct entry *e;
	char **v = NULL, *dn = NULL, *de = NULL;
	size_t nv = 0, i;
	int rc = 0, changed = 0;

	memset(res, 0, sizeof(*res));
	if ((e = entry_get(r, name, 0)) == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	if (e->invalid != NULL || e->removed || !uses_dns(e->svc))
		goto out;	/* changed meanwhile: nothing to do */
	if ((dn = strdup(qname)) == NULL ||
	    (error != NULL && (de = strdup(error)) == NULL) ||
	    (error == NULL && addrs_copy_sorted(addrs, naddrs, &v,
	    &nv) == -1)) {
		snprintf(err, ERR_MAX, "out of memory");
		rc = -1;
		goto out;
	}
	changed = (error == NULL) != (e->dns_error == NULL) ||
	    (error != NULL && strcmp(error, e->dns_error) != 0);
	free(e->dns_name);
	e->dns_name = dn;
	dn = NULL;
	free(e->dns_error);
	e->dns_error = de;
	de = NULL;
	e->dns_time = time(NULL);
	e->dns_lookups++;
	e->dns_pending = 0;
	if (error != NULL)
		goto out;	/* keep the last good set */
	if (nv == e->naddrs) {
		for (i = 0; i < nv && strcmp(v[i], e->addrs[i]) == 0; i++)
			;
		if (i == nv)
			goto out;	/* same set: nothing to write */
	}
	strv_free(e->addrs, e->naddrs);
	e->addrs = v;
	e->naddrs = nv;
	v = NULL;
	nv = 0;
	changed = 1;
	rc = sync_entry(r, e, res, err);
out:
	pthread_mutex_unlock(&e->lock);
	strv_free(v, nv);
	free(dn);
	free(de);
	return rc == -1 ? -1 : changed;
}

/* Reconcile with swarm-listener. */

uint64_t
registry_generation(struct registry *r)
{
	return __atomic_load_n(&r->gen, __ATOMIC_RELAXED);
}

int
registry_active_names(struct registry *r, uint64_t gen, char ***names,
    size_t *n)
{
	struct entry **all;
	size_t nall, i;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if ((all = all_entries(r, &nall)) == NULL)
		return -1;
	qsort(all, nall, sizeof(*all), entry_cmp);
	for (i = 0; i < nall && rc == 0; i++) {
		struct entry *e = all[i];

		pthread_mutex_lock(&e->lock);
		if (e->svc != NULL && e->invalid == NULL && !e->removed &&
		    e->gen <= gen)
			rc = strv_push(names, n, e->name);
		pthread_mutex_unlock(&e->lock);
	}
	free(all);
	if (rc == -1) {
		strv_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

/* Names of the services whose rule file is in rules/ and, unless all,
 * changed since the last good reload. */
static int
suspects(struct registry *r, int all, char ***names, size_t *nnames)
{
	struct entry **v;
	size_t n, i;
	int rc = 0;

	if ((v = all_entries(r, &n)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		pthread_mutex_lock(&v[i]->lock);
		if (v[i]->has_rules && (all || v[i]->rules_dirty))
			rc = strv_push(names, nnames, v[i]->name);
		pthread_mutex_unlock(&v[i]->lock);
	}
	free(v);
	return rc;
}

/* Moves a suspect's rule file out of rules/ (park) or back (unpark). */
static void
park(struct registry *r, const char *name, int out)
{
	char err[ERR_MAX];
	struct entry *e;

	if ((e = entry_get(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (out && e->has_rules && !e->has_rejected) {
		if (store_move(r->st, STORE_RULES, STORE_REJECTED, name,
		    err) == -1)
			log_error("cannot park rule file", "service", name,
			    "error", err);
		else {
			e->has_rules = 0;
			e->has_rejected = 1;
			e->h_rejected = e->h_rules;
		}
	} else if (!out && e->has_rejected && e->rejected == NULL &&
	    !e->has_rules) {
		if (store_move(r->st, STORE_REJECTED, STORE_RULES, name,
		    err) == -1)
			log_error("cannot restore rule file", "service", name,
			    "error", err);
		else {
			e->has_rules = 1;
			e->h_rules = e->h_rejected;
			e->has_rejected = 0;
		}
	}
	pthread_mutex_unlock(&e->lock);
}

static void
park_all(struct registry *r, char **v, size_t n, int out)
{
	size_t i;

	for (i = 0; i < n; i++)
		park(r, v[i], out);
}

/* A parked file is the culprit: it stays in rejected/, with the reason. */
static void
reject(struct registry *r, const char *name)
{
	char path[PATH_MAX], why[ERR_MAX], reason[ERR_MAX];
	struct entry *e;

	if ((e = entry_get(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->has_rejected && e->rejected == NULL) {
		snprintf(reason, sizeof(reason), "Prometheus refused the rule "
		    "file on reload (the reload succeeds without it)");
		store_path(r->st, STORE_REJECTED, name, path, sizeof(path));
		if (r->promtool != NULL && rulecheck_promtool(r->promtool,
		    path, "the rule file", why) == -1)
			snprintf(reason, sizeof(reason), "Prometheus refused "
			    "the rule file on reload: %.400s", why);
		e->rejected = strdup(reason);
		__atomic_add_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
		log_error("rule file quarantined", "service", name,
		    "file", path, "reason", reason);
	}
	pthread_mutex_unlock(&e->lock);
}

/* v[0..n) are parked and Prometheus reloads without them: brings back
 * every one that it also accepts. *ok tells whether Prometheus's last
 * reload succeeded. */
static void
bisect(struct registry *r, char **v, size_t n, registry_reload_fn try,
    void *ctx, int *ok)
{
	char err[ERR_MAX];

	park_all(r, v, n, 0);
	if ((*ok = try(ctx, err) == 0))
		return;
	park_all(r, v, n, 1);
	if (n == 1) {
		reject(r, v[0]);
		return;
	}
	bisect(r, v, n / 2, try, ctx, ok);
	bisect(r, v + n / 2, n - n / 2, try, ctx, ok);
}

size_t
registry_reload_failed(struct registry *r, registry_reload_fn try, void *ctx)
{
	char err[ERR_MAX], n[32], **ns = NULL;
	size_t nns = 0, before, found;
	int all, ok;

	before = __atomic_load_n(&r->nrejected, __ATOMIC_RELAXED);
	for (all = 0; all < 2; all++) {
		strv_free(ns, nns);
		ns = NULL;
		nns = 0;
		if (suspects(r, all, &ns, &nns) == -1)
			break;
		if (nns == 0)
			continue;
		snprintf(n, sizeof(n), "%zu", nns);
		log_warn("reload failed: looking for the rule file at fault",
		    "suspects", n, "scope", all ? "all" : "changed");
		park_all(r, ns, nns, 1);
		if (try(ctx, err) != 0) {
			/* Not them: Prometheus fails for another reason. */
			park_all(r, ns, nns, 0);
			continue;
		}
		bisect(r, ns, nns, try, ctx, &ok);
		if (!ok)
			(void)try(ctx, err);
		strv_free(ns, nns);
		found = __atomic_load_n(&r->nrejected, __ATOMIC_RELAXED) -
		    before;
		registry_reload_ok(r);
		return found;
	}
	strv_free(ns, nns);
	/* Everything back as it was: one more reload so Prometheus's own
	 * state matches rules/ again, whatever the outcome. */
	(void)try(ctx, err);
	log_error("reload fails, and not because of a rule file flowmon "
	    "wrote: see Prometheus's log, and GET /v1/docker-flow-monitor/files "
	    "for rule files written by hand");
	return 0;
}

void
registry_reload_ok(struct registry *r)
{
	struct entry *e;
	size_t i;

	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets; i++)
		for (e = r->buckets[i]; e != NULL; e = e->next)
			__atomic_store_n(&e->rules_dirty, 0,
			    __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&r->maplock);
}

size_t
registry_rejected(struct registry *r)
{
	return __atomic_load_n(&r->nrejected, __ATOMIC_RELAXED);
}

/* The entry whose files are named base: the service of that name, or the
 * one whose very long name the store shortened to base (such a base holds
 * a '~', which no service name does). */
static struct entry *
entry_by_base(struct registry *r, const char *base)
{
	struct entry *e, *found = NULL;
	char b[214];
	size_t i;

	if ((e = entry_get(r, base, 0)) != NULL || strchr(base, '~') == NULL)
		return e;
	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets && found == NULL; i++)
		for (e = r->buckets[i]; e != NULL && found == NULL;
		    e = e->next) {
			store_base(e->name, b);
			if (strcmp(b, base) == 0)
				found = e;
		}
	pthread_rwlock_unlock(&r->maplock);
	return found;
}

enum registry_owner
registry_file_owner(struct registry *r, int rules, const char *name,
    const char *buf, size_t len, int forget)
{
	enum registry_owner own = REGISTRY_OWNER_NONE;
	struct entry *e;
	uint64_t *h;

	/* Written at every start, whatever it holds: flowmon's. */
	if (!rules && strcmp(name, REGISTRY_SENTINEL) == 0)
		return REGISTRY_OWNER_FLOWMON;
	if ((e = entry_by_base(r, name)) == NULL)
		return REGISTRY_OWNER_NONE;
	/* Under the lock a write is never half booked: the rename and the
	 * new hash go together. */
	pthread_mutex_lock(&e->lock);
	h = rules ? &e->h_rules : &e->h_targets;
	if (rules ? e->has_rules : e->has_targets) {
		own = buf != NULL && *h == hash_bytes(buf, len) ?
		    REGISTRY_OWNER_FLOWMON : REGISTRY_OWNER_EDITED;
		/* 0 is what probe_output() books for a file it cannot
		 * vouch for: the next sync_entry() rewrites it. */
		if (own == REGISTRY_OWNER_EDITED && forget && buf != NULL)
			*h = 0;
	}
	pthread_mutex_unlock(&e->lock);
	return own;
}

/* The node endpoints' answers (http.c). */

int
registry_node_labels(struct registry *r, const char *id, struct kvlist *out)
{
	const struct kvlist *l;
	int rc = 0;

	pthread_rwlock_rdlock(&r->nodelock);
	if ((l = node_labels(r, id)) != NULL)
		rc = kvlist_copy(out, l) == -1 ? -1 : 1;
	pthread_rwlock_unlock(&r->nodelock);
	return rc;
}
