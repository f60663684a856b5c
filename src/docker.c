/* docker.c: the Docker source's two threads and its reconcile; the Engine
 * API itself (a unix socket or a local TCP port) is dockerapi.c's.
 *
 * The worker thread owns every decision. It lists nodes, services and
 * running tasks at start and every --docker-poll ("full round"), and one
 * service (with its tasks) when the event thread names it. Each notified
 * service becomes a reconfigure row (dockermap.c) that goes through
 * listener_apply_service(), i.e. the HTTP front's parser and
 * registry_upsert(), so a row is exactly as good as a webhook.
 *
 * What may be removed. The worker remembers the services (and nodes) it
 * applied; only those are ever removed, so services that came by webhook
 * are never touched. A removal needs a clear answer: a complete list that
 * no longer holds the service (or holds it without the notify label set to
 * "true"), or Docker's own 404 for it. A refused connection, a timeout, an
 * error status or a body that does not parse changes nothing and is
 * retried. The memory is lost on restart: a service removed from Docker
 * while flowmon was down stays until it is removed by hand.
 *
 * Bounded. An answer is counted before it is parsed (dockerapi.h), the
 * backlog of services events name is a set of at most DOCKER_BACKLOG_MAX
 * (beyond: a full round), every lookup of a round (what was listed, what
 * this source applied, what it refused) is a hash set (struct idset), and
 * what a round does not apply is said in one line at its end (struct
 * report). A row refused once is remembered by its hash and not tried
 * again (no parse, no promtool run, no line) until it changes.
 *
 * Why re-list instead of reading events. An event only says which service
 * changed; its tasks start later and get their addresses later still. So
 * an event makes the worker re-list that service, and for a service on a
 * scrape network keep re-listing it every second until its tasks have
 * converged and stayed so for a few seconds (as swarm-listener waits). A
 * missed event, a dropped stream or a task restarted elsewhere is healed
 * by the next full round; every (re)connection of the stream asks for one.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "advice.h"
#include "buf.h"
#include "clock.h"
#include "docker.h"
#include "dockerapi.h"
#include "dockermap.h"
#include "hash.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "swarmstate.h"
#include "url.h"
#include "worker.h"

#define DOCKER_TICK_MS		1000		/* re-list of followed services */
#define DOCKER_SETTLE_MS	5000		/* converged this long: done */
#define DOCKER_FOLLOW_MAX_MS	300000		/* give up following after */
#define DOCKER_FULL_BATCH	16		/* more at once: a full round */
/* Services events named that wait for the worker, and services followed:
 * beyond these, a full round (which lists them all) instead. */
#define DOCKER_BACKLOG_MAX	1024
#define DOCKER_FOLLOW_MAX	1024
/* Services not applied named in a round's summary line. */
#define DOCKER_EXAMPLES		3
/*
 * A set of strings (Docker IDs, service names) with a value each: open
 * addressing, linear probing, grown at half full, so a lookup, an insert
 * and a removal cost O(1) on average however many there are. A round over
 * 100,000 services, or 40,000 IDs in the event stream, stays linear.
 */
struct idset_slot {
	char		*key;		/* NULL: free */
	uint64_t	 val;
};

struct idset {
	struct idset_slot	*v;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
};

/* The one hash of the tree (hash.h). */
static uint64_t
idset_hash(const char *s)
{
	return hash_bytes(HASH_INIT, s, strlen(s));
}

/* The slot of key, or of the free slot where it would go. */
static struct idset_slot *
idset_slot(const struct idset *s, const char *key)
{
	size_t i = (size_t)idset_hash(key) & (s->cap - 1);

	while (s->v[i].key != NULL && strcmp(s->v[i].key, key) != 0)
		i = (i + 1) & (s->cap - 1);
	return &s->v[i];
}

/* The entry of key, or NULL. */
static struct idset_slot *
idset_find(const struct idset *s, const char *key)
{
	struct idset_slot *e;

	if (s->cap == 0)
		return NULL;
	e = idset_slot(s, key);
	return e->key != NULL ? e : NULL;
}

static int
idset_grow(struct idset *s)
{
	struct idset old = *s, t;
	size_t i;

	t.cap = old.cap ? old.cap * 2 : 64;
	t.n = old.n;
	if ((t.v = calloc(t.cap, sizeof(*t.v))) == NULL)
		return -1;
	for (i = 0; i < old.cap; i++)
		if (old.v[i].key != NULL)
			*idset_slot(&t, old.v[i].key) = old.v[i];
	free(old.v);
	*s = t;
	return 0;
}

/* Sets key's value (adding key, copied): 1 added, 0 there already, -1 on
 * ENOMEM. */
