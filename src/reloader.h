/* reloader.h: asks Prometheus to reload its rules, once per burst: a
 * trigger starts (or restarts) a quiet timer; when it runs out the reload is
 * sent through a back end (HTTP POST to every URL, or a signal), retried with
 * backoff while it fails, and the outcome recorded. */
#ifndef FLOWMON_RELOADER_H
#define FLOWMON_RELOADER_H

#include <stdint.h>
#include <time.h>

#include "err.h"
#include "service.h"

/* A way to make one Prometheus reload. reload says how it went: FM_OK;
 * FM_REFUSED when Prometheus answered but could not load the new rules
 * (a rule file it refuses); FM_RETRY when it did not answer or was busy;
 * FM_FATAL when asking again will not help (the endpoint is off or
 * wrong). err says what happened. FM_REFUSED and FM_RETRY are retried. */
struct reload_backend {
	const char *name;
	enum fm_err (*reload)(void *arg, char err[ERR_MAX]);
	void	  (*free)(void *arg);
	/* Optional, any thread: make an attempt in progress return soon
	 * (reloader_free calls it before waiting for the thread). */
	void	  (*cancel)(void *arg);
};

/* HTTP back end: POST <url>/-/reload style URLs given as a comma list; every
 * URL is posted, all must succeed. Returns NULL with err if the list is
 * empty, a URL is not http(s) or timeout_ms is not positive. The returned
 * arg is freed by backend->free. It uses libcurl: main calls
 * curl_global_init(CURL_GLOBAL_DEFAULT) once before any thread starts
 * (tests call it themselves). Each attempt allows 2 s to connect and
 * timeout_ms (--reload-timeout) in all: Prometheus answers once reloaded,
 * which takes it tens of seconds for 10,000 rule files (bench/README.md).
 * 2xx is success, 500 is FM_REFUSED (Prometheus's answer to a
 * configuration it cannot load), transport errors (a timeout too, its
 * message naming --reload-timeout), other 5xx, 408 and 429 are FM_RETRY,
 * other answers FM_FATAL; with several URLs the worst of them counts
 * (refused, then retry, then fatal). err is `POST <url>: connection
 * refused` or `POST <url> answered 403: <start of the body>`, one such
 * part per failed URL joined by "; ". */
void	*reload_http_new(const char *urls, long timeout_ms, char err[ERR_MAX]);
/* Authenticates every reload of arg (from reload_http_new) with the first
 * line of file (--reload-auth-file): `user:password` for HTTP basic auth,
 * anything without ':' as a bearer token. Messages and errors show URLs
 * with their password as *** (url_redact). 0, or -1 with err (no secret
 * in it). */
int	 reload_http_set_auth(void *arg, const char *file, char err[ERR_MAX]);
/* vmalert (1.79) answers POST /-/reload with 200 before it reloads. When
 * a URL ends in /-/reload and <base>/metrics shows vmalert's reload
 * counters (asked once per URL, at its first reload), each reload is
 * verified there: the back end waits (up to timeout_ms from the POST)
 * until vmalert reports it over, and a reload vmalert failed is
 * FM_REFUSED, as Prometheus's 500 is. Any other server is posted to
 * exactly as before. */
extern const struct reload_backend reload_http_backend;

/* Reloads made by a signal (supervisor.c: SIGHUP to the Prometheus child
 * started without the lifecycle API), verified in Prometheus's own
 * /metrics at base (its HTTP API: web address and route prefix), as
 * vmalert's reloads are: reload_signal() reads
 * prometheus_config_last_reload_successful and ..._success_timestamp_
 * seconds, calls send(ctx, err) (FM_OK once the signal is sent, else the
 * kind to return with err), then waits, up to timeout_ms, for a success
 * time past the signal (FM_OK) or the gauge falling to 0 (FM_REFUSED,
 * as a Prometheus 500); when it was 0 already, no success within a grace
 * time counts as refused (reload_http.c says why). No answer before the
 * signal, or none in time after it: FM_RETRY. A /metrics without the
 * gauges (authentication, not Prometheus): the signal is sent
 * unverified, as send says, with one warning. reload_signal_new() makes
 * the arg, freed and cancelled by reload_http_backend's free and
 * cancel; NULL with err. */
