/* filecheck.h: would Prometheus read this file that someone else wrote?
 * The shape checks Prometheus 2.42 applies to a file_sd target file and to
 * a rule file, on buffers (no IO). flowmon's own files are checked more
 * strictly, against their records, by rulecheck.h; these checks are for
 * the files operators put next to them. */
#ifndef FLOWMON_FILECHECK_H
#define FLOWMON_FILECHECK_H

#include <stddef.h>

#include "service.h"

/* A file_sd target file: a JSON array of {"targets": [strings], "labels":
 * {name: string}} with no other key, every label name valid
 * ([a-zA-Z_][a-zA-Z0-9_]*) and every string UTF-8. 0, or -1 with err
 * naming the group and what is wrong. */
int	 filecheck_targets(const char *buf, size_t len, char err[ERR_MAX]);

/* A rule file: groups: [{name, interval?, limit?, rules: [{alert | record,
 * expr, for?, keep_firing_for?, labels?, annotations?}]}], strict like
 * Prometheus (unknown keys, a group name used twice, a `for` on a
 * recording rule are errors), durations and label names valid. The
 * expressions are not parsed: promtool does that. 0, or -1 with err. */
int	 filecheck_rules(const char *buf, size_t len, char err[ERR_MAX]);

#endif
