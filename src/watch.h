/* watch.h: notices changes in a few directories, with inotify where it
 * works and by polling always (inotify sees no write made by another NFS
 * client), and hashes a directory's files so a caller can tell whether
 * anything really changed. Reads only: it never writes, and never sweeps
 * another process's temp files. */
#ifndef FLOWMON_WATCH_H
#define FLOWMON_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "bounds.h"
#include "service.h"
#include "store.h"

/* Files larger than this are listed with error EFBIG, not read: the
 * bound of every file read back from the data dir, at least the largest
 * --max-target-bytes and --max-rule-bytes (config.c caps both at it), so
 * a file flowmon wrote is never "too large" to itself. */
#define WATCH_FILE_MAX	BOUND_FILE_MAX

/* One file of a snapshot. */
struct watch_file {
	char	*name;		/* file name, no directory */
	uint64_t hash;		/* of the contents (hash_content) */
	size_t	 size;
	time_t	 mtime;
	int	 error;		/* errno when it could not be read, else 0 */
	char	*data;		/* the contents, NUL-terminated, when kept */
};

/* The files of one directory at one moment, sorted by name. */
struct watch_snap {
	struct watch_file *v;
	size_t	 n;
	size_t	 cap;
	int	 missing;	/* the directory does not exist */
	uint64_t hash;		/* of every name and contents, in name order */
};

/* 1 if name ends in ext (".yml") and is not a temp file (store_temp_name:
 * half written, never read by Prometheus, never counted): a file the
 * Prometheus glob "*<ext>" reads (Go's glob lets '*' match a leading dot,
 * so ".x.yml" counts). ext NULL matches every name but temp files. */
int	 watch_name_matches(const char *name, const char *ext);

/* Adds one file to s (pure: the snapshot logic without a directory).
 * data/len are the contents, or NULL with error set. keep stores a copy of
 * the contents in the entry. 0, or -1 on ENOMEM. */
int	 watch_snap_add(struct watch_snap *s, const char *name,
	    const char *data, size_t len, time_t mtime, int error, int keep);
/* Sorts s by name and computes s->hash over every (name, size, contents
 * hash, error) in that order: the same files give the same hash whatever
 * order readdir returned them in; a rename, a new or removed file, or one
 * changed byte gives another. */
void	 watch_snap_finish(struct watch_snap *s);

/* Reads the regular files (symlinks followed) of dir whose names match ext
 * (watch_name_matches) into s, keeping their contents when keep is set,
 * each with the store's bounded reader (WATCH_FILE_MAX); a file that
 * vanishes meanwhile is skipped, one that cannot be read is listed with
 * its errno. A missing dir gives an empty snapshot with
 * missing set. 0, or -1 with err when dir cannot be read. s is released
 * first and may be reused. */
int	 watch_snap_take(const char *dir, const char *ext, int keep,
	    struct watch_snap *s, char err[ERR_MAX]);
/* The same for one kind dir of a store: the data dir is read through the
 * store only. -1 with err when the directory cannot be read. */
int	 watch_snap_take_store(struct store *st, enum store_kind kind,
	    const char *ext, int keep, struct watch_snap *s, char err[ERR_MAX]);
/* The entry named name, or NULL (s must be finished). */
const struct watch_file *watch_snap_find(const struct watch_snap *s,
	    const char *name);
void	 watch_snap_release(struct watch_snap *s);

/*
 * A file's identity as stat(2) gives it, to tell without reading it
 * whether its bytes may have changed since they were read: another inode
 * (replaced), or another size, mtime or ctime (written in place). ctime
 * cannot be set by a user, so an edit that puts the mtime back still
 * shows. Two writes within one tick of the file system's clock leave the
 * same times, so an identity taken less than WATCH_RACY_MS before (or
 * after: a server's clock ahead of ours) the file's change time proves
 * nothing ("racy", as git calls it): such a file is read again.
 */
#define WATCH_RACY_MS	2000
/* The identity of sb, folded into 64 bits (0 for no file). */
uint64_t watch_id(const struct stat *sb);
/* Whether a file of identity id, taken (stat(2) before its bytes were
 * read) at wall-clock ms taken_ms, needs no reading now that its
 * identity is now_id: 1 when they are equal and the change time sb_ctime
 * (of that identity) lies WATCH_RACY_MS or more before taken_ms. */
int	 watch_id_trusted(uint64_t id, int64_t ctime_ms, int64_t taken_ms,
	    uint64_t now_id);
/* The change time of sb in ms since 1970. */
int64_t	 watch_ctime_ms(const struct stat *sb);

/* Why the callback runs. */
enum watch_why {
	WATCH_START,	/* first scan, from the watcher's thread */
	WATCH_EVENT,	/* inotify saw something (after 50 ms of calm) */
	WATCH_POLL,	/* the poll interval ran out */
	WATCH_SETTLE	/* a look again shortly after a change */
};

/* A file inotify named: dir is the index of its directory in watch_start's
 * dirs, name its file name (temp files never named). */
struct watch_name {
	size_t	 dir;
	char	*name;
};
/* More names than this in one burst: look at everything instead. */
#define WATCH_NAMES_MAX	65536

/* Scans what it cares about; returns 1 if it found a change, which makes
 * the watcher look again after settle_ms (instead of poll_ms) until a scan
 * finds none, so a burst is followed closely even without inotify. names
 * (sorted by dir, then name, each once) are the files an event burst
 * named: only they changed, as far as inotify knows (inotify sees no write
 * of another NFS client: the polls are for those). names is NULL when
 * everything must be looked at: the first scan, a poll, a settle look, an
 * event queue overflow, a directory that went away or came, a burst of
 * more than WATCH_NAMES_MAX names. */
typedef int (*watch_fn)(void *ctx, enum watch_why why,
	    const struct watch_name *names, size_t nnames);

struct watch;

/* Watches dirs (ndirs of them; copied) with inotify (unless use_inotify is
 * 0, or inotify is not available: then polling only) and calls fn from its
 * own thread: first as WATCH_START (the watches exist by then, so a change
 * made meanwhile is in that scan or seen as an event), then on every
 * inotify event burst and every poll_ms. With wait_start set, watch_start
 * returns once that first scan is done; else at once, the caller serving
 * meanwhile. A directory that does not exist yet is watched once it
 * appears. NULL with err on failure. */
struct watch *watch_start(const char *const *dirs, size_t ndirs,
	    int use_inotify, long poll_ms, long settle_ms, int wait_start,
	    watch_fn fn, void *ctx, char err[ERR_MAX]);
/* 1 while every directory has an inotify watch. */
int	 watch_inotify_active(struct watch *w);
/* Stops the thread (waits for a callback in progress) and frees w. */
void	 watch_stop(struct watch *w);

#endif
