// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/trackers/task_fate.c: a task's fate from what its memory
 * holds on a later read, as --lean traces learn it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "task_fate.h"

#define CORO 0x7f0000101000ull
#define OTHER_CORO 0x7f0000202000ull

enum { PENDING, CANCELLED, FINISHED };

static struct task_memory read_as(int32_t state, uint64_t coro)
{
	return (struct task_memory){ .readable = true, .state = state, .coro = coro };
}

static void test_live_task_follows_its_state(void **state)
{
	struct task_memory pending = read_as(PENDING, CORO), done = read_as(FINISHED, CORO),
			   cancelled = read_as(CANCELLED, CORO);

	(void)state;
	assert_int_equal(task_fate_from_memory(&pending, CORO), TASK_FATE_PENDING);
	assert_int_equal(task_fate_from_memory(&done, CORO), TASK_FATE_DONE);
	assert_int_equal(task_fate_end_state(TASK_FATE_DONE, &done), FINISHED);
	assert_int_equal(task_fate_from_memory(&cancelled, CORO), TASK_FATE_DONE);
	assert_int_equal(task_fate_end_state(TASK_FATE_DONE, &cancelled), CANCELLED);
	assert_true(task_state_is_done(FINISHED) && task_state_is_done(CANCELLED));
	assert_false(task_state_is_done(PENDING) || task_state_is_done(-1) || task_state_is_done(3));
}

static void test_unknown_coroutine_trusts_the_state(void **state)
{
	struct task_memory pending = read_as(PENDING, CORO);

	(void)state;
	assert_int_equal(task_fate_from_memory(&pending, 0), TASK_FATE_PENDING);
}

/* Cleared while pending: ended, but whether destroyed pending is the finalizer probe's to say. */
static void test_cleared_pending_task_is_gone(void **state)
{
	struct task_memory cleared = read_as(PENDING, 0);

	(void)state;
	assert_int_equal(task_fate_from_memory(&cleared, CORO), TASK_FATE_GONE);
	assert_int_equal(task_fate_end_state(TASK_FATE_GONE, &cleared), -1);
}

static void test_destroyed_after_finishing_is_done(void **state)
{
	struct task_memory finished = read_as(FINISHED, 0);

	(void)state;
	assert_int_equal(task_fate_from_memory(&finished, CORO), TASK_FATE_DONE);
}

static void test_reused_or_unmapped_memory_is_gone(void **state)
{
	struct task_memory other = read_as(PENDING, OTHER_CORO), unmapped = { .readable = false },
			   garbage = read_as(77, CORO), garbage_cleared = read_as(-5, 0);

	(void)state;
	assert_int_equal(task_fate_from_memory(&other, CORO), TASK_FATE_GONE);
	assert_int_equal(task_fate_from_memory(&unmapped, CORO), TASK_FATE_GONE);
	assert_int_equal(task_fate_from_memory(&garbage, CORO), TASK_FATE_GONE);
	assert_int_equal(task_fate_from_memory(&garbage_cleared, CORO), TASK_FATE_GONE);
	assert_int_equal(task_fate_end_state(TASK_FATE_GONE, &other), -1);
	assert_int_equal(task_fate_end_state(TASK_FATE_PENDING, &other), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_task_follows_its_state),
		cmocka_unit_test(test_unknown_coroutine_trusts_the_state),
		cmocka_unit_test(test_cleared_pending_task_is_gone),
		cmocka_unit_test(test_destroyed_after_finishing_is_done),
		cmocka_unit_test(test_reused_or_unmapped_memory_is_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
