/* request.h: a reconfigure request's parameters to a validated service
 * record, and the form decoder for request bodies. Pure: no IO. */
#ifndef FLOWMON_REQUEST_H
#define FLOWMON_REQUEST_H

#include <stddef.h>

#include "service.h"

struct shortcuts;

/* What parsing needs beyond the parameters. */
struct request_ctx {
	const struct shortcuts	 *shortcuts;	/* NULL: '@' alertIf refused */
	const char *const	 *target_labels; /* DF_SCRAPE_TARGET_LABELS */
	size_t			  ntarget_labels;
};

/* Parses params (names matched case-insensitively) into out, which must be
 * zeroed. Returns 0, or -1 with err naming the parameter and the reason
 * (then out holds nothing). Validation never depends on anything but params
 * and ctx, so the canonical out->params parse to the same record again. */
int	 request_parse(const struct kvlist *params, const struct request_ctx *ctx,
	    struct service *out, char err[ERR_MAX]);

/* Decodes an application/x-www-form-urlencoded buffer (`+` is a space,
 * %XX a byte) into out with kvlist_set_ci (a later key wins). A malformed
 * escape or a decoded NUL byte is refused with -1 and err. */
int	 request_decode_form(const char *buf, size_t len, struct kvlist *out,
	    char err[ERR_MAX]);

/* The labels taken from params by name, for DF_SCRAPE_TARGET_LABELS (a
 * service's target labels) and DF_NODE_TARGET_LABELS (a node's labels):
 * the parameters named in names, matched case-insensitively, '-' turned to
 * '_' (aws-region gives aws_region), empty values dropped, sorted. out must
 * be empty. 0, or -1 on ENOMEM (out is then emptied). */
int	 request_named_labels(const struct kvlist *params,
	    const char *const *names, size_t nnames, struct kvlist *out);

/* Parses nodeInfo (a JSON array of [hostname, address(, nodeID)] string
 * arrays) into a sorted set of tasks. -1 with err when malformed. */
int	 request_parse_node_info(const char *json, struct task **tasks,
	    size_t *ntasks, char err[ERR_MAX]);

#endif
