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
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "expo.h"
#include "filecheck.h"
#include "files.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
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
/* Every file is read at one of this many polls, whatever its identity
 * says (2 minutes at the default poll). */
#define FILES_VERIFY		8

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
	char		*name;		/* file name */
	char		*reason;	/* why not valid; NULL if valid */
	uint64_t	 hash;		/* of the contents examined */
	/* The file's identity (watch_id()) taken just before those contents
	 * were read, its change time and when it was taken: while it is
	 * the same, the bytes need no reading again (watch.h). */
	uint64_t	 id;
	int64_t		 ctime_ms;
	int64_t		 taken_ms;
	int64_t		 size;
	int64_t		 mtime;
	int		 error;		/* errno reading it, 0 if read */
	unsigned char	 dir;		/* F_TARGETS or F_RULES */
	unsigned char	 matched;	/* the Prometheus glob reads it */
	unsigned char	 owner;		/* enum registry_owner */
	unsigned char	 valid;
	unsigned char	 restored;	/* from the manifest: its owner is
					   asked again */
};

struct files {
	struct store	*st;
	struct registry	*reg;
	struct reloader	*rl;
	struct promtool	*pt;
	char		*dirs[F_NDIRS];
	struct watch	*w;
	/* Scans that looked at everything: each picks its share of the
	 * files to read whatever their identity says (FILES_VERIFY). */
	uint64_t	 wholes;
	pthread_mutex_t	 lock;		/* guards the fields below */
	pthread_cond_t	 scanned;	/* the first scan is done */
	struct fentry	*v;		/* by dir, then name */
	size_t		 n;
	uint64_t	 scans;
	uint64_t	 scan_errors;
	uint64_t	 triggers;	/* reloads asked for by hand edits */
	uint64_t	 reads;		/* files read by scans */
	time_t		 last_scan;
};

static void
fentry_release(struct fentry *e)
{
	free(e->name);
	free(e->reason);
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
	key.dir = (unsigned char)dir;
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
		*hash = hash_content(nb, nlen);
	}
	return own;
}

/*
 * A scan: what it looked at (the whole of both directories, or the files
 * an event burst named), each file's entry made anew, the rule files among
 * them that want the verdict waiting with their bytes.
 */
struct scan {
	struct files	*f;
	int64_t		 now;		/* wall clock, ms */
	enum watch_why	 why;
	int		 whole;
	struct fentry	*v;		/* sorted as the listing is */
	size_t		 n;
	size_t		 cap;
	struct verdict	*vd;		/* the rule files waiting, their bytes
					   the scan's */
	size_t		*of;		/* vd[i] is v[of[i]]'s */
	size_t		 nvd, vcap, ocap;
	size_t		 reads;		/* files read */
};

static void
scan_release(struct scan *sc)
{
	size_t i;

	fentries_free(sc->v, sc->n);
	for (i = 0; i < sc->nvd; i++)
		free((char *)sc->vd[i].buf);
	free(sc->vd);
	free(sc->of);
}

/* Room for one more entry; NULL on ENOMEM. */
static struct fentry *
scan_add(struct scan *sc)
{
	if (BUF_ARRAY_GROW(sc->v, sc->n, sc->cap) == -1)
		return NULL;
	memset(&sc->v[sc->n], 0, sizeof(sc->v[sc->n]));
	return &sc->v[sc->n];
}

/* Would Prometheus read it? A target file is judged at once; a rule file
 * waits with its bytes (taken over) for files_judge(). */
