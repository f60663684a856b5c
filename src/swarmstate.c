/* swarmstate.c: the table of swarmstate.h, an array sorted by service name
 * under one mutex. The Docker source's worker is its only writer; /metrics
 * and the silence worker copy out of it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "swarmstate.h"

struct entry {
	char			*name;
	struct swarm_status	 st;
};

struct swarmstate {
	pthread_mutex_t	 lock;
	struct entry	*v;		/* sorted by name */
	size_t		 n;
	size_t		 cap;
	uint64_t	 rounds;	/* atomic */
};

int
swarm_status_deploying(const struct swarm_status *st)
{
	return strcmp(st->update, "updating") == 0 ||
	    strcmp(st->update, "rollback_started") == 0;
}

struct swarmstate *
swarmstate_new(void)
{
	struct swarmstate *ss = calloc(1, sizeof(*ss));

	if (ss != NULL)
		pthread_mutex_init(&ss->lock, NULL);
	return ss;
}

void
swarmstate_free(struct swarmstate *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++)
		free(ss->v[i].name);
	free(ss->v);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

/* Where name is, or would go (*found says which). Lock held. */
static size_t
slot(const struct swarmstate *ss, const char *name, int *found)
{
	size_t lo = 0, hi = ss->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ss->v[mid].name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
swarmstate_set(struct swarmstate *ss, const char *name,
    const struct swarm_status *st)
{
	struct entry *e;
	size_t k;
	int found, rc = 0;

	pthread_mutex_lock(&ss->lock);
	k = slot(ss, name, &found);
	if (found) {
		e = &ss->v[k];
		if (st->desired >= 0)
			e->st.desired = st->desired;
		if (st->running >= 0)
			e->st.running = st->running;
		memcpy(e->st.update, st->update, sizeof(e->st.update));
		memcpy(e->st.message, st->message, sizeof(e->st.message));
		memcpy(e->st.image, st->image, sizeof(e->st.image));
		goto out;
	}
	if (BUF_ARRAY_GROW(ss->v, ss->n, ss->cap) == -1) {
		rc = -1;
		goto out;
	}
	e = &ss->v[k];
	memmove(e + 1, e, (ss->n - k) * sizeof(*e));
	if ((e->name = strdup(name)) == NULL) {
		memmove(e, e + 1, (ss->n - k) * sizeof(*e));
		rc = -1;
		goto out;
	}
	e->st = *st;
	/* Strings from a caller that forgot a NUL stay bounded. */
	e->st.update[sizeof(e->st.update) - 1] = '\0';
	e->st.message[sizeof(e->st.message) - 1] = '\0';
	e->st.image[sizeof(e->st.image) - 1] = '\0';
	ss->n++;
out:
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

void
swarmstate_drop(struct swarmstate *ss, const char *name)
{
	size_t k;
	int found;

	pthread_mutex_lock(&ss->lock);
	k = slot(ss, name, &found);
	if (found) {
		free(ss->v[k].name);
		memmove(&ss->v[k], &ss->v[k + 1], (ss->n - k - 1) *
		    sizeof(*ss->v));
		ss->n--;
	}
	pthread_mutex_unlock(&ss->lock);
}

void
swarmstate_round_done(struct swarmstate *ss)
{
	__atomic_add_fetch(&ss->rounds, 1, __ATOMIC_RELEASE);
}

uint64_t
swarmstate_rounds(struct swarmstate *ss)
{
	return __atomic_load_n(&ss->rounds, __ATOMIC_ACQUIRE);
}

void
swarm_deploys_free(struct swarm_deploy *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int
swarmstate_deploying(struct swarmstate *ss, struct swarm_deploy **v,
    size_t *n)
{
	struct swarm_deploy *out = NULL;
	size_t i, k = 0, cap = 0;
	int rc = 0;

	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n; i++) {
		if (!swarm_status_deploying(&ss->v[i].st))
			continue;
		if (BUF_ARRAY_GROW(out, k, cap) == -1 ||
		    (out[k].name = strdup(ss->v[i].name)) == NULL) {
			rc = -1;
			break;
		}
		out[k].st = ss->v[i].st;
		k++;
	}
	pthread_mutex_unlock(&ss->lock);
	if (rc == -1) {
		swarm_deploys_free(out, k);
		out = NULL;
		k = 0;
	}
	*v = out;
	*n = k;
	return rc;
}

/* One family of counts (running 0: desired, 1: running): a series per
 * service whose count is known. Lock held. */
static void
counts(struct swarmstate *ss, struct buf *b, int running, const char *name,
    const char *help)
{
	size_t i;

	expo_family(b, name, EXPO_GAUGE, help);
	for (i = 0; i < ss->n; i++) {
		long v = running ? ss->v[i].st.running : ss->v[i].st.desired;

		if (v >= 0)
			expo_sample(b, name, v, "service", ss->v[i].name, NULL);
	}
}

void
swarmstate_metrics(struct swarmstate *ss, struct buf *b)
{
	size_t i;

	pthread_mutex_lock(&ss->lock);
	counts(ss, b, 0, "flowmon_swarm_replicas_desired", "Tasks Docker "
	    "wants for a service flowmon monitors through --docker-host "
	    "(replicas; for a global service its tasks meant to run).");
	counts(ss, b, 1, "flowmon_swarm_replicas_running", "Tasks of the "
	    "service in the running state, as Docker reports them.");
	expo_family(b, "flowmon_swarm_update_state", EXPO_GAUGE, "Where the "
	    "service's rolling update stands (Docker's UpdateStatus.State; "
	    "none: never updated): 1 for the current state.");
	for (i = 0; i < ss->n; i++)
		expo_sample(b, "flowmon_swarm_update_state", 1, "service",
		    ss->v[i].name, "state", *ss->v[i].st.update ?
		    ss->v[i].st.update : "none", NULL);
	pthread_mutex_unlock(&ss->lock);
}
