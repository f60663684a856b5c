/* store.c: the data dir: its kinds and file names, opening it (and again a
 * kind dir that went away), and every operation on its files: atomic
 * replace, remove, read, list, scan and link. The writer,
 * reader and listing underneath are store_io.c's; the lock store_lock.c's.
 *
 * State model. A file on disk is either absent or holds one complete
 * version written by store_atomic() (store_io.c); readers (Prometheus,
 * flowmon at start) never see a partial file. Each kind is one flat
 * directory, held open as a directory fd for the life of the store, and
 * every operation works relative to that fd (openat, renameat, unlinkat),
 * so a rename of the data dir or a relative path changing under us cannot
 * redirect a write.
 *
 * Crash safety. A write goes to .<file>.tmp.<pid>.<seq> in the same
 * directory: same file system, so rename(2) is atomic, and a leading dot
 * plus a .tmp.* suffix, so neither '*.json' nor '*.yml' ever matches it.
 * The data is fsync'd before the rename (else a crash could leave the new
 * name pointing at an empty inode), and the directory is fsync'd after it
 * (else the rename itself may be lost). A crash at any point leaves the
 * old file or the new one, plus at worst a temp file that no glob sees and
 * that the next store_open() (or store_write_file() of that name) deletes.
 *
 * Concurrency. No mutable state is shared but the temp-name sequence
 * number, which is atomic; pid plus sequence make temp names unique across
 * threads and processes, and O_EXCL turns any collision into an error
 * instead of two writers sharing one temp file. Writers of one name race
 * only at rename(2): the last rename wins, whole.
 *
 * Directories that go away. A kind dir removed by hand (rm -rf targets),
 * or an NFS export made again under a mounted data dir, leaves the kept fd
 * pointing at a dead directory: every *at() call then fails with ENOENT or
 * ESTALE, and would until a restart. So an operation that fails so checks
 * whether its directory is still the one the path names, and if not opens
 * the path again (mkdir first when it is missing) and retries once. The
 * replaced fd is not closed before store_release: another thread may be
 * using it this very moment, and a closed number can be reused by any open.
 *
 * Links. Nothing in a data dir is read through a symbolic link, and a kind
 * dir that is one is refused at start: flowmon never makes a link, so one
 * is a mistake or an attempt to make flowmon read or write elsewhere. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "hash.h"
#include "log.h"
#include "store.h"

/* The longest base name kept as it is, with room for the longest extension;
 * a longer name (service names go up to 255 bytes) is stored as its first
 * STORE_BASE_KEEP bytes, '~' and 16 hex digits of a hash of the whole
 * name. '~' is in no service name, so a shortened name never collides with
 * a real one; records hold the full name. */
#define STORE_BASE_MAX	(STORE_NAME_MAX - 5)
#define STORE_BASE_KEEP	(STORE_BASE_MAX - 17)
/* Reopens of kind dirs in one store's life; each keeps an fd open. */
#define STORE_REOPEN_MAX	256

static const struct {
	const char	*dir;
	const char	*ext;
} store_kinds[STORE_NKINDS] = {
	[STORE_TARGETS] =	{ "targets",	".json" },
	[STORE_RULES] =		{ "rules",	".yml" },
	[STORE_STATE] =		{ "state",	".json" },
	[STORE_NODES] =		{ "nodes",	".json" },
	[STORE_REJECTED] =	{ "rejected",	".yml" },
	[STORE_ACCEPTED] =	{ "accepted",	".yml" },
};

static void	store_file(enum store_kind, const char *, char *);
static int	store_scan_any(struct store *, enum store_kind, store_scan_fn,
		    void *, char[ERR_MAX]);

const char *
store_ext(enum store_kind kind)
{
	if ((unsigned)kind >= STORE_NKINDS)
		return "";
	return store_kinds[kind].ext;
}

const char *
store_dirname(enum store_kind kind)
{
	if ((unsigned)kind >= STORE_NKINDS)
		return "";
	return store_kinds[kind].dir;
}

/*
 * Names.
 */

/* Appends s to buf (size bytes) at *at, cut to fit, NUL-terminated. */
static void
store_cat(char *buf, size_t size, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + n >= size)
		n = size - 1 - *at;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
}

