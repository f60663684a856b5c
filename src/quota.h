/* quota.h: the per-service bounds a reconfigure must stay within (number
 * of alerts, size of the rule file and of the target file), checked before
 * anything is written. Pure: no IO. */
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

/* 0 when svc, whose rule file renders to rules_len bytes (0: none), fits
 * lim's alert and rule-file bounds, else -1 with err naming the limit, its
 * flag, and what the service would need. The registry renders the rule
 * file once, for this, the checks and the write. */
int	 quota_check(const struct service *svc, size_t rules_len,
	    const struct quota *lim, char err[ERR_MAX]);

/* 0 when the target file of service name, len bytes as the registry
 * renders it (node labels and task DNS addresses in), fits
 * lim->max_target_bytes (<= 0: not checked), else -1 with err. */
int	 quota_check_targets(const char *name, size_t len,
	    const struct quota *lim, char err[ERR_MAX]);

#endif
