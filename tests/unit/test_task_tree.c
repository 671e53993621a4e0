// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for user/report/task_tree.c (grouping a snapshot, the folded
 * awaited-by tree) and the decoders of user/cpython/py_objects.c and
 * user/cpython/py_containers.c that read strings and ints out of copied memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cpython_layout.h"
#include "py_containers.h"
#include "task_tree.h"

#define FILE_A "/srv/app/client.py"

struct fixture {
	struct task_snapshot s;
	struct snapshot_task tasks[4100];
};

static struct snapshot_task *add(struct fixture *f, uint64_t addr, const char *coro, int line,
				 uint64_t parent, uint8_t how)
{
	struct snapshot_task *t = &f->tasks[f->s.n_tasks++];

	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->loop = 0x1000;
	t->coroutine = coro;
	t->parent = parent;
	t->awaited_by = how;
	t->socket_fd = -1;
	t->n_frames = 1;
	t->frames[0] = (struct snapshot_frame){ .file = FILE_A, .function = coro, .line = line };
	return t;
}

static struct fixture *new_fixture(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->s.tasks = f->tasks;
	f->s.asyncio_loaded = true;
	return f;
}

/* scatter (0x10) gathering 2000 query_shard tasks, plus a main task and 2 sleepers; in
 * address order, as a snapshot keeps them */
static struct fixture *scatter_fixture(void)
{
	struct fixture *f = new_fixture();
	int i;

	add(f, 0x5, "main", 10, 0, AWAITED_BY_NONE);
	add(f, 0x10, "scatter", 36, 0, AWAITED_BY_NONE);
	for (i = 0; i < 2000; i++)
		add(f, 0x100000 + 0x100 * (uint64_t)i, "query_shard", 31, 0x10, AWAITED_BY_GATHER);
	add(f, 0x900000, "sleeper", 50, 0, AWAITED_BY_NONE)->loop = 0x2000;
	add(f, 0x900100, "sleeper", 50, 0, AWAITED_BY_NONE)->loop = 0x2000;
	return f;
}

static void test_groups_are_by_what_tasks_do_most_first(void **state)
{
	struct fixture *f = scatter_fixture();
	struct task_group *g;
	size_t n;

	f->tasks[3].state = SNAP_FINISHED;	/* one shard done: a group of its own */
	assert_int_equal(task_groups(&f->s, &g, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(g[0].count, 1999);
	assert_string_equal(g[0].example->coroutine, "query_shard");
	assert_int_equal(g[1].count, 2);
	assert_string_equal(g[1].example->coroutine, "sleeper");
	free(g);
	free(f);
}

static void test_loops_count_pending_tasks(void **state)
{
	struct fixture *f = scatter_fixture();
	struct loop_count *l;
	size_t n;

	f->tasks[3].state = SNAP_CANCELLED;
	assert_int_equal(task_loops(&f->s, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].loop, 0x1000);
	assert_int_equal(l[0].tasks, 2002);
	assert_int_equal(l[0].pending, 2001);
	assert_int_equal(l[1].loop, 0x2000);
	assert_int_equal(l[1].pending, 2);
	free(l);
	free(f);
}

static const struct tree_node *root_running(const struct tree_node *roots, size_t n,
					    const char *coro)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(roots[i].task->coroutine, coro))
			return &roots[i];
	return NULL;
}

static void test_identical_children_fold_into_one_node(void **state)
{
	struct fixture *f = scatter_fixture();
	const struct tree_node *scatter, *sleepers;
	struct tree_node *roots;
	size_t n;

	assert_int_equal(task_tree_build(&f->s, &roots, &n), 0);
	assert_int_equal(n, 3);	/* main, scatter, and the two sleepers folded */
	scatter = root_running(roots, n, "scatter");
	assert_non_null(scatter);
	assert_int_equal(scatter->count, 1);
	assert_int_equal(scatter->n_children, 1);
	assert_int_equal(scatter->children[0].count, 2000);
	assert_string_equal(scatter->children[0].task->coroutine, "query_shard");
	sleepers = root_running(roots, n, "sleeper");
	assert_int_equal(sleepers->count, 2);
	task_tree_free(roots, n);
	free(f);
}

