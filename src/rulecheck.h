/* rulecheck.h: would Prometheus load this rule file? flowmon's own check:
 * the YAML parses back to exactly the alerts it was rendered from, with
 * valid names and durations (promtool.h adds `promtool check rules`). One
 * bad rule file fails a whole Prometheus reload, so nothing is renamed
 * into rules/ before it passes here. */
#ifndef FLOWMON_RULECHECK_H
#define FLOWMON_RULECHECK_H

#include <stddef.h>

#include "service.h"

/* Checks buf (a rule file) with filecheck_rules_doc, the one shape check
 * of rule files, and, when svc is given, compares what it parsed with
 * svc: the file must be exactly what flowmon renders for it, one group
 * named after the service holding its alerts (only the persistent ones if
 * persistent_only) in order, names and expressions byte for byte: a round
 * trip through the emitter lost nothing. Without svc only the shape is
 * checked. 0, or -1 with err saying what is wrong. */
int	 rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
	    int persistent_only, char err[ERR_MAX]);

#endif
