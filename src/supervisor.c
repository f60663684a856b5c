/* supervisor.c: Prometheus as a supervised child (the drop-in layout of
 * Docker Flow Monitor's image): DFM's ARG_* rule for its flags, spawn
 * without a shell, restart with backoff, stop on flowmon's stop, reload.
 *
 * Design note. One thread per child waits for it with waitid(WNOWAIT), so
 * the exited child stays a zombie, and its pid stays ours, until the thread
 * takes the lock, reaps it and clears sv->pid. Every signal flowmon sends
 * (SIGHUP to reload, SIGTERM or SIGKILL to stop) is sent under the same
 * lock while sv->pid is set: it can only ever reach our own child, never a
 * process that inherited a recycled pid. No SIGCHLD handler is installed;
 * other children of flowmon (promtool) are waited for by their own pid.
 *
 * Ready. After each start the thread asks <api>/-/ready (every
 * SUPERVISOR_READY_POLL_MS) until the child answers it or exits: Prometheus
 * answers 200 only once its first load of the configuration and of every
 * rule file succeeded, and exits when that load fails. A SIGHUP is sent
 * only to a child that is ready: Go's runtime installs Prometheus's
 * handler early, but a signal before it would kill the child (SIGHUP's
 * default action), and a child still starting reads rules/ anyway. The
 * owner hears of each start (before the spawn, so what it notes then is
 * older than anything the child reads), of each child ready, and of each
 * exit with a non-zero status before it was ready (a start failure: a
 * rule file or the configuration it refuses, a port taken...), through
 * its hooks, on this thread, with the lock held. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "httpbody.h"
#include "log.h"
#include "supervisor.h"
#include "url.h"
#include "worker.h"

struct supervisor {
	char		**argv;
	char		 *reload_url;	/* lifecycle URL, NULL: SIGHUP */
	char		 *ready_url;	/* <api>/-/ready */
	int		  search_path;	/* a bare name: look it up on PATH */
	struct worker	  w;		/* woken when pid, ready or the
					   stop changed */
	/* Below: under w's lock. */
	pid_t		  pid;		/* the child, 0 while none runs */
	int		  ready;	/* it answered /-/ready since its start */
	unsigned long	  starts;
	unsigned long	  start_failures;	/* exits before ready */
	int64_t		  started;	/* clock_ms() */
	struct supervisor_hooks hooks;
};

/* Tells the owner (lock held). */
static void
sv_event(struct supervisor *sv, enum supervisor_event ev, const char *detail)
{
	if (sv->hooks.event != NULL)
		sv->hooks.event(sv->hooks.ctx, ev, detail);
}

/*
 * Flags.
 */

struct sv_flag {
	char		*name;	/* without the leading -- */
	char		*arg;	/* the argv string */
	const char	*var;	/* the variable, for messages */
};

static int
sv_flag_cmp(const void *a, const void *b)
{
	const struct sv_flag *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->var, y->var);
}

static void
sv_flags_free(struct sv_flag *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].arg);
	}
	free(f);
}

void
supervisor_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

