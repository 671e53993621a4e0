// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include "task_fate.h"

#define FUT_PENDING 0
#define FUT_CANCELLED 1
#define FUT_FINISHED 2

bool task_state_is_done(int32_t state)
{
	return state == FUT_CANCELLED || state == FUT_FINISHED;
}

enum task_fate task_fate_from_memory(const struct task_memory *mem, uint64_t known_coro)
{
	if (!mem->readable)
		return TASK_FATE_GONE;	/* the arena was given back to the system */
	if (!mem->coro)	/* TaskObj_dealloc has run (or the block holds another object's NULL) */
		return task_state_is_done(mem->state) ? TASK_FATE_DONE : TASK_FATE_GONE;
	if (known_coro && mem->coro != known_coro)
		return TASK_FATE_GONE;	/* another task (or object) lives at the address now */
	if (mem->state == FUT_PENDING)
		return TASK_FATE_PENDING;
	return task_state_is_done(mem->state) ? TASK_FATE_DONE : TASK_FATE_GONE;
}

int task_fate_end_state(enum task_fate fate, const struct task_memory *mem)
{
	return fate == TASK_FATE_DONE ? mem->state : -1;
}
