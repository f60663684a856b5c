/* views.h: the API's JSON views of the registry: every service, one
 * service with its files and the last reload's outcome, and all targets in
 * the http_sd format. Derived from the records (and the files flowmon
 * wrote), so they read the same after a restart. The lists come as JSON
 * text (malloc'd, printed item by item), the one service as a cJSON value;
 * the caller owns either; NULL: unknown service, or out of memory. */
#ifndef FLOWMON_VIEWS_H
#define FLOWMON_VIEWS_H

#include <cJSON.h>

struct registry;
struct reloader;
struct taskdns;

/* GET /services: a JSON array of every known service, sorted by name. td
 * (NULL: none) adds the state of each task DNS lookup. */
char	*views_services(struct registry *r, struct taskdns *td);

/* GET /services/<name>: one service with its files, its task DNS state
 * and, when rl is not NULL, the last reload's outcome; NULL if unknown. */
cJSON	*views_service(struct registry *r, struct taskdns *td,
	    struct reloader *rl, const char *name);

/* GET /sd: every target group of every active service, sorted by service,
 * as one JSON array in the http_sd format. The groups are rendered exactly
 * as for the target files, so http_sd and file_sd see the same targets. */
char	*views_sd(struct registry *r);

#endif
