/* reloader_cmd.c: `flowmon reloader`, one per Prometheus replica. It
 * watches <data-dir>/rules/ (inotify plus polling: a write by the flowmon
 * daemon on another NFS client raises no inotify event here), keeps a hash
 * of the *.yml files' names and contents, and when it changes asks its
 * Prometheus to reload through the same debounced, retrying reloader the
 * daemon uses. It serves its own /metrics. It never writes to the data
 * dir: the daemon owns it. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reloader.h"
#include "reloader_cmd.h"
#include "watch.h"

/* What the scans and reloads saw, for /metrics. */
struct rc_stats {
	uint64_t	 hash;
	size_t		 files;
	int		 missing;
	uint64_t	 changes;
	time_t		 last_change;
	struct timespec	 last_change_mono;
	uint64_t	 scans[WATCH_SETTLE + 1];
	uint64_t	 scan_errors;
	time_t		 last_success;
};

struct rc {
	struct config	 o;		/* the option table's (config.h) */
	char		*rules_dir;
	struct reloader	*rl;
	struct watch	*w;
	time_t		 started;
	pthread_mutex_t	 lock;		/* guards st */
	struct rc_stats	 st;
};

static const char *const rc_why_names[] = {
	[WATCH_START] = "start", [WATCH_EVENT] = "inotify",
	[WATCH_POLL] = "poll", [WATCH_SETTLE] = "settle",
};

static int64_t
rc_since_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Called by the watcher: rescans rules/ and triggers a reload when the
 * hash moved. A scan that cannot read the directory changes nothing. */
static int
rc_scan(void *arg, enum watch_why why)
{
	struct rc *c = arg;
	struct watch_snap s;
	char err[ERR_MAX], hex[20], n[24];
	int changed = 0, settling, was_missing;

	memset(&s, 0, sizeof(s));
	if (watch_snap_take(c->rules_dir, ".yml", 0, &s, err) == -1) {
		pthread_mutex_lock(&c->lock);
		c->st.scan_errors++;
		pthread_mutex_unlock(&c->lock);
		log_warn("cannot scan the rule files", "error", err);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	c->st.scans[why]++;
	c->st.files = s.n;
	was_missing = c->st.missing;
	c->st.missing = s.missing;
	if (why == WATCH_START)
		c->st.hash = s.hash;
	else if (s.hash != c->st.hash) {
		c->st.hash = s.hash;
		c->st.changes++;
		c->st.last_change = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &c->st.last_change_mono);
		changed = 1;
	}
	settling = c->st.changes > 0 && rc_since_ms(&c->st.last_change_mono) <
	    c->o.reload_delay_ms;
	pthread_mutex_unlock(&c->lock);

	snprintf(hex, sizeof(hex), "%016" PRIx64, s.hash);
	snprintf(n, sizeof(n), "%zu", s.n);
	if (s.missing && (why == WATCH_START || !was_missing))
		log_warn("rules dir does not exist (yet)", "dir", c->rules_dir);
	if (why == WATCH_START)
		log_info("watching rule files", "dir", c->rules_dir,
		    "files", n, "hash", hex);
	else if (changed) {
		log_info("rule files changed", "files", n, "hash", hex,
		    "seen_by", rc_why_names[why]);
		reloader_trigger(c->rl);
	}
	watch_snap_release(&s);
	/* Keep looking closely until the files were quiet for the whole
	 * delay: polling then sees a burst as one, however long it lasts. */
	return changed || settling;
}

static void
rc_on_result(void *arg, enum fm_err kind, const char *error)
{
	struct rc *c = arg;

	(void)error;	/* the reloader logged it */
	if (kind != FM_OK)
		return;
	pthread_mutex_lock(&c->lock);
	c->st.last_success = time(NULL);
	pthread_mutex_unlock(&c->lock);
}

