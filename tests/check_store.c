/* check_store.c: the store on a real temp dir: what ends up on disk after
 * writes, removes, failed writes and concurrent writers; the
 * bounded reader and atomic writer of files outside the data dir, the
 * temp-name rule, the hashes, listings and the read-only store. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "store.h"
#include "testutil.h"

/*
 * Helpers.
 */

static char *
xpath(const char *dir, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	return p;
}

/* A fresh data dir, opened. */
static char *
open_fresh(struct store *st)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir();

	ck_assert_msg(store_open(st, dir, err) == 0, "store_open: %s", err);
	return dir;
}

/* Entries of path other than "." and "..", or -1 if it cannot be read;
 * with only_tmp, just temp files: a leading dot and ".tmp." inside. */
static int
count_entries(const char *path, int only_tmp)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (only_tmp && (de->d_name[0] != '.' ||
		    strstr(de->d_name, ".tmp.") == NULL))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* Temp files left in any kind dir of a data dir. */
static int
count_tmp(const char *dir)
{
	char *p;
	int k, n, total = 0;

	for (k = 0; k < STORE_NKINDS; k++) {
		p = xpath(dir, store_dirname(k));
		n = count_entries(p, 1);
		ck_assert_int_ge(n, 0);
		total += n;
		free(p);
	}
	return total;
}

/* Whole file by path, with its length (binary-safe); NULL if unreadable. */
static char *
slurp_len(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Asserts that <dir>/<rel> holds exactly s. */
static void
assert_file(const char *dir, const char *rel, const char *s)
{
	char *p = xpath(dir, rel), *got;
	size_t len;

	got = slurp_len(p, &len);
	ck_assert_msg(got != NULL, "%s is missing", rel);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_str_eq(got, s);
	free(got);
	free(p);
}

static int
exists(const char *dir, const char *rel)
{
	char *p = xpath(dir, rel);
	int rc = tu_exists(p);

	free(p);
	return rc;
}

static void
put(struct store *st, enum store_kind kind, const char *name, const char *s)
{
	char err[ERR_MAX] = "";

	ck_assert_msg(store_write(st, kind, name, s, strlen(s), err) == 0,
	    "store_write %s: %s", name, err);
}

/*
 * Opening.
 */

START_TEST(open_creates_layout)
{
	struct store st;
	struct stat sb;
	char err[ERR_MAX] = "", *top = tu_tmpdir(), *dir, *p;
	int k;

	/* mkdir -p: three missing levels above the data dir. */
	dir = xpath(top, "a/b/data");
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	ck_assert_str_eq(st.dir, dir);
	for (k = 0; k < STORE_NKINDS; k++) {
		p = xpath(dir, store_dirname(k));
		ck_assert_int_eq(stat(p, &sb), 0);
		ck_assert(S_ISDIR(sb.st_mode));
		ck_assert_int_ge(st.dirfd[k], 0);
		ck_assert_int_eq(count_entries(p, 0), 0);
		free(p);
	}
	ck_assert_int_eq(count_entries(dir, 0), STORE_NKINDS);
	store_release(&st);
	ck_assert_ptr_null(st.dir);
	for (k = 0; k < STORE_NKINDS; k++)
		ck_assert_int_eq(st.dirfd[k], -1);
	store_release(&st);

	/* Opening an existing data dir again keeps its files. */
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	put(&st, STORE_TARGETS, "keep", "[]");
	store_release(&st);
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	assert_file(dir, "targets/keep.json", "[]");
	store_release(&st);

	tu_rmrf(top);
	free(dir);
	free(top);
}
END_TEST

START_TEST(open_fails_on_file)
{
	struct store st;
	char err[ERR_MAX] = "", *top = tu_tmpdir(), *file, *dir;
	int k;

	file = xpath(top, "plain");
	tu_spit(file, "x");
	dir = xpath(top, "plain/data");
	errno = 0;
	ck_assert_int_eq(store_open(&st, dir, err), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_msg(strstr(err, dir) != NULL, "err: %s", err);
	ck_assert_ptr_null(st.dir);
	for (k = 0; k < STORE_NKINDS; k++)
		ck_assert_int_eq(st.dirfd[k], -1);

	/* A file where a kind dir belongs. */
	free(dir);
	free(file);
	dir = xpath(top, "d");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	file = xpath(top, "d/rules");
	tu_spit(file, "x");
	ck_assert_int_eq(store_open(&st, dir, err), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_msg(strstr(err, "rules") != NULL, "err: %s", err);

	tu_rmrf(top);
	free(file);
	free(dir);
	free(top);
}
END_TEST

START_TEST(open_removes_stale_temps)
{
	static const char *const stale[] = {
		"targets/.foo.json.tmp.123.4",
		"rules/.foo.yml.tmp.1.1",
		"state/.foo.json.tmp.99999.18446744073709551615",
		"nodes/.n1.json.tmp.7.0",
		"rejected/.foo.yml.tmp.5.5",
	};
	static const char *const kept[] = {
		"targets/foo.json",
		"rules/foo.yml",
		"state/.keep",
		"nodes/n1.tmp.json",
	};
	struct store st;
	char err[ERR_MAX] = "", *dir, *p, *logpath, *log;
	size_t i;
	int fd, saved;

	dir = open_fresh(&st);
	store_release(&st);
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		p = xpath(dir, stale[i]);
		tu_spit(p, "partial");
		free(p);
	}
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		p = xpath(dir, kept[i]);
		tu_spit(p, kept[i]);
		free(p);
	}

	/* Capture the log lines the sweep writes to stderr. */
	logpath = xpath(dir, "log");
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	ck_assert_int_eq(store_open(&st, dir, err), 0);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	close(fd);

	log = tu_slurp(logpath);
	ck_assert_ptr_nonnull(log);
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		ck_assert_msg(!exists(dir, stale[i]), "%s survived",
		    stale[i]);
		p = xpath(dir, stale[i]);
		ck_assert_msg(strstr(log, p) != NULL, "no log of %s in: %s",
		    p, log);
		free(p);
	}
	ck_assert_msg(strstr(log, "removed stale temp file") != NULL, "%s",
	    log);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_file(dir, kept[i], kept[i]);
	ck_assert_int_eq(count_tmp(dir), 0);

	store_release(&st);
	tu_rmrf(dir);
	free(log);
	free(logpath);
	free(dir);
}
END_TEST

