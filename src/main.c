/* main.c: flowmon's start-up and shut-down: read the configuration, open
 * the data dir, heal it from the records, start the reloader and the HTTP
 * front, then wait for signals (SIGHUP re-reads the shortcut files, SIGINT
 * and SIGTERM stop cleanly). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "audit.h"
#include "config.h"
#include "dns.h"
#include "docker.h"
#include "files.h"
#include "history.h"
#include "http.h"
#include "lifecycle.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "plan.h"
#include "promapi.h"
#include "promconfig.h"
#include "promtool.h"
#include "parser.h"
#include "registry.h"
#include "reloader.h"
#include "reloader_cmd.h"
#include "shortcuts.h"
#include "silence.h"
#include "store.h"
#include "swarmstate.h"
#include "supervisor.h"
#include "taskdns.h"
#include "url.h"
#include "worker.h"

static struct reloader *
start_reloader(const struct config *cfg, struct supervisor *sv,
    char err[ERR_MAX])
{
	const struct reload_backend *backend = NULL;
	void *arg = NULL;

	if (cfg->reload_url != NULL) {
		if ((arg = reload_http_new(cfg->reload_url,
		    cfg->reload_timeout_ms, err)) == NULL)
			return NULL;
		if (cfg->reload_auth_file != NULL &&
		    reload_http_set_auth(arg, cfg->reload_auth_file,
		    err) == -1) {
			reload_http_backend.free(arg);
			return NULL;
		}
		backend = &reload_http_backend;
	} else if (sv != NULL) {
		/* --run-prometheus without --reload-url: reload our child. */
		if ((arg = supervisor_reload_new(sv, cfg->reload_timeout_ms,
		    err)) == NULL)
			return NULL;
		backend = &supervisor_reload_backend;
	}
	/* Its hook, the rule lifecycle, comes once the registry is up. */
	return reloader_new(backend, arg, cfg->reload_delay_ms,
	    cfg->reload_max_delay_ms, NULL, err);
}

/* Drop-in Docker Flow Monitor: Prometheus's config from DFM's variables,
 * and Prometheus itself as a supervised child. Without --prometheus-config
 * the child's config goes where DFM's image put it, ARG_CONFIG_FILE. */
static int
start_prometheus(const struct config *cfg, struct supervisor **sv,
    char err[ERR_MAX])
{
	const char *file = cfg->prometheus_config, *arg;

	arg = getenv("ARG_CONFIG_FILE");
	if (file == NULL && cfg->run_prometheus != NULL)
		file = arg != NULL && *arg != '\0' ? arg : NULL;
	else if (file != NULL && cfg->run_prometheus != NULL && arg != NULL &&
	    strcmp(arg, file) != 0)
		log_warn("ARG_CONFIG_FILE ignored, --prometheus-config wins",
		    "path", file);
	if (file != NULL) {
		if (promconfig_generate(environ, cfg->data_dir, cfg->shards,
		    cfg->shard, file, err) == -1)
			return -1;
		log_info("prometheus config written", "path", file);
	}
	if (cfg->run_prometheus == NULL)
		return 0;
	if (file == NULL) {
		snprintf(err, ERR_MAX, "--run-prometheus needs "
		    "--prometheus-config FILE (or ARG_CONFIG_FILE)");
		return -1;
	}
	*sv = supervisor_start(cfg->run_prometheus, file, environ, err);
	return *sv != NULL ? 0 : -1;
}

/* The Prometheus API the status page and explain ask: --prometheus-url,
 * or the base of the first --reload-url, or that of the Prometheus run as
 * a child (sv); none (NULL, 0) when there is none or "none". The server
 * of a --reload-url is asked with --reload-auth-file's credentials, as
 * the reload is. -1 with err on a bad URL or auth file. */
static int
start_promapi(const struct config *cfg, struct supervisor *sv,
    struct promapi **p, char err[ERR_MAX])
{
	const char *url = cfg->prometheus_url;
	char *derived = NULL;