/* The text of /metrics, malloc'd; NULL on ENOMEM. */
static char *
rc_metrics(struct rc *c)
{
	struct metrics_buf b = { NULL, 0, 0 };
	struct reloader_stats s;
	struct rc_stats snap;
	int rc;

	reloader_stats(c->rl, &s);
	pthread_mutex_lock(&c->lock);
	snap = c->st;
	pthread_mutex_unlock(&c->lock);
	rc = metrics_append(&b,
	    "# HELP flowmon_reloader_reloads_total Prometheus reload attempts, "
	    "by outcome (each retry counts).\n"
	    "# TYPE flowmon_reloader_reloads_total counter\n"
	    "flowmon_reloader_reloads_total{outcome=\"success\"} %" PRIu64 "\n"
	    "flowmon_reloader_reloads_total{outcome=\"failure\"} %" PRIu64 "\n"
	    "# HELP flowmon_reloader_last_reload_successful 1 if the last "
	    "reload attempt succeeded.\n"
	    "# TYPE flowmon_reloader_last_reload_successful gauge\n"
	    "flowmon_reloader_last_reload_successful %d\n"
	    "# HELP flowmon_reloader_last_reload_timestamp_seconds Time of the "
	    "last reload attempt, 0 if none.\n"
	    "# TYPE flowmon_reloader_last_reload_timestamp_seconds gauge\n"
	    "flowmon_reloader_last_reload_timestamp_seconds %lld\n"
	    "# HELP flowmon_reloader_last_reload_success_timestamp_seconds "
	    "Time of the last successful reload, 0 if none.\n"
	    "# TYPE flowmon_reloader_last_reload_success_timestamp_seconds "
	    "gauge\n"
	    "flowmon_reloader_last_reload_success_timestamp_seconds %lld\n"
	    "# HELP flowmon_reloader_reload_pending 1 while a reload waits for "
	    "quiet or is retried.\n"
	    "# TYPE flowmon_reloader_reload_pending gauge\n"
	    "flowmon_reloader_reload_pending %d\n"
	    "# HELP flowmon_reloader_changes_total Changes of the rule files' "
	    "hash.\n"
	    "# TYPE flowmon_reloader_changes_total counter\n"
	    "flowmon_reloader_changes_total %" PRIu64 "\n"
	    "# HELP flowmon_reloader_last_change_timestamp_seconds Time the "
	    "hash last changed, 0 if never since start.\n"
	    "# TYPE flowmon_reloader_last_change_timestamp_seconds gauge\n"
	    "flowmon_reloader_last_change_timestamp_seconds %lld\n"
	    "# HELP flowmon_reloader_rule_files Rule files (*.yml) seen by the "
	    "last scan.\n"
	    "# TYPE flowmon_reloader_rule_files gauge\n"
	    "flowmon_reloader_rule_files %zu\n"
	    "# HELP flowmon_reloader_rules_dir_missing 1 if the rules dir does "
	    "not exist.\n"
	    "# TYPE flowmon_reloader_rules_dir_missing gauge\n"
	    "flowmon_reloader_rules_dir_missing %d\n"
	    "# HELP flowmon_reloader_scans_total Scans of the rules dir, by "
	    "what started them.\n"
	    "# TYPE flowmon_reloader_scans_total counter\n"
	    "flowmon_reloader_scans_total{trigger=\"start\"} %" PRIu64 "\n"
	    "flowmon_reloader_scans_total{trigger=\"inotify\"} %" PRIu64 "\n"
	    "flowmon_reloader_scans_total{trigger=\"poll\"} %" PRIu64 "\n"
	    "flowmon_reloader_scans_total{trigger=\"settle\"} %" PRIu64 "\n"
	    "# HELP flowmon_reloader_scan_errors_total Scans that could not "
	    "read the rules dir.\n"
	    "# TYPE flowmon_reloader_scan_errors_total counter\n"
	    "flowmon_reloader_scan_errors_total %" PRIu64 "\n"
	    "# HELP flowmon_reloader_inotify 1 while inotify watches the rules "
	    "dir (0: polling only).\n"
	    "# TYPE flowmon_reloader_inotify gauge\n"
	    "flowmon_reloader_inotify %d\n"
	    "# HELP flowmon_build_info flowmon's version.\n"
	    "# TYPE flowmon_build_info gauge\n"
	    "flowmon_build_info{version=\"%s\"} 1\n"
	    "# HELP flowmon_start_time_seconds Start time of the reloader.\n"
	    "# TYPE flowmon_start_time_seconds gauge\n"
	    "flowmon_start_time_seconds %lld\n",
	    s.ok, s.failed, s.last_success, (long long)s.last_time,
	    (long long)snap.last_success, s.pending, snap.changes,
	    (long long)snap.last_change, snap.files, snap.missing,
	    snap.scans[WATCH_START], snap.scans[WATCH_EVENT],
	    snap.scans[WATCH_POLL], snap.scans[WATCH_SETTLE],
	    snap.scan_errors, watch_inotify_active(c->w), FLOWMON_VERSION,
	    (long long)c->started);
	if (rc == -1) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static enum MHD_Result
rc_handler(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct rc *c = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *type = "text/plain; charset=utf-8";
	char *body = NULL;
	unsigned int code = 200;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = c;	/* headers seen; answer on the next call */
		return MHD_YES;
	}
	*upload_data_size = 0;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		code = 405;
		body = strdup("only GET and HEAD\n");
	} else if (strcmp(url, "/metrics") == 0) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		if ((body = rc_metrics(c)) == NULL)
			code = 500;
	} else if (strcmp(url, "/-/healthy") == 0 ||
	    strcmp(url, "/-/ready") == 0) {
		body = strdup("OK\n");
	} else if (strcmp(url, "/") == 0) {
		body = strdup("flowmon reloader: see /metrics\n");
	} else {
		code = 404;
		body = strdup("not found: see /metrics\n");
	}
	if (body == NULL && (body = strdup("out of memory\n")) == NULL)
		return MHD_NO;
	if (body == NULL)
		code = 500;
	resp = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(mc, code, resp);
	MHD_destroy_response(resp);
	return ret;
}



