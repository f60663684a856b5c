/* promapi.h: asks Prometheus (or vmagent, vmalert, victoria-metrics) what
 * became of flowmon's files, for the explain API and the status page
 * (--prometheus-url). Asked on request, with a short timeout, and kept for
 * a few seconds; never on the write path and never under a registry lock,
 * so a slow or dead Prometheus slows only the pages that show it. */
#ifndef FLOWMON_PROMAPI_H
#define FLOWMON_PROMAPI_H

#include "promstate.h"
#include "service.h"

#define PROMAPI_CONNECT_MS	1000		/* to connect */
#define PROMAPI_TIMEOUT_MS	3000		/* for all the answers of
						   one fetch, together */
#define PROMAPI_TTL_MS		5000		/* an answer is reused */

struct promapi;

/* A client of the API bases in urls, a comma list (http or https, with
 * user:password@ if the server wants it). Every server is asked for its
 * targets and its rules, all at once, and the answers are put together:
 * so "http://vmagent:8429,http://vmalert:8880" gets the targets from
 * vmagent and the rules from vmalert, and the members of a vmagent
 * cluster add up their targets. An answer is read up to
 * BOUND_PROMETHEUS_ANSWER_MAX bytes (bounds.h).
 *
 * Credentials: a URL's own user:password@; else, for a URL served where
 * one of reload_urls points (same scheme, host and port: the Prometheus
 * flowmon reloads, as when urls is derived from them), those of
 * auth_file (--reload-auth-file: basic or bearer, read once here).
 * reload_urls and auth_file may be NULL. NULL with err when the list is
 * empty, an item is not an http(s) URL, or auth_file cannot be read.
 * Uses libcurl (curl_global_init is main's). */
struct promapi *promapi_new(const char *urls, const char *reload_urls,
	    const char *auth_file, char err[ERR_MAX]);
void	 promapi_free(struct promapi *p);

/* The URL list as shown to people: passwords as ***. Borrowed. */
const char *promapi_shown(const struct promapi *p);

/* The latest snapshot (promstate_put() it): the cached one while it is
 * younger than PROMAPI_TTL_MS, else a fresh one, fetched by this thread
 * in at most PROMAPI_TIMEOUT_MS (and a little); while another thread
 * fetches, its predecessor (or, if none, the fresh one once it is there).
 * Failures are snapshots too (reachable 0, error saying why), cached
 * alike; reachable is 1 only when some server gave a 2xx answer that
 * parsed (a 401 or a 500 says so in error). NULL only on ENOMEM. */
struct promstate *promapi_state(struct promapi *p);

/* The API base a reload URL points at: the first item of a comma list,
 * its scheme, userinfo, host and port, and its path without a trailing
 * "/-/reload" (http://prometheus:9090/-/reload gives
 * http://prometheus:9090), its query and fragment dropped (url_join()).
 * malloc'd; NULL with err when it is not an http(s) URL. */
char	*promapi_url_from_reload(const char *reload_urls, char err[ERR_MAX]);

#endif
