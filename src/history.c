/* history.c: per-service event rings, each in its service's slot of the
 * registry (see history.h), plus the ring of refusals of unknown services
 * behind the history's one mutex. A story is one block: its counts and a
 * ring that grows from one event to HISTORY_EVENTS, written in order
 * until it is full at its largest, and only then wrapped.
 *
 * Details repeat: "webhook", "state targets", "rules" make up nearly all
 * of them, and at 10,000 services a copy of each per event would cost
 * more than the rings themselves. A short detail of an event that is not
 * an error is kept once, in the history's set of words, shared by every
 * event that says it; the set is filled without a lock (a slot is claimed
 * by compare-and-swap and never changes after). An error's detail (it may
 * quote what was sent) gets its own copy, as does any detail once the
 * set is full, so that the set holds flowmon's own words. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "history.h"
#include "url.h"

#define HISTORY_WORDS		256	/* distinct short details kept once */
#define HISTORY_WORD_MAX	64	/* bytes of a detail kept once */

/* An event in 16 bytes, as there are up to HISTORY_EVENTS per service:
 * the time in 43 bits lasts until the year 2248, and a repeat beyond
 * EVENT_COUNT_MAX begins a new event. */
#define EVENT_TIME_MAX		((INT64_C(1) << 43) - 1)
#define EVENT_COUNT_MAX		((1u << 15) - 1)
struct event {
	char			*detail;	/* history_none for "" */
	uint64_t		 time_ms : 43;	/* ms since 1970 */
	uint64_t		 count : 15;	/* repeats in a row */
	uint64_t		 ev : 5;	/* enum registry_event */
	uint64_t		 shared : 1;	/* detail is a word (or ""):
						   not the event's to free */
};
_Static_assert(REGISTRY_EV_COUNT <= 32, "an event's ev has 5 bits");
_Static_assert(sizeof(struct event) == 16, "an event is 16 bytes");

/* A time an event can hold. */
static uint64_t
event_time(int64_t ms)
{
	return ms < 0 ? 0 : ms > EVENT_TIME_MAX ? EVENT_TIME_MAX :
	    (uint64_t)ms;
}

/* 1 if ev, detail repeats the event e (NULL: none), and e can count it. */
static int
event_repeats(const struct event *e, enum registry_event ev,
    const char *detail)
{
	return e != NULL && e->ev == ev && e->count < EVENT_COUNT_MAX &&
	    strcmp(e->detail, detail) == 0;
}

/* One service's story: a ring of cap slots, n used, head the next one to
 * write. */
struct story {
	struct history_counts	 counts;
	unsigned char		 head;
	unsigned char		 n;
	unsigned char		 cap;
	struct event		 ring[];
};

struct history {
	pthread_mutex_t	 lock;		/* the refusals */
	struct event	 refused[HISTORY_REFUSED];
	char		*rnames[HISTORY_REFUSED];
	size_t		 rhead;
	size_t		 nrefused;
	char		*words[HISTORY_WORDS];	/* atomic, set once each */
};

/* Most details are empty: one shared "" for all of them. */
static char history_none[1];

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

static void
event_release(struct event *e)
{
	if (!e->shared)
		free(e->detail);
	memset(e, 0, sizeof(*e));
}