static void
files_validate(struct scan *sc, struct fentry *e, char *buf, size_t len)
{
	struct verdict *w;
	char why[ERR_MAX];

	if (e->dir == F_TARGETS) {
		if ((e->valid = filecheck_targets(buf, len, why) == 0) == 0)
			e->reason = strdup(why);
	} else if (BUF_ARRAY_GROW(sc->vd, sc->nvd, sc->vcap) == -1 ||
	    BUF_ARRAY_GROW(sc->of, sc->nvd, sc->ocap) == -1) {
		e->reason = strdup("out of memory");
	} else {
		w = memset(&sc->vd[sc->nvd], 0, sizeof(*w));
		snprintf(w->shown, sizeof(w->shown), "rules/%s", e->name);
		w->buf = buf;
		w->len = len;
		sc->of[sc->nvd++] = (size_t)(e - sc->v);
		return;
	}
	free(buf);
}

/* The one rule verdict (verdict.h) on every rule file of the scan waiting
 * for it, in one batch: their shape, then promtool's pool. */
static void
files_judge(struct scan *sc)
{
	size_t i;

	verdict_rules(sc->f->pt, NULL, sc->vd, sc->nvd);
	for (i = 0; i < sc->nvd; i++)
		if ((sc->v[sc->of[i]].valid = sc->vd[i].kind == FM_OK) == 0)
			sc->v[sc->of[i]].reason = strdup(sc->vd[i].reason);
}

/* Fills e for the bytes buf/len just read (taken over; NULL with e->error
 * set when they could not be read), reusing what the previous scan found
 * when they did not change. */
static void
files_examine(struct scan *sc, struct fentry *e, const struct fentry *prev,
    char *buf, size_t len)
{
	struct files *f = sc->f;
	char why[ERR_MAX], base[SERVICE_NAME_MAX + 8];
	int same;

	e->owner = REGISTRY_OWNER_NONE;
	if (!e->matched) {
		snprintf(why, sizeof(why), "not read by Prometheus: the name "
		    "does not end in %s", files_ext(e->dir));
		e->reason = strdup(why);
		goto out;
	}
	if (e->error != 0) {
		files_base(e->name, files_ext(e->dir), base, sizeof(base));
		e->owner = registry_file_owner(f->reg, e->dir == F_RULES, base,
		    NULL, 0, 0);
		if (e->error == ELOOP)
			snprintf(why, sizeof(why), "a symbolic link: flowmon "
			    "follows no link in the data dir");
		else
			snprintf(why, sizeof(why), "cannot read it: %s",
			    strerror(e->error));
		e->reason = strdup(why);
		goto out;
	}
	same = prev != NULL && prev->error == 0 && prev->hash == e->hash &&
	    prev->size == e->size;
	/* flowmon's own files change owner only when their bytes change
	 * (while it runs: the manifest's are asked again, a record may have
	 * gone while flowmon was down). */
	if (same && prev->owner == REGISTRY_OWNER_FLOWMON &&
	    !prev->restored) {
		e->owner = REGISTRY_OWNER_FLOWMON;
		e->valid = 1;
		goto out;
	}
	e->owner = files_owner(f, e->dir, e->name, &buf, &len, &e->hash);
	e->size = (int64_t)len;
	same = prev != NULL && prev->error == 0 && prev->hash == e->hash &&
	    prev->size == e->size;
	if (e->owner == REGISTRY_OWNER_FLOWMON) {
		/* Checked before flowmon renamed it into place. */
		e->valid = 1;
	} else if (same && prev->owner != REGISTRY_OWNER_FLOWMON) {
		e->valid = prev->valid;
		e->reason = prev->reason != NULL ? strdup(prev->reason) : NULL;
	} else {
		files_validate(sc, e, buf, len);
		return;
	}
out:
	free(buf);
}

/* Looks at dir/name, whose stat is sb (taken just now, or by the
 * listing): its entry is the previous one when its identity says the
 * bytes did not move (and it is not its turn to be read whatever it
 * says), else made from the bytes read now. 0, or -1 on ENOMEM. */
