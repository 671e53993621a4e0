// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/cli/parse.c: strict PID, seconds, size and count parsing. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "parse.h"

#define PID_UNTOUCHED ((pid_t)-12345)
#define SECS_UNTOUCHED (-777.0)

/* parse_pid(s) must fail with err and leave *pid alone */
static void expect_pid_error(const char *s, int err)
{
	pid_t pid = PID_UNTOUCHED;

	assert_int_equal(parse_pid(s, &pid), err);
	assert_int_equal(pid, PID_UNTOUCHED);
}

static void expect_seconds_error(const char *s, double min, double max, int err)
{
	double v = SECS_UNTOUCHED;

	assert_int_equal(parse_seconds(s, min, max, &v), err);
	assert_true(v == SECS_UNTOUCHED);
}

static void test_pid_valid(void **state)
{
	pid_t pid = 0;

	assert_int_equal(parse_pid("1", &pid), 0);
	assert_int_equal(pid, 1);
	assert_int_equal(parse_pid("4242", &pid), 0);
	assert_int_equal(pid, 4242);
}

static void test_pid_max_limit_accepted(void **state)
{
	pid_t pid = 0;

	assert_int_equal(parse_pid("4194304", &pid), 0);
	assert_int_equal(pid, 4194304);
}

static void test_pid_zero_out_of_range(void **state)
{
	expect_pid_error("0", -ERANGE);
}

static void test_pid_above_limit_out_of_range(void **state)
{
	expect_pid_error("4194305", -ERANGE);
}

static void test_pid_overflowing_long_out_of_range(void **state)
{
	expect_pid_error("99999999999999999999999", -ERANGE);
}

static void test_pid_negative_rejected(void **state)
{
	expect_pid_error("-1", -EINVAL);
	expect_pid_error("-4242", -EINVAL);
}

static void test_pid_trailing_garbage_rejected(void **state)
{
	expect_pid_error("12x", -EINVAL);
	expect_pid_error("12 ", -EINVAL);
	expect_pid_error("1.0", -EINVAL);
}

static void test_pid_empty_rejected(void **state)
{
	expect_pid_error("", -EINVAL);
}

static void test_pid_leading_space_rejected(void **state)
{
	expect_pid_error(" 1", -EINVAL);
}

static void test_pid_plus_sign_rejected(void **state)
{
	expect_pid_error("+1", -EINVAL);
}

static void test_pid_hex_rejected(void **state)
{
	expect_pid_error("0x10", -EINVAL);
}

static void test_pid_null_rejected(void **state)
{
	expect_pid_error(NULL, -EINVAL);
}

static void test_seconds_integer(void **state)
{
	double v = 0;

	assert_int_equal(parse_seconds("30", 0, 3600, &v), 0);
	assert_float_equal(v, 30.0, 0);
}

static void test_seconds_decimals(void **state)
{
	double v = 0;

	assert_int_equal(parse_seconds("2.5", 0, 3600, &v), 0);
	assert_float_equal(v, 2.5, 1e-12);
	assert_int_equal(parse_seconds("0.125", 0, 3600, &v), 0);
	assert_float_equal(v, 0.125, 1e-12);
	assert_int_equal(parse_seconds(".5", 0, 3600, &v), 0);
	assert_float_equal(v, 0.5, 1e-12);
}

static void test_seconds_bounds_inclusive(void **state)
{
	double v = 0;

	assert_int_equal(parse_seconds("0.1", 0.1, 10, &v), 0);
	assert_float_equal(v, 0.1, 1e-12);
	assert_int_equal(parse_seconds("10", 0.1, 10, &v), 0);
	assert_float_equal(v, 10.0, 0);
}

static void test_seconds_below_min_out_of_range(void **state)
{
	expect_seconds_error("0.05", 0.1, 10, -ERANGE);
	expect_seconds_error("0", 0.1, 10, -ERANGE);
}

static void test_seconds_above_max_out_of_range(void **state)
{
	expect_seconds_error("10.5", 0.1, 10, -ERANGE);
	expect_seconds_error("86401", 0, 86400, -ERANGE);
}

static void test_seconds_exponent_accepted(void **state)
{
	double v = 0;

	assert_int_equal(parse_seconds("1e2", 0, 3600, &v), 0);
	assert_float_equal(v, 100.0, 0);
}

static void test_seconds_exponent_out_of_range(void **state)
{
	expect_seconds_error("1e4", 0, 3600, -ERANGE);
}

static void test_seconds_inf_rejected(void **state)
{
	expect_seconds_error("inf", 0, INFINITY, -EINVAL);
	expect_seconds_error("INF", 0, INFINITY, -EINVAL);
	expect_seconds_error("infinity", 0, INFINITY, -EINVAL);
}

static void test_seconds_nan_rejected(void **state)
{
	expect_seconds_error("nan", 0, 3600, -EINVAL);
	expect_seconds_error("NAN", 0, 3600, -EINVAL);
}

static void test_seconds_hex_rejected(void **state)
{
	expect_seconds_error("0x10", 0, 3600, -EINVAL);
	expect_seconds_error("0X1p3", 0, 3600, -EINVAL);
}

static void test_seconds_empty_rejected(void **state)
{
	expect_seconds_error("", 0, 3600, -EINVAL);
}

