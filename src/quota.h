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

/* 0 when the target file of svc, rendered from the record alone, fits
 * lim->max_target_bytes (<= 0: not checked), else -1 with err. Called by
 * the request parser, so a record on disk that breaks it is invalid at
 * start. With node labels (DF_NODE_TARGET_LABELS) and task DNS addresses
 * in, the file is measured again by the registry before it is written
 * (reg_targets_too_big). */
int	 quota_check_targets(const struct service *svc,
	    const struct quota *lim, char err[ERR_MAX]);

#endif
