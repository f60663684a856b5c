/* quota.h: the per-service bounds a reconfigure must stay within (number
 * of alerts, size of the rule file), checked before anything is written.
 * Pure: no IO. */
#ifndef FLOWMON_QUOTA_H
#define FLOWMON_QUOTA_H

#include <stddef.h>

#include "service.h"

struct quota {
	long	 max_alerts;		/* alerts per service */
	long	 max_rule_bytes;	/* size of one rendered rule file */
};

/* 0 when svc fits lim, else -1 with err naming the limit, its flag, and
 * what the service would need. */
int	 quota_check(const struct service *svc, const struct quota *lim,
	    char err[ERR_MAX]);

#endif
