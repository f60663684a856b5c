/* check_buf.c: the growable byte buffer (buf.h): appends of every size,
 * printf past the first allocation, bytes with NUL in them, detach and
 * clear, and the failure flag that stays set. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "testutil.h"

START_TEST(test_add_grows)
{
	struct buf b = BUF_INIT;
	char want[10000];
	size_t i;

	for (i = 0; i < sizeof(want); i++) {
		want[i] = (char)('a' + i % 26);
		ck_assert_int_eq(buf_add(&b, &want[i], 1), 0);
		ck_assert_uint_eq(b.len, i + 1);
		ck_assert_int_eq(b.p[b.len], '\0');
	}
	ck_assert_int_eq(memcmp(b.p, want, sizeof(want)), 0);
	ck_assert_uint_gt(b.cap, b.len);
	buf_release(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_printf)
{
	struct buf b = BUF_INIT;
	char big[3000];

	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_str_eq(b.p, "42-x");
	/* Past the room left: formatted again after growing. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(buf_printf(&b, "[%s]", big), 0);
	ck_assert_uint_eq(b.len, 4 + 2 + sizeof(big) - 1);
	ck_assert_int_eq(strncmp(b.p, "42-x[zzz", 8), 0);
	ck_assert_int_eq(b.p[b.len - 1], ']');
	ck_assert_int_eq(buf_adds(&b, "!"), 0);
	ck_assert_int_eq(b.p[b.len - 1], '!');
	buf_release(&b);
}
END_TEST

START_TEST(test_binary_and_empty)
{
	struct buf b = BUF_INIT;
	char *s;
	size_t len = 99;

	/* Empty, detached: "" to free, not NULL. */
	ck_assert_ptr_nonnull(s = buf_detach(&b, &len));
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	ck_assert_int_eq(buf_add(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.p, "a\0b", 4), 0);
	ck_assert_ptr_nonnull(s = buf_detach(&b, &len));
	ck_assert_uint_eq(len, 3);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

START_TEST(test_clear_keeps_memory)
{
	struct buf b = BUF_INIT;
	char *p;

	ck_assert_int_eq(buf_adds(&b, "hello"), 0);
	p = b.p;
	buf_clear(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.p, "");
	ck_assert_int_eq(buf_adds(&b, "hi"), 0);
	ck_assert_ptr_eq(b.p, p);
	ck_assert_str_eq(b.p, "hi");
	buf_release(&b);
}
END_TEST

START_TEST(test_failed_sticks)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_adds(&b, "ok"), 0);
	/* A size no allocation can meet: refused, the bytes unchanged. */
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX - 8), -1);
	ck_assert_int_eq(b.failed, 1);
	ck_assert_str_eq(b.p, "ok");
	/* Later appends are refused too, so one check at the end does. */
	ck_assert_int_eq(buf_adds(&b, "more"), -1);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(b.p, "ok");
	ck_assert_ptr_null(buf_detach(&b, NULL));
	ck_assert_ptr_null(b.p);
	ck_assert_int_eq(b.failed, 0);
}
END_TEST

START_TEST(test_yaml_write)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_yaml_write(&b, (unsigned char *)"a: 1\n", 5), 1);
	ck_assert_int_eq(buf_yaml_write(&b, (unsigned char *)"b: 2\n", 5), 1);
	ck_assert_str_eq(b.p, "a: 1\nb: 2\n");
	b.failed = 1;
	ck_assert_int_eq(buf_yaml_write(&b, (unsigned char *)"c", 1), 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_array_grow)
{
	struct pair {
		int	 a;
		char	 b[13];
	} *v = NULL;
	size_t n = 0, cap = 0, big = SIZE_MAX / 2;

	for (n = 0; n < 1000; n++) {
		ck_assert_int_eq(BUF_ARRAY_GROW(v, n, cap), 0);
		ck_assert_uint_gt(cap, n);
		v[n].a = (int)n;
		snprintf(v[n].b, sizeof(v[n].b), "%zu", n);
	}
	ck_assert_uint_eq(cap, 1024);
	for (n = 0; n < 1000; n++)
		ck_assert_int_eq(v[n].a, (int)n);
	ck_assert_str_eq(v[999].b, "999");
	/* Room left: nothing moves. */
	ck_assert_int_eq(BUF_ARRAY_GROW(v, 1000, cap), 0);
	ck_assert_uint_eq(cap, 1024);
	free(v);
	/* A size no allocation can meet: refused, unchanged. */
	v = NULL;
	ck_assert_int_eq(BUF_ARRAY_GROW(v, big, big), -1);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(big, SIZE_MAX / 2);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, test_add_grows);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_binary_and_empty);
	tcase_add_test(tc, test_clear_keeps_memory);
	tcase_add_test(tc, test_failed_sticks);
	tcase_add_test(tc, test_yaml_write);
	tcase_add_test(tc, test_array_grow);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(buf_suite());
}
