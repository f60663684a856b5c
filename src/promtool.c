/* promtool.c: `promtool check rules` as a child process: argv, no shell,
 * stdin from /dev/null, output bounded, one deadline for the whole run. A
 * rule file in memory reaches promtool as an anonymous file (memfd), so a
 * check leaves no trace in the data dir. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "promtool.h"

#define PROMTOOL_TIMEOUT_MS	20000
#define PROMTOOL_OUTPUT_MAX	4096
#define PROMTOOL_FD		3
#define PROMTOOL_FD_PATH	"/dev/fd/3"

struct promtool {
	char	*path;
	int	 max_procs;
};

static enum fm_err promtool_run(const char *, const char *, int,
		    const char *, char[ERR_MAX]);

extern char **environ;

/* Reduces promtool's report to its reasons on one line: the lines after
 * "FAILED:", with the scratch path replaced by the name users know. */
static void
promtool_reason(char *out, const char *path, const char *shown,
    char err[ERR_MAX])
{
	char *s, *line, *save, *p;
	size_t plen = strlen(path), used = 0;
	int n;

	if ((s = strstr(out, "FAILED:")) != NULL)
		s += strlen("FAILED:");
	else
		s = out;
	err[0] = '\0';
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || strncmp(line, "Checking ", 9) == 0)
			continue;
		n = snprintf(err + used, ERR_MAX - used, "%s", used ? "; " :
		    "");
		used += (size_t)n;
		for (p = line; *p != '\0' && used < ERR_MAX - 1;) {
			if (strncmp(p, path, plen) == 0) {
				n = snprintf(err + used, ERR_MAX - used, "%s",
				    shown);
				used += (size_t)n < ERR_MAX - used ? (size_t)n :
				    ERR_MAX - used - 1;
				p += plen;
			} else
				err[used++] = *p++;
		}
		err[used] = '\0';
		if (used >= ERR_MAX - 1)
			break;
	}
	if (err[0] == '\0')
		snprintf(err, ERR_MAX, "promtool refused the rule file");
}

enum fm_err
promtool_check_path(const char *promtool, const char *path, const char *shown,
    char err[ERR_MAX])
{
	return promtool_run(promtool, path, -1, shown, err);
}

enum fm_err
promtool_check_buf(const char *promtool, const char *buf, size_t len,
    const char *shown, char err[ERR_MAX])
{
	enum fm_err rc;
	ssize_t n;
	size_t off = 0;
	int fd;

	/* An anonymous file: nothing touches a disk, and the check leaves no
	 * trace in the data dir (not even a directory mtime). */
	if ((fd = memfd_create("flowmon-rules", MFD_CLOEXEC)) == -1) {
		snprintf(err, ERR_MAX, "cannot check with promtool: "
		    "memfd_create: %s", strerror(errno));
		return FM_RETRY;
	}
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, ERR_MAX, "cannot check with promtool: "
			    "write: %s", strerror(errno));
			close(fd);
			return FM_RETRY;
		}
		off += (size_t)n;
	}
	rc = promtool_run(promtool, PROMTOOL_FD_PATH, fd, shown, err);
	close(fd);
	return rc;
}

/* Runs promtool on path; when fd is not -1 it becomes the child's
 * descriptor PROMTOOL_FD, which path names. */
static enum fm_err
promtool_run(const char *promtool, const char *path, int fd,
    const char *shown, char err[ERR_MAX])
{
	char out[PROMTOOL_OUTPUT_MAX + 1];
	char *argv[] = { (char *)promtool, (char *)"check", (char *)"rules",
	    (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	struct timespec start, now;
	struct pollfd pfd;
	size_t used = 0;
	ssize_t n;
	pid_t pid;
	int fds[2], status, rc, left, timed_out = 0;


	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, ERR_MAX, "cannot run promtool: %s",
		    strerror(errno));
		return FM_RETRY;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	if (fd != -1)
		posix_spawn_file_actions_adddup2(&fa, fd, PROMTOOL_FD);
	rc = posix_spawn(&pid, promtool, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		snprintf(err, ERR_MAX, "cannot run %.200s: %s", promtool,
		    strerror(rc));
		return FM_RETRY;
	}
	/* Read until EOF, keeping the first PROMTOOL_OUTPUT_MAX bytes, with
	 * one deadline for the whole run. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = PROMTOOL_TIMEOUT_MS -
		    (int)((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if ((rc = poll(&pfd, 1, left)) == -1) {
			if (errno == EINTR)
				continue;
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (rc == 0)
			continue;
		if (used < PROMTOOL_OUTPUT_MAX)
			n = read(fds[0], out + used, PROMTOOL_OUTPUT_MAX - used);
		else {
			char sink[512];

			n = read(fds[0], sink, sizeof(sink));
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used < PROMTOOL_OUTPUT_MAX)
			used += (size_t)n;
	}
	close(fds[0]);
	out[used] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(err, ERR_MAX, "promtool did not answer within %d s",
		    PROMTOOL_TIMEOUT_MS / 1000);
		return FM_RETRY;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return FM_OK;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		snprintf(err, ERR_MAX, "promtool failed (status %d): %.200s",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
		return FM_RETRY;
	}
	promtool_reason(out, path, shown, err);
	return FM_REFUSED;
}

int
promtool_rule_of(const char *reason)
{
	const char *p = reason;
	long n;

	/* rulefmt's wording: `group "<name>", rule <N>, "<alert>": ...`;
	 * the group name is flowmon's service name, which holds no '"'. */
	while ((p = strstr(p, "\", rule ")) != NULL) {
		char *end;

		p += strlen("\", rule ");
		n = strtol(p, &end, 10);
		if (end != p && n >= 1 && n <= 1000000 && *end == ',')
			return (int)n;
	}
	return 0;
}

struct promtool *
promtool_new(const char *path, int max_procs, char err[ERR_MAX])
{
	struct promtool *pt;

	if ((pt = calloc(1, sizeof(*pt))) == NULL ||
	    (pt->path = strdup(path)) == NULL) {
		free(pt);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	pt->max_procs = max_procs > 0 ? max_procs :
	    (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (pt->max_procs < 1)
		pt->max_procs = 1;
	return pt;
}

void
promtool_free(struct promtool *pt)
{
	if (pt == NULL)
		return;
	free(pt->path);
	free(pt);
}

void
promtool_check(struct promtool *pt, struct promtool_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		files[i].verdict = promtool_check_buf(pt->path, files[i].buf,
		    files[i].len, files[i].shown, files[i].reason);
		files[i].rule = files[i].verdict == FM_REFUSED ?
		    promtool_rule_of(files[i].reason) : 0;
		if (files[i].verdict == FM_OK)
			files[i].reason[0] = '\0';
	}
}