static int
idset_put(struct idset *s, const char *key, uint64_t val)
{
	struct idset_slot *e;

	if ((s->n + 1) * 2 > s->cap && idset_grow(s) == -1)
		return -1;
	e = idset_slot(s, key);
	e->val = val;
	if (e->key != NULL)
		return 0;
	if ((e->key = strdup(key)) == NULL)
		return -1;
	s->n++;
	return 1;
}

/* Removes key, if there (backward shift: no tombstones). */
static void
idset_del(struct idset *s, const char *key)
{
	struct idset_slot *e = idset_find(s, key);
	size_t i, j, h;

	if (e == NULL)
		return;
	free(e->key);
	e->key = NULL;
	s->n--;
	i = (size_t)(e - s->v);
	for (j = (i + 1) & (s->cap - 1); s->v[j].key != NULL;
	    j = (j + 1) & (s->cap - 1)) {
		h = (size_t)idset_hash(s->v[j].key) & (s->cap - 1);
		/* Move j back to the hole unless its home lies in (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			s->v[i] = s->v[j];
			s->v[j].key = NULL;
			i = j;
		}
	}
}

static void
idset_release(struct idset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->v[i].key);
	free(s->v);
	memset(s, 0, sizeof(*s));
}


/* What the source noticed about one service (dockermap_remark()). */
struct remark {
	char		*name;
	char		*text;
	int		 ignored;	/* skipped, not monitored */
	uint64_t	 round;		/* the full round that saw it last */
};

/* A service re-listed every tick until its tasks converge. */
struct follow {
	char		 id[128];
	long long	 since;		/* last event, ms */
	long long	 converged;	/* converged since, ms; 0: not */
};

/* What re-listing a service found. */
enum svc_state {
	ST_ERROR,	/* Docker did not answer clearly: retry */
	ST_GONE,	/* gone or not notified: nothing to follow */
	ST_DONE,	/* applied; its rows do not depend on tasks */
	ST_CONVERGING,	/* applied; tasks still changing */
	ST_CONVERGED	/* applied; tasks converged */
};

struct docker {
	struct registry		*r;
	struct parser		*parser;
	struct dockerapi	*api;		/* the engine (dockerapi.h) */
	char			*notify_label;
	long			 poll_ms;
	long			 retry_min_ms;
	long			 retry_max_ms;
	struct swarmstate	*state;		/* NULL: not kept */

	/* The worker's alone. What this source applied: flowmon name to
	 * Docker ID (a malloc'd string as the value), and node IDs; the
	 * services refused (Docker ID to the hash of the row refused: the
	 * same row is not tried again). */
	struct idset		 owned;
	struct idset		 nodes_owned;
	struct idset		 refused;
	cJSON			*nodes;		/* last GET /nodes */
	struct follow		*follows;
	size_t			 nfollows;
	size_t			 followscap;	/* follows's room */

	/* Remarks, sorted by name, for any thread under rlock. */
	pthread_mutex_t		 rlock;
	struct remark		*remarks;
	size_t			 nremarks;
	size_t			 remarkscap;	/* remarks's room */
	uint64_t		 round;		/* full rounds begun */

	/* The worker and the event thread; below, shared by them under
	 * w's lock. */
	struct worker		 w;
	struct idset		 dirty;		/* service IDs events named */
	int			 full_due;	/* a full round is wanted */
};

/* What a round did not apply, said in one line at its end. */
struct report {
	size_t	 skipped;	/* not mappable to a row */
	size_t	 refused;	/* refused (held: the same row again) */
	size_t	 held;
	size_t	 failed;	/* the registry could not write */
	size_t	 nexamples;
	char	 examples[ERR_MAX];
};

static int
stopping(struct docker *d)
{
	return worker_stopping(&d->w);
}

/*
 * What this source applied.
 */

static const char *
owned_id(const struct idset_slot *e)
{
	return (const char *)(uintptr_t)e->val;
}

static void
owned_set(struct docker *d, const char *name, const char *id)
{
	struct idset_slot *e = idset_find(&d->owned, name);
	char *i;

	if (e != NULL && strcmp(owned_id(e), id) == 0)
		return;
	if ((i = strdup(id)) == NULL) {
		log_error("out of memory");
		return;
	}
	if (e != NULL) {
		free((char *)owned_id(e));
		e->val = (uint64_t)(uintptr_t)i;
		return;
	}
	if (idset_put(&d->owned, name, (uint64_t)(uintptr_t)i) == -1) {
		free(i);
		log_error("out of memory");
	}
}

/* Removes owned service name from flowmon and forgets it (unless the
 * registry could not write: then it is tried again next round). */
static void
owned_remove(struct docker *d, const char *name, const char *why)
{
	struct registry_result res;
	struct idset_slot *e;
	char err[ERR_MAX];

	if (registry_remove(d->r, name, &res, err) == -1) {
		log_error("cannot remove service gone from docker", "service",
		    name, "error", err);
		return;
	}
	log_info("service removed", "from", "docker", "service", name,
	    "reason", why);
	if (d->state != NULL)
		swarmstate_drop(d->state, name);
	if ((e = idset_find(&d->owned, name)) != NULL) {
		free((char *)owned_id(e));
		idset_del(&d->owned, name);
	}
}

/* The owned names for which keep() says go (malloc'd, strv_free): taken
 * out first, since a removal moves the set's slots. */
static char **
owned_where(struct docker *d, int (*go)(const struct idset_slot *, void *),
    void *arg, size_t *n)
{
	char **names = NULL;
	size_t i;

	*n = 0;
	for (i = 0; i < d->owned.cap; i++)
		if (d->owned.v[i].key != NULL && go(&d->owned.v[i], arg) &&
		    strv_push(&names, n, d->owned.v[i].key) == -1)
			log_error("out of memory");
	return names;
}

struct by_id {
	const char	*id;
	const char	*keep;
};

static int
owned_by_id(const struct idset_slot *e, void *arg)
{
	const struct by_id *b = arg;

	return strcmp(owned_id(e), b->id) == 0 && (b->keep == NULL ||
	    strcmp(e->key, b->keep) != 0);
}

/* Removes the owned services of Docker service id, but keep (its current
 * name, or NULL for all). */
static void
owned_remove_id(struct docker *d, const char *id, const char *keep,
    const char *why)
{
	struct by_id b = { id, keep };
	char **names;
	size_t n, i;

	names = owned_where(d, owned_by_id, &b, &n);
	for (i = 0; i < n; i++)
		owned_remove(d, names[i], why);
	strv_free(names, n);
}

/*
 * What a round did not apply.
 */

static void
report_add(struct report *rp, size_t *count, const char *who,
    const char *why)
{
	size_t o = strlen(rp->examples);

	(*count)++;
	if (rp->nexamples++ >= DOCKER_EXAMPLES || o >= sizeof(rp->examples) - 8)
		return;
	snprintf(rp->examples + o, sizeof(rp->examples) - o, "%s%.60s: %.200s",
	    o > 0 ? "; " : "", who, why);
}

/* One line for the round, when it did not apply everything. */
static void
report_log(const struct report *rp)
{
	char sk[32], re[32], he[32], fa[32];

	if (rp->skipped + rp->refused + rp->failed == 0)
		return;
	snprintf(sk, sizeof(sk), "%zu", rp->skipped);
	snprintf(re, sizeof(re), "%zu", rp->refused);
	snprintf(he, sizeof(he), "%zu", rp->held);
	snprintf(fa, sizeof(fa), "%zu", rp->failed);
	/* Held ones were refused before with the very same row: said in the
	 * count only, and tried again once their spec or tasks change. */
	if (rp->skipped + rp->failed == 0 && rp->refused == rp->held)
		log_debug("docker services not applied", "refused", re,
		    "unchanged", he);
	else
		log_warn("docker services not applied", "skipped", sk,
		    "refused", re, "unchanged", he, "failed", fa, "examples",
		    rp->examples);
}

/* The hash of a row: the same spec and tasks give the same row. */
static uint64_t
row_hash(const struct kvlist *row)
{
	uint64_t h = HASH_INIT;
	size_t i;

	/* Each NUL in: "ab"="c" and "a"="bc" differ. */
	for (i = 0; i < row->n; i++) {
		h = hash_bytes(h, row->v[i].key, strlen(row->v[i].key) + 1);
		h = hash_bytes(h, row->v[i].value,
		    strlen(row->v[i].value) + 1);
	}
	return h;
}

/*
 * Remarks.
 */

static int
remark_cmp(const void *a, const void *b)
{
	return strcmp(((const struct remark *)a)->name,
	    ((const struct remark *)b)->name);
}

static struct remark *
remark_find(struct docker *d, const char *name)
{
	struct remark key;

	if (d->nremarks == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, d->remarks, d->nremarks, sizeof(key), remark_cmp);
}

static void
remark_drop(struct docker *d, struct remark *m)
{
	free(m->name);
	free(m->text);
	memmove(m, m + 1, (size_t)(d->remarks + d->nremarks - m - 1) *
	    sizeof(*m));
	d->nremarks--;
}

/* Notes what dockermap_remark() says of service svc, flowmon name name
 * (NULL: not monitored, its Docker name counts). */
static void
remark_note(struct docker *d, const cJSON *svc, const char *name)
{
	char text[ADVICE_MAX];
	enum dockermap_remark k = dockermap_remark(svc, d->notify_label, text);
	struct remark *m;
	size_t i;

	if (name == NULL && (name = dockermap_name(svc)) == NULL)
		return;
	pthread_mutex_lock(&d->rlock);
	m = remark_find(d, name);
	if (k == DOCKERMAP_REMARK_NONE) {
		if (m != NULL)
			remark_drop(d, m);
		goto out;
	}
	if (m == NULL) {
		if (d->nremarks >= DOCKER_REMARKS_MAX || BUF_ARRAY_GROW(
		    d->remarks, d->nremarks, d->remarkscap) == -1)
			goto out;
		for (i = d->nremarks; i > 0 &&
		    strcmp(d->remarks[i - 1].name, name) > 0; i--)
			d->remarks[i] = d->remarks[i - 1];
		m = &d->remarks[i];
		memset(m, 0, sizeof(*m));
		if ((m->name = strdup(name)) == NULL) {
			memmove(m, m + 1, (d->nremarks - i) * sizeof(*m));
			goto out;
		}
		d->nremarks++;
	}
	free(m->text);
	m->text = strdup(text);
	m->ignored = k == DOCKERMAP_REMARK_IGNORED;
	m->round = d->round;
out:
	pthread_mutex_unlock(&d->rlock);
}

/* A full round is over: what it did not see is gone from Docker. */
static void
remarks_sweep(struct docker *d)
{
	size_t i;

	pthread_mutex_lock(&d->rlock);
	for (i = d->nremarks; i-- > 0;)
		if (d->remarks[i].round != d->round)
			remark_drop(d, &d->remarks[i]);
	pthread_mutex_unlock(&d->rlock);
}

int
docker_warnings(struct docker *d, const char *name, char ***v, size_t *n)
{
	struct remark *m;
	int rc = 0;

	pthread_mutex_lock(&d->rlock);
	if ((m = remark_find(d, name)) != NULL && !m->ignored &&
	    m->text != NULL)
		rc = strv_push(v, n, m->text);
	pthread_mutex_unlock(&d->rlock);
	return rc;
}

int
docker_skipped(struct docker *d, const char *name, char *why, size_t whysz)
{
	struct remark *m;
	int rc = 0;

	pthread_mutex_lock(&d->rlock);
	if ((m = remark_find(d, name)) != NULL && m->ignored &&
	    m->text != NULL) {
		snprintf(why, whysz, "%s", m->text);
		rc = 1;
	}
	pthread_mutex_unlock(&d->rlock);
	return rc;
}

void
docker_ignored_free(struct docker_ignored *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].name);
		free(v[i].why);
	}
	free(v);
}

