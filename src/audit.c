/* audit.c: `flowmon check`, a read-only audit of a data dir.
 *
 * It opens the data dir with store_open_ro(), not store_open(), because
 * opening a store for writing heals the data dir (it creates directories
 * and sweeps temp files) and a check must report what it finds, not fix
 * it. Through the store it sees the names the daemon uses (store_base), the
 * same temp-name rule and the same validators. It never writes, renames or
 * removes anything, so it is safe to run against the data dir of a
 * running daemon. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "bounds.h"
#include "config.h"
#include "filecheck.h"
#include "promtool.h"
#include "parser.h"
#include "quota.h"
#include "record.h"
#include "render.h"
#include "request.h"
#include "shortcuts.h"
#include "store.h"
#include "values.h"
#include "verdict.h"

/* A temp file younger than this whose writer still runs is a write in
 * flight, not a leftover. */
#define CHECK_TEMP_GRACE	60

struct checker {
	const char		*dir;
	struct store		 st;
	const struct audit_opts	*o;
	struct promtool		*pt;	/* NULL: no PromQL check */
	long			 problems;
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

/* The entries of <dir>/<kind>, sorted, for a stable report; NULL when
 * there are none or the directory cannot be read (reported). */
static struct store_entry *
list_dir(struct checker *c, enum store_kind kind, size_t *n)
{
	struct store_entry *v;
	char err[ERR_MAX];
	int e;

	if (store_list(&c->st, kind, &v, n, err) == 0)
		return v;
	if ((e = errno) == ENOENT && (kind == STORE_NODES ||
	    kind == STORE_REJECTED))
		return NULL;	/* made on first use */
	problem(c, store_dirname(kind), NULL, "cannot open: %s%s",
	    e == ELOOP ? "a symbolic link" : strerror(e), e == ENOENT ?
	    " (flowmon creates it at start; Prometheus watches only a "
	    "directory that exists)" : e == ELOOP ? " (flowmon refuses to "
	    "start on it: make it a directory)" : "");
	return NULL;
}

/* The store's name of a file of kind (its base name: the file name
 * without the kind's extension), or NULL when it has another extension
 * (malloc'd). */
static char *
base_of(enum store_kind kind, const char *file)
{
	const char *ext = store_ext(kind);
	size_t n = strlen(file), e = strlen(ext);
	char *s;

	if (n <= e || strcmp(file + n - e, ext) != 0)
		return NULL;
	if ((s = strndup(file, n - e)) == NULL)
		abort();
	return s;
}

/* A regular file (links are not the store's: it never makes one). */
static int
is_regular(const struct store_entry *e)
{
	return !e->link && S_ISREG(e->sb.st_mode);
}

/* A temp file: a leftover unless its writer runs and it is fresh. */
static void
audit_temp(struct checker *c, enum store_kind kind,
    const struct store_entry *e)
{
	long pid;

	if (!store_temp_name(e->file, &pid) || e->sb.st_mode == 0)
		return;		/* renamed or removed meanwhile: in flight */
	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	    time(NULL) - e->sb.st_mtime < CHECK_TEMP_GRACE)
		return;
	problem(c, store_dirname(kind), e->file, "stray temp file left by an "
	    "interrupted write (flowmon removes it at its next start)");
}

/* The record of the service whose files are named base, parsed; NULL
 * (with why) if absent or invalid. */
static struct service *
load_record(struct checker *c, const char *base, int *removed, int *present,
    char why[ERR_MAX])
{
	struct kvlist params = { 0 };
	struct service *svc = NULL;
	char *buf = NULL, *targets = NULL, b[214];
	size_t len, tlen = 0;

	*present = 0;
	*removed = 0;
	if (store_read(&c->st, STORE_STATE, base, BOUND_FILE_MAX, &buf, &len,
	    why) == -1) {
		*present = errno != ENOENT;
		return NULL;
	}
	*present = 1;
	if (record_decode(buf, len, &params, removed, NULL, why) == -1)
		goto out;
	if ((svc = calloc(1, sizeof(*svc))) == NULL)
		abort();
	if (request_parse(&params, c->o->rctx, svc, why) == -1) {
		free(svc);
		svc = NULL;
		goto out;
	}
	/* Its target file, as the daemon holds it to --max-target-bytes. */
	if (!*removed && render_targets(svc, NULL, 0, NULL, NULL, &targets,
	    &tlen, why) == 0 && quota_check_targets(svc->name, tlen,
	    &request_ctx_limits(c->o->rctx)->quota, why) == -1) {
		service_free(svc);
		svc = NULL;
		goto out;
	}
	/* As the daemon loads it: the record holds the name, the file is
	 * named after the name's base. */
	store_base(svc->name, b);
	if (strcmp(b, base) != 0) {
		snprintf(why, ERR_MAX, "the record names service %.255s",
		    svc->name);
		service_free(svc);
		svc = NULL;
	}
out:
	kvlist_release(&params);
	free(targets);
	free(buf);
	return svc;
}

