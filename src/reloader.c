/* reloader.c: the reload thread: folds bursts of triggers into one reload
 * after a quiet time and retries failed reloads with capped backoff,
 * whichever back end actually makes Prometheus reload. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "expo.h"
#include "log.h"
#include "reloader.h"
#include "worker.h"

#define RELOADER_BACKOFF_MIN_MS	1000
#define RELOADER_BACKOFF_MAX_MS	30000

/*
 * State model. pending says a reload is owed. The thread sends it once
 * delay_ms have passed since the newest trigger, or max_delay_ms since the
 * oldest trigger not yet covered by an attempt (first_wait), whichever
 * comes first, so a steady stream of changes cannot put a reload off for
 * ever; after a retryable failure it also waits for the backoff to run
 * out, so a trigger during the backoff neither resets nor shortens it, and
 * one reload still covers all triggers so far. dirty tells the thread
 * whether a trigger arrived while an attempt was on the wire: that attempt
 * may have read the rules before the change, so one more reload is owed
 * even if it succeeded.
 */
struct reloader {
	const struct reload_backend *backend;
	void			*arg;
	long			 delay_ms;
	long			 max_delay_ms;	/* 0: no bound */
	struct reloader_hooks	 hooks;

	struct worker		 w;
	/* Below: guarded by w's lock. Times are clock_ms() milliseconds. */
	int64_t			 last_trigger;
	int64_t			 first_wait;	/* oldest trigger not yet
						   covered, 0: none */
	int64_t			 retry_at;	/* 0: no backoff running */
	long			 backoff_ms;	/* after the next failure */
	int			 dirty;
	struct reloader_stats	 st;
};

/* Books the outcome of one attempt; returns the backoff before the retry in
 * ms, 0 if none follows for this attempt. Called with lock held. */
static long
reloader_record(struct reloader *r, enum fm_err rc, const char *err,
    int64_t now)
{
	long wait = 0;

	r->st.last_time = time(NULL);
	if (rc == FM_OK) {
		r->st.ok++;
		r->st.last_ok_time = r->st.last_time;
		r->st.last_success = 1;
		r->st.last_error[0] = '\0';
		r->st.pending = r->dirty;
		r->retry_at = 0;
		r->backoff_ms = RELOADER_BACKOFF_MIN_MS;
		return 0;
	}
	r->st.failed++;
	r->st.last_success = 0;
	snprintf(r->st.last_error, sizeof(r->st.last_error), "%s", err);
	if (rc != FM_FATAL) {
		wait = r->backoff_ms;
		r->retry_at = now + wait;
		r->backoff_ms = wait * 2 > RELOADER_BACKOFF_MAX_MS ?
		    RELOADER_BACKOFF_MAX_MS : wait * 2;
		return wait;
	}
	/* Permanent: asking again will not help, but a newer change will be
	 * tried once, it may come with a fixed Prometheus. */
	r->st.pending = r->dirty;
	r->retry_at = 0;
	r->backoff_ms = RELOADER_BACKOFF_MIN_MS;
	return 0;
}

static void
reloader_report(struct reloader *r, enum fm_err rc, const char *err,
    int64_t took, long wait)
{
	char ms[32], retry[32];

	snprintf(ms, sizeof(ms), "%" PRId64, took);
	if (rc == FM_OK) {
		log_info("reload succeeded", "backend", r->backend->name,
		    "duration_ms", ms);
	} else {
		if (rc != FM_FATAL)
			snprintf(retry, sizeof(retry), "%ldms", wait);
		else
			snprintf(retry, sizeof(retry), "never");
		log_warn("reload failed", "backend", r->backend->name,
		    "error", err, "kind", fm_err_name(rc), "duration_ms", ms,
		    "retry_in", retry);
	}
	if (r->hooks.after != NULL)
		r->hooks.after(r->hooks.ctx, rc, rc == FM_OK ? NULL : err);
}

/* Logs an attempt made by reloader_try (no result callback: it is the
 * callback's caller). */
static void
reloader_report_quiet(struct reloader *r, enum fm_err rc, const char *err,
    int64_t took)
{
	char ms[32];

	snprintf(ms, sizeof(ms), "%" PRId64, took);
	if (rc == FM_OK)
		log_info("reload succeeded", "backend", r->backend->name,
		    "duration_ms", ms);
	else
		log_info("reload failed", "backend", r->backend->name,
		    "error", err, "duration_ms", ms);
}

static void *
reloader_main(void *p)
{
	struct reloader *r = p;
	char err[ERR_MAX];
	int64_t due, start, end;
	enum fm_err rc;
	long wait;

	worker_lock(&r->w);
	while (!worker_stopping(&r->w)) {
		if (!r->st.pending) {
			worker_wait(&r->w, WORKER_FOREVER);
			continue;
		}
		due = r->last_trigger + r->delay_ms;
		if (r->max_delay_ms > 0 && r->first_wait != 0 &&
		    r->first_wait + r->max_delay_ms < due)
			due = r->first_wait + r->max_delay_ms;
		if (r->retry_at > due)
			due = r->retry_at;
		start = clock_ms();
		if (start < due) {
			worker_wait(&r->w, due);
			continue;
		}
		r->dirty = 0;
		r->first_wait = 0;
		worker_unlock(&r->w);

		/* Outside the lock: an attempt may take up to the back end's
		 * timeout and triggers must never wait for it. */
		if (r->hooks.before != NULL)
			r->hooks.before(r->hooks.ctx);
		err[0] = '\0';
		rc = r->backend->reload(r->arg, err);
		if (rc != FM_OK && err[0] == '\0')
			snprintf(err, sizeof(err), "%s reload failed",
			    r->backend->name);
		end = clock_ms();

		worker_lock(&r->w);
		wait = reloader_record(r, rc, err, end);
		worker_unlock(&r->w);
		reloader_report(r, rc, err, end - start, wait);
		worker_lock(&r->w);
	}
	worker_unlock(&r->w);
	return NULL;
}

