/* store.c: all file IO under the data dir: atomic replace, remove, move,
 * read and scan of targets/, rules/, state/, nodes/ and rejected/.
 *
 * State model. A file on disk is either absent or holds one complete
 * version written by store_write(); readers (Prometheus, flowmon at start)
 * never see a partial file. Each kind is one flat directory, held open as
 * a directory fd for the life of the store, and every operation works
 * relative to that fd (openat, renameat, unlinkat), so a rename of the data
 * dir or a relative path changing under us cannot redirect a write.
 *
 * Crash safety. A write goes to .<name><ext>.tmp.<pid>.<seq> in the same
 * directory: same file system, so rename(2) is atomic, and a leading dot
 * plus a trailing .tmp.* suffix, so neither '*.json' nor '*.yml' ever
 * matches it. The data is fsync'd before the rename (else a crash could
 * leave the new name pointing at an empty inode), and the directory is
 * fsync'd after it (else the rename itself may be lost). A crash at any
 * point leaves the old file or the new one, plus at worst a temp file that
 * no glob sees and that the next store_open() deletes.
 *
 * Concurrency. No mutable state is shared but the temp-name sequence
 * number, which is atomic; pid plus sequence make temp names unique across
 * threads and processes, and O_EXCL turns any collision into an error
 * instead of two writers sharing one temp file. Writers of one name race
 * only at rename(2): the last rename wins, whole. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Refuses anything that is not one plain, visible file name: a '/' or
 * ".." would escape the kind dir, and a leading dot would collide with our
 * temp names (and be deleted at the next start). A C string cannot hold a
 * NUL, so an embedded NUL simply ends the name before the extension. */
static int
store_check(const struct store *st, enum store_kind kind, const char *name,
    char err[ERR_MAX])
{
	const char *why = NULL;

	if ((unsigned)kind >= STORE_NKINDS) {
		snprintf(err, ERR_MAX, "store: invalid kind %d", (int)kind);
		errno = EINVAL;
		return -1;
	}
	if (st == NULL || st->dirfd[kind] == -1) {
		snprintf(err, ERR_MAX, "store: %s is not open",
		    store_kinds[kind].dir);
		errno = EBADF;
		return -1;
	}
	if (name == NULL || name[0] == '\0')
		why = "is empty";
	else if (strchr(name, '/') != NULL)
		why = "contains '/'";
	else if (name[0] == '.')
		why = "starts with '.'";
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
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	const unsigned char *p;
	size_t len = strlen(name);

	if (len <= STORE_BASE_MAX) {
		memcpy(buf, name, len + 1);
		return;
	}
	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(buf, STORE_BASE_MAX + 1, "%.*s~%016llx", STORE_BASE_KEEP,
	    name, (unsigned long long)h);
}

/* <base of name><ext> into buf, which holds NAME_MAX + 1 bytes. */
static void
store_file(enum store_kind kind, const char *name, char *buf)
{
	char base[STORE_BASE_MAX + 1];

	store_base(name, base);
	snprintf(buf, NAME_MAX + 1, "%s%s", base, store_kinds[kind].ext);
}

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

/* A directory stream over one kind dir, on a fresh open file description:
 * a dup(2) of dirfd would share its directory offset with every other
 * scan. NULL with errno on failure. */
