/* check_udiff.c: unified diffs (udiff.c) as diff -u prints them: hunks
 * and their ranges, context, files that are new or gone, a missing last
 * newline, the shortest edit script, and the bounded fallback. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "udiff.h"

static char *
diff(const char *a, const char *b)
{
	char *out;
	size_t len;

	ck_assert_int_eq(udiff(a, strlen(a), b, strlen(b), "a", "b", 3, &out,
	    &len), 0);
	if (out != NULL)
		ck_assert_uint_eq(strlen(out), len);
	return out;
}

static void
expect_diff(const char *a, const char *b, const char *want)
{
	char *got = diff(a, b);

	ck_assert_msg(got != NULL, "no diff");
	ck_assert_msg(strcmp(got, want) == 0, "got:\n%s\nwant:\n%s", got,
	    want);
	free(got);
}

START_TEST(equal_is_no_diff)
{
	ck_assert_ptr_null(diff("", ""));
	ck_assert_ptr_null(diff("a\nb\n", "a\nb\n"));
}
END_TEST

START_TEST(one_change)
{
	expect_diff("a\nb\nc\nd\n", "a\nx\nc\nd\ne\n",
	    "--- a\n+++ b\n"
	    "@@ -1,4 +1,5 @@\n"
	    " a\n-b\n+x\n c\n d\n+e\n");
}
END_TEST

START_TEST(new_and_gone)
{
	expect_diff("", "one\ntwo\n",
	    "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+one\n+two\n");
	expect_diff("one\n", "",
	    "--- a\n+++ b\n@@ -1 +0,0 @@\n-one\n");
}
END_TEST

START_TEST(no_newline_at_end)
{
	expect_diff("a\nb", "a\nb\n",
	    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n"
	    "\\ No newline at end of file\n+b\n");
}
END_TEST

START_TEST(two_hunks)
{
	char a[256] = "", b[256] = "";
	int i;

	/* Changes 10 lines apart: two hunks, 3 lines of context each. */
	for (i = 1; i <= 14; i++) {
		char l[8];

		snprintf(l, sizeof(l), "%d\n", i);
		strcat(a, l);
		strcat(b, i == 2 ? "two\n" : i == 13 ? "thirteen\n" : l);
	}
	expect_diff(a, b,
	    "--- a\n+++ b\n"
	    "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
	    "@@ -10,5 +10,5 @@\n 10\n 11\n 12\n-13\n+thirteen\n 14\n");
}
END_TEST

START_TEST(shortest_script)
{
	/* Myers finds 2 edits (b removed, x added), not 4. */
	char *d = diff("a\nb\nc\n", "a\nc\nx\n");
	const char *p;
	int edits = 0;

	for (p = d; p != NULL && *p != '\0'; p = strchr(p, '\n') + 1) {
		if ((*p == '-' || *p == '+') && strncmp(p, "---", 3) != 0 &&
		    strncmp(p, "+++", 3) != 0)
			edits++;
	}
	ck_assert_int_eq(edits, 2);
	free(d);
}
END_TEST

START_TEST(fallback_beyond_the_bound)
{
	/* Every line differs: more than UDIFF_EDITS_MAX edits. The middle
	 * is shown removed and added whole, still a valid diff. */
	size_t n = UDIFF_EDITS_MAX, i, minus = 0, plus = 0;
	char *a = malloc(n * 8 + 1), *b = malloc(n * 8 + 1), *d, *p;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	a[0] = b[0] = '\0';
	for (i = 0; i < n; i++) {
		sprintf(a + strlen(a), "a%zu\n", i);
		sprintf(b + strlen(b), "b%zu\n", i);
	}
	d = diff(a, b);
	ck_assert_ptr_nonnull(d);
	for (p = d; *p != '\0'; p = strchr(p, '\n') + 1) {
		minus += *p == '-' && p[1] == 'a';
		plus += *p == '+' && p[1] == 'b';
	}
	ck_assert_uint_eq(minus, n);
	ck_assert_uint_eq(plus, n);
	ck_assert_ptr_nonnull(strstr(d, "@@ -1,1000 +1,1000 @@\n-a0\n"));
	free(a);
	free(b);
	free(d);
}
END_TEST

static Suite *
udiff_suite(void)
{
	Suite *s = suite_create("udiff");
	TCase *tc = tcase_create("udiff");

	tcase_add_test(tc, equal_is_no_diff);
	tcase_add_test(tc, one_change);
	tcase_add_test(tc, new_and_gone);
	tcase_add_test(tc, no_newline_at_end);
	tcase_add_test(tc, two_hunks);
	tcase_add_test(tc, shortest_script);
	tcase_add_test(tc, fallback_beyond_the_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(udiff_suite());
}
