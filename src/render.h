/* render.h: a service record to the bytes of its target file (file_sd JSON)
 * and rule file (Prometheus rule YAML, through libyaml's emitter). Pure: no
 * IO, same record gives the same bytes. */
#ifndef FLOWMON_RENDER_H
#define FLOWMON_RENDER_H

#include <stddef.h>

#include "service.h"

/* Returns the stored labels of a node id (from /node/reconfigure), or NULL. */
typedef const struct kvlist *(*render_node_labels_fn)(void *ctx,
	    const char *node_id);

/* Target groups for svc, as a JSON array. Where the targets come from, first
 * match wins:
 *   svc->ntargets > 0      explicit targets, one group
 *   svc->static_config     "<name>:<port>", one group
 *   svc->has_tasks         one group per task, "<address>:<port>", labelled
 *                          node=<hostname> and the node's stored labels
 *   naddrs > 0             addrs (resolved task DNS), "<addr>:<port>" one group
 * Every group carries job=<name>, service=<name>, and __metrics_path__,
 * __scheme__, __scrape_interval__, __scrape_timeout__ when set.
 * *out is a malloc'd NUL-terminated buffer (caller frees), or NULL when the
 * service has no target at all (then there must be no file). 0, or -1 with
 * err on allocation failure. */
int	 render_targets(const struct service *svc, const char *const *addrs,
	    size_t naddrs, render_node_labels_fn node_labels, void *ctx,
	    char **out, size_t *outlen, char err[ERR_MAX]);

/* The target settings of svc as text, one per line, for `flowmon plan`
 * to show and compare: the port, where targets come from (explicit
 * targets and static_configs named; tasks by their port only, since their
 * addresses are known once they run) and the labels of every group
 * (job, service, the __*__ scrape settings, DF_SCRAPE_TARGET_LABELS), as
 * render_targets() would write them, but those of a task's node. *out is
 * malloc'd (caller frees). 0, or -1 with err on ENOMEM. */
int	 render_settings(const struct service *svc, char **out,
	    size_t *outlen, char err[ERR_MAX]);
/* The number of targets render_targets() gives svc, without rendering:
 * what the status page counts for every service. addrs sorted, as the
 * registry keeps them. */
size_t	 render_target_count(const struct service *svc,
	    const char *const *addrs, size_t naddrs);

/* Rule file for svc: one group named after the service with one alerting
 * rule per alert. persistent_only renders only alertPersistent alerts (a
 * removed service). *out is malloc'd (caller frees), or NULL when there is
 * no alert to render. 0, or -1 with err. */
int	 render_rules(const struct service *svc, int persistent_only,
	    char **out, size_t *outlen, char err[ERR_MAX]);

#endif
