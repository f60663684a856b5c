/* check_values.c: the one parser of each kind of value (values.h): the
 * boolean vocabulary, durations, ports, counts, label names, UTF-8 and the
 * YAML scalar checks, on good and bad values. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "values.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Booleans: one vocabulary for flags, variables, requests and DFM's
 * variables.
 */

START_TEST(test_bool_words)
{
	static const struct {
		const char	*s;
		int		 v;
	} good[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "yes", 1 },
		{ "YES", 1 }, { "on", 1 }, { "On", 1 }, { "1", 1 }, { "t", 1 },
		{ "T", 1 },
		{ "false", 0 }, { "FALSE", 0 }, { "False", 0 }, { "no", 0 },
		{ "No", 0 }, { "off", 0 }, { "OFF", 0 }, { "0", 0 }, { "f", 0 },
		{ "F", 0 },
	};
	size_t i;

	for (i = 0; i < nitems(good); i++) {
		int v = -7;

		ck_assert_msg(values_bool(good[i].s, &v) == 0, "%s refused",
		    good[i].s);
		ck_assert_msg(v == good[i].v, "%s gave %d", good[i].s, v);
	}
}
END_TEST

START_TEST(test_bool_refused)
{
	static const char *const bad[] = {
		"", "maybe", "2", "-1", "01", "00", "y", "n", "ye", "yess",
		"tru", "truee", "enabled", "disabled", " true", "true ",
		"of", "onn", "nope", "\xc3\xbf",
	};
	size_t i;
	int v;

	for (i = 0; i < nitems(bad); i++) {
		v = -7;
		ck_assert_msg(values_bool(bad[i], &v) == -1, "\"%s\" accepted",
		    bad[i]);
		ck_assert_msg(v == -7, "\"%s\": out changed on refusal",
		    bad[i]);
	}
	ck_assert_int_eq(values_bool(NULL, &v), -1);
	/* The message words name the vocabulary. */
	ck_assert_ptr_nonnull(strstr(VALUES_BOOL_WORDS, "true or false"));
	ck_assert_ptr_nonnull(strstr(VALUES_BOOL_WORDS, "yes/no"));
}
END_TEST

/*
 * Durations.
 */

START_TEST(test_duration_valid)
{
	static const char *const good[] = {
		"0", "0s", "15s", "1m", "1m30s", "500ms", "1h", "2d", "1w",
		"1y", "1s500ms", "1h1m1s1ms", "1y1w1d1h1m1s1ms", "01s",
		"90m", "292y", "9223372036854ms", "106751d23h47m16s854ms",
	};
	static const char *const bad[] = {
		"", "s", "ms", "1", "10", "1.5s", "1S", "1M", "5m5h", "1m1m",
		"1ms1s", "1ns", "1us", "-1s", "+1s", " 1s", "1s ", "1 s",
		"1mss", "1sm", "1s0", "abc", "1d1y", "0x10s",
		/* past Prometheus's limit (int64 nanoseconds): refused there,
		 * so refused here */
		"293y", "9223372036855ms", "106751d23h47m16s855ms",
		"99999999999999999y", "999999999999999999ms",
		"9999999999999999999s",
	};
	size_t i;

	for (i = 0; i < nitems(good); i++)
		ck_assert_msg(values_duration_valid(good[i]) == 1, "%s",
		    good[i]);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(values_duration_valid(bad[i]) == 0, "%s",
		    bad[i]);
	ck_assert_int_eq(values_duration_valid(NULL), 0);
}
END_TEST

START_TEST(test_duration_ms)
{
	static const struct {
		const char	*s;
		int64_t		 ms;
	} cases[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 500 }, { "1s", 1000 },
		{ "1m30s", 90000 }, { "90m", 5400000 }, { "1h", 3600000 },
		{ "1h1m1s1ms", 3661001 }, { "2d", 172800000 },
		{ "1w", 604800000 }, { "1y", 31536000000LL },
		{ "1s500ms", 1500 }, { "01s", 1000 },
		{ "9223372036854ms", 9223372036854LL },
	};
	int64_t ms;
	size_t i;

	for (i = 0; i < nitems(cases); i++) {
		ms = -1;
		ck_assert_msg(values_duration_ms(cases[i].s, &ms) == 0, "%s",
		    cases[i].s);
		ck_assert_msg(ms == cases[i].ms, "%s gave %lld", cases[i].s,
		    (long long)ms);
	}
	ms = 42;
	ck_assert_int_eq(values_duration_ms("1x", &ms), -1);
	ck_assert_int_eq(ms, 42);
}
END_TEST

/*
 * Ports and counts.
 */

