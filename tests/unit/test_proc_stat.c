// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/proc_stat.c: a process's start time and exit state from /proc/PID/stat. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "proc_stat.h"

/* fields 1-22 of a real line, with the comm as given; flags 4194560, start time 123456789 */
static void stat_line(char *buf, size_t size, const char *comm, char state, unsigned long flags)
{
	snprintf(buf, size, "4242 (%s) %c 1 4242 4242 0 -1 %lu 1000 0 0 0 5 3 0 0 20 0 2 0 "
		 "123456789 1000000 500 18446744073709551615", comm, state, flags);
}

static void test_plain_line(void **state)
{
	struct proc_stat st;
	char buf[512];

	stat_line(buf, sizeof(buf), "python3", 'S', 4194560);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.flags, 4194560);
	assert_int_equal(st.start_time, 123456789ULL);
	assert_false(proc_stat_exiting(&st));
}

/* a comm the process chose: spaces and parentheses, even a fake field list */
static void test_hostile_comm(void **state)
{
	struct proc_stat st;
	char buf[512];

	stat_line(buf, sizeof(buf), ") R 9 9 9 (x", 'S', 0);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.start_time, 123456789ULL);
}

static void test_exiting_by_flag_or_state(void **state)
{
	struct proc_stat st;
	char buf[512];

	stat_line(buf, sizeof(buf), "python3", 'R', 4194560 | 0x4);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_true(proc_stat_exiting(&st));
	stat_line(buf, sizeof(buf), "python3", 'Z', 0);
	assert_int_equal(proc_stat_parse(buf, &st), 0);
	assert_true(proc_stat_exiting(&st));
}

static void test_short_or_garbled_refused(void **state)
{
	struct proc_stat st;

	assert_int_equal(proc_stat_parse("", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("4242 (python3", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("4242 (python3) S 1 2 3", &st), -EINVAL);
	assert_int_equal(proc_stat_parse("4242 (python3)", &st), -EINVAL);
}

/* our own line: we are running, and started before now */
static void test_read_self(void **state)
{
	struct proc_stat st;

	assert_int_equal(proc_stat_read(getpid(), &st), 0);
	assert_false(proc_stat_exiting(&st));
	assert_true(st.start_time > 0);
	assert_int_equal(proc_stat_read(-1, &st), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_line),
		cmocka_unit_test(test_hostile_comm),
		cmocka_unit_test(test_exiting_by_flag_or_state),
		cmocka_unit_test(test_short_or_garbled_refused),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
