/* advice.c: the sentences of advice.h. Each says what is wrong, why it
 * matters and what to do, in that order. */
#include <stdio.h>
#include <string.h>

#include "advice.h"

void
advice_container_labels(char out[ADVICE_MAX], const char *const *keys,
    size_t n)
{
	size_t i, used;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(out);
		snprintf(out + used, ADVICE_MAX - used, "%s%s", i ? ", " : "",
		    keys[i]);
	}
	used = strlen(out);
	snprintf(out + used, ADVICE_MAX - used, " %s (labels:), which "
	    "swarm-listener never reads: put %s under deploy.labels",
	    n == 1 ? "is a container label" : "are container labels",
	    n == 1 ? "it" : "them");
}

void
advice_no_notify(char out[ADVICE_MAX], const char *notify, const char *value,
    size_t n)
{
	if (value == NULL)
		snprintf(out, ADVICE_MAX, "%zu com.df.* label%s but no %s=true: "
		    "swarm-listener and the Docker source skip this service; "
		    "add %s=true to deploy.labels", n, n == 1 ? "" : "s",
		    notify, notify);
	else
		snprintf(out, ADVICE_MAX, "%zu com.df.* label%s but %s=%.60s, "
		    "not true: swarm-listener and the Docker source skip this "
		    "service", n, n == 1 ? "" : "s", notify, value);
}

void
advice_targets_undiscovered(char out[ADVICE_MAX], const char *path,
    int64_t age_ms)
{
	if (age_ms >= 0 && age_ms < ADVICE_GRACE_MS)
		snprintf(out, ADVICE_MAX, "Prometheus scrapes no target of "
		    "%.300s yet: it was written %lld s ago, and file_sd "
		    "picks a change up within seconds", path,
		    (long long)(age_ms / 1000));
	else
		snprintf(out, ADVICE_MAX, "Prometheus scrapes no target of "
		    "%.300s: the file is not under a file_sd_configs glob of "
		    "its configuration, or a relabelling drops its targets "
		    "(another shard's?)", path);
}

void
advice_group_not_run(char out[ADVICE_MAX], const char *group,
    const char *path, int loaded)
{
	if (loaded)
		snprintf(out, ADVICE_MAX, "Prometheus runs no rule group "
		    "%.120s, though a reload succeeded since %.220s was "
		    "written: the file is not under a rule_files glob of its "
		    "configuration", group, path);
	else
		snprintf(out, ADVICE_MAX, "Prometheus runs no rule group "
		    "%.120s yet: %.220s waits for a reload (is --reload-url "
		    "set?)", group, path);
}

void
advice_no_reload(char out[ADVICE_MAX], const char *path)
{
	snprintf(out, ADVICE_MAX, "no reload is configured (no --reload-url, "
	    "no --run-prometheus): %.280s is written but flowmon never asks "
	    "Prometheus to load it, so it stays pending unless something else "
	    "reloads Prometheus (flowmon reloader, a restart)", path);
}
