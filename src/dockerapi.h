/* dockerapi.h: the Docker Engine API client of the Docker source
 * (docker.h), over libcurl: where --docker-host points (a unix socket or a
 * TCP port), a GET of JSON with a bounded body, and the /events stream cut
 * into lines. It keeps no state of Docker's: what the answers mean is
 * docker.c's. */
#ifndef FLOWMON_DOCKERAPI_H
#define FLOWMON_DOCKERAPI_H

#include <stddef.h>

#include <cJSON.h>

#include "service.h"

struct dockerapi;

/* How --docker-host reaches the engine: unix:///path/to.sock (socket set,
 * base "http://localhost"), tcp://HOST:PORT or http://HOST:PORT (base
 * "http://HOST:PORT"). *base and *socket (NULL when not a socket) are
 * malloc'd. 0, or -1 with err naming the URL (redacted, log.h). The name
 * is the flag's, not the module's: it checks --docker-host. */
int	 docker_host_parse(const char *url, char **base, char **socket,
	    char err[ERR_MAX]);

/* A client of the engine at url (docker_host_parse). Every transfer is
 * aborted as soon as *stop (read atomically) is non-zero; stop must
 * outlive the client. NULL with err on a bad URL or no memory. */
struct dockerapi *dockerapi_new(const char *url, const int *stop,
	    char err[ERR_MAX]);
/* Frees the client. NULL is fine. */
void	 dockerapi_free(struct dockerapi *api);

/* The engine as logs show it: the socket path or the base URL, redacted
 * (url_redact). Owned by api. */
const char *dockerapi_shown(const struct dockerapi *api);

/* GETs path and parses the JSON answer. 0 with *json (the caller's, to
 * cJSON_Delete) and *code; -1 when Docker could not be asked or answered
 * something unreadable (logged). A 404 with Docker's JSON error body is 0
 * with code 404. Not thread-safe: one thread asks the questions. */
int	 dockerapi_get_json(struct dockerapi *api, const char *path,
	    cJSON **json, long *code);
/* GET of a JSON array (a list); path NULL counts as out of memory. 0, or
 * -1 logged. */
int	 dockerapi_get_list(struct dockerapi *api, const char *path,
	    cJSON **arr);
/* Notes that Docker answered something it should not have (why says
 * what): a failed question of the round. */
void	 dockerapi_unclear(struct dockerapi *api, const char *why);
/* The worker's questions come in rounds (a full list, or the services
 * events named): begin (1) before the first, end (0) after the last. A
 * round with a failed question is a failed round; the first failed round
 * after a good one (or at start) and the first good one after a failed
 * one are logged, once each, whatever the questions got one by one. */
void	 dockerapi_round(struct dockerapi *api, int begin);

/* The bounds of one answer, before it is parsed (a cJSON tree is some 40
 * times its text): BOUND_DOCKER_ANSWER_MAX bytes (bounds.h), at most
 * DOCKER_ELEMENTS_MAX elements in a list and DOCKER_VALUES_MAX JSON values
 * in all (about 64 bytes each when parsed). Far above the largest swarm's
 * answers: 100,000 services or running tasks. */
#define DOCKER_ELEMENTS_MAX	100000
#define DOCKER_VALUES_MAX	2000000
/* 1 with err (naming path and the bound) when body holds more than those;
 * counted in one pass, strings skipped. */
int	 dockerapi_too_big(const char *body, size_t len, const char *path,
	    char err[ERR_MAX]);

/* {"key": [value], "key2": [value2]} (key2 NULL: one key), for
 * dockerapi_filtered(). NULL on allocation failure. */
cJSON	*dockerapi_filter(const char *key, const char *value,
	    const char *key2, const char *value2);
/* path?filters=<filters as URL-escaped JSON>; takes filters (NULL is
 * fine: then NULL). malloc'd, or NULL. */
char	*dockerapi_filtered(const char *path, cJSON *filters);
/* prefix followed by segment URL-escaped ("/services/" and an ID);
 * malloc'd, or NULL. */
char	*dockerapi_path(const char *prefix, const char *segment);

/* Called with each line of the event stream (without its newline; lines
 * longer than 1 MiB are skipped), and once when the stream is open (a 200
 * came), from the thread in dockerapi_events(). */
typedef void	(*dockerapi_line_fn)(void *arg, const char *line, size_t len);
typedef void	(*dockerapi_open_fn)(void *arg);

/* One connection to GET path (/events with its query), until it ends or
 * stop is set; logs when it opens. Returns 1 if it was open, 0 if not;
 * err says why it ended either way. May run beside the other calls, in
 * another thread. */
int	 dockerapi_events(struct dockerapi *api, const char *path,
	    dockerapi_line_fn on_line, dockerapi_open_fn on_open, void *arg,
	    char err[ERR_MAX]);

#endif
