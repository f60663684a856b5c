/* check_strv.c: string vectors (strv.h): push and free, the
 * binary search, sorting and the sorted set. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "testutil.h"

START_TEST(test_push)
{
	char **v = NULL;
	size_t n = 0;

	ck_assert_int_eq(strv_push(&v, &n, "b"), 0);
	ck_assert_int_eq(strv_pushn(&v, &n, "abc", 1), 0);
	ck_assert_int_eq(strv_push(&v, &n, ""), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "b");
	ck_assert_str_eq(v[1], "a");
	ck_assert_str_eq(v[2], "");
	strv_free(v, n);
	strv_free(NULL, 0);
}
END_TEST

/* Many pushes: the room doubles (ASan sees any write past it). */
START_TEST(test_push_many)
{
	char **v = NULL, s[32];
	size_t n = 0, i;

	for (i = 0; i < 1000; i++) {
		snprintf(s, sizeof(s), "%zu", i);
		ck_assert_int_eq(strv_push(&v, &n, s), 0);
	}
	ck_assert_uint_eq(n, 1000);
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%zu", i);
		ck_assert_str_eq(v[i], s);
	}
	strv_free(v, n);
}
END_TEST

START_TEST(test_sort_and_search)
{
	static const char *const in[] = { "web", "api", "db", "api", "cache" };
	char **v = NULL, **set;
	size_t n = 0, nset, i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_int_eq(strv_push(&v, &n, in[i]), 0);
	ck_assert_int_eq(strv_sorted_set(v, n, &set, &nset), 0);
	ck_assert_uint_eq(nset, 4);
	ck_assert_str_eq(set[0], "api");
	ck_assert_str_eq(set[1], "cache");
	ck_assert_str_eq(set[2], "db");
	ck_assert_str_eq(set[3], "web");
	/* A copy: the input is untouched. */
	ck_assert_str_eq(v[0], "web");
	strv_sort(v, n);
	ck_assert_str_eq(v[0], "api");
	ck_assert_str_eq(v[1], "api");
	ck_assert_str_eq(v[4], "web");
	for (i = 0; i < n; i++)
		ck_assert_int_eq(strv_has_sorted(v, n, in[i]), 1);
	ck_assert_int_eq(strv_has_sorted(v, n, "b"), 0);
	ck_assert_int_eq(strv_has_sorted(v, n, "zzz"), 0);
	ck_assert_int_eq(strv_has_sorted(v, 0, "api"), 0);
	strv_free(set, nset);
	/* Nothing in, nothing out. */
	nset = 7;
	ck_assert_int_eq(strv_sorted_set(v, 0, &set, &nset), 0);
	ck_assert_ptr_null(set);
	ck_assert_uint_eq(nset, 0);
	strv_free(v, n);
}
END_TEST

START_TEST(test_cmp)
{
	const char *a = "a", *b = "b";

	ck_assert_int_lt(strv_cmp(&a, &b), 0);
	ck_assert_int_gt(strv_cmp(&b, &a), 0);
	ck_assert_int_eq(strv_cmp(&a, &a), 0);
}
END_TEST

static Suite *
strv_suite(void)
{
	Suite *s = suite_create("strv");
	TCase *tc = tcase_create("strv");

	tcase_add_test(tc, test_push);
	tcase_add_test(tc, test_push_many);
	tcase_add_test(tc, test_sort_and_search);
	tcase_add_test(tc, test_cmp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(strv_suite());
}