START_TEST(test_port)
{
	static const char *const bad[] = {
		"", "0", "00", "080", "65536", "99999", "123456", "-1", "+80",
		" 80", "80 ", "8a", "0x50", "80.5", "http",
	};
	size_t i;

	ck_assert_int_eq(values_port("1", 1), 1);
	ck_assert_int_eq(values_port("80", 2), 80);
	ck_assert_int_eq(values_port("9090", 4), 9090);
	ck_assert_int_eq(values_port("65535", 5), 65535);
	/* Only len bytes are read: a port inside a longer string. */
	ck_assert_int_eq(values_port("8080,host:1", 4), 8080);
	ck_assert_int_eq(values_port("80", 0), 0);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(values_port(bad[i], strlen(bad[i])) == 0,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_count)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1.5", "1e3", "0x10", "ten",
		"99999999999999999999999",
	};
	long n;
	size_t i;

	ck_assert_int_eq(values_count("0", 0, 10, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(values_count("10", 0, 10, &n), 0);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(values_count("007", 0, 10, &n), 0);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(values_count("9223372036854775807", 0, LONG_MAX, &n),
	    0);
	ck_assert_int_eq(n, LONG_MAX);
	n = 42;
	ck_assert_int_eq(values_count("11", 0, 10, &n), -1);
	ck_assert_int_eq(values_count("1023", 1024, LONG_MAX, &n), -1);
	ck_assert_int_eq(values_count("9223372036854775808", 0, LONG_MAX, &n),
	    -1);
	ck_assert_int_eq(n, 42);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(values_count(bad[i], 0, LONG_MAX, &n) == -1,
		    "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(values_count(NULL, 0, 1, &n), -1);
}
END_TEST

/*
 * Label names and UTF-8.
 */

START_TEST(test_label_name_valid)
{
	static const char *const good[] = {
		"a", "_", "_a", "A_1", "severity", "__name__",
	};
	static const char *const bad[] = {
		"", "1a", "a-b", "a.b", "a b", "a=b", "\xc3\xa9", "a:b",
	};
	size_t i;

	for (i = 0; i < nitems(good); i++)
		ck_assert_msg(values_label_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(!values_label_name_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_utf8)
{
	static const char *const good[] = {
		"", "abc", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9d\x84\x9e",		/* U+1D11E, four bytes */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF, the last */
		"\xed\x9f\xbf",			/* U+D7FF, before surrogates */
		"\xee\x80\x80",			/* U+E000, after them */
		"\xc2\x80",			/* U+0080, the first of two */
	};
	static const char *const bad[] = {
		"\xff", "\xfe", "\x80", "a\x80" "b",	/* lone continuation */
		"\xc3", "a\xc3", "\xe2\x82",	/* cut short */
		"\xc3(", "\xe2(\xac",		/* bad continuation */
		"\xc0\xaf", "\xc1\xbf",		/* overlong two bytes */
		"\xe0\x80\xaf",			/* overlong three bytes */
		"\xf0\x80\x80\xaf",		/* overlong four bytes */
		"\xed\xa0\x80", "\xed\xbf\xbf",	/* surrogates */
		"\xf4\x90\x80\x80",		/* past U+10FFFF */
		"\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
	};
	size_t i;

	for (i = 0; i < nitems(good); i++)
		ck_assert_msg(values_utf8_valid(good[i]) == 1, "good %zu", i);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(values_utf8_valid(bad[i]) == 0, "bad %zu", i);
}
END_TEST

/*
 * YAML scalars.
 */

START_TEST(test_yaml_ambiguous)
{
	static const char *const quote[] = {
		"", "~", "null", "NULL", "Null", "true", "True", "FALSE",
		"yes", "No", "on", "OFF", "y", "N", "<<", "=",
		"2001-12-14", "2001-12-14t21:59:43.10-05:00",
		"1", "-1", "+1", "1_000", "0.8", ".5", "1:30", "1e3", "1.5E-3",
		"1e+3", ".inf", "-.Inf", "+.INF", ".nan", ".NaN",
		"0x1f", "0X1F", "0o17", "0b101", "0",
	};
	static const char *const plain[] = {
		"a", "up", "1a", "1e", "e3", "1.5x", "service", "0x", "truex",
		"-", "nulls", "yes please", "up == 0", "@service_mem_limit:0.8",
		"200-300", "12345-", "1e3x", "0xg",
	};
	size_t i;

	for (i = 0; i < nitems(quote); i++)
		ck_assert_msg(values_yaml_ambiguous(quote[i]) == 1,
		    "\"%s\" needs quotes", quote[i]);
	for (i = 0; i < nitems(plain); i++)
		ck_assert_msg(values_yaml_ambiguous(plain[i]) == 0,
		    "\"%s\" is a plain string", plain[i]);
}
END_TEST

START_TEST(test_odd_break)
{
	ck_assert_int_eq(values_odd_break("a\rb"), 1);
	ck_assert_int_eq(values_odd_break("a\r\nb"), 1);
	ck_assert_int_eq(values_odd_break("a\xc2\x85" "b"), 1);	/* NEL */
	ck_assert_int_eq(values_odd_break("\xe2\x80\xa8"), 1);	/* LS */
	ck_assert_int_eq(values_odd_break("x\xe2\x80\xa9"), 1);	/* PS */
	ck_assert_int_eq(values_odd_break(""), 0);
	ck_assert_int_eq(values_odd_break("a\nb"), 0);
	ck_assert_int_eq(values_odd_break("\xc3\xa9t\xc3\xa9"), 0);
	ck_assert_int_eq(values_odd_break("\xe2\x80\xa7"), 0);	/* U+2027 */
}
END_TEST

static Suite *
values_suite(void)
{
	Suite *s = suite_create("values");
	TCase *tc;

	tc = tcase_create("bool");
	tcase_add_test(tc, test_bool_words);
	tcase_add_test(tc, test_bool_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_test(tc, test_duration_valid);
	tcase_add_test(tc, test_duration_ms);
	suite_add_tcase(s, tc);

	tc = tcase_create("numbers");
	tcase_add_test(tc, test_port);
	tcase_add_test(tc, test_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_label_name_valid);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_yaml_ambiguous);
	tcase_add_test(tc, test_odd_break);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(values_suite());
}