static int
files_look(struct scan *sc, int dir, const char *name, const struct stat *sb)
{
	struct files *f = sc->f;
	const struct fentry *prev = files_prev(f, dir, name);
	struct fentry *e;
	char err[ERR_MAX], base[SERVICE_NAME_MAX + 8], *buf = NULL;
	size_t len = 0;
	int verify;

	if ((e = scan_add(sc)) == NULL)
		return -1;
	e->dir = (unsigned char)dir;
	e->id = watch_id(sb);
	e->ctime_ms = watch_ctime_ms(sb);
	e->taken_ms = sc->now;
	e->size = (int64_t)sb->st_size;
	e->mtime = (int64_t)sb->st_mtime;
	e->matched = watch_name_matches(name, files_ext(dir));
	if ((e->name = strdup(name)) == NULL)
		return -1;
	sc->n++;
	/* A file system whose times lie (a clock far behind, a FUSE layer
	 * that keeps old times) would hide a change from the identity:
	 * every file is read again within FILES_VERIFY looks at
	 * everything. Not at start: the manifest's identities are what
	 * spares it reading every file (a crash leaves none). */
	verify = sc->whole && sc->why != WATCH_START &&
	    (hash_bytes(HASH_INIT, name, strlen(name)) + f->wholes) %
	    FILES_VERIFY == 0;
	if (prev != NULL && !verify && watch_id_trusted(prev->id,
	    prev->ctime_ms, prev->taken_ms, e->id)) {
		e->hash = prev->hash;
		e->error = prev->error;
		e->valid = prev->valid;
		e->owner = prev->owner;
		e->id = prev->id;
		e->ctime_ms = prev->ctime_ms;
		e->taken_ms = prev->taken_ms;
		/* The registry's side may have moved (a service removed, a
		 * hash forgotten, a record gone while flowmon was down): its
		 * answer is a lookup, no read. */
		if (e->matched && (prev->owner != REGISTRY_OWNER_FLOWMON ||
		    prev->restored)) {
			files_base(name, files_ext(dir), base, sizeof(base));
			e->owner = registry_file_owner_hash(f->reg,
			    dir == F_RULES, base, e->error == 0, e->hash, 0);
		}
		if (prev->reason != NULL &&
		    (e->reason = strdup(prev->reason)) == NULL)
			return -1;
		return 0;
	}
	sc->reads++;
	if (store_read_entry(f->st, files_kinds[dir], name, WATCH_FILE_MAX,
	    &buf, &len, err) == -1) {
		/* Gone (or no longer a file) since the listing: the next
		 * look sees what replaced it. */
		if (errno == ENOENT || errno == EISDIR || errno == EINVAL) {
			fentry_release(e);
			sc->n--;
			return 0;
		}
		e->error = errno;
	} else {
		e->hash = hash_content(buf, len);
		e->size = (int64_t)len;
	}
	files_examine(sc, e, prev, buf, len);
	return 0;
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
		metrics_file(M_FEV_EDITED, e->dir == F_RULES ? M_FILE_RULES :
		    M_FILE_TARGETS);
	/* A valid rule file flowmon did not write, new or changed:
	 * Prometheus should load it. */
	if (e->dir == F_RULES && e->matched && e->valid &&
	    e->owner != REGISTRY_OWNER_FLOWMON && (prev == NULL ||
	    prev->hash != e->hash || prev->size != e->size || !prev->valid))
		*trigger = 1;
}

/* A previous entry the scan looked at and did not find again. */
static void
files_gone(const struct fentry *old, int *changed, int *trigger)
{
	*changed = 1;
	/* One that was not flowmon's took rules with it that Prometheus
	 * still runs. */
	if (old->dir == F_RULES && old->matched &&
	    old->owner != REGISTRY_OWNER_FLOWMON) {
		log_info("rule file flowmon did not write was removed",
		    "file", old->name);
		*trigger = 1;
	}
}

/* Whether the scan just taken holds file in targets/ (rules 0) or
 * rules/ (rules 1), for registry_heal(). */
