/* check_watch.c: the watcher's hash of a directory (what counts, what does
 * not, order independence) and its thread (polling only, inotify, a
 * directory that appears late). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "fixture.h"
#include "hash.h"
#include "testutil.h"
#include "watch.h"

static char *
xpath(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static void
put(const char *dir, const char *name, const char *s)
{
	char *p = xpath(dir, name);

	tu_spit(p, s);
	free(p);
}

/* Writes name the way flowmon's store does: temp file, then rename. */
static void
put_atomic(const char *dir, const char *name, const char *s)
{
	char *tmp, *p = xpath(dir, name);

	if (asprintf(&tmp, "%s/.%s.tmp.%d.1", dir, name, (int)getpid()) < 0)
		abort();
	tu_spit(tmp, s);
	ck_assert_int_eq(rename(tmp, p), 0);
	free(tmp);
	free(p);
}

static uint64_t
dir_hash(const char *dir, const char *ext, size_t *n)
{
	struct watch_snap s;
	char err[ERR_MAX];
	uint64_t h;

	memset(&s, 0, sizeof(s));
	ck_assert_msg(watch_snap_take(dir, ext, 0, &s, err) == 0, "%s", err);
	h = s.hash;
	if (n != NULL)
		*n = s.n;
	watch_snap_release(&s);
	return h;
}

/* A snapshot built from (name, contents) pairs, in the order given. */
static uint64_t
pairs_hash(const char *const *pairs, size_t n)
{
	struct watch_snap s;
	uint64_t h;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(watch_snap_add(&s, pairs[2 * i],
		    pairs[2 * i + 1], strlen(pairs[2 * i + 1]), 0, 0, 0), 0);
	watch_snap_finish(&s);
	h = s.hash;
	watch_snap_release(&s);
	return h;
}

START_TEST(names_temp_and_ext)
{
	/* The store's temp-name rule, which the watcher ignores. */
	ck_assert_int_eq(store_temp_name(".a.yml.tmp.12.3", NULL), 1);
	ck_assert_int_eq(store_temp_name(".a.json.tmp.1.1", NULL), 1);
	ck_assert_int_eq(store_temp_name("a.yml", NULL), 0);
	ck_assert_int_eq(store_temp_name(".a.yml", NULL), 0);
	ck_assert_int_eq(store_temp_name("a.tmp.yml", NULL), 0);

	ck_assert_int_eq(watch_name_matches("a.yml", ".yml"), 1);
	/* Go's glob: '*' matches a leading dot and the empty string. */
	ck_assert_int_eq(watch_name_matches(".a.yml", ".yml"), 1);
	ck_assert_int_eq(watch_name_matches(".yml", ".yml"), 1);
	ck_assert_int_eq(watch_name_matches("a.yaml", ".yml"), 0);
	ck_assert_int_eq(watch_name_matches("a.yml~", ".yml"), 0);
	ck_assert_int_eq(watch_name_matches("a.yml.swp", ".yml"), 0);
	ck_assert_int_eq(watch_name_matches(".a.yml.tmp.1.2", ".yml"), 0);
	ck_assert_int_eq(watch_name_matches(".a.yml.tmp.1.2", NULL), 0);
	ck_assert_int_eq(watch_name_matches("README", NULL), 1);
	ck_assert_int_eq(watch_name_matches(".", NULL), 0);
	ck_assert_int_eq(watch_name_matches("..", NULL), 0);
}
END_TEST