void
history_story_free(void *p)
{
	struct story *s = p;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		event_release(&s->ring[i]);
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
	for (i = 0; i < HISTORY_REFUSED; i++) {
		event_release(&h->refused[i]);
		free(h->rnames[i]);
	}
	for (i = 0; i < HISTORY_WORDS; i++)
		free(h->words[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The word of h that says w (n bytes, at most HISTORY_WORD_MAX), made on
 * its first use; NULL when the set is full (or on ENOMEM). */
static char *
word(struct history *h, const char *w, size_t n)
{
	size_t i, at = hash_content(w, n) % HISTORY_WORDS;
	char *p, *mine = NULL, *none = NULL;

	for (i = 0; i < HISTORY_WORDS; i++, at = (at + 1) % HISTORY_WORDS) {
		p = __atomic_load_n(&h->words[at], __ATOMIC_ACQUIRE);
		if (p == NULL) {
			if (mine == NULL && (mine = strdup(w)) == NULL)
				return NULL;
			none = NULL;
			if (__atomic_compare_exchange_n(&h->words[at], &none,
			    mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return mine;
			p = none;	/* another thread's, just now */
		}
		if (strcmp(p, w) == 0) {
			free(mine);
			return p;
		}
	}
	free(mine);
	return NULL;
}

/* 1 when ev says something went wrong: its detail is the error's. */
static int
event_is_error(enum registry_event ev)
{
	return ev == REGISTRY_EV_INVALID || ev == REGISTRY_EV_REFUSED ||
	    ev == REGISTRY_EV_REFUSED_NEW || ev == REGISTRY_EV_FAILED ||
	    ev == REGISTRY_EV_REJECTED;
}

/* The detail of ev as an event keeps it: "" and a short one of an event
 * that is not an error shared (*shared set), another copied and, over
 * HISTORY_DETAIL_MAX bytes, cut at a character boundary. NULL on ENOMEM. */
static char *
detail_copy(struct history *h, enum registry_event ev, const char *detail,
    unsigned char *shared)
{
	size_t n = strlen(detail);
	char *s;

	*shared = 1;
	if (n == 0)
		return history_none;
	if (n <= HISTORY_WORD_MAX && !event_is_error(ev) &&
	    (s = word(h, detail, n)) != NULL)
		return s;
	*shared = 0;
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

/* The newest event of a ring of size slots (n used, head the next). */
static struct event *
ring_last(struct event *ring, size_t size, size_t head, size_t n)
{
	return n > 0 ? &ring[(head + size - 1) % size] : NULL;
}

/* Puts ev into the slot at *head of a ring of size slots: 0, or -1 on
 * ENOMEM (nothing changed). */
static int
ring_put(struct history *h, struct event *ring, size_t size, size_t *head,
    size_t *n, enum registry_event ev, const char *detail, int64_t time_ms)
{
	struct event e;
	unsigned char shared;

	memset(&e, 0, sizeof(e));
	e.time_ms = event_time(time_ms);
	e.ev = (unsigned)ev;
	e.count = 1;
	if ((e.detail = detail_copy(h, ev, detail, &shared)) == NULL)
		return -1;
	e.shared = shared;
	event_release(&ring[*head]);
	ring[*head] = e;
	*head = (*head + 1) % size;
	if (*n < size)
		(*n)++;
	return 0;
}

/* Room in *sp for one more event without dropping the oldest, while the
 * ring is not at its largest: it is written in order until then, so
 * growing moves nothing. The story itself on its first event. -1 on
 * ENOMEM (*sp unchanged). */
static int
story_room(struct story **sp)
{
	struct story *s = *sp, *ns;
	size_t cap;

	if (s != NULL && (s->n < s->cap || s->cap == HISTORY_EVENTS))
		return 0;
	cap = s == NULL ? 1 : s->cap * 2 < HISTORY_EVENTS ? s->cap * 2u :
	    HISTORY_EVENTS;
	if ((ns = realloc(s, sizeof(*ns) + cap * sizeof(ns->ring[0]))) ==
	    NULL)
		return -1;
	if (s == NULL)
		memset(ns, 0, sizeof(*ns));
	memset(&ns->ring[ns->cap], 0, (cap - ns->cap) * sizeof(ns->ring[0]));
	ns->cap = (unsigned char)cap;
	ns->head = ns->n;	/* it was full, in order: the next slot */
	*sp = ns;
	return 0;
}

/* ev into a story (*sp, made on the first event). */
static void
story_event(struct history *h, struct story **sp, enum registry_event ev,
    const char *detail, int64_t time_ms)
{
	struct story *s = *sp;
	struct event *last;
	size_t head, n;

	last = s != NULL ? ring_last(s->ring, s->cap, s->head, s->n) : NULL;
	if (event_repeats(last, ev, detail)) {
		last->count++;
		last->time_ms = event_time(time_ms);
	} else {
		if (story_room(sp) == -1)
			return;	/* out of memory: the story misses a line */
		s = *sp;
		head = s->head;
		n = s->n;
		if (ring_put(h, s->ring, s->cap, &head, &n, ev, detail,
		    time_ms) == -1)
			return;
		s->head = (unsigned char)head;
		s->n = (unsigned char)n;
	}
	if (ev == REGISTRY_EV_HEALED)
		s->counts.healed++;
	else if (ev == REGISTRY_EV_EDITED)
		s->counts.edited++;
	/* Each puts a file of the service on disk. */
	if (ev == REGISTRY_EV_WRITTEN || ev == REGISTRY_EV_HEALED ||
	    ev == REGISTRY_EV_READMITTED)
		s->counts.written_ms = time_ms;
}

/* A refusal of a service flowmon does not know: the history's ring. */
static void
refused_event(struct history *h, const char *name, const char *detail,
    int64_t time_ms)
{
	struct event *last;
	char *copy;
	size_t at;

	pthread_mutex_lock(&h->lock);
	last = ring_last(h->refused, HISTORY_REFUSED, h->rhead, h->nrefused);
	at = (h->rhead + HISTORY_REFUSED - 1) % HISTORY_REFUSED;
	if (event_repeats(last, REGISTRY_EV_REFUSED_NEW, detail) &&
	    strcmp(h->rnames[at], name) == 0) {
		last->count++;
		last->time_ms = event_time(time_ms);
	} else if ((copy = strdup(name)) != NULL) {
		at = h->rhead;
		if (ring_put(h, h->refused, HISTORY_REFUSED, &h->rhead,
		    &h->nrefused, REGISTRY_EV_REFUSED_NEW, detail,
		    time_ms) == 0) {
			free(h->rnames[at]);
			h->rnames[at] = copy;
		} else
			free(copy);
	}
	pthread_mutex_unlock(&h->lock);
}

void
history_event_at(struct history *h, void **story, const char *name,
    enum registry_event ev, const char *detail, int64_t time_ms)
{
	char *shown = NULL;

	if (detail == NULL)
		detail = "";
	if (ev == REGISTRY_EV_REMOVED) {
		/* Nothing of the service stays: neither does its story. */
		if (story != NULL) {
			history_story_free(*story);
			*story = NULL;
		}
		return;
	}
	if (ev != REGISTRY_EV_REFUSED_NEW && story == NULL)
		return;		/* no service to keep it for */
	/* Shown on the status page and by explain: as everything shown,
	 * with no URL's user name or password (an error may quote one). */
	if (url_text_may_hide(detail, strlen(detail)))
		detail = (shown = url_redact_dup(detail)) != NULL ? shown : "";
	if (ev == REGISTRY_EV_REFUSED_NEW) {
		if (name != NULL)
			refused_event(h, name, detail, time_ms);
	} else
		story_event(h, (struct story **)story, ev, detail, time_ms);
	free(shown);
}

void
history_event(void *ctx, void **story, const char *name,
    enum registry_event ev, const char *detail)
{
	history_event_at(ctx, story, name, ev, detail, clock_wall_ms());
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

/* Copies a ring, newest first, with the names of names (NULL: none). */
static int
ring_copy(const struct event *ring, char *const *names, size_t size,
    size_t head, size_t n, struct history_item **items, size_t *nitems)
{
	struct history_item *v;
	size_t i, at;

	*items = NULL;
	*nitems = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		at = (head + size - 1 - i) % size;
		v[i].time_ms = (int64_t)ring[at].time_ms;
		v[i].ev = (enum registry_event)ring[at].ev;
		v[i].count = ring[at].count;
		if ((v[i].detail = strdup(ring[at].detail)) == NULL ||
		    (names != NULL && names[at] != NULL &&
		    (v[i].name = strdup(names[at])) == NULL)) {
			history_items_free(v, i + 1);
			return -1;
		}
	}
	*items = v;
	*nitems = n;
	return 0;
}

int
history_story_items(const void *story, struct history_item **items,
    size_t *n, struct history_counts *counts)
{
	const struct story *s = story;

	*items = NULL;
	*n = 0;
	history_story_counts(story, counts);
	if (s == NULL)
		return 0;
	return ring_copy(s->ring, NULL, s->cap, s->head, s->n, items, n);
}

void
history_story_counts(const void *story, struct history_counts *c)
{
	const struct story *s = story;

	if (c == NULL)
		return;
	if (s == NULL)
		memset(c, 0, sizeof(*c));
	else
		*c = s->counts;
}

int
history_refused(struct history *h, struct history_item **items, size_t *n)
{
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = ring_copy(h->refused, h->rnames, HISTORY_REFUSED, h->rhead,
	    h->nrefused, items, n);
	pthread_mutex_unlock(&h->lock);
	return rc;
}