void
store_path(const struct store *st, enum store_kind kind, const char *name,
    char *buf, size_t bufsz)
{
	char base[STORE_BASE_MAX + 1];
	size_t at = 0;

	/* Pieces put together, not printf'd: /services asks this for
	 * every service. */
	if (bufsz == 0)
		return;
	buf[0] = '\0';
	store_base(name, base);
	store_cat(buf, bufsz, &at, st->dir ? st->dir : ".");
	store_cat(buf, bufsz, &at, "/");
	store_cat(buf, bufsz, &at, store_dirname(kind));
	store_cat(buf, bufsz, &at, "/");
	store_cat(buf, bufsz, &at, base);
	store_cat(buf, bufsz, &at, store_ext(kind));
}

/* The directory fd of kind as it is now: store_reopen() may replace it. */
static int
store_dfd(const struct store *st, enum store_kind kind)
{
	return __atomic_load_n(&st->dirfd[kind], __ATOMIC_ACQUIRE);
}

/* Refuses what a caller may not do with one name of kind: anything but
 * one plain, visible file name (a '/' or ".." would escape the kind dir,
 * and a leading dot would collide with our temp names and be deleted at
 * the next start; with any_file, as store_list reports names, dot files
 * pass), and any change to a read-only store. A C string cannot hold a
 * NUL, so an embedded NUL simply ends the name before the extension. */
/* A kind of an open store: its directory is there to work in. */
static int
store_check_kind(const struct store *st, enum store_kind kind,
    char err[ERR_MAX])
{
	if ((unsigned)kind >= STORE_NKINDS) {
		snprintf(err, ERR_MAX, "store: invalid kind %d", (int)kind);
		errno = EINVAL;
		return -1;
	}
	if (st == NULL || store_dfd(st, kind) == -1) {
		if (st != NULL && st->direrr[kind] == ELOOP)
			snprintf(err, ERR_MAX, "store: %s/%s is a symbolic "
			    "link (not followed)", st->dir,
			    store_kinds[kind].dir);
		else
			snprintf(err, ERR_MAX, "store: %s is not open: %s",
			    store_kinds[kind].dir, st != NULL &&
			    st->direrr[kind] ? strerror(st->direrr[kind]) :
			    "closed");
		errno = st != NULL && st->direrr[kind] != 0 ?
		    st->direrr[kind] : EBADF;
		return -1;
	}
	return 0;
}

