/* files.h: the daemon's eye on targets/ and rules/. Every file there is
 * either flowmon's (byte for byte what the registry wrote), flowmon's but
 * edited by hand, or an operator's (flowmon wrote no file of that name).
 * Files flowmon did not write are left alone but validated; a valid hand
 * edit of a rule file asks for the usual debounced reload. A file of
 * flowmon's missing from a scan is written again from its record by the
 * registry (registry_heal) at once. */
#ifndef FLOWMON_FILES_H
#define FLOWMON_FILES_H

#include <cJSON.h>

#include "service.h"

/* The daemon's poll interval: inotify reports local edits at once. */
#define FILES_POLL_MS	15000

struct buf;
struct promtool;
struct registry;
struct reloader;
struct store;
struct files;

/* Scans targets/ and rules/ of st once, then watches them (inotify plus a
 * poll every poll_ms) from a thread of its own. Rule files flowmon did not
 * write get the one rule verdict (verdict.h), a scan's in one batch of
 * pt's pool (NULL: no promtool). reg, rl, pt and st must outlive the
 * result. NULL with err on failure. */
struct files *files_start(struct store *st, struct registry *reg,
	    struct reloader *rl, struct promtool *pt, long poll_ms,
	    char err[ERR_MAX]);
/* Stops watching and frees f. NULL ok. */
void	 files_stop(struct files *f);

/* GET /files: a JSON array, one object per file under targets/ and rules/
 * (sorted by dir, then name): dir, file, path, owner ("flowmon",
 * "operator" or "flowmon, edited by hand"), valid, reason ("" if valid),
 * size, modified (Unix time). The caller owns it; NULL on ENOMEM. */
cJSON	*files_json(struct files *f);

/* Whether the latest scan found name's target file (edited[0]) and rule
 * file (edited[1]) edited by hand: its bytes are not what flowmon wrote.
 * name is a service name. */
void	 files_edited(struct files *f, const char *name, int edited[2]);
/* How many files the latest scan found edited by hand (the status page
 * asks each service only when there are some). */
size_t	 files_edited_count(struct files *f);

/* Appends flowmon_files{dir,owner,valid} and the per-file problems to b
 * (expo.h; errors show in b->failed). */
void	 files_metrics(struct files *f, struct buf *b);

#endif