int
docker_ignored(struct docker *d, struct docker_ignored **out, size_t *nout)
{
	struct docker_ignored *v;
	size_t i, n = 0;
	int rc = 0;

	pthread_mutex_lock(&d->rlock);
	if ((v = calloc(d->nremarks + 1, sizeof(*v))) == NULL)
		rc = -1;
	for (i = 0; v != NULL && i < d->nremarks; i++) {
		if (!d->remarks[i].ignored || d->remarks[i].text == NULL)
			continue;
		if ((v[n].name = strdup(d->remarks[i].name)) == NULL ||
		    (v[n].why = strdup(d->remarks[i].text)) == NULL) {
			n++;
			rc = -1;
			break;
		}
		n++;
	}
	pthread_mutex_unlock(&d->rlock);
	if (rc == -1) {
		docker_ignored_free(v, n);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	return rc;
}

/*
 * Applying.
 */

/* Applies one service object; *name gets its flowmon name when it is
 * notified (malloc'd). What is not applied goes into rp, not the log: a
 * round says it in one line. A row refused before is not tried again
 * (no parse, no promtool run) until it changes. */
static enum svc_state
apply_service(struct docker *d, const cJSON *svc, const cJSON *tasks,
    char **name, struct report *rp)
{
	struct kvlist row = { 0 };
	struct idset_slot *was;
	const char *id = dockermap_id(svc);
	char err[ERR_MAX];
	enum fm_err kind;
	uint64_t h;
	int rc, wrote;

	*name = NULL;
	rc = dockermap_service(svc, tasks, d->nodes, d->notify_label, &row,
	    err);
	if (rc == -1) {
		report_add(rp, &rp->skipped, id ? id : "(no ID)", err);
		return ST_ERROR;
	}
	if (rc == 0) {
		remark_note(d, svc, NULL);
		return ST_GONE;
	}
	if ((*name = strdup(kvlist_get(&row, "serviceName"))) == NULL) {
		kvlist_release(&row);
		log_error("out of memory");
		return ST_ERROR;
	}
	remark_note(d, svc, *name);
	h = row_hash(&row);
	if ((was = idset_find(&d->refused, id)) != NULL && was->val == h) {
		rp->held++;
		rp->refused++;
	} else if (listener_try_service(d->r, d->parser, &row, "docker",
	    &wrote, &kind, err) == 0) {
		owned_set(d, *name, id);
		idset_del(&d->refused, id);
		if (wrote)
			log_info("service reconciled", "from", "docker",
			    "service", *name);
	} else if (kind == FM_REFUSED) {
		if (idset_put(&d->refused, id, h) == -1)
			log_error("out of memory");
		report_add(rp, &rp->refused, *name, err);
	} else
		report_add(rp, &rp->failed, *name, err);
	kvlist_release(&row);
	if (d->state != NULL && idset_find(&d->owned, *name) != NULL) {
		struct swarm_status st;

		dockermap_swarm_status(svc, tasks, &st);
		if (swarmstate_set(d->state, *name, &st) == -1)
			log_error("out of memory");
	}
	/* Followed until converged: tasks on a scrape network (their
	 * addresses), and a deploy under way (its end). */
	if (!dockermap_scrape_network(svc) && (d->state == NULL ||
	    !dockermap_deploying(svc)))
		return ST_DONE;
	return dockermap_converged(svc, tasks) ? ST_CONVERGED : ST_CONVERGING;
}

static struct follow *
follow_find(struct docker *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nfollows; i++)
		if (strcmp(d->follows[i].id, id) == 0)
			return &d->follows[i];
	return NULL;
}