static struct MHD_Daemon *
rc_serve(struct rc *c, char err[ERR_MAX])
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | MHD_USE_POLL;

	if (http_listen_addr(c->o.listen, &ss, err) == -1)
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, 0, NULL, NULL, rc_handler, c,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, c,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, 64U,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30U,
	    MHD_OPTION_END);
	if (d == NULL)
		snprintf(err, ERR_MAX, "cannot listen on %.200s (address in "
		    "use or not local?)", c->o.listen);
	return d;
}

int
reloader_cmd_main(int argc, char **argv)
{
	char err[ERR_MAX], poll[32], delay[32];
	const char *dirs[1];
	struct MHD_Daemon *d = NULL;
	struct reloader_hooks hooks = { NULL, NULL, NULL };
	struct rc c;
	sigset_t set;
	void *arg;
	int rc, sig, status = 1, curl_ok = 0, lock_ok = 0;

	memset(&c, 0, sizeof(c));
	if ((rc = config_parse(&c.o, CONFIG_RELOADER, argc, argv, err)) == 0 &&
	    c.o.reload_url == NULL) {
		snprintf(err, ERR_MAX, "--reload-url is required (the "
		    "Prometheus to reload, e.g. "
		    "http://127.0.0.1:9090/-/reload)");
		rc = -1;
	}
	if (rc != 0) {
		config_release(&c.o);
		if (rc == 1)
			return 0;
		fprintf(stderr, "flowmon reloader: %s\n", err);
		return 2;
	}
	/* As in the daemon: signals go to sigwait() only, every thread
	 * inherits the mask, a closed socket never kills the process. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	c.started = time(NULL);
	pthread_mutex_init(&c.lock, NULL);
	lock_ok = 1;
	if (asprintf(&c.rules_dir, "%s/rules", c.o.data_dir) < 0) {
		c.rules_dir = NULL;
		log_error("out of memory");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("libcurl initialisation failed");
		goto out;
	}
	curl_ok = 1;
	if ((arg = reload_http_new(c.o.reload_url, c.o.reload_timeout_ms,
	    err)) == NULL) {
		fprintf(stderr, "flowmon reloader: --reload-url: %s\n", err);
		status = 2;
		goto out;
	}
	if (c.o.reload_auth_file != NULL && reload_http_set_auth(arg,
	    c.o.reload_auth_file, err) == -1) {
		fprintf(stderr, "flowmon reloader: --reload-auth-file: %s\n",
		    err);
		reload_http_backend.free(arg);
		status = 2;
		goto out;
	}
	hooks.after = rc_on_result;
	hooks.ctx = &c;
	if ((c.rl = reloader_new(&reload_http_backend, arg, c.o.reload_delay_ms,
	    0, &hooks, err)) == NULL) {
		log_error("cannot start the reloader", "err", err);
		goto out;
	}
	/* While the hash moves, look again at half the quiet delay, so that
	 * a burst keeps restarting the quiet timer even when only polling
	 * sees it: one reload per burst, not one per poll interval. */
	dirs[0] = c.rules_dir;
	if ((c.w = watch_start(dirs, 1, !c.o.no_inotify, c.o.poll_ms,
	    c.o.reload_delay_ms / 2 > 100 ? c.o.reload_delay_ms / 2 : 100,
	    rc_scan, &c, err)) == NULL) {
		log_error("cannot watch the rules dir", "err", err);
		goto out;
	}
	if (c.o.listen != NULL && (d = rc_serve(&c, err)) == NULL) {
		log_error("cannot listen", "listen", c.o.listen, "err", err);
		goto out;
	}
	/* Changes made while no reloader ran are caught up at once. */
	reloader_trigger(c.rl);
	snprintf(poll, sizeof(poll), "%ldms", c.o.poll_ms);
	snprintf(delay, sizeof(delay), "%ldms", c.o.reload_delay_ms);
	log_info("flowmon reloader started", "version", FLOWMON_VERSION,
	    "rules_dir", c.rules_dir, "reload_url", c.o.reload_url,
	    "listen", c.o.listen != NULL ? c.o.listen : "none",
	    "poll_interval", poll, "reload_delay", delay,
	    "inotify", watch_inotify_active(c.w) ? "on" : "off");

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading Prometheus");
			reloader_trigger(c.rl);
			continue;
		}
		log_info("flowmon reloader stopping", "signal",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	status = 0;
out:
	if (d != NULL)
		MHD_stop_daemon(d);
	/* The watcher before the reloader: it triggers it. */
	watch_stop(c.w);
	reloader_free(c.rl);
	if (curl_ok)
		curl_global_cleanup();
	free(c.rules_dir);
	if (lock_ok)
		pthread_mutex_destroy(&c.lock);
	config_release(&c.o);
	return status;
}
