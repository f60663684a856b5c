/* registry_rules.c: the registry's rule files against Prometheus's
 * reloads, for quarantine.c: which files changed since the last good
 * reload, setting one aside for a test reload and bringing it back, and
 * keeping a culprit out of rules/. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry_impl.h"

uint64_t
registry_rules_mark(struct registry *r)
{
	return __atomic_load_n(&r->rules_seq, __ATOMIC_RELAXED);
}

void
registry_reload_ok(struct registry *r, uint64_t mark)
{
	struct entry **all;
	size_t n, i;

	if ((all = reg_entries(r, 0, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&all[i]->lock);
		if (all[i]->rules_seq <= mark)
			all[i]->rules_dirty = 0;
		pthread_mutex_unlock(&all[i]->lock);
	}
	free(all);
}

int
registry_rules_suspects(struct registry *r, int all, char ***names,
    size_t *nnames)
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
		if (v[i]->has_rules && !v[i]->has_rejected &&
		    (all || v[i]->rules_dirty))
			rc = strv_push(names, nnames, v[i]->name);
		pthread_mutex_unlock(&v[i]->lock);
	}
	free(v);
	if (rc == -1) {
		strv_free(*names, *nnames);
		*names = NULL;
		*nnames = 0;
	}
	return rc;
}

int
registry_rules_read(struct registry *r, const char *name, char **buf,
    size_t *len, char err[ERR_MAX])
{
	return store_read(r->st, STORE_RULES, name, 64 << 20, buf, len, err);
}

void
registry_rules_park(struct registry *r, const char *name, int out)
{
	char err[ERR_MAX];
	struct entry *e;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (out && e->has_rules && !e->has_rejected) {
		if (store_move(r->st, STORE_RULES, STORE_REJECTED, name,
		    err) == -1)
			log_error("cannot park rule file", "service", name,
			    "error", err);
		else {
			e->has_rules = 0;
			e->has_rejected = 1;
			e->h_rejected = e->h_rules;
			e->parked = 1;
		}
	} else if (!out && e->parked && e->has_rejected &&
	    e->rejected == NULL && !e->has_rules) {
		if (store_move(r->st, STORE_REJECTED, STORE_RULES, name,
		    err) == -1)
			log_error("cannot restore rule file", "service", name,
			    "error", err);
		else {
			e->has_rules = 1;
			e->h_rules = e->h_rejected;
			e->has_rejected = 0;
			e->parked = 0;
		}
	}
	pthread_mutex_unlock(&e->lock);
}

void
registry_rules_reject(struct registry *r, const char *name,
    const char *reason)
{
	char path[PATH_MAX];
	struct entry *e;

	if ((e = reg_entry(r, name, 0)) == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->parked && e->has_rejected && e->rejected == NULL) {
		e->parked = 0;
		e->rejected = strdup(reason);
		__atomic_add_fetch(&r->nrejected, 1, __ATOMIC_RELAXED);
		store_path(r->st, STORE_REJECTED, name, path, sizeof(path));
		log_error("rule file quarantined", "service", name,
		    "file", path, "reason", reason);
	}
	pthread_mutex_unlock(&e->lock);
}

size_t
registry_rejected(struct registry *r)
{
	return __atomic_load_n(&r->nrejected, __ATOMIC_RELAXED);
}