static int
files_present(void *ctx, int rules, const char *file)
{
	const struct scan *sc = ctx;
	struct fentry key;

	key.dir = rules ? F_RULES : F_TARGETS;
	key.name = (char *)file;
	return sc->n > 0 && bsearch(&key, sc->v, sc->n, sizeof(*sc->v),
	    fentry_cmp) != NULL;
}

/* Looks at everything: every regular file (links followed) of both
 * directories, temp files aside. 0, or -1 with err. */
static int
files_look_all(struct scan *sc, char err[ERR_MAX])
{
	struct store_entry *ls;
	size_t nls, i;
	int d, rc = 0;

	for (d = 0; d < F_NDIRS && rc == 0; d++) {
		if (store_list(sc->f->st, files_kinds[d], &ls, &nls,
		    err) == -1)
			return -1;
		for (i = 0; i < nls && rc == 0; i++)
			if (watch_name_matches(ls[i].file, NULL) &&
			    S_ISREG(ls[i].sb.st_mode))
				rc = files_look(sc, d, ls[i].file, &ls[i].sb);
		store_entries_free(ls, nls);
	}
	if (rc == -1)
		snprintf(err, ERR_MAX, "out of memory");
	return rc;
}

/* Looks at the files an event burst named (sorted as the listing is);
 * one that is not there (or no longer a regular file) makes no entry. */
