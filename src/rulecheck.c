/* rulecheck.c: validation of a rendered rule file before it may enter
 * rules/: filecheck's shape check, then a comparison of what it parsed
 * with the record the file came from (a libyaml round trip), and
 * promtool run as a child process (argv, no shell, bounded output and
 * time). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filecheck.h"
#include "rulecheck.h"
#include "values.h"

#define PROMTOOL_TIMEOUT_MS	20000
#define PROMTOOL_OUTPUT_MAX	4096
#define PROMTOOL_FD		3
#define PROMTOOL_FD_PATH	"/dev/fd/3"

static int	promtool_run(const char *, const char *, int, const char *,
		    char[ERR_MAX]);

extern char **environ;

/* Checks a labels or annotations mapping (absent or null: none) holds
 * exactly want's pairs, in order. The shape is filecheck's already. */
static int
compare_map(yaml_document_t *d, yaml_node_t *m, const struct kvlist *want,
    const char *what, const char *alert, char err[ERR_MAX])
{
	yaml_node_pair_t *p;
	const char *k, *v;
	size_t i = 0;

	if (!filecheck_null(m)) {
		for (p = m->data.mapping.pairs.start;
		    p < m->data.mapping.pairs.top; p++, i++) {
			k = filecheck_text(yaml_document_get_node(d, p->key));
			v = filecheck_text(yaml_document_get_node(d,
			    p->value));
			if (i >= want->n || k == NULL || v == NULL ||
			    strcmp(want->v[i].key, k) != 0 ||
			    strcmp(want->v[i].value, v) != 0)
				goto differs;
		}
	}
	if (i == want->n)
		return 0;
differs:
	snprintf(err, ERR_MAX, "rule %.100s: %s do not read back as written",
	    alert, what);
	return -1;
}

/* 1 when s is an alert name flowmon writes: DFM's serviceName + "_" +
 * alertName with every '-' removed, so [A-Za-z0-9_.:]+ (a service name may
 * start with a digit and hold '.', an alertName '.' and ':'). Prometheus
 * takes any alert name; a '-' left in means the name was not DFM's. */
static int
alert_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' ||
		    *s == ':'))
			return 0;
	return 1;
}

/* One rule against the alert it was rendered from. */
static int
compare_rule(yaml_document_t *d, yaml_node_t *rule, const struct alert *want,
    char err[ERR_MAX])
{
	static const char *const rule_keys[] = { "alert", "expr", "for",
	    "labels", "annotations", NULL };
	yaml_node_t *f;
	const char *name, *k;

	/* flowmon writes these keys and no other, once each (the repeat is
	 * filecheck's refusal already). */
	if ((k = filecheck_other_key(d, rule, rule_keys)) != NULL) {
		snprintf(err, ERR_MAX, "a rule has an unknown key \"%.100s\" "
		    "(flowmon writes alert, expr, for, labels, annotations)",
		    k);
		return -1;
	}
	name = filecheck_text(filecheck_get(d, rule, "alert"));
	if (name == NULL || !alert_name_valid(name)) {
		snprintf(err, ERR_MAX, "a rule has no valid alert name");
		return -1;
	}
	f = filecheck_get(d, rule, "for");
	if (strcmp(want->name, name) != 0 || strcmp(want->expr,
	    filecheck_text(filecheck_get(d, rule, "expr"))) != 0 ||
	    (want->for_ == NULL) != (f == NULL) || (f != NULL &&
	    (filecheck_text(f) == NULL ||
	    strcmp(want->for_, filecheck_text(f)) != 0))) {
		snprintf(err, ERR_MAX, "rule %.100s does not read back as "
		    "written", name);
		return -1;
	}
	if (compare_map(d, filecheck_get(d, rule, "labels"), &want->labels,
	    "labels", name, err) == -1 ||
	    compare_map(d, filecheck_get(d, rule, "annotations"),
	    &want->annotations, "annotations", name, err) == -1)
		return -1;
	return 0;
}

