/* store.c: all file IO: atomic replace, remove, move, read, list and scan
 * of targets/, rules/, state/, nodes/ and rejected/, and the same reader
 * and writer for the few files outside the data dir.
 *
 * State model. A file on disk is either absent or holds one complete
 * version written by store_atomic(); readers (Prometheus, flowmon at start)
 * never see a partial file. Each kind is one flat directory, held open as
 * a directory fd for the life of the store, and every operation works
 * relative to that fd (openat, renameat, unlinkat), so a rename of the data
 * dir or a relative path changing under us cannot redirect a write.
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
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

/* Room left in NAME_MAX for ".", ".tmp.", a pid and a 64-bit sequence. */
#define STORE_TMP_EXTRA	(1 + 5 + 10 + 1 + 20)
#define STORE_NAME_MAX	(NAME_MAX - STORE_TMP_EXTRA)
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

static atomic_ulong store_seq;

static void	store_file(enum store_kind, const char *, char *);
static int	store_read_at(int, const char *, const char *, int, size_t,
		    char **, size_t *, char[ERR_MAX]);
static int	store_mkdirs(const char *, mode_t);

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

uint64_t
store_hash(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
store_hash_content(const void *buf, size_t len)
{
	/* Equal hashes of different sizes must not pass for an unchanged
	 * file. */
	return store_hash(STORE_HASH_INIT, buf, len) ^
	    ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
}

/*
 * Names.
 */

int
store_temp_name(const char *name, long *pid)
{
	const char *t, *n;
	char *end;
	long p;

	if (pid != NULL)
		*pid = 0;
	if (name[0] != '.' || (t = strstr(name + 1, ".tmp.")) == NULL)
		return 0;
	/* The last ".tmp." is the writer's: .<file>.tmp.<pid>.<seq>, and
	 * <file> may hold one too. */
	while ((n = strstr(t + 1, ".tmp.")) != NULL)
		t = n;
	p = strtol(t + 5, &end, 10);
	if (pid != NULL && end != t + 5 && *end == '.' && p > 0)
		*pid = p;
	return 1;
}

/* 1 when name is a temp file of file, whoever wrote it. */
static int
store_temp_of(const char *name, const char *file)
{
	size_t n = strlen(file);

	return name[0] == '.' && strncmp(name + 1, file, n) == 0 &&
	    strncmp(name + 1 + n, ".tmp.", 5) == 0;
}

void
store_path(const struct store *st, enum store_kind kind, const char *name,
    char *buf, size_t bufsz)
{
	char file[NAME_MAX + 1];

	if (bufsz == 0)
		return;
	store_file(kind, name, file);
	snprintf(buf, bufsz, "%s/%s/%s", st->dir ? st->dir : ".",
	    store_dirname(kind), file);
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
	    name, (unsigned long long)store_hash(STORE_HASH_INIT, name, len));
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

/* mkdir -p: each missing component of path is created with mode. */
static int
store_mkdirs(const char *path, mode_t mode)
{
	char *p, *s;
	int saved;

	if ((p = strdup(path)) == NULL)
		return -1;
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	saved = errno;
	free(p);
	errno = saved;
	return -1;
}

/* A directory stream over dfd, on a fresh open file description: a dup(2)
 * of dfd would share its directory offset with every other reader. NULL
 * with errno on failure. */
static DIR *
store_opendir(int dfd)
{
	DIR *d;
	int fd, saved;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* Deletes the temp files a crashed writer left in the directory dfd
 * (shown is its path): all of them, or with only set those of that file.
 * Failing to delete one is only logged: no glob matches it, so it is
 * clutter, not a danger, and must not keep anything from starting. */
static int
store_sweep(int dfd, const char *shown, const char *only, char err[ERR_MAX])
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = store_opendir(dfd)) == NULL)
		goto fail;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				closedir(d);
				goto fail;
			}
			break;
		}
		if (!store_temp_name(de->d_name, NULL) ||
		    (only != NULL && !store_temp_of(de->d_name, only)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", shown, de->d_name);
		if (unlinkat(dfd, de->d_name, 0) == -1) {
			if (errno != ENOENT)
				log_warn("cannot remove stale temp file",
				    "path", path, "error", strerror(errno));
			continue;
		}
		log_info("removed stale temp file", "path", path);
	}
	closedir(d);
	return 0;
fail:
	snprintf(err, ERR_MAX, "cannot scan %s: %s", shown, strerror(errno));
	return -1;
}

