// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/report/utf8.c: hostile strings made valid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "report.h"

#define FFFD "\xef\xbf\xbd"

static void check(const char *in, const char *want)
{
	char *out = utf8_sanitize(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_ascii_kept(void **state)
{
	check("python3 -m app --port=8080", "python3 -m app --port=8080");
}

static void test_empty_kept(void **state)
{
	check("", "");
}

/* control bytes are valid UTF-8: escaping them is json-c's job */
static void test_control_bytes_kept(void **state)
{
	check("a\x01\x1f\x7f" "b", "a\x01\x1f\x7f" "b");
}

static void test_two_byte_kept(void **state)
{
	check("caf\xc3\xa9", "caf\xc3\xa9");		/* é */
	check("\xc2\x80", "\xc2\x80");			/* U+0080, the smallest */
	check("\xdf\xbf", "\xdf\xbf");			/* U+07FF */
}

static void test_three_byte_kept(void **state)
{
	check("\xe2\x82\xac 5", "\xe2\x82\xac 5");	/* € */
	check("\xe0\xa0\x80", "\xe0\xa0\x80");		/* U+0800, the smallest */
	check("\xed\x9f\xbf", "\xed\x9f\xbf");		/* U+D7FF, below the surrogates */
	check("\xee\x80\x80", "\xee\x80\x80");		/* U+E000, above them */
	check("\xef\xbf\xbf", "\xef\xbf\xbf");		/* U+FFFF */
	check(FFFD, FFFD);
}

static void test_four_byte_kept(void **state)
{
	check("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");	/* U+1F600 */
	check("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");		/* U+10000 */
	check("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");		/* U+10FFFF */
}

static void test_invalid_byte_replaced(void **state)
{
	check("\xff", FFFD);
	check("ev\xffil", "ev" FFFD "il");
	check("\xfe\xff", FFFD FFFD);
	check("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);	/* old 5-byte form */
}

static void test_lone_continuation_replaced(void **state)
{
	check("\x80", FFFD);
	check("a\xbf" "b", "a" FFFD "b");
}

static void test_overlong_replaced(void **state)
{
	check("\xc0\xaf", FFFD FFFD);			/* '/' in 2 bytes */
	check("\xc1\xbf", FFFD FFFD);
	check("\xe0\x80\xaf", FFFD FFFD FFFD);		/* '/' in 3 bytes */
	check("\xe0\x9f\xbf", FFFD FFFD FFFD);		/* U+07FF in 3 bytes */
	check("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);	/* '/' in 4 bytes */
	check("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);	/* U+FFFF in 4 bytes */
}

static void test_surrogate_replaced(void **state)
{
	check("\xed\xa0\x80", FFFD FFFD FFFD);		/* U+D800 */
	check("\xed\xbf\xbf", FFFD FFFD FFFD);		/* U+DFFF */
	check("x\xed\xb0\x80y", "x" FFFD FFFD FFFD "y");
}

static void test_above_max_replaced(void **state)
{
	check("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);	/* U+110000 */
	check("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
}

static void test_truncated_at_end_replaced(void **state)
{
	check("abc\xe2\x82", "abc" FFFD FFFD);
	check("\xc3", FFFD);
	check("\xf0\x9f\x98", FFFD FFFD FFFD);
}

static void test_truncated_before_ascii_replaced(void **state)
{
	check("\xe2\x82x", FFFD FFFD "x");
	check("\xf0\x9f" "ab", FFFD FFFD "ab");
	/* a new lead byte cuts the sequence short; the new one is whole */
	check("\xe2\xc3\xa9", FFFD "\xc3\xa9");
}

/* every byte invalid: the output is three times the input */
static void test_worst_case_growth(void **state)
{
	char in[257], *out;
	size_t i;

	memset(in, 0xff, 256);
	in[256] = '\0';
	out = utf8_sanitize(in);
	assert_non_null(out);
	assert_int_equal(strlen(out), 3 * 256);
	for (i = 0; i < 256; i++)
		assert_memory_equal(out + 3 * i, FFFD, 3);
	free(out);
}

static void test_result_is_a_copy(void **state)
{
	char in[] = "abc";
	char *out = utf8_sanitize(in);

	assert_non_null(out);
	assert_ptr_not_equal(out, in);
	in[0] = 'z';
	assert_string_equal(out, "abc");
	free(out);
}

/* Text output: what would move a terminal's cursor or colour it is shown escaped */
static void test_text_shows_controls_escaped(void **state)
{
	(void)state;
	assert_string_equal(text_shown("\x1b[31mred\nline\r\x7f"),
			    "\\x1b[31mred\\x0aline\\x0d\\x7f");
	/* U+009B, a C1 CSI, escaped byte by byte; U+00E9 and U+2713 kept */
	assert_string_equal(text_shown("a\xc2\x9b" "2J \xc3\xa9 \xe2\x9c\x93"),
			    "a\\xc2\\x9b2J \xc3\xa9 \xe2\x9c\x93");
	assert_string_equal(text_shown("bad \xff\xc3"), "bad \\xff\\xc3");
	assert_string_equal(text_shown(NULL), "");
}

static void test_text_cuts_what_is_too_long_and_keeps_eight_at_once(void **state)
{
	char longer[3000];
	const char *shown[8];
	int i;

	(void)state;
	memset(longer, '\x01', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	shown[0] = text_shown(longer);
	assert_true(strlen(shown[0]) < 1024);
	assert_string_equal(shown[0] + strlen(shown[0]) - 3, "...");
	for (i = 0; i < 8; i++)
		shown[i] = text_shown(i % 2 ? "odd" : "even");
	for (i = 0; i < 8; i++)
		assert_string_equal(shown[i], i % 2 ? "odd" : "even");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_shows_controls_escaped),
		cmocka_unit_test(test_text_cuts_what_is_too_long_and_keeps_eight_at_once),
		cmocka_unit_test(test_ascii_kept),
		cmocka_unit_test(test_empty_kept),
		cmocka_unit_test(test_control_bytes_kept),
		cmocka_unit_test(test_two_byte_kept),
		cmocka_unit_test(test_three_byte_kept),
		cmocka_unit_test(test_four_byte_kept),
		cmocka_unit_test(test_invalid_byte_replaced),
		cmocka_unit_test(test_lone_continuation_replaced),
		cmocka_unit_test(test_overlong_replaced),
		cmocka_unit_test(test_surrogate_replaced),
		cmocka_unit_test(test_above_max_replaced),
		cmocka_unit_test(test_truncated_at_end_replaced),
		cmocka_unit_test(test_truncated_before_ascii_replaced),
		cmocka_unit_test(test_worst_case_growth),
		cmocka_unit_test(test_result_is_a_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