START_TEST(hash_of_pairs)
{
	const char *ab[] = { "a.yml", "A", "b.yml", "B" };
	const char *ba[] = { "b.yml", "B", "a.yml", "A" };
	const char *swapped[] = { "a.yml", "B", "b.yml", "A" };
	const char *renamed[] = { "a.yml", "A", "c.yml", "B" };
	const char *edited[] = { "a.yml", "A", "b.yml", "C" };
	const char *more[] = { "a.yml", "A", "b.yml", "B", "c.yml", "" };
	const char *split1[] = { "ab", "c" };
	const char *split2[] = { "a", "bc" };
	uint64_t h = pairs_hash(ab, 2);

	/* readdir order does not matter. */
	ck_assert_uint_eq(h, pairs_hash(ba, 2));
	ck_assert_uint_eq(h, pairs_hash(ab, 2));
	/* Every real change does. */
	ck_assert_uint_ne(h, pairs_hash(swapped, 2));
	ck_assert_uint_ne(h, pairs_hash(renamed, 2));
	ck_assert_uint_ne(h, pairs_hash(edited, 2));
	ck_assert_uint_ne(h, pairs_hash(more, 3));
	ck_assert_uint_ne(h, pairs_hash(ab, 1));
	ck_assert_uint_ne(h, pairs_hash(ab, 0));
	ck_assert_uint_ne(pairs_hash(split1, 1), pairs_hash(split2, 1));
	/* An empty file is a file. */
	ck_assert_uint_ne(pairs_hash(more, 2), pairs_hash(more, 3));
	ck_assert_uint_ne(hash_content("", 0),
	    hash_content("\0", 1));
}
END_TEST

START_TEST(hash_of_unreadable_file)
{
	struct watch_snap s;
	uint64_t ok, bad;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(watch_snap_add(&s, "a.yml", "", 0, 0, 0, 0), 0);
	watch_snap_finish(&s);
	ok = s.hash;
	watch_snap_release(&s);
	ck_assert_int_eq(watch_snap_add(&s, "a.yml", NULL, 0, 0, EACCES, 0),
	    0);
	watch_snap_finish(&s);
	bad = s.hash;
	ck_assert_int_eq(s.v[0].error, EACCES);
	watch_snap_release(&s);
	ck_assert_uint_ne(ok, bad);
}
END_TEST

