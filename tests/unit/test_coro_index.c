// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/coro_index.c: naming the task that drives a coroutine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "coro_index.h"

#define PID 100
#define OTHER_PID 200
#define TASK_A 0x7f0000001000ULL
#define TASK_B 0x7f0000002000ULL
#define CORO_A 0x7f0000101000ULL
#define CORO_B 0x7f0000102000ULL

static int setup(void **state)
{
	static struct coro_index x;

	coro_index_init(&x, 4);
	*state = &x;
	return 0;
}

static int teardown(void **state)
{
	coro_index_free(*state);
	return 0;
}

static void test_a_task_is_found_by_its_coroutine_in_its_process(void **state)
{
	struct coro_index *x = *state;

	coro_index_add(x, PID, TASK_A, CORO_A);
	coro_index_add(x, PID, TASK_B, CORO_B);
	assert_int_equal(coro_index_task(x, PID, CORO_A), TASK_A);
	assert_int_equal(coro_index_task(x, PID, CORO_B), TASK_B);
	assert_int_equal(coro_index_task(x, OTHER_PID, CORO_A), 0);
	assert_int_equal(coro_index_task(x, PID, 0), 0);
	assert_int_equal(x->n, 2);
}

static void test_a_destroyed_task_is_no_longer_found(void **state)
{
	struct coro_index *x = *state;

	coro_index_add(x, PID, TASK_A, CORO_A);
	coro_index_remove_task(x, PID, TASK_A);
	assert_int_equal(coro_index_task(x, PID, CORO_A), 0);
	assert_int_equal(x->n, 0);
	coro_index_remove_task(x, PID, TASK_A);	/* twice: nothing to do */
	assert_int_equal(x->n, 0);
}

static void test_reused_addresses_belong_to_the_newest_task(void **state)
{
	struct coro_index *x = *state;

	/* the coroutine's memory reused by another task's coroutine, no dealloc seen */
	coro_index_add(x, PID, TASK_A, CORO_A);
	coro_index_add(x, PID, TASK_B, CORO_A);
	assert_int_equal(coro_index_task(x, PID, CORO_A), TASK_B);
	coro_index_remove_task(x, PID, TASK_A);
	assert_int_equal(coro_index_task(x, PID, CORO_A), TASK_B);
	/* the task's memory reused: its old coroutine is no longer its */
	coro_index_add(x, PID, TASK_B, CORO_B);
	assert_int_equal(coro_index_task(x, PID, CORO_A), 0);
	assert_int_equal(coro_index_task(x, PID, CORO_B), TASK_B);
	assert_int_equal(x->n, 1);
}

static void test_a_full_index_counts_what_it_left_out(void **state)
{
	struct coro_index *x = *state;
	uint64_t i;

	for (i = 0; i < 6; i++)
		coro_index_add(x, PID, TASK_A + i * 64, CORO_A + i * 64);
	assert_int_equal(x->n, 4);
	assert_int_equal(x->full, 2);
	assert_int_equal(coro_index_task(x, PID, CORO_A + 3 * 64), TASK_A + 3 * 64);
	assert_int_equal(coro_index_task(x, PID, CORO_A + 4 * 64), 0);
	/* a task without a coroutine (Task(coro=...) as a keyword) is not indexed */
	coro_index_remove_task(x, PID, TASK_A);
	coro_index_add(x, PID, TASK_B, 0);
	assert_int_equal(x->n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_task_is_found_by_its_coroutine_in_its_process,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_destroyed_task_is_no_longer_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reused_addresses_belong_to_the_newest_task, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_full_index_counts_what_it_left_out, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
