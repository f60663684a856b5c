/* dockermap.h: Docker Engine API objects (services, tasks, nodes, events)
 * into exactly the parameters swarm-listener would send for them (see
 * shared/reference/swarm-listener-mapping.md). Pure: parsed JSON (or, for
 * `flowmon plan`, a stack file's labels) in, parameter lists out, no IO;
 * docker.c does the talking. */
#ifndef FLOWMON_DOCKERMAP_H
#define FLOWMON_DOCKERMAP_H

#include <cJSON.h>

#include "service.h"
#include "swarmstate.h"

#define DOCKERMAP_LABEL_PREFIX	"com.df."

/* The ID of a service, task or node object (its "ID" string), or NULL. */
const char *dockermap_id(const cJSON *obj);
/* A service's Spec.Name, or NULL. */
const char *dockermap_name(const cJSON *service);

/* 1 when the service's Spec.Labels[notify_label] is exactly "true"
 * (swarm-listener's DF_NOTIFY_LABEL test), else 0. */
int	 dockermap_notified(const cJSON *service, const char *notify_label);

/* How a service runs, as far as its replicas parameter goes. */
enum dockermap_mode {
	DOCKERMAP_REPLICATED,	/* Spec.Mode.Replicated: replicas sent */
	DOCKERMAP_GLOBAL,	/* Global or GlobalJob: no replicas */
	DOCKERMAP_NO_MODE	/* neither (a replicated job): replicas=0 */
};

/* A service as swarm-listener sees it, wherever it was read from. */
struct dockermap_spec {
	const char		*name;		/* Spec.Name, stack prefix and all */
	const struct kvlist	*labels;	/* Spec.Labels, all of them,
						   in Docker's order (sorted
						   by key) */
	enum dockermap_mode	 mode;
	unsigned long long	 replicas;	/* REPLICATED: the desired count */
	const char		*node_info;	/* the nodeInfo JSON, NULL: none */
};

/* The reconfigure parameters of spec, in swarm-listener's order of
 * precedence (2.3 of the mapping): every com.df.* label but the notify
 * label, prefix stripped, value verbatim (names matched
 * case-insensitively, a later one wins); serviceName ("<stack>_" dropped
 * when com.df.shortName is true and com.docker.stack.namespace names the
 * stack); replicas (absent for a global service); distribute (true unless
 * labelled); nodeInfo when given. The one mapping of the Docker source and
 * of `flowmon plan`. out must be empty and is sorted. 1 when the notify
 * label is exactly "true" (out filled), 0 when not (out left empty), -1
 * with err on ENOMEM. */
int	 dockermap_params(const struct dockermap_spec *spec,
	    const char *notify_label, struct kvlist *out, char err[ERR_MAX]);

/* The reconfigure parameters of service (one object of GET /services), in
 * swarm-listener's order of precedence: every com.df.* label but the
 * notify label, prefix stripped, value verbatim; serviceName (Spec.Name,
 * "<stack>_" dropped when com.df.shortName is true); replicas (desired
 * count, absent for a global service); distribute (true unless labelled);
 * and, for a service with a com.df.scrapeNetwork label, nodeInfo built
 * from tasks (an array of GET /tasks objects, others' tasks ignored) and
 * nodes (GET /nodes, for the hostnames).
 *
 * nodeInfo: one [hostname, address, nodeID] per running task (desired and
 * actual state running) whose attachment to the network named exactly the
 * label's value has an address ("/prefix" dropped); sorted, unique, compact
 * JSON. Unlike swarm-listener, which omits it, "[]" is sent when no task
 * qualifies: the list came from Docker itself and is authoritative, while a
 * missing nodeInfo would make flowmon keep the last task list. tasks NULL
 * (not read) omits nodeInfo.
 *
 * Through dockermap_params(). out must be empty and is sorted. 1 when the
 * service is notified (out filled), 0 when it is not (out left empty), -1
 * with err when service is not a service object (no ID or Spec.Name) or on
 * ENOMEM. */
int	 dockermap_service(const cJSON *service, const cJSON *tasks,
	    const cJSON *nodes, const char *notify_label, struct kvlist *out,
	    char err[ERR_MAX]);

/* What a person should hear about a service object (advice.h), into out
 * (ADVICE_MAX bytes): */
enum dockermap_remark {
	DOCKERMAP_REMARK_NONE,		/* nothing */
	DOCKERMAP_REMARK_WARN,		/* notified, but com.df.* labels stand
					   on its container only */
	DOCKERMAP_REMARK_IGNORED	/* not notified, though it carries
					   com.df.* labels: skipped */
};
enum dockermap_remark dockermap_remark(const cJSON *service,
	    const char *notify_label, char *out);
/* The same from label lists, for a stack file's service (`flowmon plan`):
 * labels are the service's (deploy.labels), container the containers'
 * (labels:). The one rule of both. */
enum dockermap_remark dockermap_remark_labels(const struct kvlist *labels,
	    const struct kvlist *container, const char *notify_label,
	    char *out);

/* 1 when the service (notified or not) wants its tasks followed until they
 * converge: it has a com.df.scrapeNetwork label. */
int	 dockermap_scrape_network(const cJSON *service);

/* 1 when the service's tasks have converged: no update in progress and,
 * for a replicated service, as many running tasks in tasks as desired. */
int	 dockermap_converged(const cJSON *service, const cJSON *tasks);

/* What Docker says of service's tasks and update (swarmstate.h), into
 * out: desired and running from its ServiceStatus (GET /services with
 * status=true, Engine API 1.41) when the object has one; else counted from
 * tasks (an array of GET /tasks objects; NULL: left unknown) as Docker
 * counts them: running, its tasks meant to run that run; desired, the
 * replicas of a replicated service or its tasks meant to run for a global
 * one. update and message from UpdateStatus (absent: ""), image from the
 * task template. Values Docker did not give are -1 or "". */
void	 dockermap_swarm_status(const cJSON *service, const cJSON *tasks,
	    struct swarm_status *out);

/* 1 while the service's update or rollback is under way. */
int	 dockermap_deploying(const cJSON *service);

/* The node create parameters of node (one object of GET /nodes): engine
 * com.df.* labels, then spec com.df.* labels over them, prefix stripped;
 * then id, hostname, address, versionIndex, state, role, availability.
 * out must be empty and is sorted. 0, or -1 with err (no ID, ENOMEM). */
int	 dockermap_node(const cJSON *node, struct kvlist *out,
	    char err[ERR_MAX]);

/* 1 when the node is down (Status.State "down"): swarm-listener reports
 * such a node as removed. */
int	 dockermap_node_down(const cJSON *node);

/* One line of GET /events. */
enum dockermap_event_kind {
	DOCKERMAP_EV_NONE,	/* nothing to act on */
	DOCKERMAP_EV_SERVICE,	/* re-list service id */
	DOCKERMAP_EV_NODE	/* re-list the nodes (and every service) */
};

struct dockermap_event {
	enum dockermap_event_kind kind;
	char	 id[128];	/* service ID (also for a task's container) */
	char	 action[32];
};

/* Parses one event line (a JSON object). A service event gives its ID; a
 * container event of a swarm task (start, die) gives the task's service
 * ID, since a task that restarts gets a new address without any service
 * event; a node event gives EV_NODE. Anything else, or a line that is not
 * an event, gives EV_NONE. */
void	 dockermap_event(const char *line, size_t len,
	    struct dockermap_event *ev);

#endif
