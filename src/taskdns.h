/* taskdns.h: the bookkeeping of task DNS lookups: which services wait for
 * one, what each lookup asked and answered, and handing a good answer to
 * the registry (registry_set_addrs()), which decides what to write. The
 * lookups themselves run on dns.c's thread; this module keeps no thread
 * and does no IO. */
#ifndef FLOWMON_TASKDNS_H
#define FLOWMON_TASKDNS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "service.h"

struct registry;
struct registry_result;
struct taskdns;

/* What the last lookup of a service was. */
struct taskdns_info {
	char		*qname;		/* name asked, NULL: none yet */
	char		*error;		/* why it failed, NULL: it did not */
	time_t		 time;		/* when, 0: never */
	uint64_t	 lookups;	/* since the service took to task DNS */
};

/* NULL on ENOMEM. */
struct taskdns *taskdns_new(struct registry *r);
void	 taskdns_free(struct taskdns *t);

/* Names of the services that use task DNS; only those not looked up yet
 * (since they took to task DNS, or since start) when pending_only is set.
 * *names is malloc'd, as is each name (strv_free()). 0, or -1 on ENOMEM. */
int	 taskdns_names(struct taskdns *t, int pending_only, char ***names,
	    size_t *n);

/* The outcome of looking up qname for service name: on success (error
 * NULL) addrs, in any order, become its set (the registry rewrites the
 * target file only if the sorted set differs); on failure the last set is
 * kept and error shown in the services API. A service that left task DNS
 * meanwhile is ignored. 1 when the outcome changed (another set, another
 * error, or an error went away), 0 when not, -1 with err on a storage
 * error. */
int	 taskdns_result(struct taskdns *t, const char *name,
	    const char *qname, char *const *addrs, size_t naddrs,
	    const char *error, struct registry_result *res,
	    char err[ERR_MAX]);

/* A counter that grows whenever a lookup is wanted soon (a service took
 * to task DNS): compare with the last value seen. */
uint64_t taskdns_wanted(struct taskdns *t);

/* The last lookup of name in its current epoch (see registry.h) into
 * *out (copies; taskdns_info_release()); all empty when none. */
void	 taskdns_info(struct taskdns *t, const char *name, uint64_t epoch,
	    struct taskdns_info *out);
void	 taskdns_info_release(struct taskdns_info *info);

#endif
