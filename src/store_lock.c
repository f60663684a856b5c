/* store_lock.c: the data-dir lock (store_lock, store_unlock): one writer
 * per data dir, and who holds it for a standby's messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_impl.h"

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
