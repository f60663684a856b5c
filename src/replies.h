/* replies.h: the JSON bodies of the HTTP front's answers in DFM's exact
 * shapes and types (reference: dfm-compat.md, section 5), then flowmon's
 * own fields. Pure: records in, cJSON out; the HTTP front (http.c) picks
 * the status code and sends them. Every function returns a new object the
 * caller owns (cJSON_Delete), or NULL when memory ran out. */
#ifndef FLOWMON_REPLIES_H
#define FLOWMON_REPLIES_H

#include <cJSON.h>

#include "service.h"

struct registry_result;

/* DFM's envelope {"Status": code, "Message": msg}; Status is the HTTP
 * status code as a number. */
cJSON	*status_json(int code, const char *msg);

/* The reconfigure and remove answer: the envelope, Alerts (always an
 * array; removed 1 lists only the alerts that go, not persistent ones),
 * then svc's scrape fields at the top level in DFM's order: metricsPath,
 * scrapeInterval, scrapeLabels, scrapePort (a string), scrapeTimeout when
 * set, scrapeType and serviceName always, nodeInfo with tasks. svc NULL
 * (a refusal, an unknown service): Alerts [], scrapeType "" and
 * serviceName name ("" if NULL). */
cJSON	*dfm_service_json(int code, const char *msg,
	    const struct service *svc, const char *name, int removed);

/* The node endpoints' answer: {"Status", "NodeID", "Message",
 * "NodeLabel"}; NodeLabel is always an object (labels may be NULL). */
cJSON	*dfm_node_json(int code, const char *msg, const char *id,
	    const struct kvlist *labels);

/* Appends flowmon's own fields after DFM's: "result" (what the request
 * did, in words) and "written" {state, targets, rules} as booleans from
 * res. o NULL is fine (nothing happens). */
void	 result_json(cJSON *o, const char *result,
	    const struct registry_result *res);

#endif
