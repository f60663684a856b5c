/* audit.c: `flowmon check`, a read-only audit of a data dir.
 *
 * It reads the directories itself instead of going through store_open(),
 * because opening a store heals the data dir (it creates directories and
 * sweeps temp files) and a check must report what it finds, not fix it.
 * It never writes, renames or removes anything, so it is safe to run
 * against the data dir of a running daemon. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "audit.h"
#include "config.h"
#include "record.h"
#include "request.h"
#include "rulecheck.h"
#include "shortcuts.h"
#include "store.h"

#define CHECK_FILE_MAX		(64 << 20)
/* A temp file younger than this whose writer still runs is a write in
 * flight, not a leftover. */
#define CHECK_TEMP_GRACE	60

struct checker {
	const char		*dir;
	const struct audit_opts	*o;
	long			 problems;
	int			 promtool_noted;
};

static void
problem(struct checker *c, const char *kind, const char *file,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct checker *c, const char *kind, const char *file,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(c->o->out, "%s/%s%s%s: ", c->dir, kind, file ? "/" : "",
	    file ? file : "");
	va_start(ap, fmt);
	vfprintf(c->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->o->out);
	c->problems++;
}

static void
note(struct checker *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->notes == NULL)
		return;
	fputs("note: ", c->o->notes);
	va_start(ap, fmt);
	vfprintf(c->o->notes, fmt, ap);
	va_end(ap);
	fputc('\n', c->o->notes);
}

/* Pure checks. */

static int
target_valid(const char *t, char err[ERR_MAX])
{
	const char *colon = strrchr(t, ':');
	const char *p;
	char *end;
	long port;

	if (*t == '\0') {
		snprintf(err, ERR_MAX, "an empty target");
		return -1;
	}
	for (p = t; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f) {
			snprintf(err, ERR_MAX, "target \"%.200s\" is not "
			    "host:port", t);
			return -1;
		}
	}
	if (colon == NULL || colon == t)
		return 0;	/* host only: Prometheus adds the port */
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		snprintf(err, ERR_MAX, "target \"%.200s\": port is not "
		    "1..65535", t);
		return -1;
	}
	return 0;
}