static void
store_init(struct store *st)
{
	int k;

	st->dir = NULL;
	st->readonly = 0;
	for (k = 0; k < STORE_NKINDS; k++) {
		st->dirfd[k] = -1;
		st->direrr[k] = 0;
	}
	pthread_mutex_init(&st->reopen_lock, NULL);
	st->oldfd = NULL;
	st->noldfd = 0;
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

int
store_open(struct store *st, const char *dir, char err[ERR_MAX])
{
	char shown[PATH_MAX];
	const char *step = "create";
	const char *sub = "";
	int k, topfd = -1, made = 0, saved;

	store_init(st);
	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, ERR_MAX, "data dir is empty");
		errno = EINVAL;
		return -1;
	}
	if ((st->dir = strdup(dir)) == NULL)
		goto fail;
	if (store_mkdirs(dir, 0755) == -1)
		goto fail;
	step = "open";
	if ((topfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	for (k = 0; k < STORE_NKINDS; k++) {
		sub = store_kinds[k].dir;
		step = "create";
		if (mkdirat(topfd, sub, 0755) == 0)
			made = 1;
		else if (errno != EEXIST)
			goto fail;
		step = "open";
		if ((st->dirfd[k] = store_open_sub(topfd, sub)) == -1)
			goto fail;
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
	for (k = 0; k < STORE_NKINDS; k++) {
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
store_open_ro(struct store *st, const char *dir, char err[ERR_MAX])
{
	int k, topfd, saved;

	store_init(st);
	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, ERR_MAX, "data dir is empty");
		errno = EINVAL;
		return -1;
	}
	if ((topfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (st->dir = strdup(dir)) == NULL) {
		saved = errno;
		snprintf(err, ERR_MAX, "data dir %.300s: %s", dir,
		    strerror(saved));
		if (topfd != -1)
			close(topfd);
		errno = saved;
		return -1;
	}
	st->readonly = 1;
	for (k = 0; k < STORE_NKINDS; k++)
		if ((st->dirfd[k] = store_open_sub(topfd,
		    store_kinds[k].dir)) == -1)
			st->direrr[k] = errno;
	close(topfd);
	return 0;
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

/* write(2) until all of buf is out; a signal or a nearly full disk may cut
 * a write short, and giving up there would leave a truncated file. */
static int
store_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			/* Not expected of a regular file; never spin. */
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The one atomic writer: buf becomes dfd/file. The temp file is created
 * with mode create (the umask applies) and, unless chmod_to is
 * (mode_t)-1, given chmod_to before a byte is written. shown names the
 * file in err. */
static int
store_atomic(int dfd, const char *file, const char *shown, const void *buf,
    size_t len, mode_t create, mode_t chmod_to, char err[ERR_MAX])
{
	char tmp[NAME_MAX + 1];
	const char *step;
	unsigned long seq;
	int fd = -1, have_tmp = 0, rc, saved;

	seq = atomic_fetch_add(&store_seq, 1);
	step = "create temp file for";
	if (snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%lu", file,
	    (long)getpid(), seq) >= (int)sizeof(tmp)) {
		/* Callers leave room; never write a cut name. */
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    create)) == -1)
		goto fail;
	have_tmp = 1;
	step = "set the mode of";
	if (chmod_to != (mode_t)-1 && fchmod(fd, chmod_to) == -1)
		goto fail;
	step = "write";
	if (store_write_all(fd, buf, len) == -1)
		goto fail;
	step = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	/* close(2) can report a deferred write error (NFS and friends). */
	step = "close";
	rc = close(fd);
	fd = -1;
	if (rc == -1)
		goto fail;
	step = "rename temp file to";
	if (renameat(dfd, tmp, dfd, file) == -1)
		goto fail;
	have_tmp = 0;
	/* The new file is in place; only its durability is at stake now. */
	step = "fsync directory of";
	if (fsync(dfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s: %s", step, shown,
	    strerror(saved));
	if (fd != -1)
		close(fd);
	if (have_tmp && unlinkat(dfd, tmp, 0) == -1 && errno != ENOENT)
		log_warn("cannot remove temp file", "file", shown, "temp", tmp,
		    "error", strerror(errno));
	errno = saved;
	return -1;
}

int
store_write(struct store *st, enum store_kind kind, const char *name,
    const void *buf, size_t len, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], shown[NAME_MAX + 16];
	int dfd, again = 1;

	if (store_check(st, kind, name, 1, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	snprintf(shown, sizeof(shown), "%s/%s", store_kinds[kind].dir, file);
	for (;;) {
		dfd = store_dfd(st, kind);
		if (store_atomic(dfd, file, shown, buf, len, 0644, (mode_t)-1,
		    err) == 0)
			return 0;
		if (!again-- || !store_retry(st, kind, dfd, errno))
			return -1;
	}
}

int
store_write_file(const char *path, const void *buf, size_t len, mode_t mode,
    char err[ERR_MAX])
{
	char *copy, *slash, *old = NULL, why[ERR_MAX];
	const char *dir, *base;
	struct stat sb;
	mode_t want = mode == STORE_MODE_KEEP ? 0644 : mode;
	size_t blen, olen;
	int dfd = -1, rc = -1, saved = 0;

	if ((copy = strdup(path)) == NULL) {
		snprintf(err, ERR_MAX, "cannot write %s: out of memory", path);
		errno = ENOMEM;
		return -1;
	}
	if ((slash = strrchr(copy, '/')) == NULL) {
		dir = ".";
		base = copy;
	} else {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	blen = strlen(base);
	if (blen == 0 || blen > STORE_NAME_MAX || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		snprintf(err, ERR_MAX, "cannot write %s: not a file name (or "
		    "longer than %d bytes)", path, STORE_NAME_MAX);
		saved = EINVAL;
		goto out;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot create the directory of %s: %s",
		    path, strerror(saved));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot open the directory of %s: %s",
		    path, strerror(saved));
		goto out;
	}
	/* Temp files of an earlier writer of this file that died half way;
	 * the directory may be shared, so only those. */
	if (store_sweep(dfd, dir, base, why) == -1)
		log_warn("cannot remove stale temp files", "path", path,
		    "error", why);
	if (fstatat(dfd, base, &sb, 0) == 0 && S_ISREG(sb.st_mode)) {
		if (mode == STORE_MODE_KEEP)
			want = sb.st_mode & 07777;
		if ((size_t)sb.st_size == len && (sb.st_mode & 07777) == want &&
		    store_read_at(dfd, base, path, 0, len, &old, &olen,
		    why) == 0 && olen == len && memcmp(old, buf, len) == 0) {
			rc = 0;
			goto out;
		}
	}
	/* 0600 until the mode is set: nobody reads a secret meanwhile. */
	if ((rc = store_atomic(dfd, base, path, buf, len, 0600, want,
	    err)) == -1)
		saved = errno;
out:
	free(old);
	if (dfd != -1)
		close(dfd);
	free(copy);
	errno = saved;
	return rc;
}

int
store_remove(struct store *st, enum store_kind kind, const char *name,
    char err[ERR_MAX])
{
	char file[NAME_MAX + 1];
	const char *step;
	int saved, dfd, again = 1;

	if (store_check(st, kind, name, 1, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	step = "remove";
	for (;;) {
		dfd = store_dfd(st, kind);
		if (unlinkat(dfd, file, 0) == 0)
			break;
		if (again-- && store_retry(st, kind, dfd, errno))
			continue;
		/* Already gone: the directory did not change, so there is
		 * nothing to make durable. */
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	step = "fsync directory of";
	if (fsync(dfd) == -1)
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
store_move(struct store *st, enum store_kind from, enum store_kind to,
    const char *name, char err[ERR_MAX])
{
	char src[NAME_MAX + 1], dst[NAME_MAX + 1];
	const char *step;
	int saved, sfd, dfd, again = 1, r1, r2;

	if (store_check(st, from, name, 1, 0, err) == -1 ||
	    store_check(st, to, name, 1, 0, err) == -1)
		return -1;
	store_file(from, name, src);
	store_file(to, name, dst);
	step = "move";
	for (;;) {
		sfd = store_dfd(st, from);
		dfd = store_dfd(st, to);
		if (renameat(sfd, src, dfd, dst) == 0)
			break;
		saved = errno;
		if (!again-- || (saved != ENOENT && saved != ESTALE))
			goto fail;
		r1 = store_retry(st, from, sfd, saved);
		r2 = from != to && store_retry(st, to, dfd, saved);
		if (!r1 && !r2)
			goto fail;
	}
	/* Destination first: should we crash between the two, the file is
	 * durably in its new place even if the old entry comes back. */
	step = "fsync directories for move of";
	if (fsync(dfd) == -1)
		goto fail;
	if (from != to && fsync(sfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s/%s to %s: %s", step,
	    store_kinds[from].dir, src, store_kinds[to].dir, strerror(saved));
	errno = saved;
	return -1;
}

/*
 * Reading.
 */

/* Frees a buffer that may hold part of a secret. */
static void
store_wipe_free(char *buf, size_t cap)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, cap);
	free(buf);
}

/* The one bounded whole-file reader: file relative to dfd (AT_FDCWD: a
 * path), links followed unless flags holds O_NOFOLLOW, at most max bytes,
 * into a malloc'd buffer with a NUL after the data. shown names the file
 * in err. */
static int
store_read_at(int dfd, const char *file, const char *shown, int flags,
    size_t max, char **bufp, size_t *lenp, char err[ERR_MAX])
{
	const char *step = "cannot open";
	char *buf = NULL, *nb;
	struct stat sb;
	size_t cap = 0, len = 0;
	ssize_t n;
	int fd, saved, notreg = 0;

	*bufp = NULL;
	*lenp = 0;
	/* O_NONBLOCK: a FIFO someone left under this name must not hang
	 * the caller in open(2); it is refused below. */
	if ((fd = openat(dfd, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
	    flags)) == -1)
		goto fail;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		notreg = 1;
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	step = "cannot read";
	if (sb.st_size < 0 || (uintmax_t)sb.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* One spare byte beyond the size seen, so a file that grew since
	 * fstat is noticed; one more for the NUL. */
	cap = (size_t)sb.st_size + 2;
	if ((buf = malloc(cap)) == NULL)
		goto fail;
	for (;;) {
		if (len + 1 == cap) {
			/* Grown since fstat: a writer is appending. A copy,
			 * not realloc, so no stale copy is left unwiped. */
			if (cap > SIZE_MAX / 2) {
				errno = EFBIG;
				goto fail;
			}
			if ((nb = malloc(cap * 2)) == NULL)
				goto fail;
			memcpy(nb, buf, len);
			store_wipe_free(buf, cap);
			buf = nb;
			cap *= 2;
		}
		if ((n = read(fd, buf + len, cap - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	if (notreg)
		snprintf(err, ERR_MAX, "%s: not a regular file", shown);
	else if (saved == ELOOP && (flags & O_NOFOLLOW))
		snprintf(err, ERR_MAX, "%s: a symbolic link, not followed in "
		    "the data dir", shown);
	else if (saved == EFBIG)
		snprintf(err, ERR_MAX, "%s: larger than %zu bytes", shown,
		    max);
	else
		snprintf(err, ERR_MAX, "%s: %s: %s", shown, step,
		    strerror(saved));
	store_wipe_free(buf, cap);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

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
store_read_file(const char *path, size_t max, char **bufp, size_t *lenp,
    char err[ERR_MAX])
{
	return store_read_at(AT_FDCWD, path, path, 0, max, bufp, lenp, err);
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

static int
store_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->file,
	    ((const struct store_entry *)b)->file);
}

void
store_entries_free(struct store_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].file);
	free(v);
}

/* Lists the directory dfd into *vp (see store_list). -1 with errno. */
static int
store_list_fd(int dfd, struct store_entry **vp, size_t *np)
{
	struct store_entry *v = NULL, *nv, *e;
	struct dirent *de;
	struct stat lsb;
	size_t n = 0, cap = 0;
	DIR *d;
	int saved;

	*vp = NULL;
	*np = 0;
	if ((d = store_opendir(dfd)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		e = &v[n];
		memset(e, 0, sizeof(*e));
		if ((e->file = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
		e->link = de->d_type == DT_LNK || (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd(d), de->d_name, &lsb,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lsb.st_mode));
		if (fstatat(dirfd(d), de->d_name, &e->sb, 0) == -1)
			memset(&e->sb, 0, sizeof(e->sb));
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), store_entry_cmp);
	*vp = v;
	*np = n;
	return 0;
fail:
	saved = errno;
	closedir(d);
	store_entries_free(v, n);
	errno = saved;
	return -1;
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

int
store_list_dir(const char *dir, struct store_entry **vp, size_t *np,
    char err[ERR_MAX])
{
	int fd, saved;

	*vp = NULL;
	*np = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    store_list_fd(fd, vp, np) == -1) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot read directory %.300s: %s", dir,
		    strerror(saved));
		if (fd != -1)
			close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

int
store_scan(struct store *st, enum store_kind kind, store_scan_fn fn,
    void *ctx, char err[ERR_MAX])
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
		if (!store_is_file(dirfd(d), de))
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

/*
 * The data-dir lock (store.h). A POSIX lock belongs to the process and
 * goes when the process closes any descriptor of the file, so nothing else
 * in flowmon opens the lock file; lk->fd is opened once and kept.
 */
static int
store_lock_set(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* Who holds the lock: the lock file's words, else F_GETLK's pid. */
static void
store_lock_holder(int fd, char holder[256])
{
	struct flock fl;
	ssize_t n;
	size_t i;

	n = pread(fd, holder, 255, 0);
	holder[n > 0 ? n : 0] = '\0';
	for (i = 0; holder[i] != '\0'; i++)
		if ((unsigned char)holder[i] < ' ' || holder[i] == 0x7f)
			holder[i] = holder[i] == '\n' ? '\0' : '?';
	if (holder[0] != '\0')
		return;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
	    fl.l_pid > 0)
		snprintf(holder, 256, "pid %ld", (long)fl.l_pid);
	else
		snprintf(holder, 256, "an unknown process");
}

int
store_lock(struct store_lock *lk, const char *dir, char holder[256],
    char err[ERR_MAX])
{
	char host[256], line[320];
	const char *step = "create";
	int saved, len;

	holder[0] = '\0';
	if (lk->held)
		return 0;
	if (lk->fd == -1) {
		free(lk->path);
		if (asprintf(&lk->path, "%s/%s", dir, STORE_LOCK_FILE) < 0) {
			lk->path = NULL;
			snprintf(err, ERR_MAX, "out of memory");
			errno = ENOMEM;
			return -1;
		}
		if (store_mkdirs(dir, 0755) == -1)
			goto fail;
		step = "open";
		if ((lk->fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0644)) == -1)
			goto fail;
	}
	step = "lock";
	if (store_lock_set(lk->fd, F_WRLCK) == -1) {
		if (errno != EAGAIN && errno != EACCES)
			goto fail;
		store_lock_holder(lk->fd, holder);
		return 1;
	}
	lk->held = 1;
	/* Say who holds it, for the next daemon's message. A failure here
	 * costs only that message. */
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	len = snprintf(line, sizeof(line), "pid %ld on host %s\n",
	    (long)getpid(), host);
	if (ftruncate(lk->fd, 0) == -1 ||
	    pwrite(lk->fd, line, (size_t)len, 0) != len)
		log_warn("cannot write the lock file", "path", lk->path,
		    "error", strerror(errno));
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s the data dir lock %s: %s", step,
	    lk->path ? lk->path : dir, strerror(saved));
	errno = saved;
	return -1;
}

void
store_unlock(struct store_lock *lk)
{
	if (lk == NULL)
		return;
	if (lk->fd != -1) {
		if (lk->held)
			(void)store_lock_set(lk->fd, F_UNLCK);
		close(lk->fd);
	}
	free(lk->path);
	lk->fd = -1;
	lk->held = 0;
	lk->path = NULL;
}

int
store_link(struct store *st, enum store_kind from, enum store_kind to,
    const char *name, char err[ERR_MAX])
{
	char src[NAME_MAX + 1], dst[NAME_MAX + 1], tmp[NAME_MAX + 32];
	char *buf = NULL;
	size_t len;
	int saved, rc;

	if (store_check(st, from, name, 0, 0, err) == -1 ||
	    store_check(st, to, name, 1, 0, err) == -1)
		return -1;
	store_file(from, name, src);
	store_file(to, name, dst);
	/* The temp-name rule of store_write(), so a crash leaves nothing a
	 * glob sees and the next start sweeps it. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%lu", dst, (long)getpid(),
	    atomic_fetch_add(&store_seq, 1));
	if (linkat(store_dfd(st, from), src, store_dfd(st, to), tmp, 0) == 0) {
		if (renameat(store_dfd(st, to), tmp, store_dfd(st, to), dst) == 0) {
			/* Already the same file: rename(2) then leaves both
			 * names, and the temp one must go. */
			(void)unlinkat(store_dfd(st, to), tmp, 0);
			return 0;
		}
		saved = errno;
		unlinkat(store_dfd(st, to), tmp, 0);
		snprintf(err, ERR_MAX, "cannot rename temp link to "
		    "%s/%.200s: %s", store_kinds[to].dir, dst,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	if (errno != EXDEV && errno != EPERM && errno != EMLINK &&
	    errno != ENOTSUP) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot link %s/%.200s to %s: %s",
		    store_kinds[from].dir, src, store_kinds[to].dir,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	/* No hard links here: a copy does the same job. */
	if (store_read(st, from, name, 64 << 20, &buf, &len, err) == -1)
		return -1;
	rc = store_write(st, to, name, buf, len, err);
	free(buf);
	return rc;
}

/* Opens <kind>/<name> read-only for its notes; -1 with errno. */
static int
store_note_fd(struct store *st, enum store_kind kind, const char *name,
    char *file)
{
	char err[ERR_MAX];

	if (store_check(st, kind, name, 0, 0, err) == -1)
		return -1;
	store_file(kind, name, file);
	return openat(store_dfd(st, kind), file,
	    O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
}

int
store_set_note(struct store *st, enum store_kind kind, const char *name,
    const char *key, const char *value, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], attr[64];
	int fd, rc, saved;

	snprintf(attr, sizeof(attr), "user.flowmon.%s", key);
	if ((fd = store_note_fd(st, kind, name, file)) == -1) {
		saved = errno;
		snprintf(err, ERR_MAX, "cannot open %s/%s: %s",
		    store_dirname(kind), name, strerror(saved));
		errno = saved;
		return -1;
	}
	rc = fsetxattr(fd, attr, value, strlen(value), 0);
	saved = errno;
	close(fd);
	if (rc == -1) {
		snprintf(err, ERR_MAX, "cannot note %s on %s/%s: %s", key,
		    store_kinds[kind].dir, file, strerror(saved));
		errno = saved;
	}
	return rc;
}

int
store_get_note(struct store *st, enum store_kind kind, const char *name,
    const char *key, char *buf, size_t size)
{
	char file[NAME_MAX + 1], attr[64];
	ssize_t n;
	int fd, saved;

	snprintf(attr, sizeof(attr), "user.flowmon.%s", key);
	if (size == 0 || (fd = store_note_fd(st, kind, name, file)) == -1)
		return -1;
	n = fgetxattr(fd, attr, buf, size - 1);
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}