static int
files_look_names(struct scan *sc, const struct watch_name *names, size_t n,
    char err[ERR_MAX])
{
	struct stat sb;
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i].dir >= F_NDIRS ||
		    store_stat_entry(sc->f->st, files_kinds[names[i].dir],
		    names[i].name, &sb) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (files_look(sc, (int)names[i].dir, names[i].name,
		    &sb) == -1) {
			snprintf(err, ERR_MAX, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Which previous entries this scan looked at (covered[i] for f->v[i]):
 * all of them, or those it was given the names of. NULL on ENOMEM. */
static char *
files_covered(struct files *f, const struct watch_name *names, size_t n)
{
	const struct fentry *prev;
	char *covered;
	size_t i;

	if ((covered = calloc(f->n + 1, 1)) == NULL)
		return NULL;
	if (names == NULL)
		memset(covered, 1, f->n);
	for (i = 0; names != NULL && i < n; i++)
		if (names[i].dir < F_NDIRS && (prev = files_prev(f,
		    (int)names[i].dir, names[i].name)) != NULL)
			covered[prev - f->v] = 1;
	return covered;
}

/* The vanished files of flowmon's are written again at once; the next
 * look (soon: they changed) lists them. 1 if any was. */
static int
files_heal(struct scan *sc, const struct watch_name *names, size_t n)
{
	struct fentry key;
	char err[ERR_MAX];
	size_t i, healed[2], total = 0;

	if (names == NULL) {
		if (registry_heal(sc->f->reg, files_present, sc, healed,
		    err) == -1)
			log_warn("cannot write a vanished file again",
			    "error", err);
		return healed[0] + healed[1] > 0;
	}
	for (i = 0; i < n; i++) {
		key.dir = (unsigned char)names[i].dir;
		key.name = names[i].name;
		if (names[i].dir >= F_NDIRS || (sc->n > 0 && bsearch(&key,
		    sc->v, sc->n, sizeof(*sc->v), fentry_cmp) != NULL))
			continue;
		if (registry_heal_file(sc->f->reg, names[i].dir == F_RULES,
		    names[i].name, healed, err) == -1)
			log_warn("cannot write a vanished file again",
			    "error", err);
		total += healed[0] + healed[1];
	}
	return total > 0;
}

/* The listing after the scan: the previous entries it did not look at
 * (covered[i] 0), moved, not copied, and its own, in order. NULL on
 * ENOMEM. */
static struct fentry *
files_merge(struct files *f, struct scan *sc, const char *covered,
    size_t *nout)
{
	struct fentry *out;
	size_t i = 0, j = 0, k = 0;

	if ((out = calloc(f->n + sc->n + 1, sizeof(*out))) == NULL)
		return NULL;
	while (i < f->n || j < sc->n) {
		if (i < f->n && covered[i]) {
			i++;
			continue;
		}
		if (j >= sc->n || (i < f->n && fentry_cmp(&f->v[i],
		    &sc->v[j]) < 0))
			out[k++] = f->v[i++];
		else
			out[k++] = sc->v[j++];
	}
	*nout = k;
	return out;
}

static int
files_scan(void *arg, enum watch_why why, const struct watch_name *names,
    size_t nnames)
{
	struct files *f = arg;
	struct scan sc;
	struct fentry *nv = NULL, *old;
	const struct fentry *prev;
	char err[ERR_MAX], read[32], *covered = NULL;
	size_t nn = 0, nold, i, j;
	int changed = 0, trigger = 0;

	memset(&sc, 0, sizeof(sc));
	sc.f = f;
	sc.now = clock_wall_ms();
	sc.why = why;
	sc.whole = names == NULL;
	if ((sc.whole ? files_look_all(&sc, err) : files_look_names(&sc,
	    names, nnames, err)) == -1) {
		log_warn("cannot scan the data dir", "error", err);
		goto fail;
	}
	if (files_heal(&sc, names, nnames))
		changed = 1;
	files_judge(&sc);
	/* The first scan reports every file, as if none was known (the
	 * manifest's listing only spares reading them). */
	for (i = 0; i < sc.n; i++)
		files_compare(&sc.v[i], why == WATCH_START ? NULL :
		    files_prev(f, sc.v[i].dir, sc.v[i].name), &changed,
		    &trigger);
	if ((covered = files_covered(f, names, nnames)) == NULL) {
		log_warn("cannot scan the data dir", "error", "out of memory");
		goto fail;
	}
	/* Gone since the last scan: looked at, not found. */
	for (i = j = 0; i < f->n && why != WATCH_START; i++) {
		prev = &f->v[i];
		if (!covered[i])
			continue;
		while (j < sc.n && fentry_cmp(&sc.v[j], prev) < 0)
			j++;
		if (j >= sc.n || fentry_cmp(&sc.v[j], prev) != 0)
			files_gone(prev, &changed, &trigger);
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
	if ((nv = files_merge(f, &sc, covered, &nn)) == NULL) {
		log_warn("cannot scan the data dir", "error", "out of memory");
		goto fail;
	}
	/* The entries moved into nv are its now. */
	free(sc.v);
	sc.v = NULL;
	sc.n = 0;
	if (sc.whole)
		f->wholes++;

	pthread_mutex_lock(&f->lock);
	old = f->v;
	nold = f->n;
	f->v = nv;
	f->n = nn;
	f->scans++;
	f->reads += sc.reads;
	f->last_scan = time(NULL);
	if (trigger)
		f->triggers++;
	pthread_cond_broadcast(&f->scanned);
	pthread_mutex_unlock(&f->lock);
	if (why == WATCH_START) {
		snprintf(err, sizeof(err), "%zu", nn);
		snprintf(read, sizeof(read), "%zu", sc.reads);
		log_info("first scan of targets/ and rules/ done", "files",
		    err, "read", read);
	}
	for (i = 0; i < nold; i++)
		if (covered[i])
			fentry_release(&old[i]);
	free(old);
	free(covered);
	scan_release(&sc);
	/* What a look at everything freed goes back to the system (see
	 * main.c); a look at a few names frees little. */
	if (sc.whole)
		mem_trim();
	return changed;
fail:
	free(covered);
	scan_release(&sc);
	pthread_mutex_lock(&f->lock);
	f->scan_errors++;
	pthread_cond_broadcast(&f->scanned);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/*
 * The manifest (store.h): the listing as the last scan left it, written at
 * a clean stop, so the first scan of the next start reads only the files
 * whose identity moved since (or is too recent to trust): a hand edit or
 * an operator's new file while flowmon was down is read and judged as
 * ever. A start after a crash finds none (taken at start) and reads
 * everything. One line per file, fields separated by a space, the name
 * and the reason %-encoded; anything that does not parse is no manifest.
 */
#define FILES_MANIFEST		"files"
#define FILES_MANIFEST_HEAD	"flowmon files manifest 1\n"
/* A manifest larger than this is no manifest (ten times 10,000 files'). */
#define FILES_MANIFEST_MAX	((size_t)64 << 20)

/* Appends s %-encoded: every byte outside '!'..'~' and '%' itself. */
static void
files_put_text(struct buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '%')
			buf_printf(b, "%%%02X", *p);
		else
			buf_add(b, p, 1);
}

/* Decodes the %-encoded word at *p (up to a space or the end of the line)
 * into a malloc'd string; *p after it. NULL on a bad escape or ENOMEM. */
static char *
files_get_text(const char **p)
{
	const char *s = *p;
	size_t n = strcspn(s, " \n"), i, k = 0;
	unsigned int c;
	char *out;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[k++] = s[i];
			continue;
		}
		if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2]) ||
		    sscanf(s + i + 1, "%2X", &c) != 1 || c == 0) {
			free(out);
			return NULL;
		}
		out[k++] = (char)c;
		i += 2;
	}
	out[k] = '\0';
	*p = s + n;
	return out;
}

