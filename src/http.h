/* http.h: the HTTP front on libmicrohttpd: routes, parameter decoding and
 * JSON replies. The only module that knows HTTP status codes. */
#ifndef FLOWMON_HTTP_H
#define FLOWMON_HTTP_H

#include <stdarg.h>
#include <sys/socket.h>

#include "service.h"

struct config;
struct docker;
struct files;
struct history;
struct promapi;
struct registry;
struct reloader;
struct parser;
struct http;
struct taskdns;

/* Starts serving cfg->listen with one thread per connection; requests
 * are parsed with parser (parser.h, main's). With reg NULL it serves as a
 * standby (ping 200, every other endpoint 503 with Retry-After) until
 * http_activate(). NULL with err when the address cannot be used. */
struct http *http_start(const struct config *cfg, struct registry *reg,
	    struct reloader *rl, struct parser *parser, char err[ERR_MAX]);
/* Serves GET /files and the file metrics from files (files.h) from now
 * on; NULL stops it (503). */
void	 http_set_files(struct http *h, struct files *files);
void	 http_stop(struct http *h);
/* A standby becomes the active daemon: serves reg and rl, parsing with
 * parser, from now on. */
void	 http_activate(struct http *h, struct registry *reg,
	    struct reloader *rl, struct parser *parser);

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address) to a socket address
 * for --listen; -1 with err naming the flag. Also used by the reloader. */
int	 http_listen_addr(const char *spec, struct sockaddr_storage *ss,
	    char err[ERR_MAX]);
/* libmicrohttpd's error logger: one logfmt warning a message. */
void	 http_mhd_log(void *cls, const char *fmt, va_list ap);

/* Shows the state of each task DNS lookup (taskdns.h) in the services
 * API from now on (NULL: none shown). */
void	 http_set_taskdns(struct http *h, struct taskdns *td);
/* Adds the flowmon_swarm_* families of ss (swarmstate.h) and the deploy
 * silence counts of sil (silence.h) to /metrics from now on (NULL: none,
 * as without --docker-host or --silence-deploys). */
struct swarmstate;
struct silencer;
void	 http_set_swarm(struct http *h, struct swarmstate *ss,
	    struct silencer *sil);

/* What the explain API and the status page join with the registry from
 * now on: the services' history (history.h), the Prometheus client
 * (promapi.h; NULL: not asked, prom_none saying whether because of
 * --prometheus-url none or because no URL is known) and the Docker
 * source's remarks (docker.h, NULL: none). Each is borrowed until
 * http_stop(). */
void	 http_set_explain(struct http *h, struct history *hist,
	    struct promapi *prom, int prom_none);
/* NULL waits until no request reads the source any more: call it before
 * docker_stop(). h NULL is fine. */
void	 http_set_docker(struct http *h, struct docker *dk);

#endif
