/* httpbody.h: a libcurl answer collected in memory up to a bound: the one
 * write callback shared by flowmon's HTTP clients (the swarm-listener
 * reconcile, the Docker Engine API client). */
#ifndef FLOWMON_HTTPBODY_H
#define FLOWMON_HTTPBODY_H

#include <stddef.h>

#include <curl/curl.h>

#include "service.h"

struct httpbody {
	char	*p;		/* malloc'd, NUL after len; NULL: nothing yet */
	size_t	 len;
	size_t	 max;		/* the bound, set by the caller */
	int	 too_big;	/* the answer went past max: transfer cut */
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a struct httpbody: appends
 * the data, or cuts the transfer (returns 0) past b->max or on ENOMEM. */
size_t	 httpbody_write(char *data, size_t size, size_t nmemb, void *arg);

/* CURLOPT_XFERINFOFUNCTION with CURLOPT_XFERINFODATA an int that some
 * thread sets (atomically) to stop: a non-zero flag aborts the transfer. */
int	 httpbody_abort(void *flag, curl_off_t dltotal, curl_off_t dlnow,
	    curl_off_t ultotal, curl_off_t ulnow);

/* GETs url (http or https) into b, which is reset here with the bound
 * max: 0 with the body (b->p "" when empty) and *status its HTTP status,
 * or -1 with err naming the URL (its password as ***) and what failed (no
 * answer in time, an answer over max); b holds nothing then. The
 * transfer gives up after connect_ms without a connection and total_ms in
 * all, and at once when *stop (may be NULL) becomes non-zero. */
int	 httpbody_get(const char *url, size_t max, long connect_ms,
	    long total_ms, int *stop, struct httpbody *b, long *status,
	    char err[ERR_MAX]);

#endif
