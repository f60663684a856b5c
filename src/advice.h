/* advice.h: the sentences flowmon answers common mistakes with, written
 * once for the explain API, the status page and `flowmon plan`: labels on
 * the container instead of the service, labels without the notify label,
 * targets Prometheus never discovered, a rule group it does not run, rule
 * files no reload loads.
 * Pure: facts in, one sentence out (cut to fit out). */
#ifndef FLOWMON_ADVICE_H
#define FLOWMON_ADVICE_H

#include <stddef.h>
#include <stdint.h>

#define ADVICE_MAX	512

/* A file written this recently may simply not be read yet: Prometheus
 * discovers file_sd files within seconds, a rule file waits for a reload. */
#define ADVICE_GRACE_MS	60000

/* keys (n of them, e.g. "com.df.scrapePort") stand among the container's
 * labels (a stack file's `labels:`, Docker's
 * Spec.TaskTemplate.ContainerSpec.Labels), which swarm-listener and the
 * Docker source never read, instead of the service's (`deploy.labels`). */
void	 advice_container_labels(char out[ADVICE_MAX],
	    const char *const *keys, size_t n);

/* A service with n com.df.* labels whose notify label (notify, e.g.
 * "com.df.notify") is value (NULL: absent): it is not monitored. */
void	 advice_no_notify(char out[ADVICE_MAX], const char *notify,
	    const char *value, size_t n);

/* Prometheus scrapes no target of the file_sd file path (flowmon wrote
 * it age_ms ago; < 0: unknown). */
void	 advice_targets_undiscovered(char out[ADVICE_MAX], const char *path,
	    int64_t age_ms);

/* Prometheus runs no rule group named group, though path holds it;
 * loaded: flowmon saw a reload succeed since it wrote it. */
void	 advice_group_not_run(char out[ADVICE_MAX], const char *group,
	    const char *path, int loaded);

/* flowmon reloads no Prometheus (neither --reload-url nor
 * --run-prometheus): the rule file path is written, never loaded by it. */
void	 advice_no_reload(char out[ADVICE_MAX], const char *path);

#endif
