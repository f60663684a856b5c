/* history.h: what happened to each service lately, for the explain API
 * and the status page: a short ring of events per service (read newest
 * first), fed by the registry's event hook (registry_set_events()), and a
 * ring of the latest refusals of services flowmon does not know. Memory
 * only and bounded: a restart begins every story again ("restored"), a
 * service removed for good loses its story, and a repeat of the newest
 * event (the Docker source applying an unchanged service every poll) only
 * counts.
 *
 * A service's story lives in the slot the registry keeps with the service
 * (registry.h), written and read under the service's lock: no lock of the
 * history's is on a request's path, and no index of names. It starts with
 * room for one event and grows to HISTORY_EVENTS: at 10,000 services most
 * stories are one "restored". */
#ifndef FLOWMON_HISTORY_H
#define FLOWMON_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define HISTORY_EVENTS		12	/* kept per service */
#define HISTORY_REFUSED		32	/* refusals of unknown services kept */
#define HISTORY_DETAIL_MAX	240	/* bytes of a detail kept */

struct history;

/* One event as read back. */
struct history_item {
	int64_t			 time_ms;	/* wall clock, ms since 1970;
						   of the latest repeat */
	enum registry_event	 ev;
	unsigned		 count;		/* repeats in a row, >= 1 */
	char			*detail;	/* "" when none */
	char			*name;		/* the service (refusals of
						   unknown ones only) */
};

/* What a story adds up to since the start. */
struct history_counts {
	unsigned	 healed;	/* files written again after vanishing */
	unsigned	 edited;	/* hand edits seen */
	int64_t		 written_ms;	/* last time a file of it was written
					   (written, healed, readmitted), 0:
					   not since the start */
};

/* NULL on ENOMEM. history_free accepts NULL. */
struct history *history_new(void);
void	 history_free(struct history *h);

/* The registry's event hook (a registry_event_fn); ctx is a history,
 * *story the service's slot (NULL: a refusal of an unknown service, kept
 * in the history's own ring under its lock). A detail is kept redacted
 * (url_redact_dup(): no URL's user name or password) and, longer than
 * HISTORY_DETAIL_MAX, cut (at a UTF-8 character boundary) and ends in
 * "...". */
void	 history_event(void *ctx, void **story, const char *name,
	    enum registry_event ev, const char *detail);
/* The same, at time_ms: for tests. */
void	 history_event_at(struct history *h, void **story, const char *name,
	    enum registry_event ev, const char *detail, int64_t time_ms);
/* Frees a story (the registry's story_free). NULL is fine. */
void	 history_story_free(void *story);

/* The word of an event: "received", "written", "reloaded", "rejected",
 * "healed", "removed", ... */
const char *history_event_name(enum registry_event ev);

/* Copies of a story's events (the slot a registry_view hands out, under
 * the service's lock; NULL: none), newest first, into a malloc'd vector
 * (NULL with *n 0 when it has none), and its counts (counts may be NULL).
 * Free with history_items_free(). 0, or -1 on ENOMEM. */
int	 history_story_items(const void *story, struct history_item **items,
	    size_t *n, struct history_counts *counts);
/* A story's counts (zero for NULL). */
void	 history_story_counts(const void *story, struct history_counts *c);
/* The latest refusals of services flowmon does not know, newest first
 * (name set in each). 0, or -1 on ENOMEM. */
int	 history_refused(struct history *h, struct history_item **items,
	    size_t *n);
void	 history_items_free(struct history_item *items, size_t n);

#endif
