/* docker.h: flowmon's own Docker source (--docker-host). It lists services,
 * tasks and nodes through the Docker Engine API and follows its event
 * stream, and applies what swarm-listener would have sent for them
 * (dockermap.h) through the same parser and registry calls as the HTTP
 * webhooks, so the webhooks keep working beside it. The Engine API client
 * is dockerapi.h. */
#ifndef FLOWMON_DOCKER_H
#define FLOWMON_DOCKER_H

#include <stddef.h>

#include "dockerapi.h"	/* docker_host_parse() */
#include "listener.h"
#include "service.h"

struct registry;
struct docker;
struct swarmstate;

struct docker_options {
	const char	 *host;		/* --docker-host URL */
	const char	 *notify_label;	/* --docker-notify-label */
	long		  poll_ms;	/* --docker-poll: full reconcile */
	long		  retry_min_ms;	/* first backoff, 0: 1 s */
	long		  retry_max_ms;	/* longest backoff, 0: 30 s */
	struct swarmstate *state;	/* filled with what Docker says of
					 * each applied service; NULL: none */
};

/* Starts the source: one thread reconciles (at once, then every poll_ms,
 * and for the services an event names), another follows the event
 * stream. Services and nodes are parsed with parser (main's, parser.h)
 * and upserted into r. Only services this source applied are ever
 * removed, and only on a clear answer from Docker (gone from a complete
 * list, 404, or the notify label no longer "true"); an unreachable or
 * unreadable Docker is logged and retried, never taken as "no services".
 * Uses libcurl (curl_global_init is main's). NULL with err on a bad
 * option. With o->state, every service this source applies gets its
 * tasks and update state there (dropped when the service is removed),
 * and a service being updated is re-listed every second until its update
 * ends. */
struct docker *docker_start(const struct docker_options *o,
	    struct registry *r, struct parser *parser, char err[ERR_MAX]);
/* Stops both threads (requests in flight are abandoned) and frees d.
 * NULL is fine. */
void	 docker_stop(struct docker *d);

/* What the source noticed about the services it lists (dockermap_remark):
 * each full round notes every service anew, a re-list its own. Any
 * thread may ask. */
/* Appends its remark on the monitored service name (com.df.* labels on
 * the container only), if any, to the string vector *v. 0, or -1 on
 * ENOMEM. */
int	 docker_warnings(struct docker *d, const char *name, char ***v,
	    size_t *n);
/* 1 with why (whysz bytes) when it skips the Docker service name though
 * it carries com.df.* labels, else 0. */
int	 docker_skipped(struct docker *d, const char *name, char *why,
	    size_t whysz);
/* The services it skips though they carry com.df.* labels, sorted by
 * name, with why: malloc'd copies (docker_ignored_free()). At most
 * DOCKER_REMARKS_MAX remarks are kept. 0, or -1 on ENOMEM. */
#define DOCKER_REMARKS_MAX	10000
struct docker_ignored {
	char	*name;		/* the Docker service's name */
	char	*why;
};
int	 docker_ignored(struct docker *d, struct docker_ignored **v,
	    size_t *n);
void	 docker_ignored_free(struct docker_ignored *v, size_t n);

#endif
