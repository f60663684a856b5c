/* silence.h: deploy silences (--silence-deploys). While Docker reports a
 * service's rolling update or rollback under way (swarmstate.h), every
 * Alertmanager of --alertmanager-url holds one silence (API v2) whose one
 * matcher selects exactly that service's alerts: alertname matching the
 * names of its rule file, nothing else. It is created by "flowmon", its
 * comment names the service and the update, and it ends --silence-ttl
 * after its last renewal: renewed every third of that while the update
 * lasts, expired as soon as it ends, lapsing on its own if flowmon dies.
 * A restarted flowmon finds its silences in each Alertmanager (by creator
 * and comment) and carries on with them instead of adding more.
 *
 * All of it runs on a thread of its own: the Docker source only fills
 * the swarm state, and a slow or unreachable Alertmanager delays nothing
 * but its own silences (retried with a growing pause, logged once per
 * change between answering and not). */
#ifndef FLOWMON_SILENCE_H
#define FLOWMON_SILENCE_H

#include <stddef.h>

#include <cJSON.h>

#include "service.h"
#include "swarmstate.h"

#define SILENCE_CREATED_BY	"flowmon"
/* Every deploy silence's comment starts so, then the service's name and a
 * space: how a restarted flowmon knows its own. */
#define SILENCE_COMMENT_PREFIX	"flowmon deploy silence: service "

struct buf;
struct registry;
struct silencer;

struct silence_options {
	const char	*urls;		/* --alertmanager-url, comma list */
	long		 ttl_ms;	/* --silence-ttl; 0: 3 min */
	long		 tick_ms;	/* how often the state is read; 0: 1 s */
	long		 retry_min_ms;	/* first pause after a failure; 0: 1 s */
	long		 retry_max_ms;	/* longest pause; 0: 30 s */
};

/* Starts the silence thread over ss (the deploys) and r (each service's
 * alert names); both must outlive it. NULL with err on a bad URL (the
 * list is checked here: http or https, a host, no query) or no memory. */
struct silencer *silence_start(const struct silence_options *o,
	    struct swarmstate *ss, struct registry *r, char err[ERR_MAX]);
/* Stops the thread (requests in flight are abandoned) and frees s. The
 * silences stay in Alertmanager until their end time, for the next
 * flowmon to take over. NULL is fine. */
void	 silence_stop(struct silencer *s);

/* Appends flowmon_deploy_silences{alertmanager} (silences held now) and
 * flowmon_deploy_silence_errors_total{alertmanager} to b (errors show in
 * b->failed). */
void	 silence_metrics(struct silencer *s, struct buf *b);

/*
 * The pure parts, for the tests.
 */

/* The matcher value selecting exactly the alerts names[0..n-1]:
 * "^(?:a|b)$", each name with every regular-expression metacharacter
 * escaped. malloc'd, NULL on ENOMEM or n == 0. */
char	*silence_regex(const char *const *names, size_t n);

/* The comment of service's silence: SILENCE_COMMENT_PREFIX, the name,
 * then Docker's update state, its message and the image, into buf
 * (always terminated, cut to fit). */
void	 silence_comment(const char *service, const struct swarm_status *st,
	    char *buf, size_t size);

/* The body of POST /api/v2/silences: id (NULL: a new silence), the one
 * alertname matcher, startsAt, endsAt, createdBy, comment. NULL on
 * ENOMEM. */
cJSON	*silence_body(const char *id, const char *regex, const char *starts,
	    const char *ends, const char *comment);

/* Whether sil (one object of GET /api/v2/silences) is a deploy silence of
 * a flowmon still in force (status.state active or pending): 1 with the
 * service's name in service (size bytes), else 0. */
int	 silence_owned(const cJSON *sil, char *service, size_t size);


#endif
