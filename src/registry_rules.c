/* registry_rules.c: the registry's rule files against Prometheus's
 * reloads, for quarantine.c.
 *
 * What Prometheus runs. After each successful reload, every rule file
 * written before it is what Prometheus runs for its service ("loaded"):
 * in memory, and as a note on the file itself (store_set_note(): an
 * extended attribute, which changes neither the file's bytes, nor its
 * mtime, nor any directory, so a reload never shows in the data dir).
 * When a request is about to replace a loaded file, a hard link of it is
 * kept first as accepted/<name>.yml: so for a file that changed since, the
 * version Prometheus runs is still at hand, across restarts too. A rule
 * file that is not loaded is a suspect when a reload is refused.
 *
 * Setting aside. For a test reload a suspect is set aside: rules/ gets the
 * accepted version back (or loses the file when Prometheus never loaded
 * one), and the version under test waits in memory. Prometheus keeps an
 * alert's state across reloads while its group and the alert's name and
 * labels stay, so the services not at fault never see their alerts reset
 * during a search. A culprit's version goes to rejected/ while rules/ keeps
 * the accepted one. Nothing else records a set-aside: should flowmon stop
 * in the middle, the next start rewrites rules/ from the records (the
 * truth, see registry.c) and the diagnosis starts over. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "log.h"
#include "registry_impl.h"
#include "reloader.h"

uint64_t
registry_rules_mark(struct registry *r)
{
	return __atomic_load_n(&r->rules_seq, __ATOMIC_RELAXED);
}

void
registry_reload_ok(struct registry *r, uint64_t mark)
{
	char err[ERR_MAX], note[64];
	struct entry **all, *e;
	size_t n, i;
	int noted = 1;

	if ((all = reg_entries(r, 0, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = all[i];
		pthread_mutex_lock(&e->lock);
		if (e->has_rules && !e->loaded && e->parked == NULL &&
		    e->rules_seq <= mark) {
			e->loaded = 1;
			snprintf(note, sizeof(note), REG_LOADED_FMT,
			    (unsigned long long)e->h_rules);
			/* Without the note, a restart only forgets that this
			 * one was loaded: warn once. */
			if (noted && store_set_note(r->st, STORE_RULES,
			    e->name, REG_NOTE_LOADED, note, err) == -1) {
				log_warn("cannot note a loaded rule file; a "
				    "restart forgets what Prometheus runs",
				    "service", e->name, "error", err);
				noted = 0;
			}
		}
		pthread_mutex_unlock(&e->lock);
	}
	reg_entries_put(r, all, n);
}

int
reg_rules_replacing(struct registry *r, struct entry *e, struct reg_change *c,
    int removing, char err[ERR_MAX])
{
	char why[ERR_MAX];

	(void)r;
	if (removing) {
		if (!e->has_accepted)
			return 0;
		if (store_txn_remove(&c->txn, STORE_ACCEPTED, e->name,
		    err) == -1)
			return -1;
		c->accepted = 0;
		return 0;
	}
	if (!e->has_rules || !e->loaded)
		return 0;	/* accepted/ keeps what Prometheus runs, if any */
	/* Without the copy a diagnosis could not put back what Prometheus
	 * runs; the change goes on without it, as before a first reload. */
	if (store_txn_link(&c->txn, STORE_RULES, STORE_ACCEPTED, e->name,
	    why) == -1) {
		log_warn("cannot keep the loaded rule file", "service",
		    e->name, "error", why);
		return 0;
	}
	c->accepted = 1;
	return 0;
}

/* The names of the entries for which pick() holds (under each entry's
 * lock), sorted, into a malloc'd vector (strv_free()). 0, or -1 on ENOMEM. */
