/* registry.h: the in-memory index of service records and node labels, and
 * the one place that decides what to write and when to ask for a reload. */
#ifndef FLOWMON_REGISTRY_H
#define FLOWMON_REGISTRY_H

#include <cJSON.h>

#include "request.h"
#include "service.h"

struct store;
struct reloader;
struct registry;

/* What a change did, for the HTTP answer. */
struct registry_result {
	int	 unknown;		/* remove: the service was not known */
	int	 wrote_state;
	int	 wrote_targets;		/* target file written or removed */
	int	 wrote_rules;		/* rule file written or removed */
	int	 kept_tasks;		/* a create without nodeInfo kept them */
	int	 refused;		/* the rule file failed its checks */
};

/* A registry over an open store; reloader may be NULL. NULL on ENOMEM. */
struct registry *registry_new(struct store *st, struct reloader *rl);
void	 registry_free(struct registry *r);

/* Makes every new rule file pass `promtool check rules` (path, or NULL for
 * flowmon's own checks only) before it is written. Call before serving. */
void	 registry_set_promtool(struct registry *r, const char *promtool);

/* Rebuilds the index from the data dir: every state/ record is parsed again
 * with ctx, and any target or rule file that disagrees with its record is
 * rewritten (or removed), so a crash between two writes heals. Records that
 * no longer parse are logged and their files left alone. 0, or -1 with err
 * when the data dir cannot be read. */
int	 registry_load(struct registry *r, const struct request_ctx *ctx,
	    char err[ERR_MAX]);

/* Makes svc (taken over, freed on every path) the whole desired state of
 * its service and writes what changed: state, then targets, then rules.
 * Nothing is written when nothing changed. A changed rule file is checked
 * first (see rulecheck.h): if it fails, nothing is written, res->refused
 * is set and -1 returned with err carrying the reason. Different services proceed in
 * parallel; the same service is serialised. 0, or -1 with err and errno on
 * a storage error (old files intact; a later request retries). */
int	 registry_upsert(struct registry *r, struct service *svc,
	    struct registry_result *res, char err[ERR_MAX]);

/* Removes a service: its target file goes; its rule file goes too unless it
 * has persistent alerts, which stay (with the record, marked removed).
 * Unknown names succeed with res->unknown set. 0, or -1 as above. */
int	 registry_remove(struct registry *r, const char *name,
	    struct registry_result *res, char err[ERR_MAX]);

/* Stores the labels of a node (already filtered and renamed by the caller)
 * and re-renders exactly the services with tasks on that node. */
int	 registry_node_upsert(struct registry *r, const char *id,
	    const struct kvlist *labels, struct registry_result *res,
	    char err[ERR_MAX]);
int	 registry_node_remove(struct registry *r, const char *id,
	    struct registry_result *res, char err[ERR_MAX]);

/* GET /services: a JSON array of every known service, sorted by name,
 * derived from the records only (so it is the same after a restart). */
cJSON	*registry_services_json(struct registry *r);
/* GET /services/<name>: one service with its files; NULL if unknown. */
cJSON	*registry_service_json(struct registry *r, const char *name);

/* Counts for /metrics. */
void	 registry_counts(struct registry *r, size_t *services,
	    size_t *removed_kept, size_t *nodes);

#endif
