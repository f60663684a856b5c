/* registry.c: the index of services and nodes, and the decisions: what to
 * write, in which order, and when a reload is due.
 *
 * State model. Each service has one record on disk, state/<name>.json,
 * holding the canonical parameters of its last accepted reconfigure. The
 * target and rule files are pure functions of the record (and of the node
 * labels and task DNS addresses), so the record is the source of truth and
 * the outputs can always be rebuilt from it. In memory, an entry holds the
 * parsed record and a hash of each output as it is on disk, so an
 * identical request costs no IO and no reload.
 *
 * All or nothing. A change (an upsert, a remove) is one store transaction
 * (store_txn_*): the record, the target file, the rule file and what goes
 * with it (accepted/, rejected/) are each replaced atomically, and each
 * replaced version is kept, as a hard link under a temp name, until the
 * last write has succeeded. Then the kept versions are dropped and the
 * change is booked into the entry (struct reg_change); if any write fails,
 * every file of the change is put back (a rename of the kept link over
 * the file, or the unlink of a file the change made, neither of which
 * needs free space), the entry is left untouched, and the request gets
 * its 5xx with nothing changed, in memory and on disk, so a restart has
 * nothing to render from a record that was refused. Why keep and put back
 * rather than write the record last: a record written last would leave,
 * at a crash, an output without a record, which nothing could tell from
 * an operator's file; kept versions never show (no glob matches a temp
 * name) and put back takes no room, which a full disk would not give a
 * rewrite of the old contents.
 *
 * Crash safety. An upsert writes the record first, then the outputs; a
 * remove deletes the outputs first, then the record. A crash in between
 * therefore leaves a record whose outputs disagree with it (never an
 * output without a record), and registry_load() rewrites the outputs from
 * the record at the next start; the kept versions are stale temp files
 * that store_open() sweeps. The request that was cut short got no answer,
 * so either outcome is allowed. A rule file set aside for a test reload
 * (lifecycle.h) is the same case: the record still says what it
 * should be. The rule file goes through its lifecycle within the same
 * transaction (lifecycle.h: rule_write(), booked by rule_commit()).
 *
 * Concurrency. Each entry has its own mutex, held across its fsyncs: two
 * requests for one service are applied in the order they take the lock and
 * answered after their writes, so the last one acknowledged is what stays on
 * disk; requests for different services never wait on each other. Node
 * changes take one mutex across their write and re-render, so the node
 * record on disk and the labels in memory come from the same request. Lock
 * order: node write mutex, then map lock, then entry lock, then the
 * long-name mutex, then node lock. One exception: a new service with a
 * shortened file name looks for another with that file name under the map
 * lock for reading while it holds its entry lock and the long-name mutex.
 * That is safe because the map lock prefers readers: a reader never waits
 * behind a waiting writer while other readers hold it, and no writer of
 * the map ever waits for an entry lock.
 *
 * Entries. An entry lives while it holds something (a record, valid or
 * not, a file on disk, a rule file set aside, task DNS state) or while a
 * thread holds a reference to it (reg_entry(), reg_entries()); the last
 * reference of an entry that holds nothing frees it (reg_put()), so a
 * service removed for good costs no memory, and a request refused before
 * anything was written leaves nothing behind. A reference is taken under
 * the map lock and the last one is dropped under its write lock, so no
 * thread can find an entry that is being freed.
 *
 * Layers. Lower files provide, upper files use, and none calls back into
 * a file that calls it:
 *
 *   registry_load.c    registry_nodes.c    registry_ext.c
 *   (start-up rebuild,  (node changes,      (what views.c, taskdns.c
 *    heal)               re-render)          and lifecycle.c read)
 *          \                  |                  /
 *           registry.c: the index of services and nodes, and the
 *           decisions: what to write (upsert, remove, reg_sync), when
 *           to ask for a reload
 *              |                |                  |
 *     lifecycle_rule.c      verdict.c        render.c, record.c,
 *     (one rule file's      (the one rule    store.c, reloader.c
 *      states and files)     verdict)
 *
 * lifecycle.c (the reloader's hook and the diagnosis) sits above the
 * whole registry and reaches it through registry_ext.c. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "registry_impl.h"
#include "reloader.h"
#include "render.h"
#include "request.h"
#include "verdict.h"

/* A service whose targets come from task DNS: no nodeInfo, no targets, not
 * scrapeType=static_configs, and a port to scrape. */
static int
uses_dns(const struct service *svc)
{
	return svc != NULL && svc->port > 0 && svc->ntargets == 0 &&
	    !svc->static_config && !svc->has_tasks;
}

/* e's record changed (lock held): it joins the DNS path with a new epoch
 * (and a lookup is wanted), stays on it with its address set, or leaves
 * it and forgets the set. */
void
reg_dns_follow(struct registry *r, struct entry *e)
{
	if (e->svc != NULL && e->invalid == NULL && !e->removed &&
	    uses_dns(e->svc)) {
		if (e->dns_epoch == 0) {
			e->dns_epoch = __atomic_add_fetch(&r->dns_wanted, 1,
			    __ATOMIC_RELAXED);
		}
		return;
	}
	strv_free(e->addrs, e->naddrs);
	e->addrs = NULL;
	e->naddrs = 0;
	e->dns_epoch = 0;
}

