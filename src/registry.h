/* registry.h: the in-memory index of service records and node labels, and
 * the one place that decides what to write and when to ask for a reload.
 * What it shows (views.h), the rule lifecycle across services (the
 * reloader's hook and the diagnosis, lifecycle.h) and where task DNS
 * addresses come from (taskdns.h) are modules of their own, built on the
 * functions below; the registry calls none of them. Each service's rule
 * file goes through its states by lifecycle.h's rule_*() functions, which
 * the registry calls. */
#ifndef FLOWMON_REGISTRY_H
#define FLOWMON_REGISTRY_H

#include <stdint.h>

#include "err.h"
#include "lifecycle.h"
#include "request.h"
#include "service.h"

struct store;
struct reloader;
struct registry;
struct promtool;
struct quota;

/* What a change did, for the HTTP answer. */
struct registry_result {
	int	 unknown;		/* remove: the service was not known */
	int	 wrote_state;
	int	 wrote_targets;		/* target file written or removed */
	int	 wrote_rules;		/* rule file written or removed */
	int	 kept_tasks;		/* a create without nodeInfo kept them */
	enum rule_state rules;		/* its rule file's state afterwards */
	enum fm_err fail;		/* why it failed; FM_OK if it did not */
};

/* A registry over an open store; reloader may be NULL. NULL on ENOMEM. */
struct registry *registry_new(struct store *st, struct reloader *rl);
void	 registry_free(struct registry *r);
struct store *registry_store(struct registry *r);

/* What a new rule file must pass before it is written: flowmon's own
 * checks always, promtool when pt is not NULL, and the bounds of lim
 * (NULL: none). Both are borrowed; call before serving. */
void	 registry_set_checks(struct registry *r, struct promtool *pt,
	    const struct quota *lim);

/* Rebuilds the index from the data dir: every state/ record is parsed again
 * with ctx, and any target or rule file that disagrees with its record is
 * rewritten (or removed), so a crash between two writes heals. Records that
 * no longer parse are logged and their files left alone. 0, or -1 with err
 * when the data dir cannot be read. */
int	 registry_load(struct registry *r, const struct request_ctx *ctx,
	    char err[ERR_MAX]);

/* Makes svc (taken over, freed on every path) the whole desired state of
 * its service and writes what changed: state, then targets, then rules.
 * Nothing is written when nothing changed. The rule file is rendered once;
 * when it changed it must fit the bounds and pass the checks first (see
 * registry_set_checks): if not, nothing is written and -1 is returned with
 * res->fail FM_REFUSED and err carrying the reason (naming alertIf.N when
 * promtool names the rule). Different services proceed in parallel; the
 * same service is serialised. A new service is refused with FM_REFUSED
 * beyond registry_set_max_services(), and with FM_CONFLICT when its name
 * is one of those over 213 bytes the store shortens (store_base()) and
 * another service already has that file name; nothing is written then.
 * 0, or -1 with err, errno and res->fail (FM_STORAGE, FM_FATAL) on a
 * storage or memory error: all or nothing, the record, the target file
 * and the rule file are then as they were, on disk and in memory (a new
 * service leaves nothing; a later request retries). */
int	 registry_upsert(struct registry *r, struct service *svc,
	    struct registry_result *res, char err[ERR_MAX]);

/* Removes a service: its target file goes; its rule file goes too unless it
 * has persistent alerts, which stay (with the record, marked removed).
 * Unknown names succeed with res->unknown set; a record on disk that does
 * not parse fails with FM_INVALID. 0, or -1 as above (all or nothing). */
int	 registry_remove(struct registry *r, const char *name,
	    struct registry_result *res, char err[ERR_MAX]);

/* Stores the labels of a node (already filtered and renamed by the caller)
 * and re-renders exactly the services with tasks on that node. */
int	 registry_node_upsert(struct registry *r, const char *id,
	    const struct kvlist *labels, struct registry_result *res,
	    char err[ERR_MAX]);
int	 registry_node_remove(struct registry *r, const char *id,
	    struct registry_result *res, char err[ERR_MAX]);

/*
 * Events (history.h): what happens to each service, as it happens, for
 * whoever keeps its story. The hook runs on the thread that made the
 * change, with the service's lock held: it must be quick and must not call
 * the registry. detail (borrowed, never NULL, maybe "") says more: the
 * source, the files, the reason. story is the hook's own slot for the
 * service, which the registry keeps with it (NULL initially; under the
 * service's lock, so no lock of the hook's is on a request's path) and
 * hands to views (registry_view); the registry frees what it points to
 * with story_free when the service's entry goes. story is NULL for an
 * event of a service flowmon does not know (REGISTRY_EV_REFUSED_NEW).
 */