void	*reload_signal_new(const char *base, long timeout_ms,
	    char err[ERR_MAX]);
typedef enum fm_err (*reload_send_fn)(void *ctx, char err[ERR_MAX]);
enum fm_err reload_signal(void *arg, reload_send_fn send, void *ctx,
	    char err[ERR_MAX]);

struct reloader_stats {
	uint64_t triggers;	/* reloader_trigger() calls */
	uint64_t ok;		/* successful reloads */
	uint64_t failed;	/* failed attempts (each retry counts) */
	int	 last_success;	/* 1 if the last attempt succeeded (1 at start) */
	time_t	 last_time;	/* time of the last attempt, 0 if none */
	time_t	 last_ok_time;	/* time of the last success, 0 if none */
	int	 pending;	/* a reload is waiting or being retried */
	char	 last_error[ERR_MAX];	/* last attempt's error, "" if ok */
	int	 configured;	/* a back end reloads (0: no --reload-url nor
				   --run-prometheus, triggers only counted) */
};

/* What the reloader tells its owner, on the reloader's thread and without
 * any reloader lock held. before runs just before each attempt the thread
 * makes by itself (not those of reloader_try()); after runs once it is
 * booked, with the back end's kind and, unless FM_OK, its message
 * (borrowed, valid during the call). Either may be NULL. */
struct reloader_hooks {
	void	 (*before)(void *ctx);
	void	 (*after)(void *ctx, enum fm_err kind, const char *error);
	void	 *ctx;
};

/* Starts the reloader thread. backend/arg may be NULL: then triggers are
 * counted but nothing is sent. delay_ms is the quiet time; max_delay_ms
 * (0: none) bounds how long a waiting change can be put off by newer
 * triggers. hooks may be NULL; it is copied. Takes ownership of arg, also
 * on failure (it is freed then). NULL with err on failure. Failed
 * retryable reloads are retried after 1 s, 2 s, 4 s ... up to 30 s; a
 * permanent failure is not retried until the next trigger. */
struct reloader *reloader_new(const struct reload_backend *backend, void *arg,
	    long delay_ms, long max_delay_ms,
	    const struct reloader_hooks *hooks, char err[ERR_MAX]);
/* Makes hooks (copied) r's hooks, in place of those given to
 * reloader_new(): for an owner made after the reloader. Call before the
 * first reloader_trigger(). */
void	 reloader_set_hooks(struct reloader *r,
	    const struct reloader_hooks *hooks);
/* A rule file changed: reload once no trigger came for delay_ms. Cheap and
 * non-blocking; safe from any thread. */
void	 reloader_trigger(struct reloader *r);
void	 reloader_stats(struct reloader *r, struct reloader_stats *out);
/* The statistics s in the text exposition format, each series named
 * <prefix><name>: reloads_total{outcome}, last_reload_successful,
 * last_reload_timestamp_seconds, last_reload_success_timestamp_seconds,
 * reload_pending. The daemon's prefix is "flowmon_", `flowmon
 * reloader`'s "flowmon_reloader_". Errors show in b->failed. */
struct buf;
void	 reloader_expo(struct buf *b, const char *prefix,
	    const struct reloader_stats *s);
/* One reload attempt now, through the back end, counted in the stats (a
 * success also settles a pending retry). For the after hook, which runs on
 * the reloader's thread, so attempts never overlap. The back end's kind,
 * with err unless FM_OK. */
enum fm_err reloader_try(struct reloader *r, char err[ERR_MAX]);
/* Stops the thread (a pending reload is dropped) and frees r. NULL ok.
 * Returns at once from a quiet time or a backoff; an attempt already on the
 * wire is cancelled through the back end's cancel (HTTP has one), else
 * waited for (bounded by the back end's timeout). */
void	 reloader_free(struct reloader *r);

#endif
