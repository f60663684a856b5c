/* dns.h: task DNS. A service with neither nodeInfo, targets nor
 * scrapeType=static_configs is scraped at every address of its task DNS
 * name (--task-dns, `tasks.%s`: Swarm's name for the tasks of a service).
 * One background thread looks the names up with getaddrinfo: all of them at
 * start and every --dns-refresh, and a new service's soon after it appears,
 * never on the request path. It hands each outcome to taskdns.h, which
 * hands good answers to the registry; the registry rewrites a target file
 * only when the sorted address set changes, and keeps the last set while a
 * name does not resolve. Nothing calls back into this thread: it polls
 * taskdns_wanted() to learn that a new service waits. */
#ifndef FLOWMON_DNS_H
#define FLOWMON_DNS_H

#include <stddef.h>

#include "service.h"

struct taskdns;
struct dns;

/* Looks qname up: every address (numeric, in any order, repeats allowed)
 * into *addrs, malloc'd like each string (caller frees). 0, or -1 with err
 * saying why ("tasks.x: Name or service not known"). */
typedef int (*dns_resolve_fn)(void *ctx, const char *qname, char ***addrs,
	    size_t *naddrs, char err[ERR_MAX]);

/* The default resolver: getaddrinfo (any family, stream sockets, so each
 * address comes once per family), answers as numeric host strings. */
int	 dns_resolve(void *ctx, const char *qname, char ***addrs,
	    size_t *naddrs, char err[ERR_MAX]);

/* The DNS name of service's tasks: tmpl with its one "%s" replaced by
 * service. 0, or -1 when it does not fit size (or is no DNS name length). */
int	 dns_name(const char *tmpl, const char *service, char *buf,
	    size_t size);

/* One round, synchronously: looks up the name of every service using task
 * DNS (only those never looked up when pending_only is set) and hands each
 * outcome to taskdns_result(). resolve NULL means dns_resolve. Returns the
 * number of services looked up, or -1 on ENOMEM. The thread below runs
 * this; tests call it directly. */
int	 dns_run_once(struct taskdns *t, const char *tmpl,
	    dns_resolve_fn resolve, void *ctx, int pending_only);

/* Starts the thread: a full round at once, then every refresh_ms, and a
 * round of the pending names within DNS_POLL_MS of a service taking to
 * task DNS. resolve NULL means dns_resolve. NULL with err on failure. */
#define DNS_POLL_MS	100
struct dns *dns_start(struct taskdns *t, const char *tmpl, long refresh_ms,
	    dns_resolve_fn resolve, void *ctx, char err[ERR_MAX]);
/* Stops the thread and frees d (NULL ok). A lookup already under way is
 * waited for (bounded by the resolver's own timeout). */
void	 dns_stop(struct dns *d);

#endif