static void test_seconds_negative_rejected(void **state)
{
	expect_seconds_error("-1", -10, 3600, -EINVAL);
}

static void test_seconds_garbage_rejected(void **state)
{
	expect_seconds_error("5s", 0, 3600, -EINVAL);
	expect_seconds_error(" 5", 0, 3600, -EINVAL);
	expect_seconds_error("5 ", 0, 3600, -EINVAL);
	expect_seconds_error("+5", 0, 3600, -EINVAL);
	expect_seconds_error(".", 0, 3600, -EINVAL);
	expect_seconds_error(NULL, 0, 3600, -EINVAL);
}

static void expect_size(const char *s, unsigned long long want)
{
	unsigned long long v = 0;

	assert_int_equal(parse_size(s, 1, 1ULL << 40, &v), 0);
	assert_true(v == want);
}

static void expect_size_error(const char *s, unsigned long long min, unsigned long long max,
			      int err)
{
	unsigned long long v = 7;

	assert_int_equal(parse_size(s, min, max, &v), err);
	assert_true(v == 7);
}

static void test_size_plain_and_suffixed(void **state)
{
	expect_size("4096", 4096);
	expect_size("64K", 64ULL << 10);
	expect_size("4M", 4ULL << 20);
	expect_size("1G", 1ULL << 30);
}

static void test_size_garbage_rejected(void **state)
{
	expect_size_error("", 1, 100, -EINVAL);
	expect_size_error(NULL, 1, 100, -EINVAL);
	expect_size_error("-1", 1, 100, -EINVAL);
	expect_size_error(" 5", 1, 100, -EINVAL);
	expect_size_error("5 ", 1, 100, -EINVAL);
	expect_size_error("5k", 1, 100, -EINVAL);
	expect_size_error("5KB", 1, 100, -EINVAL);
	expect_size_error("0x10", 1, 100, -EINVAL);
	expect_size_error("K", 1, 100, -EINVAL);
}

static void test_size_out_of_range(void **state)
{
	expect_size_error("0", 1, 100, -ERANGE);
	expect_size_error("101", 1, 100, -ERANGE);
	expect_size_error("1K", 1, 100, -ERANGE);
	/* overflows 64 bits only once the suffix shifts it */
	expect_size_error("17179869184G", 1, ~0ULL, -ERANGE);
	expect_size_error("99999999999999999999999", 1, ~0ULL, -ERANGE);
}

static void test_count_digits_only(void **state)
{
	unsigned long long v = 7;

	assert_int_equal(parse_count("26", 1, 100, &v), 0);
	assert_true(v == 26);
	assert_int_equal(parse_count("100", 1, 100, &v), 0);
	assert_true(v == 100);
	v = 7;
	/* a count is no size: no K, M or G */
	assert_int_equal(parse_count("1K", 1, 1 << 20, &v), -EINVAL);
	assert_int_equal(parse_count("", 1, 100, &v), -EINVAL);
	assert_int_equal(parse_count(NULL, 1, 100, &v), -EINVAL);
	assert_int_equal(parse_count("-1", 1, 100, &v), -EINVAL);
	assert_int_equal(parse_count(" 5", 1, 100, &v), -EINVAL);
	assert_int_equal(parse_count("0", 1, 100, &v), -ERANGE);
	assert_int_equal(parse_count("101", 1, 100, &v), -ERANGE);
	assert_int_equal(parse_count("99999999999999999999999", 1, ~0ULL, &v), -ERANGE);
	assert_true(v == 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_valid),
		cmocka_unit_test(test_size_plain_and_suffixed),
		cmocka_unit_test(test_size_garbage_rejected),
		cmocka_unit_test(test_size_out_of_range),
		cmocka_unit_test(test_count_digits_only),
		cmocka_unit_test(test_pid_max_limit_accepted),
		cmocka_unit_test(test_pid_zero_out_of_range),
		cmocka_unit_test(test_pid_above_limit_out_of_range),
		cmocka_unit_test(test_pid_overflowing_long_out_of_range),
		cmocka_unit_test(test_pid_negative_rejected),
		cmocka_unit_test(test_pid_trailing_garbage_rejected),
		cmocka_unit_test(test_pid_empty_rejected),
		cmocka_unit_test(test_pid_leading_space_rejected),
		cmocka_unit_test(test_pid_plus_sign_rejected),
		cmocka_unit_test(test_pid_hex_rejected),
		cmocka_unit_test(test_pid_null_rejected),
		cmocka_unit_test(test_seconds_integer),
		cmocka_unit_test(test_seconds_decimals),
		cmocka_unit_test(test_seconds_bounds_inclusive),
		cmocka_unit_test(test_seconds_below_min_out_of_range),
		cmocka_unit_test(test_seconds_above_max_out_of_range),
		cmocka_unit_test(test_seconds_exponent_accepted),
		cmocka_unit_test(test_seconds_exponent_out_of_range),
		cmocka_unit_test(test_seconds_inf_rejected),
		cmocka_unit_test(test_seconds_nan_rejected),
		cmocka_unit_test(test_seconds_hex_rejected),
		cmocka_unit_test(test_seconds_empty_rejected),
		cmocka_unit_test(test_seconds_negative_rejected),
		cmocka_unit_test(test_seconds_garbage_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