	*p = NULL;
	if (url != NULL && strcmp(url, "none") == 0)
		return 0;
	if (url == NULL && cfg->reload_url != NULL && (url = derived =
	    promapi_url_from_reload(cfg->reload_url, err)) == NULL)
		return -1;
	if (url == NULL && sv != NULL)
		url = derived = supervisor_api(sv);
	if (url == NULL)
		return 0;
	*p = promapi_new(url, cfg->reload_url, cfg->reload_auth_file, err);
	free(derived);
	return *p != NULL ? 0 : -1;
}

/* Everything the daemon runs, in the order it starts. */
struct daemon {
	struct config		 cfg;
	sigset_t		 signals;
	struct store_lock	 lock;
	struct store		 st;
	int			 store_ok;
	struct supervisor	*sv;
	struct parser		*parser;
	struct reloader		*rl;
	struct registry		*reg;
	struct taskdns		*td;
	struct promtool		*pt;
	struct lifecycle	*lc;
	struct history		*hist;
	struct promapi		*prom;
	struct dns		*dns;
	struct files		*files;
	struct http		*h;
	struct listener		*lis;
	struct docker		*dk;
	struct swarmstate	*ss;
	struct silencer		*sil;
	int			 curl_ok;
	int			 status;	/* the exit status */
};

/* SIGHUP: re-reads the shortcut files; on failure the running table
 * stays. */
static void
reload_shortcuts(void *arg)
{
	struct daemon *d = arg;
	struct shortcuts *sc;
	char err[ERR_MAX], n[32];

	if ((sc = shortcuts_load(d->cfg.shortcuts, d->cfg.secrets_dir,
	    err)) == NULL) {
		log_error("shortcuts not reloaded, keeping the old table",
		    "err", err);
		return;
	}
	snprintf(n, sizeof(n), "%zu", shortcuts_count(sc));
	parser_set_shortcuts(d->parser, sc);
	log_info("shortcuts reloaded", "count", n);
}

/* The data dir lock, checked every LOCK_CHECK_MS while flowmon serves
 * (and tried as often by a standby). */
#define LOCK_CHECK_MS	250

/* A standby's tick: 1 once the lock is ours. */
static int
try_lock(void *arg)
{
	struct daemon *d = arg;
	char who[256], err[ERR_MAX];
	int rc;

	if ((rc = store_lock(&d->lock, d->cfg.data_dir, who, err)) == -1)
		log_warn("cannot try the data dir lock", "error", err);
	return rc == 0;
}

/* A standby: serves ping (and 503 elsewhere) while another flowmon holds
 * the data dir, and tries the lock every LOCK_CHECK_MS; SIGHUP waits for
 * the takeover, which reads the shortcut table. 0 once the lock is taken,
 * 1 when a signal asks to stop, -1 with err. */
static int
standby_wait(struct daemon *d, const char *holder, char err[ERR_MAX])
{
	const char *sig;

	/* No parser: nothing is parsed until the takeover. */
	if ((d->h = http_start(&d->cfg, NULL, NULL, NULL, err)) == NULL)
		return -1;
	log_info("standby: another flowmon holds the data dir, waiting for "
	    "its lock", "lock", d->lock.path, "holder", holder, "listen",
	    d->cfg.listen);
	if ((sig = worker_wait_signals(&d->signals, NULL, try_lock,
	    LOCK_CHECK_MS, d)) != NULL) {
		log_info("flowmon stopping", "signal", sig);
		return 1;
	}
	log_info("data dir lock taken: the standby takes over", "lock",
	    d->lock.path);
	return 0;
}

/* A serving daemon's tick: 1 once the lock no longer holds. A removed or
 * replaced lock file would let another flowmon start on the data dir: the
 * store refuses every write from the moment the lock fails its check
 * (store_set_lock); this notices it even when nothing writes. */
static int
lock_lost(void *arg)
{
	struct daemon *d = arg;
	char err[ERR_MAX];

	if (store_lock_check(&d->lock, err) == 0)
		return 0;
	log_error("data dir lock lost: stopping", "lock", d->lock.path,
	    "error", err);
	return 1;
}