enum registry_event {
	REGISTRY_EV_RESTORED,	/* its record was read at start */
	REGISTRY_EV_INVALID,	/* its record does not parse (why) */
	REGISTRY_EV_RECEIVED,	/* a desired state was taken (its source) */
	REGISTRY_EV_REFUSED,	/* one was refused (its source and why) */
	REGISTRY_EV_REFUSED_NEW, /* the same for a service flowmon does not
				   know (why): it stays unknown */
	REGISTRY_EV_FAILED,	/* a write failed (why); a retry may pass */
	REGISTRY_EV_WRITTEN,	/* its files changed on disk (which) */
	REGISTRY_EV_REMOVED,	/* removed for good: nothing of it stays */
	REGISTRY_EV_REMOVED_KEPT, /* removed; its persistent alerts stay */
	REGISTRY_EV_RELOADED,	/* Prometheus loaded its rule file */
	REGISTRY_EV_REJECTED,	/* its rule file was set aside (why) */
	REGISTRY_EV_READMITTED,	/* its rule file is back in rules/ (why) */
	REGISTRY_EV_HEALED,	/* a vanished file written again (which) */
	REGISTRY_EV_EDITED,	/* a file of its was edited by hand (which) */
	REGISTRY_EV_COUNT
};
typedef void (*registry_event_fn)(void *ctx, void **story,
	    const char *name, enum registry_event ev, const char *detail);
/* Sets the hook (NULL: none), what frees a story, and their context; call
 * before serving. */
void	 registry_set_events(struct registry *r, registry_event_fn fn,
	    void (*story_free)(void *story), void *ctx);
/* A source refused a service before handing it over (its parameters do
 * not parse): told to the hook as REGISTRY_EV_REFUSED when the service is
 * known, else as REGISTRY_EV_REFUSED_NEW, the detail naming the source.
 * name NULL or not a service name: nothing. */
void	 registry_refused(struct registry *r, const char *name,
	    enum service_source source, const char *why);

/* Counts for /metrics. */
void	 registry_counts(struct registry *r, size_t *services,
	    size_t *removed_kept, size_t *nodes);

/* The most services (with a record: active, removed but kept for
 * persistent alerts, or invalid) the registry keeps: an upsert of a new
 * one beyond it is refused (FM_REFUSED, err naming --max-services) with
 * nothing written; updates of known ones go on. 0: no bound. Call before
 * serving. */
void	 registry_set_max_services(struct registry *r, size_t max);
/* Entries in the index (services with a record, plus those a request is
 * working on), for tests: a service removed for good has none. */
size_t	 registry_entries(struct registry *r);

/* Self-healing (files.h): present(ctx, rules, file) is 1 when the latest
 * listing of targets/ (rules 0) or rules/ (rules 1) holds file, a file
 * name with its extension. Every output of a valid record the registry
 * has booked as on disk that the listing lacks (and that is still missing
 * under its service's lock) is written again from the record by the
 * reconfigure's own path, logged and counted
 * (flowmon_files_healed_total); the targets sentinel too. healed[0] and
 * healed[1] count the files written in targets/ and rules/; a rule file
 * asks for a reload. 0, or -1 with err when one could not be written (the
 * others are still tried). */
typedef int (*registry_present_fn)(void *ctx, int rules, const char *file);
int	 registry_heal(struct registry *r, registry_present_fn present,
	    void *ctx, size_t healed[2], char err[ERR_MAX]);
/* The same for the one file named file (with its extension) in targets/
 * (rules 0) or rules/ (rules 1), which a look at that name alone found
 * missing: its service's (or the sentinel) is written again if the
 * registry booked it as on disk. healed as above. */
int	 registry_heal_file(struct registry *r, int rules, const char *file,
	    size_t healed[2], char err[ERR_MAX]);

/* Reconcile (see listener.h). The generation grows with every upsert and
 * remove; registry_active_names() lists the active services (not removed,
 * record valid) last changed at generation gen or before, sorted, so a
 * service created while a listener was being asked is never pruned. */
uint64_t registry_generation(struct registry *r);
int	 registry_active_names(struct registry *r, uint64_t gen,
	    char ***names, size_t *n);

/* Operator edits (see files.h). Who wrote targets/<name>.json (rules 0)
 * or rules/<name>.yml (rules 1), name being the file's base name (see
 * store_base()), whose contents are buf/len (NULL: it could
 * not be read): flowmon if they are byte for byte what it wrote last,
 * edited if flowmon wrote a file of that name but not these bytes, none
 * if flowmon has no such file. With forget, an edited file's hash is
 * forgotten, so the next reconfigure of the service (or the next start)
 * replaces the file from the record. */
enum registry_owner {
	REGISTRY_OWNER_NONE,
	REGISTRY_OWNER_FLOWMON,
	REGISTRY_OWNER_EDITED
};
enum registry_owner registry_file_owner(struct registry *r, int rules,
	    const char *name, const char *buf, size_t len, int forget);
/* The same from the contents' hash (hash_content()); readable 0:
 * they could not be read (hash unused). */
enum registry_owner registry_file_owner_hash(struct registry *r, int rules,
	    const char *name, int readable, uint64_t hash, int forget);

/*
 * Views (views.h): one service as the API shows it, read under the
 * service's lock. Everything is borrowed for the length of the callback.
 */
