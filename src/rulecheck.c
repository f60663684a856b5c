/* rulecheck.c: validation of a rendered rule file before it may enter
 * rules/: a libyaml round trip against the record it came from, and
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

#include <yaml.h>

#include "rulecheck.h"
#include "values.h"

#define PROMTOOL_TIMEOUT_MS	20000
#define PROMTOOL_OUTPUT_MAX	4096
#define PROMTOOL_FD		3
#define PROMTOOL_FD_PATH	"/dev/fd/3"

static int	promtool_run(const char *, const char *, int, const char *,
		    char[ERR_MAX]);

extern char **environ;

/* The scalar's text, or NULL when node is not a scalar. */
static const char *
scalar(yaml_node_t *node, size_t *len)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return NULL;
	*len = node->data.scalar.length;
	return (const char *)node->data.scalar.value;
}

static int
scalar_is(yaml_node_t *node, const char *s)
{
	const char *v;
	size_t len;

	return (v = scalar(node, &len)) != NULL && len == strlen(s) &&
	    memcmp(v, s, len) == 0;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++)
		if (scalar_is(yaml_document_get_node(d, p->key), key))
			return yaml_document_get_node(d, p->value);
	return NULL;
}

/* Checks a labels or annotations mapping (NULL: absent) and, when want is
 * given, that it holds exactly want's pairs in order. */
static int
check_map(yaml_document_t *d, yaml_node_t *m, const struct kvlist *want,
    const char *what, const char *alert, char err[ERR_MAX])
{
	yaml_node_pair_t *p, *q;
	const char *k, *v;
	size_t klen = 0, vlen = 0, i = 0;

	if (m == NULL) {
		if (want != NULL && want->n > 0)
			goto differs;
		return 0;
	}
	if (m->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "rule %.100s: %s is not a map", alert,
		    what);
		return -1;
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++, i++) {
		k = scalar(yaml_document_get_node(d, p->key), &klen);
		v = scalar(yaml_document_get_node(d, p->value), &vlen);
		if (k == NULL || v == NULL || strlen(k) != klen ||
		    !values_label_name_valid(k)) {
			snprintf(err, ERR_MAX, "rule %.100s: %s has an invalid "
			    "name or a value that is not a string", alert,
			    what);
			return -1;
		}
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			if (scalar_is(yaml_document_get_node(d, q->key), k)) {
				snprintf(err, ERR_MAX, "rule %.100s: %s has "
				    "%.100s twice", alert, what, k);
				return -1;
			}
		}
		if (want != NULL && (i >= want->n ||
		    strcmp(want->v[i].key, k) != 0 ||
		    strlen(want->v[i].value) != vlen ||
		    memcmp(want->v[i].value, v, vlen) != 0))
			goto differs;
	}
	if (want != NULL && i != want->n)
		goto differs;
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

/* 1 when every key of mapping m is one of keys (NULL-terminated) and none
 * is there twice. Prometheus decodes rule files strictly: an unknown or
 * repeated key anywhere fails the file, and with it the whole reload. */
static int
keys_only(yaml_document_t *d, yaml_node_t *m, const char *const *keys)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *k;
	size_t i;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		for (i = 0; keys[i] != NULL && !scalar_is(k, keys[i]); i++)
			;
		if (keys[i] == NULL)
			return 0;
		for (q = m->data.mapping.pairs.start; q < p; q++)
			if (scalar_is(yaml_document_get_node(d, q->key),
			    keys[i]))
				return 0;
	}
	return 1;
}

