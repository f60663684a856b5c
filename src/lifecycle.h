/* lifecycle.h: the rule lifecycle. Per service, its rule file is in one of
 * four states, one word each wherever it shows (code, /services, logs,
 * /metrics, README):
 *
 *   none      no rule file: the service has no alerts, and Prometheus
 *             runs none of its rules
 *   pending   rules/ holds a version (or the lack of one) that no reload
 *             that succeeded has loaded yet
 *   loaded    Prometheus runs what rules/ holds: accepted/ has the same
 *             content
 *   rejected  Prometheus refused the version the record renders to: it
 *             waits in rejected/ with the reason, rules/ keeps what
 *             Prometheus runs (or nothing)
 *
 * The state is known from the data dir alone (no extended attribute):
 * see the design note in lifecycle.c. The module has two layers. Below the
 * registry, lifecycle_rule.c: the transitions of one service's rule file
 * (rule_*() below), each named after the event that causes it, which the
 * registry calls under the service's lock. Above it, lifecycle.c: what
 * spans services (lifecycle_*()): the reloader's hook (settle what a
 * reload that succeeded loaded, diagnose one Prometheus refused) and the
 * recheck of rejected/ at start, built on the registry's API. */
#ifndef FLOWMON_LIFECYCLE_H
#define FLOWMON_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "service.h"
#include "supervisor.h"

struct store;
struct store_txn;
struct registry;
struct reloader;
struct promtool;

enum rule_state {
	RULE_NONE,
	RULE_PENDING,
	RULE_LOADED,
	RULE_REJECTED
};
#define RULE_NSTATES	4

/* "none", "pending", "loaded", "rejected". */
const char *rule_state_name(enum rule_state s);

/*
 * One service's rule file (lifecycle_rule.c). The registry keeps one per
 * service and changes it only through these functions, under the
 * service's lock; st is the data dir and name the service's name.
 */
struct rule_file {
	enum rule_state	 state;
	int		 has_file;	/* rules/<name>.yml exists... */
	uint64_t	 h_file;	/* ...with this content hash */
	int		 has_accepted;	/* accepted/<name>.yml: what the last */
	uint64_t	 h_accepted;	/* reload that succeeded loaded */
	uint64_t	 h_out;		/* the record's version kept out of
					   rules/: aside, or rejected */
	char		*reason;	/* rejected: why */
	uint64_t	 seq;		/* change number of rules/'s last write */
	int		 aside;		/* set aside for a test reload */
	int		 doubt;		/* pending, and Prometheus may run a
					   version newer than accepted/ */
};

/* At start: what rules/, accepted/ and rejected/ hold for name. A pending
 * file is in doubt until a reload succeeds (lifecycle.c says why). seen
 * (NULL: none) holds a listing per kind (store_names(), indexed by
 * enum store_kind): a name missing from one is not looked for there. */
struct store_names;
void	 rule_load(struct rule_file *rf, struct store *st, const char *name,
	    const struct store_names *seen);
/* Frees what rf holds. */
void	 rule_release(struct rule_file *rf);
/* 1 while rf holds something on disk or a state to keep (its service's
 * entry must stay). */
int	 rule_holds(const struct rule_file *rf);

/*
 * Within a change of the registry (one store transaction t, "all or
 * nothing", registry.c): the transition is staged on a copy of the
 * service's rule file (rule_begin()), which rule_commit() books into it
 * once t is committed; on an abort the copy is dropped. *clock is the
 * registry's rule-file change counter (atomic), bumped when rules/ was
 * written (wrote).
 */
void	 rule_begin(const struct rule_file *rf, struct rule_file *next);
void	 rule_commit(struct rule_file *rf, struct rule_file *next,
	    int wrote, uint64_t *clock, const char *name);
/* Event: the record now renders to buf/len (NULL: no rule file), by a
 * request, the start-up rebuild, a heal: rules/ is written (or the file
 * removed) within t when it differs. A rejected file stays out while the
 * record still renders to it, else it is readmitted first (rule_readmit());
 * a file set aside for a test reload stays out while the record is the
 * same, and a new record takes precedence. rf is the change's copy. 1 if
 * rules/ changes, 0 if not, -1 with err. */
int	 rule_write(struct rule_file *rf, struct store_txn *t,
	    const char *name, const char *buf, size_t len, char err[ERR_MAX]);
/* Event: the rejected file may be tried again (the record changed, the
 * service went, promtool passes it at start): the one way out of
 * rejected/. Its file there goes within t, and the reason with the
 * commit; rule_write() then stages what the record renders to. rf is the
 * change's copy. 1 if readmitted, 0 if not rejected, -1 with err. */
int	 rule_readmit(struct rule_file *rf, struct store_txn *t,
	    const char *name, char err[ERR_MAX]);

