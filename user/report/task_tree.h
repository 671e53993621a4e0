/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A task snapshot made small enough to read: tasks grouped by what they are
 * doing (state, coroutine, where suspended, what they wait on), and the
 * awaited-by tree with identical subtrees collapsed into one with a count.
 */
#ifndef INFLIGHT_TASK_TREE_H
#define INFLIGHT_TASK_TREE_H
#include <stddef.h>
#include <stdint.h>
#include "task_snapshot.h"

struct task_group {
	const struct snapshot_task *example;	/* one of them: the shared fields */
	size_t count;
};

struct loop_count {
	uint64_t loop;
	size_t pending, tasks;
};

struct tree_node {
	const struct snapshot_task *task;	/* one of the count identical ones */
	size_t count;
	uint64_t signature;			/* equal for identical subtrees */
	struct tree_node *children;
	size_t n_children;
};

/* Groups, most tasks first: 0 or -ENOMEM; free(*groups). */
int task_groups(const struct task_snapshot *s, struct task_group **groups, size_t *n);
/* Tasks per event loop, in order of first appearance: 0 or -ENOMEM; free(*loops). */
int task_loops(const struct task_snapshot *s, struct loop_count **loops, size_t *n);
/* The collapsed awaited-by forest: 0 or -ENOMEM; task_tree_free() it. */
int task_tree_build(const struct task_snapshot *s, struct tree_node **roots, size_t *n_roots);
void task_tree_free(struct tree_node *nodes, size_t n);
/* The file:line a task is suspended at: its own coroutine's frame; NULL if none. */
const struct snapshot_frame *task_suspended_at(const struct snapshot_task *t);

#endif
