/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * Which task drives a coroutine, per traced process. The BPF side reports the
 * coroutine on the stack when a task is created or a connection opened; this
 * names its task, from the coroutines that tasks were created with (or found
 * with at attach).
 */
#ifndef INFLIGHT_CORO_INDEX_H
#define INFLIGHT_CORO_INDEX_H

#include <stdint.h>
#include <sys/types.h>

struct coro_index {
	void *by_coro, *by_task;	/* tsearch trees of the same entries */
	size_t n, max;
	uint64_t full;			/* tasks not indexed: the index was full */
};

void coro_index_init(struct coro_index *x, size_t max);
/* task now drives coro; an older entry for either is dropped */
void coro_index_add(struct coro_index *x, pid_t pid, uint64_t task, uint64_t coro);
void coro_index_remove_task(struct coro_index *x, pid_t pid, uint64_t task);
/* the task driving coro, or 0 */
uint64_t coro_index_task(const struct coro_index *x, pid_t pid, uint64_t coro);
void coro_index_free(struct coro_index *x);

#endif