/* Event: a reload that succeeded, whose attempt began at change number
 * mark (registry_rules_mark()). A file last written at or before mark is
 * what Prometheus loaded: accepted/ is brought up to rules/ (a hard link,
 * made atomically; removed when rules/ has none). One written after it
 * may or may not have been read: it stays pending, in doubt. *linked is
 * set when accepted/ changed (its directory wants an fsync). */
void	 rule_reload_succeeded(struct rule_file *rf, struct store *st,
	    const char *name, uint64_t mark, int *linked);

/*
 * Outside a request's change, each its own transaction.
 */
/* Event: the diagnosis tests a reload without this pending file: rules/
 * gets accepted/'s version back, or loses the file when there is none, so
 * no group Prometheus runs leaves it. The record's version waits (its hash
 * in h_out). 1 if set aside, 0 if rf was not pending, -1 with err. */
int	 rule_set_aside(struct rule_file *rf, struct store *st,
	    const char *name, uint64_t *clock, char err[ERR_MAX]);
/* Event: the test is over: rules/ gets the record's version buf/len back.
 * Nothing happens (0) if a request replaced it meanwhile. 1, 0 or -1. */
int	 rule_bring_back(struct rule_file *rf, struct store *st,
	    const char *name, const char *buf, size_t len, uint64_t *clock,
	    char err[ERR_MAX]);
/* Event: promtool passes the rejected file at start: readmitted
 * (rule_readmit()), and rules/ gets the record's version buf/len. 1, 0
 * when rf is not rejected, or -1 with err. */
int	 rule_recheck_passed(struct rule_file *rf, struct store *st,
	    const char *name, const char *buf, size_t len, uint64_t *clock,
	    char err[ERR_MAX]);
/* Event: the diagnosis found that Prometheus refuses the version set
 * aside (buf/len, the record's): the one way into rejected/. It is kept
 * there with reason, which survives a restart; rules/ keeps what
 * Prometheus runs. 0 (also when a request replaced it meanwhile), or -1. */
int	 rule_culprit_found(struct rule_file *rf, struct store *st,
	    const char *name, const char *buf, size_t len, const char *reason,
	    char err[ERR_MAX]);
/*
 * Across services (lifecycle.c).
 */
struct lifecycle;

/* The lifecycle of the rule files of r, reloaded through rl, which it
 * becomes the hook of (reloader_set_hooks(); rl may be NULL: no reload,
 * so nothing is ever loaded), checked by pt (NULL: none). All borrowed;
 * free the reloader first. NULL on ENOMEM. */
struct lifecycle *lifecycle_new(struct registry *r, struct reloader *rl,
	    struct promtool *pt);
void	 lifecycle_free(struct lifecycle *lc);

/* At start, after registry_load(): every rejected file is judged again by
 * promtool (all in one batch) and readmitted when it passes; a reload is
 * asked for. Without promtool, what Prometheus refused stays rejected.
 * Returns how many were readmitted. */
size_t	 lifecycle_recheck(struct lifecycle *lc);

/* One reload attempt now through the reloader (reloader_try()), with the
 * bookkeeping of the reloader's own: what it loaded is settled. From the
 * reloader's thread (the diagnosis) or a test. The back end's kind. */
enum fm_err lifecycle_reload(struct lifecycle *lc, char err[ERR_MAX]);

/* What the supervisor says of the Prometheus it runs as flowmon's child
 * (a supervisor_hooks event, ctx the lifecycle; on the supervisor's
 * thread, never blocking: the work is done on the reloader's thread, at
 * its next attempt, which this asks for):
 *   SUPERVISOR_SPAWNING      the change number now is what the child will
 *                            read (registry_rules_mark())
 *   SUPERVISOR_READY         the child loaded every rule file in rules/:
 *                            settled as a reload that succeeded would be,
 *                            with the number of its start, so a file
 *                            written after it started stays in doubt
 *   SUPERVISOR_START_FAILED  it refused something at start: promtool
 *                            judges the pending files (those it refuses
 *                            are rejected); when it finds none, every
 *                            pending file is set aside (rules/ gets
 *                            accepted/'s version, what Prometheus last
 *                            ran, or none), so the next start loads; once
 *                            a reload succeeds they are brought back by
 *                            halves, as the diagnosis does, and the one
 *                            it refuses rejected. */
void	 lifecycle_child_event(void *ctx, enum supervisor_event ev,
	    const char *detail);

/* After Prometheus refused a reload: finds the pending files at fault and
 * rejects each, so every other change applies; no group Prometheus runs
 * leaves it or goes back to an older version on the way. Reloads through
 * lifecycle_reload(), from one thread at a time (the reloader's). Returns
 * how many files it rejected. */
size_t	 lifecycle_diagnose(struct lifecycle *lc);

#endif
