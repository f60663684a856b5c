/* record.h: the bytes of flowmon's own record of a service or node under
 * state/ and nodes/: canonical parameters as sorted JSON. Pure: no IO. */
#ifndef FLOWMON_RECORD_H
#define FLOWMON_RECORD_H

#include <stddef.h>

#include "service.h"

/* {"service": name, "removed": bool, "source": word, "params": {...}} as
 * a malloc'd string (caller frees) ending in a newline; "source" only when
 * svc->source is known. NULL on allocation failure. */
char	*record_encode(const struct service *svc, int removed, size_t *len);

/* Parses a service record into params (must be empty), removed and source
 * (may be NULL; SERVICE_SOURCE_UNKNOWN when the record names none). -1
 * with err when it is not a record. */
int	 record_decode(const char *buf, size_t len, struct kvlist *params,
	    int *removed, enum service_source *source, char err[ERR_MAX]);

/* {"id": id, "labels": {...}} for a node. */
char	*record_node_encode(const char *id, const struct kvlist *labels,
	    size_t *len);
int	 record_node_decode(const char *buf, size_t len, char **id,
	    struct kvlist *labels, char err[ERR_MAX]);

#endif