START_TEST(path_ext_dirname)
{
	struct store st;
	char buf[4096], small[8], *dir, *want;

	dir = open_fresh(&st);
	store_path(&st, STORE_TARGETS, "web", buf, sizeof(buf));
	want = xpath(dir, "targets/web.json");
	ck_assert_str_eq(buf, want);
	free(want);
	store_path(&st, STORE_REJECTED, "web", buf, sizeof(buf));
	want = xpath(dir, "rejected/web.yml");
	ck_assert_str_eq(buf, want);
	free(want);
	/* Truncated, but always terminated. */
	store_path(&st, STORE_TARGETS, "web", small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);

	ck_assert_str_eq(store_ext(STORE_TARGETS), ".json");
	ck_assert_str_eq(store_ext(STORE_RULES), ".yml");
	ck_assert_str_eq(store_ext(STORE_STATE), ".json");
	ck_assert_str_eq(store_ext(STORE_NODES), ".json");
	ck_assert_str_eq(store_ext(STORE_REJECTED), ".yml");
	ck_assert_str_eq(store_dirname(STORE_TARGETS), "targets");
	ck_assert_str_eq(store_dirname(STORE_RULES), "rules");
	ck_assert_str_eq(store_dirname(STORE_STATE), "state");
	ck_assert_str_eq(store_dirname(STORE_NODES), "nodes");
	ck_assert_str_eq(store_dirname(STORE_REJECTED), "rejected");

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Writing and reading.
 */

START_TEST(write_read_roundtrip)
{
	static const char data[] = "[{\"targets\":[\"a:1\"]}]\n\0\x01\xff tail";
	struct store st;
	struct stat sb;
	char err[ERR_MAX] = "", *dir, *buf, *p, *raw;
	size_t len, rawlen;

	umask(022);
	dir = open_fresh(&st);
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, "svc", data,
	    sizeof(data) - 1, err), 0);

	p = xpath(dir, "targets/svc.json");
	raw = slurp_len(p, &rawlen);
	ck_assert_ptr_nonnull(raw);
	ck_assert_uint_eq(rawlen, sizeof(data) - 1);
	ck_assert_int_eq(memcmp(raw, data, rawlen), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0644);

	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "svc", 1 << 20, &buf,
	    &len, err), 0);
	ck_assert_uint_eq(len, sizeof(data) - 1);
	ck_assert_int_eq(memcmp(buf, data, len), 0);
	ck_assert_int_eq(buf[len], '\0');
	free(buf);

	/* Each kind lands in its own dir with its own extension. */
	put(&st, STORE_RULES, "svc", "groups: []\n");
	put(&st, STORE_STATE, "svc", "{}");
	put(&st, STORE_NODES, "node-1", "{\"id\":\"node-1\"}");
	put(&st, STORE_REJECTED, "svc", "bad");
	assert_file(dir, "rules/svc.yml", "groups: []\n");
	assert_file(dir, "state/svc.json", "{}");
	assert_file(dir, "nodes/node-1.json", "{\"id\":\"node-1\"}");
	assert_file(dir, "rejected/svc.yml", "bad");
	ck_assert_int_eq(count_tmp(dir), 0);

	store_release(&st);
	tu_rmrf(dir);
	free(raw);
	free(p);
	free(dir);
}
END_TEST

START_TEST(write_overwrite)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *big, *buf;
	size_t len;

	dir = open_fresh(&st);
	big = malloc(100000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	put(&st, STORE_TARGETS, "svc", big);
	assert_file(dir, "targets/svc.json", big);
	/* Shorter content: nothing of the old file may remain. */
	put(&st, STORE_TARGETS, "svc", "new");
	assert_file(dir, "targets/svc.json", "new");
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "svc", 100, &buf, &len,
	    err), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(buf, "new");
	free(buf);

	/* Empty content is a valid, empty file. */
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, "svc", "", 0, err), 0);
	assert_file(dir, "targets/svc.json", "");
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "svc", 100, &buf, &len,
	    err), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);

	ck_assert_int_eq(count_entries(st.dir, 0), STORE_NKINDS);
	ck_assert_int_eq(count_tmp(dir), 0);
	store_release(&st);
	tu_rmrf(dir);
	free(big);
	free(dir);
}
END_TEST

START_TEST(write_many_no_temp_left)
{
	struct store st;
	char name[32], body[64], *dir, *p;
	int i, k;

	dir = open_fresh(&st);
	for (i = 0; i < 50; i++) {
		for (k = 0; k < STORE_NKINDS; k++) {
			snprintf(name, sizeof(name), "svc%d", i % 7);
			snprintf(body, sizeof(body), "%d/%d", i, k);
			put(&st, k, name, body);
		}
	}
	ck_assert_int_eq(count_tmp(dir), 0);
	for (k = 0; k < STORE_NKINDS; k++) {
		p = xpath(dir, store_dirname(k));
		ck_assert_int_eq(count_entries(p, 0), 7);
		free(p);
	}
	assert_file(dir, "rules/svc0.yml", "49/1");
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(read_missing_and_too_big)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *buf = (char *)"sentinel";
	size_t len = 99;

	dir = open_fresh(&st);
	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "nope", 100, &buf,
	    &len, err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err, "targets/nope.json") != NULL, "%s", err);

	put(&st, STORE_STATE, "s", "0123456789");
	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_STATE, "s", 9, &buf, &len, err),
	    -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err, "state/s.json") != NULL, "%s", err);
	ck_assert_int_eq(store_read(&st, STORE_STATE, "s", 10, &buf, &len,
	    err), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Refused names.
 */

static const char *const bad_names[] = {
	"../x", "a/b", ".hidden", "", "..", ".", "/abs", "x/",
};

START_TEST(refused_names)
{
	const char *name = bad_names[_i];
	struct store st;
	char err[ERR_MAX], *dir, *p, *buf = NULL;
	size_t len;
	int k;

	dir = open_fresh(&st);
	put(&st, STORE_RULES, "x", "keep");

	err[0] = '\0';
	errno = 0;
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, name, "[]", 2, err),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, "targets") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, name) != NULL, "err: %s", err);

	err[0] = '\0';
	errno = 0;
	ck_assert_int_eq(store_remove(&st, STORE_RULES, name, err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_ne(err, "");

	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_RULES, name, 100, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(buf);


	/* Nothing was created anywhere, nothing was removed. */
	ck_assert_int_eq(count_entries(dir, 0), STORE_NKINDS);
	ck_assert(!exists(dir, "x.json"));
	for (k = 0; k < STORE_NKINDS; k++) {
		p = xpath(dir, store_dirname(k));
		ck_assert_int_eq(count_entries(p, 0), k == STORE_RULES);
		free(p);
	}
	assert_file(dir, "rules/x.yml", "keep");

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(refused_null_and_long_names)
{
	struct store st;
	char err[ERR_MAX] = "", name[256], other[256], base[214], *dir, *p;
	char *buf;
	size_t len;

	dir = open_fresh(&st);
	errno = 0;
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, NULL, "", 0, err), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* A 255-byte service name (the longest valid one) is stored under a
	 * shortened base name; one differing only at its end gets another. */
	memset(name, 'a', 255);
	name[255] = '\0';
	memcpy(other, name, sizeof(other));
	other[254] = 'b';
	put(&st, STORE_TARGETS, name, "one");
	put(&st, STORE_TARGETS, other, "two");
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, name, 1024, &buf, &len,
	    err), 0);
	ck_assert_str_eq(buf, "one");
	free(buf);
	store_base(name, base);
	ck_assert_uint_eq(strlen(base), 213);
	ck_assert_ptr_nonnull(strchr(base, '~'));
	store_base(base, other);
	ck_assert_str_eq(other, base);		/* idempotent */
	ck_assert_int_eq(count_tmp(dir), 0);
	p = xpath(dir, "targets");
	ck_assert_int_eq(count_entries(p, 0), 2);
	free(p);

	/* Up to 213 bytes a name is its own base. */
	name[213] = '\0';
	store_base(name, base);
	ck_assert_str_eq(base, name);
	put(&st, STORE_RULES, name, "ok");

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Remove and move.
 */

