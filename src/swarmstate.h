/* swarmstate.h: what Docker says of each service the Docker source
 * (--docker-host) monitors: how many tasks it wants and runs, and where its
 * rolling update stands. docker.c writes it after every listing, /metrics
 * shows it (flowmon_swarm_replicas_desired, flowmon_swarm_replicas_running,
 * flowmon_swarm_update_state) and the deploy silences (silence.h) read it.
 * One lock, held only to copy: readers never wait on Docker. */
#ifndef FLOWMON_SWARMSTATE_H
#define FLOWMON_SWARMSTATE_H

#include <stddef.h>
#include <stdint.h>

#define SWARM_UPDATE_MAX	32	/* "rollback_completed" and room */
#define SWARM_TEXT_MAX		256	/* a message or an image, cut there */

struct buf;
struct swarmstate;

/* One service as Docker reports it. */
struct swarm_status {
	long	 desired;		/* tasks wanted; -1: unknown */
	long	 running;		/* tasks running; -1: unknown */
	char	 update[SWARM_UPDATE_MAX];	/* UpdateStatus.State, "": none */
	char	 message[SWARM_TEXT_MAX];	/* UpdateStatus.Message */
	char	 image[SWARM_TEXT_MAX];	/* the task template's image */
};

/* 1 while st's update or rollback is under way (Docker's "updating" or
 * "rollback_started"): the state deploy silences cover. */
int	 swarm_status_deploying(const struct swarm_status *st);

/* An empty table. NULL on ENOMEM. */
struct swarmstate *swarmstate_new(void);
/* Frees ss. NULL is fine. */
void	 swarmstate_free(struct swarmstate *ss);

/* Makes st the status of service name. A count of -1 (unknown: Docker's
 * answer did not say) keeps the one known before. 0, or -1 on ENOMEM. */
int	 swarmstate_set(struct swarmstate *ss, const char *name,
	    const struct swarm_status *st);
/* Forgets service name (no longer monitored through Docker). */
void	 swarmstate_drop(struct swarmstate *ss, const char *name);

/* Counts the Docker source's complete listings: until the first, the
 * table may lack services (a deploy under way among them). */
void	 swarmstate_round_done(struct swarmstate *ss);
uint64_t swarmstate_rounds(struct swarmstate *ss);

/* The services being deployed now (swarm_status_deploying), sorted by
 * name, as a malloc'd vector of malloc'd names with their status (free
 * with swarm_deploys_free()). 0, or -1 on ENOMEM. */
struct swarm_deploy {
	char			*name;
	struct swarm_status	 st;
};
int	 swarmstate_deploying(struct swarmstate *ss, struct swarm_deploy **v,
	    size_t *n);
void	 swarm_deploys_free(struct swarm_deploy *v, size_t n);

/* Appends the three flowmon_swarm_* families to b: per known service,
 * flowmon_swarm_replicas_desired and _running (when known) and
 * flowmon_swarm_update_state{state=...} 1, the state being Docker's word
 * or "none" for a service never updated. Sorted by service. Errors show
 * in b->failed. */
void	 swarmstate_metrics(struct swarmstate *ss, struct buf *b);

#endif
