// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <stdlib.h>
#include <string.h>
#include "py_objects.h"
#include "task_fate.h"
#include "task_refresh.h"

static void *scratch(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();	/* out of memory in a root tool: stop rather than misreport */
	return p;
}

/* size bytes at offset in each task: one iovec a task (merged where close, see py_read_many). */
static void read_task_bytes(pid_t pid, const struct pending_task *tasks, size_t n,
			    uint32_t offset, size_t size, uint8_t *out, uint8_t *ok)
{
	uint64_t *addrs = scratch(n, sizeof(*addrs));
	size_t i;

	for (i = 0; i < n; i++)
		addrs[i] = tasks[i].addr + offset;
	py_read_many(pid, addrs, n, size, out, ok);
	free(addrs);
}

void task_refresh_by_state(struct model *m, pid_t pid, const struct cpython_layout *l,
			   const struct pending_task *tasks, size_t n, uint64_t now_ns)
{
	int32_t *states = scratch(n, sizeof(*states));
	uint8_t *ok = scratch(n, 1);
	size_t i;

	read_task_bytes(pid, tasks, n, l->task_state, sizeof(*states), (uint8_t *)states, ok);
	for (i = 0; i < n; i++)
		if (ok[i] && task_state_is_done(states[i]))
			model_task_done(m, pid, tasks[i].addr, states[i], now_ns);
	free(states);
	free(ok);
}

/*
 * --lean: no probe says when a task is destroyed, so its memory does (see
 * task_fate.h): fut_state and task_coro of each, read as one span. A task
 * is forgotten once done: nothing else will.
 *
 * Which ended tasks were destroyed while pending, the finalizer's probe
 * says: its event is in the ring before the task's memory is freed, so the
 * ring is drained after the reads, and a verdict applies only to the record
 * it was read for (the drain may have put a new task at the same address).
 * Memory is not asked: with ob_refcnt and ob_type of a cleared pending task
 * read too, stale bytes of blocks reused amid churn made 6 of 6000 short
 * tasks look destroyed pending, and most that were not.
 */
void task_refresh_by_memory(struct model *m, pid_t pid, const struct cpython_layout *l,
			    const struct pending_task *tasks, size_t n, uint64_t now_ns,
			    void (*drain)(void *ctx), void *ctx)
{
	uint32_t state_at = l->task_state, coro_at = l->task_coro;
	uint32_t from = state_at < coro_at ? state_at : coro_at;
	size_t span = (state_at + 4 > coro_at + 8 ? state_at + 4 : coro_at + 8) - from;
	struct task_memory *mem = scratch(n, sizeof(*mem));
	uint8_t *bytes = scratch(n, span), *ok = scratch(n, 1), *at;
	enum task_fate fate;
	size_t i;

	read_task_bytes(pid, tasks, n, from, span, bytes, ok);
	for (i = 0; i < n; i++) {
		at = bytes + i * span;
		mem[i].readable = ok[i];
		memcpy(&mem[i].state, at + (state_at - from), sizeof(mem[i].state));
		memcpy(&mem[i].coro, at + (coro_at - from), sizeof(mem[i].coro));
	}
	drain(ctx);
	for (i = 0; i < n; i++) {
		fate = task_fate_from_memory(&mem[i], tasks[i].coro);
		if (fate != TASK_FATE_PENDING && model_task_is_pending(m, &tasks[i]))
			model_task_destroyed(m, pid, tasks[i].addr,
					     task_fate_end_state(fate, &mem[i]), now_ns);
	}
	free(mem);
	free(bytes);
	free(ok);
}
