/* store.h: every file flowmon reads or writes: the data dir (targets/,
 * rules/, state/, nodes/, rejected/) and the few files outside it
 * (prometheus.yml, shortcut tables, secrets). One bounded whole-file
 * reader, one atomic writer (temp file outside the Prometheus globs, fsync,
 * rename, fsync of the directory) with one temp-name rule, one listing of
 * a directory. No other module touches the data dir. */
#ifndef FLOWMON_STORE_H
#define FLOWMON_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "service.h"
#include "store_io.h"

/* The directories of a data dir, each with its file extension:
 * targets/<name>.json, rules/<name>.yml, state/<name>.json,
 * nodes/<id>.json, rejected/<name>.yml, accepted/<name>.yml (the rule
 * file the last reload that succeeded loaded, see lifecycle.c; like
 * state/, outside both Prometheus globs). */
enum store_kind {
	STORE_TARGETS,
	STORE_RULES,
	STORE_STATE,
	STORE_NODES,
	STORE_REJECTED,
	STORE_ACCEPTED,
	STORE_NKINDS
};

struct store_lock;

struct store {
	char	*dir;			/* data dir path, owned */
	struct store_lock *lock;	/* checked before each change, or NULL */
	int	 dirfd[STORE_NKINDS];	/* open O_DIRECTORY fds, -1 if closed;
					   atomic (a reopen replaces one) */
	int	 readonly;		/* store_open_ro(): nothing is changed */
	int	 direrr[STORE_NKINDS];	/* why a dirfd is -1 (errno), or 0 */
	/* Reopening a kind dir that was removed or went stale (see
	 * store.c): one at a time; the fds replaced stay open (a thread may
	 * still be using one) until store_release. */
	pthread_mutex_t	 reopen_lock;
	int		*oldfd;
	size_t		 noldfd;
	/* Concurrent writes of a kind share its directory fsyncs. */
	struct store_dirsync dsync[STORE_NKINDS];
};

/* Opens (creating with mode 0755 as needed) dir and its sub-directories and
 * deletes stale temp files left by a crash. A sub-directory that is a
 * symbolic link is refused (err names it, errno ELOOP): a link could send
 * every write out of the data dir. Fills err and returns -1 (errno set) on
 * failure.
 *
 * Each sub-directory stays open for the life of the store. When an
 * operation on one fails with ESTALE (an NFS export made again), or with
 * ENOENT while the directory is no longer the one its path names (removed,
 * or removed and made again), the store opens the path again (creating it
 * when missing; never for store_open_ro) and retries the operation once. */
int	 store_open(struct store *st, const char *dir, char err[ERR_MAX]);
/* Opens dir as it is, for reading only (`flowmon check`): creates nothing,
 * sweeps nothing; a kind dir that cannot be opened stays closed and
 * store_list() reports why. Writes, removes and links fail with EROFS.
 * -1 with err when dir itself cannot be opened. */
int	 store_open_ro(struct store *st, const char *dir, char err[ERR_MAX]);
void	 store_release(struct store *st);

/* The base file name of name: name itself, or for names over 213 bytes a
 * shortened form ending in '~' and a hash (see store.c). Idempotent. Every
 * store function maps names this way, so callers use real names; only
 * store_scan reports base names (and store_list file names as they are). */
void	 store_base(const char *name, char buf[214]);
/* 1 when base is what store_base() makes of some valid service name (the
 * name itself, or the shortened form of a long one). */
int	 store_base_valid(const char *base);

/* Path of <kind>/<name><ext> into buf (for messages and the files API). */
void	 store_path(const struct store *st, enum store_kind kind,
	    const char *name, char *buf, size_t bufsz);

/* Atomically replaces <kind>/<name><ext> with buf: temp file named
 * .<name><ext>.tmp.<pid>.<seq> (store_temp_name), full write (EINTR and
 * short writes retried), fsync, rename, fsync of the directory. On failure
 * the temp file is unlinked, the old file is untouched, errno is kept and
 * err names the step, path and strerror. name must already be a valid
 * file name (no '/'); the store refuses anything else. */
int	 store_write(struct store *st, enum store_kind kind, const char *name,
	    const void *buf, size_t len, char err[ERR_MAX]);

/* Removes <kind>/<name><ext> and fsyncs the directory. A missing file is
 * success. */
int	 store_remove(struct store *st, enum store_kind kind, const char *name,
	    char err[ERR_MAX]);

/* Reads <kind>/<name><ext> whole into a malloc'd, NUL-terminated buffer
 * the caller frees. Links are not followed (O_NOFOLLOW): a symbolic link
 * fails with ELOOP. Returns 0, or -1 with errno (ENOENT when missing,
 * EFBIG beyond max bytes, EISDIR or EINVAL when not a regular file, ELOOP
 * for a link) and err ("<path>: <what went wrong>"). */