/* Starts (or restarts, on a new event) following id. */
static void
follow_add(struct docker *d, const char *id, long long now)
{
	struct follow *f = follow_find(d, id);

	if (f == NULL) {
		/* Beyond the bound, the full round at the next poll covers
		 * it: follow_find stays a short scan. */
		if (d->nfollows >= DOCKER_FOLLOW_MAX ||
		    strlen(id) >= sizeof(f->id) || BUF_ARRAY_GROW(d->follows,
		    d->nfollows, d->followscap) == -1)
			return;
		f = &d->follows[d->nfollows++];
		snprintf(f->id, sizeof(f->id), "%s", id);
	}
	f->since = now;
	f->converged = 0;
}

/* Updates the follow of id after a re-list; drops it when done. */
static void
follow_update(struct docker *d, const char *id, enum svc_state st,
    long long now)
{
	struct follow *f = follow_find(d, id);
	int done;

	if (f == NULL)
		return;
	if (st == ST_CONVERGED && f->converged == 0)
		f->converged = now;
	else if (st != ST_CONVERGED && st != ST_ERROR)
		f->converged = 0;
	done = st == ST_GONE || st == ST_DONE ||
	    (st == ST_CONVERGED && now - f->converged >= DOCKER_SETTLE_MS) ||
	    now - f->since >= DOCKER_FOLLOW_MAX_MS;
	if (done)
		*f = d->follows[--d->nfollows];
}

