/* verdict.h: the one verdict on a rule file, for every reader that judges
 * one: the daemon before it writes a record's file (registry.c), the
 * diagnosis and the recheck at start (lifecycle.c), the watcher and GET
 * /files (files.c), and `flowmon check` (audit.c). After the file is
 * rendered (render_rules(), by the caller, who writes the same bytes),
 * always in this order: the record's bounds (quota.h), the shape (a file
 * rendered from a record must read back as exactly its alerts,
 * rulecheck.h; a file read from the data dir as Prometheus reads one,
 * filecheck.h), then `promtool check rules` through the pool
 * (promtool.h): every file of one call in one batch; and a file read from
 * the data dir whose record is known must read back as its alerts. */
#ifndef FLOWMON_VERDICT_H
#define FLOWMON_VERDICT_H

#include <stddef.h>

#include "err.h"
#include "service.h"

struct promtool;
struct quota;

/* One rule file to judge: a record's rendering before it is written
 * (svc), or a file read from the data dir (svc NULL), which is judged as
 * Prometheus reads it and then, when its record is known, compared with
 * it. */
struct verdict {
	/* in */
	const char		*buf;	/* the file's bytes; NULL: no file */
	size_t			 len;
	char			 shown[SERVICE_NAME_MAX + 16]; /* its name in
					   reasons: rules/x.yml */
	const struct service	*svc;	/* the record it was rendered from;
					   NULL: a file read from the data dir */
	const struct service	*record; /* a file read from the data dir:
					   the record it should read back
					   as; NULL: none known */
	int			 removed; /* svc (record) is removed:
					   persistent alerts only */
	int			 bounds_only; /* the file on disk, judged
					   when it was written */
	/* out */
	enum fm_err		 kind;	/* FM_OK, FM_REFUSED, or FM_INVALID:
					   Prometheus reads the file, but it
					   is not what its record renders to */
	int			 unchecked; /* promtool gave no verdict (it
					   could not run): flowmon's own
					   checks only, logged */
	char			 reason[ERR_MAX]; /* why, unless FM_OK; why
					   promtool gave none, unchecked */
};

/* Judges v[0..n): the bounds of lim (NULL: none) for those rendered
 * from svc, the shape, then promtool (pt NULL: none) for every file
 * still standing, in one batch, and last the comparison of the files
 * read from the data dir with their record. A reason from promtool names
 * the parameter of the alert it blames (`alertIf.2 (alert web_slow):
 * promtool check rules: ...`) when the file was rendered from svc, else
 * it reads `promtool check rules: ...`. Safe from any number of
 * threads. */
void	 verdict_rules(struct promtool *pt, const struct quota *lim,
	    struct verdict *v, size_t n);

#endif
