/* worker.h: a background thread that can be stopped: a lock, a condition
 * variable on the monotonic clock (clock.h), a stop flag, and the threads
 * started on them (at most WORKER_THREADS_MAX, which share all three).
 *
 * A thread waits with worker_wait() (lock held, until a deadline or a
 * wake) or worker_sleep() (lock not held); worker_cancel() sets the flag
 * and wakes every waiter at once, so a stop never waits out a backoff.
 * The flag also aborts a libcurl transfer in flight (httpbody_easy() with
 * worker_stop_flag()). A struct worker without threads is fine: it is a
 * cancellable sleep for code that runs on someone else's thread. */
#ifndef FLOWMON_WORKER_H
#define FLOWMON_WORKER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "service.h"

#define WORKER_THREADS_MAX	2
/* worker_wait()'s deadline for "until woken". */
#define WORKER_FOREVER		INT64_MAX

struct worker {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* on CLOCK_MONOTONIC */
	int		 stop;		/* atomic: set once, by worker_cancel */
	int		 nthreads;
	pthread_t	 threads[WORKER_THREADS_MAX];
};

/* Fills w: lock, condition, no thread, not stopping. 0, or -1 with err. */
int	 worker_init(struct worker *w, char err[ERR_MAX]);
/* Starts fn(arg) on a new thread of w; what names it in err ("reloader"
 * gives "cannot start the reloader thread: ..."). 0, or -1 with err. */
int	 worker_start(struct worker *w, void *(*fn)(void *), void *arg,
	    const char *what, char err[ERR_MAX]);

/* 1 once worker_cancel() was called. Any thread, lock held or not. */
int	 worker_stopping(struct worker *w);
/* The stop flag itself (read atomically), for httpbody_easy(). */
const int *worker_stop_flag(struct worker *w);

void	 worker_lock(struct worker *w);
void	 worker_unlock(struct worker *w);
/* Wakes every waiter; the lock held. */
void	 worker_signal(struct worker *w);
/* With the lock held: waits until deadline (clock_ms() time, or
 * WORKER_FOREVER), a wake, a stop or a spurious wake-up; the caller
 * re-checks its condition (and worker_stopping()) either way. */
void	 worker_wait(struct worker *w, int64_t deadline);
/* With the lock held: waits until deadline, however often woken, unless
 * stopped. 0 at the deadline, -1 once stopping. */
int	 worker_wait_stop(struct worker *w, int64_t deadline);
/* Without the lock: sleeps ms unless stopped meanwhile. 0, or -1 once
 * stopping. */
int	 worker_sleep(struct worker *w, int64_t ms);

/* Sets the stop flag and wakes every waiter; does not wait. Any thread,
 * without the lock. */
void	 worker_cancel(struct worker *w);
/* Waits for every thread of w to return. */
void	 worker_join(struct worker *w);
/* worker_cancel(), then worker_join(). */
void	 worker_stop(struct worker *w);
/* Frees the lock and the condition; the threads must be joined. */
void	 worker_release(struct worker *w);

/* The process's signals, taken by the main thread alone. Blocks SIGINT,
 * SIGTERM and SIGHUP (into set) in the caller and so in every thread it
 * starts afterwards, and ignores SIGPIPE (a closed socket never kills the
 * process): call before the first thread starts. */
void	 worker_block_signals(sigset_t *set);
/* Waits for a signal of set: SIGHUP calls on_hup(ctx) (NULL: none) and
 * waits on; SIGINT or SIGTERM returns its name. Every tick_ms meanwhile
 * (0: never) on_tick(ctx) runs; when it returns non-zero, so does this,
 * with NULL. */
const char *worker_wait_signals(const sigset_t *set, void (*on_hup)(void *),
	    int (*on_tick)(void *), long tick_ms, void *ctx);

#endif