struct registry *
registry_new(struct store *st, struct reloader *rl)
{
	pthread_rwlockattr_t attr;
	struct registry *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->st = st;
	r->rl = rl;
	r->nbuckets = 1024;
	if ((r->buckets = calloc(r->nbuckets, sizeof(*r->buckets))) == NULL) {
		free(r);
		return NULL;
	}
	/* Reader-preferring (glibc's default, said here because the order
	 * depends on it): see the lock order above. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_READER_NP);
	pthread_rwlock_init(&r->maplock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_rwlock_init(&r->nodelock, NULL);
	pthread_mutex_init(&r->nodewrite, NULL);
	pthread_mutex_init(&r->longname, NULL);
	return r;
}

static void
entry_free(struct registry *r, struct entry *e)
{
	if (e->story != NULL && r->story_free != NULL)
		r->story_free(e->story);
	service_free(e->svc);
	pthread_mutex_destroy(&e->lock);
	strv_free(e->addrs, e->naddrs);
	rule_release(&e->rf);
	free(e->invalid);
	free(e->name);
	free(e);
}

void
registry_free(struct registry *r)
{
	struct entry *e, *en;
	struct node *n, *nn;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = en) {
			en = e->next;
			entry_free(r, e);
		}
	}
	for (n = r->nodes; n; n = nn) {
		nn = n->next;
		reg_node_free(n);
	}
	free(r->buckets);
	pthread_rwlock_destroy(&r->maplock);
	pthread_rwlock_destroy(&r->nodelock);
	pthread_mutex_destroy(&r->nodewrite);
	pthread_mutex_destroy(&r->longname);
	free(r);
}

struct store *
registry_store(struct registry *r)
{
	return r->st;
}

void
registry_set_checks(struct registry *r, struct promtool *pt,
    const struct quota *lim)
{
	r->pt = pt;
	r->lim = lim;
}

static struct entry *
map_find(struct registry *r, const char *name)
{
	struct entry *e;

	for (e = r->buckets[hash_content(name, strlen(name)) % r->nbuckets]; e;
	    e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
map_grow(struct registry *r)
{
	size_t n = r->nbuckets * 2, i;
	struct entry **b, *e, *en;

	if ((b = calloc(n, sizeof(*b))) == NULL)
		return;	/* longer chains, still correct */
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = en) {
			size_t h = hash_content(e->name, strlen(e->name)) % n;

			en = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = n;
}

/* A reference, taken under the map lock (either mode). */
static void
entry_ref(struct entry *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
}

/* e holds nothing that must outlive the request holding it. Read under
 * the map's write lock with no reference left: nobody else touches e. */
static int
entry_empty(const struct entry *e)
{
	return e->svc == NULL && e->invalid == NULL && !e->has_targets &&
	    !rule_holds(&e->rf) && e->naddrs == 0 && e->dns_epoch == 0;
}

/* Takes e out of the map and frees it (map write lock held). */
static void
map_drop(struct registry *r, struct entry *e)
{
	struct entry **pp;

	for (pp = &r->buckets[hash_content(e->name, strlen(e->name)) %
	    r->nbuckets]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			r->nentries--;
			entry_free(r, e);
			return;
		}
	}
}

/* Drops one reference (map write lock held); frees e if it was the last
 * and e is empty. */
static void
entry_unref_locked(struct registry *r, struct entry *e)
{
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0 &&
	    entry_empty(e))
		map_drop(r, e);
}

void
reg_put(struct registry *r, struct entry *e)
{
	size_t old;

	if (e == NULL)
		return;
	/* Not the last reference: nothing can be freed, no lock needed. */
	old = __atomic_load_n(&e->refs, __ATOMIC_ACQUIRE);
	while (old > 1)
		if (__atomic_compare_exchange_n(&e->refs, &old, old - 1, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return;
	/* Maybe the last: under the write lock nobody takes a new one. */
	pthread_rwlock_wrlock(&r->maplock);
	entry_unref_locked(r, e);
	pthread_rwlock_unlock(&r->maplock);
}

void
reg_entries_put(struct registry *r, struct entry **all, size_t n)
{
	size_t i;

	if (all == NULL)
		return;
	pthread_rwlock_wrlock(&r->maplock);
	for (i = 0; i < n; i++)
		entry_unref_locked(r, all[i]);
	pthread_rwlock_unlock(&r->maplock);
	free(all);
}

/* The entry of name, created when create is set, with a reference. NULL
 * if absent or on allocation failure (errno ENOMEM then). */
struct entry *
reg_entry(struct registry *r, const char *name, int create)
{
	struct entry *e;
	size_t h;

	pthread_rwlock_rdlock(&r->maplock);
	if ((e = map_find(r, name)) != NULL)
		entry_ref(e);
	pthread_rwlock_unlock(&r->maplock);
	if (e != NULL || !create)
		return e;

	pthread_rwlock_wrlock(&r->maplock);
	if ((e = map_find(r, name)) != NULL) {
		entry_ref(e);
		goto out;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->name = strdup(name)) == NULL) {
		free(e);
		e = NULL;
		errno = ENOMEM;
		goto out;
	}
	pthread_mutex_init(&e->lock, NULL);
	e->refs = 1;
	if (r->nentries >= r->nbuckets)
		map_grow(r);
	h = hash_content(name, strlen(name)) % r->nbuckets;
	e->next = r->buckets[h];
	r->buckets[h] = e;
	r->nentries++;
out:
	pthread_rwlock_unlock(&r->maplock);
	return e;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->name,
	    (*(struct entry *const *)b)->name);
}

