/* store_impl.h: the store's insides, shared by its files and by no other
 * module: store.c (the data dir), store_io.c (the file IO under it) and
 * store_lock.c (the data-dir lock). */
#ifndef FLOWMON_STORE_IMPL_H
#define FLOWMON_STORE_IMPL_H

#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "store.h"

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

/* The one atomic writer: buf becomes dfd/file by way of a temp file of
 * store_temp_make(), created with mode create (umask applies) and, unless
 * chmod_to is (mode_t)-1, given chmod_to before a byte is written. shown
 * names the file in err. With keep (NAME_MAX + 1 bytes), the version it
 * replaces is kept under the temp name keep (a hard link made just before
 * the rename, or a copy), "" when there was none: for a transaction
 * (store_txn_write) to put back. On failure no temp file is left, dfd/file
 * is untouched (with keep, also when only the fsync of the directory
 * failed: the old version is put back) and errno is kept. */
int	 store_atomic(int dfd, const char *file, const char *shown,
	    const void *buf, size_t len, mode_t create, mode_t chmod_to,
	    char *keep, char err[ERR_MAX]);
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