static void
audit_state(struct checker *c)
{
	struct store_entry *v;
	char why[ERR_MAX];
	size_t n, i;

	v = list_dir(c, STORE_STATE, &n);
	for (i = 0; i < n; i++) {
		struct service *svc;
		char *base;
		int removed, present;

		audit_temp(c, STORE_STATE, &v[i]);
		if (v[i].file[0] == '.' || !is_regular(&v[i]) ||
		    (base = base_of(STORE_STATE, v[i].file)) == NULL)
			continue;
		if (!store_base_valid(base)) {
			problem(c, "state", v[i].file, "not a valid service "
			    "name: flowmon ignores this file");
			free(base);
			continue;
		}
		svc = load_record(c, base, &removed, &present, why);
		if (svc == NULL)
			problem(c, "state", v[i].file, "record does not load: "
			    "%s", why);
		service_free(svc);
		free(base);
	}
	store_entries_free(v, n);
}

static void
audit_nodes(struct checker *c)
{
	struct store_entry *v;
	char why[ERR_MAX], b[214];
	size_t n, i;

	v = list_dir(c, STORE_NODES, &n);
	for (i = 0; i < n; i++) {
		struct kvlist labels = { 0 };
		char *base, *id = NULL, *buf = NULL;
		size_t len;

		audit_temp(c, STORE_NODES, &v[i]);
		if (v[i].file[0] == '.' || !is_regular(&v[i]) ||
		    (base = base_of(STORE_NODES, v[i].file)) == NULL)
			continue;
		if (store_read_entry(&c->st, STORE_NODES, v[i].file,
		    BOUND_FILE_MAX, &buf, &len, why) == -1 ||
		    record_node_decode(buf, len, &id, &labels, why) == -1)
			problem(c, "nodes", v[i].file, "node record does not "
			    "load: %s", why);
		else if (store_base(id, b), strcmp(b, base) != 0)
			problem(c, "nodes", v[i].file, "record holds node id "
			    "%.200s", id);
		kvlist_release(&labels);
		free(id);
		free(buf);
		free(base);
	}
	store_entries_free(v, n);
}

/* A file a Prometheus glob reads although its name starts with a dot:
 * a problem, unless it is a temp file (audit_temp judges those). */
static int
hidden(struct checker *c, enum store_kind kind, const struct store_entry *e)
{
	if (e->file[0] != '.')
		return 0;
	if (!store_temp_name(e->file, NULL))
		problem(c, store_dirname(kind), e->file, "hidden file that "
		    "Prometheus's *%s glob still reads", store_ext(kind));
	return 1;
}

static void
audit_targets(struct checker *c)
{
	struct store_entry *v;
	char path[4096], why[ERR_MAX];
	size_t n, i;

	v = list_dir(c, STORE_TARGETS, &n);
	for (i = 0; i < n; i++) {
		char *base, *buf = NULL;
		size_t len;

		audit_temp(c, STORE_TARGETS, &v[i]);
		if (!is_regular(&v[i]) ||
		    (base = base_of(STORE_TARGETS, v[i].file)) == NULL)
			continue;
		if (hidden(c, STORE_TARGETS, &v[i])) {
			free(base);
			continue;
		}
		if (store_read_entry(&c->st, STORE_TARGETS, v[i].file,
		    BOUND_FILE_MAX, &buf, &len, why) == -1)
			problem(c, "targets", v[i].file, "%s", why);
		else if (filecheck_targets(buf, len, why) == -1)
			problem(c, "targets", v[i].file, "invalid file_sd "
			    "file: %s (Prometheus keeps this file's last good "
			    "targets until restarted)", why);
		/* Names that are not service names (flowmon's own
		 * _flowmon.json sentinel) have no record by design. */
		if (store_base_valid(base) &&
		    !store_exists(&c->st, STORE_STATE, base)) {
			snprintf(path, sizeof(path), "%s/targets/%s", c->dir,
			    v[i].file);
			note(c, "%s: no record in state/: not flowmon's file, "
			    "or left over", path);
		}
		free(buf);
		free(base);
	}
	store_entries_free(v, n);
}

/* One rule file read for the verdict. */
struct audited {
	const char	*file;
	char		*base;
	struct service	*svc;		/* its record; NULL: none loads */
	int		 present;	/* a record is there, loads or not */
};

/* Every rule file gets the one rule verdict, all in one promtool batch:
 * as Prometheus reads it, then against its record. A rule file that
 * differs from its record is not what flowmon believes Prometheus runs;
 * one whose newer version Prometheus refused (rejected/) is expected to
 * differ. */
