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

/* 0 when svc, whose rule file renders to len bytes (0: none), fits lim,
 * else -1 with err naming the limit, its flag, and what the service would
 * need. The caller renders the rule file once, for this and the write. */
int	 quota_check(const struct service *svc, size_t rules_len,
	    const struct quota *lim, char err[ERR_MAX]);

#endif
