/* bounds.h: how much flowmon reads at most, named once: the bounds of
 * the files it reads back from its data dir and of the answers it reads
 * from other programs. (The bounds of a request are request.h's and
 * quota.h's; those of its own config files stay with their readers.) */
#ifndef FLOWMON_BOUNDS_H
#define FLOWMON_BOUNDS_H

/* A rule or target file read back from the data dir (also the largest
 * --max-rule-bytes, so every rule file flowmon writes can be read back). */
#define BOUND_FILE_MAX		(64L << 20)
/* A service record under state/. */
#define BOUND_RECORD_MAX	(16L << 20)
/* A node record under nodes/. */
#define BOUND_NODE_RECORD_MAX	(1L << 20)
/* One answer of swarm-listener (get-services, get-nodes) or Alertmanager
 * (every silence). */
#define BOUND_ANSWER_MAX	(64L << 20)
/* One answer of the Docker Engine API (its elements and values are
 * bounded too: dockerapi.h), and one line of its event stream. */
#define BOUND_DOCKER_ANSWER_MAX	(64L << 20)
#define BOUND_DOCKER_EVENT_MAX	(1L << 20)
/* One answer of a flowmon's own API (flowmon plan --against). */
#define BOUND_API_ANSWER_MAX	(256L << 20)
/* One stack file (flowmon plan). */
#define BOUND_STACK_FILE_MAX	(16L << 20)
/* One answer of the Prometheus (vmagent, vmalert) API: its targets or its
 * rules, for the status page and explain. */
#define BOUND_PROMETHEUS_ANSWER_MAX	(64L << 20)

/* A credentials file (--auth-file's users and tokens) or a TLS key or
 * certificate. */
#define BOUND_SECRET_MAX	(1L << 20)

#endif
