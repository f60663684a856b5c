/* files.c: who wrote each file under targets/ and rules/, and would
 * Prometheus read it. Scans run in the watcher's thread (watch.h), one at
 * a time; the listing they produce is swapped in under a lock for the
 * HTTP front to read.
 *
 * Ownership comes from the registry, which keeps the hash of every file
 * it wrote: the same bytes are flowmon's, other bytes under a name flowmon
 * wrote are a hand edit, any other name is an operator's. The registry
 * updates a hash under the service's lock together with the write, so the
 * only way to see a false "edited" is to read a file just before flowmon
 * replaces it; reading it again tells the two apart (the bytes moved), and
 * only a confirmed edit is reported back to the registry.
 *
 * Nothing here writes to the data dir, and it reads it only through the
 * store (watch_snap_take_store, store_read_entry): files flowmon did not
 * write are left alone. A hand-edited flowmon file is replaced from the
 * record by the registry at the next reconfigure of that service. One of
 * flowmon's files missing from a scan is handed to the registry, which
 * writes it again from its record (registry_heal) under the service's
 * lock: the watcher notices, the registry writes. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expo.h"
#include "filecheck.h"
#include "files.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "reloader.h"
#include "store.h"
#include "values.h"
#include "verdict.h"
#include "watch.h"

/* While files change, look again this soon (inotify usually beats it). */
#define FILES_SETTLE_MS		1000
/* Re-reads of a file that moves while it is being classified. */
#define FILES_TRIES		3

enum { F_TARGETS, F_RULES, F_NDIRS };

static const enum store_kind files_kinds[F_NDIRS] = { STORE_TARGETS,
	STORE_RULES };
static const char *const files_owner_text[] = {
	[REGISTRY_OWNER_NONE] = "operator",
	[REGISTRY_OWNER_FLOWMON] = "flowmon",
	[REGISTRY_OWNER_EDITED] = "flowmon, edited by hand",
};
/* The same, as a metric label value. */
static const char *const files_owner_label[] = {
	[REGISTRY_OWNER_NONE] = "operator",
	[REGISTRY_OWNER_FLOWMON] = "flowmon",
	[REGISTRY_OWNER_EDITED] = "edited",
};

static const char *
files_dir(int d)
{
	return store_dirname(files_kinds[d]);
}

static const char *
files_ext(int d)
{
	return store_ext(files_kinds[d]);
}

struct fentry {
	int		 dir;		/* F_TARGETS or F_RULES */
	char		*name;		/* file name */
	uint64_t	 hash;		/* of the contents examined */
	size_t		 size;
	time_t		 mtime;
	int		 error;		/* errno reading it, 0 if read */
	int		 matched;	/* the Prometheus glob reads it */
	enum registry_owner owner;
	int		 valid;
	char		*reason;	/* why not valid; NULL if valid */
	char		*judge;		/* a rule file's bytes waiting for the
					   scan's one verdict (files_judge) */
	size_t		 judge_len;
};

struct files {
	struct store	*st;
	struct registry	*reg;
	struct reloader	*rl;
	struct promtool	*pt;
	char		*dirs[F_NDIRS];
	struct watch	*w;
	pthread_mutex_t	 lock;		/* guards the fields below */
	struct fentry	*v;		/* by dir, then name */
	size_t		 n;
	uint64_t	 scans;
	uint64_t	 scan_errors;
	uint64_t	 triggers;	/* reloads asked for by hand edits */
	time_t		 last_scan;
};

static void
fentry_release(struct fentry *e)
{
	free(e->name);
	free(e->reason);
	free(e->judge);
}

static void
fentries_free(struct fentry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fentry_release(&v[i]);
	free(v);
}

static int
fentry_cmp(const void *a, const void *b)
{
	const struct fentry *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir - y->dir;
	return strcmp(x->name, y->name);
}

/* The previous scan's entry for dir/name, or NULL. Only the scanning
 * thread changes the list, so it reads it without the lock. */
static const struct fentry *
files_prev(struct files *f, int dir, const char *name)
{
	struct fentry key;

	if (f->n == 0)
		return NULL;
	key.dir = dir;
	key.name = (char *)name;
	return bsearch(&key, f->v, f->n, sizeof(*f->v), fentry_cmp);
}

/* The service name of a file flowmon could have written: name without its
 * extension. */
static void
files_base(const char *name, const char *ext, char *out, size_t outsz)
{
	size_t n = strlen(name) - strlen(ext);

	snprintf(out, outsz, "%.*s", (int)n, name);
}

