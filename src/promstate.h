/* promstate.h: what Prometheus (or vmagent, vmalert) made of flowmon's
 * files, parsed from its HTTP API answers into a compact snapshot with
 * lookups by file and by rule group: the targets of
 * /api/v1/targets?state=active (found through __meta_filepath among the
 * discovered labels, the file_sd file they came from) and the alerting
 * rules of /api/v1/rules (grouped by the rule group, named after the
 * service). Scrape URLs and errors are kept as flowmon shows everything
 * (url.h: no URL's user name or password). Pure: answers in, snapshot
 * out; promapi.h fetches them. A snapshot is immutable once finished and
 * shared by reference count. */
#ifndef FLOWMON_PROMSTATE_H
#define FLOWMON_PROMSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "service.h"

/* lastError and the like are cut to this many bytes. */
#define PROMSTATE_TEXT_MAX	512

struct promstate_target {
	char		*file;		/* base name of __meta_filepath, NULL
					   when it has none (http_sd, static) */
	char		*job;		/* the job label */
	char		*scrape_url;
	const char	*health;	/* "up", "down" or "unknown" */
	char		*last_error;	/* "" when none */
};

struct promstate_rule {
	char		*name;		/* the alert name */
	const char	*state;		/* "inactive", "pending" or "firing" */
	const char	*health;	/* "ok", "err" or "unknown" */
	char		*last_error;	/* "" when none */
	size_t		 active;	/* its alerts pending or firing */
};

struct promstate_group {
	char		*name;
	char		*file;		/* base name of its file, "" if none */
	struct promstate_rule *rules;	/* its alerting rules */
	size_t		 nrules;
};

struct promstate {
	int64_t		 fetched_ms;	/* monotonic, set by the fetcher */
	int		 reachable;	/* some server answered */
	int		 have_targets;	/* a targets answer was read */
	int		 have_rules;	/* a rules answer was read */
	char		 error[ERR_MAX]; /* what went wrong, "" if nothing */
	struct promstate_target *targets;	/* as answered */
	size_t		 ntargets;
	size_t		 tcap;
	struct promstate_target **by_file;	/* those with a file, sorted
						   by file */
	size_t		 nby_file;
	struct promstate_target **by_job;	/* those without, sorted by
						   job */
	size_t		 nby_job;
	struct promstate_group *groups;		/* sorted by name */
	size_t		 ngroups;
	size_t		 gcap;
	size_t		 refs;		/* atomic */
};

/* An empty snapshot with one reference; NULL on ENOMEM. */
struct promstate *promstate_new(void);
/* Adds the targets of a /api/v1/targets answer (buf, len), or the groups
 * of a /api/v1/rules answer: 0, or -1 with err when it is not such an
 * answer (the snapshot keeps what it had). Call before promstate_finish. */
int	 promstate_add_targets(struct promstate *ps, const char *buf,
	    size_t len, char err[ERR_MAX]);
int	 promstate_add_rules(struct promstate *ps, const char *buf, size_t len,
	    char err[ERR_MAX]);
/* Sorts for the lookups below; after it the snapshot is read-only. */
void	 promstate_finish(struct promstate *ps);

/* The targets of the file_sd file named file (a base name such as
 * "web.json"), as *v[0 .. count-1]; when there are none, those with the
 * job label job among the targets that came from no file (http_sd). */
size_t	 promstate_targets(const struct promstate *ps, const char *file,
	    const char *job, struct promstate_target *const **v);
/* The rule group named name, or NULL. */
const struct promstate_group *promstate_group(const struct promstate *ps,
	    const char *name);

/* References: ref adds one (returns ps), put drops one and frees the
 * snapshot with the last. NULL is fine for both. */
struct promstate *promstate_ref(struct promstate *ps);
void	 promstate_put(struct promstate *ps);

#endif