static int
store_check(const struct store *st, enum store_kind kind, const char *name,
    int change, int any_file, char err[ERR_MAX])
{
	const char *why = NULL;

	if (store_check_kind(st, kind, err) == -1)
		return -1;
	if (change && st->readonly) {
		snprintf(err, ERR_MAX, "store: %s/%s is open read-only",
		    st->dir, store_kinds[kind].dir);
		errno = EROFS;
		return -1;
	}
	if (change && st->lock != NULL && store_lock_check(st->lock,
	    err) == -1)
		return -1;
	if (name == NULL || name[0] == '\0')
		why = "is empty";
	else if (strchr(name, '/') != NULL)
		why = "contains '/'";
	else if (!any_file && name[0] == '.')
		why = "starts with '.'";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		why = "is not a file name";
	if (why != NULL) {
		snprintf(err, ERR_MAX, "file name \"%s\" in %s %s",
		    name ? name : "", store_kinds[kind].dir, why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
store_base(const char *name, char buf[STORE_BASE_MAX + 1])
{
	size_t len = strlen(name);

	if (len <= STORE_BASE_MAX) {
		memcpy(buf, name, len + 1);
		return;
	}
	snprintf(buf, STORE_BASE_MAX + 1, "%.*s~%016llx", STORE_BASE_KEEP,
	    name, (unsigned long long)hash_bytes(HASH_INIT, name, len));
}

int
store_base_valid(const char *base)
{
	char keep[STORE_BASE_KEEP + 1];
	size_t n = strlen(base);

	if (strchr(base, '~') == NULL)
		return n <= STORE_BASE_MAX && service_name_valid(base);
	/* The shortened form: the first bytes of a name over
	 * STORE_BASE_MAX bytes, '~', 16 lower-case hex digits. */
	if (n != STORE_BASE_MAX || base[STORE_BASE_KEEP] != '~' ||
	    strspn(base + STORE_BASE_KEEP + 1, "0123456789abcdef") != 16)
		return 0;
	memcpy(keep, base, STORE_BASE_KEEP);
	keep[STORE_BASE_KEEP] = '\0';
	return service_name_valid(keep);
}

/* <base of name><ext> into buf, which holds NAME_MAX + 1 bytes. */
static void
store_file(enum store_kind kind, const char *name, char *buf)
{
	char base[STORE_BASE_MAX + 1];

	store_base(name, base);
	snprintf(buf, NAME_MAX + 1, "%s%s", base, store_kinds[kind].ext);
}

/*
 * Directories.
 */

void
store_set_lock(struct store *st, struct store_lock *lk)
{
	st->lock = lk;
}

static void
store_init(struct store *st)
{
	int k;

	st->dir = NULL;
	st->lock = NULL;
	st->readonly = 0;
	for (k = 0; k < STORE_NKINDS; k++) {
		st->dirfd[k] = -1;
		st->direrr[k] = 0;
	}
	pthread_mutex_init(&st->reopen_lock, NULL);
	st->oldfd = NULL;
	st->noldfd = 0;
	for (k = 0; k < STORE_NKINDS; k++)
		store_dirsync_init(&st->dsync[k]);
}

/* Opens the kind dir sub of the directory topfd, links not followed; a
 * link is refused with ELOOP, anything else that is not a directory with
 * ENOTDIR. -1 with errno. */
static int
store_open_sub(int topfd, const char *sub)
{
	struct stat sb;
	int fd, saved;

	fd = openat(topfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		/* O_NOFOLLOW|O_DIRECTORY on a link: ELOOP or ENOTDIR. */
		if (fstatat(topfd, sub, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			saved = ELOOP;
		errno = saved;
	}
	return fd;
}

/* store_open(), or with ro store_open_ro(): the same steps, less those
 * that change the data dir, and a kind dir that cannot be opened is noted
 * rather than fatal. */
static int
store_open_mode(struct store *st, const char *dir, int ro,
    char err[ERR_MAX])
{
	char shown[PATH_MAX];
	const char *step = "create";
	const char *sub = "";
	int k, topfd = -1, made = 0, saved;

	store_init(st);
	st->readonly = ro;
	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, ERR_MAX, "data dir is empty");
		errno = EINVAL;
		return -1;
	}
	if ((st->dir = strdup(dir)) == NULL)
		goto fail;
	if (!ro && store_mkdirs(dir, 0755) == -1)
		goto fail;
	step = "open";
	if ((topfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	for (k = 0; k < STORE_NKINDS; k++) {
		sub = store_kinds[k].dir;
		step = "create";
		if (!ro && mkdirat(topfd, sub, 0755) == 0)
			made = 1;
		else if (!ro && errno != EEXIST)
			goto fail;
		step = "open";
		if ((st->dirfd[k] = store_open_sub(topfd, sub)) == -1 && !ro)
			goto fail;
		if (st->dirfd[k] == -1)
			st->direrr[k] = errno;
	}
	/* A new sub-directory is an entry of the data dir: make it durable
	 * before anything is written into it. */
	step = "fsync";
	sub = "";
	if (made && fsync(topfd) == -1)
		goto fail;
	close(topfd);
	topfd = -1;
	/* store_sweep() fills err itself. */
	step = NULL;
	for (k = 0; !ro && k < STORE_NKINDS; k++) {
		snprintf(shown, sizeof(shown), "%s/%s", dir,
		    store_kinds[k].dir);
		if (store_sweep(st->dirfd[k], shown, NULL, err) == -1)
			goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (step != NULL && saved == ELOOP && sub[0] != '\0')
		snprintf(err, ERR_MAX, "%s/%s is a symbolic link: refused "
		    "(flowmon keeps its files in real directories of the data "
		    "dir; replace the link with the directory it points to)",
		    dir, sub);
	else if (step != NULL)
		snprintf(err, ERR_MAX, "cannot %s data dir %s%s%s: %s", step,
		    dir, sub[0] ? "/" : "", sub, strerror(saved));
	if (topfd != -1)
		close(topfd);
	store_release(st);
	errno = saved;
	return -1;
}

int
store_open(struct store *st, const char *dir, char err[ERR_MAX])
{
	return store_open_mode(st, dir, 0, err);
}

int
store_open_ro(struct store *st, const char *dir, char err[ERR_MAX])
{
	return store_open_mode(st, dir, 1, err);
}

void
store_release(struct store *st)
{
	size_t i;
	int k;

	if (st == NULL)
		return;
	for (k = 0; k < STORE_NKINDS; k++) {
		if (st->dirfd[k] != -1)
			close(st->dirfd[k]);
		st->dirfd[k] = -1;
	}
	for (i = 0; i < st->noldfd; i++)
		close(st->oldfd[i]);
	free(st->oldfd);
	st->oldfd = NULL;
	st->noldfd = 0;
	pthread_mutex_destroy(&st->reopen_lock);
	for (k = 0; k < STORE_NKINDS; k++)
		store_dirsync_release(&st->dsync[k]);
	free(st->dir);
	st->dir = NULL;
}

/* 1 when dfd, a kind dir's fd, no longer names <dir>/<kind>: removed (no
 * link left), replaced by another directory (or by anything else), or
 * stale on NFS. */
static int
store_stale(const struct store *st, enum store_kind kind, int dfd)
{
	char path[PATH_MAX];
	struct stat held, now;

	if (fstat(dfd, &held) == -1)
		return 1;
	if (held.st_nlink == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", st->dir, store_kinds[kind].dir);
	if (lstat(path, &now) == -1)
		return 1;
	return now.st_dev != held.st_dev || now.st_ino != held.st_ino;
}

/* Opens <dir>/<kind> again (made, with the data dir, when missing, unless
 * the store is read-only) in place of dfd. 1 when kind now has a new fd
 * (by this call or by another thread's), 0 when it could not be opened:
 * then the old one stays, and the caller's error stands. */
static int
store_reopen(struct store *st, enum store_kind kind, int dfd, int why)
{
	char path[PATH_MAX];
	struct stat sb;
	int *v, fd = -1, rc = 0, made = 0, top;

	pthread_mutex_lock(&st->reopen_lock);
	if (store_dfd(st, kind) != dfd) {
		rc = 1;		/* another thread reopened it meanwhile */
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", st->dir, store_kinds[kind].dir);
	if (st->noldfd >= STORE_REOPEN_MAX) {
		log_error("directory of the data dir gone again, not reopened "
		    "(too many reopens: restart flowmon)", "dir", path,
		    "error", strerror(why));
		goto out;
	}
	if (!st->readonly && lstat(path, &sb) == -1 && errno == ENOENT) {
		if (store_mkdirs(path, 0755) == -1) {
			log_error("cannot make a directory of the data dir "
			    "again", "dir", path, "error", strerror(errno));
			goto out;
		}
		made = 1;
	}
	if ((top = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (fd = store_open_sub(top, store_kinds[kind].dir)) == -1) {
		log_error("cannot reopen a directory of the data dir", "dir",
		    path, "error", strerror(errno));
		if (top != -1)
			close(top);
		goto out;
	}
	/* The new entry in the data dir is durable before files go in. */
	if (made && fsync(top) == -1)
		log_warn("cannot fsync the data dir", "dir", st->dir, "error",
		    strerror(errno));
	close(top);
	if ((v = realloc(st->oldfd, (st->noldfd + 1) * sizeof(*v))) == NULL) {
		close(fd);
		goto out;
	}
	st->oldfd = v;
	v[st->noldfd++] = dfd;
	__atomic_store_n(&st->dirfd[kind], fd, __ATOMIC_RELEASE);
	log_warn(made ? "directory of the data dir was removed: made again" :
	    "directory of the data dir was replaced or went stale: reopened",
	    "dir", path, "error", strerror(why));
	rc = 1;
out:
	pthread_mutex_unlock(&st->reopen_lock);
	return rc;
}

/* After an *at() call on kind's fd dfd failed with errnum: 1 when the
 * directory was stale and has been reopened, so the caller retries once;
 * else 0. errno is errnum on return. */
static int
store_retry(struct store *st, enum store_kind kind, int dfd, int errnum)
{
	int rc = 0;

	if (errnum == ESTALE ||
	    (errnum == ENOENT && store_stale(st, kind, dfd)))
		rc = store_reopen(st, kind, dfd, errnum);
	errno = errnum;
	return rc;
}

/* kind's fd for a listing: readdir(3) of a removed directory finds it
 * empty without an error, and one renamed away still lists, so check
 * first that it is what the path names (two stat calls a listing). */
static int
store_fresh(struct store *st, enum store_kind kind)
{
	int dfd = store_dfd(st, kind);

	if (store_stale(st, kind, dfd) &&
	    store_reopen(st, kind, dfd, ENOENT))
		dfd = store_dfd(st, kind);
	return dfd;
}

/*
 * Writing.
 */

/* A transaction (store.h) changes files as the plain functions do: both
 * are the cores below, with t NULL for a plain change. Each op of t
 * remembers the file it changed and the temp name its previous version is
 * kept under ("" when there was none); putting back renames that over the
 * file, or unlinks a file the transaction made. */
struct store_txn_op {
	enum store_kind	 kind;
	char		 file[NAME_MAX + 1];
	char		 kept[NAME_MAX + 1];
};

/* Room for t's next op on file of kind, booked (t->nops++) once the
 * change is made; NULL with err on ENOMEM (nothing changed yet). NULL
 * without a transaction too, and then no error: check t. */
static struct store_txn_op *
store_txn_op(struct store_txn *t, enum store_kind kind, const char *file,
    char err[ERR_MAX])
{
	struct store_txn_op *v;

	if (t == NULL)
		return NULL;
	if (BUF_ARRAY_GROW(t->ops, t->nops, t->cap) == -1) {
		snprintf(err, ERR_MAX, "cannot change %s/%s: out of memory",
		    store_kinds[kind].dir, file);
		errno = ENOMEM;
		return NULL;
	}
	v = &t->ops[t->nops];
	v->kind = kind;
	snprintf(v->file, sizeof(v->file), "%s", file);
	v->kept[0] = '\0';
	return v;
}

/* store_write(), within t when t is not NULL. */
static int
store_put(struct store *st, struct store_txn *t, enum store_kind kind,
    const char *name, const void *buf, size_t len, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], shown[NAME_MAX + 16];
	struct store_txn_op *op;
	int dfd, again = 1;

	if (store_check(st, kind, name, 1, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	if ((op = store_txn_op(t, kind, file, err)) == NULL && t != NULL)
		return -1;
	snprintf(shown, sizeof(shown), "%s/%s", store_kinds[kind].dir, file);
	for (;;) {
		dfd = store_dfd(st, kind);
		if (store_atomic(dfd, file, shown, buf, len, 0644, (mode_t)-1,
		    op != NULL ? op->kept : NULL, &st->dsync[kind], err) == 0)
			break;
		if (!again-- || !store_retry(st, kind, dfd, errno))
			return -1;
	}
	if (t != NULL)
		t->nops++;
	return 0;
}

int
store_write(struct store *st, enum store_kind kind, const char *name,
    const void *buf, size_t len, char err[ERR_MAX])
{
	return store_put(st, NULL, kind, name, buf, len, err);
}

/* store_remove(), within t when t is not NULL: the file is then renamed
 * to its kept name, not unlinked. */
static int
store_unlink(struct store *st, struct store_txn *t, enum store_kind kind,
    const char *name, char err[ERR_MAX])
{
	char file[NAME_MAX + 1];
	struct store_txn_op *op;
	const char *step = "remove";
	int saved, dfd, again = 1;

	if (store_check(st, kind, name, 1, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	if ((op = store_txn_op(t, kind, file, err)) == NULL && t != NULL)
		return -1;
	if (op != NULL && store_temp_make(file, op->kept) == -1)
		goto fail;
	for (;;) {
		dfd = store_dfd(st, kind);
		if ((op != NULL ? renameat(dfd, file, dfd, op->kept) :
		    unlinkat(dfd, file, 0)) == 0)
			break;
		if (again-- && store_retry(st, kind, dfd, errno))
			continue;
		/* Already gone: the directory did not change, so there is
		 * nothing to make durable, nor to put back. */
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if (t != NULL)
		t->nops++;
	step = "fsync directory of";
	if (store_dirsync(&st->dsync[kind], dfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s/%s: %s", step,
	    store_kinds[kind].dir, file, strerror(saved));
	errno = saved;
	return -1;
}

int
store_remove(struct store *st, enum store_kind kind, const char *name,
    char err[ERR_MAX])
{
	return store_unlink(st, NULL, kind, name, err);
}

/*
 * Reading.
 */

/* store_read_at on a file of kind's directory, links not followed, with
 * one retry when the directory was stale. */
static int
store_read_kind(struct store *st, enum store_kind kind, const char *file,
    const char *shown, size_t max, char **bufp, size_t *lenp,
    char err[ERR_MAX])
{
	int dfd, again = 1;

	for (;;) {
		dfd = store_dfd(st, kind);
		if (store_read_at(dfd, file, shown, O_NOFOLLOW, max, bufp,
		    lenp, err) == 0)
			return 0;
		if (!again-- || !store_retry(st, kind, dfd, errno))
			return -1;
	}
}

int
store_read(struct store *st, enum store_kind kind, const char *name,
    size_t max, char **bufp, size_t *lenp, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], shown[NAME_MAX + 16];

	*bufp = NULL;
	*lenp = 0;
	if (store_check(st, kind, name, 0, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	snprintf(shown, sizeof(shown), "%s/%s", store_kinds[kind].dir, file);
	return store_read_kind(st, kind, file, shown, max, bufp, lenp, err);
}

int
store_read_entry(struct store *st, enum store_kind kind, const char *file,
    size_t max, char **bufp, size_t *lenp, char err[ERR_MAX])
{
	char shown[NAME_MAX + 16];

	*bufp = NULL;
	*lenp = 0;
	if (store_check(st, kind, file, 0, 1, err) == -1)
		return -1;
	snprintf(shown, sizeof(shown), "%s/%s", store_kinds[kind].dir, file);
	return store_read_kind(st, kind, file, shown, max, bufp, lenp, err);
}

int
store_stat_entry(struct store *st, enum store_kind kind, const char *file,
    struct stat *sb)
{
	char err[ERR_MAX];
	int dfd, again = 1;

	if (store_check(st, kind, file, 0, 1, err) == -1)
		return -1;
	for (;;) {
		dfd = store_dfd(st, kind);
		if (fstatat(dfd, file, sb, 0) == 0)
			return 0;
		if (!again-- || !store_retry(st, kind, dfd, errno))
			return -1;
	}
}

int
store_exists(struct store *st, enum store_kind kind, const char *name)
{
	char file[NAME_MAX + 1], err[ERR_MAX];
	struct stat sb;
	int dfd, again = 1;

	if (store_check(st, kind, name, 0, 0, err) == -1)
		return 0;
	store_file(kind, name, file);
	for (;;) {
		dfd = store_dfd(st, kind);
		if (fstatat(dfd, file, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
		if (!again-- || !store_retry(st, kind, dfd, errno))
			return 0;
	}
}

/*
 * Listing.
 */

/* Whether an entry is a regular file; d_type is free, but some file
 * systems leave it DT_UNKNOWN. Links are not followed: the store never
 * makes one, so one is not ours. */
static int
store_is_file(int dfd, const struct dirent *de)
{
	struct stat sb;

	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN)
		return 0;
	if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	return S_ISREG(sb.st_mode);
}

int
store_list(struct store *st, enum store_kind kind, struct store_entry **vp,
    size_t *np, char err[ERR_MAX])
{
	int saved;

	*vp = NULL;
	*np = 0;
	if (store_check_kind(st, kind, err) == -1)
		return -1;
	if (store_list_fd(store_fresh(st, kind), vp, np) == -1) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot read directory %s/%s: %s",
		    st->dir, store_kinds[kind].dir, strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* store_scan(), of regular files only (all: any entry, links and
 * directories too). */
static int
store_scan_kind(struct store *st, enum store_kind kind, int all,
    store_scan_fn fn, void *ctx, char err[ERR_MAX])
{
	char name[NAME_MAX + 1];
	struct dirent *de;
	const char *ext;
	size_t elen, nlen;
	DIR *d = NULL;
	int rc, saved;

	if (st == NULL || (unsigned)kind >= STORE_NKINDS ||
	    store_dfd(st, kind) == -1) {
		snprintf(err, ERR_MAX, "store: cannot scan kind %d", (int)kind);
		errno = EINVAL;
		return -1;
	}
	ext = store_kinds[kind].ext;
	elen = strlen(ext);
	if ((d = store_opendir(store_fresh(st, kind))) == NULL)
		goto fail;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		/* Dot files are ours (temp files) or not flowmon's. */
		if (de->d_name[0] == '.')
			continue;
		nlen = strlen(de->d_name);
		if (nlen <= elen || strcmp(de->d_name + nlen - elen, ext) != 0)
			continue;
		if (!all && !store_is_file(dirfd(d), de))
			continue;
		memcpy(name, de->d_name, nlen - elen);
		name[nlen - elen] = '\0';
		if ((rc = fn(name, ctx)) != 0) {
			snprintf(err, ERR_MAX, "scan of %s stopped at %s%s",
			    store_kinds[kind].dir, name, ext);
			closedir(d);
			return rc;
		}
	}
	closedir(d);
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot scan %s: %s", store_kinds[kind].dir,
	    strerror(saved));
	if (d != NULL)
		closedir(d);
	errno = saved;
	return -1;
}

int
store_scan(struct store *st, enum store_kind kind, store_scan_fn fn,
    void *ctx, char err[ERR_MAX])
{
	return store_scan_kind(st, kind, 0, fn, ctx, err);
}

/* Every entry a probe could find, whatever its type: a link or a
 * directory under a service's file name is there (and cannot be read). */
static int
store_scan_any(struct store *st, enum store_kind kind, store_scan_fn fn,
    void *ctx, char err[ERR_MAX])
{
	return store_scan_kind(st, kind, 1, fn, ctx, err);
}

/* store_link(), within t when t is not NULL (to's previous version is
 * kept). */
static int
store_link_in(struct store *st, struct store_txn *t, enum store_kind from,
    enum store_kind to, const char *name, char err[ERR_MAX])
{
	char src[NAME_MAX + 1], dst[NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct store_txn_op *op;
	const char *step = "link";
	int saved, made = 0, dfd;

	if (store_check(st, from, name, 0, 0, err) == -1 ||
	    store_check(st, to, name, 1, 0, err) == -1)
		return -1;
	store_file(from, name, src);
	store_file(to, name, dst);
	if ((op = store_txn_op(t, to, dst, err)) == NULL && t != NULL)
		return -1;
	dfd = store_dfd(st, to);
	/* The temp-name rule of store_write() (store_temp_make), so a crash
	 * leaves nothing a glob sees and the next start sweeps it. */
	if (store_temp_make(dst, tmp) == -1)
		goto fail;
	if (linkat(store_dfd(st, from), src, dfd, tmp, 0) == -1) {
		char *buf = NULL;
		size_t len;
		int rc;

		if (errno != EXDEV && errno != EPERM && errno != EMLINK &&
		    errno != ENOTSUP)
			goto fail;
		/* No hard links here: a copy does the same job. */
		if (store_read(st, from, name, STORE_KEEP_MAX, &buf, &len,
		    err) == -1)
			return -1;
		rc = store_put(st, t, to, name, buf, len, err);
		free(buf);
		return rc;
	}
	made = 1;
	step = "keep the previous version of";
	if (op != NULL && store_keep(dfd, dst, op->kept) == -1)
		goto fail;
	step = "rename temp link to";
	if (renameat(dfd, tmp, dfd, dst) == -1)
		goto fail;
	/* Already the same file: rename(2) then leaves both names. */
	(void)unlinkat(dfd, tmp, 0);
	if (t != NULL)
		t->nops++;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s/%s to %s: %s", step,
	    store_kinds[from].dir, src, store_kinds[to].dir, strerror(saved));
	if (made)
		(void)unlinkat(dfd, tmp, 0);
	if (op != NULL && op->kept[0] != '\0')
		(void)unlinkat(dfd, op->kept, 0);
	errno = saved;
	return -1;
}

int
store_link(struct store *st, enum store_kind from, enum store_kind to,
    const char *name, char err[ERR_MAX])
{
	return store_link_in(st, NULL, from, to, name, err);
}

/* state/.<name>.manifest into file; -1 with err when it would not fit. */
static int
store_manifest_file(const char *name, char file[NAME_MAX + 1],
    char err[ERR_MAX])
{
	if ((size_t)snprintf(file, NAME_MAX + 1, ".%s.manifest", name) >=
	    STORE_NAME_MAX || strchr(name, '/') != NULL) {
		snprintf(err, ERR_MAX, "store: no manifest named %.100s", name);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
store_manifest_write(struct store *st, const char *name, const void *buf,
    size_t len, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], shown[NAME_MAX + 16];
	int dfd, again = 1;

	if (store_manifest_file(name, file, err) == -1 ||
	    store_check(st, STORE_STATE, file, 1, 1, err) == -1)
		return -1;
	snprintf(shown, sizeof(shown), "state/%s", file);
	for (;;) {
		dfd = store_dfd(st, STORE_STATE);
		if (store_atomic(dfd, file, shown, buf, len, 0644, (mode_t)-1,
		    NULL, &st->dsync[STORE_STATE], err) == 0)
			return 0;
		if (!again-- || !store_retry(st, STORE_STATE, dfd, errno))
			return -1;
	}
}

int
store_manifest_take(struct store *st, const char *name, size_t max,
    char **buf, size_t *len, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], shown[NAME_MAX + 16];
	int dfd, saved;

	*buf = NULL;
	*len = 0;
	if (store_manifest_file(name, file, err) == -1 ||
	    store_check(st, STORE_STATE, file, 1, 1, err) == -1)
		return -1;
	snprintf(shown, sizeof(shown), "state/%s", file);
	if (store_read_kind(st, STORE_STATE, file, shown, max, buf, len,
	    err) == -1)
		return -1;
	/* Gone for good before anything is written: a crash from here on
	 * leaves no manifest. */
	dfd = store_dfd(st, STORE_STATE);
	if (unlinkat(dfd, file, 0) == -1 ||
	    store_dirsync(&st->dsync[STORE_STATE], dfd) == -1) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot remove %s: %s", shown,
		    strerror(saved));
		free(*buf);
		*buf = NULL;
		*len = 0;
		errno = saved;
		return -1;
	}
	return 0;
}

void
store_names_release(struct store_names *s)
{
	strv_free(s->v, s->n);
	memset(s, 0, sizeof(*s));
}

static int
store_names_add(const char *name, void *arg)
{
	struct store_names *s = arg;

	return strv_push(&s->v, &s->n, name);
}

int
store_names(struct store *st, enum store_kind kind, struct store_names *out,
    char err[ERR_MAX])
{
	store_names_release(out);
	if (store_scan_any(st, kind, store_names_add, out, err) != 0) {
		store_names_release(out);
		return -1;
	}
	strv_sort(out->v, out->n);
	out->listed = 1;
	return 0;
}

int
store_names_may_have(const struct store_names *s, const char *name)
{
	char base[STORE_BASE_MAX + 1];

	if (s == NULL || !s->listed)
		return 1;
	store_base(name, base);
	return strv_has_sorted(s->v, s->n, base);
}

int
store_probe(struct store *st, enum store_kind kind, const char *name,
    const struct store_names *seen, uint64_t *hash)
{
	char err[ERR_MAX], *buf;
	size_t len;

	*hash = 0;
	if (!store_names_may_have(seen, name))
		return 0;
	if (store_read(st, kind, name, BOUND_FILE_MAX, &buf, &len, err) == 0) {
		*hash = hash_content(buf, len);
		free(buf);
		return 1;
	}
	return errno == ENOENT ? 0 : -1;
}

int
store_sync(struct store *st, enum store_kind kind, char err[ERR_MAX])
{
	int saved;

	if (store_check_kind(st, kind, err) == -1)
		return -1;
	if (fsync(store_dfd(st, kind)) == 0)
		return 0;
	saved = errno;
	snprintf(err, ERR_MAX, "cannot fsync directory %s/%s: %s", st->dir,
	    store_kinds[kind].dir, strerror(saved));
	errno = saved;
	return -1;
}

/*
 * Transactions: see store.h, and store_txn_op above.
 */
void
store_txn_begin(struct store_txn *t, struct store *st)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
}

int
store_txn_write(struct store_txn *t, enum store_kind kind, const char *name,
    const void *buf, size_t len, char err[ERR_MAX])
{
	return store_put(t->st, t, kind, name, buf, len, err);
}

int
store_txn_remove(struct store_txn *t, enum store_kind kind, const char *name,
    char err[ERR_MAX])
{
	return store_unlink(t->st, t, kind, name, err);
}

int
store_txn_link(struct store_txn *t, enum store_kind from, enum store_kind to,
    const char *name, char err[ERR_MAX])
{
	return store_link_in(t->st, t, from, to, name, err);
}

int
store_txn_join(struct store_txn *t, struct store_txn *from,
    char err[ERR_MAX])
{
	if (from->nops == 0)
		return 0;
	while (t->cap - t->nops < from->nops)
		if (buf_array_grow(&t->ops, &t->cap, sizeof(*t->ops)) == -1) {
			snprintf(err, ERR_MAX, "cannot join two changes: out "
			    "of memory");
			errno = ENOMEM;
			return -1;
		}
	memcpy(t->ops + t->nops, from->ops, from->nops * sizeof(*t->ops));
	t->nops += from->nops;
	free(from->ops);
	from->ops = NULL;
	from->nops = from->cap = 0;
	return 0;
}

void
store_txn_commit(struct store_txn *t)
{
	size_t i;

	/* The kept versions go; one left by a crash here is swept at the
	 * next start, like any temp file. */
	for (i = 0; i < t->nops; i++)
		if (t->ops[i].kept[0] != '\0')
			(void)unlinkat(store_dfd(t->st, t->ops[i].kind),
			    t->ops[i].kept, 0);
	free(t->ops);
	memset(t, 0, sizeof(*t));
}

int
store_txn_abort(struct store_txn *t, char err[ERR_MAX])
{
	struct store_txn_op *op;
	int dfd, rc = 0, saved = 0, r;
	size_t i = t->nops;

	/* Newest first: a file changed twice gets its first version back. */
	while (i-- > 0) {
		op = &t->ops[i];
		dfd = store_dfd(t->st, op->kind);
		if (op->kept[0] != '\0')
			r = renameat(dfd, op->kept, dfd, op->file);
		else if ((r = unlinkat(dfd, op->file, 0)) == -1 &&
		    errno == ENOENT)
			r = 0;
		if (r == 0 && fsync(dfd) == -1)
			r = -1;
		if (r == -1 && rc == 0) {
			saved = errno;
			snprintf(err, ERR_MAX, "cannot put back %s/%s: %s",
			    store_kinds[op->kind].dir, op->file,
			    strerror(saved));
			rc = -1;
		}
	}
	free(t->ops);
	memset(t, 0, sizeof(*t));
	errno = saved;
	return rc;
}
