/* store.h: every file flowmon reads or writes under the data dir, written
 * atomically (temp file outside the Prometheus globs, fsync, rename, fsync
 * of the directory). No other module touches the data dir. */
#ifndef FLOWMON_STORE_H
#define FLOWMON_STORE_H

#include <stddef.h>

#include "service.h"

/* The directories of a data dir, each with its file extension:
 * targets/<name>.json, rules/<name>.yml, state/<name>.json,
 * nodes/<id>.json, rejected/<name>.yml, accepted/<name>.yml (the rule
 * file Prometheus runs while rules/ holds a newer one, see
 * registry_rules.c; like state/, outside both Prometheus globs). */
enum store_kind {
	STORE_TARGETS,
	STORE_RULES,
	STORE_STATE,
	STORE_NODES,
	STORE_REJECTED,
	STORE_ACCEPTED,
	STORE_NKINDS
};

struct store {
	char	*dir;			/* data dir path, owned */
	int	 dirfd[STORE_NKINDS];	/* open O_DIRECTORY fds, -1 if closed */
};

/* Opens (creating with mode 0755 as needed) dir and its sub-directories and
 * deletes stale temp files left by a crash. Fills err and returns -1 (errno
 * set) on failure. */
int	 store_open(struct store *st, const char *dir, char err[ERR_MAX]);
void	 store_release(struct store *st);

/* The base file name of name: name itself, or for names over 213 bytes a
 * shortened form ending in '~' and a hash (see store.c). Idempotent. Every
 * store function maps names this way, so callers use real names; only
 * store_scan reports base names. */
void	 store_base(const char *name, char buf[214]);

/* Path of <kind>/<name><ext> into buf (for messages and the files API). */
void	 store_path(const struct store *st, enum store_kind kind,
	    const char *name, char *buf, size_t bufsz);

/* Atomically replaces <kind>/<name><ext> with buf: temp file named
 * .<name><ext>.tmp.<unique> (never matched by the *.json or *.yml globs), full write
 * (EINTR and short writes retried), fsync, rename, fsync of the directory.
 * On failure the temp file is unlinked, the old file is untouched, errno is
 * kept and err names the step, path and strerror. name must already be a
 * valid file name (no '/'); the store refuses anything else. */
int	 store_write(struct store *st, enum store_kind kind, const char *name,
	    const void *buf, size_t len, char err[ERR_MAX]);

/* Removes <kind>/<name><ext> and fsyncs the directory. A missing file is
 * success. */
int	 store_remove(struct store *st, enum store_kind kind, const char *name,
	    char err[ERR_MAX]);

/* Moves <from>/<name> to <to>/<name> (same data dir), fsyncing both dirs. */
int	 store_move(struct store *st, enum store_kind from, enum store_kind to,
	    const char *name, char err[ERR_MAX]);

/* Reads the whole file into a malloc'd, NUL-terminated buffer the caller
 * frees. Returns 0, or -1 with errno (ENOENT when missing). max bounds the
 * size read (EFBIG beyond it). */
int	 store_read(struct store *st, enum store_kind kind, const char *name,
	    size_t max, char **buf, size_t *len, char err[ERR_MAX]);

/* Calls fn(name, ctx) for each regular file of kind whose name ends in the
 * kind's extension (name without the extension), skipping temp files.
 * Stops and returns fn's value when it is non-zero; -1 on IO error. */
typedef int (*store_scan_fn)(const char *name, void *ctx);
int	 store_scan(struct store *st, enum store_kind kind, store_scan_fn fn,
	    void *ctx, char err[ERR_MAX]);

/* Makes <to>/<name> the same file as <from>/<name> (a hard link, or a
 * copy where the file system has none), replacing it atomically. The
 * directory of to is not fsync'd: the next fsync of a directory of the
 * data dir (any store_write()) commits it on a journaling file system. */
int	 store_link(struct store *st, enum store_kind from, enum store_kind to,
	    const char *name, char err[ERR_MAX]);
/* A note attached to <kind>/<name> itself (an extended attribute
 * user.flowmon.<key>): it neither changes the file's bytes, nor its mtime,
 * nor the directory, and goes with the file (a new version written by
 * store_write() has none). -1 with err (ENOTSUP where the file system has
 * no extended attributes). */
int	 store_set_note(struct store *st, enum store_kind kind,
	    const char *name, const char *key, const char *value,
	    char err[ERR_MAX]);
/* The note key of <kind>/<name> into buf (NUL-terminated); -1 if there is
 * none (or it does not fit). */
int	 store_get_note(struct store *st, enum store_kind kind,
	    const char *name, const char *key, char *buf, size_t size);

/* The extension of a kind, with its dot: ".json" or ".yml". */
const char *store_ext(enum store_kind kind);
/* The directory name of a kind: "targets", "rules", ... */
const char *store_dirname(enum store_kind kind);

#endif
