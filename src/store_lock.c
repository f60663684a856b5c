/* store_lock.c: the data-dir lock (store_lock, store_unlock): one writer
 * per data dir, and who holds it for a standby's messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

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

/* 1 when the lock path still names the file open as fd: not removed
 * (a link count of 0), not replaced by another file. On NFS, fstat(2) of
 * a file another client removed may fail with ESTALE: not named either. */
static int
store_lock_named(int fd, const char *path)
{
	struct stat held, now;

	return fstat(fd, &held) == 0 && held.st_nlink > 0 &&
	    lstat(path, &now) == 0 && now.st_dev == held.st_dev &&
	    now.st_ino == held.st_ino;
}

int
store_lock(struct store_lock *lk, const char *dir, char holder[256],
    char err[ERR_MAX])
{
	char host[256], line[320];
	const char *step = "create";
	int saved, len, tries;

	holder[0] = '\0';
	if (lk->held)
		return 0;
	if (lk->path == NULL) {
		if (asprintf(&lk->path, "%s/%s", dir, STORE_LOCK_FILE) < 0) {
			lk->path = NULL;
			snprintf(err, ERR_MAX, "out of memory");
			errno = ENOMEM;
			return -1;
		}
	}
	/* A lock on a file the path no longer names (removed, replaced)
	 * guards nothing: another flowmon would lock the file the path
	 * names now. So the file is opened again until the one locked is
	 * the one named, checked after the lock is taken (a removal may come
	 * in between). A few rounds at most: each needs another removal. */
	for (tries = 0; tries < 8; tries++) {
		if (lk->fd != -1 && !store_lock_named(lk->fd, lk->path)) {
			close(lk->fd);	/* not ours: closing drops nothing */
			lk->fd = -1;
		}
		if (lk->fd == -1) {
			step = "create";
			if (store_mkdirs(dir, 0755) == -1)
				goto fail;
			step = "open";
			if ((lk->fd = open(lk->path, O_RDWR | O_CREAT |
			    O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
				goto fail;
		}
		step = "lock";
		if (store_lock_set(lk->fd, F_WRLCK) == -1) {
			if (errno != EAGAIN && errno != EACCES)
				goto fail;
			store_lock_holder(lk->fd, holder);
			return 1;
		}
		if (store_lock_named(lk->fd, lk->path))
			break;
		(void)store_lock_set(lk->fd, F_UNLCK);
	}
	if (tries == 8) {
		snprintf(err, ERR_MAX, "cannot lock the data dir: %s keeps "
		    "being removed or replaced", lk->path);
		errno = ENOLCK;
		return -1;
	}
	lk->held = 1;
	lk->lost = 0;
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

int
store_lock_check(struct store_lock *lk, char err[ERR_MAX])
{
	if (lk->held && !__atomic_load_n(&lk->lost, __ATOMIC_RELAXED) &&
	    store_lock_named(lk->fd, lk->path))
		return 0;
	/* Sticky: a file made again at the path is not the one locked. */
	__atomic_store_n(&lk->lost, 1, __ATOMIC_RELAXED);
	snprintf(err, ERR_MAX, "the data dir lock %s is no longer the file "
	    "this flowmon locked (removed or replaced): it writes nothing "
	    "more, so that two flowmons never write one data dir",
	    lk->path ? lk->path : STORE_LOCK_FILE);
	errno = ENOLCK;
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
