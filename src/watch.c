/* watch.c: the directory watcher (inotify plus polling, one thread), the
 * content hash of a directory's files, and a file's identity (stat) to
 * tell when its bytes need no reading again.
 *
 * Why both. inotify reports local changes at once, but nothing written by
 * another NFS (or SMB, FUSE) client, and it drops events on queue
 * overflow; polling catches all of that within one interval. Whatever
 * woke it, the watcher only says "look", and where: the names an event
 * burst carried, or everything (a poll, an overflow, a directory that
 * went or came). The callback compares what it finds with what it saw
 * before, so a missed, duplicated or spurious event never changes what is
 * decided, only when: what a burst did not name, the next poll finds.
 * Names matter at scale: with 10,000 services a look at everything costs
 * a stat of every file, where a burst of writes names a few. */
#include <errno.h>
#include <limits.h>
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

#include "buf.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include "store.h"
#include "watch.h"

/* An event burst is over after this much calm, or this long in all. */
#define WATCH_CALM_MS		50
#define WATCH_BURST_MAX_MS	500

#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
	IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
	IN_ONLYDIR)

int
watch_name_matches(const char *name, const char *ext)
{
	size_t n = strlen(name), e;

	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    store_temp_name(name, NULL))
		return 0;
	if (ext == NULL)
		return 1;
	e = strlen(ext);
	/* Go's "*" matches the empty string: even ".yml" is read. */
	return n >= e && strcmp(name + n - e, ext) == 0;
}

uint64_t
watch_id(const struct stat *sb)
{
	int64_t f[7];

	f[0] = (int64_t)sb->st_dev;
	f[1] = (int64_t)sb->st_ino;
	f[2] = (int64_t)sb->st_size;
	f[3] = (int64_t)sb->st_mtim.tv_sec;
	f[4] = (int64_t)sb->st_mtim.tv_nsec;
	f[5] = (int64_t)sb->st_ctim.tv_sec;
	f[6] = (int64_t)sb->st_ctim.tv_nsec;
	/* 0 stands for "no identity": never trusted. */
	return hash_bytes(HASH_INIT, f, sizeof(f)) | 1;
}

int64_t
watch_ctime_ms(const struct stat *sb)
{
	return (int64_t)sb->st_ctim.tv_sec * 1000 + sb->st_ctim.tv_nsec /
	    1000000;
}

int
watch_id_trusted(uint64_t id, int64_t ctime_ms, int64_t taken_ms,
    uint64_t now_id)
{
	return id != 0 && id == now_id && ctime_ms <= taken_ms -
	    WATCH_RACY_MS;
}

int
watch_snap_add(struct watch_snap *s, const char *name, const char *data,
    size_t len, time_t mtime, int error, int keep)
{
	struct watch_file *f;

	if (BUF_ARRAY_GROW(s->v, s->n, s->cap) == -1)
		return -1;
	f = &s->v[s->n];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(name)) == NULL)
		return -1;
	f->mtime = mtime;
	f->error = data == NULL ? (error ? error : EIO) : 0;
	if (data != NULL) {
		f->size = len;
		f->hash = hash_content(data, len);
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

void
watch_snap_finish(struct watch_snap *s)
{
	uint64_t h = HASH_INIT, size;
	size_t i;
	int32_t e;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), watch_file_cmp);
	for (i = 0; i < s->n; i++) {
		const struct watch_file *f = &s->v[i];

		/* The NUL ends the name, so "ab"+"c" never equals "a"+"bc". */
		h = hash_bytes(h, f->name, strlen(f->name) + 1);
		size = f->size;
		h = hash_bytes(h, &size, sizeof(size));
		h = hash_bytes(h, &f->hash, sizeof(f->hash));
		e = f->error;
		h = hash_bytes(h, &e, sizeof(e));
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

/* Fills s from a directory listing: the entries whose names match ext
 * that are regular files (links followed), each read by rd. A file that
 * vanished since the listing is skipped, one that cannot be read is listed
 * with its errno. */
static int
watch_snap_fill(struct watch_snap *s, const struct store_entry *v, size_t n,
    const char *ext, int keep, int (*rd)(void *, const char *, char **,
    size_t *), void *ctx, char err[ERR_MAX])
{
	char *buf;
	size_t i, len;
	int e;

	for (i = 0; i < n; i++) {
		if (!watch_name_matches(v[i].file, ext) ||
		    !S_ISREG(v[i].sb.st_mode))
			continue;
		e = rd(ctx, v[i].file, &buf, &len) == -1 ? errno : 0;
		/* Gone (or no longer a file) since the listing: the next
		 * scan sees what replaced it. */
		if (e == ENOENT || e == EISDIR || e == EINVAL)
			continue;
		if (watch_snap_add(s, v[i].file, buf, len, v[i].sb.st_mtime, e,
		    keep) == -1) {
			free(buf);
			snprintf(err, ERR_MAX, "out of memory");
			watch_snap_release(s);
			return -1;
		}
		free(buf);
	}
	watch_snap_finish(s);
	return 0;
}

static int
watch_read_path(void *dir, const char *file, char **buf, size_t *len)
{
	char path[PATH_MAX], err[ERR_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", (const char *)dir,
	    file) >= sizeof(path)) {
		*buf = NULL;
		errno = ENAMETOOLONG;
		return -1;
	}
	return store_read_file(path, WATCH_FILE_MAX, buf, len, err);
}

