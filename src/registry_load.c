/* registry_load.c: rebuilding the index from the data dir at start: node
 * labels, then every record, each output compared with what its record
 * renders to and rewritten where they disagree (the crash-safety argument
 * is in registry.c); and, while running, the outputs that vanished from
 * disk written again from their records (registry_heal). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "bounds.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "registry_impl.h"
#include "reloader.h"
#include "render.h"

struct load_ctx {
	struct registry		 *r;
	const struct request_ctx *rctx;
	int			  rules_changed;
	size_t			  loaded;
	size_t			  failed;
	/* The output dirs listed once before the records are read: most
	 * probes are of files that do not exist (store_names()). */
	struct store_names	  seen[STORE_NKINDS];
};

static int
load_node(const char *name, void *arg)
{
	struct load_ctx *lc = arg;
	struct kvlist labels = { 0 };
	char err[ERR_MAX], *buf = NULL, *id = NULL;
	size_t len;
	int rc = 0;

	/* A record written under looser limits (or by hand) is held to
	 * today's, as a node/reconfigure would be. */
	if (store_read(lc->r->st, STORE_NODES, name, BOUND_NODE_RECORD_MAX,
	    &buf, &len, err) == -1 || record_node_decode(buf, len, &id,
	    &labels, err) == -1 || strcmp(id, name) != 0 ||
	    request_check_node_labels(lc->rctx, &labels, err) == -1)
		log_warn("cannot load node record", "node", name, "error",
		    id && strcmp(id, name) ? "id does not match file name" :
		    err);
	else if (reg_node_set(lc->r, id, &labels) == -1)
		rc = -1;
	free(buf);
	free(id);
	kvlist_release(&labels);
	return rc;
}

/* At start, a task DNS service's last address set is the one in its target
 * file (flowmon wrote it): take it as the set to keep, so a restart neither
 * rewrites the file nor drops targets while the name does not resolve. */
static void
seed_addrs(struct registry *r, struct entry *e)
{
	char err[ERR_MAX], *buf = NULL, **v = NULL;
	cJSON *root = NULL, *g, *t;
	size_t len, n = 0;

	if (!e->has_targets || store_read(r->st, STORE_TARGETS, e->name,
	    BOUND_FILE_MAX, &buf, &len, err) == -1)
		return;
	if ((root = cJSON_Parse(buf)) == NULL || !cJSON_IsArray(root))
		goto out;
	cJSON_ArrayForEach(g, root) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g,
		    "targets")) {
			const char *hp = cJSON_GetStringValue(t), *end;

			if (hp == NULL)
				continue;
			/* host:port or [v6]:port; the host is what DNS gave. */
			if (hp[0] == '[') {
				hp++;
				end = strchr(hp, ']');
			} else {
				end = strrchr(hp, ':');
			}
			if (end != NULL && end != hp)
				(void)strv_pushn(&v, &n, hp, (size_t)(end - hp));
		}
	}
	strv_free(e->addrs, e->naddrs);
	e->addrs = NULL;
	e->naddrs = 0;
	if (strv_sorted_set(v, n, &e->addrs, &e->naddrs) == -1)
		e->naddrs = 0;
out:
	strv_free(v, n);
	cJSON_Delete(root);
	free(buf);
}