/* Makes sure the node cache knows every node tasks run on. */
static int
nodes_cover(struct docker *d, const cJSON *tasks)
{
	const cJSON *t, *n;
	cJSON *nodes;

	cJSON_ArrayForEach(t, tasks) {
		const cJSON *nid = cJSON_GetObjectItemCaseSensitive(t,
		    "NodeID");
		int found = 0;

		if (!cJSON_IsString(nid))
			continue;
		cJSON_ArrayForEach(n, d->nodes) {
			const char *id = dockermap_id(n);

			if (id != NULL && strcmp(id, nid->valuestring) == 0) {
				found = 1;
				break;
			}
		}
		if (found)
			continue;
		if (dockerapi_get_list(d->api, "/nodes", &nodes) == -1)
			return -1;
		cJSON_Delete(d->nodes);
		d->nodes = nodes;
		return 0;
	}
	return 0;
}

/* Re-lists service id (and its tasks, for a scrape network) and applies
 * it; removes what this source applied for it when Docker says it is gone
 * or no longer notified. */
static enum svc_state
reconcile_one(struct docker *d, const char *id)
{
	enum svc_state st = ST_ERROR;
	cJSON *svc = NULL, *tasks = NULL;
	char *path, *name = NULL;
	struct report rp;
	long code;

	memset(&rp, 0, sizeof(rp));
	if ((path = dockerapi_path("/services/", id)) == NULL) {
		log_error("out of memory");
		return ST_ERROR;
	}
	if (dockerapi_get_json(d->api, path, &svc, &code) == -1)
		goto out;
	if (code == 404) {
		owned_remove_id(d, id, NULL, "gone from docker");
		st = ST_GONE;
		goto out;
	}
	if (!cJSON_IsObject(svc) || dockermap_id(svc) == NULL ||
	    strcmp(dockermap_id(svc), id) != 0) {
		dockerapi_unclear(d->api, "a service answer without its ID");
		goto out;
	}
	if (!dockermap_notified(svc, d->notify_label)) {
		remark_note(d, svc, NULL);
		owned_remove_id(d, id, NULL, "notify label not true");
		st = ST_GONE;
		goto out;
	}
	/* Tasks: for nodeInfo, and for the counts of the swarm state. */
	if (dockermap_scrape_network(svc) || d->state != NULL) {
		free(path);
		path = dockerapi_filtered("/tasks", dockerapi_filter("service",
		    id, "desired-state", "running"));
		if (dockerapi_get_list(d->api, path, &tasks) == -1 ||
		    nodes_cover(d, tasks) == -1)
			goto out;
	}
	st = apply_service(d, svc, tasks, &name, &rp);
	report_log(&rp);
	/* com.df.shortName switched: the old name is this service no more. */
	if (name != NULL)
		owned_remove_id(d, id, name, "renamed");
out:
	free(name);
	free(path);
	cJSON_Delete(tasks);
	cJSON_Delete(svc);
	return st;
}