/* Asks the registry who wrote the file, reading it again while an answer
 * of "edited" could be a race with flowmon replacing it. *buf/len/hash are
 * updated to the bytes the answer is about (*buf stays owned by the
 * caller: a fresh read replaces it). */
static enum registry_owner
files_owner(struct files *f, int dir, const char *name, char **buf,
    size_t *len, uint64_t *hash)
{
	char base[SERVICE_NAME_MAX + 8], err[ERR_MAX], *nb;
	enum registry_owner own = REGISTRY_OWNER_NONE;
	size_t nlen;
	int i;

	files_base(name, files_ext(dir), base, sizeof(base));
	for (i = 0; i < FILES_TRIES; i++) {
		own = registry_file_owner(f->reg, dir == F_RULES, base, *buf,
		    *len, 0);
		if (own != REGISTRY_OWNER_EDITED)
			break;
		if (store_read_entry(f->st, files_kinds[dir], name,
		    WATCH_FILE_MAX, &nb, &nlen, err) == -1)
			break;
		if (nlen == *len && memcmp(nb, *buf, nlen) == 0) {
			free(nb);
			/* Confirmed: the registry forgets its hash, so the
			 * next reconfigure rewrites the file. */
			own = registry_file_owner(f->reg, dir == F_RULES, base,
			    *buf, *len, 1);
			break;
		}
		free(*buf);
		*buf = nb;
		*len = nlen;
		*hash = store_hash_content(nb, nlen);
	}
	return own;
}

/* Would Prometheus read it? A target file is judged at once; a rule file
 * keeps its bytes (taken over) for files_judge(). */
static void
files_validate(struct fentry *e, char *buf, size_t len)
{
	char why[ERR_MAX];

	if (e->dir == F_RULES) {
		e->judge = buf;
		e->judge_len = len;
		return;
	}
	if ((e->valid = filecheck_targets(buf, len, why) == 0) == 0)
		e->reason = strdup(why);
	free(buf);
}

/* The one rule verdict (verdict.h) on every rule file of v[0..n) waiting
 * for it, in one batch: their shape, then promtool's pool. */
static void
files_judge(struct files *f, struct fentry *v, size_t n)
{
	struct verdict *vd;
	char (*shown)[NAME_MAX + 16] = NULL;
	size_t i, k = 0, *of = NULL;

	for (i = 0; i < n; i++)
		k += v[i].judge != NULL;
	if (k == 0)
		return;
	vd = calloc(k, sizeof(*vd));
	shown = calloc(k, sizeof(*shown));
	of = calloc(k, sizeof(*of));
	for (i = k = 0; vd != NULL && shown != NULL && of != NULL && i < n;
	    i++) {
		if (v[i].judge == NULL)
			continue;
		snprintf(shown[k], sizeof(shown[k]), "rules/%s", v[i].name);
		vd[k].buf = v[i].judge;
		vd[k].len = v[i].judge_len;
		vd[k].shown = shown[k];
		of[k++] = i;
	}
	if (vd != NULL && shown != NULL && of != NULL)
		verdict_rules(f->pt, NULL, vd, k);
	for (i = 0; i < n; i++) {
		free(v[i].judge);
		v[i].judge = NULL;
	}
	for (i = 0; vd != NULL && shown != NULL && of != NULL && i < k; i++)
		if ((v[of[i]].valid = vd[i].kind == FM_OK) == 0)
			v[of[i]].reason = strdup(vd[i].reason);
	if (vd == NULL || shown == NULL || of == NULL)
		for (i = 0; i < n; i++)
			if (v[i].dir == F_RULES && !v[i].valid &&
			    v[i].reason == NULL)
				v[i].reason = strdup("out of memory");
	free(vd);
	free(shown);
	free(of);
}

/* Fills e for one file of a fresh scan, reusing what the previous scan
 * found when the bytes did not change. */
