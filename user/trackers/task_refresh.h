/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Whether the tasks the model holds as pending still are, read from the
 * target's memory at each poll (tasks packed close together are read in one
 * range, see py_read_many): the end of a task is never a probe hit.
 */
#ifndef INFLIGHT_TASK_REFRESH_H
#define INFLIGHT_TASK_REFRESH_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cpython_layout.h"
#include "model.h"

/* fut_state of each of pid's tasks: a done one is marked so (the dealloc probe says when it goes). */
void task_refresh_by_state(struct model *m, pid_t pid, const struct cpython_layout *l,
			   const struct pending_task *tasks, size_t n, uint64_t now_ns);
/*
 * --lean, with no dealloc probe: each task's fate from its state and
 * coroutine (task_fate.h); drain(ctx) delivers the finalizer probe's events
 * between the reads and the verdicts.
 */
void task_refresh_by_memory(struct model *m, pid_t pid, const struct cpython_layout *l,
			    const struct pending_task *tasks, size_t n, uint64_t now_ns,
			    void (*drain)(void *ctx), void *ctx);

#endif
