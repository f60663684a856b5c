/* http_guard.h: the HTTP front's protections on libmicrohttpd: who may call
 * which endpoint (auth.h), how many connections are served (in all and per
 * client, with a reserve that keeps ping answered), the standby state and
 * TLS. Part of the HTTP front, so it speaks in status codes: 401 without
 * valid credentials, 429 over --max-connections, 503 in standby. */
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
	int			 open_reads;	/* --open-reads */
	long			 max_connections;
	unsigned int		 nconns;	/* atomic: open connections */
	int			 standby;	/* atomic: 503 but for ping */
	char			*lock_path;	/* named in the standby 503 */
	char			*cert;		/* PEM, NULL: plain HTTP */
	char			*key;
	size_t			 keylen;
	struct MHD_OptionItem	 opts[4];	/* for MHD_OPTION_ARRAY */
};

/* Reads the credential files and TLS material cfg names and fills g.
 * 0, or -1 with err (no secret in it). */
int	 http_guard_init(struct http_guard *g, const struct config *cfg,
	    char err[ERR_MAX]);
/* Frees what g holds, wiping secrets. */
void	 http_guard_release(struct http_guard *g);

/* MHD daemon flags to add (MHD_USE_TLS or 0) and the options for
 * MHD_OPTION_ARRAY: the per-client connection cap
 * (--max-connections-per-client) and the TLS material. */
unsigned int http_guard_flags(const struct http_guard *g);
struct MHD_OptionItem *http_guard_options(struct http_guard *g);
/* The connection limit to give MHD: above --max-connections by a reserve
 * (N/8, at least 8), so that the first connections beyond it still get a
 * clear 429 instead of a reset, and ping is answered when every other
 * slot is taken. */
unsigned int http_guard_mhd_limit(const struct http_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. A connection
 * that opens in the reserve gets a 1 s idle timeout instead of
 * --connection-timeout, so slow clients cannot hold the reserve and ping
 * always finds a slot within a second. */
void	 http_guard_notify(void *cls, struct MHD_Connection *c,
	    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* Admission of one request to ep, decided on its first handler call,
 * before any body is read: 0 to serve it, or the status code to refuse it
 * with and msg to say why. ping is always served: it is the health check.
 * A standby (http_guard_set_standby) answers 503 to everything else; over
 * --max-connections every other endpoint gets 429. With an auth file, every
 * other endpoint needs credentials (401), the read endpoints and /metrics
 * not with --open-reads. */
int	 http_guard_check(struct http_guard *g, struct MHD_Connection *mc,
	    enum metrics_endpoint ep, char msg[ERR_MAX]);
/* The decision of http_guard_check() on plain values, without
 * libmicrohttpd: authorization is the request's Authorization header
 * (NULL: none), nconns the connections open now, this one counted. 0 to
 * serve, or the status code with msg; on a 401, *reason (reason may be
 * NULL) says why in a few words fit for a log ("no credentials", "wrong
 * credentials", "malformed Authorization header"), never a secret. */
int	 http_guard_decide(const struct http_guard *g,
	    enum metrics_endpoint ep, const char *authorization,
	    unsigned int nconns, char msg[ERR_MAX], const char **reason);
/* Headers a refusal needs: WWW-Authenticate challenges on 401, Retry-After
 * (and Connection: close) on 429 and 503. */
void	 http_guard_headers(const struct http_guard *g,
	    struct MHD_Response *resp, int code);
/* Standby on (1) or off (0); safe from any thread. */
void	 http_guard_set_standby(struct http_guard *g, int on);
int	 http_guard_standby(const struct http_guard *g);

#endif