char **
supervisor_argv(const char *prometheus, const char *config_file,
    char *const *envp, char err[ERR_MAX])
{
	static const struct {
		const char *from, *to;
	} renames[] = {
		{ "storage.local.path", "storage.tsdb.path" },
		{ "storage.local.retention", "storage.tsdb.retention" },
		{ "query.staleness-delta", "query.lookback-delta" },
	};
	struct sv_flag *flags = NULL;
	char **argv = NULL;
	size_t n = 0, i, k;

	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *e = envp[i], *eq = strchr(e, '='), *value;
		char *name, *p;
		struct sv_flag *f;

		if (strncmp(e, "ARG_", 4) != 0 || eq == NULL)
			continue;
		if (strncmp(e, "ARG_ALERTMANAGER_URL=", 21) == 0 ||
		    strncmp(e, "ARG_CONFIG_FILE=", 16) == 0)
			continue;
		value = eq + 1;
		if ((name = strndup(e + 4, (size_t)(eq - e - 4))) == NULL)
			abort();
		for (p = name; *p; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (*p == '_')
				*p = '.';
		}
		if (!isalnum((unsigned char)*name) ||
		    name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-")]
		    != '\0') {
			snprintf(err, ERR_MAX, "%.*s: \"%s\" is not a Prometheus "
			    "flag name (letters, digits, '-', '_' for '.')",
			    (int)(eq - e), e, name);
			free(name);
			goto fail;
		}
		if (strcmp(name, "web.enable-remote-shutdown") == 0) {
			/* DFM's name from Prometheus 1.x; only "true" meant
			 * anything. */
			free(name);
			if (strcmp(value, "true") != 0)
				continue;
			if ((name = strdup("web.enable-lifecycle")) == NULL)
				abort();
			value = "";
		}
		for (k = 0; k < sizeof(renames) / sizeof(*renames); k++)
			if (strcmp(name, renames[k].from) == 0) {
				free(name);
				if ((name = strdup(renames[k].to)) == NULL)
					abort();
				break;
			}
		if ((flags = realloc(flags, (n + 1) * sizeof(*flags))) == NULL)
			abort();
		f = &flags[n++];
		f->name = name;
		f->var = e;
		if (*value == '\0' || strcmp(value, "true") == 0) {
			if (asprintf(&f->arg, "--%s", name) < 0)
				abort();
		} else if (strcmp(value, "false") == 0) {
			if (asprintf(&f->arg, "--no-%s", name) < 0)
				abort();
		} else if (asprintf(&f->arg, "--%s=%s", name, value) < 0)
			abort();
	}
	if (n > 0)
		qsort(flags, n, sizeof(*flags), sv_flag_cmp);
	for (i = 0; i + 1 < n; i++)
		if (strcmp(flags[i].name, flags[i + 1].name) == 0) {
			snprintf(err, ERR_MAX, "%.*s and %.*s both set "
			    "--%s", (int)strcspn(flags[i].var, "="),
			    flags[i].var, (int)strcspn(flags[i + 1].var, "="),
			    flags[i + 1].var, flags[i].name);
			goto fail;
		}
	if ((argv = calloc(n + 3, sizeof(*argv))) == NULL ||
	    (argv[0] = strdup(prometheus)) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		argv[i + 1] = flags[i].arg;
		flags[i].arg = NULL;
	}
	if (asprintf(&argv[n + 1], "--config.file=%s", config_file) < 0)
		abort();
	sv_flags_free(flags, n);
	return argv;
fail:
	sv_flags_free(flags, n);
	return NULL;
}

/* The value of --name=value in argv, or NULL. */
static const char *
sv_flag_value(char *const *argv, const char *name)
{
	size_t i, l = strlen(name);

	for (i = 1; argv[i] != NULL; i++)
		if (strncmp(argv[i], "--", 2) == 0 &&
		    strncmp(argv[i] + 2, name, l) == 0 && argv[i][2 + l] == '=')
			return argv[i] + 3 + l;
	return NULL;
}

char *
supervisor_api_url(char *const *argv)
{
	const char *listen, *prefix, *ext, *colon;
	char host[256], *url, *pre, err[ERR_MAX];
	struct url u;
	size_t hl, pl;

	if ((listen = sv_flag_value(argv, "web.listen-address")) == NULL)
		listen = "0.0.0.0:9090";
	if ((colon = strrchr(listen, ':')) == NULL)
		colon = listen + strlen(listen);
	hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	/* A wildcard listens on the loopback too. */
	if (hl == 0 || strcmp(host, "0.0.0.0") == 0)
		strcpy(host, "127.0.0.1");
	else if (strcmp(host, "[::]") == 0 || strcmp(host, "::") == 0)
		strcpy(host, "[::1]");
	/* Prometheus's default route prefix is the external URL's path (a
	 * value that is no URL is taken for a path, as Prometheus does). */
	memset(&u, 0, sizeof(u));
	if ((prefix = sv_flag_value(argv, "web.route-prefix")) == NULL &&
	    (ext = sv_flag_value(argv, "web.external-url")) != NULL)
		prefix = url_parse(&u, ext, NULL, "--web.external-url",
		    err) == 0 ? u.path : ext;
	if (prefix == NULL)
		prefix = "";
	pl = strcspn(prefix, "?#");
	while (pl > 0 && prefix[pl - 1] == '/')
		pl--;
	if (asprintf(&pre, "%s%.*s", pl > 0 && *prefix != '/' ? "/" : "",
	    (int)pl, prefix) < 0 ||
	    asprintf(&url, "http://%s%s%s", host,
	    *colon == ':' ? colon : ":9090", pre) < 0)
		abort();
	free(pre);
	url_release(&u);
	return url;
}

