/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A target's x86-64 machine code, decoded with capstone: what a uprobe sits
 * on, and where the path of a pending task starts in Task's finalizer.
 * Pure functions on bytes read from the target's files; no I/O.
 */
#ifndef INFLIGHT_X86_CODE_H
#define INFLIGHT_X86_CODE_H
#include <stddef.h>
#include <stdint.h>

/*
 * The first instruction of code (at virtual address addr) as text, such as
 * "push r15": what a uprobe placed there traps on, which decides whether the
 * kernel emulates it or must single-step it. 0, or -ENOENT if undecodable.
 */
int x86_instruction_text(const uint8_t *code, size_t len, uint64_t addr, char *buf, size_t size);

/*
 * Where to put a probe that reads a function's first two arguments (rdi,
 * rsi) as at its entry: the first instruction of its straight-line prologue
 * that the kernel emulates (a push of a register, a direct call or jump), so
 * a hit costs about a microsecond instead of the tens that single-stepping
 * costs here (the endbr64 that opens functions built with CET, as Debian's
 * CPython 3.14 and 3.15 are, is single-stepped). Only instructions that
 * neither branch nor write rdi or rsi are passed; with none emulated within
 * the first few, the site is the entry, past any endbr64. code: the
 * function's first len bytes, at virtual address addr. 0 with *site, or
 * -ENOENT if the code cannot be decoded.
 */
int x86_entry_probe_site(const uint8_t *code, size_t len, uint64_t addr, uint64_t *site);

/*
 * Where, in _asyncio's Task finalizer (TaskObj_finalize), the path of a task
 * destroyed while still pending begins: a probe there fires only for those
 * ("Task was destroyed but it is pending!"), where a probe on the finalizer or
 * on dealloc fires for every task.
 *
 * CPython's finalizer starts with `if (task_state != STATE_PENDING || ...)
 * goto done;`. Compilers lay that out differently (the pending path inline
 * or in a .cold section, fut_state alone or in a 3.13 bitfield word tested
 * under a mask), so the machine code is decoded (capstone) and the site
 * accepted only when its meaning is certain: a read of fut_state at
 * [rdi + offset], then a compare whose zero flag says "state is pending"
 * (TEST of the value with itself; CMP against 0; CMP of a masked word that
 * keeps all 32 state bits against a value whose state bits are 0), then
 * JE/JNE; rdi, the task, untouched from the entry to the site. Anything else
 * is refused: the caller falls back.
 *
 * code: the finalizer's first len bytes, found at virtual address addr.
 * state_offset: fut_state in the Task object. Returns 0 with the virtual
 * address of the pending path's first instruction in *site (the task is in
 * rdi there), or -ENOENT.
 */
int task_finalize_pending_site(const uint8_t *code, size_t len, uint64_t addr,
			       uint32_t state_offset, uint64_t *site);

/*
 * The first direct call in code (at addr) that passes arguments on the
 * stack: two or more pushes since the previous call, and the stack taken
 * back right after it, within a few instructions that touch neither the
 * stack nor the flow (an add of 0x10 to 0x28 to rsp, or two or more pops
 * not followed by a return, which a function's own epilogue would be).
 * This is how a caller of a function with more than six arguments looks in
 * GCC's x86-64 code. 0 with *target, or -ENOENT if there is none.
 */
int x86_stack_argument_call(const uint8_t *code, size_t len, uint64_t addr, uint64_t *target);

#endif