static void
audit_rules(struct checker *c)
{
	struct store_entry *v;
	struct audited *a;
	struct verdict *vd;
	char why[ERR_MAX], *buf;
	size_t n, i, k = 0;
	int noted = 0;

	v = list_dir(c, STORE_RULES, &n);
	if ((a = calloc(n + 1, sizeof(*a))) == NULL ||
	    (vd = calloc(n + 1, sizeof(*vd))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		audit_temp(c, STORE_RULES, &v[i]);
		if (!is_regular(&v[i]) ||
		    (a[k].base = base_of(STORE_RULES, v[i].file)) == NULL)
			continue;
		if (hidden(c, STORE_RULES, &v[i]) ||
		    store_read_entry(&c->st, STORE_RULES, v[i].file,
		    BOUND_FILE_MAX, &buf, &vd[k].len, why) == -1) {
			if (v[i].file[0] != '.')
				problem(c, "rules", v[i].file, "%s", why);
			free(a[k].base);
			continue;
		}
		a[k].file = v[i].file;
		a[k].present = 1;
		if (store_base_valid(a[k].base) && (a[k].svc = load_record(c,
		    a[k].base, &vd[k].removed, &a[k].present, why)) != NULL &&
		    !store_exists(&c->st, STORE_REJECTED, a[k].base))
			vd[k].record = a[k].svc;
		snprintf(vd[k].shown, sizeof(vd[k].shown), "rules/%s",
		    v[i].file);
		vd[k++].buf = buf;
	}
	verdict_rules(c->pt, NULL, vd, k);
	for (i = 0; i < k; i++) {
		if (vd[i].kind == FM_REFUSED)
			problem(c, "rules", a[i].file, "invalid rule file: %s",
			    vd[i].reason);
		else if (vd[i].kind != FM_OK)
			problem(c, "rules", a[i].file, "does not match "
			    "state/%s.json: %s (flowmon rewrites it at its "
			    "next start)", a[i].base, vd[i].reason);
		else if (!a[i].present)
			note(c, "%s/rules/%s: no record in state/: not "
			    "flowmon's file, or left over", c->dir, a[i].file);
		if (vd[i].unchecked && vd[i].kind == FM_OK && !noted++)
			note(c, "promtool could not run (%s): PromQL not "
			    "checked", vd[i].reason);
		service_free(a[i].svc);
		free(a[i].base);
		free((char *)vd[i].buf);
	}
	free(a);
	free(vd);
	store_entries_free(v, n);
}

static void
audit_rejected(struct checker *c)
{
	struct store_entry *v;
	size_t n, i;

	v = list_dir(c, STORE_REJECTED, &n);
	for (i = 0; i < n; i++) {
		audit_temp(c, STORE_REJECTED, &v[i]);
		if (v[i].file[0] == '.' || !is_regular(&v[i]))
			continue;
		problem(c, "rejected", v[i].file, "a rule file Prometheus "
		    "refused: this service's new alerts are not loaded "
		    "until its alerts change");
	}
	store_entries_free(v, n);
}

long
audit_dir(const char *dir, const struct audit_opts *opts, char err[ERR_MAX])
{
	struct checker c;

	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.o = opts;
	if (store_open_ro(&c.st, dir, err) == -1)
		return -1;
	if (opts->promtool != NULL &&
	    (c.pt = promtool_new(opts->promtool, 0, err)) == NULL) {
		store_release(&c.st);
		return -1;
	}
	audit_state(&c);
	audit_nodes(&c);
	audit_targets(&c);
	audit_rules(&c);
	audit_rejected(&c);
	promtool_free(c.pt);
	store_release(&c.st);
	return c.problems;
}

int
audit_main(int argc, char **argv)
{
	struct audit_opts o;
	struct parser *p = NULL;
	struct shortcuts *sc = NULL;
	struct config cfg;
	char err[ERR_MAX];
	long n;
	int rc;

	if ((rc = config_parse(&cfg, CONFIG_CHECK, argc, argv, err)) != 0) {
		if (rc == 1) {
			config_release(&cfg);
			return 0;
		}
		fprintf(stderr, "flowmon check: %s\n", err);
		config_release(&cfg);
		return 2;
	}
	if ((sc = shortcuts_load(cfg.shortcuts, cfg.secrets_dir,
	    err)) == NULL) {
		/* Records using @shortcuts will fail to load and say so. */
		fprintf(stderr, "flowmon check: cannot load the shortcuts: %s\n",
		    err);
	}
	/* A record is judged by the daemon's limits (issue 13). */
	if ((p = parser_new(&cfg, sc)) == NULL)
		abort();
	o.rctx = parser_ctx(p);
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
	parser_free(p);
	config_release(&cfg);
	return rc;
}