char *
supervisor_reload_url(char *const *argv)
{
	char *base, *url;
	size_t i;
	int on = 0;

	for (i = 1; argv[i] != NULL; i++)
		if (strcmp(argv[i], "--web.enable-lifecycle") == 0)
			on = 1;
		else if (strcmp(argv[i], "--no-web.enable-lifecycle") == 0)
			on = 0;
	if (!on)
		return NULL;
	base = supervisor_api_url(argv);
	if (asprintf(&url, "%s/-/reload", base) < 0)
		abort();
	free(base);
	return url;
}

char *
supervisor_api(struct supervisor *sv)
{
	return supervisor_api_url(sv->argv);
}

/*
 * The child.
 */

/* Starts the child; called with the lock held (or before the thread). */
static int
sv_spawn(struct supervisor *sv, char err[ERR_MAX])
{
	static const int defaults[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGUSR1,
		SIGUSR2, SIGALRM
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char n[32];
	size_t i;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	for (i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
		sigaddset(&dfl, defaults[i]);
	if (posix_spawnattr_init(&at) != 0)
		abort();
	/* flowmon blocks SIGTERM and friends for sigwait() and ignores
	 * SIGPIPE; Prometheus must get them. Its own process group keeps a
	 * terminal's ^C for flowmon, which forwards the stop. */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (posix_spawn_file_actions_init(&fa) != 0)
		abort();
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Before the child can read anything. */
	sv_event(sv, SUPERVISOR_SPAWNING, NULL);
	rc = sv->search_path ?
	    posix_spawnp(&pid, sv->argv[0], &fa, &at, sv->argv, environ) :
	    posix_spawn(&pid, sv->argv[0], &fa, &at, sv->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		snprintf(err, ERR_MAX, "cannot start %s: %s", sv->argv[0],
		    strerror(rc));
		return -1;
	}
	sv->pid = pid;
	sv->ready = 0;
	sv->starts++;
	sv->started = clock_ms();
	snprintf(n, sizeof(n), "%ld", (long)pid);
	log_info("prometheus started", "pid", n, "path", sv->argv[0]);
	worker_signal(&sv->w);
	return 0;
}

/* How the child ended, for the log. */
static void
sv_log_exit(pid_t pid, int status, int stopping, long ran_ms,
    long backoff_ms)
{
	char p[32], how[64], ran[32], next[32];

	snprintf(p, sizeof(p), "%ld", (long)pid);
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "status %d", status);
	snprintf(ran, sizeof(ran), "%.1fs", ran_ms / 1000.0);
	snprintf(next, sizeof(next), "%.1fs", backoff_ms / 1000.0);
	if (stopping)
		log_info("prometheus stopped", "pid", p, "how", how);
	else
		log_warn("prometheus exited, restarting", "pid", p, "how", how,
		    "ran", ran, "restart_in", next);
}

/* Whether the child answers /-/ready: 200, or any answer but 503 (Prometheus
 * behind authentication says 401 to everything), as opposed to no answer
 * yet or 503 (still starting). Without the lock. */
static int
sv_probe_ready(struct supervisor *sv)
{
	struct httpbody b = { BUF_INIT, 256, 0 };
	char cerr[CURL_ERROR_SIZE];
	long status = 0;
	CURL *c;

	if ((c = httpbody_easy("http,https", SUPERVISOR_READY_POLL_MS,
	    2 * SUPERVISOR_READY_POLL_MS, worker_stop_flag(&sv->w),
	    cerr)) == NULL)
		return 0;
	if (curl_easy_setopt(c, CURLOPT_URL, sv->ready_url) == CURLE_OK)
		(void)httpbody_perform(c, &b, &status);
	curl_easy_cleanup(c);
	buf_release(&b.body);
	return status >= 200 && status < 500 && status != 503;
}

/* Lock held: asks the child pid whether it is ready until it is, it
 * exits (left for the caller to reap) or the supervisor stops. */
static void
sv_await_ready(struct supervisor *sv, pid_t pid)
{
	char p[32], ms[32];
	siginfo_t si;
	int ready;

	while (!sv->ready && !worker_stopping(&sv->w)) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == pid)
			return;
		worker_unlock(&sv->w);
		ready = sv_probe_ready(sv);
		worker_lock(&sv->w);
		/* Still there: what answered was the child, not another
		 * process on its port (one flowmon killed left running). */
		memset(&si, 0, sizeof(si));
		if (ready && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == pid)
			return;
		if (ready) {
			sv->ready = 1;
			snprintf(p, sizeof(p), "%ld", (long)pid);
			snprintf(ms, sizeof(ms), "%lld",
			    (long long)clock_since(sv->started));
			log_info("prometheus ready", "pid", p,
			    "after_ms", ms);
			sv_event(sv, SUPERVISOR_READY, NULL);
			worker_signal(&sv->w);
			return;
		}
		worker_wait(&sv->w, clock_ms() + SUPERVISOR_READY_POLL_MS);
	}
}