int	 store_read(struct store *st, enum store_kind kind, const char *name,
	    size_t max, char **buf, size_t *len, char err[ERR_MAX]);

/* 1 when <kind>/<name><ext> exists (links not followed), else 0. */
int	 store_exists(struct store *st, enum store_kind kind, const char *name);

/* Calls fn(name, ctx) for each regular file of kind whose name ends in the
 * kind's extension (name without the extension), skipping dot files (temp
 * files among them). Stops and returns fn's value when it is non-zero; -1
 * on IO error. */
typedef int (*store_scan_fn)(const char *name, void *ctx);
int	 store_scan(struct store *st, enum store_kind kind, store_scan_fn fn,
	    void *ctx, char err[ERR_MAX]);

/* Every entry of kind's directory but "." and ".." (dot files, temp files
 * and other extensions included: what Prometheus's globs or a person may
 * see), sorted by name, into a malloc'd vector (store_entries_free). 0, or
 * -1 with errno (ENOENT: a read-only store's kind dir is missing) and err. */
int	 store_list(struct store *st, enum store_kind kind,
	    struct store_entry **v, size_t *n, char err[ERR_MAX]);
/* stat(2) of the entry named file (as store_list reports it) of kind's
 * directory, links followed as store_list's are. 0, or -1 with errno
 * (ENOENT: not there). */
int	 store_stat_entry(struct store *st, enum store_kind kind,
	    const char *file, struct stat *sb);
/* Reads the entry named file (as store_list reports it, no name mapping:
 * dot files too) of kind's directory, like store_read (links not
 * followed). */
int	 store_read_entry(struct store *st, enum store_kind kind,
	    const char *file, size_t max, char **buf, size_t *len,
	    char err[ERR_MAX]);

/* Makes <to>/<name> the same file as <from>/<name> (a hard link, or a
 * copy where the file system has none), replacing it atomically (a link
 * to a temp name, renamed). The directory of to is not fsync'd: see
 * store_sync(). */
int	 store_link(struct store *st, enum store_kind from, enum store_kind to,
	    const char *name, char err[ERR_MAX]);
/*
 * Transactions: changes of several files that stand or fall together (a
 * service's record, target file and rule file: see registry.c). Each
 * write, remove or link of a transaction keeps the version it replaces
 * under a temp name of the store's one temp-name rule (a hard link, or a
 * copy where the file system has none) until store_txn_commit() drops
 * them all, or store_txn_abort() puts every one back, newest first.
 * Putting back is a rename over the file, or the unlink of a file that
 * was new: it needs no free space. A crash in between leaves the previous
 * versions as stale temp files, which the next store_open() sweeps.
 * One thread at a time per transaction; the caller serialises changes of
 * the same files (the registry's entry lock).
 */
struct store_txn_op;
struct store_txn {
	struct store		*st;
	struct store_txn_op	*ops;	/* what to put back, oldest first */
	size_t			 nops;
	size_t			 cap;
};

/* Starts an empty transaction on st (nothing to release until an op). */
void	 store_txn_begin(struct store_txn *t, struct store *st);
/* store_write() within t. On failure the file is untouched (t holds the
 * ops before this one: abort them). */
int	 store_txn_write(struct store_txn *t, enum store_kind kind,
	    const char *name, const void *buf, size_t len, char err[ERR_MAX]);
/* store_remove() within t: the file is renamed to its kept name, so a
 * missing file is success with nothing to put back. */
int	 store_txn_remove(struct store_txn *t, enum store_kind kind,
	    const char *name, char err[ERR_MAX]);
/* store_link() within t (to's previous version is kept). */
int	 store_txn_link(struct store_txn *t, enum store_kind from,
	    enum store_kind to, const char *name, char err[ERR_MAX]);
/* Moves every op of from to the end of t, as if made within t (a change
 * of several services, each staged in its own transaction, that stands or
 * falls as one: registry_nodes.c). from is empty again. 0, or -1 with err
 * on ENOMEM: nothing moved, from still holds its ops. */
int	 store_txn_join(struct store_txn *t, struct store_txn *from,
	    char err[ERR_MAX]);
/* Every change of t stands: the kept versions are unlinked. t is empty
 * again. */
void	 store_txn_commit(struct store_txn *t);
/* Every change of t is undone, newest first, each directory fsync'd. 0, or
 * -1 with err (the first failure; the others are still tried) and errno.
 * t is empty again. */
int	 store_txn_abort(struct store_txn *t, char err[ERR_MAX]);

/* The base names (store_base(), extension cut off) of a kind's directory
 * at one moment: every entry whose name ends in the kind's extension, dot
 * files aside, sorted. A start-up probes three or four files per service,
 * most of them missing: one listing answers "not there" for all of them
 * without a system call each. listed is 0 for an empty struct (nothing
 * known: probe). */
