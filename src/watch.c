/* watch.c: the directory watcher (inotify plus polling, one thread) and
 * the content hash of a directory's files.
 *
 * Why both. inotify reports local changes at once, but nothing written by
 * another NFS (or SMB, FUSE) client, and it drops events on queue
 * overflow; polling catches all of that within one interval. Whatever
 * woke it, the watcher only says "look"; the callback rescans and compares
 * hashes, so a missed, duplicated or spurious event never changes what is
 * decided, only when. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "watch.h"

/* An event burst is over after this much calm, or this long in all. */
#define WATCH_CALM_MS		50
#define WATCH_BURST_MAX_MS	500

#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
	IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
	IN_ONLYDIR)

uint64_t
watch_hash_bytes(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
}

int
watch_is_temp(const char *name)
{
	return name[0] == '.' && strstr(name + 1, ".tmp.") != NULL;
}

int
watch_name_matches(const char *name, const char *ext)
{
	size_t n = strlen(name), e;

	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    watch_is_temp(name))
		return 0;
	if (ext == NULL)
		return 1;
	e = strlen(ext);
	/* Go's "*" matches the empty string: even ".yml" is read. */
	return n >= e && strcmp(name + n - e, ext) == 0;
}

int
watch_snap_add(struct watch_snap *s, const char *name, const char *data,
    size_t len, time_t mtime, int error, int keep)
{
	struct watch_file *f, *v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 16;
		if ((v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	f = &s->v[s->n];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(name)) == NULL)
		return -1;
	f->mtime = mtime;
	f->error = data == NULL ? (error ? error : EIO) : 0;
	if (data != NULL) {
		f->size = len;
		f->hash = watch_hash_bytes(data, len);
		if (keep) {
			if ((f->data = malloc(len + 1)) == NULL) {
				free(f->name);
				return -1;
			}
			memcpy(f->data, data, len);
			f->data[len] = '\0';
		}
	}
	s->n++;
	return 0;
}

static int
watch_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct watch_file *)a)->name,
	    ((const struct watch_file *)b)->name);
}

/* Feeds n bytes into an FNV-1a state. */
static uint64_t
watch_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
watch_snap_finish(struct watch_snap *s)
{
	uint64_t h = 1469598103934665603ULL, size;
	size_t i;
	int32_t e;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), watch_file_cmp);
	for (i = 0; i < s->n; i++) {
		const struct watch_file *f = &s->v[i];

		/* The NUL ends the name, so "ab"+"c" never equals "a"+"bc". */
		h = watch_fnv(h, f->name, strlen(f->name) + 1);
		size = f->size;
		h = watch_fnv(h, &size, sizeof(size));
		h = watch_fnv(h, &f->hash, sizeof(f->hash));
		e = f->error;
		h = watch_fnv(h, &e, sizeof(e));
	}
	s->hash = h ^ ((uint64_t)s->n * 0x9e3779b97f4a7c15ULL);
}

const struct watch_file *
watch_snap_find(const struct watch_snap *s, const char *name)
{
	struct watch_file key;

	if (s->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), watch_file_cmp);
}