static void test_subtrees_that_differ_do_not_fold(void **state)
{
	struct fixture *f = new_fixture();
	struct tree_node *roots;
	size_t n;

	/* two gathers at the same line; one waits on a shard that is at another line */
	add(f, 0x10, "scatter", 36, 0, AWAITED_BY_NONE);
	add(f, 0x11, "scatter", 36, 0, AWAITED_BY_NONE);
	add(f, 0x20, "query_shard", 31, 0x10, AWAITED_BY_GATHER);
	add(f, 0x21, "query_shard", 32, 0x11, AWAITED_BY_GATHER);
	add(f, 0x30, "query_shard", 31, 0x12, AWAITED_BY_GATHER);	/* parent not listed */
	assert_int_equal(task_tree_build(&f->s, &roots, &n), 0);
	assert_int_equal(n, 3);
	task_tree_free(roots, n);

	/* the same children: the two scatters fold, with their subtrees */
	f->tasks[3].frames[0].line = 31;
	assert_int_equal(task_tree_build(&f->s, &roots, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(root_running(roots, n, "scatter")->count, 2);
	task_tree_free(roots, n);
	free(f);
}

static void test_a_cycle_read_from_a_changing_process_ends(void **state)
{
	struct fixture *f = new_fixture();
	struct tree_node *roots;
	size_t n;

	add(f, 0x10, "a", 1, 0x11, AWAITED_BY_AWAIT);
	add(f, 0x11, "b", 2, 0x10, AWAITED_BY_AWAIT);
	assert_int_equal(task_tree_build(&f->s, &roots, &n), 0);
	assert_int_equal(n, 1);	/* every task placed once */
	assert_int_equal(roots[0].n_children, 1);
	assert_int_equal(roots[0].children[0].n_children, 0);
	task_tree_free(roots, n);
	free(f);
}

static void test_empty_snapshot(void **state)
{
	struct fixture *f = new_fixture();
	struct tree_node *roots;
	struct task_group *g;
	size_t n;

	assert_int_equal(task_groups(&f->s, &g, &n), 0);
	assert_int_equal(n, 0);
	free(g);
	assert_int_equal(task_tree_build(&f->s, &roots, &n), 0);
	assert_int_equal(n, 0);
	task_tree_free(roots, n);
	free(f);
}

/* --- decoders ------------------------------------------------------------- */

static void put_u64(uint8_t *b, size_t at, uint64_t v)
{
	memcpy(b + at, &v, 8);
}

static void test_long_decode_before_and_after_312(void **state)
{
	const struct cpython_layout *l311 = cpython_layout_table(11), *l312 = cpython_layout_table(12);
	uint8_t obj[32] = { 0 };
	uint32_t digits[2] = { 5, 1 };
	int64_t v;

	memcpy(obj + 24, digits, sizeof(digits));
	put_u64(obj, 16, 1);			/* ob_size 1 */
	assert_int_equal(py_long_decode(l311, obj, &v), 0);
	assert_int_equal(v, 5);
	put_u64(obj, 16, (uint64_t)-2);		/* two digits, negative */
	assert_int_equal(py_long_decode(l311, obj, &v), 0);
	assert_int_equal(v, -((1LL << 30) + 5));
	put_u64(obj, 16, 1 << 3);		/* lv_tag: one digit, positive */
	assert_int_equal(py_long_decode(l312, obj, &v), 0);
	assert_int_equal(v, 5);
	put_u64(obj, 16, 1);			/* lv_tag: zero */
	assert_int_equal(py_long_decode(l312, obj, &v), 0);
	assert_int_equal(v, 0);
	put_u64(obj, 16, 3 << 3);		/* too big for 60 bits */
	assert_int_equal(py_long_decode(l312, obj, &v), -ERANGE);
}

static void test_str_decode_in_place(void **state)
{
	const struct cpython_layout *l = cpython_layout_table(12);
	uint8_t obj[128] = { 0 };
	uint32_t ascii_compact = 1 << 5 | 1 << 6 | 1 << 2;	/* compact, ascii, kind 1 */
	char out[64];

	put_u64(obj, l->str_length, 6);
	memcpy(obj + l->str_state, &ascii_compact, 4);
	memcpy(obj + l->str_ascii_data, "Task-7", 6);
	assert_int_equal(py_str_decode(l, obj, sizeof(obj), out, sizeof(out)), 0);
	assert_string_equal(out, "Task-7");
	/* its characters beyond what was read: say so, do not read past */
	assert_int_equal(py_str_decode(l, obj, l->str_ascii_data + 3, out, sizeof(out)), -ERANGE);
	put_u64(obj, l->str_length, (uint64_t)-1);
	assert_int_equal(py_str_decode(l, obj, sizeof(obj), out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups_are_by_what_tasks_do_most_first),
		cmocka_unit_test(test_loops_count_pending_tasks),
		cmocka_unit_test(test_identical_children_fold_into_one_node),
		cmocka_unit_test(test_subtrees_that_differ_do_not_fold),
		cmocka_unit_test(test_a_cycle_read_from_a_changing_process_ends),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_long_decode_before_and_after_312),
		cmocka_unit_test(test_str_decode_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
