/* quarantine.h: what to do when Prometheus refuses a reload (one rule file
 * it cannot load fails the whole reload, so no rule change applies): find
 * the rule files at fault among those changed since the last good reload
 * and set them aside, so that every other change applies. promtool first,
 * in one batch and without any reload; then, for what promtool cannot see,
 * a search by test reloads. Driven through a small table of callbacks, so
 * it runs against a fake Prometheus in tests. */
#ifndef FLOWMON_QUARANTINE_H
#define FLOWMON_QUARANTINE_H

#include <stddef.h>

#include "err.h"
#include "service.h"

struct registry;
struct promtool;
struct quarantine;

struct quarantine_ops {
	/* One synchronous reload: FM_OK when Prometheus loaded the rules,
	 * FM_REFUSED when it cannot, another kind when it did not answer. */
	enum fm_err (*reload)(void *ctx, char err[ERR_MAX]);
	void	  *ctx;
};

/* pt may be NULL (no promtool). NULL on ENOMEM. */
struct quarantine *quarantine_new(struct registry *r, struct promtool *pt,
	    const struct quarantine_ops *ops);
void	 quarantine_free(struct quarantine *q);

/* After Prometheus refused a reload: finds the culprits and sets each
 * aside (the services API shows it rejected, with the reason), leaving
 * Prometheus loaded with every other change. Reloads through ops, from
 * one thread at a time (the reloader's). Returns the number of files set
 * aside. */
size_t	 quarantine_reload_failed(struct quarantine *q);

/* At start, after registry_load(): every rule file set aside (whose record
 * is unchanged, or it would not be set aside any more) is judged again by
 * promtool, all in one batch, and let back in when it passes. Without
 * promtool, what Prometheus itself refused stays set aside. Returns how
 * many were let back in. */
size_t	 quarantine_recheck(struct quarantine *q);

#endif
