/* clock.h: the one monotonic clock, in milliseconds: every timeout,
 * debounce, backoff and duration in flowmon is measured on it, so a step
 * of the wall clock neither fires nor stalls anything. */
#ifndef FLOWMON_CLOCK_H
#define FLOWMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (from an arbitrary start). */
int64_t	 clock_ms(void);
/* Milliseconds elapsed since t (a clock_ms() value). */
int64_t	 clock_since(int64_t t);
/* Milliseconds since 1970 on the wall clock: only to show people when
 * something happened, never to measure. */
int64_t	 clock_wall_ms(void);
/* The same in microseconds: to compare with a time another process took
 * on this host's wall clock (Prometheus's reload time, reload_http.c). */
int64_t	 clock_wall_us(void);
/* Unix time ms (clock_wall_ms()) as RFC 3339 in UTC with milliseconds
 * (2024-11-24T18:30:00.123Z), into out: the one time format of logs and
 * answers. */
void	 clock_rfc3339(int64_t unix_ms, char out[32]);
/* The monotonic time ms as a timespec, for pthread_cond_timedwait on a
 * condition variable that runs on CLOCK_MONOTONIC (worker.h makes those). */
void	 clock_timespec(int64_t ms, struct timespec *ts);

#endif
