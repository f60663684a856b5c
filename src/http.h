/* http.h: the HTTP front on libmicrohttpd: routes, parameter decoding and
 * JSON replies. The only module that knows HTTP status codes. */
#ifndef FLOWMON_HTTP_H
#define FLOWMON_HTTP_H

#include "service.h"

struct config;
struct registry;
struct reloader;
struct shortcuts;
struct http;

/* Starts serving cfg->listen with one thread per connection. Takes over
 * shortcuts (may be NULL). NULL with err when the address cannot be used. */
struct http *http_start(const struct config *cfg, struct registry *reg,
	    struct reloader *rl, struct shortcuts *shortcuts,
	    char err[ERR_MAX]);
/* Replaces the shortcut table (taken over) between two requests; the old
 * table is freed once no request uses it. */
void	 http_set_shortcuts(struct http *h, struct shortcuts *shortcuts);
void	 http_stop(struct http *h);

#endif
