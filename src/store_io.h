/* store_io.h: the file IO under the store (store.c), on any directory
 * and on paths outside the data dir: the one atomic writer and its
 * temp-name rule, the one bounded reader, the one directory listing, the
 * sweep of stale temp files. It knows nothing of the data dir: store.c
 * and store_lock.c call it, never the other way round. */
#ifndef FLOWMON_STORE_IO_H
#define FLOWMON_STORE_IO_H

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "service.h"

/* One entry of a directory, as it is on disk. */
struct store_entry {
	char		*file;	/* the name in the directory, owned */
	int		 link;	/* a symbolic link */
	struct stat	 sb;	/* stat(2), links followed; all 0 when the
				 * entry vanished or the link dangles */
};

/* The same for any directory. -1 with errno ENOENT when it is missing;
 * err says "cannot read directory <dir>: ...". */
int	 store_list_dir(const char *dir, struct store_entry **v, size_t *n,
	    char err[ERR_MAX]);
void	 store_entries_free(struct store_entry *v, size_t n);

/* The bounded whole-file reader for files outside the data dir (shortcut
 * tables, secrets, auth files, scrape files): path (links followed) into a
 * malloc'd, NUL-terminated buffer the caller frees. 0, or -1 with errno as
 * store_read and err "<path>: cannot open: <strerror>", "<path>: not a
 * regular file", "<path>: larger than <max> bytes"... A failed read wipes
 * what it had read before freeing it (the file may hold a secret). */
int	 store_read_file(const char *path, size_t max, char **buf, size_t *len,
	    char err[ERR_MAX]);

/* store_write_file's mode: keep an existing file's mode, make a new one
 * 0644. */
#define STORE_MODE_KEEP	((mode_t)-1)

/* The atomic writer for a file outside the data dir (prometheus.yml):
 * its directory is created if missing (0755), stale temp files of this
 * file name are removed first, then the same steps as store_write with
 * the same temp-name rule. The file gets mode (not subject to the umask),
 * or with STORE_MODE_KEEP the mode it had (0644 if new). Identical content
 * with the wanted mode is left alone (not even touched). On failure the
 * old file is untouched, no temp file is left, and err names path. */
int	 store_write_file(const char *path, const void *buf, size_t len,
	    mode_t mode, char err[ERR_MAX]);

/* 1 when name is an atomic writer's temp file, .<file>.tmp.<pid>.<seq>:
 * a leading dot and ".tmp." after it (no *.json, *.yml or *.yaml glob
 * matches it). *pid (pid may be NULL) receives the writer's pid, 0 when
 * the name holds none. Every writer names its temp files so, and every
 * sweep, watcher and check recognises them by this one test. */
int	 store_temp_name(const char *name, long *pid);

/* Room left in NAME_MAX for ".", ".tmp.", a pid and a 64-bit sequence. */
#define STORE_TMP_EXTRA	(1 + 5 + 10 + 1 + 20)
#define STORE_NAME_MAX	(NAME_MAX - STORE_TMP_EXTRA)

/* The one temp-name rule: .<file>.tmp.<pid>.<seq> into tmp, the next
 * sequence number of this process, so no two writers share a name;
 * store_temp_name() recognises it. -1 with ENAMETOOLONG when it would not
 * fit (file must leave STORE_TMP_EXTRA bytes of NAME_MAX). */
int	 store_temp_make(const char *file, char tmp[NAME_MAX + 1]);

/* mkdir -p: each missing component of path is created with mode. -1 with
 * errno. */
int	 store_mkdirs(const char *path, mode_t mode);

/* A directory stream over dfd on a fresh open file description (the
 * caller closedir()s it); NULL with errno. */
DIR	*store_opendir(int dfd);

/* Deletes the temp files a crashed writer left in the directory dfd
 * (shown is its path in messages): all of them, or with only set those of
 * that file name. -1 with err only when the directory cannot be read. */
int	 store_sweep(int dfd, const char *shown, const char *only,
	    char err[ERR_MAX]);

/*
 * A directory's changes (renames, links, unlinks) made durable with one
 * fsync(2) for every thread that asks meanwhile. A request's writes wait
 * for the disk four times, twice for a directory; eight concurrent
 * requests renaming into one directory need one fsync of it that begins
 * after their renames, not eight: each caller takes a ticket after its
 * change, and either starts the fsync for every ticket taken so far or
 * waits for the one under way, then for the next. A failed fsync fails
 * the caller that ran it; the others it covered run their own.
 */
struct store_dirsync {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	uint64_t	 tickets;	/* changes made so far */
	uint64_t	 synced;	/* every ticket up to it is durable... */
	int		 synced_dfd;	/* ...in this directory fd */
	int		 busy;		/* an fsync is under way */
};
void	 store_dirsync_init(struct store_dirsync *ds);
void	 store_dirsync_release(struct store_dirsync *ds);
/* Returns once the changes the caller made in the directory dfd are
 * durable: an fsync of dfd that began after them succeeded (its own, or
 * another thread's). ds NULL: an fsync of dfd. 0, or -1 with errno. */
int	 store_dirsync(struct store_dirsync *ds, int dfd);

/* The one atomic writer: buf becomes dfd/file by way of a temp file of
 * store_temp_make(), created with mode create (umask applies) and, unless
 * chmod_to is (mode_t)-1, given chmod_to before a byte is written. shown
 * names the file in err. With keep (NAME_MAX + 1 bytes), the version it
 * replaces is kept under the temp name keep (a hard link made just before
 * the rename, or a copy), "" when there was none: for a transaction
 * (store_txn_write) to put back. The rename is made durable through ds
 * (store_dirsync(); NULL: an fsync of dfd). On failure no temp file is
 * left, dfd/file is untouched (with keep, also when only the fsync of the
 * directory failed: the old version is put back) and errno is kept. */
int	 store_atomic(int dfd, const char *file, const char *shown,
	    const void *buf, size_t len, mode_t create, mode_t chmod_to,
	    char *keep, struct store_dirsync *ds, char err[ERR_MAX]);
/* Keeps the version of dfd/file about to be replaced under a new temp
 * name, keep (NAME_MAX + 1 bytes): a hard link, or a copy where the file
 * system has none. keep is "" when there is no such file. -1 with errno
 * (keep "" then). */
int	 store_keep(int dfd, const char *file, char *keep);
/* The largest file a transaction keeps by copy (where there are no hard
 * links): every file flowmon writes is far smaller. */
#define STORE_KEEP_MAX	(256L << 20)

/* The one bounded whole-file reader: file relative to dfd (AT_FDCWD: a
 * path), links followed unless flags holds O_NOFOLLOW, at most max bytes,
 * into a malloc'd buffer (the caller's) with a NUL after the data. shown
 * names the file in err. */
int	 store_read_at(int dfd, const char *file, const char *shown, int flags,
	    size_t max, char **bufp, size_t *lenp, char err[ERR_MAX]);

/* Lists the directory dfd into *vp (see store_list; store_entries_free).
 * -1 with errno. */
int	 store_list_fd(int dfd, struct store_entry **vp, size_t *np);

#endif