static void
files_examine(struct files *f, int dir, const struct watch_file *wf,
    const struct fentry *prev, struct fentry *e)
{
	char why[ERR_MAX], base[SERVICE_NAME_MAX + 8], *buf = NULL;
	size_t len = wf->size;
	int same;

	e->dir = dir;
	e->hash = wf->hash;
	e->size = wf->size;
	e->mtime = wf->mtime;
	e->error = wf->error;
	e->matched = watch_name_matches(wf->name, files_ext(dir));
	e->owner = REGISTRY_OWNER_NONE;
	if (!e->matched) {
		snprintf(why, sizeof(why), "not read by Prometheus: the name "
		    "does not end in %s", files_ext(dir));
		e->reason = strdup(why);
		return;
	}
	if (wf->error != 0) {
		files_base(wf->name, files_ext(dir), base, sizeof(base));
		e->owner = registry_file_owner(f->reg, dir == F_RULES, base,
		    NULL, 0, 0);
		if (wf->error == ELOOP)
			snprintf(why, sizeof(why), "a symbolic link: flowmon "
			    "follows no link in the data dir");
		else
			snprintf(why, sizeof(why), "cannot read it: %s",
			    strerror(wf->error));
		e->reason = strdup(why);
		return;
	}
	same = prev != NULL && prev->error == 0 && prev->hash == wf->hash &&
	    prev->size == wf->size;
	/* flowmon's own files change owner only when their bytes change. */
	if (same && prev->owner == REGISTRY_OWNER_FLOWMON) {
		e->owner = REGISTRY_OWNER_FLOWMON;
		e->valid = 1;
		return;
	}
	if ((buf = malloc(wf->size + 1)) == NULL) {
		e->reason = strdup("out of memory");
		return;
	}
	memcpy(buf, wf->data, wf->size + 1);
	e->owner = files_owner(f, dir, wf->name, &buf, &len, &e->hash);
	e->size = len;
	same = prev != NULL && prev->error == 0 && prev->hash == e->hash &&
	    prev->size == e->size;
	if (e->owner == REGISTRY_OWNER_FLOWMON) {
		/* Checked before flowmon renamed it into place. */
		e->valid = 1;
	} else if (same && prev->owner != REGISTRY_OWNER_FLOWMON) {
		e->valid = prev->valid;
		e->reason = prev->reason != NULL ? strdup(prev->reason) : NULL;
	} else {
		files_validate(e, buf, len);
		return;
	}
	free(buf);
}

/* Logs what a person should hear about a file whose bytes or owner just
 * changed. */
static void
files_report(const struct fentry *e, const struct fentry *prev)
{
	char path[NAME_MAX + 16];

	if (prev != NULL && prev->hash == e->hash && prev->size == e->size &&
	    prev->owner == e->owner && prev->valid == e->valid)
		return;
	snprintf(path, sizeof(path), "%s/%s", files_dir(e->dir),
	    e->name);
	if (e->owner == REGISTRY_OWNER_EDITED)
		log_warn("flowmon file edited by hand: left as is, replaced "
		    "from the record at the next reconfigure of its service",
		    "file", path, "valid", e->valid ? "true" : "false",
		    "reason", e->reason != NULL ? e->reason : "");
	else if (e->owner == REGISTRY_OWNER_NONE && e->valid)
		log_info("operator file", "file", path, "valid", "true");
	else if (e->owner == REGISTRY_OWNER_NONE)
		log_warn("operator file is not valid", "file", path,
		    "reason", e->reason != NULL ? e->reason : "");
}

/* What changed for e since the previous scan (prev, NULL if new): logged,
 * counted, and *changed and *trigger (a reload) set. */
static void
files_compare(const struct fentry *e, const struct fentry *prev,
    int *changed, int *trigger)
{
	if (prev == NULL || prev->hash != e->hash || prev->size != e->size ||
	    prev->error != e->error)
		*changed = 1;
	else if (prev->owner == e->owner && prev->valid == e->valid)
		return;
	files_report(e, prev);
	/* A new hand edit (the registry dropped its hash). */
	if (e->owner == REGISTRY_OWNER_EDITED && (prev == NULL ||
	    prev->owner != REGISTRY_OWNER_EDITED || prev->hash != e->hash ||
	    prev->size != e->size))
		metrics_file_edited(e->dir == F_RULES ? M_FILE_RULES :
		    M_FILE_TARGETS);
	/* A valid rule file flowmon did not write, new or changed:
	 * Prometheus should load it. */
	if (e->dir == F_RULES && e->matched && e->valid &&
	    e->owner != REGISTRY_OWNER_FLOWMON && (prev == NULL ||
	    prev->hash != e->hash || prev->size != e->size || !prev->valid))
		*trigger = 1;
}

/* Whether the scan just taken holds file in targets/ (rules 0) or
 * rules/ (rules 1), for registry_heal(). */
static int
files_present(void *ctx, int rules, const char *file)
{
	const struct watch_snap *snap = ctx;

	return watch_snap_find(&snap[rules ? F_RULES : F_TARGETS],
	    file) != NULL;
}

