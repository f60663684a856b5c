/* history.c: per-service event rings behind one mutex, in a binary tree
 * keyed by name (libc's tsearch), plus the ring of refusals of unknown
 * services. The hook runs under a service's lock in the registry; readers
 * never hold a registry lock while they wait here, so the order is always
 * registry, then history. */
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "history.h"
#include "url.h"

struct event {
	int64_t			 time_ms;
	enum registry_event	 ev;
	unsigned		 count;
	char			*detail;
	char			*name;		/* refusals ring only */
};

/* One service's story: a ring, head the next slot to write. */
struct story {
	char			*name;
	struct event		 ring[HISTORY_EVENTS];
	size_t			 head;
	size_t			 n;
	struct history_counts	 counts;
};

struct history {
	pthread_mutex_t	 lock;
	void		*root;		/* tsearch tree of struct story */
	size_t		 nstories;
	struct event	 refused[HISTORY_REFUSED];
	size_t		 rhead;
	size_t		 nrefused;
};

static const char *const history_names[REGISTRY_EV_COUNT] = {
	[REGISTRY_EV_RESTORED] = "restored",
	[REGISTRY_EV_INVALID] = "invalid",
	[REGISTRY_EV_RECEIVED] = "received",
	[REGISTRY_EV_REFUSED] = "refused",
	[REGISTRY_EV_REFUSED_NEW] = "refused",
	[REGISTRY_EV_FAILED] = "failed",
	[REGISTRY_EV_WRITTEN] = "written",
	[REGISTRY_EV_REMOVED] = "removed",
	[REGISTRY_EV_REMOVED_KEPT] = "removed",
	[REGISTRY_EV_RELOADED] = "reloaded",
	[REGISTRY_EV_REJECTED] = "rejected",
	[REGISTRY_EV_READMITTED] = "readmitted",
	[REGISTRY_EV_HEALED] = "healed",
	[REGISTRY_EV_EDITED] = "edited",
};

const char *
history_event_name(enum registry_event ev)
{
	if ((unsigned)ev >= REGISTRY_EV_COUNT || history_names[ev] == NULL)
		return "unknown";
	return history_names[ev];
}

static int
story_cmp(const void *a, const void *b)
{
	return strcmp(((const struct story *)a)->name,
	    ((const struct story *)b)->name);
}

static void
event_release(struct event *e)
{
	free(e->detail);
	free(e->name);
	memset(e, 0, sizeof(*e));
}

static void
story_free(void *p)
{
	struct story *s = p;
	size_t i;

	for (i = 0; i < HISTORY_EVENTS; i++)
		event_release(&s->ring[i]);
	free(s->name);
	free(s);
}

struct history *
history_new(void)
{
	struct history *h = calloc(1, sizeof(*h));

	if (h != NULL)
		pthread_mutex_init(&h->lock, NULL);
	return h;
}