/* Nodes of a complete list: down ones are removed, as swarm-listener
 * reports them; owned ones missing from the list too. */
static void
reconcile_nodes(struct docker *d, const cJSON *nodes)
{
	struct registry_result res;
	struct idset listed = { NULL, 0, 0 };
	const cJSON *n;
	char **gone = NULL, err[ERR_MAX];
	size_t ngone = 0, k;

	cJSON_ArrayForEach(n, nodes) {
		struct kvlist row = { 0 };
		const char *id = dockermap_id(n);

		if (id == NULL || dockermap_node_down(n))
			continue;
		if (dockermap_node(n, &row, err) == -1) {
			log_warn("docker node skipped", "id", id, "error", err);
			continue;
		}
		if (idset_put(&listed, id, 0) == -1)
			log_error("out of memory");
		if (listener_apply_node(d->r, d->parser, &row, "docker") == 0 &&
		    idset_put(&d->nodes_owned, id, 0) == -1)
			log_error("out of memory");
		kvlist_release(&row);
	}
	for (k = 0; k < d->nodes_owned.cap; k++) {
		const char *id = d->nodes_owned.v[k].key;

		if (id != NULL && idset_find(&listed, id) == NULL &&
		    strv_push(&gone, &ngone, id) == -1)
			log_error("out of memory");
	}
	for (k = 0; k < ngone; k++) {
		if (registry_node_remove(d->r, gone[k], &res, err) == -1) {
			log_error("cannot remove node", "node", gone[k],
			    "error", err);
			continue;
		}
		log_info("node removed", "from", "docker", "node", gone[k]);
		idset_del(&d->nodes_owned, gone[k]);
	}
	strv_free(gone, ngone);
	idset_release(&listed);
}

static int
owned_unlisted(const struct idset_slot *e, void *arg)
{
	return idset_find(arg, e->key) == NULL;
}

/* Lists everything and applies it. 0, or -1 when Docker did not answer
 * clearly (then nothing was removed). */
static int
reconcile_all(struct docker *d, long long now)
{
	cJSON *nodes = NULL, *svcs = NULL, *tasks = NULL;
	struct idset listed = { NULL, 0, 0 }, ids = { NULL, 0, 0 };
	struct report rp;
	const cJSON *s;
	char *spath, *tpath, **gone = NULL, num[32];
	size_t ngone = 0, k;
	int rc = -1;

	memset(&rp, 0, sizeof(rp));

	/* Every service, not only those with the notify label: a service
	 * with com.df.* labels that is skipped is worth a remark.
	 * status=true (Engine API 1.41) adds each service's task counts; an
	 * older engine ignores it. */
	spath = strdup(d->state != NULL ? "/services?status=true" :
	    "/services");
	tpath = dockerapi_filtered("/tasks", dockerapi_filter("desired-state",
	    "running", NULL, NULL));
	if (dockerapi_get_list(d->api, "/nodes", &nodes) == -1 ||
	    dockerapi_get_list(d->api, spath, &svcs) == -1 ||
	    dockerapi_get_list(d->api, tpath, &tasks) == -1)
		goto out;
	cJSON_Delete(d->nodes);
	d->nodes = nodes;
	nodes = NULL;
	reconcile_nodes(d, d->nodes);
	pthread_mutex_lock(&d->rlock);
	d->round++;
	pthread_mutex_unlock(&d->rlock);
	cJSON_ArrayForEach(s, svcs) {
		const char *id = dockermap_id(s);
		char *name = NULL;
		enum svc_state st;

		st = apply_service(d, s, tasks, &name, &rp);
		if ((name != NULL && idset_put(&listed, name, 0) == -1) ||
		    (id != NULL && idset_put(&ids, id, 0) == -1)) {
			/* Unsure what is listed: remove nothing. */
			log_error("out of memory");
			free(name);
			goto out;
		}
		free(name);
		if (id != NULL)
			follow_update(d, id, st, now);
	}
	report_log(&rp);
	gone = owned_where(d, owned_unlisted, &listed, &ngone);
	for (k = 0; k < ngone; k++)
		owned_remove(d, gone[k], "not listed by docker");
	/* Followed services no longer listed are gone or unlabelled; so
	 * are refused ones. */
	k = d->nfollows;
	while (k-- > 0)
		if (idset_find(&ids, d->follows[k].id) == NULL)
			d->follows[k] = d->follows[--d->nfollows];
	strv_free(gone, ngone);
	gone = NULL;
	ngone = 0;
	for (k = 0; k < d->refused.cap; k++)
		if (d->refused.v[k].key != NULL &&
		    idset_find(&ids, d->refused.v[k].key) == NULL &&
		    strv_push(&gone, &ngone, d->refused.v[k].key) == -1)
			log_error("out of memory");
	for (k = 0; k < ngone; k++)
		idset_del(&d->refused, gone[k]);
	remarks_sweep(d);
	snprintf(num, sizeof(num), "%zu", listed.n);
	log_debug("docker reconciled", "services", num);
	if (d->state != NULL)
		swarmstate_round_done(d->state);
	rc = 0;
out:
	strv_free(gone, ngone);
	idset_release(&listed);
	idset_release(&ids);
	free(spath);
	free(tpath);
	cJSON_Delete(nodes);
	cJSON_Delete(svcs);
	cJSON_Delete(tasks);
	return rc;
}