START_TEST(remove_missing_and_existing)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *buf;
	size_t len;

	dir = open_fresh(&st);
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "ghost", err), 0);

	put(&st, STORE_TARGETS, "svc", "[]");
	put(&st, STORE_TARGETS, "other", "[1]");
	ck_assert(exists(dir, "targets/svc.json"));
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "svc", err), 0);
	ck_assert(!exists(dir, "targets/svc.json"));
	assert_file(dir, "targets/other.json", "[1]");
	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "svc", 100, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Again: already gone is still success. */
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "svc", err), 0);

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Scan.
 */

struct names {
	char	 v[16][64];
	int	 n;
	int	 stop_at;	/* return 7 at this call, 0: never */
};

static int
collect(const char *name, void *ctx)
{
	struct names *ns = ctx;

	ck_assert_int_lt(ns->n, 16);
	snprintf(ns->v[ns->n], sizeof(ns->v[0]), "%s", name);
	ns->n++;
	return ns->n == ns->stop_at ? 7 : 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(scan_lists_exact_names)
{
	static const char *const junk[] = {
		"targets/.b.json.tmp.1.2",	/* temp file */
		"targets/.hidden.json",		/* dot file */
		"targets/c.yml",		/* other extension */
		"targets/d.json.bak",		/* suffix after the ext */
		"targets/.json",		/* ext only */
		"rules/e.yml",			/* other kind */
	};
	struct store st;
	struct names ns;
	char err[ERR_MAX] = "", *dir, *p;
	size_t i;

	dir = open_fresh(&st);
	memset(&ns, 0, sizeof(ns));
	ck_assert_int_eq(store_scan(&st, STORE_TARGETS, collect, &ns, err), 0);
	ck_assert_int_eq(ns.n, 0);

	put(&st, STORE_TARGETS, "a", "[]");
	put(&st, STORE_TARGETS, "b", "[]");
	put(&st, STORE_TARGETS, "web.v2", "[]");
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		p = xpath(dir, junk[i]);
		tu_spit(p, "junk");
		free(p);
	}
	p = xpath(dir, "targets/f.json");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);

	ck_assert_int_eq(store_scan(&st, STORE_TARGETS, collect, &ns, err), 0);
	qsort(ns.v, (size_t)ns.n, sizeof(ns.v[0]), cmp_name);
	ck_assert_int_eq(ns.n, 3);
	ck_assert_str_eq(ns.v[0], "a");
	ck_assert_str_eq(ns.v[1], "b");
	ck_assert_str_eq(ns.v[2], "web.v2");

	/* Twice in a row: each scan starts from the top. */
	memset(&ns, 0, sizeof(ns));
	ck_assert_int_eq(store_scan(&st, STORE_TARGETS, collect, &ns, err), 0);
	ck_assert_int_eq(ns.n, 3);

	memset(&ns, 0, sizeof(ns));
	ck_assert_int_eq(store_scan(&st, STORE_RULES, collect, &ns, err), 0);
	ck_assert_int_eq(ns.n, 1);
	ck_assert_str_eq(ns.v[0], "e");

	/* A non-zero callback result stops the scan and is returned. */
	memset(&ns, 0, sizeof(ns));
	ns.stop_at = 2;
	ck_assert_int_eq(store_scan(&st, STORE_TARGETS, collect, &ns, err), 7);
	ck_assert_int_eq(ns.n, 2);
	ck_assert_str_ne(err, "");

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Failed writes leave the old file and no temp file.
 */

static const char old_body[] = "[{\"targets\":[\"old:1\"]}]";

/* Works for root too: RLIMIT_FSIZE binds every user. The first write(2)
 * is cut short at the limit, the retry gets EFBIG, so this walks the
 * short-write loop and then the failure path after the temp file exists. */
START_TEST(write_fails_file_size_limit)
{
	struct store st;
	struct rlimit old, lim;
	char err[ERR_MAX] = "", *dir, *big;
	void (*oldsig)(int);
	int rc, saved;

	dir = open_fresh(&st);
	put(&st, STORE_TARGETS, "svc", old_body);
	big = malloc(65536);
	ck_assert_ptr_nonnull(big);
	memset(big, 'n', 65536);

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = 0;
	rc = store_write(&st, STORE_TARGETS, "svc", big, 65536, err);
	saved = errno;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);

	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(saved, EFBIG);
	ck_assert_msg(strstr(err, "cannot write targets/svc.json: ") != NULL,
	    "err: %s", err);
	ck_assert_msg(strstr(err, strerror(EFBIG)) != NULL, "err: %s", err);
	assert_file(dir, "targets/svc.json", old_body);
	ck_assert_int_eq(count_tmp(dir), 0);

	store_release(&st);
	tu_rmrf(dir);
	free(big);
	free(dir);
}
END_TEST

/* A transaction's changes all stand (commit) or are all undone (abort):
 * the files it replaced come back as they were, inode and all (a rename
 * of the kept link, no free space needed), a file it made goes, and
 * neither leaves a temp file. */
