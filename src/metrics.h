/* metrics.h: flowmon's own counters, exposed in the Prometheus text format
 * on /metrics. Counters are lock-free atomics bumped from any thread. */
#ifndef FLOWMON_METRICS_H
#define FLOWMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metrics_endpoint {
	M_EP_RECONFIGURE,
	M_EP_REMOVE,
	M_EP_NODE_RECONFIGURE,
	M_EP_NODE_REMOVE,
	M_EP_PING,
	M_EP_SERVICES,
	M_EP_FILES,
	M_EP_SD,
	M_EP_METRICS,
	M_EP_EXPLAIN,
	M_EP_UI,
	M_EP_OTHER,
	M_EP_COUNT
};

enum metrics_file {
	M_FILE_TARGETS,
	M_FILE_RULES,
	M_FILE_STATE,
	M_FILE_NODES,
	M_FILE_COUNT
};

/* Counts one answered request. */
void	 metrics_request(enum metrics_endpoint ep, int code);
/* What happened to a file: written (or removed) durably; a write or
 * remove that failed; one of flowmon's in targets/ or rules/
 * (M_FILE_TARGETS or M_FILE_RULES) found missing and written again from
 * its record, or found edited by hand (its bytes are no longer what
 * flowmon wrote). */
enum metrics_file_event {
	M_FEV_WRITTEN,
	M_FEV_REMOVED,
	M_FEV_WRITE_ERROR,
	M_FEV_HEALED,
	M_FEV_EDITED,
	M_FEV_COUNT
};

/* Counts one event ev of a file of kind. */
void	 metrics_file(enum metrics_file_event ev, enum metrics_file kind);
/* Counts one promtool process started, and one batch of n rule files
 * checked together. */
void	 metrics_promtool_run(void);
void	 metrics_promtool_batch(size_t n);
/* Name of an endpoint as used in the `endpoint` label. */
const char *metrics_endpoint_name(enum metrics_endpoint ep);

/* Appends the counters above to b in the text exposition format (expo.h).
 * Gauges that belong to other modules (services, reloads, files) are
 * appended by the caller. 0, or -1 on allocation failure. */
int	 metrics_render(struct buf *b);

#endif
