/* reloader.c: the reload thread: folds bursts of triggers into one reload
 * after a quiet time and retries failed reloads with capped backoff,
 * whichever back end actually makes Prometheus reload. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reloader.h"

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

	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	/* Below: guarded by lock. Times are CLOCK_MONOTONIC milliseconds. */
	int64_t			 last_trigger;
	int64_t			 first_wait;	/* oldest trigger not yet
						   covered, 0: none */
	int64_t			 retry_at;	/* 0: no backoff running */
	long			 backoff_ms;	/* after the next failure */
	int			 dirty;
	int			 stop;
	struct reloader_stats	 st;
};

static int64_t
reloader_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until due (monotonic ms), a signal, or a spurious wake-up; the
 * caller re-checks its condition either way. Called with lock held. */
static void
reloader_wait_until(struct reloader *r, int64_t due)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due / 1000);
	ts.tv_nsec = (long)(due % 1000) * 1000000;
	pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

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

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		if (!r->st.pending) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		due = r->last_trigger + r->delay_ms;
		if (r->max_delay_ms > 0 && r->first_wait != 0 &&
		    r->first_wait + r->max_delay_ms < due)
			due = r->first_wait + r->max_delay_ms;
		if (r->retry_at > due)
			due = r->retry_at;
		start = reloader_now_ms();
		if (start < due) {
			reloader_wait_until(r, due);
			continue;
		}
		r->dirty = 0;
		r->first_wait = 0;
		pthread_mutex_unlock(&r->lock);

		/* Outside the lock: an attempt may take up to the back end's
		 * timeout and triggers must never wait for it. */
		if (r->hooks.before != NULL)
			r->hooks.before(r->hooks.ctx);
		err[0] = '\0';
		rc = r->backend->reload(r->arg, err);
		if (rc != FM_OK && err[0] == '\0')
			snprintf(err, sizeof(err), "%s reload failed",
			    r->backend->name);
		end = reloader_now_ms();

		pthread_mutex_lock(&r->lock);
		wait = reloader_record(r, rc, err, end);
		pthread_mutex_unlock(&r->lock);
		reloader_report(r, rc, err, end - start, wait);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
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
	start = reloader_now_ms();
	err[0] = '\0';
	rc = r->backend->reload(r->arg, err);
	if (rc != FM_OK && err[0] == '\0')
		snprintf(err, ERR_MAX, "%s reload failed", r->backend->name);
	end = reloader_now_ms();
	pthread_mutex_lock(&r->lock);
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
	pthread_mutex_unlock(&r->lock);
	reloader_report_quiet(r, rc, err, end - start);
	return rc;
}

struct reloader *
reloader_new(const struct reload_backend *backend, void *arg, long delay_ms,
    long max_delay_ms, const struct reloader_hooks *hooks, char err[ERR_MAX])
{
	struct reloader *r = NULL;
	pthread_condattr_t ca;
	int ca_ok = 0, lock_ok = 0, cond_ok = 0, e = 0;

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

	/* Monotonic, so a wall clock step neither fires nor stalls a reload. */
	if ((e = pthread_condattr_init(&ca)) != 0)
		goto fail;
	ca_ok = 1;
	if ((e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0)
		goto fail;
	if ((e = pthread_mutex_init(&r->lock, NULL)) != 0)
		goto fail;
	lock_ok = 1;
	if ((e = pthread_cond_init(&r->cond, &ca)) != 0)
		goto fail;
	cond_ok = 1;
	if ((e = pthread_create(&r->thread, NULL, reloader_main, r)) != 0)
		goto fail;
	pthread_condattr_destroy(&ca);
	return r;

fail:
	if (e != 0)
		snprintf(err, ERR_MAX, "cannot start the reloader: %s",
		    strerror(e));
	if (cond_ok)
		pthread_cond_destroy(&r->cond);
	if (lock_ok)
		pthread_mutex_destroy(&r->lock);
	if (ca_ok)
		pthread_condattr_destroy(&ca);
	free(r);
	if (backend != NULL && backend->free != NULL)
		backend->free(arg);
	return NULL;
}

void
reloader_set_hooks(struct reloader *r, const struct reloader_hooks *hooks)
{
	/* The thread reads them after the lock that a trigger takes. */
	pthread_mutex_lock(&r->lock);
	r->hooks = *hooks;
	pthread_mutex_unlock(&r->lock);
}

void
reloader_trigger(struct reloader *r)
{
	pthread_mutex_lock(&r->lock);
	r->st.triggers++;
	if (r->backend != NULL) {
		r->st.pending = 1;
		r->dirty = 1;
		r->last_trigger = reloader_now_ms();
		if (r->first_wait == 0)
			r->first_wait = r->last_trigger;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

void
reloader_stats(struct reloader *r, struct reloader_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

void
reloader_free(struct reloader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (r->backend != NULL && r->backend->cancel != NULL)
		r->backend->cancel(r->arg);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	if (r->backend != NULL && r->backend->free != NULL)
		r->backend->free(r->arg);
	free(r);
}
