/* dns.c: the task DNS thread: looks up `tasks.<service>` off the request
 * path and hands the outcomes to taskdns.c (which hands good answers to
 * the registry, which decides what to write).
 *
 * Rounds. A full round looks up every task DNS service; it runs at start and
 * then every refresh period. Between them the thread looks every DNS_POLL_MS
 * at taskdns_wanted(): when it grew (a new service, or one that took to task
 * DNS) a short round of just the pending names runs, so a new service gets
 * its targets within a lookup's time, not a refresh period's. Lookups run
 * one after the other without any lock held: a slow resolver delays the
 * next lookup, never a request. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "dns.h"
#include "log.h"
#include "registry.h"
#include "taskdns.h"
#include "worker.h"

struct dns {
	struct taskdns	*t;
	char		*tmpl;
	long		 refresh_ms;
	dns_resolve_fn	 resolve;
	void		*ctx;
	struct worker	 w;
};

int
dns_resolve(void *ctx, const char *qname, char ***addrs, size_t *naddrs,
    char err[ERR_MAX])
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[NI_MAXHOST], **v = NULL;
	size_t n = 0;
	int rc;

	(void)ctx;
	*addrs = NULL;
	*naddrs = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(qname, NULL, &hints, &res)) != 0) {
		snprintf(err, ERR_MAX, "%s: %s", qname, rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST)) != 0)
			continue;
		if (strv_push(&v, &n, host) == -1)
			goto nomem;
	}
	freeaddrinfo(res);
	if (n == 0) {
		free(v);
		snprintf(err, ERR_MAX, "%s: no usable address", qname);
		return -1;
	}
	*addrs = v;
	*naddrs = n;
	return 0;
nomem:
	freeaddrinfo(res);
	strv_free(v, n);
	snprintf(err, ERR_MAX, "%s: out of memory", qname);
	return -1;
}

int
dns_name(const char *tmpl, const char *service, char *buf, size_t size)
{
	const char *p = strstr(tmpl, "%s");
	size_t pre, total;

	if (p == NULL)		/* config refuses it; take it verbatim */
		return snprintf(buf, size, "%s", tmpl) < (int)size ? 0 : -1;
	pre = (size_t)(p - tmpl);
	total = pre + strlen(service) + strlen(p + 2);
	if (total >= size || total > 253)
		return -1;
	memcpy(buf, tmpl, pre);
	memcpy(buf + pre, service, strlen(service));
	memcpy(buf + pre + strlen(service), p + 2, strlen(p + 2) + 1);
	return 0;
}

int
dns_run_once(struct taskdns *t, const char *tmpl, dns_resolve_fn resolve,
    void *ctx, int pending_only)
{
	char **names = NULL, qname[NI_MAXHOST];
	size_t n = 0, i;

	if (resolve == NULL)
		resolve = dns_resolve;
	if (taskdns_names(t, pending_only, &names, &n) == -1) {
		log_error("task dns: out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct registry_result res;
		char err[ERR_MAX], werr[ERR_MAX], **addrs = NULL;
		size_t naddrs = 0;
		int ok, c;

		if (dns_name(tmpl, names[i], qname, sizeof(qname)) == -1) {
			snprintf(qname, sizeof(qname), "%.200s...", tmpl);
			snprintf(err, ERR_MAX, "the task DNS name of %s is "
			    "longer than 253 bytes", names[i]);
			ok = 0;
		} else {
			ok = resolve(ctx, qname, &addrs, &naddrs, err) == 0;
		}
		c = taskdns_result(t, names[i], qname, addrs, naddrs,
		    ok ? NULL : err, &res, werr);
		if (c == -1) {
			log_error("task dns: cannot write targets", "service",
			    names[i], "error", werr);
		} else if (c == 1 && ok) {
			char num[32];

			snprintf(num, sizeof(num), "%zu", naddrs);
			log_info("task dns addresses changed", "service",
			    names[i], "name", qname, "addresses", num);
		} else if (c == 1) {
			log_warn("task dns lookup failed, keeping the last "
			    "addresses", "service", names[i], "error", err);
		}
		strv_free(addrs, naddrs);
	}
	strv_free(names, n);
	return (int)n;
}

static void *
dns_thread(void *arg)
{
	struct dns *d = arg;
	int64_t next = clock_ms(), now;	/* the first full round at once */
	uint64_t seen = 0, wanted;

	worker_lock(&d->w);
	while (!worker_stopping(&d->w)) {
		int full;

		now = clock_ms();
		wanted = taskdns_wanted(d->t);
		full = now >= next;
		if (!full && wanted == seen) {
			worker_wait(&d->w, now + DNS_POLL_MS < next ?
			    now + DNS_POLL_MS : next);
			continue;
		}
		/* Read before the round: a service arriving during it
		 * gets a round of its own. */
		seen = wanted;
		if (full)
			next = now + d->refresh_ms;
		worker_unlock(&d->w);
		dns_run_once(d->t, d->tmpl, d->resolve, d->ctx, !full);
		worker_lock(&d->w);
	}
	worker_unlock(&d->w);
	return NULL;
}

struct dns *
dns_start(struct taskdns *t, const char *tmpl, long refresh_ms,
    dns_resolve_fn resolve, void *ctx, char err[ERR_MAX])
{
	struct dns *d;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->tmpl = strdup(tmpl)) == NULL) {
		free(d);
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	d->t = t;
	d->refresh_ms = refresh_ms > 0 ? refresh_ms : 30000;
	d->resolve = resolve ? resolve : dns_resolve;
	d->ctx = ctx;
	if (worker_init(&d->w, err) == -1)
		goto fail;
	if (worker_start(&d->w, dns_thread, d, "task dns", err) == -1) {
		worker_release(&d->w);
		goto fail;
	}
	return d;
fail:
	free(d->tmpl);
	free(d);
	return NULL;
}

void
dns_stop(struct dns *d)
{
	if (d == NULL)
		return;
	worker_stop(&d->w);
	worker_release(&d->w);
	free(d->tmpl);
	free(d);
}