/* The options; -1 to go on, else the exit status. */
static int
daemon_configure(struct daemon *d, int argc, char **argv)
{
	char err[ERR_MAX];
	int rc;

	memset(d, 0, sizeof(*d));
	d->lock = (struct store_lock)STORE_LOCK_INIT;
	d->status = 1;
	if ((rc = config_parse(&d->cfg, CONFIG_DAEMON, argc, argv, err)) != 0) {
		if (rc != 1) {
			fprintf(stderr, "flowmon: %s\n", err);
			fprintf(stderr, "Try 'flowmon --help'.\n");
		}
		config_release(&d->cfg);
		return rc == 1 ? 0 : 2;
	}
	if (log_set_level(d->cfg.log_level) == -1) {
		fprintf(stderr, "flowmon: --log-level: unknown level \"%s\"\n",
		    d->cfg.log_level);
		config_release(&d->cfg);
		return 2;
	}
	if (d->cfg.auth_reads)
		log_warn("--auth-reads is deprecated and ignored: with an auth "
		    "file every endpoint but ping needs credentials unless "
		    "--open-reads");
	return -1;
}

/* One writer per data dir: the lock comes before anything writes or
 * sweeps temp files there; with --standby, the wait for it. 0 when held,
 * -1 when not (d->status says why). */
static int
take_data_dir(struct daemon *d)
{
	char err[ERR_MAX], holder[256];
	int rc;

	if ((rc = store_lock(&d->lock, d->cfg.data_dir, holder, err)) == -1) {
		log_error("cannot lock the data dir", "dir", d->cfg.data_dir,
		    "err", err);
		return -1;
	}
	if (rc == 1 && !d->cfg.standby) {
		log_error("the data dir is locked by another flowmon: run one "
		    "per data dir, or add --standby", "lock", d->lock.path,
		    "holder", holder);
		return -1;
	}
	if (rc == 1 && (rc = standby_wait(d, holder, err)) != 0) {
		if (rc == -1)
			log_error("cannot listen", "listen", d->cfg.listen,
			    "err", err);
		else
			d->status = 0;
		return -1;
	}
	if (store_open(&d->st, d->cfg.data_dir, err) == -1) {
		log_error("cannot open the data dir", "dir", d->cfg.data_dir,
		    "err", err);
		return -1;
	}
	d->store_ok = 1;
	store_set_lock(&d->st, &d->lock);
	return 0;
}