/* Lock held: the child pid exited with status (reaped); a start failure
 * when it never was ready. */
static void
sv_exited(struct supervisor *sv, pid_t pid, int status, long *backoff)
{
	long ran = (long)clock_since(sv->started);
	int stopping = worker_stopping(&sv->w), failed;
	char how[32];

	failed = !sv->ready && !stopping && WIFEXITED(status) &&
	    WEXITSTATUS(status) != 0;
	sv->pid = 0;
	sv->ready = 0;
	if (ran >= SUPERVISOR_STABLE_MS)
		*backoff = SUPERVISOR_BACKOFF_MIN_MS;
	sv_log_exit(pid, status, stopping, ran, *backoff);
	if (failed) {
		sv->start_failures++;
		snprintf(how, sizeof(how), "exit status %d",
		    WEXITSTATUS(status));
		log_error("prometheus exited at start: it refuses its "
		    "configuration or a rule file, or cannot listen (its "
		    "log above says which)", "how", how);
		sv_event(sv, SUPERVISOR_START_FAILED, how);
	}
	worker_signal(&sv->w);
}

static void *
sv_main(void *arg)
{
	struct supervisor *sv = arg;
	long backoff = SUPERVISOR_BACKOFF_MIN_MS;
	char err[ERR_MAX];
	siginfo_t si;
	pid_t pid;
	int status;

	worker_lock(&sv->w);
	while (!worker_stopping(&sv->w)) {
		if (sv->pid == 0) {
			/* Wait out the backoff, then start again. */
			if (worker_wait_stop(&sv->w, clock_ms() + backoff) ==
			    -1)
				break;
			backoff = backoff * 2 > SUPERVISOR_BACKOFF_MAX_MS ?
			    SUPERVISOR_BACKOFF_MAX_MS : backoff * 2;
			if (sv_spawn(sv, err) == -1) {
				log_error("prometheus not restarted", "err", err);
				continue;
			}
		}
		pid = sv->pid;
		sv_await_ready(sv, pid);
		worker_unlock(&sv->w);
		/* Wait without reaping: the pid stays ours until we do. */
		while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
		    errno == EINTR)
			;
		worker_lock(&sv->w);
		status = 0;
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		sv_exited(sv, pid, status, &backoff);
	}
	worker_unlock(&sv->w);
	return NULL;
}

