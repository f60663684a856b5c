/* audit.h: `flowmon check`, a read-only audit of a data dir through the
 * store: every target file passes filecheck_targets, every rule file
 * filecheck_rules (and promtool when there is one) and matches its record,
 * every record parses as a request again, and no temp file was left
 * behind by a crash. */
#ifndef FLOWMON_AUDIT_H
#define FLOWMON_AUDIT_H

#include <stddef.h>
#include <stdio.h>

#include "service.h"

struct request_ctx;

/* What a check needs beyond the data dir. */
struct audit_opts {
	const struct request_ctx *rctx;	/* parses records; shortcuts may be NULL */
	const char	*promtool;	/* NULL: no PromQL check */
	FILE		*out;		/* one line per problem */
	FILE		*notes;		/* remarks that are not problems */
};

/* Checks the data dir dir without changing anything in it. Prints one
 * "PATH: PROBLEM" line per problem to opts->out and returns how many there
 * were, or -1 with err when dir itself cannot be read. */
long	 audit_dir(const char *dir, const struct audit_opts *opts,
	    char err[ERR_MAX]);

/* `flowmon check [options]`: argv[0] is "check". Returns the exit status:
 * 0 no problem, 1 problems found, 2 the check could not run. */
int	 audit_main(int argc, char **argv);

#endif
