/* request.h: a reconfigure request's parameters to a validated service
 * record, and the form decoder for request bodies. Pure: no IO. */
#ifndef FLOWMON_REQUEST_H
#define FLOWMON_REQUEST_H

#include <stddef.h>

#include "quota.h"
#include "service.h"

struct shortcuts;

/*
 * Bounds on the work one request can cause, checked before anything is
 * parsed further (README, "Limits"): every value has a length cap, the
 * targets of a service a count cap, a request a parameter cap; the quota
 * (quota.h) bounds the rendered files. The fixed caps are far above any
 * real value; the others are flags.
 */
#define REQUEST_METRICS_PATH_MAX	512	/* metricsPath */
#define REQUEST_SHORT_MAX		64	/* durations, scheme, ... */
#define REQUEST_ALERT_NAME_MAX		128	/* alertName.N */
#define REQUEST_ALERT_TEXT_MAX		16384	/* alertIf, alertLabels,
						   alertAnnotations (.N) */
#define REQUEST_NODE_INFO_MAX		(1L << 20)	/* nodeInfo, bytes */

struct request_limits {
	long		 max_params;	/* --max-params: per request */
	long		 max_value_bytes; /* --max-value-bytes: label values */
	long		 max_targets;	/* --max-targets: per service */
	struct quota	 quota;		/* alerts, rule and target file bytes */
};

/* The defaults of the flags. */
#define REQUEST_MAX_PARAMS_DEFAULT	1000
#define REQUEST_MAX_VALUE_DEFAULT	1024
#define REQUEST_MAX_TARGETS_DEFAULT	5000

/* What parsing needs beyond the parameters (the daemon's is parser.h's,
 * the same for requests, records and listener and Docker rows). */
struct request_ctx {
	const struct shortcuts	 *shortcuts;	/* NULL: '@' alertIf refused */
	const char *const	 *target_labels; /* DF_SCRAPE_TARGET_LABELS */
	size_t			  ntarget_labels;
	const struct request_limits *limits;	/* NULL: the defaults above */
};

/* ctx's limits, or the defaults above. */
const struct request_limits *request_ctx_limits(const struct request_ctx *ctx);

/* Parses params (names matched case-insensitively) into out, which must be
 * zeroed. Returns 0, or -1 with err naming the parameter and the reason
 * (then out holds nothing); a limit crossed is named with its flag. Only
 * known parameters and those named in DF_SCRAPE_TARGET_LABELS are kept in
 * out->params. Validation never depends on anything but params and ctx, so
 * the canonical out->params parse to the same record again. */
int	 request_parse(const struct kvlist *params, const struct request_ctx *ctx,
	    struct service *out, char err[ERR_MAX]);

/* swarm-listener's start-up round sends creates without nodeInfo: for a
 * service on a scrape network (svc), the tasks of its record (old, NULL:
 * none) are kept, nodeInfo too. But a service scaled to 0 (replicas=0)
 * has no task for swarm-listener to list, so it omits nodeInfo then too:
 * its list is empty, as DFM, which fell back to tasks.<service> DNS,
 * found no target either. 1 kept, 0 not, -1 on ENOMEM. */
int	 request_keep_tasks(const struct service *old, struct service *svc);
/* The serviceName of canonical parameters (a record's), or NULL. */
const char *request_service_name(const struct kvlist *params);

/* Decodes an application/x-www-form-urlencoded buffer (`+` is a space,
 * %XX a byte) into out, appended to what out holds, then makes keys unique
 * as kvlist_set_ci would (a later key wins: kvlist_dedupe_ci), in
 * O(n log n) whatever the shape of the body. A malformed escape or a
 * decoded NUL byte is refused with -1 and err. */
int	 request_decode_form(const char *buf, size_t len, struct kvlist *out,
	    char err[ERR_MAX]);
/* The number of parameters a form buffer holds (non-empty '&' segments),
 * to refuse an oversized request before decoding it. */
size_t	 request_form_count(const char *buf, size_t len);
/* 0 when n parameters fit ctx's --max-params, else -1 with err naming
 * it. */
int	 request_check_count(const struct request_ctx *ctx, size_t n,
	    char err[ERR_MAX]);

/* The labels taken from params by name, for DF_SCRAPE_TARGET_LABELS (a
 * service's target labels) and DF_NODE_TARGET_LABELS (a node's labels):
 * the parameters named in names, matched case-insensitively, '-' turned to
 * '_' (aws-region gives aws_region), empty values dropped, sorted. out must
 * be empty. 0, or -1 on ENOMEM (out is then emptied). */
int	 request_named_labels(const struct kvlist *params,
	    const char *const *names, size_t nnames, struct kvlist *out);

/* A node's labels, the one check every source makes (the HTTP node
 * endpoints, swarm-listener's get-nodes, the Docker source, and the
 * records under nodes/ at start): each value within --max-value-bytes
 * (it is repeated in every target group of the node's tasks) and valid
 * UTF-8. 0, or -1 with errno EINVAL and err naming the label and the
 * limit. */
int	 request_check_node_labels(const struct request_ctx *ctx,
	    const struct kvlist *labels, char err[ERR_MAX]);
/* request_named_labels() for DF_NODE_TARGET_LABELS, then
 * request_check_node_labels(): out holds a node's labels, or nothing with
 * -1, err and errno (EINVAL: refused, ENOMEM). */
int	 request_node_labels(const struct request_ctx *ctx,
	    const struct kvlist *params, const char *const *names,
	    size_t nnames, struct kvlist *out, char err[ERR_MAX]);

/* Parses nodeInfo (a JSON array of [hostname, address(, nodeID)] string
 * arrays) into a sorted set of tasks. -1 with err when malformed. */
int	 request_parse_node_info(const char *json, struct task **tasks,
	    size_t *ntasks, char err[ERR_MAX]);

#endif