static int
load_service(const char *name, void *arg)
{
	struct load_ctx *lc = arg;
	struct registry *r = lc->r;
	struct kvlist params = { 0 };
	struct registry_result res;
	struct reg_files f = { NULL, 0, NULL, 0 };
	struct service *svc = NULL;
	struct entry *e;
	enum service_source source = SERVICE_SOURCE_UNKNOWN;
	char err[ERR_MAX], base[214], *buf = NULL;
	const char *key, *named;
	size_t len;
	int removed = 0, ok = 0, rendered = 0, rc;

	memset(&res, 0, sizeof(res));
	/* The record first: name is a file's base name, which for a very
	 * long service name is a shortened form; the record has the name. */
	if (store_read(r->st, STORE_STATE, name, BOUND_RECORD_MAX, &buf, &len,
	    err) == -1 || record_decode(buf, len, &params, &removed, &source,
	    err) == -1)
		;
	else if ((svc = calloc(1, sizeof(*svc))) == NULL)
		snprintf(err, ERR_MAX, "out of memory");
	else if (request_parse(&params, lc->rctx, svc, err) == -1)
		;
	else if (store_base(svc->name, base), strcmp(base, name) != 0)
		snprintf(err, ERR_MAX, "record names service %.300s",
		    svc->name);
	else
		ok = 1;
	if (ok)
		svc->source = source;
	key = ok ? svc->name : name;
	/* A long name's record that names it but no longer parses is kept
	 * under that name, so that a reconfigure of it replaces it (as for
	 * a short name) instead of colliding with it. */
	if (!ok && (named = request_service_name(&params)) != NULL &&
	    service_name_valid(named) && (store_base(named, base),
	    strcmp(base, name) == 0))
		key = named;
	if ((e = reg_entry(r, key, 1)) == NULL) {
		service_free(svc);
		kvlist_release(&params);
		free(buf);
		return -1;
	}
	pthread_mutex_lock(&e->lock);
	if (e->svc == NULL && e->invalid == NULL)
		__atomic_add_fetch(&r->nrecords, 1, __ATOMIC_RELAXED);
	/* A file that cannot be read counts as there, with hash 0: it is
	 * rewritten from the record (registry_file_owner() books 0 the same
	 * way for a file it cannot vouch for). */
	e->has_targets = store_probe(r->st, STORE_TARGETS, name,
	    &lc->seen[STORE_TARGETS], &e->h_targets) != 0;
	rule_load(&e->rf, r->st, name, lc->seen);
	/* A record whose target file is over --max-target-bytes is as
	 * invalid as one over a request limit. */
	if (ok && (reg_render_targets(r, svc, removed, NULL, 0, &f.targets,
	    &f.tlen, err) == -1 || (f.targets != NULL &&
	    reg_targets_too_big(r, svc->name, f.tlen, err))))
		ok = 0;
	if (!ok)
		goto invalid;
	e->svc = reg_keep(svc);
	svc = NULL;
	e->removed = removed;
	reg_count(r, e, 1);
	reg_dns_follow(r, e);
	if (e->dns_epoch != 0)
		seed_addrs(r, e);
	/* Each file rendered once: the target file the bound was checked
	 * on is the one compared with the disk, unless task DNS addresses
	 * go into it. */
	rendered = e->naddrs == 0 && render_rules(e->svc, removed, &f.rules,
	    &f.rlen, err) == 0;
	rc = rendered ? reg_sync_files(r, e, &f, &res, err) :
	    reg_sync(r, e, &res, err);
	if (rc == -1)
		log_error("cannot rewrite outputs from record", "service",
		    name, "error", err);
	else if (res.wrote_targets || res.wrote_rules)
		log_info("outputs rewritten from record", "service", name);
	lc->rules_changed |= res.wrote_rules;
	lc->loaded++;
	reg_event(r, e, REGISTRY_EV_RESTORED, res.wrote_targets ||
	    res.wrote_rules ? "files rewritten from the record" : "");
	goto out;
invalid:
	/* Leave its files alone: a newer flowmon or a changed shortcut table
	 * may be why; the operator sees it in the services API. */
	log_error("cannot load service record", "service", name, "error", err);
	e->invalid = strdup(err);
	reg_event(r, e, REGISTRY_EV_INVALID, err);
	lc->failed++;
out:
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	service_free(svc);
	kvlist_release(&params);
	free(buf);
	free(f.targets);
	free(f.rules);
	return 0;
}

/*
 * Prometheus before 2.48 (Debian 12 ships 2.42) keeps scraping the targets
 * of deleted file_sd files forever when a reload finds no file at all
 * matching targets/\*.json (prometheus#12858): the last service removed,
 * whose rule change reloads within the 5 s discovery tick, would stay
 * scraped until Prometheus restarts. One file that is never removed,
 * holding one group without targets (an empty array is not enough), keeps
 * the glob from ever coming up empty. No service is named "_flowmon": a
 * service name starts with a letter or digit. Written only when missing or
 * different, so a start on a healthy data dir writes nothing.
 */
