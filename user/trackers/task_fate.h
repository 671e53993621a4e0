/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * What a Task's memory says of its fate, read after the fact: how a trace
 * that does not probe TaskObj_dealloc (--lean) learns that tasks ended.
 *
 * CPython's TaskObj_dealloc runs TaskObj_clear, which sets task_coro to NULL
 * and leaves fut_state alone (Modules/_asynciomodule.c, 3.9 to 3.13).
 * pymalloc's free list overwrites only the first word of a freed block, the
 * GC header in front of the object, so both can be read until the block is
 * reused for another object. Whether an ended task was still pending is
 * not guessed from its memory (a block reused amid churn fools any guess):
 * the probe on the Task finalizer's pending path says so.
 * Pure functions; no I/O.
 */
#ifndef INFLIGHT_TASK_MEMORY_H
#define INFLIGHT_TASK_MEMORY_H
#include <stdbool.h>
#include <stdint.h>

enum task_fate {
	TASK_FATE_PENDING,	/* alive and not done */
	TASK_FATE_DONE,		/* finished or cancelled (maybe destroyed since) */
	TASK_FATE_GONE,		/* ended, how is unknown: destroyed, or its memory reused or unmapped */
};

struct task_memory {
	bool readable;		/* fut_state and task_coro were read */
	int32_t state;		/* fut_state: 0 pending, 1 cancelled, 2 finished */
	uint64_t coro;		/* task_coro */
};

/* fut_state 1 (cancelled) or 2 (finished) */
bool task_state_is_done(int32_t state);
/* The fate of the task whose coroutine was known_coro (0: not known), from its memory now. */
enum task_fate task_fate_from_memory(const struct task_memory *mem, uint64_t known_coro);

/* 1 cancelled or 2 finished for TASK_FATE_DONE, -1 when unknown. */
int task_fate_end_state(enum task_fate fate, const struct task_memory *mem);

#endif
