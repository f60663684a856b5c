/* registry_impl.h: the registry's insides, shared by its files and by no
 * other module: registry.c (the index and the decisions), and over it
 * registry_load.c (rebuilding the index at start), registry_nodes.c (node
 * changes) and registry_ext.c (what views.c, taskdns.c and lifecycle.c
 * read and hand in). Layers and locking rules: see registry.c. */
#ifndef FLOWMON_REGISTRY_IMPL_H
#define FLOWMON_REGISTRY_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "lifecycle.h"
#include "registry.h"
#include "store.h"

/* A file flowmon keeps in targets/ for Prometheus's sake (see
 * registry_load.c); no service has this name. */
#define REGISTRY_SENTINEL	"_flowmon"

struct entry {
	struct entry	*next;		/* hash chain */
	char		*name;
	pthread_mutex_t	 lock;
	struct service	*svc;		/* NULL: not known (or removed) */
	int		 removed;	/* removed, kept for persistent alerts */
	int		 has_targets;	/* what is on disk right now */
	uint64_t	 h_targets;
	struct rule_file rf;		/* its rule file (lifecycle.h) */
	char		*invalid;	/* record on disk that does not parse */
	uint64_t	 gen;		/* registry generation of the last change */
	/* Task DNS: the last good address set, sorted and unique, kept while
	 * the name does not resolve, and the epoch of the service's current
	 * stretch on the DNS path (0: not on it). */
	char		**addrs;
	size_t		 naddrs;
	uint64_t	 dns_epoch;
	/* References (reg_entry, reg_entries), atomic: the last one frees
	 * an entry that holds nothing any more (see reg_put). */
	size_t		 refs;
	/* The event hook's own state for this service (its story, see
	 * registry_set_events()), under the entry's lock; it keeps no entry
	 * alive. */
	void		*story;
};

struct node {
	struct node	*next;
	char		*id;
	struct kvlist	 labels;
};

struct registry {
	struct store		*st;
	struct reloader		*rl;
	pthread_rwlock_t	 maplock;
	struct entry		**buckets;
	size_t			 nbuckets;
	size_t			 nentries;
	pthread_rwlock_t	 nodelock;
	pthread_mutex_t		 nodewrite;	/* one node change at a time */
	struct node		*nodes;
	size_t			 nnodes;
	size_t			 nactive;	/* atomic */
	size_t			 nremoved;	/* atomic */
	uint64_t		 gen;		/* atomic, bumped per change */
	uint64_t		 rules_seq;	/* atomic, per rules/ change
						   (lifecycle.h: rule_commit) */
	uint64_t		 dns_wanted;	/* atomic */
	struct promtool		*pt;		/* NULL: own checks only */
	const struct quota	*lim;		/* NULL: no bounds */
	/* Services with a record (valid or not), atomic, and their bound
	 * (0: none): a new service beyond it is refused. */
	size_t			 nrecords;
	size_t			 max_services;
	/* Held while a new service with a shortened file name checks that
	 * no other service has that name, until its record is written. */
	pthread_mutex_t		 longname;
	registry_event_fn	 event;		/* NULL: nobody listens */
	void			(*story_free)(void *story);
	void			*event_ctx;
};

/* The entry of name, created when create is set, with a reference the
 * caller drops with reg_put() once it no longer uses the pointer (after
 * unlocking the entry). NULL if absent or on allocation failure (errno
 * ENOMEM then). */
struct entry *reg_entry(struct registry *r, const char *name, int create);
/* Drops a reference. The last one frees an entry that holds nothing any
 * more: no record, no file, nothing set aside, no task DNS state. */
void	 reg_put(struct registry *r, struct entry *e);
/* Every entry (sorted by name if asked), malloc'd, each with a reference;
 * NULL on ENOMEM. reg_entries_put() drops them and frees the vector. */
struct entry **reg_entries(struct registry *r, int sorted, size_t *n);
void	 reg_entries_put(struct registry *r, struct entry **all, size_t n);
/* Calls fn(ctx, e) for every entry (sorted by name if asked) under its
 * lock, until fn returns non-zero: that value, 0, or -1 on ENOMEM. */
int	 reg_each(struct registry *r, int sorted,
	    int (*fn)(void *ctx, struct entry *e), void *ctx);
/* The entry whose files are named base (store_base()), with a reference:
 * the service of that name or the one whose long name maps to it; NULL. */
struct entry *reg_entry_by_base(struct registry *r, const char *base);
/* svc (taken over) as an entry keeps it: in one block (service_pack()),
 * or, out of memory for that, as it is. */
struct service *reg_keep(struct service *svc);
/* Adjusts the active/removed counts for e leaving (-1) or entering (1). */
void	 reg_count(struct registry *r, struct entry *e, int sign);
/* e's record changed (lock held): it joins, stays on or leaves the task
 * DNS path. */