/* The rule file is exactly what flowmon renders for svc: one group named
 * after it, holding its alerts (only the persistent ones if
 * persistent_only) in order, and nothing else. */
static int
compare_file(yaml_document_t *d, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	static const char *const group_keys[] = { "name", "rules", NULL };
	yaml_node_t *groups, *group, *rules;
	yaml_node_item_t *it;
	const char *gname;
	size_t i = 0;

	groups = filecheck_get(d, yaml_document_get_root_node(d), "groups");
	if (groups == NULL || groups->type != YAML_SEQUENCE_NODE ||
	    groups->data.sequence.items.top -
	    groups->data.sequence.items.start != 1) {
		snprintf(err, ERR_MAX, "rule file must hold one group");
		return -1;
	}
	group = yaml_document_get_node(d, *groups->data.sequence.items.start);
	if (filecheck_other_key(d, group, group_keys) != NULL) {
		snprintf(err, ERR_MAX, "the rule file has a key other than "
		    "groups, name and rules");
		return -1;
	}
	gname = filecheck_text(filecheck_get(d, group, "name"));
	if (gname == NULL || strcmp(gname, svc->name) != 0) {
		snprintf(err, ERR_MAX, "the group is not named after the "
		    "service");
		return -1;
	}
	rules = filecheck_get(d, group, "rules");
	if (rules == NULL || rules->type != YAML_SEQUENCE_NODE) {
		snprintf(err, ERR_MAX, "the group has no rules list");
		return -1;
	}
	for (it = rules->data.sequence.items.start;
	    it < rules->data.sequence.items.top; it++) {
		while (i < svc->nalerts && persistent_only &&
		    !svc->alerts[i].persistent)
			i++;
		if (i == svc->nalerts) {
			snprintf(err, ERR_MAX, "more rules than alerts");
			return -1;
		}
		if (compare_rule(d, yaml_document_get_node(d, *it),
		    &svc->alerts[i++], err) == -1)
			return -1;
	}
	while (i < svc->nalerts && persistent_only &&
	    !svc->alerts[i].persistent)
		i++;
	if (i != svc->nalerts) {
		snprintf(err, ERR_MAX, "fewer rules than alerts");
		return -1;
	}
	return 0;
}

int
rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	struct filecheck_doc fd;
	int rc = 0;

	/* The one shape check of rule files, then the comparison on the
	 * document it parsed. */
	if (filecheck_rules_doc(buf, len, &fd, err) == -1)
		return -1;
	if (svc != NULL)
		rc = compare_file(&fd.doc, svc, persistent_only, err);
	filecheck_doc_release(&fd);
	return rc;
}

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

int
rulecheck_promtool(const char *promtool, const char *path, const char *shown,
    char err[ERR_MAX])
{
	return promtool_run(promtool, path, -1, shown, err);
}

int
rulecheck_promtool_buf(const char *promtool, const char *buf, size_t len,
    const char *shown, char err[ERR_MAX])
{
	ssize_t n;
	size_t off = 0;
	int fd, rc;

	/* An anonymous file: nothing touches a disk, and the check leaves no
	 * trace in the data dir (not even a directory mtime). */
	if ((fd = memfd_create("flowmon-rules", MFD_CLOEXEC)) == -1) {
		snprintf(err, ERR_MAX, "cannot check with promtool: "
		    "memfd_create: %s", strerror(errno));
		return 1;
	}
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, ERR_MAX, "cannot check with promtool: "
			    "write: %s", strerror(errno));
			close(fd);
			return 1;
		}
		off += (size_t)n;
	}
	rc = promtool_run(promtool, PROMTOOL_FD_PATH, fd, shown, err);
	close(fd);
	return rc;
}

/* Runs promtool on path; when fd is not -1 it becomes the child's
 * descriptor PROMTOOL_FD, which path names. */
static int
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
		return 1;
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
		return 1;
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
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		snprintf(err, ERR_MAX, "promtool failed (status %d): %.200s",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
		return 1;
	}
	promtool_reason(out, path, shown, err);
	return -1;
}
