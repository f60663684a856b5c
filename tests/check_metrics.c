/* check_metrics.c: label values of the text exposition format
 * (metrics_label_escape) and the UTF-8 repair under it (values_utf8_repair):
 * any bytes in, a valid label value out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "values.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

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

	ck_assert_str_eq(metrics_label_escape(labels[_i].in, out,
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
		metrics_label_escape(in, out, n);
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
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("labels");

	tcase_add_loop_test(tc, test_label_escape, 0, nitems(labels));
	tcase_add_test(tc, test_label_escape_cut);
	tcase_add_test(tc, test_repair_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(metrics_suite());
}
