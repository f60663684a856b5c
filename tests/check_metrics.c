/* check_metrics.c: flowmon's own counters (metrics.h) as /metrics shows
 * them, and the reload statistics written once for the daemon and for
 * `flowmon reloader` (reloader_expo), each under its own prefix. The text
 * format itself is check_expo's. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "metrics.h"
#include "reloader.h"
#include "testutil.h"

START_TEST(test_counters)
{
	struct buf b = BUF_INIT;

	metrics_request(M_EP_RECONFIGURE, 200);
	metrics_request(M_EP_RECONFIGURE, 200);
	metrics_request(M_EP_SD, 418);
	metrics_file(M_FEV_WRITTEN, M_FILE_RULES);
	metrics_file(M_FEV_HEALED, M_FILE_TARGETS);
	metrics_promtool_batch(3);
	ck_assert_int_eq(metrics_render(&b), 0);
	ck_assert_ptr_nonnull(strstr(b.p,
	    "# HELP flowmon_http_requests_total HTTP requests answered, by "
	    "endpoint and status code.\n"
	    "# TYPE flowmon_http_requests_total counter\n"
	    "flowmon_http_requests_total{endpoint=\"reconfigure\","
	    "code=\"200\"} 2\n"
	    "flowmon_http_requests_total{endpoint=\"sd\",code=\"other\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_files_written_total{kind=\"rules\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_files_written_total{kind=\"targets\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "# TYPE flowmon_files_healed_total counter\n"
	    "flowmon_files_healed_total{dir=\"targets\"} 1\n"
	    "flowmon_files_healed_total{dir=\"rules\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_promtool_files_total 3\n"
	    "# HELP flowmon_promtool_batches_total"));
	ck_assert_ptr_nonnull(strstr(b.p, "flowmon_promtool_batches_total 1\n"));
	buf_release(&b);
}
END_TEST

START_TEST(test_reload_stats)
{
	struct reloader_stats s;
	struct buf b = BUF_INIT;

	memset(&s, 0, sizeof(s));
	s.ok = 5;
	s.failed = 2;
	s.last_success = 1;
	s.last_time = 1700000100;
	s.last_ok_time = 1700000000;
	s.pending = 1;
	reloader_expo(&b, "flowmon_", &s);
	reloader_expo(&b, "flowmon_reloader_", &s);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_ptr_nonnull(strstr(b.p,
	    "# TYPE flowmon_reloads_total counter\n"
	    "flowmon_reloads_total{outcome=\"success\"} 5\n"
	    "flowmon_reloads_total{outcome=\"failure\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_reloader_reloads_total{outcome=\"failure\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_last_reload_successful 1\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_reloader_last_reload_timestamp_seconds 1700000100\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "flowmon_last_reload_success_timestamp_seconds 1700000000\n"));
	ck_assert_ptr_nonnull(strstr(b.p,
	    "# TYPE flowmon_reloader_reload_pending gauge\n"
	    "flowmon_reloader_reload_pending 1\n"));
	buf_release(&b);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_reload_stats);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(metrics_suite());
}
