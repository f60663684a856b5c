/* service.h: the service record, flowmon's one model of a service's desired
 * monitoring state, and the small key/value list every module shares. */
#ifndef FLOWMON_SERVICE_H
#define FLOWMON_SERVICE_H

#include <stddef.h>

#include "strv.h"

#define ERR_MAX 512
#define SERVICE_NAME_MAX 255
#define SERVICE_ALERT_INDEX_MAX 100	/* alertName.1 .. alertName.100 */

/* An ordered list of owned key/value strings. Keys are unique. */
struct kv {
	char	*key;
	char	*value;
};

struct kvlist {
	struct kv	*v;
	size_t		 n;
	size_t		 cap;
};

/* Set key to value (both copied): replaces an existing key in place, else
 * appends. Returns 0, or -1 on allocation failure. */
int	 kvlist_set(struct kvlist *l, const char *key, const char *value);
/* Same, matching the key case-insensitively; the stored key keeps the
 * spelling of the first insertion. */
int	 kvlist_set_ci(struct kvlist *l, const char *key, const char *value);
/* Appends key=value (both copied) without looking for key: linear for a
 * decoder of untrusted input, which calls kvlist_dedupe_ci() once at the
 * end. 0, or -1 on allocation failure. */
int	 kvlist_add(struct kvlist *l, const char *key, const char *value);
/* Makes keys unique case-insensitively exactly as a series of
 * kvlist_set_ci() would (a key keeps the place and spelling of its first
 * insertion and takes the last value), in O(n log n). 0, or -1 on
 * allocation failure (then l is unchanged). */
int	 kvlist_dedupe_ci(struct kvlist *l);
/* Value for key (exact match), or NULL. Borrowed. */
const char *kvlist_get(const struct kvlist *l, const char *key);
/* Value for key matched case-insensitively, or NULL. Borrowed. */
const char *kvlist_get_ci(const struct kvlist *l, const char *key);
/* Sort by key (strcmp), so rendering is deterministic. */
void	 kvlist_sort(struct kvlist *l);
/* Deep copy of src into dst (dst must be empty). 0 or -1. */
int	 kvlist_copy(struct kvlist *dst, const struct kvlist *src);
/* 1 when both hold the same pairs in the same order. */
int	 kvlist_equal(const struct kvlist *a, const struct kvlist *b);
void	 kvlist_release(struct kvlist *l);

/* One alert, fully resolved: name is the final Prometheus alert name
 * (DFM's serviceName_alertName with every '-' removed), expr is PromQL
 * (shortcuts already expanded), labels/annotations are final and sorted. */
struct alert {
	char		*name;
	char		*expr;
	char		*for_;		/* NULL: no for clause */
	struct kvlist	 labels;
	struct kvlist	 annotations;
	int		 persistent;	/* alertPersistent=true */
	int		 index;		/* N of alertIf.N, 0 for alertIf */
};

/* One Swarm task from nodeInfo. node_id is "" for 2-element entries. */
struct task {
	char	*hostname;
	char	*address;
	char	*node_id;
};

/* Where a service's desired state came from last, kept in its record
 * (record.h) and shown by the explain API. */
enum service_source {
	SERVICE_SOURCE_UNKNOWN,		/* a record written before sources
					   were kept */
	SERVICE_SOURCE_WEBHOOK,		/* a reconfigure request */
	SERVICE_SOURCE_LISTENER,	/* swarm-listener's get-services, or
					   SCRAPE_PORT_<n> */
	SERVICE_SOURCE_DOCKER		/* the Docker source (--docker-host) */
};
/* "webhook", "listener" or "docker"; NULL for SERVICE_SOURCE_UNKNOWN. */
const char *service_source_name(enum service_source s);
/* The source named s (one of the words above), or SERVICE_SOURCE_UNKNOWN. */
enum service_source service_source_parse(const char *s);

/* The desired state of one service, as parsed from a reconfigure. Every
 * string is owned. NULL means "not set, use Prometheus's default". */
struct service {
	char		*name;
	int		 port;		/* scrapePort, 0 = no targets */
	char		*metrics_path;
	char		*scheme;
	char		*scrape_interval;
	char		*scrape_timeout;
	int		 static_config;	/* scrapeType=static_configs */
	char		**targets;	/* explicit host:port, sorted, unique */
	size_t		 ntargets;
	struct task	*tasks;		/* from nodeInfo, sorted, unique */
	size_t		 ntasks;
	int		 has_tasks;	/* nodeInfo was given (maybe empty) */
	struct kvlist	 target_labels;	/* DF_SCRAPE_TARGET_LABELS values */
	struct alert	*alerts;	/* in index order: unindexed, .1, .2 */
	size_t		 nalerts;
	/* The request's parameters in canonical form (known names in DFM's
	 * spelling, sorted). This is what the state file records: parsing it
	 * again yields this same service. */
	struct kvlist	 params;
	/* Set by whoever hands the service to the registry, after parsing:
	 * not a parameter, so not in params. */
	enum service_source source;
	/* Made by service_pack(): one block, read only. */
	int		 packed;
};

void	 alert_release(struct alert *a);
void	 task_release(struct task *t);
/* Frees what svc holds, leaves it zeroed. */
void	 service_release(struct service *svc);
/* service_release() and free(svc). Accepts NULL. */
void	 service_free(struct service *svc);
/* A copy of svc in one block of memory, every string and list inside it,
 * for a service kept as it is (the registry's): a parsed one is a dozen
 * blocks and more, which at 10,000 services cost about as much in
 * malloc's headers and rounding as what they hold. Read only: nothing may be added to it or changed in it.
 * Freed with service_free(). NULL on ENOMEM. */
struct service *service_pack(const struct service *svc);
/* 1 when the service has at least one persistent alert. */
int	 service_has_persistent(const struct service *svc);
/* 1 when name is a valid service name: 1..255 of [A-Za-z0-9_.-], first
 * character a letter or digit. */
int	 service_name_valid(const char *name);

#endif