int
watch_snap_take(const char *dir, const char *ext, int keep,
    struct watch_snap *s, char err[ERR_MAX])
{
	struct store_entry *v;
	size_t n;
	int rc;

	watch_snap_release(s);
	if (store_list_dir(dir, &v, &n, err) == -1) {
		if (errno != ENOENT)
			return -1;
		s->missing = 1;
		watch_snap_finish(s);
		return 0;
	}
	rc = watch_snap_fill(s, v, n, ext, keep, watch_read_path, (void *)dir,
	    err);
	store_entries_free(v, n);
	return rc;
}

struct watch_store {
	struct store	*st;
	enum store_kind	 kind;
};

static int
watch_read_entry(void *arg, const char *file, char **buf, size_t *len)
{
	struct watch_store *ws = arg;
	char err[ERR_MAX];

	return store_read_entry(ws->st, ws->kind, file, WATCH_FILE_MAX, buf,
	    len, err);
}

int
watch_snap_take_store(struct store *st, enum store_kind kind, const char *ext,
    int keep, struct watch_snap *s, char err[ERR_MAX])
{
	struct watch_store ws = { st, kind };
	struct store_entry *v;
	size_t n;
	int rc;

	watch_snap_release(s);
	if (store_list(st, kind, &v, &n, err) == -1)
		return -1;
	rc = watch_snap_fill(s, v, n, ext, keep, watch_read_entry, &ws, err);
	store_entries_free(v, n);
	return rc;
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
	/* The names of the burst under way; all: inotify could not name
	 * everything that changed (overflow, a directory went or came,
	 * too many names). */
	struct watch_name *names;
	size_t		 nnames;
	size_t		 cap;
	int		 all;
	/* watch_start() waits for the first scan (wait_start). */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 first_done;
};

static void
watch_names_clear(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nnames; i++)
		free(w->names[i].name);
	w->nnames = 0;
	w->all = 0;
}

/* Notes that inotify named file in dirs[dir]; too many, or no memory,
 * and the burst is looked at whole. */
static void
watch_names_add(struct watch *w, size_t dir, const char *file)
{
	if (w->all)
		return;
	if (w->nnames >= WATCH_NAMES_MAX ||
	    BUF_ARRAY_GROW(w->names, w->nnames, w->cap) == -1 ||
	    (w->names[w->nnames].name = strdup(file)) == NULL) {
		watch_names_clear(w);
		w->all = 1;
		return;
	}
	w->names[w->nnames++].dir = dir;
}

