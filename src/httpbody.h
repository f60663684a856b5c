/* httpbody.h: flowmon's HTTP clients on libcurl (the swarm-listener
 * reconcile, the Docker Engine API client, the reload back end): the one
 * handle constructor with what each of them sets, the one abort-on-stop
 * check, and an answer collected in memory up to a bound. */
#ifndef FLOWMON_HTTPBODY_H
#define FLOWMON_HTTPBODY_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

/* A libcurl easy handle with: no signals, flowmon's user agent, only the
 * protocols listed (e.g. "http,https"; NULL: libcurl's), connect_ms to
 * connect and total_ms in all (0: no bound), libcurl's message of a
 * failure into errbuf (CURL_ERROR_SIZE bytes, or NULL), and, when stop is
 * not NULL, the transfer aborted as soon as *stop (read atomically) is
 * set (worker_stop_flag()). The caller sets the URL and the callbacks,
 * and frees it with curl_easy_cleanup(). NULL on ENOMEM. */
CURL	*httpbody_easy(const char *protocols, long connect_ms, long total_ms,
	    const int *stop, char *errbuf);

/* The credentials c presents (auth_client_read()'s): basic auth with
 * userpwd ("user:password"), else bearer (a token); both NULL: none. The
 * strings must outlive c's transfers. */
void	 httpbody_credentials(CURL *c, const char *userpwd,
	    const char *bearer);

/* An answer collected in memory. */
struct httpbody {
	struct buf	 body;		/* the answer; body.p NULL: nothing yet */
	size_t		 max;		/* the bound, set by the caller */
	int		 too_big;	/* the answer went past max: cut */
};

/* Sets c's answer to go into b (bounded by b->max), for a transfer run
 * elsewhere (a multi handle); httpbody_perform() does it itself. */
void	 httpbody_collect(CURL *c, struct httpbody *b);

/* Performs c with its answer into b (bounded by b->max) and *status the
 * HTTP status (0 without an answer). libcurl's code. */
CURLcode httpbody_perform(CURL *c, struct httpbody *b, long *status);

#endif
