// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Built into the elf_image fuzzer's seeds (a shared object, with and
 * without symbols, and an executable): a small file holding what inflight
 * looks for in libpython and _asyncio. A _PyRuntime in a .PyRuntime
 * section that starts with a _Py_DebugOffsets cookie, an .AsyncioDebug
 * section, the "_asyncio.Task" string and a type-like struct pointing to
 * it and to functions (relocated pointers in the shared object, plain ones
 * in the executable).
 */
#include <stdint.h>

struct fake_type {
	uint64_t head[3];
	const char *tp_name;
	uint64_t tp_basicsize;
	uint64_t pad[1];
	void (*tp_dealloc)(void);
	uint64_t more[30];
	void (*tp_init)(void);
	uint64_t rest[11];
	void (*tp_finalize)(void);
};

struct fake_runtime {
	char cookie[8];
	uint64_t version;
	uint64_t free_threaded;
	uint64_t rest[125];
};

__attribute__((section(".PyRuntime"), used))
struct fake_runtime _PyRuntime = { .cookie = "xdebugpy", .version = 0x030e00f0 };

__attribute__((section(".AsyncioDebug"), used))
uint64_t AsyncioDebug[13] = { 168, 136, 144, 152, 153, 128, 152, 10952, 10880, 1200, 864, 872, 880 };

void TaskObj_finalize(void)
{
	__asm__ volatile("endbr64; push %%r15; push %%r14; mov 0x68(%%rdi), %%eax; test %%eax, %%eax; jne 1f; nop; 1:" ::: "memory");
}

static void task_dealloc(void)
{
	__asm__ volatile("push %%rbp; push %%rbx" ::: "memory");
}

static void task_init(void)
{
	__asm__ volatile("sub $8, %%rsp; add $8, %%rsp" ::: "memory");
}

__attribute__((used))
struct fake_type TaskType = {
	.tp_name = "_asyncio.Task", .tp_basicsize = 168,
	.tp_dealloc = task_dealloc, .tp_init = task_init, .tp_finalize = TaskObj_finalize,
};

void *PyInit__asyncio(void)
{
	return &TaskType;
}

void _start(void)
{
	for (;;)
		;
}
