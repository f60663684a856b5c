/* worker.c: the stoppable background thread (see worker.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "worker.h"

int
worker_init(struct worker *w, char err[ERR_MAX])
{
	pthread_condattr_t ca;
	int e;

	memset(w, 0, sizeof(*w));
	if ((e = pthread_condattr_init(&ca)) != 0)
		goto fail;
	/* Monotonic, so a wall clock step neither fires nor stalls a wait. */
	if ((e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (e = pthread_cond_init(&w->cond, &ca)) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	if ((e = pthread_mutex_init(&w->lock, NULL)) != 0) {
		pthread_cond_destroy(&w->cond);
		goto fail;
	}
	return 0;
fail:
	snprintf(err, ERR_MAX, "cannot set up a thread: %s", strerror(e));
	return -1;
}

int
worker_start(struct worker *w, void *(*fn)(void *), void *arg,
    const char *what, char err[ERR_MAX])
{
	int e;

	if (w->nthreads >= WORKER_THREADS_MAX) {
		snprintf(err, ERR_MAX, "cannot start the %s thread: too many",
		    what);
		return -1;
	}
	if ((e = pthread_create(&w->threads[w->nthreads], NULL, fn,
	    arg)) != 0) {
		snprintf(err, ERR_MAX, "cannot start the %s thread: %s", what,
		    strerror(e));
		return -1;
	}
	w->nthreads++;
	return 0;
}

int
worker_stopping(struct worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

const int *
worker_stop_flag(struct worker *w)
{
	return &w->stop;
}

void
worker_lock(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
}

void
worker_unlock(struct worker *w)
{
	pthread_mutex_unlock(&w->lock);
}

void
worker_signal(struct worker *w)
{
	pthread_cond_broadcast(&w->cond);
}

void
worker_wait(struct worker *w, int64_t deadline)
{
	struct timespec ts;

	if (deadline == WORKER_FOREVER) {
		pthread_cond_wait(&w->cond, &w->lock);
		return;
	}
	clock_timespec(deadline, &ts);
	(void)pthread_cond_timedwait(&w->cond, &w->lock, &ts);
}

int
worker_wait_stop(struct worker *w, int64_t deadline)
{
	while (!worker_stopping(w) && clock_ms() < deadline)
		worker_wait(w, deadline);
	return worker_stopping(w) ? -1 : 0;
}

int
worker_sleep(struct worker *w, int64_t ms)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	rc = worker_wait_stop(w, clock_ms() + ms);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void
worker_cancel(struct worker *w)
{
	/* Under the lock: a waiter between its check of the flag and its
	 * wait cannot miss the wake. */
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
worker_join(struct worker *w)
{
	while (w->nthreads > 0)
		pthread_join(w->threads[--w->nthreads], NULL);
}

void
worker_stop(struct worker *w)
{
	worker_cancel(w);
	worker_join(w);
}

void
worker_release(struct worker *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

void
worker_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

const char *
worker_wait_signals(const sigset_t *set, void (*on_hup)(void *),
    int (*on_tick)(void *), long tick_ms, void *ctx)
{
	struct timespec tick;
	int sig;

	clock_timespec(tick_ms, &tick);
	for (;;) {
		sig = tick_ms > 0 ? sigtimedwait(set, NULL, &tick) :
		    sigwaitinfo(set, NULL);
		if (sig == -1) {
			if (tick_ms > 0 && on_tick(ctx))
				return NULL;
			continue;	/* the tick, or EINTR */
		}
		if (sig != SIGHUP)
			return sig == SIGTERM ? "SIGTERM" : "SIGINT";
		if (on_hup != NULL)
			on_hup(ctx);
	}
}
