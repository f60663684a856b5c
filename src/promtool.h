/* promtool.h: `promtool check rules` as a child process (argv, no shell,
 * bounded output and time). Rule files are handed over through pipes, so
 * nothing is written anywhere before they pass. Rule files waiting at the
 * same moment are checked together (a group commit); a verdict is always
 * per file. */
#ifndef FLOWMON_PROMTOOL_H
#define FLOWMON_PROMTOOL_H

#include <stddef.h>

#include "err.h"
#include "service.h"

/* One rule file to check. */
struct promtool_file {
	const char	*buf;		/* in: the file's bytes */
	size_t		 len;
	const char	*shown;		/* in: its name in reasons */
	enum fm_err	 verdict;	/* out: FM_OK, FM_REFUSED, or FM_RETRY
					   when promtool gave no verdict */
	int		 rule;		/* out: the rule promtool blamed first,
					   counted from 1; 0: none named */
	char		 reason[ERR_MAX]; /* out: why, unless FM_OK */
};

struct promtool;

/* A checker running the promtool at path, at most max_procs processes at
 * once (0: one per core). NULL with err on allocation failure. */
struct promtool *promtool_new(const char *path, int max_procs,
	    char err[ERR_MAX]);
/* Stops every process it started and frees pt (NULL ok). */
void	 promtool_free(struct promtool *pt);

/* Fills the verdict of each of files[0..n) and returns when all are in.
 * Safe from any number of threads: files waiting at the same moment go to
 * one promtool run, each with its own verdict. */
void	 promtool_check(struct promtool *pt, struct promtool_file *files,
	    size_t n);

/* The rule a reason of promtool's names ("group "x", rule 3, ..."),
 * counted from 1; 0 when it names none. Pure; for tests too. */
int	 promtool_rule_of(const char *reason);

#endif
