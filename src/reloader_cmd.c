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

#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "expo.h"
#include "reloader.h"
#include "reloader_cmd.h"
#include "url.h"
#include "watch.h"
#include "worker.h"

/* What the scans and reloads saw, for /metrics. */
struct rc_stats {
	uint64_t	 hash;
	size_t		 files;
	int		 missing;
	uint64_t	 changes;
	time_t		 last_change;
	int64_t		 last_change_ms;	/* clock_ms() */
	uint64_t	 scans[WATCH_SETTLE + 1];
	uint64_t	 scan_errors;
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

/* Called by the watcher: rescans rules/ and triggers a reload when the
 * hash moved. A scan that cannot read the directory changes nothing. */
static int
rc_scan(void *arg, enum watch_why why, const struct watch_name *names,
    size_t nnames)
{
	struct rc *c = arg;
	struct watch_snap s;
	char err[ERR_MAX], hex[20], n[24];
	int changed = 0, settling, was_missing;

	/* One directory, hashed whole: the names add nothing. */
	(void)names;
	(void)nnames;
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
		c->st.last_change_ms = clock_ms();
		changed = 1;
	}
	settling = c->st.changes > 0 && clock_since(c->st.last_change_ms) <
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

/* The text of /metrics, malloc'd; NULL on ENOMEM. */
static char *
rc_metrics(struct rc *c)
{
	static const char *const scans = "flowmon_reloader_scans_total";
	struct buf b = BUF_INIT;
	struct reloader_stats s;
	struct rc_stats snap;
	int why;

	reloader_stats(c->rl, &s);
	pthread_mutex_lock(&c->lock);
	snap = c->st;
	pthread_mutex_unlock(&c->lock);
	reloader_expo(&b, "flowmon_reloader_", &s);
	expo_counter(&b, "flowmon_reloader_changes_total", "Changes of the "
	    "rule files' hash.", (long long)snap.changes);
	expo_gauge(&b, "flowmon_reloader_last_change_timestamp_seconds",
	    "Time the hash last changed, 0 if never since start.",
	    (long long)snap.last_change);
	expo_gauge(&b, "flowmon_reloader_rule_files", "Rule files (*.yml) "
	    "seen by the last scan.", (long long)snap.files);
	expo_gauge(&b, "flowmon_reloader_rules_dir_missing", "1 if the rules "
	    "dir does not exist.", snap.missing);
	expo_family(&b, scans, EXPO_COUNTER, "Scans of the rules dir, by what "
	    "started them.");
	for (why = WATCH_START; why <= WATCH_SETTLE; why++)
		expo_sample(&b, scans, (long long)snap.scans[why], "trigger",
		    rc_why_names[why], NULL);
	expo_counter(&b, "flowmon_reloader_scan_errors_total", "Scans that "
	    "could not read the rules dir.", (long long)snap.scan_errors);
	expo_gauge(&b, "flowmon_reloader_inotify", "1 while inotify watches "
	    "the rules dir (0: polling only).", watch_inotify_active(c->w));
	expo_process(&b, "reloader", (long long)c->started);
	return buf_detach(&b, NULL);
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
		type = EXPO_CONTENT_TYPE;
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



/* SIGHUP forces a reload. */
static void
rc_hup(void *arg)
{
	struct rc *c = arg;

	log_info("SIGHUP: reloading Prometheus");
	reloader_trigger(c->rl);
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
	char err[ERR_MAX], poll[32], delay[32], shown[ERR_MAX];
	const char *dirs[1];
	struct MHD_Daemon *d = NULL;
	struct rc c;
	sigset_t set;
	void *arg;
	int rc, status = 1, curl_ok = 0, lock_ok = 0;

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
	/* As in the daemon: signals go to the main thread only. */
	worker_block_signals(&set);

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
	if ((c.rl = reloader_new(&reload_http_backend, arg, c.o.reload_delay_ms,
	    0, NULL, err)) == NULL) {
		log_error("cannot start the reloader", "err", err);
		goto out;
	}
	/* While the hash moves, look again at half the quiet delay, so that
	 * a burst keeps restarting the quiet timer even when only polling
	 * sees it: one reload per burst, not one per poll interval. */
	dirs[0] = c.rules_dir;
	if ((c.w = watch_start(dirs, 1, !c.o.no_inotify, c.o.poll_ms,
	    c.o.reload_delay_ms / 2 > 100 ? c.o.reload_delay_ms / 2 : 100,
	    1, rc_scan, &c, err)) == NULL) {
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
	/* The URL may carry user:password@: never logged. */
	snprintf(delay, sizeof(delay), "%ldms", c.o.reload_delay_ms);
	log_info("flowmon reloader started", "version", FLOWMON_VERSION,
	    "rules_dir", c.rules_dir, "reload_url", url_redact_list(
	    c.o.reload_url, shown, sizeof(shown)),
	    "listen", c.o.listen != NULL ? c.o.listen : "none",
	    "poll_interval", poll, "reload_delay", delay,
	    "inotify", watch_inotify_active(c.w) ? "on" : "off");

	log_info("flowmon reloader stopping", "signal", worker_wait_signals(
	    &set, rc_hup, NULL, 0, &c));
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