static void
sv_free(struct supervisor *sv)
{
	supervisor_argv_free(sv->argv);
	free(sv->reload_url);
	free(sv->ready_url);
	worker_release(&sv->w);
	free(sv);
}

struct supervisor *
supervisor_start(const char *prometheus, const char *config_file,
    char *const *envp, char err[ERR_MAX])
{
	struct supervisor *sv;
	char *base;

	if ((sv = calloc(1, sizeof(*sv))) == NULL ||
	    worker_init(&sv->w, err) == -1)
		abort();
	if ((sv->argv = supervisor_argv(prometheus, config_file, envp,
	    err)) == NULL) {
		sv_free(sv);
		return NULL;
	}
	sv->search_path = strchr(prometheus, '/') == NULL;
	sv->reload_url = supervisor_reload_url(sv->argv);
	base = supervisor_api_url(sv->argv);
	if (asprintf(&sv->ready_url, "%s/-/ready", base) < 0)
		abort();
	free(base);
	if (sv_spawn(sv, err) == -1) {
		sv_free(sv);
		return NULL;
	}
	if (worker_start(&sv->w, sv_main, sv, "supervisor", err) == -1) {
		kill(sv->pid, SIGKILL);
		while (waitpid(sv->pid, NULL, 0) == -1 && errno == EINTR)
			;
		sv_free(sv);
		return NULL;
	}
	log_info("prometheus supervised", "reload", sv->reload_url != NULL ?
	    sv->reload_url : "SIGHUP");
	return sv;
}

pid_t
supervisor_pid(struct supervisor *sv)
{
	pid_t pid;

	worker_lock(&sv->w);
	pid = sv->pid;
	worker_unlock(&sv->w);
	return pid;
}

unsigned long
supervisor_starts(struct supervisor *sv)
{
	unsigned long n;

	worker_lock(&sv->w);
	n = sv->starts;
	worker_unlock(&sv->w);
	return n;
}

void
supervisor_set_hooks(struct supervisor *sv,
    const struct supervisor_hooks *hooks)
{
	if (sv == NULL)
		return;
	worker_lock(&sv->w);
	memset(&sv->hooks, 0, sizeof(sv->hooks));
	if (hooks != NULL)
		sv->hooks = *hooks;
	/* The first child may be ready already. */
	if (sv->ready)
		sv_event(sv, SUPERVISOR_READY, NULL);
	worker_unlock(&sv->w);
}

void
supervisor_stop(struct supervisor *sv)
{
	int64_t deadline = clock_ms() + SUPERVISOR_STOP_MS;
	int killed = 0;

	if (sv == NULL)
		return;
	/* The thread restarts nothing from here on. */
	worker_cancel(&sv->w);
	worker_lock(&sv->w);
	if (sv->pid != 0)
		kill(sv->pid, SIGTERM);
	while (sv->pid != 0) {
		if (!killed && clock_ms() >= deadline) {
			log_warn("prometheus ignored SIGTERM, killing it");
			kill(sv->pid, SIGKILL);
			killed = 1;
		}
		worker_wait(&sv->w, killed ? WORKER_FOREVER : deadline);
	}
	worker_unlock(&sv->w);
	worker_join(&sv->w);
	sv_free(sv);
}

/*
 * Reload back end.
 */

struct sv_reload {
	struct supervisor	*sv;
	void			*http;	/* reload_http arg, NULL: SIGHUP */
	void			*watch;	/* reload_signal arg (SIGHUP) */
	long			 timeout_ms;
	int			 cancelled;	/* atomic */
};

/* Waits, up to timeout_ms, until the child is ready. FM_OK, or FM_RETRY
 * with err: it exits at start, it is not ready in time, flowmon stops. */