/*
 * The worker thread.
 */

static void *
worker_main(void *arg)
{
	struct docker *d = arg;
	long long next_full = clock_ms(), next_tick = 0;
	long backoff = d->retry_min_ms;

	for (;;) {
		struct idset ids;
		size_t nids, i;
		long long now;
		int full, tick;

		worker_lock(&d->w);
		for (;;) {
			long long deadline = next_full;

			now = clock_ms();
			if (stopping(d) || d->full_due || d->dirty.n > 0 ||
			    now >= next_full ||
			    (d->nfollows > 0 && now >= next_tick))
				break;
			if (d->nfollows > 0 && next_tick < deadline)
				deadline = next_tick;
			worker_wait(&d->w, deadline);
		}
		if (stopping(d)) {
			worker_unlock(&d->w);
			break;
		}
		full = d->full_due || now >= next_full;
		d->full_due = 0;
		ids = d->dirty;
		nids = ids.n;
		memset(&d->dirty, 0, sizeof(d->dirty));
		worker_unlock(&d->w);

		/* A round: its failures make one line, not one each. */
		dockerapi_round(d->api, 1);
		tick = d->nfollows > 0 && now >= next_tick;
		for (i = 0; i < ids.cap; i++)
			if (ids.v[i].key != NULL)
				follow_add(d, ids.v[i].key, now);
		if (!full && nids + (tick ? d->nfollows : 0) > DOCKER_FULL_BATCH)
			full = 1;
		if (full) {
			if (reconcile_all(d, now) == 0) {
				next_full = clock_ms() + d->poll_ms;
				backoff = d->retry_min_ms;
			} else {
				next_full = clock_ms() + (backoff < d->poll_ms ?
				    backoff : d->poll_ms);
				backoff = backoff * 2 > d->retry_max_ms ?
				    d->retry_max_ms : backoff * 2;
			}
			next_tick = clock_ms() + DOCKER_TICK_MS;
		} else {
			/* Named by an event: at once; followed: each tick. */
			for (i = 0; i < ids.cap && !stopping(d); i++)
				if (ids.v[i].key != NULL)
					follow_update(d, ids.v[i].key,
					    reconcile_one(d, ids.v[i].key),
					    now);
			if (tick) {
				size_t k = d->nfollows;

				while (k-- > 0 && !stopping(d)) {
					char id[128];

					if (k >= d->nfollows)
						continue;
					snprintf(id, sizeof(id), "%s",
					    d->follows[k].id);
					if (idset_find(&ids, id) != NULL)
						continue;
					follow_update(d, id, reconcile_one(d,
					    id), clock_ms());
				}
				next_tick = clock_ms() + DOCKER_TICK_MS;
			}
		}
		if (!stopping(d))
			dockerapi_round(d->api, 0);
		idset_release(&ids);
	}
	return NULL;
}

/*
 * The event thread.
 */

/* A line of the stream: an event naming a service marks it dirty, one
 * naming a node asks for a full round. */
static void
on_event(void *arg, const char *line, size_t len)
{
	struct docker *d = arg;
	struct dockermap_event ev;

	dockermap_event(line, len, &ev);
	if (ev.kind == DOCKERMAP_EV_NONE)
		return;
	log_debug("docker event", "kind", ev.kind == DOCKERMAP_EV_NODE ?
	    "node" : "service", "action", ev.action, "id", ev.id);
	worker_lock(&d->w);
	if (ev.kind == DOCKERMAP_EV_NODE)
		d->full_due = 1;	/* nodes and every service */
	else if (idset_find(&d->dirty, ev.id) != NULL)
		;	/* named already: one re-list covers both */
	else if (d->dirty.n >= DOCKER_BACKLOG_MAX ||
	    idset_put(&d->dirty, ev.id, 0) == -1) {
		/* Too many to list one by one: a full round lists them all,
		 * and the backlog goes. */
		d->full_due = 1;
		idset_release(&d->dirty);
	}
	worker_signal(&d->w);
	worker_unlock(&d->w);
}