enum fm_err
reloader_try(struct reloader *r, char err[ERR_MAX])
{
	int64_t start, end;
	enum fm_err rc;

	if (r->backend == NULL) {
		snprintf(err, ERR_MAX, "no reload back end");
		return FM_FATAL;
	}
	start = clock_ms();
	err[0] = '\0';
	rc = r->backend->reload(r->arg, err);
	if (rc != FM_OK && err[0] == '\0')
		snprintf(err, ERR_MAX, "%s reload failed", r->backend->name);
	end = clock_ms();
	worker_lock(&r->w);
	/* A failure here schedules no retry of its own: the caller is in
	 * the middle of one already. */
	if (rc == FM_OK)
		(void)reloader_record(r, rc, err, end);
	else {
		r->st.failed++;
		r->st.last_success = 0;
		r->st.last_time = time(NULL);
		snprintf(r->st.last_error, sizeof(r->st.last_error), "%s",
		    err);
	}
	worker_unlock(&r->w);
	reloader_report_quiet(r, rc, err, end - start);
	return rc;
}

struct reloader *
reloader_new(const struct reload_backend *backend, void *arg, long delay_ms,
    long max_delay_ms, const struct reloader_hooks *hooks, char err[ERR_MAX])
{
	struct reloader *r = NULL;

	if (delay_ms < 0 || max_delay_ms < 0) {
		snprintf(err, ERR_MAX, "reload delay %ldms or its bound %ldms "
		    "is negative", delay_ms, max_delay_ms);
		goto fail;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, ERR_MAX, "cannot allocate the reloader");
		goto fail;
	}
	r->backend = backend;
	r->arg = arg;
	r->delay_ms = delay_ms;
	r->max_delay_ms = max_delay_ms;
	if (hooks != NULL)
		r->hooks = *hooks;
	r->backoff_ms = RELOADER_BACKOFF_MIN_MS;
	r->st.last_success = 1;
	if (worker_init(&r->w, err) == -1)
		goto fail;
	if (worker_start(&r->w, reloader_main, r, "reloader", err) == -1) {
		worker_release(&r->w);
		goto fail;
	}
	return r;

fail:
	free(r);
	if (backend != NULL && backend->free != NULL)
		backend->free(arg);
	return NULL;
}

void
reloader_set_hooks(struct reloader *r, const struct reloader_hooks *hooks)
{
	/* The thread reads them after the lock that a trigger takes. */
	worker_lock(&r->w);
	r->hooks = *hooks;
	worker_unlock(&r->w);
}

void
reloader_trigger(struct reloader *r)
{
	worker_lock(&r->w);
	r->st.triggers++;
	if (r->backend != NULL) {
		r->st.pending = 1;
		r->dirty = 1;
		r->last_trigger = clock_ms();
		if (r->first_wait == 0)
			r->first_wait = r->last_trigger;
		worker_signal(&r->w);
	}
	worker_unlock(&r->w);
}

void
reloader_stats(struct reloader *r, struct reloader_stats *out)
{
	worker_lock(&r->w);
	*out = r->st;
	worker_unlock(&r->w);
	out->configured = r->backend != NULL;
}

void
reloader_expo(struct buf *b, const char *prefix,
    const struct reloader_stats *s)
{
	static const struct {
		const char	*name;
		enum expo_type	 type;
		const char	*help;
	} f[] = {
		{ "reloads_total", EXPO_COUNTER, "Prometheus reload attempts, "
		    "by outcome (each retry counts)." },
		{ "last_reload_successful", EXPO_GAUGE, "1 if the last reload "
		    "attempt succeeded." },
		{ "last_reload_timestamp_seconds", EXPO_GAUGE, "Time of the "
		    "last reload attempt, 0 if none." },
		{ "last_reload_success_timestamp_seconds", EXPO_GAUGE, "Time "
		    "of the last successful reload, 0 if none." },
		{ "reload_pending", EXPO_GAUGE, "1 while a reload waits for "
		    "quiet or is retried." },
	};
	const long long v[] = { 0, s->last_success, (long long)s->last_time,
	    (long long)s->last_ok_time, s->pending };
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, f[i].name);
		expo_family(b, name, f[i].type, f[i].help);
		if (i > 0) {
			expo_sample(b, name, v[i], NULL);
			continue;
		}
		expo_sample(b, name, (long long)s->ok, "outcome", "success",
		    NULL);
		expo_sample(b, name, (long long)s->failed, "outcome",
		    "failure", NULL);
	}
}

void
reloader_free(struct reloader *r)
{
	if (r == NULL)
		return;
	worker_cancel(&r->w);
	if (r->backend != NULL && r->backend->cancel != NULL)
		r->backend->cancel(r->arg);
	worker_join(&r->w);
	worker_release(&r->w);
	if (r->backend != NULL && r->backend->free != NULL)
		r->backend->free(r->arg);
	free(r);
}
