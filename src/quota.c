/* quota.c: refuses a service that would exceed --max-alerts,
 * --max-rule-bytes or --max-target-bytes. The files are measured as the
 * registry renders them, so the bound is on exactly the bytes Prometheus
 * would read (the other request limits keep that rendering cheap). */
#include <stdio.h>

#include "quota.h"

int
quota_check(const struct service *svc, size_t len, const struct quota *lim,
    char err[ERR_MAX])
{
	if (lim->max_alerts >= 0 && svc->nalerts > (size_t)lim->max_alerts) {
		snprintf(err, ERR_MAX, "service %.255s has %zu alerts, more "
		    "than --max-alerts (%ld)", svc->name, svc->nalerts,
		    lim->max_alerts);
		return -1;
	}
	if (lim->max_rule_bytes > 0 && len > (size_t)lim->max_rule_bytes) {
		snprintf(err, ERR_MAX, "the rule file of %.255s would be %zu "
		    "bytes, more than --max-rule-bytes (%ld)", svc->name, len,
		    lim->max_rule_bytes);
		return -1;
	}
	return 0;
}

int
quota_check_targets(const char *name, size_t len, const struct quota *lim,
    char err[ERR_MAX])
{
	if (lim->max_target_bytes <= 0 || len <= (size_t)lim->max_target_bytes)
		return 0;
	snprintf(err, ERR_MAX, "the target file of %.255s would be %zu bytes "
	    "with its node labels and task addresses, more than "
	    "--max-target-bytes (%ld)", name, len, lim->max_target_bytes);
	return -1;
}
