/* registry.h: the in-memory index of service records and node labels, and
 * the one place that decides what to write and when to ask for a reload. */
#ifndef FLOWMON_REGISTRY_H
#define FLOWMON_REGISTRY_H

#include <stdint.h>

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

/* GET /sd: every target group of every active service, sorted by service,
 * as one JSON array in the http_sd format. The groups are rendered exactly
 * as for the target files (render_targets), so http_sd and file_sd see the
 * same targets. NULL on allocation failure; the caller owns the result. */
cJSON	*registry_sd_json(struct registry *r);

/* One synchronous reload attempt: 0 when Prometheus accepted it. */
typedef int (*registry_reload_fn)(void *ctx, char err[ERR_MAX]);

/* After Prometheus refused a reload (it answered 500): finds the rule
 * files at fault by elimination among those written since the last good
 * reload (all of flowmon's, if none of those is), moving each culprit to
 * rejected/ and marking its service rejected, so that every other change
 * applies. Reloads through try, from the reloader's thread. Returns the
 * number of files quarantined. */
size_t	 registry_reload_failed(struct registry *r, registry_reload_fn try,
	    void *ctx);
/* A reload succeeded: what was written so far is loaded. */
void	 registry_reload_ok(struct registry *r);
/* Services whose rule file is quarantined, for /metrics. */
size_t	 registry_rejected(struct registry *r);

/* Counts for /metrics. */
void	 registry_counts(struct registry *r, size_t *services,
	    size_t *removed_kept, size_t *nodes);

/* Task DNS (see dns.h). A service with neither nodeInfo, targets nor
 * scrapeType=static_configs (and a scrapePort) takes its targets from the
 * addresses of its task DNS name, looked up off the request path.
 *
 * wake(ctx) is called (without registry locks) when such a service appears
 * or was never looked up, so the lookup comes soon. Set before serving. */
void	 registry_set_dns_hook(struct registry *r, void (*wake)(void *),
	    void *ctx);
/* Names of the services that use task DNS; only those waiting for their
 * first lookup when pending_only is set. *names is malloc'd, as is each
 * name (caller frees). 0, or -1 on ENOMEM. */
int	 registry_dns_names(struct registry *r, int pending_only,
	    char ***names, size_t *n);
/* The outcome of looking up qname for service name: on success (error
 * NULL) addrs, in any order, become the set; the target file is rewritten
 * only if the sorted set differs. On failure the last set is kept and
 * error is shown in registry_service_json(). A service that left the DNS
 * path meanwhile is ignored. 1 when the outcome changed (another set, or
 * another error, or an error went away), 0 when not, -1 with err on a
 * storage error. */
int	 registry_dns_result(struct registry *r, const char *name,
	    const char *qname, char *const *addrs, size_t naddrs,
	    const char *error, struct registry_result *res,
	    char err[ERR_MAX]);

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

/* A copy of the labels stored for node id into out (empty), for the node
 * endpoints' answers. 1 when the node is known, 0 when not, -1 on ENOMEM. */
int	 registry_node_labels(struct registry *r, const char *id,
	    struct kvlist *out);

#endif
