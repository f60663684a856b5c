/* check_expo.c: the text exposition format (expo.h): HELP and TYPE lines,
 * samples with and without labels, label values escaped (and made valid
 * UTF-8, and cut to fit) whatever bytes come in. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "testutil.h"
#include "values.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

START_TEST(test_families)
{
	struct buf b = BUF_INIT;

	expo_counter(&b, "x_total", "Things done.", 3);
	expo_gauge(&b, "x_up", "1 while up.", 1);
	expo_family(&b, "x_files", EXPO_GAUGE, "Files, by dir.");
	expo_sample(&b, "x_files", 12, "dir", "targets", "valid", "true",
	    NULL);
	expo_sample(&b, "x_files", 0, "dir", "rules", NULL);
	expo_sample(&b, "x_big", 9007199254740993LL, NULL);
	expo_sample(&b, "x_neg", -1, NULL);
	ck_assert_int_eq(b.failed, 0);
	ck_assert_str_eq(b.p,
	    "# HELP x_total Things done.\n"
	    "# TYPE x_total counter\n"
	    "x_total 3\n"
	    "# HELP x_up 1 while up.\n"
	    "# TYPE x_up gauge\n"
	    "x_up 1\n"
	    "# HELP x_files Files, by dir.\n"
	    "# TYPE x_files gauge\n"
	    "x_files{dir=\"targets\",valid=\"true\"} 12\n"
	    "x_files{dir=\"rules\"} 0\n"
	    "x_big 9007199254740993\n"
	    "x_neg -1\n");
	buf_release(&b);
}
END_TEST

START_TEST(test_sample_escapes)
{
	struct buf b = BUF_INIT;

	expo_sample(&b, "f", 1, "file", "a\"b\\c\nd\xff", NULL);
	ck_assert_str_eq(b.p, "f{file=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\"} 1\n");
	buf_release(&b);
}
END_TEST

static const struct {
	const char	*in;
	const char	*want;
} labels[] = {
	{ "web.json", "web.json" },
	{ "q\"uote", "q\\\"uote" },
	{ "back\\slash", "back\\\\slash" },
	{ "new\nline", "new\\nline" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	/* Not UTF-8: each bad byte becomes U+FFFD. */
	{ "x\xc3y", "x\xef\xbf\xbdy" },
	{ "\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
	{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },			/* overlong */
	{ "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd" },		/* cut short */
	{ "", "" },
};

START_TEST(test_label_escape)
{
	char out[64];

	ck_assert_str_eq(expo_label_escape(labels[_i].in, out,
	    sizeof(out)), labels[_i].want);
	ck_assert(values_utf8_valid(out));
}
END_TEST

START_TEST(test_label_escape_cut)
{
	/* Cut to fit: never half a character or half an escape. */
	const char *in = "\xc3\xa9\"\xe2\x82\xac";	/* é " € */
	char out[16];
	size_t n;

	for (n = 1; n <= sizeof(out); n++) {
		expo_label_escape(in, out, n);
		ck_assert_msg(strlen(out) < n, "size %zu", n);
		ck_assert_msg(values_utf8_valid(out), "size %zu: %s", n, out);
		ck_assert_msg(strlen(out) == 0 || out[strlen(out) - 1] != '\\',
		    "size %zu: half an escape: %s", n, out);
	}
	ck_assert_str_eq(out, "\xc3\xa9\\\"\xe2\x82\xac");
}
END_TEST

START_TEST(test_repair_random)
{
	unsigned seed = 3;
	char in[64], *out;
	int round, i;

	for (round = 0; round < 20000; round++) {
		int n = (int)(rand_r(&seed) % 63);

		for (i = 0; i < n; i++)
			in[i] = (char)(1 + rand_r(&seed) % 255);
		in[n] = '\0';
		out = values_utf8_repair(in);
		ck_assert_ptr_nonnull(out);
		ck_assert(values_utf8_valid(out));
		/* Valid input comes back as it is. */
		if (values_utf8_valid(in))
			ck_assert_str_eq(out, in);
		free(out);
	}
}
END_TEST

static Suite *
expo_suite(void)
{
	Suite *s = suite_create("expo");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_families);
	tcase_add_test(tc, test_sample_escapes);
	suite_add_tcase(s, tc);
	tc = tcase_create("labels");
	tcase_add_loop_test(tc, test_label_escape, 0, nitems(labels));
	tcase_add_test(tc, test_label_escape_cut);
	tcase_add_test(tc, test_repair_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(expo_suite());
}