void
watch_snap_release(struct watch_snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Reads the file name of dfd whole into *buf (malloc'd, NUL-terminated).
 * 0, or an errno (ENOENT when it vanished, EFBIG when too large). */
static int
watch_read(int dfd, const char *name, char **buf, size_t *len,
    time_t *mtime, int *regular)
{
	struct stat sb;
	size_t cap, off = 0;
	ssize_t n;
	char *b = NULL, *nb;
	int fd, e;

	*buf = NULL;
	*regular = 1;
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno;
	if (fstat(fd, &sb) == -1) {
		e = errno;
		goto fail;
	}
	*mtime = sb.st_mtime;
	if (!S_ISREG(sb.st_mode)) {
		*regular = 0;
		e = EISDIR;
		goto fail;
	}
	if (sb.st_size > WATCH_FILE_MAX) {
		e = EFBIG;
		goto fail;
	}
	cap = (size_t)sb.st_size + 1;
	if ((b = malloc(cap)) == NULL) {
		e = ENOMEM;
		goto fail;
	}
	for (;;) {
		if (off + 1 >= cap) {
			/* Grown since the fstat: a writer is appending. */
			if (cap > WATCH_FILE_MAX) {
				e = EFBIG;
				goto fail;
			}
			if ((nb = realloc(b, cap * 2)) == NULL) {
				e = ENOMEM;
				goto fail;
			}
			b = nb;
			cap *= 2;
		}
		if ((n = read(fd, b + off, cap - off - 1)) == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	b[off] = '\0';
	*buf = b;
	*len = off;
	return 0;
fail:
	free(b);
	close(fd);
	return e;
}

int
watch_read_file(const char *dir, const char *name, char **buf, size_t *len)
{
	time_t mtime;
	int dfd, e, regular;

	*buf = NULL;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno;
	e = watch_read(dfd, name, buf, len, &mtime, &regular);
	close(dfd);
	return e;
}

int
watch_snap_take(const char *dir, const char *ext, int keep,
    struct watch_snap *s, char err[ERR_MAX])
{
	struct dirent *de;
	DIR *d;
	char *buf;
	size_t len = 0;
	time_t mtime = 0;
	int e, regular, saved;

	watch_snap_release(s);
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			s->missing = 1;
			watch_snap_finish(s);
			return 0;
		}
		snprintf(err, ERR_MAX, "cannot read directory %.300s: %s", dir,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				saved = errno;
				snprintf(err, ERR_MAX, "cannot read directory "
				    "%.300s: %s", dir, strerror(saved));
				goto fail;
			}
			break;
		}
		if (!watch_name_matches(de->d_name, ext))
			continue;
		if (de->d_type != DT_UNKNOWN && de->d_type != DT_REG &&
		    de->d_type != DT_LNK)
			continue;
		mtime = 0;
		e = watch_read(dirfd(d), de->d_name, &buf, &len, &mtime,
		    &regular);
		/* Gone since readdir: the next scan sees what replaced it. A
		 * directory or a device is not a file anyone loads. */
		if (e == ENOENT || !regular)
			continue;
		if (watch_snap_add(s, de->d_name, buf, len, mtime, e,
		    keep) == -1) {
			free(buf);
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
		free(buf);
	}
	closedir(d);
	watch_snap_finish(s);
	return 0;
fail:
	closedir(d);
	watch_snap_release(s);
	return -1;
}

/* The watcher thread. */

struct watch_dir {
	char	*path;
	int	 wd;		/* inotify watch, -1 if none (yet) */
};

struct watch {
	struct watch_dir *dirs;
	size_t		 ndirs;
	int		 ifd;		/* inotify fd, -1 when polling only */
	int		 stop[2];	/* a byte on stop[1] ends the thread */
	long		 poll_ms;
	long		 settle_ms;
	watch_fn	 fn;
	void		*ctx;
	pthread_t	 thread;
	int		 started;
	int		 active;	/* atomic: every dir has a watch */
};

static int64_t
watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds a watch to each directory that has none; a missing one is tried
 * again at the next poll. */
static void
watch_add_missing(struct watch *w)
{
	size_t i;
	int all = 1;

	if (w->ifd == -1)
		return;
	for (i = 0; i < w->ndirs; i++) {
		if (w->dirs[i].wd != -1)
			continue;
		w->dirs[i].wd = inotify_add_watch(w->ifd, w->dirs[i].path,
		    WATCH_MASK);
		if (w->dirs[i].wd == -1) {
			all = 0;
			if (errno != ENOENT)
				log_warn("cannot watch directory, polling it",
				    "dir", w->dirs[i].path, "error",
				    strerror(errno));
		}
	}
	__atomic_store_n(&w->active, all, __ATOMIC_RELAXED);
}

/* Reads every queued event; returns how many matter (not a temp file).
 * A watch that went away (directory removed or renamed) is dropped, to be
 * added again once the directory is back. */
static int
watch_drain(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;
	size_t i;
	int count = 0;

	for (;;) {
		if ((n = read(w->ifd, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF)) {
				for (i = 0; i < w->ndirs; i++)
					if (w->dirs[i].wd == ev->wd) {
						if (!(ev->mask & IN_IGNORED))
							inotify_rm_watch(
							    w->ifd, ev->wd);
						w->dirs[i].wd = -1;
					}
				__atomic_store_n(&w->active, 0,
				    __ATOMIC_RELAXED);
				count++;
			} else if (ev->mask & IN_Q_OVERFLOW) {
				count++;
			} else if (ev->len > 0 && !watch_is_temp(ev->name)) {
				count++;
			}
		}
	}
	return count;
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	struct pollfd pfd[2];
	enum watch_why why;
	int64_t due, now, burst_end;
	int changed = 0, n, events;

	due = watch_now_ms() + w->poll_ms;
	for (;;) {
		now = watch_now_ms();
		pfd[0].fd = w->stop[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = w->ifd;
		pfd[1].events = POLLIN;
		n = poll(pfd, w->ifd != -1 ? 2 : 1,
		    due > now ? (int)(due - now) : 0);
		if (n == -1 && errno != EINTR) {
			log_error("watcher cannot poll", "error",
			    strerror(errno));
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN))
			break;
		why = changed ? WATCH_SETTLE : WATCH_POLL;
		if (n > 0 && w->ifd != -1 && (pfd[1].revents & POLLIN)) {
			/* Wait for the burst (write, rename, ...) to end. */
			events = watch_drain(w);
			burst_end = watch_now_ms() + WATCH_BURST_MAX_MS;
			while ((now = watch_now_ms()) < burst_end &&
			    poll(&pfd[1], 1, WATCH_CALM_MS) > 0)
				events += watch_drain(w);
			if (events == 0 && watch_now_ms() < due)
				continue;	/* only temp files moved */
			if (events > 0)
				why = WATCH_EVENT;
		} else if (watch_now_ms() < due) {
			continue;
		}
		watch_add_missing(w);
		changed = w->fn(w->ctx, why);
		due = watch_now_ms() + (changed ? w->settle_ms : w->poll_ms);
	}
	return NULL;
}

struct watch *
watch_start(const char *const *dirs, size_t ndirs, int use_inotify,
    long poll_ms, long settle_ms, watch_fn fn, void *ctx, char err[ERR_MAX])
{
	struct watch *w;
	size_t i;
	int e;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->dirs = calloc(ndirs ? ndirs : 1, sizeof(*w->dirs))) == NULL) {
		free(w);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	w->ifd = -1;
	w->stop[0] = w->stop[1] = -1;
	w->poll_ms = poll_ms > 0 ? poll_ms : 1000;
	w->settle_ms = settle_ms > 0 ? settle_ms : 100;
	w->fn = fn;
	w->ctx = ctx;
	for (i = 0; i < ndirs; i++) {
		w->dirs[w->ndirs].wd = -1;
		if ((w->dirs[w->ndirs].path = strdup(dirs[i])) == NULL) {
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
		w->ndirs++;
	}
	if (pipe2(w->stop, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, ERR_MAX, "cannot create the watcher's pipe: %s",
		    strerror(errno));
		goto fail;
	}
	if (use_inotify) {
		if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			log_warn("inotify unavailable, polling only", "error",
			    strerror(errno));
		watch_add_missing(w);
	}
	/* The first scan after the watches exist: a change made in between
	 * is then either in the scan or reported as an event. */
	(void)fn(ctx, WATCH_START);
	if ((e = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
		snprintf(err, ERR_MAX, "cannot start the watcher: %s",
		    strerror(e));
		goto fail;
	}
	w->started = 1;
	return w;
fail:
	watch_stop(w);
	return NULL;
}

int
watch_inotify_active(struct watch *w)
{
	return w != NULL && w->ifd != -1 &&
	    __atomic_load_n(&w->active, __ATOMIC_RELAXED);
}

void
watch_stop(struct watch *w)
{
	size_t i;
	ssize_t n;

	if (w == NULL)
		return;
	if (w->started) {
		do
			n = write(w->stop[1], "x", 1);
		while (n == -1 && errno == EINTR);
		pthread_join(w->thread, NULL);
	}
	if (w->stop[0] != -1)
		close(w->stop[0]);
	if (w->stop[1] != -1)
		close(w->stop[1]);
	if (w->ifd != -1)
		close(w->ifd);
	for (i = 0; i < w->ndirs; i++)
		free(w->dirs[i].path);
	free(w->dirs);
	free(w);
}