void	 reg_dns_follow(struct registry *r, struct entry *e);
/* The target file of a record with its task DNS addresses; *out NULL when
 * there is none. 0, or -1 with err. */
int	 reg_render_targets(struct registry *r, const struct service *svc,
	    int removed, char *const *addrs, size_t naddrs, char **out,
	    size_t *len, char err[ERR_MAX]);
/*
 * One change of a service's files (registry.c, "All or nothing"): its
 * writes go into one store transaction while the entry stays as it was;
 * reg_change_end() commits them and books them into the entry, or puts
 * every file back and leaves the entry alone. Entry lock held throughout.
 */
struct reg_change {
	struct store_txn txn;
	int		 state;		/* the record was written or removed */
	int		 targets;	/* -1: untouched, 0: removed, 1: written */
	uint64_t	 h_targets;
	int		 rules;		/* -1: untouched, else rule_write()'s */
	struct rule_file rf;		/* what the rule file becomes */
	int		 refused;	/* failed on a bound, not on the disk */
};
/* 1 with err when a target file of len bytes (as rendered: node labels
 * and task DNS addresses in) is over --max-target-bytes. */
int	 reg_targets_too_big(struct registry *r, const char *name, size_t len,
	    char err[ERR_MAX]);
void	 reg_change_begin(struct registry *r, struct reg_change *c);
/* ok: commits c and books it into e and res (wrote_*); 0. Else aborts c
 * (every file put back) and returns -1 with errno kept; err is the failure
 * the caller reports. */
int	 reg_change_end(struct registry *r, struct entry *e,
	    struct reg_change *c, int ok, struct registry_result *res,
	    char err[ERR_MAX]);
/* A record's two files, rendered once (NULL: no such file). */
struct reg_files {
	char	*targets;
	size_t	 tlen;
	char	*rules;
	size_t	 rlen;
};
/* Adds to c what brings e's outputs (e locked, as before c) in line with
 * the record (svc, removed) and e's task DNS addresses: the files f
 * rendered already, or (f NULL) rendered here. 0, or -1 with err (c then
 * holds what to put back; c->refused when the target file would be over
 * --max-target-bytes: nothing was written for it). */
int	 reg_sync_change(struct registry *r, struct entry *e,
	    struct reg_change *c, const struct service *svc, int removed,
	    const struct reg_files *f, char err[ERR_MAX]);
/* Brings e's outputs (lock held) in line with its own record, all or
 * nothing. 0, or -1 with err (nothing changed then). */
int	 reg_sync(struct registry *r, struct entry *e,
	    struct registry_result *res, char err[ERR_MAX]);
/* The same with the files the record renders to already rendered (f; e's
 * task DNS addresses in), as the start-up rebuild has them. */
int	 reg_sync_files(struct registry *r, struct entry *e,
	    const struct reg_files *f, struct registry_result *res,
	    char err[ERR_MAX]);
/* Writes targets/_flowmon.json when it is missing or not what it should
 * be (see registry_load.c): 1 if written, 0 if it was right, -1. */
int	 reg_sentinel(struct registry *r);
/* Tells the event hook (if any) what happened to e's service; e's lock
 * held. */
void	 reg_event(struct registry *r, struct entry *e,
	    enum registry_event ev, const char *detail);
/* e's rule file (lock held) went from state before to its state now:
 * tells the hook (reloaded, rejected, readmitted with why_readmitted). */
void	 reg_rule_events(struct registry *r, struct entry *e,
	    enum rule_state before, const char *why_readmitted);
/* Books a failure of kind in res with errno errnum; returns -1. */
int	 reg_fail(struct registry_result *res, enum fm_err kind, int errnum);
/* The labels of node id (node lock held for reading), or NULL; ctx is the
 * registry (a render_node_labels_fn). */
const struct kvlist *reg_node_labels(void *ctx, const char *id);
/* Replaces (labels non-NULL) or drops the labels of node id in memory:
 * 1 if they changed, 0 if not, -1 on ENOMEM (nothing changed). */
int	 reg_node_set(struct registry *r, const char *id,
	    const struct kvlist *labels);
/* reg_node_set() in two steps, so that a change can make its node before
 * it writes anything and book it after its commit, where nothing may
 * fail: a node id with a copy of labels (NULL on ENOMEM; freed with
 * reg_node_free(), NULL ok), then put in place of node id's labels (n
 * NULL: they go), taking n. 1 if the labels changed, else 0. */
struct node *reg_node_new(const char *id, const struct kvlist *labels);
void	 reg_node_free(struct node *n);
int	 reg_node_install(struct registry *r, const char *id, struct node *n);

#endif
