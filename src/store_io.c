/* store_io.c: the file IO under the store, on any directory: the one atomic
 * writer and its temp-name rule, the one bounded reader, the one directory
 * listing, the sweep of stale temp files; and the same reader, writer and
 * listing for paths outside the data dir. Crash safety: see store.c. */
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
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "store_io.h"

static atomic_ulong store_seq;

/*
 * Temp names.
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

int
store_temp_make(const char *file, char tmp[NAME_MAX + 1])
{
	unsigned long seq = atomic_fetch_add(&store_seq, 1);

	if (snprintf(tmp, NAME_MAX + 1, ".%s.tmp.%ld.%lu", file,
	    (long)getpid(), seq) >= NAME_MAX + 1) {
		/* Callers leave room; never write a cut name. */
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Directories.
 */

/* mkdir -p: each missing component of path is created with mode. */
int
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
DIR *
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
int
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

/* buf into a new file dfd/tmp (O_EXCL), created with mode create (the
 * umask applies) and, unless chmod_to is (mode_t)-1, given chmod_to before
 * a byte is written; fsync'd and closed. -1 with errno and *step naming
 * what failed; the caller unlinks tmp when *made is set. */
static int
store_new_file(int dfd, const char *tmp, const void *buf, size_t len,
    mode_t create, mode_t chmod_to, const char **step, int *made)
{
	int fd, rc, saved;

	*step = "create temp file for";
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    create)) == -1)
		return -1;
	*made = 1;
	*step = "set the mode of";
	if (chmod_to != (mode_t)-1 && fchmod(fd, chmod_to) == -1)
		goto fail;
	*step = "write";
	if (store_write_all(fd, buf, len) == -1)
		goto fail;
	*step = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	/* close(2) can report a deferred write error (NFS and friends). */
	*step = "close";
	rc = close(fd);
	return rc;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* See store_io.h. The copy is fsync'd: it may have to be put back. */
int
store_keep(int dfd, const char *file, char *keep)
{
	char *old = NULL, why[ERR_MAX];
	const char *step;
	size_t olen;
	int made = 0, rc, saved;

	if (store_temp_make(file, keep) == -1)
		goto fail;
	if (linkat(dfd, file, dfd, keep, 0) == 0)
		return 0;
	if (errno == ENOENT) {
		keep[0] = '\0';
		return 0;
	}
	if (errno != EPERM && errno != EMLINK && errno != ENOTSUP &&
	    errno != EXDEV)
		goto fail;
	if (store_read_at(dfd, file, file, O_NOFOLLOW, STORE_KEEP_MAX, &old,
	    &olen, why) == -1) {
		if (errno != ENOENT)
			goto fail;
		keep[0] = '\0';
		return 0;
	}
	rc = store_new_file(dfd, keep, old, olen, 0644, (mode_t)-1, &step,
	    &made);
	saved = errno;
	free(old);
	if (rc == 0)
		return 0;
	if (made)
		(void)unlinkat(dfd, keep, 0);
	errno = saved;
fail:
	keep[0] = '\0';
	return -1;
}

void
store_dirsync_init(struct store_dirsync *ds)
{
	memset(ds, 0, sizeof(*ds));
	pthread_mutex_init(&ds->lock, NULL);
	pthread_cond_init(&ds->cond, NULL);
	ds->synced_dfd = -1;
}

void
store_dirsync_release(struct store_dirsync *ds)
{
	pthread_mutex_destroy(&ds->lock);
	pthread_cond_destroy(&ds->cond);
}

int
store_dirsync(struct store_dirsync *ds, int dfd)
{
	uint64_t mine, upto;
	int rc = 0, saved = 0;

	if (ds == NULL)
		return fsync(dfd);
	pthread_mutex_lock(&ds->lock);
	mine = ++ds->tickets;
	for (;;) {
		if (ds->synced >= mine) {
			/* Covered, unless by an fsync of another directory
			 * (the kind dir was reopened meanwhile): then its
			 * own. */
			if (ds->synced_dfd != dfd) {
				pthread_mutex_unlock(&ds->lock);
				return fsync(dfd);
			}
			break;
		}
		if (ds->busy) {
			pthread_cond_wait(&ds->cond, &ds->lock);
			continue;
		}
		/* Every change made so far, this caller's among them. */
		ds->busy = 1;
		upto = ds->tickets;
		pthread_mutex_unlock(&ds->lock);
		rc = fsync(dfd);
		saved = errno;
		pthread_mutex_lock(&ds->lock);
		ds->busy = 0;
		if (rc == 0 && upto > ds->synced) {
			ds->synced = upto;
			ds->synced_dfd = dfd;
		}
		pthread_cond_broadcast(&ds->cond);
		if (rc == -1)
			break;
	}
	pthread_mutex_unlock(&ds->lock);
	errno = saved;
	return rc;
}

/* The one atomic writer: buf becomes dfd/file (see store_io.h). */
int
store_atomic(int dfd, const char *file, const char *shown, const void *buf,
    size_t len, mode_t create, mode_t chmod_to, char *keep,
    struct store_dirsync *ds, char err[ERR_MAX])
{
	char tmp[NAME_MAX + 1];
	const char *step;
	int have_tmp = 0, renamed = 0, saved;

	step = "create temp file for";
	if (keep != NULL)
		keep[0] = '\0';
	if (store_temp_make(file, tmp) == -1)
		goto fail;
	if (store_new_file(dfd, tmp, buf, len, create, chmod_to, &step,
	    &have_tmp) == -1)
		goto fail;
	step = "keep the previous version of";
	if (keep != NULL && store_keep(dfd, file, keep) == -1)
		goto fail;
	step = "rename temp file to";
	if (renameat(dfd, tmp, dfd, file) == -1)
		goto fail;
	have_tmp = 0;
	renamed = 1;
	/* The new file is in place; only its durability is at stake now. */
	step = "fsync directory of";
	if (store_dirsync(ds, dfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot %s %s: %s", step, shown,
	    strerror(saved));
	if (have_tmp && unlinkat(dfd, tmp, 0) == -1 && errno != ENOENT)
		log_warn("cannot remove temp file", "file", shown, "temp", tmp,
		    "error", strerror(errno));
	if (keep != NULL && keep[0] != '\0') {
		/* Asked to keep the old version: a failed write leaves it. */
		if (renamed)
			(void)renameat(dfd, keep, dfd, file);
		else
			(void)unlinkat(dfd, keep, 0);
		keep[0] = '\0';
	} else if (keep != NULL && renamed)
		(void)unlinkat(dfd, file, 0);
	errno = saved;
	return -1;
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
	if ((rc = store_atomic(dfd, base, path, buf, len, 0600, want, NULL,
	    NULL, err)) == -1)
		saved = errno;
out:
	free(old);
	if (dfd != -1)
		close(dfd);
	free(copy);
	errno = saved;
	return rc;
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
int
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

int
store_read_file(const char *path, size_t max, char **bufp, size_t *lenp,
    char err[ERR_MAX])
{
	return store_read_at(AT_FDCWD, path, path, 0, max, bufp, lenp, err);
}

/*
 * Listing.
 */

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
int
store_list_fd(int dfd, struct store_entry **vp, size_t *np)
{
	struct store_entry *v = NULL, *e;
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
		if (BUF_ARRAY_GROW(v, n, cap) == -1)
			goto fail;
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
