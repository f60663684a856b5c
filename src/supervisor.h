/* supervisor.h: runs Prometheus as flowmon's child, the way Docker Flow
 * Monitor's image did: its ARG_* variables become Prometheus's flags, the
 * child is restarted with backoff when it exits, stopped with SIGTERM when
 * flowmon stops, and reloaded through a reloader back end. */
#ifndef FLOWMON_SUPERVISOR_H
#define FLOWMON_SUPERVISOR_H

#include <sys/types.h>

#include "reloader.h"
#include "service.h"

/* Restart backoff: the first restart waits SUPERVISOR_BACKOFF_MIN_MS,
 * each quick exit doubles it up to SUPERVISOR_BACKOFF_MAX_MS; a child that
 * ran SUPERVISOR_STABLE_MS resets it. */
#define SUPERVISOR_BACKOFF_MIN_MS	500
#define SUPERVISOR_BACKOFF_MAX_MS	30000
#define SUPERVISOR_STABLE_MS		60000
/* How long a stop waits for Prometheus after SIGTERM before SIGKILL. */
#define SUPERVISOR_STOP_MS		60000
/* How often a child that started is asked whether it is ready. */
#define SUPERVISOR_READY_POLL_MS	250

/* Prometheus's argv from envp (NULL-terminated "KEY=VALUE" strings), by
 * DFM's rule: every ARG_<NAME>=<value> gives --<name>=<value>, where name
 * is lower-cased with every '_' turned into '.' (ARG_WEB_ROUTE-PREFIX ->
 * --web.route-prefix). An empty value or "true" gives the bare flag,
 * "false" gives --no-<name> (Prometheus's flag parser takes no value for a
 * boolean flag). DFM's renames: WEB_ENABLE-REMOTE-SHUTDOWN=true ->
 * --web.enable-lifecycle (any other value: no flag), STORAGE_LOCAL_PATH ->
 * storage.tsdb.path, STORAGE_LOCAL_RETENTION -> storage.tsdb.retention,
 * QUERY_STALENESS-DELTA -> query.lookback-delta; ARG_ALERTMANAGER_URL and
 * ARG_CONFIG_FILE are no flags (the first goes into the configuration,
 * the config file is config_file). argv[0] is prometheus, the flags follow
 * sorted by name, --config.file=<config_file> last. Pure. Returns a
 * NULL-terminated malloc'd array (free with supervisor_argv_free), or NULL
 * with err naming the variable (a name that is no flag name, two
 * variables for one flag). */
char	**supervisor_argv(const char *prometheus, const char *config_file,
	    char *const *envp, char err[ERR_MAX]);
void	  supervisor_argv_free(char **argv);

/* The lifecycle reload URL of a Prometheus started with argv, when argv
 * holds --web.enable-lifecycle: http://<listen host>:<port><route
 * prefix>/-/reload, where a wildcard listen address becomes the loopback
 * and the route prefix defaults to the path of --web.external-url. NULL
 * (nothing to free) when the lifecycle API is off. Pure; the caller frees
 * the string. */
char	 *supervisor_reload_url(char *const *argv);
/* The HTTP API base of a Prometheus started with argv: the same URL
 * without /-/reload, whether the lifecycle API is on or not. Pure;
 * malloc'd. */
char	 *supervisor_api_url(char *const *argv);

struct supervisor;

/* supervisor_api_url() of the running child, for --prometheus-url's
 * default under --run-prometheus. malloc'd. */
char	 *supervisor_api(struct supervisor *sv);

/* Starts prometheus (a path, or a name looked up on PATH) with
 * supervisor_argv's argv, no shell, in its own process group, with a clean
 * signal mask and dispositions and no inherited file descriptors beyond
 * 0-2. A thread waits for it and restarts it (backoff above) until
 * supervisor_stop. NULL with err if the argv is refused or the first start
 * fails. */
struct supervisor *supervisor_start(const char *prometheus,
	    const char *config_file, char *const *envp, char err[ERR_MAX]);

/* What the owner hears of the child (supervisor_set_hooks()):
 *   SUPERVISOR_SPAWNING      a child is about to start (before it can read
 *                            any file)
 *   SUPERVISOR_READY         it answers <api>/-/ready: Prometheus's first
 *                            load of its configuration and of every rule
 *                            file succeeded
 *   SUPERVISOR_START_FAILED  it exited with a non-zero status before it
 *                            was ready (detail: "exit status N"): a rule
 *                            file or the configuration it refuses, or
 *                            a port taken; it is started again after the
 *                            backoff. */
enum supervisor_event {
	SUPERVISOR_SPAWNING,
	SUPERVISOR_READY,
	SUPERVISOR_START_FAILED
};

/* event runs on the supervisor's thread with its lock held: it must not
 * block, nor call back into the supervisor. */
struct supervisor_hooks {
	void	(*event)(void *ctx, enum supervisor_event ev,
		    const char *detail);
	void	 *ctx;
};

/* Makes hooks (copied; NULL: none) sv's: from the next event on, and at
 * once SUPERVISOR_READY when the child is ready already (the first child
 * starts in supervisor_start(), before its owner may exist). Once it
 * returns, the previous hooks are never called again. sv NULL: nothing. */
void	 supervisor_set_hooks(struct supervisor *sv,
	    const struct supervisor_hooks *hooks);

/* The running child's pid, 0 between a exit and its restart. */
pid_t	 supervisor_pid(struct supervisor *sv);
/* How many times the child was started. */
unsigned long supervisor_starts(struct supervisor *sv);

/* Stops restarting, sends SIGTERM to the child, waits for it (SIGKILL
 * after SUPERVISOR_STOP_MS), joins the thread and frees sv. NULL ok. */
void	 supervisor_stop(struct supervisor *sv);

/* A reload back end for the child: POST to its lifecycle URL when it runs
 * with --web.enable-lifecycle (the HTTP back end, so a refusal reads
 * "answered 500", and waits up to timeout_ms for its answer, as
 * reload_http_new), else SIGHUP to its pid, never a signal by name, once
 * it is ready (waited for up to timeout_ms; an exit at start ends the
 * wait with FM_RETRY), and verified in its /metrics (reload_signal():
 * FM_OK once it loaded the rules, FM_REFUSED when it refused them). The
 * returned arg holds sv borrowed: the reloader must be freed before
 * supervisor_stop. NULL with err on failure. */
void	*supervisor_reload_new(struct supervisor *sv, long timeout_ms,
	    char err[ERR_MAX]);
extern const struct reload_backend supervisor_reload_backend;

#endif