static void
files_manifest_write(struct files *f)
{
	struct buf b = BUF_INIT;
	char err[ERR_MAX];
	size_t i;

	buf_adds(&b, FILES_MANIFEST_HEAD);
	for (i = 0; i < f->n; i++) {
		const struct fentry *e = &f->v[i];

		/* No negative number: times before 1970, a size of -1 are
		 * not flowmon's to trust. */
		if (e->ctime_ms < 0 || e->taken_ms < 0 || e->size < 0 ||
		    e->mtime < 0 || e->error < 0)
			continue;
		buf_printf(&b, "%u %016" PRIx64 " %016" PRIx64 " %" PRId64
		    " %" PRId64 " %" PRId64 " %" PRId64 " %d %u %u %u ",
		    e->dir, e->hash, e->id, e->ctime_ms, e->taken_ms, e->size,
		    e->mtime, e->error, e->matched, e->owner, e->valid);
		files_put_text(&b, e->name);
		if (e->reason != NULL) {
			buf_adds(&b, " =");
			files_put_text(&b, e->reason);
		} else
			buf_adds(&b, " -");
		buf_adds(&b, "\n");
	}
	if (b.failed || store_manifest_write(f->st, FILES_MANIFEST, b.p, b.len,
	    err) == -1)
		log_warn("cannot write the manifest of targets/ and rules/: "
		    "the next start reads every file", "error", b.failed ?
		    "out of memory" : err);
	buf_release(&b);
}

/* The number at *p (base 10 or 16) and the space after it; *p past
 * them. -1 (in *bad) when there is none. */
static uint64_t
files_get_num(const char **p, int base, int *bad)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(*p, &end, base);
	if (end == *p || *end != ' ' || errno != 0 || **p == '-')
		*bad = 1;
	*p = *end == ' ' ? end + 1 : end;
	return v;
}

/* One line of the manifest into e; -1 if it does not parse. (sscanf(3)
 * took a third of a start's reading of it.) */