static DIR *
store_opendir(struct store *st, enum store_kind kind)
{
	DIR *d;
	int fd, saved;

	if ((fd = openat(st->dirfd[kind], ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* Deletes the temp files a crashed writer left in one kind dir. Failing
 * to delete one is only logged: no glob matches it, so it is clutter, not
 * a danger, and must not keep the daemon from starting. */
static int
store_sweep(struct store *st, enum store_kind kind, char err[ERR_MAX])
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	int saved;

	if ((d = store_opendir(st, kind)) == NULL)
		goto fail;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp.") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", st->dir,
		    store_kinds[kind].dir, de->d_name);
		if (unlinkat(st->dirfd[kind], de->d_name, 0) == -1) {
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
	saved = errno;
	snprintf(err, ERR_MAX, "cannot scan %s/%s: %s", st->dir,
	    store_kinds[kind].dir, strerror(saved));
	if (d != NULL)
		closedir(d);
	errno = saved;
	return -1;
}

int
store_open(struct store *st, const char *dir, char err[ERR_MAX])
{
	const char *step = "create";
	const char *sub = "";
	int k, topfd = -1, made = 0, saved;

	st->dir = NULL;
	for (k = 0; k < STORE_NKINDS; k++)
		st->dirfd[k] = -1;
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
		if ((st->dirfd[k] = openat(topfd, sub,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
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
	for (k = 0; k < STORE_NKINDS; k++)
		if (store_sweep(st, k, err) == -1)
			goto fail;
	return 0;
fail:
	saved = errno;
	if (step != NULL)
		snprintf(err, ERR_MAX, "cannot %s data dir %s%s%s: %s", step,
		    dir, sub[0] ? "/" : "", sub, strerror(saved));
	if (topfd != -1)
		close(topfd);
	store_release(st);
	errno = saved;
	return -1;
}

void
store_release(struct store *st)
{
	int k;

	if (st == NULL)
		return;
	for (k = 0; k < STORE_NKINDS; k++) {
		if (st->dirfd[k] != -1)
			close(st->dirfd[k]);
		st->dirfd[k] = -1;
	}
	free(st->dir);
	st->dir = NULL;
}

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

int
store_write(struct store *st, enum store_kind kind, const char *name,
    const void *buf, size_t len, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], tmp[NAME_MAX + 1];
	const char *step;
	unsigned long seq;
	int dfd, fd = -1, have_tmp = 0, rc, saved;

	if (store_check(st, kind, name, err) == -1)
		return -1;
	dfd = st->dirfd[kind];
	store_file(kind, name, file);
	seq = atomic_fetch_add(&store_seq, 1);
	step = "create temp file for";
	if (snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%lu", file,
	    (long)getpid(), seq) >= (int)sizeof(tmp)) {
		/* store_check() leaves room; never write a cut name. */
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		goto fail;
	have_tmp = 1;
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
	snprintf(err, ERR_MAX, "cannot %s %s/%s: %s", step,
	    store_kinds[kind].dir, file, strerror(saved));
	if (fd != -1)
		close(fd);
	if (have_tmp && unlinkat(dfd, tmp, 0) == -1 && errno != ENOENT)
		log_warn("cannot remove temp file", "dir",
		    store_kinds[kind].dir, "file", tmp, "error",
		    strerror(errno));
	errno = saved;
	return -1;
}

int
store_remove(struct store *st, enum store_kind kind, const char *name,
    char err[ERR_MAX])
{
	char file[NAME_MAX + 1];
	const char *step;
	int saved;

	if (store_check(st, kind, name, err) == -1)
		return -1;
	store_file(kind, name, file);
	step = "remove";
	if (unlinkat(st->dirfd[kind], file, 0) == -1) {
		/* Already gone: the directory did not change, so there is
		 * nothing to make durable. */
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	step = "fsync directory of";
	if (fsync(st->dirfd[kind]) == -1)
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
	int saved;

	if (store_check(st, from, name, err) == -1 ||
	    store_check(st, to, name, err) == -1)
		return -1;
	store_file(from, name, src);
	store_file(to, name, dst);
	step = "move";
	if (renameat(st->dirfd[from], src, st->dirfd[to], dst) == -1)
		goto fail;
	/* Destination first: should we crash between the two, the file is
	 * durably in its new place even if the old entry comes back. */
	step = "fsync directories for move of";
	if (fsync(st->dirfd[to]) == -1)
		goto fail;
	if (from != to && fsync(st->dirfd[from]) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s/%s to %s: %s", step,
	    store_kinds[from].dir, src, store_kinds[to].dir, strerror(saved));
	errno = saved;
	return -1;
}

int
store_read(struct store *st, enum store_kind kind, const char *name,
    size_t max, char **bufp, size_t *lenp, char err[ERR_MAX])
{
	char file[NAME_MAX + 1], *buf = NULL, *nb;
	const char *step;
	struct stat sb;
	size_t cap, len = 0;
	ssize_t n;
	int fd = -1, saved;

	*bufp = NULL;
	*lenp = 0;
	if (store_check(st, kind, name, err) == -1)
		return -1;
	store_file(kind, name, file);
	step = "open";
	/* O_NONBLOCK: a FIFO an operator left under this name must not
	 * hang the caller in open(2); it is refused below. */
	if ((fd = openat(st->dirfd[kind], file,
	    O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	step = "read";
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
			if (cap > SIZE_MAX / 2) {
				errno = EFBIG;
				goto fail;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL)
				goto fail;
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
	if (saved == EFBIG)
		snprintf(err, ERR_MAX, "cannot read %s/%s: larger than %zu "
		    "bytes", store_kinds[kind].dir, file, max);
	else
		snprintf(err, ERR_MAX, "cannot %s %s/%s: %s", step,
		    store_kinds[kind].dir, file, strerror(saved));
	free(buf);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

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
	    st->dirfd[kind] == -1) {
		snprintf(err, ERR_MAX, "store: cannot scan kind %d", (int)kind);
		errno = EINVAL;
		return -1;
	}
	ext = store_kinds[kind].ext;
	elen = strlen(ext);
	if ((d = store_opendir(st, kind)) == NULL)
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

int
store_link(struct store *st, enum store_kind from, enum store_kind to,
    const char *name, char err[ERR_MAX])
{
	char src[NAME_MAX + 1], dst[NAME_MAX + 1], tmp[NAME_MAX + 32];
	char *buf = NULL;
	size_t len;
	int saved, rc;

	if (store_check(st, from, name, err) == -1 ||
	    store_check(st, to, name, err) == -1)
		return -1;
	store_file(from, name, src);
	store_file(to, name, dst);
	/* The temp-name rule of store_write(), so a crash leaves nothing a
	 * glob sees and the next start sweeps it. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld.%lu", dst, (long)getpid(),
	    atomic_fetch_add(&store_seq, 1));
	if (linkat(st->dirfd[from], src, st->dirfd[to], tmp, 0) == 0) {
		if (renameat(st->dirfd[to], tmp, st->dirfd[to], dst) == 0) {
			/* Already the same file: rename(2) then leaves both
			 * names, and the temp one must go. */
			(void)unlinkat(st->dirfd[to], tmp, 0);
			return 0;
		}
		saved = errno;
		unlinkat(st->dirfd[to], tmp, 0);
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

	if (store_check(st, kind, name, err) == -1)
		return -1;
	store_file(kind, name, file);
	return openat(st->dirfd[kind], file,
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