static int
names_where(struct registry *r, int (*pick)(const struct entry *),
    char ***names, size_t *nnames)
{
	struct entry **v;
	size_t n, i;
	int rc = 0;

	*names = NULL;
	*nnames = 0;
	if ((v = reg_entries(r, 1, &n)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		pthread_mutex_lock(&v[i]->lock);
		if (pick(v[i]))
			rc = strv_push(names, nnames, v[i]->name);
		pthread_mutex_unlock(&v[i]->lock);
	}
	reg_entries_put(r, v, n);
	if (rc == -1) {
		strv_free(*names, *nnames);
		*names = NULL;
		*nnames = 0;
	}
	return rc;
}

/* A rule file written since the last good reload, in rules/. */
static int
is_suspect(const struct entry *e)
{
	return e->has_rules && !e->loaded && e->parked == NULL &&
	    e->rejected == NULL;
}

/* A rule file Prometheus refused, waiting in rejected/. */
static int
is_set_aside(const struct entry *e)
{
	return e->rejected != NULL && e->has_rejected;
}

int
registry_rules_suspects(struct registry *r, char ***names, size_t *nnames)
{
	return names_where(r, is_suspect, names, nnames);
}

int
registry_rules_set_aside(struct registry *r, char ***names, size_t *nnames)
{
	return names_where(r, is_set_aside, names, nnames);
}

int
registry_rules_read(struct registry *r, const char *name, int rejected,
    char **buf, size_t *len, char err[ERR_MAX])
{
	return store_read(r->st, rejected ? STORE_REJECTED : STORE_RULES, name,
	    BOUND_FILE_MAX, buf, len, err);
}

/* Sets e's rule file aside (lock held): rules/ gets the accepted one back,
 * or loses it. */
static void
park(struct registry *r, struct entry *e)
{
	char err[ERR_MAX], *buf;
	size_t len;
	int rc;

	if (!e->has_rules || e->parked != NULL || e->rejected != NULL)
		return;
	if (store_read(r->st, STORE_RULES, e->name, BOUND_FILE_MAX, &buf, &len,
	    err) == -1) {
		log_error("cannot set a rule file aside", "service", e->name,
		    "error", err);
		return;
	}
	if (e->has_accepted)
		rc = store_link(r->st, STORE_ACCEPTED, STORE_RULES, e->name,
		    err);
	else
		rc = store_remove(r->st, STORE_RULES, e->name, err);
	if (rc == -1) {
		log_error("cannot set a rule file aside", "service", e->name,
		    "error", err);
		free(buf);
		return;
	}
	e->parked = buf;
	e->parked_len = len;
	e->h_parked = reg_hash(buf, len);
	e->has_rules = e->has_accepted;
	e->h_rules = e->h_accepted;
	/* What Prometheus runs is back, note and all (the same file). */
	e->loaded = e->has_accepted;
}

/* Brings e's file under test back into rules/ (lock held). */
static void
unpark(struct registry *r, struct entry *e)
{
	char err[ERR_MAX];

	if (e->parked == NULL)
		return;
	if (store_write(r->st, STORE_RULES, e->name, e->parked,
	    e->parked_len, err) == -1) {
		/* rules/ keeps the accepted one: the start-up rewrite or the
		 * next request brings the record's back. */
		log_error("cannot bring a rule file back", "service", e->name,
		    "error", err);
		return;
	}
	e->has_rules = 1;
	e->h_rules = e->h_parked;
	e->loaded = 0;
	e->rules_seq = __atomic_add_fetch(&r->rules_seq, 1, __ATOMIC_RELAXED);
	free(e->parked);
	e->parked = NULL;
}

void
registry_rules_park(struct registry *r, const char *name, int out)
{
	struct entry *e;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (out)
		park(r, e);
	else
		unpark(r, e);
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
}

void
registry_rules_reject(struct registry *r, const char *name,
    const char *reason)
{
	char path[PATH_MAX], err[ERR_MAX];
	struct entry *e;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->parked == NULL || e->rejected != NULL)
		goto out;	/* a request replaced it meanwhile */
	if (store_write(r->st, STORE_REJECTED, name, e->parked,
	    e->parked_len, err) == -1) {
		log_error("cannot keep a refused rule file", "service", name,
		    "error", err);
		goto out;
	}
	if ((e->rejected = strdup(reason)) == NULL) {
		/* Still set aside; the services API just cannot say why. */
		e->rejected = strdup("refused");
	}
	e->has_rejected = 1;
	e->h_rejected = e->h_parked;
	free(e->parked);
	e->parked = NULL;
	__atomic_add_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
	store_path(r->st, STORE_REJECTED, name, path, sizeof(path));
	log_error("rule file quarantined", "service", name, "file", path,
	    "reason", reason);
out:
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
}

void
registry_rules_readmit(struct registry *r, const char *name)
{
	char err[ERR_MAX], *buf = NULL;
	struct entry *e;
	size_t len;
	int written = 0;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->rejected == NULL || !e->has_rejected)
		goto out;
	if (store_read(r->st, STORE_REJECTED, name, BOUND_FILE_MAX, &buf, &len,
	    err) == 0 && reg_hash(buf, len) != e->h_rejected)
		snprintf(err, ERR_MAX, "rejected/ changed meanwhile");
	if (buf == NULL || reg_hash(buf, len) != e->h_rejected ||
	    store_write(r->st, STORE_RULES, name, buf, len, err) == -1) {
		log_warn("cannot let a rule file back in", "service", name,
		    "error", err);
		goto out;
	}
	e->has_rules = 1;
	e->h_rules = e->h_rejected;
	e->loaded = 0;
	e->rules_seq = __atomic_add_fetch(&r->rules_seq, 1, __ATOMIC_RELAXED);
	written = 1;
	if (store_remove(r->st, STORE_REJECTED, name, err) == 0)
		e->has_rejected = 0;
	free(e->rejected);
	e->rejected = NULL;
	__atomic_sub_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
	log_info("rule file let back in: it passes its checks again",
	    "service", name);
out:
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	free(buf);
	if (written && r->rl != NULL)
		reloader_trigger(r->rl);
}

size_t
registry_rejected(struct registry *r)
{
	return __atomic_load_n(&r->nrejected, __ATOMIC_RELAXED);
}