static int
files_manifest_line(const char *p, struct fentry *e)
{
	uint64_t dir, owner;
	int bad = 0;

	memset(e, 0, sizeof(*e));
	dir = files_get_num(&p, 10, &bad);
	e->hash = files_get_num(&p, 16, &bad);
	e->id = files_get_num(&p, 16, &bad);
	e->ctime_ms = (int64_t)files_get_num(&p, 10, &bad);
	e->taken_ms = (int64_t)files_get_num(&p, 10, &bad);
	e->size = (int64_t)files_get_num(&p, 10, &bad);
	e->mtime = (int64_t)files_get_num(&p, 10, &bad);
	e->error = (int)files_get_num(&p, 10, &bad);
	e->matched = files_get_num(&p, 10, &bad) != 0;
	owner = files_get_num(&p, 10, &bad);
	e->valid = files_get_num(&p, 10, &bad) != 0;
	if (bad || dir >= F_NDIRS || owner > REGISTRY_OWNER_EDITED)
		return -1;
	e->dir = (unsigned char)dir;
	e->owner = (unsigned char)owner;
	e->restored = 1;
	if ((e->name = files_get_text(&p)) == NULL || *e->name == '\0')
		return -1;
	if (strncmp(p, " -\n", 3) == 0)
		return 0;
	if (strncmp(p, " =", 2) != 0)
		return -1;
	p += 2;
	if ((e->reason = files_get_text(&p)) == NULL || *p != '\n')
		return -1;
	return 0;
}

/* The listing the last clean stop left, as the previous scan's (f->v):
 * the first scan trusts what did not move. Nothing when there is none
 * or it does not parse. */
static void
files_manifest_take(struct files *f)
{
	struct fentry *v = NULL;
	char err[ERR_MAX], *buf, *p, *nl;
	size_t len, n = 0, cap = 0;

	if (store_manifest_take(f->st, FILES_MANIFEST, FILES_MANIFEST_MAX,
	    &buf, &len, err) == -1) {
		if (errno != ENOENT)
			log_warn("cannot take the manifest of targets/ and "
			    "rules/: every file is read", "error", err);
		return;
	}
	if (strncmp(buf, FILES_MANIFEST_HEAD,
	    strlen(FILES_MANIFEST_HEAD)) != 0)
		goto bad;
	for (p = buf + strlen(FILES_MANIFEST_HEAD); *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL ||
		    BUF_ARRAY_GROW(v, n, cap) == -1)
			goto bad;
		if (files_manifest_line(p, &v[n]) == -1) {
			fentry_release(&v[n]);
			goto bad;
		}
		/* In the listing's order, each once. */
		if (n > 0 && fentry_cmp(&v[n - 1], &v[n]) >= 0) {
			fentry_release(&v[n]);
			goto bad;
		}
		n++;
	}
	free(buf);
	f->v = v;
	f->n = n;
	return;
bad:
	log_warn("the manifest of targets/ and rules/ does not parse: every "
	    "file is read");
	fentries_free(v, n);
	free(buf);
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
	pthread_cond_init(&f->scanned, NULL);
	for (d = 0; d < F_NDIRS; d++) {
		if (asprintf(&f->dirs[d], "%s/%s", st->dir,
		    files_dir(d)) < 0) {
			f->dirs[d] = NULL;
			snprintf(err, ERR_MAX, "out of memory");
			goto fail;
		}
	}
	files_manifest_take(f);
	/* The first scan runs on the watcher's thread while flowmon serves:
	 * a hand edit made while it was down is reported a moment later, as
	 * one made while it runs is (files_json() waits for it). */
	if ((f->w = watch_start((const char *const *)f->dirs, F_NDIRS, 1,
	    poll_ms, FILES_SETTLE_MS, 0, files_scan, f, err)) == NULL)
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
	/* A clean stop: the listing for the next start (a failed start
	 * scanned nothing and writes none). */
	if (f->w != NULL && f->scans > 0)
		files_manifest_write(f);
	fentries_free(f->v, f->n);
	for (d = 0; d < F_NDIRS; d++)
		free(f->dirs[d]);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->scanned);
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
	/* What is on disk, not the empty listing before the first scan. */
	while (f->scans == 0 && f->scan_errors == 0)
		pthread_cond_wait(&f->scanned, &f->lock);
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
	expo_counter(b, "flowmon_files_reads_total", "Files the scans read "
	    "(the others had not moved since they were read).",
	    (long long)f->reads);
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