/* Every entry, each with a reference taken under the map lock, so the
 * pointers stay good after it is dropped; sorted by name if asked. NULL
 * on ENOMEM. */
struct entry **
reg_entries(struct registry *r, int sorted, size_t *n)
{
	struct entry **all, *e;
	size_t i;

	*n = 0;
	pthread_rwlock_rdlock(&r->maplock);
	if ((all = calloc(r->nentries + 1, sizeof(*all))) != NULL)
		for (i = 0; i < r->nbuckets; i++)
			for (e = r->buckets[i]; e; e = e->next) {
				entry_ref(e);
				all[(*n)++] = e;
			}
	pthread_rwlock_unlock(&r->maplock);
	if (all != NULL && sorted)
		qsort(all, *n, sizeof(*all), entry_cmp);
	return all;
}

int
reg_each(struct registry *r, int sorted, int (*fn)(void *ctx,
    struct entry *e), void *ctx)
{
	struct entry **all;
	size_t n, i;
	int rc = 0;

	if ((all = reg_entries(r, sorted, &n)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		pthread_mutex_lock(&all[i]->lock);
		rc = fn(ctx, all[i]);
		pthread_mutex_unlock(&all[i]->lock);
	}
	reg_entries_put(r, all, n);
	return rc;
}

/* The target file of a record (svc, removed) with its task DNS addresses;
 * *out NULL when there is none. */
int
reg_render_targets(struct registry *r, const struct service *svc,
    int removed, char *const *addrs, size_t naddrs, char **out, size_t *len,
    char err[ERR_MAX])
{
	int rc;

	*out = NULL;
	*len = 0;
	if (removed)
		return 0;
	pthread_rwlock_rdlock(&r->nodelock);
	rc = render_targets(svc, (const char *const *)addrs, naddrs,
	    reg_node_labels, r, out, len, err);
	pthread_rwlock_unlock(&r->nodelock);
	return rc;
}

int
reg_targets_too_big(struct registry *r, const char *name, size_t len,
    char err[ERR_MAX])
{
	return r->lim != NULL && quota_check_targets(name, len, r->lim,
	    err) == -1;
}

void
reg_change_begin(struct registry *r, struct reg_change *c)
{
	memset(c, 0, sizeof(*c));
	store_txn_begin(&c->txn, r->st);
	c->targets = c->rules = -1;
}

/* A committed change goes into e (lock held), and into res. */
static void
change_book(struct registry *r, struct entry *e, struct reg_change *c,
    struct registry_result *res)
{
	if (c->targets >= 0) {
		/* A removed file's hash stays: registry_file_owner() still
		 * knows its bytes. */
		e->has_targets = c->targets;
		if (c->targets)
			e->h_targets = c->h_targets;
		res->wrote_targets = 1;
	}
	if (c->rules >= 0) {
		enum rule_state before = e->rf.state;

		rule_commit(&e->rf, &c->rf, c->rules, &r->rules_seq, e->name);
		reg_rule_events(r, e, before, "its alerts changed");
	}
	if (c->rules == 1)
		res->wrote_rules = 1;
	if (c->state)
		res->wrote_state = 1;
}

int
reg_change_end(struct registry *r, struct entry *e, struct reg_change *c,
    int ok, struct registry_result *res, char err[ERR_MAX])
{
	char why[ERR_MAX];
	int saved = errno;

	if (ok) {
		store_txn_commit(&c->txn);
		change_book(r, e, c, res);
		return 0;
	}
	if (store_txn_abort(&c->txn, why) == -1) {
		/* Two faults in a row: part of the change stays on disk
		 * until the next change of the service, or the next start,
		 * brings the files in line with the record on disk. */
		log_error("cannot undo a failed change", "service", e->name,
		    "error", err, "undo", why);
		e->h_targets = e->rf.h_file = 0;
	}
	errno = saved;
	return -1;
}

/* Brings the target file in line with buf (NULL: no file) within c, e
 * (lock held) as it was before c. 1 if the disk changes, 0 if it already
 * agreed, -1 on a storage error. */
static int
sync_targets(struct entry *e, struct reg_change *c, const char *buf,
    size_t len, char err[ERR_MAX])
{
	uint64_t nh;

	if (buf == NULL) {
		if (!e->has_targets)
			return 0;
		if (store_txn_remove(&c->txn, STORE_TARGETS, e->name,
		    err) == -1) {
			metrics_file(M_FEV_WRITE_ERROR, M_FILE_TARGETS);
			return -1;
		}
		metrics_file(M_FEV_REMOVED, M_FILE_TARGETS);
		c->targets = 0;
		return 1;
	}
	nh = hash_content(buf, len);
	if (e->has_targets && e->h_targets == nh)
		return 0;
	if (store_txn_write(&c->txn, STORE_TARGETS, e->name, buf, len,
	    err) == -1) {
		metrics_file(M_FEV_WRITE_ERROR, M_FILE_TARGETS);
		return -1;
	}
	metrics_file(M_FEV_WRITTEN, M_FILE_TARGETS);
	c->targets = 1;
	c->h_targets = nh;
	return 1;
}

/* The rule file through its lifecycle within c (lifecycle.h): rules/ gets
 * buf (NULL: no file) unless its version is kept out. */
static int
sync_rules(struct entry *e, struct reg_change *c, const char *buf,
    size_t len, char err[ERR_MAX])
{
	rule_begin(&e->rf, &c->rf);
	if ((c->rules = rule_write(&c->rf, &c->txn, e->name, buf, len,
	    err)) == -1) {
		metrics_file(M_FEV_WRITE_ERROR, M_FILE_RULES);
		return -1;
	}
	if (c->rules == 1 && c->rf.has_file)
		metrics_file(M_FEV_WRITTEN, M_FILE_RULES);
	else if (c->rules == 1)
		metrics_file(M_FEV_REMOVED, M_FILE_RULES);
	return 0;
}

int
reg_sync_change(struct registry *r, struct entry *e, struct reg_change *c,
    const struct service *svc, int removed, const struct reg_files *f,
    char err[ERR_MAX])
{
	char *own_targets = NULL, *own_rules = NULL;
	const char *targets, *rules;
	size_t tlen, rlen;
	int rc = -1;

	if (f != NULL) {
		targets = f->targets;
		tlen = f->tlen;
		rules = f->rules;
		rlen = f->rlen;
	} else if (reg_render_targets(r, svc, removed, e->addrs, e->naddrs,
	    &own_targets, &tlen, err) == -1 || render_rules(svc, removed,
	    &own_rules, &rlen, err) == -1) {
		goto out;
	} else {
		targets = own_targets;
		rules = own_rules;
	}
	/* Measured as written: node labels and task addresses in. */
	if (targets != NULL && reg_targets_too_big(r, svc->name, tlen, err)) {
		c->refused = 1;
		errno = EFBIG;
		goto out;
	}
	/* The rule file's lifecycle keeps a version set aside or rejected
	 * out of rules/ while the record still renders to it. */
	if (sync_targets(e, c, targets, tlen, err) == -1 ||
	    sync_rules(e, c, rules, rlen, err) == -1)
		goto out;
	rc = 0;
out:
	free(own_targets);
	free(own_rules);
	return rc;
}

int
reg_sync_files(struct registry *r, struct entry *e, const struct reg_files *f,
    struct registry_result *res, char err[ERR_MAX])
{
	struct reg_change c;
	int ok;