struct registry_view {
	const char		*name;
	const struct service	*svc;		/* NULL: invalid record */
	const char		*invalid;	/* why it does not parse */
	enum rule_state		 rule_state;	/* its rule file (lifecycle.h) */
	const char		*rule_reason;	/* RULE_REJECTED: why Prometheus
						   refused it ("" if unknown);
						   else NULL */
	int			 removed;	/* kept for persistent alerts */
	int			 has_targets;	/* its files on disk */
	int			 has_rules;
	uint64_t		 dns_epoch;	/* uses task DNS; 0: does not */
	char *const		*addrs;		/* its task DNS addresses */
	size_t			 naddrs;
	const void		*story;		/* the event hook's (history.h) */
};
/* Returns 0 to go on, anything else to stop (and be returned). */
typedef int (*registry_view_fn)(void *ctx, struct registry *r,
	    const struct registry_view *v);
/* Calls fn for every known service (a record, valid or not), sorted by
 * name. 0, fn's stop value, or -1 on ENOMEM. */
int	 registry_view_all(struct registry *r, registry_view_fn fn, void *ctx);
/* Calls fn for service name if known: 1, or 0 when it is not. */
int	 registry_view_one(struct registry *r, const char *name,
	    registry_view_fn fn, void *ctx);
/* From within fn: the target file v renders to (render_targets(), with
 * the node labels), *buf NULL when it has none. 0, or -1 with err. */
int	 registry_view_targets(struct registry *r,
	    const struct registry_view *v, char **buf, size_t *len,
	    char err[ERR_MAX]);

/*
 * Task DNS (taskdns.h). A service with neither nodeInfo, targets nor
 * scrapeType=static_configs (and a scrapePort) takes its targets from an
 * address set the registry keeps (the last good one, kept across
 * reconfigures and restarts) and taskdns.c fills in. A service gets a new
 * epoch each time it starts using task DNS.
 */
struct registry_dns {
	char		*name;
	uint64_t	 epoch;
};
/* Every service using task DNS, as a malloc'd vector (free with
 * registry_dns_free()). 0, or -1 on ENOMEM. */
int	 registry_dns_services(struct registry *r, struct registry_dns **v,
	    size_t *n);
void	 registry_dns_free(struct registry_dns *v, size_t n);
/* The epoch of name if it uses task DNS, else 0. */
uint64_t registry_dns_epoch(struct registry *r, const char *name);
/* A counter that grows whenever a service starts using task DNS (and at
 * load), so a poller knows a lookup is wanted. */
uint64_t registry_dns_wanted(struct registry *r);
/* Makes addrs (sorted, unique) the address set of name if it still uses
 * task DNS in epoch; the target file is rewritten only when the set
 * differs. 1 when it changed, 0 when not (or the service moved on), -1
 * with err on a storage error. */
int	 registry_set_addrs(struct registry *r, const char *name,
	    uint64_t epoch, char *const *addrs, size_t naddrs,
	    struct registry_result *res, char err[ERR_MAX]);

/*
 * Rule files (lifecycle.h). lifecycle.c, above the registry, drives each
 * service's rule file through its states (lifecycle.h's rule_*()
 * functions) under the service's lock, through the calls below.
 */
/* One service's rule file as the lifecycle sees it; everything borrowed
 * for the length of the callback, rf to change with rule_*(). */
struct registry_rule {
	const char		*name;
	const struct service	*svc;	/* NULL: no valid record (a service
					   removed whose accepted/ file is
					   not swept yet, or an invalid one) */
	int			 removed; /* kept for persistent alerts */
	struct rule_file	*rf;
	struct store		*st;
	uint64_t		*clock;	/* for rule_write(), rule_bring_back() */
};
/* Returns 0 to go on, anything else to stop (and be returned). */
typedef int (*registry_rule_fn)(void *ctx, const struct registry_rule *x);
/* Calls fn for every service the registry holds (sorted by name if
 * asked), each under its lock. 0, fn's stop value, or -1 on ENOMEM. */
int	 registry_rules_each(struct registry *r, int sorted,
	    registry_rule_fn fn, void *ctx);
/* Calls fn for service name if the registry holds it: 1, else 0. */
int	 registry_rules_one(struct registry *r, const char *name,
	    registry_rule_fn fn, void *ctx);
/* The rule-file change counter now (atomic): taken just before a reload
 * is sent, every file written at or before it was there to be read
 * (rule_reload_succeeded()). */
uint64_t registry_rules_mark(struct registry *r);
/* How many services (with a record) are in each rule state, for
 * /metrics: counts[RULE_NONE] ... counts[RULE_REJECTED]. */
void	 registry_rule_counts(struct registry *r,
	    size_t counts[RULE_NSTATES]);
/* A copy of the labels stored for node id into out (empty), for the node
 * endpoints' answers. 1 when the node is known, 0 when not, -1 on ENOMEM. */
int	 registry_node_labels(struct registry *r, const char *id,
	    struct kvlist *out);

#endif
