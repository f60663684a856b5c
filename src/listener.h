/* listener.h: start-up reconcile with Docker Flow Swarm Listener. flowmon
 * serves from its data dir at once; in the background it asks every
 * LISTENER_ADDRESS for get-services (and DF_GET_NODES_URL for the nodes)
 * and upserts each row as if it were a reconfigure, retrying with backoff
 * until each has answered. With --listener-prune it then removes the
 * services no listener lists. SCRAPE_PORT_<n> / SERVICE_NAME_<n> add static
 * services, as DFM does. */
#ifndef FLOWMON_LISTENER_H
#define FLOWMON_LISTENER_H

#include <stddef.h>

#include "err.h"
#include "service.h"

struct parser;
struct registry;
struct listener;

#define LISTENER_SERVICES_PATH "/v1/docker-flow-swarm-listener/get-services"

struct listener_options {
	const char	 *addresses;	/* LISTENER_ADDRESS comma list, or NULL */
	const char	 *nodes_url;	/* DF_GET_NODES_URL, or NULL */
	int		  prune;	/* --listener-prune */
	char *const	 *envp;		/* for SCRAPE_PORT_<n>; NULL: none */
	long		  retry_min_ms;	/* first backoff, 0: 1 s */
	long		  retry_max_ms;	/* longest backoff, 0: 30 s */
};

/* Pure parts. */

/* The get-services URL of one LISTENER_ADDRESS item: a bare name means
 * http://<name>:8080, a name with a port http://<name>:<port>, a URL is
 * taken as the listener's base (or as the get-services URL itself when it
 * ends so). malloc'd; NULL with err, which begins with what (the option
 * or variable), when empty or not http(s). config.c checks every item so
 * at start. */
char	*listener_services_url(const char *item, const char *what,
	    char err[ERR_MAX]);

/* A get-services or get-nodes answer (a JSON array of objects of strings;
 * numbers and booleans are taken as their text) into rows. *rows is
 * malloc'd; free with listener_rows_free(). -1 with err if it is not. */
int	 listener_parse_rows(const char *json, size_t len,
	    struct kvlist **rows, size_t *nrows, char err[ERR_MAX]);
void	 listener_rows_free(struct kvlist *rows, size_t nrows);

/* The static services of envp (SCRAPE_PORT_<n> with SERVICE_NAME_<n>) as
 * reconfigure rows: serviceName, scrapePort, scrapeType=static_configs,
 * sorted by name. -1 with err when a SCRAPE_PORT_<n> has no
 * SERVICE_NAME_<n> or is not a port. */
int	 listener_static_rows(char *const *envp, struct kvlist **rows,
	    size_t *nrows, char err[ERR_MAX]);

/* Applying rows, shared with the Docker source (docker.h). */

/* Upserts one reconfigure row exactly as the HTTP front would: parse
 * (parser_parse), then registry_upsert. A refusal or a storage error is
 * logged, naming source ("listener", "docker") and origin (a URL). 0
 * applied, -1 not. */
int	 listener_apply_service(struct registry *r, struct parser *parser,
	    const struct kvlist *row, const char *source, const char *origin);
/* The same without a line on failure: 0 applied (*wrote: it changed a
 * file), -1 with err and *kind: FM_REFUSED when the row itself is at
 * fault (the parser, a bound, a name conflict: the same row is refused
 * again), else why the registry failed (a storage error: worth a retry).
 * For a caller that sums its failures up (the Docker source). */
int	 listener_try_service(struct registry *r, struct parser *parser,
	    const struct kvlist *row, const char *source, int *wrote,
	    enum fm_err *kind, char err[ERR_MAX]);
/* Stores the labels of one node row (id required; labels as parser_node
 * takes them) as /node/reconfigure does. 0, or -1 logged. */
int	 listener_apply_node(struct registry *r, struct parser *parser,
	    const struct kvlist *row, const char *source);

/* The daemon part. */

/* Upserts the static services at once, then (when an address or a nodes
 * URL is set) starts the reconcile thread; rows are parsed with parser
 * (main's). Uses libcurl (curl_global_init is main's). NULL with err on a
 * bad option (a bad SCRAPE_PORT_<n>, a listener address that is not
 * http). */
struct listener *listener_start(const struct listener_options *o,
	    struct registry *r, struct parser *parser, char err[ERR_MAX]);
/* 1 once every listener and the nodes URL have answered (and the prune,
 * if any, is done). */
int	 listener_done(struct listener *l);
/* Stops the thread (a request in flight is abandoned) and frees l. NULL ok. */
void	 listener_stop(struct listener *l);

#endif