START_TEST(snap_of_directory)
{
	char *dir = tu_tmpdir(), *p, err[ERR_MAX];
	struct watch_snap s;
	const struct watch_file *f;
	uint64_t h0, h1, h2;
	size_t n;

	put(dir, "b.yml", "groups: []\n");
	put(dir, "a.yml", "x\n");
	put(dir, "c.json", "[]");
	put(dir, "a.yml~", "backup");
	put(dir, ".a.yml.tmp.1.1", "half");
	p = xpath(dir, "d.yml");
	ck_assert_int_eq(mkdir(p, 0755), 0);	/* a directory: not a file */
	free(p);
	p = xpath(dir, "e.yml");
	ck_assert_int_eq(symlink("a.yml", p), 0);	/* followed */
	free(p);

	memset(&s, 0, sizeof(s));
	ck_assert_msg(watch_snap_take(dir, ".yml", 1, &s, err) == 0, "%s",
	    err);
	ck_assert_int_eq(s.missing, 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.v[0].name, "a.yml");
	ck_assert_str_eq(s.v[1].name, "b.yml");
	ck_assert_str_eq(s.v[2].name, "e.yml");
	ck_assert_str_eq(s.v[1].data, "groups: []\n");
	ck_assert_uint_eq(s.v[1].size, 11);
	ck_assert_uint_eq(s.v[2].hash, s.v[0].hash);
	f = watch_snap_find(&s, "b.yml");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->name, "b.yml");
	ck_assert_ptr_null(watch_snap_find(&s, "c.json"));
	h0 = s.hash;
	watch_snap_release(&s);

	/* ext NULL: every file but temp files. */
	ck_assert_msg(watch_snap_take(dir, NULL, 0, &s, err) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_ptr_null(s.v[0].data);
	watch_snap_release(&s);

	/* Temp files, other extensions, a touch: no change. */
	put(dir, ".b.yml.tmp.9.9", "whatever");
	put(dir, "c.json", "[{}]");
	p = xpath(dir, "a.yml");
	ck_assert_int_eq(utimensat(AT_FDCWD, p, NULL, 0), 0);
	free(p);
	ck_assert_uint_eq(dir_hash(dir, ".yml", &n), h0);
	ck_assert_uint_eq(n, 3);

	/* The same bytes rewritten atomically: no change. */
	put_atomic(dir, "b.yml", "groups: []\n");
	ck_assert_uint_eq(dir_hash(dir, ".yml", NULL), h0);

	/* One byte: change; and back: the first hash again. */
	put_atomic(dir, "b.yml", "groups: [ ]\n");
	h1 = dir_hash(dir, ".yml", NULL);
	ck_assert_uint_ne(h1, h0);
	put_atomic(dir, "b.yml", "groups: []\n");
	ck_assert_uint_eq(dir_hash(dir, ".yml", NULL), h0);

	/* A rename with the same contents: change. */
	p = xpath(dir, "b.yml");
	{
		char *q = xpath(dir, "bb.yml");

		ck_assert_int_eq(rename(p, q), 0);
		h2 = dir_hash(dir, ".yml", NULL);
		ck_assert_uint_ne(h2, h0);
		ck_assert_int_eq(rename(q, p), 0);
		free(q);
	}
	ck_assert_uint_eq(dir_hash(dir, ".yml", NULL), h0);
	/* A removal: change. */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_uint_ne(dir_hash(dir, ".yml", NULL), h0);
	free(p);

	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(snap_of_missing_directory)
{
	char *dir = tu_tmpdir(), *p, err[ERR_MAX];
	struct watch_snap s, e;

	p = xpath(dir, "rules");
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(watch_snap_take(p, ".yml", 0, &s, err), 0);
	ck_assert_int_eq(s.missing, 1);
	ck_assert_uint_eq(s.n, 0);
	/* Missing and empty hash alike: no reload when rules/ appears. */
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(watch_snap_take(p, ".yml", 0, &e, err), 0);
	ck_assert_int_eq(e.missing, 0);
	ck_assert_uint_eq(s.hash, e.hash);
	watch_snap_release(&s);
	watch_snap_release(&e);
	/* Not a directory: an error, not an empty set. */
	put(dir, "file", "x");
	free(p);
	p = xpath(dir, "file");
	ck_assert_int_eq(watch_snap_take(p, ".yml", 0, &s, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read directory"));
	free(p);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Every read is the store's, bounded by WATCH_FILE_MAX: a larger file is
 * listed with EFBIG, not read. */
START_TEST(snap_file_limits)
{
	char *dir = tu_tmpdir(), *p, err[ERR_MAX];
	struct watch_snap s;

	put(dir, "a.yml", "abc");
	p = xpath(dir, "big.yml");
	tu_spit(p, "");
	ck_assert_int_eq(truncate(p, (off_t)WATCH_FILE_MAX + 1), 0);
	free(p);
	memset(&s, 0, sizeof(s));
	ck_assert_msg(watch_snap_take(dir, ".yml", 1, &s, err) == 0, "%s",
	    err);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.v[0].name, "a.yml");
	ck_assert_int_eq(s.v[0].error, 0);
	ck_assert_str_eq(s.v[0].data, "abc");
	ck_assert_str_eq(s.v[1].name, "big.yml");
	ck_assert_int_eq(s.v[1].error, EFBIG);
	ck_assert_ptr_null(s.v[1].data);
	watch_snap_release(&s);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A kind dir of a store: the same snapshot, read through the store. */
START_TEST(snap_of_store_kind)
{
	char *dir = tu_tmpdir(), *p, err[ERR_MAX];
	struct watch_snap s, t;
	struct store st;

	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	ck_assert_int_eq(store_write(&st, STORE_RULES, "a", "x\n", 2, err),
	    0);
	p = xpath(dir, "rules");
	put(p, ".hidden.yml", "y\n");		/* Prometheus reads it */
	put(p, ".a.yml.tmp.1.1", "half");	/* a temp file: not listed */
	put(p, "notes.txt", "z");		/* listed with ext NULL */
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	ck_assert_msg(watch_snap_take_store(&st, STORE_RULES, NULL, 1, &s,
	    err) == 0, "%s", err);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.v[0].name, ".hidden.yml");
	ck_assert_str_eq(s.v[0].data, "y\n");
	ck_assert_str_eq(s.v[1].name, "a.yml");
	ck_assert_str_eq(s.v[2].name, "notes.txt");
	/* The same files as the snapshot of the path. */
	ck_assert_int_eq(watch_snap_take(p, NULL, 0, &t, err), 0);
	ck_assert_uint_eq(s.hash, t.hash);
	watch_snap_release(&s);
	watch_snap_release(&t);
	store_release(&st);
	free(p);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* The thread: a callback that rescans and counts hash changes. */
struct seen {
	pthread_mutex_t	 lock;
	char		*dir;
	uint64_t	 hash;
	int		 changes;
	int		 calls[WATCH_SETTLE + 1];
	enum watch_why	 last_why;
	int64_t		 hold_ms;	/* keep settling this long after one */
	int64_t		 last_change;
	/* The names of the latest scan that had some ("a.yml b.yml"),
	 * and how many scans looked at everything. */
	char		 names[256];
	int		 wholes;
};


static int
seen_scan(void *arg, enum watch_why why, const struct watch_name *names,
    size_t nnames)
{
	struct seen *s = arg;
	char err[ERR_MAX];
	struct watch_snap sn;
	size_t i;
	int changed = 0;

	memset(&sn, 0, sizeof(sn));
	if (watch_snap_take(s->dir, ".yml", 0, &sn, err) == -1)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->calls[why]++;
	if (names == NULL)
		s->wholes++;
	/* Every name any burst gave, once, in the order first seen. */
	for (i = 0; i < nnames; i++) {
		char word[64];

		ck_assert_uint_eq(names[i].dir, 0);
		if (i > 0)
			ck_assert_int_lt(strcmp(names[i - 1].name,
			    names[i].name), 0);	/* sorted, each once */
		snprintf(word, sizeof(word), " %s ", names[i].name);
		if (strstr(s->names, word) == NULL)
			snprintf(s->names + strlen(s->names), sizeof(s->names) -
			    strlen(s->names), "%s%s ", s->names[0] ? "" : " ",
			    names[i].name);
	}
	if (why != WATCH_START && sn.hash != s->hash) {
		s->changes++;
		s->last_why = why;
		s->last_change = clock_ms();
		changed = 1;
	}
	/* As the reloader does: follow closely until a quiet time passed. */
	if (s->last_change != 0 && clock_ms() - s->last_change < s->hold_ms)
		changed = 1;
	s->hash = sn.hash;
	pthread_mutex_unlock(&s->lock);
	watch_snap_release(&sn);
	return changed;
}

static int
seen_changes(struct seen *s, enum watch_why *why)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->changes;
	if (why != NULL)
		*why = s->last_why;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Waits up to ms for s to count want changes; the time it took, or -1. */
static int64_t
wait_changes(struct seen *s, int want, int64_t ms)
{
	int64_t start = clock_ms();

	while (clock_ms() - start < ms) {
		if (seen_changes(s, NULL) >= want)
			return clock_ms() - start;
		usleep(10000);
	}
	return -1;
}

static int
seen_named(struct seen *s, const char *word)
{
	int found;

	pthread_mutex_lock(&s->lock);
	found = strstr(s->names, word) != NULL;
	pthread_mutex_unlock(&s->lock);
	return found;
}

static int
seen_calls(struct seen *s, enum watch_why why)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->calls[why];
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void
seen_init(struct seen *s, const char *dir)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->dir = (char *)dir;
}

START_TEST(thread_polling_only)
{
	char *dir = tu_tmpdir(), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;
	enum watch_why why;
	int64_t took;

	seen_init(&s, dir);
	put(dir, "a.yml", "1");
	w = watch_start(dirs, 1, 0, 300, 100, 1, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(s.calls[WATCH_START], 1);	/* before it returned */
	ck_assert_int_eq(watch_inotify_active(w), 0);

	put_atomic(dir, "a.yml", "2");
	took = wait_changes(&s, 1, 3000);
	ck_assert_msg(took >= 0, "the change was not seen by polling");
	ck_assert_int_eq(seen_changes(&s, &why), 1);
	ck_assert_int_eq(why, WATCH_POLL);
	/* A temp file alone is no change. */
	put(dir, ".a.yml.tmp.5.5", "3");
	ck_assert_int_eq(wait_changes(&s, 2, 800), -1);
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(thread_inotify)
{
	char *dir = tu_tmpdir(), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;
	enum watch_why why;
	int64_t took;

	seen_init(&s, dir);
	/* A poll interval far beyond the test: only inotify can see it. */
	w = watch_start(dirs, 1, 1, 60000, 100, 1, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(watch_inotify_active(w), 1);
	put_atomic(dir, "a.yml", "1");
	/* Any report before the 60 s poll is inotify's. */
	took = wait_changes(&s, 1, 10000);
	ck_assert_msg(took >= 0 && took < 10000, "inotify did not report the "
	    "change soon (%lld ms)", (long long)took);
	ck_assert_int_eq(seen_changes(&s, &why), 1);
	ck_assert_int_eq(why, WATCH_EVENT);
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* An event burst names its files (temp files never), so the callback
 * looks at those only; the start scan looks at everything. */
START_TEST(thread_inotify_names)
{
	char *dir = tu_tmpdir(), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;

	seen_init(&s, dir);
	w = watch_start(dirs, 1, 1, 60000, 100, 1, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(watch_inotify_active(w), 1);
	pthread_mutex_lock(&s.lock);
	ck_assert_int_eq(s.wholes, 1);		/* the start scan */
	pthread_mutex_unlock(&s.lock);
	put_atomic(dir, "b.yml", "1");
	put_atomic(dir, "a.yml", "1");
	put_atomic(dir, "a.yml", "2");
	ck_assert_int_ge(wait_changes(&s, 1, 10000), 0);
	FX_WAIT(seen_named(&s, " a.yml ") && seen_named(&s, " b.yml "), 10000,
	    "the bursts did not name a.yml and b.yml: %s", s.names);
	pthread_mutex_lock(&s.lock);
	/* put_atomic's temp files were never named. */
	ck_assert_msg(strstr(s.names, "tmp") == NULL, "%s", s.names);
	ck_assert_int_ge(s.calls[WATCH_EVENT], 1);
	pthread_mutex_unlock(&s.lock);
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Without wait_start, watch_start returns at once; the start scan runs
 * on the thread all the same. */
START_TEST(thread_start_in_background)
{
	char *dir = tu_tmpdir(), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;

	seen_init(&s, dir);
	w = watch_start(dirs, 1, 1, 60000, 100, 0, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	FX_WAIT(seen_calls(&s, WATCH_START) == 1, 10000,
	    "the start scan did not run");
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A file's identity: another inode or size is another identity; an equal
 * one is trusted only when its change time is well before it was taken
 * (two writes in one tick of the clock look alike). */
START_TEST(file_identity)
{
	char *dir = tu_tmpdir(), *p;
	struct stat a, b;
	uint64_t ia, ib;
	int64_t ct;

	put(dir, "a.yml", "one");
	p = xpath(dir, "a.yml");
	ck_assert_int_eq(stat(p, &a), 0);
	ia = watch_id(&a);
	ck_assert_uint_ne(ia, 0);
	ck_assert_uint_eq(watch_id(&a), ia);
	put_atomic(dir, "a.yml", "one");	/* same bytes, new inode */
	ck_assert_int_eq(stat(p, &b), 0);
	ck_assert_uint_ne(watch_id(&b), ia);
	ck_assert_int_eq(truncate(p, 1), 0);	/* in place, new size */
	ck_assert_int_eq(stat(p, &a), 0);
	ib = watch_id(&b);
	ck_assert_uint_ne(watch_id(&a), ib);
	ct = watch_ctime_ms(&a);
	ck_assert_int_eq(ct, (int64_t)a.st_ctim.tv_sec * 1000 +
	    a.st_ctim.tv_nsec / 1000000);
	/* Trusted: same identity, changed long before it was taken. */
	ck_assert_int_eq(watch_id_trusted(ia, ct, ct + WATCH_RACY_MS, ia), 1);
	/* Racy: taken within the window of the change, or before it (a
	 * clock behind the file system's). */
	ck_assert_int_eq(watch_id_trusted(ia, ct, ct + WATCH_RACY_MS - 1, ia),
	    0);
	ck_assert_int_eq(watch_id_trusted(ia, ct, ct - 5000, ia), 0);
	/* Another identity, or none. */
	ck_assert_int_eq(watch_id_trusted(ia, ct, ct + 60000, ib), 0);
	ck_assert_int_eq(watch_id_trusted(0, ct, ct + 60000, 0), 0);
	free(p);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(thread_burst_is_followed)
{
	char *dir = tu_tmpdir(), err[ERR_MAX], body[32];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;
	int i, calls;

	seen_init(&s, dir);
	s.hold_ms = 400;
	/* Polling every 2 s, settling every 100 ms: while a burst lasts
	 * the scans come every 100 ms, not every 2 s. */
	w = watch_start(dirs, 1, 0, 2000, 100, 1, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	/* The start scan ran before watch_start returned, and saw no
	 * change: every change counted below is one of the writes. */
	pthread_mutex_lock(&s.lock);
	ck_assert_int_eq(s.calls[WATCH_START], 1);
	pthread_mutex_unlock(&s.lock);
	ck_assert_int_eq(seen_changes(&s, NULL), 0);
	put_atomic(dir, "a.yml", "start");
	ck_assert_int_ge(wait_changes(&s, 1, 4000), 0);
	for (i = 0; i < 10; i++) {
		snprintf(body, sizeof(body), "%d", i);
		put_atomic(dir, "a.yml", body);
		usleep(150000);
	}
	pthread_mutex_lock(&s.lock);
	calls = s.calls[WATCH_SETTLE];
	pthread_mutex_unlock(&s.lock);
	/* 1.5 s of changes: polling alone would have looked once. */
	ck_assert_int_ge(calls, 10);
	ck_assert_int_ge(seen_changes(&s, NULL), 8);
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(thread_directory_appears_later)
{
	char *base = tu_tmpdir(), *dir = xpath(base, "rules"), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;

	seen_init(&s, dir);
	w = watch_start(dirs, 1, 1, 200, 100, 1, seen_scan, &s, err);
	ck_assert_msg(w != NULL, "%s", err);
	ck_assert_int_eq(watch_inotify_active(w), 0);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	put_atomic(dir, "a.yml", "1");
	ck_assert_int_ge(wait_changes(&s, 1, 3000), 0);
	/* The next poll adds the watch. */
	{
		int64_t start = clock_ms();

		while (!watch_inotify_active(w) && clock_ms() - start < 3000)
			usleep(10000);
	}
	ck_assert_int_eq(watch_inotify_active(w), 1);
	watch_stop(w);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(base);
	free(dir);
	free(base);
}
END_TEST

START_TEST(stop_null_and_quick)
{
	char *dir = tu_tmpdir(), err[ERR_MAX];
	const char *dirs[1] = { dir };
	struct seen s;
	struct watch *w;
	int64_t start;

	watch_stop(NULL);
	seen_init(&s, dir);
	w = watch_start(dirs, 1, 1, 60000, 100, 1, seen_scan, &s, err);
	ck_assert_ptr_nonnull(w);
	start = clock_ms();
	watch_stop(w);
	ck_assert_int_lt(clock_ms() - start, 1000);
	pthread_mutex_destroy(&s.lock);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *
watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc;

	tc = tcase_create("hash");
	tcase_add_test(tc, names_temp_and_ext);
	tcase_add_test(tc, hash_of_pairs);
	tcase_add_test(tc, hash_of_unreadable_file);
	tcase_add_test(tc, snap_of_directory);
	tcase_add_test(tc, snap_of_missing_directory);
	tcase_add_test(tc, snap_file_limits);
	tcase_add_test(tc, snap_of_store_kind);
	tcase_add_test(tc, file_identity);
	suite_add_tcase(s, tc);

	tc = tcase_create("thread");
	tcase_add_test(tc, thread_polling_only);
	tcase_add_test(tc, thread_inotify);
	tcase_add_test(tc, thread_inotify_names);
	tcase_add_test(tc, thread_start_in_background);
	tcase_add_test(tc, thread_burst_is_followed);
	tcase_add_test(tc, thread_directory_appears_later);
	tcase_add_test(tc, stop_null_and_quick);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(watch_suite());
}