static int
check_rule(yaml_document_t *d, yaml_node_t *rule, const struct alert *want,
    char err[ERR_MAX])
{
	static const char *const rule_keys[] = { "alert", "expr", "for",
	    "labels", "annotations", NULL };
	yaml_node_t *n;
	const char *name, *expr, *f = NULL;
	size_t nlen = 0, elen = 0, flen = 0;

	if (rule == NULL || rule->type != YAML_MAPPING_NODE) {
		snprintf(err, ERR_MAX, "a rule is not a map");
		return -1;
	}
	if (!keys_only(d, rule, rule_keys)) {
		snprintf(err, ERR_MAX, "a rule has an unknown key or a key "
		    "twice");
		return -1;
	}
	name = scalar(map_get(d, rule, "alert"), &nlen);
	if (name == NULL || strlen(name) != nlen || !alert_name_valid(name)) {
		snprintf(err, ERR_MAX, "a rule has no valid alert name");
		return -1;
	}
	if ((expr = scalar(map_get(d, rule, "expr"), &elen)) == NULL ||
	    elen == 0 || strlen(expr) != elen) {
		snprintf(err, ERR_MAX, "rule %.100s has no expression", name);
		return -1;
	}
	n = map_get(d, rule, "for");
	if (n != NULL && ((f = scalar(n, &flen)) == NULL ||
	    !values_duration_valid(f))) {
		snprintf(err, ERR_MAX, "rule %.100s: for is not a duration",
		    name);
		return -1;
	}
	if (want != NULL && (strcmp(want->name, name) != 0 ||
	    strlen(want->expr) != elen || memcmp(want->expr, expr, elen) != 0 ||
	    (want->for_ == NULL) != (n == NULL) ||
	    (n != NULL && strcmp(want->for_, f) != 0))) {
		snprintf(err, ERR_MAX, "rule %.100s does not read back as "
		    "written", name);
		return -1;
	}
	if (check_map(d, map_get(d, rule, "labels"),
	    want != NULL ? &want->labels : NULL, "labels", name, err) == -1 ||
	    check_map(d, map_get(d, rule, "annotations"),
	    want != NULL ? &want->annotations : NULL, "annotations", name,
	    err) == -1)
		return -1;
	return 0;
}

int
rulecheck_load(yaml_parser_t *parser, yaml_document_t *doc, const char *buf,
    size_t len, char err[ERR_MAX])
{
	if (!yaml_parser_initialize(parser)) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(parser, doc)) {
		snprintf(err, ERR_MAX, "rule file is not YAML: %.200s at line "
		    "%zu", parser->problem ? parser->problem : "parse error",
		    parser->problem_mark.line + 1);
		yaml_parser_delete(parser);
		return -1;
	}
	return 0;
}

int
rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
    int persistent_only, char err[ERR_MAX])
{
	static const char *const root_keys[] = { "groups", NULL };
	static const char *const group_keys[] = { "name", "rules", NULL };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *groups, *group, *rules;
	yaml_node_item_t *it;
	const char *gname;
	size_t i = 0, glen = 0;
	int rc = -1;

	if (rulecheck_load(&parser, &doc, buf, len, err) == -1)
		return -1;
	root = yaml_document_get_root_node(&doc);
	groups = map_get(&doc, root, "groups");
	if (groups == NULL || groups->type != YAML_SEQUENCE_NODE ||
	    groups->data.sequence.items.top -
	    groups->data.sequence.items.start != 1) {
		snprintf(err, ERR_MAX, "rule file must hold one group");
		goto out;
	}
	group = yaml_document_get_node(&doc, *groups->data.sequence.items.start);
	/* flowmon writes groups: [{name, rules}] and nothing else. */
	if (!keys_only(&doc, root, root_keys) || group == NULL ||
	    group->type != YAML_MAPPING_NODE ||
	    !keys_only(&doc, group, group_keys)) {
		snprintf(err, ERR_MAX, "the rule file has a key other than "
		    "groups, name and rules, or one twice");
		goto out;
	}
	gname = scalar(map_get(&doc, group, "name"), &glen);
	if (gname == NULL || glen == 0 || strlen(gname) != glen ||
	    (svc != NULL && strcmp(gname, svc->name) != 0)) {
		snprintf(err, ERR_MAX, "the group is not named after the "
		    "service");
		goto out;
	}
	rules = map_get(&doc, group, "rules");
	if (rules == NULL || rules->type != YAML_SEQUENCE_NODE) {
		snprintf(err, ERR_MAX, "the group has no rules list");
		goto out;
	}
	for (it = rules->data.sequence.items.start;
	    it < rules->data.sequence.items.top; it++) {
		const struct alert *want = NULL;

		if (svc != NULL) {
			while (i < svc->nalerts && persistent_only &&
			    !svc->alerts[i].persistent)
				i++;
			if (i == svc->nalerts) {
				snprintf(err, ERR_MAX, "more rules than "
				    "alerts");
				goto out;
			}
			want = &svc->alerts[i++];
		}
		if (check_rule(&doc, yaml_document_get_node(&doc, *it), want,
		    err) == -1)
			goto out;
	}
	while (svc != NULL && i < svc->nalerts && persistent_only &&
	    !svc->alerts[i].persistent)
		i++;
	if (svc != NULL && i != svc->nalerts) {
		snprintf(err, ERR_MAX, "fewer rules than alerts");
		goto out;
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
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