/* The stream is open: whatever happened while not following is read from
 * the lists. */
static void
on_open(void *arg)
{
	struct docker *d = arg;

	worker_lock(&d->w);
	d->full_due = 1;
	worker_signal(&d->w);
	worker_unlock(&d->w);
}

static void *
events_main(void *arg)
{
	struct docker *d = arg;
	/* Filters are ANDed across keys: these actions cover services and
	 * nodes, and only start and die of containers (a task's). */
	static const char *const types[3] = { "service", "node", "container" };
	static const char *const actions[5] = { "create", "update", "remove",
	    "start", "die" };
	cJSON *f = cJSON_CreateObject();
	char *path = NULL, err[ERR_MAX];
	long backoff = d->retry_min_ms;
	int failing = 0;

	if (f != NULL && cJSON_AddItemToObject(f, "type",
	    cJSON_CreateStringArray(types, 3)) && cJSON_AddItemToObject(f,
	    "event", cJSON_CreateStringArray(actions, 5)))
		path = dockerapi_filtered("/events", f);
	else
		cJSON_Delete(f);
	if (path == NULL) {
		log_error("out of memory: docker events not followed");
		return NULL;
	}
	while (!stopping(d)) {
		if (dockerapi_events(d->api, path, on_event, on_open, d, err)) {
			backoff = d->retry_min_ms;
			failing = 0;
		}
		if (stopping(d))
			break;
		/* A lost stream is retried; once a failure is logged, the
		 * same failure again only at debug. */
		if (!failing)
			log_warn("docker events not followed, will retry",
			    "error", err);
		else
			log_debug("docker events not followed", "error", err);
		failing = 1;
		worker_sleep(&d->w, backoff);
		backoff = backoff * 2 > d->retry_max_ms ? d->retry_max_ms :
		    backoff * 2;
	}
	free(path);
	return NULL;
}

/*
 * Life cycle.
 */

static void
docker_free(struct docker *d)
{
	size_t i;

	for (i = 0; i < d->owned.cap; i++)
		if (d->owned.v[i].key != NULL)
			free((char *)owned_id(&d->owned.v[i]));
	idset_release(&d->owned);
	idset_release(&d->refused);
	idset_release(&d->nodes_owned);
	idset_release(&d->dirty);
	cJSON_Delete(d->nodes);
	free(d->follows);
	dockerapi_free(d->api);
	free(d->notify_label);
	for (i = 0; i < d->nremarks; i++) {
		free(d->remarks[i].name);
		free(d->remarks[i].text);
	}
	free(d->remarks);
	pthread_mutex_destroy(&d->rlock);
	worker_release(&d->w);
	free(d);
}

struct docker *
docker_start(const struct docker_options *o, struct registry *r,
    struct parser *parser, char err[ERR_MAX])
{
	struct docker *d;
	char shown[ERR_MAX];

	if (o->notify_label == NULL || *o->notify_label == '\0') {
		snprintf(err, ERR_MAX, "--docker-notify-label is empty");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	d->r = r;
	d->parser = parser;
	d->poll_ms = o->poll_ms > 0 ? o->poll_ms : 30000;
	d->retry_min_ms = o->retry_min_ms > 0 ? o->retry_min_ms : 1000;
	d->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 30000;
	d->state = o->state;
	if (d->retry_max_ms < d->retry_min_ms)
		d->retry_max_ms = d->retry_min_ms;
	if (worker_init(&d->w, err) == -1) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->rlock, NULL);
	if ((d->api = dockerapi_new(o->host, worker_stop_flag(&d->w),
	    err)) == NULL)
		goto fail;
	if ((d->notify_label = strdup(o->notify_label)) == NULL)
		goto nomem;
	if (worker_start(&d->w, worker_main, d, "docker", err) == -1)
		goto fail;
	if (worker_start(&d->w, events_main, d, "docker event", err) == -1) {
		docker_stop(d);
		return NULL;
	}
	log_info("docker source started", "host", url_redact(o->host, shown,
	    sizeof(shown)), "notify_label", d->notify_label);
	return d;
nomem:
	snprintf(err, ERR_MAX, "out of memory");
fail:
	docker_free(d);
	return NULL;
}

void
docker_stop(struct docker *d)
{
	if (d == NULL)
		return;
	worker_stop(&d->w);
	docker_free(d);
}
