/* explain.h: everything flowmon knows about a service and what Prometheus
 * made of it, joined in one place: the explain API
 * (/v1/docker-flow-monitor/explain/<name>) and the status page (ui.h).
 * explain_one() and explain_overview() gather the facts (the registry and
 * each service's history under its lock, then the file watcher and the
 * Docker source with no lock held, and the Prometheus snapshot their
 * caller took before taking any lock); explain_json() turns one
 * service's facts into the API's answer and is pure. */
#ifndef FLOWMON_EXPLAIN_H
#define FLOWMON_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "history.h"
#include "lifecycle.h"
#include "promstate.h"
#include "service.h"

struct registry;
struct files;
struct promapi;
struct docker;
struct reloader;
struct registry_view;

/* Why Prometheus is not asked (prom NULL): the user said so, or no URL
 * is known (none given, and no --reload-url to derive one from). */
#define EXPLAIN_PROM_NONE	"--prometheus-url none"
#define EXPLAIN_PROM_UNKNOWN	"no Prometheus URL is known: no " \
				"--prometheus-url, and no --reload-url to " \
				"derive it from"

/* Where the facts come from; any but reg may be NULL (not running). */
struct explain_ctx {
	struct registry	*reg;
	struct history	*hist;		/* the refusals of unknown services */
	struct files	*files;
	struct promapi	*prom;		/* NULL: not asked (prom_none says
					   why) */
	struct promstate *ps;		/* prom's snapshot (promapi_state(),
					   which may wait seconds for
					   Prometheus: taken before any lock
					   is), the caller's reference; NULL
					   with prom: out of memory */
	int		 prom_none;	/* --prometheus-url none was given */
	struct docker	*docker;
	struct reloader	*rl;		/* NULL, or one without a back end:
					   no reload is configured */
};

/* The problems a service can have, as flags (the status page puts the
 * services with any first). */
enum explain_problem {
	EXPLAIN_P_INVALID	= 1 << 0,	/* its record does not parse */
	EXPLAIN_P_REJECTED	= 1 << 1,	/* its rule file set aside */
	EXPLAIN_P_EDITED	= 1 << 2,	/* a file edited by hand */
	EXPLAIN_P_DOWN		= 1 << 3,	/* a target down */
	EXPLAIN_P_UNDISCOVERED	= 1 << 4,	/* no target discovered */
	EXPLAIN_P_NO_GROUP	= 1 << 5,	/* its rule group not run */
	EXPLAIN_P_WARNED	= 1 << 6,	/* a source warns about it */
};

/* One service's facts. Strings are owned unless said otherwise. */
struct explain {
	char		*name;
	const char	*source;	/* service_source_name(), NULL: unknown */
	const char	*state;		/* "active", "invalid", "rejected" */
	int		 removed;	/* kept for persistent alerts */
	char		*invalid;	/* why the record does not parse */
	struct kvlist	 params;	/* as received, secrets as *** */
	int		 has_targets;	/* it has a target file */
	int		 has_rules;	/* a rule file (in rejected/ too) */
	char		*targets_file;	/* its path; NULL: no file (or not
					   asked: the overview) */
	char		*targets_base;	/* its file name, e.g. "web.json" */
	size_t		 ntargets;
	char		*rules_file;	/* its path (rejected/ when set
					   aside); NULL: none (or not asked) */
	enum rule_state	 rule_state;	/* lifecycle.h; words only on output
					   (rule_state_name()) */
	char		*rule_reason;	/* why rejected; NULL otherwise */
	char		**alerts;	/* alert names in its rule file */
	size_t		 nalerts;
	int		 edited[2];	/* targets, rules edited by hand */
	struct history_counts counts;
	struct history_item *history;	/* newest first */
	size_t		 nhistory;
	char		**warnings;
	size_t		 nwarnings;
	unsigned	 problems;	/* enum explain_problem flags */
	/* What Prometheus made of it (prom NULL: not asked). */
	const char	*prom_url;	/* borrowed, passwords hidden; NULL:
					   not asked, for prom_why */
	const char	*prom_why;	/* EXPLAIN_PROM_NONE or _UNKNOWN */
	struct promstate *prom;		/* a reference */
	struct promstate_target *const *ptargets;	/* in prom */
	size_t		 nptargets;
	size_t		 up;
	size_t		 down;
	const struct promstate_group *group;	/* in prom; NULL: none */
	size_t		 firing;	/* its alerts firing */
	/* The service page only (explain_one with detail). */
	char		*targets_text;	/* the target file as rendered */
	char		*rules_text;	/* the rule file on disk */
};

/* The facts of service name into x (zeroed here; explain_release()),
 * detail adding the texts of its files. 1, 0 when the service is not
 * known, -1 on ENOMEM. */
int	 explain_one(const struct explain_ctx *c, const char *name,
	    int detail, struct explain *x);
void	 explain_release(struct explain *x);

/* Frees n facts at v (explain_release() of each) and v. */
void	 explain_all_free(struct explain *v, size_t n);

/* What the status page's overview shows: every service, and besides
 * them flowmon's own state, what it refused and what the Docker source
 * skips. */
struct explain_overview {
	struct explain		*v;		/* every service, by name */
	size_t			 n;
	const char		*version;
	const char		*prom_url;	/* NULL: not asked, for
						   prom_why */
	const char		*prom_why;
	struct promstate	*prom;		/* its snapshot, NULL: none */
	int			 have_reload;	/* a reload is configured:
						   --reload-url, or
						   --run-prometheus */
	int			 reload_ok;	/* its last attempt succeeded */
	int64_t			 reload_ms;	/* when (wall ms), 0: never */
	char			 reload_error[ERR_MAX];	/* "" if none */
	struct history_item	*refused;	/* unknown services refused */
	size_t			 nrefused;
	char			**skipped;	/* the Docker source's skipped
						   services: name, why, ... */
	size_t			 nskipped;	/* pairs */
	int64_t			 now_ms;	/* wall clock */
};

/* The overview into ov (zeroed here; explain_overview_release()): the
 * facts of every known service without history, parameters, paths or
 * texts, sorted by name, with one Prometheus snapshot for all. 0, or -1
 * on ENOMEM. */
int	 explain_overview(const struct explain_ctx *c, struct explain_overview
	    *ov);
void	 explain_overview_release(struct explain_overview *ov);

/* Joins what Prometheus made of x from snapshot ps (x takes a reference;
 * NULL: none), shown as url, at wall clock now_ms: its targets, their
 * health, its rule group, the alerts firing, and the warnings and
 * problems they show. 0, or -1 on ENOMEM. Pure. */
int	 explain_prometheus(struct explain *x, struct promstate *ps,
	    const char *url, int64_t now_ms);

/* The API's answer for x (the keys of DESIGN.md "Round 3"). NULL on
 * ENOMEM. Pure. */
cJSON	*explain_json(const struct explain *x);


#endif
