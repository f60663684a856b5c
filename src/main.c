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
#include "plan.h"
#include "promapi.h"
#include "promconfig.h"
#include "promtool.h"
#include "quota.h"
#include "registry.h"
#include "reloader.h"
#include "reloader_cmd.h"
#include "request.h"
#include "shortcuts.h"
#include "silence.h"
#include "store.h"
#include "swarmstate.h"
#include "supervisor.h"
#include "taskdns.h"
#include "url.h"

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
 * a child (sv); none (NULL, 0) when there is none or "none". -1 with err
 * on a bad URL. */
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
	*p = promapi_new(url, err);
	free(derived);
	return *p != NULL ? 0 : -1;
}

/* Re-reads the shortcut files; on failure the running table stays. */
static void
reload_shortcuts(const struct config *cfg, struct http *h)
{
	char err[ERR_MAX];
	struct shortcuts *sc;
	char n[32];

	if ((sc = shortcuts_load(cfg->shortcuts, cfg->secrets_dir,
	    err)) == NULL) {
		log_error("shortcuts not reloaded, keeping the old table",
		    "err", err);
		return;
	}
	snprintf(n, sizeof(n), "%zu", shortcuts_count(sc));
	http_set_shortcuts(h, sc);
	log_info("shortcuts reloaded", "count", n);
}

/* A standby: serves ping (and 503 elsewhere) while another flowmon holds
 * the data dir, and tries the lock every STANDBY_POLL_MS. 0 once the lock
 * is taken, 1 when a signal asks to stop, -1 with err. */
#define STANDBY_POLL_MS	250

static int
standby_wait(const struct config *cfg, struct store_lock *lk,
    const char *holder, struct http **hp, const sigset_t *set,
    char err[ERR_MAX])
{
	struct timespec poll = { 0, STANDBY_POLL_MS * 1000000L };
	char who[256];
	int sig, rc;

	/* No shortcut table: nothing is parsed until the takeover. */
	if ((*hp = http_start(cfg, NULL, NULL, NULL, err)) == NULL)
		return -1;
	log_info("standby: another flowmon holds the data dir, waiting for "
	    "its lock", "lock", lk->path, "holder", holder, "listen",
	    cfg->listen);
	for (;;) {
		sig = sigtimedwait(set, NULL, &poll);
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("flowmon stopping", "signal", sig == SIGTERM ?
			    "SIGTERM" : "SIGINT");
			return 1;
		}
		if (sig != -1)
			continue;	/* SIGHUP: the table is read at takeover */
		if ((rc = store_lock(lk, cfg->data_dir, who, err)) == 0)
			break;
		if (rc == -1)
			log_warn("cannot try the data dir lock", "error", err);
	}
	log_info("data dir lock taken: the standby takes over", "lock",
	    lk->path);
	return 0;
}

/* Serves until a signal says stop (0) or the data dir lock no longer
 * holds (1): a removed or replaced lock file would let another flowmon
 * start on the data dir. The store refuses every write from the moment
 * the lock fails its check (store_set_lock); this notices it within
 * LOCK_CHECK_MS even when nothing writes, says so and stops. SIGHUP
 * re-reads the shortcut files. */
#define LOCK_CHECK_MS	250

