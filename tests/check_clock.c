/* check_clock.c: the monotonic millisecond clock (clock.h): it never goes
 * back, it advances with time slept, and its timespec form is what a
 * condition variable on CLOCK_MONOTONIC waits for. */
#include <check.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "testutil.h"

START_TEST(test_monotonic)
{
	int64_t prev = clock_ms(), now;
	int i;

	ck_assert_int_gt(prev, 0);
	for (i = 0; i < 100000; i++) {
		now = clock_ms();
		ck_assert_int_ge(now, prev);
		prev = now;
	}
}
END_TEST

START_TEST(test_advances)
{
	int64_t t0 = clock_ms();
	struct timespec ts = { 0, 30 * 1000000L };

	/* A sleep is at least as long as asked: a lower bound only. */
	while (nanosleep(&ts, &ts) == -1)
		;
	ck_assert_int_ge(clock_since(t0), 30);
	ck_assert_int_ge(clock_ms() - t0, clock_since(t0) - 1);
}
END_TEST

START_TEST(test_timespec)
{
	struct timespec ts, mono;
	int64_t ms;

	clock_timespec(1234567, &ts);
	ck_assert_int_eq(ts.tv_sec, 1234);
	ck_assert_int_eq(ts.tv_nsec, 567000000L);
	clock_timespec(-5, &ts);
	ck_assert_int_eq(ts.tv_sec, 0);
	ck_assert_int_eq(ts.tv_nsec, 0);
	/* The same clock as CLOCK_MONOTONIC. */
	ms = clock_ms();
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_timespec(ms, &ts);
	ck_assert(ts.tv_sec < mono.tv_sec || (ts.tv_sec == mono.tv_sec &&
	    ts.tv_nsec <= mono.tv_nsec));
	ck_assert_int_le(mono.tv_sec - ts.tv_sec, 1);
}
END_TEST

START_TEST(test_rfc3339)
{
	char t[32];

	clock_rfc3339(0, t);
	ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
	clock_rfc3339(1732473000123LL, t);
	ck_assert_str_eq(t, "2024-11-24T18:30:00.123Z");
	clock_rfc3339(1714564801234LL, t);
	ck_assert_str_eq(t, "2024-05-01T12:00:01.234Z");
	clock_rfc3339(1714564801005LL, t);
	ck_assert_str_eq(t, "2024-05-01T12:00:01.005Z");
}
END_TEST

static Suite *
clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");

	tcase_add_test(tc, test_monotonic);
	tcase_add_test(tc, test_advances);
	tcase_add_test(tc, test_timespec);
	tcase_add_test(tc, test_rfc3339);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(clock_suite());
}