struct store_names {
	char	**v;
	size_t	 n;
	int	 listed;
};
/* Lists kind's directory into out (released first). 0, or -1 with err
 * (out then knows nothing). */
int	 store_names(struct store *st, enum store_kind kind,
	    struct store_names *out, char err[ERR_MAX]);
void	 store_names_release(struct store_names *s);
/* 0 when s was listed and holds no file of name (a service name), else
 * 1: it may be there. */
int	 store_names_may_have(const struct store_names *s, const char *name);

/*
 * Manifests: what a module knew of the data dir at a clean stop, for the
 * next start to trust what did not change since (files.c: each file's
 * identity and hash). state/.<name>.manifest: outside every glob, skipped
 * by scans and the audit, never swept. A start takes it (reads it and
 * removes it at once, durably), so a run that does not stop cleanly
 * leaves none and the start after it checks everything. The contents are
 * the module's; trust is its business too (an identity that still holds).
 */
/* Writes name's manifest (atomically, as store_write). 0, or -1 with
 * err. */
int	 store_manifest_write(struct store *st, const char *name,
	    const void *buf, size_t len, char err[ERR_MAX]);
/* Reads name's manifest (at most max bytes) into a malloc'd, NUL-
 * terminated buffer and removes it. 0; -1 with errno ENOENT when there is
 * none, or with err on an error (none is to be trusted then: one that
 * could not be removed may outlive a crash). */
int	 store_manifest_take(struct store *st, const char *name, size_t max,
	    char **buf, size_t *len, char err[ERR_MAX]);

/* Whether <kind>/<name> exists, and its content hash (hash_content)
 * into *hash: 1 when it does, 0 when it does not, -1 (hash 0) when it is
 * there but cannot be read (over BOUND_FILE_MAX, not a regular file...).
 * seen (NULL: none) is a listing of kind (store_names()): a name it does
 * not hold is missing without a look. */
int	 store_probe(struct store *st, enum store_kind kind, const char *name,
	    const struct store_names *seen, uint64_t *hash);
/* fsyncs the directory of kind, committing links and renames made in it
 * (store_link() leaves that to its caller). 0, or -1 with err. */
int	 store_sync(struct store *st, enum store_kind kind, char err[ERR_MAX]);

/* The extension of a kind, with its dot: ".json" or ".yml". */
const char *store_ext(enum store_kind kind);
/* The directory name of a kind: "targets", "rules", ... */
const char *store_dirname(enum store_kind kind);

/*
 * The data-dir lock: one writer per data dir. An exclusive POSIX lock
 * (fcntl F_SETLK, which NFSv4 honours) on <dir>/.flowmon.lock, a name
 * outside the Prometheus globs and the store's kind dirs. It is taken
 * before anything writes or sweeps in the data dir and held for the life
 * of the process; the kernel (or the NFS server, when the lease of a dead
 * client expires) releases it when the holder dies.
 *
 * A lock is on a file, and the path can be made to name another file
 * (rm .flowmon.lock): the next flowmon would lock that one while the
 * holder still runs. So a lock counts only while the path names the very
 * file locked: store_lock() takes it only so, and the holder checks it
 * before every change of the data dir (store_set_lock(): the store
 * refuses writes with ENOLCK once it fails) and every quarter second
 * (main.c), and stops for good when it no longer holds.
 */
#define STORE_LOCK_FILE	".flowmon.lock"

struct store_lock {
	int	 fd;		/* the open lock file, -1 before the first try */
	int	 held;
	int	 lost;		/* atomic: the path named another file once */
	char	*path;
};
#define STORE_LOCK_INIT	{ -1, 0, 0, NULL }

/* Tries once, without waiting, to take the lock of dir (created with its
 * lock file as needed). 0: taken, on the file the path names, and the
 * file now says "pid N on host H" of this process. 1: another process
 * holds it; holder says who (the file's words, or the pid F_GETLK
 * reports). -1 with err on an error. A standby calls it again until it
 * returns 0; the file stays open between tries, and is opened again when
 * the path no longer names it. */
int	 store_lock(struct store_lock *lk, const char *dir, char holder[256],
	    char err[ERR_MAX]);
/* 0 while lk is held and its path still names the file locked; else -1
 * with errno ENOLCK and err saying so, then and ever after (a file made
 * again at the path is another file). Thread-safe once held. */
int	 store_lock_check(struct store_lock *lk, char err[ERR_MAX]);
/* Makes every later change of st (write, remove, link, note, a
 * transaction's ops) check lk first (store_lock_check) and fail with
 * ENOLCK once it no longer holds. lk is borrowed for st's life. */
void	 store_set_lock(struct store *st, struct store_lock *lk);
/* Releases the lock (if held) and closes the file. */
void	 store_unlock(struct store_lock *lk);

#endif