static int
serve(const struct config *cfg, struct http *h, struct store_lock *lk,
    const sigset_t *set)
{
	struct timespec poll = { 0, LOCK_CHECK_MS * 1000000L };
	char err[ERR_MAX];
	int sig;

	for (;;) {
		sig = sigtimedwait(set, NULL, &poll);
		if (sig == -1) {
			if (store_lock_check(lk, err) == 0)
				continue;
			log_error("data dir lock lost: stopping", "lock",
			    lk->path, "error", err);
			return 1;
		}
		if (sig == SIGHUP) {
			reload_shortcuts(cfg, h);
			continue;
		}
		log_info("flowmon stopping", "signal",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return 0;
	}
}

/* The request limits, the same for requests, records and listener rows. */
static void
set_limits(const struct config *cfg)
{
	struct request_limits lim;

	config_limits(cfg, &lim);
	request_set_limits(&lim);
}

int
main(int argc, char **argv)
{
	char err[ERR_MAX], shown[ERR_MAX + 64];
	struct config cfg;
	struct store st;
	struct shortcuts *sc = NULL;
	struct reloader *rl = NULL;
	struct supervisor *sv = NULL;
	struct registry *reg = NULL;
	struct promtool *pt = NULL;
	struct lifecycle *lc = NULL;
	struct taskdns *td = NULL;
	struct history *hist = NULL;
	struct promapi *prom = NULL;
	struct quota lim;
	struct http *h = NULL;
	struct dns *dns = NULL;
	struct files *files = NULL;
	struct listener *lis = NULL;
	struct listener_options lo;
	struct docker *dk = NULL;
	struct docker_options dko;
	struct swarmstate *ss = NULL;
	struct silencer *sil = NULL;
	struct request_ctx ctx;
	struct store_lock lock = STORE_LOCK_INIT;
	char holder[256];
	sigset_t set;
	int rc, status = 1, store_ok = 0;

	/* Sub-command: `flowmon check` audits a data dir and exits. */
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return audit_main(argc - 1, argv + 1);
	/* `flowmon plan` shows what stack files would change, and exits. */
	if (argc > 1 && strcmp(argv[1], "plan") == 0)
		return plan_main(argc - 1, argv + 1);
	/* `flowmon reloader` reloads one Prometheus replica (reloader_cmd.h). */
	if (argc > 1 && strcmp(argv[1], "reloader") == 0)
		return reloader_cmd_main(argc - 1, argv + 1);
	memset(&cfg, 0, sizeof(cfg));
	if ((rc = config_parse(&cfg, CONFIG_DAEMON, argc, argv, err)) != 0) {
		if (rc == 1) {
			config_release(&cfg);
			return 0;
		}
		fprintf(stderr, "flowmon: %s\n", err);
		fprintf(stderr, "Try 'flowmon --help'.\n");
		config_release(&cfg);
		return 2;
	}
	if (log_set_level(cfg.log_level) == -1) {
		fprintf(stderr, "flowmon: --log-level: unknown level \"%s\"\n",
		    cfg.log_level);
		config_release(&cfg);
		return 2;
	}
	set_limits(&cfg);

	/* Every thread inherits this mask: signals are taken by sigwait()
	 * below only, and a closed client socket never kills the process. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("libcurl initialisation failed");
		goto fail;
	}
	if (cfg.auth_reads)
		log_warn("--auth-reads is deprecated and ignored: with an auth "
		    "file every endpoint but ping needs credentials unless "
		    "--open-reads");
	/* One writer per data dir: the lock comes before anything writes or
	 * sweeps temp files there. */
	if ((rc = store_lock(&lock, cfg.data_dir, holder, err)) == -1) {
		log_error("cannot lock the data dir", "dir", cfg.data_dir,
		    "err", err);
		goto fail;
	}
	if (rc == 1 && !cfg.standby) {
		log_error("the data dir is locked by another flowmon: run one "
		    "per data dir, or add --standby", "lock", lock.path,
		    "holder", holder);
		goto fail;
	}
	if (rc == 1 && (rc = standby_wait(&cfg, &lock, holder, &h, &set,
	    err)) != 0) {
		if (rc == -1)
			log_error("cannot listen", "listen", cfg.listen, "err",
			    err);
		else
			status = 0;
		goto fail;
	}
	if (store_open(&st, cfg.data_dir, err) == -1) {
		log_error("cannot open the data dir", "dir", cfg.data_dir,
		    "err", err);
		goto fail;
	}
	store_ok = 1;
	store_set_lock(&st, &lock);
	if (start_prometheus(&cfg, &sv, err) == -1) {
		log_error("cannot set up prometheus", "err", err);
		goto fail;
	}
	if ((sc = shortcuts_load(cfg.shortcuts, cfg.secrets_dir,
	    err)) == NULL) {
		log_error("cannot load the shortcuts", "err", err);
		goto fail;
	}
	if ((rl = start_reloader(&cfg, sv, err)) == NULL) {
		log_error("cannot start the reloader", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		goto fail;
	}
	if ((reg = registry_new(&st, rl)) == NULL ||
	    (td = taskdns_new(reg)) == NULL ||
	    (hist = history_new()) == NULL) {
		log_error("out of memory");
		goto fail;
	}
	/* Every service's story, from its record's loading on. */
	registry_set_events(reg, history_event, hist);
	if (start_promapi(&cfg, sv, &prom, err) == -1) {
		log_error("cannot use the Prometheus API", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		goto fail;
	}
	if (cfg.promtool_missing)
		log_warn("promtool is not on PATH: rule files are not checked "
		    "with promtool check rules, only by flowmon's own checks "
		    "(install Debian's prometheus package, give --promtool "
		    "PATH, or --promtool none to say so)", "path",
		    getenv("PATH") ? getenv("PATH") : "");
	if (cfg.promtool != NULL &&
	    (pt = promtool_new(cfg.promtool, 0, err)) == NULL) {
		log_error("cannot set up promtool", "err", err);
		goto fail;
	}
	memset(&lim, 0, sizeof(lim));
	lim.max_alerts = cfg.max_alerts;
	lim.max_rule_bytes = cfg.max_rule_bytes;
	lim.max_target_bytes = cfg.max_target_bytes;
	registry_set_checks(reg, pt, &lim);
	registry_set_max_services(reg, (size_t)cfg.max_services);
	/* The reloader's hook: settles what a reload loaded, diagnoses one
	 * Prometheus refused (and reloads again through rl meanwhile). */
	if ((lc = lifecycle_new(reg, rl, pt)) == NULL) {
		log_error("out of memory");
		goto fail;
	}
	config_request_ctx(&cfg, sc, &ctx);
	if (registry_load(reg, &ctx, err) == -1) {
		log_error("cannot load the data dir", "dir", cfg.data_dir,
		    "err", err);
		goto fail;
	}
	/* What was rejected and promtool now accepts comes back. */
	(void)lifecycle_recheck(lc);
	/* Task DNS lookups run on their own thread, never on a request's. */
	if (cfg.task_dns != NULL && (dns = dns_start(td, cfg.task_dns,
	    cfg.dns_refresh_ms, NULL, NULL, err)) == NULL) {
		log_error("cannot start task dns", "err", err);
		goto fail;
	}
	/* Files in targets/ and rules/ that flowmon did not write. */
	if ((files = files_start(&st, reg, rl, pt,
	    FILES_POLL_MS, err)) == NULL) {
		log_error("cannot watch the data dir", "err", err);
		goto fail;
	}
	if (h != NULL) {
		/* The standby's front serves from now on. */
		http_set_shortcuts(h, sc);
		sc = NULL;
		http_set_files(h, files);
		http_activate(h, reg, rl);
	} else {
		/* http_start takes the table over, on failure too. */
		h = http_start(&cfg, reg, rl, sc, err);
		sc = NULL;
		if (h == NULL) {
			log_error("cannot listen", "listen", cfg.listen, "err",
			    err);
			goto fail;
		}
		http_set_files(h, files);
	}
	http_set_taskdns(h, td);
	http_set_explain(h, hist, prom);
	/* Serving from disk already; swarm-listener brings it up to date in
	 * the background, however long it takes to answer. */
	memset(&lo, 0, sizeof(lo));
	lo.addresses = cfg.listener_address;
	lo.nodes_url = cfg.get_nodes_url;
	lo.prune = cfg.listener_prune;
	lo.node_labels = cfg.node_labels;
	lo.nnode_labels = cfg.nnode_labels;
	lo.envp = environ;
	if ((lis = listener_start(&lo, reg, http_parse_service, h,
	    err)) == NULL) {
		log_error("cannot start the listener reconcile", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		goto fail;
	}
	/* Docker itself, when asked: the same parser and registry calls. */
	memset(&dko, 0, sizeof(dko));
	dko.host = cfg.docker_host;
	dko.notify_label = cfg.docker_notify_label;
	dko.poll_ms = cfg.docker_poll_ms;
	dko.node_labels = cfg.node_labels;
	dko.nnode_labels = cfg.nnode_labels;
	if (cfg.docker_host != NULL && (dko.state = ss =
	    swarmstate_new()) == NULL) {
		log_error("out of memory");
		goto fail;
	}
	if (cfg.docker_host != NULL && (dk = docker_start(&dko, reg,
	    http_parse_service, h, err)) == NULL) {
		log_error("cannot start the docker source", "err",
		    url_redact_text(err, shown, sizeof(shown)));
		goto fail;
	}
	http_set_docker(h, dk);
	/* Deploy silences follow what the Docker source sees. */
	if (cfg.silence_deploys) {
		struct silence_options so;

		memset(&so, 0, sizeof(so));
		so.urls = cfg.alertmanager_url;
		so.ttl_ms = cfg.silence_ttl_ms;
		if ((sil = silence_start(&so, ss, reg, err)) == NULL) {
			log_error("cannot start the deploy silences", "err",
			    url_redact_text(err, shown, sizeof(shown)));
			goto fail;
		}
	}
	http_set_swarm(h, ss, sil);
	/* A rule file written just before a crash or a stop may never have
	 * been loaded: one reload at start makes Prometheus catch up. */
	if (rl != NULL && cfg.reload_url != NULL)
		reloader_trigger(rl);
	{
		/* The reload URL may carry user:password@: never logged. */
		char url[1024];

		log_info("flowmon started", "version", FLOWMON_VERSION,
		    "listen", cfg.listen,
		    "data_dir", cfg.data_dir,
		    "reload_url", url_redact_list(cfg.reload_url != NULL ?
		    cfg.reload_url : "", url, sizeof(url)));
	}

	status = serve(&cfg, h, &lock, &set);
fail:
	/* The front first, so no request is half way through the registry;
	 * then the reloader (a pending reload is dropped: Prometheus reads
	 * the rule files at its own next start or reload anyway). The
	 * listener reconcile and the Docker source go before the front
	 * (they parse through it), task DNS after it (requests wake it). */
	http_set_docker(h, NULL);
	docker_stop(dk);
	listener_stop(lis);
	http_stop(h);
	/* After the front, which shows their figures on /metrics. */
	silence_stop(sil);
	swarmstate_free(ss);
	files_stop(files);
	dns_stop(dns);
	reloader_free(rl);
	/* After the reloader, whose back end may signal the child. */
	supervisor_stop(sv);
	/* After the reloader, whose thread calls it. */
	lifecycle_free(lc);
	taskdns_free(td);
	registry_free(reg);
	history_free(hist);
	promapi_free(prom);
	promtool_free(pt);
	shortcuts_free(sc);
	if (store_ok)
		store_release(&st);
	/* Last: nothing writes in the data dir any more. */
	store_unlock(&lock);
	curl_global_cleanup();
	config_release(&cfg);
	return status;
}
