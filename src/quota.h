/* quota.h: the per-service bounds a reconfigure must stay within (number
 * of alerts, size of the rule file and of the target file), checked before
 * anything is written.
 * Pure: no IO. */
#ifndef FLOWMON_QUOTA_H
#define FLOWMON_QUOTA_H

#include <stddef.h>

#include "service.h"

struct quota {
	long	 max_alerts;		/* alerts per service */
	long	 max_rule_bytes;	/* size of one rendered rule file */
	long	 max_target_bytes;	/* size of one rendered target file */
};

#define QUOTA_MAX_ALERTS_DEFAULT	100
#define QUOTA_MAX_RULE_BYTES_DEFAULT	(1L << 20)
#define QUOTA_MAX_TARGET_BYTES_DEFAULT	(4L << 20)

/* 0 when svc fits lim, else -1 with err naming the limit, its flag, and
 * what the service would need. The target file is measured as rendered
 * from the record alone: node labels (DF_NODE_TARGET_LABELS) and task DNS
 * addresses come on top at write time. A byte limit <= 0 is not
 * checked. */
int	 quota_check(const struct service *svc, const struct quota *lim,
	    char err[ERR_MAX]);

#endif