int
reg_sentinel(struct registry *r)
{
	static const char body[] = "[{\"targets\":[]}]\n";
	char err[ERR_MAX], *buf = NULL;
	size_t len = 0;
	int same;

	same = store_read(r->st, STORE_TARGETS, REGISTRY_SENTINEL, 4096, &buf,
	    &len, err) == 0 && len == sizeof(body) - 1 &&
	    memcmp(buf, body, len) == 0;
	free(buf);
	if (same)
		return 0;
	if (store_write(r->st, STORE_TARGETS, REGISTRY_SENTINEL, body,
	    sizeof(body) - 1, err) == -1) {
		log_warn("cannot write the targets sentinel", "error", err);
		return -1;
	}
	return 1;
}

/* A file in accepted/ or rejected/ of a service without a record: left by
 * a removal the daemon did not see through (a stop before the reload that
 * followed it), it holds nothing any service needs. */
static int
sweep_stale(struct registry *r, enum store_kind kind, const char *name)
{
	char err[ERR_MAX], path[PATH_MAX];
	struct entry *e;

	if ((e = reg_entry_by_base(r, name)) != NULL) {
		reg_put(r, e);
		return 0;
	}
	store_path(r->st, kind, name, path, sizeof(path));
	if (store_remove(r->st, kind, name, err) == -1)
		log_warn("cannot remove a stale rule file", "file", path,
		    "error", err);
	else
		log_info("stale rule file removed: no record", "file", path);
	return 0;
}

static int
sweep_accepted(const char *name, void *arg)
{
	return sweep_stale(((struct load_ctx *)arg)->r, STORE_ACCEPTED, name);
}

static int
sweep_rejected(const char *name, void *arg)
{
	return sweep_stale(((struct load_ctx *)arg)->r, STORE_REJECTED, name);
}

int
registry_load(struct registry *r, const struct request_ctx *ctx,
    char err[ERR_MAX])
{
	static const enum store_kind listed[] = { STORE_TARGETS, STORE_RULES,
		STORE_ACCEPTED, STORE_REJECTED };
	struct load_ctx lc;
	char n[32], f[32], why[ERR_MAX];
	size_t i;
	int rc = -1;

	memset(&lc, 0, sizeof(lc));
	lc.r = r;
	lc.rctx = ctx;
	(void)reg_sentinel(r);
	/* A directory that cannot be listed is probed file by file. */
	for (i = 0; i < sizeof(listed) / sizeof(*listed); i++)
		if (store_names(r->st, listed[i], &lc.seen[listed[i]],
		    why) == -1)
			log_warn("cannot list a directory of the data dir",
			    "error", why);
	if (store_scan(r->st, STORE_NODES, load_node, &lc, err) != 0 ||
	    store_scan(r->st, STORE_STATE, load_service, &lc, err) != 0 ||
	    store_scan(r->st, STORE_ACCEPTED, sweep_accepted, &lc, err) != 0 ||
	    store_scan(r->st, STORE_REJECTED, sweep_rejected, &lc, err) != 0)
		goto out;
	rc = 0;
	snprintf(n, sizeof(n), "%zu", lc.loaded);
	snprintf(f, sizeof(f), "%zu", lc.failed);
	log_info("records loaded", "services", n, "invalid", f);
	if (lc.rules_changed && r->rl)
		reloader_trigger(r->rl);
out:
	for (i = 0; i < STORE_NKINDS; i++)
		store_names_release(&lc.seen[i]);
	return rc;
}


/*
 * Self-healing. The watcher (files.c) lists targets/ and rules/; an output
 * the registry has booked as on disk but the listing lacks was removed by
 * someone else. It is confirmed missing under the service's lock (the
 * listing may predate a write) and written again by reg_sync(), the path
 * of every reconfigure: one writer, the entry's lock held, the hash booked
 * with the write. reg_sync() brings both outputs in line with the record,
 * so a hand edit of the other one goes with it, as at a reconfigure.
 */
/* The sentinel, when the look found it missing: 1 if written again. */
static int
heal_sentinel(struct registry *r, size_t healed[2])
{
	if (reg_sentinel(r) != 1)
		return 0;
	log_warn("flowmon file vanished: written again", "file",
	    "targets/" REGISTRY_SENTINEL ".json");
	metrics_file(M_FEV_HEALED, M_FILE_TARGETS);
	healed[0]++;
	return 1;
}

/* Heals e (a reference held, not locked): each of its booked outputs the
 * look did not find (present) and that is still missing under its lock
 * is written again. *rules is set when a rule file was. -1 with err when
 * one could not be written. */