START_TEST(txn_commit_and_abort)
{
	struct store_txn t;
	struct store st;
	struct stat before, after;
	char err[ERR_MAX] = "", *dir, *p;
	int pass;

	dir = open_fresh(&st);
	put(&st, STORE_STATE, "svc", "record-1");
	put(&st, STORE_TARGETS, "svc", old_body);
	put(&st, STORE_RULES, "svc", "rules-1");
	p = xpath(dir, "targets/svc.json");
	ck_assert_int_eq(stat(p, &before), 0);
	for (pass = 0; pass < 2; pass++) {
		store_txn_begin(&t, &st);
		ck_assert_msg(store_txn_write(&t, STORE_STATE, "svc",
		    "record-2", 8, err) == 0, "%s", err);
		/* Twice in one transaction: the abort puts the first back. */
		ck_assert_int_eq(store_txn_write(&t, STORE_TARGETS, "svc",
		    "[]", 2, err), 0);
		ck_assert_int_eq(store_txn_write(&t, STORE_TARGETS, "svc",
		    "[ ]", 3, err), 0);
		ck_assert_int_eq(store_txn_write(&t, STORE_TARGETS, "new",
		    "[]", 2, err), 0);
		ck_assert_int_eq(store_txn_remove(&t, STORE_RULES, "svc",
		    err), 0);
		ck_assert_int_eq(store_txn_remove(&t, STORE_RULES, "none",
		    err), 0);
		ck_assert_int_eq(store_txn_link(&t, STORE_STATE,
		    STORE_ACCEPTED, "svc", err), 0);
		assert_file(dir, "targets/svc.json", "[ ]");
		ck_assert(!exists(dir, "rules/svc.yml"));
		if (pass == 0) {
			ck_assert_msg(store_txn_abort(&t, err) == 0, "%s", err);
			assert_file(dir, "state/svc.json", "record-1");
			assert_file(dir, "targets/svc.json", old_body);
			assert_file(dir, "rules/svc.yml", "rules-1");
			ck_assert(!exists(dir, "targets/new.json"));
			ck_assert(!exists(dir, "accepted/svc.yml"));
			ck_assert_int_eq(stat(p, &after), 0);
			ck_assert(after.st_ino == before.st_ino);
		} else {
			store_txn_commit(&t);
			assert_file(dir, "state/svc.json", "record-2");
			assert_file(dir, "targets/svc.json", "[ ]");
			assert_file(dir, "targets/new.json", "[]");
			assert_file(dir, "accepted/svc.yml", "record-2");
			ck_assert(!exists(dir, "rules/svc.yml"));
		}
		ck_assert_int_eq(count_tmp(dir), 0);
		ck_assert_ptr_null(t.ops);
	}
	/* A failed write within a transaction leaves the file as it was
	 * and the earlier ops still to be undone. */
	store_txn_begin(&t, &st);
	ck_assert_int_eq(store_txn_write(&t, STORE_STATE, "svc", "record-3", 8,
	    err), 0);
	free(p);
	p = xpath(dir, "rules/svc.yml");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "rules/svc.yml/inside");
	tu_spit(p, "x");
	ck_assert_int_eq(store_txn_write(&t, STORE_RULES, "svc", "r", 1, err),
	    -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_int_eq(store_txn_abort(&t, err), 0);
	assert_file(dir, "state/svc.json", "record-2");
	assert_file(dir, "rules/svc.yml/inside", "x");
	ck_assert_int_eq(count_tmp(dir), 0);
	free(p);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Works for root too: a rename(2) of a file over a non-empty directory
 * fails whoever asks, after the temp file is written and fsync'd. */
START_TEST(write_fails_rename)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *p;

	dir = open_fresh(&st);
	p = xpath(dir, "targets/svc.json");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "targets/svc.json/inside");
	tu_spit(p, old_body);
	free(p);

	errno = 0;
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, "svc", "[]", 2, err),
	    -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_msg(strstr(err, "cannot rename temp file to "
	    "targets/svc.json: ") != NULL, "err: %s", err);
	assert_file(dir, "targets/svc.json/inside", old_body);
	ck_assert_int_eq(count_tmp(dir), 0);

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Without write permission on the directory the temp file cannot even be
 * created. Root (or CAP_DAC_OVERRIDE) ignores the mode, so this is only
 * meaningful unprivileged; the two tests above cover root. */
START_TEST(write_fails_readonly_dir)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *tdir, *probe;
	int fd;

	dir = open_fresh(&st);
	put(&st, STORE_TARGETS, "svc", old_body);
	tdir = xpath(dir, "targets");
	ck_assert_int_eq(chmod(tdir, 0555), 0);
	probe = xpath(tdir, "probe");
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1) {
		close(fd);
		unlink(probe);
		tu_skip("write_fails_readonly_dir", "privileged: chmod "
		    "cannot make a write fail");
		goto out;
	}

	errno = 0;
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, "svc", "[]", 2, err),
	    -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_msg(strstr(err, "cannot create temp file for "
	    "targets/svc.json: ") != NULL, "err: %s", err);
	assert_file(dir, "targets/svc.json", old_body);
	ck_assert_int_eq(count_tmp(dir), 0);
out:
	ck_assert_int_eq(chmod(tdir, 0755), 0);
	store_release(&st);
	tu_rmrf(dir);
	free(probe);
	free(tdir);
	free(dir);
}
END_TEST

/*
 * Concurrent writers.
 */

#define NTHREADS	4
#define NWRITES		200

struct writer {
	struct store	*st;
	int		 id;
	int		 failed;	/* writes that returned -1 */
	char		 err[ERR_MAX];
};

/* Payload i of thread t: distinct, of varied length (up to ~8 KiB). */
static char *
payload(int t, int i, size_t *len)
{
	char tag[32], *p;
	size_t n, off, tl;

	n = 100 + (size_t)(t * 997 + i * 131) % 8000;
	tl = (size_t)snprintf(tag, sizeof(tag), "t%d-i%d;", t, i);
	if ((p = malloc(n + 1)) == NULL)
		abort();
	for (off = 0; off < n; off++)
		p[off] = tag[off % tl];
	p[n] = '\0';
	*len = n;
	return p;
}

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	char name[16], *p;
	size_t len;
	int i;

	snprintf(name, sizeof(name), "own%d", w->id);
	for (i = 0; i < NWRITES; i++) {
		p = payload(w->id, i, &len);
		if (store_write(w->st, STORE_TARGETS, "shared", p, len,
		    w->err) == -1)
			w->failed++;
		/* A name of its own, to check writers never mix files. */
		if (i % 10 == 0 && store_write(w->st, STORE_STATE, name, p,
		    len, w->err) == -1)
			w->failed++;
		free(p);
	}
	return NULL;
}

START_TEST(concurrent_writes_one_name)
{
	struct writer w[NTHREADS];
	pthread_t th[NTHREADS];
	struct store st;
	char err[ERR_MAX] = "", name[16], *dir, *buf, *p;
	size_t len, plen;
	int t, match = -1;

	dir = open_fresh(&st);
	for (t = 0; t < NTHREADS; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].st = &st;
		w[t].id = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, writer_run,
		    &w[t]), 0);
	}
	for (t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	for (t = 0; t < NTHREADS; t++)
		ck_assert_msg(w[t].failed == 0, "thread %d: %d failed: %s", t,
		    w[t].failed, w[t].err);

	/* The last rename wins whole, and the last rename of all is the
	 * last write of some thread. */
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "shared", 1 << 20,
	    &buf, &len, err), 0);
	for (t = 0; t < NTHREADS; t++) {
		p = payload(t, NWRITES - 1, &plen);
		if (plen == len && memcmp(p, buf, len) == 0)
			match = t;
		free(p);
	}
	ck_assert_msg(match != -1, "targets/shared.json is no thread's last "
	    "payload (%zu bytes: %.40s...)", len, buf);
	free(buf);

	for (t = 0; t < NTHREADS; t++) {
		snprintf(name, sizeof(name), "own%d", t);
		ck_assert_int_eq(store_read(&st, STORE_STATE, name, 1 << 20,
		    &buf, &len, err), 0);
		p = payload(t, (NWRITES - 1) / 10 * 10, &plen);
		ck_assert_uint_eq(len, plen);
		ck_assert_int_eq(memcmp(p, buf, len), 0);
		free(p);
		free(buf);
	}
	ck_assert_int_eq(count_tmp(dir), 0);
	p = xpath(dir, "targets");
	ck_assert_int_eq(count_entries(p, 0), 1);
	free(p);

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Threads asking for one directory's fsync at once: each returns once
 * an fsync that began after its ticket succeeded; at the end every ticket
 * is covered. */
struct dsync_arg {
	struct store_dirsync	*ds;
	int			 dfd;
	int			 failed;
};

static void *
dsync_run(void *arg)
{
	struct dsync_arg *a = arg;
	int i;

	for (i = 0; i < 50; i++)
		if (store_dirsync(a->ds, a->dfd) == -1)
			a->failed++;
	return NULL;
}

