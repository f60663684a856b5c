/* check_worker.c: the stoppable worker (worker.h): a stop cuts a sleep or
 * a wait at once, a wait honours its deadline, a wake reaches the waiter,
 * two threads share one stop, and a worker without threads is a
 * cancellable sleep. */
#include <check.h>
#include <pthread.h>
#include <unistd.h>

#include "clock.h"
#include "fixture.h"
#include "worker.h"

#define LONG_MS	60000

struct job {
	struct worker	 w;
	int		 rounds;		/* under w's lock */
	int		 wanted;		/* under w's lock */
	int		 slept;			/* atomic: sleeps that ended */
	int64_t		 woke_after;		/* atomic */
};

/* Sleeps a minute at a time until stopped. */
static void *
sleeper(void *arg)
{
	struct job *j = arg;

	while (worker_sleep(&j->w, LONG_MS) == 0)
		__atomic_add_fetch(&j->slept, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Waits for work (wanted > rounds) or a stop, and does it. */
static void *
waiter(void *arg)
{
	struct job *j = arg;

	worker_lock(&j->w);
	while (!worker_stopping(&j->w)) {
		if (j->wanted > j->rounds) {
			j->rounds++;
			worker_signal(&j->w);
			continue;
		}
		worker_wait(&j->w, WORKER_FOREVER);
	}
	worker_unlock(&j->w);
	return NULL;
}

START_TEST(test_stop_cuts_sleep)
{
	struct job j = { 0 };
	char err[ERR_MAX];
	int64_t t0;

	ck_assert_int_eq(worker_init(&j.w, err), 0);
	ck_assert_int_eq(worker_start(&j.w, sleeper, &j, "sleeper", err), 0);
	ck_assert_int_eq(worker_start(&j.w, sleeper, &j, "sleeper", err), 0);
	/* Two is the most. */
	ck_assert_int_eq(worker_start(&j.w, sleeper, &j, "third", err), -1);
	ck_assert_ptr_nonnull(strstr(err, "third"));
	ck_assert_int_eq(worker_stopping(&j.w), 0);
	t0 = clock_ms();
	worker_stop(&j.w);
	/* Not a minute: the stop woke both sleepers. */
	ck_assert_int_lt(clock_since(t0), LONG_MS / 2);
	ck_assert_int_eq(j.slept, 0);
	ck_assert_int_eq(worker_stopping(&j.w), 1);
	ck_assert_int_eq(*worker_stop_flag(&j.w), 1);
	ck_assert_int_eq(j.w.nthreads, 0);
	worker_release(&j.w);
}
END_TEST

START_TEST(test_wake_reaches_waiter)
{
	struct job j = { 0 };
	char err[ERR_MAX];
	int i;

	ck_assert_int_eq(worker_init(&j.w, err), 0);
	ck_assert_int_eq(worker_start(&j.w, waiter, &j, "waiter", err), 0);
	for (i = 1; i <= 20; i++) {
		worker_lock(&j.w);
		j.wanted = i;
		worker_signal(&j.w);
		/* The waiter signals back once it did the round. */
		while (j.rounds < i)
			worker_wait(&j.w, clock_ms() + LONG_MS);
		worker_unlock(&j.w);
	}
	ck_assert_int_eq(j.rounds, 20);
	worker_stop(&j.w);
	worker_release(&j.w);
}
END_TEST

START_TEST(test_deadline)
{
	struct worker w;
	char err[ERR_MAX];
	int64_t t0;

	ck_assert_int_eq(worker_init(&w, err), 0);
	/* No thread: a sleep on the caller's own. */
	t0 = clock_ms();
	ck_assert_int_eq(worker_sleep(&w, 40), 0);
	ck_assert_int_ge(clock_since(t0), 40);
	/* A wake does not end worker_wait_stop() before its deadline. */
	worker_lock(&w);
	t0 = clock_ms();
	worker_signal(&w);
	ck_assert_int_eq(worker_wait_stop(&w, t0 + 40), 0);
	ck_assert_int_ge(clock_since(t0), 40);
	worker_unlock(&w);
	/* Once cancelled, sleeps and waits return at once, saying so. */
	worker_cancel(&w);
	t0 = clock_ms();
	ck_assert_int_eq(worker_sleep(&w, LONG_MS), -1);
	worker_lock(&w);
	ck_assert_int_eq(worker_wait_stop(&w, clock_ms() + LONG_MS), -1);
	worker_unlock(&w);
	ck_assert_int_lt(clock_since(t0), LONG_MS / 2);
	worker_join(&w);
	worker_release(&w);
}
END_TEST

/* A cancel from another thread ends a sleep in progress. */
static void *
canceller(void *arg)
{
	struct worker *w = arg;

	usleep(20000);
	worker_cancel(w);
	return NULL;
}

START_TEST(test_cancel_from_elsewhere)
{
	struct worker w;
	pthread_t t;
	char err[ERR_MAX];
	int64_t t0;

	ck_assert_int_eq(worker_init(&w, err), 0);
	t0 = clock_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, canceller, &w), 0);
	ck_assert_int_eq(worker_sleep(&w, LONG_MS), -1);
	ck_assert_int_lt(clock_since(t0), LONG_MS / 2);
	pthread_join(t, NULL);
	worker_release(&w);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_add_test(tc, test_stop_cuts_sleep);
	tcase_add_test(tc, test_wake_reaches_waiter);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_cancel_from_elsewhere);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(worker_suite());
}