/* The parser context every source shares, with the shortcut table. */
static int
start_parser(struct daemon *d)
{
	struct shortcuts *sc;
	char err[ERR_MAX];

	if ((sc = shortcuts_load(d->cfg.shortcuts, d->cfg.secrets_dir,
	    err)) == NULL) {
		log_error("cannot load the shortcuts", "err", err);
		return -1;
	}
	if ((d->parser = parser_new(&d->cfg, sc)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

/* The reloader, the registry with its checks and its history, the rule
 * lifecycle, and the index rebuilt from the data dir. */
static int
start_registry(struct daemon *d)
{
	char err[ERR_MAX], shown[ERR_MAX + 64];

	if ((d->rl = start_reloader(&d->cfg, d->sv, err)) == NULL) {
		log_error("cannot start the reloader", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		return -1;
	}
	if ((d->reg = registry_new(&d->st, d->rl)) == NULL ||
	    (d->td = taskdns_new(d->reg)) == NULL ||
	    (d->hist = history_new()) == NULL) {
		log_error("out of memory");
		return -1;
	}
	/* Every service's story, from its record's loading on. */
	registry_set_events(d->reg, history_event, history_story_free,
	    d->hist);
	if (start_promapi(&d->cfg, d->sv, &d->prom, err) == -1) {
		log_error("cannot use the Prometheus API", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		return -1;
	}
	if (d->cfg.promtool_missing)
		log_warn("promtool is not on PATH: rule files are not checked "
		    "with promtool check rules, only by flowmon's own checks "
		    "(install Debian's prometheus package, give --promtool "
		    "PATH, or --promtool none to say so)", "path",
		    getenv("PATH") ? getenv("PATH") : "");
	if (d->cfg.promtool != NULL &&
	    (d->pt = promtool_new(d->cfg.promtool, 0, err)) == NULL) {
		log_error("cannot set up promtool", "err", err);
		return -1;
	}
	registry_set_checks(d->reg, d->pt, &parser_limits(d->parser)->quota);
	registry_set_max_services(d->reg, (size_t)d->cfg.max_services);
	/* The reloader's hook: settles what a reload loaded, diagnoses one
	 * Prometheus refused (and reloads again through rl meanwhile). */
	if ((d->lc = lifecycle_new(d->reg, d->rl, d->pt)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	/* And of the Prometheus child's starts: what it loaded then, and
	 * what made it exit. */
	supervisor_set_hooks(d->sv, &(struct supervisor_hooks){
	    lifecycle_child_event, d->lc });
	if (registry_load(d->reg, parser_ctx(d->parser), err) == -1) {
		log_error("cannot load the data dir", "dir", d->cfg.data_dir,
		    "err", err);
		return -1;
	}
	/* What was rejected and promtool now accepts comes back. */
	(void)lifecycle_recheck(d->lc);
	return 0;
}

/* Task DNS lookups on their own thread, never on a request's; the
 * watcher of targets/ and rules/ (files flowmon did not write). */
static int
start_watchers(struct daemon *d)
{
	char err[ERR_MAX];

	if (d->cfg.task_dns != NULL && (d->dns = dns_start(d->td,
	    d->cfg.task_dns, d->cfg.dns_refresh_ms, NULL, NULL,
	    err)) == NULL) {
		log_error("cannot start task dns", "err", err);
		return -1;
	}
	if ((d->files = files_start(&d->st, d->reg, d->rl, d->pt,
	    FILES_POLL_MS, err)) == NULL) {
		log_error("cannot watch the data dir", "err", err);
		return -1;
	}
	return 0;
}

/* The HTTP front; a standby's, serving since the wait, takes over. */
static int
start_front(struct daemon *d)
{
	char err[ERR_MAX];

	if (d->h != NULL) {
		http_activate(d->h, d->reg, d->rl, d->parser);
	} else if ((d->h = http_start(&d->cfg, d->reg, d->rl, d->parser,
	    err)) == NULL) {
		log_error("cannot listen", "listen", d->cfg.listen, "err", err);
		return -1;
	}
	http_set_files(d->h, d->files);
	http_set_taskdns(d->h, d->td);
	http_set_explain(d->h, d->hist, d->prom, d->cfg.prometheus_url != NULL &&
	    strcmp(d->cfg.prometheus_url, "none") == 0);
	return 0;
}

/* Serving from disk already: swarm-listener and Docker bring it up to
 * date in the background, however long they take to answer. */
static int
start_sources(struct daemon *d)
{
	struct listener_options lo;
	struct docker_options dko;
	char err[ERR_MAX], shown[ERR_MAX + 64];

	memset(&lo, 0, sizeof(lo));
	lo.addresses = d->cfg.listener_address;
	lo.nodes_url = d->cfg.get_nodes_url;
	lo.prune = d->cfg.listener_prune;
	lo.envp = environ;
	if ((d->lis = listener_start(&lo, d->reg, d->parser, err)) == NULL) {
		log_error("cannot start the listener reconcile", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		return -1;
	}
	memset(&dko, 0, sizeof(dko));
	dko.host = d->cfg.docker_host;
	dko.notify_label = d->cfg.docker_notify_label;
	dko.poll_ms = d->cfg.docker_poll_ms;
	if (d->cfg.docker_host != NULL && (dko.state = d->ss =
	    swarmstate_new()) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (d->cfg.docker_host != NULL && (d->dk = docker_start(&dko, d->reg,
	    d->parser, err)) == NULL) {
		log_error("cannot start the docker source", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		return -1;
	}
	http_set_docker(d->h, d->dk);
	return 0;
}

/* Deploy silences follow what the Docker source sees. */
static int
start_silences(struct daemon *d)
{
	struct silence_options so;
	char err[ERR_MAX], shown[ERR_MAX + 64];

	if (d->cfg.silence_deploys) {
		memset(&so, 0, sizeof(so));
		so.urls = d->cfg.alertmanager_url;
		so.ttl_ms = d->cfg.silence_ttl_ms;
		if ((d->sil = silence_start(&so, d->ss, d->reg, err)) == NULL) {
			log_error("cannot start the deploy silences", "err",
			    url_redact_text(err, shown, sizeof(shown)));
			return -1;
		}
	}
	http_set_swarm(d->h, d->ss, d->sil);
	return 0;
}

static int
daemon_start(struct daemon *d)
{
	char err[ERR_MAX], url[1024];

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("libcurl initialisation failed");
		return -1;
	}
	d->curl_ok = 1;
	if (take_data_dir(d) == -1)
		return -1;
	if (start_prometheus(&d->cfg, &d->sv, err) == -1) {
		log_error("cannot set up prometheus", "err", err);
		return -1;
	}
	if (start_parser(d) == -1 || start_registry(d) == -1 ||
	    start_watchers(d) == -1 || start_front(d) == -1 ||
	    start_sources(d) == -1 || start_silences(d) == -1)
		return -1;
	/* A rule file written just before a crash or a stop may never have
	 * been loaded: one reload at start makes Prometheus catch up. */
	if (d->rl != NULL && d->cfg.reload_url != NULL)
		reloader_trigger(d->rl);
	/* What the start-up freed (record buffers, listings) goes back. */
	mem_trim();
	/* The reload URL may carry user:password@: never logged. */
	log_info("flowmon started", "version", FLOWMON_VERSION, "listen",
	    d->cfg.listen, "data_dir", d->cfg.data_dir, "reload_url",
	    url_redact_list(d->cfg.reload_url != NULL ? d->cfg.reload_url :
	    "", url, sizeof(url)));
	return 0;
}

/* The front first, so no request is half way through the registry; then
 * the reloader (a pending reload is dropped: Prometheus reads the rule
 * files at its own next start or reload anyway). The listener reconcile
 * and the Docker source go before the front, task DNS after it
 * (requests wake it); the supervisor and the rule lifecycle after the
 * reloader, whose back end may signal the child and whose thread calls
 * the lifecycle; the data-dir lock last, when nothing writes there any
 * more. */
static void
daemon_stop(struct daemon *d)
{
	http_set_docker(d->h, NULL);
	docker_stop(d->dk);
	listener_stop(d->lis);
	http_stop(d->h);
	/* After the front, which shows their figures on /metrics. */
	silence_stop(d->sil);
	swarmstate_free(d->ss);
	files_stop(d->files);
	dns_stop(d->dns);
	/* The supervisor's thread reaches the reloader through them. */
	supervisor_set_hooks(d->sv, NULL);
	reloader_free(d->rl);
	supervisor_stop(d->sv);
	/* After the reloader, whose thread calls it. */
	lifecycle_free(d->lc);
	taskdns_free(d->td);
	registry_free(d->reg);
	history_free(d->hist);
	promapi_free(d->prom);
	promtool_free(d->pt);
	parser_free(d->parser);
	if (d->store_ok)
		store_release(&d->st);
	store_unlock(&d->lock);
	if (d->curl_ok)
		curl_global_cleanup();
	config_release(&d->cfg);
}

int
main(int argc, char **argv)
{
	struct daemon d;
	const char *sig;
	int rc;

	/* Sub-commands: `flowmon check` audits a data dir (audit.h),
	 * `flowmon plan` shows what stack files would change (plan.h),
	 * `flowmon reloader` reloads one Prometheus replica
	 * (reloader_cmd.h). */
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return audit_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "plan") == 0)
		return plan_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "reloader") == 0)
		return reloader_cmd_main(argc - 1, argv + 1);
	if ((rc = daemon_configure(&d, argc, argv)) != -1)
		return rc;
	mem_tune();
	worker_block_signals(&d.signals);
	if (daemon_start(&d) == 0) {
		/* Until a signal says stop (0), or the lock is lost (1). */
		sig = worker_wait_signals(&d.signals, reload_shortcuts,
		    lock_lost, LOCK_CHECK_MS, &d);
		if (sig != NULL)
			log_info("flowmon stopping", "signal", sig);
		d.status = sig == NULL;
	}
	rc = d.status;
	daemon_stop(&d);
	return rc;
}