START_TEST(dirsync_shared)
{
	struct store_dirsync ds;
	struct dsync_arg a[NTHREADS];
	pthread_t th[NTHREADS];
	char *dir = tu_tmpdir();
	int t, dfd, other;

	ck_assert_int_ge(dfd = open(dir, O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_ge(other = open(dir, O_RDONLY | O_DIRECTORY), 0);
	store_dirsync_init(&ds);
	for (t = 0; t < NTHREADS; t++) {
		a[t].ds = &ds;
		a[t].dfd = dfd;
		a[t].failed = 0;
		ck_assert_int_eq(pthread_create(&th[t], NULL, dsync_run,
		    &a[t]), 0);
	}
	for (t = 0; t < NTHREADS; t++) {
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
		ck_assert_int_eq(a[t].failed, 0);
	}
	ck_assert_uint_eq(ds.tickets, NTHREADS * 50);
	ck_assert_uint_eq(ds.synced, ds.tickets);
	ck_assert_int_eq(ds.busy, 0);
	/* A failed fsync fails its caller and covers nothing. */
	ck_assert_int_eq(store_dirsync(&ds, -1), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_uint_eq(ds.synced, NTHREADS * 50);
	/* Another fd of the directory (a kind dir reopened): its own. */
	ck_assert_int_eq(store_dirsync(&ds, other), 0);
	ck_assert_int_eq(ds.synced_dfd, other);
	ck_assert_int_eq(store_dirsync(NULL, dfd), 0);
	store_dirsync_release(&ds);
	close(dfd);
	close(other);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A listing of a kind's names answers "not there" without a look: only
 * names of the kind's extension, dot files aside, whatever the entry is
 * (a directory under a file's name may be there). */
START_TEST(names_listing)
{
	struct store st;
	struct store_names sn = { 0 };
	char err[ERR_MAX] = "", *dir, *p;
	uint64_t h;

	dir = open_fresh(&st);
	ck_assert_int_eq(store_write(&st, STORE_RULES, "b", "x\n", 2, err),
	    0);
	ck_assert_int_eq(store_write(&st, STORE_RULES, "a", "y\n", 2, err),
	    0);
	p = xpath(dir, "rules/c.yml");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "rules/.d.yml");
	tu_spit(p, "z");
	free(p);
	p = xpath(dir, "rules/e.txt");
	tu_spit(p, "z");
	free(p);
	/* Nothing listed yet: anything may be there. */
	ck_assert_int_eq(store_names_may_have(&sn, "zz"), 1);
	ck_assert_int_eq(store_names(&st, STORE_RULES, &sn, err), 0);
	ck_assert_uint_eq(sn.n, 3);
	ck_assert_str_eq(sn.v[0], "a");
	ck_assert_str_eq(sn.v[1], "b");
	ck_assert_str_eq(sn.v[2], "c");
	ck_assert_int_eq(store_names_may_have(&sn, "a"), 1);
	ck_assert_int_eq(store_names_may_have(&sn, "c"), 1);
	ck_assert_int_eq(store_names_may_have(&sn, "d"), 0);
	ck_assert_int_eq(store_names_may_have(&sn, "e"), 0);
	/* A probe with the listing: listed names are read, others are
	 * missing (even one made since: the listing is the moment). */
	ck_assert_int_eq(store_probe(&st, STORE_RULES, "a", &sn, &h), 1);
	ck_assert_uint_eq(h, hash_content("y\n", 2));
	ck_assert_int_eq(store_probe(&st, STORE_RULES, "c", &sn, &h), -1);
	ck_assert_int_eq(store_write(&st, STORE_RULES, "f", "w\n", 2, err),
	    0);
	ck_assert_int_eq(store_probe(&st, STORE_RULES, "f", &sn, &h), 0);
	ck_assert_int_eq(store_probe(&st, STORE_RULES, "f", NULL, &h), 1);
	store_names_release(&sn);
	ck_assert_int_eq(sn.listed, 0);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A manifest: written at a stop, taken (read and removed) at a start, so
 * a second start finds none; outside every listing of names. */
START_TEST(manifest_write_take)
{
	struct store st;
	struct store_names sn = { 0 };
	char err[ERR_MAX] = "", *dir, *buf, *p;
	size_t len;

	dir = open_fresh(&st);
	ck_assert_int_eq(store_manifest_take(&st, "files", 1024, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(store_manifest_write(&st, "files", "one\n", 4, err) ==
	    0, "%s", err);
	p = xpath(dir, "state/.files.manifest");
	ck_assert(tu_exists(p));
	ck_assert_int_eq(store_names(&st, STORE_STATE, &sn, err), 0);
	ck_assert_uint_eq(sn.n, 0);
	store_names_release(&sn);
	/* Bounded like every read. */
	ck_assert_int_eq(store_manifest_take(&st, "files", 3, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(store_manifest_take(&st, "files", 1024, &buf, &len,
	    err), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_str_eq(buf, "one\n");
	free(buf);
	ck_assert(!tu_exists(p));
	ck_assert_int_eq(store_manifest_take(&st, "files", 1024, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(store_manifest_write(&st, "a/b", "x", 1, err), -1);
	ck_assert_int_eq(errno, EINVAL);
	free(p);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Files outside the data dir: the bounded reader and the atomic writer.
 */

START_TEST(read_file_bounded)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *p, *q, *buf;
	size_t len = 99;

	/* Missing: ENOENT, nothing returned, the path in err. */
	p = xpath(dir, "nope");
	buf = (char *)"sentinel";
	errno = 0;
	ck_assert_int_eq(store_read_file(p, 100, &buf, &len, err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err, p) != NULL && strstr(err, ": cannot open: ")
	    != NULL, "err: %s", err);
	free(p);

	/* Exactly max bytes is fine; one more is EFBIG. */
	p = xpath(dir, "ten");
	tu_spit(p, "0123456789");
	ck_assert_int_eq(store_read_file(p, 10, &buf, &len, err), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	errno = 0;
	ck_assert_int_eq(store_read_file(p, 9, &buf, &len, err), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err, "larger than 9 bytes") != NULL, "err: %s",
	    err);

	/* A link is followed; an empty file is an empty string. */
	q = xpath(dir, "link");
	ck_assert_int_eq(symlink(p, q), 0);
	ck_assert_int_eq(store_read_file(q, 10, &buf, &len, err), 0);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	free(q);
	free(p);
	p = xpath(dir, "empty");
	tu_spit(p, "");
	ck_assert_int_eq(store_read_file(p, 10, &buf, &len, err), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);
	free(p);

	/* Not a regular file: refused, a FIFO without hanging. */
	errno = 0;
	ck_assert_int_eq(store_read_file(dir, 10, &buf, &len, err), -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "err: %s",
	    err);
	p = xpath(dir, "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	errno = 0;
	ck_assert_int_eq(store_read_file(p, 10, &buf, &len, err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(buf);
	free(p);

	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Temp files of any name in dir (the store's rule). */
static int
count_tmp_in(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (store_temp_name(de->d_name, NULL))
			n++;
	closedir(d);
	return n;
}

/* prometheus.yml: its directory made, the mode kept, identical bytes left
 * alone, stale temp files of that name (only) swept. */
START_TEST(write_file_replaces)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *sub, *path, *stale,
	    *other, *text;
	struct stat a, b;

	sub = xpath(dir, "etc");
	path = xpath(dir, "etc/prometheus.yml");
	stale = xpath(dir, "etc/.prometheus.yml.tmp.1.1");
	other = xpath(dir, "etc/.other.yml.tmp.1.1");
	ck_assert_msg(store_write_file(path, "a: 1\n", 5, STORE_MODE_KEEP,
	    err) == 0, "%s", err);
	text = tu_slurp(path);
	ck_assert_str_eq(text, "a: 1\n");
	free(text);
	ck_assert_int_eq(stat(path, &a), 0);
	ck_assert_int_eq(a.st_mode & 0777, 0644);
	/* The same bytes again: not rewritten (same inode). */
	ck_assert_int_eq(store_write_file(path, "a: 1\n", 5, STORE_MODE_KEEP,
	    err), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	/* New bytes: a new file renamed over, the mode kept, a stale temp
	 * file of this name gone, another file's left alone. */
	ck_assert_int_eq(chmod(path, 0640), 0);
	tu_spit(stale, "half");
	tu_spit(other, "not ours");
	ck_assert_int_eq(store_write_file(path, "a: 2\n", 5, STORE_MODE_KEEP,
	    err), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_uint_ne(a.st_ino, b.st_ino);
	ck_assert_int_eq(b.st_mode & 0777, 0640);
	text = tu_slurp(path);
	ck_assert_str_eq(text, "a: 2\n");
	free(text);
	ck_assert(!tu_exists(stale));
	ck_assert(tu_exists(other));
	ck_assert_int_eq(unlink(other), 0);
	ck_assert_int_eq(count_tmp_in(sub), 0);
	/* A mode given wins, even over identical bytes. */
	ck_assert_int_eq(store_write_file(path, "a: 2\n", 5, 0600, err), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_int_eq(b.st_mode & 0777, 0600);
	text = tu_slurp(path);
	ck_assert_str_eq(text, "a: 2\n");
	free(text);
	/* Not a file name. */
	errno = 0;
	ck_assert_int_eq(store_write_file("", "x", 1, STORE_MODE_KEEP, err),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(store_write_file(dir, "x", 1, STORE_MODE_KEEP, err),
	    -1);
	ck_assert_int_eq(count_tmp_in(sub), 0);
	free(other);
	free(stale);
	free(path);
	free(sub);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A write that fails half way leaves the old file and no temp file; as
 * write_fails_file_size_limit, this works for root too. */
START_TEST(write_file_fails_keeps_old)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *path, *big, *text;
	struct rlimit old, lim;
	void (*oldsig)(int);
	int rc, saved;

	path = xpath(dir, "prometheus.yml");
	ck_assert_int_eq(store_write_file(path, old_body, strlen(old_body),
	    STORE_MODE_KEEP, err), 0);
	big = malloc(65536);
	ck_assert_ptr_nonnull(big);
	memset(big, 'n', 65536);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = 0;
	rc = store_write_file(path, big, 65536, STORE_MODE_KEEP, err);
	saved = errno;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);

	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(saved, EFBIG);
	ck_assert_msg(strstr(err, path) != NULL && strstr(err, "cannot write")
	    != NULL, "err: %s", err);
	text = tu_slurp(path);
	ck_assert_str_eq(text, old_body);
	free(text);
	ck_assert_int_eq(count_tmp_in(dir), 0);
	free(big);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Unprivileged only: a directory without write permission. */
START_TEST(write_file_readonly_dir)
{
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *path, *probe, *text;
	int fd;

	path = xpath(dir, "prometheus.yml");
	ck_assert_int_eq(store_write_file(path, "a: 2\n", 5, STORE_MODE_KEEP,
	    err), 0);
	ck_assert_int_eq(chmod(dir, 0555), 0);
	probe = xpath(dir, "probe");
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644)) != -1) {
		close(fd);
		unlink(probe);
		tu_skip("write_file_readonly_dir", "privileged: chmod "
		    "cannot make a write fail");
		goto out;
	}
	ck_assert_int_eq(store_write_file(path, "a: 3\n", 5, STORE_MODE_KEEP,
	    err), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	text = tu_slurp(path);
	ck_assert_str_eq(text, "a: 2\n");
	free(text);
	ck_assert_int_eq(count_tmp_in(dir), 0);
out:
	ck_assert_int_eq(chmod(dir, 0755), 0);
	free(probe);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/*
 * Names, hashes, listings, the read-only store.
 */

START_TEST(temp_names)
{
	long pid;

	ck_assert_int_eq(store_temp_name(".web.json.tmp.123.4", &pid), 1);
	ck_assert_int_eq(pid, 123);
	ck_assert_int_eq(store_temp_name(".a.tmp.b.yml.tmp.77.0", &pid), 1);
	ck_assert_int_eq(pid, 77);
	ck_assert_int_eq(store_temp_name(".web.json.tmp.x", &pid), 1);
	ck_assert_int_eq(pid, 0);
	ck_assert_int_eq(store_temp_name(".a.yml.tmp.12.3", NULL), 1);
	ck_assert_int_eq(store_temp_name(".prometheus.yml.tmp.1.1", NULL), 1);
	ck_assert_int_eq(store_temp_name("web.json.tmp.1.2", &pid), 0);
	ck_assert_int_eq(store_temp_name(".web.json", &pid), 0);
	ck_assert_int_eq(store_temp_name("web.json", &pid), 0);
	ck_assert_int_eq(store_temp_name("a.tmp.yml", NULL), 0);
	ck_assert_int_eq(store_temp_name(".a.yml", NULL), 0);
	ck_assert_int_eq(store_temp_name(".tmp.1.2", NULL), 0);
	ck_assert_int_eq(store_temp_name("", NULL), 0);
}
END_TEST

START_TEST(hashes)
{
	char base[214], name[256];

	/* FNV-1a's prime with the store's own starting value: these
	 * values are on disk (long names' bases) and must not change. */
	ck_assert_uint_eq(hash_bytes(HASH_INIT, "", 0),
	    0x14650fb0739d0383ULL);
	ck_assert_uint_eq(hash_bytes(HASH_INIT, "a", 1),
	    0x44bd8ad473cd9906ULL);
	ck_assert_uint_eq(hash_bytes(HASH_INIT, "foobar", 6),
	    0x88fad7c0a8ff07f2ULL);
	/* Fed in pieces, the same. */
	ck_assert_uint_eq(hash_bytes(hash_bytes(HASH_INIT, "foo", 3),
	    "bar", 3), 0x88fad7c0a8ff07f2ULL);
	/* The content hash tells sizes apart. */
	ck_assert_uint_ne(hash_content("", 0),
	    hash_content("\0", 1));
	ck_assert_uint_eq(hash_content("abc", 3),
	    hash_content("abc", 3));
	/* The base of a long name is its head, '~' and the FNV-1a of the
	 * whole name: file names on disk depend on it staying so. */
	memset(name, 'a', 255);
	name[255] = '\0';
	store_base(name, base);
	ck_assert_uint_eq(strlen(base), 213);
	ck_assert_int_eq(base[196], '~');
	{
		char want[17];

		snprintf(want, sizeof(want), "%016llx", (unsigned long long)
		    hash_bytes(HASH_INIT, name, 255));
		ck_assert_str_eq(base + 197, want);
	}
	ck_assert_int_eq(store_base_valid(base), 1);
	ck_assert_int_eq(store_base_valid("web"), 1);
	ck_assert_int_eq(store_base_valid("go-demo_main.v2"), 1);
	ck_assert_int_eq(store_base_valid("_flowmon"), 0);
	ck_assert_int_eq(store_base_valid("a~b"), 0);
	ck_assert_int_eq(store_base_valid(""), 0);
	base[200] = 'G';	/* not lower-case hex */
	ck_assert_int_eq(store_base_valid(base), 0);
}
END_TEST

START_TEST(list_and_read_entries)
{
	struct store st;
	struct store_entry *v;
	char err[ERR_MAX] = "", *dir, *p, *q, *buf;
	size_t n, len;

	dir = open_fresh(&st);
	put(&st, STORE_TARGETS, "b", "[]");
	p = xpath(dir, "targets/.hidden.json");
	tu_spit(p, "[1]");
	free(p);
	p = xpath(dir, "targets/.b.json.tmp.1.2");
	tu_spit(p, "half");
	free(p);
	p = xpath(dir, "targets/link.json");
	q = xpath(dir, "targets/b.json");
	ck_assert_int_eq(symlink(q, p), 0);
	free(q);
	free(p);
	p = xpath(dir, "targets/dangling.json");
	ck_assert_int_eq(symlink("/nonexistent/x", p), 0);
	free(p);

	ck_assert_msg(store_list(&st, STORE_TARGETS, &v, &n, err) == 0, "%s",
	    err);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(v[0].file, ".b.json.tmp.1.2");
	ck_assert_str_eq(v[1].file, ".hidden.json");
	ck_assert_str_eq(v[2].file, "b.json");
	ck_assert_str_eq(v[3].file, "dangling.json");
	ck_assert_str_eq(v[4].file, "link.json");
	ck_assert(!v[2].link && S_ISREG(v[2].sb.st_mode));
	ck_assert_uint_eq(v[2].sb.st_size, 2);
	ck_assert(v[3].link && v[3].sb.st_mode == 0);
	ck_assert(v[4].link && S_ISREG(v[4].sb.st_mode));
	store_entries_free(v, n);

	/* Entries are read by the name on disk, dot files included; a
	 * name that leaves the directory is refused. */
	ck_assert_int_eq(store_read_entry(&st, STORE_TARGETS, ".hidden.json",
	    100, &buf, &len, err), 0);
	ck_assert_str_eq(buf, "[1]");
	free(buf);
	errno = 0;
	ck_assert_int_eq(store_read_entry(&st, STORE_TARGETS, "../state",
	    100, &buf, &len, err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(store_read_entry(&st, STORE_TARGETS, "..", 100, &buf,
	    &len, err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(store_exists(&st, STORE_TARGETS, "b"), 1);
	ck_assert_int_eq(store_exists(&st, STORE_TARGETS, "c"), 0);

	/* Any directory; a missing one is ENOENT. */
	p = xpath(dir, "rules");
	ck_assert_int_eq(store_list_dir(p, &v, &n, err), 0);
	ck_assert_uint_eq(n, 0);
	store_entries_free(v, n);
	free(p);
	p = xpath(dir, "nope");
	errno = 0;
	ck_assert_int_eq(store_list_dir(p, &v, &n, err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, "cannot read directory") != NULL, "%s", err);
	free(p);

	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* `flowmon check`'s store: reads what is there, creates, sweeps and
 * changes nothing. */
START_TEST(open_read_only)
{
	struct store st;
	struct store_entry *v;
	char err[ERR_MAX] = "", *dir = tu_tmpdir(), *p, *buf;
	size_t n, len;

	p = xpath(dir, "targets");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "targets/.a.json.tmp.1.1");
	tu_spit(p, "half");
	free(p);
	p = xpath(dir, "targets/a.json");
	tu_spit(p, "[]");
	free(p);

	ck_assert_msg(store_open_ro(&st, dir, err) == 0, "%s", err);
	ck_assert_int_eq(count_entries(dir, 0), 1);	/* nothing created */
	ck_assert(exists(dir, "targets/.a.json.tmp.1.1"));	/* not swept */
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "a", 10, &buf, &len,
	    err), 0);
	ck_assert_str_eq(buf, "[]");
	free(buf);
	ck_assert_int_eq(store_list(&st, STORE_TARGETS, &v, &n, err), 0);
	ck_assert_uint_eq(n, 2);
	store_entries_free(v, n);
	errno = 0;
	ck_assert_int_eq(store_list(&st, STORE_RULES, &v, &n, err), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(store_write(&st, STORE_TARGETS, "a", "x", 1, err), -1);
	ck_assert_int_eq(errno, EROFS);
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "a", err), -1);
	ck_assert_int_eq(errno, EROFS);
	assert_file(dir, "targets/a.json", "[]");
	store_release(&st);

	p = xpath(dir, "nope");
	errno = 0;
	ck_assert_int_eq(store_open_ro(&st, p, err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
	ck_assert(!tu_exists(p));
	free(p);
	tu_rmrf(dir);
	free(dir);
}
END_TEST


/*
 * Links and directories that go away (issue 13).
 */

/* A kind dir that is a symbolic link is refused at start, naming it; the
 * read-only store says so too. */
START_TEST(open_refuses_linked_kind_dir)
{
	static const char *const kinds[] = { "targets", "rules", "state",
	    "nodes", "rejected" };
	struct store st;
	struct store_entry *v;
	char err[ERR_MAX], *dir, *p, *q, *want;
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		dir = tu_tmpdir();
		p = xpath(dir, kinds[i]);
		q = xpath(dir, "elsewhere");
		ck_assert_int_eq(mkdir(q, 0755), 0);
		ck_assert_int_eq(symlink(q, p), 0);
		err[0] = '\0';
		errno = 0;
		ck_assert_int_eq(store_open(&st, dir, err), -1);
		ck_assert_int_eq(errno, ELOOP);
		ck_assert_int_eq(asprintf(&want, "%s is a symbolic link: "
		    "refused", p) > 0, 1);
		ck_assert_msg(strstr(err, want) != NULL, "err: %s", err);
		free(want);
		/* Nothing was written through the link. */
		ck_assert_int_eq(count_entries(q, 0), 0);

		ck_assert_int_eq(store_open_ro(&st, dir, err), 0);
		ck_assert_int_eq(store_list(&st, (enum store_kind)i, &v, &n,
		    err), -1);
		ck_assert_int_eq(errno, ELOOP);
		ck_assert_msg(strstr(err, "is a symbolic link") != NULL,
		    "err: %s", err);
		store_release(&st);
		free(p);
		free(q);
		tu_rmrf(dir);
		free(dir);
	}
}
END_TEST

/* The data dir's reader does not follow links: a link in targets/ reads
 * as ELOOP, named so; store_read_file (outside the data dir) follows. */
START_TEST(read_refuses_links)
{
	struct store st;
	char err[ERR_MAX] = "", *dir, *p, *q, *buf;
	size_t len;

	dir = open_fresh(&st);
	q = xpath(dir, "secret");
	tu_spit(q, "password");
	p = xpath(dir, "targets/evil.json");
	ck_assert_int_eq(symlink(q, p), 0);
	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "evil", 100, &buf,
	    &len, err), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err, "targets/evil.json: a symbolic link, not "
	    "followed") != NULL, "err: %s", err);
	errno = 0;
	ck_assert_int_eq(store_read_entry(&st, STORE_TARGETS, "evil.json", 100,
	    &buf, &len, err), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(store_read_file(p, 100, &buf, &len, err), 0);
	ck_assert_str_eq(buf, "password");
	free(buf);
	/* A write replaces the link itself, never its target. */
	put(&st, STORE_TARGETS, "evil", "[]");
	assert_file(dir, "secret", "password");
	assert_file(dir, "targets/evil.json", "[]");
	free(p);
	free(q);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* A kind dir removed under an open store: the next write makes it again
 * and lands in it; one removed and made again by hand: writes, reads,
 * removes and listings all reach the new one. */
START_TEST(kind_dir_removed_and_made_again)
{
	struct store st;
	struct store_entry *v;
	char err[ERR_MAX] = "", *dir, *p, *buf;
	size_t n, len;

	dir = open_fresh(&st);
	put(&st, STORE_TARGETS, "a", "[1]");

	/* rm -rf targets: made again by the write. */
	p = xpath(dir, "targets");
	tu_rmrf(p);
	ck_assert(!tu_exists(p));
	put(&st, STORE_TARGETS, "b", "[2]");
	assert_file(dir, "targets/b.json", "[2]");
	ck_assert(!exists(dir, "targets/a.json"));

	/* rm -rf targets; mkdir targets (a restore by hand). */
	tu_rmrf(p);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put(&st, STORE_TARGETS, "c", "[3]");
	assert_file(dir, "targets/c.json", "[3]");
	ck_assert_int_eq(count_entries(p, 0), 1);

	/* A read finds a file put into a new directory by hand. */
	tu_rmrf(p);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "targets/d.json");
	tu_spit(p, "[4]");
	free(p);
	ck_assert_msg(store_read(&st, STORE_TARGETS, "d", 100, &buf, &len,
	    err) == 0, "%s", err);
	ck_assert_str_eq(buf, "[4]");
	free(buf);

	/* A remove reaches it too, and so does a listing. */
	p = xpath(dir, "targets");
	tu_rmrf(p);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "targets/e.json");
	tu_spit(p, "[5]");
	free(p);
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "e", err), 0);
	ck_assert(!exists(dir, "targets/e.json"));
	p = xpath(dir, "targets");
	tu_rmrf(p);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = xpath(dir, "targets/f.json");
	tu_spit(p, "[6]");
	free(p);
	ck_assert_int_eq(store_list(&st, STORE_TARGETS, &v, &n, err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].file, "f.json");
	store_entries_free(v, n);
	ck_assert_int_eq(store_exists(&st, STORE_TARGETS, "f"), 1);

	/* A missing file in a healthy directory is still just missing. */
	errno = 0;
	ck_assert_int_eq(store_read(&st, STORE_TARGETS, "zz", 100, &buf, &len,
	    err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(store_remove(&st, STORE_TARGETS, "zz", err), 0);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* Threads writing while the directory is removed under them: every write
 * either succeeds into the directory that is there, or fails; none is
 * lost once the directory stays. */
struct churn {
	struct store	*st;
	int		 id;
	int		 failed;
};

static void *
churn_writer(void *arg)
{
	struct churn *c = arg;
	char name[32], err[ERR_MAX];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "w%d-%d", c->id, i);
		if (store_write(c->st, STORE_TARGETS, name, "[]", 2,
		    err) == -1)
			c->failed++;
	}
	return NULL;
}

START_TEST(kind_dir_removed_while_writing)
{
	struct store st;
	struct churn c[4];
	pthread_t t[4];
	char err[ERR_MAX] = "", *dir, *p, *old;
	int i;

	dir = open_fresh(&st);
	p = xpath(dir, "targets");
	old = xpath(dir, "old");
	for (i = 0; i < 4; i++) {
		c[i].st = &st;
		c[i].id = i;
		c[i].failed = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_writer,
		    &c[i]), 0);
	}
	/* Moved away whole, then removed (which may race with a writer
	 * still in it: then it goes after the join). */
	for (i = 0; i < 5; i++) {
		if (rename(p, old) == 0) {
			char *cmd;

			ck_assert_int_gt(asprintf(&cmd, "rm -rf '%s' "
			    "2>/dev/null", old), 0);
			(void)!system(cmd);
			free(cmd);
		}
		usleep(2000);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	tu_rmrf(old);
	/* Afterwards a write works and lands where the path says. */
	ck_assert_msg(store_write(&st, STORE_TARGETS, "last", "[]", 2,
	    err) == 0, "%s", err);
	assert_file(dir, "targets/last.json", "[]");
	free(p);
	free(old);
	store_release(&st);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_test(tc, open_creates_layout);
	tcase_add_test(tc, open_fails_on_file);
	tcase_add_test(tc, open_removes_stale_temps);
	tcase_add_test(tc, path_ext_dirname);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_add_test(tc, write_read_roundtrip);
	tcase_add_test(tc, write_overwrite);
	tcase_add_test(tc, write_many_no_temp_left);
	tcase_add_test(tc, read_missing_and_too_big);
	tcase_add_test(tc, remove_missing_and_existing);
	tcase_add_test(tc, scan_lists_exact_names);
	tcase_add_test(tc, names_listing);
	tcase_add_test(tc, manifest_write_take);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, refused_names, 0,
	    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, refused_null_and_long_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_test(tc, write_fails_rename);
	tcase_add_test(tc, txn_commit_and_abort);
	tcase_add_test(tc, write_fails_readonly_dir);
	tcase_add_test(tc, write_fails_file_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, read_file_bounded);
	tcase_add_test(tc, write_file_replaces);
	tcase_add_test(tc, write_file_fails_keeps_old);
	tcase_add_test(tc, write_file_readonly_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("shared");
	tcase_add_test(tc, temp_names);
	tcase_add_test(tc, hashes);
	tcase_add_test(tc, list_and_read_entries);
	tcase_add_test(tc, open_read_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("hardening");
	tcase_add_test(tc, open_refuses_linked_kind_dir);
	tcase_add_test(tc, read_refuses_links);
	tcase_add_test(tc, kind_dir_removed_and_made_again);
	tcase_add_test(tc, kind_dir_removed_while_writing);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, concurrent_writes_one_name);
	tcase_add_test(tc, dirsync_shared);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(store_suite());
}