	reg_change_begin(r, &c);
	ok = reg_sync_change(r, e, &c, e->svc, e->removed, f, err) == 0;
	return reg_change_end(r, e, &c, ok, res, err);
}

int
reg_sync(struct registry *r, struct entry *e, struct registry_result *res,
    char err[ERR_MAX])
{
	return reg_sync_files(r, e, NULL, res, err);
}

/* The record of svc (removed: kept for its persistent alerts) within c. */
static int
write_record(struct reg_change *c, const struct service *svc, int removed,
    char err[ERR_MAX])
{
	char *buf;
	size_t len;
	int rc;

	if ((buf = record_encode(svc, removed, &len)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	rc = store_txn_write(&c->txn, STORE_STATE, svc->name, buf, len, err);
	free(buf);
	if (rc == -1)
		metrics_file(M_FEV_WRITE_ERROR, M_FILE_STATE);
	else {
		metrics_file(M_FEV_WRITTEN, M_FILE_STATE);
		c->state = 1;
	}
	return rc;
}

struct service *
reg_keep(struct service *svc)
{
	struct service *packed = service_pack(svc);

	if (packed == NULL)
		return svc;
	service_free(svc);
	return packed;
}

void
reg_count(struct registry *r, struct entry *e, int sign)
{
	if (e->svc == NULL)
		return;
	if (e->removed)
		__atomic_add_fetch(&r->nremoved, (size_t)sign, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&r->nactive, (size_t)sign, __ATOMIC_RELAXED);
}

/* The verdict on the rule file svc renders to (rules/len, NULL: none)
 * before it may be written: the bounds always, the rest unless it is the
 * file on disk (judged when it was written) or the very version rejected
 * (it stays out, answered 200, as swarm-listener needs). -1 with err when
 * refused. */
static int
check_rules(struct registry *r, struct entry *e, const struct service *svc,
    const char *rules, size_t len, char err[ERR_MAX])
{
	struct verdict v;
	uint64_t h = rules != NULL ? hash_content(rules, len) : 0;

	memset(&v, 0, sizeof(v));
	snprintf(v.shown, sizeof(v.shown), "rules/%s.yml", svc->name);
	v.buf = rules;
	v.len = len;
	v.svc = svc;
	v.bounds_only = rules == NULL || (!e->removed && ((e->rf.has_file &&
	    e->rf.h_file == h && !e->rf.aside) ||
	    (e->rf.state == RULE_REJECTED && e->rf.h_out == h)));
	verdict_rules(r->pt, r->lim, &v, 1);
	if (v.kind == FM_OK)
		return 0;
	snprintf(err, ERR_MAX, "%s", v.reason);
	return -1;
}

/* Books a failure of kind in res with errno (a storage error keeps the
 * store's errno). */
int
reg_fail(struct registry_result *res, enum fm_err kind, int errnum)
{
	res->fail = kind;
	errno = errnum;
	return -1;
}

void
registry_set_max_services(struct registry *r, size_t max)
{
	r->max_services = max;
}

size_t
registry_entries(struct registry *r)
{
	size_t n;

	pthread_rwlock_rdlock(&r->maplock);
	n = r->nentries;
	pthread_rwlock_unlock(&r->maplock);
	return n;
}

/* Whether a service other than self's already has base (self's shortened
 * file name, for name) as its file name: another entry whose name maps to
 * it, or a record in state/ under it that names another service or cannot
 * be read as naming any (such a record found at start is kept as an
 * invalid entry under its file name, which maps to itself). 1 with who
 * (the owner, or what the record is) filled in; 0 when base is free or
 * name's own. */
static int
base_taken(struct registry *r, const struct entry *self, const char *name,
    const char *base, char *who, size_t whosz)
{
	struct kvlist params = { 0 };
	char b[214], why[ERR_MAX], *buf = NULL;
	const char *owner;
	struct entry *e;
	size_t i, blen = strlen(base), len;
	int removed, taken = 0, invalid = 0;

	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets && !taken; i++) {
		for (e = r->buckets[i]; e != NULL && !taken; e = e->next) {
			/* Only a name at least as long maps to base. */
			if (e == self || strlen(e->name) < blen)
				continue;
			store_base(e->name, b);
			if (strcmp(b, base) != 0)
				continue;
			if (strchr(e->name, '~') != NULL)
				invalid = 1;	/* said below, from disk */
			else {
				snprintf(who, whosz, "service %.100s%s",
				    e->name, strlen(e->name) > 100 ? "..." :
				    "");
				taken = 1;
			}
		}
	}
	pthread_rwlock_unlock(&r->maplock);
	if (taken)
		return 1;
	if (store_read(r->st, STORE_STATE, name, BOUND_RECORD_MAX, &buf, &len,
	    why) == -1) {
		if (errno == ENOENT && !invalid)
			return 0;
		snprintf(who, whosz, "a record flowmon cannot read (%.100s)",
		    errno == ENOENT ? "gone since the start" : why);
		return 1;
	}
	if (record_decode(buf, len, &params, &removed, NULL, why) == -1) {
		snprintf(who, whosz, "a record that does not parse (%.100s)",
		    why);
		taken = 1;
	} else if ((owner = request_service_name(&params)) == NULL ||
	    strcmp(owner, name) != 0) {
		snprintf(who, whosz, "service %.100s%s", owner ? owner :
		    "(unnamed)", owner != NULL && strlen(owner) > 100 ? "..." :
		    "");
		taken = 1;
	} else if (invalid) {
		/* Names us, but did not load at start: replaced as an invalid
		 * record of a short name would be. */
		taken = 0;
	}
	kvlist_release(&params);
	free(buf);
	return taken;
}

/* A service without a record yet: it must fit under --max-services (its
 * place is reserved: *reserved) and must not take a file name another
 * service has (a shortened long name; the long-name mutex is then held,
 * *longname, until the caller has written its record). -1 with err and
 * res->fail when refused. */
static int
admit_new(struct registry *r, struct entry *e, const char *name,
    int *reserved, int *longname, struct registry_result *res,
    char err[ERR_MAX])
{
	char base[214], who[ERR_MAX];
	size_t n, max = r->max_services;

	n = __atomic_load_n(&r->nrecords, __ATOMIC_RELAXED);
	do {
		if (max > 0 && n >= max) {
			snprintf(err, ERR_MAX, "serviceName %.100s: a new "
			    "service would exceed --max-services %zu "
			    "(FLOWMON_MAX_SERVICES): flowmon keeps %zu "
			    "services; remove one or raise the limit", name,
			    max, n);
			return reg_fail(res, FM_REFUSED, ENOSPC);
		}
	} while (!__atomic_compare_exchange_n(&r->nrecords, &n, n + 1, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	*reserved = 1;
	store_base(name, base);
	if (strcmp(base, name) == 0)
		return 0;
	pthread_mutex_lock(&r->longname);
	*longname = 1;
	if (base_taken(r, e, name, base, who, sizeof(who))) {
		snprintf(err, ERR_MAX, "serviceName %.60s...: a name over %zu "
		    "bytes is stored under its first %zu bytes and a hash "
		    "(state/%.40s...%s.json), and %.160s has that file name "
		    "already: choose a name that differs in its first %zu "
		    "bytes", name, strlen(base), strlen(base) - 17, base,
		    strrchr(base, '~'), who, strlen(base) - 17);
		return reg_fail(res, FM_CONFLICT, EEXIST);
	}
	return 0;
}

void
registry_set_events(struct registry *r, registry_event_fn fn,
    void (*story_free)(void *story), void *ctx)
{
	r->event = fn;
	r->story_free = story_free;
	r->event_ctx = ctx;
}

void
reg_event(struct registry *r, struct entry *e, enum registry_event ev,
    const char *detail)
{
	if (r->event != NULL)
		r->event(r->event_ctx, &e->story, e->name, ev,
		    detail != NULL ? detail : "");
}

void
reg_rule_events(struct registry *r, struct entry *e, enum rule_state before,
    const char *why_readmitted)
{
	enum rule_state now = e->rf.state;

	if (now == before)
		return;
	if (now == RULE_LOADED)
		reg_event(r, e, REGISTRY_EV_RELOADED, "");
	else if (now == RULE_REJECTED)
		reg_event(r, e, REGISTRY_EV_REJECTED, e->rf.reason);
	if (before == RULE_REJECTED)
		reg_event(r, e, REGISTRY_EV_READMITTED, why_readmitted);
}

/* The events of one upsert of a service known (or not) before it: where
 * it came from and what became of it. A refusal is one event that names
 * the source, so a source that sends the same refused state again and
 * again (the Docker source, every poll) adds one line that counts. */
static void
upsert_events(struct registry *r, struct entry *e, const char *name,
    int known, enum service_source source, int rc,
    const struct registry_result *res, const char *err)
{
	const char *from = service_source_name(source);
	char files[64], why[ERR_MAX + 32];
	enum registry_event ev;

	if (r->event == NULL)
		return;
	if (rc == -1) {
		snprintf(why, sizeof(why), "%s%s%s", from ? "from " : "",
		    from ? from : "", from ? ": " : "");
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s",
		    err);
		ev = res->fail == FM_REFUSED || res->fail == FM_CONFLICT ?
		    (known ? REGISTRY_EV_REFUSED : REGISTRY_EV_REFUSED_NEW) :
		    REGISTRY_EV_FAILED;
		/* A service flowmon does not know has no story to go in. */
		if (ev == REGISTRY_EV_REFUSED_NEW || e == NULL)
			r->event(r->event_ctx, NULL, name, ev, why);
		else
			reg_event(r, e, ev, why);
		return;
	}
	reg_event(r, e, REGISTRY_EV_RECEIVED, from);
	if (!res->wrote_state && !res->wrote_targets && !res->wrote_rules)
		return;
	snprintf(files, sizeof(files), "%s%s%s", res->wrote_state ?
	    " state" : "", res->wrote_targets ? " targets" : "",
	    res->wrote_rules ? " rules" : "");
	reg_event(r, e, REGISTRY_EV_WRITTEN, files + 1);
}

void
registry_refused(struct registry *r, const char *name,
    enum service_source source, const char *why)
{
	struct registry_result res;
	struct entry *e;

	if (name == NULL || !service_name_valid(name) || r->event == NULL)
		return;
	memset(&res, 0, sizeof(res));
	res.fail = FM_REFUSED;
	if ((e = reg_entry(r, name, 0)) == NULL) {
		upsert_events(r, NULL, name, 0, source, -1, &res, why);
		return;
	}
	pthread_mutex_lock(&e->lock);
	upsert_events(r, e, name, e->svc != NULL || e->invalid != NULL,
	    source, -1, &res, why);
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
}

int
registry_upsert(struct registry *r, struct service *svc,
    struct registry_result *res, char err[ERR_MAX])
{
	struct reg_change c;
	struct reg_files f = { NULL, 0, NULL, 0 };
	struct entry *e;
	enum service_source source = svc->source;
	int rc = -1, k, reserved = 0, longname = 0, ok, known;

	memset(res, 0, sizeof(*res));
	if ((e = reg_entry(r, svc->name, 1)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		service_free(svc);
		return reg_fail(res, FM_FATAL, ENOMEM);
	}
	pthread_mutex_lock(&e->lock);
	known = e->svc != NULL || e->invalid != NULL;
	if (!known &&
	    admit_new(r, e, svc->name, &reserved, &longname, res, err) == -1)
		goto drop;
	/* The tasks of a removed service are gone with it. */
	if ((k = request_keep_tasks(e->removed ? NULL : e->svc, svc)) == -1) {
		snprintf(err, ERR_MAX, "out of memory");
		reg_fail(res, FM_FATAL, ENOMEM);
		goto drop;
	}
	res->kept_tasks = k;
	/* Both files, rendered once: bounded, checked, then written. */
	if (render_rules(svc, 0, &f.rules, &f.rlen, err) == -1) {
		reg_fail(res, FM_FATAL, ENOMEM);
		goto drop;
	}
	if (check_rules(r, e, svc, f.rules, f.rlen, err) == -1) {
		reg_fail(res, FM_REFUSED, EINVAL);
		goto drop;
	}
	if (reg_render_targets(r, svc, 0, e->addrs, e->naddrs, &f.targets,
	    &f.tlen, err) == -1) {
		reg_fail(res, FM_FATAL, ENOMEM);
		goto drop;
	}
	/* Refused before anything is touched, as a request limit is. */
	if (f.targets != NULL && reg_targets_too_big(r, svc->name, f.tlen,
	    err)) {
		reg_fail(res, FM_REFUSED, EFBIG);
		goto drop;
	}
	/* The record first, then the outputs, as one transaction: the
	 * entry changes only once every write has succeeded. */
	reg_change_begin(r, &c);
	ok = (e->svc != NULL && !e->removed && e->invalid == NULL &&
	    kvlist_equal(&e->svc->params, &svc->params) &&
	    e->svc->source == svc->source) ||
	    write_record(&c, svc, 0, err) == 0;
	ok = ok && reg_sync_change(r, e, &c, svc, 0, &f, err) == 0;
	if (reg_change_end(r, e, &c, ok, res, err) == -1) {
		reg_fail(res, c.refused ? FM_REFUSED : FM_STORAGE, errno);
		goto drop;
	}
	/* The file name is this service's now (its record says so). */
	if (longname) {
		pthread_mutex_unlock(&r->longname);
		longname = 0;
	}
	reserved = 0;
	reg_count(r, e, -1);
	service_free(e->svc);
	e->svc = reg_keep(svc);
	svc = NULL;
	e->removed = 0;
	free(e->invalid);
	e->invalid = NULL;
	reg_count(r, e, 1);
	e->gen = __atomic_add_fetch(&r->gen, 1, __ATOMIC_RELAXED);
	/* A task DNS service keeps its last address set across reconfigures
	 * (the name depends on the service name only). */
	reg_dns_follow(r, e);
	rc = 0;
drop:
	if (longname)
		pthread_mutex_unlock(&r->longname);
	if (reserved)
		__atomic_sub_fetch(&r->nrecords, 1, __ATOMIC_RELAXED);
	res->rules = e->rf.state;
	upsert_events(r, e, e->name, known, source, rc, res, err);
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	service_free(svc);
	free(f.rules);
	free(f.targets);
	if (res->wrote_rules && r->rl)
		reloader_trigger(r->rl);
	return rc;
}

int
registry_remove(struct registry *r, const char *name,
    struct registry_result *res, char err[ERR_MAX])
{
	struct reg_change c;
	struct entry *e;
	int rc = -1, ok, persistent;

	memset(res, 0, sizeof(*res));
	if ((e = reg_entry(r, name, 0)) == NULL) {
		res->unknown = 1;
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	if (e->svc == NULL || e->invalid != NULL) {
		res->unknown = e->svc == NULL;
		rc = 0;
		if (e->invalid != NULL) {
			char base[214];

			store_base(name, base);
			snprintf(err, ERR_MAX, "the record of %.60s on disk "
			    "does not parse (%.150s): fix or delete "
			    "state/%.213s.json", name, e->invalid, base);
			rc = reg_fail(res, FM_INVALID, EINVAL);
		}
		goto out;
	}
	if (e->removed) {
		rc = 0;		/* removed before: idempotent */
		goto out;
	}
	/* Persistent alerts outlive the service: the record stays, marked
	 * removed, and the rule file keeps only them. Otherwise the outputs
	 * go first and the record last, so that a crash in between leaves
	 * a record that the next start renders again, never an orphaned
	 * output. One transaction either way: a failure puts every file
	 * back, and the entry is left as it was. */
	persistent = service_has_persistent(e->svc);
	reg_change_begin(r, &c);
	ok = !persistent || write_record(&c, e->svc, 1, err) == 0;
	ok = ok && reg_sync_change(r, e, &c, e->svc, 1, NULL, err) == 0;
	if (ok && !persistent) {
		if (store_txn_remove(&c.txn, STORE_STATE, name, err) == -1) {
			metrics_file(M_FEV_WRITE_ERROR, M_FILE_STATE);
			ok = 0;
		} else {
			metrics_file(M_FEV_REMOVED, M_FILE_STATE);
			c.state = 1;
		}
	}
	if (reg_change_end(r, e, &c, ok, res, err) == -1) {
		reg_fail(res, FM_STORAGE, errno);
		goto out;
	}
	reg_event(r, e, persistent ? REGISTRY_EV_REMOVED_KEPT :
	    REGISTRY_EV_REMOVED, persistent ? "its persistent alerts stay" :
	    "");
	reg_count(r, e, -1);
	if (persistent)
		e->removed = 1;
	else {
		service_free(e->svc);
		e->svc = NULL;
		__atomic_sub_fetch(&r->nrecords, 1, __ATOMIC_RELAXED);
	}
	reg_count(r, e, 1);
	e->gen = __atomic_add_fetch(&r->gen, 1, __ATOMIC_RELAXED);
	reg_dns_follow(r, e);
	rc = 0;
out:
	res->rules = e->rf.state;
	pthread_mutex_unlock(&e->lock);
	/* A service removed for good leaves nothing: its entry goes. */
	reg_put(r, e);
	if (res->wrote_rules && r->rl)
		reloader_trigger(r->rl);
	return rc;
}

void
registry_counts(struct registry *r, size_t *services, size_t *removed_kept,
    size_t *nodes)
{
	*services = __atomic_load_n(&r->nactive, __ATOMIC_RELAXED);
	*removed_kept = __atomic_load_n(&r->nremoved, __ATOMIC_RELAXED);
	pthread_rwlock_rdlock(&r->nodelock);
	*nodes = r->nnodes;
	pthread_rwlock_unlock(&r->nodelock);
}

/* Reconcile with swarm-listener. */

uint64_t
registry_generation(struct registry *r)
{
	return __atomic_load_n(&r->gen, __ATOMIC_RELAXED);
}

struct active_names {
	uint64_t	 gen;
	char		**v;
	size_t		 n;
};

static int
add_active(void *ctx, struct entry *e)
{
	struct active_names *an = ctx;

	if (e->svc == NULL || e->invalid != NULL || e->removed ||
	    e->gen > an->gen)
		return 0;
	return strv_push(&an->v, &an->n, e->name);
}

int
registry_active_names(struct registry *r, uint64_t gen, char ***names,
    size_t *n)
{
	struct active_names an = { gen, NULL, 0 };

	*names = NULL;
	*n = 0;
	if (reg_each(r, 1, add_active, &an) != 0) {
		strv_free(an.v, an.n);
		return -1;
	}
	*names = an.v;
	*n = an.n;
	return 0;
}

/* The entry whose files are named base, with a reference: the service of
 * that name, or the one whose very long name the store shortened to base
 * (such a base holds a '~', which no service name does). */
struct entry *
reg_entry_by_base(struct registry *r, const char *base)
{
	struct entry *e, *found = NULL;
	char b[214];
	size_t i, blen = strlen(base);

	if ((e = reg_entry(r, base, 0)) != NULL || strchr(base, '~') == NULL)
		return e;
	pthread_rwlock_rdlock(&r->maplock);
	for (i = 0; i < r->nbuckets && found == NULL; i++)
		for (e = r->buckets[i]; e != NULL && found == NULL;
		    e = e->next) {
			if (strlen(e->name) < blen)
				continue;
			store_base(e->name, b);
			if (strcmp(b, base) == 0) {
				entry_ref(e);
				found = e;
			}
		}
	pthread_rwlock_unlock(&r->maplock);
	return found;
}

enum registry_owner
registry_file_owner(struct registry *r, int rules, const char *name,
    const char *buf, size_t len, int forget)
{
	return registry_file_owner_hash(r, rules, name, buf != NULL,
	    buf != NULL ? hash_content(buf, len) : 0, forget);
}

enum registry_owner
registry_file_owner_hash(struct registry *r, int rules, const char *name,
    int readable, uint64_t hash, int forget)
{
	enum registry_owner own = REGISTRY_OWNER_NONE;
	struct entry *e;
	uint64_t *h;

	/* Written at every start, whatever it holds: flowmon's. */
	if (!rules && strcmp(name, REGISTRY_SENTINEL) == 0)
		return REGISTRY_OWNER_FLOWMON;
	if ((e = reg_entry_by_base(r, name)) == NULL)
		return REGISTRY_OWNER_NONE;
	/* Under the lock a write is never half booked: the rename and the
	 * new hash go together. */
	pthread_mutex_lock(&e->lock);
	h = rules ? &e->rf.h_file : &e->h_targets;
	if (rules ? e->rf.has_file : e->has_targets) {
		own = readable && *h == hash ? REGISTRY_OWNER_FLOWMON :
		    REGISTRY_OWNER_EDITED;
		/* 0 is what the start-up books for a file it cannot
		 * read (store_probe()): the next reg_sync() rewrites it. */
		if (own == REGISTRY_OWNER_EDITED && forget && readable &&
		    *h != 0) {
			*h = 0;
			reg_event(r, e, REGISTRY_EV_EDITED, rules ?
			    "rules" : "targets");
		}
	} else if (readable && *h != 0 && *h == hash)
		/* Read just before flowmon removed it: still its bytes. */
		own = REGISTRY_OWNER_FLOWMON;
	pthread_mutex_unlock(&e->lock);
	reg_put(r, e);
	return own;
}

/* Node labels: the table every target file is rendered with. */

const struct kvlist *
reg_node_labels(void *ctx, const char *id)
{
	struct registry *r = ctx;
	struct node *n;

	/* Called with the node lock held for reading (reg_render_targets). */
	for (n = r->nodes; n; n = n->next)
		if (strcmp(n->id, id) == 0)
			return &n->labels;
	return NULL;
}

struct node *
reg_node_new(const char *id, const struct kvlist *labels)
{
	struct node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->id = strdup(id)) == NULL ||
	    kvlist_copy(&n->labels, labels) == -1) {
		reg_node_free(n);
		return NULL;
	}
	return n;
}

void
reg_node_free(struct node *n)
{
	if (n == NULL)
		return;
	kvlist_release(&n->labels);
	free(n->id);
	free(n);
}

int
reg_node_install(struct registry *r, const char *id, struct node *n)
{
	struct node **np, *old;
	int rc;

	pthread_rwlock_wrlock(&r->nodelock);
	for (np = &r->nodes; *np; np = &(*np)->next)
		if (strcmp((*np)->id, id) == 0)
			break;
	old = *np;
	rc = old == NULL ? n != NULL : n == NULL ||
	    !kvlist_equal(&old->labels, &n->labels);
	if (n != NULL) {
		n->next = old != NULL ? old->next : r->nodes;
		if (old != NULL)
			*np = n;
		else {
			r->nodes = n;
			r->nnodes++;
		}
	} else if (old != NULL) {
		*np = old->next;
		r->nnodes--;
	}
	pthread_rwlock_unlock(&r->nodelock);
	reg_node_free(old);
	return rc;
}

int
reg_node_set(struct registry *r, const char *id, const struct kvlist *labels)
{
	struct node *n = NULL;

	if (labels != NULL && (n = reg_node_new(id, labels)) == NULL)
		return -1;
	return reg_node_install(r, id, n);
}

/* The node endpoints' answers (http.c). */

int
registry_node_labels(struct registry *r, const char *id, struct kvlist *out)
{
	const struct kvlist *l;
	int rc = 0;

	pthread_rwlock_rdlock(&r->nodelock);
	if ((l = reg_node_labels(r, id)) != NULL)
		rc = kvlist_copy(out, l) == -1 ? -1 : 1;
	pthread_rwlock_unlock(&r->nodelock);
	return rc;
}