static int
files_scan(void *arg, enum watch_why why)
{
	struct files *f = arg;
	struct watch_snap snap[F_NDIRS];
	struct fentry *nv = NULL, *old;
	char err[ERR_MAX];
	size_t nn = 0, nold, total, i, healed[2];
	int d, changed = 0, trigger = 0;

	memset(snap, 0, sizeof(snap));
	for (d = 0; d < F_NDIRS; d++) {
		if (watch_snap_take_store(f->st, files_kinds[d], NULL, 1,
		    &snap[d], err) == -1) {
			log_warn("cannot scan the data dir", "error", err);
			goto fail;
		}
	}
	/* flowmon's own files that vanished are written again at once; the
	 * next scan (soon: they changed) lists them. */
	if (registry_heal(f->reg, files_present, snap, healed, err) == -1)
		log_warn("cannot write a vanished file again", "error", err);
	if (healed[0] + healed[1] > 0)
		changed = 1;
	total = snap[F_TARGETS].n + snap[F_RULES].n;
	if ((nv = calloc(total ? total : 1, sizeof(*nv))) == NULL) {
		log_warn("cannot scan the data dir", "error", "out of memory");
		goto fail;
	}
	for (d = 0; d < F_NDIRS; d++) {
		for (i = 0; i < snap[d].n; i++) {
			const struct watch_file *wf = &snap[d].v[i];
			struct fentry *e = &nv[nn];

			if ((e->name = strdup(wf->name)) == NULL) {
				log_warn("cannot scan the data dir", "error",
				    "out of memory");
				goto fail;
			}
			nn++;
			files_examine(f, d, wf, files_prev(f, d, wf->name),
			    e);
		}
	}
	files_judge(f, nv, nn);
	for (i = 0; i < nn; i++)
		files_compare(&nv[i], files_prev(f, nv[i].dir, nv[i].name),
		    &changed, &trigger);
	/* Gone since the last scan: one that was not flowmon's took rules
	 * with it that Prometheus still runs. */
	for (i = 0; i < f->n; i++) {
		old = &f->v[i];
		if (bsearch(old, nv, nn, sizeof(*nv), fentry_cmp) != NULL)
			continue;
		changed = 1;
		if (old->dir == F_RULES && old->matched &&
		    old->owner != REGISTRY_OWNER_FLOWMON) {
			log_info("rule file flowmon did not write was removed",
			    "file", old->name);
			trigger = 1;
		}
	}
	if (why == WATCH_START)
		trigger = 0;	/* the start-up reload covers them */
	/* Before the listing shows the file: whoever sees it listed can
	 * count on the reload having been asked for. */
	if (trigger) {
		log_info("rule files flowmon did not write changed and are "
		    "valid: reloading");
		reloader_trigger(f->rl);
	}

	pthread_mutex_lock(&f->lock);
	old = f->v;
	nold = f->n;
	f->v = nv;
	f->n = nn;
	f->scans++;
	f->last_scan = time(NULL);
	if (trigger)
		f->triggers++;
	pthread_mutex_unlock(&f->lock);
	fentries_free(old, nold);
	for (d = 0; d < F_NDIRS; d++)
		watch_snap_release(&snap[d]);
	return changed;
fail:
	fentries_free(nv, nn);
	for (d = 0; d < F_NDIRS; d++)
		watch_snap_release(&snap[d]);
	pthread_mutex_lock(&f->lock);
	f->scan_errors++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

struct files *
files_start(struct store *st, struct registry *reg, struct reloader *rl,
    struct promtool *pt, long poll_ms, char err[ERR_MAX])
{
	struct files *f;
	int d;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	f->st = st;
	f->reg = reg;
	f->rl = rl;
	f->pt = pt;
	pthread_mutex_init(&f->lock, NULL);
	for (d = 0; d < F_NDIRS; d++) {
		if (asprintf(&f->dirs[d], "%s/%s", st->dir,
		    files_dir(d)) < 0) {
			f->dirs[d] = NULL;
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
	}
	if ((f->w = watch_start((const char *const *)f->dirs, F_NDIRS, 1,
	    poll_ms, FILES_SETTLE_MS, files_scan, f, err)) == NULL)
		goto fail;
	return f;
fail:
	files_stop(f);
	return NULL;
}

void
files_stop(struct files *f)
{
	int d;

	if (f == NULL)
		return;
	watch_stop(f->w);
	fentries_free(f->v, f->n);
	for (d = 0; d < F_NDIRS; d++)
		free(f->dirs[d]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

cJSON *
files_json(struct files *f)
{
	cJSON *arr, *o;
	char path[PATH_MAX];
	size_t i;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++) {
		const struct fentry *e = &f->v[i];
		char *name, *shown, *reason;
		int bad;

		if ((o = cJSON_CreateObject()) == NULL)
			goto fail;
		cJSON_AddItemToArray(arr, o);
		snprintf(path, sizeof(path), "%s/%s",
		    f->dirs[e->dir], e->name);
		/* File names are bytes: JSON must be UTF-8 (U+FFFD). */
		name = values_utf8_repair(e->name);
		shown = values_utf8_repair(path);
		reason = values_utf8_repair(e->reason != NULL ? e->reason : "");
		bad = name == NULL || shown == NULL || reason == NULL ||
		    cJSON_AddStringToObject(o, "dir",
		    files_dir(e->dir)) == NULL ||
		    cJSON_AddStringToObject(o, "file", name) == NULL ||
		    cJSON_AddStringToObject(o, "path", shown) == NULL ||
		    cJSON_AddStringToObject(o, "owner",
		    files_owner_text[e->owner]) == NULL ||
		    cJSON_AddBoolToObject(o, "valid", e->valid) == NULL ||
		    cJSON_AddStringToObject(o, "reason", reason) == NULL;
		free(name);
		free(shown);
		free(reason);
		if (bad ||
		    cJSON_AddNumberToObject(o, "size", (double)e->size) ==
		    NULL ||
		    cJSON_AddNumberToObject(o, "modified", (double)e->mtime) ==
		    NULL)
			goto fail;
	}
	pthread_mutex_unlock(&f->lock);
	return arr;
fail:
	pthread_mutex_unlock(&f->lock);
	cJSON_Delete(arr);
	return NULL;
}

void
files_edited(struct files *f, const char *name, int edited[2])
{
	char base[SERVICE_NAME_MAX + 8], file[SERVICE_NAME_MAX + 16];
	const struct fentry *e;
	int d;

	store_base(name, base);
	pthread_mutex_lock(&f->lock);
	for (d = 0; d < F_NDIRS; d++) {
		snprintf(file, sizeof(file), "%s%s", base, files_ext(d));
		e = files_prev(f, d, file);
		edited[d] = e != NULL && e->owner == REGISTRY_OWNER_EDITED;
	}
	pthread_mutex_unlock(&f->lock);
}

size_t
files_edited_count(struct files *f)
{
	size_t i, n = 0;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++)
		n += f->v[i].owner == REGISTRY_OWNER_EDITED;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void
files_metrics(struct files *f, struct buf *b)
{
	size_t count[F_NDIRS][3][2], i;
	int d, o, v;

	memset(count, 0, sizeof(count));
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++)
		count[f->v[i].dir][f->v[i].owner][f->v[i].valid ? 1 : 0]++;
	expo_family(b, "flowmon_files", EXPO_GAUGE, "Files under targets/ "
	    "and rules/, by owner and validity.");
	for (d = 0; d < F_NDIRS; d++)
		for (o = 0; o < 3; o++)
			for (v = 1; v >= 0; v--)
				expo_sample(b, "flowmon_files",
				    (long long)count[d][o][v], "dir",
				    files_dir(d), "owner",
				    files_owner_label[o], "valid", v ? "true" :
				    "false", NULL);
	expo_family(b, "flowmon_file_invalid", EXPO_GAUGE, "A file under "
	    "targets/ or rules/ that Prometheus would not read.");
	for (i = 0; i < f->n; i++)
		if (!f->v[i].valid)
			expo_sample(b, "flowmon_file_invalid", 1, "dir",
			    files_dir(f->v[i].dir), "file", f->v[i].name,
			    "owner", files_owner_label[f->v[i].owner], NULL);
	expo_family(b, "flowmon_file_edited_by_hand", EXPO_GAUGE, "A file "
	    "flowmon wrote that someone else changed since.");
	for (i = 0; i < f->n; i++)
		if (f->v[i].owner == REGISTRY_OWNER_EDITED)
			expo_sample(b, "flowmon_file_edited_by_hand", 1, "dir",
			    files_dir(f->v[i].dir), "file", f->v[i].name,
			    NULL);
	expo_counter(b, "flowmon_files_scans_total", "Scans of targets/ and "
	    "rules/.", (long long)f->scans);
	expo_counter(b, "flowmon_files_scan_errors_total", "Scans that could "
	    "not read targets/ or rules/.", (long long)f->scan_errors);
	expo_counter(b, "flowmon_files_reload_triggers_total", "Reloads asked "
	    "for because of rule files flowmon did not write.",
	    (long long)f->triggers);
	expo_gauge(b, "flowmon_files_last_scan_timestamp_seconds", "Time of "
	    "the last scan.", (long long)f->last_scan);
	expo_gauge(b, "flowmon_files_inotify", "1 while inotify watches both "
	    "directories (0: polling only).", watch_inotify_active(f->w));
	pthread_mutex_unlock(&f->lock);
}