static int
heal_entry(struct registry *r, struct entry *e, registry_present_fn present,
    void *ctx, size_t healed[2], int *rules, char err[ERR_MAX])
{
	static const enum store_kind kinds[2] = { STORE_TARGETS, STORE_RULES };
	struct registry_result res;
	char base[214], file[256], path[PATH_MAX], why[ERR_MAX];
	int k, gone[2], *has, rc = 0, wrote;

	pthread_mutex_lock(&e->lock);
	if (e->svc == NULL || e->invalid != NULL)
		goto out;
	store_base(e->name, base);
	for (k = 0; k < 2; k++) {
		has = k == 0 ? &e->has_targets : &e->rf.has_file;
		snprintf(file, sizeof(file), "%s%s", base,
		    store_ext(kinds[k]));
		gone[k] = *has && !present(ctx, k, file) &&
		    !store_exists(r->st, kinds[k], e->name);
		/* Booked as absent: reg_sync() writes it again. */
		if (gone[k])
			*has = 0;
	}
	if (!gone[0] && !gone[1])
		goto out;
	memset(&res, 0, sizeof(res));
	if (reg_sync(r, e, &res, why) == -1) {
		log_error("flowmon file vanished and cannot be written "
		    "again", "service", e->name, "error", why);
		snprintf(err, ERR_MAX, "%s", why);
		rc = -1;
	}
	for (k = 0; k < 2; k++) {
		wrote = k == 0 ? res.wrote_targets : res.wrote_rules;
		if (!gone[k] || !wrote)
			continue;
		store_path(r->st, kinds[k], e->name, path, sizeof(path));
		log_warn("flowmon file vanished: written again from "
		    "the record", "service", e->name, "file", path);
		reg_event(r, e, REGISTRY_EV_HEALED, k == 0 ?
		    "targets" : "rules");
		metrics_file(M_FEV_HEALED, k == 0 ? M_FILE_TARGETS :
		    M_FILE_RULES);
		healed[k]++;
	}
	*rules |= res.wrote_rules;
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int
registry_heal(struct registry *r, registry_present_fn present, void *ctx,
    size_t healed[2], char err[ERR_MAX])
{
	struct entry **all;
	char file[256];
	size_t n, i;
	int rc = 0, rules = 0;

	healed[0] = healed[1] = 0;
	snprintf(file, sizeof(file), "%s%s", REGISTRY_SENTINEL,
	    store_ext(STORE_TARGETS));
	if (!present(ctx, 0, file))
		(void)heal_sentinel(r, healed);
	if ((all = reg_entries(r, 0, &n)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (heal_entry(r, all[i], present, ctx, healed, &rules,
		    err) == -1)
			rc = -1;
	reg_entries_put(r, all, n);
	if (rules && r->rl)
		reloader_trigger(r->rl);
	return rc;
}

/* registry_heal_file()'s looks: the one file it names was found
 * missing; the service's other output was not looked at. */
static int
absent_targets(void *ctx, int rules, const char *file)
{
	(void)ctx;
	(void)file;
	return rules;
}

static int
absent_rules(void *ctx, int rules, const char *file)
{
	(void)ctx;
	(void)file;
	return !rules;
}

int
registry_heal_file(struct registry *r, int rules, const char *file,
    size_t healed[2], char err[ERR_MAX])
{
	enum store_kind kind = rules ? STORE_RULES : STORE_TARGETS;
	const char *ext = store_ext(kind);
	char base[256];
	size_t n = strlen(file), elen = strlen(ext);
	struct entry *e;
	int rc = 0, wrote = 0;

	healed[0] = healed[1] = 0;
	if (n <= elen || n - elen >= sizeof(base) ||
	    strcmp(file + n - elen, ext) != 0)
		return 0;
	snprintf(base, sizeof(base), "%.*s", (int)(n - elen), file);
	if (!rules && strcmp(base, REGISTRY_SENTINEL) == 0) {
		(void)heal_sentinel(r, healed);
		return 0;
	}
	if ((e = reg_entry_by_base(r, base)) == NULL)
		return 0;
	rc = heal_entry(r, e, rules ? absent_rules : absent_targets, NULL,
	    healed, &wrote, err);
	reg_put(r, e);
	if (wrote && r->rl)
		reloader_trigger(r->rl);
	return rc;
}
