/* http_guard.h: the HTTP front's protections on libmicrohttpd: who may call
 * which endpoint (auth.h), how many connections are served, the per-service
 * limits (quota.h) and TLS. Part of the HTTP front, so it speaks in status
 * codes: 401 without valid credentials, 429 over --max-connections. */
#ifndef FLOWMON_HTTP_GUARD_H
#define FLOWMON_HTTP_GUARD_H

#include <stddef.h>

#include <microhttpd.h>

#include "metrics.h"
#include "service.h"

struct auth;
struct config;

struct http_guard {
	struct auth		*auth;		/* NULL: authentication off */
	int			 auth_reads;
	long			 max_connections;
	unsigned int		 nconns;	/* atomic: open connections */
	char			*cert;		/* PEM, NULL: plain HTTP */
	char			*key;
	size_t			 keylen;
	struct MHD_OptionItem	 tls[3];	/* for MHD_OPTION_ARRAY */
};

/* Reads the credential files and TLS material cfg names and fills g.
 * 0, or -1 with err (no secret in it). */
int	 http_guard_init(struct http_guard *g, const struct config *cfg,
	    char err[ERR_MAX]);
/* Frees what g holds, wiping secrets. */
void	 http_guard_release(struct http_guard *g);

/* MHD daemon flags to add (MHD_USE_TLS or 0) and the options for
 * MHD_OPTION_ARRAY (just MHD_OPTION_END without TLS). */
unsigned int http_guard_flags(const struct http_guard *g);
struct MHD_OptionItem *http_guard_tls_options(struct http_guard *g);
/* The connection limit to give MHD: above --max-connections, so that the
 * first connections beyond it still get a clear 429 instead of a reset. */
unsigned int http_guard_mhd_limit(const struct http_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void	 http_guard_notify(void *cls, struct MHD_Connection *c,
	    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* Admission of one request to ep: 0 to serve it, or the status code to
 * refuse it with (429, 401) and msg to say why. Over --max-connections
 * every endpoint but ping gets 429. Mutating endpoints need credentials
 * whenever authentication is on, read endpoints and /metrics only with
 * --auth-reads, ping never: it is the health check. */
int	 http_guard_check(struct http_guard *g, struct MHD_Connection *mc,
	    enum metrics_endpoint ep, char msg[ERR_MAX]);
/* Headers a refusal needs: WWW-Authenticate challenges on 401, Retry-After
 * and Connection: close on 429. */
void	 http_guard_headers(const struct http_guard *g,
	    struct MHD_Response *resp, int code);

#endif