void
history_free(struct history *h)
{
	size_t i;

	if (h == NULL)
		return;
	tdestroy(h->root, story_free);
	for (i = 0; i < HISTORY_REFUSED; i++)
		event_release(&h->refused[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* detail, cut to HISTORY_DETAIL_MAX bytes at a character boundary. NULL
 * on ENOMEM. */
static char *
detail_copy(const char *detail)
{
	size_t n = strlen(detail);
	char *s;

	if (n <= HISTORY_DETAIL_MAX)
		return strdup(detail);
	n = HISTORY_DETAIL_MAX - 3;
	while (n > 0 && ((unsigned char)detail[n] & 0xc0) == 0x80)
		n--;
	if ((s = malloc(n + 4)) == NULL)
		return NULL;
	memcpy(s, detail, n);
	memcpy(s + n, "...", 4);
	return s;
}

/* Puts ev into a ring of size slots (head and n its state): a repeat of
 * the newest event only counts. 0, or -1 on ENOMEM (nothing changed). */
static int
ring_put(struct event *ring, size_t size, size_t *head, size_t *n,
    const char *name, enum registry_event ev, const char *detail,
    int64_t time_ms)
{
	struct event *last = *n > 0 ? &ring[(*head + size - 1) % size] : NULL;
	struct event e;

	if (last != NULL && last->ev == ev && strcmp(last->detail,
	    detail) == 0 && (name == NULL || strcmp(last->name, name) == 0)) {
		last->count++;
		last->time_ms = time_ms;
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.time_ms = time_ms;
	e.ev = ev;
	e.count = 1;
	if ((e.detail = detail_copy(detail)) == NULL ||
	    (name != NULL && (e.name = strdup(name)) == NULL)) {
		event_release(&e);
		return -1;
	}
	event_release(&ring[*head]);
	ring[*head] = e;
	*head = (*head + 1) % size;
	if (*n < size)
		(*n)++;
	return 0;
}

/* name's story, made when make is set (lock held). NULL if absent or on
 * ENOMEM. */
static struct story *
story_find(struct history *h, const char *name, int make)
{
	struct story key, *s, **found;

	key.name = (char *)name;
	if ((found = tfind(&key, &h->root, story_cmp)) != NULL)
		return *found;
	if (!make || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->name = strdup(name)) == NULL ||
	    (found = tsearch(s, &h->root, story_cmp)) == NULL) {
		free(s->name);
		free(s);
		return NULL;
	}
	h->nstories++;
	return s;
}

void
history_event_at(struct history *h, const char *name,
    enum registry_event ev, const char *detail, int64_t time_ms)
{
	struct story *s;
	char *shown = NULL;

	if (detail == NULL)
		detail = "";
	/* Shown on the status page and by explain: as everything shown,
	 * with no URL's user name or password (an error may quote one). */
	if (strstr(detail, "://") != NULL)
		detail = (shown = url_redact_dup(detail)) != NULL ? shown : "";
	pthread_mutex_lock(&h->lock);
	if (ev == REGISTRY_EV_REFUSED_NEW) {
		(void)ring_put(h->refused, HISTORY_REFUSED, &h->rhead,
		    &h->nrefused, name, ev, detail, time_ms);
		goto out;
	}
	if (ev == REGISTRY_EV_REMOVED) {
		/* Nothing of the service stays: neither does its story. */
		if ((s = story_find(h, name, 0)) != NULL) {
			tdelete(s, &h->root, story_cmp);
			story_free(s);
			h->nstories--;
		}
		goto out;
	}
	if ((s = story_find(h, name, 1)) == NULL)
		goto out;	/* out of memory: the story misses a line */
	if (ev == REGISTRY_EV_HEALED)
		s->counts.healed++;
	else if (ev == REGISTRY_EV_EDITED)
		s->counts.edited++;
	/* Each puts a file of the service on disk. */
	if (ev == REGISTRY_EV_WRITTEN || ev == REGISTRY_EV_HEALED ||
	    ev == REGISTRY_EV_READMITTED)
		s->counts.written_ms = time_ms;
	(void)ring_put(s->ring, HISTORY_EVENTS, &s->head, &s->n, NULL, ev,
	    detail, time_ms);
out:
	pthread_mutex_unlock(&h->lock);
	free(shown);
}

void
history_event(void *ctx, const char *name, enum registry_event ev,
    const char *detail)
{
	history_event_at(ctx, name, ev, detail, clock_wall_ms());
}

void
history_items_free(struct history_item *items, size_t n)
{
	size_t i;

	for (i = 0; items != NULL && i < n; i++) {
		free(items[i].detail);
		free(items[i].name);
	}
	free(items);
}

/* Copies a ring, newest first (lock held). */
static int
ring_copy(const struct event *ring, size_t size, size_t head, size_t n,
    struct history_item **items, size_t *nitems)
{
	struct history_item *v;
	size_t i;

	*items = NULL;
	*nitems = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const struct event *e = &ring[(head + size - 1 - i) % size];

		v[i].time_ms = e->time_ms;
		v[i].ev = e->ev;
		v[i].count = e->count;
		if ((v[i].detail = strdup(e->detail)) == NULL ||
		    (e->name != NULL &&
		    (v[i].name = strdup(e->name)) == NULL)) {
			history_items_free(v, i + 1);
			return -1;
		}
	}
	*items = v;
	*nitems = n;
	return 0;
}

int
history_get(struct history *h, const char *name, struct history_item **items,
    size_t *n, struct history_counts *counts)
{
	struct story *s;
	int rc = 0;

	*items = NULL;
	*n = 0;
	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	pthread_mutex_lock(&h->lock);
	if ((s = story_find(h, name, 0)) != NULL) {
		rc = ring_copy(s->ring, HISTORY_EVENTS, s->head, s->n, items, n);
		if (counts != NULL)
			*counts = s->counts;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

struct merge {
	const char *const	*names;
	size_t			 n;
	size_t			 i;
	struct history_counts	*counts;
};

/* twalk_r()'s visit: the stories come in order; so do the names. */
static void
merge_one(const void *node, VISIT which, void *arg)
{
	const struct story *s = *(const struct story *const *)node;
	struct merge *m = arg;
	int c = 1;

	if (which != postorder && which != leaf)
		return;
	while (m->i < m->n && (c = strcmp(m->names[m->i], s->name)) < 0)
		m->i++;
	if (m->i < m->n && c == 0)
		m->counts[m->i++] = s->counts;
}

void
history_counts_sorted(struct history *h, const char *const *names, size_t n,
    struct history_counts *counts)
{
	struct merge m = { names, n, 0, counts };

	memset(counts, 0, n * sizeof(*counts));
	pthread_mutex_lock(&h->lock);
	twalk_r(h->root, merge_one, &m);
	pthread_mutex_unlock(&h->lock);
}

int
history_refused(struct history *h, struct history_item **items, size_t *n)
{
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = ring_copy(h->refused, HISTORY_REFUSED, h->rhead, h->nrefused,
	    items, n);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

size_t
history_stories(struct history *h)
{
	size_t n;

	pthread_mutex_lock(&h->lock);
	n = h->nstories;
	pthread_mutex_unlock(&h->lock);
	return n;
}