static int
watch_name_cmp(const void *a, const void *b)
{
	const struct watch_name *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sorts the burst's names and drops repeats. */
static void
watch_names_finish(struct watch *w)
{
	size_t i, n = 0;

	if (w->nnames > 1)
		qsort(w->names, w->nnames, sizeof(*w->names), watch_name_cmp);
	for (i = 0; i < w->nnames; i++) {
		if (n > 0 && watch_name_cmp(&w->names[n - 1],
		    &w->names[i]) == 0) {
			free(w->names[i].name);
			continue;
		}
		w->names[n++] = w->names[i];
	}
	w->nnames = n;
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
				watch_names_clear(w);
				w->all = 1;
				count++;
			} else if (ev->mask & IN_Q_OVERFLOW) {
				watch_names_clear(w);
				w->all = 1;
				count++;
			} else if (ev->len > 0 &&
			    !store_temp_name(ev->name, NULL)) {
				for (i = 0; i < w->ndirs; i++)
					if (w->dirs[i].wd == ev->wd)
						break;
				if (i < w->ndirs)
					watch_names_add(w, i, ev->name);
				else
					w->all = 1;	/* a stale watch */
				count++;
			}
		}
	}
	return count;
}

/* The first scan, then wakes a watch_start() waiting for it. */
static void
watch_first(struct watch *w)
{
	(void)w->fn(w->ctx, WATCH_START, NULL, 0);
	pthread_mutex_lock(&w->lock);
	w->first_done = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	struct pollfd pfd[2];
	enum watch_why why;
	int64_t due, now, burst_end, whole_due;
	int changed = 0, n, events, whole;

	watch_first(w);
	due = whole_due = clock_ms() + w->poll_ms;
	for (;;) {
		now = clock_ms();
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
		whole = 1;
		if (n > 0 && w->ifd != -1 && (pfd[1].revents & POLLIN)) {
			/* Wait for the burst (write, rename, ...) to end:
			 * calm for WATCH_CALM_MS, or its end. Each pause
			 * sleeps the whole calm time and then reads what
			 * came: a write storm queues thousands of events a
			 * second, and waking for each cost more than the
			 * scans. */
			watch_names_clear(w);
			events = watch_drain(w);
			burst_end = clock_ms() + WATCH_BURST_MAX_MS;
			while (clock_ms() < burst_end) {
				if (poll(pfd, 1, WATCH_CALM_MS) > 0)
					return NULL;	/* stop */
				if ((n = watch_drain(w)) == 0)
					break;
				events += n;
			}
			if (events == 0 && clock_ms() < due)
				continue;	/* only temp files moved */
			/* Named files only, unless a look at everything is
			 * due anyway: a storm of local writes must not keep
			 * the polls (another NFS client's writes) away. */
			if (events > 0) {
				why = WATCH_EVENT;
				whole = w->all || clock_ms() >= whole_due;
			}
		} else if (clock_ms() < due) {
			continue;
		}
		/* A directory watched again may have changed unseen. */
		if (!watch_inotify_active(w)) {
			watch_add_missing(w);
			whole |= watch_inotify_active(w);
		}
		if (!whole)
			watch_names_finish(w);
		changed = w->fn(w->ctx, why, whole ? NULL : w->names,
		    whole ? 0 : w->nnames);
		watch_names_clear(w);
		/* A look at everything resets the poll; a look at a few
		 * names does not. */
		now = clock_ms();
		if (whole)
			whole_due = now + w->poll_ms;
		due = changed && now + w->settle_ms < whole_due ?
		    now + w->settle_ms : whole_due;
	}
	return NULL;
}

struct watch *
watch_start(const char *const *dirs, size_t ndirs, int use_inotify,
    long poll_ms, long settle_ms, int wait_start, watch_fn fn, void *ctx,
    char err[ERR_MAX])
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
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
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
	/* The first scan runs on the thread, after the watches exist: a
	 * change made in between is then either in the scan or reported as
	 * an event. */
	if ((e = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
		snprintf(err, ERR_MAX, "cannot start the watcher: %s",
		    strerror(e));
		goto fail;
	}
	w->started = 1;
	pthread_mutex_lock(&w->lock);
	while (wait_start && !w->first_done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
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
	watch_names_clear(w);
	free(w->names);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
