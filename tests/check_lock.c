/* check_lock.c: the data-dir lock (store_lock/store_unlock): one holder at
 * a time across processes, the holder named, the lock free again when the
 * holder unlocks or dies. POSIX locks belong to processes, so the other
 * contender is a forked child. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

/* In a child: store_lock's result on dir (0, 1 or 2 for -1), and the
 * holder it reported written to the pipe fd. */
static int
try_in_child(const char *dir, char holder[256])
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		struct store_lock lk = STORE_LOCK_INIT;
		char who[256], err[ERR_MAX];
		int rc;

		close(fds[0]);
		rc = store_lock(&lk, dir, who, err);
		if (write(fds[1], who, strlen(who) + 1) < 0)
			_exit(3);
		_exit(rc == -1 ? 2 : rc);
	}
	ck_assert_int_gt(pid, 0);
	close(fds[1]);
	n = read(fds[0], holder, 255);
	holder[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_lock_one_holder)
{
	char *tmp = tu_tmpdir(), *dir, want[300], host[256], holder[256];
	char err[ERR_MAX], content_buf[300], *path;
	struct store_lock lk = STORE_LOCK_INIT;
	struct stat sb;

	/* The data dir is created with the lock file. */
	ck_assert_int_ne(asprintf(&dir, "%s/data/dir", tmp), -1);
	ck_assert_msg(store_lock(&lk, dir, holder, err) == 0, "%s", err);
	ck_assert_int_eq(store_lock(&lk, dir, holder, err), 0);	/* again */
	ck_assert_int_ne(asprintf(&path, "%s/" STORE_LOCK_FILE, dir), -1);
	ck_assert_str_eq(lk.path, path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	/* It names its holder. */
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	snprintf(want, sizeof(want), "pid %ld on host %s\n", (long)getpid(),
	    host);
	/* Read through the lock's own descriptor: closing any other one of
	 * this file would drop a POSIX lock (the reason store_lock keeps
	 * one). */
	{
		ssize_t n = pread(lk.fd, content_buf, sizeof(content_buf) - 1,
		    0);

		ck_assert_int_gt(n, 0);
		content_buf[n] = '\0';
	}
	ck_assert_str_eq(content_buf, want);
	/* Another process is refused, told who holds it. */
	ck_assert_int_eq(try_in_child(dir, holder), 1);
	want[strlen(want) - 1] = '\0';
	ck_assert_str_eq(holder, want);
	/* Free again once released. */
	store_unlock(&lk);
	ck_assert_int_eq(lk.fd, -1);
	ck_assert_int_eq(try_in_child(dir, holder), 0);
	ck_assert_str_eq(holder, "");
	free(path);
	free(dir);
	tu_rmrf(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_lock_freed_when_holder_dies)
{
	char *tmp = tu_tmpdir(), holder[256], err[ERR_MAX];
	struct store_lock lk = STORE_LOCK_INIT;
	int fds[2], status;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		struct store_lock mine = STORE_LOCK_INIT;

		close(fds[0]);
		if (store_lock(&mine, tmp, holder, err) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	/* Held by the child: refused, then retried, as a standby does. */
	ck_assert_int_eq(store_lock(&lk, tmp, holder, err), 1);
	ck_assert_msg(strncmp(holder, "pid ", 4) == 0 &&
	    atol(holder + 4) == (long)pid, "holder %s, child %ld", holder,
	    (long)pid);
	ck_assert_int_eq(store_lock(&lk, tmp, holder, err), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(store_lock(&lk, tmp, holder, err), 0);
	ck_assert_int_eq(lk.held, 1);
	store_unlock(&lk);
	tu_rmrf(tmp);
	free(tmp);
}
END_TEST

/* A lock counts only while its path names the file locked: removed (or
 * replaced), the holder's check fails for good and its store refuses
 * changes; a standby whose file was removed opens the path again. */
START_TEST(test_lock_file_removed)
{
	char *dir = tu_tmpdir(), *path, holder[256], err[ERR_MAX] = "";
	struct store_lock lk = STORE_LOCK_INIT, sb = STORE_LOCK_INIT;
	struct store st;
	int status;
	pid_t pid;

	ck_assert_msg(store_lock(&lk, dir, holder, err) == 0, "%s", err);
	ck_assert_int_eq(store_lock_check(&lk, err), 0);
	ck_assert_msg(store_open(&st, dir, err) == 0, "%s", err);
	store_set_lock(&st, &lk);
	ck_assert_int_eq(store_write(&st, STORE_STATE, "a", "x", 1, err), 0);
	ck_assert_int_ne(asprintf(&path, "%s/" STORE_LOCK_FILE, dir), -1);

	/* A standby in a child: locked out, then the file goes and it takes
	 * a lock of its own on the new file, though this process still holds
	 * the old one. */
	ck_assert_int_eq(try_in_child(dir, holder), 1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(store_lock_check(&lk, err), -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_msg(strstr(err, "no longer the file this flowmon locked") !=
	    NULL, "%s", err);
	ck_assert_int_eq(store_write(&st, STORE_STATE, "b", "x", 1, err), -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_int_eq(store_exists(&st, STORE_STATE, "b"), 0);
	ck_assert_int_eq(try_in_child(dir, holder), 0);
	/* Made again at the path, the lock file is another file: still lost. */
	ck_assert_int_eq(store_lock_check(&lk, err), -1);

	/* A standby's open file removed between its tries: it opens the path
	 * again and takes the lock there. */
	ck_assert_int_eq(unlink(path), 0);
	if ((pid = fork()) == 0) {
		char e2[ERR_MAX];

		_exit(store_lock(&sb, dir, holder, e2) == 0 &&
		    store_lock_check(&sb, e2) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	store_release(&st);
	store_unlock(&lk);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_lock_error)
{
	char *tmp = tu_tmpdir(), *file, holder[256], err[ERR_MAX];
	struct store_lock lk = STORE_LOCK_INIT;

	/* The data dir is a file: a clear error, not a lock. */
	ck_assert_int_ne(asprintf(&file, "%s/file", tmp), -1);
	{
		FILE *f = fopen(file, "w");

		ck_assert_ptr_nonnull(f);
		fclose(f);
	}
	ck_assert_int_eq(store_lock(&lk, file, holder, err), -1);
	ck_assert_msg(strstr(err, "data dir lock") != NULL ||
	    strstr(err, file) != NULL, "%s", err);
	store_unlock(&lk);
	free(file);
	tu_rmrf(tmp);
	free(tmp);
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_test(tc, test_lock_one_holder);
	tcase_add_test(tc, test_lock_freed_when_holder_dies);
	tcase_add_test(tc, test_lock_error);
	tcase_add_test(tc, test_lock_file_removed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(lock_suite());
}