int
audit_targets_json(const char *buf, size_t len, char err[ERR_MAX])
{
	const cJSON *g, *it;
	cJSON *root;
	int rc = -1, i = 0;

	if ((root = cJSON_ParseWithLength(buf, len)) == NULL) {
		snprintf(err, ERR_MAX, "not JSON (torn or hand-edited?)");
		return -1;
	}
	if (!cJSON_IsArray(root)) {
		snprintf(err, ERR_MAX, "not a JSON array of target groups");
		goto out;
	}
	cJSON_ArrayForEach(g, root) {
		if (!cJSON_IsObject(g)) {
			snprintf(err, ERR_MAX, "group %d is not an object", i);
			goto out;
		}
		cJSON_ArrayForEach(it, g) {
			if (strcmp(it->string, "targets") != 0 &&
			    strcmp(it->string, "labels") != 0) {
				snprintf(err, ERR_MAX, "group %d: unknown key "
				    "\"%.100s\"", i, it->string);
				goto out;
			}
		}
		if ((it = cJSON_GetObjectItemCaseSensitive(g,
		    "targets")) != NULL) {
			const cJSON *t;

			if (!cJSON_IsArray(it)) {
				snprintf(err, ERR_MAX, "group %d: targets is "
				    "not an array", i);
				goto out;
			}
			cJSON_ArrayForEach(t, it) {
				char why[ERR_MAX];

				if (!cJSON_IsString(t)) {
					snprintf(err, ERR_MAX, "group %d: a "
					    "target is not a string", i);
					goto out;
				}
				if (target_valid(t->valuestring, why) == -1) {
					snprintf(err, ERR_MAX, "group %d: %.400s",
					    i, why);
					goto out;
				}
			}
		}
		if ((it = cJSON_GetObjectItemCaseSensitive(g,
		    "labels")) != NULL) {
			const cJSON *l;

			if (!cJSON_IsObject(it)) {
				snprintf(err, ERR_MAX, "group %d: labels is "
				    "not an object", i);
				goto out;
			}
			cJSON_ArrayForEach(l, it) {
				if (!request_label_name_valid(l->string)) {
					snprintf(err, ERR_MAX, "group %d: "
					    "\"%.100s\" is not a valid label "
					    "name", i, l->string);
					goto out;
				}
				if (!cJSON_IsString(l)) {
					snprintf(err, ERR_MAX, "group %d: label "
					    "%.100s is not a string", i,
					    l->string);
					goto out;
				}
			}
		}
		i++;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

int
audit_temp_name(const char *name, long *pid)
{
	const char *t;
	char *end;

	*pid = 0;
	if (name[0] != '.' || (t = strstr(name, ".tmp.")) == NULL)
		return 0;
	/* The last ".tmp." is store_write's: .<file>.tmp.<pid>.<seq> */
	for (;;) {
		const char *n = strstr(t + 1, ".tmp.");

		if (n == NULL)
			break;
		t = n;
	}
	*pid = strtol(t + 5, &end, 10);
	if (end == t + 5 || *end != '.' || *pid <= 0)
		*pid = 0;
	return 1;
}

/* IO, read-only. */

static int
read_file(const char *path, char **buf, size_t *len, char err[ERR_MAX])
{
	struct stat sb;
	char *b = NULL;
	size_t n = 0;
	int fd, saved;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		goto fail;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if ((size_t)sb.st_size > CHECK_FILE_MAX) {
		snprintf(err, ERR_MAX, "larger than %d bytes", CHECK_FILE_MAX);
		close(fd);
		return -1;
	}
	if ((b = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + n, (size_t)sb.st_size - n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
fail:
	saved = errno;
	snprintf(err, ERR_MAX, "cannot read: %s", strerror(saved));
	if (fd != -1)
		close(fd);
	free(b);
	errno = saved;
	return -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in <dir>/<kind>, sorted, for a stable report. */
static char **
list_dir(struct checker *c, enum store_kind kind, size_t *n)
{
	char path[4096], **names = NULL;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", c->dir, store_dirname(kind));
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT && (kind == STORE_NODES ||
		    kind == STORE_REJECTED))
			return NULL;	/* made on first use */
		problem(c, store_dirname(kind), NULL, "cannot open: %s%s",
		    strerror(errno), errno == ENOENT ? " (flowmon creates "
		    "it at start; Prometheus watches only a directory that "
		    "exists)" : "");
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				abort();
			names = nn;
		}
		if ((names[*n] = strdup(de->d_name)) == NULL)
			abort();
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

/* name without ext if it ends in ext, else NULL (malloc'd). */
static char *
strip_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	char *s;

	if (n <= e || strcmp(name + n - e, ext) != 0)
		return NULL;
	if ((s = strndup(name, n - e)) == NULL)
		abort();
	return s;
}

static int
is_regular(struct checker *c, enum store_kind kind, const char *name)
{
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s/%s", c->dir, store_dirname(kind),
	    name);
	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A temp file: a leftover unless its writer runs and it is fresh. */
static void
audit_temp(struct checker *c, enum store_kind kind, const char *name)
{
	char path[4096];
	struct stat sb;
	long pid;

	if (!audit_temp_name(name, &pid))
		return;
	snprintf(path, sizeof(path), "%s/%s/%s", c->dir, store_dirname(kind),
	    name);
	if (lstat(path, &sb) == -1)
		return;		/* renamed or removed meanwhile: in flight */
	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	    time(NULL) - sb.st_mtime < CHECK_TEMP_GRACE)
		return;
	problem(c, store_dirname(kind), name, "stray temp file left by an "
	    "interrupted write (flowmon removes it at its next start)");
}

/* The record of a service, parsed; NULL (with why) if absent/invalid. */
static struct service *
load_record(struct checker *c, const char *svcname, int *removed,
    int *present, char why[ERR_MAX])
{
	struct kvlist params = { 0 };
	struct service *svc = NULL;
	char path[4096], *buf = NULL;
	size_t len;

	*present = 0;
	*removed = 0;
	snprintf(path, sizeof(path), "%s/state/%s.json", c->dir, svcname);
	if (read_file(path, &buf, &len, why) == -1) {
		*present = errno != ENOENT;
		return NULL;
	}
	*present = 1;
	if (record_decode(buf, len, &params, removed, why) == -1)
		goto out;
	if ((svc = calloc(1, sizeof(*svc))) == NULL)
		abort();
	if (request_parse(&params, c->o->rctx, svc, why) == -1) {
		free(svc);
		svc = NULL;
		goto out;
	}
	if (strcmp(svc->name, svcname) != 0) {
		snprintf(why, ERR_MAX, "the record names service %.255s",
		    svc->name);
		service_free(svc);
		svc = NULL;
	}
out:
	kvlist_release(&params);
	free(buf);
	return svc;
}

static void
audit_state(struct checker *c)
{
	char **names, why[ERR_MAX];
	size_t n, i;

	names = list_dir(c, STORE_STATE, &n);
	for (i = 0; i < n; i++) {
		struct service *svc;
		char *svcname;
		int removed, present;

		audit_temp(c, STORE_STATE, names[i]);
		if (names[i][0] == '.' || !is_regular(c, STORE_STATE,
		    names[i]) || (svcname = strip_ext(names[i],
		    ".json")) == NULL)
			continue;
		if (!service_name_valid(svcname)) {
			problem(c, "state", names[i], "not a valid service "
			    "name: flowmon ignores this file");
			free(svcname);
			continue;
		}
		svc = load_record(c, svcname, &removed, &present, why);
		if (svc == NULL)
			problem(c, "state", names[i], "record does not load: "
			    "%s", why);
		service_free(svc);
		free(svcname);
	}
	strv_free(names, n);
}

static void
audit_nodes(struct checker *c)
{
	char **names, path[4096], why[ERR_MAX];
	size_t n, i;

	names = list_dir(c, STORE_NODES, &n);
	for (i = 0; i < n; i++) {
		struct kvlist labels = { 0 };
		char *id_file, *id = NULL, *buf = NULL;
		size_t len;

		audit_temp(c, STORE_NODES, names[i]);
		if (names[i][0] == '.' || !is_regular(c, STORE_NODES,
		    names[i]) || (id_file = strip_ext(names[i],
		    ".json")) == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/nodes/%s", c->dir, names[i]);
		if (read_file(path, &buf, &len, why) == -1 ||
		    record_node_decode(buf, len, &id, &labels, why) == -1)
			problem(c, "nodes", names[i], "node record does not "
			    "load: %s", why);
		else if (strcmp(id, id_file) != 0)
			problem(c, "nodes", names[i], "record holds node id "
			    "%.200s", id);
		kvlist_release(&labels);
		free(id);
		free(buf);
		free(id_file);
	}
	strv_free(names, n);
}

static void
audit_targets(struct checker *c)
{
	char **names, path[4096], why[ERR_MAX];
	size_t n, i;

	names = list_dir(c, STORE_TARGETS, &n);
	for (i = 0; i < n; i++) {
		char *svcname, *buf = NULL, rpath[4096];
		size_t len;
		struct stat sb;

		audit_temp(c, STORE_TARGETS, names[i]);
		if (!is_regular(c, STORE_TARGETS, names[i]) ||
		    (svcname = strip_ext(names[i], ".json")) == NULL)
			continue;
		if (names[i][0] == '.') {
			long pid;

			if (!audit_temp_name(names[i], &pid))
				problem(c, "targets", names[i], "hidden file "
				    "that Prometheus's *.json glob still "
				    "reads");
			free(svcname);
			continue;
		}
		snprintf(path, sizeof(path), "%s/targets/%s", c->dir,
		    names[i]);
		if (read_file(path, &buf, &len, why) == -1)
			problem(c, "targets", names[i], "%s", why);
		else if (audit_targets_json(buf, len, why) == -1)
			problem(c, "targets", names[i], "invalid file_sd "
			    "file: %s (Prometheus keeps this file's last good "
			    "targets until restarted)", why);
		snprintf(rpath, sizeof(rpath), "%s/state/%s.json", c->dir,
		    svcname);
		/* Names that are not service names (flowmon's own
		 * _flowmon.json sentinel) have no record by design. */
		if (service_name_valid(svcname) && stat(rpath, &sb) == -1 &&
		    errno == ENOENT)
			note(c, "%s: no record in state/: not flowmon's file, "
			    "or left over", path);
		free(buf);
		free(svcname);
	}
	strv_free(names, n);
}

static void
audit_one_rule_file(struct checker *c, const char *file, const char *svcname)
{
	char path[4096], rej[4096], why[ERR_MAX], *buf = NULL;
	struct service *svc = NULL;
	struct stat sb;
	size_t len;
	int removed, present, rc;

	snprintf(path, sizeof(path), "%s/rules/%s", c->dir, file);
	if (read_file(path, &buf, &len, why) == -1) {
		problem(c, "rules", file, "%s", why);
		return;
	}
	if (rulecheck_yaml(buf, len, NULL, 0, why) == -1) {
		problem(c, "rules", file, "invalid rule file: %s", why);
		goto out;
	}
	if (c->o->promtool != NULL) {
		rc = rulecheck_promtool(c->o->promtool, path, path, why);
		if (rc == -1) {
			problem(c, "rules", file, "promtool check rules "
			    "failed: %s", why);
			goto out;
		}
		if (rc == 1 && !c->promtool_noted) {
			note(c, "promtool could not run (%s): PromQL not "
			    "checked", why);
			c->promtool_noted = 1;
		}
	}
	/* A rule file that differs from its record is not what flowmon
	 * believes Prometheus runs; one whose newer version Prometheus
	 * refused (rejected/) is expected to differ. */
	if (!service_name_valid(svcname))
		goto out;
	svc = load_record(c, svcname, &removed, &present, why);
	if (svc == NULL) {
		if (!present)
			note(c, "%s: no record in state/: not flowmon's file, "
			    "or left over", path);
		goto out;
	}
	snprintf(rej, sizeof(rej), "%s/rejected/%s.yml", c->dir, svcname);
	if (stat(rej, &sb) == 0)
		goto out;
	if (rulecheck_yaml(buf, len, svc, removed, why) == -1)
		problem(c, "rules", file, "does not match state/%s.json: %s "
		    "(flowmon rewrites it at its next start)", svcname, why);
out:
	service_free(svc);
	free(buf);
}

static void
audit_rules(struct checker *c)
{
	char **names;
	size_t n, i;

	names = list_dir(c, STORE_RULES, &n);
	for (i = 0; i < n; i++) {
		char *svcname;

		audit_temp(c, STORE_RULES, names[i]);
		if (!is_regular(c, STORE_RULES, names[i]) ||
		    (svcname = strip_ext(names[i], ".yml")) == NULL)
			continue;
		if (names[i][0] == '.') {
			long pid;

			if (!audit_temp_name(names[i], &pid))
				problem(c, "rules", names[i], "hidden file "
				    "that Prometheus's *.yml glob still reads");
			free(svcname);
			continue;
		}
		audit_one_rule_file(c, names[i], svcname);
		free(svcname);
	}
	strv_free(names, n);
}

static void
audit_rejected(struct checker *c)
{
	char **names;
	size_t n, i;

	names = list_dir(c, STORE_REJECTED, &n);
	for (i = 0; i < n; i++) {
		audit_temp(c, STORE_REJECTED, names[i]);
		if (names[i][0] == '.' || !is_regular(c, STORE_REJECTED,
		    names[i]))
			continue;
		problem(c, "rejected", names[i], "a rule file Prometheus "
		    "refused: this service's new alerts are not loaded "
		    "until its alerts change");
	}
	strv_free(names, n);
}

long
audit_dir(const char *dir, const struct audit_opts *opts, char err[ERR_MAX])
{
	struct checker c = { dir, opts, 0, 0 };
	struct stat sb;

	if (stat(dir, &sb) == -1) {
		snprintf(err, ERR_MAX, "data dir %.300s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, ERR_MAX, "data dir %.300s: not a directory", dir);
		return -1;
	}
	audit_state(&c);
	audit_nodes(&c);
	audit_targets(&c);
	audit_rules(&c);
	audit_rejected(&c);
	return c.problems;
}

int
audit_main(int argc, char **argv)
{
	struct request_ctx rctx;
	struct audit_opts o;
	struct shortcuts *sc = NULL;
	struct config cfg;
	char err[ERR_MAX];
	long n;
	int rc;

	if ((rc = config_parse(&cfg, argc, argv, err)) != 0) {
		if (rc == 1) {
			config_release(&cfg);
			return 0;
		}
		fprintf(stderr, "flowmon check: %s\n", err);
		config_release(&cfg);
		return 2;
	}
	{
		/* A record is judged by the daemon's limits (issue 13). */
		struct request_limits lim;

		config_limits(&cfg, &lim);
		request_set_limits(&lim);
	}
	memset(&rctx, 0, sizeof(rctx));
	if ((sc = shortcuts_load(cfg.shortcuts, cfg.secrets_dir,
	    err)) == NULL) {
		/* Records using @shortcuts will fail to load and say so. */
		fprintf(stderr, "flowmon check: cannot load the shortcuts: %s\n",
		    err);
	}
	rctx.shortcuts = sc;
	rctx.target_labels = (const char *const *)cfg.target_labels;
	rctx.ntarget_labels = cfg.ntarget_labels;
	o.rctx = &rctx;
	o.promtool = cfg.promtool;
	o.out = stdout;
	o.notes = stderr;
	if (cfg.promtool == NULL)
		fprintf(stderr, "note: no promtool (--promtool): rule files "
		    "are checked by flowmon's own parser only\n");
	n = audit_dir(cfg.data_dir, &o, err);
	if (n == -1) {
		fprintf(stderr, "flowmon check: %s\n", err);
		rc = 2;
	} else {
		fprintf(stderr, "flowmon check: %s: %ld problem%s\n",
		    cfg.data_dir, n, n == 1 ? "" : "s");
		rc = n > 0 ? 1 : 0;
	}
	fflush(stdout);
	shortcuts_free(sc);
	config_release(&cfg);
	return rc;
}