static enum fm_err
sv_wait_ready(struct sv_reload *r, char err[ERR_MAX])
{
	struct supervisor *sv = r->sv;
	int64_t deadline = clock_ms() + r->timeout_ms;
	unsigned long failures;
	enum fm_err k = FM_OK;

	worker_lock(&sv->w);
	failures = sv->start_failures;
	while (!sv->ready) {
		if (__atomic_load_n(&r->cancelled, __ATOMIC_ACQUIRE) ||
		    worker_stopping(&sv->w)) {
			snprintf(err, ERR_MAX, "stopped while prometheus "
			    "was starting");
			k = FM_RETRY;
		} else if (sv->start_failures != failures) {
			/* The owner hears of it (SUPERVISOR_START_FAILED). */
			snprintf(err, ERR_MAX, "prometheus exited at start "
			    "(its log says why)");
			k = FM_RETRY;
		} else if (clock_ms() >= deadline) {
			snprintf(err, ERR_MAX, "prometheus is not ready "
			    "within --reload-timeout (%lds)",
			    r->timeout_ms / 1000);
			k = FM_RETRY;
		}
		if (k != FM_OK)
			break;
		worker_wait(&sv->w, deadline);
	}
	worker_unlock(&sv->w);
	return k;
}

/* reload_signal's send: SIGHUP to the child, if it runs and is ready. */
static enum fm_err
sv_sighup(void *ctx, char err[ERR_MAX])
{
	struct supervisor *sv = ctx;
	enum fm_err ret = FM_OK;

	worker_lock(&sv->w);
	if (sv->pid == 0 || !sv->ready) {
		/* A restarted Prometheus reads every rule file anyway; the
		 * retry finds it running. */
		snprintf(err, ERR_MAX, "prometheus is not running (restarting)");
		ret = FM_RETRY;
	} else if (kill(sv->pid, SIGHUP) == -1) {
		snprintf(err, ERR_MAX, "SIGHUP to prometheus (pid %ld): %s",
		    (long)sv->pid, strerror(errno));
		ret = FM_RETRY;
	}
	worker_unlock(&sv->w);
	return ret;
}

static enum fm_err
sv_reload(void *arg, char err[ERR_MAX])
{
	struct sv_reload *r = arg;
	enum fm_err k;

	if (r->http != NULL)
		return reload_http_backend.reload(r->http, err);
	if ((k = sv_wait_ready(r, err)) != FM_OK)
		return k;
	return reload_signal(r->watch, sv_sighup, r->sv, err);
}

static void
sv_reload_cancel(void *arg)
{
	struct sv_reload *r = arg;

	__atomic_store_n(&r->cancelled, 1, __ATOMIC_RELEASE);
	worker_lock(&r->sv->w);
	worker_signal(&r->sv->w);
	worker_unlock(&r->sv->w);
	if (r->http != NULL)
		reload_http_backend.cancel(r->http);
	if (r->watch != NULL)
		reload_http_backend.cancel(r->watch);
}

static void
sv_reload_free(void *arg)
{
	struct sv_reload *r = arg;

	if (r == NULL)
		return;
	if (r->http != NULL)
		reload_http_backend.free(r->http);
	if (r->watch != NULL)
		reload_http_backend.free(r->watch);
	free(r);
}

void *
supervisor_reload_new(struct supervisor *sv, long timeout_ms,
    char err[ERR_MAX])
{
	struct sv_reload *r;
	char *base;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	r->sv = sv;
	r->timeout_ms = timeout_ms;
	if (sv->reload_url != NULL) {
		if ((r->http = reload_http_new(sv->reload_url, timeout_ms,
		    err)) == NULL)
			goto fail;
		return r;
	}
	base = supervisor_api_url(sv->argv);
	r->watch = reload_signal_new(base, timeout_ms, err);
	free(base);
	if (r->watch == NULL)
		goto fail;
	return r;
fail:
	free(r);
	return NULL;
}

const struct reload_backend supervisor_reload_backend = {
	.name = "prometheus child",
	.reload = sv_reload,
	.free = sv_reload_free,
	.cancel = sv_reload_cancel,
};
